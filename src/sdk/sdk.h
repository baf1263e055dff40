/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal contract of the SDK layer: the session structure and the
 * functions that the SDK's modules share (REST requests, credentials,
 * data owners, the key store and the user's keys). The entity,
 * exchange-data and sharing modules build on these. Nothing here is
 * public API.
 *
 * Conventions: every function that returns cardea_err leaves its outputs
 * untouched on failure, and, when it takes a session, writes the reason
 * to the session's errmsg (cardea_session_errmsg) before it returns. All
 * SDK-internal functions are named cardea_sdk__<verb>, except the key
 * store (cardea_keystore__<verb>). A session is used by one thread at a
 * time, so nothing here locks.
 */
#ifndef CARDEA_SDK_H
#define CARDEA_SDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/base.h"
#include "cardea/recovery.h"
#include "cardea/session.h"
#include "cardea/strategies.h"
#include "cardea/transport.h"
#include "crypto/crypto.h"
#include "format/exchange_data.h"
#include "format/keys.h"
#include "format/recovery.h"

#define CARDEA_SDK_ERRMSG_CAP 512
/* Refresh the access token when it expires within this many seconds. */
#define CARDEA_SDK_TOKEN_MARGIN_S 30
/* Maximum length of the parentId chain followed from the user's data
 * owner. */
#define CARDEA_SDK_HIERARCHY_MAX 16
/* Largest key store file read: a 4096-bit PKCS#8 key in JSON is ~3.3 KiB,
 * and a verification map of a few hundred keys stays far below. */
#define CARDEA_KEYSTORE_MAX_FILE ((size_t)64 << 10)
/* Entries kept in the per-session anonymity cache before it is emptied. */
#define CARDEA_SDK_ANON_CACHE_MAX 1000

/* ---- transport response (cardea/transport.h) ----------------------------- */

typedef struct cardea_sdk_header {
    char *name;
    char *value;
} cardea_sdk_header;

struct cardea_http_response {
    unsigned status;               /* 0 until the transport sets it */
    cardea_buf body;               /* capped at CARDEA_HTTP_MAX_BODY */
    cardea_sdk_header *headers;
    size_t header_count;
    char error[201];               /* transport failure text, or "" */
};

/* ---- the user's data owners and keys ------------------------------------- */

/* One data owner of the user's hierarchy. */
typedef struct cardea_sdk_owner {
    char *id;
    cardea_data_owner_type type;
    json_t *stub;                  /* crypto-actor stub with its rev */
} cardea_sdk_owner;

/* A public key a data owner publishes, with the OAEP hash to use. */
typedef struct cardea_sdk_pubkey {
    char *spki_hex;                /* lowercase */
    char fp_v1[CARDEA_FP_V1_LEN + 1];
    cardea_rsa_oaep oaep;
} cardea_sdk_pubkey;

/*
 * A private key of the user or of a parent. Every key decrypts, but only
 * a key for which cardea_sdk__key_is_safe is true may encrypt new
 * exchange data, sign it or check the signature of the user's own
 * exchange data.
 */
typedef struct cardea_sdk_key {
    size_t owner;                  /* index in session->owners */
    char fp_v1[CARDEA_FP_V1_LEN + 1];
    char fp_v2[CARDEA_FP_V2_LEN + 1];
    char *spki_hex;                /* lowercase */
    cardea_rsa_key *key;           /* private key */
    cardea_rsa_oaep oaep;          /* the hash it is published for */
    bool verified;                 /* verified by the strategies */
    bool device;                   /* generated on this device */
} cardea_sdk_key;

typedef struct cardea_keystore cardea_keystore;

typedef struct cardea_sdk_anon_entry {
    char *id;
    bool anonymous;
} cardea_sdk_anon_entry;

struct cardea_session {
    char errmsg[CARDEA_SDK_ERRMSG_CAP];
    unsigned last_status;          /* HTTP status of the last request */

    char *base_url;                /* without a trailing slash */
    cardea_transport transport;
    cardea_transport *owned_transport;     /* freed at close, or NULL */
    cardea_crypto_strategies strategies;
    cardea_crypto_strategies *owned_strategies; /* freed at close, or NULL */
    cardea_log_fn log_fn;
    cardea_log_level log_level;
    void *log_user;

