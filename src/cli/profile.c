/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles of the client commands. A profile is one folder
 * <config>/<name>/ (mode 0700) holding profile.json (mode 0600: server
 * URL, login and the token pair of the last login) and the key store
 * keys/ (mode 0700, written by the SDK). <config> is --config-dir, else
 * $CARDEA_CONFIG_DIR, else ${XDG_CONFIG_HOME:-$HOME/.config}/cardea.
 * Several profiles let one machine act as several users side by side.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"

/* Maximum size of profile.json: a URL, a login and two tokens. */
#define PROFILE_MAX_FILE ((size_t)64 << 10)

static bool
valid_name(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > CARDEA_CLI_PROFILE_MAX || name[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '-'
              || c == '_')) {
            return false;
        }
    }
    return true;
}

static const char *
nonempty_env(const char *name)
{
    const char *value = getenv(name);

    return value != NULL && value[0] != '\0' ? value : NULL;
}

/* Writes the configuration folder into `out`. */
static bool
config_dir(char *out, size_t out_cap, const cardea_cli_common *common)
{
    const char *dir = common->config_dir;
    const char *base;
    int written;

    if (dir == NULL) {
        dir = nonempty_env("CARDEA_CONFIG_DIR");
    }
    if (dir != NULL) {
        written = snprintf(out, out_cap, "%s", dir);
    } else if ((base = nonempty_env("XDG_CONFIG_HOME")) != NULL) {
        written = snprintf(out, out_cap, "%s/cardea", base);
    } else if ((base = nonempty_env("HOME")) != NULL) {
        written = snprintf(out, out_cap, "%s/.config/cardea", base);
    } else {
        cardea_cli__error("HOME is not set; give --config-dir DIR or set "
                          "CARDEA_CONFIG_DIR");
        return false;
    }
    if (written < 0 || (size_t)written >= out_cap) {
        cardea_cli__error("the configuration folder path is too long; give "
                          "a shorter --config-dir");
        return false;
    }
    return true;
}

/* see cli/cli.h */
bool
cardea_cli__profile_locate(cardea_cli_profile *profile,
                           const cardea_cli_common *common)
{
    char config[CARDEA_CLI_PATH_MAX - CARDEA_CLI_PROFILE_MAX - 16];
    const char *name = common->profile;

    if (name == NULL) {
        name = nonempty_env("CARDEA_PROFILE");
    }
    if (name == NULL) {
        name = "default";
    }
    if (!valid_name(name)) {
        cardea_cli__error("invalid profile name '%s'; use up to %d letters, "
                          "digits, '.', '-' or '_'", name,
                          CARDEA_CLI_PROFILE_MAX);
        return false;
    }
    if (!config_dir(config, sizeof config, common)) {
        return false;
    }
    memset(profile, 0, sizeof *profile);
    snprintf(profile->name, sizeof profile->name, "%s", name);
    snprintf(profile->dir, sizeof profile->dir, "%s/%s", config, name);
    snprintf(profile->key_dir, sizeof profile->key_dir, "%s/%s/keys", config,
             name);
    return true;
}

/* Reads a whole small file; the caller frees `*out` with free_secret. */
static bool
read_small_file(char **out, size_t *out_len, const char *path)
{
    FILE *file = fopen(path, "rb");
    char *data = cardea_mem__alloc(PROFILE_MAX_FILE + 1);
    size_t len = 0;

    if (file == NULL || data == NULL) {
        if (file != NULL) {
            fclose(file);
        }
        cardea_mem__free(data);
        return false;
    }
    len = fread(data, 1, PROFILE_MAX_FILE + 1, file);
    fclose(file);
    if (len > PROFILE_MAX_FILE) {
        cardea_mem__free_secret(data, PROFILE_MAX_FILE + 1);
        return false;
    }
    data[len] = '\0';
    *out = data;
    *out_len = len;
    return true;
}

static char *
copy_member(const json_t *object, const char *key)
{
    const char *value = cardea_json__get_str(object, key);

    return value != NULL ? cardea_mem__strdup(value) : NULL;
}

