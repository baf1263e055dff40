/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A session: one logged-in user of a Cardea or iCure server, with the
 * user's data owner, its parents and the private keys that the session
 * loaded, recovered or generated. Every entity call (cardea/entity.h)
 * goes through a session.
 *
 * Thread safety: a session may be used from one thread at a time, so the
 * application must serialise calls on the same session from several
 * threads. Distinct sessions are independent and may run in parallel
 * as long as they do not share a transport that is not thread-safe.
 */
#ifndef CARDEA_SESSION_H
#define CARDEA_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "cardea/common.h"
#include "cardea/strategies.h"
#include "cardea/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cardea_session cardea_session;

#define CARDEA_ENCRYPTED_FIELDS_VERSION 1

/*
 * Fields to encrypt in each entity type besides those of the default
 * manifests, which the official SDK also encrypts. Each entry follows the
 * manifest grammar of encryptedSelf: `field`, `obj.field`, `arr[].field`,
 * `map.*.field`, `arr[].*` or `*`. The lists extend the defaults, and an
 * entry that a default list already names is ignored. So, unlike the
 * official SDK's EncryptedFieldsConfiguration, which replaces the
 * default sets, these lists can only make more fields encrypted.
 *
 * Encryption happens when an entity is created or modified, and the
 * decryption of any entity needs no configuration. Every application
 * that writes the same entities must use the same lists, because a
 * session without them writes the extra fields in clear when it modifies
 * an entity.
 */
typedef struct cardea_encrypted_fields {
    int version;               /* CARDEA_ENCRYPTED_FIELDS_VERSION */
    const char *const *patient;
    size_t patient_count;
    const char *const *health_element;
    size_t health_element_count;
    /* Fields of a Contact itself. The list must not name `services`. */
    const char *const *contact;
    size_t contact_count;
    /* Fields of each Service of a Contact. The list must not name
     * `content`, which is always encrypted unless all its values are
     * compound. */
    const char *const *service;
    size_t service_count;
    const char *const *document;
    size_t document_count;
    const char *const *maintenance_task;
    size_t maintenance_task_count;
} cardea_encrypted_fields;

#define CARDEA_ENCRYPTED_FIELDS_INIT \
    { CARDEA_ENCRYPTED_FIELDS_VERSION, NULL, 0, NULL, 0, NULL, 0, NULL, 0, \
      NULL, 0, NULL, 0 }

/* Version 2 added `encrypted_fields`; version 1 options are accepted. */
#define CARDEA_SESSION_OPTIONS_VERSION 2

typedef struct cardea_session_options {
    int version;               /* CARDEA_SESSION_OPTIONS_VERSION */
    /* Server root, such as "https://cardea.example.org", to which the
     * session appends "/rest/v2/...". Required. */
    const char *base_url;
    /* Credentials: login and password, or a token pair from an earlier
     * login. The session copies the password, wipes its copy once the
     * login request is sent, and never logs either. The caller should
     * wipe its own copy after cardea_session_open returns. */
    const char *login;
    const char *password;
    const char *token;         /* access JWT, used when login is NULL */
    const char *refresh_token; /* optional with `token` */
    /* Folder of the key store: one file per key, mode 0600. Created with
     * mode 0700 if missing (its parent must exist). A folder that the
     * group or others may access is rejected. Required. */
    const char *key_store_dir;
    /* NULL means simple strategies with default options. Copied: the
     * object behind `user` must outlive the session. */
    const cardea_crypto_strategies *strategies;
    /* NULL means a libcurl transport owned by the session. Copied: the
     * object behind `user` must outlive the session. */
    const cardea_transport *transport;
    /* Optional log callback for this session, called only for levels up
     * to `log_level`. Messages never contain keys, tokens, passwords or
     * decrypted data. */
    cardea_log_fn log_fn;
    cardea_log_level log_level;
    void *log_user;
    /* Optional buffer that receives the error message when
     * cardea_session_open fails, because no session exists then for
     * cardea_session_errmsg. */
    char *errmsg_buf;
    size_t errmsg_cap;
    /* Version 2: fields to encrypt besides the defaults, or NULL for the
     * defaults only. Read and checked during cardea_session_open only. */
    const cardea_encrypted_fields *encrypted_fields;
} cardea_session_options;

#define CARDEA_SESSION_OPTIONS_INIT \
    { CARDEA_SESSION_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, \
      NULL, NULL, NULL, CARDEA_LOG_WARN, NULL, NULL, 0, NULL }

