/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the match-filter parser: the filters @icure/cardinal-sdk
 * 1.0.0-RC.7 sends, expansion of the caller's own id into its key
 * hashes, required fields, entity-type checks, union and intersection
 * with their limits, and unknown filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "server/filter.h"

#define HASH_A \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char *const patient_hashes[] = {HASH_A};

static cardea_access_caller
patient_caller(void)
{
    cardea_access_caller caller = {0};

    caller.data_owner_id = "patient-1";
    caller.data_owner_type = CARDEA_DATA_OWNER_PATIENT;
    caller.key_hashes = patient_hashes;
    caller.key_hash_count = 1;
    return caller;
}

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

/* Parses `json` (not consumed), expecting success. */
static cardea_filter *
parse_ok_json(const cardea_access_caller *caller, const char *entity_type,
              const json_t *json)
{
    cardea_access_error err = {.status = -1};
    cardea_filter *filter = NULL;

    assert_int_equal(cardea_filter__parse(&filter, &err, caller, entity_type,
                                          json),
                     CARDEA_OK);
    assert_int_equal(err.status, -1);
    assert_non_null(filter);
    return filter;
}

static cardea_filter *
parse_ok(const cardea_access_caller *caller, const char *entity_type,
         const char *text)
{
    json_t *json = load(text);
    cardea_filter *filter = parse_ok_json(caller, entity_type, json);

    json_decref(json);
    return filter;
}

/* Parses `json` (consumed), expecting `expected` and a 400 message. */
static void
parse_fails_json(const cardea_access_caller *caller, const char *entity_type,
                 json_t *json, cardea_err expected, const char *fragment)
{
    cardea_access_error err = {0};
    cardea_filter *filter = (cardea_filter *)&err;

    assert_int_equal(cardea_filter__parse(&filter, &err, caller, entity_type,
                                          json),
                     expected);
    assert_ptr_equal(filter, (cardea_filter *)&err);
    assert_int_equal(err.status, 400);
    if (strstr(err.message, fragment) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err.message, fragment);
    }
    json_decref(json);
}

static void
parse_fails(const cardea_access_caller *caller, const char *entity_type,
            const char *text, cardea_err expected, const char *fragment)
{
    parse_fails_json(caller, entity_type, load(text), expected, fragment);
}

static void
test_filter__own_id_expands_to_key_hashes(void **state)
{
    cardea_access_caller caller = patient_caller();
    cardea_filter *filter = parse_ok(
        &caller, "HealthElement",
        "{'$type':'HealthElementByHcPartyFilter','hcpId':'patient-1'}");

    (void)state;
    assert_int_equal(filter->kind, CARDEA_FILTER_BY_DATA_OWNER);
    assert_string_equal(filter->entity_type, "HealthElement");
    assert_string_equal(filter->data_owner_id, "patient-1");
    assert_int_equal(filter->data_owner_keys.count, 2);
    assert_true(cardea_search__list_contains(&filter->data_owner_keys,
                                             HASH_A));
    assert_true(cardea_search__list_contains(&filter->data_owner_keys,
                                             "patient-1"));
    cardea_filter__free(filter);
}

static void
test_filter__other_id_is_not_expanded(void **state)
{
    cardea_access_caller caller = patient_caller();
    cardea_filter *filter = parse_ok(
        &caller, "Patient",
        "{'$type':'PatientByHcPartyFilter','healthcarePartyId':'hcp-1'}");

    (void)state;
    assert_string_equal(filter->data_owner_id, "hcp-1");
    assert_int_equal(filter->data_owner_keys.count, 1);
    assert_string_equal(filter->data_owner_keys.items[0], "hcp-1");
    cardea_filter__free(filter);
}

static void
test_filter__missing_optional_owner_means_self(void **state)
{
    cardea_access_caller caller = patient_caller();
    cardea_filter *filter = parse_ok(&caller, "Patient",
                                     "{'$type':'PatientByHcPartyFilter'}");

    (void)state;
    assert_string_equal(filter->data_owner_id, "patient-1");
    assert_int_equal(filter->data_owner_keys.count, 2);
    cardea_filter__free(filter);
}

static void
test_filter__maintenance_task_type(void **state)
{
    cardea_access_caller caller = patient_caller();
    cardea_filter *filter = parse_ok(
        &caller, "MaintenanceTask",
        "{'$type':'MaintenanceTaskByHcPartyAndTypeFilter',"
        "'healthcarePartyId':'hcp-2','type':'KEY_PAIR_UPDATE'}");

    (void)state;
    assert_int_equal(filter->kind, CARDEA_FILTER_BY_DATA_OWNER_AND_TYPE);
    assert_string_equal(filter->task_type, "KEY_PAIR_UPDATE");
    assert_string_equal(filter->data_owner_keys.items[0], "hcp-2");
    cardea_filter__free(filter);
    parse_fails(&caller, "MaintenanceTask",
                "{'$type':'MaintenanceTaskByHcPartyAndTypeFilter',"
                "'healthcarePartyId':'hcp-2'}",
                CARDEA_EINVAL, "type is missing");
}

