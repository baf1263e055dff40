/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the legacy (pre-ExchangeData) format, which Cardea decrypts but
 * never writes:
 * - exchange keys in a data owner's hcPartyKeys ({delegateId: [hexA,
 *   hexB]}) and aesExchangeKeys ({delegatorSpki: {delegateId:
 *   {identifier: hex(RSA-OAEP(raw AES key))}}}), decrypting to raw AES
 *   keys of 16 or 32 bytes;
 * - entity metadata delegations, encryptionKeys and cryptedForeignKeys,
 *   maps {delegateId: [{owner, delegatedTo, key, tags}]} where key is
 *   hex(AES-CBC(exchange key, UTF-8("<entityId>:<value>"))).
 * Pure functions. Functions returning cardea_err leave their outputs
 * untouched on failure.
 */
#ifndef CARDEA_FORMAT_LEGACY_H
#define CARDEA_FORMAT_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"
#include "format/exchange_data.h"

/* Maximum number of keys or values that one legacy lookup collects. */
#define CARDEA_LEGACY_MAX_ITEMS 4096

/* A raw AES key of 16 or 32 bytes. */
typedef struct cardea_legacy_key {
    uint8_t bytes[CARDEA_AES256_KEY_LEN];
    size_t len;
} cardea_legacy_key;

/* A growable set of distinct AES keys, wiped when freed. */
typedef struct cardea_legacy_keys {
    cardea_legacy_key *items;
    size_t count;
    size_t cap;
} cardea_legacy_keys;

/* A set of distinct decrypted values (secret ids, keys or owner ids). */
typedef struct cardea_legacy_values {
    char **items;
    size_t count;
} cardea_legacy_values;

/* Empties a set. Call it before first use. */
void cardea_legacy__keys_init(cardea_legacy_keys *keys);
/* Wipes and frees the keys. The set is left empty and reusable. */
void cardea_legacy__keys_free(cardea_legacy_keys *keys);
/*
 * Adds a copy of `key` (16 or 32 bytes) unless the set already has it.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_ETOOBIG or CARDEA_ENOMEM.
 */
cardea_err cardea_legacy__keys_add(cardea_legacy_keys *keys,
                                   const uint8_t *key, size_t len)
    CARDEA_MUST_CHECK;

/* Wipes and frees the values. The set is left empty. */
void cardea_legacy__values_free(cardea_legacy_values *values);

/*
 * Decrypts entry `index` of hcPartyKeys[delegate_id] with each of `keys`
 * (private, each with its own OAEP hash) and adds the results to `out`.
 * Index 1 is the copy encrypted for the delegate's legacy publicKey, the
 * one the official SDK reads, and index 0 is the delegator's own copy.
 * Returns CARDEA_OK when at least one key decrypted it, CARDEA_ENOTFOUND
 * when there is no such entry, CARDEA_EVERIFY when no key decrypts it to
 * 16 or 32 bytes, CARDEA_EINVAL or CARDEA_ENOMEM.
 */
cardea_err cardea_legacy__decrypt_hcparty_key(
    cardea_legacy_keys *out, const json_t *hc_party_keys,
    const char *delegate_id, size_t index, const cardea_owner_key *keys,
    size_t keys_count) CARDEA_MUST_CHECK;

/*
 * Decrypts every aesExchangeKeys[*][delegate_id] entry it can and adds
 * the keys to `out`. An entry identifier of 32 characters or more names
 * the key whose fingerprint v1 is its last 32 characters. A shorter one
 * (such as "") means "try every key", as in the official SDK.
 * Returns CARDEA_OK when at least one key was decrypted, CARDEA_ENOTFOUND
 * when no delegator key has an entry for `delegate_id`, CARDEA_EVERIFY
 * when there are entries but none decrypts, CARDEA_EINVAL or
 * CARDEA_ENOMEM.
 */
cardea_err cardea_legacy__decrypt_aes_exchange_keys(
    cardea_legacy_keys *out, const json_t *aes_exchange_keys,
    const char *delegate_id, const cardea_owner_key *keys,
    size_t keys_count) CARDEA_MUST_CHECK;

/*
 * Decrypts one legacy delegation `key` (hex) with an exchange key. The
 * plaintext must contain exactly one ':' and no NUL byte. The part before
 * it is the entity id at the time of writing, which may differ from the
 * current one after a merge, and the part after it is the value.
 * value, entity_id: (out) NUL-terminated. Free them with
 *   cardea_mem__free_secret(p, strlen(p) + 1). entity_id may be NULL.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_EVERIFY (wrong key, bad hex,
 * not one ':') or CARDEA_ENOMEM.
 */
cardea_err cardea_legacy__decrypt_value(char **value, char **entity_id,
                                        const char *key_hex,
                                        const uint8_t *exchange_key,
                                        size_t exchange_key_len)
    CARDEA_MUST_CHECK;

/*
 * Decrypts the values of `field` ("delegations", "encryptionKeys" or
 * "cryptedForeignKeys") of `entity` listed under any of `delegate_ids`,
 * trying each exchange key of `keys` on each delegation. Values are
 * deduplicated, and delegations that no key opens are skipped.
 * out: (out) the values, possibly none. Free them with
 *      cardea_legacy__values_free.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_EFORMAT (the field is not a
 * map of arrays), CARDEA_ETOOBIG or CARDEA_ENOMEM.
 */
cardea_err cardea_legacy__decrypt_field(cardea_legacy_values *out,
                                        const json_t *entity,
                                        const char *field,
                                        const char *const *delegate_ids,
                                        size_t ids_count,
                                        const cardea_legacy_keys *keys)
    CARDEA_MUST_CHECK;

/*
 * Collects the entity keys that legacy metadata gives: the values of
 * encryptionKeys, and, when that yields none and the caller found no
 * other key (`has_other_keys` false, i.e. none in secure delegations),
 * the values of delegations, as the official SDK does for very old data.
 * Values that cardea_entity_key__parse rejects are skipped. Adds to `out`.
 * Returns CARDEA_OK (even when no key was found), CARDEA_EINVAL,
 * CARDEA_EFORMAT, CARDEA_ETOOBIG or CARDEA_ENOMEM.
 */
cardea_err cardea_legacy__entity_keys(cardea_legacy_keys *out,
                                      const json_t *entity,
                                      const char *const *delegate_ids,
                                      size_t ids_count,
                                      const cardea_legacy_keys *keys,
                                      bool has_other_keys) CARDEA_MUST_CHECK;

#endif
