/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the session's REST layer over a fake transport: URL and
 * headers, status mapping and error messages, JWT claims, login, token
 * refresh before expiry and after a 401, and the response body limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sdk/sdk.h"

#define FAKE_MAX 8

/* One canned response of the fake transport. */
typedef struct fake_answer {
    unsigned status;               /* 0: fail with CARDEA_ENETWORK */
    const char *body;
} fake_answer;

/* What the fake saw of one request. */
typedef struct fake_seen {
    char method[8];
    char url[256];
    char headers[1024];            /* "Name: value\n" lines */
    char body[512];
} fake_seen;

typedef struct fake {
    fake_answer answers[FAKE_MAX];
    size_t answer_count;
    fake_seen seen[FAKE_MAX];
    size_t seen_count;
} fake;

static cardea_err
fake_send(void *user, const cardea_http_request *req,
          cardea_http_response *resp)
{
    fake *f = user;
    fake_seen *seen;
    const fake_answer *answer;
    size_t used = 0;

    assert_true(f->seen_count < FAKE_MAX);
    seen = &f->seen[f->seen_count];
    answer = &f->answers[f->seen_count];
    f->seen_count++;
    snprintf(seen->method, sizeof seen->method, "%s", req->method);
    snprintf(seen->url, sizeof seen->url, "%s", req->url);
    for (size_t i = 0; i < req->header_count; i++) {
        used += (size_t)snprintf(seen->headers + used,
                                 sizeof seen->headers - used, "%s: %s\n",
                                 req->headers[i].name,
                                 req->headers[i].value);
    }
    snprintf(seen->body, sizeof seen->body, "%.*s", (int)req->body_len,
             req->body != NULL ? (const char *)req->body : "");
    if (answer->status == 0) {
        cardea_http_response_set_error(resp, "connection refused");
        return CARDEA_ENETWORK;
    }
    cardea_http_response_set_status(resp, answer->status);
    return cardea_http_response_append_body(resp, answer->body,
                                            strlen(answer->body));
}

/* A session shell: enough for the REST layer, no data owner. */
typedef struct fixture {
    cardea_session session;
    fake fake;
} fixture;

static int
setup(void **state)
{
    fixture *fx = cardea_mem__calloc(1, sizeof *fx);

    assert_non_null(fx);
    fx->session.base_url = cardea_mem__strdup("http://127.0.0.1:9");
    fx->session.transport.version = CARDEA_TRANSPORT_VERSION;
    fx->session.transport.user = &fx->fake;
    fx->session.transport.send = fake_send;
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture *fx = *state;

    cardea_mem__free(fx->session.base_url);
    if (fx->session.token != NULL) {
        cardea_mem__free(fx->session.token);
    }
    cardea_mem__free(fx->session.refresh_token);
    cardea_mem__free(fx->session.user_id);
    cardea_mem__free(fx);
    return 0;
}

static void
answer(fixture *fx, unsigned status, const char *body)
{
    fx->fake.answers[fx->fake.answer_count].status = status;
    fx->fake.answers[fx->fake.answer_count].body = body;
    fx->fake.answer_count++;
}

/* Builds an unsigned JWT whose payload is `payload`, base64url, no pad. */
static char *
make_jwt(const char *payload)
{
    char *b64 = NULL;
    char *jwt;
    size_t len;

    assert_int_equal(cardea_base64__encode_alloc(&b64,
                                                 (const uint8_t *)payload,
                                                 strlen(payload)),
                     CARDEA_OK);
    len = strlen(b64);
    while (len > 0 && b64[len - 1] == '=') {
        b64[--len] = 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (b64[i] == '+') {
            b64[i] = '-';
        } else if (b64[i] == '/') {
            b64[i] = '_';
        }
    }
    jwt = cardea_mem__alloc(len + 32);
    assert_non_null(jwt);
    snprintf(jwt, len + 32, "eyJhbGciOiJub25lIn0.%s.c2ln", b64);
    cardea_mem__free(b64);
    return jwt;
}

