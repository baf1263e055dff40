/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoint tests of the encryptable entities: create, modify, read,
 * byIds, match, bulk share with its exchange-data-map side effect,
 * delete, undelete and purge, Document attachments, secure-delegation key
 * maps, and the merge of a Patient with the patient data owner of the
 * same id. The fixture starts the server in this process on 127.0.0.1
 * (port 0) with a temporary database holding HCP hcp-0, its child hcp-1,
 * HCP hcp-2 and the patient user patient-1, and an attachment limit of
 * ATTACHMENT_MAX bytes. Entities carry made-up ciphertexts: the server
 * never decrypts them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/keys.h"
#include "server/server_internal.h"
#include "server_fixture.h"
#include "store/store.h"

#define FP "0123456789abcdef012345"
#define ATTACHMENT_MAX 4096
#define KEY_HEADER "Icure-Access-Control-Keys: "
#define HE_FILTER_HCP1                                                    \
    "{\"$type\":\"HealthElementByHcPartyFilter\",\"hcpId\":\"hcp-1\"}"

typedef fixture_reply reply;

static struct {
    char dir[64];
    char db_path[128];
    cardea_server *server;
    uint16_t port;
    char *hcp0;
    char *hcp1;
    char *hcp2;
    char *patient;
} env;

/* A random access-control key, its sdKey and its request header line. */
typedef struct ackey {
    uint8_t raw[CARDEA_AC_KEY_LEN];
    char hex[2 * CARDEA_AC_KEY_LEN + 1];
    char sdkey[CARDEA_SD_KEY_HEX_LEN + 1];
    char header[80];
} ackey;

/* ---- helpers ------------------------------------------------------------- */

static void
ackey_new(ackey *key)
{
    char b64[32];

    cardea_random__bytes(key->raw, sizeof key->raw);
    assert_int_equal(cardea_hex__encode(key->hex, sizeof key->hex, key->raw,
                                        sizeof key->raw),
                     CARDEA_OK);
    cardea_sdkey__from_ackey(key->sdkey, key->raw);
    assert_int_equal(cardea_base64__encode(b64, sizeof b64, key->raw,
                                           sizeof key->raw),
                     CARDEA_OK);
    snprintf(key->header, sizeof key->header, "%s%s", KEY_HEADER, b64);
}

static reply
call(const char *method, const char *path, const char *token,
     const char *body)
{
    return fixture_call(env.port, method, path, token, body);
}

/* Sends a request with one access-control-key header line (or none). */
static reply
call_keys(const char *method, const char *path, const char *token,
          const char *body, const char *header)
{
    const char *headers[] = {header, NULL};

    return fixture_request(env.port, method, path, token, NULL, body,
                           body != NULL ? strlen(body) : 0,
                           header != NULL ? headers : NULL);
}

static const char *
str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/*
 * Builds an entity with one root WRITE delegation under `key`, with the
 * explicit sides given (NULL for anonymous), merged with the members of
 * the JSON object `extra` (may be NULL). Free with free().
 */
static char *
entity_json(const char *id, const char *key, const char *delegator,
            const char *delegate, const char *extra)
{
    json_t *delegation = json_pack("{s:s, s:[s], s:[], s:[], s:[]}",
                                   "permissions", "WRITE", "secretIds",
                                   "secret-1", "encryptionKeys",
                                   "owningEntityIds", "parentDelegations");
    json_t *doc;
    char *text;

    assert_non_null(delegation);
    if (delegator != NULL) {
        json_object_set_new(delegation, "delegator", json_string(delegator));
    }
    if (delegate != NULL) {
        json_object_set_new(delegation, "delegate", json_string(delegate));
    }
    if (delegator != NULL && delegate != NULL) {
        json_object_set_new(delegation, "exchangeDataId",
                            json_string("ed-self"));
    }
    doc = json_pack("{s:s, s:s, s:{s:{s:o}}}", "id", id, "encryptedSelf",
                    "c2VjcmV0", "securityMetadata", "secureDelegations", key,
                    delegation);
    assert_non_null(doc);
    if (extra != NULL) {
        json_t *more = json_loads(extra, 0, NULL);

        assert_non_null(more);
        json_object_update(doc, more);
        json_decref(more);
    }
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_non_null(text);
    return text;
}

/* Creates an entity under `path` and returns the stored revision. */
static char *
create(const char *path, const char *token, const char *header,
       const char *id, const char *key, const char *delegator,
       const char *delegate, const char *extra)
{
    char *body = entity_json(id, key, delegator, delegate, extra);
    reply r = call_keys("POST", path, token, body, header);
    char *rev;

    assert_int_equal(r.status, 200);
    assert_string_equal(str_of(r.json, "id"), id);
    rev = strdup(str_of(r.json, "rev"));
    fixture_reply_free(&r);
    free(body);
    return rev;
}

/* Creates an HCP-1 entity with a fresh root key written to `root`. */
static char *
create_hcp1(const char *path, const char *id, char root[65],
            const char *extra)
{
    ackey key;

    ackey_new(&key);
    memcpy(root, key.sdkey, 65);
    return create(path, env.hcp1, NULL, id, key.sdkey, "hcp-1", "hcp-1",
                  extra);
}

static void
new_id(char id[CARDEA_UUID_STR_LEN + 1])
{
    cardea_uuid__v4(id);
}

static long
status_of(const char *method, const char *path, const char *token,
          const char *body)
{
    reply r = call(method, path, token, body);
    long status = r.status;

    fixture_reply_free(&r);
    return status;
}