static void
test_filter__by_ids(void **state)
{
    cardea_access_caller caller = patient_caller();
    cardea_filter *filter = parse_ok(
        &caller, "Patient",
        "{'$type':'PatientByIdsFilter','ids':['p-2','p-1','p-2']}");

    (void)state;
    assert_int_equal(filter->kind, CARDEA_FILTER_BY_IDS);
    assert_int_equal(filter->values.count, 2);
    assert_string_equal(filter->values.items[0], "p-1");
    assert_string_equal(filter->values.items[1], "p-2");
    cardea_filter__free(filter);
    parse_fails(&caller, "Patient",
                "{'$type':'PatientByIdsFilter','ids':'p-1'}", CARDEA_EINVAL,
                "array of strings");
}

static void
test_filter__secret_foreign_keys_with_dates(void **state)
{
    cardea_access_caller caller = patient_caller();
    cardea_filter *filter = parse_ok(
        &caller, "HealthElement",
        "{'$type':'HealthElementByDataOwnerPatientOpeningDate',"
        "'healthcarePartyId':'hcp-1','patientSecretForeignKeys':['s1'],"
        "'startDate':20240101000000,'descending':true}");

    (void)state;
    assert_int_equal(filter->kind, CARDEA_FILTER_BY_SECRET_FOREIGN_KEYS);
    assert_string_equal(filter->values.items[0], "s1");
    assert_string_equal(filter->date_field, "openingDate");
    assert_true(filter->has_start);
    assert_int_equal(filter->start, 20240101000000LL);
    assert_false(filter->has_end);
    assert_true(filter->descending);
    cardea_filter__free(filter);

    filter = parse_ok(&caller, "Document",
                      "{'$type':'DocumentByDataOwnerPatientDateFilter',"
                      "'dataOwnerId':'patient-1','secretPatientKeys':['s2'],"
                      "'endDate':1700000000000}");
    assert_string_equal(filter->date_field, "created");
    assert_true(filter->has_end);
    assert_int_equal(filter->data_owner_keys.count, 2);
    cardea_filter__free(filter);

    parse_fails(&caller, "HealthElement",
                "{'$type':'HealthElementByDataOwnerPatientOpeningDate',"
                "'healthcarePartyId':'hcp-1','patientSecretForeignKeys':[],"
                "'startDate':'yesterday'}",
                CARDEA_EINVAL, "startDate must be an integer");
}

static void
test_filter__tag_and_code(void **state)
{
    cardea_access_caller caller = patient_caller();
    cardea_filter *filter = parse_ok(
        &caller, "HealthElement",
        "{'$type':'HealthElementByHcPartyTagCodeFilter',"
        "'healthcarePartyId':'hcp-1','tagType':'CD-ITEM',"
        "'codeType':'ICPC','codeCode':'K86'}");

    (void)state;
    assert_int_equal(filter->kind, CARDEA_FILTER_BY_TAG_CODE);
    assert_string_equal(filter->tag_key, "CD-ITEM|");
    assert_string_equal(filter->code_key, "ICPC|K86");
    cardea_filter__free(filter);

    parse_fails(&caller, "HealthElement",
                "{'$type':'HealthElementByHcPartyTagCodeFilter',"
                "'healthcarePartyId':'hcp-1'}",
                CARDEA_EINVAL, "tagType or codeType");
    parse_fails(&caller, "HealthElement",
                "{'$type':'HealthElementByHcPartyTagCodeFilter',"
                "'healthcarePartyId':'hcp-1','codeCode':'K86'}",
                CARDEA_EINVAL, "codeCode needs codeType");
    parse_fails(&caller, "HealthElement",
                "{'$type':'HealthElementByHcPartyTagCodeFilter',"
                "'healthcarePartyId':'hcp-1','tagType':'x','status':1}",
                CARDEA_EUNSUPPORTED, "status");
}

static void
test_filter__union_and_intersection(void **state)
{
    cardea_access_caller caller = patient_caller();
    cardea_filter *filter = parse_ok(
        &caller, "HealthElement",
        "{'$type':'UnionFilter','filters':["
        "{'$type':'HealthElementByHcPartyFilter','hcpId':'hcp-1'},"
        "{'$type':'IntersectionFilter','filters':["
        "{'$type':'HealthElementByIdsFilter','ids':['h1']},"
        "{'$type':'HealthElementByHcPartyFilter','hcpId':'patient-1'}]}]}");

    (void)state;
    assert_int_equal(filter->kind, CARDEA_FILTER_UNION);
    assert_int_equal(filter->child_count, 2);
    assert_int_equal(filter->children[0]->kind, CARDEA_FILTER_BY_DATA_OWNER);
    assert_int_equal(filter->children[1]->kind, CARDEA_FILTER_INTERSECTION);
    assert_int_equal(filter->children[1]->child_count, 2);
    assert_int_equal(filter->children[1]->children[1]->data_owner_keys.count,
                     2);
    cardea_filter__free(filter);

    parse_fails(&caller, "HealthElement",
                "{'$type':'UnionFilter','filters':[]}", CARDEA_EINVAL,
                "non-empty array");
    /* A bad child fails the whole filter. */
    parse_fails(&caller, "HealthElement",
                "{'$type':'UnionFilter','filters':["
                "{'$type':'HealthElementByHcPartyFilter','hcpId':'hcp-1'},"
                "{'$type':'NoSuchFilter'}]}",
                CARDEA_EINVAL, "unknown filter NoSuchFilter");
}

