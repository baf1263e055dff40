/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the FHIR mapping (src/cli/fhir*.c). The example bundles map to
 * the expected number of entities, which the tests count from the JSON
 * without the mapping code. Ids are stable. Codes stay in clear, while
 * every health datum of the input ends up under the returned manifests.
 * Bad files are rejected with a message and no plan, and export then
 * import gives the same entities. Runs in tests/, next to
 * ../examples/fhir and cli/data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "cli/fhir.h"
#include "crypto/crypto.h"
#include "format/encrypted_self.h"

static const char *const examples[] = {
    "../examples/fhir/patient-01.json",
    "../examples/fhir/patient-07.json",
    "../examples/fhir/patient-09.json",
    "../examples/fhir/patient-12.json",
};
#define EXAMPLE_COUNT (sizeof examples / sizeof examples[0])

/* A pointer that malloc never returns (it is not 16-byte aligned), to
 * see that outputs of a failed call were not written. */
#define UNTOUCHED ((void *)(uintptr_t)0x5a5a5a5a)

/* ---- helpers ------------------------------------------------------------ */

static json_t *
load(const char *path)
{
    char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
    json_t *bundle = NULL;
    cardea_err err = cardea_fhir__read_file(&bundle, path, msg, sizeof msg);

    if (err != CARDEA_OK) {
        fail_msg("%s: %s", path, msg);
    }
    return bundle;
}

static cardea_fhir_plan *
plan_of(const char *name, const json_t *bundle)
{
    char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
    cardea_fhir_plan *plan = NULL;
    cardea_err err = cardea_fhir__plan_build(&plan, name, bundle, msg,
                                             sizeof msg);

    if (err != CARDEA_OK) {
        fail_msg("%s: %s", name, msg);
    }
    return plan;
}

static json_t *
parse_text(const char *text)
{
    char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
    json_t *bundle = NULL;

    if (cardea_fhir__parse(&bundle, "inline", text, strlen(text), msg,
                           sizeof msg) != CARDEA_OK) {
        fail_msg("%s", msg);
    }
    return bundle;
}

static const json_t *
resource_of(const json_t *entry)
{
    return json_object_get(entry, "resource");
}

static const char *
type_of(const json_t *entry)
{
    return cardea_json__get_str(resource_of(entry), "resourceType");
}

static size_t
skipped_count(const cardea_fhir_plan *plan, const char *type)
{
    for (size_t i = 0; i < plan->skipped_len; i++) {
        if (strcmp(plan->skipped[i].resource_type, type) == 0) {
            return plan->skipped[i].count;
        }
    }
    return 0;
}

/* Number of elements of `list` whose attachment has inline data. */
static size_t
attachments_with_data(const json_t *list, const char *member)
{
    const json_t *item;
    size_t i, n = 0;

    json_array_foreach(list, i, item) {
        const json_t *att = member != NULL ? json_object_get(item, member)
                                           : item;

        n += json_is_string(json_object_get(att, "data")) ? 1 : 0;
    }
    return n;
}

static bool
has_snomed_coding(const json_t *res)
{
    const json_t *coding;
    size_t i;

    json_array_foreach(json_object_get(json_object_get(res, "code"),
                                       "coding"),
                       i, coding) {
        const char *system = cardea_json__get_str(coding, "system");

        if (system != NULL && strcmp(system, "http://snomed.info/sct") == 0) {
            return true;
        }
    }
    return false;
}

static size_t
count_type(const cardea_fhir_plan *plan, cardea_entity_type type)
{
    size_t n = 0;

    for (size_t i = 0; i < plan->entities_len; i++) {
        n += plan->entities[i].type == type ? 1 : 0;
    }
    return n;
}

/* Number of HealthElements with a code of type SNOMED. */
static size_t
count_snomed_elements(const cardea_fhir_plan *plan)
{
    size_t n = 0;

    for (size_t i = 0; i < plan->entities_len; i++) {
        const json_t *code;
        size_t j;
        bool found = false;

        if (plan->entities[i].type != CARDEA_ENTITY_HEALTH_ELEMENT) {
            continue;
        }
        json_array_foreach(json_object_get(plan->entities[i].json, "codes"),
                           j, code) {
            found = found || strcmp(cardea_json__get_str(code, "type"),
                                    "SNOMED") == 0;
        }
        n += found ? 1 : 0;
    }
    return n;
}

static cardea_entity_key
random_key(void)
{
    cardea_entity_key key = {.len = 32};

    cardea_random__bytes(key.bytes, key.len);
    return key;
}

static cardea_manifest *
manifest(const char *type)
{
    cardea_manifest *m = NULL;

    assert_int_equal(cardea_fhir__manifest(&m, type), CARDEA_OK);
    return m;
}

/* Encrypts an entity as the import must: with the mapping's manifests. */
static json_t *
encrypt(const cardea_fhir_entity *e, const cardea_entity_key *key)
{
    const char *type = cardea_fhir__type_name(e->type);
    cardea_manifest *m = manifest(type);
    json_t *out = NULL;

    if (e->type == CARDEA_ENTITY_CONTACT) {
        cardea_manifest *services = manifest("Service");

        assert_int_equal(cardea_encrypted_self__encrypt_contact(
                             &out, e->json, m, services, key),
                         CARDEA_OK);
        cardea_manifest__free(services);
    } else {
        assert_int_equal(cardea_encrypted_self__encrypt(&out, e->json, m,
                                                        key),
                         CARDEA_OK);
    }
    cardea_manifest__free(m);
    return out;
}

