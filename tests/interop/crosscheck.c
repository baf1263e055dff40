/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The C half of the cross-implementation test between Cardea and Node.js
 * WebCrypto, the crypto layer of the official SDK's JavaScript build.
 * "crosscheck check FILE" reads vectors written by webcrypto_vectors.mjs.
 * It re-imports and re-exports WebCrypto's PKCS#8 and SPKI keys, which
 * must come out byte for byte the same, and decrypts every RSA-OAEP and
 * AES-CBC ciphertext. It also reproduces every deterministic value byte
 * for byte: hashes, HMACs, fingerprints, acKey, sdKey, shared-signature
 * text and HMAC, delegator signature, secure-delegation values and whole
 * ExchangeData objects. "crosscheck write FILE" generates Cardea's own
 * keys and vectors in the same JSON layout for webcrypto_check.mjs.
 *
 * Check mode prints one line per case group, "webcrypto -> cardea: GROUP:
 * N passed, M failed", and names each failed case and check, never a key
 * or plaintext. Exit status is 0 when everything passed, 1 on a failed
 * case and 2 on a usage or file error.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/delegation.h"
#include "format/exchange_data.h"
#include "format/keys.h"

#define VECTOR_FORMAT "cardea-interop-vectors/1"
#define DIRECTION "webcrypto -> cardea"
#define MAX_RSA_KEYS 4
#define MAX_GROUPS 24
#define KEY_ID_MAX 32
#define SECURE_DELEGATION_PREFIX "Cure"
#define SECURE_DELEGATION_PREFIX_LEN 4

/* An RSA key of the vector file, imported (check) or generated (write). */
typedef struct rsa_slot {
    char id[KEY_ID_MAX];
    cardea_rsa_oaep oaep;
    cardea_rsa_key *key;
    uint8_t *pkcs8;   /* Cardea's own PKCS#8 export of `key` */
    size_t pkcs8_len;
    char *spki_hex;
    char fp_v2[CARDEA_FP_V2_LEN + 1];
} rsa_slot;

typedef struct group_tally {
    const char *label;
    unsigned passed;
    unsigned failed;
} group_tally;

typedef struct checker {
    rsa_slot keys[MAX_RSA_KEYS];
    size_t key_count;
    group_tally groups[MAX_GROUPS];
    size_t group_count;
} checker;

/* Decoded bytes of one vector field, wiped when freed. */
typedef struct bytes {
    uint8_t *data;
    size_t len;
} bytes;

/* ---- small helpers -------------------------------------------------- */

static void
bytes_free(bytes *b)
{
    if (b->data != NULL) {
        cardea_mem__free_secret(b->data, b->len);
    }
    b->data = NULL;
    b->len = 0;
}

static bool
same_bytes(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    return a_len == b_len && (a_len == 0 || cardea_ct_equal(a, b, a_len));
}

static bool
get_hex(bytes *out, const json_t *obj, const char *name)
{
    const char *text = cardea_json__get_str(obj, name);

    if (text == NULL) {
        return false;
    }
    return cardea_hex__decode_alloc(&out->data, &out->len, text,
                                    strlen(text)) == CARDEA_OK;
}

static bool
get_base64(bytes *out, const json_t *obj, const char *name)
{
    const char *text = cardea_json__get_str(obj, name);

    if (text == NULL) {
        return false;
    }
    return cardea_base64__decode_alloc(&out->data, &out->len, text,
                                       strlen(text)) == CARDEA_OK;
}

/* True when `text` is the base64 encoding of the `len` bytes at `data`. */
static bool
base64_matches(const char *text, const uint8_t *data, size_t len)
{
    char *encoded = NULL;
    bool equal;

    if (text == NULL
        || cardea_base64__encode_alloc(&encoded, data, len) != CARDEA_OK) {
        return false;
    }
    equal = strcmp(encoded, text) == 0;
    cardea_free(encoded);
    return equal;
}

static bool
hex_matches(const char *text, const uint8_t *data, size_t len)
{
    char *encoded = NULL;
    bool equal;

    if (text == NULL
        || cardea_hex__encode_alloc(&encoded, data, len) != CARDEA_OK) {
        return false;
    }
    equal = strcmp(encoded, text) == 0;
    cardea_mem__free_secret(encoded, 2 * len + 1);
    return equal;
}

static bool
parse_oaep(cardea_rsa_oaep *out, const char *name)
{
    if (name != NULL && strcmp(name, "SHA-1") == 0) {
        *out = CARDEA_RSA_OAEP_SHA1;
        return true;
    }
    if (name != NULL && strcmp(name, "SHA-256") == 0) {
        *out = CARDEA_RSA_OAEP_SHA256;
        return true;
    }
    return false;
}

static const char *
oaep_name(cardea_rsa_oaep oaep)
{
    return oaep == CARDEA_RSA_OAEP_SHA1 ? "SHA-1" : "SHA-256";
}

static void
slot_clear(rsa_slot *slot)
{
    cardea_rsa__free(slot->key);
    if (slot->pkcs8 != NULL) {
        cardea_mem__free_secret(slot->pkcs8, slot->pkcs8_len);
    }
    cardea_free(slot->spki_hex);
    memset(slot, 0, sizeof *slot);
}

static const rsa_slot *
find_slot(const rsa_slot *slots, size_t count, const char *id)
{
    for (size_t i = 0; id != NULL && i < count; i++) {
        if (strcmp(slots[i].id, id) == 0) {
            return &slots[i];
        }
    }
    return NULL;
}

static cardea_owner_key
owner_key_of(const rsa_slot *slot)
{
    cardea_owner_key owner = {slot->key, slot->oaep, slot->spki_hex};

    return owner;
}

/* ---- format values composed from primitives ------------------------ */

/*
 * Computes the delegator signature of the current Kotlin SDK: HMAC-SHA-512
 * keyed with SHA-512 of the PKCS#8 DER, over SHA-256 of the
 * shared-signature key.
 * NOTE: composed from primitives because the format layer computes this
 * value only inside cardea_exchange_data__create and __verify. The
 * exchange-data group covers the library's own code.
 */
static cardea_err
delegator_signature(uint8_t out[CARDEA_SHA512_LEN], const uint8_t *pkcs8,
                    size_t pkcs8_len, const uint8_t *shared_key,
                    size_t shared_key_len)
{
    uint8_t hmac_key[CARDEA_SHA512_LEN];
    uint8_t data[CARDEA_SHA256_LEN];
    cardea_err err;

    cardea_hash__sha512(hmac_key, pkcs8, pkcs8_len);
    cardea_hash__sha256(data, shared_key, shared_key_len);
    err = cardea_hmac__sha512(out, hmac_key, sizeof hmac_key, data,
                              sizeof data);
    cardea_wipe(hmac_key, sizeof hmac_key);
    return err;
}

/*
 * Builds the plaintext of a secure-delegation value. For encryptionKeys it
 * is "Cure" then the raw key bytes (hex in the vectors). For secretIds and
 * owningEntityIds it is "Cure" then the UTF-8 text. Check mode compares
 * both this reference and the cardea_delegation__decrypt_* functions with
 * WebCrypto's values.
 */
