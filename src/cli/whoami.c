/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea whoami`: opens a session with the saved profile and prints who
 * it is: server, login, user and data owner, and the fingerprints of the
 * private keys the session holds (public fingerprints, never the keys).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "sdk/sdk.h"

static const char usage_text[] =
    "usage: cardea whoami [OPTIONS]\n"
    "\n"
    "Prints the server, login, user id, data owner and key fingerprints\n"
    "of a profile, after checking that its login is still valid.\n"
    "\n" CARDEA_CLI_COMMON_HELP;

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

static json_t *
describe(const cardea_cli_client *client, const cardea_key_fingerprint *keys,
         size_t key_count)
{
    cardea_session *session = client->session;
    const char *owner_type =
        cardea_sdk__type_name(cardea_session_data_owner_type(session));
    json_t *list = json_array();
    json_t *doc;

    for (size_t i = 0; list != NULL && i < key_count; i++) {
        if (json_array_append_new(
                list, json_pack("{s:s, s:s, s:b, s:b}", "fingerprint",
                                keys[i].fp_v1, "dataOwnerId",
                                keys[i].data_owner_id, "verified",
                                keys[i].verified, "device", keys[i].device))
            != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (list == NULL) {
        return NULL;
    }
    doc = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:o}", "profile",
                    client->profile.name, "server", client->profile.server,
                    "login", client->profile.login, "userId",
                    cardea_session_user_id(session), "dataOwnerId",
                    cardea_session_data_owner_id(session), "dataOwnerType",
                    owner_type, "keys", list);
    return doc;
}

static void
print_text(const json_t *doc)
{
    json_t *key;
    size_t index;

    printf("profile:     %s\n", cardea_json__get_str(doc, "profile"));
    printf("server:      %s\n", cardea_json__get_str(doc, "server"));
    printf("login:       %s\n", cardea_json__get_str(doc, "login"));
    printf("user id:     %s\n", cardea_json__get_str(doc, "userId") != NULL
                                    ? cardea_json__get_str(doc, "userId")
                                    : "(unknown)");
    printf("data owner:  %s %s\n", cardea_json__get_str(doc, "dataOwnerType"),
           cardea_json__get_str(doc, "dataOwnerId"));
    json_array_foreach(json_object_get(doc, "keys"), index, key) {
        printf("key:         %s of %s%s%s\n",
               cardea_json__get_str(key, "fingerprint"),
               cardea_json__get_str(key, "dataOwnerId"),
               json_is_true(json_object_get(key, "verified"))
                   ? ", verified" : "",
               json_is_true(json_object_get(key, "device"))
                   ? ", made on this device" : "");
    }
}

/* see cli/cli.h */
int
cardea_cli__whoami(int argc, char **argv)
{
    cardea_cli_common common;
    cardea_cli_client client;
    cardea_key_fingerprint *keys = NULL;
    size_t key_count = 0;
    bool exit_now = false;
    json_t *doc = NULL;
    int status = CARDEA_CLI_FAILED;

    cardea_cli__common_init(&common);
    optind = 1;
    if (cardea_cli__next_option(&common, argc, argv, long_options,
                                usage_text, &exit_now)
        != -1) {
        fputs("Run 'cardea whoami --help' for the options.\n", stderr);
        return CARDEA_CLI_USAGE;
    }
    if (exit_now) {
        return CARDEA_CLI_OK;
    }
    if (optind < argc) {
        cardea_cli__error("unexpected argument '%s'", argv[optind]);
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &common)) {
        return CARDEA_CLI_FAILED;
    }
    if (cardea_session_key_fingerprints(&keys, &key_count, client.session)
            != CARDEA_OK
        || (doc = describe(&client, keys, key_count)) == NULL) {
        cardea_cli__error("out of memory");
        goto out;
    }
    if (common.json) {
        status = cardea_cli__print_json(doc, true) ? CARDEA_CLI_OK
                                                   : CARDEA_CLI_FAILED;
    } else {
        print_text(doc);
        status = CARDEA_CLI_OK;
    }

out:
    json_decref(doc);
    cardea_free(keys);
    cardea_cli__client_close(&client);
    return status;
}
