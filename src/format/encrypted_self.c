/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encryption and decryption of entity fields into `encryptedSelf`, driven
 * by a parsed manifest, with the Contact and Service rules of the official
 * SDK: services are encrypted with the Contact's key, each with its own
 * encryptedSelf, and their `content` is encrypted unless it is made only
 * of compound values.
 */
#include <string.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/encrypted_self.h"

#define ENCRYPTED_SELF "encryptedSelf"

/* Depth of `value`, counting the value itself as 1, capped past `limit`. */
static int
depth_of(const json_t *value, int limit)
{
    const char *key;
    json_t *item;
    size_t i;
    int deepest = 0;

    if (limit <= 0) {
        return 1;
    }
    if (json_is_object(value)) {
        json_object_foreach((json_t *)value, key, item) {
            int d = depth_of(item, limit - 1);
            deepest = d > deepest ? d : deepest;
        }
    } else if (json_is_array(value)) {
        json_array_foreach(value, i, item) {
            int d = depth_of(item, limit - 1);
            deepest = d > deepest ? d : deepest;
        }
    }
    return deepest + 1;
}

/*
 * Every recursion below follows the nesting of the input, so bounding the
 * input's depth once at each entry point bounds the stack.
 */
static bool
depth_ok(const json_t *value)
{
    return depth_of(value, CARDEA_JSON_MAX_DEPTH) <= CARDEA_JSON_MAX_DEPTH;
}

/* ---- sealing and opening one encryptedSelf ------------------------------ */

/* Serialises `fields` compactly and returns base64(AES-CBC(key, json)). */
static cardea_err
seal(json_t **out, const json_t *fields, const cardea_entity_key *key)
{
    char *text = cardea_json__dump(fields);
    uint8_t *blob = NULL;
    size_t text_len;
    size_t blob_len = 0;
    char *b64 = NULL;
    cardea_err err;

    if (text == NULL) {
        return CARDEA_ENOMEM;
    }
    text_len = strlen(text);
    err = cardea_aes__cbc_encrypt_alloc(&blob, &blob_len, key->bytes,
                                        key->len, (const uint8_t *)text,
                                        text_len);
    cardea_mem__free_secret(text, text_len);
    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_base64__encode_alloc(&b64, blob, blob_len);
    cardea_mem__free(blob);
    if (err != CARDEA_OK) {
        return err;
    }
    *out = json_string(b64);
    cardea_mem__free(b64);
    return *out == NULL ? CARDEA_ENOMEM : CARDEA_OK;
}

/* Decrypts `blob` with one key into a JSON object, or CARDEA_EVERIFY. */
static cardea_err
open_with(json_t **out, const uint8_t *blob, size_t blob_len,
          const cardea_entity_key *key)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    json_t *value = NULL;
    cardea_err err;

    err = cardea_aes__cbc_decrypt_alloc(&plain, &plain_len, key->bytes,
                                        key->len, blob, blob_len);
    if (err != CARDEA_OK) {
        return err == CARDEA_ENOMEM ? err : CARDEA_EVERIFY;
    }

    /* A wrong key passes the padding check about once in 256 tries, so
     * output that is not a JSON object also means a wrong key. No error
     * message is requested: it would quote the plaintext. */
    err = cardea_json__parse(&value, (const char *)plain, plain_len, NULL, 0);
    cardea_mem__free_secret(plain, plain_len + 1);
    if (err != CARDEA_OK || !json_is_object(value)) {
        json_decref(value);
        return err == CARDEA_ENOMEM ? err : CARDEA_EVERIFY;
    }
    *out = value;
    return CARDEA_OK;
}

