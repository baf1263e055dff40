/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite back end of the store: opening the database, the schema, the
 * connection pool, transactions, revisions and server settings. The
 * document tables are in sqlite_docs.c and the users in sqlite_users.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "store/sqlite_internal.h"

struct cardea_store {
    char *path;
    cardea_store_options options;
    pthread_mutex_t lock;
    pthread_cond_t available;
    cardea_db *free_list;
    unsigned opened;            /* connections in use or pooled */
};

/*
 * Tables. Entities keep the client's JSON as sent; `deleted` and
 * `stub_only` mirror server-managed state so queries need not parse it.
 * SecureDelegationKeyMaps are entities too, found through index rows of
 * kind CARDEA_INDEX_DELEGATION_KEY.
 */
static const char schema_sql[] =
    "CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE users (id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE,"
    " password_hash TEXT NOT NULL, data_owner_id TEXT NOT NULL,"
    " type INTEGER NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE data_owners (id TEXT PRIMARY KEY, type INTEGER NOT NULL,"
    " parent_id TEXT, created INTEGER NOT NULL);"
    "CREATE TABLE entities (type TEXT NOT NULL, id TEXT NOT NULL,"
    " rev TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
    " stub_only INTEGER NOT NULL DEFAULT 0, json TEXT NOT NULL,"
    " PRIMARY KEY (type, id)) WITHOUT ROWID;"
    "CREATE TABLE entity_index (type TEXT NOT NULL, kind INTEGER NOT NULL,"
    " value TEXT NOT NULL, entity_id TEXT NOT NULL,"
    " PRIMARY KEY (type, kind, value, entity_id)) WITHOUT ROWID;"
    "CREATE INDEX entity_index_by_entity ON entity_index (type, entity_id);"
    "CREATE TABLE exchange_data (id TEXT PRIMARY KEY, rev TEXT NOT NULL,"
    " delegator TEXT NOT NULL, delegate TEXT NOT NULL, json TEXT NOT NULL);"
    "CREATE INDEX exchange_data_by_pair ON exchange_data"
    " (delegator, delegate);"
    "CREATE INDEX exchange_data_by_delegate ON exchange_data (delegate);"
    "CREATE TABLE exchange_data_maps (id TEXT PRIMARY KEY,"
    " rev TEXT NOT NULL, json TEXT NOT NULL);"
    "CREATE TABLE recovery_data (id TEXT PRIMARY KEY, rev TEXT NOT NULL,"
    " recipient TEXT NOT NULL, type_key TEXT NOT NULL, expires INTEGER,"
    " creator TEXT, json TEXT NOT NULL);"
    "CREATE INDEX recovery_data_by_recipient ON recovery_data"
    " (recipient, type_key);"
    "CREATE TABLE attachments (entity_id TEXT NOT NULL, key TEXT NOT NULL,"
    " data BLOB NOT NULL, PRIMARY KEY (entity_id, key)) WITHOUT ROWID;";

void
cardea_sql__log(cardea_db *db, const char *what)
{
    cardea_log__write(CARDEA_LOG_ERROR, "store: %s failed: %s", what,
                      sqlite3_errmsg(db->sql));
}

/* The cache entry of `sql` that is free to hand out, or NULL. */
static cardea_sql_cached *
find_cached(cardea_db *db, const char *sql)
{
    for (size_t i = 0; i < db->cache_count; i++) {
        cardea_sql_cached *entry = &db->cache[i];

        /* A caller may pass a buffer whose address held other text. */
        if (entry->sql == sql && !entry->in_use
            && strcmp(sqlite3_sql(entry->stmt), sql) == 0) {
            return entry;
        }
    }
    return NULL;
}

cardea_err
cardea_sql__prepare(sqlite3_stmt **out, cardea_db *db, const char *sql)
{
    cardea_sql_cached *entry = find_cached(db, sql);
    sqlite3_stmt *stmt = NULL;
    bool keep = db->cache_count < CARDEA_SQL_CACHE_SIZE;

    if (entry != NULL) {
        entry->in_use = true;
        *out = entry->stmt;
        return CARDEA_OK;
    }
    if (sqlite3_prepare_v3(db->sql, sql, -1,
                           keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt,
                           NULL) != SQLITE_OK) {
        cardea_sql__log(db, "prepare");
        sqlite3_finalize(stmt);
        return CARDEA_EIO;
    }
    if (keep) {
        entry = &db->cache[db->cache_count++];
        entry->sql = sql;
        entry->stmt = stmt;
        entry->in_use = true;
    }
    *out = stmt;
    return CARDEA_OK;
}

