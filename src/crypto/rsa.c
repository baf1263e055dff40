/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RSA keys and operations over OpenSSL 3 EVP: generation, SPKI and PKCS#8
 * import and export with a cache of parsed keys, OAEP with SHA-1 or
 * SHA-256, and PSS with SHA-256. Keys are reference counted so that the
 * cache and any number of callers can share one EVP_PKEY; OpenSSL allows
 * concurrent operations on one EVP_PKEY, each with its own context.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/base.h"
#include "crypto/crypto.h"

#define PSS_SALT_LEN 32
/* Key sizes accepted on import: wider than the 2048 and 4096 generated. */
#define MIN_IMPORT_BITS 1024
#define MAX_IMPORT_BITS 8192

struct cardea_rsa_key {
    EVP_PKEY *pkey;
    atomic_uint refs;
    bool is_private;
    unsigned bits;
};

static atomic_uint_fast64_t private_ops;

/* ---- key objects -------------------------------------------------------- */

/* Takes `pkey` over on success; NULL when memory is out. */
static cardea_rsa_key *
key_wrap(EVP_PKEY *pkey, bool is_private)
{
    cardea_rsa_key *key = cardea_mem__alloc(sizeof *key);

    if (key == NULL) {
        return NULL;
    }
    key->pkey = pkey;
    key->is_private = is_private;
    key->bits = (unsigned)EVP_PKEY_get_bits(pkey);
    atomic_init(&key->refs, 1);
    return key;
}

/* see crypto/crypto.h */
cardea_rsa_key *
cardea_rsa__ref(cardea_rsa_key *key)
{
    if (key != NULL) {
        atomic_fetch_add_explicit(&key->refs, 1, memory_order_relaxed);
    }
    return key;
}

/* see crypto/crypto.h */
void
cardea_rsa__free(cardea_rsa_key *key)
{
    if (key == NULL) {
        return;
    }
    /* acq_rel: every use by other holders happens before the free. */
    if (atomic_fetch_sub_explicit(&key->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    EVP_PKEY_free(key->pkey); /* OpenSSL clears the private components */
    cardea_mem__free(key);
}

/* see crypto/crypto.h */
bool
cardea_rsa__is_private(const cardea_rsa_key *key)
{
    return key != NULL && key->is_private;
}

/* see crypto/crypto.h */
unsigned
cardea_rsa__bits(const cardea_rsa_key *key)
{
    return key != NULL ? key->bits : 0;
}

/* see crypto/crypto.h */
bool
cardea_rsa__same_public(const cardea_rsa_key *a, const cardea_rsa_key *b)
{
    return a != NULL && b != NULL && EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__generate(cardea_rsa_key **out, unsigned bits)
{
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *pkey = NULL;
    cardea_rsa_key *key;
    int ok;

    if (out == NULL || (bits != 2048 && bits != 4096)) {
        return CARDEA_EINVAL;
    }
    if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL) {
        return CARDEA_ENOMEM;
    }

    ok = EVP_PKEY_keygen_init(ctx) == 1
         && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) == 1
         && EVP_PKEY_generate(ctx, &pkey) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return CARDEA_ECRYPTO;
    }

    if ((key = key_wrap(pkey, true)) == NULL) {
        EVP_PKEY_free(pkey);
        return CARDEA_ENOMEM;
    }
    *out = key;
    return CARDEA_OK;
}

/* ---- import ------------------------------------------------------------- */

/* Accepts RSA keys (not RSA-PSS keys) of 1024 to 8192 bits. */
static cardea_err
check_imported(EVP_PKEY *pkey)
{
    int bits;

    if (!EVP_PKEY_is_a(pkey, "RSA")) {
        return CARDEA_EUNSUPPORTED;
    }
    bits = EVP_PKEY_get_bits(pkey);
    if (bits < MIN_IMPORT_BITS || bits > MAX_IMPORT_BITS) {
        return CARDEA_EUNSUPPORTED;
    }
    return CARDEA_OK;
}

