/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser for the `$type` filters of `POST /<entity>/match`. The contract
 * and the list of supported filters are in server/filter.h. Each leaf
 * filter is described by one row of a table, so adding a filter of a
 * known shape is one line.
 */
#include "server/filter.h"

#include <string.h>

#include "base/base.h"

typedef struct filter_spec {
    const char *name;
    const char *entity_type;
    cardea_filter_kind kind;
    const char *owner_field;    /* data-owner id field, NULL if none */
    bool owner_required;        /* else missing means "the caller" */
    const char *values_field;   /* ids or secret foreign keys */
    const char *date_field;     /* entity field the date range applies to */
    const char *start_field;
    const char *end_field;
} filter_spec;

static const filter_spec specs[] = {
    {"PatientByHcPartyFilter", "Patient", CARDEA_FILTER_BY_DATA_OWNER,
     "healthcarePartyId", false, NULL, NULL, NULL, NULL},
    {"HealthElementByHcPartyFilter", "HealthElement",
     CARDEA_FILTER_BY_DATA_OWNER, "hcpId", true, NULL, NULL, NULL, NULL},
    {"ContactByHcPartyFilter", "Contact", CARDEA_FILTER_BY_DATA_OWNER,
     "hcpId", true, NULL, NULL, NULL, NULL},
    {"MaintenanceTaskByHcPartyAndTypeFilter", "MaintenanceTask",
     CARDEA_FILTER_BY_DATA_OWNER_AND_TYPE, "healthcarePartyId", false, NULL,
     NULL, NULL, NULL},
    {"PatientByIdsFilter", "Patient", CARDEA_FILTER_BY_IDS, NULL, false,
     "ids", NULL, NULL, NULL},
    {"HealthElementByIdsFilter", "HealthElement", CARDEA_FILTER_BY_IDS, NULL,
     false, "ids", NULL, NULL, NULL},
    {"MaintenanceTaskByIdsFilter", "MaintenanceTask", CARDEA_FILTER_BY_IDS,
     NULL, false, "ids", NULL, NULL, NULL},
    {"HealthElementByDataOwnerPatientOpeningDate", "HealthElement",
     CARDEA_FILTER_BY_SECRET_FOREIGN_KEYS, "healthcarePartyId", true,
     "patientSecretForeignKeys", "openingDate", "startDate", "endDate"},
    {"HealthElementByHcPartySecretForeignKeysFilter", "HealthElement",
     CARDEA_FILTER_BY_SECRET_FOREIGN_KEYS, "healthcarePartyId", false,
     "patientSecretForeignKeys", NULL, NULL, NULL},
    {"ContactByDataOwnerPatientOpeningDateFilter", "Contact",
     CARDEA_FILTER_BY_SECRET_FOREIGN_KEYS, "dataOwnerId", true,
     "secretForeignKeys", "openingDate", "startDate", "endDate"},
    {"DocumentByDataOwnerPatientDateFilter", "Document",
     CARDEA_FILTER_BY_SECRET_FOREIGN_KEYS, "dataOwnerId", true,
     "secretPatientKeys", "created", "startDate", "endDate"},
    {"HealthElementByHcPartyTagCodeFilter", "HealthElement",
     CARDEA_FILTER_BY_TAG_CODE, "healthcarePartyId", true, NULL, NULL, NULL,
     NULL},
    {"ContactByHcPartyTagCodeDateFilter", "Contact",
     CARDEA_FILTER_BY_TAG_CODE, "healthcarePartyId", false, NULL,
     "openingDate", "startOfContactOpeningDate", "endOfContactOpeningDate"},
};

static const filter_spec *
find_spec(const char *name)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        if (strcmp(specs[i].name, name) == 0) {
            return &specs[i];
        }
    }
    return NULL;
}

