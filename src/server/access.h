/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-entity access control of the server, as pure functions over jansson
 * values: the access level a caller has on an entity (from its secure
 * delegations and legacy delegation maps), validation of
 * `securityMetadata`, and the checks run before an entity is created or
 * modified through a normal POST or PUT. Nothing here does I/O or keeps
 * state, so every function is thread-safe on distinct arguments.
 *
 * The rules follow the iCure backend's description. A caller matches a
 * secure delegation when the caller's data-owner id or one of its HCP
 * ancestors is the delegation's `delegate` or `delegator`. It also
 * matches when the SHA-256 of one of the request's access-control keys is
 * the delegation's key in `securityMetadata.secureDelegations`. The access
 * level is the maximum permission over the matched delegations. A key of
 * the legacy `delegations`, `encryptionKeys` or `cryptedForeignKeys` maps
 * naming the caller or an ancestor gives WRITE.
 */
#ifndef CARDEA_SERVER_ACCESS_H
#define CARDEA_SERVER_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"
#include "cardea/entity.h"
#include "cardea/strategies.h"
#include "format/keys.h"

/*
 * The data-owner kinds (cardea/strategies.h) have the values of the
 * store's cardea_do_type. The server adds 0 for a user without a data
 * owner.
 */
#define CARDEA_DATA_OWNER_NONE ((cardea_data_owner_type)0)

/*
 * The access levels are those of the SDK (cardea/entity.h), READ 1 and
 * WRITE 2. The server adds 0 for no access, so `a > b` still means "a
 * grants more than b".
 */
#define CARDEA_ACCESS_NONE ((cardea_access_level)0)

/*
 * The caller of one request, as the access checks see it. It borrows
 * the strings of the HTTP layer's cardea_caller and adds the key hashes.
 * The struct owns nothing, and the functions below never free or keep any
 * of its pointers.
 *
 * `key_hashes` contains, for each 16-byte access-control key the request
 * sent in `Icure-Access-Control-Keys` headers, the lowercase hex of its
 * SHA-256 (64 characters and a NUL). The raw keys are never kept here;
 * cardea_access__hash_keys builds this list from them. When
 * `key_hashes_sorted` is true the list is in strcmp order without
 * duplicates, as cardea_access__hash_keys returns it, and the checks
 * binary-search it; otherwise they scan it.
 */
typedef struct cardea_access_caller {
    const char *user_id;                 /* JWT `u`; may be NULL */
    const char *data_owner_id;           /* JWT `doId`; NULL if none */
    cardea_data_owner_type data_owner_type; /* JWT `doTp` */
    const char *const *ancestor_ids;     /* JWT `hh`, HCP parents */
    size_t ancestor_count;
    const char *const *key_hashes;       /* sdKeys proved by the request */
    size_t key_hash_count;
    bool key_hashes_sorted;
} cardea_access_caller;

/*
 * Failure details for an HTTP error response: the status (400, 403, 404 or 409)
 * and a one-line message naming the offending field or key. Messages
 * never contain an access-control key, only its public hash at most.
 */
#define CARDEA_ACCESS_MESSAGE_CAP 192
typedef struct cardea_access_error {
    int status;
    char message[CARDEA_ACCESS_MESSAGE_CAP];
} cardea_access_error;

/*
 * Hashes the concatenated 16-byte access-control keys of a request
 * (`keys_len` must be a multiple of 16) into `*out_hashes`, an array of
 * `*out_count` lowercase sdKey strings suitable for
 * cardea_access_caller.key_hashes. Duplicates are removed. The array and its
 * strings are one allocation: release it with cardea_free. An empty input
 * gives a NULL array and a count of 0. The raw keys are not copied.
 *
 * Returns CARDEA_OK, CARDEA_EINVAL (length not a multiple of 16, or NULL
 * arguments), CARDEA_ETOOBIG (over CARDEA_ACCESS_MAX_KEYS keys) or
 * CARDEA_ENOMEM. Outputs are untouched on failure.
 */
#define CARDEA_ACCESS_MAX_KEYS 65536
cardea_err cardea_access__hash_keys(char ***out_hashes, size_t *out_count,
                                    const uint8_t *keys, size_t keys_len)
    CARDEA_MUST_CHECK;

/*
 * Returns true when `id` (not NULL) is the caller's data-owner id or one of
 * its ancestors.
 */
bool cardea_access__is_self_or_ancestor(const cardea_access_caller *caller,
                                        const char *id);

/*
 * Returns true when the caller matches the secure delegation
 * `delegation` stored under `key`: an explicit delegate or delegator is
 * the caller or an ancestor, or `key` is one of the caller's key hashes.
 * `key` may be NULL (then only explicit ids count).
 */