/* Removes, at every depth, the members that are meant to be in clear or
 * are ciphertext: encryptedSelf, id and codes. */
static void
strip_clear_by_design(json_t *value)
{
    static const char *const names[] = {"encryptedSelf", "id", "codes"};
    const char *key;
    json_t *item;
    size_t i;

    if (json_is_object(value)) {
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            json_object_del(value, names[i]);
        }
        json_object_foreach(value, key, item) {
            strip_clear_by_design(item);
        }
    } else if (json_is_array(value)) {
        json_array_foreach(value, i, item) {
            strip_clear_by_design(item);
        }
    }
}

static size_t
count_numbers(const json_t *value)
{
    const char *key;
    json_t *item;
    size_t i, n = json_is_number(value) ? 1 : 0;

    if (json_is_object(value)) {
        json_object_foreach((json_t *)value, key, item) {
            n += count_numbers(item);
        }
    } else if (json_is_array(value)) {
        json_array_foreach(value, i, item) {
            n += count_numbers(item);
        }
    }
    return n;
}

/* ---- sensitive values of the input -------------------------------------- */

typedef struct value_list {
    char *items[8192];
    size_t len;
} value_list;

/* Records `s` when it is long enough to search for without chance hits. */
static void
add_value(value_list *list, const char *s)
{
    if (s == NULL || strlen(s) < 4 || list->len == 8192) {
        return;
    }
    list->items[list->len] = cardea_mem__strdup(s);
    assert_non_null(list->items[list->len]);
    list->len++;
}

static void
add_strings(value_list *list, const json_t *array)
{
    const json_t *item;
    size_t i;

    json_array_foreach(array, i, item) {
        add_value(list, json_string_value(item));
    }
}

/* The text and every display of a CodeableConcept. */
static void
add_concept(value_list *list, const json_t *concept)
{
    const json_t *coding;
    size_t i;

    add_value(list, cardea_json__get_str(concept, "text"));
    json_array_foreach(json_object_get(concept, "coding"), i, coding) {
        add_value(list, cardea_json__get_str(coding, "display"));
    }
}

/* The first 40 bytes of decoded attachment data, as text. */
static void
add_attachment(value_list *list, const json_t *attachment)
{
    const char *data = cardea_json__get_str(attachment, "data");
    uint8_t *bytes = NULL;
    size_t len = 0;
    char prefix[41];

    add_value(list, cardea_json__get_str(attachment, "title"));
    if (data == NULL || cardea_base64__decode_alloc(&bytes, &len, data,
                                                    strlen(data)) !=
                            CARDEA_OK) {
        return;
    }
    len = len < 40 ? len : 40;
    memcpy(prefix, bytes, len);
    prefix[len] = '\0';
    add_value(list, prefix);
    cardea_free(bytes);
}

static void
add_patient_values(value_list *list, const json_t *res)
{
    const json_t *item;
    size_t i;

    json_array_foreach(json_object_get(res, "name"), i, item) {
        add_value(list, cardea_json__get_str(item, "family"));
        add_strings(list, json_object_get(item, "given"));
        add_value(list, cardea_json__get_str(item, "text"));
    }
    json_array_foreach(json_object_get(res, "address"), i, item) {
        add_strings(list, json_object_get(item, "line"));
        add_value(list, cardea_json__get_str(item, "city"));
        add_value(list, cardea_json__get_str(item, "state"));
        add_value(list, cardea_json__get_str(item, "postalCode"));
    }
    json_array_foreach(json_object_get(res, "telecom"), i, item) {
        add_value(list, cardea_json__get_str(item, "value"));
    }
    add_value(list, cardea_json__get_str(res, "birthDate"));
}

/* Collects the health data of a bundle, reading the FHIR JSON directly. */
static void
collect_values(value_list *list, const json_t *bundle)
{
    const json_t *entry, *item;
    size_t i, j;

    json_array_foreach(json_object_get(bundle, "entry"), i, entry) {
        const json_t *res = resource_of(entry);
        const char *type = type_of(entry);

        if (strcmp(type, "Patient") == 0) {
            add_patient_values(list, res);
        } else if (strcmp(type, "Condition") == 0 ||
                   strcmp(type, "Observation") == 0 ||
                   strcmp(type, "DiagnosticReport") == 0) {
            add_concept(list, json_object_get(res, "code"));
            add_concept(list, json_object_get(res, "valueCodeableConcept"));
            add_value(list, cardea_json__get_str(res, "valueString"));
            json_array_foreach(json_object_get(res, "note"), j, item) {
                add_value(list, cardea_json__get_str(item, "text"));
            }
            json_array_foreach(json_object_get(res, "component"), j, item) {
                add_concept(list, json_object_get(item, "code"));
            }
            json_array_foreach(json_object_get(res, "presentedForm"), j,
                               item) {
                add_attachment(list, item);
            }
        } else if (strcmp(type, "Encounter") == 0) {
            json_array_foreach(json_object_get(res, "type"), j, item) {
                add_concept(list, item);
            }
        } else if (strcmp(type, "DocumentReference") == 0) {
            add_value(list, cardea_json__get_str(res, "description"));
            add_concept(list, json_object_get(res, "type"));
            json_array_foreach(json_object_get(res, "content"), j, item) {
                add_attachment(list, json_object_get(item, "attachment"));
            }
        }
    }
}

