/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the access check with many access-control keys. A caller sends
 * a thousand keys, and one of them opens the entity's delegation. It gets
 * the same level whether its hashes are the sorted list of
 * cardea_access__hash_keys (binary search) or an unsorted list (scan).
 * Without the right key it gets nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "format/keys.h"
#include "server/access.h"

#define KEY_COUNT 1000
#define OPENING_KEY 777

static uint8_t keys[KEY_COUNT * CARDEA_AC_KEY_LEN];

/* Distinct keys: the first two bytes of key k hold k. */
static void
fill_keys(void)
{
    for (size_t k = 0; k < KEY_COUNT; k++) {
        uint8_t *key = keys + k * CARDEA_AC_KEY_LEN;

        key[0] = (uint8_t)(k & 0xff);
        key[1] = (uint8_t)(k >> 8);
        for (size_t j = 2; j < CARDEA_AC_KEY_LEN; j++) {
            key[j] = (uint8_t)((k * 31 + j * 17) & 0xff);
        }
    }
}

/* An entity whose only delegation is keyed by the sdKey of `key`. */
static json_t *
entity_for_key(const uint8_t *key, const char *permissions)
{
    char sd_key[CARDEA_SD_KEY_HEX_LEN + 1];
    json_t *entity;

    cardea_sdkey__from_ackey(sd_key, key);
    entity = json_pack("{s:s, s:{s:{s:{s:s, s:s, s:s}}}}", "id", "e-1",
                       "securityMetadata", "secureDelegations", sd_key,
                       "delegator", "hcp-other", "delegate", "hcp-other",
                       "permissions", permissions);
    assert_non_null(entity);
    return entity;
}

static void
test_access__sorted_hashes_find_key(void **state)
{
    json_t *entity = entity_for_key(keys + OPENING_KEY * CARDEA_AC_KEY_LEN,
                                    "READ");
    cardea_access_caller caller = {0};
    char **hashes = NULL;
    size_t count = 0;

    (void)state;
    assert_int_equal(cardea_access__hash_keys(&hashes, &count, keys,
                                              sizeof keys),
                     CARDEA_OK);
    assert_int_equal(count, KEY_COUNT);
    for (size_t i = 1; i < count; i++) {
        assert_true(strcmp(hashes[i - 1], hashes[i]) < 0);
    }
    caller.data_owner_id = "patient-1";
    caller.key_hashes = (const char *const *)hashes;
    caller.key_hash_count = count;
    caller.key_hashes_sorted = true;
    assert_int_equal(cardea_access__level(&caller, entity),
                     CARDEA_ACCESS_READ);

    /* Without the opening key, nothing. */
    cardea_free(hashes);
    assert_int_equal(cardea_access__hash_keys(&hashes, &count, keys,
                                              OPENING_KEY
                                                  * CARDEA_AC_KEY_LEN),
                     CARDEA_OK);
    caller.key_hashes = (const char *const *)hashes;
    caller.key_hash_count = count;
    assert_int_equal(cardea_access__level(&caller, entity),
                     CARDEA_ACCESS_NONE);
    cardea_free(hashes);
    json_decref(entity);
}

static void
test_access__unsorted_hashes_scanned(void **state)
{
    json_t *entity = entity_for_key(keys + OPENING_KEY * CARDEA_AC_KEY_LEN,
                                    "WRITE");
    cardea_access_caller caller = {0};
    const char *reversed[KEY_COUNT];
    char **hashes = NULL;
    size_t count = 0;

    (void)state;
    assert_int_equal(cardea_access__hash_keys(&hashes, &count, keys,
                                              sizeof keys),
                     CARDEA_OK);
    for (size_t i = 0; i < count; i++) {
        reversed[i] = hashes[count - 1 - i];
    }
    caller.data_owner_id = "patient-1";
    caller.key_hashes = reversed;
    caller.key_hash_count = count;
    caller.key_hashes_sorted = false;
    assert_int_equal(cardea_access__level(&caller, entity),
                     CARDEA_ACCESS_WRITE);

    /* A prefix of the right hash is not the hash. */
    reversed[0] = "00";
    caller.key_hash_count = 1;
    assert_int_equal(cardea_access__level(&caller, entity),
                     CARDEA_ACCESS_NONE);
    cardea_free(hashes);
    json_decref(entity);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access__sorted_hashes_find_key),
        cmocka_unit_test(test_access__unsorted_hashes_scanned),
    };

    fill_keys();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