    char *token;                   /* secret: wiped when freed */
    char *refresh_token;           /* secret, NULL when none */
    int64_t token_exp;             /* JWT exp in Unix seconds, 0 = unknown */
    char *user_id;                 /* NULL when unknown */

    json_t *data_owner;            /* dataOwner of /dataowner/current */
    cardea_data_owner_type data_owner_type;
    /* Topmost parent first, the user's own data owner last. */
    cardea_sdk_owner *owners;
    size_t owner_count;
    /* Cached result of data_owner_requires_anonymous_delegation for the
     * user's own data owner: author and responsible are "*" when true. */
    bool self_anonymous;

    cardea_keystore *keystore;
    cardea_sdk_key *keys;
    size_t key_count;

    cardea_sdk_anon_entry *anon_cache;
    size_t anon_count;

    /*
     * State of the modules built on the session (exchange-data caches,
     * access-control keys). `ext_reset` runs on force_reload after the
     * keys are reloaded, and `ext_free` at close. Either may be NULL.
     */
    void *ext;
    void (*ext_reset)(cardea_session *session);
    void (*ext_free)(cardea_session *session);

    /* Manifests from cardea_session_options.encrypted_fields, or NULL
     * when the session encrypts with the default manifests only. */
    struct cardea_sdk_fields *fields;
};

/* The user's own data owner: the last of session->owners. */
static inline const cardea_sdk_owner *
cardea_sdk__self(const cardea_session *session)
{
    return &session->owners[session->owner_count - 1];
}

/* ---- errors and logging (session.c) -------------------------------------- */

