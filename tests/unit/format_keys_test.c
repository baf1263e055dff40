/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/format/keys.c: fingerprints v1 and v2 against the official
 * SDK's vector, the entity type list, access-control and secure-delegation
 * keys against the table for secret bytes 00..0f, and the encoding and
 * decoding of Icure-Access-Control-Keys header values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "format/keys.h"

/* SPKI of an RSA-2048 public key from the official SDK's fingerprint test
 * (StringSpecializationTest.kt in icure/cardinal-sdk). */
static const char spki[] =
    "30820122300d06092a864886f70d01010105000382010f003082010a0282010100"
    "87e2a724c8a872c86470a5b1704961b7cc1f67fd8e5a2e6fd4ed698789bbebfd14"
    "a957c7f2a8ad9e77aa0f877e013b884c1aec42696473da13eb18af30f84871a81f"
    "9841291417415176cc11eda0b27c634cccc6683132a14658cab73f0b8b65adbbdf"
    "cc8fb9a930ede97a653c0caf2ef2e36c2b647b714d3b02cf93c18f6a0b6bc34409"
    "6e6cfc20df5a43b073846b5b12daeddbdc1cd1718bf4d0ba059051b25794c89cb2"
    "b79cb7331b875f208ecf3e635e6a7528c4bc3abf4368682756a84cd38ea37f1ed5"
    "e73cce36454b5b1b7c37154b84491b0c5f5d6ed98b4ee3152e79ce4c1d241bebf5"
    "5f499c22ec4051764dcae325f9bfe245e8d56f327f9f4b11150203010001";

static const uint8_t secret[CARDEA_AC_SECRET_LEN] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

static const struct {
    const char *type;
    const char *ackey;
    const char *sdkey;
} derivations[] = {
    {"Patient", "a2ebe0f34253fb9b7cdb79e01abc537c",
     "70da1d6de5e21e934dd620caa05ab9514b4d5d89955a78b7c92e516cda8492d7"},
    {"Contact", "eda224dee13ba8f7afca0df4b8ef8b0f",
     "073fb39ee8ceb9abcf8bdd61c44826f51cfb712200d8d482a54813947ab26b1f"},
    {"HealthElement", "db0bd04ccc681fd330b0bd2206b2235b",
     "4bb589e39029ea59103897681b376d07fcdc695040efbf7c8904710f402ffb72"},
};

static void
to_hex(char *out, size_t cap, const uint8_t *in, size_t len)
{
    assert_int_equal(cardea_hex__encode(out, cap, in, len), CARDEA_OK);
}

static void
test_keys__fingerprint_vector(void **state)
{
    char v1[CARDEA_FP_V1_LEN + 1];
    char v2[CARDEA_FP_V2_LEN + 1];

    (void)state;
    assert_int_equal(cardea_fp__v1(v1, spki, strlen(spki)), CARDEA_OK);
    assert_string_equal(v1, "e245e8d56f327f9f4b11150203010001");
    assert_int_equal(cardea_fp__v2(v2, spki, strlen(spki)), CARDEA_OK);
    assert_string_equal(v2, "e245e8d56f327f9f4b1115");
}

static void
test_keys__fingerprint_lowercases(void **state)
{
    char upper[sizeof spki];
    char v1[CARDEA_FP_V1_LEN + 1];

    (void)state;
    for (size_t i = 0; i < sizeof spki; i++) {
        char c = spki[i];
        upper[i] = (c >= 'a' && c <= 'f') ? (char)(c - 'a' + 'A') : c;
    }
    assert_int_equal(cardea_fp__v1(v1, upper, strlen(upper)), CARDEA_OK);
    assert_string_equal(v1, "e245e8d56f327f9f4b11150203010001");
}

static void
test_keys__fingerprint_rejects_bad_input(void **state)
{
    char v1[CARDEA_FP_V1_LEN + 1];
    char v2[CARDEA_FP_V2_LEN + 1];

    (void)state;
    memset(v1, 'Z', sizeof v1);
    memset(v2, 'Z', sizeof v2);
    assert_int_equal(cardea_fp__v1(v1, spki, 31), CARDEA_EINVAL);
    assert_int_equal(cardea_fp__v1(v1, "xx0102030405060708090a0b0c0d0e0f10",
                                   34),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_fp__v2(v2, spki, 10), CARDEA_EINVAL);
    assert_int_equal(cardea_fp__v1(v1, NULL, 40), CARDEA_EINVAL);
    for (size_t i = 0; i < sizeof v1; i++) {
        assert_int_equal(v1[i], 'Z');
    }
    for (size_t i = 0; i < sizeof v2; i++) {
        assert_int_equal(v2[i], 'Z');
    }
}

