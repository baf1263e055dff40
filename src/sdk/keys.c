/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The private keys of the user and of its parents. At open and reload the
 * session loads the stored keys that the data owners still publish, calls
 * the strategies to recover missing keys and verify unknown ones, and
 * saves what they return. Keys recovered through the server decrypt but
 * encrypt nothing until verified; only verified keys and keys generated
 * on this device are safe for encryption. When the user has no safe key,
 * the strategies decide whether one is generated, imported or neither.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sdk/sdk.h"

/* Most pairs or statuses one recovery call may hand back. */
#define RECOVERY_MAX_ENTRIES 1024

typedef struct recovery_pair {
    char *pkcs8_hex;               /* secret */
    char *spki_hex;
} recovery_pair;

typedef struct recovery_status {
    char *spki_hex;
    cardea_key_status status;
} recovery_status;

struct cardea_key_recovery {
    recovery_pair *pairs;
    size_t pair_count;
    recovery_status *statuses;
    size_t status_count;
    /* The session asking, for cardea_key_recovery_use_recovery_key. */
    cardea_session *session;
};

struct cardea_key_generation {
    char *pkcs8_hex;               /* secret */
    char *spki_hex;
};

static void
free_secret_str(char *s)
{
    if (s != NULL) {
        cardea_mem__free_secret(s, strlen(s));
    }
}

/* see sdk/sdk.h */
char *
cardea_sdk__hex_lower_dup(const char *hex)
{
    size_t len = strlen(hex);
    char *copy;

    if ((copy = cardea_mem__strdup(hex)) == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (copy[i] >= 'A' && copy[i] <= 'F') {
            copy[i] = (char)(copy[i] - 'A' + 'a');
        }
    }
    return copy;
}

/* Lowercase copy of a non-empty hex string of even length, or NULL. */
static char *
hex_copy(const char *hex, cardea_err *err)
{
    size_t len = hex != NULL ? strlen(hex) : 0;
    char *copy;

    if (len == 0 || len % 2 != 0 || len > 4 * CARDEA_RSA_MAX_DER_LEN ||
        !cardea_hex__is_valid(hex, len)) {
        *err = CARDEA_EINVAL;
        return NULL;
    }
    if ((copy = cardea_sdk__hex_lower_dup(hex)) == NULL) {
        *err = CARDEA_ENOMEM;
    }
    return copy;
}

/* see cardea/strategies.h */
cardea_err
cardea_key_recovery_add_pair(cardea_key_recovery *result,
                             const char *pkcs8_hex, const char *spki_hex)
{
    recovery_pair pair;
    recovery_pair *grown;
    cardea_err err = CARDEA_OK;

    if (result == NULL) {
        return CARDEA_EINVAL;
    }
    if (result->pair_count >= RECOVERY_MAX_ENTRIES) {
        return CARDEA_ETOOBIG;
    }
    pair.pkcs8_hex = hex_copy(pkcs8_hex, &err);
    pair.spki_hex = pair.pkcs8_hex != NULL ? hex_copy(spki_hex, &err) : NULL;
    if (pair.spki_hex == NULL) {
        free_secret_str(pair.pkcs8_hex);
        return err;
    }
    grown = cardea_mem__realloc(result->pairs, (result->pair_count + 1) *
                                                   sizeof *grown);
    if (grown == NULL) {
        free_secret_str(pair.pkcs8_hex);
        cardea_mem__free(pair.spki_hex);
        return CARDEA_ENOMEM;
    }
    result->pairs = grown;
    result->pairs[result->pair_count++] = pair;
    return CARDEA_OK;
}

/* see cardea/strategies.h */
cardea_err
cardea_key_recovery_set_status(cardea_key_recovery *result,
                               const char *spki_hex, cardea_key_status status)
{
    recovery_status *grown;
    char *spki;
    cardea_err err = CARDEA_OK;

    if (result == NULL || status < CARDEA_KEY_VERIFIED ||
        status > CARDEA_KEY_TEMPORARILY_UNVERIFIED) {
        return CARDEA_EINVAL;
    }
    if ((spki = hex_copy(spki_hex, &err)) == NULL) {
        return err;
    }
    for (size_t i = 0; i < result->status_count; i++) {
        if (strcmp(result->statuses[i].spki_hex, spki) == 0) {
            result->statuses[i].status = status;
            cardea_mem__free(spki);
            return CARDEA_OK;
        }
    }
    if (result->status_count >= RECOVERY_MAX_ENTRIES) {
        cardea_mem__free(spki);
        return CARDEA_ETOOBIG;
    }
    grown = cardea_mem__realloc(result->statuses, (result->status_count + 1) *
                                                      sizeof *grown);
    if (grown == NULL) {
        cardea_mem__free(spki);
        return CARDEA_ENOMEM;
    }
    result->statuses = grown;
    result->statuses[result->status_count].spki_hex = spki;
    result->statuses[result->status_count].status = status;
    result->status_count++;
    return CARDEA_OK;
}

