/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/format/delegation.c: "Cure"-prefixed values (round trips,
 * the exact plaintext layout, wrong keys, missing prefix), the JSON shape
 * of SecureDelegation, securityMetadata, share and update requests and
 * the bulk wrapper, and the canonical hash of a share request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "format/delegation.h"

#define SD_ROOT \
    "70da1d6de5e21e934dd620caa05ab9514b4d5d89955a78b7c92e516cda8492d7"
#define SD_CHILD_A \
    "073fb39ee8ceb9abcf8bdd61c44826f51cfb712200d8d482a54813947ab26b1f"
#define SD_CHILD_B \
    "4bb589e39029ea59103897681b376d07fcdc695040efbf7c8904710f402ffb72"
#define ENTITY_KEY \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const uint8_t xkey[32] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};
static const uint8_t other_key[32] = {
    32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
    16, 15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1,
};

static const char *const secret_ids[] = {
    "6a1c2b4e-9d0f-4e8a-b1c2-3d4e5f607182",
};
static const char *const entity_keys[] = {ENTITY_KEY};
static const char *const owners[] = {"patient-42"};

static const cardea_delegation_values values = {
    .secret_ids = secret_ids,
    .secret_ids_len = 1,
    .encryption_keys = entity_keys,
    .encryption_keys_len = 1,
    .owning_entity_ids = owners,
    .owning_entity_ids_len = 1,
};

/* Asserts that the members of `obj` are exactly `names`, in order. */
static void
assert_keys(const json_t *obj, const char *const *names, size_t len)
{
    const char *key;
    json_t *value;
    size_t i = 0;

    assert_true(json_is_object(obj));
    json_object_foreach((json_t *)obj, key, value) {
        assert_true(i < len);
        assert_string_equal(key, names[i]);
        i++;
    }
    assert_int_equal(i, len);
}

/* Encrypts `plain` with AES only (no prefix) and returns base64. */
static char *
raw_blob(const uint8_t *key, const char *plain)
{
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    char *b64 = NULL;

    assert_int_equal(cardea_aes__cbc_encrypt_alloc(&blob, &blob_len, key, 32,
                                                   (const uint8_t *)plain,
                                                   strlen(plain)),
                     CARDEA_OK);
    assert_int_equal(cardea_base64__encode_alloc(&b64, blob, blob_len),
                     CARDEA_OK);
    cardea_mem__free(blob);
    return b64;
}

static void
test_delegation__key_round_trip(void **state)
{
    char *b64 = NULL;
    char *hex = NULL;

    (void)state;
    assert_int_equal(cardea_delegation__encrypt_key(
                         &b64, xkey, sizeof xkey,
                         "00112233445566778899AABBCCDDEEFF"),
                     CARDEA_OK);
    assert_int_equal(cardea_delegation__decrypt_key(&hex, xkey, sizeof xkey,
                                                    b64),
                     CARDEA_OK);
    assert_string_equal(hex, "00112233445566778899aabbccddeeff");
    cardea_mem__free_secret(hex, strlen(hex));
    cardea_free(b64);
}

static void
test_delegation__key_plaintext_layout(void **state)
{
    static const uint8_t expected[] = {'C',  'u',  'r',  'e',  0xde,
                                       0xad, 0xbe, 0xef, 0x01, 0x02};
    uint8_t *blob = NULL;
    uint8_t *plain = NULL;
    size_t blob_len = 0;
    size_t plain_len = 0;
    char *b64 = NULL;

    (void)state;
    assert_int_equal(cardea_delegation__encrypt_key(&b64, xkey, sizeof xkey,
                                                    "deadbeef0102"),
                     CARDEA_OK);
    assert_int_equal(cardea_base64__decode_alloc(&blob, &blob_len, b64,
                                                 strlen(b64)),
                     CARDEA_OK);
    assert_int_equal(blob_len, cardea_aes__cbc_blob_len(sizeof expected));
    assert_int_equal(cardea_aes__cbc_decrypt_alloc(&plain, &plain_len, xkey,
                                                   sizeof xkey, blob,
                                                   blob_len),
                     CARDEA_OK);
    assert_int_equal(plain_len, sizeof expected);
    assert_memory_equal(plain, expected, sizeof expected);
    cardea_mem__free_secret(plain, plain_len + 1);
    cardea_mem__free(blob);
    cardea_free(b64);
}

