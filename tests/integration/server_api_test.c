/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoint tests of the server: authentication, data owners, exchange
 * data, exchange-data maps, recovery data and the HTTP limits. The
 * fixture starts the server in this process on 127.0.0.1 with port 0 and
 * a temporary database holding four users (HCP hcp-0 with child hcp-1,
 * HCP hcp-2 and a patient without a Patient entity), and talks to it
 * with libcurl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "server/server_internal.h"
#include "server_fixture.h"
#include "store/store.h"

#define PASSWORD FIXTURE_PASSWORD
/* A key fingerprint (v2) used in the exchange data of the tests. */
#define FP "0123456789abcdef012345"

/* The reply type of server_fixture.h, under a shorter name. */
typedef fixture_reply reply;

typedef struct fixture {
    char dir[64];
    char db_path[128];
    cardea_server *server;
    uint16_t port;
    char *token_hcp1;
    char *token_hcp2;
    char *token_patient;
} fixture;

static fixture env;

/* ---- HTTP client ------------------------------------------------------- */

static reply
call_port(uint16_t port, const char *method, const char *path,
          const char *token, const char *body, size_t body_len,
          const char *const *headers)
{
    return fixture_request(port, method, path, token, NULL, body, body_len,
                           headers);
}

static reply
call(const char *method, const char *path, const char *token,
     const char *body)
{
    return fixture_call(env.port, method, path, token, body);
}

/* ---- fixture ---------------------------------------------------------- */

static int
setup(void **state)
{
    cardea_store *store = NULL;
    cardea_db *db = NULL;

    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(env.dir, sizeof env.dir, "/tmp/cardea-it-XXXXXX");
    assert_non_null(mkdtemp(env.dir));
    snprintf(env.db_path, sizeof env.db_path, "%s/test.sqlite", env.dir);

    assert_int_equal(cardea_store_open(&store, env.db_path, NULL),
                     CARDEA_OK);
    assert_int_equal(cardea_store__acquire(&db, store), CARDEA_OK);
    fixture_add_user(db, "root@example.org", CARDEA_DO_HCP, "hcp-0", NULL);
    fixture_add_user(db, "doc@example.org", CARDEA_DO_HCP, "hcp-1", "hcp-0");
    fixture_add_user(db, "bob@example.org", CARDEA_DO_HCP, "hcp-2", NULL);
    fixture_add_user(db, "pat@example.org", CARDEA_DO_PATIENT, "patient-1",
                     NULL);
    cardea_store__release(store, db);
    cardea_store_close(store);

    env.server = fixture_start_server(env.db_path, &env.port, (size_t)64 << 10);
    env.token_hcp1 = fixture_login(env.port, "doc@example.org", PASSWORD);
    env.token_hcp2 = fixture_login(env.port, "bob@example.org", PASSWORD);
    env.token_patient = fixture_login(env.port, "pat@example.org", PASSWORD);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    cardea_server_free(env.server);
    free(env.token_hcp1);
    free(env.token_hcp2);
    free(env.token_patient);
    fixture_remove_db_files(env.db_path);
    rmdir(env.dir);
    curl_global_cleanup();
    return 0;
}

/* ---- authentication --------------------------------------------------- */

static void
test_auth__login_returns_tokens(void **state)
{
    const char *body = "{\"username\":\"doc@example.org\",\"password\":\""
                       PASSWORD "\"}";
    reply r = call("POST", "auth/login?groupId=cardea", NULL, body);

    (void)state;
    assert_int_equal(r.status, 200);
    assert_non_null(json_string_value(json_object_get(r.json, "token")));
    assert_non_null(
        json_string_value(json_object_get(r.json, "refreshToken")));
    assert_true(json_is_true(json_object_get(r.json, "successful")));
    fixture_reply_free(&r);
}

static void
test_auth__login_rejects_bad_credentials(void **state)
{
    reply wrong = call("POST", "auth/login", NULL,
                       "{\"username\":\"doc@example.org\","
                       "\"password\":\"wrong\"}");
    reply unknown = call("POST", "auth/login", NULL,
                         "{\"username\":\"nobody@example.org\","
                         "\"password\":\"wrong\"}");

    (void)state;
    assert_int_equal(wrong.status, 401);
    assert_null(json_object_get(wrong.json, "token"));
    assert_int_equal(unknown.status, 401);
    assert_null(json_object_get(unknown.json, "token"));
    fixture_reply_free(&wrong);
    fixture_reply_free(&unknown);
}