static char *
jwt_expiring_in(long seconds)
{
    char payload[128];

    snprintf(payload, sizeof payload, "{\"u\":\"user-1\",\"exp\":%lld}",
             (long long)time(NULL) + seconds);
    return make_jwt(payload);
}

static void
test_http__sends_url_and_headers(void **state)
{
    fixture *fx = *state;
    cardea_http_header extra[] = {{"Icure-Access-Control-Keys", "AAAA"},
                                  {"Icure-Access-Control-Keys", "BBBB"}};
    json_t *body = json_pack("{s:s}", "a", "b");
    json_t *out = NULL;

    fx->session.token = jwt_expiring_in(3600);
    fx->session.token_exp = (int64_t)time(NULL) + 3600;
    answer(fx, 200, "{\"ok\":true}");
    assert_int_equal(cardea_sdk__request_json(&out, &fx->session, "POST",
                                              "patient/match", body, extra,
                                              2),
                     CARDEA_OK);
    assert_true(json_is_true(json_object_get(out, "ok")));
    assert_string_equal(fx->fake.seen[0].method, "POST");
    assert_string_equal(fx->fake.seen[0].url,
                        "http://127.0.0.1:9/rest/v2/patient/match");
    assert_non_null(strstr(fx->fake.seen[0].headers,
                           "Authorization: Bearer eyJ"));
    assert_non_null(strstr(fx->fake.seen[0].headers,
                           "Content-Type: application/json\n"));
    assert_non_null(strstr(fx->fake.seen[0].headers,
                           "Icure-Access-Control-Keys: AAAA\n"
                           "Icure-Access-Control-Keys: BBBB\n"));
    assert_string_equal(fx->fake.seen[0].body, "{\"a\":\"b\"}");
    assert_int_equal(fx->session.last_status, 200);
    json_decref(out);
    json_decref(body);
}

static void
test_http__maps_status_with_message(void **state)
{
    static const struct {
        unsigned status;
        cardea_err err;
    } cases[] = {{401, CARDEA_EAUTH},     {403, CARDEA_EACCESS},
                 {404, CARDEA_ENOTFOUND}, {409, CARDEA_ECONFLICT},
                 {413, CARDEA_ETOOBIG},   {400, CARDEA_EHTTP},
                 {500, CARDEA_EHTTP}};
    fixture *fx = *state;
    json_t *sentinel = json_string("untouched");
    json_t *out;
    char expected[64];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        answer(fx, cases[i].status, "{\"error\":\"no such thing\"}");
        out = sentinel;
        assert_int_equal(cardea_sdk__request_json(&out, &fx->session, "GET",
                                                  "helement/x?ts=1", NULL,
                                                  NULL, 0),
                         cases[i].err);
        assert_ptr_equal(out, sentinel);
        snprintf(expected, sizeof expected,
                 "GET /rest/v2/helement/x failed: HTTP %u: no such thing",
                 cases[i].status);
        assert_string_equal(cardea_session_errmsg(&fx->session), expected);
        assert_int_equal(fx->session.last_status, cases[i].status);
    }
    json_decref(sentinel);
}

static void
test_http__reports_transport_failure(void **state)
{
    fixture *fx = *state;
    uint8_t *sentinel = (uint8_t *)"x";
    uint8_t *out = sentinel;
    size_t len = 7;

    answer(fx, 0, "");
    assert_int_equal(cardea_sdk__request(&out, &len, &fx->session, "GET",
                                         "dataowner/current", NULL, 0, NULL,
                                         0, NULL),
                     CARDEA_ENETWORK);
    assert_ptr_equal(out, sentinel);
    assert_int_equal(len, 7);
    assert_non_null(strstr(cardea_session_errmsg(&fx->session),
                           "connection refused"));
}

