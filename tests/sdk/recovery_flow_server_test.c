/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key recovery and verification against a real `cardea serve` started by
 * the fixture. A user loses its device three ways and gets its old data
 * back: with a recovery key, through transfer keys from one old key, and,
 * with every key lost, through a new key and give-access-back by an HCP.
 * Each time the keys recovered through the server decrypt only until the
 * strategies or the user verify them, and new exchange data is encrypted
 * for verified keys alone. Also: exchange-data recovery for a patient who
 * had no key, and the rejection of exchange-key recovery data whose
 * secrets do not match its exchange data or whose exchange data is not
 * addressed to the patient; a server that substitutes a delegate's key or
 * plants a key on the user, expired and wrong recovery keys, and
 * verification results that persist in the key store.
 *
 * A "device" below is one key store folder and one session of a user.
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

#include "cardea/cardea.h"
#include "sdk/exchange.h"
#include "sdk/sdk.h"
#include "test_entity.h"
#include "test_server.h"

#define PASSWORD "correct horse battery"
#define DEVICES_MAX 48
#define FP_MAX 4

static test_server server;

typedef struct device {
    char login[64];
    char owner_id[64];
    char key_dir[TEST_SERVER_PATH_MAX + 32];
    char errmsg[512];
    bool patient;
    cardea_keygen_decision keygen;
    /* A pair the application hands back, as after importing an export. */
    char *give_pkcs8;
    char *give_spki;
    /* Recovery key used inside recover_and_verify_keys when set. */
    const char *recovery_key;
    /* Fingerprints v1 the user compared out of band: marked verified. */
    char confirmed[FP_MAX][33];
    size_t confirmed_count;
    int recover_calls;
    size_t last_unverified;
    /* The pair the session generated, from notify_key_pair_generation. */
    char *made_pkcs8;
    char *made_spki;
    /* When set, only these delegate key fingerprints v1 are trusted. */
    char trusted[FP_MAX][33];
    size_t trusted_count;
    int rejected_keys;
    /* Transport: curl, optionally behind a key-substituting proxy. */
    cardea_transport *curl;
    cardea_transport transport;
    const char *swap_owner;        /* stub whose key the proxy swaps */
    const char *swap_from;         /* real SPKI hex */
    const char *swap_to;           /* substituted SPKI hex */
    int exchange_data_puts;        /* PUT /rest/v2/exchangedata sent */
    cardea_session *session;
} device;

static device devices[DEVICES_MAX];
static size_t device_count;
static char attacker_pkcs8[4096];
static char attacker_spki[1024];

/* ---- strategies --------------------------------------------------------- */

static bool
confirmed(const device *d, const char *spki)
{
    const char *fp = spki + strlen(spki) - 32;

    for (size_t i = 0; i < d->confirmed_count; i++) {
        if (strcmp(d->confirmed[i], fp) == 0) {
            return true;
        }
    }
    return false;
}

static cardea_err
on_recover(void *u, const cardea_data_owner_info *h, size_t hn,
           const char *const *missing, size_t mn,
           const char *const *unverified, size_t un,
           cardea_key_recovery *r)
{
    device *d = u;
    cardea_err err = CARDEA_OK;

    (void)h;
    (void)hn;
    d->recover_calls++;
    d->last_unverified = un;
    if (d->give_pkcs8 != NULL) {
        err = cardea_key_recovery_add_pair(r, d->give_pkcs8, d->give_spki);
    }
    if (err == CARDEA_OK && d->recovery_key != NULL) {
        err = cardea_key_recovery_use_recovery_key(NULL, r, d->recovery_key,
                                                   0, false);
    }
    for (size_t i = 0; err == CARDEA_OK && i < un; i++) {
        err = cardea_key_recovery_set_status(
            r, unverified[i], confirmed(d, unverified[i])
                                  ? CARDEA_KEY_VERIFIED
                                  : CARDEA_KEY_TEMPORARILY_UNVERIFIED);
    }
    for (size_t i = 0; err == CARDEA_OK && i < mn; i++) {
        if (confirmed(d, missing[i])) {
            err = cardea_key_recovery_set_status(r, missing[i],
                                                 CARDEA_KEY_VERIFIED);
        }
    }
    return err;
}

static cardea_keygen_decision
on_generate(void *u, const cardea_data_owner_info *self,
            cardea_key_generation *pair)
{
    device *d = u;

    (void)self;
    (void)pair;
    return d->keygen;
}

static cardea_err
on_notify(void *u, const char *pkcs8_hex, const char *spki_hex)
{
    device *d = u;

    free(d->made_pkcs8);
    free(d->made_spki);
    d->made_pkcs8 = strdup(pkcs8_hex);
    d->made_spki = strdup(spki_hex);
    return d->made_pkcs8 != NULL && d->made_spki != NULL ? CARDEA_OK
                                                         : CARDEA_ENOMEM;
}

static cardea_err
on_verify(void *u, const char *id, cardea_data_owner_type type,
          const char *const *spkis, size_t n, bool *accepted)
{
    device *d = u;

    (void)id;
    (void)type;
    for (size_t i = 0; i < n; i++) {
        const char *fp = spkis[i] + strlen(spkis[i]) - 32;

        accepted[i] = d->trusted_count == 0;
        for (size_t j = 0; j < d->trusted_count; j++) {
            accepted[i] = accepted[i] || strcmp(d->trusted[j], fp) == 0;
        }
        d->rejected_keys += accepted[i] ? 0 : 1;
    }
    return CARDEA_OK;
}

/* ---- a proxy that swaps one data owner's public key --------------------- */