/* see cli/cli.h */
bool
cardea_cli__profile_load(cardea_cli_profile *profile)
{
    char path[CARDEA_CLI_PATH_MAX + 16];
    json_t *doc = NULL;
    char *text = NULL;
    size_t len = 0;
    bool ok = false;

    snprintf(path, sizeof path, "%s/profile.json", profile->dir);
    if (!read_small_file(&text, &len, path)) {
        cardea_cli__error("profile '%s' has no saved login (%s cannot be "
                          "read); run 'cardea login --server URL --user "
                          "LOGIN --profile %s' first", profile->name, path,
                          profile->name);
        return false;
    }
    if (cardea_json__parse(&doc, text, len, NULL, 0) != CARDEA_OK
        || !json_is_object(doc)) {
        cardea_cli__error("%s is not valid JSON; run 'cardea login' again "
                          "to rewrite it", path);
        goto out;
    }
    profile->server = copy_member(doc, "server");
    profile->login = copy_member(doc, "login");
    profile->token = copy_member(doc, "token");
    profile->refresh_token = copy_member(doc, "refreshToken");
    if (profile->server == NULL || profile->login == NULL
        || profile->token == NULL) {
        cardea_cli__error("%s lacks the server, the login or the token; run "
                          "'cardea login' again", path);
        goto out;
    }
    ok = true;

out:
    json_decref(doc);
    cardea_mem__free_secret(text, len + 1);
    return ok;
}

/* Creates `path` with mode 0700, or checks that it is a private folder. */
static bool
ensure_private_dir(const char *path)
{
    struct stat st;

    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        cardea_cli__error("cannot create the folder %s: %s", path,
                          strerror(errno));
        return false;
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cardea_cli__error("%s is not a folder; remove it or give another "
                          "--config-dir", path);
        return false;
    }
    if ((st.st_mode & 077) != 0 && chmod(path, 0700) != 0) {
        cardea_cli__error("cannot make %s private (mode 0700): %s", path,
                          strerror(errno));
        return false;
    }
    return true;
}

/* Writes `text` to `path` through a temporary file of mode 0600. */
static bool
write_private_file(const char *path, const char *text)
{
    char tmp[CARDEA_CLI_PATH_MAX + 32];
    size_t len = strlen(text);
    ssize_t written;
    int fd;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        cardea_cli__error("cannot create %s: %s", tmp, strerror(errno));
        return false;
    }
    written = write(fd, text, len);
    if (written < 0 || (size_t)written != len || fsync(fd) != 0) {
        cardea_cli__error("cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        (void)unlink(tmp);
        return false;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        cardea_cli__error("cannot rename %s to %s: %s", tmp, path,
                          strerror(errno));
        (void)unlink(tmp);
        return false;
    }
    return true;
}

/* see cli/cli.h */
bool
cardea_cli__profile_mkdir(const cardea_cli_profile *profile)
{
    char parent[CARDEA_CLI_PATH_MAX];
    char *slash;

    snprintf(parent, sizeof parent, "%s", profile->dir);
    slash = strrchr(parent, '/');
    if (slash != NULL && slash != parent) {
        *slash = '\0';
        if (!ensure_private_dir(parent)) {
            return false;
        }
    }
    return ensure_private_dir(profile->dir);
}

/* see cli/cli.h */
bool
cardea_cli__profile_save(const cardea_cli_profile *profile)
{
    char path[CARDEA_CLI_PATH_MAX + 16];
    char *text = NULL;
    json_t *doc;
    bool ok = false;

    if (!cardea_cli__profile_mkdir(profile)) {
        return false;
    }
    doc = json_pack("{s:s, s:s, s:s}", "server", profile->server, "login",
                    profile->login, "token", profile->token);
    if (doc != NULL && profile->refresh_token != NULL
        && cardea_json__set_str(doc, "refreshToken", profile->refresh_token)
               != CARDEA_OK) {
        json_decref(doc);
        doc = NULL;
    }
    if (doc == NULL || (text = cardea_json__dump(doc)) == NULL) {
        cardea_cli__error("out of memory while saving profile '%s'",
                          profile->name);
        goto out;
    }
    snprintf(path, sizeof path, "%s/profile.json", profile->dir);
    ok = write_private_file(path, text);

out:
    if (text != NULL) {
        cardea_mem__free_secret(text, strlen(text));
    }
    json_decref(doc);
    return ok;
}

static void
free_secret_string(char *s)
{
    if (s != NULL) {
        cardea_mem__free_secret(s, strlen(s));
    }
}

/* see cli/cli.h */
void
cardea_cli__profile_clear(cardea_cli_profile *profile)
{
    cardea_mem__free(profile->server);
    cardea_mem__free(profile->login);
    free_secret_string(profile->token);
    free_secret_string(profile->refresh_token);
    profile->server = NULL;
    profile->login = NULL;
    profile->token = NULL;
    profile->refresh_token = NULL;
}