static void
test_auth__login_rejects_malformed_body(void **state)
{
    reply broken = call("POST", "auth/login", NULL, "{\"username\":");
    reply missing = call("POST", "auth/login", NULL, "{\"username\":\"x\"}");

    (void)state;
    assert_int_equal(broken.status, 400);
    assert_non_null(strstr(broken.body, "malformed JSON"));
    assert_int_equal(missing.status, 400);
    assert_non_null(strstr(missing.body, "password"));
    fixture_reply_free(&broken);
    fixture_reply_free(&missing);
}

static char *
login_refresh_token(void)
{
    reply r = call("POST", "auth/login", NULL,
                   "{\"username\":\"bob@example.org\",\"password\":\""
                   PASSWORD "\"}");
    char *refresh;

    assert_int_equal(r.status, 200);
    refresh = strdup(
        json_string_value(json_object_get(r.json, "refreshToken")));
    fixture_reply_free(&r);
    return refresh;
}

static void
test_auth__refresh_and_switch(void **state)
{
    char *refresh = login_refresh_token();
    char header[4096];
    const char *headers[] = {header, NULL};
    const char *wrong_kind[] = {header, NULL};
    reply r;

    (void)state;
    snprintf(header, sizeof header, "Refresh-Token: Bearer %s", refresh);
    r = call_port(env.port, "POST", "auth/refresh", NULL, NULL, 0, headers);
    assert_int_equal(r.status, 200);
    assert_non_null(json_string_value(json_object_get(r.json, "token")));
    fixture_reply_free(&r);

    r = call_port(env.port, "POST", "auth/switch/cardea", NULL, NULL, 0,
                  headers);
    assert_int_equal(r.status, 200);
    assert_non_null(
        json_string_value(json_object_get(r.json, "refreshToken")));
    fixture_reply_free(&r);

    r = call_port(env.port, "POST", "auth/switch/other", NULL, NULL, 0,
                  headers);
    assert_int_equal(r.status, 404);
    fixture_reply_free(&r);

    /* An access token is not a refresh token. */
    snprintf(header, sizeof header, "Refresh-Token: %s", env.token_hcp2);
    r = call_port(env.port, "POST", "auth/refresh", NULL, NULL, 0,
                  wrong_kind);
    assert_int_equal(r.status, 401);
    assert_null(json_object_get(r.json, "token"));
    fixture_reply_free(&r);
    free(refresh);
}

static void
test_auth__matches_lists_one_group(void **state)
{
    reply r = call("GET", "user/matches?ts=1", env.token_hcp1, NULL);
    json_t *first;

    (void)state;
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    first = json_array_get(r.json, 0);
    assert_string_equal(json_string_value(json_object_get(first, "groupId")),
                        "cardea");
    assert_string_equal(
        json_string_value(json_object_get(first, "healthcarePartyId")),
        "hcp-1");
    assert_true(json_is_array(json_object_get(first, "groupsHierarchy")));
    fixture_reply_free(&r);

    r = call("GET", "user/matches", env.token_patient, NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(r.json, 0), "patientId")),
                        "patient-1");
    fixture_reply_free(&r);
}

/* Issues an access token for hcp-2 that expired `ago_s` seconds ago. */
static char *
expired_token(int64_t ago_s)
{
    cardea_caller caller = {0};
    int64_t now_s = time(NULL);
    unsigned lifetime = 100;
    char *token = NULL;

    caller.user_id = "any";
    caller.data_owner_id = "hcp-2";
    caller.type = CARDEA_DO_HCP;
    assert_int_equal(cardea_token__issue(&token, env.server, &caller,
                                         now_s - lifetime - ago_s, lifetime,
                                         false),
                     CARDEA_OK);
    return token;
}