static cardea_err
swapping_send(void *u, const cardea_http_request *req,
              cardea_http_response *resp)
{
    device *d = u;
    cardea_err err = d->curl->send(d->curl->user, req, resp);
    char needle[128];
    size_t len;
    char *at;

    len = strlen(req->url);
    if (strcmp(req->method, "PUT") == 0 && len >= 13 &&
        strcmp(req->url + len - 13, "/exchangedata") == 0) {
        d->exchange_data_puts++;
    }
    if (err != CARDEA_OK || d->swap_owner == NULL ||
        strcmp(req->method, "GET") != 0) {
        return err;
    }
    snprintf(needle, sizeof needle, "dataowner/stub/%s", d->swap_owner);
    if (strstr(req->url, needle) == NULL) {
        return err;
    }
    len = strlen(d->swap_from);
    assert_int_equal(strlen(d->swap_to), len);
    for (size_t i = 0; i + len <= resp->body.len; i++) {
        at = (char *)resp->body.data + i;
        if (memcmp(at, d->swap_from, len) == 0) {
            memcpy(at, d->swap_to, len);
        }
    }
    return err;
}

/* ---- devices and users -------------------------------------------------- */

/* Adds a user to the server; returns its data owner id in `owner_id`. */
static void
user_add(char *login, size_t login_cap, char *owner_id, const char *type)
{
    static unsigned counter;

    snprintf(login, login_cap, "rec%u-%s", ++counter, type);
    assert_true(test_server_add_user(owner_id, 64, &server, CARDEA_TEST_BIN,
                                     login, PASSWORD, type, NULL));
}

/* A new device (empty key store) of the user `like` or of a new user. */
static device *
device_new(const char *type, const device *like)
{
    device *d;
    char name[32];

    assert_true(device_count < DEVICES_MAX);
    d = &devices[device_count++];
    memset(d, 0, sizeof *d);
    if (like != NULL) {
        memcpy(d->login, like->login, sizeof d->login);
        memcpy(d->owner_id, like->owner_id, sizeof d->owner_id);
        d->patient = like->patient;
    } else {
        user_add(d->login, sizeof d->login, d->owner_id, type);
        d->patient = strcmp(type, "patient") == 0;
    }
    snprintf(name, sizeof name, "rec-keys-%zu", device_count);
    test_server_path(d->key_dir, sizeof d->key_dir, &server, name);
    d->keygen = CARDEA_KEYGEN_ALLOW;
    assert_int_equal(cardea_transport_curl_new(&d->curl, NULL), CARDEA_OK);
    d->transport.version = CARDEA_TRANSPORT_VERSION;
    d->transport.user = d;
    d->transport.send = swapping_send;
    return d;
}

static cardea_err
device_open(device *d)
{
    cardea_session_options opts = CARDEA_SESSION_OPTIONS_INIT;
    cardea_crypto_strategies strategies = {
        CARDEA_CRYPTO_STRATEGIES_VERSION, d, test_entity_anonymous_patients,
        on_recover, on_generate, on_notify, on_verify};

    cardea_session_close(d->session);
    d->session = NULL;
    opts.base_url = server.base_url;
    opts.login = d->login;
    opts.password = PASSWORD;
    opts.key_store_dir = d->key_dir;
    opts.strategies = &strategies;
    opts.transport = &d->transport;
    opts.errmsg_buf = d->errmsg;
    opts.errmsg_cap = sizeof d->errmsg;
    return cardea_session_open(&d->session, &opts);
}

static void
must_open(device *d)
{
    if (device_open(d) != CARDEA_OK) {
        fail_msg("open %s: %s", d->login, d->errmsg);
    }
}

static void
devices_close(void)
{
    for (size_t i = 0; i < device_count; i++) {
        cardea_session_close(devices[i].session);
        cardea_transport_curl_free(devices[i].curl);
        free(devices[i].made_pkcs8);
        free(devices[i].made_spki);
    }
    device_count = 0;
}

/* Fingerprint v1 of an SPKI hex: its last 32 characters. */
static const char *
fp_of(const char *spki)
{
    return spki + strlen(spki) - 32;
}

static void
confirm(device *d, const char *spki)
{
    assert_true(d->confirmed_count < FP_MAX);
    snprintf(d->confirmed[d->confirmed_count++], 33, "%s",
             spki + strlen(spki) - 32);
}

static void
trust(device *d, const char *spki)
{
    assert_true(d->trusted_count < FP_MAX);
    snprintf(d->trusted[d->trusted_count++], 33, "%s",
             spki + strlen(spki) - 32);
}

/* Counts the keys the session holds, and the verified ones. */
static size_t
key_count(const device *d, size_t *verified)
{
    cardea_key_fingerprint *fps = NULL;
    size_t n = 0;

    assert_int_equal(cardea_session_key_fingerprints(&fps, &n, d->session),
                     CARDEA_OK);
    *verified = 0;
    for (size_t i = 0; i < n; i++) {
        *verified += fps[i].verified ? 1 : 0;
    }
    cardea_free(fps);
    return n;
}

static bool
holds_verified(const device *d, const char *spki)
{
    const cardea_sdk_key *k = cardea_sdk__find_key(d->session, NULL, spki);

    return k != NULL && cardea_sdk__key_is_safe(k);
}

/* ---- entities ----------------------------------------------------------- */

/* Creates a health element, shared with `with` when not NULL. */
static void
create_element(char id[64], device *d, const char *descr, const device *with)
{
    cardea_entity_create_options opts = CARDEA_ENTITY_CREATE_OPTIONS_INIT;
    cardea_entity_delegate delegate;
    char body[256];
    char *out = NULL;
    json_t *created;
    cardea_err err;

    if (with != NULL) {
        delegate.data_owner_id = with->owner_id;
        delegate.access = CARDEA_ACCESS_WRITE;
        opts.delegates = &delegate;
        opts.delegate_count = 1;
    }
    snprintf(body, sizeof body, "{\"descr\":\"%s\",\"status\":0}", descr);
    err = cardea_entity_create(&out, d->session, CARDEA_ENTITY_HEALTH_ELEMENT,
                               body, &opts);
    if (err != CARDEA_OK) {
        fail_msg("create by %s: %s: %s", d->login, cardea_strerror(err),
                 cardea_session_errmsg(d->session));
    }
    created = test_entity_parse(out);
    snprintf(id, 64, "%s", json_string_value(json_object_get(created, "id")));
    json_decref(created);
    cardea_free(out);
}

