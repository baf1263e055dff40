/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exchange-data cache of a session. Each secret of an exchange data costs
 * one RSA private-key operation, so each one is decrypted once per
 * session, and only when needed: reading entities through an exchange
 * data costs its exchange key alone. An explicit user keeps the most
 * recently used ones, looked up by id and by sdKey. An anonymous user
 * must send the acKeys of all of its exchange data with every request, so
 * it loads them all, decrypting only their access-control secrets, with
 * GET /exchangedata/byParticipant when the session opens or reloads.
 * This file also finds or creates the exchange data used to encrypt for
 * a delegate, and fully decrypts and verifies it first.
 */
#include <string.h>

#include "sdk/exchange.h"

/* ---- state ------------------------------------------------------------ */

static void
xd_free(cardea_sdk_xd *xd)
{
    if (xd == NULL) {
        return;
    }
    cardea_free(xd->id);
    cardea_free(xd->delegator);
    cardea_free(xd->delegate);
    json_decref(xd->json);
    cardea_exchange_data__content_free(xd->content);
    cardea_wipe(xd->ackeys, sizeof xd->ackeys);
    cardea_free(xd);
}

static void
party_free(cardea_sdk_party *party)
{
    if (party == NULL) {
        return;
    }
    cardea_free(party->id);
    json_decref(party->stub);
    cardea_free(party);
}

static void
state_empty(cardea_sdk_xstate *state)
{
    for (size_t i = 0; i < state->count; i++) {
        xd_free(state->items[i]);
    }
    cardea_free(state->items);
    state->items = NULL;
    state->count = 0;
    state->cap = 0;
    for (size_t i = 0; i < state->party_count; i++) {
        party_free(state->parties[i]);
    }
    cardea_free(state->parties);
    state->parties = NULL;
    state->party_count = 0;
    state->loaded = false;
}

/* ext_reset: force_reload drops everything, then calls xd_begin. */
static void
state_reset(cardea_session *session)
{
    cardea_sdk_xstate *state = session->ext;

    if (state == NULL) {
        return;
    }
    cardea_sdk__ac_headers_invalidate(session);
    state_empty(state);
    state->full = session->self_anonymous;
}

static void
state_free(cardea_session *session)
{
    cardea_sdk_xstate *state = session->ext;

    if (state == NULL) {
        return;
    }
    cardea_sdk__ac_headers_invalidate(session);
    state_empty(state);
    cardea_free(state);
    session->ext = NULL;
}

/* Adds `xd` (taken) to the cache, evicting the least recently used entry
 * that the current call has not used when an explicit cache is full. */
static cardea_err
state_add(cardea_sdk_xstate *state, cardea_sdk_xd *xd)
{
    size_t victim = SIZE_MAX;

    if (!state->full && state->count >= CARDEA_SDK_XD_LRU_MAX) {
        for (size_t i = 0; i < state->count; i++) {
            if (state->items[i]->last_use < state->epoch
                && (victim == SIZE_MAX
                    || state->items[i]->last_use
                           < state->items[victim]->last_use)) {
                victim = i;
            }
        }
    }
    if (victim != SIZE_MAX) {
        xd_free(state->items[victim]);
        state->items[victim] = state->items[--state->count];
    }
    if (state->count == state->cap) {
        size_t cap = state->cap == 0 ? 16 : state->cap * 2;
        cardea_sdk_xd **items;

        items = cardea_mem__realloc(state->items, cap * sizeof *items);
        if (items == NULL) {
            xd_free(xd);
            return CARDEA_ENOMEM;
        }
        state->items = items;
        state->cap = cap;
    }
    xd->last_use = ++state->clock;
    state->items[state->count++] = xd;
    return CARDEA_OK;
}

static cardea_sdk_xd *
state_find_id(cardea_sdk_xstate *state, const char *id)
{
    for (size_t i = 0; i < state->count; i++) {
        if (strcmp(state->items[i]->id, id) == 0) {
            state->items[i]->last_use = ++state->clock;
            return state->items[i];
        }
    }
    return NULL;
}

/* ---- keys --------------------------------------------------------------- */

static cardea_err
collect_keys(cardea_owner_key **out, size_t *count, cardea_session *session,
             bool self_safe_only)
{
    size_t self = session->owner_count - 1;
    cardea_owner_key *keys;
    size_t n = 0;

    keys = cardea_mem__calloc(session->key_count + 1, sizeof *keys);
    if (keys == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < session->key_count; i++) {
        const cardea_sdk_key *key = &session->keys[i];

        if (self_safe_only
            && (key->owner != self || !cardea_sdk__key_is_safe(key))) {
            continue;
        }
        keys[n].key = key->key;
        keys[n].oaep = key->oaep;
        keys[n].spki_hex = key->spki_hex;
        n++;
    }
    *out = keys;
    *count = n;
    return CARDEA_OK;
}

