/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entities of the public API (cardea/entity.h). Create gives an entity a
 * new key, a secret id and a root delegation from the user to itself,
 * plus child delegations to initial delegates. Get, modify, match and
 * fetch by ids decrypt on the way back. The sharing metadata is opened by
 * metadata.c and the exchange data comes from exchange.c.
 */
#include <string.h>

#include "sdk/exchange.h"

/* ---- helpers ------------------------------------------------------------ */

static cardea_err
parse_object(json_t **out, cardea_session *session, const char *text,
             const char *what)
{
    char message[128];
    json_t *value = NULL;
    cardea_err err;

    err = cardea_json__parse(&value, text, strlen(text), message,
                             sizeof message);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "%s is invalid JSON: %s", what,
                              message);
        return CARDEA_EINVAL;
    }
    if (!json_is_object(value)) {
        json_decref(value);
        cardea_sdk__set_error(session, "%s must be a JSON object", what);
        return CARDEA_EINVAL;
    }
    *out = value;
    return CARDEA_OK;
}

/* Sets the error message of `session`, when there is a session, and
 * returns CARDEA_EINVAL. */
static cardea_err
reject_argument(cardea_session *session, const char *message)
{
    if (session != NULL) {
        cardea_sdk__set_error(session, "%s", message);
    }
    return CARDEA_EINVAL;
}

/* Common checks of every public call; returns the kind through `kind`. */
static cardea_err
begin(int *kind, cardea_session *session, cardea_entity_type type)
{
    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    *kind = cardea_sdk__kind(type);
    if (*kind < 0) {
        cardea_sdk__set_error(session, "unknown entity type %d", (int)type);
        return CARDEA_EINVAL;
    }
    return cardea_sdk__xd_begin(session);
}

/* Sends `sealed` to the collection of `kind` with `method` and returns the
 * stored entity, decrypted, as text. */
static cardea_err
send_sealed(char **out, cardea_session *session, int kind,
            const char *method, json_t *sealed)
{
    json_t *stored = NULL;
    char *path = NULL;
    cardea_err err;

    err = cardea_sdk__entity_path(&path, session, kind, NULL, NULL);
    if (err == CARDEA_OK) {
        err = cardea_sdk__entity_request(&stored, session, kind, method,
                                         path, sealed);
    }
    if (err == CARDEA_OK) {
        err = cardea_sdk__entity_dump(out, session, kind, stored);
    }
    json_decref(stored);
    cardea_free(path);
    return err;
}

/* ---- create ------------------------------------------------------------- */

/* Plaintext values and delegations of a new entity. */
typedef struct draft {
    char key_hex[2 * CARDEA_AES256_KEY_LEN + 1];
    char secret_id[CARDEA_UUID_STR_LEN + 1];
    cardea_sdk_strings foreign_keys;   /* the owning patient's secret ids */
    const char *owning_id;             /* borrowed */
    const char *key_list[1];
    const char *secret_list[1];
    const char *owning_list[1];
    cardea_delegation_entry root;
    cardea_delegation_entry *children;
    size_t child_count;
    json_t *map_batch;                 /* ExchangeDataMap uploads */
} draft;

static void
draft_free(draft *d)
{
    cardea_wipe(d->key_hex, sizeof d->key_hex);
    cardea_sdk__strings_free(&d->foreign_keys, false);
    cardea_free(d->children);
    json_decref(d->map_batch);
}

static cardea_delegation_values
draft_values(const draft *d)
{
    cardea_delegation_values values = {
        d->secret_list, 1, d->key_list, 1, d->owning_list,
        d->owning_id != NULL ? 1 : 0,
    };

    return values;
}

