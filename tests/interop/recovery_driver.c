/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command-line driver of Cardea's recovery API for recovery_interop.mjs,
 * which runs it beside the official SDK against one `cardea serve`. Each
 * run opens one session and prints one JSON object on stdout; errors go
 * to stderr with a non-zero exit status.
 *
 * Usage: recovery_driver URL LOGIN PASSWORD KEY_DIR COMMAND [ARG...]
 *   open                       open (generating a key when none is safe)
 *   recover-pairs KEY          open without generating a key, then use
 *                              KEYPAIR_RECOVERY data of KEY
 *   create-pairs               create KEYPAIR_RECOVERY data
 *   create-element DESCR [ID]  create a health element, shared with ID
 *   read-element ID            read a health element
 *   request-access             ask counterparts to give access back to
 *                              the newest key of this device
 *   apply-all                  apply every pending KEY_PAIR_UPDATE task
 * The recovery key is printed because the test hands it to the other
 * SDK; this program is for tests only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cardea/cardea.h"

static cardea_keygen_decision keygen = CARDEA_KEYGEN_ALLOW;
static cardea_crypto_strategies *simple;

static cardea_keygen_decision
on_generate(void *u, const cardea_data_owner_info *self,
            cardea_key_generation *pair)
{
    if (keygen != CARDEA_KEYGEN_ALLOW) {
        return keygen;
    }
    return simple->generate_new_key_for_data_owner(u, self, pair);
}

static int
fail(cardea_session *session, const char *what, cardea_err err)
{
    fprintf(stderr, "recovery_driver: error: %s failed: %s: %s\n", what,
            cardea_strerror(err), cardea_session_errmsg(session));
    return 1;
}

static json_t *
keys_json(const cardea_session *session)
{
    cardea_key_fingerprint *fps = NULL;
    size_t n = 0;
    json_t *list = json_array();

    if (cardea_session_key_fingerprints(&fps, &n, session) != CARDEA_OK) {
        return list;
    }
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, json_pack("{s:s, s:b, s:b}", "fp",
                                              fps[i].fp_v1, "verified",
                                              fps[i].verified, "device",
                                              fps[i].device));
    }
    cardea_free(fps);
    return list;
}

static int
print(json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT);

    json_decref(value);
    if (text == NULL) {
        return 1;
    }
    puts(text);
    free(text);
    return 0;
}

static int
element(cardea_session *s, int argc, char **argv, bool create)
{
    cardea_entity_create_options opts = CARDEA_ENTITY_CREATE_OPTIONS_INIT;
    cardea_entity_delegate delegate = {NULL, CARDEA_ACCESS_WRITE};
    char *out = NULL;
    json_t *body;
    json_t *entity;
    cardea_err err;
    int status;

    if (argc < 1) {
        return 2;
    }
    if (!create) {
        err = cardea_entity_get(&out, s, CARDEA_ENTITY_HEALTH_ELEMENT,
                                argv[0]);
    } else {
        char *text;

        body = json_pack("{s:s}", "descr", argv[0]);
        text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (argc > 1) {
            delegate.data_owner_id = argv[1];
            opts.delegates = &delegate;
            opts.delegate_count = 1;
        }
        err = cardea_entity_create(&out, s, CARDEA_ENTITY_HEALTH_ELEMENT,
                                   text, &opts);
        free(text);
    }
    if (err != CARDEA_OK) {
        return fail(s, create ? "create-element" : "read-element", err);
    }
    entity = json_loads(out, 0, NULL);
    cardea_free(out);
    status = print(json_pack("{s:O, s:O}", "id",
                             json_object_get(entity, "id"), "descr",
                             json_object_get(entity, "descr")));
    json_decref(entity);
    return status;
}