void
cardea_sql__finish(cardea_db *db, sqlite3_stmt *stmt)
{
    if (stmt == NULL) {
        return;
    }
    for (size_t i = 0; i < db->cache_count; i++) {
        if (db->cache[i].stmt == stmt) {
            /* Resetting also ends the statement's read transaction. */
            (void)sqlite3_reset(stmt);
            (void)sqlite3_clear_bindings(stmt);
            db->cache[i].in_use = false;
            return;
        }
    }
    sqlite3_finalize(stmt);
}

void
cardea_sql__cache_clear(cardea_db *db)
{
    for (size_t i = 0; i < db->cache_count; i++) {
        sqlite3_finalize(db->cache[i].stmt);
    }
    memset(db->cache, 0, sizeof db->cache);
    db->cache_count = 0;
}

cardea_err
cardea_sql__exec(cardea_db *db, const char *sql)
{
    if (sqlite3_exec(db->sql, sql, NULL, NULL, NULL) != SQLITE_OK) {
        cardea_sql__log(db, "exec");
        return CARDEA_EIO;
    }
    return CARDEA_OK;
}

cardea_err
cardea_sql__step_done(cardea_db *db, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    if (rc == SQLITE_DONE) {
        return CARDEA_OK;
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        return CARDEA_ECONFLICT;
    }
    cardea_sql__log(db, "step");
    return CARDEA_EIO;
}

cardea_err
cardea_sql__bind_text(sqlite3_stmt *stmt, int index, const char *value)
{
    int rc;

    if (value == NULL) {
        rc = sqlite3_bind_null(stmt, index);
    } else {
        rc = sqlite3_bind_text(stmt, index, value, -1, SQLITE_TRANSIENT);
    }
    return rc == SQLITE_OK ? CARDEA_OK : CARDEA_ENOMEM;
}

cardea_err
cardea_sql__column_text(char **out, sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    char *copy;

    if (text == NULL) {
        *out = NULL;
        return CARDEA_OK;
    }
    copy = cardea_mem__strndup((const char *)text,
                               (size_t)sqlite3_column_bytes(stmt, col));
    if (copy == NULL) {
        return CARDEA_ENOMEM;
    }
    *out = copy;
    return CARDEA_OK;
}

cardea_err
cardea_sql__step_blob(uint8_t **out, size_t *out_len, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    uint8_t *copy;
    size_t len;

    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? CARDEA_ENOTFOUND : CARDEA_EIO;
    }
    len = (size_t)sqlite3_column_bytes(stmt, 0);
    if ((copy = cardea_mem__alloc(len > 0 ? len : 1)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if (len > 0) {
        memcpy(copy, sqlite3_column_blob(stmt, 0), len);
    }
    *out = copy;
    *out_len = len;
    return CARDEA_OK;
}

cardea_err
cardea_sql__column_json(json_t **out, sqlite3_stmt *stmt, int col)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);
    json_t *value = NULL;
    cardea_err err;

    if (text == NULL) {
        return CARDEA_EIO;
    }
    err = cardea_json__parse(&value, text,
                             (size_t)sqlite3_column_bytes(stmt, col), NULL, 0);
    if (err != CARDEA_OK) {
        return err == CARDEA_ENOMEM ? err : CARDEA_EIO;
    }
    if (!json_is_object(value)) {
        json_decref(value);
        return CARDEA_EIO;
    }
    *out = value;
    return CARDEA_OK;
}

/*
 * Settings of every connection. Reads go through a shared memory map of
 * the file (at most 256 MiB of it), so a connection taken from the pool
 * finds the pages other connections read, without a pread() each.
 */
static const char connection_pragmas[] =
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA mmap_size=268435456;";

static cardea_err
open_connection(cardea_db **out, cardea_store *store)
{
    cardea_db *db = cardea_mem__calloc(1, sizeof *db);
    cardea_err err = CARDEA_EIO;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

    if (db == NULL) {
        return CARDEA_ENOMEM;
    }
    if (sqlite3_open_v2(store->path, &db->sql, flags, NULL) != SQLITE_OK) {
        if (db->sql != NULL) {
            cardea_sql__log(db, "open");
        }
        goto out;
    }
    sqlite3_busy_timeout(db->sql, (int)store->options.busy_timeout_ms);
    err = cardea_sql__exec(db, connection_pragmas);
    if (err == CARDEA_OK) {
        *out = db;
        db = NULL;
    }

out:
    if (db != NULL) {
        sqlite3_close(db->sql);
        cardea_mem__free(db);
    }
    return err;
}

