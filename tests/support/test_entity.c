/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entity checks of the SDK tests that run against a real server; see
 * test_entity.h.
 */
#include "test_entity.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

json_t *
test_entity_parse(const char *text)
{
    json_t *value = json_loads(text, 0, NULL);

    assert_non_null(value);
    return value;
}

void
test_entity_assert_reads(cardea_session *session, const char *login,
                         const char *id, const char *descr)
{
    char *out = NULL;
    json_t *entity;
    cardea_err err = cardea_entity_get(&out, session,
                                       CARDEA_ENTITY_HEALTH_ELEMENT, id);

    if (err != CARDEA_OK) {
        fail_msg("get by %s: %s: %s", login, cardea_strerror(err),
                 cardea_session_errmsg(session));
    }
    entity = test_entity_parse(out);
    assert_string_equal(json_string_value(json_object_get(entity, "descr")),
                        descr);
    json_decref(entity);
    cardea_free(out);
}

void
test_entity_assert_refused(cardea_session *session, const char *id)
{
    char *out = NULL;
    cardea_err err = cardea_entity_get(&out, session,
                                       CARDEA_ENTITY_HEALTH_ELEMENT, id);

    assert_int_not_equal(err, CARDEA_OK);
    assert_null(out);
}

bool
test_entity_anonymous_patients(void *user, const char *id,
                               cardea_data_owner_type type)
{
    (void)user;
    (void)id;
    return type == CARDEA_DATA_OWNER_PATIENT;
}
