/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs the cardea command for the CLI tests; see test_cli.h. Each wait is
 * bounded by the caller's time limit, after which the child is killed.
 */
#define _XOPEN_SOURCE 700
#include "test_cli.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define POLL_STEP_MS 20

char *
test_cli_slurp(const char *path, size_t max)
{
    char *data = calloc(1, max + 1);
    FILE *file = fopen(path, "rb");

    assert_non_null(data);
    if (file != NULL) {
        size_t len = fread(data, 1, max, file);

        data[len] = '\0';
        fclose(file);
    }
    return data;
}

void
test_cli_free(test_cli_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

test_cli_result
test_cli_run(const test_cli *cli, const char *const *args)
{
    char out_path[TEST_SERVER_PATH_MAX + 16];
    char err_path[TEST_SERVER_PATH_MAX + 16];
    char name[64];
    const char *argv[TEST_CLI_ARGS_MAX + 2] = {cli->bin};
    test_cli_result r = {-1, NULL, NULL};
    int status = 0;
    long waited = 0;
    size_t n = 1;
    pid_t pid;

    for (size_t i = 0; args[i] != NULL; i++) {
        assert_true(n <= TEST_CLI_ARGS_MAX);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    snprintf(name, sizeof name, "%s.out", cli->tag);
    test_server_path(out_path, sizeof out_path, cli->srv, name);
    snprintf(name, sizeof name, "%s.err", cli->tag);
    test_server_path(err_path, sizeof err_path, cli->srv, name);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(in, STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        /* No controlling terminal: a prompt fails instead of waiting. */
        setsid();
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    while (waitpid(pid, &status, WNOHANG) == 0) {
        struct timespec ts = {0, POLL_STEP_MS * 1000000L};

        if (waited >= cli->timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        nanosleep(&ts, NULL);
        waited += POLL_STEP_MS;
    }
    r.status = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = test_cli_slurp(out_path, cli->output_max);
    r.err = test_cli_slurp(err_path, cli->output_max);
    return r;
}

test_cli_result
test_cli_runl(const test_cli *cli, const char *first, ...)
{
    const char *args[TEST_CLI_ARGS_MAX + 1];
    size_t n = 0;
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        assert_true(n < TEST_CLI_ARGS_MAX);
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    return test_cli_run(cli, args);
}

void
test_cli_expect_status(const test_cli_result *r, int status,
                       const char *what)
{
    if (r->status != status) {
        fail_msg("%s: status %d, expected %d\nstdout: %.2000s\nstderr: "
                 "%.2000s", what, r->status, status, r->out, r->err);
    }
}

json_t *
test_cli_parse_json(const test_cli_result *r)
{
    json_error_t error;
    json_t *doc = json_loads(r->out, 0, &error);

    if (doc == NULL) {
        fail_msg("output is not JSON (%s): %.2000s", error.text, r->out);
    }
    return doc;
}
