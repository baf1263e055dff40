/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/format/recovery.c and src/format/transfer_key.c: the
 * RecoveryData id, recovery-key text forms and their parser, the entity
 * round trip, KEYPAIR_RECOVERY and EXCHANGE_KEY_RECOVERY content against
 * the official SDK's fixture (vectors/fixtures/recovery-data.json), the
 * public/private mismatch check, and transfer-key blobs and maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/recovery.h"
#include "format/transfer_key.h"

#define FIXTURE "vectors/fixtures/recovery-data.json"
#define SENTINEL ((void *)0x5a5a)

static json_t *fixture;
static cardea_rsa_key *rsa[2];

static int
setup_all(void **state)
{
    json_error_t error;

    (void)state;
    fixture = json_load_file(FIXTURE, 0, &error);
    if (fixture == NULL || cardea_rsa__generate(&rsa[0], 2048) != CARDEA_OK ||
        cardea_rsa__generate(&rsa[1], 2048) != CARDEA_OK) {
        return -1;
    }
    return 0;
}

static int
teardown_all(void **state)
{
    (void)state;
    cardea_rsa__free(rsa[0]);
    cardea_rsa__free(rsa[1]);
    json_decref(fixture);
    return 0;
}

static void
test_recovery__id_hashes_raw_bytes(void **state)
{
    cardea_recovery_key key = {{0}, 32};
    char id[CARDEA_RECOVERY_ID_LEN + 1];

    (void)state;
    assert_int_equal(cardea_recovery__key_id(id, &key), CARDEA_OK);
    assert_string_equal(id, "66687aadf862bd776c8fc18b8e9f8e20"
                            "089714856ee233b3902a591d0d5f2925");
    key.len = 16;
    assert_int_equal(cardea_recovery__key_id(id, &key), CARDEA_OK);
    assert_string_equal(id, "374708fff7719dd5979ec875d56cd228"
                            "6f6d3cf7ec317a3b25632aab28ec37bb");
    key.len = 24;
    assert_int_equal(cardea_recovery__key_id(id, &key), CARDEA_EINVAL);
}

static void
test_recovery__key_text_forms(void **state)
{
    cardea_recovery_key key, parsed;
    char *text = NULL;
    size_t i;

    (void)state;
    key.len = 16;
    for (i = 0; i < 16; i++) {
        key.bytes[i] = (uint8_t)i;
    }
    assert_int_equal(cardea_recovery__key_to_text(&text, &key,
                                                  CARDEA_RECOVERY_TEXT_BASE32),
                     CARDEA_OK);
    assert_string_equal(text, "AAAQEAYEAUDAOCAJBIFQYDIOB4");
    cardea_free(text);
    assert_int_equal(cardea_recovery__key_to_text(
                         &text, &key, CARDEA_RECOVERY_TEXT_GROUPED),
                     CARDEA_OK);
    assert_string_equal(text, "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4");
    cardea_free(text);
    assert_int_equal(cardea_recovery__key_to_text(&text, &key,
                                                  CARDEA_RECOVERY_TEXT_HEX),
                     CARDEA_OK);
    assert_string_equal(text, "000102030405060708090a0b0c0d0e0f");
    cardea_free(text);

    static const char *const inputs[] = {
        "AAAQEAYEAUDAOCAJBIFQYDIOB4",
        "aaaq eaye auda ocaj bifq ydio b4",
        "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4",
        "AAAQEAYEAUDAOCAJBIFQYDIOB4======",
        "000102030405060708090A0B0C0D0E0F",
        "00010203-0405-0607-0809-0a0b0c0d0e0f",
    };
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        memset(&parsed, 0xee, sizeof parsed);
        assert_int_equal(cardea_recovery__key_parse(&parsed, inputs[i],
                                                    strlen(inputs[i])),
                         CARDEA_OK);
        assert_int_equal(parsed.len, 16);
        assert_memory_equal(parsed.bytes, key.bytes, 16);
    }
}

static void
test_recovery__key_round_trip_32(void **state)
{
    cardea_recovery_key key, parsed;
    cardea_recovery_key_text forms[] = {
        CARDEA_RECOVERY_TEXT_HEX,
        CARDEA_RECOVERY_TEXT_BASE32,
        CARDEA_RECOVERY_TEXT_GROUPED,
    };
    char *text = NULL;
    size_t i;

    (void)state;
    assert_int_equal(cardea_recovery__key_generate(&key, 32), CARDEA_OK);
    for (i = 0; i < 3; i++) {
        assert_int_equal(cardea_recovery__key_to_text(&text, &key, forms[i]),
                         CARDEA_OK);
        assert_int_equal(cardea_recovery__key_parse(&parsed, text,
                                                    strlen(text)),
                         CARDEA_OK);
        assert_int_equal(parsed.len, 32);
        assert_memory_equal(parsed.bytes, key.bytes, 32);
        cardea_free(text);
    }
}

