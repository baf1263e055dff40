/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client commands end to end, against a real `cardea serve` started
 * on 127.0.0.1 by the fixture of tests/support. A hospital HCP, two
 * doctors beneath it and one patient user per bundle are provisioned
 * with `cardea admin`; every step then runs the cardea binary as a user
 * would, with profiles in the fixture's temporary folder:
 *
 *   login (the doctors take the hospital's key pair from its encrypted
 *   export, which a wrong passphrase or a modified file cannot open),
 *   import of two
 *   example bundles, import again (idempotent), share-patient with the
 *   patient and with doctor 2, read back by each patient and by doctor 2
 *   with field-by-field comparison, list by code and by patient, export,
 *   the database scan (and a copy of the database with one name in clear,
 *   which the scan must reject), and each bad input: not JSON, not a
 *   Bundle, truncated, unresolved references, over the size limit. Each
 *   bad file is reported, the next file goes on, and none of its
 *   entities reaches the server. Last, every file the commands wrote
 *   outside the key stores is searched for the users' private keys.
 *
 * The tests run in order and share the server: each builds on the
 * previous ones, as a user session would.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <sqlite3.h>

#include "base/base.h"
#include "cli/fhir.h"
#include "test_cli.h"
#include "test_server.h"

#define PASSWORD "cli flow test password"
#define PASSPHRASE "cli flow test key file passphrase"
#define OUTPUT_MAX ((size_t)4 << 20)
/* Maximum run time of one cardea command before it is killed. */
#define COMMAND_TIMEOUT_MS 180000
#define BUNDLE_COUNT 2

static const char *const bundles[BUNDLE_COUNT] = {
    "../examples/fhir/patient-01.json",
    "../examples/fhir/patient-09.json",
};

static test_server server;
static char config_dir[TEST_SERVER_PATH_MAX + 16];
static char doctor2_id[64];
static char patient_ids[BUNDLE_COUNT][64];
static size_t plan_sizes[BUNDLE_COUNT];
/* lastName of the first bundle's Patient, for the leak test. */
static char last_name[128];
/* The hospital's encrypted key export, given to the doctors at login. */
static char key_file[TEST_SERVER_PATH_MAX + 16];

static const test_cli cli = {&server, CARDEA_TEST_BIN, "run",
                              COMMAND_TIMEOUT_MS, OUTPUT_MAX};

/* Runs cardea with the arguments given, NULL-terminated. */
#define run(...) test_cli_runl(&cli, __VA_ARGS__)

static json_int_t
int_member(const json_t *doc, const char *key)
{
    const json_t *value = json_object_get(doc, key);

    if (!json_is_integer(value)) {
        fail_msg("no integer member '%s'", key);
    }
    return json_integer_value(value);
}

/* The deterministic Patient id and the plan size of a bundle. */
static void
plan_of(char *patient_id, size_t *size, const char *path)
{
    char message[CARDEA_FHIR_ERRMSG_LEN];
    cardea_fhir_plan *plan = NULL;
    json_t *bundle = NULL;

    assert_int_equal(cardea_fhir__read_file(&bundle, path, message,
                                            sizeof message),
                     CARDEA_OK);
    assert_int_equal(cardea_fhir__plan_build(&plan, path, bundle, message,
                                             sizeof message),
                     CARDEA_OK);
    assert_int_equal(plan->entities[0].type, CARDEA_ENTITY_PATIENT);
    snprintf(patient_id, 64, "%s", plan->entities[0].id);
    *size = plan->entities_len;
    if (last_name[0] == '\0') {
        const char *name = json_string_value(
            json_object_get(plan->entities[0].json, "lastName"));

        assert_non_null(name);
        snprintf(last_name, sizeof last_name, "%s", name);
    }
    cardea_fhir__plan_free(plan);
    json_decref(bundle);
}

/* ---- set-up ------------------------------------------------------------- */

static void
add_user(char *owner_id, const char *login, const char *type,
         const char *parent, const char *data_owner_id)
{
    const char *args[TEST_CLI_ARGS_MAX] = {
        "admin", "--db", server.db_path, "user", "add", "--login", login,
        "--password", PASSWORD, "--type", type};
    size_t n = 11;
    test_cli_result r;

    if (parent != NULL) {
        args[n++] = "--parent";
        args[n++] = parent;
    }
    if (data_owner_id != NULL) {
        args[n++] = "--data-owner-id";
        args[n++] = data_owner_id;
    }
    args[n] = NULL;
    r = test_cli_run(&cli, args);
    test_cli_expect_status(&r, 0, "admin user add");
    r.out[strcspn(r.out, "\n")] = '\0';
    if (owner_id != NULL) {
        snprintf(owner_id, 64, "%s", r.out);
    }
    test_cli_free(&r);
}

static void
login(const char *user, const char *key_path)
{
    test_cli_result r = key_path != NULL
                       ? run("--profile", user, "login", "--server",
                             server.base_url, "--user", user, "--key-file",
                             key_path, NULL)
                       : run("--profile", user, "login", "--server",
                             server.base_url, "--user", user, NULL);

    test_cli_expect_status(&r, 0, user);
    assert_non_null(strstr(r.out, "Logged in as"));
    assert_null(strstr(r.out, PASSWORD));
    assert_null(strstr(r.err, PASSWORD));
    test_cli_free(&r);
}