static void
close_connection(cardea_db *db)
{
    cardea_sql__cache_clear(db);
    sqlite3_close(db->sql);
    cardea_mem__free(db);
}

static cardea_err
read_user_version(int *out, cardea_db *db)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err = cardea_sql__prepare(&stmt, db, "PRAGMA user_version");

    if (err != CARDEA_OK) {
        return err;
    }
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        *out = sqlite3_column_int(stmt, 0);
    } else {
        cardea_sql__log(db, "reading the schema version");
        err = CARDEA_EIO;
    }
    cardea_sql__finish(db, stmt);
    return err;
}

/* Creates the schema on an empty database; checks the version otherwise. */
static cardea_err
prepare_schema(cardea_db *db)
{
    char pragma[48];
    int version = 0;
    cardea_err err;

    if ((err = cardea_sql__exec(db, "PRAGMA journal_mode=WAL;")) != CARDEA_OK
        || (err = cardea_db__begin(db)) != CARDEA_OK) {
        return err;
    }
    if ((err = read_user_version(&version, db)) != CARDEA_OK) {
        goto out;
    }
    if (version > CARDEA_STORE_SCHEMA_VERSION) {
        cardea_log__write(CARDEA_LOG_ERROR, "store: schema version %d is "
                          "newer than this program's %d", version,
                          CARDEA_STORE_SCHEMA_VERSION);
        err = CARDEA_EUNSUPPORTED;
        goto out;
    }
    if (version == 0) {
        /* The constant is a literal number, so this is not input. */
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d;",
                 CARDEA_STORE_SCHEMA_VERSION);
        if ((err = cardea_sql__exec(db, schema_sql)) != CARDEA_OK
            || (err = cardea_sql__exec(db, pragma)) != CARDEA_OK) {
            goto out;
        }
    }
    err = cardea_db__commit(db);

out:
    if (err != CARDEA_OK) {
        cardea_db__rollback(db);
    }
    return err;
}

/* Creates the file with owner-only permissions before SQLite opens it. */
static cardea_err
create_private_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        cardea_log__write(CARDEA_LOG_ERROR, "store: cannot open %s: %s",
                          path, strerror(errno));
        return CARDEA_EIO;
    }
    close(fd);
    return CARDEA_OK;
}

/*
 * By default SQLite counts its memory use under one global mutex, which
 * serialises every allocation of every connection, so the server turns
 * the count off. The setting applies only before SQLite initialises.
 * When the program already used SQLite, sqlite3_config fails harmlessly
 * and the count stays on.
 */
static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

static void
sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

cardea_err
cardea_store_open(cardea_store **out, const char *path,
                  const cardea_store_options *options)
{
    static const cardea_store_options defaults = CARDEA_STORE_OPTIONS_INIT;
    cardea_store *store = NULL;
    cardea_db *db = NULL;
    cardea_err err;

    if (out == NULL || path == NULL || path[0] == '\0') {
        return CARDEA_EINVAL;
    }
    (void)pthread_once(&sqlite_setup_once, sqlite_setup);
    if ((err = create_private_file(path)) != CARDEA_OK) {
        return err;
    }
    store = cardea_mem__calloc(1, sizeof *store);
    if (store == NULL || (store->path = cardea_mem__strdup(path)) == NULL) {
        cardea_mem__free(store);
        return CARDEA_ENOMEM;
    }
    store->options = options != NULL ? *options : defaults;
    if (store->options.max_connections == 0) {
        store->options.max_connections = defaults.max_connections;
    }
    pthread_mutex_init(&store->lock, NULL);
    pthread_cond_init(&store->available, NULL);

    if ((err = open_connection(&db, store)) != CARDEA_OK
        || (err = prepare_schema(db)) != CARDEA_OK) {
        goto out;
    }
    db->next = NULL;
    store->free_list = db;
    store->opened = 1;
    db = NULL;
    *out = store;
    store = NULL;

out:
    if (db != NULL) {
        close_connection(db);
    }
    cardea_store_close(store);
    return err;
}