static void
test_recovery__key_parse_rejects(void **state)
{
    static const char *const inputs[] = {
        "",
        "AAAQEAYEAUDAOCAJBIFQYDIOB4AAAAAA", /* 20 bytes of base32 */
        "000102030405060708090a0b0c0d0e",   /* 15 bytes of hex */
        "AAAQ!EAYEAUDAOCAJBIFQYDIOB4",
    };
    cardea_recovery_key parsed;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        memset(&parsed, 0xee, sizeof parsed);
        assert_int_equal(cardea_recovery__key_parse(&parsed, inputs[i],
                                                    strlen(inputs[i])),
                         CARDEA_EFORMAT);
        assert_int_equal(parsed.bytes[0], 0xee);
    }
}

static void
test_recovery__data_round_trip(void **state)
{
    static const char content[] = "[{\"x\":1}]";
    cardea_recovery_key key, other;
    char id[CARDEA_RECOVERY_ID_LEN + 1];
    int64_t expiry = 1700000000000;
    char *plain = SENTINEL;
    size_t plain_len = 0;
    json_t *data = NULL;

    (void)state;
    assert_int_equal(cardea_recovery__key_generate(&key, 32), CARDEA_OK);
    assert_int_equal(cardea_recovery__key_generate(&other, 16), CARDEA_OK);
    assert_int_equal(cardea_recovery__data_build(
                         &data, &key, "hcp-1", CARDEA_RECOVERY_EXCHANGE_KEY,
                         content, strlen(content), &expiry),
                     CARDEA_OK);
    assert_int_equal(cardea_recovery__key_id(id, &key), CARDEA_OK);
    assert_string_equal(cardea_json__get_str(data, "id"), id);
    assert_string_equal(cardea_json__get_str(data, "type"),
                        "EXCHANGE_KEY_RECOVERY");
    assert_true(json_integer_value(json_object_get(data,
                                                   "expirationInstant")) ==
                expiry);

    assert_int_equal(cardea_recovery__data_decrypt(
                         &plain, &plain_len, data, &key,
                         CARDEA_RECOVERY_KEYPAIR),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_recovery__data_decrypt(
                         &plain, &plain_len, data, &other,
                         CARDEA_RECOVERY_EXCHANGE_KEY),
                     CARDEA_EVERIFY);
    assert_ptr_equal(plain, SENTINEL);
    assert_int_equal(cardea_recovery__data_decrypt(
                         &plain, &plain_len, data, &key,
                         CARDEA_RECOVERY_EXCHANGE_KEY),
                     CARDEA_OK);
    assert_string_equal(plain, content);
    cardea_mem__free_secret(plain, plain_len + 1);
    json_decref(data);
}

static void
test_recovery__keypairs_fixture(void **state)
{
    const char *content = cardea_json__get_str(fixture,
                                               "keypairRecoveryContent");
    cardea_recovered_keypair *pairs = NULL;
    uint8_t *der = NULL;
    size_t count = 0, der_len = 0, i;
    char *encoded = NULL;

    (void)state;
    assert_int_equal(cardea_recovery__keypairs_parse(&pairs, &count, content,
                                                     strlen(content)),
                     CARDEA_OK);
    assert_int_equal(count, 2);
    assert_string_equal(pairs[0].owner_id, "child-1");
    assert_int_equal(pairs[0].oaep, CARDEA_RSA_OAEP_SHA256);
    assert_string_equal(pairs[1].owner_id, "parent-1");
    assert_int_equal(pairs[1].oaep, CARDEA_RSA_OAEP_SHA1);
    for (i = 0; i < 2; i++) {
        assert_true(cardea_rsa__is_private(pairs[i].key));
        assert_int_equal(strlen(pairs[i].spki_hex), 588);
        /* PKCS#8 re-export is byte-identical to the SDK's. */
        assert_int_equal(cardea_rsa__pkcs8_der(&der, &der_len, pairs[i].key),
                         CARDEA_OK);
        assert_int_equal(cardea_base64__encode_alloc(&encoded, der, der_len),
                         CARDEA_OK);
        assert_non_null(strstr(content, encoded));
        cardea_mem__free_secret(der, der_len);
        cardea_mem__free_secret(encoded, strlen(encoded) + 1);
    }
    cardea_recovery__keypairs_free(pairs, count);
}

