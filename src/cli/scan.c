/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea scan`: checks a server database file for what end-to-end
 * encryption must keep out of it, after an import of the given bundles.
 *
 *  - Patient ids: no entity row other than the Patient itself, and no
 *    index row of another entity, contains the id of an imported
 *    patient, and no securityMetadata contains one. Patients are
 *    anonymous data owners, so the server must not learn which records
 *    are theirs.
 *  - Plaintext: no string value of the bundles' health data (names,
 *    addresses, descriptions, notes, labels, observation texts) appears
 *    in the database or its WAL file, neither as a JSON string nor, for
 *    strings of 12 bytes or more, as raw bytes. Codes, ids, document
 *    types and UTIs stay in clear by design and are not searched.
 *  - Encrypted fields: no entity row has in clear a top-level field that
 *    the manifests of the FHIR mapping encrypt, and no Service of a
 *    Contact has its label, date or a non-compound content in clear;
 *    this catches numbers (observation values) that a text search
 *    cannot.
 *  - Access-control keys (--access-control-keys, run as a patient): none
 *    of the 16-byte keys of the user's exchange data appears raw, in hex
 *    or in base64, while their SHA-256 hashes (the sdKeys the server
 *    stores) do appear, which shows that the search can find what it is
 *    looking for.
 */
/* memmem(3) is a GNU extension of glibc. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/fhir.h"
#include "crypto/crypto.h"
#include "format/keys.h"
#include "sdk/exchange.h"

/* Largest database file (with its WAL) read into memory: 1 GiB. */
#define SCAN_MAX_FILE ((size_t)1 << 30)
/* Strings shorter than this are searched only with their JSON quotes. */
#define RAW_MIN_LEN 12
/* Shortest health-data string searched at all, quotes excluded. */
#define QUOTED_MIN_LEN 3
/* Most bundles one scan takes. */
#define BUNDLES_MAX 64

static const char usage_text[] =
    "usage: cardea scan --db FILE [--bundle FILE]... "
    "[--access-control-keys] [OPTIONS]\n"
    "\n"
    "Checks a server database after an import of the bundles: no patient\n"
    "id in the metadata of other entities, none of the bundles' names,\n"
    "notes or observation values in clear, and, with\n"
    "--access-control-keys, none of the user's raw access-control keys.\n"
    "Exits with status 1 when it finds any.\n"
    "\n"
    "  --db FILE         the server's SQLite database (its -wal file is\n"
    "                    read too)\n"
    "  --bundle FILE     a bundle that was imported (repeatable)\n"
    "  --access-control-keys\n"
    "                    open the profile's session (a patient) and check\n"
    "                    its access-control keys\n" CARDEA_CLI_COMMON_HELP;

enum { OPT_DB = 1, OPT_BUNDLE, OPT_ACKEYS };

static const struct option long_options[] = {
    CARDEA_CLI_COMMON_OPTIONS,
    {"db", required_argument, NULL, OPT_DB},
    {"bundle", required_argument, NULL, OPT_BUNDLE},
    {"access-control-keys", no_argument, NULL, OPT_ACKEYS},
    {NULL, 0, NULL, 0},
};

typedef struct scan_args {
    cardea_cli_common common;
    const char *db;
    const char *bundles[BUNDLES_MAX];
    size_t bundle_count;
    bool ackeys;
    bool exit_now;
} scan_args;

typedef struct scan_result {
    size_t rows;                 /* entity rows read */
    size_t index_rows;
    size_t patient_ids;          /* patient ids looked for */
    size_t id_leaks;
    size_t strings;              /* health-data strings looked for */
    size_t string_leaks;
    size_t clear_fields;         /* encrypted fields found in clear */
    size_t ackeys;               /* access-control keys looked for */
    size_t ackey_leaks;
    size_t sdkeys_found;         /* positive control */
    size_t bytes;
} scan_result;

/* The database file and its WAL, concatenated. */
typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

/* ---- reading ------------------------------------------------------------ */

static bool
append_file(blob *all, const char *path, bool required)
{
    struct stat st;
    FILE *file;
    uint8_t *grown;
    size_t size;

    if (stat(path, &st) != 0) {
        if (required) {
            cardea_cli__error("cannot read the database %s; check --db",
                              path);
        }
        return !required;
    }
    size = (size_t)st.st_size;
    if (size > SCAN_MAX_FILE || all->len + size > SCAN_MAX_FILE) {
        cardea_cli__error("%s is over the scan limit of %zu bytes", path,
                          SCAN_MAX_FILE);
        return false;
    }
    grown = cardea_mem__realloc(all->data, all->len + size + 1);
    file = fopen(path, "rb");
    if (grown == NULL || file == NULL) {
        all->data = grown != NULL ? grown : all->data;
        if (file != NULL) {
            fclose(file);
        }
        cardea_cli__error("cannot read %s", path);
        return false;
    }
    all->data = grown;
    all->len += fread(all->data + all->len, 1, size, file);
    fclose(file);
    return true;
}

static bool
contains(const blob *all, const void *needle, size_t len)
{
    return len > 0 && memmem(all->data, all->len, needle, len) != NULL;
}

/* ---- health-data strings of the bundles --------------------------------- */

/* Members whose values stay in clear by design, at any depth. */
static bool
clear_member(const char *key)
{
    static const char *const names[] = {
        "id", "codes", "tags", "documentType", "mainUti", "author",
        "responsible", "patient_id",
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(key, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Collects the health-data strings of `value` into the set `out`. */
static void
collect_strings(json_t *out, const json_t *value)
{
    const char *key;
    json_t *child;
    size_t index;

    if (json_is_string(value)) {
        if (json_string_length(value) >= QUOTED_MIN_LEN) {
            (void)json_object_set_new(out, json_string_value(value),
                                      json_true());
        }
    } else if (json_is_object(value)) {
        json_object_foreach((json_t *)value, key, child) {
            if (!clear_member(key)) {
                collect_strings(out, child);
            }
        }
    } else if (json_is_array(value)) {
        json_array_foreach(value, index, child) {
            collect_strings(out, child);
        }
    }
}

/* Removes the strings that also appear as clear values (codes, ids). */
static void
drop_clear_values(json_t *set, const json_t *value, bool in_clear)
{
    const char *key;
    json_t *child;
    size_t index;

    if (json_is_string(value) && in_clear) {
        (void)json_object_del(set, json_string_value(value));
    } else if (json_is_object(value)) {
        json_object_foreach((json_t *)value, key, child) {
            drop_clear_values(set, child, in_clear || clear_member(key));
        }
    } else if (json_is_array(value)) {
        json_array_foreach(value, index, child) {
            drop_clear_values(set, child, in_clear);
        }
    }
}

/* Loads the plans: patient ids into `ids`, strings into `strings`. */
static bool
load_bundles(json_t *ids, json_t *strings, const scan_args *args)
{
    for (size_t b = 0; b < args->bundle_count; b++) {
        char message[CARDEA_FHIR_ERRMSG_LEN] = "";
        cardea_fhir_plan *plan = NULL;
        json_t *bundle = NULL;
        cardea_err err;

        err = cardea_fhir__read_file(&bundle, args->bundles[b], message,
                                     sizeof message);
        if (err == CARDEA_OK) {
            err = cardea_fhir__plan_build(&plan, args->bundles[b], bundle,
                                          message, sizeof message);
        }
        json_decref(bundle);
        if (err != CARDEA_OK) {
            cardea_cli__error("%s", message);
            return false;
        }
        for (size_t i = 0; i < plan->entities_len; i++) {
            if (plan->entities[i].type == CARDEA_ENTITY_PATIENT) {
                (void)json_object_set_new(ids, plan->entities[i].id,
                                          json_true());
            }
            collect_strings(strings, plan->entities[i].json);
        }
        for (size_t i = 0; i < plan->entities_len; i++) {
            drop_clear_values(strings, plan->entities[i].json, false);
        }
        cardea_fhir__plan_free(plan);
    }
    return true;
}

static void
search_strings(scan_result *result, const blob *all, const json_t *strings)
{
    const char *text;
    json_t *unused;

    json_object_foreach((json_t *)strings, text, unused) {
        json_t *value = json_string(text);
        char *quoted = value != NULL ? cardea_json__dump(value) : NULL;
        size_t len = strlen(text);
        bool found = (quoted != NULL
                      && contains(all, quoted, strlen(quoted)))
                     || (len >= RAW_MIN_LEN && contains(all, text, len));

        result->strings++;
        if (found) {
            result->string_leaks++;
            cardea_cli__error("a health-data string of %zu bytes from the "
                              "bundles is in the database in clear", len);
        }
        cardea_free(quoted);
        json_decref(value);
    }
}

/* ---- entity rows -------------------------------------------------------- */

/* Top-level field names of `type`'s manifest (entries without nesting). */
static json_t *
plain_fields(const char *type)
{
    const char **entries = NULL;
    size_t len = 0;
    json_t *names = json_object();

    if (names == NULL
        || cardea_fhir__manifest_entries(&entries, &len, type)
               != CARDEA_OK) {
        return names;
    }
    for (size_t i = 0; i < len; i++) {
        if (strpbrk(entries[i], ".[*{") == NULL) {
            (void)json_object_set_new(names, entries[i], json_true());
        }
    }
    cardea_mem__free(entries);
    return names;
}

static size_t
count_clear(const json_t *entity, const json_t *fields)
{
    const char *name;
    json_t *unused;
    size_t found = 0;

    json_object_foreach((json_t *)fields, name, unused) {
        const json_t *value = json_object_get(entity, name);

        if (value != NULL && !json_is_null(value)) {
            found++;
        }
    }
    return found;
}

/* Counts clear fields of a Service, recursing into compound values. */
static size_t
service_clear(const json_t *service, const json_t *fields)
{
    const json_t *content = json_object_get(service, "content");
    const char *lang;
    json_t *value;
    size_t found = count_clear(service, fields);

    json_object_foreach((json_t *)content, lang, value) {
        const json_t *compound = json_object_get(value, "compoundValue");
        json_t *sub;
        size_t index;

        if (json_object_size(value) != 1 || !json_is_array(compound)) {
            found++;
            continue;
        }
        json_array_foreach(compound, index, sub) {
            found += service_clear(sub, fields);
        }
    }
    return found;
}

static size_t
row_clear_fields(const char *type, const json_t *entity,
                 const json_t *service_fields)
{
    json_t *fields = plain_fields(type);
    json_t *service;
    size_t index;
    size_t found = count_clear(entity, fields);

    json_decref(fields);
    if (strcmp(type, "Contact") == 0) {
        json_array_foreach(json_object_get(entity, "services"), index,
                           service) {
            found += service_clear(service, service_fields);
        }
    }
    return found;
}

/* Checks one entity row against the patient ids. */
static size_t
row_id_leaks(const char *type, const char *id, const json_t *entity,
             const char *text, const json_t *ids)
{
    const json_t *metadata = json_object_get(entity, "securityMetadata");
    char *metadata_text = metadata != NULL ? cardea_json__dump(metadata)
                                           : NULL;
    const char *pid;
    json_t *unused;
    size_t found = 0;

    json_object_foreach((json_t *)ids, pid, unused) {
        bool own = strcmp(type, "Patient") == 0 && strcmp(id, pid) == 0;

        if ((!own && strstr(text, pid) != NULL)
            || (metadata_text != NULL && strstr(metadata_text, pid) != NULL)) {
            found++;
            cardea_cli__error("%s %s names patient %s in clear", type, id,
                              pid);
        }
    }
    cardea_free(metadata_text);
    return found;
}

static bool
scan_rows(scan_result *result, sqlite3 *db, const json_t *ids)
{
    json_t *service_fields = plain_fields("Service");
    sqlite3_stmt *stmt = NULL;
    int rc;

    rc = sqlite3_prepare_v2(db, "SELECT type, id, json FROM entities "
                            "WHERE stub_only = 0", -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(stmt, 0);
        const char *id = (const char *)sqlite3_column_text(stmt, 1);
        const char *text = (const char *)sqlite3_column_text(stmt, 2);
        json_t *entity = NULL;

        rc = SQLITE_OK;
        result->rows++;
        if (type == NULL || id == NULL || text == NULL
            || cardea_json__parse(&entity, text, strlen(text), NULL, 0)
                   != CARDEA_OK) {
            continue;
        }
        result->id_leaks += row_id_leaks(type, id, entity, text, ids);
        result->clear_fields += row_clear_fields(type, entity,
                                                 service_fields);
        json_decref(entity);
    }
    sqlite3_finalize(stmt);
    json_decref(service_fields);
    if (rc != SQLITE_DONE) {
        cardea_cli__error("cannot read the entities: %s", sqlite3_errmsg(db));
        return false;
    }
    return true;
}

static bool
scan_index(scan_result *result, sqlite3 *db, const json_t *ids)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    rc = sqlite3_prepare_v2(db, "SELECT type, value, entity_id FROM "
                            "entity_index", -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(stmt, 0);
        const char *value = (const char *)sqlite3_column_text(stmt, 1);
        const char *entity = (const char *)sqlite3_column_text(stmt, 2);

        rc = SQLITE_OK;
        result->index_rows++;
        if (value != NULL && entity != NULL
            && json_object_get(ids, value) != NULL
            && strcmp(value, entity) != 0) {
            result->id_leaks++;
            cardea_cli__error("the index of %s %s names patient %s",
                              type != NULL ? type : "?", entity, value);
        }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        cardea_cli__error("cannot read the entity index: %s",
                          sqlite3_errmsg(db));
        return false;
    }
    return true;
}

/* ---- access-control keys ------------------------------------------------ */

/* Looks for one key in every encoding, and for its sdKey. */
static void
search_key(scan_result *result, const blob *all, const uint8_t *key)
{
    char hex[2 * CARDEA_AC_KEY_LEN + 1];
    char b64[64];
    char sdkey[CARDEA_SD_KEY_HEX_LEN + 1];
    bool leak;

    result->ackeys++;
    if (cardea_hex__encode(hex, sizeof hex, key, CARDEA_AC_KEY_LEN)
            != CARDEA_OK
        || cardea_base64__encode(b64, sizeof b64, key, CARDEA_AC_KEY_LEN)
               != CARDEA_OK) {
        return;
    }
    /* 16 bytes give 22 base64 characters and "==": search without the
     * padding, so a key inside a longer base64 text is found too when
     * it starts on a 3-byte boundary. */
    leak = contains(all, key, CARDEA_AC_KEY_LEN)
           || contains(all, hex, strlen(hex))
           || contains(all, b64, 22);
    for (size_t i = 0; i < strlen(hex); i++) {
        if (hex[i] >= 'a' && hex[i] <= 'f') {
            hex[i] = (char)(hex[i] - 'a' + 'A');
        }
    }
    leak = leak || contains(all, hex, strlen(hex));
    cardea_sdkey__from_ackey(sdkey, key);
    if (contains(all, sdkey, strlen(sdkey))) {
        result->sdkeys_found++;
    }
    if (leak) {
        result->ackey_leaks++;
        cardea_cli__error("an access-control key of the user is in the "
                          "database in clear");
    }
    cardea_wipe(hex, sizeof hex);
    cardea_wipe(b64, sizeof b64);
}

static bool
scan_ackeys(scan_result *result, const blob *all, const scan_args *args)
{
    cardea_cli_client client;
    bool ok = true;

    if (!cardea_cli__client_open(&client, &args->common)) {
        return false;
    }
    if (cardea_sdk__xd_begin(client.session) != CARDEA_OK) {
        cardea_cli__session_error(&client, CARDEA_EIO,
                                  "loading the exchange data");
        cardea_cli__client_close(&client);
        return false;
    }
    for (int kind = 0; kind < CARDEA_SDK_KINDS && ok; kind++) {
        cardea_http_header *headers = NULL;
        size_t count = 0;

        ok = cardea_sdk__ac_headers(&headers, &count, client.session, kind)
             == CARDEA_OK;
        for (size_t h = 0; ok && h < count; h++) {
            uint8_t *keys = NULL;
            size_t key_count = 0;

            ok = cardea_ackey__decode_header(&keys, &key_count,
                                             headers[h].value,
                                             strlen(headers[h].value))
                 == CARDEA_OK;
            for (size_t k = 0; ok && k < key_count; k++) {
                search_key(result, all, keys + k * CARDEA_AC_KEY_LEN);
            }
            cardea_mem__free_secret(keys, key_count * CARDEA_AC_KEY_LEN);
        }
        cardea_free(headers);
    }
    if (ok && result->ackeys == 0) {
        cardea_cli__error("profile '%s' sends no access-control keys; run "
                          "--access-control-keys as a patient that has "
                          "data shared with it", client.profile.name);
        ok = false;
    }
    cardea_cli__client_close(&client);
    return ok;
}

/* ---- command ------------------------------------------------------------ */

static bool
parse_args(scan_args *args, int argc, char **argv)
{
    int option;

    cardea_cli__common_init(&args->common);
    optind = 1;
    while ((option = cardea_cli__next_option(&args->common, argc, argv,
                                             long_options, usage_text,
                                             &args->exit_now))
           != -1) {
        if (option == OPT_DB) {
            args->db = optarg;
        } else if (option == OPT_BUNDLE && args->bundle_count < BUNDLES_MAX) {
            args->bundles[args->bundle_count++] = optarg;
        } else if (option == OPT_ACKEYS) {
            args->ackeys = true;
        } else {
            return false;
        }
    }
    if (!args->exit_now && (args->db == NULL || optind < argc)) {
        cardea_cli__error("scan needs --db FILE and no other argument");
        return false;
    }
    return true;
}

static bool
result_ok(const scan_result *r, const scan_args *args)
{
    return r->id_leaks == 0 && r->string_leaks == 0 && r->clear_fields == 0
           && r->ackey_leaks == 0
           && (!args->ackeys || r->sdkeys_found > 0);
}

static void
print_result(const scan_result *r, const scan_args *args)
{
    if (args->common.json) {
        json_t *doc = json_pack(
            "{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
            "ok", result_ok(r, args), "bytes", (json_int_t)r->bytes,
            "entityRows", (json_int_t)r->rows, "indexRows",
            (json_int_t)r->index_rows, "patientIds",
            (json_int_t)r->patient_ids, "patientIdLeaks",
            (json_int_t)r->id_leaks, "strings", (json_int_t)r->strings,
            "stringLeaks", (json_int_t)r->string_leaks, "clearFields",
            (json_int_t)r->clear_fields, "accessControlKeys",
            (json_int_t)r->ackeys, "accessControlKeyLeaks",
            (json_int_t)r->ackey_leaks, "sdKeysFound",
            (json_int_t)r->sdkeys_found);

        if (doc != NULL) {
            (void)cardea_cli__print_json(doc, true);
        }
        json_decref(doc);
        return;
    }
    printf("%s: %zu bytes, %zu entity rows, %zu index rows\n", args->db,
           r->bytes, r->rows, r->index_rows);
    printf("patient ids in other entities or metadata: %zu (%zu ids)\n",
           r->id_leaks, r->patient_ids);
    printf("health-data strings in clear: %zu (%zu searched)\n",
           r->string_leaks, r->strings);
    printf("encrypted fields in clear: %zu\n", r->clear_fields);
    if (args->ackeys) {
        printf("raw access-control keys: %zu (%zu searched; %zu of their "
               "hashes found)\n", r->ackey_leaks, r->ackeys,
               r->sdkeys_found);
    }
}

static bool
run_scan(scan_result *result, const scan_args *args, const blob *all,
         sqlite3 *db)
{
    json_t *ids = json_object();
    json_t *strings = json_object();
    bool ok = ids != NULL && strings != NULL
              && load_bundles(ids, strings, args);

    if (ok) {
        result->patient_ids = json_object_size(ids);
        search_strings(result, all, strings);
        ok = scan_rows(result, db, ids) && scan_index(result, db, ids);
    }
    if (ok && args->ackeys) {
        ok = scan_ackeys(result, all, args);
    }
    json_decref(ids);
    json_decref(strings);
    return ok;
}

/* see cli/cli.h */
int
cardea_cli__scan(int argc, char **argv)
{
    char wal[CARDEA_CLI_PATH_MAX];
    scan_args args = {0};
    scan_result result = {0};
    blob all = {0};
    sqlite3 *db = NULL;
    int status = CARDEA_CLI_FAILED;

    if (!parse_args(&args, argc, argv)) {
        fputs("Run 'cardea scan --help' for the options.\n", stderr);
        return CARDEA_CLI_USAGE;
    }
    if (args.exit_now) {
        return CARDEA_CLI_OK;
    }
    snprintf(wal, sizeof wal, "%s-wal", args.db);
    if (!append_file(&all, args.db, true) || !append_file(&all, wal, false)) {
        goto out;
    }
    result.bytes = all.len;
    if (sqlite3_open_v2(args.db, &db, SQLITE_OPEN_READONLY, NULL)
        != SQLITE_OK) {
        cardea_cli__error("cannot open the database %s: %s", args.db,
                          db != NULL ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    if (run_scan(&result, &args, &all, db)) {
        print_result(&result, &args);
        status = result_ok(&result, &args) ? CARDEA_CLI_OK
                                           : CARDEA_CLI_FAILED;
    }

out:
    sqlite3_close(db);
    cardea_mem__free(all.data);
    return status;
}
