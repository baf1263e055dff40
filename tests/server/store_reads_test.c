/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the store's read paths that the server's frequent requests
 * use. They cover the per-connection cache of prepared statements and the
 * entity read that also returns the stored JSON text. They also cover the
 * entity-index search with many values, values that need JSON escaping,
 * deleted entities and stub-only rows. Each test opens a new database in
 * a temporary folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "store/sqlite_internal.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    cardea_store *store;
    cardea_db *db;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cardea-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/test.sqlite", f->dir);
    assert_int_equal(cardea_store_open(&f->store, f->path, NULL), CARDEA_OK);
    assert_int_equal(cardea_store__acquire(&f->db, f->store), CARDEA_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    char name[160];

    cardea_store__release(f->store, f->db);
    cardea_store_close(f->store);
    for (size_t i = 0; i < 3; i++) {
        static const char *const suffixes[] = {"", "-wal", "-shm"};

        snprintf(name, sizeof name, "%s%s", f->path, suffixes[i]);
        (void)unlink(name);
    }
    (void)rmdir(f->dir);
    free(f);
    return 0;
}

static void
put_entity(cardea_db *db, const char *id, const char *json, bool stub_only)
{
    json_t *doc = NULL;

    assert_int_equal(cardea_json__parse(&doc, json, strlen(json), NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_json__set_str(doc, "id", id), CARDEA_OK);
    assert_int_equal(cardea_db__entity_put(db, "HealthElement", doc, NULL,
                                           stub_only),
                     CARDEA_OK);
    json_decref(doc);
}

/* ---- statement cache --------------------------------------------------- */

static void
test_store__statement_reused_after_finish(void **state)
{
    static const char sql[] = "SELECT count(*) FROM entities";
    fixture *f = *state;
    sqlite3_stmt *first = NULL;
    sqlite3_stmt *nested = NULL;
    sqlite3_stmt *again = NULL;

    assert_int_equal(cardea_sql__prepare(&first, f->db, sql), CARDEA_OK);
    /* While `first` is handed out, the same text gets its own statement. */
    assert_int_equal(cardea_sql__prepare(&nested, f->db, sql), CARDEA_OK);
    assert_ptr_not_equal(first, nested);
    assert_int_equal(sqlite3_step(first), SQLITE_ROW);
    assert_int_equal(sqlite3_step(nested), SQLITE_ROW);
    cardea_sql__finish(f->db, nested);
    cardea_sql__finish(f->db, first);

    assert_int_equal(cardea_sql__prepare(&again, f->db, sql), CARDEA_OK);
    assert_true(again == first || again == nested);
    /* Finishing reset the statement, so it runs from the start. */
    assert_int_equal(sqlite3_step(again), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(again, 0), 0);
    cardea_sql__finish(f->db, again);
    cardea_sql__finish(f->db, NULL);
}

static void
test_store__same_address_other_text(void **state)
{
    fixture *f = *state;
    sqlite3_stmt *stmt = NULL;
    char sql[64];

    snprintf(sql, sizeof sql, "SELECT 1");
    assert_int_equal(cardea_sql__prepare(&stmt, f->db, sql), CARDEA_OK);
    cardea_sql__finish(f->db, stmt);

    /* The buffer now contains other SQL, so the cached statement must not
       run. */
    snprintf(sql, sizeof sql, "SELECT 2");
    assert_int_equal(cardea_sql__prepare(&stmt, f->db, sql), CARDEA_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 2);
    cardea_sql__finish(f->db, stmt);
}

static void
test_store__invalid_sql_fails(void **state)
{
    fixture *f = *state;
    sqlite3_stmt *stmt = NULL;

    assert_int_equal(cardea_sql__prepare(&stmt, f->db, "SELEC nothing"),
                     CARDEA_EIO);
    assert_null(stmt);
}

static void
test_store__transactions_through_cache(void **state)
{
    fixture *f = *state;
    json_t *doc = NULL;

    for (int round = 0; round < 3; round++) {
        char id[16];

        snprintf(id, sizeof id, "tx-%d", round);
        assert_int_equal(cardea_db__begin(f->db), CARDEA_OK);
        put_entity(f->db, id, "{}", false);
        if (round == 1) {
            cardea_db__rollback(f->db);
        } else {
            assert_int_equal(cardea_db__commit(f->db), CARDEA_OK);
        }
    }
    assert_int_equal(cardea_db__entity_get(&doc, NULL, f->db,
                                           "HealthElement", "tx-0", false),
                     CARDEA_OK);
    json_decref(doc);
    doc = NULL;
    assert_int_equal(cardea_db__entity_get(&doc, NULL, f->db,
                                           "HealthElement", "tx-1", false),
                     CARDEA_ENOTFOUND);
    assert_null(doc);
    assert_int_equal(cardea_db__entity_get(&doc, NULL, f->db,
                                           "HealthElement", "tx-2", false),
                     CARDEA_OK);
    json_decref(doc);
}

/* ---- entity text ------------------------------------------------------- */

static void
test_store__entity_text_is_stored_json(void **state)
{
    fixture *f = *state;
    json_t *doc = NULL;
    char *text = NULL;
    char *dumped;
    size_t len = 0;

    put_entity(f->db, "e-1",
               "{\"note\":\"caf\\u00e9 \\\"q\\\" \\\\ \\u0001\","
               "\"n\":1.5,\"list\":[1,{\"a\":null}]}", false);
    assert_int_equal(cardea_db__entity_get_text(&doc, &text, &len, f->db,
                                                "HealthElement", "e-1"),
                     CARDEA_OK);
    assert_non_null(doc);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    /* The text is what a GET used to send: the parsed copy, dumped. */
    dumped = cardea_json__dump(doc);
    assert_non_null(dumped);
    assert_string_equal(text, dumped);
    assert_string_equal(cardea_json__get_str(doc, "id"), "e-1");
    assert_non_null(cardea_json__get_str(doc, "rev"));
    cardea_free(dumped);
    cardea_free(text);
    json_decref(doc);
}

static void
test_store__entity_text_missing_or_stub(void **state)
{
    fixture *f = *state;
    json_t *doc = NULL;
    char *text = NULL;
    size_t len = 7;

    put_entity(f->db, "stub", "{}", true);
    assert_int_equal(cardea_db__entity_get_text(&doc, &text, &len, f->db,
                                                "HealthElement", "stub"),
                     CARDEA_ENOTFOUND);
    assert_null(doc);
    assert_null(text);
    assert_int_equal(len, 7);
    assert_int_equal(cardea_db__entity_get_text(&doc, &text, &len, f->db,
                                                "HealthElement", "none"),
                     CARDEA_ENOTFOUND);
    assert_null(doc);
    assert_null(text);
    assert_int_equal(len, 7);
    assert_int_equal(cardea_db__entity_get_text(&doc, NULL, &len, f->db,
                                                "HealthElement", "stub"),
                     CARDEA_EINVAL);
    assert_null(doc);
}

/* ---- index search ------------------------------------------------------ */

static void
index_values(cardea_db *db, const char *id, const char *const *values,
             size_t count)
{
    assert_int_equal(cardea_db__index_replace(db, "HealthElement", id,
                                              CARDEA_INDEX_SEARCH_KEY,
                                              values, count),
                     CARDEA_OK);
}

static void
test_store__index_find_sorted_distinct(void **state)
{
    static const char *const tricky[] = {"q\"uote", "back\\slash",
                                         "ctl\x01", "caf\xc3\xa9"};
    fixture *f = *state;
    const char *values[1003];
    char names[1000][16];
    json_t *ids = json_array();
    json_t *deleted = NULL;

    assert_non_null(ids);
    put_entity(f->db, "c", "{}", false);
    put_entity(f->db, "a", "{}", false);
    put_entity(f->db, "b", "{}", false);
    put_entity(f->db, "gone", "{\"deleted\":1}", false);
    put_entity(f->db, "stub", "{}", true);
    index_values(f->db, "c", &tricky[0], 2);
    index_values(f->db, "a", &tricky[1], 2);
    index_values(f->db, "b", &tricky[3], 1);
    index_values(f->db, "gone", &tricky[0], 1);
    index_values(f->db, "stub", &tricky[0], 1);
    index_values(f->db, "d-unknown", &tricky[0], 1);

    /* The index contains the values themselves, not their JSON escapes. */
    for (size_t i = 0; i < 4; i++) {
        sqlite3_stmt *stmt = NULL;

        assert_int_equal(cardea_sql__prepare(&stmt, f->db,
                                             "SELECT count(*) FROM"
                                             " entity_index WHERE value = ?1"),
                         CARDEA_OK);
        assert_int_equal(cardea_sql__bind_text(stmt, 1, tricky[i]),
                         CARDEA_OK);
        assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
        assert_true(sqlite3_column_int(stmt, 0) >= 1);
        cardea_sql__finish(f->db, stmt);
    }

    /* A thousand values that match nothing, then the four that do. */
    for (size_t i = 0; i < 1000; i++) {
        snprintf(names[i], sizeof names[i], "miss-%zu", i);
        values[i] = names[i];
    }
    memcpy(&values[999], tricky, sizeof tricky);
    assert_int_equal(cardea_db__index_find(ids, f->db, "HealthElement",
                                           CARDEA_INDEX_SEARCH_KEY, values,
                                           1003),
                     CARDEA_OK);
    assert_int_equal(json_array_size(ids), 3);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), "a");
    assert_string_equal(json_string_value(json_array_get(ids, 1)), "b");
    assert_string_equal(json_string_value(json_array_get(ids, 2)), "c");

    /* Another kind or type finds nothing. */
    json_array_clear(ids);
    assert_int_equal(cardea_db__index_find(ids, f->db, "HealthElement",
                                           CARDEA_INDEX_CODE, tricky, 4),
                     CARDEA_OK);
    assert_int_equal(json_array_size(ids), 0);
    assert_int_equal(cardea_db__index_find(ids, f->db, "Contact",
                                           CARDEA_INDEX_SEARCH_KEY, tricky,
                                           4),
                     CARDEA_OK);
    assert_int_equal(json_array_size(ids), 0);
    assert_int_equal(cardea_db__entity_get(&deleted, NULL, f->db,
                                           "HealthElement", "gone", false),
                     CARDEA_OK);
    json_decref(deleted);
    json_decref(ids);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store__statement_reused_after_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__same_address_other_text,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__invalid_sql_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_store__transactions_through_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_store__entity_text_is_stored_json, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_store__entity_text_missing_or_stub, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_store__index_find_sorted_distinct, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