static void
test_auth__expired_token_grace(void **state)
{
    char *recent = expired_token(30);
    char *old = expired_token(120);
    reply ok = call("GET", "dataowner/current", recent, NULL);
    reply late = call("GET", "dataowner/current", old, NULL);
    reply none = call("GET", "dataowner/current", NULL, NULL);
    reply forged = call("GET", "dataowner/current", "a.b.c", NULL);

    (void)state;
    assert_int_equal(ok.status, 200);
    assert_int_equal(late.status, 401);
    assert_int_equal(none.status, 401);
    assert_int_equal(forged.status, 401);
    fixture_reply_free(&ok);
    fixture_reply_free(&late);
    fixture_reply_free(&none);
    fixture_reply_free(&forged);
    cardea_free(recent);
    cardea_free(old);
}

static void
test_auth__rate_limits_failed_logins(void **state)
{
    char dir[64] = "/tmp/cardea-rl-XXXXXX";
    char db_path[128];
    const char *bad = "{\"username\":\"x@example.org\",\"password\":\"no\"}";
    cardea_server *server;
    uint16_t port = 0;
    long last = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/rl.sqlite", dir);
    server = fixture_start_server(db_path, &port, (size_t)64 << 10);
    for (int i = 0; i < 11; i++) {
        reply r = call_port(port, "POST", "auth/login", NULL, bad,
                            strlen(bad), NULL);

        last = r.status;
        assert_true(i < 10 ? r.status == 401 : r.status == 429);
        fixture_reply_free(&r);
    }
    assert_int_equal(last, 429);
    cardea_server_free(server);
    fixture_remove_db_files(db_path);
    rmdir(dir);
}

/* ---- data owners ------------------------------------------------------ */

static void
test_dataowner__current_and_empty_patient(void **state)
{
    reply hcp = call("GET", "dataowner/current?ts=2", env.token_hcp1, NULL);
    reply patient = call("GET", "dataowner/current", env.token_patient,
                         NULL);
    json_t *stub;

    (void)state;
    assert_int_equal(hcp.status, 200);
    assert_string_equal(json_string_value(json_object_get(hcp.json, "type")),
                        "hcp");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(hcp.json, "dataOwner"), "id")),
                        "hcp-1");
    assert_int_equal(patient.status, 200);
    assert_string_equal(
        json_string_value(json_object_get(patient.json, "type")), "patient");
    stub = json_object_get(patient.json, "dataOwner");
    assert_int_equal(
        json_array_size(json_object_get(stub, "publicKeysForOaepWithSha256")),
        0);
    fixture_reply_free(&hcp);
    fixture_reply_free(&patient);
}

static void
test_dataowner__hierarchy_self_first(void **state)
{
    reply r = call("GET", "dataowner/current/hierarchy", env.token_hcp1,
                   NULL);
    reply stubs = call("GET", "dataowner/current/hierarchy/stub",
                       env.token_hcp1, NULL);

    (void)state;
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(r.json, 0),
                                            "dataOwner"), "id")),
                        "hcp-1");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(r.json, 1),
                                            "dataOwner"), "id")),
                        "hcp-0");
    assert_int_equal(stubs.status, 200);
    assert_non_null(json_object_get(json_array_get(stubs.json, 1), "stub"));
    fixture_reply_free(&r);
    fixture_reply_free(&stubs);
}

/* PUTs a stub for `token` adding `key`; returns the reply. */
static reply
put_stub(const char *token, json_t *stub, const char *key)
{
    json_t *body = json_pack("{s:s, s:O}", "type", "hcp", "stub", stub);
    char *text;
    reply r;

    json_array_append_new(
        json_object_get(json_object_get(body, "stub"),
                        "publicKeysForOaepWithSha256"),
        json_string(key));
    text = json_dumps(body, 0);
    r = call("PUT", "dataowner/stub", token, text);
    free(text);
    json_decref(body);
    return r;
}

