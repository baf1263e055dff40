/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the simple crypto strategies and of the recovery and key
 * generation result objects they fill. The test includes keys.c to read
 * the recovery result, which is opaque outside that file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdk/keys.c"

/* Lowercase hex of a fresh RSA-2048 key pair, shared by the tests. */
static char *pair_pkcs8[2];
static char *pair_spki[2];

static int
group_setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        cardea_rsa_key *key = NULL;
        uint8_t *der = NULL;
        size_t der_len = 0;

        assert_int_equal(cardea_rsa__generate(&key, 2048), CARDEA_OK);
        assert_int_equal(cardea_rsa__pkcs8_der(&der, &der_len, key),
                         CARDEA_OK);
        assert_int_equal(cardea_hex__encode_alloc(&pair_pkcs8[i], der,
                                                  der_len),
                         CARDEA_OK);
        assert_int_equal(cardea_rsa__spki_hex(&pair_spki[i], key),
                         CARDEA_OK);
        cardea_mem__free_secret(der, der_len);
        cardea_rsa__free(key);
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        free_secret_str(pair_pkcs8[i]);
        cardea_mem__free(pair_spki[i]);
    }
    return 0;
}

static void
test_strategies__default_anonymity(void **state)
{
    cardea_crypto_strategies *s = NULL;

    (void)state;
    assert_int_equal(cardea_simple_strategies_new(&s, NULL), CARDEA_OK);
    assert_int_equal(s->version, CARDEA_CRYPTO_STRATEGIES_VERSION);
    assert_true(s->data_owner_requires_anonymous_delegation(
        s->user, "p", CARDEA_DATA_OWNER_PATIENT));
    assert_false(s->data_owner_requires_anonymous_delegation(
        s->user, "h", CARDEA_DATA_OWNER_HCP));
    assert_false(s->data_owner_requires_anonymous_delegation(
        s->user, "d", CARDEA_DATA_OWNER_DEVICE));
    cardea_simple_strategies_free(s);
}

static void
test_strategies__configured_anonymity(void **state)
{
    cardea_simple_strategies_options opts =
        CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT;
    cardea_crypto_strategies *s = NULL;

    (void)state;
    opts.anonymous_types = CARDEA_ANONYMOUS_PATIENT | CARDEA_ANONYMOUS_DEVICE;
    assert_int_equal(cardea_simple_strategies_new(&s, &opts), CARDEA_OK);
    assert_true(s->data_owner_requires_anonymous_delegation(
        s->user, "d", CARDEA_DATA_OWNER_DEVICE));
    assert_false(s->data_owner_requires_anonymous_delegation(
        s->user, "h", CARDEA_DATA_OWNER_HCP));
    cardea_simple_strategies_free(s);
}

static void
test_strategies__rejects_bad_options(void **state)
{
    cardea_simple_strategies_options opts =
        CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT;
    cardea_key_pair_hex bad_key = {"zz", "00"};
    cardea_crypto_strategies *sentinel = (cardea_crypto_strategies *)&opts;
    cardea_crypto_strategies *s = sentinel;

    (void)state;
    opts.version = 2;
    assert_int_equal(cardea_simple_strategies_new(&s, &opts), CARDEA_EINVAL);
    assert_ptr_equal(s, sentinel);
    opts.version = CARDEA_SIMPLE_STRATEGIES_OPTIONS_VERSION;
    opts.anonymous_types = 1u << 5;
    assert_int_equal(cardea_simple_strategies_new(&s, &opts), CARDEA_EINVAL);
    assert_ptr_equal(s, sentinel);
    opts.anonymous_types = 0;
    opts.available_key_count = 1;
    assert_int_equal(cardea_simple_strategies_new(&s, &opts), CARDEA_EINVAL);
    assert_ptr_equal(s, sentinel);
    opts.available_keys = &bad_key;
    assert_int_equal(cardea_simple_strategies_new(&s, &opts), CARDEA_EINVAL);
    assert_ptr_equal(s, sentinel);
}

static void
test_strategies__recovers_preloaded_keys(void **state)
{
    cardea_simple_strategies_options opts =
        CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT;
    cardea_key_pair_hex available = {pair_pkcs8[0], pair_spki[0]};
    cardea_crypto_strategies *s = NULL;
    cardea_key_recovery result;
    const char *missing[] = {pair_spki[0], "00aa"};
    const char *unverified[] = {pair_spki[1]};

    (void)state;
    memset(&result, 0, sizeof result);
    opts.available_keys = &available;
    opts.available_key_count = 1;
    assert_int_equal(cardea_simple_strategies_new(&s, &opts), CARDEA_OK);
    assert_int_equal(s->recover_and_verify_keys(s->user, NULL, 0, missing, 2,
                                                unverified, 1, &result),
                     CARDEA_OK);
    assert_int_equal(result.pair_count, 1);
    assert_string_equal(result.pairs[0].pkcs8_hex, pair_pkcs8[0]);
    assert_string_equal(result.pairs[0].spki_hex, pair_spki[0]);
    assert_int_equal(result.status_count, 1);
    assert_string_equal(result.statuses[0].spki_hex, pair_spki[1]);
    assert_int_equal(result.statuses[0].status,
                     CARDEA_KEY_TEMPORARILY_UNVERIFIED);
    recovery_clear(&result);

    /* A preloaded key that is only unverified comes back as a pair. */
    unverified[0] = pair_spki[0];
    assert_int_equal(s->recover_and_verify_keys(s->user, NULL, 0, NULL, 0,
                                                unverified, 1, &result),
                     CARDEA_OK);
    assert_int_equal(result.pair_count, 1);
    assert_int_equal(result.status_count, 0);
    recovery_clear(&result);
    cardea_simple_strategies_free(s);
}

