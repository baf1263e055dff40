/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server life cycle: opening the store and the token secrets, starting
 * libmicrohttpd with its thread pool, and the orderly stop (stop
 * accepting, end long polls, let requests in flight finish, close the
 * database).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "server/server_internal.h"

/*
 * Added to the header budget for libmicrohttpd's own buffers and the
 * response. The pool is larger than max_header_bytes, so http.c checks
 * that limit itself and answers 431.
 */
#define MHD_POOL_EXTRA (32u * 1024u)
#define CONNECTION_TIMEOUT_S 60u

static cardea_err
load_key(uint8_t out[CARDEA_JWT_KEY_LEN], cardea_db *db, const char *name)
{
    uint8_t fresh[CARDEA_JWT_KEY_LEN];
    uint8_t *stored = NULL;
    size_t stored_len = 0;
    cardea_err err;

    /* Several processes may start at once: insert if absent, read back. */
    cardea_random__bytes(fresh, sizeof fresh);
    err = cardea_db__setting_init(db, name, fresh, sizeof fresh);
    cardea_wipe(fresh, sizeof fresh);
    if (err != CARDEA_OK
        || (err = cardea_db__setting_get(&stored, &stored_len, db, name))
               != CARDEA_OK) {
        return err;
    }
    if (stored_len != CARDEA_JWT_KEY_LEN) {
        cardea_log__write(CARDEA_LOG_ERROR, "setting %s has a wrong length",
                          name);
        err = CARDEA_EIO;
    } else {
        memcpy(out, stored, CARDEA_JWT_KEY_LEN);
    }
    cardea_mem__free_secret(stored, stored_len);
    return err;
}

static cardea_err
load_secrets(cardea_server *server)
{
    cardea_db *db = NULL;
    uint8_t random[16];
    char dummy[33];
    cardea_err err;

    if ((err = cardea_store__acquire(&db, server->store)) != CARDEA_OK) {
        return err;
    }
    if ((err = load_key(server->access_key, db, "jwt_access_key"))
            != CARDEA_OK
        || (err = load_key(server->refresh_key, db, "jwt_refresh_key"))
               != CARDEA_OK) {
        goto out;
    }
    cardea_random__bytes(random, sizeof random);
    err = cardea_hex__encode(dummy, sizeof dummy, random, sizeof random);
    if (err == CARDEA_OK) {
        err = cardea_password__hash(&server->dummy_hash, dummy);
    }
    cardea_wipe(dummy, sizeof dummy);

out:
    cardea_store__release(server->store, db);
    return err;
}

cardea_err
cardea_server_new(cardea_server **out, const cardea_server_options *options)
{
    static const cardea_server_options defaults = CARDEA_SERVER_OPTIONS_INIT;
    cardea_store_options store_options = CARDEA_STORE_OPTIONS_INIT;
    cardea_server *server;
    cardea_err err;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    if ((server = cardea_mem__calloc(1, sizeof *server)) == NULL) {
        return CARDEA_ENOMEM;
    }
    server->options = options != NULL ? *options : defaults;
    pthread_mutex_init(&server->wait_lock, NULL);
    pthread_cond_init(&server->wait_cond, NULL);
    atomic_init(&server->in_flight, 0);
    server->host = cardea_mem__strdup(server->options.host);
    server->db_path = cardea_mem__strdup(server->options.db_path);
    if (server->host == NULL || server->db_path == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    server->options.host = server->host;
    server->options.db_path = server->db_path;
    if (server->options.threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);

        server->options.threads = cores > 0 ? (unsigned)cores * 2 : 2;
    }
    store_options.max_connections = server->options.threads + 4;
    if ((err = cardea_store_open(&server->store, server->db_path,
                                 &store_options)) != CARDEA_OK
        || (err = cardea_ratelimit__new(&server->limits,
                                        server->options.login_failures_max,
                                        server->options.login_window_s))
               != CARDEA_OK
        || (err = cardea_tokencache__new(&server->token_cache)) != CARDEA_OK
        || (err = load_secrets(server)) != CARDEA_OK) {
        goto out;
    }
    *out = server;
    server = NULL;

out:
    cardea_server_free(server);
    return err;
}

static void
log_from_mhd(void *cls, const char *fmt, va_list ap)
{
    char line[512];

    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    /* A message may quote request bytes: no control byte may reach the
     * log, so each becomes '?'. */
    for (char *p = line; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c >= 0x7f) {
            *p = '?';
        }
    }
    cardea_log__write(CARDEA_LOG_WARN, "http: %s", line);
}

