/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The import side of the FHIR mapping: indexes the entries of a Bundle,
 * resolves the references the mapping needs, and maps each resource to
 * decrypted iCure entity JSON. The plan is built in passes (Patients,
 * Conditions, Encounters, Observations, documents) so that every owner
 * exists before the entities that point at it. The mapping rules are in
 * cli/fhir.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "cli/fhir.h"
#include "cli/fhir_internal.h"

/* Maximum length of a reference quoted in an error message. */
#define REF_QUOTE_MAX 120

typedef struct entry_info {
    const json_t *resource;
    const char *type;  /* resourceType, borrowed from the bundle */
    char *identity;    /* "<Type>/<id>", or the fullUrl; NULL when neither */
    long entity;       /* plan index of the Patient or Contact made, or -1 */
} entry_info;

typedef struct import_ctx {
    const char *name;
    char *errmsg;
    size_t errmsg_cap;
    const char *where; /* identity of the resource being mapped */
    entry_info *entries;
    size_t entries_len;
    json_t *index;     /* reference key -> entry index */
    cardea_fhir_plan *plan;
    size_t entities_cap;
    size_t skipped_cap;
} import_ctx;

typedef cardea_err (*map_fn)(import_ctx *ctx, size_t entry);

typedef enum fuzzy_kind {
    FUZZY_DATE,     /* YYYYMMDD, the date as written */
    FUZZY_DATETIME, /* YYYYMMDDhhmmss in UTC */
} fuzzy_kind;

/* ---- errors ------------------------------------------------------------- */

static cardea_err
fail(import_ctx *ctx, cardea_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cardea_err
fail(import_ctx *ctx, cardea_err err, const char *fmt, ...)
{
    char text[CARDEA_FHIR_ERRMSG_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cardea_fhir__set_error(ctx->errmsg, ctx->errmsg_cap, ctx->name, "%s",
                           text);
    return err;
}

static cardea_err
nomem(import_ctx *ctx)
{
    return fail(ctx, CARDEA_ENOMEM,
                "out of memory while building the import plan");
}

/* Reports `err` unless it is CARDEA_OK, for calls that set no message. */
static cardea_err
check(import_ctx *ctx, cardea_err err)
{
    if (err == CARDEA_ENOMEM) {
        return nomem(ctx);
    }
    if (err != CARDEA_OK) {
        return fail(ctx, err, "%s: %s", ctx->where, cardea_strerror(err));
    }
    return CARDEA_OK;
}

/* ---- typed access to members -------------------------------------------- */

/* Each getter gives NULL for an absent or null member and rejects a
 * member of another JSON type; `path` names it in the message. */
static cardea_err
get_string(const char **out, import_ctx *ctx, const json_t *obj,
           const char *key, const char *path)
{
    const json_t *value = json_object_get(obj, key);

    *out = NULL;
    if (value == NULL || json_is_null(value)) {
        return CARDEA_OK;
    }
    if (!json_is_string(value)) {
        return fail(ctx, CARDEA_EINVAL, "%s: %s must be a string",
                    ctx->where, path);
    }
    *out = json_string_value(value);
    return CARDEA_OK;
}

static cardea_err
get_array(const json_t **out, import_ctx *ctx, const json_t *obj,
          const char *key, const char *path)
{
    const json_t *value = json_object_get(obj, key);

    *out = NULL;
    if (value == NULL || json_is_null(value)) {
        return CARDEA_OK;
    }
    if (!json_is_array(value)) {
        return fail(ctx, CARDEA_EINVAL, "%s: %s must be an array",
                    ctx->where, path);
    }
    *out = value;
    return CARDEA_OK;
}

static cardea_err
get_object(const json_t **out, import_ctx *ctx, const json_t *obj,
           const char *key, const char *path)
{
    const json_t *value = json_object_get(obj, key);

    *out = NULL;
    if (value == NULL || json_is_null(value)) {
        return CARDEA_OK;
    }
    if (!json_is_object(value)) {
        return fail(ctx, CARDEA_EINVAL, "%s: %s must be an object",
                    ctx->where, path);
    }
    *out = value;
    return CARDEA_OK;
}

/* Element `i` of `array`, which must be an object. */
static cardea_err
get_element(const json_t **out, import_ctx *ctx, const json_t *array,
            size_t i, const char *path)
{
    const json_t *value = json_array_get(array, i);

    *out = NULL;
    if (!json_is_object(value)) {
        return fail(ctx, CARDEA_EINVAL, "%s: %s[%zu] must be an object",
                    ctx->where, path, i);
    }
    *out = value;
    return CARDEA_OK;
}

/* Sets obj[key] to a copy of `value`; does nothing when it is NULL. */
static cardea_err
put_str(import_ctx *ctx, json_t *obj, const char *key, const char *value)
{
    if (value == NULL) {
        return CARDEA_OK;
    }
    return check(ctx, cardea_json__set_str(obj, key, value));
}

static cardea_err
put_int(import_ctx *ctx, json_t *obj, const char *key, int64_t value)
{
    return check(ctx, cardea_json__set_new(obj, key,
                                           json_integer((json_int_t)value)));
}

/* Sets obj[key] to `value` when it is non-empty, else drops it. Takes the
 * reference to `value` in every case. */
static cardea_err
put_nonempty(import_ctx *ctx, json_t *obj, const char *key, json_t *value)
{
    if (value == NULL || json_is_null(value) ||
        (json_is_array(value) && json_array_size(value) == 0) ||
        (json_is_object(value) && json_object_size(value) == 0)) {
        json_decref(value);
        return CARDEA_OK;
    }
    return check(ctx, cardea_json__set_new(obj, key, value));
}

/*
 * Copies the string array member `key` into *out (NULL when absent);
 * rejects any element that is not a string.
 */
static cardea_err
copy_strings(json_t **out, import_ctx *ctx, const json_t *obj,
             const char *key, const char *path)
{
    const json_t *array;
    json_t *copy;
    cardea_err err;

    *out = NULL;
    if ((err = get_array(&array, ctx, obj, key, path)) != CARDEA_OK ||
        array == NULL) {
        return err;
    }
    for (size_t i = 0; i < json_array_size(array); i++) {
        if (!json_is_string(json_array_get(array, i))) {
            return fail(ctx, CARDEA_EINVAL, "%s: %s[%zu] must be a string",
                        ctx->where, path, i);
        }
    }
    if ((copy = json_deep_copy(array)) == NULL) {
        return nomem(ctx);
    }
    *out = copy;
    return CARDEA_OK;
}

/* Joins the strings of `array` with `sep` into a new string. */
static cardea_err
join_strings(char **out, import_ctx *ctx, const json_t *array,
             const char *sep)
{
    cardea_buf buf;

    cardea_buf__init(&buf, 0);
    for (size_t i = 0; i < json_array_size(array); i++) {
        const char *s = json_string_value(json_array_get(array, i));

        if (i > 0 && cardea_buf__append_str(&buf, sep) != CARDEA_OK) {
            break;
        }
        if (s != NULL && cardea_buf__append_str(&buf, s) != CARDEA_OK) {
            break;
        }
    }
    if (cardea_buf__take_str(out, &buf) != CARDEA_OK) {
        cardea_buf__free(&buf, true);
        return nomem(ctx);
    }
    return CARDEA_OK;
}

/* ---- dates -------------------------------------------------------------- */

/* Reads exactly `n` decimal digits at `s`. */
static bool
read_digits(int *out, const char *s, size_t n)
{
    int value = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        value = value * 10 + (s[i] - '0');
    }
    *out = value;
    return true;
}

static int
days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30,
                               31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

/* Reads "hh:mm:ss[.fff](Z|+hh:mm|-hh:mm)?" at s; `offset` in seconds. */
static bool
read_time(struct tm *tm, long *offset, const char *s)
{
    int tz_hour, tz_min;

    if (!read_digits(&tm->tm_hour, s, 2) || s[2] != ':' ||
        !read_digits(&tm->tm_min, s + 3, 2) || s[5] != ':' ||
        !read_digits(&tm->tm_sec, s + 6, 2)) {
        return false;
    }
    s += 8;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') {
            return false;
        }
        while (*s >= '0' && *s <= '9') {
            s++;
        }
    }
    *offset = 0;
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        if (!read_digits(&tz_hour, s + 1, 2) || s[3] != ':' ||
            !read_digits(&tz_min, s + 4, 2) || tz_hour > 14 || tz_min > 59) {
            return false;
        }
        *offset = (tz_hour * 60L + tz_min) * 60L * (*s == '-' ? -1 : 1);
        s += 6;
    }
    return *s == '\0' && tm->tm_hour < 24 && tm->tm_min < 60 &&
           tm->tm_sec <= 60;
}

