/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delete, undelete and purge of the encryptable entities. A delete is
 * soft: it sets `deleted` and `deletionDate` (epoch milliseconds), and the
 * entity stays readable by id but leaves match results. Undelete clears
 * both. Purge removes the row, its index rows and, for a Document, its
 * attachments. Each needs WRITE on the entity, and each entity is
 * changed in its own transaction. A purged Patient that is a patient
 * data owner keeps a stub-only row with its crypto fields, so the patient
 * user keeps the keys it published.
 */
#include <string.h>

#include "base/base.h"
#include "server/server_internal.h"

typedef enum entity_op {
    OP_DELETE = 1,
    OP_UNDELETE,
    OP_PURGE,
} entity_op;

static json_t *
identifier(const json_t *doc)
{
    return json_pack("{s:O, s:O}", "id", json_object_get(doc, "id"), "rev",
                     json_object_get(doc, "rev"));
}

/* Writes the stub-only row that keeps a purged patient's crypto fields. */
static cardea_err
keep_patient_stub(cardea_db *db, const json_t *purged)
{
    const char *id = cardea_json__get_str(purged, "id");
    json_t *stub;
    cardea_do_type type;
    cardea_err err = cardea_db__dataowner_get(&type, NULL, db, id);

    if (err == CARDEA_ENOTFOUND
        || (err == CARDEA_OK && type != CARDEA_DO_PATIENT)) {
        return CARDEA_OK;
    }
    if (err != CARDEA_OK) {
        return err;
    }
    if ((stub = json_pack("{s:s}", "id", id)) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < cardea_entity__crypto_field_count; i++) {
        const char *name = cardea_entity__crypto_fields[i];
        json_t *value = json_object_get(purged, name);

        if (value != NULL && json_object_set(stub, name, value) != 0) {
            err = CARDEA_ENOMEM;
        }
    }
    if (err == CARDEA_OK) {
        err = cardea_db__entity_put(db, "Patient", stub, NULL, true);
    }
    json_decref(stub);
    return err;
}

static cardea_err
purge(cardea_db *db, const char *type, const json_t *doc)
{
    const char *id = cardea_json__get_str(doc, "id");
    cardea_err err = cardea_db__entity_delete(db, type, id);

    if (err == CARDEA_OK && strcmp(type, "Document") == 0) {
        err = cardea_db__attachment_delete_all(db, id);
    }
    if (err == CARDEA_OK && strcmp(type, "Patient") == 0) {
        err = keep_patient_stub(db, doc);
    }
    return err;
}

/* Changes the deletion state of `doc` and saves it; `*out` the reply. */
static cardea_err
set_deleted(json_t **out, cardea_db *db, const char *type, json_t *doc,
            bool deleted, int64_t now_ms)
{
    char *rev = cardea_mem__strdup(cardea_json__get_str(doc, "rev"));
    cardea_err err = rev != NULL ? CARDEA_OK : CARDEA_EIO;

    if (err == CARDEA_OK && deleted) {
        if (cardea_json__set_new(doc, "deleted", json_true()) != CARDEA_OK
            || cardea_json__set_new(doc, "deletionDate",
                                    json_integer(now_ms)) != CARDEA_OK) {
            err = CARDEA_ENOMEM;
        }
    } else if (err == CARDEA_OK) {
        (void)json_object_del(doc, "deleted");
        (void)json_object_del(doc, "deletionDate");
    }
    if (err == CARDEA_OK) {
        err = cardea_entity__save(db, type, doc, rev);
    }
    if (err == CARDEA_OK) {
        *out = deleted ? identifier(doc) : json_incref(doc);
        err = *out != NULL ? CARDEA_OK : CARDEA_ENOMEM;
    }
    cardea_mem__free(rev);
    return err;
}