static void
test_delegation__id_round_trip(void **state)
{
    static const char *const ids[] = {
        "6a1c2b4e-9d0f-4e8a-b1c2-3d4e5f607182",
        "group-1/patient-7",
        "caf\xc3\xa9-\xe2\x82\xac",
        "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char *b64 = NULL;
        char *id = NULL;

        assert_int_equal(cardea_delegation__encrypt_id(&b64, xkey,
                                                       sizeof xkey, ids[i]),
                         CARDEA_OK);
        assert_int_equal(cardea_delegation__decrypt_id(&id, xkey,
                                                       sizeof xkey, b64),
                         CARDEA_OK);
        assert_string_equal(id, ids[i]);
        cardea_free(id);
        cardea_free(b64);
    }
}

static void
test_delegation__id_reads_foreign_blob(void **state)
{
    char *b64 = raw_blob(xkey, "Cureabc-123");
    char *id = NULL;

    (void)state;
    assert_int_equal(cardea_delegation__decrypt_id(&id, xkey, sizeof xkey,
                                                   b64),
                     CARDEA_OK);
    assert_string_equal(id, "abc-123");
    cardea_free(id);
    cardea_free(b64);
}

static void
test_delegation__wrong_key_rejected(void **state)
{
    (void)state;
    for (int i = 0; i < 64; i++) {
        char *b64_id = NULL;
        char *b64_key = NULL;
        char *out = (char *)&out;

        assert_int_equal(cardea_delegation__encrypt_id(&b64_id, xkey,
                                                       sizeof xkey, "x"),
                         CARDEA_OK);
        assert_int_equal(cardea_delegation__encrypt_key(
                             &b64_key, xkey, sizeof xkey, ENTITY_KEY),
                         CARDEA_OK);
        assert_int_equal(cardea_delegation__decrypt_id(
                             &out, other_key, sizeof other_key, b64_id),
                         CARDEA_EVERIFY);
        assert_ptr_equal(out, (char *)&out);
        assert_int_equal(cardea_delegation__decrypt_key(
                             &out, other_key, sizeof other_key, b64_key),
                         CARDEA_EVERIFY);
        assert_ptr_equal(out, (char *)&out);
        cardea_free(b64_id);
        cardea_free(b64_key);
    }
}

static void
test_delegation__missing_prefix_rejected(void **state)
{
    static const char *const plains[] = {"abc-123", "cureabc", "Cur", ""};

    (void)state;
    for (size_t i = 0; i < sizeof plains / sizeof plains[0]; i++) {
        char *b64 = raw_blob(xkey, plains[i]);
        char *out = (char *)&out;

        assert_int_equal(cardea_delegation__decrypt_id(&out, xkey,
                                                       sizeof xkey, b64),
                         CARDEA_EVERIFY);
        assert_ptr_equal(out, (char *)&out);
        assert_int_equal(cardea_delegation__decrypt_key(&out, xkey,
                                                        sizeof xkey, b64),
                         CARDEA_EVERIFY);
        assert_ptr_equal(out, (char *)&out);
        cardea_free(b64);
    }
}

static void
test_delegation__bad_inputs_rejected(void **state)
{
    char *bad_utf8 = raw_blob(xkey, "Cure\xc3\x28");
    char *out = (char *)&out;

    (void)state;
    assert_int_equal(cardea_delegation__decrypt_id(&out, xkey, sizeof xkey,
                                                   bad_utf8),
                     CARDEA_EVERIFY);
    assert_int_equal(cardea_delegation__decrypt_id(&out, xkey, sizeof xkey,
                                                   "not base64!"),
                     CARDEA_EFORMAT);
    assert_int_equal(cardea_delegation__encrypt_key(&out, xkey, sizeof xkey,
                                                    "abc"),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_delegation__encrypt_key(&out, xkey, sizeof xkey,
                                                    ""),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_delegation__encrypt_id(&out, xkey, 7, "id"),
                     CARDEA_EINVAL);
    assert_ptr_equal(out, (char *)&out);
    cardea_free(bad_utf8);
}

