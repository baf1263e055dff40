/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transfer-key blobs and the transferKeys map of a data owner. The SPKI
 * check on decryption matters: whoever can write the data owner could
 * otherwise plant a blob holding a key of their choice.
 */
#include "format/transfer_key.h"

#include <string.h>

#include "base/base.h"

static bool
valid_aes_key(const uint8_t *key, size_t len)
{
    return key != NULL &&
           (len == CARDEA_AES128_KEY_LEN || len == CARDEA_AES256_KEY_LEN);
}

/* see format/transfer_key.h */
cardea_err
cardea_transfer_key__encrypt(char **out, const uint8_t *exchange_key,
                             size_t exchange_key_len,
                             const cardea_rsa_key *target)
{
    uint8_t *pkcs8 = NULL, *blob = NULL;
    size_t pkcs8_len = 0, blob_len = 0;
    cardea_err err;

    if (out == NULL || target == NULL ||
        !valid_aes_key(exchange_key, exchange_key_len)) {
        return CARDEA_EINVAL;
    }
    err = cardea_rsa__pkcs8_der(&pkcs8, &pkcs8_len, target);
    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_aes__cbc_encrypt_alloc(&blob, &blob_len, exchange_key,
                                        exchange_key_len, pkcs8, pkcs8_len);
    if (err == CARDEA_OK) {
        err = cardea_hex__encode_alloc(out, blob, blob_len);
    }
    cardea_mem__free_secret(pkcs8, pkcs8_len);
    cardea_mem__free(blob);
    return err;
}

/* True when the SPKI DER of `key` is the DER in `spki`. */
static cardea_err
spki_matches(bool *match, const cardea_rsa_key *key, const uint8_t *spki,
             size_t spki_len)
{
    uint8_t *derived = NULL;
    size_t derived_len = 0;
    cardea_err err;

    err = cardea_rsa__spki_der(&derived, &derived_len, key);
    if (err == CARDEA_OK) {
        *match = derived_len == spki_len &&
                 memcmp(derived, spki, spki_len) == 0;
    }
    cardea_mem__free(derived);
    return err;
}

/* see format/transfer_key.h */
cardea_err
cardea_transfer_key__decrypt(cardea_rsa_key **out,
                             const uint8_t *exchange_key,
                             size_t exchange_key_len, const char *blob_hex,
                             const char *target_spki_hex)
{
    uint8_t *blob = NULL, *pkcs8 = NULL, *spki = NULL;
    size_t blob_len = 0, pkcs8_len = 0, spki_len = 0;
    cardea_rsa_key *key = NULL;
    bool match = false;
    cardea_err err;

    if (out == NULL || blob_hex == NULL || target_spki_hex == NULL ||
        !valid_aes_key(exchange_key, exchange_key_len)) {
        return CARDEA_EINVAL;
    }
    err = cardea_hex__decode_alloc(&blob, &blob_len, blob_hex,
                                   strlen(blob_hex));
    if (err == CARDEA_OK) {
        err = cardea_hex__decode_alloc(&spki, &spki_len, target_spki_hex,
                                       strlen(target_spki_hex));
    }
    if (err != CARDEA_OK) {
        goto out;
    }

    err = cardea_aes__cbc_decrypt_alloc(&pkcs8, &pkcs8_len, exchange_key,
                                        exchange_key_len, blob, blob_len);
    if (err == CARDEA_OK) {
        err = cardea_rsa__from_pkcs8(&key, pkcs8, pkcs8_len);
    }
    if (err == CARDEA_OK && !cardea_rsa__is_private(key)) {
        err = CARDEA_EVERIFY;
    }
    if (err == CARDEA_OK) {
        err = spki_matches(&match, key, spki, spki_len);
    }
    if (err == CARDEA_OK && !match) {
        err = CARDEA_EVERIFY;
    }
    if (err != CARDEA_OK && err != CARDEA_ENOMEM) {
        err = CARDEA_EVERIFY;
    }

    if (err == CARDEA_OK) {
        *out = key;
        key = NULL;
    }
out:
    cardea_rsa__free(key);
    if (pkcs8 != NULL) {
        cardea_mem__free_secret(pkcs8, pkcs8_len + 1);
    }
    cardea_mem__free(blob);
    cardea_mem__free(spki);
    return err;
}

/* see format/transfer_key.h */
cardea_err
cardea_transfer_key__identifier(char out[CARDEA_FP_V1_LEN + 1],
                                const char *identifier)
{
    size_t len;

    if (out == NULL || identifier == NULL) {
        return CARDEA_EINVAL;
    }
    len = strlen(identifier);
    if (len < CARDEA_FP_V1_LEN) {
        return CARDEA_EINVAL;
    }
    memcpy(out, identifier + len - CARDEA_FP_V1_LEN, CARDEA_FP_V1_LEN);
    out[CARDEA_FP_V1_LEN] = '\0';
    return CARDEA_OK;
}

/*
 * Returns the member of `map` whose key normalises to `fp_v1`, or NULL.
 * An exact key wins over a longer identifier with the same tail.
 */
static json_t *
find_member(const json_t *map, const char *fp_v1)
{
    char normalised[CARDEA_FP_V1_LEN + 1];
    const char *name;
    json_t *value = json_object_get(map, fp_v1);
    void *iter;

    if (value != NULL || !json_is_object(map)) {
        return value;
    }
    /* json_object_iter takes a non-const pointer but does not write. */
    for (iter = json_object_iter((json_t *)map); iter != NULL;
         iter = json_object_iter_next((json_t *)map, iter)) {
        name = json_object_iter_key(iter);
        if (cardea_transfer_key__identifier(normalised, name) == CARDEA_OK &&
            strcmp(normalised, fp_v1) == 0) {
            return json_object_iter_value(iter);
        }
    }
    return NULL;
}

/* see format/transfer_key.h */
cardea_err
cardea_transfer_key__put(json_t *transfer_keys, const char *source,
                         const char *target, const char *blob)
{
    char source_fp[CARDEA_FP_V1_LEN + 1], target_fp[CARDEA_FP_V1_LEN + 1];
    json_t *inner;

    if (!json_is_object(transfer_keys) || blob == NULL ||
        cardea_transfer_key__identifier(source_fp, source) != CARDEA_OK ||
        cardea_transfer_key__identifier(target_fp, target) != CARDEA_OK) {
        return CARDEA_EINVAL;
    }
    inner = find_member(transfer_keys, source_fp);
    if (inner != NULL) {
        if (!json_is_object(inner)) {
            return CARDEA_EFORMAT;
        }
        return cardea_json__set_str(inner, target_fp, blob);
    }
    inner = json_object();
    if (inner == NULL ||
        cardea_json__set_str(inner, target_fp, blob) != CARDEA_OK) {
        json_decref(inner);
        return CARDEA_ENOMEM;
    }
    return cardea_json__set_new(transfer_keys, source_fp, inner);
}

/* see format/transfer_key.h */
const char *
cardea_transfer_key__find(const json_t *transfer_keys, const char *source,
                          const char *target)
{
    char source_fp[CARDEA_FP_V1_LEN + 1], target_fp[CARDEA_FP_V1_LEN + 1];
    json_t *inner, *value;

    if (cardea_transfer_key__identifier(source_fp, source) != CARDEA_OK ||
        cardea_transfer_key__identifier(target_fp, target) != CARDEA_OK) {
        return NULL;
    }
    inner = find_member(transfer_keys, source_fp);
    value = json_is_object(inner) ? find_member(inner, target_fp) : NULL;
    return json_is_string(value) ? json_string_value(value) : NULL;
}
