/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sharing an existing entity with a data owner: the entity's secret ids,
 * keys and owning ids are encrypted with the key of exchange data from
 * the user to the delegate and sent to PUT /<entity>/bulkSharedMetadata
 * Update, with the delegations the user can open as potential parents.
 * When the entity already has a delegation under the same key, an update
 * request adds only the values it lacks. Ids appear in clear only for
 * explicit parties, and the exchange-data id only when both are explicit.
 * Otherwise the server stores it encrypted in an ExchangeDataMap.
 */
#include <string.h>

#include "sdk/exchange.h"

static cardea_delegation_values
values_of(const cardea_sdk_strings *secret_ids, const cardea_sdk_strings *keys,
          const cardea_sdk_strings *owning_ids)
{
    cardea_delegation_values values = {
        (const char *const *)secret_ids->items, secret_ids->count,
        (const char *const *)keys->items, keys->count,
        (const char *const *)owning_ids->items, owning_ids->count,
    };

    return values;
}

/* Values of `all` missing from `present`. */
static cardea_err
missing(cardea_sdk_strings *out, const cardea_sdk_strings *all,
        char *const *present, size_t present_count)
{
    for (size_t i = 0; i < all->count; i++) {
        bool found = false;
        cardea_err err;

        for (size_t j = 0; j < present_count && !found; j++) {
            found = strcmp(all->items[i], present[j]) == 0;
        }
        if (!found
            && (err = cardea_sdk__strings_add(out, all->items[i]))
                   != CARDEA_OK) {
            return err;
        }
    }
    return CARDEA_OK;
}

/*
 * Builds the update request for the existing delegation `sdkey`. `*out`
 * stays NULL when the delegation already contains every value.
 */
static cardea_err
update_request(json_t **out, cardea_session *session,
               const cardea_sdk_access *access, const cardea_sdk_xd *xd,
               const char *sdkey, const json_t *existing)
{
    cardea_delegation_plain present = {0};
    cardea_sdk_strings secret_ids = {0};
    cardea_sdk_strings keys = {0};
    cardea_sdk_strings owning_ids = {0};
    cardea_update_request request = {0};
    cardea_err err;

    err = cardea_delegation__decrypt_values(&present, existing,
                                            xd->content->exchange_key,
                                            xd->content->exchange_key_len);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "existing delegation %s does not "
                              "open with its exchange data: %s", sdkey,
                              cardea_strerror(err));
        return err;
    }
    err = missing(&secret_ids, &access->secret_ids, present.secret_ids,
                  present.secret_ids_len);
    if (err == CARDEA_OK) {
        err = missing(&keys, &access->keys_hex, present.encryption_keys,
                      present.encryption_keys_len);
    }
    if (err == CARDEA_OK) {
        err = missing(&owning_ids, &access->owning_ids,
                      present.owning_entity_ids,
                      present.owning_entity_ids_len);
    }
    *out = NULL;
    if (err == CARDEA_OK
        && secret_ids.count + keys.count + owning_ids.count > 0) {
        request.sd_key = sdkey;
        request.exchange_key = xd->content->exchange_key;
        request.exchange_key_len = xd->content->exchange_key_len;
        request.create = values_of(&secret_ids, &keys, &owning_ids);
        err = cardea_delegation__build_update_request(out, &request);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "building the update request "
                              "failed: %s", cardea_strerror(err));
    }
    cardea_delegation__plain_free(&present);
    cardea_sdk__strings_free(&secret_ids, false);
    cardea_sdk__strings_free(&keys, true);
    cardea_sdk__strings_free(&owning_ids, false);
    return err;
}

static cardea_err
share_request(json_t **out, cardea_session *session,
              const cardea_sdk_access *access, const cardea_sdk_xd *xd,
              const cardea_sdk_party *delegate, int kind,
              cardea_access_level level)
{
    cardea_share_request request = {0};
    json_t *encrypted_id = NULL;
    cardea_err err;

    err = cardea_sdk__encrypted_xd_id(&encrypted_id, session, xd, delegate);
    if (err != CARDEA_OK) {
        return err;
    }
    request.explicit_delegator =
        session->self_anonymous ? NULL : cardea_sdk__self(session)->id;
    request.explicit_delegate = delegate->anonymous ? NULL : delegate->id;
    request.ac_keys = xd->ackeys[kind];
    request.ac_keys_count = 1;
    request.exchange_data_id = xd->id;
    request.encrypted_exchange_data_id = encrypted_id;
    request.permission = level == CARDEA_ACCESS_WRITE
                             ? CARDEA_PERMISSION_MAX_WRITE
                             : CARDEA_PERMISSION_MAX_READ;
    request.exchange_key = xd->content->exchange_key;
    request.exchange_key_len = xd->content->exchange_key_len;
    request.values = values_of(&access->secret_ids, &access->keys_hex,
                               &access->owning_ids);
    err = cardea_delegation__build_share_request(out, &request);
    json_decref(encrypted_id);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "building the share request "
                              "failed: %s", cardea_strerror(err));
    }
    return err;
}

