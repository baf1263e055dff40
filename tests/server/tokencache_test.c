/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the verified-token cache and of bearer authentication through
 * it. The cache tests drive cardea_tokencache__* with chosen digests and
 * clock values. The authentication tests issue real HS256 tokens with a
 * server struct that has only its keys, grace period and cache. They
 * check that a cached token is still rejected once `exp` plus the grace
 * period has passed. They also check that tampered tokens and refresh
 * tokens never enter the cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "server/server_internal.h"

#define GRACE_S 60

static char user_id[] = "user-1";
static char owner_id[] = "hcp-1";
static char parent_id[] = "hcp-0";
static char *ancestors[] = {parent_id};

static const cardea_caller hcp = {
    user_id, owner_id, CARDEA_DO_HCP, ancestors, 1,
};

static void
digest_with(uint8_t out[CARDEA_SHA256_LEN], uint8_t set_low,
            uint8_t set_high, uint8_t tag)
{
    memset(out, tag, CARDEA_SHA256_LEN);
    out[0] = set_low;
    out[1] = set_high;
}

static void
assert_caller_is_hcp(const cardea_caller *caller)
{
    assert_string_equal(caller->user_id, "user-1");
    assert_string_equal(caller->data_owner_id, "hcp-1");
    assert_int_equal(caller->type, CARDEA_DO_HCP);
    assert_int_equal(caller->ancestor_count, 1);
    assert_string_equal(caller->ancestors[0], "hcp-0");
}

static void
test_tokencache__hit_until_grace_ends(void **state)
{
    cardea_tokencache *cache = NULL;
    cardea_caller out = {0};
    uint8_t digest[CARDEA_SHA256_LEN];

    (void)state;
    assert_int_equal(cardea_tokencache__new(&cache), CARDEA_OK);
    digest_with(digest, 1, 0, 0xaa);
    cardea_tokencache__put(cache, digest, &hcp, 1000);

    assert_int_equal(cardea_tokencache__get(&out, cache, digest, 900,
                                            GRACE_S), CARDEA_OK);
    assert_caller_is_hcp(&out);
    /* The entry is a copy: the cache does not hand out its own. */
    assert_ptr_not_equal(out.user_id, user_id);
    cardea_caller__clear(&out);

    assert_int_equal(cardea_tokencache__get(&out, cache, digest,
                                            1000 + GRACE_S, GRACE_S),
                     CARDEA_OK);
    cardea_caller__clear(&out);
    cardea_tokencache__free(cache);
}

static void
test_tokencache__expired_entry_misses(void **state)
{
    cardea_tokencache *cache = NULL;
    cardea_caller out = {0};
    uint8_t digest[CARDEA_SHA256_LEN];

    (void)state;
    assert_int_equal(cardea_tokencache__new(&cache), CARDEA_OK);
    digest_with(digest, 2, 0, 0xbb);
    cardea_tokencache__put(cache, digest, &hcp, 1000);

    assert_int_equal(cardea_tokencache__get(&out, cache, digest,
                                            1000 + GRACE_S + 1, GRACE_S),
                     CARDEA_ENOTFOUND);
    assert_null(out.user_id);
    /* The expired entry is gone, even for a clock that went back. */
    assert_int_equal(cardea_tokencache__get(&out, cache, digest, 900,
                                            GRACE_S), CARDEA_ENOTFOUND);
    assert_null(out.user_id);
    cardea_tokencache__free(cache);
}

static void
test_tokencache__other_digest_misses(void **state)
{
    cardea_tokencache *cache = NULL;
    cardea_caller out = {0};
    uint8_t digest[CARDEA_SHA256_LEN];
    uint8_t other[CARDEA_SHA256_LEN];

    (void)state;
    assert_int_equal(cardea_tokencache__new(&cache), CARDEA_OK);
    digest_with(digest, 3, 0, 0xcc);
    digest_with(other, 3, 0, 0xcc);
    other[CARDEA_SHA256_LEN - 1] ^= 1;
    cardea_tokencache__put(cache, digest, &hcp, 1000);

    assert_int_equal(cardea_tokencache__get(&out, cache, other, 900,
                                            GRACE_S), CARDEA_ENOTFOUND);
    assert_null(out.user_id);
    cardea_tokencache__free(cache);
}

