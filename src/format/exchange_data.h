/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ExchangeData: the entity that carries the three secrets shared by a
 * delegator and a delegate (exchange key, access-control secret and
 * shared-signature key), each RSA-OAEP encrypted for every recipient key
 * and stored in maps keyed by fingerprint v2. This module builds,
 * decrypts, verifies and extends ExchangeData JSON objects the way
 * @icure/cardinal-sdk does, and encrypts exchange-data ids for
 * ExchangeDataMap and share requests. Pure functions: no I/O and no
 * global state; randomness comes from the OS through the base layer.
 *
 * Functions returning cardea_err leave their outputs untouched on failure.
 * JSON values are jansson objects; returned ones belong to the caller
 * (json_decref).
 */
#ifndef CARDEA_FORMAT_EXCHANGE_DATA_H
#define CARDEA_FORMAT_EXCHANGE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/base.h"
#include "cardea/common.h"
#include "crypto/crypto.h"
#include "format/keys.h"

#define CARDEA_EXCHANGE_KEY_LEN 32
#define CARDEA_SHARED_SIG_KEY_LEN 128
/* Smallest shared-signature key accepted when decrypting (HMAC-SHA-512). */
#define CARDEA_SHARED_SIG_KEY_MIN_LEN 64

/*
 * A data-owner RSA key as the format layer needs it: the key (public for
 * recipients, private for decryption and signing), the OAEP hash its
 * owner published it for, and its SPKI as lowercase hex, from which the
 * fingerprints are taken. The structure borrows all three.
 */
typedef struct cardea_owner_key {
    cardea_rsa_key *key;
    cardea_rsa_oaep oaep;
    const char *spki_hex;
} cardea_owner_key;

/*
 * Decrypted content of one ExchangeData. New content always has a 32-byte
 * exchange key and a 128-byte shared-signature key. Decrypted content may
 * have a 16-byte exchange key or a shared-signature key of 64 to 128
 * bytes, so the lengths are stored.
 */
typedef struct cardea_exchange_content {
    uint8_t exchange_key[CARDEA_EXCHANGE_KEY_LEN];
    size_t exchange_key_len;
    uint8_t access_control_secret[CARDEA_AC_SECRET_LEN];
    uint8_t shared_signature_key[CARDEA_SHARED_SIG_KEY_LEN];
    size_t shared_signature_key_len;
} cardea_exchange_content;

/* The two spellings of the shared-signature input (see the .c file). */
typedef enum cardea_shared_sig_form {
    CARDEA_SHARED_SIG_KT = 1,  /* current Kotlin SDK, written by Cardea */
    CARDEA_SHARED_SIG_TS8 = 2, /* TypeScript SDK v8, read only */
} cardea_shared_sig_form;

/*
 * Allocates content with a new random 32-byte exchange key, 16-byte
 * access-control secret and 128-byte shared-signature key.
 * Free with cardea_exchange_data__content_free.
 * Returns CARDEA_OK or CARDEA_ENOMEM.
 */
cardea_err cardea_exchange_data__content_generate(cardea_exchange_content **out)
    CARDEA_MUST_CHECK;

/*
 * Allocates content from raw secrets. Lengths: exchange key 16 or 32,
 * secret 16, shared-signature key 64 to 128. CARDEA_EINVAL otherwise.
 */
cardea_err cardea_exchange_data__content_from_raw(
    cardea_exchange_content **out, const uint8_t *exchange_key,
    size_t exchange_key_len, const uint8_t *ac_secret, size_t ac_secret_len,
    const uint8_t *sig_key, size_t sig_key_len) CARDEA_MUST_CHECK;

/* Wipes and frees content. NULL does nothing. */
void cardea_exchange_data__content_free(cardea_exchange_content *content);

/*
 * Builds the text S over which sharedSignature is the HMAC-SHA-512.
 * `fps` contains fingerprints v2 in any order, possibly repeated, and S
 * lists them deduplicated and sorted ascending. In the KT form the secret is
 * written "AccessControlSecret(s=<hex>)", nothing is escaped and S ends
 * in "]]". In the TS8 form S is JSON.stringify of the same pairs with the
 * bare hex secret, ending in "]]]".
 *
 * out:     (out) NUL-terminated S. It contains the exchange key, so free
 *          it with cardea_mem__free_secret(*out, *out_len + 1).
 * out_len: (out) length of S without the NUL.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, fingerprint count over
 * 4096) or CARDEA_ENOMEM.
 */
