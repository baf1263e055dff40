/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Document tables of the SQLite store: entities and their index rows,
 * exchange data, exchange-data maps, recovery data and attachments.
 * Revision checks are part of the UPDATE statement itself, so a single
 * write is atomic without an explicit transaction; callers that write
 * several rows wrap them in cardea_db__begin/commit.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "store/sqlite_internal.h"

/* Binds the table-specific columns (?5 and up) of a document write. */
typedef cardea_err (*bind_extra_fn)(sqlite3_stmt *stmt, const json_t *doc,
                                    const void *arg);

typedef struct doc_sql {
    const char *insert;     /* ?1 id, ?2 new rev, ?3 json, ?5.. extra */
    const char *update;     /* same, and ?4 the expected revision */
    const char *exists;     /* ?1 id, ?2 scope when not NULL */
} doc_sql;

static cardea_err
bind_common(sqlite3_stmt *stmt, const char *id, const char *rev,
            const char *text, const char *expected_rev)
{
    cardea_err err;

    if ((err = cardea_sql__bind_text(stmt, 1, id)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 2, rev)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 3, text)) != CARDEA_OK) {
        return err;
    }
    if (expected_rev != NULL) {
        err = cardea_sql__bind_text(stmt, 4, expected_rev);
    }
    return err;
}

/* CARDEA_ECONFLICT when row `id` exists (stale revision), else ENOTFOUND. */
static cardea_err
missing_or_stale(cardea_db *db, const doc_sql *sql, const char *id,
                 const char *scope)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;
    int rc;

    if ((err = cardea_sql__prepare(&stmt, db, sql->exists)) != CARDEA_OK) {
        return err;
    }
    if ((err = cardea_sql__bind_text(stmt, 1, id)) != CARDEA_OK
        || (scope != NULL
            && (err = cardea_sql__bind_text(stmt, 2, scope)) != CARDEA_OK)) {
        goto out;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        err = CARDEA_ECONFLICT;
    } else if (rc == SQLITE_DONE) {
        err = CARDEA_ENOTFOUND;
    } else {
        cardea_sql__log(db, "checking a revision");
        err = CARDEA_EIO;
    }

out:
    cardea_sql__finish(db, stmt);
    return err;
}

static cardea_err
run_write(cardea_db *db, const doc_sql *sql, const json_t *doc,
          const char *id, const char *rev, const char *text,
          const char *expected_rev, bind_extra_fn bind, const void *arg)
{
    sqlite3_stmt *stmt = NULL;
    const char *query = expected_rev == NULL ? sql->insert : sql->update;
    cardea_err err;

    if ((err = cardea_sql__prepare(&stmt, db, query)) != CARDEA_OK) {
        return err;
    }
    if ((err = bind_common(stmt, id, rev, text, expected_rev)) != CARDEA_OK
        || (bind != NULL && (err = bind(stmt, doc, arg)) != CARDEA_OK)
        || (err = cardea_sql__step_done(db, stmt)) != CARDEA_OK) {
        goto out;
    }
    if (expected_rev != NULL && sqlite3_changes(db->sql) == 0) {
        err = CARDEA_ENOTFOUND;
    }

out:
    cardea_sql__finish(db, stmt);
    return err;
}

/*
 * Sets doc["rev"] to the next revision, writes the row and restores the
 * previous "rev" member when the write fails.
 */
