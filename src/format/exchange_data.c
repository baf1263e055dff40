/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ExchangeData building, decryption, verification and update, compatible
 * with @icure/cardinal-sdk. The shared signature binds the delegator, the
 * delegate, the decrypted exchange key and access-control secret, and the
 * set of recipient fingerprints. The delegator signature lets only the
 * holder of one of the delegator's private keys vouch for the data. Both
 * matter because anyone with database access could otherwise plant
 * exchange data encrypted with a victim's real public keys.
 */
#include "format/exchange_data.h"

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* More recipient keys than any data owner hierarchy plausibly has. */
#define MAX_FINGERPRINTS 4096
/* Bound for S: 4096 fingerprints of 22 characters fit with room. */
#define MAX_SIGNATURE_INPUT ((size_t)1 << 20)

enum { MAP_EXCHANGE_KEY, MAP_AC_SECRET, MAP_SIG_KEY, MAP_COUNT };

static const char *const map_names[MAP_COUNT] = {
    "exchangeKey",
    "accessControlSecret",
    "sharedSignatureKey",
};

typedef char fingerprint[CARDEA_FP_V2_LEN + 1];

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

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__content_generate(cardea_exchange_content **out)
{
    cardea_exchange_content *content = NULL;
    cardea_err err;

    if ((err = cardea_exchange_data__content_empty(&content)) != CARDEA_OK) {
        return err;
    }
    cardea_random__bytes(content->exchange_key, CARDEA_EXCHANGE_KEY_LEN);
    content->exchange_key_len = CARDEA_EXCHANGE_KEY_LEN;
    cardea_random__bytes(content->access_control_secret,
                         CARDEA_AC_SECRET_LEN);
    cardea_random__bytes(content->shared_signature_key,
                         CARDEA_SHARED_SIG_KEY_LEN);
    content->shared_signature_key_len = CARDEA_SHARED_SIG_KEY_LEN;
    *out = content;
    return CARDEA_OK;
}

static bool
valid_lengths(size_t exchange_key_len, size_t ac_secret_len,
              size_t sig_key_len)
{
    return (exchange_key_len == CARDEA_AES128_KEY_LEN ||
            exchange_key_len == CARDEA_AES256_KEY_LEN) &&
           ac_secret_len == CARDEA_AC_SECRET_LEN &&
           sig_key_len >= CARDEA_SHARED_SIG_KEY_MIN_LEN &&
           sig_key_len <= CARDEA_SHARED_SIG_KEY_LEN;
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__content_from_raw(
    cardea_exchange_content **out, const uint8_t *exchange_key,
    size_t exchange_key_len, const uint8_t *ac_secret, size_t ac_secret_len,
    const uint8_t *sig_key, size_t sig_key_len)
{
    cardea_exchange_content *content;

    if (out == NULL || exchange_key == NULL || ac_secret == NULL ||
        sig_key == NULL ||
        !valid_lengths(exchange_key_len, ac_secret_len, sig_key_len)) {
        return CARDEA_EINVAL;
    }
    content = cardea_mem__calloc(1, sizeof *content);
    if (content == NULL) {
        return CARDEA_ENOMEM;
    }
    memcpy(content->exchange_key, exchange_key, exchange_key_len);
    content->exchange_key_len = exchange_key_len;
    memcpy(content->access_control_secret, ac_secret, ac_secret_len);
    memcpy(content->shared_signature_key, sig_key, sig_key_len);
    content->shared_signature_key_len = sig_key_len;
    *out = content;
    return CARDEA_OK;
}

/* see format/exchange_data.h */
void
cardea_exchange_data__content_free(cardea_exchange_content *content)
{
    cardea_mem__free_secret(content, sizeof *content);
}

/* ---- the shared-signature input S --------------------------------- */

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Appends `s` as the body of a JSON string the way JSON.stringify writes
 * it: quote, backslash and control characters escaped, the rest as is.
 */
static cardea_err
append_js_escaped(cardea_buf *buf, const char *s)
{
    static const char hex_digits[] = "0123456789abcdef";
    cardea_err err = CARDEA_OK;
    char esc[7];

    for (; *s != '\0' && err == CARDEA_OK; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            err = cardea_buf__append(buf, esc, 2);
        } else if (c < 0x20) {
            const char *shorthand = strchr("\bb\tt\nn\ff\rr", (int)c);

            if (c != 0 && shorthand != NULL) {
                esc[0] = '\\';
                esc[1] = shorthand[1];
                err = cardea_buf__append(buf, esc, 2);
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex_digits[c >> 4];
                esc[5] = hex_digits[c & 0x0f];
                err = cardea_buf__append(buf, esc, 6);
            }
        } else {
            err = cardea_buf__append(buf, s, 1);
        }
    }
    return err;
}

