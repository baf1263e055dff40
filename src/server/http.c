/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libmicrohttpd glue: per-request state, routing by method and path
 * under /rest/v2, bearer authentication, body size limits, dispatch to
 * the handlers, long polls through suspend/resume, and one access-log
 * line per request. The access log names method, path, status, bytes,
 * duration and user id; it never contains a query string, a header
 * value, a body or a recovery-data id, and client bytes that could
 * forge a line are escaped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "base/base.h"
#include "server/server_internal.h"

#define PREFIX "/rest/v2/"
#define MAX_PATH_LEN 2048
/* Discarded bytes after which an oversized upload is cut off. */
#define DISCARD_FACTOR 4
/* Long polls waiting at once; more get an immediate answer. */
#define MAX_WAITERS 1024

struct cardea_waiter {
    struct MHD_Connection *connection;
    char *key;
    int64_t deadline_ms;
    bool fired;
    cardea_waiter *next;
};

typedef struct request_ctx {
    cardea_server *server;
    const cardea_route *route;
    cardea_http_req req;
    cardea_caller caller;
    cardea_buf body;
    size_t body_limit;
    size_t discarded;
    bool too_big;
    bool responded;
    bool suspended;
    int64_t wait_deadline_ms;
    uint64_t generation;
    const char *method_name;
    struct timespec started;
    unsigned status;
    size_t bytes_out;
    char client_addr[INET6_ADDRSTRLEN];
    /* A SECRET row the path matched, for any method: see log_path. */
    const cardea_route *secret_route;
    /* The path buffers come last: new_ctx zeroes only what precedes them. */
    char path[MAX_PATH_LEN];        /* under PREFIX, split in place */
    char path_whole[MAX_PATH_LEN];  /* under PREFIX, for the handlers */
    /* The decoded URL with each byte escaped into at most three. */
    char path_for_log[3 * MAX_PATH_LEN];
} request_ctx;

static int64_t
monotonic_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - since->tv_sec) * 1000
           + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static cardea_http_method
parse_method(const char *method)
{
    if (strcmp(method, "GET") == 0) {
        return CARDEA_HTTP_GET;
    }
    if (strcmp(method, "POST") == 0) {
        return CARDEA_HTTP_POST;
    }
    if (strcmp(method, "PUT") == 0) {
        return CARDEA_HTTP_PUT;
    }
    if (strcmp(method, "DELETE") == 0) {
        return CARDEA_HTTP_DELETE;
    }
    return CARDEA_HTTP_OTHER;
}

/* ---- routing ----------------------------------------------------------- */

/* Splits `path` in place at '/'; false when there are too many parts. */
static bool
split_path(char *path, char **segments, size_t *count)
{
    size_t n = 0;
    char *p = path;

    while (*p != '\0') {
        if (n == CARDEA_ROUTE_MAX_SEGMENTS) {
            return false;
        }
        segments[n++] = p;
        while (*p != '\0' && *p != '/') {
            p++;
        }
        if (*p == '/') {
            *p++ = '\0';
        }
    }
    *count = n;
    return true;
}

static bool
match_pattern(const char *pattern, char *const *segments, size_t count,
              const char **params)
{
    size_t index = 0;
    size_t param_count = 0;
    const char *p = pattern;

    while (*p != '\0') {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (index == count) {
            return false;
        }
        if (len == 2 && p[0] == '{' && p[1] == '}') {
            if (segments[index][0] == '\0'
                || param_count == CARDEA_ROUTE_MAX_PARAMS) {
                return false;
            }
            params[param_count++] = segments[index];
        } else if (strlen(segments[index]) != len
                   || strncmp(segments[index], p, len) != 0) {
            return false;
        }
        index++;
        p += len;
        if (*p == '/') {
            p++;
        }
    }
    return index == count;
}

/*
 * Sets the logged path to PREFIX and `pattern` with "{id}" for each "{}",
 * or, with no pattern, to PREFIX, `first` (a literal segment of the
 * routing table) and "/{redacted}".
 */
static void
redact_log_path(request_ctx *ctx, const char *pattern, const char *first)
{
    size_t n = (size_t)snprintf(ctx->path_for_log, sizeof ctx->path_for_log,
                                "%s", PREFIX);

    if (pattern == NULL) {
        snprintf(ctx->path_for_log + n, sizeof ctx->path_for_log - n,
                 "%s/{redacted}", first);
        return;
    }
    for (const char *p = pattern; *p != '\0'
                                  && n + 5 < sizeof ctx->path_for_log;
         p++) {
        if (p[0] == '{' && p[1] == '}') {
            memcpy(ctx->path_for_log + n, "{id}", 4);
            n += 4;
            p++;
        } else {
            ctx->path_for_log[n++] = *p;
        }
    }
    ctx->path_for_log[n] = '\0';
}

