/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs `cardea serve` and `cardea admin` as child processes for the SDK
 * tests; see test_server.h. Only 127.0.0.1 is ever contacted.
 */
#define _XOPEN_SOURCE 700
#include "test_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 15000
#define STOP_TIMEOUT_MS 5000
#define ADMIN_TIMEOUT_MS 30000
#define POLL_STEP_MS 50
#define ARGS_MAX 32
#define DIR_PREFIX "/tmp/cardea-sdk-test-"

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void
test_server_path(char *out, size_t out_cap, const test_server *srv,
                 const char *name)
{
    snprintf(out, out_cap, "%s/%s", srv->dir, name);
}

/* Waits up to `timeout_ms` for `pid`; true when it exited, with status. */
static bool
wait_child(pid_t pid, int *status, long timeout_ms)
{
    for (long waited = 0; waited <= timeout_ms; waited += POLL_STEP_MS) {
        pid_t r = waitpid(pid, status, WNOHANG);

        if (r == pid || (r < 0 && errno == ECHILD)) {
            return true;
        }
        sleep_ms(POLL_STEP_MS);
    }
    return false;
}

/* Stops `pid` with SIGTERM, then SIGKILL if it does not exit in time. */
static void
stop_child(pid_t pid)
{
    int status;

    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    if (!wait_child(pid, &status, STOP_TIMEOUT_MS)) {
        fprintf(stderr, "test server %d ignored SIGTERM; killing it\n",
                (int)pid);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
             struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void
test_server_remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
remove_dir(const char *dir)
{
    /* Only ever delete a folder this fixture created. */
    if (strncmp(dir, DIR_PREFIX, sizeof DIR_PREFIX - 1) == 0) {
        test_server_remove_tree(dir);
    }
}

static void
print_log(const test_server *srv)
{
    char line[512];
    FILE *log = fopen(srv->log_path, "r");
    int lines = 0;

    if (log == NULL) {
        return;
    }
    fprintf(stderr, "--- server log %s ---\n", srv->log_path);
    while (fgets(line, sizeof line, log) != NULL && lines++ < 200) {
        fputs(line, stderr);
    }
    fclose(log);
}

/* Reads a port number from the port file; 0 while it is not there. */
static unsigned
read_port(const char *path)
{
    FILE *file = fopen(path, "r");
    unsigned port = 0;

    if (file == NULL) {
        return 0;
    }
    if (fscanf(file, "%u", &port) != 1 || port > 65535) {
        port = 0;
    }
    fclose(file);
    return port;
}

static bool
port_accepts(unsigned port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    if (fd < 0) {
        return false;
    }
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

static pid_t
spawn_server(const char *const *argv, const char *log_path)
{
    pid_t pid = fork();

    if (pid == 0) {
        int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null = open("/dev/null", O_RDONLY);

        if (log >= 0) {
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
        }
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static bool
wait_ready(test_server *srv, const char *port_file)
{
    int status;

    for (long waited = 0; waited <= START_TIMEOUT_MS;
         waited += POLL_STEP_MS) {
        if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
            fprintf(stderr, "test server exited early (status %d)\n",
                    status);
            srv->pid = 0;
            return false;
        }
        if (srv->port == 0) {
            srv->port = read_port(port_file);
        }
        if (srv->port != 0 && port_accepts(srv->port)) {
            return true;
        }
        sleep_ms(POLL_STEP_MS);
    }
    fprintf(stderr, "test server not ready after %d ms\n", START_TIMEOUT_MS);
    return false;
}

bool
test_server_start(test_server *srv, const char *cardea_bin,
                  const char *const *extra)
{
    const char *argv[ARGS_MAX];
    char port_file[TEST_SERVER_PATH_MAX + 16];
    size_t n = 0;

    memset(srv, 0, sizeof *srv);
    snprintf(srv->dir, sizeof srv->dir, DIR_PREFIX "XXXXXX");
    if (mkdtemp(srv->dir) == NULL) {
        fprintf(stderr, "mkdtemp failed: %s\n", strerror(errno));
        return false;
    }
    test_server_path(srv->db_path, sizeof srv->db_path, srv, "cardea.db");
    test_server_path(srv->log_path, sizeof srv->log_path, srv, "server.log");
    test_server_path(port_file, sizeof port_file, srv, "port");

    argv[n++] = cardea_bin;
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--port-file";
    argv[n++] = port_file;
    argv[n++] = "--db";
    argv[n++] = srv->db_path;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n + 1 < ARGS_MAX;
         i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;

    if ((srv->pid = spawn_server(argv, srv->log_path)) < 0) {
        fprintf(stderr, "fork failed: %s\n", strerror(errno));
        srv->pid = 0;
    } else if (wait_ready(srv, port_file)) {
        snprintf(srv->base_url, sizeof srv->base_url, "http://127.0.0.1:%u",
                 srv->port);
        return true;
    }
    print_log(srv);
    test_server_stop(srv);
    return false;
}

/* Reads the child's output into `out` until EOF or the deadline. */
static bool
read_output(char *out, size_t out_cap, int fd, long timeout_ms)
{
    size_t len = 0;
    long waited = 0;

    while (waited <= timeout_ms) {
        struct pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, POLL_STEP_MS);
        ssize_t got;

        if (ready == 0) {
            waited += POLL_STEP_MS;
            continue;
        }
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        got = read(fd, out + len, out_cap - 1 - len);
        if (got <= 0) {
            out[len] = 0;
            return ready > 0;
        }
        len += (size_t)got;
        if (len == out_cap - 1) {
            out[len] = 0;
            return true;
        }
    }
    out[len] = 0;
    return false;
}

bool
test_server_add_user(char *owner_id, size_t owner_id_cap,
                     const test_server *srv, const char *cardea_bin,
                     const char *login, const char *password,
                     const char *type, const char *parent)
{
    const char *argv[ARGS_MAX] = {
        cardea_bin, "admin", "--db", srv->db_path, "user", "add",
        "--login", login, "--password", password, "--type", type};
    size_t n = 12;
    char output[256];
    int pipe_fds[2];
    bool done;
    int status = -1;
    pid_t pid;

    if (parent != NULL) {
        argv[n++] = "--parent";
        argv[n++] = parent;
    }
    argv[n] = NULL;
    if (pipe(pipe_fds) != 0) {
        return false;
    }
    if ((pid = fork()) == 0) {
        dup2(pipe_fds[1], STDOUT_FILENO);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipe_fds[1]);
    done = pid > 0 && read_output(output, sizeof output, pipe_fds[0],
                                  ADMIN_TIMEOUT_MS);
    close(pipe_fds[0]);
    if (pid > 0 && !wait_child(pid, &status, ADMIN_TIMEOUT_MS)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        done = false;
    }
    if (!done || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "cardea admin user add %s failed (status %d)\n",
                login, status);
        return false;
    }
    output[strcspn(output, "\r\n")] = 0;
    snprintf(owner_id, owner_id_cap, "%s", output);
    return owner_id[0] != 0;
}

void
test_server_stop(test_server *srv)
{
    stop_child(srv->pid);
    srv->pid = 0;
    if (srv->dir[0] != 0) {
        remove_dir(srv->dir);
        srv->dir[0] = 0;
    }
}
