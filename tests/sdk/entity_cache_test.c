/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exchange-data cache and access-control headers of the entity layer,
 * without a server: a session structure is filled in by hand and its
 * transport serves exchange data made by the format layer for one RSA
 * key. Covers the header chunking per entity type, paging of an
 * anonymous user's full load, LRU eviction and lookups by id and sdKey,
 * the lazy decryption of each secret (one RSA private-key operation to
 * read through an exchange data) and the reset on reload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sdk/exchange.h"

#define SELF_ID "self-owner"
#define OTHER_ID "other-owner"
#define FAKE_MAX 1100
#define PAGE_ROWS 300

/* ---- a fake server ------------------------------------------------------ */

typedef struct fake {
    json_t *items[FAKE_MAX];           /* exchange data served */
    cardea_exchange_content *contents[FAKE_MAX];
    size_t count;
    size_t requests;
    size_t get_by_id;
    size_t ac_header_lines;            /* in the last request */
    char last_url[512];
} fake;

static fake server;
static cardea_rsa_key *rsa;
static char *spki_hex;

static void
respond_json(cardea_http_response *resp, json_t *value)
{
    char *text = cardea_json__dump(value);

    assert_non_null(text);
    cardea_http_response_set_status(resp, 200);
    assert_int_equal(cardea_http_response_append_body(resp, text,
                                                      strlen(text)),
                     CARDEA_OK);
    cardea_free(text);
}

/* byParticipant pages of PAGE_ROWS rows, whatever the limit asked. */
static void
serve_page(cardea_http_response *resp, const char *url)
{
    const char *start = strstr(url, "startDocumentId=");
    size_t first = 0;
    json_t *page = json_pack("{s:[]}", "rows");

    if (start != NULL) {
        start += strlen("startDocumentId=");
        while (first < server.count
               && strcmp(cardea_json__get_str(server.items[first], "id"),
                         start) != 0) {
            first++;
        }
    }
    for (size_t i = first; i < server.count && i < first + PAGE_ROWS; i++) {
        json_array_append(json_object_get(page, "rows"), server.items[i]);
    }
    if (first + PAGE_ROWS < server.count) {
        json_object_set_new(
            page, "nextKeyPair",
            json_pack("{s:s, s:O}", "startKey", SELF_ID, "startKeyDocId",
                      json_object_get(server.items[first + PAGE_ROWS],
                                      "id")));
    }
    respond_json(resp, page);
    json_decref(page);
}

static cardea_err
fake_send(void *user, const cardea_http_request *req,
          cardea_http_response *resp)
{
    const char *path = strstr(req->url, "/rest/v2/") + strlen("/rest/v2/");

    (void)user;
    server.requests++;
    snprintf(server.last_url, sizeof server.last_url, "%s", req->url);
    server.ac_header_lines = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        if (strcmp(req->headers[i].name, CARDEA_SDK_AC_HEADER) == 0) {
            server.ac_header_lines++;
        }
    }
    if (strncmp(path, "exchangedata/byParticipant/", 27) == 0) {
        serve_page(resp, req->url);
        return CARDEA_OK;
    }
    if (strncmp(path, "exchangedata/", 13) == 0) {
        server.get_by_id++;
        for (size_t i = 0; i < server.count; i++) {
            if (strcmp(cardea_json__get_str(server.items[i], "id"),
                       path + 13) == 0) {
                respond_json(resp, server.items[i]);
                return CARDEA_OK;
            }
        }
    }
    if (strncmp(path, "patient/match", 13) == 0) {
        json_t *ids = json_pack("[s]", "p1");

        respond_json(resp, ids);
        json_decref(ids);
        return CARDEA_OK;
    }
    cardea_http_response_set_status(resp, 404);
    return CARDEA_OK;
}

