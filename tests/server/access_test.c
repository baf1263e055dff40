/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the server's access evaluator. An access matrix runs read,
 * write and share on one entity for nine callers. They are the creator,
 * the explicit READ and WRITE delegates, anonymous callers with the right
 * key, a wrong key and another entity type's key, an unrelated HCP, the
 * child of a delegate HCP, and a caller with nothing. Other tests cover
 * the hashing of header keys, validation of securityMetadata, and the
 * create and modify checks, including forged delegators and the legacy
 * access maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "format/keys.h"
#include "server/access.h"
#include "server/share.h"

#define KEY_LEN (CARDEA_SD_KEY_HEX_LEN + 1)

/* Secrets and keys of the test entity, derived like the official SDK. */
typedef struct fixture {
    char root[KEY_LEN];      /* hcp-creator -> hcp-creator, WRITE */
    char reader[KEY_LEN];    /* hcp-creator -> hcp-reader, READ */
    char writer[KEY_LEN];    /* hcp-creator -> hcp-writer, WRITE */
    char anon[KEY_LEN];      /* hcp-creator -> anonymous patient, READ */
    char anon_as_patient[KEY_LEN]; /* same secret, Patient type */
    char wrong[KEY_LEN];     /* a key of an unrelated secret */
    json_t *entity;
} fixture;

static void
fill_secret(uint8_t secret[CARDEA_AC_SECRET_LEN], uint8_t seed)
{
    for (size_t i = 0; i < CARDEA_AC_SECRET_LEN; i++) {
        secret[i] = (uint8_t)(seed * 16 + i);
    }
}

static void
derive_sd_key(char out[KEY_LEN], uint8_t seed, const char *type)
{
    uint8_t secret[CARDEA_AC_SECRET_LEN], ackey[CARDEA_AC_KEY_LEN];

    fill_secret(secret, seed);
    assert_int_equal(cardea_ackey__derive(ackey, secret, type), CARDEA_OK);
    cardea_sdkey__from_ackey(out, ackey);
}

static json_t *
delegation(const char *delegator, const char *delegate, const char *parent,
           const char *permissions)
{
    json_t *d = json_pack("{s:[s], s:[], s:[], s:s}", "secretIds", "c2VjcmV0",
                          "encryptionKeys", "owningEntityIds", "permissions",
                          permissions);

    assert_non_null(d);
    if (delegator != NULL) {
        assert_int_equal(json_object_set_new(d, "delegator",
                                             json_string(delegator)), 0);
    }
    if (delegate != NULL) {
        assert_int_equal(json_object_set_new(d, "delegate",
                                             json_string(delegate)), 0);
    }
    assert_int_equal(json_object_set_new(d, "parentDelegations",
                                         parent != NULL
                                             ? json_pack("[s]", parent)
                                             : json_array()), 0);
    return d;
}

static json_t *
entity_with(json_t *delegations)
{
    json_t *entity = json_pack("{s:s, s:s, s:s, s:{s:o}}", "id", "he-1",
                               "rev", "1-abc", "note", "clear field",
                               "securityMetadata", "secureDelegations",
                               delegations);

    assert_non_null(entity);
    return entity;
}

static void
fixture_init(fixture *f)
{
    json_t *delegations = json_object();

    derive_sd_key(f->root, 1, "HealthElement");
    derive_sd_key(f->reader, 2, "HealthElement");
    derive_sd_key(f->writer, 3, "HealthElement");
    derive_sd_key(f->anon, 4, "HealthElement");
    derive_sd_key(f->anon_as_patient, 4, "Patient");
    derive_sd_key(f->wrong, 5, "HealthElement");
    assert_string_not_equal(f->anon, f->anon_as_patient);

    json_object_set_new(delegations, f->root,
                        delegation("hcp-creator", "hcp-creator", NULL,
                                   "WRITE"));
    json_object_set_new(delegations, f->reader,
                        delegation("hcp-creator", "hcp-reader", f->root,
                                   "READ"));
    json_object_set_new(delegations, f->writer,
                        delegation("hcp-creator", "hcp-writer", f->root,
                                   "WRITE"));
    json_object_set_new(delegations, f->anon,
                        delegation("hcp-creator", NULL, f->root, "READ"));
    f->entity = entity_with(delegations);
}