/* GET <path>/<id> as `token`, returning the status. */
static long
get_status(const char *path, const char *id, const char *token,
           const char *header)
{
    char url[160];
    reply r;
    long status;

    snprintf(url, sizeof url, "%s/%s?ts=1", path, id);
    r = call_keys("GET", url, token, NULL, header);
    status = r.status;
    if (status != 200) {
        assert_true(r.body == NULL || strstr(r.body, "encryptedSelf") == NULL);
    }
    fixture_reply_free(&r);
    return status;
}

static json_t *
get_json(const char *path, const char *id, const char *token)
{
    char url[160];
    reply r;
    json_t *doc;

    snprintf(url, sizeof url, "%s/%s", path, id);
    r = call("GET", url, token, NULL);
    assert_int_equal(r.status, 200);
    doc = json_incref(r.json);
    fixture_reply_free(&r);
    return doc;
}

/* Sends a bulk share of one request `share` (a JSON object text). */
static reply
share(const char *path, const char *token, const char *header,
      const char *id, const char *share_text, const char *parent)
{
    char url[96];
    char *body;
    json_t *request = json_pack("{s:{s:{s:{s:{s:o}}, s:[s]}}}",
                                "requestsByEntityId", id, "requests", "r1",
                                "share", json_loads(share_text, 0, NULL),
                                "potentialParentDelegations", parent);
    reply r;

    assert_non_null(request);
    body = json_dumps(request, JSON_COMPACT);
    snprintf(url, sizeof url, "%s/bulkSharedMetadataUpdate", path);
    r = call_keys("PUT", url, token, body, header);
    free(body);
    json_decref(request);
    return r;
}

/* The rejectedRequests object of the only result of a bulk share. */
static const json_t *
rejected_of(const reply *r)
{
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(r->json), 1);
    return json_object_get(json_array_get(r->json, 0), "rejectedRequests");
}

