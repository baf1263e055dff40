/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the files of the FHIR mapping (fhir.c, fhir_import.c,
 * fhir_export.c): the tables of code systems and media types, and the
 * formatting of error messages. Not used outside src/cli/fhir*.c.
 */
#ifndef CARDEA_CLI_FHIR_INTERNAL_H
#define CARDEA_CLI_FHIR_INTERNAL_H

#include <stddef.h>

/* Language key of the Service content this mapping writes. */
#define CARDEA_FHIR_CONTENT_LANG "en"

/* Returns the iCure code type of a FHIR code system URL: the table name
 * for a known system, else `system` itself. */
const char *cardea_fhir__code_type(const char *system);

/* Returns the FHIR system URL of an iCure code type: the reverse of the
 * table, else `type` itself. */
const char *cardea_fhir__code_system(const char *type);

/*
 * Returns the iCure UTI of a media type. Parameters after ';' and the
 * case are ignored; an unknown type gives "public.data".
 */
const char *cardea_fhir__uti_of(const char *content_type);

/* Returns the media type of a UTI; "application/octet-stream" when the
 * UTI is NULL or unknown. */
const char *cardea_fhir__media_type_of(const char *uti);

/*
 * Writes "<name>: <formatted message>" into errmsg (when not NULL and
 * errmsg_cap > 0), cut to errmsg_cap bytes with the NUL.
 */
void cardea_fhir__set_error(char *errmsg, size_t errmsg_cap, const char *name,
                            const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
