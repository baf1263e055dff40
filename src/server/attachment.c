/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Document attachments: the main attachment (`/document/{id}/attachment`)
 * and secondary attachments (`/document/{id}/secondaryAttachments/{key}`).
 * Bodies are opaque bytes, usually AES-encrypted by the client, up to the
 * server's attachment size limit. Writes need WRITE on the Document and
 * its current revision, and return the Document with a new revision; reads
 * need READ. The Document records each attachment as iCure does: the main
 * one in `attachmentId` (lowercase hex SHA-256 of the bytes), `mainUti`
 * and `otherUtis`, each secondary one in `secondaryAttachments[key]` as
 * {couchDbAttachmentId, utis}, and every replaced or removed one in
 * `deletedAttachments`. The bytes of the main attachment are stored under
 * the document id as key, which is why a secondary key cannot be the id.
 */
#include <string.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "server/server_internal.h"

#define MAX_UTIS 64

/*
 * Parses ?utis=: one value "a,b", or "[a, b]" as SDK 1.0.0-RC.7 writes a
 * list. Sets `*out` to NULL when the parameter is absent.
 */
static cardea_err
parse_utis(json_t **out, const char *text)
{
    json_t *utis;
    size_t len;

    *out = NULL;
    if (text == NULL) {
        return CARDEA_OK;
    }
    if ((utis = json_array()) == NULL) {
        return CARDEA_ENOMEM;
    }
    len = strlen(text);
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    while (len > 0) {
        size_t part = 0;
        size_t start = 0;
        size_t end;

        while (part < len && text[part] != ',') {
            part++;
        }
        end = part;
        while (start < end && text[start] == ' ') {
            start++;
        }
        while (end > start && text[end - 1] == ' ') {
            end--;
        }
        if (end > start
            && (json_array_size(utis) >= MAX_UTIS
                || cardea_json__append_new(
                       utis, json_stringn(text + start, end - start))
                       != CARDEA_OK)) {
            json_decref(utis);
            return CARDEA_EINVAL;
        }
        text += part < len ? part + 1 : part;
        len -= part < len ? part + 1 : part;
    }
    *out = utis;
    return CARDEA_OK;
}

/* The stored id of attachment `key`, or NULL when there is none. */
static const char *
attachment_id(const json_t *doc, const char *key)
{
    if (strcmp(key, cardea_json__get_str(doc, "id")) == 0) {
        return cardea_json__get_str(doc, "attachmentId");
    }
    return cardea_json__get_str(
        json_object_get(json_object_get(doc, "secondaryAttachments"), key),
        "couchDbAttachmentId");
}

/* True when another attachment of `doc` already has content `id`. */
static bool
duplicate_content(const json_t *doc, const char *id)
{
    const json_t *secondary = json_object_get(doc, "secondaryAttachments");
    const char *key;
    json_t *value;
    const char *main_id = cardea_json__get_str(doc, "attachmentId");

    if (main_id != NULL && strcmp(main_id, id) == 0) {
        return true;
    }
    json_object_foreach((json_t *)secondary, key, value) {
        const char *other = cardea_json__get_str(value,
                                                 "couchDbAttachmentId");

        if (other != NULL && strcmp(other, id) == 0) {
            return true;
        }
    }
    return false;
}

/* Appends {couchDbAttachmentId, key, deletionTime} to deletedAttachments. */
static cardea_err
record_deleted(json_t *doc, const char *key, const char *old_id,
               int64_t now_ms)
{
    json_t *list = json_object_get(doc, "deletedAttachments");

    if (!json_is_array(list)) {
        if ((list = json_array()) == NULL
            || cardea_json__set_new(doc, "deletedAttachments", list)
                   != CARDEA_OK) {
            return CARDEA_ENOMEM;
        }
    }
    return cardea_json__append_new(
        list, json_pack("{s:s, s:s, s:I}", "couchDbAttachmentId", old_id,
                        "key", key, "deletionTime", (json_int_t)now_ms));
}

/* Splits `utis` into mainUti and otherUtis of the document. */
static cardea_err
set_main_utis(json_t *doc, const json_t *utis)
{
    json_t *others = json_array();

    if (others == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 1; i < json_array_size(utis); i++) {
        if (json_array_append(others, json_array_get(utis, i)) != 0) {
            json_decref(others);
            return CARDEA_ENOMEM;
        }
    }
    if (json_array_size(utis) > 0) {
        if (json_object_set(doc, "mainUti", json_array_get(utis, 0)) != 0) {
            json_decref(others);
            return CARDEA_ENOMEM;
        }
    } else {
        (void)json_object_del(doc, "mainUti");
    }
    return cardea_json__set_new(doc, "otherUtis", others);
}

/*
 * Records the new content `new_id` (NULL to remove) of attachment `key`
 * in `doc`. `utis` NULL keeps the attachment's current utis.
 */
