/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decryption of legacy exchange keys and legacy entity metadata. Results
 * are gathered in a scratch set and merged into the caller's set only on
 * success, so outputs stay untouched when a call fails.
 */
#include "format/legacy.h"

#include <string.h>

#include "base/base.h"
#include "format/encrypted_self.h"
#include "format/transfer_key.h"

/* ---- key and value sets ----------------------------------------------- */

/* see format/legacy.h */
void
cardea_legacy__keys_init(cardea_legacy_keys *keys)
{
    keys->items = NULL;
    keys->count = 0;
    keys->cap = 0;
}

/* see format/legacy.h */
void
cardea_legacy__keys_free(cardea_legacy_keys *keys)
{
    if (keys == NULL) {
        return;
    }
    if (keys->items != NULL) {
        cardea_mem__free_secret(keys->items, keys->cap * sizeof *keys->items);
    }
    cardea_legacy__keys_init(keys);
}

static bool
keys_contain(const cardea_legacy_keys *keys, const uint8_t *key, size_t len)
{
    size_t i;

    for (i = 0; i < keys->count; i++) {
        if (keys->items[i].len == len &&
            cardea_ct_equal(keys->items[i].bytes, key, len)) {
            return true;
        }
    }
    return false;
}

/* see format/legacy.h */
cardea_err
cardea_legacy__keys_add(cardea_legacy_keys *keys, const uint8_t *key,
                        size_t len)
{
    cardea_legacy_key *grown;
    size_t cap;

    if (keys == NULL || key == NULL ||
        (len != CARDEA_AES128_KEY_LEN && len != CARDEA_AES256_KEY_LEN)) {
        return CARDEA_EINVAL;
    }
    if (keys_contain(keys, key, len)) {
        return CARDEA_OK;
    }
    if (keys->count == keys->cap) {
        if (keys->cap >= CARDEA_LEGACY_MAX_ITEMS) {
            return CARDEA_ETOOBIG;
        }
        /* Grow by copying, because realloc would leave keys unwiped. */
        cap = keys->cap == 0 ? 4 : 2 * keys->cap;
        grown = cardea_mem__calloc(cap, sizeof *grown);
        if (grown == NULL) {
            return CARDEA_ENOMEM;
        }
        if (keys->count > 0) {
            memcpy(grown, keys->items, keys->count * sizeof *grown);
            cardea_mem__free_secret(keys->items,
                                    keys->cap * sizeof *keys->items);
        }
        keys->items = grown;
        keys->cap = cap;
    }
    memcpy(keys->items[keys->count].bytes, key, len);
    keys->items[keys->count].len = len;
    keys->count++;
    return CARDEA_OK;
}

/* Adds every key of `from` to `into`, or leaves `into` unchanged. */
static cardea_err
merge_keys(cardea_legacy_keys *into, const cardea_legacy_keys *from)
{
    cardea_legacy_keys merged;
    size_t i;
    cardea_err err = CARDEA_OK;

    cardea_legacy__keys_init(&merged);
    for (i = 0; i < into->count && err == CARDEA_OK; i++) {
        err = cardea_legacy__keys_add(&merged, into->items[i].bytes,
                                      into->items[i].len);
    }
    for (i = 0; i < from->count && err == CARDEA_OK; i++) {
        err = cardea_legacy__keys_add(&merged, from->items[i].bytes,
                                      from->items[i].len);
    }
    if (err != CARDEA_OK) {
        cardea_legacy__keys_free(&merged);
        return err;
    }
    cardea_legacy__keys_free(into);
    *into = merged;
    return CARDEA_OK;
}

/* see format/legacy.h */
void
cardea_legacy__values_free(cardea_legacy_values *values)
{
    size_t i;

    if (values == NULL) {
        return;
    }
    for (i = 0; i < values->count; i++) {
        cardea_mem__free_secret(values->items[i],
                                strlen(values->items[i]) + 1);
    }
    cardea_mem__free(values->items);
    values->items = NULL;
    values->count = 0;
}

