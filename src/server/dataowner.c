/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data-owner endpoints: the current data owner and its HCP hierarchy,
 * crypto-actor stubs (read by anyone authenticated, modified only by the
 * data owner itself and only in their crypto fields), and the legacy
 * AES exchange-key map. A data owner's document is the entity of type
 * HealthcareParty, Patient or Device with its id. A patient whose
 * Patient entity does not exist yet has an empty stub. When that patient
 * publishes keys first, the keys go to a stub-only Patient row.
 */
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "server/server_internal.h"

#define MAX_IDS 1000

/* Crypto fields of a stub and whether each is a map (else an array). */
static const struct {
    const char *name;
    json_type type;
} crypto_fields[] = {
    {"publicKeysForOaepWithSha256", JSON_ARRAY},
    {"hcPartyKeys", JSON_OBJECT},
    {"aesExchangeKeys", JSON_OBJECT},
    {"transferKeys", JSON_OBJECT},
    {"privateKeyShamirPartitions", JSON_OBJECT},
};

#define CRYPTO_FIELD_COUNT (sizeof crypto_fields / sizeof crypto_fields[0])

cardea_err
cardea_dataowner__ancestors(json_t **out, cardea_db *db, const char *id)
{
    json_t *chain = json_array();
    char *parent = NULL;
    cardea_do_type type;
    cardea_err err;

    if (chain == NULL) {
        return CARDEA_ENOMEM;
    }
    err = cardea_db__dataowner_get(&type, &parent, db, id);
    while (err == CARDEA_OK && parent != NULL) {
        char *next = NULL;
        bool seen = strcmp(parent, id) == 0;

        for (size_t i = 0; i < json_array_size(chain) && !seen; i++) {
            seen = strcmp(json_string_value(json_array_get(chain, i)),
                          parent) == 0;
        }
        if (seen || json_array_size(chain) >= CARDEA_HIERARCHY_MAX_DEPTH) {
            char logged[CARDEA_HTTP_LOG_ID_CAP];

            cardea_http__log_escape(logged, sizeof logged, id);
            cardea_log__write(CARDEA_LOG_ERROR, "data owner %s: parent "
                              "chain loops or is too deep", logged);
            err = CARDEA_EINVAL;
            break;
        }
        /* Built direct parent first; reversed below to root first. */
        err = cardea_json__append_new(chain, json_string(parent));
        if (err == CARDEA_OK) {
            err = cardea_db__dataowner_get(&type, &next, db, parent);
            if (err == CARDEA_ENOTFOUND) {
                err = CARDEA_OK;
            }
        }
        cardea_mem__free(parent);
        parent = next;
    }
    cardea_mem__free(parent);
    if (err != CARDEA_OK) {
        json_decref(chain);
        return err;
    }
    for (size_t i = 0, n = json_array_size(chain); i < n / 2; i++) {
        json_t *a = json_incref(json_array_get(chain, i));

        (void)json_array_set(chain, i, json_array_get(chain, n - 1 - i));
        (void)json_array_set_new(chain, n - 1 - i, a);
    }
    *out = chain;
    return CARDEA_OK;
}

static json_t *
empty_patient(const char *id)
{
    json_t *doc = json_pack("{s:s}", "id", id);

    for (size_t i = 0; doc != NULL && i < CRYPTO_FIELD_COUNT; i++) {
        json_t *empty = crypto_fields[i].type == JSON_ARRAY ? json_array()
                                                            : json_object();

        if (json_object_set_new(doc, crypto_fields[i].name, empty) != 0) {
            json_decref(doc);
            doc = NULL;
        }
    }
    return doc;
}

cardea_err
cardea_dataowner__document(json_t **out, cardea_do_type *type_out,
                           cardea_db *db, const char *id)
{
    cardea_do_type type;
    json_t *doc = NULL;
    cardea_err err;

    if ((err = cardea_db__dataowner_get(&type, NULL, db, id)) != CARDEA_OK) {
        return err;
    }
    err = cardea_db__entity_get(&doc, NULL, db,
                                cardea_do_type__entity_type(type), id, true);
    if (err == CARDEA_ENOTFOUND && type == CARDEA_DO_PATIENT) {
        doc = empty_patient(id);
        err = doc != NULL ? CARDEA_OK : CARDEA_ENOMEM;
    }
    if (err != CARDEA_OK) {
        return err;
    }
    *out = doc;
    *type_out = type;
    return CARDEA_OK;
}

