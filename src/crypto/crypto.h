/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crypto primitives over OpenSSL 3 EVP: RSA-OAEP (SHA-1 and SHA-256, MGF1
 * with the same digest, empty label), RSA-PSS-SHA-256 verification,
 * AES-CBC with PKCS#7 and a random 16-byte IV prepended, HMAC-SHA-512 and
 * HMAC-SHA-256, SHA-256 and SHA-512. Internal to libcardea.
 *
 * Functions returning cardea_err leave outputs untouched on failure.
 * Decryption failures of any kind (wrong key, bad padding, truncation)
 * all return CARDEA_EVERIFY, so callers cannot tell them apart.
 */
#ifndef CARDEA_CRYPTO_H
#define CARDEA_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardea/common.h"

#define CARDEA_SHA256_LEN 32
#define CARDEA_SHA512_LEN 64
#define CARDEA_AES_BLOCK_LEN 16
#define CARDEA_AES_IV_LEN 16
#define CARDEA_AES256_KEY_LEN 32
#define CARDEA_AES128_KEY_LEN 16
#define CARDEA_HMAC512_KEY_LEN 128      /* size of newly generated keys */
#define CARDEA_HMAC512_MIN_KEY_LEN 64   /* smallest key accepted on import */
/* Largest plaintext the AES helpers accept: 1 GiB. */
#define CARDEA_AES_MAX_INPUT ((size_t)1 << 30)

/* ---- hashes and MACs --------------------------------------------------- */

void cardea_hash__sha256(uint8_t out[CARDEA_SHA256_LEN], const void *msg,
                         size_t msg_len);
void cardea_hash__sha512(uint8_t out[CARDEA_SHA512_LEN], const void *msg,
                         size_t msg_len);
/* Lowercase hex of SHA-256: 64 characters and a NUL. */
void cardea_hash__sha256_hex(char out[2 * CARDEA_SHA256_LEN + 1],
                             const void *msg, size_t msg_len);

cardea_err cardea_hmac__sha512(uint8_t out[CARDEA_SHA512_LEN],
                               const uint8_t *key, size_t key_len,
                               const void *msg, size_t msg_len)
    CARDEA_MUST_CHECK;
cardea_err cardea_hmac__sha256(uint8_t out[CARDEA_SHA256_LEN],
                               const uint8_t *key, size_t key_len,
                               const void *msg, size_t msg_len)
    CARDEA_MUST_CHECK;
/*
 * Recomputes the HMAC-SHA-512 of `msg` and compares its first `tag_len`
 * bytes with `tag` in constant time. CARDEA_EVERIFY when they differ or
 * `tag_len` is 0 or above 64.
 */
cardea_err cardea_hmac__sha512_verify(const uint8_t *key, size_t key_len,
                                      const void *msg, size_t msg_len,
                                      const uint8_t *tag, size_t tag_len)
    CARDEA_MUST_CHECK;

/* ---- AES-CBC ------------------------------------------------------------ */

/* Length of IV || ciphertext for `plain_len` bytes: 16 + (n/16 + 1) * 16. */
size_t cardea_aes__cbc_blob_len(size_t plain_len);

/*
 * Encrypts with a random IV and writes IV || ciphertext. `key_len` is 16,
 * 24 or 32 (new data always uses 32). CARDEA_ETOOBIG when `out_cap` is
 * smaller than cardea_aes__cbc_blob_len(plain_len) or the input is over
 * CARDEA_AES_MAX_INPUT.
 */
cardea_err cardea_aes__cbc_encrypt(uint8_t *out, size_t out_cap,
                                   size_t *out_len, const uint8_t *key,
                                   size_t key_len, const uint8_t *plain,
                                   size_t plain_len) CARDEA_MUST_CHECK;
/* Same with a caller-chosen IV, for test vectors only. */
cardea_err cardea_aes__cbc_encrypt_iv(uint8_t *out, size_t out_cap,
                                      size_t *out_len, const uint8_t *key,
                                      size_t key_len,
                                      const uint8_t iv[CARDEA_AES_IV_LEN],
                                      const uint8_t *plain, size_t plain_len)
    CARDEA_MUST_CHECK;
cardea_err cardea_aes__cbc_encrypt_alloc(uint8_t **out, size_t *out_len,
                                         const uint8_t *key, size_t key_len,
                                         const uint8_t *plain,
                                         size_t plain_len) CARDEA_MUST_CHECK;
/*
 * Decrypts IV || ciphertext and removes the PKCS#7 padding. `out_cap` may
 * be blob_len - 16. CARDEA_EVERIFY on a truncated blob, a length that is
 * not a whole number of blocks, or bad padding.
 */
cardea_err cardea_aes__cbc_decrypt(uint8_t *out, size_t out_cap,
                                   size_t *out_len, const uint8_t *key,
                                   size_t key_len, const uint8_t *blob,
                                   size_t blob_len) CARDEA_MUST_CHECK;
/*
 * Allocating variant. The plaintext is NUL-terminated one byte past
 * `*out_len` for the convenience of text callers; free it with
 * cardea_mem__free_secret(out, out_len + 1) when it is secret.
 */