cardea_session *
cardea_sdk__key_recovery_session(const cardea_key_recovery *result)
{
    return result != NULL ? result->session : NULL;
}

static void
recovery_clear(cardea_key_recovery *result)
{
    for (size_t i = 0; i < result->pair_count; i++) {
        free_secret_str(result->pairs[i].pkcs8_hex);
        cardea_mem__free(result->pairs[i].spki_hex);
    }
    for (size_t i = 0; i < result->status_count; i++) {
        cardea_mem__free(result->statuses[i].spki_hex);
    }
    cardea_mem__free(result->pairs);
    cardea_mem__free(result->statuses);
    memset(result, 0, sizeof *result);
}

/* see cardea/strategies.h */
cardea_err
cardea_key_generation_set_pair(cardea_key_generation *result,
                               const char *pkcs8_hex, const char *spki_hex)
{
    char *pkcs8;
    char *spki;
    cardea_err err = CARDEA_OK;

    if (result == NULL) {
        return CARDEA_EINVAL;
    }
    pkcs8 = hex_copy(pkcs8_hex, &err);
    spki = pkcs8 != NULL ? hex_copy(spki_hex, &err) : NULL;
    if (spki == NULL) {
        free_secret_str(pkcs8);
        return err;
    }
    free_secret_str(result->pkcs8_hex);
    cardea_mem__free(result->spki_hex);
    result->pkcs8_hex = pkcs8;
    result->spki_hex = spki;
    return CARDEA_OK;
}

/* ---- the key set being loaded ------------------------------------------- */

typedef struct load_state {
    cardea_session *session;
    cardea_sdk_key *keys;
    size_t key_count;
    size_t key_cap;
    cardea_sdk_pubkey **pubs;      /* per owner */
    size_t *pub_counts;
    json_t **verified;             /* per owner: {fpV1: bool} */
    bool *dirty;                   /* per owner: map to save */
    const char **missing;          /* SPKIs, borrowed from pubs */
    size_t missing_count;
    const char **unknown;
    size_t unknown_count;
} load_state;

void
cardea_sdk__keys_free(cardea_sdk_key *keys, size_t count)
{
    for (size_t i = 0; i < count && keys != NULL; i++) {
        cardea_rsa__free(keys[i].key);
        cardea_mem__free(keys[i].spki_hex);
    }
    cardea_mem__free(keys);
}

static void
state_free(load_state *st, size_t owner_count)
{
    cardea_sdk__keys_free(st->keys, st->key_count);
    for (size_t i = 0; i < owner_count; i++) {
        if (st->pubs != NULL && st->pub_counts != NULL) {
            cardea_sdk__pubkeys_free(st->pubs[i], st->pub_counts[i]);
        }
        if (st->verified != NULL) {
            json_decref(st->verified[i]);
        }
    }
    cardea_mem__free(st->pubs);
    cardea_mem__free(st->pub_counts);
    cardea_mem__free(st->verified);
    cardea_mem__free(st->dirty);
    cardea_mem__free(st->missing);
    cardea_mem__free(st->unknown);
}

static cardea_err
oom(cardea_session *session)
{
    cardea_sdk__set_error(session, "out of memory while loading keys");
    return CARDEA_ENOMEM;
}

