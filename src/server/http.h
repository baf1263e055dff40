/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request and response types shared by the HTTP glue (http.c) and the
 * resource handlers. A handler receives a fully read request whose route
 * already matched, with the caller authenticated when the route needs
 * it, and fills in a response. Handlers never write to the network and
 * never log request bodies or header values.
 */
#ifndef CARDEA_SERVER_HTTP_H
#define CARDEA_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"
#include "store/store.h"

#define CARDEA_ROUTE_MAX_PARAMS 4
#define CARDEA_ROUTE_MAX_SEGMENTS 10
/* Longest HCP chain followed from a data owner to its root. */
#define CARDEA_HIERARCHY_MAX_DEPTH 16

typedef struct cardea_server cardea_server;

typedef enum cardea_http_method {
    CARDEA_HTTP_GET = 1,
    CARDEA_HTTP_POST,
    CARDEA_HTTP_PUT,
    CARDEA_HTTP_DELETE,
    CARDEA_HTTP_OTHER,
} cardea_http_method;

/* The authenticated caller, from the bearer token. */
typedef struct cardea_caller {
    char *user_id;
    char *data_owner_id;
    cardea_do_type type;
    /* HCP ancestors, root first and the direct parent last. */
    char **ancestors;
    size_t ancestor_count;
} cardea_caller;

typedef struct cardea_http_req {
    cardea_server *server;
    void *connection;           /* struct MHD_Connection */
    cardea_http_method method;
    const char *path;           /* after "/rest/v2/", no query string */
    const char *params[CARDEA_ROUTE_MAX_PARAMS];
    const uint8_t *body;
    size_t body_len;
    const cardea_caller *caller; /* NULL on public routes */
    const char *client_addr;    /* numeric address of the peer */
    int64_t now_ms;
    /* Long polls: the deadline chosen on the first attempt (0 before),
     * and whether this attempt must answer instead of waiting again. */
    int64_t wait_deadline_ms;
    bool final_attempt;
} cardea_http_req;

typedef struct cardea_http_resp {
    unsigned status;
    uint8_t *body;              /* owned; cardea_free */
    size_t body_len;
    const char *content_type;   /* static string */
    /* Long poll: suspend the request and call the handler again when a
     * matching notification arrives or at this deadline (ms). */
    int64_t wait_until_ms;
    char *wait_key;             /* owned; the notification key to wait on */
} cardea_http_resp;

typedef void (*cardea_handler)(cardea_http_resp *resp, cardea_http_req *req);

enum {
    CARDEA_ROUTE_PUBLIC = 1u << 0,     /* no bearer token needed */
    CARDEA_ROUTE_BINARY = 1u << 1,     /* body is not JSON: larger limit */
    /* The "{}" segments are capabilities (recovery-data ids), so the
     * access log writes "{id}" in their place. */
    CARDEA_ROUTE_SECRET_PARAMS = 1u << 2,
};

typedef struct cardea_route {
    cardea_http_method method;
    const char *pattern;        /* segments; "{}" matches any one segment */
    cardea_handler handler;
    unsigned flags;
} cardea_route;

/* The routing table and its length (routes.c). */
extern const cardea_route cardea_routes[];
extern const size_t cardea_route_count;

/* ---- helpers for handlers (http_util.c) --------------------------------- */

/* Sets a JSON response and takes the reference to `value` in any case. */
void cardea_http__json(cardea_http_resp *resp, unsigned status,
                       json_t *value);
/*
 * Sets a JSON response whose body is `text`, already serialised JSON of
 * `text_len` bytes. The response takes ownership of `text` (allocated
 * with the library's allocator), which must not be NULL.
 */
void cardea_http__json_text(cardea_http_resp *resp, unsigned status,
                            char *text, size_t text_len);
