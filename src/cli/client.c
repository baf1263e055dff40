/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plumbing of the client commands: the common options, opening a session
 * from a profile, error messages for session failures, entity type names
 * and JSON output. Every client session uses the simple crypto
 * strategies with their default choice (patients anonymous, HCPs and
 * devices explicit) and the manifests of the FHIR mapping, so that
 * every field the import sets is encrypted.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>

#include "base/base.h"
#include "cli/cli.h"
#include "sdk/sdk.h"

/* Values of the common options given before the subcommand name. */
static cardea_cli_common globals;

/* see cli/cli.h */
void
cardea_cli__common_init(cardea_cli_common *common)
{
    *common = globals;
}

/* see cli/cli.h */
void
cardea_cli__set_global(int option, const char *value)
{
    bool exit_now = false;

    (void)cardea_cli__common_option(&globals, option, value, NULL,
                                    &exit_now);
}

/* see cli/cli.h */
bool
cardea_cli__common_option(cardea_cli_common *common, int option,
                          const char *value, const char *help,
                          bool *exit_now)
{
    switch (option) {
    case CARDEA_CLI_OPT_PROFILE:
        common->profile = value;
        return true;
    case CARDEA_CLI_OPT_CONFIG_DIR:
        common->config_dir = value;
        return true;
    case CARDEA_CLI_OPT_JSON:
        common->json = true;
        return true;
    case CARDEA_CLI_OPT_HELP:
        if (help != NULL) {
            fputs(help, stdout);
        }
        *exit_now = true;
        return true;
    default:
        return false;
    }
}

/* ---- sessions ----------------------------------------------------------- */

/* see cli/cli.h */
bool
cardea_cli__session_options(cardea_session_options *opts,
                            const cardea_cli_profile *profile,
                            const cardea_crypto_strategies *strategies,
                            char *errmsg, size_t errmsg_cap)
{
    cardea_session_options defaults = CARDEA_SESSION_OPTIONS_INIT;

    *opts = defaults;
    opts->base_url = profile->server;
    opts->key_store_dir = profile->key_dir;
    opts->strategies = strategies;
    opts->errmsg_buf = errmsg;
    opts->errmsg_cap = errmsg_cap;
    return cardea_cli__encrypted_fields(opts);
}

static void
print_open_error(const cardea_cli_profile *profile, cardea_err err,
                 const char *message)
{
    switch (err) {
    case CARDEA_EAUTH:
        cardea_cli__error("%s refused the login of profile '%s' (%s); run "
                          "'cardea login --server %s --user %s --profile "
                          "%s' again", profile->server, profile->name,
                          message, profile->server, profile->login,
                          profile->name);
        break;
    case CARDEA_ENETWORK:
        cardea_cli__error("cannot reach the server %s (%s); check that it "
                          "runs and that the URL is right",
                          profile->server, message);
        break;
    default:
        cardea_cli__error("cannot open a session for profile '%s' on %s: "
                          "%s: %s", profile->name, profile->server,
                          cardea_strerror(err), message);
        break;
    }
}

static bool
new_strategies(cardea_cli_client *client, const cardea_cli_key_pairs *keys)
{
    cardea_simple_strategies_options opts =
        CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT;
    cardea_err err;

    if (keys != NULL) {
        opts.available_keys = keys->items;
        opts.available_key_count = keys->count;
    }
    err = cardea_simple_strategies_new(&client->strategies, &opts);

    if (err != CARDEA_OK) {
        cardea_cli__error("cannot set up the crypto strategies: %s",
                          cardea_strerror(err));
        return false;
    }
    return true;
}

static cardea_err
open_with(cardea_cli_client *client,
          const cardea_crypto_strategies *strategies, const char *password,
          char *errmsg, size_t errmsg_cap)
{
    cardea_session_options opts;

    client->encrypted_fields = cardea_cli__session_options(
        &opts, &client->profile, strategies, errmsg, errmsg_cap);
    if (password != NULL) {
        opts.login = client->profile.login;
        opts.password = password;
    } else {
        opts.token = client->profile.token;
        opts.refresh_token = client->profile.refresh_token;
    }
    return cardea_session_open(&client->session, &opts);
}