bool cardea_access__matches_delegation(const cardea_access_caller *caller,
                                       const char *key,
                                       const json_t *delegation);

/*
 * Returns the caller's access level on `entity` (a full entity JSON
 * object). Malformed or missing metadata grants nothing; it never fails.
 */
cardea_access_level cardea_access__level(const cardea_access_caller *caller,
                                         const json_t *entity);

/*
 * Validates `entity.securityMetadata` before a store. When present, it is
 * an object whose `secureDelegations` is a non-empty object, and each key
 * is 64 lowercase hex characters. Each delegation is an object with
 * `permissions` READ or WRITE, optional string `delegator`, `delegate` and
 * `exchangeDataId`, and string arrays `secretIds`, `encryptionKeys`,
 * `owningEntityIds` and `parentDelegations` (missing or null means
 * empty). A delegation without parents must be WRITE, every parent must
 * be a key of the same map, and the parent graph must have no cycle.
 * A missing or null `securityMetadata` is valid (legacy entities). At
 * most CARDEA_ACCESS_MAX_DELEGATIONS delegations are accepted.
 *
 * Returns CARDEA_OK, CARDEA_EINVAL with `*err` set to 400 and a message,
 * or CARDEA_ENOMEM (then `*err` is not written). `*err` is written only on
 * failure.
 */
#define CARDEA_ACCESS_MAX_DELEGATIONS 4096
cardea_err cardea_access__validate_metadata(cardea_access_error *err,
                                            const json_t *entity)
    CARDEA_MUST_CHECK;

/*
 * Checks that the caller may create `entity` (POST, or one item of a
 * batch): the metadata is valid (cardea_access__validate_metadata), there
 * is at least one parentless (root) delegation, and every root belongs to
 * the caller. A root belongs to the caller when its explicit delegator
 * and delegate both equal the caller's data-owner id, or when its key is
 * one of the caller's key hashes and any explicit side it names is the
 * caller's data-owner id. All other delegations have parents in the same
 * map. An explicit `delegator` of any delegation must be the caller's
 * data-owner id, as in a bulk share (403 otherwise). An entity without
 * secure delegations is rejected: the official SDK always creates a root
 * delegation. The legacy `delegations`, `encryptionKeys` and
 * `cryptedForeignKeys` maps, when present, are objects whose keys, and
 * the `owner` and `delegatedTo` of their entries, name only the caller's
 * data-owner id (400 otherwise).
 *
 * Returns CARDEA_OK, CARDEA_EINVAL (400), CARDEA_EACCESS (403) or
 * CARDEA_ENOMEM, with `*err` written only on failure (not for ENOMEM).
 */
cardea_err cardea_access__check_create(cardea_access_error *err,
                                       const cardea_access_caller *caller,
                                       const json_t *entity)
    CARDEA_MUST_CHECK;

/* Missing and null mean "absent"; any other value must be a string. */
bool cardea_access__is_optional_string(const json_t *value);
/* Missing and null mean []; any other value must be an array of strings. */
bool cardea_access__is_string_array(const json_t *value);

/*
 * Returns true when two `securityMetadata` values mean the same thing: a
 * missing member, null and an empty array or object are equal, and object
 * key order is irrelevant. Either argument may be NULL (missing).
 */
bool cardea_access__metadata_equal(const json_t *a, const json_t *b);

/*
 * Checks a modify (PUT) of `stored` into `incoming`, in this order:
 *   - the caller cannot read `stored`: 404 (CARDEA_ENOTFOUND), so the
 *     response does not reveal that the entity exists;
 *   - the caller can read but not write: 403 (CARDEA_EACCESS);
 *   - `incoming.rev` differs from `stored.rev`: 409 (CARDEA_ECONFLICT);
 *   - `incoming.id` differs from `stored.id`: 400 (CARDEA_EINVAL);
 *   - `securityMetadata` changed by meaning (cardea_access__metadata_equal):
 *     400 (CARDEA_EINVAL), because it may only change through
 *     bulkSharedMetadataUpdate;
 *   - one of the legacy `delegations`, `encryptionKeys` and
 *     `cryptedForeignKeys` maps changed by the same measure: 400
 *     (CARDEA_EINVAL), because their keys grant WRITE.
 * Returns CARDEA_OK when the modify may proceed. `*err` is written only
 * on failure.
 */
cardea_err cardea_access__check_modify(cardea_access_error *err,
                                       const cardea_access_caller *caller,
                                       const json_t *stored,
                                       const json_t *incoming)
    CARDEA_MUST_CHECK;

/*
 * Fills `*err` with `status` and a formatted message (truncated to fit).
 * Shared by the access, share and filter modules.
 */
void cardea_access__set_error(cardea_access_error *err, int status,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
