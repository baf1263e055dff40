/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Robustness of `cardea serve` against hostile clients, through real HTTP
 * on 127.0.0.1 (port 0) with a temporary database. Hostile bodies go to
 * every JSON route, and a seeded mutator rewrites valid bodies. Other
 * cases abuse the access-control-key and Authorization headers and try
 * to bypass the access rules. A burst of threads sends conflicting
 * modifies and shares. The last case scans the captured log lines and
 * the database files for the passwords, tokens, access-control keys and
 * body text the run sent. Cases near the end hold the server to the
 * fixes of earlier findings: escaped log lines, forged delegators, typed
 * id lists, the head limit, legacy access maps, recovery-data ids in the
 * log and ids that could not be fetched. Every request loop is bounded
 * and every random choice comes from a fixed seed, so a failure repeats
 * exactly.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "base/base.h"
#include "format/keys.h"
#include "server/server_internal.h"
#include "server_fixture.h"
#include "store/store.h"

#define HCP_A "red-hcp-a"
#define HCP_A_CHILD "red-hcp-a-child"
#define HCP_B "red-hcp-b"
#define PATIENT "red-patient"
#define KEY_HEADER "Icure-Access-Control-Keys: "
/* Text put in every entity body; it must never reach a log line. */
#define BODY_MARKER "red-body-marker-7f3a"
#define FP "0123456789abcdef012345"
#define SEED UINT64_C(0x5eed0fca2dea)
#define MAX_SENT_KEYS 512
#define LOG_CAP ((size_t)8 << 20)
#define BURST_THREADS 8
#define BURST_ROUNDS 50
#define SHARE_ROUNDS 20

typedef fixture_reply reply;

/* An access-control key with its encodings, as a client would send it. */
typedef struct ackey {
    uint8_t raw[CARDEA_AC_KEY_LEN];
    char hex[2 * CARDEA_AC_KEY_LEN + 1];
    char b64[32];
    char sdkey[CARDEA_SD_KEY_HEX_LEN + 1];
    char header[64];
} ackey;

static struct {
    char dir[64];
    char db_path[128];
    cardea_server *server;
    uint16_t port;
    char *hcp_a;
    char *hcp_a_child;
    char *hcp_b;
    char *patient;
    char *refresh_a;
    uint64_t rng;
    unsigned next_id;
    ackey sent[MAX_SENT_KEYS];
    size_t sent_count;
} env;

/* Log lines captured from the server, and lines with control bytes. */
static struct {
    pthread_mutex_t lock;
    char *text;
    size_t len;
    size_t lines;
    size_t control_lines;
} logs = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0};

/* ---- deterministic randomness and ids ----------------------------------- */

/* splitmix64: a small generator whose output depends only on SEED. */
static uint64_t
rng_next(void)
{
    uint64_t z = (env.rng += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static size_t
rng_below(size_t bound)
{
    return (size_t)(rng_next() % bound);
}

static void
new_id(char out[48])
{
    snprintf(out, 48, "red-%08x-%04u", (unsigned)rng_next(), env.next_id++);
}

/* A new key from the seeded generator; recorded for the privacy scan. */
static void
key_new(ackey *key)
{
    for (size_t i = 0; i < sizeof key->raw; i++) {
        key->raw[i] = (uint8_t)rng_next();
    }
    assert_int_equal(cardea_hex__encode(key->hex, sizeof key->hex, key->raw,
                                        sizeof key->raw),
                     CARDEA_OK);
    assert_int_equal(cardea_base64__encode(key->b64, sizeof key->b64,
                                           key->raw, sizeof key->raw),
                     CARDEA_OK);
    cardea_sdkey__from_ackey(key->sdkey, key->raw);
    snprintf(key->header, sizeof key->header, "%s%s", KEY_HEADER, key->b64);
    assert_true(env.sent_count < MAX_SENT_KEYS);
    env.sent[env.sent_count++] = *key;
}

/* ---- log capture -------------------------------------------------------- */

static void
capture_log(cardea_log_level level, const char *message, void *user)
{
    size_t len = strlen(message);
    bool control = false;

    (void)level;
    (void)user;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)message[i];

        if (c < 0x20 || c == 0x7f) {
            control = true;
        }
    }
    pthread_mutex_lock(&logs.lock);
    logs.lines++;
    logs.control_lines += control ? 1 : 0;
    if (logs.len + len + 2 <= LOG_CAP) {
        char *grown = realloc(logs.text, logs.len + len + 2);

        if (grown != NULL) {
            logs.text = grown;
            memcpy(logs.text + logs.len, message, len);
            logs.len += len;
            logs.text[logs.len++] = '\n';
            logs.text[logs.len] = '\0';
        }
    }
    pthread_mutex_unlock(&logs.lock);
}

static bool
log_contains(const char *needle)
{
    bool found;

    pthread_mutex_lock(&logs.lock);
    found = logs.text != NULL && strstr(logs.text, needle) != NULL;
    pthread_mutex_unlock(&logs.lock);
    return found;
}

/*
 * Waits up to two seconds for `needle` to be logged: the server writes
 * the access line once the response is sent, so it may come after the
 * client has the response.
 */
static bool
log_wait_for(const char *needle)
{
    const struct timespec step = {0, 10 * 1000 * 1000};

    for (int i = 0; i < 200; i++) {
        if (log_contains(needle)) {
            return true;
        }
        nanosleep(&step, NULL);
    }
    return false;
}

/* ---- requests ----------------------------------------------------------- */

static reply
send_text(const char *method, const char *path, const char *token,
          const char *body, size_t body_len, const char *const *headers)
{
    return fixture_request(env.port, method, path, token, NULL, body,
                           body_len, headers);
}

/* Sends `body` (a reference it takes; may be NULL) as JSON. */
static reply
send_json(const char *method, const char *path, const char *token,
          json_t *body, const char *const *headers)
{
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    reply r;

    assert_true(body == NULL || text != NULL);
    r = send_text(method, path, token, text,
                  text != NULL ? strlen(text) : 0, headers);
    free(text);
    json_decref(body);
    return r;
}

static long
status_json(const char *method, const char *path, const char *token,
            json_t *body, const char *const *headers)
{
    reply r = send_json(method, path, token, body, headers);
    long status = r.status;

    fixture_reply_free(&r);
    return status;
}

static const char *
str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Checks that the server still responds to an authenticated request. */
static void
assert_alive(void)
{
    assert_int_equal(status_json("GET", "dataowner/current", env.hcp_a,
                                 NULL, NULL),
                     200);
}

/* ---- entities ----------------------------------------------------------- */

static json_t *
delegation(const char *permissions, const char *delegator,
           const char *delegate, const char *parent)
{
    json_t *d = json_pack("{s:s, s:[s], s:[], s:[], s:[]}", "permissions",
                          permissions, "secretIds", "secret-1",
                          "encryptionKeys", "owningEntityIds",
                          "parentDelegations");

    assert_non_null(d);
    if (delegator != NULL) {
        json_object_set_new(d, "delegator", json_string(delegator));
    }
    if (delegate != NULL) {
        json_object_set_new(d, "delegate", json_string(delegate));
    }
    if (parent != NULL) {
        json_array_append_new(json_object_get(d, "parentDelegations"),
                              json_string(parent));
    }
    return d;
}

/* An entity whose only delegation is `root` (taken) under `key`. */
static json_t *
entity_doc(const char *id, const char *key, json_t *root)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:{s:{s:o}}}", "id", id,
                            "encryptedSelf", "c2VjcmV0", "note",
                            BODY_MARKER, "counter", 0, "securityMetadata",
                            "secureDelegations", key, root);

    assert_non_null(doc);
    return doc;
}

/* Creates an entity owned by HCP A under `path`; returns it (decref). */
static json_t *
create_owned(const char *path, char id[48], ackey *root)
{
    reply r;
    json_t *stored;

    new_id(id);
    key_new(root);
    r = send_json("POST", path, env.hcp_a,
                  entity_doc(id, root->sdkey,
                             delegation("WRITE", HCP_A, HCP_A, NULL)),
                  NULL);
    assert_int_equal(r.status, 200);
    stored = json_incref(r.json);
    fixture_reply_free(&r);
    return stored;
}

/* Reads `path`/`id` as HCP A and returns the stored revision (free). */
static char *
stored_rev(const char *path, const char *id)
{
    char url[160];
    reply r;
    char *rev;

    snprintf(url, sizeof url, "%s/%s", path, id);
    r = send_json("GET", url, env.hcp_a, NULL, NULL);
    assert_int_equal(r.status, 200);
    rev = strdup(str_of(r.json, "rev"));
    assert_non_null(rev);
    fixture_reply_free(&r);
    return rev;
}

