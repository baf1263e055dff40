/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entity create, get, modify and share without a server: sessions are
 * filled in by hand and share one transport that plays a small in-memory
 * server. It stores exchange data, maps and entities, and applies share
 * and update requests. It grants read access as iCure does, to a data
 * owner named in a delegation or to a caller that sends the access-control
 * key whose SHA-256 is a delegation key. The tests cover the four share
 * directions, the update of an existing delegation, the verification of
 * delegate keys, modify, byIds, a document's attachment and legacy
 * metadata. Most of these flows also run against `cardea serve` in
 * entity_share_server_test.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sdk/exchange.h"

#define USERS 5

/* ---- users -------------------------------------------------------------- */

typedef struct user {
    const char *id;
    cardea_data_owner_type type;
    cardea_rsa_key *rsa;
    char *spki_hex;
    cardea_session *session;
    int verify_calls;
    bool reject_all;
} user;

static user users[USERS] = {
    {"hcp-a", CARDEA_DATA_OWNER_HCP, NULL, NULL, NULL, 0, false},
    {"hcp-b", CARDEA_DATA_OWNER_HCP, NULL, NULL, NULL, 0, false},
    {"hcp-c", CARDEA_DATA_OWNER_HCP, NULL, NULL, NULL, 0, false},
    {"patient-p", CARDEA_DATA_OWNER_PATIENT, NULL, NULL, NULL, 0, false},
    {"patient-q", CARDEA_DATA_OWNER_PATIENT, NULL, NULL, NULL, 0, false},
};

#define HCP_A (&users[0])
#define HCP_B (&users[1])
#define HCP_C (&users[2])
#define PATIENT_P (&users[3])
#define PATIENT_Q (&users[4])

/* ---- the in-memory server ----------------------------------------------- */

static json_t *exchange_data;      /* id -> ExchangeData */
static json_t *maps;               /* sdKey -> ExchangeDataMap */
static json_t *entities;           /* "type/id" -> entity */
static json_t *legacy_stubs;       /* id -> {type, stub} of legacy HCPs */
static uint8_t *attachment;
static size_t attachment_len;
static unsigned rev_counter;

static user *
user_by_id(const char *id)
{
    for (size_t i = 0; i < USERS; i++) {
        if (strcmp(users[i].id, id) == 0) {
            return &users[i];
        }
    }
    return NULL;
}

static void
reply(cardea_http_response *resp, unsigned status, json_t *value)
{
    char *text = value != NULL ? cardea_json__dump(value) : NULL;

    cardea_http_response_set_status(resp, status);
    if (text != NULL) {
        assert_int_equal(cardea_http_response_append_body(resp, text,
                                                          strlen(text)),
                         CARDEA_OK);
    }
    cardea_free(text);
    json_decref(value);
}

static void
bump_rev(json_t *doc)
{
    char rev[32];

    snprintf(rev, sizeof rev, "%u-rev", ++rev_counter);
    json_object_set_new(doc, "rev", json_string(rev));
}

/* Read access as the server grants it: by name or by header key. */
static bool
can_read(const json_t *entity, const user *caller,
         const cardea_http_request *req)
{
    const json_t *sd = json_object_get(
        json_object_get(entity, "securityMetadata"), "secureDelegations");
    const char *key;
    json_t *delegation;

    if (json_object_get(json_object_get(entity, "delegations"), caller->id)
        != NULL) {
        return true;
    }
    json_object_foreach((json_t *)sd, key, delegation) {
        const char *a = cardea_json__get_str(delegation, "delegator");
        const char *b = cardea_json__get_str(delegation, "delegate");

        if ((a != NULL && strcmp(a, caller->id) == 0)
            || (b != NULL && strcmp(b, caller->id) == 0)) {
            return true;
        }
        for (size_t h = 0; h < req->header_count; h++) {
            uint8_t *keys = NULL;
            size_t count = 0;

            if (strcmp(req->headers[h].name, CARDEA_SDK_AC_HEADER) != 0) {
                continue;
            }
            assert_int_equal(cardea_ackey__decode_header(
                                 &keys, &count, req->headers[h].value,
                                 strlen(req->headers[h].value)),
                             CARDEA_OK);
            for (size_t k = 0; k < count; k++) {
                char hash[CARDEA_SD_KEY_HEX_LEN + 1];

                cardea_sdkey__from_ackey(hash, keys + k * CARDEA_AC_KEY_LEN);
                if (strcmp(hash, key) == 0) {
                    cardea_mem__free_secret(keys, count * CARDEA_AC_KEY_LEN);
                    return true;
                }
            }
            cardea_mem__free_secret(keys, count * CARDEA_AC_KEY_LEN);
        }
    }
    return false;
}

static void
append_values(json_t *list, const json_t *changes)
{
    const char *value;
    json_t *op;

    json_object_foreach((json_t *)changes, value, op) {
        assert_string_equal(json_string_value(op), "CREATE");
        json_array_append_new(list, json_string(value));
    }
}