static void
check_values(const json_t *delegation, const uint8_t *key)
{
    cardea_delegation_plain plain = {0};

    assert_int_equal(cardea_delegation__decrypt_values(&plain, delegation,
                                                       key, 32),
                     CARDEA_OK);
    assert_int_equal(plain.secret_ids_len, 1);
    assert_string_equal(plain.secret_ids[0], secret_ids[0]);
    assert_int_equal(plain.encryption_keys_len, 1);
    assert_string_equal(plain.encryption_keys[0], ENTITY_KEY);
    assert_int_equal(plain.owning_entity_ids_len, 1);
    assert_string_equal(plain.owning_entity_ids[0], owners[0]);
    cardea_delegation__plain_free(&plain);
}

static void
test_delegation__explicit_shape(void **state)
{
    static const char *const names[] = {
        "delegator",       "delegate",          "secretIds",
        "encryptionKeys",  "owningEntityIds",   "parentDelegations",
        "exchangeDataId",  "permissions",
    };
    static const char *const parents[] = {SD_ROOT, SD_ROOT};
    cardea_delegation_params p = {
        .delegator = "hcp-1",
        .delegate = "hcp-2",
        .exchange_data_id = "xd-1",
        .parents = parents,
        .parents_len = 2,
        .permissions = CARDEA_ACCESS_READ,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
        .values = values,
    };
    json_t *d = NULL;

    (void)state;
    assert_int_equal(cardea_delegation__build(&d, &p), CARDEA_OK);
    assert_keys(d, names, sizeof names / sizeof names[0]);
    assert_string_equal(cardea_json__get_str(d, "delegator"), "hcp-1");
    assert_string_equal(cardea_json__get_str(d, "delegate"), "hcp-2");
    assert_string_equal(cardea_json__get_str(d, "exchangeDataId"), "xd-1");
    assert_string_equal(cardea_json__get_str(d, "permissions"), "READ");
    assert_int_equal(json_array_size(json_object_get(d, "parentDelegations")),
                     1);
    check_values(d, xkey);
    json_decref(d);
}

static void
test_delegation__anonymous_hides_ids(void **state)
{
    static const char *const names[] = {
        "delegate", "secretIds", "encryptionKeys", "owningEntityIds",
        "parentDelegations", "permissions",
    };
    cardea_delegation_params p = {
        .delegate = "hcp-2",
        .exchange_data_id = "xd-1",
        .permissions = CARDEA_ACCESS_WRITE,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
        .values = values,
    };
    json_t *d = NULL;

    (void)state;
    assert_int_equal(cardea_delegation__build(&d, &p), CARDEA_OK);
    assert_keys(d, names, sizeof names / sizeof names[0]);
    assert_null(json_object_get(d, "exchangeDataId"));
    assert_string_equal(cardea_json__get_str(d, "permissions"), "WRITE");
    json_decref(d);
}

static void
test_delegation__build_rejects_bad_params(void **state)
{
    static const char *const bad_parents[] = {"abc"};
    cardea_delegation_params p = {
        .permissions = CARDEA_ACCESS_WRITE,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
        .values = values,
    };
    json_t *d = (json_t *)&d;

    (void)state;
    p.parents = bad_parents;
    p.parents_len = 1;
    assert_int_equal(cardea_delegation__build(&d, &p), CARDEA_EINVAL);
    p.parents_len = 0;
    p.permissions = (cardea_access_level)9;
    assert_int_equal(cardea_delegation__build(&d, &p), CARDEA_EINVAL);
    assert_ptr_equal(d, (json_t *)&d);
}

