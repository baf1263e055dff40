/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Session tests against a real `cardea serve` started by the fixture.
 * They cover key generation for a new data owner, reopening with the
 * stored key, recovery through preloaded keys, denied generation, keyless
 * sessions and unverified keys. They also cover parents without keys,
 * anonymous data owners with a hierarchy, wrong passwords, unsafe key
 * store folders and token refresh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cardea/cardea.h"
#include "sdk/sdk.h"
#include "test_server.h"

#define PASSWORD "correct horse battery"
#define REQUESTS_MAX 256

static test_server server;

/* ---- a transport that records requests, then forwards them to curl ------- */

typedef struct recorder {
    cardea_transport *curl;
    char requests[REQUESTS_MAX][96];   /* "METHOD path" without query */
    size_t count;
} recorder;

static cardea_err
record_send(void *user, const cardea_http_request *req,
            cardea_http_response *resp)
{
    recorder *rec = user;
    const char *path = strstr(req->url, "/rest/v2/");

    if (rec->count < REQUESTS_MAX && path != NULL) {
        path += strlen("/rest/v2/");
        snprintf(rec->requests[rec->count], sizeof rec->requests[0],
                 "%s %.*s", req->method, (int)strcspn(path, "?"), path);
        rec->count++;
    }
    return rec->curl->send(rec->curl->user, req, resp);
}

static size_t
count_requests(const recorder *rec, const char *request)
{
    size_t n = 0;

    for (size_t i = 0; i < rec->count; i++) {
        n += strcmp(rec->requests[i], request) == 0 ? 1 : 0;
    }
    return n;
}

/* ---- strategies that wrap the simple ones and watch what happens --------- */

typedef struct watcher {
    cardea_crypto_strategies *simple;
    cardea_keygen_decision decision;   /* 0: ask the simple strategies */
    const recorder *rec;
    const char *key_dir;
    unsigned anonymous_types;
    int notify_count;
    int recover_count;
    size_t puts_before_notify;
    bool device_file_before_notify;
    char *pkcs8_hex;
    char *spki_hex;
} watcher;

static bool
has_entry(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;

    if (d == NULL) {
        return false;
    }
    while ((e = readdir(d)) != NULL) {
        found = found || strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    }
    closedir(d);
    return found;
}

static bool
watch_anonymous(void *user, const char *id, cardea_data_owner_type type)
{
    watcher *w = user;

    (void)id;
    return (w->anonymous_types & (1u << (type - 1))) != 0;
}

static cardea_err
watch_recover(void *user, const cardea_data_owner_info *hierarchy,
              size_t hierarchy_len, const char *const *missing,
              size_t missing_count, const char *const *unverified,
              size_t unverified_count, cardea_key_recovery *result)
{
    watcher *w = user;

    w->recover_count++;
    return w->simple->recover_and_verify_keys(
        w->simple->user, hierarchy, hierarchy_len, missing, missing_count,
        unverified, unverified_count, result);
}

static cardea_keygen_decision
watch_generate(void *user, const cardea_data_owner_info *self,
               cardea_key_generation *pair)
{
    watcher *w = user;

    if (w->decision != 0) {
        return w->decision;
    }
    return w->simple->generate_new_key_for_data_owner(w->simple->user, self,
                                                      pair);
}

static cardea_err
watch_notify(void *user, const char *pkcs8_hex, const char *spki_hex)
{
    watcher *w = user;

    w->notify_count++;
    w->puts_before_notify = count_requests(w->rec, "PUT dataowner/stub");
    w->device_file_before_notify =
        has_entry(w->key_dir, "org.taktik.icure.rsa.device.");
    cardea_mem__free(w->pkcs8_hex);
    cardea_mem__free(w->spki_hex);
    w->pkcs8_hex = cardea_mem__strdup(pkcs8_hex);
    w->spki_hex = cardea_mem__strdup(spki_hex);
    return w->simple->notify_key_pair_generation(w->simple->user, pkcs8_hex,
                                                 spki_hex);
}

