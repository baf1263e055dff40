/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of bulk share and metadata update on one entity: canonical keys,
 * parents and their minimal set, permissions per requested level, ROOT
 * rules, update requests, the ExchangeDataMap side effect, that no
 * anonymous id is written, and the save hooks. They also cover the checks
 * the open-source backends leave out: grafting onto a delegation the
 * caller cannot access, a spoofed explicitDelegator, and FULL_WRITE by a
 * READ holder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "format/keys.h"
#include "server/access.h"
#include "server/share.h"

#define KEY_LEN (CARDEA_SD_KEY_HEX_LEN + 1)

/* Access-control keys (hex) used by share requests. */
#define AC_A "00112233445566778899aabbccddeeff"
#define AC_B "ffeeddccbbaa99887766554433221100"
#define AC_C "0123456789abcdef0123456789abcdef"

typedef struct fixture {
    char root[KEY_LEN];     /* hcp-1 -> hcp-1, WRITE */
    char reader[KEY_LEN];   /* hcp-1 -> hcp-2, READ */
    char anon[KEY_LEN];     /* hcp-1 -> anonymous patient, WRITE */
    json_t *entity;
} fixture;

static void
sd_key_of_hex(char out[KEY_LEN], const char *ackey_hex)
{
    uint8_t raw[CARDEA_AC_KEY_LEN];
    size_t len = 0;

    assert_int_equal(cardea_hex__decode(raw, sizeof raw, &len, ackey_hex,
                                        strlen(ackey_hex)), CARDEA_OK);
    cardea_sdkey__from_ackey(out, raw);
}

static json_t *
delegation(const char *delegator, const char *delegate, const char *parent,
           const char *permissions)
{
    json_t *d = json_pack("{s:[s], s:[s], s:[], s:s}", "secretIds", "c2lk",
                          "encryptionKeys", "a2V5", "owningEntityIds",
                          "permissions", permissions);

    if (delegator != NULL) {
        json_object_set_new(d, "delegator", json_string(delegator));
    }
    if (delegate != NULL) {
        json_object_set_new(d, "delegate", json_string(delegate));
    }
    json_object_set_new(d, "parentDelegations",
                        parent != NULL ? json_pack("[s]", parent)
                                       : json_array());
    return d;
}

static void
fixture_init(fixture *f)
{
    json_t *delegations = json_object();

    sd_key_of_hex(f->root, "10101010101010101010101010101010");
    sd_key_of_hex(f->reader, "20202020202020202020202020202020");
    sd_key_of_hex(f->anon, "30303030303030303030303030303030");
    json_object_set_new(delegations, f->root,
                        delegation("hcp-1", "hcp-1", NULL, "WRITE"));
    json_object_set_new(delegations, f->reader,
                        delegation("hcp-1", "hcp-2", f->root, "READ"));
    json_object_set_new(delegations, f->anon,
                        delegation("hcp-1", NULL, f->root, "WRITE"));
    f->entity = json_pack("{s:s, s:s, s:{s:o}}", "id", "he-1", "rev",
                          "1-a", "securityMetadata", "secureDelegations",
                          delegations);
    assert_non_null(f->entity);
}

static cardea_access_caller
hcp(const char *id)
{
    cardea_access_caller caller = {0};

    caller.data_owner_id = id;
    caller.data_owner_type = CARDEA_DATA_OWNER_HCP;
    return caller;
}

/* Parses a request written with single quotes for readability. */
static json_t *
load(const char *text)
{
    char *copy = strdup(text);
    json_t *value = NULL;

    assert_non_null(copy);
    for (char *c = copy; *c != '\0'; c++) {
        if (*c == '\'') {
            *c = '"';
        }
    }
    assert_int_equal(cardea_json__parse(&value, copy, strlen(copy), NULL, 0),
                     CARDEA_OK);
    free(copy);
    return value;
}

/* One share request "0" with the given share object and parents. */
static json_t *
one_share(json_t *share, json_t *parents)
{
    json_t *request = json_pack("{s:{s:{s:o}}, s:o}", "requests", "0",
                                "share", share, "potentialParentDelegations",
                                parents);

    assert_non_null(request);
    return request;
}

static json_t *
new_delegation(const cardea_share_outcome *outcome, const char *key)
{
    return json_object_get(json_object_get(json_object_get(outcome->entity,
                                                           "securityMetadata"),
                                           "secureDelegations"),
                           key);
}