static bool
secure_delegation_plaintext(bytes *out, const char *field, const char *value)
{
    bytes raw = {NULL, 0};
    const uint8_t *tail = (const uint8_t *)value;
    size_t tail_len = value != NULL ? strlen(value) : 0;
    bool ok = false;

    if (field == NULL || value == NULL) {
        return false;
    }
    if (strcmp(field, "encryptionKeys") == 0) {
        if (cardea_hex__decode_alloc(&raw.data, &raw.len, value, tail_len)
            != CARDEA_OK) {
            return false;
        }
        tail = raw.data;
        tail_len = raw.len;
    } else if (strcmp(field, "secretIds") != 0
               && strcmp(field, "owningEntityIds") != 0) {
        return false;
    }

    out->len = SECURE_DELEGATION_PREFIX_LEN + tail_len;
    if ((out->data = cardea_mem__alloc(out->len)) != NULL) {
        memcpy(out->data, SECURE_DELEGATION_PREFIX,
               SECURE_DELEGATION_PREFIX_LEN);
        if (tail_len > 0) {
            memcpy(out->data + SECURE_DELEGATION_PREFIX_LEN, tail, tail_len);
        }
        ok = true;
    }
    bytes_free(&raw);
    return ok;
}

/*
 * Collects the strings of a JSON array into a new array of pointers into
 * the JSON value. Free the array (not the strings) with cardea_free.
 */
static bool
string_list(const char ***out, size_t *out_count, const json_t *array)
{
    size_t count = json_array_size(array);
    const char **list;

    if (!json_is_array(array)
        || (list = cardea_mem__calloc(count, sizeof *list)) == NULL) {
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        list[i] = json_string_value(json_array_get(array, i));
        if (list[i] == NULL) {
            cardea_free(list);
            return false;
        }
    }
    *out = list;
    *out_count = count;
    return true;
}

/* ---- check mode: one function per case group ------------------------ */

/*
 * Each check returns NULL when the case passed, or a short reason naming
 * the failed check. Reasons never contain vector data.
 */
typedef const char *(*check_fn)(checker *c, const json_t *entry);

/* Imports both halves of a WebCrypto key pair and re-exports them. */
static const char *
import_rsa_slot(rsa_slot *slot, const json_t *entry)
{
    bytes pkcs8 = {NULL, 0};
    bytes spki = {NULL, 0};
    cardea_rsa_key *pub = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    const char *fail = NULL;

    if (!get_hex(&pkcs8, entry, "pkcs8") || !get_hex(&spki, entry, "spki")) {
        fail = "pkcs8 or spki missing or not hex";
    } else if (cardea_rsa__from_pkcs8(&slot->key, pkcs8.data, pkcs8.len)
               != CARDEA_OK) {
        fail = "Cardea cannot import WebCrypto's PKCS#8 key";
    } else if (cardea_rsa__pkcs8_der(&slot->pkcs8, &slot->pkcs8_len,
                                     slot->key) != CARDEA_OK
               || !same_bytes(slot->pkcs8, slot->pkcs8_len, pkcs8.data,
                              pkcs8.len)) {
        fail = "PKCS#8 re-exported by Cardea differs from WebCrypto's bytes";
    } else if (cardea_rsa__from_spki(&pub, spki.data, spki.len)
               != CARDEA_OK) {
        fail = "Cardea cannot import WebCrypto's SPKI key";
    } else if (cardea_rsa__spki_der(&der, &der_len, pub) != CARDEA_OK
               || !same_bytes(der, der_len, spki.data, spki.len)) {
        fail = "SPKI re-exported by Cardea differs from WebCrypto's bytes";
    } else if (cardea_rsa__spki_hex(&slot->spki_hex, slot->key)
               != CARDEA_OK) {
        fail = "Cardea cannot export the SPKI hex of the private key";
    } else if (!cardea_rsa__same_public(slot->key, pub)) {
        fail = "SPKI is not the public half of the PKCS#8 key";
    } else if (cardea_rsa__bits(slot->key) != 2048) {
        fail = "modulus is not 2048 bits";
    }

    cardea_free(der);
    cardea_rsa__free(pub);
    bytes_free(&pkcs8);
    bytes_free(&spki);
    return fail;
}

static const char *
check_fingerprints(const rsa_slot *slot, const json_t *entry)
{
    const char *spki = cardea_json__get_str(entry, "spki");
    const char *fp_v1 = cardea_json__get_str(entry, "fp_v1");
    const char *fp_v2 = cardea_json__get_str(entry, "fp_v2");
    char v1[CARDEA_FP_V1_LEN + 1];

    if (spki == NULL || fp_v1 == NULL || fp_v2 == NULL) {
        return "spki, fp_v1 or fp_v2 missing";
    }
    if (strcmp(slot->spki_hex, spki) != 0) {
        return "Cardea's SPKI hex differs from WebCrypto's";
    }
    if (cardea_fp__v1(v1, spki, strlen(spki)) != CARDEA_OK
        || strcmp(v1, fp_v1) != 0) {
        return "fingerprint v1 differs";
    }
    if (strcmp(slot->fp_v2, fp_v2) != 0) {
        return "fingerprint v2 differs";
    }
    return NULL;
}

static const char *
check_rsa_key(checker *c, const json_t *entry)
{
    rsa_slot slot;
    const char *id = cardea_json__get_str(entry, "id");
    const char *fail;

    memset(&slot, 0, sizeof slot);
    if (c->key_count == MAX_RSA_KEYS) {
        return "more RSA keys than this test holds";
    }
    if (id == NULL || strlen(id) >= KEY_ID_MAX) {
        return "key id missing or too long";
    }
    if (!parse_oaep(&slot.oaep, cardea_json__get_str(entry, "oaep_hash"))) {
        return "oaep_hash is neither SHA-1 nor SHA-256";
    }
    memcpy(slot.id, id, strlen(id) + 1);

    fail = import_rsa_slot(&slot, entry);
    if (fail == NULL && slot.spki_hex != NULL
        && cardea_fp__v2(slot.fp_v2, slot.spki_hex, strlen(slot.spki_hex))
               != CARDEA_OK) {
        fail = "Cardea cannot take fingerprint v2 of the SPKI";
    }
    if (fail == NULL) {
        fail = check_fingerprints(&slot, entry);
    }
    if (fail != NULL) {
        slot_clear(&slot);
        return fail;
    }
    c->keys[c->key_count++] = slot;
    return NULL;
}

static const char *
check_oaep(checker *c, const json_t *entry)
{
    const rsa_slot *slot = find_slot(c->keys, c->key_count,
                                     cardea_json__get_str(entry, "key"));
    bytes plain = {NULL, 0};
    bytes ct = {NULL, 0};
    bytes out = {NULL, 0};
    cardea_rsa_oaep other;
    const char *fail = NULL;

    if (slot == NULL) {
        return "RSA key missing or failed its own check";
    }
    other = slot->oaep == CARDEA_RSA_OAEP_SHA1 ? CARDEA_RSA_OAEP_SHA256
                                               : CARDEA_RSA_OAEP_SHA1;
    if (!get_hex(&plain, entry, "plain") || !get_hex(&ct, entry, "ct")) {
        fail = "plain or ct missing or not hex";
    } else if (cardea_rsa__decrypt(&out.data, &out.len, slot->key,
                                   slot->oaep, ct.data, ct.len)
               != CARDEA_OK) {
        fail = "Cardea cannot decrypt WebCrypto's OAEP ciphertext";
    } else if (!same_bytes(out.data, out.len, plain.data, plain.len)) {
        fail = "OAEP plaintext differs";
    } else {
        /* The other hash must fail, or the case shows nothing. */
        bytes_free(&out);
        if (cardea_rsa__decrypt(&out.data, &out.len, slot->key, other,
                                ct.data, ct.len) != CARDEA_EVERIFY) {
            fail = "ciphertext also decrypts with the other OAEP hash";
        }
    }

    bytes_free(&out);
    bytes_free(&plain);
    bytes_free(&ct);
    return fail;
}

