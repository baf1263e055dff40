/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cache of verified access tokens, so that a client sending the same
 * bearer token on every request does not pay for libjwt's base64 and JSON
 * decoding and the HMAC each time. An entry maps the SHA-256 of the
 * token text to the caller its claims named and to its `exp` claim. Only
 * a token that passed cardea_token__verify is stored, and a lookup checks
 * `exp` plus the grace period against the request time exactly as the
 * verification does, so a cached token is rejected from the same second
 * on. The table is 4-way set-associative with a fixed size and one lock
 * per set. A full set evicts the entry that expires first.
 */
#include <pthread.h>
#include <string.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "server/server_internal.h"

#define SET_COUNT 256
#define WAYS 4

typedef struct entry {
    uint8_t digest[CARDEA_SHA256_LEN];
    int64_t exp_s;
    cardea_caller caller;
    bool used;
} entry;

typedef struct set {
    pthread_mutex_t lock;
    entry ways[WAYS];
} set;

struct cardea_tokencache {
    set sets[SET_COUNT];
};

cardea_err
cardea_tokencache__new(cardea_tokencache **out)
{
    cardea_tokencache *cache;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    if ((cache = cardea_mem__calloc(1, sizeof *cache)) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < SET_COUNT; i++) {
        pthread_mutex_init(&cache->sets[i].lock, NULL);
    }
    *out = cache;
    return CARDEA_OK;
}

static void
entry_clear(entry *e)
{
    cardea_caller__clear(&e->caller);
    memset(e, 0, sizeof *e);
}

void
cardea_tokencache__free(cardea_tokencache *cache)
{
    if (cache == NULL) {
        return;
    }
    for (size_t i = 0; i < SET_COUNT; i++) {
        for (size_t w = 0; w < WAYS; w++) {
            entry_clear(&cache->sets[i].ways[w]);
        }
        pthread_mutex_destroy(&cache->sets[i].lock);
    }
    cardea_mem__free(cache);
}

void
cardea_tokencache__digest(uint8_t out[CARDEA_SHA256_LEN], const char *token)
{
    cardea_hash__sha256(out, token, strlen(token));
}

static set *
set_of(cardea_tokencache *cache, const uint8_t digest[CARDEA_SHA256_LEN])
{
    return &cache->sets[((size_t)digest[0] | (size_t)digest[1] << 8)
                        % SET_COUNT];
}

/* True while a token with `exp_s` is still accepted at `now_s`. */
static bool
still_valid(int64_t exp_s, int64_t now_s, unsigned grace_s)
{
    return exp_s + (int64_t)grace_s >= now_s;
}

cardea_err
cardea_tokencache__get(cardea_caller *out, cardea_tokencache *cache,
                       const uint8_t digest[CARDEA_SHA256_LEN],
                       int64_t now_s, unsigned grace_s)
{
    set *s = set_of(cache, digest);
    cardea_err err = CARDEA_ENOTFOUND;

    pthread_mutex_lock(&s->lock);
    for (size_t w = 0; w < WAYS; w++) {
        entry *e = &s->ways[w];

        /* The digest stands for a bearer token, so compare it as one. */
        if (!e->used
            || !cardea_ct_equal(e->digest, digest, CARDEA_SHA256_LEN)) {
            continue;
        }
        if (!still_valid(e->exp_s, now_s, grace_s)) {
            entry_clear(e);
            break;
        }
        err = cardea_caller__copy(out, &e->caller);
        break;
    }
    pthread_mutex_unlock(&s->lock);
    return err;
}

/* The way to overwrite: a free one, else the one expiring first. */
static entry *
victim(set *s)
{
    entry *best = &s->ways[0];

    for (size_t w = 0; w < WAYS; w++) {
        entry *e = &s->ways[w];

        if (!e->used) {
            return e;
        }
        if (e->exp_s < best->exp_s) {
            best = e;
        }
    }
    return best;
}

void
cardea_tokencache__put(cardea_tokencache *cache,
                       const uint8_t digest[CARDEA_SHA256_LEN],
                       const cardea_caller *caller, int64_t exp_s)
{
    set *s = set_of(cache, digest);
    cardea_caller copy;
    entry *e;

    /* Copy outside the lock; without memory the token is just not kept. */
    if (cardea_caller__copy(&copy, caller) != CARDEA_OK) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    e = NULL;
    for (size_t w = 0; w < WAYS && e == NULL; w++) {
        if (s->ways[w].used
            && cardea_ct_equal(s->ways[w].digest, digest,
                               CARDEA_SHA256_LEN)) {
            e = &s->ways[w];
        }
    }
    if (e == NULL) {
        e = victim(s);
    }
    entry_clear(e);
    memcpy(e->digest, digest, CARDEA_SHA256_LEN);
    e->exp_s = exp_s;
    e->caller = copy;
    e->used = true;
    pthread_mutex_unlock(&s->lock);
}
