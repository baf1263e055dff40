/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hexadecimal: lowercase on output, because fingerprints and map keys of
 * the iCure format are compared as strings; either case on input.
 * Decoding does not branch on the digit values, since hex often carries
 * keys.
 */
#include <string.h>

#include "base/base.h"

static const char digits[] = "0123456789abcdef";

/* 1 when lo <= c <= hi, else 0, without a branch. */
static unsigned
in_range(unsigned c, unsigned lo, unsigned hi)
{
    return (((c - lo) | (hi - c)) >> 31) ^ 1u;
}

/*
 * Returns the value of hex digit `c` (0..15), or a value with bit 8 set
 * when `c` is not a hex digit. Branch-free over the character.
 */
static unsigned
digit_value(unsigned char ch)
{
    unsigned c = ch;
    unsigned is_num = in_range(c, '0', '9');
    unsigned is_lower = in_range(c, 'a', 'f');
    unsigned is_upper = in_range(c, 'A', 'F');

    return ((c - '0') & (0u - is_num)) |
           ((c - 'a' + 10u) & (0u - is_lower)) |
           ((c - 'A' + 10u) & (0u - is_upper)) |
           ((1u ^ (is_num | is_lower | is_upper)) << 8);
}

cardea_err
cardea_hex__encode(char *out, size_t out_cap, const uint8_t *in,
                   size_t in_len)
{
    size_t need;

    if (!cardea_size__mul(&need, in_len, 2) ||
        !cardea_size__add(&need, need, 1)) {
        return CARDEA_EOVERFLOW;
    }
    if (out_cap < need) {
        return CARDEA_ETOOBIG;
    }
    for (size_t i = 0; i < in_len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * in_len] = '\0';
    return CARDEA_OK;
}

cardea_err
cardea_hex__encode_alloc(char **out, const uint8_t *in, size_t in_len)
{
    size_t need;
    char *text;
    cardea_err err;

    if (!cardea_size__mul(&need, in_len, 2) ||
        !cardea_size__add(&need, need, 1)) {
        return CARDEA_EOVERFLOW;
    }
    if ((text = cardea_mem__alloc(need)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if ((err = cardea_hex__encode(text, need, in, in_len)) != CARDEA_OK) {
        cardea_mem__free(text);
        return err;
    }
    *out = text;
    return CARDEA_OK;
}

bool
cardea_hex__is_valid(const char *s, size_t len)
{
    unsigned bad = 0;

    for (size_t i = 0; i < len; i++) {
        bad |= digit_value((unsigned char)s[i]);
    }
    return (bad >> 8) == 0;
}

cardea_err
cardea_hex__decode(uint8_t *out, size_t out_cap, size_t *out_len,
                   const char *in, size_t in_len)
{
    if (in_len % 2 != 0) {
        return CARDEA_EFORMAT;
    }
    if (out_cap < in_len / 2) {
        return CARDEA_ETOOBIG;
    }
    if (!cardea_hex__is_valid(in, in_len)) {
        return CARDEA_EFORMAT;
    }
    for (size_t i = 0; i < in_len / 2; i++) {
        unsigned hi = digit_value((unsigned char)in[2 * i]);
        unsigned lo = digit_value((unsigned char)in[2 * i + 1]);

        out[i] = (uint8_t)((hi << 4) | lo);
    }
    *out_len = in_len / 2;
    return CARDEA_OK;
}

cardea_err
cardea_hex__decode_alloc(uint8_t **out, size_t *out_len, const char *in,
                         size_t in_len)
{
    uint8_t *bytes;
    size_t len;
    cardea_err err;

    if (in_len % 2 != 0 || !cardea_hex__is_valid(in, in_len)) {
        return CARDEA_EFORMAT;
    }
    if ((bytes = cardea_mem__alloc(in_len / 2)) == NULL) {
        return CARDEA_ENOMEM;
    }
    err = cardea_hex__decode(bytes, in_len / 2, &len, in, in_len);
    if (err != CARDEA_OK) {
        cardea_mem__free(bytes);
        return err;
    }
    *out = bytes;
    *out_len = len;
    return CARDEA_OK;
}
