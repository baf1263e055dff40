/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secure delegations: the encrypted values they carry, the JSON of a
 * SecureDelegation and of `securityMetadata`, and the share and update
 * requests that the bulkSharedMetadataUpdate endpoints accept.
 *
 * Every value in a delegation (secret id, entity key, owning entity id) is
 * base64(AES-CBC(exchangeKey, "Cure" || value)), with the usual random IV
 * prepended. The 4-byte prefix "Cure" is how a reader tells a right
 * exchange key from a wrong one. An entity key travels as its raw bytes
 * and comes back as lowercase hex; ids travel as UTF-8.
 *
 * Pure functions over jansson values: no I/O, no global state. Builders
 * return new references that the caller releases with json_decref.
 */
#ifndef CARDEA_FORMAT_DELEGATION_H
#define CARDEA_FORMAT_DELEGATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"
#include "cardea/entity.h"
#include "format/keys.h"

/* Bytes that start every decrypted delegation value. */
#define CARDEA_DELEGATION_PREFIX "Cure"
#define CARDEA_DELEGATION_PREFIX_LEN 4

/* `requestedPermissions` of an EntityShareRequest. */
typedef enum cardea_requested_permission {
    CARDEA_PERMISSION_MAX_READ = 1,
    CARDEA_PERMISSION_FULL_READ = 2,
    CARDEA_PERMISSION_MAX_WRITE = 3,
    CARDEA_PERMISSION_FULL_WRITE = 4,
    CARDEA_PERMISSION_ROOT = 5,
} cardea_requested_permission;

/* The three lists a delegation carries, as plaintext or as stored base64. */
typedef struct cardea_delegation_values {
    const char *const *secret_ids;
    size_t secret_ids_len;
    const char *const *encryption_keys; /* hex when plaintext */
    size_t encryption_keys_len;
    const char *const *owning_entity_ids;
    size_t owning_entity_ids_len;
} cardea_delegation_values;

/* Decrypted values of one delegation; release with ..._plain_free. */
typedef struct cardea_delegation_plain {
    char **secret_ids;
    size_t secret_ids_len;
    char **encryption_keys; /* lowercase hex */
    size_t encryption_keys_len;
    char **owning_entity_ids;
    size_t owning_entity_ids_len;
} cardea_delegation_plain;

/* ---- single values ------------------------------------------------------ */

/*
 * Encrypts an entity key given as hex (either case, non-empty, even
 * length) under the exchange key `xkey` (16 or 32 bytes).
 *
 * out  (out) NUL-terminated base64; free with cardea_free.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, bad hex or key length)
 * or CARDEA_ENOMEM.
 */
cardea_err cardea_delegation__encrypt_key(char **out, const uint8_t *xkey,
                                          size_t xkey_len, const char *key_hex)
    CARDEA_MUST_CHECK;

/*
 * Decrypts a value written by cardea_delegation__encrypt_key.
 *
 * out  (out) lowercase hex of the key; it is secret, so free it with
 *      cardea_mem__free_secret(out, strlen(out)).
 * Returns CARDEA_OK, CARDEA_EFORMAT (not base64), CARDEA_EVERIFY (wrong
 * key, bad padding, missing prefix or empty key), CARDEA_EINVAL or
 * CARDEA_ENOMEM.
 */
cardea_err cardea_delegation__decrypt_key(char **out, const uint8_t *xkey,
                                          size_t xkey_len, const char *b64)
    CARDEA_MUST_CHECK;

/*
 * Encrypts a secret id or an owning entity id (a UTF-8 string; inter-group
 * owning ids are written "groupId/id").
 *
 * out  (out) NUL-terminated base64; free with cardea_free.
 * Returns CARDEA_OK, CARDEA_EINVAL or CARDEA_ENOMEM.
 */
cardea_err cardea_delegation__encrypt_id(char **out, const uint8_t *xkey,
                                         size_t xkey_len, const char *id)
    CARDEA_MUST_CHECK;

