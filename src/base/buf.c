/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer with a hard maximum, for anything built from
 * untrusted input. Once an append fails the buffer stays failed, so a
 * caller can append in a row and check once at the end.
 */
#include <string.h>

#include "base/base.h"

void
cardea_buf__init(cardea_buf *buf, size_t max)
{
    memset(buf, 0, sizeof *buf);
    buf->max = max == 0 ? SIZE_MAX : max;
}

static cardea_err
grow(cardea_buf *buf, size_t need)
{
    size_t cap = buf->cap == 0 ? 64 : buf->cap;
    uint8_t *data;

    while (cap < need) {
        if (!cardea_size__mul(&cap, cap, 2)) {
            cap = need;
            break;
        }
    }
    if (cap > buf->max) {
        cap = buf->max;
    }
    data = cardea_mem__realloc(buf->data, cap);
    if (data == NULL) {
        return CARDEA_ENOMEM;
    }
    buf->data = data;
    buf->cap = cap;
    return CARDEA_OK;
}

cardea_err
cardea_buf__append(cardea_buf *buf, const void *data, size_t len)
{
    size_t need;
    cardea_err err;

    if (buf->failed) {
        return CARDEA_ESTATE;
    }
    /* One spare byte so take_str never has to grow. */
    if (!cardea_size__add(&need, buf->len, len) ||
        !cardea_size__add(&need, need, 1) || need > buf->max) {
        buf->failed = true;
        return CARDEA_ETOOBIG;
    }
    if (need > buf->cap && (err = grow(buf, need)) != CARDEA_OK) {
        buf->failed = true;
        return err;
    }
    if (len > 0) {
        memcpy(buf->data + buf->len, data, len);
    }
    buf->len += len;
    return CARDEA_OK;
}

cardea_err
cardea_buf__append_str(cardea_buf *buf, const char *s)
{
    return cardea_buf__append(buf, s, strlen(s));
}

void
cardea_buf__free(cardea_buf *buf, bool secret)
{
    if (secret) {
        cardea_mem__free_secret(buf->data, buf->cap);
    } else {
        cardea_mem__free(buf->data);
    }
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

cardea_err
cardea_buf__take_str(char **out, cardea_buf *buf)
{
    cardea_err err;

    if (buf->failed) {
        return CARDEA_ESTATE;
    }
    if (buf->data == NULL && (err = grow(buf, 1)) != CARDEA_OK) {
        return err;
    }
    buf->data[buf->len] = '\0';
    *out = (char *)buf->data;
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return CARDEA_OK;
}