/* Reads the published keys and the verification map of every owner. */
static cardea_err
state_init(load_state *st, cardea_session *session)
{
    size_t n = session->owner_count;
    cardea_err err;

    memset(st, 0, sizeof *st);
    st->session = session;
    st->pubs = cardea_mem__calloc(n, sizeof *st->pubs);
    st->pub_counts = cardea_mem__calloc(n, sizeof *st->pub_counts);
    st->verified = cardea_mem__calloc(n, sizeof *st->verified);
    st->dirty = cardea_mem__calloc(n, sizeof *st->dirty);
    if (st->pubs == NULL || st->pub_counts == NULL || st->verified == NULL ||
        st->dirty == NULL) {
        return oom(session);
    }
    for (size_t i = 0; i < n; i++) {
        const cardea_sdk_owner *owner = &session->owners[i];

        err = cardea_sdk__stub_pubkeys(&st->pubs[i], &st->pub_counts[i],
                                       owner->stub);
        if (err != CARDEA_OK) {
            cardea_sdk__set_error(session, "data owner %s publishes a key "
                                           "both as OAEP-SHA-1 and as "
                                           "OAEP-SHA-256", owner->id);
            return err;
        }
        err = cardea_keystore__load_verification(
            &st->verified[i], session->keystore, owner->id, session->errmsg,
            sizeof session->errmsg);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

static cardea_err
push_spki(const char ***list, size_t *count, const char *spki)
{
    const char **grown = cardea_mem__realloc(*list, (*count + 1) *
                                                        sizeof *grown);

    if (grown == NULL) {
        return CARDEA_ENOMEM;
    }
    grown[(*count)++] = spki;
    *list = grown;
    return CARDEA_OK;
}

/* Adds a private key for the published key `pub` of owner `owner`. */
static cardea_err
add_key(load_state *st, size_t owner, const cardea_sdk_pubkey *pub,
        cardea_rsa_key *key, bool device, bool verified)
{
    cardea_sdk_key *k;

    if (st->key_count == st->key_cap) {
        size_t cap = st->key_cap == 0 ? 4 : st->key_cap * 2;
        cardea_sdk_key *grown =
            cardea_mem__realloc(st->keys, cap * sizeof *grown);

        if (grown == NULL) {
            return oom(st->session);
        }
        st->keys = grown;
        st->key_cap = cap;
    }
    k = &st->keys[st->key_count];
    memset(k, 0, sizeof *k);
    if ((k->spki_hex = cardea_mem__strdup(pub->spki_hex)) == NULL) {
        return oom(st->session);
    }
    k->owner = owner;
    memcpy(k->fp_v1, pub->fp_v1, sizeof k->fp_v1);
    if (cardea_fp__v1_to_v2(k->fp_v2, pub->fp_v1) != CARDEA_OK) {
        cardea_mem__free(k->spki_hex);
        return CARDEA_EFORMAT;
    }
    k->key = cardea_rsa__ref(key);
    k->oaep = pub->oaep;
    k->device = device;
    k->verified = verified;
    st->key_count++;
    return CARDEA_OK;
}

/*
 * Parses DER PKCS#8 and checks it is the private half of `spki_hex`.
 * CARDEA_EVERIFY when it is not.
 */
static cardea_err
parse_private(cardea_rsa_key **out, const uint8_t *der, size_t der_len,
              const char *spki_hex)
{
    cardea_rsa_key *priv = NULL;
    cardea_rsa_key *pub = NULL;
    cardea_err err;

    err = cardea_rsa__from_pkcs8(&priv, der, der_len);
    if (err == CARDEA_OK) {
        err = cardea_rsa__from_spki_hex(&pub, spki_hex, strlen(spki_hex));
    }
    if (err == CARDEA_OK && !cardea_rsa__same_public(priv, pub)) {
        err = CARDEA_EVERIFY;
    }
    cardea_rsa__free(pub);
    if (err != CARDEA_OK) {
        cardea_rsa__free(priv);
        return err;
    }
    *out = priv;
    return CARDEA_OK;
}

/* The saved verification result: 1 true, 0 false, -1 none. */
static int
saved_result(const load_state *st, size_t owner, const char *fp_v1)
{
    json_t *value = json_object_get(st->verified[owner], fp_v1);

    if (!json_is_boolean(value)) {
        return -1;
    }
    return json_is_true(value) ? 1 : 0;
}

/* Loads the stored key of one published key, or lists it as missing. */
static cardea_err
load_stored(load_state *st, size_t owner, const cardea_sdk_pubkey *pub)
{
    cardea_session *session = st->session;
    const char *id = session->owners[owner].id;
    cardea_keystore_kind kind;
    cardea_rsa_key *key = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    int saved;
    cardea_err err;

    err = cardea_keystore__load_key(&der, &der_len, &kind, session->keystore,
                                    id, pub->fp_v1, session->errmsg,
                                    sizeof session->errmsg);
    if (err == CARDEA_ENOTFOUND) {
        return push_spki(&st->missing, &st->missing_count, pub->spki_hex);
    }
    if (err != CARDEA_OK) {
        return err;
    }
    err = parse_private(&key, der, der_len, pub->spki_hex);
    cardea_mem__free_secret(der, der_len);
    if (err != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_WARN,
                        "stored key %s of %s does not match the published "
                        "key; ignored", pub->fp_v1, id);
        return push_spki(&st->missing, &st->missing_count, pub->spki_hex);
    }
    saved = saved_result(st, owner, pub->fp_v1);
    err = add_key(st, owner, pub, key, kind == CARDEA_KEYSTORE_DEVICE,
                  saved == 1);
    cardea_rsa__free(key);
    if (err == CARDEA_OK && kind != CARDEA_KEYSTORE_DEVICE && saved < 0) {
        err = push_spki(&st->unknown, &st->unknown_count, pub->spki_hex);
    }
    return err;
}

static cardea_err
load_all_stored(load_state *st)
{
    cardea_err err;

    for (size_t i = 0; i < st->session->owner_count; i++) {
        for (size_t j = 0; j < st->pub_counts[i]; j++) {
            if ((err = load_stored(st, i, &st->pubs[i][j])) != CARDEA_OK) {
                return err == CARDEA_ENOMEM ? oom(st->session) : err;
            }
        }
    }
    return CARDEA_OK;
}

/* Finds which owner publishes `spki`; false when none does. */
static bool
find_pub(size_t *owner, const cardea_sdk_pubkey **pub, const load_state *st,
         const char *spki)
{
    for (size_t i = 0; i < st->session->owner_count; i++) {
        for (size_t j = 0; j < st->pub_counts[i]; j++) {
            if (strcmp(st->pubs[i][j].spki_hex, spki) == 0) {
                *owner = i;
                *pub = &st->pubs[i][j];
                return true;
            }
        }
    }
    return false;
}

static cardea_sdk_key *
held_key(load_state *st, const char *spki)
{
    for (size_t i = 0; i < st->key_count; i++) {
        if (strcmp(st->keys[i].spki_hex, spki) == 0) {
            return &st->keys[i];
        }
    }
    return NULL;
}

static cardea_err
remember(load_state *st, size_t owner, const char *fp_v1, bool verified)
{
    if (json_object_set_new(st->verified[owner], fp_v1,
                            json_boolean(verified)) != 0) {
        return oom(st->session);
    }
    st->dirty[owner] = true;
    return CARDEA_OK;
}

/* Stores and adds one recovered pair; bad pairs are logged and skipped. */
static cardea_err
take_pair(load_state *st, const recovery_pair *pair)
{
    cardea_session *session = st->session;
    const cardea_sdk_pubkey *pub;
    cardea_sdk_key *held;
    cardea_rsa_key *key = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    size_t owner;
    cardea_err err;

    if (!find_pub(&owner, &pub, st, pair->spki_hex)) {
        cardea_sdk__log(session, CARDEA_LOG_WARN, "recovered key ...%s is "
                        "not published by the hierarchy; ignored",
                        pair->spki_hex + strlen(pair->spki_hex) - 32);
        return CARDEA_OK;
    }
    if ((held = held_key(st, pair->spki_hex)) != NULL) {
        held->verified = true;
        return remember(st, owner, pub->fp_v1, true);
    }
    err = cardea_hex__decode_alloc(&der, &der_len, pair->pkcs8_hex,
                                   strlen(pair->pkcs8_hex));
    if (err == CARDEA_OK) {
        err = parse_private(&key, der, der_len, pub->spki_hex);
    }
    if (err != CARDEA_OK) {
        cardea_mem__free_secret(der, der_len);
        cardea_sdk__log(session, CARDEA_LOG_WARN, "recovered key %s of %s "
                        "is no valid private key for it; ignored",
                        pub->fp_v1, session->owners[owner].id);
        return err == CARDEA_ENOMEM ? oom(session) : CARDEA_OK;
    }
    err = cardea_keystore__save_key(session->keystore,
                                    CARDEA_KEYSTORE_RECOVERED,
                                    session->owners[owner].id, pub->fp_v1,
                                    der, der_len, session->errmsg,
                                    sizeof session->errmsg);
    cardea_mem__free_secret(der, der_len);
    if (err == CARDEA_OK) {
        err = add_key(st, owner, pub, key, false, true);
    }
    cardea_rsa__free(key);
    if (err == CARDEA_OK) {
        err = remember(st, owner, pub->fp_v1, true);
    }
    return err;
}

static cardea_err
take_status(load_state *st, const recovery_status *status)
{
    const cardea_sdk_pubkey *pub;
    cardea_sdk_key *held;
    size_t owner;
    bool verified = status->status == CARDEA_KEY_VERIFIED;

    if (!find_pub(&owner, &pub, st, status->spki_hex)) {
        return CARDEA_OK;
    }
    if ((held = held_key(st, status->spki_hex)) != NULL) {
        held->verified = verified;
    }
    if (status->status == CARDEA_KEY_TEMPORARILY_UNVERIFIED) {
        return CARDEA_OK;
    }
    return remember(st, owner, pub->fp_v1, verified);
}

static cardea_err
hierarchy_info(cardea_data_owner_info **out, char ***texts,
               const cardea_session *session)
{
    size_t n = session->owner_count;
    cardea_data_owner_info *info = cardea_mem__calloc(n, sizeof *info);
    char **dumps = cardea_mem__calloc(n, sizeof *dumps);
    bool ok = info != NULL && dumps != NULL;

    for (size_t i = 0; ok && i < n; i++) {
        dumps[i] = cardea_json__dump(session->owners[i].stub);
        info[i].id = session->owners[i].id;
        info[i].type = session->owners[i].type;
        info[i].stub_json = dumps[i];
        ok = dumps[i] != NULL;
    }
    if (!ok) {
        for (size_t i = 0; dumps != NULL && i < n; i++) {
            cardea_mem__free(dumps[i]);
        }
        cardea_mem__free(dumps);
        cardea_mem__free(info);
        return CARDEA_ENOMEM;
    }
    *out = info;
    *texts = dumps;
    return CARDEA_OK;
}

/* Calls the strategies about missing and unknown keys and applies their
 * result. */
static cardea_err
recover(load_state *st)
{
    cardea_session *session = st->session;
    cardea_key_recovery result;
    cardea_data_owner_info *info = NULL;
    char **texts = NULL;
    cardea_err err;

    memset(&result, 0, sizeof result);
    result.session = session;
    if ((err = hierarchy_info(&info, &texts, session)) != CARDEA_OK) {
        return oom(session);
    }
    cardea_sdk__log(session, CARDEA_LOG_INFO,
                    "asking the strategies about %zu missing and %zu "
                    "unverified key(s)",
                    st->missing_count, st->unknown_count);
    err = session->strategies.recover_and_verify_keys(
        session->strategies.user, info, session->owner_count, st->missing,
        st->missing_count, st->unknown, st->unknown_count, &result);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "the strategies failed to recover "
                                       "and verify keys: %s",
                              cardea_strerror(err));
    }
    for (size_t i = 0; err == CARDEA_OK && i < result.pair_count; i++) {
        err = take_pair(st, &result.pairs[i]);
    }
    for (size_t i = 0; err == CARDEA_OK && i < result.status_count; i++) {
        err = take_status(st, &result.statuses[i]);
    }
    recovery_clear(&result);
    for (size_t i = 0; i < session->owner_count; i++) {
        cardea_mem__free(texts[i]);
    }
    cardea_mem__free(texts);
    cardea_mem__free(info);
    return err;
}

