/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/format/encrypted_self.c and manifest.c: entity key parsing,
 * the manifest grammar and its rejections, the default manifests, round
 * trips for every manifest form, the Contact and Service rules, key
 * selection on decryption, and the legacy fixture of the official SDK.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/encrypted_self.h"

static cardea_entity_key
key_from(const char *hex)
{
    cardea_entity_key key;

    assert_int_equal(cardea_entity_key__parse(&key, hex, strlen(hex)),
                     CARDEA_OK);
    return key;
}

static json_t *
parse(const char *text)
{
    json_t *value = NULL;

    assert_int_equal(cardea_json__parse(&value, text, strlen(text), NULL, 0),
                     CARDEA_OK);
    return value;
}

static cardea_manifest *
manifest_of(const char *const *entries, size_t len)
{
    cardea_manifest *m = NULL;

    assert_int_equal(cardea_manifest__parse(&m, entries, len), CARDEA_OK);
    return m;
}

/*
 * Asserts that `decrypted` contains exactly the members of `original`, each
 * equal, plus the encryptedSelf members that decryption keeps, at every
 * level.
 */
static void
assert_same_fields(const json_t *original, const json_t *decrypted)
{
    const char *name;
    json_t *value;
    size_t i;

    if (json_is_object(original)) {
        assert_true(json_is_object(decrypted));
        json_object_foreach((json_t *)original, name, value) {
            json_t *other = json_object_get(decrypted, name);

            assert_non_null(other);
            assert_same_fields(value, other);
        }
        json_object_foreach((json_t *)decrypted, name, value) {
            assert_true(json_object_get(original, name) != NULL ||
                        strcmp(name, "encryptedSelf") == 0);
        }
        return;
    }
    if (json_is_array(original)) {
        assert_true(json_is_array(decrypted));
        assert_int_equal(json_array_size(original),
                         json_array_size(decrypted));
        json_array_foreach(original, i, value) {
            assert_same_fields(value, json_array_get(decrypted, i));
        }
        return;
    }
    assert_true(json_equal(original, decrypted));
}

/* Encrypts `text` with `entries`, checks it decrypts back, returns it. */
static json_t *
round_trip(const char *text, const char *const *entries, size_t len,
           const cardea_entity_key *key)
{
    cardea_manifest *m = manifest_of(entries, len);
    json_t *plain = parse(text);
    json_t *encrypted = NULL;
    json_t *decrypted = NULL;

    assert_int_equal(cardea_encrypted_self__encrypt(&encrypted, plain, m, key),
                     CARDEA_OK);
    assert_int_equal(cardea_encrypted_self__decrypt(&decrypted, encrypted, key,
                                                    1),
                     CARDEA_OK);
    assert_same_fields(plain, decrypted);
    json_decref(decrypted);
    json_decref(plain);
    cardea_manifest__free(m);
    return encrypted;
}

/* Decrypts a single encryptedSelf string to its compact JSON text. */
static char *
open_self(const json_t *obj, const cardea_entity_key *key)
{
    const char *b64 = json_string_value(json_object_get(obj, "encryptedSelf"));
    uint8_t *blob = NULL;
    uint8_t *plain = NULL;
    size_t blob_len = 0;
    size_t plain_len = 0;

    assert_non_null(b64);
    assert_int_equal(cardea_base64__decode_alloc(&blob, &blob_len, b64,
                                                 strlen(b64)),
                     CARDEA_OK);
    assert_int_equal(cardea_aes__cbc_decrypt_alloc(&plain, &plain_len,
                                                   key->bytes, key->len, blob,
                                                   blob_len),
                     CARDEA_OK);
    cardea_mem__free(blob);
    return (char *)plain;
}

