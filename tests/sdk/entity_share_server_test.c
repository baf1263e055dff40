/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entities against a real `cardea serve` started by the fixture: create,
 * get, modify, match, byIds and document attachments, and sharing in the
 * four directions between explicit HCPs and anonymous patients, each read
 * back by the delegate and refused to a stranger. Also checks that an
 * anonymous user sees a first share after force_reload, that the
 * strategies verify a delegate's keys once and that a rejected key
 * receives nothing, that reading 100 entities shared through one exchange
 * data costs one RSA private-key operation, and, last, that the SQLite
 * file contains no anonymous data owner's id and no plaintext in any
 * entity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include <cmocka.h>

#include "cardea/cardea.h"
#include "sdk/exchange.h"
#include "test_entity.h"
#include "test_server.h"

#define PASSWORD "correct horse battery"
#define USERS_MAX 48
#define SECRET_WORD "asthma-7f3c"

static test_server server;

/* ---- users: a session with watching strategies ------------------------- */

typedef struct user {
    char login[64];
    char owner_id[64];
    char key_dir[TEST_SERVER_PATH_MAX + 32];
    char errmsg[512];
    bool patient;
    cardea_crypto_strategies *simple;
    cardea_crypto_strategies strategies;
    cardea_transport *curl;
    cardea_session *session;
    /* verify_delegate_public_keys calls, and a key to reject */
    int verify_calls;
    char verified_for[64];
    const char *reject_spki;
    bool reject_all;
} user;

static user users[USERS_MAX];
static size_t user_count;
/* Ids of anonymous data owners, for the final database scan. */
static char anonymous_ids[USERS_MAX][64];
static size_t anonymous_count;

static cardea_err
on_recover(void *u, const cardea_data_owner_info *h, size_t hn,
           const char *const *m, size_t mn, const char *const *v, size_t vn,
           cardea_key_recovery *r)
{
    user *me = u;

    return me->simple->recover_and_verify_keys(me->simple->user, h, hn, m,
                                               mn, v, vn, r);
}

static cardea_keygen_decision
on_generate(void *u, const cardea_data_owner_info *self,
            cardea_key_generation *pair)
{
    user *me = u;

    return me->simple->generate_new_key_for_data_owner(me->simple->user,
                                                       self, pair);
}

static cardea_err
on_notify(void *u, const char *pkcs8_hex, const char *spki_hex)
{
    user *me = u;

    return me->simple->notify_key_pair_generation(me->simple->user,
                                                  pkcs8_hex, spki_hex);
}

static cardea_err
on_verify(void *u, const char *id, cardea_data_owner_type type,
          const char *const *spkis, size_t n, bool *accepted)
{
    user *me = u;

    (void)type;
    me->verify_calls++;
    snprintf(me->verified_for, sizeof me->verified_for, "%s", id);
    for (size_t i = 0; i < n; i++) {
        accepted[i] = !me->reject_all
                      && (me->reject_spki == NULL
                          || strcmp(spkis[i], me->reject_spki) != 0);
    }
    return CARDEA_OK;
}

static cardea_err
open_session(user *u)
{
    cardea_session_options opts = CARDEA_SESSION_OPTIONS_INIT;
    cardea_transport transport;

    transport = *u->curl;
    opts.base_url = server.base_url;
    opts.login = u->login;
    opts.password = PASSWORD;
    opts.key_store_dir = u->key_dir;
    opts.strategies = &u->strategies;
    opts.transport = &transport;
    opts.errmsg_buf = u->errmsg;
    opts.errmsg_cap = sizeof u->errmsg;
    return cardea_session_open(&u->session, &opts);
}

