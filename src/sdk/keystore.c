/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key store: one file per entry in a private folder, named as the
 * official SDK names its storage entries (org.taktik.icure.rsa.device.
 * <dataOwnerId>.<fpV1> and so on). Private keys are stored as
 * {"privateKey": "<base64 of DER PKCS#8>"}, the official SDK's
 * JsonAndBase64KeyStorage format. Files are mode 0600 in a folder of mode
 * 0700, written atomically, and every access goes through the folder's
 * descriptor with O_NOFOLLOW, so a swapped path or a symbolic link cannot
 * redirect a key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdk/sdk.h"

#define ENTRY_PREFIX "org.taktik.icure.rsa."
/* Maximum entry name length: prefix, kind, a 128-character id and a
 * fingerprint. */
#define ENTRY_NAME_MAX 256

struct cardea_keystore {
    int dir_fd;
    char *path;
};

/* Checks mode and owner of the opened folder. */
static cardea_err
check_dir(int fd, const char *dir, char *errmsg, size_t errmsg_cap)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "cannot inspect key store "
                           "folder %s: %s", dir, strerror(errno));
        return CARDEA_EIO;
    }
    if (st.st_uid != geteuid()) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "key store folder %s belongs "
                           "to another user (uid %u); use a folder you own",
                           dir, (unsigned)st.st_uid);
        return CARDEA_EACCESS;
    }
    if ((st.st_mode & 077) != 0) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "key store folder %s is "
                           "accessible by group or others (mode %04o); run "
                           "chmod 700 on it", dir,
                           (unsigned)(st.st_mode & 07777));
        return CARDEA_EACCESS;
    }
    return CARDEA_OK;
}

cardea_err
cardea_keystore__open(cardea_keystore **out, const char *dir, char *errmsg,
                      size_t errmsg_cap)
{
    cardea_keystore *store;
    cardea_err err;
    int fd;

    if (out == NULL || dir == NULL || dir[0] == 0) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "no key store folder given");
        return CARDEA_EINVAL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "cannot create key store "
                           "folder %s: %s", dir, strerror(errno));
        return CARDEA_EIO;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "cannot open key store folder "
                           "%s: %s", dir, strerror(errno));
        return CARDEA_EIO;
    }
    if ((err = check_dir(fd, dir, errmsg, errmsg_cap)) != CARDEA_OK) {
        close(fd);
        return err;
    }
    store = cardea_mem__calloc(1, sizeof *store);
    if (store == NULL || (store->path = cardea_mem__strdup(dir)) == NULL) {
        cardea_mem__free(store);
        close(fd);
        cardea_sdk__errmsg(errmsg, errmsg_cap, "out of memory");
        return CARDEA_ENOMEM;
    }
    store->dir_fd = fd;
    *out = store;
    return CARDEA_OK;
}

void
cardea_keystore__close(cardea_keystore *store)
{
    if (store == NULL) {
        return;
    }
    close(store->dir_fd);
    cardea_mem__free(store->path);
    cardea_mem__free(store);
}

static bool
name_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
           c == ':';
}

/* A plain file name: allowed characters only, no leading '.', no "..". */
static bool
name_ok(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > ENTRY_NAME_MAX || name[0] == '.' ||
        strstr(name, "..") != NULL) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!name_char_ok(name[i])) {
            return false;
        }
    }
    return true;
}

static cardea_err
write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return CARDEA_EIO;
        }
        data += n;
        len -= (size_t)n;
    }
    return CARDEA_OK;
}