/* ---- transfer keys ------------------------------------------------------ */

/* Drops `spki` (compared by pointer) from the missing list. */
static void
drop_missing(load_state *st, const char *spki)
{
    for (size_t i = 0; i < st->missing_count; i++) {
        if (st->missing[i] == spki) {
            st->missing[i] = st->missing[--st->missing_count];
            return;
        }
    }
}

/* Stores and adds one key found through transfer keys. Such a key only
 * decrypts unless the key store records it as verified. */
static cardea_err
take_transferred(load_state *st, const cardea_sdk_transferred *found)
{
    cardea_session *session = st->session;
    const cardea_sdk_pubkey *pub;
    uint8_t *der = NULL;
    size_t der_len = 0;
    size_t owner;
    int saved;
    cardea_err err;

    if (!find_pub(&owner, &pub, st, found->spki_hex) ||
        held_key(st, found->spki_hex) != NULL) {
        return CARDEA_OK;
    }
    err = cardea_rsa__pkcs8_der(&der, &der_len, found->key);
    if (err == CARDEA_OK) {
        err = cardea_keystore__save_key(
            session->keystore, CARDEA_KEYSTORE_RECOVERED,
            session->owners[owner].id, pub->fp_v1, der, der_len,
            session->errmsg, sizeof session->errmsg);
    }
    cardea_mem__free_secret(der, der_len);
    saved = saved_result(st, owner, pub->fp_v1);
    if (err == CARDEA_OK) {
        err = add_key(st, owner, pub, found->key, false, saved == 1);
    }
    if (err != CARDEA_OK) {
        return err;
    }
    drop_missing(st, pub->spki_hex);
    cardea_sdk__log(session, CARDEA_LOG_INFO, "recovered key %s of %s "
                    "through transfer keys", pub->fp_v1,
                    session->owners[owner].id);
    if (saved < 0) {
        return push_spki(&st->unknown, &st->unknown_count, pub->spki_hex);
    }
    return CARDEA_OK;
}