/* Adds `n` exchange data between self and other, encrypted for `rsa`. */
static void
fake_fill(size_t n)
{
    cardea_owner_key key = {rsa, CARDEA_RSA_OAEP_SHA256, spki_hex};

    for (size_t i = 0; i < n; i++) {
        char id[32];

        assert_true(server.count < FAKE_MAX);
        snprintf(id, sizeof id, "xd-%05zu", server.count);
        assert_int_equal(cardea_exchange_data__content_generate(
                             &server.contents[server.count]),
                         CARDEA_OK);
        assert_int_equal(cardea_exchange_data__create(
                             &server.items[server.count], id,
                             i % 2 == 0 ? SELF_ID : OTHER_ID,
                             i % 2 == 0 ? OTHER_ID : SELF_ID,
                             server.contents[server.count], &key, 1, &key,
                             1),
                         CARDEA_OK);
        server.count++;
    }
}

static void
fake_clear(void)
{
    for (size_t i = 0; i < server.count; i++) {
        json_decref(server.items[i]);
        cardea_exchange_data__content_free(server.contents[i]);
    }
    memset(&server, 0, sizeof server);
}

/* ---- a session filled in by hand -------------------------------------- */

static cardea_session *
session_new(bool anonymous)
{
    cardea_session *s = cardea_mem__calloc(1, sizeof *s);

    assert_non_null(s);
    s->base_url = cardea_mem__strdup("http://127.0.0.1:9");
    s->transport.version = CARDEA_TRANSPORT_VERSION;
    s->transport.send = fake_send;
    s->token = cardea_mem__strdup("token");
    s->self_anonymous = anonymous;
    s->data_owner_type =
        anonymous ? CARDEA_DATA_OWNER_PATIENT : CARDEA_DATA_OWNER_HCP;
    s->owners = cardea_mem__calloc(1, sizeof *s->owners);
    s->owner_count = 1;
    s->owners[0].id = cardea_mem__strdup(SELF_ID);
    s->owners[0].type = s->data_owner_type;
    s->owners[0].stub = json_object();
    s->keys = cardea_mem__calloc(1, sizeof *s->keys);
    s->key_count = 1;
    s->keys[0].owner = 0;
    s->keys[0].key = cardea_rsa__ref(rsa);
    s->keys[0].spki_hex = cardea_mem__strdup(spki_hex);
    s->keys[0].oaep = CARDEA_RSA_OAEP_SHA256;
    s->keys[0].device = true;
    assert_int_equal(cardea_fp__v1(s->keys[0].fp_v1, spki_hex,
                                   strlen(spki_hex)),
                     CARDEA_OK);
    assert_int_equal(cardea_fp__v2(s->keys[0].fp_v2, spki_hex,
                                   strlen(spki_hex)),
                     CARDEA_OK);
    return s;
}

static void
session_free(cardea_session *s)
{
    if (s->ext_free != NULL) {
        s->ext_free(s);
    }
    cardea_rsa__free(s->keys[0].key);
    cardea_free(s->keys[0].spki_hex);
    cardea_free(s->keys);
    cardea_free(s->owners[0].id);
    json_decref(s->owners[0].stub);
    cardea_free(s->owners);
    cardea_free(s->token);
    cardea_free(s->base_url);
    cardea_free(s);
}

/* ---- tests -------------------------------------------------------------- */