static cardea_err
write_doc(cardea_db *db, const doc_sql *sql, json_t *doc,
          const char *expected_rev, const char *scope, bind_extra_fn bind,
          const void *arg)
{
    const char *id = cardea_json__get_str(doc, "id");
    json_t *old_rev = json_incref(json_object_get(doc, "rev"));
    char rev[CARDEA_REV_MAX_LEN + 1];
    char *text = NULL;
    cardea_err err;

    if (id == NULL || id[0] == '\0') {
        json_decref(old_rev);
        return CARDEA_EINVAL;
    }
    cardea_store__next_rev(rev, expected_rev);
    if ((err = cardea_json__set_str(doc, "rev", rev)) != CARDEA_OK) {
        goto out;
    }
    if ((text = cardea_json__dump(doc)) == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    err = run_write(db, sql, doc, id, rev, text, expected_rev, bind, arg);
    if (err == CARDEA_ENOTFOUND) {
        err = missing_or_stale(db, sql, id, scope);
    }

out:
    if (err != CARDEA_OK) {
        if (old_rev != NULL) {
            (void)json_object_set(doc, "rev", old_rev);
        } else {
            (void)json_object_del(doc, "rev");
        }
    }
    json_decref(old_rev);
    cardea_mem__free(text);
    return err;
}

/* Runs a query whose first column is a JSON document; one row expected. */
static cardea_err
read_one(json_t **out, cardea_db *db, const char *sql, const char *first,
         const char *second)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;
    int rc;

    if ((err = cardea_sql__prepare(&stmt, db, sql)) != CARDEA_OK) {
        return err;
    }
    if ((err = cardea_sql__bind_text(stmt, 1, first)) != CARDEA_OK
        || (second != NULL
            && (err = cardea_sql__bind_text(stmt, 2, second)) != CARDEA_OK)) {
        goto out;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        err = cardea_sql__column_json(out, stmt, 0);
    } else if (rc == SQLITE_DONE) {
        err = CARDEA_ENOTFOUND;
    } else {
        cardea_sql__log(db, "reading a document");
        err = CARDEA_EIO;
    }

out:
    cardea_sql__finish(db, stmt);
    return err;
}

/* Appends the JSON document of each row (column 0) to `rows`. */
static cardea_err
append_rows(json_t *rows, cardea_db *db, sqlite3_stmt *stmt)
{
    json_t *doc = NULL;
    cardea_err err;
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((err = cardea_sql__column_json(&doc, stmt, 0)) != CARDEA_OK
            || (err = cardea_json__append_new(rows, doc)) != CARDEA_OK) {
            return err;
        }
    }
    if (rc != SQLITE_DONE) {
        cardea_sql__log(db, "listing documents");
        return CARDEA_EIO;
    }
    return CARDEA_OK;
}

/* ---- entities ---------------------------------------------------------- */

static const doc_sql entity_sql = {
    "INSERT INTO entities (id, rev, json, type, deleted, stub_only)"
    " VALUES (?1, ?2, ?3, ?5, ?6, ?7)",
    "UPDATE entities SET rev = ?2, json = ?3, deleted = ?6, stub_only = ?7"
    " WHERE id = ?1 AND type = ?5 AND rev = ?4",
    "SELECT 1 FROM entities WHERE id = ?1 AND type = ?2",
};

typedef struct entity_arg {
    const char *type;
    bool stub_only;
} entity_arg;

static cardea_err
bind_entity(sqlite3_stmt *stmt, const json_t *doc, const void *arg)
{
    const entity_arg *entity = arg;
    const json_t *deleted = json_object_get(doc, "deleted");
    cardea_err err = cardea_sql__bind_text(stmt, 5, entity->type);

    if (err != CARDEA_OK) {
        return err;
    }
    sqlite3_bind_int(stmt, 6, deleted != NULL && !json_is_null(deleted));
    sqlite3_bind_int(stmt, 7, entity->stub_only);
    return CARDEA_OK;
}

/* Copies text column `col` of the current row with its length. */
static cardea_err
column_text_len(char **out, size_t *out_len, sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    char *copy;

    if (text == NULL) {
        return CARDEA_EIO;
    }
    if ((copy = cardea_mem__strndup((const char *)text, len)) == NULL) {
        return CARDEA_ENOMEM;
    }
    *out = copy;
    *out_len = len;
    return CARDEA_OK;
}

/*
 * Reads one entity row into `*out` and, when `text_out` is not NULL, a
 * copy of its stored JSON text. The outputs follow
 * cardea_db__entity_get and cardea_db__entity_get_text.
 */