/*
 * True when `path` has more than one segment and its first segment is
 * the first segment of a SECRET row.
 */
static bool
under_secret_prefix(const char *path)
{
    size_t len = strcspn(path, "/");

    if (len == 0 || path[len] != '/' || path[len + 1] == '\0') {
        return false;
    }
    for (size_t i = 0; i < cardea_route_count; i++) {
        const cardea_route *route = &cardea_routes[i];

        if ((route->flags & CARDEA_ROUTE_SECRET_PARAMS)
            && strncmp(route->pattern, path, len) == 0
            && route->pattern[len] == '/') {
            return true;
        }
    }
    return false;
}

/*
 * Returns the path for the access line. A path that a SECRET row matches,
 * for any method, shows the row's pattern. A path that no row served but
 * that starts like a SECRET row (a typo, too many segments, a 414 or a
 * 431) keeps only its first segment.
 */
static const char *
log_path(request_ctx *ctx)
{
    char first[MAX_PATH_LEN];

    if (ctx->secret_route != NULL) {
        redact_log_path(ctx, ctx->secret_route->pattern, NULL);
    } else if (ctx->route == NULL && under_secret_prefix(ctx->path_whole)) {
        snprintf(first, sizeof first, "%.*s",
                 (int)strcspn(ctx->path_whole, "/"), ctx->path_whole);
        redact_log_path(ctx, NULL, first);
    }
    return ctx->path_for_log;
}

/*
 * Finds the route for the request; sets *status to 404 or 405 when none
 * fits. The first matching route of the table wins.
 */
static const cardea_route *
find_route(request_ctx *ctx, unsigned *status)
{
    char *segments[CARDEA_ROUTE_MAX_SEGMENTS];
    const char *params[CARDEA_ROUTE_MAX_PARAMS];
    bool path_known = false;
    size_t count = 0;

    *status = 404;
    if (!split_path(ctx->path, segments, &count) || count == 0) {
        return NULL;
    }
    for (size_t i = 0; i < cardea_route_count; i++) {
        const cardea_route *route = &cardea_routes[i];

        memset(params, 0, sizeof params);
        if (!match_pattern(route->pattern, segments, count, params)) {
            continue;
        }
        path_known = true;
        if (route->method == ctx->req.method) {
            ctx->secret_route = (route->flags & CARDEA_ROUTE_SECRET_PARAMS)
                                    ? route
                                    : NULL;
            memcpy(ctx->req.params, params, sizeof params);
            return route;
        }
        if (ctx->secret_route == NULL
            && (route->flags & CARDEA_ROUTE_SECRET_PARAMS)) {
            ctx->secret_route = route;
        }
    }
    if (path_known) {
        *status = 405;
    }
    return NULL;
}

/* ---- responses and logging --------------------------------------------- */

/*
 * Queues `resp`. libmicrohttpd takes over the body, which it frees with
 * cardea_mem__free once sent, so `resp->body` is NULL afterwards.
 */
static enum MHD_Result
send_response(request_ctx *ctx, struct MHD_Connection *connection,
              cardea_http_resp *resp)
{
    struct MHD_Response *response;
    enum MHD_Result result;

    if (resp->body != NULL) {
        response = MHD_create_response_from_buffer_with_free_callback(
            resp->body_len, resp->body, cardea_mem__free);
    } else {
        response = MHD_create_response_from_buffer(0, NULL,
                                                   MHD_RESPMEM_PERSISTENT);
    }
    if (response == NULL) {
        return MHD_NO;
    }
    resp->body = NULL;
    if (resp->content_type != NULL) {
        (void)MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                      resp->content_type);
    }
    result = MHD_queue_response(connection, resp->status, response);
    MHD_destroy_response(response);
    ctx->status = resp->status;
    ctx->bytes_out = resp->body_len;
    ctx->responded = true;
    return result;
}

static void
resp_clear(cardea_http_resp *resp)
{
    cardea_mem__free(resp->body);
    cardea_mem__free(resp->wait_key);
    memset(resp, 0, sizeof *resp);
}

static enum MHD_Result
send_error(request_ctx *ctx, struct MHD_Connection *connection,
           unsigned status, const char *message)
{
    cardea_http_resp resp = {0};
    enum MHD_Result result;

    cardea_http__error(&resp, status, "%s", message);
    result = send_response(ctx, connection, &resp);
    resp_clear(&resp);
    return result;
}