/* Takes ownership of `value` whether or not it is added. */
static cardea_err
values_add(cardea_legacy_values *values, char *value)
{
    char **grown;
    size_t i;

    for (i = 0; i < values->count; i++) {
        if (strcmp(values->items[i], value) == 0) {
            cardea_mem__free_secret(value, strlen(value) + 1);
            return CARDEA_OK;
        }
    }
    grown = values->count < CARDEA_LEGACY_MAX_ITEMS
                ? cardea_mem__realloc(values->items,
                                      (values->count + 1) * sizeof *grown)
                : NULL;
    if (grown == NULL) {
        cardea_mem__free_secret(value, strlen(value) + 1);
        return values->count < CARDEA_LEGACY_MAX_ITEMS ? CARDEA_ENOMEM
                                                       : CARDEA_ETOOBIG;
    }
    grown[values->count++] = value;
    values->items = grown;
    return CARDEA_OK;
}

/* ---- legacy exchange keys ------------------------------------------- */

/*
 * Decrypts hex(RSA-OAEP(raw AES key)) with one private key and adds the
 * result to `found`. CARDEA_EVERIFY when it does not decrypt to 16 or 32
 * bytes.
 */
static cardea_err
decrypt_exchange_key(cardea_legacy_keys *found, const cardea_owner_key *key,
                     const char *encrypted_hex)
{
    uint8_t *ct = NULL, *plain = NULL;
    size_t ct_len = 0, plain_len = 0;
    cardea_err err;

    err = cardea_hex__decode_alloc(&ct, &ct_len, encrypted_hex,
                                   strlen(encrypted_hex));
    if (err == CARDEA_OK) {
        err = cardea_rsa__decrypt(&plain, &plain_len, key->key, key->oaep, ct,
                                  ct_len);
    }
    if (err == CARDEA_OK) {
        err = cardea_legacy__keys_add(found, plain, plain_len);
    }
    cardea_mem__free(ct);
    if (plain != NULL) {
        cardea_mem__free_secret(plain, plain_len);
    }
    if (err != CARDEA_OK && err != CARDEA_ENOMEM && err != CARDEA_ETOOBIG) {
        err = CARDEA_EVERIFY;
    }
    return err;
}

/* see format/legacy.h */
cardea_err
cardea_legacy__decrypt_hcparty_key(cardea_legacy_keys *out,
                                   const json_t *hc_party_keys,
                                   const char *delegate_id, size_t index,
                                   const cardea_owner_key *keys,
                                   size_t keys_count)
{
    const char *encrypted;
    cardea_legacy_keys found;
    size_t i;
    cardea_err err = CARDEA_EVERIFY;

    if (out == NULL || delegate_id == NULL ||
        (keys == NULL && keys_count > 0)) {
        return CARDEA_EINVAL;
    }
    encrypted = json_string_value(json_array_get(
        json_object_get(hc_party_keys, delegate_id), index));
    if (encrypted == NULL || encrypted[0] == '\0') {
        return CARDEA_ENOTFOUND;
    }
    cardea_legacy__keys_init(&found);
    for (i = 0; i < keys_count && found.count == 0; i++) {
        if (keys[i].key == NULL) {
            continue;
        }
        err = decrypt_exchange_key(&found, &keys[i], encrypted);
        if (err == CARDEA_ENOMEM) {
            break;
        }
    }
    if (found.count > 0) {
        err = merge_keys(out, &found);
    } else if (err == CARDEA_OK) {
        err = CARDEA_EVERIFY;
    }
    cardea_legacy__keys_free(&found);
    return err;
}

/* True when `key` is the one `identifier` names, or it names none. */
static bool
identifier_names_key(const char *identifier, const cardea_owner_key *key)
{
    char wanted[CARDEA_FP_V1_LEN + 1], actual[CARDEA_FP_V1_LEN + 1];

    if (cardea_transfer_key__identifier(wanted, identifier) != CARDEA_OK) {
        return true;
    }
    return key->spki_hex != NULL &&
           cardea_transfer_key__identifier(actual, key->spki_hex) ==
               CARDEA_OK &&
           strcmp(wanted, actual) == 0;
}