/* The exchange data from `from` to `to`, read through `d`'s session. */
static json_t *
exchange_data(device *d, const char *from, const char *to)
{
    char path[256];
    json_t *list = NULL;

    snprintf(path, sizeof path, "exchangedata/byDelegatorDelegate/%s/%s",
             from, to);
    assert_int_equal(cardea_sdk__request_json(&list, d->session, "GET", path,
                                              NULL, NULL, 0),
                     CARDEA_OK);
    assert_true(json_is_array(list));
    return list;
}

/* Whether the exchangeKey map of `xd` has an entry for `spki`. */
static bool
has_entry(const json_t *xd, const char *spki)
{
    char fp[CARDEA_FP_V2_LEN + 1];

    assert_int_equal(cardea_fp__v2(fp, spki, strlen(spki)), CARDEA_OK);
    return json_object_get(json_object_get(xd, "exchangeKey"), fp) != NULL;
}

/* Whether any exchange data of `list` has an entry for `spki`. */
static bool
any_entry_for(const json_t *list, const char *spki)
{
    const json_t *xd;
    size_t i;

    json_array_foreach(list, i, xd) {
        if (has_entry(xd, spki)) {
            return true;
        }
    }
    return false;
}

/* Whether every exchangeKey entry of `list` belongs to a key in `spkis`. */
static bool
only_entries_for(const json_t *list, const char *const *spkis, size_t n)
{
    const json_t *xd;
    size_t i;

    json_array_foreach(list, i, xd) {
        const char *fp;
        json_t *ignored;

        json_object_foreach(json_object_get(xd, "exchangeKey"), fp, ignored) {
            bool known = false;

            for (size_t k = 0; k < n; k++) {
                char mine[CARDEA_FP_V2_LEN + 1];

                assert_int_equal(cardea_fp__v2(mine, spkis[k],
                                               strlen(spkis[k])),
                                 CARDEA_OK);
                known = known || strcmp(mine, fp) == 0;
            }
            if (!known) {
                return false;
            }
        }
    }
    return true;
}

/* ---- (a) recovery key --------------------------------------------------- */

static void
test_recovery__recovery_key_restores_device(void **state)
{
    device *old = device_new("hcp", NULL);
    device *peer = device_new("hcp", NULL);
    device *fresh;
    device *third;
    char *key = NULL;
    char id[64];
    char mine[64];
    size_t recovered = 99;
    size_t verified;
    json_t *list;

    (void)state;
    must_open(old);
    must_open(peer);
    create_element(id, old, "recovery-a-old", NULL);
    assert_int_equal(cardea_recovery_create_key_pair_data(&key, old->session,
                                                          NULL),
                     CARDEA_OK);
    /* 32 bytes: 52 base32 characters in groups of 4 joined by '-'. */
    assert_int_equal(strlen(key), 52 + 12);
    assert_int_equal(key[4], '-');

    /* The new device holds nothing and may not generate a key. */
    fresh = device_new(NULL, old);
    fresh->keygen = CARDEA_KEYGEN_KEYLESS;
    must_open(fresh);
    assert_int_equal(key_count(fresh, &verified), 0);
    test_entity_assert_refused(fresh->session, id);
    assert_int_equal(cardea_recovery_recover_key_pairs(&recovered,
                                                       fresh->session, key,
                                                       false),
                     CARDEA_OK);
    assert_int_equal(recovered, 1);
    /* Recovered through the server: decrypts, encrypts nothing. */
    assert_int_equal(key_count(fresh, &verified), 1);
    assert_int_equal(verified, 0);
    test_entity_assert_reads(fresh->session, fresh->login,
                             id, "recovery-a-old");
    {
        char *out = NULL;

        assert_int_equal(cardea_entity_create(&out, fresh->session,
                                              CARDEA_ENTITY_HEALTH_ELEMENT,
                                              "{\"descr\":\"x\"}", NULL),
                         CARDEA_ENOKEY);
        assert_null(out);
    }

    /* The user compares the fingerprint and verifies the key; the result
     * persists in the key store. */
    assert_int_equal(cardea_session_verify_key(fresh->session,
                                               fp_of(old->made_spki), true),
                     CARDEA_OK);
    must_open(fresh);
    assert_int_equal(key_count(fresh, &verified), 1);
    assert_int_equal(verified, 1);
    create_element(mine, fresh, "recovery-a-new", peer);
    test_entity_assert_reads(peer->session, peer->login,
                             mine, "recovery-a-new");
    list = exchange_data(fresh, fresh->owner_id, peer->owner_id);
    assert_true(any_entry_for(list, old->made_spki));
    json_decref(list);

    /* The same key inside recover_and_verify_keys: verified at once, and
     * no key is generated. */
    third = device_new(NULL, old);
    third->recovery_key = key;
    must_open(third);
    assert_null(third->made_spki);
    assert_true(holds_verified(third, old->made_spki));
    test_entity_assert_reads(third->session, third->login,
                             id, "recovery-a-old");
    cardea_wipe(key, strlen(key));
    cardea_free(key);
}

/* ---- (b) transfer keys -------------------------------------------------- */

