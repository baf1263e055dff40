/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bulk share and metadata update of one entity. The contracts and the
 * rules are in server/share.h, and this file contains only implementation
 * notes.
 *
 * Every request is checked against the entity as loaded, then applied to
 * a deep copy, so a rejected request never leaves a trace and the input
 * entity is never modified.
 */
#include "server/share.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

/* Bound on accessControlKeys of one share request. */
#define MAX_KEYS_PER_SHARE 64

typedef enum share_permission {
    SHARE_ROOT,
    SHARE_FULL_WRITE,
    SHARE_MAX_WRITE,
    SHARE_MAX_READ,
    SHARE_FULL_READ,
    SHARE_INVALID,
} share_permission;

typedef struct share_context {
    const cardea_access_caller *caller;
    const char *entity_id;
    const json_t *original;          /* original secureDelegations or NULL */
    const json_t *potential_parents; /* array or NULL */
    json_t *working;                 /* deep copy of the entity */
    cardea_access_level level;
    bool own_patient;                /* the caller's own Patient entity */
    cardea_share_map_update *maps;
    size_t map_count;
} share_context;

static share_permission
parse_permission(const char *name)
{
    static const struct {
        const char *name;
        share_permission value;
    } table[] = {
        {"ROOT", SHARE_ROOT},           {"FULL_WRITE", SHARE_FULL_WRITE},
        {"MAX_WRITE", SHARE_MAX_WRITE}, {"MAX_READ", SHARE_MAX_READ},
        {"FULL_READ", SHARE_FULL_READ},
    };

    for (size_t i = 0; name != NULL && i < sizeof table / sizeof table[0];
         i++) {
        if (strcmp(name, table[i].name) == 0) {
            return table[i].value;
        }
    }
    return SHARE_INVALID;
}

static bool
is_ground(const json_t *value)
{
    return value == NULL || json_is_null(value);
}

/*
 * Writes the sdKey of the access-control key `value` (32 hex digits) to
 * `out`. The decoded key is wiped right after hashing. Returns false when
 * `value` is not such a string.
 */
static bool
hash_ac_key(char out[CARDEA_SD_KEY_HEX_LEN + 1], const json_t *value)
{
    const char *hex = json_string_value(value);
    uint8_t raw[CARDEA_AC_KEY_LEN];
    size_t raw_len = 0;
    bool ok;

    ok = hex != NULL && strlen(hex) == 2 * CARDEA_AC_KEY_LEN &&
         cardea_hex__decode(raw, sizeof raw, &raw_len, hex, strlen(hex)) ==
             CARDEA_OK &&
         raw_len == CARDEA_AC_KEY_LEN;
    if (ok) {
        cardea_sdkey__from_ackey(out, raw);
    }
    cardea_wipe(raw, sizeof raw);
    return ok;
}

/*
 * Hashes the `accessControlKeys` of a share into a new array of sdKey
 * strings and stores the smallest in `canonical`. CARDEA_EINVAL with
 * `*rej` set when a key is not 32 hex digits or the list is empty or too
 * long.
 */
static cardea_err
hash_share_keys(json_t **out, char canonical[CARDEA_SD_KEY_HEX_LEN + 1],
                cardea_access_error *rej, const json_t *keys)
{
    char hash[CARDEA_SD_KEY_HEX_LEN + 1];
    json_t *hashes;

    if (!json_is_array(keys) || json_array_size(keys) == 0 ||
        json_array_size(keys) > MAX_KEYS_PER_SHARE) {
        cardea_access__set_error(rej, 400, "accessControlKeys must list 1 "
                                 "to %d keys", MAX_KEYS_PER_SHARE);
        return CARDEA_EINVAL;
    }
    if ((hashes = json_array()) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        if (!hash_ac_key(hash, json_array_get(keys, i))) {
            json_decref(hashes);
            cardea_access__set_error(rej, 400, "accessControlKeys[%zu] is "
                                     "not 32 hex digits", i);
            return CARDEA_EINVAL;
        }
        if (cardea_json__append_new(hashes, json_string(hash)) != CARDEA_OK) {
            json_decref(hashes);
            return CARDEA_ENOMEM;
        }
        if (i == 0 || strcmp(hash, canonical) < 0) {
            memcpy(canonical, hash, sizeof hash);
        }
    }
    *out = hashes;
    return CARDEA_OK;
}

static bool
is_write(const json_t *delegation)
{
    const char *permissions = cardea_json__get_str(delegation, "permissions");

    return permissions != NULL && strcmp(permissions, "WRITE") == 0;
}