/* see format/exchange_data.h */
void
cardea_exchange_data__append_json_string(cardea_buf *buf, const char *s)
{
    put(buf, "\"");
    (void)append_js_escaped(buf, s);
    put(buf, "\"");
}

static cardea_err
append_text(cardea_buf *buf, const char *s, bool escape)
{
    return escape ? append_js_escaped(buf, s) : cardea_buf__append_str(buf, s);
}

/*
 * Appends one `["name","value"],` piece; see put() for failures.
 */
static void
append_pair(cardea_buf *buf, const char *name, const char *prefix,
            const char *value, const char *suffix, bool escape)
{
    put(buf, "[\"");
    put(buf, name);
    put(buf, "\",\"");
    put(buf, prefix);
    (void)append_text(buf, value, escape);
    put(buf, suffix);
    put(buf, "\"],");
}

static void
append_fingerprints(cardea_buf *buf, const char **sorted, size_t count,
                    bool escape)
{
    size_t i;
    bool first = true;

    put(buf, "[\"publicKeysFingerprints\",[");
    for (i = 0; i < count; i++) {
        if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0) {
            continue;
        }
        put(buf, first ? "\"" : ",\"");
        (void)append_text(buf, sorted[i], escape);
        put(buf, "\"");
        first = false;
    }
    put(buf, "]]");
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__signature_input(
    char **out, size_t *out_len, const char *delegator, const char *delegate,
    const cardea_exchange_content *content, const char *const *fps,
    size_t fps_count, cardea_shared_sig_form form)
{
    const char **sorted = NULL;
    char key_hex[2 * CARDEA_EXCHANGE_KEY_LEN + 1];
    char secret_hex[2 * CARDEA_AC_SECRET_LEN + 1];
    bool ts8 = form == CARDEA_SHARED_SIG_TS8;
    cardea_buf buf;
    size_t len;
    cardea_err err;

    if (out == NULL || out_len == NULL || delegator == NULL ||
        delegate == NULL || content == NULL ||
        (fps == NULL && fps_count > 0) || fps_count > MAX_FINGERPRINTS ||
        content->exchange_key_len > CARDEA_EXCHANGE_KEY_LEN ||
        (form != CARDEA_SHARED_SIG_KT && form != CARDEA_SHARED_SIG_TS8)) {
        return CARDEA_EINVAL;
    }
    sorted = cardea_mem__calloc(fps_count + 1, sizeof *sorted);
    if (sorted == NULL) {
        return CARDEA_ENOMEM;
    }
    if (fps_count > 0) {
        memcpy(sorted, fps, fps_count * sizeof *sorted);
        qsort(sorted, fps_count, sizeof *sorted, compare_strings);
    }
    cardea_buf__init(&buf, MAX_SIGNATURE_INPUT);
    err = cardea_hex__encode(key_hex, sizeof key_hex, content->exchange_key,
                             content->exchange_key_len);
    if (err == CARDEA_OK) {
        err = cardea_hex__encode(secret_hex, sizeof secret_hex,
                                 content->access_control_secret,
                                 CARDEA_AC_SECRET_LEN);
    }
    if (err != CARDEA_OK) {
        goto out;
    }

    put(&buf, "[");
    append_pair(&buf, "delegator", "", delegator, "", ts8);
    append_pair(&buf, "delegate", "", delegate, "", ts8);
    append_pair(&buf, "exchangeKey", "", key_hex, "", false);
    if (ts8) {
        append_pair(&buf, "accessControlSecret", "", secret_hex, "", false);
    } else {
        append_pair(&buf, "accessControlSecret", "AccessControlSecret(s=",
                    secret_hex, ")", false);
    }
    append_fingerprints(&buf, sorted, fps_count, ts8);
    /* The Kotlin SDK omits the closing bracket of the outer array. */
    if (ts8) {
        put(&buf, "]");
    }

    len = buf.len;
    err = cardea_buf__take_str(out, &buf);
    if (err == CARDEA_OK) {
        *out_len = len;
    }
out:
    cardea_buf__free(&buf, true);
    cardea_wipe(key_hex, sizeof key_hex);
    cardea_wipe(secret_hex, sizeof secret_hex);
    cardea_mem__free(sorted);
    return err;
}

/* ---- fingerprint maps ---------------------------------------------- */

