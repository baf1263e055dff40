/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Search keys of the server's entity index. The contracts are in
 * server/search.h. Lists are collected in a jansson object used as a set
 * (so duplicates collapse), then copied out and sorted.
 */
#include "server/search.h"

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* see server/search.h */
void
cardea_search__list_free(cardea_search_list *list)
{
    if (list == NULL) {
        return;
    }
    for (size_t i = 0; i < list->count; i++) {
        cardea_mem__free(list->items[i]);
    }
    cardea_mem__free(list->items);
    list->items = NULL;
    list->count = 0;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* see server/search.h */
bool
cardea_search__list_contains(const cardea_search_list *list, const char *s)
{
    if (list == NULL || s == NULL || list->count == 0) {
        return false;
    }
    return bsearch(&s, list->items, list->count, sizeof *list->items,
                   compare_strings) != NULL;
}

static cardea_err
set_add(json_t *set, const char *value)
{
    if (value == NULL) {
        return CARDEA_OK;
    }
    return json_object_set_new(set, value, json_true()) == 0 ? CARDEA_OK
                                                             : CARDEA_ENOMEM;
}

/* Copies the keys of `set` into `*out`, sorted. Consumes nothing. */
static cardea_err
list_from_set(cardea_search_list *out, const json_t *set)
{
    cardea_search_list list = {0};
    const char *key;
    json_t *value;

    if (json_object_size(set) > 0) {
        list.items = cardea_mem__calloc(json_object_size(set),
                                        sizeof *list.items);
        if (list.items == NULL) {
            return CARDEA_ENOMEM;
        }
    }
    json_object_foreach((json_t *)set, key, value) {
        if ((list.items[list.count] = cardea_mem__strdup(key)) == NULL) {
            cardea_search__list_free(&list);
            return CARDEA_ENOMEM;
        }
        list.count++;
    }
    if (list.count > 1) {
        qsort(list.items, list.count, sizeof *list.items, compare_strings);
    }
    *out = list;
    return CARDEA_OK;
}

/* Finishes a collection: on success copies `set` out, then frees it. */
static cardea_err
finish(cardea_search_list *out, json_t *set, cardea_err rc)
{
    if (rc == CARDEA_OK) {
        rc = list_from_set(out, set);
    }
    json_decref(set);
    return rc;
}

/* see server/search.h */
cardea_err
cardea_search__list_from_strings(cardea_search_list *out,
                                 const json_t *strings)
{
    json_t *set;
    cardea_err rc = CARDEA_OK;

    if (out == NULL || !json_is_array(strings)) {
        return CARDEA_EINVAL;
    }
    if ((set = json_object()) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < json_array_size(strings) && rc == CARDEA_OK; i++) {
        const char *item = json_string_value(json_array_get(strings, i));

        rc = item != NULL ? set_add(set, item) : CARDEA_EINVAL;
    }
    return finish(out, set, rc);
}

static cardea_err
add_delegation_keys(json_t *set, const char *key, const json_t *delegation)
{
    const char *delegator = cardea_json__get_str(delegation, "delegator");
    const char *delegate = cardea_json__get_str(delegation, "delegate");

    if (!json_is_object(delegation)) {
        return CARDEA_OK;
    }
    if (set_add(set, delegator) != CARDEA_OK ||
        set_add(set, delegate) != CARDEA_OK) {
        return CARDEA_ENOMEM;
    }
    /* An anonymous side is found through the delegation key, which only
       the holder of the access-control key can name. */
    if (delegator == NULL || delegate == NULL) {
        return set_add(set, key);
    }
    return CARDEA_OK;
}

/* see server/search.h */
cardea_err
cardea_search__data_owner_keys(cardea_search_list *out, const json_t *entity)
{
    const json_t *delegations, *legacy, *value;
    const char *key;
    json_t *set;
    cardea_err rc = CARDEA_OK;

    if (out == NULL || !json_is_object(entity)) {
        return CARDEA_EINVAL;
    }
    if ((set = json_object()) == NULL) {
        return CARDEA_ENOMEM;
    }
    delegations = json_object_get(json_object_get(entity,
                                                  "securityMetadata"),
                                  "secureDelegations");
    if (json_is_object(delegations)) {
        json_object_foreach((json_t *)delegations, key, value) {
            if ((rc = add_delegation_keys(set, key, value)) != CARDEA_OK) {
                break;
            }
        }
    }
    legacy = json_object_get(entity, "delegations");
    if (rc == CARDEA_OK && json_is_object(legacy)) {
        json_object_foreach((json_t *)legacy, key, value) {
            if ((rc = set_add(set, key)) != CARDEA_OK) {
                break;
            }
        }
    }
    return finish(out, set, rc);
}

/* see server/search.h */
cardea_err
cardea_search__secret_foreign_keys(cardea_search_list *out,
                                   const json_t *entity)
{
    const json_t *keys = json_object_get(entity, "secretForeignKeys");
    json_t *set;
    cardea_err rc = CARDEA_OK;

    if (out == NULL || !json_is_object(entity)) {
        return CARDEA_EINVAL;
    }
    if ((set = json_object()) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < json_array_size(keys) && rc == CARDEA_OK; i++) {
        rc = set_add(set, json_string_value(json_array_get(keys, i)));
    }
    return finish(out, set, rc);
}

/* see server/search.h */
cardea_err
cardea_search__code_key(char **out, const char *type, const char *code)
{
    size_t type_len, code_len, total;
    char *key;

    if (out == NULL || type == NULL || strchr(type, '|') != NULL ||
        (code != NULL && strchr(code, '|') != NULL)) {
        return CARDEA_EINVAL;
    }
    type_len = strlen(type);
    code_len = code != NULL ? strlen(code) : 0;
    if (!cardea_size__add(&total, type_len, code_len) ||
        !cardea_size__add(&total, total, 2)) {
        return CARDEA_EOVERFLOW;
    }
    if ((key = cardea_mem__alloc(total)) == NULL) {
        return CARDEA_ENOMEM;
    }
    memcpy(key, type, type_len);
    key[type_len] = '|';
    if (code_len > 0) {
        memcpy(key + type_len + 1, code, code_len);
    }
    key[type_len + 1 + code_len] = '\0';
    *out = key;
    return CARDEA_OK;
}

/* Adds "type|code" and "type|" for one code object; skips bad items. */
static cardea_err
add_code(json_t *set, const json_t *item)
{
    const char *type = cardea_json__get_str(item, "type");
    const char *code = cardea_json__get_str(item, "code");
    char *key = NULL;
    cardea_err rc;

    if (type == NULL) {
        return CARDEA_OK;
    }
    rc = cardea_search__code_key(&key, type, NULL);
    if (rc == CARDEA_EINVAL) {
        return CARDEA_OK;
    }
    if (rc == CARDEA_OK) {
        rc = set_add(set, key);
        cardea_mem__free(key);
        key = NULL;
    }
    if (rc == CARDEA_OK && code != NULL) {
        rc = cardea_search__code_key(&key, type, code);
        if (rc == CARDEA_EINVAL) {
            return CARDEA_OK;
        }
        if (rc == CARDEA_OK) {
            rc = set_add(set, key);
        }
        cardea_mem__free(key);
    }
    return rc;
}

/* see server/search.h */
cardea_err
cardea_search__codes(cardea_search_list *out, const json_t *entity,
                     const char *field)
{
    const json_t *items;
    json_t *set;
    cardea_err rc = CARDEA_OK;

    if (out == NULL || !json_is_object(entity) || field == NULL) {
        return CARDEA_EINVAL;
    }
    if ((set = json_object()) == NULL) {
        return CARDEA_ENOMEM;
    }
    items = json_object_get(entity, field);
    for (size_t i = 0; i < json_array_size(items) && rc == CARDEA_OK; i++) {
        rc = add_code(set, json_array_get(items, i));
    }
    return finish(out, set, rc);
}

/*
 * Copies the distinct strings of `items` (none NULL) into `*out`, sorted.
 * `items` itself is sorted in place.
 */
static cardea_err
list_from_pointers(cardea_search_list *out, const char **items, size_t count)
{
    cardea_search_list list = {0};

    qsort(items, count, sizeof *items, compare_strings);
    if (count > 0
        && (list.items = cardea_mem__calloc(count, sizeof *list.items))
               == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        if (list.count > 0 && strcmp(list.items[list.count - 1], items[i])
                                  == 0) {
            continue;
        }
        if ((list.items[list.count] = cardea_mem__strdup(items[i]))
            == NULL) {
            cardea_search__list_free(&list);
            return CARDEA_ENOMEM;
        }
        list.count++;
    }
    *out = list;
    return CARDEA_OK;
}

/*
 * see server/search.h. A request may send a thousand key hashes, so the
 * strings are sorted as pointers rather than collected in a jansson set.
 */
cardea_err
cardea_search__self_keys(cardea_search_list *out,
                         const cardea_access_caller *caller,
                         bool with_ancestors)
{
    const char **items;
    size_t count = 0;
    size_t extra;
    cardea_err rc;

    if (out == NULL || caller == NULL) {
        return CARDEA_EINVAL;
    }
    extra = with_ancestors ? caller->ancestor_count : 0;
    items = cardea_mem__calloc(1 + caller->key_hash_count + extra,
                               sizeof *items);
    if (items == NULL) {
        return CARDEA_ENOMEM;
    }
    if (caller->data_owner_id != NULL) {
        items[count++] = caller->data_owner_id;
    }
    for (size_t i = 0; i < caller->key_hash_count; i++) {
        if (caller->key_hashes[i] != NULL) {
            items[count++] = caller->key_hashes[i];
        }
    }
    for (size_t i = 0; i < extra; i++) {
        if (caller->ancestor_ids[i] != NULL) {
            items[count++] = caller->ancestor_ids[i];
        }
    }
    rc = list_from_pointers(out, items, count);
    cardea_mem__free(items);
    return rc;
}
