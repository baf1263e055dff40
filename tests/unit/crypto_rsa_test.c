/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of RSA in src/crypto: key generation, SPKI and PKCS#8 encodings
 * (byte-identical to WebCrypto, checked against a key that Node.js
 * WebCrypto generated and exported), OAEP with SHA-1 and SHA-256, PSS,
 * the parsed-key cache and the private-operation counter, and refusals
 * that leave the outputs untouched.
 *
 * Key generation is slow, so the group setup makes the two 2048-bit keys
 * that most tests share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>

#include "base/base.h"
#include "crypto/crypto.h"

#define LEN_SENTINEL ((size_t)0x5eed)
static char sentinel;
#define BYTES_SENTINEL ((uint8_t *)(void *)&sentinel)
#define CHARS_SENTINEL (&sentinel)
#define KEY_SENTINEL ((cardea_rsa_key *)(void *)&sentinel)

static const char spki_2048_prefix[] =
    "30820122300d06092a864886f70d01010105000382010f003082010a0282010100";
/* PrivateKeyInfo after its two length bytes: version 0, rsaEncryption. */
static const char pkcs8_after_len[] = "020100300d06092a864886f70d0101010500";

/*
 * A throwaway key pair made for this test by Node.js 20 WebCrypto
 * (generateKey RSA-OAEP 2048, exportKey "pkcs8" and "spki"), with the
 * message "Cardea interop" encrypted with OAEP-SHA-256 and OAEP-SHA-1 and
 * signed with RSA-PSS-SHA-256, salt 32. It protects nothing.
 */
static const char webcrypto_pkcs8[] =
    "308204bc020100300d06092a864886f70d0101010500048204a6308204a20201"
    "000282010100eaf3b0493810968df44f390be5319bc9a78e6db342ed1f1bb880"
    "6b86fe5158fffe54dc1f034103a4788a0eb92596cfb9446eb8af782bd68fa12c"
    "1f90360316645c1673742c7e7b08e57096e02f6435ba04c3272e39edfdea67e1"
    "81cccaf6aa2a16fc288e1744ed82ab48c2f0f951dea91e98932c966b80982126"
    "f35e174dc19418e315ba7e961741d458f14bdf522886b88ff756a97880f70cda"
    "9461854c596fbad31f175d71701a50471b92dfe6022643f599798da003979e51"
    "ec13c933d6e1116fdf9009a680de0fdc51bd92114ac17735d25d0d2e14bbefde"
    "f42f97d525dfb2db9dce6c7905c0dc60b7f4fbba09a3fe4e43d6e43eeb211974"
    "e20d30f193e70203010001028201002770cffb82935a4aab23ef6e1d43e62484"
    "61a6edac42f4f168d7f9f4f7d53d0d002b4ba6531c035a05381bbf9ddd42b295"
    "97c69e021ccdd05f9c7211f9d72bd79e13d0bec447592d05a31058c2ebde0f03"
    "84a51b9ff2e1288bd6b1bce8a75eaa6120644872048aa060537f1207b06421dc"
    "b67d22437ff95ed055e30dbcf8bb11687e93d2a51e4f01136153de0224a9d4c0"
    "a31de9f8a0412bbd6ecb857008509d15d3526b2f7bde0b08ddbe859f58263c25"
    "443fd5e6c83dbdd776fe8202e88952cfbcb2250a0453e56c3e2db156074db3db"
    "78bac39b9ca8c03e689a330b01d6a988012fc47027e2a9cb6bfde7ca9bdbbef3"
    "132289a99cb4ce93d0deb5b61f07dd02818100fa589b3757ba265b2f2637d2be"
    "8ff3d3b3acbd09bd407f65c7225c873fe781f3dc5c221faf64e906622bce73bf"
    "651c03d6a87e45fa1e116f7fd2be885e4b8acc0f081e27ba6846d538395f0fcb"
    "f54ec29a2513b455dc127dcfd71555a1c5389f33632d956bd9041329513d28a1"
    "18d30a1e7f9e48e6189ff99d1f9293e075603b02818100f0421460872f3e406c"
    "03f5656527cd23dd93a5092f2302946f4143e997c323613d08d01197c166b94c"
    "1bf19b046631ff7cd903173831ce16443e6b5c2bb4c8de5c04242b6bc64f1f60"
    "2b138bf5430679895ce094054d52b902073a63f4dade44f638b8520ad239f99a"
    "4e7f66276003efa36bb6ac93bdafea9c12fae02285ac45028180672f062ab559"
    "e05d4cfdaf9c8936c404c9d5b4c4c2e046a228859d2591cd55deb140b83fdf06"
    "f494d0f9c54a27e500bb044ac661094a435d758de34249bb5125f23c2251b59f"
    "2d32cccdb8c4c60801c26bce4464dbcead4075ddecc932b81b3262f7c9de0069"
    "9e2857ab484deab854a3a3166ea31553a8fc352ac23b791467e902818001f7f8"
    "a4c5d6cc42c8dfcb6df6433a3a1601b4b37b9064e0047d5b6a19953ebff8390f"
    "4365a3ef0c8ba41af9b332872c59c08976f23dee3b5e79c8756be242571817ec"
    "97f27d207ed851e20a1e8b5b0d39e3e9ef2c8ff2a29372adb6cdf5d1266d820f"
    "7894a01e5b7e3930700cd88b8fb61e16d4192dcfb8336930670fc15aa5028180"
    "7a96db04e60c5e62f8f8d63a9b6a7560dcd0703220270ff5bd6dbb4f2d769f30"
    "5201fd1a209d8787fcf5ef4ae55840e234d3d490f9afe1a2785d6ac352a7b2c0"
    "eca36fc1e1cf90c865e2e93ae869f7cd47821992cbaba28671d5d21c5feba261"
    "9945a9af606e1e1756f864643816eae0626e7291ac69da5e1359f180624cadd8";