cardea_err
cardea_keystore__put(cardea_keystore *store, const char *name,
                     const uint8_t *data, size_t len, char *errmsg,
                     size_t errmsg_cap)
{
    char tmp[ENTRY_NAME_MAX + 32];
    char suffix[17];
    uint8_t rnd[8];
    cardea_err err;
    int fd;

    if (store == NULL || name == NULL || (data == NULL && len > 0) ||
        !name_ok(name)) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "invalid key store entry name");
        return CARDEA_EINVAL;
    }
    /* A random suffix keeps concurrent writers of one entry apart. */
    cardea_random__bytes(rnd, sizeof rnd);
    if (cardea_hex__encode(suffix, sizeof suffix, rnd, sizeof rnd) !=
        CARDEA_OK) {
        return CARDEA_EINVAL;
    }
    snprintf(tmp, sizeof tmp, ".%s.%s.tmp", name, suffix);
    fd = openat(store->dir_fd, tmp,
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "cannot create a file in key "
                           "store %s: %s", store->path, strerror(errno));
        return CARDEA_EIO;
    }
    err = write_all(fd, data, len);
    if (err == CARDEA_OK && fsync(fd) != 0) {
        err = CARDEA_EIO;
    }
    if (close(fd) != 0) {
        err = CARDEA_EIO;
    }
    if (err == CARDEA_OK &&
        renameat(store->dir_fd, tmp, store->dir_fd, name) != 0) {
        err = CARDEA_EIO;
    }
    if (err != CARDEA_OK) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "cannot write %s in key store "
                           "%s: %s", name, store->path, strerror(errno));
        unlinkat(store->dir_fd, tmp, 0);
        return err;
    }
    /* Make the rename itself durable. */
    fsync(store->dir_fd);
    return CARDEA_OK;
}

static cardea_err
read_all(uint8_t *out, int fd, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = read(fd, out + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return CARDEA_EIO;
        }
        done += (size_t)n;
    }
    return CARDEA_OK;
}

/* Checks an opened entry and returns its size. */
static cardea_err
check_file(size_t *size, int fd, const cardea_keystore *store,
           const char *name, char *errmsg, size_t errmsg_cap)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "cannot inspect %s in key "
                           "store %s: %s", name, store->path, strerror(errno));
        return CARDEA_EIO;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
        st.st_uid != geteuid()) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "key store file %s/%s is not a "
                           "private regular file (mode %04o); run chmod 600 "
                           "on it", store->path, name,
                           (unsigned)(st.st_mode & 07777));
        return CARDEA_EACCESS;
    }
    if ((uint64_t)st.st_size > CARDEA_KEYSTORE_MAX_FILE) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "key store file %s/%s is over "
                           "%zu bytes", store->path, name,
                           CARDEA_KEYSTORE_MAX_FILE);
        return CARDEA_ETOOBIG;
    }
    *size = (size_t)st.st_size;
    return CARDEA_OK;
}

cardea_err
cardea_keystore__get(uint8_t **out, size_t *out_len, cardea_keystore *store,
                     const char *name, char *errmsg, size_t errmsg_cap)
{
    uint8_t *data = NULL;
    size_t size = 0;
    cardea_err err;
    int fd;

    if (out == NULL || out_len == NULL || store == NULL || name == NULL ||
        !name_ok(name)) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "invalid key store entry name");
        return CARDEA_EINVAL;
    }
    fd = openat(store->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return CARDEA_ENOTFOUND;
        }
        cardea_sdk__errmsg(errmsg, errmsg_cap, "cannot open %s in key store "
                           "%s: %s", name, store->path, strerror(errno));
        return errno == ELOOP ? CARDEA_EACCESS : CARDEA_EIO;
    }
    if ((err = check_file(&size, fd, store, name, errmsg, errmsg_cap)) !=
        CARDEA_OK) {
        goto out;
    }
    if ((data = cardea_mem__alloc(size + 1)) == NULL) {
        err = CARDEA_ENOMEM;
        goto out;
    }
    if ((err = read_all(data, fd, size)) != CARDEA_OK) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "cannot read %s in key store %s",
                           name, store->path);
        goto out;
    }
    data[size] = 0;
    *out = data;
    *out_len = size;
    data = NULL;

out:
    cardea_mem__free_secret(data, size + 1);
    close(fd);
    return err;
}

cardea_err
cardea_keystore__remove(cardea_keystore *store, const char *name)
{
    if (store == NULL || name == NULL || !name_ok(name)) {
        return CARDEA_EINVAL;
    }
    if (unlinkat(store->dir_fd, name, 0) != 0) {
        return errno == ENOENT ? CARDEA_ENOTFOUND : CARDEA_EIO;
    }
    return CARDEA_OK;
}