/* Formats the session's errmsg. Never pass a secret as an argument. */
void cardea_sdk__set_error(cardea_session *session, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Formats a message into the caller's buffer `errmsg` of `errmsg_cap`
 * bytes. Does nothing when `errmsg` is NULL or `errmsg_cap` is 0. */
void cardea_sdk__errmsg(char *errmsg, size_t errmsg_cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sends one line to the session's log callback, else the global one. */
void cardea_sdk__log(cardea_session *session, cardea_log_level level,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- REST requests (http.c) ---------------------------------------------- */

/*
 * Sends one request to `base_url + "/rest/v2/" + path` and returns the
 * response body. Adds `Authorization: Bearer` (refreshing the token first
 * when it expires within CARDEA_SDK_TOKEN_MARGIN_S seconds, and once more
 * after a 401), `Accept: application/json`, and `Content-Type` when a
 * body is sent. `headers` are added as given; a name may repeat (one
 * Icure-Access-Control-Keys line per value).
 *
 * out          (out) body, NUL-terminated one byte past *out_len;
 *              cardea_free it. May be NULL to discard the body.
 * path         (in)  path below /rest/v2/, query string included; escape
 *              ids with cardea_sdk__escape_segment.
 * content_type (in)  for the body; NULL means "application/json".
 * Status mapping: 2xx -> CARDEA_OK; 401 -> CARDEA_EAUTH; 403 ->
 * CARDEA_EACCESS; 404 -> CARDEA_ENOTFOUND; 409 -> CARDEA_ECONFLICT; 413 ->
 * CARDEA_ETOOBIG; any other status -> CARDEA_EHTTP. The errmsg then
 * contains the method, the path without query, the status and the
 * server's message, and session->last_status stores the status.
 * CARDEA_ENETWORK when no response arrived.
 */
cardea_err cardea_sdk__request(uint8_t **out, size_t *out_len,
                               cardea_session *session, const char *method,
                               const char *path,
                               const cardea_http_header *headers,
                               size_t header_count, const void *body,
                               size_t body_len, const char *content_type)
    CARDEA_MUST_CHECK;

/*
 * Same with JSON: `body` (NULL for none) is serialised compactly and the
 * response parsed. An empty response gives JSON null. `out` may be NULL.
 * CARDEA_EFORMAT when the response is not JSON.
 */
cardea_err cardea_sdk__request_json(json_t **out, cardea_session *session,
                                    const char *method, const char *path,
                                    const json_t *body,
                                    const cardea_http_header *headers,
                                    size_t header_count) CARDEA_MUST_CHECK;

/*
 * Percent-encodes every byte outside A-Z a-z 0-9 - . _ ~ so that `segment`
 * fits in one path segment or query value. `out`: cardea_free it.
 */
cardea_err cardea_sdk__escape_segment(char **out, const char *segment)
    CARDEA_MUST_CHECK;

/* Releases what a transport stored in `resp` and zeroes it. */
void cardea_sdk__response_clear(cardea_http_response *resp);

/* ---- credentials (auth.c) ------------------------------------------------ */

/*
 * Logs in with POST /auth/login and {username, password}, and stores the
 * token, refresh token and expiry in the session. The request body is
 * wiped after use. CARDEA_EAUTH on a 401 (wrong credentials),
 * CARDEA_EFORMAT when the response has no token.
 */
cardea_err cardea_sdk__login(cardea_session *session, const char *login,
                             const char *password) CARDEA_MUST_CHECK;

/* Takes a token pair given by the application (copied). */
cardea_err cardea_sdk__use_token(cardea_session *session, const char *token,
                                 const char *refresh_token) CARDEA_MUST_CHECK;

/*
 * Replaces the access token through POST /auth/refresh with the
 * Refresh-Token header. CARDEA_EAUTH when there is no refresh token or the
 * server rejects it.
 */
cardea_err cardea_sdk__refresh(cardea_session *session) CARDEA_MUST_CHECK;

/*
 * Reads the claims of a JWT without checking its signature (the server
 * does that): `exp` (0 when absent) and `u` (NULL when absent, else
 * cardea_free it). The payload may be base64url or standard base64,
 * padded or not. CARDEA_EFORMAT for anything that is not three
 * dot-separated parts with a JSON object in the middle.
 */
cardea_err cardea_sdk__jwt_claims(int64_t *exp, char **user_id,
                                  const char *token) CARDEA_MUST_CHECK;

/* ---- data owners (data_owner.c) ------------------------------------------ */

/* "hcp", "patient", "device" (any case) -> type, 0 for anything else. */
cardea_data_owner_type cardea_sdk__parse_type(const char *name);
/* type -> "hcp", "patient", "device", "unknown" for anything else. */
const char *cardea_sdk__type_name(cardea_data_owner_type type);

/*
 * GET /dataowner/stub/{id}: `out` receives the {type, stub} object, whose
 * type is also returned through `type`. CARDEA_EFORMAT when the response
 * lacks a known type or a stub object.
 */
cardea_err cardea_sdk__fetch_stub(json_t **out, cardea_data_owner_type *type,
                                  cardea_session *session, const char *id)
    CARDEA_MUST_CHECK;

/*
 * GET /dataowner/current, then the stubs of the user and of each parent
 * (following parentId, at most CARDEA_SDK_HIERARCHY_MAX levels, loops
 * rejected). Replaces session->data_owner, data_owner_type, owners and
 * self_anonymous only when everything succeeded.
 */
cardea_err cardea_sdk__load_data_owner(cardea_session *session)
    CARDEA_MUST_CHECK;

/*
 * Saves `stub` (a stub object with its rev) with PUT /dataowner/stub for
 * the owner at index `owner`. On 409 it re-reads the stub, applies `edit`
 * again and retries once. `edit` changes a stub in place (for example
 * appends a public key) and returns CARDEA_OK. It is applied before the
 * first PUT too. The owner's stub in the session is replaced by the response.
 */
cardea_err cardea_sdk__put_stub(cardea_session *session, size_t owner,
                                cardea_err (*edit)(json_t *stub,
                                                   const void *arg),
                                const void *arg) CARDEA_MUST_CHECK;

/*
 * Lists the public keys a stub publishes: publicKeysForOaepWithSha256
 * (OAEP-SHA-256), then publicKey and the SPKI keys of aesExchangeKeys
 * (OAEP-SHA-1). Entries of aesExchangeKeys that are not SPKI, such as the
 * "x..." placeholders, are skipped. Duplicates are listed once.
 * CARDEA_EFORMAT when one key is published for both hashes, which the
 * official SDK rejects as ambiguous.
 * Free `out` with cardea_sdk__pubkeys_free. It is NULL when *count is 0.
 */
cardea_err cardea_sdk__stub_pubkeys(cardea_sdk_pubkey **out, size_t *count,
                                    const json_t *stub) CARDEA_MUST_CHECK;
void cardea_sdk__pubkeys_free(cardea_sdk_pubkey *keys, size_t count);

/*
 * Returns whether the strategies make this data owner anonymous, caching
 * the result for the session (CARDEA_SDK_ANON_CACHE_MAX entries).
 */
bool cardea_sdk__requires_anonymous(cardea_session *session, const char *id,
                                    cardea_data_owner_type type);

/* ---- the user's keys (keys.c) -------------------------------------------- */

/*
 * Loads the keys of every owner in session->owners from the key store,
 * recovers and verifies the rest through the strategies, checks that
 * each parent has a safe key, and generates or imports a key for the
 * user when the strategies allow it (see cardea_session_open). Replaces
 * session->keys only on success.
 */
cardea_err cardea_sdk__load_keys(cardea_session *session) CARDEA_MUST_CHECK;

/* True when the key may encrypt and sign: verified or device-generated. */
static inline bool
cardea_sdk__key_is_safe(const cardea_sdk_key *key)
{
    return key->verified || key->device;
}

/*
 * Finds a private key by fingerprint v1 (32 characters), v2 (22) or a
 * full SPKI hex, among the keys of the owner with id `owner_id` (NULL:
 * any owner). Returns NULL when none matches.
 */
const cardea_sdk_key *cardea_sdk__find_key(const cardea_session *session,
                                           const char *owner_id,
                                           const char *fingerprint);

/* Copies hex digits `hex` with A-F lowercased, or returns NULL when out
 * of memory. Free the copy with cardea_mem__free. */
char *cardea_sdk__hex_lower_dup(const char *hex);

/* Frees the keys array (private keys dropped, strings freed). */
void cardea_sdk__keys_free(cardea_sdk_key *keys, size_t count);

/* ---- key store (keystore.c) ---------------------------------------------- */

typedef enum cardea_keystore_kind {
    CARDEA_KEYSTORE_DEVICE = 1,    /* org.taktik.icure.rsa.device.<id>.<fp> */
    CARDEA_KEYSTORE_RECOVERED = 2, /* org.taktik.icure.rsa.recovered.... */
} cardea_keystore_kind;

/*
 * Opens the key store folder `dir`, creating it with mode 0700 when it
 * does not exist (its parent must). Rejects with CARDEA_EACCESS a folder
 * that is not owned by the effective user or that the group or others may
 * access, and with CARDEA_EIO one that is no folder. `errmsg` (may be
 * NULL) receives the reason on failure.
 */
cardea_err cardea_keystore__open(cardea_keystore **out, const char *dir,
                                 char *errmsg, size_t errmsg_cap)
    CARDEA_MUST_CHECK;
void cardea_keystore__close(cardea_keystore *store);

/*
 * Writes an entry atomically: a new temporary file of mode 0600 in the
 * folder, written and synced, then renamed over `name`. A crash leaves the
 * old entry or the new one, never a mix. `name` must be a plain file name
 * (letters, digits, '.', '-', '_', ':', and no leading '.').
 * CARDEA_EINVAL for a bad name, CARDEA_EIO when a write fails.
 */
cardea_err cardea_keystore__put(cardea_keystore *store, const char *name,
                                const uint8_t *data, size_t len, char *errmsg,
                                size_t errmsg_cap) CARDEA_MUST_CHECK;

/*
 * Reads an entry. `out` is NUL-terminated one byte past *out_len, so free
 * it with cardea_mem__free_secret(out, *out_len + 1). CARDEA_ENOTFOUND when
 * absent, CARDEA_EACCESS when the file is accessible by group or others
 * or is no regular file, CARDEA_ETOOBIG above CARDEA_KEYSTORE_MAX_FILE.
 */
cardea_err cardea_keystore__get(uint8_t **out, size_t *out_len,
                                cardea_keystore *store, const char *name,
                                char *errmsg, size_t errmsg_cap)
    CARDEA_MUST_CHECK;

/* Deletes an entry. CARDEA_ENOTFOUND when absent. */
cardea_err cardea_keystore__remove(cardea_keystore *store, const char *name)
    CARDEA_MUST_CHECK;

/*
 * Stores a private key as {"privateKey": "<base64 of DER PKCS#8>"} under
 * the entry name of `kind` for data owner `owner_id` and fingerprint v1.
 */
cardea_err cardea_keystore__save_key(cardea_keystore *store,
                                     cardea_keystore_kind kind,
                                     const char *owner_id, const char *fp_v1,
                                     const uint8_t *pkcs8, size_t pkcs8_len,
                                     char *errmsg, size_t errmsg_cap)
    CARDEA_MUST_CHECK;

/*
 * Loads the private key of `owner_id` with fingerprint v1 `fp_v1`,
 * looking at the device entry first, then the recovered one. `kind`
 * receives the kind of the entry that contained it. Free `out` with
 * cardea_mem__free_secret(out, *out_len). CARDEA_ENOTFOUND when neither
 * exists, CARDEA_EFORMAT when the entry is not the expected JSON.
 */
cardea_err cardea_keystore__load_key(uint8_t **out, size_t *out_len,
                                     cardea_keystore_kind *kind,
                                     cardea_keystore *store,
                                     const char *owner_id, const char *fp_v1,
                                     char *errmsg, size_t errmsg_cap)
    CARDEA_MUST_CHECK;

/*
 * The verification map of a data owner, org.taktik.icure.rsa.<id>.
 * verification.self, as a JSON object {"<fpV1>": true|false}. Loading a
 * missing map gives an empty object, and members that are not booleans
 * are dropped.
 */
cardea_err cardea_keystore__load_verification(json_t **out,
                                              cardea_keystore *store,
                                              const char *owner_id,
                                              char *errmsg, size_t errmsg_cap)
    CARDEA_MUST_CHECK;
cardea_err cardea_keystore__save_verification(cardea_keystore *store,
                                              const char *owner_id,
                                              const json_t *map, char *errmsg,
                                              size_t errmsg_cap)
    CARDEA_MUST_CHECK;

/*
 * Writes the entry name for a key into `out` (NUL-terminated).
 * CARDEA_EINVAL when `owner_id` contains a character that is not allowed
 * in a name, CARDEA_ETOOBIG when `out_cap` is too small.
 */
cardea_err cardea_keystore__key_name(char *out, size_t out_cap,
                                     cardea_keystore_kind kind,
                                     const char *owner_id, const char *fp_v1)
    CARDEA_MUST_CHECK;

/* ---- encrypted fields (fields.c) ----------------------------------------- */

typedef struct cardea_sdk_fields cardea_sdk_fields;
struct cardea_entity_key;

/*
 * Builds the manifests of a session: for each entity type, the default
 * entries followed by the entries of `config` that the defaults do not
 * name. CARDEA_EINVAL, with a message naming the entity type in
 * `errmsg`, for an unknown version, a NULL list with a count, an entry
 * that is not valid manifest grammar, a Contact entry naming `services`
 * or a Service entry naming `content`. Free with cardea_sdk__fields_free.
 */
cardea_err cardea_sdk__fields_new(cardea_sdk_fields **out,
                                  const cardea_encrypted_fields *config,
                                  char *errmsg, size_t errmsg_cap)
    CARDEA_MUST_CHECK;
void cardea_sdk__fields_free(cardea_sdk_fields *fields);

/*
 * Encrypts an entity of `entity_type` ("Patient", "Contact", ...) as
 * cardea_encrypted_self__encrypt_entity does, with the session's
 * manifests when it has them. A Contact's Services use the Service
 * manifest.
 */
cardea_err cardea_sdk__encrypt_entity(json_t **out,
                                      const cardea_session *session,
                                      const char *entity_type,
                                      const json_t *plain,
                                      const struct cardea_entity_key *key)
    CARDEA_MUST_CHECK;

/* ---- entity layer (exchange.c; owned by the entity and sharing module) --- */

/*
 * Installs the exchange-data cache of the entity layer in session->ext
 * (with its ext_reset and ext_free hooks) and, for an anonymous user,
 * loads every exchange data of the user. cardea_session_open and
 * force_reload call it last, so an anonymous user's exchange data is
 * loaded when the session opens and when it reloads, as in the official
 * SDK. Every entity call runs it first.
 */
cardea_err cardea_sdk__xd_begin(cardea_session *session) CARDEA_MUST_CHECK;

/* ---- recovery, transfer keys, give-access-back (recovery.c, transfer.c,
 * access_back.c) ----------------------------------------------------------- */

/* One private key of the user recovered through its transfer keys. */
typedef struct cardea_sdk_transferred {
    char *spki_hex;                /* the published key it matches */
    cardea_rsa_key *key;           /* private */
} cardea_sdk_transferred;

/*
 * Recovers private keys of the user's own data owner through its transfer
 * keys: decrypts the exchange keys of its self-to-self exchange data with
 * `held` (and with every key found on the way), decrypts the
 * transferKeys blobs of the `missing` SPKIs with them and checks each key
 * against its SPKI. Repeats while keys are found.
 *
 * held    (in)  private keys of the user's data owner the session holds.
 * missing (in)  SPKIs the user publishes without a private key.
 * out     (out) *count keys; free with cardea_sdk__transferred_free. NULL
 *         when *count is 0.
 * Returns CARDEA_OK (also when nothing is found), the HTTP codes of
 * cardea_sdk__request or CARDEA_ENOMEM.
 */
cardea_err cardea_sdk__transfer_recover(cardea_sdk_transferred **out,
                                        size_t *count,
                                        cardea_session *session,
                                        const cardea_owner_key *held,
                                        size_t held_count,
                                        const char *const *missing,
                                        size_t missing_count)
    CARDEA_MUST_CHECK;
void cardea_sdk__transferred_free(cardea_sdk_transferred *keys, size_t count);

/*
 * Creates the transfer keys the user lacks, as the official SDK does at
 * start-up: from every verified key of the user (held, or verified in the
 * key store without being held) to every key the session holds. The
 * self-to-self exchange data is first extended to the source keys.
 * Called by cardea_session_open and force_reload after
 * cardea_sdk__xd_begin. Does nothing when the user has no safe key or no
 * transfer key is missing.
 */
cardea_err cardea_sdk__transfer_update(cardea_session *session)
    CARDEA_MUST_CHECK;

/*
 * The session a cardea_key_recovery result belongs to, for functions
 * called inside recover_and_verify_keys, or NULL when it has none.
 */
cardea_session *cardea_sdk__key_recovery_session(
    const cardea_key_recovery *result);

/*
 * Drops the exchange-data cache and reloads it (an anonymous user's
 * exchange data is read again), after this module changed exchange data
 * on the server.
 */
cardea_err cardea_sdk__xd_reload(cardea_session *session) CARDEA_MUST_CHECK;

/*
 * Recovery data helpers shared by recovery.c and recovery_exchange.c.
 * recovery_check_options: CARDEA_EINVAL with a message for bad options.
 * recovery_store: encrypts `content` with a new recovery key, POSTs it
 * for `recipient` and returns the key as grouped base32 text (wipe and
 * free it). recovery_fetch: parses the key text, fetches the data (with
 * the long poll when `wait_s` > 0), rejects expired data and decrypts
 * content of `type`. Free `out` with cardea_mem__free_secret(out,
 * out_len + 1). recovery_delete: DELETE recoverydata/{id}.
 */
cardea_err cardea_sdk__recovery_check_options(
    cardea_session *session, const cardea_recovery_options *opts)
    CARDEA_MUST_CHECK;
cardea_err cardea_sdk__recovery_store(char **out, cardea_session *session,
                                      const char *recipient,
                                      cardea_recovery_type type,
                                      const char *content,
                                      size_t content_len,
                                      const cardea_recovery_options *opts)
    CARDEA_MUST_CHECK;
cardea_err cardea_sdk__recovery_fetch(char **out, size_t *out_len,
                                      cardea_session *session,
                                      const char *text,
                                      cardea_recovery_type type,
                                      unsigned wait_s) CARDEA_MUST_CHECK;
cardea_err cardea_sdk__recovery_delete(cardea_session *session,
                                       const char *text) CARDEA_MUST_CHECK;

/*
 * Exchange data between the user and `other` in both directions (one
 * when `other` is the user), from GET exchangedata/byDelegatorDelegate.
 * `out` is a JSON array, so json_decref it.
 */
cardea_err cardea_sdk__exchange_data_between(json_t **out,
                                             cardea_session *session,
                                             const char *other)
    CARDEA_MUST_CHECK;

#endif
