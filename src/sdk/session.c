/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening, reloading and closing a session, its error message and log,
 * and the accessors of cardea/session.h. The steps of an open live in
 * auth.c (login), data_owner.c (data owner and parents) and keys.c (the
 * user's keys).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdk/sdk.h"

void
cardea_sdk__set_error(cardea_session *session, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(session->errmsg, sizeof session->errmsg, fmt, ap);
    va_end(ap);
}

void
cardea_sdk__errmsg(char *errmsg, size_t errmsg_cap, const char *fmt, ...)
{
    va_list ap;

    if (errmsg == NULL || errmsg_cap == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_cap, fmt, ap);
    va_end(ap);
}

void
cardea_sdk__log(cardea_session *session, cardea_log_level level,
                const char *fmt, ...)
{
    char line[CARDEA_SDK_ERRMSG_CAP];
    va_list ap;

    if (session->log_fn != NULL) {
        if (level > session->log_level) {
            return;
        }
    } else if (!cardea_log__enabled(level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (session->log_fn != NULL) {
        session->log_fn(level, line, session->log_user);
    } else {
        cardea_log__write(level, "%s", line);
    }
}

static bool
strategies_complete(const cardea_crypto_strategies *s)
{
    return s->version == CARDEA_CRYPTO_STRATEGIES_VERSION &&
           s->data_owner_requires_anonymous_delegation != NULL &&
           s->recover_and_verify_keys != NULL &&
           s->generate_new_key_for_data_owner != NULL &&
           s->notify_key_pair_generation != NULL &&
           s->verify_delegate_public_keys != NULL;
}

static const char *
check_options(const cardea_session_options *opts)
{
    if (opts->version != 1
        && opts->version != CARDEA_SESSION_OPTIONS_VERSION) {
        return "unknown cardea_session_options version";
    }
    if (opts->base_url == NULL || opts->base_url[0] == 0) {
        return "base_url is missing";
    }
    if (opts->login != NULL ? opts->password == NULL : opts->token == NULL) {
        return "give login and password, or a token";
    }
    if (opts->key_store_dir == NULL || opts->key_store_dir[0] == 0) {
        return "key_store_dir is missing";
    }
    if (opts->strategies != NULL && !strategies_complete(opts->strategies)) {
        return "the crypto strategies have an unknown version or a NULL "
               "callback";
    }
    if (opts->transport != NULL &&
        (opts->transport->version != CARDEA_TRANSPORT_VERSION ||
         opts->transport->send == NULL)) {
        return "the transport has an unknown version or no send callback";
    }
    return NULL;
}

/* Copies the options that outlive the call into a new session. */
static cardea_err
session_new(cardea_session **out, const cardea_session_options *opts)
{
    cardea_session *s = cardea_mem__calloc(1, sizeof *s);
    size_t url_len;
    cardea_err err = CARDEA_OK;

    if (s == NULL || (s->base_url = cardea_mem__strdup(opts->base_url)) ==
                         NULL) {
        cardea_mem__free(s);
        return CARDEA_ENOMEM;
    }
    url_len = strlen(s->base_url);
    while (url_len > 0 && s->base_url[url_len - 1] == '/') {
        s->base_url[--url_len] = 0;
    }
    s->log_fn = opts->log_fn;
    s->log_level = opts->log_level;
    s->log_user = opts->log_user;
    /* Version 1 options end before `encrypted_fields`. */
    if (opts->version >= 2 && opts->encrypted_fields != NULL) {
        err = cardea_sdk__fields_new(&s->fields, opts->encrypted_fields,
                                     s->errmsg, sizeof s->errmsg);
    }
    if (err != CARDEA_OK) {
        *out = s;
        return err;
    }
    if (opts->strategies != NULL) {
        s->strategies = *opts->strategies;
    } else if ((err = cardea_simple_strategies_new(&s->owned_strategies,
                                                   NULL)) == CARDEA_OK) {
        s->strategies = *s->owned_strategies;
    }
    if (err == CARDEA_OK && opts->transport != NULL) {
        s->transport = *opts->transport;
    } else if (err == CARDEA_OK &&
               (err = cardea_transport_curl_new(&s->owned_transport,
                                                NULL)) == CARDEA_OK) {
        s->transport = *s->owned_transport;
    }
    *out = s;
    return err;
}

/* Takes the user id from the token, else from /user/matches. */
static cardea_err
find_user_id(cardea_session *session)
{
    json_t *matches = NULL;
    const char *id;
    cardea_err err;

    if (session->user_id != NULL) {
        return CARDEA_OK;
    }
    err = cardea_sdk__request_json(&matches, session, "GET", "user/matches",
                                   NULL, NULL, 0);
    if (err == CARDEA_ENOTFOUND) {
        /* Servers without groups may not have the route at all. */
        session->errmsg[0] = 0;
        return CARDEA_OK;
    }
    if (err != CARDEA_OK) {
        return err;
    }
    id = cardea_json__get_str(json_array_get(matches, 0), "userId");
    if (id != NULL && (session->user_id = cardea_mem__strdup(id)) == NULL) {
        err = CARDEA_ENOMEM;
    }
    json_decref(matches);
    return err;
}

static cardea_err
authenticate(cardea_session *session, const cardea_session_options *opts)
{
    char *password;
    size_t password_len;
    cardea_err err;

    if (opts->login == NULL) {
        return cardea_sdk__use_token(session, opts->token,
                                     opts->refresh_token);
    }
    /* A private copy, wiped as soon as the login request is done. */
    password_len = strlen(opts->password);
    if ((password = cardea_mem__strdup(opts->password)) == NULL) {
        return CARDEA_ENOMEM;
    }
    err = cardea_sdk__login(session, opts->login, password);
    cardea_mem__free_secret(password, password_len);
    return err;
}

static cardea_err
open_steps(cardea_session *session, const cardea_session_options *opts)
{
    cardea_err err;

    err = cardea_keystore__open(&session->keystore, opts->key_store_dir,
                                session->errmsg, sizeof session->errmsg);
    if (err != CARDEA_OK) {
        return err;
    }
    if ((err = authenticate(session, opts)) != CARDEA_OK ||
        (err = find_user_id(session)) != CARDEA_OK ||
        (err = cardea_sdk__load_data_owner(session)) != CARDEA_OK) {
        return err;
    }
    return cardea_sdk__load_keys(session);
}

/*
 * Creates the transfer keys the user lacks. They only help a later
 * device, so a failure is logged and the session goes on, unless memory
 * ran out.
 */
static cardea_err
update_transfer_keys(cardea_session *session)
{
    cardea_err err = cardea_sdk__transfer_update(session);

    if (err == CARDEA_OK || err == CARDEA_ENOMEM) {
        return err;
    }
    cardea_sdk__log(session, CARDEA_LOG_WARN, "transfer keys not updated: "
                    "%s", session->errmsg);
    session->errmsg[0] = 0;
    return CARDEA_OK;
}

/* see cardea/session.h */
cardea_err
cardea_session_open(cardea_session **out, const cardea_session_options *opts)
{
    cardea_session *session = NULL;
    const char *problem;
    cardea_err err;

    if (out == NULL || opts == NULL) {
        return CARDEA_EINVAL;
    }
    if ((problem = check_options(opts)) != NULL) {
        if (opts->errmsg_buf != NULL && opts->errmsg_cap > 0) {
            snprintf(opts->errmsg_buf, opts->errmsg_cap, "%s", problem);
        }
        return CARDEA_EINVAL;
    }
    err = session_new(&session, opts);
    if (err == CARDEA_OK) {
        err = open_steps(session, opts);
    }
    if (err == CARDEA_OK) {
        /* An anonymous user loads all of its exchange data now. */
        err = cardea_sdk__xd_begin(session);
    }
    if (err == CARDEA_OK) {
        err = update_transfer_keys(session);
    }
    if (err != CARDEA_OK) {
        if (opts->errmsg_buf != NULL && opts->errmsg_cap > 0) {
            snprintf(opts->errmsg_buf, opts->errmsg_cap, "%s",
                     session != NULL && session->errmsg[0] != 0
                         ? session->errmsg
                         : cardea_strerror(err));
        }
        cardea_session_close(session);
        return err;
    }
    if (opts->errmsg_buf != NULL && opts->errmsg_cap > 0) {
        opts->errmsg_buf[0] = 0;
    }
    session->errmsg[0] = 0;
    *out = session;
    return CARDEA_OK;
}

static void
free_secret_str(char *s)
{
    if (s != NULL) {
        cardea_mem__free_secret(s, strlen(s));
    }
}

/* see cardea/session.h */
void
cardea_session_close(cardea_session *session)
{
    if (session == NULL) {
        return;
    }
    if (session->ext_free != NULL) {
        session->ext_free(session);
    }
    cardea_sdk__keys_free(session->keys, session->key_count);
    cardea_keystore__close(session->keystore);
    for (size_t i = 0; i < session->owner_count; i++) {
        cardea_mem__free(session->owners[i].id);
        json_decref(session->owners[i].stub);
    }
    cardea_mem__free(session->owners);
    cardea_sdk__fields_free(session->fields);
    for (size_t i = 0; i < session->anon_count; i++) {
        cardea_mem__free(session->anon_cache[i].id);
    }
    cardea_mem__free(session->anon_cache);
    json_decref(session->data_owner);
    free_secret_str(session->token);
    free_secret_str(session->refresh_token);
    cardea_mem__free(session->user_id);
    cardea_mem__free(session->base_url);
    cardea_transport_curl_free(session->owned_transport);
    cardea_simple_strategies_free(session->owned_strategies);
    cardea_wipe(session, sizeof *session);
    cardea_mem__free(session);
}

/* see cardea/session.h */
const char *
cardea_session_errmsg(const cardea_session *session)
{
    return session != NULL ? session->errmsg : "no session";
}

/* see cardea/session.h */
cardea_err
cardea_session_force_reload(cardea_session *session)
{
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    session->errmsg[0] = 0;
    if ((err = cardea_sdk__load_data_owner(session)) != CARDEA_OK) {
        return err;
    }
    if ((err = cardea_sdk__load_keys(session)) != CARDEA_OK) {
        /* The keys refer to owners by index, and the owners were just
         * replaced: drop the keys rather than keep stale indexes. */
        cardea_sdk__keys_free(session->keys, session->key_count);
        session->keys = NULL;
        session->key_count = 0;
        return err;
    }
    if (session->ext_reset != NULL) {
        session->ext_reset(session);
    }
    if ((err = cardea_sdk__xd_begin(session)) != CARDEA_OK) {
        return err;
    }
    return update_transfer_keys(session);
}

/* see cardea/session.h */
const char *
cardea_session_data_owner_id(const cardea_session *session)
{
    return cardea_sdk__self(session)->id;
}

/* see cardea/session.h */
cardea_data_owner_type
cardea_session_data_owner_type(const cardea_session *session)
{
    return session->data_owner_type;
}

/* see cardea/session.h */
const char *
cardea_session_user_id(const cardea_session *session)
{
    return session->user_id;
}

/* see cardea/session.h */
cardea_err
cardea_session_key_fingerprints(cardea_key_fingerprint **out, size_t *count,
                                const cardea_session *session)
{
    cardea_key_fingerprint *list = NULL;

    if (out == NULL || count == NULL || session == NULL) {
        return CARDEA_EINVAL;
    }
    if (session->key_count > 0) {
        list = cardea_mem__calloc(session->key_count, sizeof *list);
        if (list == NULL) {
            return CARDEA_ENOMEM;
        }
    }
    for (size_t i = 0; i < session->key_count; i++) {
        const cardea_sdk_key *k = &session->keys[i];

        memcpy(list[i].fp_v1, k->fp_v1, sizeof list[i].fp_v1);
        snprintf(list[i].data_owner_id, sizeof list[i].data_owner_id, "%s",
                 session->owners[k->owner].id);
        list[i].verified = cardea_sdk__key_is_safe(k);
        list[i].device = k->device;
        list[i].oaep_sha256 = k->oaep == CARDEA_RSA_OAEP_SHA256;
    }
    *out = list;
    *count = session->key_count;
    return CARDEA_OK;
}

/* see cardea/session.h */
cardea_err
cardea_session_data_owner_json(char **out, const cardea_session *session)
{
    char *text;

    if (out == NULL || session == NULL || session->data_owner == NULL) {
        return CARDEA_EINVAL;
    }
    if ((text = cardea_json__dump(session->data_owner)) == NULL) {
        return CARDEA_ENOMEM;
    }
    *out = text;
    return CARDEA_OK;
}