/* Returns true when a wrong key fails or gives another plaintext. */
static bool
wrong_aes_key_rejected(const bytes *key, const bytes *blob,
                       const bytes *plain)
{
    uint8_t wrong[CARDEA_AES256_KEY_LEN];
    bytes out = {NULL, 0};
    bool rejected;

    for (size_t i = 0; i < key->len; i++) {
        wrong[i] = (uint8_t)(key->data[i] ^ 0x01);
    }
    rejected = cardea_aes__cbc_decrypt_alloc(&out.data, &out.len, wrong,
                                             key->len, blob->data, blob->len)
                   != CARDEA_OK
               || !same_bytes(out.data, out.len, plain->data, plain->len);
    if (out.data != NULL) {
        out.len++;
    }
    bytes_free(&out);
    cardea_wipe(wrong, sizeof wrong);
    return rejected;
}

static const char *
check_aes(checker *c, const json_t *entry)
{
    bytes key = {NULL, 0};
    bytes plain = {NULL, 0};
    bytes blob = {NULL, 0};
    bytes out = {NULL, 0};
    bytes again = {NULL, 0};
    const char *fail = NULL;

    (void)c;
    if (!get_hex(&key, entry, "key") || !get_hex(&plain, entry, "plain")
        || !get_hex(&blob, entry, "blob")) {
        fail = "key, plain or blob missing or not hex";
    } else if (key.len != CARDEA_AES128_KEY_LEN
               && key.len != CARDEA_AES256_KEY_LEN) {
        fail = "AES key is neither 16 nor 32 bytes";
    } else if (blob.len != cardea_aes__cbc_blob_len(plain.len)) {
        fail = "blob length is not IV plus padded plaintext";
    } else if (cardea_aes__cbc_decrypt_alloc(&out.data, &out.len, key.data,
                                             key.len, blob.data, blob.len)
               != CARDEA_OK) {
        fail = "Cardea cannot decrypt WebCrypto's AES-CBC blob";
    } else if (!same_bytes(out.data, out.len, plain.data, plain.len)) {
        fail = "AES-CBC plaintext differs";
    } else if ((again.data = cardea_mem__alloc(blob.len)) == NULL
               || cardea_aes__cbc_encrypt_iv(again.data, blob.len,
                                             &again.len, key.data, key.len,
                                             blob.data, plain.data, plain.len)
                      != CARDEA_OK
               || !same_bytes(again.data, again.len, blob.data, blob.len)) {
        fail = "Cardea's ciphertext with WebCrypto's IV differs";
    } else if (!wrong_aes_key_rejected(&key, &blob, &plain)) {
        fail = "AES-CBC blob decrypts to the plaintext with a wrong key";
    }

    if (out.data != NULL) {
        out.len++; /* the allocating decryption adds a NUL */
    }
    bytes_free(&out);
    bytes_free(&key);
    bytes_free(&plain);
    bytes_free(&blob);
    bytes_free(&again);
    return fail;
}

static const char *
check_hmac(checker *c, const json_t *entry)
{
    bytes key = {NULL, 0};
    bytes msg = {NULL, 0};
    bytes tag = {NULL, 0};
    uint8_t mac[CARDEA_SHA512_LEN];
    const char *fail = NULL;

    (void)c;
    if (!get_hex(&key, entry, "key") || !get_hex(&msg, entry, "msg")
        || !get_hex(&tag, entry, "tag")) {
        fail = "key, msg or tag missing or not hex";
    } else if (key.len != CARDEA_HMAC512_KEY_LEN) {
        fail = "HMAC key is not 128 bytes";
    } else if (cardea_hmac__sha512(mac, key.data, key.len, msg.data, msg.len)
                   != CARDEA_OK
               || !same_bytes(mac, sizeof mac, tag.data, tag.len)) {
        fail = "HMAC-SHA-512 differs";
    } else if (cardea_hmac__sha512_verify(key.data, key.len, msg.data,
                                          msg.len, tag.data, tag.len)
               != CARDEA_OK) {
        fail = "HMAC-SHA-512 does not verify";
    } else {
        tag.data[0] ^= 0x80;
        if (cardea_hmac__sha512_verify(key.data, key.len, msg.data, msg.len,
                                       tag.data, tag.len) != CARDEA_EVERIFY) {
            fail = "tampered HMAC-SHA-512 verifies";
        }
    }

    bytes_free(&key);
    bytes_free(&msg);
    bytes_free(&tag);
    return fail;
}

static const char *
check_hash(checker *c, const json_t *entry)
{
    const char *alg = cardea_json__get_str(entry, "alg");
    const char *digest = cardea_json__get_str(entry, "digest");
    bytes msg = {NULL, 0};
    uint8_t out[CARDEA_SHA512_LEN];
    size_t out_len = 0;
    const char *fail = NULL;

    (void)c;
    if (alg == NULL || digest == NULL || !get_hex(&msg, entry, "msg")) {
        fail = "alg, msg or digest missing";
    } else if (strcmp(alg, "SHA-256") == 0) {
        cardea_hash__sha256(out, msg.data, msg.len);
        out_len = CARDEA_SHA256_LEN;
    } else if (strcmp(alg, "SHA-512") == 0) {
        cardea_hash__sha512(out, msg.data, msg.len);
        out_len = CARDEA_SHA512_LEN;
    } else {
        fail = "alg is neither SHA-256 nor SHA-512";
    }
    if (fail == NULL && !hex_matches(digest, out, out_len)) {
        fail = "digest differs";
    }
    bytes_free(&msg);
    return fail;
}

static const char *
check_ackey(checker *c, const json_t *entry)
{
    const char *type = cardea_json__get_str(entry, "entity_type");
    const char *sdkey = cardea_json__get_str(entry, "sdkey");
    bytes secret = {NULL, 0};
    uint8_t ackey[CARDEA_AC_KEY_LEN];
    char sd[CARDEA_SD_KEY_HEX_LEN + 1];
    const char *fail = NULL;

    (void)c;
    if (type == NULL || sdkey == NULL || !get_hex(&secret, entry, "secret")) {
        fail = "secret, entity_type or sdkey missing";
    } else if (secret.len != CARDEA_AC_SECRET_LEN) {
        fail = "access-control secret is not 16 bytes";
    } else if (cardea_ackey__derive(ackey, secret.data, type) != CARDEA_OK
               || !hex_matches(cardea_json__get_str(entry, "ackey"), ackey,
                               sizeof ackey)) {
        fail = "acKey differs";
    } else {
        cardea_sdkey__from_ackey(sd, ackey);
        if (strcmp(sd, sdkey) != 0) {
            fail = "sdKey differs";
        }
    }
    bytes_free(&secret);
    cardea_wipe(ackey, sizeof ackey);
    return fail;
}

