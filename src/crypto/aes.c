/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AES-CBC with PKCS#7 padding in the layout every Cardea blob uses:
 * a 16-byte IV followed by the ciphertext. Decryption turns OpenSSL's
 * padding check off and checks the padding itself in constant time, so
 * that the time taken does not depend on the padding bytes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/base.h"
#include "crypto/crypto.h"

static EVP_CIPHER *aes_cbc[3]; /* 128, 192 and 256-bit keys */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void
fetch_ciphers(void)
{
    aes_cbc[0] = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
    aes_cbc[1] = EVP_CIPHER_fetch(NULL, "AES-192-CBC", NULL);
    aes_cbc[2] = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    if (aes_cbc[0] == NULL || aes_cbc[1] == NULL || aes_cbc[2] == NULL) {
        cardea_log__write(CARDEA_LOG_ERROR, "%s:%d: OpenSSL lacks AES-CBC",
                          __FILE__, __LINE__);
        abort();
    }
}

/* NULL for a key length other than 16, 24 or 32. */
static const EVP_CIPHER *
cipher_for(const uint8_t *key, size_t key_len)
{
    if (key == NULL || (key_len != 16 && key_len != 24 && key_len != 32)) {
        return NULL;
    }
    pthread_once(&fetch_once, fetch_ciphers);
    return aes_cbc[(key_len - 16) / 8];
}

/* see crypto/crypto.h */
size_t
cardea_aes__cbc_blob_len(size_t plain_len)
{
    /* The result is at most plain_len + 32, so saturate instead of
     * wrapping. */
    if (plain_len > SIZE_MAX - 2 * CARDEA_AES_BLOCK_LEN) {
        return SIZE_MAX;
    }
    return CARDEA_AES_IV_LEN
           + (plain_len / CARDEA_AES_BLOCK_LEN + 1) * CARDEA_AES_BLOCK_LEN;
}

/*
 * One CBC pass over `in` into `out`, which has room for in_len + 16.
 * `in_len` is at most CARDEA_AES_MAX_INPUT + 16, so it fits in an int.
 */
static bool
cbc_run(uint8_t *out, size_t *out_len, const EVP_CIPHER *cipher, int enc,
        int pad, const uint8_t *key, const uint8_t *iv, const uint8_t *in,
        size_t in_len)
{
    static const uint8_t empty[1];
    EVP_CIPHER_CTX *ctx;
    int head = 0;
    int tail = 0;
    bool ok;

    if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
        return false;
    }
    ok = EVP_CipherInit_ex2(ctx, cipher, key, iv, enc, NULL) == 1
         && EVP_CIPHER_CTX_set_padding(ctx, pad) == 1
         && EVP_CipherUpdate(ctx, out, &head, in != NULL ? in : empty,
                             (int)in_len) == 1
         && EVP_CipherFinal_ex(ctx, out + head, &tail) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (ok) {
        *out_len = (size_t)head + (size_t)tail;
    }
    return ok;
}

/* see crypto/crypto.h */
cardea_err
cardea_aes__cbc_encrypt_iv(uint8_t *out, size_t out_cap, size_t *out_len,
                           const uint8_t *key, size_t key_len,
                           const uint8_t iv[CARDEA_AES_IV_LEN],
                           const uint8_t *plain, size_t plain_len)
{
    const EVP_CIPHER *cipher = cipher_for(key, key_len);
    size_t need;
    size_t ct_len = 0;

    if (cipher == NULL || out == NULL || out_len == NULL || iv == NULL
        || (plain == NULL && plain_len > 0)) {
        return CARDEA_EINVAL;
    }
    if (plain_len > CARDEA_AES_MAX_INPUT) {
        return CARDEA_ETOOBIG;
    }
    need = cardea_aes__cbc_blob_len(plain_len);
    if (out_cap < need) {
        return CARDEA_ETOOBIG;
    }

    memcpy(out, iv, CARDEA_AES_IV_LEN);
    if (!cbc_run(out + CARDEA_AES_IV_LEN, &ct_len, cipher, 1, 1, key, iv,
                 plain, plain_len)
        || CARDEA_AES_IV_LEN + ct_len != need) {
        cardea_wipe(out, need);
        return CARDEA_ECRYPTO;
    }
    *out_len = need;
    return CARDEA_OK;
}

/* see crypto/crypto.h */
cardea_err
cardea_aes__cbc_encrypt(uint8_t *out, size_t out_cap, size_t *out_len,
                        const uint8_t *key, size_t key_len,
                        const uint8_t *plain, size_t plain_len)
{
    uint8_t iv[CARDEA_AES_IV_LEN];

    cardea_random__bytes(iv, sizeof iv);
    return cardea_aes__cbc_encrypt_iv(out, out_cap, out_len, key, key_len, iv,
                                      plain, plain_len);
}

/* see crypto/crypto.h */
cardea_err
cardea_aes__cbc_encrypt_alloc(uint8_t **out, size_t *out_len,
                              const uint8_t *key, size_t key_len,
                              const uint8_t *plain, size_t plain_len)
{
    uint8_t *blob;
    size_t blob_len = 0;
    size_t need;
    cardea_err err;

    if (out == NULL || out_len == NULL) {
        return CARDEA_EINVAL;
    }
    if (plain_len > CARDEA_AES_MAX_INPUT) {
        return CARDEA_ETOOBIG;
    }
    need = cardea_aes__cbc_blob_len(plain_len);
    if ((blob = cardea_mem__alloc(need)) == NULL) {
        return CARDEA_ENOMEM;
    }

    err = cardea_aes__cbc_encrypt(blob, need, &blob_len, key, key_len, plain,
                                  plain_len);
    if (err != CARDEA_OK) {
        cardea_mem__free(blob);
        return err;
    }
    *out = blob;
    *out_len = blob_len;
    return CARDEA_OK;
}