static const char webcrypto_spki[] =
    "30820122300d06092a864886f70d01010105000382010f003082010a02820101"
    "00eaf3b0493810968df44f390be5319bc9a78e6db342ed1f1bb8806b86fe5158"
    "fffe54dc1f034103a4788a0eb92596cfb9446eb8af782bd68fa12c1f90360316"
    "645c1673742c7e7b08e57096e02f6435ba04c3272e39edfdea67e181cccaf6aa"
    "2a16fc288e1744ed82ab48c2f0f951dea91e98932c966b80982126f35e174dc1"
    "9418e315ba7e961741d458f14bdf522886b88ff756a97880f70cda9461854c59"
    "6fbad31f175d71701a50471b92dfe6022643f599798da003979e51ec13c933d6"
    "e1116fdf9009a680de0fdc51bd92114ac17735d25d0d2e14bbefdef42f97d525"
    "dfb2db9dce6c7905c0dc60b7f4fbba09a3fe4e43d6e43eeb211974e20d30f193"
    "e70203010001";

static const char webcrypto_ct_sha256[] =
    "b74684cd53e71a611544768202162281f3b9ca67bdfcec84e22b887584c0b183"
    "14b494948783d387d3fd83d0fb6134c5367b3ae3aab8dc1914b2bef29922e628"
    "7d8cf526b2d9513096ee4142df1dc3e8cb2e50454413d9b2c02985f1307245fc"
    "7002be9f02ebe891831fc4e303d153e17c0f7ba9932c5308884b247e636ae275"
    "b85e26a09a67eb37e598ed762db6f671769a7a4e74f8739663be160e52ab9bea"
    "c4fa276088fcb8ac9527897dcc0d230c5accd18931ba32f9465a5b5b3c45ae13"
    "3656a717e558ccce88706f1dc27ff95ad4a50eb58aa4615354a0fc74064201fd"
    "323a37731b30fc72841882077a6e87e643c422b6db135da7afb5540cb8af6880";

static const char webcrypto_ct_sha1[] =
    "b59378dfb4a4b8f6e094aa1c7e06999dd872ee277f91bba9403d7c1ba2c462c2"
    "2e887f7b25e617cd0fc818f2ac3b293431f1862ace468ead674a70289885d717"
    "968848075531dfe3e8213d184673dcf57dfc9554100eac323cba85d2e123ea8e"
    "983f6be2bf7164589a55db996d0805cb9612995264e2e8ebc9458532367a6b5b"
    "b262040855229d5662b0fdc3fcfba946aa8dffd7fe6377f87f792dc0fe47f50c"
    "1da84e4d21ac19d3de35ec42826d46bb6c7b2f4a5b3670c8021811a46100cfd3"
    "4fb5a7a636bfc8c286de02810c050f8db60edf8e48881027a841d55c7d9f790e"
    "3f14a0f907b453a223e0c31a29f3661fda39ef22b83cfac7086768d224953603";

static const char webcrypto_pss_sig[] =
    "d3c0e11c784827954b218f91fea03e7f5336aa692ce568db1c342f358e0bd2f9"
    "6600bcaf60260d721d1e72bf386f5a2b7dfd07e99adbdc1007c19bfe36577ea9"
    "24767ec1b15f3923021639b2aabc570a6ff5527c463d317af745236f40a185b0"
    "299acd190aa0b7484b5b2143e1f4bae2cc2ff9706167e18591d1f5a02f3f38b8"
    "d8d0481fbce871d3353f6643ee2f8ff9da1a0150e130c9d9a18749a6ec2b886f"
    "86baec77ab2535529dc3a8a498b411366d76d7f6a81494f1f1ca5fdfe33040b2"
    "9186a8292f96f2fe384b63e7a0a75c39d4b1d3501decee16b7b79351e43bc601"
    "b5f2995d120fb225b56f1012fb4e7dce8b83ea3040d8347b5b1bacb88093a258";
static const char webcrypto_msg[] = "Cardea interop";

static cardea_rsa_key *key_a; /* 2048-bit private keys from the setup */
static cardea_rsa_key *key_b;

static int
setup_keys(void **state)
{
    (void)state;
    if (cardea_rsa__generate(&key_a, 2048) != CARDEA_OK
        || cardea_rsa__generate(&key_b, 2048) != CARDEA_OK) {
        return -1;
    }
    return 0;
}

static int
teardown_keys(void **state)
{
    (void)state;
    cardea_rsa__free(key_a);
    cardea_rsa__free(key_b);
    cardea_rsa__cache_clear();
    return 0;
}

static uint8_t *
unhex_alloc(const char *hex, size_t *len)
{
    uint8_t *out = NULL;

    assert_int_equal(cardea_hex__decode_alloc(&out, len, hex, strlen(hex)),
                     CARDEA_OK);
    return out;
}