static int
group_setup(void **state)
{
    char hospital[64];
    test_cli_result r;

    (void)state;
    if (!test_server_start(&server, CARDEA_TEST_BIN, NULL)) {
        return -1;
    }
    test_server_path(config_dir, sizeof config_dir, &server, "config");
    setenv("CARDEA_CONFIG_DIR", config_dir, 1);
    setenv("CARDEA_PASSWORD", PASSWORD, 1);
    setenv("CARDEA_PASSPHRASE", PASSPHRASE, 1);
    unsetenv("CARDEA_PROFILE");
    add_user(hospital, "hospital", "hcp", NULL, NULL);
    add_user(NULL, "doctor-1", "hcp", hospital, NULL);
    add_user(doctor2_id, "doctor-2", "hcp", hospital, NULL);
    for (size_t i = 0; i < BUNDLE_COUNT; i++) {
        char login_name[32];

        plan_of(patient_ids[i], &plan_sizes[i], bundles[i]);
        snprintf(login_name, sizeof login_name, "patient-%zu", i + 1);
        add_user(NULL, login_name, "patient", NULL, patient_ids[i]);
    }
    login("hospital", NULL);
    test_server_path(key_file, sizeof key_file, &server, "hospital.keys");
    r = run("--profile", "hospital", "key", "export", "--out", key_file,
            NULL);
    test_cli_expect_status(&r, 0, "key export");
    test_cli_free(&r);
    login("doctor-1", key_file);
    login("doctor-2", key_file);
    login("patient-1", NULL);
    login("patient-2", NULL);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    test_server_stop(&server);
    return 0;
}

/* ---- command line ------------------------------------------------------- */

static void
test_cli__help_and_usage(void **state)
{
    static const char *const commands[] = {
        "login", "whoami", "import", "share", "share-patient", "get",
        "list", "export", "verify", "scan", "fhir", "key", "access-back",
    };
    test_cli_result r;

    (void)state;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        r = run(commands[i], "--help", NULL);
        test_cli_expect_status(&r, 0, commands[i]);
        assert_non_null(strstr(r.out, "usage: cardea"));
        test_cli_free(&r);
    }
    r = run("frobnicate", NULL);
    test_cli_expect_status(&r, 2, "unknown command");
    assert_non_null(strstr(r.err, "cardea: error: unknown command "
                                  "'frobnicate'"));
    test_cli_free(&r);
    /* The plaintext export is gone: only `cardea key export` remains. */
    r = run("--profile", "hospital", "keys", "export", "--output",
            "never-written.json", NULL);
    test_cli_expect_status(&r, 2, "keys export");
    assert_non_null(strstr(r.err, "unknown command 'keys'"));
    assert_int_equal(access("never-written.json", F_OK), -1);
    test_cli_free(&r);
    r = run("get", "spaceship", "x", NULL);
    test_cli_expect_status(&r, 2, "unknown type");
    assert_non_null(strstr(r.err, "unknown entity type 'spaceship'"));
    test_cli_free(&r);
}

static void
test_cli__missing_profile_says_login(void **state)
{
    test_cli_result r;

    (void)state;
    r = run("--profile", "nobody", "whoami", NULL);
    test_cli_expect_status(&r, 1, "whoami without login");
    assert_non_null(strstr(r.err, "cardea: error: profile 'nobody'"));
    assert_non_null(strstr(r.err, "cardea login"));
    test_cli_free(&r);
}

static void
test_cli__profile_is_private(void **state)
{
    char path[TEST_SERVER_PATH_MAX + 64];
    struct stat st;
    test_cli_result r;
    json_t *doc;

    (void)state;
    assert_int_equal(stat(config_dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/doctor-1/profile.json", config_dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/doctor-1/keys", config_dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    r = run("--profile", "doctor-2", "--json", "whoami", NULL);
    test_cli_expect_status(&r, 0, "whoami");
    doc = test_cli_parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc,
                                                          "dataOwnerId")),
                        doctor2_id);
    assert_string_equal(json_string_value(json_object_get(doc,
                                                          "dataOwnerType")),
                        "hcp");
    json_decref(doc);
    test_cli_free(&r);
}

/* ---- import, share, read back ------------------------------------------- */

static void
test_cli__import_two_bundles(void **state)
{
    test_cli_result r;
    json_t *doc;

    (void)state;
    r = run("--profile", "doctor-1", "import", "--json", bundles[0],
            bundles[1], NULL);
    test_cli_expect_status(&r, 0, "import");
    doc = test_cli_parse_json(&r);
    assert_int_equal(int_member(doc, "created"),
                     plan_sizes[0] + plan_sizes[1]);
    assert_int_equal(int_member(doc, "present"), 0);
    assert_int_equal(int_member(doc, "failed"), 0);
    assert_int_equal(int_member(doc, "rejected"), 0);
    assert_int_equal(
        int_member(json_array_get(json_object_get(doc, "files"), 1),
                   "created"),
        plan_sizes[1]);
    json_decref(doc);
    test_cli_free(&r);
}

