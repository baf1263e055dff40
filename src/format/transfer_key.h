/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transfer keys: a data owner stores each of its private keys encrypted
 * with the exchange key of its self-to-self exchange data, so that a new
 * device holding one verified key can recover the others. The data owner
 * field is transferKeys[sourceFpV1][targetFpV1] = hex(AES-CBC(self
 * exchange key, PKCS#8 DER of the target private key)). Pure functions.
 *
 * Functions returning cardea_err leave their outputs untouched on failure.
 */
#ifndef CARDEA_FORMAT_TRANSFER_KEY_H
#define CARDEA_FORMAT_TRANSFER_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"
#include "crypto/crypto.h"
#include "format/keys.h"

/*
 * Encrypts the PKCS#8 of `target` (a private key) with `exchange_key`
 * (16 or 32 bytes).
 * out: (out) lowercase hex blob, NUL-terminated; free with cardea_free.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_ENOKEY (a public key),
 * CARDEA_ENOMEM or CARDEA_ECRYPTO.
 */
cardea_err cardea_transfer_key__encrypt(char **out,
                                        const uint8_t *exchange_key,
                                        size_t exchange_key_len,
                                        const cardea_rsa_key *target)
    CARDEA_MUST_CHECK;

/*
 * Decrypts a transfer-key blob, imports the PKCS#8 it holds and checks
 * that the key's SPKI is exactly `target_spki_hex`, the key the data
 * owner published, so a planted blob cannot substitute another key.
 * out: (out) new reference to the private key; free with
 *      cardea_rsa__free.
 * Returns CARDEA_OK; CARDEA_EINVAL (NULL, key length);
 * CARDEA_EFORMAT (blob or SPKI not hex); CARDEA_EVERIFY (decryption
 * failed, not a PKCS#8 key, or another key than the published one);
 * CARDEA_ENOMEM.
 */
cardea_err cardea_transfer_key__decrypt(cardea_rsa_key **out,
                                        const uint8_t *exchange_key,
                                        size_t exchange_key_len,
                                        const char *blob_hex,
                                        const char *target_spki_hex)
    CARDEA_MUST_CHECK;

/*
 * Writes the fingerprint v1 of a transfer-key identifier: the official SDK
 * keys the maps by fingerprint v1 but older data may hold a full SPKI, so
 * identifiers of 32 characters or more are cut to their last 32.
 * Returns CARDEA_OK or CARDEA_EINVAL (NULL, or fewer than 32 characters).
 */
cardea_err cardea_transfer_key__identifier(char out[CARDEA_FP_V1_LEN + 1],
                                           const char *identifier)
    CARDEA_MUST_CHECK;

/*
 * Stores `blob` as transferKeys[source][target], both identifiers
 * normalised to fingerprint v1. `transfer_keys` must be a JSON object; it
 * is left unchanged on failure.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_EFORMAT (the source entry is
 * not an object) or CARDEA_ENOMEM.
 */
cardea_err cardea_transfer_key__put(json_t *transfer_keys, const char *source,
                                    const char *target, const char *blob)
    CARDEA_MUST_CHECK;

/*
 * Returns the blob of transferKeys[source][target], comparing every map
 * key after normalising it to fingerprint v1, or NULL when there is none.
 * The string belongs to `transfer_keys`.
 */
const char *cardea_transfer_key__find(const json_t *transfer_keys,
                                      const char *source, const char *target);

#endif
