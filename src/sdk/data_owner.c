/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data owners as the session uses them: the user's own data owner from
 * /dataowner/current, the crypto-actor stubs of the user and its parents
 * (followed through parentId), the public keys a stub publishes, the PUT
 * that publishes a new key, and the cached anonymity result of the
 * strategies.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sdk/sdk.h"

/* Shortest SPKI the official SDK accepts: 2048-bit keys have 588. */
#define SPKI_HEX_MIN 522
#define SPKI_HEX_MAX (2 * CARDEA_RSA_MAX_DER_LEN)
#define EXPONENT_TAIL "0203010001"

cardea_data_owner_type
cardea_sdk__parse_type(const char *name)
{
    if (name == NULL) {
        return 0;
    }
    if (strcasecmp(name, "hcp") == 0) {
        return CARDEA_DATA_OWNER_HCP;
    }
    if (strcasecmp(name, "patient") == 0) {
        return CARDEA_DATA_OWNER_PATIENT;
    }
    if (strcasecmp(name, "device") == 0) {
        return CARDEA_DATA_OWNER_DEVICE;
    }
    return 0;
}

const char *
cardea_sdk__type_name(cardea_data_owner_type type)
{
    switch (type) {
    case CARDEA_DATA_OWNER_HCP:
        return "hcp";
    case CARDEA_DATA_OWNER_PATIENT:
        return "patient";
    case CARDEA_DATA_OWNER_DEVICE:
        return "device";
    default:
        return "unknown";
    }
}

cardea_err
cardea_sdk__fetch_stub(json_t **out, cardea_data_owner_type *type,
                       cardea_session *session, const char *id)
{
    char *escaped = NULL;
    char *path = NULL;
    size_t path_len;
    json_t *answer = NULL;
    cardea_data_owner_type found;
    cardea_err err;

    if (out == NULL || type == NULL || session == NULL || id == NULL) {
        return CARDEA_EINVAL;
    }
    if ((err = cardea_sdk__escape_segment(&escaped, id)) != CARDEA_OK) {
        cardea_sdk__set_error(session, "out of memory");
        return err;
    }
    path_len = strlen(escaped) + sizeof "dataowner/stub/";
    if ((path = cardea_mem__alloc(path_len)) == NULL) {
        err = CARDEA_ENOMEM;
        cardea_sdk__set_error(session, "out of memory");
        goto out;
    }
    snprintf(path, path_len, "dataowner/stub/%s", escaped);
    err = cardea_sdk__request_json(&answer, session, "GET", path, NULL, NULL,
                                   0);
    if (err != CARDEA_OK) {
        goto out;
    }
    found = cardea_sdk__parse_type(cardea_json__get_str(answer, "type"));
    if (found == 0 || !json_is_object(json_object_get(answer, "stub"))) {
        cardea_sdk__set_error(session, "GET /rest/v2/dataowner/stub/%s: the "
                                       "response has no known type or no stub",
                              id);
        err = CARDEA_EFORMAT;
        goto out;
    }
    *out = answer;
    *type = found;
    answer = NULL;

out:
    json_decref(answer);
    cardea_mem__free(path);
    cardea_mem__free(escaped);
    return err;
}

static void
owners_free(cardea_sdk_owner *owners, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        cardea_mem__free(owners[i].id);
        json_decref(owners[i].stub);
    }
    cardea_mem__free(owners);
}