/* Fills a socket address from the numeric host and the port. */
static cardea_err
make_address(struct sockaddr_storage *out, bool *ipv6,
             const cardea_server *server)
{
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;

    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, server->host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(server->options.port);
        *ipv6 = false;
        return CARDEA_OK;
    }
    if (inet_pton(AF_INET6, server->host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(server->options.port);
        *ipv6 = true;
        return CARDEA_OK;
    }
    cardea_log__write(CARDEA_LOG_ERROR, "invalid listen address %s: use a "
                      "numeric IPv4 or IPv6 address", server->host);
    return CARDEA_EINVAL;
}

cardea_err
cardea_server_start(cardea_server *server)
{
    struct sockaddr_storage addr;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO
                     | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    bool ipv6 = false;
    cardea_err err;

    if (server == NULL || server->daemon != NULL) {
        return CARDEA_ESTATE;
    }
    if ((err = make_address(&addr, &ipv6, server)) != CARDEA_OK) {
        return err;
    }
    if (ipv6) {
        flags |= MHD_USE_IPv6;
    }
    server->daemon = MHD_start_daemon(
        flags, server->options.port, NULL, NULL, cardea_http__on_request,
        server, MHD_OPTION_EXTERNAL_LOGGER, log_from_mhd, server,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, server->options.threads,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        server->options.max_header_bytes + MHD_POOL_EXTRA,
        MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, cardea_http__on_completed, server,
        MHD_OPTION_END);
    if (server->daemon == NULL) {
        cardea_log__write(CARDEA_LOG_ERROR, "cannot listen on %s port %u",
                          server->host, (unsigned)server->options.port);
        return CARDEA_EIO;
    }
    info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->bound_port = info != NULL ? info->port : server->options.port;
    server->stopping = false;
    if ((err = cardea_http__start_waiter(server)) != CARDEA_OK) {
        MHD_stop_daemon(server->daemon);
        server->daemon = NULL;
        return err;
    }
    cardea_log__write(CARDEA_LOG_INFO, "listening on %s port %u with %u "
                      "threads", server->host, (unsigned)server->bound_port,
                      server->options.threads);
    return CARDEA_OK;
}

uint16_t
cardea_server_port(const cardea_server *server)
{
    return server != NULL ? server->bound_port : 0;
}

static void
wait_for_requests(cardea_server *server)
{
    const struct timespec step = {0, 20 * 1000 * 1000};
    long rounds = (long)server->options.shutdown_wait_s * 50;

    for (long i = 0; i < rounds && atomic_load(&server->in_flight) > 0;
         i++) {
        nanosleep(&step, NULL);
    }
    if (atomic_load(&server->in_flight) > 0) {
        cardea_log__write(CARDEA_LOG_WARN, "stopping with %ld requests "
                          "still in flight",
                          (long)atomic_load(&server->in_flight));
    }
}

void
cardea_server_stop(cardea_server *server)
{
    MHD_socket listen_fd;

    if (server == NULL || server->daemon == NULL) {
        return;
    }
    listen_fd = MHD_quiesce_daemon(server->daemon);
    if (listen_fd != MHD_INVALID_SOCKET) {
        close(listen_fd);
    }
    cardea_http__stop_waiter(server);
    wait_for_requests(server);
    MHD_stop_daemon(server->daemon);
    server->daemon = NULL;
    cardea_log__write(CARDEA_LOG_INFO, "server stopped");
}

void
cardea_server_free(cardea_server *server)
{
    if (server == NULL) {
        return;
    }
    cardea_server_stop(server);
    cardea_store_close(server->store);
    cardea_ratelimit__free(server->limits);
    cardea_tokencache__free(server->token_cache);
    if (server->dummy_hash != NULL) {
        cardea_mem__free_secret(server->dummy_hash,
                                strlen(server->dummy_hash));
    }
    cardea_wipe(server->access_key, sizeof server->access_key);
    cardea_wipe(server->refresh_key, sizeof server->refresh_key);
    pthread_cond_destroy(&server->wait_cond);
    pthread_mutex_destroy(&server->wait_lock);
    cardea_mem__free(server->host);
    cardea_mem__free(server->db_path);
    cardea_mem__free(server);
}