static void
test_keys__fingerprint_conversions(void **state)
{
    char v1[CARDEA_FP_V1_LEN + 1];
    char v2[CARDEA_FP_V2_LEN + 1];

    (void)state;
    assert_int_equal(
        cardea_fp__v1_to_v2(v2, "e245e8d56f327f9f4b11150203010001"),
        CARDEA_OK);
    assert_string_equal(v2, "e245e8d56f327f9f4b1115");
    assert_int_equal(cardea_fp__v2_to_v1(v1, "e245e8d56f327f9f4b1115"),
                     CARDEA_OK);
    assert_string_equal(v1, "e245e8d56f327f9f4b11150203010001");

    memset(v1, 'Z', sizeof v1);
    assert_int_equal(cardea_fp__v2_to_v1(v1, "e245e8d56f327f9f4b111"),
                     CARDEA_EINVAL);
    assert_int_equal(v1[0], 'Z');
    memset(v2, 'Z', sizeof v2);
    assert_int_equal(cardea_fp__v1_to_v2(v2, "e245e8d56f327f9f4b1115"),
                     CARDEA_EINVAL);
    assert_int_equal(v2[0], 'Z');
}

static void
test_keys__parse_v2_is_lenient(void **state)
{
    char v2[CARDEA_FP_V2_LEN + 1];

    (void)state;
    assert_int_equal(cardea_fp__parse_v2(v2, "E245E8D56F327F9F4B1115"),
                     CARDEA_OK);
    assert_string_equal(v2, "e245e8d56f327f9f4b1115");
    assert_int_equal(
        cardea_fp__parse_v2(v2, "e245e8d56f327f9f4b11150203010001"),
        CARDEA_OK);
    assert_string_equal(v2, "e245e8d56f327f9f4b1115");
}

static void
test_keys__parse_v2_rejects_other_forms(void **state)
{
    static const char *const bad[] = {
        "e245e8d56f327f9f4b11150203010002", /* 32 without the exponent */
        "e245e8d56f327f9f4b111",            /* 21 characters */
        "e245e8d56f327f9f4b11150",          /* 23 characters */
        "g245e8d56f327f9f4b1115",           /* not hex */
        "",
    };
    char v2[CARDEA_FP_V2_LEN + 1];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(v2, 'Z', sizeof v2);
        assert_int_equal(cardea_fp__parse_v2(v2, bad[i]), CARDEA_EINVAL);
        assert_int_equal(v2[0], 'Z');
    }
}

static void
test_keys__entity_types_of_rc7(void **state)
{
    static const char *const expected[] = {
        "Article", "AccessLog", "CalendarItem", "Classification",
        "ClassificationTemplate", "Contact", "Service", "Document", "Form",
        "HealthElement", "Invoice", "MaintenanceTask", "Message", "Patient",
        "Receipt", "Topic", "TimeTable",
    };
    const char *const *all = cardea_entity_type__all();
    size_t count = 0;

    (void)state;
    while (all[count] != NULL) {
        count++;
    }
    assert_int_equal(count, sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < count; i++) {
        assert_true(cardea_entity_type__is_known(expected[i]));
    }
    assert_false(cardea_entity_type__is_known("patient"));
    assert_false(cardea_entity_type__is_known("SecureDelegationKeyMap"));
    assert_false(cardea_entity_type__is_known(""));
    assert_false(cardea_entity_type__is_known(NULL));
}

