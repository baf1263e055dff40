/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Search keys of the server's entity index, as pure functions over
 * jansson values. The store keeps (search key -> entity id) rows so that
 * `match` filters find entities without reading every blob:
 *   - data-owner keys: every explicit `delegate` and `delegator` id of the
 *     secure delegations, the delegation key itself for each delegation
 *     whose delegate or delegator is anonymous (missing), and the keys of
 *     the legacy `delegations` map;
 *   - `secretForeignKeys`, as stored in clear on the entity;
 *   - codes and tags as "type|code" strings.
 * A caller searching "for self" looks up its data-owner id and the hashes
 * of the access-control keys it sent, so an anonymous patient finds its
 * data although its id appears nowhere in clear.
 *
 * Every list is sorted (strcmp order) and free of duplicates.
 */
#ifndef CARDEA_SERVER_SEARCH_H
#define CARDEA_SERVER_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cardea/common.h"
#include "server/access.h"

/* A sorted list of distinct strings; each item and the array are owned. */
typedef struct cardea_search_list {
    char **items;
    size_t count;
} cardea_search_list;

/* Frees the items and the array and zeroes the list. NULL does nothing. */
void cardea_search__list_free(cardea_search_list *list);

/* Returns true when `s` is an item of the sorted `list` (binary search). */
bool cardea_search__list_contains(const cardea_search_list *list,
                                  const char *s);

/*
 * Builds a list from the string items of the JSON array `strings`,
 * sorted and without duplicates. CARDEA_EINVAL when `strings` is not an
 * array or contains anything but strings; CARDEA_ENOMEM. `*out` is written
 * only on success.
 */
cardea_err cardea_search__list_from_strings(cardea_search_list *out,
                                            const json_t *strings)
    CARDEA_MUST_CHECK;

/*
 * Collects the data-owner search keys of `entity` (described at the top
 * of this file). Members of the wrong type are skipped.
 * Returns CARDEA_OK, CARDEA_EINVAL (`entity` not an object) or
 * CARDEA_ENOMEM. `*out` is written only on success.
 */
cardea_err cardea_search__data_owner_keys(cardea_search_list *out,
                                          const json_t *entity)
    CARDEA_MUST_CHECK;

/*
 * Collects the string items of `entity.secretForeignKeys`.
 * Same returns as cardea_search__data_owner_keys.
 */
cardea_err cardea_search__secret_foreign_keys(cardea_search_list *out,
                                              const json_t *entity)
    CARDEA_MUST_CHECK;

/*
 * Collects "type|code" for each `{type, code}` object of the array
 * `entity[field]` (`field` is "codes" or "tags"), and "type|" for each
 * type alone, so a filter on a type without a code finds it too. Items
 * without a string `type` are skipped.
 * Same returns as cardea_search__data_owner_keys.
 */
cardea_err cardea_search__codes(cardea_search_list *out, const json_t *entity,
                                const char *field) CARDEA_MUST_CHECK;

/*
 * Builds the "type|code" search key for a code filter into `*out`
 * (allocated, free with cardea_free): "type|code", or "type|" when `code`
 * is NULL. Returns CARDEA_OK, CARDEA_EINVAL (`type` NULL or either part
 * containing '|') or CARDEA_ENOMEM.
 */
cardea_err cardea_search__code_key(char **out, const char *type,
                                   const char *code) CARDEA_MUST_CHECK;

/*
 * Collects the search keys that mean "the caller" in a filter: its
 * data-owner id (when it has one), its key hashes, and, only when
 * `with_ancestors`, the ids of its HCP ancestors.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument) or CARDEA_ENOMEM.
 * `*out` is written only on success.
 */
cardea_err cardea_search__self_keys(cardea_search_list *out,
                                    const cardea_access_caller *caller,
                                    bool with_ancestors) CARDEA_MUST_CHECK;

#endif
