/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allocator hook, secure wipe and constant-time comparison. Every
 * allocation of the library goes through cardea_mem__alloc so tests can
 * inject failures; jansson is pointed at the same functions.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static void *
default_malloc(size_t size, void *user)
{
    (void)user;
    return malloc(size);
}

static void *
default_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    return realloc(ptr, size);
}

static void
default_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

static cardea_allocator current = {
    default_malloc, default_realloc, default_free, NULL};

static void *
json_malloc(size_t size)
{
    return cardea_mem__alloc(size);
}

/* see cardea/common.h */
void
cardea_set_allocator(const cardea_allocator *allocator)
{
    if (allocator == NULL) {
        current.malloc_fn = default_malloc;
        current.realloc_fn = default_realloc;
        current.free_fn = default_free;
        current.user = NULL;
    } else {
        current = *allocator;
    }
    json_set_alloc_funcs(json_malloc, cardea_mem__free);
}

void *
cardea_mem__alloc(size_t size)
{
    /* malloc(0) may return NULL, which callers would take for a failure. */
    return current.malloc_fn(size == 0 ? 1 : size, current.user);
}

void *
cardea_mem__calloc(size_t count, size_t size)
{
    size_t total;
    void *ptr;

    if (!cardea_size__mul(&total, count, size)) {
        return NULL;
    }
    ptr = cardea_mem__alloc(total);
    if (ptr != NULL) {
        memset(ptr, 0, total == 0 ? 1 : total);
    }
    return ptr;
}

void *
cardea_mem__realloc(void *ptr, size_t size)
{
    return current.realloc_fn(ptr, size == 0 ? 1 : size, current.user);
}

void
cardea_mem__free(void *ptr)
{
    if (ptr != NULL) {
        current.free_fn(ptr, current.user);
    }
}

/* see cardea/common.h */
void
cardea_free(void *ptr)
{
    cardea_mem__free(ptr);
}

void
cardea_mem__free_secret(void *ptr, size_t len)
{
    if (ptr != NULL) {
        cardea_wipe(ptr, len);
        cardea_mem__free(ptr);
    }
}

char *
cardea_mem__strdup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    return cardea_mem__strndup(s, strlen(s));
}

char *
cardea_mem__strndup(const char *s, size_t len)
{
    char *copy;
    size_t total;

    if (s == NULL || !cardea_size__add(&total, len, 1)) {
        return NULL;
    }
    copy = cardea_mem__alloc(total);
    if (copy != NULL) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

void *
cardea_mem__memdup(const void *ptr, size_t len)
{
    void *copy = cardea_mem__alloc(len);

    if (copy != NULL && len > 0) {
        memcpy(copy, ptr, len);
    }
    return copy;
}

/* see cardea/common.h */
void
cardea_wipe(void *ptr, size_t len)
{
    if (ptr != NULL && len > 0) {
        explicit_bzero(ptr, len);
    }
}

/* see cardea/common.h */
int
cardea_ct_equal(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t diff = 0;

    for (size_t i = 0; i < len; i++) {
        diff |= (uint8_t)(x[i] ^ y[i]);
    }
    /* Maps 0 to 1 and any non-zero byte to 0 without a branch. */
    return (int)(1 & ((uint32_t)(diff - 1) >> 8));
}