static int
group_setup(void **state)
{
    (void)state;
    if (cardea_rsa__generate(&rsa, 2048) != CARDEA_OK
        || cardea_rsa__spki_hex(&spki_hex, rsa) != CARDEA_OK) {
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    cardea_rsa__free(rsa);
    cardea_free(spki_hex);
    return 0;
}

static int
test_teardown(void **state)
{
    (void)state;
    fake_clear();
    return 0;
}

/* Checks that `values` carry exactly the acKeys of `type` of every
 * served exchange data, in order. */
static void
assert_header_keys(char **values, size_t value_count, const char *type)
{
    size_t next = 0;

    for (size_t v = 0; v < value_count; v++) {
        uint8_t *keys = NULL;
        size_t count = 0;

        assert_int_equal(cardea_ackey__decode_header(&keys, &count, values[v],
                                                     strlen(values[v])),
                         CARDEA_OK);
        assert_true(count <= CARDEA_AC_KEYS_PER_HEADER);
        for (size_t k = 0; k < count; k++, next++) {
            uint8_t expected[CARDEA_AC_KEY_LEN];

            assert_int_equal(cardea_ackey__derive(
                                 expected,
                                 server.contents[next]->access_control_secret,
                                 type),
                             CARDEA_OK);
            assert_memory_equal(keys + k * CARDEA_AC_KEY_LEN, expected,
                                CARDEA_AC_KEY_LEN);
        }
        cardea_mem__free_secret(keys, count * CARDEA_AC_KEY_LEN);
    }
    assert_int_equal(next, server.count);
}

static void
test_entity__anonymous_headers_chunked_per_type(void **state)
{
    cardea_session *s = session_new(true);
    cardea_http_header *headers = NULL;
    size_t count = 0;
    cardea_sdk_xstate *xs;
    int patient = cardea_sdk__kind(CARDEA_ENTITY_PATIENT);
    int element = cardea_sdk__kind(CARDEA_ENTITY_HEALTH_ELEMENT);

    (void)state;
    fake_fill(2 * CARDEA_AC_KEYS_PER_HEADER + 1);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    xs = s->ext;
    assert_true(xs->loaded);
    assert_int_equal(xs->count, server.count);
    /* 721 rows in pages of 300 take three requests. */
    assert_int_equal(server.requests, 3);

    assert_int_equal(cardea_sdk__ac_headers(&headers, &count, s, patient),
                     CARDEA_OK);
    assert_int_equal(count, 3);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(headers[i].name, "Icure-Access-Control-Keys");
    }
    assert_int_equal(strlen(headers[0].value), 7680);
    assert_header_keys(xs->header_values[patient],
                       xs->header_counts[patient], "Patient");
    cardea_free(headers);

    assert_int_equal(cardea_sdk__ac_headers(&headers, &count, s, element),
                     CARDEA_OK);
    assert_int_equal(count, 3);
    assert_header_keys(xs->header_values[element],
                       xs->header_counts[element], "HealthElement");
    assert_string_not_equal(xs->header_values[element][0],
                            xs->header_values[patient][0]);
    cardea_free(headers);
    session_free(s);
}

static void
test_entity__request_repeats_header_lines(void **state)
{
    cardea_session *s = session_new(true);
    json_t *filter = json_object();
    json_t *answer = NULL;

    (void)state;
    fake_fill(CARDEA_AC_KEYS_PER_HEADER + 5);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    assert_int_equal(cardea_sdk__entity_request(
                         &answer, s, cardea_sdk__kind(CARDEA_ENTITY_PATIENT),
                         "POST", "patient/match", filter),
                     CARDEA_OK);
    assert_int_equal(server.ac_header_lines, 2);
    json_decref(answer);
    json_decref(filter);
    session_free(s);
}

static void
test_entity__explicit_sends_no_header(void **state)
{
    cardea_session *s = session_new(false);
    json_t *filter = json_object();
    json_t *answer = NULL;
    const cardea_sdk_xd *xd = NULL;

    (void)state;
    fake_fill(3);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    /* Nothing is loaded at the start for an explicit user. */
    assert_int_equal(server.requests, 0);
    assert_int_equal(cardea_sdk__xd_by_id(&xd, s, "xd-00001"), CARDEA_OK);
    assert_int_equal(cardea_sdk__entity_request(
                         &answer, s, cardea_sdk__kind(CARDEA_ENTITY_PATIENT),
                         "POST", "patient/match", filter),
                     CARDEA_OK);
    assert_int_equal(server.ac_header_lines, 0);
    json_decref(answer);
    json_decref(filter);
    session_free(s);
}

/* sdKey of `kind` of the served exchange data `index`. */
static void
served_sdkey(char out[CARDEA_SD_KEY_HEX_LEN + 1], size_t index, int kind)
{
    uint8_t ackey[CARDEA_AC_KEY_LEN];

    assert_int_equal(cardea_ackey__derive(
                         ackey,
                         server.contents[index]->access_control_secret,
                         cardea_sdk__kind_name(kind)),
                     CARDEA_OK);
    cardea_sdkey__from_ackey(out, ackey);
}