/* Fills `owner` from the stub of `id`. */
static cardea_err
load_owner(cardea_sdk_owner *owner, cardea_session *session, const char *id)
{
    json_t *answer = NULL;
    cardea_data_owner_type type;
    cardea_err err;

    if ((err = cardea_sdk__fetch_stub(&answer, &type, session, id)) !=
        CARDEA_OK) {
        return err;
    }
    owner->id = cardea_mem__strdup(id);
    owner->stub = json_incref(json_object_get(answer, "stub"));
    owner->type = type;
    json_decref(answer);
    if (owner->id == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    return CARDEA_OK;
}

static bool
seen_before(const cardea_sdk_owner *owners, size_t from, size_t to,
            const char *id)
{
    for (size_t i = from; i < to; i++) {
        if (strcmp(owners[i].id, id) == 0) {
            return true;
        }
    }
    return false;
}

/* Loads the user's stub and its parents, the user at the last slot. */
static cardea_err
load_hierarchy(cardea_sdk_owner **out, size_t *count, cardea_session *session,
               const char *self_id)
{
    const size_t cap = CARDEA_SDK_HIERARCHY_MAX + 1;
    cardea_sdk_owner *owners;
    size_t first = cap;
    const char *next = self_id;
    cardea_err err = CARDEA_OK;

    if ((owners = cardea_mem__calloc(cap, sizeof *owners)) == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    while (next != NULL && next[0] != 0) {
        if (first == 0) {
            cardea_sdk__set_error(session, "data owner %s has more than %d "
                                           "parents", self_id,
                                  CARDEA_SDK_HIERARCHY_MAX);
            err = CARDEA_EFORMAT;
            goto out;
        }
        if (seen_before(owners, first, cap, next)) {
            cardea_sdk__set_error(session, "the parentId chain of data owner "
                                           "%s loops at %s", self_id, next);
            err = CARDEA_EFORMAT;
            goto out;
        }
        first--;
        if ((err = load_owner(&owners[first], session, next)) != CARDEA_OK) {
            goto out;
        }
        next = cardea_json__get_str(owners[first].stub, "parentId");
    }
    /* Move the chain to the front: topmost parent first, user last. */
    memmove(owners, owners + first, (cap - first) * sizeof *owners);
    memset(owners + (cap - first), 0, first * sizeof *owners);
    *out = owners;
    *count = cap - first;
    owners = NULL;

out:
    if (owners != NULL) {
        for (size_t i = first; i < cap; i++) {
            cardea_mem__free(owners[i].id);
            json_decref(owners[i].stub);
        }
        cardea_mem__free(owners);
    }
    return err;
}

cardea_err
cardea_sdk__load_data_owner(cardea_session *session)
{
    json_t *current = NULL;
    json_t *data_owner;
    const char *id;
    cardea_data_owner_type type;
    cardea_sdk_owner *owners = NULL;
    size_t owner_count = 0;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    err = cardea_sdk__request_json(&current, session, "GET",
                                   "dataowner/current", NULL, NULL, 0);
    if (err != CARDEA_OK) {
        return err;
    }
    type = cardea_sdk__parse_type(cardea_json__get_str(current, "type"));
    data_owner = json_object_get(current, "dataOwner");
    id = cardea_json__get_str(data_owner, "id");
    if (type == 0 || id == NULL || id[0] == 0) {
        cardea_sdk__set_error(session, "GET /rest/v2/dataowner/current: the "
                                       "response has no known type or no "
                                       "dataOwner id");
        err = CARDEA_EFORMAT;
        goto out;
    }
    if ((err = load_hierarchy(&owners, &owner_count, session, id)) !=
        CARDEA_OK) {
        goto out;
    }
    if (owners[owner_count - 1].type != type) {
        cardea_sdk__set_error(session, "data owner %s is a %s but its stub "
                                       "says %s", id,
                              cardea_sdk__type_name(type),
                              cardea_sdk__type_name(
                                  owners[owner_count - 1].type));
        err = CARDEA_EFORMAT;
        goto out;
    }
    owners_free(session->owners, session->owner_count);
    json_decref(session->data_owner);
    session->owners = owners;
    session->owner_count = owner_count;
    session->data_owner = json_incref(data_owner);
    session->data_owner_type = type;
    session->self_anonymous =
        cardea_sdk__requires_anonymous(session, id, type);
    owners = NULL;
    cardea_sdk__log(session, CARDEA_LOG_INFO,
                    "data owner %s (%s, %s), %zu parent(s)", id,
                    cardea_sdk__type_name(type),
                    session->self_anonymous ? "anonymous" : "explicit",
                    owner_count - 1);

out:
    if (owners != NULL) {
        owners_free(owners, owner_count);
    }
    json_decref(current);
    return err;
}

/* Sends one PUT of a stub and replaces the owner's stub with the
 * response. */
static cardea_err
put_once(cardea_session *session, size_t owner, json_t *stub)
{
    json_t *body;
    json_t *answer = NULL;
    json_t *updated;
    cardea_err err;

    body = json_object();
    if (body == NULL ||
        cardea_json__set_str(body, "type",
                             cardea_sdk__type_name(
                                 session->owners[owner].type)) != CARDEA_OK ||
        json_object_set(body, "stub", stub) != 0) {
        json_decref(body);
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    err = cardea_sdk__request_json(&answer, session, "PUT", "dataowner/stub",
                                   body, NULL, 0);
    json_decref(body);
    if (err != CARDEA_OK) {
        return err;
    }
    /* The response is the stub with its type. A bare stub is accepted
     * too. */
    updated = json_object_get(answer, "stub");
    if (!json_is_object(updated)) {
        updated = answer;
    }
    if (!json_is_object(updated) ||
        cardea_json__get_str(updated, "rev") == NULL) {
        json_decref(answer);
        cardea_sdk__set_error(session, "PUT /rest/v2/dataowner/stub: the "
                                       "response contains no stub with a rev");
        return CARDEA_EFORMAT;
    }
    json_decref(session->owners[owner].stub);
    session->owners[owner].stub = json_incref(updated);
    json_decref(answer);
    return CARDEA_OK;
}

/* Copies the current stub of the owner and applies the edit. */
static cardea_err
edited_copy(json_t **out, cardea_session *session, const json_t *stub,
            cardea_err (*edit)(json_t *stub, const void *arg),
            const void *arg)
{
    json_t *copy = json_deep_copy(stub);
    cardea_err err;

    if (copy == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    if ((err = edit(copy, arg)) != CARDEA_OK) {
        json_decref(copy);
        cardea_sdk__set_error(session, "cannot update the stub: %s",
                              cardea_strerror(err));
        return err;
    }
    *out = copy;
    return CARDEA_OK;
}

cardea_err
cardea_sdk__put_stub(cardea_session *session, size_t owner,
                     cardea_err (*edit)(json_t *stub, const void *arg),
                     const void *arg)
{
    json_t *stub = NULL;
    json_t *fresh = NULL;
    cardea_data_owner_type type;
    cardea_err err;

    if (session == NULL || owner >= session->owner_count || edit == NULL) {
        return CARDEA_EINVAL;
    }
    err = edited_copy(&stub, session, session->owners[owner].stub, edit, arg);
    if (err != CARDEA_OK) {
        return err;
    }
    err = put_once(session, owner, stub);
    json_decref(stub);
    stub = NULL;
    if (err != CARDEA_ECONFLICT) {
        return err;
    }
    /* Someone else changed the stub since it was read: re-read, re-apply
     * and try once more. */
    cardea_sdk__log(session, CARDEA_LOG_INFO,
                    "PUT dataowner/stub of %s: conflict, retrying once",
                    session->owners[owner].id);
    err = cardea_sdk__fetch_stub(&fresh, &type, session,
                                 session->owners[owner].id);
    if (err == CARDEA_OK) {
        err = edited_copy(&stub, session, json_object_get(fresh, "stub"),
                          edit, arg);
    }
    if (err == CARDEA_OK) {
        err = put_once(session, owner, stub);
    }
    json_decref(stub);
    json_decref(fresh);
    return err;
}

/* Checks SPKI hex the way the official SDK does, and lowercases it. */
static char *
normalised_spki(const char *hex)
{
    size_t len = hex != NULL ? strlen(hex) : 0;

    if (len < SPKI_HEX_MIN || len > SPKI_HEX_MAX ||
        !cardea_hex__is_valid(hex, len) ||
        strcasecmp(hex + len - (sizeof EXPONENT_TAIL - 1), EXPONENT_TAIL) !=
            0) {
        return NULL;
    }
    return cardea_sdk__hex_lower_dup(hex);
}

typedef struct pubkey_list {
    cardea_sdk_pubkey *items;
    size_t count;
    size_t cap;
} pubkey_list;

/* Adds a key unless listed; EFORMAT when listed for the other hash. */
static cardea_err
add_pubkey(pubkey_list *list, const char *hex, cardea_rsa_oaep oaep)
{
    cardea_sdk_pubkey key;
    char *spki;

    if ((spki = normalised_spki(hex)) == NULL) {
        /* Not an SPKI: a placeholder such as the "x..." entries. */
        return CARDEA_OK;
    }
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i].spki_hex, spki) == 0) {
            cardea_mem__free(spki);
            return list->items[i].oaep == oaep ? CARDEA_OK : CARDEA_EFORMAT;
        }
    }
    if (list->count == list->cap) {
        size_t cap = list->cap == 0 ? 4 : list->cap * 2;
        cardea_sdk_pubkey *grown =
            cardea_mem__realloc(list->items, cap * sizeof *grown);

        if (grown == NULL) {
            cardea_mem__free(spki);
            return CARDEA_ENOMEM;
        }
        list->items = grown;
        list->cap = cap;
    }
    key.spki_hex = spki;
    key.oaep = oaep;
    if (cardea_fp__v1(key.fp_v1, spki, strlen(spki)) != CARDEA_OK) {
        cardea_mem__free(spki);
        return CARDEA_EFORMAT;
    }
    list->items[list->count++] = key;
    return CARDEA_OK;
}

