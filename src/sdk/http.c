/* SPDX-License-Identifier: Apache-2.0 */
/*
 * REST requests of a session over its transport: URL and header
 * assembly, the bearer token and its refresh, JSON in and out, and the
 * mapping of HTTP error statuses to cardea_err with the server's message
 * in the session's errmsg. Also the response object that transports fill
 * in (cardea/transport.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sdk/sdk.h"

/* Maximum length of the server message copied into errmsg. */
#define SERVER_MESSAGE_MAX 200
/* Most headers one request carries: ours plus the caller's. */
#define REQUEST_HEADERS_MAX 512

/* see cardea/transport.h */
void
cardea_http_response_set_status(cardea_http_response *resp, unsigned status)
{
    if (resp != NULL && status >= 100 && status <= 599) {
        resp->status = status;
    }
}

/* see cardea/transport.h */
cardea_err
cardea_http_response_append_body(cardea_http_response *resp, const void *data,
                                 size_t len)
{
    size_t before;
    cardea_err err;

    if (resp == NULL || (data == NULL && len > 0)) {
        return CARDEA_EINVAL;
    }
    before = resp->body.len;
    err = cardea_buf__append(&resp->body, data, len);
    if (err != CARDEA_OK) {
        /* Keep the body usable for the error report: the failure flag
         * would otherwise block every later append. */
        resp->body.len = before;
        resp->body.failed = false;
    }
    return err;
}

/* see cardea/transport.h */
cardea_err
cardea_http_response_add_header(cardea_http_response *resp, const char *name,
                                const char *value)
{
    cardea_sdk_header *grown;
    cardea_sdk_header header;

    if (resp == NULL || name == NULL || value == NULL) {
        return CARDEA_EINVAL;
    }
    if (resp->header_count >= CARDEA_HTTP_MAX_RESPONSE_HEADERS) {
        return CARDEA_ETOOBIG;
    }
    header.name = cardea_mem__strdup(name);
    header.value = cardea_mem__strdup(value);
    grown = cardea_mem__realloc(resp->headers, (resp->header_count + 1) *
                                                   sizeof *resp->headers);
    if (header.name == NULL || header.value == NULL || grown == NULL) {
        cardea_mem__free(header.name);
        cardea_mem__free(header.value);
        if (grown != NULL) {
            resp->headers = grown;
        }
        return CARDEA_ENOMEM;
    }
    resp->headers = grown;
    resp->headers[resp->header_count++] = header;
    return CARDEA_OK;
}

/* see cardea/transport.h */
void
cardea_http_response_set_error(cardea_http_response *resp, const char *message)
{
    if (resp != NULL && message != NULL) {
        snprintf(resp->error, sizeof resp->error, "%s", message);
    }
}

void
cardea_sdk__response_clear(cardea_http_response *resp)
{
    for (size_t i = 0; i < resp->header_count; i++) {
        cardea_mem__free(resp->headers[i].name);
        cardea_mem__free(resp->headers[i].value);
    }
    cardea_mem__free(resp->headers);
    /* Bodies carry tokens (login) and ciphertext; wipe them all alike. */
    cardea_buf__free(&resp->body, true);
    memset(resp, 0, sizeof *resp);
}

static bool
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

cardea_err
cardea_sdk__escape_segment(char **out, const char *segment)
{
    static const char digits[] = "0123456789ABCDEF";
    cardea_buf buf;
    cardea_err err = CARDEA_OK;
    char pct[3];

    if (out == NULL || segment == NULL) {
        return CARDEA_EINVAL;
    }
    cardea_buf__init(&buf, 0);
    for (const unsigned char *p = (const unsigned char *)segment; *p != 0;
         p++) {
        if (is_unreserved(*p)) {
            err = cardea_buf__append(&buf, p, 1);
        } else {
            pct[0] = '%';
            pct[1] = digits[*p >> 4];
            pct[2] = digits[*p & 0x0f];
            err = cardea_buf__append(&buf, pct, sizeof pct);
        }
        if (err != CARDEA_OK) {
            break;
        }
    }
    if (err == CARDEA_OK) {
        err = cardea_buf__take_str(out, &buf);
    }
    cardea_buf__free(&buf, false);
    return err;
}

