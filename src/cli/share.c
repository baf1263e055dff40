/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea share` and `cardea share-patient`: give a data owner access to
 * one entity, or to a patient and every health element, contact and
 * document linked to it. The delegate receives the entity keys, secret
 * ids and owning patient ids the user can open, through exchange data
 * that the SDK creates on the first share (the simple strategies trust
 * the delegate's published keys). Sharing again adds only what is
 * missing, so both commands can be repeated safely.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"

/* Most delegates one share-patient call takes. */
#define DELEGATES_MAX 64

static const char share_usage[] =
    "usage: cardea share TYPE ID --with DATA_OWNER [--read|--write] "
    "[OPTIONS]\n"
    "\n"
    "Shares one entity with a data owner. TYPE is patient, healthelement,\n"
    "contact or document.\n"
    "\n"
    "  --with ID         data owner id of the delegate\n"
    "  --read            read access (the default)\n"
    "  --write           read and write access, when the user has it\n"
    CARDEA_CLI_COMMON_HELP;

static const char share_patient_usage[] =
    "usage: cardea share-patient PATIENT_ID --with DATA_OWNER "
    "[--with ...] [OPTIONS]\n"
    "\n"
    "Shares a patient and every health element, contact and document\n"
    "linked to it that the user can see, with each data owner given.\n"
    "\n"
    "  --with ID         data owner id of a delegate (repeatable)\n"
    "  --read            read access (the default)\n"
    "  --write           read and write access, when the user has it\n"
    "  --quiet           no progress bar\n" CARDEA_CLI_COMMON_HELP;

enum { OPT_WITH = 1, OPT_READ, OPT_WRITE, OPT_QUIET };

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {"with", required_argument, NULL, OPT_WITH},
    {"read", no_argument, NULL, OPT_READ},
    {"write", no_argument, NULL, OPT_WRITE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {NULL, 0, NULL, 0},
};

typedef struct share_args {
    cardea_cli_common common;
    const char *with[DELEGATES_MAX];
    size_t with_count;
    cardea_access_level access;
    bool quiet;
    bool exit_now;
} share_args;

static bool
parse_args(share_args *args, const char *help, int argc, char **argv)
{
    int option;

    cardea_cli__common_init(&args->common);
    args->access = CARDEA_ACCESS_READ;
    optind = 1;
    while ((option = cardea_cli__next_option(&args->common, argc, argv,
                                             long_options, help,
                                             &args->exit_now))
           != -1) {
        if (option == OPT_WITH && args->with_count < DELEGATES_MAX) {
            args->with[args->with_count++] = optarg;
        } else if (option == OPT_READ || option == OPT_WRITE) {
            args->access = option == OPT_READ ? CARDEA_ACCESS_READ
                                              : CARDEA_ACCESS_WRITE;
        } else if (option == OPT_QUIET) {
            args->quiet = true;
        } else {
            return false;
        }
    }
    return true;
}

/*
 * Reads entity `id` and drops it, to tell whether the user can read it.
 * A share returns CARDEA_ENOTFOUND both for a missing entity and for a
 * missing delegate, so a failed share probes the entity to tell which.
 */
static cardea_err
probe_entity(cardea_cli_client *client, cardea_entity_type type,
             const char *id)
{
    char *json = NULL;
    cardea_err err = cardea_entity_get(&json, client->session, type, id);

    if (json != NULL) {
        cardea_mem__free_secret(json, strlen(json));
    }
    return err;
}

/* Shares one entity; prints the error and returns false on failure. */
static bool
share_one(cardea_cli_client *client, cardea_entity_type type,
          const char *id, const char *delegate, cardea_access_level access)
{
    char what[256];
    char *out = NULL;
    cardea_err err = cardea_entity_share(&out, client->session, type, id,
                                         delegate, access);

    if (out != NULL) {
        cardea_mem__free_secret(out, strlen(out));
    }
    if (err == CARDEA_OK) {
        return true;
    }
    snprintf(what, sizeof what, "sharing %s %s with %s",
             cardea_cli__type_word(type), id, delegate);
    if (err == CARDEA_ENOTFOUND
        && probe_entity(client, type, id) == CARDEA_OK) {
        cardea_cli__error("%s: data owner '%s' was not found, so it "
                          "cannot be the delegate; check the data-owner id "
                          "given to --with (the server's 'cardea admin user "
                          "list' lists them)", what, delegate);
    } else {
        cardea_cli__session_error(client, err, what);
    }
    return false;
}

/* see cli/cli.h */
int
cardea_cli__share(int argc, char **argv)
{
    share_args args = {0};
    cardea_cli_client client;
    cardea_entity_type type;
    bool ok;

    if (!parse_args(&args, share_usage, argc, argv)) {
        fputs("Run 'cardea share --help' for the options.\n", stderr);
        return CARDEA_CLI_USAGE;
    }
    if (args.exit_now) {
        return CARDEA_CLI_OK;
    }
    if (argc - optind != 2) {
        cardea_cli__error("share needs TYPE and ID, as in 'cardea share "
                          "patient ID --with DATA_OWNER'");
        return CARDEA_CLI_USAGE;
    }
    if (args.with_count != 1) {
        cardea_cli__error("share: --with DATA_OWNER is required, once; "
                          "use share-patient to share with several "
                          "data owners");
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__type_arg(&type, argv[optind])) {
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &args.common)) {
        return CARDEA_CLI_FAILED;
    }
    ok = share_one(&client, type, argv[optind + 1], args.with[0],
                   args.access);
    if (ok && args.common.json) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "type",
                                cardea_cli__type_word(type), "id",
                                argv[optind + 1], "with", args.with[0],
                                "access",
                                args.access == CARDEA_ACCESS_WRITE ? "write"
                                                                   : "read");

        ok = doc != NULL && cardea_cli__print_json(doc, true);
        json_decref(doc);
    } else if (ok) {
        printf("Shared %s %s with %s (%s)\n", cardea_cli__type_word(type),
               argv[optind + 1], args.with[0],
               args.access == CARDEA_ACCESS_WRITE ? "write" : "read");
    }
    cardea_cli__client_close(&client);
    return ok ? CARDEA_CLI_OK : CARDEA_CLI_FAILED;
}

/* ---- share-patient ------------------------------------------------------ */

/* The entities of one patient: the patient, then its linked entities. */
typedef struct patient_set {
    char **ids[5];          /* per cardea_entity_type; [0] unused */
    size_t counts[5];
    char *patient_ids[1];
} patient_set;

static void
patient_set_free(patient_set *set)
{
    for (int t = CARDEA_ENTITY_HEALTH_ELEMENT; t <= CARDEA_ENTITY_DOCUMENT;
         t++) {
        cardea_strings_free(set->ids[t], set->counts[t]);
    }
}

static bool
collect(patient_set *set, cardea_cli_client *client, const char *patient_id)
{
    char what[128];
    cardea_err err = probe_entity(client, CARDEA_ENTITY_PATIENT, patient_id);

    if (err == CARDEA_ENOTFOUND || err == CARDEA_EACCESS) {
        cardea_cli__error("patient %s was not found or is not shared with "
                          "profile '%s'; check the id, or ask its data "
                          "owner to share it with this user", patient_id,
                          client->profile.name);
        return false;
    }
    if (err != CARDEA_OK) {
        snprintf(what, sizeof what, "reading patient %s", patient_id);
        cardea_cli__session_error(client, err, what);
        return false;
    }
    set->patient_ids[0] = (char *)patient_id;
    set->ids[CARDEA_ENTITY_PATIENT] = set->patient_ids;
    set->counts[CARDEA_ENTITY_PATIENT] = 1;
    for (int t = CARDEA_ENTITY_HEALTH_ELEMENT; t <= CARDEA_ENTITY_DOCUMENT;
         t++) {
        err = cardea_cli__patient_links(
            &set->ids[t], &set->counts[t], client->session,
            (cardea_entity_type)t, patient_id, NULL, NULL);
        if (err != CARDEA_OK) {
            snprintf(what, sizeof what, "listing the %ss of patient %s",
                     cardea_cli__type_word((cardea_entity_type)t),
                     patient_id);
            cardea_cli__session_error(client, err, what);
            return false;
        }
    }
    return true;
}

static void
print_shared(const patient_set *set, const share_args *args,
             const char *patient_id, size_t failed)
{
    const char *access =
        args->access == CARDEA_ACCESS_WRITE ? "write" : "read";
    json_t *with = json_array();
    json_t *doc;

    if (!args->common.json) {
        for (size_t d = 0; d < args->with_count; d++) {
            printf("Shared patient %s with %s (%s): Patient 1, "
                   "HealthElement %zu, Contact %zu, Document %zu\n",
                   patient_id, args->with[d], access,
                   set->counts[CARDEA_ENTITY_HEALTH_ELEMENT],
                   set->counts[CARDEA_ENTITY_CONTACT],
                   set->counts[CARDEA_ENTITY_DOCUMENT]);
        }
        if (failed > 0) {
            printf("%zu %s failed\n", failed,
                   cardea_cli__plural(failed, "share", "shares"));
        }
        return;
    }
    for (size_t d = 0; with != NULL && d < args->with_count; d++) {
        (void)json_array_append_new(with, json_string(args->with[d]));
    }
    doc = json_pack("{s:s, s:o, s:s, s:{s:I, s:I, s:I, s:I}, s:I}",
                    "patient", patient_id, "with", with, "access", access,
                    "entities", "Patient", (json_int_t)1, "HealthElement",
                    (json_int_t)set->counts[CARDEA_ENTITY_HEALTH_ELEMENT],
                    "Contact", (json_int_t)set->counts[CARDEA_ENTITY_CONTACT],
                    "Document",
                    (json_int_t)set->counts[CARDEA_ENTITY_DOCUMENT],
                    "failed", (json_int_t)failed);
    if (doc != NULL) {
        (void)cardea_cli__print_json(doc, true);
    }
    json_decref(doc);
}

/* Shares every entity of `set` with every delegate; returns failures. */
static size_t
share_set(const patient_set *set, cardea_cli_client *client,
          const share_args *args)
{
    cardea_cli_progress bar;
    size_t total = 0;
    size_t failed = 0;

    for (int t = CARDEA_ENTITY_PATIENT; t <= CARDEA_ENTITY_DOCUMENT; t++) {
        total += set->counts[t] * args->with_count;
    }
    cardea_cli__progress_begin(&bar, "sharing", total, args->quiet);
    for (size_t d = 0; d < args->with_count; d++) {
        for (int t = CARDEA_ENTITY_PATIENT; t <= CARDEA_ENTITY_DOCUMENT;
             t++) {
            for (size_t i = 0; i < set->counts[t]; i++) {
                cardea_cli__progress_step(&bar);
                if (!share_one(client, (cardea_entity_type)t,
                               set->ids[t][i], args->with[d],
                               args->access)) {
                    failed++;
                }
            }
        }
    }
    cardea_cli__progress_end(&bar);
    return failed;
}

/* see cli/cli.h */
int
cardea_cli__share_patient(int argc, char **argv)
{
    share_args args = {0};
    patient_set set = {0};
    cardea_cli_client client;
    size_t failed;
    int status = CARDEA_CLI_FAILED;

    if (!parse_args(&args, share_patient_usage, argc, argv)) {
        fputs("Run 'cardea share-patient --help' for the options.\n",
              stderr);
        return CARDEA_CLI_USAGE;
    }
    if (args.exit_now) {
        return CARDEA_CLI_OK;
    }
    if (argc - optind != 1) {
        cardea_cli__error("share-patient needs one PATIENT_ID");
        return CARDEA_CLI_USAGE;
    }
    if (args.with_count == 0) {
        cardea_cli__error("share-patient: --with DATA_OWNER is required "
                          "(repeatable)");
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &args.common)) {
        return CARDEA_CLI_FAILED;
    }
    if (collect(&set, &client, argv[optind])) {
        failed = share_set(&set, &client, &args);
        print_shared(&set, &args, argv[optind], failed);
        status = failed == 0 ? CARDEA_CLI_OK : CARDEA_CLI_FAILED;
    }
    patient_set_free(&set);
    cardea_cli__client_close(&client);
    return status;
}
