/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/format/exchange_data.c: the exact shared-signature text in
 * both forms, creation, decryption and verification with two recipients,
 * signatures recomputed independently from the primitives, tampering,
 * exchange data signed with RSA-PSS (as by @icure/cardinal-sdk 1.0.0-RC.7),
 * adding recipient keys, and encrypted exchange-data ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/exchange_data.h"
#include "format/keys.h"

#define SENTINEL ((void *)0x5a5a)

/* Three RSA keys shared by all tests: generating them is slow. */
static cardea_rsa_key *rsa[3];
static char *spki[3];
static cardea_owner_key owner[3];

static int
setup_keys(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        if (cardea_rsa__generate(&rsa[i], 2048) != CARDEA_OK ||
            cardea_rsa__spki_hex(&spki[i], rsa[i]) != CARDEA_OK) {
            return -1;
        }
        owner[i].key = rsa[i];
        owner[i].spki_hex = spki[i];
        owner[i].oaep = i == 1 ? CARDEA_RSA_OAEP_SHA1 : CARDEA_RSA_OAEP_SHA256;
    }
    return 0;
}

static int
teardown_keys(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        cardea_rsa__free(rsa[i]);
        cardea_free(spki[i]);
    }
    return 0;
}

static void
fixed_content(cardea_exchange_content *c)
{
    size_t i;

    memset(c, 0, sizeof *c);
    for (i = 0; i < CARDEA_EXCHANGE_KEY_LEN; i++) {
        c->exchange_key[i] = (uint8_t)i;
    }
    c->exchange_key_len = CARDEA_EXCHANGE_KEY_LEN;
    for (i = 0; i < CARDEA_AC_SECRET_LEN; i++) {
        c->access_control_secret[i] = (uint8_t)(0xf0 + i);
    }
    for (i = 0; i < CARDEA_SHARED_SIG_KEY_LEN; i++) {
        c->shared_signature_key[i] = (uint8_t)(3 * i);
    }
    c->shared_signature_key_len = CARDEA_SHARED_SIG_KEY_LEN;
}

static void
fp_v2_of(char out[CARDEA_FP_V2_LEN + 1], size_t index)
{
    assert_int_equal(cardea_fp__v2(out, spki[index], strlen(spki[index])),
                     CARDEA_OK);
}

/*
 * Recomputes, from the signature input text and HMAC-SHA512, the base64
 * shared signature that hcp-1 writes for hcp-1 and hcp-2 in `form`.
 */
static void
shared_signature_of(char encoded[100], const cardea_exchange_content *content,
                    cardea_shared_sig_form form)
{
    char fps[2][CARDEA_FP_V2_LEN + 1];
    const char *fp_list[2] = {fps[0], fps[1]};
    uint8_t tag[CARDEA_SHA512_LEN];
    char *s = NULL;
    size_t s_len = 0;

    fp_v2_of(fps[0], 0);
    fp_v2_of(fps[1], 1);
    assert_int_equal(cardea_exchange_data__signature_input(
                         &s, &s_len, "hcp-1", "hcp-2", content, fp_list, 2,
                         form),
                     CARDEA_OK);
    assert_int_equal(cardea_hmac__sha512(tag, content->shared_signature_key,
                                         128, s, s_len),
                     CARDEA_OK);
    assert_int_equal(cardea_base64__encode(encoded, 100, tag, 64), CARDEA_OK);
    cardea_mem__free_secret(s, s_len + 1);
}