/* Decrypts base64 `b64` with the first of `keys` that works. */
static cardea_err
open_any(json_t **out, const char *b64, const cardea_entity_key *keys,
         size_t keys_len)
{
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    cardea_err err;

    err = cardea_base64__decode_alloc(&blob, &blob_len, b64, strlen(b64));
    if (err != CARDEA_OK) {
        return err == CARDEA_ENOMEM ? err : CARDEA_EFORMAT;
    }
    err = CARDEA_EVERIFY;
    for (size_t i = 0; i < keys_len; i++) {
        err = open_with(out, blob, blob_len, &keys[i]);
        if (err != CARDEA_EVERIFY) {
            break;
        }
    }
    cardea_mem__free(blob);
    return err;
}

/*
 * Returns the decrypted content of `obj`'s current encryptedSelf when
 * `key` opens it, else NULL. Used only to keep an unchanged ciphertext.
 */
static json_t *
current_fields(const json_t *obj, const cardea_entity_key *key)
{
    const char *b64 = json_string_value(json_object_get(obj, ENCRYPTED_SELF));
    json_t *fields = NULL;

    if (b64 == NULL || open_any(&fields, b64, key, 1) != CARDEA_OK) {
        return NULL;
    }
    return fields;
}

/* ---- encryption --------------------------------------------------------- */

static cardea_err encrypt_object(json_t **out, const json_t *plain,
                                 const cardea_manifest *m,
                                 const char *extra_field,
                                 const cardea_entity_key *key);

/* Sets obj.encryptedSelf, keeping the old value if `fields` is unchanged. */
static cardea_err
set_encrypted_self(json_t *obj, const json_t *plain, const json_t *fields,
                   const cardea_entity_key *key)
{
    json_t *current = current_fields(plain, key);
    json_t *sealed = NULL;
    bool unchanged = current != NULL && json_equal(current, fields);
    cardea_err err;

    json_decref(current);
    if (unchanged) {
        return cardea_json__set_new(
            obj, ENCRYPTED_SELF,
            json_copy(json_object_get(plain, ENCRYPTED_SELF)));
    }
    if ((err = seal(&sealed, fields, key)) != CARDEA_OK) {
        return err;
    }
    return cardea_json__set_new(obj, ENCRYPTED_SELF, sealed);
}

/* "*": the result contains only the encryptedSelf of all the rest. */
static cardea_err
encrypt_full(json_t *result, const json_t *plain,
             const cardea_entity_key *key)
{
    json_t *fields = json_deep_copy(plain);
    cardea_err err;

    if (fields == NULL) {
        return CARDEA_ENOMEM;
    }
    json_object_del(fields, ENCRYPTED_SELF);
    err = set_encrypted_self(result, plain, fields, key);
    json_decref(fields);
    return err;
}

/* Encrypts each object element of an array or value of a map. */
static cardea_err
encrypt_each(json_t **out, const json_t *value,
             const cardea_manifest_nested *nested,
             const cardea_entity_key *key)
{
    bool is_map = nested->kind == CARDEA_MANIFEST_MAP;
    json_t *result = is_map ? json_object() : json_array();
    const char *name;
    json_t *item;
    size_t i;
    cardea_err err = CARDEA_OK;

    if (result == NULL) {
        return CARDEA_ENOMEM;
    }
    if (is_map) {
        json_object_foreach((json_t *)value, name, item) {
            json_t *enc = json_null();

            if (!json_is_null(item)) {
                err = !json_is_object(item) ? CARDEA_EINVAL
                      : encrypt_object(&enc, item, nested->manifest, NULL, key);
            }
            if (err == CARDEA_OK) {
                err = cardea_json__set_new(result, name, enc);
            }
            if (err != CARDEA_OK) {
                break;
            }
        }
    } else {
        json_array_foreach(value, i, item) {
            json_t *enc = json_null();

            if (!json_is_null(item)) {
                err = !json_is_object(item) ? CARDEA_EINVAL
                      : encrypt_object(&enc, item, nested->manifest, NULL, key);
            }
            if (err == CARDEA_OK) {
                err = cardea_json__append_new(result, enc);
            }
            if (err != CARDEA_OK) {
                break;
            }
        }
    }
    if (err != CARDEA_OK) {
        json_decref(result);
        return err;
    }
    *out = result;
    return CARDEA_OK;
}

