/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simple crypto strategies: anonymity by data-owner type, recovery
 * from key pairs the application preloads, key generation always
 * allowed (the generated pair is kept for the application to read), and
 * every delegate key trusted. They match the SimpleCryptoStrategies of
 * iCure's MedTech SDK, except that the anonymous types are an option.
 */
#include <string.h>
#include <strings.h>

#include "sdk/sdk.h"

#define SIMPLE_MAGIC 0x73696d70u /* "simp" */
#define ANONYMOUS_ALL \
    (CARDEA_ANONYMOUS_HCP | CARDEA_ANONYMOUS_PATIENT | CARDEA_ANONYMOUS_DEVICE)

typedef struct simple_pair {
    char *pkcs8_hex;               /* secret */
    char *spki_hex;
} simple_pair;

typedef struct simple_strategies {
    cardea_crypto_strategies public; /* first: the handle callers hold */
    unsigned magic;
    unsigned anonymous_types;
    simple_pair *available;
    size_t available_count;
    simple_pair generated;         /* empty until a pair is generated */
} simple_strategies;

static void
pair_clear(simple_pair *pair)
{
    if (pair->pkcs8_hex != NULL) {
        cardea_mem__free_secret(pair->pkcs8_hex, strlen(pair->pkcs8_hex));
    }
    cardea_mem__free(pair->spki_hex);
    pair->pkcs8_hex = NULL;
    pair->spki_hex = NULL;
}

static cardea_err
pair_copy(simple_pair *out, const char *pkcs8_hex, const char *spki_hex)
{
    if (pkcs8_hex == NULL || spki_hex == NULL ||
        !cardea_hex__is_valid(pkcs8_hex, strlen(pkcs8_hex)) ||
        !cardea_hex__is_valid(spki_hex, strlen(spki_hex)) ||
        pkcs8_hex[0] == 0 || spki_hex[0] == 0) {
        return CARDEA_EINVAL;
    }
    out->pkcs8_hex = cardea_mem__strdup(pkcs8_hex);
    out->spki_hex = cardea_mem__strdup(spki_hex);
    if (out->pkcs8_hex == NULL || out->spki_hex == NULL) {
        pair_clear(out);
        return CARDEA_ENOMEM;
    }
    return CARDEA_OK;
}

static unsigned
type_bit(cardea_data_owner_type type)
{
    switch (type) {
    case CARDEA_DATA_OWNER_HCP:
        return CARDEA_ANONYMOUS_HCP;
    case CARDEA_DATA_OWNER_PATIENT:
        return CARDEA_ANONYMOUS_PATIENT;
    case CARDEA_DATA_OWNER_DEVICE:
        return CARDEA_ANONYMOUS_DEVICE;
    default:
        return 0;
    }
}

static bool
simple_anonymous(void *user, const char *data_owner_id,
                 cardea_data_owner_type type)
{
    const simple_strategies *s = user;

    (void)data_owner_id;
    return (s->anonymous_types & type_bit(type)) != 0;
}

static const simple_pair *
available_for(const simple_strategies *s, const char *spki_hex)
{
    for (size_t i = 0; i < s->available_count; i++) {
        if (strcasecmp(s->available[i].spki_hex, spki_hex) == 0) {
            return &s->available[i];
        }
    }
    return NULL;
}

static cardea_err
simple_recover(void *user, const cardea_data_owner_info *hierarchy,
               size_t hierarchy_len, const char *const *missing_spkis,
               size_t missing_count, const char *const *unverified_spkis,
               size_t unverified_count, cardea_key_recovery *result)
{
    const simple_strategies *s = user;
    const simple_pair *pair;
    cardea_err err = CARDEA_OK;

    (void)hierarchy;
    (void)hierarchy_len;
    for (size_t i = 0; err == CARDEA_OK && i < missing_count; i++) {
        if ((pair = available_for(s, missing_spkis[i])) != NULL) {
            err = cardea_key_recovery_add_pair(result, pair->pkcs8_hex,
                                               pair->spki_hex);
        }
    }
    for (size_t i = 0; err == CARDEA_OK && i < unverified_count; i++) {
        if ((pair = available_for(s, unverified_spkis[i])) != NULL) {
            err = cardea_key_recovery_add_pair(result, pair->pkcs8_hex,
                                               pair->spki_hex);
        } else {
            err = cardea_key_recovery_set_status(
                result, unverified_spkis[i],
                CARDEA_KEY_TEMPORARILY_UNVERIFIED);
        }
    }
    return err;
}

static cardea_keygen_decision
simple_generate(void *user, const cardea_data_owner_info *self,
                cardea_key_generation *pair)
{
    (void)user;
    (void)self;
    (void)pair;
    return CARDEA_KEYGEN_ALLOW;
}