/* see server/filter.h */
void
cardea_filter__free(cardea_filter *filter)
{
    if (filter == NULL) {
        return;
    }
    for (size_t i = 0; i < filter->child_count; i++) {
        cardea_filter__free(filter->children[i]);
    }
    cardea_mem__free(filter->children);
    cardea_mem__free(filter->data_owner_id);
    cardea_search__list_free(&filter->data_owner_keys);
    cardea_mem__free(filter->task_type);
    cardea_search__list_free(&filter->values);
    cardea_mem__free(filter->tag_key);
    cardea_mem__free(filter->code_key);
    cardea_mem__free(filter);
}

static bool
is_ground(const json_t *value)
{
    return value == NULL || json_is_null(value);
}

/*
 * Reads the optional string `field`: `*out` is NULL when it is missing
 * or null. CARDEA_EINVAL with `*err` set for any other non-string value.
 */
static cardea_err
optional_string(const char **out, cardea_access_error *err,
                const filter_spec *spec, const json_t *json,
                const char *field)
{
    const json_t *value = json_object_get(json, field);

    if (!is_ground(value) && !json_is_string(value)) {
        cardea_access__set_error(err, 400, "filter %s: %s must be a string",
                                 spec->name, field);
        return CARDEA_EINVAL;
    }
    *out = json_string_value(value);
    return CARDEA_OK;
}

static cardea_err
set_owner(cardea_filter *filter, cardea_access_error *err,
          const cardea_access_caller *caller, const filter_spec *spec,
          const json_t *json)
{
    const char *owner = NULL;
    json_t *single;
    cardea_err rc;

    if ((rc = optional_string(&owner, err, spec, json, spec->owner_field)) !=
        CARDEA_OK) {
        return rc;
    }
    if (owner == NULL && spec->owner_required) {
        cardea_access__set_error(err, 400, "filter %s: %s is missing",
                                 spec->name, spec->owner_field);
        return CARDEA_EINVAL;
    }

    /* The caller's own id, named or implied, also stands for the hashes
       of the keys it sent: anonymous delegations are indexed by hash. */
    if (owner == NULL || (caller->data_owner_id != NULL &&
                          strcmp(owner, caller->data_owner_id) == 0)) {
        owner = caller->data_owner_id;
        rc = cardea_search__self_keys(&filter->data_owner_keys, caller,
                                      false);
    } else {
        if ((single = json_pack("[s]", owner)) == NULL) {
            return CARDEA_ENOMEM;
        }
        rc = cardea_search__list_from_strings(&filter->data_owner_keys,
                                              single);
        json_decref(single);
    }
    if (rc == CARDEA_OK && owner != NULL &&
        (filter->data_owner_id = cardea_mem__strdup(owner)) == NULL) {
        rc = CARDEA_ENOMEM;
    }
    return rc;
}

static cardea_err
set_values(cardea_filter *filter, cardea_access_error *err,
           const filter_spec *spec, const json_t *json)
{
    const json_t *values = json_object_get(json, spec->values_field);
    cardea_err rc;

    if (json_array_size(values) > CARDEA_FILTER_MAX_VALUES) {
        cardea_access__set_error(err, 400, "filter %s: %s lists more than "
                                 "%d values", spec->name, spec->values_field,
                                 CARDEA_FILTER_MAX_VALUES);
        return CARDEA_ETOOBIG;
    }
    rc = cardea_search__list_from_strings(&filter->values, values);
    if (rc == CARDEA_EINVAL) {
        cardea_access__set_error(err, 400, "filter %s: %s must be an array "
                                 "of strings", spec->name,
                                 spec->values_field);
    }
    return rc;
}

/* Reads one `{prefix}Type` / `{prefix}Code` pair into a search key. */
static cardea_err
set_code_key(char **out, cardea_access_error *err, const filter_spec *spec,
             const json_t *json, const char *type_field,
             const char *code_field)
{
    const char *type = NULL, *code = NULL;
    cardea_err rc;

    if ((rc = optional_string(&type, err, spec, json, type_field)) ||
        (rc = optional_string(&code, err, spec, json, code_field))) {
        return rc;
    }
    if (type == NULL) {
        if (code != NULL) {
            cardea_access__set_error(err, 400, "filter %s: %s needs %s",
                                     spec->name, code_field, type_field);
            return CARDEA_EINVAL;
        }
        return CARDEA_OK;
    }
    rc = cardea_search__code_key(out, type, code);
    if (rc == CARDEA_EINVAL) {
        cardea_access__set_error(err, 400, "filter %s: %s and %s must not "
                                 "contain '|'", spec->name, type_field,
                                 code_field);
    }
    return rc;
}

