/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exchange-data endpoints. Exchange data link one delegator to one
 * delegate and carry RSA-encrypted keys for both; the server checks only
 * their shape and who may use them: a caller acts for a participant when
 * it is that data owner or one of its HCP ancestors. Creation needs the
 * caller to act for the delegator; reads and modifications need it to
 * act for either participant; delegator and delegate never change.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "format/keys.h"
#include "server/server_internal.h"

#define MAX_BULK 1000
#define MAX_PAGE 1000
/* Exchange data scanned at most when computing counterparts. */
#define MAX_COUNTERPART_SCAN 100000

static const char *const map_fields[] = {
    "exchangeKey", "accessControlSecret", "sharedSignatureKey",
    "delegatorSignature",
};

/* Returns NULL when `doc` is valid exchange data, else the bad field. */
static const char *
invalid_field(const json_t *doc)
{
    const char *signature = cardea_json__get_str(doc, "sharedSignature");

    if (!json_is_object(doc)) {
        return "body";
    }
    if (cardea_json__get_str(doc, "id") == NULL
        || cardea_json__get_str(doc, "id")[0] == '\0') {
        return "id";
    }
    if (cardea_json__get_str(doc, "delegator") == NULL
        || cardea_json__get_str(doc, "delegator")[0] == '\0') {
        return "delegator";
    }
    if (cardea_json__get_str(doc, "delegate") == NULL
        || cardea_json__get_str(doc, "delegate")[0] == '\0') {
        return "delegate";
    }
    for (size_t i = 0; i < sizeof map_fields / sizeof map_fields[0]; i++) {
        const json_t *map = json_object_get(doc, map_fields[i]);
        const char *key;
        const json_t *value;

        if (!json_is_object(map) || json_object_size(map) == 0) {
            return map_fields[i];
        }
        json_object_foreach((json_t *)map, key, value) {
            if (!json_is_string(value)) {
                return map_fields[i];
            }
        }
    }
    if (signature == NULL || signature[0] == '\0') {
        return "sharedSignature";
    }
    return NULL;
}

static bool
may_use(const cardea_caller *caller, const json_t *doc)
{
    return cardea_http__caller_acts_for(caller,
                                        cardea_json__get_str(doc, "delegator"))
           || cardea_http__caller_acts_for(
               caller, cardea_json__get_str(doc, "delegate"));
}

/* Checks a new exchange data; sets the response and returns false if bad. */
static bool
check_new(cardea_http_resp *resp, const cardea_http_req *req, json_t *doc,
          size_t index)
{
    const char *bad;

    if (json_is_object(doc) && cardea_json__get_str(doc, "id") == NULL) {
        char id[CARDEA_UUID_STR_LEN + 1];

        cardea_uuid__v4(id);
        if (cardea_json__set_str(doc, "id", id) != CARDEA_OK) {
            cardea_http__error(resp, 500, "out of memory");
            return false;
        }
    }
    if ((bad = invalid_field(doc)) != NULL) {
        cardea_http__error(resp, 400, "exchange data %zu: missing or empty "
                           "%s", index, bad);
        return false;
    }
    if ((bad = cardea_http__invalid_id(cardea_json__get_str(doc, "id")))
        != NULL) {
        cardea_http__error(resp, 400, "exchange data %zu: invalid id: %s",
                           index, bad);
        return false;
    }
    if (!cardea_http__caller_acts_for(req->caller,
                                      cardea_json__get_str(doc,
                                                           "delegator"))) {
        cardea_http__error(resp, 403, "exchange data %zu: the caller must "
                           "be the delegator", index);
        return false;
    }
    (void)json_object_del(doc, "rev");
    return true;
}

void
cardea_exchange__create(cardea_http_resp *resp, cardea_http_req *req)
{
    json_t *doc = cardea_http__body_json(resp, req, true);
    cardea_db *db = NULL;
    cardea_err err;

    if (doc == NULL || !check_new(resp, req, doc, 0)
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    err = cardea_db__exchange_put(db, doc, NULL);
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "exchange data");
        goto out;
    }
    cardea_http__json(resp, 200, json_incref(doc));

out:
    cardea_http__db_release(req, db);
    json_decref(doc);
}