/* see cli/cli.h */
int
cardea_cli__next_option(cardea_cli_common *common, int argc, char **argv,
                        const struct option *options, const char *help,
                        bool *exit_now)
{
    int option;

    do {
        option = getopt_long(argc, argv, "", options, NULL);
    } while (option != -1
             && cardea_cli__common_option(common, option, optarg, help,
                                          exit_now));
    return option;
}

/* see cli/cli.h */
cardea_err
cardea_cli__session_open(cardea_cli_client *client,
                         const cardea_crypto_strategies *strategies,
                         char *errmsg, size_t errmsg_cap)
{
    const char *password = getenv("CARDEA_PASSWORD");
    cardea_err err = open_with(client, strategies, NULL, errmsg, errmsg_cap);

    if (err == CARDEA_EAUTH && password != NULL && password[0] != '\0') {
        err = open_with(client, strategies, password, errmsg, errmsg_cap);
    }
    return err;
}

/* see cli/cli.h */
bool
cardea_cli__client_open(cardea_cli_client *client,
                        const cardea_cli_common *common)
{
    char errmsg[512] = "";
    cardea_err err;

    memset(client, 0, sizeof *client);
    if (!cardea_cli__profile_locate(&client->profile, common)
        || !cardea_cli__profile_load(&client->profile)
        || !new_strategies(client, NULL)) {
        cardea_cli__client_close(client);
        return false;
    }
    err = cardea_cli__session_open(client, client->strategies, errmsg,
                                   sizeof errmsg);
    if (err != CARDEA_OK) {
        print_open_error(&client->profile, err, errmsg);
        cardea_cli__client_close(client);
        return false;
    }
    return true;
}

/*
 * Copies the token pair of an open session into the profile. The public
 * API does not hand tokens out, so this reads the session's own copy.
 */
static bool
take_tokens(cardea_cli_profile *profile, const cardea_session *session)
{
    char *token = cardea_mem__strdup(session->token);
    char *refresh = session->refresh_token != NULL
                        ? cardea_mem__strdup(session->refresh_token)
                        : NULL;

    if (token == NULL
        || (session->refresh_token != NULL && refresh == NULL)) {
        if (token != NULL) {
            cardea_mem__free_secret(token, strlen(token));
        }
        return false;
    }
    if (profile->token != NULL) {
        cardea_mem__free_secret(profile->token, strlen(profile->token));
    }
    if (profile->refresh_token != NULL) {
        cardea_mem__free_secret(profile->refresh_token,
                                strlen(profile->refresh_token));
    }
    profile->token = token;
    profile->refresh_token = refresh;
    return true;
}

/* see cli/cli.h */
bool
cardea_cli__client_login(cardea_cli_client *client, const char *password,
                         const cardea_cli_key_pairs *keys)
{
    char errmsg[512] = "";
    cardea_err err;

    if (!new_strategies(client, keys)) {
        return false;
    }
    err = open_with(client, client->strategies, password, errmsg,
                    sizeof errmsg);
    if (err != CARDEA_OK) {
        print_open_error(&client->profile, err, errmsg);
        return false;
    }
    if (!take_tokens(&client->profile, client->session)) {
        cardea_cli__error("out of memory while saving the login");
        return false;
    }
    return true;
}

/* see cli/cli.h */
void
cardea_cli__client_close(cardea_cli_client *client)
{
    cardea_session_close(client->session);
    cardea_simple_strategies_free(client->strategies);
    cardea_cli__profile_clear(&client->profile);
    client->session = NULL;
    client->strategies = NULL;
}

/* see cli/cli.h */
void
cardea_cli__session_error(const cardea_cli_client *client, cardea_err err,
                          const char *what)
{
    const char *message = cardea_session_errmsg(client->session);

    switch (err) {
    case CARDEA_ENOTFOUND:
        cardea_cli__error("%s: not found, or not shared with profile '%s' "
                          "(%s); check the id", what, client->profile.name,
                          message);
        break;
    case CARDEA_EACCESS:
        cardea_cli__error("%s: access denied to profile '%s' (%s); ask the "
                          "data owner to share it with --write", what,
                          client->profile.name, message);
        break;
    case CARDEA_EAUTH:
        cardea_cli__error("%s: the server refused the login (%s); run "
                          "'cardea login' again", what, message);
        break;
    case CARDEA_ENETWORK:
        cardea_cli__error("%s: cannot reach %s (%s); check that the server "
                          "runs", what, client->profile.server, message);
        break;
    default:
        cardea_cli__error("%s: %s: %s", what, cardea_strerror(err), message);
        break;
    }
}