static cardea_err
set_tag_code(cardea_filter *filter, cardea_access_error *err,
             const filter_spec *spec, const json_t *json)
{
    cardea_err rc;

    if ((rc = set_code_key(&filter->tag_key, err, spec, json, "tagType",
                           "tagCode")) != CARDEA_OK ||
        (rc = set_code_key(&filter->code_key, err, spec, json, "codeType",
                           "codeCode")) != CARDEA_OK) {
        return rc;
    }
    if (!is_ground(json_object_get(json, "status"))) {
        cardea_access__set_error(err, 400, "filter %s: status is not "
                                 "supported", spec->name);
        return CARDEA_EUNSUPPORTED;
    }
    if (filter->tag_key == NULL && filter->code_key == NULL) {
        cardea_access__set_error(err, 400, "filter %s: tagType or codeType "
                                 "is required", spec->name);
        return CARDEA_EINVAL;
    }
    return CARDEA_OK;
}

static cardea_err
read_date(bool *has, int64_t *value, cardea_access_error *err,
          const filter_spec *spec, const json_t *json, const char *field)
{
    const json_t *date = json_object_get(json, field);

    if (is_ground(date)) {
        return CARDEA_OK;
    }
    if (!json_is_integer(date)) {
        cardea_access__set_error(err, 400, "filter %s: %s must be an "
                                 "integer", spec->name, field);
        return CARDEA_EINVAL;
    }
    *has = true;
    *value = (int64_t)json_integer_value(date);
    return CARDEA_OK;
}

static cardea_err
set_dates(cardea_filter *filter, cardea_access_error *err,
          const filter_spec *spec, const json_t *json)
{
    const json_t *descending = json_object_get(json, "descending");
    cardea_err rc;

    filter->date_field = spec->date_field;
    if ((rc = read_date(&filter->has_start, &filter->start, err, spec, json,
                        spec->start_field)) != CARDEA_OK ||
        (rc = read_date(&filter->has_end, &filter->end, err, spec, json,
                        spec->end_field)) != CARDEA_OK) {
        return rc;
    }
    if (!is_ground(descending) && !json_is_boolean(descending)) {
        cardea_access__set_error(err, 400, "filter %s: descending must be a "
                                 "boolean", spec->name);
        return CARDEA_EINVAL;
    }
    filter->descending = json_is_true(descending);
    return CARDEA_OK;
}

static cardea_err
parse_leaf(cardea_filter *filter, cardea_access_error *err,
           const cardea_access_caller *caller, const filter_spec *spec,
           const json_t *json)
{
    const char *type = NULL;
    cardea_err rc = CARDEA_OK;

    filter->kind = spec->kind;
    filter->name = spec->name;
    filter->entity_type = spec->entity_type;
    if (spec->owner_field != NULL &&
        (rc = set_owner(filter, err, caller, spec, json)) != CARDEA_OK) {
        return rc;
    }
    if (spec->values_field != NULL &&
        (rc = set_values(filter, err, spec, json)) != CARDEA_OK) {
        return rc;
    }
    if (spec->date_field != NULL &&
        (rc = set_dates(filter, err, spec, json)) != CARDEA_OK) {
        return rc;
    }
    if (spec->kind == CARDEA_FILTER_BY_TAG_CODE) {
        return set_tag_code(filter, err, spec, json);
    }
    if (spec->kind != CARDEA_FILTER_BY_DATA_OWNER_AND_TYPE) {
        return CARDEA_OK;
    }
    if ((rc = optional_string(&type, err, spec, json, "type")) != CARDEA_OK) {
        return rc;
    }
    if (type == NULL) {
        cardea_access__set_error(err, 400, "filter %s: type is missing",
                                 spec->name);
        return CARDEA_EINVAL;
    }
    filter->task_type = cardea_mem__strdup(type);
    return filter->task_type != NULL ? CARDEA_OK : CARDEA_ENOMEM;
}