static void
test_dataowner__stub_put_checks_rev(void **state)
{
    reply before = call("GET", "dataowner/stub/hcp-2", env.token_hcp2, NULL);
    json_t *stub = json_deep_copy(json_object_get(before.json, "stub"));
    reply first;
    reply stale;
    reply foreign;
    reply after;

    (void)state;
    assert_int_equal(before.status, 200);
    first = put_stub(env.token_hcp2, stub, "30820122aa");
    assert_int_equal(first.status, 200);
    assert_string_not_equal(
        json_string_value(json_object_get(
            json_object_get(first.json, "stub"), "rev")),
        json_string_value(json_object_get(stub, "rev")));

    stale = put_stub(env.token_hcp2, stub, "30820122bb");
    assert_int_equal(stale.status, 409);
    foreign = put_stub(env.token_hcp1, stub, "30820122cc");
    assert_int_equal(foreign.status, 403);

    after = call("GET", "dataowner/stub/hcp-2", env.token_hcp1, NULL);
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(after.json, "stub"),
                         "publicKeysForOaepWithSha256")),
                     1);
    fixture_reply_free(&before);
    fixture_reply_free(&first);
    fixture_reply_free(&stale);
    fixture_reply_free(&foreign);
    fixture_reply_free(&after);
    json_decref(stub);
}

static void
test_dataowner__patient_stub_before_entity(void **state)
{
    json_t *stub = json_pack("{s:s, s:[]}", "id", "patient-1",
                             "publicKeysForOaepWithSha256");
    reply r = put_stub(env.token_patient, stub, "30820122dd");
    reply current = call("GET", "dataowner/current", env.token_patient,
                         NULL);
    reply aes = call("GET", "hcparty/hcp-1/aesExchangeKeys", env.token_hcp1,
                     NULL);

    (void)state;
    assert_int_equal(r.status, 200);
    assert_non_null(json_object_get(json_object_get(r.json, "stub"), "rev"));
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(current.json, "dataOwner"),
                         "publicKeysForOaepWithSha256")),
                     1);
    assert_int_equal(aes.status, 200);
    assert_true(json_is_object(aes.json));
    fixture_reply_free(&r);
    fixture_reply_free(&current);
    fixture_reply_free(&aes);
    json_decref(stub);
}

/* ---- exchange data ---------------------------------------------------- */

static char *
exchange_json(const char *id, const char *delegator, const char *delegate)
{
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:s}", "id", id,
        "delegator", delegator, "delegate", delegate, "exchangeKey", FP,
        "AAAA", "accessControlSecret", FP, "BBBB", "sharedSignatureKey", FP,
        "CCCC", "delegatorSignature", FP, "DDDD",
        "sharedSignature", "EEEE");
    char *text = json_dumps(doc, 0);

    json_decref(doc);
    return text;
}

static void
test_exchange__participants_only(void **state)
{
    char *doc = exchange_json("ed-1", "hcp-1", "hcp-2");
    char *forged = exchange_json("ed-2", "hcp-2", "hcp-1");
    reply created = call("POST", "exchangedata", env.token_hcp1, doc);
    reply by_delegate = call("GET", "exchangedata/ed-1", env.token_hcp2, NULL);
    reply by_stranger = call("GET", "exchangedata/ed-1", env.token_patient,
                             NULL);
    reply not_delegator = call("POST", "exchangedata", env.token_hcp1,
                               forged);
    reply duplicate = call("POST", "exchangedata", env.token_hcp1, doc);

    (void)state;
    assert_int_equal(created.status, 200);
    assert_non_null(json_object_get(created.json, "rev"));
    assert_int_equal(by_delegate.status, 200);
    assert_int_equal(by_stranger.status, 403);
    assert_null(json_object_get(by_stranger.json, "exchangeKey"));
    assert_int_equal(not_delegator.status, 403);
    assert_int_equal(duplicate.status, 409);
    fixture_reply_free(&created);
    fixture_reply_free(&by_delegate);
    fixture_reply_free(&by_stranger);
    fixture_reply_free(&not_delegator);
    fixture_reply_free(&duplicate);
    free(doc);
    free(forged);
}

static void
test_exchange__parent_acts_for_child(void **state)
{
    char *token_root = fixture_login(env.port, "root@example.org", PASSWORD);
    char *doc = exchange_json("ed-root", "hcp-0", "hcp-2");
    reply by_child;
    reply created = call("POST", "exchangedata", token_root, doc);

    (void)state;
    assert_int_equal(created.status, 200);
    /* hcp-1's token lists hcp-0 as ancestor, so it may read it. */
    by_child = call("GET", "exchangedata/ed-root", env.token_hcp1, NULL);
    assert_int_equal(by_child.status, 200);
    fixture_reply_free(&created);
    fixture_reply_free(&by_child);
    free(doc);
    free(token_root);
}