static void
free_values(value_list *list)
{
    for (size_t i = 0; i < list->len; i++) {
        cardea_free(list->items[i]);
    }
    list->len = 0;
}

/* ---- mapping of the examples -------------------------------------------- */

/* Expected numbers for one bundle, counted from its JSON alone. */
typedef struct expected_counts {
    size_t patients, conditions, snomed_conditions, encounters;
    size_t observations, observations_skipped, documents;
    size_t doc_refs_skipped, reports_skipped, other_skipped;
} expected_counts;

static void
count_expected(expected_counts *c, const json_t *bundle)
{
    const json_t *entry;
    size_t i;

    memset(c, 0, sizeof *c);
    json_array_foreach(json_object_get(bundle, "entry"), i, entry) {
        const json_t *res = resource_of(entry);
        const char *type = type_of(entry);
        size_t n;

        if (strcmp(type, "Patient") == 0) {
            c->patients++;
        } else if (strcmp(type, "Condition") == 0) {
            c->conditions++;
            c->snomed_conditions += has_snomed_coding(res) ? 1 : 0;
        } else if (strcmp(type, "Encounter") == 0) {
            c->encounters++;
        } else if (strcmp(type, "Observation") == 0) {
            bool linked = json_object_get(res, "encounter") != NULL;

            c->observations += linked ? 1 : 0;
            c->observations_skipped += linked ? 0 : 1;
        } else if (strcmp(type, "DocumentReference") == 0) {
            n = attachments_with_data(json_object_get(res, "content"),
                                      "attachment");
            c->documents += n;
            c->doc_refs_skipped += n == 0 ? 1 : 0;
        } else if (strcmp(type, "DiagnosticReport") == 0) {
            n = attachments_with_data(json_object_get(res, "presentedForm"),
                                      NULL);
            c->documents += n;
            c->reports_skipped += n == 0 ? 1 : 0;
        } else {
            c->other_skipped++;
        }
    }
}

static void
test_fhir__examples_map_expected_counts(void **state)
{
    (void)state;
    for (size_t k = 0; k < EXAMPLE_COUNT; k++) {
        json_t *bundle = load(examples[k]);
        cardea_fhir_plan *plan = plan_of(examples[k], bundle);
        expected_counts want;
        size_t services = 0, other_skipped = 0;

        count_expected(&want, bundle);
        assert_int_equal(plan->patients, want.patients);
        assert_int_equal(plan->conditions, want.conditions);
        assert_int_equal(plan->encounters, want.encounters);
        assert_int_equal(plan->observations, want.observations);
        assert_int_equal(plan->documents, want.documents);
        assert_int_equal(count_type(plan, CARDEA_ENTITY_PATIENT), 1);
        assert_int_equal(count_type(plan, CARDEA_ENTITY_HEALTH_ELEMENT),
                         want.conditions);
        assert_int_equal(count_snomed_elements(plan), want.snomed_conditions);
        assert_int_equal(count_type(plan, CARDEA_ENTITY_CONTACT),
                         want.encounters);
        assert_int_equal(count_type(plan, CARDEA_ENTITY_DOCUMENT),
                         want.documents);
        assert_int_equal(plan->entities_len,
                         want.patients + want.conditions + want.encounters +
                             want.documents);

        for (size_t i = 0; i < plan->entities_len; i++) {
            services += json_array_size(
                json_object_get(plan->entities[i].json, "services"));
        }
        assert_int_equal(services, want.observations);

        assert_int_equal(skipped_count(plan, "Observation"),
                         want.observations_skipped);
        assert_int_equal(skipped_count(plan, "DocumentReference"),
                         want.doc_refs_skipped);
        assert_int_equal(skipped_count(plan, "DiagnosticReport"),
                         want.reports_skipped);
        for (size_t i = 0; i < plan->skipped_len; i++) {
            other_skipped += plan->skipped[i].count;
        }
        assert_int_equal(other_skipped - want.observations_skipped -
                             want.doc_refs_skipped - want.reports_skipped,
                         want.other_skipped);

        cardea_fhir__plan_free(plan);
        json_decref(bundle);
    }
}

/* Owners and creation order: Patient first, every entity of that patient. */
static void
test_fhir__plan_order_and_owner(void **state)
{
    (void)state;
    for (size_t k = 0; k < EXAMPLE_COUNT; k++) {
        json_t *bundle = load(examples[k]);
        cardea_fhir_plan *plan = plan_of(examples[k], bundle);
        const cardea_fhir_entity *patient = &plan->entities[0];

        assert_int_equal(patient->type, CARDEA_ENTITY_PATIENT);
        assert_string_equal(patient->patient_id, patient->id);
        for (size_t i = 1; i < plan->entities_len; i++) {
            const cardea_fhir_entity *e = &plan->entities[i];

            assert_true(e->type >= plan->entities[i - 1].type);
            assert_string_equal(e->patient_id, patient->id);
            assert_string_equal(cardea_json__get_str(e->json, "id"), e->id);
            assert_non_null(e->source);
            assert_true(e->type == CARDEA_ENTITY_DOCUMENT ||
                        e->attachment == NULL);
        }
        cardea_fhir__plan_free(plan);
        json_decref(bundle);
    }
}