static int
rejection_code(const cardea_share_outcome *outcome, const char *id)
{
    json_t *rejection = json_object_get(
        json_object_get(outcome->result, "rejectedRequests"), id);

    assert_non_null(rejection);
    assert_false(json_is_true(json_object_get(rejection, "shouldRetry")));
    assert_non_null(json_string_value(json_object_get(rejection, "reason")));
    return (int)json_integer_value(json_object_get(rejection, "code"));
}

/* Applies a request expected to be rejected and returns its code. */
static int
apply_rejected(const cardea_access_caller *caller, const char *type,
               const json_t *entity, json_t *request)
{
    cardea_share_outcome outcome = {0};
    int code;

    assert_int_equal(cardea_share__apply(&outcome, caller, type, entity,
                                         request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 0);
    assert_null(outcome.entity);
    assert_int_equal(outcome.map_update_count, 0);
    code = rejection_code(&outcome, "0");
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    return code;
}

static void
test_share__explicit_share_uses_canonical_key(void **state)
{
    fixture f;
    cardea_access_caller caller = hcp("hcp-1");
    cardea_share_outcome outcome = {0};
    char key_a[KEY_LEN], key_b[KEY_LEN];
    const char *canonical;
    json_t *request, *d;
    char *before, *after;

    (void)state;
    fixture_init(&f);
    sd_key_of_hex(key_a, AC_A);
    sd_key_of_hex(key_b, AC_B);
    canonical = strcmp(key_a, key_b) < 0 ? key_a : key_b;
    request = one_share(load("{'explicitDelegator':'hcp-1',"
                             "'explicitDelegate':'hcp-3',"
                             "'accessControlKeys':['" AC_A "','" AC_B "'],"
                             "'secretIds':['s1'],'encryptionKeys':['k1'],"
                             "'owningEntityIds':[],'exchangeDataId':'ed-1',"
                             "'requestedPermissions':'MAX_WRITE'}"),
                        json_pack("[s]", f.root));
    before = cardea_json__dump(f.entity);

    assert_int_equal(cardea_share__apply(&outcome, &caller, "HealthElement",
                                         f.entity, request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 1);
    assert_int_equal(outcome.rejected_count, 0);
    d = new_delegation(&outcome, canonical);
    assert_non_null(d);
    assert_string_equal(cardea_json__get_str(d, "delegator"), "hcp-1");
    assert_string_equal(cardea_json__get_str(d, "delegate"), "hcp-3");
    assert_string_equal(cardea_json__get_str(d, "exchangeDataId"), "ed-1");
    assert_string_equal(cardea_json__get_str(d, "permissions"), "WRITE");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(d, "parentDelegations"), 0)),
                        f.root);
    assert_null(new_delegation(&outcome,
                               canonical == key_a ? key_b : key_a));
    assert_int_equal(outcome.map_update_count, 0);

    /* The input entity is never modified. */
    after = cardea_json__dump(f.entity);
    assert_string_equal(before, after);
    cardea_free(before);
    cardea_free(after);
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(f.entity);
}

