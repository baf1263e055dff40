/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal helpers of the base layer: allocation through the hook,
 * logging, checked size arithmetic, hex, base64, base32, UUIDs and JSON
 * helpers over jansson. Nothing here is part of the public API.
 *
 * Conventions: functions returning cardea_err leave their outputs
 * untouched on failure. Strings and buffers returned through `char **` or
 * `uint8_t **` are allocated with cardea_mem__alloc and released with
 * cardea_free (which is cardea_mem__free).
 */
#ifndef CARDEA_BASE_H
#define CARDEA_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"

/* ---- allocation ---------------------------------------------------- */

void *cardea_mem__alloc(size_t size);
void *cardea_mem__calloc(size_t count, size_t size);
void *cardea_mem__realloc(void *ptr, size_t size);
void cardea_mem__free(void *ptr);
/* Wipes `len` bytes at `ptr`, then frees it. NULL does nothing. */
void cardea_mem__free_secret(void *ptr, size_t len);
/* Copies a NUL-terminated string; NULL when `s` is NULL or memory is out. */
char *cardea_mem__strdup(const char *s);
char *cardea_mem__strndup(const char *s, size_t len);
void *cardea_mem__memdup(const void *ptr, size_t len);

/* ---- checked size arithmetic -------------------------------------- */

/* Each stores the result and returns true when it fits in size_t. */
static inline bool
cardea_size__add(size_t *out, size_t a, size_t b)
{
    return !__builtin_add_overflow(a, b, out);
}

static inline bool
cardea_size__mul(size_t *out, size_t a, size_t b)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* ---- logging ------------------------------------------------------- */

/* Formats and passes one line to the log callback, if one is set. */
void cardea_log__write(cardea_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool cardea_log__enabled(cardea_log_level level);


/* ---- growable byte buffer with a hard cap --------------------------- */

typedef struct cardea_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;      /* 0 means SIZE_MAX */
    bool failed;     /* an append failed: contents are incomplete */
} cardea_buf;

void cardea_buf__init(cardea_buf *buf, size_t max);
cardea_err cardea_buf__append(cardea_buf *buf, const void *data, size_t len)
    CARDEA_MUST_CHECK;
cardea_err cardea_buf__append_str(cardea_buf *buf, const char *s)
    CARDEA_MUST_CHECK;
/* Frees the contents (wiping them first when `secret`). */
void cardea_buf__free(cardea_buf *buf, bool secret);
/*
 * Appends a NUL and hands the contents over as a C string; the buffer is
 * left empty. Fails when an earlier append failed.
 */
cardea_err cardea_buf__take_str(char **out, cardea_buf *buf) CARDEA_MUST_CHECK;

/* ---- hex (lowercase out, either case in) ---------------------------- */

/* Needs out_cap >= 2 * in_len + 1; writes a NUL-terminated string. */
cardea_err cardea_hex__encode(char *out, size_t out_cap, const uint8_t *in,
                              size_t in_len) CARDEA_MUST_CHECK;
cardea_err cardea_hex__encode_alloc(char **out, const uint8_t *in,
                                    size_t in_len) CARDEA_MUST_CHECK;
/* CARDEA_EFORMAT on odd length or a non-hex character. */
cardea_err cardea_hex__decode(uint8_t *out, size_t out_cap, size_t *out_len,
                              const char *in, size_t in_len) CARDEA_MUST_CHECK;
cardea_err cardea_hex__decode_alloc(uint8_t **out, size_t *out_len,
                                    const char *in, size_t in_len)
    CARDEA_MUST_CHECK;
/* True when `s` is exactly `len` lowercase or uppercase hex digits. */
bool cardea_hex__is_valid(const char *s, size_t len);

/* ---- base64 (RFC 4648 standard alphabet, padded) ---------------------- */

size_t cardea_base64__encoded_len(size_t in_len); /* without the NUL */
cardea_err cardea_base64__encode(char *out, size_t out_cap, const uint8_t *in,
                                 size_t in_len) CARDEA_MUST_CHECK;
cardea_err cardea_base64__encode_alloc(char **out, const uint8_t *in,
                                       size_t in_len) CARDEA_MUST_CHECK;
/*
 * Strict decoding: padding required, no whitespace, no URL-safe letters,
 * and unused trailing bits must be zero. CARDEA_EFORMAT otherwise.
 */
cardea_err cardea_base64__decode(uint8_t *out, size_t out_cap, size_t *out_len,
                                 const char *in, size_t in_len)
    CARDEA_MUST_CHECK;
cardea_err cardea_base64__decode_alloc(uint8_t **out, size_t *out_len,
                                       const char *in, size_t in_len)
    CARDEA_MUST_CHECK;

/* ---- base32 (RFC 4648, A-Z2-7; unpadded out, any case and padding in) - */

size_t cardea_base32__encoded_len(size_t in_len); /* unpadded, no NUL */
cardea_err cardea_base32__encode(char *out, size_t out_cap, const uint8_t *in,
                                 size_t in_len) CARDEA_MUST_CHECK;
cardea_err cardea_base32__encode_alloc(char **out, const uint8_t *in,
                                       size_t in_len) CARDEA_MUST_CHECK;
cardea_err cardea_base32__decode(uint8_t *out, size_t out_cap, size_t *out_len,
                                 const char *in, size_t in_len)
    CARDEA_MUST_CHECK;
cardea_err cardea_base32__decode_alloc(uint8_t **out, size_t *out_len,
                                       const char *in, size_t in_len)
    CARDEA_MUST_CHECK;

/* ---- UUID v4 ---------------------------------------------------------- */

#define CARDEA_UUID_STR_LEN 36
/* Writes a random lowercase 8-4-4-4-12 UUID v4 and its NUL. */
void cardea_uuid__v4(char out[CARDEA_UUID_STR_LEN + 1]);
bool cardea_uuid__is_valid(const char *s);

/* ---- OS random source --------------------------------------------------- */

/* Fills `out` from the OS CSPRNG (getrandom); aborts if it cannot. */
void cardea_random__bytes(uint8_t *out, size_t len);

/* ---- JSON helpers over jansson ---------------------------------------- */

#define CARDEA_JSON_MAX_DEPTH 64

/*
 * Parses `len` bytes of JSON text. Rejects duplicate object keys, NUL
 * bytes and nesting deeper than CARDEA_JSON_MAX_DEPTH. On failure returns
 * CARDEA_EFORMAT and, when `errmsg` is not NULL, writes a short message
 * naming the line and column.
 */
cardea_err cardea_json__parse(json_t **out, const char *text, size_t len,
                              char *errmsg, size_t errmsg_cap)
    CARDEA_MUST_CHECK;
/* Serialises compactly, keys in insertion order; NULL when out of memory. */
char *cardea_json__dump(const json_t *value);
/* Returns the string member `key` of `obj`, or NULL if it is no string. */
const char *cardea_json__get_str(const json_t *obj, const char *key);
/* Sets `obj[key]` to a new string; CARDEA_ENOMEM on failure. */
cardea_err cardea_json__set_str(json_t *obj, const char *key, const char *value)
    CARDEA_MUST_CHECK;
/* Sets `obj[key]` and takes the reference to `value` even on failure. */
cardea_err cardea_json__set_new(json_t *obj, const char *key, json_t *value)
    CARDEA_MUST_CHECK;
/* Appends `value` to `array`, taking the reference even on failure. */
cardea_err cardea_json__append_new(json_t *array, json_t *value)
    CARDEA_MUST_CHECK;
/* Semantic equality where a missing member, null and [] or {} are equal. */
bool cardea_json__equal_loose(const json_t *a, const json_t *b);

#endif
