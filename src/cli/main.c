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
#include "cli/key.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"serve", cardea_cli__serve, "run the REST server"},
    {"admin", cardea_cli__admin, "manage users in a server database"},
    {"login", cardea_cli__login, "log in and save a profile"},
    {"whoami", cardea_cli__whoami, "show the user of a profile"},
    {"import", cardea_cli__import, "encrypt and upload FHIR R4 bundles"},
    {"share", cardea_cli__share, "share one entity with a data owner"},
    {"share-patient", cardea_cli__share_patient,
     "share a patient and all its data"},
    {"get", cardea_cli__get, "fetch and decrypt one entity"},
    {"list", cardea_cli__list, "list entities, by patient or code"},
    {"export", cardea_cli__export, "export a patient as a FHIR Bundle"},
    {"verify", cardea_cli__verify,
     "read bundles back and compare field by field"},
    {"scan", cardea_cli__scan, "check a server database for leaks"},
    {"fhir", cardea_cli__fhir, "inspect bundles without a server"},
    {"key", cardea_cli__key,
     "fingerprints, verification, recovery and encrypted export of keys"},
    {"access-back", cardea_cli__access_back,
     "give access back to a counterpart's new key"},
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
    fputs("usage: cardea [--profile NAME] [--config-dir DIR] [--json] "
          "COMMAND [OPTIONS]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(out, "  %-14s %s\n", commands[i].name,
                commands[i].summary);
    }
    fputs("\nRun 'cardea COMMAND --help' for the options of a command.\n",
          out);
}

/*
 * Takes the common options given before the command name. Returns the
 * index of the command name, or 0 after printing a usage error.
 */
static int
global_options(int argc, char **argv)
{
    int i = 1;

    while (i < argc && strncmp(argv[i], "--", 2) == 0
           && strcmp(argv[i], "--help") != 0) {
        if (strcmp(argv[i], "--json") == 0) {
            cardea_cli__set_global(CARDEA_CLI_OPT_JSON, NULL);
            i++;
        } else if ((strcmp(argv[i], "--profile") == 0
                    || strcmp(argv[i], "--config-dir") == 0)
                   && i + 1 < argc) {
            cardea_cli__set_global(strcmp(argv[i], "--profile") == 0
                                       ? CARDEA_CLI_OPT_PROFILE
                                       : CARDEA_CLI_OPT_CONFIG_DIR,
                                   argv[i + 1]);
            i += 2;
        } else {
            cardea_cli__error("unknown or incomplete option '%s' before the "
                              "command; run 'cardea --help'", argv[i]);
            return 0;
        }
    }
    return i;
}

int
main(int argc, char **argv)
{
    int first = global_options(argc, argv);

    if (first == 0) {
        return CARDEA_CLI_USAGE;
    }
    if (first >= argc) {
        usage(stderr);
        return CARDEA_CLI_USAGE;
    }
    if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0
        || strcmp(argv[first], "help") == 0) {
        usage(stdout);
        return CARDEA_CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[first], commands[i].name) == 0) {
            return commands[i].run(argc - first, argv + first);
        }
    }
    cardea_cli__error("unknown command '%s'; run 'cardea --help'",
                      argv[first]);
    return CARDEA_CLI_USAGE;
}