static json_t *
apply_share(json_t *entity, const json_t *share, const json_t *parents)
{
    json_t *sd = json_object_get(json_object_get(entity, "securityMetadata"),
                                 "secureDelegations");
    json_t *delegation = json_object();
    const char *a = cardea_json__get_str(share, "explicitDelegator");
    const char *b = cardea_json__get_str(share, "explicitDelegate");
    const json_t *encrypted_id =
        json_object_get(share, "encryptedExchangeDataId");
    const char *permission =
        cardea_json__get_str(share, "requestedPermissions");
    char key[CARDEA_SD_KEY_HEX_LEN + 1];

    assert_int_equal(cardea_delegation__canonical_hash(key, share),
                     CARDEA_OK);
    if (json_object_get(sd, key) != NULL) {
        return json_pack("{s:i, s:s}", "code", 400, "reason", "exists");
    }
    if (a != NULL) {
        json_object_set_new(delegation, "delegator", json_string(a));
    }
    if (b != NULL) {
        json_object_set_new(delegation, "delegate", json_string(b));
    }
    json_object_set(delegation, "secretIds",
                    json_object_get(share, "secretIds"));
    json_object_set(delegation, "encryptionKeys",
                    json_object_get(share, "encryptionKeys"));
    json_object_set(delegation, "owningEntityIds",
                    json_object_get(share, "owningEntityIds"));
    json_object_set(delegation, "parentDelegations", (json_t *)parents);
    if (a != NULL && b != NULL) {
        json_object_set(delegation, "exchangeDataId",
                        json_object_get(share, "exchangeDataId"));
    }
    json_object_set_new(delegation, "permissions",
                        json_string(strcmp(permission, "MAX_WRITE") == 0
                                        ? "WRITE"
                                        : "READ"));
    json_object_set_new(sd, key, delegation);
    if (encrypted_id != NULL) {
        json_object_set_new(maps, key,
                            json_pack("{s:s, s:O}", "id", key,
                                      "encryptedExchangeDataIds",
                                      encrypted_id));
    }
    return NULL;
}

static json_t *
apply_update(json_t *entity, const json_t *update)
{
    json_t *delegation = json_object_get(
        json_object_get(json_object_get(entity, "securityMetadata"),
                        "secureDelegations"),
        cardea_json__get_str(update, "metadataAccessControlHash"));

    if (delegation == NULL) {
        return json_pack("{s:i, s:s}", "code", 404, "reason", "missing");
    }
    append_values(json_object_get(delegation, "secretIds"),
                  json_object_get(update, "secretIds"));
    append_values(json_object_get(delegation, "encryptionKeys"),
                  json_object_get(update, "encryptionKeys"));
    append_values(json_object_get(delegation, "owningEntityIds"),
                  json_object_get(update, "owningEntityIds"));
    return NULL;
}

static void
bulk_share(cardea_http_response *resp, const char *type, const json_t *body,
           const user *caller, const cardea_http_request *req)
{
    json_t *results = json_array();
    const char *id;
    json_t *spec;

    json_object_foreach(json_object_get(body, "requestsByEntityId"), id,
                        spec) {
        char name[128];
        json_t *entity;
        json_t *rejected = json_object();
        const char *request_id;
        json_t *request;

        snprintf(name, sizeof name, "%s/%s", type, id);
        entity = json_object_get(entities, name);
        assert_non_null(entity);
        assert_true(can_read(entity, caller, req));
        json_object_foreach(json_object_get(spec, "requests"), request_id,
                            request) {
            json_t *error =
                json_object_get(request, "share") != NULL
                    ? apply_share(entity, json_object_get(request, "share"),
                                  json_object_get(
                                      spec, "potentialParentDelegations"))
                    : apply_update(entity,
                                   json_object_get(request, "update"));

            if (error != NULL) {
                json_object_set_new(rejected, request_id, error);
            }
        }
        bump_rev(entity);
        json_array_append_new(results,
                              json_pack("{s:s, s:O, s:o}", "entityId", id,
                                        "updatedEntity", entity,
                                        "rejectedRequests", rejected));
    }
    reply(resp, 200, results);
}

static void
serve_exchange(cardea_http_response *resp, const char *method,
               const char *path, json_t *body)
{
    const char *id;
    json_t *xd;

    if (strcmp(method, "POST") == 0 && strcmp(path, "exchangedata") == 0) {
        bump_rev(body);
        json_object_set(exchange_data, cardea_json__get_str(body, "id"),
                        body);
        reply(resp, 200, json_incref(body));
    } else if (strncmp(path, "exchangedata/byDelegatorDelegate/", 33) == 0) {
        const char *pair = path + 33;
        size_t len = strcspn(pair, "/");
        json_t *list = json_array();

        json_object_foreach(exchange_data, id, xd) {
            if (strncmp(cardea_json__get_str(xd, "delegator"), pair, len)
                    == 0
                && strlen(cardea_json__get_str(xd, "delegator")) == len
                && strcmp(cardea_json__get_str(xd, "delegate"),
                          pair + len + 1) == 0) {
                json_array_append(list, xd);
            }
        }
        reply(resp, 200, list);
    } else if (strncmp(path, "exchangedata/byParticipant/", 27) == 0) {
        const char *participant = path + 27;
        size_t len = strcspn(participant, "?");
        json_t *rows = json_array();

        json_object_foreach(exchange_data, id, xd) {
            const char *a = cardea_json__get_str(xd, "delegator");
            const char *b = cardea_json__get_str(xd, "delegate");

            if ((strncmp(a, participant, len) == 0 && strlen(a) == len)
                || (strncmp(b, participant, len) == 0
                    && strlen(b) == len)) {
                json_array_append(rows, xd);
            }
        }
        reply(resp, 200, json_pack("{s:o}", "rows", rows));
    } else {
        xd = json_object_get(exchange_data, path + strlen("exchangedata/"));
        reply(resp, xd != NULL ? 200 : 404, json_incref(xd));
    }
}