static void
test_fhir__ids_deterministic(void **state)
{
    (void)state;
    for (size_t k = 0; k < EXAMPLE_COUNT; k++) {
        json_t *first_bundle = load(examples[k]);
        json_t *second_bundle = load(examples[k]);
        cardea_fhir_plan *first = plan_of(examples[k], first_bundle);
        cardea_fhir_plan *second = plan_of(examples[k], second_bundle);
        json_t *seen = json_object();

        assert_int_equal(first->entities_len, second->entities_len);
        for (size_t i = 0; i < first->entities_len; i++) {
            const json_t *services =
                json_object_get(first->entities[i].json, "services");
            const json_t *service;
            size_t j;

            assert_string_equal(first->entities[i].id,
                                second->entities[i].id);
            assert_true(cardea_uuid__is_valid(first->entities[i].id));
            assert_int_equal(first->entities[i].id[14], '8');
            assert_null(json_object_get(seen, first->entities[i].id));
            assert_int_equal(json_object_set_new(seen, first->entities[i].id,
                                                 json_true()),
                             0);
            assert_true(json_equal(first->entities[i].json,
                                   second->entities[i].json));
            json_array_foreach(services, j, service) {
                const char *id = cardea_json__get_str(service, "id");

                assert_true(cardea_uuid__is_valid(id));
                assert_null(json_object_get(seen, id));
                assert_int_equal(json_object_set_new(seen, id, json_true()),
                                 0);
            }
        }
        json_decref(seen);
        cardea_fhir__plan_free(first);
        cardea_fhir__plan_free(second);
        json_decref(first_bundle);
        json_decref(second_bundle);
    }
}

/* The id scheme, recomputed here from SHA-256 of the documented input. */
static void
test_fhir__entity_id_scheme(void **state)
{
    static const char identity[] =
        "Patient/d78af07c-9cb9-4f31-9b11-c45a28f2eec8";
    char id[CARDEA_FHIR_ID_LEN + 1];
    char hex[2 * CARDEA_SHA256_LEN + 1];
    char message[128];
    char want[CARDEA_FHIR_ID_LEN + 1];

    (void)state;
    snprintf(message, sizeof message, "cardea-fhir:%s", identity);
    cardea_hash__sha256_hex(hex, message, strlen(message));
    snprintf(want, sizeof want, "%.8s-%.4s-8%.3s-%c%.3s-%.12s", hex, hex + 8,
             hex + 13, "89ab"[strtol((char[]){hex[16], 0}, NULL, 16) & 3],
             hex + 17, hex + 20);

    assert_int_equal(cardea_fhir__entity_id(id, identity), CARDEA_OK);
    assert_string_equal(id, want);
    assert_int_equal(cardea_fhir__entity_id(id, "Patient/other"), CARDEA_OK);
    assert_string_not_equal(id, want);
}

static void
test_fhir__codes_stay_in_clear(void **state)
{
    cardea_entity_key key = random_key();

    (void)state;
    for (size_t k = 0; k < EXAMPLE_COUNT; k++) {
        json_t *bundle = load(examples[k]);
        cardea_fhir_plan *plan = plan_of(examples[k], bundle);
        size_t checked = 0;

        for (size_t i = 0; i < plan->entities_len; i++) {
            json_t *enc = encrypt(&plan->entities[i], &key);
            const json_t *codes = json_object_get(plan->entities[i].json,
                                                  "codes");
            const json_t *services = json_object_get(enc, "services");
            const json_t *service;
            size_t j;

            if (codes != NULL) {
                assert_true(json_equal(json_object_get(enc, "codes"),
                                       (json_t *)codes));
                checked++;
            }
            json_array_foreach(services, j, service) {
                const json_t *plain = json_array_get(
                    json_object_get(plan->entities[i].json, "services"), j);

                assert_true(json_equal(
                    json_object_get(service, "codes"),
                    json_object_get((json_t *)plain, "codes")));
                assert_non_null(json_object_get(service, "codes"));
                checked++;
            }
            json_decref(enc);
        }
        assert_true(checked > 0);
        cardea_fhir__plan_free(plan);
        json_decref(bundle);
    }
    cardea_wipe(&key, sizeof key);
}

/*
 * After encryption with the returned manifests, the cleartext contains no
 * number and none of the input's names, addresses, phone numbers, dates,
 * texts, notes, values or attachment text; decryption gives the entity
 * back.
 */
