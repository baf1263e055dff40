/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage interface of the server and its SQLite back end. A store is a
 * database file opened in WAL mode with a pool of connections; each worker
 * thread takes one connection (cardea_store__acquire) for the duration of
 * a request and gives it back. Documents are kept as the JSON the client
 * sent, with `id`, `rev` and `deleted` managed here, next to the columns
 * the server queries. Every statement binds its parameters; no SQL is
 * built from input.
 *
 * Functions returning cardea_err leave their outputs untouched on
 * failure. CARDEA_ENOTFOUND means the row does not exist, CARDEA_ECONFLICT
 * a stale revision or a duplicate id, CARDEA_EIO a database failure. JSON
 * values returned through `json_t **` belong to the caller (json_decref).
 */
#ifndef CARDEA_STORE_H
#define CARDEA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"

/* Version written to PRAGMA user_version by this code. */
#define CARDEA_STORE_SCHEMA_VERSION 1
/* Longest revision string: decimal counter, '-', 32 hex digits. */
#define CARDEA_REV_MAX_LEN 56

typedef struct cardea_store cardea_store;
typedef struct cardea_db cardea_db;

typedef struct cardea_store_options {
    int version;            /* 1 */
    unsigned busy_timeout_ms; /* wait for a locked database this long */
    unsigned max_connections; /* pool size; acquire waits past this */
} cardea_store_options;

#define CARDEA_STORE_OPTIONS_INIT {1, 10000, 64}

/*
 * Opens (creating if needed) the database at `path`, switches it to WAL
 * mode and creates or checks the schema. A database written by a newer
 * schema version is rejected with CARDEA_EUNSUPPORTED. The file is
 * created with 0600 permissions. Free with cardea_store_close.
 */
cardea_err cardea_store_open(cardea_store **out, const char *path,
                             const cardea_store_options *options)
    CARDEA_MUST_CHECK;
/* Closes every pooled connection. All connections must be released. */
void cardea_store_close(cardea_store *store);

/*
 * Takes a connection from the pool, opening a new one when none is free
 * and the pool is below its size, else waiting for one. Thread-safe.
 */
cardea_err cardea_store__acquire(cardea_db **out, cardea_store *store)
    CARDEA_MUST_CHECK;
