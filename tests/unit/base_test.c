/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the base layer: encodings against the RFC 4648 examples,
 * malformed input leaving outputs untouched, UUIDs, the bounded buffer,
 * strict JSON parsing, loose JSON comparison, constant-time equality, the
 * error strings and allocation failure injected at every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

struct encoding_case {
    const char *plain;
    const char *base64;
    const char *base32;
    const char *hex;
};

/* RFC 4648 section 10 test vectors. */
static const struct encoding_case rfc4648[] = {
    {"", "", "", ""},
    {"f", "Zg==", "MY", "66"},
    {"fo", "Zm8=", "MZXQ", "666f"},
    {"foo", "Zm9v", "MZXW6", "666f6f"},
    {"foob", "Zm9vYg==", "MZXW6YQ", "666f6f62"},
    {"fooba", "Zm9vYmE=", "MZXW6YTB", "666f6f6261"},
    {"foobar", "Zm9vYmFy", "MZXW6YTBOI", "666f6f626172"},
};

static void
test_base64__rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const struct encoding_case *c = &rfc4648[i];
        char text[32];
        uint8_t bytes[32];
        size_t len = 0;

        assert_int_equal(cardea_base64__encode(text, sizeof text,
                                               (const uint8_t *)c->plain,
                                               strlen(c->plain)),
                         CARDEA_OK);
        assert_string_equal(text, c->base64);
        assert_int_equal(cardea_base64__decode(bytes, sizeof bytes, &len,
                                               c->base64, strlen(c->base64)),
                         CARDEA_OK);
        assert_int_equal(len, strlen(c->plain));
        assert_memory_equal(bytes, c->plain, len);
    }
}

static void
test_base64__rejects_malformed(void **state)
{
    static const char *bad[] = {
        "Zg=",    /* length not a multiple of 4 */
        "Zg",     /* padding missing */
        "Z===",   /* too much padding */
        "Zh==",   /* non-zero trailing bits */
        "Zm9=",   /* non-zero trailing bits, one pad */
        "Zm-v",   /* URL-safe letter */
        "Zm_v",   /* URL-safe letter */
        "Zm 9v",  /* whitespace */
        "Zg==Zg==", /* padding in the middle */
        "=Zm9",   /* padding first */
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[16];
        size_t len = 12345;

        memset(out, 0xAA, sizeof out);
        assert_int_equal(cardea_base64__decode(out, sizeof out, &len, bad[i],
                                               strlen(bad[i])),
                         CARDEA_EFORMAT);
        assert_int_equal(len, 12345);
        for (size_t k = 0; k < sizeof out; k++) {
            assert_int_equal(out[k], 0xAA);
        }
    }
}

static void
test_base64__every_byte_round_trips(void **state)
{
    uint8_t all[256];
    char *text = NULL;
    uint8_t *back = NULL;
    size_t len = 0;

    (void)state;
    for (size_t i = 0; i < sizeof all; i++) {
        all[i] = (uint8_t)i;
    }
    for (size_t n = 0; n <= sizeof all; n++) {
        assert_int_equal(cardea_base64__encode_alloc(&text, all, n), CARDEA_OK);
        assert_int_equal(strlen(text), cardea_base64__encoded_len(n));
        assert_int_equal(cardea_base64__decode_alloc(&back, &len, text,
                                                     strlen(text)),
                         CARDEA_OK);
        assert_int_equal(len, n);
        assert_memory_equal(back, all, n);
        cardea_free(text);
        cardea_free(back);
    }
}

static void
test_base64__small_output_rejected(void **state)
{
    char text[4];
    uint8_t out[2];
    size_t len = 7;

    (void)state;
    assert_int_equal(cardea_base64__encode(text, sizeof text,
                                           (const uint8_t *)"foo", 3),
                     CARDEA_ETOOBIG);
    assert_int_equal(cardea_base64__decode(out, sizeof out, &len, "Zm9v", 4),
                     CARDEA_ETOOBIG);
    assert_int_equal(len, 7);
}