static cardea_err
entity_read(json_t **out, char **text_out, size_t *text_len_out,
            bool *stub_only_out, cardea_db *db, const char *type,
            const char *id, bool with_stub_only)
{
    sqlite3_stmt *stmt = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    size_t text_len = 0;
    bool stub_only;
    cardea_err err;
    int rc;

    err = cardea_sql__prepare(&stmt, db, "SELECT json, stub_only FROM"
                              " entities WHERE type = ?1 AND id = ?2");
    if (err != CARDEA_OK) {
        return err;
    }
    if ((err = cardea_sql__bind_text(stmt, 1, type)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 2, id)) != CARDEA_OK) {
        goto out;
    }
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        err = rc == SQLITE_DONE ? CARDEA_ENOTFOUND : CARDEA_EIO;
        goto out;
    }
    stub_only = sqlite3_column_int(stmt, 1) != 0;
    if (stub_only && !with_stub_only) {
        err = CARDEA_ENOTFOUND;
        goto out;
    }
    if ((err = cardea_sql__column_json(&doc, stmt, 0)) != CARDEA_OK
        || (text_out != NULL
            && (err = column_text_len(&text, &text_len, stmt, 0))
                   != CARDEA_OK)) {
        goto out;
    }
    *out = doc;
    doc = NULL;
    if (text_out != NULL) {
        *text_out = text;
        *text_len_out = text_len;
    }
    if (stub_only_out != NULL) {
        *stub_only_out = stub_only;
    }

out:
    json_decref(doc);
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__entity_get(json_t **out, bool *stub_only_out, cardea_db *db,
                      const char *type, const char *id, bool with_stub_only)
{
    return entity_read(out, NULL, NULL, stub_only_out, db, type, id,
                       with_stub_only);
}

cardea_err
cardea_db__entity_get_text(json_t **out, char **text_out,
                           size_t *text_len_out, cardea_db *db,
                           const char *type, const char *id)
{
    if (text_out == NULL || text_len_out == NULL) {
        return CARDEA_EINVAL;
    }
    return entity_read(out, text_out, text_len_out, NULL, db, type, id,
                       false);
}

cardea_err
cardea_db__entity_put(cardea_db *db, const char *type, json_t *doc,
                      const char *expected_rev, bool stub_only)
{
    entity_arg arg = {type, stub_only};

    if (type == NULL || !json_is_object(doc)) {
        return CARDEA_EINVAL;
    }
    return write_doc(db, &entity_sql, doc, expected_rev, type, bind_entity,
                     &arg);
}

/* Runs a constant DELETE binding ?1 `first` and ?2 `second` (may be NULL). */
static cardea_err
run_delete(cardea_db *db, const char *sql, const char *first,
           const char *second)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err = cardea_sql__prepare(&stmt, db, sql);

    if (err == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 1, first)) == CARDEA_OK
        && (second == NULL
            || (err = cardea_sql__bind_text(stmt, 2, second)) == CARDEA_OK)) {
        err = cardea_sql__step_done(db, stmt);
    }
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__entity_delete(cardea_db *db, const char *type, const char *id)
{
    cardea_err err;

    if (type == NULL || id == NULL) {
        return CARDEA_EINVAL;
    }
    err = run_delete(db, "DELETE FROM entities WHERE type = ?1 AND id = ?2",
                     type, id);
    if (err != CARDEA_OK) {
        return err;
    }
    if (sqlite3_changes(db->sql) == 0) {
        return CARDEA_ENOTFOUND;
    }
    return run_delete(db, "DELETE FROM entity_index"
                      " WHERE type = ?1 AND entity_id = ?2", type, id);
}

