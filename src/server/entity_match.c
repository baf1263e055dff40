/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `POST /<entity>/match`: runs a parsed filter (server/filter.h) against
 * the entity index and returns the ids of the live entities it selects
 * that the caller may read. Each leaf looks up the index; conditions the
 * index does not hold (a maintenance task's type, a date range) are
 * checked on the stored entity. Filters may name any data owner, so every
 * result is checked with cardea_access__level before it is returned.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "server/filter.h"
#include "server/server_internal.h"

/* Ids are collected in sets: JSON objects whose keys are the ids. */

static cardea_err
find_set(json_t **out, cardea_db *db, const char *type,
         cardea_index_kind kind, const char *const *values, size_t count)
{
    json_t *ids = json_array();
    json_t *set = json_object();
    cardea_err err = ids != NULL && set != NULL ? CARDEA_OK : CARDEA_ENOMEM;

    if (err == CARDEA_OK && count > 0) {
        err = cardea_db__index_find(ids, db, type, kind, values, count);
    }
    for (size_t i = 0; err == CARDEA_OK && i < json_array_size(ids); i++) {
        if (json_object_set_new(set, json_string_value(json_array_get(ids, i)),
                                json_true()) != 0) {
            err = CARDEA_ENOMEM;
        }
    }
    json_decref(ids);
    if (err != CARDEA_OK) {
        json_decref(set);
        return err;
    }
    *out = set;
    return CARDEA_OK;
}

static cardea_err
find_list(json_t **out, cardea_db *db, const char *type,
          cardea_index_kind kind, const cardea_search_list *list)
{
    return find_set(out, db, type, kind, (const char *const *)list->items,
                    list->count);
}

/* Removes from `set` every id that `other` does not contain. */
static void
intersect(json_t *set, const json_t *other)
{
    const char *id;
    json_t *value;
    void *tmp;

    json_object_foreach_safe(set, tmp, id, value) {
        (void)value;
        if (json_object_get(other, id) == NULL) {
            (void)json_object_del(set, id);
        }
    }
}

/* True when the stored entity meets the leaf's non-index conditions. */
static bool
entity_fits(const cardea_filter *filter, const json_t *doc)
{
    if (filter->task_type != NULL) {
        const char *type = cardea_json__get_str(doc, "taskType");

        if (type == NULL || strcmp(type, filter->task_type) != 0) {
            return false;
        }
    }
    if (filter->date_field != NULL
        && (filter->has_start || filter->has_end)) {
        const json_t *date = json_object_get(doc, filter->date_field);
        json_int_t value;

        if (!json_is_integer(date)) {
            return false;
        }
        value = json_integer_value(date);
        if ((filter->has_start && value < filter->start)
            || (filter->has_end && value > filter->end)) {
            return false;
        }
    }
    return true;
}

/* Drops from `set` the entities that miss the leaf's other conditions. */
static cardea_err
check_entities(json_t *set, cardea_db *db, const char *type,
               const cardea_filter *filter)
{
    const char *id;
    json_t *value;
    void *tmp;

    if (filter->task_type == NULL
        && (filter->date_field == NULL
            || (!filter->has_start && !filter->has_end))) {
        return CARDEA_OK;
    }
    json_object_foreach_safe(set, tmp, id, value) {
        json_t *doc = NULL;
        cardea_err err = cardea_entity__load(&doc, db, type, id);

        (void)value;
        if (err != CARDEA_OK && err != CARDEA_ENOTFOUND) {
            return err;
        }
        if (err == CARDEA_ENOTFOUND || !entity_fits(filter, doc)) {
            (void)json_object_del(set, id);
        }
        json_decref(doc);
    }
    return CARDEA_OK;
}

/* Intersects `set` with the index rows (`kind`, `value`). */
static cardea_err
narrow(json_t *set, cardea_db *db, const char *type, cardea_index_kind kind,
       const char *value)
{
    json_t *other = NULL;
    cardea_err err = find_set(&other, db, type, kind, &value, 1);

    if (err == CARDEA_OK) {
        intersect(set, other);
    }
    json_decref(other);
    return err;
}

static cardea_err
eval_leaf(json_t **out, cardea_db *db, const char *type,
          const cardea_filter *filter)
{
    json_t *set = NULL;
    json_t *other = NULL;
    cardea_err err;

    if (filter->kind == CARDEA_FILTER_BY_IDS) {
        err = find_set(&set, db, type, 0, NULL, 0);
        for (size_t i = 0; err == CARDEA_OK && i < filter->values.count;
             i++) {
            if (json_object_set_new(set, filter->values.items[i],
                                    json_true()) != 0) {
                err = CARDEA_ENOMEM;
            }
        }
    } else {
        err = find_list(&set, db, type, CARDEA_INDEX_SEARCH_KEY,
                        &filter->data_owner_keys);
    }
    if (err == CARDEA_OK
        && filter->kind == CARDEA_FILTER_BY_SECRET_FOREIGN_KEYS
        && (err = find_list(&other, db, type, CARDEA_INDEX_SECRET_FK,
                            &filter->values)) == CARDEA_OK) {
        intersect(set, other);
    }
    if (err == CARDEA_OK && filter->tag_key != NULL) {
        err = narrow(set, db, type, CARDEA_INDEX_TAG, filter->tag_key);
    }
    if (err == CARDEA_OK && filter->code_key != NULL) {
        err = narrow(set, db, type, CARDEA_INDEX_CODE, filter->code_key);
    }
    if (err == CARDEA_OK) {
        err = check_entities(set, db, type, filter);
    }
    json_decref(other);
    if (err != CARDEA_OK) {
        json_decref(set);
        return err;
    }
    *out = set;
    return CARDEA_OK;
}

static cardea_err
eval_filter(json_t **out, cardea_db *db, const char *type,
            const cardea_filter *filter)
{
    json_t *set = NULL;
    cardea_err err = CARDEA_OK;

    if (filter->kind != CARDEA_FILTER_UNION
        && filter->kind != CARDEA_FILTER_INTERSECTION) {
        return eval_leaf(out, db, type, filter);
    }
    for (size_t i = 0; err == CARDEA_OK && i < filter->child_count; i++) {
        json_t *child = NULL;

        err = eval_filter(&child, db, type, filter->children[i]);
        if (err != CARDEA_OK) {
            break;
        }
        if (set == NULL) {
            set = child;
            continue;
        }
        if (filter->kind == CARDEA_FILTER_UNION) {
            err = json_object_update(set, child) == 0 ? CARDEA_OK
                                                      : CARDEA_ENOMEM;
        } else {
            intersect(set, child);
        }
        json_decref(child);
    }
    if (err == CARDEA_OK && set == NULL && (set = json_object()) == NULL) {
        err = CARDEA_ENOMEM;
    }
    if (err != CARDEA_OK) {
        json_decref(set);
        return err;
    }
    *out = set;
    return CARDEA_OK;
}

static int
compare_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lists the ids of `set` that are live and readable, sorted. */
static cardea_err
readable_ids(json_t **out, cardea_db *db, const cardea_entity_req *ereq,
             const json_t *set)
{
    const char **ids = cardea_mem__calloc(json_object_size(set) + 1,
                                          sizeof *ids);
    json_t *list = json_array();
    size_t count = 0;
    cardea_err err = ids != NULL && list != NULL ? CARDEA_OK : CARDEA_ENOMEM;
    const char *id;
    json_t *value;

    json_object_foreach((json_t *)set, id, value) {
        json_t *doc = NULL;

        (void)value;
        if (err != CARDEA_OK) {
            break;
        }
        err = cardea_entity__load(&doc, db, ereq->kind->type, id);
        if (err == CARDEA_OK && json_object_get(doc, "deleted") == NULL
            && cardea_access__level(&ereq->caller, doc)
                   >= CARDEA_ACCESS_READ) {
            ids[count++] = id;
        }
        err = err == CARDEA_ENOTFOUND ? CARDEA_OK : err;
        json_decref(doc);
    }
    if (err == CARDEA_OK) {
        qsort(ids, count, sizeof *ids, compare_ids);
    }
    for (size_t i = 0; err == CARDEA_OK && i < count; i++) {
        err = cardea_json__append_new(list, json_string(ids[i]));
    }
    cardea_mem__free(ids);
    if (err != CARDEA_OK) {
        json_decref(list);
        return err;
    }
    *out = list;
    return CARDEA_OK;
}

void
cardea_entity__match(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_entity_req ereq;
    cardea_access_error aerr;
    cardea_filter *filter = NULL;
    json_t *body = NULL;
    json_t *set = NULL;
    json_t *ids = NULL;
    cardea_db *db = NULL;
    cardea_err err;

    if (!cardea_entity__begin(&ereq, resp, req)) {
        return;
    }
    if ((body = cardea_http__body_json(resp, req, true)) == NULL) {
        goto out;
    }
    err = cardea_filter__parse(&filter, &aerr, &ereq.caller,
                               ereq.kind->type, body);
    if (err != CARDEA_OK) {
        if (err == CARDEA_ENOMEM) {
            cardea_http__error(resp, 500, "out of memory");
        } else {
            cardea_entity__send_error(resp, &aerr);
        }
        goto out;
    }
    if ((db = cardea_http__db(resp, req)) == NULL) {
        goto out;
    }
    err = eval_filter(&set, db, ereq.kind->type, filter);
    if (err == CARDEA_OK) {
        err = readable_ids(&ids, db, &ereq, set);
    }
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "filter");
    } else {
        cardea_http__json(resp, 200, ids);
    }

out:
    cardea_http__db_release(req, db);
    cardea_filter__free(filter);
    json_decref(set);
    json_decref(body);
    cardea_entity__end(&ereq);
}
