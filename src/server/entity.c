/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Create, modify and read endpoints of the encryptable entities. One set
 * of handlers serves /patient, /helement, /contact, /document,
 * /maintenancetask and /securedelegationkeymap: the first path segment
 * selects the entity type. Entities are stored as the client sent them;
 * the server manages only `id`, `rev`, `deleted`, a Patient's crypto
 * fields and a Document's attachment fields, and indexes each entity
 * under its search keys, secret foreign keys, codes and tags. Access
 * follows the entity's own delegations (server/access.h): a caller that
 * cannot read an entity gets 404, as if it did not exist.
 */
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "format/keys.h"
#include "server/search.h"
#include "server/server_internal.h"

#define KEY_HEADER "Icure-Access-Control-Keys"
/* Raw access-control keys accepted in one request (one MiB). */
#define MAX_KEY_BYTES ((size_t)CARDEA_ACCESS_MAX_KEYS * CARDEA_AC_KEY_LEN)

static const cardea_entity_kind kinds[] = {
    {"patient", "Patient"},
    {"helement", "HealthElement"},
    {"contact", "Contact"},
    {"document", "Document"},
    {"maintenancetask", "MaintenanceTask"},
    {"securedelegationkeymap", "SecureDelegationKeyMap"},
};

const char *const cardea_entity__crypto_fields[] = {
    "publicKey", "publicKeysForOaepWithSha256", "hcPartyKeys",
    "aesExchangeKeys", "transferKeys", "privateKeyShamirPartitions",
};
const size_t cardea_entity__crypto_field_count =
    sizeof cardea_entity__crypto_fields
    / sizeof cardea_entity__crypto_fields[0];

/* Attachment fields of a Document, changed only by attachment requests. */
static const char *const attachment_fields[] = {
    "attachmentId", "objectStoreReference", "secondaryAttachments",
    "deletedAttachments",
};

/* Fields of the deletion state, changed only by delete and undelete. */
static const char *const deletion_fields[] = {"deleted", "deletionDate"};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* ---- request state ------------------------------------------------------- */

typedef struct key_collector {
    cardea_buf keys;
    bool bad;
} key_collector;

/* Decodes one comma-free header value and appends its keys. */
static bool
append_keys(key_collector *collector, const char *value, size_t len)
{
    uint8_t *keys = NULL;
    size_t count = 0;
    bool ok;

    if (cardea_ackey__decode_header(&keys, &count, value, len)
        != CARDEA_OK) {
        return false;
    }
    ok = cardea_buf__append(&collector->keys, keys,
                            count * CARDEA_AC_KEY_LEN) == CARDEA_OK;
    cardea_mem__free_secret(keys, count * CARDEA_AC_KEY_LEN);
    return ok;
}

/*
 * Collects every Icure-Access-Control-Keys value. A client that joins
 * repeated headers with commas, as the Fetch API does, is understood too:
 * base64 never contains a comma.
 */
static enum MHD_Result
collect_keys(void *cls, enum MHD_ValueKind kind, const char *key,
             const char *value)
{
    key_collector *collector = cls;

    (void)kind;
    if (key == NULL || strcasecmp(key, KEY_HEADER) != 0) {
        return MHD_YES;
    }
    if (value == NULL) {
        collector->bad = true;
        return MHD_NO;
    }
    for (;;) {
        size_t len = strcspn(value, ",");
        size_t start = 0;

        while (start < len && value[start] == ' ') {
            start++;
        }
        while (len > start && value[len - 1] == ' ') {
            len--;
        }
        if (!append_keys(collector, value + start, len - start)) {
            collector->bad = true;
            return MHD_NO;
        }
        value += strcspn(value, ",");
        if (*value == '\0') {
            return MHD_YES;
        }
        value++;
    }
}

static const cardea_entity_kind *
find_kind(const char *path)
{
    size_t len = strcspn(path, "/");

    for (size_t i = 0; i < COUNT(kinds); i++) {
        if (strlen(kinds[i].path) == len
            && strncmp(kinds[i].path, path, len) == 0) {
            return &kinds[i];
        }
    }
    return NULL;
}