static const char *
check_shared_signature(checker *c, const json_t *entry)
{
    const char *delegator = cardea_json__get_str(entry, "delegator");
    const char *delegate = cardea_json__get_str(entry, "delegate");
    const char *text = cardea_json__get_str(entry, "text");
    bytes exchange_key = {NULL, 0};
    bytes secret = {NULL, 0};
    bytes key = {NULL, 0};
    const char **fps = NULL;
    size_t fps_count = 0;
    cardea_exchange_content *content = NULL;
    char *input = NULL;
    size_t input_len = 0;
    uint8_t mac[CARDEA_SHA512_LEN];
    const char *fail = NULL;

    (void)c;
    if (delegator == NULL || delegate == NULL || text == NULL
        || !get_hex(&exchange_key, entry, "exchange_key")
        || !get_hex(&secret, entry, "access_control_secret")
        || !get_hex(&key, entry, "key")
        || !string_list(&fps, &fps_count,
                        json_object_get(entry, "fingerprints"))) {
        fail = "a shared-signature field is missing or malformed";
    } else if (cardea_exchange_data__content_from_raw(
                   &content, exchange_key.data, exchange_key.len,
                   secret.data, secret.len, key.data, key.len)
               != CARDEA_OK) {
        fail = "Cardea rejects the exchange-data secrets";
    } else if (cardea_exchange_data__signature_input(
                   &input, &input_len, delegator, delegate, content, fps,
                   fps_count, CARDEA_SHARED_SIG_KT) != CARDEA_OK) {
        fail = "Cardea cannot build the shared-signature text";
    } else if (input_len != strlen(text) || strcmp(input, text) != 0) {
        fail = "shared-signature text differs";
    } else if (cardea_hmac__sha512(mac, key.data, key.len, input, input_len)
                   != CARDEA_OK
               || !base64_matches(cardea_json__get_str(entry, "signature"),
                                  mac, sizeof mac)) {
        fail = "shared signature differs";
    }

    if (input != NULL) {
        cardea_mem__free_secret(input, input_len + 1);
    }
    cardea_exchange_data__content_free(content);
    cardea_free(fps);
    bytes_free(&exchange_key);
    bytes_free(&secret);
    bytes_free(&key);
    return fail;
}

/* The HMAC key is hashed from Cardea's own PKCS#8 export of the key. */
static const char *
check_delegator_signature(checker *c, const json_t *entry)
{
    const rsa_slot *slot = find_slot(c->keys, c->key_count,
                                     cardea_json__get_str(entry, "key"));
    const char *fp_v2 = cardea_json__get_str(entry, "fp_v2");
    bytes shared = {NULL, 0};
    uint8_t sig[CARDEA_SHA512_LEN];
    const char *fail = NULL;

    if (slot == NULL) {
        return "RSA key missing or failed its own check";
    }
    if (fp_v2 == NULL || strcmp(fp_v2, slot->fp_v2) != 0) {
        return "fingerprint v2 differs";
    }
    if (!get_hex(&shared, entry, "shared_signature_key")) {
        fail = "shared_signature_key missing or not hex";
    } else if (delegator_signature(sig, slot->pkcs8, slot->pkcs8_len,
                                   shared.data, shared.len) != CARDEA_OK
               || !base64_matches(cardea_json__get_str(entry, "signature"),
                                  sig, sizeof sig)) {
        fail = "delegator signature differs";
    }
    bytes_free(&shared);
    return fail;
}

/* Decrypts the value with the format layer and compares it with "value". */
static bool
delegation_decrypts(const bytes *key, const json_t *entry)
{
    const char *field = cardea_json__get_str(entry, "field");
    const char *value = cardea_json__get_str(entry, "value");
    const char *blob = cardea_json__get_str(entry, "blob");
    char *out = NULL;
    cardea_err err;
    bool equal;

    if (field == NULL || value == NULL || blob == NULL) {
        return false;
    }
    if (strcmp(field, "encryptionKeys") == 0) {
        err = cardea_delegation__decrypt_key(&out, key->data, key->len, blob);
    } else {
        err = cardea_delegation__decrypt_id(&out, key->data, key->len, blob);
    }
    if (err != CARDEA_OK) {
        return false;
    }
    equal = strcmp(out, value) == 0;
    cardea_mem__free_secret(out, strlen(out));
    return equal;
}

static const char *
check_secure_delegation(checker *c, const json_t *entry)
{
    bytes key = {NULL, 0};
    bytes blob = {NULL, 0};
    bytes expected = {NULL, 0};
    bytes out = {NULL, 0};
    uint8_t *again = NULL;
    size_t again_len = 0;
    const char *fail = NULL;

    (void)c;
    if (!get_hex(&key, entry, "exchange_key")
        || !get_base64(&blob, entry, "blob")) {
        fail = "exchange_key or blob missing or malformed";
    } else if (!secure_delegation_plaintext(
                   &expected, cardea_json__get_str(entry, "field"),
                   cardea_json__get_str(entry, "value"))) {
        fail = "field or value missing or malformed";
    } else if (cardea_aes__cbc_decrypt_alloc(&out.data, &out.len, key.data,
                                             key.len, blob.data, blob.len)
               != CARDEA_OK) {
        fail = "Cardea cannot decrypt WebCrypto's secure-delegation value";
    } else if (out.len < SECURE_DELEGATION_PREFIX_LEN
               || memcmp(out.data, SECURE_DELEGATION_PREFIX,
                         SECURE_DELEGATION_PREFIX_LEN) != 0) {
        fail = "decrypted value lacks the \"Cure\" prefix";
    } else if (!same_bytes(out.data, out.len, expected.data, expected.len)) {
        fail = "secure-delegation value differs";
    } else if ((again = cardea_mem__alloc(blob.len)) == NULL
               || cardea_aes__cbc_encrypt_iv(again, blob.len, &again_len,
                                             key.data, key.len, blob.data,
                                             expected.data, expected.len)
                      != CARDEA_OK
               || !same_bytes(again, again_len, blob.data, blob.len)) {
        fail = "Cardea's blob with WebCrypto's IV differs";
    } else if (!delegation_decrypts(&key, entry)) {
        fail = "cardea_delegation__decrypt_* returns another value";
    }

    if (out.data != NULL) {
        out.len++; /* the allocating decryption adds a NUL */
    }
    bytes_free(&out);
    bytes_free(&expected);
    bytes_free(&key);
    bytes_free(&blob);
    cardea_free(again);
    return fail;
}

/*
 * Fills `out` with the keys named by the string array `member` of
 * `entry`. Returns the count, or 0 when a name is unknown.
 */
static size_t
owner_keys(cardea_owner_key out[MAX_RSA_KEYS], const checker *c,
           const json_t *entry, const char *member)
{
    const json_t *names = json_object_get(entry, "keys");
    const json_t *list = json_object_get(names, member);
    size_t count = json_array_size(list);

    if (count == 0 || count > MAX_RSA_KEYS) {
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        const rsa_slot *slot = find_slot(
            c->keys, c->key_count,
            json_string_value(json_array_get(list, i)));
        if (slot == NULL) {
            return 0;
        }
        out[i] = owner_key_of(slot);
    }
    return count;
}

static bool
content_matches(const cardea_exchange_content *content, const json_t *entry)
{
    return hex_matches(cardea_json__get_str(entry, "exchange_key"),
                       content->exchange_key, content->exchange_key_len)
           && hex_matches(cardea_json__get_str(entry, "access_control_secret"),
                          content->access_control_secret,
                          CARDEA_AC_SECRET_LEN)
           && hex_matches(cardea_json__get_str(entry, "shared_signature_key"),
                          content->shared_signature_key,
                          content->shared_signature_key_len);
}