/*
 * Recovers missing keys of the user's own data owner through its
 * transfer keys. Transfer keys are a convenience: a failed request is
 * logged and the open goes on without them.
 */
static cardea_err
transfer_pass(load_state *st)
{
    cardea_session *session = st->session;
    size_t self = session->owner_count - 1;
    cardea_owner_key *held = NULL;
    const char **missing = NULL;
    cardea_sdk_transferred *found = NULL;
    size_t held_count = 0;
    size_t missing_count = 0;
    size_t found_count = 0;
    cardea_err err = CARDEA_OK;

    held = cardea_mem__calloc(st->key_count + 1, sizeof *held);
    missing = cardea_mem__calloc(st->missing_count + 1, sizeof *missing);
    if (held == NULL || missing == NULL) {
        err = oom(session);
        goto out;
    }
    for (size_t i = 0; i < st->key_count; i++) {
        if (st->keys[i].owner == self) {
            held[held_count].key = st->keys[i].key;
            held[held_count].oaep = st->keys[i].oaep;
            held[held_count].spki_hex = st->keys[i].spki_hex;
            held_count++;
        }
    }
    for (size_t i = 0; i < st->missing_count; i++) {
        const cardea_sdk_pubkey *pub;
        size_t owner;

        if (find_pub(&owner, &pub, st, st->missing[i]) && owner == self) {
            missing[missing_count++] = pub->spki_hex;
        }
    }
    if (held_count == 0 || missing_count == 0) {
        goto out;
    }
    err = cardea_sdk__transfer_recover(&found, &found_count, session,
                                       held, held_count, missing,
                                       missing_count);
    if (err != CARDEA_OK && err != CARDEA_ENOMEM) {
        cardea_sdk__log(session, CARDEA_LOG_WARN, "transfer keys not "
                        "used: %s", session->errmsg);
        session->errmsg[0] = 0;
        err = CARDEA_OK;
    }
    for (size_t i = 0; i < found_count && err == CARDEA_OK; i++) {
        err = take_transferred(st, &found[i]);
    }

out:
    cardea_sdk__transferred_free(found, found_count);
    cardea_mem__free(held);
    cardea_mem__free(missing);
    return err;
}