static cardea_err
simple_notify(void *user, const char *pkcs8_hex, const char *spki_hex)
{
    simple_strategies *s = user;
    simple_pair copy;
    cardea_err err;

    if ((err = pair_copy(&copy, pkcs8_hex, spki_hex)) != CARDEA_OK) {
        return err;
    }
    pair_clear(&s->generated);
    s->generated = copy;
    return CARDEA_OK;
}

static cardea_err
simple_verify_delegate(void *user, const char *delegate_id,
                       cardea_data_owner_type type, const char *const *spkis,
                       size_t spki_count, bool *accepted)
{
    (void)user;
    (void)delegate_id;
    (void)type;
    (void)spkis;
    for (size_t i = 0; i < spki_count; i++) {
        accepted[i] = true;
    }
    return CARDEA_OK;
}

/*
 * Returns the simple strategies behind `strategies`, or NULL for any
 * other strategies. The callback is compared first so that a foreign
 * struct is never read past its end.
 */
static const simple_strategies *
from_public(const cardea_crypto_strategies *strategies)
{
    const simple_strategies *s = (const simple_strategies *)strategies;

    if (strategies == NULL ||
        strategies->data_owner_requires_anonymous_delegation !=
            simple_anonymous ||
        strategies->user != (const void *)strategies) {
        return NULL;
    }
    return s->magic == SIMPLE_MAGIC ? s : NULL;
}

/* see cardea/strategies.h */
void
cardea_simple_strategies_free(cardea_crypto_strategies *strategies)
{
    simple_strategies *s = (simple_strategies *)from_public(strategies);

    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->available_count; i++) {
        pair_clear(&s->available[i]);
    }
    cardea_mem__free(s->available);
    pair_clear(&s->generated);
    s->magic = 0;
    cardea_mem__free(s);
}

/* see cardea/strategies.h */
cardea_err
cardea_simple_strategies_new(cardea_crypto_strategies **out,
                             const cardea_simple_strategies_options *opts)
{
    cardea_simple_strategies_options defaults =
        CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT;
    simple_strategies *s;
    cardea_err err = CARDEA_OK;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    if (opts == NULL) {
        opts = &defaults;
    }
    if (opts->version != CARDEA_SIMPLE_STRATEGIES_OPTIONS_VERSION ||
        (opts->anonymous_types & ~ANONYMOUS_ALL) != 0 ||
        (opts->available_keys == NULL && opts->available_key_count > 0)) {
        return CARDEA_EINVAL;
    }
    if ((s = cardea_mem__calloc(1, sizeof *s)) == NULL) {
        return CARDEA_ENOMEM;
    }
    s->magic = SIMPLE_MAGIC;
    s->anonymous_types = opts->anonymous_types;
    if (opts->available_key_count > 0) {
        s->available = cardea_mem__calloc(opts->available_key_count,
                                          sizeof *s->available);
        err = s->available == NULL ? CARDEA_ENOMEM : CARDEA_OK;
    }
    for (size_t i = 0; err == CARDEA_OK && i < opts->available_key_count;
         i++) {
        err = pair_copy(&s->available[i], opts->available_keys[i].pkcs8_hex,
                        opts->available_keys[i].spki_hex);
        s->available_count += err == CARDEA_OK ? 1 : 0;
    }
    s->public.version = CARDEA_CRYPTO_STRATEGIES_VERSION;
    s->public.user = s;
    s->public.data_owner_requires_anonymous_delegation = simple_anonymous;
    s->public.recover_and_verify_keys = simple_recover;
    s->public.generate_new_key_for_data_owner = simple_generate;
    s->public.notify_key_pair_generation = simple_notify;
    s->public.verify_delegate_public_keys = simple_verify_delegate;
    if (err != CARDEA_OK) {
        cardea_simple_strategies_free(&s->public);
        return err;
    }
    *out = &s->public;
    return CARDEA_OK;
}

/* see cardea/strategies.h */
cardea_err
cardea_simple_strategies_generated_key_pair(
    char **pkcs8_hex, char **spki_hex,
    const cardea_crypto_strategies *strategies)
{
    const simple_strategies *s = from_public(strategies);
    char *pkcs8;
    char *spki;

    if (pkcs8_hex == NULL || spki_hex == NULL || s == NULL) {
        return CARDEA_EINVAL;
    }
    if (s->generated.pkcs8_hex == NULL) {
        return CARDEA_ENOTFOUND;
    }
    pkcs8 = cardea_mem__strdup(s->generated.pkcs8_hex);
    spki = cardea_mem__strdup(s->generated.spki_hex);
    if (pkcs8 == NULL || spki == NULL) {
        if (pkcs8 != NULL) {
            cardea_mem__free_secret(pkcs8, strlen(pkcs8));
        }
        cardea_mem__free(spki);
        return CARDEA_ENOMEM;
    }
    *pkcs8_hex = pkcs8;
    *spki_hex = spki;
    return CARDEA_OK;
}
