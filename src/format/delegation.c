/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secure delegations: encryption of their values with the "Cure" prefix,
 * and the JSON builders for SecureDelegation, securityMetadata, share and
 * update requests and the bulk wrapper. The field names and their order
 * follow the official SDK's models, because the server and other clients
 * read these objects.
 */
#include <string.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/delegation.h"

static const uint8_t prefix[CARDEA_DELEGATION_PREFIX_LEN] = {'C', 'u', 'r',
                                                             'e'};

/* ---- value encryption --------------------------------------------------- */

/* Encrypts "Cure" || value and returns it as base64. */
static cardea_err
encrypt_prefixed(char **out, const uint8_t *xkey, size_t xkey_len,
                 const uint8_t *value, size_t value_len)
{
    uint8_t *plain = NULL;
    uint8_t *blob = NULL;
    size_t plain_len;
    size_t blob_len = 0;
    cardea_err err;

    if (!cardea_size__add(&plain_len, value_len, sizeof prefix)) {
        return CARDEA_EOVERFLOW;
    }
    plain = cardea_mem__alloc(plain_len);
    if (plain == NULL) {
        return CARDEA_ENOMEM;
    }
    memcpy(plain, prefix, sizeof prefix);
    if (value_len > 0) {
        memcpy(plain + sizeof prefix, value, value_len);
    }

    err = cardea_aes__cbc_encrypt_alloc(&blob, &blob_len, xkey, xkey_len,
                                        plain, plain_len);
    if (err != CARDEA_OK) {
        goto out;
    }
    err = cardea_base64__encode_alloc(out, blob, blob_len);

out:
    cardea_mem__free_secret(plain, plain_len);
    cardea_mem__free(blob);
    return err;
}

/*
 * Decrypts base64 `b64` and checks the prefix. On success `*out` contains the
 * bytes after the prefix plus a NUL, and `*out_len` excludes the NUL.
 */
static cardea_err
decrypt_prefixed(uint8_t **out, size_t *out_len, const uint8_t *xkey,
                 size_t xkey_len, const char *b64)
{
    uint8_t *blob = NULL;
    uint8_t *plain = NULL;
    uint8_t *value = NULL;
    size_t blob_len = 0;
    size_t plain_len = 0;
    cardea_err err;

    err = cardea_base64__decode_alloc(&blob, &blob_len, b64, strlen(b64));
    if (err != CARDEA_OK) {
        return err == CARDEA_ENOMEM ? err : CARDEA_EFORMAT;
    }
    err = cardea_aes__cbc_decrypt_alloc(&plain, &plain_len, xkey, xkey_len,
                                        blob, blob_len);
    if (err != CARDEA_OK) {
        goto out;
    }

    /* The prefix is public; ct_equal only keeps the habit uniform. */
    if (plain_len < sizeof prefix ||
        !cardea_ct_equal(plain, prefix, sizeof prefix)) {
        err = CARDEA_EVERIFY;
        goto out;
    }
    value = cardea_mem__alloc(plain_len - sizeof prefix + 1);
    if (value == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    memcpy(value, plain + sizeof prefix, plain_len - sizeof prefix);
    value[plain_len - sizeof prefix] = '\0';
    *out = value;
    *out_len = plain_len - sizeof prefix;

out:
    cardea_mem__free(blob);
    if (plain != NULL) {
        cardea_mem__free_secret(plain, plain_len + 1);
    }
    return err;
}

/* True when `s[0..len)` is well-formed UTF-8 without NUL bytes. */
static bool
is_utf8_text(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = s[i];
        size_t extra;
        uint32_t cp;

        if (c == 0) {
            return false;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (len - i <= extra) {
            return false;
        }
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0u) != 0x80u) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        /* Reject overlong forms, surrogates and values past U+10FFFF. */
        if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

/* see format/delegation.h */
cardea_err
cardea_delegation__encrypt_key(char **out, const uint8_t *xkey,
                               size_t xkey_len, const char *key_hex)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    size_t hex_len;
    cardea_err err;

    if (out == NULL || xkey == NULL || key_hex == NULL) {
        return CARDEA_EINVAL;
    }
    hex_len = strlen(key_hex);
    if (hex_len == 0) {
        return CARDEA_EINVAL;
    }
    err = cardea_hex__decode_alloc(&raw, &raw_len, key_hex, hex_len);
    if (err != CARDEA_OK) {
        return err == CARDEA_ENOMEM ? err : CARDEA_EINVAL;
    }
    err = encrypt_prefixed(out, xkey, xkey_len, raw, raw_len);
    cardea_mem__free_secret(raw, raw_len);
    return err;
}