/*
 * Asks the strategies, then tries the transfer keys again with the keys
 * they handed back, as the official SDK does. Keys found in that second
 * pass are put to the strategies once more, as unverified keys only.
 */
static cardea_err
recover_all(load_state *st)
{
    size_t before = st->key_count;
    cardea_err err;

    if (st->missing_count + st->unknown_count > 0 &&
        (err = recover(st)) != CARDEA_OK) {
        return err;
    }
    if (st->key_count == before || st->missing_count == 0) {
        return CARDEA_OK;
    }
    st->unknown_count = 0;
    if ((err = transfer_pass(st)) != CARDEA_OK) {
        return err;
    }
    if (st->unknown_count == 0) {
        return CARDEA_OK;
    }
    st->missing_count = 0;
    return recover(st);
}

static cardea_err
save_maps(load_state *st)
{
    cardea_session *session = st->session;
    cardea_err err;

    for (size_t i = 0; i < session->owner_count; i++) {
        if (!st->dirty[i]) {
            continue;
        }
        err = cardea_keystore__save_verification(
            session->keystore, session->owners[i].id, st->verified[i],
            session->errmsg, sizeof session->errmsg);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

static bool
has_safe_key(const load_state *st, size_t owner)
{
    for (size_t i = 0; i < st->key_count; i++) {
        if (st->keys[i].owner == owner &&
            cardea_sdk__key_is_safe(&st->keys[i])) {
            return true;
        }
    }
    return false;
}

/* ---- a new key for the user --------------------------------------------- */

/* Stub edit: appends the SPKI hex in `arg` to publicKeysForOaepWithSha256
 * unless it is there already. */
static cardea_err
append_sha256_key(json_t *stub, const void *arg)
{
    const char *spki = arg;
    json_t *list = json_object_get(stub, "publicKeysForOaepWithSha256");
    json_t *item;
    size_t i;

    if (!json_is_array(list)) {
        if ((list = json_array()) == NULL ||
            json_object_set_new(stub, "publicKeysForOaepWithSha256", list) !=
                0) {
            return CARDEA_ENOMEM;
        }
    }
    json_array_foreach(list, i, item) {
        if (json_is_string(item) &&
            strcasecmp(json_string_value(item), spki) == 0) {
            return CARDEA_OK;
        }
    }
    return cardea_json__append_new(list, json_string(spki));
}

/* Re-reads /dataowner/current after a stub change. */
static cardea_err
refresh_current(cardea_session *session)
{
    json_t *current = NULL;
    json_t *data_owner;
    cardea_err err;

    err = cardea_sdk__request_json(&current, session, "GET",
                                   "dataowner/current", NULL, NULL, 0);
    if (err != CARDEA_OK) {
        return err;
    }
    data_owner = json_object_get(current, "dataOwner");
    if (json_is_object(data_owner)) {
        json_decref(session->data_owner);
        session->data_owner = json_incref(data_owner);
    }
    json_decref(current);
    return CARDEA_OK;
}

/*
 * Stores `key` as a device key of the user, adds it to the set and
 * publishes its SPKI as an OAEP-SHA-256 key when the user does not yet.
 */
static cardea_err
install_device_key(load_state *st, cardea_rsa_key *key, const char *spki)
{
    cardea_session *session = st->session;
    size_t self = session->owner_count - 1;
    cardea_sdk_pubkey pub;
    const cardea_sdk_pubkey *published;
    size_t owner;
    uint8_t *der = NULL;
    size_t der_len = 0;
    cardea_err err;

    memset(&pub, 0, sizeof pub);
    pub.spki_hex = (char *)spki;
    pub.oaep = CARDEA_RSA_OAEP_SHA256;
    if (find_pub(&owner, &published, st, spki)) {
        pub.oaep = published->oaep;
    }
    if ((err = cardea_fp__v1(pub.fp_v1, spki, strlen(spki))) != CARDEA_OK ||
        (err = cardea_rsa__pkcs8_der(&der, &der_len, key)) != CARDEA_OK) {
        cardea_sdk__set_error(session, "cannot encode the new key: %s",
                              cardea_strerror(err));
        return err;
    }
    err = cardea_keystore__save_key(session->keystore, CARDEA_KEYSTORE_DEVICE,
                                    session->owners[self].id, pub.fp_v1, der,
                                    der_len, session->errmsg,
                                    sizeof session->errmsg);
    cardea_mem__free_secret(der, der_len);
    if (err == CARDEA_OK) {
        err = add_key(st, self, &pub, key, true, false);
    }
    if (err != CARDEA_OK || find_pub(&owner, &published, st, spki)) {
        return err;
    }
    err = cardea_sdk__put_stub(session, self, append_sha256_key, spki);
    if (err == CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_INFO,
                        "published new key %s of data owner %s", pub.fp_v1,
                        session->owners[self].id);
        err = refresh_current(session);
    }
    return err;
}

static cardea_err
generate_key(load_state *st)
{
    cardea_session *session = st->session;
    cardea_rsa_key *key = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *pkcs8_hex = NULL;
    char *spki_hex = NULL;
    cardea_err err;

    if ((err = cardea_rsa__generate(&key, CARDEA_RSA_DEFAULT_BITS)) !=
            CARDEA_OK ||
        (err = cardea_rsa__pkcs8_der(&der, &der_len, key)) != CARDEA_OK ||
        (err = cardea_hex__encode_alloc(&pkcs8_hex, der, der_len)) !=
            CARDEA_OK ||
        (err = cardea_rsa__spki_hex(&spki_hex, key)) != CARDEA_OK) {
        cardea_sdk__set_error(session, "cannot generate a key pair: %s",
                              cardea_strerror(err));
        goto out;
    }
    /* The application learns of the pair before anything depends on it. */
    err = session->strategies.notify_key_pair_generation(
        session->strategies.user, pkcs8_hex, spki_hex);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "notify_key_pair_generation failed "
                                       "(%s); the new key pair was "
                                       "discarded", cardea_strerror(err));
        goto out;
    }
    err = install_device_key(st, key, spki_hex);

