/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load client of the server benchmark. Against a running `cardea serve`
 * and the bare floor server (bare_server.c), both on 127.0.0.1, it runs
 * these phases one after the other, each with a fixed number of
 * libcurl threads that keep their connections alive:
 *   1. create: an HCP POSTs --entities HealthElements to /helement, each
 *      with a valid root delegation. Every --shared-every-th one also has
 *      a delegation for an anonymous patient, keyed by an sdKey only;
 *   2. GET /helement/{id} with the HCP's bearer token (full access check),
 *      then the same ids from the bare floor;
 *   3. POST /helement/match "for self" by the patient, sending 1, 100 and
 *      1,000 access-control keys (360 per header line, as the official
 *      SDK does), only one of which hashes to the patient's delegation.
 * Each phase stops after its request count or --phase-seconds, whichever
 * comes first. The client prints requests, errors, requests per second
 * and p50/p99 latency per phase, then the ratios the benchmark targets.
 * It never asserts a timing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/base.h"
#include "format/delegation.h"
#include "format/keys.h"

#define MAX_THREADS 16
#define RESPONSE_MAX ((size_t)4 << 20)
#define ENTITY_TYPE "HealthElement"
#define ID_PLACEHOLDER "00000000-0000-4000-8000-000000000000"
#define PATIENT_SFK "5b0e4f3c-0d8a-4f0e-9b6e-3c2d1a0f9e87"

static const char usage_text[] =
    "usage: cardea_bench_load --cardea-port P --bare-port P\n"
    "         --hcp-login L --hcp-id ID --patient-login L --patient-id ID\n"
    "         --password-file FILE [--entities N] [--shared-every N]\n"
    "         [--threads N] [--get-requests N] [--match-requests N]\n"
    "         [--phase-seconds S]\n"
    "  --password-file FILE  file whose first line is both users' password\n"
    "  --entities N          HealthElements to create (default 10000)\n"
    "  --shared-every N      share every Nth one with the patient "
    "(default 100)\n"
    "  --threads N           client threads, at most 16 (default 4)\n"
    "  --get-requests N      requests per GET phase (default 20000)\n"
    "  --match-requests N    requests per match phase (default 2000)\n"
    "  --phase-seconds S     time limit of each phase (default 60)\n";

typedef struct options {
    unsigned cardea_port;
    unsigned bare_port;
    const char *hcp_login;
    const char *patient_login;
    const char *patient_id;
    const char *hcp_id;
    const char *password_file;
    unsigned entities;
    unsigned shared_every;
    unsigned threads;
    unsigned get_requests;
    unsigned match_requests;
    unsigned phase_seconds;
} options;

/* Growable response buffer of one thread, reused for every request. */
typedef struct response {
    char *data;
    size_t len;
    size_t cap;
} response;

typedef struct phase phase;

/* Fills the URL and the body (NULL for a GET) of request `index`. */
typedef void (*prepare_fn)(char *url, size_t url_cap, char **body,
                           const phase *ph, size_t index);

struct phase {
    const char *name;
    unsigned port;
    prepare_fn prepare;
    const void *data;               /* for `prepare` */
    const char *const *headers;     /* NULL-terminated header lines */
    size_t requests;
    double max_seconds;
    /* Results. */
    atomic_size_t next;
    atomic_size_t errors;
    double *latencies_ms;           /* one slot per request, -1 unused */
    double elapsed_s;
    size_t done;
    double p50_ms;
    double p99_ms;
};

typedef struct worker {
    phase *ph;
    CURL *curl;
    response resp;
    struct timespec start;
} worker;

/* Inputs of the create phase. */
typedef struct create_data {
    char **ids;
    const char *plain_body;     /* template without the patient's share */
    const char *shared_body;    /* template with it */
    size_t id_offset;           /* of ID_PLACEHOLDER in both templates */
    unsigned shared_every;
} create_data;

/* Inputs of the GET phases. */
typedef struct get_data {
    char **ids;
    size_t id_count;
} get_data;

/* Inputs of the match phases. */
typedef struct match_data {
    const char *body;
} match_data;

static CURL *handles[MAX_THREADS];

/* ---- timing and statistics ------------------------------------------- */

static double
seconds_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec)
           + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int