static const char key256[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char key_other[] =
    "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/* ---- entity keys -------------------------------------------------------- */

static void
test_encrypted_self__key_forms(void **state)
{
    cardea_entity_key key;

    (void)state;
    key = key_from(key256);
    assert_int_equal(key.len, 32);
    assert_int_equal(key.bytes[31], 0x1f);
    key = key_from("11D52463EDC7BABF6F552B0363AA00C8");
    assert_int_equal(key.len, 16);
    assert_int_equal(key.bytes[0], 0x11);
    key = key_from("6a1c2b4e-9d0f-4e8a-b1c2-3d4e5f607182");
    assert_int_equal(key.len, 16);
    assert_int_equal(key.bytes[0], 0x6a);
    assert_int_equal(key.bytes[15], 0x82);
}

static void
test_encrypted_self__key_rejects_bad_forms(void **state)
{
    static const char *const bad[] = {
        "",
        "0001020304050607",                          /* 8 bytes */
        "000102030405060708090a0b0c0d0e0f10",        /* 17 bytes */
        "000102030405060708090a0b0c0d0e0g",          /* not hex */
        "6a1c2b4e_9d0f_4e8a_b1c2_3d4e5f607182",      /* not dashes */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00",
    };
    cardea_entity_key key;

    (void)state;
    memset(&key, 0xa5, sizeof key);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cardea_entity_key__parse(&key, bad[i],
                                                  strlen(bad[i])),
                         CARDEA_EFORMAT);
        assert_int_equal(key.bytes[0], 0xa5);
    }
}

/* ---- manifests ---------------------------------------------------------- */

static void
test_encrypted_self__manifest_structure(void **state)
{
    static const char *const entries[] = {
        "note", "addr.street", "notes[].markdown", "m.*.a", "ins[].*",
        "careTeam[].{careTeamMemberType,healthcarePartyId,quality}",
        "e.[\"x\",\"y\"]",
    };
    cardea_manifest *m = manifest_of(entries, 7);

    (void)state;
    assert_false(m->full);
    assert_int_equal(m->fields_len, 1);
    assert_string_equal(m->fields[0], "note");
    assert_int_equal(m->nested_len, 6);
    assert_string_equal(m->nested[0].name, "addr");
    assert_int_equal(m->nested[0].kind, CARDEA_MANIFEST_OBJECT);
    assert_int_equal(m->nested[1].kind, CARDEA_MANIFEST_ARRAY);
    assert_int_equal(m->nested[2].kind, CARDEA_MANIFEST_MAP);
    assert_true(m->nested[3].manifest->full);
    assert_int_equal(m->nested[4].manifest->fields_len, 3);
    assert_string_equal(m->nested[4].manifest->fields[1], "healthcarePartyId");
    assert_int_equal(m->nested[5].manifest->fields_len, 2);
    assert_true(cardea_manifest__names(m, "careTeam"));
    assert_false(cardea_manifest__names(m, "street"));
    cardea_manifest__free(m);
}

static void
test_encrypted_self__manifest_rejects_malformed(void **state)
{
    static const char *const bad[][2] = {
        {"", NULL},
        {"1abc", NULL},
        {"a..b", NULL},
        {"a.", NULL},
        {"a[]", NULL},
        {"a[].", NULL},
        {"a.b-c", NULL},
        {" a", NULL},
        {"a.{b,c", NULL},
        {"a.{}", NULL},
        {"a.{b,,c}", NULL},
        {"a.[1,2]", NULL},
        {"a.[\"b\"", NULL},
        {"a.*x", NULL},
        {"*.a", NULL},
        {"encryptedSelf", NULL},
        {"a[].{b,encryptedSelf}", NULL},
        {"*", "a"},
        {"a[].{*,b}", NULL},
        {"a", "a"},
        {"a", "a.b"},
        {"a.b", "a[].c"},
        {"a.*.b", "a.c"},
    };
    cardea_manifest *m = (cardea_manifest *)&m;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i][1] == NULL ? 1 : 2;

        assert_int_equal(cardea_manifest__parse(&m, bad[i], len),
                         CARDEA_EINVAL);
        assert_ptr_equal(m, (cardea_manifest *)&m);
    }
}

