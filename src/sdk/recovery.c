/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recovery data of a session: creating KEYPAIR_RECOVERY and
 * EXCHANGE_KEY_RECOVERY data with a new recovery key, fetching it back
 * (once, or with the server's long poll), and using it. Recovered key
 * pairs are stored as "recovered" keys and reach the session through a
 * reload, where the strategies decide whether they are verified. Pairs
 * fetched inside recover_and_verify_keys go to the strategies' result
 * directly. This file also records out-of-band verification of the
 * user's own keys. The format of recovery data is in format/recovery.c.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cardea/recovery.h"
#include "format/recovery.h"
#include "sdk/exchange.h"

/* The server ends one long poll after at most this many seconds. */
#define LONG_POLL_S 30u

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* see sdk/sdk.h */
cardea_err
cardea_sdk__xd_reload(cardea_session *session)
{
    if (session->ext_reset != NULL) {
        session->ext_reset(session);
    }
    return cardea_sdk__xd_begin(session);
}

cardea_err
cardea_sdk__recovery_check_options(cardea_session *session,
                                   const cardea_recovery_options *opts)
{
    if (opts->version != CARDEA_RECOVERY_OPTIONS_VERSION) {
        cardea_sdk__set_error(session, "unknown cardea_recovery_options "
                                       "version %d", opts->version);
        return CARDEA_EINVAL;
    }
    if (opts->key_bytes != 16 && opts->key_bytes != 32) {
        cardea_sdk__set_error(session, "recovery key size %u is invalid; "
                                       "use 16 or 32 bytes",
                              opts->key_bytes);
        return CARDEA_EINVAL;
    }
    if (opts->lifetime_s < 0 ||
        opts->lifetime_s > CARDEA_RECOVERY_LIFETIME_MAX) {
        cardea_sdk__set_error(session, "recovery data lifetime %lld s is "
                                       "invalid; use 0 (no expiry) to %lld",
                              (long long)opts->lifetime_s,
                              (long long)CARDEA_RECOVERY_LIFETIME_MAX);
        return CARDEA_EINVAL;
    }
    return CARDEA_OK;
}

static cardea_err
parse_key(cardea_recovery_key *key, cardea_session *session,
          const char *text)
{
    cardea_err err;

    if (text == NULL) {
        cardea_sdk__set_error(session, "the recovery key is missing");
        return CARDEA_EINVAL;
    }
    err = cardea_recovery__key_parse(key, text, strlen(text));
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "the recovery key is invalid: expected "
                                       "the base32 or hex text of 16 or 32 "
                                       "bytes");
        return CARDEA_EFORMAT;
    }
    return CARDEA_OK;
}

/* ---- storing recovery data ---------------------------------------------- */

cardea_err
cardea_sdk__recovery_store(char **out, cardea_session *session,
                           const char *recipient, cardea_recovery_type type,
                           const char *content, size_t content_len,
                           const cardea_recovery_options *opts)
{
    cardea_recovery_key key;
    int64_t expiry = 0;
    json_t *data = NULL;
    char *text = NULL;
    cardea_err err;

    if (opts->lifetime_s > 0) {
        expiry = now_ms() + opts->lifetime_s * 1000;
    }
    err = cardea_recovery__key_generate(&key, opts->key_bytes);
    if (err == CARDEA_OK) {
        err = cardea_recovery__data_build(&data, &key, recipient, type,
                                          content, content_len,
                                          opts->lifetime_s > 0 ? &expiry
                                                               : NULL);
    }
    if (err == CARDEA_OK) {
        err = cardea_recovery__key_to_text(&text, &key,
                                           CARDEA_RECOVERY_TEXT_GROUPED);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "building recovery data failed: %s",
                              cardea_strerror(err));
        goto out;
    }
    err = cardea_sdk__request_json(NULL, session, "POST", "recoverydata",
                                   data, NULL, 0);
    if (err == CARDEA_OK) {
        *out = text;
        text = NULL;
    }

out:
    if (text != NULL) {
        cardea_mem__free_secret(text, strlen(text) + 1);
    }
    cardea_wipe(&key, sizeof key);
    json_decref(data);
    return err;
}

