/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subcommands of the cardea command and the plumbing the client commands
 * share: the profile (server URL, login, token pair and key store under
 * the configuration folder), opening a session from it, the options every
 * client command takes, entity types and progress bars. Each subcommand
 * takes the arguments after its own name (argv[0] is the subcommand name)
 * and returns the exit status: 0 on success, 1 on an error, 2 on a usage
 * error. Errors go to stderr as "cardea: error: ...".
 */
#ifndef CARDEA_CLI_H
#define CARDEA_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "cardea/cardea.h"

/* Exit statuses. */
#define CARDEA_CLI_OK 0
#define CARDEA_CLI_FAILED 1
#define CARDEA_CLI_USAGE 2

/* Maximum profile name length. Names use letters, digits, . - _ */
#define CARDEA_CLI_PROFILE_MAX 64
#define CARDEA_CLI_PATH_MAX 4096

int cardea_cli__serve(int argc, char **argv);
int cardea_cli__admin(int argc, char **argv);
int cardea_cli__login(int argc, char **argv);
int cardea_cli__whoami(int argc, char **argv);
int cardea_cli__import(int argc, char **argv);
int cardea_cli__share(int argc, char **argv);
int cardea_cli__share_patient(int argc, char **argv);
int cardea_cli__get(int argc, char **argv);
int cardea_cli__list(int argc, char **argv);
int cardea_cli__export(int argc, char **argv);
int cardea_cli__verify(int argc, char **argv);
int cardea_cli__scan(int argc, char **argv);
int cardea_cli__fhir(int argc, char **argv);

/* Prints "cardea: error: <message>" to stderr. */
void cardea_cli__error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Parses a decimal number within [min, max]. False when invalid. */
bool cardea_cli__parse_ulong(unsigned long long *out, const char *text,
                             unsigned long long min, unsigned long long max);

/* ---- options every client command takes (client.c) --------------------- */

/*
 * Values of --profile, --config-dir and --json. Those given before the
 * subcommand name (cardea --profile p import ...) become the defaults of
 * the subcommand, which may override them.
 */
typedef struct cardea_cli_common {
    const char *profile;       /* NULL: $CARDEA_PROFILE, else "default" */
    const char *config_dir;    /* NULL: $CARDEA_CONFIG_DIR, else XDG */
    bool json;
} cardea_cli_common;

/* Option codes of the common options, for getopt_long tables. */
enum {
    CARDEA_CLI_OPT_PROFILE = 500,
    CARDEA_CLI_OPT_CONFIG_DIR,
    CARDEA_CLI_OPT_JSON,
    CARDEA_CLI_OPT_HELP,
};

/* Rows of the common options, to put at the start of a getopt table. */
#define CARDEA_CLI_COMMON_OPTIONS \
    {"profile", required_argument, NULL, CARDEA_CLI_OPT_PROFILE}, \
    {"config-dir", required_argument, NULL, CARDEA_CLI_OPT_CONFIG_DIR}, \
    {"json", no_argument, NULL, CARDEA_CLI_OPT_JSON}, \
    {"help", no_argument, NULL, CARDEA_CLI_OPT_HELP}

/* Help lines of the common options. */
#define CARDEA_CLI_COMMON_HELP \
    "  --profile NAME    profile to use (default: $CARDEA_PROFILE, else\n" \
    "                    \"default\")\n" \
    "  --config-dir DIR  folder of the profiles (default:\n" \
    "                    $CARDEA_CONFIG_DIR, else\n" \
    "                    ${XDG_CONFIG_HOME:-~/.config}/cardea)\n" \
    "  --json            print machine-readable JSON\n" \
    "  --help            print this help\n"

/* Fills `common` with the values given before the subcommand name. */
void cardea_cli__common_init(cardea_cli_common *common);

/* Records a common option given before the subcommand name. */
void cardea_cli__set_global(int option, const char *value);

/*
 * Applies one getopt_long result that is a common option. Returns true
 * when `option` was one (for --help, after printing `help` to stdout and
 * setting *exit_now), false for any other option.
 */
bool cardea_cli__common_option(cardea_cli_common *common, int option,
                               const char *value, const char *help,
                               bool *exit_now);

/* ---- profiles (profile.c) ---------------------------------------------- */

/* A profile as stored in <config>/<name>/profile.json (mode 0600). */
typedef struct cardea_cli_profile {
    char name[CARDEA_CLI_PROFILE_MAX + 1];
    char dir[CARDEA_CLI_PATH_MAX];        /* <config>/<name> */
    char key_dir[CARDEA_CLI_PATH_MAX];    /* <config>/<name>/keys */
    char *server;
    char *login;
    char *token;                          /* secret */
    char *refresh_token;                  /* secret, may be NULL */
} cardea_cli_profile;