static void
test_keys__ackey_and_sdkey_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof derivations / sizeof derivations[0]; i++) {
        uint8_t ackey[CARDEA_AC_KEY_LEN];
        char hex[2 * CARDEA_AC_KEY_LEN + 1];
        char sdkey[CARDEA_SD_KEY_HEX_LEN + 1];

        assert_int_equal(
            cardea_ackey__derive(ackey, secret, derivations[i].type),
            CARDEA_OK);
        to_hex(hex, sizeof hex, ackey, sizeof ackey);
        assert_string_equal(hex, derivations[i].ackey);
        cardea_sdkey__from_ackey(sdkey, ackey);
        assert_string_equal(sdkey, derivations[i].sdkey);
    }
}

static void
test_keys__ackey_differs_per_type(void **state)
{
    const char *const *all = cardea_entity_type__all();

    (void)state;
    for (size_t i = 0; all[i] != NULL; i++) {
        for (size_t k = i + 1; all[k] != NULL; k++) {
            uint8_t a[CARDEA_AC_KEY_LEN];
            uint8_t b[CARDEA_AC_KEY_LEN];

            assert_int_equal(cardea_ackey__derive(a, secret, all[i]),
                             CARDEA_OK);
            assert_int_equal(cardea_ackey__derive(b, secret, all[k]),
                             CARDEA_OK);
            assert_memory_not_equal(a, b, sizeof a);
        }
    }
}

static void
test_keys__ackey_rejects_unknown_type(void **state)
{
    uint8_t ackey[CARDEA_AC_KEY_LEN];

    (void)state;
    memset(ackey, 0xa5, sizeof ackey);
    assert_int_equal(cardea_ackey__derive(ackey, secret, "Patients"),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_ackey__derive(ackey, secret, NULL),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_ackey__derive(ackey, NULL, "Patient"),
                     CARDEA_EINVAL);
    for (size_t i = 0; i < sizeof ackey; i++) {
        assert_int_equal(ackey[i], 0xa5);
    }
}

static void
test_keys__header_vector(void **state)
{
    uint8_t keys[2 * CARDEA_AC_KEY_LEN];
    char **values = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(cardea_ackey__derive(keys, secret, "Patient"),
                     CARDEA_OK);
    assert_int_equal(
        cardea_ackey__derive(keys + CARDEA_AC_KEY_LEN, secret, "Contact"),
        CARDEA_OK);
    assert_int_equal(cardea_ackey__encode_headers(&values, &len, keys, 2),
                     CARDEA_OK);
    assert_int_equal(len, 1);
    assert_string_equal(values[0],
                        "ouvg80JT+5t823ngGrxTfO2iJN7hO6j3r8oN9Ljviw8=");
    cardea_ackey__free_headers(values, len);
}

static void
test_keys__header_splits_at_360(void **state)
{
    enum { COUNT = 361 };
    uint8_t *keys = cardea_mem__alloc(COUNT * CARDEA_AC_KEY_LEN);
    uint8_t *decoded = NULL;
    size_t decoded_count = 0;
    char **values = NULL;
    size_t len = 0;

    (void)state;
    assert_non_null(keys);
    for (size_t i = 0; i < COUNT * CARDEA_AC_KEY_LEN; i++) {
        keys[i] = (uint8_t)(i * 7 + i / 16);
    }
    assert_int_equal(cardea_ackey__encode_headers(&values, &len, keys, COUNT),
                     CARDEA_OK);
    assert_int_equal(len, 2);

    /* 360 * 16 = 5760 bytes, a multiple of 3: 7680 characters, no '='. */
    assert_int_equal(strlen(values[0]), 7680);
    assert_null(strchr(values[0], '='));
    assert_null(strchr(values[0], ','));
    assert_int_equal(strlen(values[1]), 24);

    assert_int_equal(cardea_ackey__decode_header(&decoded, &decoded_count,
                                                 values[0],
                                                 strlen(values[0])),
                     CARDEA_OK);
    assert_int_equal(decoded_count, 360);
    assert_memory_equal(decoded, keys, 360 * CARDEA_AC_KEY_LEN);
    cardea_mem__free_secret(decoded, decoded_count * CARDEA_AC_KEY_LEN);

    assert_int_equal(cardea_ackey__decode_header(&decoded, &decoded_count,
                                                 values[1],
                                                 strlen(values[1])),
                     CARDEA_OK);
    assert_int_equal(decoded_count, 1);
    assert_memory_equal(decoded, keys + 360 * CARDEA_AC_KEY_LEN,
                        CARDEA_AC_KEY_LEN);
    cardea_mem__free_secret(decoded, decoded_count * CARDEA_AC_KEY_LEN);

    cardea_ackey__free_headers(values, len);
    cardea_mem__free(keys);
}