/* Returns the working entity's secureDelegations, creating it if asked. */
static json_t *
working_delegations(share_context *ctx, bool create)
{
    json_t *metadata = json_object_get(ctx->working, "securityMetadata");
    json_t *delegations;

    if (!json_is_object(metadata)) {
        if (!create || cardea_json__set_new(ctx->working, "securityMetadata",
                                            json_object()) != CARDEA_OK) {
            return NULL;
        }
        metadata = json_object_get(ctx->working, "securityMetadata");
    }
    delegations = json_object_get(metadata, "secureDelegations");
    if (!json_is_object(delegations)) {
        if (!create || cardea_json__set_new(metadata, "secureDelegations",
                                            json_object()) != CARDEA_OK) {
            return NULL;
        }
        delegations = json_object_get(metadata, "secureDelegations");
    }
    return delegations;
}

static cardea_err
push_parents(json_t *stack, const json_t *delegation)
{
    const json_t *parents = json_object_get(delegation, "parentDelegations");

    for (size_t i = 0; i < json_array_size(parents); i++) {
        if (json_array_append(stack, json_array_get(parents, i)) != 0) {
            return CARDEA_ENOMEM;
        }
    }
    return CARDEA_OK;
}

/*
 * Collects into a new set object every strict ancestor of the delegations
 * listed in `keys`. One traversal from all of them with a visited set, so
 * the cost is linear in the graph and it ends on any graph.
 */
static cardea_err
strict_ancestors(json_t **out, const json_t *delegations, const json_t *keys)
{
    json_t *visited = json_object(), *stack = json_array();
    cardea_err rc = CARDEA_ENOMEM;

    if (visited == NULL || stack == NULL) {
        goto out;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const char *key = json_string_value(json_array_get(keys, i));

        if (push_parents(stack, json_object_get(delegations, key)) !=
            CARDEA_OK) {
            goto out;
        }
    }
    while (json_array_size(stack) > 0) {
        size_t top = json_array_size(stack) - 1;
        json_t *item = json_incref(json_array_get(stack, top));
        const char *key = json_string_value(item);

        json_array_remove(stack, top);
        if (key != NULL && json_object_get(visited, key) == NULL &&
            (json_object_set_new(visited, key, json_true()) != 0 ||
             push_parents(stack, json_object_get(delegations, key)) !=
                 CARDEA_OK)) {
            json_decref(item);
            goto out;
        }
        json_decref(item);
    }
    *out = visited;
    visited = NULL;
    rc = CARDEA_OK;
out:
    json_decref(visited);
    json_decref(stack);
    return rc;
}

/*
 * Collects into `usable` the distinct potential parents that exist on the
 * entity and that the caller matches, and counts in `*existing` those
 * that exist.
 */
static cardea_err
usable_parents(json_t *usable, size_t *existing, const share_context *ctx)
{
    json_t *seen = json_object();
    cardea_err rc = CARDEA_OK;

    if (seen == NULL) {
        return CARDEA_ENOMEM;
    }
    *existing = 0;
    for (size_t i = 0; i < json_array_size(ctx->potential_parents) && !rc;
         i++) {
        json_t *name = json_array_get(ctx->potential_parents, i);
        const char *key = json_string_value(name);
        const json_t *delegation = json_object_get(ctx->original, key);

        if (key == NULL || delegation == NULL ||
            json_object_get(seen, key) != NULL) {
            continue;
        }
        (*existing)++;
        if (json_object_set_new(seen, key, json_true()) != 0 ||
            (cardea_access__matches_delegation(ctx->caller, key,
                                               delegation) &&
             json_array_append(usable, name) != 0)) {
            rc = CARDEA_ENOMEM;
        }
    }
    json_decref(seen);
    return rc;
}

/*
 * Picks the parents of a new delegation (rules in server/share.h) into a
 * new array and reports whether one of them is WRITE.
 */