/* Sets a JSON error {"error":message} ("message" is a constant or safe). */
void cardea_http__error(cardea_http_resp *resp, unsigned status,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets a plain-text response. */
void cardea_http__text(cardea_http_resp *resp, unsigned status,
                       const char *text);
/* Maps a store error to 404, 409, 400 or 500 with a short message. */
void cardea_http__store_error(cardea_http_resp *resp, cardea_err err,
                              const char *what);
/*
 * Responds 200 with `*value` and takes it (sets `*value` to NULL) when
 * `err` is CARDEA_OK, else with cardea_http__store_error for `what`.
 */
void cardea_http__json_or_error(cardea_http_resp *resp, cardea_err err,
                                json_t **value, const char *what);

/*
 * Parses the body as JSON; on failure sets a 400 naming the problem and
 * returns NULL. `want_object` also rejects anything but an object.
 */
json_t *cardea_http__body_json(cardea_http_resp *resp,
                               const cardea_http_req *req, bool want_object);
/*
 * Reads a body {"ids": [...]} of at most `max` strings. Returns the
 * array, borrowed from the parsed body that goes to `*body_out` (release
 * it with json_decref). On a malformed body it sets a 400 naming the
 * problem, leaves `*body_out` untouched and returns NULL.
 */
json_t *cardea_http__read_ids(json_t **body_out, cardea_http_resp *resp,
                              const cardea_http_req *req, size_t max);

/*
 * The id rule of every document a client creates (entities, exchange
 * data, recovery data, key maps): an id travels as one path segment, so
 * it may not contain '/' or control characters, and it is at most
 * CARDEA_HTTP_ID_MAX_LEN bytes.
 */
#define CARDEA_HTTP_ID_MAX_LEN 256
#define CARDEA_HTTP_ID_RULE                                               \
    "the id must be 1 to 256 bytes without '/' or control characters"
/* Returns NULL when `id` follows the id rule, else the message to send. */
const char *cardea_http__invalid_id(const char *id);

/*
 * Copies `text` (NULL gives "") into `out` (`cap` bytes, at least 1) for
 * a log line, cutting it short before an escape that would not fit. Each
 * byte that is a control character, a space, '%', DEL or above 0x7f
 * becomes %XX, so a client value can neither start a forged log line nor
 * send a terminal escape, and the fields of the line stay separated by
 * single spaces.
 */
void cardea_http__log_escape(char *out, size_t cap, const char *text);
/* A buffer for an escaped id of at most CARDEA_HTTP_ID_MAX_LEN bytes. */
#define CARDEA_HTTP_LOG_ID_CAP (3 * CARDEA_HTTP_ID_MAX_LEN + 1)

/* Query parameter or request header value; NULL when absent. */
const char *cardea_http__query(const cardea_http_req *req, const char *name);
const char *cardea_http__header(const cardea_http_req *req, const char *name);

/* Takes a pooled connection; sets a 500 and returns NULL on failure. */
cardea_db *cardea_http__db(cardea_http_resp *resp, cardea_http_req *req);
void cardea_http__db_release(cardea_http_req *req, cardea_db *db);

/*
 * True when `id` is the caller's data owner or one of its HCP ancestors,
 * so a right held by `id` counts for the caller.
 */
bool cardea_http__caller_acts_for(const cardea_caller *caller,
                                  const char *id);

/* Wakes long polls waiting on `key` (see cardea_http_resp.wait_key). */
void cardea_server__notify(cardea_server *server, const char *key);

/* ---- handlers --------------------------------------------------------- */

void cardea_auth__login(cardea_http_resp *resp, cardea_http_req *req);
void cardea_auth__refresh(cardea_http_resp *resp, cardea_http_req *req);
void cardea_auth__switch(cardea_http_resp *resp, cardea_http_req *req);
void cardea_auth__check(cardea_http_resp *resp, cardea_http_req *req);
void cardea_auth__matches(cardea_http_resp *resp, cardea_http_req *req);
void cardea_auth__current_user(cardea_http_resp *resp, cardea_http_req *req);

void cardea_dataowner__current(cardea_http_resp *resp, cardea_http_req *req);
void cardea_dataowner__hierarchy(cardea_http_resp *resp,
                                 cardea_http_req *req);
void cardea_dataowner__hierarchy_stub(cardea_http_resp *resp,
                                      cardea_http_req *req);
void cardea_dataowner__get(cardea_http_resp *resp, cardea_http_req *req);
void cardea_dataowner__by_ids(cardea_http_resp *resp, cardea_http_req *req);
void cardea_dataowner__stub_get(cardea_http_resp *resp, cardea_http_req *req);
void cardea_dataowner__stub_by_ids(cardea_http_resp *resp,
                                   cardea_http_req *req);
void cardea_dataowner__stub_put(cardea_http_resp *resp, cardea_http_req *req);
void cardea_dataowner__aes_keys(cardea_http_resp *resp, cardea_http_req *req);

void cardea_exchange__create(cardea_http_resp *resp, cardea_http_req *req);
void cardea_exchange__create_bulk(cardea_http_resp *resp,
                                  cardea_http_req *req);
void cardea_exchange__modify(cardea_http_resp *resp, cardea_http_req *req);
void cardea_exchange__get(cardea_http_resp *resp, cardea_http_req *req);
void cardea_exchange__by_ids(cardea_http_resp *resp, cardea_http_req *req);
void cardea_exchange__by_pair(cardea_http_resp *resp, cardea_http_req *req);
void cardea_exchange__by_pair_query(cardea_http_resp *resp,
                                    cardea_http_req *req);
void cardea_exchange__by_participant(cardea_http_resp *resp,
                                     cardea_http_req *req);
void cardea_exchange__counterparts(cardea_http_resp *resp,
                                   cardea_http_req *req);

void cardea_exmap__put_batch(cardea_http_resp *resp, cardea_http_req *req);
void cardea_exmap__get_batch(cardea_http_resp *resp, cardea_http_req *req);

void cardea_recovery__create(cardea_http_resp *resp, cardea_http_req *req);
void cardea_recovery__get(cardea_http_resp *resp, cardea_http_req *req);
void cardea_recovery__wait(cardea_http_resp *resp, cardea_http_req *req);
void cardea_recovery__delete(cardea_http_resp *resp, cardea_http_req *req);
void cardea_recovery__delete_for(cardea_http_resp *resp,
                                 cardea_http_req *req);
void cardea_recovery__delete_for_type(cardea_http_resp *resp,
                                      cardea_http_req *req);

#endif