/* Requires every recipient key alone to decrypt the same three secrets. */
static const char *
decrypt_with_each(const json_t *data, const cardea_owner_key *recipients,
                  size_t count, const json_t *entry)
{
    cardea_exchange_content *content = NULL;
    const char *fail = NULL;

    for (size_t i = 0; fail == NULL && i < count; i++) {
        if (cardea_exchange_data__decrypt(&content, data, &recipients[i], 1)
            != CARDEA_OK) {
            fail = "Cardea cannot decrypt WebCrypto's exchange data";
        } else if (!content_matches(content, entry)) {
            fail = "decrypted exchange-data secrets differ";
        }
        cardea_exchange_data__content_free(content);
        content = NULL;
    }
    return fail;
}

/*
 * Requires the data to be verified for its delegator, and not for its
 * delegate or once its delegate is changed.
 */
static const char *
verify_exchange_data(const json_t *data,
                     const cardea_exchange_content *content,
                     const cardea_owner_key *signers, size_t count)
{
    const char *delegator = cardea_json__get_str(data, "delegator");
    const char *delegate = cardea_json__get_str(data, "delegate");
    json_t *tampered = json_deep_copy(data);
    bool verified = false;
    const char *fail = NULL;

    if (cardea_exchange_data__verify(&verified, data, content, delegator,
                                     signers, count) != CARDEA_OK
        || !verified) {
        fail = "WebCrypto's exchange data is not verified for its delegator";
    } else if (strcmp(delegator, delegate) != 0
               && (cardea_exchange_data__verify(&verified, data, content,
                                                delegate, signers, count)
                       != CARDEA_OK
                   || verified)) {
        fail = "exchange data is verified for its delegate";
    } else if (tampered == NULL
               || json_object_set_new(tampered, "delegate",
                                      json_string("someone-else")) != 0
               || cardea_exchange_data__verify(&verified, tampered, content,
                                               delegator, signers, count)
                      != CARDEA_OK
               || verified) {
        fail = "exchange data with a changed delegate is still verified";
    }
    json_decref(tampered);
    return fail;
}

static const char *
check_exchange_data(checker *c, const json_t *entry)
{
    const json_t *data = json_object_get(entry, "exchange_data");
    cardea_owner_key recipients[MAX_RSA_KEYS];
    cardea_owner_key signers[MAX_RSA_KEYS];
    size_t recipient_count = owner_keys(recipients, c, entry, "recipients");
    size_t signer_count = owner_keys(signers, c, entry, "signers");
    cardea_exchange_content *content = NULL;
    const char *fail;

    if (!json_is_object(data) || recipient_count == 0 || signer_count == 0
        || cardea_json__get_str(data, "delegator") == NULL
        || cardea_json__get_str(data, "delegate") == NULL) {
        return "exchange data or its key lists missing or malformed";
    }
    fail = decrypt_with_each(data, recipients, recipient_count, entry);
    if (fail == NULL
        && cardea_exchange_data__decrypt(&content, data, recipients,
                                         recipient_count) != CARDEA_OK) {
        fail = "Cardea cannot decrypt WebCrypto's exchange data";
    }
    if (fail == NULL) {
        fail = verify_exchange_data(data, content, signers, signer_count);
    }
    cardea_exchange_data__content_free(content);
    return fail;
}

/* ---- check mode: running the groups -------------------------------- */

typedef const char *(*label_fn)(const checker *c, const json_t *entry);

static const char *
label_rsa_keys(const checker *c, const json_t *entry)
{
    (void)c;
    (void)entry;
    return "rsa-keys-pkcs8-spki";
}

static const char *
label_oaep(const checker *c, const json_t *entry)
{
    const rsa_slot *slot = find_slot(c->keys, c->key_count,
                                     cardea_json__get_str(entry, "key"));

    if (slot == NULL) {
        return "rsa-oaep-unknown-key";
    }
    return slot->oaep == CARDEA_RSA_OAEP_SHA1 ? "rsa-oaep-sha1"
                                              : "rsa-oaep-sha256";
}

static const char *
label_aes(const checker *c, const json_t *entry)
{
    const char *key = cardea_json__get_str(entry, "key");
    size_t hex_len = key != NULL ? strlen(key) : 0;

    (void)c;
    if (hex_len == 2 * CARDEA_AES256_KEY_LEN) {
        return "aes-256-cbc";
    }
    return hex_len == 2 * CARDEA_AES128_KEY_LEN ? "aes-128-cbc"
                                                : "aes-cbc-bad-key";
}

static const char *
label_hash(const checker *c, const json_t *entry)
{
    const char *alg = cardea_json__get_str(entry, "alg");

    (void)c;
    if (alg != NULL && strcmp(alg, "SHA-256") == 0) {
        return "sha-256";
    }
    return alg != NULL && strcmp(alg, "SHA-512") == 0 ? "sha-512"
                                                      : "sha-unknown";
}

#define FIXED_LABEL(name, text)                                              \
    static const char *name(const checker *c, const json_t *entry)           \
    {                                                                        \
        (void)c;                                                             \
        (void)entry;                                                         \
        return text;                                                         \
    }

FIXED_LABEL(label_hmac, "hmac-sha512")
FIXED_LABEL(label_ackey, "ackey-sdkey")
FIXED_LABEL(label_shared_signature, "shared-signature")
FIXED_LABEL(label_delegator_signature, "delegator-signature")
FIXED_LABEL(label_secure_delegation, "secure-delegation")
FIXED_LABEL(label_exchange_data, "exchange-data")

/*
 * Vector file members in the order they run: the RSA groups after
 * rsa_keys, because they use the keys it imports.
 */
static const struct group_spec {
    const char *member;
    label_fn label;
    check_fn check;
} GROUPS[] = {
    {"rsa_keys", label_rsa_keys, check_rsa_key},
    {"rsa_oaep", label_oaep, check_oaep},
    {"aes_cbc", label_aes, check_aes},
    {"hmac_sha512", label_hmac, check_hmac},
    {"hash", label_hash, check_hash},
    {"ackey", label_ackey, check_ackey},
    {"shared_signature", label_shared_signature, check_shared_signature},
    {"delegator_signature", label_delegator_signature,
     check_delegator_signature},
    {"secure_delegation", label_secure_delegation, check_secure_delegation},
    {"exchange_data", label_exchange_data, check_exchange_data},
};

static void
tally_count(checker *c, const char *label, bool passed)
{
    size_t i = 0;

    while (i < c->group_count && strcmp(c->groups[i].label, label) != 0) {
        i++;
    }
    if (i == c->group_count) {
        if (c->group_count == MAX_GROUPS) {
            /* Cannot happen with the fixed labels above. */
            abort();
        }
        c->groups[i].label = label;
        c->group_count++;
    }
    if (passed) {
        c->groups[i].passed++;
    } else {
        c->groups[i].failed++;
    }
}

static void
run_group(checker *c, const json_t *root, const struct group_spec *spec)
{
    const json_t *entries = json_object_get(root, spec->member);
    size_t count = json_array_size(entries);

    if (count == 0) {
        printf("FAIL %s: %s: no vectors in file\n", DIRECTION, spec->member);
        tally_count(c, spec->member, false);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *entry = json_array_get(entries, i);
        const char *label = spec->label(c, entry);
        const char *fail = spec->check(c, entry);

        if (fail != NULL) {
            printf("FAIL %s: %s #%zu: %s\n", DIRECTION, label, i, fail);
        }
        tally_count(c, label, fail == NULL);
    }
}

