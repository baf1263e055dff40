/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea get TYPE ID`: fetches one entity and prints it decrypted. The
 * human form leaves out the encryption and sharing bookkeeping; --json
 * prints the entity as the SDK returns it. For a document, --attachment
 * FILE also writes the decrypted attachment (mode 0600).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"

static const char usage_text[] =
    "usage: cardea get TYPE ID [OPTIONS]\n"
    "\n"
    "Fetches one entity and prints it decrypted. TYPE is patient,\n"
    "healthelement, contact or document.\n"
    "\n"
    "  --attachment FILE write the decrypted attachment of a document to\n"
    "                    FILE (created with mode 0600)\n"
    CARDEA_CLI_COMMON_HELP;

enum { OPT_ATTACHMENT = 1 };

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {"attachment", required_argument, NULL, OPT_ATTACHMENT},
    {NULL, 0, NULL, 0},
};

static bool
write_file(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;

    if (fd < 0) {
        cardea_cli__error("cannot create %s: %s", path, strerror(errno));
        return false;
    }
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);

        if (n <= 0) {
            cardea_cli__error("cannot write %s: %s", path, strerror(errno));
            close(fd);
            return false;
        }
        done += (size_t)n;
    }
    close(fd);
    return true;
}

static bool
save_attachment(cardea_cli_client *client, const char *id, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char what[128];
    bool ok;
    cardea_err err = cardea_document_get_attachment(&data, &len,
                                                    client->session, id);

    if (err != CARDEA_OK) {
        snprintf(what, sizeof what, "attachment of document %s", id);
        cardea_cli__session_error(client, err, what);
        return false;
    }
    ok = write_file(path, data, len);
    cardea_mem__free_secret(data, len);
    return ok;
}

static bool
print_entity(const char *text, bool json)
{
    json_t *entity = NULL;
    bool ok;

    if (cardea_json__parse(&entity, text, strlen(text), NULL, 0)
        != CARDEA_OK) {
        cardea_cli__error("the SDK returned invalid JSON");
        return false;
    }
    if (!json) {
        cardea_cli__strip_bookkeeping(entity);
    }
    ok = cardea_cli__print_json(entity, json);
    json_decref(entity);
    return ok;
}

/* see cli/cli.h */
int
cardea_cli__get(int argc, char **argv)
{
    cardea_cli_common common;
    cardea_cli_client client;
    cardea_entity_type type;
    const char *attachment = NULL;
    bool exit_now = false;
    char *text = NULL;
    char what[128];
    int option;
    int status = CARDEA_CLI_FAILED;
    cardea_err err;

    cardea_cli__common_init(&common);
    optind = 1;
    while ((option = cardea_cli__next_option(&common, argc, argv,
                                             long_options, usage_text,
                                             &exit_now))
           != -1) {
        if (option != OPT_ATTACHMENT) {
            fputs("Run 'cardea get --help' for the options.\n", stderr);
            return CARDEA_CLI_USAGE;
        }
        attachment = optarg;
    }
    if (exit_now) {
        return CARDEA_CLI_OK;
    }
    if (argc - optind != 2) {
        cardea_cli__error("get needs TYPE and ID");
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__type_arg(&type, argv[optind])) {
        return CARDEA_CLI_USAGE;
    }
    if (attachment != NULL && type != CARDEA_ENTITY_DOCUMENT) {
        cardea_cli__error("--attachment applies to documents only");
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &common)) {
        return CARDEA_CLI_FAILED;
    }
    err = cardea_entity_get(&text, client.session, type, argv[optind + 1]);
    if (err != CARDEA_OK) {
        snprintf(what, sizeof what, "%s %s", cardea_cli__type_word(type),
                 argv[optind + 1]);
        cardea_cli__session_error(&client, err, what);
    } else if (print_entity(text, common.json)
               && (attachment == NULL
                   || save_attachment(&client, argv[optind + 1],
                                      attachment))) {
        status = CARDEA_CLI_OK;
    }
    if (text != NULL) {
        cardea_mem__free_secret(text, strlen(text));
    }
    cardea_cli__client_close(&client);
    return status;
}
