/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifests of encrypted fields: the parser of the entry grammar described
 * in format/encrypted_self.h, the default manifests of the official SDK
 * for each entity type, and the parsing of entity keys.
 */
#include <string.h>

#include "base/base.h"
#include "format/encrypted_self.h"

/* Entries grouped under one nested name while a level is parsed. */
typedef struct entry_group {
    char **items;
    size_t len;
    size_t cap;
} entry_group;

typedef struct level_state {
    cardea_manifest *manifest;
    entry_group *groups; /* one per manifest->nested entry */
    size_t cap;          /* capacity of nested and groups */
} level_state;

static cardea_err parse_level(cardea_manifest **out,
                              const char *const *entries, size_t entries_len,
                              int depth);

/* ---- entity keys -------------------------------------------------------- */

/* see format/encrypted_self.h */
cardea_err
cardea_entity_key__parse(cardea_entity_key *out, const char *s, size_t len)
{
    char hex[2 * CARDEA_ENTITY_KEY_MAX_LEN];
    cardea_entity_key key = {0};
    size_t hex_len = 0;
    cardea_err err = CARDEA_EFORMAT;

    if (out == NULL || s == NULL) {
        return CARDEA_EINVAL;
    }

    /* Legacy keys may be UUID strings: drop every dash, keep the digits. */
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '-') {
            continue;
        }
        if (hex_len == sizeof hex) {
            goto out;
        }
        hex[hex_len++] = s[i];
    }
    if (hex_len != 2 * 16 && hex_len != 2 * 32) {
        goto out;
    }
    if (cardea_hex__decode(key.bytes, sizeof key.bytes, &key.len, hex,
                           hex_len) != CARDEA_OK) {
        goto out;
    }
    *out = key;
    err = CARDEA_OK;

out:
    cardea_wipe(hex, sizeof hex);
    cardea_wipe(&key, sizeof key);
    return err;
}

/* ---- freeing ------------------------------------------------------------ */

static void
free_group(entry_group *group)
{
    for (size_t i = 0; i < group->len; i++) {
        cardea_mem__free(group->items[i]);
    }
    cardea_mem__free(group->items);
}

/* see format/encrypted_self.h */
void
cardea_manifest__free(cardea_manifest *manifest)
{
    if (manifest == NULL) {
        return;
    }
    for (size_t i = 0; i < manifest->fields_len; i++) {
        cardea_mem__free(manifest->fields[i]);
    }
    for (size_t i = 0; i < manifest->nested_len; i++) {
        cardea_mem__free(manifest->nested[i].name);
        cardea_manifest__free(manifest->nested[i].manifest);
    }
    cardea_mem__free(manifest->fields);
    cardea_mem__free(manifest->nested);
    cardea_mem__free(manifest);
}

/* ---- lookups ------------------------------------------------------------ */

static bool
has_field(const cardea_manifest *m, const char *name, size_t name_len)
{
    for (size_t i = 0; i < m->fields_len; i++) {
        if (strlen(m->fields[i]) == name_len &&
            memcmp(m->fields[i], name, name_len) == 0) {
            return true;
        }
    }
    return false;
}