/* Creates a user of `type` ("hcp" or "patient") and opens its session. */
static user *
user_new(const char *type)
{
    cardea_simple_strategies_options simple =
        CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT;
    user *u;
    char name[32];

    assert_true(user_count < USERS_MAX);
    u = &users[user_count++];
    memset(u, 0, sizeof *u);
    snprintf(u->login, sizeof u->login, "share%zu-%s", user_count, type);
    snprintf(name, sizeof name, "share-keys-%zu", user_count);
    test_server_path(u->key_dir, sizeof u->key_dir, &server, name);
    assert_true(test_server_add_user(u->owner_id, sizeof u->owner_id,
                                     &server, CARDEA_TEST_BIN, u->login,
                                     PASSWORD, type, NULL));
    u->patient = strcmp(type, "patient") == 0;
    if (u->patient) {
        snprintf(anonymous_ids[anonymous_count++], sizeof anonymous_ids[0],
                 "%s", u->owner_id);
    }
    assert_int_equal(cardea_simple_strategies_new(&u->simple, &simple),
                     CARDEA_OK);
    assert_int_equal(cardea_transport_curl_new(&u->curl, NULL), CARDEA_OK);
    u->strategies.version = CARDEA_CRYPTO_STRATEGIES_VERSION;
    u->strategies.user = u;
    u->strategies.data_owner_requires_anonymous_delegation =
        test_entity_anonymous_patients;
    u->strategies.recover_and_verify_keys = on_recover;
    u->strategies.generate_new_key_for_data_owner = on_generate;
    u->strategies.notify_key_pair_generation = on_notify;
    u->strategies.verify_delegate_public_keys = on_verify;
    if (open_session(u) != CARDEA_OK) {
        fail_msg("open %s: %s", u->login, u->errmsg);
    }
    return u;
}