/* A running byte count and the separator bytes each pair adds to it. */
typedef struct byte_count {
    size_t total;
    size_t separators;
} byte_count;

/*
 * Adds one key-value pair to the byte count in `cls`; libmicrohttpd passes
 * the lengths without the separators: ": " and "\r\n" for a header line,
 * "=" and "&" for a query argument.
 */
static enum MHD_Result
count_pair(void *cls, enum MHD_ValueKind kind, const char *key,
           size_t key_size, const char *value, size_t value_size)
{
    byte_count *count = cls;

    (void)kind;
    (void)key;
    (void)value;
    count->total += key_size + value_size + count->separators;
    return MHD_YES;
}

/*
 * Returns the size of the request line and the headers, with the path
 * and query string as libmicrohttpd decoded them. Percent escapes make
 * the received line longer, so this can only undercount by them.
 */
static size_t
head_size(struct MHD_Connection *connection, const char *url,
          const char *method, const char *version)
{
    byte_count count = {
        strlen(method) + 1 + strlen(url) + 1 + strlen(version) + 2, 2,
    };

    (void)MHD_get_connection_values_n(connection, MHD_GET_ARGUMENT_KIND,
                                      count_pair, &count);
    count.separators = 4;
    (void)MHD_get_connection_values_n(connection, MHD_HEADER_KIND,
                                      count_pair, &count);
    return count.total;
}

void
cardea_http__on_completed(void *cls, struct MHD_Connection *connection,
                          void **con_cls, enum MHD_RequestTerminationCode code)
{
    cardea_server *server = cls;
    request_ctx *ctx = *con_cls;
    char user[3 * 128 + 1];

    (void)connection;
    if (ctx == NULL) {
        return;
    }
    cardea_http__log_escape(user, sizeof user,
                            ctx->caller.user_id != NULL ? ctx->caller.user_id
                                                        : "-");
    if (ctx->responded) {
        cardea_log__write(CARDEA_LOG_INFO, "%s %s %u %zu %lldms user=%s",
                          ctx->method_name, log_path(ctx), ctx->status,
                          ctx->bytes_out,
                          (long long)monotonic_ms(&ctx->started), user);
    } else {
        cardea_log__write(CARDEA_LOG_INFO, "%s %s aborted (code %d) user=%s",
                          ctx->method_name, log_path(ctx), (int)code,
                          user);
    }
    cardea_caller__clear(&ctx->caller);
    cardea_buf__free(&ctx->body, false);
    cardea_mem__free(ctx);
    *con_cls = NULL;
    atomic_fetch_sub(&server->in_flight, 1);
}

/* ---- authentication ------------------------------------------------------ */

