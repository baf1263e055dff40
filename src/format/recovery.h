/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recovery data as @icure/cardinal-sdk writes it. It covers the recovery
 * key a user writes down (16 or 32 random bytes, shown as hex or unpadded
 * RFC 4648 base32) and the RecoveryData entity whose encryptedSelf is the
 * content AES-CBC encrypted with that key. It also covers the two content
 * kinds: KEYPAIR_RECOVERY (data-owner key pairs) and
 * EXCHANGE_KEY_RECOVERY (raw exchange-data secrets).
 * Pure functions: no I/O, no clock, no globals.
 *
 * The entity id is the lowercase hex SHA-256 of the raw key bytes, as in
 * RecoveryDataEncryptionImpl.recoveryKeyToId of icure/cardinal-sdk (every
 * version from 2024-09 to 2026-04), not of the key's hex text.
 *
 * Functions returning cardea_err leave their outputs untouched on failure.
 */
#ifndef CARDEA_FORMAT_RECOVERY_H
#define CARDEA_FORMAT_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"
#include "crypto/crypto.h"
#include "format/exchange_data.h"

#define CARDEA_RECOVERY_KEY_MAX_LEN 32
#define CARDEA_RECOVERY_ID_LEN 64
/* Maximum length of the recovery-key text that the parser accepts,
 * separators included. */
#define CARDEA_RECOVERY_KEY_TEXT_MAX 256

/* A recovery key: 16 or 32 raw bytes. Wipe with cardea_wipe after use. */
typedef struct cardea_recovery_key {
    uint8_t bytes[CARDEA_RECOVERY_KEY_MAX_LEN];
    size_t len;
} cardea_recovery_key;

typedef enum cardea_recovery_type {
    CARDEA_RECOVERY_KEYPAIR = 1,      /* "KEYPAIR_RECOVERY" */
    CARDEA_RECOVERY_EXCHANGE_KEY = 2, /* "EXCHANGE_KEY_RECOVERY" */
} cardea_recovery_type;

typedef enum cardea_recovery_key_text {
    CARDEA_RECOVERY_TEXT_HEX = 1,       /* lowercase hex */
    CARDEA_RECOVERY_TEXT_BASE32 = 2,    /* upper-case base32, no padding */
    CARDEA_RECOVERY_TEXT_GROUPED = 3,   /* base32 in groups of 4 and '-' */
} cardea_recovery_key_text;

/* Fills `out` with `len` (16 or 32) random bytes. CARDEA_EINVAL otherwise. */
cardea_err cardea_recovery__key_generate(cardea_recovery_key *out, size_t len)
    CARDEA_MUST_CHECK;

/*
 * Writes the RecoveryData id of `key`: lowercase hex SHA-256 of the raw
 * bytes and a NUL. CARDEA_EINVAL when the key length is not 16 or 32.
 */
cardea_err cardea_recovery__key_id(char out[CARDEA_RECOVERY_ID_LEN + 1],
                                   const cardea_recovery_key *key)
    CARDEA_MUST_CHECK;

/*
 * Writes `key` as text for the user. `out` is NUL-terminated, so free it
 * with cardea_mem__free_secret(*out, strlen(*out) + 1).
 * Returns CARDEA_OK, CARDEA_EINVAL or CARDEA_ENOMEM.
 */
cardea_err cardea_recovery__key_to_text(char **out,
                                        const cardea_recovery_key *key,
                                        cardea_recovery_key_text form)
    CARDEA_MUST_CHECK;

/*
 * Parses a recovery key typed by a user: hex (32 or 64 digits) or base32
 * (16 or 32 bytes, with or without '=' padding), either case, with any
 * number of spaces, tabs and '-' anywhere, so every form written by
 * cardea_recovery__key_to_text and the official SDK reads back.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL, text over
 * CARDEA_RECOVERY_KEY_TEXT_MAX) or CARDEA_EFORMAT.
 */
cardea_err cardea_recovery__key_parse(cardea_recovery_key *out,
                                      const char *text, size_t text_len)
    CARDEA_MUST_CHECK;

/*
 * Builds a RecoveryData entity {id, recipient, type, encryptedSelf,
 * expirationInstant}. encryptedSelf = base64(AES-CBC(key, content)).
 * expiration_ms: epoch milliseconds, or NULL for no expiry (the field is
 * then left out). The caller computes it as now + lifetime.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_ENOMEM or CARDEA_ECRYPTO.
 */
cardea_err cardea_recovery__data_build(json_t **out,
                                       const cardea_recovery_key *key,
                                       const char *recipient,
                                       cardea_recovery_type type,
                                       const char *content,
                                       size_t content_len,
                                       const int64_t *expiration_ms)
    CARDEA_MUST_CHECK;