/* Borrowed key pairs of one owner that are safe to hand out. */
static cardea_err
collect_pairs(cardea_recovery_keypair **out, size_t *count,
              cardea_session *session, bool include_parents)
{
    size_t self = session->owner_count - 1;
    cardea_recovery_keypair *pairs;
    size_t n = 0;

    pairs = cardea_mem__calloc(session->key_count + 1, sizeof *pairs);
    if (pairs == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < session->key_count; i++) {
        const cardea_sdk_key *k = &session->keys[i];

        if (!cardea_sdk__key_is_safe(k) ||
            (k->owner != self && !include_parents)) {
            continue;
        }
        pairs[n].owner_id = session->owners[k->owner].id;
        pairs[n].key = k->key;
        pairs[n].oaep = k->oaep;
        n++;
    }
    *out = pairs;
    *count = n;
    return CARDEA_OK;
}

/* see cardea/recovery.h */
cardea_err
cardea_recovery_create_key_pair_data(char **recovery_key,
                                     cardea_session *session,
                                     const cardea_recovery_options *opts)
{
    const cardea_recovery_options defaults = CARDEA_RECOVERY_OPTIONS_INIT;
    cardea_recovery_keypair *pairs = NULL;
    size_t count = 0;
    char *content = NULL;
    size_t content_len = 0;
    cardea_err err;

    if (recovery_key == NULL || session == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    opts = opts != NULL ? opts : &defaults;
    if ((err = cardea_sdk__recovery_check_options(session, opts)) !=
        CARDEA_OK) {
        return err;
    }
    if ((err = collect_pairs(&pairs, &count, session,
                             opts->include_parents)) != CARDEA_OK) {
        cardea_sdk__set_error(session, "out of memory");
        return err;
    }
    if (count == 0) {
        cardea_sdk__set_error(session, "data owner %s has no verified key "
                                       "to store in recovery data",
                              cardea_sdk__self(session)->id);
        err = CARDEA_ENOKEY;
        goto out;
    }
    err = cardea_recovery__keypairs_build(&content, &content_len, pairs,
                                          count);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "encoding the key pairs failed: %s",
                              cardea_strerror(err));
        goto out;
    }
    err = cardea_sdk__recovery_store(recovery_key, session,
                                     cardea_sdk__self(session)->id,
                                     CARDEA_RECOVERY_KEYPAIR, content,
                                     content_len, opts);
    if (err == CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_INFO, "stored recovery data "
                        "with %zu key pair(s)", count);
    }

out:
    if (content != NULL) {
        cardea_mem__free_secret(content, content_len + 1);
    }
    cardea_mem__free(pairs);
    return err;
}

/* ---- fetching recovery data --------------------------------------------- */

/*
 * GET recoverydata/{id}, or the long poll when `wait_s` > 0, in rounds of
 * at most LONG_POLL_S seconds. A 404 names the likely causes.
 */
static cardea_err
fetch_data(json_t **out, cardea_session *session,
           const cardea_recovery_key *key, unsigned wait_s)
{
    char id[CARDEA_RECOVERY_ID_LEN + 1];
    char path[160];
    unsigned left = wait_s;
    cardea_err err;

    if ((err = cardea_recovery__key_id(id, key)) != CARDEA_OK) {
        return err;
    }
    /* Each round waits at least one second or ends the loop. */
    for (;;) {
        unsigned round = left < LONG_POLL_S ? left : LONG_POLL_S;

        if (wait_s == 0) {
            snprintf(path, sizeof path, "recoverydata/%s", id);
        } else {
            snprintf(path, sizeof path,
                     "recoverydata/waiting/%s?timeoutSeconds=%u", id, round);
        }
        err = cardea_sdk__request_json(out, session, "GET", path, NULL, NULL,
                                       0);
        if (err != CARDEA_ENOTFOUND || left <= round) {
            break;
        }
        left -= round;
    }
    if (err == CARDEA_ENOTFOUND) {
        cardea_sdk__set_error(session, "no recovery data on the server for "
                                       "this recovery key: it is mistyped, "
                                       "was deleted after use, or has "
                                       "expired");
    }
    return err;
}

