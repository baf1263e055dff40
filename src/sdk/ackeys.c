/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entity types of the SDK and the Icure-Access-Control-Keys headers that
 * an anonymous user sends with every request about an entity. The server
 * hashes each 16-byte key it receives and grants the access of the
 * delegation stored under that hash, so the header carries the acKey of
 * every exchange data the user can decrypt, for the entity type of the
 * request. The encoded values are cached per type until the exchange-data
 * cache changes.
 */
#include <string.h>

#include "sdk/exchange.h"

static const struct {
    const char *name;
    const char *path;
} kinds[CARDEA_SDK_KINDS] = {
    {"Patient", "patient"},
    {"HealthElement", "helement"},
    {"Contact", "contact"},
    {"Document", "document"},
    {"MaintenanceTask", "maintenancetask"},
};

int
cardea_sdk__kind(cardea_entity_type type)
{
    int index = (int)type - 1;

    return index >= 0 && index < CARDEA_SDK_KINDS ? index : -1;
}

const char *
cardea_sdk__kind_name(int kind)
{
    return kinds[kind].name;
}

const char *
cardea_sdk__kind_path(int kind)
{
    return kinds[kind].path;
}

void
cardea_sdk__ac_headers_invalidate(cardea_session *session)
{
    cardea_sdk_xstate *state = session->ext;

    if (state == NULL) {
        return;
    }
    for (int k = 0; k < CARDEA_SDK_KINDS; k++) {
        cardea_ackey__free_headers(state->header_values[k],
                                   state->header_counts[k]);
        state->header_values[k] = NULL;
        state->header_counts[k] = 0;
        state->headers_valid[k] = false;
    }
}

/* Encodes the acKeys of `kind` of every cached exchange data. */
static cardea_err
encode_values(cardea_sdk_xstate *state, int kind)
{
    uint8_t *keys = NULL;
    size_t bytes = 0;
    char **values = NULL;
    size_t value_count = 0;
    cardea_err err = CARDEA_OK;

    if (state->count > 0) {
        if (!cardea_size__mul(&bytes, state->count, CARDEA_AC_KEY_LEN)
            || (keys = cardea_mem__alloc(bytes)) == NULL) {
            return CARDEA_ENOMEM;
        }
        for (size_t i = 0; i < state->count; i++) {
            memcpy(keys + i * CARDEA_AC_KEY_LEN, state->items[i]->ackeys[kind],
                   CARDEA_AC_KEY_LEN);
        }
        err = cardea_ackey__encode_headers(&values, &value_count, keys,
                                           state->count);
        cardea_mem__free_secret(keys, bytes);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    state->header_values[kind] = values;
    state->header_counts[kind] = value_count;
    state->headers_valid[kind] = true;
    return CARDEA_OK;
}

cardea_err
cardea_sdk__ac_headers(cardea_http_header **out, size_t *count,
                       cardea_session *session, int kind)
{
    cardea_sdk_xstate *state = session->ext;
    cardea_http_header *headers;
    cardea_err err;

    if (state == NULL || !state->full) {
        *out = NULL;
        *count = 0;
        return CARDEA_OK;
    }
    if (!state->headers_valid[kind]
        && (err = encode_values(state, kind)) != CARDEA_OK) {
        cardea_sdk__set_error(session, "encoding access-control keys "
                              "failed: %s", cardea_strerror(err));
        return err;
    }
    if (state->header_counts[kind] == 0) {
        *out = NULL;
        *count = 0;
        return CARDEA_OK;
    }
    headers = cardea_mem__calloc(state->header_counts[kind], sizeof *headers);
    if (headers == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < state->header_counts[kind]; i++) {
        headers[i].name = CARDEA_SDK_AC_HEADER;
        headers[i].value = state->header_values[kind][i];
    }
    *out = headers;
    *count = state->header_counts[kind];
    return CARDEA_OK;
}

cardea_err
cardea_sdk__entity_request(json_t **out, cardea_session *session, int kind,
                           const char *method, const char *path,
                           const json_t *body)
{
    cardea_http_header *headers = NULL;
    size_t header_count = 0;
    cardea_err err;

    err = cardea_sdk__ac_headers(&headers, &header_count, session, kind);
    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_sdk__request_json(out, session, method, path, body, headers,
                                   header_count);
    cardea_free(headers);
    return err;
}