/*
 * Decrypts the content of a RecoveryData entity.
 * out: (out) NUL-terminated plaintext. Free it with
 *      cardea_mem__free_secret(*out, *out_len + 1).
 * Returns CARDEA_OK, CARDEA_EINVAL when its type is not `expected`,
 * CARDEA_EVERIFY when its id is not the id of `key` or decryption fails,
 * CARDEA_EFORMAT for a missing or malformed field, or CARDEA_ENOMEM.
 * Expiry is not checked here, because the server purges expired data.
 */
cardea_err cardea_recovery__data_decrypt(char **out, size_t *out_len,
                                         const json_t *data,
                                         const cardea_recovery_key *key,
                                         cardea_recovery_type expected)
    CARDEA_MUST_CHECK;

/* One key pair to store in KEYPAIR_RECOVERY content (borrowed fields). */
typedef struct cardea_recovery_keypair {
    const char *owner_id;
    cardea_rsa_key *key; /* private */
    cardea_rsa_oaep oaep;
} cardea_recovery_keypair;

/* One key pair read from KEYPAIR_RECOVERY content (owned fields). */
typedef struct cardea_recovered_keypair {
    char *owner_id;
    char *spki_hex;
    cardea_rsa_key *key; /* private */
    cardea_rsa_oaep oaep;
} cardea_recovered_keypair;

/*
 * Builds KEYPAIR_RECOVERY content: {"<ownerId>": [{"pair": {"publicKey":
 * base64 SPKI, "privateKey": base64 PKCS#8}, "algorithm": "sha-1" or
 * "sha-256"}, ...], ...}, pairs of one owner grouped in input order.
 * out: (out) NUL-terminated JSON that contains private keys. Free it with
 *      cardea_mem__free_secret(*out, *out_len + 1).
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_ENOKEY (a pair's key is public
 * only),
 * CARDEA_ENOMEM or CARDEA_ECRYPTO.
 */
cardea_err cardea_recovery__keypairs_build(char **out, size_t *out_len,
                                           const cardea_recovery_keypair *pairs,
                                           size_t count) CARDEA_MUST_CHECK;

/*
 * Parses KEYPAIR_RECOVERY content and imports every pair, checking that
 * each private key's public half is the published public key.
 * out: (out) array of *count pairs. Free it with
 *      cardea_recovery__keypairs_free.
 * Returns CARDEA_OK, CARDEA_EFORMAT (invalid JSON, shape, base64 or key),
 * CARDEA_EVERIFY (a private key does not match its public key) or
 * CARDEA_ENOMEM.
 */
cardea_err cardea_recovery__keypairs_parse(cardea_recovered_keypair **out,
                                           size_t *count, const char *json,
                                           size_t json_len) CARDEA_MUST_CHECK;
void cardea_recovery__keypairs_free(cardea_recovered_keypair *pairs,
                                    size_t count);

/* One exchange data to store in EXCHANGE_KEY_RECOVERY content. */
typedef struct cardea_recovery_exchange {
    const char *exchange_data_id;
    const cardea_exchange_content *content;
} cardea_recovery_exchange;

/* One exchange data read from EXCHANGE_KEY_RECOVERY content (owned). */
typedef struct cardea_recovered_exchange {
    char *exchange_data_id;
    cardea_exchange_content *content;
} cardea_recovered_exchange;

/*
 * Builds EXCHANGE_KEY_RECOVERY content: [{"exchangeDataId",
 * "rawAccessControlSecret", "rawSharedSignatureKey", "rawExchangeKey"}],
 * the secrets as base64 of the raw bytes.
 * out: (out) NUL-terminated JSON. Free it with
 *      cardea_mem__free_secret(*out, *out_len + 1).
 * Returns CARDEA_OK, CARDEA_EINVAL or CARDEA_ENOMEM.
 */
cardea_err cardea_recovery__exchange_build(
    char **out, size_t *out_len, const cardea_recovery_exchange *entries,
    size_t count) CARDEA_MUST_CHECK;

/*
 * Parses EXCHANGE_KEY_RECOVERY content.
 * out: (out) array of *count entries. Free it with
 *      cardea_recovery__exchange_free.
 * Returns CARDEA_OK, CARDEA_EFORMAT (invalid JSON, shape, base64 or secret
 * length) or CARDEA_ENOMEM.
 */
cardea_err cardea_recovery__exchange_parse(cardea_recovered_exchange **out,
                                           size_t *count, const char *json,
                                           size_t json_len) CARDEA_MUST_CHECK;
void cardea_recovery__exchange_free(cardea_recovered_exchange *entries,
                                    size_t count);

#endif