static cardea_access_caller
hcp(const char *id)
{
    cardea_access_caller caller = {0};

    caller.user_id = "user";
    caller.data_owner_id = id;
    caller.data_owner_type = CARDEA_DATA_OWNER_HCP;
    return caller;
}

/* ---- the access matrix ------------------------------------------------- */

enum { OP_READ, OP_WRITE, OP_SHARE, OP_COUNT };

/* Expected result per operation: 0 for allowed, else the HTTP status. */
typedef struct matrix_row {
    const char *name;
    cardea_access_caller caller;
    int expected[OP_COUNT];
} matrix_row;

static int
run_read(const cardea_access_caller *caller, const json_t *entity)
{
    return cardea_access__level(caller, entity) >= CARDEA_ACCESS_READ ? 0
                                                                      : 404;
}

static int
run_write(const cardea_access_caller *caller, const json_t *entity)
{
    cardea_access_error err = {0};
    json_t *incoming = json_deep_copy(entity);
    cardea_err rc;

    json_object_set_new(incoming, "note", json_string("edited"));
    rc = cardea_access__check_modify(&err, caller, entity, incoming);
    json_decref(incoming);
    return rc == CARDEA_OK ? 0 : err.status;
}

/* A MAX_READ share to a new explicit delegate, naming every delegation. */
static int
run_share(const cardea_access_caller *caller, const fixture *f)
{
    json_t *request = json_pack(
        "{s:{s:{s:{s:s, s:[s], s:s}}}, s:[s,s,s,s]}", "requests", "0",
        "share", "explicitDelegate", "hcp-new", "accessControlKeys",
        "0f0e0d0c0b0a09080706050403020100", "requestedPermissions",
        "MAX_READ", "potentialParentDelegations", f->root, f->reader,
        f->writer, f->anon);
    cardea_share_outcome outcome = {0};
    int answer;

    assert_non_null(request);
    assert_int_equal(cardea_share__apply(&outcome, caller, "HealthElement",
                                         f->entity, request),
                     CARDEA_OK);
    if (outcome.accepted_count == 1) {
        answer = 0;
    } else {
        json_t *rejection = json_object_get(
            json_object_get(outcome.result, "rejectedRequests"), "0");

        answer = (int)json_integer_value(json_object_get(rejection, "code"));
    }
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    return answer;
}