cardea_err
cardea_sdk__decryption_keys(cardea_owner_key **out, size_t *count,
                            cardea_session *session)
{
    return collect_keys(out, count, session, false);
}

cardea_err
cardea_sdk__safe_keys(cardea_owner_key **out, size_t *count,
                      cardea_session *session)
{
    return collect_keys(out, count, session, true);
}

/* ---- decrypting one exchange data --------------------------------------- */

static cardea_err
derive_ackeys(cardea_sdk_xd *xd)
{
    for (int k = 0; k < CARDEA_SDK_KINDS; k++) {
        cardea_err err = cardea_ackey__derive(
            xd->ackeys[k], xd->content->access_control_secret,
            cardea_sdk__kind_name(k));

        if (err != CARDEA_OK) {
            return err;
        }
        cardea_sdkey__from_ackey(xd->sdkeys[k], xd->ackeys[k]);
    }
    return CARDEA_OK;
}

/*
 * Builds a cache entry from `json` (a new reference is taken) and
 * `content` (taken, also on failure), which holds the secrets named by
 * `decrypted`. NULL content gives an entry with no secret yet.
 */
static cardea_err
xd_new(cardea_sdk_xd **out, json_t *json, cardea_exchange_content *content,
       unsigned decrypted)
{
    const char *id = cardea_json__get_str(json, "id");
    const char *delegator = cardea_json__get_str(json, "delegator");
    const char *delegate = cardea_json__get_str(json, "delegate");
    cardea_sdk_xd *xd;
    cardea_err err = CARDEA_OK;

    if (id == NULL || delegator == NULL || delegate == NULL) {
        cardea_exchange_data__content_free(content);
        return CARDEA_EFORMAT;
    }
    if (content == NULL
        && cardea_exchange_data__content_empty(&content) != CARDEA_OK) {
        return CARDEA_ENOMEM;
    }
    xd = cardea_mem__calloc(1, sizeof *xd);
    if (xd == NULL) {
        cardea_exchange_data__content_free(content);
        return CARDEA_ENOMEM;
    }
    xd->content = content;
    xd->json = json_incref(json);
    xd->id = cardea_mem__strdup(id);
    xd->delegator = cardea_mem__strdup(delegator);
    xd->delegate = cardea_mem__strdup(delegate);
    if (xd->id == NULL || xd->delegator == NULL || xd->delegate == NULL) {
        err = CARDEA_ENOMEM;
    } else if ((decrypted & CARDEA_SDK_XD_AC_SECRET) != 0) {
        err = derive_ackeys(xd);
    }
    if (err != CARDEA_OK) {
        xd_free(xd);
        return err;
    }
    xd->decrypted = decrypted;
    *out = xd;
    return CARDEA_OK;
}

static const struct {
    unsigned bit;
    cardea_exchange_secret secret;
} secret_bits[] = {
    {CARDEA_SDK_XD_EXCHANGE_KEY, CARDEA_EXCHANGE_SECRET_KEY},
    {CARDEA_SDK_XD_AC_SECRET, CARDEA_EXCHANGE_SECRET_AC},
    {CARDEA_SDK_XD_SIGNATURE_KEY, CARDEA_EXCHANGE_SECRET_SIGNATURE},
};

/*
 * Decrypts the secrets of `need` that `xd` lacks, one RSA private-key
 * operation each, with every key of the hierarchy. A new access-control
 * secret also gives the entry its acKeys and sdKeys.
 */
static cardea_err
xd_decrypt(cardea_session *session, cardea_sdk_xd *xd, unsigned need)
{
    cardea_owner_key *keys = NULL;
    size_t key_count = 0;
    cardea_err err;

    if ((need & ~xd->decrypted) == 0) {
        return CARDEA_OK;
    }
    err = cardea_sdk__decryption_keys(&keys, &key_count, session);
    for (size_t i = 0;
         i < sizeof secret_bits / sizeof secret_bits[0] && err == CARDEA_OK;
         i++) {
        unsigned bit = secret_bits[i].bit;

        if ((need & bit) == 0 || (xd->decrypted & bit) != 0) {
            continue;
        }
        err = cardea_exchange_data__decrypt_secret(
            xd->content, xd->json, secret_bits[i].secret, keys, key_count);
        if (err == CARDEA_OK && bit == CARDEA_SDK_XD_AC_SECRET) {
            err = derive_ackeys(xd);
            cardea_sdk__ac_headers_invalidate(session);
        }
        if (err == CARDEA_OK) {
            xd->decrypted |= bit;
        }
    }
    cardea_free(keys);
    return err;
}

