/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crypto strategies: the decisions an application makes about its own
 * keys and about trust. A session calls them to decide whether a data
 * owner is anonymous, whether the user may generate a key pair and whether
 * a delegate's public keys are genuine, and to recover and verify the
 * user's own keys.
 * The simple strategies at the end of this file are a ready-made set that
 * trusts the server and recovers only keys the application preloads.
 *
 * Keys cross this interface as lowercase hex: private keys as DER PKCS#8
 * PrivateKeyInfo, public keys as DER SubjectPublicKeyInfo (SPKI).
 */
#ifndef CARDEA_STRATEGIES_H
#define CARDEA_STRATEGIES_H

#include <stdbool.h>
#include <stddef.h>

#include "cardea/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kind of data owner, as the "type" member of the server's responses. */
typedef enum cardea_data_owner_type {
    CARDEA_DATA_OWNER_HCP = 1,       /* "hcp": healthcare party */
    CARDEA_DATA_OWNER_PATIENT = 2,   /* "patient" */
    CARDEA_DATA_OWNER_DEVICE = 3,    /* "device" */
} cardea_data_owner_type;

/* One data owner of the user's hierarchy, as passed to the strategies. */
typedef struct cardea_data_owner_info {
    const char *id;
    cardea_data_owner_type type;
    const char *stub_json;     /* the crypto-actor stub as JSON text */
} cardea_data_owner_info;

/* Verification result for one of the user's own keys. */
typedef enum cardea_key_status {
    CARDEA_KEY_VERIFIED = 1,   /* genuine: may encrypt; saved */
    CARDEA_KEY_UNVERIFIED = 2, /* not genuine: decrypt only; saved */
    /* Unknown for now: decrypt only, not saved, checked again next open. */
    CARDEA_KEY_TEMPORARILY_UNVERIFIED = 3,
} cardea_key_status;

/* Results collected from recover_and_verify_keys; opaque. */
typedef struct cardea_key_recovery cardea_key_recovery;

/*
 * Hands a recovered key pair to the session. A recovered pair counts as
 * verified unless cardea_key_recovery_set_status marks it otherwise.
 * When the callback returns, the session checks that the private key
 * matches `spki_hex` and that a data owner of the hierarchy publishes
 * `spki_hex`. Pairs that fail the check are logged and ignored.
 *
 * result    (in/out) the object passed to the callback.
 * pkcs8_hex (in)     private key, hex of DER PKCS#8; copied and wiped
 *                    by the library.
 * spki_hex  (in)     matching public key, hex of DER SPKI; copied.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL, empty or non-hex string) or
 * CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_key_recovery_add_pair(cardea_key_recovery *result,
                             const char *pkcs8_hex, const char *spki_hex)
    CARDEA_MUST_CHECK;

/*
 * Records the verification status of one key of the hierarchy, recovered
 * or already available. A later call for the same key replaces the
 * earlier status. Keys left without a status stay unverified for this
 * session only.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL or non-hex key, unknown status)
 * or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_key_recovery_set_status(cardea_key_recovery *result,
                               const char *spki_hex, cardea_key_status status)
    CARDEA_MUST_CHECK;

/* What a session does when the user has no key safe for encryption. */
typedef enum cardea_keygen_decision {
    /* Generate an RSA-2048 OAEP-SHA-256 pair and publish it. */
    CARDEA_KEYGEN_ALLOW = 1,
    /* Fail cardea_session_open with CARDEA_EDENIED. */
    CARDEA_KEYGEN_DENY = 2,
    /* Go on without a key: the session can encrypt nothing new. */
    CARDEA_KEYGEN_KEYLESS = 3,
    /* Act with the parent's keys. Not supported: open fails with
     * CARDEA_EUNSUPPORTED. */
    CARDEA_KEYGEN_USE_PARENT_KEYS = 4,
    /* Use the pair given through cardea_key_generation_set_pair. */
    CARDEA_KEYGEN_USE_KEY_PAIR = 5,
} cardea_keygen_decision;

/* Key pair chosen by generate_new_key_for_data_owner; opaque. */
typedef struct cardea_key_generation cardea_key_generation;

/*
 * Gives the pair to use with CARDEA_KEYGEN_USE_KEY_PAIR. The session
 * checks that the private key matches `spki_hex`, stores it as a key of
 * this device and publishes `spki_hex` as an OAEP-SHA-256 key if the data
 * owner does not publish it yet. The library copies the strings and
 * wipes its copy of the private key.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL, empty or non-hex string) or
 * CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_key_generation_set_pair(cardea_key_generation *result,
                               const char *pkcs8_hex, const char *spki_hex)
    CARDEA_MUST_CHECK;

#define CARDEA_CRYPTO_STRATEGIES_VERSION 1

/*
 * The strategies. Every callback receives `user` first and runs on the
 * thread that called into the session. A callback must not call back
 * into the same session. Strings passed in are valid only during the
 * call. All five callbacks are required.
 */