void
cardea_exchange__create_bulk(cardea_http_resp *resp, cardea_http_req *req)
{
    json_t *list = cardea_http__body_json(resp, req, false);
    json_t *result = json_array();
    cardea_db *db = NULL;
    cardea_err err = CARDEA_OK;

    if (list == NULL || result == NULL) {
        goto out;
    }
    if (!json_is_array(list) || json_array_size(list) > MAX_BULK) {
        cardea_http__error(resp, 400, "the body must be an array of at "
                           "most %d exchange data", MAX_BULK);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        if (!check_new(resp, req, json_array_get(list, i), i)) {
            goto out;
        }
    }
    if ((db = cardea_http__db(resp, req)) == NULL
        || (err = cardea_db__begin(db)) != CARDEA_OK) {
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(list) && err == CARDEA_OK; i++) {
        json_t *doc = json_array_get(list, i);

        err = cardea_db__exchange_put(db, doc, NULL);
        if (err == CARDEA_OK) {
            err = cardea_json__append_new(
                result, json_pack("{s:O, s:O}", "id",
                                  json_object_get(doc, "id"), "rev",
                                  json_object_get(doc, "rev")));
        }
    }
    if (err == CARDEA_OK && (err = cardea_db__commit(db)) == CARDEA_OK) {
        cardea_http__json(resp, 200, result);
        result = NULL;
        goto out;
    }

fail:
    if (db != NULL) {
        cardea_db__rollback(db);
        cardea_http__store_error(resp, err, "exchange data");
    }

out:
    cardea_http__db_release(req, db);
    json_decref(result);
    json_decref(list);
}

void
cardea_exchange__modify(cardea_http_resp *resp, cardea_http_req *req)
{
    json_t *doc = cardea_http__body_json(resp, req, true);
    const char *rev = cardea_json__get_str(doc, "rev");
    json_t *stored = NULL;
    cardea_db *db = NULL;
    char *expected = NULL;
    const char *bad;
    cardea_err err;

    if (doc == NULL) {
        return;
    }
    if ((bad = invalid_field(doc)) != NULL || rev == NULL) {
        cardea_http__error(resp, 400, "missing or empty %s",
                           bad != NULL ? bad : "rev");
        goto out;
    }
    if ((db = cardea_http__db(resp, req)) == NULL
        || (err = cardea_db__begin(db)) != CARDEA_OK) {
        goto out;
    }
    err = cardea_db__exchange_get(&stored, db, cardea_json__get_str(doc, "id"));
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "exchange data");
        goto out;
    }
    if (!may_use(req->caller, stored)) {
        cardea_http__error(resp, 403, "only the participants may modify "
                           "exchange data");
        goto out;
    }
    if (!json_equal(json_object_get(doc, "delegator"),
                    json_object_get(stored, "delegator"))
        || !json_equal(json_object_get(doc, "delegate"),
                       json_object_get(stored, "delegate"))) {
        cardea_http__error(resp, 400, "delegator and delegate of exchange "
                           "data cannot change");
        goto out;
    }
    if ((expected = cardea_mem__strdup(rev)) == NULL) {
        cardea_http__error(resp, 500, "out of memory");
        goto out;
    }
    if ((err = cardea_db__exchange_put(db, doc, expected)) != CARDEA_OK
        || (err = cardea_db__commit(db)) != CARDEA_OK) {
        cardea_http__store_error(resp, err, "exchange data");
        goto out;
    }
    cardea_http__json(resp, 200, json_incref(doc));

out:
    if (db != NULL) {
        cardea_db__rollback(db);
    }
    cardea_http__db_release(req, db);
    cardea_mem__free(expected);
    json_decref(stored);
    json_decref(doc);
}

void
cardea_exchange__get(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_db *db = cardea_http__db(resp, req);
    json_t *doc = NULL;
    cardea_err err;

    if (db == NULL) {
        return;
    }
    err = cardea_db__exchange_get(&doc, db, req->params[0]);
    cardea_http__db_release(req, db);
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "exchange data");
    } else if (!may_use(req->caller, doc)) {
        cardea_http__error(resp, 403, "only the participants may read "
                           "exchange data");
    } else {
        cardea_http__json(resp, 200, json_incref(doc));
    }
    json_decref(doc);
}