/* Applies a nested manifest to the value of its field. */
static cardea_err
encrypt_nested(json_t **out, const json_t *value,
               const cardea_manifest_nested *nested,
               const cardea_entity_key *key)
{
    if (json_is_null(value)) {
        *out = json_null();
        return CARDEA_OK;
    }
    switch (nested->kind) {
    case CARDEA_MANIFEST_OBJECT:
        if (!json_is_object(value)) {
            return CARDEA_EINVAL;
        }
        return encrypt_object(out, value, nested->manifest, NULL, key);
    case CARDEA_MANIFEST_ARRAY:
        if (!json_is_array(value)) {
            return CARDEA_EINVAL;
        }
        return encrypt_each(out, value, nested, key);
    case CARDEA_MANIFEST_MAP:
        if (!json_is_object(value)) {
            return CARDEA_EINVAL;
        }
        return encrypt_each(out, value, nested, key);
    }
    return CARDEA_EINVAL;
}

static const cardea_manifest_nested *
nested_for(const cardea_manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nested_len; i++) {
        if (strcmp(m->nested[i].name, name) == 0) {
            return &m->nested[i];
        }
    }
    return NULL;
}

static bool
is_listed(const cardea_manifest *m, const char *name, const char *extra)
{
    if (extra != NULL && strcmp(extra, name) == 0) {
        return true;
    }
    for (size_t i = 0; i < m->fields_len; i++) {
        if (strcmp(m->fields[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Splits the members of `plain` between `result` (cleartext, with nested
 * manifests applied) and `fields` (to encrypt), keeping their order.
 */
static cardea_err
split_fields(json_t *result, json_t *fields, const json_t *plain,
             const cardea_manifest *m, const char *extra_field,
             const cardea_entity_key *key)
{
    const char *name;
    json_t *value;
    cardea_err err = CARDEA_OK;

    json_object_foreach((json_t *)plain, name, value) {
        const cardea_manifest_nested *nested = nested_for(m, name);
        json_t *copy = NULL;

        if (is_listed(m, name, extra_field)) {
            err = cardea_json__set_new(fields, name, json_deep_copy(value));
        } else if (nested != NULL) {
            err = encrypt_nested(&copy, value, nested, key);
            if (err == CARDEA_OK) {
                err = cardea_json__set_new(result, name, copy);
            }
        } else {
            err = cardea_json__set_new(result, name, json_deep_copy(value));
        }
        if (err != CARDEA_OK) {
            break;
        }
    }
    return err;
}

/*
 * Encrypts one object level. `extra_field`, when not NULL, is encrypted as
 * if the manifest listed it (the `content` of a Service).
 */
static cardea_err
encrypt_object(json_t **out, const json_t *plain, const cardea_manifest *m,
               const char *extra_field, const cardea_entity_key *key)
{
    json_t *result = json_object();
    json_t *fields = json_object();
    cardea_err err = CARDEA_ENOMEM;

    if (result == NULL || fields == NULL) {
        goto out;
    }
    if (m->full) {
        err = encrypt_full(result, plain, key);
    } else {
        err = split_fields(result, fields, plain, m, extra_field, key);
        if (err == CARDEA_OK) {
            err = set_encrypted_self(result, plain, fields, key);
        }
    }
    if (err == CARDEA_OK) {
        *out = result;
        result = NULL;
    }

out:
    json_decref(result);
    json_decref(fields);
    return err;
}

static bool
is_valid_key(const cardea_entity_key *key)
{
    return key != NULL && (key->len == 16 || key->len == 32);
}

/* see format/encrypted_self.h */
cardea_err
cardea_encrypted_self__encrypt(json_t **out, const json_t *plain,
                               const cardea_manifest *manifest,
                               const cardea_entity_key *key)
{
    if (out == NULL || !json_is_object(plain) || manifest == NULL ||
        !is_valid_key(key)) {
        return CARDEA_EINVAL;
    }
    if (!depth_ok(plain)) {
        return CARDEA_ETOOBIG;
    }
    return encrypt_object(out, plain, manifest, NULL, key);
}

/* ---- services and contacts ---------------------------------------------- */

/* True when a Content has a non-empty compoundValue and nothing else. */
static bool
is_compound(const json_t *content)
{
    const char *name;
    json_t *value;
    const json_t *compound = json_object_get(content, "compoundValue");

    if (!json_is_object(content) || !json_is_array(compound) ||
        json_array_size(compound) == 0) {
        return false;
    }
    json_object_foreach((json_t *)content, name, value) {
        bool is_list = strcmp(name, "ratio") == 0 ||
                       strcmp(name, "range") == 0;

        if (strcmp(name, "compoundValue") == 0 || json_is_null(value)) {
            continue;
        }
        if (!is_list || !json_is_array(value) || json_array_size(value) > 0) {
            return false;
        }
    }
    return true;
}

static cardea_err encrypt_service(json_t **out, const json_t *service,
                                  const cardea_manifest *m,
                                  const cardea_entity_key *key);

/* Encrypts each service of an array; a non-object element is invalid. */
static cardea_err
encrypt_services(json_t **out, const json_t *services,
                 const cardea_manifest *m, const cardea_entity_key *key)
{
    json_t *result = json_array();
    json_t *item;
    size_t i;
    cardea_err err = CARDEA_OK;

    if (result == NULL) {
        return CARDEA_ENOMEM;
    }
    json_array_foreach(services, i, item) {
        json_t *enc = NULL;

        err = !json_is_object(item) ? CARDEA_EINVAL
              : encrypt_service(&enc, item, m, key);
        if (err == CARDEA_OK) {
            err = cardea_json__append_new(result, enc);
        }
        if (err != CARDEA_OK) {
            json_decref(result);
            return err;
        }
    }
    *out = result;
    return CARDEA_OK;
}

/* Builds {"compoundValue": [encrypted sub-services]} for one language. */
static cardea_err
encrypt_compound(json_t **out, const json_t *content,
                 const cardea_manifest *m, const cardea_entity_key *key)
{
    const json_t *services = json_object_get(content, "compoundValue");
    json_t *encrypted = NULL;
    json_t *result = NULL;
    cardea_err err;

    err = encrypt_services(&encrypted, services, m, key);
    if (err != CARDEA_OK) {
        return err;
    }
    result = json_object();
    if ((err = cardea_json__set_new(result, "compoundValue", encrypted)) !=
        CARDEA_OK) {
        json_decref(result);
        return err;
    }
    *out = result;
    return CARDEA_OK;
}

/* Replaces the `content` of an encrypted service by its compound form. */
static cardea_err
set_compound_content(json_t *service, const json_t *content,
                     const cardea_manifest *m, const cardea_entity_key *key)
{
    json_t *replaced = json_object();
    const char *lang;
    json_t *value;
    cardea_err err = CARDEA_OK;

    if (replaced == NULL) {
        return CARDEA_ENOMEM;
    }
    json_object_foreach((json_t *)content, lang, value) {
        json_t *enc = NULL;

        if ((err = encrypt_compound(&enc, value, m, key)) != CARDEA_OK ||
            (err = cardea_json__set_new(replaced, lang, enc)) != CARDEA_OK) {
            json_decref(replaced);
            return err;
        }
    }
    return cardea_json__set_new(service, "content", replaced);
}

static cardea_err
encrypt_service(json_t **out, const json_t *service, const cardea_manifest *m,
                const cardea_entity_key *key)
{
    const json_t *content = json_object_get(service, "content");
    bool only_compound = true;
    const char *lang;
    json_t *value;
    json_t *result = NULL;
    cardea_err err;

    if (content != NULL && !json_is_null(content) &&
        !json_is_object(content)) {
        return CARDEA_EINVAL;
    }
    json_object_foreach((json_t *)content, lang, value) {
        only_compound = only_compound && is_compound(value);
    }
    if (!only_compound) {
        return encrypt_object(out, service, m, "content", key);
    }

    if ((err = encrypt_object(&result, service, m, NULL, key)) != CARDEA_OK) {
        return err;
    }
    if (json_object_size(content) > 0 &&
        (err = set_compound_content(result, content, m, key)) != CARDEA_OK) {
        json_decref(result);
        return err;
    }
    *out = result;
    return CARDEA_OK;
}

/* see format/encrypted_self.h */
cardea_err
cardea_encrypted_self__encrypt_service(json_t **out, const json_t *service,
                                       const cardea_manifest *service_manifest,
                                       const cardea_entity_key *key)
{
    if (out == NULL || !json_is_object(service) || service_manifest == NULL ||
        !is_valid_key(key) ||
        cardea_manifest__names(service_manifest, "content")) {
        return CARDEA_EINVAL;
    }
    if (!depth_ok(service)) {
        return CARDEA_ETOOBIG;
    }
    return encrypt_service(out, service, service_manifest, key);
}

/* see format/encrypted_self.h */
cardea_err
cardea_encrypted_self__encrypt_contact(json_t **out, const json_t *contact,
                                       const cardea_manifest *contact_manifest,
                                       const cardea_manifest *service_manifest,
                                       const cardea_entity_key *key)
{
    const json_t *services = json_object_get(contact, "services");
    json_t *result = NULL;
    json_t *encrypted = NULL;
    cardea_err err;

    if (out == NULL || !json_is_object(contact) || contact_manifest == NULL ||
        service_manifest == NULL || !is_valid_key(key) ||
        cardea_manifest__names(contact_manifest, "services") ||
        cardea_manifest__names(service_manifest, "content") ||
        (services != NULL && !json_is_null(services) &&
         !json_is_array(services))) {
        return CARDEA_EINVAL;
    }
    if (!depth_ok(contact)) {
        return CARDEA_ETOOBIG;
    }

    err = encrypt_object(&result, contact, contact_manifest, NULL, key);
    if (err != CARDEA_OK || !json_is_array(services)) {
        goto out;
    }
    err = encrypt_services(&encrypted, services, service_manifest, key);
    if (err == CARDEA_OK) {
        err = cardea_json__set_new(result, "services", encrypted);
    }

out:
    if (err != CARDEA_OK) {
        json_decref(result);
        return err;
    }
    *out = result;
    return CARDEA_OK;
}

/* see format/encrypted_self.h */
cardea_err
cardea_encrypted_self__encrypt_entity(json_t **out, const char *entity_type,
                                      const json_t *plain,
                                      const cardea_entity_key *key)
{
    cardea_manifest *manifest = NULL;
    cardea_manifest *services = NULL;
    bool is_contact;
    cardea_err err;

    if (out == NULL || entity_type == NULL) {
        return CARDEA_EINVAL;
    }
    is_contact = strcmp(entity_type, "Contact") == 0;
    if ((err = cardea_manifest__default(&manifest, entity_type)) !=
        CARDEA_OK) {
        return err;
    }
    if (is_contact) {
        err = cardea_manifest__default(&services, "Service");
        if (err == CARDEA_OK) {
            err = cardea_encrypted_self__encrypt_contact(out, plain, manifest,
                                                         services, key);
        }
    } else if (strcmp(entity_type, "Service") == 0) {
        err = cardea_encrypted_self__encrypt_service(out, plain, manifest,
                                                     key);
    } else {
        err = cardea_encrypted_self__encrypt(out, plain, manifest, key);
    }
    cardea_manifest__free(manifest);
    cardea_manifest__free(services);
    return err;
}

/* ---- decryption --------------------------------------------------------- */

static cardea_err decrypt_object(json_t **out, const json_t *obj,
                                 const cardea_entity_key *keys,
                                 size_t keys_len);

/* True when every element of `array` is an object or null. */
static bool
holds_only_objects(const json_t *array)
{
    json_t *item;
    size_t i;

    json_array_foreach(array, i, item) {
        if (!json_is_object(item) && !json_is_null(item)) {
            return false;
        }
    }
    return true;
}

/* Decrypts one member value: objects and arrays of objects recursively. */
static cardea_err
decrypt_value(json_t **out, const json_t *value,
              const cardea_entity_key *keys, size_t keys_len)
{
    json_t *result;
    json_t *item;
    size_t i;
    cardea_err err = CARDEA_OK;

    if (json_is_object(value)) {
        return decrypt_object(out, value, keys, keys_len);
    }
    if (!json_is_array(value) || !holds_only_objects(value)) {
        *out = json_deep_copy(value);
        return *out == NULL ? CARDEA_ENOMEM : CARDEA_OK;
    }
    if ((result = json_array()) == NULL) {
        return CARDEA_ENOMEM;
    }
    json_array_foreach(value, i, item) {
        json_t *dec = json_null();

        if (json_is_object(item)) {
            err = decrypt_object(&dec, item, keys, keys_len);
        }
        if (err == CARDEA_OK) {
            err = cardea_json__append_new(result, dec);
        }
        if (err != CARDEA_OK) {
            json_decref(result);
            return err;
        }
    }
    *out = result;
    return CARDEA_OK;
}

/* Decrypts obj.encryptedSelf, if any, and merges it into `result`. */
static cardea_err
merge_encrypted_self(json_t *result, const json_t *obj,
                     const cardea_entity_key *keys, size_t keys_len)
{
    const json_t *sealed = json_object_get(obj, ENCRYPTED_SELF);
    json_t *fields = NULL;
    cardea_err err;

    if (sealed == NULL || json_is_null(sealed)) {
        return CARDEA_OK;
    }
    if (!json_is_string(sealed)) {
        return CARDEA_EFORMAT;
    }
    err = open_any(&fields, json_string_value(sealed), keys, keys_len);
    if (err != CARDEA_OK) {
        return err;
    }
    err = json_object_update(result, fields) == 0 ? CARDEA_OK : CARDEA_ENOMEM;
    json_decref(fields);
    return err;
}

static cardea_err
decrypt_object(json_t **out, const json_t *obj, const cardea_entity_key *keys,
               size_t keys_len)
{
    json_t *result = json_object();
    const char *name;
    json_t *value;
    cardea_err err = CARDEA_OK;

    if (result == NULL) {
        return CARDEA_ENOMEM;
    }

    /* Nested levels first: a decrypted encryptedSelf never contains
     * another one, so its members are merged as they are. */
    json_object_foreach((json_t *)obj, name, value) {
        json_t *dec = NULL;

        err = decrypt_value(&dec, value, keys, keys_len);
        if (err == CARDEA_OK) {
            err = cardea_json__set_new(result, name, dec);
        }
        if (err != CARDEA_OK) {
            break;
        }
    }
    if (err == CARDEA_OK) {
        err = merge_encrypted_self(result, obj, keys, keys_len);
    }
    if (err != CARDEA_OK) {
        json_decref(result);
        return err;
    }
    *out = result;
    return CARDEA_OK;
}

/* see format/encrypted_self.h */
cardea_err
cardea_encrypted_self__decrypt(json_t **out, const json_t *encrypted,
                               const cardea_entity_key *keys, size_t keys_len)
{
    if (out == NULL || !json_is_object(encrypted) || keys == NULL ||
        keys_len == 0) {
        return CARDEA_EINVAL;
    }
    for (size_t i = 0; i < keys_len; i++) {
        if (!is_valid_key(&keys[i])) {
            return CARDEA_EINVAL;
        }
    }
    if (!depth_ok(encrypted)) {
        return CARDEA_ETOOBIG;
    }
    return decrypt_object(out, encrypted, keys, keys_len);
}