/* Copies the server's error text into `out`, printable ASCII only. */
static void
server_message(char *out, size_t out_cap, const cardea_buf *body)
{
    const char *text = (const char *)body->data;
    size_t len = body->len;
    json_t *value = NULL;
    const char *msg = NULL;
    size_t n = 0;

    if (len > 0 && cardea_json__parse(&value, text, len, NULL, 0) ==
                       CARDEA_OK) {
        msg = cardea_json__get_str(value, "error");
        if (msg == NULL) {
            msg = cardea_json__get_str(value, "message");
        }
        if (msg != NULL) {
            text = msg;
            len = strlen(msg);
        }
    }
    for (size_t i = 0; i < len && n + 1 < out_cap && n < SERVER_MESSAGE_MAX;
         i++) {
        unsigned char c = (unsigned char)text[i];
        out[n++] = (char)(c >= 0x20 && c < 0x7f ? c : ' ');
    }
    out[n] = 0;
    json_decref(value);
}

static cardea_err
status_error(unsigned status)
{
    switch (status) {
    case 401:
        return CARDEA_EAUTH;
    case 403:
        return CARDEA_EACCESS;
    case 404:
        return CARDEA_ENOTFOUND;
    case 409:
        return CARDEA_ECONFLICT;
    case 413:
        return CARDEA_ETOOBIG;
    default:
        return CARDEA_EHTTP;
    }
}

/* Writes "METHOD /rest/v2/path" without the query string into errmsg. */
static void
report_status(cardea_session *session, const char *method, const char *path,
              const cardea_http_response *resp)
{
    char message[SERVER_MESSAGE_MAX + 1];
    int path_len = (int)strcspn(path, "?");

    server_message(message, sizeof message, &resp->body);
    cardea_sdk__set_error(session, "%s /rest/v2/%.*s failed: HTTP %u%s%s",
                          method, path_len, path, resp->status,
                          message[0] != 0 ? ": " : "", message);
}

typedef struct request_parts {
    const char *method;
    const char *path;
    const cardea_http_header *headers;
    size_t header_count;
    const void *body;
    size_t body_len;
    const char *content_type;
} request_parts;

static bool
is_auth_path(const char *path)
{
    return strncmp(path, "auth/", 5) == 0;
}

/* Builds the header list and the URL, sends, and fills `resp`. */
static cardea_err
send_once(cardea_http_response *resp, cardea_session *session,
          const request_parts *parts)
{
    cardea_http_header list[REQUEST_HEADERS_MAX];
    cardea_http_request req;
    char *bearer = NULL;
    size_t bearer_len = 0;
    size_t n = 0;
    cardea_buf url;
    char *url_str = NULL;
    cardea_err err;

    cardea_buf__init(&url, 0);
    if ((err = cardea_buf__append_str(&url, session->base_url)) !=
            CARDEA_OK ||
        (err = cardea_buf__append_str(&url, "/rest/v2/")) != CARDEA_OK ||
        (err = cardea_buf__append_str(&url, parts->path)) != CARDEA_OK ||
        (err = cardea_buf__take_str(&url_str, &url)) != CARDEA_OK) {
        goto out;
    }
    if (session->token != NULL && !is_auth_path(parts->path)) {
        bearer_len = strlen(session->token) + 8;
        bearer = cardea_mem__alloc(bearer_len);
        if (bearer == NULL) {
            err = CARDEA_ENOMEM;
            goto out;
        }
        snprintf(bearer, bearer_len, "Bearer %s", session->token);
        list[n++] = (cardea_http_header){"Authorization", bearer};
    }
    list[n++] = (cardea_http_header){"Accept", "application/json"};
    if (parts->body_len > 0) {
        list[n++] = (cardea_http_header){
            "Content-Type", parts->content_type != NULL ? parts->content_type
                                                        : "application/json"};
    }
    for (size_t i = 0; i < parts->header_count; i++) {
        list[n++] = parts->headers[i];
    }

    req.method = parts->method;
    req.url = url_str;
    req.headers = list;
    req.header_count = n;
    req.body = parts->body_len > 0 ? parts->body : NULL;
    req.body_len = parts->body_len;
    err = session->transport.send(session->transport.user, &req, resp);
    if (err == CARDEA_OK && resp->status == 0) {
        err = CARDEA_ENETWORK;
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "%s %s failed: %s%s%s", parts->method,
                              url_str, cardea_strerror(err),
                              resp->error[0] != 0 ? ": " : "", resp->error);
    }

out:
    cardea_mem__free_secret(bearer, bearer_len);
    cardea_mem__free(url_str);
    cardea_buf__free(&url, false);
    return err;
}

static bool
token_expiring(const cardea_session *session)
{
    int64_t now = (int64_t)time(NULL);

    /* Refresh ahead of expiry: the token must still be valid when the
     * server checks it, so the margin is added to the current time. */
    return session->refresh_token != NULL && session->token_exp != 0 &&
           now + CARDEA_SDK_TOKEN_MARGIN_S >= session->token_exp;
}