bool
cardea_entity__begin(cardea_entity_req *out, cardea_http_resp *resp,
                     const cardea_http_req *req)
{
    const cardea_entity_kind *kind = find_kind(req->path);
    key_collector collector = {0};
    char **hashes = NULL;
    size_t count = 0;
    cardea_err err = CARDEA_OK;

    if (kind == NULL || req->caller == NULL) {
        cardea_http__error(resp, 500, "internal error");
        return false;
    }
    cardea_buf__init(&collector.keys, MAX_KEY_BYTES);
    (void)MHD_get_connection_values(req->connection, MHD_HEADER_KIND,
                                    collect_keys, &collector);
    if (!collector.bad && collector.keys.len > 0) {
        err = cardea_access__hash_keys(&hashes, &count, collector.keys.data,
                                       collector.keys.len);
    }
    cardea_buf__free(&collector.keys, true);
    if (collector.bad || err != CARDEA_OK) {
        cardea_http__error(resp, err == CARDEA_ENOMEM ? 500 : 400,
                           "invalid %s header: each value must be base64 "
                           "of 16-byte keys", KEY_HEADER);
        return false;
    }

    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->key_hashes = hashes;
    out->caller.user_id = req->caller->user_id;
    out->caller.data_owner_id = req->caller->data_owner_id;
    out->caller.data_owner_type =
        (cardea_data_owner_type)req->caller->type;
    out->caller.ancestor_ids = (const char *const *)req->caller->ancestors;
    out->caller.ancestor_count = req->caller->ancestor_count;
    out->caller.key_hashes = (const char *const *)hashes;
    out->caller.key_hash_count = count;
    out->caller.key_hashes_sorted = true;
    return true;
}

void
cardea_entity__end(cardea_entity_req *ereq)
{
    cardea_mem__free(ereq->key_hashes);
    memset(ereq, 0, sizeof *ereq);
}

void
cardea_entity__send_error(cardea_http_resp *resp,
                          const cardea_access_error *err)
{
    unsigned status = err->status >= 400 && err->status < 600
                          ? (unsigned)err->status
                          : 500;

    cardea_http__error(resp, status, "%s", err->message);
}

json_t *
cardea_entity__read_ids(json_t **body_out, cardea_http_resp *resp,
                        const cardea_http_req *req)
{
    return cardea_http__read_ids(body_out, resp, req,
                                 CARDEA_ENTITY_MAX_IDS);
}

/* ---- storage ------------------------------------------------------------- */

cardea_err
cardea_entity__load(json_t **out, cardea_db *db, const char *type,
                    const char *id)
{
    return cardea_db__entity_get(out, NULL, db, type, id, false);
}

static cardea_err
replace_index(cardea_db *db, const char *type, const char *id,
              cardea_index_kind kind, const cardea_search_list *list)
{
    return cardea_db__index_replace(db, type, id, kind,
                                    (const char *const *)list->items,
                                    list->count);
}

static cardea_err
index_entity(cardea_db *db, const char *type, const json_t *doc)
{
    const char *id = cardea_json__get_str(doc, "id");
    const char *map_key = cardea_json__get_str(doc, "delegationKey");
    cardea_search_list lists[4] = {{0}};
    cardea_err err;

    if ((err = cardea_search__data_owner_keys(&lists[0], doc)) != CARDEA_OK
        || (err = cardea_search__secret_foreign_keys(&lists[1], doc))
               != CARDEA_OK
        || (err = cardea_search__codes(&lists[2], doc, "codes")) != CARDEA_OK
        || (err = cardea_search__codes(&lists[3], doc, "tags")) != CARDEA_OK) {
        goto out;
    }
    if ((err = replace_index(db, type, id, CARDEA_INDEX_SEARCH_KEY,
                             &lists[0])) != CARDEA_OK
        || (err = replace_index(db, type, id, CARDEA_INDEX_SECRET_FK,
                                &lists[1])) != CARDEA_OK
        || (err = replace_index(db, type, id, CARDEA_INDEX_CODE, &lists[2]))
               != CARDEA_OK
        || (err = replace_index(db, type, id, CARDEA_INDEX_TAG, &lists[3]))
               != CARDEA_OK) {
        goto out;
    }
    if (strcmp(type, "SecureDelegationKeyMap") == 0) {
        err = cardea_db__index_replace(db, type, id,
                                       CARDEA_INDEX_DELEGATION_KEY, &map_key,
                                       map_key != NULL ? 1 : 0);
    }

out:
    for (size_t i = 0; i < COUNT(lists); i++) {
        cardea_search__list_free(&lists[i]);
    }
    return err;
}