static void
test_fhir__health_data_encrypted(void **state)
{
    static value_list values;
    cardea_entity_key key = random_key();

    (void)state;
    for (size_t k = 0; k < EXAMPLE_COUNT; k++) {
        json_t *bundle = load(examples[k]);
        cardea_fhir_plan *plan = plan_of(examples[k], bundle);

        collect_values(&values, bundle);
        assert_true(values.len > 10);
        for (size_t i = 0; i < plan->entities_len; i++) {
            json_t *enc = encrypt(&plan->entities[i], &key);
            json_t *dec = NULL;
            json_t *clear = json_deep_copy(enc);
            char *text;

            assert_int_equal(cardea_encrypted_self__decrypt(&dec, enc, &key,
                                                            1),
                             CARDEA_OK);
            assert_true(cardea_fhir__entity_equal(plan->entities[i].json,
                                                  dec, 0, NULL, 0));
            strip_clear_by_design(clear);
            assert_int_equal(count_numbers(clear), 0);
            text = cardea_json__dump(clear);
            assert_non_null(text);
            for (size_t v = 0; v < values.len; v++) {
                if (strstr(text, values.items[v]) != NULL) {
                    fail_msg("%s: entity %zu (%s) leaves input value %zu "
                             "in clear",
                             examples[k], i, plan->entities[i].source, v);
                }
            }
            cardea_free(text);
            json_decref(clear);
            json_decref(dec);
            json_decref(enc);
        }
        free_values(&values);
        cardea_fhir__plan_free(plan);
        json_decref(bundle);
    }
    cardea_wipe(&key, sizeof key);
}

static void
test_fhir__manifest_entries(void **state)
{
    static const char *const types[] = {"Patient", "HealthElement",
                                        "Contact", "Service", "Document"};
    const char **entries = UNTOUCHED;
    size_t len = 7;
    cardea_manifest *m;
    bool has_note = false, has_first_name = false;

    (void)state;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        m = manifest(types[i]);
        assert_false(cardea_manifest__names(m, "codes"));
        assert_false(cardea_manifest__names(m, "content"));
        assert_false(cardea_manifest__names(m, "services"));
        cardea_manifest__free(m);
    }
    m = manifest("Patient");
    assert_true(cardea_manifest__names(m, "addresses"));
    assert_true(cardea_manifest__names(m, "dateOfBirth"));
    cardea_manifest__free(m);
    m = manifest("Service");
    assert_true(cardea_manifest__names(m, "label"));
    assert_true(cardea_manifest__names(m, "valueDate"));
    cardea_manifest__free(m);

    assert_int_equal(cardea_fhir__manifest_entries(&entries, &len, "Patient"),
                     CARDEA_OK);
    for (size_t i = 0; i < len; i++) {
        has_note = has_note || strcmp(entries[i], "note") == 0;
        has_first_name = has_first_name || strcmp(entries[i], "firstName") == 0;
    }
    assert_true(has_note);
    assert_true(has_first_name);
    cardea_free(entries);

    entries = UNTOUCHED;
    len = 7;
    assert_int_equal(cardea_fhir__manifest_entries(&entries, &len, "Invoice"),
                     CARDEA_ENOTFOUND);
    assert_ptr_equal(entries, UNTOUCHED);
    assert_int_equal(len, 7);
}

/* ---- bad input ---------------------------------------------------------- */

/* Reads `path` and builds its plan; asserts failure with `err`, a message
 * containing `words`, and neither output written. */
static void
assert_rejected(const char *path, cardea_err err, const char *words)
{
    char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
    json_t *bundle = UNTOUCHED;
    cardea_fhir_plan *plan = UNTOUCHED;
    cardea_err got = cardea_fhir__read_file(&bundle, path, msg, sizeof msg);

    if (got == CARDEA_OK) {
        got = cardea_fhir__plan_build(&plan, path, bundle, msg, sizeof msg);
        json_decref(bundle);
    } else {
        assert_ptr_equal(bundle, UNTOUCHED);
    }
    assert_int_equal(got, err);
    assert_ptr_equal(plan, UNTOUCHED);
    if (strstr(msg, path) != msg || strstr(msg, words) == NULL) {
        fail_msg("%s: message \"%s\" lacks \"%s\"", path, msg, words);
    }
}

static void
test_fhir__rejects_bad_files(void **state)
{
    (void)state;
    assert_rejected("cli/data/not-json.json", CARDEA_EFORMAT,
                    "not valid JSON");
    assert_rejected("cli/data/not-bundle.json", CARDEA_EFORMAT,
                    "not a FHIR Bundle");
    assert_rejected("cli/data/no-entry.json", CARDEA_EFORMAT,
                    "no \"entry\" array");
    assert_rejected("cli/data/truncated.json", CARDEA_EFORMAT, "truncated");
    assert_rejected("cli/data/unresolved-subject.json", CARDEA_EINVAL,
                    "does not resolve to any Patient");
    assert_rejected("cli/data/unresolved-encounter.json", CARDEA_EINVAL,
                    "does not resolve to any Encounter");
    assert_rejected("cli/data/conditional-subject.json", CARDEA_EINVAL,
                    "conditional reference");
    assert_rejected("cli/data/no-patient.json", CARDEA_EINVAL,
                    "no Patient");
    assert_rejected("cli/data/bad-date.json", CARDEA_EINVAL,
                    "birthDate is not a valid FHIR date");
    assert_rejected("cli/data/bad-base64.json", CARDEA_EFORMAT,
                    "not valid base64");
    assert_rejected("cli/data/duplicate.json", CARDEA_EINVAL,
                    "must appear once");
    assert_rejected("cli/data/missing.json", CARDEA_EIO, "cannot open");
}