static void
test_delegation__security_metadata_shape(void **state)
{
    cardea_delegation_entry root = {
        .sd_key = SD_ROOT,
        .params = {.delegator = "hcp-1",
                   .exchange_data_id = "xd-self",
                   .permissions = CARDEA_ACCESS_WRITE,
                   .exchange_key = xkey,
                   .exchange_key_len = sizeof xkey,
                   .values = values},
    };
    cardea_delegation_entry children[2] = {
        {.sd_key = SD_CHILD_A,
         .params = {.delegator = "hcp-1",
                    .delegate = "hcp-2",
                    .exchange_data_id = "xd-2",
                    .permissions = CARDEA_ACCESS_READ,
                    .exchange_key = other_key,
                    .exchange_key_len = sizeof other_key,
                    .values = values}},
        {.sd_key = SD_CHILD_B,
         .params = {.delegator = "hcp-1",
                    .permissions = CARDEA_ACCESS_WRITE,
                    .exchange_key = xkey,
                    .exchange_key_len = sizeof xkey,
                    .values = values}},
    };
    json_t *meta = NULL;
    json_t *delegations;
    json_t *d;

    (void)state;
    assert_int_equal(cardea_delegation__build_security_metadata(
                         &meta, &root, children, 2),
                     CARDEA_OK);
    delegations = json_object_get(meta, "secureDelegations");
    assert_int_equal(json_object_size(meta), 1);
    assert_int_equal(json_object_size(delegations), 3);

    d = json_object_get(delegations, SD_ROOT);
    assert_string_equal(cardea_json__get_str(d, "delegator"), "hcp-1");
    assert_string_equal(cardea_json__get_str(d, "delegate"), "hcp-1");
    assert_string_equal(cardea_json__get_str(d, "exchangeDataId"), "xd-self");
    assert_string_equal(cardea_json__get_str(d, "permissions"), "WRITE");
    assert_int_equal(json_array_size(json_object_get(d, "parentDelegations")),
                     0);
    check_values(d, xkey);

    d = json_object_get(delegations, SD_CHILD_A);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(d, "parentDelegations"), 0)),
                        SD_ROOT);
    assert_string_equal(cardea_json__get_str(d, "permissions"), "READ");
    check_values(d, other_key);

    d = json_object_get(delegations, SD_CHILD_B);
    assert_null(json_object_get(d, "delegate"));
    assert_null(json_object_get(d, "exchangeDataId"));
    assert_int_equal(json_array_size(json_object_get(d, "parentDelegations")),
                     1);
    json_decref(meta);
}

static void
test_delegation__anonymous_root_has_no_ids(void **state)
{
    cardea_delegation_entry root = {
        .sd_key = SD_ROOT,
        .params = {.exchange_data_id = "xd-self",
                   .permissions = CARDEA_ACCESS_WRITE,
                   .exchange_key = xkey,
                   .exchange_key_len = sizeof xkey,
                   .values = values},
    };
    json_t *meta = NULL;
    json_t *d;

    (void)state;
    assert_int_equal(cardea_delegation__build_security_metadata(&meta, &root,
                                                                NULL, 0),
                     CARDEA_OK);
    d = json_object_get(json_object_get(meta, "secureDelegations"), SD_ROOT);
    assert_null(json_object_get(d, "delegator"));
    assert_null(json_object_get(d, "delegate"));
    assert_null(json_object_get(d, "exchangeDataId"));
    json_decref(meta);
}

static void
test_delegation__security_metadata_rejects_misuse(void **state)
{
    static const char *const parents[] = {SD_CHILD_A};
    cardea_delegation_entry root = {
        .sd_key = SD_ROOT,
        .params = {.delegator = "hcp-1",
                   .permissions = CARDEA_ACCESS_WRITE,
                   .exchange_key = xkey,
                   .exchange_key_len = sizeof xkey,
                   .values = values},
    };
    cardea_delegation_entry child = root;
    json_t *meta = (json_t *)&meta;

    (void)state;
    /* A child under the root's own key. */
    assert_int_equal(cardea_delegation__build_security_metadata(
                         &meta, &root, &child, 1),
                     CARDEA_EINVAL);
    /* A child that names its own parents. */
    child.sd_key = SD_CHILD_A;
    child.params.parents = parents;
    child.params.parents_len = 1;
    assert_int_equal(cardea_delegation__build_security_metadata(
                         &meta, &root, &child, 1),
                     CARDEA_EINVAL);
    /* A root with READ permission, or to someone else. */
    root.params.permissions = CARDEA_ACCESS_READ;
    assert_int_equal(cardea_delegation__build_security_metadata(&meta, &root,
                                                                NULL, 0),
                     CARDEA_EINVAL);
    root.params.permissions = CARDEA_ACCESS_WRITE;
    root.params.delegate = "hcp-2";
    assert_int_equal(cardea_delegation__build_security_metadata(&meta, &root,
                                                                NULL, 0),
                     CARDEA_EINVAL);
    root.params.delegate = NULL;
    root.sd_key = "not-a-key";
    assert_int_equal(cardea_delegation__build_security_metadata(&meta, &root,
                                                                NULL, 0),
                     CARDEA_EINVAL);
    assert_ptr_equal(meta, (json_t *)&meta);
}

