/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State of a running server and the internal modules the handlers share:
 * bearer tokens (token.c), login rate limiting (ratelimit.c), the
 * data-owner hierarchy (dataowner.c) and caller records.
 */
#ifndef CARDEA_SERVER_INTERNAL_H
#define CARDEA_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <microhttpd.h>

#include "server/http.h"
#include "server/server.h"
#include "store/store.h"

#define CARDEA_JWT_KEY_LEN 32

typedef struct cardea_ratelimit cardea_ratelimit;
typedef struct cardea_waiter cardea_waiter;

struct cardea_server {
    cardea_server_options options;
    char *host;
    char *db_path;
    cardea_store *store;
    uint8_t access_key[CARDEA_JWT_KEY_LEN];
    uint8_t refresh_key[CARDEA_JWT_KEY_LEN];
    /* Hash checked for unknown logins, so they cost as much as known. */
    char *dummy_hash;
    cardea_ratelimit *limits;
    void *daemon;               /* struct MHD_Daemon */
    uint16_t bound_port;
    atomic_long in_flight;

    /* Long polls (http.c). */
    pthread_mutex_t wait_lock;
    pthread_cond_t wait_cond;
    pthread_t wait_thread;
    bool wait_thread_running;
    bool stopping;
    uint64_t generation;        /* bumped by each notification */
    cardea_waiter *waiters;
    size_t waiter_count;
};

/* ---- libmicrohttpd callbacks and the long-poll thread (http.c) ------- */

enum MHD_Result cardea_http__on_request(void *cls,
                                        struct MHD_Connection *connection,
                                        const char *url, const char *method,
                                        const char *version,
                                        const char *upload_data,
                                        size_t *upload_data_size,
                                        void **con_cls);
void cardea_http__on_completed(void *cls, struct MHD_Connection *connection,
                               void **con_cls,
                               enum MHD_RequestTerminationCode code);
cardea_err cardea_http__start_waiter(cardea_server *server)
    CARDEA_MUST_CHECK;
/* Ends every long poll and joins the thread; new polls answer at once. */
void cardea_http__stop_waiter(cardea_server *server);

/* ---- callers and tokens (token.c) -------------------------------------- */

void cardea_caller__clear(cardea_caller *caller);
/* Deep copy; CARDEA_ENOMEM leaves `out` untouched. */
cardea_err cardea_caller__copy(cardea_caller *out, const cardea_caller *src)
    CARDEA_MUST_CHECK;

/*
 * Issues a signed HS256 token for `caller` valid `lifetime_s` from
 * `now_s`; `refresh` selects the refresh key and marks the token so
 * neither kind is accepted in place of the other. Free with cardea_free.
 */
cardea_err cardea_token__issue(char **out, const cardea_server *server,
                               const cardea_caller *caller, int64_t now_s,
                               unsigned lifetime_s, bool refresh)
    CARDEA_MUST_CHECK;
/*
 * Verifies signature, kind and expiry (with `grace_s` after exp) and
 * fills `out`. CARDEA_EAUTH for any invalid token.
 */
cardea_err cardea_token__verify(cardea_caller *out,
                                const cardea_server *server,
                                const char *token, int64_t now_s,
                                unsigned grace_s, bool refresh)
    CARDEA_MUST_CHECK;

/* ---- login rate limiting (ratelimit.c) ---------------------------------- */

cardea_err cardea_ratelimit__new(cardea_ratelimit **out, unsigned max,
                                 unsigned window_s) CARDEA_MUST_CHECK;
void cardea_ratelimit__free(cardea_ratelimit *limits);
/* True when `key` reached the failure limit in the current window. */
bool cardea_ratelimit__blocked(cardea_ratelimit *limits, const char *key,
                               int64_t now_ms);
void cardea_ratelimit__fail(cardea_ratelimit *limits, const char *key,
                            int64_t now_ms);
void cardea_ratelimit__reset(cardea_ratelimit *limits, const char *key);

/* ---- data owners (dataowner.c) ------------------------------------------ */

/*
 * Collects the HCP ancestors of data owner `id` into `out` (a new JSON
 * array, root first, direct parent last), following parentId at most
 * CARDEA_HIERARCHY_MAX_DEPTH steps. CARDEA_EINVAL on a loop or a chain
 * that is too deep.
 */
cardea_err cardea_dataowner__ancestors(json_t **out, cardea_db *db,
                                       const char *id) CARDEA_MUST_CHECK;
/*
 * Reads the document of data owner `id`. A patient without a Patient
 * entity gets an empty stub {id, crypto fields} without "rev".
 */
cardea_err cardea_dataowner__document(json_t **out, cardea_do_type *type_out,
                                      cardea_db *db, const char *id)
    CARDEA_MUST_CHECK;

/* The store type of a counterpart type such as "Hcp"; 0 if unknown. */
cardea_do_type cardea_dataowner__parse_kind(const char *name, size_t len);

#endif