static void
test_entity__exchange_data_decrypted_once(void **state)
{
    cardea_session *s = session_new(false);
    const cardea_sdk_xd *first = NULL;
    const cardea_sdk_xd *again = NULL;
    char sdkey[CARDEA_SD_KEY_HEX_LEN + 1];
    uint64_t before;
    int kind = cardea_sdk__kind(CARDEA_ENTITY_CONTACT);

    (void)state;
    fake_fill(2);
    served_sdkey(sdkey, 0, kind);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    before = cardea_rsa__private_op_count();
    assert_int_equal(cardea_sdk__xd_by_id(&first, s, "xd-00000"), CARDEA_OK);
    /* Reading through it needs the exchange key alone. */
    assert_int_equal(cardea_rsa__private_op_count() - before, 1);
    assert_int_equal(first->decrypted, CARDEA_SDK_XD_EXCHANGE_KEY);
    assert_false(first->checked);
    assert_memory_equal(first->content->exchange_key,
                        server.contents[0]->exchange_key,
                        CARDEA_EXCHANGE_KEY_LEN);

    for (int i = 0; i < 100; i++) {
        assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
        assert_int_equal(cardea_sdk__xd_by_id(&again, s, "xd-00000"),
                         CARDEA_OK);
        assert_ptr_equal(again, first);
        /* Without its access-control secret, no sdKey matches it. */
        assert_null(cardea_sdk__xd_by_sdkey(s, kind, sdkey));
    }
    assert_int_equal(cardea_rsa__private_op_count() - before, 1);
    assert_int_equal(server.get_by_id, 1);

    assert_int_equal(cardea_sdk__xd_need_ackeys(s, first), CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count() - before, 2);
    assert_string_equal(first->sdkeys[kind], sdkey);
    for (int i = 0; i < 100; i++) {
        assert_ptr_equal(cardea_sdk__xd_by_sdkey(s, kind, sdkey), first);
    }
    assert_int_equal(cardea_sdk__xd_need_ackeys(s, first), CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count() - before, 2);
    assert_int_equal(first->decrypted,
                     CARDEA_SDK_XD_EXCHANGE_KEY | CARDEA_SDK_XD_AC_SECRET);
    session_free(s);
}

/*
 * An anonymous user's load decrypts one secret per exchange data, for its
 * acKeys; the exchange key follows only when an entity is read through it.
 */
static void
test_entity__anonymous_load_decrypts_ac_secret_only(void **state)
{
    cardea_session *s = session_new(true);
    cardea_sdk_xstate *xs;
    const cardea_sdk_xd *xd;
    char sdkey[CARDEA_SD_KEY_HEX_LEN + 1];
    uint64_t before = cardea_rsa__private_op_count();
    int kind = cardea_sdk__kind(CARDEA_ENTITY_HEALTH_ELEMENT);

    (void)state;
    fake_fill(4);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count() - before, 4);
    xs = s->ext;
    assert_int_equal(xs->count, 4);
    for (size_t i = 0; i < xs->count; i++) {
        assert_int_equal(xs->items[i]->decrypted, CARDEA_SDK_XD_AC_SECRET);
        assert_int_equal(xs->items[i]->content->exchange_key_len, 0);
    }

    served_sdkey(sdkey, 2, kind);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
        xd = cardea_sdk__xd_by_sdkey(s, kind, sdkey);
        assert_non_null(xd);
        assert_string_equal(xd->id, "xd-00002");
    }
    assert_int_equal(cardea_rsa__private_op_count() - before, 5);
    assert_memory_equal(xd->content->exchange_key,
                        server.contents[2]->exchange_key,
                        CARDEA_EXCHANGE_KEY_LEN);
    assert_false(xd->checked);
    assert_int_equal(xd->content->shared_signature_key_len, 0);
    session_free(s);
}