cardea_err
cardea_keystore__key_name(char *out, size_t out_cap,
                          cardea_keystore_kind kind, const char *owner_id,
                          const char *fp_v1)
{
    const char *kind_name;
    int n;

    if (out == NULL || owner_id == NULL || fp_v1 == NULL ||
        strlen(fp_v1) != CARDEA_FP_V1_LEN ||
        !cardea_hex__is_valid(fp_v1, CARDEA_FP_V1_LEN)) {
        return CARDEA_EINVAL;
    }
    kind_name = kind == CARDEA_KEYSTORE_DEVICE      ? "device"
                : kind == CARDEA_KEYSTORE_RECOVERED ? "recovered"
                                                    : NULL;
    if (kind_name == NULL) {
        return CARDEA_EINVAL;
    }
    n = snprintf(out, out_cap, ENTRY_PREFIX "%s.%s.%s", kind_name, owner_id,
                 fp_v1);
    if (n < 0 || (size_t)n >= out_cap) {
        return CARDEA_ETOOBIG;
    }
    return name_ok(out) ? CARDEA_OK : CARDEA_EINVAL;
}

static cardea_err
verification_name(char *out, size_t out_cap, const char *owner_id)
{
    int n = snprintf(out, out_cap, ENTRY_PREFIX "%s.verification.self",
                     owner_id);

    if (n < 0 || (size_t)n >= out_cap) {
        return CARDEA_ETOOBIG;
    }
    return name_ok(out) ? CARDEA_OK : CARDEA_EINVAL;
}

cardea_err
cardea_keystore__save_key(cardea_keystore *store, cardea_keystore_kind kind,
                          const char *owner_id, const char *fp_v1,
                          const uint8_t *pkcs8, size_t pkcs8_len,
                          char *errmsg, size_t errmsg_cap)
{
    static const char head[] = "{\"privateKey\":\"";
    static const char tail[] = "\"}";
    char name[ENTRY_NAME_MAX + 1];
    char *b64 = NULL;
    cardea_buf text;
    cardea_err err;

    if (store == NULL || pkcs8 == NULL || pkcs8_len == 0) {
        return CARDEA_EINVAL;
    }
    err = cardea_keystore__key_name(name, sizeof name, kind, owner_id,
                                    fp_v1);
    if (err != CARDEA_OK) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "data owner id %s cannot be "
                           "part of a key store entry name", owner_id);
        return err;
    }
    cardea_buf__init(&text, 0);
    if ((err = cardea_base64__encode_alloc(&b64, pkcs8, pkcs8_len)) !=
            CARDEA_OK ||
        (err = cardea_buf__append(&text, head, sizeof head - 1)) !=
            CARDEA_OK ||
        (err = cardea_buf__append_str(&text, b64)) != CARDEA_OK ||
        (err = cardea_buf__append(&text, tail, sizeof tail - 1)) !=
            CARDEA_OK) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "out of memory");
        goto out;
    }
    err = cardea_keystore__put(store, name, text.data, text.len, errmsg,
                               errmsg_cap);

out:
    if (b64 != NULL) {
        cardea_mem__free_secret(b64, strlen(b64));
    }
    cardea_buf__free(&text, true);
    return err;
}

/* Decodes {"privateKey": "<base64>"} into DER bytes. */
static cardea_err
decode_key_entry(uint8_t **out, size_t *out_len, const uint8_t *text,
                 size_t text_len)
{
    json_t *value = NULL;
    json_t *member;
    cardea_err err;

    err = cardea_json__parse(&value, (const char *)text, text_len, NULL, 0);
    if (err != CARDEA_OK) {
        return err;
    }
    member = json_object_get(value, "privateKey");
    if (!json_is_string(member)) {
        err = CARDEA_EFORMAT;
    } else {
        err = cardea_base64__decode_alloc(out, out_len,
                                          json_string_value(member),
                                          json_string_length(member));
        cardea_wipe((char *)json_string_value(member),
                    json_string_length(member));
    }
    json_decref(value);
    return err == CARDEA_ENOMEM ? err : err != CARDEA_OK ? CARDEA_EFORMAT
                                                         : CARDEA_OK;
}