/*
 * Opens a session: logs in (or takes the given token), reads the user's
 * data owner and its parents, opens the key store and loads the stored
 * keys that the data owners publish. It then calls the strategies to
 * recover and verify the rest and, when the user's own data owner has no
 * key safe for encryption, to decide whether to generate one. A generated
 * key is passed to notify_key_pair_generation, then stored, then
 * published with PUT /rest/v2/dataowner/stub.
 *
 * out  (out) the session; close it with cardea_session_close. Untouched
 *      on failure.
 * opts (in)  options; see cardea_session_options. Read during the call
 *      only (the strategies and transport objects excepted).
 * Returns:
 *   CARDEA_OK
 *   CARDEA_EINVAL       missing or invalid option, such as an encrypted
 *                       field entry that is not valid manifest grammar
 *   CARDEA_EACCESS      key store folder or file with unsafe permissions,
 *                       or the server responded with 403
 *   CARDEA_EIO          the key store cannot be read or written
 *   CARDEA_EAUTH        login or token refused (HTTP 401)
 *   CARDEA_ENETWORK     the server could not be reached
 *   CARDEA_EHTTP, CARDEA_ENOTFOUND, CARDEA_ECONFLICT
 *                       the server responded with another error status
 *   CARDEA_EFORMAT      unexpected response from the server or key store
 *   CARDEA_EDENIED      the strategies denied key generation
 *   CARDEA_ENOKEY       a parent data owner has no verified key
 *   CARDEA_EUNSUPPORTED an anonymous data owner with parents or with
 *                       CARDEA_KEYGEN_USE_PARENT_KEYS
 *   CARDEA_ENOMEM, CARDEA_ECRYPTO, or an error a strategy returned.
 * On failure a message is written to opts->errmsg_buf when set.
 */
CARDEA_API cardea_err cardea_session_open(cardea_session **out,
                                          const cardea_session_options *opts)
    CARDEA_MUST_CHECK;

/*
 * Closes the session: wipes its tokens and private keys and frees it,
 * with the transport and strategies it created. NULL does
 * nothing. The server-side tokens stay valid until they expire.
 */
CARDEA_API void cardea_session_close(cardea_session *session);

/*
 * Returns the message of the last failed call on this session, such as
 * "POST /rest/v2/auth/refresh failed: HTTP 401: invalid refresh token",
 * or "" when none failed. The string belongs to the session and changes
 * with the next call.
 */
CARDEA_API const char *cardea_session_errmsg(const cardea_session *session);

/*
 * Reloads the data owner, its parents and the keys, as at open, and drops
 * every cached exchange data and access-control key, so that data shared
 * with the user since the session opened becomes readable.
 * Returns the codes of cardea_session_open, plus CARDEA_EINVAL for NULL.
 */
CARDEA_API cardea_err cardea_session_force_reload(cardea_session *session)
    CARDEA_MUST_CHECK;

/* Returns the data owner id of the user, owned by the session. Never
 * NULL. */
CARDEA_API const char *
cardea_session_data_owner_id(const cardea_session *session);

CARDEA_API cardea_data_owner_type
cardea_session_data_owner_type(const cardea_session *session);

/*
 * Returns the user id, owned by the session, or NULL when the server
 * names no user (a token without the "u" claim, and no userId from
 * GET /rest/v2/user/matches).
 */
CARDEA_API const char *cardea_session_user_id(const cardea_session *session);

/* One private key available to the session. */
typedef struct cardea_key_fingerprint {
    char fp_v1[33];            /* last 32 hex characters of the SPKI */
    char data_owner_id[128];   /* owner: the user or a parent (cut at 127) */
    bool verified;             /* verified or generated on this device,
                                  so it may encrypt new data */
    bool device;               /* generated on this device */
    bool oaep_sha256;          /* published for OAEP-SHA-256 (else SHA-1) */
} cardea_key_fingerprint;

/*
 * Lists the private keys of the user and of its parents that are
 * available to the session. Unverified keys are listed too, although they
 * only decrypt and encrypt nothing.
 *
 * out   (out) array of *count entries; cardea_free it. NULL when *count
 *       is 0.
 * count (out) number of entries.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument) or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_session_key_fingerprints(cardea_key_fingerprint **out, size_t *count,
                                const cardea_session *session)
    CARDEA_MUST_CHECK;

/*
 * Copies the user's data owner as the server returned it from
 * GET /rest/v2/dataowner/current (the HCP, patient or device JSON).
 *
 * out (out) NUL-terminated JSON text; cardea_free it.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument) or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err cardea_session_data_owner_json(
    char **out, const cardea_session *session) CARDEA_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif
