/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recovery keys, the RecoveryData entity and its two content kinds. The
 * content JSON carries private keys and exchange secrets, so it is written
 * by hand into wiped buffers, and parsed trees have their strings wiped
 * before jansson frees them.
 */
#include "format/recovery.h"

#include <string.h>

#include "base/base.h"

/* Upper bounds on content read from the server. */
#define MAX_RECOVERED_ENTRIES 1024
#define MAX_CONTENT_LEN ((size_t)16 << 20)

static const char *const type_names[] = {
    [CARDEA_RECOVERY_KEYPAIR] = "KEYPAIR_RECOVERY",
    [CARDEA_RECOVERY_EXCHANGE_KEY] = "EXCHANGE_KEY_RECOVERY",
};

/*
 * Appends `s`. cardea_buf records a failed append and take_str reports
 * it, so builders append every piece and check once at the end.
 */
static void
put(cardea_buf *buf, const char *s)
{
    cardea_err ignored = cardea_buf__append_str(buf, s);

    (void)ignored;
}

static bool
valid_key(const cardea_recovery_key *key)
{
    return key != NULL && (key->len == 16 || key->len == 32);
}

static bool
valid_type(cardea_recovery_type type)
{
    return type == CARDEA_RECOVERY_KEYPAIR ||
           type == CARDEA_RECOVERY_EXCHANGE_KEY;
}

/*
 * SECURITY: jansson frees strings without wiping them. Secret values of a
 * parsed tree are wiped in place before the tree is released.
 */
static void
wipe_json_strings(json_t *value)
{
    const char *name;
    json_t *child;
    size_t i;

    if (json_is_string(value)) {
        cardea_wipe((char *)json_string_value(value),
                    json_string_length(value));
    } else if (json_is_array(value)) {
        json_array_foreach(value, i, child) {
            wipe_json_strings(child);
        }
    } else if (json_is_object(value)) {
        json_object_foreach(value, name, child) {
            wipe_json_strings(child);
        }
    }
}

static void
release_secret_tree(json_t *root)
{
    if (root != NULL) {
        wipe_json_strings(root);
        json_decref(root);
    }
}

/* ---- recovery keys ---------------------------------------------------- */

/* see format/recovery.h */
cardea_err
cardea_recovery__key_generate(cardea_recovery_key *out, size_t len)
{
    if (out == NULL || (len != 16 && len != 32)) {
        return CARDEA_EINVAL;
    }
    memset(out, 0, sizeof *out);
    cardea_random__bytes(out->bytes, len);
    out->len = len;
    return CARDEA_OK;
}

/* see format/recovery.h */
cardea_err
cardea_recovery__key_id(char out[CARDEA_RECOVERY_ID_LEN + 1],
                        const cardea_recovery_key *key)
{
    if (out == NULL || !valid_key(key)) {
        return CARDEA_EINVAL;
    }
    cardea_hash__sha256_hex(out, key->bytes, key->len);
    return CARDEA_OK;
}

/* Copies base32 text into groups of four joined by '-'. */
static cardea_err
group_text(char **out, const char *text)
{
    size_t len = strlen(text), groups = (len + 3) / 4, i, j = 0;
    char *grouped = cardea_mem__alloc(len + groups + 1);

    if (grouped == NULL) {
        return CARDEA_ENOMEM;
    }
    for (i = 0; i < len; i++) {
        if (i > 0 && i % 4 == 0) {
            grouped[j++] = '-';
        }
        grouped[j++] = text[i];
    }
    grouped[j] = '\0';
    *out = grouped;
    return CARDEA_OK;
}

/* see format/recovery.h */
cardea_err
cardea_recovery__key_to_text(char **out, const cardea_recovery_key *key,
                             cardea_recovery_key_text form)
{
    char *text = NULL;
    cardea_err err;

    if (out == NULL || !valid_key(key)) {
        return CARDEA_EINVAL;
    }
    switch (form) {
    case CARDEA_RECOVERY_TEXT_HEX:
        return cardea_hex__encode_alloc(out, key->bytes, key->len);
    case CARDEA_RECOVERY_TEXT_BASE32:
        return cardea_base32__encode_alloc(out, key->bytes, key->len);
    case CARDEA_RECOVERY_TEXT_GROUPED:
        err = cardea_base32__encode_alloc(&text, key->bytes, key->len);
        if (err == CARDEA_OK) {
            err = group_text(out, text);
            cardea_mem__free_secret(text, strlen(text) + 1);
        }
        return err;
    }
    return CARDEA_EINVAL;
}

/* see format/recovery.h */
cardea_err
cardea_recovery__key_parse(cardea_recovery_key *out, const char *text,
                           size_t text_len)
{
    char compact[CARDEA_RECOVERY_KEY_TEXT_MAX];
    cardea_recovery_key key;
    size_t len = 0, i;
    cardea_err err;

    if (out == NULL || text == NULL || text_len > sizeof compact) {
        return CARDEA_EINVAL;
    }
    for (i = 0; i < text_len; i++) {
        if (strchr(" \t\r\n-", text[i]) == NULL || text[i] == '\0') {
            compact[len++] = text[i];
        }
    }
    memset(&key, 0, sizeof key);

    /* Hex and base32 of 16 or 32 bytes never have the same length. */
    if ((len == 32 || len == 64) && cardea_hex__is_valid(compact, len)) {
        err = cardea_hex__decode(key.bytes, sizeof key.bytes, &key.len,
                                 compact, len);
    } else {
        err = cardea_base32__decode(key.bytes, sizeof key.bytes, &key.len,
                                    compact, len);
    }
    if (err == CARDEA_OK && !valid_key(&key)) {
        err = CARDEA_EFORMAT;
    }
    if (err == CARDEA_OK) {
        *out = key;
    } else if (err != CARDEA_ENOMEM) {
        err = CARDEA_EFORMAT;
    }
    cardea_wipe(compact, sizeof compact);
    cardea_wipe(&key, sizeof key);
    return err;
}

/* ---- the RecoveryData entity ------------------------------------------ */

/* see format/recovery.h */
cardea_err
cardea_recovery__data_build(json_t **out, const cardea_recovery_key *key,
                            const char *recipient, cardea_recovery_type type,
                            const char *content, size_t content_len,
                            const int64_t *expiration_ms)
{
    char id[CARDEA_RECOVERY_ID_LEN + 1];
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    char *encoded = NULL;
    json_t *data = NULL;
    cardea_err err;

    if (out == NULL || !valid_key(key) || recipient == NULL ||
        content == NULL || !valid_type(type)) {
        return CARDEA_EINVAL;
    }
    err = cardea_recovery__key_id(id, key);
    if (err == CARDEA_OK) {
        err = cardea_aes__cbc_encrypt_alloc(&blob, &blob_len, key->bytes,
                                            key->len, (const uint8_t *)content,
                                            content_len);
    }
    if (err == CARDEA_OK) {
        err = cardea_base64__encode_alloc(&encoded, blob, blob_len);
    }
    if (err != CARDEA_OK) {
        goto out;
    }

    data = json_object();
    err = data == NULL ? CARDEA_ENOMEM : CARDEA_OK;
    if (err == CARDEA_OK) {
        err = cardea_json__set_str(data, "id", id);
    }
    if (err == CARDEA_OK) {
        err = cardea_json__set_str(data, "recipient", recipient);
    }
    if (err == CARDEA_OK) {
        err = cardea_json__set_str(data, "type", type_names[type]);
    }
    if (err == CARDEA_OK) {
        err = cardea_json__set_str(data, "encryptedSelf", encoded);
    }
    if (err == CARDEA_OK && expiration_ms != NULL) {
        err = cardea_json__set_new(data, "expirationInstant",
                                   json_integer(*expiration_ms));
    }
    if (err == CARDEA_OK) {
        *out = data;
        data = NULL;
    }
out:
    json_decref(data);
    cardea_mem__free(encoded);
    cardea_mem__free(blob);
    return err;
}

/* see format/recovery.h */
cardea_err
cardea_recovery__data_decrypt(char **out, size_t *out_len, const json_t *data,
                              const cardea_recovery_key *key,
                              cardea_recovery_type expected)
{
    char id[CARDEA_RECOVERY_ID_LEN + 1];
    const char *type, *stored_id, *encoded;
    uint8_t *blob = NULL, *plain = NULL;
    size_t blob_len = 0, plain_len = 0;
    cardea_err err;

    if (out == NULL || out_len == NULL || data == NULL || !valid_key(key) ||
        !valid_type(expected)) {
        return CARDEA_EINVAL;
    }
    type = cardea_json__get_str(data, "type");
    encoded = cardea_json__get_str(data, "encryptedSelf");
    stored_id = cardea_json__get_str(data, "id");
    if (type == NULL || encoded == NULL) {
        return CARDEA_EFORMAT;
    }
    if (strcmp(type, type_names[expected]) != 0) {
        return CARDEA_EINVAL;
    }
    err = cardea_recovery__key_id(id, key);
    if (err == CARDEA_OK && stored_id != NULL && strcmp(stored_id, id) != 0) {
        return CARDEA_EVERIFY;
    }

    err = cardea_base64__decode_alloc(&blob, &blob_len, encoded,
                                      strlen(encoded));
    if (err != CARDEA_OK) {
        return err == CARDEA_ENOMEM ? err : CARDEA_EFORMAT;
    }
    err = cardea_aes__cbc_decrypt_alloc(&plain, &plain_len, key->bytes,
                                        key->len, blob, blob_len);
    cardea_mem__free(blob);
    if (err != CARDEA_OK) {
        return err == CARDEA_ENOMEM ? err : CARDEA_EVERIFY;
    }
    *out = (char *)plain;
    *out_len = plain_len;
    return CARDEA_OK;
}

/* ---- KEYPAIR_RECOVERY ------------------------------------------------- */

static void
append_b64_field(cardea_buf *buf, const char *name, const uint8_t *data,
                 size_t len, cardea_err *err)
{
    char *encoded = NULL;

    if (*err == CARDEA_OK) {
        *err = cardea_base64__encode_alloc(&encoded, data, len);
    }
    if (*err != CARDEA_OK) {
        return;
    }
    cardea_exchange_data__append_json_string(buf, name);
    put(buf, ":\"");
    put(buf, encoded);
    put(buf, "\"");
    cardea_mem__free_secret(encoded, strlen(encoded) + 1);
}

static cardea_err
append_keypair(cardea_buf *buf, const cardea_recovery_keypair *pair)
{
    uint8_t *spki = NULL, *pkcs8 = NULL;
    size_t spki_len = 0, pkcs8_len = 0;
    cardea_err err;

    if (pair->key == NULL ||
        (pair->oaep != CARDEA_RSA_OAEP_SHA1 &&
         pair->oaep != CARDEA_RSA_OAEP_SHA256)) {
        return CARDEA_EINVAL;
    }
    err = cardea_rsa__spki_der(&spki, &spki_len, pair->key);
    if (err == CARDEA_OK) {
        err = cardea_rsa__pkcs8_der(&pkcs8, &pkcs8_len, pair->key);
    }
    put(buf, "{\"pair\":{");
    append_b64_field(buf, "publicKey", spki, spki_len, &err);
    put(buf, ",");
    append_b64_field(buf, "privateKey", pkcs8, pkcs8_len, &err);
    put(buf, "},\"algorithm\":");
    put(buf, pair->oaep == CARDEA_RSA_OAEP_SHA1
                                          ? "\"sha-1\"}"
                                          : "\"sha-256\"}");
    cardea_mem__free(spki);
    if (pkcs8 != NULL) {
        cardea_mem__free_secret(pkcs8, pkcs8_len);
    }
    return err;
}

static bool
owner_seen_before(const cardea_recovery_keypair *pairs, size_t index)
{
    size_t i;

    for (i = 0; i < index; i++) {
        if (strcmp(pairs[i].owner_id, pairs[index].owner_id) == 0) {
            return true;
        }
    }
    return false;
}

/* see format/recovery.h */
cardea_err
cardea_recovery__keypairs_build(char **out, size_t *out_len,
                                const cardea_recovery_keypair *pairs,
                                size_t count)
{
    const char *owner;
    bool first_owner = true, first_pair;
    cardea_buf buf;
    size_t i, k, len;
    cardea_err err = CARDEA_OK;

    if (out == NULL || out_len == NULL || (pairs == NULL && count > 0)) {
        return CARDEA_EINVAL;
    }
    for (i = 0; i < count; i++) {
        if (pairs[i].owner_id == NULL) {
            return CARDEA_EINVAL;
        }
    }
    cardea_buf__init(&buf, MAX_CONTENT_LEN);
    put(&buf, "{");
    for (i = 0; i < count && err == CARDEA_OK; i++) {
        if (owner_seen_before(pairs, i)) {
            continue;
        }
        owner = pairs[i].owner_id;
        put(&buf, first_owner ? "" : ",");
        cardea_exchange_data__append_json_string(&buf, owner);
        put(&buf, ":[");
        first_pair = true;
        for (k = i; k < count && err == CARDEA_OK; k++) {
            if (strcmp(pairs[k].owner_id, owner) == 0) {
                put(&buf, first_pair ? "" : ",");
                err = append_keypair(&buf, &pairs[k]);
                first_pair = false;
            }
        }
        put(&buf, "]");
        first_owner = false;
    }
    put(&buf, "}");

    len = buf.len;
    if (err == CARDEA_OK) {
        err = cardea_buf__take_str(out, &buf);
    }
    if (err == CARDEA_OK) {
        *out_len = len;
    }
    cardea_buf__free(&buf, true);
    return err;
}

