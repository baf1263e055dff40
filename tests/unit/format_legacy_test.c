/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/format/legacy.c against the legacy fixture of the official
 * SDK (vectors/fixtures/legacy-metadata.json, see SOURCE.md there): the
 * exchange keys a->p and a->a from aesExchangeKeys, the secret ids and
 * entity key from the patient's delegations and encryptionKeys, and the
 * patient's encryptedSelf. Also hcPartyKeys, the "try every key"
 * identifier, and the old-data fallback to delegations as entity keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/keys.h"
#include "format/legacy.h"

#define FIXTURE "vectors/fixtures/legacy-metadata.json"

static json_t *fixture;
static cardea_rsa_key *key_p, *key_a, *key_b;
static cardea_owner_key owner_p, owner_a, owner_b;

static cardea_rsa_key *
load_private(const char *name, cardea_owner_key *owner)
{
    json_t *hcp = json_object_get(json_object_get(fixture, "hcps"), name);
    const char *hex = cardea_json__get_str(hcp, "privateKey");
    uint8_t *der = NULL;
    size_t der_len = 0;
    cardea_rsa_key *key = NULL;

    if (hex == NULL ||
        cardea_hex__decode_alloc(&der, &der_len, hex, strlen(hex)) !=
            CARDEA_OK ||
        cardea_rsa__from_pkcs8(&key, der, der_len) != CARDEA_OK) {
        return NULL;
    }
    cardea_free(der);
    owner->key = key;
    owner->oaep = CARDEA_RSA_OAEP_SHA1;
    owner->spki_hex = cardea_json__get_str(hcp, "publicKey");
    return key;
}

static int
setup_fixture(void **state)
{
    json_error_t error;

    (void)state;
    fixture = json_load_file(FIXTURE, 0, &error);
    if (fixture == NULL) {
        return -1;
    }
    key_p = load_private("p", &owner_p);
    key_a = load_private("a", &owner_a);
    key_b = load_private("b", &owner_b);
    return key_p != NULL && key_a != NULL && key_b != NULL ? 0 : -1;
}

static int
teardown_fixture(void **state)
{
    (void)state;
    cardea_rsa__free(key_p);
    cardea_rsa__free(key_a);
    cardea_rsa__free(key_b);
    json_decref(fixture);
    return 0;
}

static const json_t *
aes_exchange_keys_of(const char *name)
{
    return json_object_get(
        json_object_get(json_object_get(fixture, "hcps"), name),
        "aesExchangeKeys");
}

static void
assert_key_hex(const cardea_legacy_key *key, const char *prefix,
               const char *suffix)
{
    char hex[65];

    assert_int_equal(key->len, 32);
    assert_int_equal(cardea_hex__encode(hex, sizeof hex, key->bytes, 32),
                     CARDEA_OK);
    assert_memory_equal(hex, prefix, strlen(prefix));
    assert_string_equal(hex + 64 - strlen(suffix), suffix);
}

/* Decrypts exchange key a->`delegate` with the given keys. */
static void
exchange_key(cardea_legacy_keys *out, const char *delegate,
             const cardea_owner_key *keys, size_t count)
{
    cardea_legacy__keys_init(out);
    assert_int_equal(cardea_legacy__decrypt_aes_exchange_keys(
                         out, aes_exchange_keys_of("a"), delegate, keys,
                         count),
                     CARDEA_OK);
    assert_int_equal(out->count, 1);
}

static void
test_legacy__fixture_fingerprints(void **state)
{
    char v1[CARDEA_FP_V1_LEN + 1];

    (void)state;
    assert_int_equal(cardea_fp__v1(v1, owner_p.spki_hex,
                                   strlen(owner_p.spki_hex)),
                     CARDEA_OK);
    assert_string_equal(v1, "3b42514690fbb161a5179d0203010001");
    assert_int_equal(cardea_fp__v1(v1, owner_a.spki_hex,
                                   strlen(owner_a.spki_hex)),
                     CARDEA_OK);
    assert_string_equal(v1, "b59b1e44efebd4db537ced0203010001");
}

