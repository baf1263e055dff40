/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fingerprints of RSA public keys, the entity type strings that salt
 * access-control keys, the derivation of access-control keys (acKey) and
 * secure-delegation keys (sdKey), and the Icure-Access-Control-Keys header
 * that anonymous data owners send. Pure functions, no global state.
 */
#include <string.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/keys.h"

/* DER encoding of the public exponent 65537 that ends every SPKI. */
#define EXPONENT_SUFFIX "0203010001"
#define EXPONENT_SUFFIX_LEN 10

/*
 * These strings salt the acKey derivation, so they must match the official
 * SDK byte for byte and never change.
 */
static const char *const entity_types[] = {
    "Article",
    "AccessLog",
    "CalendarItem",
    "Classification",
    "ClassificationTemplate",
    "Contact",
    "Service",
    "Document",
    "Form",
    "HealthElement",
    "Invoice",
    "MaintenanceTask",
    "Message",
    "Patient",
    "Receipt",
    "Topic",
    "TimeTable",
    NULL,
};

static void
copy_lower(char *out, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        out[i] = c;
    }
    out[len] = '\0';
}

static bool
ends_with_exponent(const char *s, size_t len)
{
    if (len < EXPONENT_SUFFIX_LEN) {
        return false;
    }
    for (size_t i = 0; i < EXPONENT_SUFFIX_LEN; i++) {
        if (s[len - EXPONENT_SUFFIX_LEN + i] != EXPONENT_SUFFIX[i]) {
            return false;
        }
    }
    return true;
}

/*
 * Writes the first `out_len` characters of the last CARDEA_FP_V1_LEN hex
 * digits of `spki_hex`, lowercased, and a NUL.
 */
static cardea_err
spki_fingerprint(char *out, size_t out_len, const char *spki_hex,
                 size_t spki_hex_len)
{
    if (out == NULL || spki_hex == NULL || spki_hex_len < CARDEA_FP_V1_LEN ||
        !cardea_hex__is_valid(spki_hex, spki_hex_len)) {
        return CARDEA_EINVAL;
    }
    copy_lower(out, spki_hex + spki_hex_len - CARDEA_FP_V1_LEN, out_len);
    return CARDEA_OK;
}

/* see format/keys.h */
cardea_err
cardea_fp__v1(char out[CARDEA_FP_V1_LEN + 1], const char *spki_hex,
              size_t spki_hex_len)
{
    return spki_fingerprint(out, CARDEA_FP_V1_LEN, spki_hex, spki_hex_len);
}

/* see format/keys.h */
cardea_err
cardea_fp__v2(char out[CARDEA_FP_V2_LEN + 1], const char *spki_hex,
              size_t spki_hex_len)
{
    return spki_fingerprint(out, CARDEA_FP_V2_LEN, spki_hex, spki_hex_len);
}

/* see format/keys.h */
cardea_err
cardea_fp__v1_to_v2(char out[CARDEA_FP_V2_LEN + 1], const char *v1)
{
    if (out == NULL || v1 == NULL || strlen(v1) != CARDEA_FP_V1_LEN ||
        !cardea_hex__is_valid(v1, CARDEA_FP_V1_LEN)) {
        return CARDEA_EINVAL;
    }
    copy_lower(out, v1, CARDEA_FP_V2_LEN);
    return CARDEA_OK;
}

/* see format/keys.h */
cardea_err
cardea_fp__v2_to_v1(char out[CARDEA_FP_V1_LEN + 1], const char *v2)
{
    if (out == NULL || v2 == NULL || strlen(v2) != CARDEA_FP_V2_LEN ||
        !cardea_hex__is_valid(v2, CARDEA_FP_V2_LEN)) {
        return CARDEA_EINVAL;
    }
    copy_lower(out, v2, CARDEA_FP_V2_LEN);
    memcpy(out + CARDEA_FP_V2_LEN, EXPONENT_SUFFIX, EXPONENT_SUFFIX_LEN + 1);
    return CARDEA_OK;
}

/* see format/keys.h */
cardea_err
cardea_fp__parse_v2(char out[CARDEA_FP_V2_LEN + 1], const char *s)
{
    size_t len;

    if (out == NULL || s == NULL) {
        return CARDEA_EINVAL;
    }
    len = strlen(s);
    if (!cardea_hex__is_valid(s, len)) {
        return CARDEA_EINVAL;
    }
    if (len == CARDEA_FP_V2_LEN) {
        copy_lower(out, s, CARDEA_FP_V2_LEN);
        return CARDEA_OK;
    }

    /* A v1 fingerprint where a v2 is expected: the official SDK accepts it
     * when it ends in the exponent, and keeps the first 22 characters. */
    if (len == CARDEA_FP_V1_LEN && ends_with_exponent(s, len)) {
        copy_lower(out, s, CARDEA_FP_V2_LEN);
        return CARDEA_OK;
    }
    return CARDEA_EINVAL;
}

