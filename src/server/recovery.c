/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recovery-data endpoints. Recovery data hold a data owner's keys
 * encrypted with a recovery key; the id is derived from that key, so
 * knowing the id is the capability to read or delete one document.
 * Expired data is purged when read. Only the recipient or one of its HCP
 * ancestors may delete all of a recipient's data. The long poll
 * suspends the request without holding a database connection.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "server/server_internal.h"

#define TYPE_KEY_MAX 64

/*
 * Normalises a type name ignoring case and underscores, so
 * KEYPAIR_RECOVERY and KeyPairRecovery match; false for unknown types.
 */
static bool
type_key(char out[TYPE_KEY_MAX], const char *type)
{
    size_t n = 0;

    if (type == NULL) {
        return false;
    }
    for (const char *p = type; *p != '\0'; p++) {
        if (*p == '_') {
            continue;
        }
        if (n + 1 >= TYPE_KEY_MAX) {
            return false;
        }
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
    return strcmp(out, "keypairrecovery") == 0
           || strcmp(out, "exchangekeyrecovery") == 0;
}

/* Returns NULL when the document is valid, else a message. */
static const char *
invalid_recovery(const json_t *doc, int64_t now_ms, char key[TYPE_KEY_MAX])
{
    const json_t *expires = json_object_get(doc, "expirationInstant");
    const char *id = cardea_json__get_str(doc, "id");
    const char *recipient = cardea_json__get_str(doc, "recipient");
    const char *encrypted = cardea_json__get_str(doc, "encryptedSelf");

    if (id == NULL || id[0] == '\0') {
        return "missing or empty id";
    }
    if (cardea_http__invalid_id(id) != NULL) {
        return "invalid id: " CARDEA_HTTP_ID_RULE;
    }
    if (recipient == NULL || recipient[0] == '\0') {
        return "missing or empty recipient";
    }
    if (encrypted == NULL || encrypted[0] == '\0') {
        return "missing or empty encryptedSelf";
    }
    if (!type_key(key, cardea_json__get_str(doc, "type"))) {
        return "type must be KEYPAIR_RECOVERY or EXCHANGE_KEY_RECOVERY";
    }
    if (expires != NULL && !json_is_null(expires)
        && (!json_is_integer(expires)
            || json_integer_value(expires) <= now_ms)) {
        return "expirationInstant must be a future time in milliseconds";
    }
    return NULL;
}

void
cardea_recovery__create(cardea_http_resp *resp, cardea_http_req *req)
{
    json_t *doc = cardea_http__body_json(resp, req, true);
    char key[TYPE_KEY_MAX];
    cardea_db *db = NULL;
    const char *message;
    cardea_err err;

    if (doc == NULL) {
        return;
    }
    if ((message = invalid_recovery(doc, req->now_ms, key)) != NULL) {
        cardea_http__error(resp, 400, "%s", message);
        goto out;
    }
    (void)json_object_del(doc, "rev");
    if (json_is_null(json_object_get(doc, "expirationInstant"))) {
        (void)json_object_del(doc, "expirationInstant");
    }
    if ((db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    err = cardea_db__recovery_put(db, doc, key, req->caller->data_owner_id);
    cardea_http__db_release(req, db);
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "recovery data");
        goto out;
    }
    cardea_server__notify(req->server, cardea_json__get_str(doc, "id"));
    cardea_http__json(resp, 200, json_incref(doc));

out:
    json_decref(doc);
}

/* Reads recovery data `id`; ENOTFOUND when missing or expired. */
static cardea_err
read_recovery(json_t **out, cardea_http_resp *resp, cardea_http_req *req,
              const char *id)
{
    cardea_db *db = cardea_http__db(resp, req);
    cardea_err err;

    if (db == NULL) {
        return CARDEA_EIO;
    }
    err = cardea_db__recovery_get(out, db, id, cardea_store__now_ms());
    cardea_http__db_release(req, db);
    if (err != CARDEA_OK && err != CARDEA_ENOTFOUND) {
        cardea_http__store_error(resp, err, "recovery data");
    }
    return err;
}

void
cardea_recovery__get(cardea_http_resp *resp, cardea_http_req *req)
{
    json_t *doc = NULL;
    cardea_err err = read_recovery(&doc, resp, req, req->params[0]);

    if (err == CARDEA_OK) {
        cardea_http__json(resp, 200, doc);
    } else if (err == CARDEA_ENOTFOUND) {
        cardea_http__error(resp, 404, "recovery data not found or expired");
    }
}

/* Parses ?timeoutSeconds= into milliseconds, capped; -1 when invalid. */
static int64_t
wait_timeout_ms(const cardea_http_req *req)
{
    const char *text = cardea_http__query(req, "timeoutSeconds");
    unsigned max = req->server->options.long_poll_max_s;
    char *end = NULL;
    unsigned long value;

    if (text == NULL || text[0] == '\0') {
        return (int64_t)max * 1000;
    }
    if (text[0] < '0' || text[0] > '9') {
        return -1;
    }
    value = strtoul(text, &end, 10);
    if (*end != '\0') {
        return -1;
    }
    return (int64_t)(value > max ? max : value) * 1000;
}

void
cardea_recovery__wait(cardea_http_resp *resp, cardea_http_req *req)
{
    int64_t deadline = req->wait_deadline_ms;
    json_t *doc = NULL;
    cardea_err err;

    if (deadline == 0) {
        int64_t timeout = wait_timeout_ms(req);

        if (timeout < 0) {
            cardea_http__error(resp, 400, "timeoutSeconds must be a "
                               "non-negative integer");
            return;
        }
        deadline = req->now_ms + timeout;
    }
    err = read_recovery(&doc, resp, req, req->params[0]);
    if (err == CARDEA_OK) {
        cardea_http__json(resp, 200, doc);
        return;
    }
    if (err != CARDEA_ENOTFOUND) {
        return;
    }
    if (req->final_attempt || cardea_store__now_ms() >= deadline) {
        cardea_http__error(resp, 404, "recovery data not found before the "
                           "timeout");
        return;
    }
    resp->wait_key = cardea_mem__strdup(req->params[0]);
    if (resp->wait_key == NULL) {
        cardea_http__error(resp, 500, "out of memory");
        return;
    }
    resp->wait_until_ms = deadline;
}

void
cardea_recovery__delete(cardea_http_resp *resp, cardea_http_req *req)
{
    char rev[CARDEA_REV_MAX_LEN + 1];
    cardea_db *db = cardea_http__db(resp, req);
    cardea_err err;

    if (db == NULL) {
        return;
    }
    err = cardea_db__recovery_delete(rev, db, req->params[0]);
    cardea_http__db_release(req, db);
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "recovery data");
        return;
    }
    cardea_http__json(resp, 200, json_pack("{s:s, s:s}", "id",
                                           req->params[0], "rev", rev));
}

