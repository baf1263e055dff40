/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault injection for src/crypto: each operation that allocates is run
 * with its 1st, 2nd, ... allocation failing until it succeeds. Every
 * failing run must return CARDEA_ENOMEM, leave its outputs alone and
 * leak nothing (AddressSanitizer's leak check covers the last part).
 * Only Cardea's own allocations fail; OpenSSL allocates on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "crypto/crypto.h"

#define LEN_SENTINEL ((size_t)0x5eed)
static char sentinel;
#define BYTES_SENTINEL ((uint8_t *)(void *)&sentinel)
#define KEY_SENTINEL ((cardea_rsa_key *)(void *)&sentinel)

static long allocs_left = -1; /* -1: never fail */

static void *
failing_malloc(size_t size, void *user)
{
    (void)user;
    if (allocs_left == 0) {
        return NULL;
    }
    if (allocs_left > 0) {
        allocs_left--;
    }
    return malloc(size);
}

static void *
failing_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    if (allocs_left == 0) {
        return NULL;
    }
    if (allocs_left > 0) {
        allocs_left--;
    }
    return realloc(ptr, size);
}

static void
plain_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

static cardea_rsa_key *key;
static uint8_t *spki;
static size_t spki_len;
static uint8_t *pkcs8;
static size_t pkcs8_len;
static uint8_t *oaep_ct;
static size_t oaep_ct_len;