static void
test_delegation__share_request_shape(void **state)
{
    static const char *const names[] = {
        "explicitDelegator", "explicitDelegate", "accessControlKeys",
        "secretIds",         "encryptionKeys",   "owningEntityIds",
        "exchangeDataId",    "requestedPermissions",
    };
    uint8_t ac_keys[2 * CARDEA_AC_KEY_LEN];
    cardea_share_request r = {
        .explicit_delegator = "hcp-1",
        .explicit_delegate = "hcp-2",
        .ac_keys = ac_keys,
        .ac_keys_count = 2,
        .exchange_data_id = "xd-2",
        .permission = CARDEA_PERMISSION_FULL_WRITE,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
        .values = values,
    };
    json_t *req = NULL;
    json_t *keys;

    (void)state;
    for (size_t i = 0; i < sizeof ac_keys; i++) {
        ac_keys[i] = (uint8_t)(0xa0 + i);
    }
    assert_int_equal(cardea_delegation__build_share_request(&req, &r),
                     CARDEA_OK);
    assert_keys(req, names, sizeof names / sizeof names[0]);
    keys = json_object_get(req, "accessControlKeys");
    assert_int_equal(json_array_size(keys), 2);
    assert_string_equal(json_string_value(json_array_get(keys, 0)),
                        "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    assert_string_equal(json_string_value(json_array_get(keys, 1)),
                        "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    assert_string_equal(cardea_json__get_str(req, "requestedPermissions"),
                        "FULL_WRITE");
    check_values(req, xkey);
    json_decref(req);
}

static void
test_delegation__share_request_anonymous(void **state)
{
    static const char *const names[] = {
        "explicitDelegator", "accessControlKeys", "secretIds",
        "encryptionKeys",    "owningEntityIds",   "encryptedExchangeDataId",
        "requestedPermissions",
    };
    static const cardea_requested_permission perms[] = {
        CARDEA_PERMISSION_MAX_READ, CARDEA_PERMISSION_FULL_READ,
        CARDEA_PERMISSION_MAX_WRITE, CARDEA_PERMISSION_FULL_WRITE,
        CARDEA_PERMISSION_ROOT,
    };
    static const char *const perm_names[] = {
        "MAX_READ", "FULL_READ", "MAX_WRITE", "FULL_WRITE", "ROOT",
    };
    uint8_t ac_key[CARDEA_AC_KEY_LEN] = {0};
    json_t *encrypted_id = json_pack("{s:s}", "e245e8d56f327f9f4b1115",
                                     "AAAA");
    cardea_share_request r = {
        .explicit_delegator = "hcp-1",
        .ac_keys = ac_key,
        .ac_keys_count = 1,
        .exchange_data_id = "xd-2",
        .encrypted_exchange_data_id = encrypted_id,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
        .values = values,
    };

    (void)state;
    for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++) {
        json_t *req = NULL;

        r.permission = perms[i];
        assert_int_equal(cardea_delegation__build_share_request(&req, &r),
                         CARDEA_OK);
        assert_keys(req, names, sizeof names / sizeof names[0]);
        assert_true(json_equal(
            json_object_get(req, "encryptedExchangeDataId"), encrypted_id));
        assert_string_equal(cardea_json__get_str(req, "requestedPermissions"),
                            perm_names[i]);
        json_decref(req);
    }
    json_decref(encrypted_id);
}