/* Sends with token refresh before expiry and one retry after a 401. */
static cardea_err
send_with_auth(cardea_http_response *resp, cardea_session *session,
               const request_parts *parts)
{
    bool auth = is_auth_path(parts->path);
    bool refreshed = false;
    cardea_err err;

    if (!auth && token_expiring(session)) {
        if ((err = cardea_sdk__refresh(session)) != CARDEA_OK) {
            return err;
        }
        refreshed = true;
    }
    err = send_once(resp, session, parts);
    if (err == CARDEA_OK && resp->status == 401 && !auth && !refreshed &&
        session->refresh_token != NULL) {
        cardea_sdk__log(session, CARDEA_LOG_INFO,
                        "%s /rest/v2/%s: HTTP 401, refreshing the token",
                        parts->method, parts->path);
        cardea_sdk__response_clear(resp);
        cardea_buf__init(&resp->body, CARDEA_HTTP_MAX_BODY);
        if ((err = cardea_sdk__refresh(session)) != CARDEA_OK) {
            return err;
        }
        err = send_once(resp, session, parts);
    }
    return err;
}

cardea_err
cardea_sdk__request(uint8_t **out, size_t *out_len, cardea_session *session,
                    const char *method, const char *path,
                    const cardea_http_header *headers, size_t header_count,
                    const void *body, size_t body_len,
                    const char *content_type)
{
    cardea_http_response resp;
    request_parts parts = {method,   path,     headers,     header_count,
                           body,     body_len, content_type};
    char *text = NULL;
    cardea_err err;

    if (session == NULL || method == NULL || path == NULL ||
        (body == NULL && body_len > 0) ||
        (headers == NULL && header_count > 0) ||
        header_count > REQUEST_HEADERS_MAX - 3) {
        return CARDEA_EINVAL;
    }
    memset(&resp, 0, sizeof resp);
    cardea_buf__init(&resp.body, CARDEA_HTTP_MAX_BODY);
    session->last_status = 0;

    err = send_with_auth(&resp, session, &parts);
    if (err != CARDEA_OK) {
        goto out;
    }
    session->last_status = resp.status;
    cardea_sdk__log(session, CARDEA_LOG_DEBUG,
                    "%s /rest/v2/%.*s: HTTP %u, %zu bytes", method,
                    (int)strcspn(path, "?"), path, resp.status,
                    resp.body.len);
    if (resp.status < 200 || resp.status > 299) {
        report_status(session, method, path, &resp);
        err = status_error(resp.status);
        goto out;
    }
    if (out != NULL) {
        size_t len = resp.body.len;

        if ((err = cardea_buf__take_str(&text, &resp.body)) != CARDEA_OK) {
            cardea_sdk__set_error(session, "%s /rest/v2/%s: %s", method,
                                  path, cardea_strerror(err));
            goto out;
        }
        *out = (uint8_t *)text;
        *out_len = len;
    }

out:
    cardea_sdk__response_clear(&resp);
    return err;
}

cardea_err
cardea_sdk__request_json(json_t **out, cardea_session *session,
                         const char *method, const char *path,
                         const json_t *body, const cardea_http_header *headers,
                         size_t header_count)
{
    char parse_error[160];
    char *text = NULL;
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    json_t *value = NULL;
    cardea_err err;

    if (session == NULL || method == NULL || path == NULL) {
        return CARDEA_EINVAL;
    }
    if (body != NULL && (text = cardea_json__dump(body)) == NULL) {
        cardea_sdk__set_error(session, "%s /rest/v2/%s: out of memory",
                              method, path);
        return CARDEA_ENOMEM;
    }
    err = cardea_sdk__request(&answer, &answer_len, session, method, path,
                              headers, header_count, text,
                              text != NULL ? strlen(text) : 0, NULL);
    if (err != CARDEA_OK || out == NULL) {
        goto out;
    }
    if (answer_len == 0) {
        value = json_null();
    } else if ((err = cardea_json__parse(&value, (const char *)answer,
                                         answer_len, parse_error,
                                         sizeof parse_error)) != CARDEA_OK) {
        cardea_sdk__set_error(session, "%s /rest/v2/%.*s: %s", method,
                              (int)strcspn(path, "?"), path, parse_error);
        goto out;
    }
    *out = value;

out:
    /* Request and response bodies may contain keys or health data. */
    if (text != NULL) {
        cardea_mem__free_secret(text, strlen(text));
    }
    if (answer != NULL) {
        cardea_mem__free_secret(answer, answer_len + 1);
    }
    return err;
}
