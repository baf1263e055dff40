/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secure-delegation key maps: `{id, rev, delegationKey, encryptedSelf,
 * securityMetadata}` entities that tell other data owners who the
 * anonymous side of a delegation is. They are ordinary secure-delegation
 * entities of type SecureDelegationKeyMap, served by the generic entity
 * handlers for create and bulk share. This file contains their store rules
 * and the lookup by delegation key, whose results are filtered by the
 * caller's access like every other read.
 */
#include <string.h>

#include "base/base.h"
#include "server/server_internal.h"

/* Legacy delegation maps a key map must not use. */
static const char *const legacy_fields[] = {
    "delegations", "encryptionKeys", "cryptedForeignKeys",
    "secretForeignKeys",
};

const char *
cardea_sdkmap__invalid(const json_t *doc)
{
    const char *key = cardea_json__get_str(doc, "delegationKey");

    if (key == NULL || key[0] == '\0') {
        return "a secure-delegation key map needs a string delegationKey";
    }
    for (size_t i = 0; i < 2; i++) {
        const json_t *side = json_object_get(doc, i == 0 ? "delegator"
                                                         : "delegate");

        if (side != NULL && !json_is_null(side)) {
            return "delegator and delegate of a secure-delegation key map "
                   "must be null; encrypt them in encryptedSelf";
        }
    }
    for (size_t i = 0; i < sizeof legacy_fields / sizeof *legacy_fields;
         i++) {
        const json_t *value = json_object_get(doc, legacy_fields[i]);

        if ((json_is_object(value) && json_object_size(value) > 0)
            || (json_is_array(value) && json_array_size(value) > 0)) {
            return "a secure-delegation key map cannot have legacy "
                   "delegations";
        }
    }
    return NULL;
}

/* Appends to `list` the readable maps among the ids in `found`. */
static cardea_err
append_readable(json_t *list, cardea_db *db, const cardea_entity_req *ereq,
                 const json_t *found)
{
    cardea_err err = CARDEA_OK;

    for (size_t i = 0; i < json_array_size(found) && err == CARDEA_OK;
         i++) {
        json_t *doc = NULL;

        err = cardea_entity__load(&doc, db, ereq->kind->type,
                                  json_string_value(json_array_get(found,
                                                                   i)));
        if (err == CARDEA_OK
            && cardea_access__level(&ereq->caller, doc)
                   >= CARDEA_ACCESS_READ) {
            err = cardea_json__append_new(list, doc);
        } else {
            json_decref(doc);
            err = err == CARDEA_ENOTFOUND ? CARDEA_OK : err;
        }
    }
    return err;
}

void
cardea_sdkmap__by_delegation_keys(cardea_http_resp *resp,
                                  cardea_http_req *req)
{
    cardea_entity_req ereq;
    json_t *body = NULL;
    json_t *ids = NULL;
    json_t *found = json_array();
    json_t *list = json_array();
    const char **keys = NULL;
    cardea_db *db = NULL;
    cardea_err err;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        json_decref(found);
        json_decref(list);
        return;
    }
    if (found == NULL || list == NULL
        || (ids = cardea_entity__read_ids(&body, resp, req)) == NULL
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    keys = cardea_mem__calloc(json_array_size(ids) + 1, sizeof *keys);
    if (keys == NULL) {
        cardea_http__error(resp, 500, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(ids); i++) {
        keys[i] = json_string_value(json_array_get(ids, i));
    }
    err = json_array_size(ids) == 0
              ? CARDEA_OK
              : cardea_db__index_find(found, db, ereq.kind->type,
                                      CARDEA_INDEX_DELEGATION_KEY, keys,
                                      json_array_size(ids));
    if (err == CARDEA_OK) {
        err = append_readable(list, db, &ereq, found);
    }
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "secure-delegation key maps");
        goto out;
    }
    cardea_http__json(resp, 200, list);
    list = NULL;

out:
    cardea_http__db_release(req, db);
    cardea_mem__free(keys);
    json_decref(found);
    json_decref(list);
    json_decref(body);
    cardea_entity__end(&ereq);
}