static void
test_tokencache__full_set_evicts_first_expiry(void **state)
{
    cardea_tokencache *cache = NULL;
    cardea_caller out = {0};
    uint8_t digests[5][CARDEA_SHA256_LEN];
    static const int64_t exp[5] = {5000, 3000, 4000, 6000, 7000};

    (void)state;
    assert_int_equal(cardea_tokencache__new(&cache), CARDEA_OK);
    /* Same first two bytes: one set of four ways for five tokens. */
    for (size_t i = 0; i < 5; i++) {
        digest_with(digests[i], 4, 0, (uint8_t)(0x10 + i));
        cardea_tokencache__put(cache, digests[i], &hcp, exp[i]);
    }

    assert_int_equal(cardea_tokencache__get(&out, cache, digests[1], 100,
                                            GRACE_S), CARDEA_ENOTFOUND);
    assert_null(out.user_id);
    for (size_t i = 0; i < 5; i++) {
        if (i == 1) {
            continue;
        }
        assert_int_equal(cardea_tokencache__get(&out, cache, digests[i],
                                                100, GRACE_S),
                         CARDEA_OK);
        cardea_caller__clear(&out);
    }
    cardea_tokencache__free(cache);
}

/* ---- authentication through the cache -------------------------------- */

static cardea_server *
new_server(void)
{
    cardea_server *server = cardea_mem__calloc(1, sizeof *server);

    assert_non_null(server);
    memset(server->access_key, 0x5a, sizeof server->access_key);
    memset(server->refresh_key, 0xa5, sizeof server->refresh_key);
    server->options.token_grace_s = GRACE_S;
    assert_int_equal(cardea_tokencache__new(&server->token_cache),
                     CARDEA_OK);
    return server;
}

static void
free_server(cardea_server *server)
{
    cardea_tokencache__free(server->token_cache);
    cardea_mem__free(server);
}

static void
test_token__cached_token_expires_on_time(void **state)
{
    cardea_server *server = new_server();
    cardea_caller out = {0};
    uint8_t digest[CARDEA_SHA256_LEN];
    char *token = NULL;

    (void)state;
    /* Issued at 1000 for 100 s: accepted up to 1100 + GRACE_S. */
    assert_int_equal(cardea_token__issue(&token, server, &hcp, 1000, 100,
                                         false), CARDEA_OK);
    assert_int_equal(cardea_token__authenticate(&out, server, token, 1050),
                     CARDEA_OK);
    assert_caller_is_hcp(&out);
    cardea_caller__clear(&out);
    cardea_tokencache__digest(digest, token);
    assert_int_equal(cardea_tokencache__get(&out, server->token_cache,
                                            digest, 1050, GRACE_S),
                     CARDEA_OK);
    cardea_caller__clear(&out);

    assert_int_equal(cardea_token__authenticate(&out, server, token,
                                                1100 + GRACE_S),
                     CARDEA_OK);
    assert_caller_is_hcp(&out);
    cardea_caller__clear(&out);

    assert_int_equal(cardea_token__authenticate(&out, server, token,
                                                1100 + GRACE_S + 1),
                     CARDEA_EAUTH);
    assert_null(out.user_id);
    cardea_free(token);
    free_server(server);
}

static void
test_token__tampered_token_never_cached(void **state)
{
    cardea_server *server = new_server();
    cardea_caller out = {0};
    uint8_t digest[CARDEA_SHA256_LEN];
    char *token = NULL;
    char *signature;

    (void)state;
    assert_int_equal(cardea_token__issue(&token, server, &hcp, 1000, 100,
                                         false), CARDEA_OK);
    /* Change the signature's first character, which carries 6 bits. */
    signature = strrchr(token, '.') + 1;
    *signature = *signature == 'A' ? 'B' : 'A';

    for (int attempt = 0; attempt < 2; attempt++) {
        assert_int_equal(cardea_token__authenticate(&out, server, token,
                                                    1050),
                         CARDEA_EAUTH);
        assert_null(out.user_id);
    }
    cardea_tokencache__digest(digest, token);
    assert_int_equal(cardea_tokencache__get(&out, server->token_cache,
                                            digest, 1050, GRACE_S),
                     CARDEA_ENOTFOUND);
    cardea_free(token);
    free_server(server);
}

static void
test_token__refresh_token_rejected(void **state)
{
    cardea_server *server = new_server();
    cardea_caller out = {0};
    char *token = NULL;

    (void)state;
    assert_int_equal(cardea_token__issue(&token, server, &hcp, 1000, 100,
                                         true), CARDEA_OK);
    assert_int_equal(cardea_token__authenticate(&out, server, token, 1050),
                     CARDEA_EAUTH);
    assert_null(out.user_id);
    assert_int_equal(cardea_token__authenticate(&out, server, "", 1050),
                     CARDEA_EAUTH);
    assert_null(out.user_id);
    cardea_free(token);
    free_server(server);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokencache__hit_until_grace_ends),
        cmocka_unit_test(test_tokencache__expired_entry_misses),
        cmocka_unit_test(test_tokencache__other_digest_misses),
        cmocka_unit_test(test_tokencache__full_set_evicts_first_expiry),
        cmocka_unit_test(test_token__cached_token_expires_on_time),
        cmocka_unit_test(test_token__tampered_token_never_cached),
        cmocka_unit_test(test_token__refresh_token_rejected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