static json_t *
share_request(const char *permissions, const char *delegator,
              const char *delegate, const ackey *key)
{
    json_t *share = json_pack("{s:[s], s:[], s:[], s:[], s:s}",
                              "accessControlKeys", key->hex, "secretIds",
                              "encryptionKeys", "owningEntityIds",
                              "requestedPermissions", permissions);

    assert_non_null(share);
    if (delegator != NULL) {
        json_object_set_new(share, "explicitDelegator",
                            json_string(delegator));
    }
    if (delegate != NULL) {
        json_object_set_new(share, "explicitDelegate", json_string(delegate));
    }
    return share;
}

/* A bulk-share body with one share request `share` (taken) on `id`. */
static json_t *
share_body(const char *id, json_t *share, const char *parent)
{
    json_t *body = json_pack("{s:{s:{s:{s:{s:o}}, s:[]}}}",
                             "requestsByEntityId", id, "requests", "r",
                             "share", share, "potentialParentDelegations");

    assert_non_null(body);
    if (parent != NULL) {
        json_array_append_new(
            json_object_get(json_object_get(json_object_get(
                                body, "requestsByEntityId"), id),
                            "potentialParentDelegations"),
            json_string(parent));
    }
    return body;
}

/*
 * Sends a one-request bulk share and returns 0 when the request was
 * accepted, or the code of its rejection.
 */
static long
share_code(const char *path, const char *token, json_t *body,
           const char *const *headers)
{
    reply r = send_json("PUT", path, token, body, headers);
    json_t *result, *rejected;
    long code;

    assert_int_equal(r.status, 200);
    result = json_array_get(r.json, 0);
    assert_non_null(result);
    rejected = json_object_get(json_object_get(result, "rejectedRequests"),
                               "r");
    code = rejected == NULL
               ? 0
               : (long)json_integer_value(json_object_get(rejected, "code"));
    fixture_reply_free(&r);
    return code;
}

/* ---- database inspection ------------------------------------------------ */

static const char *const row_counts[] = {
    "SELECT count(*) FROM entities",
    "SELECT count(*) FROM entity_index",
    "SELECT count(*) FROM exchange_data",
    "SELECT count(*) FROM exchange_data_maps",
    "SELECT count(*) FROM recovery_data",
    "SELECT count(*) FROM attachments",
    "SELECT count(*) FROM data_owners",
    "SELECT count(*) FROM users",
};
#define ROW_COUNTS (sizeof row_counts / sizeof row_counts[0])

static sqlite3 *
db_open_readonly(void)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(env.db_path, &db, SQLITE_OPEN_READONLY,
                                     NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static long long
db_count(sqlite3 *db, const char *sql, const char *param)
{
    sqlite3_stmt *stmt = NULL;
    long long count;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
                     SQLITE_OK);
    if (param != NULL) {
        sqlite3_bind_text(stmt, 1, param, -1, SQLITE_TRANSIENT);
    }
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    count = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return count;
}

/* Row counts of every table a request could write. */
static void
db_snapshot(long long out[ROW_COUNTS])
{
    sqlite3 *db = db_open_readonly();

    for (size_t i = 0; i < ROW_COUNTS; i++) {
        out[i] = db_count(db, row_counts[i], NULL);
    }
    sqlite3_close(db);
}

static void
assert_db_unchanged(const long long before[ROW_COUNTS])
{
    long long after[ROW_COUNTS];

    db_snapshot(after);
    for (size_t i = 0; i < ROW_COUNTS; i++) {
        if (after[i] != before[i]) {
            print_error("%s: %lld rows before, %lld after\n", row_counts[i],
                        before[i], after[i]);
        }
        assert_true(after[i] == before[i]);
    }
}

/* ---- setup ------------------------------------------------------------- */

static char *
login_refresh(const char *login)
{
    json_t *body = json_pack("{s:s, s:s}", "username", login, "password",
                             FIXTURE_PASSWORD);
    reply r = send_json("POST", "auth/login", NULL, body, NULL);
    char *token;

    assert_int_equal(r.status, 200);
    token = strdup(str_of(r.json, "refreshToken"));
    assert_non_null(token);
    fixture_reply_free(&r);
    return token;
}

static int
setup(void **state)
{
    cardea_store *store = NULL;
    cardea_db *db = NULL;

    (void)state;
    memset(&env, 0, sizeof env);
    env.rng = SEED;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cardea_set_log(capture_log, CARDEA_LOG_DEBUG, NULL);
    snprintf(env.dir, sizeof env.dir, "/tmp/cardea-red-XXXXXX");
    assert_non_null(mkdtemp(env.dir));
    snprintf(env.db_path, sizeof env.db_path, "%s/test.sqlite", env.dir);
    assert_int_equal(cardea_store_open(&store, env.db_path, NULL),
                     CARDEA_OK);
    assert_int_equal(cardea_store__acquire(&db, store), CARDEA_OK);
    fixture_add_user(db, "a@example.org", CARDEA_DO_HCP, HCP_A, NULL);
    fixture_add_user(db, "a-child@example.org", CARDEA_DO_HCP, HCP_A_CHILD,
                     HCP_A);
    fixture_add_user(db, "b@example.org", CARDEA_DO_HCP, HCP_B, NULL);
    fixture_add_user(db, "pat@example.org", CARDEA_DO_PATIENT, PATIENT,
                     NULL);
    cardea_store__release(store, db);
    cardea_store_close(store);

    env.server = fixture_start_server(env.db_path, &env.port,
                                      (size_t)1 << 20);
    env.hcp_a = fixture_login(env.port, "a@example.org", FIXTURE_PASSWORD);
    env.hcp_a_child = fixture_login(env.port, "a-child@example.org",
                                    FIXTURE_PASSWORD);
    env.hcp_b = fixture_login(env.port, "b@example.org", FIXTURE_PASSWORD);
    env.patient = fixture_login(env.port, "pat@example.org",
                                FIXTURE_PASSWORD);
    env.refresh_a = login_refresh("a@example.org");
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    cardea_server_free(env.server);
    cardea_set_log(NULL, CARDEA_LOG_ERROR, NULL);
    free(env.hcp_a);
    free(env.hcp_a_child);
    free(env.hcp_b);
    free(env.patient);
    free(env.refresh_a);
    fixture_remove_db_files(env.db_path);
    rmdir(env.dir);
    pthread_mutex_lock(&logs.lock);
    free(logs.text);
    logs.text = NULL;
    logs.len = 0;
    pthread_mutex_unlock(&logs.lock);
    curl_global_cleanup();
    return 0;
}

/* ---- hostile bodies ----------------------------------------------------- */

/* Every JSON route that takes a body (POST or PUT). */
static const struct {
    const char *method;
    const char *path;
} body_routes[] = {
    {"POST", "helement"},
    {"PUT", "helement"},
    {"POST", "helement/batch"},
    {"PUT", "helement/batch"},
    {"POST", "helement/byIds"},
    {"POST", "helement/match"},
    {"PUT", "helement/bulkSharedMetadataUpdate"},
    {"PUT", "helement/bulkSharedMetadataUpdateMinimal"},
    {"POST", "helement/delete/batch"},
    {"POST", "helement/delete/batch/withrev"},
    {"POST", "helement/undelete/batch"},
    {"POST", "patient"},
    {"PUT", "patient"},
    {"POST", "patient/match"},
    {"POST", "contact/match"},
    {"POST", "document"},
    {"POST", "maintenancetask/match"},
    {"POST", "securedelegationkeymap"},
    {"POST", "securedelegationkeymap/bydelegationkeys"},
    {"PUT", "securedelegationkeymap/bulkSharedMetadataUpdate"},
    {"POST", "exchangedata"},
    {"PUT", "exchangedata"},
    {"POST", "exchangedata/bulk"},
    {"PUT", "exchangedatamap/batch"},
    {"POST", "exchangedatamap/batch"},
    {"POST", "recoverydata"},
    {"PUT", "dataowner/stub"},
    {"POST", "dataowner/byIds"},
    {"POST", "dataowner/stub/byIds"},
    {"POST", "auth/login"},
    {"POST", "auth/check"},
    {"POST", "auth/refresh"},
    {"POST", "auth/switch/cardea"},
};

