/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of AES-CBC in src/crypto: NIST SP 800-38A known answers, round
 * trips for every length 0..257, the blob length formula, the PKCS#7
 * check for every padding value, and refusals that leave the output
 * untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "base/base.h"
#include "crypto/crypto.h"

#define SENTINEL 0xa5
#define LEN_SENTINEL ((size_t)0x5eed)

static uint8_t sentinel_byte;
#define PTR_SENTINEL (&sentinel_byte)

static const char nist_plain[] =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
static const char nist_iv[] = "000102030405060708090a0b0c0d0e0f";

static size_t
unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t len = 0;

    assert_int_equal(cardea_hex__decode(out, cap, &len, hex, strlen(hex)),
                     CARDEA_OK);
    return len;
}

/* Asserts that `len` bytes at `buf` all still hold SENTINEL. */
static void
assert_untouched(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(buf[i], SENTINEL);
    }
}

/* Encrypts whole blocks with no padding, to build chosen final blocks. */
static void
raw_cbc_encrypt(uint8_t *out, const uint8_t key[32], const uint8_t iv[16],
                const uint8_t *in, size_t len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;

    assert_non_null(ctx);
    assert_int_equal(EVP_EncryptInit_ex2(ctx, EVP_aes_256_cbc(), key, iv,
                                         NULL),
                     1);
    assert_int_equal(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, out, &n, in, (int)len), 1);
    assert_int_equal((size_t)n, len);
    EVP_CIPHER_CTX_free(ctx);
}

/* ---- known answers ------------------------------------------------------ */

/* SP 800-38A F.2.5 and F.2.1: four blocks, then one block of padding. */
static void
check_nist(const char *key_hex, const char *ct_hex)
{
    uint8_t key[32], iv[16], plain[64], want[64], blob[96], back[96];
    size_t key_len = unhex(key, sizeof key, key_hex);
    size_t blob_len = 0;
    size_t back_len = 0;

    unhex(iv, sizeof iv, nist_iv);
    unhex(plain, sizeof plain, nist_plain);
    unhex(want, sizeof want, ct_hex);
    assert_int_equal(cardea_aes__cbc_encrypt_iv(blob, sizeof blob, &blob_len,
                                                key, key_len, iv, plain,
                                                sizeof plain),
                     CARDEA_OK);
    assert_int_equal(blob_len, 96);
    assert_memory_equal(blob, iv, 16);
    assert_memory_equal(blob + 16, want, sizeof want);

    assert_int_equal(cardea_aes__cbc_decrypt(back, sizeof back, &back_len, key,
                                             key_len, blob, blob_len),
                     CARDEA_OK);
    assert_int_equal(back_len, sizeof plain);
    assert_memory_equal(back, plain, sizeof plain);
}

static void
test_aes__nist_cbc_aes256(void **state)
{
    (void)state;
    check_nist("603deb1015ca71be2b73aef0857d7781"
               "1f352c073b6108d72d9810a30914dff4",
               "f58c4c04d6e5f1ba779eabfb5f7bfbd6"
               "9cfc4e967edb808d679f777bc6702c7d"
               "39f23369a9d9bacfa530e26304231461"
               "b2eb05e2c39be9fcda6c19078c6a9d1b");
}

static void
test_aes__nist_cbc_aes128(void **state)
{
    (void)state;
    check_nist("2b7e151628aed2a6abf7158809cf4f3c",
               "7649abac8119b246cee98e9b12e9197d"
               "5086cb9b507219ee95db113a917678b2"
               "73bed6b8e3c1743b7116e69e22229516"
               "3ff1caa1681fac09120eca307586e1a7");
}

/* ---- properties --------------------------------------------------------- */

static void
test_aes__blob_len_formula(void **state)
{
    (void)state;
    assert_int_equal(cardea_aes__cbc_blob_len(0), 32);
    assert_int_equal(cardea_aes__cbc_blob_len(15), 32);
    assert_int_equal(cardea_aes__cbc_blob_len(16), 48);
    assert_int_equal(cardea_aes__cbc_blob_len(17), 48);
    for (size_t n = 0; n < 1000; n++) {
        assert_int_equal(cardea_aes__cbc_blob_len(n), 16 + (n / 16 + 1) * 16);
    }
    assert_int_equal(cardea_aes__cbc_blob_len(SIZE_MAX), SIZE_MAX);
}