static void
test_exchange_data__signature_input_kt(void **state)
{
    static const char expected[] =
        "[[\"delegator\",\"hcp-1\"],[\"delegate\",\"pat-\"1\"],"
        "[\"exchangeKey\",\"000102030405060708090a0b0c0d0e0f"
        "101112131415161718191a1b1c1d1e1f\"],"
        "[\"accessControlSecret\",\"AccessControlSecret(s="
        "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff)\"],"
        "[\"publicKeysFingerprints\",[\"0a0b\",\"bbbb\",\"c0ffee\"]]";
    const char *fps[] = {"c0ffee", "bbbb", "0a0b", "bbbb"};
    cardea_exchange_content content;
    char *s = NULL;
    size_t len = 0;

    (void)state;
    fixed_content(&content);
    assert_int_equal(cardea_exchange_data__signature_input(
                         &s, &len, "hcp-1", "pat-\"1", &content, fps, 4,
                         CARDEA_SHARED_SIG_KT),
                     CARDEA_OK);
    assert_string_equal(s, expected);
    assert_int_equal(len, strlen(expected));
    cardea_mem__free_secret(s, len + 1);
}

static void
test_exchange_data__signature_input_ts8(void **state)
{
    static const char expected[] =
        "[[\"delegator\",\"hcp-1\"],[\"delegate\",\"pat-\\\"1\\n\"],"
        "[\"exchangeKey\",\"000102030405060708090a0b0c0d0e0f"
        "101112131415161718191a1b1c1d1e1f\"],"
        "[\"accessControlSecret\",\"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\"],"
        "[\"publicKeysFingerprints\",[\"aa\"]]]";
    const char *fps[] = {"aa"};
    cardea_exchange_content content;
    char *s = NULL;
    size_t len = 0;

    (void)state;
    fixed_content(&content);
    assert_int_equal(cardea_exchange_data__signature_input(
                         &s, &len, "hcp-1", "pat-\"1\n", &content, fps, 1,
                         CARDEA_SHARED_SIG_TS8),
                     CARDEA_OK);
    assert_string_equal(s, expected);
    cardea_mem__free_secret(s, len + 1);
}

static void
test_exchange_data__signature_input_empty_list(void **state)
{
    cardea_exchange_content content;
    char *s = NULL;
    size_t len = 0;
    const char *tail;

    (void)state;
    fixed_content(&content);
    assert_int_equal(cardea_exchange_data__signature_input(
                         &s, &len, "a", "b", &content, NULL, 0,
                         CARDEA_SHARED_SIG_KT),
                     CARDEA_OK);
    tail = "[\"publicKeysFingerprints\",[]]";
    assert_true(len > strlen(tail));
    assert_string_equal(s + len - strlen(tail), tail);
    cardea_mem__free_secret(s, len + 1);
}

/* Creates exchange data from owner[0] (delegator) to owner[1]. */
static json_t *
create_two_recipients(const cardea_exchange_content *content)
{
    json_t *xd = NULL;

    assert_int_equal(cardea_exchange_data__create(&xd, NULL, "hcp-1",
                                                  "hcp-2", content, owner, 2,
                                                  owner, 1),
                     CARDEA_OK);
    return xd;
}

static void
assert_same_content(const cardea_exchange_content *a,
                    const cardea_exchange_content *b)
{
    assert_int_equal(a->exchange_key_len, b->exchange_key_len);
    assert_memory_equal(a->exchange_key, b->exchange_key, a->exchange_key_len);
    assert_memory_equal(a->access_control_secret, b->access_control_secret,
                        CARDEA_AC_SECRET_LEN);
    assert_int_equal(a->shared_signature_key_len,
                     b->shared_signature_key_len);
    assert_memory_equal(a->shared_signature_key, b->shared_signature_key,
                        a->shared_signature_key_len);
}