cardea_err
cardea_sdk__stub_pubkeys(cardea_sdk_pubkey **out, size_t *count,
                         const json_t *stub)
{
    pubkey_list list = {NULL, 0, 0};
    json_t *item;
    const char *name;
    size_t i;
    cardea_err err = CARDEA_OK;

    if (out == NULL || count == NULL || !json_is_object(stub)) {
        return CARDEA_EINVAL;
    }
    json_array_foreach(json_object_get(stub, "publicKeysForOaepWithSha256"),
                       i, item) {
        if (err == CARDEA_OK && json_is_string(item)) {
            err = add_pubkey(&list, json_string_value(item),
                             CARDEA_RSA_OAEP_SHA256);
        }
    }
    name = cardea_json__get_str(stub, "publicKey");
    if (err == CARDEA_OK && name != NULL) {
        err = add_pubkey(&list, name, CARDEA_RSA_OAEP_SHA1);
    }
    json_object_foreach(json_object_get(stub, "aesExchangeKeys"), name,
                        item) {
        if (err == CARDEA_OK) {
            err = add_pubkey(&list, name, CARDEA_RSA_OAEP_SHA1);
        }
    }
    if (err != CARDEA_OK) {
        cardea_sdk__pubkeys_free(list.items, list.count);
        return err;
    }
    *out = list.items;
    *count = list.count;
    return CARDEA_OK;
}

