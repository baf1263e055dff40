/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key fingerprints, access-control keys and secure-delegation keys.
 *
 * Fingerprint v1 is the last 32 hex characters of a key's SPKI hex (it
 * ends in "0203010001", the DER of exponent 65537); fingerprint v2 is v1
 * without those 10 characters. Access-control key (acKey) for a secret and
 * an entity type: the first 16 bytes of SHA-256(UTF-8(secretHex + type)).
 * Secure-delegation key (sdKey): lowercase hex of SHA-256(acKey).
 * Pure functions.
 */
#ifndef CARDEA_FORMAT_KEYS_H
#define CARDEA_FORMAT_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardea/common.h"

#define CARDEA_FP_V1_LEN 32
#define CARDEA_FP_V2_LEN 22
#define CARDEA_AC_SECRET_LEN 16
#define CARDEA_AC_KEY_LEN 16
#define CARDEA_SD_KEY_HEX_LEN 64
/* Keys per Icure-Access-Control-Keys header value, as the official SDK. */
#define CARDEA_AC_KEYS_PER_HEADER 360

/*
 * Fingerprints of an SPKI hex string (either case in, lowercase out).
 * CARDEA_EINVAL when `spki_hex` is shorter than 32 characters or not hex.
 */
cardea_err cardea_fp__v1(char out[CARDEA_FP_V1_LEN + 1], const char *spki_hex,
                         size_t spki_hex_len) CARDEA_MUST_CHECK;
cardea_err cardea_fp__v2(char out[CARDEA_FP_V2_LEN + 1], const char *spki_hex,
                         size_t spki_hex_len) CARDEA_MUST_CHECK;
/* v1 -> v2 (first 22 characters) and v2 -> v1 (append "0203010001"). */
cardea_err cardea_fp__v1_to_v2(char out[CARDEA_FP_V2_LEN + 1], const char *v1)
    CARDEA_MUST_CHECK;
cardea_err cardea_fp__v2_to_v1(char out[CARDEA_FP_V1_LEN + 1], const char *v2)
    CARDEA_MUST_CHECK;
/*
 * Lenient v2 parse, as the official SDK: a 22-character value is taken as
 * is, a 32-character value ending in "0203010001" is cut to 22.
 */
cardea_err cardea_fp__parse_v2(char out[CARDEA_FP_V2_LEN + 1], const char *s)
    CARDEA_MUST_CHECK;

/*
 * Returns true when `type` is one of the entity type strings the official
 * SDK salts access-control keys with (Patient, Contact, HealthElement...).
 */
bool cardea_entity_type__is_known(const char *type);
/*
 * NULL-terminated list of every known entity type string: the types of the
 * current Kotlin SDK plus "TimeTable", as @icure/cardinal-sdk 1.0.0-RC.7
 * has them. Services nested in a Contact use "Contact".
 */
const char *const *cardea_entity_type__all(void);

/* acKey = SHA-256(UTF-8(hex(secret) + type))[0..16). */
cardea_err cardea_ackey__derive(uint8_t out[CARDEA_AC_KEY_LEN],
                                const uint8_t secret[CARDEA_AC_SECRET_LEN],
                                const char *entity_type) CARDEA_MUST_CHECK;
/* sdKey = hex(SHA-256(acKey)). Cannot fail. */
void cardea_sdkey__from_ackey(char out[CARDEA_SD_KEY_HEX_LEN + 1],
                              const uint8_t ackey[CARDEA_AC_KEY_LEN]);

/*
 * Encodes `count` access-control keys (`keys` contains count * 16 bytes) as
 * values of the Icure-Access-Control-Keys header: base64 of the
 * concatenated raw keys, at most CARDEA_AC_KEYS_PER_HEADER keys per
 * value. A request sends one header line per value; the values must never
 * be comma-joined into one line. No keys gives no values (*out NULL,
 * *out_len 0).
 *
 * out     (out) array of *out_len NUL-terminated strings; release it with
 *         cardea_ackey__free_headers.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument), CARDEA_EOVERFLOW or
 * CARDEA_ENOMEM.
 */
cardea_err cardea_ackey__encode_headers(char ***out, size_t *out_len,
                                        const uint8_t *keys, size_t count)
    CARDEA_MUST_CHECK;
/* Wipes and frees values from cardea_ackey__encode_headers. NULL is fine. */
void cardea_ackey__free_headers(char **values, size_t len);

/*
 * Decodes one Icure-Access-Control-Keys header value into keys, as the
 * server does. The value must be non-empty strict base64 (padded, no
 * whitespace) of a length that is a multiple of 16 bytes.
 *
 * out       (out) count * 16 bytes; free with
 *           cardea_mem__free_secret(out, count * 16).
 * out_count (out) number of keys.
 * Returns CARDEA_OK, CARDEA_EFORMAT (empty, bad base64 or bad length),
 * CARDEA_EINVAL (NULL argument) or CARDEA_ENOMEM.
 */
cardea_err cardea_ackey__decode_header(uint8_t **out, size_t *out_count,
                                       const char *value, size_t value_len)
    CARDEA_MUST_CHECK;

#endif
