/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Implementation of the endpoint-test helpers declared in
 * server_fixture.h: the libcurl client, user provisioning and the
 * in-process server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "base/base.h"
#include "server_fixture.h"

static size_t
collect(char *data, size_t size, size_t count, void *user)
{
    fixture_reply *r = user;
    size_t len = size * count;
    char *grown;

    if (r->len + len > FIXTURE_RESPONSE_MAX) {
        return 0;
    }
    grown = realloc(r->body, r->len + len + 1);
    if (grown == NULL) {
        return 0;
    }
    memcpy(grown + r->len, data, len);
    r->body = grown;
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

void
fixture_reply_free(fixture_reply *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

fixture_reply
fixture_request(uint16_t port, const char *method, const char *path,
                const char *token, const char *content_type,
                const void *body, size_t body_len,
                const char *const *headers)
{
    struct curl_slist *list = NULL;
    char url[8192];
    char line[4096];
    fixture_reply r = {0};
    CURL *curl = curl_easy_init();

    assert_non_null(curl);
    /* A cut URL would test another path, so a long one must fit. */
    assert_true((size_t)snprintf(url, sizeof url,
                                 "http://127.0.0.1:%u/rest/v2/%s",
                                 (unsigned)port, path)
                < sizeof url);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 40L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (token != NULL) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", token);
        list = curl_slist_append(list, line);
    }
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        list = curl_slist_append(list, headers[i]);
    }
    if (body != NULL) {
        snprintf(line, sizeof line, "Content-Type: %s",
                 content_type != NULL ? content_type : "application/json");
        list = curl_slist_append(list, line);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)body_len);
    }
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    if (r.body != NULL) {
        r.json = json_loads(r.body, 0, NULL);
    }
    return r;
}

fixture_reply
fixture_call(uint16_t port, const char *method, const char *path,
             const char *token, const char *json_body)
{
    return fixture_request(port, method, path, token, NULL, json_body,
                           json_body != NULL ? strlen(json_body) : 0, NULL);
}

void
fixture_add_user(cardea_db *db, const char *login, cardea_do_type type,
                 const char *owner_id, const char *parent)
{
    char user_id[CARDEA_UUID_STR_LEN + 1];
    cardea_user user = {0};
    char *hash = NULL;

    assert_int_equal(cardea_password__hash(&hash, FIXTURE_PASSWORD),
                     CARDEA_OK);
    assert_int_equal(cardea_db__dataowner_add(db, owner_id, type, parent),
                     CARDEA_OK);
    if (type != CARDEA_DO_PATIENT) {
        json_t *doc = json_pack("{s:s}", "id", owner_id);

        if (parent != NULL) {
            json_object_set_new(doc, "parentId", json_string(parent));
        }
        assert_int_equal(cardea_db__entity_put(db, "HealthcareParty", doc,
                                               NULL, false),
                         CARDEA_OK);
        json_decref(doc);
    }
    cardea_uuid__v4(user_id);
    user.id = user_id;
    user.login = (char *)login;
    user.password_hash = hash;
    user.data_owner_id = (char *)owner_id;
    user.type = type;
    user.created_ms = cardea_store__now_ms();
    assert_int_equal(cardea_db__user_add(db, &user), CARDEA_OK);
    cardea_free(hash);
}

cardea_server *
fixture_start_server(const char *db_path, uint16_t *port, size_t max_body)
{
    cardea_server_options options = CARDEA_SERVER_OPTIONS_INIT;
    cardea_server *server = NULL;

    options.port = 0;
    options.db_path = db_path;
    options.threads = 4;
    options.max_body = max_body;
    options.shutdown_wait_s = 5;
    assert_int_equal(cardea_server_new(&server, &options), CARDEA_OK);
    assert_int_equal(cardea_server_start(server), CARDEA_OK);
    *port = cardea_server_port(server);
    assert_true(*port > 0);
    return server;
}

char *
fixture_login(uint16_t port, const char *login, const char *password)
{
    json_t *request = json_pack("{s:s, s:s}", "username", login, "password",
                                password);
    char *body = json_dumps(request, 0);
    fixture_reply r;
    char *token;

    assert_non_null(body);
    r = fixture_call(port, "POST", "auth/login", NULL, body);
    assert_int_equal(r.status, 200);
    token = strdup(json_string_value(json_object_get(r.json, "token")));
    assert_non_null(token);
    fixture_reply_free(&r);
    free(body);
    json_decref(request);
    return token;
}

void
fixture_remove_db_files(const char *db_path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char path[512];

    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s%s", db_path, suffixes[i]);
        unlink(path);
    }
}
