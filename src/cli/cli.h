/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subcommands of the cardea command. Each takes the arguments after its
 * own name (argv[0] is the subcommand name) and returns the exit status.
 * Errors go to stderr as "cardea: error: ...".
 */
#ifndef CARDEA_CLI_H
#define CARDEA_CLI_H

#include <stdbool.h>

int cardea_cli__serve(int argc, char **argv);
int cardea_cli__admin(int argc, char **argv);

/* Prints "cardea: error: <message>" to stderr. */
void cardea_cli__error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Parses a decimal number within [min, max]; false when invalid. */
bool cardea_cli__parse_ulong(unsigned long long *out, const char *text,
                             unsigned long long min, unsigned long long max);

#endif