static void
test_delegation__share_request_rejects_misuse(void **state)
{
    uint8_t ac_key[CARDEA_AC_KEY_LEN] = {0};
    json_t *not_strings = json_pack("{s:i}", "e245e8d56f327f9f4b1115", 1);
    cardea_share_request r = {
        .ac_keys = ac_key,
        .ac_keys_count = 0,
        .permission = CARDEA_PERMISSION_MAX_READ,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
        .values = values,
    };
    json_t *req = (json_t *)&req;

    (void)state;
    assert_int_equal(cardea_delegation__build_share_request(&req, &r),
                     CARDEA_EINVAL);
    r.ac_keys_count = 1;
    r.permission = (cardea_requested_permission)0;
    assert_int_equal(cardea_delegation__build_share_request(&req, &r),
                     CARDEA_EINVAL);
    r.permission = CARDEA_PERMISSION_ROOT;
    r.encrypted_exchange_data_id = not_strings;
    assert_int_equal(cardea_delegation__build_share_request(&req, &r),
                     CARDEA_EINVAL);
    assert_ptr_equal(req, (json_t *)&req);
    json_decref(not_strings);
}

static void
test_delegation__update_request_shape(void **state)
{
    static const char *const names[] = {
        "metadataAccessControlHash", "secretIds", "encryptionKeys",
        "owningEntityIds",
    };
    static const char *const stale[] = {"c3RhbGU="};
    cardea_update_request r = {
        .sd_key = SD_CHILD_A,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
        .create = values,
        .remove = {.secret_ids = stale, .secret_ids_len = 1},
    };
    json_t *req = NULL;
    json_t *ids;
    const char *b64;
    json_t *mark;
    char *plain = NULL;

    (void)state;
    assert_int_equal(cardea_delegation__build_update_request(&req, &r),
                     CARDEA_OK);
    assert_keys(req, names, sizeof names / sizeof names[0]);
    assert_string_equal(cardea_json__get_str(req, "metadataAccessControlHash"),
                        SD_CHILD_A);
    ids = json_object_get(req, "secretIds");
    assert_int_equal(json_object_size(ids), 2);
    assert_string_equal(cardea_json__get_str(ids, "c3RhbGU="), "DELETE");
    json_object_foreach(ids, b64, mark) {
        if (strcmp(b64, "c3RhbGU=") == 0) {
            continue;
        }
        assert_string_equal(json_string_value(mark), "CREATE");
        assert_int_equal(cardea_delegation__decrypt_id(&plain, xkey,
                                                       sizeof xkey, b64),
                         CARDEA_OK);
        assert_string_equal(plain, secret_ids[0]);
        cardea_free(plain);
    }
    assert_int_equal(json_object_size(json_object_get(req, "encryptionKeys")),
                     1);
    json_decref(req);
}