static bool
array_has(const json_t *array, const char *s)
{
    for (size_t i = 0; i < json_array_size(array); i++) {
        if (strcmp(json_string_value(json_array_get(array, i)), s) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- fixture ------------------------------------------------------------- */

static int
setup(void **state)
{
    cardea_server_options options = CARDEA_SERVER_OPTIONS_INIT;
    cardea_store *store = NULL;
    cardea_db *db = NULL;

    (void)state;
    snprintf(env.dir, sizeof env.dir, "/tmp/cardea-ent-XXXXXX");
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

    options.port = 0;
    options.db_path = env.db_path;
    options.threads = 4;
    options.max_attachment = ATTACHMENT_MAX;
    options.shutdown_wait_s = 5;
    assert_int_equal(cardea_server_new(&env.server, &options), CARDEA_OK);
    assert_int_equal(cardea_server_start(env.server), CARDEA_OK);
    env.port = cardea_server_port(env.server);
    env.hcp0 = fixture_login(env.port, "root@example.org", FIXTURE_PASSWORD);
    env.hcp1 = fixture_login(env.port, "doc@example.org", FIXTURE_PASSWORD);
    env.hcp2 = fixture_login(env.port, "bob@example.org", FIXTURE_PASSWORD);
    env.patient = fixture_login(env.port, "pat@example.org",
                                FIXTURE_PASSWORD);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    cardea_server_free(env.server);
    free(env.hcp0);
    free(env.hcp1);
    free(env.hcp2);
    free(env.patient);
    fixture_remove_db_files(env.db_path);
    rmdir(env.dir);
    return 0;
}

/* ---- create and read ----------------------------------------------------- */

static void
test_entity__create_and_get(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char *rev;
    char *again;
    ackey key;
    reply r;

    (void)state;
    new_id(id);
    rev = create_hcp1("helement", id, root, "{\"descr\":\"clear\"}");
    assert_true(strncmp(rev, "1-", 2) == 0);

    assert_int_equal(get_status("helement", id, env.hcp1, NULL), 200);
    assert_int_equal(get_status("helement", id, env.hcp2, NULL), 404);
    /* Rights go down the hierarchy: hcp-0 is hcp-1's parent. */
    assert_int_equal(get_status("helement", id, env.hcp0, NULL), 404);
    assert_int_equal(get_status("helement", id, env.patient, NULL), 404);
    assert_int_equal(get_status("patient", id, env.hcp1, NULL), 404);
    assert_int_equal(get_status("helement", "no-such-id", env.hcp1, NULL),
                     404);

    again = entity_json(id, root, "hcp-1", "hcp-1", NULL);
    r = call("POST", "helement", env.hcp1, again);
    assert_int_equal(r.status, 409);
    fixture_reply_free(&r);
    free(again);
    free(rev);

    new_id(id);
    ackey_new(&key);
    rev = create("helement", env.hcp0, NULL, id, key.sdkey, "hcp-0",
                 "hcp-0", NULL);
    assert_int_equal(get_status("helement", id, env.hcp1, NULL), 200);
    assert_int_equal(get_status("helement", id, env.hcp2, NULL), 404);
    free(rev);
}

static void
test_entity__create_rejects_bad_input(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char *body;
    ackey key;
    reply r;

    (void)state;
    new_id(id);
    ackey_new(&key);
    assert_int_equal(status_of("POST", "helement", env.hcp1, "{"), 400);
    assert_int_equal(status_of("POST", "helement", env.hcp1, "[]"), 400);
    assert_int_equal(status_of("POST", "helement", env.hcp1, NULL), 400);

    body = entity_json(id, key.sdkey, "hcp-2", "hcp-2", NULL);
    assert_int_equal(status_of("POST", "helement", env.hcp1, body), 403);
    free(body);

    body = entity_json(id, key.sdkey, "hcp-1", "hcp-1",
                       "{\"securityMetadata\":null}");
    assert_int_equal(status_of("POST", "helement", env.hcp1, body), 400);
    free(body);

    body = entity_json(id, "not-a-key", "hcp-1", "hcp-1", NULL);
    assert_int_equal(status_of("POST", "helement", env.hcp1, body), 400);
    free(body);

    body = entity_json(id, key.sdkey, "hcp-1", "hcp-1", "{\"rev\":\"1-a\"}");
    assert_int_equal(status_of("POST", "helement", env.hcp1, body), 400);
    free(body);

    body = entity_json(id, key.sdkey, NULL, NULL, NULL);
    assert_int_equal(status_of("POST", "helement", env.hcp1, body), 403);
    r = call_keys("POST", "helement", env.hcp1, body,
                  KEY_HEADER "not base64!");
    assert_int_equal(r.status, 400);
    fixture_reply_free(&r);
    r = call_keys("POST", "helement", env.hcp1, body, KEY_HEADER "AAAA");
    assert_int_equal(r.status, 400);
    fixture_reply_free(&r);
    free(body);

    /* Nothing of the rejected requests was stored. */
    assert_int_equal(get_status("helement", id, env.hcp1, key.header), 404);
}

static void
test_entity__anonymous_access_by_key(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    ackey key, other;
    char match[] = "{\"$type\":\"HealthElementByHcPartyFilter\","
                   "\"hcpId\":\"patient-1\"}";
    char *rev;
    reply r;

    (void)state;
    new_id(id);
    ackey_new(&key);
    ackey_new(&other);
    rev = create("helement", env.patient, key.header, id, key.sdkey, NULL,
                 NULL, NULL);

    assert_int_equal(get_status("helement", id, env.patient, key.header),
                     200);
    assert_int_equal(get_status("helement", id, env.patient, NULL), 404);
    assert_int_equal(get_status("helement", id, env.patient, other.header),
                     404);
    assert_int_equal(get_status("helement", id, env.hcp2, key.header), 200);

    r = call_keys("POST", "helement/match", env.patient, match, key.header);
    assert_int_equal(r.status, 200);
    assert_true(array_has(r.json, id));
    fixture_reply_free(&r);
    r = call_keys("POST", "helement/match", env.patient, match, NULL);
    assert_int_equal(r.status, 200);
    assert_false(array_has(r.json, id));
    fixture_reply_free(&r);
    free(rev);
}

/* ---- modify -------------------------------------------------------------- */

static void
test_entity__modify_rules(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char *rev = NULL;
    json_t *doc;
    char *text;
    reply r;

    (void)state;
    new_id(id);
    free(create_hcp1("helement", id, root, NULL));
    doc = get_json("helement", id, env.hcp1);
    rev = strdup(str_of(doc, "rev"));

    json_object_set_new(doc, "note", json_string("changed"));
    text = json_dumps(doc, JSON_COMPACT);
    r = call("PUT", "helement", env.hcp1, text);
    assert_int_equal(r.status, 200);
    assert_string_not_equal(str_of(r.json, "rev"), rev);
    assert_string_equal(str_of(r.json, "note"), "changed");
    fixture_reply_free(&r);

    /* The same body again has a stale revision now. */
    assert_int_equal(status_of("PUT", "helement", env.hcp1, text), 409);
    free(text);
    json_decref(doc);

    doc = get_json("helement", id, env.hcp1);
    /* Empty arrays left out mean the same metadata. */
    json_object_del(json_object_get(json_object_get(json_object_get(doc,
                        "securityMetadata"), "secureDelegations"), root),
                    "parentDelegations");
    text = json_dumps(doc, JSON_COMPACT);
    assert_int_equal(status_of("PUT", "helement", env.hcp2, text), 404);
    r = call("PUT", "helement", env.hcp1, text);
    assert_int_equal(r.status, 200);
    json_object_set(doc, "rev", json_object_get(r.json, "rev"));
    fixture_reply_free(&r);
    free(text);

    json_object_set_new(json_object_get(json_object_get(json_object_get(doc,
                            "securityMetadata"), "secureDelegations"), root),
                        "permissions", json_string("READ"));
    text = json_dumps(doc, JSON_COMPACT);
    assert_int_equal(status_of("PUT", "helement", env.hcp1, text), 400);
    free(text);

    assert_int_equal(status_of("PUT", "helement", env.hcp1, "{\"rev\":\"1\"}"),
                     400);
    assert_int_equal(status_of("PUT", "helement", env.hcp1, "{"), 400);
    json_decref(doc);
    free(rev);
}

static void
test_entity__modify_needs_write(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char share_text[400];
    ackey key;
    json_t *doc;
    char *text;
    reply r;

    (void)state;
    new_id(id);
    ackey_new(&key);
    free(create_hcp1("helement", id, root, NULL));
    snprintf(share_text, sizeof share_text,
             "{\"explicitDelegator\":\"hcp-1\",\"explicitDelegate\":\"hcp-2\","
             "\"accessControlKeys\":[\"%s\"],\"secretIds\":[],"
             "\"encryptionKeys\":[],\"owningEntityIds\":[],"
             "\"exchangeDataId\":\"ed-2\",\"requestedPermissions\":"
             "\"FULL_READ\"}", key.hex);
    r = share("helement", env.hcp1, NULL, id, share_text, root);
    assert_int_equal(json_object_size(rejected_of(&r)), 0);
    fixture_reply_free(&r);

    doc = get_json("helement", id, env.hcp2);
    json_object_set_new(doc, "note", json_string("by a reader"));
    text = json_dumps(doc, JSON_COMPACT);
    assert_int_equal(status_of("PUT", "helement", env.hcp2, text), 403);
    assert_int_equal(status_of("PUT", "helement", env.hcp1, text), 200);
    free(text);
    json_decref(doc);
}

static void
test_entity__batch_create_and_modify(void **state)
{
    char a[CARDEA_UUID_STR_LEN + 1], b[CARDEA_UUID_STR_LEN + 1];
    ackey ka, kb;
    char *ea, *eb;
    char *body;
    json_t *list;
    reply r;

    (void)state;
    new_id(a);
    new_id(b);
    ackey_new(&ka);
    ackey_new(&kb);
    ea = entity_json(a, ka.sdkey, "hcp-1", "hcp-1", NULL);
    eb = entity_json(b, kb.sdkey, "hcp-2", "hcp-2", NULL);
    body = malloc(strlen(ea) + strlen(eb) + 4);
    assert_non_null(body);
    snprintf(body, strlen(ea) + strlen(eb) + 4, "[%s,%s]", ea, eb);
    r = call("POST", "contact/batch", env.hcp1, body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(str_of(json_array_get(r.json, 0), "id"), a);
    list = json_incref(r.json);
    fixture_reply_free(&r);
    assert_int_equal(get_status("contact", b, env.hcp2, NULL), 404);

    json_object_set_new(json_array_get(list, 0), "note", json_string("x"));
    free(body);
    body = json_dumps(list, JSON_COMPACT);
    r = call("PUT", "contact/batch", env.hcp1, body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(str_of(json_array_get(r.json, 0), "note"), "x");
    fixture_reply_free(&r);
    /* The stale copy is left out of the response. */
    r = call("PUT", "contact/batch", env.hcp1, body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    fixture_reply_free(&r);
    assert_int_equal(status_of("PUT", "contact/batch", env.hcp1, "{}"), 400);

    json_decref(list);
    free(body);
    free(ea);
    free(eb);
}

/* ---- byIds and match ----------------------------------------------------- */

static void
test_entity__by_ids_and_match(void **state)
{
    char a[CARDEA_UUID_STR_LEN + 1], b[CARDEA_UUID_STR_LEN + 1];
    char c[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char body[512];
    ackey key;
    reply r;

    (void)state;
    new_id(a);
    new_id(b);
    new_id(c);
    ackey_new(&key);
    free(create_hcp1("helement", a, root,
                     "{\"secretForeignKeys\":[\"sfk-a\"],"
                     "\"tags\":[{\"type\":\"T\",\"code\":\"one\"}]}"));
    free(create_hcp1("helement", b, root, "{\"secretForeignKeys\":"
                     "[\"sfk-b\"]}"));
    free(create("helement", env.hcp2, NULL, c, key.sdkey, "hcp-2", "hcp-2",
                NULL));

    snprintf(body, sizeof body, "{\"ids\":[\"%s\",\"%s\",\"%s\",\"none\"]}",
             a, b, c);
    r = call("POST", "helement/byIds", env.hcp1, body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 2);
    fixture_reply_free(&r);
    assert_int_equal(status_of("POST", "helement/byIds", env.hcp1,
                               "{\"ids\":\"a\"}"), 400);
    assert_int_equal(status_of("POST", "helement/byIds", env.hcp1,
                               "{\"ids\":[1]}"), 400);

    r = call("POST", "helement/match", env.hcp1,
             HE_FILTER_HCP1);
    assert_int_equal(r.status, 200);
    assert_true(array_has(r.json, a));
    assert_true(array_has(r.json, b));
    assert_false(array_has(r.json, c));
    fixture_reply_free(&r);

    /* Naming another data owner finds only what the caller may read. */
    r = call("POST", "helement/match", env.hcp2,
             HE_FILTER_HCP1);
    assert_int_equal(r.status, 200);
    assert_false(array_has(r.json, a));
    assert_false(array_has(r.json, b));
    fixture_reply_free(&r);

    r = call("POST", "helement/match", env.hcp1,
             "{\"$type\":\"HealthElementByHcPartySecretForeignKeysFilter\","
             "\"healthcarePartyId\":\"hcp-1\","
             "\"patientSecretForeignKeys\":[\"sfk-a\"]}");
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_true(array_has(r.json, a));
    fixture_reply_free(&r);

    r = call("POST", "helement/match", env.hcp1,
             "{\"$type\":\"HealthElementByHcPartyTagCodeFilter\","
             "\"healthcarePartyId\":\"hcp-1\",\"tagType\":\"T\","
             "\"tagCode\":\"one\"}");
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_true(array_has(r.json, a));
    fixture_reply_free(&r);

    assert_int_equal(status_of("POST", "helement/match", env.hcp1,
                               "{\"$type\":\"NoSuchFilter\"}"), 400);
    assert_int_equal(status_of("POST", "helement/match", env.hcp1,
                               "{\"$type\":\"HealthElementByHcPartyFilter\"}"),
                     400);
    assert_int_equal(status_of("POST", "helement/match", env.hcp1,
                               "{\"$type\":\"PatientByHcPartyFilter\","
                               "\"healthcarePartyId\":\"hcp-1\"}"), 400);
    assert_int_equal(status_of("POST", "helement/match", env.hcp1, "{"),
                     400);
}

static void
test_entity__maintenance_task_match_by_type(void **state)
{
    char a[CARDEA_UUID_STR_LEN + 1], b[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    reply r;

    (void)state;
    new_id(a);
    new_id(b);
    free(create_hcp1("maintenancetask", a, root,
                     "{\"taskType\":\"KEY_PAIR_UPDATE\"}"));
    free(create_hcp1("maintenancetask", b, root, "{\"taskType\":\"OTHER\"}"));
    r = call("POST", "maintenancetask/match", env.hcp1,
             "{\"$type\":\"MaintenanceTaskByHcPartyAndTypeFilter\","
             "\"healthcarePartyId\":\"hcp-1\",\"type\":\"KEY_PAIR_UPDATE\"}");
    assert_int_equal(r.status, 200);
    assert_true(array_has(r.json, a));
    assert_false(array_has(r.json, b));
    fixture_reply_free(&r);
}

/* ---- bulk share ---------------------------------------------------------- */

static void
test_entity__share_explicit_and_parents(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char text[512];
    ackey key, unknown;
    const json_t *result;
    reply r;

    (void)state;
    new_id(id);
    ackey_new(&key);
    ackey_new(&unknown);
    free(create_hcp1("patient", id, root, NULL));
    snprintf(text, sizeof text,
             "{\"explicitDelegator\":\"hcp-1\",\"explicitDelegate\":\"hcp-2\","
             "\"accessControlKeys\":[\"%s\"],\"secretIds\":[\"s\"],"
             "\"encryptionKeys\":[],\"owningEntityIds\":[],"
             "\"exchangeDataId\":\"ed-2\",\"requestedPermissions\":"
             "\"MAX_WRITE\"}", key.hex);

    /* A parent the entity does not have is rejected. */
    r = share("patient", env.hcp1, NULL, id, text, unknown.sdkey);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
                         rejected_of(&r), "r1"), "code")), 400);
    fixture_reply_free(&r);
    assert_int_equal(get_status("patient", id, env.hcp2, NULL), 404);

    /* A stranger gets 404 for every request. */
    r = share("patient", env.hcp2, NULL, id, text, root);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
                         rejected_of(&r), "r1"), "code")), 404);
    fixture_reply_free(&r);

    r = share("patient", env.hcp1, NULL, id, text, root);
    assert_int_equal(json_object_size(rejected_of(&r)), 0);
    result = json_array_get(r.json, 0);
    assert_string_equal(str_of(result, "entityId"), id);
    assert_non_null(str_of(result, "entityRev"));
    assert_string_equal(str_of(json_object_get(result, "updatedEntity"),
                               "rev"), str_of(result, "entityRev"));
    fixture_reply_free(&r);
    assert_int_equal(get_status("patient", id, env.hcp2, NULL), 200);

    /* The same key again is rejected: it already exists. */
    r = share("patient", env.hcp1, NULL, id, text, root);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
                         rejected_of(&r), "r1"), "code")), 400);
    fixture_reply_free(&r);

    r = share("patient", env.hcp1, NULL, "no-such-entity", text, root);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
                         rejected_of(&r), "r1"), "code")), 404);
    fixture_reply_free(&r);

    assert_int_equal(status_of("PUT", "patient/bulkSharedMetadataUpdate",
                               env.hcp1, "{}"), 400);
    assert_int_equal(status_of("PUT", "patient/bulkSharedMetadataUpdate",
                               env.hcp1, "{"), 400);
}