/* Loads the entity and checks WRITE and the revision. */
static cardea_err
load_for_write(json_t **out, cardea_access_error *aerr, cardea_db *db,
               const cardea_entity_req *ereq, const char *id,
               const char *rev)
{
    json_t *doc = NULL;
    cardea_access_level level;
    cardea_err err = cardea_entity__load(&doc, db, ereq->kind->type, id);

    if (err != CARDEA_OK) {
        cardea_access__set_error(aerr, err == CARDEA_ENOTFOUND ? 404 : 500,
                                 "%s %s not found", ereq->kind->type, id);
        return err;
    }
    level = cardea_access__level(&ereq->caller, doc);
    if (level < CARDEA_ACCESS_READ) {
        cardea_access__set_error(aerr, 404, "%s %s not found",
                                 ereq->kind->type, id);
        err = CARDEA_ENOTFOUND;
    } else if (level < CARDEA_ACCESS_WRITE) {
        cardea_access__set_error(aerr, 403, "%s %s: write access needed",
                                 ereq->kind->type, id);
        err = CARDEA_EACCESS;
    } else if (rev != NULL
               && (cardea_json__get_str(doc, "rev") == NULL
                   || strcmp(rev, cardea_json__get_str(doc, "rev")) != 0)) {
        cardea_access__set_error(aerr, 409, "%s %s: stale revision; reload "
                                 "and retry", ereq->kind->type, id);
        err = CARDEA_ECONFLICT;
    }
    if (err != CARDEA_OK) {
        json_decref(doc);
        return err;
    }
    *out = doc;
    return CARDEA_OK;
}

static cardea_err
apply_op(json_t **out, cardea_db *db, const char *type, json_t *doc,
         entity_op op, int64_t now_ms)
{
    bool is_deleted = json_object_get(doc, "deleted") != NULL
                      && !json_is_null(json_object_get(doc, "deleted"));

    switch (op) {
    case OP_DELETE:
        if (is_deleted) {
            *out = identifier(doc);
            return *out != NULL ? CARDEA_OK : CARDEA_ENOMEM;
        }
        return set_deleted(out, db, type, doc, true, now_ms);
    case OP_UNDELETE:
        return set_deleted(out, db, type, doc, false, now_ms);
    case OP_PURGE:
        *out = identifier(doc);
        if (*out == NULL) {
            return CARDEA_ENOMEM;
        }
        return purge(db, type, doc);
    }
    return CARDEA_EINVAL;
}

/*
 * Runs `op` on entity `id` in its own transaction. `rev` NULL accepts any
 * revision. On success `*out` is the response item: {id, rev} for delete
 * and purge, the entity for undelete. On failure `*aerr` is set.
 */
static bool
run_op(json_t **out, cardea_access_error *aerr, cardea_db *db,
       const cardea_entity_req *ereq, entity_op op, const char *id,
       const char *rev, int64_t now_ms)
{
    json_t *doc = NULL;
    json_t *reply = NULL;
    cardea_err err = cardea_db__begin(db);

    if (err != CARDEA_OK) {
        cardea_access__set_error(aerr, 500, "database unavailable");
        return false;
    }
    if ((err = load_for_write(&doc, aerr, db, ereq, id, rev)) != CARDEA_OK) {
        cardea_db__rollback(db);
        return false;
    }
    err = apply_op(&reply, db, ereq->kind->type, doc, op, now_ms);
    if (err == CARDEA_OK) {
        err = cardea_db__commit(db);
    }
    json_decref(doc);
    if (err != CARDEA_OK) {
        char logged[CARDEA_HTTP_LOG_ID_CAP];

        cardea_db__rollback(db);
        json_decref(reply);
        cardea_http__log_escape(logged, sizeof logged, id);
        cardea_log__write(CARDEA_LOG_ERROR, "%s %s: %s", ereq->kind->type,
                          logged, cardea_strerror(err));
        cardea_access__set_error(aerr, err == CARDEA_ECONFLICT ? 409 : 500,
                                 err == CARDEA_ECONFLICT
                                     ? "revision conflict; reload and retry"
                                     : "internal error");
        return false;
    }
    *out = reply;
    return true;
}