static void
users_close(void)
{
    for (size_t i = 0; i < user_count; i++) {
        cardea_session_close(users[i].session);
        cardea_simple_strategies_free(users[i].simple);
        cardea_transport_curl_free(users[i].curl);
    }
    user_count = 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* Creates a health element with `descr`; returns its id (static). */
static const char *
create_element(user *u, const char *descr,
               const cardea_entity_create_options *opts)
{
    static char id[64];
    char body[256];
    char *out = NULL;
    json_t *created;
    cardea_err err;

    snprintf(body, sizeof body, "{\"descr\":\"%s\",\"status\":0}", descr);
    err = cardea_entity_create(&out, u->session, CARDEA_ENTITY_HEALTH_ELEMENT,
                               body, opts);
    if (err != CARDEA_OK) {
        fail_msg("create by %s: %s: %s", u->login, cardea_strerror(err),
                 cardea_session_errmsg(u->session));
    }
    created = test_entity_parse(out);
    assert_string_equal(json_string_value(json_object_get(created, "descr")),
                        descr);
    assert_non_null(json_object_get(created, "rev"));
    snprintf(id, sizeof id, "%s",
             json_string_value(json_object_get(created, "id")));
    json_decref(created);
    cardea_free(out);
    return id;
}

static void
share(user *from, const char *id, const user *to, cardea_access_level level)
{
    char *out = NULL;
    cardea_err err = cardea_entity_share(&out, from->session,
                                         CARDEA_ENTITY_HEALTH_ELEMENT, id,
                                         to->owner_id, level);

    if (err != CARDEA_OK) {
        fail_msg("share %s -> %s: %s: %s", from->login, to->login,
                 cardea_strerror(err), cardea_session_errmsg(from->session));
    }
    cardea_free(out);
}

/* ---- sharing in four directions ---------------------------------------- */

static void
test_share__explicit_to_explicit(void **state)
{
    user *a = user_new("hcp");
    user *b = user_new("hcp");
    user *stranger = user_new("hcp");
    const char *id;
    char saved[64];

    (void)state;
    id = create_element(a, SECRET_WORD "-ee", NULL);
    snprintf(saved, sizeof saved, "%s", id);
    test_entity_assert_refused(b->session, saved);
    share(a, saved, b, CARDEA_ACCESS_READ);
    test_entity_assert_reads(b->session, b->login, saved, SECRET_WORD "-ee");
    test_entity_assert_refused(stranger->session, saved);
    /* The author reads its own entity too. */
    test_entity_assert_reads(a->session, a->login, saved, SECRET_WORD "-ee");
}

static void
test_share__explicit_to_anonymous_needs_reload(void **state)
{
    user *hcp = user_new("hcp");
    user *patient = user_new("patient");
    user *stranger = user_new("patient");
    char id[64];

    (void)state;
    /* The patient's exchange data was loaded when its session opened. */
    snprintf(id, sizeof id, "%s", create_element(hcp, SECRET_WORD "-ea",
                                                 NULL));
    share(hcp, id, patient, CARDEA_ACCESS_READ);
    /* First share to the patient: invisible until force_reload. */
    test_entity_assert_refused(patient->session, id);
    assert_int_equal(cardea_session_force_reload(patient->session),
                     CARDEA_OK);
    test_entity_assert_reads(patient->session, patient->login,
                             id, SECRET_WORD "-ea");
    test_entity_assert_refused(stranger->session, id);
    /* The HCP still finds the exchange data through the map. */
    test_entity_assert_reads(hcp->session, hcp->login, id, SECRET_WORD "-ea");
}

static void
test_share__anonymous_to_explicit(void **state)
{
    user *patient = user_new("patient");
    user *hcp = user_new("hcp");
    user *stranger = user_new("hcp");
    char id[64];
    char *out = NULL;
    json_t *created;

    (void)state;
    snprintf(id, sizeof id, "%s", create_element(patient, SECRET_WORD "-ae",
                                                 NULL));
    assert_int_equal(cardea_entity_get(&out, patient->session,
                                       CARDEA_ENTITY_HEALTH_ELEMENT, id),
                     CARDEA_OK);
    created = test_entity_parse(out);
    /* An anonymous author is written as "*". */
    assert_string_equal(json_string_value(json_object_get(created, "author")),
                        "*");
    assert_string_equal(
        json_string_value(json_object_get(created, "responsible")), "*");
    json_decref(created);
    cardea_free(out);

    share(patient, id, hcp, CARDEA_ACCESS_WRITE);
    test_entity_assert_reads(hcp->session, hcp->login, id, SECRET_WORD "-ae");
    test_entity_assert_refused(stranger->session, id);
    test_entity_assert_reads(patient->session, patient->login,
                             id, SECRET_WORD "-ae");
}

static void
test_share__anonymous_to_anonymous(void **state)
{
    user *p1 = user_new("patient");
    user *p2 = user_new("patient");
    user *stranger = user_new("patient");
    char id[64];

    (void)state;
    /* p2's exchange data was loaded when its session opened. */
    snprintf(id, sizeof id, "%s", create_element(p1, SECRET_WORD "-aa",
                                                 NULL));
    share(p1, id, p2, CARDEA_ACCESS_READ);
    test_entity_assert_refused(p2->session, id);
    assert_int_equal(cardea_session_force_reload(p2->session), CARDEA_OK);
    test_entity_assert_reads(p2->session, p2->login, id, SECRET_WORD "-aa");
    test_entity_assert_refused(stranger->session, id);
}

static void
test_share__create_with_delegates(void **state)
{
    user *hcp = user_new("hcp");
    user *other = user_new("hcp");
    user *patient = user_new("patient");
    cardea_entity_delegate delegates[] = {
        {other->owner_id, CARDEA_ACCESS_READ},
        {patient->owner_id, CARDEA_ACCESS_READ},
    };
    cardea_entity_create_options opts = CARDEA_ENTITY_CREATE_OPTIONS_INIT;
    char id[64];

    (void)state;
    opts.delegates = delegates;
    opts.delegate_count = 2;
    snprintf(id, sizeof id, "%s", create_element(hcp, SECRET_WORD "-cd",
                                                 &opts));
    test_entity_assert_reads(other->session, other->login,
                             id, SECRET_WORD "-cd");
    assert_int_equal(cardea_session_force_reload(patient->session),
                     CARDEA_OK);
    test_entity_assert_reads(patient->session, patient->login,
                             id, SECRET_WORD "-cd");
}

/* ---- delegate key verification ------------------------------------------ */

static void
test_share__verifies_new_delegate_once(void **state)
{
    user *a = user_new("hcp");
    user *b = user_new("hcp");
    char first[64];
    char second[64];

    (void)state;
    snprintf(first, sizeof first, "%s", create_element(a, "v1", NULL));
    snprintf(second, sizeof second, "%s", create_element(a, "v2", NULL));
    /* Creating exchange data to oneself asks nothing. */
    assert_int_equal(a->verify_calls, 0);
    share(a, first, b, CARDEA_ACCESS_READ);
    assert_int_equal(a->verify_calls, 1);
    assert_string_equal(a->verified_for, b->owner_id);
    share(a, second, b, CARDEA_ACCESS_READ);
    assert_int_equal(a->verify_calls, 1);
    /* A new session finds the verified exchange data on the server. */
    cardea_session_close(a->session);
    a->session = NULL;
    assert_int_equal(open_session(a), CARDEA_OK);
    share(a, first, b, CARDEA_ACCESS_WRITE);
    assert_int_equal(a->verify_calls, 1);
}

static void
test_share__rejected_key_gets_nothing(void **state)
{
    user *a = user_new("hcp");
    user *b = user_new("hcp");
    user b2;
    char *old_spki = NULL;
    char *new_spki = NULL;
    char *pkcs8 = NULL;
    char id[64];
    char *out = NULL;

    (void)state;
    assert_int_equal(cardea_simple_strategies_generated_key_pair(
                         &pkcs8, &old_spki, b->simple),
                     CARDEA_OK);
    cardea_mem__free_secret(pkcs8, strlen(pkcs8));
    /* The same data owner on a second device: a second, new key. */
    b2 = *b;
    test_server_path(b2.key_dir, sizeof b2.key_dir, &server,
                     "share-keys-device2");
    b2.session = NULL;
    assert_int_equal(cardea_simple_strategies_new(&b2.simple, NULL),
                     CARDEA_OK);
    b2.strategies.user = &b2;
    assert_int_equal(open_session(&b2), CARDEA_OK);
    assert_int_equal(cardea_simple_strategies_generated_key_pair(
                         &pkcs8, &new_spki, b2.simple),
                     CARDEA_OK);
    cardea_mem__free_secret(pkcs8, strlen(pkcs8));
    assert_string_not_equal(old_spki, new_spki);

    /* A trusts only the first key. */
    a->reject_spki = new_spki;
    snprintf(id, sizeof id, "%s", create_element(a, SECRET_WORD "-rk",
                                                 NULL));
    share(a, id, b, CARDEA_ACCESS_READ);
    assert_int_equal(a->verify_calls, 1);
    test_entity_assert_reads(b->session, b->login, id, SECRET_WORD "-rk");
    assert_int_equal(cardea_entity_get(&out, b2.session,
                                       CARDEA_ENTITY_HEALTH_ELEMENT, id),
                     CARDEA_EVERIFY);
    assert_null(out);

    cardea_session_close(b2.session);
    cardea_simple_strategies_free(b2.simple);
    cardea_free(old_spki);
    cardea_free(new_spki);
    a->reject_spki = NULL;
}

static void
test_share__all_keys_rejected_denied(void **state)
{
    user *a = user_new("hcp");
    user *b = user_new("hcp");
    char id[64];
    char *out = NULL;

    (void)state;
    snprintf(id, sizeof id, "%s", create_element(a, "denied", NULL));
    a->reject_all = true;
    assert_int_equal(cardea_entity_share(&out, a->session,
                                         CARDEA_ENTITY_HEALTH_ELEMENT, id,
                                         b->owner_id, CARDEA_ACCESS_READ),
                     CARDEA_EDENIED);
    assert_null(out);
    assert_non_null(strstr(cardea_session_errmsg(a->session), b->owner_id));
    test_entity_assert_refused(b->session, id);
}

/* ---- cost of reading ---------------------------------------------------- */

static void
test_share__hundred_reads_one_decryption(void **state)
{
    user *a = user_new("hcp");
    user *b = user_new("hcp");
    char ids[100][64];
    const char *id_list[100];
    char *out = NULL;
    char **failed = NULL;
    size_t failed_count = 1;
    uint64_t before;
    json_t *list;

    (void)state;
    for (int i = 0; i < 100; i++) {
        char descr[32];

        snprintf(descr, sizeof descr, "bulk-%d", i);
        snprintf(ids[i], sizeof ids[i], "%s", create_element(a, descr, NULL));
        share(a, ids[i], b, CARDEA_ACCESS_READ);
        id_list[i] = ids[i];
    }
    before = cardea_rsa__private_op_count();
    for (int i = 0; i < 100; i++) {
        char descr[32];

        snprintf(descr, sizeof descr, "bulk-%d", i);
        test_entity_assert_reads(b->session, b->login, ids[i], descr);
    }
    /* One exchange data, whose exchange key alone is decrypted once. */
    assert_int_equal(cardea_rsa__private_op_count() - before, 1);

    assert_int_equal(cardea_entity_get_by_ids(&out, &failed, &failed_count,
                                              b->session,
                                              CARDEA_ENTITY_HEALTH_ELEMENT,
                                              id_list, 100),
                     CARDEA_OK);
    list = test_entity_parse(out);
    assert_int_equal(json_array_size(list), 100);
    assert_int_equal(failed_count, 0);
    /* byIds afterwards costs nothing more. */
    assert_int_equal(cardea_rsa__private_op_count() - before, 1);
    json_decref(list);
    cardea_free(out);
    cardea_strings_free(failed, failed_count);
}

/* ---- entity operations -------------------------------------------------- */

static void
test_entity__modify_match_and_by_ids(void **state)
{
    user *a = user_new("hcp");
    user *b = user_new("hcp");
    char id[64];
    char filter[256];
    char *out = NULL;
    char *modified = NULL;
    char *stale = NULL;
    char **ids = NULL;
    size_t count = 0;
    json_t *entity;
    char **failed = NULL;
    size_t failed_count = 0;
    const char *both[2];
    char other[64];

    (void)state;
    snprintf(id, sizeof id, "%s", create_element(a, "before", NULL));
    assert_int_equal(cardea_entity_get(&out, a->session,
                                       CARDEA_ENTITY_HEALTH_ELEMENT, id),
                     CARDEA_OK);
    entity = test_entity_parse(out);
    cardea_free(out);
    json_object_set_new(entity, "descr", json_string("after"));
    out = json_dumps(entity, JSON_COMPACT);
    assert_int_equal(cardea_entity_modify(&modified, a->session,
                                          CARDEA_ENTITY_HEALTH_ELEMENT, out),
                     CARDEA_OK);
    assert_non_null(strstr(modified, "\"after\""));
    /* The old rev is stale now. */
    assert_int_equal(cardea_entity_modify(&stale, a->session,
                                          CARDEA_ENTITY_HEALTH_ELEMENT, out),
                     CARDEA_ECONFLICT);
    assert_null(stale);
    free(out);
    cardea_free(modified);
    json_decref(entity);
    test_entity_assert_reads(a->session, a->login, id, "after");

    snprintf(filter, sizeof filter,
             "{\"$type\":\"HealthElementByHcPartyFilter\",\"hcpId\":\"%s\"}",
             a->owner_id);
    assert_int_equal(cardea_entity_match(&ids, &count, a->session,
                                         CARDEA_ENTITY_HEALTH_ELEMENT, filter),
                     CARDEA_OK);
    assert_int_equal(count, 1);
    assert_string_equal(ids[0], id);
    cardea_strings_free(ids, count);

    /* b can fetch none of a's element; its own one decrypts. */
    snprintf(other, sizeof other, "%s", create_element(b, "mine", NULL));
    both[0] = id;
    both[1] = other;
    assert_int_equal(cardea_entity_get_by_ids(&out, &failed, &failed_count,
                                              b->session,
                                              CARDEA_ENTITY_HEALTH_ELEMENT,
                                              both, 2),
                     CARDEA_OK);
    entity = test_entity_parse(out);
    assert_int_equal(json_array_size(entity), 1);
    assert_int_equal(failed_count, 0);
    json_decref(entity);
    cardea_free(out);
}

static void
test_entity__owning_patient_and_given_id(void **state)
{
    user *hcp = user_new("hcp");
    user *patient = user_new("patient");
    cardea_entity_create_options opts = CARDEA_ENTITY_CREATE_OPTIONS_INIT;
    char body[256];
    char *out = NULL;
    json_t *entity;
    json_t *foreign;

    (void)state;
    /* The official flow creates the Patient with the data owner's id. */
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"firstName\":\"Ann\","
             "\"note\":\"" SECRET_WORD "-pn\"}", patient->owner_id);
    if (cardea_entity_create(&out, hcp->session, CARDEA_ENTITY_PATIENT, body,
                             NULL) != CARDEA_OK) {
        fail_msg("create patient: %s", cardea_session_errmsg(hcp->session));
    }
    entity = test_entity_parse(out);
    assert_string_equal(json_string_value(json_object_get(entity, "id")),
                        patient->owner_id);
    assert_string_equal(json_string_value(json_object_get(entity, "author")),
                        cardea_session_user_id(hcp->session));
    assert_string_equal(
        json_string_value(json_object_get(entity, "responsible")),
        hcp->owner_id);
    json_decref(entity);
    cardea_free(out);

    opts.owning_patient_id = patient->owner_id;
    create_element(hcp, "owned", &opts);
    assert_int_equal(cardea_entity_create(&out, hcp->session,
                                          CARDEA_ENTITY_CONTACT,
                                          "{\"descr\":\"visit\",\"services\":"
                                          "[{\"id\":\"s1\",\"content\":{\"en\""
                                          ":{\"stringValue\":\"" SECRET_WORD
                                          "-sv\"}}}]}",
                                          &opts),
                     CARDEA_OK);
    entity = test_entity_parse(out);
    foreign = json_object_get(entity, "secretForeignKeys");
    assert_int_equal(json_array_size(foreign), 1);
    assert_true(cardea_uuid__is_valid(
        json_string_value(json_array_get(foreign, 0))));
    assert_non_null(strstr(out, SECRET_WORD "-sv"));
    json_decref(entity);
    cardea_free(out);
}