/* Appends `value` as a JSON string. Non-ASCII bytes pass unchanged. */
static cardea_err
append_json_string(cardea_buf *buf, const char *value)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = value;
    cardea_err err = cardea_buf__append(buf, "\"", 1);

    for (const char *p = value; err == CARDEA_OK && *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        char escape[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        if ((err = cardea_buf__append(buf, run, (size_t)(p - run)))
            == CARDEA_OK) {
            err = cardea_buf__append(buf, escape, sizeof escape);
        }
        run = p + 1;
    }
    if (err == CARDEA_OK) {
        err = cardea_buf__append_str(buf, run);
    }
    if (err == CARDEA_OK) {
        err = cardea_buf__append(buf, "\"", 1);
    }
    return err;
}

/*
 * Writes `values` as the text of a JSON array of strings, for json_each.
 * Built by hand because a match may send a thousand values, and a
 * jansson array costs an allocation per value.
 */
static cardea_err
values_to_json_text(char **out, const char *const *values, size_t count)
{
    cardea_buf buf;
    cardea_err err;

    cardea_buf__init(&buf, 0);
    err = cardea_buf__append(&buf, "[", 1);
    for (size_t i = 0; i < count && err == CARDEA_OK; i++) {
        if (i > 0) {
            err = cardea_buf__append(&buf, ",", 1);
        }
        if (err == CARDEA_OK) {
            err = append_json_string(&buf, values[i]);
        }
    }
    if (err == CARDEA_OK) {
        err = cardea_buf__append(&buf, "]", 1);
    }
    if (err == CARDEA_OK) {
        err = cardea_buf__take_str(out, &buf);
    }
    cardea_buf__free(&buf, false);
    return err;
}

cardea_err
cardea_db__index_replace(cardea_db *db, const char *type, const char *id,
                         cardea_index_kind kind, const char *const *values,
                         size_t count)
{
    sqlite3_stmt *stmt = NULL;
    char *text = NULL;
    cardea_err err;

    if ((err = values_to_json_text(&text, values, count)) != CARDEA_OK) {
        return err;
    }
    err = cardea_sql__prepare(&stmt, db, "DELETE FROM entity_index WHERE"
                              " type = ?1 AND entity_id = ?2 AND kind = ?3");
    if (err != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 1, type)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 2, id)) != CARDEA_OK) {
        goto out;
    }
    sqlite3_bind_int(stmt, 3, (int)kind);
    if ((err = cardea_sql__step_done(db, stmt)) != CARDEA_OK) {
        goto out;
    }
    cardea_sql__finish(db, stmt);
    stmt = NULL;

    err = cardea_sql__prepare(&stmt, db,
        "INSERT OR IGNORE INTO entity_index (type, kind, value, entity_id)"
        " SELECT ?1, ?3, value, ?2 FROM json_each(?4)");
    if (err != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 1, type)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 2, id)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 4, text)) != CARDEA_OK) {
        goto out;
    }
    sqlite3_bind_int(stmt, 3, (int)kind);
    err = cardea_sql__step_done(db, stmt);

out:
    cardea_sql__finish(db, stmt);
    cardea_mem__free(text);
    return err;
}

cardea_err
cardea_db__index_find(json_t *ids, cardea_db *db, const char *type,
                      cardea_index_kind kind, const char *const *values,
                      size_t count)
{
    sqlite3_stmt *stmt = NULL;
    char *text = NULL;
    cardea_err err;
    int rc;

    if ((err = values_to_json_text(&text, values, count)) != CARDEA_OK) {
        return err;
    }
    /*
     * The plan is fixed. CROSS JOIN makes SQLite loop over the values and
     * look each one up through the primary key. The unary + keeps it from
     * walking entity_index_by_entity in entity_id order over every row of
     * the type instead. Only the matches are sorted, so the cost follows
     * the number of values and results, not the number of entities.
     */
    err = cardea_sql__prepare(&stmt, db,
        "SELECT DISTINCT i.entity_id FROM json_each(?3) v"
        " CROSS JOIN entity_index i"
        " ON i.type = ?1 AND i.kind = ?2 AND i.value = v.value"
        " JOIN entities e ON e.type = i.type AND e.id = i.entity_id"
        " WHERE e.deleted = 0 AND e.stub_only = 0 ORDER BY +i.entity_id");
    if (err != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 1, type)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 3, text)) != CARDEA_OK) {
        goto out;
    }
    sqlite3_bind_int(stmt, 2, (int)kind);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(stmt, 0);

        err = cardea_json__append_new(ids, json_string(id));
        if (err != CARDEA_OK) {
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        cardea_sql__log(db, "searching the entity index");
        err = CARDEA_EIO;
    }