static char *
hex_alloc(const uint8_t *bytes, size_t len)
{
    char *out = NULL;

    assert_int_equal(cardea_hex__encode_alloc(&out, bytes, len), CARDEA_OK);
    return out;
}

/* The public half of `key` as a key parsed from its SPKI. */
static cardea_rsa_key *
public_of(const cardea_rsa_key *key)
{
    cardea_rsa_key *pub = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;

    assert_int_equal(cardea_rsa__spki_der(&der, &der_len, key), CARDEA_OK);
    assert_int_equal(cardea_rsa__from_spki(&pub, der, der_len), CARDEA_OK);
    cardea_mem__free(der);
    return pub;
}

/* DER of a key OpenSSL makes directly: SPKI, or PKCS#8 when `private`. */
static uint8_t *
openssl_der(EVP_PKEY *pkey, bool private, size_t *len)
{
    uint8_t *der = NULL;
    int n;

    if (private) {
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);

        assert_non_null(p8);
        n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else {
        n = i2d_PUBKEY(pkey, &der);
    }
    assert_true(n > 0);
    *len = (size_t)n;
    return der;
}

/* Both importers must fail with `want` and leave `out` alone. */
static void
assert_import_fails(const uint8_t *der, size_t der_len, bool private,
                    cardea_err want)
{
    cardea_rsa_key *key = KEY_SENTINEL;
    cardea_err err = private ? cardea_rsa__from_pkcs8(&key, der, der_len)
                             : cardea_rsa__from_spki(&key, der, der_len);

    assert_int_equal(err, want);
    assert_ptr_equal(key, KEY_SENTINEL);
}

static void
assert_decrypt_fails(const cardea_rsa_key *key, cardea_rsa_oaep hash,
                     const uint8_t *ct, size_t ct_len, cardea_err want)
{
    uint8_t *out = BYTES_SENTINEL;
    size_t out_len = LEN_SENTINEL;

    assert_int_equal(cardea_rsa__decrypt(&out, &out_len, key, hash, ct,
                                         ct_len),
                     want);
    assert_ptr_equal(out, BYTES_SENTINEL);
    assert_int_equal(out_len, LEN_SENTINEL);
}

/* ---- generation and encodings ------------------------------------------- */

static void
test_rsa__generate_rejects_other_sizes(void **state)
{
    static const unsigned sizes[] = {0, 1024, 2047, 3072, 8192};
    cardea_rsa_key *key = KEY_SENTINEL;

    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        assert_int_equal(cardea_rsa__generate(&key, sizes[i]), CARDEA_EINVAL);
        assert_ptr_equal(key, KEY_SENTINEL);
    }
    assert_int_equal(cardea_rsa__generate(NULL, 2048), CARDEA_EINVAL);
}

static void
test_rsa__generates_private_2048(void **state)
{
    (void)state;
    assert_true(cardea_rsa__is_private(key_a));
    assert_int_equal(cardea_rsa__bits(key_a), 2048);
    assert_false(cardea_rsa__same_public(key_a, key_b));
    assert_true(cardea_rsa__same_public(key_a, key_a));
}

static void
test_rsa__generates_4096(void **state)
{
    cardea_rsa_key *key = NULL;
    char *hex = NULL;

    (void)state;
    assert_int_equal(cardea_rsa__generate(&key, 4096), CARDEA_OK);
    assert_int_equal(cardea_rsa__bits(key), 4096);
    assert_int_equal(cardea_rsa__spki_hex(&hex, key), CARDEA_OK);
    assert_int_equal(strlen(hex), 2 * 550);
    cardea_free(hex);
    cardea_rsa__free(key);
}

static void
test_rsa__spki_hex_layout(void **state)
{
    char *hex = NULL;

    (void)state;
    assert_int_equal(cardea_rsa__spki_hex(&hex, key_a), CARDEA_OK);
    assert_int_equal(strlen(hex), 588);
    assert_memory_equal(hex, spki_2048_prefix, strlen(spki_2048_prefix));
    assert_string_equal(hex + 578, "0203010001");
    assert_true(cardea_hex__is_valid(hex, 588));
    for (size_t i = 0; i < 588; i++) {
        assert_false(hex[i] >= 'A' && hex[i] <= 'F');
    }
    cardea_free(hex);
}

static void
test_rsa__spki_round_trip(void **state)
{
    cardea_rsa_key *pub = NULL;
    cardea_rsa_key *from_hex = NULL;
    char *hex = NULL;

    (void)state;
    pub = public_of(key_a);
    assert_false(cardea_rsa__is_private(pub));
    assert_int_equal(cardea_rsa__bits(pub), 2048);
    assert_true(cardea_rsa__same_public(pub, key_a));
    assert_false(cardea_rsa__same_public(pub, key_b));

    assert_int_equal(cardea_rsa__spki_hex(&hex, pub), CARDEA_OK);
    assert_int_equal(cardea_rsa__from_spki_hex(&from_hex, hex, strlen(hex)),
                     CARDEA_OK);
    assert_ptr_equal(from_hex, pub); /* same DER, same cached object */
    cardea_free(hex);
    cardea_rsa__free(from_hex);
    cardea_rsa__free(pub);
}