/* see format/recovery.h */
void
cardea_recovery__keypairs_free(cardea_recovered_keypair *pairs, size_t count)
{
    size_t i;

    if (pairs == NULL) {
        return;
    }
    for (i = 0; i < count; i++) {
        cardea_mem__free(pairs[i].owner_id);
        cardea_mem__free(pairs[i].spki_hex);
        cardea_rsa__free(pairs[i].key);
    }
    cardea_mem__free(pairs);
}

/* Decodes base64 and imports it as a key; EFORMAT for any bad input. */
static cardea_err
import_b64_key(cardea_rsa_key **out, uint8_t **der_out, size_t *der_len,
               const char *encoded, bool private_key)
{
    uint8_t *der = NULL;
    size_t len = 0;
    cardea_err err;

    err = cardea_base64__decode_alloc(&der, &len, encoded, strlen(encoded));
    if (err == CARDEA_OK) {
        err = private_key ? cardea_rsa__from_pkcs8(out, der, len)
                          : cardea_rsa__from_spki(out, der, len);
    }
    if (err == CARDEA_OK && private_key && !cardea_rsa__is_private(*out)) {
        cardea_rsa__free(*out);
        err = CARDEA_EFORMAT;
    }
    if (err == CARDEA_OK && der_out != NULL) {
        *der_out = der;
        *der_len = len;
        der = NULL;
    }
    if (der != NULL) {
        cardea_mem__free_secret(der, len);
    }
    return err == CARDEA_OK || err == CARDEA_ENOMEM ? err : CARDEA_EFORMAT;
}

static cardea_err
parse_algorithm(cardea_rsa_oaep *out, const char *name)
{
    if (name != NULL && strcmp(name, "sha-1") == 0) {
        *out = CARDEA_RSA_OAEP_SHA1;
    } else if (name != NULL && strcmp(name, "sha-256") == 0) {
        *out = CARDEA_RSA_OAEP_SHA256;
    } else {
        return CARDEA_EFORMAT;
    }
    return CARDEA_OK;
}

/* Reads one {"pair": {...}, "algorithm": ...} item into `out`. */
static cardea_err
parse_keypair(cardea_recovered_keypair *out, const char *owner,
              const json_t *item)
{
    const json_t *pair = json_object_get(item, "pair");
    const char *public_b64 = cardea_json__get_str(pair, "publicKey");
    const char *private_b64 = cardea_json__get_str(pair, "privateKey");
    cardea_rsa_key *private_key = NULL, *public_key = NULL;
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    cardea_recovered_keypair parsed = {0};
    cardea_err err;

    if (!json_is_object(pair) || public_b64 == NULL || private_b64 == NULL) {
        return CARDEA_EFORMAT;
    }
    err = parse_algorithm(&parsed.oaep,
                          cardea_json__get_str(item, "algorithm"));
    if (err == CARDEA_OK) {
        err = import_b64_key(&private_key, NULL, NULL, private_b64, true);
    }
    if (err == CARDEA_OK) {
        err = import_b64_key(&public_key, &spki, &spki_len, public_b64, false);
    }
    if (err == CARDEA_OK && !cardea_rsa__same_public(private_key, public_key)) {
        err = CARDEA_EVERIFY;
    }
    if (err == CARDEA_OK) {
        err = cardea_hex__encode_alloc(&parsed.spki_hex, spki, spki_len);
    }
    if (err == CARDEA_OK) {
        parsed.owner_id = cardea_mem__strdup(owner);
        err = parsed.owner_id == NULL ? CARDEA_ENOMEM : CARDEA_OK;
    }

    if (err == CARDEA_OK) {
        parsed.key = private_key;
        private_key = NULL;
        *out = parsed;
    } else {
        cardea_mem__free(parsed.spki_hex);
    }
    cardea_rsa__free(private_key);
    cardea_rsa__free(public_key);
    cardea_mem__free(spki);
    return err;
}