static void
test_exchange_data__round_trip_two_recipients(void **state)
{
    cardea_exchange_content *content = NULL, *got = NULL;
    char fp0[CARDEA_FP_V2_LEN + 1], fp1[CARDEA_FP_V2_LEN + 1];
    json_t *xd;
    bool verified = true;
    size_t i;

    (void)state;
    assert_int_equal(cardea_exchange_data__content_generate(&content),
                     CARDEA_OK);
    xd = create_two_recipients(content);
    fp_v2_of(fp0, 0);
    fp_v2_of(fp1, 1);
    assert_true(cardea_uuid__is_valid(cardea_json__get_str(xd, "id")));
    assert_string_equal(cardea_json__get_str(xd, "delegator"), "hcp-1");
    assert_int_equal(json_object_size(json_object_get(xd, "exchangeKey")), 2);
    assert_non_null(json_object_get(json_object_get(xd, "exchangeKey"), fp1));

    for (i = 0; i < 2; i++) {
        assert_int_equal(cardea_exchange_data__decrypt(&got, xd, &owner[i], 1),
                         CARDEA_OK);
        assert_same_content(content, got);
        cardea_exchange_data__content_free(got);
    }
    assert_int_equal(cardea_exchange_data__verify(&verified, xd, content,
                                                  "hcp-1", owner, 1),
                     CARDEA_OK);
    assert_true(verified);
    /* The delegate never counts its exchange data as verified. */
    assert_int_equal(cardea_exchange_data__verify(&verified, xd, content,
                                                  "hcp-2", &owner[1], 1),
                     CARDEA_OK);
    assert_false(verified);
    json_decref(xd);
    cardea_exchange_data__content_free(content);
}

/* Recomputes both signatures from the primitives and the KT text. */
static void
test_exchange_data__signatures_match_primitives(void **state)
{
    cardea_exchange_content content;
    char fp[CARDEA_FP_V2_LEN + 1];
    uint8_t tag[CARDEA_SHA512_LEN], hmac_key[CARDEA_SHA512_LEN];
    uint8_t digest[CARDEA_SHA256_LEN];
    uint8_t *der = NULL;
    size_t der_len = 0;
    char encoded[100];
    json_t *xd;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    fp_v2_of(fp, 0);

    shared_signature_of(encoded, &content, CARDEA_SHARED_SIG_KT);
    assert_string_equal(cardea_json__get_str(xd, "sharedSignature"), encoded);

    assert_int_equal(cardea_rsa__pkcs8_der(&der, &der_len, rsa[0]),
                     CARDEA_OK);
    cardea_hash__sha512(hmac_key, der, der_len);
    cardea_hash__sha256(digest, content.shared_signature_key, 128);
    assert_int_equal(cardea_hmac__sha512(tag, hmac_key, 64, digest, 32),
                     CARDEA_OK);
    assert_int_equal(cardea_base64__encode(encoded, sizeof encoded, tag, 64),
                     CARDEA_OK);
    assert_string_equal(cardea_json__get_str(json_object_get(
                            xd, "delegatorSignature"), fp),
                        encoded);
    assert_int_equal(json_object_size(json_object_get(xd,
                                                      "delegatorSignature")),
                     1);
    cardea_mem__free_secret(der, der_len);
    json_decref(xd);
}

static void
test_exchange_data__tampered_shared_signature(void **state)
{
    cardea_exchange_content content;
    char encoded[100];
    uint8_t tag[CARDEA_SHA512_LEN];
    bool verified = true;
    json_t *xd;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    memset(tag, 0x11, sizeof tag);
    assert_int_equal(cardea_base64__encode(encoded, sizeof encoded, tag, 64),
                     CARDEA_OK);
    assert_int_equal(cardea_json__set_str(xd, "sharedSignature", encoded),
                     CARDEA_OK);
    assert_int_equal(cardea_exchange_data__verify(&verified, xd, &content,
                                                  "hcp-1", owner, 1),
                     CARDEA_OK);
    assert_false(verified);

    /* A changed delegate id breaks the shared signature too. */
    json_decref(xd);
    xd = create_two_recipients(&content);
    assert_int_equal(cardea_json__set_str(xd, "delegate", "hcp-3"), CARDEA_OK);
    verified = true;
    assert_int_equal(cardea_exchange_data__verify(&verified, xd, &content,
                                                  "hcp-1", owner, 1),
                     CARDEA_OK);
    assert_false(verified);
    json_decref(xd);
}