static cardea_err
watch_verify(void *user, const char *id, cardea_data_owner_type type,
             const char *const *spkis, size_t n, bool *accepted)
{
    watcher *w = user;

    return w->simple->verify_delegate_public_keys(w->simple->user, id, type,
                                                  spkis, n, accepted);
}

/* ---- per-test context ---------------------------------------------------- */

typedef struct context {
    recorder rec;
    watcher watch;
    cardea_crypto_strategies strategies;
    cardea_session_options opts;
    char key_dir[TEST_SERVER_PATH_MAX + 32];
    char errmsg[512];
    char owner_id[64];
    char login[64];
} context;

static unsigned context_serial;

/*
 * Prepares a context for a new user of `type` (with `parent` or NULL),
 * its own key store folder and strategies with `available` preloaded.
 */
static context *
context_new(const char *type, const char *parent,
            const cardea_key_pair_hex *available, size_t available_count)
{
    cardea_simple_strategies_options simple =
        CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT;
    cardea_session_options init = CARDEA_SESSION_OPTIONS_INIT;
    context *ctx = cardea_mem__calloc(1, sizeof *ctx);
    char name[32];

    assert_non_null(ctx);
    context_serial++;
    snprintf(ctx->login, sizeof ctx->login, "user%u-%s", context_serial,
             type);
    snprintf(name, sizeof name, "keys-%u", context_serial);
    test_server_path(ctx->key_dir, sizeof ctx->key_dir, &server, name);
    assert_true(test_server_add_user(ctx->owner_id, sizeof ctx->owner_id,
                                     &server, CARDEA_TEST_BIN, ctx->login,
                                     PASSWORD, type, parent));

    assert_int_equal(cardea_transport_curl_new(&ctx->rec.curl, NULL),
                     CARDEA_OK);
    simple.available_keys = available;
    simple.available_key_count = available_count;
    assert_int_equal(cardea_simple_strategies_new(&ctx->watch.simple,
                                                  &simple),
                     CARDEA_OK);
    ctx->watch.rec = &ctx->rec;
    ctx->watch.key_dir = ctx->key_dir;
    ctx->watch.anonymous_types = CARDEA_ANONYMOUS_PATIENT;
    ctx->strategies.version = CARDEA_CRYPTO_STRATEGIES_VERSION;
    ctx->strategies.user = &ctx->watch;
    ctx->strategies.data_owner_requires_anonymous_delegation =
        watch_anonymous;
    ctx->strategies.recover_and_verify_keys = watch_recover;
    ctx->strategies.generate_new_key_for_data_owner = watch_generate;
    ctx->strategies.notify_key_pair_generation = watch_notify;
    ctx->strategies.verify_delegate_public_keys = watch_verify;

    ctx->opts = init;
    ctx->opts.base_url = server.base_url;
    ctx->opts.login = ctx->login;
    ctx->opts.password = PASSWORD;
    ctx->opts.key_store_dir = ctx->key_dir;
    ctx->opts.strategies = &ctx->strategies;
    ctx->opts.errmsg_buf = ctx->errmsg;
    ctx->opts.errmsg_cap = sizeof ctx->errmsg;
    return ctx;
}

/* Opens with a transport struct that lives as long as the call. */
static cardea_err
context_open(cardea_session **out, context *ctx)
{
    cardea_transport transport = {CARDEA_TRANSPORT_VERSION, &ctx->rec,
                                  record_send};

    ctx->opts.transport = &transport;
    return cardea_session_open(out, &ctx->opts);
}

static void
context_free(context *ctx)
{
    cardea_transport_curl_free(ctx->rec.curl);
    cardea_simple_strategies_free(ctx->watch.simple);
    cardea_mem__free(ctx->watch.pkcs8_hex);
    cardea_mem__free(ctx->watch.spki_hex);
    cardea_mem__free(ctx);
}

static mode_t
mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Path of the key file of `kind` ("device" or "recovered"). */
static void
key_path(char *out, size_t cap, const context *ctx, const char *kind,
         const char *owner_id, const char *fp)
{
    snprintf(out, cap, "%s/org.taktik.icure.rsa.%s.%s.%s", ctx->key_dir,
             kind, owner_id, fp);
}