static void
test_rsa__pkcs8_export_import_export_identical(void **state)
{
    uint8_t *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    cardea_rsa_key *imported = NULL;
    char *hex;

    (void)state;
    assert_int_equal(cardea_rsa__pkcs8_der(&first, &first_len, key_a),
                     CARDEA_OK);
    hex = hex_alloc(first, first_len);
    assert_memory_equal(hex, "308204", 6);
    assert_memory_equal(hex + 8, pkcs8_after_len, strlen(pkcs8_after_len));
    cardea_free(hex);

    assert_int_equal(cardea_rsa__from_pkcs8(&imported, first, first_len),
                     CARDEA_OK);
    assert_true(cardea_rsa__is_private(imported));
    assert_true(cardea_rsa__same_public(imported, key_a));
    assert_int_equal(cardea_rsa__pkcs8_der(&second, &second_len, imported),
                     CARDEA_OK);
    assert_int_equal(second_len, first_len);
    assert_memory_equal(second, first, first_len);

    cardea_mem__free_secret(first, first_len);
    cardea_mem__free_secret(second, second_len);
    cardea_rsa__free(imported);
}

static void
test_rsa__webcrypto_encodings_byte_identical(void **state)
{
    size_t der_len = 0, out_len = 0;
    uint8_t *der = unhex_alloc(webcrypto_pkcs8, &der_len);
    uint8_t *out = NULL;
    cardea_rsa_key *key = NULL;
    char *spki = NULL;

    (void)state;
    assert_int_equal(cardea_rsa__from_pkcs8(&key, der, der_len), CARDEA_OK);
    assert_int_equal(cardea_rsa__pkcs8_der(&out, &out_len, key), CARDEA_OK);
    assert_int_equal(out_len, der_len);
    assert_memory_equal(out, der, der_len);
    assert_int_equal(cardea_rsa__spki_hex(&spki, key), CARDEA_OK);
    assert_string_equal(spki, webcrypto_spki);

    cardea_free(spki);
    cardea_mem__free_secret(out, out_len);
    cardea_mem__free_secret(der, der_len);
    cardea_rsa__free(key);
}

/* ---- OAEP and PSS ------------------------------------------------------- */

static void
test_rsa__decrypts_webcrypto_ciphertexts(void **state)
{
    size_t der_len = 0, ct_len = 0, out_len = 0;
    uint8_t *der = unhex_alloc(webcrypto_pkcs8, &der_len);
    uint8_t *ct, *out = NULL;
    cardea_rsa_key *key = NULL;

    (void)state;
    assert_int_equal(cardea_rsa__from_pkcs8(&key, der, der_len), CARDEA_OK);
    ct = unhex_alloc(webcrypto_ct_sha256, &ct_len);
    assert_int_equal(cardea_rsa__decrypt(&out, &out_len, key,
                                         CARDEA_RSA_OAEP_SHA256, ct, ct_len),
                     CARDEA_OK);
    assert_int_equal(out_len, strlen(webcrypto_msg));
    assert_memory_equal(out, webcrypto_msg, out_len);
    assert_decrypt_fails(key, CARDEA_RSA_OAEP_SHA1, ct, ct_len,
                         CARDEA_EVERIFY);
    cardea_free(out);
    cardea_free(ct);

    ct = unhex_alloc(webcrypto_ct_sha1, &ct_len);
    assert_int_equal(cardea_rsa__decrypt(&out, &out_len, key,
                                         CARDEA_RSA_OAEP_SHA1, ct, ct_len),
                     CARDEA_OK);
    assert_int_equal(out_len, strlen(webcrypto_msg));
    assert_memory_equal(out, webcrypto_msg, out_len);
    cardea_free(out);
    cardea_free(ct);
    cardea_mem__free_secret(der, der_len);
    cardea_rsa__free(key);
}

static void
test_rsa__verifies_webcrypto_pss(void **state)
{
    size_t sig_len = 0;
    uint8_t *sig = unhex_alloc(webcrypto_pss_sig, &sig_len);
    cardea_rsa_key *pub = NULL;

    (void)state;
    assert_int_equal(cardea_rsa__from_spki_hex(&pub, webcrypto_spki,
                                               strlen(webcrypto_spki)),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__pss_verify(pub,
                                            (const uint8_t *)webcrypto_msg,
                                            strlen(webcrypto_msg), sig,
                                            sig_len),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__pss_verify(pub,
                                            (const uint8_t *)webcrypto_msg,
                                            strlen(webcrypto_msg) - 1, sig,
                                            sig_len),
                     CARDEA_EVERIFY);
    cardea_free(sig);
    cardea_rsa__free(pub);
}

/* Round trips of the empty, a short and the longest message. */
static void
oaep_round_trip(cardea_rsa_oaep hash, size_t hash_len)
{
    size_t longest = 256 - 2 * hash_len - 2;
    size_t lens[] = {0, 32, longest};
    uint8_t msg[256];
    uint8_t *ct = BYTES_SENTINEL, *out = NULL;
    size_t ct_len = LEN_SENTINEL, out_len = 0;
    cardea_rsa_key *pub = public_of(key_a);

    for (size_t i = 0; i < 3; i++) {
        cardea_random__bytes(msg, lens[i]);
        assert_int_equal(cardea_rsa__encrypt(&ct, &ct_len, pub, hash, msg,
                                             lens[i]),
                         CARDEA_OK);
        assert_int_equal(ct_len, 256);
        assert_int_equal(cardea_rsa__decrypt(&out, &out_len, key_a, hash, ct,
                                             ct_len),
                         CARDEA_OK);
        assert_int_equal(out_len, lens[i]);
        assert_memory_equal(out, msg, lens[i]);
        cardea_free(ct);
        cardea_mem__free_secret(out, out_len);
    }

    ct = BYTES_SENTINEL;
    ct_len = LEN_SENTINEL;
    assert_int_equal(cardea_rsa__encrypt(&ct, &ct_len, pub, hash, msg,
                                         longest + 1),
                     CARDEA_ETOOBIG);
    assert_ptr_equal(ct, BYTES_SENTINEL);
    assert_int_equal(ct_len, LEN_SENTINEL);
    cardea_rsa__free(pub);
}