static void
test_entity__share_anonymous_creates_map(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char text[512];
    char ids[128];
    ackey key, second;
    const json_t *map;
    reply r;

    (void)state;
    new_id(id);
    ackey_new(&key);
    ackey_new(&second);
    free(create_hcp1("helement", id, root, NULL));
    snprintf(text, sizeof text,
             "{\"explicitDelegator\":\"hcp-1\",\"accessControlKeys\":"
             "[\"%s\"],\"secretIds\":[],\"encryptionKeys\":[],"
             "\"owningEntityIds\":[],\"encryptedExchangeDataId\":"
             "{\"" FP "\":\"ZmlzdA==\"},\"requestedPermissions\":"
             "\"MAX_WRITE\"}", key.hex);
    r = share("helement", env.hcp1, NULL, id, text, root);
    assert_int_equal(json_object_size(rejected_of(&r)), 0);
    fixture_reply_free(&r);

    snprintf(ids, sizeof ids, "{\"ids\":[\"%s\"]}", key.sdkey);
    r = call("POST", "exchangedatamap/batch", env.hcp1, ids);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    map = json_object_get(json_array_get(r.json, 0),
                          "encryptedExchangeDataIds");
    assert_string_equal(str_of(map, FP), "ZmlzdA==");
    fixture_reply_free(&r);

    /* The anonymous delegate reads with its key and shares further. */
    assert_int_equal(get_status("helement", id, env.patient, key.header),
                     200);
    snprintf(text, sizeof text,
             "{\"explicitDelegate\":\"hcp-2\",\"accessControlKeys\":"
             "[\"%s\"],\"secretIds\":[],\"encryptionKeys\":[],"
             "\"owningEntityIds\":[],\"encryptedExchangeDataId\":"
             "{\"" FP "\":\"c2Vjb25k\"},\"requestedPermissions\":"
             "\"MAX_WRITE\"}", second.hex);
    r = share("helement", env.patient, key.header, id, text, key.sdkey);
    assert_int_equal(json_object_size(rejected_of(&r)), 0);
    fixture_reply_free(&r);
    assert_int_equal(get_status("helement", id, env.hcp2, NULL), 200);
}

