/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access-control matrix of the entity endpoints, through real HTTP. For
 * each entity family (Patient, HealthElement, Contact, Document,
 * MaintenanceTask) an HCP creates an entity with a root delegation. It
 * shares the entity through bulkSharedMetadataUpdate with a READ
 * delegate, a WRITE delegate and an anonymous patient, whose delegation
 * is keyed by an sdKey only. The access-control keys come from random
 * 16-byte secrets, derived as the official SDK derives them. Nine
 * callers then run every operation: read by id, byIds, match for self,
 * modify, share, delete and, for Document, the attachment read. Each
 * response is compared with the table `expectations`. The test prints
 * every cell that differs and the totals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "base/base.h"
#include "format/delegation.h"
#include "format/keys.h"
#include "server_fixture.h"
#include "store/store.h"

#define ID_LEN (CARDEA_UUID_STR_LEN + 1)
#define SD_KEY_LEN (CARDEA_SD_KEY_HEX_LEN + 1)
#define EXCHANGE_KEY_LEN 32
#define ATTACHMENT_LEN 1000
/* Secret foreign key that links the test entities to a patient. */
#define SUBJECT_SFK "b7c3ad6e-5f1e-4c39-9a1e-2f0c6a4d8e11"
/* A key fingerprint (v2), as used in encryptedExchangeDataId maps. */
#define FP "0123456789abcdef012345"

/* Outcomes besides HTTP statuses. */
enum {
    ABSENT = 1,         /* 200, but the entity is not in the returned list */
    WRONG_BODY = 2,     /* 200 with a body that is not the entity's */
    NOT_STORED = 3,     /* 200, but the creator does not see the change */
    STORED_ANYWAY = 4,  /* rejected, but the creator reads the change */
};

typedef enum caller_id {
    CREATOR,
    READER,
    WRITER,
    ANON_KEY,
    ANON_WRONG_KEY,
    ANON_OTHER_TYPE,
    STRANGER,
    READER_CHILD,
    NOBODY,
    CALLER_COUNT
} caller_id;

typedef enum operation {
    OP_GET,
    OP_BY_IDS,
    OP_MATCH,
    OP_MODIFY,
    OP_SHARE,
    OP_ATTACHMENT,
    OP_DELETE,
} operation;

/*
 * Expected outcome of each operation for each caller, in caller_id order.
 * The server responds with 404 rather than 403 to callers that cannot
 * read the entity, so the response does not reveal that it exists. A
 * caller that can read but not write gets 403. Shares are MAX_READ
 * requests, which a READ delegate may make. A rejected share appears as
 * the code of its rejectedRequests entry. Modify, share and delete are
 * also checked against what the creator reads afterwards. "Match for
 * self" expands the caller's own id and key hashes but not its HCP
 * ancestors, so the READ delegate's child finds nothing although it may
 * read the entity.
 */
typedef struct expectation {
    operation op;
    const char *name;
    bool document_only;
    int outcome[CALLER_COUNT];
} expectation;

static const expectation expectations[] = {
    {OP_GET, "GET by id", false,
     {200, 200, 200, 200, 404, 404, 404, 200, 401}},
    {OP_BY_IDS, "POST byIds", false,
     {200, 200, 200, 200, ABSENT, ABSENT, ABSENT, 200, 401}},
    {OP_MATCH, "POST match for self", false,
     {200, 200, 200, 200, ABSENT, ABSENT, ABSENT, ABSENT, 401}},
    {OP_MODIFY, "PUT modify", false,
     {200, 403, 200, 200, 404, 404, 404, 403, 401}},
    {OP_SHARE, "PUT bulkSharedMetadataUpdate", false,
     {200, 200, 200, 200, 404, 404, 404, 200, 401}},
    {OP_ATTACHMENT, "GET attachment", true,
     {200, 200, 200, 200, 404, 404, 404, 200, 401}},
    {OP_DELETE, "DELETE", false,
     {200, 403, 200, 200, 404, 404, 404, 403, 401}},
};

typedef struct family {
    const char *type;         /* entity type, salts the acKeys */
    const char *path;         /* endpoint under /rest/v2 */
    const char *filter;       /* `$type` of the "by data owner" filter */
    const char *owner_field;  /* the filter's data-owner field */
} family;