static void
test_exchange__rejects_invalid_body(void **state)
{
    reply missing = call("POST", "exchangedata", env.token_hcp1,
                         "{\"id\":\"ed-x\",\"delegator\":\"hcp-1\","
                         "\"delegate\":\"hcp-2\"}");

    (void)state;
    assert_int_equal(missing.status, 400);
    assert_non_null(strstr(missing.body, "exchangeKey"));
    fixture_reply_free(&missing);
}

static void
test_exchange__modify_rules(void **state)
{
    char *doc = exchange_json("ed-3", "hcp-1", "hcp-2");
    reply created = call("POST", "exchangedata", env.token_hcp1, doc);
    json_t *body = json_deep_copy(created.json);
    char *text;
    reply modified;
    reply stale;
    reply moved;

    (void)state;
    assert_int_equal(created.status, 200);
    json_object_set_new(json_object_get(body, "exchangeKey"), "fp2",
                        json_string("FFFF"));
    text = json_dumps(body, 0);
    modified = call("PUT", "exchangedata", env.token_hcp2, text);
    assert_int_equal(modified.status, 200);
    stale = call("PUT", "exchangedata", env.token_hcp2, text);
    assert_int_equal(stale.status, 409);
    free(text);

    json_object_set(body, "rev", json_object_get(modified.json, "rev"));
    json_object_set_new(body, "delegate", json_string("hcp-0"));
    text = json_dumps(body, 0);
    moved = call("PUT", "exchangedata", env.token_hcp1, text);
    assert_int_equal(moved.status, 400);
    free(text);

    fixture_reply_free(&created);
    fixture_reply_free(&modified);
    fixture_reply_free(&stale);
    fixture_reply_free(&moved);
    json_decref(body);
    free(doc);
}

static void
test_exchange__queries(void **state)
{
    char *doc = exchange_json("ed-4", "hcp-2", "patient-1");
    reply created = call("POST", "exchangedata", env.token_hcp2, doc);
    reply pair = call("GET", "exchangedata/byDelegatorDelegate/hcp-2/"
                             "patient-1?ts=3", env.token_patient, NULL);
    reply pair_query = call("GET", "exchangedata/byDelegatorDelegate?"
                                   "delegatorId=hcp-2&delegateId=patient-1",
                            env.token_hcp2, NULL);
    reply page = call("GET", "exchangedata/byParticipant/hcp-2?limit=1",
                      env.token_hcp2, NULL);
    reply others = call("GET", "exchangedata/byParticipant/hcp-2",
                        env.token_patient, NULL);
    reply kinds = call("GET", "exchangedata/byParticipant/hcp-2/counterparts"
                              "?counterpartsTypes=Patient",
                       env.token_hcp2, NULL);
    reply all = call("GET", "exchangedata/byParticipant/hcp-2/counterparts"
                            "?counterpartsTypes=Hcp,PATIENT",
                     env.token_hcp2, NULL);
    reply skipped = call("GET", "exchangedata/byParticipant/hcp-2/"
                                "counterparts?counterpartsTypes=Patient"
                                "&ignoreOnEntryForFingerprint=" FP,
                         env.token_hcp2, NULL);
    reply by_ids = call("POST", "exchangedata/byIds", env.token_patient,
                        "{\"ids\":[\"ed-4\",\"ed-1\",\"none\"]}");

    (void)state;
    assert_int_equal(created.status, 200);
    assert_int_equal(pair.status, 200);
    assert_int_equal(json_array_size(pair.json), 1);
    assert_int_equal(json_array_size(pair_query.json), 1);
    assert_int_equal(page.status, 200);
    assert_int_equal(json_array_size(json_object_get(page.json, "rows")), 1);
    assert_non_null(json_object_get(page.json, "nextKeyPair"));
    assert_int_equal(others.status, 403);
    assert_int_equal(kinds.status, 200);
    assert_int_equal(json_array_size(kinds.json), 1);
    assert_string_equal(json_string_value(json_array_get(kinds.json, 0)),
                        "patient-1");
    assert_true(json_array_size(all.json) >= 2);
    assert_int_equal(skipped.status, 200);
    assert_int_equal(json_array_size(skipped.json), 0);
    assert_int_equal(by_ids.status, 200);
    assert_int_equal(json_array_size(by_ids.json), 1);
    fixture_reply_free(&created);
    fixture_reply_free(&pair);
    fixture_reply_free(&pair_query);
    fixture_reply_free(&page);
    fixture_reply_free(&others);
    fixture_reply_free(&kinds);
    fixture_reply_free(&all);
    fixture_reply_free(&skipped);
    fixture_reply_free(&by_ids);
    free(doc);
}

