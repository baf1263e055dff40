/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transfer keys of the user's own data owner, as @icure/cardinal-sdk
 * keeps them. transferKeys[sourceFpV1][targetFpV1] contains the PKCS#8 of
 * the target private key, AES-encrypted with the exchange key of the
 * user's self-to-self exchange data, which is encrypted for the source
 * key. A new device that has one verified key therefore recovers the
 * others when the session opens. Keys recovered this way only decrypt
 * until verified. Only verified keys become sources: a key the server
 * planted on the user's data owner never receives the self exchange
 * data, so it never reaches a private key.
 */
#include <stdio.h>
#include <string.h>

#include "format/transfer_key.h"
#include "sdk/exchange.h"

/* Self-to-self exchange data tried when recovering. */
#define TRANSFER_XD_MAX 64

void
cardea_sdk__transferred_free(cardea_sdk_transferred *keys, size_t count)
{
    for (size_t i = 0; i < count && keys != NULL; i++) {
        cardea_mem__free(keys[i].spki_hex);
        cardea_rsa__free(keys[i].key);
    }
    cardea_mem__free(keys);
}

/* GET exchangedata/byDelegatorDelegate/{self}/{self}. */
static cardea_err
fetch_self_xds(json_t **out, cardea_session *session)
{
    char *self = NULL;
    char path[600];
    cardea_err err;

    err = cardea_sdk__escape_segment(&self, cardea_sdk__self(session)->id);
    if (err != CARDEA_OK) {
        return err;
    }
    if ((size_t)snprintf(path, sizeof path,
                         "exchangedata/byDelegatorDelegate/%s/%s", self,
                         self) >= sizeof path) {
        cardea_mem__free(self);
        cardea_sdk__set_error(session, "data owner id too long for a "
                                       "request path");
        return CARDEA_EINVAL;
    }
    cardea_mem__free(self);
    err = cardea_sdk__request_json(out, session, "GET", path, NULL, NULL, 0);
    if (err == CARDEA_OK && !json_is_array(*out)) {
        json_decref(*out);
        cardea_sdk__set_error(session, "GET %s: answer is no array", path);
        return CARDEA_EFORMAT;
    }
    return err;
}

/* Keys the recovery may use: the held ones, then those found. */
typedef struct key_pool {
    cardea_owner_key *keys;
    size_t count;
    cardea_sdk_transferred *found;
    size_t found_count;
    /* Exchange keys of the self exchange data, once decrypted. */
    cardea_exchange_content *xd_keys[TRANSFER_XD_MAX];
    size_t xd_count;
} key_pool;

static void
pool_free(key_pool *pool)
{
    for (size_t i = 0; i < pool->xd_count; i++) {
        cardea_exchange_data__content_free(pool->xd_keys[i]);
    }
    cardea_mem__free(pool->keys);
    cardea_sdk__transferred_free(pool->found, pool->found_count);
}

/* Decrypts the exchange keys that the pool's keys open. `done[i]` marks
 * the exchange data already decrypted. */
static cardea_err
open_self_xds(key_pool *pool, const json_t *xds, bool *done)
{
    size_t n = json_array_size(xds);

    for (size_t i = 0; i < n && i < TRANSFER_XD_MAX; i++) {
        cardea_exchange_content *content = NULL;
        cardea_err err;

        if (done[i]) {
            continue;
        }
        if ((err = cardea_exchange_data__content_empty(&content)) !=
            CARDEA_OK) {
            return err;
        }
        err = cardea_exchange_data__decrypt_secret(
            content, json_array_get(xds, i), CARDEA_EXCHANGE_SECRET_KEY,
            pool->keys, pool->count);
        if (err == CARDEA_OK) {
            pool->xd_keys[pool->xd_count++] = content;
            done[i] = true;
        } else {
            cardea_exchange_data__content_free(content);
        }
        if (err == CARDEA_ENOMEM) {
            return err;
        }
    }
    return CARDEA_OK;
}

/* Tries every blob for `spki` with every decrypted exchange key. */
static cardea_rsa_key *
open_blob(const key_pool *pool, const json_t *transfer_keys,
          const char *spki)
{
    char target[CARDEA_FP_V1_LEN + 1];
    const char *source;
    json_t *ignored;

    if (cardea_fp__v1(target, spki, strlen(spki)) != CARDEA_OK) {
        return NULL;
    }
    json_object_foreach((json_t *)transfer_keys, source, ignored) {
        const char *blob =
            cardea_transfer_key__find(transfer_keys, source, target);

        for (size_t i = 0; blob != NULL && i < pool->xd_count; i++) {
            const cardea_exchange_content *c = pool->xd_keys[i];
            cardea_rsa_key *key = NULL;

            if (cardea_transfer_key__decrypt(&key, c->exchange_key,
                                             c->exchange_key_len, blob,
                                             spki) == CARDEA_OK) {
                return key;
            }
        }
    }
    return NULL;
}