static void
test_encrypted_self__manifest_depth_bounded(void **state)
{
    char entry[256];
    const char *entries[1] = {entry};
    cardea_manifest *m = NULL;
    size_t len = 0;

    (void)state;
    for (int i = 0; i < CARDEA_MANIFEST_MAX_DEPTH - 1; i++) {
        memcpy(entry + len, "a.", 2);
        len += 2;
    }
    memcpy(entry + len, "z", 2);
    assert_int_equal(cardea_manifest__parse(&m, entries, 1), CARDEA_OK);
    cardea_manifest__free(m);

    memmove(entry + 2, entry, strlen(entry) + 1);
    memcpy(entry, "a.", 2);
    m = (cardea_manifest *)&m;
    assert_int_equal(cardea_manifest__parse(&m, entries, 1), CARDEA_EINVAL);
    assert_ptr_equal(m, (cardea_manifest *)&m);
}

static void
test_encrypted_self__default_manifests(void **state)
{
    static const char *const types[] = {
        "Patient",  "Contact",    "Service",         "HealthElement",
        "CalendarItem", "AccessLog", "MaintenanceTask", "Message",
        "Topic",    "Document",   "Form",            "Receipt",
        "Classification", "Invoice", "TimeTable",
    };
    const char *const *entries = NULL;
    cardea_manifest *m = NULL;
    size_t len = 0;

    (void)state;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        assert_int_equal(cardea_manifest__default(&m, types[i]), CARDEA_OK);
        cardea_manifest__free(m);
    }
    assert_int_equal(cardea_manifest__default_entries(&entries, &len,
                                                      "Contact"),
                     CARDEA_OK);
    for (size_t i = 0; i < len; i++) {
        assert_string_not_equal(entries[i], "services");
    }
    assert_int_equal(cardea_manifest__default(&m, "HealthElement"),
                     CARDEA_OK);
    assert_int_equal(m->fields_len, 2);
    assert_int_equal(m->nested_len, 3);
    assert_string_equal(m->nested[1].name, "careTeam");
    assert_int_equal(m->nested[1].manifest->fields_len, 3);
    assert_string_equal(m->nested[2].name, "episodes");
    assert_int_equal(m->nested[2].manifest->fields_len, 2);
    cardea_manifest__free(m);

    assert_int_equal(cardea_manifest__default(&m, "Patient"), CARDEA_OK);
    assert_int_equal(m->fields_len, 12);
    assert_int_equal(m->nested_len, 6);
    cardea_manifest__free(m);

    m = (cardea_manifest *)&m;
    assert_int_equal(cardea_manifest__default(&m, "Article"),
                     CARDEA_ENOTFOUND);
    assert_int_equal(cardea_manifest__default(&m, "patient"),
                     CARDEA_ENOTFOUND);
    assert_ptr_equal(m, (cardea_manifest *)&m);
}

/* ---- round trips per form ------------------------------------------------ */

static void
test_encrypted_self__top_level_field(void **state)
{
    static const char *const entries[] = {"note", "missing"};
    cardea_entity_key key = key_from(key256);
    json_t *enc = round_trip("{\"id\":\"p1\",\"note\":\"secret\",\"n\":1}",
                             entries, 2, &key);
    char *inner;

    (void)state;
    assert_null(json_object_get(enc, "note"));
    assert_string_equal(cardea_json__get_str(enc, "id"), "p1");
    assert_int_equal(json_object_size(enc), 3);

    /* The plaintext is the compact JSON of the removed fields. */
    inner = open_self(enc, &key);
    assert_string_equal(inner, "{\"note\":\"secret\"}");
    cardea_free(inner);
    json_decref(enc);
}

static void
test_encrypted_self__nested_object(void **state)
{
    static const char *const entries[] = {"addr.street"};
    cardea_entity_key key = key_from(key256);
    json_t *enc = round_trip(
        "{\"addr\":{\"street\":\"Main 1\",\"city\":\"Gent\"},\"other\":null}",
        entries, 1, &key);
    json_t *addr = json_object_get(enc, "addr");
    char *inner;

    (void)state;
    assert_null(json_object_get(addr, "street"));
    assert_string_equal(cardea_json__get_str(addr, "city"), "Gent");
    assert_non_null(json_object_get(addr, "encryptedSelf"));
    inner = open_self(enc, &key);
    assert_string_equal(inner, "{}");
    cardea_free(inner);
    json_decref(enc);
}