/* see format/keys.h */
bool
cardea_entity_type__is_known(const char *type)
{
    if (type == NULL) {
        return false;
    }
    for (size_t i = 0; entity_types[i] != NULL; i++) {
        if (strcmp(entity_types[i], type) == 0) {
            return true;
        }
    }
    return false;
}

/* see format/keys.h */
const char *const *
cardea_entity_type__all(void)
{
    return entity_types;
}

/* see format/keys.h */
cardea_err
cardea_ackey__derive(uint8_t out[CARDEA_AC_KEY_LEN],
                     const uint8_t secret[CARDEA_AC_SECRET_LEN],
                     const char *entity_type)
{
    /* 32 hex characters plus the longest type, "ClassificationTemplate". */
    char input[2 * CARDEA_AC_SECRET_LEN + 32 + 1];
    uint8_t digest[CARDEA_SHA256_LEN];
    size_t type_len;
    cardea_err err;

    /* An unknown type derives keys that no other client computes, so it is
     * rejected rather than silently making data unreachable. */
    if (out == NULL || secret == NULL ||
        !cardea_entity_type__is_known(entity_type)) {
        return CARDEA_EINVAL;
    }
    type_len = strlen(entity_type);
    if (2 * CARDEA_AC_SECRET_LEN + type_len >= sizeof input) {
        return CARDEA_EINVAL;
    }

    err = cardea_hex__encode(input, sizeof input, secret,
                             CARDEA_AC_SECRET_LEN);
    if (err != CARDEA_OK) {
        goto out;
    }
    memcpy(input + 2 * CARDEA_AC_SECRET_LEN, entity_type, type_len);
    cardea_hash__sha256(digest, input, 2 * CARDEA_AC_SECRET_LEN + type_len);
    memcpy(out, digest, CARDEA_AC_KEY_LEN);

out:
    cardea_wipe(input, sizeof input);
    cardea_wipe(digest, sizeof digest);
    return err;
}

/* see format/keys.h */
void
cardea_sdkey__from_ackey(char out[CARDEA_SD_KEY_HEX_LEN + 1],
                         const uint8_t ackey[CARDEA_AC_KEY_LEN])
{
    cardea_hash__sha256_hex(out, ackey, CARDEA_AC_KEY_LEN);
}

/* see format/keys.h */
void
cardea_ackey__free_headers(char **values, size_t len)
{
    if (values == NULL) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (values[i] != NULL) {
            cardea_mem__free_secret(values[i], strlen(values[i]));
        }
    }
    cardea_mem__free(values);
}

/* see format/keys.h */
cardea_err
cardea_ackey__encode_headers(char ***out, size_t *out_len,
                             const uint8_t *keys, size_t count)
{
    size_t n_values = count / CARDEA_AC_KEYS_PER_HEADER +
                      (count % CARDEA_AC_KEYS_PER_HEADER != 0);
    size_t bytes;
    char **values = NULL;
    size_t done = 0;
    cardea_err err = CARDEA_OK;

    if (out == NULL || out_len == NULL || (keys == NULL && count > 0)) {
        return CARDEA_EINVAL;
    }
    if (!cardea_size__mul(&bytes, count, CARDEA_AC_KEY_LEN)) {
        return CARDEA_EOVERFLOW;
    }
    if (count == 0) {
        *out = NULL;
        *out_len = 0;
        return CARDEA_OK;
    }

    values = cardea_mem__calloc(n_values, sizeof *values);
    if (values == NULL) {
        return CARDEA_ENOMEM;
    }
    for (; done < n_values; done++) {
        size_t first = done * CARDEA_AC_KEYS_PER_HEADER;
        size_t chunk = count - first;

        if (chunk > CARDEA_AC_KEYS_PER_HEADER) {
            chunk = CARDEA_AC_KEYS_PER_HEADER;
        }
        err = cardea_base64__encode_alloc(&values[done],
                                          keys + first * CARDEA_AC_KEY_LEN,
                                          chunk * CARDEA_AC_KEY_LEN);
        if (err != CARDEA_OK) {
            goto out;
        }
    }
    *out = values;
    *out_len = n_values;
    values = NULL;

out:
    cardea_ackey__free_headers(values, done);
    return err;
}

/* see format/keys.h */
cardea_err
cardea_ackey__decode_header(uint8_t **out, size_t *out_count,
                            const char *value, size_t value_len)
{
    uint8_t *keys = NULL;
    size_t keys_len = 0;
    cardea_err err;

    if (out == NULL || out_count == NULL || value == NULL) {
        return CARDEA_EINVAL;
    }
    if (value_len == 0) {
        return CARDEA_EFORMAT;
    }

    err = cardea_base64__decode_alloc(&keys, &keys_len, value, value_len);
    if (err != CARDEA_OK) {
        return err == CARDEA_ENOMEM ? err : CARDEA_EFORMAT;
    }
    if (keys_len == 0 || keys_len % CARDEA_AC_KEY_LEN != 0) {
        cardea_mem__free_secret(keys, keys_len);
        return CARDEA_EFORMAT;
    }
    *out = keys;
    *out_count = keys_len / CARDEA_AC_KEY_LEN;
    return CARDEA_OK;
}