cardea_err
cardea_entity__save(cardea_db *db, const char *type, json_t *doc,
                    const char *expected_rev)
{
    cardea_err err = cardea_db__entity_put(db, type, doc, expected_rev,
                                           false);

    if (err != CARDEA_OK) {
        return err;
    }
    return index_entity(db, type, doc);
}

/* ---- field rules ------------------------------------------------------- */

/* Sets each of `fields` in `doc` to its value in `from`, or removes it. */
static cardea_err
copy_fields(json_t *doc, const json_t *from, const char *const *fields,
            size_t count)
{
    for (size_t i = 0; i < count; i++) {
        json_t *value = json_object_get(from, fields[i]);

        if (value == NULL || json_is_null(value)) {
            (void)json_object_del(doc, fields[i]);
        } else if (json_object_set(doc, fields[i], value) != 0) {
            return CARDEA_ENOMEM;
        }
    }
    return CARDEA_OK;
}

static bool
is_type(const cardea_entity_req *ereq, const char *type)
{
    return strcmp(ereq->kind->type, type) == 0;
}

/* True when a member is present with a non-empty array or object value. */
static bool
non_empty(const json_t *doc, const char *name)
{
    const json_t *value = json_object_get(doc, name);

    return (json_is_array(value) && json_array_size(value) > 0)
           || (json_is_object(value) && json_object_size(value) > 0);
}

/* Checks and clears what a new entity may not set; false sets `*aerr`. */
static bool
prepare_new(cardea_access_error *aerr, const cardea_entity_req *ereq,
            json_t *doc)
{
    const char *message;

    if (json_object_get(doc, "rev") != NULL
        && !json_is_null(json_object_get(doc, "rev"))) {
        cardea_access__set_error(aerr, 400, "a new entity must not have a "
                                 "rev");
        return false;
    }
    (void)json_object_del(doc, "rev");
    (void)json_object_del(doc, "deleted");
    if (is_type(ereq, "SecureDelegationKeyMap")
        && (message = cardea_sdkmap__invalid(doc)) != NULL) {
        cardea_access__set_error(aerr, 400, "%s", message);
        return false;
    }
    if (is_type(ereq, "Document")) {
        if (non_empty(doc, "secondaryAttachments")
            || non_empty(doc, "deletedAttachments")) {
            cardea_access__set_error(aerr, 400, "a new document cannot "
                                     "have secondary or deleted "
                                     "attachments");
            return false;
        }
        (void)json_object_del(doc, "attachmentId");
        (void)json_object_del(doc, "objectStoreReference");
    }
    return true;
}

/* Maps a store or access error code to an HTTP status and message. */
static void
set_store_error(cardea_access_error *aerr, cardea_err err, const char *id)
{
    char logged[CARDEA_HTTP_LOG_ID_CAP];

    switch (err) {
    case CARDEA_ENOTFOUND:
        cardea_access__set_error(aerr, 404, "entity %s not found", id);
        break;
    case CARDEA_ECONFLICT:
        cardea_access__set_error(aerr, 409, "entity %s: revision conflict "
                                 "or duplicate id; reload and retry", id);
        break;
    case CARDEA_EINVAL:
        cardea_access__set_error(aerr, 400, "entity %s is invalid", id);
        break;
    default:
        cardea_http__log_escape(logged, sizeof logged, id);
        cardea_log__write(CARDEA_LOG_ERROR, "entity %s: %s", logged,
                          cardea_strerror(err));
        cardea_access__set_error(aerr, 500, "internal error");
        break;
    }
}

/* ---- create ------------------------------------------------------------ */