static void
test_rsa__oaep_round_trip_sha1(void **state)
{
    (void)state;
    oaep_round_trip(CARDEA_RSA_OAEP_SHA1, 20);
}

static void
test_rsa__oaep_round_trip_sha256(void **state)
{
    (void)state;
    oaep_round_trip(CARDEA_RSA_OAEP_SHA256, 32);
}

static void
test_rsa__pss_sign_verify(void **state)
{
    static const uint8_t msg[] = "sharedSignatureKey digest";
    uint8_t *sig = NULL, *again = NULL;
    size_t sig_len = 0, again_len = 0;
    cardea_rsa_key *pub = public_of(key_a);

    (void)state;
    assert_int_equal(cardea_rsa__pss_sign(&sig, &sig_len, key_a, msg,
                                          sizeof msg),
                     CARDEA_OK);
    assert_int_equal(sig_len, 256);
    assert_int_equal(cardea_rsa__pss_verify(pub, msg, sizeof msg, sig,
                                            sig_len),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__pss_verify(key_a, msg, sizeof msg, sig,
                                            sig_len),
                     CARDEA_OK);
    /* The salt is random, so two signatures differ. */
    assert_int_equal(cardea_rsa__pss_sign(&again, &again_len, key_a, msg,
                                          sizeof msg),
                     CARDEA_OK);
    assert_memory_not_equal(sig, again, sig_len);

    assert_int_equal(cardea_rsa__pss_verify(pub, msg, sizeof msg - 1, sig,
                                            sig_len),
                     CARDEA_EVERIFY);
    assert_int_equal(cardea_rsa__pss_verify(key_b, msg, sizeof msg, sig,
                                            sig_len),
                     CARDEA_EVERIFY);
    assert_int_equal(cardea_rsa__pss_verify(pub, msg, sizeof msg, sig,
                                            sig_len - 1),
                     CARDEA_EVERIFY);
    sig[100] ^= 0x08;
    assert_int_equal(cardea_rsa__pss_verify(pub, msg, sizeof msg, sig,
                                            sig_len),
                     CARDEA_EVERIFY);
    cardea_free(sig);
    cardea_free(again);
    cardea_rsa__free(pub);
}

/* ---- cache and counter -------------------------------------------------- */

static void
test_rsa__cache_returns_same_object(void **state)
{
    uint8_t *spki = NULL, *pkcs8 = NULL;
    size_t spki_len = 0, pkcs8_len = 0;
    cardea_rsa_key *p1 = NULL, *p2 = NULL, *s1 = NULL, *s2 = NULL;

    (void)state;
    assert_int_equal(cardea_rsa__spki_der(&spki, &spki_len, key_b), CARDEA_OK);
    assert_int_equal(cardea_rsa__pkcs8_der(&pkcs8, &pkcs8_len, key_b),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__from_spki(&p1, spki, spki_len), CARDEA_OK);
    assert_int_equal(cardea_rsa__from_spki(&p2, spki, spki_len), CARDEA_OK);
    assert_ptr_equal(p1, p2);
    assert_int_equal(cardea_rsa__from_pkcs8(&s1, pkcs8, pkcs8_len),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__from_pkcs8(&s2, pkcs8, pkcs8_len),
                     CARDEA_OK);
    assert_ptr_equal(s1, s2);
    assert_ptr_not_equal(p1, s1);
    assert_true(cardea_rsa__is_private(s1));
    assert_false(cardea_rsa__is_private(p1));

    /* A cached SPKI is no answer to a PKCS#8 lookup, nor the reverse. */
    assert_import_fails(spki, spki_len, true, CARDEA_EFORMAT);
    assert_import_fails(pkcs8, pkcs8_len, false, CARDEA_EFORMAT);

    cardea_rsa__free(p1);
    cardea_rsa__free(p2);
    cardea_rsa__free(s1);
    cardea_rsa__free(s2);
    cardea_mem__free(spki);
    cardea_mem__free_secret(pkcs8, pkcs8_len);
}

static void
test_rsa__cached_key_outlives_clear(void **state)
{
    uint8_t *spki = NULL, *ct = NULL, *out = NULL;
    size_t spki_len = 0, ct_len = 0, out_len = 0;
    cardea_rsa_key *held = NULL, *fresh = NULL;

    (void)state;
    assert_int_equal(cardea_rsa__spki_der(&spki, &spki_len, key_a), CARDEA_OK);
    assert_int_equal(cardea_rsa__from_spki(&held, spki, spki_len), CARDEA_OK);
    cardea_rsa__cache_clear();

    assert_int_equal(cardea_rsa__encrypt(&ct, &ct_len, held,
                                         CARDEA_RSA_OAEP_SHA256,
                                         (const uint8_t *)"k", 1),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__decrypt(&out, &out_len, key_a,
                                         CARDEA_RSA_OAEP_SHA256, ct, ct_len),
                     CARDEA_OK);
    assert_int_equal(out_len, 1);
    assert_int_equal(cardea_rsa__from_spki(&fresh, spki, spki_len), CARDEA_OK);
    assert_ptr_not_equal(fresh, held);
    assert_true(cardea_rsa__same_public(fresh, held));

    cardea_rsa__free(held);
    cardea_rsa__free(fresh);
    cardea_free(ct);
    cardea_free(out);
    cardea_free(spki);
}

