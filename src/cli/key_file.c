/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea key export` and `cardea key import`: the user's verified key
 * pairs in a file encrypted with a passphrase, to carry them to another
 * device. Import hands the pairs to the session through the strategies'
 * recover_and_verify_keys, so they count as verified: the user proved
 * possession of the file and its passphrase. `cardea login --key-file`
 * reads the same files (cardea_cli__key_pairs_read), so a child HCP
 * receives its parent HCP's pairs through an encrypted file as well.
 *
 * File format (JSON, mode 0600, created with O_EXCL):
 *   {"format": "cardea-key-export", "version": 1, "dataOwnerId": ID,
 *    "kdf": {"algorithm": "argon2id", "memoryKiB": M, "iterations": T,
 *            "parallelism": P, "salt": base64 of 16 random bytes},
 *    "cipher": {"algorithm": "aes-256-gcm",
 *               "nonce": base64 of 12 random bytes},
 *    "ciphertext": base64 of the AES-256-GCM ciphertext and its 16-byte
 *                  tag}
 * The AES key is Argon2id(passphrase, salt, T, M, P) with 32 bytes of
 * output. The additional authenticated data is the compact JSON text of
 * the object without "ciphertext", members in file order, so a change to
 * any header field makes decryption fail. The plaintext is
 *   {"keyPairs": [{"dataOwnerId": ID, "privateKey": hex of DER PKCS#8,
 *                  "publicKey": hex of DER SPKI}, ...]}.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/evp.h>

#include "base/base.h"
#include "cli/key.h"
#include "sdk/sdk.h"

#define FORMAT_NAME "cardea-key-export"
#define FORMAT_VERSION 1
/* Argon2id costs written by export: 64 MiB, 3 passes, 1 lane. */
#define KDF_MEMORY_KIB 65536u
#define KDF_ITERATIONS 3u
#define KDF_PARALLELISM 1u
/* Costs accepted on import, to refuse a file that would exhaust memory
 * or time: at most 4 GiB and 64 passes, and the export minimums. */
#define KDF_MEMORY_MAX_KIB (4u << 20)
#define KDF_ITERATIONS_MAX 64u
#define SALT_LEN 16
#define NONCE_LEN 12
#define TAG_LEN 16
#define AES_KEY_LEN 32
#define PASSPHRASE_MAX 1024
#define FILE_MAX ((size_t)1 << 20)

/* ---- AES-256-GCM -------------------------------------------------------- */

/* Encrypts `in` and appends the tag: `out` needs in_len + TAG_LEN. */
static bool
gcm_seal(uint8_t *out, const uint8_t key[AES_KEY_LEN],
         const uint8_t nonce[NONCE_LEN], const uint8_t *aad, size_t aad_len,
         const uint8_t *in, size_t in_len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    int tail = 0;
    bool ok = ctx != NULL && in_len <= INT32_MAX && aad_len <= INT32_MAX;

    ok = ok && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key,
                                  nonce) == 1;
    ok = ok && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1;
    ok = ok && EVP_EncryptUpdate(ctx, out, &len, in, (int)in_len) == 1;
    ok = ok && EVP_EncryptFinal_ex(ctx, out + len, &tail) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                                   out + in_len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

/* Checks the tag and decrypts into `out` (in_len - TAG_LEN bytes). On
 * failure `out` may hold unauthenticated bytes: the caller wipes it. */
static bool
gcm_open(uint8_t *out, const uint8_t key[AES_KEY_LEN],
         const uint8_t nonce[NONCE_LEN], const uint8_t *aad, size_t aad_len,
         const uint8_t *in, size_t in_len)
{
    EVP_CIPHER_CTX *ctx;
    size_t body = in_len - TAG_LEN;
    int len = 0;
    int tail = 0;
    bool ok;

    if (in_len < TAG_LEN || body > INT32_MAX || aad_len > INT32_MAX) {
        return false;
    }
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx != NULL && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL,
                                           key, nonce) == 1;
    ok = ok && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1;
    ok = ok && EVP_DecryptUpdate(ctx, out, &len, in, (int)body) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                                   (void *)(in + body)) == 1;
    ok = ok && EVP_DecryptFinal_ex(ctx, out + len, &tail) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

/* Argon2id with the file's costs; false when libargon2 rejects them. */
static bool
derive(uint8_t key[AES_KEY_LEN], const char *passphrase,
       const uint8_t salt[SALT_LEN], uint32_t memory_kib,
       uint32_t iterations, uint32_t parallelism)
{
    return argon2id_hash_raw(iterations, memory_kib, parallelism,
                             passphrase, strlen(passphrase), salt, SALT_LEN,
                             key, AES_KEY_LEN) == ARGON2_OK;
}

/* ---- export ------------------------------------------------------------- */

static const char export_usage[] =
    "usage: cardea key export --out FILE [OPTIONS]\n"
    "\n"
    "Writes the verified key pairs of the profile's data owner to FILE\n"
    "(mode 0600; an existing file is not replaced), encrypted with a\n"
    "passphrase: Argon2id (64 MiB, 3 passes) then AES-256-GCM. The\n"
    "passphrase comes from $CARDEA_PASSPHRASE, else from a prompt.\n"
    "Read it back on another device with 'cardea key import FILE', or\n"
    "give it to a child HCP: 'cardea login ... --key-file FILE'.\n"
    "\n"
    "  --out FILE        file to create\n" CARDEA_CLI_COMMON_HELP;

/* {"keyPairs": [...]} with every safe key of the user's data owner. */
static json_t *
pairs_json(const cardea_session *session, size_t *count)
{
    size_t self = session->owner_count - 1;
    json_t *pairs = json_array();

    *count = 0;
    for (size_t i = 0; pairs != NULL && i < session->key_count; i++) {
        const cardea_sdk_key *k = &session->keys[i];
        uint8_t *der = NULL;
        size_t der_len = 0;
        char *hex = NULL;
        json_t *row = NULL;

        if (k->owner != self || !cardea_sdk__key_is_safe(k)) {
            continue;
        }
        if (cardea_rsa__pkcs8_der(&der, &der_len, k->key) == CARDEA_OK &&
            cardea_hex__encode_alloc(&hex, der, der_len) == CARDEA_OK) {
            row = json_pack("{s:s, s:s, s:s}", "dataOwnerId",
                            session->owners[self].id, "privateKey", hex,
                            "publicKey", k->spki_hex);
        }
        cardea_mem__free_secret(der, der_len);
        if (hex != NULL) {
            cardea_mem__free_secret(hex, strlen(hex));
        }
        if (row == NULL || json_array_append_new(pairs, row) != 0) {
            json_decref(pairs);
            return NULL;
        }
        (*count)++;
    }
    return pairs != NULL ? json_pack("{s:o}", "keyPairs", pairs) : NULL;
}

static json_t *
new_header(const char *owner_id, const uint8_t salt[SALT_LEN],
           const uint8_t nonce[NONCE_LEN])
{
    char salt_b64[32];
    char nonce_b64[32];

    if (cardea_base64__encode(salt_b64, sizeof salt_b64, salt, SALT_LEN) !=
            CARDEA_OK ||
        cardea_base64__encode(nonce_b64, sizeof nonce_b64, nonce,
                              NONCE_LEN) != CARDEA_OK) {
        return NULL;
    }
    return json_pack("{s:s, s:i, s:s, s:{s:s, s:i, s:i, s:i, s:s},"
                     " s:{s:s, s:s}}",
                     "format", FORMAT_NAME, "version", FORMAT_VERSION,
                     "dataOwnerId", owner_id, "kdf", "algorithm", "argon2id",
                     "memoryKiB", (int)KDF_MEMORY_KIB, "iterations",
                     (int)KDF_ITERATIONS, "parallelism", (int)KDF_PARALLELISM,
                     "salt", salt_b64, "cipher", "algorithm", "aes-256-gcm",
                     "nonce", nonce_b64);
}

/* Encrypts `plain` under `header` and stores the ciphertext member. */
static bool
seal_into(json_t *header, const char *passphrase, const uint8_t *salt,
          const uint8_t *nonce, const char *plain)
{
    uint8_t key[AES_KEY_LEN];
    size_t plain_len = strlen(plain);
    uint8_t *sealed = cardea_mem__alloc(plain_len + TAG_LEN);
    char *aad = cardea_json__dump(header);
    char *b64 = NULL;
    bool ok = sealed != NULL && aad != NULL;

    ok = ok && derive(key, passphrase, salt, KDF_MEMORY_KIB, KDF_ITERATIONS,
                      KDF_PARALLELISM);
    ok = ok && gcm_seal(sealed, key, nonce, (const uint8_t *)aad,
                        strlen(aad), (const uint8_t *)plain, plain_len);
    ok = ok && cardea_base64__encode_alloc(&b64, sealed,
                                           plain_len + TAG_LEN) == CARDEA_OK;
    ok = ok && cardea_json__set_str(header, "ciphertext", b64) == CARDEA_OK;
    cardea_wipe(key, sizeof key);
    cardea_mem__free(sealed);
    cardea_mem__free(aad);
    cardea_mem__free(b64);
    return ok;
}

static bool
write_new_file(const char *path, const char *text)
{
    size_t len = strlen(text);
    ssize_t written;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        cardea_cli__error("cannot create %s: %s; remove it first or choose "
                          "another --out", path, strerror(errno));
        return false;
    }
    written = write(fd, text, len);
    if (written < 0 || (size_t)written != len || fsync(fd) != 0 ||
        close(fd) != 0) {
        cardea_cli__error("cannot write %s", path);
        (void)unlink(path);
        return false;
    }
    return true;
}

static int
export_to(cardea_cli_client *client, const char *path)
{
    uint8_t salt[SALT_LEN];
    uint8_t nonce[NONCE_LEN];
    char passphrase[PASSPHRASE_MAX];
    size_t count = 0;
    json_t *pairs = pairs_json(client->session, &count);
    json_t *header = NULL;
    char *plain = pairs != NULL ? cardea_json__dump(pairs) : NULL;
    char *text = NULL;
    int status = CARDEA_CLI_FAILED;

    json_decref(pairs);
    if (plain == NULL) {
        cardea_cli__error("out of memory while encoding the key pairs");
        return status;
    }
    if (count == 0) {
        cardea_cli__error("profile '%s' holds no verified key of its own; "
                          "verify one with 'cardea key verify' first",
                          client->profile.name);
        goto out;
    }
    if (!cardea_cli__passphrase(passphrase, sizeof passphrase, true)) {
        goto out;
    }
    cardea_random__bytes(salt, sizeof salt);
    cardea_random__bytes(nonce, sizeof nonce);
    header = new_header(cardea_session_data_owner_id(client->session), salt,
                        nonce);
    if (header == NULL ||
        !seal_into(header, passphrase, salt, nonce, plain) ||
        (text = cardea_json__dump(header)) == NULL) {
        cardea_cli__error("encrypting the key pairs failed");
    } else if (write_new_file(path, text)) {
        fprintf(stderr, "wrote %zu key pair(s) to %s\n", count, path);
        status = CARDEA_CLI_OK;
    }
    cardea_wipe(passphrase, sizeof passphrase);

out:
    cardea_mem__free_secret(plain, strlen(plain));
    cardea_mem__free(text);
    json_decref(header);
    return status;
}

/* see cli/key.h */
int
cardea_cli__key_export(int argc, char **argv)
{
    static const struct option options[] = {
        CARDEA_CLI_COMMON_OPTIONS,
        {"out", required_argument, NULL, 1},
        {NULL, 0, NULL, 0},
    };
    cardea_cli_common common;
    cardea_cli_client client;
    const char *path = NULL;
    bool exit_now = false;
    int opt;
    int status;

    cardea_cli__common_init(&common);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (cardea_cli__common_option(&common, opt, optarg, export_usage,
                                      &exit_now)) {
            if (exit_now) {
                return CARDEA_CLI_OK;
            }
        } else if (opt == 1) {
            path = optarg;
        } else {
            fputs(export_usage, stderr);
            return CARDEA_CLI_USAGE;
        }
    }
    if (path == NULL || optind != argc) {
        fputs(export_usage, stderr);
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &common)) {
        return CARDEA_CLI_FAILED;
    }
    status = export_to(&client, path);
    cardea_cli__client_close(&client);
    return status;
}

/* ---- import ------------------------------------------------------------- */

static const char import_usage[] =
    "usage: cardea key import FILE [OPTIONS]\n"
    "\n"
    "Decrypts FILE, written by 'cardea key export', with its passphrase\n"
    "($CARDEA_PASSPHRASE, else a prompt) and gives its key pairs to the\n"
    "profile's session as recovered and verified keys. A wrong passphrase\n"
    "or a modified file stores nothing.\n"
    "\n" CARDEA_CLI_COMMON_HELP;

static bool
read_file(char **out, const char *path)
{
    struct stat st;
    char *text = NULL;
    ssize_t got = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size > FILE_MAX) {
        cardea_cli__error("cannot read %s: %s", path,
                          fd < 0 ? strerror(errno)
                                 : "not a regular file of at most 1 MiB");
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    text = cardea_mem__alloc((size_t)st.st_size + 1);
    if (text != NULL) {
        got = read(fd, text, (size_t)st.st_size);
    }
    close(fd);
    if (got < 0 || (size_t)got != (size_t)st.st_size) {
        cardea_mem__free(text);
        cardea_cli__error("cannot read %s", path);
        return false;
    }
    text[got] = '\0';
    *out = text;
    return true;
}

/* A bounded integer member of `obj`; false when absent or outside. */
static bool
bounded(uint32_t *out, const json_t *obj, const char *name, uint32_t min,
        uint32_t max)
{
    const json_t *value = json_object_get(obj, name);

    if (!json_is_integer(value) || json_integer_value(value) < min ||
        json_integer_value(value) > max) {
        return false;
    }
    *out = (uint32_t)json_integer_value(value);
    return true;
}

static bool
decode_exact(uint8_t *out, size_t len, const char *b64)
{
    size_t got = 0;

    return b64 != NULL &&
           cardea_base64__decode(out, len, &got, b64, strlen(b64)) ==
               CARDEA_OK &&
           got == len;
}

/* Decrypts the file object; `plain` is NUL-terminated secret text. */
static bool
open_file(char **plain, const json_t *doc, const char *path)
{
    const json_t *kdf = json_object_get(doc, "kdf");
    const json_t *cipher = json_object_get(doc, "cipher");
    const char *ct_b64 = cardea_json__get_str(doc, "ciphertext");
    uint8_t salt[SALT_LEN];
    uint8_t nonce[NONCE_LEN];
    uint8_t key[AES_KEY_LEN];
    uint32_t memory = 0;
    uint32_t iterations = 0;
    uint32_t lanes = 0;
    char passphrase[PASSPHRASE_MAX];
    uint8_t *ct = NULL;
    size_t ct_len = 0;
    uint8_t *out = NULL;
    json_t *header = NULL;
    char *aad = NULL;
    bool ok;

    ok = json_is_object(doc) &&
         strcmp(cardea_json__get_str(doc, "format") != NULL
                    ? cardea_json__get_str(doc, "format") : "",
                FORMAT_NAME) == 0 &&
         json_integer_value(json_object_get(doc, "version")) ==
             FORMAT_VERSION &&
         strcmp(cardea_json__get_str(kdf, "algorithm") != NULL
                    ? cardea_json__get_str(kdf, "algorithm") : "",
                "argon2id") == 0 &&
         strcmp(cardea_json__get_str(cipher, "algorithm") != NULL
                    ? cardea_json__get_str(cipher, "algorithm") : "",
                "aes-256-gcm") == 0 &&
         bounded(&memory, kdf, "memoryKiB", KDF_MEMORY_KIB,
                 KDF_MEMORY_MAX_KIB) &&
         bounded(&iterations, kdf, "iterations", KDF_ITERATIONS,
                 KDF_ITERATIONS_MAX) &&
         bounded(&lanes, kdf, "parallelism", 1, 16) &&
         decode_exact(salt, SALT_LEN, cardea_json__get_str(kdf, "salt")) &&
         decode_exact(nonce, NONCE_LEN,
                      cardea_json__get_str(cipher, "nonce")) &&
         ct_b64 != NULL &&
         cardea_base64__decode_alloc(&ct, &ct_len, ct_b64, strlen(ct_b64)) ==
             CARDEA_OK &&
         ct_len > TAG_LEN;
    if (!ok) {
        cardea_cli__error("%s is not a key file of 'cardea key export' "
                          "(version %d) or its header is invalid", path,
                          FORMAT_VERSION);
        cardea_mem__free(ct);
        return false;
    }
    header = json_deep_copy(doc);
    ok = header != NULL && json_object_del(header, "ciphertext") == 0 &&
         (aad = cardea_json__dump(header)) != NULL &&
         (out = cardea_mem__alloc(ct_len - TAG_LEN + 1)) != NULL &&
         cardea_cli__passphrase(passphrase, sizeof passphrase, false);
    if (ok) {
        ok = derive(key, passphrase, salt, memory, iterations, lanes) &&
             gcm_open(out, key, nonce, (const uint8_t *)aad, strlen(aad), ct,
                      ct_len);
        cardea_wipe(passphrase, sizeof passphrase);
        cardea_wipe(key, sizeof key);
        if (!ok) {
            cardea_cli__error("cannot decrypt %s: wrong passphrase, or the "
                              "file was modified", path);
        }
    }
    if (ok) {
        out[ct_len - TAG_LEN] = '\0';
        *plain = (char *)out;
    } else if (out != NULL) {
        cardea_mem__free_secret(out, ct_len - TAG_LEN + 1);
    }
    json_decref(header);
    cardea_mem__free(aad);
    cardea_mem__free(ct);
    return ok;
}

static void
pairs_free(cardea_key_pair_hex *pairs, size_t count)
{
    for (size_t i = 0; pairs != NULL && i < count; i++) {
        if (pairs[i].pkcs8_hex != NULL) {
            cardea_mem__free_secret((char *)pairs[i].pkcs8_hex,
                                    strlen(pairs[i].pkcs8_hex));
        }
        cardea_mem__free((char *)pairs[i].spki_hex);
    }
    cardea_mem__free(pairs);
}

/*
 * Reads the pairs of the plaintext into `pairs` (strings owned). Fails
 * when the list is empty or a row lacks a key, leaving `pairs` and
 * `count` untouched.
 */
static bool
parse_pairs(cardea_key_pair_hex **pairs, size_t *count, const char *plain)
{
    json_t *doc = NULL;
    const json_t *list;
    const json_t *row;
    size_t index;
    cardea_key_pair_hex *items = NULL;
    size_t n = 0;
    bool ok;

    if (cardea_json__parse(&doc, plain, strlen(plain), NULL, 0) !=
        CARDEA_OK) {
        return false;
    }
    list = json_object_get(doc, "keyPairs");
    ok = json_array_size(list) > 0 &&
         (items = cardea_mem__calloc(json_array_size(list),
                                     sizeof *items)) != NULL;
    json_array_foreach(list, index, row) {
        const char *priv = cardea_json__get_str(row, "privateKey");
        const char *pub = cardea_json__get_str(row, "publicKey");

        if (!ok || priv == NULL || pub == NULL) {
            ok = false;
            break;
        }
        items[n].pkcs8_hex = cardea_mem__strdup(priv);
        items[n].spki_hex = cardea_mem__strdup(pub);
        n++;
        ok = items[n - 1].pkcs8_hex != NULL && items[n - 1].spki_hex != NULL;
    }
    json_decref(doc);
    if (!ok) {
        pairs_free(items, n);
        return false;
    }
    *pairs = items;
    *count = n;
    return true;
}

/*
 * Reads, decrypts and parses the key file `path`. Returns false after
 * printing an error, with `pairs` and `count` untouched.
 */
static bool
read_pairs(cardea_key_pair_hex **pairs, size_t *count, const char *path)
{
    char *text = NULL;
    char *plain = NULL;
    json_t *doc = NULL;
    bool ok = false;

    if (!read_file(&text, path)) {
        return false;
    }
    if (cardea_json__parse(&doc, text, strlen(text), NULL, 0) != CARDEA_OK) {
        cardea_cli__error("%s is not JSON; give a file written by 'cardea "
                          "key export'", path);
    } else if (open_file(&plain, doc, path)) {
        ok = parse_pairs(pairs, count, plain);
        if (!ok) {
            cardea_cli__error("%s holds no complete key pair; export it "
                              "again with 'cardea key export'", path);
        }
        cardea_mem__free_secret(plain, strlen(plain));
    }
    json_decref(doc);
    cardea_mem__free(text);
    return ok;
}

/* see cli/cli.h */
bool
cardea_cli__key_pairs_read(cardea_cli_key_pairs *pairs, const char *path)
{
    cardea_key_pair_hex *read = NULL;
    cardea_key_pair_hex *grown = NULL;
    size_t count = 0;
    size_t total = 0;
    size_t size = 0;

    if (!read_pairs(&read, &count, path)) {
        return false;
    }
    if (cardea_size__add(&total, pairs->count, count) &&
        cardea_size__mul(&size, total, sizeof *grown)) {
        grown = cardea_mem__realloc(pairs->items, size);
    }
    if (grown == NULL) {
        pairs_free(read, count);
        cardea_cli__error("out of memory while reading %s", path);
        return false;
    }
    memcpy(grown + pairs->count, read, count * sizeof *read);
    pairs->items = grown;
    pairs->count = total;
    /* The strings now belong to `pairs`: free only the array. */
    cardea_mem__free(read);
    return true;
}

/* see cli/cli.h */
void
cardea_cli__key_pairs_free(cardea_cli_key_pairs *pairs)
{
    pairs_free(pairs->items, pairs->count);
    memset(pairs, 0, sizeof *pairs);
}

/*
 * Opens the profile's session with simple strategies that hold the pairs,
 * so recover_and_verify_keys hands back the ones the store lacks. A pair
 * the store already holds unverified is verified explicitly.
 */
static int
import_pairs(const cardea_cli_common *common, cardea_key_pair_hex *pairs,
             size_t count)
{
    cardea_simple_strategies_options opts =
        CARDEA_SIMPLE_STRATEGIES_OPTIONS_INIT;
    cardea_crypto_strategies *strategies = NULL;
    cardea_cli_client client;
    size_t verified = 0;
    int status = CARDEA_CLI_FAILED;

    opts.available_keys = pairs;
    opts.available_key_count = count;
    if (cardea_simple_strategies_new(&strategies, &opts) != CARDEA_OK) {
        cardea_cli__error("the key file holds an invalid key pair");
        return status;
    }
    if (cardea_cli__key_open(&client, common, strategies)) {
        status = CARDEA_CLI_OK;
        for (size_t i = 0; i < count && status == CARDEA_CLI_OK; i++) {
            const cardea_sdk_key *k = cardea_sdk__find_key(
                client.session, NULL, pairs[i].spki_hex);
            cardea_err err = CARDEA_OK;

            if (k != NULL && !cardea_sdk__key_is_safe(k)) {
                err = cardea_session_verify_key(client.session,
                                                pairs[i].spki_hex, true);
                k = cardea_sdk__find_key(client.session, NULL,
                                         pairs[i].spki_hex);
            }
            if (err != CARDEA_OK) {
                cardea_cli__session_error(&client, err, "verifying a key");
                status = CARDEA_CLI_FAILED;
            }
            verified += k != NULL && cardea_sdk__key_is_safe(k) ? 1 : 0;
        }
        cardea_cli__key_close(&client);
    }
    if (status == CARDEA_CLI_OK) {
        fprintf(stderr, "%zu of %zu key pair(s) usable and verified\n",
                verified, count);
        status = verified == count ? CARDEA_CLI_OK : CARDEA_CLI_FAILED;
        if (verified != count) {
            cardea_cli__error("some key pairs of the file are not published "
                              "by the profile's data owner");
        }
    }
    cardea_simple_strategies_free(strategies);
    return status;
}

/* see cli/key.h */
int
cardea_cli__key_import(int argc, char **argv)
{
    static const struct option options[] = {
        CARDEA_CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cardea_cli_common common;
    bool exit_now = false;
    cardea_key_pair_hex *pairs = NULL;
    size_t count = 0;
    int opt;
    int status = CARDEA_CLI_FAILED;

    cardea_cli__common_init(&common);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (!cardea_cli__common_option(&common, opt, optarg, import_usage,
                                       &exit_now)) {
            fputs(import_usage, stderr);
            return CARDEA_CLI_USAGE;
        }
        if (exit_now) {
            return CARDEA_CLI_OK;
        }
    }
    if (optind + 1 != argc) {
        fputs(import_usage, stderr);
        return CARDEA_CLI_USAGE;
    }
    if (read_pairs(&pairs, &count, argv[optind])) {
        status = import_pairs(&common, pairs, count);
        pairs_free(pairs, count);
    }
    return status;
}