/* ---- entity types ------------------------------------------------------- */

static const struct {
    const char *name;
    cardea_entity_type type;
} type_names[] = {
    {"patient", CARDEA_ENTITY_PATIENT},
    {"healthelement", CARDEA_ENTITY_HEALTH_ELEMENT},
    {"helement", CARDEA_ENTITY_HEALTH_ELEMENT},
    {"condition", CARDEA_ENTITY_HEALTH_ELEMENT},
    {"contact", CARDEA_ENTITY_CONTACT},
    {"encounter", CARDEA_ENTITY_CONTACT},
    {"document", CARDEA_ENTITY_DOCUMENT},
};

/* see cli/cli.h */
bool
cardea_cli__parse_type(cardea_entity_type *out, const char *name)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strcasecmp(type_names[i].name, name) == 0) {
            *out = type_names[i].type;
            return true;
        }
    }
    return false;
}

/* see cli/cli.h */
bool
cardea_cli__prompt_secret(char *out, size_t out_cap, const char *fmt, ...)
{
    struct termios saved;
    struct termios quiet;
    FILE *tty = fopen("/dev/tty", "r+");
    bool ok = false;
    va_list ap;

    if (tty == NULL) {
        return false;
    }
    if (tcgetattr(fileno(tty), &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        va_start(ap, fmt);
        vfprintf(tty, fmt, ap);
        va_end(ap);
        fflush(tty);
        if (tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0) {
            ok = fgets(out, (int)out_cap, tty) != NULL;
            (void)tcsetattr(fileno(tty), TCSAFLUSH, &saved);
            fputc('\n', tty);
        }
    }
    fclose(tty);
    if (ok) {
        out[strcspn(out, "\r\n")] = '\0';
    }
    return ok;
}

/* see cli/cli.h */
bool
cardea_cli__type_arg(cardea_entity_type *out, const char *name)
{
    if (!cardea_cli__parse_type(out, name)) {
        cardea_cli__error("unknown entity type '%s'; use patient, "
                          "healthelement, contact or document", name);
        return false;
    }
    return true;
}

/* see cli/cli.h */
const char *
cardea_cli__type_word(cardea_entity_type type)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (type_names[i].type == type) {
            return type_names[i].name;
        }
    }
    return "entity";
}

/* ---- output ------------------------------------------------------------- */

/* see cli/cli.h */
const char *
cardea_cli__plural(size_t count, const char *one, const char *many)
{
    return count == 1 ? one : many;
}

/* see cli/cli.h */
bool
cardea_cli__print_json(const json_t *value, bool compact)
{
    size_t flags = compact ? JSON_COMPACT : JSON_INDENT(2);

    if (json_dumpf(value, stdout, flags | JSON_PRESERVE_ORDER) != 0) {
        cardea_cli__error("cannot write the output: out of memory or "
                          "stdout closed");
        return false;
    }
    fputc('\n', stdout);
    return true;
}

/* see cli/cli.h */
void
cardea_cli__strip_bookkeeping(json_t *entity)
{
    static const char *const members[] = {
        "encryptedSelf", "securityMetadata", "secretForeignKeys",
        "cryptedForeignKeys", "delegations", "encryptionKeys",
    };
    json_t *child;
    size_t index;
    const char *key;

    if (json_is_object(entity)) {
        for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
            (void)json_object_del(entity, members[i]);
        }
        json_object_foreach(entity, key, child) {
            cardea_cli__strip_bookkeeping(child);
        }
    } else if (json_is_array(entity)) {
        json_array_foreach(entity, index, child) {
            cardea_cli__strip_bookkeeping(child);
        }
    }
}