static void
test_exchange_data__shared_signature_checks_secrets(void **state)
{
    cardea_exchange_content *content = NULL;
    bool ok = false;
    json_t *xd;

    (void)state;
    assert_int_equal(cardea_exchange_data__content_generate(&content),
                     CARDEA_OK);
    xd = create_two_recipients(content);
    assert_int_equal(cardea_exchange_data__check_shared_signature(&ok, xd,
                                                                  content),
                     CARDEA_OK);
    assert_true(ok);
    /* Secrets that differ from those signed must not pass. */
    content->exchange_key[0] ^= 1;
    assert_int_equal(cardea_exchange_data__check_shared_signature(&ok, xd,
                                                                  content),
                     CARDEA_OK);
    assert_false(ok);
    content->exchange_key[0] ^= 1;
    content->access_control_secret[15] ^= 0x80;
    ok = true;
    assert_int_equal(cardea_exchange_data__check_shared_signature(&ok, xd,
                                                                  content),
                     CARDEA_OK);
    assert_false(ok);
    assert_int_equal(cardea_exchange_data__check_shared_signature(NULL, xd,
                                                                  content),
                     CARDEA_EINVAL);
    cardea_exchange_data__content_free(content);
    json_decref(xd);
}

static void
test_exchange_data__tampered_delegator_signature(void **state)
{
    cardea_exchange_content content;
    char fp0[CARDEA_FP_V2_LEN + 1];
    bool verified = true;
    json_t *xd;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    fp_v2_of(fp0, 0);
    assert_int_equal(cardea_json__set_str(json_object_get(xd,
                                                          "delegatorSignature"),
                                          fp0, "AAAA"),
                     CARDEA_OK);
    assert_int_equal(cardea_exchange_data__verify(&verified, xd, &content,
                                                  "hcp-1", owner, 1),
                     CARDEA_OK);
    assert_false(verified);
    json_decref(xd);
}

/* Data whose delegatorSignature is RSA-PSS by a key only an RC.7 client has. */
static void
test_exchange_data__pss_signed_not_verified(void **state)
{
    cardea_exchange_content *content = NULL, *got = NULL;
    char fp2[CARDEA_FP_V2_LEN + 1];
    uint8_t digest[CARDEA_SHA256_LEN], *sig = NULL;
    size_t sig_len = 0;
    char *encoded = NULL;
    json_t *xd, *signatures;
    bool verified = true;

    (void)state;
    assert_int_equal(cardea_exchange_data__content_generate(&content),
                     CARDEA_OK);
    assert_int_equal(cardea_exchange_data__create(&xd, NULL, "hcp-1",
                                                  "hcp-2", content, owner, 2,
                                                  NULL, 0),
                     CARDEA_OK);
    cardea_hash__sha256(digest, content->shared_signature_key, 128);
    assert_int_equal(cardea_rsa__pss_sign(&sig, &sig_len, rsa[2], digest, 32),
                     CARDEA_OK);
    assert_int_equal(cardea_base64__encode_alloc(&encoded, sig, sig_len),
                     CARDEA_OK);
    fp_v2_of(fp2, 2);
    signatures = json_object_get(xd, "delegatorSignature");
    assert_int_equal(cardea_json__set_str(signatures, fp2, encoded),
                     CARDEA_OK);

    assert_int_equal(cardea_exchange_data__verify(&verified, xd, content,
                                                  "hcp-1", owner, 1),
                     CARDEA_OK);
    assert_false(verified);
    assert_int_equal(cardea_exchange_data__decrypt(&got, xd, owner, 1),
                     CARDEA_OK);
    assert_same_content(content, got);
    cardea_exchange_data__content_free(got);
    cardea_free(sig);
    cardea_free(encoded);
    json_decref(xd);
    cardea_exchange_data__content_free(content);
}

/* Exchange data signed the way the TypeScript v8 SDK signs verifies. */
static void
test_exchange_data__ts8_form_verifies(void **state)
{
    cardea_exchange_content content;
    char encoded[100];
    bool verified = false;
    json_t *xd;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    shared_signature_of(encoded, &content, CARDEA_SHARED_SIG_TS8);
    assert_int_equal(cardea_json__set_str(xd, "sharedSignature", encoded),
                     CARDEA_OK);
    assert_int_equal(cardea_exchange_data__verify(&verified, xd, &content,
                                                  "hcp-1", owner, 1),
                     CARDEA_OK);
    assert_true(verified);
    json_decref(xd);
}