static void
test_filter__rejects_deep_nesting(void **state)
{
    cardea_access_caller caller = patient_caller();
    json_t *filter = load("{'$type':'PatientByIdsFilter','ids':[]}");

    (void)state;
    for (size_t i = 0; i < CARDEA_FILTER_MAX_DEPTH - 1; i++) {
        filter = json_pack("{s:s, s:[o]}", "$type", "UnionFilter", "filters",
                           filter);
        assert_non_null(filter);
    }
    cardea_filter__free(parse_ok_json(&caller, "Patient", filter));

    /* One more level is rejected. */
    filter = json_pack("{s:s, s:[o]}", "$type", "UnionFilter", "filters",
                       filter);
    assert_non_null(filter);
    parse_fails_json(&caller, "Patient", filter, CARDEA_ETOOBIG, "nested");
}

static void
test_filter__rejects_unknown_filter(void **state)
{
    cardea_access_caller caller = patient_caller();

    (void)state;
    parse_fails(&caller, "Patient",
                "{'$type':'PatientByHcPartyNameFilter','searchString':'x'}",
                CARDEA_EINVAL, "unknown filter PatientByHcPartyNameFilter");
    parse_fails(&caller, "Patient", "{'healthcarePartyId':'x'}",
                CARDEA_EINVAL, "$type");
    parse_fails(&caller, "Patient", "['PatientByHcPartyFilter']",
                CARDEA_EINVAL, "$type");
}

static void
test_filter__rejects_other_entity_type(void **state)
{
    cardea_access_caller caller = patient_caller();

    (void)state;
    parse_fails(&caller, "Patient",
                "{'$type':'HealthElementByHcPartyFilter','hcpId':'hcp-1'}",
                CARDEA_EINVAL, "does not apply to Patient");
}

static void
test_filter__rejects_missing_or_bad_owner(void **state)
{
    cardea_access_caller caller = patient_caller();

    (void)state;
    parse_fails(&caller, "HealthElement",
                "{'$type':'HealthElementByHcPartyFilter'}", CARDEA_EINVAL,
                "hcpId is missing");
    parse_fails(&caller, "Contact",
                "{'$type':'ContactByHcPartyFilter','hcpId':5}",
                CARDEA_EINVAL, "hcpId must be a string");
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

/* Fails the Nth allocation of a nested parse for every N. */
static void
test_filter__survives_allocation_failures(void **state)
{
    static const cardea_allocator hooks = {failing_malloc, failing_realloc,
                                           plain_free, NULL};
    cardea_access_caller caller = patient_caller();
    json_t *json;
    long n;

    (void)state;
    cardea_set_allocator(&hooks);
    json = load("{'$type':'UnionFilter','filters':["
                "{'$type':'HealthElementByHcPartyFilter','hcpId':'patient-1'},"
                "{'$type':'HealthElementByHcPartyTagCodeFilter',"
                "'healthcarePartyId':'hcp-1','tagType':'t','codeType':'c',"
                "'codeCode':'x'},"
                "{'$type':'HealthElementByIdsFilter','ids':['a','b']}]}");
    for (n = 0; n < 10000; n++) {
        cardea_access_error err = {.status = -1};
        cardea_filter *filter = (cardea_filter *)&err;
        cardea_err rc;

        allocs_left = n;
        rc = cardea_filter__parse(&filter, &err, &caller, "HealthElement",
                                  json);
        allocs_left = -1;
        if (rc == CARDEA_ENOMEM) {
            assert_ptr_equal(filter, (cardea_filter *)&err);
            continue;
        }
        assert_int_equal(rc, CARDEA_OK);
        assert_int_equal(filter->child_count, 3);
        cardea_filter__free(filter);
        break;
    }
    print_message("filter: allocation failure injected at %ld points\n", n);
    assert_true(n > 0);
    assert_true(n < 10000);
    json_decref(json);
    cardea_set_allocator(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter__own_id_expands_to_key_hashes),
        cmocka_unit_test(test_filter__other_id_is_not_expanded),
        cmocka_unit_test(test_filter__missing_optional_owner_means_self),
        cmocka_unit_test(test_filter__maintenance_task_type),
        cmocka_unit_test(test_filter__by_ids),
        cmocka_unit_test(test_filter__secret_foreign_keys_with_dates),
        cmocka_unit_test(test_filter__tag_and_code),
        cmocka_unit_test(test_filter__union_and_intersection),
        cmocka_unit_test(test_filter__rejects_deep_nesting),
        cmocka_unit_test(test_filter__rejects_unknown_filter),
        cmocka_unit_test(test_filter__rejects_other_entity_type),
        cmocka_unit_test(test_filter__rejects_missing_or_bad_owner),
        cmocka_unit_test(test_filter__survives_allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