/*
 * Fills the crypto fields of a new Patient whose id is a patient data
 * owner from what that data owner published (`stub`, NULL when it has
 * published nothing), so creating the entity cannot replace its keys.
 */
static cardea_err
merge_data_owner(json_t *doc, cardea_db *db, const json_t *stub)
{
    const char *id = cardea_json__get_str(doc, "id");
    cardea_do_type type;
    cardea_err err;

    if (stub != NULL) {
        return copy_fields(doc, stub, cardea_entity__crypto_fields,
                           cardea_entity__crypto_field_count);
    }
    err = cardea_db__dataowner_get(&type, NULL, db, id);
    if (err == CARDEA_ENOTFOUND) {
        return CARDEA_OK;
    }
    if (err != CARDEA_OK || type != CARDEA_DO_PATIENT) {
        return err;
    }
    return copy_fields(doc, NULL, cardea_entity__crypto_fields,
                       cardea_entity__crypto_field_count);
}

/* Writes a checked new entity; the stub-only row of a patient yields. */
static cardea_err
store_new(cardea_db *db, const cardea_entity_req *ereq, json_t *doc)
{
    const char *type = ereq->kind->type;
    json_t *existing = NULL;
    char *stub_rev = NULL;
    bool stub_only = false;
    cardea_err err;

    err = cardea_db__entity_get(&existing, &stub_only, db, type,
                                cardea_json__get_str(doc, "id"), true);
    if (err == CARDEA_OK && !stub_only) {
        err = CARDEA_ECONFLICT;
    } else if (err == CARDEA_OK) {
        stub_rev = cardea_mem__strdup(cardea_json__get_str(existing, "rev"));
        err = stub_rev != NULL ? CARDEA_OK : CARDEA_EIO;
    } else if (err == CARDEA_ENOTFOUND) {
        err = CARDEA_OK;
    }
    if (err == CARDEA_OK && is_type(ereq, "Patient")) {
        err = merge_data_owner(doc, db, existing);
    }
    if (err == CARDEA_OK) {
        err = cardea_entity__save(db, type, doc, stub_rev);
    }
    cardea_mem__free(stub_rev);
    json_decref(existing);
    return err;
}

/*
 * Creates one entity in its own transaction. Returns true when stored;
 * otherwise `*aerr` contains the status and message.
 */
static bool
create_one(cardea_access_error *aerr, cardea_db *db,
           const cardea_entity_req *ereq, json_t *doc)
{
    const char *id, *message;
    cardea_err err;

    if (!json_is_object(doc)) {
        cardea_access__set_error(aerr, 400, "an entity must be a JSON "
                                 "object");
        return false;
    }
    if (json_object_get(doc, "id") == NULL) {
        char uuid[CARDEA_UUID_STR_LEN + 1];

        cardea_uuid__v4(uuid);
        if (cardea_json__set_str(doc, "id", uuid) != CARDEA_OK) {
            cardea_access__set_error(aerr, 500, "out of memory");
            return false;
        }
    }
    id = cardea_json__get_str(doc, "id");
    if ((message = cardea_http__invalid_id(id)) != NULL) {
        cardea_access__set_error(aerr, 400, "invalid entity id: %s",
                                 message);
        return false;
    }
    if (!prepare_new(aerr, ereq, doc)) {
        return false;
    }
    err = cardea_access__check_create(aerr, &ereq->caller, doc);
    if (err == CARDEA_ENOMEM) {
        cardea_access__set_error(aerr, 500, "out of memory");
    }
    if (err != CARDEA_OK) {
        return false;
    }

    if ((err = cardea_db__begin(db)) == CARDEA_OK
        && (err = store_new(db, ereq, doc)) == CARDEA_OK) {
        err = cardea_db__commit(db);
    }
    if (err != CARDEA_OK) {
        cardea_db__rollback(db);
        set_store_error(aerr, err, id);
        return false;
    }
    return true;
}

typedef bool (*item_fn)(cardea_access_error *aerr, cardea_db *db,
                        const cardea_entity_req *ereq, json_t *doc);