static void
test_cli__reimport_is_idempotent(void **state)
{
    test_cli_result r;
    json_t *doc;

    (void)state;
    r = run("--profile", "doctor-1", "--json", "import", bundles[0],
            bundles[1], NULL);
    test_cli_expect_status(&r, 0, "import again");
    doc = test_cli_parse_json(&r);
    assert_int_equal(int_member(doc, "created"), 0);
    assert_int_equal(int_member(doc, "present"),
                     plan_sizes[0] + plan_sizes[1]);
    assert_int_equal(int_member(doc, "failed"), 0);
    json_decref(doc);
    test_cli_free(&r);
}

static void
test_cli__patient_reads_nothing_before_share(void **state)
{
    test_cli_result r;

    (void)state;
    r = run("--profile", "patient-1", "verify", bundles[0], NULL);
    test_cli_expect_status(&r, 1, "verify before the share");
    assert_non_null(strstr(r.err, patient_ids[0]));
    test_cli_free(&r);
}

static void
test_cli__share_patient(void **state)
{
    test_cli_result r;
    json_t *doc;

    (void)state;
    for (size_t i = 0; i < BUNDLE_COUNT; i++) {
        r = run("--profile", "doctor-1", "share-patient", patient_ids[i],
                "--with", patient_ids[i], "--with", doctor2_id, "--json",
                NULL);
        test_cli_expect_status(&r, 0, "share-patient");
        doc = test_cli_parse_json(&r);
        assert_int_equal(int_member(doc, "failed"), 0);
        assert_int_equal(
            1 + int_member(json_object_get(doc, "entities"),
                           "HealthElement")
                + int_member(json_object_get(doc, "entities"), "Contact")
                + int_member(json_object_get(doc, "entities"), "Document"),
            plan_sizes[i]);
        json_decref(doc);
        test_cli_free(&r);
    }
}

/* Runs verify as `profile` and checks every entity is equal. */
static void
expect_read_back(const char *profile, const char *const *files,
                 size_t file_count, size_t expected)
{
    const char *args[TEST_CLI_ARGS_MAX] = {"--profile", profile, "--json",
                                           "verify"};
    size_t n = 4;
    size_t equal = 0;
    json_t *file;
    size_t index;
    test_cli_result r;
    json_t *doc;

    for (size_t i = 0; i < file_count; i++) {
        args[n++] = files[i];
    }
    args[n] = NULL;
    r = test_cli_run(&cli, args);
    test_cli_expect_status(&r, 0, profile);
    doc = test_cli_parse_json(&r);
    assert_true(json_is_true(json_object_get(doc, "ok")));
    json_array_foreach(json_object_get(doc, "files"), index, file) {
        assert_int_equal(int_member(file, "missing"), 0);
        assert_int_equal(int_member(file, "different"), 0);
        assert_int_equal(int_member(file, "undecryptable"), 0);
        assert_int_equal(int_member(file, "equal"),
                         int_member(file, "checked"));
        equal += (size_t)int_member(file, "equal");
    }
    assert_int_equal(equal, expected);
    json_decref(doc);
    test_cli_free(&r);
}

static void
test_cli__patients_read_back(void **state)
{
    (void)state;
    expect_read_back("patient-1", &bundles[0], 1, plan_sizes[0]);
    expect_read_back("patient-2", &bundles[1], 1, plan_sizes[1]);
}

static void
test_cli__doctor2_reads_back(void **state)
{
    (void)state;
    expect_read_back("doctor-2", bundles, BUNDLE_COUNT,
                     plan_sizes[0] + plan_sizes[1]);
}

static void
test_cli__patient_cannot_read_other(void **state)
{
    test_cli_result r;

    (void)state;
    r = run("--profile", "patient-1", "get", "patient", patient_ids[1],
            NULL);
    test_cli_expect_status(&r, 1, "get another patient");
    assert_non_null(strstr(r.err, "not found, or not shared"));
    test_cli_free(&r);
}

static void
test_cli__list_by_code_and_patient(void **state)
{
    test_cli_result r;
    json_t *doc;
    json_t *entity;
    size_t index;

    (void)state;
    /* patient-01.json has one Condition with SNOMED CT 162864005. */
    r = run("--profile", "doctor-2", "--json", "list", "healthelement",
            "--code", "http://snomed.info/sct|162864005", NULL);
    test_cli_expect_status(&r, 0, "list by code");
    doc = test_cli_parse_json(&r);
    assert_int_equal(json_array_size(json_object_get(doc, "entities")), 1);
    json_array_foreach(json_object_get(doc, "entities"), index, entity) {
        char *codes = json_dumps(json_object_get(entity, "codes"), 0);

        assert_non_null(codes);
        assert_non_null(strstr(codes, "162864005"));
        free(codes);
    }
    json_decref(doc);
    test_cli_free(&r);
    r = run("--profile", "patient-2", "--json", "list", "document",
            "--patient", patient_ids[1], NULL);
    test_cli_expect_status(&r, 0, "list documents of a patient");
    doc = test_cli_parse_json(&r);
    assert_int_equal(json_array_size(json_object_get(doc, "entities")), 74);
    json_decref(doc);
    test_cli_free(&r);
}

