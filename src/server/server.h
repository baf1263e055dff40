/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Cardea REST server (an iCure v2 subset) as an object: options,
 * start, stop. The `cardea serve` command and the integration tests use
 * this header; it also exposes the password hashing that `cardea admin`
 * shares with the login endpoint.
 */
#ifndef CARDEA_SERVER_H
#define CARDEA_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardea/common.h"

typedef struct cardea_server cardea_server;

typedef struct cardea_server_options {
    int version;                    /* 1 */
    const char *host;               /* numeric IPv4 or IPv6 address */
    uint16_t port;                  /* 0 picks a free port */
    const char *db_path;
    unsigned threads;               /* 0: twice the number of cores */
    unsigned token_lifetime_s;      /* access tokens */
    unsigned refresh_lifetime_s;    /* refresh tokens */
    unsigned token_grace_s;         /* bearers accepted past exp */
    size_t max_body;                /* JSON request bodies, bytes */
    size_t max_attachment;          /* binary request bodies, bytes */
    size_t max_header_bytes;        /* request line plus headers */
    unsigned login_failures_max;    /* per login and per address */
    unsigned login_window_s;        /* window of login_failures_max */
    unsigned long_poll_max_s;       /* upper bound of timeoutSeconds */
    unsigned shutdown_wait_s;       /* wait for in-flight requests */
} cardea_server_options;

#define CARDEA_SERVER_OPTIONS_INIT                                        \
    {1, "127.0.0.1", 16043, "./cardea.sqlite", 0, 3600, 86400, 60,       \
     (size_t)8 << 20, (size_t)64 << 20, (size_t)96 << 10, 10, 60, 30, 10}

/*
 * Opens the database (creating the schema and the token signing secrets
 * on first use) and prepares a server. Nothing listens until
 * cardea_server_start. Free with cardea_server_free.
 */
cardea_err cardea_server_new(cardea_server **out,
                             const cardea_server_options *options)
    CARDEA_MUST_CHECK;
/* Binds and starts the worker threads. CARDEA_EIO when it cannot bind. */
cardea_err cardea_server_start(cardea_server *server) CARDEA_MUST_CHECK;
/* The bound port (useful after starting on port 0). */
uint16_t cardea_server_port(const cardea_server *server);
/*
 * Stops accepting connections, ends long polls, waits up to
 * shutdown_wait_s for requests in flight and stops the threads.
 */
void cardea_server_stop(cardea_server *server);
/* Stops the server if needed and closes the database. NULL is a no-op. */
void cardea_server_free(cardea_server *server);

/* ---- passwords (Argon2id, m = 19 MiB, t = 2, p = 1) -------------------- */

#define CARDEA_PASSWORD_MAX_LEN 1024

/* Hashes `password` into an encoded Argon2id string (cardea_free). */
cardea_err cardea_password__hash(char **out, const char *password)
    CARDEA_MUST_CHECK;
/* CARDEA_OK on a match, CARDEA_EAUTH otherwise. */
cardea_err cardea_password__verify(const char *encoded, const char *password)
    CARDEA_MUST_CHECK;

#endif
