/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of SHA-256, SHA-512 and HMAC in src/crypto: FIPS 180 and RFC 4231
 * known answers, truncated-tag verification, and refusals that must leave
 * the output untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "crypto/crypto.h"

/* Lowercase hex of `len` bytes into a static buffer, for assertions. */
static const char *
to_hex(const uint8_t *bytes, size_t len)
{
    static char text[2 * CARDEA_SHA512_LEN + 1];

    assert_true(len <= CARDEA_SHA512_LEN);
    assert_int_equal(cardea_hex__encode(text, sizeof text, bytes, len),
                     CARDEA_OK);
    return text;
}

static void
fill(uint8_t *buf, uint8_t value, size_t len)
{
    memset(buf, value, len);
}

/* ---- SHA ---------------------------------------------------------------- */

static void
test_hash__sha256_abc(void **state)
{
    uint8_t sum[CARDEA_SHA256_LEN];

    (void)state;
    cardea_hash__sha256(sum, "abc", 3);
    assert_string_equal(to_hex(sum, sizeof sum),
                        "ba7816bf8f01cfea414140de5dae2223"
                        "b00361a396177a9cb410ff61f20015ad");
}

static void
test_hash__sha256_empty_with_null(void **state)
{
    uint8_t sum[CARDEA_SHA256_LEN];

    (void)state;
    cardea_hash__sha256(sum, NULL, 0);
    assert_string_equal(to_hex(sum, sizeof sum),
                        "e3b0c44298fc1c149afbf4c8996fb924"
                        "27ae41e4649b934ca495991b7852b855");
}

static void
test_hash__sha512_abc(void **state)
{
    uint8_t sum[CARDEA_SHA512_LEN];

    (void)state;
    cardea_hash__sha512(sum, "abc", 3);
    assert_string_equal(to_hex(sum, sizeof sum),
                        "ddaf35a193617abacc417349ae204131"
                        "12e6fa4e89a97ea20a9eeee64b55d39a"
                        "2192992a274fc1a836ba3c23a3feebbd"
                        "454d4423643ce80e2a9ac94fa54ca49f");
}

static void
test_hash__sha256_hex_is_lowercase_and_terminated(void **state)
{
    char text[2 * CARDEA_SHA256_LEN + 1];

    (void)state;
    memset(text, 'X', sizeof text);
    cardea_hash__sha256_hex(text, "abc", 3);
    assert_string_equal(text, "ba7816bf8f01cfea414140de5dae2223"
                              "b00361a396177a9cb410ff61f20015ad");
}

/* ---- HMAC: RFC 4231 ----------------------------------------------------- */

typedef struct rfc4231_case {
    const char *name;
    uint8_t key_byte; /* 0 when the key is the text in `key_text` */
    size_t key_len;
    const char *key_text;
    uint8_t msg_byte; /* 0 when the message is the text in `msg_text` */
    size_t msg_len;
    const char *msg_text;
    const char *sha256;
    const char *sha512;
} rfc4231_case;