static void
test_document__attachment_round_trip(void **state)
{
    user *hcp = user_new("hcp");
    user *patient = user_new("patient");
    static const uint8_t data[] = "scan: " SECRET_WORD "-att, 3 pages";
    uint8_t *back = NULL;
    size_t back_len = 0;
    char *out = NULL;
    char *updated = NULL;
    char id[64];
    json_t *doc;

    (void)state;
    assert_int_equal(cardea_entity_create(&out, hcp->session,
                                          CARDEA_ENTITY_DOCUMENT,
                                          "{\"name\":\"scan.txt\"}", NULL),
                     CARDEA_OK);
    doc = test_entity_parse(out);
    snprintf(id, sizeof id, "%s",
             json_string_value(json_object_get(doc, "id")));
    json_decref(doc);
    cardea_free(out);
    if (cardea_document_set_attachment(&updated, hcp->session, id,
                                       "public.plain-text", data,
                                       sizeof data - 1) != CARDEA_OK) {
        fail_msg("attachment: %s", cardea_session_errmsg(hcp->session));
    }
    assert_non_null(strstr(updated, "scan.txt"));
    cardea_free(updated);
    assert_int_equal(cardea_document_get_attachment(&back, &back_len,
                                                    hcp->session, id),
                     CARDEA_OK);
    assert_int_equal(back_len, sizeof data - 1);
    assert_memory_equal(back, data, back_len);
    cardea_free(back);
    back = NULL;

    /* The patient gets the attachment once the document is shared. */
    assert_int_equal(cardea_entity_share(&out, hcp->session,
                                         CARDEA_ENTITY_DOCUMENT, id,
                                         patient->owner_id,
                                         CARDEA_ACCESS_READ),
                     CARDEA_OK);
    cardea_free(out);
    assert_int_equal(cardea_session_force_reload(patient->session),
                     CARDEA_OK);
    assert_int_equal(cardea_document_get_attachment(&back, &back_len,
                                                    patient->session, id),
                     CARDEA_OK);
    assert_memory_equal(back, data, back_len);
    cardea_free(back);
}