static void
test_entity__share_minimal_has_no_entity(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char body[768];
    ackey key;
    reply r;

    (void)state;
    new_id(id);
    ackey_new(&key);
    free(create_hcp1("document", id, root, NULL));
    snprintf(body, sizeof body,
             "{\"requestsByEntityId\":{\"%s\":{\"requests\":{\"a\":{\"share\":"
             "{\"explicitDelegator\":\"hcp-1\",\"explicitDelegate\":\"hcp-2\","
             "\"accessControlKeys\":[\"%s\"],\"secretIds\":[],"
             "\"encryptionKeys\":[],\"owningEntityIds\":[],"
             "\"exchangeDataId\":\"e\",\"requestedPermissions\":"
             "\"MAX_READ\"}}},\"potentialParentDelegations\":[\"%s\"]}}}",
             id, key.hex, root);
    r = call("PUT", "document/bulkSharedMetadataUpdateMinimal", env.hcp1,
             body);
    assert_int_equal(r.status, 200);
    assert_null(json_object_get(json_array_get(r.json, 0), "updatedEntity"));
    assert_non_null(str_of(json_array_get(r.json, 0), "entityRev"));
    fixture_reply_free(&r);
    assert_int_equal(get_status("document", id, env.hcp2, NULL), 200);
}