static void
test_recovery__keypairs_round_trip(void **state)
{
    cardea_recovery_keypair in[3] = {
        {"hcp-1", rsa[0], CARDEA_RSA_OAEP_SHA256},
        {"hcp-parent", rsa[1], CARDEA_RSA_OAEP_SHA1},
        {"hcp-1", rsa[1], CARDEA_RSA_OAEP_SHA1},
    };
    cardea_recovered_keypair *out = NULL;
    size_t count = 0, len = 0;
    char *json = NULL;

    (void)state;
    assert_int_equal(cardea_recovery__keypairs_build(&json, &len, in, 3),
                     CARDEA_OK);
    assert_int_equal(len, strlen(json));
    assert_int_equal(cardea_recovery__keypairs_parse(&out, &count, json, len),
                     CARDEA_OK);
    assert_int_equal(count, 3);
    assert_string_equal(out[0].owner_id, "hcp-1");
    assert_string_equal(out[1].owner_id, "hcp-1");
    assert_string_equal(out[2].owner_id, "hcp-parent");
    assert_true(cardea_rsa__same_public(out[0].key, rsa[0]));
    assert_true(cardea_rsa__same_public(out[1].key, rsa[1]));
    assert_int_equal(out[1].oaep, CARDEA_RSA_OAEP_SHA1);
    cardea_recovery__keypairs_free(out, count);
    cardea_mem__free_secret(json, len + 1);
}

/* A pair whose public key is not the private key's public half. */
static void
test_recovery__keypairs_mismatch_rejected(void **state)
{
    cardea_recovery_keypair in = {"hcp-1", rsa[0], CARDEA_RSA_OAEP_SHA256};
    cardea_recovered_keypair *out = SENTINEL;
    size_t count = 77, len = 0;
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    char *json = NULL, *other = NULL, *published;
    json_t *root;

    (void)state;
    assert_int_equal(cardea_recovery__keypairs_build(&json, &len, &in, 1),
                     CARDEA_OK);
    root = json_loads(json, 0, NULL);
    assert_non_null(root);
    assert_int_equal(cardea_rsa__spki_der(&spki, &spki_len, rsa[1]),
                     CARDEA_OK);
    assert_int_equal(cardea_base64__encode_alloc(&other, spki, spki_len),
                     CARDEA_OK);
    assert_int_equal(
        json_object_set_new(json_object_get(json_array_get(
                                json_object_get(root, "hcp-1"), 0), "pair"),
                            "publicKey", json_string(other)),
        0);
    published = cardea_json__dump(root);
    assert_non_null(published);
    assert_int_equal(cardea_recovery__keypairs_parse(&out, &count, published,
                                                     strlen(published)),
                     CARDEA_EVERIFY);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(count, 77);
    assert_int_equal(cardea_recovery__keypairs_parse(&out, &count, "{\"a\":1}",
                                                     7),
                     CARDEA_EFORMAT);
    cardea_free(published);
    json_decref(root);
    cardea_free(other);
    cardea_free(spki);
    cardea_mem__free_secret(json, len + 1);
}

static void
test_recovery__exchange_fixture(void **state)
{
    const json_t *entry = json_object_get(fixture, "exchangeKeyRecoveryEntry");
    json_t *list = json_array();
    json_t *item = json_deep_copy(entry);
    cardea_recovered_exchange *out = NULL;
    size_t count = 0;
    char *text;

    (void)state;
    assert_int_equal(json_object_set_new(item, "exchangeDataId",
                                         json_string("xd-1")),
                     0);
    assert_int_equal(json_array_append_new(list, item), 0);
    text = cardea_json__dump(list);
    assert_int_equal(cardea_recovery__exchange_parse(&out, &count, text,
                                                     strlen(text)),
                     CARDEA_OK);
    assert_int_equal(count, 1);
    assert_string_equal(out[0].exchange_data_id, "xd-1");
    assert_int_equal(out[0].content->exchange_key_len, 32);
    assert_int_equal(out[0].content->shared_signature_key_len, 128);
    assert_int_equal(out[0].content->access_control_secret[0], 0x12);
    assert_int_equal(out[0].content->exchange_key[0], 0xbc);
    cardea_recovery__exchange_free(out, count);
    cardea_free(text);
    json_decref(list);
}