static void
test_cli__export_bundle(void **state)
{
    test_cli_result r;
    json_t *doc;

    (void)state;
    r = run("--profile", "patient-1", "export", patient_ids[0], NULL);
    test_cli_expect_status(&r, 0, "export");
    doc = test_cli_parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc,
                                                          "resourceType")),
                        "Bundle");
    /* Patient, Condition, 3 Encounters and their 48 Observations. */
    assert_int_equal(json_array_size(json_object_get(doc, "entry")),
                     1 + 1 + 3 + 48);
    json_decref(doc);
    test_cli_free(&r);
}

static void
test_cli__export_file_never_replaced(void **state)
{
    char path[512];
    struct stat st;
    test_cli_result r;
    FILE *file;

    (void)state;
    test_server_path(path, sizeof path, &server, "existing-export.json");
    file = fopen(path, "w");
    assert_non_null(file);
    fputs("kept\n", file);
    fclose(file);
    assert_int_equal(chmod(path, 0644), 0);
    r = run("--profile", "patient-1", "export", patient_ids[0], "--output",
            path, NULL);
    test_cli_expect_status(&r, 1, "export over an existing file");
    assert_non_null(strstr(r.err, "already exists"));
    test_cli_free(&r);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 5);
    assert_int_equal(unlink(path), 0);
    r = run("--profile", "patient-1", "export", patient_ids[0], "--output",
            path, NULL);
    test_cli_expect_status(&r, 0, "export to a new file");
    test_cli_free(&r);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

/* ---- database scan ------------------------------------------------------ */

static void
test_cli__scan_finds_no_leak(void **state)
{
    test_cli_result r;
    json_t *doc;

    (void)state;
    r = run("scan", "--db", server.db_path, "--bundle", bundles[0],
            "--bundle", bundles[1], "--json", NULL);
    test_cli_expect_status(&r, 0, "scan");
    doc = test_cli_parse_json(&r);
    assert_int_equal(int_member(doc, "patientIds"), 2);
    assert_int_equal(int_member(doc, "patientIdLeaks"), 0);
    assert_true(int_member(doc, "strings") > 100);
    assert_int_equal(int_member(doc, "stringLeaks"), 0);
    assert_int_equal(int_member(doc, "clearFields"), 0);
    json_decref(doc);
    test_cli_free(&r);
    for (size_t i = 0; i < BUNDLE_COUNT; i++) {
        char profile[32];

        snprintf(profile, sizeof profile, "patient-%zu", i + 1);
        r = run("--profile", profile, "scan", "--db", server.db_path,
                "--bundle", bundles[i], "--access-control-keys", "--json",
                NULL);
        test_cli_expect_status(&r, 0, "scan of access-control keys");
        doc = test_cli_parse_json(&r);
        assert_true(int_member(doc, "accessControlKeys") > 0);
        assert_int_equal(int_member(doc, "accessControlKeyLeaks"), 0);
        assert_true(int_member(doc, "sdKeysFound") > 0);
        json_decref(doc);
        test_cli_free(&r);
    }
}

static void
exec_bound(sqlite3 *db, const char *sql, const char *first,
           const char *second)
{
    sqlite3_stmt *stmt = NULL;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_bind_text(stmt, 1, first, -1, SQLITE_STATIC),
                     SQLITE_OK);
    if (second != NULL) {
        assert_int_equal(sqlite3_bind_text(stmt, 2, second, -1,
                                           SQLITE_STATIC),
                         SQLITE_OK);
    }
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
}

/* Copies the database and stores the last name of patient-01 in clear. */
static void
leaky_copy(const char *path)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(server.db_path, &db), SQLITE_OK);
    exec_bound(db, "VACUUM INTO ?", path, NULL);
    sqlite3_close(db);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_bound(db, "UPDATE entities SET json = json_set(json, '$.lastName', "
               "?) WHERE type = 'Patient' AND id = ?", last_name,
               patient_ids[0]);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

static void
test_cli__scan_rejects_plaintext(void **state)
{
    char path[TEST_SERVER_PATH_MAX + 16];
    test_cli_result r;
    json_t *doc;

    (void)state;
    test_server_path(path, sizeof path, &server, "leaky.sqlite");
    leaky_copy(path);
    r = run("scan", "--db", path, "--bundle", bundles[0], "--json", NULL);
    test_cli_expect_status(&r, 1, "scan of a leaky copy");
    doc = test_cli_parse_json(&r);
    assert_true(int_member(doc, "stringLeaks") >= 1);
    assert_int_equal(int_member(doc, "clearFields"), 1);
    json_decref(doc);
    assert_null(strstr(r.err, last_name));
    assert_null(strstr(r.out, last_name));
    test_cli_free(&r);
}

/* ---- bad input ---------------------------------------------------------- */

/*
 * Imports `bad` between two good files and checks that the bad one is
 * reported with `words`, that both good files still run (already
 * present), and that the Patient of the bad file, when it has one, was
 * not created.
 */