static int
check_file(const char *path)
{
    checker c;
    json_error_t error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    const char *format;
    unsigned failed = 0;

    if (root == NULL) {
        fprintf(stderr, "crosscheck: cannot read %s: line %d: %s\n", path,
                error.line, error.text);
        return 2;
    }
    format = cardea_json__get_str(root, "format");
    if (format == NULL || strcmp(format, VECTOR_FORMAT) != 0) {
        fprintf(stderr, "crosscheck: %s: format is not %s\n", path,
                VECTOR_FORMAT);
        json_decref(root);
        return 2;
    }

    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < sizeof GROUPS / sizeof GROUPS[0]; i++) {
        run_group(&c, root, &GROUPS[i]);
    }
    for (size_t i = 0; i < c.group_count; i++) {
        printf("%s: %s: %u passed, %u failed\n", DIRECTION, c.groups[i].label,
               c.groups[i].passed, c.groups[i].failed);
        failed += c.groups[i].failed;
    }

    for (size_t i = 0; i < c.key_count; i++) {
        slot_clear(&c.keys[i]);
    }
    json_decref(root);
    return failed == 0 ? 0 : 1;
}

/* ---- write mode ------------------------------------------------------ */

static const size_t OAEP_LENGTHS[] = {1, 16, 32, 128};
static const size_t AES_LENGTHS[] = {0, 1, 15, 16, 17, 100};
static const size_t MESSAGE_LENGTHS[] = {0, 3, 64, 1000};
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

typedef struct writer {
    rsa_slot keys[2];
    size_t key_count;
    json_t *root;
} writer;

static bool
put_str(json_t *obj, const char *name, const char *value)
{
    return value != NULL
           && json_object_set_new(obj, name, json_string(value)) == 0;
}

/* The hex text may be a secret of the vector, so it is wiped after use. */
static bool
put_hex(json_t *obj, const char *name, const uint8_t *data, size_t len)
{
    char *text = NULL;
    bool ok;

    if (cardea_hex__encode_alloc(&text, data, len) != CARDEA_OK) {
        return false;
    }
    ok = put_str(obj, name, text);
    cardea_mem__free_secret(text, 2 * len + 1);
    return ok;
}

static bool
put_base64(json_t *obj, const char *name, const uint8_t *data, size_t len)
{
    char *text = NULL;
    bool ok;

    if (cardea_base64__encode_alloc(&text, data, len) != CARDEA_OK) {
        return false;
    }
    ok = put_str(obj, name, text);
    cardea_free(text);
    return ok;
}

/* Appends `entry` to the array `member` of `root` and takes its reference. */
static bool
append_entry(json_t *root, const char *member, json_t *entry, bool ok)
{
    json_t *list = json_object_get(root, member);

    if (entry == NULL || !ok) {
        json_decref(entry);
        return false;
    }
    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(root, member, list) != 0) {
            json_decref(entry);
            return false;
        }
    }
    return json_array_append_new(list, entry) == 0;
}

static bool
generate_slot(rsa_slot *slot, const char *id, cardea_rsa_oaep oaep)
{
    memset(slot, 0, sizeof *slot);
    memcpy(slot->id, id, strlen(id) + 1);
    slot->oaep = oaep;
    return cardea_rsa__generate(&slot->key, CARDEA_RSA_DEFAULT_BITS)
               == CARDEA_OK
           && cardea_rsa__pkcs8_der(&slot->pkcs8, &slot->pkcs8_len,
                                    slot->key) == CARDEA_OK
           && cardea_rsa__spki_hex(&slot->spki_hex, slot->key) == CARDEA_OK
           && cardea_fp__v2(slot->fp_v2, slot->spki_hex,
                            strlen(slot->spki_hex)) == CARDEA_OK;
}

static bool
write_rsa_keys(writer *w)
{
    static const char *const ids[] = {"oaep-sha1", "oaep-sha256"};
    static const cardea_rsa_oaep hashes[] = {CARDEA_RSA_OAEP_SHA1,
                                             CARDEA_RSA_OAEP_SHA256};

    for (size_t i = 0; i < COUNT(ids); i++) {
        rsa_slot *slot = &w->keys[i];
        char fp_v1[CARDEA_FP_V1_LEN + 1];
        json_t *entry;
        bool ok;

        w->key_count = i + 1;
        if (!generate_slot(slot, ids[i], hashes[i])
            || cardea_fp__v1(fp_v1, slot->spki_hex, strlen(slot->spki_hex))
                   != CARDEA_OK) {
            return false;
        }
        entry = json_object();
        ok = entry != NULL && put_str(entry, "id", slot->id)
             && put_str(entry, "oaep_hash", oaep_name(slot->oaep))
             && json_object_set_new(entry, "bits",
                                    json_integer(CARDEA_RSA_DEFAULT_BITS)) == 0
             && put_hex(entry, "pkcs8", slot->pkcs8, slot->pkcs8_len)
             && put_str(entry, "spki", slot->spki_hex)
             && put_str(entry, "fp_v1", fp_v1)
             && put_str(entry, "fp_v2", slot->fp_v2);
        if (!append_entry(w->root, "rsa_keys", entry, ok)) {
            return false;
        }
    }
    return true;
}

static bool
write_oaep(writer *w)
{
    uint8_t plain[128];

    for (size_t k = 0; k < w->key_count; k++) {
        for (size_t i = 0; i < COUNT(OAEP_LENGTHS); i++) {
            const rsa_slot *slot = &w->keys[k];
            uint8_t *ct = NULL;
            size_t ct_len = 0;
            json_t *entry = NULL;
            bool ok;

            cardea_random__bytes(plain, OAEP_LENGTHS[i]);
            ok = cardea_rsa__encrypt(&ct, &ct_len, slot->key, slot->oaep,
                                     plain, OAEP_LENGTHS[i]) == CARDEA_OK
                 && (entry = json_object()) != NULL
                 && put_str(entry, "key", slot->id)
                 && put_hex(entry, "plain", plain, OAEP_LENGTHS[i])
                 && put_hex(entry, "ct", ct, ct_len);
            cardea_free(ct);
            if (!append_entry(w->root, "rsa_oaep", entry, ok)) {
                return false;
            }
        }
    }
    cardea_wipe(plain, sizeof plain);
    return true;
}

static bool
write_aes_entry(writer *w, size_t key_len, size_t plain_len)
{
    uint8_t key[CARDEA_AES256_KEY_LEN];
    uint8_t plain[128];
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    json_t *entry = NULL;
    bool ok;

    cardea_random__bytes(key, key_len);
    cardea_random__bytes(plain, plain_len);
    ok = cardea_aes__cbc_encrypt_alloc(&blob, &blob_len, key, key_len, plain,
                                       plain_len) == CARDEA_OK
         && (entry = json_object()) != NULL
         && put_hex(entry, "key", key, key_len)
         && put_hex(entry, "plain", plain, plain_len)
         && put_hex(entry, "blob", blob, blob_len);
    cardea_free(blob);
    cardea_wipe(key, sizeof key);
    cardea_wipe(plain, sizeof plain);
    return append_entry(w->root, "aes_cbc", entry, ok);
}

static bool
write_aes(writer *w)
{
    static const size_t key_lengths[] = {CARDEA_AES256_KEY_LEN,
                                         CARDEA_AES128_KEY_LEN};

    for (size_t k = 0; k < COUNT(key_lengths); k++) {
        for (size_t i = 0; i < COUNT(AES_LENGTHS); i++) {
            if (!write_aes_entry(w, key_lengths[k], AES_LENGTHS[i])) {
                return false;
            }
        }
    }
    return true;
}