static const family families[] = {
    {"Patient", "patient", "PatientByHcPartyFilter", "healthcarePartyId"},
    {"HealthElement", "helement", "HealthElementByHcPartyFilter", "hcpId"},
    {"Contact", "contact", "ContactByHcPartyFilter", "hcpId"},
    {"Document", "document", "DocumentByDataOwnerPatientDateFilter",
     "dataOwnerId"},
    {"MaintenanceTask", "maintenancetask",
     "MaintenanceTaskByHcPartyAndTypeFilter", "healthcarePartyId"},
};

#define FAMILY_COUNT (sizeof families / sizeof families[0])

typedef enum user_id {
    USER_CREATOR,
    USER_READER,
    USER_WRITER,
    USER_PATIENT,
    USER_STRANGER,
    USER_CHILD,
    USER_COUNT
} user_id;

typedef struct user {
    const char *login;
    const char *owner_id;
    cardea_do_type type;
    const char *parent;
} user;

static const user users[USER_COUNT] = {
    {"creator@example.org", "hcp-creator", CARDEA_DO_HCP, NULL},
    {"reader@example.org", "hcp-reader", CARDEA_DO_HCP, NULL},
    {"writer@example.org", "hcp-writer", CARDEA_DO_HCP, NULL},
    {"patient@example.org", "patient-anon", CARDEA_DO_PATIENT, NULL},
    {"stranger@example.org", "hcp-stranger", CARDEA_DO_HCP, NULL},
    {"child@example.org", "hcp-reader-child", CARDEA_DO_HCP, "hcp-reader"},
};

typedef struct caller {
    const char *name;
    int user;                 /* index in `users`, -1 for no credentials */
} caller;

static const caller callers[CALLER_COUNT] = {
    {"creator", USER_CREATOR},
    {"READ delegate", USER_READER},
    {"WRITE delegate", USER_WRITER},
    {"anonymous, right key", USER_PATIENT},
    {"anonymous, wrong key", USER_PATIENT},
    {"anonymous, other type's key", USER_PATIENT},
    {"unrelated HCP", USER_STRANGER},
    {"child of READ delegate", USER_CHILD},
    {"no credentials", -1},
};

/* Exchange secrets of the creator with itself and with each delegate. */
typedef enum secret_id {
    SECRET_ROOT,
    SECRET_READER,
    SECRET_WRITER,
    SECRET_ANON,
    SECRET_COUNT
} secret_id;

typedef struct environment {
    char dir[64];
    char db_path[128];
    cardea_server *server;
    uint16_t port;
    char *tokens[USER_COUNT];
    uint8_t secrets[SECRET_COUNT][CARDEA_AC_SECRET_LEN];
    uint8_t wrong_key[CARDEA_AC_KEY_LEN];
    uint8_t exchange_key[EXCHANGE_KEY_LEN];
    char entity_key_hex[33];
} environment;

static environment env;

/* The entity of one family, its delete targets and the callers' keys. */
typedef struct subject {
    const family *fam;
    char id[ID_LEN];
    char victims[CALLER_COUNT][ID_LEN];
    char sd_keys[SECRET_COUNT][SD_KEY_LEN];
    uint8_t header_keys[CALLER_COUNT][CARDEA_AC_KEY_LEN];
    bool has_header_key[CALLER_COUNT];
    uint8_t attachment[ATTACHMENT_LEN];
} subject;

/* ---- requests ---------------------------------------------------------- */

/*
 * Sends a request as caller `who`: its bearer token and, for the
 * anonymous callers, its access-control key in an
 * Icure-Access-Control-Keys header.
 */
static fixture_reply
send_as(const subject *s, caller_id who, const char *method,
        const char *path, const char *body)
{
    const char *token = NULL;
    char **values = NULL;
    size_t value_count = 0;
    char header[256];
    const char *headers[2] = {NULL, NULL};
    fixture_reply r;

    if (callers[who].user >= 0) {
        token = env.tokens[callers[who].user];
    }
    if (s->has_header_key[who]) {
        assert_int_equal(cardea_ackey__encode_headers(&values, &value_count,
                                                      s->header_keys[who],
                                                      1),
                         CARDEA_OK);
        assert_int_equal(value_count, 1);
        snprintf(header, sizeof header, "Icure-Access-Control-Keys: %s",
                 values[0]);
        headers[0] = header;
    }
    r = fixture_request(env.port, method, path, token, NULL, body,
                        body != NULL ? strlen(body) : 0, headers);
    cardea_ackey__free_headers(values, value_count);
    cardea_wipe(header, sizeof header);
    return r;
}