static bool
authenticate(request_ctx *ctx, struct MHD_Connection *connection)
{
    const char *header = MHD_lookup_connection_value(
        connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    cardea_server *server = ctx->server;

    if (header == NULL || strncmp(header, "Bearer ", 7) != 0) {
        return false;
    }
    return cardea_token__authenticate(&ctx->caller, server, header + 7,
                                      cardea_store__now_ms() / 1000)
           == CARDEA_OK;
}

/* ---- request start ------------------------------------------------------- */

static void
read_client_addr(request_ctx *ctx, struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(
        connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *addr = info != NULL ? info->client_addr : NULL;

    snprintf(ctx->client_addr, sizeof ctx->client_addr, "unknown");
    if (addr == NULL) {
        return;
    }
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;

        inet_ntop(AF_INET, &in->sin_addr, ctx->client_addr,
                  sizeof ctx->client_addr);
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;

        inet_ntop(AF_INET6, &in6->sin6_addr, ctx->client_addr,
                  sizeof ctx->client_addr);
    }
}

/* True when the declared Content-Length is over the route's limit. */
static bool
declared_too_big(struct MHD_Connection *connection, size_t limit)
{
    const char *value = MHD_lookup_connection_value(
        connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long length = 0;

    if (value == NULL) {
        return false;
    }
    for (const char *p = value; *p >= '0' && *p <= '9'; p++) {
        if (length > ((unsigned long long)limit + 1) / 10 + 1) {
            return true;
        }
        length = length * 10 + (unsigned long long)(*p - '0');
    }
    return length > limit;
}

static request_ctx *
new_ctx(cardea_server *server, struct MHD_Connection *connection,
        const char *url, const char *method)
{
    request_ctx *ctx = cardea_mem__alloc(sizeof *ctx);
    size_t len;

    if (ctx == NULL) {
        return NULL;
    }
    /* The path buffers are filled below, so only the fields are zeroed. */
    memset(ctx, 0, offsetof(request_ctx, path));
    ctx->server = server;
    clock_gettime(CLOCK_MONOTONIC, &ctx->started);
    ctx->req.server = server;
    ctx->req.connection = connection;
    ctx->req.method = parse_method(method);
    ctx->method_name = ctx->req.method == CARDEA_HTTP_OTHER ? "OTHER"
                                                            : method;
    read_client_addr(ctx, connection);
    ctx->req.client_addr = ctx->client_addr;
    /* libmicrohttpd has decoded %XX in the path, so it may hold any byte
     * but NUL: a "%0a" would start a forged log line. */
    cardea_http__log_escape(ctx->path_for_log, sizeof ctx->path_for_log,
                            url);
    ctx->path[0] = '\0';
    if (strncmp(url, PREFIX, strlen(PREFIX)) == 0) {
        snprintf(ctx->path, sizeof ctx->path, "%s", url + strlen(PREFIX));
    }
    len = strlen(ctx->path);
    while (len > 0 && ctx->path[len - 1] == '/') {
        ctx->path[--len] = '\0';
    }
    memcpy(ctx->path_whole, ctx->path, len + 1);
    atomic_fetch_add(&server->in_flight, 1);
    return ctx;
}

/*
 * First call: check the head size, route, authenticate and check the
 * declared body size.
 */
static enum MHD_Result
begin_request(request_ctx *ctx, struct MHD_Connection *connection,
              const char *url, const char *method, const char *version)
{
    cardea_server_options *options = &ctx->server->options;
    unsigned status;

    /* libmicrohttpd's pool is larger than the limit (server.c), so the
     * documented limit is enforced here. */
    if (head_size(connection, url, method, version)
        > options->max_header_bytes) {
        return send_error(ctx, connection, 431, "the request line and "
                          "headers are over the server's limit "
                          "(--max-header-bytes)");
    }
    if (strlen(url) >= MAX_PATH_LEN) {
        return send_error(ctx, connection, 414, "request path too long");
    }
    ctx->route = find_route(ctx, &status);
    ctx->req.path = ctx->path_whole;
    if (ctx->route == NULL) {
        return send_error(ctx, connection, status,
                          status == 405 ? "method not allowed for this path"
                                        : "no such endpoint");
    }
    if (!(ctx->route->flags & CARDEA_ROUTE_PUBLIC)
        && !authenticate(ctx, connection)) {
        return send_error(ctx, connection, 401,
                          "missing, invalid or expired bearer token");
    }
    ctx->body_limit = (ctx->route->flags & CARDEA_ROUTE_BINARY)
                          ? options->max_attachment
                          : options->max_body;
    if (declared_too_big(connection, ctx->body_limit)) {
        return send_error(ctx, connection, 413, "request body too large");
    }
    cardea_buf__init(&ctx->body, ctx->body_limit);
    return MHD_YES;
}

static enum MHD_Result
take_upload(request_ctx *ctx, const char *data, size_t *size)
{
    size_t len = *size;

    *size = 0;
    if (ctx->responded) {
        return MHD_YES;
    }
    if (!ctx->too_big
        && cardea_buf__append(&ctx->body, data, len) == CARDEA_OK) {
        return MHD_YES;
    }
    /* Keep reading so the 413 reaches the client, but not forever. */
    ctx->too_big = true;
    ctx->discarded += len;
    return ctx->discarded / DISCARD_FACTOR > ctx->body_limit ? MHD_NO
                                                              : MHD_YES;
}

/* ---- long polls ---------------------------------------------------------- */

/* Registers a suspended request; false when it cannot wait. */
static bool
start_wait(request_ctx *ctx, struct MHD_Connection *connection,
           cardea_http_resp *resp)
{
    cardea_server *server = ctx->server;
    cardea_waiter *waiter = cardea_mem__calloc(1, sizeof *waiter);

    if (waiter == NULL) {
        return false;
    }
    pthread_mutex_lock(&server->wait_lock);
    if (server->stopping || server->waiter_count >= MAX_WAITERS) {
        pthread_mutex_unlock(&server->wait_lock);
        cardea_mem__free(waiter);
        return false;
    }
    waiter->connection = connection;
    waiter->key = resp->wait_key;
    resp->wait_key = NULL;
    waiter->deadline_ms = resp->wait_until_ms;
    /* A notification between the handler's read and now must not be
     * missed: wake at once if any arrived since. */
    waiter->fired = server->generation != ctx->generation;
    waiter->next = server->waiters;
    server->waiters = waiter;
    server->waiter_count++;
    ctx->wait_deadline_ms = resp->wait_until_ms;
    ctx->suspended = true;
    MHD_suspend_connection(connection);
    pthread_cond_signal(&server->wait_cond);
    pthread_mutex_unlock(&server->wait_lock);
    return true;
}

static void *
wait_thread_main(void *arg)
{
    cardea_server *server = arg;

    pthread_mutex_lock(&server->wait_lock);
    for (;;) {
        int64_t now = cardea_store__now_ms();
        int64_t next = now + 1000;
        cardea_waiter **link = &server->waiters;
        struct timespec until;

        while (*link != NULL) {
            cardea_waiter *waiter = *link;

            if (server->stopping || waiter->fired
                || waiter->deadline_ms <= now) {
                *link = waiter->next;
                server->waiter_count--;
                MHD_resume_connection(waiter->connection);
                cardea_mem__free(waiter->key);
                cardea_mem__free(waiter);
                continue;
            }
            if (waiter->deadline_ms < next) {
                next = waiter->deadline_ms;
            }
            link = &waiter->next;
        }
        if (server->stopping) {
            break;
        }
        until.tv_sec = (time_t)(next / 1000);
        until.tv_nsec = (long)(next % 1000) * 1000000;
        pthread_cond_timedwait(&server->wait_cond, &server->wait_lock,
                               &until);
    }
    pthread_mutex_unlock(&server->wait_lock);
    return NULL;
}

void
cardea_server__notify(cardea_server *server, const char *key)
{
    pthread_mutex_lock(&server->wait_lock);
    server->generation++;
    for (cardea_waiter *w = server->waiters; w != NULL; w = w->next) {
        if (strcmp(w->key, key) == 0) {
            w->fired = true;
        }
    }
    pthread_cond_signal(&server->wait_cond);
    pthread_mutex_unlock(&server->wait_lock);
}

/* ---- dispatch ------------------------------------------------------------ */

static enum MHD_Result
finish_request(request_ctx *ctx, struct MHD_Connection *connection)
{
    cardea_server *server = ctx->server;
    cardea_http_resp resp = {0};
    enum MHD_Result result;

    if (ctx->too_big) {
        return send_error(ctx, connection, 413, "request body too large");
    }
    ctx->suspended = false;
    ctx->req.body = ctx->body.data;
    ctx->req.body_len = ctx->body.len;
    ctx->req.caller = ctx->caller.user_id != NULL ? &ctx->caller : NULL;
    ctx->req.now_ms = cardea_store__now_ms();
    ctx->req.wait_deadline_ms = ctx->wait_deadline_ms;
    pthread_mutex_lock(&server->wait_lock);
    ctx->generation = server->generation;
    ctx->req.final_attempt = server->stopping;
    pthread_mutex_unlock(&server->wait_lock);

    ctx->route->handler(&resp, &ctx->req);
    if (resp.wait_until_ms > 0 && resp.wait_key != NULL) {
        if (start_wait(ctx, connection, &resp)) {
            resp_clear(&resp);
            return MHD_YES;
        }
        resp_clear(&resp);
        ctx->req.final_attempt = true;
        ctx->route->handler(&resp, &ctx->req);
    }
    if (resp.status == 0) {
        cardea_http__error(&resp, 500, "internal error");
    }
    result = send_response(ctx, connection, &resp);
    resp_clear(&resp);
    return result;
}

enum MHD_Result
cardea_http__on_request(void *cls, struct MHD_Connection *connection,
                        const char *url, const char *method,
                        const char *version, const char *upload_data,
                        size_t *upload_data_size, void **con_cls)
{
    request_ctx *ctx = *con_cls;

    if (ctx == NULL) {
        if ((ctx = new_ctx(cls, connection, url, method)) == NULL) {
            return MHD_NO;
        }
        *con_cls = ctx;
        return begin_request(ctx, connection, url, method, version);
    }
    if (*upload_data_size > 0) {
        return take_upload(ctx, upload_data, upload_data_size);
    }
    if (ctx->responded) {
        return MHD_YES;
    }
    return finish_request(ctx, connection);
}

cardea_err
cardea_http__start_waiter(cardea_server *server)
{
    if (pthread_create(&server->wait_thread, NULL, wait_thread_main, server)
        != 0) {
        return CARDEA_ENOMEM;
    }
    server->wait_thread_running = true;
    return CARDEA_OK;
}

void
cardea_http__stop_waiter(cardea_server *server)
{
    pthread_mutex_lock(&server->wait_lock);
    server->stopping = true;
    pthread_cond_signal(&server->wait_cond);
    pthread_mutex_unlock(&server->wait_lock);
    if (server->wait_thread_running) {
        pthread_join(server->wait_thread, NULL);
        server->wait_thread_running = false;
    }
}
