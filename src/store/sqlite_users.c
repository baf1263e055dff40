/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Users and the data-owner registry in the SQLite store. A user row links
 * a login and its Argon2id password hash to one data owner; the registry
 * row gives that data owner's type and, for an HCP, its parent.
 */
#include <string.h>

#include "base/base.h"
#include "store/sqlite_internal.h"

const char *
cardea_do_type__name(cardea_do_type type)
{
    switch (type) {
    case CARDEA_DO_HCP:
        return "hcp";
    case CARDEA_DO_PATIENT:
        return "patient";
    case CARDEA_DO_DEVICE:
        return "device";
    }
    return "unknown";
}

cardea_do_type
cardea_do_type__parse(const char *name)
{
    if (name == NULL) {
        return 0;
    }
    if (strcmp(name, "hcp") == 0) {
        return CARDEA_DO_HCP;
    }
    if (strcmp(name, "patient") == 0) {
        return CARDEA_DO_PATIENT;
    }
    if (strcmp(name, "device") == 0) {
        return CARDEA_DO_DEVICE;
    }
    return 0;
}

const char *
cardea_do_type__entity_type(cardea_do_type type)
{
    switch (type) {
    case CARDEA_DO_HCP:
        return "HealthcareParty";
    case CARDEA_DO_PATIENT:
        return "Patient";
    case CARDEA_DO_DEVICE:
        return "Device";
    }
    return "Unknown";
}

void
cardea_user__clear(cardea_user *user)
{
    if (user == NULL) {
        return;
    }
    cardea_mem__free(user->id);
    cardea_mem__free(user->login);
    if (user->password_hash != NULL) {
        cardea_mem__free_secret(user->password_hash,
                                strlen(user->password_hash));
    }
    cardea_mem__free(user->data_owner_id);
    memset(user, 0, sizeof *user);
}

cardea_err
cardea_db__user_add(cardea_db *db, const cardea_user *user)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db,
        "INSERT INTO users (id, login, password_hash, data_owner_id, type,"
        " created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (err != CARDEA_OK) {
        return err;
    }
    if ((err = cardea_sql__bind_text(stmt, 1, user->id)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 2, user->login)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 3, user->password_hash))
               != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 4, user->data_owner_id))
               != CARDEA_OK) {
        goto out;
    }
    sqlite3_bind_int(stmt, 5, (int)user->type);
    sqlite3_bind_int64(stmt, 6, user->created_ms);
    err = cardea_sql__step_done(db, stmt);

out:
    cardea_sql__finish(db, stmt);
    return err;
}

static cardea_err
read_user_row(cardea_user *out, sqlite3_stmt *stmt)
{
    cardea_user user = {0};
    cardea_err err;

    if ((err = cardea_sql__column_text(&user.id, stmt, 0)) != CARDEA_OK
        || (err = cardea_sql__column_text(&user.login, stmt, 1)) != CARDEA_OK
        || (err = cardea_sql__column_text(&user.password_hash, stmt, 2))
               != CARDEA_OK
        || (err = cardea_sql__column_text(&user.data_owner_id, stmt, 3))
               != CARDEA_OK) {
        cardea_user__clear(&user);
        return err;
    }
    user.type = (cardea_do_type)sqlite3_column_int(stmt, 4);
    user.created_ms = sqlite3_column_int64(stmt, 5);
    *out = user;
    return CARDEA_OK;
}

static cardea_err
user_by(cardea_user *out, cardea_db *db, const char *sql, const char *value)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;
    int rc;

    if ((err = cardea_sql__prepare(&stmt, db, sql)) != CARDEA_OK) {
        return err;
    }
    if ((err = cardea_sql__bind_text(stmt, 1, value)) != CARDEA_OK) {
        goto out;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        err = read_user_row(out, stmt);
    } else if (rc == SQLITE_DONE) {
        err = CARDEA_ENOTFOUND;
    } else {
        cardea_sql__log(db, "reading a user");
        err = CARDEA_EIO;
    }

out:
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__user_by_login(cardea_user *out, cardea_db *db, const char *login)
{
    return user_by(out, db,
                   "SELECT id, login, password_hash, data_owner_id, type,"
                   " created FROM users WHERE login = ?1", login);
}

cardea_err
cardea_db__user_by_id(cardea_user *out, cardea_db *db, const char *id)
{
    return user_by(out, db,
                   "SELECT id, login, password_hash, data_owner_id, type,"
                   " created FROM users WHERE id = ?1", id);
}

cardea_err
cardea_db__user_set_password(cardea_db *db, const char *login,
                             const char *password_hash)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db, "UPDATE users SET password_hash = ?1"
                                         " WHERE login = ?2");
    if (err != CARDEA_OK) {
        return err;
    }
    if ((err = cardea_sql__bind_text(stmt, 1, password_hash)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 2, login)) != CARDEA_OK
        || (err = cardea_sql__step_done(db, stmt)) != CARDEA_OK) {
        goto out;
    }
    if (sqlite3_changes(db->sql) == 0) {
        err = CARDEA_ENOTFOUND;
    }

out:
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__user_each(cardea_db *db,
                     cardea_err (*fn)(const cardea_user *user, void *arg),
                     void *arg)
{
    sqlite3_stmt *stmt = NULL;
    cardea_user user;
    cardea_err err;
    int rc;

    err = cardea_sql__prepare(&stmt, db,
        "SELECT id, login, password_hash, data_owner_id, type, created"
        " FROM users ORDER BY login");
    if (err != CARDEA_OK) {
        return err;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((err = read_user_row(&user, stmt)) != CARDEA_OK) {
            goto out;
        }
        err = fn(&user, arg);
        cardea_user__clear(&user);
        if (err != CARDEA_OK) {
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        cardea_sql__log(db, "listing users");
        err = CARDEA_EIO;
    }

out:
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__dataowner_add(cardea_db *db, const char *id, cardea_do_type type,
                         const char *parent_id)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db,
        "INSERT INTO data_owners (id, type, parent_id, created)"
        " VALUES (?1, ?2, ?3, ?4)");
    if (err != CARDEA_OK) {
        return err;
    }
    if ((err = cardea_sql__bind_text(stmt, 1, id)) != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 3, parent_id)) != CARDEA_OK) {
        goto out;
    }
    sqlite3_bind_int(stmt, 2, (int)type);
    sqlite3_bind_int64(stmt, 4, cardea_store__now_ms());
    err = cardea_sql__step_done(db, stmt);

out:
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__dataowner_get(cardea_do_type *type_out, char **parent_out,
                         cardea_db *db, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    char *parent = NULL;
    cardea_err err;
    int rc;

    err = cardea_sql__prepare(&stmt, db, "SELECT type, parent_id FROM"
                                         " data_owners WHERE id = ?1");
    if (err != CARDEA_OK) {
        return err;
    }
    if ((err = cardea_sql__bind_text(stmt, 1, id)) != CARDEA_OK) {
        goto out;
    }
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        err = rc == SQLITE_DONE ? CARDEA_ENOTFOUND : CARDEA_EIO;
        goto out;
    }
    if (parent_out != NULL
        && (err = cardea_sql__column_text(&parent, stmt, 1)) != CARDEA_OK) {
        goto out;
    }
    *type_out = (cardea_do_type)sqlite3_column_int(stmt, 0);
    if (parent_out != NULL) {
        *parent_out = parent;
    }

out:
    cardea_sql__finish(db, stmt);
    return err;
}