/* Sends `body` (a JSON value, not consumed) as caller `who`. */
static fixture_reply
send_json_as(const subject *s, caller_id who, const char *method,
             const char *path, const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    fixture_reply r;

    assert_non_null(text);
    r = send_as(s, who, method, path, text);
    free(text);
    return r;
}

/* Fails the test, with the response body, unless `r` has `status`. */
static void
expect_status(const fixture_reply *r, long status, const char *what)
{
    if (r->status != status) {
        print_error("%s: expected HTTP %ld, got %ld: %s\n", what, status,
                    r->status, r->body != NULL ? r->body : "(no body)");
        fail();
    }
}

/* ---- entities and shares ----------------------------------------------- */

static void
derive_sd_key(char out[SD_KEY_LEN], const uint8_t *secret, const char *type)
{
    uint8_t ackey[CARDEA_AC_KEY_LEN];

    assert_int_equal(cardea_ackey__derive(ackey, secret, type), CARDEA_OK);
    cardea_sdkey__from_ackey(out, ackey);
    cardea_wipe(ackey, sizeof ackey);
}

static cardea_delegation_values
delegation_values(const char *const *secret_ids,
                  const char *const *entity_keys)
{
    cardea_delegation_values values = {0};

    values.secret_ids = secret_ids;
    values.secret_ids_len = 1;
    values.encryption_keys = entity_keys;
    values.encryption_keys_len = 1;
    return values;
}

/* Builds a new entity of the subject's family with a root delegation. */
static json_t *
new_entity(const subject *s, const char *id)
{
    const char *secret_ids[] = {"4c1d2a0e-secret-id"};
    const char *entity_keys[] = {env.entity_key_hex};
    cardea_delegation_entry root = {0};
    json_t *metadata = NULL;
    json_t *entity;

    root.sd_key = s->sd_keys[SECRET_ROOT];
    root.params.delegator = users[USER_CREATOR].owner_id;
    root.params.delegate = users[USER_CREATOR].owner_id;
    root.params.exchange_data_id = "ed-creator-self";
    root.params.permissions = CARDEA_ACCESS_WRITE;
    root.params.exchange_key = env.exchange_key;
    root.params.exchange_key_len = sizeof env.exchange_key;
    root.params.values = delegation_values(secret_ids, entity_keys);
    assert_int_equal(cardea_delegation__build_security_metadata(
                         &metadata, &root, NULL, 0),
                     CARDEA_OK);
    entity = json_pack("{s:s, s:s, s:o}", "id", id, "encryptedSelf",
                       "ZW5jcnlwdGVkIGNvbnRlbnQ=", "securityMetadata",
                       metadata);
    assert_non_null(entity);
    if (strcmp(s->fam->type, "Patient") != 0) {
        assert_int_equal(json_object_set_new(entity, "secretForeignKeys",
                                             json_pack("[s]", SUBJECT_SFK)),
                         0);
    }
    if (strcmp(s->fam->type, "MaintenanceTask") == 0) {
        assert_int_equal(json_object_set_new(entity, "taskType",
                                             json_string("KEY_PAIR_UPDATE")),
                         0);
    }
    return entity;
}

/*
 * Builds a share request for the access-control key `ackey`, from the
 * explicit `delegator` (or an anonymous one when NULL) to the explicit
 * `delegate` (or an anonymous one).
 */