static bool
write_hash_entries(writer *w, const uint8_t *msg, size_t msg_len)
{
    uint8_t sha256[CARDEA_SHA256_LEN];
    uint8_t sha512[CARDEA_SHA512_LEN];
    json_t *entry;
    bool ok;

    cardea_hash__sha256(sha256, msg, msg_len);
    cardea_hash__sha512(sha512, msg, msg_len);
    entry = json_object();
    ok = entry != NULL && put_str(entry, "alg", "SHA-256")
         && put_hex(entry, "msg", msg, msg_len)
         && put_hex(entry, "digest", sha256, sizeof sha256);
    if (!append_entry(w->root, "hash", entry, ok)) {
        return false;
    }
    entry = json_object();
    ok = entry != NULL && put_str(entry, "alg", "SHA-512")
         && put_hex(entry, "msg", msg, msg_len)
         && put_hex(entry, "digest", sha512, sizeof sha512);
    return append_entry(w->root, "hash", entry, ok);
}

static bool
write_hmac_and_hash(writer *w)
{
    uint8_t key[CARDEA_HMAC512_KEY_LEN];
    uint8_t msg[1000];
    uint8_t tag[CARDEA_SHA512_LEN];
    bool ok = true;

    for (size_t i = 0; ok && i < COUNT(MESSAGE_LENGTHS); i++) {
        size_t len = MESSAGE_LENGTHS[i];
        json_t *entry = NULL;

        cardea_random__bytes(key, sizeof key);
        cardea_random__bytes(msg, len);
        ok = cardea_hmac__sha512(tag, key, sizeof key, msg, len) == CARDEA_OK
             && (entry = json_object()) != NULL
             && put_hex(entry, "key", key, sizeof key)
             && put_hex(entry, "msg", msg, len)
             && put_hex(entry, "tag", tag, sizeof tag);
        ok = append_entry(w->root, "hmac_sha512", entry, ok)
             && write_hash_entries(w, msg, len);
    }
    cardea_wipe(key, sizeof key);
    return ok;
}

/* Writes acKeys for every entity type Cardea supports and two secrets. */
static bool
write_ackeys(writer *w)
{
    const char *const *types = cardea_entity_type__all();
    uint8_t secrets[2][CARDEA_AC_SECRET_LEN];

    for (size_t i = 0; i < CARDEA_AC_SECRET_LEN; i++) {
        secrets[0][i] = (uint8_t)i;
    }
    cardea_random__bytes(secrets[1], CARDEA_AC_SECRET_LEN);
    for (size_t s = 0; s < 2; s++) {
        for (size_t t = 0; types[t] != NULL; t++) {
            uint8_t ackey[CARDEA_AC_KEY_LEN];
            char sdkey[CARDEA_SD_KEY_HEX_LEN + 1];
            json_t *entry = NULL;
            bool ok;

            ok = cardea_ackey__derive(ackey, secrets[s], types[t])
                     == CARDEA_OK
                 && (entry = json_object()) != NULL
                 && put_hex(entry, "secret", secrets[s], CARDEA_AC_SECRET_LEN)
                 && put_str(entry, "entity_type", types[t])
                 && put_hex(entry, "ackey", ackey, sizeof ackey);
            if (ok) {
                cardea_sdkey__from_ackey(sdkey, ackey);
                ok = put_str(entry, "sdkey", sdkey);
            }
            if (!append_entry(w->root, "ackey", entry, ok)) {
                return false;
            }
        }
    }
    cardea_wipe(secrets, sizeof secrets);
    return true;
}

static json_t *
string_array(const char *const *items, size_t count)
{
    json_t *array = json_array();

    for (size_t i = 0; array != NULL && i < count; i++) {
        if (json_array_append_new(array, json_string(items[i])) != 0) {
            json_decref(array);
            array = NULL;
        }
    }
    return array;
}

static bool
put_content(json_t *entry, const cardea_exchange_content *content)
{
    return put_hex(entry, "exchange_key", content->exchange_key,
                   content->exchange_key_len)
           && put_hex(entry, "access_control_secret",
                      content->access_control_secret, CARDEA_AC_SECRET_LEN)
           && put_hex(entry, "shared_signature_key",
                      content->shared_signature_key,
                      content->shared_signature_key_len);
}

static bool
write_shared_signature(writer *w, const char *delegator, const char *delegate,
                       const char *const *fps, size_t fps_count)
{
    cardea_exchange_content *content = NULL;
    char *text = NULL;
    size_t text_len = 0;
    uint8_t mac[CARDEA_SHA512_LEN];
    json_t *entry = NULL;
    bool ok;

    ok = cardea_exchange_data__content_generate(&content) == CARDEA_OK
         && cardea_exchange_data__signature_input(
                &text, &text_len, delegator, delegate, content, fps,
                fps_count, CARDEA_SHARED_SIG_KT) == CARDEA_OK
         && cardea_hmac__sha512(mac, content->shared_signature_key,
                                content->shared_signature_key_len, text,
                                text_len) == CARDEA_OK
         && (entry = json_object()) != NULL
         && put_str(entry, "delegator", delegator)
         && put_str(entry, "delegate", delegate)
         && put_hex(entry, "exchange_key", content->exchange_key,
                    content->exchange_key_len)
         && put_hex(entry, "access_control_secret",
                    content->access_control_secret, CARDEA_AC_SECRET_LEN)
         && json_object_set_new(entry, "fingerprints",
                                string_array(fps, fps_count)) == 0
         && put_str(entry, "text", text)
         && put_hex(entry, "key", content->shared_signature_key,
                    content->shared_signature_key_len)
         && put_base64(entry, "signature", mac, sizeof mac);

    if (text != NULL) {
        cardea_mem__free_secret(text, text_len + 1);
    }
    cardea_exchange_data__content_free(content);
    return append_entry(w->root, "shared_signature", entry, ok);
}

/*
 * The same cases as webcrypto_vectors.mjs: both keys unsorted and with a
 * duplicate, a self delegation with one key, no fingerprints, and
 * inter-group references written "groupId/dataOwnerId".
 */
static bool
write_shared_signatures(writer *w)
{
    char ids[4][CARDEA_UUID_STR_LEN + 1];
    char group_a[CARDEA_UUID_STR_LEN + 9];
    char group_b[CARDEA_UUID_STR_LEN + 9];
    const char *fp_a = w->keys[0].fp_v2;
    const char *fp_b = w->keys[1].fp_v2;
    const char *hi = strcmp(fp_a, fp_b) > 0 ? fp_a : fp_b;
    const char *lo = hi == fp_a ? fp_b : fp_a;
    const char *const three[] = {hi, lo, hi};
    const char *const one[] = {lo};
    const char *const two[] = {lo, hi};

    for (size_t i = 0; i < COUNT(ids); i++) {
        cardea_uuid__v4(ids[i]);
    }
    snprintf(group_a, sizeof group_a, "group-a/%s", ids[2]);
    snprintf(group_b, sizeof group_b, "group-b/%s", ids[3]);
    return write_shared_signature(w, ids[0], ids[1], three, COUNT(three))
           && write_shared_signature(w, ids[0], ids[0], one, COUNT(one))
           && write_shared_signature(w, ids[2], ids[3], NULL, 0)
           && write_shared_signature(w, group_a, group_b, two, COUNT(two));
}

