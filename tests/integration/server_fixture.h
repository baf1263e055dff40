/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the endpoint tests: a libcurl client for one request
 * at a time, user provisioning straight into a database (the same store
 * calls as `cardea admin user add`), and an in-process server started on
 * 127.0.0.1 with port 0 so the kernel picks a free port. Failures end the
 * current cmocka test through its assert macros, so the helpers have no
 * error returns. Every request has a 40 s timeout.
 */
#ifndef CARDEA_TEST_SERVER_FIXTURE_H
#define CARDEA_TEST_SERVER_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/server.h"
#include "store/store.h"

/* Password of every user that fixture_add_user creates. */
#define FIXTURE_PASSWORD "correct horse"
/* Largest response body collected; a larger one fails the request. */
#define FIXTURE_RESPONSE_MAX ((size_t)16 << 20)

/* One response: status, raw body (NUL-terminated) and the parsed JSON. */
typedef struct fixture_reply {
    long status;
    char *body;     /* NULL when the response had no body */
    size_t len;
    json_t *json;   /* NULL when the body is not JSON */
} fixture_reply;

/*
 * Sends one request to http://127.0.0.1:`port`/rest/v2/`path`. `token`
 * (may be NULL) becomes an `Authorization: Bearer` header. `headers` is a
 * NULL-terminated list of extra "Name: value" lines and may be NULL. A
 * non-NULL `body` is sent as `content_type`, or as application/json when
 * `content_type` is NULL. Release the reply with fixture_reply_free.
 */
fixture_reply fixture_request(uint16_t port, const char *method,
                              const char *path, const char *token,
                              const char *content_type, const void *body,
                              size_t body_len, const char *const *headers);

/* fixture_request with a JSON body (or none) and no extra headers. */
fixture_reply fixture_call(uint16_t port, const char *method,
                           const char *path, const char *token,
                           const char *json_body);

/* Frees the body and the JSON of `r` and zeroes it. */
void fixture_reply_free(fixture_reply *r);

/*
 * Registers data owner `owner_id` of `type` (with HCP parent `parent`, or
 * NULL) and a user `login` with password FIXTURE_PASSWORD. HCPs get a
 * HealthcareParty document holding `parentId`, as `cardea admin` makes.
 */
void fixture_add_user(cardea_db *db, const char *login, cardea_do_type type,
                      const char *owner_id, const char *parent);

/*
 * Starts a server on 127.0.0.1, port 0, with database `db_path`, four
 * worker threads and JSON bodies up to `max_body` bytes. Writes the bound
 * port to `*port`. Free the server with cardea_server_free.
 */
cardea_server *fixture_start_server(const char *db_path, uint16_t *port,
                                    size_t max_body);

/* Logs `login` in with `password` and returns its access token (free). */
char *fixture_login(uint16_t port, const char *login, const char *password);

/* Removes `db_path` and its -wal and -shm files. */
void fixture_remove_db_files(const char *db_path);

#endif