/*
 * Decrypts a value written by cardea_delegation__encrypt_id.
 *
 * out  (out) the id, NUL-terminated; free with cardea_free.
 * Returns CARDEA_OK, CARDEA_EFORMAT (not base64), CARDEA_EVERIFY (wrong
 * key, bad padding, missing prefix, a NUL byte or invalid UTF-8),
 * CARDEA_EINVAL or CARDEA_ENOMEM.
 */
cardea_err cardea_delegation__decrypt_id(char **out, const uint8_t *xkey,
                                         size_t xkey_len, const char *b64)
    CARDEA_MUST_CHECK;

/*
 * Decrypts every value of a SecureDelegation JSON object with the exchange
 * key of its exchange data. Missing lists count as empty. Duplicates are
 * removed, as the official SDK keeps each list as a set. One value that
 * fails to decrypt fails the whole call, because it means the key is not
 * the delegation's.
 *
 * out  (out) filled on success only; release with
 *      cardea_delegation__plain_free.
 * Returns CARDEA_OK, CARDEA_EFORMAT (a list is not an array of strings or
 * a value is not base64), CARDEA_EVERIFY, CARDEA_EINVAL or CARDEA_ENOMEM.
 */
cardea_err cardea_delegation__decrypt_values(cardea_delegation_plain *out,
                                             const json_t *delegation,
                                             const uint8_t *xkey,
                                             size_t xkey_len)
    CARDEA_MUST_CHECK;

/* Wipes and frees the lists of `plain` and zeroes it. NULL does nothing. */
void cardea_delegation__plain_free(cardea_delegation_plain *plain);

/* ---- SecureDelegation and securityMetadata ------------------------------ */

/* Inputs of one SecureDelegation. Values are plaintext. */
typedef struct cardea_delegation_params {
    const char *delegator;        /* explicit delegator id, NULL if anonymous */
    const char *delegate;         /* explicit delegate id, NULL if anonymous */
    const char *exchange_data_id; /* written only when both ids are set */
    const char *const *parents;   /* sdKeys of the parent delegations */
    size_t parents_len;
    cardea_access_level permissions; /* from cardea/entity.h */
    const uint8_t *exchange_key;  /* 16 or 32 bytes */
    size_t exchange_key_len;
    cardea_delegation_values values;
} cardea_delegation_params;

/*
 * Builds a SecureDelegation object with its fields in the official SDK's
 * order: delegator?, delegate?, secretIds, encryptionKeys,
 * owningEntityIds, parentDelegations, exchangeDataId?, permissions. The
 * values are encrypted with `params->exchange_key`. `exchange_data_id` is
 * ignored unless both ids are set, because a clear id would reveal who an
 * anonymous party exchanges data with.
 *
 * out  (out) new object.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, bad permission, a
 * parent that is not 64 hex characters, bad key hex) or CARDEA_ENOMEM.
 */
cardea_err cardea_delegation__build(json_t **out,
                                    const cardea_delegation_params *params)
    CARDEA_MUST_CHECK;

/* One entry of securityMetadata.secureDelegations. */
typedef struct cardea_delegation_entry {
    const char *sd_key; /* 64 hex characters: the map key */
    cardea_delegation_params params;
} cardea_delegation_entry;

/*
 * Builds {"secureDelegations": {...}} for a new entity. The root
 * delegation goes from the creator to itself: its `params.delegate` must
 * be NULL or equal to `params.delegator`, it has WRITE permission and no
 * parents. Each child gets parentDelegations = [root sd_key], so its
 * `params.parents` must be empty.
 *
 * out  (out) new object.
 * Returns CARDEA_OK, CARDEA_EINVAL (the rules above broken, a repeated or
 * malformed sd_key, or any error of cardea_delegation__build) or
 * CARDEA_ENOMEM.
 */
cardea_err cardea_delegation__build_security_metadata(
    json_t **out, const cardea_delegation_entry *root,
    const cardea_delegation_entry *children, size_t children_len)
    CARDEA_MUST_CHECK;

/* ---- share and update requests ------------------------------------------ */