static int
setup(void **state)
{
    (void)state;
    allocs_left = -1;
    if (cardea_rsa__generate(&key, 2048) != CARDEA_OK
        || cardea_rsa__spki_der(&spki, &spki_len, key) != CARDEA_OK
        || cardea_rsa__pkcs8_der(&pkcs8, &pkcs8_len, key) != CARDEA_OK
        || cardea_rsa__encrypt(&oaep_ct, &oaep_ct_len, key,
                               CARDEA_RSA_OAEP_SHA256,
                               (const uint8_t *)"k", 1)
               != CARDEA_OK) {
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    allocs_left = -1;
    cardea_rsa__free(key);
    cardea_free(spki);
    cardea_mem__free_secret(pkcs8, pkcs8_len);
    cardea_free(oaep_ct);
    cardea_rsa__cache_clear();
    return 0;
}

/*
 * One operation under test. It prepares its inputs with no failures, sets
 * `allocs_left` to `fail_after` around the call under test only, checks
 * its own outputs were left alone on failure and frees them on success.
 */
typedef cardea_err (*operation)(long fail_after);

static void
inject(operation op)
{
    for (long n = 0; n < 100; n++) {
        cardea_err err;

        cardea_rsa__cache_clear(); /* so that imports allocate each time */
        err = op(n);
        allocs_left = -1;
        if (err == CARDEA_OK) {
            assert_true(n > 0); /* each operation allocates something */
            return;
        }
        assert_int_equal(err, CARDEA_ENOMEM);
    }
    fail_msg("still failing after 100 allocations");
}

/* Sets `err` to `call` run with allocations failing after `fail_after`. */
#define UNDER_FAULT(fail_after, call)                                      \
    do {                                                                   \
        allocs_left = (fail_after);                                        \
        err = (call);                                                      \
        allocs_left = -1;                                                  \
    } while (0)

/* Checks an allocated output: untouched on failure, freed on success. */
static cardea_err
settle(cardea_err err, void *out, size_t out_len, void *unset)
{
    if (err != CARDEA_OK) {
        assert_ptr_equal(out, unset);
        assert_int_equal(out_len, LEN_SENTINEL);
    } else {
        cardea_mem__free_secret(out, out_len);
    }
    return err;
}

static const uint8_t aes_key[32];

static cardea_err
op_aes_encrypt_alloc(long fail_after)
{
    uint8_t *out = BYTES_SENTINEL;
    size_t out_len = LEN_SENTINEL;
    cardea_err err;

    UNDER_FAULT(fail_after,
                cardea_aes__cbc_encrypt_alloc(&out, &out_len, aes_key, 32,
                                              (const uint8_t *)"abc", 3));
    return settle(err, out, out_len, BYTES_SENTINEL);
}

static cardea_err
op_aes_decrypt(long fail_after)
{
    uint8_t blob[32], plain[16];
    size_t blob_len = 0, plain_len = LEN_SENTINEL;
    cardea_err err;

    assert_int_equal(cardea_aes__cbc_encrypt(blob, sizeof blob, &blob_len,
                                             aes_key, 32,
                                             (const uint8_t *)"abc", 3),
                     CARDEA_OK);
    memset(plain, 0xa5, sizeof plain);
    UNDER_FAULT(fail_after,
                cardea_aes__cbc_decrypt(plain, sizeof plain, &plain_len,
                                        aes_key, 32, blob, blob_len));
    if (err != CARDEA_OK) {
        assert_int_equal(plain[0], 0xa5);
        assert_int_equal(plain_len, LEN_SENTINEL);
    }
    return err;
}

static cardea_err
op_aes_decrypt_alloc(long fail_after)
{
    uint8_t blob[32];
    uint8_t *out = BYTES_SENTINEL;
    size_t blob_len = 0, out_len = LEN_SENTINEL;
    cardea_err err;

    assert_int_equal(cardea_aes__cbc_encrypt(blob, sizeof blob, &blob_len,
                                             aes_key, 32,
                                             (const uint8_t *)"abc", 3),
                     CARDEA_OK);
    UNDER_FAULT(fail_after,
                cardea_aes__cbc_decrypt_alloc(&out, &out_len, aes_key, 32,
                                              blob, blob_len));
    return settle(err, out, out_len, BYTES_SENTINEL);
}

/* Checks an imported key: untouched on failure, dropped on success. */
static cardea_err
settle_key(cardea_err err, cardea_rsa_key *imported)
{
    if (err != CARDEA_OK) {
        assert_ptr_equal(imported, KEY_SENTINEL);
    } else {
        cardea_rsa__free(imported);
    }
    return err;
}

static cardea_err
op_rsa_from_spki(long fail_after)
{
    cardea_rsa_key *imported = KEY_SENTINEL;
    cardea_err err;

    UNDER_FAULT(fail_after,
                cardea_rsa__from_spki(&imported, spki, spki_len));
    return settle_key(err, imported);
}

static cardea_err
op_rsa_from_pkcs8(long fail_after)
{
    cardea_rsa_key *imported = KEY_SENTINEL;
    cardea_err err;

    UNDER_FAULT(fail_after,
                cardea_rsa__from_pkcs8(&imported, pkcs8, pkcs8_len));
    return settle_key(err, imported);
}

static cardea_err
op_rsa_from_spki_hex(long fail_after)
{
    cardea_rsa_key *imported = KEY_SENTINEL;
    char *hex = NULL;
    cardea_err err;

    assert_int_equal(cardea_rsa__spki_hex(&hex, key), CARDEA_OK);
    UNDER_FAULT(fail_after,
                cardea_rsa__from_spki_hex(&imported, hex, strlen(hex)));
    cardea_free(hex);
    return settle_key(err, imported);
}

static cardea_err
op_rsa_spki_hex(long fail_after)
{
    char *hex = (char *)BYTES_SENTINEL;
    cardea_err err;

    UNDER_FAULT(fail_after, cardea_rsa__spki_hex(&hex, key));
    if (err != CARDEA_OK) {
        assert_ptr_equal(hex, BYTES_SENTINEL);
    } else {
        cardea_free(hex);
    }
    return err;
}

static cardea_err
op_rsa_pkcs8_der(long fail_after)
{
    uint8_t *out = BYTES_SENTINEL;
    size_t out_len = LEN_SENTINEL;
    cardea_err err;

    UNDER_FAULT(fail_after, cardea_rsa__pkcs8_der(&out, &out_len, key));
    return settle(err, out, out_len, BYTES_SENTINEL);
}

static cardea_err
op_rsa_encrypt(long fail_after)
{
    uint8_t *out = BYTES_SENTINEL;
    size_t out_len = LEN_SENTINEL;
    cardea_err err;

    UNDER_FAULT(fail_after,
                cardea_rsa__encrypt(&out, &out_len, key, CARDEA_RSA_OAEP_SHA1,
                                    (const uint8_t *)"k", 1));
    return settle(err, out, out_len, BYTES_SENTINEL);
}

static cardea_err
op_rsa_decrypt(long fail_after)
{
    uint8_t *out = BYTES_SENTINEL;
    size_t out_len = LEN_SENTINEL;
    cardea_err err;

    UNDER_FAULT(fail_after,
                cardea_rsa__decrypt(&out, &out_len, key,
                                    CARDEA_RSA_OAEP_SHA256, oaep_ct,
                                    oaep_ct_len));
    return settle(err, out, out_len, BYTES_SENTINEL);
}

static cardea_err
op_rsa_pss_sign(long fail_after)
{
    uint8_t *out = BYTES_SENTINEL;
    size_t out_len = LEN_SENTINEL;
    cardea_err err;

    UNDER_FAULT(fail_after,
                cardea_rsa__pss_sign(&out, &out_len, key,
                                     (const uint8_t *)"m", 1));
    return settle(err, out, out_len, BYTES_SENTINEL);
}

static void
test_alloc__aes(void **state)
{
    (void)state;
    inject(op_aes_encrypt_alloc);
    inject(op_aes_decrypt);
    inject(op_aes_decrypt_alloc);
}

static void
test_alloc__rsa_import(void **state)
{
    (void)state;
    inject(op_rsa_from_spki);
    inject(op_rsa_from_pkcs8);
    inject(op_rsa_from_spki_hex);
}

static void
test_alloc__rsa_export(void **state)
{
    (void)state;
    inject(op_rsa_spki_hex);
    inject(op_rsa_pkcs8_der);
}

static void
test_alloc__rsa_operations(void **state)
{
    (void)state;
    inject(op_rsa_encrypt);
    inject(op_rsa_decrypt);
    inject(op_rsa_pss_sign);
}

int
main(void)
{
    const cardea_allocator hook = {failing_malloc, failing_realloc,
                                   plain_free, NULL};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc__aes),
        cmocka_unit_test(test_alloc__rsa_import),
        cmocka_unit_test(test_alloc__rsa_export),
        cmocka_unit_test(test_alloc__rsa_operations),
    };

    cardea_set_allocator(&hook);
    return cmocka_run_group_tests(tests, setup, teardown);
}