/* One entity named in the path, with an optional or required ?rev=. */
static void
single(cardea_http_resp *resp, cardea_http_req *req, entity_op op,
       bool rev_required)
{
    const char *rev = cardea_http__query(req, "rev");
    cardea_entity_req ereq;
    cardea_access_error aerr;
    json_t *reply = NULL;
    cardea_db *db = NULL;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        return;
    }
    if (rev != NULL && rev[0] == '\0') {
        rev = NULL;
    }
    if (rev == NULL && rev_required) {
        cardea_http__error(resp, 400, "query parameter rev is required");
        goto out;
    }
    if ((db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    if (run_op(&reply, &aerr, db, &ereq, op, req->params[0], rev,
               req->now_ms)) {
        cardea_http__json(resp, 200, reply);
    } else {
        cardea_entity__send_error(resp, &aerr);
    }

out:
    cardea_http__db_release(req, db);
    cardea_entity__end(&ereq);
}

void
cardea_entity__delete(cardea_http_resp *resp, cardea_http_req *req)
{
    single(resp, req, OP_DELETE, false);
}

void
cardea_entity__undelete(cardea_http_resp *resp, cardea_http_req *req)
{
    single(resp, req, OP_UNDELETE, true);
}

void
cardea_entity__purge(cardea_http_resp *resp, cardea_http_req *req)
{
    single(resp, req, OP_PURGE, true);
}

/*
 * Reads {ids:[{id, rev}...]} into `*body_out`; sets a 400 and returns NULL
 * when malformed.
 */
static json_t *
read_ids_and_revs(json_t **body_out, cardea_http_resp *resp,
                  const cardea_http_req *req)
{
    json_t *body = cardea_http__body_json(resp, req, true);
    json_t *ids = json_object_get(body, "ids");

    if (body == NULL) {
        return NULL;
    }
    if (!json_is_array(ids) || json_array_size(ids) > CARDEA_ENTITY_MAX_IDS) {
        cardea_http__error(resp, 400, "the body needs an array \"ids\" of "
                           "at most %d {id, rev} objects",
                           CARDEA_ENTITY_MAX_IDS);
        json_decref(body);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const json_t *item = json_array_get(ids, i);

        if (cardea_json__get_str(item, "id") == NULL
            || cardea_json__get_str(item, "rev") == NULL) {
            cardea_http__error(resp, 400, "ids[%zu] needs string id and "
                               "rev", i);
            json_decref(body);
            return NULL;
        }
    }
    *body_out = body;
    return ids;
}

/*
 * Runs `op` on each listed entity and responds with the items that
 * succeeded; as in iCure, the others are left out.
 */
static void
batch(cardea_http_resp *resp, cardea_http_req *req, entity_op op,
      bool with_revs)
{
    cardea_entity_req ereq;
    json_t *body = NULL;
    json_t *ids = NULL;
    json_t *done = json_array();
    cardea_db *db = NULL;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        json_decref(done);
        return;
    }
    ids = with_revs ? read_ids_and_revs(&body, resp, req)
                    : cardea_entity__read_ids(&body, resp, req);
    if (done == NULL || ids == NULL
        || (db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const json_t *item = json_array_get(ids, i);
        const char *id = with_revs ? cardea_json__get_str(item, "id")
                                   : json_string_value(item);
        const char *rev = with_revs ? cardea_json__get_str(item, "rev")
                                    : NULL;
        cardea_access_error aerr;
        json_t *reply = NULL;

        if (run_op(&reply, &aerr, db, &ereq, op, id, rev, req->now_ms)
            && cardea_json__append_new(done, reply) != CARDEA_OK) {
            cardea_http__error(resp, 500, "out of memory");
            goto out;
        }
    }
    cardea_http__json(resp, 200, done);
    done = NULL;

out:
    cardea_http__db_release(req, db);
    json_decref(done);
    json_decref(body);
    cardea_entity__end(&ereq);
}

void
cardea_entity__delete_batch(cardea_http_resp *resp, cardea_http_req *req)
{
    batch(resp, req, OP_DELETE, false);
}

void
cardea_entity__delete_batch_rev(cardea_http_resp *resp, cardea_http_req *req)
{
    batch(resp, req, OP_DELETE, true);
}

void
cardea_entity__undelete_batch(cardea_http_resp *resp, cardea_http_req *req)
{
    batch(resp, req, OP_UNDELETE, true);
}