/*
 * Parses a FHIR date, dateTime or instant into an iCure fuzzy date or
 * fuzzy date-time (see cli/fhir.h). False when `s` is not one of them.
 */
static bool
parse_date(int64_t *out, const char *s, fuzzy_kind kind)
{
    struct tm tm = {0};
    int year, month = 0, day = 0;
    long offset = 0;
    bool has_time = false;
    size_t len = strlen(s);

    if (len < 4 || !read_digits(&year, s, 4) || year < 1) {
        return false;
    }
    if (len > 4 && (s[4] != '-' || len < 7 || !read_digits(&month, s + 5, 2) ||
                    month < 1 || month > 12)) {
        return false;
    }
    if (len > 7 && (s[7] != '-' || len < 10 || !read_digits(&day, s + 8, 2) ||
                    day < 1 || day > days_in_month(year, month))) {
        return false;
    }
    if (len > 10) {
        if (s[10] != 'T' || !read_time(&tm, &offset, s + 11)) {
            return false;
        }
        has_time = true;
    }

    if (kind == FUZZY_DATE) {
        *out = (int64_t)year * 10000 + month * 100 + day;
        return true;
    }
    if (has_time && offset != 0) {
        time_t t;

        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        t = timegm(&tm) - offset;
        if (gmtime_r(&t, &tm) == NULL) {
            return false;
        }
        year = tm.tm_year + 1900;
        month = tm.tm_mon + 1;
        day = tm.tm_mday;
    }
    *out = (((int64_t)year * 10000 + month * 100 + day) * 1000000) +
           tm.tm_hour * 10000 + tm.tm_min * 100 + tm.tm_sec;
    return true;
}

/* Sets obj[field] from the date member `key` of `src`, when present. */
static cardea_err
put_date(import_ctx *ctx, json_t *obj, const char *field, const json_t *src,
         const char *key, fuzzy_kind kind)
{
    const char *text;
    int64_t value;
    cardea_err err;

    if ((err = get_string(&text, ctx, src, key, key)) != CARDEA_OK ||
        text == NULL) {
        return err;
    }
    if (!parse_date(&value, text, kind)) {
        return fail(ctx, CARDEA_EINVAL,
                    "%s: %s is not a valid FHIR %s (expected YYYY, YYYY-MM, "
                    "YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone)",
                    ctx->where, key,
                    kind == FUZZY_DATE ? "date" : "dateTime");
    }
    return put_int(ctx, obj, field, value);
}

/* Like put_date for member `sub` of the object member `key` (a Period). */
static cardea_err
put_period_date(import_ctx *ctx, json_t *obj, const char *field,
                const json_t *src, const char *key, const char *sub)
{
    const json_t *period;
    cardea_err err;

    if ((err = get_object(&period, ctx, src, key, key)) != CARDEA_OK ||
        period == NULL) {
        return err;
    }
    return put_date(ctx, obj, field, period, sub, FUZZY_DATETIME);
}

/* ---- codes -------------------------------------------------------------- */

/* Builds {id, type, code, version} for one coding into `codes`. */
static cardea_err
add_coding(import_ctx *ctx, json_t *codes, const json_t *coding)
{
    const char *system, *code, *version, *type;
    char *id = NULL;
    json_t *stub;
    cardea_buf buf;
    cardea_err err;

    if ((err = get_string(&system, ctx, coding, "system", "coding.system")) ||
        (err = get_string(&code, ctx, coding, "code", "coding.code")) ||
        (err = get_string(&version, ctx, coding, "version",
                          "coding.version"))) {
        return err;
    }
    if (system == NULL || code == NULL) {
        return CARDEA_OK;
    }
    type = cardea_fhir__code_type(system);

    /* iCure code ids are "type|code|version"; without a version the id
     * stops after the code. */
    cardea_buf__init(&buf, 0);
    if (cardea_buf__append_str(&buf, type) != CARDEA_OK ||
        cardea_buf__append_str(&buf, "|") != CARDEA_OK ||
        cardea_buf__append_str(&buf, code) != CARDEA_OK ||
        (version != NULL && (cardea_buf__append_str(&buf, "|") != CARDEA_OK ||
                             cardea_buf__append_str(&buf, version) !=
                                 CARDEA_OK)) ||
        cardea_buf__take_str(&id, &buf) != CARDEA_OK) {
        cardea_buf__free(&buf, false);
        return nomem(ctx);
    }
    if ((stub = json_object()) == NULL) {
        cardea_mem__free(id);
        return nomem(ctx);
    }
    err = put_str(ctx, stub, "id", id);
    cardea_mem__free(id);
    if (err != CARDEA_OK ||
        (err = put_str(ctx, stub, "type", type)) != CARDEA_OK ||
        (err = put_str(ctx, stub, "code", code)) != CARDEA_OK ||
        (err = put_str(ctx, stub, "version", version)) != CARDEA_OK) {
        json_decref(stub);
        return err;
    }
    return check(ctx, cardea_json__append_new(codes, stub));
}