out:
    cardea_sql__finish(db, stmt);
    cardea_mem__free(text);
    return err;
}

/* ---- exchange data ----------------------------------------------------- */

static const doc_sql exchange_sql = {
    "INSERT INTO exchange_data (id, rev, json, delegator, delegate)"
    " VALUES (?1, ?2, ?3, ?5, ?6)",
    "UPDATE exchange_data SET rev = ?2, json = ?3"
    " WHERE id = ?1 AND rev = ?4 AND delegator = ?5 AND delegate = ?6",
    "SELECT 1 FROM exchange_data WHERE id = ?1",
};

static cardea_err
bind_exchange(sqlite3_stmt *stmt, const json_t *doc, const void *arg)
{
    cardea_err err;

    (void)arg;
    if ((err = cardea_sql__bind_text(stmt, 5,
                                     cardea_json__get_str(doc, "delegator")))
            != CARDEA_OK) {
        return err;
    }
    return cardea_sql__bind_text(stmt, 6,
                                 cardea_json__get_str(doc, "delegate"));
}

cardea_err
cardea_db__exchange_put(cardea_db *db, json_t *doc, const char *expected_rev)
{
    if (!json_is_object(doc)
        || cardea_json__get_str(doc, "delegator") == NULL
        || cardea_json__get_str(doc, "delegate") == NULL) {
        return CARDEA_EINVAL;
    }
    return write_doc(db, &exchange_sql, doc, expected_rev, NULL,
                     bind_exchange, NULL);
}

cardea_err
cardea_db__exchange_get(json_t **out, cardea_db *db, const char *id)
{
    return read_one(out, db, "SELECT json FROM exchange_data WHERE id = ?1",
                    id, NULL);
}

cardea_err
cardea_db__exchange_by_pair(json_t *rows, cardea_db *db,
                            const char *delegator, const char *delegate)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db, "SELECT json FROM exchange_data"
                              " WHERE delegator = ?1 AND delegate = ?2"
                              " ORDER BY id");
    if (err == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 1, delegator)) == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 2, delegate)) == CARDEA_OK) {
        err = append_rows(rows, db, stmt);
    }
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__exchange_by_participant(json_t *rows, cardea_db *db,
                                   const char *participant,
                                   const char *start_id, size_t limit)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db, "SELECT json FROM exchange_data"
                              " WHERE (delegator = ?1 OR delegate = ?1)"
                              " AND (?2 IS NULL OR id >= ?2)"
                              " ORDER BY id LIMIT ?3");
    if (err == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 1, participant)) == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 2, start_id)) == CARDEA_OK) {
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)limit);
        err = append_rows(rows, db, stmt);
    }
    cardea_sql__finish(db, stmt);
    return err;
}

/* ---- exchange-data maps ------------------------------------------------ */

static const doc_sql exmap_sql = {
    "INSERT INTO exchange_data_maps (id, rev, json) VALUES (?1, ?2, ?3)",
    "UPDATE exchange_data_maps SET rev = ?2, json = ?3"
    " WHERE id = ?1 AND rev = ?4",
    "SELECT 1 FROM exchange_data_maps WHERE id = ?1",
};

cardea_err
cardea_db__exmap_get(json_t **out, cardea_db *db, const char *id)
{
    return read_one(out, db,
                    "SELECT json FROM exchange_data_maps WHERE id = ?1", id,
                    NULL);
}