static void
test_share__anonymous_delegate_makes_map_update(void **state)
{
    fixture f;
    cardea_access_caller caller = hcp("hcp-1");
    cardea_share_outcome outcome = {0};
    char key[KEY_LEN];
    json_t *request, *d;

    (void)state;
    fixture_init(&f);
    sd_key_of_hex(key, AC_C);
    request = one_share(load("{'explicitDelegator':'hcp-1',"
                             "'accessControlKeys':['" AC_C "'],"
                             "'exchangeDataId':'ed-leak',"
                             "'encryptedExchangeDataId':{'fp1':'ZW5j'},"
                             "'requestedPermissions':'MAX_WRITE'}"),
                        json_pack("[s]", f.root));

    assert_int_equal(cardea_share__apply(&outcome, &caller, "HealthElement",
                                         f.entity, request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 1);
    d = new_delegation(&outcome, key);
    assert_non_null(d);
    assert_null(json_object_get(d, "delegate"));
    assert_null(json_object_get(d, "exchangeDataId"));
    assert_int_equal(json_array_size(json_object_get(d, "secretIds")), 0);

    assert_int_equal(outcome.map_update_count, 1);
    assert_string_equal(outcome.map_updates[0].id, key);
    assert_string_equal(json_string_value(json_object_get(
                            outcome.map_updates[0].encrypted_ids, "fp1")),
                        "ZW5j");
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(f.entity);
}

static void
test_share__anonymous_caller_id_never_written(void **state)
{
    fixture f;
    cardea_access_caller patient = hcp("patient-secret-id");
    cardea_share_outcome outcome = {0};
    const char *keys[1];
    char key[KEY_LEN];
    json_t *request, *d;
    char *text;

    (void)state;
    fixture_init(&f);
    keys[0] = f.anon;
    patient.data_owner_type = CARDEA_DATA_OWNER_PATIENT;
    patient.key_hashes = keys;
    patient.key_hash_count = 1;
    sd_key_of_hex(key, AC_C);
    request = one_share(load("{'explicitDelegate':'hcp-1',"
                             "'accessControlKeys':['" AC_C "'],"
                             "'encryptedExchangeDataId':{'fp':'eA=='},"
                             "'requestedPermissions':'MAX_WRITE'}"),
                        json_pack("[s]", f.anon));

    assert_int_equal(cardea_share__apply(&outcome, &patient,
                                         "HealthElement", f.entity, request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 1);
    d = new_delegation(&outcome, key);
    assert_non_null(d);
    assert_null(json_object_get(d, "delegator"));
    assert_string_equal(cardea_json__get_str(d, "delegate"), "hcp-1");
    assert_string_equal(cardea_json__get_str(d, "permissions"), "WRITE");
    text = cardea_json__dump(outcome.entity);
    assert_null(strstr(text, "patient-secret-id"));
    cardea_free(text);
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(f.entity);
}

static void
test_share__rejects_graft_on_foreign_delegation(void **state)
{
    fixture f;
    cardea_access_caller reader = hcp("hcp-2");
    cardea_access_caller stranger = hcp("hcp-9");

    (void)state;
    fixture_init(&f);
    /* hcp-2 can read the entity but not through the root it names. */
    assert_int_equal(
        apply_rejected(&reader, "HealthElement", f.entity,
                       one_share(load("{'accessControlKeys':['" AC_C "'],"
                                      "'requestedPermissions':'MAX_READ'}"),
                                 json_pack("[s]", f.root))),
        403);
    /* A caller without any access learns nothing about the entity. */
    assert_int_equal(
        apply_rejected(&stranger, "HealthElement", f.entity,
                       one_share(load("{'accessControlKeys':['" AC_C "'],"
                                      "'requestedPermissions':'MAX_READ'}"),
                                 json_pack("[s]", f.root))),
        404);
    json_decref(f.entity);
}

static void
test_share__rejects_spoofed_delegator(void **state)
{
    fixture f;
    cardea_access_caller reader = hcp("hcp-2");
    cardea_access_caller nobody = hcp(NULL);
    const char *keys[1];

    (void)state;
    fixture_init(&f);
    assert_int_equal(
        apply_rejected(&reader, "HealthElement", f.entity,
                       one_share(load("{'explicitDelegator':'hcp-1',"
                                      "'accessControlKeys':['" AC_C "'],"
                                      "'requestedPermissions':'MAX_READ'}"),
                                 json_pack("[s]", f.reader))),
        403);

    /* An anonymous caller proving a key cannot name a delegator. */
    keys[0] = f.anon;
    nobody.key_hashes = keys;
    nobody.key_hash_count = 1;
    assert_int_equal(
        apply_rejected(&nobody, "HealthElement", f.entity,
                       one_share(load("{'explicitDelegator':'hcp-1',"
                                      "'accessControlKeys':['" AC_C "'],"
                                      "'requestedPermissions':'MAX_READ'}"),
                                 json_pack("[s]", f.anon))),
        403);
    json_decref(f.entity);
}

static void
test_share__full_write_needs_write(void **state)
{
    fixture f;
    cardea_access_caller reader = hcp("hcp-2");
    cardea_access_caller creator = hcp("hcp-1");
    cardea_share_outcome outcome = {0};
    char key[KEY_LEN];
    json_t *request;

    (void)state;
    fixture_init(&f);
    sd_key_of_hex(key, AC_C);
    assert_int_equal(
        apply_rejected(&reader, "HealthElement", f.entity,
                       one_share(load("{'explicitDelegator':'hcp-2',"
                                      "'accessControlKeys':['" AC_C "'],"
                                      "'requestedPermissions':'FULL_WRITE'}"),
                                 json_pack("[s]", f.reader))),
        403);

    /* FULL_WRITE by a writer under a READ parent still gives WRITE. */
    request = one_share(load("{'accessControlKeys':['" AC_C "'],"
                             "'requestedPermissions':'FULL_WRITE'}"),
                        json_pack("[s]", f.reader));
    assert_int_equal(cardea_share__apply(&outcome, &creator, "HealthElement",
                                         f.entity, request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 1);
    assert_string_equal(cardea_json__get_str(new_delegation(&outcome, key),
                                             "permissions"),
                        "WRITE");
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(f.entity);
}

/* Requested permission and parent -> permission of the new delegation. */
static void
test_share__permission_table(void **state)
{
    static const struct {
        const char *caller;
        const char *requested;
        int parent;   /* 0: root (WRITE), 1: reader (READ) */
        const char *expected;
    } cases[] = {
        {"hcp-1", "MAX_WRITE", 0, "WRITE"},
        {"hcp-2", "MAX_WRITE", 1, "READ"},
        {"hcp-1", "MAX_READ", 0, "READ"},
        {"hcp-1", "FULL_READ", 0, "READ"},
        {"hcp-2", "MAX_READ", 1, "READ"},
        {"hcp-1", "ROOT", 0, "WRITE"},
    };
    fixture f;
    char key[KEY_LEN];

    (void)state;
    fixture_init(&f);
    sd_key_of_hex(key, AC_C);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cardea_access_caller caller = hcp(cases[i].caller);
        cardea_share_outcome outcome = {0};
        json_t *share = load("{'accessControlKeys':['" AC_C "']}");
        json_t *request, *d;

        json_object_set_new(share, "requestedPermissions",
                            json_string(cases[i].requested));
        request = one_share(share, json_pack("[s]", cases[i].parent == 0
                                                        ? f.root
                                                        : f.reader));
        assert_int_equal(cardea_share__apply(&outcome, &caller,
                                             "HealthElement", f.entity,
                                             request),
                         CARDEA_OK);
        assert_int_equal(outcome.accepted_count, 1);
        d = new_delegation(&outcome, key);
        assert_string_equal(cardea_json__get_str(d, "permissions"),
                            cases[i].expected);
        assert_int_equal(json_array_size(json_object_get(d,
                                                         "parentDelegations")),
                         strcmp(cases[i].requested, "ROOT") == 0 ? 0 : 1);
        cardea_share__outcome_free(&outcome);
        json_decref(request);
    }
    json_decref(f.entity);
}

static void
test_share__parents_reduced_to_minimal_set(void **state)
{
    fixture f;
    cardea_access_caller creator = hcp("hcp-1");
    cardea_share_outcome outcome = {0};
    char key[KEY_LEN];
    json_t *request, *parents;

    (void)state;
    fixture_init(&f);
    sd_key_of_hex(key, AC_C);
    /* root is an ancestor of anon; the unknown key is ignored. */
    request = one_share(load("{'accessControlKeys':['" AC_C "'],"
                             "'requestedPermissions':'MAX_WRITE'}"),
                        json_pack("[s,s,s,s]", f.root, f.anon,
                                  "ab00000000000000000000000000000000000000"
                                  "000000000000000000000000",
                                  f.anon));
    assert_int_equal(cardea_share__apply(&outcome, &creator, "HealthElement",
                                         f.entity, request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 1);
    parents = json_object_get(new_delegation(&outcome, key),
                              "parentDelegations");
    assert_int_equal(json_array_size(parents), 1);
    assert_string_equal(json_string_value(json_array_get(parents, 0)),
                        f.anon);
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(f.entity);
}

static void
test_share__rejects_missing_parent(void **state)
{
    fixture f;
    cardea_access_caller creator = hcp("hcp-1");

    (void)state;
    fixture_init(&f);
    assert_int_equal(
        apply_rejected(&creator, "HealthElement", f.entity,
                       one_share(load("{'accessControlKeys':['" AC_C "'],"
                                      "'requestedPermissions':'MAX_READ'}"),
                                 json_array())),
        400);
    json_decref(f.entity);
}

static void
test_share__rejects_existing_key(void **state)
{
    fixture f;
    cardea_access_caller creator = hcp("hcp-1");

    (void)state;
    fixture_init(&f);
    /* The second key hashes to the existing reader delegation. */
    assert_int_equal(
        apply_rejected(&creator, "HealthElement", f.entity,
                       one_share(load("{'accessControlKeys':['" AC_C "',"
                                      "'20202020202020202020202020202020'],"
                                      "'requestedPermissions':'MAX_READ'}"),
                                 json_pack("[s]", f.root))),
        400);
    json_decref(f.entity);
}

static void
test_share__rejects_bad_request_fields(void **state)
{
    static const char *const shares[] = {
        "{'accessControlKeys':['abc'],'requestedPermissions':'MAX_READ'}",
        "{'accessControlKeys':[],'requestedPermissions':'MAX_READ'}",
        "{'accessControlKeys':['" AC_C "'],'requestedPermissions':'ALL'}",
        "{'accessControlKeys':['" AC_C "'],'requestedPermissions':'MAX_READ',"
        "'secretIds':[1]}",
        "{'accessControlKeys':['" AC_C "'],'requestedPermissions':'MAX_READ',"
        "'encryptedExchangeDataId':{'fp':3}}",
    };
    fixture f;
    cardea_access_caller creator = hcp("hcp-1");

    (void)state;
    fixture_init(&f);
    for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++) {
        assert_int_equal(apply_rejected(&creator, "HealthElement", f.entity,
                                        one_share(load(shares[i]),
                                                  json_pack("[s]", f.root))),
                         400);
    }
    json_decref(f.entity);
}

static void
test_share__rejects_shared_keys_and_two_roots(void **state)
{
    fixture f;
    cardea_access_caller creator = hcp("hcp-1");
    cardea_share_outcome outcome = {0};
    json_t *request;

    (void)state;
    fixture_init(&f);
    request = load("{'requests':{"
                   "'a':{'share':{'accessControlKeys':['" AC_A "'],"
                   "'requestedPermissions':'MAX_READ'}},"
                   "'b':{'share':{'accessControlKeys':['" AC_B "','"
                   AC_A "'],'requestedPermissions':'MAX_READ'}}},"
                   "'potentialParentDelegations':[]}");
    json_object_set_new(request, "potentialParentDelegations",
                        json_pack("[s]", f.root));
    assert_int_equal(cardea_share__apply(&outcome, &creator, "HealthElement",
                                         f.entity, request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 0);
    assert_int_equal(rejection_code(&outcome, "a"), 400);
    assert_int_equal(rejection_code(&outcome, "b"), 400);
    cardea_share__outcome_free(&outcome);
    json_decref(request);

    request = load("{'requests':{"
                   "'a':{'share':{'accessControlKeys':['" AC_A "'],"
                   "'requestedPermissions':'ROOT'}},"
                   "'b':{'share':{'accessControlKeys':['" AC_B "'],"
                   "'requestedPermissions':'ROOT'}}}}");
    assert_int_equal(cardea_share__apply(&outcome, &creator, "HealthElement",
                                         f.entity, request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 0);
    assert_int_equal(rejection_code(&outcome, "a"), 400);
    assert_int_equal(rejection_code(&outcome, "b"), 400);
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(f.entity);
}

static void
test_share__root_rules(void **state)
{
    fixture f;
    cardea_access_caller reader = hcp("hcp-2");
    cardea_access_caller patient = hcp("patient-7");
    cardea_share_outcome outcome = {0};
    json_t *patient_entity, *request;
    char key[KEY_LEN];

    (void)state;
    fixture_init(&f);
    sd_key_of_hex(key, AC_C);
    assert_int_equal(
        apply_rejected(&reader, "HealthElement", f.entity,
                       one_share(load("{'accessControlKeys':['" AC_C "'],"
                                      "'requestedPermissions':'ROOT'}"),
                                 json_array())),
        403);
    /* A patient without access to someone else's data: not found. */
    patient.data_owner_type = CARDEA_DATA_OWNER_PATIENT;
    assert_int_equal(
        apply_rejected(&patient, "HealthElement", f.entity,
                       one_share(load("{'accessControlKeys':['" AC_C "'],"
                                      "'requestedPermissions':'ROOT'}"),
                                 json_array())),
        404);

    /* The same patient may put a root on its own Patient entity. */
    patient_entity = json_deep_copy(f.entity);
    json_object_set_new(patient_entity, "id", json_string("patient-7"));
    request = one_share(load("{'accessControlKeys':['" AC_C "'],"
                             "'requestedPermissions':'ROOT'}"),
                        json_array());
    assert_int_equal(cardea_share__apply(&outcome, &patient, "Patient",
                                         patient_entity, request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 1);
    assert_string_equal(cardea_json__get_str(new_delegation(&outcome, key),
                                             "permissions"),
                        "WRITE");
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(patient_entity);
    json_decref(f.entity);
}

static json_t *
one_update(const char *key, const char *field, const char *value,
           const char *op)
{
    json_t *request = json_pack("{s:{s:{s:{s:s, s:{s:s}}}}, s:[]}",
                                "requests", "u", "update",
                                "metadataAccessControlHash", key, field,
                                value, op, "potentialParentDelegations");

    assert_non_null(request);
    return request;
}

static int
apply_update_code(const cardea_access_caller *caller, const json_t *entity,
                  json_t *request, json_t **updated)
{
    cardea_share_outcome outcome = {0};
    int code = 0;

    assert_int_equal(cardea_share__apply(&outcome, caller, "HealthElement",
                                         entity, request),
                     CARDEA_OK);
    if (outcome.accepted_count == 1) {
        *updated = json_incref(outcome.entity);
    } else {
        assert_null(outcome.entity);
        code = rejection_code(&outcome, "u");
    }
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    return code;
}

static void
test_share__update_adds_and_removes_values(void **state)
{
    fixture f;
    cardea_access_caller reader = hcp("hcp-2");
    json_t *updated = NULL, *again = NULL, *values;

    (void)state;
    fixture_init(&f);
    assert_int_equal(apply_update_code(&reader, f.entity,
                                       one_update(f.reader, "secretIds",
                                                  "bmV3", "CREATE"),
                                       &updated),
                     0);
    values = json_object_get(json_object_get(json_object_get(json_object_get(
                 updated, "securityMetadata"), "secureDelegations"),
                 f.reader), "secretIds");
    assert_int_equal(json_array_size(values), 2);
    assert_string_equal(json_string_value(json_array_get(values, 1)),
                        "bmV3");

    assert_int_equal(apply_update_code(&reader, updated,
                                       one_update(f.reader, "encryptionKeys",
                                                  "a2V5", "DELETE"),
                                       &again),
                     0);
    values = json_object_get(json_object_get(json_object_get(json_object_get(
                 again, "securityMetadata"), "secureDelegations"),
                 f.reader), "encryptionKeys");
    assert_int_equal(json_array_size(values), 0);
    json_decref(updated);
    json_decref(again);
    json_decref(f.entity);
}

static void
test_share__update_rejections(void **state)
{
    fixture f;
    cardea_access_caller reader = hcp("hcp-2");
    json_t *unused = NULL;

    (void)state;
    fixture_init(&f);
    assert_int_equal(apply_update_code(&reader, f.entity,
                                       one_update(f.reader, "secretIds",
                                                  "c2lk", "CREATE"),
                                       &unused),
                     400);
    assert_int_equal(apply_update_code(&reader, f.entity,
                                       one_update(f.reader, "secretIds",
                                                  "bm9uZQ==", "DELETE"),
                                       &unused),
                     400);
    assert_int_equal(apply_update_code(&reader, f.entity,
                                       one_update(f.reader, "secretIds",
                                                  "eA==", "UPSERT"),
                                       &unused),
                     400);
    assert_int_equal(apply_update_code(&reader, f.entity,
                                       one_update("cd00000000000000000000000"
                                                  "000000000000000000000000"
                                                  "000000000000000",
                                                  "secretIds", "eA==",
                                                  "CREATE"),
                                       &unused),
                     404);
    /* hcp-2 reads the entity but does not match the anonymous one. */
    assert_int_equal(apply_update_code(&reader, f.entity,
                                       one_update(f.anon, "secretIds",
                                                  "eA==", "CREATE"),
                                       &unused),
                     403);
    assert_null(unused);
    json_decref(f.entity);
}

static void
test_share__mixed_requests_apply_accepted_only(void **state)
{
    fixture f;
    cardea_access_caller reader = hcp("hcp-2");
    cardea_share_outcome outcome = {0};
    char key[KEY_LEN];
    json_t *request;

    (void)state;
    fixture_init(&f);
    sd_key_of_hex(key, AC_C);
    request = load("{'requests':{"
                   "'ok':{'share':{'accessControlKeys':['" AC_C "'],"
                   "'requestedPermissions':'MAX_READ'}},"
                   "'bad':{'share':{'accessControlKeys':['" AC_A "'],"
                   "'requestedPermissions':'FULL_WRITE'}},"
                   "'both':{'share':{},'update':{}}}}");
    json_object_set_new(request, "potentialParentDelegations",
                        json_pack("[s]", f.reader));
    assert_int_equal(cardea_share__apply(&outcome, &reader, "HealthElement",
                                         f.entity, request),
                     CARDEA_OK);
    assert_int_equal(outcome.accepted_count, 1);
    assert_int_equal(outcome.rejected_count, 2);
    assert_non_null(new_delegation(&outcome, key));
    assert_int_equal(rejection_code(&outcome, "bad"), 403);
    assert_int_equal(rejection_code(&outcome, "both"), 400);
    assert_string_equal(json_string_value(json_array_get(
                            outcome.accepted_ids, 0)), "ok");
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(f.entity);
}

static void
test_share__save_hooks(void **state)
{
    fixture f;
    cardea_access_caller creator = hcp("hcp-1");
    cardea_share_outcome outcome = {0};
    json_t *request, *rejection;

    (void)state;
    fixture_init(&f);
    request = one_share(load("{'accessControlKeys':['" AC_C "'],"
                             "'encryptedExchangeDataId':{'fp':'eA=='},"
                             "'requestedPermissions':'MAX_READ'}"),
                        json_pack("[s]", f.root));
    assert_int_equal(cardea_share__apply(&outcome, &creator, "HealthElement",
                                         f.entity, request),
                     CARDEA_OK);
    assert_null(json_object_get(outcome.result, "entityRev"));
    assert_int_equal(cardea_share__set_saved(&outcome, "2-b", false),
                     CARDEA_OK);
    assert_string_equal(cardea_json__get_str(outcome.result, "entityRev"),
                        "2-b");
    assert_string_equal(cardea_json__get_str(outcome.entity, "rev"), "2-b");
    assert_string_equal(cardea_json__get_str(json_object_get(
                            outcome.result, "updatedEntity"), "rev"),
                        "2-b");
    assert_string_equal(cardea_json__get_str(outcome.result, "entityId"),
                        "he-1");

    assert_int_equal(cardea_share__set_save_failed(&outcome, 409),
                     CARDEA_OK);
    assert_null(outcome.entity);
    assert_int_equal(outcome.map_update_count, 0);
    assert_int_equal(outcome.accepted_count, 0);
    assert_null(json_object_get(outcome.result, "updatedEntity"));
    rejection = json_object_get(json_object_get(outcome.result,
                                                "rejectedRequests"), "0");
    assert_int_equal(json_integer_value(json_object_get(rejection, "code")),
                     409);
    assert_true(json_is_true(json_object_get(rejection, "shouldRetry")));
    assert_int_equal(cardea_share__set_saved(&outcome, "3-c", false),
                     CARDEA_EINVAL);
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(f.entity);
}

static void
test_share__minimal_result_has_no_entity(void **state)
{
    fixture f;
    cardea_access_caller creator = hcp("hcp-1");
    cardea_share_outcome outcome = {0};
    json_t *request;

    (void)state;
    fixture_init(&f);
    request = one_share(load("{'accessControlKeys':['" AC_C "'],"
                             "'requestedPermissions':'MAX_READ'}"),
                        json_pack("[s]", f.root));
    assert_int_equal(cardea_share__apply(&outcome, &creator, "HealthElement",
                                         f.entity, request),
                     CARDEA_OK);
    assert_int_equal(cardea_share__set_saved(&outcome, "2-b", true),
                     CARDEA_OK);
    assert_null(json_object_get(outcome.result, "updatedEntity"));
    assert_string_equal(cardea_json__get_str(outcome.result, "entityRev"),
                        "2-b");
    cardea_share__outcome_free(&outcome);
    json_decref(request);
    json_decref(f.entity);
}

static void
test_share__not_found_result(void **state)
{
    json_t *request = load("{'requests':{'x':{'share':{}},'y':{'update':{}}}}");
    json_t *result = NULL;
    json_t *rejected;

    (void)state;
    assert_int_equal(cardea_share__not_found_result(&result, "gone",
                                                    request),
                     CARDEA_OK);
    rejected = json_object_get(result, "rejectedRequests");
    assert_int_equal(json_object_size(rejected), 2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(rejected, "y"), "code")),
                     404);
    json_decref(result);
    json_decref(request);
}

static void
test_share__rejects_malformed_call(void **state)
{
    fixture f;
    cardea_access_caller creator = hcp("hcp-1");
    cardea_share_outcome outcome = {.accepted_count = 42};
    json_t *request = load("{'potentialParentDelegations':[]}");

    (void)state;
    fixture_init(&f);
    assert_int_equal(cardea_share__apply(&outcome, &creator, "HealthElement",
                                         f.entity, request),
                     CARDEA_EINVAL);
    assert_int_equal(outcome.accepted_count, 42);
    assert_null(outcome.result);
    json_decref(request);
    json_decref(f.entity);
}

/* ---- allocation failures ---------------------------------------------- */

/* Allocations left before the next one fails; -1 never fails. */
static long allocs_left = -1;

static bool
allow_alloc(void)
{
    if (allocs_left == 0) {
        return false;
    }
    if (allocs_left > 0) {
        allocs_left--;
    }
    return true;
}

static void *
failing_malloc(size_t size, void *user)
{
    (void)user;
    return allow_alloc() ? malloc(size) : NULL;
}

static void *
failing_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    return allow_alloc() ? realloc(ptr, size) : NULL;
}

static void
plain_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

/*
 * Fails the Nth allocation of a mixed request for every N: each run
 * either fails with CARDEA_ENOMEM, leaving the outcome untouched, or gives
 * the same result as a run without failures. ASan reports any leak.
 */
static void
test_share__survives_allocation_failures(void **state)
{
    static const cardea_allocator hooks = {failing_malloc, failing_realloc,
                                           plain_free, NULL};
    fixture f;
    cardea_access_caller creator = hcp("hcp-1");
    json_t *request;
    long n;

    (void)state;
    cardea_set_allocator(&hooks);
    fixture_init(&f);
    request = load("{'requests':{"
                   "'a':{'share':{'explicitDelegator':'hcp-1',"
                   "'accessControlKeys':['" AC_A "','" AC_B "'],"
                   "'encryptedExchangeDataId':{'fp':'eA=='},"
                   "'requestedPermissions':'MAX_WRITE'}},"
                   "'b':{'update':{'metadataAccessControlHash':'',"
                   "'secretIds':{'bmV3':'CREATE'}}},"
                   "'c':{'share':{'accessControlKeys':['" AC_C "'],"
                   "'requestedPermissions':'FULL_WRITE'}}}}");
    json_object_set_new(json_object_get(json_object_get(
                            json_object_get(request, "requests"), "b"),
                            "update"),
                        "metadataAccessControlHash", json_string(f.reader));
    json_object_set_new(request, "potentialParentDelegations",
                        json_pack("[s,s]", f.anon, f.root));

    for (n = 0; n < 100000; n++) {
        cardea_share_outcome outcome = {.accepted_count = 77};
        cardea_err rc;

        allocs_left = n;
        rc = cardea_share__apply(&outcome, &creator, "HealthElement",
                                 f.entity, request);
        allocs_left = -1;
        if (rc == CARDEA_ENOMEM) {
            assert_int_equal(outcome.accepted_count, 77);
            assert_null(outcome.result);
            continue;
        }
        assert_int_equal(rc, CARDEA_OK);
        assert_int_equal(outcome.accepted_count, 3);
        assert_int_equal(outcome.map_update_count, 1);
        cardea_share__outcome_free(&outcome);
        break;
    }
    print_message("share: allocation failure injected at %ld points\n", n);
    assert_true(n > 0);
    assert_true(n < 100000);
    json_decref(request);
    json_decref(f.entity);
    cardea_set_allocator(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share__explicit_share_uses_canonical_key),
        cmocka_unit_test(test_share__anonymous_delegate_makes_map_update),
        cmocka_unit_test(test_share__anonymous_caller_id_never_written),
        cmocka_unit_test(test_share__rejects_graft_on_foreign_delegation),
        cmocka_unit_test(test_share__rejects_spoofed_delegator),
        cmocka_unit_test(test_share__full_write_needs_write),
        cmocka_unit_test(test_share__permission_table),
        cmocka_unit_test(test_share__parents_reduced_to_minimal_set),
        cmocka_unit_test(test_share__rejects_missing_parent),
        cmocka_unit_test(test_share__rejects_existing_key),
        cmocka_unit_test(test_share__rejects_bad_request_fields),
        cmocka_unit_test(test_share__rejects_shared_keys_and_two_roots),
        cmocka_unit_test(test_share__root_rules),
        cmocka_unit_test(test_share__update_adds_and_removes_values),
        cmocka_unit_test(test_share__update_rejections),
        cmocka_unit_test(test_share__mixed_requests_apply_accepted_only),
        cmocka_unit_test(test_share__save_hooks),
        cmocka_unit_test(test_share__minimal_result_has_no_entity),
        cmocka_unit_test(test_share__not_found_result),
        cmocka_unit_test(test_share__rejects_malformed_call),
        cmocka_unit_test(test_share__survives_allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
