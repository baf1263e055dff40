/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The export side of the FHIR mapping: builds a Bundle of type
 * "collection" from the decrypted entities of one patient, as the inverse
 * of fhir_import.c, and compares entities field by field for round-trip
 * checks. The rules are in cli/fhir.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/fhir.h"
#include "cli/fhir_internal.h"

/* Prefix of export error messages, where the import names the file. */
#define EXPORT_NAME "export"

typedef struct export_ctx {
    char *errmsg;
    size_t errmsg_cap;
    const char *where;      /* id of the entity being exported */
    char subject[64];       /* "urn:uuid:<patient id>" */
    json_t *entries;        /* the Bundle's entry array */
} export_ctx;

static cardea_err
fail(export_ctx *ctx, cardea_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cardea_err
fail(export_ctx *ctx, cardea_err err, const char *fmt, ...)
{
    char text[CARDEA_FHIR_ERRMSG_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cardea_fhir__set_error(ctx->errmsg, ctx->errmsg_cap, EXPORT_NAME, "%s",
                           text);
    return err;
}

static cardea_err
check(export_ctx *ctx, cardea_err err)
{
    if (err == CARDEA_ENOMEM) {
        return fail(ctx, err, "out of memory while building the bundle");
    }
    if (err != CARDEA_OK) {
        return fail(ctx, err, "%s: %s", ctx->where, cardea_strerror(err));
    }
    return CARDEA_OK;
}

/* ---- reading entity members --------------------------------------------- */

/* Gives the string member `key`, NULL when absent; rejects other types. */
static cardea_err
get_string(const char **out, export_ctx *ctx, const json_t *obj,
           const char *key)
{
    const json_t *value = json_object_get(obj, key);

    *out = NULL;
    if (value == NULL || json_is_null(value)) {
        return CARDEA_OK;
    }
    if (!json_is_string(value)) {
        return fail(ctx, CARDEA_EINVAL, "entity %s: %s must be a string",
                    ctx->where, key);
    }
    *out = json_string_value(value);
    return CARDEA_OK;
}

/* Gives the integral number member `key`; *present is false if absent. */
static cardea_err
get_integer(int64_t *out, bool *present, export_ctx *ctx, const json_t *obj,
            const char *key)
{
    const json_t *value = json_object_get(obj, key);
    double number;

    *present = false;
    if (value == NULL || json_is_null(value)) {
        return CARDEA_OK;
    }
    number = json_number_value(value);
    if (!json_is_number(value) || number < 0 || number > 1e15 ||
        number != (double)(int64_t)number) {
        return fail(ctx, CARDEA_EINVAL,
                    "entity %s: %s must be a whole number", ctx->where, key);
    }
    *out = (int64_t)number;
    *present = true;
    return CARDEA_OK;
}

/* Array member `key`, or NULL; rejects other types. */
static cardea_err
get_array(const json_t **out, export_ctx *ctx, const json_t *obj,
          const char *key)
{
    const json_t *value = json_object_get(obj, key);

    *out = NULL;
    if (value == NULL || json_is_null(value)) {
        return CARDEA_OK;
    }
    if (!json_is_array(value)) {
        return fail(ctx, CARDEA_EINVAL, "entity %s: %s must be an array",
                    ctx->where, key);
    }
    *out = value;
    return CARDEA_OK;
}

/* ---- writing resource members ------------------------------------------- */

static cardea_err
put_str(export_ctx *ctx, json_t *obj, const char *key, const char *value)
{
    if (value == NULL) {
        return CARDEA_OK;
    }
    return check(ctx, cardea_json__set_str(obj, key, value));
}

/* Sets obj[key] unless `value` is empty; takes the reference. */
static cardea_err
put_nonempty(export_ctx *ctx, json_t *obj, const char *key, json_t *value)
{
    if (value == NULL) {
        return check(ctx, CARDEA_ENOMEM);
    }
    if ((json_is_array(value) && json_array_size(value) == 0) ||
        (json_is_object(value) && json_object_size(value) == 0)) {
        json_decref(value);
        return CARDEA_OK;
    }
    return check(ctx, cardea_json__set_new(obj, key, value));
}

/* Sets obj[key] to a copy of member `from` of `src`, when present. */
static cardea_err
put_copy(export_ctx *ctx, json_t *obj, const char *key, const json_t *src,
         const char *from)
{
    const json_t *value = json_object_get(src, from);

    if (value == NULL || json_is_null(value)) {
        return CARDEA_OK;
    }
    return check(ctx, cardea_json__set_new(obj, key, json_deep_copy(value)));
}

/* Sets {"reference": "urn:uuid:<id>"} under `key`. */
static cardea_err
put_reference(export_ctx *ctx, json_t *obj, const char *key, const char *id)
{
    char ref[64];

    snprintf(ref, sizeof ref, "urn:uuid:%s", id);
    return check(ctx, cardea_json__set_new(obj, key,
                                           json_pack("{ss}", "reference",
                                                     ref)));
}

/*
 * Writes an iCure fuzzy date (YYYYMMDD) or date-time (YYYYMMDDhhmmss, in
 * UTC) as a FHIR date or dateTime, dropping the parts that are zero.
 */
static void
format_fuzzy(char out[32], int64_t value)
{
    int64_t date = value >= 100000000 ? value / 1000000 : value;
    int64_t time = value >= 100000000 ? value % 1000000 : 0;
    int year = (int)(date / 10000), month = (int)(date / 100 % 100);
    int day = (int)(date % 100);

    if (month == 0) {
        snprintf(out, 32, "%04d", year);
    } else if (day == 0) {
        snprintf(out, 32, "%04d-%02d", year, month);
    } else if (time == 0) {
        snprintf(out, 32, "%04d-%02d-%02d", year, month, day);
    } else {
        snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day,
                 (int)(time / 10000), (int)(time / 100 % 100),
                 (int)(time % 100));
    }
}

/* Sets obj[key] from the fuzzy date member `from` of `src`. */
static cardea_err
put_date(export_ctx *ctx, json_t *obj, const char *key, const json_t *src,
         const char *from)
{
    char text[32];
    int64_t value;
    bool present;
    cardea_err err;

    if ((err = get_integer(&value, &present, ctx, src, from)) != CARDEA_OK ||
        !present) {
        return err;
    }
    format_fuzzy(text, value);
    return put_str(ctx, obj, key, text);
}

/* Builds a CodeableConcept from iCure codes and a text (both optional). */
static cardea_err
concept(json_t **out, export_ctx *ctx, const json_t *entity,
        const char *text)
{
    const json_t *codes, *code;
    json_t *result, *codings;
    cardea_err err;
    size_t i;

    if ((err = get_array(&codes, ctx, entity, "codes")) != CARDEA_OK) {
        return err;
    }
    if ((result = json_object()) == NULL || (codings = json_array()) == NULL) {
        json_decref(result);
        return check(ctx, CARDEA_ENOMEM);
    }
    json_array_foreach(codes, i, code) {
        const char *type = cardea_json__get_str(code, "type");
        const char *value = cardea_json__get_str(code, "code");
        const char *version = cardea_json__get_str(code, "version");

        if (type == NULL || value == NULL) {
            continue;
        }
        err = check(ctx, cardea_json__append_new(
                             codings,
                             version != NULL
                                 ? json_pack("{ssssss}", "system",
                                             cardea_fhir__code_system(type),
                                             "code", value, "version",
                                             version)
                                 : json_pack("{ssss}", "system",
                                             cardea_fhir__code_system(type),
                                             "code", value)));
        if (err != CARDEA_OK) {
            break;
        }
    }
    if (err != CARDEA_OK) {
        json_decref(codings);
        json_decref(result);
        return err;
    }
    if ((err = put_nonempty(ctx, result, "coding", codings)) != CARDEA_OK ||
        (err = put_str(ctx, result, "text", text)) != CARDEA_OK) {
        json_decref(result);
        return err;
    }
    *out = result;
    return CARDEA_OK;
}

/* Creates a resource {"resourceType": type, "id": id}. */
static cardea_err
new_resource(json_t **out, export_ctx *ctx, const char *type, const char *id)
{
    json_t *res = json_pack("{ssss}", "resourceType", type, "id", id);

    if (res == NULL) {
        return check(ctx, CARDEA_ENOMEM);
    }
    *out = res;
    return CARDEA_OK;
}

/* Appends {"fullUrl": "urn:uuid:<id>", "resource": res}; takes `res`. */
static cardea_err
add_entry(export_ctx *ctx, json_t *res)
{
    char url[64];

    snprintf(url, sizeof url, "urn:uuid:%s",
             cardea_json__get_str(res, "id"));
    return check(ctx, cardea_json__append_new(
                          ctx->entries,
                          json_pack("{ssso}", "fullUrl", url, "resource",
                                    res)));
}

/* ---- Patient ------------------------------------------------------------ */

static cardea_err
human_names(export_ctx *ctx, json_t *res, const json_t *patient)
{
    const json_t *names, *name;
    json_t *list = json_array();
    cardea_err err;
    size_t i;

    if (list == NULL) {
        return check(ctx, CARDEA_ENOMEM);
    }
    if ((err = get_array(&names, ctx, patient, "names")) != CARDEA_OK) {
        json_decref(list);
        return err;
    }
    json_array_foreach(names, i, name) {
        json_t *human = json_object();

        if ((err = check(ctx, cardea_json__append_new(list, human))) ||
            (err = put_copy(ctx, human, "use", name, "use")) ||
            (err = put_copy(ctx, human, "text", name, "text")) ||
            (err = put_copy(ctx, human, "family", name, "lastName")) ||
            (err = put_copy(ctx, human, "given", name, "firstNames")) ||
            (err = put_copy(ctx, human, "prefix", name, "prefix")) ||
            (err = put_copy(ctx, human, "suffix", name, "suffix"))) {
            json_decref(list);
            return err;
        }
    }

    /* Entities made elsewhere may carry only firstName and lastName. */
    if (json_array_size(list) == 0 &&
        (json_object_get(patient, "firstName") != NULL ||
         json_object_get(patient, "lastName") != NULL)) {
        json_t *human = json_object();

        if ((err = check(ctx, cardea_json__append_new(list, human))) ||
            (err = put_copy(ctx, human, "family", patient, "lastName")) ||
            (json_is_string(json_object_get(patient, "firstName")) &&
             (err = check(ctx, cardea_json__set_new(
                                   human, "given",
                                   json_pack("[O]", json_object_get(
                                                        patient,
                                                        "firstName"))))))) {
            json_decref(list);
            return err;
        }
    }
    return put_nonempty(ctx, res, "name", list);
}

/* Maps an iCure Telecom to a FHIR ContactPoint appended to `list`. */
static cardea_err
contact_point(export_ctx *ctx, json_t *list, const json_t *telecom)
{
    static const char *const systems[][2] = {
        {"phone", "phone"}, {"fax", "fax"}, {"email", "email"},
        {"pager", "pager"}, {"web", "url"},
    };
    const char *type = cardea_json__get_str(telecom, "telecomType");
    const char *system = "other";
    json_t *point = json_object();
    cardea_err err;

    for (size_t i = 0; type != NULL && i < sizeof systems / sizeof systems[0];
         i++) {
        if (strcmp(systems[i][0], type) == 0) {
            system = systems[i][1];
        }
    }
    if (type != NULL && strcmp(type, "mobile") == 0) {
        system = "phone";
    }
    if ((err = check(ctx, cardea_json__append_new(list, point))) ||
        (err = put_str(ctx, point, "system", system)) ||
        (err = put_copy(ctx, point, "value", telecom, "telecomNumber"))) {
        return err;
    }
    if (type != NULL && strcmp(type, "mobile") == 0) {
        return put_str(ctx, point, "use", "mobile");
    }
    return CARDEA_OK;
}

/* Appends the `len` bytes at `text` to `lines` as one string. */
static cardea_err
append_line(json_t *lines, const char *text, size_t len)
{
    char *copy = cardea_mem__strndup(text, len);
    cardea_err err;

    if (copy == NULL) {
        return CARDEA_ENOMEM;
    }
    err = cardea_json__append_new(lines, json_string(copy));
    cardea_mem__free(copy);
    return err;
}

/* Address lines: the house number goes before the street's first line,
 * and each further line of the street is a line of its own. */
static cardea_err
address_lines(export_ctx *ctx, json_t *out, const json_t *address)
{
    const char *street = cardea_json__get_str(address, "street");
    const char *number = cardea_json__get_str(address, "houseNumber");
    const char *rest = NULL;
    json_t *lines = json_array();
    cardea_buf first;
    char *text = NULL;
    cardea_err err = CARDEA_OK;

    if (lines == NULL) {
        return check(ctx, CARDEA_ENOMEM);
    }
    cardea_buf__init(&first, 0);
    if (number != NULL) {
        err = cardea_buf__append_str(&first, number);
    }
    if (street != NULL && err == CARDEA_OK) {
        size_t len = strcspn(street, "\n");

        if (number != NULL) {
            err = cardea_buf__append_str(&first, " ");
        }
        if (err == CARDEA_OK) {
            err = cardea_buf__append(&first, street, len);
        }
        rest = street[len] == '\n' ? street + len + 1 : NULL;
    }
    if (err == CARDEA_OK && (number != NULL || street != NULL) &&
        (err = cardea_buf__take_str(&text, &first)) == CARDEA_OK) {
        err = append_line(lines, text, strlen(text));
        cardea_mem__free(text);
    }
    while (err == CARDEA_OK && rest != NULL) {
        size_t len = strcspn(rest, "\n");

        err = append_line(lines, rest, len);
        rest = rest[len] == '\n' ? rest + len + 1 : NULL;
    }
    cardea_buf__free(&first, true);
    if (err != CARDEA_OK) {
        json_decref(lines);
        return check(ctx, err);
    }
    return put_nonempty(ctx, out, "line", lines);
}

/* The reverse of the import's table of address uses. */
static const char *const address_types[][2] = {
    {"home", "home"},   {"work", "work"},     {"temporary", "temp"},
    {"other", "old"},   {"postal", "billing"},
};

/* Appends the FHIR form of one iCure Address to `list` (unless nothing
 * but telecoms is in it) and its telecoms to `points`. */
static cardea_err
export_address(export_ctx *ctx, json_t *list, json_t *points,
               const json_t *address)
{
    static const char *const fields[] = {"city", "state", "postalCode",
                                         "country"};
    const char *type = cardea_json__get_str(address, "addressType");
    const json_t *telecom;
    json_t *item = json_object();
    cardea_err err = CARDEA_OK;
    size_t i;

    if (item == NULL) {
        return check(ctx, CARDEA_ENOMEM);
    }
    for (i = 0; type != NULL &&
                i < sizeof address_types / sizeof address_types[0];
         i++) {
        if (strcmp(address_types[i][0], type) == 0) {
            err = put_str(ctx, item, "use", address_types[i][1]);
        }
    }
    if (err == CARDEA_OK) {
        err = address_lines(ctx, item, address);
    }
    for (i = 0; err == CARDEA_OK && i < sizeof fields / sizeof fields[0];
         i++) {
        err = put_copy(ctx, item, fields[i], address, fields[i]);
    }
    json_array_foreach(json_object_get(address, "telecoms"), i, telecom) {
        if (err == CARDEA_OK) {
            err = contact_point(ctx, points, telecom);
        }
    }
    if (err != CARDEA_OK || json_object_size(item) == 0) {
        json_decref(item);
        return err;
    }
    return check(ctx, cardea_json__append_new(list, item));
}

static cardea_err
addresses(export_ctx *ctx, json_t *res, const json_t *patient)
{
    const json_t *list, *address;
    json_t *out = json_array(), *points = json_array();
    cardea_err err;
    size_t i;

    if (out == NULL || points == NULL) {
        err = check(ctx, CARDEA_ENOMEM);
        goto out;
    }
    if ((err = get_array(&list, ctx, patient, "addresses")) != CARDEA_OK) {
        goto out;
    }
    json_array_foreach(list, i, address) {
        if ((err = export_address(ctx, out, points, address)) != CARDEA_OK) {
            goto out;
        }
    }
    err = put_nonempty(ctx, res, "address", out);
    out = NULL;
    if (err == CARDEA_OK) {
        err = put_nonempty(ctx, res, "telecom", points);
        points = NULL;
    }

out:
    json_decref(out);
    json_decref(points);
    return err;
}

/* iCure gender -> FHIR AdministrativeGender. */
static const char *
fhir_gender(const char *gender)
{
    if (strcmp(gender, "male") == 0 || strcmp(gender, "female") == 0 ||
        strcmp(gender, "unknown") == 0) {
        return gender;
    }
    return "other";
}

static cardea_err
export_patient(export_ctx *ctx, const cardea_fhir_entity *e)
{
    const json_t *p = e->json;
    const char *gender;
    json_t *res = NULL;
    cardea_err err;

    if ((err = get_string(&gender, ctx, p, "gender")) != CARDEA_OK ||
        (err = new_resource(&res, ctx, "Patient", e->id)) != CARDEA_OK) {
        return err;
    }
    if ((err = human_names(ctx, res, p)) ||
        (gender != NULL &&
         (err = put_str(ctx, res, "gender", fhir_gender(gender)))) ||
        (err = put_date(ctx, res, "birthDate", p, "dateOfBirth")) ||
        (err = put_date(ctx, res, "deceasedDateTime", p, "dateOfDeath"))) {
        json_decref(res);
        return err;
    }
    if (json_object_get(res, "deceasedDateTime") == NULL &&
        json_is_boolean(json_object_get(p, "deceased")) &&
        (err = put_copy(ctx, res, "deceasedBoolean", p, "deceased"))) {
        json_decref(res);
        return err;
    }
    if ((err = addresses(ctx, res, p)) != CARDEA_OK) {
        json_decref(res);
        return err;
    }
    return add_entry(ctx, res);
}

/* ---- Condition and Encounter -------------------------------------------- */

/* Sets res[key] to the CodeableConcept of the entity's codes and text. */
static cardea_err
put_concept(export_ctx *ctx, json_t *res, const char *key,
            const json_t *entity, const char *text_field)
{
    const char *text = NULL;
    json_t *value = NULL;
    cardea_err err;

    if ((text_field != NULL &&
         (err = get_string(&text, ctx, entity, text_field)) != CARDEA_OK) ||
        (err = concept(&value, ctx, entity, text)) != CARDEA_OK) {
        return err;
    }
    return put_nonempty(ctx, res, key, value);
}

static cardea_err
export_condition(export_ctx *ctx, const cardea_fhir_entity *e)
{
    const char *note;
    json_t *res = NULL;
    cardea_err err;

    if ((err = get_string(&note, ctx, e->json, "note")) != CARDEA_OK ||
        (err = new_resource(&res, ctx, "Condition", e->id)) != CARDEA_OK) {
        return err;
    }
    if ((err = put_reference(ctx, res, "subject", e->patient_id)) ||
        (err = put_concept(ctx, res, "code", e->json, "descr")) ||
        (err = put_date(ctx, res, "onsetDateTime", e->json, "openingDate")) ||
        (err = put_date(ctx, res, "abatementDateTime", e->json,
                        "closingDate")) ||
        (note != NULL &&
         (err = check(ctx, cardea_json__set_new(
                               res, "note",
                               json_pack("[{ss}]", "text", note)))))) {
        json_decref(res);
        return err;
    }
    return add_entry(ctx, res);
}

static cardea_err
export_encounter(export_ctx *ctx, const cardea_fhir_entity *e)
{
    json_t *res = NULL, *type = NULL, *period;
    cardea_err err;

    if ((err = new_resource(&res, ctx, "Encounter", e->id)) != CARDEA_OK) {
        return err;
    }
    /* "unknown" is a valid Encounter.status; iCure keeps no status. */
    if ((err = put_str(ctx, res, "status", "unknown")) ||
        (err = put_reference(ctx, res, "subject", e->patient_id)) ||
        (err = put_concept(ctx, res, "type", e->json, "descr"))) {
        json_decref(res);
        return err;
    }
    /* Encounter.type is an array of concepts. */
    if ((type = json_object_get(res, "type")) != NULL) {
        json_incref(type);
        err = check(ctx, cardea_json__set_new(res, "type",
                                              json_pack("[o]", type)));
    }
    if (err != CARDEA_OK) {
        json_decref(res);
        return err;
    }
    period = json_object();
    if ((err = check(ctx, cardea_json__set_new(res, "period", period))) ||
        (err = put_date(ctx, period, "start", e->json, "openingDate")) ||
        (err = put_date(ctx, period, "end", e->json, "closingDate"))) {
        json_decref(res);
        return err;
    }
    if (json_object_size(period) == 0) {
        json_object_del(res, "period");
    }
    return add_entry(ctx, res);
}

/* ---- Observation -------------------------------------------------------- */

/* The Content of a Service: the mapping's language, else the first. */
static const json_t *
service_content(const json_t *service)
{
    const json_t *content = json_object_get(service, "content");
    const json_t *value = json_object_get(content,
                                          CARDEA_FHIR_CONTENT_LANG);
    void *iter;

    if (value != NULL || !json_is_object(content)) {
        return value;
    }
    iter = json_object_iter((json_t *)content);
    return iter != NULL ? json_object_iter_value(iter) : NULL;
}

static cardea_err export_value(export_ctx *ctx, json_t *res,
                               const json_t *service, bool top);

/* Builds component[] from content.compoundValue. */
static cardea_err
export_components(export_ctx *ctx, json_t *res, const json_t *compound)
{
    const json_t *sub;
    json_t *list = json_array();
    cardea_err err = CARDEA_OK;
    size_t i;

    if (list == NULL) {
        return check(ctx, CARDEA_ENOMEM);
    }
    json_array_foreach(compound, i, sub) {
        json_t *component = json_object();

        if ((err = check(ctx, cardea_json__append_new(list, component))) ||
            (err = put_concept(ctx, component, "code", sub, "label")) ||
            (err = export_value(ctx, component, sub, false))) {
            json_decref(list);
            return err;
        }
    }
    return put_nonempty(ctx, res, "component", list);
}

/* Sets value[x] (and component[] when `top`) from a Service's content. */
static cardea_err
export_value(export_ctx *ctx, json_t *res, const json_t *service, bool top)
{
    const json_t *content = service_content(service);
    const json_t *measure = json_object_get(content, "measureValue");
    const json_t *number = json_object_get(content, "numberValue");
    cardea_err err = CARDEA_OK;

    if (json_is_object(measure)) {
        json_t *quantity = json_object();

        if ((err = check(ctx, cardea_json__set_new(res, "valueQuantity",
                                                   quantity))) ||
            (err = put_copy(ctx, quantity, "value", measure, "value")) ||
            (err = put_copy(ctx, quantity, "unit", measure, "unit")) ||
            (err = put_copy(ctx, quantity, "comparator", measure,
                            "comparator"))) {
            return err;
        }
    } else if (json_is_integer(number)) {
        err = put_copy(ctx, res, "valueInteger", content, "numberValue");
    } else if (json_is_real(number)) {
        err = check(ctx, cardea_json__set_new(
                             res, "valueQuantity",
                             json_pack("{sO}", "value", number)));
    }
    if (err != CARDEA_OK ||
        (err = put_copy(ctx, res, "valueString", content, "stringValue")) ||
        (err = put_copy(ctx, res, "valueBoolean", content, "booleanValue")) ||
        (err = put_date(ctx, res, "valueDateTime", content,
                        "fuzzyDateValue"))) {
        return err;
    }
    if (top && json_is_array(json_object_get(content, "compoundValue"))) {
        return export_components(ctx, res,
                                 json_object_get(content, "compoundValue"));
    }
    return CARDEA_OK;
}

static cardea_err
export_observation(export_ctx *ctx, const cardea_fhir_entity *contact,
                   const json_t *service, size_t index)
{
    char derived[CARDEA_FHIR_ID_LEN + 1];
    const char *id = cardea_json__get_str(service, "id");
    json_t *res = NULL;
    cardea_err err;

    /* A Service without an id gets one derived from its position. */
    if (id == NULL) {
        char identity[96];

        snprintf(identity, sizeof identity, "Contact/%s/services/%zu",
                 contact->id, index);
        if ((err = cardea_fhir__entity_id(derived, identity)) != CARDEA_OK) {
            return check(ctx, err);
        }
        id = derived;
    }
    if ((err = new_resource(&res, ctx, "Observation", id)) != CARDEA_OK) {
        return err;
    }
    if ((err = put_str(ctx, res, "status", "final")) ||
        (err = put_concept(ctx, res, "code", service, "label")) ||
        (err = put_reference(ctx, res, "subject", contact->patient_id)) ||
        (err = put_reference(ctx, res, "encounter", contact->id)) ||
        (err = put_date(ctx, res, "effectiveDateTime", service,
                        "valueDate")) ||
        (err = export_value(ctx, res, service, true))) {
        json_decref(res);
        return err;
    }
    return add_entry(ctx, res);
}

static cardea_err
export_contact(export_ctx *ctx, const cardea_fhir_entity *e)
{
    const json_t *services, *service;
    cardea_err err;
    size_t i;

    if ((err = export_encounter(ctx, e)) != CARDEA_OK ||
        (err = get_array(&services, ctx, e->json, "services")) !=
            CARDEA_OK) {
        return err;
    }
    json_array_foreach(services, i, service) {
        if (!json_is_object(service)) {
            return fail(ctx, CARDEA_EINVAL,
                        "entity %s: services[%zu] must be an object",
                        ctx->where, i);
        }
        if ((err = export_observation(ctx, e, service, i)) != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

/* ---- Document ----------------------------------------------------------- */

/* Builds an Attachment {contentType, data} for a document's bytes. */
static cardea_err
attachment(json_t **out, export_ctx *ctx, const cardea_fhir_entity *e)
{
    const char *type = e->content_type;
    char *data = NULL;
    json_t *obj;
    cardea_err err;

    if (type == NULL) {
        type = cardea_fhir__media_type_of(
            cardea_json__get_str(e->json, "mainUti"));
    }
    if ((obj = json_pack("{ss}", "contentType", type)) == NULL) {
        return check(ctx, CARDEA_ENOMEM);
    }
    if (e->attachment != NULL) {
        err = cardea_base64__encode_alloc(&data, e->attachment,
                                          e->attachment_len);
        if (err == CARDEA_OK) {
            err = cardea_json__set_str(obj, "data", data);
            cardea_mem__free_secret(data, strlen(data));
        }
        if (err != CARDEA_OK) {
            json_decref(obj);
            return check(ctx, err);
        }
    }
    *out = obj;
    return CARDEA_OK;
}

static cardea_err
export_document(export_ctx *ctx, const cardea_fhir_entity *e)
{
    const char *type, *name;
    bool report;
    json_t *res = NULL, *file = NULL;
    cardea_err err;

    if ((err = get_string(&type, ctx, e->json, "documentType")) ||
        (err = get_string(&name, ctx, e->json, "name"))) {
        return err;
    }
    report = type != NULL && strcmp(type, "report") == 0;
    if ((err = new_resource(&res, ctx,
                            report ? "DiagnosticReport" : "DocumentReference",
                            e->id)) != CARDEA_OK) {
        return err;
    }
    if ((err = put_str(ctx, res, "status", report ? "final" : "current")) ||
        (err = put_reference(ctx, res, "subject", e->patient_id)) ||
        (err = put_concept(ctx, res, report ? "code" : "type", e->json,
                           report ? "name" : NULL)) ||
        (!report && (err = put_str(ctx, res, "description", name))) ||
        (err = attachment(&file, ctx, e))) {
        json_decref(res);
        return err;
    }
    if (report && json_object_get(res, "code") == NULL) {
        /* DiagnosticReport.code is required; an empty concept keeps the
         * shape without inventing a name. */
        err = check(ctx, cardea_json__set_new(res, "code", json_object()));
    }
    if (err == CARDEA_OK) {
        err = check(ctx, cardea_json__set_new(
                             res, report ? "presentedForm" : "content",
                             report ? json_pack("[o]", file)
                                    : json_pack("[{so}]", "attachment",
                                                file)));
    } else {
        json_decref(file);
    }
    if (err != CARDEA_OK) {
        json_decref(res);
        return err;
    }
    return add_entry(ctx, res);
}

/* ---- the bundle --------------------------------------------------------- */

/* Finds the one Patient of `entities` and checks every owner. */
static cardea_err
find_patient(const cardea_fhir_entity **out, export_ctx *ctx,
             const cardea_fhir_entity *entities, size_t len)
{
    const cardea_fhir_entity *patient = NULL;

    for (size_t i = 0; i < len; i++) {
        if (entities[i].type != CARDEA_ENTITY_PATIENT) {
            continue;
        }
        if (patient != NULL) {
            return fail(ctx, CARDEA_EINVAL,
                        "entities %s and %s are both Patients; export one "
                        "patient per bundle",
                        patient->id, entities[i].id);
        }
        patient = &entities[i];
    }
    if (patient == NULL) {
        return fail(ctx, CARDEA_EINVAL,
                    "no Patient among the entities; a bundle is exported "
                    "per patient");
    }
    for (size_t i = 0; i < len; i++) {
        if (strcmp(entities[i].patient_id, patient->id) != 0 ||
            !json_is_object(entities[i].json) ||
            cardea_fhir__type_name(entities[i].type) == NULL) {
            return fail(ctx, CARDEA_EINVAL,
                        "entity %s is not a Patient, HealthElement, Contact "
                        "or Document of patient %s with JSON object content",
                        entities[i].id, patient->id);
        }
    }
    *out = patient;
    return CARDEA_OK;
}

static cardea_err
export_entity(export_ctx *ctx, const cardea_fhir_entity *e)
{
    ctx->where = e->id;
    switch (e->type) {
    case CARDEA_ENTITY_PATIENT:
        return export_patient(ctx, e);
    case CARDEA_ENTITY_HEALTH_ELEMENT:
        return export_condition(ctx, e);
    case CARDEA_ENTITY_CONTACT:
        return export_contact(ctx, e);
    default:
        return export_document(ctx, e);
    }
}

/* see cli/fhir.h */
cardea_err
cardea_fhir__export(json_t **out, const cardea_fhir_entity *entities,
                    size_t entities_len, char *errmsg, size_t errmsg_cap)
{
    const cardea_fhir_entity *patient = NULL;
    export_ctx ctx = {0};
    json_t *bundle;
    cardea_err err;

    if (out == NULL || (entities == NULL && entities_len > 0)) {
        return CARDEA_EINVAL;
    }
    ctx.errmsg = errmsg;
    ctx.errmsg_cap = errmsg_cap;
    if ((err = find_patient(&patient, &ctx, entities, entities_len)) !=
        CARDEA_OK) {
        return err;
    }
    ctx.entries = json_array();
    bundle = json_pack("{ssssso}", "resourceType", "Bundle", "type",
                       "collection", "entry", ctx.entries);
    if (ctx.entries == NULL || bundle == NULL) {
        return check(&ctx, CARDEA_ENOMEM);
    }

    /* The Patient comes first, then the rest in the order given. */
    err = export_entity(&ctx, patient);
    for (size_t i = 0; i < entities_len && err == CARDEA_OK; i++) {
        if (&entities[i] != patient) {
            err = export_entity(&ctx, &entities[i]);
        }
    }
    if (err != CARDEA_OK) {
        json_decref(bundle);
        return err;
    }
    *out = bundle;
    return CARDEA_OK;
}

/* ---- comparison --------------------------------------------------------- */

/* Members that the server or the SDK set, skipped at every depth. */
static const char *const managed_members[] = {
    "rev",
    "created",
    "modified",
    "author",
    "responsible",
    "deletionDate",
    "endOfLife",
    "securityMetadata",
    "secretForeignKeys",
    "cryptedForeignKeys",
    "delegations",
    "encryptionKeys",
    "encryptedSelf",
    "attachmentId",
    "objectStoreReference",
    "mainAttachmentStoredDataSize",
    "extraMainAttachmentInfo",
    "secondaryAttachments",
    "deletedAttachments",
    "size",
    "hash",
};

typedef struct compare_state {
    unsigned flags;
    char path[CARDEA_FHIR_ERRMSG_LEN];
    size_t len;
} compare_state;

static bool
ignored(const compare_state *st, const char *key)
{
    if (strcmp(key, "id") == 0) {
        return (st->flags & CARDEA_FHIR_COMPARE_IGNORE_IDS) != 0;
    }
    for (size_t i = 0;
         i < sizeof managed_members / sizeof managed_members[0]; i++) {
        if (strcmp(managed_members[i], key) == 0) {
            return true;
        }
    }
    return false;
}

/* Absent, null, [] or an object whose compared members are all empty. */
static bool
empty(const compare_state *st, const json_t *value)
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
        if (!ignored(st, key) && !empty(st, item)) {
            return false;
        }
    }
    return true;
}

/* Appends a path segment; returns the length to restore afterwards. */
static size_t
push(compare_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
push(compare_state *st, const char *fmt, ...)
{
    size_t saved = st->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(st->path + st->len, sizeof st->path - st->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        st->len += (size_t)n;
        if (st->len >= sizeof st->path) {
            st->len = sizeof st->path - 1;
        }
    }
    return saved;
}

static bool values_equal(compare_state *st, const json_t *a,
                         const json_t *b);

/* Compares two objects: each member of `a` with the same member of `b`,
 * then checks that what only `b` has is empty. */
static bool
members_equal(compare_state *st, const json_t *a, const json_t *b)
{
    const char *key;
    json_t *item;

    json_object_foreach((json_t *)a, key, item) {
        size_t saved;

        if (ignored(st, key)) {
            continue;
        }
        saved = push(st, ".%s", key);
        if (!values_equal(st, item, json_object_get(b, key))) {
            return false;
        }
        st->len = saved;
        st->path[saved] = '\0';
    }
    json_object_foreach((json_t *)b, key, item) {
        if (!ignored(st, key) && json_object_get(a, key) == NULL &&
            !empty(st, item)) {
            push(st, ".%s", key);
            return false;
        }
    }
    return true;
}

static bool
values_equal(compare_state *st, const json_t *a, const json_t *b)
{
    bool a_empty = empty(st, a), b_empty = empty(st, b);
    size_t i;

    if (a_empty || b_empty) {
        return a_empty && b_empty;
    }
    if (json_is_number(a) && json_is_number(b)) {
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b)) {
        return false;
    }
    if (json_is_object(a)) {
        return members_equal(st, a, b);
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) {
            return false;
        }
        for (i = 0; i < json_array_size(a); i++) {
            size_t saved = push(st, "[%zu]", i);

            if (!values_equal(st, json_array_get(a, i),
                              json_array_get(b, i))) {
                return false;
            }
            st->len = saved;
            st->path[saved] = '\0';
        }
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b) != 0;
}

/* see cli/fhir.h */
bool
cardea_fhir__entity_equal(const json_t *expected, const json_t *actual,
                          unsigned flags, char *path, size_t path_cap)
{
    compare_state st = {.flags = flags};
    bool equal;

    st.len = (size_t)snprintf(st.path, sizeof st.path, "$");
    equal = values_equal(&st, expected, actual);
    if (!equal && path != NULL && path_cap > 0) {
        snprintf(path, path_cap, "%s", st.path);
    }
    return equal;
}