static void
serve_maps(cardea_http_response *resp, const char *method, json_t *body)
{
    const char *key;
    json_t *value;

    if (strcmp(method, "PUT") == 0) {
        json_object_foreach(json_object_get(body, "batch"), key, value) {
            uint8_t ackey[CARDEA_AC_KEY_LEN];
            size_t len = 0;
            char id[CARDEA_SD_KEY_HEX_LEN + 1];

            assert_int_equal(cardea_hex__decode(ackey, sizeof ackey, &len,
                                                key, strlen(key)),
                             CARDEA_OK);
            cardea_sdkey__from_ackey(id, ackey);
            json_object_set_new(maps, id,
                                json_pack("{s:s, s:O}", "id", id,
                                          "encryptedExchangeDataIds",
                                          value));
        }
        cardea_http_response_set_status(resp, 200);
        assert_int_equal(cardea_http_response_append_body(resp, "ok", 2),
                         CARDEA_OK);
    } else {
        json_t *list = json_array();
        size_t index;

        json_array_foreach(json_object_get(body, "ids"), index, value) {
            json_t *map = json_object_get(maps, json_string_value(value));

            if (map != NULL) {
                json_array_append(list, map);
            }
        }
        reply(resp, 200, list);
    }
}

/* Entity requests: "<type>", "<type>/<id>", "<type>/byIds", bulk share. */
static void
serve_entity(cardea_http_response *resp, const cardea_http_request *req,
             const char *path, json_t *body, const user *caller)
{
    size_t type_len = strcspn(path, "/");
    char type[32];
    char name[128];
    const char *rest = path + type_len;
    json_t *entity;

    snprintf(type, sizeof type, "%.*s", (int)type_len, path);
    if (strcmp(rest, "/bulkSharedMetadataUpdate") == 0) {
        bulk_share(resp, type, body, caller, req);
        return;
    }
    if (strcmp(rest, "/byIds") == 0) {
        json_t *list = json_array();
        size_t index;
        json_t *id;

        json_array_foreach(json_object_get(body, "ids"), index, id) {
            snprintf(name, sizeof name, "%s/%s", type, json_string_value(id));
            entity = json_object_get(entities, name);
            if (entity != NULL && can_read(entity, caller, req)) {
                json_array_append(list, entity);
            }
        }
        reply(resp, 200, list);
        return;
    }
    if (rest[0] == '\0') {
        const char *id = cardea_json__get_str(body, "id");

        snprintf(name, sizeof name, "%s/%s", type, id);
        entity = json_object_get(entities, name);
        if (strcmp(req->method, "PUT") == 0
            && strcmp(cardea_json__get_str(entity, "rev"),
                      cardea_json__get_str(body, "rev")) != 0) {
            reply(resp, 409, NULL);
            return;
        }
        if (strcmp(req->method, "PUT") == 0) {
            assert_true(json_equal(json_object_get(entity, "securityMetadata"),
                                   json_object_get(body, "securityMetadata")));
        }
        bump_rev(body);
        json_object_set(entities, name, body);
        reply(resp, 200, json_incref(body));
        return;
    }
    snprintf(name, sizeof name, "%s%.*s", type, (int)strcspn(rest, "?"),
             rest);
    if (strstr(name, "/attachment") != NULL) {
        if (strcmp(req->method, "PUT") == 0) {
            cardea_free(attachment);
            attachment = cardea_mem__memdup(req->body, req->body_len);
            attachment_len = req->body_len;
            *strstr(name, "/attachment") = '\0';
            entity = json_object_get(entities, name);
            bump_rev(entity);
            reply(resp, 200, json_incref(entity));
        } else {
            cardea_http_response_set_status(resp, 200);
            assert_int_equal(cardea_http_response_append_body(
                                 resp, attachment, attachment_len),
                             CARDEA_OK);
        }
        return;
    }
    entity = json_object_get(entities, name);
    if (entity == NULL || !can_read(entity, caller, req)) {
        reply(resp, 404, NULL);
        return;
    }
    reply(resp, 200, json_incref(entity));
}

static cardea_err
fake_send(void *u, const cardea_http_request *req, cardea_http_response *resp)
{
    const user *caller = u;
    const char *path = strstr(req->url, "/rest/v2/") + strlen("/rest/v2/");
    json_t *body = NULL;

    if (req->body_len > 0 && strstr(path, "/attachment") == NULL) {
        body = json_loadb((const char *)req->body, req->body_len, 0, NULL);
        assert_non_null(body);
    }
    if (strncmp(path, "dataowner/stub/", 15) == 0
        && json_object_get(legacy_stubs, path + 15) != NULL) {
        reply(resp, 200, json_incref(json_object_get(legacy_stubs,
                                                     path + 15)));
    } else if (strncmp(path, "dataowner/stub/", 15) == 0) {
        const user *owner = user_by_id(path + 15);

        reply(resp, owner != NULL ? 200 : 404,
              owner == NULL
                  ? NULL
                  : json_pack("{s:s, s:{s:s, s:[s]}}", "type",
                              owner->type == CARDEA_DATA_OWNER_HCP
                                  ? "hcp"
                                  : "patient",
                              "stub", "id", owner->id,
                              "publicKeysForOaepWithSha256",
                              owner->spki_hex));
    } else if (strncmp(path, "exchangedatamap/", 16) == 0) {
        serve_maps(resp, req->method, body);
    } else if (strncmp(path, "exchangedata", 12) == 0) {
        serve_exchange(resp, req->method, path, body);
    } else {
        serve_entity(resp, req, path, body, caller);
    }
    json_decref(body);
    return CARDEA_OK;
}