static void
test_delegation__bulk_shape(void **state)
{
    static const char *const parents_1[] = {SD_ROOT};
    static const char *const parents_2[] = {SD_CHILD_A, SD_ROOT};
    json_t *bulk = NULL;
    json_t *share = json_pack("{s:s}", "requestedPermissions", "MAX_READ");
    json_t *update = json_pack("{s:s}", "metadataAccessControlHash", SD_ROOT);
    json_t *entity;
    json_t *parents;
    char *before;
    char *after;

    (void)state;
    assert_int_equal(cardea_delegation__bulk_new(&bulk), CARDEA_OK);
    assert_int_equal(cardea_delegation__bulk_add(bulk, "e1", "r1",
                                                 CARDEA_REQUEST_SHARE, share,
                                                 parents_1, 1),
                     CARDEA_OK);
    assert_int_equal(cardea_delegation__bulk_add(bulk, "e1", "r2",
                                                 CARDEA_REQUEST_UPDATE, update,
                                                 parents_2, 2),
                     CARDEA_OK);
    assert_int_equal(cardea_delegation__bulk_add(bulk, "e2", NULL,
                                                 CARDEA_REQUEST_SHARE, share,
                                                 NULL, 0),
                     CARDEA_OK);

    entity = json_object_get(json_object_get(bulk, "requestsByEntityId"),
                             "e1");
    assert_true(json_equal(
        json_object_get(json_object_get(json_object_get(entity, "requests"),
                                        "r1"),
                        "share"),
        share));
    assert_true(json_equal(
        json_object_get(json_object_get(json_object_get(entity, "requests"),
                                        "r2"),
                        "update"),
        update));
    parents = json_object_get(entity, "potentialParentDelegations");
    assert_int_equal(json_array_size(parents), 2);
    assert_string_equal(json_string_value(json_array_get(parents, 0)),
                        SD_ROOT);
    assert_string_equal(json_string_value(json_array_get(parents, 1)),
                        SD_CHILD_A);

    entity = json_object_get(json_object_get(bulk, "requestsByEntityId"),
                             "e2");
    assert_int_equal(json_object_size(json_object_get(entity, "requests")),
                     1);
    assert_int_equal(json_array_size(
                         json_object_get(entity, "potentialParentDelegations")),
                     0);

    before = cardea_json__dump(bulk);
    assert_int_equal(cardea_delegation__bulk_add(bulk, "e1", "r1",
                                                 CARDEA_REQUEST_SHARE, share,
                                                 parents_2, 2),
                     CARDEA_ECONFLICT);
    assert_int_equal(cardea_delegation__bulk_add(bulk, "e3", "r1",
                                                 CARDEA_REQUEST_SHARE, share,
                                                 (const char *const[]){"x"},
                                                 1),
                     CARDEA_EINVAL);
    after = cardea_json__dump(bulk);
    assert_string_equal(before, after);
    cardea_free(before);
    cardea_free(after);
    json_decref(share);
    json_decref(update);
    json_decref(bulk);
}

static void
test_delegation__canonical_hash_is_smallest(void **state)
{
    uint8_t keys[3 * CARDEA_AC_KEY_LEN];
    char hashes[3][CARDEA_SD_KEY_HEX_LEN + 1];
    char out[CARDEA_SD_KEY_HEX_LEN + 1];
    size_t smallest = 0;
    json_t *req = NULL;
    cardea_share_request r = {
        .ac_keys = keys,
        .ac_keys_count = 3,
        .permission = CARDEA_PERMISSION_MAX_READ,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
    };

    (void)state;
    for (size_t i = 0; i < sizeof keys; i++) {
        keys[i] = (uint8_t)(i * 31 + 5);
    }
    for (size_t i = 0; i < 3; i++) {
        cardea_sdkey__from_ackey(hashes[i], keys + i * CARDEA_AC_KEY_LEN);
        if (strcmp(hashes[i], hashes[smallest]) < 0) {
            smallest = i;
        }
    }
    assert_int_equal(cardea_delegation__build_share_request(&req, &r),
                     CARDEA_OK);
    assert_int_equal(cardea_delegation__canonical_hash(out, req), CARDEA_OK);
    assert_string_equal(out, hashes[smallest]);
    json_decref(req);
}

static void
test_delegation__canonical_hash_vector(void **state)
{
    char out[CARDEA_SD_KEY_HEX_LEN + 1];
    json_t *req = json_pack("{s:[s,s]}", "accessControlKeys",
                            "eda224dee13ba8f7afca0df4b8ef8b0f",
                            "a2ebe0f34253fb9b7cdb79e01abc537c");

    (void)state;
    /* sdKeys 073f... (Contact) and 70da... (Patient): 073f... is smaller. */
    assert_int_equal(cardea_delegation__canonical_hash(out, req), CARDEA_OK);
    assert_string_equal(out, SD_CHILD_A);
    json_decref(req);
}

static void
test_delegation__canonical_hash_rejects_bad_keys(void **state)
{
    static const char *const bodies[] = {
        "{}",
        "{\"accessControlKeys\":[]}",
        "{\"accessControlKeys\":[\"abc\"]}",
        "{\"accessControlKeys\":[\"zz2224dee13ba8f7afca0df4b8ef8b0f\"]}",
        "{\"accessControlKeys\":[7]}",
    };
    char out[CARDEA_SD_KEY_HEX_LEN + 1];

    (void)state;
    memset(out, 'Z', sizeof out);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *req = NULL;

        assert_int_equal(cardea_json__parse(&req, bodies[i],
                                            strlen(bodies[i]), NULL, 0),
                         CARDEA_OK);
        assert_int_equal(cardea_delegation__canonical_hash(out, req),
                         CARDEA_EFORMAT);
        json_decref(req);
    }
    assert_int_equal(out[0], 'Z');
}