/* Fetches and decrypts the content of type `type`. */
static cardea_err
fetch_content(char **out, size_t *out_len, cardea_session *session,
              const cardea_recovery_key *key, cardea_recovery_type type,
              unsigned wait_s)
{
    json_t *data = NULL;
    const json_t *expiry;
    cardea_err err;

    if ((err = fetch_data(&data, session, key, wait_s)) != CARDEA_OK) {
        return err;
    }
    expiry = json_object_get(data, "expirationInstant");
    if (json_is_integer(expiry) && json_integer_value(expiry) <= now_ms()) {
        cardea_sdk__set_error(session, "the recovery data of this recovery "
                                       "key has expired; create a new "
                                       "recovery key");
        json_decref(data);
        return CARDEA_EEXPIRED;
    }
    err = cardea_recovery__data_decrypt(out, out_len, data, key, type);
    json_decref(data);
    if (err == CARDEA_EVERIFY) {
        cardea_sdk__set_error(session, "the recovery data does not decrypt "
                                       "with this recovery key");
    } else if (err == CARDEA_EINVAL) {
        cardea_sdk__set_error(session, "this recovery key is for %s",
                              type == CARDEA_RECOVERY_KEYPAIR
                                  ? "exchange data, not key pairs"
                                  : "key pairs, not exchange data");
    } else if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "the recovery data is malformed: %s",
                              cardea_strerror(err));
    }
    return err;
}

cardea_err
cardea_sdk__recovery_fetch(char **out, size_t *out_len,
                           cardea_session *session, const char *text,
                           cardea_recovery_type type, unsigned wait_s)
{
    cardea_recovery_key key;
    cardea_err err;

    if ((err = parse_key(&key, session, text)) != CARDEA_OK) {
        return err;
    }
    err = fetch_content(out, out_len, session, &key, type, wait_s);
    cardea_wipe(&key, sizeof key);
    return err;
}

/* Fetches, decrypts and parses KEYPAIR_RECOVERY data. */
static cardea_err
fetch_pairs(cardea_recovered_keypair **out, size_t *count,
            cardea_session *session, const char *text, unsigned wait_s)
{
    char *content = NULL;
    size_t content_len = 0;
    cardea_err err;

    err = cardea_sdk__recovery_fetch(&content, &content_len, session, text,
                                     CARDEA_RECOVERY_KEYPAIR, wait_s);
    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_recovery__keypairs_parse(out, count, content, content_len);
    cardea_mem__free_secret(content, content_len + 1);
    if (err == CARDEA_EVERIFY) {
        cardea_sdk__set_error(session, "a private key in the recovery data "
                                       "does not match its public key");
    } else if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "the recovered key pairs are "
                                       "malformed: %s", cardea_strerror(err));
    }
    return err;
}

cardea_err
cardea_sdk__recovery_delete(cardea_session *session, const char *text)
{
    cardea_recovery_key key;
    char id[CARDEA_RECOVERY_ID_LEN + 1];
    char path[128];
    cardea_err err;

    if ((err = parse_key(&key, session, text)) != CARDEA_OK) {
        return err;
    }
    err = cardea_recovery__key_id(id, &key);
    cardea_wipe(&key, sizeof key);
    if (err != CARDEA_OK) {
        return err;
    }
    snprintf(path, sizeof path, "recoverydata/%s", id);
    return cardea_sdk__request(NULL, NULL, session, "DELETE", path, NULL, 0,
                               NULL, 0, NULL);
}

/* see cardea/recovery.h */
cardea_err
cardea_recovery_purge(cardea_session *session, const char *recovery_key)
{
    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    return cardea_sdk__recovery_delete(session, recovery_key);
}

/* ---- using key pairs ---------------------------------------------------- */

/* Index of the owner `pair` names when it publishes the pair's key, or
 * -1. */
static int
publisher(cardea_session *session, const cardea_recovered_keypair *pair)
{
    for (size_t i = 0; i < session->owner_count; i++) {
        cardea_sdk_pubkey *pubs = NULL;
        size_t count = 0;
        bool found = false;

        if (strcmp(session->owners[i].id, pair->owner_id) != 0 ||
            cardea_sdk__stub_pubkeys(&pubs, &count,
                                     session->owners[i].stub) != CARDEA_OK) {
            continue;
        }
        for (size_t j = 0; j < count && !found; j++) {
            found = strcasecmp(pubs[j].spki_hex, pair->spki_hex) == 0;
        }
        cardea_sdk__pubkeys_free(pubs, count);
        if (found) {
            return (int)i;
        }
    }
    return -1;
}

