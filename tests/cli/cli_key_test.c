/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea key` and `cardea access-back` end to end, against a real
 * `cardea serve` started on 127.0.0.1 by the fixture of tests/support.
 * Each profile below is one device (its own key store) of a user:
 *
 *   fingerprints as text, JSON and QR code; a recovery key created on
 *   the first device and used on a second (decrypt only until `key
 *   verify`); an encrypted export read back on a third device, refused
 *   with a wrong passphrase and never written twice; and give-access-back
 *   from a fourth device with a new key, applied by a counterpart only
 *   when the fingerprint it was told matches.
 *
 * The tests run in order and share the server and the profiles.
 */
#include <ctype.h>
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

#include "cardea/cardea.h"
#include "test_cli.h"
#include "test_server.h"

#define PASSWORD "cli key test password"
#define PASSPHRASE "export passphrase for the cli test"
#define OUTPUT_MAX ((size_t)1 << 20)
#define COMMAND_TIMEOUT_MS 120000

static test_server server;
static char config_dir[TEST_SERVER_PATH_MAX + 16];
static char doc_id[64];
static char peer_id[64];
static char recovery_key[128];
static char first_fp[33];
static char export_path[TEST_SERVER_PATH_MAX + 16];

static const test_cli cli = {&server, CARDEA_TEST_BIN, "key",
                              COMMAND_TIMEOUT_MS, OUTPUT_MAX};

/* Runs cardea with the arguments given, NULL-terminated. */
#define run(...) test_cli_runl(&cli, __VA_ARGS__)

static void
add_user(char *owner_id, const char *login, const char *type)
{
    test_cli_result r = run("admin", "--db", server.db_path, "user", "add",
                            "--login", login, "--password", PASSWORD, "--type",
                            type, NULL);

    test_cli_expect_status(&r, 0, "admin user add");
    r.out[strcspn(r.out, "\n")] = '\0';
    snprintf(owner_id, 64, "%s", r.out);
    test_cli_free(&r);
}

/* Logs `user` in under profile `profile` (one device). */
static void
login(const char *profile, const char *user)
{
    test_cli_result r = run("--profile", profile, "login", "--server",
                            server.base_url, "--user", user, NULL);

    test_cli_expect_status(&r, 0, profile);
    test_cli_free(&r);
}

/* The fingerprints of a profile: {fp: verified}. */
static json_t *
fingerprints(const char *profile)
{
    test_cli_result r = run("--profile", profile, "--json", "key",
                                 "fingerprint", NULL);
    json_t *list;
    json_t *map = json_object();
    json_t *row;
    size_t i;

    test_cli_expect_status(&r, 0, "key fingerprint --json");
    list = test_cli_parse_json(&r);
    json_array_foreach(list, i, row) {
        json_object_set(map, json_string_value(json_object_get(
                                 row, "fingerprint")),
                        json_object_get(row, "verified"));
    }
    json_decref(list);
    test_cli_free(&r);
    return map;
}

/* ---- fingerprints ------------------------------------------------------- */

static void
test_cli_key__fingerprint_text_json_qr(void **state)
{
    test_cli_result r;
    json_t *map;
    const char *fp;
    json_t *verified;

    (void)state;
    map = fingerprints("doc");
    assert_int_equal(json_object_size(map), 1);
    json_object_foreach(map, fp, verified) {
        assert_true(json_is_true(verified));
        assert_int_equal(strlen(fp), 32);
        snprintf(first_fp, sizeof first_fp, "%s", fp);
    }
    json_decref(map);
    r = run("--profile", "doc", "key", "fingerprint", "--qr", NULL);
    test_cli_expect_status(&r, 0, "key fingerprint --qr");
    assert_non_null(strstr(r.out, first_fp));
    /* Full and half blocks of the drawing, in UTF-8. */
    assert_non_null(strstr(r.out, "\xe2\x96\x88"));
    assert_non_null(strstr(r.out, "\xe2\x96\x80"));
    test_cli_free(&r);
    r = run("--profile", "doc", "key", "frobnicate", NULL);
    test_cli_expect_status(&r, 2, "unknown key command");
    test_cli_free(&r);
}

/* ---- recovery key ------------------------------------------------------- */

static void
test_cli_key__recovery_key_on_new_device(void **state)
{
    char upper_fp[sizeof first_fp];
    test_cli_result r;
    json_t *map;

    (void)state;
    r = run("--profile", "doc", "key", "recovery-key", "create",
            "--lifetime", "soon", NULL);
    test_cli_expect_status(&r, 2, "bad --lifetime");
    assert_non_null(strstr(r.err, "--lifetime"));
    test_cli_free(&r);
    r = run("--profile", "doc", "key", "recovery-key", "create",
            "--lifetime", "2h", NULL);
    test_cli_expect_status(&r, 0, "recovery-key create");
    r.out[strcspn(r.out, "\n")] = '\0';
    assert_int_equal(strlen(r.out), 64);
    snprintf(recovery_key, sizeof recovery_key, "%s", r.out);
    test_cli_free(&r);

    login("doc-2", "doc");
    r = run("--profile", "doc-2", "key", "recover",
            "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH-IIII-JJJJ-KKKK-LLLL-"
            "MMMA", NULL);
    test_cli_expect_status(&r, 1, "recover with a wrong key");
    assert_non_null(strstr(r.err, "no recovery data"));
    test_cli_free(&r);
    /* A mistyped option stops the command: the data is not deleted. */
    r = run("--profile", "doc-2", "key", "recover", "--delte", recovery_key,
            NULL);
    test_cli_expect_status(&r, 2, "recover with an unknown option");
    test_cli_free(&r);
    r = run("--profile", "doc", "key", "recovery-key", "create",
            "--lifetme", "2h", NULL);
    test_cli_expect_status(&r, 2, "recovery-key create, unknown option");
    test_cli_free(&r);
    r = run("--profile", "doc-2", "key", "recover", recovery_key, NULL);
    test_cli_expect_status(&r, 0, "recover");
    assert_non_null(strstr(r.out, "recovered 1 key pair"));
    test_cli_free(&r);
    map = fingerprints("doc-2");
    assert_int_equal(json_object_size(map), 2);
    assert_true(json_is_false(json_object_get(map, first_fp)));
    json_decref(map);
    /* Typed in upper case, echoed as stored: lowercase. */
    snprintf(upper_fp, sizeof upper_fp, "%s", first_fp);
    for (size_t i = 0; upper_fp[i] != '\0'; i++) {
        upper_fp[i] = (char)toupper((unsigned char)upper_fp[i]);
    }
    assert_string_not_equal(upper_fp, first_fp);
    r = run("--profile", "doc-2", "key", "verify", upper_fp, NULL);
    test_cli_expect_status(&r, 0, "key verify");
    assert_non_null(strstr(r.out, first_fp));
    assert_null(strstr(r.out, upper_fp));
    test_cli_free(&r);
    map = fingerprints("doc-2");
    assert_true(json_is_true(json_object_get(map, first_fp)));
    json_decref(map);
    r = run("--profile", "doc-2", "key", "verify", "00112233445566778899aa",
            NULL);
    test_cli_expect_status(&r, 1, "verify an unknown key");
    assert_non_null(strstr(r.err, "no key with fingerprint "
                                  "00112233445566778899aa is published"));
    assert_non_null(strstr(r.err, "cardea key fingerprint"));
    assert_null(strstr(r.err, "check the id"));
    test_cli_free(&r);
}

/* ---- encrypted export and import ---------------------------------------- */

static void
test_cli_key__export_import(void **state)
{
    struct stat st;
    test_cli_result r;
    json_t *map;
    char *text;

    (void)state;
    test_server_path(export_path, sizeof export_path, &server, "doc.keys");
    setenv("CARDEA_PASSPHRASE", PASSPHRASE, 1);
    r = run("--profile", "doc", "key", "export", "--out", export_path, NULL);
    test_cli_expect_status(&r, 0, "key export");
    test_cli_free(&r);
    assert_int_equal(stat(export_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    text = test_cli_slurp(export_path, OUTPUT_MAX);
    assert_non_null(strstr(text, "\"argon2id\""));
    assert_non_null(strstr(text, "\"aes-256-gcm\""));
    assert_null(strstr(text, "privateKey"));
    free(text);
    /* An existing file is never replaced. */
    r = run("--profile", "doc", "key", "export", "--out", export_path, NULL);
    test_cli_expect_status(&r, 1, "export over an existing file");
    test_cli_free(&r);

    login("doc-3", "doc");
    setenv("CARDEA_PASSPHRASE", "not the passphrase", 1);
    r = run("--profile", "doc-3", "key", "import", export_path, NULL);
    test_cli_expect_status(&r, 1, "import with a wrong passphrase");
    assert_non_null(strstr(r.err, "wrong passphrase"));
    test_cli_free(&r);
    map = fingerprints("doc-3");
    assert_null(json_object_get(map, first_fp));
    json_decref(map);
    setenv("CARDEA_PASSPHRASE", PASSPHRASE, 1);
    r = run("--profile", "doc-3", "key", "import", export_path, NULL);
    test_cli_expect_status(&r, 0, "import");
    test_cli_free(&r);
    map = fingerprints("doc-3");
    assert_true(json_is_true(json_object_get(map, first_fp)));
    json_decref(map);
    unsetenv("CARDEA_PASSPHRASE");
}

/* ---- give-access-back --------------------------------------------------- */

/* The peer (an SDK session on the peer profile's key store) shares a
 * health element with the doctor; returns its id. */
static void
peer_shares(char id[64])
{
    cardea_session_options opts = CARDEA_SESSION_OPTIONS_INIT;
    cardea_entity_create_options create = CARDEA_ENTITY_CREATE_OPTIONS_INIT;
    cardea_entity_delegate delegate = {doc_id, CARDEA_ACCESS_READ};
    cardea_session *session = NULL;
    char keys[TEST_SERVER_PATH_MAX + 32];
    char errmsg[256];
    char *out = NULL;
    json_t *created;

    snprintf(keys, sizeof keys, "%s/peer/keys", config_dir);
    opts.base_url = server.base_url;
    opts.login = "peer";
    opts.password = PASSWORD;
    opts.key_store_dir = keys;
    opts.errmsg_buf = errmsg;
    opts.errmsg_cap = sizeof errmsg;
    if (cardea_session_open(&session, &opts) != CARDEA_OK) {
        fail_msg("peer session: %s", errmsg);
    }
    create.delegates = &delegate;
    create.delegate_count = 1;
    assert_int_equal(cardea_entity_create(&out, session,
                                          CARDEA_ENTITY_HEALTH_ELEMENT,
                                          "{\"descr\":\"peer to doc\"}",
                                          &create),
                     CARDEA_OK);
    created = json_loads(out, 0, NULL);
    snprintf(id, 64, "%s", json_string_value(json_object_get(created, "id")));
    json_decref(created);
    cardea_free(out);
    cardea_session_close(session);
}

static void
test_cli_key__access_back(void **state)
{
    char element[64];
    char task[64];
    char new_fp[33] = "";
    test_cli_result r;
    json_t *list;
    json_t *map;
    const char *fp;
    json_t *verified;

    (void)state;
    login("peer", "peer");
    peer_shares(element);
    /* Every key lost: a fourth device with a new key reads nothing. */
    login("doc-4", "doc");
    map = fingerprints("doc-4");
    assert_int_equal(json_object_size(map), 1);
    json_object_foreach(map, fp, verified) {
        snprintf(new_fp, sizeof new_fp, "%s", fp);
    }
    json_decref(map);
    r = run("--profile", "doc-4", "get", "healthelement", element, NULL);
    test_cli_expect_status(&r, 1, "read before access back");
    test_cli_free(&r);
    r = run("--profile", "doc-4", "access-back", "request", NULL);
    test_cli_expect_status(&r, 0, "access-back request");
    assert_non_null(strstr(r.out, "asked 1 counterpart"));
    test_cli_free(&r);

    r = run("--profile", "peer", "--json", "access-back", "list", NULL);
    test_cli_expect_status(&r, 0, "access-back list");
    list = test_cli_parse_json(&r);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "dataOwnerId")),
                        doc_id);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "fingerprint")),
                        new_fp);
    snprintf(task, sizeof task, "%s",
             json_string_value(json_object_get(json_array_get(list, 0),
                                               "id")));
    json_decref(list);
    test_cli_free(&r);
    r = run("--profile", "peer", "access-back", "apply", task,
            "--fingerprint", first_fp, NULL);
    test_cli_expect_status(&r, 1, "apply with another fingerprint");
    assert_non_null(strstr(r.err, "not applied"));
    test_cli_free(&r);
    r = run("--profile", "peer", "access-back", "apply", task,
            "--fingerprint", new_fp, NULL);
    test_cli_expect_status(&r, 0, "access-back apply");
    test_cli_free(&r);
    r = run("--profile", "doc-4", "get", "healthelement", element, NULL);
    test_cli_expect_status(&r, 0, "read after access back");
    assert_non_null(strstr(r.out, "peer to doc"));
    test_cli_free(&r);
    r = run("--profile", "peer", "access-back", "list", NULL);
    test_cli_expect_status(&r, 0, "access-back list after apply");
    assert_non_null(strstr(r.out, "no pending"));
    test_cli_free(&r);
}

/* ---- runner ------------------------------------------------------------- */

static int
group_setup(void **state)
{
    (void)state;
    if (!test_server_start(&server, CARDEA_TEST_BIN, NULL)) {
        return -1;
    }
    test_server_path(config_dir, sizeof config_dir, &server, "config");
    setenv("CARDEA_CONFIG_DIR", config_dir, 1);
    setenv("CARDEA_PASSWORD", PASSWORD, 1);
    unsetenv("CARDEA_PROFILE");
    unsetenv("CARDEA_PASSPHRASE");
    add_user(doc_id, "doc", "hcp");
    add_user(peer_id, "peer", "hcp");
    login("doc", "doc");
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    test_server_stop(&server);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_key__fingerprint_text_json_qr),
        cmocka_unit_test(test_cli_key__recovery_key_on_new_device),
        cmocka_unit_test(test_cli_key__export_import),
        cmocka_unit_test(test_cli_key__access_back),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
