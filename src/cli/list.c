/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea list TYPE [--patient ID] [--code SYSTEM|CODE]`: lists the
 * entities the user can see, decrypted. The server selects them with the
 * filters of the iCure API: by data owner, by the patient's secret ids,
 * and by code, which stays in clear so that it can be searched. A FHIR
 * code system URL is turned into the iCure code type the import uses
 * (http://snomed.info/sct -> SNOMED).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/fhir_internal.h"

static const char usage_text[] =
    "usage: cardea list TYPE [--patient ID] [--code SYSTEM|CODE] "
    "[OPTIONS]\n"
    "\n"
    "Lists the entities of TYPE (patient, healthelement, contact or\n"
    "document) that the user can see, one per line: id and a summary.\n"
    "\n"
    "  --patient ID      only the entities linked to this patient\n"
    "                    (required for documents)\n"
    "  --code SYSTEM|CODE only the health elements or contacts with this\n"
    "                    code, such as http://snomed.info/sct|44054006 or\n"
    "                    SNOMED|44054006\n" CARDEA_CLI_COMMON_HELP;

enum { OPT_PATIENT = 1, OPT_CODE };

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {"patient", required_argument, NULL, OPT_PATIENT},
    {"code", required_argument, NULL, OPT_CODE},
    {NULL, 0, NULL, 0},
};

typedef struct list_args {
    cardea_cli_common common;
    cardea_entity_type type;
    const char *patient;
    const char *code_arg;
    char code_type[256];
    const char *code;
    bool exit_now;
} list_args;

/* Splits SYSTEM|CODE into the iCure code type and the code. */
static bool
parse_code(list_args *args)
{
    const char *bar = strchr(args->code_arg, '|');
    char system[256];
    size_t len;

    if (bar == NULL || bar == args->code_arg || bar[1] == '\0'
        || (len = (size_t)(bar - args->code_arg)) >= sizeof system) {
        cardea_cli__error("invalid --code '%s'; give SYSTEM|CODE, such as "
                          "http://snomed.info/sct|44054006", args->code_arg);
        return false;
    }
    memcpy(system, args->code_arg, len);
    system[len] = '\0';
    snprintf(args->code_type, sizeof args->code_type, "%s",
             cardea_fhir__code_type(system));
    args->code = bar + 1;
    return true;
}

static bool
check_args(list_args *args, int argc, char **argv)
{
    if (argc - optind != 1) {
        cardea_cli__error("list needs one TYPE");
        return false;
    }
    if (!cardea_cli__type_arg(&args->type, argv[optind])) {
        return false;
    }
    if (args->code_arg != NULL
        && (args->type == CARDEA_ENTITY_PATIENT
            || args->type == CARDEA_ENTITY_DOCUMENT)) {
        cardea_cli__error("--code applies to healthelement and contact "
                          "only");
        return false;
    }
    if (args->type == CARDEA_ENTITY_DOCUMENT && args->patient == NULL) {
        cardea_cli__error("list document needs --patient ID: the server "
                          "finds documents through their patient");
        return false;
    }
    return args->code_arg == NULL || parse_code(args);
}

static bool
parse_args(list_args *args, int argc, char **argv)
{
    int option;

    cardea_cli__common_init(&args->common);
    optind = 1;
    while ((option = cardea_cli__next_option(&args->common, argc, argv,
                                             long_options, usage_text,
                                             &args->exit_now))
           != -1) {
        if (option == OPT_PATIENT) {
            args->patient = optarg;
        } else if (option == OPT_CODE) {
            args->code_arg = optarg;
        } else {
            return false;
        }
    }
    return true;
}

/* The filter of a list without --patient. */
static json_t *
owner_filter(const list_args *args, const char *self)
{
    if (args->code != NULL) {
        return cardea_cli__code_filter(args->type, self, args->code_type,
                                       args->code);
    }
    switch (args->type) {
    case CARDEA_ENTITY_PATIENT:
        return json_pack("{s:s, s:s}", "$type", "PatientByHcPartyFilter",
                         "healthcarePartyId", self);
    case CARDEA_ENTITY_HEALTH_ELEMENT:
        return json_pack("{s:s, s:s}", "$type",
                         "HealthElementByHcPartyFilter", "hcpId", self);
    case CARDEA_ENTITY_CONTACT:
        return json_pack("{s:s, s:s}", "$type", "ContactByHcPartyFilter",
                         "hcpId", self);
    default:
        return NULL;
    }
}

static cardea_err
match_ids(char ***ids, size_t *count, cardea_session *session,
          const list_args *args)
{
    json_t *filter;
    char *text;
    cardea_err err;

    if (args->type == CARDEA_ENTITY_PATIENT && args->patient != NULL) {
        char **one = cardea_mem__calloc(1, sizeof *one);

        if (one == NULL
            || (one[0] = cardea_mem__strdup(args->patient)) == NULL) {
            cardea_mem__free(one);
            return CARDEA_ENOMEM;
        }
        *ids = one;
        *count = 1;
        return CARDEA_OK;
    }
    if (args->patient != NULL) {
        return cardea_cli__patient_links(ids, count, session, args->type,
                                         args->patient,
                                         args->code != NULL ? args->code_type
                                                            : NULL,
                                         args->code);
    }
    filter = owner_filter(args, cardea_session_data_owner_id(session));
    text = filter != NULL ? cardea_json__dump(filter) : NULL;
    json_decref(filter);
    if (text == NULL) {
        return CARDEA_ENOMEM;
    }
    err = cardea_entity_match(ids, count, session, args->type, text);
    cardea_free(text);
    return err;
}

static const char *
str_or(const json_t *entity, const char *key, const char *fallback)
{
    const char *value = cardea_json__get_str(entity, key);

    return value != NULL ? value : fallback;
}

/* Prints "id  summary" for one entity. */
static void
print_line(cardea_entity_type type, const json_t *entity)
{
    const char *id = str_or(entity, "id", "?");
    const json_t *codes = json_object_get(entity, "codes");
    const json_t *first = json_array_get(codes, 0);
    size_t services;

    switch (type) {
    case CARDEA_ENTITY_PATIENT:
        printf("%s  %s %s, born %" JSON_INTEGER_FORMAT "\n", id,
               str_or(entity, "firstName", ""),
               str_or(entity, "lastName", ""),
               json_integer_value(json_object_get(entity, "dateOfBirth")));
        break;
    case CARDEA_ENTITY_CONTACT:
        services = json_array_size(json_object_get(entity, "services"));
        printf("%s  %s  %zu %s\n", id, str_or(entity, "descr", "-"),
               services, cardea_cli__plural(services, "service", "services"));
        break;
    case CARDEA_ENTITY_DOCUMENT:
        printf("%s  %s (%s)\n", id, str_or(entity, "name", "-"),
               str_or(entity, "mainUti", "no attachment"));
        break;
    default:
        printf("%s  %s  %s\n", id, first != NULL ? str_or(first, "id", "-")
                                                 : "-",
               str_or(entity, "descr", "-"));
        break;
    }
}

static bool
print_entities(const list_args *args, json_t *entities, size_t failed)
{
    json_t *entity;
    size_t index;
    size_t count;

    if (args->common.json) {
        json_t *doc = json_pack("{s:s, s:O, s:I}", "type",
                                cardea_cli__type_word(args->type),
                                "entities", entities, "undecryptable",
                                (json_int_t)failed);
        bool ok = doc != NULL && cardea_cli__print_json(doc, true);

        json_decref(doc);
        return ok;
    }
    json_array_foreach(entities, index, entity) {
        print_line(args->type, entity);
    }
    count = json_array_size(entities);
    printf("%zu %s%s%s\n", count, cardea_cli__type_word(args->type),
           cardea_cli__plural(count, "", "s"),
           failed > 0 ? " (some could not be decrypted)" : "");
    return true;
}

/* see cli/cli.h */
int
cardea_cli__list(int argc, char **argv)
{
    list_args args = {0};
    cardea_cli_client client;
    json_t *entities = NULL;
    char **ids = NULL;
    size_t count = 0;
    size_t failed = 0;
    int status = CARDEA_CLI_FAILED;
    cardea_err err;

    if (!parse_args(&args, argc, argv)) {
        fputs("Run 'cardea list --help' for the options.\n", stderr);
        return CARDEA_CLI_USAGE;
    }
    if (args.exit_now) {
        return CARDEA_CLI_OK;
    }
    if (!check_args(&args, argc, argv)) {
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &args.common)) {
        return CARDEA_CLI_FAILED;
    }
    err = match_ids(&ids, &count, client.session, &args);
    if (err == CARDEA_OK) {
        err = cardea_cli__fetch_all(&entities, &failed, client.session,
                                    args.type, ids, count);
    }
    if (err != CARDEA_OK) {
        cardea_cli__session_error(&client, err, "listing entities");
    } else if (print_entities(&args, entities, failed)) {
        status = CARDEA_CLI_OK;
    }
    json_decref(entities);
    cardea_strings_free(ids, count);
    cardea_cli__client_close(&client);
    return status;
}
