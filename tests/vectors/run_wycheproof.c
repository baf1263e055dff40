/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run-wycheproof: checks the crypto layer against the Wycheproof test
 * vector files given as arguments. It runs RSAES-OAEP (decryption with
 * the group's PKCS#8 key), AES-CBC-PKCS5, HMACSHA256 and HMACSHA512, and
 * skips the cases of other algorithms or parameters. For each file it
 * prints one line, "FILE: N passed, M failed, K skipped", and the tcId of
 * each failed case on stderr. Exits with 1 when a case failed or a file
 * could not be read, and with 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/base.h"
#include "crypto/crypto.h"

/* What the code under test did with one case. */
typedef enum outcome {
    ACCEPTED,   /* gave the expected output */
    REJECTED,   /* returned an error */
    WRONG,      /* succeeded with the wrong output */
    SKIPPED,    /* parameters Cardea does not support */
    BAD_VECTOR, /* the case itself could not be read */
} outcome;

typedef struct tally {
    const char *file;
    unsigned passed;
    unsigned failed;
    unsigned skipped;
} tally;

typedef struct bytes {
    uint8_t *data;
    size_t len;
} bytes;

/* The string member `name` of `obj`, or NULL; either may be NULL. */
static const char *
str_member(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

/* Decodes the hex string member `name`; false when absent or not hex. */
static bool
get_hex(bytes *out, const json_t *obj, const char *name)
{
    const char *hex = str_member(obj, name);

    out->data = NULL;
    out->len = 0;
    return hex != NULL
           && cardea_hex__decode_alloc(&out->data, &out->len, hex,
                                       strlen(hex))
                  == CARDEA_OK;
}

static void
bytes_free(bytes *b)
{
    cardea_mem__free(b->data);
    b->data = NULL;
}

static bool
same_bytes(const uint8_t *a, size_t a_len, const bytes *b)
{
    return a_len == b->len && (a_len == 0 || memcmp(a, b->data, a_len) == 0);
}

/* Counts one case: valid ones must pass and invalid ones be rejected. */
static void
record(tally *t, const json_t *test, outcome got)
{
    const char *expected = str_member(test, "result");
    bool pass;

    if (got == SKIPPED) {
        t->skipped++;
        return;
    }
    if (expected != NULL && strcmp(expected, "acceptable") == 0) {
        pass = got != BAD_VECTOR;
    } else if (expected != NULL && strcmp(expected, "valid") == 0) {
        pass = got == ACCEPTED;
    } else if (expected != NULL && strcmp(expected, "invalid") == 0) {
        pass = got == REJECTED;
    } else {
        pass = false;
    }

    if (pass) {
        t->passed++;
        return;
    }
    t->failed++;
    fprintf(stderr, "%s: tcId %lld failed (expected %s)\n", t->file,
            (long long)json_integer_value(json_object_get(test, "tcId")),
            expected != NULL ? expected : "a result");
}

static void
skip_group(tally *t, const json_t *group)
{
    t->skipped += (unsigned)json_array_size(json_object_get(group, "tests"));
}

/* ---- RSAES-OAEP --------------------------------------------------------- */

static outcome
oaep_case(const cardea_rsa_key *key, cardea_rsa_oaep hash, const json_t *test)
{
    bytes msg = {NULL, 0}, ct = {NULL, 0}, label = {NULL, 0};
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    outcome got = BAD_VECTOR;

    if (get_hex(&msg, test, "msg") && get_hex(&ct, test, "ct")
        && get_hex(&label, test, "label")) {
        if (cardea_rsa__decrypt_label(&plain, &plain_len, key, hash,
                                      label.data, label.len, ct.data, ct.len)
            != CARDEA_OK) {
            got = REJECTED;
        } else {
            got = same_bytes(plain, plain_len, &msg) ? ACCEPTED : WRONG;
            cardea_mem__free_secret(plain, plain_len);
        }
    }
    bytes_free(&msg);
    bytes_free(&ct);
    bytes_free(&label);
    return got;
}

/* OAEP flavour of a group; false when Cardea does not support it. */
static bool
oaep_hash(cardea_rsa_oaep *out, const json_t *group)
{
    const char *sha = str_member(group, "sha");
    const char *mgf = str_member(group, "mgf");
    const char *mgf_sha = str_member(group, "mgfSha");

    if (sha == NULL || mgf == NULL || mgf_sha == NULL
        || strcmp(mgf, "MGF1") != 0 || strcmp(sha, mgf_sha) != 0) {
        return false;
    }
    if (strcmp(sha, "SHA-1") == 0) {
        *out = CARDEA_RSA_OAEP_SHA1;
    } else if (strcmp(sha, "SHA-256") == 0) {
        *out = CARDEA_RSA_OAEP_SHA256;
    } else {
        return false;
    }
    return true;
}

static void
run_oaep_group(tally *t, const json_t *group)
{
    const json_t *tests = json_object_get(group, "tests");
    cardea_rsa_key *key = NULL;
    cardea_rsa_oaep hash = CARDEA_RSA_OAEP_SHA1;
    bytes der = {NULL, 0};
    cardea_err err = CARDEA_EFORMAT;
    size_t i;
    json_t *test;

    if (!oaep_hash(&hash, group)) {
        skip_group(t, group);
        return;
    }
    if (get_hex(&der, group, "privateKeyPkcs8")) {
        err = cardea_rsa__from_pkcs8(&key, der.data, der.len);
    }
    cardea_mem__free_secret(der.data, der.len);
    if (err == CARDEA_EUNSUPPORTED) {
        skip_group(t, group);
        return;
    }

    json_array_foreach (tests, i, test) {
        record(t, test, key != NULL ? oaep_case(key, hash, test) : BAD_VECTOR);
    }
    cardea_rsa__free(key);
}

/* ---- AES-CBC-PKCS5 ------------------------------------------------------ */

/*
 * Decrypts IV || ct both ways; for a valid case, also encrypts msg with
 * the given IV, which must give IV || ct.
 */
static outcome
aes_check(const bytes *key, const bytes *iv, const bytes *msg,
          const bytes *blob, bool check_encrypt)
{
    uint8_t *plain = cardea_mem__alloc(blob->len);
    uint8_t *alloc_plain = NULL;
    size_t plain_len = 0;
    size_t alloc_len = 0;
    cardea_err err;
    cardea_err alloc_err;
    outcome got;

    if (plain == NULL) {
        return BAD_VECTOR;
    }
    err = cardea_aes__cbc_decrypt(plain, blob->len - iv->len, &plain_len,
                                  key->data, key->len, blob->data, blob->len);
    alloc_err = cardea_aes__cbc_decrypt_alloc(&alloc_plain, &alloc_len,
                                              key->data, key->len, blob->data,
                                              blob->len);
    if (err != alloc_err) {
        got = WRONG;
    } else if (err != CARDEA_OK) {
        got = REJECTED;
    } else if (!same_bytes(plain, plain_len, msg)
               || !same_bytes(alloc_plain, alloc_len, msg)) {
        got = WRONG;
    } else {
        got = ACCEPTED;
    }
    cardea_mem__free(alloc_plain);

    if (got == ACCEPTED && check_encrypt) {
        err = cardea_aes__cbc_encrypt_iv(plain, blob->len, &plain_len,
                                         key->data, key->len, iv->data,
                                         msg->data, msg->len);
        if (err != CARDEA_OK || !same_bytes(plain, plain_len, blob)) {
            got = WRONG;
        }
    }
    cardea_mem__free(plain);
    return got;
}

static outcome
aes_case(const json_t *test)
{
    bytes key = {NULL, 0}, iv = {NULL, 0}, msg = {NULL, 0};
    bytes ct = {NULL, 0}, blob = {NULL, 0};
    const char *expected = str_member(test, "result");
    outcome got = BAD_VECTOR;

    if (get_hex(&key, test, "key") && get_hex(&iv, test, "iv")
        && get_hex(&msg, test, "msg") && get_hex(&ct, test, "ct")
        && iv.len == CARDEA_AES_IV_LEN
        && (blob.data = cardea_mem__alloc(iv.len + ct.len)) != NULL) {
        memcpy(blob.data, iv.data, iv.len);
        memcpy(blob.data + iv.len, ct.data, ct.len);
        blob.len = iv.len + ct.len;
        got = aes_check(&key, &iv, &msg, &blob,
                        expected != NULL && strcmp(expected, "valid") == 0);
    }
    bytes_free(&key);
    bytes_free(&iv);
    bytes_free(&msg);
    bytes_free(&ct);
    bytes_free(&blob);
    return got;
}

static void
run_aes_group(tally *t, const json_t *group)
{
    json_int_t key_bits = json_integer_value(json_object_get(group, "keySize"));
    json_int_t iv_bits = json_integer_value(json_object_get(group, "ivSize"));
    size_t i;
    json_t *test;

    if ((key_bits != 128 && key_bits != 192 && key_bits != 256)
        || iv_bits != 128) {
        skip_group(t, group);
        return;
    }
    json_array_foreach (json_object_get(group, "tests"), i, test) {
        record(t, test, aes_case(test));
    }
}

/* ---- HMAC --------------------------------------------------------------- */

/* The verifier must accept exactly the tags that are a prefix of `full`. */
static bool
verify_agrees(const uint8_t full[CARDEA_SHA512_LEN], const bytes *key,
              const bytes *msg, const bytes *tag)
{
    bool verified = cardea_hmac__sha512_verify(key->data, key->len,
                                               msg->data, msg->len, tag->data,
                                               tag->len)
                    == CARDEA_OK;
    bool prefix = tag->len > 0 && tag->len <= CARDEA_SHA512_LEN
                  && cardea_ct_equal(full, tag->data, tag->len);

    return verified == prefix;
}

/*
 * The tag must be exactly `tag_len` bytes (the group's tagSize), the
 * leading bytes of the HMAC. HMAC-SHA-512 goes through the library's
 * constant-time verifier, which also takes truncated tags.
 */
static outcome
hmac_case(const json_t *test, bool sha512, size_t tag_len)
{
    uint8_t full[CARDEA_SHA512_LEN];
    bytes key = {NULL, 0}, msg = {NULL, 0}, tag = {NULL, 0};
    cardea_err err;
    outcome got = BAD_VECTOR;

    if (get_hex(&key, test, "key") && get_hex(&msg, test, "msg")
        && get_hex(&tag, test, "tag")) {
        err = sha512 ? cardea_hmac__sha512(full, key.data, key.len, msg.data,
                                           msg.len)
                     : cardea_hmac__sha256(full, key.data, key.len, msg.data,
                                           msg.len);
        if (err != CARDEA_OK || tag.len != tag_len
            || !cardea_ct_equal(full, tag.data, tag_len)) {
            got = REJECTED;
        } else {
            got = ACCEPTED;
        }
        if (sha512 && err == CARDEA_OK
            && !verify_agrees(full, &key, &msg, &tag)) {
            got = WRONG;
        }
    }
    bytes_free(&key);
    bytes_free(&msg);
    bytes_free(&tag);
    return got;
}

static void
run_hmac_group(tally *t, const json_t *group, bool sha512)
{
    json_int_t bits = json_integer_value(json_object_get(group, "tagSize"));
    json_int_t max_bits = sha512 ? 512 : 256;
    size_t i;
    json_t *test;

    if (bits <= 0 || bits > max_bits || bits % 8 != 0) {
        skip_group(t, group);
        return;
    }
    json_array_foreach (json_object_get(group, "tests"), i, test) {
        record(t, test, hmac_case(test, sha512, (size_t)bits / 8));
    }
}

/* ---- files -------------------------------------------------------------- */

static void
run_group(tally *t, const char *algorithm, const json_t *group)
{
    if (strcmp(algorithm, "RSAES-OAEP") == 0) {
        run_oaep_group(t, group);
    } else if (strcmp(algorithm, "AES-CBC-PKCS5") == 0) {
        run_aes_group(t, group);
    } else if (strcmp(algorithm, "HMACSHA256") == 0) {
        run_hmac_group(t, group, false);
    } else if (strcmp(algorithm, "HMACSHA512") == 0) {
        run_hmac_group(t, group, true);
    } else {
        skip_group(t, group);
    }
}

/* Runs one file and prints its line; false when anything failed. */
static bool
run_file(const char *path)
{
    tally t = {path, 0, 0, 0};
    json_error_t error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    const char *algorithm = str_member(root, "algorithm");
    const json_t *groups = json_object_get(root, "testGroups");
    size_t i;
    json_t *group;

    if (algorithm == NULL || !json_is_array(groups)) {
        printf("%s: unreadable: %s\n", path,
               root == NULL ? error.text : "not a Wycheproof test file");
        json_decref(root);
        return false;
    }
    json_array_foreach (groups, i, group) {
        run_group(&t, algorithm, group);
    }
    json_decref(root);

    printf("%s: %u passed, %u failed, %u skipped\n", path, t.passed,
           t.failed, t.skipped);
    return t.failed == 0;
}

int
main(int argc, char **argv)
{
    bool ok = true;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.json...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        ok &= run_file(argv[i]);
    }
    cardea_rsa__cache_clear();
    return ok ? 0 : 1;
}
