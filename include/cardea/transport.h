/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP transport of a Cardea session: a small table of callbacks that
 * sends one request and collects the response. The library ships a
 * libcurl implementation; firmware and applications with their own HTTP
 * stack fill in a cardea_transport themselves and pass it in
 * cardea_session_options.transport.
 */
#ifndef CARDEA_TRANSPORT_H
#define CARDEA_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cardea/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest response body a transport may hand over: 256 MiB. */
#define CARDEA_HTTP_MAX_BODY ((size_t)256 << 20)
/* Largest number of response headers kept per response. */
#define CARDEA_HTTP_MAX_RESPONSE_HEADERS 64

/* One request or response header. The same name may appear repeatedly. */
typedef struct cardea_http_header {
    const char *name;
    const char *value;
} cardea_http_header;

/*
 * A request as the session hands it to the transport. Every pointer stays
 * valid only during the send call. Header values may contain a bearer
 * token or access-control keys, so a transport must never log or keep
 * them.
 */
typedef struct cardea_http_request {
    const char *method;        /* "GET", "POST", "PUT" or "DELETE" */
    const char *url;           /* absolute URL, query string included */
    const cardea_http_header *headers;
    size_t header_count;       /* send each header, repeats included */
    const uint8_t *body;       /* NULL when body_len is 0 */
    size_t body_len;
} cardea_http_request;

/* Response being filled in by the transport; opaque. */
typedef struct cardea_http_response cardea_http_response;

/*
 * Records the HTTP status code of the response (100 to 599). A transport
 * that got no status (connection refused, timeout) leaves it unset and
 * returns CARDEA_ENETWORK from send.
 */
CARDEA_API void cardea_http_response_set_status(cardea_http_response *resp,
                                                unsigned status);

/*
 * Appends `len` bytes to the response body. Call it as the data arrives,
 * as often as needed.
 *
 * resp (in/out) the response passed to send.
 * data (in)     `len` bytes; may be NULL when `len` is 0.
 * Returns CARDEA_OK, CARDEA_ETOOBIG when the body would exceed
 * CARDEA_HTTP_MAX_BODY (the transport should then abort the transfer and
 * return that code), or CARDEA_ENOMEM. On failure the body is unchanged.
 */
CARDEA_API cardea_err
cardea_http_response_append_body(cardea_http_response *resp, const void *data,
                                 size_t len) CARDEA_MUST_CHECK;

/*
 * Records one response header (both strings are copied). Calling it is
 * optional, because the session currently reads no response header.
 * Headers past
 * CARDEA_HTTP_MAX_RESPONSE_HEADERS are dropped and CARDEA_ETOOBIG is
 * returned, which a transport may ignore.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL string), CARDEA_ETOOBIG or
 * CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_http_response_add_header(cardea_http_response *resp, const char *name,
                                const char *value) CARDEA_MUST_CHECK;

/*
 * Records a one-line description of a transport failure ("connection
 * refused", "timed out after 60 s"), shown in cardea_session_errmsg. The
 * text is copied and cut at 200 bytes. It must not contain header values.
 */
CARDEA_API void cardea_http_response_set_error(cardea_http_response *resp,
                                               const char *message);

#define CARDEA_TRANSPORT_VERSION 1

/*
 * A transport. `send` performs one request and fills `resp`:
 *
 * user (in)  the `user` member of this struct.
 * req  (in)  the request; see cardea_http_request.
 * resp (out) status, body and optionally headers, through the
 *            cardea_http_response_* functions.
 * Returns CARDEA_OK once any HTTP status was received (4xx and 5xx
 * included, because the session maps them to errors), CARDEA_ENETWORK
 * when no response arrived, or the code an append call returned.
 *
 * The transport must not follow redirects to other hosts, and for HTTPS
 * it must verify the server certificate and host name. A session calls
 * `send` from one thread at a time, but a transport shared by several
 * sessions must be safe to call from several threads at once.
 */
typedef struct cardea_transport {
    int version;               /* CARDEA_TRANSPORT_VERSION */
    void *user;
    cardea_err (*send)(void *user, const cardea_http_request *req,
                       cardea_http_response *resp);
} cardea_transport;

#define CARDEA_TRANSPORT_CURL_OPTIONS_VERSION 1

/* Options of the libcurl transport. */
typedef struct cardea_transport_curl_options {
    int version;               /* CARDEA_TRANSPORT_CURL_OPTIONS_VERSION */
    long connect_timeout_ms;   /* TCP and TLS connection set-up */
    long timeout_ms;           /* whole request, body included */
    const char *ca_file;       /* PEM CA bundle, or NULL for system default */
} cardea_transport_curl_options;

#define CARDEA_TRANSPORT_CURL_OPTIONS_INIT \
    { CARDEA_TRANSPORT_CURL_OPTIONS_VERSION, 10000, 60000, NULL }

/*
 * Creates the default transport over one libcurl easy handle, which keeps
 * connections alive between requests. Redirects are never followed, only
 * the http and https schemes are allowed, and HTTPS certificate and host
 * name checks are on.
 *
 * out  (out) the new transport; release it with cardea_transport_curl_free
 *      after every session using it is closed.
 * opts (in)  options, copied; NULL means CARDEA_TRANSPORT_CURL_OPTIONS_INIT.
 * Returns CARDEA_OK, CARDEA_EINVAL (unknown version, negative timeout),
 * CARDEA_ENOMEM or CARDEA_ENETWORK (libcurl failed to initialise).
 * Thread safety: one easy handle is not reentrant, so a curl transport
 * must serve one session, or sessions used from one thread.
 */
CARDEA_API cardea_err
cardea_transport_curl_new(cardea_transport **out,
                          const cardea_transport_curl_options *opts)
    CARDEA_MUST_CHECK;

/* Frees a transport from cardea_transport_curl_new. NULL does nothing. */
CARDEA_API void cardea_transport_curl_free(cardea_transport *transport);

#ifdef __cplusplus
}
#endif

#endif
