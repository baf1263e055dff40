/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bearer and refresh tokens: HS256 JWTs made with libjwt. The claims are
 * those the official SDK reads (exp, jwtD) and the iCure backend names
 * for the caller: u (user id), doId (data owner id), doTp (HCP, PATIENT
 * or DEVICE), hh (HCP ancestors, direct parent last), plus iat. Access
 * and refresh tokens use separate secrets and a "tt" claim, so one kind
 * cannot stand in for the other.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "base/base.h"
#include "crypto/crypto.h"
#include "server/server_internal.h"

#define MAX_TOKEN_LEN 8192
/*
 * Authentication-class level ("tac" claim) of a token obtained with a
 * login and password. SDK 1.0.0-RC.7 refuses a token without an integer
 * "tac"; the server grants nothing by level, so the value is informative.
 */
#define TOKEN_AUTH_CLASS_PASSWORD 10

void
cardea_caller__clear(cardea_caller *caller)
{
    if (caller == NULL) {
        return;
    }
    cardea_mem__free(caller->user_id);
    cardea_mem__free(caller->data_owner_id);
    for (size_t i = 0; i < caller->ancestor_count; i++) {
        cardea_mem__free(caller->ancestors[i]);
    }
    cardea_mem__free(caller->ancestors);
    memset(caller, 0, sizeof *caller);
}

cardea_err
cardea_caller__copy(cardea_caller *out, const cardea_caller *src)
{
    cardea_caller copy = {0};
    size_t bytes;

    copy.type = src->type;
    copy.user_id = cardea_mem__strdup(src->user_id);
    copy.data_owner_id = cardea_mem__strdup(src->data_owner_id);
    if (copy.user_id == NULL || copy.data_owner_id == NULL
        || !cardea_size__mul(&bytes, src->ancestor_count + 1,
                             sizeof(char *))
        || (copy.ancestors = cardea_mem__calloc(1, bytes)) == NULL) {
        cardea_caller__clear(&copy);
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < src->ancestor_count; i++) {
        copy.ancestors[i] = cardea_mem__strdup(src->ancestors[i]);
        copy.ancestor_count = i + 1;
        if (copy.ancestors[i] == NULL) {
            cardea_caller__clear(&copy);
            return CARDEA_ENOMEM;
        }
    }
    *out = copy;
    return CARDEA_OK;
}

static const char *
token_type_name(cardea_do_type type)
{
    switch (type) {
    case CARDEA_DO_HCP:
        return "HCP";
    case CARDEA_DO_PATIENT:
        return "PATIENT";
    case CARDEA_DO_DEVICE:
        return "DEVICE";
    }
    return "";
}

static cardea_do_type
parse_token_type(const char *name)
{
    if (name == NULL) {
        return 0;
    }
    if (strcmp(name, "HCP") == 0) {
        return CARDEA_DO_HCP;
    }
    if (strcmp(name, "PATIENT") == 0) {
        return CARDEA_DO_PATIENT;
    }
    if (strcmp(name, "DEVICE") == 0) {
        return CARDEA_DO_DEVICE;
    }
    return 0;
}

/* Serialises {"hh": [...]} for jwt_add_grants_json. */
static char *
hierarchy_json(const cardea_caller *caller)
{
    json_t *grants = json_object();
    json_t *list = json_array();
    char *text = NULL;

    if (grants == NULL || list == NULL) {
        goto out;
    }
    for (size_t i = 0; i < caller->ancestor_count; i++) {
        if (cardea_json__append_new(list, json_string(caller->ancestors[i]))
            != CARDEA_OK) {
            goto out;
        }
    }
    if (json_object_set(grants, "hh", list) == 0) {
        text = cardea_json__dump(grants);
    }

out:
    json_decref(list);
    json_decref(grants);
    return text;
}

cardea_err
cardea_token__issue(char **out, const cardea_server *server,
                    const cardea_caller *caller, int64_t now_s,
                    unsigned lifetime_s, bool refresh)
{
    const uint8_t *key = refresh ? server->refresh_key : server->access_key;
    jwt_t *jwt = NULL;
    char *hh = hierarchy_json(caller);
    char *encoded = NULL;
    cardea_err err = CARDEA_ENOMEM;

    if (hh == NULL || jwt_new(&jwt) != 0) {
        goto out;
    }
    if (jwt_add_grant(jwt, "u", caller->user_id) != 0
        || jwt_add_grant(jwt, "doId", caller->data_owner_id) != 0
        || jwt_add_grant(jwt, "doTp", token_type_name(caller->type)) != 0
        || jwt_add_grants_json(jwt, hh) != 0
        || jwt_add_grant(jwt, "tt", refresh ? "refresh" : "access") != 0
        || jwt_add_grant_int(jwt, "iat", (long)now_s) != 0
        || jwt_add_grant_int(jwt, "exp", (long)(now_s + lifetime_s)) != 0
        || jwt_add_grant_int(jwt, "jwtD", (long)lifetime_s) != 0
        || jwt_add_grant_int(jwt, "tac", TOKEN_AUTH_CLASS_PASSWORD) != 0
        || jwt_set_alg(jwt, JWT_ALG_HS256, key, CARDEA_JWT_KEY_LEN) != 0) {
        goto out;
    }
    if ((encoded = jwt_encode_str(jwt)) == NULL) {
        goto out;
    }
    /* libjwt allocates with malloc; hand out our allocator's copy. */
    if ((*out = cardea_mem__strdup(encoded)) != NULL) {
        err = CARDEA_OK;
    }

out:
    if (encoded != NULL) {
        free(encoded);
    }
    jwt_free(jwt);
    cardea_mem__free(hh);
    return err;
}