static void
test_access__matrix(void **state)
{
    static const char *const op_names[] = {"read", "write", "share"};
    static const char *const reader_hierarchy[] = {"hcp-org", "hcp-reader"};
    fixture f;
    const char *right_key[1], *wrong_key[1], *other_type_key[1];
    size_t cells = 0, wrong = 0;

    (void)state;
    fixture_init(&f);
    right_key[0] = f.anon;
    wrong_key[0] = f.wrong;
    other_type_key[0] = f.anon_as_patient;

    matrix_row rows[] = {
        {"creator", hcp("hcp-creator"), {0, 0, 0}},
        {"explicit READ delegate", hcp("hcp-reader"), {0, 403, 0}},
        {"explicit WRITE delegate", hcp("hcp-writer"), {0, 0, 0}},
        {"anonymous, right key", hcp("patient-1"), {0, 403, 0}},
        {"anonymous, wrong key", hcp("patient-1"), {404, 404, 404}},
        {"anonymous, Patient-type key", hcp("patient-1"), {404, 404, 404}},
        {"unrelated HCP", hcp("hcp-stranger"), {404, 404, 404}},
        {"child of READ delegate", hcp("hcp-reader-child"), {0, 403, 0}},
        {"no data owner, no keys", hcp(NULL), {404, 404, 404}},
    };
    rows[3].caller.data_owner_type = CARDEA_DATA_OWNER_PATIENT;
    rows[3].caller.key_hashes = right_key;
    rows[3].caller.key_hash_count = 1;
    rows[4].caller.data_owner_type = CARDEA_DATA_OWNER_PATIENT;
    rows[4].caller.key_hashes = wrong_key;
    rows[4].caller.key_hash_count = 1;
    rows[5].caller.data_owner_type = CARDEA_DATA_OWNER_PATIENT;
    rows[5].caller.key_hashes = other_type_key;
    rows[5].caller.key_hash_count = 1;
    rows[7].caller.ancestor_ids = reader_hierarchy;
    rows[7].caller.ancestor_count = 2;
    rows[8].caller.data_owner_type = CARDEA_DATA_OWNER_NONE;

    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        int got[OP_COUNT];

        got[OP_READ] = run_read(&rows[r].caller, f.entity);
        got[OP_WRITE] = run_write(&rows[r].caller, f.entity);
        got[OP_SHARE] = run_share(&rows[r].caller, &f);
        for (size_t op = 0; op < OP_COUNT; op++) {
            cells++;
            if (got[op] != rows[r].expected[op]) {
                wrong++;
                print_error("matrix: %s / %s: expected %d, got %d\n",
                            rows[r].name, op_names[op],
                            rows[r].expected[op], got[op]);
            }
        }
    }
    print_message("access matrix: %zu cells, %zu wrong\n", cells, wrong);
    assert_int_equal(cells, 27);
    assert_int_equal(wrong, 0);
    json_decref(f.entity);
}

static void
test_access__level_values(void **state)
{
    fixture f;
    cardea_access_caller creator = hcp("hcp-creator");
    cardea_access_caller reader = hcp("hcp-reader");

    (void)state;
    fixture_init(&f);
    assert_int_equal(cardea_access__level(&creator, f.entity),
                     CARDEA_ACCESS_WRITE);
    assert_int_equal(cardea_access__level(&reader, f.entity),
                     CARDEA_ACCESS_READ);
    assert_int_equal(cardea_access__level(&reader, NULL), CARDEA_ACCESS_NONE);
    assert_int_equal(cardea_access__level(NULL, f.entity),
                     CARDEA_ACCESS_NONE);
    json_decref(f.entity);
}

static void
test_access__delegator_side_matches(void **state)
{
    json_t *d = delegation("hcp-a", NULL, NULL, "WRITE");
    cardea_access_caller a = hcp("hcp-a");
    cardea_access_caller b = hcp("hcp-b");

    (void)state;
    assert_true(cardea_access__matches_delegation(&a, NULL, d));
    assert_false(cardea_access__matches_delegation(&b, NULL, d));
    assert_false(cardea_access__matches_delegation(&b, "x", d));
    json_decref(d);
}

static void
test_access__legacy_delegations_give_write(void **state)
{
    json_t *entity = json_pack("{s:s, s:{s:[]}}", "id", "p-1", "delegations",
                               "hcp-old");
    static const char *const parents[] = {"hcp-old"};
    cardea_access_caller holder = hcp("hcp-old");
    cardea_access_caller child = hcp("hcp-child");
    cardea_access_caller other = hcp("hcp-other");

    (void)state;
    child.ancestor_ids = parents;
    child.ancestor_count = 1;
    assert_int_equal(cardea_access__level(&holder, entity),
                     CARDEA_ACCESS_WRITE);
    assert_int_equal(cardea_access__level(&child, entity),
                     CARDEA_ACCESS_WRITE);
    assert_int_equal(cardea_access__level(&other, entity),
                     CARDEA_ACCESS_NONE);
    json_decref(entity);
}

/* ---- header key hashing ----------------------------------------------- */