/* Parses PKCS#8 when `is_private`, else SPKI; RSA keys only. */
static cardea_err
parse_der(EVP_PKEY **out, const uint8_t *der, size_t der_len, bool is_private)
{
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8;
    EVP_PKEY *pkey = NULL;
    cardea_err err;

    /* The DER must be exactly one structure, with nothing after it. */
    if (is_private) {
        p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der_len);
        if (p8 != NULL && p == der + der_len) {
            pkey = EVP_PKCS82PKEY(p8);
        }
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else {
        pkey = d2i_PUBKEY(NULL, &p, (long)der_len);
        if (pkey != NULL && p != der + der_len) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    if (pkey == NULL) {
        ERR_clear_error();
        return CARDEA_EFORMAT;
    }

    if ((err = check_imported(pkey)) != CARDEA_OK) {
        EVP_PKEY_free(pkey);
        return err;
    }
    *out = pkey;
    return CARDEA_OK;
}

/* ---- parsed-key cache --------------------------------------------------- */

/*
 * Entries are found by SHA-256 of the whole DER and by its kind, never by
 * fingerprint: a fingerprint is only the last 16 bytes of the SPKI, so a
 * forged key could share it. The kind matters because a PKCS#8 lookup
 * must never return a public key. The table is small enough
 * that a linear scan costs far less than one parse; the least recently
 * used entry makes room. The cache holds one reference to each key, so
 * an evicted key lives on while callers still use it.
 */
#define CACHE_SLOTS 256

typedef struct cache_slot {
    uint8_t digest[CARDEA_SHA256_LEN];
    bool is_private;
    uint64_t last_use;   /* 0 for an empty slot */
    cardea_rsa_key *key;
} cache_slot;

static cache_slot cache[CACHE_SLOTS];
static uint64_t cache_clock;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* With the lock held: the matching slot, or NULL. */
static cache_slot *
cache_find(const uint8_t digest[CARDEA_SHA256_LEN], bool is_private)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        cache_slot *slot = &cache[i];

        if (slot->key != NULL && slot->is_private == is_private
            && memcmp(slot->digest, digest, CARDEA_SHA256_LEN) == 0) {
            slot->last_use = ++cache_clock;
            return slot;
        }
    }
    return NULL;
}

/* With the lock held: an empty slot, else the least recently used. */
static cache_slot *
cache_victim(void)
{
    cache_slot *victim = &cache[0];

    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (cache[i].key == NULL) {
            return &cache[i];
        }
        if (cache[i].last_use < victim->last_use) {
            victim = &cache[i];
        }
    }
    return victim;
}

/* A new reference to the cached key for `digest`, or NULL. */
static cardea_rsa_key *
cache_lookup(const uint8_t digest[CARDEA_SHA256_LEN], bool is_private)
{
    cardea_rsa_key *key = NULL;
    cache_slot *slot;

    pthread_mutex_lock(&cache_lock);
    if ((slot = cache_find(digest, is_private)) != NULL) {
        key = cardea_rsa__ref(slot->key);
    }
    pthread_mutex_unlock(&cache_lock);
    return key;
}

/*
 * Adds `key` (the caller's reference) and returns the reference to hand
 * out. When another thread cached the same DER meanwhile, its key wins,
 * so that every caller shares one object.
 */
static cardea_rsa_key *
cache_insert(const uint8_t digest[CARDEA_SHA256_LEN], bool is_private,
             cardea_rsa_key *key)
{
    cardea_rsa_key *evicted = NULL;
    cardea_rsa_key *result = key;
    cache_slot *slot;

    pthread_mutex_lock(&cache_lock);
    if ((slot = cache_find(digest, is_private)) != NULL) {
        evicted = key;
        result = cardea_rsa__ref(slot->key);
    } else {
        slot = cache_victim();
        evicted = slot->key;
        memcpy(slot->digest, digest, CARDEA_SHA256_LEN);
        slot->is_private = is_private;
        slot->last_use = ++cache_clock;
        slot->key = cardea_rsa__ref(key);
    }
    pthread_mutex_unlock(&cache_lock);

    cardea_rsa__free(evicted); /* outside the lock: freeing takes time */
    return result;
}