static void
test_encrypted_self__array_elements(void **state)
{
    static const char *const entries[] = {"notes[].markdown"};
    cardea_entity_key key = key_from(key256);
    json_t *enc = round_trip("{\"notes\":[{\"markdown\":\"m1\",\"k\":1},null,"
                             "{\"k\":2}]}",
                             entries, 1, &key);
    json_t *notes = json_object_get(enc, "notes");

    (void)state;
    assert_int_equal(json_array_size(notes), 3);
    assert_null(json_object_get(json_array_get(notes, 0), "markdown"));
    assert_non_null(json_object_get(json_array_get(notes, 0),
                                    "encryptedSelf"));
    assert_true(json_is_null(json_array_get(notes, 1)));
    assert_non_null(json_object_get(json_array_get(notes, 2),
                                    "encryptedSelf"));
    json_decref(enc);
}

static void
test_encrypted_self__map_values(void **state)
{
    static const char *const entries[] = {"m.*.a"};
    cardea_entity_key key = key_from(key256);
    json_t *enc = round_trip("{\"m\":{\"en\":{\"a\":1,\"b\":2},"
                             "\"fr\":{\"a\":3,\"b\":4}}}",
                             entries, 1, &key);
    json_t *fr = json_object_get(json_object_get(enc, "m"), "fr");

    (void)state;
    assert_null(json_object_get(fr, "a"));
    assert_int_equal(json_integer_value(json_object_get(fr, "b")), 4);
    assert_non_null(json_object_get(fr, "encryptedSelf"));
    json_decref(enc);
}

static void
test_encrypted_self__array_elements_whole(void **state)
{
    static const char *const entries[] = {"ins[].*"};
    cardea_entity_key key = key_from(key256);
    json_t *enc = round_trip("{\"ins\":[{\"x\":1,\"y\":[2,3]}],\"id\":\"p\"}",
                             entries, 1, &key);
    json_t *item = json_array_get(json_object_get(enc, "ins"), 0);

    (void)state;
    assert_int_equal(json_object_size(item), 1);
    assert_non_null(json_object_get(item, "encryptedSelf"));
    json_decref(enc);
}

static void
test_encrypted_self__full_object(void **state)
{
    static const char *const entries[] = {"*"};
    cardea_entity_key key = key_from(key256);
    json_t *enc = round_trip("{\"id\":\"x\",\"a\":{\"b\":[1,{\"c\":2}]}}",
                             entries, 1, &key);

    (void)state;
    assert_int_equal(json_object_size(enc), 1);
    assert_non_null(json_object_get(enc, "encryptedSelf"));
    json_decref(enc);
}

static void
test_encrypted_self__brace_form(void **state)
{
    cardea_entity_key key = key_from(key256);
    const char *const *entries = NULL;
    size_t len = 0;
    json_t *enc;
    json_t *member;

    (void)state;
    assert_int_equal(cardea_manifest__default_entries(&entries, &len,
                                                      "HealthElement"),
                     CARDEA_OK);
    enc = round_trip("{\"descr\":\"d\",\"careTeam\":[{\"careTeamMemberType\":"
                     "\"doctor\",\"healthcarePartyId\":\"h\",\"quality\":"
                     "\"q\",\"id\":\"ct1\"}],\"episodes\":[{\"name\":\"n\","
                     "\"comment\":\"c\",\"startDate\":20200101}]}",
                     entries, len, &key);
    member = json_array_get(json_object_get(enc, "careTeam"), 0);
    assert_int_equal(json_object_size(member), 2);
    assert_string_equal(cardea_json__get_str(member, "id"), "ct1");
    member = json_array_get(json_object_get(enc, "episodes"), 0);
    assert_int_equal(json_object_size(member), 2);
    assert_non_null(json_object_get(member, "startDate"));
    json_decref(enc);
}

