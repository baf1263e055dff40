/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Standard base64 (RFC 4648 section 4: A-Z a-z 0-9 + /, '=' padding), the
 * only flavour the iCure format uses. Decoding is strict: padding is
 * required, whitespace and URL-safe letters are rejected, and the unused
 * bits of the last group must be zero, so each byte string has exactly
 * one accepted text. The character mapping avoids table lookups indexed
 * by secret data.
 */
#include "base/base.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 1 when lo <= c <= hi, else 0, without a branch. */
static unsigned
in_range(unsigned c, unsigned lo, unsigned hi)
{
    return (((c - lo) | (hi - c)) >> 31) ^ 1u;
}

/* Value 0..63 of a base64 character, or 0x100 for anything else. */
static unsigned
char_value(unsigned char ch)
{
    unsigned c = ch;
    unsigned v = 0;
    unsigned ok = 0;
    unsigned m;

    m = in_range(c, 'A', 'Z');
    v |= (c - 'A') & (0u - m);
    ok |= m;
    m = in_range(c, 'a', 'z');
    v |= (c - 'a' + 26u) & (0u - m);
    ok |= m;
    m = in_range(c, '0', '9');
    v |= (c - '0' + 52u) & (0u - m);
    ok |= m;
    m = in_range(c, '+', '+');
    v |= 62u & (0u - m);
    ok |= m;
    m = in_range(c, '/', '/');
    v |= 63u & (0u - m);
    ok |= m;
    return v | ((ok ^ 1u) << 8);
}

size_t
cardea_base64__encoded_len(size_t in_len)
{
    return (in_len + 2) / 3 * 4;
}

cardea_err
cardea_base64__encode(char *out, size_t out_cap, const uint8_t *in,
                      size_t in_len)
{
    size_t o = 0;
    size_t i = 0;

    if (in_len > (SIZE_MAX - 3) / 4 * 3 - 3) {
        return CARDEA_EOVERFLOW;
    }
    if (out_cap < cardea_base64__encoded_len(in_len) + 1) {
        return CARDEA_ETOOBIG;
    }
    for (; i + 3 <= in_len; i += 3) {
        uint32_t n = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
                     in[i + 2];

        out[o++] = alphabet[(n >> 18) & 63];
        out[o++] = alphabet[(n >> 12) & 63];
        out[o++] = alphabet[(n >> 6) & 63];
        out[o++] = alphabet[n & 63];
    }
    if (in_len - i == 1) {
        uint32_t n = (uint32_t)in[i] << 16;

        out[o++] = alphabet[(n >> 18) & 63];
        out[o++] = alphabet[(n >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (in_len - i == 2) {
        uint32_t n = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

        out[o++] = alphabet[(n >> 18) & 63];
        out[o++] = alphabet[(n >> 12) & 63];
        out[o++] = alphabet[(n >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return CARDEA_OK;
}

cardea_err
cardea_base64__encode_alloc(char **out, const uint8_t *in, size_t in_len)
{
    size_t need;
    char *text;
    cardea_err err;

    if (in_len > (SIZE_MAX - 3) / 4 * 3 - 3) {
        return CARDEA_EOVERFLOW;
    }
    need = cardea_base64__encoded_len(in_len) + 1;
    if ((text = cardea_mem__alloc(need)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if ((err = cardea_base64__encode(text, need, in, in_len)) != CARDEA_OK) {
        cardea_mem__free(text);
        return err;
    }
    *out = text;
    return CARDEA_OK;
}

/* Number of decoded bytes, or SIZE_MAX when the text is malformed. */
static size_t
decoded_len(const char *in, size_t in_len)
{
    size_t pad = 0;

    if (in_len % 4 != 0) {
        return SIZE_MAX;
    }
    if (in_len > 0 && in[in_len - 1] == '=') {
        pad = (in_len > 1 && in[in_len - 2] == '=') ? 2 : 1;
    }
    return in_len / 4 * 3 - pad;
}

/*
 * Decodes into `out` (capacity already checked). Returns false on a bad
 * character, misplaced padding or non-zero trailing bits.
 */
static bool
decode_groups(uint8_t *out, const char *in, size_t in_len)
{
    unsigned bad = 0;
    size_t o = 0;

    for (size_t i = 0; i < in_len; i += 4) {
        bool last = i + 4 == in_len;
        size_t pad = 0;
        unsigned v[4];

        if (last && in[i + 3] == '=') {
            pad = in[i + 2] == '=' ? 2 : 1;
        }
        for (size_t k = 0; k < 4; k++) {
            v[k] = k < 4 - pad ? char_value((unsigned char)in[i + k]) : 0;
            bad |= v[k];
        }
        uint32_t n = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
        out[o++] = (uint8_t)(n >> 16);
        if (pad < 2) {
            out[o++] = (uint8_t)(n >> 8);
        }
        if (pad < 1) {
            out[o++] = (uint8_t)n;
        }
        if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) {
            return false;
        }
    }
    return (bad >> 8) == 0;
}

cardea_err
cardea_base64__decode(uint8_t *out, size_t out_cap, size_t *out_len,
                      const char *in, size_t in_len)
{
    size_t len = decoded_len(in, in_len);
    uint8_t *tmp;

    if (len == SIZE_MAX) {
        return CARDEA_EFORMAT;
    }
    if (out_cap < len) {
        return CARDEA_ETOOBIG;
    }
    /* Decode into scratch memory so `out` stays untouched on failure. */
    if ((tmp = cardea_mem__alloc(len)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if (!decode_groups(tmp, in, in_len)) {
        cardea_mem__free_secret(tmp, len);
        return CARDEA_EFORMAT;
    }
    for (size_t i = 0; i < len; i++) {
        out[i] = tmp[i];
    }
    cardea_mem__free_secret(tmp, len);
    *out_len = len;
    return CARDEA_OK;
}

cardea_err
cardea_base64__decode_alloc(uint8_t **out, size_t *out_len, const char *in,
                            size_t in_len)
{
    size_t len = decoded_len(in, in_len);
    uint8_t *bytes;

    if (len == SIZE_MAX) {
        return CARDEA_EFORMAT;
    }
    if ((bytes = cardea_mem__alloc(len)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if (!decode_groups(bytes, in, in_len)) {
        cardea_mem__free_secret(bytes, len);
        return CARDEA_EFORMAT;
    }
    *out = bytes;
    *out_len = len;
    return CARDEA_OK;
}