static json_t *
share_request(const uint8_t ackey[CARDEA_AC_KEY_LEN], const char *delegator,
              const char *delegate, cardea_requested_permission permission)
{
    const char *secret_ids[] = {"4c1d2a0e-secret-id"};
    const char *entity_keys[] = {env.entity_key_hex};
    json_t *encrypted_id = json_pack("{s:s}", FP, "ZW5jcnlwdGVkIGlk");
    cardea_share_request request = {0};
    json_t *out = NULL;

    request.explicit_delegator = delegator;
    request.explicit_delegate = delegate;
    request.ac_keys = ackey;
    request.ac_keys_count = 1;
    if (delegator != NULL && delegate != NULL) {
        request.exchange_data_id = "ed-creator-delegate";
    } else {
        request.encrypted_exchange_data_id = encrypted_id;
    }
    request.permission = permission;
    request.exchange_key = env.exchange_key;
    request.exchange_key_len = sizeof env.exchange_key;
    request.values = delegation_values(secret_ids, entity_keys);
    assert_int_equal(cardea_delegation__build_share_request(&out, &request),
                     CARDEA_OK);
    json_decref(encrypted_id);
    return out;
}

static void
bulk_add_share(json_t *bulk, const char *entity_id, const char *request_id,
               json_t *request, const char *parent)
{
    const char *parents[] = {parent};

    assert_int_equal(cardea_delegation__bulk_add(bulk, entity_id, request_id,
                                                 CARDEA_REQUEST_SHARE,
                                                 request, parents, 1),
                     CARDEA_OK);
    json_decref(request);
}

/* Adds the READ, WRITE and anonymous shares of the creator for `id`. */
static void
add_grants(json_t *bulk, const subject *s, const char *id)
{
    static const struct {
        const char *request_id;
        secret_id secret;
        user_id delegate;     /* USER_COUNT: anonymous */
        cardea_requested_permission permission;
    } grants[] = {
        {"reader", SECRET_READER, USER_READER, CARDEA_PERMISSION_MAX_READ},
        {"writer", SECRET_WRITER, USER_WRITER, CARDEA_PERMISSION_MAX_WRITE},
        {"anon", SECRET_ANON, USER_COUNT, CARDEA_PERMISSION_MAX_WRITE},
    };
    uint8_t ackey[CARDEA_AC_KEY_LEN];

    for (size_t i = 0; i < sizeof grants / sizeof grants[0]; i++) {
        const char *delegate = grants[i].delegate == USER_COUNT
                                   ? NULL
                                   : users[grants[i].delegate].owner_id;

        assert_int_equal(cardea_ackey__derive(ackey,
                                              env.secrets[grants[i].secret],
                                              s->fam->type),
                         CARDEA_OK);
        bulk_add_share(bulk, id, grants[i].request_id,
                       share_request(ackey, users[USER_CREATOR].owner_id,
                                     delegate, grants[i].permission),
                       s->sd_keys[SECRET_ROOT]);
    }
    cardea_wipe(ackey, sizeof ackey);
}

/* Finds the EntityBulkShareResult of `id` in a bulk share response. */
static const json_t *
share_result(const json_t *results, const char *id)
{
    size_t i;
    const json_t *result;

    json_array_foreach(results, i, result) {
        const char *entity_id = cardea_json__get_str(result, "entityId");

        if (entity_id != NULL && strcmp(entity_id, id) == 0) {
            return result;
        }
    }
    return NULL;
}

/* Checks that every request of every entity in the response was accepted. */
static void
expect_all_accepted(const fixture_reply *r, const char *what)
{
    size_t i;
    const json_t *result;

    expect_status(r, 200, what);
    assert_true(json_is_array(r->json));
    json_array_foreach(r->json, i, result) {
        const json_t *rejected = json_object_get(result, "rejectedRequests");

        if (json_object_size(rejected) != 0
            || json_object_get(result, "entityRev") == NULL) {
            print_error("%s: a request was rejected: %s\n", what, r->body);
            fail();
        }
    }
}

/* ---- subject set-up ----------------------------------------------------- */

static void
derive_subject_keys(subject *s)
{
    const char *other_type = strcmp(s->fam->type, "Patient") == 0
                                 ? "HealthElement"
                                 : "Patient";

    for (size_t k = 0; k < SECRET_COUNT; k++) {
        derive_sd_key(s->sd_keys[k], env.secrets[k], s->fam->type);
    }
    assert_int_equal(cardea_ackey__derive(s->header_keys[ANON_KEY],
                                          env.secrets[SECRET_ANON],
                                          s->fam->type),
                     CARDEA_OK);
    memcpy(s->header_keys[ANON_WRONG_KEY], env.wrong_key, CARDEA_AC_KEY_LEN);
    assert_int_equal(cardea_ackey__derive(s->header_keys[ANON_OTHER_TYPE],
                                          env.secrets[SECRET_ANON],
                                          other_type),
                     CARDEA_OK);
    s->has_header_key[ANON_KEY] = true;
    s->has_header_key[ANON_WRONG_KEY] = true;
    s->has_header_key[ANON_OTHER_TYPE] = true;
}