static void
test_http__rejects_non_json_answer(void **state)
{
    fixture *fx = *state;
    json_t *out = NULL;

    answer(fx, 200, "<html>");
    assert_int_equal(cardea_sdk__request_json(&out, &fx->session, "GET",
                                              "dataowner/current", NULL,
                                              NULL, 0),
                     CARDEA_EFORMAT);
    assert_null(out);
}

static void
test_http__login_stores_tokens(void **state)
{
    fixture *fx = *state;
    char *token = jwt_expiring_in(3600);
    char *refresh = jwt_expiring_in(86400);
    char body[2048];

    snprintf(body, sizeof body, "{\"token\":\"%s\",\"refreshToken\":\"%s\","
                                "\"successful\":true}", token, refresh);
    answer(fx, 200, body);
    assert_int_equal(cardea_sdk__login(&fx->session, "alice", "s3cr\"et"),
                     CARDEA_OK);
    assert_string_equal(fx->fake.seen[0].url,
                        "http://127.0.0.1:9/rest/v2/auth/login");
    assert_string_equal(fx->fake.seen[0].body,
                        "{\"username\":\"alice\",\"password\":\"s3cr\\\"et\"}");
    assert_null(strstr(fx->fake.seen[0].headers, "Authorization"));
    assert_string_equal(fx->session.token, token);
    assert_string_equal(fx->session.refresh_token, refresh);
    assert_string_equal(fx->session.user_id, "user-1");
    assert_true(fx->session.token_exp > (int64_t)time(NULL) + 3000);
    cardea_mem__free(token);
    cardea_mem__free(refresh);
}

static void
test_http__login_rejected_is_eauth(void **state)
{
    fixture *fx = *state;

    answer(fx, 401, "{\"error\":\"invalid login or password\"}");
    assert_int_equal(cardea_sdk__login(&fx->session, "alice", "wrong"),
                     CARDEA_EAUTH);
    assert_null(fx->session.token);
    assert_string_equal(cardea_session_errmsg(&fx->session),
                        "POST /rest/v2/auth/login failed: HTTP 401: "
                        "invalid login or password");
}

static void
test_http__refreshes_before_expiry(void **state)
{
    fixture *fx = *state;
    char *fresh = jwt_expiring_in(3600);
    char body[1024];

    /* 10 s left is inside the 30 s margin, so refresh comes first. */
    fx->session.token = jwt_expiring_in(10);
    fx->session.token_exp = (int64_t)time(NULL) + 10;
    fx->session.refresh_token = cardea_mem__strdup("refresh-1");
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"successful\":true}",
             fresh);
    answer(fx, 200, body);
    answer(fx, 200, "{}");
    assert_int_equal(cardea_sdk__request_json(NULL, &fx->session, "GET",
                                              "dataowner/current", NULL,
                                              NULL, 0),
                     CARDEA_OK);
    assert_int_equal(fx->fake.seen_count, 2);
    assert_string_equal(fx->fake.seen[0].url,
                        "http://127.0.0.1:9/rest/v2/auth/refresh");
    assert_non_null(strstr(fx->fake.seen[0].headers,
                           "Refresh-Token: refresh-1\n"));
    assert_null(strstr(fx->fake.seen[0].headers, "Authorization"));
    assert_non_null(strstr(fx->fake.seen[1].headers, fresh));
    assert_string_equal(fx->session.token, fresh);
    cardea_mem__free(fresh);
}

static void
test_http__no_refresh_far_from_expiry(void **state)
{
    fixture *fx = *state;

    fx->session.token = jwt_expiring_in(3600);
    fx->session.token_exp = (int64_t)time(NULL) + 3600;
    fx->session.refresh_token = cardea_mem__strdup("refresh-1");
    answer(fx, 200, "{}");
    assert_int_equal(cardea_sdk__request_json(NULL, &fx->session, "GET",
                                              "dataowner/current", NULL,
                                              NULL, 0),
                     CARDEA_OK);
    assert_int_equal(fx->fake.seen_count, 1);
}