/* ---- delete, undelete, purge --------------------------------------------- */

static void
test_entity__delete_undelete_purge(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char path[160];
    char *rev;
    json_t *doc;
    reply r;

    (void)state;
    new_id(id);
    rev = create_hcp1("helement", id, root, NULL);
    snprintf(path, sizeof path, "helement/%s", id);
    assert_int_equal(status_of("DELETE", path, env.hcp2, NULL), 404);

    r = call("DELETE", path, env.hcp1, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(str_of(r.json, "id"), id);
    assert_string_not_equal(str_of(r.json, "rev"), rev);
    free(rev);
    rev = strdup(str_of(r.json, "rev"));
    fixture_reply_free(&r);

    doc = get_json("helement", id, env.hcp1);
    assert_true(json_is_integer(json_object_get(doc, "deletionDate")));
    json_decref(doc);
    r = call("POST", "helement/match", env.hcp1,
             HE_FILTER_HCP1);
    assert_false(array_has(r.json, id));
    fixture_reply_free(&r);

    snprintf(path, sizeof path, "helement/undelete/%s", id);
    assert_int_equal(status_of("POST", path, env.hcp1, NULL), 400);
    snprintf(path, sizeof path, "helement/undelete/%s?rev=1-stale", id);
    assert_int_equal(status_of("POST", path, env.hcp1, NULL), 409);
    snprintf(path, sizeof path, "helement/undelete/%s?rev=%s", id, rev);
    r = call("POST", path, env.hcp1, NULL);
    assert_int_equal(r.status, 200);
    assert_null(json_object_get(r.json, "deletionDate"));
    free(rev);
    rev = strdup(str_of(r.json, "rev"));
    fixture_reply_free(&r);

    snprintf(path, sizeof path, "helement/purge/%s?rev=%s", id, rev);
    assert_int_equal(status_of("DELETE", path, env.hcp2, NULL), 404);
    r = call("DELETE", path, env.hcp1, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(str_of(r.json, "rev"), rev);
    fixture_reply_free(&r);
    assert_int_equal(get_status("helement", id, env.hcp1, NULL), 404);
    free(rev);
}

static void
test_entity__delete_batches(void **state)
{
    char a[CARDEA_UUID_STR_LEN + 1], b[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char body[512];
    char *rev_a, *rev_b;
    reply r;

    (void)state;
    new_id(a);
    new_id(b);
    rev_a = create_hcp1("contact", a, root, NULL);
    rev_b = create_hcp1("contact", b, root, NULL);

    snprintf(body, sizeof body, "{\"ids\":[{\"id\":\"%s\",\"rev\":\"%s\"},"
             "{\"id\":\"%s\",\"rev\":\"1-stale\"}]}", a, rev_a, b);
    r = call("POST", "contact/delete/batch/withrev", env.hcp2, body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    fixture_reply_free(&r);
    r = call("POST", "contact/delete/batch/withrev", env.hcp1, body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(str_of(json_array_get(r.json, 0), "id"), a);
    fixture_reply_free(&r);

    snprintf(body, sizeof body, "{\"ids\":[\"%s\",\"missing\"]}", b);
    r = call("POST", "contact/delete/batch", env.hcp1, body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(str_of(json_array_get(r.json, 0), "id"), b);
    fixture_reply_free(&r);
    assert_int_equal(status_of("POST", "contact/delete/batch", env.hcp1,
                               "{\"ids\":[{}]}"), 400);

    free(rev_a);
    r = call("GET", "contact/undelete/batch", env.hcp1, NULL);
    assert_int_equal(r.status, 405);
    fixture_reply_free(&r);
    {
        json_t *doc = get_json("contact", a, env.hcp1);

        rev_a = strdup(str_of(doc, "rev"));
        json_decref(doc);
    }
    snprintf(body, sizeof body, "{\"ids\":[{\"id\":\"%s\",\"rev\":\"%s\"}]}",
             a, rev_a);
    r = call("POST", "contact/undelete/batch", env.hcp1, body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_null(json_object_get(json_array_get(r.json, 0), "deletionDate"));
    fixture_reply_free(&r);
    free(rev_a);
    rev_a = NULL;
    free(rev_b);
}

/* ---- attachments --------------------------------------------------------- */

static reply
put_bytes(const char *path, const char *token, const void *data, size_t len)
{
    return fixture_request(env.port, "PUT", path, token,
                           "application/octet-stream", data, len, NULL);
}

static void
test_attachment__main_round_trip(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char path[256];
    char hash[65];
    static const uint8_t bytes[] = {0x00, 0xff, 0x10, 'c', 'i', 'p', 'h'};
    static uint8_t big[ATTACHMENT_MAX + 1];
    char *rev;
    const json_t *others;
    reply r;

    (void)state;
    new_id(id);
    rev = create_hcp1("document", id, root, NULL);
    snprintf(path, sizeof path, "document/%s/attachment?rev=%s&utis="
             "%%5Bpublic.plain-text,%%20public.data%%5D&encrypted=true",
             id, rev);
    r = put_bytes(path, env.hcp2, bytes, sizeof bytes);
    assert_int_equal(r.status, 404);
    fixture_reply_free(&r);
    r = put_bytes(path, env.hcp1, big, sizeof big);
    assert_int_equal(r.status, 413);
    fixture_reply_free(&r);

    r = put_bytes(path, env.hcp1, bytes, sizeof bytes);
    assert_int_equal(r.status, 200);
    cardea_hash__sha256_hex(hash, bytes, sizeof bytes);
    assert_string_equal(str_of(r.json, "attachmentId"), hash);
    assert_string_equal(str_of(r.json, "mainUti"), "public.plain-text");
    others = json_object_get(r.json, "otherUtis");
    assert_int_equal(json_array_size(others), 1);
    assert_string_equal(json_string_value(json_array_get(others, 0)),
                        "public.data");
    assert_string_not_equal(str_of(r.json, "rev"), rev);
    fixture_reply_free(&r);

    /* The old revision is stale now. */
    r = put_bytes(path, env.hcp1, bytes, sizeof bytes);
    assert_int_equal(r.status, 409);
    fixture_reply_free(&r);

    snprintf(path, sizeof path, "document/%s/attachment?ts=3", id);
    r = call("GET", path, env.hcp1, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, sizeof bytes);
    assert_memory_equal(r.body, bytes, sizeof bytes);
    fixture_reply_free(&r);
    assert_int_equal(status_of("GET", path, env.hcp2, NULL), 404);
    free(rev);
}

static void
test_attachment__secondary_and_delete(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char root[65];
    char path[256];
    static const uint8_t bytes[] = {1, 2, 3, 4};
    json_t *doc;
    char *rev;
    reply r;

    (void)state;
    new_id(id);
    rev = create_hcp1("document", id, root, NULL);
    snprintf(path, sizeof path, "document/%s/secondaryAttachments/%s?rev=%s",
             id, id, rev);
    r = put_bytes(path, env.hcp1, bytes, sizeof bytes);
    assert_int_equal(r.status, 400);
    fixture_reply_free(&r);

    snprintf(path, sizeof path, "document/%s/secondaryAttachments/extra?"
             "rev=%s&utis=public.data", id, rev);
    r = put_bytes(path, env.hcp1, bytes, sizeof bytes);
    assert_int_equal(r.status, 200);
    free(rev);
    rev = strdup(str_of(r.json, "rev"));
    assert_non_null(json_object_get(json_object_get(r.json,
                                    "secondaryAttachments"), "extra"));
    fixture_reply_free(&r);

    snprintf(path, sizeof path, "document/%s/secondaryAttachments/extra", id);
    r = call("GET", path, env.hcp1, NULL);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, bytes, sizeof bytes);
    fixture_reply_free(&r);

    /* A modify cannot replace the server-managed attachment fields. */
    doc = get_json("document", id, env.hcp1);
    json_object_set_new(doc, "secondaryAttachments", json_object());
    {
        char *text = json_dumps(doc, JSON_COMPACT);

        r = call("PUT", "document", env.hcp1, text);
        free(text);
    }
    assert_int_equal(r.status, 200);
    assert_non_null(json_object_get(json_object_get(r.json,
                                    "secondaryAttachments"), "extra"));
    free(rev);
    rev = strdup(str_of(r.json, "rev"));
    fixture_reply_free(&r);
    json_decref(doc);

    snprintf(path, sizeof path, "document/%s/secondaryAttachments/extra?"
             "rev=%s", id, rev);
    r = call("DELETE", path, env.hcp1, NULL);
    assert_int_equal(r.status, 200);
    assert_null(json_object_get(json_object_get(r.json,
                                "secondaryAttachments"), "extra"));
    assert_int_equal(json_array_size(json_object_get(r.json,
                                     "deletedAttachments")), 1);
    fixture_reply_free(&r);
    snprintf(path, sizeof path, "document/%s/secondaryAttachments/extra", id);
    assert_int_equal(status_of("GET", path, env.hcp1, NULL), 404);
    snprintf(path, sizeof path, "document/%s/attachment?rev=x", id);
    assert_int_equal(status_of("DELETE", path, env.hcp1, NULL), 409);
    free(rev);
}

/* ---- secure-delegation key maps ------------------------------------------ */

static void
test_sdkmap__create_and_lookup(void **state)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    char bad_id[CARDEA_UUID_STR_LEN + 1];
    char body[160];
    ackey key;
    char *doc;
    reply r;

    (void)state;
    new_id(id);
    new_id(bad_id);
    ackey_new(&key);
    doc = entity_json(bad_id, key.sdkey, NULL, NULL,
                      "{\"delegationKey\":\"dk-1\",\"delegator\":\"hcp-1\"}");
    r = call_keys("POST", "securedelegationkeymap", env.hcp1, doc,
                  key.header);
    assert_int_equal(r.status, 400);
    fixture_reply_free(&r);
    free(doc);

    free(create("securedelegationkeymap", env.hcp1, key.header, id,
                key.sdkey, NULL, NULL, "{\"delegationKey\":\"dk-1\"}"));
    snprintf(body, sizeof body, "{\"ids\":[\"dk-1\",\"dk-2\"]}");
    r = call_keys("POST", "securedelegationkeymap/bydelegationkeys",
                  env.hcp1, body, key.header);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(str_of(json_array_get(r.json, 0), "id"), id);
    fixture_reply_free(&r);
    r = call("POST", "securedelegationkeymap/bydelegationkeys", env.hcp2,
             body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    fixture_reply_free(&r);
}

/* ---- Patient and patient data owner -------------------------------------- */

static void
test_patient__keeps_published_keys(void **state)
{
    char root[65];
    const char *stub = "{\"type\":\"patient\",\"stub\":{\"id\":\"patient-1\","
                       "\"publicKeysForOaepWithSha256\":[\"30820122\"]}}";
    json_t *doc;
    json_t *keys;
    char *text;
    reply r;

    (void)state;
    assert_int_equal(status_of("PUT", "dataowner/stub", env.patient, stub),
                     200);
    free(create_hcp1("patient", "patient-1", root,
                     "{\"firstName\":\"Ann\","
                     "\"publicKeysForOaepWithSha256\":[\"forged\"]}"));

    doc = get_json("patient", "patient-1", env.hcp1);
    keys = json_object_get(doc, "publicKeysForOaepWithSha256");
    assert_int_equal(json_array_size(keys), 1);
    assert_string_equal(json_string_value(json_array_get(keys, 0)),
                        "30820122");

    /* A modify cannot drop or replace the keys either. */
    json_object_set_new(doc, "publicKeysForOaepWithSha256", json_array());
    json_object_set_new(doc, "lastName", json_string("Smith"));
    text = json_dumps(doc, JSON_COMPACT);
    r = call("PUT", "patient", env.hcp1, text);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_array_get(json_object_get(
                            r.json, "publicKeysForOaepWithSha256"), 0)),
                        "30820122");
    fixture_reply_free(&r);
    free(text);
    json_decref(doc);

    r = call("GET", "dataowner/current", env.patient, NULL);
    assert_int_equal(r.status, 200);
    doc = json_object_get(r.json, "dataOwner");
    assert_string_equal(str_of(doc, "firstName"), "Ann");
    assert_string_equal(str_of(doc, "lastName"), "Smith");
    text = malloc(512);
    assert_non_null(text);
    snprintf(text, 512, "{\"type\":\"patient\",\"stub\":{\"id\":"
             "\"patient-1\",\"rev\":\"%s\",\"publicKeysForOaepWithSha256\":"
             "[\"30820122\",\"30820123\"]}}", str_of(doc, "rev"));
    fixture_reply_free(&r);
    assert_int_equal(status_of("PUT", "dataowner/stub", env.patient, text),
                     200);
    free(text);

    doc = get_json("patient", "patient-1", env.hcp1);
    assert_int_equal(json_array_size(json_object_get(doc,
                         "publicKeysForOaepWithSha256")), 2);
    assert_string_equal(str_of(doc, "firstName"), "Ann");

    /* Purging the Patient keeps the data owner's keys. */
    text = malloc(256);
    assert_non_null(text);
    snprintf(text, 256, "patient/purge/patient-1?rev=%s", str_of(doc, "rev"));
    assert_int_equal(status_of("DELETE", text, env.hcp1, NULL), 200);
    free(text);
    json_decref(doc);
    assert_int_equal(get_status("patient", "patient-1", env.hcp1, NULL), 404);
    r = call("GET", "dataowner/stub/patient-1", env.hcp1, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r.json,
                         "stub"), "publicKeysForOaepWithSha256")), 2);
    fixture_reply_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entity__create_and_get),
        cmocka_unit_test(test_entity__create_rejects_bad_input),
        cmocka_unit_test(test_entity__anonymous_access_by_key),
        cmocka_unit_test(test_entity__modify_rules),
        cmocka_unit_test(test_entity__modify_needs_write),
        cmocka_unit_test(test_entity__batch_create_and_modify),
        cmocka_unit_test(test_entity__by_ids_and_match),
        cmocka_unit_test(test_entity__maintenance_task_match_by_type),
        cmocka_unit_test(test_entity__share_explicit_and_parents),
        cmocka_unit_test(test_entity__share_anonymous_creates_map),
        cmocka_unit_test(test_entity__share_minimal_has_no_entity),
        cmocka_unit_test(test_entity__delete_undelete_purge),
        cmocka_unit_test(test_entity__delete_batches),
        cmocka_unit_test(test_attachment__main_round_trip),
        cmocka_unit_test(test_attachment__secondary_and_delete),
        cmocka_unit_test(test_sdkmap__create_and_lookup),
        cmocka_unit_test(test_patient__keeps_published_keys),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