/* ---- strategies --------------------------------------------------------- */

static bool
anonymous_patients(void *u, const char *id, cardea_data_owner_type type)
{
    (void)u;
    (void)id;
    return type == CARDEA_DATA_OWNER_PATIENT;
}

static cardea_err
verify_keys(void *u, const char *id, cardea_data_owner_type type,
            const char *const *spkis, size_t n, bool *accepted)
{
    user *me = u;

    (void)id;
    (void)type;
    (void)spkis;
    me->verify_calls++;
    for (size_t i = 0; i < n; i++) {
        accepted[i] = !me->reject_all;
    }
    return CARDEA_OK;
}

/* ---- sessions filled in by hand ----------------------------------------- */

static void
session_open(user *u)
{
    cardea_session *s = cardea_mem__calloc(1, sizeof *s);

    assert_non_null(s);
    s->base_url = cardea_mem__strdup("http://127.0.0.1:9");
    s->transport.version = CARDEA_TRANSPORT_VERSION;
    s->transport.user = u;
    s->transport.send = fake_send;
    s->token = cardea_mem__strdup("token");
    s->user_id = cardea_mem__strdup("user-of-owner");
    s->strategies.version = CARDEA_CRYPTO_STRATEGIES_VERSION;
    s->strategies.user = u;
    s->strategies.data_owner_requires_anonymous_delegation =
        anonymous_patients;
    s->strategies.verify_delegate_public_keys = verify_keys;
    s->data_owner_type = u->type;
    s->self_anonymous = u->type == CARDEA_DATA_OWNER_PATIENT;
    s->owners = cardea_mem__calloc(1, sizeof *s->owners);
    s->owner_count = 1;
    s->owners[0].id = cardea_mem__strdup(u->id);
    s->owners[0].type = u->type;
    s->owners[0].stub = json_pack("{s:s, s:[s]}", "id", u->id,
                                  "publicKeysForOaepWithSha256",
                                  u->spki_hex);
    s->keys = cardea_mem__calloc(1, sizeof *s->keys);
    s->key_count = 1;
    s->keys[0].key = cardea_rsa__ref(u->rsa);
    s->keys[0].spki_hex = cardea_mem__strdup(u->spki_hex);
    s->keys[0].oaep = CARDEA_RSA_OAEP_SHA256;
    s->keys[0].device = true;
    u->session = s;
}

static void
session_close(user *u)
{
    cardea_session *s = u->session;

    if (s == NULL) {
        return;
    }
    if (s->ext_free != NULL) {
        s->ext_free(s);
    }
    for (size_t i = 0; i < s->anon_count; i++) {
        cardea_free(s->anon_cache[i].id);
    }
    cardea_free(s->anon_cache);
    cardea_rsa__free(s->keys[0].key);
    cardea_free(s->keys[0].spki_hex);
    cardea_free(s->keys);
    for (size_t i = 0; i < s->owner_count; i++) {
        cardea_free(s->owners[i].id);
        json_decref(s->owners[i].stub);
    }
    cardea_free(s->owners);
    cardea_free(s->user_id);
    cardea_free(s->token);
    cardea_free(s->base_url);
    cardea_free(s);
    u->session = NULL;
}

static void
reload(user *u)
{
    /* What force_reload does to this layer, when it is installed. */
    if (u->session->ext_reset != NULL) {
        u->session->ext_reset(u->session);
    }
}

/*
 * A session for HCP `self` of the legacy fixture: its own key, and its
 * parent `p` first in the hierarchy when it has one.
 */
static void
legacy_session(user *u, const json_t *hcps, const char *self)
{
    const json_t *me = json_object_get(hcps, self);
    const char *parent = cardea_json__get_str(me, "parentId");
    const char *pkcs8 = cardea_json__get_str(me, "privateKey");
    uint8_t *der = NULL;
    size_t der_len = 0;
    cardea_session *s;
    size_t n = parent != NULL ? 2 : 1;

    session_open(u);
    s = u->session;
    cardea_rsa__free(s->keys[0].key);
    cardea_free(s->keys[0].spki_hex);
    cardea_free(s->owners[0].id);
    json_decref(s->owners[0].stub);
    cardea_free(s->owners);
    s->owners = cardea_mem__calloc(n, sizeof *s->owners);
    s->owner_count = n;
    if (parent != NULL) {
        s->owners[0].id = cardea_mem__strdup(parent);
        s->owners[0].type = CARDEA_DATA_OWNER_HCP;
        s->owners[0].stub = json_deep_copy(json_object_get(hcps, "p"));
    }
    s->owners[n - 1].id = cardea_mem__strdup(cardea_json__get_str(me, "id"));
    s->owners[n - 1].type = CARDEA_DATA_OWNER_HCP;
    s->owners[n - 1].stub = json_deep_copy(me);
    assert_int_equal(cardea_hex__decode_alloc(&der, &der_len, pkcs8,
                                              strlen(pkcs8)),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__from_pkcs8(&s->keys[0].key, der, der_len),
                     CARDEA_OK);
    cardea_mem__free_secret(der, der_len);
    s->keys[0].owner = n - 1;
    s->keys[0].oaep = CARDEA_RSA_OAEP_SHA1;
    s->keys[0].spki_hex =
        cardea_mem__strdup(cardea_json__get_str(me, "publicKey"));
}

