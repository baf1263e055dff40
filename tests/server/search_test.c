/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the index search keys: data-owner keys from explicit,
 * half-anonymous and fully anonymous delegations and legacy maps, secret
 * foreign keys, codes and tags, and the caller's "self" keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "server/search.h"

#define KEY_ROOT \
    "11111111111111111111111111111111" "11111111111111111111111111111111"
#define KEY_HALF \
    "22222222222222222222222222222222" "22222222222222222222222222222222"
#define KEY_ANON \
    "33333333333333333333333333333333" "33333333333333333333333333333333"
#define KEY_BOTH \
    "44444444444444444444444444444444" "44444444444444444444444444444444"

static json_t *
load(const char *text)
{
    json_t *value = NULL;

    assert_int_equal(cardea_json__parse(&value, text, strlen(text), NULL, 0),
                     CARDEA_OK);
    return value;
}

static void
assert_list(const cardea_search_list *list, const char *const *expected,
            size_t count)
{
    assert_int_equal(list->count, count);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(list->items[i], expected[i]);
    }
}

static void
test_search__data_owner_keys(void **state)
{
    static const char *const expected[] = {
        KEY_HALF, KEY_ANON, "hcp-1", "hcp-2", "hcp-legacy",
    };
    json_t *entity = load(
        "{\"id\":\"e\",\"securityMetadata\":{\"secureDelegations\":{"
        "\"" KEY_ROOT "\":{\"delegator\":\"hcp-1\",\"delegate\":\"hcp-1\"},"
        "\"" KEY_HALF "\":{\"delegator\":\"hcp-1\"},"
        "\"" KEY_ANON "\":{},"
        "\"" KEY_BOTH "\":{\"delegator\":\"hcp-1\",\"delegate\":\"hcp-2\"}}},"
        "\"delegations\":{\"hcp-legacy\":[]}}");
    cardea_search_list list = {0};

    (void)state;
    assert_int_equal(cardea_search__data_owner_keys(&list, entity),
                     CARDEA_OK);
    assert_list(&list, expected, sizeof expected / sizeof expected[0]);
    /* An explicit-only delegation is found by ids, not by its key. */
    assert_false(cardea_search__list_contains(&list, KEY_ROOT));
    assert_false(cardea_search__list_contains(&list, KEY_BOTH));
    assert_true(cardea_search__list_contains(&list, KEY_ANON));
    cardea_search__list_free(&list);
    json_decref(entity);
}

static void
test_search__rejects_non_object(void **state)
{
    cardea_search_list list = {.count = 5};
    json_t *array = json_array();

    (void)state;
    assert_int_equal(cardea_search__data_owner_keys(&list, array),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_search__secret_foreign_keys(&list, array),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_search__codes(&list, array, "tags"),
                     CARDEA_EINVAL);
    assert_int_equal(list.count, 5);
    assert_null(list.items);
    json_decref(array);
}

static void
test_search__secret_foreign_keys(void **state)
{
    static const char *const expected[] = {"sfk-a", "sfk-b"};
    json_t *entity = load("{\"secretForeignKeys\":[\"sfk-b\",\"sfk-a\","
                          "\"sfk-b\",7]}");
    json_t *empty = load("{}");
    cardea_search_list list = {0};

    (void)state;
    assert_int_equal(cardea_search__secret_foreign_keys(&list, entity),
                     CARDEA_OK);
    assert_list(&list, expected, 2);
    cardea_search__list_free(&list);
    assert_int_equal(cardea_search__secret_foreign_keys(&list, empty),
                     CARDEA_OK);
    assert_int_equal(list.count, 0);
    cardea_search__list_free(&list);
    json_decref(entity);
    json_decref(empty);
}

