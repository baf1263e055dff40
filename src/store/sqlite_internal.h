/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the SQLite back-end files: the connection type and
 * small wrappers that map SQLite result codes to cardea_err.
 */
#ifndef CARDEA_STORE_SQLITE_INTERNAL_H
#define CARDEA_STORE_SQLITE_INTERNAL_H

#include <stdbool.h>

#include <sqlite3.h>

#include "store/store.h"

/* Statements kept prepared per connection; more are prepared each time. */
#define CARDEA_SQL_CACHE_SIZE 64

/* One prepared statement of a connection's cache. */
typedef struct cardea_sql_cached {
    const char *sql;            /* the caller's constant text */
    sqlite3_stmt *stmt;
    bool in_use;                /* handed out and not yet finished */
} cardea_sql_cached;

struct cardea_db {
    sqlite3 *sql;
    struct cardea_db *next;     /* link in the pool's free list */
    cardea_sql_cached cache[CARDEA_SQL_CACHE_SIZE];
    size_t cache_count;
};

/*
 * Prepares `sql` on `db`, or hands out the connection's cached statement
 * for the same text when it is not in use. Each statement must be given
 * back with cardea_sql__finish. CARDEA_EIO with a log line on failure.
 */
cardea_err cardea_sql__prepare(sqlite3_stmt **out, cardea_db *db,
                               const char *sql) CARDEA_MUST_CHECK;
/*
 * Gives back a statement of cardea_sql__prepare: a cached one is reset
 * and its bindings cleared, any other is finalized. NULL does nothing.
 */
void cardea_sql__finish(cardea_db *db, sqlite3_stmt *stmt);
/* Finalizes every cached statement, before the connection closes. */
void cardea_sql__cache_clear(cardea_db *db);
/* Runs constant SQL without results. */
cardea_err cardea_sql__exec(cardea_db *db, const char *sql) CARDEA_MUST_CHECK;
/*
 * Steps a statement that returns no row: CARDEA_OK on SQLITE_DONE,
 * CARDEA_ECONFLICT on a constraint violation, CARDEA_EIO otherwise.
 */
cardea_err cardea_sql__step_done(cardea_db *db, sqlite3_stmt *stmt)
    CARDEA_MUST_CHECK;
/* Binds a string, or NULL when `value` is NULL; the value is copied. */
cardea_err cardea_sql__bind_text(sqlite3_stmt *stmt, int index,
                                 const char *value) CARDEA_MUST_CHECK;
/* Copies a text column; NULL column gives NULL with CARDEA_OK. */
cardea_err cardea_sql__column_text(char **out, sqlite3_stmt *stmt, int col)
    CARDEA_MUST_CHECK;
/*
 * Steps a statement whose first column is a blob and copies that blob of
 * the first row: CARDEA_ENOTFOUND when there is no row.
 */
cardea_err cardea_sql__step_blob(uint8_t **out, size_t *out_len,
                                 sqlite3_stmt *stmt) CARDEA_MUST_CHECK;
/* Parses a JSON text column into an object. */
cardea_err cardea_sql__column_json(json_t **out, sqlite3_stmt *stmt, int col)
    CARDEA_MUST_CHECK;
/* Logs the last error of `db` with `what` as context. */
void cardea_sql__log(cardea_db *db, const char *what);

#endif