/* Secret ids of the owning patient, which become secretForeignKeys. */
static cardea_err
owning_patient(draft *d, cardea_session *session, const char *patient_id)
{
    cardea_sdk_access patient = {0};
    cardea_err err;

    err = cardea_sdk__access_fetch(&patient, session,
                                   cardea_sdk__kind(CARDEA_ENTITY_PATIENT),
                                   patient_id);
    if (err != CARDEA_OK) {
        return err;
    }
    for (size_t i = 0; i < patient.secret_ids.count && err == CARDEA_OK;
         i++) {
        err = cardea_sdk__strings_add(&d->foreign_keys,
                                      patient.secret_ids.items[i]);
    }
    cardea_sdk__access_free(&patient);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "out of memory");
    }
    return err;
}

static cardea_err
add_child(draft *d, cardea_session *session, int kind,
          const cardea_entity_delegate *delegate)
{
    const cardea_sdk_party *party = NULL;
    const cardea_sdk_xd *xd = NULL;
    json_t *encrypted_id = NULL;
    cardea_delegation_entry *child;
    char ackey_hex[2 * CARDEA_AC_KEY_LEN + 1];
    cardea_err err;

    if (delegate->data_owner_id == NULL
        || (delegate->access != CARDEA_ACCESS_READ
            && delegate->access != CARDEA_ACCESS_WRITE)) {
        cardea_sdk__set_error(session, "delegate without id or with an "
                              "unknown access level");
        return CARDEA_EINVAL;
    }
    if ((err = cardea_sdk__party(&party, session, delegate->data_owner_id))
            != CARDEA_OK
        || (err = cardea_sdk__xd_to(&xd, session, party)) != CARDEA_OK) {
        return err;
    }
    if (strcmp(xd->sdkeys[kind], d->root.sd_key) == 0) {
        return CARDEA_OK;
    }
    for (size_t i = 0; i < d->child_count; i++) {
        if (strcmp(d->children[i].sd_key, xd->sdkeys[kind]) == 0) {
            return CARDEA_OK;
        }
    }
    if ((err = cardea_sdk__encrypted_xd_id(&encrypted_id, session, xd, party))
        != CARDEA_OK) {
        return err;
    }
    if (encrypted_id != NULL) {
        err = cardea_hex__encode(ackey_hex, sizeof ackey_hex,
                                 xd->ackeys[kind], CARDEA_AC_KEY_LEN);
        if (err == CARDEA_OK
            && json_object_set_new(d->map_batch, ackey_hex, encrypted_id)
                   != 0) {
            err = CARDEA_ENOMEM;
        }
        cardea_wipe(ackey_hex, sizeof ackey_hex);
        if (err != CARDEA_OK) {
            cardea_sdk__set_error(session, "out of memory");
            return err;
        }
    }
    child = &d->children[d->child_count++];
    memset(child, 0, sizeof *child);
    child->sd_key = xd->sdkeys[kind];
    child->params.delegator =
        session->self_anonymous ? NULL : cardea_sdk__self(session)->id;
    child->params.delegate = party->anonymous ? NULL : party->id;
    child->params.exchange_data_id = xd->id;
    child->params.permissions = delegate->access;
    child->params.exchange_key = xd->content->exchange_key;
    child->params.exchange_key_len = xd->content->exchange_key_len;
    child->params.values = draft_values(d);
    return CARDEA_OK;
}