/* Inputs of an EntityShareRequest. Values are plaintext. */
typedef struct cardea_share_request {
    const char *explicit_delegator;     /* NULL if anonymous */
    const char *explicit_delegate;      /* NULL if anonymous */
    const uint8_t *ac_keys;             /* ac_keys_count * 16 bytes */
    size_t ac_keys_count;               /* at least 1 */
    const char *exchange_data_id;       /* written only when both ids set */
    /* {fpV2: base64} of the RSA-encrypted exchange-data id, or NULL. */
    const json_t *encrypted_exchange_data_id;
    cardea_requested_permission permission;
    const uint8_t *exchange_key;
    size_t exchange_key_len;
    cardea_delegation_values values;
} cardea_share_request;

/*
 * Builds an EntityShareRequest: explicitDelegator?, explicitDelegate?,
 * accessControlKeys (lowercase hex), secretIds, encryptionKeys,
 * owningEntityIds, exchangeDataId?, encryptedExchangeDataId? (omitted
 * when NULL or empty), requestedPermissions.
 *
 * out  (out) new object.
 * Returns CARDEA_OK, CARDEA_EINVAL (no access-control key, a bad
 * permission, an encrypted id map that is not an object of strings, bad
 * key hex) or CARDEA_ENOMEM.
 */
cardea_err cardea_delegation__build_share_request(
    json_t **out, const cardea_share_request *request) CARDEA_MUST_CHECK;

/* Inputs of an EntitySharedMetadataUpdateRequest. */
typedef struct cardea_update_request {
    const char *sd_key;                /* metadataAccessControlHash */
    const uint8_t *exchange_key;
    size_t exchange_key_len;
    cardea_delegation_values create;   /* plaintext values to add */
    cardea_delegation_values remove;   /* stored base64 values to delete */
} cardea_update_request;

/*
 * Builds an EntitySharedMetadataUpdateRequest: metadataAccessControlHash,
 * then secretIds, encryptionKeys and owningEntityIds, each an object
 * {base64: "CREATE" | "DELETE"}. Values in `create` are encrypted with the
 * exchange key; values in `remove` are written as given.
 *
 * out  (out) new object.
 * Returns CARDEA_OK, CARDEA_EINVAL (bad sd_key or key hex) or
 * CARDEA_ENOMEM.
 */
cardea_err cardea_delegation__build_update_request(
    json_t **out, const cardea_update_request *request) CARDEA_MUST_CHECK;

typedef enum cardea_request_kind {
    CARDEA_REQUEST_SHARE = 1,
    CARDEA_REQUEST_UPDATE = 2,
} cardea_request_kind;

/* Builds an empty bulk request: {"requestsByEntityId": {}}. */
cardea_err cardea_delegation__bulk_new(json_t **out) CARDEA_MUST_CHECK;

/*
 * Adds one request for `entity_id` to a bulk request:
 * requestsByEntityId[entity_id].requests[request_id] = {"share": request}
 * or {"update": request}, and merges `parents` (sdKeys) into that entity's
 * potentialParentDelegations without repeats. The bulk keeps its own
 * reference to `request`. A NULL `request_id` gets a random UUID.
 *
 * Returns CARDEA_OK, CARDEA_EINVAL (bad argument or a parent that is not
 * 64 hex characters), CARDEA_ECONFLICT (request id already used for that
 * entity) or CARDEA_ENOMEM. On failure `bulk` is unchanged.
 */
cardea_err cardea_delegation__bulk_add(json_t *bulk, const char *entity_id,
                                       const char *request_id,
                                       cardea_request_kind kind,
                                       json_t *request,
                                       const char *const *parents,
                                       size_t parents_len) CARDEA_MUST_CHECK;

/*
 * Computes the canonical delegation key of a share request, as the server
 * does: the smallest (in byte order) lowercase sha256 hex among the
 * request's accessControlKeys, each hex-decoded to its 16 bytes first.
 *
 * Returns CARDEA_OK, CARDEA_EFORMAT (missing or empty list, an entry that
 * is not 32 hex characters) or CARDEA_EINVAL. `out` is written on success.
 */
cardea_err cardea_delegation__canonical_hash(
    char out[CARDEA_SD_KEY_HEX_LEN + 1], const json_t *share_request)
    CARDEA_MUST_CHECK;

#endif