/* Returns `db` to the pool, rolling back any open transaction. */
void cardea_store__release(cardea_store *store, cardea_db *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK on one connection. */
cardea_err cardea_db__begin(cardea_db *db) CARDEA_MUST_CHECK;
cardea_err cardea_db__commit(cardea_db *db) CARDEA_MUST_CHECK;
void cardea_db__rollback(cardea_db *db);

/*
 * Writes the revision following `prev` (NULL for a new document) into
 * `out`: "<n+1>-<32 random hex digits>". Cannot fail: a malformed `prev`
 * counts as revision 0.
 */
void cardea_store__next_rev(char out[CARDEA_REV_MAX_LEN + 1],
                            const char *prev);

/* Milliseconds since the Unix epoch, from the real-time clock. */
int64_t cardea_store__now_ms(void);

/* ---- server settings ---------------------------------------------- */

/* Reads the value of setting `name` into a new buffer (cardea_free). */
cardea_err cardea_db__setting_get(uint8_t **out, size_t *out_len,
                                  cardea_db *db, const char *name)
    CARDEA_MUST_CHECK;
/* Stores `value` under `name` only when the setting does not exist yet. */
cardea_err cardea_db__setting_init(cardea_db *db, const char *name,
                                   const uint8_t *value, size_t value_len)
    CARDEA_MUST_CHECK;

/* ---- users ---------------------------------------------------------- */

typedef enum cardea_do_type {
    CARDEA_DO_HCP = 1,
    CARDEA_DO_PATIENT = 2,
    CARDEA_DO_DEVICE = 3,
} cardea_do_type;

/* "hcp", "patient", "device" and back; 0 for an unknown string. */
const char *cardea_do_type__name(cardea_do_type type);
cardea_do_type cardea_do_type__parse(const char *name);

typedef struct cardea_user {
    char *id;
    char *login;
    char *password_hash;    /* Argon2id encoded string */
    char *data_owner_id;
    cardea_do_type type;
    int64_t created_ms;
} cardea_user;

/* Frees the strings of `user` (wiping the hash) and zeroes it. */
void cardea_user__clear(cardea_user *user);

/* CARDEA_ECONFLICT when the id or the login is taken. */
cardea_err cardea_db__user_add(cardea_db *db, const cardea_user *user)
    CARDEA_MUST_CHECK;
cardea_err cardea_db__user_by_login(cardea_user *out, cardea_db *db,
                                    const char *login) CARDEA_MUST_CHECK;
cardea_err cardea_db__user_by_id(cardea_user *out, cardea_db *db,
                                 const char *id) CARDEA_MUST_CHECK;
cardea_err cardea_db__user_set_password(cardea_db *db, const char *login,
                                        const char *password_hash)
    CARDEA_MUST_CHECK;
/* Calls `fn` for each user in login order; stops at its first error. */
cardea_err cardea_db__user_each(cardea_db *db,
                                cardea_err (*fn)(const cardea_user *user,
                                                 void *arg),
                                void *arg) CARDEA_MUST_CHECK;

/* ---- data owners ------------------------------------------------------ */

/*
 * The data-owner registry: one row per data owner with its type and, for
 * an HCP, its parent. The data owner's document (name, public keys...) is
 * the entity of type HealthcareParty, Patient or Device with the same id,
 * so a Patient created through the API and the patient's crypto stub are
 * one record.
 */
cardea_err cardea_db__dataowner_add(cardea_db *db, const char *id,
                                    cardea_do_type type,
                                    const char *parent_id) CARDEA_MUST_CHECK;
/* `parent_out` may be NULL; it receives NULL when there is no parent. */
cardea_err cardea_db__dataowner_get(cardea_do_type *type_out,
                                    char **parent_out, cardea_db *db,
                                    const char *id) CARDEA_MUST_CHECK;

/* Entity type string of a data owner's document. */
const char *cardea_do_type__entity_type(cardea_do_type type);

/* ---- entities ------------------------------------------------------- */

/*
 * Reads the entity (`type`, `id`). `stub_only` rows, created when a
 * patient data owner published keys before its Patient existed, are
 * returned only when `with_stub_only`; `*stub_only_out` (may be NULL)
 * tells which kind was read. Deleted entities are returned with
 * "deleted" set.
 */
cardea_err cardea_db__entity_get(json_t **out, bool *stub_only_out,
                                 cardea_db *db, const char *type,
                                 const char *id, bool with_stub_only)
    CARDEA_MUST_CHECK;
/*
 * Reads the entity (`type`, `id`) like cardea_db__entity_get without
 * stub-only rows, and also a copy of its stored JSON text, NUL-terminated,
 * into `*text_out` (free with cardea_free) with its length in
 * `*text_len_out`. The text is what cardea_db__entity_put wrote, so it
 * serialises `*out` as it was stored.
 */
cardea_err cardea_db__entity_get_text(json_t **out, char **text_out,
                                      size_t *text_len_out, cardea_db *db,
                                      const char *type, const char *id)
    CARDEA_MUST_CHECK;
/*
 * Stores `doc` (an object with a string "id") as entity `type`. With
 * `expected_rev` NULL it creates the row (CARDEA_ECONFLICT if the id
 * exists); otherwise the stored revision must equal it (CARDEA_ECONFLICT
 * if not, CARDEA_ENOTFOUND if absent). On success sets doc["rev"] to the
 * new revision. `stub_only` marks the row as described above.
 */
cardea_err cardea_db__entity_put(cardea_db *db, const char *type,
                                 json_t *doc, const char *expected_rev,
                                 bool stub_only) CARDEA_MUST_CHECK;

/*
 * Deletes the row of entity (`type`, `id`) and its index rows, whatever
 * its state (purge). CARDEA_ENOTFOUND when there is no such row.
 */
cardea_err cardea_db__entity_delete(cardea_db *db, const char *type,
                                    const char *id) CARDEA_MUST_CHECK;

/* Index rows of an entity, replaced as a whole on each write. */
typedef enum cardea_index_kind {
    CARDEA_INDEX_SEARCH_KEY = 1,   /* data owner id or delegation key */
    CARDEA_INDEX_SECRET_FK = 2,    /* a secretForeignKeys value */
    CARDEA_INDEX_CODE = 3,         /* "type|code" of a code */
    CARDEA_INDEX_TAG = 4,          /* "type|code" of a tag */
    CARDEA_INDEX_DELEGATION_KEY = 5, /* SecureDelegationKeyMap lookup */
} cardea_index_kind;

cardea_err cardea_db__index_replace(cardea_db *db, const char *type,
                                    const char *id, cardea_index_kind kind,
                                    const char *const *values, size_t count)
    CARDEA_MUST_CHECK;
/*
 * Appends to `ids` (a JSON array) the ids of live entities of `type` with
 * an index row (`kind`, value) for any of `values`, each id once, in id
 * order.
 */
cardea_err cardea_db__index_find(json_t *ids, cardea_db *db, const char *type,
                                 cardea_index_kind kind,
                                 const char *const *values, size_t count)
    CARDEA_MUST_CHECK;

/* ---- exchange data ----------------------------------------------------- */

/*
 * Stores exchange data `doc` (with string "id", "delegator", "delegate").
 * `expected_rev` follows cardea_db__entity_put.
 */
cardea_err cardea_db__exchange_put(cardea_db *db, json_t *doc,
                                   const char *expected_rev)
    CARDEA_MUST_CHECK;
cardea_err cardea_db__exchange_get(json_t **out, cardea_db *db,
                                   const char *id) CARDEA_MUST_CHECK;
/* Appends to `rows` every exchange data from `delegator` to `delegate`. */
cardea_err cardea_db__exchange_by_pair(json_t *rows, cardea_db *db,
                                       const char *delegator,
                                       const char *delegate)
    CARDEA_MUST_CHECK;
/*
 * Appends to `rows` at most `limit` exchange data where `participant` is
 * delegator or delegate, in id order, starting at id `start_id` (NULL for
 * the first).
 */
cardea_err cardea_db__exchange_by_participant(json_t *rows, cardea_db *db,
                                              const char *participant,
                                              const char *start_id,
                                              size_t limit) CARDEA_MUST_CHECK;

/* ---- exchange-data maps -------------------------------------------- */

cardea_err cardea_db__exmap_get(json_t **out, cardea_db *db, const char *id)
    CARDEA_MUST_CHECK;
/* `expected_rev` follows cardea_db__entity_put. */
cardea_err cardea_db__exmap_put(cardea_db *db, json_t *doc,
                                const char *expected_rev) CARDEA_MUST_CHECK;

/*
 * Creates map `id` with `entries` ({fingerprint: base64}) or adds to the
 * stored map each fingerprint it does not have yet; existing entries are
 * never overwritten.
 */
cardea_err cardea_db__exmap_merge(cardea_db *db, const char *id,
                                  const json_t *entries) CARDEA_MUST_CHECK;

/* ---- recovery data --------------------------------------------------- */

/*
 * Stores recovery data `doc` (string "id", "recipient", "type"; optional
 * integer "expirationInstant" in ms). CARDEA_ECONFLICT if the id exists.
 * `type_key` is the type lowercased without underscores. `creator`, the
 * data owner id of the caller (NULL when none), is kept outside the JSON
 * so that the creator may later delete what it made for a recipient.
 */
cardea_err cardea_db__recovery_put(cardea_db *db, json_t *doc,
                                   const char *type_key, const char *creator)
    CARDEA_MUST_CHECK;
/* Reads recovery data; expired data is deleted and gives ENOTFOUND. */
cardea_err cardea_db__recovery_get(json_t **out, cardea_db *db,
                                   const char *id, int64_t now_ms)
    CARDEA_MUST_CHECK;
/* Deletes one row; writes its last revision to `rev_out`. */
cardea_err cardea_db__recovery_delete(char rev_out[CARDEA_REV_MAX_LEN + 1],
                                      cardea_db *db, const char *id)
    CARDEA_MUST_CHECK;
/*
 * Deletes the rows of `recipient`: of `type_key` unless it is NULL, and
 * only those stored by `creator` unless it is NULL.
 */
cardea_err cardea_db__recovery_delete_for(size_t *count_out, cardea_db *db,
                                          const char *recipient,
                                          const char *type_key,
                                          const char *creator)
    CARDEA_MUST_CHECK;

/* ---- attachments ---------------------------------------------------- */

cardea_err cardea_db__attachment_put(cardea_db *db, const char *entity_id,
                                     const char *key, const uint8_t *data,
                                     size_t len) CARDEA_MUST_CHECK;
/* Reads an attachment into a new buffer (cardea_free). */
cardea_err cardea_db__attachment_get(uint8_t **out, size_t *out_len,
                                     cardea_db *db, const char *entity_id,
                                     const char *key) CARDEA_MUST_CHECK;
cardea_err cardea_db__attachment_delete(cardea_db *db, const char *entity_id,
                                        const char *key) CARDEA_MUST_CHECK;
/* Deletes every attachment of `entity_id`; none at all is not an error. */
cardea_err cardea_db__attachment_delete_all(cardea_db *db,
                                            const char *entity_id)
    CARDEA_MUST_CHECK;

#endif
