/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EXCHANGE_KEY_RECOVERY: how a data owner gives a counterpart that had no
 * key yet (typically a patient invited by an HCP) access to the exchange
 * data they share. The giver stores the raw secrets of that exchange data
 * under a recovery key it hands over out of band. Once the receiver has a
 * key, it adds entries for its verified keys to each of those exchange
 * data, as RecoveryApiImpl.recoverExchangeData of @icure/cardinal-sdk
 * does. Anyone who has the receiver's id can store recovery data for
 * it, so the receiver first checks every recovered secret against the
 * shared signature of its exchange data, and that the exchange data goes
 * from a counterpart to the receiver. One failed check rejects the whole
 * recovery data before anything is written.
 */
#include <stdio.h>
#include <string.h>

#include "sdk/exchange.h"

/* Maximum exchange data read per direction, as a bound on a malicious
 * server response. */
#define PAIR_XD_MAX 1000

/* GET byDelegatorDelegate/{delegator}/{delegate}, appended to `list`. */
static cardea_err
fetch_pair(json_t *list, cardea_session *session, const char *delegator,
           const char *delegate)
{
    char *from = NULL;
    char *to = NULL;
    char path[700];
    json_t *rows = NULL;
    cardea_err err;

    err = cardea_sdk__escape_segment(&from, delegator);
    if (err == CARDEA_OK) {
        err = cardea_sdk__escape_segment(&to, delegate);
    }
    if (err == CARDEA_OK &&
        (size_t)snprintf(path, sizeof path,
                         "exchangedata/byDelegatorDelegate/%s/%s", from,
                         to) >= sizeof path) {
        cardea_sdk__set_error(session, "data owner id too long for a "
                                       "request path");
        err = CARDEA_EINVAL;
    }
    cardea_mem__free(from);
    cardea_mem__free(to);
    if (err == CARDEA_OK) {
        err = cardea_sdk__request_json(&rows, session, "GET", path, NULL,
                                       NULL, 0);
    }
    if (err == CARDEA_OK && (!json_is_array(rows) ||
                             json_array_size(rows) > PAIR_XD_MAX)) {
        cardea_sdk__set_error(session, "GET %s: answer is no array of at "
                                       "most %d exchange data", path,
                              PAIR_XD_MAX);
        err = CARDEA_EFORMAT;
    }
    if (err == CARDEA_OK && json_array_extend(list, rows) != 0) {
        err = CARDEA_ENOMEM;
    }
    json_decref(rows);
    return err;
}

/*
 * Exchange data between the user and `other`, in both directions (one
 * direction when `other` is the user).
 */
cardea_err
cardea_sdk__exchange_data_between(json_t **out, cardea_session *session,
                                  const char *other)
{
    const char *self = cardea_sdk__self(session)->id;
    json_t *list = json_array();
    cardea_err err;

    if (list == NULL) {
        return CARDEA_ENOMEM;
    }
    err = fetch_pair(list, session, self, other);
    if (err == CARDEA_OK && strcmp(self, other) != 0) {
        err = fetch_pair(list, session, other, self);
    }
    if (err != CARDEA_OK) {
        json_decref(list);
        return err;
    }
    *out = list;
    return CARDEA_OK;
}

/*
 * Exchange data from the user to `delegate`. Recovery data covers this
 * direction only, the default of the official SDK, because the receiver
 * rejects exchange data of which it is not the delegate.
 */
static cardea_err
exchange_data_to(json_t **out, cardea_session *session, const char *delegate)
{
    json_t *list = json_array();
    cardea_err err;

    if (list == NULL) {
        return CARDEA_ENOMEM;
    }
    err = fetch_pair(list, session, cardea_sdk__self(session)->id, delegate);
    if (err != CARDEA_OK) {
        json_decref(list);
        return err;
    }
    *out = list;
    return CARDEA_OK;
}

/* Creates exchange data from the user to a delegate without keys,
 * encrypted for and signed by the user's verified keys only. */
static cardea_err
create_for_keyless(cardea_session *session, const char *delegate_id)
{
    cardea_owner_key *safe = NULL;
    size_t safe_count = 0;
    cardea_exchange_content *content = NULL;
    json_t *json = NULL;
    cardea_err err;

    err = cardea_sdk__safe_keys(&safe, &safe_count, session);
    if (err == CARDEA_OK && safe_count == 0) {
        cardea_sdk__set_error(session, "data owner %s has no verified key",
                              cardea_sdk__self(session)->id);
        err = CARDEA_ENOKEY;
    }
    if (err == CARDEA_OK) {
        err = cardea_exchange_data__content_generate(&content);
    }
    if (err == CARDEA_OK) {
        err = cardea_exchange_data__create(
            &json, NULL, cardea_sdk__self(session)->id, delegate_id, content,
            safe, safe_count, safe, safe_count);
    }
    if (err == CARDEA_OK) {
        err = cardea_sdk__request_json(NULL, session, "POST", "exchangedata",
                                       json, NULL, 0);
    }
    if (err == CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_INFO, "created exchange data to "
                        "%s, which has no key yet", delegate_id);
    }
    cardea_exchange_data__content_free(content);
    cardea_mem__free(safe);
    json_decref(json);
    return err;
}