/* How a decrypted value is returned: a key as hex, an id as its text. */
typedef enum value_form { VALUE_HEX, VALUE_TEXT } value_form;

/*
 * Decrypts a prefixed value. VALUE_HEX rejects an empty value and returns
 * it hex-encoded; VALUE_TEXT rejects a value that is not UTF-8 text.
 */
static cardea_err
decrypt_value(char **out, const uint8_t *xkey, size_t xkey_len,
              const char *b64, value_form form)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    cardea_err err;

    if (out == NULL || xkey == NULL || b64 == NULL) {
        return CARDEA_EINVAL;
    }
    err = decrypt_prefixed(&raw, &raw_len, xkey, xkey_len, b64);
    if (err != CARDEA_OK) {
        return err;
    }
    if (form == VALUE_HEX) {
        err = raw_len == 0 ? CARDEA_EVERIFY
                           : cardea_hex__encode_alloc(out, raw, raw_len);
    } else if (!is_utf8_text(raw, raw_len)) {
        err = CARDEA_EVERIFY;
    } else {
        *out = (char *)raw;
        return CARDEA_OK;
    }
    cardea_mem__free_secret(raw, raw_len + 1);
    return err;
}

/* see format/delegation.h */
cardea_err
cardea_delegation__decrypt_key(char **out, const uint8_t *xkey,
                               size_t xkey_len, const char *b64)
{
    return decrypt_value(out, xkey, xkey_len, b64, VALUE_HEX);
}

/* see format/delegation.h */
cardea_err
cardea_delegation__encrypt_id(char **out, const uint8_t *xkey,
                              size_t xkey_len, const char *id)
{
    if (out == NULL || xkey == NULL || id == NULL) {
        return CARDEA_EINVAL;
    }
    return encrypt_prefixed(out, xkey, xkey_len, (const uint8_t *)id,
                            strlen(id));
}

/* see format/delegation.h */
cardea_err
cardea_delegation__decrypt_id(char **out, const uint8_t *xkey,
                              size_t xkey_len, const char *b64)
{
    return decrypt_value(out, xkey, xkey_len, b64, VALUE_TEXT);
}

/* ---- decrypting a whole delegation ------------------------------------- */

typedef cardea_err (*decrypt_fn)(char **out, const uint8_t *xkey,
                                 size_t xkey_len, const char *b64);

static bool
list_contains(char *const *list, size_t len, const char *s)
{
    for (size_t i = 0; i < len; i++) {
        if (strcmp(list[i], s) == 0) {
            return true;
        }
    }
    return false;
}

static void
free_list(char **list, size_t len)
{
    if (list == NULL) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        cardea_mem__free_secret(list[i], strlen(list[i]));
    }
    cardea_mem__free(list);
}

/* Decrypts the array `obj[name]` into a new list without repeats. */
static cardea_err
decrypt_list(char ***out, size_t *out_len, const json_t *obj,
             const char *name, decrypt_fn decrypt, const uint8_t *xkey,
             size_t xkey_len)
{
    const json_t *array = json_object_get(obj, name);
    size_t total;
    char **list = NULL;
    size_t len = 0;
    cardea_err err = CARDEA_OK;

    if (array == NULL || json_is_null(array)) {
        *out = NULL;
        *out_len = 0;
        return CARDEA_OK;
    }
    if (!json_is_array(array)) {
        return CARDEA_EFORMAT;
    }
    total = json_array_size(array);
    list = cardea_mem__calloc(total == 0 ? 1 : total, sizeof *list);
    if (list == NULL) {
        return CARDEA_ENOMEM;
    }

    for (size_t i = 0; i < total; i++) {
        const char *b64 = json_string_value(json_array_get(array, i));
        char *plain = NULL;

        if (b64 == NULL) {
            err = CARDEA_EFORMAT;
            goto out;
        }
        if ((err = decrypt(&plain, xkey, xkey_len, b64)) != CARDEA_OK) {
            goto out;
        }
        if (list_contains(list, len, plain)) {
            cardea_mem__free_secret(plain, strlen(plain));
        } else {
            list[len++] = plain;
        }
    }
    *out = list;
    *out_len = len;
    list = NULL;

out:
    free_list(list, len);
    return err;
}