compare_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Compacts the used latency slots, sorts them and sets p50 and p99. */
static void
summarise(phase *ph)
{
    size_t n = 0;

    for (size_t i = 0; i < ph->requests; i++) {
        if (ph->latencies_ms[i] >= 0) {
            ph->latencies_ms[n++] = ph->latencies_ms[i];
        }
    }
    ph->done = n;
    if (n == 0) {
        return;
    }
    qsort(ph->latencies_ms, n, sizeof ph->latencies_ms[0], compare_double);
    ph->p50_ms = ph->latencies_ms[(n - 1) / 2];
    ph->p99_ms = ph->latencies_ms[(size_t)((double)(n - 1) * 0.99)];
}

/* ---- HTTP ------------------------------------------------------------ */

static size_t
collect(char *data, size_t size, size_t count, void *user)
{
    response *r = user;
    size_t len = size * count;

    if (r->len + len + 1 > r->cap) {
        size_t cap = r->cap == 0 ? 4096 : r->cap;
        char *grown;

        while (cap < r->len + len + 1) {
            cap *= 2;
        }
        if (cap > RESPONSE_MAX) {
            return 0;
        }
        grown = realloc(r->data, cap);
        if (grown == NULL) {
            return 0;
        }
        r->data = grown;
        r->cap = cap;
    }
    memcpy(r->data + r->len, data, len);
    r->len += len;
    r->data[r->len] = '\0';
    return len;
}

/* Appends `line`; on failure frees the whole list and sets it to NULL. */
static bool
append_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *next = curl_slist_append(*list, line);

    if (next == NULL) {
        curl_slist_free_all(*list);
        *list = NULL;
        return false;
    }
    *list = next;
    return true;
}

/*
 * Builds a header list from `lines` (NULL-terminated, may be NULL). Every
 * request also declares a JSON body and turns off "Expect: 100-continue",
 * which would cost a round trip per POST.
 */
static struct curl_slist *
header_list(const char *const *lines)
{
    struct curl_slist *list = NULL;

    if (!append_header(&list, "Expect:")
        || !append_header(&list, "Content-Type: application/json")) {
        return NULL;
    }
    for (size_t i = 0; lines != NULL && lines[i] != NULL; i++) {
        if (!append_header(&list, lines[i])) {
            return NULL;
        }
    }
    return list;
}

/*
 * Sends one request on `curl` and returns its HTTP status, or -1 when
 * the transfer failed. `body` NULL means GET, otherwise a JSON POST.
 */
static long
perform(CURL *curl, response *resp, const char *url, const char *body,
        struct curl_slist *headers)
{
    long status = -1;

    resp->len = 0;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(body));
    } else {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    return status;
}

/* ---- phases ----------------------------------------------------------- */

static void *
run_worker(void *arg)
{
    worker *w = arg;
    phase *ph = w->ph;
    struct curl_slist *headers = header_list(ph->headers);
    char url[512];

    if (headers == NULL) {
        atomic_fetch_add(&ph->errors, 1);
        return NULL;
    }
    for (;;) {
        size_t index = atomic_fetch_add(&ph->next, 1);
        struct timespec sent;
        char *body = NULL;
        long status;

        if (index >= ph->requests
            || seconds_since(&w->start) >= ph->max_seconds) {
            break;
        }
        ph->prepare(url, sizeof url, &body, ph, index);
        clock_gettime(CLOCK_MONOTONIC, &sent);
        status = perform(w->curl, &w->resp, url, body, headers);
        ph->latencies_ms[index] = seconds_since(&sent) * 1e3;
        if (status != 200) {
            atomic_fetch_add(&ph->errors, 1);
        }
        free(body);
    }
    curl_slist_free_all(headers);
    return NULL;
}

/* Runs `ph` with `threads` workers and fills its results. */
static bool
run_phase(phase *ph, unsigned threads)
{
    pthread_t ids[MAX_THREADS];
    worker workers[MAX_THREADS];
    struct timespec start;
    unsigned started = 0;

    ph->latencies_ms = malloc(ph->requests * sizeof ph->latencies_ms[0]);
    if (ph->latencies_ms == NULL) {
        return false;
    }
    for (size_t i = 0; i < ph->requests; i++) {
        ph->latencies_ms[i] = -1;
    }
    atomic_init(&ph->next, 0);
    atomic_init(&ph->errors, 0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned t = 0; t < threads; t++) {
        workers[t] = (worker){ph, handles[t], {NULL, 0, 0}, start};
        if (pthread_create(&ids[t], NULL, run_worker, &workers[t]) != 0) {
            break;
        }
        started++;
    }
    for (unsigned t = 0; t < started; t++) {
        pthread_join(ids[t], NULL);
        free(workers[t].resp.data);
    }
    ph->elapsed_s = seconds_since(&start);
    summarise(ph);
    return started == threads;
}

