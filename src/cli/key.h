/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subcommands of `cardea key` and `cardea access-back`, and the pieces
 * key.c and key_file.c share: the session of the profile opened with
 * chosen strategies, and the passphrase prompt.
 */
#ifndef CARDEA_CLI_KEY_H
#define CARDEA_CLI_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/cli.h"

int cardea_cli__key(int argc, char **argv);
int cardea_cli__access_back(int argc, char **argv);

/* `cardea key export` and `cardea key import` (key_file.c). */
int cardea_cli__key_export(int argc, char **argv);
int cardea_cli__key_import(int argc, char **argv);

/*
 * Opens the session of the profile in `common` as cardea_cli__client_open
 * does, with the token pair or else the login and $CARDEA_PASSWORD, but
 * with `strategies`. They are borrowed and must outlive the session.
 * Returns false after printing an error.
 */
bool cardea_cli__key_open(cardea_cli_client *client,
                          const cardea_cli_common *common,
                          const cardea_crypto_strategies *strategies);

/* Closes a session from cardea_cli__key_open. */
void cardea_cli__key_close(cardea_cli_client *client);

/*
 * Reads a passphrase: $CARDEA_PASSPHRASE when set, else from /dev/tty
 * with echo off, twice when `confirm` is set. Returns false after
 * printing an error. Wipe `out` after use.
 */
bool cardea_cli__passphrase(char *out, size_t out_cap, bool confirm);

#endif
