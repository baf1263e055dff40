/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea fhir`: looks at FHIR bundles without a server. `patient-id`
 * prints the entity id the import gives each Patient of a bundle. That id
 * is derived from the FHIR resource id, so a patient user can be created
 * with that data owner id before the import, as the demo does.
 * `summary` prints what an import would create and skip.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/fhir.h"

static const char usage_text[] =
    "usage: cardea fhir patient-id FILE...\n"
    "       cardea fhir summary [--json] FILE...\n"
    "\n"
    "patient-id  prints the entity id of each Patient of each bundle, one\n"
    "            per line; it is also the data owner id to give the\n"
    "            patient's user (cardea admin user add --data-owner-id)\n"
    "summary     prints the entities an import would create, per type,\n"
    "            and the resources it would skip\n";

static cardea_fhir_plan *
load_plan(const char *path)
{
    char message[CARDEA_FHIR_ERRMSG_LEN] = "";
    cardea_fhir_plan *plan = NULL;
    json_t *bundle = NULL;
    cardea_err err;

    err = cardea_fhir__read_file(&bundle, path, message, sizeof message);
    if (err == CARDEA_OK) {
        err = cardea_fhir__plan_build(&plan, path, bundle, message,
                                      sizeof message);
    }
    json_decref(bundle);
    if (err != CARDEA_OK) {
        cardea_cli__error("%s", message);
        return NULL;
    }
    return plan;
}

static void
print_summary(const char *path, const cardea_fhir_plan *plan, bool json)
{
    json_t *skipped = json_object();
    json_t *doc;

    if (!json) {
        printf("%s: Patient %zu, HealthElement %zu, Contact %zu with %zu "
               "%s, Document %zu", path, plan->patients, plan->conditions,
               plan->encounters, plan->observations,
               cardea_cli__plural(plan->observations, "observation",
                                  "observations"),
               plan->documents);
        for (size_t i = 0; i < plan->skipped_len; i++) {
            printf("%s %s %zu", i == 0 ? "; skipped" : ",",
                   plan->skipped[i].resource_type, plan->skipped[i].count);
        }
        printf("\n");
        json_decref(skipped);
        return;
    }
    for (size_t i = 0; skipped != NULL && i < plan->skipped_len; i++) {
        (void)json_object_set_new(
            skipped, plan->skipped[i].resource_type,
            json_integer((json_int_t)plan->skipped[i].count));
    }
    doc = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "file",
                    path, "entities", (json_int_t)plan->entities_len,
                    "Patient", (json_int_t)plan->patients, "HealthElement",
                    (json_int_t)plan->conditions, "Contact",
                    (json_int_t)plan->encounters, "observations",
                    (json_int_t)plan->observations, "Document",
                    (json_int_t)plan->documents, "skipped", skipped);
    if (doc != NULL) {
        (void)cardea_cli__print_json(doc, true);
    }
    json_decref(doc);
}

/* see cli/cli.h */
int
cardea_cli__fhir(int argc, char **argv)
{
    bool summary;
    bool json = false;
    int first = 2;
    int status = CARDEA_CLI_OK;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0
                      || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return CARDEA_CLI_OK;
    }
    if (argc < 3 || (strcmp(argv[1], "patient-id") != 0
                     && strcmp(argv[1], "summary") != 0)) {
        fputs(usage_text, stderr);
        return CARDEA_CLI_USAGE;
    }
    summary = strcmp(argv[1], "summary") == 0;
    if (summary && strcmp(argv[2], "--json") == 0) {
        json = true;
        first = 3;
    }
    for (int i = first; i < argc; i++) {
        cardea_fhir_plan *plan = load_plan(argv[i]);

        if (plan == NULL) {
            status = CARDEA_CLI_FAILED;
            continue;
        }
        for (size_t e = 0; !summary && e < plan->entities_len; e++) {
            if (plan->entities[e].type == CARDEA_ENTITY_PATIENT) {
                printf("%s\n", plan->entities[e].id);
            }
        }
        if (summary) {
            print_summary(argv[i], plan, json);
        }
        cardea_fhir__plan_free(plan);
    }
    return status;
}