static void
test_legacy__aes_exchange_keys_fixture(void **state)
{
    cardea_legacy_keys keys;

    (void)state;
    exchange_key(&keys, "hcp-p", &owner_p, 1);
    assert_key_hex(&keys.items[0], "6b2bb99c", "e32e46");
    cardea_legacy__keys_free(&keys);

    /* The a->p key is also encrypted for a's own key. */
    exchange_key(&keys, "hcp-p", &owner_a, 1);
    assert_key_hex(&keys.items[0], "6b2bb99c", "e32e46");
    cardea_legacy__keys_free(&keys);

    exchange_key(&keys, "hcp-a", &owner_a, 1);
    assert_key_hex(&keys.items[0], "cd97586b", "3805fc");
    cardea_legacy__keys_free(&keys);
}

static void
test_legacy__aes_exchange_keys_errors(void **state)
{
    cardea_legacy_keys keys;

    (void)state;
    cardea_legacy__keys_init(&keys);
    assert_int_equal(cardea_legacy__decrypt_aes_exchange_keys(
                         &keys, aes_exchange_keys_of("a"), "hcp-x",
                         &owner_a, 1),
                     CARDEA_ENOTFOUND);
    assert_int_equal(cardea_legacy__decrypt_aes_exchange_keys(
                         &keys, aes_exchange_keys_of("a"), "hcp-a",
                         &owner_b, 1),
                     CARDEA_EVERIFY);
    assert_int_equal(keys.count, 0);
    assert_null(keys.items);
}

/* An empty identifier means "try every key". */
static void
test_legacy__empty_identifier_tries_all(void **state)
{
    json_t *copy = json_deep_copy(aes_exchange_keys_of("a"));
    const char *delegator = json_object_iter_key(json_object_iter(copy));
    json_t *inner = json_object_get(json_object_get(copy, delegator), "hcp-a");
    const char *fp_a = "b59b1e44efebd4db537ced0203010001";
    cardea_owner_key both[2] = {owner_b, owner_a};
    cardea_legacy_keys keys;

    (void)state;
    assert_int_equal(json_object_set(inner, "", json_object_get(inner, fp_a)),
                     0);
    assert_int_equal(json_object_del(inner, fp_a), 0);
    cardea_legacy__keys_init(&keys);
    assert_int_equal(cardea_legacy__decrypt_aes_exchange_keys(
                         &keys, copy, "hcp-a", both, 2),
                     CARDEA_OK);
    assert_int_equal(keys.count, 1);
    assert_key_hex(&keys.items[0], "cd97586b", "3805fc");
    cardea_legacy__keys_free(&keys);
    json_decref(copy);
}