static void
create_entity(const subject *s, const char *id)
{
    json_t *entity = new_entity(s, id);
    fixture_reply r = send_json_as(s, CREATOR, "POST", s->fam->path, entity);
    char what[96];

    snprintf(what, sizeof what, "POST %s", s->fam->path);
    expect_status(&r, 200, what);
    assert_non_null(cardea_json__get_str(r.json, "rev"));
    fixture_reply_free(&r);
    json_decref(entity);
}

/* Reads the entity as its creator; the caller frees the reply. */
static fixture_reply
read_as_creator(const subject *s)
{
    char path[128];
    fixture_reply r;

    snprintf(path, sizeof path, "%s/%s", s->fam->path, s->id);
    r = send_as(s, CREATOR, "GET", path, NULL);
    expect_status(&r, 200, "GET as creator");
    return r;
}

static void
put_attachment(subject *s)
{
    fixture_reply current = read_as_creator(s);
    char path[256];
    fixture_reply r;

    cardea_random__bytes(s->attachment, sizeof s->attachment);
    snprintf(path, sizeof path,
             "document/%s/attachment?rev=%s&utis=public.data&encrypted=true",
             s->id, cardea_json__get_str(current.json, "rev"));
    r = fixture_request(env.port, "PUT", path, env.tokens[USER_CREATOR],
                        "application/octet-stream", s->attachment,
                        sizeof s->attachment, NULL);
    expect_status(&r, 200, "PUT document attachment");
    fixture_reply_free(&r);
    fixture_reply_free(&current);
}

/*
 * Creates the subject entity and one delete target per caller, and
 * shares all of them with the READ, WRITE and anonymous delegates in one
 * bulk request.
 */
static void
subject_setup(subject *s, const family *fam)
{
    json_t *bulk = NULL;
    char path[128];
    fixture_reply r;

    memset(s, 0, sizeof *s);
    s->fam = fam;
    derive_subject_keys(s);
    cardea_uuid__v4(s->id);
    create_entity(s, s->id);
    assert_int_equal(cardea_delegation__bulk_new(&bulk), CARDEA_OK);
    add_grants(bulk, s, s->id);
    for (size_t c = 0; c < CALLER_COUNT; c++) {
        cardea_uuid__v4(s->victims[c]);
        create_entity(s, s->victims[c]);
        add_grants(bulk, s, s->victims[c]);
    }
    snprintf(path, sizeof path, "%s/bulkSharedMetadataUpdate", fam->path);
    r = send_json_as(s, CREATOR, "PUT", path, bulk);
    expect_all_accepted(&r, path);
    assert_int_equal(json_array_size(r.json), CALLER_COUNT + 1);
    fixture_reply_free(&r);
    json_decref(bulk);
    if (strcmp(fam->type, "Document") == 0) {
        put_attachment(s);
    }
}

static void
subject_clear(subject *s)
{
    cardea_wipe(s->header_keys, sizeof s->header_keys);
}

/* ---- one cell per (operation, caller) --------------------------------- */

/* The data-owner id that "for self" means for `who`. */
static const char *
self_id(caller_id who)
{
    int u = callers[who].user;

    return u >= 0 ? users[u].owner_id : users[USER_CREATOR].owner_id;
}

/* The delegation key that `who` names as parent of a new share. */
static void
parent_key(char out[SD_KEY_LEN], const subject *s, caller_id who)
{
    switch (who) {
    case READER:
    case READER_CHILD:
        memcpy(out, s->sd_keys[SECRET_READER], SD_KEY_LEN);
        break;
    case WRITER:
        memcpy(out, s->sd_keys[SECRET_WRITER], SD_KEY_LEN);
        break;
    case ANON_KEY:
    case ANON_WRONG_KEY:
    case ANON_OTHER_TYPE:
        cardea_sdkey__from_ackey(out, s->header_keys[who]);
        break;
    default:
        /* The unrelated HCP names the root key, as if it had leaked. */
        memcpy(out, s->sd_keys[SECRET_ROOT], SD_KEY_LEN);
        break;
    }
}