static cardea_err
parse_content(json_t **out, const char *json, size_t json_len)
{
    if (json == NULL || json_len > MAX_CONTENT_LEN) {
        return CARDEA_EINVAL;
    }
    return cardea_json__parse(out, json, json_len, NULL, 0);
}

/* see format/recovery.h */
cardea_err
cardea_recovery__keypairs_parse(cardea_recovered_keypair **out, size_t *count,
                                const char *json, size_t json_len)
{
    cardea_recovered_keypair *pairs = NULL;
    json_t *root = NULL, *items, *item;
    const char *owner;
    size_t total = 0, n = 0, i;
    cardea_err err;

    if (out == NULL || count == NULL) {
        return CARDEA_EINVAL;
    }
    err = parse_content(&root, json, json_len);
    if (err == CARDEA_OK && !json_is_object(root)) {
        err = CARDEA_EFORMAT;
    }
    if (err != CARDEA_OK) {
        goto out;
    }
    json_object_foreach(root, owner, items) {
        if (!json_is_array(items)) {
            err = CARDEA_EFORMAT;
            goto out;
        }
        total += json_array_size(items);
    }
    if (total > MAX_RECOVERED_ENTRIES) {
        err = CARDEA_ETOOBIG;
        goto out;
    }
    pairs = cardea_mem__calloc(total + 1, sizeof *pairs);
    if (pairs == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }

    json_object_foreach(root, owner, items) {
        json_array_foreach(items, i, item) {
            err = parse_keypair(&pairs[n], owner, item);
            if (err != CARDEA_OK) {
                goto out;
            }
            n++;
        }
    }
    *out = pairs;
    *count = n;
    pairs = NULL;
out:
    cardea_recovery__keypairs_free(pairs, n);
    release_secret_tree(root);
    return err;
}

/* ---- EXCHANGE_KEY_RECOVERY -------------------------------------------- */

static void
append_raw_field(cardea_buf *buf, const char *name, const uint8_t *data,
                 size_t len)
{
    char encoded[4 * ((CARDEA_SHARED_SIG_KEY_LEN + 2) / 3) + 1];

    if (cardea_base64__encode(encoded, sizeof encoded, data, len) !=
        CARDEA_OK) {
        /* Cannot happen for secrets of at most 128 bytes; fail the buffer. */
        buf->failed = true;
        return;
    }
    put(buf, ",");
    cardea_exchange_data__append_json_string(buf, name);
    put(buf, ":");
    cardea_exchange_data__append_json_string(buf, encoded);
    cardea_wipe(encoded, sizeof encoded);
}

/* see format/recovery.h */
cardea_err
cardea_recovery__exchange_build(char **out, size_t *out_len,
                                const cardea_recovery_exchange *entries,
                                size_t count)
{
    const cardea_exchange_content *content;
    cardea_buf buf;
    size_t i, len;
    cardea_err err;

    if (out == NULL || out_len == NULL || (entries == NULL && count > 0)) {
        return CARDEA_EINVAL;
    }
    for (i = 0; i < count; i++) {
        content = entries[i].content;
        if (entries[i].exchange_data_id == NULL || content == NULL ||
            content->exchange_key_len > CARDEA_EXCHANGE_KEY_LEN ||
            content->shared_signature_key_len > CARDEA_SHARED_SIG_KEY_LEN) {
            return CARDEA_EINVAL;
        }
    }
    cardea_buf__init(&buf, MAX_CONTENT_LEN);
    put(&buf, "[");
    for (i = 0; i < count; i++) {
        content = entries[i].content;
        put(&buf, i == 0 ? "{" : ",{");
        cardea_exchange_data__append_json_string(&buf, "exchangeDataId");
        put(&buf, ":");
        cardea_exchange_data__append_json_string(&buf,
                                                 entries[i].exchange_data_id);
        append_raw_field(&buf, "rawAccessControlSecret",
                         content->access_control_secret,
                         CARDEA_AC_SECRET_LEN);
        append_raw_field(&buf, "rawSharedSignatureKey",
                         content->shared_signature_key,
                         content->shared_signature_key_len);
        append_raw_field(&buf, "rawExchangeKey", content->exchange_key,
                         content->exchange_key_len);
        put(&buf, "}");
    }
    put(&buf, "]");

    len = buf.len;
    err = cardea_buf__take_str(out, &buf);
    if (err == CARDEA_OK) {
        *out_len = len;
    }
    cardea_buf__free(&buf, true);
    return err;
}