static void
expect_rejected(const char *bad, const char *words,
                const char *bad_patient_identity)
{
    char id[CARDEA_FHIR_ID_LEN + 1];
    test_cli_result r;
    json_t *doc;
    json_t *files;

    r = run("--profile", "doctor-1", "--json", "import", bundles[0], bad,
            bundles[1], NULL);
    test_cli_expect_status(&r, 1, bad);
    if (strstr(r.err, bad) == NULL || strstr(r.err, words) == NULL
        || strstr(r.err, "cardea: error: ") == NULL) {
        fail_msg("%s: stderr lacks \"%s\": %s", bad, words, r.err);
    }
    doc = test_cli_parse_json(&r);
    files = json_object_get(doc, "files");
    assert_int_equal(json_array_size(files), 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(files, 1), "status")),
                        "rejected");
    assert_int_equal(int_member(json_array_get(files, 1), "created"), 0);
    assert_int_equal(int_member(json_array_get(files, 2), "present"),
                     plan_sizes[1]);
    assert_int_equal(int_member(doc, "created"), 0);
    assert_int_equal(int_member(doc, "rejected"), 1);
    json_decref(doc);
    test_cli_free(&r);
    if (bad_patient_identity == NULL) {
        return;
    }
    assert_int_equal(cardea_fhir__entity_id(id, bad_patient_identity),
                     CARDEA_OK);
    r = run("--profile", "doctor-1", "get", "patient", id, NULL);
    test_cli_expect_status(&r, 1, "get the patient of a rejected file");
    test_cli_free(&r);
}

static void
test_cli__rejects_not_json(void **state)
{
    (void)state;
    expect_rejected("cli/data/not-json.json", "not valid JSON", NULL);
}

static void
test_cli__rejects_not_bundle(void **state)
{
    (void)state;
    expect_rejected("cli/data/not-bundle.json", "not a FHIR Bundle", NULL);
}

static void
test_cli__rejects_truncated(void **state)
{
    (void)state;
    expect_rejected("cli/data/truncated.json", "truncated", NULL);
}

static void
test_cli__rejects_unresolved_reference(void **state)
{
    (void)state;
    expect_rejected("cli/data/unresolved-subject.json",
                    "does not resolve to any Patient",
                    "Patient/0a1b2c3d-0000-4000-8000-000000000001");
    expect_rejected("cli/data/unresolved-encounter.json",
                    "does not resolve to any Encounter", NULL);
}

static void
test_cli__rejects_oversized(void **state)
{
    char path[TEST_SERVER_PATH_MAX + 16];
    int fd;

    (void)state;
    test_server_path(path, sizeof path, &server, "big.json");
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    /* A sparse file: the size check comes before any read. */
    assert_int_equal(ftruncate(fd, (off_t)CARDEA_FHIR_MAX_BUNDLE_SIZE + 1),
                     0);
    close(fd);
    expect_rejected(path, "over the limit", NULL);
}

static void
test_cli__rejects_missing_file(void **state)
{
    (void)state;
    expect_rejected("cli/data/no-such-file.json", "cannot open", NULL);
}

/* ---- key files ---------------------------------------------------------- */

/* Whether the profile folder `name` exists in the config folder. */
static bool
profile_exists(const char *name)
{
    char path[TEST_SERVER_PATH_MAX + 64];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", config_dir, name);
    return stat(path, &st) == 0;
}