static void
test_base32__rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const struct encoding_case *c = &rfc4648[i];
        char text[32];
        char lower[32];
        uint8_t bytes[32];
        size_t len = 0;

        assert_int_equal(cardea_base32__encode(text, sizeof text,
                                               (const uint8_t *)c->plain,
                                               strlen(c->plain)),
                         CARDEA_OK);
        assert_string_equal(text, c->base32);
        for (size_t k = 0; k <= strlen(text); k++) {
            lower[k] = (char)((text[k] >= 'A' && text[k] <= 'Z')
                                  ? text[k] + 32 : text[k]);
        }
        assert_int_equal(cardea_base32__decode(bytes, sizeof bytes, &len,
                                               lower, strlen(lower)),
                         CARDEA_OK);
        assert_int_equal(len, strlen(c->plain));
        assert_memory_equal(bytes, c->plain, len);
    }
}

static void
test_base32__accepts_padding(void **state)
{
    uint8_t bytes[8];
    size_t len = 0;

    (void)state;
    assert_int_equal(cardea_base32__decode(bytes, sizeof bytes, &len,
                                           "MZXW6YQ=", 8),
                     CARDEA_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(bytes, "foob", 4);
}

static void
test_base32__rejects_malformed(void **state)
{
    static const char *bad[] = {
        "M",        /* impossible length */
        "MZX",      /* impossible length */
        "MZXW6Y",   /* impossible length */
        "MZ1Q",     /* '1' is not in the alphabet */
        "MZ8Q",     /* '8' is not in the alphabet */
        "MZ@Q",     /* just below 'A' */
        "MZ[Q",     /* just above 'Z' */
        "MZ=Q",     /* padding inside */
        "MZ======", /* padding leaves an impossible length */
        "MZ=",      /* padded but not to a multiple of 8 */
        "MZ",       /* valid */
    };
    (void)state;
    /* The last entry decodes; change one bit of its tail to break it. */
    for (size_t i = 0; i + 1 < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[8];
        size_t len = 99;

        memset(out, 0x55, sizeof out);
        assert_int_equal(cardea_base32__decode(out, sizeof out, &len, bad[i],
                                               strlen(bad[i])),
                         CARDEA_EFORMAT);
        assert_int_equal(len, 99);
        assert_int_equal(out[0], 0x55);
    }
    {
        uint8_t out[8];
        size_t len = 99;

        /* "MZ" carries 2 leftover bits; "M3" sets one of them. */
        assert_int_equal(cardea_base32__decode(out, sizeof out, &len, "M3", 2),
                         CARDEA_EFORMAT);
        assert_int_equal(len, 99);
    }
}

static void
test_base32__every_length_round_trips(void **state)
{
    uint8_t data[40];
    char *text = NULL;
    uint8_t *back = NULL;
    size_t len = 0;

    (void)state;
    cardea_random__bytes(data, sizeof data);
    for (size_t n = 0; n <= sizeof data; n++) {
        assert_int_equal(cardea_base32__encode_alloc(&text, data, n),
                         CARDEA_OK);
        assert_int_equal(strlen(text), cardea_base32__encoded_len(n));
        assert_int_equal(cardea_base32__decode_alloc(&back, &len, text,
                                                     strlen(text)),
                         CARDEA_OK);
        assert_int_equal(len, n);
        assert_memory_equal(back, data, n);
        cardea_free(text);
        cardea_free(back);
    }
}

static void
test_hex__lowercase_out_either_case_in(void **state)
{
    static const uint8_t bytes[] = {0x00, 0x1f, 0xab, 0xff, 0x9c};
    char text[11];
    uint8_t back[5];
    size_t len = 0;

    (void)state;
    assert_int_equal(cardea_hex__encode(text, sizeof text, bytes, 5),
                     CARDEA_OK);
    assert_string_equal(text, "001fabff9c");
    assert_int_equal(cardea_hex__decode(back, sizeof back, &len,
                                        "001FabFF9C", 10),
                     CARDEA_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(back, bytes, 5);
}

static void
test_hex__rejects_malformed(void **state)
{
    static const char *bad[] = {"0", "abc", "zz", "0g", "g0", "0 ", "/0",
                                ":0", "@0", "`0", "G0"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[4] = {7, 7, 7, 7};
        size_t len = 42;

        assert_int_equal(cardea_hex__decode(out, sizeof out, &len, bad[i],
                                            strlen(bad[i])),
                         CARDEA_EFORMAT);
        assert_int_equal(len, 42);
        assert_int_equal(out[0], 7);
        assert_false(cardea_hex__is_valid(bad[i], strlen(bad[i])) &&
                     strlen(bad[i]) % 2 == 0);
    }
}

static void
test_hex__small_output_rejected(void **state)
{
    char text[4];

    (void)state;
    assert_int_equal(cardea_hex__encode(text, sizeof text,
                                        (const uint8_t *)"ab", 2),
                     CARDEA_ETOOBIG);
}

static void
test_uuid__v4_shape_and_uniqueness(void **state)
{
    char a[CARDEA_UUID_STR_LEN + 1];
    char b[CARDEA_UUID_STR_LEN + 1];

    (void)state;
    cardea_uuid__v4(a);
    cardea_uuid__v4(b);
    assert_int_equal(strlen(a), CARDEA_UUID_STR_LEN);
    assert_true(cardea_uuid__is_valid(a));
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_string_not_equal(a, b);
    for (size_t i = 0; i < CARDEA_UUID_STR_LEN; i++) {
        assert_false(a[i] >= 'A' && a[i] <= 'Z');
    }
    assert_false(cardea_uuid__is_valid("not-a-uuid"));
    assert_false(cardea_uuid__is_valid(
        "0123456789abcdef0123456789abcdef0123"));
    assert_false(cardea_uuid__is_valid(NULL));
}

static void
test_ct_equal__compares_whole_length(void **state)
{
    uint8_t a[64];
    uint8_t b[64];

    (void)state;
    cardea_random__bytes(a, sizeof a);
    memcpy(b, a, sizeof b);
    assert_int_equal(cardea_ct_equal(a, b, sizeof a), 1);
    for (size_t i = 0; i < sizeof a; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(cardea_ct_equal(a, b, sizeof a), 0);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(cardea_ct_equal(a, b, 0), 1);
}

static void
test_wipe__zeroes_memory(void **state)
{
    uint8_t secret[32];

    (void)state;
    memset(secret, 0x5A, sizeof secret);
    cardea_wipe(secret, sizeof secret);
    for (size_t i = 0; i < sizeof secret; i++) {
        assert_int_equal(secret[i], 0);
    }
    cardea_wipe(NULL, 10);
}

static void
test_size__overflow_detected(void **state)
{
    size_t out = 5;

    (void)state;
    assert_false(cardea_size__add(&out, SIZE_MAX, 1));
    assert_false(cardea_size__mul(&out, SIZE_MAX / 2 + 1, 2));
    assert_true(cardea_size__mul(&out, 3, 7));
    assert_int_equal(out, 21);
}

static void
test_buf__respects_maximum(void **state)
{
    cardea_buf buf;
    char *text = NULL;

    (void)state;
    cardea_buf__init(&buf, 8);
    assert_int_equal(cardea_buf__append_str(&buf, "abc"), CARDEA_OK);
    assert_int_equal(cardea_buf__append_str(&buf, "defgh"), CARDEA_ETOOBIG);
    assert_true(buf.failed);
    assert_int_equal(cardea_buf__append_str(&buf, "x"), CARDEA_ESTATE);
    assert_int_equal(cardea_buf__take_str(&text, &buf), CARDEA_ESTATE);
    assert_null(text);
    cardea_buf__free(&buf, true);

    cardea_buf__init(&buf, 0);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(cardea_buf__append_str(&buf, "0123456789"),
                         CARDEA_OK);
    }
    assert_int_equal(cardea_buf__take_str(&text, &buf), CARDEA_OK);
    assert_int_equal(strlen(text), 10000);
    cardea_free(text);
    cardea_buf__free(&buf, false);
}

static void
test_json__rejects_duplicates_and_depth(void **state)
{
    char msg[128] = "";
    json_t *value = (json_t *)1;
    char deep[2 * (CARDEA_JSON_MAX_DEPTH + 1) + 1];
    size_t n = CARDEA_JSON_MAX_DEPTH + 1;

    (void)state;
    assert_int_equal(cardea_json__parse(&value, "{\"a\":1,\"a\":2}", 13, msg,
                                        sizeof msg),
                     CARDEA_EFORMAT);
    assert_ptr_equal(value, (json_t *)1);
    assert_non_null(strstr(msg, "duplicate"));
    assert_int_equal(cardea_json__parse(&value, "{\"a\":", 5, msg, sizeof msg),
                     CARDEA_EFORMAT);
    assert_non_null(strstr(msg, "line 1"));
    for (size_t i = 0; i < n; i++) {
        deep[i] = '[';
        deep[n + i] = ']';
    }
    deep[2 * n] = '\0';
    assert_int_equal(cardea_json__parse(&value, deep, 2 * n, msg, sizeof msg),
                     CARDEA_EFORMAT);
    assert_non_null(strstr(msg, "deeper"));
    assert_int_equal(cardea_json__parse(&value, deep + 1, 2 * n - 2, NULL, 0),
                     CARDEA_OK);
    json_decref(value);
}

static void
test_json__dump_is_compact(void **state)
{
    json_t *value = NULL;
    char *text;
    const char *in = "{ \"b\" : [1, 2], \"a\" : \"x/y\u00e9\" }";

    (void)state;
    assert_int_equal(cardea_json__parse(&value, in, strlen(in), NULL, 0),
                     CARDEA_OK);
    text = cardea_json__dump(value);
    assert_string_equal(text, "{\"b\":[1,2],\"a\":\"x/y\u00e9\"}");
    assert_string_equal(cardea_json__get_str(value, "a"), "x/y\u00e9");
    assert_null(cardea_json__get_str(value, "b"));
    cardea_free(text);
    json_decref(value);
}

static void
test_json__loose_equality(void **state)
{
    static const struct {
        const char *a;
        const char *b;
        bool equal;
    } cases[] = {
        {"{\"x\":[]}", "{}", true},
        {"{\"x\":null}", "{\"x\":{}}", true},
        {"{\"x\":{\"y\":[]}}", "{\"x\":{}}", true},
        {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", true},
        {"{\"x\":[1]}", "{}", false},
        {"{\"x\":[1,2]}", "{\"x\":[2,1]}", false},
        {"{\"x\":\"\"}", "{}", false},
        {"[{\"k\":[]}]", "[{}]", true},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = NULL;
        json_t *b = NULL;

        assert_int_equal(cardea_json__parse(&a, cases[i].a, strlen(cases[i].a),
                                            NULL, 0),
                         CARDEA_OK);
        assert_int_equal(cardea_json__parse(&b, cases[i].b, strlen(cases[i].b),
                                            NULL, 0),
                         CARDEA_OK);
        assert_int_equal(cardea_json__equal_loose(a, b), cases[i].equal);
        assert_int_equal(cardea_json__equal_loose(b, a), cases[i].equal);
        json_decref(a);
        json_decref(b);
    }
}

static void
test_strerror__every_code_named(void **state)
{
    (void)state;
    assert_string_equal(cardea_strerror(CARDEA_OK), "success");
    for (int code = -1; code >= CARDEA_EAUTH; code--) {
        const char *text = cardea_strerror((cardea_err)code);

        assert_non_null(text);
        assert_string_not_equal(text, "unknown error");
    }
    assert_string_equal(cardea_strerror((cardea_err)-1000), "unknown error");
}

/* ---- allocation failure injection ---------------------------------- */

static long alloc_budget = -1; /* allocations left before failing; -1 = none */
static long alloc_live;

static void *
failing_malloc(size_t size, void *user)
{
    (void)user;
    if (alloc_budget == 0) {
        return NULL;
    }
    if (alloc_budget > 0) {
        alloc_budget--;
    }
    alloc_live++;
    return malloc(size);
}

static void *
failing_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    if (alloc_budget == 0) {
        return NULL;
    }
    if (alloc_budget > 0) {
        alloc_budget--;
    }
    if (ptr == NULL) {
        alloc_live++;
    }
    return realloc(ptr, size);
}

static void
failing_free(void *ptr, void *user)
{
    (void)user;
    if (ptr != NULL) {
        alloc_live--;
    }
    free(ptr);
}

/* Encodes, decodes and parses; returns the first error met. */
static cardea_err
exercise_allocations(void)
{
    static const uint8_t data[] = "some bytes to encode";
    const char *json_text = "{\"a\":[1,2,{\"b\":\"c\"}],\"d\":null}";
    char *text = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    json_t *value = NULL;
    cardea_err err;

    if ((err = cardea_base64__encode_alloc(&text, data, sizeof data)) != 0) {
        return err;
    }
    err = cardea_base64__decode_alloc(&bytes, &len, text, strlen(text));
    cardea_free(text);
    if (err != CARDEA_OK) {
        return err;
    }
    cardea_free(bytes);
    err = cardea_json__parse(&value, json_text, strlen(json_text), NULL, 0);
    if (err != CARDEA_OK) {
        return CARDEA_ENOMEM;
    }
    text = cardea_json__dump(value);
    json_decref(value);
    if (text == NULL) {
        return CARDEA_ENOMEM;
    }
    cardea_free(text);
    return CARDEA_OK;
}

static void
test_alloc__fails_cleanly_at_every_step(void **state)
{
    static const cardea_allocator hooks = {failing_malloc, failing_realloc,
                                           failing_free, NULL};
    long needed;

    (void)state;
    cardea_set_allocator(&hooks);
    alloc_budget = -1;
    alloc_live = 0;
    assert_int_equal(exercise_allocations(), CARDEA_OK);
    assert_int_equal(alloc_live, 0);
    for (needed = 0;; needed++) {
        cardea_err err;

        alloc_budget = needed;
        err = exercise_allocations();
        assert_int_equal(alloc_live, 0);
        if (err == CARDEA_OK) {
            break;
        }
        assert_int_equal(err, CARDEA_ENOMEM);
    }
    assert_true(needed > 3);
    alloc_budget = -1;
    cardea_set_allocator(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64__rfc4648_vectors),
        cmocka_unit_test(test_base64__rejects_malformed),
        cmocka_unit_test(test_base64__every_byte_round_trips),
        cmocka_unit_test(test_base64__small_output_rejected),
        cmocka_unit_test(test_base32__rfc4648_vectors),
        cmocka_unit_test(test_base32__accepts_padding),
        cmocka_unit_test(test_base32__rejects_malformed),
        cmocka_unit_test(test_base32__every_length_round_trips),
        cmocka_unit_test(test_hex__lowercase_out_either_case_in),
        cmocka_unit_test(test_hex__rejects_malformed),
        cmocka_unit_test(test_hex__small_output_rejected),
        cmocka_unit_test(test_uuid__v4_shape_and_uniqueness),
        cmocka_unit_test(test_ct_equal__compares_whole_length),
        cmocka_unit_test(test_wipe__zeroes_memory),
        cmocka_unit_test(test_size__overflow_detected),
        cmocka_unit_test(test_buf__respects_maximum),
        cmocka_unit_test(test_json__rejects_duplicates_and_depth),
        cmocka_unit_test(test_json__dump_is_compact),
        cmocka_unit_test(test_json__loose_equality),
        cmocka_unit_test(test_strerror__every_code_named),
        cmocka_unit_test(test_alloc__fails_cleanly_at_every_step),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
