/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `PUT /<entity>/bulkSharedMetadataUpdate` and its Minimal variant: adds
 * delegations to entities and updates existing ones (server/share.h has
 * the rules). Each entity is handled in its own transaction: the updated
 * entity is saved with its index rows, then the ExchangeDataMaps of the
 * accepted share requests are created or extended, so a failure leaves
 * neither half written. The response lists one EntityBulkShareResult per
 * requested entity.
 */
#include <string.h>

#include "base/base.h"
#include "server/share.h"
#include "server/server_internal.h"

/* Checks the body shape; returns its requestsByEntityId or sets a 400. */
static json_t *
requests_of(cardea_http_resp *resp, json_t *body)
{
    json_t *requests = json_object_get(body, "requestsByEntityId");
    const char *id;
    json_t *request;

    if (!json_is_object(requests)
        || json_object_size(requests) > CARDEA_ENTITY_MAX_IDS) {
        cardea_http__error(resp, 400, "the body needs an object "
                           "\"requestsByEntityId\" of at most %d entities",
                           CARDEA_ENTITY_MAX_IDS);
        return NULL;
    }
    json_object_foreach(requests, id, request) {
        if (!json_is_object(request)
            || !json_is_object(json_object_get(request, "requests"))) {
            cardea_http__error(resp, 400, "requestsByEntityId[%s] needs an "
                               "object \"requests\"", id);
            return NULL;
        }
    }
    return requests;
}

/* Saves the outcome's entity and applies its map updates. */
static cardea_err
save_outcome(cardea_db *db, const char *type, cardea_share_outcome *outcome,
             const char *stored_rev)
{
    cardea_err err = cardea_entity__save(db, type, outcome->entity,
                                         stored_rev);

    for (size_t i = 0; err == CARDEA_OK && i < outcome->map_update_count;
         i++) {
        err = cardea_db__exmap_merge(db, outcome->map_updates[i].id,
                                     outcome->map_updates[i].encrypted_ids);
    }
    if (err == CARDEA_OK) {
        err = cardea_db__commit(db);
    }
    return err;
}

/*
 * Applies the requests of one entity inside the open transaction and
 * writes the result object to `*out`. CARDEA_OK covers rejected
 * requests too; other codes are server failures.
 */
static cardea_err
share_loaded(json_t **out, cardea_db *db, const cardea_entity_req *ereq,
             const json_t *entity, const json_t *request, bool minimal)
{
    cardea_share_outcome outcome;
    char *rev = NULL;
    cardea_err err = cardea_share__apply(&outcome, &ereq->caller,
                                         ereq->kind->type, entity, request);

    if (err != CARDEA_OK) {
        return err;
    }
    if (outcome.entity != NULL) {
        rev = cardea_mem__strdup(cardea_json__get_str(entity, "rev"));
        err = rev != NULL ? save_outcome(db, ereq->kind->type, &outcome, rev)
                          : CARDEA_EIO;
        if (err == CARDEA_OK) {
            err = cardea_share__set_saved(
                &outcome, cardea_json__get_str(outcome.entity, "rev"),
                minimal);
        } else {
            char logged[CARDEA_HTTP_LOG_ID_CAP];

            cardea_http__log_escape(logged, sizeof logged,
                                    cardea_json__get_str(entity, "id"));
            cardea_log__write(CARDEA_LOG_WARN, "bulk share of %s: saving "
                              "failed: %s", logged, cardea_strerror(err));
            cardea_db__rollback(db);
            err = cardea_share__set_save_failed(
                &outcome, err == CARDEA_ECONFLICT ? 409 : 500);
        }
    }
    if (err == CARDEA_OK) {
        *out = json_incref(outcome.result);
    }
    cardea_mem__free(rev);
    cardea_share__outcome_free(&outcome);
    return err;
}

static cardea_err
share_one(json_t **out, cardea_db *db, const cardea_entity_req *ereq,
          const char *id, const json_t *request, bool minimal)
{
    json_t *entity = NULL;
    cardea_err err = cardea_db__begin(db);

    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_entity__load(&entity, db, ereq->kind->type, id);
    if (err == CARDEA_ENOTFOUND) {
        err = cardea_share__not_found_result(out, id, request);
    } else if (err == CARDEA_OK) {
        err = share_loaded(out, db, ereq, entity, request, minimal);
    }
    cardea_db__rollback(db);
    json_decref(entity);
    return err;
}

static void
share(cardea_http_resp *resp, cardea_http_req *req, bool minimal)
{
    cardea_entity_req ereq;
    json_t *body = NULL;
    json_t *requests;
    json_t *results = json_array();
    cardea_db *db = NULL;
    const char *id;
    json_t *request;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        json_decref(results);
        return;
    }
    if (results == NULL
        || (body = cardea_http__body_json(resp, req, true)) == NULL
        || (requests = requests_of(resp, body)) == NULL
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    json_object_foreach(requests, id, request) {
        json_t *result = NULL;
        cardea_err err = share_one(&result, db, &ereq, id, request, minimal);

        if (err == CARDEA_OK) {
            err = cardea_json__append_new(results, result);
        }
        if (err != CARDEA_OK) {
            cardea_http__store_error(resp, err == CARDEA_EINVAL ? CARDEA_EIO
                                                                : err,
                                     "bulk share");
            goto out;
        }
    }
    cardea_http__json(resp, 200, results);
    results = NULL;

out:
    cardea_http__db_release(req, db);
    json_decref(results);
    json_decref(body);
    cardea_entity__end(&ereq);
}

void
cardea_entity__share(cardea_http_resp *resp, cardea_http_req *req)
{
    share(resp, req, false);
}

void
cardea_entity__share_minimal(cardea_http_resp *resp, cardea_http_req *req)
{
    share(resp, req, true);
}
