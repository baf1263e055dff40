/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea keys export`: writes the user's own key pairs to a file, and
 * the reader of such files for `cardea login --key-file`. An HCP beneath
 * a parent HCP (a doctor in a hospital) needs a verified key of the
 * parent to open a session, as in iCure, so the parent exports its pair
 * once and each child logs in with it. The file contains private keys,
 * so it is created with mode 0600 and should be removed once used.
 *
 * File format: {"keyPairs": [{"dataOwnerId": ID, "privateKey": hex of
 * DER PKCS#8, "publicKey": hex of DER SPKI}, ...]}.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "sdk/sdk.h"

/* Largest key file read: a few 2048- or 4096-bit pairs in hex. */
#define KEY_FILE_MAX ((size_t)256 << 10)

static const char usage_text[] =
    "usage: cardea keys export --output FILE [OPTIONS]\n"
    "\n"
    "Writes the key pairs of the profile's own data owner that are\n"
    "verified or were created on this machine to FILE (mode 0600). A\n"
    "child HCP logs in with 'cardea login --key-file FILE' to use the\n"
    "keys of its parent. FILE contains private keys: remove it after use.\n"
    "\n"
    "  --output FILE     file to create\n" CARDEA_CLI_COMMON_HELP;

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {"output", required_argument, NULL, 1},
    {NULL, 0, NULL, 0},
};

/* Adds one pair of the user's own data owner to `pairs`. */
static cardea_err
add_pair(json_t *pairs, cardea_session *session, const cardea_sdk_key *key)
{
    const char *owner = session->owners[key->owner].id;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *hex = NULL;
    cardea_keystore_kind kind;
    json_t *row;
    cardea_err err;

    err = cardea_keystore__load_key(&der, &der_len, &kind, session->keystore,
                                    owner, key->fp_v1, NULL, 0);
    if (err == CARDEA_OK) {
        err = cardea_hex__encode_alloc(&hex, der, der_len);
    }
    cardea_mem__free_secret(der, der_len);
    if (err != CARDEA_OK) {
        return err;
    }
    row = json_pack("{s:s, s:s, s:s}", "dataOwnerId", owner, "privateKey",
                    hex, "publicKey", key->spki_hex);
    cardea_mem__free_secret(hex, strlen(hex));
    return row != NULL ? cardea_json__append_new(pairs, row) : CARDEA_ENOMEM;
}

static bool
write_private(const char *path, const char *text)
{
    size_t len = strlen(text);
    ssize_t written;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        cardea_cli__error("cannot create %s: %s; remove it first or choose "
                          "another --output", path, strerror(errno));
        return false;
    }
    written = write(fd, text, len);
    if (written < 0 || (size_t)written != len || close(fd) != 0) {
        cardea_cli__error("cannot write %s", path);
        (void)unlink(path);
        return false;
    }
    return true;
}

static int
export_keys(cardea_cli_client *client, const char *output)
{
    cardea_session *session = client->session;
    size_t self = session->owner_count - 1;
    json_t *pairs = json_array();
    json_t *doc = NULL;
    char *text = NULL;
    cardea_err err = pairs != NULL ? CARDEA_OK : CARDEA_ENOMEM;
    bool ok = false;

    for (size_t i = 0; i < session->key_count && err == CARDEA_OK; i++) {
        if (session->keys[i].owner == self
            && cardea_sdk__key_is_safe(&session->keys[i])) {
            err = add_pair(pairs, session, &session->keys[i]);
        }
    }
    if (err == CARDEA_OK && json_array_size(pairs) == 0) {
        cardea_cli__error("profile '%s' holds no verified key of its own; "
                          "log in on the machine that created it",
                          client->profile.name);
        json_decref(pairs);
        return CARDEA_CLI_FAILED;
    }
    if (err == CARDEA_OK) {
        doc = json_pack("{s:o}", "keyPairs", pairs);
        pairs = NULL;
        text = doc != NULL ? cardea_json__dump(doc) : NULL;
    }
    if (text == NULL) {
        cardea_cli__error("cannot read the keys of profile '%s' from its key "
                          "store: %s", client->profile.name,
                          cardea_strerror(err != CARDEA_OK ? err
                                                           : CARDEA_ENOMEM));
    } else {
        ok = write_private(output, text);
        cardea_mem__free_secret(text, strlen(text));
    }
    json_decref(pairs);
    json_decref(doc);
    if (ok) {
        printf("Wrote the key pairs of %s to %s (mode 0600)\n",
               cardea_session_data_owner_id(session), output);
    }
    return ok ? CARDEA_CLI_OK : CARDEA_CLI_FAILED;
}

/* see cli/cli.h */
int
cardea_cli__keys(int argc, char **argv)
{
    cardea_cli_common common;
    cardea_cli_client client;
    const char *output = NULL;
    bool exit_now = false;
    int option;
    int status;

    cardea_cli__common_init(&common);
    optind = 2;
    if (argc < 2 || strcmp(argv[1], "export") != 0) {
        if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
            fputs(usage_text, stdout);
            return CARDEA_CLI_OK;
        }
        fputs(usage_text, stderr);
        return CARDEA_CLI_USAGE;
    }
    while ((option = getopt_long(argc, argv, "", long_options, NULL))
           != -1) {
        if (cardea_cli__common_option(&common, option, optarg, usage_text,
                                      &exit_now)) {
            continue;
        }
        if (option != 1) {
            fputs("Run 'cardea keys --help' for the options.\n", stderr);
            return CARDEA_CLI_USAGE;
        }
        output = optarg;
    }
    if (exit_now) {
        return CARDEA_CLI_OK;
    }
    if (output == NULL || optind < argc) {
        cardea_cli__error("keys export needs --output FILE and no other "
                          "argument");
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &common)) {
        return CARDEA_CLI_FAILED;
    }
    status = export_keys(&client, output);
    cardea_cli__client_close(&client);
    return status;
}

/* ---- reading key files -------------------------------------------------- */

/* see cli/cli.h */
void
cardea_cli__key_pairs_free(cardea_cli_key_pairs *pairs)
{
    for (size_t i = 0; i < pairs->count; i++) {
        char *pkcs8 = (char *)pairs->items[i].pkcs8_hex;

        if (pkcs8 != NULL) {
            cardea_mem__free_secret(pkcs8, strlen(pkcs8));
        }
        cardea_mem__free((char *)pairs->items[i].spki_hex);
    }
    cardea_mem__free(pairs->items);
    memset(pairs, 0, sizeof *pairs);
}

static bool
read_key_file(json_t **out, const char *path)
{
    uint8_t buf[KEY_FILE_MAX + 1];
    FILE *file = fopen(path, "rb");
    size_t len;
    cardea_err err;

    if (file == NULL) {
        cardea_cli__error("cannot open the key file %s: %s", path,
                          strerror(errno));
        return false;
    }
    len = fread(buf, 1, sizeof buf, file);
    fclose(file);
    err = len <= KEY_FILE_MAX
              ? cardea_json__parse(out, (const char *)buf, len, NULL, 0)
              : CARDEA_ETOOBIG;
    cardea_wipe(buf, sizeof buf);
    if (err != CARDEA_OK) {
        cardea_cli__error("%s is not a key file of 'cardea keys export'",
                          path);
        return false;
    }
    return true;
}

static bool
add_file_pairs(cardea_cli_key_pairs *pairs, const json_t *doc)
{
    const json_t *list = json_object_get(doc, "keyPairs");
    json_t *row;
    size_t index;

    json_array_foreach(list, index, row) {
        const char *pkcs8 = cardea_json__get_str(row, "privateKey");
        const char *spki = cardea_json__get_str(row, "publicKey");
        cardea_key_pair_hex *grown;

        if (pkcs8 == NULL || spki == NULL) {
            return false;
        }
        grown = cardea_mem__realloc(pairs->items,
                                    (pairs->count + 1) * sizeof *grown);
        if (grown == NULL) {
            return false;
        }
        pairs->items = grown;
        grown[pairs->count].pkcs8_hex = cardea_mem__strdup(pkcs8);
        grown[pairs->count].spki_hex = cardea_mem__strdup(spki);
        pairs->count++;
        if (grown[pairs->count - 1].pkcs8_hex == NULL
            || grown[pairs->count - 1].spki_hex == NULL) {
            return false;
        }
    }
    return json_array_size(list) > 0;
}

/* see cli/cli.h */
bool
cardea_cli__key_pairs_read(cardea_cli_key_pairs *pairs, const char *path)
{
    json_t *doc = NULL;
    bool ok;

    if (!read_key_file(&doc, path)) {
        return false;
    }
    ok = add_file_pairs(pairs, doc);
    json_decref(doc);
    if (!ok) {
        cardea_cli__error("%s holds no complete key pair; export it again "
                          "with 'cardea keys export'", path);
    }
    return ok;
}
