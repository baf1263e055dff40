/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bulk share and metadata update of one entity, the core of
 * `PUT /<entity>/bulkSharedMetadataUpdate`, as a pure function over
 * jansson values. For each entity of `requestsByEntityId`, the server
 * loads the entity and calls cardea_share__apply with the entity's
 * `{requests, potentialParentDelegations}` object. It then saves the
 * updated entity and records the new revision with
 * cardea_share__set_saved, or the failure with
 * cardea_share__set_save_failed. Last, it creates or extends the
 * ExchangeDataMaps the outcome lists and returns the array of results.
 *
 * Share rules, as the iCure backend describes them, plus the checks its
 * open-source versions leave out:
 *   - share requests of one entity use disjoint `accessControlKeys`, and
 *     at most one of them requests ROOT (otherwise every request of the
 *     entity is rejected with 400);
 *   - a share whose SHA-256 of any access-control key is already a
 *     delegation key of the entity is rejected (400);
 *   - the new delegation key is the smallest of those hashes;
 *   - `explicitDelegator`, when present, equals the caller's data-owner
 *     id (403 otherwise);
 *   - parents are the `potentialParentDelegations` that exist on the
 *     entity and that the caller matches (cardea_access__matches_
 *     delegation), reduced to a minimal set by dropping every parent that
 *     is an ancestor of another. A non-root share naming only unknown
 *     delegations is rejected with 400, one naming only delegations the
 *     caller cannot access with 403;
 *   - permissions: ROOT gives a parentless WRITE delegation and needs
 *     WRITE on the entity, or the entity to be the Patient whose id is
 *     the caller's data-owner id. FULL_WRITE gives WRITE and needs WRITE
 *     on the entity. MAX_WRITE gives WRITE when a parent is WRITE, else
 *     READ. MAX_READ and FULL_READ give READ;
 *   - the delegation stores `delegator` and `delegate` only as given by
 *     `explicitDelegator` and `explicitDelegate`, never the caller's id,
 *     and `exchangeDataId` only when both are given.
 * Update requests add (CREATE) or remove (DELETE) values of `secretIds`,
 * `encryptionKeys` and `owningEntityIds` of the delegation named by
 * `metadataAccessControlHash`: 404 when it does not exist, 403 when the
 * caller does not match it, 400 for adding a value already present or
 * removing an absent one. A request is all or nothing.
 * When the caller cannot even read the entity, requests are rejected with
 * 404 so the response does not reveal the entity exists (a ROOT request of a
 * patient on its own Patient entity is the exception).
 */
#ifndef CARDEA_SERVER_SHARE_H
#define CARDEA_SERVER_SHARE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cardea/common.h"
#include "format/keys.h"
#include "server/access.h"

/*
 * One ExchangeDataMap side effect: create the map `id` (the new
 * delegation key) if absent, then add each fingerprint of
 * `encrypted_ids` ({fingerprint: base64}) that the map does not have yet,
 * never overwriting an existing entry.
 */
typedef struct cardea_share_map_update {
    char id[CARDEA_SD_KEY_HEX_LEN + 1];
    json_t *encrypted_ids;   /* owned reference */
} cardea_share_map_update;

/*
 * Outcome of cardea_share__apply. Release with cardea_share__outcome_free.
 *
 * `entity` is the updated entity (a new object; the input is not
 * modified), or NULL when no request was accepted and nothing must be
 * saved. `result` is the EntityBulkShareResult object
 * `{entityId, updatedEntity?, entityRev?, rejectedRequests}`; until
 * cardea_share__set_saved runs it has no `entityRev` and no
 * `updatedEntity`. `map_updates` lists the ExchangeDataMap side effects of
 * the accepted share requests; apply them only after the entity is saved.
 */
typedef struct cardea_share_outcome {
    json_t *entity;
    json_t *result;
    json_t *accepted_ids;    /* array of the accepted request ids */
    cardea_share_map_update *map_updates;
    size_t map_update_count;
    size_t accepted_count;
    size_t rejected_count;
} cardea_share_outcome;

/*
 * Applies `request` (`{requests:{id:{share|update}},
 * potentialParentDelegations:[key]}`) to `entity` for `caller`.
 * `entity_type` is the entity type string of the endpoint ("Patient",
 * "HealthElement"...); it only matters for the ROOT rule. Every request
 * ends up either accepted (applied to `out->entity`) or listed in
 * `rejectedRequests` as `{code, shouldRetry:false, reason}`.
 *
 * Returns CARDEA_OK (even when every request was rejected),
 * CARDEA_EINVAL when `request` or `entity` is not an object or
 * `requests` is missing (the server responds 400 to the whole call), or
 * CARDEA_ENOMEM. `*out` is written only on success.
 */
cardea_err cardea_share__apply(cardea_share_outcome *out,
                               const cardea_access_caller *caller,
                               const char *entity_type,
                               const json_t *entity, const json_t *request)
    CARDEA_MUST_CHECK;

/*
 * Records that `outcome->entity` was saved with revision `rev`: sets
 * `rev` in the entity, and `entityRev` and `updatedEntity` (unless
 * `minimal`, for bulkSharedMetadataUpdateMinimal) in the result.
 * Returns CARDEA_OK, CARDEA_EINVAL when there is no entity to save, or
 * CARDEA_ENOMEM (then the outcome is unchanged).
 */
cardea_err cardea_share__set_saved(cardea_share_outcome *outcome,
                                   const char *rev, bool minimal)
    CARDEA_MUST_CHECK;

/*
 * Records that saving `outcome->entity` failed with HTTP-like `code`
 * (409 on a revision conflict, 500 otherwise): every accepted request is
 * moved to `rejectedRequests` with `shouldRetry: true`, the entity and the
 * ExchangeDataMap updates are dropped. Returns CARDEA_OK or CARDEA_ENOMEM
 * (then the outcome is unchanged).
 */
cardea_err cardea_share__set_save_failed(cardea_share_outcome *outcome,
                                         int code)
    CARDEA_MUST_CHECK;

/*
 * Builds the result for an entity id that does not exist (or that the
 * caller may not see): every request of `request` rejected with 404.
 * `*out` (a new reference) is written only on success. Returns
 * CARDEA_OK, CARDEA_EINVAL or CARDEA_ENOMEM.
 */
cardea_err cardea_share__not_found_result(json_t **out, const char *entity_id,
                                          const json_t *request)
    CARDEA_MUST_CHECK;

/* Frees the contents of the outcome and zeroes it. NULL does nothing. */
void cardea_share__outcome_free(cardea_share_outcome *outcome);

#endif