cardea_do_type
cardea_dataowner__parse_kind(const char *name, size_t len)
{
    static const struct {
        const char *name;
        cardea_do_type type;
    } kinds[] = {
        {"hcp", CARDEA_DO_HCP},
        {"patient", CARDEA_DO_PATIENT},
        {"device", CARDEA_DO_DEVICE},
    };

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strlen(kinds[i].name) == len
            && strncasecmp(kinds[i].name, name, len) == 0) {
            return kinds[i].type;
        }
    }
    return 0;
}

/* Copies the stub fields of `doc`, with empty defaults, into a new object. */
static json_t *
make_stub(const json_t *doc)
{
    static const char *const optional[] = {
        "rev", "publicKey", "parentId", "cryptoActorProperties",
    };
    json_t *stub = json_pack("{s:O}", "id", json_object_get(doc, "id"));

    for (size_t i = 0; stub != NULL && i < 4; i++) {
        json_t *value = json_object_get(doc, optional[i]);

        if (value != NULL && !json_is_null(value)
            && json_object_set(stub, optional[i], value) != 0) {
            json_decref(stub);
            stub = NULL;
        }
    }
    for (size_t i = 0; stub != NULL && i < CRYPTO_FIELD_COUNT; i++) {
        json_t *value = json_object_get(doc, crypto_fields[i].name);

        if (value == NULL || json_typeof(value) != crypto_fields[i].type) {
            value = crypto_fields[i].type == JSON_ARRAY ? json_array()
                                                        : json_object();
        } else {
            json_incref(value);
        }
        if (json_object_set_new(stub, crypto_fields[i].name, value) != 0) {
            json_decref(stub);
            stub = NULL;
        }
    }
    return stub;
}

/* Wraps `value` as {type, <member>: value}; takes the reference. */
static json_t *
with_type(cardea_do_type type, const char *member, json_t *value)
{
    if (value == NULL) {
        return NULL;
    }
    return json_pack("{s:s, s:o}", "type", cardea_do_type__name(type),
                     member, value);
}

void
cardea_dataowner__current(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_db *db = cardea_http__db(resp, req);
    cardea_do_type type;
    json_t *doc = NULL;
    cardea_err err;

    if (db == NULL) {
        return;
    }
    err = cardea_dataowner__document(&doc, &type, db,
                                     req->caller->data_owner_id);
    cardea_http__db_release(req, db);
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "current data owner");
        return;
    }
    cardea_http__json(resp, 200, with_type(type, "dataOwner", doc));
}

/* Self first, then each parent up to the root. */
static void
send_hierarchy(cardea_http_resp *resp, cardea_http_req *req, bool stubs)
{
    cardea_db *db = cardea_http__db(resp, req);
    json_t *ancestors = NULL;
    json_t *list = json_array();
    const char *self = req->caller->data_owner_id;
    cardea_err err;

    if (db == NULL || list == NULL) {
        goto out;
    }
    err = cardea_dataowner__ancestors(&ancestors, db, self);
    for (size_t i = json_array_size(ancestors) + 1; err == CARDEA_OK && i > 0;
         i--) {
        const char *id = i == json_array_size(ancestors) + 1
                             ? self
                             : json_string_value(
                                   json_array_get(ancestors, i - 1));
        cardea_do_type type;
        json_t *doc = NULL;

        if ((err = cardea_dataowner__document(&doc, &type, db, id))
            != CARDEA_OK) {
            break;
        }
        if (stubs) {
            json_t *stub = make_stub(doc);

            json_decref(doc);
            doc = stub;
        }
        err = cardea_json__append_new(
            list, with_type(type, stubs ? "stub" : "dataOwner", doc));
    }
    cardea_http__json_or_error(resp, err, &list, "data owner hierarchy");

out:
    if (db == NULL || (list != NULL && resp->status == 0)) {
        cardea_http__error(resp, 500, "internal error");
    }
    cardea_http__db_release(req, db);
    json_decref(ancestors);
    json_decref(list);
}

void
cardea_dataowner__hierarchy(cardea_http_resp *resp, cardea_http_req *req)
{
    send_hierarchy(resp, req, false);
}

void
cardea_dataowner__hierarchy_stub(cardea_http_resp *resp,
                                 cardea_http_req *req)
{
    send_hierarchy(resp, req, true);
}