static void
test_legacy__hcparty_keys_index_one(void **state)
{
    uint8_t raw[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t *ct = NULL;
    size_t ct_len = 0;
    char *hex = NULL;
    json_t *hc_party_keys;
    cardea_legacy_keys keys;

    (void)state;
    assert_int_equal(cardea_rsa__encrypt(&ct, &ct_len, key_a,
                                         CARDEA_RSA_OAEP_SHA1, raw, 16),
                     CARDEA_OK);
    assert_int_equal(cardea_hex__encode_alloc(&hex, ct, ct_len), CARDEA_OK);
    hc_party_keys = json_pack("{s:[s,s]}", "hcp-a", "00", hex);
    assert_non_null(hc_party_keys);

    cardea_legacy__keys_init(&keys);
    assert_int_equal(cardea_legacy__decrypt_hcparty_key(
                         &keys, hc_party_keys, "hcp-a", 1, &owner_a, 1),
                     CARDEA_OK);
    assert_int_equal(keys.count, 1);
    assert_int_equal(keys.items[0].len, 16);
    assert_memory_equal(keys.items[0].bytes, raw, 16);
    cardea_legacy__keys_free(&keys);

    assert_int_equal(cardea_legacy__decrypt_hcparty_key(
                         &keys, hc_party_keys, "hcp-a", 1, &owner_b, 1),
                     CARDEA_EVERIFY);
    assert_int_equal(cardea_legacy__decrypt_hcparty_key(
                         &keys, hc_party_keys, "hcp-z", 1, &owner_a, 1),
                     CARDEA_ENOTFOUND);
    assert_int_equal(keys.count, 0);
    json_decref(hc_party_keys);
    cardea_free(ct);
    cardea_free(hex);
}

static bool
values_contain(const cardea_legacy_values *values, const char *value)
{
    size_t i;

    for (i = 0; i < values->count; i++) {
        if (strcmp(values->items[i], value) == 0) {
            return true;
        }
    }
    return false;
}

static void
test_legacy__delegations_secret_ids(void **state)
{
    const char *confidential = "24cd8cf5-0958-4ee9-8e90-95f3d25a47d7";
    const json_t *patient = json_object_get(fixture, "patient");
    const char *ids_a[] = {"hcp-a"}, *ids_p[] = {"hcp-p"};
    cardea_legacy_values values = {NULL, 0};
    cardea_legacy_keys a_to_a, a_to_p;

    (void)state;
    exchange_key(&a_to_a, "hcp-a", &owner_a, 1);
    exchange_key(&a_to_p, "hcp-p", &owner_p, 1);

    assert_int_equal(cardea_legacy__decrypt_field(&values, patient,
                                                  "delegations", ids_a, 1,
                                                  &a_to_a),
                     CARDEA_OK);
    assert_int_equal(values.count, 2);
    assert_true(values_contain(&values, confidential));
    cardea_legacy__values_free(&values);

    /* p only reaches the shared secret id, not the confidential one. */
    assert_int_equal(cardea_legacy__decrypt_field(&values, patient,
                                                  "delegations", ids_p, 1,
                                                  &a_to_p),
                     CARDEA_OK);
    assert_int_equal(values.count, 1);
    assert_false(values_contain(&values, confidential));
    assert_true(cardea_uuid__is_valid(values.items[0]));
    cardea_legacy__values_free(&values);
    cardea_legacy__keys_free(&a_to_a);
    cardea_legacy__keys_free(&a_to_p);
}

static void
test_legacy__entity_key_and_encrypted_self(void **state)
{
    static const char note[] = "{\"note\":\"This is just a test patient\"}";
    const json_t *patient = json_object_get(fixture, "patient");
    const char *encoded = cardea_json__get_str(patient, "encryptedSelf");
    const char *ids[] = {"hcp-p"};
    cardea_legacy_keys a_to_p, entity_keys;
    uint8_t *blob = NULL, *plain = NULL;
    size_t blob_len = 0, plain_len = 0;
    char hex[33];

    (void)state;
    exchange_key(&a_to_p, "hcp-p", &owner_p, 1);
    cardea_legacy__keys_init(&entity_keys);
    assert_int_equal(cardea_legacy__entity_keys(&entity_keys, patient, ids, 1,
                                                &a_to_p, false),
                     CARDEA_OK);
    assert_int_equal(entity_keys.count, 1);
    assert_int_equal(entity_keys.items[0].len, 16);
    assert_int_equal(cardea_hex__encode(hex, sizeof hex,
                                        entity_keys.items[0].bytes, 16),
                     CARDEA_OK);
    assert_string_equal(hex, "11d52463edc7babf6f552b0363aa00c8");

    assert_int_equal(cardea_base64__decode_alloc(&blob, &blob_len, encoded,
                                                 strlen(encoded)),
                     CARDEA_OK);
    assert_int_equal(cardea_aes__cbc_decrypt_alloc(&plain, &plain_len,
                                                   entity_keys.items[0].bytes,
                                                   16, blob, blob_len),
                     CARDEA_OK);
    assert_int_equal(plain_len, strlen(note));
    assert_memory_equal(plain, note, plain_len);
    cardea_free(plain);
    cardea_free(blob);
    cardea_legacy__keys_free(&entity_keys);
    cardea_legacy__keys_free(&a_to_p);
}

/* Builds a legacy delegation key hex(AES-CBC(key, text)). */
static char *
legacy_key_hex(const uint8_t *key, const char *text)
{
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    char *hex = NULL;

    assert_int_equal(cardea_aes__cbc_encrypt_alloc(&blob, &blob_len, key, 32,
                                                   (const uint8_t *)text,
                                                   strlen(text)),
                     CARDEA_OK);
    assert_int_equal(cardea_hex__encode_alloc(&hex, blob, blob_len),
                     CARDEA_OK);
    cardea_free(blob);
    return hex;
}

static void
test_legacy__delegations_as_entity_keys(void **state)
{
    uint8_t exchange[32] = {7};
    cardea_legacy_keys keys, found;
    char *hex = legacy_key_hex(exchange, "old-id:0f1e2d3c-4b5a-6978-8796-"
                                         "a5b4c3d2e1f0");
    json_t *entity = json_pack("{s:{s:[{s:s}]}}", "delegations", "hcp-a",
                               "key", hex);
    const char *ids[] = {"hcp-a"};

    (void)state;
    assert_non_null(entity);
    cardea_legacy__keys_init(&keys);
    assert_int_equal(cardea_legacy__keys_add(&keys, exchange, 32), CARDEA_OK);
    cardea_legacy__keys_init(&found);
    assert_int_equal(cardea_legacy__entity_keys(&found, entity, ids, 1, &keys,
                                                true),
                     CARDEA_OK);
    assert_int_equal(found.count, 0);
    assert_int_equal(cardea_legacy__entity_keys(&found, entity, ids, 1, &keys,
                                                false),
                     CARDEA_OK);
    assert_int_equal(found.count, 1);
    assert_int_equal(found.items[0].len, 16);
    assert_int_equal(found.items[0].bytes[0], 0x0f);
    assert_int_equal(found.items[0].bytes[15], 0xf0);
    cardea_legacy__keys_free(&found);
    cardea_legacy__keys_free(&keys);
    json_decref(entity);
    cardea_free(hex);
}

static void
test_legacy__value_needs_one_colon(void **state)
{
    uint8_t exchange[32] = {9};
    const char *bad[] = {"no-colon", "a:b:c"};
    char *value = (char *)0x5a5a, *entity_id = NULL, *hex;
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        hex = legacy_key_hex(exchange, bad[i]);
        assert_int_equal(cardea_legacy__decrypt_value(&value, NULL, hex,
                                                      exchange, 32),
                         CARDEA_EVERIFY);
        assert_ptr_equal(value, (char *)0x5a5a);
        cardea_free(hex);
    }
    hex = legacy_key_hex(exchange, "entity-1:secret-1");
    assert_int_equal(cardea_legacy__decrypt_value(&value, &entity_id, hex,
                                                  exchange, 32),
                     CARDEA_OK);
    assert_string_equal(value, "secret-1");
    assert_string_equal(entity_id, "entity-1");
    cardea_free(value);
    cardea_free(entity_id);
    cardea_free(hex);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy__fixture_fingerprints),
        cmocka_unit_test(test_legacy__aes_exchange_keys_fixture),
        cmocka_unit_test(test_legacy__aes_exchange_keys_errors),
        cmocka_unit_test(test_legacy__empty_identifier_tries_all),
        cmocka_unit_test(test_legacy__hcparty_keys_index_one),
        cmocka_unit_test(test_legacy__delegations_secret_ids),
        cmocka_unit_test(test_legacy__entity_key_and_encrypted_self),
        cmocka_unit_test(test_legacy__delegations_as_entity_keys),
        cmocka_unit_test(test_legacy__value_needs_one_colon),
    };

    return cmocka_run_group_tests(tests, setup_fixture, teardown_fixture);
}