/* Makes sure exchange data from the user to the delegate exists. */
static cardea_err
ensure_exchange_data(cardea_session *session, const char *delegate_id)
{
    const cardea_sdk_party *party = NULL;
    const cardea_sdk_xd *xd = NULL;
    cardea_sdk_pubkey *pubs = NULL;
    size_t pub_count = 0;
    cardea_err err;

    if ((err = cardea_sdk__xd_begin(session)) != CARDEA_OK ||
        (err = cardea_sdk__party(&party, session, delegate_id)) !=
            CARDEA_OK) {
        return err;
    }
    if (party->stub != NULL) {
        err = cardea_sdk__stub_pubkeys(&pubs, &pub_count,
                                       json_object_get(party->stub, "stub"));
        cardea_sdk__pubkeys_free(pubs, pub_count);
    }
    if (err == CARDEA_OK && party->stub != NULL && pub_count == 0) {
        json_t *existing = NULL;

        err = exchange_data_to(&existing, session, delegate_id);
        if (err == CARDEA_OK && json_array_size(existing) == 0) {
            err = create_for_keyless(session, delegate_id);
        }
        json_decref(existing);
        return err;
    }
    return err == CARDEA_OK ? cardea_sdk__xd_to(&xd, session, party) : err;
}

/* Decrypts every exchange data of `list` the user's keys open. */
static cardea_err
decrypt_all(cardea_recovery_exchange **out, size_t *count,
            cardea_session *session, const json_t *list)
{
    cardea_owner_key *keys = NULL;
    size_t key_count = 0;
    cardea_recovery_exchange *entries;
    size_t n = 0;
    cardea_err err;

    entries = cardea_mem__calloc(json_array_size(list) + 1, sizeof *entries);
    if (entries == NULL) {
        return CARDEA_ENOMEM;
    }
    err = cardea_sdk__decryption_keys(&keys, &key_count, session);
    for (size_t i = 0; err == CARDEA_OK && i < json_array_size(list); i++) {
        const json_t *xd = json_array_get(list, i);
        cardea_exchange_content *content = NULL;
        const char *id = cardea_json__get_str(xd, "id");
        cardea_err one;

        if (id == NULL) {
            continue;
        }
        one = cardea_exchange_data__decrypt(&content, xd, keys, key_count);
        if (one == CARDEA_ENOMEM) {
            err = one;
        } else if (one == CARDEA_OK) {
            entries[n].exchange_data_id = id;
            entries[n].content = content;
            n++;
        }
    }
    cardea_mem__free(keys);
    if (err != CARDEA_OK) {
        for (size_t i = 0; i < n; i++) {
            cardea_exchange_data__content_free(
                (cardea_exchange_content *)entries[i].content);
        }
        cardea_mem__free(entries);
        return err;
    }
    *out = entries;
    *count = n;
    return CARDEA_OK;
}

static void
entries_free(cardea_recovery_exchange *entries, size_t count)
{
    for (size_t i = 0; entries != NULL && i < count; i++) {
        cardea_exchange_data__content_free(
            (cardea_exchange_content *)entries[i].content);
    }
    cardea_mem__free(entries);
}

/* see cardea/recovery.h */
cardea_err
cardea_recovery_create_exchange_data_for(char **recovery_key,
                                         cardea_session *session,
                                         const char *delegate_id,
                                         const cardea_recovery_options *opts)
{
    const cardea_recovery_options defaults = CARDEA_RECOVERY_OPTIONS_INIT;
    cardea_recovery_exchange *entries = NULL;
    size_t count = 0;
    json_t *list = NULL;
    char *content = NULL;
    size_t content_len = 0;
    cardea_err err;

    if (recovery_key == NULL || session == NULL || delegate_id == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    opts = opts != NULL ? opts : &defaults;
    if ((err = cardea_sdk__recovery_check_options(session, opts)) !=
            CARDEA_OK ||
        (err = ensure_exchange_data(session, delegate_id)) != CARDEA_OK ||
        (err = exchange_data_to(&list, session, delegate_id)) !=
            CARDEA_OK ||
        (err = decrypt_all(&entries, &count, session, list)) != CARDEA_OK) {
        goto out;
    }
    if (count == 0) {
        cardea_sdk__set_error(session, "no exchange data to %s opens with "
                                       "the user's keys", delegate_id);
        err = CARDEA_ENOKEY;
        goto out;
    }
    err = cardea_recovery__exchange_build(&content, &content_len, entries,
                                          count);
    if (err == CARDEA_OK) {
        err = cardea_sdk__recovery_store(recovery_key, session, delegate_id,
                                         CARDEA_RECOVERY_EXCHANGE_KEY,
                                         content, content_len, opts);
    }
    if (err == CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_INFO, "stored recovery data of "
                        "%zu exchange data for %s", count, delegate_id);
    }

out:
    if (content != NULL) {
        cardea_mem__free_secret(content, content_len + 1);
    }
    entries_free(entries, count);
    json_decref(list);
    if (err == CARDEA_ENOMEM) {
        cardea_sdk__set_error(session, "out of memory");
    }
    return err;
}