/* Decrypts the entries of one {identifier: hex} map into `found`. */
static cardea_err
decrypt_identifier_map(cardea_legacy_keys *found, const json_t *map,
                       const cardea_owner_key *keys, size_t keys_count)
{
    const char *identifier;
    json_t *value;
    size_t i;
    cardea_err err;

    json_object_foreach((json_t *)map, identifier, value) {
        if (!json_is_string(value)) {
            continue;
        }
        for (i = 0; i < keys_count; i++) {
            if (keys[i].key == NULL ||
                !identifier_names_key(identifier, &keys[i])) {
                continue;
            }
            err = decrypt_exchange_key(found, &keys[i],
                                       json_string_value(value));
            if (err == CARDEA_ENOMEM || err == CARDEA_ETOOBIG) {
                return err;
            }
        }
    }
    return CARDEA_OK;
}

/* see format/legacy.h */
cardea_err
cardea_legacy__decrypt_aes_exchange_keys(cardea_legacy_keys *out,
                                         const json_t *aes_exchange_keys,
                                         const char *delegate_id,
                                         const cardea_owner_key *keys,
                                         size_t keys_count)
{
    const char *delegator_key;
    json_t *by_delegate, *map;
    cardea_legacy_keys found;
    bool has_entry = false;
    cardea_err err = CARDEA_OK;

    if (out == NULL || delegate_id == NULL ||
        (keys == NULL && keys_count > 0)) {
        return CARDEA_EINVAL;
    }
    cardea_legacy__keys_init(&found);
    json_object_foreach((json_t *)aes_exchange_keys, delegator_key,
                        by_delegate) {
        map = json_object_get(by_delegate, delegate_id);
        if (!json_is_object(map)) {
            continue;
        }
        has_entry = true;
        err = decrypt_identifier_map(&found, map, keys, keys_count);
        if (err != CARDEA_OK) {
            break;
        }
    }

    if (err == CARDEA_OK && !has_entry) {
        err = CARDEA_ENOTFOUND;
    } else if (err == CARDEA_OK && found.count == 0) {
        err = CARDEA_EVERIFY;
    } else if (err == CARDEA_OK) {
        err = merge_keys(out, &found);
    }
    cardea_legacy__keys_free(&found);
    return err;
}

/* ---- legacy entity metadata ----------------------------------------- */

/* see format/legacy.h */
cardea_err
cardea_legacy__decrypt_value(char **value, char **entity_id,
                             const char *key_hex, const uint8_t *exchange_key,
                             size_t exchange_key_len)
{
    uint8_t *blob = NULL, *plain = NULL;
    size_t blob_len = 0, plain_len = 0;
    char *colon, *id_copy = NULL, *value_copy = NULL;
    cardea_err err;

    if (value == NULL || key_hex == NULL || exchange_key == NULL) {
        return CARDEA_EINVAL;
    }
    err = cardea_hex__decode_alloc(&blob, &blob_len, key_hex,
                                   strlen(key_hex));
    if (err == CARDEA_OK) {
        err = cardea_aes__cbc_decrypt_alloc(&plain, &plain_len, exchange_key,
                                            exchange_key_len, blob, blob_len);
    }
    if (err != CARDEA_OK) {
        goto out;
    }

    /* The official SDK requires exactly one ':' and no other structure. */
    colon = memchr(plain, ':', plain_len);
    if (memchr(plain, '\0', plain_len) != NULL || colon == NULL ||
        strchr(colon + 1, ':') != NULL) {
        err = CARDEA_EVERIFY;
        goto out;
    }
    value_copy = cardea_mem__strdup(colon + 1);
    if (entity_id != NULL) {
        id_copy = cardea_mem__strndup((const char *)plain,
                                      (size_t)(colon - (char *)plain));
    }
    if (value_copy == NULL || (entity_id != NULL && id_copy == NULL)) {
        err = CARDEA_ENOMEM;
        goto out;
    }

    *value = value_copy;
    value_copy = NULL;
    if (entity_id != NULL) {
        *entity_id = id_copy;
        id_copy = NULL;
    }
out:
    if (value_copy != NULL) {
        cardea_mem__free_secret(value_copy, strlen(value_copy) + 1);
    }
    cardea_mem__free(id_copy);
    if (plain != NULL) {
        cardea_mem__free_secret(plain, plain_len + 1);
    }
    cardea_mem__free(blob);
    if (err != CARDEA_OK && err != CARDEA_ENOMEM && err != CARDEA_EINVAL) {
        err = CARDEA_EVERIFY;
    }
    return err;
}

