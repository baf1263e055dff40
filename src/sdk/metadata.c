/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening the sharing metadata of an entity: finding the delegations the
 * user can decrypt and collecting their secret ids, entity keys and
 * owning entity ids. An anonymous user finds a delegation's exchange data
 * by its key (sdKey) in its full cache. An explicit user looks for
 * delegations that name a member of its hierarchy: with an exchangeDataId
 * it fetches that exchange data, without one it reads the id from the
 * ExchangeDataMap stored under the sdKey. Legacy metadata (delegations,
 * encryptionKeys, cryptedForeignKeys) is read too, never written.
 */
#include <string.h>

#include "format/legacy.h"
#include "sdk/exchange.h"

/* Legacy delegators whose exchange keys one entity may need. */
#define LEGACY_MAX_DELEGATORS 64

/* ---- string sets -------------------------------------------------------- */

bool
cardea_sdk__strings_has(const cardea_sdk_strings *set, const char *s)
{
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(set->items[i], s) == 0) {
            return true;
        }
    }
    return false;
}

cardea_err
cardea_sdk__strings_add(cardea_sdk_strings *set, const char *s)
{
    char **items;
    char *copy;

    if (cardea_sdk__strings_has(set, s)) {
        return CARDEA_OK;
    }
    items = cardea_mem__realloc(set->items, (set->count + 1) * sizeof *items);
    if (items == NULL) {
        return CARDEA_ENOMEM;
    }
    set->items = items;
    if ((copy = cardea_mem__strdup(s)) == NULL) {
        return CARDEA_ENOMEM;
    }
    set->items[set->count++] = copy;
    return CARDEA_OK;
}

void
cardea_sdk__strings_free(cardea_sdk_strings *set, bool secret)
{
    for (size_t i = 0; i < set->count; i++) {
        if (secret) {
            cardea_mem__free_secret(set->items[i], strlen(set->items[i]));
        } else {
            cardea_free(set->items[i]);
        }
    }
    cardea_free(set->items);
    set->items = NULL;
    set->count = 0;
}