static cardea_err
choose_parents(json_t **out, bool *any_write, cardea_access_error *rej,
               const share_context *ctx)
{
    json_t *usable = json_array(), *parents = json_array();
    json_t *ancestors = NULL;
    size_t existing = 0;
    cardea_err rc = CARDEA_ENOMEM;

    if (usable == NULL || parents == NULL ||
        usable_parents(usable, &existing, ctx) != CARDEA_OK) {
        goto out;
    }
    if (existing == 0) {
        cardea_access__set_error(rej, 400, "no potentialParentDelegations "
                                 "entry exists on entity %.64s",
                                 ctx->entity_id);
        rc = CARDEA_EINVAL;
        goto out;
    }
    if (json_array_size(usable) == 0) {
        cardea_access__set_error(rej, 403, "the caller cannot access any of "
                                 "the parent delegations it names");
        rc = CARDEA_EACCESS;
        goto out;
    }

    /* Keep the minimal set: drop every parent that is an ancestor of
       another usable parent. */
    if (strict_ancestors(&ancestors, ctx->original, usable) != CARDEA_OK) {
        goto out;
    }
    *any_write = false;
    for (size_t i = 0; i < json_array_size(usable); i++) {
        json_t *name = json_array_get(usable, i);
        const char *key = json_string_value(name);

        if (json_object_get(ancestors, key) != NULL) {
            continue;
        }
        if (json_array_append(parents, name) != 0) {
            goto out;
        }
        if (is_write(json_object_get(ctx->original, key))) {
            *any_write = true;
        }
    }
    *out = parents;
    parents = NULL;
    rc = CARDEA_OK;
out:
    json_decref(usable);
    json_decref(parents);
    json_decref(ancestors);
    return rc;
}

/* The fields of one share request, borrowed from its JSON. */
typedef struct share_fields {
    const char *delegator;
    const char *delegate;
    const char *exchange_data_id;
    const json_t *encrypted_ids;   /* non-empty object or NULL */
    share_permission permission;
} share_fields;

static bool
is_fingerprint_map(const json_t *value)
{
    const char *key;
    json_t *item;

    if (!json_is_object(value)) {
        return false;
    }
    json_object_foreach((json_t *)value, key, item) {
        if (!json_is_string(item)) {
            return false;
        }
    }
    return true;
}

static cardea_err
read_share_fields(share_fields *out, cardea_access_error *rej,
                  const json_t *share)
{
    static const char *const strings[] = {
        "explicitDelegator", "explicitDelegate", "exchangeDataId",
    };
    static const char *const arrays[] = {
        "secretIds", "encryptionKeys", "owningEntityIds",
    };
    const json_t *encrypted = json_object_get(share, "encryptedExchangeDataId");
    share_fields fields = {0};

    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const json_t *value = json_object_get(share, strings[i]);

        if (!cardea_access__is_optional_string(value)) {
            cardea_access__set_error(rej, 400, "%s must be a string",
                                     strings[i]);
            return CARDEA_EINVAL;
        }
    }
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        const json_t *value = json_object_get(share, arrays[i]);

        if (!cardea_access__is_string_array(value)) {
            cardea_access__set_error(rej, 400, "%s must be an array of "
                                     "strings", arrays[i]);
            return CARDEA_EINVAL;
        }
    }
    if (!is_ground(encrypted) && !is_fingerprint_map(encrypted)) {
        cardea_access__set_error(rej, 400, "encryptedExchangeDataId must map "
                                 "fingerprints to base64 strings");
        return CARDEA_EINVAL;
    }
    fields.permission = parse_permission(
        cardea_json__get_str(share, "requestedPermissions"));
    if (fields.permission == SHARE_INVALID) {
        cardea_access__set_error(rej, 400, "requestedPermissions must be "
                                 "ROOT, FULL_WRITE, MAX_WRITE, MAX_READ or "
                                 "FULL_READ");
        return CARDEA_EINVAL;
    }

    fields.delegator = cardea_json__get_str(share, "explicitDelegator");
    fields.delegate = cardea_json__get_str(share, "explicitDelegate");
    fields.exchange_data_id = cardea_json__get_str(share, "exchangeDataId");
    if (json_object_size(encrypted) > 0) {
        fields.encrypted_ids = encrypted;
    }
    *out = fields;
    return CARDEA_OK;
}

static cardea_err
copy_array_member(json_t *delegation, const json_t *share, const char *name)
{
    const json_t *value = json_object_get(share, name);

    return cardea_json__set_new(delegation, name, json_is_array(value)
                                    ? json_deep_copy(value)
                                    : json_array());
}

/*
 * Builds the new delegation. Ids appear only as the request gave them
 * explicitly, and `exchangeDataId` only when both sides are explicit, so
 * an anonymous party's link to its exchange data stays hidden.
 */