/* see format/exchange_data.h */
const char *
cardea_exchange_data__fp_map_find(const json_t *map, const char *fp_v2)
{
    json_t *value;
    const char *name;
    void *iter;
    fingerprint parsed;

    if (!json_is_object(map) || fp_v2 == NULL) {
        return NULL;
    }
    value = json_object_get(map, fp_v2);
    if (json_is_string(value)) {
        return json_string_value(value);
    }
    /* json_object_iter takes a non-const pointer but does not write. */
    for (iter = json_object_iter((json_t *)map); iter != NULL;
         iter = json_object_iter_next((json_t *)map, iter)) {
        name = json_object_iter_key(iter);
        value = json_object_iter_value(iter);
        if (json_is_string(value) &&
            cardea_fp__parse_v2(parsed, name) == CARDEA_OK &&
            strcmp(parsed, fp_v2) == 0) {
            return json_string_value(value);
        }
    }
    return NULL;
}

static cardea_err
owner_fp_v2(fingerprint out, const cardea_owner_key *key)
{
    if (key == NULL || key->key == NULL || key->spki_hex == NULL) {
        return CARDEA_EINVAL;
    }
    return cardea_fp__v2(out, key->spki_hex, strlen(key->spki_hex));
}

/*
 * Collects the fingerprints v2 of the three encrypted maps, read
 * leniently, possibly with repeats. CARDEA_EFORMAT when a map is missing
 * or a key is not a fingerprint.
 */
static cardea_err
collect_fingerprints(fingerprint **out, size_t *out_count,
                     const json_t *exchange_data)
{
    const json_t *maps[MAP_COUNT];
    fingerprint *fps;
    const char *name;
    json_t *value;
    size_t total = 0, count = 0, i;

    for (i = 0; i < MAP_COUNT; i++) {
        maps[i] = json_object_get(exchange_data, map_names[i]);
        if (!json_is_object(maps[i])) {
            return CARDEA_EFORMAT;
        }
        total += json_object_size(maps[i]);
    }
    if (total > MAX_FINGERPRINTS) {
        return CARDEA_ETOOBIG;
    }
    fps = cardea_mem__calloc(total + 1, sizeof *fps);
    if (fps == NULL) {
        return CARDEA_ENOMEM;
    }
    for (i = 0; i < MAP_COUNT; i++) {
        json_object_foreach((json_t *)maps[i], name, value) {
            if (cardea_fp__parse_v2(fps[count], name) != CARDEA_OK) {
                cardea_mem__free(fps);
                return CARDEA_EFORMAT;
            }
            count++;
        }
    }
    *out = fps;
    *out_count = count;
    return CARDEA_OK;
}

/* ---- signatures ----------------------------------------------------- */

/* HMAC-SHA-512 over S computed from the maps of `exchange_data`. */
static cardea_err
shared_signature(uint8_t tag[CARDEA_SHA512_LEN], const json_t *exchange_data,
                 const cardea_exchange_content *content,
                 cardea_shared_sig_form form)
{
    const char *delegator = cardea_json__get_str(exchange_data, "delegator");
    const char *delegate = cardea_json__get_str(exchange_data, "delegate");
    fingerprint *fps = NULL;
    const char **names = NULL;
    char *input = NULL;
    size_t count = 0, input_len = 0, i;
    cardea_err err;

    if (delegator == NULL || delegate == NULL) {
        return CARDEA_EFORMAT;
    }
    err = collect_fingerprints(&fps, &count, exchange_data);
    if (err != CARDEA_OK) {
        return err;
    }
    names = cardea_mem__calloc(count + 1, sizeof *names);
    if (names == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    for (i = 0; i < count; i++) {
        names[i] = fps[i];
    }
    err = cardea_exchange_data__signature_input(&input, &input_len, delegator,
                                                delegate, content, names,
                                                count, form);
    if (err == CARDEA_OK) {
        err = cardea_hmac__sha512(tag, content->shared_signature_key,
                                  content->shared_signature_key_len, input,
                                  input_len);
    }
out:
    if (input != NULL) {
        cardea_mem__free_secret(input, input_len + 1);
    }
    cardea_mem__free(names);
    cardea_mem__free(fps);
    return err;
}

/*
 * Finds which form, if any, the stored sharedSignature verifies in.
 * *form is 0 when it verifies in neither or the data is malformed.
 */
static cardea_err
shared_signature_form(int *form, const json_t *exchange_data,
                      const cardea_exchange_content *content)
{
    static const cardea_shared_sig_form forms[] = {
        CARDEA_SHARED_SIG_KT,
        CARDEA_SHARED_SIG_TS8,
    };
    const char *stored = cardea_json__get_str(exchange_data,
                                              "sharedSignature");
    uint8_t stored_tag[CARDEA_SHA512_LEN];
    uint8_t tag[CARDEA_SHA512_LEN];
    size_t stored_len = 0, i;
    cardea_err err = CARDEA_OK;

    *form = 0;
    if (stored == NULL ||
        cardea_base64__decode(stored_tag, sizeof stored_tag, &stored_len,
                              stored, strlen(stored)) != CARDEA_OK ||
        stored_len != sizeof stored_tag) {
        return CARDEA_OK;
    }
    for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        err = shared_signature(tag, exchange_data, content, forms[i]);
        if (err != CARDEA_OK) {
            break;
        }
        if (cardea_ct_equal(tag, stored_tag, sizeof tag)) {
            *form = (int)forms[i];
            break;
        }
    }
    cardea_wipe(tag, sizeof tag);
    /* Malformed data is simply not verified; only ENOMEM is an error. */
    return err == CARDEA_ENOMEM ? err : CARDEA_OK;
}