/* Stores one pair as a recovered key; *stored tells whether it was new. */
static cardea_err
store_pair(bool *stored, cardea_session *session,
           const cardea_recovered_keypair *pair)
{
    char fp[CARDEA_FP_V1_LEN + 1];
    uint8_t *der = NULL;
    size_t der_len = 0;
    int owner = publisher(session, pair);
    cardea_err err;

    *stored = false;
    if (owner < 0) {
        cardea_sdk__log(session, CARDEA_LOG_WARN, "recovered key of %s is "
                        "not published by the hierarchy; ignored",
                        pair->owner_id);
        return CARDEA_OK;
    }
    if (cardea_sdk__find_key(session, pair->owner_id, pair->spki_hex) !=
        NULL) {
        return CARDEA_OK;
    }
    err = cardea_fp__v1(fp, pair->spki_hex, strlen(pair->spki_hex));
    if (err == CARDEA_OK) {
        err = cardea_rsa__pkcs8_der(&der, &der_len, pair->key);
    }
    if (err == CARDEA_OK) {
        err = cardea_keystore__save_key(
            session->keystore, CARDEA_KEYSTORE_RECOVERED,
            session->owners[owner].id, fp, der, der_len, session->errmsg,
            sizeof session->errmsg);
    }
    cardea_mem__free_secret(der, der_len);
    *stored = err == CARDEA_OK;
    return err;
}

static cardea_err
recover_pairs(size_t *recovered, cardea_session *session,
              const char *recovery_key, unsigned wait_s, bool auto_delete)
{
    cardea_recovered_keypair *pairs = NULL;
    size_t count = 0;
    size_t stored = 0;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    err = fetch_pairs(&pairs, &count, session, recovery_key, wait_s);
    for (size_t i = 0; err == CARDEA_OK && i < count; i++) {
        bool is_new = false;

        err = store_pair(&is_new, session, &pairs[i]);
        stored += is_new ? 1 : 0;
    }
    cardea_recovery__keypairs_free(pairs, count);
    if (err != CARDEA_OK) {
        return err;
    }
    if (auto_delete &&
        cardea_sdk__recovery_delete(session, recovery_key) != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_WARN, "recovery data not "
                        "deleted: %s", session->errmsg);
    }
    cardea_sdk__log(session, CARDEA_LOG_INFO, "stored %zu recovered key "
                    "pair(s); reloading", stored);
    if ((err = cardea_session_force_reload(session)) != CARDEA_OK) {
        return err;
    }
    if (recovered != NULL) {
        *recovered = stored;
    }
    return CARDEA_OK;
}

/* see cardea/recovery.h */
cardea_err
cardea_recovery_recover_key_pairs(size_t *recovered, cardea_session *session,
                                  const char *recovery_key, bool auto_delete)
{
    return recover_pairs(recovered, session, recovery_key, 0, auto_delete);
}

/* see cardea/recovery.h */
cardea_err
cardea_recovery_wait_key_pairs(size_t *recovered, cardea_session *session,
                               const char *recovery_key, unsigned wait_s,
                               bool auto_delete)
{
    if (wait_s == 0 || wait_s > CARDEA_RECOVERY_WAIT_MAX) {
        if (session != NULL) {
            cardea_sdk__set_error(session, "wait of %u s is invalid; use 1 "
                                           "to %u s", wait_s,
                                  CARDEA_RECOVERY_WAIT_MAX);
        }
        return CARDEA_EINVAL;
    }
    return recover_pairs(recovered, session, recovery_key, wait_s,
                         auto_delete);
}

/* Hex of the PKCS#8 of `key`; wipe and free with free_hex. */
static cardea_err
pkcs8_hex(char **out, const cardea_rsa_key *key)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    cardea_err err = cardea_rsa__pkcs8_der(&der, &der_len, key);

    if (err == CARDEA_OK) {
        err = cardea_hex__encode_alloc(out, der, der_len);
    }
    cardea_mem__free_secret(der, der_len);
    return err;
}