/* Every length 0..257 through both decryption paths, for one key size. */
static void
round_trip_all_lengths(size_t key_len)
{
    uint8_t key[32], plain[258], blob[300], back[300];
    uint8_t *alloc_blob = NULL;
    uint8_t *alloc_back = NULL;
    size_t blob_len, back_len, alloc_len;

    cardea_random__bytes(key, key_len);
    for (size_t n = 0; n <= 257; n++) {
        cardea_random__bytes(plain, n);
        assert_int_equal(cardea_aes__cbc_encrypt(blob, sizeof blob, &blob_len,
                                                 key, key_len, plain, n),
                         CARDEA_OK);
        assert_int_equal(blob_len, cardea_aes__cbc_blob_len(n));
        assert_int_equal(cardea_aes__cbc_decrypt(back, blob_len - 16,
                                                 &back_len, key, key_len, blob,
                                                 blob_len),
                         CARDEA_OK);
        assert_int_equal(back_len, n);
        assert_memory_equal(back, plain, n);

        assert_int_equal(cardea_aes__cbc_encrypt_alloc(&alloc_blob,
                                                       &alloc_len, key,
                                                       key_len, plain, n),
                         CARDEA_OK);
        assert_int_equal(alloc_len, blob_len);
        assert_int_equal(cardea_aes__cbc_decrypt_alloc(&alloc_back,
                                                       &back_len, key,
                                                       key_len, alloc_blob,
                                                       alloc_len),
                         CARDEA_OK);
        assert_int_equal(back_len, n);
        assert_memory_equal(alloc_back, plain, n);
        assert_int_equal(alloc_back[n], 0);
        cardea_mem__free(alloc_blob);
        cardea_mem__free_secret(alloc_back, back_len + 1);
    }
}

static void
test_aes__round_trip_every_length_key16(void **state)
{
    (void)state;
    round_trip_all_lengths(16);
}

static void
test_aes__round_trip_every_length_key32(void **state)
{
    (void)state;
    round_trip_all_lengths(32);
}

static void
test_aes__round_trip_key24(void **state)
{
    uint8_t key[24], blob[64], back[48];
    size_t blob_len, back_len;

    (void)state;
    cardea_random__bytes(key, sizeof key);
    assert_int_equal(cardea_aes__cbc_encrypt(blob, sizeof blob, &blob_len,
                                             key, sizeof key,
                                             (const uint8_t *)"Cure1234", 8),
                     CARDEA_OK);
    assert_int_equal(cardea_aes__cbc_decrypt(back, sizeof back, &back_len,
                                             key, sizeof key, blob, blob_len),
                     CARDEA_OK);
    assert_int_equal(back_len, 8);
    assert_memory_equal(back, "Cure1234", 8);
}