cardea_err cardea_aes__cbc_decrypt_alloc(uint8_t **out, size_t *out_len,
                                         const uint8_t *key, size_t key_len,
                                         const uint8_t *blob, size_t blob_len)
    CARDEA_MUST_CHECK;

/* ---- RSA ---------------------------------------------------------------- */

/* Reference-counted RSA key, public or private; wraps an EVP_PKEY. */
typedef struct cardea_rsa_key cardea_rsa_key;

typedef enum cardea_rsa_oaep {
    CARDEA_RSA_OAEP_SHA1 = 1,    /* legacy keys: publicKey, aesExchangeKeys */
    CARDEA_RSA_OAEP_SHA256 = 2,  /* publicKeysForOaepWithSha256 */
} cardea_rsa_oaep;

#define CARDEA_RSA_DEFAULT_BITS 2048
/* Largest DER key the parsers accept. */
#define CARDEA_RSA_MAX_DER_LEN 8192

/* Generates a key pair of 2048 or 4096 bits (CARDEA_EINVAL otherwise). */
cardea_err cardea_rsa__generate(cardea_rsa_key **out, unsigned bits)
    CARDEA_MUST_CHECK;

/*
 * Parse DER SubjectPublicKeyInfo or PKCS#8 PrivateKeyInfo (RSA only).
 * Parsed keys are kept in a bounded process-wide cache keyed by SHA-256 of
 * the DER bytes, because parsing costs more than one encryption; a cache
 * hit returns a new reference to the same key. Thread-safe.
 */
cardea_err cardea_rsa__from_spki(cardea_rsa_key **out, const uint8_t *der,
                                 size_t der_len) CARDEA_MUST_CHECK;
cardea_err cardea_rsa__from_spki_hex(cardea_rsa_key **out, const char *hex,
                                     size_t hex_len) CARDEA_MUST_CHECK;
cardea_err cardea_rsa__from_pkcs8(cardea_rsa_key **out, const uint8_t *der,
                                  size_t der_len) CARDEA_MUST_CHECK;

/* SPKI DER of the public half. */
cardea_err cardea_rsa__spki_der(uint8_t **out, size_t *out_len,
                                const cardea_rsa_key *key) CARDEA_MUST_CHECK;
/* SPKI DER as lowercase hex, NUL-terminated. */
cardea_err cardea_rsa__spki_hex(char **out, const cardea_rsa_key *key)
    CARDEA_MUST_CHECK;
/*
 * PKCS#8 PrivateKeyInfo DER (version 0, rsaEncryption with NULL
 * parameters, no attributes): byte-identical to WebCrypto's export.
 * CARDEA_ENOKEY for a public key. Free with cardea_mem__free_secret.
 */
cardea_err cardea_rsa__pkcs8_der(uint8_t **out, size_t *out_len,
                                 const cardea_rsa_key *key) CARDEA_MUST_CHECK;

bool cardea_rsa__is_private(const cardea_rsa_key *key);
unsigned cardea_rsa__bits(const cardea_rsa_key *key);
/* True when both keys have the same modulus and public exponent. */
bool cardea_rsa__same_public(const cardea_rsa_key *a, const cardea_rsa_key *b);

cardea_rsa_key *cardea_rsa__ref(cardea_rsa_key *key);
void cardea_rsa__free(cardea_rsa_key *key); /* drops one reference */

/* OAEP with an empty label. Output is modulus-sized. */
cardea_err cardea_rsa__encrypt(uint8_t **out, size_t *out_len,
                               const cardea_rsa_key *key, cardea_rsa_oaep hash,
                               const uint8_t *msg, size_t msg_len)
    CARDEA_MUST_CHECK;
/* CARDEA_EVERIFY on any failure; CARDEA_ENOKEY for a public key. */
cardea_err cardea_rsa__decrypt(uint8_t **out, size_t *out_len,
                               const cardea_rsa_key *key, cardea_rsa_oaep hash,
                               const uint8_t *ct, size_t ct_len)
    CARDEA_MUST_CHECK;
/* OAEP decryption with an explicit label, for test vectors. */
cardea_err cardea_rsa__decrypt_label(uint8_t **out, size_t *out_len,
                                     const cardea_rsa_key *key,
                                     cardea_rsa_oaep hash,
                                     const uint8_t *label, size_t label_len,
                                     const uint8_t *ct, size_t ct_len)
    CARDEA_MUST_CHECK;

/* RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt. */
cardea_err cardea_rsa__pss_sign(uint8_t **out, size_t *out_len,
                                const cardea_rsa_key *key, const uint8_t *msg,
                                size_t msg_len) CARDEA_MUST_CHECK;
cardea_err cardea_rsa__pss_verify(const cardea_rsa_key *key,
                                  const uint8_t *msg, size_t msg_len,
                                  const uint8_t *sig, size_t sig_len)
    CARDEA_MUST_CHECK;

/*
 * Number of RSA private-key operations (decryptions and signatures) done
 * by this process so far. Tests use it to check caching.
 */
uint64_t cardea_rsa__private_op_count(void);
/* Empties the parsed-key cache (tests, and shutdown). */
void cardea_rsa__cache_clear(void);

#endif
