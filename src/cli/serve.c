/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea serve`: runs the REST server until SIGINT or SIGTERM. Each
 * option can also come from an environment variable; a command-line
 * option wins over the variable. Logs go to stderr, one line each.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "server/server.h"

#define MAX_HOST_LEN 64

typedef struct serve_config {
    cardea_server_options options;
    char host[MAX_HOST_LEN];
    const char *port_file;
    cardea_log_level log_level;
} serve_config;

static const char usage_text[] =
    "usage: cardea serve [OPTIONS]\n"
    "\n"
    "Runs the REST server. Each option also reads the environment variable\n"
    "in brackets; the command line wins.\n"
    "\n"
    "  --listen HOST:PORT       address to bind, numeric; [::1]:PORT for\n"
    "                           IPv6; port 0 picks a free port\n"
    "                           (default 127.0.0.1:16043) [CARDEA_LISTEN]\n"
    "  --db FILE                SQLite database, created if missing\n"
    "                           (default ./cardea.sqlite) [CARDEA_DB]\n"
    "  --log-level LEVEL        error, warn, info or debug (default info)\n"
    "                           [CARDEA_LOG_LEVEL]\n"
    "  --token-lifetime SECONDS access-token lifetime (default 3600)\n"
    "                           [CARDEA_TOKEN_LIFETIME]\n"
    "  --refresh-lifetime SECONDS refresh-token lifetime (default 86400)\n"
    "                           [CARDEA_REFRESH_LIFETIME]\n"
    "  --token-grace SECONDS    accept access tokens this long after they\n"
    "                           expire (default 60) [CARDEA_TOKEN_GRACE]\n"
    "  --max-body BYTES         largest JSON request body (default 8388608)\n"
    "                           [CARDEA_MAX_BODY]\n"
    "  --max-attachment BYTES   largest binary request body (default\n"
    "                           67108864) [CARDEA_MAX_ATTACHMENT]\n"
    "  --max-header-bytes BYTES largest request head (default 98304)\n"
    "                           [CARDEA_MAX_HEADER_BYTES]\n"
    "  --threads N              worker threads (default twice the cores)\n"
    "                           [CARDEA_THREADS]\n"
    "  --port-file FILE         write the bound port to FILE once listening\n"
    "                           [CARDEA_PORT_FILE]\n"
    "  --help                   print this help\n";

enum {
    OPT_LISTEN = 1000,
    OPT_DB,
    OPT_LOG_LEVEL,
    OPT_TOKEN_LIFETIME,
    OPT_REFRESH_LIFETIME,
    OPT_TOKEN_GRACE,
    OPT_MAX_BODY,
    OPT_MAX_ATTACHMENT,
    OPT_MAX_HEADER,
    OPT_THREADS,
    OPT_PORT_FILE,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"db", required_argument, NULL, OPT_DB},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"token-lifetime", required_argument, NULL, OPT_TOKEN_LIFETIME},
    {"refresh-lifetime", required_argument, NULL, OPT_REFRESH_LIFETIME},
    {"token-grace", required_argument, NULL, OPT_TOKEN_GRACE},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-attachment", required_argument, NULL, OPT_MAX_ATTACHMENT},
    {"max-header-bytes", required_argument, NULL, OPT_MAX_HEADER},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Environment variable of each option, in the order of the enum. */
static const char *const env_names[] = {
    "CARDEA_LISTEN", "CARDEA_DB", "CARDEA_LOG_LEVEL",
    "CARDEA_TOKEN_LIFETIME", "CARDEA_REFRESH_LIFETIME", "CARDEA_TOKEN_GRACE",
    "CARDEA_MAX_BODY", "CARDEA_MAX_ATTACHMENT", "CARDEA_MAX_HEADER_BYTES",
    "CARDEA_THREADS", "CARDEA_PORT_FILE",
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void
log_to_stderr(cardea_log_level level, const char *message, void *user)
{
    char stamp[32];
    struct tm tm;
    time_t now = time(NULL);

    (void)user;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s %s\n", stamp,
            (unsigned)level < 4 ? level_names[level] : "?", message);
}

/* Splits HOST:PORT or [V6]:PORT. */
static bool
parse_listen(serve_config *config, const char *text)
{
    const char *colon = strrchr(text, ':');
    const char *host = text;
    size_t host_len;
    unsigned long long port;

    if (colon == NULL
        || !cardea_cli__parse_ulong(&port, colon + 1, 0, 65535)) {
        return false;
    }
    host_len = (size_t)(colon - text);
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof config->host) {
        return false;
    }
    memcpy(config->host, host, host_len);
    config->host[host_len] = '\0';
    config->options.host = config->host;
    config->options.port = (uint16_t)port;
    return true;
}

static bool
parse_number(unsigned long long *out, const char *text,
             unsigned long long min, unsigned long long max,
             const char *what)
{
    if (cardea_cli__parse_ulong(out, text, min, max)) {
        return true;
    }
    cardea_cli__error("invalid %s '%s': expected an integer from %llu to "
                      "%llu", what, text, min, max);
    return false;
}

/* Applies one option value, from the command line or the environment. */
static bool
apply_option(serve_config *config, int option, const char *value)
{
    cardea_server_options *o = &config->options;
    unsigned long long n = 0;

    switch (option) {
    case OPT_LISTEN:
        if (!parse_listen(config, value)) {
            cardea_cli__error("invalid listen address '%s': expected "
                              "HOST:PORT with a numeric host", value);
            return false;
        }
        return true;
    case OPT_DB:
        o->db_path = value;
        return true;
    case OPT_LOG_LEVEL:
        for (size_t i = 0; i < 4; i++) {
            if (strcmp(value, level_names[i]) == 0) {
                config->log_level = (cardea_log_level)i;
                return true;
            }
        }
        cardea_cli__error("invalid log level '%s': use error, warn, info "
                          "or debug", value);
        return false;
    case OPT_PORT_FILE:
        config->port_file = value;
        return true;
    default:
        break;
    }
    switch (option) {
    case OPT_TOKEN_LIFETIME:
        if (!parse_number(&n, value, 1, 31536000, "token lifetime")) {
            return false;
        }
        o->token_lifetime_s = (unsigned)n;
        return true;
    case OPT_REFRESH_LIFETIME:
        if (!parse_number(&n, value, 1, 31536000, "refresh lifetime")) {
            return false;
        }
        o->refresh_lifetime_s = (unsigned)n;
        return true;
    case OPT_TOKEN_GRACE:
        if (!parse_number(&n, value, 0, 86400, "token grace")) {
            return false;
        }
        o->token_grace_s = (unsigned)n;
        return true;
    case OPT_MAX_BODY:
        if (!parse_number(&n, value, 1024, (size_t)1 << 30, "max body")) {
            return false;
        }
        o->max_body = (size_t)n;
        return true;
    case OPT_MAX_ATTACHMENT:
        if (!parse_number(&n, value, 1024, (size_t)1 << 31,
                          "max attachment")) {
            return false;
        }
        o->max_attachment = (size_t)n;
        return true;
    case OPT_MAX_HEADER:
        if (!parse_number(&n, value, 8192, (size_t)1 << 22,
                          "max header bytes")) {
            return false;
        }
        o->max_header_bytes = (size_t)n;
        return true;
    case OPT_THREADS:
        if (!parse_number(&n, value, 1, 1024, "thread count")) {
            return false;
        }
        o->threads = (unsigned)n;
        return true;
    default:
        return false;
    }
}

static bool
read_config(serve_config *config, int argc, char **argv, bool *help)
{
    int option;

    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++) {
        const char *value = getenv(env_names[i]);

        if (value != NULL && value[0] != '\0'
            && !apply_option(config, OPT_LISTEN + (int)i, value)) {
            cardea_cli__error("in environment variable %s", env_names[i]);
            return false;
        }
    }
    optind = 1;
    while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (option == OPT_HELP) {
            *help = true;
            return true;
        }
        if (option == '?' || !apply_option(config, option, optarg)) {
            return false;
        }
    }
    if (optind < argc) {
        cardea_cli__error("unexpected argument '%s'", argv[optind]);
        return false;
    }
    return true;
}

/* Writes the port through a temporary file so readers see all or none. */
static bool
write_port_file(const char *path, uint16_t port)
{
    char tmp[4096];
    FILE *file;
    int written = snprintf(tmp, sizeof tmp, "%s.tmp", path);

    if (written < 0 || (size_t)written >= sizeof tmp
        || (file = fopen(tmp, "w")) == NULL) {
        cardea_cli__error("cannot write the port file %s", path);
        return false;
    }
    fprintf(file, "%u\n", (unsigned)port);
    if (fclose(file) != 0 || rename(tmp, path) != 0) {
        cardea_cli__error("cannot write the port file %s", path);
        return false;
    }
    return true;
}

static int
run_server(const serve_config *config)
{
    cardea_server *server = NULL;
    sigset_t signals;
    cardea_err err;
    int signal_number = 0;
    int status = 1;

    /* Block the signals before any thread starts, so every thread
     * inherits the mask and sigwait below receives them. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((err = cardea_server_new(&server, &config->options)) != CARDEA_OK) {
        cardea_cli__error("cannot open the database %s: %s",
                          config->options.db_path, cardea_strerror(err));
        goto out;
    }
    if ((err = cardea_server_start(server)) != CARDEA_OK) {
        cardea_cli__error("cannot start the server: %s",
                          cardea_strerror(err));
        goto out;
    }
    if (config->port_file != NULL
        && !write_port_file(config->port_file, cardea_server_port(server))) {
        goto out;
    }
    sigwait(&signals, &signal_number);
    /* An info line, like "listening on": hidden at --log-level warn. */
    cardea_log__write(CARDEA_LOG_INFO, "received %s (signal %d), stopping",
                      signal_number == SIGINT ? "SIGINT" : "SIGTERM",
                      signal_number);
    status = 0;

out:
    cardea_server_free(server);
    return status;
}

int
cardea_cli__serve(int argc, char **argv)
{
    serve_config config = {
        .options = CARDEA_SERVER_OPTIONS_INIT,
        .log_level = CARDEA_LOG_INFO,
    };
    bool help = false;

    if (!read_config(&config, argc, argv, &help)) {
        fputs("Run 'cardea serve --help' for the options.\n", stderr);
        return 2;
    }
    if (help) {
        fputs(usage_text, stdout);
        return 0;
    }
    cardea_set_log(log_to_stderr, config.log_level, NULL);
    return run_server(&config);
}
