/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Give-access-back through KEY_PAIR_UPDATE maintenance tasks, compatible
 * with @icure/cardinal-sdk. A data owner that lost its keys and made a
 * new one requests each counterpart, in an encrypted task shared with it,
 * to add the new public key to the exchange data they share. The
 * counterpart checks that the requester publishes that key and that its
 * strategies accept it, then extends every exchange data between the two,
 * in both directions, without touching delegator signatures.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cardea/entity.h"
#include "sdk/exchange.h"

#define TASK_TYPE "KEY_PAIR_UPDATE"
#define OWNER_PROPERTY "dataOwnerConcernedId"
#define KEY_PROPERTY "dataOwnerConcernedPubKey"
/* Tasks read by one cardea_access_back_list call. */
#define LIST_MAX 1000

/* ---- asking ------------------------------------------------------------- */

/* The user's newest device key, or NULL. */
static const cardea_sdk_key *
newest_device_key(const cardea_session *session)
{
    const cardea_sdk_key *found = NULL;

    for (size_t i = 0; i < session->key_count; i++) {
        if (session->keys[i].owner == session->owner_count - 1 &&
            session->keys[i].device) {
            found = &session->keys[i];
        }
    }
    return found;
}

static unsigned
default_types(cardea_data_owner_type type)
{
    switch (type) {
    case CARDEA_DATA_OWNER_PATIENT:
        return CARDEA_ACCESS_BACK_PATIENT | CARDEA_ACCESS_BACK_HCP;
    case CARDEA_DATA_OWNER_HCP:
        return CARDEA_ACCESS_BACK_HCP;
    default:
        return 0;
    }
}

/* GET .../counterparts for `types`, skipping data already open to the
 * key with fingerprint v2 `fp`. */
static cardea_err
counterparts(json_t **out, cardea_session *session, unsigned types,
             const char *fp)
{
    char *self = NULL;
    char path[512];
    cardea_err err;

    if ((err = cardea_sdk__escape_segment(
             &self, cardea_sdk__self(session)->id)) != CARDEA_OK) {
        return err;
    }
    snprintf(path, sizeof path,
             "exchangedata/byParticipant/%s/counterparts?counterpartsTypes="
             "%s%s%s%s%s&ignoreOnEntryForFingerprint=%s",
             self, (types & CARDEA_ACCESS_BACK_HCP) ? "Hcp" : "",
             (types & CARDEA_ACCESS_BACK_HCP) &&
                     (types & ~CARDEA_ACCESS_BACK_HCP)
                 ? ","
                 : "",
             (types & CARDEA_ACCESS_BACK_PATIENT) ? "Patient" : "",
             (types & CARDEA_ACCESS_BACK_PATIENT) &&
                     (types & CARDEA_ACCESS_BACK_DEVICE)
                 ? ","
                 : "",
             (types & CARDEA_ACCESS_BACK_DEVICE) ? "Device" : "", fp);
    cardea_mem__free(self);
    err = cardea_sdk__request_json(out, session, "GET", path, NULL, NULL, 0);
    if (err == CARDEA_OK && !json_is_array(*out)) {
        json_decref(*out);
        cardea_sdk__set_error(session, "GET counterparts: answer is no "
                                       "array");
        return CARDEA_EFORMAT;
    }
    return err;
}

static json_t *
string_property(const char *id, const char *value)
{
    return json_pack("{s:s, s:{s:s}, s:{s:s, s:s}}", "id", id, "type",
                     "type", "STRING", "typedValue", "type", "STRING",
                     "stringValue", value);
}