cardea_err
cardea_exchange_data__check_shared_signature(
    bool *out, const json_t *exchange_data,
    const cardea_exchange_content *content)
{
    int form = 0;
    cardea_err err;

    if (out == NULL || exchange_data == NULL || content == NULL) {
        return CARDEA_EINVAL;
    }
    err = shared_signature_form(&form, exchange_data, content);
    if (err != CARDEA_OK) {
        return err;
    }
    *out = form != 0;
    return CARDEA_OK;
}

static cardea_err
set_shared_signature(json_t *exchange_data,
                     const cardea_exchange_content *content,
                     cardea_shared_sig_form form)
{
    uint8_t tag[CARDEA_SHA512_LEN];
    char encoded[CARDEA_SHA512_LEN * 2];
    cardea_err err;

    err = shared_signature(tag, exchange_data, content, form);
    if (err == CARDEA_OK) {
        err = cardea_base64__encode(encoded, sizeof encoded, tag, sizeof tag);
    }
    if (err == CARDEA_OK) {
        err = cardea_json__set_str(exchange_data, "sharedSignature", encoded);
    }
    cardea_wipe(tag, sizeof tag);
    return err;
}

/*
 * HMAC-SHA-512 keyed with SHA-512(PKCS#8 DER of `key`) over
 * SHA-256(shared-signature key), as the Kotlin SDK signs since Nov 2024.
 */
static cardea_err
delegator_signature(uint8_t tag[CARDEA_SHA512_LEN], const cardea_rsa_key *key,
                    const cardea_exchange_content *content)
{
    uint8_t hmac_key[CARDEA_SHA512_LEN];
    uint8_t digest[CARDEA_SHA256_LEN];
    uint8_t *der = NULL;
    size_t der_len = 0;
    cardea_err err;

    err = cardea_rsa__pkcs8_der(&der, &der_len, key);
    if (err != CARDEA_OK) {
        return err;
    }
    cardea_hash__sha512(hmac_key, der, der_len);
    cardea_hash__sha256(digest, content->shared_signature_key,
                        content->shared_signature_key_len);
    err = cardea_hmac__sha512(tag, hmac_key, sizeof hmac_key, digest,
                              sizeof digest);
    cardea_mem__free_secret(der, der_len);
    cardea_wipe(hmac_key, sizeof hmac_key);
    cardea_wipe(digest, sizeof digest);
    return err;
}

/* ---- building ------------------------------------------------------- */