static void
test_access__hash_keys_known_answer(void **state)
{
    /* acKeys of secret 00..0f for Patient and Contact, twice the first. */
    static const char *const hex =
        "a2ebe0f34253fb9b7cdb79e01abc537c"
        "eda224dee13ba8f7afca0df4b8ef8b0f"
        "a2ebe0f34253fb9b7cdb79e01abc537c";
    uint8_t keys[48];
    size_t len = 0, count = 0;
    char **hashes = NULL;

    (void)state;
    assert_int_equal(cardea_hex__decode(keys, sizeof keys, &len, hex,
                                        strlen(hex)), CARDEA_OK);
    assert_int_equal(cardea_access__hash_keys(&hashes, &count, keys, len),
                     CARDEA_OK);
    assert_int_equal(count, 2);
    assert_string_equal(hashes[0], "073fb39ee8ceb9abcf8bdd61c44826f5"
                                   "1cfb712200d8d482a54813947ab26b1f");
    assert_string_equal(hashes[1], "70da1d6de5e21e934dd620caa05ab951"
                                   "4b4d5d89955a78b7c92e516cda8492d7");
    cardea_free(hashes);
}

static void
test_access__hash_keys_rejects_partial_key(void **state)
{
    uint8_t keys[17] = {0};
    char **hashes = (char **)&hashes;
    char **sentinel = hashes;
    size_t count = 99;

    (void)state;
    assert_int_equal(cardea_access__hash_keys(&hashes, &count, keys, 17),
                     CARDEA_EINVAL);
    assert_ptr_equal(hashes, sentinel);
    assert_int_equal(count, 99);
    assert_int_equal(cardea_access__hash_keys(&hashes, &count, keys, 0),
                     CARDEA_OK);
    assert_null(hashes);
    assert_int_equal(count, 0);
}

/* ---- securityMetadata validation -------------------------------------- */

static json_t *
two_delegations(const char *a, json_t *da, const char *b, json_t *db)
{
    json_t *delegations = json_object();

    json_object_set_new(delegations, a, da);
    if (b != NULL) {
        json_object_set_new(delegations, b, db);
    }
    return entity_with(delegations);
}

static void
expect_invalid(json_t *entity, const char *fragment)
{
    cardea_access_error err = {0};

    assert_int_equal(cardea_access__validate_metadata(&err, entity),
                     CARDEA_EINVAL);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, fragment));
    json_decref(entity);
}

static void
test_access__validate_accepts_fixture(void **state)
{
    cardea_access_error err = {.status = 7};
    fixture f;
    json_t *legacy = json_pack("{s:s}", "id", "x");

    (void)state;
    fixture_init(&f);
    assert_int_equal(cardea_access__validate_metadata(&err, f.entity),
                     CARDEA_OK);
    assert_int_equal(cardea_access__validate_metadata(&err, legacy),
                     CARDEA_OK);
    assert_int_equal(err.status, 7);
    json_decref(f.entity);
    json_decref(legacy);
}

static void
test_access__validate_rejects_bad_metadata(void **state)
{
    fixture f;

    (void)state;
    fixture_init(&f);
    expect_invalid(two_delegations(f.root, delegation("a", "a", NULL, "READ"),
                                   NULL, NULL),
                   "must be WRITE");
    expect_invalid(two_delegations(f.root,
                                   delegation("a", "a", f.reader, "WRITE"),
                                   NULL, NULL),
                   "does not exist");
    expect_invalid(two_delegations(f.root,
                                   delegation("a", "a", f.reader, "WRITE"),
                                   f.reader,
                                   delegation("a", "b", f.root, "READ")),
                   "cycle");
    expect_invalid(two_delegations("ABCDEF", delegation("a", "a", NULL,
                                                        "WRITE"),
                                   NULL, NULL),
                   "64 lowercase hex");
    expect_invalid(entity_with(json_object()), "non-empty");
    expect_invalid(two_delegations(f.root, delegation("a", "a", NULL, "ALL"),
                                   NULL, NULL),
                   "READ or WRITE");
    json_decref(f.entity);
}

static void
test_access__validate_rejects_self_parent(void **state)
{
    fixture f;
    json_t *root = delegation("a", "a", NULL, "WRITE");

    (void)state;
    fixture_init(&f);
    expect_invalid(two_delegations(f.root, root, f.reader,
                                   delegation("a", "b", f.reader, "READ")),
                   "cycle");
    json_decref(f.entity);
}