static cardea_err
build_delegation(json_t **out, const share_fields *fields,
                 const json_t *share, json_t *parents, bool write)
{
    json_t *delegation = json_object();
    cardea_err rc = CARDEA_ENOMEM;

    if (delegation == NULL) {
        goto out;
    }
    if ((fields->delegator != NULL &&
         cardea_json__set_str(delegation, "delegator", fields->delegator)) ||
        (fields->delegate != NULL &&
         cardea_json__set_str(delegation, "delegate", fields->delegate)) ||
        copy_array_member(delegation, share, "secretIds") ||
        copy_array_member(delegation, share, "encryptionKeys") ||
        copy_array_member(delegation, share, "owningEntityIds") ||
        cardea_json__set_new(delegation, "parentDelegations",
                             json_incref(parents))) {
        goto out;
    }
    if (fields->delegator != NULL && fields->delegate != NULL &&
        fields->exchange_data_id != NULL &&
        cardea_json__set_str(delegation, "exchangeDataId",
                             fields->exchange_data_id) != CARDEA_OK) {
        goto out;
    }
    if (cardea_json__set_str(delegation, "permissions",
                             write ? "WRITE" : "READ") != CARDEA_OK) {
        goto out;
    }
    *out = delegation;
    delegation = NULL;
    rc = CARDEA_OK;
out:
    json_decref(delegation);
    return rc;
}

/* Decides parents and permission of a new delegation. */
static cardea_err
decide_permission(json_t **parents, bool *write, cardea_access_error *rej,
                  const share_context *ctx, share_permission permission)
{
    bool any_write = false;
    cardea_err rc;

    if (permission == SHARE_ROOT) {
        if (ctx->level != CARDEA_ACCESS_WRITE && !ctx->own_patient) {
            cardea_access__set_error(rej, 403, "ROOT needs write access to "
                                     "entity %.64s", ctx->entity_id);
            return CARDEA_EACCESS;
        }
        if ((*parents = json_array()) == NULL) {
            return CARDEA_ENOMEM;
        }
        *write = true;
        return CARDEA_OK;
    }
    if (permission == SHARE_FULL_WRITE &&
        ctx->level != CARDEA_ACCESS_WRITE) {
        cardea_access__set_error(rej, 403, "FULL_WRITE needs write access to "
                                 "entity %.64s; request MAX_WRITE or a read "
                                 "permission", ctx->entity_id);
        return CARDEA_EACCESS;
    }
    if ((rc = choose_parents(parents, &any_write, rej, ctx)) != CARDEA_OK) {
        return rc;
    }
    *write = permission == SHARE_FULL_WRITE ||
             (permission == SHARE_MAX_WRITE && any_write);
    return CARDEA_OK;
}

static cardea_err
add_map_update(share_context *ctx, const char *key, const json_t *ids)
{
    cardea_share_map_update *grown;
    size_t bytes;
    json_t *copy;

    if (!cardea_size__mul(&bytes, ctx->map_count + 1, sizeof *grown)) {
        return CARDEA_EOVERFLOW;
    }
    if ((copy = json_deep_copy(ids)) == NULL) {
        return CARDEA_ENOMEM;
    }
    grown = cardea_mem__realloc(ctx->maps, bytes);
    if (grown == NULL) {
        json_decref(copy);
        return CARDEA_ENOMEM;
    }
    ctx->maps = grown;
    memcpy(grown[ctx->map_count].id, key, CARDEA_SD_KEY_HEX_LEN + 1);
    grown[ctx->map_count].encrypted_ids = copy;
    ctx->map_count++;
    return CARDEA_OK;
}

/* Returns the first of `hashes` that is a key of `delegations`, or NULL. */
static const char *
first_existing(const json_t *delegations, const json_t *hashes)
{
    for (size_t i = 0; i < json_array_size(hashes); i++) {
        const char *hash = json_string_value(json_array_get(hashes, i));

        if (json_object_get(delegations, hash) != NULL) {
            return hash;
        }
    }
    return NULL;
}

/*
 * Checks and applies one share request to the working copy. Returns
 * CARDEA_OK when applied, CARDEA_ENOMEM or CARDEA_EOVERFLOW to abort, and
 * any other code to reject the request with `*rej`.
 */