/* see format/recovery.h */
void
cardea_recovery__exchange_free(cardea_recovered_exchange *entries,
                               size_t count)
{
    size_t i;

    if (entries == NULL) {
        return;
    }
    for (i = 0; i < count; i++) {
        cardea_mem__free(entries[i].exchange_data_id);
        cardea_exchange_data__content_free(entries[i].content);
    }
    cardea_mem__free(entries);
}

/* Decodes a base64 secret of at most `cap` bytes; EFORMAT when invalid. */
static cardea_err
decode_secret(uint8_t *out, size_t cap, size_t *len, const char *encoded)
{
    if (encoded == NULL ||
        cardea_base64__decode(out, cap, len, encoded, strlen(encoded)) !=
            CARDEA_OK) {
        return CARDEA_EFORMAT;
    }
    return CARDEA_OK;
}

static cardea_err
parse_exchange_entry(cardea_recovered_exchange *out, const json_t *item)
{
    const char *id = cardea_json__get_str(item, "exchangeDataId");
    uint8_t exchange_key[CARDEA_EXCHANGE_KEY_LEN];
    uint8_t secret[CARDEA_AC_SECRET_LEN];
    uint8_t sig_key[CARDEA_SHARED_SIG_KEY_LEN];
    size_t key_len = 0, secret_len = 0, sig_len = 0;
    cardea_recovered_exchange parsed = {0};
    cardea_err err;

    err = id == NULL ? CARDEA_EFORMAT : CARDEA_OK;
    if (err == CARDEA_OK) {
        err = decode_secret(
            exchange_key, sizeof exchange_key, &key_len,
            cardea_json__get_str(item, "rawExchangeKey"));
    }
    if (err == CARDEA_OK) {
        err = decode_secret(
            secret, sizeof secret, &secret_len,
            cardea_json__get_str(item, "rawAccessControlSecret"));
    }
    if (err == CARDEA_OK) {
        err = decode_secret(
            sig_key, sizeof sig_key, &sig_len,
            cardea_json__get_str(item, "rawSharedSignatureKey"));
    }
    if (err == CARDEA_OK) {
        err = cardea_exchange_data__content_from_raw(
            &parsed.content, exchange_key, key_len, secret, secret_len,
            sig_key, sig_len);
        err = err == CARDEA_EINVAL ? CARDEA_EFORMAT : err;
    }
    if (err == CARDEA_OK) {
        parsed.exchange_data_id = cardea_mem__strdup(id);
        err = parsed.exchange_data_id == NULL ? CARDEA_ENOMEM : CARDEA_OK;
    }

    if (err == CARDEA_OK) {
        *out = parsed;
    } else {
        cardea_exchange_data__content_free(parsed.content);
    }
    cardea_wipe(exchange_key, sizeof exchange_key);
    cardea_wipe(secret, sizeof secret);
    cardea_wipe(sig_key, sizeof sig_key);
    return err;
}

/* see format/recovery.h */
cardea_err
cardea_recovery__exchange_parse(cardea_recovered_exchange **out,
                                size_t *count, const char *json,
                                size_t json_len)
{
    cardea_recovered_exchange *entries = NULL;
    json_t *root = NULL, *item;
    size_t n = 0, i;
    cardea_err err;

    if (out == NULL || count == NULL) {
        return CARDEA_EINVAL;
    }
    err = parse_content(&root, json, json_len);
    if (err == CARDEA_OK && !json_is_array(root)) {
        err = CARDEA_EFORMAT;
    }
    if (err == CARDEA_OK && json_array_size(root) > MAX_RECOVERED_ENTRIES) {
        err = CARDEA_ETOOBIG;
    }
    if (err != CARDEA_OK) {
        goto out;
    }
    entries = cardea_mem__calloc(json_array_size(root) + 1, sizeof *entries);
    if (entries == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }

    json_array_foreach(root, i, item) {
        err = parse_exchange_entry(&entries[n], item);
        if (err != CARDEA_OK) {
            goto out;
        }
        n++;
    }
    *out = entries;
    *count = n;
    entries = NULL;
out:
    cardea_recovery__exchange_free(entries, n);
    release_secret_tree(root);
    return err;
}