static void
test_search__codes_and_tags(void **state)
{
    static const char *const codes[] = {"ICPC|", "ICPC|K86", "LOINC|",
                                        "LOINC|1-8"};
    static const char *const tags[] = {"CD-ITEM|", "CD-ITEM|diagnosis"};
    json_t *entity = load(
        "{\"codes\":[{\"type\":\"ICPC\",\"code\":\"K86\"},"
        "{\"type\":\"LOINC\",\"code\":\"1-8\"},{\"code\":\"orphan\"},"
        "{\"type\":\"BAD|TYPE\",\"code\":\"x\"}],"
        "\"tags\":[{\"type\":\"CD-ITEM\",\"code\":\"diagnosis\"}]}");
    cardea_search_list list = {0};

    (void)state;
    assert_int_equal(cardea_search__codes(&list, entity, "codes"), CARDEA_OK);
    assert_list(&list, codes, 4);
    cardea_search__list_free(&list);
    assert_int_equal(cardea_search__codes(&list, entity, "tags"), CARDEA_OK);
    assert_list(&list, tags, 2);
    cardea_search__list_free(&list);
    json_decref(entity);
}

static void
test_search__code_key(void **state)
{
    char *key = NULL;

    (void)state;
    assert_int_equal(cardea_search__code_key(&key, "ICPC", "K86"), CARDEA_OK);
    assert_string_equal(key, "ICPC|K86");
    cardea_free(key);
    assert_int_equal(cardea_search__code_key(&key, "ICPC", NULL), CARDEA_OK);
    assert_string_equal(key, "ICPC|");
    cardea_free(key);
    key = NULL;
    assert_int_equal(cardea_search__code_key(&key, "A|B", "c"),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_search__code_key(&key, NULL, "c"),
                     CARDEA_EINVAL);
    assert_null(key);
}

static void
test_search__self_keys(void **state)
{
    static const char *const hashes[] = {KEY_ANON, KEY_HALF, KEY_ANON};
    static const char *const parents[] = {"hcp-org"};
    static const char *const plain[] = {KEY_HALF, KEY_ANON, "patient-1"};
    static const char *const with_parents[] = {KEY_HALF, KEY_ANON, "hcp-org",
                                               "patient-1"};
    cardea_access_caller caller = {0};
    cardea_search_list list = {0};

    (void)state;
    caller.data_owner_id = "patient-1";
    caller.key_hashes = hashes;
    caller.key_hash_count = 3;
    caller.ancestor_ids = parents;
    caller.ancestor_count = 1;
    assert_int_equal(cardea_search__self_keys(&list, &caller, false),
                     CARDEA_OK);
    assert_list(&list, plain, 3);
    cardea_search__list_free(&list);
    assert_int_equal(cardea_search__self_keys(&list, &caller, true),
                     CARDEA_OK);
    assert_list(&list, with_parents, 4);
    cardea_search__list_free(&list);

    /* No data owner: only the hashes. */
    caller.data_owner_id = NULL;
    caller.ancestor_count = 0;
    assert_int_equal(cardea_search__self_keys(&list, &caller, false),
                     CARDEA_OK);
    assert_int_equal(list.count, 2);
    assert_false(cardea_search__list_contains(&list, "patient-1"));
    cardea_search__list_free(&list);
}

static void
test_search__list_from_strings(void **state)
{
    static const char *const expected[] = {"a", "b"};
    json_t *good = load("[\"b\",\"a\",\"b\"]");
    json_t *bad = load("[\"a\",null]");
    cardea_search_list list = {0};

    (void)state;
    assert_int_equal(cardea_search__list_from_strings(&list, good),
                     CARDEA_OK);
    assert_list(&list, expected, 2);
    cardea_search__list_free(&list);
    assert_int_equal(cardea_search__list_from_strings(&list, bad),
                     CARDEA_EINVAL);
    assert_null(list.items);
    json_decref(good);
    json_decref(bad);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search__data_owner_keys),
        cmocka_unit_test(test_search__rejects_non_object),
        cmocka_unit_test(test_search__secret_foreign_keys),
        cmocka_unit_test(test_search__codes_and_tags),
        cmocka_unit_test(test_search__code_key),
        cmocka_unit_test(test_search__self_keys),
        cmocka_unit_test(test_search__list_from_strings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