/* see crypto/crypto.h */
void
cardea_rsa__cache_clear(void)
{
    cardea_rsa_key *keys[CACHE_SLOTS];

    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        keys[i] = cache[i].key;
    }
    memset(cache, 0, sizeof cache);
    pthread_mutex_unlock(&cache_lock);

    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        cardea_rsa__free(keys[i]);
    }
}

/* Parses DER through the cache; the common part of the importers. */
static cardea_err
import_cached(cardea_rsa_key **out, const uint8_t *der, size_t der_len,
              bool is_private)
{
    uint8_t digest[CARDEA_SHA256_LEN];
    EVP_PKEY *pkey = NULL;
    cardea_rsa_key *key;
    cardea_err err;

    if (out == NULL || der == NULL || der_len == 0) {
        return CARDEA_EINVAL;
    }
    if (der_len > CARDEA_RSA_MAX_DER_LEN) {
        return CARDEA_ETOOBIG;
    }
    cardea_hash__sha256(digest, der, der_len);
    if ((key = cache_lookup(digest, is_private)) != NULL) {
        *out = key;
        return CARDEA_OK;
    }

    if ((err = parse_der(&pkey, der, der_len, is_private)) != CARDEA_OK) {
        return err;
    }
    if ((key = key_wrap(pkey, is_private)) == NULL) {
        EVP_PKEY_free(pkey);
        return CARDEA_ENOMEM;
    }
    *out = cache_insert(digest, is_private, key);
    return CARDEA_OK;
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__from_spki(cardea_rsa_key **out, const uint8_t *der,
                      size_t der_len)
{
    return import_cached(out, der, der_len, false);
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__from_pkcs8(cardea_rsa_key **out, const uint8_t *der,
                       size_t der_len)
{
    return import_cached(out, der, der_len, true);
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__from_spki_hex(cardea_rsa_key **out, const char *hex,
                          size_t hex_len)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    cardea_err err;

    if (out == NULL || (hex == NULL && hex_len > 0)) {
        return CARDEA_EINVAL;
    }
    if (hex_len > 2 * (size_t)CARDEA_RSA_MAX_DER_LEN) {
        return CARDEA_ETOOBIG;
    }
    if ((err = cardea_hex__decode_alloc(&der, &der_len, hex, hex_len))
        != CARDEA_OK) {
        return err;
    }

    err = cardea_rsa__from_spki(out, der, der_len);
    cardea_mem__free(der);
    return err;
}

/* ---- export ------------------------------------------------------------- */

/* see crypto/crypto.h */
cardea_err
cardea_rsa__spki_der(uint8_t **out, size_t *out_len,
                     const cardea_rsa_key *key)
{
    unsigned char *der;
    unsigned char *p;
    int len;

    if (out == NULL || out_len == NULL || key == NULL) {
        return CARDEA_EINVAL;
    }
    if ((len = i2d_PUBKEY(key->pkey, NULL)) <= 0) {
        ERR_clear_error();
        return CARDEA_ECRYPTO;
    }
    if ((der = cardea_mem__alloc((size_t)len)) == NULL) {
        return CARDEA_ENOMEM;
    }

    p = der;
    if (i2d_PUBKEY(key->pkey, &p) != len) {
        ERR_clear_error();
        cardea_mem__free(der);
        return CARDEA_ECRYPTO;
    }
    *out = der;
    *out_len = (size_t)len;
    return CARDEA_OK;
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__spki_hex(char **out, const cardea_rsa_key *key)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    cardea_err err;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    if ((err = cardea_rsa__spki_der(&der, &der_len, key)) != CARDEA_OK) {
        return err;
    }
    err = cardea_hex__encode_alloc(out, der, der_len);
    cardea_mem__free(der);
    return err;
}

/*
 * PKCS#8 goes through PKCS8_PRIV_KEY_INFO rather than i2d_PrivateKey,
 * which would write a bare PKCS#1 RSAPrivateKey. OpenSSL's PKCS#8 output
 * matches WebCrypto's byte for byte, and the delegator signature hashes
 * these bytes, so nothing here may change the encoding.
 */
/* see crypto/crypto.h */
cardea_err
cardea_rsa__pkcs8_der(uint8_t **out, size_t *out_len,
                      const cardea_rsa_key *key)
{
    PKCS8_PRIV_KEY_INFO *p8;
    unsigned char *der = NULL;
    unsigned char *p;
    int len;
    cardea_err err = CARDEA_ECRYPTO;

    if (out == NULL || out_len == NULL || key == NULL) {
        return CARDEA_EINVAL;
    }
    if (!key->is_private) {
        return CARDEA_ENOKEY;
    }
    if ((p8 = EVP_PKEY2PKCS8(key->pkey)) == NULL) {
        ERR_clear_error();
        return CARDEA_ECRYPTO;
    }

    if ((len = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL)) <= 0) {
        goto out;
    }
    if ((der = cardea_mem__alloc((size_t)len)) == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    p = der;
    if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != len) {
        cardea_mem__free_secret(der, (size_t)len);
        goto out;
    }
    *out = der;
    *out_len = (size_t)len;
    err = CARDEA_OK;
out:
    PKCS8_PRIV_KEY_INFO_free(p8); /* wipes the key octets */
    ERR_clear_error();
    return err;
}

/* ---- OAEP --------------------------------------------------------------- */

/* Digest name and length for an OAEP flavour; NULL for an unknown one. */
static const char *
oaep_digest(cardea_rsa_oaep hash, size_t *hash_len)
{
    switch (hash) {
    case CARDEA_RSA_OAEP_SHA1:
        *hash_len = 20;
        return "SHA1";
    case CARDEA_RSA_OAEP_SHA256:
        *hash_len = 32;
        return "SHA2-256";
    }
    return NULL;
}

/*
 * A context for OAEP encryption or decryption with MGF1 over the same
 * digest as OAEP itself, and `label` unless it is empty. The provider
 * copies the label.
 */
static EVP_PKEY_CTX *
oaep_ctx(const cardea_rsa_key *key, const char *md, bool decrypt,
         const uint8_t *label, size_t label_len)
{
    OSSL_PARAM params[5];
    EVP_PKEY_CTX *ctx;
    size_t n = 0;
    int ok;

    params[n++] = OSSL_PARAM_construct_utf8_string(
        OSSL_ASYM_CIPHER_PARAM_PAD_MODE, (char *)OSSL_PKEY_RSA_PAD_MODE_OAEP,
        0);
    params[n++] = OSSL_PARAM_construct_utf8_string(
        OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, (char *)md, 0);
    params[n++] = OSSL_PARAM_construct_utf8_string(
        OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, (char *)md, 0);
    if (label_len > 0) {
        params[n++] = OSSL_PARAM_construct_octet_string(
            OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, (void *)label, label_len);
    }
    params[n] = OSSL_PARAM_construct_end();

    if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)) == NULL) {
        return NULL;
    }
    ok = decrypt ? EVP_PKEY_decrypt_init_ex(ctx, params)
                 : EVP_PKEY_encrypt_init_ex(ctx, params);
    if (ok != 1) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__encrypt(uint8_t **out, size_t *out_len, const cardea_rsa_key *key,
                    cardea_rsa_oaep hash, const uint8_t *msg, size_t msg_len)
{
    static const uint8_t empty[1];
    EVP_PKEY_CTX *ctx;
    const char *md;
    size_t hash_len = 0;
    size_t mod_len;
    size_t ct_len;
    uint8_t *ct;

    if (out == NULL || out_len == NULL || key == NULL
        || (msg == NULL && msg_len > 0)
        || (md = oaep_digest(hash, &hash_len)) == NULL) {
        return CARDEA_EINVAL;
    }
    mod_len = (size_t)EVP_PKEY_get_size(key->pkey);
    if (mod_len < 2 * hash_len + 2 || msg_len > mod_len - 2 * hash_len - 2) {
        return CARDEA_ETOOBIG;
    }
    if ((ct = cardea_mem__alloc(mod_len)) == NULL) {
        return CARDEA_ENOMEM;
    }

    ct_len = mod_len;
    if ((ctx = oaep_ctx(key, md, false, NULL, 0)) == NULL
        || EVP_PKEY_encrypt(ctx, ct, &ct_len, msg != NULL ? msg : empty,
                            msg_len) != 1) {
        EVP_PKEY_CTX_free(ctx);
        cardea_mem__free(ct);
        ERR_clear_error();
        return CARDEA_ECRYPTO;
    }
    EVP_PKEY_CTX_free(ctx);
    *out = ct;
    *out_len = ct_len;
    return CARDEA_OK;
}