static void
test_http__retries_once_after_401(void **state)
{
    fixture *fx = *state;
    char *fresh = jwt_expiring_in(3600);
    char body[1024];

    fx->session.token = jwt_expiring_in(3600);
    fx->session.token_exp = (int64_t)time(NULL) + 3600;
    fx->session.refresh_token = cardea_mem__strdup("refresh-1");
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", fresh);
    answer(fx, 401, "{\"error\":\"token expired\"}");
    answer(fx, 200, body);
    answer(fx, 401, "{\"error\":\"still expired\"}");
    assert_int_equal(cardea_sdk__request_json(NULL, &fx->session, "GET",
                                              "dataowner/current", NULL,
                                              NULL, 0),
                     CARDEA_EAUTH);
    /* One refresh and one retry, then the 401 is final. */
    assert_int_equal(fx->fake.seen_count, 3);
    assert_non_null(strstr(cardea_session_errmsg(&fx->session),
                           "HTTP 401: still expired"));
    cardea_mem__free(fresh);
}

static void
test_http__jwt_claims_both_alphabets(void **state)
{
    char *jwt = make_jwt("{\"u\":\"u~?>\",\"exp\":1700000000}");
    char *user = NULL;
    int64_t exp = 0;

    (void)state;
    /* "~?>" encodes with '-' or '_' in base64url. */
    assert_non_null(strpbrk(strchr(jwt, '.') + 1, "-_"));
    assert_int_equal(cardea_sdk__jwt_claims(&exp, &user, jwt), CARDEA_OK);
    assert_int_equal(exp, 1700000000);
    assert_string_equal(user, "u~?>");
    cardea_mem__free(user);
    cardea_mem__free(jwt);

    user = NULL;
    assert_int_equal(cardea_sdk__jwt_claims(&exp, &user,
                                            "a.eyJleHAiOjF9.c"), CARDEA_OK);
    assert_int_equal(exp, 1);
    assert_null(user);
}

static void
test_http__jwt_claims_rejects_malformed(void **state)
{
    static const char *const bad[] = {"", "abc", "a.b", "a.b.c.d",
                                      "a.!!!.c", "a.W10.c", "a..c"};
    char *user = (char *)"untouched";
    int64_t exp = 42;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cardea_sdk__jwt_claims(&exp, &user, bad[i]),
                         CARDEA_EFORMAT);
        assert_int_equal(exp, 42);
        assert_string_equal(user, "untouched");
    }
}

static void
test_http__response_body_capped(void **state)
{
    cardea_http_response resp;

    (void)state;
    memset(&resp, 0, sizeof resp);
    cardea_buf__init(&resp.body, 16);
    assert_int_equal(cardea_http_response_append_body(&resp, "0123456789",
                                                      10),
                     CARDEA_OK);
    assert_int_equal(cardea_http_response_append_body(&resp, "0123456789",
                                                      10),
                     CARDEA_ETOOBIG);
    assert_int_equal(resp.body.len, 10);
    assert_int_equal(cardea_http_response_append_body(&resp, "abc", 3),
                     CARDEA_OK);
    assert_int_equal(resp.body.len, 13);
    assert_int_equal(cardea_http_response_add_header(&resp, "X-A", "1"),
                     CARDEA_OK);
    assert_int_equal(cardea_http_response_add_header(&resp, NULL, "1"),
                     CARDEA_EINVAL);
    assert_int_equal(resp.header_count, 1);
    cardea_sdk__response_clear(&resp);
}

static void
test_http__escapes_segments(void **state)
{
    char *out = NULL;

    (void)state;
    assert_int_equal(cardea_sdk__escape_segment(&out, "a-b_c.d~e/f g?"),
                     CARDEA_OK);
    assert_string_equal(out, "a-b_c.d~e%2Ff%20g%3F");
    cardea_mem__free(out);
}