/* see format/delegation.h */
cardea_err
cardea_delegation__decrypt_values(cardea_delegation_plain *out,
                                  const json_t *delegation,
                                  const uint8_t *xkey, size_t xkey_len)
{
    cardea_delegation_plain plain = {0};
    cardea_err err;

    if (out == NULL || !json_is_object(delegation) || xkey == NULL) {
        return CARDEA_EINVAL;
    }
    err = decrypt_list(&plain.secret_ids, &plain.secret_ids_len, delegation,
                       "secretIds", cardea_delegation__decrypt_id, xkey,
                       xkey_len);
    if (err != CARDEA_OK) {
        goto out;
    }
    err = decrypt_list(&plain.encryption_keys, &plain.encryption_keys_len,
                       delegation, "encryptionKeys",
                       cardea_delegation__decrypt_key, xkey, xkey_len);
    if (err != CARDEA_OK) {
        goto out;
    }
    err = decrypt_list(&plain.owning_entity_ids,
                       &plain.owning_entity_ids_len, delegation,
                       "owningEntityIds", cardea_delegation__decrypt_id,
                       xkey, xkey_len);
    if (err != CARDEA_OK) {
        goto out;
    }
    *out = plain;
    return CARDEA_OK;

out:
    cardea_delegation__plain_free(&plain);
    return err;
}

/* see format/delegation.h */
void
cardea_delegation__plain_free(cardea_delegation_plain *plain)
{
    if (plain == NULL) {
        return;
    }
    free_list(plain->secret_ids, plain->secret_ids_len);
    free_list(plain->encryption_keys, plain->encryption_keys_len);
    free_list(plain->owning_entity_ids, plain->owning_entity_ids_len);
    memset(plain, 0, sizeof *plain);
}

/* ---- JSON helpers ------------------------------------------------------- */

static bool
is_sd_key(const char *s)
{
    return s != NULL && strlen(s) == CARDEA_SD_KEY_HEX_LEN &&
           cardea_hex__is_valid(s, CARDEA_SD_KEY_HEX_LEN);
}

typedef cardea_err (*encrypt_fn)(char **out, const uint8_t *xkey,
                                 size_t xkey_len, const char *value);