/*
 * Decides once whether `xd` may be used to encrypt new data. Only the
 * user's own exchange data can be verified, and only those pay for the
 * secrets that verification needs. An entry whose secrets do not decrypt
 * is not verified; only CARDEA_ENOMEM is an error.
 */
static cardea_err
xd_check(cardea_session *session, cardea_sdk_xd *xd)
{
    cardea_owner_key *safe = NULL;
    size_t safe_count = 0;
    bool verified = false;
    cardea_err err;

    if (xd->checked) {
        return CARDEA_OK;
    }
    if (strcmp(xd->delegator, cardea_sdk__self(session)->id) != 0) {
        xd->checked = true;
        return CARDEA_OK;
    }
    err = xd_decrypt(session, xd, CARDEA_SDK_XD_ALL);
    if (err == CARDEA_ENOMEM) {
        cardea_sdk__set_error(session, "out of memory");
        return err;
    }
    if (err != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_DEBUG,
                        "exchange data %s not verified: %s", xd->id,
                        cardea_strerror(err));
        xd->checked = true;
        return CARDEA_OK;
    }
    err = cardea_sdk__safe_keys(&safe, &safe_count, session);
    if (err == CARDEA_OK) {
        err = cardea_exchange_data__verify(&verified, xd->json, xd->content,
                                           cardea_sdk__self(session)->id,
                                           safe, safe_count);
    }
    cardea_free(safe);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "verifying exchange data %s "
                              "failed: %s", xd->id, cardea_strerror(err));
        return err;
    }
    xd->checked = true;
    xd->verified = verified;
    return CARDEA_OK;
}

/*
 * Caches `json` with the secrets of `need` decrypted. An anonymous
 * user's entries always get their access-control secret, because its
 * requests carry the acKeys of every cached entry.
 */
static cardea_err
decrypt_and_add(cardea_sdk_xd **out, cardea_session *session, json_t *json,
                unsigned need)
{
    cardea_sdk_xstate *state = session->ext;
    cardea_sdk_xd *xd = NULL;
    cardea_err err;

    if (state->full) {
        need |= CARDEA_SDK_XD_AC_SECRET;
    }
    if ((err = xd_new(&xd, json, NULL, 0)) != CARDEA_OK) {
        return err;
    }
    if ((err = xd_decrypt(session, xd, need)) != CARDEA_OK) {
        xd_free(xd);
        return err;
    }
    if ((err = state_add(state, xd)) != CARDEA_OK) {
        return err;
    }
    if ((need & CARDEA_SDK_XD_AC_SECRET) != 0) {
        cardea_sdk__ac_headers_invalidate(session);
    }
    *out = xd;
    return CARDEA_OK;
}

/* ---- loading ------------------------------------------------------------ */

/* GET path of one byParticipant page starting at `start` (NULL: first). */
static cardea_err
page_path(char *out, size_t out_cap, cardea_session *session,
          const char *start)
{
    char *self_id = NULL;
    char *start_esc = NULL;
    cardea_err err;

    err = cardea_sdk__escape_segment(&self_id, cardea_sdk__self(session)->id);
    if (err == CARDEA_OK && start != NULL) {
        err = cardea_sdk__escape_segment(&start_esc, start);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "out of memory");
    } else if ((size_t)snprintf(out, out_cap,
                                "exchangedata/byParticipant/%s?limit=%d%s%s",
                                self_id, CARDEA_SDK_XD_PAGE,
                                start_esc != NULL ? "&startDocumentId=" : "",
                                start_esc != NULL ? start_esc : "")
               >= out_cap) {
        cardea_sdk__set_error(session, "data owner or exchange-data id too "
                              "long for a request path");
        err = CARDEA_EINVAL;
    }
    cardea_free(self_id);
    cardea_free(start_esc);
    return err;
}

/* Decrypts and caches the rows of one page that are new and that the
 * user's keys open; the others are skipped. */
static cardea_err
add_rows(cardea_session *session, const json_t *rows)
{
    const json_t *row;
    size_t index;

    json_array_foreach(rows, index, row) {
        cardea_sdk_xd *xd = NULL;
        const char *id = cardea_json__get_str(row, "id");
        cardea_err err;

        if (id == NULL || state_find_id(session->ext, id) != NULL) {
            continue;
        }
        err = decrypt_and_add(&xd, session, (json_t *)row,
                              CARDEA_SDK_XD_AC_SECRET);
        if (err == CARDEA_ENOMEM) {
            cardea_sdk__set_error(session, "out of memory");
            return err;
        }
        if (err != CARDEA_OK) {
            cardea_sdk__log(session, CARDEA_LOG_DEBUG,
                            "exchange data %s skipped: %s", id,
                            cardea_strerror(err));
        }
    }
    return CARDEA_OK;
}