static void
test_exchange_data__update_adds_key(void **state)
{
    cardea_exchange_content *content = NULL, *got = NULL;
    const char *old_signature;
    json_t *xd, *updated = NULL;
    bool verified = false;
    size_t i;

    (void)state;
    assert_int_equal(cardea_exchange_data__content_generate(&content),
                     CARDEA_OK);
    xd = create_two_recipients(content);
    assert_int_equal(cardea_exchange_data__decrypt(&got, xd, &owner[2], 1),
                     CARDEA_ENOKEY);
    assert_int_equal(cardea_exchange_data__update(&updated, xd, content,
                                                  &owner[2], 1, "hcp-1",
                                                  owner, 1),
                     CARDEA_OK);
    old_signature = cardea_json__get_str(xd, "sharedSignature");
    assert_string_not_equal(cardea_json__get_str(updated, "sharedSignature"),
                            old_signature);
    for (i = 0; i < 3; i++) {
        assert_int_equal(json_object_size(json_object_get(
                             updated, i == 0   ? "exchangeKey"
                                      : i == 1 ? "accessControlSecret"
                                               : "sharedSignatureKey")),
                         3);
    }
    assert_int_equal(cardea_exchange_data__decrypt(&got, updated, &owner[2],
                                                   1),
                     CARDEA_OK);
    assert_same_content(content, got);
    assert_int_equal(cardea_exchange_data__verify(&verified, updated, content,
                                                  "hcp-1", owner, 1),
                     CARDEA_OK);
    assert_true(verified);
    /* The input is left unchanged. */
    assert_int_equal(json_object_size(json_object_get(xd, "exchangeKey")), 2);
    cardea_exchange_data__content_free(got);
    json_decref(updated);
    json_decref(xd);
    cardea_exchange_data__content_free(content);
}

/* The delegate adds a key to data it cannot verify: the signature stays. */
static void
test_exchange_data__update_keeps_bad_signature(void **state)
{
    cardea_exchange_content content;
    json_t *xd, *updated = NULL;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    assert_int_equal(cardea_json__set_str(xd, "sharedSignature", "AAAA"),
                     CARDEA_OK);
    assert_int_equal(cardea_exchange_data__update(&updated, xd, &content,
                                                  &owner[2], 1, NULL, NULL,
                                                  0),
                     CARDEA_OK);
    assert_string_equal(cardea_json__get_str(updated, "sharedSignature"),
                        "AAAA");
    assert_int_equal(json_object_size(json_object_get(updated,
                                                      "delegatorSignature")),
                     1);
    json_decref(updated);
    json_decref(xd);
}

static void
test_exchange_data__decrypt_unknown_key(void **state)
{
    cardea_exchange_content content;
    cardea_exchange_content *got = SENTINEL;
    json_t *xd;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    assert_int_equal(cardea_exchange_data__decrypt(&got, xd, &owner[2], 1),
                     CARDEA_ENOKEY);
    assert_ptr_equal(got, SENTINEL);
    json_decref(xd);
}

/* An entry under our fingerprint that was encrypted for another key. */
static void
test_exchange_data__decrypt_wrong_entry(void **state)
{
    cardea_exchange_content content;
    cardea_exchange_content *got = SENTINEL;
    cardea_owner_key impostor;
    json_t *xd;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    impostor = owner[2];
    impostor.spki_hex = spki[0];
    assert_int_equal(cardea_exchange_data__decrypt(&got, xd, &impostor, 1),
                     CARDEA_EVERIFY);
    assert_ptr_equal(got, SENTINEL);
    json_decref(xd);
}