static void
test_recovery__transfer_keys_from_one_old_key(void **state)
{
    device *a = device_new("hcp", NULL);
    device *peer = device_new("hcp", NULL);
    device *b;
    device *c;
    device *c2;
    char first[64];
    char second[64];
    char later[64];
    size_t verified;
    json_t *list;
    json_t *stub = NULL;
    cardea_data_owner_type type;

    (void)state;
    must_open(a);
    must_open(peer);
    create_element(first, a, "transfer-k1", NULL);
    /* Device B makes a second key and data that only it opens. */
    b = device_new(NULL, a);
    must_open(b);
    assert_non_null(b->made_spki);
    create_element(second, b, "transfer-k2", NULL);
    test_entity_assert_refused(a->session, second);
    /* B imports the first key (as from an export file): from now on the
     * two keys are linked by transfer keys. */
    b->give_pkcs8 = a->made_pkcs8;
    b->give_spki = a->made_spki;
    must_open(b);
    assert_int_equal(key_count(b, &verified), 2);
    assert_int_equal(verified, 2);
    assert_int_equal(cardea_sdk__fetch_stub(&stub, &type, b->session,
                                            b->owner_id),
                     CARDEA_OK);
    assert_int_equal(json_object_size(json_object_get(
                         json_object_get(stub, "stub"), "transferKeys")),
                     2);
    json_decref(stub);

    /* Device C holds the first key only. */
    c = device_new(NULL, a);
    c->keygen = CARDEA_KEYGEN_DENY;
    c->give_pkcs8 = a->made_pkcs8;
    c->give_spki = a->made_spki;
    must_open(c);
    assert_int_equal(key_count(c, &verified), 2);
    assert_int_equal(verified, 1);
    assert_false(holds_verified(c, b->made_spki));
    /* The strategies were asked again about the transferred key. */
    assert_int_equal(c->recover_calls, 2);
    assert_int_equal(c->last_unverified, 1);
    test_entity_assert_reads(c->session, c->login, first, "transfer-k1");
    test_entity_assert_reads(c->session, c->login, second, "transfer-k2");
    /* New exchange data gets the verified key only. */
    create_element(later, c, "transfer-new", peer);
    list = exchange_data(c, c->owner_id, peer->owner_id);
    assert_true(any_entry_for(list, a->made_spki));
    assert_false(any_entry_for(list, b->made_spki));
    json_decref(list);
    test_entity_assert_reads(peer->session, peer->login, later, "transfer-new");

    /* When the user confirms the second key it becomes verified. */
    c2 = device_new(NULL, a);
    c2->keygen = CARDEA_KEYGEN_DENY;
    c2->give_pkcs8 = a->made_pkcs8;
    c2->give_spki = a->made_spki;
    confirm(c2, b->made_spki);
    must_open(c2);
    assert_true(holds_verified(c2, b->made_spki));
    test_entity_assert_reads(c2->session, c2->login, second, "transfer-k2");
}

/* A verified but missing key becomes a transfer-key source. */
static void
test_recovery__verified_missing_key_gets_transfer(void **state)
{
    device *a = device_new("hcp", NULL);
    device *b;
    device *only_b;
    char id[64];
    size_t verified;

    (void)state;
    must_open(a);
    create_element(id, a, "missing-verified", NULL);
    b = device_new(NULL, a);
    must_open(b);
    /* A verifies B's public key without holding it. */
    must_open(a);
    assert_int_equal(cardea_session_verify_key(a->session,
                                               b->made_spki, true),
                     CARDEA_OK);
    /* A device with B's key alone reaches A's key. */
    only_b = device_new(NULL, a);
    only_b->keygen = CARDEA_KEYGEN_DENY;
    only_b->give_pkcs8 = b->made_pkcs8;
    only_b->give_spki = b->made_spki;
    must_open(only_b);
    assert_int_equal(key_count(only_b, &verified), 2);
    test_entity_assert_reads(only_b->session, only_b->login,
                             id, "missing-verified");
}

/* ---- (c) every key lost: give-access-back ------------------------------- */

static void
test_recovery__give_access_back_after_loss(void **state)
{
    device *p = device_new("patient", NULL);
    device *h = device_new("hcp", NULL);
    device *p2;
    char from_hcp[64];
    char from_patient[64];
    char after[64];
    cardea_key_pair_update *updates = NULL;
    size_t update_count = 0;
    size_t created = 0;
    size_t updated = 0;
    json_t *list;

    (void)state;
    must_open(p);
    must_open(h);
    create_element(from_hcp, h, "access-back-hcp", p);
    assert_int_equal(cardea_session_force_reload(p->session), CARDEA_OK);
    test_entity_assert_reads(p->session, p->login, from_hcp, "access-back-hcp");
    create_element(from_patient, p, "access-back-patient", h);

    /* Every key lost: a new device with a new key reads nothing old. */
    p2 = device_new(NULL, p);
    must_open(p2);
    assert_non_null(p2->made_spki);
    test_entity_assert_refused(p2->session, from_hcp);
    assert_int_equal(cardea_access_back_request(&created, p2->session, NULL,
                                                0),
                     CARDEA_OK);
    assert_int_equal(created, 1);

    /* The HCP sees the request, compares the fingerprint and applies. */
    assert_int_equal(cardea_access_back_list(&updates, &update_count,
                                             h->session),
                     CARDEA_OK);
    assert_int_equal(update_count, 1);
    assert_string_equal(updates[0].data_owner_id, p->owner_id);
    assert_string_equal(updates[0].fp_v1, fp_of(p2->made_spki));
    assert_int_equal(cardea_access_back_apply_task(&updated, h->session,
                                                   updates[0].task_id),
                     CARDEA_OK);
    assert_int_equal(updated, 2);
    cardea_key_pair_updates_free(updates, update_count);
    updates = NULL;
    assert_int_equal(cardea_access_back_list(&updates, &update_count,
                                             h->session),
                     CARDEA_OK);
    assert_int_equal(update_count, 0);
    assert_null(updates);

    assert_int_equal(cardea_session_force_reload(p2->session), CARDEA_OK);
    test_entity_assert_reads(p2->session, p2->login,
                             from_hcp, "access-back-hcp");
    test_entity_assert_reads(p2->session, p2->login,
                             from_patient, "access-back-patient");
    /* New data from the new device: exchange data for the new key only. */
    create_element(after, p2, "access-back-after", h);
    test_entity_assert_reads(h->session, h->login, after, "access-back-after");
    /* The old exchange data, extended by the HCP, is not verified for
     * the new device (its delegator signature is the old key's), so the
     * new device made exchange data for its new key alone. */
    list = exchange_data(h, p->owner_id, h->owner_id);
    assert_int_equal(json_array_size(list), 2);
    {
        size_t fresh_only = 0;
        const json_t *xd;
        size_t i;

        json_array_foreach(list, i, xd) {
            fresh_only += has_entry(xd, p2->made_spki) &&
                                  !has_entry(xd, p->made_spki)
                              ? 1
                              : 0;
        }
        assert_int_equal(fresh_only, 1);
    }
    json_decref(list);
}