static cardea_err
add_all(cardea_sdk_strings *set, char *const *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        cardea_err err = cardea_sdk__strings_add(set, items[i]);

        if (err != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

void
cardea_sdk__access_free(cardea_sdk_access *access)
{
    json_decref(access->entity);
    cardea_sdk__strings_free(&access->sdkeys, false);
    cardea_sdk__strings_free(&access->secret_ids, false);
    cardea_sdk__strings_free(&access->keys_hex, true);
    cardea_sdk__strings_free(&access->owning_ids, false);
    if (access->keys != NULL) {
        cardea_wipe(access->keys, access->key_count * sizeof *access->keys);
        cardea_free(access->keys);
    }
    memset(access, 0, sizeof *access);
}

/* ---- small helpers ------------------------------------------------------ */

cardea_err
cardea_sdk__dump(char **out, cardea_session *session, const json_t *value)
{
    char *text = cardea_json__dump(value);

    if (text == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    *out = text;
    return CARDEA_OK;
}

cardea_err
cardea_sdk__entity_path(char **out, cardea_session *session, int kind,
                        const char *suffix, const char *id)
{
    cardea_buf buf;
    char *escaped = NULL;
    cardea_err err = CARDEA_OK;

    cardea_buf__init(&buf, 0);
    if (id != NULL) {
        err = cardea_sdk__escape_segment(&escaped, id);
    }
    if (err == CARDEA_OK) {
        err = cardea_buf__append_str(&buf, cardea_sdk__kind_path(kind));
    }
    if (err == CARDEA_OK && escaped != NULL) {
        err = cardea_buf__append_str(&buf, "/");
        if (err == CARDEA_OK) {
            err = cardea_buf__append_str(&buf, escaped);
        }
    }
    if (err == CARDEA_OK && suffix != NULL) {
        err = cardea_buf__append_str(&buf, suffix);
    }
    if (err == CARDEA_OK) {
        err = cardea_buf__take_str(out, &buf);
    }
    cardea_buf__free(&buf, false);
    cardea_free(escaped);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "out of memory");
    }
    return err;
}

static bool
in_hierarchy(const cardea_session *session, const char *id)
{
    if (id == NULL) {
        return false;
    }
    for (size_t i = 0; i < session->owner_count; i++) {
        if (strcmp(session->owners[i].id, id) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- finding the exchange data of a delegation -------------------------- */

/* POST /exchangedatamap/batch for one sdKey, then decrypts the id. */
static cardea_err
id_from_map(char **out, cardea_session *session, const char *sdkey)
{
    json_t *body = json_pack("{s:[s]}", "ids", sdkey);
    json_t *maps = NULL;
    cardea_owner_key *keys = NULL;
    size_t key_count = 0;
    cardea_err err;

    if (body == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    err = cardea_sdk__request_json(&maps, session, "POST",
                                   "exchangedatamap/batch", body, NULL, 0);
    json_decref(body);
    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_sdk__decryption_keys(&keys, &key_count, session);
    if (err == CARDEA_OK) {
        const json_t *ids = json_object_get(json_array_get(maps, 0),
                                            "encryptedExchangeDataIds");

        err = ids == NULL ? CARDEA_ENOTFOUND
                          : cardea_exchange_data__decrypt_id(out, ids, keys,
                                                             key_count);
    }
    cardea_free(keys);
    json_decref(maps);
    return err;
}

/* The exchange data that opens delegation `sdkey`, or NULL. */
static cardea_err
delegation_xd(const cardea_sdk_xd **out, cardea_session *session, int kind,
              const char *sdkey, const json_t *delegation)
{
    cardea_sdk_xstate *state = session->ext;
    const char *xd_id = cardea_json__get_str(delegation, "exchangeDataId");
    char *mapped = NULL;
    cardea_err err;

    *out = cardea_sdk__xd_by_sdkey(session, kind, sdkey);
    if (*out != NULL || state->full) {
        return CARDEA_OK;
    }
    if (!in_hierarchy(session, cardea_json__get_str(delegation, "delegator"))
        && !in_hierarchy(session,
                         cardea_json__get_str(delegation, "delegate"))) {
        return CARDEA_OK;
    }
    if (xd_id == NULL) {
        err = id_from_map(&mapped, session, sdkey);
        if (err == CARDEA_ENOMEM) {
            return err;
        }
        if (err != CARDEA_OK) {
            cardea_sdk__log(session, CARDEA_LOG_DEBUG,
                            "no exchange-data id for delegation %s: %s",
                            sdkey, cardea_strerror(err));
            return CARDEA_OK;
        }
        xd_id = mapped;
    }
    err = cardea_sdk__xd_by_id(out, session, xd_id);
    if (err == CARDEA_OK && mapped != NULL) {
        /* Lets later reads find it by sdKey instead of the map. */
        err = cardea_sdk__xd_need_ackeys(session, *out);
    }
    if (err != CARDEA_OK && err != CARDEA_ENOMEM) {
        cardea_sdk__log(session, CARDEA_LOG_DEBUG,
                        "exchange data %s of delegation %s unusable: %s",
                        xd_id, sdkey, cardea_strerror(err));
        *out = NULL;
        err = CARDEA_OK;
    }
    cardea_free(mapped);
    return err;
}

static cardea_err
open_delegation(cardea_sdk_access *out, cardea_session *session, int kind,
                const char *sdkey, const json_t *delegation)
{
    const cardea_sdk_xd *xd = NULL;
    cardea_delegation_plain plain = {0};
    cardea_err err;

    err = delegation_xd(&xd, session, kind, sdkey, delegation);
    if (err != CARDEA_OK || xd == NULL) {
        return err;
    }
    err = cardea_delegation__decrypt_values(
        &plain, delegation, xd->content->exchange_key,
        xd->content->exchange_key_len);
    if (err != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_DEBUG,
                        "delegation %s does not open: %s", sdkey,
                        cardea_strerror(err));
        return err == CARDEA_ENOMEM ? err : CARDEA_OK;
    }
    err = cardea_sdk__strings_add(&out->sdkeys, sdkey);
    if (err == CARDEA_OK) {
        err = add_all(&out->secret_ids, plain.secret_ids,
                      plain.secret_ids_len);
    }
    if (err == CARDEA_OK) {
        err = add_all(&out->keys_hex, plain.encryption_keys,
                      plain.encryption_keys_len);
    }
    if (err == CARDEA_OK) {
        err = add_all(&out->owning_ids, plain.owning_entity_ids,
                      plain.owning_entity_ids_len);
    }
    cardea_delegation__plain_free(&plain);
    return err;
}

/* ---- legacy metadata ---------------------------------------------------- */

/* Owners of the legacy delegations listed under the hierarchy's ids. */
static cardea_err
legacy_delegators(cardea_sdk_strings *out, cardea_session *session,
                  const json_t *entity)
{
    static const char *const fields[] = {"delegations", "encryptionKeys",
                                         "cryptedForeignKeys"};

    for (size_t f = 0; f < 3; f++) {
        const json_t *map = json_object_get(entity, fields[f]);

        for (size_t o = 0; o < session->owner_count && json_is_object(map);
             o++) {
            const json_t *list = json_object_get(map, session->owners[o].id);
            const json_t *item;
            size_t index;

            json_array_foreach(list, index, item) {
                const char *owner = cardea_json__get_str(item, "owner");
                cardea_err err;

                if (owner == NULL || out->count >= LEGACY_MAX_DELEGATORS) {
                    continue;
                }
                if ((err = cardea_sdk__strings_add(out, owner)) != CARDEA_OK) {
                    return err;
                }
            }
        }
    }
    return CARDEA_OK;
}

/* Legacy exchange keys from `delegator` to any member of the hierarchy. */
static cardea_err
legacy_exchange_keys(cardea_legacy_keys *out, cardea_session *session,
                     const char *delegator, const cardea_owner_key *keys,
                     size_t key_count)
{
    json_t *fetched = NULL;
    const json_t *stub = NULL;
    cardea_data_owner_type type;
    cardea_err err = CARDEA_OK;

    for (size_t i = 0; i < session->owner_count; i++) {
        if (strcmp(session->owners[i].id, delegator) == 0) {
            stub = session->owners[i].stub;
        }
    }
    if (stub == NULL) {
        err = cardea_sdk__fetch_stub(&fetched, &type, session, delegator);
        if (err != CARDEA_OK) {
            return err == CARDEA_ENOMEM ? err : CARDEA_OK;
        }
        stub = json_object_get(fetched, "stub");
    }
    for (size_t o = 0; o < session->owner_count && err != CARDEA_ENOMEM;
         o++) {
        const char *delegate = session->owners[o].id;

        err = cardea_legacy__decrypt_aes_exchange_keys(
            out, json_object_get(stub, "aesExchangeKeys"), delegate, keys,
            key_count);
        if (err != CARDEA_ENOMEM) {
            err = cardea_legacy__decrypt_hcparty_key(
                out, json_object_get(stub, "hcPartyKeys"), delegate,
                strcmp(delegate, delegator) == 0 ? 0 : 1, keys, key_count);
        }
    }
    json_decref(fetched);
    return err == CARDEA_ENOMEM ? err : CARDEA_OK;
}

static cardea_err
legacy_values(cardea_sdk_strings *out, const json_t *entity,
              const char *field, const char **ids, size_t id_count,
              const cardea_legacy_keys *xkeys)
{
    cardea_legacy_values values = {0};
    cardea_err err;

    err = cardea_legacy__decrypt_field(&values, entity, field, ids, id_count,
                                       xkeys);
    if (err == CARDEA_OK) {
        err = add_all(out, values.items, values.count);
    }
    cardea_legacy__values_free(&values);
    return err;
}

static cardea_err
legacy_keys_hex(cardea_sdk_access *out, const json_t *entity,
                const char **ids, size_t id_count,
                const cardea_legacy_keys *xkeys)
{
    cardea_legacy_keys keys;
    cardea_err err;

    cardea_legacy__keys_init(&keys);
    err = cardea_legacy__entity_keys(&keys, entity, ids, id_count, xkeys,
                                     out->keys_hex.count > 0);
    for (size_t i = 0; i < keys.count && err == CARDEA_OK; i++) {
        char hex[2 * CARDEA_AES256_KEY_LEN + 1];

        err = cardea_hex__encode(hex, sizeof hex, keys.items[i].bytes,
                                 keys.items[i].len);
        if (err == CARDEA_OK) {
            err = cardea_sdk__strings_add(&out->keys_hex, hex);
        }
        cardea_wipe(hex, sizeof hex);
    }
    cardea_legacy__keys_free(&keys);
    return err;
}

static cardea_err
open_legacy(cardea_sdk_access *out, cardea_session *session)
{
    cardea_sdk_strings delegators = {0};
    cardea_legacy_keys xkeys;
    cardea_owner_key *keys = NULL;
    size_t key_count = 0;
    const char **ids = NULL;
    cardea_err err;

    cardea_legacy__keys_init(&xkeys);
    err = legacy_delegators(&delegators, session, out->entity);
    if (err != CARDEA_OK || delegators.count == 0) {
        goto out;
    }
    if ((err = cardea_sdk__decryption_keys(&keys, &key_count, session))
        != CARDEA_OK) {
        goto out;
    }
    for (size_t i = 0; i < delegators.count && err == CARDEA_OK; i++) {
        err = legacy_exchange_keys(&xkeys, session, delegators.items[i], keys,
                                   key_count);
    }
    ids = cardea_mem__calloc(session->owner_count, sizeof *ids);
    if (err != CARDEA_OK || xkeys.count == 0 || ids == NULL) {
        err = err == CARDEA_OK && ids == NULL ? CARDEA_ENOMEM : err;
        goto out;
    }
    for (size_t i = 0; i < session->owner_count; i++) {
        ids[i] = session->owners[i].id;
    }
    err = legacy_values(&out->secret_ids, out->entity, "delegations", ids,
                        session->owner_count, &xkeys);
    if (err == CARDEA_OK) {
        err = legacy_values(&out->owning_ids, out->entity,
                            "cryptedForeignKeys", ids, session->owner_count,
                            &xkeys);
    }
    if (err == CARDEA_OK) {
        err = legacy_keys_hex(out, out->entity, ids, session->owner_count,
                              &xkeys);
    }

out:
    cardea_free(ids);
    cardea_free(keys);
    cardea_legacy__keys_free(&xkeys);
    cardea_sdk__strings_free(&delegators, false);
    return err;
}

/* ---- opening an entity -------------------------------------------------- */

static cardea_err
parse_keys(cardea_sdk_access *out)
{
    if (out->keys_hex.count == 0) {
        return CARDEA_OK;
    }
    out->keys = cardea_mem__calloc(out->keys_hex.count, sizeof *out->keys);
    if (out->keys == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < out->keys_hex.count; i++) {
        const char *hex = out->keys_hex.items[i];

        if (cardea_entity_key__parse(&out->keys[out->key_count], hex,
                                     strlen(hex))
            == CARDEA_OK) {
            out->key_count++;
        }
    }
    return CARDEA_OK;
}

cardea_err
cardea_sdk__access_open(cardea_sdk_access *out, cardea_session *session,
                        int kind, json_t *entity)
{
    cardea_sdk_access access = {0};
    const json_t *delegations = json_object_get(
        json_object_get(entity, "securityMetadata"), "secureDelegations");
    const char *sdkey;
    json_t *delegation;
    cardea_err err = CARDEA_OK;

    access.entity = json_incref(entity);
    json_object_foreach((json_t *)delegations, sdkey, delegation) {
        err = open_delegation(&access, session, kind, sdkey, delegation);
        if (err != CARDEA_OK) {
            break;
        }
    }
    if (err == CARDEA_OK) {
        err = open_legacy(&access, session);
    }
    if (err == CARDEA_OK) {
        err = parse_keys(&access);
    }
    if (err == CARDEA_ENOMEM) {
        cardea_sdk__set_error(session, "out of memory");
    } else if (err == CARDEA_OK && access.key_count == 0) {
        cardea_sdk__set_error(session, "data owner %s can open no "
                              "delegation of %s %s",
                              cardea_sdk__self(session)->id,
                              cardea_sdk__kind_name(kind),
                              cardea_json__get_str(entity, "id") != NULL
                                  ? cardea_json__get_str(entity, "id")
                                  : "(no id)");
        err = CARDEA_EVERIFY;
    } else if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "opening the metadata of %s failed: "
                              "%s", cardea_sdk__kind_name(kind),
                              cardea_strerror(err));
    }
    if (err != CARDEA_OK) {
        cardea_sdk__access_free(&access);
        return err;
    }
    *out = access;
    return CARDEA_OK;
}

cardea_err
cardea_sdk__access_fetch(cardea_sdk_access *out, cardea_session *session,
                         int kind, const char *id)
{
    char *path = NULL;
    json_t *entity = NULL;
    cardea_err err;

    if ((err = cardea_sdk__entity_path(&path, session, kind, NULL, id))
        != CARDEA_OK) {
        return err;
    }
    err = cardea_sdk__entity_request(&entity, session, kind, "GET", path,
                                     NULL);
    cardea_free(path);
    if (err == CARDEA_OK && !json_is_object(entity)) {
        cardea_sdk__set_error(session, "GET %s %s: answer is no object",
                              cardea_sdk__kind_path(kind), id);
        err = CARDEA_EFORMAT;
    }
    if (err == CARDEA_OK) {
        err = cardea_sdk__access_open(out, session, kind, entity);
    }
    json_decref(entity);
    return err;
}

cardea_err
cardea_sdk__access_decrypt(json_t **out, cardea_session *session,
                           const cardea_sdk_access *access)
{
    cardea_err err = cardea_encrypted_self__decrypt(
        out, access->entity, access->keys, access->key_count);

    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "decrypting entity %s failed: %s",
                              cardea_json__get_str(access->entity, "id")
                                      != NULL
                                  ? cardea_json__get_str(access->entity, "id")
                                  : "(no id)",
                              cardea_strerror(err));
    }
    return err;
}