/*
 * Resolves the profile folder of `common` without reading it. Returns
 * false after printing an error when the name or the folder is invalid.
 */
bool cardea_cli__profile_locate(cardea_cli_profile *profile,
                                const cardea_cli_common *common);

/*
 * Reads profile.json. When it is missing, prints an error that names the
 * profile and suggests running `cardea login`, then returns false.
 */
bool cardea_cli__profile_load(cardea_cli_profile *profile);

/*
 * Creates the configuration and profile folders with mode 0700, or
 * makes existing ones private. Returns false after printing an error.
 */
bool cardea_cli__profile_mkdir(const cardea_cli_profile *profile);

/*
 * Creates the folders as cardea_cli__profile_mkdir does and writes
 * profile.json with mode 0600. Returns false after printing an error.
 */
bool cardea_cli__profile_save(const cardea_cli_profile *profile);

/* Wipes the tokens and frees the strings of `profile`. */
void cardea_cli__profile_clear(cardea_cli_profile *profile);

struct option;

/*
 * Calls getopt_long over `argv` with `options`, handles the common
 * options itself (see cardea_cli__common_option) and returns the next
 * other option, or -1 at the end. `help` is printed for --help. Set
 * optind to 1 before the first call.
 */
int cardea_cli__next_option(cardea_cli_common *common, int argc,
                            char **argv, const struct option *options,
                            const char *help, bool *exit_now);

/* ---- sessions (client.c) ----------------------------------------------- */

/* An open session of one profile, with what it needs to stay open. */
typedef struct cardea_cli_client {
    cardea_cli_profile profile;
    cardea_crypto_strategies *strategies;
    cardea_session *session;
    /* The session encrypts the fields of the FHIR mapping. */
    bool encrypted_fields;
} cardea_cli_client;

/*
 * Loads the profile of `common` and opens a session with its token pair,
 * or with its login and $CARDEA_PASSWORD when the tokens are refused and
 * that variable is set. Returns false after printing an error.
 */
bool cardea_cli__client_open(cardea_cli_client *client,
                             const cardea_cli_common *common);

/*
 * Opens the session of the loaded profile in `client` with `strategies`
 * (borrowed): with the token pair, or with the login and
 * $CARDEA_PASSWORD when the server rejects the tokens and that variable
 * is set. Prints nothing, and the server's message goes to `errmsg`.
 */
cardea_err cardea_cli__session_open(cardea_cli_client *client,
                                    const cardea_crypto_strategies *strategies,
                                    char *errmsg, size_t errmsg_cap)
    CARDEA_MUST_CHECK;

/*
 * Prints the prompt made from `fmt` on /dev/tty and reads one line with
 * echo off into `out`, without its line end. Returns false when there is
 * no terminal or nothing to read. Wipe `out` after use.
 */
bool cardea_cli__prompt_secret(char *out, size_t out_cap, const char *fmt,
                               ...) __attribute__((format(printf, 3, 4)));

/* Key pairs read from files of `cardea key export` (key_file.c). */
typedef struct cardea_cli_key_pairs {
    cardea_key_pair_hex *items;   /* strings owned; private keys wiped */
    size_t count;
} cardea_cli_key_pairs;

/*
 * Decrypts one file of `cardea key export` with the passphrase from
 * $CARDEA_PASSPHRASE, else from a prompt on the terminal, and appends its
 * pairs to `pairs`. Returns false after printing an error (wrong
 * passphrase, modified or unreadable file), with `pairs` unchanged.
 */
bool cardea_cli__key_pairs_read(cardea_cli_key_pairs *pairs,
                                const char *path);
/* Frees the pairs, wiping the private keys, and empties `pairs`. */
void cardea_cli__key_pairs_free(cardea_cli_key_pairs *pairs);

/*
 * Opens a session for `profile` (located, server and login set) with
 * `password`, so that the session creates and publishes the user's key
 * pair if it has none. `keys` (may be NULL) are pairs of the user or of
 * its parents that the session takes as recovered and verified, and
 * saves in the key store. On success the profile receives the new token
 * pair.
 */
bool cardea_cli__client_login(cardea_cli_client *client,
                              const char *password,
                              const cardea_cli_key_pairs *keys);

/* Closes the session and frees everything `client` owns. */
void cardea_cli__client_close(cardea_cli_client *client);

/*
 * Fills the session options every client session shares. Returns
 * whether the options carry the manifests of the FHIR mapping (see
 * cardea_cli__encrypted_fields).
 */
bool cardea_cli__session_options(cardea_session_options *opts,
                                 const cardea_cli_profile *profile,
                                 const cardea_crypto_strategies *strategies,
                                 char *errmsg, size_t errmsg_cap);