static void
prepare_create(char *url, size_t url_cap, char **body, const phase *ph,
               size_t index)
{
    const create_data *d = ph->data;
    const char *template = index % d->shared_every == 0 ? d->shared_body
                                                         : d->plain_body;

    snprintf(url, url_cap, "http://127.0.0.1:%u/rest/v2/helement", ph->port);
    *body = strdup(template);
    if (*body != NULL) {
        memcpy(*body + d->id_offset, d->ids[index], CARDEA_UUID_STR_LEN);
    }
}

/* Spreads the requests over the ids in the same order for both servers. */
static void
prepare_get(char *url, size_t url_cap, char **body, const phase *ph,
            size_t index)
{
    const get_data *d = ph->data;
    size_t pick = (size_t)(((uint64_t)index * 2654435761u) % d->id_count);

    snprintf(url, url_cap, "http://127.0.0.1:%u/rest/v2/helement/%s",
             ph->port, d->ids[pick]);
    *body = NULL;
}

static void
prepare_match(char *url, size_t url_cap, char **body, const phase *ph,
              size_t index)
{
    const match_data *d = ph->data;

    (void)index;
    snprintf(url, url_cap, "http://127.0.0.1:%u/rest/v2/helement/match",
             ph->port);
    *body = strdup(d->body);
}

static void
print_phase(const phase *ph)
{
    double rate = ph->elapsed_s > 0 ? (double)ph->done / ph->elapsed_s : 0;

    printf("%-34s %8zu %7zu %9.1f %8.2f %8.2f\n", ph->name, ph->done,
           atomic_load(&ph->errors), rate, ph->p50_ms, ph->p99_ms);
}

static double
rate_of(const phase *ph)
{
    return ph->elapsed_s > 0 ? (double)ph->done / ph->elapsed_s : 0;
}

/* ---- set-up: users, keys, entity templates ------------------------------ */

/* Logs `login` in and returns its access token (free), or NULL. */
static char *
login(unsigned port, const char *user_login, const char *password)
{
    json_t *request = json_pack("{s:s, s:s}", "username", user_login,
                                "password", password);
    char *body = request != NULL ? json_dumps(request, 0) : NULL;
    struct curl_slist *headers = header_list(NULL);
    response resp = {NULL, 0, 0};
    char url[128];
    char *token = NULL;
    long status;

    snprintf(url, sizeof url, "http://127.0.0.1:%u/rest/v2/auth/login",
             port);
    if (body != NULL && headers != NULL) {
        status = perform(handles[0], &resp, url, body, headers);
        if (status == 200) {
            json_t *reply = json_loads(resp.data, 0, NULL);

            token = cardea_mem__strdup(cardea_json__get_str(reply, "token"));
            json_decref(reply);
        } else {
            fprintf(stderr, "cardea_bench_load: login of %s failed with "
                            "HTTP %ld\n", user_login, status);
        }
    }
    if (body != NULL) {
        cardea_wipe(body, strlen(body));
    }
    free(body);
    json_decref(request);
    curl_slist_free_all(headers);
    free(resp.data);
    return token;
}

/* Reads the first line of `path` into `out`; false when it is empty. */
static bool
read_password(char *out, size_t out_cap, const char *path)
{
    FILE *f = fopen(path, "r");
    bool ok;

    if (f == NULL) {
        return false;
    }
    ok = fgets(out, (int)out_cap, f) != NULL;
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return ok && out[0] != '\0';
}

static cardea_delegation_entry
entry(const char *sd_key, const char *delegator, const char *delegate,
      cardea_access_level permissions, const uint8_t *exchange_key,
      const cardea_delegation_values *values)
{
    cardea_delegation_entry e;

    memset(&e, 0, sizeof e);
    e.sd_key = sd_key;
    e.params.delegator = delegator;
    e.params.delegate = delegate;
    e.params.exchange_data_id = "bench-exchange-data";
    e.params.permissions = permissions;
    e.params.exchange_key = exchange_key;
    e.params.exchange_key_len = 32;
    e.params.values = *values;
    return e;
}

/*
 * Serialises a HealthElement with id ID_PLACEHOLDER: the HCP's root
 * delegation and, when `anon_sd_key` is not NULL, a READ delegation for
 * the anonymous patient keyed by it. Returns a string (free) or NULL.
 */