/* Creates one task addressed to `other`, shared with it with WRITE. */
static cardea_err
create_task(cardea_session *session, const char *other, const char *spki)
{
    cardea_entity_create_options opts = CARDEA_ENTITY_CREATE_OPTIONS_INIT;
    cardea_entity_delegate delegate = {other, CARDEA_ACCESS_WRITE};
    json_t *task;
    char *text = NULL;
    char *created = NULL;
    cardea_err err;

    task = json_pack("{s:s, s:s, s:[o, o]}", "taskType", TASK_TYPE,
                     "status", "pending", "properties",
                     string_property(OWNER_PROPERTY,
                                     cardea_sdk__self(session)->id),
                     string_property(KEY_PROPERTY, spki));
    if (task == NULL || (text = cardea_json__dump(task)) == NULL) {
        json_decref(task);
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    json_decref(task);
    opts.delegates = &delegate;
    opts.delegate_count = 1;
    err = cardea_entity_create(&created, session,
                               CARDEA_ENTITY_MAINTENANCE_TASK, text, &opts);
    cardea_mem__free(text);
    cardea_free(created);
    return err;
}

/* see cardea/recovery.h */
cardea_err
cardea_access_back_request(size_t *created, cardea_session *session,
                           const char *spki_hex, unsigned types)
{
    const cardea_sdk_key *key;
    json_t *ids = NULL;
    json_t *id;
    size_t index;
    size_t n = 0;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    if (types & ~(CARDEA_ACCESS_BACK_HCP | CARDEA_ACCESS_BACK_PATIENT |
                  CARDEA_ACCESS_BACK_DEVICE)) {
        cardea_sdk__set_error(session, "unknown counterpart type bits 0x%x",
                              types);
        return CARDEA_EINVAL;
    }
    key = spki_hex != NULL
              ? cardea_sdk__find_key(session, cardea_sdk__self(session)->id,
                                     spki_hex)
              : newest_device_key(session);
    if (key == NULL) {
        cardea_sdk__set_error(session, "the session holds no %s key of data "
                                       "owner %s to ask access for",
                              spki_hex != NULL ? "such" : "new",
                              cardea_sdk__self(session)->id);
        return CARDEA_ENOKEY;
    }
    types = types != 0 ? types : default_types(session->data_owner_type);
    if (types == 0) {
        if (created != NULL) {
            *created = 0;
        }
        return CARDEA_OK;
    }
    if ((err = counterparts(&ids, session, types, key->fp_v2)) != CARDEA_OK) {
        return err;
    }
    json_array_foreach(ids, index, id) {
        const char *other = json_string_value(id);

        if (other == NULL || strcmp(other, cardea_sdk__self(session)->id) ==
                                 0) {
            continue;
        }
        if ((err = create_task(session, other, key->spki_hex)) != CARDEA_OK) {
            break;
        }
        n++;
    }
    json_decref(ids);
    if (err == CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_INFO, "asked %zu counterpart(s) "
                        "to give access back to key %s", n, key->fp_v1);
        if (created != NULL) {
            *created = n;
        }
    }
    return err;
}

/* ---- listing ------------------------------------------------------------ */

static const char *
property_value(const json_t *task, const char *id)
{
    const json_t *props = json_object_get(task, "properties");
    const json_t *prop;
    size_t index;

    json_array_foreach(props, index, prop) {
        const char *name = cardea_json__get_str(prop, "id");

        if (name != NULL && strcmp(name, id) == 0) {
            return cardea_json__get_str(json_object_get(prop, "typedValue"),
                                        "stringValue");
        }
    }
    return NULL;
}

void
cardea_key_pair_updates_free(cardea_key_pair_update *list, size_t count)
{
    for (size_t i = 0; list != NULL && i < count; i++) {
        cardea_mem__free(list[i].task_id);
        cardea_mem__free(list[i].data_owner_id);
        cardea_mem__free(list[i].spki_hex);
    }
    cardea_mem__free(list);
}

/* Appends the task to `list` when it is a pending update from another
 * data owner. Other tasks are skipped. */