/* An example cut in half is reported as truncated. */
static void
test_fhir__rejects_truncated_example(void **state)
{
    char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
    FILE *file = fopen(examples[0], "rb");
    char *data = malloc(100000);
    json_t *bundle = UNTOUCHED;
    size_t len;

    (void)state;
    assert_non_null(file);
    assert_non_null(data);
    len = fread(data, 1, 100000, file);
    fclose(file);
    assert_int_equal(len, 100000);
    assert_int_equal(cardea_fhir__parse(&bundle, "cut.json", data, len / 2,
                                        msg, sizeof msg),
                     CARDEA_EFORMAT);
    assert_ptr_equal(bundle, UNTOUCHED);
    assert_non_null(strstr(msg, "cut.json: JSON ends early"));
    free(data);
}

static void
test_fhir__rejects_oversized(void **state)
{
    char path[] = "/tmp/cardea-fhir-test-XXXXXX";
    char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
    json_t *bundle = UNTOUCHED;
    char *data = calloc(1, CARDEA_FHIR_MAX_BUNDLE_SIZE + 1);
    int fd;

    (void)state;
    assert_non_null(data);
    assert_int_equal(cardea_fhir__parse(&bundle, "big.json", data,
                                        CARDEA_FHIR_MAX_BUNDLE_SIZE + 1, msg,
                                        sizeof msg),
                     CARDEA_ETOOBIG);
    assert_ptr_equal(bundle, UNTOUCHED);
    assert_non_null(strstr(msg, "big.json: file (33554433 bytes) is over "
                                "the limit of 33554432 bytes"));
    free(data);

    /* A sparse file: the size is checked before anything is read. */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)CARDEA_FHIR_MAX_BUNDLE_SIZE + 4096),
                     0);
    close(fd);
    msg[0] = '\0';
    assert_int_equal(cardea_fhir__read_file(&bundle, path, msg, sizeof msg),
                     CARDEA_ETOOBIG);
    assert_ptr_equal(bundle, UNTOUCHED);
    assert_non_null(strstr(msg, "32 MiB"));
    unlink(path);
}

/* ---- mapping details ---------------------------------------------------- */

/* A bundle written for the details the examples do not cover. */
static const char detail_bundle[] =
    "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
    "{\"fullUrl\":\"urn:uuid:11111111-2222-4333-8444-555555555555\","
    " \"resource\":{"
    " \"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"other\","
    " \"birthDate\":\"1975-03\","
    " \"deceasedDateTime\":\"2020-05-06T23:30:00-02:00\","
    " \"name\":[{\"family\":\"Doe\",\"given\":[\"Ann\",\"Mary\"]}],"
    " \"telecom\":[{\"system\":\"phone\",\"use\":\"mobile\","
    "  \"value\":\"+3212\"},"
    "  {\"system\":\"email\",\"value\":\"ann@example.org\"}]}},"
    "{\"resource\":{\"resourceType\":\"Encounter\",\"id\":\"e1\","
    " \"subject\":{\"reference\":"
    "  \"http://example.org/fhir/Patient/p1/_history/3\"},"
    " \"period\":{\"start\":\"2020-01-01T01:30:00+02:00\"}}},"
    "{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"c1\","
    " \"subject\":{\"reference\":\"Patient/p1\"},"
    " \"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
    "   \"code\":\"1-8\","
    "   \"version\":\"2.7\"},{\"system\":\"urn:oid:1.2.3\",\"code\":\"X\"}]},"
    " \"onsetDateTime\":\"2019\","
    " \"note\":[{\"text\":\"a\"},{\"text\":\"b\"}]}},"
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o1\","
    " \"encounter\":{\"reference\":\"Encounter/e1\"},"
    " \"code\":{\"text\":\"BP\"},"
    " \"effectivePeriod\":{\"start\":\"2020-01-01\"},"
    " \"component\":[{\"code\":{\"text\":\"sys\"},"
    "  \"valueQuantity\":{\"value\":120,\"unit\":\"mm[Hg]\"}},"
    "  {\"code\":{\"text\":\"dia\"},\"valueInteger\":80}]}},"
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o2\","
    " \"encounter\":{\"reference\":\"Encounter/e1\"},\"valueBoolean\":true}},"
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o3\","
    " \"subject\":{\"reference\":\"Patient/p1\"},\"valueString\":\"x\"}}"
    "]}";

static const json_t *
entity_from(const cardea_fhir_plan *plan, cardea_entity_type type)
{
    for (size_t i = 0; i < plan->entities_len; i++) {
        if (plan->entities[i].type == type) {
            return plan->entities[i].json;
        }
    }
    fail_msg("no entity of type %d", (int)type);
    return NULL;
}

static json_int_t
int_member(const json_t *obj, const char *key)
{
    assert_true(json_is_integer(json_object_get(obj, key)));
    return json_integer_value(json_object_get(obj, key));
}