/* Tries every exchange key on one delegation; adds the value it opens. */
static cardea_err
decrypt_delegation(cardea_legacy_values *found, const json_t *delegation,
                   const cardea_legacy_keys *keys)
{
    const char *key_hex = cardea_json__get_str(delegation, "key");
    char *value = NULL;
    size_t i;
    cardea_err err;

    if (key_hex == NULL) {
        return CARDEA_OK;
    }
    for (i = 0; i < keys->count; i++) {
        err = cardea_legacy__decrypt_value(&value, NULL, key_hex,
                                           keys->items[i].bytes,
                                           keys->items[i].len);
        if (err == CARDEA_ENOMEM) {
            return err;
        }
        if (err == CARDEA_OK) {
            return values_add(found, value);
        }
    }
    return CARDEA_OK;
}

/* see format/legacy.h */
cardea_err
cardea_legacy__decrypt_field(cardea_legacy_values *out, const json_t *entity,
                             const char *field,
                             const char *const *delegate_ids,
                             size_t ids_count, const cardea_legacy_keys *keys)
{
    cardea_legacy_values found = {NULL, 0};
    const json_t *map, *list, *delegation;
    size_t i, j;
    cardea_err err = CARDEA_OK;

    if (out == NULL || entity == NULL || field == NULL || keys == NULL ||
        (delegate_ids == NULL && ids_count > 0)) {
        return CARDEA_EINVAL;
    }
    map = json_object_get(entity, field);
    if (map != NULL && !json_is_null(map) && !json_is_object(map)) {
        return CARDEA_EFORMAT;
    }
    for (i = 0; i < ids_count && err == CARDEA_OK; i++) {
        list = json_object_get(map, delegate_ids[i]);
        if (list == NULL || json_is_null(list)) {
            continue;
        }
        if (!json_is_array(list)) {
            err = CARDEA_EFORMAT;
            break;
        }
        for (j = 0; j < json_array_size(list) && err == CARDEA_OK; j++) {
            delegation = json_array_get(list, j);
            err = decrypt_delegation(&found, delegation, keys);
        }
    }

    if (err != CARDEA_OK) {
        cardea_legacy__values_free(&found);
        return err;
    }
    *out = found;
    return CARDEA_OK;
}

/* Parses every value as an entity key and adds those that parse. */
static cardea_err
add_parsed_keys(cardea_legacy_keys *found, const cardea_legacy_values *values)
{
    cardea_entity_key key;
    size_t i;
    cardea_err err = CARDEA_OK;

    for (i = 0; i < values->count && err == CARDEA_OK; i++) {
        if (cardea_entity_key__parse(&key, values->items[i],
                                     strlen(values->items[i])) == CARDEA_OK) {
            err = cardea_legacy__keys_add(found, key.bytes, key.len);
        }
    }
    cardea_wipe(&key, sizeof key);
    return err;
}

/* see format/legacy.h */
cardea_err
cardea_legacy__entity_keys(cardea_legacy_keys *out, const json_t *entity,
                           const char *const *delegate_ids, size_t ids_count,
                           const cardea_legacy_keys *keys, bool has_other_keys)
{
    cardea_legacy_values values = {NULL, 0};
    cardea_legacy_keys found;
    cardea_err err;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    cardea_legacy__keys_init(&found);
    err = cardea_legacy__decrypt_field(&values, entity, "encryptionKeys",
                                       delegate_ids, ids_count, keys);
    if (err == CARDEA_OK) {
        err = add_parsed_keys(&found, &values);
        cardea_legacy__values_free(&values);
    }
    if (err == CARDEA_OK && found.count == 0 && !has_other_keys) {
        err = cardea_legacy__decrypt_field(&values, entity, "delegations",
                                           delegate_ids, ids_count, keys);
        if (err == CARDEA_OK) {
            err = add_parsed_keys(&found, &values);
            cardea_legacy__values_free(&values);
        }
    }
    if (err == CARDEA_OK) {
        err = merge_keys(out, &found);
    }
    cardea_legacy__keys_free(&found);
    return err;
}