/* True when plaintext `list[i]` already appeared at an earlier index. */
static bool
seen_before(const char *const *list, size_t i)
{
    for (size_t k = 0; k < i; k++) {
        if (strcmp(list[k], list[i]) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Encrypts each distinct plaintext of `list` and passes the base64 to
 * `add`, which appends it to an array or sets it in a map. Repeats are
 * skipped because the official SDK keeps these lists as sets.
 */
static cardea_err
add_encrypted(json_t *target, const char *const *list, size_t len,
              encrypt_fn encrypt, const uint8_t *xkey, size_t xkey_len,
              bool as_map)
{
    cardea_err err = CARDEA_OK;

    if (list == NULL && len > 0) {
        return CARDEA_EINVAL;
    }
    for (size_t i = 0; i < len && err == CARDEA_OK; i++) {
        char *b64 = NULL;

        if (list[i] == NULL) {
            return CARDEA_EINVAL;
        }
        if (seen_before(list, i)) {
            continue;
        }
        if ((err = encrypt(&b64, xkey, xkey_len, list[i])) != CARDEA_OK) {
            return err;
        }
        if (as_map) {
            err = cardea_json__set_str(target, b64, "CREATE");
        } else {
            err = cardea_json__append_new(target, json_string(b64));
        }
        cardea_mem__free(b64);
    }
    return err;
}

/*
 * Adds `name: [encrypted values]` for the three value lists, in the order
 * secretIds, encryptionKeys, owningEntityIds.
 */
static cardea_err
set_value_arrays(json_t *obj, const cardea_delegation_values *values,
                 const uint8_t *xkey, size_t xkey_len)
{
    static const char *const names[3] = {"secretIds", "encryptionKeys",
                                         "owningEntityIds"};
    const char *const *lists[3] = {values->secret_ids,
                                   values->encryption_keys,
                                   values->owning_entity_ids};
    const size_t lens[3] = {values->secret_ids_len,
                            values->encryption_keys_len,
                            values->owning_entity_ids_len};
    const encrypt_fn encrypts[3] = {cardea_delegation__encrypt_id,
                                    cardea_delegation__encrypt_key,
                                    cardea_delegation__encrypt_id};
    cardea_err err;

    for (size_t i = 0; i < 3; i++) {
        json_t *array = json_array();

        if ((err = cardea_json__set_new(obj, names[i], array)) != CARDEA_OK) {
            return err;
        }
        err = add_encrypted(array, lists[i], lens[i], encrypts[i], xkey,
                            xkey_len, false);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

/* Builds an array of distinct strings from `list`, all of them sdKeys. */
static cardea_err
sd_key_array(json_t **out, const char *const *list, size_t len)
{
    json_t *array;
    cardea_err err = CARDEA_OK;

    if (list == NULL && len > 0) {
        return CARDEA_EINVAL;
    }
    array = json_array();
    if (array == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < len && err == CARDEA_OK; i++) {
        if (!is_sd_key(list[i])) {
            err = CARDEA_EINVAL;
        } else if (!seen_before(list, i)) {
            err = cardea_json__append_new(array, json_string(list[i]));
        }
    }
    if (err != CARDEA_OK) {
        json_decref(array);
        return err;
    }
    *out = array;
    return CARDEA_OK;
}

static const char *
access_level_name(cardea_access_level level)
{
    switch (level) {
    case CARDEA_ACCESS_READ:
        return "READ";
    case CARDEA_ACCESS_WRITE:
        return "WRITE";
    }
    return NULL;
}

static const char *
permission_name(cardea_requested_permission permission)
{
    switch (permission) {
    case CARDEA_PERMISSION_MAX_READ:
        return "MAX_READ";
    case CARDEA_PERMISSION_FULL_READ:
        return "FULL_READ";
    case CARDEA_PERMISSION_MAX_WRITE:
        return "MAX_WRITE";
    case CARDEA_PERMISSION_FULL_WRITE:
        return "FULL_WRITE";
    case CARDEA_PERMISSION_ROOT:
        return "ROOT";
    }
    return NULL;
}

/* ---- SecureDelegation and securityMetadata ------------------------------ */

static cardea_err
fill_delegation(json_t *obj, const cardea_delegation_params *p)
{
    const char *level = access_level_name(p->permissions);
    json_t *parents = NULL;
    cardea_err err;

    if (level == NULL || p->exchange_key == NULL) {
        return CARDEA_EINVAL;
    }
    if (p->delegator != NULL &&
        (err = cardea_json__set_str(obj, "delegator", p->delegator)) !=
            CARDEA_OK) {
        return err;
    }
    if (p->delegate != NULL &&
        (err = cardea_json__set_str(obj, "delegate", p->delegate)) !=
            CARDEA_OK) {
        return err;
    }
    err = set_value_arrays(obj, &p->values, p->exchange_key,
                           p->exchange_key_len);
    if (err != CARDEA_OK) {
        return err;
    }
    if ((err = sd_key_array(&parents, p->parents, p->parents_len)) !=
        CARDEA_OK) {
        return err;
    }
    if ((err = cardea_json__set_new(obj, "parentDelegations", parents)) !=
        CARDEA_OK) {
        return err;
    }
    if (p->delegator != NULL && p->delegate != NULL &&
        p->exchange_data_id != NULL) {
        err = cardea_json__set_str(obj, "exchangeDataId", p->exchange_data_id);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    return cardea_json__set_str(obj, "permissions", level);
}

/* see format/delegation.h */
cardea_err
cardea_delegation__build(json_t **out, const cardea_delegation_params *params)
{
    json_t *obj;
    cardea_err err;

    if (out == NULL || params == NULL) {
        return CARDEA_EINVAL;
    }
    obj = json_object();
    if (obj == NULL) {
        return CARDEA_ENOMEM;
    }
    if ((err = fill_delegation(obj, params)) != CARDEA_OK) {
        json_decref(obj);
        return err;
    }
    *out = obj;
    return CARDEA_OK;
}

static bool
same_id(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

/* Adds the delegation of `entry` under its sd_key, with `parents`. */
static cardea_err
add_entry(json_t *delegations, const cardea_delegation_entry *entry,
          const char *const *parents, size_t parents_len)
{
    cardea_delegation_params params = entry->params;
    json_t *delegation = NULL;
    cardea_err err;

    if (!is_sd_key(entry->sd_key) ||
        json_object_get(delegations, entry->sd_key) != NULL) {
        return CARDEA_EINVAL;
    }
    params.parents = parents;
    params.parents_len = parents_len;
    if ((err = cardea_delegation__build(&delegation, &params)) != CARDEA_OK) {
        return err;
    }
    return cardea_json__set_new(delegations, entry->sd_key, delegation);
}

/* see format/delegation.h */
cardea_err
cardea_delegation__build_security_metadata(
    json_t **out, const cardea_delegation_entry *root,
    const cardea_delegation_entry *children, size_t children_len)
{
    const char *root_key[1];
    json_t *metadata = NULL;
    json_t *delegations = json_object();
    cardea_err err = CARDEA_EINVAL;

    if (out == NULL || root == NULL || (children == NULL && children_len > 0) ||
        root->params.parents_len != 0 ||
        root->params.permissions != CARDEA_ACCESS_WRITE ||
        (root->params.delegate != NULL &&
         !same_id(root->params.delegate, root->params.delegator))) {
        goto out;
    }
    if (delegations == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }

    /* The root is a delegation to oneself, explicit or anonymous alike. */
    {
        cardea_delegation_entry self = *root;

        self.params.delegate = root->params.delegator;
        if ((err = add_entry(delegations, &self, NULL, 0)) != CARDEA_OK) {
            goto out;
        }
    }
    root_key[0] = root->sd_key;
    for (size_t i = 0; i < children_len; i++) {
        if (children[i].params.parents_len != 0) {
            err = CARDEA_EINVAL;
            goto out;
        }
        err = add_entry(delegations, &children[i], root_key, 1);
        if (err != CARDEA_OK) {
            goto out;
        }
    }

    metadata = json_object();
    err = cardea_json__set_new(metadata, "secureDelegations", delegations);
    delegations = NULL;
    if (metadata == NULL) {
        err = CARDEA_ENOMEM;
    }
    if (err == CARDEA_OK) {
        *out = metadata;
        metadata = NULL;
    }

out:
    json_decref(delegations);
    json_decref(metadata);
    return err;
}

/* ---- share and update requests ------------------------------------------ */

static cardea_err
ac_key_array(json_t **out, const uint8_t *keys, size_t count)
{
    json_t *array = json_array();
    cardea_err err = CARDEA_OK;

    if (array == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < count && err == CARDEA_OK; i++) {
        char hex[2 * CARDEA_AC_KEY_LEN + 1];

        err = cardea_hex__encode(hex, sizeof hex, keys + i * CARDEA_AC_KEY_LEN,
                                 CARDEA_AC_KEY_LEN);
        if (err == CARDEA_OK) {
            err = cardea_json__append_new(array, json_string(hex));
        }
        cardea_wipe(hex, sizeof hex);
    }
    if (err != CARDEA_OK) {
        json_decref(array);
        return err;
    }
    *out = array;
    return CARDEA_OK;
}

/* True when `map` is an object whose values are all strings. */
static bool
is_string_map(const json_t *map)
{
    const char *key;
    json_t *value;

    if (!json_is_object(map)) {
        return false;
    }
    json_object_foreach((json_t *)map, key, value) {
        if (!json_is_string(value)) {
            return false;
        }
    }
    return true;
}

static cardea_err
fill_share_request(json_t *obj, const cardea_share_request *r,
                   const char *permission)
{
    json_t *keys = NULL;
    cardea_err err;

    if (r->explicit_delegator != NULL &&
        (err = cardea_json__set_str(obj, "explicitDelegator",
                                    r->explicit_delegator)) != CARDEA_OK) {
        return err;
    }
    if (r->explicit_delegate != NULL &&
        (err = cardea_json__set_str(obj, "explicitDelegate",
                                    r->explicit_delegate)) != CARDEA_OK) {
        return err;
    }
    if ((err = ac_key_array(&keys, r->ac_keys, r->ac_keys_count)) !=
        CARDEA_OK) {
        return err;
    }
    if ((err = cardea_json__set_new(obj, "accessControlKeys", keys)) !=
        CARDEA_OK) {
        return err;
    }
    err = set_value_arrays(obj, &r->values, r->exchange_key,
                           r->exchange_key_len);
    if (err != CARDEA_OK) {
        return err;
    }
    if (r->explicit_delegator != NULL && r->explicit_delegate != NULL &&
        r->exchange_data_id != NULL &&
        (err = cardea_json__set_str(obj, "exchangeDataId",
                                    r->exchange_data_id)) != CARDEA_OK) {
        return err;
    }
    if (r->encrypted_exchange_data_id != NULL &&
        json_object_size(r->encrypted_exchange_data_id) > 0 &&
        (err = cardea_json__set_new(
             obj, "encryptedExchangeDataId",
             json_deep_copy(r->encrypted_exchange_data_id))) != CARDEA_OK) {
        return err;
    }
    return cardea_json__set_str(obj, "requestedPermissions", permission);
}

/* see format/delegation.h */
cardea_err
cardea_delegation__build_share_request(json_t **out,
                                       const cardea_share_request *request)
{
    const char *permission;
    json_t *obj;
    cardea_err err;

    if (out == NULL || request == NULL || request->ac_keys == NULL ||
        request->ac_keys_count == 0 || request->exchange_key == NULL) {
        return CARDEA_EINVAL;
    }
    permission = permission_name(request->permission);
    if (permission == NULL ||
        (request->encrypted_exchange_data_id != NULL &&
         !is_string_map(request->encrypted_exchange_data_id))) {
        return CARDEA_EINVAL;
    }

    obj = json_object();
    if (obj == NULL) {
        return CARDEA_ENOMEM;
    }
    if ((err = fill_share_request(obj, request, permission)) != CARDEA_OK) {
        json_decref(obj);
        return err;
    }
    *out = obj;
    return CARDEA_OK;
}

/* Sets each distinct string of `list` to "DELETE" in `map`. */
static cardea_err
add_deletions(json_t *map, const char *const *list, size_t len)
{
    cardea_err err = CARDEA_OK;

    if (list == NULL && len > 0) {
        return CARDEA_EINVAL;
    }
    for (size_t i = 0; i < len && err == CARDEA_OK; i++) {
        if (list[i] == NULL) {
            return CARDEA_EINVAL;
        }
        err = cardea_json__set_str(map, list[i], "DELETE");
    }
    return err;
}

static cardea_err
fill_update_request(json_t *obj, const cardea_update_request *r)
{
    static const char *const names[3] = {"secretIds", "encryptionKeys",
                                         "owningEntityIds"};
    const cardea_delegation_values *c = &r->create;
    const cardea_delegation_values *d = &r->remove;
    const char *const *creates[3] = {c->secret_ids, c->encryption_keys,
                                     c->owning_entity_ids};
    const size_t create_lens[3] = {c->secret_ids_len, c->encryption_keys_len,
                                   c->owning_entity_ids_len};
    const char *const *removes[3] = {d->secret_ids, d->encryption_keys,
                                     d->owning_entity_ids};
    const size_t remove_lens[3] = {d->secret_ids_len, d->encryption_keys_len,
                                   d->owning_entity_ids_len};
    const encrypt_fn encrypts[3] = {cardea_delegation__encrypt_id,
                                    cardea_delegation__encrypt_key,
                                    cardea_delegation__encrypt_id};
    cardea_err err;

    err = cardea_json__set_str(obj, "metadataAccessControlHash", r->sd_key);
    for (size_t i = 0; i < 3 && err == CARDEA_OK; i++) {
        json_t *map = json_object();

        if ((err = cardea_json__set_new(obj, names[i], map)) != CARDEA_OK) {
            break;
        }
        err = add_encrypted(map, creates[i], create_lens[i], encrypts[i],
                            r->exchange_key, r->exchange_key_len, true);
        if (err == CARDEA_OK) {
            err = add_deletions(map, removes[i], remove_lens[i]);
        }
    }
    return err;
}

/* see format/delegation.h */
cardea_err
cardea_delegation__build_update_request(json_t **out,
                                        const cardea_update_request *request)
{
    json_t *obj;
    cardea_err err;

    if (out == NULL || request == NULL || !is_sd_key(request->sd_key) ||
        request->exchange_key == NULL) {
        return CARDEA_EINVAL;
    }
    obj = json_object();
    if (obj == NULL) {
        return CARDEA_ENOMEM;
    }
    if ((err = fill_update_request(obj, request)) != CARDEA_OK) {
        json_decref(obj);
        return err;
    }
    *out = obj;
    return CARDEA_OK;
}

/* ---- bulk wrapper ------------------------------------------------------- */

/* see format/delegation.h */
cardea_err
cardea_delegation__bulk_new(json_t **out)
{
    json_t *bulk;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    bulk = json_object();
    if (bulk == NULL) {
        return CARDEA_ENOMEM;
    }
    if (cardea_json__set_new(bulk, "requestsByEntityId", json_object()) !=
        CARDEA_OK) {
        json_decref(bulk);
        return CARDEA_ENOMEM;
    }
    *out = bulk;
    return CARDEA_OK;
}

/* Copies `old` (or starts empty) and appends the parents it lacks. */
static cardea_err
merge_parents(json_t **out, const json_t *old, const char *const *parents,
              size_t parents_len)
{
    json_t *merged;
    cardea_err err = CARDEA_OK;

    if (old != NULL && !json_is_array(old)) {
        return CARDEA_EINVAL;
    }
    merged = old != NULL ? json_copy((json_t *)old) : json_array();
    if (merged == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < parents_len && err == CARDEA_OK; i++) {
        bool present = false;
        size_t k;
        json_t *item;

        if (!is_sd_key(parents[i])) {
            err = CARDEA_EINVAL;
            break;
        }
        json_array_foreach(merged, k, item) {
            const char *have = json_string_value(item);

            if (have != NULL && strcmp(have, parents[i]) == 0) {
                present = true;
            }
        }
        if (!present) {
            err = cardea_json__append_new(merged, json_string(parents[i]));
        }
    }
    if (err != CARDEA_OK) {
        json_decref(merged);
        return err;
    }
    *out = merged;
    return CARDEA_OK;
}

/* Builds {"share": request} or {"update": request}. */
static cardea_err
wrap_request(json_t **out, cardea_request_kind kind, json_t *request)
{
    const char *name = kind == CARDEA_REQUEST_SHARE    ? "share"
                       : kind == CARDEA_REQUEST_UPDATE ? "update"
                                                       : NULL;
    json_t *wrapper;

    if (name == NULL || !json_is_object(request)) {
        return CARDEA_EINVAL;
    }
    wrapper = json_object();
    if (wrapper == NULL) {
        return CARDEA_ENOMEM;
    }
    if (cardea_json__set_new(wrapper, name, json_incref(request)) !=
        CARDEA_OK) {
        json_decref(wrapper);
        return CARDEA_ENOMEM;
    }
    *out = wrapper;
    return CARDEA_OK;
}

/* Creates requestsByEntityId[entity_id] with its request and parents. */
static cardea_err
add_new_entity(json_t *by_entity, const char *entity_id,
               const char *request_id, json_t *wrapper, json_t *parents)
{
    json_t *info = json_object();
    json_t *requests = json_object();
    cardea_err err = CARDEA_ENOMEM;

    if (info == NULL || requests == NULL ||
        json_object_set(requests, request_id, wrapper) != 0 ||
        json_object_set(info, "requests", requests) != 0 ||
        json_object_set(info, "potentialParentDelegations", parents) != 0 ||
        json_object_set(by_entity, entity_id, info) != 0) {
        goto out;
    }
    err = CARDEA_OK;

out:
    json_decref(requests);
    json_decref(info);
    return err;
}

/* Adds the request and the merged parents to an existing entity entry. */
static cardea_err
add_to_entity(json_t *info, const char *request_id, json_t *wrapper,
              json_t *parents)
{
    json_t *requests = json_object_get(info, "requests");

    if (!json_is_object(requests)) {
        return CARDEA_EINVAL;
    }
    if (json_object_get(requests, request_id) != NULL) {
        return CARDEA_ECONFLICT;
    }
    if (json_object_set(requests, request_id, wrapper) != 0) {
        return CARDEA_ENOMEM;
    }
    if (json_object_set(info, "potentialParentDelegations", parents) != 0) {
        json_object_del(requests, request_id);
        return CARDEA_ENOMEM;
    }
    return CARDEA_OK;
}

/* see format/delegation.h */
cardea_err
cardea_delegation__bulk_add(json_t *bulk, const char *entity_id,
                            const char *request_id, cardea_request_kind kind,
                            json_t *request, const char *const *parents,
                            size_t parents_len)
{
    char uuid[CARDEA_UUID_STR_LEN + 1];
    json_t *by_entity = json_object_get(bulk, "requestsByEntityId");
    json_t *info;
    json_t *wrapper = NULL;
    json_t *merged = NULL;
    cardea_err err;

    if (!json_is_object(by_entity) || entity_id == NULL ||
        (parents == NULL && parents_len > 0)) {
        return CARDEA_EINVAL;
    }
    if (request_id == NULL) {
        cardea_uuid__v4(uuid);
        request_id = uuid;
    }
    info = json_object_get(by_entity, entity_id);
    if (info != NULL && !json_is_object(info)) {
        return CARDEA_EINVAL;
    }

    err = merge_parents(&merged, json_object_get(info,
                                                 "potentialParentDelegations"),
                        parents, parents_len);
    if (err != CARDEA_OK) {
        return err;
    }
    if ((err = wrap_request(&wrapper, kind, request)) != CARDEA_OK) {
        goto out;
    }
    if (info == NULL) {
        err = add_new_entity(by_entity, entity_id, request_id, wrapper,
                             merged);
    } else {
        err = add_to_entity(info, request_id, wrapper, merged);
    }

out:
    json_decref(wrapper);
    json_decref(merged);
    return err;
}

/* see format/delegation.h */
cardea_err
cardea_delegation__canonical_hash(char out[CARDEA_SD_KEY_HEX_LEN + 1],
                                  const json_t *share_request)
{
    const json_t *keys = json_object_get(share_request, "accessControlKeys");
    char best[CARDEA_SD_KEY_HEX_LEN + 1] = {0};
    size_t i;
    json_t *item;

    if (out == NULL || !json_is_object(share_request)) {
        return CARDEA_EINVAL;
    }
    if (!json_is_array(keys) || json_array_size(keys) == 0) {
        return CARDEA_EFORMAT;
    }

    json_array_foreach(keys, i, item) {
        const char *hex = json_string_value(item);
        uint8_t ackey[CARDEA_AC_KEY_LEN];
        char hash[CARDEA_SD_KEY_HEX_LEN + 1];
        size_t len = 0;

        if (hex == NULL || strlen(hex) != 2 * CARDEA_AC_KEY_LEN ||
            cardea_hex__decode(ackey, sizeof ackey, &len, hex,
                               2 * CARDEA_AC_KEY_LEN) != CARDEA_OK) {
            cardea_wipe(ackey, sizeof ackey);
            return CARDEA_EFORMAT;
        }
        cardea_sdkey__from_ackey(hash, ackey);
        cardea_wipe(ackey, sizeof ackey);
        if (i == 0 || strcmp(hash, best) < 0) {
            memcpy(best, hash, sizeof best);
        }
    }
    memcpy(out, best, sizeof best);
    return CARDEA_OK;
}