/* One page of byParticipant; `next` receives the next start id or NULL. */
static cardea_err
load_page(char **next, cardea_session *session, const char *start)
{
    char path[512];
    json_t *page = NULL;
    json_t *rows;
    const char *next_id;
    cardea_err err;

    if ((err = page_path(path, sizeof path, session, start)) != CARDEA_OK) {
        return err;
    }
    err = cardea_sdk__request_json(&page, session, "GET", path, NULL, NULL,
                                   0);
    if (err != CARDEA_OK) {
        return err;
    }
    rows = json_object_get(page, "rows");
    if (!json_is_array(rows)) {
        cardea_sdk__set_error(session, "GET exchangedata/byParticipant: "
                              "answer without a rows array");
        err = CARDEA_EFORMAT;
    }
    if (err == CARDEA_OK) {
        err = add_rows(session, rows);
    }
    next_id = cardea_json__get_str(json_object_get(page, "nextKeyPair"),
                                   "startKeyDocId");
    if (err == CARDEA_OK) {
        *next = NULL;
    }
    if (err == CARDEA_OK && next_id != NULL && json_array_size(rows) > 0
        && (*next = cardea_mem__strdup(next_id)) == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        err = CARDEA_ENOMEM;
    }
    json_decref(page);
    return err;
}

static cardea_err
load_all(cardea_session *session)
{
    cardea_sdk_xstate *state = session->ext;
    char *start = NULL;
    size_t max_pages = CARDEA_SDK_XD_FULL_MAX / CARDEA_SDK_XD_PAGE + 1;
    cardea_err err = CARDEA_OK;

    for (size_t page = 0; page < max_pages; page++) {
        char *next = NULL;

        err = load_page(&next, session, start);
        cardea_free(start);
        start = next;
        if (err != CARDEA_OK || start == NULL) {
            break;
        }
    }
    if (err == CARDEA_OK && start != NULL) {
        cardea_sdk__set_error(session, "more than %d exchange data for one "
                              "data owner", CARDEA_SDK_XD_FULL_MAX);
        err = CARDEA_ETOOBIG;
    }
    cardea_free(start);
    if (err == CARDEA_OK) {
        state->loaded = true;
    }
    return err;
}

cardea_err
cardea_sdk__xd_begin(cardea_session *session)
{
    cardea_sdk_xstate *state = session->ext;

    if (state == NULL) {
        if (session->ext_free != NULL || session->ext_reset != NULL) {
            cardea_sdk__set_error(session, "session extension slot taken");
            return CARDEA_ESTATE;
        }
        state = cardea_mem__calloc(1, sizeof *state);
        if (state == NULL) {
            cardea_sdk__set_error(session, "out of memory");
            return CARDEA_ENOMEM;
        }
        state->full = session->self_anonymous;
        session->ext = state;
        session->ext_reset = state_reset;
        session->ext_free = state_free;
    }
    if (state->party_count > CARDEA_SDK_PARTY_MAX) {
        for (size_t i = 0; i < state->party_count; i++) {
            party_free(state->parties[i]);
        }
        state->party_count = 0;
    }
    state->epoch = ++state->clock;
    if (state->full && !state->loaded) {
        return load_all(session);
    }
    return CARDEA_OK;
}

/* ---- lookups ------------------------------------------------------------ */

const cardea_sdk_xd *
cardea_sdk__xd_by_sdkey(cardea_session *session, int kind, const char *sdkey)
{
    cardea_sdk_xstate *state = session->ext;
    cardea_sdk_xd *xd = NULL;
    cardea_err err;

    for (size_t i = 0; i < state->count && xd == NULL; i++) {
        if ((state->items[i]->decrypted & CARDEA_SDK_XD_AC_SECRET) != 0
            && strcmp(state->items[i]->sdkeys[kind], sdkey) == 0) {
            xd = state->items[i];
        }
    }
    if (xd == NULL) {
        return NULL;
    }
    xd->last_use = ++state->clock;
    err = xd_decrypt(session, xd, CARDEA_SDK_XD_EXCHANGE_KEY);
    if (err != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_DEBUG,
                        "exchange key of exchange data %s unusable: %s",
                        xd->id, cardea_strerror(err));
        return NULL;
    }
    return xd;
}

