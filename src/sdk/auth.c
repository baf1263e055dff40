/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials of a session: login with a password, refresh of the access
 * token, and the reading of JWT claims. The client never checks a JWT
 * signature (the server does); it reads `exp` to refresh ahead of expiry
 * and `u` for the user id. Tokens and passwords are wiped once dropped
 * and never logged.
 */
#include <string.h>

#include "sdk/sdk.h"

/* Longest JWT accepted; real ones are well under 4 KiB. */
#define JWT_MAX_LEN ((size_t)16 << 10)

/* Frees a secret string after wiping it. NULL does nothing. */
static void
free_secret_str(char *s)
{
    if (s != NULL) {
        cardea_mem__free_secret(s, strlen(s));
    }
}

/* Wipes the text of a JSON string value in place. */
static void
wipe_json_string(json_t *value)
{
    const char *text = json_string_value(value);

    if (text != NULL) {
        cardea_wipe((char *)text, json_string_length(value));
    }
}

/* Decodes base64url or base64, padded or not, as JWT payloads come. */
static cardea_err
decode_segment(uint8_t **out, size_t *out_len, const char *seg, size_t len)
{
    char *std;
    size_t padded = (len + 3) / 4 * 4;
    cardea_err err;

    if (len == 0 || len > JWT_MAX_LEN) {
        return CARDEA_EFORMAT;
    }
    if ((std = cardea_mem__alloc(padded + 1)) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < len; i++) {
        std[i] = seg[i];
        if (seg[i] == '-') {
            std[i] = '+';
        } else if (seg[i] == '_') {
            std[i] = '/';
        }
    }
    for (size_t i = len; i < padded; i++) {
        std[i] = '=';
    }
    std[padded] = 0;
    err = cardea_base64__decode_alloc(out, out_len, std, padded);
    cardea_mem__free(std);
    return err == CARDEA_ENOMEM ? err : err != CARDEA_OK ? CARDEA_EFORMAT
                                                         : CARDEA_OK;
}

