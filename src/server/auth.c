/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authentication endpoints: login, refresh, group switch, credential
 * check, the user's group matches and the current user. Cardea has one
 * group; the group endpoints exist because the official SDK 1.0.0-RC.7
 * calls them during initialisation. Failed logins are rate limited per
 * login and per client address, and an unknown login costs one Argon2id
 * verification like a known one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "server/server_internal.h"

#define GROUP_ID "cardea"
#define GROUP_NAME "Cardea"
#define MAX_LOGIN_LEN 256
#define RATE_KEY_LEN (MAX_LOGIN_LEN + 64)

/* Builds the caller record (with its HCP ancestors) of `user`. */
static cardea_err
caller_from_user(cardea_caller *out, cardea_db *db, const cardea_user *user)
{
    cardea_caller caller = {0};
    json_t *ancestors = NULL;
    cardea_err err;
    size_t count;

    err = cardea_dataowner__ancestors(&ancestors, db, user->data_owner_id);
    if (err != CARDEA_OK) {
        return err;
    }
    count = json_array_size(ancestors);
    caller.type = user->type;
    caller.user_id = cardea_mem__strdup(user->id);
    caller.data_owner_id = cardea_mem__strdup(user->data_owner_id);
    caller.ancestors = cardea_mem__calloc(count + 1, sizeof(char *));
    err = CARDEA_ENOMEM;
    if (caller.user_id == NULL || caller.data_owner_id == NULL
        || caller.ancestors == NULL) {
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        caller.ancestors[i] = cardea_mem__strdup(
            json_string_value(json_array_get(ancestors, i)));
        if (caller.ancestors[i] == NULL) {
            goto out;
        }
        caller.ancestor_count = i + 1;
    }
    *out = caller;
    memset(&caller, 0, sizeof caller);
    err = CARDEA_OK;

out:
    cardea_caller__clear(&caller);
    json_decref(ancestors);
    return err;
}

/* Looks a user up by login, then by user id. */
static cardea_err
find_user(cardea_user *out, cardea_db *db, const char *username)
{
    cardea_err err = cardea_db__user_by_login(out, db, username);

    if (err == CARDEA_ENOTFOUND) {
        err = cardea_db__user_by_id(out, db, username);
    }
    return err;
}

/*
 * Checks the credentials of the JSON body. Sets the error response and
 * returns CARDEA_EAUTH (or another error) when the caller may not go on.
 */
static cardea_err
check_credentials(cardea_user *out, cardea_http_resp *resp,
                  cardea_http_req *req, cardea_db *db)
{
    cardea_server *server = req->server;
    char login_key[RATE_KEY_LEN];
    char addr_key[RATE_KEY_LEN];
    cardea_user user = {0};
    json_t *body = cardea_http__body_json(resp, req, true);
    const char *username = cardea_json__get_str(body, "username");
    const char *password = cardea_json__get_str(body, "password");
    cardea_err err;

    if (body == NULL) {
        return CARDEA_EINVAL;
    }
    if (username == NULL || password == NULL || username[0] == '\0'
        || strlen(username) > MAX_LOGIN_LEN) {
        cardea_http__error(resp, 400, "the body needs string fields "
                           "username (at most %d bytes) and password",
                           MAX_LOGIN_LEN);
        err = CARDEA_EINVAL;
        goto out;
    }
    snprintf(login_key, sizeof login_key, "login:%s", username);
    snprintf(addr_key, sizeof addr_key, "addr:%s", req->client_addr);
    if (cardea_ratelimit__blocked(server->limits, login_key, req->now_ms)
        || cardea_ratelimit__blocked(server->limits, addr_key,
                                     req->now_ms)) {
        cardea_http__error(resp, 429, "too many failed logins; wait a "
                           "minute and retry");
        err = CARDEA_EACCESS;
        goto out;
    }

    err = find_user(&user, db, username);
    if (err != CARDEA_OK && err != CARDEA_ENOTFOUND) {
        cardea_http__store_error(resp, err, "user");
        goto out;
    }
    if (err == CARDEA_ENOTFOUND) {
        /* Same work as a wrong password, so timing reveals no login. */
        if (cardea_password__verify(server->dummy_hash, password)
            == CARDEA_OK) {
            cardea_log__write(CARDEA_LOG_ERROR, "dummy hash matched");
        }
        err = CARDEA_EAUTH;
    } else {
        err = cardea_password__verify(user.password_hash, password);
    }
    if (err != CARDEA_OK) {
        cardea_ratelimit__fail(server->limits, login_key, req->now_ms);
        cardea_ratelimit__fail(server->limits, addr_key, req->now_ms);
        cardea_log__write(CARDEA_LOG_WARN, "failed login from %s",
                          req->client_addr);
        cardea_http__error(resp, 401, "invalid username or password");
        err = CARDEA_EAUTH;
        goto out;
    }
    cardea_ratelimit__reset(server->limits, login_key);
    *out = user;
    memset(&user, 0, sizeof user);

out:
    cardea_user__clear(&user);
    json_decref(body);
    return err;
}