static cardea_err
apply_share(share_context *ctx, cardea_access_error *rej,
            const json_t *share)
{
    char canonical[CARDEA_SD_KEY_HEX_LEN + 1];
    json_t *hashes = NULL, *parents = NULL, *delegation = NULL;
    json_t *delegations;
    const char *existing;
    share_fields fields;
    bool write = false;
    cardea_err rc;

    if ((rc = read_share_fields(&fields, rej, share)) != CARDEA_OK ||
        (rc = hash_share_keys(&hashes, canonical, rej, json_object_get(
             share, "accessControlKeys"))) != CARDEA_OK) {
        goto out;
    }
    if (fields.delegator != NULL &&
        (ctx->caller->data_owner_id == NULL ||
         strcmp(fields.delegator, ctx->caller->data_owner_id) != 0)) {
        cardea_access__set_error(rej, 403, "explicitDelegator must be the "
                                 "caller's own data-owner id");
        rc = CARDEA_EACCESS;
        goto out;
    }
    existing = first_existing(working_delegations(ctx, false), hashes);
    if (existing != NULL) {
        cardea_access__set_error(rej, 400, "delegation %.64s already exists "
                                 "on entity %.64s; send an update request",
                                 existing, ctx->entity_id);
        rc = CARDEA_EINVAL;
        goto out;
    }

    rc = decide_permission(&parents, &write, rej, ctx, fields.permission);
    if (rc != CARDEA_OK ||
        (rc = build_delegation(&delegation, &fields, share, parents,
                               write)) != CARDEA_OK) {
        goto out;
    }
    if ((delegations = working_delegations(ctx, true)) == NULL ||
        json_object_set(delegations, canonical, delegation) != 0) {
        rc = CARDEA_ENOMEM;
        goto out;
    }
    if (fields.encrypted_ids != NULL) {
        rc = add_map_update(ctx, canonical, fields.encrypted_ids);
        if (rc != CARDEA_OK) {
            json_object_del(delegations, canonical);
        }
    }
out:
    json_decref(hashes);
    json_decref(parents);
    json_decref(delegation);
    return rc;
}