static void
test_entity__reads_legacy_metadata(void **state)
{
    static const char *const readers[] = {"a", "p"};
    json_t *fixture = json_load_file("vectors/fixtures/legacy-metadata.json",
                                     0, NULL);
    const json_t *hcps = json_object_get(fixture, "hcps");
    json_t *patient = json_deep_copy(json_object_get(fixture, "patient"));

    (void)state;
    assert_non_null(fixture);
    legacy_stubs = json_pack("{s:{s:s, s:O}}", "hcp-a", "type", "hcp",
                             "stub", json_object_get(hcps, "a"));
    json_object_set_new(entities, "patient/patient-1", patient);
    for (size_t i = 0; i < 2; i++) {
        const char *id =
            cardea_json__get_str(json_object_get(hcps, readers[i]), "id");
        user reader = {id, CARDEA_DATA_OWNER_HCP, NULL, NULL, NULL, 0,
                       false};
        char *out = NULL;
        json_t *plain;

        legacy_session(&reader, hcps, readers[i]);
        if (cardea_entity_get(&out, reader.session, CARDEA_ENTITY_PATIENT,
                              "patient-1")
            != CARDEA_OK) {
            fail_msg("%s: %s", id, cardea_session_errmsg(reader.session));
        }
        plain = json_loads(out, 0, NULL);
        assert_string_equal(cardea_json__get_str(plain, "note"),
                            "This is just a test patient");
        json_decref(plain);
        cardea_free(out);
        session_close(&reader);
    }
    json_decref(legacy_stubs);
    legacy_stubs = NULL;
    json_decref(fixture);
}

static int
group_setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < USERS; i++) {
        if (cardea_rsa__generate(&users[i].rsa, 2048) != CARDEA_OK
            || cardea_rsa__spki_hex(&users[i].spki_hex, users[i].rsa)
                   != CARDEA_OK) {
            return -1;
        }
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < USERS; i++) {
        cardea_rsa__free(users[i].rsa);
        cardea_free(users[i].spki_hex);
    }
    return 0;
}

static int
test_setup(void **state)
{
    (void)state;
    exchange_data = json_object();
    maps = json_object();
    entities = json_object();
    for (size_t i = 0; i < USERS; i++) {
        users[i].verify_calls = 0;
        users[i].reject_all = false;
        session_open(&users[i]);
    }
    return 0;
}

static int
test_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < USERS; i++) {
        session_close(&users[i]);
    }
    json_decref(exchange_data);
    json_decref(maps);
    json_decref(entities);
    cardea_free(attachment);
    attachment = NULL;
    attachment_len = 0;
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static void
create(char id[64], user *u, const char *descr)
{
    char body[128];
    char *out = NULL;
    json_t *created;
    cardea_err err;

    snprintf(body, sizeof body, "{\"descr\":\"%s\"}", descr);
    err = cardea_entity_create(&out, u->session, CARDEA_ENTITY_HEALTH_ELEMENT,
                               body, NULL);
    if (err != CARDEA_OK) {
        fail_msg("create: %s", cardea_session_errmsg(u->session));
    }
    created = json_loads(out, 0, NULL);
    snprintf(id, 64, "%s", json_string_value(json_object_get(created, "id")));
    json_decref(created);
    cardea_free(out);
}

static void
share(user *from, const char *id, const user *to, cardea_access_level level)
{
    char *out = NULL;

    if (cardea_entity_share(&out, from->session, CARDEA_ENTITY_HEALTH_ELEMENT,
                            id, to->id, level)
        != CARDEA_OK) {
        fail_msg("share: %s", cardea_session_errmsg(from->session));
    }
    cardea_free(out);
}

static cardea_err
read_descr(char *descr, size_t cap, user *u, const char *id)
{
    char *out = NULL;
    json_t *entity;
    cardea_err err = cardea_entity_get(&out, u->session,
                                       CARDEA_ENTITY_HEALTH_ELEMENT, id);

    if (err != CARDEA_OK) {
        assert_null(out);
        return err;
    }
    entity = json_loads(out, 0, NULL);
    snprintf(descr, cap, "%s",
             json_string_value(json_object_get(entity, "descr")));
    json_decref(entity);
    cardea_free(out);
    return CARDEA_OK;
}

static const json_t *
stored(const char *id)
{
    char name[128];

    snprintf(name, sizeof name, "helement/%s", id);
    return json_object_get(entities, name);
}

static const json_t *
delegations_of(const char *id)
{
    return json_object_get(json_object_get(stored(id), "securityMetadata"),
                           "secureDelegations");
}

/* ---- tests -------------------------------------------------------------- */

