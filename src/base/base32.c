/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 4648 base32 (alphabet A-Z 2-7), used to show recovery keys to
 * people. Output has no '=' padding, as the official SDK shows it; input
 * may be in either case and may carry the padding. Leftover bits in the
 * last character must be zero so each key has one accepted spelling per
 * case.
 */
#include "base/base.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* 1 when lo <= c <= hi, else 0, without a branch. */
static unsigned
in_range(unsigned c, unsigned lo, unsigned hi)
{
    return (((c - lo) | (hi - c)) >> 31) ^ 1u;
}

/* Value 0..31 of a base32 character in either case, or 0x100 if invalid. */
static unsigned
char_value(unsigned char ch)
{
    unsigned c = ch;
    unsigned is_upper = in_range(c, 'A', 'Z');
    unsigned is_lower = in_range(c, 'a', 'z');
    unsigned is_digit = in_range(c, '2', '7');

    return ((c - 'A') & (0u - is_upper)) | ((c - 'a') & (0u - is_lower)) |
           ((c - '2' + 26u) & (0u - is_digit)) |
           ((1u ^ (is_upper | is_lower | is_digit)) << 8);
}

size_t
cardea_base32__encoded_len(size_t in_len)
{
    return (in_len * 8 + 4) / 5;
}

cardea_err
cardea_base32__encode(char *out, size_t out_cap, const uint8_t *in,
                      size_t in_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    if (in_len > SIZE_MAX / 8 - 1) {
        return CARDEA_EOVERFLOW;
    }
    if (out_cap < cardea_base32__encoded_len(in_len) + 1) {
        return CARDEA_ETOOBIG;
    }
    for (size_t i = 0; i < in_len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = alphabet[(acc >> bits) & 31];
        }
    }
    if (bits > 0) {
        out[o++] = alphabet[(acc << (5 - bits)) & 31];
    }
    out[o] = '\0';
    return CARDEA_OK;
}

cardea_err
cardea_base32__encode_alloc(char **out, const uint8_t *in, size_t in_len)
{
    size_t need;
    char *text;
    cardea_err err;

    if (in_len > SIZE_MAX / 8 - 1) {
        return CARDEA_EOVERFLOW;
    }
    need = cardea_base32__encoded_len(in_len) + 1;
    if ((text = cardea_mem__alloc(need)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if ((err = cardea_base32__encode(text, need, in, in_len)) != CARDEA_OK) {
        cardea_mem__free(text);
        return err;
    }
    *out = text;
    return CARDEA_OK;
}

/*
 * Length of the text without its '=' padding, or SIZE_MAX when the
 * padding or the unpadded length is impossible for RFC 4648.
 */
static size_t
unpadded_len(const char *in, size_t in_len)
{
    size_t len = in_len;
    size_t rem;

    while (len > 0 && in[len - 1] == '=') {
        len--;
    }
    if (len != in_len && in_len % 8 != 0) {
        return SIZE_MAX;
    }
    rem = len % 8;
    if (rem == 1 || rem == 3 || rem == 6) {
        return SIZE_MAX;
    }
    return len;
}

static bool
decode_chars(uint8_t *out, const char *in, size_t len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    unsigned bad = 0;
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned v = char_value((unsigned char)in[i]);

        bad |= v;
        acc = (acc << 5) | (v & 31);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0) {
        return false;
    }
    return (bad >> 8) == 0;
}

cardea_err
cardea_base32__decode(uint8_t *out, size_t out_cap, size_t *out_len,
                      const char *in, size_t in_len)
{
    size_t len = unpadded_len(in, in_len);
    size_t out_need;
    uint8_t *tmp;

    if (len == SIZE_MAX) {
        return CARDEA_EFORMAT;
    }
    out_need = len * 5 / 8;
    if (out_cap < out_need) {
        return CARDEA_ETOOBIG;
    }
    if ((tmp = cardea_mem__alloc(out_need)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if (!decode_chars(tmp, in, len)) {
        cardea_mem__free_secret(tmp, out_need);
        return CARDEA_EFORMAT;
    }
    for (size_t i = 0; i < out_need; i++) {
        out[i] = tmp[i];
    }
    cardea_mem__free_secret(tmp, out_need);
    *out_len = out_need;
    return CARDEA_OK;
}

cardea_err
cardea_base32__decode_alloc(uint8_t **out, size_t *out_len, const char *in,
                            size_t in_len)
{
    size_t len = unpadded_len(in, in_len);
    uint8_t *bytes;

    if (len == SIZE_MAX) {
        return CARDEA_EFORMAT;
    }
    if ((bytes = cardea_mem__alloc(len * 5 / 8)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if (!decode_chars(bytes, in, len)) {
        cardea_mem__free_secret(bytes, len * 5 / 8);
        return CARDEA_EFORMAT;
    }
    *out = bytes;
    *out_len = len * 5 / 8;
    return CARDEA_OK;
}