static cardea_err
update_fields(json_t *doc, const char *key, const char *new_id,
              const json_t *utis)
{
    bool is_main = strcmp(key, cardea_json__get_str(doc, "id")) == 0;
    json_t *secondary = json_object_get(doc, "secondaryAttachments");
    json_t *entry;

    if (is_main && new_id == NULL) {
        (void)json_object_del(doc, "attachmentId");
        return set_main_utis(doc, NULL);
    }
    if (is_main) {
        cardea_err err = cardea_json__set_str(doc, "attachmentId", new_id);

        return err != CARDEA_OK || utis == NULL ? err
                                                : set_main_utis(doc, utis);
    }
    if (new_id == NULL) {
        (void)json_object_del(secondary, key);
        return CARDEA_OK;
    }
    if (!json_is_object(secondary)) {
        if ((secondary = json_object()) == NULL
            || cardea_json__set_new(doc, "secondaryAttachments", secondary)
                   != CARDEA_OK) {
            return CARDEA_ENOMEM;
        }
    }
    entry = json_pack("{s:s, s:O}", "couchDbAttachmentId", new_id, "utis",
                      utis != NULL ? utis
                                   : json_object_get(json_object_get(
                                         secondary, key), "utis"));
    if (entry == NULL) {
        entry = json_pack("{s:s, s:[]}", "couchDbAttachmentId", new_id,
                          "utis");
    }
    return cardea_json__set_new(secondary, key, entry);
}

typedef struct change {
    const char *key;            /* the document id for the main one */
    const uint8_t *data;        /* NULL to delete */
    size_t len;
    const json_t *utis;         /* NULL keeps the current utis */
} change;

/* Applies `chg` to the loaded `doc` and the attachment table. */
static cardea_err
apply_change(cardea_access_error *aerr, cardea_db *db, json_t *doc,
             const change *chg, int64_t now_ms)
{
    const char *doc_id = cardea_json__get_str(doc, "id");
    char *old_id = NULL;
    char new_id[2 * CARDEA_SHA256_LEN + 1] = "";
    cardea_err err = CARDEA_OK;

    if (attachment_id(doc, chg->key) != NULL
        && (old_id = cardea_mem__strdup(attachment_id(doc, chg->key)))
               == NULL) {
        return CARDEA_ENOMEM;
    }
    if (chg->data == NULL && old_id == NULL) {
        cardea_access__set_error(aerr, 400, "document %s has no attachment "
                                 "%s", doc_id, chg->key);
        return CARDEA_EINVAL;
    }
    if (chg->data != NULL) {
        cardea_hash__sha256_hex(new_id, chg->data, chg->len);
        if (duplicate_content(doc, new_id)) {
            cardea_access__set_error(aerr, 400, "document %s already has an "
                                     "attachment with this content",
                                     doc_id);
            cardea_mem__free(old_id);
            return CARDEA_EINVAL;
        }
    }
    if (old_id != NULL) {
        err = record_deleted(doc, chg->key, old_id, now_ms);
    }
    if (err == CARDEA_OK) {
        err = update_fields(doc, chg->key,
                            chg->data != NULL ? new_id : NULL, chg->utis);
    }
    if (err == CARDEA_OK && chg->data != NULL) {
        err = cardea_db__attachment_put(db, doc_id, chg->key, chg->data,
                                        chg->len);
    } else if (err == CARDEA_OK) {
        err = cardea_db__attachment_delete(db, doc_id, chg->key);
        err = err == CARDEA_ENOTFOUND ? CARDEA_OK : err;
    }
    cardea_mem__free(old_id);
    return err;
}

/* Loads the document for a write: WRITE and the current revision. */
static cardea_err
load_writable(json_t **out, cardea_access_error *aerr, cardea_db *db,
              const cardea_entity_req *ereq, const char *id, const char *rev)
{
    json_t *doc = NULL;
    cardea_access_level level;
    cardea_err err = cardea_entity__load(&doc, db, "Document", id);

    if (err != CARDEA_OK) {
        cardea_access__set_error(aerr, err == CARDEA_ENOTFOUND ? 404 : 500,
                                 "document %s not found", id);
        return err;
    }
    level = cardea_access__level(&ereq->caller, doc);
    if (level < CARDEA_ACCESS_READ) {
        cardea_access__set_error(aerr, 404, "document %s not found", id);
        err = CARDEA_ENOTFOUND;
    } else if (level < CARDEA_ACCESS_WRITE) {
        cardea_access__set_error(aerr, 403, "document %s: write access "
                                 "needed", id);
        err = CARDEA_EACCESS;
    } else if (cardea_json__get_str(doc, "rev") == NULL
               || strcmp(cardea_json__get_str(doc, "rev"), rev) != 0) {
        cardea_access__set_error(aerr, 409, "document %s: stale revision; "
                                 "reload and retry", id);
        err = CARDEA_ECONFLICT;
    }
    if (err != CARDEA_OK) {
        json_decref(doc);
        return err;
    }
    *out = doc;
    return CARDEA_OK;
}