void
cardea_sdk__pubkeys_free(cardea_sdk_pubkey *keys, size_t count)
{
    for (size_t i = 0; i < count && keys != NULL; i++) {
        cardea_mem__free(keys[i].spki_hex);
    }
    cardea_mem__free(keys);
}

static void
anon_cache_clear(cardea_session *session)
{
    for (size_t i = 0; i < session->anon_count; i++) {
        cardea_mem__free(session->anon_cache[i].id);
    }
    session->anon_count = 0;
}

bool
cardea_sdk__requires_anonymous(cardea_session *session, const char *id,
                               cardea_data_owner_type type)
{
    bool anonymous;
    char *copy;

    for (size_t i = 0; i < session->anon_count; i++) {
        if (strcmp(session->anon_cache[i].id, id) == 0) {
            return session->anon_cache[i].anonymous;
        }
    }
    anonymous = session->strategies.data_owner_requires_anonymous_delegation(
        session->strategies.user, id, type);
    if (session->anon_cache == NULL) {
        session->anon_cache = cardea_mem__calloc(
            CARDEA_SDK_ANON_CACHE_MAX, sizeof *session->anon_cache);
    }
    if (session->anon_count == CARDEA_SDK_ANON_CACHE_MAX) {
        anon_cache_clear(session);
    }
    /* A failed copy only costs a later call to the strategies. */
    if (session->anon_cache != NULL &&
        (copy = cardea_mem__strdup(id)) != NULL) {
        session->anon_cache[session->anon_count].id = copy;
        session->anon_cache[session->anon_count].anonymous = anonymous;
        session->anon_count++;
    }
    return anonymous;
}