/*
 * Fills the cache with more keys than it holds: SPKIs of key_a with one
 * modulus bit changed are distinct keys as far as parsing goes. The first
 * key is evicted, yet the reference held on it stays usable.
 */
static void
test_rsa__cache_evicts_least_recent(void **state)
{
    uint8_t *spki = NULL, *ct = NULL;
    size_t spki_len = 0, ct_len = 0;
    cardea_rsa_key *first = NULL, *other = NULL, *again = NULL;

    (void)state;
    assert_int_equal(cardea_rsa__spki_der(&spki, &spki_len, key_a), CARDEA_OK);
    assert_int_equal(cardea_rsa__from_spki(&first, spki, spki_len), CARDEA_OK);
    for (size_t i = 0; i < 300; i++) {
        size_t at = 40 + i / 8; /* inside the modulus */

        spki[at] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(cardea_rsa__from_spki(&other, spki, spki_len),
                         CARDEA_OK);
        cardea_rsa__free(other);
        spki[at] ^= (uint8_t)(1u << (i % 8));
    }

    assert_int_equal(cardea_rsa__from_spki(&again, spki, spki_len), CARDEA_OK);
    assert_ptr_not_equal(again, first);
    assert_int_equal(cardea_rsa__encrypt(&ct, &ct_len, first,
                                         CARDEA_RSA_OAEP_SHA1,
                                         (const uint8_t *)"k", 1),
                     CARDEA_OK);
    cardea_free(ct);
    cardea_rsa__free(first);
    cardea_rsa__free(again);
    cardea_free(spki);
}

typedef struct lookup_job {
    const uint8_t *der;
    size_t der_len;
    int failures;
} lookup_job;

static void *
lookup_many(void *arg)
{
    lookup_job *job = arg;

    for (int i = 0; i < 200; i++) {
        cardea_rsa_key *key = NULL;

        if (cardea_rsa__from_spki(&key, job->der, job->der_len) != CARDEA_OK
            || cardea_rsa__bits(key) != 2048) {
            job->failures++;
        }
        if (i % 50 == 0) {
            cardea_rsa__cache_clear();
        }
        cardea_rsa__free(key);
    }
    return NULL;
}