/* ---- exchange-key recovery for a patient without keys ------------------- */

static void
test_recovery__exchange_data_for_keyless_patient(void **state)
{
    device *h = device_new("hcp", NULL);
    device *q = device_new("patient", NULL);
    device *other = device_new("hcp", NULL);
    char *key = NULL;
    char id[64];
    char later[64];
    size_t recovered = 0;
    json_t *list;
    const char *q_keys[2];

    (void)state;
    must_open(h);
    must_open(other);
    /* The patient never opened a session: it has no key yet. */
    assert_int_equal(cardea_recovery_create_exchange_data_for(
                         &key, h->session, q->owner_id, NULL),
                     CARDEA_OK);
    {
        char *out = NULL;

        create_element(id, h, "keyless-patient", NULL);
        assert_int_equal(cardea_entity_share(&out, h->session,
                                             CARDEA_ENTITY_HEALTH_ELEMENT, id,
                                             q->owner_id,
                                             CARDEA_ACCESS_READ),
                         CARDEA_OK);
        cardea_free(out);
    }
    must_open(q);
    test_entity_assert_refused(q->session, id);
    assert_int_equal(cardea_recovery_recover_exchange_data(&recovered,
                                                           q->session, key),
                     CARDEA_OK);
    assert_int_equal(recovered, 1);
    test_entity_assert_reads(q->session, q->login, id, "keyless-patient");
    /* Used once: the recovery data is gone. */
    recovered = 77;
    assert_int_equal(cardea_recovery_recover_exchange_data(&recovered,
                                                           q->session, key),
                     CARDEA_ENOTFOUND);
    assert_int_equal(recovered, 77);
    /* The patient's own new exchange data names its verified key only. */
    create_element(later, q, "keyless-later", other);
    list = exchange_data(q, q->owner_id, other->owner_id);
    q_keys[0] = q->made_spki;
    q_keys[1] = other->made_spki;
    assert_int_equal(json_array_size(list), 1);
    assert_true(only_entries_for(list, q_keys, 2));
    json_decref(list);
    test_entity_assert_reads(other->session, other->login,
                             later, "keyless-later");
    cardea_wipe(key, strlen(key));
    cardea_free(key);
}

/* ---- recovery data that does not match its exchange data ---------------- */

/* The secret a test corrupts before storing it as recovery data. */
typedef enum tamper {
    TAMPER_NONE,
    TAMPER_EXCHANGE_KEY,
    TAMPER_AC_SECRET,
    TAMPER_SIGNATURE_KEY,
} tamper;

/*
 * Decrypts exchange data `xd_id` with `giver`'s keys and flips one bit of
 * the secret `how` names. Free with cardea_exchange_data__content_free.
 */
static cardea_exchange_content *
secrets_of(device *giver, const char *xd_id, tamper how)
{
    cardea_owner_key *keys = NULL;
    size_t key_n = 0;
    cardea_exchange_content *content = NULL;
    char path[256];
    json_t *xd = NULL;

    snprintf(path, sizeof path, "exchangedata/%s", xd_id);
    assert_int_equal(cardea_sdk__request_json(&xd, giver->session, "GET",
                                              path, NULL, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_sdk__decryption_keys(&keys, &key_n,
                                                 giver->session),
                     CARDEA_OK);
    assert_int_equal(cardea_exchange_data__decrypt(&content, xd, keys, key_n),
                     CARDEA_OK);
    cardea_free(keys);
    json_decref(xd);
    if (how == TAMPER_EXCHANGE_KEY) {
        content->exchange_key[0] ^= 1;
    } else if (how == TAMPER_AC_SECRET) {
        content->access_control_secret[0] ^= 1;
    } else if (how == TAMPER_SIGNATURE_KEY) {
        content->shared_signature_key[0] ^= 1;
    }
    return content;
}

/* Stores EXCHANGE_KEY_RECOVERY data for `recipient` as `giver`. */
static char *
store_exchange_recovery(device *giver, const char *recipient,
                        const cardea_recovery_exchange *entries, size_t n)
{
    const cardea_recovery_options opts = CARDEA_RECOVERY_OPTIONS_INIT;
    char *content = NULL;
    size_t content_len = 0;
    char *key = NULL;

    assert_int_equal(cardea_recovery__exchange_build(&content, &content_len,
                                                     entries, n),
                     CARDEA_OK);
    assert_int_equal(cardea_sdk__recovery_store(&key, giver->session,
                                                recipient,
                                                CARDEA_RECOVERY_EXCHANGE_KEY,
                                                content, content_len, &opts),
                     CARDEA_OK);
    cardea_mem__free_secret(content, content_len + 1);
    return key;
}

/* Recovery data for `recipient` of one exchange data of `giver`. */
static char *
store_one(device *giver, const char *recipient, const char *xd_id,
          tamper how)
{
    cardea_recovery_exchange entry;
    cardea_exchange_content *content = secrets_of(giver, xd_id, how);
    char *key;

    entry.exchange_data_id = xd_id;
    entry.content = content;
    key = store_exchange_recovery(giver, recipient, &entry, 1);
    cardea_exchange_data__content_free(content);
    return key;
}

static void
key_free(char *key)
{
    cardea_wipe(key, strlen(key));
    cardea_free(key);
}

/* Id and revision of the only exchange data from `from` to `to`. */
static void
only_exchange_data(char id[64], char rev[64], device *d, const char *from,
                   const char *to)
{
    json_t *list = exchange_data(d, from, to);
    const json_t *xd = json_array_get(list, 0);

    assert_int_equal(json_array_size(list), 1);
    snprintf(id, 64, "%s", json_string_value(json_object_get(xd, "id")));
    snprintf(rev, 64, "%s", json_string_value(json_object_get(xd, "rev")));
    json_decref(list);
}

/*
 * Recovery of `key` by `d` fails with `expected` and an error message
 * containing `reason`, sends no PUT, and leaves `recovered` untouched.
 */
static void
assert_recovery_rejected(device *d, const char *key, cardea_err expected,
                         const char *reason)
{
    size_t recovered = 77;
    int puts_before = d->exchange_data_puts;
    cardea_err err = cardea_recovery_recover_exchange_data(&recovered,
                                                           d->session, key);

    assert_int_equal(err, expected);
    assert_int_equal(recovered, 77);
    assert_int_equal(d->exchange_data_puts, puts_before);
    if (strstr(cardea_session_errmsg(d->session), reason) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"",
                 cardea_session_errmsg(d->session), reason);
    }
}