/* Test cases 1, 2, 3 and 6; case 5 (truncation) is checked on its own. */
static const rfc4231_case rfc4231[] = {
    {"4231 case 1", 0x0b, 20, NULL, 0, 8, "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
     "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
     "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
    {"4231 case 2", 0, 4, "Jefe", 0, 28, "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
     "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
    {"4231 case 3", 0xaa, 20, NULL, 0xdd, 50, NULL,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
     "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
     "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
    {"4231 case 6", 0xaa, 131, NULL, 0, 54,
     "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
     "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
     "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
};

/* Builds the key and message of one case into the caller's buffers. */
static void
load_case(const rfc4231_case *c, uint8_t key[256], uint8_t msg[256])
{
    if (c->key_text != NULL) {
        memcpy(key, c->key_text, c->key_len);
    } else {
        fill(key, c->key_byte, c->key_len);
    }
    if (c->msg_text != NULL) {
        memcpy(msg, c->msg_text, c->msg_len);
    } else {
        fill(msg, c->msg_byte, c->msg_len);
    }
}

static void
test_hmac__rfc4231_sha256(void **state)
{
    uint8_t key[256], msg[256], tag[CARDEA_SHA256_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof rfc4231 / sizeof rfc4231[0]; i++) {
        load_case(&rfc4231[i], key, msg);
        assert_int_equal(cardea_hmac__sha256(tag, key, rfc4231[i].key_len,
                                             msg, rfc4231[i].msg_len),
                         CARDEA_OK);
        assert_string_equal(to_hex(tag, sizeof tag), rfc4231[i].sha256);
    }
}

static void
test_hmac__rfc4231_sha512(void **state)
{
    uint8_t key[256], msg[256], tag[CARDEA_SHA512_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof rfc4231 / sizeof rfc4231[0]; i++) {
        load_case(&rfc4231[i], key, msg);
        assert_int_equal(cardea_hmac__sha512(tag, key, rfc4231[i].key_len,
                                             msg, rfc4231[i].msg_len),
                         CARDEA_OK);
        assert_string_equal(to_hex(tag, sizeof tag), rfc4231[i].sha512);
        assert_int_equal(cardea_hmac__sha512_verify(key, rfc4231[i].key_len,
                                                    msg, rfc4231[i].msg_len,
                                                    tag, sizeof tag),
                         CARDEA_OK);
    }
}

/* RFC 4231 case 5: tags truncated to 128 bits. */
static void
test_hmac__rfc4231_truncated(void **state)
{
    static const char msg[] = "Test With Truncation";
    uint8_t key[20], tag[CARDEA_SHA512_LEN], want[16];

    (void)state;
    fill(key, 0x0c, sizeof key);
    assert_int_equal(cardea_hmac__sha256(tag, key, sizeof key, msg, 20),
                     CARDEA_OK);
    assert_string_equal(to_hex(tag, 16), "a3b6167473100ee06e0c796c2955552b");

    assert_int_equal(cardea_hex__decode(want, sizeof want, &(size_t){0},
                                        "415fad6271580a531d4179bc891d87a6",
                                        32),
                     CARDEA_OK);
    assert_int_equal(cardea_hmac__sha512_verify(key, sizeof key, msg, 20,
                                                want, sizeof want),
                     CARDEA_OK);
}

static void
test_hmac__empty_key_and_message(void **state)
{
    uint8_t tag[CARDEA_SHA256_LEN];

    (void)state;
    assert_int_equal(cardea_hmac__sha256(tag, NULL, 0, NULL, 0), CARDEA_OK);
    assert_string_equal(to_hex(tag, sizeof tag),
                        "b613679a0814d9ec772f95d778c35fc5"
                        "ff1697c493715653c6c712144292c5ad");
}

/* ---- HMAC: refusals ----------------------------------------------------- */

static void
test_hmac__verify_rejects_any_flipped_bit(void **state)
{
    uint8_t key[CARDEA_HMAC512_KEY_LEN], tag[CARDEA_SHA512_LEN];
    static const char msg[] = "exchange data";

    (void)state;
    fill(key, 0x42, sizeof key);
    assert_int_equal(cardea_hmac__sha512(tag, key, sizeof key, msg, 13),
                     CARDEA_OK);
    for (size_t i = 0; i < 8 * sizeof tag; i++) {
        tag[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(cardea_hmac__sha512_verify(key, sizeof key, msg, 13,
                                                    tag, sizeof tag),
                         CARDEA_EVERIFY);
        tag[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    assert_int_equal(cardea_hmac__sha512_verify(key, sizeof key, msg, 13, tag,
                                                sizeof tag),
                     CARDEA_OK);
}

static void
test_hmac__verify_rejects_bad_tag_lengths(void **state)
{
    uint8_t key[CARDEA_HMAC512_KEY_LEN], tag[CARDEA_SHA512_LEN + 1];

    (void)state;
    fill(key, 0x42, sizeof key);
    assert_int_equal(cardea_hmac__sha512(tag, key, sizeof key, "m", 1),
                     CARDEA_OK);
    tag[CARDEA_SHA512_LEN] = 0;
    assert_int_equal(cardea_hmac__sha512_verify(key, sizeof key, "m", 1, tag,
                                                0),
                     CARDEA_EVERIFY);
    assert_int_equal(cardea_hmac__sha512_verify(key, sizeof key, "m", 1, tag,
                                                sizeof tag),
                     CARDEA_EVERIFY);
    assert_int_equal(cardea_hmac__sha512_verify(key, sizeof key, "m", 1, NULL,
                                                16),
                     CARDEA_EVERIFY);
    assert_int_equal(cardea_hmac__sha512_verify(key, sizeof key, "m", 1, tag,
                                                1),
                     CARDEA_OK);
}

static void
test_hmac__wrong_key_does_not_verify(void **state)
{
    uint8_t key[CARDEA_HMAC512_KEY_LEN], tag[CARDEA_SHA512_LEN];

    (void)state;
    fill(key, 0x42, sizeof key);
    assert_int_equal(cardea_hmac__sha512(tag, key, sizeof key, "m", 1),
                     CARDEA_OK);
    key[sizeof key - 1] ^= 1;
    assert_int_equal(cardea_hmac__sha512_verify(key, sizeof key, "m", 1, tag,
                                                sizeof tag),
                     CARDEA_EVERIFY);
}

static void
test_hmac__null_inputs_leave_output_untouched(void **state)
{
    uint8_t tag[CARDEA_SHA512_LEN], before[CARDEA_SHA512_LEN];

    (void)state;
    fill(tag, 0xa5, sizeof tag);
    memcpy(before, tag, sizeof tag);
    assert_int_equal(cardea_hmac__sha512(tag, NULL, 8, "m", 1),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_hmac__sha512(tag, (const uint8_t *)"k", 1, NULL,
                                         4),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_hmac__sha256(tag, NULL, 8, "m", 1),
                     CARDEA_EINVAL);
    assert_memory_equal(tag, before, sizeof tag);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash__sha256_abc),
        cmocka_unit_test(test_hash__sha256_empty_with_null),
        cmocka_unit_test(test_hash__sha512_abc),
        cmocka_unit_test(test_hash__sha256_hex_is_lowercase_and_terminated),
        cmocka_unit_test(test_hmac__rfc4231_sha256),
        cmocka_unit_test(test_hmac__rfc4231_sha512),
        cmocka_unit_test(test_hmac__rfc4231_truncated),
        cmocka_unit_test(test_hmac__empty_key_and_message),
        cmocka_unit_test(test_hmac__verify_rejects_any_flipped_bit),
        cmocka_unit_test(test_hmac__verify_rejects_bad_tag_lengths),
        cmocka_unit_test(test_hmac__wrong_key_does_not_verify),
        cmocka_unit_test(test_hmac__null_inputs_leave_output_untouched),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