/*
 * Reads one data owner as {type, dataOwner} or {type, stub}. A Patient is
 * an encrypted entity, so its full document is only for the patient.
 */
static cardea_err
read_owner(json_t **out, cardea_db *db, const cardea_caller *caller,
           const char *id, bool stub)
{
    cardea_do_type type;
    json_t *doc = NULL;
    cardea_err err = cardea_dataowner__document(&doc, &type, db, id);

    if (err != CARDEA_OK) {
        return err;
    }
    if (!stub && type == CARDEA_DO_PATIENT
        && strcmp(caller->data_owner_id, id) != 0) {
        json_decref(doc);
        return CARDEA_EACCESS;
    }
    if (stub) {
        json_t *only = make_stub(doc);

        json_decref(doc);
        doc = only;
    }
    if ((*out = with_type(type, stub ? "stub" : "dataOwner", doc)) == NULL) {
        return CARDEA_ENOMEM;
    }
    return CARDEA_OK;
}

static void
get_one(cardea_http_resp *resp, cardea_http_req *req, bool stub)
{
    cardea_db *db = cardea_http__db(resp, req);
    json_t *value = NULL;
    cardea_err err;

    if (db == NULL) {
        return;
    }
    err = read_owner(&value, db, req->caller, req->params[0], stub);
    cardea_http__db_release(req, db);
    if (err == CARDEA_EACCESS) {
        cardea_http__error(resp, 403, "only the patient may read its "
                           "full data-owner document; use the stub");
    } else if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "data owner");
    } else {
        cardea_http__json(resp, 200, value);
    }
}

void
cardea_dataowner__get(cardea_http_resp *resp, cardea_http_req *req)
{
    get_one(resp, req, false);
}

void
cardea_dataowner__stub_get(cardea_http_resp *resp, cardea_http_req *req)
{
    get_one(resp, req, true);
}