static cardea_err
build_draft(draft *d, cardea_session *session, int kind,
            const cardea_entity_create_options *opts)
{
    const cardea_sdk_party *self = NULL;
    const cardea_sdk_xd *root = NULL;
    uint8_t key[CARDEA_AES256_KEY_LEN];
    cardea_err err;

    cardea_random__bytes(key, sizeof key);
    err = cardea_hex__encode(d->key_hex, sizeof d->key_hex, key, sizeof key);
    cardea_wipe(key, sizeof key);
    cardea_uuid__v4(d->secret_id);
    d->key_list[0] = d->key_hex;
    d->secret_list[0] = d->secret_id;
    d->owning_list[0] = d->owning_id;
    d->map_batch = json_object();
    d->children = cardea_mem__calloc(opts->delegate_count + 1,
                                     sizeof *d->children);
    if (err != CARDEA_OK || d->map_batch == NULL || d->children == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    if ((err = cardea_sdk__party(&self, session,
                                 cardea_sdk__self(session)->id))
            != CARDEA_OK
        || (err = cardea_sdk__xd_to(&root, session, self)) != CARDEA_OK) {
        return err;
    }
    d->root.sd_key = root->sdkeys[kind];
    if (!session->self_anonymous) {
        d->root.params.delegator = self->id;
        d->root.params.delegate = self->id;
        d->root.params.exchange_data_id = root->id;
    }
    d->root.params.permissions = CARDEA_ACCESS_WRITE;
    d->root.params.exchange_key = root->content->exchange_key;
    d->root.params.exchange_key_len = root->content->exchange_key_len;
    d->root.params.values = draft_values(d);
    for (size_t i = 0; i < opts->delegate_count && err == CARDEA_OK; i++) {
        if (opts->delegates[i].data_owner_id != NULL
            && strcmp(opts->delegates[i].data_owner_id, self->id) == 0) {
            continue;
        }
        err = add_child(d, session, kind, &opts->delegates[i]);
    }
    return err;
}

/* author and responsible, when the entity does not set them. */
static cardea_err
set_author(json_t *entity, cardea_session *session)
{
    const char *author = session->self_anonymous ? "*" : session->user_id;
    const char *responsible =
        session->self_anonymous ? "*" : cardea_sdk__self(session)->id;
    cardea_err err = CARDEA_OK;

    if (author != NULL
        && (json_object_get(entity, "author") == NULL
            || json_is_null(json_object_get(entity, "author")))) {
        err = cardea_json__set_str(entity, "author", author);
    }
    if (err == CARDEA_OK
        && (json_object_get(entity, "responsible") == NULL
            || json_is_null(json_object_get(entity, "responsible")))) {
        err = cardea_json__set_str(entity, "responsible", responsible);
    }
    return err;
}

/* Encrypts `plain` and adds the sharing metadata of `d`. */
static cardea_err
seal(json_t **out, cardea_session *session, int kind, const json_t *plain,
     const draft *d)
{
    cardea_entity_key key;
    json_t *sealed = NULL;
    json_t *metadata = NULL;
    json_t *foreign = json_array();
    cardea_err err;

    err = cardea_entity_key__parse(&key, d->key_hex, strlen(d->key_hex));
    if (err == CARDEA_OK) {
        err = cardea_sdk__encrypt_entity(
            &sealed, session, cardea_sdk__kind_name(kind), plain, &key);
    }
    cardea_wipe(&key, sizeof key);
    if (err == CARDEA_OK) {
        err = cardea_delegation__build_security_metadata(
            &metadata, &d->root, d->children, d->child_count);
    }
    for (size_t i = 0; i < d->foreign_keys.count && err == CARDEA_OK; i++) {
        err = cardea_json__append_new(
            foreign, json_string(d->foreign_keys.items[i]));
    }
    if (err == CARDEA_OK && foreign == NULL) {
        err = CARDEA_ENOMEM;
    }
    if (err == CARDEA_OK) {
        err = cardea_json__set_new(sealed, "securityMetadata", metadata);
        metadata = NULL;
    }
    if (err == CARDEA_OK) {
        err = cardea_json__set_new(sealed, "secretForeignKeys", foreign);
        foreign = NULL;
    }
    json_decref(metadata);
    json_decref(foreign);
    if (err != CARDEA_OK) {
        json_decref(sealed);
        cardea_sdk__set_error(session, "encrypting the new %s failed: %s",
                              cardea_sdk__kind_name(kind),
                              cardea_strerror(err));
        return err;
    }
    *out = sealed;
    return CARDEA_OK;
}

static cardea_err
prepare_plain(json_t *plain, draft *d, cardea_session *session, int kind,
              const cardea_entity_create_options *opts)
{
    char id[CARDEA_UUID_STR_LEN + 1];
    cardea_err err = CARDEA_OK;

    if (cardea_json__get_str(plain, "id") == NULL) {
        cardea_uuid__v4(id);
        err = cardea_json__set_str(plain, "id", id);
    }
    if (err == CARDEA_OK) {
        err = set_author(plain, session);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "out of memory");
        return err;
    }
    json_object_del(plain, "rev");
    json_object_del(plain, "securityMetadata");
    json_object_del(plain, "secretForeignKeys");
    if (opts->owning_patient_id != NULL
        && kind != cardea_sdk__kind(CARDEA_ENTITY_PATIENT)) {
        d->owning_id = opts->owning_patient_id;
        err = owning_patient(d, session, opts->owning_patient_id);
    }
    return err;
}