/* Access-token lifetime: the configured one, shortened by ?duration=. */
static unsigned
access_lifetime(const cardea_http_req *req)
{
    unsigned lifetime = req->server->options.token_lifetime_s;
    const char *duration = cardea_http__query(req, "duration");
    char *end = NULL;
    unsigned long value;

    if (duration != NULL && duration[0] >= '0' && duration[0] <= '9') {
        value = strtoul(duration, &end, 10);
        if (*end == '\0' && value > 0 && value < lifetime) {
            lifetime = (unsigned)value;
        }
    }
    return lifetime;
}

/* Answers {token, refreshToken?, successful} for `caller`. */
static void
send_tokens(cardea_http_resp *resp, cardea_http_req *req,
            const cardea_caller *caller, bool with_refresh)
{
    const cardea_server_options *options = &req->server->options;
    int64_t now_s = req->now_ms / 1000;
    char *access = NULL;
    char *refresh = NULL;
    json_t *body;

    if (cardea_token__issue(&access, req->server, caller, now_s,
                            access_lifetime(req), false) != CARDEA_OK
        || (with_refresh
            && cardea_token__issue(&refresh, req->server, caller, now_s,
                                   options->refresh_lifetime_s, true)
                   != CARDEA_OK)) {
        cardea_http__error(resp, 500, "cannot issue a token");
        goto out;
    }
    body = json_pack("{s:s, s:b}", "token", access, "successful", 1);
    if (body != NULL && refresh != NULL
        && json_object_set_new(body, "refreshToken", json_string(refresh))
               != 0) {
        json_decref(body);
        body = NULL;
    }
    cardea_http__json(resp, 200, body);

out:
    cardea_mem__free(access);
    cardea_mem__free(refresh);
}

void
cardea_auth__login(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_db *db = cardea_http__db(resp, req);
    cardea_caller caller = {0};
    cardea_user user = {0};
    cardea_err err;

    if (db == NULL) {
        return;
    }
    if (check_credentials(&user, resp, req, db) != CARDEA_OK) {
        goto out;
    }
    if ((err = caller_from_user(&caller, db, &user)) != CARDEA_OK) {
        cardea_http__store_error(resp, err, "data owner hierarchy");
        goto out;
    }
    send_tokens(resp, req, &caller, true);

out:
    cardea_http__db_release(req, db);
    cardea_caller__clear(&caller);
    cardea_user__clear(&user);
}

void
cardea_auth__check(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_db *db = cardea_http__db(resp, req);
    cardea_user user = {0};

    if (db == NULL) {
        return;
    }
    if (check_credentials(&user, resp, req, db) == CARDEA_OK) {
        cardea_http__text(resp, 204, "");
    }
    cardea_http__db_release(req, db);
    cardea_user__clear(&user);
}

/*
 * Verifies the Refresh-Token header and rebuilds the caller from the
 * stored user, so a deleted user or a changed hierarchy takes effect.
 */