static bool
is_sd_key(const char *key)
{
    if (key == NULL || strlen(key) != CARDEA_SD_KEY_HEX_LEN) {
        return false;
    }
    for (size_t i = 0; i < CARDEA_SD_KEY_HEX_LEN; i++) {
        if (!((key[i] >= '0' && key[i] <= '9') ||
              (key[i] >= 'a' && key[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static bool
array_find(size_t *index, const json_t *array, const char *value)
{
    for (size_t i = 0; i < json_array_size(array); i++) {
        const char *item = json_string_value(json_array_get(array, i));

        if (item != NULL && strcmp(item, value) == 0) {
            *index = i;
            return true;
        }
    }
    return false;
}

/*
 * Applies the `{value: CREATE|DELETE}` map `ops` to the array `name` of
 * `delegation` (a private copy).
 */
static cardea_err
apply_value_ops(cardea_access_error *rej, json_t *delegation,
                const char *name, const json_t *ops)
{
    json_t *values = json_object_get(delegation, name), *op;
    const char *value;

    if (is_ground(ops)) {
        return CARDEA_OK;
    }
    if (!json_is_object(ops)) {
        cardea_access__set_error(rej, 400, "%s must map values to CREATE or "
                                 "DELETE", name);
        return CARDEA_EINVAL;
    }
    if (!json_is_array(values)) {
        if (cardea_json__set_new(delegation, name, json_array()) !=
            CARDEA_OK) {
            return CARDEA_ENOMEM;
        }
        values = json_object_get(delegation, name);
    }
    json_object_foreach((json_t *)ops, value, op) {
        const char *kind = json_string_value(op);
        size_t at = 0;
        bool present = array_find(&at, values, value);

        if (kind != NULL && strcmp(kind, "CREATE") == 0) {
            if (present) {
                cardea_access__set_error(rej, 400, "%s: the value to create "
                                         "is already present", name);
                return CARDEA_EINVAL;
            }
            if (cardea_json__append_new(values, json_string(value)) !=
                CARDEA_OK) {
                return CARDEA_ENOMEM;
            }
        } else if (kind != NULL && strcmp(kind, "DELETE") == 0) {
            if (!present) {
                cardea_access__set_error(rej, 400, "%s: the value to delete "
                                         "is absent", name);
                return CARDEA_EINVAL;
            }
            json_array_remove(values, at);
        } else {
            cardea_access__set_error(rej, 400, "%s: operation must be CREATE "
                                     "or DELETE", name);
            return CARDEA_EINVAL;
        }
    }
    return CARDEA_OK;
}

/* Same contract as apply_share, for an update request. */
static cardea_err
apply_update(share_context *ctx, cardea_access_error *rej,
             const json_t *update)
{
    static const char *const arrays[] = {
        "secretIds", "encryptionKeys", "owningEntityIds",
    };
    const char *key = cardea_json__get_str(update,
                                           "metadataAccessControlHash");
    json_t *delegations = working_delegations(ctx, false);
    json_t *copy;
    cardea_err rc = CARDEA_OK;

    if (!is_sd_key(key)) {
        cardea_access__set_error(rej, 400, "metadataAccessControlHash must "
                                 "be 64 lowercase hex digits");
        return CARDEA_EINVAL;
    }
    if (json_object_get(delegations, key) == NULL) {
        cardea_access__set_error(rej, 404, "delegation %.64s not found on "
                                 "entity %.64s", key, ctx->entity_id);
        return CARDEA_ENOTFOUND;
    }
    if (!cardea_access__matches_delegation(ctx->caller, key,
                                           json_object_get(delegations,
                                                           key))) {
        cardea_access__set_error(rej, 403, "the caller cannot access "
                                 "delegation %.64s", key);
        return CARDEA_EACCESS;
    }

    if ((copy = json_deep_copy(json_object_get(delegations, key))) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0] && !rc; i++) {
        rc = apply_value_ops(rej, copy, arrays[i],
                             json_object_get(update, arrays[i]));
    }
    if (rc == CARDEA_OK && json_object_set(delegations, key, copy) != 0) {
        rc = CARDEA_ENOMEM;
    }
    json_decref(copy);
    return rc;
}

/* ---- the per-entity request set --------------------------------------- */

static cardea_err
add_rejection(json_t *rejected, const char *request_id, int code,
              bool retry, const char *reason)
{
    json_t *entry = json_pack("{s:i, s:b, s:s}", "code", code, "shouldRetry",
                              retry, "reason", reason);

    if (entry == NULL) {
        return CARDEA_ENOMEM;
    }
    return cardea_json__set_new(rejected, request_id, entry);
}

/*
 * Checks the rules that span the requests of one entity: share requests
 * use disjoint access-control keys, and at most one requests ROOT. A
 * malformed key is left for apply_share to reject.
 */
static cardea_err
check_request_set(cardea_access_error *rej, const json_t *requests)
{
    json_t *owners = json_object(), *request;
    size_t roots = 0;
    const char *id;
    cardea_err rc = CARDEA_OK;

    if (owners == NULL) {
        return CARDEA_ENOMEM;
    }
    json_object_foreach((json_t *)requests, id, request) {
        const json_t *share = json_object_get(request, "share");
        const json_t *keys = json_object_get(share, "accessControlKeys");
        const char *permission = cardea_json__get_str(share,
                                                      "requestedPermissions");

        if (permission != NULL && strcmp(permission, "ROOT") == 0) {
            roots++;
        }
        for (size_t i = 0; i < json_array_size(keys) && !rc; i++) {
            char hash[CARDEA_SD_KEY_HEX_LEN + 1];
            const char *owner;

            if (!hash_ac_key(hash, json_array_get(keys, i))) {
                continue;
            }
            owner = cardea_json__get_str(owners, hash);
            if (owner != NULL && strcmp(owner, id) != 0) {
                cardea_access__set_error(rej, 400, "share requests %.40s and "
                                         "%.40s use the same access-control "
                                         "key", owner, id);
                rc = CARDEA_EINVAL;
            } else if (owner == NULL &&
                       cardea_json__set_str(owners, hash, id) != CARDEA_OK) {
                rc = CARDEA_ENOMEM;
            }
        }
    }
    json_decref(owners);
    if (rc == CARDEA_OK && roots > 1) {
        cardea_access__set_error(rej, 400, "at most one share request per "
                                 "entity may ask for ROOT");
        rc = CARDEA_EINVAL;
    }
    return rc;
}

/* Rejects every request of `requests` with the same code and reason. */
static cardea_err
reject_all(json_t *rejected, const json_t *requests, int code,
           const char *reason)
{
    const char *id;
    json_t *request;

    json_object_foreach((json_t *)requests, id, request) {
        if (add_rejection(rejected, id, code, false, reason) != CARDEA_OK) {
            return CARDEA_ENOMEM;
        }
    }
    return CARDEA_OK;
}

/*
 * Checks and applies one request. Returns CARDEA_OK when applied,
 * CARDEA_ENOMEM or CARDEA_EOVERFLOW to abort, any other code to reject.
 */
static cardea_err
apply_request(share_context *ctx, cardea_access_error *rej,
              const json_t *request)
{
    const json_t *share = json_object_get(request, "share");
    const json_t *update = json_object_get(request, "update");
    const char *permission;

    if (is_ground(share) == is_ground(update) ||
        !(json_is_object(share) || json_is_object(update))) {
        cardea_access__set_error(rej, 400, "a request must hold either a "
                                 "share or an update object");
        return CARDEA_EINVAL;
    }

    /* Hide the entity from callers who cannot read it, except a patient
       restoring a root on its own Patient. */
    permission = cardea_json__get_str(share, "requestedPermissions");
    if (ctx->level == CARDEA_ACCESS_NONE &&
        !(ctx->own_patient && permission != NULL &&
          strcmp(permission, "ROOT") == 0)) {
        cardea_access__set_error(rej, 404, "entity %.64s not found",
                                 ctx->entity_id);
        return CARDEA_ENOTFOUND;
    }
    return json_is_object(share) ? apply_share(ctx, rej, share)
                                 : apply_update(ctx, rej, update);
}

static bool
is_fatal(cardea_err rc)
{
    return rc == CARDEA_ENOMEM || rc == CARDEA_EOVERFLOW;
}

static void
free_maps(cardea_share_map_update *maps, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        json_decref(maps[i].encrypted_ids);
    }
    cardea_mem__free(maps);
}

/*
 * Runs every request of the entity, filling `accepted` (request ids) and
 * `rejected` (id -> rejection).
 */
static cardea_err
run_requests(share_context *ctx, json_t *accepted, json_t *rejected,
             const json_t *requests)
{
    cardea_access_error rej = {0};
    const char *id;
    json_t *request;
    cardea_err rc;

    rc = check_request_set(&rej, requests);
    if (rc != CARDEA_OK) {
        return is_fatal(rc) ? rc
                            : reject_all(rejected, requests, rej.status,
                                         rej.message);
    }
    json_object_foreach((json_t *)requests, id, request) {
        rc = apply_request(ctx, &rej, request);
        if (is_fatal(rc)) {
            return rc;
        }
        if (rc == CARDEA_OK) {
            rc = cardea_json__append_new(accepted, json_string(id));
        } else {
            rc = add_rejection(rejected, id, rej.status, false, rej.message);
        }
        if (rc != CARDEA_OK) {
            return rc;
        }
    }
    return CARDEA_OK;
}

/*
 * Moves every accepted request of `outcome` to `rejectedRequests` and
 * drops the entity and the map updates. The new rejection map is built
 * aside first, so the outcome is unchanged when memory runs out.
 */
static cardea_err
reject_accepted(cardea_share_outcome *outcome, int code, bool retry,
                const char *reason)
{
    json_t *rejected = json_object_get(outcome->result, "rejectedRequests");
    json_t *copy = json_copy(rejected);
    size_t moved = json_array_size(outcome->accepted_ids);

    if (copy == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < moved; i++) {
        const char *id = json_string_value(
            json_array_get(outcome->accepted_ids, i));

        if (add_rejection(copy, id, code, retry, reason) != CARDEA_OK) {
            json_decref(copy);
            return CARDEA_ENOMEM;
        }
    }
    if (cardea_json__set_new(outcome->result, "rejectedRequests", copy) !=
        CARDEA_OK) {
        return CARDEA_ENOMEM;
    }
    json_array_clear(outcome->accepted_ids);
    json_object_del(outcome->result, "updatedEntity");
    json_object_del(outcome->result, "entityRev");
    json_decref(outcome->entity);
    outcome->entity = NULL;
    free_maps(outcome->map_updates, outcome->map_update_count);
    outcome->map_updates = NULL;
    outcome->map_update_count = 0;
    outcome->accepted_count = 0;
    outcome->rejected_count += moved;
    return CARDEA_OK;
}

static bool
is_own_patient(const cardea_access_caller *caller, const char *entity_type,
               const char *entity_id)
{
    return entity_type != NULL && strcmp(entity_type, "Patient") == 0 &&
           caller->data_owner_id != NULL &&
           strcmp(caller->data_owner_id, entity_id) == 0;
}

/*
 * Moves the working copy and the map updates into `outcome` when some
 * request was accepted, after validating the resulting metadata.
 */
static cardea_err
take_results(cardea_share_outcome *outcome, share_context *ctx)
{
    cardea_access_error invalid = {0};
    cardea_err rc;

    outcome->accepted_count = json_array_size(outcome->accepted_ids);
    outcome->rejected_count = json_object_size(
        json_object_get(outcome->result, "rejectedRequests"));
    if (outcome->accepted_count == 0) {
        return CARDEA_OK;
    }
    outcome->entity = ctx->working;
    ctx->working = NULL;
    outcome->map_updates = ctx->maps;
    outcome->map_update_count = ctx->map_count;
    ctx->maps = NULL;
    ctx->map_count = 0;

    /* The share rules keep the metadata valid; check anyway so a gap in
       them can never reach the store. */
    rc = cardea_access__validate_metadata(&invalid, outcome->entity);
    if (rc == CARDEA_EINVAL) {
        rc = reject_accepted(outcome, 400, false, invalid.message);
    }
    return rc;
}

/* see server/share.h */
cardea_err
cardea_share__apply(cardea_share_outcome *out,
                    const cardea_access_caller *caller,
                    const char *entity_type, const json_t *entity,
                    const json_t *request)
{
    const json_t *requests = json_object_get(request, "requests");
    const json_t *parents = json_object_get(request,
                                            "potentialParentDelegations");
    const char *entity_id = cardea_json__get_str(entity, "id");
    cardea_share_outcome outcome = {0};
    share_context ctx = {0};
    cardea_err rc = CARDEA_ENOMEM;

    if (out == NULL || caller == NULL || !json_is_object(entity) ||
        entity_id == NULL || !json_is_object(requests) ||
        !cardea_access__is_string_array(parents)) {
        return CARDEA_EINVAL;
    }
    ctx.caller = caller;
    ctx.entity_id = entity_id;
    ctx.original = json_object_get(json_object_get(entity,
                                                   "securityMetadata"),
                                   "secureDelegations");
    ctx.potential_parents = parents;
    ctx.level = cardea_access__level(caller, entity);
    ctx.own_patient = is_own_patient(caller, entity_type, entity_id);
    ctx.working = json_deep_copy(entity);
    outcome.accepted_ids = json_array();
    outcome.result = json_pack("{s:s, s:{}}", "entityId", entity_id,
                               "rejectedRequests");
    if (ctx.working == NULL || outcome.accepted_ids == NULL ||
        outcome.result == NULL) {
        goto out;
    }

    rc = run_requests(&ctx, outcome.accepted_ids,
                      json_object_get(outcome.result, "rejectedRequests"),
                      requests);
    if (rc != CARDEA_OK || (rc = take_results(&outcome, &ctx)) != CARDEA_OK) {
        goto out;
    }
    *out = outcome;
    memset(&outcome, 0, sizeof outcome);
out:
    cardea_share__outcome_free(&outcome);
    json_decref(ctx.working);
    free_maps(ctx.maps, ctx.map_count);
    return rc;
}

/* see server/share.h */
cardea_err
cardea_share__set_saved(cardea_share_outcome *outcome, const char *rev,
                        bool minimal)
{
    json_t *result;

    if (outcome == NULL || outcome->entity == NULL || rev == NULL) {
        return CARDEA_EINVAL;
    }
    /* Build the new result aside so a failure leaves the outcome as is. */
    if ((result = json_copy(outcome->result)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if (cardea_json__set_str(result, "entityRev", rev) != CARDEA_OK ||
        (!minimal && json_object_set(result, "updatedEntity",
                                     outcome->entity) != 0) ||
        cardea_json__set_str(outcome->entity, "rev", rev) != CARDEA_OK) {
        json_decref(result);
        return CARDEA_ENOMEM;
    }
    json_decref(outcome->result);
    outcome->result = result;
    return CARDEA_OK;
}

/* see server/share.h */
cardea_err
cardea_share__set_save_failed(cardea_share_outcome *outcome, int code)
{
    if (outcome == NULL) {
        return CARDEA_EINVAL;
    }
    return reject_accepted(outcome, code, true,
                           "saving the entity failed; retry the request");
}

/* see server/share.h */
cardea_err
cardea_share__not_found_result(json_t **out, const char *entity_id,
                               const json_t *request)
{
    const json_t *requests = json_object_get(request, "requests");
    char reason[CARDEA_ACCESS_MESSAGE_CAP];
    json_t *result;

    if (out == NULL || entity_id == NULL || !json_is_object(requests)) {
        return CARDEA_EINVAL;
    }
    result = json_pack("{s:s, s:{}}", "entityId", entity_id,
                       "rejectedRequests");
    if (result == NULL) {
        return CARDEA_ENOMEM;
    }
    snprintf(reason, sizeof reason, "entity %.64s not found", entity_id);
    if (reject_all(json_object_get(result, "rejectedRequests"), requests, 404,
                   reason) != CARDEA_OK) {
        json_decref(result);
        return CARDEA_ENOMEM;
    }
    *out = result;
    return CARDEA_OK;
}

/* see server/share.h */
void
cardea_share__outcome_free(cardea_share_outcome *outcome)
{
    if (outcome == NULL) {
        return;
    }
    json_decref(outcome->entity);
    json_decref(outcome->result);
    json_decref(outcome->accepted_ids);
    free_maps(outcome->map_updates, outcome->map_update_count);
    memset(outcome, 0, sizeof *outcome);
}