static void
test_rsa__cache_is_thread_safe(void **state)
{
    pthread_t threads[4];
    lookup_job jobs[4];
    uint8_t *spki[2] = {NULL, NULL};
    size_t spki_len[2] = {0, 0};

    (void)state;
    assert_int_equal(cardea_rsa__spki_der(&spki[0], &spki_len[0], key_a),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__spki_der(&spki[1], &spki_len[1], key_b),
                     CARDEA_OK);
    for (int i = 0; i < 4; i++) {
        jobs[i] = (lookup_job){spki[i % 2], spki_len[i % 2], 0};
        assert_int_equal(pthread_create(&threads[i], NULL, lookup_many,
                                        &jobs[i]),
                         0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
    cardea_free(spki[0]);
    cardea_free(spki[1]);
}

static void
test_rsa__private_op_counter_counts_each_operation(void **state)
{
    uint8_t *ct = NULL, *out = NULL, *sig = NULL;
    size_t ct_len = 0, out_len = 0, sig_len = 0;
    uint64_t before;

    (void)state;
    before = cardea_rsa__private_op_count();
    assert_int_equal(cardea_rsa__encrypt(&ct, &ct_len, key_a,
                                         CARDEA_RSA_OAEP_SHA256,
                                         (const uint8_t *)"k", 1),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count(), before);

    assert_int_equal(cardea_rsa__decrypt(&out, &out_len, key_a,
                                         CARDEA_RSA_OAEP_SHA256, ct, ct_len),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count(), before + 1);
    assert_int_equal(cardea_rsa__pss_sign(&sig, &sig_len, key_a,
                                          (const uint8_t *)"m", 1),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count(), before + 2);
    assert_int_equal(cardea_rsa__pss_verify(key_a, (const uint8_t *)"m", 1,
                                            sig, sig_len),
                     CARDEA_OK);
    assert_int_equal(cardea_rsa__private_op_count(), before + 2);

    cardea_free(ct);
    cardea_free(out);
    cardea_free(sig);
}

/* ---- refusals ----------------------------------------------------------- */

static void
test_rsa__decrypt_rejects_bad_ciphertexts(void **state)
{
    static const size_t flips[] = {0, 1, 128, 254, 255};
    uint8_t *ct = NULL;
    size_t ct_len = 0;

    (void)state;
    assert_int_equal(cardea_rsa__encrypt(&ct, &ct_len, key_a,
                                         CARDEA_RSA_OAEP_SHA256,
                                         (const uint8_t *)"secret", 6),
                     CARDEA_OK);
    assert_decrypt_fails(key_b, CARDEA_RSA_OAEP_SHA256, ct, ct_len,
                         CARDEA_EVERIFY);
    assert_decrypt_fails(key_a, CARDEA_RSA_OAEP_SHA1, ct, ct_len,
                         CARDEA_EVERIFY);
    assert_decrypt_fails(key_a, CARDEA_RSA_OAEP_SHA256, ct, ct_len - 1,
                         CARDEA_EVERIFY);
    assert_decrypt_fails(key_a, CARDEA_RSA_OAEP_SHA256, ct, 0,
                         CARDEA_EVERIFY);
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        ct[flips[i]] ^= 0x01;
        assert_decrypt_fails(key_a, CARDEA_RSA_OAEP_SHA256, ct, ct_len,
                             CARDEA_EVERIFY);
        ct[flips[i]] ^= 0x01;
    }
    cardea_free(ct);
}

static void
test_rsa__decrypt_rejects_oversized_ciphertext(void **state)
{
    uint8_t big[513];

    (void)state;
    memset(big, 0x01, sizeof big);
    assert_decrypt_fails(key_a, CARDEA_RSA_OAEP_SHA256, big, 257,
                         CARDEA_EVERIFY);
    assert_decrypt_fails(key_a, CARDEA_RSA_OAEP_SHA256, big, sizeof big,
                         CARDEA_EVERIFY);
    /* A full-length value above the modulus. */
    memset(big, 0xff, 256);
    assert_decrypt_fails(key_a, CARDEA_RSA_OAEP_SHA256, big, 256,
                         CARDEA_EVERIFY);
}

static void
test_rsa__public_key_cannot_decrypt_or_sign(void **state)
{
    cardea_rsa_key *pub = public_of(key_a);
    uint8_t *ct = NULL, *out = BYTES_SENTINEL;
    size_t ct_len = 0, out_len = LEN_SENTINEL;
    uint64_t before = cardea_rsa__private_op_count();

    (void)state;
    assert_int_equal(cardea_rsa__encrypt(&ct, &ct_len, pub,
                                         CARDEA_RSA_OAEP_SHA256,
                                         (const uint8_t *)"k", 1),
                     CARDEA_OK);
    assert_decrypt_fails(pub, CARDEA_RSA_OAEP_SHA256, ct, ct_len,
                         CARDEA_ENOKEY);
    assert_int_equal(cardea_rsa__pss_sign(&out, &out_len, pub,
                                          (const uint8_t *)"m", 1),
                     CARDEA_ENOKEY);
    assert_int_equal(cardea_rsa__pkcs8_der(&out, &out_len, pub),
                     CARDEA_ENOKEY);
    assert_ptr_equal(out, BYTES_SENTINEL);
    assert_int_equal(out_len, LEN_SENTINEL);
    assert_int_equal(cardea_rsa__private_op_count(), before);
    cardea_free(ct);
    cardea_rsa__free(pub);
}

static void
test_rsa__rejects_unknown_oaep_hash(void **state)
{
    uint8_t ct[256] = {0};
    uint8_t *out = BYTES_SENTINEL;
    size_t out_len = LEN_SENTINEL;

    (void)state;
    assert_decrypt_fails(key_a, (cardea_rsa_oaep)0, ct, sizeof ct,
                         CARDEA_EINVAL);
    assert_decrypt_fails(key_a, (cardea_rsa_oaep)3, ct, sizeof ct,
                         CARDEA_EINVAL);
    assert_int_equal(cardea_rsa__encrypt(&out, &out_len, key_a,
                                         (cardea_rsa_oaep)3, ct, 1),
                     CARDEA_EINVAL);
    assert_ptr_equal(out, BYTES_SENTINEL);
    assert_int_equal(out_len, LEN_SENTINEL);
}

static void
test_rsa__rejects_malformed_der(void **state)
{
    uint8_t *spki = NULL, *pkcs8 = NULL;
    size_t spki_len = 0, pkcs8_len = 0;
    uint8_t junk[CARDEA_RSA_MAX_DER_LEN + 1];

    (void)state;
    assert_int_equal(cardea_rsa__spki_der(&spki, &spki_len, key_a), CARDEA_OK);
    assert_int_equal(cardea_rsa__pkcs8_der(&pkcs8, &pkcs8_len, key_a),
                     CARDEA_OK);
    memset(junk, 0x30, sizeof junk);

    assert_import_fails(junk, 64, false, CARDEA_EFORMAT);
    assert_import_fails(junk, 64, true, CARDEA_EFORMAT);
    assert_import_fails(spki, spki_len - 1, false, CARDEA_EFORMAT);
    assert_import_fails(pkcs8, pkcs8_len - 1, true, CARDEA_EFORMAT);
    assert_import_fails(spki + 1, spki_len - 1, false, CARDEA_EFORMAT);
    assert_import_fails(junk, 0, false, CARDEA_EINVAL);
    assert_import_fails(NULL, 10, true, CARDEA_EINVAL);
    assert_import_fails(junk, sizeof junk, false, CARDEA_ETOOBIG);
    assert_import_fails(junk, sizeof junk, true, CARDEA_ETOOBIG);

    /* One byte after a valid structure is refused too. */
    memcpy(junk, spki, spki_len);
    junk[spki_len] = 0;
    assert_import_fails(junk, spki_len + 1, false, CARDEA_EFORMAT);
    memcpy(junk, pkcs8, pkcs8_len);
    junk[pkcs8_len] = 0;
    assert_import_fails(junk, pkcs8_len + 1, true, CARDEA_EFORMAT);

    cardea_free(spki);
    cardea_mem__free_secret(pkcs8, pkcs8_len);
    cardea_wipe(junk, sizeof junk);
}

static void
test_rsa__rejects_malformed_spki_hex(void **state)
{
    static char long_hex[2 * CARDEA_RSA_MAX_DER_LEN + 2];
    cardea_rsa_key *key = KEY_SENTINEL;
    char *hex = CHARS_SENTINEL;

    (void)state;
    assert_int_equal(cardea_rsa__from_spki_hex(&key, "30zz", 4),
                     CARDEA_EFORMAT);
    assert_int_equal(cardea_rsa__from_spki_hex(&key, "308", 3),
                     CARDEA_EFORMAT);
    assert_int_equal(cardea_rsa__from_spki_hex(&key, "3000", 4),
                     CARDEA_EFORMAT);
    memset(long_hex, '0', sizeof long_hex);
    assert_int_equal(cardea_rsa__from_spki_hex(&key, long_hex,
                                               sizeof long_hex),
                     CARDEA_ETOOBIG);
    assert_ptr_equal(key, KEY_SENTINEL);
    assert_int_equal(cardea_rsa__spki_hex(&hex, NULL), CARDEA_EINVAL);
    assert_ptr_equal(hex, CHARS_SENTINEL);
}

static void
test_rsa__rejects_non_rsa_keys(void **state)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    size_t len = 0;
    uint8_t *der;

    (void)state;
    assert_non_null(ec);
    der = openssl_der(ec, false, &len);
    assert_import_fails(der, len, false, CARDEA_EUNSUPPORTED);
    OPENSSL_free(der);
    der = openssl_der(ec, true, &len);
    assert_import_fails(der, len, true, CARDEA_EUNSUPPORTED);
    OPENSSL_clear_free(der, len);
    EVP_PKEY_free(ec);
}

