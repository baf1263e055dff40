/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea access-back`: give-access-back between a user that lost its
 * keys and its counterparts. `request` requests every counterpart to add
 * the user's new key to the exchange data they share (KEY_PAIR_UPDATE
 * maintenance tasks). `list` shows the requests addressed to the user
 * with the fingerprint to compare out of band. `apply ID` gives access
 * back to the requester's new key.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/key.h"

static const char usage_text[] =
    "usage: cardea access-back COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  list                      show the key-pair update requests\n"
    "                            addressed to the user\n"
    "  apply ID [--fingerprint FP]\n"
    "                            give the requester's new key access to\n"
    "                            the data shared with it; with\n"
    "                            --fingerprint, only when the key has the\n"
    "                            fingerprint the requester gave you\n"
    "  request [--key FP]        after losing your keys, ask your\n"
    "                            counterparts to give access back to your\n"
    "                            new key (default: the newest key made on\n"
    "                            this device)\n"
    "\n"
    "  --profile NAME, --config-dir DIR, --json, --help as in every\n"
    "  client command\n";

typedef struct args {
    cardea_cli_common common;
    const char *fingerprint;
    const char *key;
} args;

/* Parses the options after the command word. Returns -1 to go on, or
 * the exit status when the command must stop (after --help or a usage
 * error). */
static int
parse(args *a, int argc, char **argv)
{
    static const struct option options[] = {
        CARDEA_CLI_COMMON_OPTIONS,
        {"fingerprint", required_argument, NULL, 1},
        {"key", required_argument, NULL, 2},
        {NULL, 0, NULL, 0},
    };
    bool exit_now = false;
    int opt;

    memset(a, 0, sizeof *a);
    cardea_cli__common_init(&a->common);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (cardea_cli__common_option(&a->common, opt, optarg, usage_text,
                                      &exit_now)) {
            if (exit_now) {
                return CARDEA_CLI_OK;
            }
        } else if (opt == 1) {
            a->fingerprint = optarg;
        } else if (opt == 2) {
            a->key = optarg;
        } else {
            fputs(usage_text, stderr);
            return CARDEA_CLI_USAGE;
        }
    }
    return -1;
}

static int
list(const args *a)
{
    cardea_cli_client client;
    cardea_key_pair_update *updates = NULL;
    size_t count = 0;
    json_t *out;
    int status = CARDEA_CLI_OK;
    cardea_err err;

    if (!cardea_cli__client_open(&client, &a->common)) {
        return CARDEA_CLI_FAILED;
    }
    err = cardea_access_back_list(&updates, &count, client.session);
    if (err != CARDEA_OK) {
        cardea_cli__session_error(&client, err, "listing the requests");
        cardea_cli__client_close(&client);
        return CARDEA_CLI_FAILED;
    }
    out = json_array();
    for (size_t i = 0; i < count; i++) {
        if (a->common.json) {
            json_array_append_new(
                out, json_pack("{s:s, s:s, s:s}", "id", updates[i].task_id,
                               "dataOwnerId", updates[i].data_owner_id,
                               "fingerprint", updates[i].fp_v1));
        } else {
            printf("%s  from %s  new key %s\n", updates[i].task_id,
                   updates[i].data_owner_id, updates[i].fp_v1);
        }
    }
    if (a->common.json) {
        status = cardea_cli__print_json(out, false) ? CARDEA_CLI_OK
                                                    : CARDEA_CLI_FAILED;
    } else if (count == 0) {
        printf("no pending key-pair update request\n");
    }
    json_decref(out);
    cardea_key_pair_updates_free(updates, count);
    cardea_cli__client_close(&client);
    return status;
}

/* Finds the request `id` among the pending ones, or returns NULL. */
static const cardea_key_pair_update *
find_update(const cardea_key_pair_update *updates, size_t count,
            const char *id)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(updates[i].task_id, id) == 0) {
            return &updates[i];
        }
    }
    return NULL;
}

static int
apply(const args *a, const char *id)
{
    cardea_cli_client client;
    cardea_key_pair_update *updates = NULL;
    const cardea_key_pair_update *found;
    size_t count = 0;
    size_t updated = 0;
    int status = CARDEA_CLI_FAILED;
    cardea_err err;

    if (!cardea_cli__client_open(&client, &a->common)) {
        return status;
    }
    err = cardea_access_back_list(&updates, &count, client.session);
    if (err != CARDEA_OK) {
        cardea_cli__session_error(&client, err, "reading the requests");
        goto out;
    }
    if ((found = find_update(updates, count, id)) == NULL) {
        cardea_cli__error("no pending key-pair update request %s; run "
                          "'cardea access-back list'", id);
        goto out;
    }
    if (a->fingerprint != NULL &&
        strcasecmp(a->fingerprint, found->fp_v1) != 0) {
        cardea_cli__error("the new key of request %s has fingerprint %s, "
                          "not %s; not applied", id, found->fp_v1,
                          a->fingerprint);
        goto out;
    }
    err = cardea_access_back_apply_task(&updated, client.session, id);
    if (err != CARDEA_OK) {
        cardea_cli__session_error(&client, err, "giving access back");
        goto out;
    }
    printf("gave key %s of %s access to %zu exchange data\n", found->fp_v1,
           found->data_owner_id, updated);
    status = CARDEA_CLI_OK;

out:
    cardea_key_pair_updates_free(updates, count);
    cardea_cli__client_close(&client);
    return status;
}

static int
request(const args *a)
{
    cardea_cli_client client;
    size_t created = 0;
    cardea_err err;

    if (!cardea_cli__client_open(&client, &a->common)) {
        return CARDEA_CLI_FAILED;
    }
    err = cardea_access_back_request(&created, client.session, a->key, 0);
    if (err != CARDEA_OK) {
        cardea_cli__session_error(&client, err, "requesting access back");
        cardea_cli__client_close(&client);
        return CARDEA_CLI_FAILED;
    }
    printf("asked %zu %s to give access back\n", created,
           cardea_cli__plural(created, "counterpart", "counterparts"));
    cardea_cli__client_close(&client);
    return CARDEA_CLI_OK;
}

/* see cli/key.h */
int
cardea_cli__access_back(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    args a;
    int status;

    if (sub == NULL || strcmp(sub, "--help") == 0) {
        fputs(usage_text, sub == NULL ? stderr : stdout);
        return sub == NULL ? CARDEA_CLI_USAGE : CARDEA_CLI_OK;
    }
    if ((status = parse(&a, argc - 1, argv + 1)) >= 0) {
        return status;
    }
    if (strcmp(sub, "list") == 0 && optind == argc - 1) {
        return list(&a);
    }
    if (strcmp(sub, "apply") == 0 && optind + 1 == argc - 1) {
        return apply(&a, argv[1 + optind]);
    }
    if (strcmp(sub, "request") == 0 && optind == argc - 1) {
        return request(&a);
    }
    fputs(usage_text, stderr);
    return CARDEA_CLI_USAGE;
}
