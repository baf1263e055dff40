/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea import FILE...`: encrypts FHIR R4 Bundles on the client and
 * uploads them. Each file is read and mapped in full first (cli/fhir.h),
 * so a file that is not JSON, not a Bundle, truncated, too big or with a
 * reference that does not resolve is rejected before anything is sent,
 * and the next file goes on. Then the Patient is created, then the
 * entities linked to it (secret foreign keys), then the attachments of
 * the documents. Every entity is one POST, so it exists whole or not at
 * all. Entity ids derive from the FHIR resource ids, so importing a file
 * again finds every entity present (HTTP 409) and creates nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/fhir.h"

static const char usage_text[] =
    "usage: cardea import [OPTIONS] FILE...\n"
    "\n"
    "Maps each FHIR R4 Bundle to Patients, HealthElements, Contacts and\n"
    "Documents, encrypts them and creates them on the server as the user\n"
    "of the profile. Resources of other types are counted as skipped. A\n"
    "file that cannot be read or mapped is reported and the next file\n"
    "goes on; entities already present are counted and left unchanged.\n"
    "\n"
    "  --quiet           no progress bar\n" CARDEA_CLI_COMMON_HELP;

enum { OPT_QUIET = 1 };

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {"quiet", no_argument, NULL, OPT_QUIET},
    {NULL, 0, NULL, 0},
};

/* Outcome of one file. */
typedef struct file_report {
    const char *path;
    bool rejected;
    char message[CARDEA_FHIR_ERRMSG_LEN];
    size_t created;
    size_t present;
    size_t failed;
    /* created or present, per entity type index (cardea_entity_type) */
    size_t by_type[5];
    json_t *errors;      /* [{source, id, type, message}] */
} file_report;

/* Totals over all files, for the closing line. */
typedef struct totals {
    size_t files;
    size_t rejected;
    size_t created;
    size_t present;
    size_t failed;
} totals;

/* Records the failure of one entity, naming its FHIR resource. */
static void
entity_failed(file_report *report, const cardea_fhir_entity *entity,
              const char *message)
{
    json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "source", entity->source,
                            "type", cardea_fhir__type_name(entity->type),
                            "id", entity->id, "message", message);

    report->failed++;
    (void)json_array_append_new(report->errors, row);
    cardea_cli__error("%s: %s (%s %s): %s", report->path, entity->source,
                      cardea_fhir__type_name(entity->type), entity->id,
                      message);
}

/* Uploads the attachment of a document that has none yet. */
static cardea_err
attach(cardea_session *session, const cardea_fhir_entity *entity,
       const char *stored_text)
{
    json_t *stored = NULL;
    char *out = NULL;
    cardea_err err;

    err = cardea_json__parse(&stored, stored_text, strlen(stored_text), NULL,
                             0);
    if (err != CARDEA_OK) {
        return err;
    }
    if (cardea_json__get_str(stored, "attachmentId") == NULL) {
        err = cardea_document_set_attachment(
            &out, session, entity->id,
            cardea_json__get_str(entity->json, "mainUti"),
            entity->attachment, entity->attachment_len);
    }
    json_decref(stored);
    if (out != NULL) {
        cardea_mem__free_secret(out, strlen(out));
    }
    return err;
}

/*
 * Creates one entity. A document that exists already but lacks its
 * attachment (an earlier run stopped between the two requests) receives
 * it now.
 */
static cardea_err
create_entity(bool *present, cardea_session *session,
              const cardea_fhir_entity *entity)
{
    cardea_entity_create_options opts = CARDEA_ENTITY_CREATE_OPTIONS_INIT;
    char *text = cardea_json__dump(entity->json);
    char *out = NULL;
    cardea_err err;

    if (text == NULL) {
        return CARDEA_ENOMEM;
    }
    if (entity->type != CARDEA_ENTITY_PATIENT) {
        opts.owning_patient_id = entity->patient_id;
    }
    err = cardea_entity_create(&out, session, entity->type, text, &opts);
    cardea_mem__free_secret(text, strlen(text));
    *present = err == CARDEA_ECONFLICT;
    if (*present && entity->type == CARDEA_ENTITY_DOCUMENT) {
        err = cardea_entity_get(&out, session, entity->type, entity->id);
    } else if (*present) {
        err = CARDEA_OK;
    }
    if (err == CARDEA_OK && entity->type == CARDEA_ENTITY_DOCUMENT) {
        err = attach(session, entity, out);
    }
    if (out != NULL) {
        cardea_mem__free_secret(out, strlen(out));
    }
    return err;
}

/* True when the Patient of `entity` failed earlier in this file. */
static bool
patient_failed(const json_t *failed_patients,
               const cardea_fhir_entity *entity)
{
    size_t index;
    json_t *id;

    json_array_foreach(failed_patients, index, id) {
        if (strcmp(json_string_value(id), entity->patient_id) == 0) {
            return true;
        }
    }
    return false;
}

static void
create_plan(file_report *report, cardea_cli_client *client,
            const cardea_fhir_plan *plan, bool quiet)
{
    json_t *failed_patients = json_array();
    cardea_cli_progress bar;

    cardea_cli__progress_begin(&bar, report->path, plan->entities_len, quiet);
    for (size_t i = 0; i < plan->entities_len; i++) {
        const cardea_fhir_entity *entity = &plan->entities[i];
        bool present = false;
        cardea_err err;

        cardea_cli__progress_step(&bar);
        if (patient_failed(failed_patients, entity)) {
            cardea_cli__progress_end(&bar);
            entity_failed(report, entity, "not created because its Patient "
                          "failed");
            continue;
        }
        err = create_entity(&present, client->session, entity);
        if (err != CARDEA_OK) {
            char message[CARDEA_FHIR_ERRMSG_LEN];

            snprintf(message, sizeof message, "%s: %s", cardea_strerror(err),
                     cardea_session_errmsg(client->session));
            cardea_cli__progress_end(&bar);
            entity_failed(report, entity, message);
            if (entity->type == CARDEA_ENTITY_PATIENT) {
                (void)json_array_append_new(failed_patients,
                                            json_string(entity->patient_id));
            }
            continue;
        }
        *(present ? &report->present : &report->created) += 1;
        report->by_type[entity->type]++;
    }
    cardea_cli__progress_end(&bar);
    json_decref(failed_patients);
}

static json_t *
report_json(const file_report *report, const cardea_fhir_plan *plan)
{
    json_t *skipped = json_object();
    json_t *doc;

    for (size_t i = 0; plan != NULL && skipped != NULL
                       && i < plan->skipped_len; i++) {
        (void)json_object_set_new(skipped, plan->skipped[i].resource_type,
                                  json_integer((json_int_t)
                                               plan->skipped[i].count));
    }
    doc = json_pack(
        "{s:s, s:s, s:s?, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}, s:I, s:o, "
        "s:O}",
        "file", report->path, "status",
        report->rejected ? "rejected"
        : report->failed > 0 ? "incomplete" : "imported",
        "error", report->rejected ? report->message : NULL,
        "created", (json_int_t)report->created,
        "present", (json_int_t)report->present,
        "failed", (json_int_t)report->failed,
        "entities",
        "Patient", (json_int_t)report->by_type[CARDEA_ENTITY_PATIENT],
        "HealthElement",
        (json_int_t)report->by_type[CARDEA_ENTITY_HEALTH_ELEMENT],
        "Contact", (json_int_t)report->by_type[CARDEA_ENTITY_CONTACT],
        "Document", (json_int_t)report->by_type[CARDEA_ENTITY_DOCUMENT],
        "observations", (json_int_t)(plan != NULL ? plan->observations : 0),
        "skipped", skipped, "errors", report->errors);
    return doc;
}

static void
print_report(const file_report *report, const cardea_fhir_plan *plan)
{
    if (report->rejected) {
        printf("%s: rejected, nothing imported\n", report->path);
        return;
    }
    printf("%s: %zu created, %zu already present, %zu failed "
           "(Patient %zu, HealthElement %zu, Contact %zu with %zu %s, "
           "Document %zu)\n",
           report->path, report->created, report->present, report->failed,
           report->by_type[CARDEA_ENTITY_PATIENT],
           report->by_type[CARDEA_ENTITY_HEALTH_ELEMENT],
           report->by_type[CARDEA_ENTITY_CONTACT], plan->observations,
           cardea_cli__plural(plan->observations, "observation",
                              "observations"),
           report->by_type[CARDEA_ENTITY_DOCUMENT]);
    if (plan->skipped_len > 0) {
        printf("%s: skipped", report->path);
        for (size_t i = 0; i < plan->skipped_len; i++) {
            printf("%s %s %zu", i == 0 ? "" : ",",
                   plan->skipped[i].resource_type, plan->skipped[i].count);
        }
        printf("\n");
    }
}

/* Imports one file and prints or collects its report. */
static void
import_file(totals *sum, json_t *reports, cardea_cli_client *client,
            const char *path, bool json, bool quiet)
{
    file_report report = {0};
    cardea_fhir_plan *plan = NULL;
    json_t *bundle = NULL;
    cardea_err err;

    report.path = path;
    report.errors = json_array();
    err = cardea_fhir__read_file(&bundle, path, report.message,
                                 sizeof report.message);
    if (err == CARDEA_OK) {
        err = cardea_fhir__plan_build(&plan, path, bundle, report.message,
                                      sizeof report.message);
    }
    json_decref(bundle);
    if (err != CARDEA_OK) {
        report.rejected = true;
        cardea_cli__error("%s", report.message);
        sum->rejected++;
    } else {
        create_plan(&report, client, plan, quiet);
    }
    if (json) {
        (void)json_array_append_new(reports, report_json(&report, plan));
    } else {
        print_report(&report, plan);
    }
    sum->files++;
    sum->created += report.created;
    sum->present += report.present;
    sum->failed += report.failed;
    json_decref(report.errors);
    cardea_fhir__plan_free(plan);
}

static bool
parse_args(cardea_cli_common *common, bool *quiet, bool *exit_now, int argc,
           char **argv)
{
    int option;

    optind = 1;
    while ((option = cardea_cli__next_option(common, argc, argv,
                                             long_options, usage_text,
                                             exit_now))
           != -1) {
        if (option != OPT_QUIET) {
            return false;
        }
        *quiet = true;
    }
    return true;
}

static void
print_totals(const totals *sum, json_t *reports, bool json)
{
    json_t *doc;

    if (!json) {
        printf("%zu %s: %zu imported, %zu rejected; %zu %s created, %zu "
               "already present, %zu failed\n", sum->files,
               cardea_cli__plural(sum->files, "file", "files"),
               sum->files - sum->rejected, sum->rejected, sum->created,
               cardea_cli__plural(sum->created, "entity", "entities"),
               sum->present, sum->failed);
        return;
    }
    doc = json_pack("{s:O, s:I, s:I, s:I, s:I, s:I}", "files", reports,
                    "rejected", (json_int_t)sum->rejected, "created",
                    (json_int_t)sum->created, "present",
                    (json_int_t)sum->present, "failed",
                    (json_int_t)sum->failed, "fileCount",
                    (json_int_t)sum->files);
    if (doc != NULL) {
        (void)cardea_cli__print_json(doc, true);
    }
    json_decref(doc);
}

/* see cli/cli.h */
int
cardea_cli__import(int argc, char **argv)
{
    cardea_cli_common common;
    cardea_cli_client client;
    totals sum = {0};
    json_t *reports = json_array();
    bool exit_now = false;
    bool quiet = false;

    cardea_cli__common_init(&common);
    if (!parse_args(&common, &quiet, &exit_now, argc, argv)) {
        fputs("Run 'cardea import --help' for the options.\n", stderr);
        json_decref(reports);
        return CARDEA_CLI_USAGE;
    }
    if (exit_now || optind >= argc) {
        if (!exit_now) {
            cardea_cli__error("import needs at least one FILE");
        }
        json_decref(reports);
        return exit_now ? CARDEA_CLI_OK : CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &common)) {
        json_decref(reports);
        return CARDEA_CLI_FAILED;
    }
    if (!client.encrypted_fields) {
        cardea_cli__error("this build of libcardea cannot encrypt the extra "
                          "fields of the FHIR mapping, so names, dates and "
                          "addresses would reach the server in clear; "
                          "nothing was imported");
        cardea_cli__client_close(&client);
        json_decref(reports);
        return CARDEA_CLI_FAILED;
    }
    for (int i = optind; i < argc; i++) {
        import_file(&sum, reports, &client, argv[i], common.json, quiet);
    }
    print_totals(&sum, reports, common.json);
    json_decref(reports);
    cardea_cli__client_close(&client);
    return sum.rejected == 0 && sum.failed == 0 ? CARDEA_CLI_OK
                                                : CARDEA_CLI_FAILED;
}