/* ---- using recovery data ------------------------------------------------ */

/*
 * Checks the stored sharedSignature of `xd` against the recovered
 * `content`, so that recovery data cannot make the user adopt secrets
 * other than those of the exchange data it names. Returns CARDEA_OK,
 * CARDEA_EVERIFY (no match, or malformed exchange data) or CARDEA_ENOMEM.
 */
static cardea_err
check_shared_signature(const json_t *xd,
                       const cardea_exchange_content *content)
{
    bool verified = false;
    cardea_err err;

    err = cardea_exchange_data__check_shared_signature(&verified, xd,
                                                        content);
    if (err != CARDEA_OK) {
        return err == CARDEA_ENOMEM ? err : CARDEA_EVERIFY;
    }
    return verified ? CARDEA_OK : CARDEA_EVERIFY;
}

/* GET exchangedata/{id}: the exchange data a recovery entry names. */
static cardea_err
fetch_named(json_t **out, cardea_session *session, const char *id)
{
    char *escaped = NULL;
    char path[256];
    json_t *xd = NULL;
    cardea_err err;

    if ((err = cardea_sdk__escape_segment(&escaped, id)) != CARDEA_OK) {
        return err;
    }
    if ((size_t)snprintf(path, sizeof path, "exchangedata/%s", escaped) >=
        sizeof path) {
        cardea_sdk__set_error(session, "the recovery data names an "
                                       "exchange data id that is too long");
        err = CARDEA_EFORMAT;
    }
    cardea_mem__free(escaped);
    if (err == CARDEA_OK) {
        err = cardea_sdk__request_json(&xd, session, "GET", path, NULL,
                                       NULL, 0);
    }
    if (err == CARDEA_ENOTFOUND) {
        cardea_sdk__set_error(session, "exchange data %s, named by the "
                                       "recovery data, was not found", id);
    }
    if (err == CARDEA_OK && (!json_is_object(xd) ||
                             cardea_json__get_str(xd, "id") == NULL ||
                             strcmp(cardea_json__get_str(xd, "id"), id) != 0)) {
        cardea_sdk__set_error(session, "GET %s: the server returned "
                                       "something other than exchange data "
                                       "%s", path, id);
        err = CARDEA_EFORMAT;
    }
    if (err != CARDEA_OK) {
        json_decref(xd);
        return err;
    }
    *out = xd;
    return CARDEA_OK;
}

/*
 * Checks that the user may adopt the recovered secrets of `xd`: the user
 * is its delegate and someone else its delegator, and the secrets match
 * its shared signature. Writing recovery data for the user only needs the
 * user's id, so adopting anything else would let its author choose
 * secrets that the user then re-encrypts for its keys.
 */
static cardea_err
check_recovered(cardea_session *session, const json_t *xd,
                const cardea_recovered_exchange *entry)
{
    const char *self = cardea_sdk__self(session)->id;
    const char *delegator = cardea_json__get_str(xd, "delegator");
    const char *delegate = cardea_json__get_str(xd, "delegate");
    cardea_err err;

    if (delegate == NULL || strcmp(delegate, self) != 0) {
        cardea_sdk__set_error(session, "exchange data %s, named by the "
                              "recovery data, is addressed to %s, not to "
                              "the user, so nothing was recovered",
                              entry->exchange_data_id,
                              delegate != NULL ? delegate : "nobody");
        return CARDEA_EVERIFY;
    }
    if (delegator == NULL || strcmp(delegator, self) == 0) {
        cardea_sdk__set_error(session, "exchange data %s, named by the "
                              "recovery data, does not come from a "
                              "counterpart of the user, so nothing was "
                              "recovered", entry->exchange_data_id);
        return CARDEA_EVERIFY;
    }
    err = check_shared_signature(xd, entry->content);
    if (err == CARDEA_EVERIFY) {
        cardea_sdk__set_error(session, "the secrets in the recovery data do "
                              "not match the shared signature of exchange "
                              "data %s, so nothing was recovered",
                              entry->exchange_data_id);
    }
    return err;
}

