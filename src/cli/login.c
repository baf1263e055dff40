/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea login`: checks the credentials by opening a session, which
 * also creates and publishes the user's key pair on a first login, and
 * saves the profile (server URL, login and token pair). The password
 * comes from $CARDEA_PASSWORD or from a prompt without echo on the
 * terminal, never from the command line. Key files given with --key-file
 * are encrypted exports of `cardea key export`, decrypted before anything
 * is saved, so a wrong passphrase leaves no profile behind. A login that
 * fails later (wrong password, server down) removes the folders it
 * created.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "sdk/sdk.h"

/* Maximum password length read from the terminal, in bytes. */
#define PASSWORD_MAX 1024
/* Maximum number of --key-file options. */
#define KEY_FILES_MAX 16

static const char usage_text[] =
    "usage: cardea login --server URL --user LOGIN [OPTIONS]\n"
    "\n"
    "Logs in, creates the user's key pair on a first login, and saves the\n"
    "profile: server URL, login and tokens in <config>/<profile>/\n"
    "profile.json (mode 0600) and the keys in <config>/<profile>/keys/.\n"
    "The password comes from $CARDEA_PASSWORD, else from a prompt on the\n"
    "terminal.\n"
    "\n"
    "  --server URL      server root, such as http://127.0.0.1:16043\n"
    "  --user LOGIN      login of the user\n"
    "  --key-file FILE   encrypted key pairs from 'cardea key export' to\n"
    "                    use, such as the parent HCP's (repeatable, at\n"
    "                    most 16); the passphrase comes from\n"
    "                    $CARDEA_PASSPHRASE, else from a prompt, and the\n"
    "                    pairs are saved in the profile's key store\n"
    CARDEA_CLI_COMMON_HELP;

enum { OPT_SERVER = 1, OPT_USER, OPT_KEY_FILE };

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {"server", required_argument, NULL, OPT_SERVER},
    {"user", required_argument, NULL, OPT_USER},
    {"key-file", required_argument, NULL, OPT_KEY_FILE},
    {NULL, 0, NULL, 0},
};

static bool
valid_server(char *url)
{
    size_t len = strlen(url);

    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        cardea_cli__error("invalid --server '%s'; give a URL such as "
                          "http://127.0.0.1:16043", url);
        return false;
    }
    while (len > 0 && url[len - 1] == '/') {
        url[--len] = '\0';
    }
    return true;
}

static void
print_result(const cardea_cli_client *client, bool json)
{
    cardea_session *session = client->session;
    const char *user_id = cardea_session_user_id(session);
    cardea_data_owner_type type = cardea_session_data_owner_type(session);
    const char *type_name = cardea_sdk__type_name(type);
    json_t *doc;

    if (!json) {
        printf("Logged in as %s (%s %s) on %s; profile '%s' saved in %s\n",
               client->profile.login, type_name,
               cardea_session_data_owner_id(session), client->profile.server,
               client->profile.name, client->profile.dir);
        return;
    }
    doc = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s}", "profile",
                    client->profile.name, "server", client->profile.server,
                    "login", client->profile.login, "userId", user_id,
                    "dataOwnerId", cardea_session_data_owner_id(session),
                    "dataOwnerType", type_name);
    if (doc != NULL) {
        (void)cardea_cli__print_json(doc, true);
    }
    json_decref(doc);
}

typedef struct login_args {
    cardea_cli_common common;
    const char *server;
    const char *user;
    const char *key_files[KEY_FILES_MAX];
    size_t key_file_count;
    cardea_cli_key_pairs keys;
    bool exit_now;
} login_args;

static bool
parse_args(login_args *args, int argc, char **argv)
{
    int option;

    optind = 1;
    while ((option = cardea_cli__next_option(&args->common, argc, argv,
                                             long_options, usage_text,
                                             &args->exit_now))
           != -1) {
        if (option == OPT_SERVER) {
            args->server = optarg;
        } else if (option == OPT_USER) {
            args->user = optarg;
        } else if (option != OPT_KEY_FILE) {
            return false;
        } else if (args->key_file_count == KEY_FILES_MAX) {
            cardea_cli__error("more than %d --key-file options",
                              KEY_FILES_MAX);
            return false;
        } else {
            args->key_files[args->key_file_count++] = optarg;
        }
    }
    if (optind < argc) {
        cardea_cli__error("unexpected argument '%s'; the password is never "
                          "given on the command line", argv[optind]);
        return false;
    }
    return true;
}

/* The folders a login may create, outermost first. */
typedef struct new_folders {
    char paths[3][CARDEA_CLI_PATH_MAX];
    bool existed[3];
} new_folders;

/* Records which folders of `profile` exist before the login. */
static void
folders_note(new_folders *folders, const cardea_cli_profile *profile)
{
    struct stat st;
    char *slash;

    snprintf(folders->paths[0], sizeof folders->paths[0], "%s",
             profile->dir);
    slash = strrchr(folders->paths[0], '/');
    if (slash != NULL && slash != folders->paths[0]) {
        *slash = '\0';
    }
    snprintf(folders->paths[1], sizeof folders->paths[1], "%s",
             profile->dir);
    snprintf(folders->paths[2], sizeof folders->paths[2], "%s",
             profile->key_dir);
    for (size_t i = 0; i < 3; i++) {
        folders->existed[i] = lstat(folders->paths[i], &st) == 0;
    }
}

/*
 * Removes the folders this login created, innermost first. rmdir removes
 * only empty folders, so key pairs a session already saved stay.
 */
static void
folders_undo(const new_folders *folders)
{
    for (size_t i = 3; i-- > 0;) {
        if (!folders->existed[i]) {
            (void)rmdir(folders->paths[i]);
        }
    }
}

/* Decrypts every --key-file into args->keys; false after an error. */
static bool
read_key_files(login_args *args)
{
    for (size_t i = 0; i < args->key_file_count; i++) {
        if (!cardea_cli__key_pairs_read(&args->keys, args->key_files[i])) {
            return false;
        }
    }
    return true;
}

/*
 * Decrypts the key files and reads the password, and saves nothing until
 * both succeeded and the server accepted the password.
 */
static int
run_login(login_args *args)
{
    cardea_cli_client client = {0};
    new_folders folders;
    char password[PASSWORD_MAX + 2] = "";
    const char *env_password = getenv("CARDEA_PASSWORD");
    int status = CARDEA_CLI_FAILED;

    if (!cardea_cli__profile_locate(&client.profile, &args->common)) {
        return CARDEA_CLI_USAGE;
    }
    client.profile.server = cardea_mem__strdup(args->server);
    client.profile.login = cardea_mem__strdup(args->user);
    if (client.profile.server == NULL || client.profile.login == NULL) {
        cardea_cli__error("out of memory");
        goto out;
    }
    if (!valid_server(client.profile.server)) {
        status = CARDEA_CLI_USAGE;
        goto out;
    }
    if (!read_key_files(args)) {
        goto out;
    }
    if (env_password != NULL && env_password[0] != '\0') {
        snprintf(password, sizeof password, "%s", env_password);
    } else if (!cardea_cli__prompt_secret(password, sizeof password,
                                          "Password for %s: ",
                                          args->user)) {
        cardea_cli__error("no password: set CARDEA_PASSWORD or run 'cardea "
                          "login' on a terminal");
        goto out;
    }
    folders_note(&folders, &client.profile);
    if (!cardea_cli__profile_mkdir(&client.profile)
        || !cardea_cli__client_login(&client, password, &args->keys)
        || !cardea_cli__profile_save(&client.profile)) {
        folders_undo(&folders);
        goto out;
    }
    print_result(&client, args->common.json);
    status = CARDEA_CLI_OK;

out:
    cardea_wipe(password, sizeof password);
    cardea_cli__client_close(&client);
    return status;
}

/* see cli/cli.h */
int
cardea_cli__login(int argc, char **argv)
{
    login_args args = {0};
    int status;

    cardea_cli__common_init(&args.common);
    if (!parse_args(&args, argc, argv)) {
        fputs("Run 'cardea login --help' for the options.\n", stderr);
        cardea_cli__key_pairs_free(&args.keys);
        return CARDEA_CLI_USAGE;
    }
    if (args.exit_now) {
        status = CARDEA_CLI_OK;
    } else if (args.server == NULL || args.user == NULL) {
        cardea_cli__error("login needs --server URL and --user LOGIN");
        status = CARDEA_CLI_USAGE;
    } else {
        status = run_login(&args);
    }
    cardea_cli__key_pairs_free(&args.keys);
    return status;
}