out:
    cardea_mem__free_secret(der, der_len);
    free_secret_str(pkcs8_hex);
    cardea_mem__free(spki_hex);
    cardea_rsa__free(key);
    return err;
}

static cardea_err
import_key(load_state *st, const cardea_key_generation *pair)
{
    cardea_session *session = st->session;
    cardea_rsa_key *key = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    cardea_err err;

    if (pair->pkcs8_hex == NULL) {
        cardea_sdk__set_error(session, "generate_new_key_for_data_owner "
                                       "returned CARDEA_KEYGEN_USE_KEY_PAIR "
                                       "without a pair");
        return CARDEA_EINVAL;
    }
    err = cardea_hex__decode_alloc(&der, &der_len, pair->pkcs8_hex,
                                   strlen(pair->pkcs8_hex));
    if (err == CARDEA_OK) {
        err = parse_private(&key, der, der_len, pair->spki_hex);
    }
    cardea_mem__free_secret(der, der_len);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "the key pair from "
                                       "generate_new_key_for_data_owner is "
                                       "invalid or its halves do not match");
        return err == CARDEA_ENOMEM ? err : CARDEA_EINVAL;
    }
    err = install_device_key(st, key, pair->spki_hex);
    cardea_rsa__free(key);
    return err;
}

static cardea_err
ask_for_key(load_state *st)
{
    cardea_session *session = st->session;
    const cardea_sdk_owner *self = cardea_sdk__self(session);
    cardea_key_generation pair = {NULL, NULL};
    cardea_data_owner_info info;
    cardea_keygen_decision decision;
    cardea_err err;

    if (session->self_anonymous && session->owner_count > 1) {
        cardea_sdk__set_error(session, "data owner %s is anonymous and has "
                                       "parent %s: anonymous data owners "
                                       "with a hierarchy are not supported",
                              self->id, session->owners[0].id);
        return CARDEA_EUNSUPPORTED;
    }
    info.id = self->id;
    info.type = self->type;
    if ((info.stub_json = cardea_json__dump(self->stub)) == NULL) {
        return oom(session);
    }
    decision = session->strategies.generate_new_key_for_data_owner(
        session->strategies.user, &info, &pair);
    cardea_mem__free((char *)info.stub_json);

    switch (decision) {
    case CARDEA_KEYGEN_ALLOW:
        err = generate_key(st);
        break;
    case CARDEA_KEYGEN_USE_KEY_PAIR:
        err = import_key(st, &pair);
        break;
    case CARDEA_KEYGEN_KEYLESS:
        cardea_sdk__log(session, CARDEA_LOG_INFO, "data owner %s goes on "
                        "without a key", self->id);
        err = CARDEA_OK;
        break;
    case CARDEA_KEYGEN_DENY:
        cardea_sdk__set_error(session, "data owner %s has no verified key "
                                       "and the crypto strategies denied "
                                       "generating one; recover a key or "
                                       "allow key generation", self->id);
        err = CARDEA_EDENIED;
        break;
    case CARDEA_KEYGEN_USE_PARENT_KEYS:
        cardea_sdk__set_error(session, "data owner %s: acting with the "
                                       "parent's keys is not supported",
                              self->id);
        err = CARDEA_EUNSUPPORTED;
        break;
    default:
        cardea_sdk__set_error(session, "generate_new_key_for_data_owner "
                                       "returned unknown decision %d",
                              (int)decision);
        err = CARDEA_EINVAL;
        break;
    }
    free_secret_str(pair.pkcs8_hex);
    cardea_mem__free(pair.spki_hex);
    return err;
}