static void
stored_free(json_t **stored, size_t count)
{
    for (size_t i = 0; stored != NULL && i < count; i++) {
        json_decref(stored[i]);
    }
    cardea_mem__free(stored);
}

/*
 * Fetches and checks the exchange data of every entry before anything
 * is written, so that one bad entry leaves the server unchanged.
 * out: (out) the exchange data, in the order of `entries`.
 */
static cardea_err
fetch_and_check_all(json_t ***out, cardea_session *session,
                    const cardea_recovered_exchange *entries, size_t count)
{
    json_t **stored = cardea_mem__calloc(count + 1, sizeof *stored);
    cardea_err err = stored == NULL ? CARDEA_ENOMEM : CARDEA_OK;

    for (size_t i = 0; err == CARDEA_OK && i < count; i++) {
        const char *id = entries[i].exchange_data_id;

        for (size_t j = 0; err == CARDEA_OK && j < i; j++) {
            if (strcmp(entries[j].exchange_data_id, id) == 0) {
                cardea_sdk__set_error(session, "the recovery data names "
                                      "exchange data %s twice", id);
                err = CARDEA_EFORMAT;
            }
        }
        if (err == CARDEA_OK) {
            err = fetch_named(&stored[i], session, id);
        }
        if (err == CARDEA_OK) {
            err = check_recovered(session, stored[i], &entries[i]);
        }
    }
    if (err != CARDEA_OK) {
        stored_free(stored, count);
        return err;
    }
    *out = stored;
    return CARDEA_OK;
}

/*
 * Adds entries for the user's verified keys to one checked exchange data.
 * The user is its delegate, so no delegator signature is added, as the
 * official SDK does.
 */
static cardea_err
add_own_keys(cardea_session *session, const json_t *xd,
             const cardea_exchange_content *content,
             const cardea_owner_key *safe, size_t safe_count)
{
    json_t *extended = NULL;
    cardea_err err;

    err = cardea_exchange_data__update(&extended, xd, content, safe,
                                       safe_count,
                                       cardea_sdk__self(session)->id, NULL,
                                       0);
    if (err == CARDEA_OK) {
        err = cardea_sdk__request_json(NULL, session, "PUT", "exchangedata",
                                       extended, NULL, 0);
    }
    json_decref(extended);
    return err;
}

/* Fetches, decrypts and parses the EXCHANGE_KEY_RECOVERY content. */
static cardea_err
fetch_entries(cardea_recovered_exchange **out, size_t *count,
              cardea_session *session, const char *recovery_key)
{
    char *content = NULL;
    size_t content_len = 0;
    cardea_err err;

    err = cardea_sdk__recovery_fetch(&content, &content_len, session,
                                     recovery_key,
                                     CARDEA_RECOVERY_EXCHANGE_KEY, 0);
    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_recovery__exchange_parse(out, count, content, content_len);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "the recovered exchange data is "
                                       "malformed: %s",
                              cardea_strerror(err));
    }
    cardea_mem__free_secret(content, content_len + 1);
    return err;
}

/* see cardea/recovery.h */
cardea_err
cardea_recovery_recover_exchange_data(size_t *recovered,
                                      cardea_session *session,
                                      const char *recovery_key)
{
    cardea_recovered_exchange *entries = NULL;
    cardea_owner_key *safe = NULL;
    json_t **stored = NULL;
    size_t count = 0;
    size_t safe_count = 0;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    err = cardea_sdk__safe_keys(&safe, &safe_count, session);
    if (err == CARDEA_OK && safe_count == 0) {
        cardea_sdk__set_error(session, "data owner %s has no verified key "
                                       "to recover exchange data for",
                              cardea_sdk__self(session)->id);
        err = CARDEA_ENOKEY;
    }
    if (err == CARDEA_OK) {
        err = fetch_entries(&entries, &count, session, recovery_key);
    }
    if (err == CARDEA_OK) {
        err = fetch_and_check_all(&stored, session, entries, count);
    }
    for (size_t i = 0; err == CARDEA_OK && i < count; i++) {
        err = add_own_keys(session, stored[i], entries[i].content, safe,
                           safe_count);
    }
    if (err == CARDEA_OK &&
        cardea_sdk__recovery_delete(session, recovery_key) != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_WARN, "recovery data not "
                        "deleted: %s", session->errmsg);
        session->errmsg[0] = 0;
    }
    if (err == CARDEA_OK) {
        err = cardea_sdk__xd_reload(session);
    }
    if (err == CARDEA_OK && recovered != NULL) {
        *recovered = count;
    }
    stored_free(stored, count);
    cardea_recovery__exchange_free(entries, count);
    cardea_mem__free(safe);
    return err;
}
