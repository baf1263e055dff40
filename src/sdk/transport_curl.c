/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The default transport: one libcurl easy handle per transport, reused so
 * that connections stay alive between the requests of a session. It
 * follows no redirects, speaks only http and https, and keeps libcurl's
 * certificate and host name checks on.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "sdk/sdk.h"

#define CURL_TRANSPORT_MAGIC 0x63757231u /* "cur1" */

typedef struct curl_transport {
    cardea_transport public;       /* first: the handle callers hold */
    unsigned magic;
    CURL *easy;
    cardea_transport_curl_options opts;
    char *ca_file;
    char error[CURL_ERROR_SIZE];
} curl_transport;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result = CURLE_FAILED_INIT;

static void
global_init(void)
{
    global_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* What the body callback writes to, and the first append error. */
typedef struct body_sink {
    cardea_http_response *resp;
    cardea_err err;
} body_sink;

static size_t
on_body(char *data, size_t size, size_t count, void *user)
{
    body_sink *sink = user;
    size_t len = size * count;

    /* Returning less than `len` makes libcurl abort the transfer. */
    sink->err = cardea_http_response_append_body(sink->resp, data, len);
    return sink->err == CARDEA_OK ? len : 0;
}

/* Trims the CR LF and splits "Name: value"; status lines are skipped. */
static size_t
on_header(char *data, size_t size, size_t count, void *user)
{
    cardea_http_response *resp = user;
    size_t len = size * count;
    char name[128];
    char value[1024];
    const char *colon = memchr(data, ':', len);
    size_t name_len;
    size_t value_start;
    size_t value_end = len;
    cardea_err dropped;

    if (colon == NULL) {
        return len;
    }
    name_len = (size_t)(colon - data);
    value_start = name_len + 1;
    while (value_start < len && data[value_start] == ' ') {
        value_start++;
    }
    while (value_end > value_start && (data[value_end - 1] == '\n' ||
                                       data[value_end - 1] == '\r')) {
        value_end--;
    }
    if (name_len == 0 || name_len >= sizeof name ||
        value_end - value_start >= sizeof value) {
        return len;
    }
    memcpy(name, data, name_len);
    name[name_len] = 0;
    memcpy(value, data + value_start, value_end - value_start);
    value[value_end - value_start] = 0;
    /* A header dropped for lack of memory or room is harmless: the
     * session requires none, so the transfer goes on. */
    dropped = cardea_http_response_add_header(resp, name, value);
    (void)dropped;
    return len;
}

/* Frees a header list after wiping it, because it contains the bearer
 * token. */
static void
free_headers(struct curl_slist *list)
{
    for (struct curl_slist *item = list; item != NULL; item = item->next) {
        cardea_wipe(item->data, strlen(item->data));
    }
    curl_slist_free_all(list);
}

static cardea_err
build_headers(struct curl_slist **out, const cardea_http_request *req)
{
    struct curl_slist *list = NULL;
    struct curl_slist *grown;
    char *line = NULL;
    size_t line_cap = 0;
    cardea_err err = CARDEA_OK;

    /* An empty "Expect:" stops libcurl from waiting for 100-continue. */
    if ((list = curl_slist_append(NULL, "Expect:")) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < req->header_count; i++) {
        size_t need = strlen(req->headers[i].name) +
                      strlen(req->headers[i].value) + 3;

        if (need > line_cap) {
            cardea_mem__free_secret(line, line_cap);
            line_cap = need;
            if ((line = cardea_mem__alloc(line_cap)) == NULL) {
                err = CARDEA_ENOMEM;
                goto out;
            }
        }
        snprintf(line, line_cap, "%s: %s", req->headers[i].name,
                 req->headers[i].value);
        if ((grown = curl_slist_append(list, line)) == NULL) {
            err = CARDEA_ENOMEM;
            goto out;
        }
        list = grown;
    }
    *out = list;
    list = NULL;

out:
    cardea_mem__free_secret(line, line_cap);
    free_headers(list);
    return err;
}

static cardea_err
set_method(CURL *easy, const cardea_http_request *req)
{
    CURLcode rc;

    if (strcmp(req->method, "GET") == 0 && req->body_len == 0) {
        return curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L) == CURLE_OK
                   ? CARDEA_OK
                   : CARDEA_ENETWORK;
    }
    /* Every other method sends the body as POST data (possibly empty)
     * under its own name. */
    rc = curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                          (curl_off_t)req->body_len);
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
                              req->body != NULL ? (const char *)req->body
                                                : "");
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    }
    return rc == CURLE_OK ? CARDEA_OK : CARDEA_ENETWORK;
}

/* 1 when curl_easy_setopt failed, else 0. */
#define OPT(easy, option, value) \
    (curl_easy_setopt((easy), (option), (value)) != CURLE_OK ? 1u : 0u)