cardea_err
cardea_sdk__xd_by_id(const cardea_sdk_xd **out, cardea_session *session,
                     const char *id)
{
    cardea_sdk_xd *xd = state_find_id(session->ext, id);
    char *escaped = NULL;
    char *path = NULL;
    json_t *json = NULL;
    cardea_err err;

    if (xd != NULL) {
        err = xd_decrypt(session, xd, CARDEA_SDK_XD_EXCHANGE_KEY);
        if (err != CARDEA_OK) {
            cardea_sdk__set_error(session, "exchange data %s cannot be "
                                  "decrypted: %s", id, cardea_strerror(err));
            return err;
        }
        *out = xd;
        return CARDEA_OK;
    }
    if ((err = cardea_sdk__escape_segment(&escaped, id)) != CARDEA_OK) {
        cardea_sdk__set_error(session, "out of memory");
        return err;
    }
    path = cardea_mem__alloc(strlen(escaped) + sizeof "exchangedata/");
    if (path == NULL) {
        cardea_free(escaped);
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    memcpy(path, "exchangedata/", sizeof "exchangedata/" - 1);
    memcpy(path + sizeof "exchangedata/" - 1, escaped, strlen(escaped) + 1);
    err = cardea_sdk__request_json(&json, session, "GET", path, NULL, NULL,
                                   0);
    if (err == CARDEA_OK) {
        err = decrypt_and_add(&xd, session, json,
                              CARDEA_SDK_XD_EXCHANGE_KEY);
        if (err != CARDEA_OK) {
            cardea_sdk__set_error(session, "exchange data %s cannot be "
                                  "decrypted: %s", id, cardea_strerror(err));
        }
    }
    if (err == CARDEA_OK) {
        *out = xd;
    }
    json_decref(json);
    cardea_free(path);
    cardea_free(escaped);
    return err;
}

cardea_err
cardea_sdk__xd_need_ackeys(cardea_session *session, const cardea_sdk_xd *xd)
{
    cardea_sdk_xstate *state = session->ext;
    cardea_err err;

    for (size_t i = 0; i < state->count; i++) {
        if (state->items[i] != xd) {
            continue;
        }
        err = xd_decrypt(session, state->items[i], CARDEA_SDK_XD_AC_SECRET);
        if (err != CARDEA_OK) {
            cardea_sdk__set_error(session, "access-control secret of "
                                  "exchange data %s cannot be decrypted: "
                                  "%s", xd->id, cardea_strerror(err));
        }
        return err;
    }
    cardea_sdk__set_error(session, "exchange data %s is not cached", xd->id);
    return CARDEA_ENOTFOUND;
}

/* ---- delegates ---------------------------------------------------------- */

/* Adds a party for `id` to the cache; `stub` (a new reference is taken)
 * is NULL for a member of the hierarchy at index `owner`. */
static cardea_err
party_add(const cardea_sdk_party **out, cardea_session *session,
          const char *id, json_t *stub, int owner)
{
    cardea_sdk_xstate *state = session->ext;
    cardea_sdk_party **parties;
    cardea_sdk_party *party;

    parties = cardea_mem__realloc(state->parties, (state->party_count + 1)
                                                      * sizeof *parties);
    if (parties == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    state->parties = parties;
    party = cardea_mem__calloc(1, sizeof *party);
    if (party == NULL || (party->id = cardea_mem__strdup(id)) == NULL) {
        cardea_free(party);
        cardea_sdk__set_error(session, "out of memory");
        return CARDEA_ENOMEM;
    }
    party->owner = owner;
    if (owner >= 0) {
        party->type = session->owners[owner].type;
    } else {
        party->type =
            cardea_sdk__parse_type(cardea_json__get_str(stub, "type"));
        party->stub = json_incref(stub);
    }
    if (owner >= 0 && (size_t)owner + 1 == session->owner_count) {
        party->anonymous = session->self_anonymous;
    } else {
        party->anonymous =
            cardea_sdk__requires_anonymous(session, id, party->type);
    }
    parties[state->party_count++] = party;
    *out = party;
    return CARDEA_OK;
}

cardea_err
cardea_sdk__party(const cardea_sdk_party **out, cardea_session *session,
                  const char *id)
{
    cardea_sdk_xstate *state = session->ext;
    json_t *stub = NULL;
    cardea_data_owner_type type;
    cardea_err err;

    for (size_t i = 0; i < state->party_count; i++) {
        if (strcmp(state->parties[i]->id, id) == 0) {
            *out = state->parties[i];
            return CARDEA_OK;
        }
    }
    for (size_t i = 0; i < session->owner_count; i++) {
        if (strcmp(session->owners[i].id, id) == 0) {
            return party_add(out, session, id, NULL, (int)i);
        }
    }
    err = cardea_sdk__fetch_stub(&stub, &type, session, id);
    if (err != CARDEA_OK) {
        return err;
    }
    err = party_add(out, session, id, stub, -1);
    json_decref(stub);
    return err;
}

/* ---- recipients of new exchange data ------------------------------------ */

/* Owner keys plus the public-key references this set must drop. */
typedef struct keyset {
    cardea_owner_key *keys;
    size_t count;
    cardea_rsa_key **owned;
    size_t owned_count;
    cardea_sdk_pubkey *pubkeys;
    size_t pubkey_count;
} keyset;

static void
keyset_free(keyset *set)
{
    for (size_t i = 0; i < set->owned_count; i++) {
        cardea_rsa__free(set->owned[i]);
    }
    cardea_free(set->owned);
    cardea_free(set->keys);
    cardea_sdk__pubkeys_free(set->pubkeys, set->pubkey_count);
    memset(set, 0, sizeof *set);
}

static cardea_err
keyset_reserve(keyset *set, size_t extra)
{
    cardea_owner_key *keys;
    cardea_rsa_key **owned;

    keys = cardea_mem__realloc(set->keys, (set->count + extra) * sizeof *keys);
    if (keys == NULL) {
        return CARDEA_ENOMEM;
    }
    set->keys = keys;
    owned = cardea_mem__realloc(set->owned,
                                (set->owned_count + extra) * sizeof *owned);
    if (owned == NULL) {
        return CARDEA_ENOMEM;
    }
    set->owned = owned;
    return CARDEA_OK;
}

/* Adds the public key `pub` (borrowed strings) to `set`. */
static cardea_err
keyset_add_public(keyset *set, const cardea_sdk_pubkey *pub)
{
    cardea_rsa_key *key = NULL;
    cardea_err err;

    if ((err = keyset_reserve(set, 1)) != CARDEA_OK) {
        return err;
    }
    err = cardea_rsa__from_spki_hex(&key, pub->spki_hex,
                                    strlen(pub->spki_hex));
    if (err != CARDEA_OK) {
        return err;
    }
    set->owned[set->owned_count++] = key;
    set->keys[set->count].key = key;
    set->keys[set->count].oaep = pub->oaep;
    set->keys[set->count].spki_hex = pub->spki_hex;
    set->count++;
    return CARDEA_OK;
}

/* Adds the safe private keys the session holds for owner `owner`. */
static cardea_err
keyset_add_owner(keyset *set, cardea_session *session, size_t owner)
{
    for (size_t i = 0; i < session->key_count; i++) {
        const cardea_sdk_key *key = &session->keys[i];
        cardea_err err;

        if (key->owner != owner || !cardea_sdk__key_is_safe(key)) {
            continue;
        }
        if ((err = keyset_reserve(set, 1)) != CARDEA_OK) {
            return err;
        }
        set->keys[set->count].key = key->key;
        set->keys[set->count].oaep = key->oaep;
        set->keys[set->count].spki_hex = key->spki_hex;
        set->count++;
    }
    return CARDEA_OK;
}

/* The delegate's published keys that the strategies accept. */
static cardea_err
add_accepted_keys(keyset *set, cardea_session *session,
                  const cardea_sdk_party *delegate)
{
    const char **spkis = NULL;
    bool *accepted = NULL;
    size_t accepted_count = 0;
    cardea_err err;

    err = cardea_sdk__stub_pubkeys(&set->pubkeys, &set->pubkey_count,
                                   json_object_get(delegate->stub, "stub"));
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "keys of data owner %s are "
                              "invalid: %s", delegate->id,
                              cardea_strerror(err));
        return err;
    }
    if (set->pubkey_count == 0) {
        cardea_sdk__set_error(session, "data owner %s publishes no public "
                              "key, so nothing can be shared with it",
                              delegate->id);
        return CARDEA_ENOKEY;
    }
    spkis = cardea_mem__calloc(set->pubkey_count, sizeof *spkis);
    accepted = cardea_mem__calloc(set->pubkey_count, sizeof *accepted);
    if (spkis == NULL || accepted == NULL) {
        cardea_sdk__set_error(session, "out of memory");
        err = CARDEA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < set->pubkey_count; i++) {
        spkis[i] = set->pubkeys[i].spki_hex;
    }
    err = session->strategies.verify_delegate_public_keys(
        session->strategies.user, delegate->id, delegate->type, spkis,
        set->pubkey_count, accepted);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "verifying the keys of data owner "
                              "%s failed: %s", delegate->id,
                              cardea_strerror(err));
        goto out;
    }
    for (size_t i = 0; i < set->pubkey_count && err == CARDEA_OK; i++) {
        if (accepted[i]) {
            accepted_count++;
            err = keyset_add_public(set, &set->pubkeys[i]);
        }
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "public key of data owner %s is "
                              "invalid: %s", delegate->id,
                              cardea_strerror(err));
    } else if (accepted_count == 0) {
        cardea_sdk__set_error(session, "the crypto strategies accepted none "
                              "of the %zu public keys of data owner %s",
                              set->pubkey_count, delegate->id);
        err = CARDEA_EDENIED;
    }