static void
test_http__curl_transport_options(void **state)
{
    cardea_transport_curl_options bad = CARDEA_TRANSPORT_CURL_OPTIONS_INIT;
    cardea_transport *sentinel = (cardea_transport *)&bad;
    cardea_transport *t = sentinel;

    (void)state;
    bad.timeout_ms = -1;
    assert_int_equal(cardea_transport_curl_new(&t, &bad), CARDEA_EINVAL);
    assert_ptr_equal(t, sentinel);
    bad.timeout_ms = 1000;
    bad.version = 99;
    assert_int_equal(cardea_transport_curl_new(&t, &bad), CARDEA_EINVAL);
    assert_ptr_equal(t, sentinel);
    assert_int_equal(cardea_transport_curl_new(&t, NULL), CARDEA_OK);
    assert_int_equal(t->version, CARDEA_TRANSPORT_VERSION);
    assert_non_null(t->send);
    cardea_transport_curl_free(t);
    cardea_transport_curl_free(NULL);
}

/* Stub edit for the conflict test: appends "k1" to the key list. */
static cardea_err
append_k1(json_t *stub, const void *arg)
{
    json_t *list = json_object_get(stub, "publicKeysForOaepWithSha256");

    (void)arg;
    if (list == NULL) {
        list = json_array();
        json_object_set_new(stub, "publicKeysForOaepWithSha256", list);
    }
    return cardea_json__append_new(list, json_string("k1"));
}

static void
test_http__put_stub_retries_conflict(void **state)
{
    fixture *fx = *state;
    cardea_sdk_owner owner = {(char *)"hcp-1", CARDEA_DATA_OWNER_HCP,
                              json_pack("{s:s,s:s}", "id", "hcp-1", "rev",
                                        "1-a")};

    fx->session.owners = &owner;
    fx->session.owner_count = 1;
    answer(fx, 409, "{\"error\":\"stale rev\"}");
    answer(fx, 200, "{\"type\":\"hcp\",\"stub\":{\"id\":\"hcp-1\","
                    "\"rev\":\"2-b\",\"publicKeysForOaepWithSha256\":"
                    "[\"k0\"]}}");
    answer(fx, 200, "{\"type\":\"hcp\",\"stub\":{\"id\":\"hcp-1\","
                    "\"rev\":\"3-c\"}}");
    assert_int_equal(cardea_sdk__put_stub(&fx->session, 0, append_k1, NULL),
                     CARDEA_OK);
    assert_int_equal(fx->fake.seen_count, 3);
    assert_string_equal(fx->fake.seen[0].body,
                        "{\"type\":\"hcp\",\"stub\":{\"id\":\"hcp-1\","
                        "\"rev\":\"1-a\",\"publicKeysForOaepWithSha256\":"
                        "[\"k1\"]}}");
    assert_string_equal(fx->fake.seen[1].method, "GET");
    assert_string_equal(fx->fake.seen[1].url,
                        "http://127.0.0.1:9/rest/v2/dataowner/stub/hcp-1");
    assert_string_equal(fx->fake.seen[2].body,
                        "{\"type\":\"hcp\",\"stub\":{\"id\":\"hcp-1\","
                        "\"rev\":\"2-b\",\"publicKeysForOaepWithSha256\":"
                        "[\"k0\",\"k1\"]}}");
    assert_string_equal(cardea_json__get_str(owner.stub, "rev"), "3-c");
    json_decref(owner.stub);
    fx->session.owners = NULL;
    fx->session.owner_count = 0;
}

static void
test_http__put_stub_second_conflict_fails(void **state)
{
    fixture *fx = *state;
    cardea_sdk_owner owner = {(char *)"hcp-1", CARDEA_DATA_OWNER_HCP,
                              json_pack("{s:s,s:s}", "id", "hcp-1", "rev",
                                        "1-a")};

    fx->session.owners = &owner;
    fx->session.owner_count = 1;
    answer(fx, 409, "{}");
    answer(fx, 200, "{\"type\":\"hcp\",\"stub\":{\"id\":\"hcp-1\","
                    "\"rev\":\"2-b\"}}");
    answer(fx, 409, "{\"error\":\"stale rev\"}");
    assert_int_equal(cardea_sdk__put_stub(&fx->session, 0, append_k1, NULL),
                     CARDEA_ECONFLICT);
    assert_int_equal(fx->fake.seen_count, 3);
    assert_string_equal(cardea_json__get_str(owner.stub, "rev"), "1-a");
    json_decref(owner.stub);
    fx->session.owners = NULL;
    fx->session.owner_count = 0;
}