static cardea_err
rejection_error(int code)
{
    switch (code) {
    case 403:
        return CARDEA_EACCESS;
    case 404:
        return CARDEA_ENOTFOUND;
    case 409:
        return CARDEA_ECONFLICT;
    default:
        return CARDEA_EHTTP;
    }
}

/* Finds the result of entity `id`; fails on any rejected request. */
static cardea_err
read_result(json_t **updated, cardea_session *session, const json_t *results,
            const char *id)
{
    const json_t *result;
    size_t index;

    json_array_foreach(results, index, result) {
        const json_t *rejected = json_object_get(result, "rejectedRequests");
        const char *request_id;
        const json_t *rejection;

        if (strcmp(cardea_json__get_str(result, "entityId") != NULL
                       ? cardea_json__get_str(result, "entityId")
                       : "",
                   id) != 0) {
            continue;
        }
        json_object_foreach((json_t *)rejected, request_id, rejection) {
            int code =
                (int)json_integer_value(json_object_get(rejection, "code"));
            const char *reason = cardea_json__get_str(rejection, "reason");

            cardea_sdk__set_error(session, "share of %s rejected: HTTP %d: "
                                  "%s", id, code,
                                  reason != NULL ? reason : "no reason");
            return rejection_error(code);
        }
        *updated = json_object_get(result, "updatedEntity");
        return CARDEA_OK;
    }
    cardea_sdk__set_error(session, "share of %s: the server returned no "
                          "result for it", id);
    return CARDEA_EFORMAT;
}

static cardea_err
send_bulk(char **out, cardea_session *session, int kind, const char *id,
          const cardea_sdk_access *access, cardea_request_kind request_kind,
          json_t *request)
{
    json_t *bulk = NULL;
    json_t *results = NULL;
    json_t *updated = NULL;
    char *path = NULL;
    cardea_sdk_access reread = {0};
    cardea_err err;

    err = cardea_delegation__bulk_new(&bulk);
    if (err == CARDEA_OK) {
        err = cardea_delegation__bulk_add(
            bulk, id, NULL, request_kind, request,
            (const char *const *)access->sdkeys.items, access->sdkeys.count);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "building the bulk share request "
                              "failed: %s", cardea_strerror(err));
        goto out;
    }
    err = cardea_sdk__entity_path(&path, session, kind,
                                  "/bulkSharedMetadataUpdate", NULL);
    if (err == CARDEA_OK) {
        err = cardea_sdk__entity_request(&results, session, kind, "PUT", path,
                                         bulk);
    }
    if (err == CARDEA_OK) {
        err = read_result(&updated, session, results, id);
    }
    if (err == CARDEA_OK && json_is_object(updated)) {
        err = cardea_sdk__access_open(&reread, session, kind, updated);
    } else if (err == CARDEA_OK) {
        err = cardea_sdk__access_fetch(&reread, session, kind, id);
    }
    if (err == CARDEA_OK) {
        err = cardea_sdk__access_dump(out, session, &reread);
    }

out:
    cardea_sdk__access_free(&reread);
    json_decref(bulk);
    json_decref(results);
    cardea_free(path);
    return err;
}

/* see cardea/entity.h */
cardea_err
cardea_entity_share(char **out, cardea_session *session,
                    cardea_entity_type type, const char *id,
                    const char *delegate_id, cardea_access_level access_level)
{
    cardea_sdk_access access = {0};
    const cardea_sdk_party *delegate = NULL;
    const cardea_sdk_xd *xd = NULL;
    const json_t *existing;
    json_t *request = NULL;
    int kind;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    kind = cardea_sdk__kind(type);
    if (out == NULL || id == NULL || delegate_id == NULL || kind < 0
        || (access_level != CARDEA_ACCESS_READ
            && access_level != CARDEA_ACCESS_WRITE)) {
        cardea_sdk__set_error(session, "invalid share argument: NULL, an "
                              "unknown entity type or access level");
        return CARDEA_EINVAL;
    }
    if ((err = cardea_sdk__xd_begin(session)) != CARDEA_OK
        || (err = cardea_sdk__access_fetch(&access, session, kind, id))
               != CARDEA_OK
        || (err = cardea_sdk__party(&delegate, session, delegate_id))
               != CARDEA_OK
        || (err = cardea_sdk__xd_to(&xd, session, delegate)) != CARDEA_OK) {
        goto out;
    }
    existing = json_object_get(
        json_object_get(json_object_get(access.entity, "securityMetadata"),
                        "secureDelegations"),
        xd->sdkeys[kind]);
    if (existing != NULL) {
        err = update_request(&request, session, &access, xd, xd->sdkeys[kind],
                             existing);
        if (err == CARDEA_OK && request == NULL) {
            err = cardea_sdk__access_dump(out, session, &access);
            goto out;
        }
    } else {
        err = share_request(&request, session, &access, xd, delegate, kind,
                            access_level);
    }
    if (err == CARDEA_OK) {
        err = send_bulk(out, session, kind, id, &access,
                        existing != NULL ? CARDEA_REQUEST_UPDATE
                                         : CARDEA_REQUEST_SHARE,
                        request);
    }

out:
    json_decref(request);
    cardea_sdk__access_free(&access);
    return err;
}