static void
get_many(cardea_http_resp *resp, cardea_http_req *req, bool stub)
{
    json_t *body = NULL;
    json_t *ids = cardea_http__read_ids(&body, resp, req, MAX_IDS);
    json_t *list = json_array();
    cardea_db *db = NULL;
    cardea_err err = CARDEA_OK;

    if (ids == NULL || list == NULL
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    for (size_t i = 0; i < json_array_size(ids) && err == CARDEA_OK; i++) {
        json_t *value = NULL;

        err = read_owner(&value, db, req->caller,
                         json_string_value(json_array_get(ids, i)), stub);
        if (err == CARDEA_OK) {
            err = cardea_json__append_new(list, value);
        } else if (err == CARDEA_ENOTFOUND || err == CARDEA_EACCESS) {
            err = CARDEA_OK;
        }
    }
    cardea_http__json_or_error(resp, err, &list, "data owners");

out:
    cardea_http__db_release(req, db);
    json_decref(list);
    json_decref(body);
}

void
cardea_dataowner__by_ids(cardea_http_resp *resp, cardea_http_req *req)
{
    get_many(resp, req, false);
}

void
cardea_dataowner__stub_by_ids(cardea_http_resp *resp, cardea_http_req *req)
{
    get_many(resp, req, true);
}

/* Checks the types of the crypto fields a stub sends; NULL when fine. */
static const char *
invalid_crypto_field(const json_t *stub)
{
    const json_t *key = json_object_get(stub, "publicKey");
    const json_t *keys;

    if (key != NULL && !json_is_null(key) && !json_is_string(key)) {
        return "publicKey";
    }
    for (size_t i = 0; i < CRYPTO_FIELD_COUNT; i++) {
        const json_t *value = json_object_get(stub, crypto_fields[i].name);

        if (value != NULL && !json_is_null(value)
            && json_typeof(value) != crypto_fields[i].type) {
            return crypto_fields[i].name;
        }
    }
    keys = json_object_get(stub, "publicKeysForOaepWithSha256");
    for (size_t i = 0; i < json_array_size(keys); i++) {
        if (!json_is_string(json_array_get(keys, i))) {
            return "publicKeysForOaepWithSha256";
        }
    }
    return NULL;
}

/* Replaces the crypto fields of `doc` with those of `stub`. */
static cardea_err
apply_crypto_fields(json_t *doc, const json_t *stub)
{
    for (size_t i = 0; i <= CRYPTO_FIELD_COUNT; i++) {
        const char *name = i < CRYPTO_FIELD_COUNT ? crypto_fields[i].name
                                                  : "publicKey";
        json_t *value = json_object_get(stub, name);

        if (value == NULL || json_is_null(value)) {
            (void)json_object_del(doc, name);
        } else if (json_object_set(doc, name, value) != 0) {
            return CARDEA_ENOMEM;
        }
    }
    return CARDEA_OK;
}

/* Validates the PUT body; returns its "stub" member or sets a 4xx. */
static json_t *
stub_from_body(cardea_http_resp *resp, const cardea_http_req *req,
               json_t *body)
{
    json_t *stub = json_object_get(body, "stub");
    const char *id = cardea_json__get_str(stub, "id");
    const char *bad;

    if (!json_is_object(stub) || id == NULL) {
        cardea_http__error(resp, 400, "the body needs a \"stub\" object "
                           "with a string \"id\"");
        return NULL;
    }
    if (strcmp(id, req->caller->data_owner_id) != 0) {
        cardea_http__error(resp, 403, "a data owner may modify only its "
                           "own stub");
        return NULL;
    }
    if ((bad = invalid_crypto_field(stub)) != NULL) {
        cardea_http__error(resp, 400, "stub field %s has the wrong type",
                           bad);
        return NULL;
    }
    return stub;
}

void
cardea_dataowner__stub_put(cardea_http_resp *resp, cardea_http_req *req)
{
    json_t *body = cardea_http__body_json(resp, req, true);
    json_t *stub = body != NULL ? stub_from_body(resp, req, body) : NULL;
    const char *sent_rev = cardea_json__get_str(stub, "rev");
    cardea_db *db = NULL;
    cardea_do_type type;
    json_t *doc = NULL;
    bool stub_only = false;
    char *stored_rev = NULL;
    cardea_err err;

    if (stub == NULL || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    if ((err = cardea_db__begin(db)) != CARDEA_OK
        || (err = cardea_dataowner__document(&doc, &type, db,
                                             req->caller->data_owner_id))
               != CARDEA_OK) {
        cardea_http__store_error(resp, err, "data owner");
        goto out;
    }
    if (cardea_json__get_str(doc, "rev") != NULL) {
        stored_rev = cardea_mem__strdup(cardea_json__get_str(doc, "rev"));
        if (stored_rev == NULL) {
            cardea_http__error(resp, 500, "out of memory");
            goto out;
        }
    } else {
        stub_only = true;
    }
    if ((sent_rev == NULL) != (stored_rev == NULL)
        || (sent_rev != NULL && strcmp(sent_rev, stored_rev) != 0)) {
        cardea_http__error(resp, 409, "stale stub revision; reload the "
                           "data owner and retry");
        goto out;
    }
    if (stored_rev != NULL) {
        json_t *row = NULL;

        if (cardea_db__entity_get(&row, &stub_only, db,
                                  cardea_do_type__entity_type(type),
                                  req->caller->data_owner_id, true)
            == CARDEA_OK) {
            json_decref(row);
        }
    }
    if ((err = apply_crypto_fields(doc, stub)) != CARDEA_OK
        || (err = cardea_db__entity_put(db, cardea_do_type__entity_type(type),
                                        doc, stored_rev, stub_only))
               != CARDEA_OK
        || (err = cardea_db__commit(db)) != CARDEA_OK) {
        cardea_http__store_error(resp, err, "data owner stub");
        goto out;
    }
    cardea_http__json(resp, 200, with_type(type, "stub", make_stub(doc)));

out:
    if (db != NULL) {
        cardea_db__rollback(db);
    }
    cardea_http__db_release(req, db);
    cardea_mem__free(stored_rev);
    json_decref(doc);
    json_decref(body);
}

void
cardea_dataowner__aes_keys(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_db *db = cardea_http__db(resp, req);
    cardea_do_type type;
    json_t *doc = NULL;
    json_t *keys;
    cardea_err err;

    if (db == NULL) {
        return;
    }
    err = cardea_dataowner__document(&doc, &type, db, req->params[0]);
    cardea_http__db_release(req, db);
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "data owner");
        return;
    }
    keys = json_object_get(doc, "aesExchangeKeys");
    cardea_http__json(resp, 200, json_is_object(keys) ? json_incref(keys)
                                                      : json_object());
    json_decref(doc);
}
