/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256, SHA-512 and HMAC over OpenSSL 3 EVP. The digests and the HMAC
 * method are fetched once per process, as crypto(7) recommends for
 * operations done many times, instead of an implicit fetch per call.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "base/base.h"
#include "crypto/crypto.h"

static EVP_MD *sha256_md;
static EVP_MD *sha512_md;
static EVP_MAC *hmac_mac;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

/* Aborts when an algorithm is missing: no part of Cardea works without. */
static void
fetch_algorithms(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    sha512_md = EVP_MD_fetch(NULL, "SHA2-512", NULL);
    hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (sha256_md == NULL || sha512_md == NULL || hmac_mac == NULL) {
        cardea_log__write(CARDEA_LOG_ERROR,
                          "%s:%d: OpenSSL lacks SHA-2 or HMAC", __FILE__,
                          __LINE__);
        abort();
    }
}

static void
digest(uint8_t *out, const EVP_MD *md, const void *msg, size_t msg_len)
{
    static const uint8_t empty[1];

    if (msg == NULL) {
        msg = empty;
    }
    if (EVP_Digest(msg, msg_len, out, NULL, md, NULL) != 1) {
        cardea_log__write(CARDEA_LOG_ERROR, "%s:%d: EVP_Digest failed",
                          __FILE__, __LINE__);
        abort();
    }
}

/* see crypto/crypto.h */
void
cardea_hash__sha256(uint8_t out[CARDEA_SHA256_LEN], const void *msg,
                    size_t msg_len)
{
    pthread_once(&fetch_once, fetch_algorithms);
    digest(out, sha256_md, msg, msg_len);
}

/* see crypto/crypto.h */
void
cardea_hash__sha512(uint8_t out[CARDEA_SHA512_LEN], const void *msg,
                    size_t msg_len)
{
    pthread_once(&fetch_once, fetch_algorithms);
    digest(out, sha512_md, msg, msg_len);
}

/* see crypto/crypto.h */
void
cardea_hash__sha256_hex(char out[2 * CARDEA_SHA256_LEN + 1], const void *msg,
                        size_t msg_len)
{
    uint8_t sum[CARDEA_SHA256_LEN];

    cardea_hash__sha256(sum, msg, msg_len);
    if (cardea_hex__encode(out, 2 * CARDEA_SHA256_LEN + 1, sum, sizeof sum)
        != CARDEA_OK) {
        abort(); /* the capacity is fixed and sufficient */
    }
}

/*
 * Computes the full HMAC tag with digest `md_name` into `out`. An empty
 * key is valid in HMAC, but OpenSSL needs a non-NULL pointer for it.
 */
static cardea_err
hmac(uint8_t *out, size_t out_size, const char *md_name, const uint8_t *key,
     size_t key_len, const void *msg, size_t msg_len)
{
    static const uint8_t empty[1];
    OSSL_PARAM params[2];
    EVP_MAC_CTX *ctx;
    size_t written = 0;
    int ok;

    if ((key == NULL && key_len > 0) || (msg == NULL && msg_len > 0)) {
        return CARDEA_EINVAL;
    }
    pthread_once(&fetch_once, fetch_algorithms);
    if ((ctx = EVP_MAC_CTX_new(hmac_mac)) == NULL) {
        return CARDEA_ENOMEM;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)md_name, 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = EVP_MAC_init(ctx, key != NULL ? key : empty, key_len, params) == 1
         && EVP_MAC_update(ctx, msg != NULL ? msg : empty, msg_len) == 1
         && EVP_MAC_final(ctx, out, &written, out_size) == 1
         && written == out_size;
    EVP_MAC_CTX_free(ctx);
    if (!ok) {
        cardea_wipe(out, out_size);
        return CARDEA_ECRYPTO;
    }
    return CARDEA_OK;
}

/*
 * Computes an HMAC tag of `out_size` bytes (at most CARDEA_SHA512_LEN)
 * into a temporary, so `out` is written only on success.
 */
static cardea_err
hmac_untouched(uint8_t *out, size_t out_size, const char *md_name,
               const uint8_t *key, size_t key_len, const void *msg,
               size_t msg_len)
{
    uint8_t tag[CARDEA_SHA512_LEN];
    cardea_err err;

    err = hmac(tag, out_size, md_name, key, key_len, msg, msg_len);
    if (err == CARDEA_OK) {
        memcpy(out, tag, out_size);
    }
    cardea_wipe(tag, sizeof tag);
    return err;
}

/* see crypto/crypto.h */
cardea_err
cardea_hmac__sha512(uint8_t out[CARDEA_SHA512_LEN], const uint8_t *key,
                    size_t key_len, const void *msg, size_t msg_len)
{
    return hmac_untouched(out, CARDEA_SHA512_LEN, "SHA2-512", key, key_len, msg,
                          msg_len);
}

/* see crypto/crypto.h */
cardea_err
cardea_hmac__sha256(uint8_t out[CARDEA_SHA256_LEN], const uint8_t *key,
                    size_t key_len, const void *msg, size_t msg_len)
{
    return hmac_untouched(out, CARDEA_SHA256_LEN, "SHA2-256", key, key_len, msg,
                          msg_len);
}

/* see crypto/crypto.h */
cardea_err
cardea_hmac__sha512_verify(const uint8_t *key, size_t key_len,
                           const void *msg, size_t msg_len, const uint8_t *tag,
                           size_t tag_len)
{
    uint8_t expected[CARDEA_SHA512_LEN];
    cardea_err err;

    if (tag == NULL || tag_len == 0 || tag_len > CARDEA_SHA512_LEN) {
        return CARDEA_EVERIFY;
    }
    err = hmac(expected, sizeof expected, "SHA2-512", key, key_len, msg,
               msg_len);
    if (err == CARDEA_OK && !cardea_ct_equal(expected, tag, tag_len)) {
        err = CARDEA_EVERIFY;
    }
    cardea_wipe(expected, sizeof expected);
    return err;
}