/* see cardea/recovery.h */
cardea_err
cardea_key_recovery_use_recovery_key(size_t *added,
                                     cardea_key_recovery *result,
                                     const char *recovery_key,
                                     unsigned wait_s, bool auto_delete)
{
    cardea_session *session = cardea_sdk__key_recovery_session(result);
    cardea_recovered_keypair *pairs = NULL;
    size_t count = 0;
    size_t n = 0;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_ESTATE;
    }
    if (wait_s > CARDEA_RECOVERY_WAIT_MAX) {
        return CARDEA_EINVAL;
    }
    err = fetch_pairs(&pairs, &count, session, recovery_key, wait_s);
    for (size_t i = 0; err == CARDEA_OK && i < count; i++) {
        char *hex = NULL;

        err = pkcs8_hex(&hex, pairs[i].key);
        if (err == CARDEA_OK) {
            err = cardea_key_recovery_add_pair(result, hex, pairs[i].spki_hex);
            cardea_mem__free_secret(hex, strlen(hex));
        }
        n += err == CARDEA_OK ? 1 : 0;
    }
    cardea_recovery__keypairs_free(pairs, count);
    if (err == CARDEA_OK && auto_delete &&
        cardea_sdk__recovery_delete(session, recovery_key) != CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_WARN, "recovery data not "
                        "deleted: %s", session->errmsg);
    }
    if (err == CARDEA_OK && added != NULL) {
        *added = n;
    }
    return err;
}

/* ---- verification ------------------------------------------------------- */

/* Finds the owner and fingerprint v1 of a published key of the
 * hierarchy, given as fingerprint v1, v2 or SPKI. */
static bool
find_published(size_t *owner, char fp_v1[CARDEA_FP_V1_LEN + 1],
               const cardea_session *session, const char *fingerprint)
{
    size_t len = strlen(fingerprint);

    for (size_t i = 0; i < session->owner_count; i++) {
        cardea_sdk_pubkey *pubs = NULL;
        size_t count = 0;
        bool found = false;

        if (cardea_sdk__stub_pubkeys(&pubs, &count,
                                     session->owners[i].stub) != CARDEA_OK) {
            continue;
        }
        for (size_t j = 0; j < count && !found; j++) {
            const char *v1 = pubs[j].fp_v1;

            found = len == CARDEA_FP_V1_LEN ? strcasecmp(v1, fingerprint) == 0
                    : len == CARDEA_FP_V2_LEN
                        ? strncasecmp(v1, fingerprint, len) == 0
                        : strcasecmp(pubs[j].spki_hex, fingerprint) == 0;
            if (found) {
                memcpy(fp_v1, v1, CARDEA_FP_V1_LEN + 1);
            }
        }
        cardea_sdk__pubkeys_free(pubs, count);
        if (found) {
            *owner = i;
            return true;
        }
    }
    return false;
}

/* see cardea/recovery.h */
cardea_err
cardea_session_verify_key(cardea_session *session, const char *fingerprint,
                          bool verified)
{
    char fp_v1[CARDEA_FP_V1_LEN + 1];
    json_t *map = NULL;
    size_t owner = 0;
    size_t len;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    len = fingerprint != NULL ? strlen(fingerprint) : 0;
    if (len < CARDEA_FP_V2_LEN || !cardea_hex__is_valid(fingerprint, len)) {
        cardea_sdk__set_error(session, "invalid key fingerprint: expected "
                                       "22 or 32 hex digits, or a public "
                                       "key in hex");
        return CARDEA_EINVAL;
    }
    if (!find_published(&owner, fp_v1, session, fingerprint)) {
        cardea_sdk__set_error(session, "no data owner of the hierarchy "
                                       "publishes a key with fingerprint %s",
                              len <= CARDEA_FP_V1_LEN ? fingerprint : "given");
        return CARDEA_ENOTFOUND;
    }
    err = cardea_keystore__load_verification(
        &map, session->keystore, session->owners[owner].id, session->errmsg,
        sizeof session->errmsg);
    if (err != CARDEA_OK) {
        return err;
    }
    if (json_object_set_new(map, fp_v1, json_boolean(verified)) != 0) {
        err = CARDEA_ENOMEM;
    } else {
        err = cardea_keystore__save_verification(
            session->keystore, session->owners[owner].id, map,
            session->errmsg, sizeof session->errmsg);
    }
    json_decref(map);
    if (err != CARDEA_OK) {
        return err;
    }
    cardea_sdk__log(session, CARDEA_LOG_INFO, "key %s of %s marked %s",
                    fp_v1, session->owners[owner].id,
                    verified ? "verified" : "not verified");
    return cardea_session_force_reload(session);
}