static cardea_err
take_task(cardea_key_pair_update *list, size_t *count,
          cardea_session *session, const json_t *task)
{
    const char *id = cardea_json__get_str(task, "id");
    const char *type = cardea_json__get_str(task, "taskType");
    const char *status = cardea_json__get_str(task, "status");
    const char *owner = property_value(task, OWNER_PROPERTY);
    const char *spki = property_value(task, KEY_PROPERTY);
    cardea_key_pair_update *item = &list[*count];

    if (id == NULL || type == NULL || strcmp(type, TASK_TYPE) != 0 ||
        (status != NULL && strcasecmp(status, "pending") != 0)) {
        return CARDEA_OK;
    }
    if (owner == NULL || spki == NULL ||
        cardea_fp__v1(item->fp_v1, spki, strlen(spki)) != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_WARN, "task %s lacks a valid "
                        "data owner or key; skipped", id);
        return CARDEA_OK;
    }
    if (strcmp(owner, cardea_sdk__self(session)->id) == 0) {
        return CARDEA_OK;
    }
    item->task_id = cardea_mem__strdup(id);
    item->data_owner_id = cardea_mem__strdup(owner);
    item->spki_hex = cardea_mem__strdup(spki);
    (*count)++;
    if (item->task_id == NULL || item->data_owner_id == NULL ||
        item->spki_hex == NULL) {
        return CARDEA_ENOMEM;
    }
    return CARDEA_OK;
}

/* Fetches and decrypts the tasks `ids` and keeps the updates. */
static cardea_err
read_tasks(cardea_key_pair_update *list, size_t *count,
           cardea_session *session, char **ids, size_t id_count)
{
    char *text = NULL;
    char **failed = NULL;
    size_t failed_count = 0;
    json_t *tasks = NULL;
    json_t *task;
    size_t index;
    cardea_err err;

    err = cardea_entity_get_by_ids(&text, &failed, &failed_count, session,
                                   CARDEA_ENTITY_MAINTENANCE_TASK,
                                   (const char *const *)ids, id_count);
    if (err != CARDEA_OK) {
        return err;
    }
    cardea_strings_free(failed, failed_count);
    err = cardea_json__parse(&tasks, text, strlen(text), NULL, 0);
    cardea_free(text);
    if (err != CARDEA_OK) {
        return err;
    }
    json_array_foreach(tasks, index, task) {
        if ((err = take_task(list, count, session, task)) != CARDEA_OK) {
            break;
        }
    }
    json_decref(tasks);
    return err;
}

