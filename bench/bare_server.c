/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Floor for the server benchmark: a bare libmicrohttpd + SQLite server
 * that responds to `GET /rest/v2/<path>/<id>` with one SELECT of the stored
 * JSON from a Cardea database, with no authentication, no access check
 * and no JSON parsing. It uses the same libmicrohttpd mode as `cardea
 * serve` (internal polling thread with a thread pool), and each pool
 * thread keeps its own read-only connection and prepared statement. It
 * listens on 127.0.0.1 only, writes the bound port to a file, and exits
 * on SIGINT, SIGTERM or after --max-seconds.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <sqlite3.h>

/* Same request-head budget and idle timeout as `cardea serve`. */
#define MEMORY_LIMIT ((size_t)96 * 1024 + 32 * 1024)
#define CONNECTION_TIMEOUT_S 60
#define PREFIX "/rest/v2/"

static const char usage_text[] =
    "usage: cardea_bench_bare --db FILE --port-file FILE [--threads N]\n"
    "                         [--max-seconds S]\n"
    "  --db FILE          Cardea SQLite database to read entities from\n"
    "  --port-file FILE   write the bound port (127.0.0.1) to FILE\n"
    "  --threads N        libmicrohttpd thread-pool size (default 4)\n"
    "  --max-seconds S    exit after S seconds (default 900)\n";

/* Endpoint path segment and entity type of the served entities. */
static const struct {
    const char *path;
    const char *type;
} endpoints[] = {
    {"patient", "Patient"},
    {"helement", "HealthElement"},
    {"contact", "Contact"},
    {"document", "Document"},
    {"maintenancetask", "MaintenanceTask"},
};

typedef struct thread_db {
    sqlite3 *conn;
    sqlite3_stmt *select;
} thread_db;

static const char *db_path;
static pthread_key_t db_key;
static volatile sig_atomic_t stop_requested;

static void
on_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static void
close_thread_db(void *value)
{
    thread_db *tdb = value;

    sqlite3_finalize(tdb->select);
    sqlite3_close(tdb->conn);
    free(tdb);
}

/* The pool thread's connection, opened on its first request. */
static thread_db *
current_db(void)
{
    thread_db *tdb = pthread_getspecific(db_key);

    if (tdb != NULL) {
        return tdb;
    }
    tdb = calloc(1, sizeof *tdb);
    if (tdb == NULL) {
        return NULL;
    }
    if (sqlite3_open_v2(db_path, &tdb->conn, SQLITE_OPEN_READONLY, NULL)
            != SQLITE_OK
        || sqlite3_busy_timeout(tdb->conn, 10000) != SQLITE_OK
        || sqlite3_prepare_v3(tdb->conn,
                              "SELECT json FROM entities WHERE type = ?1"
                              " AND id = ?2 AND deleted = 0",
                              -1, SQLITE_PREPARE_PERSISTENT, &tdb->select,
                              NULL) != SQLITE_OK) {
        fprintf(stderr, "cardea_bench_bare: cannot read %s: %s\n", db_path,
                sqlite3_errmsg(tdb->conn));
        close_thread_db(tdb);
        return NULL;
    }
    pthread_setspecific(db_key, tdb);
    return tdb;
}

static enum MHD_Result
respond(struct MHD_Connection *connection, unsigned status,
        const void *body, size_t len)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(
        len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result result;

    if (response == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(response, "Content-Type", "application/json");
    result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

/* Splits "<path>/<id>" and returns the entity type, or NULL. */
static const char *
parse_url(const char **id, const char *url)
{
    const char *rest;
    const char *slash;

    if (strncmp(url, PREFIX, strlen(PREFIX)) != 0) {
        return NULL;
    }
    rest = url + strlen(PREFIX);
    slash = strchr(rest, '/');
    if (slash == NULL || slash[1] == '\0' || strchr(slash + 1, '/') != NULL) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        size_t len = strlen(endpoints[i].path);

        if ((size_t)(slash - rest) == len
            && strncmp(rest, endpoints[i].path, len) == 0) {
            *id = slash + 1;
            return endpoints[i].type;
        }
    }
    return NULL;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *connection, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    static const char not_found[] = "{\"error\":\"not found\"}";
    const char *type;
    const char *id = NULL;
    thread_db *tdb;
    enum MHD_Result result;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        /* The first call only announces the request head. */
        *con_cls = connection;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    type = parse_url(&id, url);
    if (strcmp(method, "GET") != 0 || type == NULL) {
        return respond(connection, 404, not_found, strlen(not_found));
    }
    tdb = current_db();
    if (tdb == NULL) {
        return respond(connection, 500, "{}", 2);
    }
    sqlite3_bind_text(tdb->select, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(tdb->select, 2, id, -1, SQLITE_STATIC);
    if (sqlite3_step(tdb->select) == SQLITE_ROW) {
        result = respond(connection, 200,
                         sqlite3_column_blob(tdb->select, 0),
                         (size_t)sqlite3_column_bytes(tdb->select, 0));
    } else {
        result = respond(connection, 404, not_found, strlen(not_found));
    }
    sqlite3_reset(tdb->select);
    sqlite3_clear_bindings(tdb->select);
    return result;
}

static bool
parse_unsigned(unsigned *out, const char *text, unsigned max)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value == 0
        || value > max) {
        return false;
    }
    *out = (unsigned)value;
    return true;
}

static bool
write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL) {
        return false;
    }
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0) {
        return false;
    }
    return rename(tmp, path) == 0;
}

static struct MHD_Daemon *
start_daemon(unsigned threads)
{
    struct sockaddr_in addr;

    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, MEMORY_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
        MHD_OPTION_END);
}

/* Sleeps in 100 ms steps until a signal arrives or `max_s` passes. */
static void
wait_for_stop(unsigned max_s)
{
    const struct timespec step = {0, 100 * 1000 * 1000};
    struct timespec start;
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        nanosleep(&step, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (!stop_requested && now.tv_sec - start.tv_sec < (time_t)max_s);
}

int
main(int argc, char **argv)
{
    const char *port_file = NULL;
    unsigned threads = 4;
    unsigned max_s = 900;
    const union MHD_DaemonInfo *info;
    struct MHD_Daemon *daemon;
    struct sigaction action;
    bool ok = true;

    for (int i = 1; i + 1 < argc && ok; i += 2) {
        if (strcmp(argv[i], "--db") == 0) {
            db_path = argv[i + 1];
        } else if (strcmp(argv[i], "--port-file") == 0) {
            port_file = argv[i + 1];
        } else if (strcmp(argv[i], "--threads") == 0) {
            ok = parse_unsigned(&threads, argv[i + 1], 256);
        } else if (strcmp(argv[i], "--max-seconds") == 0) {
            ok = parse_unsigned(&max_s, argv[i + 1], 86400);
        } else {
            ok = false;
        }
    }
    if (!ok || argc % 2 == 0 || db_path == NULL || port_file == NULL) {
        fputs(usage_text, stderr);
        return 2;
    }

    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    if (pthread_key_create(&db_key, close_thread_db) != 0) {
        return 1;
    }
    daemon = start_daemon(threads);
    if (daemon == NULL) {
        fprintf(stderr, "cardea_bench_bare: cannot listen on 127.0.0.1\n");
        return 1;
    }
    info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || !write_port_file(port_file, info->port)) {
        fprintf(stderr, "cardea_bench_bare: cannot write %s\n", port_file);
        MHD_stop_daemon(daemon);
        return 1;
    }
    wait_for_stop(max_s);
    MHD_stop_daemon(daemon);
    return 0;
}