/* 200 when an element of `list` is `id` or an object with that id. */
static int
listed_outcome(const json_t *list, const char *id)
{
    size_t i;
    const json_t *item;

    if (!json_is_array(list)) {
        return WRONG_BODY;
    }
    json_array_foreach(list, i, item) {
        const char *found = json_is_string(item)
                                ? json_string_value(item)
                                : cardea_json__get_str(item, "id");

        if (found != NULL && strcmp(found, id) == 0) {
            return 200;
        }
    }
    return ABSENT;
}

static int
observe_get(const subject *s, caller_id who)
{
    char path[128];
    fixture_reply r;
    int outcome;

    snprintf(path, sizeof path, "%s/%s", s->fam->path, s->id);
    r = send_as(s, who, "GET", path, NULL);
    outcome = (int)r.status;
    if (r.status == 200) {
        const char *id = cardea_json__get_str(r.json, "id");

        outcome = id != NULL && strcmp(id, s->id) == 0 ? 200 : WRONG_BODY;
    }
    fixture_reply_free(&r);
    return outcome;
}

static int
observe_by_ids(const subject *s, caller_id who)
{
    json_t *body = json_pack("{s:[s]}", "ids", s->id);
    char path[128];
    fixture_reply r;
    int outcome;

    snprintf(path, sizeof path, "%s/byIds", s->fam->path);
    r = send_json_as(s, who, "POST", path, body);
    outcome = r.status == 200 ? listed_outcome(r.json, s->id)
                              : (int)r.status;
    fixture_reply_free(&r);
    json_decref(body);
    return outcome;
}

static int
observe_match(const subject *s, caller_id who)
{
    json_t *filter = json_pack("{s:s, s:s}", "$type", s->fam->filter,
                               s->fam->owner_field, self_id(who));
    char path[128];
    fixture_reply r;
    int outcome;

    if (strcmp(s->fam->type, "Document") == 0) {
        json_object_set_new(filter, "secretPatientKeys",
                            json_pack("[s]", SUBJECT_SFK));
    } else if (strcmp(s->fam->type, "MaintenanceTask") == 0) {
        json_object_set_new(filter, "type", json_string("KEY_PAIR_UPDATE"));
    }
    snprintf(path, sizeof path, "%s/match", s->fam->path);
    r = send_json_as(s, who, "POST", path, filter);
    outcome = r.status == 200 ? listed_outcome(r.json, s->id)
                              : (int)r.status;
    fixture_reply_free(&r);
    json_decref(filter);
    return outcome;
}

/*
 * Turns a status into NOT_STORED or STORED_ANYWAY when the stored state,
 * as the creator reads it, contradicts the status.
 */
static int
check_stored(int status, bool stored)
{
    if (status == 200 && !stored) {
        return NOT_STORED;
    }
    if (status != 200 && stored) {
        return STORED_ANYWAY;
    }
    return status;
}

/*
 * Changes a clear field of the current entity to the caller's name and
 * PUTs it as `who`, then checks the stored field as the creator.
 */
static int
observe_modify(const subject *s, caller_id who)
{
    fixture_reply current = read_as_creator(s);
    fixture_reply r;
    fixture_reply after;
    const char *note;
    int outcome;

    assert_int_equal(json_object_set_new(current.json, "note",
                                         json_string(callers[who].name)),
                     0);
    r = send_json_as(s, who, "PUT", s->fam->path, current.json);
    after = read_as_creator(s);
    note = cardea_json__get_str(after.json, "note");
    outcome = check_stored((int)r.status,
                           note != NULL
                               && strcmp(note, callers[who].name) == 0);
    fixture_reply_free(&after);
    fixture_reply_free(&r);
    fixture_reply_free(&current);
    return outcome;
}

