/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks shared by the SDK tests that run against a real server: reading
 * a health element back through a user's session, or being denied it,
 * and the strategy callback that makes patients anonymous delegates.
 * Failures are reported through cmocka, so only tests call these.
 */
#ifndef CARDEA_TEST_ENTITY_H
#define CARDEA_TEST_ENTITY_H

#include <stdbool.h>

#include <jansson.h>

#include "cardea/cardea.h"

/* Parses `text` as JSON and fails the test when it is not JSON. */
json_t *test_entity_parse(const char *text);

/*
 * Reads the health element `id` through `session` (of the user `login`,
 * named in the failure message) and checks that its descr is `descr`.
 */
void test_entity_assert_reads(cardea_session *session, const char *login,
                              const char *id, const char *descr);

/*
 * Checks that reading the health element `id` through `session` fails
 * and leaves the output NULL.
 */
void test_entity_assert_refused(cardea_session *session, const char *id);

/*
 * data_owner_requires_anonymous_delegation of the tests' strategies:
 * patients are anonymous, every other data owner explicit.
 */
bool test_entity_anonymous_patients(void *user, const char *id,
                                    cardea_data_owner_type type);

#endif