/* Writes `text` to the new file `name` of the temporary folder. */
static void
write_temp(char *path, size_t path_cap, const char *name, const char *text)
{
    FILE *file;

    test_server_path(path, path_cap, &server, name);
    file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fputs(text, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
}

/* Logs doctor-1 in under `profile` with `file`; expects a failure. */
static void
expect_login_rejected(const char *profile, const char *file,
                      const char *words)
{
    test_cli_result r = run("--profile", profile, "login", "--server",
                            server.base_url, "--user", "doctor-1", "--key-file",
                            file, NULL);

    test_cli_expect_status(&r, 1, words);
    if (strstr(r.err, words) == NULL) {
        fail_msg("expected '%s' in stderr: %.2000s", words, r.err);
    }
    assert_null(strstr(r.out, "Logged in as"));
    assert_null(strstr(r.err, PASSPHRASE));
    test_cli_free(&r);
}

static void
test_cli__login_key_file_wrong_passphrase(void **state)
{
    char path[TEST_SERVER_PATH_MAX + 64];
    char *before;
    char *after;

    (void)state;
    setenv("CARDEA_PASSPHRASE", "not the passphrase", 1);
    expect_login_rejected("doctor-new", key_file, "wrong passphrase");
    assert_false(profile_exists("doctor-new"));

    /* A failed login leaves an existing profile as it was. */
    snprintf(path, sizeof path, "%s/doctor-1/profile.json", config_dir);
    before = test_cli_slurp(path, OUTPUT_MAX);
    assert_true(strlen(before) > 0);
    expect_login_rejected("doctor-1", key_file, "wrong passphrase");
    after = test_cli_slurp(path, OUTPUT_MAX);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* No passphrase and no terminal to ask on. */
    unsetenv("CARDEA_PASSPHRASE");
    expect_login_rejected("doctor-new", key_file, "CARDEA_PASSPHRASE");
    assert_false(profile_exists("doctor-new"));
    setenv("CARDEA_PASSPHRASE", PASSPHRASE, 1);
}

static void
test_cli__login_wrong_password_leaves_nothing(void **state)
{
    char fresh[TEST_SERVER_PATH_MAX + 64];
    struct stat st;
    test_cli_result r;

    (void)state;
    setenv("CARDEA_PASSWORD", "not the password", 1);
    r = run("--profile", "doctor-new", "login", "--server", server.base_url,
            "--user", "doctor-1", NULL);
    test_cli_expect_status(&r, 1, "login with a wrong password");
    assert_null(strstr(r.out, "Logged in as"));
    test_cli_free(&r);
    assert_false(profile_exists("doctor-new"));

    /* A configuration folder the login created goes as well. */
    test_server_path(fresh, sizeof fresh, &server, "fresh-config");
    r = run("--config-dir", fresh, "login", "--server", server.base_url,
            "--user", "doctor-1", NULL);
    test_cli_expect_status(&r, 1, "login with a wrong password");
    test_cli_free(&r);
    assert_int_equal(stat(fresh, &st), -1);
    setenv("CARDEA_PASSWORD", PASSWORD, 1);
}

static void
test_cli__share_errors_name_the_cause(void **state)
{
    test_cli_result r;

    (void)state;
    r = run("--profile", "doctor-1", "share", "patient", patient_ids[0],
            NULL);
    test_cli_expect_status(&r, 2, "share without --with");
    assert_non_null(strstr(r.err, "--with DATA_OWNER is required"));
    test_cli_free(&r);

    r = run("--profile", "doctor-1", "share", "patient", patient_ids[0],
            "--with", "nobody", NULL);
    test_cli_expect_status(&r, 1, "share with an unknown delegate");
    if (strstr(r.err, "data owner 'nobody' was not found") == NULL) {
        fail_msg("stderr: %.2000s", r.err);
    }
    assert_non_null(strstr(r.err, "data owner 'nobody' was not found"));
    assert_non_null(strstr(r.err, "check the data-owner id"));
    assert_null(strstr(r.err, "not shared with profile"));
    test_cli_free(&r);

    r = run("--profile", "doctor-1", "share-patient", "no-such-patient",
            "--with", doctor2_id, NULL);
    test_cli_expect_status(&r, 1, "share-patient of an unknown patient");
    assert_non_null(strstr(r.err, "patient no-such-patient was not found "
                                  "or is not shared"));
    assert_null(strstr(r.err, "listing the"));
    test_cli_free(&r);
}

static void
test_cli__counts_of_one_are_singular(void **state)
{
    test_cli_result r;

    (void)state;
    r = run("--profile", "doctor-1", "import", "--quiet", bundles[0], NULL);
    test_cli_expect_status(&r, 0, "import of one file");
    assert_non_null(strstr(r.out, "1 file: 1 imported"));
    assert_null(strstr(r.out, "1 files"));
    test_cli_free(&r);
}

/* Whether `line` starts with "YYYY-MM-DDTHH:MM:SSZ ", a UTC time. */
static bool
starts_with_utc_time(const char *line)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ ";

    for (size_t i = 0; pattern[i] != '\0'; i++) {
        bool digit = line[i] >= '0' && line[i] <= '9';

        if (pattern[i] == 'd' ? !digit : line[i] != pattern[i]) {
            return false;
        }
    }
    return true;
}

static void
test_cli__serve_logs_stop_signal(void **state)
{
    const struct timespec pause = {0, 50 * 1000 * 1000};
    test_server other;
    char *log;
    char *line;
    int status = 0;
    pid_t reaped = 0;
    bool stopped;

    (void)state;
    assert_true(test_server_start(&other, CARDEA_TEST_BIN, NULL));
    assert_int_equal(kill(other.pid, SIGTERM), 0);
    /* At most 10 s, in steps of 50 ms. */
    for (int i = 0; i < 200 && reaped == 0; i++) {
        reaped = waitpid(other.pid, &status, WNOHANG);
        if (reaped == 0) {
            nanosleep(&pause, NULL);
        }
    }
    /* A reaped pid may be reused: test_server_stop must not signal it. */
    stopped = reaped == other.pid;
    if (stopped) {
        other.pid = 0;
    }
    log = test_cli_slurp(other.log_path, OUTPUT_MAX);
    test_server_stop(&other);
    assert_true(stopped);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    line = strstr(log, "received SIGTERM (signal 15), stopping");
    if (line == NULL) {
        fail_msg("no stop line in the server log: %.2000s", log);
    }
    while (line > log && line[-1] != '\n') {
        line--;
    }
    assert_true(starts_with_utc_time(line));
    assert_int_equal(strncmp(line + 21, "info ", 5), 0);
    assert_null(strstr(log, "cardea: received signal"));
    free(log);
}

static void
test_cli__login_rejects_modified_key_file(void **state)
{
    char path[TEST_SERVER_PATH_MAX + 64];
    json_t *doc;
    char *text;

    (void)state;
    doc = json_load_file(key_file, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_object_set_new(doc, "dataOwnerId",
                                         json_string("someone-else")),
                     0);
    text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    write_temp(path, sizeof path, "modified.keys", text);
    free(text);
    json_decref(doc);
    expect_login_rejected("doctor-new", path, "file was modified");
    assert_false(profile_exists("doctor-new"));

    /* The plaintext format of the removed `cardea keys export`. */
    write_temp(path, sizeof path, "plaintext.keys",
               "{\"keyPairs\": [{\"dataOwnerId\": \"x\", \"privateKey\": "
               "\"3082\", \"publicKey\": \"3082\"}]}");
    expect_login_rejected("doctor-new", path, "not a key file");
    assert_false(profile_exists("doctor-new"));
}