static void
test_recovery__tampered_secrets_rejected(void **state)
{
    static const tamper cases[] = {TAMPER_EXCHANGE_KEY, TAMPER_AC_SECRET,
                                   TAMPER_SIGNATURE_KEY};
    device *h = device_new("hcp", NULL);
    device *q = device_new("patient", NULL);
    char *genuine = NULL;
    char xd_id[64];
    char rev[64];
    char rev_after[64];
    char id[64];
    size_t recovered = 0;
    json_t *list;

    (void)state;
    must_open(h);
    assert_int_equal(cardea_recovery_create_exchange_data_for(
                         &genuine, h->session, q->owner_id, NULL),
                     CARDEA_OK);
    only_exchange_data(xd_id, rev, h, h->owner_id, q->owner_id);
    create_element(id, h, "tampered-secrets", NULL);
    {
        char *out = NULL;

        assert_int_equal(cardea_entity_share(&out, h->session,
                                             CARDEA_ENTITY_HEALTH_ELEMENT, id,
                                             q->owner_id,
                                             CARDEA_ACCESS_READ),
                         CARDEA_OK);
        cardea_free(out);
    }
    must_open(q);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *bad = store_one(h, q->owner_id, xd_id, cases[i]);

        assert_recovery_rejected(q, bad, CARDEA_EVERIFY, "shared signature");
        key_free(bad);
    }
    only_exchange_data(xd_id, rev_after, h, h->owner_id, q->owner_id);
    assert_string_equal(rev_after, rev);
    list = exchange_data(h, h->owner_id, q->owner_id);
    assert_false(any_entry_for(list, q->made_spki));
    json_decref(list);
    test_entity_assert_refused(q->session, id);

    /* The genuine recovery data still works, and the re-signed exchange
     * data verifies with the patient's key in it. */
    assert_int_equal(cardea_recovery_recover_exchange_data(&recovered,
                                                           q->session,
                                                           genuine),
                     CARDEA_OK);
    assert_int_equal(recovered, 1);
    assert_int_equal(q->exchange_data_puts, 1);
    test_entity_assert_reads(q->session, q->login, id, "tampered-secrets");
    {
        char *again = store_one(h, q->owner_id, xd_id, TAMPER_NONE);

        assert_int_equal(cardea_recovery_recover_exchange_data(&recovered,
                                                               q->session,
                                                               again),
                         CARDEA_OK);
        key_free(again);
    }
    key_free(genuine);
}

static void
test_recovery__foreign_exchange_data_rejected(void **state)
{
    device *p = device_new("patient", NULL);
    device *h = device_new("hcp", NULL);
    device *other = device_new("hcp", NULL);
    char mine[64];
    char theirs[64];
    char xd_id[64];
    char rev[64];
    char rev_after[64];
    char *key;

    (void)state;
    must_open(p);
    must_open(h);
    must_open(other);
    create_element(mine, p, "foreign-patient", h);
    create_element(theirs, h, "foreign-hcp", other);

    /* The patient's own exchange data to the HCP: its delegate is the
     * HCP, so the patient would sign secrets another party supplied. */
    only_exchange_data(xd_id, rev, p, p->owner_id, h->owner_id);
    key = store_one(h, p->owner_id, xd_id, TAMPER_NONE);
    assert_recovery_rejected(p, key, CARDEA_EVERIFY, "is addressed to");
    key_free(key);
    only_exchange_data(xd_id, rev_after, p, p->owner_id, h->owner_id);
    assert_string_equal(rev_after, rev);

    /* Exchange data between two others: the server refuses to show it. */
    only_exchange_data(xd_id, rev, h, h->owner_id, other->owner_id);
    key = store_one(h, p->owner_id, xd_id, TAMPER_NONE);
    assert_recovery_rejected(p, key, CARDEA_EACCESS, xd_id);
    key_free(key);
    only_exchange_data(xd_id, rev_after, h, h->owner_id, other->owner_id);
    assert_string_equal(rev_after, rev);
    test_entity_assert_reads(other->session, other->login,
                             theirs, "foreign-hcp");
    test_entity_assert_refused(p->session, theirs);
}