void
cardea_exchange__by_ids(cardea_http_resp *resp, cardea_http_req *req)
{
    json_t *body = NULL;
    json_t *rows = json_array();
    json_t *ids = NULL;
    cardea_db *db = NULL;
    cardea_err err = CARDEA_OK;

    if (rows == NULL) {
        cardea_http__error(resp, 500, "out of memory");
        goto out;
    }
    if ((ids = cardea_http__read_ids(&body, resp, req, MAX_BULK)) == NULL
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    for (size_t i = 0; i < json_array_size(ids) && err == CARDEA_OK; i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        json_t *doc = NULL;

        err = cardea_db__exchange_get(&doc, db, id);
        if (err == CARDEA_OK && may_use(req->caller, doc)) {
            err = cardea_json__append_new(rows, doc);
        } else {
            json_decref(doc);
            err = err == CARDEA_ENOTFOUND ? CARDEA_OK : err;
        }
    }
    cardea_http__json_or_error(resp, err, &rows, "exchange data");

out:
    cardea_http__db_release(req, db);
    json_decref(rows);
    json_decref(body);
}

static void
send_pair(cardea_http_resp *resp, cardea_http_req *req,
          const char *delegator, const char *delegate)
{
    json_t *rows = json_array();
    cardea_db *db = NULL;
    cardea_err err;

    if (!cardea_http__caller_acts_for(req->caller, delegator)
        && !cardea_http__caller_acts_for(req->caller, delegate)) {
        cardea_http__error(resp, 403, "only the participants may list "
                           "their exchange data");
        goto out;
    }
    if (rows == NULL || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    err = cardea_db__exchange_by_pair(rows, db, delegator, delegate);
    cardea_http__json_or_error(resp, err, &rows, "exchange data");

out:
    cardea_http__db_release(req, db);
    json_decref(rows);
}

void
cardea_exchange__by_pair(cardea_http_resp *resp, cardea_http_req *req)
{
    send_pair(resp, req, req->params[0], req->params[1]);
}

void
cardea_exchange__by_pair_query(cardea_http_resp *resp, cardea_http_req *req)
{
    const char *delegator = cardea_http__query(req, "delegatorId");
    const char *delegate = cardea_http__query(req, "delegateId");

    if (delegator == NULL || delegate == NULL || delegator[0] == '\0'
        || delegate[0] == '\0') {
        cardea_http__error(resp, 400, "query parameters delegatorId and "
                           "delegateId are required");
        return;
    }
    send_pair(resp, req, delegator, delegate);
}

/* Parses ?limit= (default and maximum MAX_PAGE); 0 when invalid. */
static size_t
page_limit(const cardea_http_req *req)
{
    const char *text = cardea_http__query(req, "limit");
    char *end = NULL;
    unsigned long value;

    if (text == NULL || text[0] == '\0') {
        return MAX_PAGE;
    }
    if (text[0] < '0' || text[0] > '9') {
        return 0;
    }
    value = strtoul(text, &end, 10);
    if (*end != '\0' || value == 0) {
        return 0;
    }
    return value > MAX_PAGE ? MAX_PAGE : (size_t)value;
}

void
cardea_exchange__by_participant(cardea_http_resp *resp, cardea_http_req *req)
{
    const char *participant = req->params[0];
    const char *start = cardea_http__query(req, "startDocumentId");
    size_t limit = page_limit(req);
    json_t *rows = json_array();
    json_t *page = NULL;
    cardea_db *db = NULL;
    cardea_err err;

    if (!cardea_http__caller_acts_for(req->caller, participant)) {
        cardea_http__error(resp, 403, "only the participant may list its "
                           "exchange data");
        goto out;
    }
    if (limit == 0) {
        cardea_http__error(resp, 400, "limit must be a positive integer");
        goto out;
    }
    if (rows == NULL || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    err = cardea_db__exchange_by_participant(rows, db, participant, start,
                                             limit + 1);
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "exchange data");
        goto out;
    }
    page = json_pack("{s:[]}", "rows");
    if (page == NULL) {
        cardea_http__error(resp, 500, "out of memory");
        goto out;
    }
    if (json_array_size(rows) > limit) {
        json_t *next = json_array_get(rows, limit);

        (void)json_object_set_new(
            page, "nextKeyPair",
            json_pack("{s:s, s:O}", "startKey", participant,
                      "startKeyDocId", json_object_get(next, "id")));
        (void)json_array_remove(rows, limit);
    }
    (void)json_object_set(page, "rows", rows);
    cardea_http__json(resp, 200, page);

out:
    cardea_http__db_release(req, db);
    json_decref(rows);
}

/* Parses "Hcp,Patient,Device" (any case) into a bit set of types. */
static bool
parse_kinds(unsigned *out, const char *text)
{
    unsigned kinds = 0;

    if (text == NULL || text[0] == '\0') {
        return false;
    }
    while (*text != '\0') {
        size_t len = strcspn(text, ",");
        cardea_do_type type = cardea_dataowner__parse_kind(text, len);

        if (type == 0) {
            return false;
        }
        kinds |= 1u << type;
        text += len;
        if (*text == ',') {
            text++;
        }
    }
    *out = kinds;
    return true;
}

/* True when every key map of `doc` has an entry for fingerprint `fp`. */
static bool
fully_encrypted_for(const json_t *doc, const char *fp)
{
    char want[CARDEA_FP_V2_LEN + 1];

    if (cardea_fp__parse_v2(want, fp) != CARDEA_OK) {
        return false;
    }
    for (size_t i = 0; i < 3; i++) {
        const json_t *map = json_object_get(doc, map_fields[i]);
        const char *key;
        const json_t *value;
        bool found = false;

        json_object_foreach((json_t *)map, key, value) {
            char have[CARDEA_FP_V2_LEN + 1];

            (void)value;
            if (cardea_fp__parse_v2(have, key) == CARDEA_OK
                && strcmp(have, want) == 0) {
                found = true;
            }
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

/* Adds the counterparts found in `rows` to the set `found`. */
static cardea_err
collect_counterparts(json_t *found, cardea_db *db, const json_t *rows,
                     const char *participant, unsigned kinds,
                     const char *skip_fp)
{
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *doc = json_array_get(rows, i);
        const char *delegator = cardea_json__get_str(doc, "delegator");
        const char *other = strcmp(delegator, participant) == 0
                                ? cardea_json__get_str(doc, "delegate")
                                : delegator;
        cardea_do_type type;
        cardea_err err;

        if (strcmp(other, participant) == 0
            || json_object_get(found, other) != NULL
            || (skip_fp != NULL && fully_encrypted_for(doc, skip_fp))) {
            continue;
        }
        err = cardea_db__dataowner_get(&type, NULL, db, other);
        if (err == CARDEA_ENOTFOUND || (err == CARDEA_OK
                                        && !(kinds & (1u << type)))) {
            continue;
        }
        if (err != CARDEA_OK
            || json_object_set_new(found, other, json_true()) != 0) {
            return err != CARDEA_OK ? err : CARDEA_ENOMEM;
        }
    }
    return CARDEA_OK;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sends the keys of `set` as a sorted JSON array. */
static void
send_sorted_keys(cardea_http_resp *resp, json_t *set)
{
    size_t count = json_object_size(set);
    const char **keys = cardea_mem__calloc(count + 1, sizeof *keys);
    json_t *list = json_array();
    const char *key;
    json_t *value;
    size_t n = 0;

    if (keys == NULL || list == NULL) {
        cardea_http__error(resp, 500, "out of memory");
        goto out;
    }
    json_object_foreach(set, key, value) {
        (void)value;
        keys[n++] = key;
    }
    qsort(keys, n, sizeof *keys, compare_strings);
    for (size_t i = 0; i < n; i++) {
        if (cardea_json__append_new(list, json_string(keys[i]))
            != CARDEA_OK) {
            cardea_http__error(resp, 500, "out of memory");
            goto out;
        }
    }
    cardea_http__json(resp, 200, list);
    list = NULL;

out:
    json_decref(list);
    cardea_mem__free(keys);
}

void
cardea_exchange__counterparts(cardea_http_resp *resp, cardea_http_req *req)
{
    const char *participant = req->params[0];
    const char *skip_fp = cardea_http__query(req,
                                             "ignoreOnEntryForFingerprint");
    json_t *found = json_object();
    json_t *rows = NULL;
    char *start = NULL;
    cardea_db *db = NULL;
    cardea_err err = CARDEA_OK;
    unsigned kinds = 0;

    if (!cardea_http__caller_acts_for(req->caller, participant)) {
        cardea_http__error(resp, 403, "only the participant may list its "
                           "counterparts");
        goto out;
    }
    if (!parse_kinds(&kinds, cardea_http__query(req, "counterpartsTypes"))) {
        cardea_http__error(resp, 400, "counterpartsTypes must list Hcp, "
                           "Patient or Device, separated by commas");
        goto out;
    }
    if (skip_fp != NULL && skip_fp[0] == '\0') {
        skip_fp = NULL;
    }
    if (found == NULL || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    for (size_t scanned = 0; err == CARDEA_OK
                             && scanned < MAX_COUNTERPART_SCAN;
         scanned += MAX_PAGE) {
        size_t count;

        if ((rows = json_array()) == NULL) {
            err = CARDEA_ENOMEM;
            break;
        }
        err = cardea_db__exchange_by_participant(rows, db, participant,
                                                 start, MAX_PAGE + 1);
        count = json_array_size(rows);
        cardea_mem__free(start);
        start = NULL;
        if (err == CARDEA_OK && count > MAX_PAGE) {
            start = cardea_mem__strdup(cardea_json__get_str(
                json_array_get(rows, MAX_PAGE), "id"));
            (void)json_array_remove(rows, MAX_PAGE);
            err = start != NULL ? CARDEA_OK : CARDEA_ENOMEM;
        }
        if (err == CARDEA_OK) {
            err = collect_counterparts(found, db, rows, participant, kinds,
                                       skip_fp);
        }
        json_decref(rows);
        rows = NULL;
        if (start == NULL) {
            break;
        }
    }
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "exchange data");
        goto out;
    }
    send_sorted_keys(resp, found);

out:
    cardea_http__db_release(req, db);
    cardea_mem__free(start);
    json_decref(found);
}