static cardea_err
check_parents(const load_state *st)
{
    for (size_t i = 0; i + 1 < st->session->owner_count; i++) {
        if (!has_safe_key(st, i)) {
            cardea_sdk__set_error(st->session,
                                  "parent data owner %s has no verified "
                                  "key; recover one of its keys or verify "
                                  "it through the crypto strategies",
                                  st->session->owners[i].id);
            return CARDEA_ENOKEY;
        }
    }
    return CARDEA_OK;
}

cardea_err
cardea_sdk__load_keys(cardea_session *session)
{
    load_state st;
    size_t owner_count;
    cardea_err err;

    if (session == NULL || session->owner_count == 0 ||
        session->keystore == NULL) {
        return CARDEA_EINVAL;
    }
    owner_count = session->owner_count;
    if ((err = state_init(&st, session)) != CARDEA_OK ||
        (err = load_all_stored(&st)) != CARDEA_OK ||
        (err = transfer_pass(&st)) != CARDEA_OK ||
        (err = recover_all(&st)) != CARDEA_OK) {
        goto out;
    }
    if ((err = save_maps(&st)) != CARDEA_OK ||
        (err = check_parents(&st)) != CARDEA_OK) {
        goto out;
    }
    if (!has_safe_key(&st, owner_count - 1) &&
        (err = ask_for_key(&st)) != CARDEA_OK) {
        goto out;
    }
    cardea_sdk__keys_free(session->keys, session->key_count);
    session->keys = st.keys;
    session->key_count = st.key_count;
    st.keys = NULL;
    st.key_count = 0;
    cardea_sdk__log(session, CARDEA_LOG_INFO, "%zu private key(s) loaded",
                    session->key_count);

out:
    state_free(&st, owner_count);
    return err;
}

const cardea_sdk_key *
cardea_sdk__find_key(const cardea_session *session, const char *owner_id,
                     const char *fingerprint)
{
    size_t len;

    if (session == NULL || fingerprint == NULL) {
        return NULL;
    }
    len = strlen(fingerprint);
    for (size_t i = 0; i < session->key_count; i++) {
        const cardea_sdk_key *k = &session->keys[i];
        bool match;

        if (owner_id != NULL &&
            strcmp(session->owners[k->owner].id, owner_id) != 0) {
            continue;
        }
        if (len == CARDEA_FP_V1_LEN) {
            match = strcasecmp(k->fp_v1, fingerprint) == 0;
        } else if (len == CARDEA_FP_V2_LEN) {
            match = strcasecmp(k->fp_v2, fingerprint) == 0;
        } else {
            match = strcasecmp(k->spki_hex, fingerprint) == 0;
        }
        if (match) {
            return k;
        }
    }
    return NULL;
}