static char *
entity_template(const char *hcp_id, const char *root_sd_key,
                const char *anon_sd_key)
{
    uint8_t exchange_key[32];
    uint8_t content[300];
    char entity_key[33];
    char secret_id[CARDEA_UUID_STR_LEN + 1];
    const char *secret_ids[] = {secret_id};
    const char *entity_keys[] = {entity_key};
    cardea_delegation_values values = {secret_ids, 1, entity_keys, 1,
                                       NULL, 0};
    cardea_delegation_entry root;
    cardea_delegation_entry child;
    json_t *metadata = NULL;
    char *encrypted_self = NULL;
    json_t *entity = NULL;
    char *text = NULL;

    cardea_random__bytes(exchange_key, sizeof exchange_key);
    cardea_random__bytes(content, sizeof content);
    cardea_uuid__v4(secret_id);
    if (cardea_hex__encode(entity_key, sizeof entity_key, content, 16)
            != CARDEA_OK
        || cardea_base64__encode_alloc(&encrypted_self, content,
                                       sizeof content) != CARDEA_OK) {
        goto out;
    }
    root = entry(root_sd_key, hcp_id, hcp_id, CARDEA_ACCESS_WRITE,
                 exchange_key, &values);
    child = entry(anon_sd_key, hcp_id, NULL, CARDEA_ACCESS_READ,
                  exchange_key, &values);
    if (cardea_delegation__build_security_metadata(
            &metadata, &root, &child, anon_sd_key != NULL ? 1 : 0)
        != CARDEA_OK) {
        goto out;
    }
    entity = json_pack("{s:s, s:s, s:[s], s:o}", "id", ID_PLACEHOLDER,
                       "encryptedSelf", encrypted_self, "secretForeignKeys",
                       PATIENT_SFK, "securityMetadata", metadata);
    text = entity != NULL ? json_dumps(entity, JSON_COMPACT) : NULL;
out:
    json_decref(entity);
    cardea_free(encrypted_self);
    cardea_wipe(exchange_key, sizeof exchange_key);
    cardea_wipe(entity_key, sizeof entity_key);
    return text;
}

static char *
sd_key_of(const uint8_t secret[CARDEA_AC_SECRET_LEN], char *out)
{
    uint8_t ackey[CARDEA_AC_KEY_LEN];

    if (cardea_ackey__derive(ackey, secret, ENTITY_TYPE) != CARDEA_OK) {
        return NULL;
    }
    cardea_sdkey__from_ackey(out, ackey);
    cardea_wipe(ackey, sizeof ackey);
    return out;
}

static void
free_lines(char **lines)
{
    for (size_t i = 0; lines != NULL && lines[i] != NULL; i++) {
        cardea_wipe(lines[i], strlen(lines[i]));
        free(lines[i]);
    }
    free(lines);
}

/*
 * Builds the header lines of a match by the patient: the bearer token and
 * `count` access-control keys, `count - 1` random ones followed by
 * `real_key`. Returns a NULL-terminated array (free_lines) or NULL.
 */
static char **
match_headers(const char *token, const uint8_t *real_key, size_t count)
{
    uint8_t *keys = malloc(count * CARDEA_AC_KEY_LEN);
    char **values = NULL;
    size_t value_count = 0;
    char **lines = NULL;

    if (keys == NULL) {
        return NULL;
    }
    cardea_random__bytes(keys, (count - 1) * CARDEA_AC_KEY_LEN);
    memcpy(keys + (count - 1) * CARDEA_AC_KEY_LEN, real_key,
           CARDEA_AC_KEY_LEN);
    if (cardea_ackey__encode_headers(&values, &value_count, keys, count)
            != CARDEA_OK) {
        goto out;
    }
    lines = calloc(value_count + 2, sizeof lines[0]);
    if (lines == NULL) {
        goto out;
    }
    for (size_t i = 0; i <= value_count; i++) {
        const char *name = i == 0 ? "Authorization: Bearer "
                                  : "Icure-Access-Control-Keys: ";
        const char *value = i == 0 ? token : values[i - 1];
        size_t len = strlen(name) + strlen(value) + 1;

        lines[i] = malloc(len);
        if (lines[i] == NULL) {
            free_lines(lines);
            lines = NULL;
            goto out;
        }
        snprintf(lines[i], len, "%s%s", name, value);
    }
out:
    cardea_ackey__free_headers(values, value_count);
    cardea_wipe(keys, count * CARDEA_AC_KEY_LEN);
    free(keys);
    return lines;
}