/* Imports take 1024 bits and up (old data); 512 bits is refused. */
static void
test_rsa__import_size_limits(void **state)
{
    EVP_PKEY *small = EVP_RSA_gen(512);
    EVP_PKEY *old = EVP_RSA_gen(1024);
    cardea_rsa_key *key = NULL;
    size_t len = 0;
    uint8_t *der;

    (void)state;
    assert_non_null(small);
    assert_non_null(old);
    der = openssl_der(small, false, &len);
    assert_import_fails(der, len, false, CARDEA_EUNSUPPORTED);
    OPENSSL_free(der);

    der = openssl_der(old, true, &len);
    assert_int_equal(cardea_rsa__from_pkcs8(&key, der, len), CARDEA_OK);
    assert_int_equal(cardea_rsa__bits(key), 1024);
    OPENSSL_clear_free(der, len);
    cardea_rsa__free(key);
    EVP_PKEY_free(small);
    EVP_PKEY_free(old);
}

static void
test_rsa__null_handles(void **state)
{
    (void)state;
    cardea_rsa__free(NULL);
    assert_null(cardea_rsa__ref(NULL));
    assert_int_equal(cardea_rsa__bits(NULL), 0);
    assert_false(cardea_rsa__is_private(NULL));
    assert_false(cardea_rsa__same_public(NULL, key_a));
    assert_ptr_equal(cardea_rsa__ref(key_a), key_a);
    cardea_rsa__free(key_a); /* drops the reference just taken */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa__generate_rejects_other_sizes),
        cmocka_unit_test(test_rsa__generates_private_2048),
        cmocka_unit_test(test_rsa__generates_4096),
        cmocka_unit_test(test_rsa__spki_hex_layout),
        cmocka_unit_test(test_rsa__spki_round_trip),
        cmocka_unit_test(test_rsa__pkcs8_export_import_export_identical),
        cmocka_unit_test(test_rsa__webcrypto_encodings_byte_identical),
        cmocka_unit_test(test_rsa__decrypts_webcrypto_ciphertexts),
        cmocka_unit_test(test_rsa__verifies_webcrypto_pss),
        cmocka_unit_test(test_rsa__oaep_round_trip_sha1),
        cmocka_unit_test(test_rsa__oaep_round_trip_sha256),
        cmocka_unit_test(test_rsa__pss_sign_verify),
        cmocka_unit_test(test_rsa__cache_returns_same_object),
        cmocka_unit_test(test_rsa__cached_key_outlives_clear),
        cmocka_unit_test(test_rsa__cache_evicts_least_recent),
        cmocka_unit_test(test_rsa__cache_is_thread_safe),
        cmocka_unit_test(test_rsa__private_op_counter_counts_each_operation),
        cmocka_unit_test(test_rsa__decrypt_rejects_bad_ciphertexts),
        cmocka_unit_test(test_rsa__decrypt_rejects_oversized_ciphertext),
        cmocka_unit_test(test_rsa__public_key_cannot_decrypt_or_sign),
        cmocka_unit_test(test_rsa__rejects_unknown_oaep_hash),
        cmocka_unit_test(test_rsa__rejects_malformed_der),
        cmocka_unit_test(test_rsa__rejects_malformed_spki_hex),
        cmocka_unit_test(test_rsa__rejects_non_rsa_keys),
        cmocka_unit_test(test_rsa__import_size_limits),
        cmocka_unit_test(test_rsa__null_handles),
    };

    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