/* Returns 1 when a < b, else 0, without a branch. Both operands fit in 32
 * bits, so the 64-bit difference wraps above 2^63 exactly when a < b. */
static uint32_t
ct_lt(uint32_t a, uint32_t b)
{
    return (uint32_t)(((uint64_t)a - (uint64_t)b) >> 63);
}

/*
 * Checks the PKCS#7 padding at the end of `buf` (n >= 16 bytes), reading
 * all of the last block whatever the padding length byte is. Returns the
 * padding length, or 0 when it is invalid.
 */
static size_t
pkcs7_pad_len(const uint8_t *buf, size_t n)
{
    uint32_t pad = buf[n - 1];
    uint32_t good = ct_lt(0, pad) & ct_lt(pad, CARDEA_AES_BLOCK_LEN + 1);

    for (uint32_t i = 0; i < CARDEA_AES_BLOCK_LEN; i++) {
        uint32_t in_pad = ct_lt(i, pad);
        uint32_t same = ct_lt(buf[n - 1 - i] ^ pad, 1);

        good &= (in_pad ^ 1) | same;
    }
    return (size_t)(pad & (0u - good));
}

/* Argument checks shared by both decryption entry points. */
static cardea_err
check_blob(const uint8_t *key, size_t key_len, const uint8_t *blob,
           size_t blob_len)
{
    if (cipher_for(key, key_len) == NULL || (blob == NULL && blob_len > 0)) {
        return CARDEA_EINVAL;
    }
    if (blob_len > cardea_aes__cbc_blob_len(CARDEA_AES_MAX_INPUT)) {
        return CARDEA_ETOOBIG;
    }
    if (blob_len < CARDEA_AES_IV_LEN + CARDEA_AES_BLOCK_LEN
        || blob_len % CARDEA_AES_BLOCK_LEN != 0) {
        return CARDEA_EVERIFY;
    }
    return CARDEA_OK;
}

/*
 * Decrypts a checked blob into `buf`, which has blob_len - 16 bytes, and
 * sets the plaintext length. `buf` contains garbage after a failure.
 */
static cardea_err
cbc_open(uint8_t *buf, size_t *plain_len, const uint8_t *key, size_t key_len,
         const uint8_t *blob, size_t blob_len)
{
    size_t ct_len = blob_len - CARDEA_AES_IV_LEN;
    size_t done = 0;
    size_t pad;

    if (!cbc_run(buf, &done, cipher_for(key, key_len), 0, 0, key, blob,
                 blob + CARDEA_AES_IV_LEN, ct_len)
        || done != ct_len) {
        return CARDEA_EVERIFY;
    }
    if ((pad = pkcs7_pad_len(buf, ct_len)) == 0) {
        return CARDEA_EVERIFY;
    }
    *plain_len = ct_len - pad;
    return CARDEA_OK;
}

/*
 * Checks and decrypts `blob` into a new buffer of `*buf_len` bytes,
 * blob_len - 16, and sets the plaintext length. Outputs are untouched on
 * failure. Free the buffer with cardea_mem__free_secret.
 */
static cardea_err
open_alloc(uint8_t **buf, size_t *buf_len, size_t *plain_len,
           const uint8_t *key, size_t key_len, const uint8_t *blob,
           size_t blob_len)
{
    uint8_t *tmp;
    size_t tmp_len;
    cardea_err err;

    if ((err = check_blob(key, key_len, blob, blob_len)) != CARDEA_OK) {
        return err;
    }
    tmp_len = blob_len - CARDEA_AES_IV_LEN;
    if ((tmp = cardea_mem__alloc(tmp_len)) == NULL) {
        return CARDEA_ENOMEM;
    }

    if ((err = cbc_open(tmp, plain_len, key, key_len, blob, blob_len))
        != CARDEA_OK) {
        cardea_mem__free_secret(tmp, tmp_len);
        return err;
    }
    *buf = tmp;
    *buf_len = tmp_len;
    return CARDEA_OK;
}

/* see crypto/crypto.h */
cardea_err
cardea_aes__cbc_decrypt(uint8_t *out, size_t out_cap, size_t *out_len,
                        const uint8_t *key, size_t key_len,
                        const uint8_t *blob, size_t blob_len)
{
    uint8_t *tmp = NULL;
    size_t tmp_len = 0;
    size_t plain_len = 0;
    cardea_err err;

    if ((out == NULL && out_cap > 0) || out_len == NULL) {
        return CARDEA_EINVAL;
    }
    err = open_alloc(&tmp, &tmp_len, &plain_len, key, key_len, blob,
                     blob_len);
    if (err != CARDEA_OK) {
        return err;
    }

    if (plain_len > out_cap) {
        err = CARDEA_ETOOBIG;
    } else {
        if (plain_len > 0) {
            memcpy(out, tmp, plain_len);
        }
        *out_len = plain_len;
    }
    cardea_mem__free_secret(tmp, tmp_len);
    return err;
}

/* see crypto/crypto.h */
cardea_err
cardea_aes__cbc_decrypt_alloc(uint8_t **out, size_t *out_len,
                              const uint8_t *key, size_t key_len,
                              const uint8_t *blob, size_t blob_len)
{
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    size_t plain_len = 0;
    cardea_err err;

    if (out == NULL || out_len == NULL) {
        return CARDEA_EINVAL;
    }
    err = open_alloc(&buf, &buf_len, &plain_len, key, key_len, blob,
                     blob_len);
    if (err != CARDEA_OK) {
        return err;
    }
    /* The padding is at least one byte, so the NUL fits. */
    cardea_wipe(buf + plain_len, buf_len - plain_len);
    *out = buf;
    *out_len = plain_len;
    return CARDEA_OK;
}
