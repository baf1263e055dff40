/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Login rate limiting: counts failed logins per key (a login name or a
 * client address) in fixed windows. Keys are stored as SHA-256 digests
 * in a 4-way set-associative table of fixed size, so memory stays
 * bounded whatever an attacker sends; a full set evicts its entry with
 * the oldest window.
 */
#include <pthread.h>
#include <string.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "server/server_internal.h"

#define SET_COUNT 1024
#define WAYS 4

typedef struct slot {
    uint8_t digest[CARDEA_SHA256_LEN];
    int64_t window_start_ms;
    unsigned failures;
    bool used;
} slot;

struct cardea_ratelimit {
    pthread_mutex_t lock;
    unsigned max;
    int64_t window_ms;
    slot slots[SET_COUNT][WAYS];
};

cardea_err
cardea_ratelimit__new(cardea_ratelimit **out, unsigned max, unsigned window_s)
{
    cardea_ratelimit *limits = cardea_mem__calloc(1, sizeof *limits);

    if (limits == NULL) {
        return CARDEA_ENOMEM;
    }
    pthread_mutex_init(&limits->lock, NULL);
    limits->max = max;
    limits->window_ms = (int64_t)window_s * 1000;
    *out = limits;
    return CARDEA_OK;
}

void
cardea_ratelimit__free(cardea_ratelimit *limits)
{
    if (limits == NULL) {
        return;
    }
    pthread_mutex_destroy(&limits->lock);
    cardea_mem__free(limits);
}

/* Finds the slot of `digest`, or NULL; the caller holds the lock. */
static slot *
find_slot(cardea_ratelimit *limits, const uint8_t *digest, bool create,
          int64_t now_ms)
{
    size_t set = ((size_t)digest[0] << 8 | digest[1]) % SET_COUNT;
    slot *ways = limits->slots[set];
    slot *victim = &ways[0];

    for (size_t i = 0; i < WAYS; i++) {
        if (ways[i].used
            && memcmp(ways[i].digest, digest, CARDEA_SHA256_LEN) == 0) {
            return &ways[i];
        }
        if (!ways[i].used
            || (victim->used
                && ways[i].window_start_ms < victim->window_start_ms)) {
            victim = &ways[i];
        }
    }
    if (!create) {
        return NULL;
    }
    memcpy(victim->digest, digest, CARDEA_SHA256_LEN);
    victim->window_start_ms = now_ms;
    victim->failures = 0;
    victim->used = true;
    return victim;
}

bool
cardea_ratelimit__blocked(cardea_ratelimit *limits, const char *key,
                          int64_t now_ms)
{
    uint8_t digest[CARDEA_SHA256_LEN];
    bool blocked = false;
    slot *entry;

    if (limits->max == 0) {
        return false;
    }
    cardea_hash__sha256(digest, key, strlen(key));
    pthread_mutex_lock(&limits->lock);
    entry = find_slot(limits, digest, false, now_ms);
    if (entry != NULL && now_ms - entry->window_start_ms < limits->window_ms) {
        blocked = entry->failures >= limits->max;
    }
    pthread_mutex_unlock(&limits->lock);
    return blocked;
}

void
cardea_ratelimit__fail(cardea_ratelimit *limits, const char *key,
                       int64_t now_ms)
{
    uint8_t digest[CARDEA_SHA256_LEN];
    slot *entry;

    cardea_hash__sha256(digest, key, strlen(key));
    pthread_mutex_lock(&limits->lock);
    entry = find_slot(limits, digest, true, now_ms);
    if (now_ms - entry->window_start_ms >= limits->window_ms) {
        entry->window_start_ms = now_ms;
        entry->failures = 0;
    }
    if (entry->failures < UINT32_MAX) {
        entry->failures++;
    }
    pthread_mutex_unlock(&limits->lock);
}

void
cardea_ratelimit__reset(cardea_ratelimit *limits, const char *key)
{
    uint8_t digest[CARDEA_SHA256_LEN];
    slot *entry;

    cardea_hash__sha256(digest, key, strlen(key));
    pthread_mutex_lock(&limits->lock);
    entry = find_slot(limits, digest, false, 0);
    if (entry != NULL) {
        entry->used = false;
    }
    pthread_mutex_unlock(&limits->lock);
}