/* Maximum number of private keys collected from the key stores. */
#define KEYS_MAX 32
/* Largest file searched for private keys. */
#define SCAN_FILE_MAX ((size_t)256 << 20)
/* Deepest folder searched below the temporary folder. */
#define SCAN_DEPTH_MAX 8

/* One private key in every encoding a leak could take. */
typedef struct key_forms {
    uint8_t *der;
    size_t der_len;
    char *hex;            /* lowercase */
    char *hex_upper;
    char *base64;
    char *base64url;      /* URL-safe alphabet, no padding */
} key_forms;

static key_forms keys_found[KEYS_MAX];
static size_t keys_found_count;

static void
key_forms_free(key_forms *k)
{
    cardea_mem__free(k->der);
    cardea_mem__free(k->hex);
    cardea_mem__free(k->hex_upper);
    cardea_mem__free(k->base64);
    cardea_mem__free(k->base64url);
    memset(k, 0, sizeof *k);
}

static void
key_forms_fill(key_forms *k, const char *pkcs8_base64)
{
    size_t j = 0;

    assert_int_equal(cardea_base64__decode_alloc(&k->der, &k->der_len,
                                                 pkcs8_base64,
                                                 strlen(pkcs8_base64)),
                     CARDEA_OK);
    assert_true(k->der_len > 600);
    assert_int_equal(cardea_hex__encode_alloc(&k->hex, k->der, k->der_len),
                     CARDEA_OK);
    assert_int_equal(cardea_hex__encode_alloc(&k->hex_upper, k->der,
                                              k->der_len),
                     CARDEA_OK);
    for (size_t i = 0; k->hex_upper[i] != '\0'; i++) {
        if (k->hex_upper[i] >= 'a' && k->hex_upper[i] <= 'f') {
            k->hex_upper[i] = (char)(k->hex_upper[i] - 'a' + 'A');
        }
    }
    assert_int_equal(cardea_base64__encode_alloc(&k->base64, k->der,
                                                 k->der_len),
                     CARDEA_OK);
    k->base64url = cardea_mem__strdup(k->base64);
    assert_non_null(k->base64url);
    for (size_t i = 0; k->base64[i] != '\0' && k->base64[i] != '='; i++) {
        char c = k->base64[i];

        k->base64url[j++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    k->base64url[j] = '\0';
}

static bool
contains(const uint8_t *data, size_t len, const void *needle,
         size_t needle_len)
{
    const uint8_t *first = needle;

    for (size_t i = 0; needle_len > 0 && i + needle_len <= len; i++) {
        if (data[i] == first[0] && memcmp(data + i, needle,
                                          needle_len) == 0) {
            return true;
        }
    }
    return false;
}

/* Reads a whole file of at most SCAN_FILE_MAX bytes. */
static uint8_t *
read_all(const char *path, size_t *len)
{
    struct stat st;
    uint8_t *data;
    FILE *file = fopen(path, "rb");

    assert_non_null(file);
    assert_int_equal(fstat(fileno(file), &st), 0);
    assert_true((size_t)st.st_size <= SCAN_FILE_MAX);
    data = malloc((size_t)st.st_size + 1);
    assert_non_null(data);
    *len = fread(data, 1, (size_t)st.st_size, file);
    fclose(file);
    return data;
}

/* Counts the encodings of the collected keys present in `path`. */
static size_t
count_keys_in(const char *path)
{
    size_t len = 0;
    uint8_t *data = read_all(path, &len);
    size_t hits = 0;

    for (size_t i = 0; i < keys_found_count; i++) {
        const key_forms *k = &keys_found[i];

        hits += contains(data, len, k->der, k->der_len);
        hits += contains(data, len, k->hex, strlen(k->hex));
        hits += contains(data, len, k->hex_upper, strlen(k->hex_upper));
        hits += contains(data, len, k->base64, strlen(k->base64));
        hits += contains(data, len, k->base64url, strlen(k->base64url));
    }
    free(data);
    return hits;
}

/*
 * Collects the private keys of the key store `dir`, in the key store's
 * format {"privateKey": base64 of DER PKCS#8}, and checks that the search
 * finds each one in its own entry, so that a broken search cannot pass.
 */
static size_t
collect_keys(const char *dir)
{
    DIR *folder = opendir(dir);
    struct dirent *entry;
    size_t collected = 0;

    assert_non_null(folder);
    while ((entry = readdir(folder)) != NULL) {
        char path[TEST_SERVER_PATH_MAX + 512];
        json_t *doc;
        const char *pkcs8;

        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        if (strncmp(entry->d_name, "org.taktik.icure.rsa.", 21) != 0
            || (doc = json_load_file(path, 0, NULL)) == NULL) {
            continue;
        }
        pkcs8 = json_string_value(json_object_get(doc, "privateKey"));
        if (pkcs8 != NULL) {
            assert_true(keys_found_count < KEYS_MAX);
            key_forms_fill(&keys_found[keys_found_count++], pkcs8);
            assert_true(count_keys_in(path) >= 1);
            collected++;
        }
        json_decref(doc);
    }
    closedir(folder);
    return collected;
}

/* Whether `path` is the key store of a profile: <config>/<name>/keys. */
static bool
is_key_store(const char *path)
{
    size_t len = strlen(config_dir);
    const char *rest = path + len;
    const char *slash;

    if (strncmp(path, config_dir, len) != 0 || rest[0] != '/') {
        return false;
    }
    slash = strchr(rest + 1, '/');
    return slash != NULL && strcmp(slash, "/keys") == 0;
}

/* Searches every file below `dir` but the key stores; returns the hits. */
static size_t
scan_tree(const char *dir, int depth, size_t *files)
{
    DIR *folder = opendir(dir);
    struct dirent *entry;
    size_t hits = 0;

    assert_true(depth <= SCAN_DEPTH_MAX);
    assert_non_null(folder);
    while ((entry = readdir(folder)) != NULL) {
        char path[TEST_SERVER_PATH_MAX + 512];
        struct stat st;
        size_t found;

        if (strcmp(entry->d_name, ".") == 0
            || strcmp(entry->d_name, "..") == 0) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        assert_int_equal(lstat(path, &st), 0);
        if (S_ISDIR(st.st_mode) && !is_key_store(path)) {
            hits += scan_tree(path, depth + 1, files);
        } else if (S_ISREG(st.st_mode)) {
            found = count_keys_in(path);
            if (found > 0) {
                print_error("private key found in %s\n", path);
            }
            hits += found;
            (*files)++;
        }
    }
    closedir(folder);
    return hits;
}

/* Whether keys_found[from..to) holds the key `k`. */
static bool
holds_key(size_t from, size_t to, const key_forms *k)
{
    for (size_t i = from; i < to; i++) {
        if (keys_found[i].der_len == k->der_len
            && memcmp(keys_found[i].der, k->der, k->der_len) == 0) {
            return true;
        }
    }
    return false;
}

static void
test_cli__no_private_key_outside_key_stores(void **state)
{
    static const char *const profiles[] = {
        "doctor-1", "doctor-2", "patient-1", "patient-2",
    };
    char path[TEST_SERVER_PATH_MAX + 64];
    size_t files = 0;

    (void)state;
    snprintf(path, sizeof path, "%s/hospital/keys", config_dir);
    assert_true(collect_keys(path) >= 1);
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        size_t first = keys_found_count;

        snprintf(path, sizeof path, "%s/%s/keys", config_dir, profiles[i]);
        assert_true(collect_keys(path) >= 1);
        /* The doctors took the hospital's pair from the encrypted file. */
        if (strncmp(profiles[i], "doctor", 6) == 0) {
            assert_true(holds_key(first, keys_found_count, &keys_found[0]));
        }
    }

    /* The export file, profiles, command output, database, server log. */
    assert_int_equal(count_keys_in(key_file), 0);
    assert_int_equal(scan_tree(server.dir, 0, &files), 0);
    assert_true(files > 10);
    for (size_t i = 0; i < keys_found_count; i++) {
        key_forms_free(&keys_found[i]);
    }
    keys_found_count = 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli__help_and_usage),
        cmocka_unit_test(test_cli__missing_profile_says_login),
        cmocka_unit_test(test_cli__profile_is_private),
        cmocka_unit_test(test_cli__import_two_bundles),
        cmocka_unit_test(test_cli__reimport_is_idempotent),
        cmocka_unit_test(test_cli__patient_reads_nothing_before_share),
        cmocka_unit_test(test_cli__share_patient),
        cmocka_unit_test(test_cli__patients_read_back),
        cmocka_unit_test(test_cli__doctor2_reads_back),
        cmocka_unit_test(test_cli__patient_cannot_read_other),
        cmocka_unit_test(test_cli__list_by_code_and_patient),
        cmocka_unit_test(test_cli__export_bundle),
        cmocka_unit_test(test_cli__export_file_never_replaced),
        cmocka_unit_test(test_cli__scan_finds_no_leak),
        cmocka_unit_test(test_cli__scan_rejects_plaintext),
        cmocka_unit_test(test_cli__rejects_not_json),
        cmocka_unit_test(test_cli__rejects_not_bundle),
        cmocka_unit_test(test_cli__rejects_truncated),
        cmocka_unit_test(test_cli__rejects_unresolved_reference),
        cmocka_unit_test(test_cli__rejects_oversized),
        cmocka_unit_test(test_cli__rejects_missing_file),
        cmocka_unit_test(test_cli__login_key_file_wrong_passphrase),
        cmocka_unit_test(test_cli__login_rejects_modified_key_file),
        cmocka_unit_test(test_cli__login_wrong_password_leaves_nothing),
        cmocka_unit_test(test_cli__share_errors_name_the_cause),
        cmocka_unit_test(test_cli__counts_of_one_are_singular),
        cmocka_unit_test(test_cli__serve_logs_stop_signal),
        cmocka_unit_test(test_cli__no_private_key_outside_key_stores),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
