/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entry point of the cardea command: dispatches to a subcommand through
 * a table, so new subcommands need only a row here and their own file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"serve", cardea_cli__serve, "run the REST server"},
    {"admin", cardea_cli__admin, "manage users in a server database"},
};

void
cardea_cli__error(const char *fmt, ...)
{
    va_list ap;

    fputs("cardea: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool
cardea_cli__parse_ulong(unsigned long long *out, const char *text,
                        unsigned long long min, unsigned long long max)
{
    unsigned long long value;
    char *end = NULL;

    if (text == NULL || text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max) {
        return false;
    }
    *out = value;
    return true;
}

static void
usage(FILE *out)
{
    fputs("usage: cardea COMMAND [OPTIONS]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\nRun 'cardea COMMAND --help' for the options of a command.\n",
          out);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    cardea_cli__error("unknown command '%s'; run 'cardea --help'", argv[1]);
    return 2;
}