static cardea_err
set_options(curl_transport *t, const cardea_http_request *req,
            body_sink *sink, struct curl_slist *headers)
{
    CURL *easy = t->easy;
    unsigned failures = 0;

    curl_easy_reset(easy);
    failures += OPT(easy, CURLOPT_URL, req->url);
    failures += OPT(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    failures += OPT(easy, CURLOPT_FOLLOWLOCATION, 0L);
    failures += OPT(easy, CURLOPT_NOSIGNAL, 1L);
    failures += OPT(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    failures += OPT(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    failures += OPT(easy, CURLOPT_CONNECTTIMEOUT_MS,
                           t->opts.connect_timeout_ms);
    failures += OPT(easy, CURLOPT_TIMEOUT_MS, t->opts.timeout_ms);
    failures += OPT(easy, CURLOPT_HTTPHEADER, headers);
    failures += OPT(easy, CURLOPT_WRITEFUNCTION, on_body);
    failures += OPT(easy, CURLOPT_WRITEDATA, sink);
    failures += OPT(easy, CURLOPT_HEADERFUNCTION, on_header);
    failures += OPT(easy, CURLOPT_HEADERDATA, sink->resp);
    failures += OPT(easy, CURLOPT_ERRORBUFFER, t->error);
    if (t->ca_file != NULL) {
        failures += OPT(easy, CURLOPT_CAINFO, t->ca_file);
    }
    if (failures != 0) {
        return CARDEA_ENETWORK;
    }
    return set_method(easy, req);
}

static cardea_err
curl_send(void *user, const cardea_http_request *req,
          cardea_http_response *resp)
{
    curl_transport *t = user;
    body_sink sink = {resp, CARDEA_OK};
    struct curl_slist *headers = NULL;
    long status = 0;
    CURLcode rc;
    cardea_err err;

    if (t == NULL || req == NULL || resp == NULL || req->url == NULL ||
        req->method == NULL) {
        return CARDEA_EINVAL;
    }
    if ((err = build_headers(&headers, req)) != CARDEA_OK) {
        return err;
    }
    t->error[0] = 0;
    if ((err = set_options(t, req, &sink, headers)) != CARDEA_OK) {
        cardea_http_response_set_error(resp, "libcurl rejected an option");
        goto out;
    }
    rc = curl_easy_perform(t->easy);
    if (rc == CURLE_WRITE_ERROR && sink.err != CARDEA_OK) {
        cardea_http_response_set_error(
            resp, sink.err == CARDEA_ETOOBIG ? "response body over 256 MiB"
                                             : "out of memory");
        err = sink.err;
        goto out;
    }
    if (rc != CURLE_OK) {
        cardea_http_response_set_error(
            resp, t->error[0] != 0 ? t->error : curl_easy_strerror(rc));
        err = CARDEA_ENETWORK;
        goto out;
    }
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    cardea_http_response_set_status(resp, (unsigned)status);

out:
    /* libcurl keeps pointers to the header list and the body: drop them
     * before the list is freed. */
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, NULL);
    free_headers(headers);
    return err;
}

/* see cardea/transport.h */
cardea_err
cardea_transport_curl_new(cardea_transport **out,
                          const cardea_transport_curl_options *opts)
{
    cardea_transport_curl_options defaults =
        CARDEA_TRANSPORT_CURL_OPTIONS_INIT;
    curl_transport *t;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    if (opts == NULL) {
        opts = &defaults;
    }
    if (opts->version != CARDEA_TRANSPORT_CURL_OPTIONS_VERSION ||
        opts->connect_timeout_ms < 0 || opts->timeout_ms < 0) {
        return CARDEA_EINVAL;
    }
    pthread_once(&global_once, global_init);
    if (global_result != CURLE_OK) {
        return CARDEA_ENETWORK;
    }
    if ((t = cardea_mem__calloc(1, sizeof *t)) == NULL) {
        return CARDEA_ENOMEM;
    }
    t->opts = *opts;
    t->magic = CURL_TRANSPORT_MAGIC;
    if (opts->ca_file != NULL &&
        (t->ca_file = cardea_mem__strdup(opts->ca_file)) == NULL) {
        cardea_mem__free(t);
        return CARDEA_ENOMEM;
    }
    if ((t->easy = curl_easy_init()) == NULL) {
        cardea_mem__free(t->ca_file);
        cardea_mem__free(t);
        return CARDEA_ENETWORK;
    }
    t->public.version = CARDEA_TRANSPORT_VERSION;
    t->public.user = t;
    t->public.send = curl_send;
    *out = &t->public;
    return CARDEA_OK;
}

/* see cardea/transport.h */
void
cardea_transport_curl_free(cardea_transport *transport)
{
    curl_transport *t = (curl_transport *)transport;

    if (t == NULL || t->magic != CURL_TRANSPORT_MAGIC) {
        return;
    }
    curl_easy_cleanup(t->easy);
    cardea_mem__free(t->ca_file);
    t->magic = 0;
    cardea_mem__free(t);
}
