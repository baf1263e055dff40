/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the key store: folder creation and permission checks, atomic
 * 0600 writes, entry names, the private-key and verification-map
 * formats, and rejection of unsafe files and names.
 */
#define _XOPEN_SOURCE 700
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

#include "sdk/sdk.h"
#include "test_server.h"

#define OWNER "4b4e1a9e-30a2-4f40-9d5e-3a1c2d0b7f11"
#define FP "e245e8d56f327f9f4b11150203010001"
#define BOOL_AND_TEXT "{\"a\":true,\"b\":\"yes\"}"

typedef struct fixture {
    char root[64];                 /* private temporary folder */
    char dir[96];                  /* key store folder inside it */
    char errmsg[256];
} fixture;

static int
setup(void **state)
{
    fixture *fx = cardea_mem__calloc(1, sizeof *fx);

    assert_non_null(fx);
    snprintf(fx->root, sizeof fx->root, "/tmp/cardea-keystore-test-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(fx->dir, sizeof fx->dir, "%s/keys", fx->root);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture *fx = *state;

    test_server_remove_tree(fx->root);
    cardea_mem__free(fx);
    return 0;
}

static mode_t
mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Number of entries in `dir`, "." and ".." excluded. */
static int
entry_count(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

static void
test_keystore__creates_private_folder(void **state)
{
    fixture *fx = *state;
    cardea_keystore *store = NULL;

    assert_int_equal(cardea_keystore__open(&store, fx->dir, fx->errmsg,
                                           sizeof fx->errmsg),
                     CARDEA_OK);
    assert_int_equal(mode_of(fx->dir), 0700);
    cardea_keystore__close(store);
}

static void
test_keystore__rejects_shared_folder(void **state)
{
    fixture *fx = *state;
    cardea_keystore *sentinel = (cardea_keystore *)fx;
    cardea_keystore *store = sentinel;

    assert_int_equal(mkdir(fx->dir, 0700), 0);
    assert_int_equal(chmod(fx->dir, 0750), 0);
    assert_int_equal(cardea_keystore__open(&store, fx->dir, fx->errmsg,
                                           sizeof fx->errmsg),
                     CARDEA_EACCESS);
    assert_ptr_equal(store, sentinel);
    assert_non_null(strstr(fx->errmsg, "accessible by group or others"));
    assert_non_null(strstr(fx->errmsg, "0750"));

    assert_int_equal(chmod(fx->dir, 0701), 0);
    assert_int_equal(cardea_keystore__open(&store, fx->dir, fx->errmsg,
                                           sizeof fx->errmsg),
                     CARDEA_EACCESS);
    assert_ptr_equal(store, sentinel);
}

static void
test_keystore__rejects_file_and_link(void **state)
{
    fixture *fx = *state;
    cardea_keystore *sentinel = (cardea_keystore *)fx;
    cardea_keystore *store = sentinel;
    char target[128];
    FILE *f;

    f = fopen(fx->dir, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(cardea_keystore__open(&store, fx->dir, fx->errmsg,
                                           sizeof fx->errmsg),
                     CARDEA_EIO);
    assert_ptr_equal(store, sentinel);
    assert_int_equal(unlink(fx->dir), 0);

    /* A symbolic link to a private folder is still refused. */
    snprintf(target, sizeof target, "%s/real", fx->root);
    assert_int_equal(mkdir(target, 0700), 0);
    assert_int_equal(symlink(target, fx->dir), 0);
    assert_int_equal(cardea_keystore__open(&store, fx->dir, fx->errmsg,
                                           sizeof fx->errmsg),
                     CARDEA_EIO);
    assert_ptr_equal(store, sentinel);

    assert_int_equal(cardea_keystore__open(&store, "", fx->errmsg,
                                           sizeof fx->errmsg),
                     CARDEA_EINVAL);
    assert_ptr_equal(store, sentinel);
}

static void
test_keystore__writes_private_files(void **state)
{
    fixture *fx = *state;
    cardea_keystore *store = NULL;
    char path[160];
    uint8_t *data = NULL;
    size_t len = 0;

    assert_int_equal(cardea_keystore__open(&store, fx->dir, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__put(store, "entry.one",
                                          (const uint8_t *)"first", 5, NULL,
                                          0),
                     CARDEA_OK);
    snprintf(path, sizeof path, "%s/entry.one", fx->dir);
    assert_int_equal(mode_of(path), 0600);

    /* Overwrite: the new content replaces the old, no temporary stays. */
    assert_int_equal(cardea_keystore__put(store, "entry.one",
                                          (const uint8_t *)"second!", 7,
                                          NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__get(&data, &len, store, "entry.one",
                                          NULL, 0),
                     CARDEA_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(data, "second!", 7);
    assert_int_equal(data[len], 0);
    assert_int_equal(entry_count(fx->dir), 1);
    cardea_mem__free_secret(data, len + 1);

    assert_int_equal(cardea_keystore__remove(store, "entry.one"), CARDEA_OK);
    assert_int_equal(cardea_keystore__remove(store, "entry.one"),
                     CARDEA_ENOTFOUND);
    cardea_keystore__close(store);
}

static void
test_keystore__missing_entry_untouched(void **state)
{
    fixture *fx = *state;
    cardea_keystore *store = NULL;
    uint8_t *sentinel = (uint8_t *)fx;
    uint8_t *data = sentinel;
    size_t len = 99;

    assert_int_equal(cardea_keystore__open(&store, fx->dir, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__get(&data, &len, store, "absent",
                                          NULL, 0),
                     CARDEA_ENOTFOUND);
    assert_ptr_equal(data, sentinel);
    assert_int_equal(len, 99);
    cardea_keystore__close(store);
}

static void
test_keystore__rejects_unsafe_names(void **state)
{
    static const char *const bad[] = {"", ".hidden", "../escape", "a/b",
                                      "a..b", "sp ace", "new\nline"};
    fixture *fx = *state;
    cardea_keystore *store = NULL;
    uint8_t *data = NULL;
    size_t len = 0;

    assert_int_equal(cardea_keystore__open(&store, fx->dir, NULL, 0),
                     CARDEA_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cardea_keystore__put(store, bad[i],
                                              (const uint8_t *)"x", 1, NULL,
                                              0),
                         CARDEA_EINVAL);
        assert_int_equal(cardea_keystore__get(&data, &len, store, bad[i],
                                              NULL, 0),
                         CARDEA_EINVAL);
        assert_null(data);
    }
    assert_int_equal(entry_count(fx->dir), 0);
    cardea_keystore__close(store);
}

static void
test_keystore__rejects_shared_file(void **state)
{
    fixture *fx = *state;
    cardea_keystore *store = NULL;
    char path[160];
    char target[160];
    uint8_t *data = NULL;
    size_t len = 0;

    assert_int_equal(cardea_keystore__open(&store, fx->dir, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__put(store, "shared",
                                          (const uint8_t *)"x", 1, NULL, 0),
                     CARDEA_OK);
    snprintf(path, sizeof path, "%s/shared", fx->dir);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(cardea_keystore__get(&data, &len, store, "shared",
                                          fx->errmsg, sizeof fx->errmsg),
                     CARDEA_EACCESS);
    assert_null(data);
    assert_non_null(strstr(fx->errmsg, "chmod 600"));

    snprintf(target, sizeof target, "%s/elsewhere", fx->root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(cardea_keystore__get(&data, &len, store, "shared",
                                          NULL, 0),
                     CARDEA_EACCESS);
    assert_null(data);
    cardea_keystore__close(store);
}

static void
test_keystore__key_entry_format(void **state)
{
    fixture *fx = *state;
    cardea_keystore *store = NULL;
    const uint8_t der[] = {0x30, 0x82, 0x01, 0x02, 0xff, 0x00, 0x7e};
    char name[256];
    char path[400];
    uint8_t *text = NULL;
    uint8_t *out = NULL;
    size_t len = 0;
    cardea_keystore_kind kind = 0;

    assert_int_equal(cardea_keystore__open(&store, fx->dir, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__save_key(store,
                                               CARDEA_KEYSTORE_RECOVERED,
                                               OWNER, FP, der, sizeof der,
                                               NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__key_name(name, sizeof name,
                                               CARDEA_KEYSTORE_RECOVERED,
                                               OWNER, FP),
                     CARDEA_OK);
    assert_string_equal(name, "org.taktik.icure.rsa.recovered." OWNER
                              "." FP);
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(cardea_keystore__get(&text, &len, store, name, NULL, 0),
                     CARDEA_OK);
    assert_string_equal((char *)text, "{\"privateKey\":\"MIIBAv8Afg==\"}");
    cardea_mem__free_secret(text, len + 1);

    assert_int_equal(cardea_keystore__load_key(&out, &len, &kind, store,
                                               OWNER, FP, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(kind, CARDEA_KEYSTORE_RECOVERED);
    assert_int_equal(len, sizeof der);
    assert_memory_equal(out, der, sizeof der);
    cardea_mem__free_secret(out, len);

    /* A device entry for the same key wins over the recovered one. */
    assert_int_equal(cardea_keystore__save_key(store, CARDEA_KEYSTORE_DEVICE,
                                               OWNER, FP, der, 3, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__load_key(&out, &len, &kind, store,
                                               OWNER, FP, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(kind, CARDEA_KEYSTORE_DEVICE);
    assert_int_equal(len, 3);
    cardea_mem__free_secret(out, len);
    cardea_keystore__close(store);
}

static void
test_keystore__key_entry_errors(void **state)
{
    fixture *fx = *state;
    cardea_keystore *store = NULL;
    uint8_t *sentinel = (uint8_t *)fx;
    uint8_t *out = sentinel;
    size_t len = 5;
    cardea_keystore_kind kind = 0;
    const uint8_t der[] = {1, 2, 3};
    char name[256];

    assert_int_equal(cardea_keystore__open(&store, fx->dir, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__load_key(&out, &len, &kind, store,
                                               OWNER, FP, NULL, 0),
                     CARDEA_ENOTFOUND);
    assert_ptr_equal(out, sentinel);
    assert_int_equal(cardea_keystore__save_key(store, CARDEA_KEYSTORE_DEVICE,
                                               "bad/owner", FP, der, 3,
                                               NULL, 0),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_keystore__save_key(store, CARDEA_KEYSTORE_DEVICE,
                                               OWNER, "notafingerprint",
                                               der, 3, NULL, 0),
                     CARDEA_EINVAL);
    assert_int_equal(cardea_keystore__key_name(name, sizeof name,
                                               CARDEA_KEYSTORE_DEVICE, OWNER,
                                               FP),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__put(store, name,
                                          (const uint8_t *)"{\"jwk\":1}", 9,
                                          NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__load_key(&out, &len, &kind, store,
                                               OWNER, FP, fx->errmsg,
                                               sizeof fx->errmsg),
                     CARDEA_EFORMAT);
    assert_ptr_equal(out, sentinel);
    assert_int_equal(len, 5);
    assert_non_null(strstr(fx->errmsg, "privateKey"));
    cardea_keystore__close(store);
}

static void
test_keystore__verification_map(void **state)
{
    fixture *fx = *state;
    cardea_keystore *store = NULL;
    json_t *map = NULL;
    json_t *saved;
    uint8_t *text = NULL;
    size_t len = 0;

    assert_int_equal(cardea_keystore__open(&store, fx->dir, NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__load_verification(&map, store, OWNER,
                                                        NULL, 0),
                     CARDEA_OK);
    assert_int_equal(json_object_size(map), 0);
    json_decref(map);

    saved = json_pack("{s:b,s:b}", FP, 1, "00112233445566778899aabbccddeeff",
                      0);
    assert_int_equal(cardea_keystore__save_verification(store, OWNER, saved,
                                                        NULL, 0),
                     CARDEA_OK);
    json_decref(saved);
    assert_int_equal(cardea_keystore__get(&text, &len, store,
                                          "org.taktik.icure.rsa." OWNER
                                          ".verification.self",
                                          NULL, 0),
                     CARDEA_OK);
    assert_non_null(strstr((char *)text, "\"" FP "\":true"));
    cardea_mem__free_secret(text, len + 1);

    /* Members that are no booleans are dropped on load. */
    assert_int_equal(cardea_keystore__put(store,
                                          "org.taktik.icure.rsa." OWNER
                                          ".verification.self",
                                          (const uint8_t *)BOOL_AND_TEXT,
                                          strlen(BOOL_AND_TEXT), NULL, 0),
                     CARDEA_OK);
    assert_int_equal(cardea_keystore__load_verification(&map, store, OWNER,
                                                        NULL, 0),
                     CARDEA_OK);
    assert_int_equal(json_object_size(map), 1);
    assert_true(json_is_true(json_object_get(map, "a")));
    json_decref(map);
    cardea_keystore__close(store);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keystore__creates_private_folder,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore__rejects_shared_folder,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore__rejects_file_and_link,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore__writes_private_files,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_keystore__missing_entry_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore__rejects_unsafe_names,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore__rejects_shared_file,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore__key_entry_format,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore__key_entry_errors,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore__verification_map,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