/* Bodies that are malformed, mistyped or hostile for every route above. */
static const char *const hostile_bodies[] = {
    "", "{", "[", "}", "null", "0", "\"s\"", "true", "{\"id\":1}",
    "{\"ids\":\"x\"}", "{\"ids\":[null]}", "{\"ids\":[{}]}",
    "{\"id\":\"a/b\",\"rev\":5}", "1e999999", "-1e400",
    "{\"a\":1e308,\"b\":-99999999999999999999999999999999}",
    "{\"id\":\"\xc0\xaf\"}", "\"\xff\xfe\"", "{\"id\":\"a\\u0000b\"}",
    "{\"a\":1,\"a\":2}", "{\"id\":\"../../etc\"}",
    "{\"id\":\"'; DROP TABLE entities;--\"}", "{\"id\":\"%00\"}",
    "{\"$type\":\"Nope\"}", "{\"$type\":\"HealthElementByHcPartyFilter\"}",
    "{\"$type\":\"HealthElementByHcPartyFilter\",\"hcpId\":5}",
    "{\"$type\":\"UnionFilter\",\"filters\":[{\"$type\":\"UnionFilter\","
    "\"filters\":[5]}]}",
    "{\"requestsByEntityId\":5}", "{\"requestsByEntityId\":{\"x\":5}}",
    "{\"requestsByEntityId\":{\"x\":{\"requests\":[]}}}",
    "{\"batch\":5}", "{\"batch\":{\"zz\":{}}}",
    "{\"batch\":{\"00112233445566778899aabbccddeeff\":\"x\"}}",
    "{\"id\":\"x\",\"securityMetadata\":{\"secureDelegations\":"
    "{\"a\":{}}}}",
    "{\"id\":\"x\",\"securityMetadata\":5}",
    "{\"username\":[\"a\"],\"password\":{}}", "{\"delegator\":5}",
    "{\"stub\":{}}", "{\"id\":\"x\",\"type\":\"NOPE\",\"recipient\":\"y\","
    "\"encryptedSelf\":\"z\"}",
    "{\"id\":\"x\",\"expirationInstant\":-99999999999999999}",
    "[{\"id\":5}]", "[null,1,\"x\"]",
};

/* Appends `count` copies of `piece` to `buf`. */
static void
repeat(cardea_buf *buf, const char *piece, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(cardea_buf__append(buf, piece, strlen(piece)),
                         CARDEA_OK);
    }
}

/* Generated bodies: deep nesting and a long string. */
static void
generated_bodies(cardea_buf out[3])
{
    for (size_t i = 0; i < 3; i++) {
        cardea_buf__init(&out[i], (size_t)1 << 20);
    }
    repeat(&out[0], "[", 5000);
    repeat(&out[0], "]", 5000);
    repeat(&out[1], "{\"$type\":\"UnionFilter\",\"filters\":[", 400);
    repeat(&out[1], "]}", 400);
    repeat(&out[2], "{\"id\":\"", 1);
    repeat(&out[2], "xxxxxxxxxxxxxxxx", 12000);
    repeat(&out[2], "\"}", 1);
}

/*
 * True when `r` is an acceptable response to a hostile body: a 4xx, or
 * a 200 with an empty list. Batch routes return 200 and leave out the
 * items they rejected, and an empty batch does nothing.
 */
static bool
acceptable(const reply *r)
{
    if (r->status >= 400 && r->status < 500) {
        return true;
    }
    return r->status == 200 && r->body != NULL
           && strcmp(r->body, "[]") == 0;
}

static void
send_hostile(const char *method, const char *path, const char *token,
             const char *body, size_t len, size_t *failures)
{
    reply r = send_text(method, path, token, body, len, NULL);

    if (!acceptable(&r)) {
        print_error("%s %s with body %.40s: status %ld\n", method, path,
                    body, r.status);
        (*failures)++;
    }
    fixture_reply_free(&r);
}

static void
test_robustness__hostile_bodies_are_4xx(void **state)
{
    static const char *const fixed[] = {"{}", "[]"};
    long long before[ROW_COUNTS];
    cardea_buf generated[3];
    size_t failures = 0;
    size_t sent = 0;

    (void)state;
    generated_bodies(generated);
    db_snapshot(before);
    for (size_t r = 0; r < sizeof body_routes / sizeof body_routes[0]; r++) {
        const char *method = body_routes[r].method;
        const char *path = body_routes[r].path;

        for (size_t b = 0; b < sizeof hostile_bodies / sizeof *hostile_bodies;
             b++) {
            const char *token = (b + r) % 2 == 0 ? env.hcp_a : env.patient;

            send_hostile(method, path, token, hostile_bodies[b],
                         strlen(hostile_bodies[b]), &failures);
            sent++;
        }
        for (size_t g = 0; g < 3; g++) {
            send_hostile(method, path, env.hcp_b,
                         (const char *)generated[g].data, generated[g].len,
                         &failures);
            sent++;
        }
        for (size_t f = 0; f < 2; f++) {
            send_hostile(method, path, env.patient, fixed[f], 2, &failures);
            sent++;
        }
    }
    for (size_t g = 0; g < 3; g++) {
        cardea_buf__free(&generated[g], false);
    }
    print_message("hostile bodies: %zu requests, %zu not 4xx\n", sent,
                  failures);
    assert_int_equal(failures, 0);
    assert_db_unchanged(before);
    assert_alive();
}

/* Changes, inserts or deletes a few bytes of `text` at seeded offsets. */
static void
mutate(cardea_buf *out, const char *text)
{
    static const char alphabet[] = "{}[]\",:\\0x-e.aZ \x01\x7f\xff\xc3";
    size_t len = strlen(text);
    size_t edits = 1 + rng_below(4);

    cardea_buf__init(out, (size_t)1 << 20);
    assert_int_equal(cardea_buf__append(out, text, len), CARDEA_OK);
    for (size_t e = 0; e < edits && out->len > 0; e++) {
        size_t at = rng_below(out->len);
        char c = alphabet[rng_below(sizeof alphabet - 1)];

        switch (rng_below(3)) {
        case 0:
            out->data[at] = (uint8_t)c;
            break;
        case 1:
            out->len = at;
            break;
        default:
            memmove(out->data + at, out->data + at + 1, out->len - at - 1);
            out->len--;
            break;
        }
    }
}

static void
test_robustness__mutated_bodies_write_nothing(void **state)
{
    char id[48];
    ackey root, other;
    json_t *stored = create_owned("helement", id, &root);
    char *rev = strdup(str_of(stored, "rev"));
    char *create_text, *share_text, *rev_after;
    json_t *share_doc;
    long long before[ROW_COUNTS];
    size_t failures = 0;

    (void)state;
    assert_non_null(rev);
    key_new(&other);
    /* The patient sends no key, so no mutation can make its root valid;
     * HCP B cannot access the entity, so no share of it may succeed. */
    json_object_del(stored, "rev");
    create_text = json_dumps(stored, JSON_COMPACT);
    share_doc = share_body(id,
                           share_request("FULL_WRITE", HCP_B, HCP_B, &other),
                           root.sdkey);
    share_text = json_dumps(share_doc, JSON_COMPACT);
    json_decref(share_doc);
    assert_non_null(create_text);
    assert_non_null(share_text);
    db_snapshot(before);
    for (size_t i = 0; i < 300; i++) {
        bool share = i % 2 == 1;
        cardea_buf body;
        reply r;

        mutate(&body, share ? share_text : create_text);
        r = send_text(share ? "PUT" : "POST",
                      share ? "helement/bulkSharedMetadataUpdate"
                            : "helement",
                      share ? env.hcp_b : env.patient,
                      (const char *)body.data, body.len, NULL);
        if (r.status >= 500 || r.status < 200
            || (!share && r.status < 400)) {
            print_error("mutation %zu: status %ld\n", i, r.status);
            failures++;
        }
        fixture_reply_free(&r);
        cardea_buf__free(&body, false);
    }
    assert_int_equal(failures, 0);
    assert_db_unchanged(before);
    rev_after = stored_rev("helement", id);
    assert_string_equal(rev_after, rev);
    free(rev_after);
    free(rev);
    free(create_text);
    free(share_text);
    json_decref(stored);
}

/* ---- headers ------------------------------------------------------------ */

static long
get_with_headers(const char *path, const char *token,
                 const char *const *headers)
{
    reply r = send_text("GET", path, token, NULL, 0, headers);
    long status = r.status;

    fixture_reply_free(&r);
    return status;
}

/* Builds a header line carrying keys [from, to) of `keys`, in base64. */
static char *
keys_header(const uint8_t *keys, size_t from, size_t to)
{
    size_t prefix = strlen(KEY_HEADER);
    size_t b64_len = cardea_base64__encoded_len((to - from) * 16);
    char *line = malloc(prefix + b64_len + 1);

    assert_non_null(line);
    memcpy(line, KEY_HEADER, prefix);
    assert_int_equal(cardea_base64__encode(line + prefix, b64_len + 1,
                                           keys + from * 16,
                                           (to - from) * 16),
                     CARDEA_OK);
    return line;
}

static void
test_robustness__malformed_key_headers_are_400(void **state)
{
    static const char *const bad[] = {
        KEY_HEADER "!!!!", KEY_HEADER "AAAA", "Icure-Access-Control-Keys;",
        KEY_HEADER ",", KEY_HEADER "AAAAAAAAAAAAAAAAAAAAAA",
        KEY_HEADER "AAAAAAAAAAAAAAAAAAAAAA======",
        KEY_HEADER "AAAAAAAAAAAAAAAAAAAA",
        KEY_HEADER "AAAAAAAAAAAAAAAAAAAAA-_==",
        KEY_HEADER "AAAAAAAAAAAAAAAAAAAAAA==,,AAAAAAAAAAAAAAAAAAAAAA==",
        KEY_HEADER "AAAAAAAA AAAAAAAAAAAAAA==",
    };
    char id[48], url[96];
    ackey root;
    json_t *stored = create_owned("helement", id, &root);

    (void)state;
    snprintf(url, sizeof url, "helement/%s", id);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *headers[] = {bad[i], NULL};
        long status = get_with_headers(url, env.hcp_a, headers);

        if (status != 400) {
            print_error("header '%s': status %ld\n", bad[i], status);
        }
        assert_int_equal(status, 400);
    }
    assert_alive();
    json_decref(stored);
}