/* ---- create and modify ------------------------------------------------ */

static void
test_access__create_accepts_own_roots(void **state)
{
    cardea_access_error err = {0};
    fixture f;
    cardea_access_caller creator = hcp("hcp-creator");
    cardea_access_caller patient = hcp("patient-1");
    const char *keys[1];
    json_t *anon_root;

    (void)state;
    fixture_init(&f);
    assert_int_equal(cardea_access__check_create(&err, &creator, f.entity),
                     CARDEA_OK);

    keys[0] = f.anon;
    patient.key_hashes = keys;
    patient.key_hash_count = 1;
    anon_root = two_delegations(f.anon, delegation(NULL, NULL, NULL, "WRITE"),
                                NULL, NULL);
    assert_int_equal(cardea_access__check_create(&err, &patient, anon_root),
                     CARDEA_OK);
    json_decref(anon_root);
    json_decref(f.entity);
}

static void
test_access__create_rejects_foreign_root(void **state)
{
    cardea_access_error err = {0};
    fixture f;
    cardea_access_caller writer = hcp("hcp-writer");
    cardea_access_caller patient = hcp("patient-1");
    const char *keys[1];
    json_t *anon_root, *no_metadata;

    (void)state;
    fixture_init(&f);
    assert_int_equal(cardea_access__check_create(&err, &writer, f.entity),
                     CARDEA_EACCESS);
    assert_int_equal(err.status, 403);

    /* The right key, but the root names another delegate. */
    keys[0] = f.anon;
    patient.key_hashes = keys;
    patient.key_hash_count = 1;
    anon_root = two_delegations(f.anon,
                                delegation(NULL, "hcp-writer", NULL, "WRITE"),
                                NULL, NULL);
    assert_int_equal(cardea_access__check_create(&err, &patient, anon_root),
                     CARDEA_EACCESS);
    json_decref(anon_root);

    /* A second root that belongs to someone else. */
    anon_root = two_delegations(f.anon, delegation(NULL, NULL, NULL, "WRITE"),
                                f.root,
                                delegation("hcp-writer", "hcp-writer", NULL,
                                           "WRITE"));
    assert_int_equal(cardea_access__check_create(&err, &patient, anon_root),
                     CARDEA_EACCESS);
    json_decref(anon_root);

    no_metadata = json_pack("{s:s}", "id", "x");
    err.status = 0;
    assert_int_equal(cardea_access__check_create(&err, &writer, no_metadata),
                     CARDEA_EINVAL);
    assert_int_equal(err.status, 400);
    json_decref(no_metadata);
    json_decref(f.entity);
}

static void
test_access__modify_checks_rev_and_metadata(void **state)
{
    cardea_access_error err = {0};
    fixture f;
    cardea_access_caller creator = hcp("hcp-creator");
    json_t *incoming;

    (void)state;
    fixture_init(&f);

    incoming = json_deep_copy(f.entity);
    json_object_set_new(incoming, "rev", json_string("0-old"));
    assert_int_equal(cardea_access__check_modify(&err, &creator, f.entity,
                                                 incoming),
                     CARDEA_ECONFLICT);
    assert_int_equal(err.status, 409);
    json_decref(incoming);

    incoming = json_deep_copy(f.entity);
    json_object_set_new(json_object_get(json_object_get(json_object_get(
                            incoming, "securityMetadata"),
                            "secureDelegations"), f.reader),
                        "permissions", json_string("WRITE"));
    assert_int_equal(cardea_access__check_modify(&err, &creator, f.entity,
                                                 incoming),
                     CARDEA_EINVAL);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, "bulkSharedMetadataUpdate"));
    json_decref(incoming);

    incoming = json_deep_copy(f.entity);
    json_object_set_new(incoming, "id", json_string("he-2"));
    assert_int_equal(cardea_access__check_modify(&err, &creator, f.entity,
                                                 incoming),
                     CARDEA_EINVAL);
    json_decref(incoming);
    json_decref(f.entity);
}