/* Adds a found key to the pool, as a key that may open more. */
static cardea_err
pool_add(key_pool *pool, cardea_rsa_key *key, const char *spki)
{
    cardea_sdk_transferred *found;
    cardea_owner_key *keys;
    char *copy = cardea_mem__strdup(spki);

    found = cardea_mem__realloc(pool->found,
                                (pool->found_count + 1) * sizeof *found);
    if (found != NULL) {
        pool->found = found;
    }
    keys = cardea_mem__realloc(pool->keys, (pool->count + 1) * sizeof *keys);
    if (keys != NULL) {
        pool->keys = keys;
    }
    if (copy == NULL || found == NULL || keys == NULL) {
        cardea_mem__free(copy);
        cardea_rsa__free(key);
        return CARDEA_ENOMEM;
    }
    pool->found[pool->found_count].spki_hex = copy;
    pool->found[pool->found_count].key = key;
    pool->found_count++;
    /* NOTE: a found key is assumed to be published for OAEP-SHA-256, as
     * every key the official SDK creates is. A legacy OAEP-SHA-1 key found
     * here opens no further self exchange data in this pass. */
    pool->keys[pool->count].key = key;
    pool->keys[pool->count].oaep = CARDEA_RSA_OAEP_SHA256;
    pool->keys[pool->count].spki_hex = copy;
    pool->count++;
    return CARDEA_OK;
}

