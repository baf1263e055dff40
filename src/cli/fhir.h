/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mapping between FHIR R4 Bundles and the decrypted iCure entities that
 * Cardea stores. The import turns one bundle file into a complete plan of
 * Patients, HealthElements, Contacts and Documents before anything is
 * sent. The export turns the entities of one patient back into a Bundle.
 * Also here: the manifests that name the fields of this mapping that must
 * be encrypted, and a field-by-field comparison of entities for
 * round-trip checks.
 *
 * The functions do no network I/O and keep no global state of their own.
 * Only cardea_fhir__read_file touches the file system.
 *
 * What the import maps (FHIR R4 -> iCure):
 *
 *   Patient            -> Patient: firstName and lastName from name[0],
 *                         names[] from every name, gender, dateOfBirth
 *                         (YYYYMMDD), dateOfDeath and deceased, addresses
 *                         with their telecoms. Patient.telecom entries go
 *                         to the first address, or to a new address
 *                         holding only telecoms when there is none.
 *   Condition          -> HealthElement: codes from code.coding, descr
 *                         (code.text, else the first display), note (the
 *                         note texts joined by blank lines), openingDate
 *                         and closingDate from onset and abatement.
 *   Encounter          -> Contact: codes from type[].coding, descr, and
 *                         openingDate/closingDate from period.
 *   Observation        -> a Service of the Contact of its encounter:
 *                         codes, label, valueDate and content {"en": ...}.
 *                         The content stores measureValue for valueQuantity,
 *                         numberValue for valueInteger, booleanValue,
 *                         fuzzyDateValue for valueDateTime, stringValue
 *                         for valueString, valueTime and the text of
 *                         valueCodeableConcept, and compoundValue with one
 *                         sub-service per component. Range, Ratio, Period
 *                         and SampledData values are not mapped, so such a
 *                         Service keeps only its code, label and date.
 *                         An Observation without an encounter is skipped.
 *   DocumentReference  -> one Document per content[].attachment with data
 *   DiagnosticReport   -> one Document per presentedForm[] with data
 *                         (documentType "report"): name, mainUti derived
 *                         from the content type, codes, and the decoded
 *                         bytes as the attachment. A resource without any
 *                         inline data is skipped.
 *   anything else      -> skipped and counted per resourceType.
 *
 * Codes stay in clear because the server searches them: each coding with
 * a system and a code becomes {id, type, code, version}, where id is
 * "type|code|version" (or "type|code" without a version). The type comes
 * from a table of known systems (http://snomed.info/sct -> "SNOMED",
 * http://loinc.org -> "LOINC", ICD-10, ICD-10-CM, RxNorm, CVX), else it is
 * the system URL as given. Ids, documentType and mainUti stay in clear
 * too. Everything else this mapping sets is health data, and the
 * manifests of cardea_fhir__manifest_entries name it.
 *
 * Dates: birthDate and deceasedDateTime become iCure fuzzy dates
 * YYYYMMDD, with 00 for a missing month or day, taken as written. Other
 * dateTimes become fuzzy date-times YYYYMMDDhhmmss, converted to UTC when
 * they have a time zone. Fractions of a second are dropped, and a date
 * without a time gives hhmmss = 000000.
 *
 * References: a subject or patient reference must resolve to a Patient
 * of the bundle, and an Observation's encounter to an Encounter of the
 * bundle. A reference resolves when it equals an entry's fullUrl, equals
 * "<Type>/<id>" of an entry (a "/_history/..." suffix is ignored), or is
 * an absolute URL ending in "/<Type>/<id>". Conditional references
 * ("Practitioner?identifier=...") and references the mapping does not
 * need are ignored. A needed reference that does not resolve rejects the
 * whole file.
 */
#ifndef CARDEA_CLI_FHIR_H
#define CARDEA_CLI_FHIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"
#include "cardea/entity.h"

/* Largest bundle file accepted, in bytes (32 MiB). */
#define CARDEA_FHIR_MAX_BUNDLE_SIZE ((size_t)32 * 1024 * 1024)
/* Size of an error message buffer that no message of this module fills. */
#define CARDEA_FHIR_ERRMSG_LEN 512
/* Length of an entity id: a UUID string without its NUL. */
#define CARDEA_FHIR_ID_LEN 36

/* cardea_fhir__entity_equal: ignore `id` members at every depth. */
#define CARDEA_FHIR_COMPARE_IGNORE_IDS 1u

/* One entity of an import plan, or one entity given to the export. */
typedef struct cardea_fhir_entity {
    cardea_entity_type type; /* PATIENT, HEALTH_ELEMENT, CONTACT, DOCUMENT */
    char id[CARDEA_FHIR_ID_LEN + 1];
    /* Id of the owning Patient entity, or a Patient's own id for a
     * Patient. */
    char patient_id[CARDEA_FHIR_ID_LEN + 1];
    /* "<Type>/<id>" of the FHIR resource it came from (no health data). */
    char *source;
    /* The decrypted entity, with "id" set. Contains health data. */
    json_t *json;
    /* Documents only: the attachment bytes and their media type as the
     * bundle gave it (for example "text/plain; charset=utf-8"). */
    uint8_t *attachment;
    size_t attachment_len;
    char *content_type;
} cardea_fhir_entity;

/* Number of resources of one resourceType. */
typedef struct cardea_fhir_type_count {
    char *resource_type;
    size_t count;
} cardea_fhir_type_count;

/*
 * An import plan: every entity to create, in creation order (Patients,
 * then HealthElements, Contacts and Documents, each in bundle order), and
 * what was left out.
 */
typedef struct cardea_fhir_plan {
    cardea_fhir_entity *entities;
    size_t entities_len;
    size_t patients;        /* Patient resources mapped */
    size_t conditions;      /* Condition resources -> HealthElements */
    size_t encounters;      /* Encounter resources -> Contacts */
    size_t observations;    /* Observation resources -> Services */
    size_t documents;       /* Document entities (one per attachment) */
    /* Resources not mapped, per resourceType, in order of first use. */
    cardea_fhir_type_count *skipped;
    size_t skipped_len;
} cardea_fhir_plan;

/*
 * Parses the bytes of one bundle file and checks that it is a FHIR
 * Bundle: a JSON object with resourceType "Bundle" and an "entry" array.
 *
 * out        (out) the bundle; release it with json_decref.
 * name       (in)  the file name, used only as the prefix of messages.
 * data, len  (in)  the file contents; they need not end with a NUL.
 * errmsg     (out) on failure, a message naming the problem and what to
 *                  do; at most errmsg_cap bytes with the NUL. May be NULL.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument), CARDEA_ETOOBIG (over
 * CARDEA_FHIR_MAX_BUNDLE_SIZE), CARDEA_EFORMAT (not JSON, truncated JSON,
 * or JSON that is not a Bundle) or CARDEA_ENOMEM. `out` is written on
 * success only.
 */
cardea_err cardea_fhir__parse(json_t **out, const char *name,
                              const char *data, size_t len, char *errmsg,
                              size_t errmsg_cap) CARDEA_MUST_CHECK;

/*
 * Reads the file at `path` and parses it with cardea_fhir__parse. A file
 * over the size limit is rejected before it is read.
 *
 * Returns the codes of cardea_fhir__parse, and CARDEA_EIO when the file
 * cannot be opened or read (the message carries strerror).
 */
cardea_err cardea_fhir__read_file(json_t **out, const char *path,
                                  char *errmsg, size_t errmsg_cap)
    CARDEA_MUST_CHECK;

/*
 * Writes the entity id of the FHIR resource named `identity` ("<Type>/<id>",
 * or the entry's fullUrl for a resource without an id). The id is SHA-256
 * of "cardea-fhir:" + identity, cut to 16 bytes, with the version bits set
 * to 8 and the RFC 9562 variant bits, written as a lowercase UUID string.
 * The same resource always gets the same id, so importing a file twice
 * addresses the same entities and the import is idempotent.
 *
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument) or CARDEA_ENOMEM.
 * `out` is written on success only.
 */
cardea_err cardea_fhir__entity_id(char out[CARDEA_FHIR_ID_LEN + 1],
                                  const char *identity) CARDEA_MUST_CHECK;

/*
 * Builds the import plan of a bundle that cardea_fhir__parse accepted.
 * The plan is complete or absent: any error rejects the whole file.
 *
 * out     (out) the plan; free it with cardea_fhir__plan_free. It
 *               contains health data.
 * name    (in)  the file name, for messages.
 * bundle  (in)  the bundle; not modified, and the plan keeps no pointer
 *               into it.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_EFORMAT (attachment data that
 * is not base64) or CARDEA_ENOMEM. CARDEA_EINVAL covers a NULL argument,
 * a Bundle without any Patient, an entry without a resource, a needed
 * reference that is missing or does not resolve, a value of the wrong
 * JSON type, an invalid date and two resources with the same identity.
 * The message names the entry or resource and never quotes a health
 * datum. `out` is written on
 * success only.
 */
cardea_err cardea_fhir__plan_build(cardea_fhir_plan **out, const char *name,
                                   const json_t *bundle, char *errmsg,
                                   size_t errmsg_cap) CARDEA_MUST_CHECK;

/* Frees a plan, wiping the attachments. NULL does nothing. */
void cardea_fhir__plan_free(cardea_fhir_plan *plan);

/* Returns the iCure name of an entity type ("Patient", "HealthElement",
 * "Contact", "Document"), or NULL for another type. */
const char *cardea_fhir__type_name(cardea_entity_type type);

/*
 * Returns the manifest to encrypt entities of this mapping with: the
 * default entries of the official SDK for `entity_type` followed by the
 * fields this import adds. `entity_type` is "Patient", "HealthElement",
 * "Contact", "Service" (the Services inside a Contact) or "Document".
 * The entries use the grammar of format/encrypted_self.h; Service
 * content is encrypted by cardea_encrypted_self__encrypt_service itself,
 * so the Service list does not name it.
 *
 * out      (out) array of *out_len pointers to static strings; free the
 *                array (not the strings) with cardea_free.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument), CARDEA_ENOTFOUND
 * (another type) or CARDEA_ENOMEM.
 */
cardea_err cardea_fhir__manifest_entries(const char ***out, size_t *out_len,
                                         const char *entity_type)
    CARDEA_MUST_CHECK;

/* Parses the entries above. Free `out` with cardea_manifest__free. */
struct cardea_manifest;
cardea_err cardea_fhir__manifest(struct cardea_manifest **out,
                                 const char *entity_type) CARDEA_MUST_CHECK;

/*
 * Builds a FHIR Bundle of type "collection" from the decrypted entities
 * of one patient. It contains the Patient, a Condition per HealthElement,
 * an Encounter per Contact with one Observation per Service, and a
 * DocumentReference per Document (a DiagnosticReport for documentType
 * "report"), with the attachment inline as base64. Resource ids are the
 * entity and Service ids, and references are "urn:uuid:<id>". Importing
 * the result gives entities equal to the input under
 * cardea_fhir__entity_equal with CARDEA_FHIR_COMPARE_IGNORE_IDS, when the
 * input came from an import.
 * The resources carry only the mapped fields, so elements that FHIR
 * requires but iCure does not store (such as Encounter.class) are absent.
 *
 * out       (out) the bundle; release with json_decref. Contains health
 *                 data.
 * entities  (in)  exactly one PATIENT, and other entities whose
 *                 patient_id is that patient's id. `content_type` may be
 *                 NULL: the media type then comes from mainUti.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, no Patient or more
 * than one, an entity of another patient or type, a field of the wrong
 * JSON type) or CARDEA_ENOMEM. `out` is written on success only.
 */
cardea_err cardea_fhir__export(json_t **out,
                               const cardea_fhir_entity *entities,
                               size_t entities_len, char *errmsg,
                               size_t errmsg_cap) CARDEA_MUST_CHECK;

/*
 * Compares an entity of an import plan (`expected`) with the same entity
 * read back (`actual`), ignoring at every depth the members that the
 * server and the SDK manage. These are rev, created, modified, author,
 * responsible, deletionDate, endOfLife, securityMetadata,
 * secretForeignKeys, cryptedForeignKeys, delegations, encryptionKeys,
 * encryptedSelf and the attachment bookkeeping of documents. A missing
 * member equals null, [] and {}, and numbers compare by value, so 70
 * equals 70.0.
 *
 * flags  CARDEA_FHIR_COMPARE_IGNORE_IDS or 0.
 * path   (out) when they differ, the first differing path, such as
 *              "$.addresses[0].city", cut to path_cap bytes. May be NULL.
 * Returns true when equal. The path names fields, never their values.
 */
bool cardea_fhir__entity_equal(const json_t *expected, const json_t *actual,
                               unsigned flags, char *path, size_t path_cap);

#endif