/* The official SDK leaves out empty arrays when it sends an entity back. */
static void
test_access__modify_ignores_missing_empty_arrays(void **state)
{
    cardea_access_error err = {.status = 1};
    fixture f;
    cardea_access_caller creator = hcp("hcp-creator");
    json_t *incoming, *delegations, *reordered, *value;
    const char *key;

    (void)state;
    fixture_init(&f);
    incoming = json_deep_copy(f.entity);
    delegations = json_object_get(json_object_get(incoming,
                                                  "securityMetadata"),
                                  "secureDelegations");
    json_object_foreach(delegations, key, value) {
        json_object_del(value, "encryptionKeys");
        json_object_set_new(value, "owningEntityIds", json_null());
    }
    json_object_del(json_object_get(delegations, f.root),
                    "parentDelegations");

    /* Same delegations inserted in reverse order. */
    reordered = json_object();
    for (int i = 3; i >= 0; i--) {
        const char *keys[] = {f.root, f.reader, f.writer, f.anon};

        json_object_set(reordered, keys[i],
                        json_object_get(delegations, keys[i]));
    }
    json_object_set_new(json_object_get(incoming, "securityMetadata"),
                        "secureDelegations", reordered);

    assert_int_equal(cardea_access__check_modify(&err, &creator, f.entity,
                                                 incoming),
                     CARDEA_OK);
    assert_int_equal(err.status, 1);
    assert_true(cardea_access__metadata_equal(
        json_object_get(f.entity, "securityMetadata"),
        json_object_get(incoming, "securityMetadata")));
    json_decref(incoming);
    json_decref(f.entity);
}

static void
test_access__create_rejects_forged_delegator(void **state)
{
    cardea_access_error err = {.status = 1};
    fixture f;
    cardea_access_caller writer = hcp("hcp-writer");
    json_t *entity;
    char child[KEY_LEN];

    (void)state;
    fixture_init(&f);
    derive_sd_key(child, 6, "HealthElement");
    entity = two_delegations(f.writer,
                             delegation("hcp-writer", "hcp-writer", NULL,
                                        "WRITE"),
                             child,
                             delegation("hcp-writer", "hcp-reader",
                                        f.writer, "READ"));
    assert_int_equal(cardea_access__check_create(&err, &writer, entity),
                     CARDEA_OK);
    assert_int_equal(err.status, 1);

    /* The same child claiming that hcp-creator made it. */
    json_object_set_new(json_object_get(json_object_get(json_object_get(
                            entity, "securityMetadata"),
                            "secureDelegations"), child),
                        "delegator", json_string("hcp-creator"));
    assert_int_equal(cardea_access__check_create(&err, &writer, entity),
                     CARDEA_EACCESS);
    assert_int_equal(err.status, 403);
    assert_non_null(strstr(err.message, "delegator"));
    json_decref(entity);
    json_decref(f.entity);
}

static void
test_access__create_limits_legacy_maps(void **state)
{
    static const char *const maps[] = {
        "delegations", "encryptionKeys", "cryptedForeignKeys",
    };
    cardea_access_error err = {.status = 1};
    fixture f;
    cardea_access_caller creator = hcp("hcp-creator");

    (void)state;
    fixture_init(&f);
    for (size_t m = 0; m < 3; m++) {
        json_t *entity = json_deep_copy(f.entity);

        json_object_set_new(entity, maps[m],
                            json_pack("{s:[{s:s, s:s}]}", "hcp-creator",
                                      "owner", "hcp-creator", "delegatedTo",
                                      "hcp-creator"));
        err.status = 1;
        assert_int_equal(cardea_access__check_create(&err, &creator,
                                                     entity),
                         CARDEA_OK);
        assert_int_equal(err.status, 1);

        json_object_set_new(entity, maps[m], json_pack("{s:[]}", "hcp-x"));
        assert_int_equal(cardea_access__check_create(&err, &creator,
                                                     entity),
                         CARDEA_EINVAL);
        assert_int_equal(err.status, 400);

        json_object_set_new(entity, maps[m],
                            json_pack("{s:[{s:s}]}", "hcp-creator",
                                      "delegatedTo", "hcp-x"));
        err.status = 1;
        assert_int_equal(cardea_access__check_create(&err, &creator,
                                                     entity),
                         CARDEA_EINVAL);
        assert_int_equal(err.status, 400);

        json_object_set_new(entity, maps[m], json_string("x"));
        err.status = 1;
        assert_int_equal(cardea_access__check_create(&err, &creator,
                                                     entity),
                         CARDEA_EINVAL);
        assert_int_equal(err.status, 400);
        json_decref(entity);
    }
    json_decref(f.entity);
}

