/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs the cardea command as a child process for the CLI tests and
 * collects its exit status and output. stdin is /dev/null and the child
 * has no controlling terminal, so a prompt fails instead of waiting. A
 * command that runs past its time limit is killed. Failures are reported
 * through cmocka, so only tests call these functions.
 */
#ifndef CARDEA_TEST_CLI_H
#define CARDEA_TEST_CLI_H

#include <stddef.h>

#include <jansson.h>

#include "test_server.h"

/* Maximum number of arguments of one command, without the program. */
#define TEST_CLI_ARGS_MAX 32

/* Settings with which one test runs the command. */
typedef struct test_cli {
    const test_server *srv;   /* server whose folder gets the output */
    const char *bin;          /* path of the cardea binary */
    const char *tag;          /* output files <dir>/<tag>.out and .err */
    long timeout_ms;          /* killed after this long */
    size_t output_max;        /* bytes of stdout and stderr kept */
} test_cli;

/* Output of one command. */
typedef struct test_cli_result {
    int status;               /* exit status, or -1 when killed */
    char *out;
    char *err;
} test_cli_result;

/* Runs the command with `args` (NULL-terminated, without the program). */
test_cli_result test_cli_run(const test_cli *cli, const char *const *args);

/* Runs the command with the arguments `first`, ..., up to a NULL. */
test_cli_result test_cli_runl(const test_cli *cli, const char *first, ...);

/* Frees the output of `r` and clears it. */
void test_cli_free(test_cli_result *r);

/*
 * The first `max` bytes of the file at `path` as a string, empty when it
 * cannot be read. Free with free().
 */
char *test_cli_slurp(const char *path, size_t max);

/* Fails the test, showing the output, when `r` did not exit `status`. */
void test_cli_expect_status(const test_cli_result *r, int status,
                            const char *what);

/* The stdout of `r` parsed as JSON; fails the test when it is not. */
json_t *test_cli_parse_json(const test_cli_result *r);

#endif
