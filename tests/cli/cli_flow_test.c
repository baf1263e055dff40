/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client commands end to end, against a real `cardea serve` started
 * on 127.0.0.1 by the fixture of tests/support. A hospital HCP, two
 * doctors beneath it and one patient user per bundle are provisioned
 * with `cardea admin`; every step then runs the cardea binary as a user
 * would, with profiles in the fixture's temporary folder:
 *
 *   login (the doctors take the hospital's key pair), import of two
 *   example bundles, import again (idempotent), share-patient with the
 *   patient and with doctor 2, read back by each patient and by doctor 2
 *   with field-by-field comparison, list by code and by patient, export,
 *   the database scan (and a copy of the database with one name in clear,
 *   which the scan must reject), and each bad input: not JSON, not a
 *   Bundle, truncated, unresolved references, over the size limit. Each
 *   bad file is reported, the next file goes on, and none of its
 *   entities reaches the server.
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
#include <jansson.h>
#include <sqlite3.h>

#include "cli/fhir.h"
#include "test_server.h"

#define PASSWORD "cli flow test password"
#define OUTPUT_MAX ((size_t)4 << 20)
#define ARGS_MAX 32
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

/* Output of one command. */
typedef struct run_result {
    int status;              /* exit status, or -1 when killed */
    char *out;
    char *err;
} run_result;

static void
run_free(run_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

static char *
slurp(const char *path)
{
    char *data = calloc(1, OUTPUT_MAX + 1);
    FILE *file = fopen(path, "rb");

    assert_non_null(data);
    if (file != NULL) {
        size_t len = fread(data, 1, OUTPUT_MAX, file);

        data[len] = '\0';
        fclose(file);
    }
    return data;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Runs cardea with `argv` (NULL-terminated, without the program). */
static run_result
run_argv(const char *const *args)
{
    char out_path[TEST_SERVER_PATH_MAX + 16];
    char err_path[TEST_SERVER_PATH_MAX + 16];
    const char *argv[ARGS_MAX + 2] = {CARDEA_TEST_BIN};
    run_result r = {-1, NULL, NULL};
    int status = 0;
    long waited = 0;
    size_t n = 1;
    pid_t pid;

    for (size_t i = 0; args[i] != NULL; i++) {
        assert_true(n < ARGS_MAX);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    test_server_path(out_path, sizeof out_path, &server, "run.out");
    test_server_path(err_path, sizeof err_path, &server, "run.err");
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(out, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (waited >= COMMAND_TIMEOUT_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        sleep_ms(20);
        waited += 20;
    }
    r.status = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    return r;
}

/* Runs cardea with the arguments given, NULL-terminated. */
static run_result
run(const char *first, ...)
{
    const char *args[ARGS_MAX + 1];
    size_t n = 0;
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        assert_true(n < ARGS_MAX);
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    return run_argv(args);
}

static void
expect_status(const run_result *r, int status, const char *what)
{
    if (r->status != status) {
        fail_msg("%s: status %d, expected %d\nstdout: %.2000s\nstderr: "
                 "%.2000s", what, r->status, status, r->out, r->err);
    }
}

static json_t *
parse_output(const run_result *r)
{
    json_error_t error;
    json_t *doc = json_loads(r->out, 0, &error);

    if (doc == NULL) {
        fail_msg("output is not JSON (%s): %.2000s", error.text, r->out);
    }
    return doc;
}

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
    const char *args[ARGS_MAX] = {"admin", "--db", server.db_path, "user",
                                  "add", "--login", login, "--password",
                                  PASSWORD, "--type", type};
    size_t n = 11;
    run_result r;

    if (parent != NULL) {
        args[n++] = "--parent";
        args[n++] = parent;
    }
    if (data_owner_id != NULL) {
        args[n++] = "--data-owner-id";
        args[n++] = data_owner_id;
    }
    args[n] = NULL;
    r = run_argv(args);
    expect_status(&r, 0, "admin user add");
    r.out[strcspn(r.out, "\n")] = '\0';
    if (owner_id != NULL) {
        snprintf(owner_id, 64, "%s", r.out);
    }
    run_free(&r);
}

static void
login(const char *user, const char *key_file)
{
    run_result r = key_file != NULL
                       ? run("--profile", user, "login", "--server",
                             server.base_url, "--user", user, "--key-file",
                             key_file, NULL)
                       : run("--profile", user, "login", "--server",
                             server.base_url, "--user", user, NULL);

    expect_status(&r, 0, user);
    assert_non_null(strstr(r.out, "Logged in as"));
    assert_null(strstr(r.out, PASSWORD));
    assert_null(strstr(r.err, PASSWORD));
    run_free(&r);
}

static int
group_setup(void **state)
{
    char hospital[64];
    char key_file[TEST_SERVER_PATH_MAX + 16];
    run_result r;

    (void)state;
    if (!test_server_start(&server, CARDEA_TEST_BIN, NULL)) {
        return -1;
    }
    test_server_path(config_dir, sizeof config_dir, &server, "config");
    setenv("CARDEA_CONFIG_DIR", config_dir, 1);
    setenv("CARDEA_PASSWORD", PASSWORD, 1);
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
    r = run("--profile", "hospital", "keys", "export", "--output", key_file,
            NULL);
    expect_status(&r, 0, "keys export");
    run_free(&r);
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
        "list", "export", "verify", "scan", "fhir", "keys",
    };
    run_result r;

    (void)state;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        r = run(commands[i], "--help", NULL);
        expect_status(&r, 0, commands[i]);
        assert_non_null(strstr(r.out, "usage: cardea"));
        run_free(&r);
    }
    r = run("frobnicate", NULL);
    expect_status(&r, 2, "unknown command");
    assert_non_null(strstr(r.err, "cardea: error: unknown command "
                                  "'frobnicate'"));
    run_free(&r);
    r = run("get", "spaceship", "x", NULL);
    expect_status(&r, 2, "unknown type");
    assert_non_null(strstr(r.err, "unknown entity type 'spaceship'"));
    run_free(&r);
}

static void
test_cli__missing_profile_says_login(void **state)
{
    run_result r;

    (void)state;
    r = run("--profile", "nobody", "whoami", NULL);
    expect_status(&r, 1, "whoami without login");
    assert_non_null(strstr(r.err, "cardea: error: profile 'nobody'"));
    assert_non_null(strstr(r.err, "cardea login"));
    run_free(&r);
}

static void
test_cli__profile_is_private(void **state)
{
    char path[TEST_SERVER_PATH_MAX + 64];
    struct stat st;
    run_result r;
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
    expect_status(&r, 0, "whoami");
    doc = parse_output(&r);
    assert_string_equal(json_string_value(json_object_get(doc,
                                                          "dataOwnerId")),
                        doctor2_id);
    assert_string_equal(json_string_value(json_object_get(doc,
                                                          "dataOwnerType")),
                        "hcp");
    json_decref(doc);
    run_free(&r);
}

/* ---- import, share, read back ------------------------------------------- */

static void
test_cli__import_two_bundles(void **state)
{
    run_result r;
    json_t *doc;

    (void)state;
    r = run("--profile", "doctor-1", "import", "--json", bundles[0],
            bundles[1], NULL);
    expect_status(&r, 0, "import");
    doc = parse_output(&r);
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
    run_free(&r);
}

static void
test_cli__reimport_is_idempotent(void **state)
{
    run_result r;
    json_t *doc;

    (void)state;
    r = run("--profile", "doctor-1", "--json", "import", bundles[0],
            bundles[1], NULL);
    expect_status(&r, 0, "import again");
    doc = parse_output(&r);
    assert_int_equal(int_member(doc, "created"), 0);
    assert_int_equal(int_member(doc, "present"),
                     plan_sizes[0] + plan_sizes[1]);
    assert_int_equal(int_member(doc, "failed"), 0);
    json_decref(doc);
    run_free(&r);
}

static void
test_cli__patient_reads_nothing_before_share(void **state)
{
    run_result r;

    (void)state;
    r = run("--profile", "patient-1", "verify", bundles[0], NULL);
    expect_status(&r, 1, "verify before the share");
    assert_non_null(strstr(r.err, patient_ids[0]));
    run_free(&r);
}

static void
test_cli__share_patient(void **state)
{
    run_result r;
    json_t *doc;

    (void)state;
    for (size_t i = 0; i < BUNDLE_COUNT; i++) {
        r = run("--profile", "doctor-1", "share-patient", patient_ids[i],
                "--with", patient_ids[i], "--with", doctor2_id, "--json",
                NULL);
        expect_status(&r, 0, "share-patient");
        doc = parse_output(&r);
        assert_int_equal(int_member(doc, "failed"), 0);
        assert_int_equal(
            1 + int_member(json_object_get(doc, "entities"),
                           "HealthElement")
                + int_member(json_object_get(doc, "entities"), "Contact")
                + int_member(json_object_get(doc, "entities"), "Document"),
            plan_sizes[i]);
        json_decref(doc);
        run_free(&r);
    }
}

/* Runs verify as `profile` and checks every entity is equal. */
static void
expect_read_back(const char *profile, const char *const *files,
                 size_t file_count, size_t expected)
{
    const char *args[ARGS_MAX] = {"--profile", profile, "--json", "verify"};
    size_t n = 4;
    size_t equal = 0;
    json_t *file;
    size_t index;
    run_result r;
    json_t *doc;

    for (size_t i = 0; i < file_count; i++) {
        args[n++] = files[i];
    }
    args[n] = NULL;
    r = run_argv(args);
    expect_status(&r, 0, profile);
    doc = parse_output(&r);
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
    run_free(&r);
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
    run_result r;

    (void)state;
    r = run("--profile", "patient-1", "get", "patient", patient_ids[1],
            NULL);
    expect_status(&r, 1, "get another patient");
    assert_non_null(strstr(r.err, "not found, or not shared"));
    run_free(&r);
}

static void
test_cli__list_by_code_and_patient(void **state)
{
    run_result r;
    json_t *doc;
    json_t *entity;
    size_t index;

    (void)state;
    /* patient-01.json has one Condition with SNOMED CT 162864005. */
    r = run("--profile", "doctor-2", "--json", "list", "healthelement",
            "--code", "http://snomed.info/sct|162864005", NULL);
    expect_status(&r, 0, "list by code");
    doc = parse_output(&r);
    assert_int_equal(json_array_size(json_object_get(doc, "entities")), 1);
    json_array_foreach(json_object_get(doc, "entities"), index, entity) {
        char *codes = json_dumps(json_object_get(entity, "codes"), 0);

        assert_non_null(codes);
        assert_non_null(strstr(codes, "162864005"));
        free(codes);
    }
    json_decref(doc);
    run_free(&r);
    r = run("--profile", "patient-2", "--json", "list", "document",
            "--patient", patient_ids[1], NULL);
    expect_status(&r, 0, "list documents of a patient");
    doc = parse_output(&r);
    assert_int_equal(json_array_size(json_object_get(doc, "entities")), 74);
    json_decref(doc);
    run_free(&r);
}

static void
test_cli__export_bundle(void **state)
{
    run_result r;
    json_t *doc;

    (void)state;
    r = run("--profile", "patient-1", "export", patient_ids[0], NULL);
    expect_status(&r, 0, "export");
    doc = parse_output(&r);
    assert_string_equal(json_string_value(json_object_get(doc,
                                                          "resourceType")),
                        "Bundle");
    /* Patient, Condition, 3 Encounters and their 48 Observations. */
    assert_int_equal(json_array_size(json_object_get(doc, "entry")),
                     1 + 1 + 3 + 48);
    json_decref(doc);
    run_free(&r);
}

/* ---- database scan ------------------------------------------------------ */

static void
test_cli__scan_finds_no_leak(void **state)
{
    run_result r;
    json_t *doc;

    (void)state;
    r = run("scan", "--db", server.db_path, "--bundle", bundles[0],
            "--bundle", bundles[1], "--json", NULL);
    expect_status(&r, 0, "scan");
    doc = parse_output(&r);
    assert_int_equal(int_member(doc, "patientIds"), 2);
    assert_int_equal(int_member(doc, "patientIdLeaks"), 0);
    assert_true(int_member(doc, "strings") > 100);
    assert_int_equal(int_member(doc, "stringLeaks"), 0);
    assert_int_equal(int_member(doc, "clearFields"), 0);
    json_decref(doc);
    run_free(&r);
    for (size_t i = 0; i < BUNDLE_COUNT; i++) {
        char profile[32];

        snprintf(profile, sizeof profile, "patient-%zu", i + 1);
        r = run("--profile", profile, "scan", "--db", server.db_path,
                "--bundle", bundles[i], "--access-control-keys", "--json",
                NULL);
        expect_status(&r, 0, "scan of access-control keys");
        doc = parse_output(&r);
        assert_true(int_member(doc, "accessControlKeys") > 0);
        assert_int_equal(int_member(doc, "accessControlKeyLeaks"), 0);
        assert_true(int_member(doc, "sdKeysFound") > 0);
        json_decref(doc);
        run_free(&r);
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
    run_result r;
    json_t *doc;

    (void)state;
    test_server_path(path, sizeof path, &server, "leaky.sqlite");
    leaky_copy(path);
    r = run("scan", "--db", path, "--bundle", bundles[0], "--json", NULL);
    expect_status(&r, 1, "scan of a leaky copy");
    doc = parse_output(&r);
    assert_true(int_member(doc, "stringLeaks") >= 1);
    assert_int_equal(int_member(doc, "clearFields"), 1);
    json_decref(doc);
    assert_null(strstr(r.err, last_name));
    assert_null(strstr(r.out, last_name));
    run_free(&r);
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
    run_result r;
    json_t *doc;
    json_t *files;

    r = run("--profile", "doctor-1", "--json", "import", bundles[0], bad,
            bundles[1], NULL);
    expect_status(&r, 1, bad);
    if (strstr(r.err, bad) == NULL || strstr(r.err, words) == NULL
        || strstr(r.err, "cardea: error: ") == NULL) {
        fail_msg("%s: stderr lacks \"%s\": %s", bad, words, r.err);
    }
    doc = parse_output(&r);
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
    run_free(&r);
    if (bad_patient_identity == NULL) {
        return;
    }
    assert_int_equal(cardea_fhir__entity_id(id, bad_patient_identity),
                     CARDEA_OK);
    r = run("--profile", "doctor-1", "get", "patient", id, NULL);
    expect_status(&r, 1, "get the patient of a rejected file");
    run_free(&r);
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
        cmocka_unit_test(test_cli__scan_finds_no_leak),
        cmocka_unit_test(test_cli__scan_rejects_plaintext),
        cmocka_unit_test(test_cli__rejects_not_json),
        cmocka_unit_test(test_cli__rejects_not_bundle),
        cmocka_unit_test(test_cli__rejects_truncated),
        cmocka_unit_test(test_cli__rejects_unresolved_reference),
        cmocka_unit_test(test_cli__rejects_oversized),
        cmocka_unit_test(test_cli__rejects_missing_file),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