out:
    cardea_free(spkis);
    cardea_free(accepted);
    return err;
}

/* Keys of a parent: its safe local keys, else its published keys. */
static cardea_err
add_hierarchy_keys(keyset *set, cardea_session *session, size_t owner)
{
    size_t before = set->count;
    cardea_err err = keyset_add_owner(set, session, owner);

    if (err != CARDEA_OK || set->count > before) {
        return err;
    }
    err = cardea_sdk__stub_pubkeys(&set->pubkeys, &set->pubkey_count,
                                   session->owners[owner].stub);
    for (size_t i = 0; i < set->pubkey_count && err == CARDEA_OK; i++) {
        err = keyset_add_public(set, &set->pubkeys[i]);
    }
    return err;
}

static cardea_err
recipients(keyset *set, cardea_session *session,
           const cardea_sdk_party *delegate)
{
    size_t self = session->owner_count - 1;
    cardea_err err = keyset_add_owner(set, session, self);

    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "out of memory");
        return err;
    }
    if (set->count == 0) {
        cardea_sdk__set_error(session, "no key of data owner %s is "
                              "verified, so it cannot encrypt new data",
                              cardea_sdk__self(session)->id);
        return CARDEA_ENOKEY;
    }
    if (delegate->owner == (int)self) {
        return CARDEA_OK;
    }
    if (delegate->owner >= 0) {
        err = add_hierarchy_keys(set, session, (size_t)delegate->owner);
        if (err != CARDEA_OK) {
            cardea_sdk__set_error(session, "keys of data owner %s are "
                                  "invalid: %s", delegate->id,
                                  cardea_strerror(err));
        }
        return err;
    }
    return add_accepted_keys(set, session, delegate);
}

