/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers the resource handlers share: JSON, text and error responses,
 * body parsing with a 400 that names the problem, the `{ids:[...]}` body
 * and the id rule, query and header lookups, pooled database
 * connections, the caller's hierarchy test, and the escaping of client
 * values before they reach a log line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "base/base.h"
#include "server/server_internal.h"

static void
set_body(cardea_http_resp *resp, unsigned status, char *body,
         const char *content_type)
{
    cardea_mem__free(resp->body);
    resp->body = (uint8_t *)body;
    resp->body_len = body != NULL ? strlen(body) : 0;
    resp->status = body != NULL ? status : 500;
    resp->content_type = content_type;
}

void
cardea_http__json(cardea_http_resp *resp, unsigned status, json_t *value)
{
    char *text = value != NULL ? cardea_json__dump(value) : NULL;

    json_decref(value);
    set_body(resp, status, text, "application/json");
}

void
cardea_http__json_text(cardea_http_resp *resp, unsigned status, char *text,
                       size_t text_len)
{
    cardea_mem__free(resp->body);
    resp->body = (uint8_t *)text;
    resp->body_len = text_len;
    resp->status = status;
    resp->content_type = "application/json";
}

void
cardea_http__error(cardea_http_resp *resp, unsigned status,
                   const char *fmt, ...)
{
    char message[256];
    json_t *body;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    body = json_pack("{s:s, s:i}", "error", message, "status", (int)status);
    cardea_http__json(resp, status, body);
    if (resp->status == 500 && status != 500) {
        resp->status = status;
    }
}

void
cardea_http__text(cardea_http_resp *resp, unsigned status, const char *text)
{
    set_body(resp, status, cardea_mem__strdup(text), "text/plain");
}

void
cardea_http__store_error(cardea_http_resp *resp, cardea_err err,
                         const char *what)
{
    switch (err) {
    case CARDEA_ENOTFOUND:
        cardea_http__error(resp, 404, "%s not found", what);
        break;
    case CARDEA_ECONFLICT:
        cardea_http__error(resp, 409, "%s: revision conflict or duplicate "
                           "id; reload and retry", what);
        break;
    case CARDEA_EINVAL:
    case CARDEA_EFORMAT:
        cardea_http__error(resp, 400, "%s is invalid", what);
        break;
    default:
        cardea_log__write(CARDEA_LOG_ERROR, "%s: %s", what,
                          cardea_strerror(err));
        cardea_http__error(resp, 500, "internal error");
        break;
    }
}

void
cardea_http__json_or_error(cardea_http_resp *resp, cardea_err err,
                           json_t **value, const char *what)
{
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, what);
    } else {
        cardea_http__json(resp, 200, *value);
        *value = NULL;
    }
}

json_t *
cardea_http__body_json(cardea_http_resp *resp, const cardea_http_req *req,
                       bool want_object)
{
    char message[160] = "";
    json_t *value = NULL;
    cardea_err err;

    if (req->body_len == 0) {
        cardea_http__error(resp, 400, "missing JSON request body");
        return NULL;
    }
    err = cardea_json__parse(&value, (const char *)req->body, req->body_len,
                             message, sizeof message);
    if (err != CARDEA_OK) {
        if (err == CARDEA_ENOMEM) {
            cardea_http__error(resp, 500, "out of memory");
        } else {
            cardea_http__error(resp, 400, "malformed JSON body: %s",
                               message[0] != '\0' ? message : "parse error");
        }
        return NULL;
    }
    if (want_object && !json_is_object(value)) {
        json_decref(value);
        cardea_http__error(resp, 400, "the body must be a JSON object");
        return NULL;
    }
    return value;
}

json_t *
cardea_http__read_ids(json_t **body_out, cardea_http_resp *resp,
                      const cardea_http_req *req, size_t max)
{
    json_t *body = cardea_http__body_json(resp, req, true);
    json_t *ids = json_object_get(body, "ids");

    if (body == NULL) {
        return NULL;
    }
    if (!json_is_array(ids) || json_array_size(ids) > max) {
        cardea_http__error(resp, 400, "the body needs an array \"ids\" of "
                           "at most %zu strings", max);
        json_decref(body);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(ids); i++) {
        if (!json_is_string(json_array_get(ids, i))) {
            cardea_http__error(resp, 400, "ids[%zu] is not a string", i);
            json_decref(body);
            return NULL;
        }
    }
    *body_out = body;
    return ids;
}

const char *
cardea_http__invalid_id(const char *id)
{
    size_t len = 0;

    if (id == NULL || id[0] == '\0') {
        return "the id must be a non-empty string";
    }
    for (const char *p = id; *p != '\0'; p++, len++) {
        unsigned char c = (unsigned char)*p;

        if (c == '/' || c < 0x20 || c == 0x7f
            || len == CARDEA_HTTP_ID_MAX_LEN) {
            return CARDEA_HTTP_ID_RULE;
        }
    }
    return NULL;
}

void
cardea_http__log_escape(char *out, size_t cap, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    if (cap == 0) {
        return;
    }
    for (const char *p = text; p != NULL && *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        bool plain = c > 0x20 && c < 0x7f && c != '%';

        if (n + (plain ? 1 : 3) >= cap) {
            break;
        }
        if (plain) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 0x0f];
        }
    }
    out[n] = '\0';
}

const char *
cardea_http__query(const cardea_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection,
                                       MHD_GET_ARGUMENT_KIND, name);
}

const char *
cardea_http__header(const cardea_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                       name);
}

cardea_db *
cardea_http__db(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_db *db = NULL;

    if (cardea_store__acquire(&db, req->server->store) != CARDEA_OK) {
        cardea_http__error(resp, 500, "database unavailable");
        return NULL;
    }
    return db;
}

void
cardea_http__db_release(cardea_http_req *req, cardea_db *db)
{
    cardea_store__release(req->server->store, db);
}

bool
cardea_http__caller_acts_for(const cardea_caller *caller, const char *id)
{
    if (caller == NULL || id == NULL) {
        return false;
    }
    if (caller->data_owner_id != NULL
        && strcmp(caller->data_owner_id, id) == 0) {
        return true;
    }
    for (size_t i = 0; i < caller->ancestor_count; i++) {
        if (strcmp(caller->ancestors[i], id) == 0) {
            return true;
        }
    }
    return false;
}