/* ---- exchange-data maps ---------------------------------------------- */

static void
test_exmap__merge_keeps_existing(void **state)
{
    const char *key = "000102030405060708090a0b0c0d0e0f";
    uint8_t raw[16];
    char id[65];
    char body[256];
    reply first;
    reply second;
    reply read;
    json_t *entries;

    (void)state;
    for (int i = 0; i < 16; i++) {
        raw[i] = (uint8_t)i;
    }
    cardea_hash__sha256_hex(id, raw, sizeof raw);
    snprintf(body, sizeof body, "{\"batch\":{\"%s\":{\"fpa\":\"X1\"}}}", key);
    first = call("PUT", "exchangedatamap/batch", env.token_hcp1, body);
    assert_int_equal(first.status, 200);
    assert_string_equal(first.body, "ok");
    snprintf(body, sizeof body,
             "{\"batch\":{\"%s\":{\"fpa\":\"CHANGED\",\"fpb\":\"X2\"}}}",
             key);
    second = call("PUT", "exchangedatamap/batch", env.token_patient, body);
    assert_int_equal(second.status, 200);

    snprintf(body, sizeof body, "{\"ids\":[\"%s\",\"missing\"]}", id);
    read = call("POST", "exchangedatamap/batch", env.token_hcp2, body);
    assert_int_equal(read.status, 200);
    assert_int_equal(json_array_size(read.json), 1);
    entries = json_object_get(json_array_get(read.json, 0),
                              "encryptedExchangeDataIds");
    assert_string_equal(json_string_value(json_object_get(entries, "fpa")),
                        "X1");
    assert_string_equal(json_string_value(json_object_get(entries, "fpb")),
                        "X2");
    fixture_reply_free(&first);
    fixture_reply_free(&second);
    fixture_reply_free(&read);
}

static void
test_exmap__rejects_bad_batch(void **state)
{
    reply empty = call("PUT", "exchangedatamap/batch", env.token_hcp1,
                       "{\"batch\":{\"000102030405060708090a0b0c0d0e0f\""
                       ":{}}}");
    reply short_key = call("PUT", "exchangedatamap/batch", env.token_hcp1,
                           "{\"batch\":{\"0001\":{\"fp\":\"X\"}}}");

    (void)state;
    assert_int_equal(empty.status, 400);
    assert_int_equal(short_key.status, 400);
    fixture_reply_free(&empty);
    fixture_reply_free(&short_key);
}

/* ---- recovery data ---------------------------------------------------- */

static char *
recovery_json(const char *id, const char *type, int64_t expires_ms)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "recipient",
                            "hcp-1", "encryptedSelf", "c2VjcmV0", "type",
                            type);
    char *text;

    if (expires_ms > 0) {
        json_object_set_new(doc, "expirationInstant",
                            json_integer(expires_ms));
    }
    text = json_dumps(doc, 0);
    json_decref(doc);
    return text;
}

static void
test_recovery__expires(void **state)
{
    char *doc = recovery_json("rd-1", "KEYPAIR_RECOVERY",
                              cardea_store__now_ms() + 1200);
    char *past = recovery_json("rd-0", "KEYPAIR_RECOVERY", 1000);
    reply created = call("POST", "recoverydata", env.token_hcp1, doc);
    reply before = call("GET", "recoverydata/rd-1", env.token_hcp2, NULL);
    reply rejected = call("POST", "recoverydata", env.token_hcp1, past);
    reply after;

    (void)state;
    assert_int_equal(created.status, 200);
    assert_int_equal(before.status, 200);
    assert_int_equal(rejected.status, 400);
    usleep(1500 * 1000);
    after = call("GET", "recoverydata/rd-1", env.token_hcp2, NULL);
    assert_int_equal(after.status, 404);
    fixture_reply_free(&created);
    fixture_reply_free(&before);
    fixture_reply_free(&rejected);
    fixture_reply_free(&after);
    free(doc);
    free(past);
}