cardea_err
cardea_keystore__load_key(uint8_t **out, size_t *out_len,
                          cardea_keystore_kind *kind, cardea_keystore *store,
                          const char *owner_id, const char *fp_v1,
                          char *errmsg, size_t errmsg_cap)
{
    static const cardea_keystore_kind order[] = {CARDEA_KEYSTORE_DEVICE,
                                                 CARDEA_KEYSTORE_RECOVERED};
    char name[ENTRY_NAME_MAX + 1];
    uint8_t *text = NULL;
    size_t text_len = 0;
    cardea_err err = CARDEA_ENOTFOUND;

    if (out == NULL || out_len == NULL || kind == NULL || store == NULL) {
        return CARDEA_EINVAL;
    }
    for (size_t i = 0; i < 2 && err == CARDEA_ENOTFOUND; i++) {
        err = cardea_keystore__key_name(name, sizeof name, order[i],
                                        owner_id, fp_v1);
        if (err != CARDEA_OK) {
            cardea_sdk__errmsg(errmsg, errmsg_cap, "data owner id %s cannot "
                               "be part of a key store entry name", owner_id);
            return err;
        }
        err = cardea_keystore__get(&text, &text_len, store, name, errmsg,
                                   errmsg_cap);
        if (err == CARDEA_OK) {
            err = decode_key_entry(out, out_len, text, text_len);
            cardea_mem__free_secret(text, text_len + 1);
            if (err == CARDEA_EFORMAT) {
                cardea_sdk__errmsg(errmsg, errmsg_cap, "key store file %s/%s "
                                   "is not {\"privateKey\": base64}",
                                   store->path, name);
            }
            if (err == CARDEA_OK) {
                *kind = order[i];
            }
        }
    }
    return err;
}

cardea_err
cardea_keystore__load_verification(json_t **out, cardea_keystore *store,
                                   const char *owner_id, char *errmsg,
                                   size_t errmsg_cap)
{
    char name[ENTRY_NAME_MAX + 1];
    uint8_t *text = NULL;
    size_t text_len = 0;
    json_t *value = NULL;
    json_t *map;
    const char *fp;
    json_t *item;
    cardea_err err;

    if (out == NULL || store == NULL || owner_id == NULL ||
        verification_name(name, sizeof name, owner_id) != CARDEA_OK) {
        return CARDEA_EINVAL;
    }
    if ((map = json_object()) == NULL) {
        return CARDEA_ENOMEM;
    }
    err = cardea_keystore__get(&text, &text_len, store, name, errmsg,
                               errmsg_cap);
    if (err == CARDEA_ENOTFOUND) {
        *out = map;
        return CARDEA_OK;
    }
    if (err == CARDEA_OK) {
        err = cardea_json__parse(&value, (const char *)text, text_len, NULL,
                                 0);
        cardea_mem__free_secret(text, text_len + 1);
    }
    if (err == CARDEA_EFORMAT || (err == CARDEA_OK && !json_is_object(value))) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "key store file %s/%s is no "
                           "JSON object", store->path, name);
        err = CARDEA_EFORMAT;
    }
    if (err == CARDEA_OK) {
        json_object_foreach(value, fp, item) {
            if (json_is_boolean(item) &&
                json_object_set(map, fp, item) != 0) {
                err = CARDEA_ENOMEM;
                break;
            }
        }
    }
    json_decref(value);
    if (err != CARDEA_OK) {
        json_decref(map);
        return err;
    }
    *out = map;
    return CARDEA_OK;
}

cardea_err
cardea_keystore__save_verification(cardea_keystore *store,
                                   const char *owner_id, const json_t *map,
                                   char *errmsg, size_t errmsg_cap)
{
    char name[ENTRY_NAME_MAX + 1];
    char *text;
    cardea_err err;

    if (store == NULL || owner_id == NULL || !json_is_object(map) ||
        verification_name(name, sizeof name, owner_id) != CARDEA_OK) {
        cardea_sdk__errmsg(errmsg, errmsg_cap, "invalid verification map or "
                           "owner id");
        return CARDEA_EINVAL;
    }
    if ((text = cardea_json__dump(map)) == NULL) {
        return CARDEA_ENOMEM;
    }
    err = cardea_keystore__put(store, name, (const uint8_t *)text,
                               strlen(text), errmsg, errmsg_cap);
    cardea_mem__free(text);
    return err;
}