/*
 * Exchange data the user is about to encrypt with is decrypted fully and
 * verified first, once; its delegate's data is never verified.
 */
static void
test_entity__verifies_only_before_encrypting(void **state)
{
    cardea_session *s = session_new(false);
    cardea_sdk_party other = {OTHER_ID, CARDEA_DATA_OWNER_HCP, false, -1,
                              NULL};
    const cardea_sdk_xd *read = NULL;
    const cardea_sdk_xd *to = NULL;
    uint64_t before;

    (void)state;
    fake_fill(1);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    before = cardea_rsa__private_op_count();
    assert_int_equal(cardea_sdk__xd_by_id(&read, s, "xd-00000"), CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count() - before, 1);

    assert_int_equal(cardea_sdk__xd_to(&to, s, &other), CARDEA_OK);
    assert_ptr_equal(to, read);
    /* The access-control secret and the shared-signature key. */
    assert_int_equal(cardea_rsa__private_op_count() - before, 3);
    assert_true(to->checked);
    assert_true(to->verified);
    assert_int_equal(to->decrypted, CARDEA_SDK_XD_ALL);
    assert_memory_equal(to->content->shared_signature_key,
                        server.contents[0]->shared_signature_key,
                        CARDEA_SHARED_SIG_KEY_LEN);

    assert_int_equal(cardea_sdk__xd_to(&to, s, &other), CARDEA_OK);
    assert_ptr_equal(to, read);
    assert_int_equal(cardea_rsa__private_op_count() - before, 3);
    assert_int_equal(server.get_by_id, 1);
    session_free(s);
}

static void
test_entity__delegate_data_not_verified(void **state)
{
    cardea_session *s = session_new(false);
    const cardea_sdk_xd *xd = NULL;

    (void)state;
    fake_fill(2);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    /* xd-00001 goes from the other owner to us: usable, never verified. */
    assert_int_equal(cardea_sdk__xd_by_id(&xd, s, "xd-00001"), CARDEA_OK);
    assert_false(xd->verified);
    assert_int_equal(xd->decrypted & CARDEA_SDK_XD_SIGNATURE_KEY, 0);
    assert_string_equal(xd->delegator, OTHER_ID);
    session_free(s);
}

static void
test_entity__unknown_exchange_data_not_found(void **state)
{
    cardea_session *s = session_new(false);
    const cardea_sdk_xd *xd = NULL;

    (void)state;
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    assert_int_equal(cardea_sdk__xd_by_id(&xd, s, "missing"),
                     CARDEA_ENOTFOUND);
    assert_null(xd);
    assert_null(cardea_sdk__xd_by_sdkey(s, 0, "00"));
    session_free(s);
}

static void
test_entity__lru_evicts_least_recent(void **state)
{
    cardea_session *s = session_new(false);
    cardea_sdk_xstate *xs;
    const cardea_sdk_xd *xd = NULL;
    char id[32];
    size_t gets;

    (void)state;
    fake_fill(CARDEA_SDK_XD_LRU_MAX + 1);
    for (size_t i = 0; i < CARDEA_SDK_XD_LRU_MAX; i++) {
        snprintf(id, sizeof id, "xd-%05zu", i);
        assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
        assert_int_equal(cardea_sdk__xd_by_id(&xd, s, id), CARDEA_OK);
    }
    xs = s->ext;
    assert_int_equal(xs->count, CARDEA_SDK_XD_LRU_MAX);
    /* Touch xd-00000 so that xd-00001 becomes the least recent. */
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    assert_int_equal(cardea_sdk__xd_by_id(&xd, s, "xd-00000"), CARDEA_OK);
    snprintf(id, sizeof id, "xd-%05d", CARDEA_SDK_XD_LRU_MAX);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    assert_int_equal(cardea_sdk__xd_by_id(&xd, s, id), CARDEA_OK);
    assert_int_equal(xs->count, CARDEA_SDK_XD_LRU_MAX);

    gets = server.get_by_id;
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    assert_int_equal(cardea_sdk__xd_by_id(&xd, s, "xd-00000"), CARDEA_OK);
    assert_int_equal(server.get_by_id, gets);
    assert_int_equal(cardea_sdk__xd_by_id(&xd, s, "xd-00001"), CARDEA_OK);
    assert_int_equal(server.get_by_id, gets + 1);
    session_free(s);
}