static bool
write_delegator_signatures(writer *w)
{
    uint8_t shared[CARDEA_SHARED_SIG_KEY_LEN];
    uint8_t sig[CARDEA_SHA512_LEN];

    for (size_t k = 0; k < w->key_count; k++) {
        const rsa_slot *slot = &w->keys[k];
        json_t *entry = NULL;
        bool ok;

        cardea_random__bytes(shared, sizeof shared);
        ok = delegator_signature(sig, slot->pkcs8, slot->pkcs8_len, shared,
                                 sizeof shared) == CARDEA_OK
             && (entry = json_object()) != NULL
             && put_str(entry, "key", slot->id)
             && put_str(entry, "fp_v2", slot->fp_v2)
             && put_hex(entry, "shared_signature_key", shared, sizeof shared)
             && put_base64(entry, "signature", sig, sizeof sig);
        if (!append_entry(w->root, "delegator_signature", entry, ok)) {
            return false;
        }
    }
    cardea_wipe(shared, sizeof shared);
    return true;
}

/* Encrypts one value with cardea_delegation__encrypt_key or __encrypt_id. */
static bool
write_secure_delegation(writer *w, const uint8_t *exchange_key,
                        const char *field, const char *value)
{
    char *blob = NULL;
    json_t *entry = NULL;
    cardea_err err;
    bool ok;

    if (strcmp(field, "encryptionKeys") == 0) {
        err = cardea_delegation__encrypt_key(&blob, exchange_key,
                                             CARDEA_EXCHANGE_KEY_LEN, value);
    } else {
        err = cardea_delegation__encrypt_id(&blob, exchange_key,
                                            CARDEA_EXCHANGE_KEY_LEN, value);
    }
    ok = err == CARDEA_OK && (entry = json_object()) != NULL
         && put_hex(entry, "exchange_key", exchange_key,
                    CARDEA_EXCHANGE_KEY_LEN)
         && put_str(entry, "field", field) && put_str(entry, "value", value)
         && put_str(entry, "blob", blob);
    cardea_free(blob);
    return append_entry(w->root, "secure_delegation", entry, ok);
}

static bool
write_secure_delegations(writer *w)
{
    uint8_t exchange_key[CARDEA_EXCHANGE_KEY_LEN];
    uint8_t entity_key[CARDEA_AES256_KEY_LEN];
    char key256[2 * CARDEA_AES256_KEY_LEN + 1];
    char key128[2 * CARDEA_AES128_KEY_LEN + 1];
    char secret_id[CARDEA_UUID_STR_LEN + 1];
    char owner_id[CARDEA_UUID_STR_LEN + 1];
    char group_owner[CARDEA_UUID_STR_LEN + 9];
    bool ok;

    cardea_random__bytes(exchange_key, sizeof exchange_key);
    cardea_random__bytes(entity_key, sizeof entity_key);
    cardea_uuid__v4(secret_id);
    cardea_uuid__v4(owner_id);
    snprintf(group_owner, sizeof group_owner, "group-a/%s", owner_id);
    ok = cardea_hex__encode(key256, sizeof key256, entity_key,
                            CARDEA_AES256_KEY_LEN) == CARDEA_OK
         && cardea_hex__encode(key128, sizeof key128, entity_key,
                               CARDEA_AES128_KEY_LEN) == CARDEA_OK
         && write_secure_delegation(w, exchange_key, "encryptionKeys", key256)
         && write_secure_delegation(w, exchange_key, "encryptionKeys", key128)
         && write_secure_delegation(w, exchange_key, "secretIds", secret_id)
         && write_secure_delegation(w, exchange_key, "owningEntityIds",
                                    owner_id)
         && write_secure_delegation(w, exchange_key, "owningEntityIds",
                                    group_owner);
    cardea_wipe(exchange_key, sizeof exchange_key);
    cardea_wipe(entity_key, sizeof entity_key);
    cardea_wipe(key256, sizeof key256);
    cardea_wipe(key128, sizeof key128);
    return ok;
}

/*
 * One ExchangeData made by cardea_exchange_data__create, encrypted for
 * both keys (each with its own OAEP hash) and signed with both, with the
 * plain secrets beside it so that the checker can compare.
 */
static bool
write_exchange_data(writer *w, const char *delegator, const char *delegate)
{
    cardea_owner_key keys[2];
    const char *ids[2];
    cardea_exchange_content *content = NULL;
    json_t *data = NULL;
    json_t *names = NULL;
    json_t *entry = NULL;
    bool ok;

    for (size_t i = 0; i < 2; i++) {
        keys[i] = owner_key_of(&w->keys[i]);
        ids[i] = w->keys[i].id;
    }
    ok = cardea_exchange_data__content_generate(&content) == CARDEA_OK
         && cardea_exchange_data__create(&data, NULL, delegator, delegate,
                                         content, keys, 2, keys, 2)
                == CARDEA_OK
         && (names = json_object()) != NULL
         && json_object_set_new(names, "recipients", string_array(ids, 2))
                == 0
         && json_object_set_new(names, "signers", string_array(ids, 2)) == 0
         && (entry = json_object()) != NULL
         && json_object_set(entry, "exchange_data", data) == 0
         && json_object_set(entry, "keys", names) == 0
         && put_content(entry, content);
    json_decref(data);
    json_decref(names);
    cardea_exchange_data__content_free(content);
    return append_entry(w->root, "exchange_data", entry, ok);
}

static bool
write_all(writer *w)
{
    char delegator[CARDEA_UUID_STR_LEN + 1];
    char delegate[CARDEA_UUID_STR_LEN + 1];

    cardea_uuid__v4(delegator);
    cardea_uuid__v4(delegate);
    return put_str(w->root, "format", VECTOR_FORMAT)
           && put_str(w->root, "producer", "cardea")
           && write_rsa_keys(w) && write_oaep(w) && write_aes(w)
           && write_hmac_and_hash(w) && write_ackeys(w)
           && write_shared_signatures(w) && write_delegator_signatures(w)
           && write_secure_delegations(w)
           && write_exchange_data(w, delegator, delegate)
           && write_exchange_data(w, delegator, delegator);
}

static size_t
vector_count(const json_t *root)
{
    const char *member;
    const json_t *value;
    size_t count = 0;

    json_object_foreach((json_t *)root, member, value) {
        count += json_array_size(value);
    }
    return count;
}

/* The file contains the test's private keys, so only its owner may read it. */
static bool
save_private(const json_t *root, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *file;
    bool ok;

    if (fd < 0 || (file = fdopen(fd, "w")) == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    ok = json_dumpf(root, file, JSON_INDENT(1)) == 0;
    return fclose(file) == 0 && ok;
}

static int
write_file(const char *path)
{
    writer w;
    int status = 0;

    memset(&w, 0, sizeof w);
    if ((w.root = json_object()) == NULL || !write_all(&w)) {
        fprintf(stderr, "crosscheck: generating Cardea's vectors failed\n");
        status = 1;
    } else if (!save_private(w.root, path)) {
        fprintf(stderr, "crosscheck: cannot write %s\n", path);
        status = 2;
    } else {
        printf("crosscheck: wrote %zu vectors to %s\n", vector_count(w.root),
               path);
    }
    for (size_t i = 0; i < w.key_count; i++) {
        slot_clear(&w.keys[i]);
    }
    json_decref(w.root);
    return status;
}

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "check") == 0) {
        return check_file(argv[2]);
    }
    if (argc == 3 && strcmp(argv[1], "write") == 0) {
        return write_file(argv[2]);
    }
    fprintf(stderr, "usage: crosscheck check FILE   (check WebCrypto's "
                    "vectors)\n"
                    "       crosscheck write FILE   (write Cardea's "
                    "vectors)\n");
    return 2;
}