static void *
post_later(void *arg)
{
    char *doc = arg;
    reply r;

    usleep(400 * 1000);
    r = call("POST", "recoverydata", env.token_hcp1, doc);
    assert_int_equal(r.status, 200);
    fixture_reply_free(&r);
    return NULL;
}

static void
test_recovery__long_poll(void **state)
{
    char *doc = recovery_json("rd-2", "EXCHANGE_KEY_RECOVERY", 0);
    struct timespec start;
    struct timespec end;
    pthread_t thread;
    reply found;
    reply timed_out;
    double seconds;

    (void)state;
    assert_int_equal(pthread_create(&thread, NULL, post_later, doc), 0);
    found = call("GET", "recoverydata/waiting/rd-2?timeoutSeconds=2",
                 env.token_hcp2, NULL);
    pthread_join(thread, NULL);
    assert_int_equal(found.status, 200);
    assert_string_equal(json_string_value(json_object_get(found.json, "id")),
                        "rd-2");

    clock_gettime(CLOCK_MONOTONIC, &start);
    timed_out = call("GET", "recoverydata/waiting/rd-none?timeoutSeconds=1",
                     env.token_hcp2, NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    seconds = (double)(end.tv_sec - start.tv_sec)
              + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    assert_int_equal(timed_out.status, 404);
    assert_true(seconds >= 0.9);
    assert_true(seconds < 5.0);
    fixture_reply_free(&found);
    fixture_reply_free(&timed_out);
    free(doc);
}

static void
test_recovery__delete_for_recipient(void **state)
{
    char *a = recovery_json("rd-3", "KEYPAIR_RECOVERY", 0);
    char *b = recovery_json("rd-4", "EXCHANGE_KEY_RECOVERY", 0);
    reply ra = call("POST", "recoverydata", env.token_hcp1, a);
    reply rb = call("POST", "recoverydata", env.token_hcp1, b);
    /* hcp-2 created nothing for hcp-1, so its purge removes nothing. */
    reply stranger = call("DELETE", "recoverydata/forRecipient/hcp-1",
                          env.token_hcp2, NULL);
    reply kept = call("GET", "recoverydata/rd-3", env.token_hcp2, NULL);
    reply typed = call("DELETE", "recoverydataforRecipient/hcp-1/ofType/"
                                 "ExchangeKeyRecovery", env.token_hcp1, NULL);
    reply single = call("DELETE", "recoverydata/rd-3", env.token_hcp1, NULL);
    reply deleted = call("GET", "recoverydata/rd-3", env.token_hcp1, NULL);

    (void)state;
    assert_int_equal(ra.status, 200);
    assert_int_equal(rb.status, 200);
    assert_int_equal(stranger.status, 200);
    assert_int_equal(json_integer_value(json_object_get(stranger.json,
                                                        "numberValue")), 0);
    assert_int_equal(kept.status, 200);
    assert_int_equal(typed.status, 200);
    /* rd-2 of the long-poll test has the same type and recipient. */
    assert_true(json_integer_value(json_object_get(typed.json,
                                                   "numberValue")) >= 1);
    assert_int_equal(single.status, 200);
    assert_non_null(json_object_get(single.json, "rev"));
    assert_int_equal(deleted.status, 404);
    fixture_reply_free(&ra);
    fixture_reply_free(&rb);
    fixture_reply_free(&stranger);
    fixture_reply_free(&kept);
    fixture_reply_free(&typed);
    fixture_reply_free(&single);
    fixture_reply_free(&deleted);
    free(a);
    free(b);
}

static void
test_recovery__creator_purges_what_it_made(void **state)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "id", "rd-5",
                            "recipient", "hcp-2", "encryptedSelf",
                            "c2VjcmV0", "type", "EXCHANGE_KEY_RECOVERY");
    char *text = json_dumps(doc, 0);
    reply created = call("POST", "recoverydata", env.token_hcp1, text);
    reply purged = call("DELETE", "recoverydata/forRecipient/hcp-2/ofType/"
                                  "ExchangeKeyRecovery", env.token_hcp1, NULL);
    reply gone = call("GET", "recoverydata/rd-5", env.token_hcp2, NULL);

    (void)state;
    assert_int_equal(created.status, 200);
    assert_int_equal(purged.status, 200);
    assert_int_equal(json_integer_value(json_object_get(purged.json,
                                                        "numberValue")), 1);
    assert_int_equal(gone.status, 404);
    fixture_reply_free(&created);
    fixture_reply_free(&purged);
    fixture_reply_free(&gone);
    free(text);
    json_decref(doc);
}