static void
test_entity__lru_keeps_entries_of_current_call(void **state)
{
    cardea_session *s = session_new(false);
    cardea_sdk_xstate *xs;
    const cardea_sdk_xd *xd = NULL;
    char id[32];

    (void)state;
    fake_fill(CARDEA_SDK_XD_LRU_MAX + 2);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    for (size_t i = 0; i < CARDEA_SDK_XD_LRU_MAX + 2; i++) {
        snprintf(id, sizeof id, "xd-%05zu", i);
        assert_int_equal(cardea_sdk__xd_by_id(&xd, s, id), CARDEA_OK);
    }
    /* One call used them all, so none was evicted during it. */
    xs = s->ext;
    assert_int_equal(xs->count, CARDEA_SDK_XD_LRU_MAX + 2);
    session_free(s);
}

static void
test_entity__reset_drops_cache_and_reloads(void **state)
{
    cardea_session *s = session_new(true);
    cardea_sdk_xstate *xs;

    (void)state;
    fake_fill(4);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    xs = s->ext;
    assert_int_equal(xs->count, 4);
    fake_fill(2);
    /* Data added after the load stays invisible... */
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    assert_int_equal(xs->count, 4);
    /* ...until force_reload runs the reset hook. */
    s->ext_reset(s);
    assert_int_equal(xs->count, 0);
    assert_false(xs->loaded);
    assert_int_equal(cardea_sdk__xd_begin(s), CARDEA_OK);
    assert_int_equal(xs->count, 6);
    session_free(s);
}

static void
test_entity__kind_table(void **state)
{
    (void)state;
    assert_int_equal(cardea_sdk__kind(0), -1);
    assert_int_equal(cardea_sdk__kind((cardea_entity_type)6), -1);
    assert_string_equal(cardea_sdk__kind_name(
                            cardea_sdk__kind(CARDEA_ENTITY_HEALTH_ELEMENT)),
                        "HealthElement");
    assert_string_equal(cardea_sdk__kind_path(
                            cardea_sdk__kind(CARDEA_ENTITY_HEALTH_ELEMENT)),
                        "helement");
    assert_string_equal(cardea_sdk__kind_path(cardea_sdk__kind(
                            CARDEA_ENTITY_MAINTENANCE_TASK)),
                        "maintenancetask");
    for (int k = 0; k < CARDEA_SDK_KINDS; k++) {
        assert_true(cardea_entity_type__is_known(cardea_sdk__kind_name(k)));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            test_entity__anonymous_headers_chunked_per_type, test_teardown),
        cmocka_unit_test_teardown(test_entity__request_repeats_header_lines,
                                  test_teardown),
        cmocka_unit_test_teardown(test_entity__explicit_sends_no_header,
                                  test_teardown),
        cmocka_unit_test_teardown(test_entity__exchange_data_decrypted_once,
                                  test_teardown),
        cmocka_unit_test_teardown(
            test_entity__anonymous_load_decrypts_ac_secret_only,
            test_teardown),
        cmocka_unit_test_teardown(
            test_entity__verifies_only_before_encrypting, test_teardown),
        cmocka_unit_test_teardown(test_entity__delegate_data_not_verified,
                                  test_teardown),
        cmocka_unit_test_teardown(
            test_entity__unknown_exchange_data_not_found, test_teardown),
        cmocka_unit_test_teardown(test_entity__lru_evicts_least_recent,
                                  test_teardown),
        cmocka_unit_test_teardown(
            test_entity__lru_keeps_entries_of_current_call, test_teardown),
        cmocka_unit_test_teardown(test_entity__reset_drops_cache_and_reloads,
                                  test_teardown),
        cmocka_unit_test(test_entity__kind_table),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
