/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FHIR mapping's entry points that are not the mapping itself:
 * reading and checking a bundle file, deterministic entity ids, the
 * extended manifests, the code-system and media-type tables, and freeing
 * plans. The import lives in fhir_import.c, the export and the entity
 * comparison in fhir_export.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/base.h"
#include "cli/fhir.h"
#include "cli/fhir_internal.h"
#include "crypto/crypto.h"
#include "format/encrypted_self.h"

/* ---- messages ----------------------------------------------------------- */

/* see cli/fhir_internal.h */
void
cardea_fhir__set_error(char *errmsg, size_t errmsg_cap, const char *name,
                       const char *fmt, ...)
{
    va_list ap;
    int used;

    if (errmsg == NULL || errmsg_cap == 0) {
        return;
    }
    used = snprintf(errmsg, errmsg_cap, "%s: ", name != NULL ? name : "?");
    if (used < 0 || (size_t)used >= errmsg_cap) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(errmsg + used, errmsg_cap - (size_t)used, fmt, ap);
    va_end(ap);
}

/* ---- tables ------------------------------------------------------------- */

/* FHIR code systems and the iCure code types used for them. */
static const struct {
    const char *system;
    const char *type;
} code_systems[] = {
    {"http://snomed.info/sct", "SNOMED"},
    {"http://loinc.org", "LOINC"},
    {"http://hl7.org/fhir/sid/icd-10", "ICD10"},
    {"http://hl7.org/fhir/sid/icd-10-cm", "ICD10CM"},
    {"http://www.nlm.nih.gov/research/umls/rxnorm", "RXNORM"},
    {"http://hl7.org/fhir/sid/cvx", "CVX"},
};

/* see cli/fhir_internal.h */
const char *
cardea_fhir__code_type(const char *system)
{
    for (size_t i = 0; i < sizeof code_systems / sizeof code_systems[0];
         i++) {
        if (strcmp(code_systems[i].system, system) == 0) {
            return code_systems[i].type;
        }
    }
    return system;
}

/* see cli/fhir_internal.h */
const char *
cardea_fhir__code_system(const char *type)
{
    for (size_t i = 0; i < sizeof code_systems / sizeof code_systems[0];
         i++) {
        if (strcmp(code_systems[i].type, type) == 0) {
            return code_systems[i].system;
        }
    }
    return type;
}

/* Media types and the Uniform Type Identifiers iCure stores in mainUti. */
static const struct {
    const char *media_type;
    const char *uti;
} media_types[] = {
    {"text/plain", "public.plain-text"},
    {"application/pdf", "com.adobe.pdf"},
    {"text/html", "public.html"},
    {"application/xml", "public.xml"},
    {"text/xml", "public.xml"},
    {"application/json", "public.json"},
    {"text/rtf", "public.rtf"},
    {"image/jpeg", "public.jpeg"},
    {"image/png", "public.png"},
    {"image/tiff", "public.tiff"},
    {"application/dicom", "org.nema.dicom"},
    {"application/octet-stream", "public.data"},
};

/* see cli/fhir_internal.h */
const char *
cardea_fhir__uti_of(const char *content_type)
{
    size_t len;

    if (content_type == NULL) {
        return "public.data";
    }
    len = strcspn(content_type, ";");
    while (len > 0 && content_type[len - 1] == ' ') {
        len--;
    }
    for (size_t i = 0; i < sizeof media_types / sizeof media_types[0]; i++) {
        if (strlen(media_types[i].media_type) == len &&
            strncasecmp(media_types[i].media_type, content_type, len) == 0) {
            return media_types[i].uti;
        }
    }
    return "public.data";
}

/* see cli/fhir_internal.h */
const char *
cardea_fhir__media_type_of(const char *uti)
{
    for (size_t i = 0; uti != NULL &&
                       i < sizeof media_types / sizeof media_types[0];
         i++) {
        if (strcmp(media_types[i].uti, uti) == 0) {
            return media_types[i].media_type;
        }
    }
    return "application/octet-stream";
}

/* ---- parsing ------------------------------------------------------------ */

/* Reports a file over the size limit; `len` is 0 when it is unknown. */
static cardea_err
too_big(char *errmsg, size_t errmsg_cap, const char *name, size_t len)
{
    char size[64] = "";

    if (len > 0) {
        snprintf(size, sizeof size, " (%zu bytes)", len);
    }
    cardea_fhir__set_error(errmsg, errmsg_cap, name,
                           "file%s is over the limit of %zu bytes (32 MiB) "
                           "for one bundle; split it into one bundle per "
                           "patient",
                           size, CARDEA_FHIR_MAX_BUNDLE_SIZE);
    return CARDEA_ETOOBIG;
}

/*
 * True when the text ends inside a string or with an object or array
 * still open, which is what a cut-off copy of a JSON file looks like.
 */
static bool
ends_inside_value(const char *data, size_t len)
{
    size_t depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return in_string || depth > 0;
}