/* Runs `fn` on the one entity of the body and responds with it. */
static void
run_single(cardea_http_resp *resp, cardea_http_req *req, item_fn fn)
{
    cardea_entity_req ereq;
    cardea_access_error aerr;
    json_t *doc = NULL;
    cardea_db *db = NULL;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        return;
    }
    if ((doc = cardea_http__body_json(resp, req, true)) == NULL
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    if (fn(&aerr, db, &ereq, doc)) {
        cardea_http__json(resp, 200, json_incref(doc));
    } else {
        cardea_entity__send_error(resp, &aerr);
    }

out:
    cardea_http__db_release(req, db);
    json_decref(doc);
    cardea_entity__end(&ereq);
}

void
cardea_entity__create(cardea_http_resp *resp, cardea_http_req *req)
{
    run_single(resp, req, create_one);
}

/* Reads a JSON array body of at most CARDEA_ENTITY_MAX_IDS items. */
static json_t *
read_array(cardea_http_resp *resp, const cardea_http_req *req)
{
    json_t *list = cardea_http__body_json(resp, req, false);

    if (list != NULL && (!json_is_array(list)
                         || json_array_size(list) > CARDEA_ENTITY_MAX_IDS)) {
        cardea_http__error(resp, 400, "the body must be an array of at "
                           "most %d entities", CARDEA_ENTITY_MAX_IDS);
        json_decref(list);
        return NULL;
    }
    return list;
}

/*
 * Runs `fn` on each item of an array body, each in its own transaction,
 * and responds with the items it stored. As in iCure, an item that fails
 * is left out of the response; the others are still stored.
 */
static void
run_batch(cardea_http_resp *resp, cardea_http_req *req, item_fn fn,
          const char *verb)
{
    cardea_entity_req ereq;
    json_t *list = NULL;
    json_t *done = json_array();
    cardea_db *db = NULL;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        json_decref(done);
        return;
    }
    if (done == NULL || (list = read_array(resp, req)) == NULL
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *doc = json_array_get(list, i);
        cardea_access_error aerr;

        if (!fn(&aerr, db, &ereq, doc)) {
            cardea_log__write(CARDEA_LOG_INFO, "%s batch: item %zu not %s: "
                              "%d", ereq.kind->path, i, verb, aerr.status);
            continue;
        }
        if (cardea_json__append_new(done, json_incref(doc)) != CARDEA_OK) {
            cardea_http__error(resp, 500, "out of memory");
            goto out;
        }
    }
    cardea_http__json(resp, 200, done);
    done = NULL;

out:
    cardea_http__db_release(req, db);
    json_decref(list);
    json_decref(done);
    cardea_entity__end(&ereq);
}

void
cardea_entity__create_batch(cardea_http_resp *resp, cardea_http_req *req)
{
    run_batch(resp, req, create_one, "created");
}

/* ---- modify -------------------------------------------------------------- */

/* Restores in `doc` every field the server manages for this kind. */
static cardea_err
keep_managed_fields(json_t *doc, const json_t *stored,
                    const cardea_entity_req *ereq)
{
    cardea_err err = copy_fields(doc, stored, deletion_fields,
                                 COUNT(deletion_fields));

    if (err == CARDEA_OK && is_type(ereq, "Patient")) {
        err = copy_fields(doc, stored, cardea_entity__crypto_fields,
                          cardea_entity__crypto_field_count);
    }
    if (err == CARDEA_OK && is_type(ereq, "Document")) {
        err = copy_fields(doc, stored, attachment_fields,
                          COUNT(attachment_fields));
    }
    return err;
}