static void
test_exchange_data__decrypt_missing_map(void **state)
{
    cardea_exchange_content content;
    cardea_exchange_content *got = SENTINEL;
    json_t *xd;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    assert_int_equal(json_object_del(xd, "sharedSignatureKey"), 0);
    assert_int_equal(cardea_exchange_data__decrypt(&got, xd, owner, 1),
                     CARDEA_EFORMAT);
    assert_ptr_equal(got, SENTINEL);
    json_decref(xd);
}

/* Each secret alone: one RSA private-key operation, nothing else set. */
static void
test_exchange_data__decrypt_secret_one_at_a_time(void **state)
{
    cardea_exchange_content content;
    cardea_exchange_content *got = NULL;
    uint8_t zero[CARDEA_SHARED_SIG_KEY_LEN] = {0};
    cardea_owner_key keys[2];
    uint64_t before;
    json_t *xd;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    assert_int_equal(cardea_exchange_data__content_empty(&got), CARDEA_OK);
    assert_int_equal(got->exchange_key_len, 0);
    assert_int_equal(got->shared_signature_key_len, 0);

    before = cardea_rsa__private_op_count();
    assert_int_equal(cardea_exchange_data__decrypt_secret(
                         got, xd, CARDEA_EXCHANGE_SECRET_AC, &owner[1], 1),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count() - before, 1);
    assert_memory_equal(got->access_control_secret,
                        content.access_control_secret, CARDEA_AC_SECRET_LEN);
    assert_int_equal(got->exchange_key_len, 0);
    assert_memory_equal(got->exchange_key, zero, CARDEA_EXCHANGE_KEY_LEN);
    assert_int_equal(got->shared_signature_key_len, 0);
    assert_memory_equal(got->shared_signature_key, zero, sizeof zero);

    assert_int_equal(cardea_exchange_data__decrypt_secret(
                         got, xd, CARDEA_EXCHANGE_SECRET_KEY, &owner[1], 1),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count() - before, 2);
    assert_int_equal(got->exchange_key_len, CARDEA_EXCHANGE_KEY_LEN);
    assert_memory_equal(got->exchange_key, content.exchange_key,
                        CARDEA_EXCHANGE_KEY_LEN);
    assert_int_equal(got->shared_signature_key_len, 0);

    /* The first key has no entry; the second one opens it. */
    keys[0] = owner[2];
    keys[1] = owner[1];
    assert_int_equal(cardea_exchange_data__decrypt_secret(
                         got, xd, CARDEA_EXCHANGE_SECRET_SIGNATURE, keys, 2),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count() - before, 3);
    assert_same_content(&content, got);
    cardea_exchange_data__content_free(got);
    json_decref(xd);
}

static void
test_exchange_data__decrypt_secret_failures(void **state)
{
    cardea_exchange_content content;
    cardea_exchange_content got;
    cardea_exchange_content before;
    cardea_owner_key impostor;
    json_t *xd;

    (void)state;
    fixed_content(&content);
    xd = create_two_recipients(&content);
    memset(&got, 0x77, sizeof got);
    before = got;
    impostor = owner[2];
    impostor.spki_hex = spki[0];

    assert_int_equal(cardea_exchange_data__decrypt_secret(
                         &got, xd, CARDEA_EXCHANGE_SECRET_KEY, &owner[2], 1),
                     CARDEA_ENOKEY);
    assert_memory_equal(&got, &before, sizeof got);
    assert_int_equal(cardea_exchange_data__decrypt_secret(
                         &got, xd, CARDEA_EXCHANGE_SECRET_KEY, &impostor, 1),
                     CARDEA_EVERIFY);
    assert_memory_equal(&got, &before, sizeof got);
    assert_int_equal(cardea_exchange_data__decrypt_secret(
                         &got, xd, (cardea_exchange_secret)3, owner, 1),
                     CARDEA_EINVAL);
    assert_memory_equal(&got, &before, sizeof got);
    assert_int_equal(json_object_del(xd, "accessControlSecret"), 0);
    assert_int_equal(cardea_exchange_data__decrypt_secret(
                         &got, xd, CARDEA_EXCHANGE_SECRET_AC, owner, 1),
                     CARDEA_EFORMAT);
    assert_memory_equal(&got, &before, sizeof got);
    /* The other maps still open without the missing one. */
    assert_int_equal(cardea_exchange_data__decrypt_secret(
                         &got, xd, CARDEA_EXCHANGE_SECRET_KEY, owner, 1),
                     CARDEA_OK);
    assert_memory_equal(got.exchange_key, content.exchange_key,
                        CARDEA_EXCHANGE_KEY_LEN);
    json_decref(xd);
}