static void
test_fhir__maps_details(void **state)
{
    json_t *bundle = parse_text(detail_bundle);
    cardea_fhir_plan *plan = plan_of("inline", bundle);
    const json_t *patient = entity_from(plan, CARDEA_ENTITY_PATIENT);
    const json_t *element = entity_from(plan, CARDEA_ENTITY_HEALTH_ELEMENT);
    const json_t *contact = entity_from(plan, CARDEA_ENTITY_CONTACT);
    const json_t *telecoms, *services, *compound, *codes;

    (void)state;
    assert_string_equal(cardea_json__get_str(patient, "firstName"),
                        "Ann Mary");
    assert_string_equal(cardea_json__get_str(patient, "gender"),
                        "indeterminate");
    assert_int_equal(int_member(patient, "dateOfBirth"), 19750300);
    assert_int_equal(int_member(patient, "dateOfDeath"), 20200506);
    assert_true(json_is_true(json_object_get(patient, "deceased")));
    telecoms = json_object_get(
        json_array_get(json_object_get(patient, "addresses"), 0), "telecoms");
    assert_int_equal(json_array_size(telecoms), 2);
    assert_string_equal(cardea_json__get_str(json_array_get(telecoms, 0),
                                             "telecomType"),
                        "mobile");
    assert_string_equal(cardea_json__get_str(json_array_get(telecoms, 1),
                                             "telecomType"),
                        "email");

    /* +02:00 is converted to UTC, which moves the date back a day. */
    assert_int_equal(int_member(contact, "openingDate"), 20191231233000);
    assert_int_equal(int_member(element, "openingDate"), 20190000000000);
    assert_string_equal(cardea_json__get_str(element, "note"), "a\n\nb");
    codes = json_object_get(element, "codes");
    assert_string_equal(cardea_json__get_str(json_array_get(codes, 0), "id"),
                        "LOINC|1-8|2.7");
    assert_string_equal(cardea_json__get_str(json_array_get(codes, 1),
                                             "type"),
                        "urn:oid:1.2.3");

    services = json_object_get(contact, "services");
    assert_int_equal(json_array_size(services), 2);
    assert_int_equal(int_member(json_array_get(services, 0), "valueDate"),
                     20200101000000);
    compound = json_object_get(
        json_object_get(json_object_get(json_array_get(services, 0),
                                        "content"),
                        "en"),
        "compoundValue");
    assert_int_equal(json_array_size(compound), 2);
    assert_true(json_is_true(json_object_get(
        json_object_get(json_object_get(json_array_get(services, 1),
                                        "content"),
                        "en"),
        "booleanValue")));
    assert_int_equal(skipped_count(plan, "Observation"), 1);
    assert_int_equal(plan->observations, 2);

    cardea_fhir__plan_free(plan);
    json_decref(bundle);
}

static void
test_fhir__rejects_bad_dates(void **state)
{
    static const char *const dates[] = {
        "2021-02-29", "2020-13-01", "20200101", "2020-01-01T10:00",
        "2020-01-01T25:00:00Z", "2020-01-01T10:00:00+2:00", "",
    };
    char text[512];

    (void)state;
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
        cardea_fhir_plan *plan = UNTOUCHED;
        json_t *bundle;

        snprintf(text, sizeof text,
                 "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{"
                 "\"resourceType\":\"Patient\",\"id\":\"p\","
                 "\"birthDate\":\"%s\"}}]}",
                 dates[i]);
        bundle = parse_text(text);
        assert_int_equal(cardea_fhir__plan_build(&plan, "dates.json", bundle,
                                                 msg, sizeof msg),
                         CARDEA_EINVAL);
        assert_ptr_equal(plan, UNTOUCHED);
        assert_non_null(strstr(msg, "birthDate"));
        assert_null(strstr(msg, dates[i][0] != '\0' ? dates[i] : "\"\""));
        json_decref(bundle);
    }
}

/* ---- export and comparison ---------------------------------------------- */

static void
assert_same_plans(const cardea_fhir_plan *a, const cardea_fhir_plan *b)
{
    char path[256];

    assert_int_equal(a->entities_len, b->entities_len);
    for (size_t i = 0; i < a->entities_len; i++) {
        const cardea_fhir_entity *x = &a->entities[i];
        const cardea_fhir_entity *y = &b->entities[i];

        assert_int_equal(x->type, y->type);
        if (!cardea_fhir__entity_equal(x->json, y->json,
                                       CARDEA_FHIR_COMPARE_IGNORE_IDS, path,
                                       sizeof path)) {
            fail_msg("entity %zu (%s) differs at %s", i, x->source, path);
        }
        assert_int_equal(x->attachment_len, y->attachment_len);
        assert_true(x->attachment_len == 0 ||
                    memcmp(x->attachment, y->attachment, x->attachment_len) ==
                        0);
    }
}

static void
test_fhir__export_import_round_trip(void **state)
{
    (void)state;
    for (size_t k = 0; k < EXAMPLE_COUNT; k++) {
        char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
        json_t *bundle = load(examples[k]);
        cardea_fhir_plan *plan = plan_of(examples[k], bundle);
        json_t *exported = NULL, *reparsed = NULL;
        cardea_fhir_plan *again;
        char *text;

        assert_int_equal(cardea_fhir__export(&exported, plan->entities,
                                             plan->entities_len, msg,
                                             sizeof msg),
                         CARDEA_OK);
        assert_string_equal(cardea_json__get_str(exported, "type"),
                            "collection");

        /* Through text, as a file written by export would be read. */
        text = cardea_json__dump(exported);
        assert_non_null(text);
        assert_int_equal(cardea_fhir__parse(&reparsed, "exported.json", text,
                                            strlen(text), msg, sizeof msg),
                         CARDEA_OK);
        again = plan_of("exported.json", reparsed);
        assert_same_plans(plan, again);
        assert_int_equal(again->observations, plan->observations);
        assert_int_equal(again->skipped_len, 0);

        cardea_free(text);
        cardea_fhir__plan_free(again);
        json_decref(reparsed);
        json_decref(exported);
        cardea_fhir__plan_free(plan);
        json_decref(bundle);
    }
}