static void
test_encrypted_self__documented_example(void **state)
{
    /* The example of the official SDK's manifest documentation. */
    static const char *const entries[] = {"a", "c[].secret", "d",
                                          "e.private", "e.dataMap.*.a"};
    cardea_entity_key key = key_from(key256);
    json_t *enc = round_trip(
        "{\"a\":{\"x\":0,\"y\":1},\"b\":\"hello\",\"c\":[{\"public\":\"a\","
        "\"secret\":\"b\"},{\"public\":\"c\",\"secret\":\"d\"}],\"d\":\"ok\","
        "\"e\":{\"info\":\"something\",\"private\":\"secret\",\"dataMap\":{"
        "\"en\":{\"a\":1,\"b\":2},\"fr\":{\"a\":3,\"b\":4}}}}",
        entries, 5, &key);
    json_t *e = json_object_get(enc, "e");

    (void)state;
    assert_null(json_object_get(enc, "a"));
    assert_null(json_object_get(enc, "d"));
    assert_string_equal(cardea_json__get_str(enc, "b"), "hello");
    assert_null(json_object_get(e, "private"));
    assert_non_null(json_object_get(e, "encryptedSelf"));
    assert_non_null(json_object_get(
        json_object_get(json_object_get(e, "dataMap"), "en"),
        "encryptedSelf"));
    json_decref(enc);
}

static void
test_encrypted_self__legacy_fixture(void **state)
{
    /* Patient of LegacyMetadataMigrationTest.kt (icure/cardinal-sdk): its
     * AES-128 key came out of a legacy encryptionKeys delegation. */
    cardea_entity_key key = key_from("11d52463edc7babf6f552b0363aa00c8");
    json_t *enc = json_pack("{s:s,s:s}", "id", "patient-1", "encryptedSelf",
                            "jgAFAlmd2QStXpOt3LnIhs4upJv2e10fp0u6/PburW7mq1r3v"
                            "o/Q5/a4Yk7EWXG7oydMWb2i1UCCiNN80czGdA==");
    json_t *dec = NULL;

    (void)state;
    assert_int_equal(cardea_encrypted_self__decrypt(&dec, enc, &key, 1),
                     CARDEA_OK);
    assert_string_equal(cardea_json__get_str(dec, "note"),
                        "This is just a test patient");
    assert_string_equal(cardea_json__get_str(dec, "id"), "patient-1");
    json_decref(dec);
    json_decref(enc);
}

/* ---- keys on decryption -------------------------------------------------- */

static void
test_encrypted_self__wrong_key_rejected(void **state)
{
    static const char *const entries[] = {"note", "addr.street"};
    cardea_entity_key key = key_from(key256);
    cardea_entity_key wrong[2] = {key_from(key_other),
                                  key_from("000102030405060708090a0b0c0d0e0f")};
    json_t *enc = round_trip("{\"note\":\"n\",\"addr\":{\"street\":\"s\"}}",
                             entries, 2, &key);
    json_t *dec = (json_t *)&dec;

    (void)state;
    assert_int_equal(cardea_encrypted_self__decrypt(&dec, enc, wrong, 2),
                     CARDEA_EVERIFY);
    assert_ptr_equal(dec, (json_t *)&dec);
    json_decref(enc);
}

static void
test_encrypted_self__right_key_second(void **state)
{
    static const char *const entries[] = {"note"};
    cardea_entity_key keys[2] = {key_from(key_other), key_from(key256)};
    json_t *enc = round_trip("{\"note\":\"n\"}", entries, 1, &keys[1]);
    json_t *dec = NULL;

    (void)state;
    assert_int_equal(cardea_encrypted_self__decrypt(&dec, enc, keys, 2),
                     CARDEA_OK);
    assert_string_equal(cardea_json__get_str(dec, "note"), "n");
    json_decref(dec);
    json_decref(enc);
}

static void
test_encrypted_self__rejects_non_object_plaintext(void **state)
{
    cardea_entity_key key = key_from(key256);
    static const char *const plains[] = {"[1,2]", "\"text\"", "{\"a\":"};

    (void)state;
    for (size_t i = 0; i < sizeof plains / sizeof plains[0]; i++) {
        uint8_t *blob = NULL;
        size_t blob_len = 0;
        char *b64 = NULL;
        json_t *enc;
        json_t *dec = (json_t *)&dec;

        assert_int_equal(cardea_aes__cbc_encrypt_alloc(
                             &blob, &blob_len, key.bytes, key.len,
                             (const uint8_t *)plains[i], strlen(plains[i])),
                         CARDEA_OK);
        assert_int_equal(cardea_base64__encode_alloc(&b64, blob, blob_len),
                         CARDEA_OK);
        enc = json_pack("{s:s}", "encryptedSelf", b64);
        assert_int_equal(cardea_encrypted_self__decrypt(&dec, enc, &key, 1),
                         CARDEA_EVERIFY);
        assert_ptr_equal(dec, (json_t *)&dec);
        json_decref(enc);
        cardea_free(b64);
        cardea_mem__free(blob);
    }
}