static void
delete_for(cardea_http_resp *resp, cardea_http_req *req, const char *type)
{
    const char *recipient = req->params[0];
    const char *creator = NULL;
    char key[TYPE_KEY_MAX];
    cardea_db *db = NULL;
    size_t count = 0;
    cardea_err err;

    /*
     * The recipient deletes all of its recovery data; anyone else only
     * what it created for that recipient (an HCP purging the exchange-key
     * recovery data it made for a patient, as the official SDK does).
     */
    if (!cardea_http__caller_acts_for(req->caller, recipient)) {
        if (req->caller->data_owner_id == NULL) {
            cardea_http__error(resp, 403, "only a data owner may delete "
                               "recovery data");
            return;
        }
        creator = req->caller->data_owner_id;
    }
    if (type != NULL && !type_key(key, type)) {
        cardea_http__error(resp, 400, "unknown recovery data type; use "
                           "KeyPairRecovery or ExchangeKeyRecovery");
        return;
    }
    if ((db = cardea_http__db(resp, req)) == NULL) {
        return;
    }
    err = cardea_db__recovery_delete_for(&count, db, recipient,
                                         type != NULL ? key : NULL, creator);
    cardea_http__db_release(req, db);
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "recovery data");
        return;
    }
    cardea_http__json(resp, 200, json_pack("{s:I}", "numberValue",
                                           (json_int_t)count));
}

void
cardea_recovery__delete_for(cardea_http_resp *resp, cardea_http_req *req)
{
    delete_for(resp, req, NULL);
}

void
cardea_recovery__delete_for_type(cardea_http_resp *resp,
                                 cardea_http_req *req)
{
    delete_for(resp, req, req->params[1]);
}