/* see cardea/entity.h */
cardea_err
cardea_entity_create(char **out, cardea_session *session,
                     cardea_entity_type type, const char *json,
                     const cardea_entity_create_options *opts)
{
    static const cardea_entity_create_options defaults =
        CARDEA_ENTITY_CREATE_OPTIONS_INIT;
    draft d = {0};
    json_t *plain = NULL;
    json_t *sealed = NULL;
    int kind;
    cardea_err err;

    if (out == NULL || json == NULL) {
        return reject_argument(session, "NULL argument");
    }
    opts = opts != NULL ? opts : &defaults;
    if ((err = begin(&kind, session, type)) != CARDEA_OK) {
        return err;
    }
    if (opts->version != CARDEA_ENTITY_CREATE_OPTIONS_VERSION
        || (opts->delegate_count > 0 && opts->delegates == NULL)) {
        cardea_sdk__set_error(session, "invalid create options");
        return CARDEA_EINVAL;
    }
    if ((err = parse_object(&plain, session, json, "entity")) != CARDEA_OK
        || (err = prepare_plain(plain, &d, session, kind, opts)) != CARDEA_OK
        || (err = build_draft(&d, session, kind, opts)) != CARDEA_OK
        || (err = seal(&sealed, session, kind, plain, &d)) != CARDEA_OK
        || (err = cardea_sdk__exmap_put(session, d.map_batch)) != CARDEA_OK) {
        goto out;
    }
    err = send_sealed(out, session, kind, "POST", sealed);

out:
    draft_free(&d);
    json_decref(plain);
    json_decref(sealed);
    return err;
}

/* ---- get and modify ----------------------------------------------------- */

/* see cardea/entity.h */
cardea_err
cardea_entity_get(char **out, cardea_session *session,
                  cardea_entity_type type, const char *id)
{
    cardea_sdk_access access = {0};
    int kind;
    cardea_err err;

    if (out == NULL || id == NULL) {
        return reject_argument(session, "NULL argument");
    }
    if ((err = begin(&kind, session, type)) != CARDEA_OK) {
        return err;
    }
    err = cardea_sdk__access_fetch(&access, session, kind, id);
    if (err == CARDEA_OK) {
        err = cardea_sdk__access_dump(out, session, &access);
    }
    cardea_sdk__access_free(&access);
    return err;
}

/* Copies the metadata members of `stored` over `sealed`, unchanged. */
static cardea_err
keep_metadata(json_t *sealed, const json_t *stored)
{
    static const char *const fields[] = {
        "securityMetadata", "secretForeignKeys", "delegations",
        "encryptionKeys", "cryptedForeignKeys",
    };

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *value = json_object_get(stored, fields[i]);

        if (value == NULL) {
            json_object_del(sealed, fields[i]);
        } else if (json_object_set(sealed, fields[i], value) != 0) {
            return CARDEA_ENOMEM;
        }
    }
    return CARDEA_OK;
}