static int
apply_all(cardea_session *s)
{
    cardea_key_pair_update *list = NULL;
    size_t count = 0;
    size_t applied = 0;
    size_t updated = 0;
    cardea_err err = cardea_access_back_list(&list, &count, s);

    for (size_t i = 0; err == CARDEA_OK && i < count; i++) {
        size_t one = 0;

        err = cardea_access_back_apply_task(&one, s, list[i].task_id);
        applied += err == CARDEA_OK ? 1 : 0;
        updated += one;
    }
    cardea_key_pair_updates_free(list, count);
    if (err != CARDEA_OK) {
        return fail(s, "apply-all", err);
    }
    return print(json_pack("{s:I, s:I, s:I}", "listed", (json_int_t)count,
                           "applied", (json_int_t)applied, "updated",
                           (json_int_t)updated));
}

static int
run(cardea_session *s, const char *command, int argc, char **argv)
{
    size_t n = 0;
    char *key = NULL;
    cardea_err err;

    if (strcmp(command, "open") == 0) {
        return print(json_pack("{s:s, s:o}", "dataOwnerId",
                               cardea_session_data_owner_id(s), "keys",
                               keys_json(s)));
    }
    if (strcmp(command, "recover-pairs") == 0 && argc == 1) {
        err = cardea_recovery_recover_key_pairs(&n, s, argv[0], false);
        if (err != CARDEA_OK) {
            return fail(s, "recover-pairs", err);
        }
        return print(json_pack("{s:I, s:o}", "recovered", (json_int_t)n,
                               "keys", keys_json(s)));
    }
    if (strcmp(command, "create-pairs") == 0) {
        err = cardea_recovery_create_key_pair_data(&key, s, NULL);
        if (err != CARDEA_OK) {
            return fail(s, "create-pairs", err);
        }
        print(json_pack("{s:s, s:o}", "recoveryKey", key, "keys",
                        keys_json(s)));
        cardea_wipe(key, strlen(key));
        cardea_free(key);
        return 0;
    }
    if (strcmp(command, "create-element") == 0) {
        return element(s, argc, argv, true);
    }
    if (strcmp(command, "read-element") == 0) {
        return element(s, argc, argv, false);
    }
    if (strcmp(command, "request-access") == 0) {
        err = cardea_access_back_request(&n, s, NULL, 0);
        if (err != CARDEA_OK) {
            return fail(s, "request-access", err);
        }
        return print(json_pack("{s:I}", "created", (json_int_t)n));
    }
    if (strcmp(command, "apply-all") == 0) {
        return apply_all(s);
    }
    fprintf(stderr, "recovery_driver: error: unknown command %s\n", command);
    return 2;
}

int
main(int argc, char **argv)
{
    cardea_session_options opts = CARDEA_SESSION_OPTIONS_INIT;
    cardea_crypto_strategies strategies;
    cardea_session *session = NULL;
    char errmsg[512];
    cardea_err err;
    int status;

    if (argc < 6) {
        fprintf(stderr, "usage: recovery_driver URL LOGIN PASSWORD KEY_DIR "
                        "COMMAND [ARG...]\n");
        return 2;
    }
    if (strcmp(argv[5], "recover-pairs") == 0) {
        keygen = CARDEA_KEYGEN_KEYLESS;
    }
    if (cardea_simple_strategies_new(&simple, NULL) != CARDEA_OK) {
        return 1;
    }
    strategies = *simple;
    strategies.generate_new_key_for_data_owner = on_generate;
    opts.base_url = argv[1];
    opts.login = argv[2];
    opts.password = argv[3];
    opts.key_store_dir = argv[4];
    opts.strategies = &strategies;
    opts.errmsg_buf = errmsg;
    opts.errmsg_cap = sizeof errmsg;
    err = cardea_session_open(&session, &opts);
    if (err != CARDEA_OK) {
        fprintf(stderr, "recovery_driver: error: open failed: %s: %s\n",
                cardea_strerror(err), errmsg);
        cardea_simple_strategies_free(simple);
        return 1;
    }
    status = run(session, argv[5], argc - 6, argv + 6);
    cardea_session_close(session);
    cardea_simple_strategies_free(simple);
    return status;
}