/* see cli/fhir.h */
cardea_err
cardea_fhir__parse(json_t **out, const char *name, const char *data,
                   size_t len, char *errmsg, size_t errmsg_cap)
{
    char detail[CARDEA_FHIR_ERRMSG_LEN] = "";
    const json_t *entries;
    json_t *bundle = NULL;
    const char *type;

    if (out == NULL || name == NULL || (data == NULL && len > 0)) {
        return CARDEA_EINVAL;
    }
    if (len > CARDEA_FHIR_MAX_BUNDLE_SIZE) {
        return too_big(errmsg, errmsg_cap, name, len);
    }

    if (cardea_json__parse(&bundle, data, len, detail, sizeof detail) !=
        CARDEA_OK) {
        bool truncated = ends_inside_value(data, len);
        char *near = strstr(detail, " near ");

        /* jansson quotes the text near the error, which may be a health
         * datum; the line and column are enough to find it. */
        if (near != NULL) {
            *near = '\0';
        }
        cardea_fhir__set_error(errmsg, errmsg_cap, name,
                               "%s (%s); expected a FHIR R4 Bundle in JSON",
                               truncated ? "JSON ends early, the file looks "
                                           "truncated"
                                         : "not valid JSON",
                               detail);
        return CARDEA_EFORMAT;
    }

    type = cardea_json__get_str(bundle, "resourceType");
    entries = json_object_get(bundle, "entry");
    if (type == NULL || strcmp(type, "Bundle") != 0) {
        cardea_fhir__set_error(errmsg, errmsg_cap, name,
                               "JSON is not a FHIR Bundle (resourceType is "
                               "%s%s%s); export the record as a Bundle",
                               type != NULL ? "\"" : "",
                               type != NULL ? type : "missing",
                               type != NULL ? "\"" : "");
        json_decref(bundle);
        return CARDEA_EFORMAT;
    }
    if (!json_is_array(entries)) {
        cardea_fhir__set_error(errmsg, errmsg_cap, name,
                               "Bundle has no \"entry\" array, so it holds "
                               "no resources to import");
        json_decref(bundle);
        return CARDEA_EFORMAT;
    }
    *out = bundle;
    return CARDEA_OK;
}

/* Reads all of `file` into a new buffer; CARDEA_ETOOBIG past `max`. */
static cardea_err
read_all(char **out, size_t *out_len, FILE *file, size_t max)
{
    cardea_buf buf;
    char chunk[65536];
    size_t got;
    cardea_err err = CARDEA_OK;

    /* The buffer keeps one byte for the NUL that take_str appends. */
    cardea_buf__init(&buf, max + 1);
    while (err == CARDEA_OK &&
           (got = fread(chunk, 1, sizeof chunk, file)) > 0) {
        err = cardea_buf__append(&buf, chunk, got);
    }
    if (err == CARDEA_OK && ferror(file)) {
        err = CARDEA_EIO;
    }
    if (err == CARDEA_OK) {
        *out_len = buf.len;
        err = cardea_buf__take_str(out, &buf);
    }
    cardea_buf__free(&buf, true);
    cardea_wipe(chunk, sizeof chunk);
    return err;
}

/* see cli/fhir.h */
cardea_err
cardea_fhir__read_file(json_t **out, const char *path, char *errmsg,
                       size_t errmsg_cap)
{
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    FILE *file;
    cardea_err err;

    if (out == NULL || path == NULL) {
        return CARDEA_EINVAL;
    }
    if ((file = fopen(path, "rb")) == NULL) {
        cardea_fhir__set_error(errmsg, errmsg_cap, path,
                               "cannot open: %s", strerror(errno));
        return CARDEA_EIO;
    }

    /* Check the size first so that a huge file is never read in full. */
    if (fstat(fileno(file), &st) == 0 && S_ISREG(st.st_mode) &&
        (uintmax_t)st.st_size > CARDEA_FHIR_MAX_BUNDLE_SIZE) {
        fclose(file);
        return too_big(errmsg, errmsg_cap, path, (size_t)st.st_size);
    }
    err = read_all(&data, &len, file, CARDEA_FHIR_MAX_BUNDLE_SIZE);
    fclose(file);
    if (err == CARDEA_ETOOBIG) {
        return too_big(errmsg, errmsg_cap, path, 0);
    }
    if (err != CARDEA_OK) {
        cardea_fhir__set_error(errmsg, errmsg_cap, path, "cannot read: %s",
                               err == CARDEA_EIO ? "I/O error"
                                                 : "out of memory");
        return err;
    }

    err = cardea_fhir__parse(out, path, data, len, errmsg, errmsg_cap);
    cardea_mem__free_secret(data, len);
    return err;
}

/* ---- ids and names ------------------------------------------------------ */