static cardea_err
caller_from_refresh(cardea_caller *out, cardea_http_resp *resp,
                    cardea_http_req *req)
{
    const char *header = cardea_http__header(req, "Refresh-Token");
    cardea_caller claims = {0};
    cardea_user user = {0};
    cardea_db *db = NULL;
    cardea_err err;

    if (header != NULL && strncmp(header, "Bearer ", 7) == 0) {
        header += 7;
    }
    err = cardea_token__verify(&claims, req->server, header,
                               req->now_ms / 1000, 0, true);
    if (err != CARDEA_OK) {
        cardea_http__error(resp, 401, "missing, invalid or expired "
                           "Refresh-Token header");
        return CARDEA_EAUTH;
    }
    if ((db = cardea_http__db(resp, req)) == NULL) {
        err = CARDEA_EIO;
        goto out;
    }
    err = cardea_db__user_by_id(&user, db, claims.user_id);
    if (err == CARDEA_OK) {
        err = caller_from_user(out, db, &user);
    }
    if (err == CARDEA_ENOTFOUND) {
        cardea_http__error(resp, 401, "the user no longer exists");
    } else if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "user");
    }

out:
    cardea_http__db_release(req, db);
    cardea_user__clear(&user);
    cardea_caller__clear(&claims);
    return err;
}

void
cardea_auth__refresh(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_caller caller = {0};

    if (caller_from_refresh(&caller, resp, req) == CARDEA_OK) {
        send_tokens(resp, req, &caller, false);
    }
    cardea_caller__clear(&caller);
}

void
cardea_auth__switch(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_caller caller = {0};

    if (strcmp(req->params[0], GROUP_ID) != 0) {
        cardea_http__error(resp, 404, "no such group; the only group is "
                           "%s", GROUP_ID);
        return;
    }
    if (caller_from_refresh(&caller, resp, req) == CARDEA_OK) {
        send_tokens(resp, req, &caller, true);
    }
    cardea_caller__clear(&caller);
}

static const char *
owner_field(cardea_do_type type)
{
    switch (type) {
    case CARDEA_DO_HCP:
        return "healthcarePartyId";
    case CARDEA_DO_PATIENT:
        return "patientId";
    case CARDEA_DO_DEVICE:
        return "deviceId";
    }
    return "dataOwnerId";
}

/* Reads the caller's user row; sets the response on failure. */
static cardea_err
load_current_user(cardea_user *out, cardea_http_resp *resp,
                  cardea_http_req *req)
{
    cardea_db *db = cardea_http__db(resp, req);
    cardea_err err;

    if (db == NULL) {
        return CARDEA_EIO;
    }
    err = cardea_db__user_by_id(out, db, req->caller->user_id);
    if (err != CARDEA_OK) {
        cardea_http__store_error(resp, err, "user");
    }
    cardea_http__db_release(req, db);
    return err;
}

void
cardea_auth__matches(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_user user = {0};
    json_t *match;

    if (load_current_user(&user, resp, req) != CARDEA_OK) {
        return;
    }
    match = json_pack("{s:s, s:s, s:[], s:s, s:s, s:s}", "groupId",
                      GROUP_ID, "groupName", GROUP_NAME, "groupsHierarchy",
                      "userId", user.id, "login", user.login,
                      owner_field(user.type), user.data_owner_id);
    cardea_http__json(resp, 200, match != NULL ? json_pack("[o]", match)
                                               : NULL);
    cardea_user__clear(&user);
}

void
cardea_auth__current_user(cardea_http_resp *resp, cardea_http_req *req)
{
    cardea_user user = {0};

    if (load_current_user(&user, resp, req) != CARDEA_OK) {
        return;
    }
    cardea_http__json(resp, 200,
                      json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "id",
                                user.id, "login", user.login, "groupId",
                                GROUP_ID, owner_field(user.type),
                                user.data_owner_id, "created",
                                (json_int_t)user.created_ms, "status",
                                "ACTIVE"));
    cardea_user__clear(&user);
}