/* see sdk/sdk.h */
cardea_err
cardea_sdk__transfer_recover(cardea_sdk_transferred **out, size_t *count,
                             cardea_session *session,
                             const cardea_owner_key *held, size_t held_count,
                             const char *const *missing,
                             size_t missing_count)
{
    const json_t *transfer_keys =
        json_object_get(cardea_sdk__self(session)->stub, "transferKeys");
    bool done[TRANSFER_XD_MAX] = {false};
    bool *got = NULL;
    json_t *xds = NULL;
    key_pool pool;
    bool progress = true;
    cardea_err err;

    memset(&pool, 0, sizeof pool);
    if (!json_is_object(transfer_keys) || json_object_size(transfer_keys) == 0
        || missing_count == 0) {
        *out = NULL;
        *count = 0;
        return CARDEA_OK;
    }
    pool.keys = cardea_mem__memdup(held, held_count * sizeof *held);
    got = cardea_mem__calloc(missing_count, sizeof *got);
    if ((pool.keys == NULL && held_count > 0) || got == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    pool.count = held_count;
    if ((err = fetch_self_xds(&xds, session)) != CARDEA_OK) {
        goto out;
    }
    /* Each round that makes progress finds at least one key, so there
     * are at most missing_count + 1 rounds. */
    for (size_t round = 0; progress && round <= missing_count; round++) {
        progress = false;
        if ((err = open_self_xds(&pool, xds, done)) != CARDEA_OK) {
            goto out;
        }
        for (size_t i = 0; i < missing_count; i++) {
            cardea_rsa_key *key;

            if (got[i] ||
                (key = open_blob(&pool, transfer_keys, missing[i])) == NULL) {
                continue;
            }
            if ((err = pool_add(&pool, key, missing[i])) != CARDEA_OK) {
                goto out;
            }
            got[i] = true;
            progress = true;
        }
    }
    *out = pool.found;
    *count = pool.found_count;
    pool.found = NULL;
    pool.found_count = 0;

out:
    if (err == CARDEA_ENOMEM) {
        cardea_sdk__set_error(session, "out of memory");
    }
    pool_free(&pool);
    cardea_mem__free(got);
    json_decref(xds);
    return err;
}

/* ---- creating transfer keys --------------------------------------------- */

/* What one update adds: sources, targets and the blobs. */
typedef struct transfer_plan {
    cardea_sdk_pubkey *pubs;       /* published by the user */
    size_t pub_count;
    bool *source;                  /* per pub: verified */
    json_t *edges;                 /* {sourceFp: {targetFp: blob}} */
    size_t edge_count;
} transfer_plan;

static void
plan_free(transfer_plan *plan)
{
    cardea_sdk__pubkeys_free(plan->pubs, plan->pub_count);
    cardea_mem__free(plan->source);
    json_decref(plan->edges);
}

/* Marks the verified published keys: safe held keys, and keys that the
 * key store records as verified even when they are not held. */
static cardea_err
plan_sources(transfer_plan *plan, cardea_session *session)
{
    const cardea_sdk_owner *self = cardea_sdk__self(session);
    json_t *map = NULL;
    cardea_err err;

    err = cardea_sdk__stub_pubkeys(&plan->pubs, &plan->pub_count, self->stub);
    if (err == CARDEA_OK) {
        err = cardea_keystore__load_verification(
            &map, session->keystore, self->id, session->errmsg,
            sizeof session->errmsg);
    }
    if (err != CARDEA_OK) {
        return err;
    }
    plan->source = cardea_mem__calloc(plan->pub_count + 1,
                                      sizeof *plan->source);
    if (plan->source == NULL) {
        json_decref(map);
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < plan->pub_count; i++) {
        const cardea_sdk_key *held = cardea_sdk__find_key(
            session, self->id, plan->pubs[i].fp_v1);

        plan->source[i] =
            (held != NULL && cardea_sdk__key_is_safe(held)) ||
            json_is_true(json_object_get(map, plan->pubs[i].fp_v1));
    }
    json_decref(map);
    return CARDEA_OK;
}

/* Lists the missing edges, from each source to each held key. */
static cardea_err
plan_edges(transfer_plan *plan, cardea_session *session)
{
    const cardea_sdk_owner *self = cardea_sdk__self(session);
    const json_t *existing = json_object_get(self->stub, "transferKeys");
    size_t self_index = session->owner_count - 1;

    if ((plan->edges = json_object()) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t t = 0; t < session->key_count; t++) {
        const cardea_sdk_key *target = &session->keys[t];

        if (target->owner != self_index) {
            continue;
        }
        for (size_t s = 0; s < plan->pub_count; s++) {
            const char *source = plan->pubs[s].fp_v1;

            if (!plan->source[s] || strcmp(source, target->fp_v1) == 0 ||
                (json_is_object(existing) &&
                 cardea_transfer_key__find(existing, source,
                                           target->fp_v1) != NULL)) {
                continue;
            }
            /* The blob is filled in once the exchange key is known. */
            if (cardea_transfer_key__put(plan->edges, source, target->fp_v1,
                                         "") != CARDEA_OK) {
                return CARDEA_ENOMEM;
            }
            plan->edge_count++;
        }
    }
    return CARDEA_OK;
}

/* Extends the self exchange data `xd` to the source keys it lacks. */
static cardea_err
extend_self_xd(cardea_session *session, const cardea_sdk_xd *xd,
               const transfer_plan *plan, bool *changed)
{
    const json_t *map = json_object_get(xd->json, "exchangeKey");
    cardea_owner_key *added = NULL;
    cardea_owner_key *signers = NULL;
    cardea_rsa_key **owned = NULL;
    size_t added_count = 0;
    size_t signer_count = 0;
    json_t *updated = NULL;
    cardea_err err = CARDEA_OK;

    added = cardea_mem__calloc(plan->pub_count + 1, sizeof *added);
    owned = cardea_mem__calloc(plan->pub_count + 1, sizeof *owned);
    if (added == NULL || owned == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < plan->pub_count && err == CARDEA_OK; i++) {
        char fp[CARDEA_FP_V2_LEN + 1];
        const char *spki = plan->pubs[i].spki_hex;

        if (!plan->source[i] ||
            cardea_fp__v1_to_v2(fp, plan->pubs[i].fp_v1) != CARDEA_OK ||
            cardea_exchange_data__fp_map_find(map, fp) != NULL) {
            continue;
        }
        err = cardea_rsa__from_spki_hex(&owned[added_count], spki,
                                        strlen(spki));
        if (err == CARDEA_OK) {
            added[added_count].key = owned[added_count];
            added[added_count].oaep = plan->pubs[i].oaep;
            added[added_count].spki_hex = spki;
            added_count++;
        }
    }
    if (err != CARDEA_OK || added_count == 0) {
        goto out;
    }
    err = cardea_sdk__safe_keys(&signers, &signer_count, session);
    if (err == CARDEA_OK) {
        err = cardea_exchange_data__update(
            &updated, xd->json, xd->content, added, added_count,
            cardea_sdk__self(session)->id, signers, signer_count);
    }
    if (err == CARDEA_OK) {
        err = cardea_sdk__request_json(NULL, session, "PUT", "exchangedata",
                                       updated, NULL, 0);
    }
    if (err == CARDEA_OK) {
        *changed = true;
    }

out:
    for (size_t i = 0; owned != NULL && i < added_count; i++) {
        cardea_rsa__free(owned[i]);
    }
    cardea_mem__free(owned);
    cardea_mem__free(added);
    cardea_mem__free(signers);
    json_decref(updated);
    return err;
}

/* Encrypts each planned target with the self exchange key. */
static cardea_err
fill_blobs(transfer_plan *plan, cardea_session *session,
           const cardea_exchange_content *content)
{
    const char *source;
    json_t *targets;

    json_object_foreach(plan->edges, source, targets) {
        const char *target;
        json_t *ignored;

        json_object_foreach(targets, target, ignored) {
            const cardea_sdk_key *key = cardea_sdk__find_key(
                session, cardea_sdk__self(session)->id, target);
            char *blob = NULL;
            cardea_err err;

            if (key == NULL) {
                return CARDEA_ENOKEY;
            }
            err = cardea_transfer_key__encrypt(
                &blob, content->exchange_key, content->exchange_key_len,
                key->key);
            if (err == CARDEA_OK &&
                json_object_set_new(targets, target, json_string(blob)) != 0) {
                err = CARDEA_ENOMEM;
            }
            cardea_mem__free(blob);
            if (err != CARDEA_OK) {
                return err;
            }
        }
    }
    return CARDEA_OK;
}

/* Stub edit: merges the planned blobs into transferKeys. */
static cardea_err
merge_edges(json_t *stub, const void *arg)
{
    const json_t *edges = arg;
    json_t *transfer_keys = json_object_get(stub, "transferKeys");
    const char *source;
    json_t *targets;

    if (!json_is_object(transfer_keys)) {
        if ((transfer_keys = json_object()) == NULL ||
            json_object_set_new(stub, "transferKeys", transfer_keys) != 0) {
            return CARDEA_ENOMEM;
        }
    }
    json_object_foreach((json_t *)edges, source, targets) {
        const char *target;
        json_t *blob;

        json_object_foreach(targets, target, blob) {
            cardea_err err = cardea_transfer_key__put(
                transfer_keys, source, target, json_string_value(blob));

            if (err != CARDEA_OK) {
                return err;
            }
        }
    }
    return CARDEA_OK;
}

/* Gets the verified self exchange data, extends it, fills the blobs. */
static cardea_err
encrypt_edges(transfer_plan *plan, cardea_session *session)
{
    const cardea_sdk_party *self = NULL;
    const cardea_sdk_xd *xd = NULL;
    bool changed = false;
    cardea_err err;

    err = cardea_sdk__party(&self, session, cardea_sdk__self(session)->id);
    if (err == CARDEA_OK) {
        err = cardea_sdk__xd_to(&xd, session, self);
    }
    if (err == CARDEA_OK) {
        err = fill_blobs(plan, session, xd->content);
    }
    if (err == CARDEA_OK) {
        err = extend_self_xd(session, xd, plan, &changed);
    }
    if (err == CARDEA_OK && changed) {
        /* The cached copy of the exchange data has a stale rev now. */
        err = cardea_sdk__xd_reload(session);
    }
    return err;
}

static bool
holds_safe_key(const cardea_session *session)
{
    for (size_t i = 0; i < session->key_count; i++) {
        if (session->keys[i].owner == session->owner_count - 1 &&
            cardea_sdk__key_is_safe(&session->keys[i])) {
            return true;
        }
    }
    return false;
}

/* see sdk/sdk.h */
cardea_err
cardea_sdk__transfer_update(cardea_session *session)
{
    transfer_plan plan;
    cardea_err err;

    memset(&plan, 0, sizeof plan);
    if (!holds_safe_key(session)) {
        return CARDEA_OK;
    }
    if ((err = plan_sources(&plan, session)) == CARDEA_OK) {
        err = plan_edges(&plan, session);
    }
    if (err == CARDEA_OK && plan.edge_count > 0) {
        err = encrypt_edges(&plan, session);
        if (err == CARDEA_OK) {
            err = cardea_sdk__put_stub(session, session->owner_count - 1,
                                       merge_edges, plan.edges);
        }
        if (err == CARDEA_OK) {
            cardea_sdk__log(session, CARDEA_LOG_INFO,
                            "created %zu transfer key(s)", plan.edge_count);
        }
    }
    if (err == CARDEA_ENOMEM) {
        cardea_sdk__set_error(session, "out of memory");
    }
    plan_free(&plan);
    return err;
}