static void
test_keys__header_exactly_360_is_one_value(void **state)
{
    enum { COUNT = 360 };
    uint8_t *keys = cardea_mem__calloc(COUNT, CARDEA_AC_KEY_LEN);
    char **values = NULL;
    size_t len = 0;

    (void)state;
    assert_non_null(keys);
    assert_int_equal(cardea_ackey__encode_headers(&values, &len, keys, COUNT),
                     CARDEA_OK);
    assert_int_equal(len, 1);
    cardea_ackey__free_headers(values, len);
    cardea_mem__free(keys);
}

static void
test_keys__header_no_keys_no_values(void **state)
{
    char **values = (char **)&values;
    size_t len = 99;

    (void)state;
    assert_int_equal(cardea_ackey__encode_headers(&values, &len, NULL, 0),
                     CARDEA_OK);
    assert_null(values);
    assert_int_equal(len, 0);
}

static void
test_keys__header_decode_vector(void **state)
{
    static const char value[] = "ouvg80JT+5t823ngGrxTfO2iJN7hO6j3r8oN9Ljviw8=";
    uint8_t expected[2 * CARDEA_AC_KEY_LEN];
    uint8_t *keys = NULL;
    size_t count = 0;

    (void)state;
    assert_int_equal(cardea_ackey__derive(expected, secret, "Patient"),
                     CARDEA_OK);
    assert_int_equal(
        cardea_ackey__derive(expected + CARDEA_AC_KEY_LEN, secret, "Contact"),
        CARDEA_OK);
    assert_int_equal(cardea_ackey__decode_header(&keys, &count, value,
                                                 strlen(value)),
                     CARDEA_OK);
    assert_int_equal(count, 2);
    assert_memory_equal(keys, expected, sizeof expected);
    cardea_mem__free_secret(keys, count * CARDEA_AC_KEY_LEN);
}

static void
test_keys__header_decode_rejects_bad_values(void **state)
{
    static const char *const bad[] = {
        "",                                 /* empty */
        "AAAAAAAAAAAAAAAAAAAA",             /* 15 bytes */
        "AAAAAAAAAAAAAAAAAAAAAAA=",         /* 17 bytes */
        "AAAAAAAAAAAAAAAAAAAAAA",           /* padding missing */
        "AAAAAAAAAAAAAAAAAAAAA-==",         /* URL-safe letter */
        "AAAAAAAAAAAAAAAAAAAAAA==,AAAAAAAAAAAAAAAAAAAAAA==", /* joined */
        "AAAAAAAA AAAAAAAAAAAAAA==",        /* whitespace */
    };
    uint8_t *keys = (uint8_t *)&keys;
    size_t count = 77;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cardea_ackey__decode_header(&keys, &count, bad[i],
                                                     strlen(bad[i])),
                         CARDEA_EFORMAT);
        assert_ptr_equal(keys, (uint8_t *)&keys);
        assert_int_equal(count, 77);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys__fingerprint_vector),
        cmocka_unit_test(test_keys__fingerprint_lowercases),
        cmocka_unit_test(test_keys__fingerprint_rejects_bad_input),
        cmocka_unit_test(test_keys__fingerprint_conversions),
        cmocka_unit_test(test_keys__parse_v2_is_lenient),
        cmocka_unit_test(test_keys__parse_v2_rejects_other_forms),
        cmocka_unit_test(test_keys__entity_types_of_rc7),
        cmocka_unit_test(test_keys__ackey_and_sdkey_table),
        cmocka_unit_test(test_keys__ackey_differs_per_type),
        cmocka_unit_test(test_keys__ackey_rejects_unknown_type),
        cmocka_unit_test(test_keys__header_vector),
        cmocka_unit_test(test_keys__header_splits_at_360),
        cmocka_unit_test(test_keys__header_exactly_360_is_one_value),
        cmocka_unit_test(test_keys__header_no_keys_no_values),
        cmocka_unit_test(test_keys__header_decode_vector),
        cmocka_unit_test(test_keys__header_decode_rejects_bad_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