/* ---- HTTP limits -------------------------------------------------------- */

static void
test_http__unknown_route_and_method(void **state)
{
    reply unknown = call("GET", "nothing/here", env.token_hcp1, NULL);
    reply method = call("DELETE", "dataowner/current", env.token_hcp1, NULL);
    reply outside = call_port(env.port, "GET", "../../x", NULL, NULL, 0,
                              NULL);

    (void)state;
    assert_int_equal(unknown.status, 404);
    assert_int_equal(method.status, 405);
    assert_int_equal(outside.status, 404);
    fixture_reply_free(&unknown);
    fixture_reply_free(&method);
    fixture_reply_free(&outside);
}

static void
test_http__oversized_body(void **state)
{
    size_t len = (size_t)100 << 10;
    char *big = malloc(len + 1);
    reply r;

    (void)state;
    assert_non_null(big);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    big[len] = '\0';
    r = call("POST", "exchangedata", env.token_hcp1, big);
    assert_int_equal(r.status, 413);
    fixture_reply_free(&r);
    free(big);
}

static void
test_http__large_header_accepted(void **state)
{
    size_t len = (size_t)60 << 10;
    char *header = malloc(len + 64);
    const char *headers[] = {header, NULL};
    reply r;

    (void)state;
    assert_non_null(header);
    memcpy(header, "Icure-Access-Control-Keys: ", 27);
    memset(header + 27, 'A', len);
    header[len + 27] = '\0';
    r = call_port(env.port, "GET", "dataowner/current", env.token_hcp1,
                  NULL, 0, headers);
    assert_int_equal(r.status, 200);
    fixture_reply_free(&r);
    free(header);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth__login_returns_tokens),
        cmocka_unit_test(test_auth__login_rejects_bad_credentials),
        cmocka_unit_test(test_auth__login_rejects_malformed_body),
        cmocka_unit_test(test_auth__refresh_and_switch),
        cmocka_unit_test(test_auth__matches_lists_one_group),
        cmocka_unit_test(test_auth__expired_token_grace),
        cmocka_unit_test(test_auth__rate_limits_failed_logins),
        cmocka_unit_test(test_dataowner__current_and_empty_patient),
        cmocka_unit_test(test_dataowner__hierarchy_self_first),
        cmocka_unit_test(test_dataowner__stub_put_checks_rev),
        cmocka_unit_test(test_dataowner__patient_stub_before_entity),
        cmocka_unit_test(test_exchange__participants_only),
        cmocka_unit_test(test_exchange__parent_acts_for_child),
        cmocka_unit_test(test_exchange__rejects_invalid_body),
        cmocka_unit_test(test_exchange__modify_rules),
        cmocka_unit_test(test_exchange__queries),
        cmocka_unit_test(test_exmap__merge_keeps_existing),
        cmocka_unit_test(test_exmap__rejects_bad_batch),
        cmocka_unit_test(test_recovery__expires),
        cmocka_unit_test(test_recovery__long_poll),
        cmocka_unit_test(test_recovery__delete_for_recipient),
        cmocka_unit_test(test_recovery__creator_purges_what_it_made),
        cmocka_unit_test(test_http__unknown_route_and_method),
        cmocka_unit_test(test_http__oversized_body),
        cmocka_unit_test(test_http__large_header_accepted),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