/* Index of the nested entry `name`, or -1. */
static long
find_nested(const cardea_manifest *m, const char *name, size_t name_len)
{
    for (size_t i = 0; i < m->nested_len; i++) {
        if (strlen(m->nested[i].name) == name_len &&
            memcmp(m->nested[i].name, name, name_len) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* see format/encrypted_self.h */
bool
cardea_manifest__names(const cardea_manifest *manifest, const char *name)
{
    if (manifest == NULL || name == NULL) {
        return false;
    }
    return has_field(manifest, name, strlen(name)) ||
           find_nested(manifest, name, strlen(name)) >= 0;
}

/* ---- parsing one level -------------------------------------------------- */

static bool
is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static cardea_err
group_add(entry_group *group, const char *item, size_t item_len)
{
    char *copy;

    if (item_len == 0) {
        return CARDEA_EINVAL;
    }
    if (group->len == group->cap) {
        size_t cap = group->cap == 0 ? 4 : 2 * group->cap;
        char **items = cardea_mem__realloc(group->items, cap * sizeof *items);

        if (items == NULL) {
            return CARDEA_ENOMEM;
        }
        group->items = items;
        group->cap = cap;
    }
    copy = cardea_mem__strndup(item, item_len);
    if (copy == NULL) {
        return CARDEA_ENOMEM;
    }
    group->items[group->len++] = copy;
    return CARDEA_OK;
}

/* Splits "{a,b.{c,d}}" at its top-level commas into `group`. */
static cardea_err
expand_braces(entry_group *group, const char *rest, size_t rest_len)
{
    size_t start = 1;
    int nesting = 0;
    cardea_err err;

    if (rest_len < 2 || rest[rest_len - 1] != '}') {
        return CARDEA_EINVAL;
    }
    for (size_t i = 1; i < rest_len - 1; i++) {
        char c = rest[i];

        if (c == '{' || c == '[') {
            nesting++;
        } else if (c == '}' || c == ']') {
            if (--nesting < 0) {
                return CARDEA_EINVAL;
            }
        } else if (c == ',' && nesting == 0) {
            if ((err = group_add(group, rest + start, i - start)) !=
                CARDEA_OK) {
                return err;
            }
            start = i + 1;
        }
    }
    if (nesting != 0) {
        return CARDEA_EINVAL;
    }
    return group_add(group, rest + start, rest_len - 1 - start);
}

/* Adds each string of the JSON array `rest` (["a","b"]) to `group`. */
static cardea_err
expand_json_array(entry_group *group, const char *rest, size_t rest_len)
{
    json_t *array = NULL;
    cardea_err err;
    size_t i;
    json_t *item;

    if (cardea_json__parse(&array, rest, rest_len, NULL, 0) != CARDEA_OK ||
        !json_is_array(array)) {
        json_decref(array);
        return CARDEA_EINVAL;
    }
    err = CARDEA_OK;
    json_array_foreach(array, i, item) {
        const char *s = json_string_value(item);

        if (s == NULL) {
            err = CARDEA_EINVAL;
            break;
        }
        if ((err = group_add(group, s, json_string_length(item))) !=
            CARDEA_OK) {
            break;
        }
    }
    json_decref(array);
    return err;
}

static cardea_err
add_field(level_state *st, const char *name, size_t name_len)
{
    cardea_manifest *m = st->manifest;
    char **fields;
    char *copy;

    if ((name_len == 13 && memcmp(name, "encryptedSelf", 13) == 0) ||
        has_field(m, name, name_len) || find_nested(m, name, name_len) >= 0) {
        return CARDEA_EINVAL;
    }
    fields = cardea_mem__realloc(m->fields,
                                 (m->fields_len + 1) * sizeof *fields);
    if (fields == NULL) {
        return CARDEA_ENOMEM;
    }
    m->fields = fields;
    copy = cardea_mem__strndup(name, name_len);
    if (copy == NULL) {
        return CARDEA_ENOMEM;
    }
    m->fields[m->fields_len++] = copy;
    return CARDEA_OK;
}

/* Returns the group of nested entry `name`, creating it if needed. */
static cardea_err
nested_group(entry_group **out, level_state *st, const char *name,
             size_t name_len, cardea_manifest_kind kind)
{
    cardea_manifest *m = st->manifest;
    long found = find_nested(m, name, name_len);
    char *copy;

    if (has_field(m, name, name_len)) {
        return CARDEA_EINVAL;
    }
    if (found >= 0) {
        if (m->nested[found].kind != kind) {
            return CARDEA_EINVAL;
        }
        *out = &st->groups[found];
        return CARDEA_OK;
    }
    if (m->nested_len == st->cap) {
        size_t cap = st->cap == 0 ? 4 : 2 * st->cap;
        cardea_manifest_nested *nested;
        entry_group *groups;

        nested = cardea_mem__realloc(m->nested, cap * sizeof *nested);
        if (nested == NULL) {
            return CARDEA_ENOMEM;
        }
        m->nested = nested;
        groups = cardea_mem__realloc(st->groups, cap * sizeof *groups);
        if (groups == NULL) {
            return CARDEA_ENOMEM;
        }
        st->groups = groups;
        st->cap = cap;
    }
    if ((copy = cardea_mem__strndup(name, name_len)) == NULL) {
        return CARDEA_ENOMEM;
    }
    m->nested[m->nested_len] =
        (cardea_manifest_nested){.name = copy, .kind = kind};
    st->groups[m->nested_len] = (entry_group){0};
    *out = &st->groups[m->nested_len++];
    return CARDEA_OK;
}

/* Parses one entry into a field or into the group of a nested entry. */
static cardea_err
add_entry(level_state *st, const char *entry)
{
    static const struct {
        const char *text;
        size_t len;
        cardea_manifest_kind kind;
    } separators[] = {
        {".*.", 3, CARDEA_MANIFEST_MAP},
        {"[].", 3, CARDEA_MANIFEST_ARRAY},
        {".", 1, CARDEA_MANIFEST_OBJECT},
    };
    size_t name_len = 0;
    entry_group *group = NULL;
    cardea_err err;

    if (strcmp(entry, "*") == 0) {
        return add_field(st, entry, 1);
    }
    if (!is_name_start(entry[0])) {
        return CARDEA_EINVAL;
    }
    while (is_name_char(entry[name_len])) {
        name_len++;
    }
    if (entry[name_len] == '\0') {
        return add_field(st, entry, name_len);
    }

    for (size_t i = 0; i < sizeof separators / sizeof separators[0]; i++) {
        const char *rest = entry + name_len + separators[i].len;
        size_t rest_len;

        if (strncmp(entry + name_len, separators[i].text,
                    separators[i].len) != 0) {
            continue;
        }
        rest_len = strlen(rest);
        err = nested_group(&group, st, entry, name_len, separators[i].kind);
        if (err != CARDEA_OK) {
            return err;
        }
        if (rest[0] == '{') {
            return expand_braces(group, rest, rest_len);
        }
        if (rest[0] == '[') {
            return expand_json_array(group, rest, rest_len);
        }
        return group_add(group, rest, rest_len);
    }
    return CARDEA_EINVAL;
}

static cardea_err
parse_nested(level_state *st, int depth)
{
    cardea_manifest *m = st->manifest;
    cardea_err err;

    for (size_t i = 0; i < m->nested_len; i++) {
        entry_group *group = &st->groups[i];

        err = parse_level(&m->nested[i].manifest,
                          (const char *const *)group->items, group->len,
                          depth + 1);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

static cardea_err
parse_level(cardea_manifest **out, const char *const *entries,
            size_t entries_len, int depth)
{
    level_state st = {0};
    cardea_err err = CARDEA_OK;

    if (depth > CARDEA_MANIFEST_MAX_DEPTH) {
        return CARDEA_EINVAL;
    }
    st.manifest = cardea_mem__calloc(1, sizeof *st.manifest);
    if (st.manifest == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < entries_len && err == CARDEA_OK; i++) {
        err = entries[i] == NULL ? CARDEA_EINVAL : add_entry(&st, entries[i]);
    }
    if (err == CARDEA_OK) {
        err = parse_nested(&st, depth);
    }

    /* "*" encrypts everything, so nothing else may share its level. */
    st.manifest->full = has_field(st.manifest, "*", 1);
    if (err == CARDEA_OK && st.manifest->full &&
        (st.manifest->fields_len != 1 || st.manifest->nested_len != 0)) {
        err = CARDEA_EINVAL;
    }

    for (size_t i = 0; i < st.manifest->nested_len; i++) {
        free_group(&st.groups[i]);
    }
    cardea_mem__free(st.groups);
    if (err != CARDEA_OK) {
        cardea_manifest__free(st.manifest);
        return err;
    }
    *out = st.manifest;
    return CARDEA_OK;
}

/* see format/encrypted_self.h */
cardea_err
cardea_manifest__parse(cardea_manifest **out, const char *const *entries,
                       size_t entries_len)
{
    if (out == NULL || (entries == NULL && entries_len > 0)) {
        return CARDEA_EINVAL;
    }
    return parse_level(out, entries, entries_len, 1);
}

/* ---- defaults ----------------------------------------------------------- */

/*
 * Default encrypted fields of the official SDK (EncryptedFieldsConfiguration
 * in cardinal-sdk's SdkOptions.kt), without the entries it marks as
 * deprecated and ignored outside its legacy mode.
 */
static const char *const patient_fields[] = {
    "note", "notes[].markdown", "created", "modified", "companyName",
    "languages", "civility", "birthSex", "personalStatus", "nationality",
    "race", "ethnicity", "insurabilities[].*", "partnerships[].*",
    "patientHealthCareParties[].*", "financialInstitutionInformation[].*",
    "medicalHouseContracts[].*", "patientProfessions",
};
static const char *const contact_fields[] = {
    "descr", "notes[].markdown", "location", "encounterLocation",
    "participantList",
};
static const char *const service_fields[] = {
    "notes[].markdown",
    "comment",
};
static const char *const health_element_fields[] = {
    "descr",
    "note",
    "notes[].markdown",
    "careTeam[].{careTeamMemberType,healthcarePartyId,quality}",
    "episodes[].{name,comment}",
};
static const char *const calendar_item_fields[] = {
    "details", "title", "phoneNumber", "address", "addressText",
    "meetingTags[].*",
};
static const char *const access_log_fields[] = {"detail", "objectId"};
static const char *const maintenance_task_fields[] = {"properties"};
static const char *const message_fields[] = {"subject"};
static const char *const topic_fields[] = {
    "description",
    "linkedServices",
    "linkedHealthElements",
};
static const char *const document_fields[] = {"name"};
static const char *const form_fields[] = {"descr"};
static const char *const receipt_fields[] = {"references"};
static const char *const classification_fields[] = {"label"};
static const char *const invoice_fields[] = {"reason"};

#define DEFAULTS(type, list) {type, list, sizeof list / sizeof list[0]}

static const struct {
    const char *type;
    const char *const *entries;
    size_t len;
} defaults[] = {
    DEFAULTS("Patient", patient_fields),
    DEFAULTS("Contact", contact_fields),
    DEFAULTS("Service", service_fields),
    DEFAULTS("HealthElement", health_element_fields),
    DEFAULTS("CalendarItem", calendar_item_fields),
    DEFAULTS("AccessLog", access_log_fields),
    DEFAULTS("MaintenanceTask", maintenance_task_fields),
    DEFAULTS("Message", message_fields),
    DEFAULTS("Topic", topic_fields),
    DEFAULTS("Document", document_fields),
    DEFAULTS("Form", form_fields),
    DEFAULTS("Receipt", receipt_fields),
    DEFAULTS("Classification", classification_fields),
    DEFAULTS("Invoice", invoice_fields),
    {"TimeTable", NULL, 0},
};

/* see format/encrypted_self.h */
cardea_err
cardea_manifest__default_entries(const char *const **out, size_t *out_len,
                                 const char *entity_type)
{
    if (out == NULL || out_len == NULL || entity_type == NULL) {
        return CARDEA_EINVAL;
    }
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        if (strcmp(defaults[i].type, entity_type) == 0) {
            *out = defaults[i].entries;
            *out_len = defaults[i].len;
            return CARDEA_OK;
        }
    }
    return CARDEA_ENOTFOUND;
}

/* see format/encrypted_self.h */
cardea_err
cardea_manifest__default(cardea_manifest **out, const char *entity_type)
{
    const char *const *entries = NULL;
    size_t len = 0;
    cardea_err err;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    err = cardea_manifest__default_entries(&entries, &len, entity_type);
    if (err != CARDEA_OK) {
        return err;
    }
    return cardea_manifest__parse(out, entries, len);
}
