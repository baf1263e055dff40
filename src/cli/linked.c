/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The entities of one patient. Health elements, contacts and documents
 * carry the patient's secret ids in clear in `secretForeignKeys`, so the
 * server can find them without learning whose they are. This file opens
 * the patient's sharing metadata to learn its secret ids, asks the server
 * for the entities that carry one of them, and fetches entities in pages.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/fhir.h"
#include "sdk/exchange.h"

/* The patient's secret ids as a JSON array. */
static cardea_err
secret_ids(json_t **out, cardea_session *session, const char *patient_id)
{
    cardea_sdk_access access = {0};
    json_t *ids = json_array();
    cardea_err err;

    if (ids == NULL) {
        return CARDEA_ENOMEM;
    }
    err = cardea_sdk__xd_begin(session);
    if (err == CARDEA_OK) {
        err = cardea_sdk__access_fetch(
            &access, session, cardea_sdk__kind(CARDEA_ENTITY_PATIENT),
            patient_id);
    }
    for (size_t i = 0; i < access.secret_ids.count && err == CARDEA_OK;
         i++) {
        err = cardea_json__append_new(
            ids, json_string(access.secret_ids.items[i]));
    }
    cardea_sdk__access_free(&access);
    if (err != CARDEA_OK) {
        json_decref(ids);
        return err;
    }
    *out = ids;
    return CARDEA_OK;
}

/* The filter by secret foreign keys of `type`; takes `keys`. */
static json_t *
by_patient_filter(cardea_entity_type type, const char *self, json_t *keys)
{
    switch (type) {
    case CARDEA_ENTITY_HEALTH_ELEMENT:
        return json_pack("{s:s, s:s, s:o}", "$type",
                         "HealthElementByHcPartySecretForeignKeysFilter",
                         "healthcarePartyId", self,
                         "patientSecretForeignKeys", keys);
    case CARDEA_ENTITY_CONTACT:
        return json_pack("{s:s, s:s, s:o}", "$type",
                         "ContactByDataOwnerPatientOpeningDateFilter",
                         "dataOwnerId", self, "secretForeignKeys", keys);
    case CARDEA_ENTITY_DOCUMENT:
        return json_pack("{s:s, s:s, s:o}", "$type",
                         "DocumentByDataOwnerPatientDateFilter",
                         "dataOwnerId", self, "secretPatientKeys", keys);
    default:
        json_decref(keys);
        return NULL;
    }
}

/* see cli/cli.h */
cardea_err
cardea_cli__patient_links(char ***ids, size_t *count, cardea_session *session,
                          cardea_entity_type type, const char *patient_id,
                          const char *code_type, const char *code)
{
    const char *self = cardea_session_data_owner_id(session);
    json_t *keys = NULL;
    json_t *filter = NULL;
    char *text = NULL;
    cardea_err err;

    if (type == CARDEA_ENTITY_PATIENT
        || type == CARDEA_ENTITY_MAINTENANCE_TASK
        || (code != NULL && type == CARDEA_ENTITY_DOCUMENT)) {
        return CARDEA_EUNSUPPORTED;
    }
    if ((err = secret_ids(&keys, session, patient_id)) != CARDEA_OK) {
        return err;
    }
    if (json_array_size(keys) == 0) {
        json_decref(keys);
        *ids = NULL;
        *count = 0;
        return CARDEA_OK;
    }
    filter = by_patient_filter(type, self, keys);
    if (filter != NULL && code != NULL) {
        json_t *by_code = cardea_cli__code_filter(type, self, code_type,
                                                  code);

        filter = by_code == NULL ? NULL
                                 : json_pack("{s:s, s:[o,o]}", "$type",
                                             "IntersectionFilter", "filters",
                                             filter, by_code);
    }
    if (filter == NULL || (text = cardea_json__dump(filter)) == NULL) {
        json_decref(filter);
        return CARDEA_ENOMEM;
    }
    err = cardea_entity_match(ids, count, session, type, text);
    cardea_free(text);
    json_decref(filter);
    return err;
}

/* see cli/cli.h */
json_t *
cardea_cli__code_filter(cardea_entity_type type, const char *self,
                        const char *code_type, const char *code)
{
    const char *name = type == CARDEA_ENTITY_HEALTH_ELEMENT
                           ? "HealthElementByHcPartyTagCodeFilter"
                           : "ContactByHcPartyTagCodeDateFilter";

    if (type != CARDEA_ENTITY_HEALTH_ELEMENT
        && type != CARDEA_ENTITY_CONTACT) {
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:s}", "$type", name,
                     "healthcarePartyId", self, "codeType", code_type,
                     "codeCode", code);
}

