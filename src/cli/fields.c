/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The encrypted fields of the client sessions: the manifests of the FHIR
 * mapping (cardea_fhir__manifest_entries), handed to the SDK so that the
 * names, addresses, dates, notes and observation values the import sets
 * never reach the server in clear. The lists include the default entries,
 * which the SDK skips as already listed.
 */
#include "cli/cli.h"
#include "cli/fhir.h"

/* Entries per type, built on first use and kept for the process. */
static const char **entries[5];
static size_t counts[5];
static bool loaded;

static bool
load(void)
{
    static const char *const types[5] = {
        "Patient", "HealthElement", "Contact", "Service", "Document",
    };

    for (size_t i = 0; i < 5; i++) {
        if (cardea_fhir__manifest_entries(&entries[i], &counts[i], types[i])
            != CARDEA_OK) {
            return false;
        }
    }
    return true;
}

/* see cli/cli.h */
bool
cardea_cli__encrypted_fields(cardea_session_options *opts)
{
    static cardea_encrypted_fields fields = CARDEA_ENCRYPTED_FIELDS_INIT;

    if (!loaded && !(loaded = load())) {
        return false;
    }
    fields.patient = entries[0];
    fields.patient_count = counts[0];
    fields.health_element = entries[1];
    fields.health_element_count = counts[1];
    fields.contact = entries[2];
    fields.contact_count = counts[2];
    fields.service = entries[3];
    fields.service_count = counts[3];
    fields.document = entries[4];
    fields.document_count = counts[4];
    opts->encrypted_fields = &fields;
    return true;
}