static void
test_recovery__exchange_round_trip(void **state)
{
    static const char short_key[] =
        "[{\"exchangeDataId\":\"x\",\"rawExchangeKey\":\"AA==\","
        "\"rawAccessControlSecret\":\"AA==\","
        "\"rawSharedSignatureKey\":\"AA==\"}]";
    cardea_exchange_content *content = NULL;
    cardea_recovery_exchange in;
    cardea_recovered_exchange *out = SENTINEL;
    size_t count = 0, len = 0;
    char *json = NULL;

    (void)state;
    assert_int_equal(cardea_exchange_data__content_generate(&content),
                     CARDEA_OK);
    in.exchange_data_id = "xd-\"2";
    in.content = content;
    assert_int_equal(cardea_recovery__exchange_build(&json, &len, &in, 1),
                     CARDEA_OK);
    assert_non_null(strstr(json, "\"exchangeDataId\":\"xd-\\\"2\""));
    assert_int_equal(cardea_recovery__exchange_parse(&out, &count, json, len),
                     CARDEA_OK);
    assert_int_equal(count, 1);
    assert_string_equal(out[0].exchange_data_id, "xd-\"2");
    assert_memory_equal(out[0].content->shared_signature_key,
                        content->shared_signature_key, 128);
    assert_memory_equal(out[0].content->exchange_key, content->exchange_key,
                        32);
    cardea_recovery__exchange_free(out, count);
    cardea_mem__free_secret(json, len + 1);

    out = SENTINEL;
    assert_int_equal(cardea_recovery__exchange_parse(&out, &count, short_key,
                                                     strlen(short_key)),
                     CARDEA_EFORMAT);
    assert_ptr_equal(out, SENTINEL);
    cardea_exchange_data__content_free(content);
}

static void
test_transfer_key__round_trip_and_spki_check(void **state)
{
    uint8_t exchange_key[32] = {1, 2, 3};
    cardea_rsa_key *got = SENTINEL;
    char *blob = NULL, *spki0 = NULL, *spki1 = NULL;

    (void)state;
    assert_int_equal(cardea_rsa__spki_hex(&spki0, rsa[0]), CARDEA_OK);
    assert_int_equal(cardea_rsa__spki_hex(&spki1, rsa[1]), CARDEA_OK);
    assert_int_equal(cardea_transfer_key__encrypt(&blob, exchange_key, 32,
                                                  rsa[0]),
                     CARDEA_OK);
    assert_true(cardea_hex__is_valid(blob, strlen(blob)));
    assert_int_equal(cardea_transfer_key__decrypt(&got, exchange_key, 32, blob,
                                                  spki1),
                     CARDEA_EVERIFY);
    assert_ptr_equal(got, SENTINEL);
    exchange_key[0] = 9;
    assert_int_equal(cardea_transfer_key__decrypt(&got, exchange_key, 32, blob,
                                                  spki0),
                     CARDEA_EVERIFY);
    assert_ptr_equal(got, SENTINEL);
    exchange_key[0] = 1;
    assert_int_equal(cardea_transfer_key__decrypt(&got, exchange_key, 32, blob,
                                                  spki0),
                     CARDEA_OK);
    assert_true(cardea_rsa__is_private(got));
    assert_true(cardea_rsa__same_public(got, rsa[0]));
    cardea_rsa__free(got);
    cardea_free(blob);
    cardea_free(spki0);
    cardea_free(spki1);
}

static void
test_transfer_key__map_identifiers(void **state)
{
    static const char source_spki[] =
        "30820122aaaa0102030405060708090a0b0c0d0e0f10111203010001";
    static const char source_fp[] = "0708090a0b0c0d0e0f10111203010001";
    static const char target_fp[] = "ffeeddccbbaa99887766550203010001";
    json_t *map = json_object();

    (void)state;
    assert_int_equal(cardea_transfer_key__put(map, source_spki, target_fp,
                                              "abcd"),
                     CARDEA_OK);
    assert_non_null(json_object_get(map, source_fp));
    assert_string_equal(cardea_transfer_key__find(map, source_fp, target_fp),
                        "abcd");
    assert_string_equal(cardea_transfer_key__find(map, source_spki,
                                                  target_fp),
                        "abcd");
    assert_null(cardea_transfer_key__find(map, target_fp, target_fp));
    assert_int_equal(cardea_transfer_key__put(map, "short", target_fp, "x"),
                     CARDEA_EINVAL);
    assert_int_equal(json_object_size(map), 1);
    json_decref(map);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery__id_hashes_raw_bytes),
        cmocka_unit_test(test_recovery__key_text_forms),
        cmocka_unit_test(test_recovery__key_round_trip_32),
        cmocka_unit_test(test_recovery__key_parse_rejects),
        cmocka_unit_test(test_recovery__data_round_trip),
        cmocka_unit_test(test_recovery__keypairs_fixture),
        cmocka_unit_test(test_recovery__keypairs_round_trip),
        cmocka_unit_test(test_recovery__keypairs_mismatch_rejected),
        cmocka_unit_test(test_recovery__exchange_fixture),
        cmocka_unit_test(test_recovery__exchange_round_trip),
        cmocka_unit_test(test_transfer_key__round_trip_and_spki_check),
        cmocka_unit_test(test_transfer_key__map_identifiers),
    };

    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