/* see cardea/entity.h */
cardea_err
cardea_entity_modify(char **out, cardea_session *session,
                     cardea_entity_type type, const char *json)
{
    cardea_sdk_access access = {0};
    json_t *plain = NULL;
    json_t *sealed = NULL;
    const char *id;
    int kind;
    cardea_err err;

    if (out == NULL || json == NULL) {
        return reject_argument(session, "NULL argument");
    }
    if ((err = begin(&kind, session, type)) != CARDEA_OK
        || (err = parse_object(&plain, session, json, "entity"))
               != CARDEA_OK) {
        return err;
    }
    id = cardea_json__get_str(plain, "id");
    if (id == NULL || cardea_json__get_str(plain, "rev") == NULL) {
        cardea_sdk__set_error(session, "a modified entity needs its id and "
                              "rev");
        err = CARDEA_EINVAL;
        goto out;
    }
    if ((err = cardea_sdk__access_fetch(&access, session, kind, id))
        != CARDEA_OK) {
        goto out;
    }
    err = cardea_sdk__encrypt_entity(
        &sealed, session, cardea_sdk__kind_name(kind), plain,
        &access.keys[0]);
    if (err == CARDEA_OK) {
        err = keep_metadata(sealed, access.entity);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "encrypting %s %s failed: %s",
                              cardea_sdk__kind_name(kind), id,
                              cardea_strerror(err));
        goto out;
    }
    err = send_sealed(out, session, kind, "PUT", sealed);

out:
    cardea_sdk__access_free(&access);
    json_decref(plain);
    json_decref(sealed);
    return err;
}

/* ---- match and byIds ---------------------------------------------------- */

/* see cardea/entity.h */
void
cardea_strings_free(char **strings, size_t count)
{
    if (strings == NULL) {
        return;
    }
    for (size_t i = 0; i < count; i++) {
        cardea_free(strings[i]);
    }
    cardea_free(strings);
}

/* Copies a JSON array of strings into a new C array. */
static cardea_err
string_array(char ***out, size_t *count, const json_t *array)
{
    size_t n = json_array_size(array);
    char **items = NULL;
    cardea_err err = CARDEA_OK;

    if (!json_is_array(array)) {
        return CARDEA_EFORMAT;
    }
    if (n > 0 && (items = cardea_mem__calloc(n, sizeof *items)) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < n && err == CARDEA_OK; i++) {
        const char *s = json_string_value(json_array_get(array, i));

        if (s == NULL) {
            err = CARDEA_EFORMAT;
        } else if ((items[i] = cardea_mem__strdup(s)) == NULL) {
            err = CARDEA_ENOMEM;
        }
    }
    if (err != CARDEA_OK) {
        cardea_strings_free(items, n);
        return err;
    }
    *out = items;
    *count = n;
    return CARDEA_OK;
}

/* see cardea/entity.h */
cardea_err
cardea_entity_match(char ***ids, size_t *count, cardea_session *session,
                    cardea_entity_type type, const char *filter)
{
    json_t *body = NULL;
    json_t *answer = NULL;
    char *path = NULL;
    int kind;
    cardea_err err;

    if (ids == NULL || count == NULL || filter == NULL) {
        return reject_argument(session, "NULL argument");
    }
    if ((err = begin(&kind, session, type)) != CARDEA_OK
        || (err = parse_object(&body, session, filter, "filter"))
               != CARDEA_OK) {
        return err;
    }
    err = cardea_sdk__entity_path(&path, session, kind, "/match", NULL);
    if (err == CARDEA_OK) {
        err = cardea_sdk__entity_request(&answer, session, kind, "POST",
                                         path, body);
    }
    if (err == CARDEA_OK) {
        err = string_array(ids, count, answer);
        if (err != CARDEA_OK) {
            cardea_sdk__set_error(session, "POST %s: answer is no array of "
                                  "ids", path);
        }
    }
    json_decref(body);
    json_decref(answer);
    cardea_free(path);
    return err;
}

