/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture that runs a real `cardea serve` on 127.0.0.1 with a free
 * port and a temporary SQLite database, provisions users through
 * `cardea admin`, and stops the server with SIGTERM. Every wait is
 * bounded, and a server that does not stop in time is killed. The
 * temporary folder (database, server log, key stores of the tests) is
 * removed by test_server_stop.
 */
#ifndef CARDEA_TEST_SERVER_H
#define CARDEA_TEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TEST_SERVER_PATH_MAX 512

typedef struct test_server {
    pid_t pid;                          /* 0 when not running */
    unsigned port;
    char dir[TEST_SERVER_PATH_MAX];     /* private temporary folder */
    char db_path[TEST_SERVER_PATH_MAX];
    char log_path[TEST_SERVER_PATH_MAX];
    char base_url[64];                  /* http://127.0.0.1:PORT */
} test_server;

/*
 * Creates the temporary folder and starts `cardea serve` from
 * `cardea_bin` with `--listen 127.0.0.1:0 --port-file` and the extra
 * arguments `extra` (NULL-terminated, may be NULL). Waits up to 15 s for
 * the port file and for the port to accept connections. Returns true on
 * success; on failure prints the reason and the server log to stderr and
 * cleans up.
 */
bool test_server_start(test_server *srv, const char *cardea_bin,
                       const char *const *extra);

/*
 * Runs `cardea admin --db DB user add --login LOGIN --password PASSWORD
 * --type TYPE [--parent PARENT]` (bounded to 30 s) and copies the printed
 * data owner id into `owner_id`. Returns true on success.
 */
bool test_server_add_user(char *owner_id, size_t owner_id_cap,
                          const test_server *srv, const char *cardea_bin,
                          const char *login, const char *password,
                          const char *type, const char *parent);

/* Writes "<dir>/<name>" into `out`, for key stores and other files. */
void test_server_path(char *out, size_t out_cap, const test_server *srv,
                      const char *name);

/*
 * Removes the folder `dir` and everything below it, without following
 * links. Give it only a temporary folder the test created.
 */
void test_server_remove_tree(const char *dir);

/*
 * Stops the server with SIGTERM (SIGKILL after 5 s) and removes the
 * temporary folder. Safe to call twice.
 */
void test_server_stop(test_server *srv);

#endif