static void
test_aes__random_iv_differs(void **state)
{
    uint8_t key[32], a[32], b[32];
    size_t a_len, b_len;

    (void)state;
    cardea_random__bytes(key, sizeof key);
    assert_int_equal(cardea_aes__cbc_encrypt(a, sizeof a, &a_len, key,
                                             sizeof key, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_aes__cbc_encrypt(b, sizeof b, &b_len, key,
                                             sizeof key, NULL, 0),
                     CARDEA_OK);
    assert_memory_not_equal(a, b, 16);
}

/*
 * Decrypts a two-block ciphertext whose plaintext is `block`, built by
 * hand, and checks the padding verdict and the resulting length.
 */
static void
check_final_block(const uint8_t block[32], bool valid, size_t plain_len)
{
    uint8_t key[32], blob[48], back[32];
    size_t back_len = LEN_SENTINEL;

    cardea_random__bytes(key, sizeof key);
    cardea_random__bytes(blob, 16);
    raw_cbc_encrypt(blob + 16, key, blob, block, 32);
    assert_int_equal(cardea_aes__cbc_decrypt(back, sizeof back, &back_len,
                                             key, sizeof key, blob,
                                             sizeof blob),
                     valid ? CARDEA_OK : CARDEA_EVERIFY);
    assert_int_equal(back_len, valid ? plain_len : LEN_SENTINEL);
    if (valid) {
        assert_memory_equal(back, block, plain_len);
    }
}

/* Final bytes 1..16 are padding; 0 and 17..255 are refused. */
static void
test_aes__padding_check_every_value(void **state)
{
    uint8_t block[32];

    (void)state;
    for (unsigned value = 0; value <= 255; value++) {
        bool valid = value >= 1 && value <= 16;

        memset(block, 0x77, sizeof block);
        memset(block + 32 - (valid ? value : 1), (int)value,
               valid ? value : 1);
        check_final_block(block, valid, 32 - value);
    }
}

/* A padding run with any one byte wrong is refused. */
static void
test_aes__padding_check_every_run_byte(void **state)
{
    uint8_t block[32];

    (void)state;
    for (unsigned value = 2; value <= 16; value++) {
        for (unsigned wrong = 32 - value; wrong < 31; wrong++) {
            memset(block, 0x77, sizeof block);
            memset(block + 32 - value, (int)value, value);
            block[wrong] ^= 0x40;
            check_final_block(block, false, 0);
        }
    }
}

/* ---- refusals ----------------------------------------------------------- */

/* A fixed blob of "Cure" + 12 zero bytes, whose last plaintext is 0x00. */
static size_t
fixed_blob(uint8_t blob[64], uint8_t key[32])
{
    uint8_t iv[16], plain[16] = "Cure";
    size_t blob_len = 0;

    unhex(iv, sizeof iv, nist_iv);
    memset(key, 0x11, 32);
    assert_int_equal(cardea_aes__cbc_encrypt_iv(blob, 64, &blob_len, key, 32,
                                                iv, plain, sizeof plain),
                     CARDEA_OK);
    assert_int_equal(blob_len, 48);
    return blob_len;
}

/* Both decryption entry points must fail with `want`, writing nothing. */
static void
assert_decrypt_fails(const uint8_t *key, size_t key_len, const uint8_t *blob,
                     size_t blob_len, cardea_err want)
{
    uint8_t out[64];
    uint8_t *alloc_out = PTR_SENTINEL;
    size_t out_len = LEN_SENTINEL;

    memset(out, SENTINEL, sizeof out);
    assert_int_equal(cardea_aes__cbc_decrypt(out, sizeof out, &out_len, key,
                                             key_len, blob, blob_len),
                     want);
    assert_untouched(out, sizeof out);
    assert_int_equal(out_len, LEN_SENTINEL);

    assert_int_equal(cardea_aes__cbc_decrypt_alloc(&alloc_out, &out_len, key,
                                                   key_len, blob, blob_len),
                     want);
    assert_ptr_equal(alloc_out, PTR_SENTINEL);
    assert_int_equal(out_len, LEN_SENTINEL);
}

static void
test_aes__rejects_wrong_key(void **state)
{
    uint8_t key[32], blob[64];
    size_t blob_len = fixed_blob(blob, key);

    (void)state;
    key[0] ^= 1;
    assert_decrypt_fails(key, sizeof key, blob, blob_len, CARDEA_EVERIFY);
    assert_decrypt_fails(key, 16, blob, blob_len, CARDEA_EVERIFY);
}

static void
test_aes__rejects_truncated_blob(void **state)
{
    uint8_t key[32], blob[64];
    size_t blob_len = fixed_blob(blob, key);

    (void)state;
    /* Dropping the padding block leaves "Cure" + zeros: bad padding. */
    assert_decrypt_fails(key, sizeof key, blob, blob_len - 16,
                         CARDEA_EVERIFY);
    assert_decrypt_fails(key, sizeof key, blob, 16, CARDEA_EVERIFY);
    assert_decrypt_fails(key, sizeof key, blob, 15, CARDEA_EVERIFY);
    assert_decrypt_fails(key, sizeof key, blob, 0, CARDEA_EVERIFY);
    assert_decrypt_fails(key, sizeof key, NULL, 0, CARDEA_EVERIFY);
}

static void
test_aes__rejects_partial_block(void **state)
{
    uint8_t key[32], blob[64];
    size_t blob_len = fixed_blob(blob, key);

    (void)state;
    for (size_t cut = 1; cut < 16; cut++) {
        assert_decrypt_fails(key, sizeof key, blob, blob_len - cut,
                             CARDEA_EVERIFY);
    }
    blob[blob_len] = 0;
    assert_decrypt_fails(key, sizeof key, blob, blob_len + 1, CARDEA_EVERIFY);
}

static void
test_aes__rejects_bad_padding(void **state)
{
    uint8_t key[32], blob[64];
    size_t blob_len = fixed_blob(blob, key);

    (void)state;
    /* The last block decrypts to sixteen 0x10; flip its last byte. */
    for (unsigned bit = 0; bit < 8; bit++) {
        blob[blob_len - 17] ^= (uint8_t)(1u << bit);
        assert_decrypt_fails(key, sizeof key, blob, blob_len, CARDEA_EVERIFY);
        blob[blob_len - 17] ^= (uint8_t)(1u << bit);
    }
}

static void
test_aes__rejects_bad_key_length(void **state)
{
    uint8_t key[33], blob[64];
    size_t blob_len = fixed_blob(blob, key);
    uint8_t out[64];
    size_t out_len = LEN_SENTINEL;

    (void)state;
    assert_decrypt_fails(key, 0, blob, blob_len, CARDEA_EINVAL);
    assert_decrypt_fails(key, 31, blob, blob_len, CARDEA_EINVAL);
    assert_decrypt_fails(key, 33, blob, blob_len, CARDEA_EINVAL);
    assert_decrypt_fails(NULL, 32, blob, blob_len, CARDEA_EINVAL);

    memset(out, SENTINEL, sizeof out);
    assert_int_equal(cardea_aes__cbc_encrypt(out, sizeof out, &out_len, key,
                                             15, blob, 4),
                     CARDEA_EINVAL);
    assert_untouched(out, sizeof out);
    assert_int_equal(out_len, LEN_SENTINEL);
}

static void
test_aes__rejects_small_output(void **state)
{
    uint8_t key[32], blob[64], out[64];
    size_t blob_len = fixed_blob(blob, key);
    size_t out_len = LEN_SENTINEL;

    (void)state;
    memset(out, SENTINEL, sizeof out);
    assert_int_equal(cardea_aes__cbc_decrypt(out, 15, &out_len, key,
                                             sizeof key, blob, blob_len),
                     CARDEA_ETOOBIG);
    assert_int_equal(cardea_aes__cbc_encrypt(out, 47, &out_len, key,
                                             sizeof key, blob, 16),
                     CARDEA_ETOOBIG);
    assert_untouched(out, sizeof out);
    assert_int_equal(out_len, LEN_SENTINEL);
}

static void
test_aes__rejects_oversized_input(void **state)
{
    uint8_t key[32], small[64] = {0}, out[64];
    uint8_t *alloc_out = PTR_SENTINEL;
    size_t out_len = LEN_SENTINEL;
    size_t huge = CARDEA_AES_MAX_INPUT + 1;

    (void)state;
    memset(key, 1, sizeof key);
    memset(out, SENTINEL, sizeof out);
    /* The length is refused before any byte of the input is read. */
    assert_int_equal(cardea_aes__cbc_encrypt(out, SIZE_MAX, &out_len, key,
                                             sizeof key, small, huge),
                     CARDEA_ETOOBIG);
    assert_int_equal(cardea_aes__cbc_encrypt_alloc(&alloc_out, &out_len, key,
                                                   sizeof key, small, huge),
                     CARDEA_ETOOBIG);
    assert_decrypt_fails(key, sizeof key, small,
                         cardea_aes__cbc_blob_len(huge) + 16, CARDEA_ETOOBIG);
    assert_untouched(out, sizeof out);
    assert_ptr_equal(alloc_out, PTR_SENTINEL);
    assert_int_equal(out_len, LEN_SENTINEL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aes__nist_cbc_aes256),
        cmocka_unit_test(test_aes__nist_cbc_aes128),
        cmocka_unit_test(test_aes__blob_len_formula),
        cmocka_unit_test(test_aes__round_trip_every_length_key16),
        cmocka_unit_test(test_aes__round_trip_every_length_key32),
        cmocka_unit_test(test_aes__round_trip_key24),
        cmocka_unit_test(test_aes__random_iv_differs),
        cmocka_unit_test(test_aes__padding_check_every_value),
        cmocka_unit_test(test_aes__padding_check_every_run_byte),
        cmocka_unit_test(test_aes__rejects_wrong_key),
        cmocka_unit_test(test_aes__rejects_truncated_blob),
        cmocka_unit_test(test_aes__rejects_partial_block),
        cmocka_unit_test(test_aes__rejects_bad_padding),
        cmocka_unit_test(test_aes__rejects_bad_key_length),
        cmocka_unit_test(test_aes__rejects_small_output),
        cmocka_unit_test(test_aes__rejects_oversized_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