static void
test_exchange_data__encrypted_id_round_trip(void **state)
{
    json_t *map = NULL;
    char *id = SENTINEL;

    (void)state;
    assert_int_equal(cardea_exchange_data__encrypt_id(&map, "xd-123", owner,
                                                      2),
                     CARDEA_OK);
    assert_int_equal(json_object_size(map), 2);
    assert_int_equal(cardea_exchange_data__decrypt_id(&id, map, &owner[1], 1),
                     CARDEA_OK);
    assert_string_equal(id, "xd-123");
    cardea_free(id);
    id = SENTINEL;
    assert_int_equal(cardea_exchange_data__decrypt_id(&id, map, &owner[2], 1),
                     CARDEA_ENOKEY);
    assert_ptr_equal(id, SENTINEL);
    json_decref(map);
}

static void
test_exchange_data__content_from_raw_lengths(void **state)
{
    uint8_t bytes[200] = {0};
    cardea_exchange_content *c = SENTINEL;

    (void)state;
    assert_int_equal(cardea_exchange_data__content_from_raw(
                         &c, bytes, 24, bytes, 16, bytes, 128),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_exchange_data__content_from_raw(
                         &c, bytes, 32, bytes, 15, bytes, 128),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_exchange_data__content_from_raw(
                         &c, bytes, 32, bytes, 16, bytes, 63),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_exchange_data__content_from_raw(
                         &c, bytes, 32, bytes, 16, bytes, 129),
                     CARDEA_EINVAL);
    assert_ptr_equal(c, SENTINEL);
    assert_int_equal(cardea_exchange_data__content_from_raw(
                         &c, bytes, 16, bytes, 16, bytes, 64),
                     CARDEA_OK);
    assert_int_equal(c->exchange_key_len, 16);
    assert_int_equal(c->shared_signature_key_len, 64);
    cardea_exchange_data__content_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange_data__signature_input_kt),
        cmocka_unit_test(test_exchange_data__signature_input_ts8),
        cmocka_unit_test(test_exchange_data__signature_input_empty_list),
        cmocka_unit_test(test_exchange_data__round_trip_two_recipients),
        cmocka_unit_test(test_exchange_data__signatures_match_primitives),
        cmocka_unit_test(test_exchange_data__tampered_shared_signature),
        cmocka_unit_test(test_exchange_data__shared_signature_checks_secrets),
        cmocka_unit_test(test_exchange_data__tampered_delegator_signature),
        cmocka_unit_test(test_exchange_data__pss_signed_not_verified),
        cmocka_unit_test(test_exchange_data__ts8_form_verifies),
        cmocka_unit_test(test_exchange_data__update_adds_key),
        cmocka_unit_test(test_exchange_data__update_keeps_bad_signature),
        cmocka_unit_test(test_exchange_data__decrypt_unknown_key),
        cmocka_unit_test(test_exchange_data__decrypt_wrong_entry),
        cmocka_unit_test(test_exchange_data__decrypt_missing_map),
        cmocka_unit_test(
            test_exchange_data__decrypt_secret_one_at_a_time),
        cmocka_unit_test(test_exchange_data__decrypt_secret_failures),
        cmocka_unit_test(test_exchange_data__encrypted_id_round_trip),
        cmocka_unit_test(test_exchange_data__content_from_raw_lengths),
    };

    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