/* Appends a code to `codes` for each usable coding of a CodeableConcept. */
static cardea_err
add_codes(import_ctx *ctx, json_t *codes, const json_t *concept)
{
    const json_t *codings, *coding;
    cardea_err err;

    if (concept == NULL) {
        return CARDEA_OK;
    }
    if ((err = get_array(&codings, ctx, concept, "coding", "coding")) !=
        CARDEA_OK) {
        return err;
    }
    for (size_t i = 0; i < json_array_size(codings); i++) {
        if ((err = get_element(&coding, ctx, codings, i, "coding")) !=
                CARDEA_OK ||
            (err = add_coding(ctx, codes, coding)) != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

/* The text of a CodeableConcept: its text, else the first display. */
static cardea_err
concept_text(const char **out, import_ctx *ctx, const json_t *concept)
{
    const json_t *codings;
    cardea_err err;

    *out = NULL;
    if (concept == NULL) {
        return CARDEA_OK;
    }
    if ((err = get_string(out, ctx, concept, "text", "text")) != CARDEA_OK ||
        *out != NULL) {
        return err;
    }
    if ((err = get_array(&codings, ctx, concept, "coding", "coding")) !=
        CARDEA_OK) {
        return err;
    }
    for (size_t i = 0; i < json_array_size(codings) && *out == NULL; i++) {
        const json_t *coding = json_array_get(codings, i);

        if ((err = get_string(out, ctx, coding, "display",
                              "coding.display")) != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

/* Sets obj["codes"] from a CodeableConcept (NULL: nothing to set). */
static cardea_err
put_codes(import_ctx *ctx, json_t *obj, const json_t *concept)
{
    json_t *codes;
    cardea_err err;

    if ((codes = json_array()) == NULL) {
        return nomem(ctx);
    }
    if ((err = add_codes(ctx, codes, concept)) != CARDEA_OK) {
        json_decref(codes);
        return err;
    }
    return put_nonempty(ctx, obj, "codes", codes);
}

/* Sets obj["codes"] and obj[text_field] from the CodeableConcept member
 * `key` of `src`. */
static cardea_err
put_concept(import_ctx *ctx, json_t *obj, const json_t *src, const char *key,
            const char *text_field)
{
    const json_t *concept;
    const char *text = NULL;
    cardea_err err;

    if ((err = get_object(&concept, ctx, src, key, key)) != CARDEA_OK ||
        (err = put_codes(ctx, obj, concept)) != CARDEA_OK ||
        (err = concept_text(&text, ctx, concept)) != CARDEA_OK) {
        return err;
    }
    return put_str(ctx, obj, text_field, text);
}

/* True when `obj` has member `key` with a value other than null. */
static bool
present(const json_t *obj, const char *key)
{
    const json_t *value = json_object_get(obj, key);

    return value != NULL && !json_is_null(value);
}

/* ---- plan bookkeeping --------------------------------------------------- */

/* Adds one to the skipped count of `type`. */
static cardea_err
count_skipped(import_ctx *ctx, const char *type)
{
    cardea_fhir_plan *plan = ctx->plan;
    cardea_fhir_type_count *grown;
    char *copy;

    for (size_t i = 0; i < plan->skipped_len; i++) {
        if (strcmp(plan->skipped[i].resource_type, type) == 0) {
            plan->skipped[i].count++;
            return CARDEA_OK;
        }
    }
    if (plan->skipped_len == ctx->skipped_cap) {
        size_t cap = ctx->skipped_cap == 0 ? 8 : ctx->skipped_cap * 2;

        grown = cardea_mem__realloc(plan->skipped, cap * sizeof *grown);
        if (grown == NULL) {
            return nomem(ctx);
        }
        plan->skipped = grown;
        ctx->skipped_cap = cap;
    }
    if ((copy = cardea_mem__strdup(type)) == NULL) {
        return nomem(ctx);
    }
    plan->skipped[plan->skipped_len].resource_type = copy;
    plan->skipped[plan->skipped_len].count = 1;
    plan->skipped_len++;
    return CARDEA_OK;
}

/*
 * Appends an entity made from the resource `identity`. Takes the
 * reference to `json` in every case; `patient` is the plan index of the
 * owning Patient, or -1 for a Patient. Stores the new index in *index.
 */
static cardea_err
add_entity(long *index, import_ctx *ctx, cardea_entity_type type,
           const char *identity, long patient, json_t *json)
{
    cardea_fhir_plan *plan = ctx->plan;
    cardea_fhir_entity *e;

    if (plan->entities_len == ctx->entities_cap) {
        size_t cap = ctx->entities_cap == 0 ? 64 : ctx->entities_cap * 2;
        cardea_fhir_entity *grown =
            cardea_mem__realloc(plan->entities, cap * sizeof *grown);

        if (grown == NULL) {
            json_decref(json);
            return nomem(ctx);
        }
        plan->entities = grown;
        ctx->entities_cap = cap;
    }
    e = &plan->entities[plan->entities_len];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->json = json;
    plan->entities_len++;
    if ((e->source = cardea_mem__strdup(identity)) == NULL) {
        return nomem(ctx);
    }
    *index = (long)(plan->entities_len - 1);

    /* The id was set on the JSON by the caller from the same identity. */
    memcpy(e->id, cardea_json__get_str(json, "id"), CARDEA_FHIR_ID_LEN + 1);
    memcpy(e->patient_id, patient < 0 ? e->id : plan->entities[patient].id,
           CARDEA_FHIR_ID_LEN + 1);
    return CARDEA_OK;
}

/* Creates an entity object whose "id" derives from `identity`. */
static cardea_err
new_entity(json_t **out, import_ctx *ctx, const char *identity)
{
    char id[CARDEA_FHIR_ID_LEN + 1];
    json_t *obj;
    cardea_err err;

    if ((err = cardea_fhir__entity_id(id, identity)) != CARDEA_OK) {
        return check(ctx, err);
    }
    if ((obj = json_object()) == NULL) {
        return nomem(ctx);
    }
    if ((err = put_str(ctx, obj, "id", id)) != CARDEA_OK) {
        json_decref(obj);
        return err;
    }
    *out = obj;
    return CARDEA_OK;
}

/* ---- references --------------------------------------------------------- */

static long
lookup(const import_ctx *ctx, const char *key)
{
    const json_t *value = json_object_get(ctx->index, key);

    return value != NULL ? (long)json_integer_value(value) : -1;
}

/*
 * Finds the entry a literal reference names (forms in cli/fhir.h), or
 * -1. Conditional references never resolve.
 */
static cardea_err
resolve(long *out, import_ctx *ctx, const char *ref)
{
    char *copy, *cut, *last, *type;

    *out = -1;
    if (strchr(ref, '?') != NULL || (*out = lookup(ctx, ref)) >= 0) {
        return CARDEA_OK;
    }
    if ((copy = cardea_mem__strdup(ref)) == NULL) {
        return nomem(ctx);
    }
    if ((cut = strstr(copy, "/_history/")) != NULL) {
        *cut = '\0';
        *out = lookup(ctx, copy);
    }

    /* An absolute URL of a FHIR server ends in ".../<Type>/<id>". */
    if (*out < 0 && strstr(copy, "://") != NULL &&
        (last = strrchr(copy, '/')) != NULL && last > copy) {
        *last = '\0';
        type = strrchr(copy, '/');
        *last = '/';
        if (type != NULL) {
            *out = lookup(ctx, type + 1);
        }
    }
    cardea_mem__free(copy);
    return CARDEA_OK;
}

/*
 * Resolves the Reference member `key` of `res`, which the mapping needs,
 * to an entry of type `want`.
 */
static cardea_err
need_ref(long *out, import_ctx *ctx, const json_t *res, const char *key,
         const char *want)
{
    const json_t *obj;
    const char *ref = NULL;
    long target;
    cardea_err err;

    if ((err = get_object(&obj, ctx, res, key, key)) != CARDEA_OK ||
        (obj != NULL &&
         (err = get_string(&ref, ctx, obj, "reference", key)) != CARDEA_OK)) {
        return err;
    }
    if (ref == NULL) {
        return fail(ctx, CARDEA_EINVAL,
                    "%s: %s.reference is missing; it must name the %s of "
                    "this bundle",
                    ctx->where, key, want);
    }
    if (strchr(ref, '?') != NULL) {
        return fail(ctx, CARDEA_EINVAL,
                    "%s: %s is a conditional reference, which cannot be "
                    "resolved inside the bundle; it must name the %s of this "
                    "bundle",
                    ctx->where, key, want);
    }
    if ((err = resolve(&target, ctx, ref)) != CARDEA_OK) {
        return err;
    }
    if (target < 0 || strcmp(ctx->entries[target].type, want) != 0) {
        return fail(ctx, CARDEA_EINVAL,
                    "%s: %s reference \"%.*s\" does not resolve to any "
                    "%s resource of this bundle; add the %s to the bundle "
                    "or fix the reference",
                    ctx->where, key, REF_QUOTE_MAX, ref, want, want);
    }
    *out = target;
    return CARDEA_OK;
}

/* Plan index of the Patient that `res` belongs to (subject or patient). */
static cardea_err
need_patient(long *out, import_ctx *ctx, const json_t *res)
{
    const char *key = !present(res, "subject") && present(res, "patient")
                          ? "patient"
                          : "subject";
    long target;
    cardea_err err;

    if ((err = need_ref(&target, ctx, res, key, "Patient")) != CARDEA_OK) {
        return err;
    }
    *out = ctx->entries[target].entity;
    return CARDEA_OK;
}

/* ---- Patient ------------------------------------------------------------ */

/* Builds one iCure PersonName from a FHIR HumanName. */
static cardea_err
person_name(json_t **out, import_ctx *ctx, const json_t *name)
{
    const char *family, *text, *use;
    json_t *obj, *given = NULL, *prefix = NULL, *suffix = NULL;
    cardea_err err;

    if ((err = get_string(&family, ctx, name, "family", "name[].family")) ||
        (err = get_string(&text, ctx, name, "text", "name[].text")) ||
        (err = get_string(&use, ctx, name, "use", "name[].use")) ||
        (err = copy_strings(&given, ctx, name, "given", "name[].given")) ||
        (err = copy_strings(&prefix, ctx, name, "prefix", "name[].prefix")) ||
        (err = copy_strings(&suffix, ctx, name, "suffix", "name[].suffix"))) {
        json_decref(given);
        json_decref(prefix);
        return err;
    }
    if ((obj = json_object()) == NULL) {
        json_decref(given);
        json_decref(prefix);
        json_decref(suffix);
        return nomem(ctx);
    }
    /* FHIR and iCure use the same name-use codes. */
    if ((err = put_str(ctx, obj, "lastName", family)) != CARDEA_OK ||
        (err = put_nonempty(ctx, obj, "firstNames", given)) != CARDEA_OK ||
        (err = put_nonempty(ctx, obj, "prefix", prefix)) != CARDEA_OK ||
        (err = put_nonempty(ctx, obj, "suffix", suffix)) != CARDEA_OK ||
        (err = put_str(ctx, obj, "text", text)) != CARDEA_OK ||
        (err = put_str(ctx, obj, "use", use)) != CARDEA_OK) {
        json_decref(obj);
        return err;
    }
    *out = obj;
    return CARDEA_OK;
}

/* Sets firstName and lastName from a PersonName built by person_name. */
static cardea_err
put_main_name(import_ctx *ctx, json_t *patient, const json_t *name)
{
    const json_t *given = json_object_get(name, "firstNames");
    char *first = NULL;
    cardea_err err;

    if (json_array_size(given) > 0) {
        if ((err = join_strings(&first, ctx, given, " ")) != CARDEA_OK) {
            return err;
        }
        err = put_str(ctx, patient, "firstName", first);
        cardea_mem__free(first);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    return put_str(ctx, patient, "lastName",
                   cardea_json__get_str(name, "lastName"));
}

static cardea_err
patient_names(import_ctx *ctx, json_t *patient, const json_t *res)
{
    const json_t *names, *name;
    json_t *list, *built = NULL;
    cardea_err err;

    if ((err = get_array(&names, ctx, res, "name", "name")) != CARDEA_OK) {
        return err;
    }
    if ((list = json_array()) == NULL) {
        return nomem(ctx);
    }
    for (size_t i = 0; i < json_array_size(names); i++) {
        if ((err = get_element(&name, ctx, names, i, "name")) != CARDEA_OK ||
            (err = person_name(&built, ctx, name)) != CARDEA_OK) {
            break;
        }
        if ((err = check(ctx, cardea_json__append_new(list, built))) !=
            CARDEA_OK) {
            break;
        }
        if (i == 0 && (err = put_main_name(ctx, patient, built)) !=
                          CARDEA_OK) {
            break;
        }
    }
    if (err != CARDEA_OK) {
        json_decref(list);
        return err;
    }
    return put_nonempty(ctx, patient, "names", list);
}

static cardea_err
patient_gender(import_ctx *ctx, json_t *patient, const json_t *res)
{
    static const char *const map[][2] = {
        {"male", "male"},
        {"female", "female"},
        {"other", "indeterminate"},
        {"unknown", "unknown"},
    };
    const char *gender;
    cardea_err err;

    if ((err = get_string(&gender, ctx, res, "gender", "gender")) !=
            CARDEA_OK ||
        gender == NULL) {
        return err;
    }
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i][0], gender) == 0) {
            return put_str(ctx, patient, "gender", map[i][1]);
        }
    }
    return fail(ctx, CARDEA_EINVAL,
                "%s: gender must be male, female, other or unknown",
                ctx->where);
}

static cardea_err
patient_death(import_ctx *ctx, json_t *patient, const json_t *res)
{
    const json_t *flag = json_object_get(res, "deceasedBoolean");
    cardea_err err;

    if (flag != NULL && !json_is_null(flag)) {
        if (!json_is_boolean(flag)) {
            return fail(ctx, CARDEA_EINVAL,
                        "%s: deceasedBoolean must be true or false",
                        ctx->where);
        }
        err = check(ctx, cardea_json__set_new(
                             patient, "deceased",
                             json_boolean(json_is_true(flag))));
        if (err != CARDEA_OK) {
            return err;
        }
    }
    if ((err = put_date(ctx, patient, "dateOfDeath", res, "deceasedDateTime",
                        FUZZY_DATE)) != CARDEA_OK ||
        json_object_get(patient, "dateOfDeath") == NULL) {
        return err;
    }
    return check(ctx, cardea_json__set_new(patient, "deceased",
                                           json_true()));
}

/*
 * Splits the first address line into a house number (its first word when
 * that starts with a digit and more text follows) and a street; further
 * lines follow the street, one per line.
 */
static cardea_err
address_lines(import_ctx *ctx, json_t *address, const json_t *src)
{
    json_t *lines = NULL;
    const char *first, *space;
    char *number = NULL, *street = NULL;
    cardea_err err;

    if ((err = copy_strings(&lines, ctx, src, "line", "address[].line")) !=
            CARDEA_OK ||
        json_array_size(lines) == 0) {
        json_decref(lines);
        return err;
    }
    first = json_string_value(json_array_get(lines, 0));
    space = strchr(first, ' ');
    if (first[0] >= '0' && first[0] <= '9' && space != NULL &&
        space[1] != '\0') {
        number = cardea_mem__strndup(first, (size_t)(space - first));
        if (number == NULL || json_array_set_new(lines, 0,
                                                 json_string(space + 1))) {
            err = nomem(ctx);
        }
    }
    if (err == CARDEA_OK &&
        (err = join_strings(&street, ctx, lines, "\n")) == CARDEA_OK &&
        (err = put_str(ctx, address, "street", street)) == CARDEA_OK) {
        err = put_str(ctx, address, "houseNumber", number);
    }
    cardea_mem__free(number);
    cardea_mem__free(street);
    json_decref(lines);
    return err;
}

/* FHIR Address.use and the iCure addressType used for it. */
static const char *const address_uses[][2] = {
    {"home", "home"},   {"work", "work"},     {"temp", "temporary"},
    {"old", "other"},   {"billing", "postal"},
};

static cardea_err
address(json_t **out, import_ctx *ctx, const json_t *src)
{
    static const char *const fields[] = {"city", "state", "postalCode",
                                         "country"};
    const char *value;
    json_t *obj;
    cardea_err err;

    if ((obj = json_object()) == NULL) {
        return nomem(ctx);
    }
    err = get_string(&value, ctx, src, "use", "address[].use");
    for (size_t i = 0; err == CARDEA_OK && value != NULL &&
                       i < sizeof address_uses / sizeof address_uses[0];
         i++) {
        if (strcmp(address_uses[i][0], value) == 0) {
            err = put_str(ctx, obj, "addressType", address_uses[i][1]);
        }
    }
    if (err == CARDEA_OK) {
        err = address_lines(ctx, obj, src);
    }
    for (size_t i = 0; err == CARDEA_OK && i < sizeof fields / sizeof fields[0];
         i++) {
        if ((err = get_string(&value, ctx, src, fields[i], fields[i])) ==
            CARDEA_OK) {
            err = put_str(ctx, obj, fields[i], value);
        }
    }
    if (err != CARDEA_OK) {
        json_decref(obj);
        return err;
    }
    *out = obj;
    return CARDEA_OK;
}

/* Maps a FHIR ContactPoint to an iCure Telecom. */
static cardea_err
telecom(json_t **out, import_ctx *ctx, const json_t *src)
{
    static const char *const systems[][2] = {
        {"phone", "phone"}, {"fax", "fax"},     {"email", "email"},
        {"pager", "pager"}, {"url", "web"},     {"sms", "mobile"},
        {"other", "other"},
    };
    const char *system, *value, *use, *type = "other";
    json_t *obj;
    cardea_err err;

    if ((err = get_string(&system, ctx, src, "system", "telecom[].system")) ||
        (err = get_string(&value, ctx, src, "value", "telecom[].value")) ||
        (err = get_string(&use, ctx, src, "use", "telecom[].use"))) {
        return err;
    }
    for (size_t i = 0; system != NULL && i < sizeof systems / sizeof systems[0];
         i++) {
        if (strcmp(systems[i][0], system) == 0) {
            type = systems[i][1];
        }
    }
    if (strcmp(type, "phone") == 0 && use != NULL &&
        strcmp(use, "mobile") == 0) {
        type = "mobile";
    }
    if ((obj = json_object()) == NULL) {
        return nomem(ctx);
    }
    if ((err = put_str(ctx, obj, "telecomType", type)) != CARDEA_OK ||
        (err = put_str(ctx, obj, "telecomNumber", value)) != CARDEA_OK) {
        json_decref(obj);
        return err;
    }
    *out = obj;
    return CARDEA_OK;
}

/* Appends the telecoms of `res` to the first address, made if needed. */
static cardea_err
patient_telecoms(import_ctx *ctx, json_t *addresses, const json_t *res)
{
    const json_t *list, *item;
    json_t *telecoms, *built = NULL, *first;
    cardea_err err;

    if ((err = get_array(&list, ctx, res, "telecom", "telecom")) !=
            CARDEA_OK ||
        json_array_size(list) == 0) {
        return err;
    }
    if (json_array_size(addresses) == 0 &&
        (err = check(ctx, cardea_json__append_new(addresses,
                                                  json_object()))) !=
            CARDEA_OK) {
        return err;
    }
    first = json_array_get(addresses, 0);
    if ((telecoms = json_array()) == NULL ||
        (err = check(ctx, cardea_json__set_new(first, "telecoms",
                                               telecoms))) != CARDEA_OK) {
        return telecoms == NULL ? nomem(ctx) : err;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        if ((err = get_element(&item, ctx, list, i, "telecom")) !=
                CARDEA_OK ||
            (err = telecom(&built, ctx, item)) != CARDEA_OK ||
            (err = check(ctx, cardea_json__append_new(telecoms, built))) !=
                CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

static cardea_err
patient_addresses(import_ctx *ctx, json_t *patient, const json_t *res)
{
    const json_t *list, *item;
    json_t *addresses, *built = NULL;
    cardea_err err;

    if ((err = get_array(&list, ctx, res, "address", "address")) !=
        CARDEA_OK) {
        return err;
    }
    if ((addresses = json_array()) == NULL) {
        return nomem(ctx);
    }
    for (size_t i = 0; err == CARDEA_OK && i < json_array_size(list); i++) {
        if ((err = get_element(&item, ctx, list, i, "address")) ==
                CARDEA_OK &&
            (err = address(&built, ctx, item)) == CARDEA_OK) {
            err = check(ctx, cardea_json__append_new(addresses, built));
        }
    }
    if (err == CARDEA_OK) {
        err = patient_telecoms(ctx, addresses, res);
    }
    if (err != CARDEA_OK) {
        json_decref(addresses);
        return err;
    }
    return put_nonempty(ctx, patient, "addresses", addresses);
}

static cardea_err
map_patient(import_ctx *ctx, size_t entry)
{
    entry_info *info = &ctx->entries[entry];
    json_t *patient = NULL;
    cardea_err err;

    if ((err = new_entity(&patient, ctx, info->identity)) != CARDEA_OK) {
        return err;
    }
    if ((err = patient_names(ctx, patient, info->resource)) != CARDEA_OK ||
        (err = patient_gender(ctx, patient, info->resource)) != CARDEA_OK ||
        (err = put_date(ctx, patient, "dateOfBirth", info->resource,
                        "birthDate", FUZZY_DATE)) != CARDEA_OK ||
        (err = patient_death(ctx, patient, info->resource)) != CARDEA_OK ||
        (err = patient_addresses(ctx, patient, info->resource)) !=
            CARDEA_OK) {
        json_decref(patient);
        return err;
    }
    ctx->plan->patients++;
    return add_entity(&info->entity, ctx, CARDEA_ENTITY_PATIENT,
                      info->identity, -1, patient);
}

/* ---- Condition ---------------------------------------------------------- */

/* Joins the texts of the Annotation array member "note" into obj.note. */
static cardea_err
put_notes(import_ctx *ctx, json_t *obj, const json_t *res)
{
    const json_t *notes, *note;
    const char *text;
    json_t *texts;
    char *joined = NULL;
    cardea_err err;

    if ((err = get_array(&notes, ctx, res, "note", "note")) != CARDEA_OK ||
        json_array_size(notes) == 0) {
        return err;
    }
    if ((texts = json_array()) == NULL) {
        return nomem(ctx);
    }
    for (size_t i = 0; err == CARDEA_OK && i < json_array_size(notes); i++) {
        if ((err = get_element(&note, ctx, notes, i, "note")) == CARDEA_OK &&
            (err = get_string(&text, ctx, note, "text", "note[].text")) ==
                CARDEA_OK &&
            text != NULL) {
            err = check(ctx, cardea_json__append_new(texts,
                                                     json_string(text)));
        }
    }
    if (err == CARDEA_OK && json_array_size(texts) > 0 &&
        (err = join_strings(&joined, ctx, texts, "\n\n")) == CARDEA_OK) {
        err = put_str(ctx, obj, "note", joined);
    }
    cardea_mem__free(joined);
    json_decref(texts);
    return err;
}

static cardea_err
map_condition(import_ctx *ctx, size_t entry)
{
    entry_info *info = &ctx->entries[entry];
    const json_t *res = info->resource;
    json_t *element = NULL;
    long patient, index;
    cardea_err err;

    if ((err = need_patient(&patient, ctx, res)) != CARDEA_OK ||
        (err = new_entity(&element, ctx, info->identity)) != CARDEA_OK) {
        return err;
    }
    if ((err = put_concept(ctx, element, res, "code", "descr")) ||
        (err = put_notes(ctx, element, res)) ||
        (err = put_date(ctx, element, "openingDate", res, "onsetDateTime",
                        FUZZY_DATETIME)) ||
        (err = put_period_date(ctx, element, "openingDate", res,
                               "onsetPeriod", "start")) ||
        (err = put_date(ctx, element, "closingDate", res,
                        "abatementDateTime", FUZZY_DATETIME)) ||
        (err = put_period_date(ctx, element, "closingDate", res,
                               "abatementPeriod", "start"))) {
        json_decref(element);
        return err;
    }
    ctx->plan->conditions++;
    return add_entity(&index, ctx, CARDEA_ENTITY_HEALTH_ELEMENT,
                      info->identity, patient, element);
}

/* ---- Encounter ---------------------------------------------------------- */

static cardea_err
map_encounter(import_ctx *ctx, size_t entry)
{
    entry_info *info = &ctx->entries[entry];
    const json_t *res = info->resource;
    const json_t *types, *type;
    const char *descr = NULL;
    json_t *contact = NULL, *codes = NULL;
    long patient;
    cardea_err err;

    if ((err = need_patient(&patient, ctx, res)) != CARDEA_OK ||
        (err = get_array(&types, ctx, res, "type", "type")) != CARDEA_OK ||
        (err = new_entity(&contact, ctx, info->identity)) != CARDEA_OK) {
        return err;
    }
    if ((codes = json_array()) == NULL) {
        err = nomem(ctx);
    }
    for (size_t i = 0; err == CARDEA_OK && i < json_array_size(types); i++) {
        if ((err = get_element(&type, ctx, types, i, "type")) == CARDEA_OK &&
            (err = add_codes(ctx, codes, type)) == CARDEA_OK && i == 0) {
            err = concept_text(&descr, ctx, type);
        }
    }
    if (err == CARDEA_OK) {
        err = put_nonempty(ctx, contact, "codes", codes);
        codes = NULL;
    }
    if (err != CARDEA_OK || (err = put_str(ctx, contact, "descr", descr)) ||
        (err = put_period_date(ctx, contact, "openingDate", res, "period",
                               "start")) ||
        (err = put_period_date(ctx, contact, "closingDate", res, "period",
                               "end"))) {
        json_decref(codes);
        json_decref(contact);
        return err;
    }
    ctx->plan->encounters++;
    return add_entity(&info->entity, ctx, CARDEA_ENTITY_CONTACT,
                      info->identity, patient, contact);
}

/* ---- Observation -------------------------------------------------------- */

/* Fills the Content `content` from the value[x] of `src`. */
static cardea_err
put_value(import_ctx *ctx, json_t *content, const json_t *src)
{
    const json_t *quantity, *concept, *value;
    const char *text = NULL, *unit = NULL, *comparator = NULL;
    json_t *measure;
    cardea_err err;

    if ((err = get_object(&quantity, ctx, src, "valueQuantity",
                          "valueQuantity")) != CARDEA_OK ||
        (err = get_object(&concept, ctx, src, "valueCodeableConcept",
                          "valueCodeableConcept")) != CARDEA_OK) {
        return err;
    }
    if (quantity != NULL) {
        value = json_object_get(quantity, "value");
        if (value != NULL && !json_is_number(value)) {
            return fail(ctx, CARDEA_EINVAL,
                        "%s: valueQuantity.value must be a number",
                        ctx->where);
        }
        if ((err = get_string(&unit, ctx, quantity, "unit", "unit")) ||
            (unit == NULL &&
             (err = get_string(&unit, ctx, quantity, "code", "code"))) ||
            (err = get_string(&comparator, ctx, quantity, "comparator",
                              "comparator"))) {
            return err;
        }
        if ((measure = json_object()) == NULL) {
            return nomem(ctx);
        }
        if ((value != NULL &&
             (err = check(ctx, cardea_json__set_new(
                                   measure, "value",
                                   json_deep_copy(value))))) ||
            (err = put_str(ctx, measure, "unit", unit)) ||
            (err = put_str(ctx, measure, "comparator", comparator))) {
            json_decref(measure);
            return err;
        }
        return check(ctx, cardea_json__set_new(content, "measureValue",
                                               measure));
    }
    if (concept != NULL) {
        if ((err = concept_text(&text, ctx, concept)) != CARDEA_OK) {
            return err;
        }
        if (text == NULL) {
            const json_t *coding =
                json_array_get(json_object_get(concept, "coding"), 0);

            text = cardea_json__get_str(coding, "code");
        }
        return put_str(ctx, content, "stringValue", text);
    }
    return CARDEA_OK;
}

/* The value[x] forms that map to one Content member each. */
static cardea_err
put_simple_value(import_ctx *ctx, json_t *content, const json_t *src)
{
    const json_t *value;
    const char *text;
    cardea_err err;

    if ((err = get_string(&text, ctx, src, "valueString", "valueString")) ||
        (text == NULL &&
         (err = get_string(&text, ctx, src, "valueTime", "valueTime"))) ||
        (err = put_str(ctx, content, "stringValue", text))) {
        return err;
    }
    if ((value = json_object_get(src, "valueBoolean")) != NULL) {
        if (!json_is_boolean(value)) {
            return fail(ctx, CARDEA_EINVAL,
                        "%s: valueBoolean must be true or false", ctx->where);
        }
        err = check(ctx, cardea_json__set_new(content, "booleanValue",
                                              json_deep_copy(value)));
    }
    if (err == CARDEA_OK &&
        (value = json_object_get(src, "valueInteger")) != NULL) {
        if (!json_is_integer(value)) {
            return fail(ctx, CARDEA_EINVAL,
                        "%s: valueInteger must be an integer", ctx->where);
        }
        err = check(ctx, cardea_json__set_new(content, "numberValue",
                                              json_deep_copy(value)));
    }
    if (err == CARDEA_OK) {
        err = put_date(ctx, content, "fuzzyDateValue", src, "valueDateTime",
                       FUZZY_DATETIME);
    }
    return err;
}

static cardea_err build_service(json_t **out, import_ctx *ctx,
                                const json_t *src, const char *identity,
                                bool top);

/* Adds one sub-service per component to content.compoundValue. */
static cardea_err
put_components(import_ctx *ctx, json_t *content, const json_t *src,
               const char *identity)
{
    const json_t *components, *component;
    json_t *compound, *sub = NULL;
    char *sub_identity;
    size_t cap;
    cardea_err err;

    if ((err = get_array(&components, ctx, src, "component", "component")) !=
            CARDEA_OK ||
        json_array_size(components) == 0) {
        return err;
    }
    if ((compound = json_array()) == NULL) {
        return nomem(ctx);
    }
    cap = strlen(identity) + 32;
    if ((sub_identity = cardea_mem__alloc(cap)) == NULL) {
        json_decref(compound);
        return nomem(ctx);
    }
    for (size_t i = 0; err == CARDEA_OK && i < json_array_size(components);
         i++) {
        snprintf(sub_identity, cap, "%s#component/%zu", identity, i);
        if ((err = get_element(&component, ctx, components, i,
                               "component")) == CARDEA_OK &&
            (err = build_service(&sub, ctx, component, sub_identity,
                                 false)) == CARDEA_OK) {
            err = check(ctx, cardea_json__append_new(compound, sub));
        }
    }
    cardea_mem__free(sub_identity);
    if (err != CARDEA_OK) {
        json_decref(compound);
        return err;
    }
    return put_nonempty(ctx, content, "compoundValue", compound);
}

/* Sets valueDate from effectiveDateTime, effectiveInstant or the start
 * of effectivePeriod, the first one present. */
static cardea_err
put_effective(import_ctx *ctx, json_t *service, const json_t *src)
{
    static const char *const keys[] = {"effectiveDateTime",
                                       "effectiveInstant"};
    cardea_err err;

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if ((err = put_date(ctx, service, "valueDate", src, keys[i],
                            FUZZY_DATETIME)) != CARDEA_OK ||
            json_object_get(service, "valueDate") != NULL) {
            return err;
        }
    }
    return put_period_date(ctx, service, "valueDate", src, "effectivePeriod",
                           "start");
}

/*
 * Builds a Service from an Observation, or from one of its components
 * when `top` is false (no date and no components of its own).
 */
static cardea_err
build_service(json_t **out, import_ctx *ctx, const json_t *src,
              const char *identity, bool top)
{
    json_t *service = NULL, *content, *localized;
    cardea_err err;

    if ((err = new_entity(&service, ctx, identity)) != CARDEA_OK) {
        return err;
    }
    if ((content = json_object()) == NULL) {
        json_decref(service);
        return nomem(ctx);
    }
    if ((err = put_concept(ctx, service, src, "code", "label")) ||
        (err = put_value(ctx, content, src)) ||
        (err = put_simple_value(ctx, content, src)) ||
        (top && (err = put_components(ctx, content, src, identity)))) {
        goto out;
    }
    if (top && (err = put_effective(ctx, service, src)) != CARDEA_OK) {
        goto out;
    }
    if ((localized = json_object()) == NULL) {
        err = nomem(ctx);
        goto out;
    }
    err = put_nonempty(ctx, localized, CARDEA_FHIR_CONTENT_LANG, content);
    content = NULL;
    if (err == CARDEA_OK) {
        err = put_nonempty(ctx, service, "content", localized);
    } else {
        json_decref(localized);
    }

out:
    json_decref(content);
    if (err != CARDEA_OK) {
        json_decref(service);
        return err;
    }
    *out = service;
    return CARDEA_OK;
}

static cardea_err
map_observation(import_ctx *ctx, size_t entry)
{
    entry_info *info = &ctx->entries[entry];
    const json_t *res = info->resource;
    json_t *contact, *services, *service = NULL;
    long encounter, patient, owner;
    cardea_err err;

    if (!present(res, "encounter")) {
        return count_skipped(ctx, "Observation");
    }
    if ((err = need_ref(&encounter, ctx, res, "encounter", "Encounter")) !=
        CARDEA_OK) {
        return err;
    }
    owner = ctx->entries[encounter].entity;
    contact = ctx->plan->entities[owner].json;

    /* The subject may be left out, but must match the encounter's. */
    if (present(res, "subject")) {
        if ((err = need_patient(&patient, ctx, res)) != CARDEA_OK) {
            return err;
        }
        if (strcmp(ctx->plan->entities[patient].id,
                   ctx->plan->entities[owner].patient_id) != 0) {
            return fail(ctx, CARDEA_EINVAL,
                        "%s: subject and encounter name different patients; "
                        "fix one of the references",
                        ctx->where);
        }
    }

    if ((err = build_service(&service, ctx, res, info->identity, true)) !=
        CARDEA_OK) {
        return err;
    }
    if ((services = json_object_get(contact, "services")) == NULL) {
        services = json_array();
        if ((err = check(ctx, cardea_json__set_new(contact, "services",
                                                   services))) != CARDEA_OK) {
            json_decref(service);
            return err;
        }
    }
    ctx->plan->observations++;
    return check(ctx, cardea_json__append_new(services, service));
}

/* ---- documents ---------------------------------------------------------- */

/* What a document entity is made of, borrowed from the bundle. */
typedef struct document_source {
    const json_t *attachment;
    const json_t *concept;        /* type or code: codes and fallback name */
    const char *description;      /* name when the attachment has no title */
    const char *document_type;    /* iCure documentType, or NULL */
    long patient;
} document_source;

/* Decodes the base64 data of an attachment. */
static cardea_err
decode_data(uint8_t **out, size_t *out_len, import_ctx *ctx, const char *data)
{
    cardea_err err;

    /* An empty attachment still gets a buffer, so that NULL keeps meaning
     * "no attachment". */
    if (data[0] == '\0') {
        *out = cardea_mem__alloc(1);
        *out_len = 0;
        return *out == NULL ? nomem(ctx) : CARDEA_OK;
    }
    err = cardea_base64__decode_alloc(out, out_len, data, strlen(data));
    if (err == CARDEA_EFORMAT) {
        return fail(ctx, CARDEA_EFORMAT,
                    "%s: attachment data is not valid base64 (padded, "
                    "standard alphabet, no whitespace)",
                    ctx->where);
    }
    return check(ctx, err);
}

/* Adds a Document for one attachment with data; `identity` is its own. */
static cardea_err
add_document(import_ctx *ctx, const document_source *src,
             const char *identity, const char *data)
{
    const char *title, *type, *name;
    json_t *document = NULL;
    cardea_fhir_entity *e;
    uint8_t *bytes = NULL;
    size_t len = 0;
    long index;
    cardea_err err;

    if ((err = get_string(&title, ctx, src->attachment, "title",
                          "attachment.title")) ||
        (err = get_string(&type, ctx, src->attachment, "contentType",
                          "attachment.contentType")) ||
        (err = concept_text(&name, ctx, src->concept))) {
        return err;
    }
    name = title != NULL ? title
           : src->description != NULL ? src->description : name;
    if ((err = new_entity(&document, ctx, identity)) != CARDEA_OK) {
        return err;
    }
    if ((err = put_str(ctx, document, "name", name)) ||
        (err = put_str(ctx, document, "documentType", src->document_type)) ||
        (err = put_str(ctx, document, "mainUti",
                       cardea_fhir__uti_of(type))) ||
        (err = put_codes(ctx, document, src->concept)) ||
        (err = decode_data(&bytes, &len, ctx, data))) {
        json_decref(document);
        return err;
    }
    if ((err = add_entity(&index, ctx, CARDEA_ENTITY_DOCUMENT, identity,
                          src->patient, document)) != CARDEA_OK) {
        cardea_mem__free_secret(bytes, len);
        return err;
    }
    e = &ctx->plan->entities[index];
    e->attachment = bytes;
    e->attachment_len = len;
    e->content_type = cardea_mem__strdup(type != NULL
                                             ? type
                                             : "application/octet-stream");
    ctx->plan->documents++;
    return e->content_type == NULL ? nomem(ctx) : CARDEA_OK;
}

/* Identity of attachment `i` of a resource: its own for the first one. */
static cardea_err
attachment_identity(char **out, import_ctx *ctx, const char *identity,
                    size_t i)
{
    size_t cap = strlen(identity) + 32;

    if ((*out = cardea_mem__alloc(cap)) == NULL) {
        return nomem(ctx);
    }
    if (i == 0) {
        snprintf(*out, cap, "%s", identity);
    } else {
        snprintf(*out, cap, "%s#attachment/%zu", identity, i);
    }
    return CARDEA_OK;
}

/* True when an attachment of `list` (each element, or its member `member`
 * when not NULL) has inline data, so the resource gives a Document. */
static bool
has_inline_data(const json_t *list, const char *member)
{
    const json_t *item;
    size_t i;

    json_array_foreach(list, i, item) {
        if (member != NULL) {
            item = json_object_get(item, member);
        }
        if (json_is_string(json_object_get(item, "data"))) {
            return true;
        }
    }
    return false;
}

/*
 * Adds a Document for each element of `list` whose attachment (the
 * element itself, or its member `member` when not NULL) has inline data.
 */
static cardea_err
map_attachments(import_ctx *ctx, size_t entry, document_source *src,
                const json_t *list, const char *member)
{
    entry_info *info = &ctx->entries[entry];
    const json_t *item;
    const char *data;
    char *identity = NULL;
    cardea_err err = CARDEA_OK;

    for (size_t i = 0; err == CARDEA_OK && i < json_array_size(list); i++) {
        if ((err = get_element(&item, ctx, list, i, "attachments")) !=
            CARDEA_OK) {
            break;
        }
        if (member != NULL &&
            (err = get_object(&item, ctx, item, member, member)) !=
                CARDEA_OK) {
            break;
        }
        if (item == NULL ||
            (err = get_string(&data, ctx, item, "data", "attachment.data")) !=
                CARDEA_OK ||
            data == NULL) {
            continue;
        }
        src->attachment = item;
        if ((err = attachment_identity(&identity, ctx, info->identity, i)) ==
            CARDEA_OK) {
            err = add_document(ctx, src, identity, data);
            cardea_mem__free(identity);
        }
    }
    return err;
}

static cardea_err
map_document_reference(import_ctx *ctx, size_t entry)
{
    const json_t *res = ctx->entries[entry].resource;
    document_source src = {0};
    const json_t *content;
    cardea_err err;

    if ((err = get_array(&content, ctx, res, "content", "content")) ||
        (err = get_object(&src.concept, ctx, res, "type", "type")) ||
        (err = get_string(&src.description, ctx, res, "description",
                          "description"))) {
        return err;
    }
    if (!has_inline_data(content, "attachment")) {
        return count_skipped(ctx, "DocumentReference");
    }
    if ((err = need_patient(&src.patient, ctx, res)) != CARDEA_OK) {
        return err;
    }
    return map_attachments(ctx, entry, &src, content, "attachment");
}

static cardea_err
map_diagnostic_report(import_ctx *ctx, size_t entry)
{
    const json_t *res = ctx->entries[entry].resource;
    document_source src = {0};
    const json_t *forms;
    cardea_err err;

    if ((err = get_array(&forms, ctx, res, "presentedForm",
                         "presentedForm")) ||
        (err = get_object(&src.concept, ctx, res, "code", "code"))) {
        return err;
    }
    if (!has_inline_data(forms, NULL)) {
        return count_skipped(ctx, "DiagnosticReport");
    }
    if ((err = need_patient(&src.patient, ctx, res)) != CARDEA_OK) {
        return err;
    }
    src.description = NULL;
    src.document_type = "report";
    return map_attachments(ctx, entry, &src, forms, NULL);
}

/* ---- the plan ----------------------------------------------------------- */

/* Mapped resource types, by pass: owners come before what points at them. */
static const struct {
    const char *type;
    int pass;
    map_fn map;
} mappers[] = {
    {"Patient", 0, map_patient},
    {"Condition", 1, map_condition},
    {"Encounter", 2, map_encounter},
    {"Observation", 3, map_observation},
    {"DocumentReference", 4, map_document_reference},
    {"DiagnosticReport", 4, map_diagnostic_report},
};
#define PASS_COUNT 5

static map_fn
mapper_of(const char *type, int pass)
{
    for (size_t i = 0; i < sizeof mappers / sizeof mappers[0]; i++) {
        if (strcmp(mappers[i].type, type) == 0 &&
            (pass < 0 || mappers[i].pass == pass)) {
            return mappers[i].map;
        }
    }
    return NULL;
}

/*
 * Adds `key` -> entry `i` to the reference index. Two entries under one
 * key are rejected when either is mapped, as references to them would be
 * ambiguous and their entity ids equal.
 */
static cardea_err
index_key(import_ctx *ctx, const char *key, size_t i)
{
    long other = lookup(ctx, key);

    if (other >= 0) {
        if (mapper_of(ctx->entries[other].type, -1) == NULL &&
            mapper_of(ctx->entries[i].type, -1) == NULL) {
            return CARDEA_OK;
        }
        return fail(ctx, CARDEA_EINVAL,
                    "entries %ld and %zu are both \"%.*s\"; each resource "
                    "must appear once in a bundle",
                    other, i, REF_QUOTE_MAX, key);
    }
    return check(ctx, cardea_json__set_new(ctx->index, key,
                                           json_integer((json_int_t)i)));
}

/* Records entry `i`: its resource, identity and index keys. */
static cardea_err
index_entry(import_ctx *ctx, size_t i, const json_t *entry)
{
    entry_info *info = &ctx->entries[i];
    const json_t *res = json_object_get(entry, "resource");
    const char *full_url = cardea_json__get_str(entry, "fullUrl");
    const char *id = cardea_json__get_str(res, "id");
    cardea_err err;

    info->entity = -1;
    info->type = cardea_json__get_str(res, "resourceType");
    if (!json_is_object(res) || info->type == NULL) {
        return fail(ctx, CARDEA_EINVAL,
                    "entry %zu has no resource with a resourceType; only "
                    "bundles of resources can be imported",
                    i);
    }
    info->resource = res;
    if (id != NULL) {
        size_t cap = strlen(info->type) + strlen(id) + 2;

        if ((info->identity = cardea_mem__alloc(cap)) == NULL) {
            return nomem(ctx);
        }
        snprintf(info->identity, cap, "%s/%s", info->type, id);
        if ((err = index_key(ctx, info->identity, i)) != CARDEA_OK) {
            return err;
        }
    } else if (full_url != NULL &&
               (info->identity = cardea_mem__strdup(full_url)) == NULL) {
        return nomem(ctx);
    }
    if (full_url != NULL && (id == NULL || strcmp(full_url, info->identity)) &&
        (err = index_key(ctx, full_url, i)) != CARDEA_OK) {
        return err;
    }

    if (mapper_of(info->type, -1) == NULL) {
        return count_skipped(ctx, info->type);
    }
    if (info->identity == NULL) {
        return fail(ctx, CARDEA_EINVAL,
                    "entry %zu (%s) has neither an id nor a fullUrl, so it "
                    "cannot get a stable entity id; give it an id",
                    i, info->type);
    }
    return CARDEA_OK;
}

static cardea_err
run_passes(import_ctx *ctx)
{
    cardea_err err = CARDEA_OK;

    for (int pass = 0; pass < PASS_COUNT && err == CARDEA_OK; pass++) {
        for (size_t i = 0; i < ctx->entries_len && err == CARDEA_OK; i++) {
            map_fn map = mapper_of(ctx->entries[i].type, pass);

            if (map != NULL) {
                ctx->where = ctx->entries[i].identity;
                err = map(ctx, i);
            }
        }
        if (err == CARDEA_OK && pass == 0 && ctx->plan->patients == 0) {
            err = fail(ctx, CARDEA_EINVAL,
                       "the Bundle contains no Patient resource; a bundle "
                       "to import must hold the Patient its records belong "
                       "to");
        }
    }
    return err;
}

/* see cli/fhir.h */
cardea_err
cardea_fhir__plan_build(cardea_fhir_plan **out, const char *name,
                        const json_t *bundle, char *errmsg,
                        size_t errmsg_cap)
{
    const json_t *entries = json_object_get(bundle, "entry");
    import_ctx ctx = {0};
    cardea_err err = CARDEA_OK;

    if (out == NULL || name == NULL || !json_is_array(entries)) {
        return CARDEA_EINVAL;
    }
    ctx.name = name;
    ctx.errmsg = errmsg;
    ctx.errmsg_cap = errmsg_cap;
    ctx.entries_len = json_array_size(entries);
    ctx.plan = cardea_mem__calloc(1, sizeof *ctx.plan);
    ctx.entries = cardea_mem__calloc(ctx.entries_len + 1, sizeof *ctx.entries);
    ctx.index = json_object();
    if (ctx.plan == NULL || ctx.entries == NULL || ctx.index == NULL) {
        err = nomem(&ctx);
        goto out;
    }

    for (size_t i = 0; i < ctx.entries_len && err == CARDEA_OK; i++) {
        const json_t *entry = json_array_get(entries, i);

        err = json_is_object(entry)
                  ? index_entry(&ctx, i, entry)
                  : fail(&ctx, CARDEA_EINVAL,
                         "entry %zu is not a JSON object", i);
    }
    if (err == CARDEA_OK) {
        err = run_passes(&ctx);
    }

out:
    for (size_t i = 0; ctx.entries != NULL && i < ctx.entries_len; i++) {
        cardea_mem__free(ctx.entries[i].identity);
    }
    cardea_mem__free(ctx.entries);
    json_decref(ctx.index);
    if (err != CARDEA_OK) {
        cardea_fhir__plan_free(ctx.plan);
        return err;
    }
    *out = ctx.plan;
    return CARDEA_OK;
}