static void
test_delegation__decrypt_values_wrong_key(void **state)
{
    cardea_delegation_params p = {
        .permissions = CARDEA_ACCESS_READ,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
        .values = values,
    };
    cardea_delegation_plain plain;
    json_t *d = NULL;

    (void)state;
    memset(&plain, 0xa5, sizeof plain);
    assert_int_equal(cardea_delegation__build(&d, &p), CARDEA_OK);
    assert_int_equal(cardea_delegation__decrypt_values(&plain, d, other_key,
                                                       sizeof other_key),
                     CARDEA_EVERIFY);
    for (size_t i = 0; i < sizeof plain; i++) {
        assert_int_equal(((const uint8_t *)&plain)[i], 0xa5);
    }
    json_decref(d);
}

static void
test_delegation__decrypt_values_drops_repeats(void **state)
{
    static const char *const twice[] = {"s-1", "s-1", "s-2"};
    cardea_delegation_params p = {
        .permissions = CARDEA_ACCESS_READ,
        .exchange_key = xkey,
        .exchange_key_len = sizeof xkey,
        .values = {.secret_ids = twice, .secret_ids_len = 3},
    };
    cardea_delegation_plain plain = {0};
    json_t *d = NULL;
    json_t *ids;
    char *copy;

    (void)state;
    assert_int_equal(cardea_delegation__build(&d, &p), CARDEA_OK);
    ids = json_object_get(d, "secretIds");
    assert_int_equal(json_array_size(ids), 2);

    /* A stored delegation may still hold the same value twice. */
    copy = cardea_mem__strdup(json_string_value(json_array_get(ids, 0)));
    assert_int_equal(json_array_append_new(ids, json_string(copy)), 0);
    cardea_free(copy);
    assert_int_equal(cardea_delegation__decrypt_values(&plain, d, xkey,
                                                       sizeof xkey),
                     CARDEA_OK);
    assert_int_equal(plain.secret_ids_len, 2);
    assert_string_equal(plain.secret_ids[0], "s-1");
    assert_string_equal(plain.secret_ids[1], "s-2");
    assert_int_equal(plain.encryption_keys_len, 0);
    cardea_delegation__plain_free(&plain);
    json_decref(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delegation__key_round_trip),
        cmocka_unit_test(test_delegation__key_plaintext_layout),
        cmocka_unit_test(test_delegation__id_round_trip),
        cmocka_unit_test(test_delegation__id_reads_foreign_blob),
        cmocka_unit_test(test_delegation__wrong_key_rejected),
        cmocka_unit_test(test_delegation__missing_prefix_rejected),
        cmocka_unit_test(test_delegation__bad_inputs_rejected),
        cmocka_unit_test(test_delegation__explicit_shape),
        cmocka_unit_test(test_delegation__anonymous_hides_ids),
        cmocka_unit_test(test_delegation__build_rejects_bad_params),
        cmocka_unit_test(test_delegation__security_metadata_shape),
        cmocka_unit_test(test_delegation__anonymous_root_has_no_ids),
        cmocka_unit_test(test_delegation__security_metadata_rejects_misuse),
        cmocka_unit_test(test_delegation__share_request_shape),
        cmocka_unit_test(test_delegation__share_request_anonymous),
        cmocka_unit_test(test_delegation__share_request_rejects_misuse),
        cmocka_unit_test(test_delegation__update_request_shape),
        cmocka_unit_test(test_delegation__bulk_shape),
        cmocka_unit_test(test_delegation__canonical_hash_is_smallest),
        cmocka_unit_test(test_delegation__canonical_hash_vector),
        cmocka_unit_test(test_delegation__canonical_hash_rejects_bad_keys),
        cmocka_unit_test(test_delegation__decrypt_values_wrong_key),
        cmocka_unit_test(test_delegation__decrypt_values_drops_repeats),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