static cardea_err
get_or_add_object(json_t **out, json_t *parent, const char *name)
{
    json_t *child = json_object_get(parent, name);

    if (child == NULL || json_is_null(child)) {
        if (cardea_json__set_new(parent, name, json_object()) != CARDEA_OK) {
            return CARDEA_ENOMEM;
        }
        child = json_object_get(parent, name);
    }
    if (!json_is_object(child)) {
        return CARDEA_EFORMAT;
    }
    *out = child;
    return CARDEA_OK;
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__rsa_encrypt_b64(char **out, const cardea_owner_key *key,
                                      const uint8_t *msg, size_t msg_len)
{
    uint8_t *ct = NULL;
    size_t ct_len = 0;
    cardea_err err;

    if (out == NULL || key == NULL || key->key == NULL || msg == NULL) {
        return CARDEA_EINVAL;
    }
    err = cardea_rsa__encrypt(&ct, &ct_len, key->key, key->oaep, msg, msg_len);
    if (err == CARDEA_OK) {
        err = cardea_base64__encode_alloc(out, ct, ct_len);
    }
    cardea_mem__free(ct);
    return err;
}

static cardea_err
add_encrypted_entry(json_t *map, const char *fp, const cardea_owner_key *key,
                    const uint8_t *secret, size_t secret_len)
{
    char *encoded = NULL;
    cardea_err err;

    err = cardea_exchange_data__rsa_encrypt_b64(&encoded, key, secret,
                                                secret_len);
    if (err == CARDEA_OK) {
        err = cardea_json__set_str(map, fp, encoded);
    }
    cardea_mem__free(encoded);
    return err;
}

/* Adds, for each key, the entries that each of the three maps lacks. */
static cardea_err
add_recipients(json_t *exchange_data, const cardea_exchange_content *content,
               const cardea_owner_key *keys, size_t count)
{
    const uint8_t *secrets[MAP_COUNT] = {
        content->exchange_key,
        content->access_control_secret,
        content->shared_signature_key,
    };
    const size_t lengths[MAP_COUNT] = {
        content->exchange_key_len,
        CARDEA_AC_SECRET_LEN,
        content->shared_signature_key_len,
    };
    json_t *maps[MAP_COUNT];
    fingerprint fp;
    size_t i, m;
    cardea_err err;

    for (m = 0; m < MAP_COUNT; m++) {
        err = get_or_add_object(&maps[m], exchange_data, map_names[m]);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    for (i = 0; i < count; i++) {
        err = owner_fp_v2(fp, &keys[i]);
        for (m = 0; m < MAP_COUNT && err == CARDEA_OK; m++) {
            if (cardea_exchange_data__fp_map_find(maps[m], fp) == NULL) {
                err = add_encrypted_entry(maps[m], fp, &keys[i], secrets[m],
                                          lengths[m]);
            }
        }
        if (err != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

static cardea_err
add_delegator_signatures(json_t *exchange_data,
                         const cardea_exchange_content *content,
                         const cardea_owner_key *signers, size_t count)
{
    uint8_t tag[CARDEA_SHA512_LEN];
    char encoded[CARDEA_SHA512_LEN * 2];
    json_t *map = NULL;
    fingerprint fp;
    size_t i;
    cardea_err err;

    err = get_or_add_object(&map, exchange_data, "delegatorSignature");
    for (i = 0; i < count && err == CARDEA_OK; i++) {
        err = owner_fp_v2(fp, &signers[i]);
        if (err != CARDEA_OK ||
            cardea_exchange_data__fp_map_find(map, fp) != NULL) {
            continue;
        }
        err = delegator_signature(tag, signers[i].key, content);
        if (err == CARDEA_OK) {
            err = cardea_base64__encode(encoded, sizeof encoded, tag,
                                        sizeof tag);
        }
        if (err == CARDEA_OK) {
            err = cardea_json__set_str(map, fp, encoded);
        }
    }
    cardea_wipe(tag, sizeof tag);
    return err;
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__create(
    json_t **out, const char *id, const char *delegator, const char *delegate,
    const cardea_exchange_content *content,
    const cardea_owner_key *recipients, size_t recipients_count,
    const cardea_owner_key *signers, size_t signers_count)
{
    char uuid[CARDEA_UUID_STR_LEN + 1];
    json_t *xd;
    cardea_err err;

    if (out == NULL || delegator == NULL || delegate == NULL ||
        content == NULL || recipients == NULL || recipients_count == 0 ||
        (signers == NULL && signers_count > 0)) {
        return CARDEA_EINVAL;
    }
    if (id == NULL) {
        cardea_uuid__v4(uuid);
        id = uuid;
    }
    xd = json_object();
    if (xd == NULL) {
        return CARDEA_ENOMEM;
    }

    err = cardea_json__set_str(xd, "id", id);
    if (err == CARDEA_OK) {
        err = cardea_json__set_str(xd, "delegator", delegator);
    }
    if (err == CARDEA_OK) {
        err = cardea_json__set_str(xd, "delegate", delegate);
    }
    if (err == CARDEA_OK) {
        err = add_recipients(xd, content, recipients, recipients_count);
    }
    if (err == CARDEA_OK) {
        err = set_shared_signature(xd, content, CARDEA_SHARED_SIG_KT);
    }
    if (err == CARDEA_OK) {
        err = add_delegator_signatures(xd, content, signers, signers_count);
    }

    if (err != CARDEA_OK) {
        json_decref(xd);
        return err;
    }
    *out = xd;
    return CARDEA_OK;
}

/* ---- decryption ----------------------------------------------------- */

static cardea_err
rsa_decrypt_b64(uint8_t **out, size_t *out_len, const cardea_owner_key *key,
                const char *encoded)
{
    uint8_t *ct = NULL;
    size_t ct_len = 0;
    cardea_err err;

    err = cardea_base64__decode_alloc(&ct, &ct_len, encoded, strlen(encoded));
    if (err == CARDEA_ENOMEM) {
        return err;
    }
    if (err != CARDEA_OK) {
        return CARDEA_EVERIFY;
    }
    err = cardea_rsa__decrypt(out, out_len, key->key, key->oaep, ct, ct_len);
    cardea_mem__free(ct);
    if (err != CARDEA_OK && err != CARDEA_ENOMEM) {
        err = CARDEA_EVERIFY;
    }
    return err;
}

/* Decrypts the three entries `values` with one key. */
static cardea_err
decrypt_with_key(cardea_exchange_content **out, const cardea_owner_key *key,
                 const char *const values[MAP_COUNT])
{
    uint8_t *plain[MAP_COUNT] = {NULL, NULL, NULL};
    size_t lengths[MAP_COUNT] = {0, 0, 0};
    size_t m;
    cardea_err err = CARDEA_OK;

    for (m = 0; m < MAP_COUNT && err == CARDEA_OK; m++) {
        err = rsa_decrypt_b64(&plain[m], &lengths[m], key, values[m]);
    }
    if (err == CARDEA_OK &&
        !valid_lengths(lengths[MAP_EXCHANGE_KEY], lengths[MAP_AC_SECRET],
                       lengths[MAP_SIG_KEY])) {
        err = CARDEA_EVERIFY;
    }
    if (err == CARDEA_OK) {
        err = cardea_exchange_data__content_from_raw(
            out, plain[MAP_EXCHANGE_KEY], lengths[MAP_EXCHANGE_KEY],
            plain[MAP_AC_SECRET], lengths[MAP_AC_SECRET], plain[MAP_SIG_KEY],
            lengths[MAP_SIG_KEY]);
    }
    for (m = 0; m < MAP_COUNT; m++) {
        cardea_mem__free_secret(plain[m], lengths[m]);
    }
    return err;
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__decrypt(cardea_exchange_content **out,
                              const json_t *exchange_data,
                              const cardea_owner_key *keys, size_t keys_count)
{
    const json_t *maps[MAP_COUNT];
    const char *values[MAP_COUNT];
    fingerprint fp;
    bool found = false;
    size_t i, m;
    cardea_err err;

    if (out == NULL || exchange_data == NULL ||
        (keys == NULL && keys_count > 0)) {
        return CARDEA_EINVAL;
    }
    for (m = 0; m < MAP_COUNT; m++) {
        maps[m] = json_object_get(exchange_data, map_names[m]);
        if (!json_is_object(maps[m])) {
            return CARDEA_EFORMAT;
        }
    }
    for (i = 0; i < keys_count; i++) {
        if (owner_fp_v2(fp, &keys[i]) != CARDEA_OK) {
            continue;
        }
        for (m = 0; m < MAP_COUNT; m++) {
            values[m] = cardea_exchange_data__fp_map_find(maps[m], fp);
            if (values[m] == NULL) {
                break;
            }
        }
        if (m < MAP_COUNT) {
            continue;
        }
        found = true;
        err = decrypt_with_key(out, &keys[i], values);
        if (err == CARDEA_OK || err == CARDEA_ENOMEM) {
            return err;
        }
    }
    return found ? CARDEA_EVERIFY : CARDEA_ENOKEY;
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__content_empty(cardea_exchange_content **out)
{
    cardea_exchange_content *content;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    content = cardea_mem__calloc(1, sizeof *content);
    if (content == NULL) {
        return CARDEA_ENOMEM;
    }
    *out = content;
    return CARDEA_OK;
}

static bool
valid_secret_length(cardea_exchange_secret secret, size_t len)
{
    switch (secret) {
    case CARDEA_EXCHANGE_SECRET_KEY:
        return len == CARDEA_AES128_KEY_LEN || len == CARDEA_AES256_KEY_LEN;
    case CARDEA_EXCHANGE_SECRET_AC:
        return len == CARDEA_AC_SECRET_LEN;
    case CARDEA_EXCHANGE_SECRET_SIGNATURE:
        return len >= CARDEA_SHARED_SIG_KEY_MIN_LEN &&
               len <= CARDEA_SHARED_SIG_KEY_LEN;
    }
    return false;
}

/* Copies a decrypted secret of valid length into its member. */
static void
store_secret(cardea_exchange_content *content, cardea_exchange_secret secret,
             const uint8_t *plain, size_t len)
{
    switch (secret) {
    case CARDEA_EXCHANGE_SECRET_KEY:
        memcpy(content->exchange_key, plain, len);
        content->exchange_key_len = len;
        break;
    case CARDEA_EXCHANGE_SECRET_AC:
        memcpy(content->access_control_secret, plain, len);
        break;
    case CARDEA_EXCHANGE_SECRET_SIGNATURE:
        memcpy(content->shared_signature_key, plain, len);
        content->shared_signature_key_len = len;
        break;
    }
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__decrypt_secret(cardea_exchange_content *content,
                                     const json_t *exchange_data,
                                     cardea_exchange_secret secret,
                                     const cardea_owner_key *keys,
                                     size_t keys_count)
{
    const json_t *map;
    const char *value;
    fingerprint fp;
    bool found = false;
    size_t i;

    if (content == NULL || exchange_data == NULL ||
        (keys == NULL && keys_count > 0) ||
        (secret != CARDEA_EXCHANGE_SECRET_KEY &&
         secret != CARDEA_EXCHANGE_SECRET_AC &&
         secret != CARDEA_EXCHANGE_SECRET_SIGNATURE)) {
        return CARDEA_EINVAL;
    }
    map = json_object_get(exchange_data, map_names[secret]);
    if (!json_is_object(map)) {
        return CARDEA_EFORMAT;
    }
    for (i = 0; i < keys_count; i++) {
        uint8_t *plain = NULL;
        size_t len = 0;
        bool valid;
        cardea_err err;

        if (owner_fp_v2(fp, &keys[i]) != CARDEA_OK) {
            continue;
        }
        value = cardea_exchange_data__fp_map_find(map, fp);
        if (value == NULL) {
            continue;
        }
        found = true;
        err = rsa_decrypt_b64(&plain, &len, &keys[i], value);
        if (err == CARDEA_ENOMEM) {
            return err;
        }
        valid = err == CARDEA_OK && valid_secret_length(secret, len);
        if (valid) {
            store_secret(content, secret, plain, len);
        }
        cardea_mem__free_secret(plain, len);
        if (valid) {
            return CARDEA_OK;
        }
    }
    return found ? CARDEA_EVERIFY : CARDEA_ENOKEY;
}

/* ---- verification and update ---------------------------------------- */

/*
 * Checks rule 2 of verification: some delegatorSignature entry matches a
 * verified key of ours, and every matching entry is right.
 */
static cardea_err
delegator_signatures_ok(bool *ok, const json_t *exchange_data,
                        const cardea_exchange_content *content,
                        const cardea_owner_key *keys, size_t count)
{
    const json_t *map = json_object_get(exchange_data, "delegatorSignature");
    uint8_t expected[CARDEA_SHA512_LEN];
    uint8_t stored[CARDEA_SHA512_LEN];
    size_t matched = 0, mismatched = 0, stored_len, i;
    const char *value;
    fingerprint fp;
    cardea_err err = CARDEA_OK;

    for (i = 0; i < count && err == CARDEA_OK; i++) {
        if (owner_fp_v2(fp, &keys[i]) != CARDEA_OK) {
            continue;
        }
        value = cardea_exchange_data__fp_map_find(map, fp);
        if (value == NULL) {
            continue;
        }
        matched++;
        stored_len = 0;
        err = delegator_signature(expected, keys[i].key, content);
        if (err == CARDEA_OK &&
            (cardea_base64__decode(stored, sizeof stored, &stored_len, value,
                                   strlen(value)) != CARDEA_OK ||
             stored_len != sizeof stored ||
             !cardea_ct_equal(expected, stored, sizeof stored))) {
            mismatched++;
        }
    }
    cardea_wipe(expected, sizeof expected);
    *ok = err == CARDEA_OK && matched > 0 && mismatched == 0;
    return err;
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__verify(bool *out, const json_t *exchange_data,
                             const cardea_exchange_content *content,
                             const char *self_id,
                             const cardea_owner_key *verified_keys,
                             size_t verified_count)
{
    const char *delegator;
    bool signatures_ok = false;
    int form = 0;
    cardea_err err;

    if (out == NULL || exchange_data == NULL || content == NULL ||
        self_id == NULL || (verified_keys == NULL && verified_count > 0)) {
        return CARDEA_EINVAL;
    }
    delegator = cardea_json__get_str(exchange_data, "delegator");
    if (delegator == NULL || strcmp(delegator, self_id) != 0) {
        *out = false;
        return CARDEA_OK;
    }
    err = delegator_signatures_ok(&signatures_ok, exchange_data, content,
                                  verified_keys, verified_count);
    if (err == CARDEA_ENOMEM) {
        return err;
    }
    if (signatures_ok) {
        err = shared_signature_form(&form, exchange_data, content);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    *out = signatures_ok && form != 0;
    return CARDEA_OK;
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__update(
    json_t **out, const json_t *exchange_data,
    const cardea_exchange_content *content, const cardea_owner_key *added,
    size_t added_count, const char *self_id, const cardea_owner_key *signers,
    size_t signers_count)
{
    const char *delegator;
    json_t *copy;
    int form = 0;
    cardea_err err;

    if (out == NULL || exchange_data == NULL || content == NULL ||
        (added == NULL && added_count > 0) ||
        (signers == NULL && signers_count > 0)) {
        return CARDEA_EINVAL;
    }
    delegator = cardea_json__get_str(exchange_data, "delegator");
    if (delegator == NULL ||
        cardea_json__get_str(exchange_data, "delegate") == NULL) {
        return CARDEA_EFORMAT;
    }
    err = shared_signature_form(&form, exchange_data, content);
    if (err != CARDEA_OK) {
        return err;
    }
    copy = json_deep_copy(exchange_data);
    if (copy == NULL) {
        return CARDEA_ENOMEM;
    }

    err = add_recipients(copy, content, added, added_count);
    if (err == CARDEA_OK && form != 0) {
        err = set_shared_signature(copy, content,
                                   (cardea_shared_sig_form)form);
    }
    if (err == CARDEA_OK && self_id != NULL && signers_count > 0 &&
        strcmp(delegator, self_id) == 0) {
        err = add_delegator_signatures(copy, content, signers, signers_count);
    }

    if (err != CARDEA_OK) {
        json_decref(copy);
        return err;
    }
    *out = copy;
    return CARDEA_OK;
}

/* ---- encrypted exchange-data ids ------------------------------------- */

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__encrypt_id(json_t **out, const char *id,
                                 const cardea_owner_key *keys,
                                 size_t keys_count)
{
    fingerprint fp;
    json_t *map;
    size_t i;
    cardea_err err = CARDEA_OK;

    if (out == NULL || id == NULL || keys == NULL || keys_count == 0) {
        return CARDEA_EINVAL;
    }
    map = json_object();
    if (map == NULL) {
        return CARDEA_ENOMEM;
    }
    for (i = 0; i < keys_count && err == CARDEA_OK; i++) {
        err = owner_fp_v2(fp, &keys[i]);
        if (err == CARDEA_OK &&
            cardea_exchange_data__fp_map_find(map, fp) == NULL) {
            err = add_encrypted_entry(map, fp, &keys[i], (const uint8_t *)id,
                                      strlen(id));
        }
    }
    if (err != CARDEA_OK) {
        json_decref(map);
        return err;
    }
    *out = map;
    return CARDEA_OK;
}

static bool
is_printable_ascii(const uint8_t *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            return false;
        }
    }
    return len > 0;
}

/* see format/exchange_data.h */
cardea_err
cardea_exchange_data__decrypt_id(char **out, const json_t *encrypted_ids,
                                 const cardea_owner_key *keys,
                                 size_t keys_count)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0, i;
    const char *value;
    fingerprint fp;
    bool found = false;
    char *id;
    cardea_err err;

    if (out == NULL || (keys == NULL && keys_count > 0)) {
        return CARDEA_EINVAL;
    }
    if (!json_is_object(encrypted_ids)) {
        return CARDEA_EFORMAT;
    }
    for (i = 0; i < keys_count; i++) {
        if (owner_fp_v2(fp, &keys[i]) != CARDEA_OK) {
            continue;
        }
        value = cardea_exchange_data__fp_map_find(encrypted_ids, fp);
        if (value == NULL) {
            continue;
        }
        found = true;
        err = rsa_decrypt_b64(&plain, &plain_len, &keys[i], value);
        if (err == CARDEA_ENOMEM) {
            return err;
        }
        if (err != CARDEA_OK) {
            continue;
        }
        if (!is_printable_ascii(plain, plain_len)) {
            cardea_mem__free(plain);
            continue;
        }
        id = cardea_mem__strndup((const char *)plain, plain_len);
        cardea_mem__free(plain);
        if (id == NULL) {
            return CARDEA_ENOMEM;
        }
        *out = id;
        return CARDEA_OK;
    }
    return found ? CARDEA_EVERIFY : CARDEA_ENOKEY;
}