cardea_err cardea_exchange_data__signature_input(
    char **out, size_t *out_len, const char *delegator, const char *delegate,
    const cardea_exchange_content *content, const char *const *fps,
    size_t fps_count, cardea_shared_sig_form form) CARDEA_MUST_CHECK;

/*
 * Builds a new ExchangeData object: id, delegator, delegate, the three
 * encrypted maps (one entry per distinct fingerprint v2 of `recipients`,
 * each encrypted with that key's OAEP hash), sharedSignature in the KT
 * form, and one delegatorSignature entry per key in `signers`.
 *
 * id:         exchange-data id, or NULL for a new random UUID.
 * recipients: keys to encrypt for: the delegator's verified keys and the
 *             delegate's verified keys. At least one.
 * signers:    the delegator's verified private keys; none in keyless mode.
 * Returns CARDEA_OK, CARDEA_EINVAL (missing argument, no recipient, bad
 * SPKI hex), CARDEA_ENOKEY (a signer is not a private key), CARDEA_ENOMEM
 * or CARDEA_ECRYPTO.
 */
cardea_err cardea_exchange_data__create(
    json_t **out, const char *id, const char *delegator, const char *delegate,
    const cardea_exchange_content *content,
    const cardea_owner_key *recipients, size_t recipients_count,
    const cardea_owner_key *signers, size_t signers_count) CARDEA_MUST_CHECK;

/*
 * Decrypts the content of `exchange_data` with the first of `keys` (all
 * private) whose fingerprint v2 names an entry in all three maps and
 * whose three entries decrypt to secrets of valid lengths. Map keys are
 * read leniently: a 32-character fingerprint v1 counts as its v2.
 *
 * Returns CARDEA_OK; CARDEA_ENOKEY when no key has entries;
 * CARDEA_EVERIFY when some key has entries but none decrypts;
 * CARDEA_EFORMAT when a map is missing or not an object; CARDEA_ENOMEM.
 */
cardea_err cardea_exchange_data__decrypt(
    cardea_exchange_content **out, const json_t *exchange_data,
    const cardea_owner_key *keys, size_t keys_count) CARDEA_MUST_CHECK;

/* The secrets of an ExchangeData, each stored in its own encrypted map. */
typedef enum cardea_exchange_secret {
    CARDEA_EXCHANGE_SECRET_KEY = 0,       /* exchangeKey */
    CARDEA_EXCHANGE_SECRET_AC = 1,        /* accessControlSecret */
    CARDEA_EXCHANGE_SECRET_SIGNATURE = 2, /* sharedSignatureKey */
} cardea_exchange_secret;

/*
 * Allocates content with every secret zeroed and both lengths 0, for
 * cardea_exchange_data__decrypt_secret to fill one secret at a time.
 * Free with cardea_exchange_data__content_free.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL out) or CARDEA_ENOMEM.
 */
cardea_err cardea_exchange_data__content_empty(cardea_exchange_content **out)
    CARDEA_MUST_CHECK;

/*
 * Decrypts one secret of `exchange_data` into its member of `content`
 * (and its length, for the two secrets that store one). It uses the
 * first of `keys` (all private) whose fingerprint v2 names an entry in
 * that secret's map and whose entry decrypts to a valid length, so it
 * costs one RSA private-key operation when that first key succeeds. Map
 * keys are read leniently, as in cardea_exchange_data__decrypt. The
 * other members of `content` are not touched.
 *
 * Returns CARDEA_OK; CARDEA_ENOKEY when no key has an entry;
 * CARDEA_EVERIFY when some key has an entry but none decrypts;
 * CARDEA_EFORMAT when the map is missing or not an object; CARDEA_EINVAL
 * (NULL argument or unknown secret); CARDEA_ENOMEM. On failure `content`
 * is unchanged.
 */
cardea_err cardea_exchange_data__decrypt_secret(
    cardea_exchange_content *content, const json_t *exchange_data,
    cardea_exchange_secret secret, const cardea_owner_key *keys,
    size_t keys_count) CARDEA_MUST_CHECK;

/*
 * Checks only the sharedSignature of `exchange_data` against `content`.
 * The signature is the HMAC-SHA-512, keyed with content's shared-signature
 * key, of the text built from delegator, delegate, content's exchange key
 * and access-control secret, and the fingerprints of the three maps, in
 * the KT or the TS8 form. Used to accept secrets that arrived through other
 * channels (exchange-key recovery) only when they match the stored data.
 *
 * out: (out) true when the signature verifies, false otherwise.
 * Returns CARDEA_OK (whatever the verdict, and malformed data gives false),
 * CARDEA_EINVAL (NULL argument) or CARDEA_ENOMEM.
 */