/* Returns the share outcome of the request "probe" in a bulk response. */
static int
share_outcome(const fixture_reply *r, const char *id)
{
    const json_t *result;
    const json_t *rejected;

    if (r->status != 200) {
        return (int)r->status;
    }
    result = share_result(r->json, id);
    rejected = json_object_get(json_object_get(result, "rejectedRequests"),
                               "probe");
    if (rejected != NULL) {
        return (int)json_integer_value(json_object_get(rejected, "code"));
    }
    return json_object_get(result, "entityRev") != NULL ? 200 : WRONG_BODY;
}

/*
 * Asks for a MAX_READ share of the entity with a new anonymous delegate,
 * under the delegation `who` holds, then checks as the creator whether
 * the new delegation is stored. Explicit callers name themselves as
 * delegator.
 */
static int
observe_share(const subject *s, caller_id who)
{
    uint8_t ackey[CARDEA_AC_KEY_LEN];
    char new_key[SD_KEY_LEN];
    char parent[SD_KEY_LEN];
    const char *delegator = NULL;
    json_t *bulk = NULL;
    char path[128];
    fixture_reply r;
    fixture_reply after;
    int outcome;

    if (callers[who].user >= 0 && !s->has_header_key[who]) {
        delegator = self_id(who);
    }
    cardea_random__bytes(ackey, sizeof ackey);
    cardea_sdkey__from_ackey(new_key, ackey);
    parent_key(parent, s, who);
    assert_int_equal(cardea_delegation__bulk_new(&bulk), CARDEA_OK);
    bulk_add_share(bulk, s->id, "probe",
                   share_request(ackey, delegator, NULL,
                                 CARDEA_PERMISSION_MAX_READ),
                   parent);
    snprintf(path, sizeof path, "%s/bulkSharedMetadataUpdate", s->fam->path);
    r = send_json_as(s, who, "PUT", path, bulk);
    after = read_as_creator(s);
    outcome = check_stored(
        share_outcome(&r, s->id),
        json_object_get(json_object_get(json_object_get(after.json,
                                                        "securityMetadata"),
                                         "secureDelegations"),
                        new_key) != NULL);
    fixture_reply_free(&after);
    fixture_reply_free(&r);
    json_decref(bulk);
    cardea_wipe(ackey, sizeof ackey);
    return outcome;
}

static int
observe_attachment(const subject *s, caller_id who)
{
    char path[128];
    fixture_reply r;
    int outcome;

    snprintf(path, sizeof path, "document/%s/attachment", s->id);
    r = send_as(s, who, "GET", path, NULL);
    outcome = (int)r.status;
    if (r.status == 200
        && (r.len != sizeof s->attachment
            || memcmp(r.body, s->attachment, r.len) != 0)) {
        outcome = WRONG_BODY;
    }
    fixture_reply_free(&r);
    return outcome;
}

/*
 * Deletes the caller's own delete target, so every cell starts alike,
 * then checks as the creator whether the target is marked deleted.
 */
static int
observe_delete(const subject *s, caller_id who)
{
    char path[128];
    fixture_reply r;
    fixture_reply after;
    const json_t *deleted;
    int outcome;

    snprintf(path, sizeof path, "%s/%s", s->fam->path, s->victims[who]);
    r = send_as(s, who, "DELETE", path, NULL);
    after = send_as(s, CREATOR, "GET", path, NULL);
    deleted = json_object_get(after.json, "deleted");
    outcome = check_stored((int)r.status,
                           after.status == 404
                               || (deleted != NULL && !json_is_null(deleted)
                                   && !json_is_false(deleted)));
    fixture_reply_free(&after);
    fixture_reply_free(&r);
    return outcome;
}

static int
observe(const subject *s, operation op, caller_id who)
{
    switch (op) {
    case OP_GET:
        return observe_get(s, who);
    case OP_BY_IDS:
        return observe_by_ids(s, who);
    case OP_MATCH:
        return observe_match(s, who);
    case OP_MODIFY:
        return observe_modify(s, who);
    case OP_SHARE:
        return observe_share(s, who);
    case OP_ATTACHMENT:
        return observe_attachment(s, who);
    case OP_DELETE:
        return observe_delete(s, who);
    }
    return -1;
}