/* see cli/cli.h */
cardea_err
cardea_cli__fetch_all(json_t **out, size_t *failed, cardea_session *session,
                      cardea_entity_type type, char *const *ids, size_t count)
{
    json_t *all = json_array();
    size_t failures = 0;
    cardea_err err = all != NULL ? CARDEA_OK : CARDEA_ENOMEM;

    for (size_t start = 0; start < count && err == CARDEA_OK;
         start += CARDEA_SDK_BY_IDS_MAX) {
        size_t n = count - start < CARDEA_SDK_BY_IDS_MAX
                       ? count - start
                       : CARDEA_SDK_BY_IDS_MAX;
        char **failed_ids = NULL;
        size_t failed_count = 0;
        char *text = NULL;
        json_t *page = NULL;

        err = cardea_entity_get_by_ids(&text, &failed_ids, &failed_count,
                                       session, type,
                                       (const char *const *)ids + start, n);
        if (err == CARDEA_OK) {
            err = cardea_json__parse(&page, text, strlen(text), NULL, 0);
        }
        if (err == CARDEA_OK && json_array_extend(all, page) != 0) {
            err = CARDEA_ENOMEM;
        }
        failures += failed_count;
        cardea_strings_free(failed_ids, failed_count);
        json_decref(page);
        if (text != NULL) {
            cardea_mem__free_secret(text, strlen(text));
        }
    }
    if (err != CARDEA_OK) {
        json_decref(all);
        return err;
    }
    *out = all;
    *failed = failures;
    return CARDEA_OK;
}

/* Appends the decrypted entities of `array` to `set` as `type`. */
static cardea_err
append_entities(cardea_cli_patient_data *set, cardea_session *session,
                cardea_entity_type type, const char *patient_id,
                json_t *array, bool attachments)
{
    size_t n = json_array_size(array);
    cardea_fhir_entity *grown;
    json_t *entity;
    size_t index;
    cardea_err err = CARDEA_OK;

    grown = cardea_mem__realloc(set->entities,
                                (set->count + n + 1) * sizeof *grown);
    if (grown == NULL) {
        return CARDEA_ENOMEM;
    }
    set->entities = grown;
    json_array_foreach(array, index, entity) {
        cardea_fhir_entity *e = &set->entities[set->count];
        const char *id = cardea_json__get_str(entity, "id");

        memset(e, 0, sizeof *e);
        e->type = type;
        snprintf(e->id, sizeof e->id, "%s", id != NULL ? id : "");
        snprintf(e->patient_id, sizeof e->patient_id, "%s", patient_id);
        e->json = json_incref(entity);
        set->count++;
        if (attachments && type == CARDEA_ENTITY_DOCUMENT
            && cardea_json__get_str(entity, "attachmentId") != NULL) {
            err = cardea_document_get_attachment(&e->attachment,
                                                 &e->attachment_len,
                                                 session, e->id);
            if (err != CARDEA_OK) {
                return err;
            }
        }
    }
    return err;
}

/* see cli/cli.h */
cardea_err
cardea_cli__patient_data(cardea_cli_patient_data *out,
                         cardea_session *session, const char *patient_id,
                         bool attachments)
{
    cardea_cli_patient_data set = {0};
    char *patient_id_copy = (char *)patient_id;
    cardea_err err = CARDEA_OK;

    for (int t = CARDEA_ENTITY_PATIENT;
         t <= CARDEA_ENTITY_DOCUMENT && err == CARDEA_OK; t++) {
        cardea_entity_type type = (cardea_entity_type)t;
        char **ids = NULL;
        size_t count = 0;
        json_t *array = NULL;
        size_t failed = 0;

        if (type == CARDEA_ENTITY_PATIENT) {
            err = cardea_cli__fetch_all(&array, &failed, session, type,
                                        &patient_id_copy, 1);
        } else {
            err = cardea_cli__patient_links(&ids, &count, session, type,
                                            patient_id, NULL, NULL);
            if (err == CARDEA_OK) {
                err = cardea_cli__fetch_all(&array, &failed, session, type,
                                            ids, count);
            }
        }
        if (err == CARDEA_OK) {
            set.undecryptable += failed;
            err = append_entities(&set, session, type, patient_id, array,
                                  attachments);
        }
        json_decref(array);
        cardea_strings_free(ids, count);
    }
    if (err == CARDEA_OK && (set.count == 0
                             || set.entities[0].type
                                    != CARDEA_ENTITY_PATIENT)) {
        err = CARDEA_ENOTFOUND;
    }
    if (err != CARDEA_OK) {
        cardea_cli__patient_data_free(&set);
        return err;
    }
    *out = set;
    return CARDEA_OK;
}

/* see cli/cli.h */
void
cardea_cli__patient_data_free(cardea_cli_patient_data *set)
{
    for (size_t i = 0; i < set->count; i++) {
        json_decref(set->entities[i].json);
        cardea_mem__free_secret(set->entities[i].attachment,
                                set->entities[i].attachment_len);
    }
    cardea_mem__free(set->entities);
    memset(set, 0, sizeof *set);
}