/* Opens a fresh HCP with key generation allowed, as several tests need. */
static context *
context_with_key(cardea_session **out, const char *type, const char *parent)
{
    context *ctx = context_new(type, parent, NULL, 0);

    assert_int_equal(context_open(out, ctx), CARDEA_OK);
    assert_int_equal(ctx->watch.notify_count, 1);
    return ctx;
}

/*
 * Creates an HCP with a key and a child HCP that takes the parent's pair
 * as recovered. Returns the child; the parent goes to `parent_out`.
 */
static context *
child_with_parent_key(context **parent_out)
{
    cardea_session *session = NULL;
    context *parent = context_with_key(&session, "hcp", NULL);
    cardea_key_pair_hex pair = {parent->watch.pkcs8_hex,
                                parent->watch.spki_hex};
    context *child = context_new("hcp", parent->owner_id, &pair, 1);

    cardea_session_close(session);
    *parent_out = parent;
    return child;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_session__generates_key_for_new_hcp(void **state)
{
    context *ctx = context_new("hcp", NULL, NULL, 0);
    cardea_session *session = NULL;
    cardea_key_fingerprint *fps = NULL;
    size_t fp_count = 0;
    char path[TEST_SERVER_PATH_MAX + 200];
    char *json = NULL;

    (void)state;
    assert_int_equal(context_open(&session, ctx), CARDEA_OK);
    assert_string_equal(ctx->errmsg, "");
    assert_string_equal(cardea_session_data_owner_id(session),
                        ctx->owner_id);
    assert_int_equal(cardea_session_data_owner_type(session),
                     CARDEA_DATA_OWNER_HCP);
    assert_non_null(cardea_session_user_id(session));

    /* Notified once, before the key was stored or published. */
    assert_int_equal(ctx->watch.notify_count, 1);
    assert_int_equal(ctx->watch.puts_before_notify, 0);
    assert_false(ctx->watch.device_file_before_notify);
    assert_int_equal(count_requests(&ctx->rec, "PUT dataowner/stub"), 1);

    assert_int_equal(cardea_session_key_fingerprints(&fps, &fp_count,
                                                     session),
                     CARDEA_OK);
    assert_int_equal(fp_count, 1);
    assert_true(fps[0].device);
    assert_true(fps[0].verified);
    assert_true(fps[0].oaep_sha256);
    assert_string_equal(fps[0].data_owner_id, ctx->owner_id);
    assert_string_equal(fps[0].fp_v1, ctx->watch.spki_hex +
                                          strlen(ctx->watch.spki_hex) - 32);

    assert_int_equal(mode_of(ctx->key_dir), 0700);
    key_path(path, sizeof path, ctx, "device", ctx->owner_id, fps[0].fp_v1);
    assert_int_equal(mode_of(path), 0600);

    /* The server now publishes the key for OAEP-SHA-256. */
    assert_int_equal(cardea_session_data_owner_json(&json, session),
                     CARDEA_OK);
    assert_non_null(strstr(json, "publicKeysForOaepWithSha256"));
    assert_non_null(strstr(json, ctx->watch.spki_hex));
    cardea_free(json);
    cardea_free(fps);
    cardea_session_close(session);
    context_free(ctx);
}

static void
test_session__reopen_loads_stored_key(void **state)
{
    cardea_session *session = NULL;
    context *ctx = context_with_key(&session, "hcp", NULL);
    cardea_key_fingerprint *fps = NULL;
    size_t fp_count = 0;
    char first_fp[33];

    (void)state;
    snprintf(first_fp, sizeof first_fp, "%s",
             ctx->watch.spki_hex + strlen(ctx->watch.spki_hex) - 32);
    cardea_session_close(session);
    session = NULL;
    ctx->rec.count = 0;

    assert_int_equal(context_open(&session, ctx), CARDEA_OK);
    assert_int_equal(ctx->watch.notify_count, 1);
    assert_int_equal(ctx->watch.recover_count, 0);
    assert_int_equal(count_requests(&ctx->rec, "PUT dataowner/stub"), 0);
    assert_int_equal(cardea_session_key_fingerprints(&fps, &fp_count,
                                                     session),
                     CARDEA_OK);
    assert_int_equal(fp_count, 1);
    assert_string_equal(fps[0].fp_v1, first_fp);
    assert_true(fps[0].device);
    cardea_free(fps);
    cardea_session_close(session);
    context_free(ctx);
}

static void
test_session__recovers_preloaded_key(void **state)
{
    cardea_session *session = NULL;
    context *first = context_with_key(&session, "hcp", NULL);
    cardea_key_pair_hex pair = {first->watch.pkcs8_hex,
                                first->watch.spki_hex};
    context *second = context_new("hcp", NULL, &pair, 1);
    cardea_key_fingerprint *fps = NULL;
    size_t fp_count = 0;
    char path[TEST_SERVER_PATH_MAX + 200];
    uint8_t *map = NULL;
    size_t map_len = 0;
    cardea_keystore *store = NULL;
    char name[256];

    (void)state;
    cardea_session_close(session);
    session = NULL;
    /* Same user, new device: an empty key store and the pair preloaded. */
    second->opts.login = first->login;
    assert_int_equal(context_open(&session, second), CARDEA_OK);
    assert_int_equal(second->watch.recover_count, 1);
    assert_int_equal(second->watch.notify_count, 0);
    assert_int_equal(count_requests(&second->rec, "PUT dataowner/stub"), 0);
    assert_int_equal(cardea_session_key_fingerprints(&fps, &fp_count,
                                                     session),
                     CARDEA_OK);
    assert_int_equal(fp_count, 1);
    assert_false(fps[0].device);
    assert_true(fps[0].verified);
    key_path(path, sizeof path, second, "recovered", first->owner_id,
             fps[0].fp_v1);
    assert_int_equal(mode_of(path), 0600);

    assert_int_equal(cardea_keystore__open(&store, second->key_dir, NULL, 0),
                     CARDEA_OK);
    snprintf(name, sizeof name, "org.taktik.icure.rsa.%s.verification.self",
             first->owner_id);
    assert_int_equal(cardea_keystore__get(&map, &map_len, store, name, NULL,
                                          0),
                     CARDEA_OK);
    assert_non_null(strstr((char *)map, fps[0].fp_v1));
    assert_non_null(strstr((char *)map, "true"));
    cardea_mem__free_secret(map, map_len + 1);
    cardea_keystore__close(store);
    cardea_free(fps);
    cardea_session_close(session);
    context_free(first);
    context_free(second);
}

static void
test_session__unverified_key_decrypts_only(void **state)
{
    cardea_session *session = NULL;
    context *first = context_with_key(&session, "hcp", NULL);
    context *second = context_new("hcp", NULL, NULL, 0);
    cardea_key_fingerprint *fps = NULL;
    size_t fp_count = 0;
    cardea_keystore *store = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char fp[33];
    char name[256];

    (void)state;
    cardea_session_close(session);
    session = NULL;
    snprintf(fp, sizeof fp, "%s",
             first->watch.spki_hex + strlen(first->watch.spki_hex) - 32);
    /* The key arrives as "recovered" with no verification result. */
    assert_int_equal(cardea_hex__decode_alloc(&der, &der_len,
                                              first->watch.pkcs8_hex,
                                              strlen(first->watch.pkcs8_hex)),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__open(&store, second->key_dir, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__save_key(store,
                                               CARDEA_KEYSTORE_RECOVERED,
                                               first->owner_id, fp, der,
                                               der_len, NULL, 0),
                     CARDEA_OK);
    cardea_mem__free_secret(der, der_len);

    second->opts.login = first->login;
    second->watch.decision = CARDEA_KEYGEN_KEYLESS;
    assert_int_equal(context_open(&session, second), CARDEA_OK);
    assert_int_equal(second->watch.recover_count, 1);
    assert_int_equal(cardea_session_key_fingerprints(&fps, &fp_count,
                                                     session),
                     CARDEA_OK);
    assert_int_equal(fp_count, 1);
    assert_string_equal(fps[0].fp_v1, fp);
    assert_false(fps[0].verified);
    assert_false(fps[0].device);
    /* Temporarily unverified: nothing saved, so asked again next time. */
    snprintf(name, sizeof name, "org.taktik.icure.rsa.%s.verification.self",
             first->owner_id);
    assert_int_equal(cardea_keystore__remove(store, name), CARDEA_ENOTFOUND);
    cardea_keystore__close(store);
    cardea_free(fps);
    cardea_session_close(session);
    context_free(first);
    context_free(second);
}

static void
test_session__denied_generation_fails(void **state)
{
    context *ctx = context_new("hcp", NULL, NULL, 0);
    cardea_session *sentinel = (cardea_session *)ctx;
    cardea_session *session = sentinel;

    (void)state;
    ctx->watch.decision = CARDEA_KEYGEN_DENY;
    assert_int_equal(context_open(&session, ctx), CARDEA_EDENIED);
    assert_ptr_equal(session, sentinel);
    assert_non_null(strstr(ctx->errmsg, "denied generating"));
    assert_non_null(strstr(ctx->errmsg, ctx->owner_id));
    assert_int_equal(ctx->watch.notify_count, 0);
    assert_int_equal(count_requests(&ctx->rec, "PUT dataowner/stub"), 0);
    context_free(ctx);
}

static void
test_session__parent_keys_unsupported(void **state)
{
    context *ctx = context_new("hcp", NULL, NULL, 0);
    cardea_session *session = NULL;

    (void)state;
    ctx->watch.decision = CARDEA_KEYGEN_USE_PARENT_KEYS;
    assert_int_equal(context_open(&session, ctx), CARDEA_EUNSUPPORTED);
    assert_null(session);
    assert_non_null(strstr(ctx->errmsg, "parent's keys"));
    context_free(ctx);
}

static void
test_session__parent_without_key_fails(void **state)
{
    context *parent = context_new("hcp", NULL, NULL, 0);
    context *child = context_new("hcp", parent->owner_id, NULL, 0);
    cardea_session *session = NULL;

    (void)state;
    assert_int_equal(context_open(&session, child), CARDEA_ENOKEY);
    assert_null(session);
    assert_non_null(strstr(child->errmsg, parent->owner_id));
    assert_int_equal(child->watch.notify_count, 0);
    context_free(parent);
    context_free(child);
}

static void
test_session__anonymous_child_unsupported(void **state)
{
    cardea_session *session = NULL;
    context *parent = NULL;
    context *child = child_with_parent_key(&parent);

    (void)state;
    child->watch.anonymous_types = CARDEA_ANONYMOUS_HCP;
    assert_int_equal(context_open(&session, child), CARDEA_EUNSUPPORTED);
    assert_null(session);
    assert_non_null(strstr(child->errmsg, "anonymous"));
    /* The parent's key was recovered before the check. */
    assert_int_equal(child->watch.recover_count, 1);
    context_free(parent);
    context_free(child);
}

static void
test_session__child_uses_recovered_parent_key(void **state)
{
    cardea_session *session = NULL;
    context *parent = NULL;
    context *child = child_with_parent_key(&parent);
    cardea_key_fingerprint *fps = NULL;
    size_t fp_count = 0;
    size_t own = 0;

    (void)state;
    assert_int_equal(context_open(&session, child), CARDEA_OK);
    assert_int_equal(child->watch.notify_count, 1);
    assert_int_equal(cardea_session_key_fingerprints(&fps, &fp_count,
                                                     session),
                     CARDEA_OK);
    assert_int_equal(fp_count, 2);
    for (size_t i = 0; i < fp_count; i++) {
        own += strcmp(fps[i].data_owner_id, child->owner_id) == 0 ? 1 : 0;
        assert_true(fps[i].verified);
    }
    assert_int_equal(own, 1);
    cardea_free(fps);
    cardea_session_close(session);
    context_free(parent);
    context_free(child);
}

static void
test_session__patient_gets_key(void **state)
{
    cardea_session *session = NULL;
    context *ctx = context_with_key(&session, "patient", NULL);

    (void)state;
    assert_int_equal(cardea_session_data_owner_type(session),
                     CARDEA_DATA_OWNER_PATIENT);
    assert_true(session->self_anonymous);
    cardea_session_close(session);
    context_free(ctx);
}

static void
test_session__wrong_password_fails(void **state)
{
    context *ctx = context_new("hcp", NULL, NULL, 0);
    cardea_session *session = NULL;

    (void)state;
    ctx->opts.password = "not the password";
    assert_int_equal(context_open(&session, ctx), CARDEA_EAUTH);
    assert_null(session);
    assert_non_null(strstr(ctx->errmsg, "POST /rest/v2/auth/login"));
    assert_non_null(strstr(ctx->errmsg, "HTTP 401"));
    assert_null(strstr(ctx->errmsg, "not the password"));
    context_free(ctx);
}

static void
test_session__rejects_shared_key_folder(void **state)
{
    context *ctx = context_new("hcp", NULL, NULL, 0);
    cardea_session *session = NULL;

    (void)state;
    assert_int_equal(mkdir(ctx->key_dir, 0755), 0);
    assert_int_equal(chmod(ctx->key_dir, 0755), 0);
    assert_int_equal(context_open(&session, ctx), CARDEA_EACCESS);
    assert_null(session);
    assert_non_null(strstr(ctx->errmsg, "chmod 700"));
    /* Rejected before any request. */
    assert_int_equal(ctx->rec.count, 0);
    context_free(ctx);
}

static void
test_session__rejects_missing_options(void **state)
{
    cardea_session_options opts = CARDEA_SESSION_OPTIONS_INIT;
    cardea_session *session = NULL;
    char errmsg[128];

    (void)state;
    opts.errmsg_buf = errmsg;
    opts.errmsg_cap = sizeof errmsg;
    assert_int_equal(cardea_session_open(&session, &opts), CARDEA_EINVAL);
    assert_null(session);
    assert_string_equal(errmsg, "base_url is missing");
    opts.base_url = server.base_url;
    opts.login = "x";
    assert_int_equal(cardea_session_open(&session, &opts), CARDEA_EINVAL);
    assert_string_equal(errmsg, "give login and password, or a token");
    assert_null(session);
}

static void
test_session__refreshes_expired_token(void **state)
{
    static const char *const extra[] = {"--token-lifetime", "2",
                                        "--token-grace", "0", NULL};
    test_server main_server = server;
    context *ctx;
    cardea_session *session = NULL;

    (void)state;
    /* A second server whose access tokens live 2 s and are refused
     * as soon as they expire. */
    assert_true(test_server_start(&server, CARDEA_TEST_BIN, extra));
    ctx = context_new("hcp", NULL, NULL, 0);
    assert_int_equal(context_open(&session, ctx), CARDEA_OK);
    ctx->rec.count = 0;
    sleep(3);
    assert_int_equal(cardea_session_force_reload(session), CARDEA_OK);
    assert_true(count_requests(&ctx->rec, "POST auth/refresh") >= 1);
    assert_string_equal(ctx->rec.requests[0], "POST auth/refresh");
    cardea_session_close(session);
    context_free(ctx);
    test_server_stop(&server);
    server = main_server;
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
    test_server_stop(&server);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session__generates_key_for_new_hcp),
        cmocka_unit_test(test_session__reopen_loads_stored_key),
        cmocka_unit_test(test_session__recovers_preloaded_key),
        cmocka_unit_test(test_session__unverified_key_decrypts_only),
        cmocka_unit_test(test_session__denied_generation_fails),
        cmocka_unit_test(test_session__parent_keys_unsupported),
        cmocka_unit_test(test_session__parent_without_key_fails),
        cmocka_unit_test(test_session__anonymous_child_unsupported),
        cmocka_unit_test(test_session__child_uses_recovered_parent_key),
        cmocka_unit_test(test_session__patient_gets_key),
        cmocka_unit_test(test_session__wrong_password_fails),
        cmocka_unit_test(test_session__rejects_shared_key_folder),
        cmocka_unit_test(test_session__rejects_missing_options),
        cmocka_unit_test(test_session__refreshes_expired_token),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