/* Runs one attachment change in a transaction; `*out` the new document. */
static bool
write_change(json_t **out, cardea_access_error *aerr, cardea_db *db,
             const cardea_entity_req *ereq, const char *id,
             const char *rev, const change *chg, int64_t now_ms)
{
    json_t *doc = NULL;
    char *stored_rev = NULL;
    cardea_err err = cardea_db__begin(db);

    cardea_access__set_error(aerr, 500, "internal error");
    if (err == CARDEA_OK
        && (err = load_writable(&doc, aerr, db, ereq, id, rev)) == CARDEA_OK
        && (stored_rev = cardea_mem__strdup(rev)) == NULL) {
        err = CARDEA_ENOMEM;
    }
    if (err == CARDEA_OK) {
        err = apply_change(aerr, db, doc, chg, now_ms);
    }
    if (err == CARDEA_OK
        && (err = cardea_entity__save(db, "Document", doc, stored_rev))
               == CARDEA_OK) {
        err = cardea_db__commit(db);
    }
    cardea_mem__free(stored_rev);
    if (err != CARDEA_OK) {
        cardea_db__rollback(db);
        json_decref(doc);
        if (err == CARDEA_ECONFLICT) {
            cardea_access__set_error(aerr, 409, "document %s: stale "
                                     "revision; reload and retry", id);
        }
        return false;
    }
    *out = doc;
    return true;
}

/* Handles PUT (with `put`) or DELETE of attachment `key` of params[0]. */
static void
change_attachment(cardea_http_resp *resp, cardea_http_req *req,
                  const char *key, bool put)
{
    const char *rev = cardea_http__query(req, "rev");
    change chg = {key, NULL, 0, NULL};
    cardea_entity_req ereq;
    cardea_access_error aerr;
    json_t *utis = NULL;
    json_t *doc = NULL;
    cardea_db *db = NULL;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        return;
    }
    if (rev == NULL || rev[0] == '\0') {
        cardea_http__error(resp, 400, "query parameter rev is required");
        goto out;
    }
    if (put && req->body_len == 0) {
        cardea_http__error(resp, 400, "the attachment body is empty");
        goto out;
    }
    if (put && parse_utis(&utis, cardea_http__query(req, "utis"))
                   != CARDEA_OK) {
        cardea_http__error(resp, 400, "utis must list at most %d uniform "
                           "type identifiers", MAX_UTIS);
        goto out;
    }
    chg.data = put ? req->body : NULL;
    chg.len = put ? req->body_len : 0;
    chg.utis = utis;
    if ((db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    if (write_change(&doc, &aerr, db, &ereq, req->params[0], rev, &chg,
                     req->now_ms)) {
        cardea_http__json(resp, 200, doc);
    } else {
        cardea_entity__send_error(resp, &aerr);
    }

out:
    cardea_http__db_release(req, db);
    json_decref(utis);
    cardea_entity__end(&ereq);
}

static void
read_attachment(cardea_http_resp *resp, cardea_http_req *req,
                const char *key)
{
    cardea_entity_req ereq;
    cardea_db *db = NULL;
    json_t *doc = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    cardea_err err;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        return;
    }
    if ((db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    err = cardea_entity__load(&doc, db, "Document", req->params[0]);
    if (err == CARDEA_OK
        && (cardea_access__level(&ereq.caller, doc) < CARDEA_ACCESS_READ
            || attachment_id(doc, key) == NULL)) {
        err = CARDEA_ENOTFOUND;
    }
    if (err == CARDEA_OK) {
        err = cardea_db__attachment_get(&data, &len, db, req->params[0],
                                        key);
    }
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "attachment");
        goto out;
    }
    cardea_mem__free(resp->body);
    resp->body = data;
    resp->body_len = len;
    resp->status = 200;
    resp->content_type = "application/octet-stream";

out:
    cardea_http__db_release(req, db);
    json_decref(doc);
    cardea_entity__end(&ereq);
}

void
cardea_attachment__put_main(cardea_http_resp *resp, cardea_http_req *req)
{
    change_attachment(resp, req, req->params[0], true);
}

void
cardea_attachment__get_main(cardea_http_resp *resp, cardea_http_req *req)
{
    read_attachment(resp, req, req->params[0]);
}

void
cardea_attachment__delete_main(cardea_http_resp *resp, cardea_http_req *req)
{
    change_attachment(resp, req, req->params[0], false);
}

/* Rejects the document id as a secondary key; true when `key` is usable. */
static bool
secondary_key_ok(cardea_http_resp *resp, const cardea_http_req *req)
{
    if (strcmp(req->params[0], req->params[1]) == 0) {
        cardea_http__error(resp, 400, "a secondary attachment cannot use "
                           "the document id as key");
        return false;
    }
    return true;
}

void
cardea_attachment__put_secondary(cardea_http_resp *resp,
                                 cardea_http_req *req)
{
    if (secondary_key_ok(resp, req)) {
        change_attachment(resp, req, req->params[1], true);
    }
}

void
cardea_attachment__get_secondary(cardea_http_resp *resp,
                                 cardea_http_req *req)
{
    if (secondary_key_ok(resp, req)) {
        read_attachment(resp, req, req->params[1]);
    }
}

void
cardea_attachment__delete_secondary(cardea_http_resp *resp,
                                    cardea_http_req *req)
{
    if (secondary_key_ok(resp, req)) {
        change_attachment(resp, req, req->params[1], false);
    }
}