static void
test_entity__create_encrypts_and_reads_back(void **state)
{
    char id[64];
    char descr[64];
    const json_t *entity;
    const json_t *root;
    const char *key;
    json_t *value;

    (void)state;
    create(id, HCP_A, "flu");
    entity = stored(id);
    assert_null(json_object_get(entity, "descr"));
    assert_non_null(json_object_get(entity, "encryptedSelf"));
    assert_string_equal(cardea_json__get_str(entity, "author"),
                        "user-of-owner");
    assert_string_equal(cardea_json__get_str(entity, "responsible"), "hcp-a");
    assert_int_equal(json_object_size(delegations_of(id)), 1);
    json_object_foreach((json_t *)delegations_of(id), key, value) {
        root = value;
        assert_string_equal(cardea_json__get_str(root, "delegator"), "hcp-a");
        assert_string_equal(cardea_json__get_str(root, "delegate"), "hcp-a");
        assert_non_null(cardea_json__get_str(root, "exchangeDataId"));
        assert_string_equal(cardea_json__get_str(root, "permissions"),
                            "WRITE");
    }
    assert_int_equal(read_descr(descr, sizeof descr, HCP_A, id), CARDEA_OK);
    assert_string_equal(descr, "flu");
    assert_int_equal(read_descr(descr, sizeof descr, HCP_B, id),
                     CARDEA_ENOTFOUND);
}

static void
test_entity__anonymous_root_hides_ids(void **state)
{
    char id[64];
    char descr[64];
    const json_t *entity;
    const char *key;
    json_t *root;

    (void)state;
    create(id, PATIENT_P, "private");
    entity = stored(id);
    assert_string_equal(cardea_json__get_str(entity, "author"), "*");
    assert_string_equal(cardea_json__get_str(entity, "responsible"), "*");
    json_object_foreach((json_t *)delegations_of(id), key, root) {
        assert_null(json_object_get(root, "delegator"));
        assert_null(json_object_get(root, "delegate"));
        assert_null(json_object_get(root, "exchangeDataId"));
    }
    assert_int_equal(read_descr(descr, sizeof descr, PATIENT_P, id),
                     CARDEA_OK);
    assert_string_equal(descr, "private");
}

static void
test_share__explicit_to_explicit_in_clear(void **state)
{
    char id[64];
    char descr[64];
    const char *key;
    json_t *delegation;
    int children = 0;

    (void)state;
    create(id, HCP_A, "ee");
    share(HCP_A, id, HCP_B, CARDEA_ACCESS_READ);
    assert_int_equal(read_descr(descr, sizeof descr, HCP_B, id), CARDEA_OK);
    assert_string_equal(descr, "ee");
    assert_int_not_equal(read_descr(descr, sizeof descr, HCP_C, id),
                         CARDEA_OK);
    json_object_foreach((json_t *)delegations_of(id), key, delegation) {
        if (strcmp(cardea_json__get_str(delegation, "delegate"), "hcp-b")
            == 0) {
            children++;
            assert_non_null(cardea_json__get_str(delegation,
                                                 "exchangeDataId"));
            assert_int_equal(json_array_size(json_object_get(
                                 delegation, "parentDelegations")),
                             1);
        }
    }
    assert_int_equal(children, 1);
    assert_int_equal(json_object_size(maps), 0);
}

static void
test_share__explicit_to_anonymous_after_reload(void **state)
{
    char id[64];
    char descr[64];

    (void)state;
    assert_int_equal(read_descr(descr, sizeof descr, PATIENT_P, "none"),
                     CARDEA_ENOTFOUND);
    create(id, HCP_A, "ea");
    share(HCP_A, id, PATIENT_P, CARDEA_ACCESS_READ);
    /* The map lets the HCP find the exchange data again. */
    assert_int_equal(json_object_size(maps), 1);
    assert_int_equal(read_descr(descr, sizeof descr, PATIENT_P, id),
                     CARDEA_ENOTFOUND);
    reload(PATIENT_P);
    assert_int_equal(read_descr(descr, sizeof descr, PATIENT_P, id),
                     CARDEA_OK);
    assert_string_equal(descr, "ea");
    assert_int_not_equal(read_descr(descr, sizeof descr, PATIENT_Q, id),
                         CARDEA_OK);
}

static void
test_share__anonymous_to_explicit_by_map(void **state)
{
    char id[64];
    char descr[64];
    uint64_t before;

    (void)state;
    create(id, PATIENT_P, "ae");
    share(PATIENT_P, id, HCP_A, CARDEA_ACCESS_WRITE);
    assert_int_equal(json_object_size(maps), 1);
    before = cardea_rsa__private_op_count();
    assert_int_equal(read_descr(descr, sizeof descr, HCP_A, id), CARDEA_OK);
    assert_string_equal(descr, "ae");
    /*
     * The map's id, the exchange key and the access-control secret (so
     * later reads find the exchange data by sdKey); nothing more after.
     */
    assert_int_equal(cardea_rsa__private_op_count() - before, 3);
    assert_int_equal(read_descr(descr, sizeof descr, HCP_A, id), CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count() - before, 3);
    assert_int_not_equal(read_descr(descr, sizeof descr, HCP_B, id),
                         CARDEA_OK);
}