/* see cli/fhir.h */
cardea_err
cardea_fhir__entity_id(char out[CARDEA_FHIR_ID_LEN + 1], const char *identity)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t digest[CARDEA_SHA256_LEN];
    cardea_buf msg;
    size_t pos = 0;

    if (out == NULL || identity == NULL) {
        return CARDEA_EINVAL;
    }
    cardea_buf__init(&msg, 0);
    if (cardea_buf__append_str(&msg, "cardea-fhir:") != CARDEA_OK ||
        cardea_buf__append_str(&msg, identity) != CARDEA_OK) {
        cardea_buf__free(&msg, false);
        return CARDEA_ENOMEM;
    }
    cardea_hash__sha256(digest, msg.data, msg.len);
    cardea_buf__free(&msg, false);

    digest[6] = (uint8_t)((digest[6] & 0x0f) | 0x80); /* version 8 */
    digest[8] = (uint8_t)((digest[8] & 0x3f) | 0x80); /* RFC variant */
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[pos++] = '-';
        }
        out[pos++] = digits[digest[i] >> 4];
        out[pos++] = digits[digest[i] & 0x0f];
    }
    out[pos] = '\0';
    return CARDEA_OK;
}

/* see cli/fhir.h */
const char *
cardea_fhir__type_name(cardea_entity_type type)
{
    switch (type) {
    case CARDEA_ENTITY_PATIENT:
        return "Patient";
    case CARDEA_ENTITY_HEALTH_ELEMENT:
        return "HealthElement";
    case CARDEA_ENTITY_CONTACT:
        return "Contact";
    case CARDEA_ENTITY_DOCUMENT:
        return "Document";
    default:
        return NULL;
    }
}

/* ---- manifests ---------------------------------------------------------- */

/*
 * Fields the import sets beyond those the default manifests already
 * encrypt. Codes, ids, documentType and mainUti stay in clear.
 */
static const char *const patient_extra[] = {
    "firstName", "lastName", "names",    "gender",
    "dateOfBirth", "dateOfDeath", "deceased", "addresses",
};
static const char *const dated_extra[] = {"openingDate", "closingDate"};
static const char *const service_extra[] = {"label", "valueDate"};

/* see cli/fhir.h */
cardea_err
cardea_fhir__manifest_entries(const char ***out, size_t *out_len,
                              const char *entity_type)
{
    const char *const *defaults = NULL;
    const char *const *extra = NULL;
    size_t defaults_len = 0, extra_len = 0, total;
    const char **entries;
    cardea_err err;

    if (out == NULL || out_len == NULL || entity_type == NULL) {
        return CARDEA_EINVAL;
    }
    err = cardea_manifest__default_entries(&defaults, &defaults_len,
                                           entity_type);
    if (err != CARDEA_OK) {
        return err;
    }
    if (strcmp(entity_type, "Patient") == 0) {
        extra = patient_extra;
        extra_len = sizeof patient_extra / sizeof patient_extra[0];
    } else if (strcmp(entity_type, "HealthElement") == 0 ||
               strcmp(entity_type, "Contact") == 0) {
        extra = dated_extra;
        extra_len = sizeof dated_extra / sizeof dated_extra[0];
    } else if (strcmp(entity_type, "Service") == 0) {
        extra = service_extra;
        extra_len = sizeof service_extra / sizeof service_extra[0];
    } else if (strcmp(entity_type, "Document") != 0) {
        return CARDEA_ENOTFOUND;
    }

    total = defaults_len + extra_len;
    if ((entries = cardea_mem__calloc(total + 1, sizeof *entries)) == NULL) {
        return CARDEA_ENOMEM;
    }
    for (size_t i = 0; i < defaults_len; i++) {
        entries[i] = defaults[i];
    }
    for (size_t i = 0; i < extra_len; i++) {
        entries[defaults_len + i] = extra[i];
    }
    *out = entries;
    *out_len = total;
    return CARDEA_OK;
}

/* see cli/fhir.h */
cardea_err
cardea_fhir__manifest(struct cardea_manifest **out, const char *entity_type)
{
    const char **entries = NULL;
    size_t len = 0;
    cardea_err err;

    if (out == NULL) {
        return CARDEA_EINVAL;
    }
    err = cardea_fhir__manifest_entries(&entries, &len, entity_type);
    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_manifest__parse(out, entries, len);
    cardea_mem__free(entries);
    return err;
}

/* ---- plans -------------------------------------------------------------- */

/* see cli/fhir.h */
void
cardea_fhir__plan_free(cardea_fhir_plan *plan)
{
    if (plan == NULL) {
        return;
    }
    for (size_t i = 0; i < plan->entities_len; i++) {
        cardea_fhir_entity *e = &plan->entities[i];

        cardea_mem__free(e->source);
        json_decref(e->json);
        cardea_mem__free_secret(e->attachment, e->attachment_len);
        cardea_mem__free(e->content_type);
    }
    cardea_mem__free(plan->entities);
    for (size_t i = 0; i < plan->skipped_len; i++) {
        cardea_mem__free(plan->skipped[i].resource_type);
    }
    cardea_mem__free(plan->skipped);
    cardea_mem__free(plan);
}