static void
test_access__modify_keeps_legacy_maps(void **state)
{
    cardea_access_error err = {.status = 1};
    fixture f;
    cardea_access_caller creator = hcp("hcp-creator");
    json_t *incoming;

    (void)state;
    fixture_init(&f);
    json_object_set_new(f.entity, "delegations",
                        json_pack("{s:[]}", "hcp-creator"));

    /* Same keys, other spelling of empty: allowed. */
    incoming = json_deep_copy(f.entity);
    json_object_set_new(incoming, "delegations",
                        json_pack("{s:n}", "hcp-creator"));
    json_object_set_new(incoming, "encryptionKeys", json_object());
    assert_int_equal(cardea_access__check_modify(&err, &creator, f.entity,
                                                 incoming),
                     CARDEA_OK);
    assert_int_equal(err.status, 1);
    json_decref(incoming);

    /* An added key with an empty value grants WRITE, so it differs. */
    incoming = json_deep_copy(f.entity);
    json_object_set_new(json_object_get(incoming, "delegations"), "hcp-x",
                        json_array());
    assert_int_equal(cardea_access__check_modify(&err, &creator, f.entity,
                                                 incoming),
                     CARDEA_EINVAL);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, "delegations"));
    json_decref(incoming);

    incoming = json_deep_copy(f.entity);
    json_object_set_new(incoming, "cryptedForeignKeys",
                        json_pack("{s:[]}", "hcp-x"));
    err.status = 1;
    assert_int_equal(cardea_access__check_modify(&err, &creator, f.entity,
                                                 incoming),
                     CARDEA_EINVAL);
    assert_int_equal(err.status, 400);
    json_decref(incoming);

    /* Dropping the key is a change too. */
    incoming = json_deep_copy(f.entity);
    json_object_del(incoming, "delegations");
    err.status = 1;
    assert_int_equal(cardea_access__check_modify(&err, &creator, f.entity,
                                                 incoming),
                     CARDEA_EINVAL);
    assert_int_equal(err.status, 400);
    json_decref(incoming);
    json_decref(f.entity);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access__matrix),
        cmocka_unit_test(test_access__level_values),
        cmocka_unit_test(test_access__delegator_side_matches),
        cmocka_unit_test(test_access__legacy_delegations_give_write),
        cmocka_unit_test(test_access__hash_keys_known_answer),
        cmocka_unit_test(test_access__hash_keys_rejects_partial_key),
        cmocka_unit_test(test_access__validate_accepts_fixture),
        cmocka_unit_test(test_access__validate_rejects_bad_metadata),
        cmocka_unit_test(test_access__validate_rejects_self_parent),
        cmocka_unit_test(test_access__create_accepts_own_roots),
        cmocka_unit_test(test_access__create_rejects_foreign_root),
        cmocka_unit_test(test_access__modify_checks_rev_and_metadata),
        cmocka_unit_test(test_access__modify_ignores_missing_empty_arrays),
        cmocka_unit_test(test_access__create_rejects_forged_delegator),
        cmocka_unit_test(test_access__create_limits_legacy_maps),
        cmocka_unit_test(test_access__modify_keeps_legacy_maps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