static void
test_encrypted_self__rejects_bad_encrypted_self(void **state)
{
    cardea_entity_key key = key_from(key256);
    json_t *number = json_pack("{s:i}", "encryptedSelf", 5);
    json_t *text = json_pack("{s:s}", "encryptedSelf", "not base64");
    json_t *null_self = json_pack("{s:n,s:i}", "encryptedSelf", "a", 1);
    json_t *dec = (json_t *)&dec;

    (void)state;
    assert_int_equal(cardea_encrypted_self__decrypt(&dec, number, &key, 1),
                     CARDEA_EFORMAT);
    assert_int_equal(cardea_encrypted_self__decrypt(&dec, text, &key, 1),
                     CARDEA_EFORMAT);
    assert_ptr_equal(dec, (json_t *)&dec);
    assert_int_equal(cardea_encrypted_self__decrypt(&dec, null_self, &key, 1),
                     CARDEA_OK);
    assert_int_equal(json_integer_value(json_object_get(dec, "a")), 1);
    json_decref(dec);
    json_decref(number);
    json_decref(text);
    json_decref(null_self);
}

/* ---- input checks ------------------------------------------------------- */

static void
test_encrypted_self__rejects_non_object_input(void **state)
{
    static const char *const entries[] = {"note"};
    cardea_manifest *m = manifest_of(entries, 1);
    cardea_entity_key key = key_from(key256);
    json_t *array = json_array();
    json_t *out = (json_t *)&out;

    (void)state;
    assert_int_equal(cardea_encrypted_self__encrypt(&out, array, m, &key),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_encrypted_self__decrypt(&out, array, &key, 1),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_encrypted_self__decrypt(&out, array, &key, 0),
                     CARDEA_EINVAL);
    assert_ptr_equal(out, (json_t *)&out);
    json_decref(array);
    cardea_manifest__free(m);
}

static void
test_encrypted_self__rejects_wrong_nested_type(void **state)
{
    static const char *const entries[] = {"addr.street", "notes[].markdown",
                                          "m.*.a"};
    static const char *const inputs[] = {
        "{\"addr\":\"Main 1\"}",
        "{\"notes\":{\"markdown\":\"m\"}}",
        "{\"notes\":[\"m\"]}",
        "{\"m\":[{\"a\":1}]}",
        "{\"m\":{\"en\":3}}",
    };
    cardea_manifest *m = manifest_of(entries, 3);
    cardea_entity_key key = key_from(key256);

    (void)state;
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        json_t *plain = parse(inputs[i]);
        json_t *out = (json_t *)&out;

        assert_int_equal(cardea_encrypted_self__encrypt(&out, plain, m, &key),
                         CARDEA_EINVAL);
        assert_ptr_equal(out, (json_t *)&out);
        json_decref(plain);
    }
    cardea_manifest__free(m);
}

static void
test_encrypted_self__deep_nesting_bounded(void **state)
{
    static const char *const entries[] = {"note"};
    cardea_manifest *m = manifest_of(entries, 1);
    cardea_entity_key key = key_from(key256);
    json_t *deep = json_object();
    json_t *out = (json_t *)&out;

    (void)state;
    for (int i = 0; i < CARDEA_JSON_MAX_DEPTH + 8; i++) {
        json_t *outer = json_object();

        assert_int_equal(json_object_set_new(outer, "x", deep), 0);
        deep = outer;
    }
    assert_int_equal(cardea_encrypted_self__encrypt(&out, deep, m, &key),
                     CARDEA_ETOOBIG);
    assert_int_equal(cardea_encrypted_self__decrypt(&out, deep, &key, 1),
                     CARDEA_ETOOBIG);
    assert_ptr_equal(out, (json_t *)&out);
    json_decref(deep);
    cardea_manifest__free(m);
}