static void
test_robustness__many_keys_and_huge_headers(void **state)
{
    enum { KEYS = 5000, PER_LINE = 360 };
    uint8_t *keys = malloc((size_t)KEYS * 16);
    const char *lines[KEYS / PER_LINE + 2] = {0};
    const char *repeated[101] = {0};
    char id[48], url[96];
    ackey anon;
    size_t line_count = 0;
    long status;
    char *huge;

    (void)state;
    assert_non_null(keys);
    key_new(&anon);
    new_id(id);
    assert_int_equal(status_json("POST", "helement", env.patient,
                                 entity_doc(id, anon.sdkey,
                                            delegation("WRITE", NULL, NULL,
                                                       NULL)),
                                 (const char *const[]){anon.header, NULL}),
                     200);
    snprintf(url, sizeof url, "helement/%s", id);
    for (size_t i = 0; i < (size_t)KEYS * 16; i++) {
        keys[i] = (uint8_t)rng_next();
    }

    /* 4,000 keys in lines of 360, the proving key last: within 96 KiB. */
    memcpy(keys + (size_t)3999 * 16, anon.raw, 16);
    for (size_t at = 0; at < 4000; at += PER_LINE) {
        size_t end = at + PER_LINE < 4000 ? at + PER_LINE : 4000;

        lines[line_count++] = keys_header(keys, at, end);
    }
    assert_int_equal(get_with_headers(url, env.patient, lines), 200);
    for (size_t i = 0; i < line_count; i++) {
        free((char *)lines[i]);
        lines[i] = NULL;
    }

    /* 5,000 keys (about 104 KiB of base64) reach the head limit: the
     * server either finds the proving key or responds 431. */
    memcpy(keys + (size_t)(KEYS - 1) * 16, anon.raw, 16);
    lines[0] = keys_header(keys, 0, KEYS);
    status = get_with_headers(url, env.patient, lines);
    assert_true(status == 200 || status == 431);
    free((char *)lines[0]);
    lines[0] = NULL;

    for (size_t i = 0; i < 100; i++) {
        repeated[i] = anon.header;
    }
    assert_int_equal(get_with_headers(url, env.patient, repeated), 200);

    huge = malloc(200000);
    assert_non_null(huge);
    memset(huge, 'x', 200000 - 1);
    memcpy(huge, "X-Junk: ", 8);
    huge[200000 - 1] = '\0';
    lines[0] = huge;
    assert_int_equal(get_with_headers(url, env.patient, lines), 431);
    free(huge);
    assert_alive();
    free(keys);
}

static void
test_robustness__bad_tokens_are_401(void **state)
{
    cardea_caller caller = {0};
    char *expired = NULL;
    char *none_alg, *forged, *long_token;
    char header[700];
    const char *headers[] = {header, NULL};
    const char *dot;

    (void)state;
    caller.user_id = (char *)"red-user";
    caller.data_owner_id = (char *)HCP_A;
    caller.type = CARDEA_DO_HCP;
    assert_int_equal(cardea_token__issue(&expired, env.server, &caller,
                                         cardea_store__now_ms() / 1000
                                             - 7200,
                                         60, false),
                     CARDEA_OK);
    assert_int_equal(status_json("GET", "dataowner/current", expired, NULL,
                                 NULL),
                     401);

    /* alg "none" with the real payload and no signature. */
    dot = strchr(env.hcp_a, '.');
    assert_non_null(dot);
    none_alg = malloc(strlen(env.hcp_a) + 64);
    assert_non_null(none_alg);
    snprintf(none_alg, strlen(env.hcp_a) + 64,
             "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0%.*s.",
             (int)(strrchr(env.hcp_a, '.') - dot), dot);
    assert_int_equal(status_json("GET", "dataowner/current", none_alg, NULL,
                                 NULL),
                     401);

    /* The right header and payload with a signature of another token. */
    forged = malloc(strlen(env.hcp_a) + strlen(env.hcp_b) + 1);
    assert_non_null(forged);
    snprintf(forged, strlen(env.hcp_a) + strlen(env.hcp_b) + 1, "%.*s%s",
             (int)(strrchr(env.hcp_a, '.') - env.hcp_a), env.hcp_a,
             strrchr(env.hcp_b, '.'));
    assert_int_equal(status_json("GET", "dataowner/current", forged, NULL,
                                 NULL),
                     401);
    assert_int_equal(status_json("GET", "dataowner/current", env.refresh_a,
                                 NULL, NULL),
                     401);
    snprintf(header, sizeof header, "Refresh-Token: %s", env.hcp_a);
    assert_int_equal(status_json("POST", "auth/refresh", NULL, NULL,
                                 headers),
                     401);

    long_token = malloc(20001);
    assert_non_null(long_token);
    memset(long_token, 'A', 20000);
    long_token[20000] = '\0';
    assert_int_equal(status_json("GET", "dataowner/current", NULL, NULL,
                                 (const char *const[]){
                                     "Authorization: Bearer ....", NULL}),
                     401);
    assert_int_equal(status_json("GET", "dataowner/current", NULL, NULL,
                                 (const char *const[]){
                                     "Authorization: Basic YTpi", NULL}),
                     401);
    assert_int_equal(status_json("GET", "dataowner/current", long_token,
                                 NULL, NULL),
                     401);
    assert_alive();
    free(long_token);
    free(forged);
    free(none_alg);
    cardea_free(expired);
}

/* ---- access-control bypasses --------------------------------------------- */

static void
test_robustness__share_bypasses_rejected(void **state)
{
    const char *path = "helement/bulkSharedMetadataUpdate";
    char id[48];
    ackey root, to_b, k1, k2, k3, k4;
    json_t *stored = create_owned("helement", id, &root);
    char *rev_before, *rev_after;

    (void)state;
    key_new(&to_b);
    key_new(&k1);
    key_new(&k2);
    key_new(&k3);
    key_new(&k4);

    /* B cannot access the entity: grafting onto A's root is not found. */
    assert_int_equal(share_code(path, env.hcp_b,
                                share_body(id,
                                           share_request("FULL_WRITE", HCP_B,
                                                         HCP_B, &k1),
                                           root.sdkey),
                                NULL),
                     404);

    /* With READ, B may not request FULL_WRITE or ROOT, nor forge a
     * delegator. */
    assert_int_equal(share_code(path, env.hcp_a,
                                share_body(id,
                                           share_request("FULL_READ", HCP_A,
                                                         HCP_B, &to_b),
                                           root.sdkey),
                                NULL),
                     0);
    rev_before = stored_rev("helement", id);
    assert_int_equal(share_code(path, env.hcp_b,
                                share_body(id,
                                           share_request("FULL_WRITE", HCP_B,
                                                         PATIENT, &k2),
                                           to_b.sdkey),
                                NULL),
                     403);
    assert_int_equal(share_code(path, env.hcp_b,
                                share_body(id,
                                           share_request("ROOT", HCP_B,
                                                         HCP_B, &k3),
                                           NULL),
                                NULL),
                     403);
    assert_int_equal(share_code(path, env.hcp_b,
                                share_body(id,
                                           share_request("FULL_READ", HCP_A,
                                                         PATIENT, &k4),
                                           to_b.sdkey),
                                NULL),
                     403);
    /* A share naming A's root, which B does not match, is rejected too. */
    assert_int_equal(share_code(path, env.hcp_b,
                                share_body(id,
                                           share_request("MAX_WRITE", HCP_B,
                                                         PATIENT, &k4),
                                           root.sdkey),
                                NULL),
                     403);
    rev_after = stored_rev("helement", id);
    assert_string_equal(rev_before, rev_after);
    free(rev_before);
    free(rev_after);
    json_decref(stored);
}

