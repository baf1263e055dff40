/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access levels of a caller on an entity, validation of
 * `securityMetadata`, and the create and modify checks of the server.
 * The contracts are in server/access.h, and this file contains only
 * implementation notes.
 */
#include "server/access.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void
cardea_access__set_error(cardea_access_error *err, int status,
                         const char *fmt, ...)
{
    va_list ap;

    if (err == NULL) {
        return;
    }
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* see server/access.h */
cardea_err
cardea_access__hash_keys(char ***out_hashes, size_t *out_count,
                         const uint8_t *keys, size_t keys_len)
{
    size_t count, table_len, total, unique = 0;
    char **table;
    char *text;

    if (out_hashes == NULL || out_count == NULL ||
        (keys == NULL && keys_len > 0) || keys_len % CARDEA_AC_KEY_LEN != 0) {
        return CARDEA_EINVAL;
    }
    count = keys_len / CARDEA_AC_KEY_LEN;
    if (count > CARDEA_ACCESS_MAX_KEYS) {
        return CARDEA_ETOOBIG;
    }
    if (count == 0) {
        *out_hashes = NULL;
        *out_count = 0;
        return CARDEA_OK;
    }

    /* The pointers and the strings share one block; count is capped, so
       neither product can overflow. */
    table_len = count * sizeof(char *);
    total = table_len + count * (CARDEA_SD_KEY_HEX_LEN + 1);
    table = cardea_mem__alloc(total);
    if (table == NULL) {
        return CARDEA_ENOMEM;
    }
    text = (char *)table + table_len;
    for (size_t i = 0; i < count; i++) {
        table[i] = text + i * (CARDEA_SD_KEY_HEX_LEN + 1);
        cardea_sdkey__from_ackey(table[i], keys + i * CARDEA_AC_KEY_LEN);
    }

    qsort(table, count, sizeof *table, compare_strings);
    for (size_t i = 0; i < count; i++) {
        if (unique == 0 || strcmp(table[unique - 1], table[i]) != 0) {
            table[unique++] = table[i];
        }
    }
    *out_hashes = table;
    *out_count = unique;
    return CARDEA_OK;
}

/* see server/access.h */
bool
cardea_access__is_self_or_ancestor(const cardea_access_caller *caller,
                                   const char *id)
{
    if (caller == NULL || id == NULL) {
        return false;
    }
    if (caller->data_owner_id != NULL &&
        strcmp(caller->data_owner_id, id) == 0) {
        return true;
    }
    for (size_t i = 0; i < caller->ancestor_count; i++) {
        if (caller->ancestor_ids[i] != NULL &&
            strcmp(caller->ancestor_ids[i], id) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Returns true when `key` is one of the caller's key hashes. Both are
 * SHA-256 digests of access-control keys, which are public values (the
 * stored ones sit in every readable entity's metadata, and the raw keys
 * cannot be derived from them), so an ordinary comparison is enough.
 * A sorted list is binary-searched, so a request with many keys costs a
 * logarithmic number of comparisons per delegation.
 */
static bool
has_key_hash(const cardea_access_caller *caller, const char *key)
{
    if (key == NULL || caller->key_hash_count == 0
        || strlen(key) != CARDEA_SD_KEY_HEX_LEN) {
        return false;
    }
    if (caller->key_hashes_sorted) {
        return bsearch(&key, caller->key_hashes, caller->key_hash_count,
                       sizeof *caller->key_hashes, compare_strings)
               != NULL;
    }
    for (size_t i = 0; i < caller->key_hash_count; i++) {
        const char *mine = caller->key_hashes[i];

        if (mine != NULL && strcmp(mine, key) == 0) {
            return true;
        }
    }
    return false;
}

/* see server/access.h */
bool
cardea_access__matches_delegation(const cardea_access_caller *caller,
                                  const char *key, const json_t *delegation)
{
    if (caller == NULL || !json_is_object(delegation)) {
        return false;
    }
    if (cardea_access__is_self_or_ancestor(
            caller, cardea_json__get_str(delegation, "delegate")) ||
        cardea_access__is_self_or_ancestor(
            caller, cardea_json__get_str(delegation, "delegator"))) {
        return true;
    }
    return has_key_hash(caller, key);
}

static cardea_access_level
permission_level(const json_t *delegation)
{
    const char *permissions = cardea_json__get_str(delegation, "permissions");

    if (permissions == NULL) {
        return CARDEA_ACCESS_NONE;
    }
    if (strcmp(permissions, "WRITE") == 0) {
        return CARDEA_ACCESS_WRITE;
    }
    if (strcmp(permissions, "READ") == 0) {
        return CARDEA_ACCESS_READ;
    }
    return CARDEA_ACCESS_NONE;
}

/* The legacy access maps: a key naming a data owner gives it WRITE. */
static const char *const legacy_maps[] = {
    "delegations", "encryptionKeys", "cryptedForeignKeys",
};
#define LEGACY_MAP_COUNT (sizeof legacy_maps / sizeof legacy_maps[0])

/* True when a legacy map of `entity` has a key naming the caller. */
static bool
has_legacy_access(const cardea_access_caller *caller, const json_t *entity)
{
    for (size_t m = 0; m < LEGACY_MAP_COUNT; m++) {
        const json_t *map = json_object_get(entity, legacy_maps[m]);

        if (!json_is_object(map)) {
            continue;
        }
        if (caller->data_owner_id != NULL &&
            json_object_get(map, caller->data_owner_id) != NULL) {
            return true;
        }
        for (size_t i = 0; i < caller->ancestor_count; i++) {
            if (caller->ancestor_ids[i] != NULL &&
                json_object_get(map, caller->ancestor_ids[i]) != NULL) {
                return true;
            }
        }
    }
    return false;
}

static const json_t *
secure_delegations(const json_t *entity)
{
    const json_t *metadata = json_object_get(entity, "securityMetadata");

    return json_object_get(metadata, "secureDelegations");
}

/* see server/access.h */
cardea_access_level
cardea_access__level(const cardea_access_caller *caller, const json_t *entity)
{
    cardea_access_level level = CARDEA_ACCESS_NONE;
    const json_t *delegations, *delegation;
    const char *key;

    if (caller == NULL || !json_is_object(entity)) {
        return CARDEA_ACCESS_NONE;
    }
    if (has_legacy_access(caller, entity)) {
        return CARDEA_ACCESS_WRITE;
    }

    delegations = secure_delegations(entity);
    if (!json_is_object(delegations)) {
        return CARDEA_ACCESS_NONE;
    }
    json_object_foreach((json_t *)delegations, key, delegation) {
        cardea_access_level found;

        if (!cardea_access__matches_delegation(caller, key, delegation)) {
            continue;
        }
        found = permission_level(delegation);
        if (found > level) {
            level = found;
        }
    }
    return level;
}

/* ---- validation of securityMetadata ------------------------------------ */

static bool
is_sd_key(const char *key)
{
    if (strlen(key) != CARDEA_SD_KEY_HEX_LEN) {
        return false;
    }
    for (size_t i = 0; i < CARDEA_SD_KEY_HEX_LEN; i++) {
        char c = key[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* see server/access.h */
bool
cardea_access__is_optional_string(const json_t *value)
{
    return value == NULL || json_is_null(value) || json_is_string(value);
}

/* see server/access.h */
bool
cardea_access__is_string_array(const json_t *value)
{
    if (value == NULL || json_is_null(value)) {
        return true;
    }
    if (!json_is_array(value)) {
        return false;
    }
    for (size_t i = 0; i < json_array_size(value); i++) {
        if (!json_is_string(json_array_get(value, i))) {
            return false;
        }
    }
    return true;
}

static cardea_err
validate_delegation(cardea_access_error *err, const char *key,
                    const json_t *delegation, const json_t *delegations)
{
    static const char *const arrays[] = {
        "secretIds", "encryptionKeys", "owningEntityIds", "parentDelegations",
    };
    static const char *const strings[] = {
        "delegator", "delegate", "exchangeDataId",
    };
    const json_t *parents;

    if (!json_is_object(delegation)) {
        cardea_access__set_error(err, 400, "delegation %.64s is not an object",
                                 key);
        return CARDEA_EINVAL;
    }
    if (permission_level(delegation) == CARDEA_ACCESS_NONE) {
        cardea_access__set_error(err, 400, "delegation %.64s: permissions "
                                 "must be READ or WRITE", key);
        return CARDEA_EINVAL;
    }
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const json_t *value = json_object_get(delegation, strings[i]);

        if (!cardea_access__is_optional_string(value)) {
            cardea_access__set_error(err, 400, "delegation %.64s: %s must "
                                     "be a string", key, strings[i]);
            return CARDEA_EINVAL;
        }
    }
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        const json_t *value = json_object_get(delegation, arrays[i]);

        if (!cardea_access__is_string_array(value)) {
            cardea_access__set_error(err, 400, "delegation %.64s: %s must "
                                     "be an array of strings", key, arrays[i]);
            return CARDEA_EINVAL;
        }
    }

    parents = json_object_get(delegation, "parentDelegations");
    if (json_array_size(parents) == 0 &&
        permission_level(delegation) != CARDEA_ACCESS_WRITE) {
        cardea_access__set_error(err, 400, "delegation %.64s has no parent "
                                 "and must be WRITE", key);
        return CARDEA_EINVAL;
    }
    for (size_t i = 0; i < json_array_size(parents); i++) {
        const char *parent = json_string_value(json_array_get(parents, i));

        if (json_object_get(delegations, parent) == NULL) {
            cardea_access__set_error(err, 400, "delegation %.64s: parent "
                                     "%.64s does not exist", key, parent);
            return CARDEA_EINVAL;
        }
    }
    return CARDEA_OK;
}

/*
 * Graph of the delegations: node i is the i-th key in strcmp order, and
 * the edges of node i, from edge_start[i] to edge_start[i + 1], list the
 * indexes of its parents.
 */
typedef struct delegation_graph {
    const char **keys;
    size_t count;
    size_t *edge_start;
    size_t *edges;
} delegation_graph;

static void
graph_free(delegation_graph *graph)
{
    cardea_mem__free(graph->keys);
    cardea_mem__free(graph->edge_start);
    cardea_mem__free(graph->edges);
}

static size_t
graph_index(const delegation_graph *graph, const char *key)
{
    const char **found = bsearch(&key, graph->keys, graph->count,
                                 sizeof *graph->keys, compare_strings);

    return (size_t)(found - graph->keys);
}

/* Needs a validated map: every parent is a key of it. */
static cardea_err
graph_build(delegation_graph *out, const json_t *delegations)
{
    delegation_graph graph = {0};
    size_t edge_count = 0, at = 0;
    const json_t *delegation;
    const char *key;

    graph.count = json_object_size(delegations);
    graph.keys = cardea_mem__calloc(graph.count, sizeof *graph.keys);
    graph.edge_start = cardea_mem__calloc(graph.count + 1, sizeof(size_t));
    if (graph.keys == NULL || graph.edge_start == NULL) {
        graph_free(&graph);
        return CARDEA_ENOMEM;
    }
    json_object_foreach((json_t *)delegations, key, delegation) {
        graph.keys[at++] = key;
        edge_count += json_array_size(
            json_object_get(delegation, "parentDelegations"));
    }
    graph.edges = cardea_mem__calloc(edge_count + 1, sizeof(size_t));
    if (graph.edges == NULL) {
        graph_free(&graph);
        return CARDEA_ENOMEM;
    }
    qsort(graph.keys, graph.count, sizeof *graph.keys, compare_strings);

    at = 0;
    for (size_t i = 0; i < graph.count; i++) {
        const json_t *parents = json_object_get(
            json_object_get(delegations, graph.keys[i]), "parentDelegations");

        graph.edge_start[i] = at;
        for (size_t p = 0; p < json_array_size(parents); p++) {
            graph.edges[at++] = graph_index(
                &graph, json_string_value(json_array_get(parents, p)));
        }
    }
    graph.edge_start[graph.count] = at;
    *out = graph;
    return CARDEA_OK;
}

/*
 * Kahn's algorithm: a delegation is removed once all of its parents are
 * removed, and whatever is left lies on a cycle or descends from one.
 * The children of each node come from the reversed edges, so the run is
 * linear in nodes plus edges, and iterative, so a hostile graph cannot
 * exhaust the stack.
 */
static cardea_err
graph_has_cycle(bool *out, const delegation_graph *graph)
{
    size_t n = graph->count, edge_count = graph->edge_start[n];
    size_t *pending = cardea_mem__calloc(n + 1, sizeof(size_t));
    size_t *queue = cardea_mem__calloc(n + 1, sizeof(size_t));
    size_t *child_start = cardea_mem__calloc(n + 2, sizeof(size_t));
    size_t *children = cardea_mem__calloc(edge_count + 1, sizeof(size_t));
    size_t head = 0, tail = 0;
    cardea_err rc = CARDEA_ENOMEM;

    if (pending == NULL || queue == NULL || child_start == NULL ||
        children == NULL) {
        goto out;
    }
    for (size_t e = 0; e < edge_count; e++) {
        child_start[graph->edges[e] + 2]++;
    }
    for (size_t i = 2; i < n + 2; i++) {
        child_start[i] += child_start[i - 1];
    }
    /* child_start[p + 1] is now the next free slot of parent p. */
    for (size_t i = 0; i < n; i++) {
        for (size_t e = graph->edge_start[i]; e < graph->edge_start[i + 1];
             e++) {
            children[child_start[graph->edges[e] + 1]++] = i;
        }
        pending[i] = graph->edge_start[i + 1] - graph->edge_start[i];
        if (pending[i] == 0) {
            queue[tail++] = i;
        }
    }

    while (head < tail) {
        size_t done = queue[head++];

        for (size_t c = child_start[done]; c < child_start[done + 1]; c++) {
            if (--pending[children[c]] == 0) {
                queue[tail++] = children[c];
            }
        }
    }
    *out = tail != n;
    rc = CARDEA_OK;
out:
    cardea_mem__free(pending);
    cardea_mem__free(queue);
    cardea_mem__free(child_start);
    cardea_mem__free(children);
    return rc;
}

static cardea_err
check_no_cycle(cardea_access_error *err, const json_t *delegations)
{
    delegation_graph graph;
    bool cycle = false;
    cardea_err rc;

    if ((rc = graph_build(&graph, delegations)) != CARDEA_OK) {
        return rc;
    }
    rc = graph_has_cycle(&cycle, &graph);
    graph_free(&graph);
    if (rc == CARDEA_OK && cycle) {
        cardea_access__set_error(err, 400, "securityMetadata: the parent "
                                 "delegations form a cycle");
        rc = CARDEA_EINVAL;
    }
    return rc;
}

/* see server/access.h */
cardea_err
cardea_access__validate_metadata(cardea_access_error *err,
                                 const json_t *entity)
{
    const json_t *metadata, *delegations, *delegation;
    const char *key;
    cardea_err rc;

    if (!json_is_object(entity)) {
        cardea_access__set_error(err, 400, "the entity is not an object");
        return CARDEA_EINVAL;
    }
    metadata = json_object_get(entity, "securityMetadata");
    if (metadata == NULL || json_is_null(metadata)) {
        return CARDEA_OK;
    }
    delegations = json_object_get(metadata, "secureDelegations");
    if (!json_is_object(metadata) || !json_is_object(delegations) ||
        json_object_size(delegations) == 0) {
        cardea_access__set_error(err, 400, "securityMetadata.secure"
                                 "Delegations must be a non-empty object");
        return CARDEA_EINVAL;
    }
    if (json_object_size(delegations) > CARDEA_ACCESS_MAX_DELEGATIONS) {
        cardea_access__set_error(err, 400, "securityMetadata has more than "
                                 "%d delegations",
                                 CARDEA_ACCESS_MAX_DELEGATIONS);
        return CARDEA_EINVAL;
    }

    json_object_foreach((json_t *)delegations, key, delegation) {
        if (!is_sd_key(key)) {
            cardea_access__set_error(err, 400, "securityMetadata: key "
                                     "\"%.64s\" is not 64 lowercase hex "
                                     "digits", key);
            return CARDEA_EINVAL;
        }
        rc = validate_delegation(err, key, delegation, delegations);
        if (rc != CARDEA_OK) {
            return rc;
        }
    }
    return check_no_cycle(err, delegations);
}

/* ---- create and modify checks ----------------------------------------- */

/* True when an explicit side, if present, names the caller itself. */
static bool
side_is_caller_or_absent(const cardea_access_caller *caller, const char *id)
{
    return id == NULL || (caller->data_owner_id != NULL &&
                          strcmp(caller->data_owner_id, id) == 0);
}

static bool
root_belongs_to_caller(const cardea_access_caller *caller, const char *key,
                       const json_t *delegation)
{
    const char *delegator = cardea_json__get_str(delegation, "delegator");
    const char *delegate = cardea_json__get_str(delegation, "delegate");

    if (delegator != NULL && delegate != NULL &&
        caller->data_owner_id != NULL &&
        strcmp(delegator, caller->data_owner_id) == 0 &&
        strcmp(delegate, caller->data_owner_id) == 0) {
        return true;
    }
    return has_key_hash(caller, key) &&
           side_is_caller_or_absent(caller, delegator) &&
           side_is_caller_or_absent(caller, delegate);
}

/*
 * True when each entry of a legacy map names only the caller: the map key
 * and, inside it, any `owner` or `delegatedTo` of a delegation object.
 */
static bool
legacy_map_names_only_caller(const cardea_access_caller *caller,
                             const json_t *map)
{
    const char *owner;
    const json_t *entries, *entry;
    size_t i;

    json_object_foreach((json_t *)map, owner, entries) {
        if (!side_is_caller_or_absent(caller, owner)) {
            return false;
        }
        json_array_foreach(entries, i, entry) {
            if (!side_is_caller_or_absent(
                    caller, cardea_json__get_str(entry, "owner"))
                || !side_is_caller_or_absent(
                    caller, cardea_json__get_str(entry, "delegatedTo"))) {
                return false;
            }
        }
    }
    return true;
}

/*
 * A new entity may carry legacy access maps only for the caller itself:
 * an entry for anyone else would give WRITE without a bulk share.
 */
static cardea_err
check_legacy_create(cardea_access_error *err,
                    const cardea_access_caller *caller, const json_t *entity)
{
    for (size_t m = 0; m < LEGACY_MAP_COUNT; m++) {
        const json_t *map = json_object_get(entity, legacy_maps[m]);

        if (map == NULL || json_is_null(map)) {
            continue;
        }
        if (!json_is_object(map)) {
            cardea_access__set_error(err, 400, "%s must be an object",
                                     legacy_maps[m]);
            return CARDEA_EINVAL;
        }
        if (!legacy_map_names_only_caller(caller, map)) {
            cardea_access__set_error(err, 400, "%s may name only the "
                                     "caller on create; share through "
                                     "bulkSharedMetadataUpdate",
                                     legacy_maps[m]);
            return CARDEA_EINVAL;
        }
    }
    return CARDEA_OK;
}

/* see server/access.h */
cardea_err
cardea_access__check_create(cardea_access_error *err,
                            const cardea_access_caller *caller,
                            const json_t *entity)
{
    const json_t *delegations, *delegation;
    const char *key;
    cardea_err rc;

    if (caller == NULL) {
        cardea_access__set_error(err, 403, "no caller");
        return CARDEA_EACCESS;
    }
    if ((rc = cardea_access__validate_metadata(err, entity)) != CARDEA_OK) {
        return rc;
    }
    delegations = secure_delegations(entity);
    if (json_object_size(delegations) == 0) {
        cardea_access__set_error(err, 400, "securityMetadata is missing: a "
                                 "new entity needs a root delegation");
        return CARDEA_EINVAL;
    }

    /* Validation guarantees an acyclic, non-empty graph whose parents
       are keys of the same map, so at least one parentless delegation
       exists and every child names existing parents. */
    json_object_foreach((json_t *)delegations, key, delegation) {
        const json_t *parents = json_object_get(delegation,
                                                "parentDelegations");

        if (json_array_size(parents) == 0 &&
            !root_belongs_to_caller(caller, key, delegation)) {
            cardea_access__set_error(err, 403, "root delegation %.64s does "
                                     "not belong to the caller", key);
            return CARDEA_EACCESS;
        }
        /* As in bulk share, only the caller may appear as delegator. */
        if (!side_is_caller_or_absent(
                caller, cardea_json__get_str(delegation, "delegator"))) {
            cardea_access__set_error(err, 403, "delegation %.64s names a "
                                     "delegator other than the caller",
                                     key);
            return CARDEA_EACCESS;
        }
    }
    return check_legacy_create(err, caller, entity);
}

/* see server/access.h */
bool
cardea_access__metadata_equal(const json_t *a, const json_t *b)
{
    return cardea_json__equal_loose(a, b);
}

/* True when `map` has every key of `of`, whatever the values. */
static bool
has_all_keys(const json_t *map, const json_t *of)
{
    const char *key;
    const json_t *value;

    json_object_foreach((json_t *)of, key, value) {
        if (json_object_get(map, key) == NULL) {
            return false;
        }
    }
    return true;
}

/*
 * Compares two legacy maps by meaning, as securityMetadata is compared,
 * except that a key with an empty value differs from a missing key,
 * because the key alone grants WRITE. A missing map, null and {} are
 * equal.
 */
static bool
legacy_map_equal(const json_t *a, const json_t *b)
{
    bool a_map = a == NULL || json_is_null(a) || json_is_object(a);
    bool b_map = b == NULL || json_is_null(b) || json_is_object(b);

    /* json_object_size and json_object_foreach treat NULL and null as
     * empty objects. */
    if (!a_map || !b_map) {
        return cardea_json__equal_loose(a, b);
    }
    return json_object_size(a) == json_object_size(b) && has_all_keys(b, a)
           && cardea_json__equal_loose(a, b);
}

static bool
same_optional_string(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

/* see server/access.h */
cardea_err
cardea_access__check_modify(cardea_access_error *err,
                            const cardea_access_caller *caller,
                            const json_t *stored, const json_t *incoming)
{
    const char *id = cardea_json__get_str(stored, "id");
    cardea_access_level level;

    if (!json_is_object(stored) || !json_is_object(incoming)) {
        cardea_access__set_error(err, 400, "the entity is not an object");
        return CARDEA_EINVAL;
    }
    level = cardea_access__level(caller, stored);
    if (level == CARDEA_ACCESS_NONE) {
        cardea_access__set_error(err, 404, "entity %.64s not found",
                                 id != NULL ? id : "");
        return CARDEA_ENOTFOUND;
    }
    if (level != CARDEA_ACCESS_WRITE) {
        cardea_access__set_error(err, 403, "the caller has no write access "
                                 "to entity %.64s", id != NULL ? id : "");
        return CARDEA_EACCESS;
    }

    if (!same_optional_string(cardea_json__get_str(stored, "rev"),
                              cardea_json__get_str(incoming, "rev"))) {
        cardea_access__set_error(err, 409, "rev does not match the stored "
                                 "revision of entity %.64s; reload it and "
                                 "retry", id != NULL ? id : "");
        return CARDEA_ECONFLICT;
    }
    if (!same_optional_string(id, cardea_json__get_str(incoming, "id"))) {
        cardea_access__set_error(err, 400, "the entity id cannot change");
        return CARDEA_EINVAL;
    }
    if (!cardea_access__metadata_equal(
            json_object_get(stored, "securityMetadata"),
            json_object_get(incoming, "securityMetadata"))) {
        cardea_access__set_error(err, 400, "securityMetadata can only "
                                 "change through bulkSharedMetadataUpdate");
        return CARDEA_EINVAL;
    }
    for (size_t m = 0; m < LEGACY_MAP_COUNT; m++) {
        if (!legacy_map_equal(json_object_get(stored, legacy_maps[m]),
                              json_object_get(incoming, legacy_maps[m]))) {
            cardea_access__set_error(err, 400, "%s is access metadata and "
                                     "cannot change in a modify",
                                     legacy_maps[m]);
            return CARDEA_EINVAL;
        }
    }
    return CARDEA_OK;
}