/* ---- get or create ------------------------------------------------------ */

/* A cached exchange data from the user to `delegate` that verifies, or
 * NULL in `out`; verifying an entry the first time decrypts it fully. */
static cardea_err
cached_verified_to(const cardea_sdk_xd **out, cardea_session *session,
                   const char *delegate)
{
    cardea_sdk_xstate *state = session->ext;
    const char *self = cardea_sdk__self(session)->id;

    *out = NULL;
    for (size_t i = 0; i < state->count; i++) {
        cardea_sdk_xd *xd = state->items[i];
        cardea_err err;

        if (strcmp(xd->delegator, self) != 0
            || strcmp(xd->delegate, delegate) != 0) {
            continue;
        }
        if ((err = xd_check(session, xd)) != CARDEA_OK) {
            return err;
        }
        if (xd->verified) {
            xd->last_use = ++state->clock;
            *out = xd;
            return CARDEA_OK;
        }
    }
    return CARDEA_OK;
}

/* GET byDelegatorDelegate: decrypts what is new, returns a verified one. */
static cardea_err
fetch_verified_to(const cardea_sdk_xd **out, cardea_session *session,
                  const char *delegate)
{
    char *self_esc = NULL;
    char *delegate_esc = NULL;
    char *path = NULL;
    json_t *list = NULL;
    json_t *item;
    size_t index;
    size_t len;
    cardea_err err;

    *out = NULL;
    if (cardea_sdk__escape_segment(&self_esc, cardea_sdk__self(session)->id)
            != CARDEA_OK
        || cardea_sdk__escape_segment(&delegate_esc, delegate) != CARDEA_OK) {
        err = CARDEA_ENOMEM;
        cardea_sdk__set_error(session, "out of memory");
        goto out;
    }
    len = strlen(self_esc) + strlen(delegate_esc) + 40;
    if ((path = cardea_mem__alloc(len)) == NULL) {
        err = CARDEA_ENOMEM;
        cardea_sdk__set_error(session, "out of memory");
        goto out;
    }
    (void)snprintf(path, len, "exchangedata/byDelegatorDelegate/%s/%s",
                   self_esc, delegate_esc);
    err = cardea_sdk__request_json(&list, session, "GET", path, NULL, NULL, 0);
    if (err != CARDEA_OK) {
        goto out;
    }
    json_array_foreach(list, index, item) {
        const char *id = cardea_json__get_str(item, "id");
        cardea_sdk_xd *xd;

        if (id == NULL) {
            continue;
        }
        xd = state_find_id(session->ext, id);
        if (xd == NULL) {
            err = decrypt_and_add(&xd, session, item, CARDEA_SDK_XD_ALL);
            if (err == CARDEA_ENOMEM) {
                cardea_sdk__set_error(session, "out of memory");
                goto out;
            }
            err = CARDEA_OK;
        }
        if (xd != NULL && (err = xd_check(session, xd)) != CARDEA_OK) {
            goto out;
        }
        if (xd != NULL && xd->verified) {
            *out = xd;
            break;
        }
    }

out:
    cardea_free(self_esc);
    cardea_free(delegate_esc);
    cardea_free(path);
    json_decref(list);
    return err;
}