/* ---- the database after all of the above -------------------------------- */

static void
test_share__database_hides_anonymous_ids(void **state)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    size_t scanned = 0;

    (void)state;
    assert_true(anonymous_count > 0);
    assert_int_equal(sqlite3_open_v2(server.db_path, &db,
                                     SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT type, id, json FROM entities"
                                        " WHERE stub_only = 0",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(stmt, 0);
        json_t *entity =
            test_entity_parse((const char *)sqlite3_column_text(stmt, 2));
        char *text;

        /* A Patient may carry its data owner's id as its own id. */
        json_object_del(entity, "id");
        text = json_dumps(entity, JSON_COMPACT);
        for (size_t i = 0; i < anonymous_count; i++) {
            if (strstr(text, anonymous_ids[i]) != NULL) {
                fail_msg("%s %s holds anonymous id %s", type,
                         sqlite3_column_text(stmt, 1), anonymous_ids[i]);
            }
        }
        if (strstr(text, SECRET_WORD) != NULL) {
            fail_msg("%s %s holds plaintext", type,
                     sqlite3_column_text(stmt, 1));
        }
        free(text);
        json_decref(entity);
        scanned++;
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    /* Every test above stored entities. */
    assert_true(scanned > 100);
}

static int
group_setup(void **state)
{
    (void)state;
    return test_server_start(&server, CARDEA_TEST_BIN, NULL) ? 0 : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    users_close();
    test_server_stop(&server);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share__explicit_to_explicit),
        cmocka_unit_test(test_share__explicit_to_anonymous_needs_reload),
        cmocka_unit_test(test_share__anonymous_to_explicit),
        cmocka_unit_test(test_share__anonymous_to_anonymous),
        cmocka_unit_test(test_share__create_with_delegates),
        cmocka_unit_test(test_share__verifies_new_delegate_once),
        cmocka_unit_test(test_share__rejected_key_gets_nothing),
        cmocka_unit_test(test_share__all_keys_rejected_denied),
        cmocka_unit_test(test_share__hundred_reads_one_decryption),
        cmocka_unit_test(test_entity__modify_match_and_by_ids),
        cmocka_unit_test(test_entity__owning_patient_and_given_id),
        cmocka_unit_test(test_document__attachment_round_trip),
        cmocka_unit_test(test_share__database_hides_anonymous_ids),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