static void
test_robustness__writes_without_write_rejected(void **state)
{
    char id[48], url[160];
    ackey root, to_b;
    json_t *stored = create_owned("helement", id, &root);
    char *rev, *rev_after;
    reply r;
    json_t *copy;

    (void)state;
    key_new(&to_b);
    assert_int_equal(share_code("helement/bulkSharedMetadataUpdate",
                                env.hcp_a,
                                share_body(id,
                                           share_request("FULL_READ", HCP_A,
                                                         HCP_B, &to_b),
                                           root.sdkey),
                                NULL),
                     0);
    rev = stored_rev("helement", id);
    snprintf(url, sizeof url, "helement/%s", id);
    r = send_json("GET", url, env.hcp_b, NULL, NULL);
    assert_int_equal(r.status, 200);
    copy = json_deep_copy(r.json);
    fixture_reply_free(&r);

    json_object_set_new(copy, "encryptedSelf", json_string("aGFja2Vk"));
    assert_int_equal(status_json("PUT", "helement", env.hcp_b,
                                 json_incref(copy), NULL),
                     403);
    assert_int_equal(status_json("DELETE", url, env.hcp_b, NULL, NULL), 403);
    snprintf(url, sizeof url, "helement/purge/%s?rev=%s", id, rev);
    assert_int_equal(status_json("DELETE", url, env.hcp_b, NULL, NULL), 403);
    assert_int_equal(status_json("POST", "helement/delete/batch", env.hcp_b,
                                 json_pack("{s:[s]}", "ids", id), NULL),
                     200);
    /* A PUT that widens securityMetadata is rejected even for a writer. */
    json_object_set_new(
        json_object_get(json_object_get(copy, "securityMetadata"),
                        "secureDelegations"),
        to_b.sdkey, delegation("WRITE", HCP_A, HCP_B, NULL));
    assert_int_equal(status_json("PUT", "helement", env.hcp_a,
                                 json_incref(copy), NULL),
                     400);

    /* Undelete without WRITE after A deletes. */
    snprintf(url, sizeof url, "helement/%s?rev=%s", id, rev);
    assert_int_equal(status_json("DELETE", url, env.hcp_a, NULL, NULL), 200);
    free(rev);
    rev = stored_rev("helement", id);
    snprintf(url, sizeof url, "helement/undelete/%s?rev=%s", id, rev);
    assert_int_equal(status_json("POST", url, env.hcp_b, NULL, NULL), 403);
    rev_after = stored_rev("helement", id);
    assert_string_equal(rev, rev_after);
    free(rev_after);
    free(rev);
    json_decref(copy);
    json_decref(stored);
}

static void
test_robustness__create_needs_own_root(void **state)
{
    char id[48];
    ackey key, header_key;
    long long before[ROW_COUNTS];

    (void)state;
    db_snapshot(before);
    key_new(&key);
    key_new(&header_key);
    new_id(id);
    assert_int_equal(status_json("POST", "helement", env.hcp_b,
                                 entity_doc(id, key.sdkey,
                                            delegation("WRITE", HCP_B, HCP_A,
                                                       NULL)),
                                 NULL),
                     403);
    assert_int_equal(status_json("POST", "helement", env.hcp_b,
                                 entity_doc(id, key.sdkey,
                                            delegation("WRITE", HCP_A, HCP_A,
                                                       NULL)),
                                 NULL),
                     403);
    /* An anonymous root needs a header key that hashes to it. */
    assert_int_equal(status_json("POST", "helement", env.patient,
                                 entity_doc(id, key.sdkey,
                                            delegation("WRITE", NULL, NULL,
                                                       NULL)),
                                 (const char *const[]){header_key.header,
                                                       NULL}),
                     403);
    /* A READ root is invalid metadata. */
    assert_int_equal(status_json("POST", "helement", env.hcp_b,
                                 entity_doc(id, key.sdkey,
                                            delegation("READ", HCP_B, HCP_B,
                                                       NULL)),
                                 NULL),
                     400);
    assert_db_unchanged(before);
}

static void
test_robustness__reads_hidden_everywhere(void **state)
{
    char id[48], doc_id[48], url[160];
    ackey root, doc_root, map_key, exmap_key;
    json_t *stored = create_owned("helement", id, &root);
    json_t *doc = create_owned("document", doc_id, &doc_root);
    json_t *map;
    reply r;
    char *rev;

    (void)state;
    /* A Document with a main attachment. */
    rev = stored_rev("document", doc_id);
    snprintf(url, sizeof url, "document/%s/attachment?rev=%s", doc_id, rev);
    r = fixture_request(env.port, "PUT", url, env.hcp_a,
                        "application/octet-stream", BODY_MARKER,
                        strlen(BODY_MARKER), NULL);
    assert_int_equal(r.status, 200);
    fixture_reply_free(&r);
    free(rev);

    /* A key map of A's entity, readable through its own key only. */
    key_new(&map_key);
    map = json_pack("{s:s, s:s, s:s, s:{s:{s:o}}}", "id", "red-map-1",
                    "delegationKey", root.sdkey, "encryptedSelf", "eA==",
                    "securityMetadata", "secureDelegations", map_key.sdkey,
                    delegation("WRITE", NULL, NULL, NULL));
    assert_int_equal(status_json("POST", "securedelegationkeymap", env.hcp_a,
                                 map, (const char *const[]){map_key.header,
                                                            NULL}),
                     200);

    snprintf(url, sizeof url, "helement/%s", id);
    assert_int_equal(status_json("GET", url, env.hcp_b, NULL, NULL), 404);
    r = send_json("POST", "helement/byIds", env.hcp_b,
                  json_pack("{s:[s]}", "ids", id), NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    fixture_reply_free(&r);
    r = send_json("POST", "helement/match", env.hcp_b,
                  json_pack("{s:s, s:s}", "$type",
                            "HealthElementByHcPartyFilter", "hcpId", HCP_A),
                  NULL);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, id));
    fixture_reply_free(&r);
    r = send_json("POST", "securedelegationkeymap/bydelegationkeys",
                  env.hcp_b, json_pack("{s:[s]}", "ids", root.sdkey), NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    fixture_reply_free(&r);

    /* Reading an exchange data map id that does not exist returns []. */
    key_new(&exmap_key);
    r = send_json("POST", "exchangedatamap/batch", env.hcp_b,
                  json_pack("{s:[s]}", "ids", exmap_key.sdkey), NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    fixture_reply_free(&r);

    snprintf(url, sizeof url, "document/%s/attachment", doc_id);
    r = send_json("GET", url, env.hcp_b, NULL, NULL);
    assert_int_equal(r.status, 404);
    assert_true(r.body == NULL || strstr(r.body, BODY_MARKER) == NULL);
    fixture_reply_free(&r);
    snprintf(url, sizeof url, "document/%s/attachment?rev=x", doc_id);
    assert_int_equal(status_json("DELETE", url, env.hcp_b, NULL, NULL), 404);
    json_decref(doc);
    json_decref(stored);
}

static json_t *
exchange_doc(const char *delegator, const char *delegate)
{
    json_t *doc = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s},"
                            " s:s}",
                            "delegator", delegator, "delegate", delegate,
                            "exchangeKey", FP, "ZXg=", "accessControlSecret",
                            FP, "YWM=", "sharedSignatureKey", FP, "c3M=",
                            "delegatorSignature", FP, "ZHM=",
                            "sharedSignature", "c2c=");

    assert_non_null(doc);
    return doc;
}

static void
test_robustness__foreign_exchange_data_and_stubs(void **state)
{
    char url[160];
    long long before[ROW_COUNTS];
    json_t *stub, *made;
    reply r;

    (void)state;
    db_snapshot(before);
    assert_int_equal(status_json("POST", "exchangedata", env.hcp_b,
                                 exchange_doc(HCP_A, HCP_B), NULL),
                     403);
    assert_int_equal(status_json("POST", "exchangedata/bulk", env.hcp_b,
                                 json_pack("[o]", exchange_doc(PATIENT,
                                                               HCP_B)),
                                 NULL),
                     403);
    snprintf(url, sizeof url, "dataowner/stub/%s", HCP_A);
    r = send_json("GET", url, env.hcp_b, NULL, NULL);
    assert_int_equal(r.status, 200);
    stub = json_deep_copy(r.json);
    fixture_reply_free(&r);
    assert_non_null(stub);
    json_object_set_new(json_object_get(stub, "stub"),
                        "publicKeysForOaepWithSha256",
                        json_pack("[s]", "AAAA"));
    assert_int_equal(status_json("PUT", "dataowner/stub", env.hcp_b,
                                 json_incref(stub), NULL),
                     403);
    assert_db_unchanged(before);
    /* Rights of an HCP count for its children, so this one is allowed. */
    assert_int_equal(status_json("POST", "exchangedata", env.hcp_a_child,
                                 exchange_doc(HCP_A, HCP_B), NULL),
                     200);

    r = send_json("POST", "exchangedata", env.hcp_a,
                  exchange_doc(HCP_A, HCP_B), NULL);
    assert_int_equal(r.status, 200);
    made = json_deep_copy(r.json);
    fixture_reply_free(&r);
    snprintf(url, sizeof url, "exchangedata/%s", str_of(made, "id"));
    assert_int_equal(status_json("GET", url, env.patient, NULL, NULL), 403);
    json_object_set_new(made, "delegate", json_string(PATIENT));
    assert_int_equal(status_json("PUT", "exchangedata", env.hcp_b,
                                 json_incref(made), NULL),
                     400);
    json_object_set_new(made, "delegate", json_string(HCP_B));
    assert_int_equal(status_json("PUT", "exchangedata", env.patient,
                                 json_incref(made), NULL),
                     403);
    json_decref(made);
    json_decref(stub);
}

/* ---- concurrency -------------------------------------------------------- */