void
cardea_store_close(cardea_store *store)
{
    cardea_db *db;

    if (store == NULL) {
        return;
    }
    while ((db = store->free_list) != NULL) {
        store->free_list = db->next;
        close_connection(db);
    }
    pthread_cond_destroy(&store->available);
    pthread_mutex_destroy(&store->lock);
    cardea_mem__free(store->path);
    cardea_mem__free(store);
}

cardea_err
cardea_store__acquire(cardea_db **out, cardea_store *store)
{
    cardea_db *db = NULL;
    bool open_new = false;
    cardea_err err = CARDEA_OK;

    pthread_mutex_lock(&store->lock);
    while (store->free_list == NULL
           && store->opened >= store->options.max_connections) {
        pthread_cond_wait(&store->available, &store->lock);
    }
    if (store->free_list != NULL) {
        db = store->free_list;
        store->free_list = db->next;
    } else {
        store->opened++;
        open_new = true;
    }
    pthread_mutex_unlock(&store->lock);

    if (open_new && (err = open_connection(&db, store)) != CARDEA_OK) {
        pthread_mutex_lock(&store->lock);
        store->opened--;
        pthread_cond_signal(&store->available);
        pthread_mutex_unlock(&store->lock);
        return err;
    }
    db->next = NULL;
    *out = db;
    return CARDEA_OK;
}

void
cardea_store__release(cardea_store *store, cardea_db *db)
{
    if (db == NULL) {
        return;
    }
    if (!sqlite3_get_autocommit(db->sql)) {
        cardea_db__rollback(db);
    }
    pthread_mutex_lock(&store->lock);
    db->next = store->free_list;
    store->free_list = db;
    pthread_cond_signal(&store->available);
    pthread_mutex_unlock(&store->lock);
}

/* Runs a constant statement without results through the cache. */
static cardea_err
run_cached(cardea_db *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err = cardea_sql__prepare(&stmt, db, sql);

    if (err == CARDEA_OK && sqlite3_step(stmt) != SQLITE_DONE) {
        cardea_sql__log(db, sql);
        err = CARDEA_EIO;
    }
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__begin(cardea_db *db)
{
    return run_cached(db, "BEGIN IMMEDIATE");
}

cardea_err
cardea_db__commit(cardea_db *db)
{
    return run_cached(db, "COMMIT");
}

void
cardea_db__rollback(cardea_db *db)
{
    if (!sqlite3_get_autocommit(db->sql)) {
        (void)run_cached(db, "ROLLBACK");
    }
}

void
cardea_store__next_rev(char out[CARDEA_REV_MAX_LEN + 1], const char *prev)
{
    unsigned long long n = 0;
    uint8_t random[16];
    char hex[33];

    if (prev != NULL) {
        for (const char *p = prev; *p >= '0' && *p <= '9'; p++) {
            if (n > 1000000000000ULL) {
                n = 0;
                break;
            }
            n = n * 10 + (unsigned long long)(*p - '0');
        }
    }
    cardea_random__bytes(random, sizeof random);
    if (cardea_hex__encode(hex, sizeof hex, random, sizeof random)
        != CARDEA_OK) {
        hex[0] = '\0';
    }
    snprintf(out, CARDEA_REV_MAX_LEN + 1, "%llu-%s", n + 1, hex);
}

int64_t
cardea_store__now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

cardea_err
cardea_db__setting_get(uint8_t **out, size_t *out_len, cardea_db *db,
                       const char *name)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db,
                              "SELECT value FROM settings WHERE name = ?1");
    if (err == CARDEA_OK
        && (err = cardea_sql__bind_text(stmt, 1, name)) == CARDEA_OK) {
        err = cardea_sql__step_blob(out, out_len, stmt);
    }
    cardea_sql__finish(db, stmt);
    return err;
}

cardea_err
cardea_db__setting_init(cardea_db *db, const char *name,
                        const uint8_t *value, size_t value_len)
{
    sqlite3_stmt *stmt = NULL;
    cardea_err err;

    err = cardea_sql__prepare(&stmt, db, "INSERT OR IGNORE INTO settings"
                                         " (name, value) VALUES (?1, ?2)");
    if (err != CARDEA_OK
        || (err = cardea_sql__bind_text(stmt, 1, name)) != CARDEA_OK) {
        goto out;
    }
    if (sqlite3_bind_blob(stmt, 2, value, (int)value_len, SQLITE_TRANSIENT)
        != SQLITE_OK) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    err = cardea_sql__step_done(db, stmt);

out:
    cardea_sql__finish(db, stmt);
    return err;
}