cardea_err
cardea_db__exmap_put(cardea_db *db, json_t *doc, const char *expected_rev)
{
    if (!json_is_object(doc)) {
        return CARDEA_EINVAL;
    }
    return write_doc(db, &exmap_sql, doc, expected_rev, NULL, NULL, NULL);
}

cardea_err
cardea_db__exmap_merge(cardea_db *db, const char *id, const json_t *entries)
{
    json_t *doc = NULL;
    json_t *current;
    char *rev = NULL;
    const char *fp;
    json_t *value;
    cardea_err err;

    if (id == NULL || !json_is_object(entries)) {
        return CARDEA_EINVAL;
    }
    err = cardea_db__exmap_get(&doc, db, id);
    if (err == CARDEA_ENOTFOUND) {
        doc = json_pack("{s:s, s:O}", "id", id, "encryptedExchangeDataIds",
                        entries);
        err = doc != NULL ? cardea_db__exmap_put(db, doc, NULL)
                          : CARDEA_ENOMEM;
        json_decref(doc);
        return err;
    }
    if (err != CARDEA_OK) {
        return err;
    }
    current = json_object_get(doc, "encryptedExchangeDataIds");
    if (!json_is_object(current)) {
        current = json_object();
        if (cardea_json__set_new(doc, "encryptedExchangeDataIds", current)
            != CARDEA_OK) {
            err = CARDEA_ENOMEM;
        }
    }
    json_object_foreach((json_t *)entries, fp, value) {
        if (err == CARDEA_OK && json_object_get(current, fp) == NULL
            && json_object_set(current, fp, value) != 0) {
            err = CARDEA_ENOMEM;
        }
    }
    if (err == CARDEA_OK) {
        rev = cardea_mem__strdup(cardea_json__get_str(doc, "rev"));
        err = rev != NULL ? cardea_db__exmap_put(db, doc, rev) : CARDEA_EIO;
    }
    cardea_mem__free(rev);
    json_decref(doc);
    return err;
}

/* ---- recovery data ----------------------------------------------------- */

static const doc_sql recovery_sql = {
    "INSERT INTO recovery_data (id, rev, json, recipient, type_key, expires,"
    " creator) VALUES (?1, ?2, ?3, ?5, ?6, ?7, ?8)",
    NULL,
    "SELECT 1 FROM recovery_data WHERE id = ?1",
};

/* What recovery rows store beside the JSON document. */
typedef struct recovery_columns {
    const char *type_key;
    const char *creator;
} recovery_columns;

static cardea_err
bind_recovery(sqlite3_stmt *stmt, const json_t *doc, const void *arg)
{
    const recovery_columns *columns = arg;
    const json_t *expires = json_object_get(doc, "expirationInstant");
    cardea_err err;

    if ((err = cardea_sql__bind_text(stmt, 5,
                                     cardea_json__get_str(doc, "recipient")))
            != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 6, columns->type_key))
               != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 8, columns->creator))
               != CARDEA_OK) {
        return err;
    }
    if (json_is_integer(expires)) {
        sqlite3_bind_int64(stmt, 7, json_integer_value(expires));
    } else {
        sqlite3_bind_null(stmt, 7);
    }
    return CARDEA_OK;
}

cardea_err
cardea_db__recovery_put(cardea_db *db, json_t *doc, const char *type_key,
                        const char *creator)
{
    const recovery_columns columns = {type_key, creator};

    if (!json_is_object(doc) || type_key == NULL
        || cardea_json__get_str(doc, "recipient") == NULL) {
        return CARDEA_EINVAL;
    }
    return write_doc(db, &recovery_sql, doc, NULL, NULL, bind_recovery,
                     &columns);
}

static cardea_err
purge_expired(cardea_db *db, const char *id, int64_t now_ms)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db, "DELETE FROM recovery_data"
                              " WHERE id = ?1 AND expires <= ?2");
    if (err == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 1, id)) == CARDEA_OK) {
        sqlite3_bind_int64(stmt, 2, now_ms);
        err = cardea_sql__step_done(db, stmt);
    }
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__recovery_get(json_t **out, cardea_db *db, const char *id,
                        int64_t now_ms)
{
    cardea_err err = purge_expired(db, id, now_ms);

    if (err != CARDEA_OK) {
        return err;
    }
    return read_one(out, db, "SELECT json FROM recovery_data WHERE id = ?1",
                    id, NULL);
}

