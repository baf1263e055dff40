/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The encrypted-field lists of a session (cardea_session_options.
 * encrypted_fields) and the lists the client commands give: entries
 * extend the default manifests, bad entries are rejected with the output
 * untouched, and every field of the FHIR mapping ends up in
 * encryptedSelf, including the label, date and value of a Contact's
 * Services.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "format/encrypted_self.h"
#include "sdk/sdk.h"

#define UNTOUCHED ((cardea_sdk_fields *)0x1)

static cardea_entity_key
test_key(void)
{
    cardea_entity_key key = {{0}, 32};

    for (size_t i = 0; i < key.len; i++) {
        key.bytes[i] = (uint8_t)(i * 7 + 1);
    }
    return key;
}

/* Encrypts `text` as `type` with `fields` (NULL: defaults). */
static json_t *
encrypt(cardea_sdk_fields *fields, const char *type, const char *text)
{
    cardea_session session;
    cardea_entity_key key = test_key();
    json_t *plain = json_loads(text, 0, NULL);
    json_t *out = NULL;

    memset(&session, 0, sizeof session);
    session.fields = fields;
    assert_non_null(plain);
    assert_int_equal(cardea_sdk__encrypt_entity(&out, &session, type, plain,
                                                &key),
                     CARDEA_OK);
    json_decref(plain);
    return out;
}

static void
expect_rejected(const cardea_encrypted_fields *config, const char *words)
{
    char errmsg[256] = "";
    cardea_sdk_fields *fields = UNTOUCHED;

    assert_int_equal(cardea_sdk__fields_new(&fields, config, errmsg,
                                            sizeof errmsg),
                     CARDEA_EINVAL);
    assert_ptr_equal(fields, UNTOUCHED);
    if (strstr(errmsg, words) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", errmsg, words);
    }
}

static void
test_cli__fields_extend_defaults(void **state)
{
    static const char *const patient[] = {"firstName", "note"};
    cardea_encrypted_fields config = CARDEA_ENCRYPTED_FIELDS_INIT;
    cardea_sdk_fields *fields = NULL;
    cardea_entity_key key = test_key();
    json_t *sealed;
    json_t *opened = NULL;

    (void)state;
    config.patient = patient;
    config.patient_count = 2;
    assert_int_equal(cardea_sdk__fields_new(&fields, &config, NULL, 0),
                     CARDEA_OK);
    sealed = encrypt(fields, "Patient",
                     "{\"id\":\"p\",\"firstName\":\"Ada\",\"note\":\"n\","
                     "\"gender\":\"female\"}");
    assert_null(json_object_get(sealed, "firstName"));
    assert_null(json_object_get(sealed, "note"));
    assert_string_equal(json_string_value(json_object_get(sealed, "gender")),
                        "female");
    assert_string_equal(json_string_value(json_object_get(sealed, "id")),
                        "p");
    assert_int_equal(cardea_encrypted_self__decrypt(&opened, sealed, &key, 1),
                     CARDEA_OK);
    assert_string_equal(json_string_value(json_object_get(opened,
                                                          "firstName")),
                        "Ada");
    assert_string_equal(json_string_value(json_object_get(opened, "note")),
                        "n");
    json_decref(opened);
    json_decref(sealed);
    cardea_sdk__fields_free(fields);
}

static void
test_cli__fields_default_without_config(void **state)
{
    json_t *sealed;

    (void)state;
    sealed = encrypt(NULL, "Patient",
                     "{\"id\":\"p\",\"firstName\":\"Ada\",\"note\":\"n\"}");
    assert_string_equal(json_string_value(json_object_get(sealed,
                                                          "firstName")),
                        "Ada");
    assert_null(json_object_get(sealed, "note"));
    json_decref(sealed);
}

static void
test_cli__fields_reject_bad_entries(void **state)
{
    static const char *const services[] = {"services"};
    static const char *const content[] = {"content.en"};
    static const char *const malformed[] = {"a..b"};
    static const char *const with_null[] = {NULL};
    cardea_encrypted_fields config = CARDEA_ENCRYPTED_FIELDS_INIT;

    (void)state;
    config.contact = services;
    config.contact_count = 1;
    expect_rejected(&config, "Contact");
    config = (cardea_encrypted_fields)CARDEA_ENCRYPTED_FIELDS_INIT;
    config.service = content;
    config.service_count = 1;
    expect_rejected(&config, "Service");
    config = (cardea_encrypted_fields)CARDEA_ENCRYPTED_FIELDS_INIT;
    config.health_element = malformed;
    config.health_element_count = 1;
    expect_rejected(&config, "HealthElement");
    config = (cardea_encrypted_fields)CARDEA_ENCRYPTED_FIELDS_INIT;
    config.document = with_null;
    config.document_count = 1;
    expect_rejected(&config, "Document");
    config = (cardea_encrypted_fields)CARDEA_ENCRYPTED_FIELDS_INIT;
    config.patient_count = 3;
    expect_rejected(&config, "NULL list");
    config = (cardea_encrypted_fields)CARDEA_ENCRYPTED_FIELDS_INIT;
    config.version = 99;
    expect_rejected(&config, "version");
}

/* The lists of the client commands encrypt every field of the mapping. */
static void
test_cli__fields_of_fhir_mapping(void **state)
{
    cardea_session_options opts = CARDEA_SESSION_OPTIONS_INIT;
    cardea_sdk_fields *fields = NULL;
    json_t *sealed;
    json_t *service;

    (void)state;
    assert_true(cardea_cli__encrypted_fields(&opts));
    assert_non_null(opts.encrypted_fields);
    assert_int_equal(cardea_sdk__fields_new(&fields, opts.encrypted_fields,
                                            NULL, 0),
                     CARDEA_OK);
    sealed = encrypt(fields, "Patient",
                     "{\"id\":\"p\",\"firstName\":\"Ada\",\"lastName\":\"L\","
                     "\"dateOfBirth\":19800101,\"addresses\":[{\"city\":"
                     "\"X\"}],\"gender\":\"female\"}");
    assert_null(json_object_get(sealed, "firstName"));
    assert_null(json_object_get(sealed, "lastName"));
    assert_null(json_object_get(sealed, "dateOfBirth"));
    assert_null(json_object_get(sealed, "addresses"));
    assert_null(json_object_get(sealed, "gender"));
    json_decref(sealed);
    sealed = encrypt(fields, "Contact",
                     "{\"id\":\"c\",\"openingDate\":20200101000000,"
                     "\"services\":[{\"id\":\"s\",\"label\":\"Weight\","
                     "\"valueDate\":20200101000000,\"codes\":[{\"id\":"
                     "\"LOINC|29463-7\"}],\"content\":{\"en\":{"
                     "\"measureValue\":{\"value\":70.5}}}}]}");
    assert_null(json_object_get(sealed, "openingDate"));
    service = json_array_get(json_object_get(sealed, "services"), 0);
    assert_non_null(service);
    assert_null(json_object_get(service, "label"));
    assert_null(json_object_get(service, "valueDate"));
    assert_null(json_object_get(service, "content"));
    assert_non_null(json_object_get(service, "codes"));
    assert_non_null(json_object_get(service, "encryptedSelf"));
    json_decref(sealed);
    cardea_sdk__fields_free(fields);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli__fields_extend_defaults),
        cmocka_unit_test(test_cli__fields_default_without_config),
        cmocka_unit_test(test_cli__fields_reject_bad_entries),
        cmocka_unit_test(test_cli__fields_of_fhir_mapping),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
