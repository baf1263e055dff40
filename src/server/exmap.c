/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exchange-data map endpoints. A map's id is the secure-delegation key
 * sha256hex(access-control key); its entries map a key fingerprint to an
 * exchange-data id encrypted for that key. Writes merge: entries for new
 * fingerprints are added and existing ones are never overwritten. Any
 * authenticated caller may read a map by its id, and maps are never
 * listed.
 */
#include <string.h>

#include "base/base.h"
#include "format/keys.h"
#include "server/server_internal.h"

#define MAX_BATCH 1000

/* Returns NULL when the batch is well formed, else a message. */
static const char *
invalid_batch(const json_t *batch)
{
    const char *key;
    json_t *entries;

    if (!json_is_object(batch) || json_object_size(batch) > MAX_BATCH) {
        return "\"batch\" must be an object of at most 1000 entries";
    }
    json_object_foreach((json_t *)batch, key, entries) {
        const char *fp;
        json_t *value;

        if (strlen(key) != 2 * CARDEA_AC_KEY_LEN
            || !cardea_hex__is_valid(key, strlen(key))) {
            return "each batch key must be an access-control key of 32 "
                   "hex digits";
        }
        if (!json_is_object(entries) || json_object_size(entries) == 0) {
            return "each batch entry must be a non-empty object";
        }
        json_object_foreach(entries, fp, value) {
            if (!json_is_string(value) || fp[0] == '\0') {
                return "each encrypted exchange-data id must be a string";
            }
        }
    }
    return NULL;
}

void
cardea_exmap__put_batch(cardea_http_resp *resp, cardea_http_req *req)
{
    json_t *body = cardea_http__body_json(resp, req, true);
    json_t *batch = json_object_get(body, "batch");
    cardea_db *db = NULL;
    const char *message;
    const char *key;
    json_t *entries;
    cardea_err err;

    if (body == NULL) {
        return;
    }
    if ((message = invalid_batch(batch)) != NULL) {
        cardea_http__error(resp, 400, "%s", message);
        goto out;
    }
    if ((db = cardea_http__db(resp, req)) == NULL
        || (err = cardea_db__begin(db)) != CARDEA_OK) {
        goto out;
    }
    json_object_foreach(batch, key, entries) {
        uint8_t ackey[CARDEA_AC_KEY_LEN];
        char id[CARDEA_SD_KEY_HEX_LEN + 1];
        size_t len = 0;

        err = cardea_hex__decode(ackey, sizeof ackey, &len, key, strlen(key));
        if (err == CARDEA_OK) {
            cardea_sdkey__from_ackey(id, ackey);
            err = cardea_db__exmap_merge(db, id, entries);
        }
        cardea_wipe(ackey, sizeof ackey);
        if (err != CARDEA_OK) {
            break;
        }
    }
    if (err == CARDEA_OK) {
        err = cardea_db__commit(db);
    }
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "exchange-data map");
    } else {
        cardea_http__text(resp, 200, "ok");
    }

out:
    if (db != NULL) {
        cardea_db__rollback(db);
    }
    cardea_http__db_release(req, db);
    json_decref(body);
}

void
cardea_exmap__get_batch(cardea_http_resp *resp, cardea_http_req *req)
{
    json_t *body = NULL;
    json_t *list = json_array();
    json_t *ids = NULL;
    cardea_db *db = NULL;
    cardea_err err = CARDEA_OK;

    if (list == NULL) {
        cardea_http__error(resp, 500, "out of memory");
        goto out;
    }
    if ((ids = cardea_http__read_ids(&body, resp, req, MAX_BATCH)) == NULL
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    for (size_t i = 0; i < json_array_size(ids) && err == CARDEA_OK; i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        json_t *doc = NULL;

        err = cardea_db__exmap_get(&doc, db, id);
        if (err == CARDEA_OK) {
            err = cardea_json__append_new(list, doc);
        } else if (err == CARDEA_ENOTFOUND) {
            err = CARDEA_OK;
        }
    }
    cardea_http__json_or_error(resp, err, &list, "exchange-data maps");

out:
    cardea_http__db_release(req, db);
    json_decref(list);
    json_decref(body);
}
