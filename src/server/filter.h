/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser for the filters the official SDK (@icure/cardinal-sdk
 * 1.0.0-RC.7) posts to `POST /<entity>/match`: a JSON object whose `$type`
 * names the filter class. The parser turns it into a small tree that the
 * store runs against its search-key index (server/search.h). Any other
 * `$type` is rejected with 400 "unknown filter <name>".
 *
 * Supported `$type` names (the field names are those RC.7 serialises):
 *   - by data owner: PatientByHcPartyFilter{healthcarePartyId},
 *     HealthElementByHcPartyFilter{hcpId}, ContactByHcPartyFilter{hcpId},
 *     MaintenanceTaskByHcPartyAndTypeFilter{healthcarePartyId, type};
 *   - by ids: PatientByIdsFilter, HealthElementByIdsFilter and
 *     MaintenanceTaskByIdsFilter {ids} (RC.7 has no such filter for
 *     Contact or Document);
 *   - by data owner and patient secret foreign keys:
 *     HealthElementByDataOwnerPatientOpeningDate{healthcarePartyId,
 *     patientSecretForeignKeys, startDate?, endDate?, descending?},
 *     ContactByDataOwnerPatientOpeningDateFilter{dataOwnerId,
 *     secretForeignKeys, ...}, DocumentByDataOwnerPatientDateFilter
 *     {dataOwnerId, secretPatientKeys, ...}, and the older
 *     HealthElementByHcPartySecretForeignKeysFilter{healthcarePartyId,
 *     patientSecretForeignKeys};
 *   - by tag or code: HealthElementByHcPartyTagCodeFilter and
 *     ContactByHcPartyTagCodeDateFilter {healthcarePartyId, tagType?,
 *     tagCode?, codeType?, codeCode?, and for Contact
 *     startOfContactOpeningDate? and endOfContactOpeningDate?}. A
 *     non-null `status` (HealthElement) is rejected as unsupported;
 *   - UnionFilter{filters} and IntersectionFilter{filters}, nested at most
 *     CARDEA_FILTER_MAX_DEPTH deep with at most CARDEA_FILTER_MAX_CHILDREN
 *     children each.
 *
 * Data-owner expansion: when the filter names the caller's own data-owner
 * id (or names none, where the field is optional), `data_owner_keys`
 * contains the caller's "self" keys: its id and the hashes of the
 * access-control keys it sent (cardea_search__self_keys without
 * ancestors). Otherwise it contains the named id alone.
 *
 * SECURITY: a filter may name any data owner and any ids. The parser does
 * not restrict that; the store must drop every matched entity the caller
 * cannot read (cardea_access__level) before responding.
 */
#ifndef CARDEA_SERVER_FILTER_H
#define CARDEA_SERVER_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"
#include "server/access.h"
#include "server/search.h"

#define CARDEA_FILTER_MAX_DEPTH 8
#define CARDEA_FILTER_MAX_CHILDREN 64
/* Bound on ids, secret foreign keys or keys listed in one filter. */
#define CARDEA_FILTER_MAX_VALUES 10000

typedef enum cardea_filter_kind {
    /* entities indexed under any of `data_owner_keys` */
    CARDEA_FILTER_BY_DATA_OWNER = 1,
    /* same, and `task_type` equal to the entity's `taskType` */
    CARDEA_FILTER_BY_DATA_OWNER_AND_TYPE = 2,
    /* entities whose id is one of `values` */
    CARDEA_FILTER_BY_IDS = 3,
    /* by data owner, and a secret foreign key in `values` */
    CARDEA_FILTER_BY_SECRET_FOREIGN_KEYS = 4,
    /* by data owner, and the `tag_key` tag and/or `code_key` code */
    CARDEA_FILTER_BY_TAG_CODE = 5,
    /* entities matched by any child */
    CARDEA_FILTER_UNION = 6,
    /* entities matched by every child */
    CARDEA_FILTER_INTERSECTION = 7,
} cardea_filter_kind;

/*
 * A parsed filter. Strings and lists are owned by the filter and freed by
 * cardea_filter__free; `name`, `entity_type` and `date_field` point to
 * static strings.
 */
typedef struct cardea_filter {
    cardea_filter_kind kind;
    const char *name;            /* the `$type` */
    const char *entity_type;     /* "Patient", ...; NULL for union/inter. */
    char *data_owner_id;         /* as named, or the caller's; may be NULL */
    cardea_search_list data_owner_keys;
    char *task_type;             /* BY_DATA_OWNER_AND_TYPE only */
    cardea_search_list values;   /* ids or secret foreign keys */
    char *tag_key;               /* "type|code" or "type|"; NULL if none */
    char *code_key;              /* same for codes */
    /*
     * Optional date range on `date_field` (for example "openingDate"),
     * inclusive, in the entity's own units (YYYYMMDDhhmmss for opening
     * dates, epoch milliseconds for Document `created`).
     */
    const char *date_field;
    bool has_start;
    bool has_end;
    int64_t start;
    int64_t end;
    bool descending;
    struct cardea_filter **children;
    size_t child_count;
} cardea_filter;

/*
 * Parses `json` for `caller`. When `entity_type` is not NULL, a filter for
 * another entity type is rejected (400), so `POST /patient/match` cannot
 * run a HealthElement filter.
 *
 * Returns CARDEA_OK with `*out` set (free with cardea_filter__free);
 * CARDEA_EINVAL (400) for a missing or unknown `$type`, a missing required
 * field or a field of the wrong type; CARDEA_ETOOBIG (400) over the
 * limits above; CARDEA_EUNSUPPORTED (400) for a filter field Cardea
 * does not run; CARDEA_ENOMEM. `*out` is written only on success and
 * `*err` only on failure (but not for CARDEA_ENOMEM).
 */
cardea_err cardea_filter__parse(cardea_filter **out, cardea_access_error *err,
                                const cardea_access_caller *caller,
                                const char *entity_type, const json_t *json)
    CARDEA_MUST_CHECK;

/* Frees `filter` and its children. NULL does nothing. */
void cardea_filter__free(cardea_filter *filter);

#endif
