/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers over jansson: strict parsing with a depth limit, compact
 * output, and a comparison that treats absent, null and empty containers
 * alike (the official SDK drops empty arrays from entities it sends
 * back, so stored and received metadata differ only in that way).
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

static bool
depth_ok(const json_t *value, int depth)
{
    const char *key;
    json_t *item;
    size_t i;

    if (depth > CARDEA_JSON_MAX_DEPTH) {
        return false;
    }
    if (json_is_object(value)) {
        json_object_foreach((json_t *)value, key, item) {
            if (!depth_ok(item, depth + 1)) {
                return false;
            }
        }
    } else if (json_is_array(value)) {
        json_array_foreach(value, i, item) {
            if (!depth_ok(item, depth + 1)) {
                return false;
            }
        }
    }
    return true;
}

cardea_err
cardea_json__parse(json_t **out, const char *text, size_t len, char *errmsg,
                   size_t errmsg_cap)
{
    json_error_t error;
    json_t *value;

    value = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                       &error);
    if (value == NULL) {
        if (errmsg != NULL && errmsg_cap > 0) {
            snprintf(errmsg, errmsg_cap,
                     "invalid JSON at line %d column %d: %s", error.line,
                     error.column, error.text);
        }
        return CARDEA_EFORMAT;
    }
    if (!depth_ok(value, 1)) {
        json_decref(value);
        if (errmsg != NULL && errmsg_cap > 0) {
            snprintf(errmsg, errmsg_cap,
                     "invalid JSON: nesting deeper than %d levels",
                     CARDEA_JSON_MAX_DEPTH);
        }
        return CARDEA_EFORMAT;
    }
    *out = value;
    return CARDEA_OK;
}

char *
cardea_json__dump(const json_t *value)
{
    return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
}

const char *
cardea_json__get_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

cardea_err
cardea_json__set_str(json_t *obj, const char *key, const char *value)
{
    return cardea_json__set_new(obj, key, json_string(value));
}

cardea_err
cardea_json__set_new(json_t *obj, const char *key, json_t *value)
{
    if (value == NULL) {
        return CARDEA_ENOMEM;
    }
    /* json_object_set_new drops the reference itself when it fails. */
    if (json_object_set_new(obj, key, value) != 0) {
        return CARDEA_ENOMEM;
    }
    return CARDEA_OK;
}

cardea_err
cardea_json__append_new(json_t *array, json_t *value)
{
    if (value == NULL) {
        return CARDEA_ENOMEM;
    }
    if (json_array_append_new(array, value) != 0) {
        return CARDEA_ENOMEM;
    }
    return CARDEA_OK;
}

/* Absent, null, [] or an object whose members are all empty. */
static bool
is_empty(const json_t *value)
{
    const char *key;
    json_t *item;

    if (value == NULL || json_is_null(value)) {
        return true;
    }
    if (json_is_array(value)) {
        return json_array_size(value) == 0;
    }
    if (!json_is_object(value)) {
        return false;
    }
    json_object_foreach((json_t *)value, key, item) {
        if (!is_empty(item)) {
            return false;
        }
    }
    return true;
}

static bool
objects_equal_loose(const json_t *a, const json_t *b)
{
    const char *key;
    json_t *item;

    json_object_foreach((json_t *)a, key, item) {
        if (!cardea_json__equal_loose(item, json_object_get(b, key))) {
            return false;
        }
    }
    /* Keys only in b must be empty, which the loop above did not see. */
    json_object_foreach((json_t *)b, key, item) {
        if (json_object_get(a, key) == NULL && !is_empty(item)) {
            return false;
        }
    }
    return true;
}

bool
cardea_json__equal_loose(const json_t *a, const json_t *b)
{
    if (is_empty(a) || is_empty(b)) {
        return is_empty(a) && is_empty(b);
    }
    if (json_is_object(a) && json_is_object(b)) {
        return objects_equal_loose(a, b);
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) {
            return false;
        }
        for (size_t i = 0; i < json_array_size(a); i++) {
            if (!cardea_json__equal_loose(json_array_get(a, i),
                                          json_array_get(b, i))) {
                return false;
            }
        }
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b) != 0;
}
