/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The encrypted fields of a session (cardea_session_options.
 * encrypted_fields): per entity type, the default manifest of the
 * official SDK extended with the application's entries, parsed once when
 * the session opens, and the entity encryption that uses them.
 */
#include <stdio.h>
#include <string.h>

#include "format/encrypted_self.h"
#include "sdk/sdk.h"

/* Entity types that take extra entries, in the order of `manifests`. */
enum {
    FIELDS_PATIENT,
    FIELDS_HEALTH_ELEMENT,
    FIELDS_CONTACT,
    FIELDS_SERVICE,
    FIELDS_DOCUMENT,
    FIELDS_MAINTENANCE_TASK,
    FIELDS_TYPES
};

static const char *const type_names[FIELDS_TYPES] = {
    "Patient", "HealthElement", "Contact", "Service", "Document",
    "MaintenanceTask",
};

struct cardea_sdk_fields {
    cardea_manifest *manifests[FIELDS_TYPES];
};

/* see sdk/sdk.h */
void
cardea_sdk__fields_free(cardea_sdk_fields *fields)
{
    if (fields == NULL) {
        return;
    }
    for (size_t i = 0; i < FIELDS_TYPES; i++) {
        cardea_manifest__free(fields->manifests[i]);
    }
    cardea_mem__free(fields);
}

static bool
listed(const char *const *list, size_t count, const char *entry)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(list[i], entry) == 0) {
            return true;
        }
    }
    return false;
}

/* True when `entry` is `name` itself or starts with `name.` or `name[`. */
static bool
names_member(const char *entry, const char *name)
{
    size_t len = strlen(name);

    return strncmp(entry, name, len) == 0
           && (entry[len] == '\0' || entry[len] == '.' || entry[len] == '[');
}

/* Parses the default entries of one type plus the new extra ones. */
static cardea_err
build_one(cardea_manifest **out, size_t type, const char *const *extra,
          size_t extra_count, char *errmsg, size_t errmsg_cap)
{
    const char *const *defaults = NULL;
    const char **entries = NULL;
    size_t default_count = 0;
    size_t count;
    cardea_err err;

    err = cardea_manifest__default_entries(&defaults, &default_count,
                                           type_names[type]);
    if (err != CARDEA_OK) {
        return err;
    }
    entries = cardea_mem__calloc(default_count + extra_count + 1,
                                 sizeof *entries);
    if (entries == NULL) {
        return CARDEA_ENOMEM;
    }
    memcpy(entries, defaults, default_count * sizeof *entries);
    count = default_count;
    for (size_t i = 0; i < extra_count && err == CARDEA_OK; i++) {
        if (extra[i] == NULL
            || (type == FIELDS_CONTACT && names_member(extra[i], "services"))
            || (type == FIELDS_SERVICE && names_member(extra[i], "content"))) {
            err = CARDEA_EINVAL;
        } else if (!listed(entries, count, extra[i])) {
            entries[count++] = extra[i];
        }
    }
    if (err == CARDEA_OK) {
        err = cardea_manifest__parse(out, entries, count);
    }
    cardea_mem__free(entries);
    if (err == CARDEA_EINVAL) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "invalid encrypted field "
                           "entries for %s: an entry is NULL, not valid "
                           "manifest grammar, listed twice, or names %s",
                           type_names[type],
                           type == FIELDS_CONTACT   ? "services"
                           : type == FIELDS_SERVICE ? "content"
                                                    : "encryptedSelf");
    }
    return err;
}

/* see sdk/sdk.h */
cardea_err
cardea_sdk__fields_new(cardea_sdk_fields **out,
                       const cardea_encrypted_fields *config, char *errmsg,
                       size_t errmsg_cap)
{
    const char *const *lists[FIELDS_TYPES] = {
        config->patient, config->health_element, config->contact,
        config->service, config->document, config->maintenance_task,
    };
    const size_t counts[FIELDS_TYPES] = {
        config->patient_count, config->health_element_count,
        config->contact_count, config->service_count, config->document_count,
        config->maintenance_task_count,
    };
    cardea_sdk_fields *fields;
    cardea_err err = CARDEA_OK;

    if (config->version != CARDEA_ENCRYPTED_FIELDS_VERSION) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "unknown "
                           "cardea_encrypted_fields version");
        return CARDEA_EINVAL;
    }
    if ((fields = cardea_mem__calloc(1, sizeof *fields)) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t t = 0; t < FIELDS_TYPES && err == CARDEA_OK; t++) {
        if (lists[t] == NULL && counts[t] > 0) {
            cardea_sdk__errmsg(errmsg, errmsg_cap, "encrypted fields of %s: "
                               "NULL list with %zu entries", type_names[t],
                               counts[t]);
            err = CARDEA_EINVAL;
        } else {
            err = build_one(&fields->manifests[t], t, lists[t], counts[t],
                            errmsg, errmsg_cap);
        }
    }
    if (err != CARDEA_OK) {
        cardea_sdk__fields_free(fields);
        return err;
    }
    *out = fields;
    return CARDEA_OK;
}

static int
type_index(const char *entity_type)
{
    for (int i = 0; i < FIELDS_TYPES; i++) {
        if (strcmp(type_names[i], entity_type) == 0) {
            return i;
        }
    }
    return -1;
}

/* see sdk/sdk.h */
cardea_err
cardea_sdk__encrypt_entity(json_t **out, const cardea_session *session,
                           const char *entity_type, const json_t *plain,
                           const cardea_entity_key *key)
{
    const cardea_sdk_fields *fields = session->fields;
    int index = type_index(entity_type);

    if (fields == NULL || index < 0) {
        return cardea_encrypted_self__encrypt_entity(out, entity_type, plain,
                                                     key);
    }
    if (index == FIELDS_CONTACT) {
        return cardea_encrypted_self__encrypt_contact(
            out, plain, fields->manifests[FIELDS_CONTACT],
            fields->manifests[FIELDS_SERVICE], key);
    }
    if (index == FIELDS_SERVICE) {
        return cardea_encrypted_self__encrypt_service(
            out, plain, fields->manifests[FIELDS_SERVICE], key);
    }
    return cardea_encrypted_self__encrypt(out, plain,
                                          fields->manifests[index], key);
}
