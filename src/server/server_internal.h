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

#include "crypto/crypto.h"
#include "server/access.h"
#include "server/http.h"
#include "server/server.h"
#include "store/store.h"

#define CARDEA_JWT_KEY_LEN 32

typedef struct cardea_ratelimit cardea_ratelimit;
typedef struct cardea_tokencache cardea_tokencache;
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
    cardea_tokencache *token_cache;  /* verified access tokens */
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

/*
 * Authenticates a request's bearer `token` at `now_s`: returns the caller
 * from the server's token cache, or verifies the token as
 * cardea_token__verify does for an access token (with the server's grace
 * period) and caches the result. CARDEA_EAUTH for any invalid token.
 */
cardea_err cardea_token__authenticate(cardea_caller *out,
                                      cardea_server *server,
                                      const char *token, int64_t now_s)
    CARDEA_MUST_CHECK;

/* ---- verified-token cache (tokencache.c) -------------------------------- */

cardea_err cardea_tokencache__new(cardea_tokencache **out) CARDEA_MUST_CHECK;
void cardea_tokencache__free(cardea_tokencache *cache);
/* The cache key of a token: the SHA-256 of its text. */
void cardea_tokencache__digest(uint8_t out[CARDEA_SHA256_LEN],
                               const char *token);
/*
 * Copies into `out` the caller cached under `digest` when its `exp` plus
 * `grace_s` is not before `now_s`. An expired entry is dropped. Returns
 * CARDEA_OK, CARDEA_ENOTFOUND or CARDEA_ENOMEM, and `out` is untouched
 * unless CARDEA_OK. Thread-safe.
 */
cardea_err cardea_tokencache__get(cardea_caller *out,
                                  cardea_tokencache *cache,
                                  const uint8_t digest[CARDEA_SHA256_LEN],
                                  int64_t now_s, unsigned grace_s)
    CARDEA_MUST_CHECK;
/*
 * Stores a copy of `caller` under `digest` until `exp_s` (the token's
 * exp claim). Only verified tokens may be stored. Thread-safe. When
 * memory runs out, the token is not cached.
 */
void cardea_tokencache__put(cardea_tokencache *cache,
                            const uint8_t digest[CARDEA_SHA256_LEN],
                            const cardea_caller *caller, int64_t exp_s);

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

/* ---- encryptable entities (entity.c and its companions) ------------------ */

/* One entity endpoint family: the path segment and the entity type. */
typedef struct cardea_entity_kind {
    const char *path;           /* "patient", "helement"... */
    const char *type;           /* "Patient", "HealthElement"... */
} cardea_entity_kind;

/*
 * Per-request state of an entity handler: the endpoint's kind and the
 * caller as the access checks see it, with the hashes of the keys sent
 * in Icure-Access-Control-Keys headers (the raw keys are not kept).
 */
typedef struct cardea_entity_req {
    const cardea_entity_kind *kind;
    cardea_access_caller caller;
    char **key_hashes;          /* one allocation; cardea_free */
} cardea_entity_req;

/*
 * Fills `out` for `req`: the kind from the first path segment and the
 * caller with its key hashes. On failure sets a 400 (malformed header)
 * or 500 response and returns false. Release with cardea_entity__end.
 */
bool cardea_entity__begin(cardea_entity_req *out, cardea_http_resp *resp,
                          const cardea_http_req *req);
void cardea_entity__end(cardea_entity_req *ereq);

/*
 * Reads live or deleted entity `id` of `type`; stub-only rows count as
 * missing (CARDEA_ENOTFOUND).
 */
cardea_err cardea_entity__load(json_t **out, cardea_db *db, const char *type,
                               const char *id) CARDEA_MUST_CHECK;
/*
 * Stores `doc` like cardea_db__entity_put (not stub-only) and replaces
 * its index rows: search keys, secret foreign keys, codes, tags, and for
 * a SecureDelegationKeyMap its delegationKey. The caller runs this inside
 * a transaction so the row and its index change together.
 */
cardea_err cardea_entity__save(cardea_db *db, const char *type, json_t *doc,
                               const char *expected_rev) CARDEA_MUST_CHECK;
/*
 * Crypto fields of a data owner's document. Only the data owner changes
 * them, through PUT /dataowner/stub, so the entity endpoints keep the
 * stored values of a Patient.
 */
extern const char *const cardea_entity__crypto_fields[];
extern const size_t cardea_entity__crypto_field_count;

/* Sends an access-module error as a JSON error response. */
void cardea_entity__send_error(cardea_http_resp *resp,
                               const cardea_access_error *err);
/*
 * Reads {ids:[string...]} (at most CARDEA_ENTITY_MAX_IDS); sets a 400 and
 * returns NULL when malformed. The result borrows from `*body_out`, which
 * the caller releases.
 */
#define CARDEA_ENTITY_MAX_IDS 1000
json_t *cardea_entity__read_ids(json_t **body_out, cardea_http_resp *resp,
                                const cardea_http_req *req);

void cardea_entity__create(cardea_http_resp *resp, cardea_http_req *req);
void cardea_entity__create_batch(cardea_http_resp *resp,
                                 cardea_http_req *req);
void cardea_entity__modify(cardea_http_resp *resp, cardea_http_req *req);
void cardea_entity__modify_batch(cardea_http_resp *resp,
                                 cardea_http_req *req);
void cardea_entity__get(cardea_http_resp *resp, cardea_http_req *req);
void cardea_entity__by_ids(cardea_http_resp *resp, cardea_http_req *req);
void cardea_entity__match(cardea_http_resp *resp, cardea_http_req *req);
void cardea_entity__delete(cardea_http_resp *resp, cardea_http_req *req);
void cardea_entity__delete_batch(cardea_http_resp *resp,
                                 cardea_http_req *req);
void cardea_entity__delete_batch_rev(cardea_http_resp *resp,
                                     cardea_http_req *req);
void cardea_entity__undelete(cardea_http_resp *resp, cardea_http_req *req);
void cardea_entity__undelete_batch(cardea_http_resp *resp,
                                   cardea_http_req *req);
void cardea_entity__purge(cardea_http_resp *resp, cardea_http_req *req);

/* Bulk share (entity_share.c). */
void cardea_entity__share(cardea_http_resp *resp, cardea_http_req *req);
void cardea_entity__share_minimal(cardea_http_resp *resp,
                                  cardea_http_req *req);

/* Document attachments (attachment.c); params[0] is the document id. */
void cardea_attachment__put_main(cardea_http_resp *resp,
                                 cardea_http_req *req);
void cardea_attachment__get_main(cardea_http_resp *resp,
                                 cardea_http_req *req);
void cardea_attachment__delete_main(cardea_http_resp *resp,
                                    cardea_http_req *req);
void cardea_attachment__put_secondary(cardea_http_resp *resp,
                                      cardea_http_req *req);
void cardea_attachment__get_secondary(cardea_http_resp *resp,
                                      cardea_http_req *req);
void cardea_attachment__delete_secondary(cardea_http_resp *resp,
                                         cardea_http_req *req);

/* Secure-delegation key maps (sdkmap.c). */
void cardea_sdkmap__create(cardea_http_resp *resp, cardea_http_req *req);
void cardea_sdkmap__by_delegation_keys(cardea_http_resp *resp,
                                       cardea_http_req *req);
/*
 * Checks the rules of a key map before it is stored: `delegationKey` is
 * a string, `delegator` and `delegate` are null or absent, and the legacy
 * delegation maps are empty. Returns NULL when valid, else a message.
 */
const char *cardea_sdkmap__invalid(const json_t *doc);

#endif