static void
describe(char *out, size_t out_cap, int outcome)
{
    if (outcome == ABSENT) {
        snprintf(out, out_cap, "200 without the entity");
    } else if (outcome == WRONG_BODY) {
        snprintf(out, out_cap, "200 with a wrong body");
    } else if (outcome == NOT_STORED) {
        snprintf(out, out_cap, "200 but the change is not stored");
    } else if (outcome == STORED_ANYWAY) {
        snprintf(out, out_cap, "an error but the change is stored");
    } else {
        snprintf(out, out_cap, "%d", outcome);
    }
}

/* ---- fixture and test --------------------------------------------------- */

static int
setup(void **state)
{
    cardea_store *store = NULL;
    cardea_db *db = NULL;
    uint8_t entity_key[16];

    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(env.dir, sizeof env.dir, "/tmp/cardea-matrix-XXXXXX");
    assert_non_null(mkdtemp(env.dir));
    snprintf(env.db_path, sizeof env.db_path, "%s/test.sqlite", env.dir);

    assert_int_equal(cardea_store_open(&store, env.db_path, NULL),
                     CARDEA_OK);
    assert_int_equal(cardea_store__acquire(&db, store), CARDEA_OK);
    for (size_t u = 0; u < USER_COUNT; u++) {
        fixture_add_user(db, users[u].login, users[u].type,
                         users[u].owner_id, users[u].parent);
    }
    cardea_store__release(store, db);
    cardea_store_close(store);

    env.server = fixture_start_server(env.db_path, &env.port,
                                      (size_t)1 << 20);
    for (size_t u = 0; u < USER_COUNT; u++) {
        env.tokens[u] = fixture_login(env.port, users[u].login,
                                      FIXTURE_PASSWORD);
    }
    cardea_random__bytes(&env.secrets[0][0], sizeof env.secrets);
    cardea_random__bytes(env.wrong_key, sizeof env.wrong_key);
    cardea_random__bytes(env.exchange_key, sizeof env.exchange_key);
    cardea_random__bytes(entity_key, sizeof entity_key);
    assert_int_equal(cardea_hex__encode(env.entity_key_hex,
                                        sizeof env.entity_key_hex,
                                        entity_key, sizeof entity_key),
                     CARDEA_OK);
    cardea_wipe(entity_key, sizeof entity_key);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    cardea_server_free(env.server);
    for (size_t u = 0; u < USER_COUNT; u++) {
        free(env.tokens[u]);
    }
    fixture_remove_db_files(env.db_path);
    rmdir(env.dir);
    cardea_wipe(&env, sizeof env);
    curl_global_cleanup();
    return 0;
}

/* Number of cells the table defines: its rows times callers, per family. */
static size_t
table_size(void)
{
    size_t cells = 0;

    for (size_t e = 0; e < sizeof expectations / sizeof expectations[0];
         e++) {
        cells += (expectations[e].document_only ? 1 : FAMILY_COUNT)
                 * CALLER_COUNT;
    }
    return cells;
}

/* Runs every row of the table for one family; returns the wrong cells. */
static size_t
run_family(const family *fam, size_t *cells)
{
    subject s;
    size_t wrong = 0;
    char want[48];
    char got[48];

    subject_setup(&s, fam);
    for (size_t e = 0; e < sizeof expectations / sizeof expectations[0];
         e++) {
        const expectation *row = &expectations[e];

        if (row->document_only && strcmp(fam->type, "Document") != 0) {
            continue;
        }
        for (size_t c = 0; c < CALLER_COUNT; c++) {
            int outcome = observe(&s, row->op, (caller_id)c);

            *cells += 1;
            if (outcome != row->outcome[c]) {
                wrong++;
                describe(want, sizeof want, row->outcome[c]);
                describe(got, sizeof got, outcome);
                print_message("  %s %s as %s: expected %s, got %s\n",
                              fam->path, row->name, callers[c].name, want,
                              got);
            }
        }
    }
    subject_clear(&s);
    return wrong;
}

static void
test_access_matrix__all_cells_match_table(void **state)
{
    size_t cells = 0;
    size_t wrong = 0;

    (void)state;
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        wrong += run_family(&families[f], &cells);
    }
    print_message("access matrix: %zu cells, %zu wrong\n", cells, wrong);
    assert_int_equal(cells, table_size());
    assert_int_equal(wrong, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_matrix__all_cells_match_table),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