/* ---- the benchmark ------------------------------------------------------ */

typedef struct tokens {
    char *hcp;
    char *patient;
} tokens;

/* Sends one match with `lines` and returns the number of ids, or -1. */
static long
match_count(unsigned port, char **lines, const char *body)
{
    struct curl_slist *headers = header_list((const char *const *)lines);
    response resp = {NULL, 0, 0};
    char url[128];
    long count = -1;

    snprintf(url, sizeof url, "http://127.0.0.1:%u/rest/v2/helement/match",
             port);
    if (headers != NULL
        && perform(handles[0], &resp, url, body, headers) == 200) {
        json_t *ids = json_loads(resp.data, 0, NULL);

        count = json_is_array(ids) ? (long)json_array_size(ids) : -1;
        json_decref(ids);
    }
    curl_slist_free_all(headers);
    free(resp.data);
    return count;
}

/* Creates the entity ids and the two body templates of the create phase. */
static bool
prepare_entities(create_data *d, const options *opt,
                 const uint8_t self_secret[CARDEA_AC_SECRET_LEN],
                 const uint8_t anon_secret[CARDEA_AC_SECRET_LEN])
{
    char root_sd_key[CARDEA_SD_KEY_HEX_LEN + 1];
    char anon_sd_key[CARDEA_SD_KEY_HEX_LEN + 1];
    const char *plain_at;
    const char *shared_at;
    char **ids = calloc(opt->entities, sizeof ids[0]);

    if (ids == NULL || sd_key_of(self_secret, root_sd_key) == NULL
        || sd_key_of(anon_secret, anon_sd_key) == NULL) {
        free(ids);
        return false;
    }
    d->ids = ids;
    for (unsigned i = 0; i < opt->entities; i++) {
        ids[i] = malloc(CARDEA_UUID_STR_LEN + 1);
        if (ids[i] == NULL) {
            return false;
        }
        cardea_uuid__v4(ids[i]);
    }
    d->plain_body = entity_template(opt->hcp_id, root_sd_key, NULL);
    d->shared_body = entity_template(opt->hcp_id, root_sd_key, anon_sd_key);
    d->shared_every = opt->shared_every;
    if (d->plain_body == NULL || d->shared_body == NULL) {
        return false;
    }
    plain_at = strstr(d->plain_body, ID_PLACEHOLDER);
    shared_at = strstr(d->shared_body, ID_PLACEHOLDER);
    d->id_offset = (size_t)(plain_at - d->plain_body);
    return plain_at != NULL && shared_at != NULL
           && (size_t)(shared_at - d->shared_body) == d->id_offset;
}

static void
free_entities(create_data *d, unsigned count)
{
    for (unsigned i = 0; d->ids != NULL && i < count; i++) {
        free(d->ids[i]);
    }
    free(d->ids);
    free((char *)d->plain_body);
    free((char *)d->shared_body);
}

static void
print_header(void)
{
    printf("%-34s %8s %7s %9s %8s %8s\n", "phase", "requests", "errors",
           "req/s", "p50 ms", "p99 ms");
}

/* The three match phases: 1, 100 and 1,000 keys. */
#define KEY_STEPS 3
static const size_t key_counts[KEY_STEPS] = {1, 100, 1000};
static const char *const match_names[KEY_STEPS] = {
    "POST helement/match, 1 key",
    "POST helement/match, 100 keys",
    "POST helement/match, 1000 keys",
};

static bool
run_matches(phase *phases, const options *opt, const tokens *tok,
            const uint8_t anon_key[CARDEA_AC_KEY_LEN], match_data *md)
{
    bool ok = true;

    for (size_t k = 0; k < KEY_STEPS && ok; k++) {
        char **lines = match_headers(tok->patient, anon_key, key_counts[k]);
        long found;

        if (lines == NULL) {
            return false;
        }
        found = match_count(opt->cardea_port, lines, md->body);
        printf("# match for self with %zu keys returns %ld ids "
               "(%u expected)\n", key_counts[k], found,
               (opt->entities + opt->shared_every - 1) / opt->shared_every);
        phases[k] = (phase){.name = match_names[k],
                            .port = opt->cardea_port,
                            .prepare = prepare_match,
                            .data = md,
                            .headers = (const char *const *)lines,
                            .requests = opt->match_requests,
                            .max_seconds = opt->phase_seconds};
        ok = run_phase(&phases[k], opt->threads);
        free_lines(lines);
    }
    return ok;
}