static void
test_encrypted_self__unchanged_keeps_ciphertext(void **state)
{
    static const char *const entries[] = {"note", "notes[].markdown"};
    cardea_manifest *m = manifest_of(entries, 2);
    cardea_entity_key key = key_from(key256);
    json_t *plain = parse("{\"note\":\"n\",\"notes\":[{\"markdown\":\"x\"}]}");
    json_t *first = NULL;
    json_t *dec = NULL;
    json_t *second = NULL;
    json_t *third = NULL;

    (void)state;
    assert_int_equal(cardea_encrypted_self__encrypt(&first, plain, m, &key),
                     CARDEA_OK);
    assert_int_equal(cardea_encrypted_self__decrypt(&dec, first, &key, 1),
                     CARDEA_OK);
    assert_int_equal(cardea_encrypted_self__encrypt(&second, dec, m, &key),
                     CARDEA_OK);
    assert_true(json_equal(first, second));

    assert_int_equal(json_object_set_new(dec, "note", json_string("m")), 0);
    assert_int_equal(cardea_encrypted_self__encrypt(&third, dec, m, &key),
                     CARDEA_OK);
    assert_string_not_equal(cardea_json__get_str(first, "encryptedSelf"),
                            cardea_json__get_str(third, "encryptedSelf"));
    assert_true(json_equal(json_object_get(first, "notes"),
                           json_object_get(third, "notes")));
    json_decref(plain);
    json_decref(first);
    json_decref(dec);
    json_decref(second);
    json_decref(third);
    cardea_manifest__free(m);
}

/* ---- Contact and Service ------------------------------------------------ */

static const char contact_text[] =
    "{\"id\":\"c1\",\"descr\":\"visit\",\"services\":["
    "{\"id\":\"s1\",\"comment\":\"c\",\"content\":{\"en\":{\"stringValue\":"
    "\"blood pressure high\"}}},"
    "{\"id\":\"s2\",\"content\":{\"en\":{\"compoundValue\":["
    "{\"id\":\"s3\",\"comment\":\"inner\",\"content\":{\"fr\":"
    "{\"numberValue\":12.5}}}],\"ratio\":[],\"stringValue\":null}}}]}";

static void
test_encrypted_self__contact_services(void **state)
{
    cardea_entity_key key = key_from(key256);
    json_t *contact = parse(contact_text);
    json_t *enc = NULL;
    json_t *dec = NULL;
    json_t *services;
    json_t *s1;
    json_t *s2;
    json_t *s3;

    (void)state;
    assert_int_equal(cardea_encrypted_self__encrypt_entity(&enc, "Contact",
                                                           contact, &key),
                     CARDEA_OK);
    assert_null(json_object_get(enc, "descr"));
    assert_non_null(json_object_get(enc, "encryptedSelf"));
    services = json_object_get(enc, "services");
    s1 = json_array_get(services, 0);
    s2 = json_array_get(services, 1);

    /* s1 has a plain content: it is encrypted with the service. */
    assert_null(json_object_get(s1, "content"));
    assert_null(json_object_get(s1, "comment"));
    assert_non_null(json_object_get(s1, "encryptedSelf"));

    /* s2 is compound: content stays, the sub-service is encrypted. */
    assert_non_null(json_object_get(s2, "encryptedSelf"));
    s3 = json_array_get(json_object_get(json_object_get(
                            json_object_get(s2, "content"), "en"),
                                        "compoundValue"),
                        0);
    assert_int_equal(json_object_size(json_object_get(
                         json_object_get(s2, "content"), "en")),
                     1);
    assert_string_equal(cardea_json__get_str(s3, "id"), "s3");
    assert_null(json_object_get(s3, "content"));
    assert_null(json_object_get(s3, "comment"));
    assert_non_null(json_object_get(s3, "encryptedSelf"));

    assert_int_equal(cardea_encrypted_self__decrypt(&dec, enc, &key, 1),
                     CARDEA_OK);
    s3 = json_array_get(json_object_get(json_object_get(
                            json_object_get(json_array_get(json_object_get(
                                                dec, "services"), 1),
                                            "content"),
                            "en"), "compoundValue"), 0);
    assert_string_equal(cardea_json__get_str(s3, "comment"), "inner");
    assert_true(json_equal(
        json_object_get(json_array_get(json_object_get(dec, "services"), 0),
                        "content"),
        json_object_get(json_array_get(json_object_get(contact, "services"),
                                       0),
                        "content")));
    assert_string_equal(cardea_json__get_str(dec, "descr"), "visit");
    json_decref(dec);
    json_decref(enc);
    json_decref(contact);
}