cardea_err
cardea_sdk__access_dump(char **out, cardea_session *session,
                        const cardea_sdk_access *access)
{
    json_t *plain = NULL;
    cardea_err err;

    err = cardea_sdk__access_decrypt(&plain, session, access);
    if (err == CARDEA_OK) {
        err = cardea_sdk__dump(out, session, plain);
    }
    json_decref(plain);
    return err;
}

cardea_err
cardea_sdk__entity_dump(char **out, cardea_session *session, int kind,
                        json_t *entity)
{
    cardea_sdk_access access = {0};
    cardea_err err;

    err = cardea_sdk__access_open(&access, session, kind, entity);
    if (err == CARDEA_OK) {
        err = cardea_sdk__access_dump(out, session, &access);
    }
    cardea_sdk__access_free(&access);
    return err;
}

cardea_err
cardea_sdk__exmap_put(cardea_session *session, const json_t *batch)
{
    json_t *body;
    char *text;
    cardea_err err;

    if (json_object_size(batch) == 0) {
        return CARDEA_OK;
    }
    body = json_pack("{s:O}", "batch", batch);
    text = body != NULL ? cardea_json__dump(body) : NULL;
    json_decref(body);
    if (text == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    err = cardea_sdk__request(NULL, NULL, session, "PUT",
                              "exchangedatamap/batch", NULL, 0, text,
                              strlen(text), NULL);
    cardea_free(text);
    return err;
}