static void
test_recovery__missing_exchange_data_rejected(void **state)
{
    device *h = device_new("hcp", NULL);
    device *q = device_new("patient", NULL);
    cardea_recovery_exchange entries[2];
    cardea_exchange_content *content;
    cardea_exchange_content *random_content = NULL;
    char *genuine = NULL;
    char *key;
    char xd_id[64];
    char rev[64];
    char rev_after[64];
    char missing[CARDEA_UUID_STR_LEN + 1];

    (void)state;
    must_open(h);
    assert_int_equal(cardea_recovery_create_exchange_data_for(
                         &genuine, h->session, q->owner_id, NULL),
                     CARDEA_OK);
    only_exchange_data(xd_id, rev, h, h->owner_id, q->owner_id);
    must_open(q);

    /* A genuine entry first: nothing is written before all are checked. */
    content = secrets_of(h, xd_id, TAMPER_NONE);
    assert_int_equal(cardea_exchange_data__content_generate(&random_content),
                     CARDEA_OK);
    cardea_uuid__v4(missing);
    entries[0].exchange_data_id = xd_id;
    entries[0].content = content;
    entries[1].exchange_data_id = missing;
    entries[1].content = random_content;
    key = store_exchange_recovery(h, q->owner_id, entries, 2);
    assert_recovery_rejected(q, key, CARDEA_ENOTFOUND, "was not found");
    key_free(key);

    /* The same exchange data named twice is malformed. */
    entries[1].exchange_data_id = xd_id;
    entries[1].content = content;
    key = store_exchange_recovery(h, q->owner_id, entries, 2);
    assert_recovery_rejected(q, key, CARDEA_EFORMAT, "twice");
    key_free(key);
    only_exchange_data(xd_id, rev_after, h, h->owner_id, q->owner_id);
    assert_string_equal(rev_after, rev);
    cardea_exchange_data__content_free(content);
    cardea_exchange_data__content_free(random_content);
    key_free(genuine);
}

/* ---- a server that substitutes keys ------------------------------------- */