/* Checks and writes a modify inside the open transaction. */
static cardea_err
store_modified(cardea_access_error *aerr, cardea_db *db,
               const cardea_entity_req *ereq, json_t *doc)
{
    const char *id = cardea_json__get_str(doc, "id");
    const char *message;
    json_t *stored = NULL;
    char *rev = NULL;
    cardea_err err = cardea_entity__load(&stored, db, ereq->kind->type, id);

    if (err != CARDEA_OK) {
        set_store_error(aerr, err, id);
        return err;
    }
    err = cardea_access__check_modify(aerr, &ereq->caller, stored, doc);
    if (err == CARDEA_OK && is_type(ereq, "SecureDelegationKeyMap")
        && (message = cardea_sdkmap__invalid(doc)) != NULL) {
        cardea_access__set_error(aerr, 400, "%s", message);
        err = CARDEA_EINVAL;
    }
    if (err == CARDEA_OK) {
        rev = cardea_mem__strdup(cardea_json__get_str(stored, "rev"));
        err = rev != NULL ? keep_managed_fields(doc, stored, ereq)
                          : CARDEA_EIO;
        if (err == CARDEA_OK) {
            err = cardea_entity__save(db, ereq->kind->type, doc, rev);
        }
        if (err != CARDEA_OK) {
            set_store_error(aerr, err, id);
        }
    } else if (err == CARDEA_ENOMEM) {
        cardea_access__set_error(aerr, 500, "out of memory");
    }
    cardea_mem__free(rev);
    json_decref(stored);
    return err;
}

static bool
modify_one(cardea_access_error *aerr, cardea_db *db,
           const cardea_entity_req *ereq, json_t *doc)
{
    const char *id = cardea_json__get_str(doc, "id");
    cardea_err err;

    if (!json_is_object(doc) || id == NULL || id[0] == '\0') {
        cardea_access__set_error(aerr, 400, "an entity must be a JSON "
                                 "object with a string \"id\"");
        return false;
    }
    if ((err = cardea_db__begin(db)) != CARDEA_OK) {
        set_store_error(aerr, err, id);
        return false;
    }
    err = store_modified(aerr, db, ereq, doc);
    if (err == CARDEA_OK && (err = cardea_db__commit(db)) != CARDEA_OK) {
        set_store_error(aerr, err, id);
    }
    if (err != CARDEA_OK) {
        cardea_db__rollback(db);
        return false;
    }
    return true;
}

void
cardea_entity__modify(cardea_http_resp *resp, cardea_http_req *req)
{
    run_single(resp, req, modify_one);
}

void
cardea_entity__modify_batch(cardea_http_resp *resp, cardea_http_req *req)
{
    run_batch(resp, req, modify_one, "modified");
}

/* ---- reads --------------------------------------------------------------- */

/*
 * The response body is the stored JSON text: the entity is returned as
 * stored, so serialising the parsed copy again would give the same bytes.
 * The parsed copy serves the access check only.
 */
void
cardea_entity__get(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_entity_req ereq;
    cardea_db *db = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    size_t text_len = 0;
    cardea_err err;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        return;
    }
    if ((db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    err = cardea_db__entity_get_text(&doc, &text, &text_len, db,
                                     ereq.kind->type, req->params[0]);
    if (err == CARDEA_OK
        && cardea_access__level(&ereq.caller, doc) < CARDEA_ACCESS_READ) {
        err = CARDEA_ENOTFOUND;
    }
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, ereq.kind->type);
    } else {
        cardea_http__json_text(resp, 200, text, text_len);
        text = NULL;
    }

out:
    cardea_http__db_release(req, db);
    cardea_mem__free(text);
    json_decref(doc);
    cardea_entity__end(&ereq);
}

void
cardea_entity__by_ids(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_entity_req ereq;
    json_t *body = NULL;
    json_t *ids = NULL;
    json_t *list = json_array();
    cardea_db *db = NULL;
    cardea_err err = CARDEA_OK;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        json_decref(list);
        return;
    }
    if (list == NULL || (ids = cardea_entity__read_ids(&body, resp, req))
                            == NULL
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    for (size_t i = 0; i < json_array_size(ids) && err == CARDEA_OK; i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        json_t *doc = NULL;

        err = cardea_entity__load(&doc, db, ereq.kind->type, id);
        if (err == CARDEA_OK
            && cardea_access__level(&ereq.caller, doc) >= CARDEA_ACCESS_READ) {
            err = cardea_json__append_new(list, doc);
        } else {
            json_decref(doc);
            err = err == CARDEA_ENOTFOUND ? CARDEA_OK : err;
        }
    }
    cardea_http__json_or_error(resp, err, &list, ereq.kind->type);

out:
    cardea_http__db_release(req, db);
    json_decref(list);
    json_decref(body);
    cardea_entity__end(&ereq);
}