static cardea_err
by_ids_body(json_t **out, const char *const *ids, size_t id_count)
{
    json_t *body = json_pack("{s:[]}", "ids");
    json_t *list = json_object_get(body, "ids");
    cardea_err err = body != NULL ? CARDEA_OK : CARDEA_ENOMEM;

    for (size_t i = 0; i < id_count && err == CARDEA_OK; i++) {
        err = ids[i] == NULL ? CARDEA_EINVAL
                             : cardea_json__append_new(list,
                                                       json_string(ids[i]));
    }
    if (err != CARDEA_OK) {
        json_decref(body);
        return err;
    }
    *out = body;
    return CARDEA_OK;
}

/* Decrypts each entity of `answer` into `plain`; ids that fail go to
 * `failed`. */
static cardea_err
decrypt_all(json_t *plain, cardea_sdk_strings *failed,
            cardea_session *session, int kind, const json_t *answer)
{
    json_t *entity;
    size_t index;

    json_array_foreach(answer, index, entity) {
        cardea_sdk_access access = {0};
        json_t *decrypted = NULL;
        const char *id = cardea_json__get_str(entity, "id");
        cardea_err err;

        err = cardea_sdk__access_open(&access, session, kind, entity);
        if (err == CARDEA_OK) {
            err = cardea_sdk__access_decrypt(&decrypted, session, &access);
        }
        cardea_sdk__access_free(&access);
        if (err == CARDEA_OK) {
            err = cardea_json__append_new(plain, decrypted);
        } else if (err != CARDEA_ENOMEM) {
            cardea_sdk__log(session, CARDEA_LOG_WARN, "%s %s cannot be "
                            "decrypted: %s", cardea_sdk__kind_name(kind),
                            id != NULL ? id : "(no id)",
                            cardea_strerror(err));
            err = cardea_sdk__strings_add(failed, id != NULL ? id : "");
        }
        if (err != CARDEA_OK) {
            cardea_sdk__set_error(session, "out of memory");
            return err;
        }
    }
    return CARDEA_OK;
}

/* see cardea/entity.h */
cardea_err
cardea_entity_get_by_ids(char **out, char ***failed_ids, size_t *failed_count,
                         cardea_session *session, cardea_entity_type type,
                         const char *const *ids, size_t id_count)
{
    cardea_sdk_strings failed = {0};
    json_t *body = NULL;
    json_t *answer = NULL;
    json_t *plain = json_array();
    char *path = NULL;
    int kind;
    cardea_err err;

    if (out == NULL || (ids == NULL && id_count > 0)
        || (failed_ids == NULL) != (failed_count == NULL)
        || id_count > CARDEA_SDK_BY_IDS_MAX) {
        json_decref(plain);
        return reject_argument(session, "invalid argument");
    }
    if ((err = begin(&kind, session, type)) != CARDEA_OK) {
        json_decref(plain);
        return err;
    }
    if (plain == NULL || (err = by_ids_body(&body, ids, id_count)) != CARDEA_OK
        || (err = cardea_sdk__entity_path(&path, session, kind, "/byIds",
                                          NULL)) != CARDEA_OK) {
        err = err != CARDEA_OK ? err : CARDEA_ENOMEM;
        cardea_sdk__set_error(session, "invalid ids or out of memory");
        goto out;
    }
    err = cardea_sdk__entity_request(&answer, session, kind, "POST", path,
                                     body);
    if (err == CARDEA_OK && !json_is_array(answer)) {
        cardea_sdk__set_error(session, "POST %s: answer is no array", path);
        err = CARDEA_EFORMAT;
    }
    if (err == CARDEA_OK) {
        err = decrypt_all(plain, &failed, session, kind, answer);
    }
    if (err == CARDEA_OK) {
        err = cardea_sdk__dump(out, session, plain);
    }
    if (err == CARDEA_OK && failed_ids != NULL) {
        *failed_ids = failed.items;
        *failed_count = failed.count;
        failed.items = NULL;
        failed.count = 0;
    }

out:
    cardea_sdk__strings_free(&failed, false);
    json_decref(body);
    json_decref(answer);
    json_decref(plain);
    cardea_free(path);
    return err;
}