static cardea_err
create_to(const cardea_sdk_xd **out, cardea_session *session,
          const cardea_sdk_party *delegate)
{
    keyset recipient_keys = {0};
    keyset signers = {0};
    cardea_exchange_content *content = NULL;
    json_t *json = NULL;
    json_t *stored = NULL;
    cardea_sdk_xd *xd = NULL;
    cardea_err err;

    if ((err = recipients(&recipient_keys, session, delegate)) != CARDEA_OK) {
        goto out;
    }
    err = keyset_add_owner(&signers, session, session->owner_count - 1);
    if (err == CARDEA_OK) {
        err = cardea_exchange_data__content_generate(&content);
    }
    if (err == CARDEA_OK) {
        err = cardea_exchange_data__create(
            &json, NULL, cardea_sdk__self(session)->id, delegate->id, content,
            recipient_keys.keys, recipient_keys.count, signers.keys,
            signers.count);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "creating exchange data to %s "
                              "failed: %s", delegate->id,
                              cardea_strerror(err));
        goto out;
    }
    err = cardea_sdk__request_json(&stored, session, "POST", "exchangedata",
                                   json, NULL, 0);
    if (err != CARDEA_OK) {
        goto out;
    }
    err = xd_new(&xd, json_is_object(stored) ? stored : json, content,
                 CARDEA_SDK_XD_ALL);
    content = NULL;
    if (err == CARDEA_OK) {
        /* The user made and signed it with its own safe keys. */
        xd->checked = true;
        xd->verified = true;
    }
    if (err == CARDEA_OK) {
        err = state_add(session->ext, xd);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "caching exchange data failed: %s",
                              cardea_strerror(err));
        goto out;
    }
    cardea_sdk__ac_headers_invalidate(session);
    *out = xd;

out:
    cardea_exchange_data__content_free(content);
    keyset_free(&recipient_keys);
    keyset_free(&signers);
    json_decref(json);
    json_decref(stored);
    return err;
}

cardea_err
cardea_sdk__xd_to(const cardea_sdk_xd **out, cardea_session *session,
                  const cardea_sdk_party *delegate)
{
    const cardea_sdk_xd *xd = NULL;
    cardea_err err;

    err = cached_verified_to(&xd, session, delegate->id);
    if (err != CARDEA_OK) {
        return err;
    }
    if (xd == NULL) {
        err = fetch_verified_to(&xd, session, delegate->id);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    if (xd == NULL) {
        err = create_to(&xd, session, delegate);
        if (err != CARDEA_OK) {
            return err;
        }
    }
    *out = xd;
    return CARDEA_OK;
}

/* ---- exchange-data ids for the other side ------------------------------- */

/* Keys of `delegate` whose fingerprint v2 names an entry of exchangeKey. */
static cardea_err
delegate_keys_in(keyset *set, const cardea_sdk_party *delegate,
                 const json_t *exchange_key)
{
    cardea_err err;

    err = cardea_sdk__stub_pubkeys(&set->pubkeys, &set->pubkey_count,
                                   json_object_get(delegate->stub, "stub"));
    for (size_t i = 0; i < set->pubkey_count && err == CARDEA_OK; i++) {
        char fp[CARDEA_FP_V2_LEN + 1];
        const char *spki = set->pubkeys[i].spki_hex;

        err = cardea_fp__v2(fp, spki, strlen(spki));
        if (err == CARDEA_OK
            && cardea_exchange_data__fp_map_find(exchange_key, fp) != NULL) {
            err = keyset_add_public(set, &set->pubkeys[i]);
        }
    }
    return err;
}

cardea_err
cardea_sdk__encrypted_xd_id(json_t **out, cardea_session *session,
                            const cardea_sdk_xd *xd,
                            const cardea_sdk_party *delegate)
{
    keyset keys = {0};
    json_t *encrypted = NULL;
    cardea_err err = CARDEA_OK;

    if (session->self_anonymous == delegate->anonymous) {
        *out = NULL;
        return CARDEA_OK;
    }
    if (!session->self_anonymous) {
        err = keyset_add_owner(&keys, session, session->owner_count - 1);
    } else if (delegate->stub != NULL) {
        err = delegate_keys_in(&keys, delegate,
                               json_object_get(xd->json, "exchangeKey"));
    } else {
        err = add_hierarchy_keys(&keys, session, (size_t)delegate->owner);
    }
    if (err == CARDEA_OK && keys.count == 0) {
        err = CARDEA_ENOKEY;
    }
    if (err == CARDEA_OK) {
        err = cardea_exchange_data__encrypt_id(&encrypted, xd->id, keys.keys,
                                               keys.count);
    }
    keyset_free(&keys);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "encrypting the id of exchange data "
                              "%s for %s failed: %s", xd->id, delegate->id,
                              cardea_strerror(err));
        return err;
    }
    *out = encrypted;
    return CARDEA_OK;
}