static void
test_fhir__round_trip_details(void **state)
{
    char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
    json_t *bundle = parse_text(detail_bundle);
    cardea_fhir_plan *plan = plan_of("inline", bundle);
    cardea_fhir_plan *again;
    json_t *exported = NULL;

    (void)state;
    assert_int_equal(cardea_fhir__export(&exported, plan->entities,
                                         plan->entities_len, msg, sizeof msg),
                     CARDEA_OK);
    again = plan_of("exported", exported);
    assert_same_plans(plan, again);
    cardea_fhir__plan_free(again);
    json_decref(exported);
    cardea_fhir__plan_free(plan);
    json_decref(bundle);
}

static void
test_fhir__export_rejects_bad_sets(void **state)
{
    char msg[CARDEA_FHIR_ERRMSG_LEN] = "";
    json_t *bundle = parse_text(detail_bundle);
    cardea_fhir_plan *plan = plan_of("inline", bundle);
    cardea_fhir_entity twice[2];
    json_t *out = UNTOUCHED;

    (void)state;
    /* Without the Patient. */
    assert_int_equal(cardea_fhir__export(&out, plan->entities + 1,
                                         plan->entities_len - 1, msg,
                                         sizeof msg),
                     CARDEA_EINVAL);
    assert_ptr_equal(out, UNTOUCHED);
    assert_non_null(strstr(msg, "no Patient"));

    /* Two Patients. */
    twice[0] = plan->entities[0];
    twice[1] = plan->entities[0];
    assert_int_equal(cardea_fhir__export(&out, twice, 2, msg, sizeof msg),
                     CARDEA_EINVAL);
    assert_ptr_equal(out, UNTOUCHED);

    /* An entity of another patient. */
    twice[1] = plan->entities[1];
    twice[1].patient_id[0] = twice[1].patient_id[0] == 'a' ? 'b' : 'a';
    assert_int_equal(cardea_fhir__export(&out, twice, 2, msg, sizeof msg),
                     CARDEA_EINVAL);
    assert_ptr_equal(out, UNTOUCHED);

    cardea_fhir__plan_free(plan);
    json_decref(bundle);
}

static void
test_fhir__compare_reports_path(void **state)
{
    json_t *expected = parse_text(
        "{\"resourceType\":\"Bundle\",\"entry\":[],\"id\":\"a\","
        "\"addresses\":[{\"city\":\"Ghent\",\"telecoms\":[]}],\"n\":70}");
    json_t *actual = json_deep_copy(expected);
    char path[64] = "";

    (void)state;
    /* Server-managed members, empty containers and 70.0 do not count. */
    json_object_set_new(actual, "rev", json_string("2-abc"));
    json_object_set_new(actual, "encryptedSelf", json_string("AAAA"));
    json_object_set_new(actual, "n", json_real(70.0));
    json_object_del(json_array_get(json_object_get(actual, "addresses"), 0),
                    "telecoms");
    json_object_set_new(actual, "notes", json_array());
    assert_true(cardea_fhir__entity_equal(expected, actual, 0, path,
                                          sizeof path));

    json_object_set_new(
        json_array_get(json_object_get(actual, "addresses"), 0), "city",
        json_string("Gent"));
    assert_false(cardea_fhir__entity_equal(expected, actual, 0, path,
                                           sizeof path));
    assert_string_equal(path, "$.addresses[0].city");

    json_object_set_new(
        json_array_get(json_object_get(actual, "addresses"), 0), "city",
        json_string("Ghent"));
    json_object_set_new(actual, "id", json_string("b"));
    assert_false(cardea_fhir__entity_equal(expected, actual, 0, path,
                                           sizeof path));
    assert_string_equal(path, "$.id");
    assert_true(cardea_fhir__entity_equal(expected, actual,
                                          CARDEA_FHIR_COMPARE_IGNORE_IDS,
                                          path, sizeof path));

    json_object_set_new(actual, "extra", json_string("x"));
    assert_false(cardea_fhir__entity_equal(expected, actual,
                                           CARDEA_FHIR_COMPARE_IGNORE_IDS,
                                           path, sizeof path));
    assert_string_equal(path, "$.extra");

    json_decref(actual);
    json_decref(expected);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fhir__examples_map_expected_counts),
        cmocka_unit_test(test_fhir__plan_order_and_owner),
        cmocka_unit_test(test_fhir__ids_deterministic),
        cmocka_unit_test(test_fhir__entity_id_scheme),
        cmocka_unit_test(test_fhir__codes_stay_in_clear),
        cmocka_unit_test(test_fhir__health_data_encrypted),
        cmocka_unit_test(test_fhir__manifest_entries),
        cmocka_unit_test(test_fhir__rejects_bad_files),
        cmocka_unit_test(test_fhir__rejects_truncated_example),
        cmocka_unit_test(test_fhir__rejects_oversized),
        cmocka_unit_test(test_fhir__maps_details),
        cmocka_unit_test(test_fhir__rejects_bad_dates),
        cmocka_unit_test(test_fhir__export_import_round_trip),
        cmocka_unit_test(test_fhir__round_trip_details),
        cmocka_unit_test(test_fhir__export_rejects_bad_sets),
        cmocka_unit_test(test_fhir__compare_reports_path),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