static void
test_strategies__remembers_generated_pair(void **state)
{
    cardea_crypto_strategies *s = NULL;
    char *pkcs8 = (char *)"untouched";
    char *spki = (char *)"untouched";
    cardea_key_generation gen = {NULL, NULL};

    (void)state;
    assert_int_equal(cardea_simple_strategies_new(&s, NULL), CARDEA_OK);
    assert_int_equal(s->generate_new_key_for_data_owner(s->user, NULL, &gen),
                     CARDEA_KEYGEN_ALLOW);
    assert_int_equal(cardea_simple_strategies_generated_key_pair(&pkcs8,
                                                                 &spki, s),
                     CARDEA_ENOTFOUND);
    assert_string_equal(pkcs8, "untouched");
    assert_int_equal(s->notify_key_pair_generation(s->user, pair_pkcs8[1],
                                                   pair_spki[1]),
                     CARDEA_OK);
    assert_int_equal(cardea_simple_strategies_generated_key_pair(&pkcs8,
                                                                 &spki, s),
                     CARDEA_OK);
    assert_string_equal(pkcs8, pair_pkcs8[1]);
    assert_string_equal(spki, pair_spki[1]);
    free_secret_str(pkcs8);
    cardea_mem__free(spki);
    cardea_simple_strategies_free(s);
}

static void
test_strategies__trusts_every_delegate_key(void **state)
{
    cardea_crypto_strategies *s = NULL;
    const char *keys[] = {pair_spki[0], pair_spki[1], "00"};
    bool accepted[3] = {false, false, false};

    (void)state;
    assert_int_equal(cardea_simple_strategies_new(&s, NULL), CARDEA_OK);
    assert_int_equal(s->verify_delegate_public_keys(
                         s->user, "hcp-2", CARDEA_DATA_OWNER_HCP, keys, 3,
                         accepted),
                     CARDEA_OK);
    assert_true(accepted[0]);
    assert_true(accepted[1]);
    assert_true(accepted[2]);
    cardea_simple_strategies_free(s);
}

static void
test_strategies__foreign_strategies_rejected(void **state)
{
    cardea_crypto_strategies other;
    char *pkcs8 = NULL;
    char *spki = NULL;

    (void)state;
    memset(&other, 0, sizeof other);
    other.user = &other;
    assert_int_equal(cardea_simple_strategies_generated_key_pair(
                         &pkcs8, &spki, &other),
                     CARDEA_EINVAL);
    assert_null(pkcs8);
    cardea_simple_strategies_free(&other);
    cardea_simple_strategies_free(NULL);
}

static void
test_strategies__recovery_result_checks(void **state)
{
    cardea_key_recovery result;
    cardea_key_generation gen = {NULL, NULL};

    (void)state;
    memset(&result, 0, sizeof result);
    assert_int_equal(cardea_key_recovery_add_pair(&result, "xyz", "00"),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_key_recovery_add_pair(&result, "00", NULL),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_key_recovery_add_pair(&result, "ABC", "00"),
                     CARDEA_EINVAL);
    assert_int_equal(result.pair_count, 0);
    assert_int_equal(cardea_key_recovery_set_status(&result, "00AA",
                                                    CARDEA_KEY_VERIFIED),
                     CARDEA_OK);
    assert_int_equal(cardea_key_recovery_set_status(&result, "00aa",
                                                    CARDEA_KEY_UNVERIFIED),
                     CARDEA_OK);
    assert_int_equal(cardea_key_recovery_set_status(&result, "00aa", 9),
                     CARDEA_EINVAL);
    assert_int_equal(result.status_count, 1);
    assert_string_equal(result.statuses[0].spki_hex, "00aa");
    assert_int_equal(result.statuses[0].status, CARDEA_KEY_UNVERIFIED);
    recovery_clear(&result);

    assert_int_equal(cardea_key_generation_set_pair(&gen, "0g", "00"),
                     CARDEA_EINVAL);
    assert_null(gen.pkcs8_hex);
    assert_int_equal(cardea_key_generation_set_pair(&gen, "AB", "cd"),
                     CARDEA_OK);
    assert_string_equal(gen.pkcs8_hex, "ab");
    free_secret_str(gen.pkcs8_hex);
    cardea_mem__free(gen.spki_hex);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strategies__default_anonymity),
        cmocka_unit_test(test_strategies__configured_anonymity),
        cmocka_unit_test(test_strategies__rejects_bad_options),
        cmocka_unit_test(test_strategies__recovers_preloaded_keys),
        cmocka_unit_test(test_strategies__remembers_generated_pair),
        cmocka_unit_test(test_strategies__trusts_every_delegate_key),
        cmocka_unit_test(test_strategies__foreign_strategies_rejected),
        cmocka_unit_test(test_strategies__recovery_result_checks),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