typedef struct burst_state {
    const char *id;
    long counts[600];
    long other;
} burst_state;

static pthread_mutex_t burst_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t
collect_plain(char *data, size_t size, size_t count, void *user)
{
    cardea_buf *buf = user;

    return cardea_buf__append(buf, data, size * count) == CARDEA_OK
               ? size * count
               : 0;
}

/*
 * A request without cmocka asserts, safe in worker threads. Returns the
 * status (0 on a transport error) and fills `out` with the body.
 */
static long
plain_request(cardea_buf *out, const char *method, const char *path,
              const char *token, const char *body)
{
    struct curl_slist *list = NULL;
    char url[256], line[1024];
    long status = 0;
    CURL *curl = curl_easy_init();

    if (curl == NULL) {
        return 0;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u/rest/v2/%s",
             (unsigned)env.port, path);
    snprintf(line, sizeof line, "Authorization: Bearer %s", token);
    list = curl_slist_append(list, line);
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_plain);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return status;
}

static void
burst_count(burst_state *state, long status)
{
    pthread_mutex_lock(&burst_lock);
    if (status >= 0 && status < 600) {
        state->counts[status]++;
    } else {
        state->other++;
    }
    pthread_mutex_unlock(&burst_lock);
}

/* Reads the entity, bumps `counter` and writes it back, BURST_ROUNDS times. */
static void *
modify_worker(void *arg)
{
    burst_state *state = arg;
    char url[128];

    snprintf(url, sizeof url, "helement/%s", state->id);
    for (int i = 0; i < BURST_ROUNDS; i++) {
        cardea_buf got;
        json_t *doc;
        char *text;
        long status;

        cardea_buf__init(&got, (size_t)1 << 20);
        status = plain_request(&got, "GET", url, env.hcp_a, NULL);
        doc = status == 200 ? json_loadb((const char *)got.data, got.len, 0,
                                         NULL)
                            : NULL;
        cardea_buf__free(&got, false);
        if (doc == NULL) {
            burst_count(state, 0);
            continue;
        }
        json_object_set_new(
            doc, "counter",
            json_integer(json_integer_value(json_object_get(doc, "counter"))
                         + 1));
        text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        cardea_buf__init(&got, (size_t)1 << 20);
        burst_count(state, plain_request(&got, "PUT", "helement", env.hcp_a,
                                         text));
        cardea_buf__free(&got, false);
        free(text);
    }
    return NULL;
}