static void
print_results(phase *create, phase *get_cardea, phase *get_bare,
              phase *matches)
{
    double floor_rate = rate_of(get_bare);
    double one_key = rate_of(&matches[0]);
    double many_keys = rate_of(&matches[KEY_STEPS - 1]);

    print_header();
    print_phase(create);
    print_phase(get_cardea);
    print_phase(get_bare);
    for (size_t k = 0; k < KEY_STEPS; k++) {
        print_phase(&matches[k]);
    }
    printf("\nGET by id with access check: %.1f %% of the bare floor's "
           "req/s (target >= 50 %%)\n",
           floor_rate > 0 ? 100.0 * rate_of(get_cardea) / floor_rate : 0);
    printf("match, 1000 keys vs 1 key: %.2fx the time per request, "
           "p50 %.2fx (target <= 2x)\n",
           many_keys > 0 ? one_key / many_keys : 0,
           matches[0].p50_ms > 0
               ? matches[KEY_STEPS - 1].p50_ms / matches[0].p50_ms
               : 0);
    printf("create throughput: %.1f entities/s\n", rate_of(create));
}

static int
run_benchmark(const options *opt, const tokens *tok)
{
    uint8_t self_secret[CARDEA_AC_SECRET_LEN];
    uint8_t anon_secret[CARDEA_AC_SECRET_LEN];
    uint8_t anon_key[CARDEA_AC_KEY_LEN];
    char auth[4096];
    const char *hcp_lines[] = {auth, NULL};
    char match_body[512];
    create_data cd = {0};
    get_data gd;
    match_data md = {match_body};
    phase create = {0};
    phase get_cardea = {0};
    phase get_bare = {0};
    phase matches[KEY_STEPS] = {0};
    int status = 1;

    cardea_random__bytes(self_secret, sizeof self_secret);
    cardea_random__bytes(anon_secret, sizeof anon_secret);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok->hcp);
    snprintf(match_body, sizeof match_body,
             "{\"$type\":\"HealthElementByHcPartyFilter\",\"hcpId\":\"%s\"}",
             opt->patient_id);
    if (!prepare_entities(&cd, opt, self_secret, anon_secret)
        || cardea_ackey__derive(anon_key, anon_secret, ENTITY_TYPE)
               != CARDEA_OK) {
        fprintf(stderr, "cardea_bench_load: cannot build the entities\n");
        goto out;
    }

    create = (phase){.name = "POST helement (create)",
                     .port = opt->cardea_port, .prepare = prepare_create,
                     .data = &cd, .headers = hcp_lines,
                     .requests = opt->entities,
                     .max_seconds = opt->phase_seconds};
    gd = (get_data){cd.ids, opt->entities};
    get_cardea = (phase){.name = "GET helement/{id}, cardea",
                         .port = opt->cardea_port, .prepare = prepare_get,
                         .data = &gd, .headers = hcp_lines,
                         .requests = opt->get_requests,
                         .max_seconds = opt->phase_seconds};
    get_bare = (phase){.name = "GET helement/{id}, bare floor",
                       .port = opt->bare_port, .prepare = prepare_get,
                       .data = &gd, .headers = NULL,
                       .requests = opt->get_requests,
                       .max_seconds = opt->phase_seconds};
    if (!run_phase(&create, opt->threads)) {
        goto out;
    }
    /* Only the ids created in time are read. */
    gd.id_count = create.done > 0 ? create.done : 1;
    if (!run_phase(&get_cardea, opt->threads)
        || !run_phase(&get_bare, opt->threads)
        || !run_matches(matches, opt, tok, anon_key, &md)) {
        goto out;
    }
    print_results(&create, &get_cardea, &get_bare, matches);
    status = 0;
out:
    free(create.latencies_ms);
    free(get_cardea.latencies_ms);
    free(get_bare.latencies_ms);
    for (size_t k = 0; k < KEY_STEPS; k++) {
        free(matches[k].latencies_ms);
    }
    free_entities(&cd, opt->entities);
    cardea_wipe(self_secret, sizeof self_secret);
    cardea_wipe(anon_secret, sizeof anon_secret);
    cardea_wipe(anon_key, sizeof anon_key);
    cardea_wipe(auth, sizeof auth);
    return status;
}