/*
 * Adds the manifests of the FHIR mapping (cardea_fhir__manifest_entries)
 * to `opts`, so that new and modified entities encrypt every field the
 * import sets. Returns false when the SDK cannot take them.
 */
bool cardea_cli__encrypted_fields(cardea_session_options *opts);

/*
 * Prints "cardea: error: <what>: <strerror>: <session message>" and a
 * hint for the usual causes (expired login, no access, server down).
 */
void cardea_cli__session_error(const cardea_cli_client *client,
                               cardea_err err, const char *what);

/* ---- entity types (client.c) ------------------------------------------- */

/*
 * Parses an entity type name: patient, healthelement (or helement,
 * condition), contact (or encounter), document. Case is ignored. Returns
 * false for anything else.
 */
bool cardea_cli__parse_type(cardea_entity_type *out, const char *name);

/*
 * cardea_cli__parse_type for a TYPE argument: on an unknown name, prints
 * the error that lists the accepted names and returns false.
 */
bool cardea_cli__type_arg(cardea_entity_type *out, const char *name);

/* "patient", "healthelement", "contact" or "document". */
const char *cardea_cli__type_word(cardea_entity_type type);

/* ---- entities of one patient (linked.c) -------------------------------- */

/*
 * Lists the ids of the entities of `type` (HEALTH_ELEMENT, CONTACT or
 * DOCUMENT) that are linked to the patient through its secret ids and
 * that the user can see. `code_type` and `code` (both NULL, or both set)
 * narrow the list to entities with that code.
 *
 * ids (out) free with cardea_strings_free; NULL when *count is 0.
 */
cardea_err cardea_cli__patient_links(char ***ids, size_t *count,
                                     cardea_session *session,
                                     cardea_entity_type type,
                                     const char *patient_id,
                                     const char *code_type, const char *code)
    CARDEA_MUST_CHECK;

/*
 * Returns a new filter for the entities of `type` (HEALTH_ELEMENT or
 * CONTACT) that the data owner `self` can see and that carry the code
 * `code_type`|`code`, or NULL for another type or when out of memory.
 */
json_t *cardea_cli__code_filter(cardea_entity_type type, const char *self,
                                const char *code_type, const char *code);

/*
 * Fetches and decrypts the entities `ids` of `type` in pages of at most
 * 1000 ids. `out` receives a JSON array in the server's order. Entities
 * that cannot be decrypted are left out and counted in *failed.
 */
cardea_err cardea_cli__fetch_all(json_t **out, size_t *failed,
                                 cardea_session *session,
                                 cardea_entity_type type,
                                 char *const *ids, size_t count)
    CARDEA_MUST_CHECK;

/* Every entity of one patient that the user can read, decrypted. */
typedef struct cardea_cli_patient_data {
    struct cardea_fhir_entity *entities;  /* the Patient first */
    size_t count;
    size_t undecryptable;    /* fetched but not decrypted, left out */
} cardea_cli_patient_data;

/*
 * Fetches the patient and every health element, contact and document
 * linked to it, decrypted, with the documents' attachments when
 * `attachments` is set. CARDEA_ENOTFOUND when the patient cannot be read.
 * Free with cardea_cli__patient_data_free, because it contains health
 * data.
 */
cardea_err cardea_cli__patient_data(cardea_cli_patient_data *out,
                                    cardea_session *session,
                                    const char *patient_id, bool attachments)
    CARDEA_MUST_CHECK;
void cardea_cli__patient_data_free(cardea_cli_patient_data *set);

/* ---- progress bars (progress.c) ---------------------------------------- */

/* A progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct cardea_cli_progress {
    const char *label;
    size_t total;
    size_t done;
    bool enabled;
    unsigned last_width;
} cardea_cli_progress;

void cardea_cli__progress_begin(cardea_cli_progress *bar, const char *label,
                                size_t total, bool quiet);
void cardea_cli__progress_step(cardea_cli_progress *bar);
/* Erases the bar, so that the next line starts clean. */
void cardea_cli__progress_end(cardea_cli_progress *bar);

/* ---- output (client.c) ------------------------------------------------- */

/* Returns `one` when `count` is 1, else `many`: "1 file", "2 files". */
const char *cardea_cli__plural(size_t count, const char *one,
                               const char *many);

/* Prints `value` to stdout, indented unless `compact`. False on failure. */
bool cardea_cli__print_json(const json_t *value, bool compact);

/*
 * Removes, at every depth, the members that only carry encryption and
 * sharing bookkeeping (encryptedSelf, securityMetadata, secretForeignKeys,
 * cryptedForeignKeys, delegations, encryptionKeys), for human output.
 */
void cardea_cli__strip_bookkeeping(json_t *entity);

#endif