static void
test_share__anonymous_to_anonymous(void **state)
{
    char id[64];
    char descr[64];

    (void)state;
    create(id, PATIENT_P, "aa");
    share(PATIENT_P, id, PATIENT_Q, CARDEA_ACCESS_READ);
    assert_int_equal(json_object_size(maps), 0);
    reload(PATIENT_Q);
    assert_int_equal(read_descr(descr, sizeof descr, PATIENT_Q, id),
                     CARDEA_OK);
    assert_string_equal(descr, "aa");
    assert_int_not_equal(read_descr(descr, sizeof descr, HCP_A, id),
                         CARDEA_OK);
}

static json_t *
delegation_to(const char *id, const char *delegate)
{
    const char *key;
    json_t *delegation;

    json_object_foreach((json_t *)delegations_of(id), key, delegation) {
        const char *name = cardea_json__get_str(delegation, "delegate");

        if (name != NULL && strcmp(name, delegate) == 0) {
            return delegation;
        }
    }
    return NULL;
}

static void
test_share__existing_delegation_updated(void **state)
{
    char id[64];
    char *out = NULL;
    size_t before;

    (void)state;
    create(id, HCP_A, "twice");
    share(HCP_A, id, HCP_B, CARDEA_ACCESS_READ);
    before = json_object_size(delegations_of(id));
    /* The delegation to B lost its secret id: a share adds it back. */
    json_object_set_new(delegation_to(id, "hcp-b"), "secretIds",
                        json_array());
    share(HCP_A, id, HCP_B, CARDEA_ACCESS_READ);
    assert_int_equal(json_object_size(delegations_of(id)), before);
    assert_int_equal(json_array_size(json_object_get(
                         delegation_to(id, "hcp-b"), "secretIds")),
                     1);
    /* Nothing is missing any more: the entity comes back unchanged. */
    assert_int_equal(cardea_entity_share(&out, HCP_A->session,
                                         CARDEA_ENTITY_HEALTH_ELEMENT, id,
                                         HCP_B->id, CARDEA_ACCESS_READ),
                     CARDEA_OK);
    assert_non_null(strstr(out, "twice"));
    cardea_free(out);
    assert_int_equal(json_array_size(json_object_get(
                         delegation_to(id, "hcp-b"), "secretIds")),
                     1);
    /* Exchange data to B was verified and created once. */
    assert_int_equal(HCP_A->verify_calls, 1);
}

static void
test_share__rejected_keys_denied(void **state)
{
    char id[64];
    char *out = NULL;

    (void)state;
    create(id, HCP_A, "denied");
    HCP_A->reject_all = true;
    assert_int_equal(cardea_entity_share(&out, HCP_A->session,
                                         CARDEA_ENTITY_HEALTH_ELEMENT, id,
                                         HCP_B->id, CARDEA_ACCESS_READ),
                     CARDEA_EDENIED);
    assert_null(out);
    assert_non_null(strstr(cardea_session_errmsg(HCP_A->session), "hcp-b"));
    assert_int_equal(json_object_size(delegations_of(id)), 1);
}

static void
test_entity__create_with_delegates(void **state)
{
    cardea_entity_delegate delegates[] = {
        {"hcp-b", CARDEA_ACCESS_READ},
        {"patient-p", CARDEA_ACCESS_WRITE},
        {"hcp-a", CARDEA_ACCESS_WRITE},
    };
    cardea_entity_create_options opts = CARDEA_ENTITY_CREATE_OPTIONS_INIT;
    char *out = NULL;
    char id[64];
    char descr[64];
    json_t *created;

    (void)state;
    opts.delegates = delegates;
    opts.delegate_count = 3;
    assert_int_equal(cardea_entity_create(&out, HCP_A->session,
                                          CARDEA_ENTITY_HEALTH_ELEMENT,
                                          "{\"descr\":\"cd\"}", &opts),
                     CARDEA_OK);
    created = json_loads(out, 0, NULL);
    snprintf(id, sizeof id, "%s",
             json_string_value(json_object_get(created, "id")));
    json_decref(created);
    cardea_free(out);
    /* Root, B and P: the user itself gets no second delegation. */
    assert_int_equal(json_object_size(delegations_of(id)), 3);
    /* The patient's delegation hides the exchange-data id in a map. */
    assert_int_equal(json_object_size(maps), 1);
    assert_int_equal(read_descr(descr, sizeof descr, HCP_B, id), CARDEA_OK);
    reload(PATIENT_P);
    assert_int_equal(read_descr(descr, sizeof descr, PATIENT_P, id),
                     CARDEA_OK);
    assert_string_equal(descr, "cd");
}

static void
test_entity__modify_keeps_key_and_metadata(void **state)
{
    char id[64];
    char descr[64];
    char *out = NULL;
    char *saved = NULL;
    json_t *entity;
    json_t *metadata;

    (void)state;
    create(id, HCP_A, "old");
    metadata = json_deep_copy(json_object_get(stored(id),
                                              "securityMetadata"));
    assert_int_equal(cardea_entity_get(&out, HCP_A->session,
                                       CARDEA_ENTITY_HEALTH_ELEMENT, id),
                     CARDEA_OK);
    entity = json_loads(out, 0, NULL);
    cardea_free(out);
    json_object_set_new(entity, "descr", json_string("new"));
    /* A caller cannot change the sharing metadata through modify. */
    json_object_set_new(entity, "securityMetadata", json_object());
    out = json_dumps(entity, JSON_COMPACT);
    assert_int_equal(cardea_entity_modify(&saved, HCP_A->session,
                                          CARDEA_ENTITY_HEALTH_ELEMENT, out),
                     CARDEA_OK);
    assert_non_null(strstr(saved, "\"new\""));
    assert_true(json_equal(metadata, json_object_get(stored(id),
                                                     "securityMetadata")));
    assert_int_equal(read_descr(descr, sizeof descr, HCP_A, id), CARDEA_OK);
    assert_string_equal(descr, "new");
    cardea_free(saved);
    saved = NULL;
    assert_int_equal(cardea_entity_modify(&saved, HCP_A->session,
                                          CARDEA_ENTITY_HEALTH_ELEMENT, out),
                     CARDEA_ECONFLICT);
    assert_null(saved);
    free(out);
    json_decref(entity);
    json_decref(metadata);
}