/* ---- command line ------------------------------------------------------- */

static bool
parse_number(unsigned *out, const char *text, unsigned min, unsigned max)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min
        || value > max) {
        fprintf(stderr, "cardea_bench_load: invalid number '%s' (allowed "
                        "%u to %u)\n", text, min, max);
        return false;
    }
    *out = (unsigned)value;
    return true;
}

static bool
parse_option(options *opt, const char *name, const char *value)
{
    static const struct {
        const char *name;
        size_t offset;
        unsigned min;
        unsigned max;
    } numbers[] = {
        {"--cardea-port", offsetof(options, cardea_port), 1, 65535},
        {"--bare-port", offsetof(options, bare_port), 1, 65535},
        {"--entities", offsetof(options, entities), 1, 10000000},
        {"--shared-every", offsetof(options, shared_every), 1, 10000000},
        {"--threads", offsetof(options, threads), 1, MAX_THREADS},
        {"--get-requests", offsetof(options, get_requests), 1, 10000000},
        {"--match-requests", offsetof(options, match_requests), 1, 10000000},
        {"--phase-seconds", offsetof(options, phase_seconds), 1, 3600},
    };
    static const struct {
        const char *name;
        size_t offset;
    } strings[] = {
        {"--hcp-login", offsetof(options, hcp_login)},
        {"--hcp-id", offsetof(options, hcp_id)},
        {"--patient-login", offsetof(options, patient_login)},
        {"--patient-id", offsetof(options, patient_id)},
        {"--password-file", offsetof(options, password_file)},
    };

    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        if (strcmp(name, numbers[i].name) == 0) {
            return parse_number((unsigned *)((char *)opt + numbers[i].offset),
                                value, numbers[i].min, numbers[i].max);
        }
    }
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        if (strcmp(name, strings[i].name) == 0) {
            *(const char **)((char *)opt + strings[i].offset) = value;
            return true;
        }
    }
    fprintf(stderr, "cardea_bench_load: unknown option '%s'\n", name);
    return false;
}

static bool
parse_options(options *opt, int argc, char **argv)
{
    if (argc % 2 == 0) {
        return false;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!parse_option(opt, argv[i], argv[i + 1])) {
            return false;
        }
    }
    return opt->cardea_port != 0 && opt->bare_port != 0
           && opt->hcp_login != NULL && opt->hcp_id != NULL
           && opt->patient_login != NULL && opt->patient_id != NULL
           && opt->password_file != NULL;
}

static bool
open_handles(unsigned count)
{
    for (unsigned t = 0; t < count; t++) {
        handles[t] = curl_easy_init();
        if (handles[t] == NULL) {
            return false;
        }
        curl_easy_setopt(handles[t], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handles[t], CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(handles[t], CURLOPT_CONNECTTIMEOUT, 5L);
    }
    return true;
}

static bool
log_in(tokens *tok, const options *opt)
{
    char password[1024];

    if (!read_password(password, sizeof password, opt->password_file)) {
        fprintf(stderr, "cardea_bench_load: cannot read a password from "
                        "%s\n", opt->password_file);
        return false;
    }
    tok->hcp = login(opt->cardea_port, opt->hcp_login, password);
    tok->patient = login(opt->cardea_port, opt->patient_login, password);
    cardea_wipe(password, sizeof password);
    return tok->hcp != NULL && tok->patient != NULL;
}

static void
free_token(char *token)
{
    if (token != NULL) {
        cardea_wipe(token, strlen(token));
        cardea_free(token);
    }
}

int
main(int argc, char **argv)
{
    options opt = {.entities = 10000, .shared_every = 100, .threads = 4,
                   .get_requests = 20000, .match_requests = 2000,
                   .phase_seconds = 60};
    tokens tok = {NULL, NULL};
    int status = 1;

    if (!parse_options(&opt, argc, argv)) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return 1;
    }
    if (open_handles(opt.threads) && log_in(&tok, &opt)) {
        printf("# %u entities, %u client threads, keep-alive, at most %u s "
               "per phase\n", opt.entities, opt.threads, opt.phase_seconds);
        status = run_benchmark(&opt, &tok);
    }
    free_token(tok.hcp);
    free_token(tok.patient);
    for (unsigned t = 0; t < MAX_THREADS; t++) {
        curl_easy_cleanup(handles[t]);
    }
    curl_global_cleanup();
    return status;
}