/* A string shaped like SPKI hex: 600 hex digits ending in the exponent. */
static void
fake_spki(char out[601], char fill)
{
    memset(out, fill, 590);
    memcpy(out + 590, "0203010001", 11);
}

static void
test_http__stub_pubkeys_by_hash(void **state)
{
    char a[601];
    char b[601];
    char c[601];
    json_t *stub;
    cardea_sdk_pubkey *keys = NULL;
    size_t count = 0;

    (void)state;
    fake_spki(a, 'a');
    fake_spki(b, 'B');
    fake_spki(c, 'c');
    stub = json_pack("{s:[s,s,s],s:s,s:{s:{},s:{}}}",
                     "publicKeysForOaepWithSha256", a, a, "short", "publicKey",
                     b, "aesExchangeKeys", c, "x-placeholder");
    assert_int_equal(cardea_sdk__stub_pubkeys(&keys, &count, stub),
                     CARDEA_OK);
    assert_int_equal(count, 3);
    assert_string_equal(keys[0].spki_hex, a);
    assert_int_equal(keys[0].oaep, CARDEA_RSA_OAEP_SHA256);
    /* Uppercase input comes out lowercase. */
    assert_int_equal(keys[1].spki_hex[0], 'b');
    assert_int_equal(keys[1].oaep, CARDEA_RSA_OAEP_SHA1);
    assert_string_equal(keys[2].spki_hex, c);
    assert_int_equal(keys[2].oaep, CARDEA_RSA_OAEP_SHA1);
    assert_string_equal(keys[2].fp_v1, "cccccccccccccccccccccc0203010001");
    cardea_sdk__pubkeys_free(keys, count);
    json_decref(stub);
}

static void
test_http__stub_pubkeys_ambiguous(void **state)
{
    char a[601];
    json_t *stub;
    cardea_sdk_pubkey *sentinel = (cardea_sdk_pubkey *)&stub;
    cardea_sdk_pubkey *keys = sentinel;
    size_t count = 9;

    (void)state;
    fake_spki(a, 'a');
    stub = json_pack("{s:[s],s:s}", "publicKeysForOaepWithSha256", a,
                     "publicKey", a);
    assert_int_equal(cardea_sdk__stub_pubkeys(&keys, &count, stub),
                     CARDEA_EFORMAT);
    assert_ptr_equal(keys, sentinel);
    assert_int_equal(count, 9);
    json_decref(stub);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http__sends_url_and_headers,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_http__maps_status_with_message,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_http__reports_transport_failure,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_http__rejects_non_json_answer,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_http__login_stores_tokens,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_http__login_rejected_is_eauth,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_http__refreshes_before_expiry,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_http__no_refresh_far_from_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http__retries_once_after_401,
                                        setup, teardown),
        cmocka_unit_test(test_http__jwt_claims_both_alphabets),
        cmocka_unit_test(test_http__jwt_claims_rejects_malformed),
        cmocka_unit_test(test_http__response_body_capped),
        cmocka_unit_test(test_http__escapes_segments),
        cmocka_unit_test(test_http__curl_transport_options),
        cmocka_unit_test_setup_teardown(test_http__put_stub_retries_conflict,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_http__put_stub_second_conflict_fails, setup, teardown),
        cmocka_unit_test(test_http__stub_pubkeys_by_hash),
        cmocka_unit_test(test_http__stub_pubkeys_ambiguous),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