static void
test_entity__by_ids_reports_undecryptable(void **state)
{
    char mine[64];
    char broken[64];
    const char *ids[2];
    char *out = NULL;
    char **failed = NULL;
    size_t failed_count = 0;
    json_t *list;
    json_t *root;
    const char *key;

    (void)state;
    create(mine, HCP_A, "fine");
    create(broken, HCP_A, "broken");
    /* Corrupt every key of the second entity's root delegation. */
    json_object_foreach((json_t *)delegations_of(broken), key, root) {
        json_object_set_new(root, "encryptionKeys",
                            json_pack("[s]", "AAAAAAAAAAAAAAAAAAAAAA=="));
    }
    ids[0] = mine;
    ids[1] = broken;
    assert_int_equal(cardea_entity_get_by_ids(&out, &failed, &failed_count,
                                              HCP_A->session,
                                              CARDEA_ENTITY_HEALTH_ELEMENT,
                                              ids, 2),
                     CARDEA_OK);
    list = json_loads(out, 0, NULL);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(failed_count, 1);
    assert_string_equal(failed[0], broken);
    json_decref(list);
    cardea_free(out);
    cardea_strings_free(failed, failed_count);
}

static void
test_document__attachment_encrypted_round_trip(void **state)
{
    static const uint8_t data[] = "attachment bytes \x01\x02";
    char *out = NULL;
    char id[64];
    uint8_t *back = NULL;
    size_t back_len = 0;
    json_t *doc;

    (void)state;
    assert_int_equal(cardea_entity_create(&out, HCP_A->session,
                                          CARDEA_ENTITY_DOCUMENT,
                                          "{\"name\":\"a.bin\"}", NULL),
                     CARDEA_OK);
    doc = json_loads(out, 0, NULL);
    snprintf(id, sizeof id, "%s",
             json_string_value(json_object_get(doc, "id")));
    json_decref(doc);
    cardea_free(out);
    assert_int_equal(cardea_document_set_attachment(&out, HCP_A->session, id,
                                                    NULL, data, sizeof data),
                     CARDEA_OK);
    cardea_free(out);
    assert_int_equal(attachment_len, cardea_aes__cbc_blob_len(sizeof data));
    for (size_t i = 0; i + 10 <= attachment_len; i++) {
        assert_memory_not_equal(attachment + i, "attachment", 10);
    }
    assert_int_equal(cardea_document_get_attachment(&back, &back_len,
                                                    HCP_A->session, id),
                     CARDEA_OK);
    assert_int_equal(back_len, sizeof data);
    assert_memory_equal(back, data, sizeof data);
    cardea_free(back);
}

static void
test_entity__rejects_bad_arguments(void **state)
{
    char *out = NULL;

    (void)state;
    assert_int_equal(cardea_entity_create(&out, HCP_A->session,
                                          (cardea_entity_type)9, "{}", NULL),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_entity_create(&out, HCP_A->session,
                                          CARDEA_ENTITY_PATIENT, "[1]", NULL),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_entity_modify(&out, HCP_A->session,
                                          CARDEA_ENTITY_PATIENT,
                                          "{\"id\":\"x\"}"),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_entity_share(&out, HCP_A->session,
                                         CARDEA_ENTITY_PATIENT, "x", "y",
                                         (cardea_access_level)7),
                     CARDEA_EINVAL);
    assert_null(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_entity__create_encrypts_and_reads_back, test_setup,
            test_teardown),
        cmocka_unit_test_setup_teardown(test_entity__anonymous_root_hides_ids,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(
            test_share__explicit_to_explicit_in_clear, test_setup,
            test_teardown),
        cmocka_unit_test_setup_teardown(
            test_share__explicit_to_anonymous_after_reload, test_setup,
            test_teardown),
        cmocka_unit_test_setup_teardown(
            test_share__anonymous_to_explicit_by_map, test_setup,
            test_teardown),
        cmocka_unit_test_setup_teardown(test_share__anonymous_to_anonymous,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_share__existing_delegation_updated,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_share__rejected_keys_denied,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_entity__create_with_delegates,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(
            test_entity__modify_keeps_key_and_metadata, test_setup,
            test_teardown),
        cmocka_unit_test_setup_teardown(
            test_entity__by_ids_reports_undecryptable, test_setup,
            test_teardown),
        cmocka_unit_test_setup_teardown(
            test_document__attachment_encrypted_round_trip, test_setup,
            test_teardown),
        cmocka_unit_test_setup_teardown(test_entity__rejects_bad_arguments,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_entity__reads_legacy_metadata,
                                        test_setup, test_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
