/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea verify FILE...`: checks that the user of a profile can read
 * back what an import of the bundles stored. For each Patient of each
 * file it finds the patient's entities the way a client does (the
 * patient, then the entities carrying its secret ids), decrypts them and
 * compares each with the entity the import mapped from the file, field by
 * field (cardea_fhir__entity_equal), and each attachment byte by byte.
 * Differences name the field path, never its value.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/fhir.h"

static const char usage_text[] =
    "usage: cardea verify [OPTIONS] FILE...\n"
    "\n"
    "Reads back, as the user of the profile, every entity an import of\n"
    "each FHIR Bundle creates, through the patient's links, and compares\n"
    "it field by field with the bundle. Exits with status 1 when an\n"
    "entity is missing, cannot be decrypted or differs.\n"
    "\n" CARDEA_CLI_COMMON_HELP;

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

/*
 * Members the server adds to a Patient because it is also the patient's
 * data owner document: published keys and key-exchange data.
 */
static const char *const data_owner_fields[] = {
    "publicKey", "publicKeysForOaepWithSha256", "hcPartyKeys",
    "aesExchangeKeys", "transferKeys", "privateKeyShamirPartitions",
};

typedef struct verify_report {
    const char *path;
    bool rejected;
    size_t checked;
    size_t equal;
    size_t missing;
    size_t different;
    size_t undecryptable;
    size_t by_type[5];
    json_t *problems;        /* [{source, id, problem, path?}] */
} verify_report;

static void
problem(verify_report *report, const cardea_fhir_entity *expected,
        const char *what, const char *path)
{
    (void)json_array_append_new(
        report->problems,
        json_pack("{s:s, s:s, s:s, s:s?}", "source", expected->source, "id",
                  expected->id, "problem", what, "path", path));
    cardea_cli__error("%s: %s (%s %s): %s%s%s", report->path,
                      expected->source,
                      cardea_fhir__type_name(expected->type), expected->id,
                      what, path != NULL ? " at " : "",
                      path != NULL ? path : "");
}

static const cardea_fhir_entity *
find(const cardea_cli_patient_data *data, const cardea_fhir_entity *wanted)
{
    for (size_t i = 0; i < data->count; i++) {
        if (data->entities[i].type == wanted->type
            && strcmp(data->entities[i].id, wanted->id) == 0) {
            return &data->entities[i];
        }
    }
    return NULL;
}

/* Compares one entity and, for a document, its attachment. */
static void
compare(verify_report *report, const cardea_fhir_entity *expected,
        const cardea_fhir_entity *actual)
{
    char path[256] = "";
    json_t *copy = json_deep_copy(actual->json);
    bool same;

    if (copy == NULL) {
        problem(report, expected, "out of memory", NULL);
        return;
    }
    if (expected->type == CARDEA_ENTITY_PATIENT) {
        for (size_t i = 0; i < sizeof data_owner_fields
                                   / sizeof data_owner_fields[0]; i++) {
            (void)json_object_del(copy, data_owner_fields[i]);
        }
    }
    same = cardea_fhir__entity_equal(expected->json, copy, 0, path,
                                     sizeof path);
    json_decref(copy);
    if (!same) {
        report->different++;
        problem(report, expected, "differs", path);
        return;
    }
    if (expected->type == CARDEA_ENTITY_DOCUMENT
        && (actual->attachment_len != expected->attachment_len
            || (expected->attachment_len > 0
                && (actual->attachment == NULL
                    || !cardea_ct_equal(actual->attachment,
                                        expected->attachment,
                                        expected->attachment_len))))) {
        report->different++;
        problem(report, expected, "attachment differs", NULL);
        return;
    }
    report->equal++;
    report->by_type[expected->type]++;
}

/* Reads back the entities of one patient of the plan. */
static bool
verify_patient(verify_report *report, cardea_cli_client *client,
               const cardea_fhir_plan *plan, const char *patient_id)
{
    cardea_cli_patient_data data = {0};
    char what[128];
    cardea_err err;

    err = cardea_cli__patient_data(&data, client->session, patient_id, true);
    if (err != CARDEA_OK) {
        snprintf(what, sizeof what, "%s: reading patient %s", report->path,
                 patient_id);
        cardea_cli__session_error(client, err, what);
        return false;
    }
    report->undecryptable += data.undecryptable;
    for (size_t i = 0; i < plan->entities_len; i++) {
        const cardea_fhir_entity *expected = &plan->entities[i];
        const cardea_fhir_entity *actual;

        if (strcmp(expected->patient_id, patient_id) != 0) {
            continue;
        }
        report->checked++;
        actual = find(&data, expected);
        if (actual == NULL) {
            report->missing++;
            problem(report, expected, "not found through its patient",
                    NULL);
            continue;
        }
        compare(report, expected, actual);
    }
    cardea_cli__patient_data_free(&data);
    return true;
}

static void
verify_file(verify_report *report, cardea_cli_client *client)
{
    char message[CARDEA_FHIR_ERRMSG_LEN] = "";
    cardea_fhir_plan *plan = NULL;
    json_t *bundle = NULL;
    cardea_err err;

    err = cardea_fhir__read_file(&bundle, report->path, message,
                                 sizeof message);
    if (err == CARDEA_OK) {
        err = cardea_fhir__plan_build(&plan, report->path, bundle, message,
                                      sizeof message);
    }
    json_decref(bundle);
    if (err != CARDEA_OK) {
        cardea_cli__error("%s", message);
        report->rejected = true;
        return;
    }
    for (size_t i = 0; i < plan->entities_len; i++) {
        if (plan->entities[i].type == CARDEA_ENTITY_PATIENT
            && !verify_patient(report, client, plan,
                               plan->entities[i].id)) {
            report->rejected = true;
        }
    }
    cardea_fhir__plan_free(plan);
}

static bool
report_ok(const verify_report *report)
{
    return !report->rejected && report->missing == 0
           && report->different == 0 && report->undecryptable == 0
           && report->equal == report->checked;
}

static void
print_report(const verify_report *report, json_t *reports, bool json)
{
    if (json) {
        (void)json_array_append_new(
            reports,
            json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, "
                      "s:{s:I, s:I, s:I, s:I}, s:O}",
                      "file", report->path, "ok", report_ok(report),
                      "checked", (json_int_t)report->checked,
                      "equal", (json_int_t)report->equal,
                      "missing", (json_int_t)report->missing,
                      "different", (json_int_t)report->different,
                      "undecryptable", (json_int_t)report->undecryptable,
                      "equalByType",
                      "Patient",
                      (json_int_t)report->by_type[CARDEA_ENTITY_PATIENT],
                      "HealthElement",
                      (json_int_t)
                          report->by_type[CARDEA_ENTITY_HEALTH_ELEMENT],
                      "Contact",
                      (json_int_t)report->by_type[CARDEA_ENTITY_CONTACT],
                      "Document",
                      (json_int_t)report->by_type[CARDEA_ENTITY_DOCUMENT],
                      "problems", report->problems));
        return;
    }
    printf("%s: %zu of %zu %s equal field by field (Patient %zu, "
           "HealthElement %zu, Contact %zu, Document %zu); %zu missing, "
           "%zu different, %zu undecryptable%s\n",
           report->path, report->equal, report->checked,
           cardea_cli__plural(report->checked, "entity", "entities"),
           report->by_type[CARDEA_ENTITY_PATIENT],
           report->by_type[CARDEA_ENTITY_HEALTH_ELEMENT],
           report->by_type[CARDEA_ENTITY_CONTACT],
           report->by_type[CARDEA_ENTITY_DOCUMENT], report->missing,
           report->different, report->undecryptable,
           report->rejected ? "; the file could not be checked" : "");
}

/* see cli/cli.h */
int
cardea_cli__verify(int argc, char **argv)
{
    cardea_cli_common common;
    cardea_cli_client client;
    json_t *reports = json_array();
    bool exit_now = false;
    bool all_ok = true;

    cardea_cli__common_init(&common);
    optind = 1;
    if (cardea_cli__next_option(&common, argc, argv, long_options,
                                usage_text, &exit_now)
        != -1) {
        fputs("Run 'cardea verify --help' for the options.\n", stderr);
        json_decref(reports);
        return CARDEA_CLI_USAGE;
    }
    if (exit_now || optind >= argc) {
        if (!exit_now) {
            cardea_cli__error("verify needs at least one FILE");
        }
        json_decref(reports);
        return exit_now ? CARDEA_CLI_OK : CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &common)) {
        json_decref(reports);
        return CARDEA_CLI_FAILED;
    }
    for (int i = optind; i < argc; i++) {
        verify_report report = {0};

        report.path = argv[i];
        report.problems = json_array();
        verify_file(&report, &client);
        print_report(&report, reports, common.json);
        all_ok = all_ok && report_ok(&report);
        json_decref(report.problems);
    }
    if (common.json) {
        json_t *doc = json_pack("{s:b, s:O}", "ok", all_ok, "files",
                                reports);

        all_ok = doc != NULL && cardea_cli__print_json(doc, true) && all_ok;
        json_decref(doc);
    }
    json_decref(reports);
    cardea_cli__client_close(&client);
    return all_ok ? CARDEA_CLI_OK : CARDEA_CLI_FAILED;
}