static void
test_recovery__substituted_delegate_key_caught(void **state)
{
    device *a = device_new("hcp", NULL);
    device *b = device_new("hcp", NULL);
    char id[64];
    char *out = NULL;
    json_t *list;

    (void)state;
    must_open(a);
    must_open(b);
    /* A compared B's fingerprint out of band. The server then returns
     * the attacker's key in B's place. */
    trust(a, b->made_spki);
    a->swap_owner = b->owner_id;
    a->swap_from = b->made_spki;
    a->swap_to = attacker_spki;
    must_open(a);
    create_element(id, a, "substituted", NULL);
    assert_int_equal(cardea_entity_share(&out, a->session,
                                         CARDEA_ENTITY_HEALTH_ELEMENT, id,
                                         b->owner_id, CARDEA_ACCESS_READ),
                     CARDEA_EDENIED);
    assert_null(out);
    assert_true(a->rejected_keys >= 1);
    list = exchange_data(b, a->owner_id, b->owner_id);
    assert_false(any_entry_for(list, attacker_spki));
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

/* Stub edit: appends the attacker's key, as a rogue server would. */
static cardea_err
plant_key(json_t *stub, const void *arg)
{
    json_t *keys = json_object_get(stub, "publicKeysForOaepWithSha256");

    (void)arg;
    return cardea_json__append_new(keys, json_string(attacker_spki));
}

static void
test_recovery__planted_own_key_gets_nothing(void **state)
{
    device *a = device_new("hcp", NULL);
    device *b = device_new("hcp", NULL);
    char id[64];
    size_t updated = 0;
    size_t verified;
    json_t *list;
    json_t *stub = NULL;
    cardea_data_owner_type type;
    const char *fp;
    json_t *ignored;

    (void)state;
    must_open(a);
    must_open(b);
    assert_int_equal(cardea_sdk__put_stub(a->session,
                                          a->session->owner_count - 1,
                                          plant_key, NULL),
                     CARDEA_OK);
    must_open(a);
    assert_int_equal(key_count(a, &verified), 1);
    assert_int_equal(a->last_unverified, 0);
    create_element(id, a, "planted", b);
    test_entity_assert_reads(b->session, b->login, id, "planted");
    list = exchange_data(a, a->owner_id, b->owner_id);
    assert_false(any_entry_for(list, attacker_spki));
    json_decref(list);
    list = exchange_data(a, a->owner_id, a->owner_id);
    assert_false(any_entry_for(list, attacker_spki));
    json_decref(list);
    assert_int_equal(cardea_sdk__fetch_stub(&stub, &type, a->session,
                                            a->owner_id),
                     CARDEA_OK);
    json_object_foreach(json_object_get(json_object_get(stub, "stub"),
                                        "transferKeys"),
                        fp, ignored) {
        assert_string_not_equal(fp, attacker_spki + strlen(attacker_spki)
                                        - 32);
    }
    json_decref(stub);

    /* A planted key-pair update for that key is refused by a counterpart
     * that compared fingerprints. */
    trust(b, a->made_spki);
    must_open(b);
    updated = 55;
    assert_int_equal(cardea_access_back_apply(&updated, b->session,
                                              a->owner_id, attacker_spki),
                     CARDEA_EDENIED);
    assert_int_equal(updated, 55);
    list = exchange_data(b, a->owner_id, b->owner_id);
    assert_false(any_entry_for(list, attacker_spki));
    json_decref(list);
    /* A key the data owner does not publish is refused first. */
    assert_int_equal(cardea_access_back_apply(&updated, b->session,
                                              b->owner_id, attacker_spki),
                     CARDEA_EVERIFY);
    assert_int_equal(updated, 55);
}

/* ---- expired and wrong recovery keys ------------------------------------ */

static void
test_recovery__expired_key_rejected(void **state)
{
    device *a = device_new("hcp", NULL);
    device *fresh;
    cardea_recovery_options opts = CARDEA_RECOVERY_OPTIONS_INIT;
    char *key = NULL;
    size_t recovered = 42;
    size_t verified;

    (void)state;
    must_open(a);
    opts.lifetime_s = 1;
    opts.key_bytes = 16;
    assert_int_equal(cardea_recovery_create_key_pair_data(&key, a->session,
                                                          &opts),
                     CARDEA_OK);
    /* 16 bytes: 26 base32 characters in 7 groups. */
    assert_int_equal(strlen(key), 26 + 6);
    sleep(2);
    fresh = device_new(NULL, a);
    fresh->keygen = CARDEA_KEYGEN_KEYLESS;
    must_open(fresh);
    assert_int_equal(cardea_recovery_recover_key_pairs(&recovered,
                                                       fresh->session, key,
                                                       false),
                     CARDEA_ENOTFOUND);
    assert_int_equal(recovered, 42);
    assert_non_null(strstr(cardea_session_errmsg(fresh->session),
                           "expired"));
    assert_int_equal(key_count(fresh, &verified), 0);
    cardea_wipe(key, strlen(key));
    cardea_free(key);
}

static void
test_recovery__wrong_key_reveals_nothing(void **state)
{
    device *a = device_new("hcp", NULL);
    device *fresh;
    char *key = NULL;
    char *exchange_key = NULL;
    size_t recovered = 42;
    size_t verified;
    /* A valid key text (32 bytes) that no recovery data uses. */
    const char *wrong = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH-IIII-JJJJ-"
                        "KKKK-LLLL-MMMA";

    (void)state;
    must_open(a);
    assert_int_equal(cardea_recovery_create_key_pair_data(&key, a->session,
                                                          NULL),
                     CARDEA_OK);
    fresh = device_new(NULL, a);
    fresh->keygen = CARDEA_KEYGEN_KEYLESS;
    must_open(fresh);
    assert_int_equal(cardea_recovery_recover_key_pairs(&recovered,
                                                       fresh->session, wrong,
                                                       false),
                     CARDEA_ENOTFOUND);
    assert_int_equal(recovered, 42);
    assert_int_equal(cardea_recovery_recover_key_pairs(&recovered,
                                                       fresh->session,
                                                       "not a key!", false),
                     CARDEA_EFORMAT);
    assert_int_equal(recovered, 42);
    /* Exchange-data recovery data is not a key pair. */
    assert_int_equal(cardea_recovery_create_exchange_data_for(
                         &exchange_key, a->session, a->owner_id, NULL),
                     CARDEA_OK);
    assert_int_equal(cardea_recovery_recover_key_pairs(&recovered,
                                                       fresh->session,
                                                       exchange_key, false),
                     CARDEA_EINVAL);
    assert_int_equal(recovered, 42);
    assert_int_equal(key_count(fresh, &verified), 0);
    /* Waiting on a key with no data ends after the wait, with nothing. */
    assert_int_equal(cardea_recovery_wait_key_pairs(&recovered,
                                                    fresh->session, wrong, 1,
                                                    false),
                     CARDEA_ENOTFOUND);
    assert_int_equal(recovered, 42);
    /* The right key, with auto-delete, works once. */
    assert_int_equal(cardea_recovery_wait_key_pairs(&recovered,
                                                    fresh->session, key, 5,
                                                    true),
                     CARDEA_OK);
    assert_int_equal(recovered, 1);
    recovered = 42;
    assert_int_equal(cardea_recovery_recover_key_pairs(&recovered,
                                                       fresh->session, key,
                                                       false),
                     CARDEA_ENOTFOUND);
    assert_int_equal(recovered, 42);
    cardea_wipe(key, strlen(key));
    cardea_free(key);
    cardea_wipe(exchange_key, strlen(exchange_key));
    cardea_free(exchange_key);
}

/* ---- runner ------------------------------------------------------------- */

static int
group_setup(void **state)
{
    cardea_rsa_key *key = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *hex = NULL;
    char *spki = NULL;

    (void)state;
    if (cardea_rsa__generate(&key, 2048) != CARDEA_OK ||
        cardea_rsa__pkcs8_der(&der, &der_len, key) != CARDEA_OK ||
        cardea_hex__encode_alloc(&hex, der, der_len) != CARDEA_OK ||
        cardea_rsa__spki_hex(&spki, key) != CARDEA_OK) {
        return -1;
    }
    snprintf(attacker_pkcs8, sizeof attacker_pkcs8, "%s", hex);
    snprintf(attacker_spki, sizeof attacker_spki, "%s", spki);
    cardea_mem__free_secret(der, der_len);
    cardea_free(hex);
    cardea_free(spki);
    cardea_rsa__free(key);
    return test_server_start(&server, CARDEA_TEST_BIN, NULL) ? 0 : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    devices_close();
    test_server_stop(&server);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery__recovery_key_restores_device),
        cmocka_unit_test(test_recovery__transfer_keys_from_one_old_key),
        cmocka_unit_test(test_recovery__verified_missing_key_gets_transfer),
        cmocka_unit_test(test_recovery__give_access_back_after_loss),
        cmocka_unit_test(test_recovery__exchange_data_for_keyless_patient),
        cmocka_unit_test(test_recovery__tampered_secrets_rejected),
        cmocka_unit_test(test_recovery__foreign_exchange_data_rejected),
        cmocka_unit_test(test_recovery__missing_exchange_data_rejected),
        cmocka_unit_test(test_recovery__substituted_delegate_key_caught),
        cmocka_unit_test(test_recovery__planted_own_key_gets_nothing),
        cmocka_unit_test(test_recovery__expired_key_rejected),
        cmocka_unit_test(test_recovery__wrong_key_reveals_nothing),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