/* see cardea/recovery.h */
cardea_err
cardea_access_back_list(cardea_key_pair_update **out, size_t *count,
                        cardea_session *session)
{
    cardea_key_pair_update *list = NULL;
    size_t n = 0;
    char **ids = NULL;
    size_t id_count = 0;
    char filter[512];
    cardea_err err;

    if (out == NULL || count == NULL || session == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    snprintf(filter, sizeof filter,
             "{\"$type\":\"MaintenanceTaskByHcPartyAndTypeFilter\","
             "\"healthcarePartyId\":\"%s\",\"type\":\"%s\"}",
             cardea_sdk__self(session)->id, TASK_TYPE);
    err = cardea_entity_match(&ids, &id_count, session,
                              CARDEA_ENTITY_MAINTENANCE_TASK, filter);
    if (err != CARDEA_OK) {
        return err;
    }
    if (id_count > LIST_MAX) {
        cardea_sdk__log(session, CARDEA_LOG_WARN, "%zu KEY_PAIR_UPDATE "
                        "tasks; listing the first %d", id_count, LIST_MAX);
    }
    if (id_count > 0 &&
        (list = cardea_mem__calloc(id_count, sizeof *list)) == NULL) {
        err = CARDEA_ENOMEM;
    }
    if (err == CARDEA_OK && id_count > 0) {
        err = read_tasks(list, &n, session, ids,
                         id_count > LIST_MAX ? LIST_MAX : id_count);
    }
    cardea_strings_free(ids, id_count);
    if (err != CARDEA_OK) {
        cardea_key_pair_updates_free(list, n);
        if (err == CARDEA_ENOMEM) {
            cardea_sdk__set_error(session, "out of memory");
        }
        return err;
    }
    *out = n > 0 ? list : NULL;
    *count = n;
    if (n == 0) {
        cardea_mem__free(list);
    }
    return CARDEA_OK;
}

/* ---- applying ----------------------------------------------------------- */

/* Finds `spki` among the keys `owner_id` publishes and verifies it with
 * the strategies' verify_delegate_public_keys. */
static cardea_err
check_new_key(cardea_sdk_pubkey *out, cardea_session *session,
              const char *owner_id, const char *spki)
{
    cardea_sdk_pubkey *pubs = NULL;
    size_t count = 0;
    json_t *stub = NULL;
    cardea_data_owner_type type;
    bool accepted = false;
    size_t found = SIZE_MAX;
    cardea_err err;

    err = cardea_sdk__fetch_stub(&stub, &type, session, owner_id);
    if (err == CARDEA_OK) {
        err = cardea_sdk__stub_pubkeys(&pubs, &count,
                                       json_object_get(stub, "stub"));
    }
    json_decref(stub);
    if (err != CARDEA_OK) {
        return err;
    }
    for (size_t i = 0; i < count && found == SIZE_MAX; i++) {
        found = strcasecmp(pubs[i].spki_hex, spki) == 0 ? i : SIZE_MAX;
    }
    if (found == SIZE_MAX) {
        cardea_sdk__set_error(session, "data owner %s does not publish the "
                                       "key of the request; not applied",
                              owner_id);
        err = CARDEA_EVERIFY;
    } else {
        const char *list[1] = {pubs[found].spki_hex};

        err = session->strategies.verify_delegate_public_keys(
            session->strategies.user, owner_id, type, list, 1, &accepted);
    }
    if (err == CARDEA_OK && !accepted) {
        cardea_sdk__set_error(session, "the crypto strategies rejected the "
                                       "new key %s of data owner %s",
                              pubs[found].fp_v1, owner_id);
        err = CARDEA_EDENIED;
    }
    if (err == CARDEA_OK) {
        *out = pubs[found];
        memset(&pubs[found], 0, sizeof pubs[found]);
    }
    cardea_sdk__pubkeys_free(pubs, count);
    return err;
}

/* Extends one exchange data to `added`. Skips exchange data that the user
 * cannot open or that already has the key. */
static cardea_err
extend(bool *updated, cardea_session *session, const json_t *xd,
       const cardea_owner_key *added, const cardea_owner_key *keys,
       size_t key_count)
{
    char fp[CARDEA_FP_V2_LEN + 1];
    cardea_exchange_content *content = NULL;
    json_t *extended = NULL;
    cardea_err err;

    *updated = false;
    if (cardea_fp__v2(fp, added->spki_hex, strlen(added->spki_hex)) !=
            CARDEA_OK ||
        cardea_exchange_data__fp_map_find(
            json_object_get(xd, "exchangeKey"), fp) != NULL) {
        return CARDEA_OK;
    }
    err = cardea_exchange_data__decrypt(&content, xd, keys, key_count);
    if (err != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_DEBUG, "exchange data %s not "
                        "extended: %s", cardea_json__get_str(xd, "id"),
                        cardea_strerror(err));
        return err == CARDEA_ENOMEM ? err : CARDEA_OK;
    }
    err = cardea_exchange_data__update(&extended, xd, content, added, 1,
                                       NULL, NULL, 0);
    cardea_exchange_data__content_free(content);
    if (err == CARDEA_OK) {
        err = cardea_sdk__request_json(NULL, session, "PUT", "exchangedata",
                                       extended, NULL, 0);
    }
    json_decref(extended);
    *updated = err == CARDEA_OK;
    return err;
}