cardea_err cardea_exchange_data__check_shared_signature(
    bool *out, const json_t *exchange_data,
    const cardea_exchange_content *content) CARDEA_MUST_CHECK;

/*
 * Checks whether `exchange_data` is verified for the data owner `self_id`,
 * as the official SDK decides it:
 * 1. self_id is its delegator;
 * 2. at least one delegatorSignature entry is keyed by the fingerprint v2
 *    of one of `verified_keys` (self's verified private keys), and every
 *    such entry equals HMAC-SHA-512(SHA-512(PKCS#8 of the key),
 *    SHA-256(shared-signature key));
 * 3. sharedSignature verifies with the content, in the KT or TS8 form,
 *    over the fingerprints of the three maps.
 * Entries written with RSA-PSS by @icure/cardinal-sdk 1.0.0-RC.7 match no
 * key of ours, so such data reads as not verified, not as an error.
 *
 * out: (out) true when verified, false otherwise.
 * Returns CARDEA_OK (whatever the verdict), CARDEA_EINVAL (NULL argument)
 * or CARDEA_ENOMEM. Malformed data gives CARDEA_OK and false.
 */
cardea_err cardea_exchange_data__verify(
    bool *out, const json_t *exchange_data,
    const cardea_exchange_content *content, const char *self_id,
    const cardea_owner_key *verified_keys, size_t verified_count)
    CARDEA_MUST_CHECK;

/*
 * Returns a copy of `exchange_data` extended with new recipient keys:
 * each map receives an entry for every key in `added` whose fingerprint v2
 * it lacks. When the old sharedSignature verified (in either form), it is
 * recomputed in the same form over the new fingerprints; otherwise it is
 * kept as is. When `self_id` is the delegator, delegatorSignature receives
 * an entry for every key in `signers` it lacks (self_id may be NULL and
 * signers empty, as when applying a key-pair update notification).
 *
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_EFORMAT (malformed exchange
 * data), CARDEA_ENOKEY (a signer is not private), CARDEA_ENOMEM or
 * CARDEA_ECRYPTO.
 */
cardea_err cardea_exchange_data__update(
    json_t **out, const json_t *exchange_data,
    const cardea_exchange_content *content, const cardea_owner_key *added,
    size_t added_count, const char *self_id, const cardea_owner_key *signers,
    size_t signers_count) CARDEA_MUST_CHECK;

/*
 * Encrypts an exchange-data id for ExchangeDataMap and share requests:
 * {fpV2: base64(RSA-OAEP(UTF-8(id)))}, one entry per distinct key.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_ENOMEM or CARDEA_ECRYPTO.
 */
cardea_err cardea_exchange_data__encrypt_id(json_t **out, const char *id,
                                            const cardea_owner_key *keys,
                                            size_t keys_count)
    CARDEA_MUST_CHECK;

/*
 * Decrypts an encrypted exchange-data id with the first of `keys` whose
 * entry decrypts to printable ASCII.
 * out: (out) NUL-terminated id. Free it with cardea_free.
 * Returns CARDEA_OK, CARDEA_ENOKEY (no entry for any key), CARDEA_EVERIFY
 * (entries found but none decrypts), CARDEA_EFORMAT or CARDEA_ENOMEM.
 */
cardea_err cardea_exchange_data__decrypt_id(char **out,
                                            const json_t *encrypted_ids,
                                            const cardea_owner_key *keys,
                                            size_t keys_count)
    CARDEA_MUST_CHECK;

/*
 * Internal helpers shared with the other format files.
 *
 * rsa_encrypt_b64: base64(RSA-OAEP(msg)) with the key's OAEP hash. Free
 * it with cardea_free.
 * fp_map_find: the string value of the entry of `map` whose key, read
 * leniently as a fingerprint v2, equals `fp_v2`, or NULL when none.
 * append_json_string: appends `s` as a quoted JSON string escaped the way
 * JSON.stringify escapes it. A failure is recorded in `buf` and reported
 * by cardea_buf__take_str.
 */
cardea_err cardea_exchange_data__rsa_encrypt_b64(char **out,
                                                 const cardea_owner_key *key,
                                                 const uint8_t *msg,
                                                 size_t msg_len)
    CARDEA_MUST_CHECK;
const char *cardea_exchange_data__fp_map_find(const json_t *map,
                                              const char *fp_v2);
void cardea_exchange_data__append_json_string(cardea_buf *buf,
                                              const char *s);

#endif