/*
 * The private-key step of an OAEP decryption into `buf` (modulus-sized).
 * Every failure is CARDEA_EVERIFY, with nothing to tell them apart.
 */
static cardea_err
oaep_open(uint8_t *buf, size_t *plain_len, const cardea_rsa_key *key,
          const char *md, const uint8_t *label, size_t label_len,
          const uint8_t *ct, size_t ct_len)
{
    EVP_PKEY_CTX *ctx;
    size_t len = (size_t)EVP_PKEY_get_size(key->pkey);
    int ok;

    if ((ctx = oaep_ctx(key, md, true, label, label_len)) == NULL) {
        ERR_clear_error();
        return CARDEA_ECRYPTO;
    }
    atomic_fetch_add_explicit(&private_ops, 1, memory_order_relaxed);
    ok = EVP_PKEY_decrypt(ctx, buf, &len, ct, ct_len);
    EVP_PKEY_CTX_free(ctx);
    if (ok != 1) {
        ERR_clear_error();
        return CARDEA_EVERIFY;
    }
    *plain_len = len;
    return CARDEA_OK;
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__decrypt_label(uint8_t **out, size_t *out_len,
                          const cardea_rsa_key *key, cardea_rsa_oaep hash,
                          const uint8_t *label, size_t label_len,
                          const uint8_t *ct, size_t ct_len)
{
    const char *md;
    size_t hash_len = 0;
    size_t mod_len;
    size_t plain_len = 0;
    uint8_t *tmp;
    uint8_t *plain;
    cardea_err err;

    if (out == NULL || out_len == NULL || key == NULL
        || (ct == NULL && ct_len > 0) || (label == NULL && label_len > 0)
        || (md = oaep_digest(hash, &hash_len)) == NULL) {
        return CARDEA_EINVAL;
    }
    if (!key->is_private) {
        return CARDEA_ENOKEY;
    }
    mod_len = (size_t)EVP_PKEY_get_size(key->pkey);
    if (ct_len != mod_len) {
        return CARDEA_EVERIFY;
    }
    if ((tmp = cardea_mem__alloc(mod_len)) == NULL) {
        return CARDEA_ENOMEM;
    }

    err = oaep_open(tmp, &plain_len, key, md, label, label_len, ct, ct_len);
    if (err == CARDEA_OK) {
        /* One spare byte, so that an empty message is not a NULL. */
        if ((plain = cardea_mem__alloc(plain_len + 1)) == NULL) {
            err = CARDEA_ENOMEM;
        } else {
            memcpy(plain, tmp, plain_len);
            plain[plain_len] = 0;
            *out = plain;
            *out_len = plain_len;
        }
    }
    cardea_mem__free_secret(tmp, mod_len);
    return err;
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__decrypt(uint8_t **out, size_t *out_len, const cardea_rsa_key *key,
                    cardea_rsa_oaep hash, const uint8_t *ct, size_t ct_len)
{
    return cardea_rsa__decrypt_label(out, out_len, key, hash, NULL, 0, ct,
                                     ct_len);
}

/* ---- PSS ---------------------------------------------------------------- */

/* A digest context set for PSS-SHA-256 with MGF1-SHA-256 and salt 32. */
static EVP_MD_CTX *
pss_ctx(const cardea_rsa_key *key, bool sign)
{
    OSSL_PARAM params[4];
    int salt_len = PSS_SALT_LEN;
    EVP_MD_CTX *ctx;
    int ok;

    params[0] = OSSL_PARAM_construct_utf8_string(
        OSSL_SIGNATURE_PARAM_PAD_MODE, (char *)OSSL_PKEY_RSA_PAD_MODE_PSS, 0);
    params[1] = OSSL_PARAM_construct_utf8_string(
        OSSL_SIGNATURE_PARAM_MGF1_DIGEST, (char *)"SHA2-256", 0);
    params[2] = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN,
                                         &salt_len);
    params[3] = OSSL_PARAM_construct_end();

    if ((ctx = EVP_MD_CTX_new()) == NULL) {
        return NULL;
    }
    ok = sign ? EVP_DigestSignInit_ex(ctx, NULL, "SHA2-256", NULL, NULL,
                                      key->pkey, params)
              : EVP_DigestVerifyInit_ex(ctx, NULL, "SHA2-256", NULL, NULL,
                                        key->pkey, params);
    if (ok != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__pss_sign(uint8_t **out, size_t *out_len,
                     const cardea_rsa_key *key, const uint8_t *msg,
                     size_t msg_len)
{
    static const uint8_t empty[1];
    EVP_MD_CTX *ctx;
    size_t sig_len;
    uint8_t *sig;
    int ok;

    if (out == NULL || out_len == NULL || key == NULL
        || (msg == NULL && msg_len > 0)) {
        return CARDEA_EINVAL;
    }
    if (!key->is_private) {
        return CARDEA_ENOKEY;
    }
    sig_len = (size_t)EVP_PKEY_get_size(key->pkey);
    if ((sig = cardea_mem__alloc(sig_len)) == NULL) {
        return CARDEA_ENOMEM;
    }

    if ((ctx = pss_ctx(key, true)) == NULL) {
        ok = 0;
    } else {
        atomic_fetch_add_explicit(&private_ops, 1, memory_order_relaxed);
        ok = EVP_DigestSign(ctx, sig, &sig_len, msg != NULL ? msg : empty,
                            msg_len);
        EVP_MD_CTX_free(ctx);
    }
    if (ok != 1) {
        cardea_mem__free(sig);
        ERR_clear_error();
        return CARDEA_ECRYPTO;
    }
    *out = sig;
    *out_len = sig_len;
    return CARDEA_OK;
}

/* see crypto/crypto.h */
cardea_err
cardea_rsa__pss_verify(const cardea_rsa_key *key, const uint8_t *msg,
                       size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    static const uint8_t empty[1];
    EVP_MD_CTX *ctx;
    int ok;

    if (key == NULL || (msg == NULL && msg_len > 0)) {
        return CARDEA_EINVAL;
    }
    if (sig == NULL || sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
        return CARDEA_EVERIFY;
    }
    if ((ctx = pss_ctx(key, false)) == NULL) {
        ERR_clear_error();
        return CARDEA_ECRYPTO;
    }

    ok = EVP_DigestVerify(ctx, sig, sig_len, msg != NULL ? msg : empty,
                          msg_len);
    EVP_MD_CTX_free(ctx);
    if (ok != 1) {
        ERR_clear_error();
        return CARDEA_EVERIFY;
    }
    return CARDEA_OK;
}

/* see crypto/crypto.h */
uint64_t
cardea_rsa__private_op_count(void)
{
    return (uint64_t)atomic_load_explicit(&private_ops, memory_order_relaxed);
}