static void
test_encrypted_self__contact_rules_enforced(void **state)
{
    static const char *const with_services[] = {"descr", "services[].comment"};
    static const char *const with_content[] = {"comment", "content"};
    static const char *const plain_fields[] = {"descr"};
    cardea_manifest *contact_bad = manifest_of(with_services, 2);
    cardea_manifest *service_bad = manifest_of(with_content, 2);
    cardea_manifest *contact_ok = manifest_of(plain_fields, 1);
    cardea_manifest *service_ok = NULL;
    cardea_entity_key key = key_from(key256);
    json_t *contact = parse(contact_text);
    json_t *out = (json_t *)&out;

    (void)state;
    assert_int_equal(cardea_manifest__default(&service_ok, "Service"),
                     CARDEA_OK);
    assert_int_equal(cardea_encrypted_self__encrypt_contact(
                         &out, contact, contact_bad, service_ok, &key),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_encrypted_self__encrypt_contact(
                         &out, contact, contact_ok, service_bad, &key),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_encrypted_self__encrypt_service(
                         &out, contact, service_bad, &key),
                     CARDEA_EINVAL);
    assert_ptr_equal(out, (json_t *)&out);
    json_decref(contact);
    cardea_manifest__free(contact_bad);
    cardea_manifest__free(service_bad);
    cardea_manifest__free(contact_ok);
    cardea_manifest__free(service_ok);
}

static void
test_encrypted_self__unknown_entity_type(void **state)
{
    cardea_entity_key key = key_from(key256);
    json_t *plain = json_object();
    json_t *out = (json_t *)&out;

    (void)state;
    assert_int_equal(cardea_encrypted_self__encrypt_entity(&out, "Article",
                                                           plain, &key),
                     CARDEA_ENOTFOUND);
    assert_ptr_equal(out, (json_t *)&out);
    json_decref(plain);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encrypted_self__key_forms),
        cmocka_unit_test(test_encrypted_self__key_rejects_bad_forms),
        cmocka_unit_test(test_encrypted_self__manifest_structure),
        cmocka_unit_test(test_encrypted_self__manifest_rejects_malformed),
        cmocka_unit_test(test_encrypted_self__manifest_depth_bounded),
        cmocka_unit_test(test_encrypted_self__default_manifests),
        cmocka_unit_test(test_encrypted_self__top_level_field),
        cmocka_unit_test(test_encrypted_self__nested_object),
        cmocka_unit_test(test_encrypted_self__array_elements),
        cmocka_unit_test(test_encrypted_self__map_values),
        cmocka_unit_test(test_encrypted_self__array_elements_whole),
        cmocka_unit_test(test_encrypted_self__full_object),
        cmocka_unit_test(test_encrypted_self__brace_form),
        cmocka_unit_test(test_encrypted_self__documented_example),
        cmocka_unit_test(test_encrypted_self__legacy_fixture),
        cmocka_unit_test(test_encrypted_self__wrong_key_rejected),
        cmocka_unit_test(test_encrypted_self__right_key_second),
        cmocka_unit_test(test_encrypted_self__rejects_non_object_plaintext),
        cmocka_unit_test(test_encrypted_self__rejects_bad_encrypted_self),
        cmocka_unit_test(test_encrypted_self__rejects_non_object_input),
        cmocka_unit_test(test_encrypted_self__rejects_wrong_nested_type),
        cmocka_unit_test(test_encrypted_self__deep_nesting_bounded),
        cmocka_unit_test(test_encrypted_self__unchanged_keeps_ciphertext),
        cmocka_unit_test(test_encrypted_self__contact_services),
        cmocka_unit_test(test_encrypted_self__contact_rules_enforced),
        cmocka_unit_test(test_encrypted_self__unknown_entity_type),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
