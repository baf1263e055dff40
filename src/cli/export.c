/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea export PATIENT_ID`: reads a patient and everything linked to it
 * that the user can decrypt, and prints it as a FHIR R4 Bundle of type
 * "collection" (cli/fhir.h describes the mapping back), with document
 * attachments inline.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/fhir.h"

static const char usage_text[] =
    "usage: cardea export PATIENT_ID [OPTIONS]\n"
    "\n"
    "Prints the patient and its health elements, contacts and documents,\n"
    "decrypted, as a FHIR R4 Bundle (Patient, Condition, Encounter,\n"
    "Observation, DocumentReference and DiagnosticReport resources).\n"
    "\n"
    "  --output FILE     write the Bundle to FILE (mode 0600) instead of\n"
    "                    stdout\n" CARDEA_CLI_COMMON_HELP;

enum { OPT_OUTPUT = 1 };

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {"output", required_argument, NULL, OPT_OUTPUT},
    {NULL, 0, NULL, 0},
};

static bool
write_bundle(const json_t *bundle, const char *output, bool compact)
{
    size_t flags = (compact ? JSON_COMPACT : JSON_INDENT(2))
                   | JSON_PRESERVE_ORDER;
    FILE *file;
    int fd;

    if (output == NULL) {
        return cardea_cli__print_json(bundle, compact);
    }
    /*
     * The bundle holds decrypted health data: create a new 0600 file and
     * never write into an existing one, whose mode may let others read.
     */
    fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600);
    file = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (file == NULL && errno == EEXIST) {
        cardea_cli__error("%s already exists; remove it or choose another "
                          "--output file", output);
        return false;
    }
    if (file == NULL) {
        cardea_cli__error("cannot create %s: %s", output, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    if (json_dumpf(bundle, file, flags) != 0 || fputc('\n', file) == EOF
        || fclose(file) != 0) {
        cardea_cli__error("cannot write %s", output);
        return false;
    }
    return true;
}

static int
run_export(cardea_cli_client *client, const char *patient_id,
           const char *output, bool compact)
{
    char errmsg[CARDEA_FHIR_ERRMSG_LEN] = "";
    cardea_cli_patient_data data = {0};
    json_t *bundle = NULL;
    char what[128];
    int status = CARDEA_CLI_FAILED;
    cardea_err err;

    err = cardea_cli__patient_data(&data, client->session, patient_id, true);
    if (err != CARDEA_OK) {
        snprintf(what, sizeof what, "reading patient %s", patient_id);
        cardea_cli__session_error(client, err, what);
        return CARDEA_CLI_FAILED;
    }
    if (data.undecryptable > 0) {
        cardea_cli__error("%zu entities of patient %s cannot be decrypted "
                          "with the keys of profile '%s' and are left out",
                          data.undecryptable, patient_id,
                          client->profile.name);
    }
    err = cardea_fhir__export(&bundle, data.entities, data.count, errmsg,
                              sizeof errmsg);
    if (err != CARDEA_OK) {
        cardea_cli__error("cannot build the Bundle of patient %s: %s",
                          patient_id, errmsg);
    } else if (write_bundle(bundle, output, compact)) {
        status = data.undecryptable == 0 ? CARDEA_CLI_OK
                                         : CARDEA_CLI_FAILED;
    }
    json_decref(bundle);
    cardea_cli__patient_data_free(&data);
    return status;
}

/* see cli/cli.h */
int
cardea_cli__export(int argc, char **argv)
{
    cardea_cli_common common;
    cardea_cli_client client;
    const char *output = NULL;
    bool exit_now = false;
    int option;
    int status;

    cardea_cli__common_init(&common);
    optind = 1;
    while ((option = cardea_cli__next_option(&common, argc, argv,
                                             long_options, usage_text,
                                             &exit_now))
           != -1) {
        if (option != OPT_OUTPUT) {
            fputs("Run 'cardea export --help' for the options.\n", stderr);
            return CARDEA_CLI_USAGE;
        }
        output = optarg;
    }
    if (exit_now) {
        return CARDEA_CLI_OK;
    }
    if (argc - optind != 1) {
        cardea_cli__error("export needs one PATIENT_ID");
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &common)) {
        return CARDEA_CLI_FAILED;
    }
    status = run_export(&client, argv[optind], output, common.json);
    cardea_cli__client_close(&client);
    return status;
}