typedef struct cardea_crypto_strategies {
    int version;               /* CARDEA_CRYPTO_STRATEGIES_VERSION */
    void *user;

    /*
     * Returns true when the data owner must stay anonymous: its id never
     * appears in clear in sharing metadata, and it proves its access with
     * access-control keys. Every application that shares a database must
     * return the same result for the same data owner. The session caches
     * results, so it usually calls this once per data owner. It calls
     * again after the cache of 1000 entries fills up and is cleared.
     */
    bool (*data_owner_requires_anonymous_delegation)(
        void *user, const char *data_owner_id, cardea_data_owner_type type);

    /*
     * Recovers and verifies the user's own keys. Called while a session
     * opens or reloads, only when some published key of the hierarchy is
     * missing from the key store or has no saved verification result.
     *
     * hierarchy         (in) the user's data owners, topmost parent first
     *                   and the user's own data owner last.
     * missing_spkis     (in) published keys with no private key stored.
     * unverified_spkis  (in) keys found in the key store, not generated
     *                   on this device, with no saved verification result.
     * result            (out) filled with cardea_key_recovery_add_pair and
     *                   cardea_key_recovery_set_status.
     * Returns CARDEA_OK, or any error code, which fails the open.
     */
    cardea_err (*recover_and_verify_keys)(
        void *user, const cardea_data_owner_info *hierarchy,
        size_t hierarchy_len, const char *const *missing_spkis,
        size_t missing_count, const char *const *unverified_spkis,
        size_t unverified_count, cardea_key_recovery *result);

    /*
     * Decides what to do when the user's own data owner has no key that
     * is verified or was generated on this device. `pair` is filled only
     * for CARDEA_KEYGEN_USE_KEY_PAIR.
     */
    cardea_keygen_decision (*generate_new_key_for_data_owner)(
        void *user, const cardea_data_owner_info *self,
        cardea_key_generation *pair);

    /*
     * Receives a key pair the session just generated, before the pair is
     * stored, published or used. The application should keep a copy,
     * because it is the only way to read data encrypted for this key if
     * the key store is lost. Returning an error fails the open and the pair is
     * discarded.
     */
    cardea_err (*notify_key_pair_generation)(void *user,
                                             const char *pkcs8_hex,
                                             const char *spki_hex);

    /*
     * Decides which public keys of a delegate are genuine, before the
     * first exchange data to that delegate is created. Sets
     * `accepted[i]` (initially false) for each trusted `spkis[i]`.
     * Returns CARDEA_OK, or an error code that fails the share.
     */
    cardea_err (*verify_delegate_public_keys)(
        void *user, const char *delegate_id, cardea_data_owner_type type,
        const char *const *spkis, size_t spki_count, bool *accepted);
} cardea_crypto_strategies;

/* ---- simple strategies ------------------------------------------------ */

/* Bits of cardea_simple_strategies_options.anonymous_types. */
#define CARDEA_ANONYMOUS_HCP (1u << 0)
#define CARDEA_ANONYMOUS_PATIENT (1u << 1)
#define CARDEA_ANONYMOUS_DEVICE (1u << 2)

/* A key pair as hex strings: DER PKCS#8 and DER SPKI. */
typedef struct cardea_key_pair_hex {
    const char *pkcs8_hex;
    const char *spki_hex;
} cardea_key_pair_hex;

#define CARDEA_SIMPLE_STRATEGIES_OPTIONS_VERSION 1

typedef struct cardea_simple_strategies_options {
    int version;               /* CARDEA_SIMPLE_STRATEGIES_OPTIONS_VERSION */
    /* Key pairs the application already has, which count as recovered
     * and verified. Copied by cardea_simple_strategies_new. */
    const cardea_key_pair_hex *available_keys;
    size_t available_key_count;
    /*
     * Data-owner types treated as anonymous (CARDEA_ANONYMOUS_* bits).
     * The default is patients only, as in iCure's MedTech and EHR-Lite
     * SDKs. The official Cardinal SDK treats devices as anonymous too
     * (CARDEA_ANONYMOUS_PATIENT | CARDEA_ANONYMOUS_DEVICE). Every
     * application sharing a database must choose the same set.
     */
    unsigned anonymous_types;
} cardea_simple_strategies_options;

#define CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT \
    { CARDEA_SIMPLE_STRATEGIES_OPTIONS_VERSION, NULL, 0, \
      CARDEA_ANONYMOUS_PATIENT }

/*
 * Creates the simple strategies:
 * - anonymous exactly for the types in `anonymous_types`;
 * - recovery hands back the preloaded pairs that match a missing or
 *   unverified key, and marks every other unverified key
 *   CARDEA_KEY_TEMPORARILY_UNVERIFIED;
 * - key generation is always allowed, and the generated pair is kept
 *   (see cardea_simple_strategies_generated_key_pair);
 * - every public key of a delegate is trusted.
 *
 * out  (out) the strategies; pass them in cardea_session_options and
 *      release them with cardea_simple_strategies_free after the sessions
 *      using them are closed.
 * opts (in)  options; NULL means CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT.
 * Returns CARDEA_OK, CARDEA_EINVAL (unknown version, unknown type bit,
 * NULL or non-hex key) or CARDEA_ENOMEM.
 * Thread safety: the strategies may serve several sessions, but the
 * generated pair is one slot, so concurrent key generations overwrite
 * each other.
 */
CARDEA_API cardea_err
cardea_simple_strategies_new(cardea_crypto_strategies **out,
                             const cardea_simple_strategies_options *opts)
    CARDEA_MUST_CHECK;

/*
 * Copies the last pair the session generated through these strategies.
 *
 * pkcs8_hex (out) private key hex; wipe it, then cardea_free it.
 * spki_hex  (out) public key hex; cardea_free it.
 * strategies (in) strategies from cardea_simple_strategies_new.
 * Returns CARDEA_OK, CARDEA_ENOTFOUND (no pair generated yet),
 * CARDEA_EINVAL (NULL, or strategies made elsewhere) or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_simple_strategies_generated_key_pair(
    char **pkcs8_hex, char **spki_hex,
    const cardea_crypto_strategies *strategies) CARDEA_MUST_CHECK;

/* Frees strategies from cardea_simple_strategies_new. NULL does nothing. */
CARDEA_API void cardea_simple_strategies_free(
    cardea_crypto_strategies *strategies);

#ifdef __cplusplus
}
#endif

#endif