cardea_err
cardea_sdk__jwt_claims(int64_t *exp, char **user_id, const char *token)
{
    const char *first;
    const char *second;
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    json_t *claims = NULL;
    json_t *exp_value;
    const char *u;
    char *u_copy = NULL;
    cardea_err err;

    if (exp == NULL || user_id == NULL || token == NULL) {
        return CARDEA_EINVAL;
    }
    first = strchr(token, '.');
    second = first != NULL ? strchr(first + 1, '.') : NULL;
    if (first == NULL || second == NULL || strchr(second + 1, '.') != NULL) {
        return CARDEA_EFORMAT;
    }
    err = decode_segment(&payload, &payload_len, first + 1,
                         (size_t)(second - first - 1));
    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_json__parse(&claims, (const char *)payload, payload_len,
                             NULL, 0);
    if (err != CARDEA_OK || !json_is_object(claims)) {
        err = err == CARDEA_ENOMEM ? err : CARDEA_EFORMAT;
        goto out;
    }
    u = cardea_json__get_str(claims, "u");
    if (u != NULL && (u_copy = cardea_mem__strdup(u)) == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    exp_value = json_object_get(claims, "exp");
    *exp = json_is_number(exp_value) ? (int64_t)json_number_value(exp_value)
                                     : 0;
    *user_id = u_copy;
    u_copy = NULL;

out:
    cardea_mem__free(u_copy);
    json_decref(claims);
    cardea_mem__free_secret(payload, payload_len);
    return err;
}

/* Replaces the session's tokens with copies of `token` and `refresh`. */
static cardea_err
store_tokens(cardea_session *session, const char *token,
             const char *refresh)
{
    char *token_copy = cardea_mem__strdup(token);
    char *refresh_copy = refresh != NULL ? cardea_mem__strdup(refresh) : NULL;
    char *user_id = NULL;
    int64_t exp = 0;
    cardea_err err;

    if (token_copy == NULL || (refresh != NULL && refresh_copy == NULL)) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    if ((err = cardea_sdk__jwt_claims(&exp, &user_id, token)) != CARDEA_OK) {
        cardea_sdk__set_error(session, "the access token is not a JWT (%s)",
                              cardea_strerror(err));
        goto out;
    }
    free_secret_str(session->token);
    session->token = token_copy;
    token_copy = NULL;
    if (refresh_copy != NULL) {
        free_secret_str(session->refresh_token);
        session->refresh_token = refresh_copy;
        refresh_copy = NULL;
    }
    session->token_exp = exp;
    if (user_id != NULL) {
        cardea_mem__free(session->user_id);
        session->user_id = user_id;
        user_id = NULL;
    }

out:
    cardea_mem__free(user_id);
    free_secret_str(token_copy);
    free_secret_str(refresh_copy);
    return err;
}

/* Reads token (required) and refreshToken (optional) from a response. */
static cardea_err
take_answer(cardea_session *session, const char *what, uint8_t *answer,
            size_t answer_len, bool want_refresh)
{
    json_t *value = NULL;
    const char *token;
    const char *refresh;
    cardea_err err;

    err = cardea_json__parse(&value, (const char *)answer, answer_len, NULL,
                             0);
    token = err == CARDEA_OK ? cardea_json__get_str(value, "token") : NULL;
    refresh = err == CARDEA_OK ? cardea_json__get_str(value, "refreshToken")
                               : NULL;
    if (token == NULL || (want_refresh && refresh == NULL)) {
        cardea_sdk__set_error(session, "%s: the response has no %s", what,
                              token == NULL ? "token" : "refreshToken");
        err = CARDEA_EFORMAT;
        goto out;
    }
    err = store_tokens(session, token, refresh);

out:
    if (value != NULL) {
        wipe_json_string(json_object_get(value, "token"));
        wipe_json_string(json_object_get(value, "refreshToken"));
        json_decref(value);
    }
    return err;
}

cardea_err
cardea_sdk__login(cardea_session *session, const char *login,
                  const char *password)
{
    json_t *body = NULL;
    json_t *secret = NULL;
    char *text = NULL;
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    cardea_err err;

    if (session == NULL || login == NULL || password == NULL) {
        return CARDEA_EINVAL;
    }
    body = json_object();
    secret = json_string(password);
    if (body == NULL || secret == NULL ||
        cardea_json__set_str(body, "username", login) != CARDEA_OK ||
        json_object_set(body, "password", secret) != 0 ||
        (text = cardea_json__dump(body)) == NULL) {
        cardea_sdk__set_error(session, "login: out of memory");
        err = CARDEA_ENOMEM;
        goto out;
    }
    err = cardea_sdk__request(&answer, &answer_len, session, "POST",
                              "auth/login", NULL, 0, text, strlen(text),
                              NULL);
    if (err == CARDEA_OK) {
        err = take_answer(session, "POST /rest/v2/auth/login", answer,
                          answer_len, true);
    }
    if (err == CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_INFO, "logged in as %s", login);
    }

out:
    wipe_json_string(secret);
    json_decref(secret);
    json_decref(body);
    free_secret_str(text);
    if (answer != NULL) {
        cardea_mem__free_secret(answer, answer_len + 1);
    }
    return err;
}

cardea_err
cardea_sdk__use_token(cardea_session *session, const char *token,
                      const char *refresh_token)
{
    if (session == NULL || token == NULL) {
        return CARDEA_EINVAL;
    }
    return store_tokens(session, token, refresh_token);
}

cardea_err
cardea_sdk__refresh(cardea_session *session)
{
    cardea_http_header header;
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    if (session->refresh_token == NULL) {
        cardea_sdk__set_error(session, "the access token expired and there "
                                       "is no refresh token; open a new "
                                       "session");
        return CARDEA_EAUTH;
    }
    header.name = "Refresh-Token";
    header.value = session->refresh_token;
    err = cardea_sdk__request(&answer, &answer_len, session, "POST",
                              "auth/refresh", &header, 1, NULL, 0, NULL);
    if (err == CARDEA_OK) {
        err = take_answer(session, "POST /rest/v2/auth/refresh", answer,
                          answer_len, false);
    }
    if (err == CARDEA_OK) {
        cardea_sdk__log(session, CARDEA_LOG_INFO, "access token refreshed");
    }
    if (answer != NULL) {
        cardea_mem__free_secret(answer, answer_len + 1);
    }
    return err;
}