/* see cardea/recovery.h */
cardea_err
cardea_access_back_apply(size_t *updated, cardea_session *session,
                         const char *data_owner_id, const char *spki_hex)
{
    cardea_sdk_pubkey pub;
    cardea_owner_key added = {NULL, CARDEA_RSA_OAEP_SHA256, NULL};
    cardea_owner_key *keys = NULL;
    size_t key_count = 0;
    json_t *list = NULL;
    size_t n = 0;
    cardea_err err;

    if (session == NULL || data_owner_id == NULL || spki_hex == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    memset(&pub, 0, sizeof pub);
    if ((err = check_new_key(&pub, session, data_owner_id, spki_hex)) !=
        CARDEA_OK) {
        return err;
    }
    err = cardea_rsa__from_spki_hex(&added.key, pub.spki_hex,
                                    strlen(pub.spki_hex));
    added.oaep = pub.oaep;
    added.spki_hex = pub.spki_hex;
    if (err == CARDEA_OK) {
        err = cardea_sdk__decryption_keys(&keys, &key_count, session);
    }
    if (err == CARDEA_OK) {
        err = cardea_sdk__exchange_data_between(&list, session,
                                                data_owner_id);
    }
    for (size_t i = 0; err == CARDEA_OK && i < json_array_size(list); i++) {
        bool one = false;

        err = extend(&one, session, json_array_get(list, i), &added, keys,
                     key_count);
        n += one ? 1 : 0;
    }
    if (err == CARDEA_OK && n > 0) {
        err = cardea_sdk__xd_reload(session);
    }
    if (err == CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_INFO, "gave key %s of %s access "
                        "to %zu exchange data", pub.fp_v1, data_owner_id, n);
        if (updated != NULL) {
            *updated = n;
        }
    }
    cardea_rsa__free(added.key);
    cardea_mem__free(pub.spki_hex);
    cardea_mem__free(keys);
    json_decref(list);
    return err;
}

/* Sets the task's status to completed. Failures are only logged. */
static void
complete_task(cardea_session *session, json_t *task)
{
    char *text = NULL;
    char *saved = NULL;
    cardea_err err = CARDEA_ENOMEM;

    if (cardea_json__set_str(task, "status", "completed") == CARDEA_OK &&
        (text = cardea_json__dump(task)) != NULL) {
        err = cardea_entity_modify(&saved, session,
                                   CARDEA_ENTITY_MAINTENANCE_TASK, text);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_WARN, "task %s not marked "
                        "completed: %s", cardea_json__get_str(task, "id"),
                        cardea_strerror(err));
        session->errmsg[0] = 0;
    }
    cardea_mem__free(text);
    cardea_free(saved);
}

/* see cardea/recovery.h */
cardea_err
cardea_access_back_apply_task(size_t *updated, cardea_session *session,
                              const char *task_id)
{
    char *text = NULL;
    json_t *task = NULL;
    const char *type;
    const char *owner;
    const char *spki;
    cardea_err err;

    if (session == NULL || task_id == NULL) {
        return CARDEA_EINVAL;
    }
    err = cardea_entity_get(&text, session, CARDEA_ENTITY_MAINTENANCE_TASK,
                            task_id);
    if (err == CARDEA_OK) {
        err = cardea_json__parse(&task, text, strlen(text), NULL, 0);
        cardea_free(text);
    }
    if (err != CARDEA_OK) {
        return err;
    }
    type = cardea_json__get_str(task, "taskType");
    owner = property_value(task, OWNER_PROPERTY);
    spki = property_value(task, KEY_PROPERTY);
    if (type == NULL || strcmp(type, TASK_TYPE) != 0 || owner == NULL ||
        spki == NULL) {
        cardea_sdk__set_error(session, "maintenance task %s is no valid "
                                       "KEY_PAIR_UPDATE task", task_id);
        err = CARDEA_EINVAL;
    }
    if (err == CARDEA_OK) {
        err = cardea_access_back_apply(updated, session, owner, spki);
    }
    if (err == CARDEA_OK) {
        complete_task(session, task);
    }
    json_decref(task);
    return err;
}