static cardea_err
read_ancestors(cardea_caller *caller, jwt_t *jwt)
{
    char *text = jwt_get_grants_json(jwt, "hh");
    json_t *list = NULL;
    cardea_err err = CARDEA_EAUTH;
    size_t count;

    if (text == NULL
        || cardea_json__parse(&list, text, strlen(text), NULL, 0)
               != CARDEA_OK
        || !json_is_array(list)
        || (count = json_array_size(list)) > CARDEA_HIERARCHY_MAX_DEPTH) {
        goto out;
    }
    caller->ancestors = cardea_mem__calloc(count + 1, sizeof(char *));
    if (caller->ancestors == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        const char *id = json_string_value(json_array_get(list, i));

        if (id == NULL) {
            goto out;
        }
        if ((caller->ancestors[i] = cardea_mem__strdup(id)) == NULL) {
            err = CARDEA_ENOMEM;
            goto out;
        }
        caller->ancestor_count = i + 1;
    }
    err = CARDEA_OK;

out:
    json_decref(list);
    free(text);
    return err;
}

static cardea_err
read_claims(cardea_caller *out, int64_t *exp_out, jwt_t *jwt, int64_t now_s,
            unsigned grace_s, bool refresh)
{
    cardea_caller caller = {0};
    const char *kind = jwt_get_grant(jwt, "tt");
    long exp;
    cardea_err err;

    if (jwt_get_alg(jwt) != JWT_ALG_HS256 || kind == NULL
        || strcmp(kind, refresh ? "refresh" : "access") != 0) {
        return CARDEA_EAUTH;
    }
    errno = 0;
    exp = jwt_get_grant_int(jwt, "exp");
    if (errno != 0 || (int64_t)exp + (int64_t)grace_s < now_s) {
        return CARDEA_EAUTH;
    }
    caller.type = parse_token_type(jwt_get_grant(jwt, "doTp"));
    caller.user_id = cardea_mem__strdup(jwt_get_grant(jwt, "u"));
    caller.data_owner_id = cardea_mem__strdup(jwt_get_grant(jwt, "doId"));
    if (caller.type == 0 || caller.user_id == NULL
        || caller.data_owner_id == NULL) {
        cardea_caller__clear(&caller);
        return CARDEA_EAUTH;
    }
    if ((err = read_ancestors(&caller, jwt)) != CARDEA_OK) {
        cardea_caller__clear(&caller);
        return err;
    }
    *out = caller;
    *exp_out = (int64_t)exp;
    return CARDEA_OK;
}

/* cardea_token__verify, and the `exp` claim into `*exp_out`. */
static cardea_err
verify(cardea_caller *out, int64_t *exp_out, const cardea_server *server,
       const char *token, int64_t now_s, unsigned grace_s, bool refresh)
{
    const uint8_t *key = refresh ? server->refresh_key : server->access_key;
    jwt_t *jwt = NULL;
    cardea_err err;

    if (token == NULL || token[0] == '\0'
        || strlen(token) > MAX_TOKEN_LEN) {
        return CARDEA_EAUTH;
    }
    /* jwt_decode checks the signature for the algorithm in the header;
     * read_claims then requires that algorithm to be HS256. */
    if (jwt_decode(&jwt, token, key, CARDEA_JWT_KEY_LEN) != 0) {
        return CARDEA_EAUTH;
    }
    err = read_claims(out, exp_out, jwt, now_s, grace_s, refresh);
    jwt_free(jwt);
    return err;
}

cardea_err
cardea_token__verify(cardea_caller *out, const cardea_server *server,
                     const char *token, int64_t now_s, unsigned grace_s,
                     bool refresh)
{
    int64_t exp;

    return verify(out, &exp, server, token, now_s, grace_s, refresh);
}

cardea_err
cardea_token__authenticate(cardea_caller *out, cardea_server *server,
                           const char *token, int64_t now_s)
{
    unsigned grace_s = server->options.token_grace_s;
    uint8_t digest[CARDEA_SHA256_LEN] = {0};
    int64_t exp;
    cardea_err err;

    if (token == NULL || token[0] == '\0'
        || strlen(token) > MAX_TOKEN_LEN) {
        return CARDEA_EAUTH;
    }
    if (server->token_cache != NULL) {
        cardea_tokencache__digest(digest, token);
        if (cardea_tokencache__get(out, server->token_cache, digest, now_s,
                                   grace_s) == CARDEA_OK) {
            return CARDEA_OK;
        }
    }
    err = verify(out, &exp, server, token, now_s, grace_s, false);
    if (err == CARDEA_OK && server->token_cache != NULL) {
        cardea_tokencache__put(server->token_cache, digest, out, exp);
    }
    return err;
}