cardea_err
cardea_db__recovery_delete(char rev_out[CARDEA_REV_MAX_LEN + 1],
                           cardea_db *db, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    const unsigned char *rev;
    cardea_err err;
    int rc;

    err = cardea_sql__prepare(&stmt, db, "DELETE FROM recovery_data"
                              " WHERE id = ?1 RETURNING rev");
    if (err != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 1, id)) != CARDEA_OK) {
        goto out;
    }
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        err = rc == SQLITE_DONE ? CARDEA_ENOTFOUND : CARDEA_EIO;
        goto out;
    }
    rev = sqlite3_column_text(stmt, 0);
    snprintf(rev_out, CARDEA_REV_MAX_LEN + 1, "%s",
             rev != NULL ? (const char *)rev : "");
    /* Step to the end so the delete is applied before the reset. */
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        err = CARDEA_EIO;
    }

out:
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__recovery_delete_for(size_t *count_out, cardea_db *db,
                               const char *recipient, const char *type_key,
                               const char *creator)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db, "DELETE FROM recovery_data"
                              " WHERE recipient = ?1"
                              " AND (?2 IS NULL OR type_key = ?2)"
                              " AND (?3 IS NULL OR creator = ?3)");
    if (err == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 1, recipient)) == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 2, type_key)) == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 3, creator)) == CARDEA_OK
        && (err = cardea_sql__step_done(db, stmt)) == CARDEA_OK) {
        *count_out = (size_t)sqlite3_changes(db->sql);
    }
    cardea_sql__finish(db, stmt);
    return err;
}

/* ---- attachments --------------------------------------------------------- */

cardea_err
cardea_db__attachment_put(cardea_db *db, const char *entity_id,
                          const char *key, const uint8_t *data, size_t len)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    if (len > (size_t)INT32_MAX) {
        return CARDEA_ETOOBIG;
    }
    err = cardea_sql__prepare(&stmt, db, "INSERT OR REPLACE INTO attachments"
                              " (entity_id, key, data) VALUES (?1, ?2, ?3)");
    if (err != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 1, entity_id)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 2, key)) != CARDEA_OK) {
        goto out;
    }
    /* A zero-length blob must still be a blob, not NULL. */
    if (sqlite3_bind_blob(stmt, 3, len > 0 ? (const void *)data : "",
                          (int)len, SQLITE_STATIC) != SQLITE_OK) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    err = cardea_sql__step_done(db, stmt);

out:
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__attachment_get(uint8_t **out, size_t *out_len, cardea_db *db,
                          const char *entity_id, const char *key)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db, "SELECT data FROM attachments"
                              " WHERE entity_id = ?1 AND key = ?2");
    if (err == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 1, entity_id)) == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 2, key)) == CARDEA_OK) {
        err = cardea_sql__step_blob(out, out_len, stmt);
    }
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__attachment_delete(cardea_db *db, const char *entity_id,
                             const char *key)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db, "DELETE FROM attachments"
                              " WHERE entity_id = ?1 AND key = ?2");
    if (err == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 1, entity_id)) == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 2, key)) == CARDEA_OK
        && (err = cardea_sql__step_done(db, stmt)) == CARDEA_OK
        && sqlite3_changes(db->sql) == 0) {
        err = CARDEA_ENOTFOUND;
    }
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__attachment_delete_all(cardea_db *db, const char *entity_id)
{
    if (entity_id == NULL) {
        return CARDEA_EINVAL;
    }
    return run_delete(db, "DELETE FROM attachments WHERE entity_id = ?1",
                      entity_id, NULL);
}