static void
test_robustness__concurrent_modifies_consistent(void **state)
{
    pthread_t threads[BURST_THREADS];
    burst_state burst = {0};
    char id[48], url[96];
    ackey root;
    json_t *stored = create_owned("helement", id, &root);
    long total;
    reply r;

    (void)state;
    burst.id = id;
    for (size_t t = 0; t < BURST_THREADS; t++) {
        assert_int_equal(pthread_create(&threads[t], NULL, modify_worker,
                                        &burst),
                         0);
    }
    for (size_t t = 0; t < BURST_THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    total = burst.counts[200] + burst.counts[409];
    print_message("modify burst: %ld x 200, %ld x 409, %ld x 0\n",
                  burst.counts[200], burst.counts[409], burst.counts[0]);
    assert_int_equal(total, BURST_THREADS * BURST_ROUNDS);
    assert_true(burst.counts[200] > 0);

    snprintf(url, sizeof url, "helement/%s", id);
    r = send_json("GET", url, env.hcp_a, NULL, NULL);
    assert_int_equal(r.status, 200);
    /* Each winner added exactly one to counter and one revision. */
    assert_int_equal(json_integer_value(json_object_get(r.json, "counter")),
                     burst.counts[200]);
    assert_int_equal(strtol(str_of(r.json, "rev"), NULL, 10),
                     burst.counts[200] + 1);
    fixture_reply_free(&r);
    json_decref(stored);
}

typedef struct share_worker_state {
    const char *id;
    const char *root;
    char bodies[SHARE_ROUNDS][1024];
    long accepted;
    long failed;
} share_worker_state;

static void *
share_worker(void *arg)
{
    share_worker_state *state = arg;

    for (int i = 0; i < SHARE_ROUNDS; i++) {
        cardea_buf got;
        json_t *result;
        long status;

        cardea_buf__init(&got, (size_t)4 << 20);
        status = plain_request(&got, "PUT",
                               "helement/bulkSharedMetadataUpdateMinimal",
                               env.hcp_a, state->bodies[i]);
        result = status == 200 ? json_loadb((const char *)got.data, got.len,
                                            0, NULL)
                               : NULL;
        if (result != NULL
            && json_object_size(json_object_get(json_array_get(result, 0),
                                                "rejectedRequests"))
                   == 0) {
            state->accepted++;
        } else {
            state->failed++;
        }
        json_decref(result);
        cardea_buf__free(&got, false);
    }
    return NULL;
}

static void
test_robustness__concurrent_shares_all_kept(void **state)
{
    enum { WORKERS = 4 };
    pthread_t threads[WORKERS];
    share_worker_state *workers = calloc(WORKERS, sizeof *workers);
    char id[48], url[96];
    ackey root;
    json_t *stored = create_owned("helement", id, &root);
    long accepted = 0;
    reply r;

    (void)state;
    assert_non_null(workers);
    for (size_t w = 0; w < WORKERS; w++) {
        for (size_t i = 0; i < SHARE_ROUNDS; i++) {
            ackey key;
            json_t *body;
            char *text;

            key_new(&key);
            body = share_body(id, share_request("FULL_READ", HCP_A, NULL,
                                                &key),
                              root.sdkey);
            text = json_dumps(body, JSON_COMPACT);
            json_decref(body);
            assert_non_null(text);
            assert_true(strlen(text) < sizeof workers[w].bodies[i]);
            snprintf(workers[w].bodies[i], sizeof workers[w].bodies[i], "%s",
                     text);
            free(text);
        }
        workers[w].id = id;
        assert_int_equal(pthread_create(&threads[w], NULL, share_worker,
                                        &workers[w]),
                         0);
    }
    for (size_t w = 0; w < WORKERS; w++) {
        pthread_join(threads[w], NULL);
        assert_int_equal(workers[w].failed, 0);
        accepted += workers[w].accepted;
    }
    snprintf(url, sizeof url, "helement/%s", id);
    r = send_json("GET", url, env.hcp_a, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_size(json_object_get(
                         json_object_get(r.json, "securityMetadata"),
                         "secureDelegations")),
                     accepted + 1);
    fixture_reply_free(&r);
    free(workers);
    json_decref(stored);
}

/* ---- privacy ------------------------------------------------------------ */

/* Reads a whole file into `out` (an empty buffer when it is missing). */
static void
read_file(cardea_buf *out, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t chunk[65536];
    size_t n;

    cardea_buf__init(out, (size_t)256 << 20);
    if (f == NULL) {
        return;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        assert_int_equal(cardea_buf__append(out, chunk, n), CARDEA_OK);
    }
    fclose(f);
}

static bool
buf_contains(const cardea_buf *buf, const void *needle, size_t len)
{
    if (len == 0 || buf->len < len) {
        return false;
    }
    for (size_t i = 0; i + len <= buf->len; i++) {
        if (buf->data[i] == ((const uint8_t *)needle)[0]
            && memcmp(buf->data + i, needle, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Upper-case copy of a hex key, as a client could also send it. */
static void
upper(char *out, const char *hex)
{
    size_t i = 0;

    for (; hex[i] != '\0'; i++) {
        out[i] = (hex[i] >= 'a' && hex[i] <= 'f') ? (char)(hex[i] - 32)
                                                  : hex[i];
    }
    out[i] = '\0';
}

/*
 * Exercises the anonymous paths that carry raw keys: a patient creates
 * and shares with header keys, and HCP A fills an exchange data map from
 * raw keys. Returns the patient's entity id in `id`.
 */
static void
send_raw_keys(char id[48])
{
    ackey own, to_a, map;
    json_t *batch;

    key_new(&own);
    key_new(&to_a);
    key_new(&map);
    new_id(id);
    assert_int_equal(status_json("POST", "helement", env.patient,
                                 entity_doc(id, own.sdkey,
                                            delegation("WRITE", NULL, NULL,
                                                       NULL)),
                                 (const char *const[]){own.header, NULL}),
                     200);
    assert_int_equal(share_code("helement/bulkSharedMetadataUpdate",
                                env.patient,
                                share_body(id,
                                           share_request("MAX_WRITE", NULL,
                                                         HCP_A, &to_a),
                                           own.sdkey),
                                (const char *const[]){own.header, NULL}),
                     0);
    batch = json_pack("{s:{s:{s:s}}}", "batch", map.hex, FP, "ZW5j");
    assert_int_equal(status_json("PUT", "exchangedatamap/batch", env.hcp_a,
                                 batch, NULL),
                     200);
}

static void
test_robustness__no_secret_in_logs_or_db(void **state)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    const char *secrets[] = {FIXTURE_PASSWORD, env.hcp_a, env.hcp_b,
                             env.patient, env.refresh_a, BODY_MARKER};
    char id[48], big[2 * CARDEA_AC_KEY_LEN + 1];
    sqlite3 *db;
    size_t leaks = 0;

    (void)state;
    send_raw_keys(id);
    assert_int_equal(status_json("POST", "auth/login", NULL,
                                 json_pack("{s:s, s:s}", "username",
                                           "a@example.org", "password",
                                           "wrong " FIXTURE_PASSWORD),
                                 NULL),
                     401);
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        if (log_contains(secrets[i])) {
            print_error("log contains secret %zu\n", i);
            leaks++;
        }
    }
    for (size_t k = 0; k < env.sent_count; k++) {
        upper(big, env.sent[k].hex);
        if (log_contains(env.sent[k].hex) || log_contains(big)
            || log_contains(env.sent[k].b64)) {
            print_error("log contains access-control key %zu\n", k);
            leaks++;
        }
    }

    for (size_t s = 0; s < sizeof suffixes / sizeof suffixes[0]; s++) {
        char path[192];
        cardea_buf file;

        snprintf(path, sizeof path, "%s%s", env.db_path, suffixes[s]);
        read_file(&file, path);
        for (size_t k = 0; k < env.sent_count; k++) {
            upper(big, env.sent[k].hex);
            if (buf_contains(&file, env.sent[k].hex, 32)
                || buf_contains(&file, big, 32)
                || buf_contains(&file, env.sent[k].b64, 22)
                || buf_contains(&file, env.sent[k].raw, 16)) {
                print_error("%s contains access-control key %zu\n", path, k);
                leaks++;
            }
        }
        cardea_buf__free(&file, false);
    }

    /* The patient acted anonymously: its id is nowhere in that entity. */
    db = db_open_readonly();
    assert_int_equal(db_count(db,
                              "SELECT count(*) FROM entities WHERE id = ?1 "
                              "AND instr(json, '" PATIENT "') > 0",
                              id),
                     0);
    assert_int_equal(db_count(db,
                              "SELECT count(*) FROM entities WHERE id = ?1",
                              id),
                     1);
    sqlite3_close(db);
    print_message("privacy: %zu log lines, %zu keys checked, %zu leaks\n",
                  logs.lines, env.sent_count, leaks);
    assert_int_equal(leaks, 0);
}

/* ---- fixed red-team findings -------------------------------------------- */

/*
 * The path is logged after percent-decoding, so %0a could start a forged
 * log line and %1b a terminal escape. Both must reach the log escaped.
 */
static void
test_robustness__log_has_no_control_bytes(void **state)
{
    size_t before, after;

    (void)state;
    pthread_mutex_lock(&logs.lock);
    before = logs.control_lines;
    pthread_mutex_unlock(&logs.lock);
    assert_int_equal(status_json("GET",
                                 "helement/x%0a2026-01-01T00:00:00Z%20error"
                                 "%20forged",
                                 env.hcp_a, NULL, NULL),
                     404);
    assert_int_equal(status_json("GET", "nothing%0d%1b%5b31mred", NULL,
                                 NULL, NULL),
                     404);
    assert_int_equal(status_json("GET", "zzz%7f%25%0aINJECTED", NULL, NULL,
                                 NULL),
                     404);
    /* The escapes keep the bytes readable, spaces and '%' included. */
    assert_true(log_wait_for("helement/x%0A2026-01-01T00:00:00Z%20error"));
    assert_true(log_wait_for("nothing%0D%1B[31mred"));
    assert_true(log_wait_for("zzz%7F%25%0AINJECTED"));
    pthread_mutex_lock(&logs.lock);
    after = logs.control_lines;
    pthread_mutex_unlock(&logs.lock);
    assert_int_equal(after, before);
}

/*
 * Create checks the explicit delegator of every delegation, as bulk
 * share does: B may not create an entity whose child delegation claims
 * that A shared it with the patient.
 */
static void
test_robustness__create_rejects_forged_delegator(void **state)
{
    char id[48];
    ackey root, child;
    long long before[ROW_COUNTS];
    json_t *doc, *delegations;
    reply r;

    (void)state;
    db_snapshot(before);
    key_new(&root);
    key_new(&child);
    new_id(id);
    doc = entity_doc(id, root.sdkey, delegation("WRITE", HCP_B, HCP_B, NULL));
    delegations = json_object_get(json_object_get(doc, "securityMetadata"),
                                  "secureDelegations");
    json_object_set_new(delegations, child.sdkey,
                        delegation("READ", HCP_A, PATIENT, root.sdkey));
    assert_int_equal(status_json("POST", "helement", env.hcp_b,
                                 json_incref(doc), NULL),
                     403);
    r = send_json("POST", "helement/batch", env.hcp_b,
                  json_pack("[O]", doc), NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    fixture_reply_free(&r);
    assert_db_unchanged(before);

    /* The same child with B as its delegator is a normal create. */
    json_object_set_new(delegations, child.sdkey,
                        delegation("READ", HCP_B, PATIENT, root.sdkey));
    assert_int_equal(status_json("POST", "helement", env.hcp_b, doc, NULL),
                     200);
}

/* Exchange data byIds rejects non-string ids with 400. */
static void
test_robustness__exchange_by_ids_type_checked(void **state)
{
    (void)state;
    assert_int_equal(status_json("POST", "exchangedata/byIds", env.hcp_a,
                                 json_pack("{s:[i]}", "ids", 1), NULL),
                     400);
    assert_int_equal(status_json("POST", "exchangedata/byIds", env.hcp_a,
                                 json_pack("{s:[n]}", "ids"), NULL),
                     400);
    assert_int_equal(status_json("POST", "exchangedata/byIds", env.hcp_a,
                                 json_pack("{s:[s, {}]}", "ids", "x"),
                                 NULL),
                     400);
}

/* Every route that reads {ids: [...]} rejects non-string ids with 400. */
static void
test_robustness__ids_bodies_type_checked(void **state)
{
    static const char *const routes[] = {
        "exchangedata/byIds",
        "exchangedatamap/batch",
        "dataowner/byIds",
        "dataowner/stub/byIds",
        "securedelegationkeymap/bydelegationkeys",
        "helement/byIds",
        "patient/byIds",
    };

    (void)state;
    for (size_t r = 0; r < sizeof routes / sizeof routes[0]; r++) {
        long number = status_json("POST", routes[r], env.hcp_a,
                                  json_pack("{s:[i]}", "ids", 1), NULL);
        long null = status_json("POST", routes[r], env.hcp_a,
                                json_pack("{s:[n]}", "ids"), NULL);
        long array = status_json("POST", routes[r], env.hcp_a,
                                 json_pack("{s:[[s]]}", "ids", "x"), NULL);

        if (number != 400 || null != 400 || array != 400) {
            print_error("%s: %ld %ld %ld\n", routes[r], number, null,
                        array);
        }
        assert_int_equal(number, 400);
        assert_int_equal(null, 400);
        assert_int_equal(array, 400);
    }
}

/*
 * The head limit is max_header_bytes (96 KiB by default) for the request
 * line plus headers, although libmicrohttpd gets a larger pool; 64 KiB of
 * headers still pass.
 */
static void
test_robustness__head_limit_as_documented(void **state)
{
    size_t len = (size_t)100 << 10;
    char *line = malloc(len + 1);
    const char *headers[] = {line, NULL};

    (void)state;
    assert_non_null(line);
    memset(line, 'x', len);
    memcpy(line, "X-Junk: ", 8);
    line[len] = '\0';
    assert_int_equal(get_with_headers("dataowner/current", env.hcp_a,
                                      headers),
                     431);
    line[(size_t)64 << 10] = '\0';
    assert_int_equal(get_with_headers("dataowner/current", env.hcp_a,
                                      headers),
                     200);
    free(line);
}

/* Sends `doc` (taken) as a PUT of helement; returns the status. */
static long
put_helement(const char *token, json_t *doc)
{
    return status_json("PUT", "helement", token, doc, NULL);
}

/*
 * The legacy `delegations`, `encryptionKeys` and `cryptedForeignKeys`
 * maps grant WRITE to each data owner they name, so a modify may not
 * change them and a create may name only the caller in them.
 */
static void
test_robustness__legacy_maps_are_metadata(void **state)
{
    static const char *const maps[] = {
        "delegations", "encryptionKeys", "cryptedForeignKeys",
    };
    char id[48], url[96], new_ids[3][48];
    ackey root, keys[3];
    json_t *stored = create_owned("helement", id, &root);
    char *rev = strdup(str_of(stored, "rev"));
    char *rev_after;
    json_t *copy;

    (void)state;
    assert_non_null(rev);
    snprintf(url, sizeof url, "helement/%s", id);
    for (size_t m = 0; m < 3; m++) {
        copy = json_deep_copy(stored);
        json_object_set_new(copy, maps[m],
                            json_pack("{s:[]}", HCP_B));
        assert_int_equal(put_helement(env.hcp_a, copy), 400);
    }
    rev_after = stored_rev("helement", id);
    assert_string_equal(rev_after, rev);
    free(rev_after);
    assert_int_equal(status_json("GET", url, env.hcp_b, NULL, NULL), 404);

    /* Empty maps mean the same as missing ones, so this modify passes. */
    copy = json_deep_copy(stored);
    json_object_set_new(copy, "delegations", json_object());
    json_object_set_new(copy, "cryptedForeignKeys", json_null());
    assert_int_equal(put_helement(env.hcp_a, copy), 200);

    for (size_t m = 0; m < 3; m++) {
        json_t *doc;

        key_new(&keys[m]);
        new_id(new_ids[m]);
        doc = entity_doc(new_ids[m], keys[m].sdkey,
                         delegation("WRITE", HCP_A, HCP_A, NULL));
        json_object_set_new(doc, maps[m], json_pack("{s:[]}", HCP_B));
        assert_int_equal(status_json("POST", "helement", env.hcp_a,
                                     json_incref(doc), NULL),
                         400);
        /* An entry under the caller's key may not point at B either. */
        json_object_set_new(doc, maps[m],
                            json_pack("{s:[{s:s, s:s}]}", HCP_A, "owner",
                                      HCP_A, "delegatedTo", HCP_B));
        assert_int_equal(status_json("POST", "helement", env.hcp_a,
                                     json_incref(doc), NULL),
                         400);
        json_object_set_new(doc, maps[m],
                            json_pack("{s:[{s:s, s:s}]}", HCP_A, "owner",
                                      HCP_A, "delegatedTo", HCP_A));
        assert_int_equal(status_json("POST", "helement", env.hcp_a, doc,
                                     NULL),
                         200);
    }
    free(rev);
    json_decref(stored);
}

/*
 * A recovery-data id is the capability to read that document, so the
 * access log shows "{id}" in its place on every recovery-data path.
 */
static void
test_robustness__recovery_ids_not_logged(void **state)
{
    char id[48], url[128], long_url[2200];
    json_t *doc;

    (void)state;
    new_id(id);
    doc = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "recipient", HCP_A,
                    "encryptedSelf", "c2VjcmV0", "type",
                    "KEYPAIR_RECOVERY");
    assert_non_null(doc);
    assert_int_equal(status_json("POST", "recoverydata", env.hcp_a, doc,
                                 NULL),
                     200);
    snprintf(url, sizeof url, "recoverydata/%s", id);
    assert_int_equal(status_json("GET", url, env.hcp_a, NULL, NULL), 200);
    assert_int_equal(status_json("PUT", url, env.hcp_a, NULL, NULL), 405);
    snprintf(url, sizeof url, "recoverydata/waiting/%s?timeoutSeconds=0",
             id);
    assert_int_equal(status_json("GET", url, env.hcp_a, NULL, NULL), 200);
    snprintf(url, sizeof url, "recoverydata/%s/extra", id);
    assert_int_equal(status_json("GET", url, env.hcp_a, NULL, NULL), 404);
    /* More segments than any route has, then a path over 2 KiB. */
    snprintf(url, sizeof url, "recoverydata/%s/a/b/c/d/e/f/g/h/i/j", id);
    assert_int_equal(status_json("GET", url, env.hcp_a, NULL, NULL), 404);
    snprintf(long_url, sizeof long_url, "recoverydata/%s/", id);
    memset(long_url + strlen(long_url), 'x',
           sizeof long_url - 1 - strlen(long_url));
    long_url[sizeof long_url - 1] = '\0';
    assert_int_equal(status_json("GET", long_url, env.hcp_a, NULL, NULL),
                     414);
    snprintf(url, sizeof url, "recoverydata/%s", id);
    assert_int_equal(status_json("DELETE", url, env.hcp_a, NULL, NULL), 200);
    assert_int_equal(status_json("GET", url, env.hcp_a, NULL, NULL), 404);

    assert_true(log_wait_for("GET /rest/v2/recoverydata/{id} 200"));
    assert_true(log_wait_for("GET /rest/v2/recoverydata/waiting/{id} 200"));
    assert_true(log_wait_for("DELETE /rest/v2/recoverydata/{id} 200"));
    assert_true(log_wait_for("PUT /rest/v2/recoverydata/{id} 405"));
    assert_true(log_wait_for("GET /rest/v2/recoverydata/{redacted} 404"));
    assert_true(log_wait_for("GET /rest/v2/recoverydata/{id} 404"));
    assert_true(log_wait_for("GET /rest/v2/recoverydata/{redacted} 414"));
    assert_false(log_contains(id));
}

/* Posts `doc` (taken) to `path` and checks for a 400 naming the id rule. */
static void
assert_id_rejected(const char *path, json_t *doc)
{
    reply r = send_json("POST", path, env.hcp_a, doc, NULL);

    if (r.status != 400) {
        print_error("POST %s: status %ld\n", path, r.status);
    }
    assert_int_equal(r.status, 400);
    assert_non_null(r.body);
    assert_non_null(strstr(r.body, "without '/' or control characters"));
    fixture_reply_free(&r);
}

/*
 * Ids travel as one path segment, so a create rejects an id with '/', a
 * control character, or more than 256 bytes: such a document could never
 * be read back.
 */
static void
test_robustness__unfetchable_ids_rejected(void **state)
{
    char long_id[258], max_id[257], url[300];
    const char *bad[] = {"red/slash", "red\nline", "red\x7f" "del", long_id};
    long long before[ROW_COUNTS];
    ackey key;

    (void)state;
    memset(long_id, 'r', 257);
    long_id[257] = '\0';
    db_snapshot(before);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *exchange = exchange_doc(HCP_A, HCP_B);

        key_new(&key);
        assert_id_rejected("helement",
                           entity_doc(bad[i], key.sdkey,
                                      delegation("WRITE", HCP_A, HCP_A,
                                                 NULL)));
        assert_id_rejected("securedelegationkeymap",
                           json_pack("{s:s, s:s, s:s, s:{s:{s:o}}}", "id",
                                     bad[i], "delegationKey", key.sdkey,
                                     "encryptedSelf", "eA==",
                                     "securityMetadata", "secureDelegations",
                                     key.sdkey,
                                     delegation("WRITE", HCP_A, HCP_A,
                                                NULL)));
        json_object_set_new(exchange, "id", json_string(bad[i]));
        assert_id_rejected("exchangedata/bulk", json_pack("[O]", exchange));
        assert_id_rejected("exchangedata", exchange);
        assert_id_rejected("recoverydata",
                           json_pack("{s:s, s:s, s:s, s:s}", "id", bad[i],
                                     "recipient", HCP_A, "encryptedSelf",
                                     "eA==", "type", "KEYPAIR_RECOVERY"));
    }
    assert_db_unchanged(before);

    /* 256 bytes is within the rule and reads back. */
    memset(max_id, 'r', 256);
    max_id[256] = '\0';
    key_new(&key);
    assert_int_equal(status_json("POST", "helement", env.hcp_a,
                                 entity_doc(max_id, key.sdkey,
                                            delegation("WRITE", HCP_A, HCP_A,
                                                       NULL)),
                                 NULL),
                     200);
    snprintf(url, sizeof url, "helement/%s", max_id);
    assert_int_equal(status_json("GET", url, env.hcp_a, NULL, NULL), 200);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_robustness__hostile_bodies_are_4xx),
        cmocka_unit_test(test_robustness__mutated_bodies_write_nothing),
        cmocka_unit_test(test_robustness__malformed_key_headers_are_400),
        cmocka_unit_test(test_robustness__many_keys_and_huge_headers),
        cmocka_unit_test(test_robustness__bad_tokens_are_401),
        cmocka_unit_test(test_robustness__share_bypasses_rejected),
        cmocka_unit_test(test_robustness__writes_without_write_rejected),
        cmocka_unit_test(test_robustness__create_needs_own_root),
        cmocka_unit_test(test_robustness__reads_hidden_everywhere),
        cmocka_unit_test(test_robustness__foreign_exchange_data_and_stubs),
        cmocka_unit_test(test_robustness__concurrent_modifies_consistent),
        cmocka_unit_test(test_robustness__concurrent_shares_all_kept),
        cmocka_unit_test(test_robustness__log_has_no_control_bytes),
        cmocka_unit_test(test_robustness__create_rejects_forged_delegator),
        cmocka_unit_test(test_robustness__exchange_by_ids_type_checked),
        cmocka_unit_test(test_robustness__ids_bodies_type_checked),
        cmocka_unit_test(test_robustness__head_limit_as_documented),
        cmocka_unit_test(test_robustness__legacy_maps_are_metadata),
        cmocka_unit_test(test_robustness__recovery_ids_not_logged),
        cmocka_unit_test(test_robustness__unfetchable_ids_rejected),
        cmocka_unit_test(test_robustness__no_secret_in_logs_or_db),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