static cardea_err parse_node(cardea_filter **out, cardea_access_error *err,
                             const cardea_access_caller *caller,
                             const char *entity_type, const json_t *json,
                             unsigned depth);

static cardea_err
parse_combination(cardea_filter *filter, cardea_access_error *err,
                  const cardea_access_caller *caller, const char *entity_type,
                  const json_t *json, unsigned depth)
{
    const json_t *children = json_object_get(json, "filters");
    size_t count = json_array_size(children);
    cardea_err rc;

    if (!json_is_array(children) || count == 0) {
        cardea_access__set_error(err, 400, "filter %s: filters must be a "
                                 "non-empty array", filter->name);
        return CARDEA_EINVAL;
    }
    if (count > CARDEA_FILTER_MAX_CHILDREN) {
        cardea_access__set_error(err, 400, "filter %s: more than %d filters",
                                 filter->name, CARDEA_FILTER_MAX_CHILDREN);
        return CARDEA_ETOOBIG;
    }
    filter->children = cardea_mem__calloc(count, sizeof *filter->children);
    if (filter->children == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        rc = parse_node(&filter->children[i], err, caller, entity_type,
                        json_array_get(children, i), depth + 1);
        if (rc != CARDEA_OK) {
            return rc;
        }
        filter->child_count++;
    }
    return CARDEA_OK;
}

static cardea_err
parse_node(cardea_filter **out, cardea_access_error *err,
           const cardea_access_caller *caller, const char *entity_type,
           const json_t *json, unsigned depth)
{
    const char *name = cardea_json__get_str(json, "$type");
    const filter_spec *spec = NULL;
    cardea_filter *filter;
    cardea_err rc;

    if (depth >= CARDEA_FILTER_MAX_DEPTH) {
        cardea_access__set_error(err, 400, "filters are nested more than "
                                 "%d deep", CARDEA_FILTER_MAX_DEPTH);
        return CARDEA_ETOOBIG;
    }
    if (!json_is_object(json) || name == NULL) {
        cardea_access__set_error(err, 400, "a filter must be an object with "
                                 "a string $type");
        return CARDEA_EINVAL;
    }
    if (strcmp(name, "UnionFilter") != 0 &&
        strcmp(name, "IntersectionFilter") != 0) {
        if ((spec = find_spec(name)) == NULL) {
            cardea_access__set_error(err, 400, "unknown filter %.80s", name);
            return CARDEA_EINVAL;
        }
        if (entity_type != NULL && strcmp(entity_type,
                                          spec->entity_type) != 0) {
            cardea_access__set_error(err, 400, "filter %s does not apply to "
                                     "%.40s entities", name, entity_type);
            return CARDEA_EINVAL;
        }
    }

    if ((filter = cardea_mem__calloc(1, sizeof *filter)) == NULL) {
        return CARDEA_ENOMEM;
    }
    if (spec != NULL) {
        rc = parse_leaf(filter, err, caller, spec, json);
    } else {
        bool is_union = strcmp(name, "UnionFilter") == 0;

        filter->kind = is_union ? CARDEA_FILTER_UNION
                                : CARDEA_FILTER_INTERSECTION;
        filter->name = is_union ? "UnionFilter" : "IntersectionFilter";
        rc = parse_combination(filter, err, caller, entity_type, json, depth);
    }
    if (rc != CARDEA_OK) {
        cardea_filter__free(filter);
        return rc;
    }
    *out = filter;
    return CARDEA_OK;
}

/* see server/filter.h */
cardea_err
cardea_filter__parse(cardea_filter **out, cardea_access_error *err,
                     const cardea_access_caller *caller,
                     const char *entity_type, const json_t *json)
{
    if (out == NULL || caller == NULL) {
        cardea_access__set_error(err, 400, "no filter or caller");
        return CARDEA_EINVAL;
    }
    return parse_node(out, err, caller, entity_type, json, 0);
}
