/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea key`: the user's own keys. `fingerprint` prints the
 * fingerprints, and with --qr draws each as a QR code with libqrencode
 * for a delegate's app to scan during an out-of-band check. `verify`
 * records such a check. `recovery-key create` stores the verified key
 * pairs as recovery data under a new recovery key, and `recover` uses
 * one. The encrypted export and import are in key_file.c.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "base/base.h"
#include "cli/key.h"
#include "sdk/sdk.h"

/* Maximum length of a recovery key read from stdin, separators included. */
#define RECOVERY_TEXT_MAX 256
/* Light margin around the QR code, in modules. */
#define QR_MARGIN 2
/*
 * Maximum length of the FINGERPRINT argument of `key verify`, which the
 * SDK also takes as a whole public key in hex: 1100 digits for RSA-4096.
 */
#define FINGERPRINT_ARG_MAX 2048

static const char key_usage[] =
    "usage: cardea key COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  fingerprint [--qr]               show the fingerprints of the\n"
    "                                   user's keys\n"
    "  verify FINGERPRINT [--reject]    record an out-of-band check of one\n"
    "                                   of the user's keys\n"
    "  recovery-key create [--lifetime DURATION] [--bytes 16|32]\n"
    "                                   store the verified key pairs under\n"
    "                                   a new recovery key\n"
    "  recover RECOVERY_KEY|- [--wait SECONDS] [--delete]\n"
    "                                   recover key pairs with a recovery\n"
    "                                   key (- reads it from stdin)\n"
    "  export --out FILE                write the verified key pairs to a\n"
    "                                   passphrase-encrypted file\n"
    "  import FILE                      read such a file back\n"
    "\n"
    "Every command takes --profile, --config-dir, --json and --help.\n";

/* ---- shared plumbing ---------------------------------------------------- */

/* see cli/key.h */
bool
cardea_cli__key_open(cardea_cli_client *client,
                     const cardea_cli_common *common,
                     const cardea_crypto_strategies *strategies)
{
    char errmsg[512] = "";
    cardea_err err;

    memset(client, 0, sizeof *client);
    if (!cardea_cli__profile_locate(&client->profile, common) ||
        !cardea_cli__profile_load(&client->profile)) {
        cardea_cli__profile_clear(&client->profile);
        return false;
    }
    err = cardea_cli__session_open(client, strategies, errmsg,
                                   sizeof errmsg);
    if (err != CARDEA_OK) {
        cardea_cli__error("cannot open a session for profile '%s' on %s: "
                          "%s: %s", client->profile.name,
                          client->profile.server, cardea_strerror(err),
                          errmsg);
        cardea_cli__profile_clear(&client->profile);
        return false;
    }
    return true;
}

/* see cli/key.h */
void
cardea_cli__key_close(cardea_cli_client *client)
{
    cardea_session_close(client->session);
    cardea_cli__profile_clear(&client->profile);
    client->session = NULL;
}

/* see cli/key.h */
bool
cardea_cli__passphrase(char *out, size_t out_cap, bool confirm)
{
    const char *env = getenv("CARDEA_PASSPHRASE");
    char again[1024];
    bool same;

    if (env != NULL) {
        if (env[0] == '\0' || strlen(env) >= out_cap) {
            cardea_cli__error("CARDEA_PASSPHRASE is empty or longer than "
                              "%zu bytes", out_cap - 1);
            return false;
        }
        memcpy(out, env, strlen(env) + 1);
        return true;
    }
    if (!cardea_cli__prompt_secret(out, out_cap, "Passphrase: ")) {
        cardea_cli__error("no terminal to ask the passphrase on; set "
                          "CARDEA_PASSPHRASE");
        return false;
    }
    if (out[0] == '\0') {
        cardea_cli__error("the passphrase is empty");
        return false;
    }
    if (!confirm) {
        return true;
    }
    same = cardea_cli__prompt_secret(again, sizeof again,
                                     "Passphrase again: ") &&
           strcmp(out, again) == 0;
    cardea_wipe(again, sizeof again);
    if (!same) {
        cardea_wipe(out, out_cap);
        cardea_cli__error("the two passphrases differ");
    }
    return same;
}

/*
 * Parses the options of one `cardea key` subcommand: common options and
 * the rows of `extra` (their values are handed to `take`). Returns -1 to
 * go on, else the exit status.
 */
static int
parse_options(cardea_cli_common *common, int argc, char **argv,
              const struct option *extra, size_t extra_count,
              const char *usage, void (*take)(int opt, void *arg), void *arg)
{
    struct option options[16];
    size_t n = 0;
    const struct option common_rows[] = {CARDEA_CLI_COMMON_OPTIONS};
    bool exit_now = false;
    int opt;

    for (size_t i = 0; i < sizeof common_rows / sizeof common_rows[0]; i++) {
        options[n++] = common_rows[i];
    }
    for (size_t i = 0; i < extra_count && n + 1 < 16; i++) {
        options[n++] = extra[i];
    }
    memset(&options[n], 0, sizeof options[n]);
    cardea_cli__common_init(common);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (cardea_cli__common_option(common, opt, optarg, usage,
                                      &exit_now)) {
            if (exit_now) {
                return CARDEA_CLI_OK;
            }
        } else if (opt != '?' && opt != ':' && opt > 0 && opt < 100
                   && take != NULL) {
            /* getopt's '?' and ':' report a bad option: never run on. */
            take(opt, arg);
        } else {
            fputs(usage, stderr);
            return CARDEA_CLI_USAGE;
        }
    }
    return -1;
}

/* ---- fingerprint -------------------------------------------------------- */

/* Draws `text` as a QR code with half blocks, two rows per line. The
 * light modules are drawn, as `qrencode -t UTF8` does, for terminals
 * with a dark background. */
static bool
print_qr(const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    int size;

    if (qr == NULL) {
        return false;
    }
    size = qr->width + 2 * QR_MARGIN;
    for (int y = 0; y < size; y += 2) {
        for (int x = 0; x < size; x++) {
            int mx = x - QR_MARGIN;
            int top_y = y - QR_MARGIN;
            int bottom_y = y + 1 - QR_MARGIN;
            bool top = mx >= 0 && mx < qr->width && top_y >= 0 &&
                       top_y < qr->width &&
                       (qr->data[top_y * qr->width + mx] & 1) != 0;
            bool bottom = mx >= 0 && mx < qr->width && bottom_y >= 0 &&
                          bottom_y < qr->width &&
                          (qr->data[bottom_y * qr->width + mx] & 1) != 0;

            fputs(!top && !bottom ? "\u2588"
                  : !top          ? "\u2580"
                  : !bottom       ? "\u2584"
                                  : " ",
                  stdout);
        }
        fputc('\n', stdout);
    }
    QRcode_free(qr);
    return true;
}

static void
take_qr(int opt, void *arg)
{
    (void)opt;
    *(bool *)arg = true;
}

static int
fingerprint(int argc, char **argv)
{
    static const char usage[] =
        "usage: cardea key fingerprint [--qr] [OPTIONS]\n"
        "\n"
        "Shows the fingerprint (the last 32 hex digits of the public key)\n"
        "of every key the profile's session holds, and whether it is\n"
        "verified. Compare it with the one another device or a delegate\n"
        "shows before trusting it. With --qr, also draws a QR code of\n"
        "cardea-key:<data owner id>:<fingerprint> for each verified key of\n"
        "the user, for a delegate's app to scan.\n"
        "\n"
        "  --qr              draw QR codes\n" CARDEA_CLI_COMMON_HELP;
    static const struct option extra[] = {{"qr", no_argument, NULL, 1}};
    cardea_cli_common common;
    cardea_cli_client client;
    cardea_key_fingerprint *fps = NULL;
    size_t count = 0;
    bool qr = false;
    json_t *list;
    int status = parse_options(&common, argc, argv, extra, 1, usage,
                               take_qr, &qr);

    if (status >= 0) {
        return status;
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &common)) {
        return CARDEA_CLI_FAILED;
    }
    if (cardea_session_key_fingerprints(&fps, &count, client.session) !=
        CARDEA_OK) {
        cardea_cli__error("out of memory while listing the keys");
        cardea_cli__client_close(&client);
        return CARDEA_CLI_FAILED;
    }
    list = json_array();
    status = CARDEA_CLI_OK;
    for (size_t i = 0; i < count; i++) {
        const cardea_key_fingerprint *f = &fps[i];
        bool self = strcmp(f->data_owner_id,
                           cardea_session_data_owner_id(client.session)) ==
                    0;

        if (common.json) {
            json_array_append_new(
                list, json_pack("{s:s, s:s, s:b, s:b}", "fingerprint",
                                f->fp_v1, "dataOwnerId", f->data_owner_id,
                                "verified", f->verified, "device",
                                f->device));
            continue;
        }
        printf("%s  %s  %s%s\n", f->fp_v1, f->data_owner_id,
               f->verified ? "verified" : "not verified (decrypt only)",
               f->device ? ", made on this device" : "");
        if (qr && self && f->verified) {
            char text[256];

            snprintf(text, sizeof text, "cardea-key:%s:%s", f->data_owner_id,
                     f->fp_v1);
            if (!print_qr(text)) {
                cardea_cli__error("libqrencode failed to encode the "
                                  "fingerprint");
                status = CARDEA_CLI_FAILED;
            }
        }
    }
    if (common.json && !cardea_cli__print_json(list, false)) {
        status = CARDEA_CLI_FAILED;
    }
    if (!common.json && count == 0) {
        printf("the session holds no key\n");
    }
    json_decref(list);
    cardea_free(fps);
    cardea_cli__client_close(&client);
    return status;
}

/* ---- verify ------------------------------------------------------------- */

static void
take_flag(int opt, void *arg)
{
    (void)opt;
    *(bool *)arg = true;
}

static int
verify(int argc, char **argv)
{
    static const char usage[] =
        "usage: cardea key verify FINGERPRINT [--reject] [OPTIONS]\n"
        "\n"
        "Records that the user compared FINGERPRINT (32 or 22 hex digits, as\n"
        "'cardea key fingerprint' prints it) with a trusted copy: the key\n"
        "then encrypts new data, or, when this device does not hold it,\n"
        "becomes a source of transfer keys. With --reject, records that the\n"
        "key is not genuine: it then only decrypts. The result is saved in\n"
        "the key store.\n"
        "\n"
        "  --reject          mark the key as not genuine\n"
        CARDEA_CLI_COMMON_HELP;
    static const struct option extra[] = {{"reject", no_argument, NULL, 1}};
    cardea_cli_common common;
    cardea_cli_client client;
    char fp[FINGERPRINT_ARG_MAX + 1];
    bool reject = false;
    cardea_err err;
    int status = parse_options(&common, argc, argv, extra, 1, usage,
                               take_flag, &reject);

    if (status >= 0) {
        return status;
    }
    if (optind + 1 != argc) {
        fputs(usage, stderr);
        return CARDEA_CLI_USAGE;
    }
    if (strlen(argv[optind]) > FINGERPRINT_ARG_MAX) {
        cardea_cli__error("the fingerprint is over %d characters; give the "
                          "32 hex digits 'cardea key fingerprint' prints",
                          FINGERPRINT_ARG_MAX);
        return CARDEA_CLI_USAGE;
    }
    /* Fingerprints are stored and printed in lowercase hex. */
    snprintf(fp, sizeof fp, "%s", argv[optind]);
    for (size_t i = 0; fp[i] != '\0'; i++) {
        fp[i] = (char)tolower((unsigned char)fp[i]);
    }
    if (!cardea_cli__client_open(&client, &common)) {
        return CARDEA_CLI_FAILED;
    }
    err = cardea_session_verify_key(client.session, fp, !reject);
    if (err == CARDEA_ENOTFOUND) {
        cardea_cli__error("no key with fingerprint %s is published for data "
                          "owner %s or its parents; list the keys and their "
                          "fingerprints with 'cardea key fingerprint'", fp,
                          cardea_session_data_owner_id(client.session));
        status = CARDEA_CLI_FAILED;
    } else if (err != CARDEA_OK) {
        cardea_cli__session_error(&client, err, "verifying the key");
        status = CARDEA_CLI_FAILED;
    } else {
        printf("key %s marked %s\n", fp,
               reject ? "not genuine" : "verified");
        status = CARDEA_CLI_OK;
    }
    cardea_cli__client_close(&client);
    return status;
}

/* ---- recovery-key create ------------------------------------------------ */

/* Parses "90", "90s", "15m", "12h" or "30d" into seconds. */
static bool
parse_duration(int64_t *out, const char *text)
{
    unsigned long long value;
    size_t len = strlen(text);
    char digits[32];
    int64_t unit = 1;

    if (len == 0 || len >= sizeof digits) {
        return false;
    }
    memcpy(digits, text, len + 1);
    switch (tolower((unsigned char)digits[len - 1])) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        unit = 0;
        break;
    }
    if (unit != 0) {
        digits[len - 1] = '\0';
    } else {
        unit = 1;
    }
    if (!cardea_cli__parse_ulong(&value, digits, 1,
                                 (unsigned long long)
                                     CARDEA_RECOVERY_LIFETIME_MAX) ||
        (int64_t)value > CARDEA_RECOVERY_LIFETIME_MAX / unit) {
        return false;
    }
    *out = (int64_t)value * unit;
    return true;
}

typedef struct create_args {
    const char *lifetime;
    const char *bytes;
} create_args;

static void
take_create(int opt, void *arg)
{
    create_args *a = arg;

    if (opt == 1) {
        a->lifetime = optarg;
    } else {
        a->bytes = optarg;
    }
}

static int
recovery_key_create(int argc, char **argv)
{
    static const char usage[] =
        "usage: cardea key recovery-key create [--lifetime DURATION]\n"
        "                                      [--bytes 16|32] [OPTIONS]\n"
        "\n"
        "Stores the user's verified key pairs on the server, encrypted with\n"
        "a new recovery key, and prints that key once. Write it down: with\n"
        "'cardea key recover' it gives the keys back on a new device. The\n"
        "server never sees the key.\n"
        "\n"
        "  --lifetime DURATION  purge the data after DURATION: seconds, or\n"
        "                       a number with s, m, h or d (default: kept)\n"
        "  --bytes N            recovery key size, 16 or 32 (default 32)\n"
        CARDEA_CLI_COMMON_HELP;
    static const struct option extra[] = {
        {"lifetime", required_argument, NULL, 1},
        {"bytes", required_argument, NULL, 2},
    };
    cardea_recovery_options opts = CARDEA_RECOVERY_OPTIONS_INIT;
    create_args args = {NULL, NULL};
    cardea_cli_common common;
    cardea_cli_client client;
    char *key = NULL;
    cardea_err err;
    int status = parse_options(&common, argc, argv, extra, 2, usage,
                               take_create, &args);

    if (status >= 0) {
        return status;
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return CARDEA_CLI_USAGE;
    }
    if (args.lifetime != NULL && !parse_duration(&opts.lifetime_s,
                                                 args.lifetime)) {
        cardea_cli__error("invalid --lifetime '%s'; give seconds or a "
                          "number with s, m, h or d, such as 30d",
                          args.lifetime);
        return CARDEA_CLI_USAGE;
    }
    if (args.bytes != NULL) {
        opts.key_bytes = strcmp(args.bytes, "16") == 0   ? 16
                         : strcmp(args.bytes, "32") == 0 ? 32
                                                         : 0;
        if (opts.key_bytes == 0) {
            cardea_cli__error("invalid --bytes '%s'; use 16 or 32",
                              args.bytes);
            return CARDEA_CLI_USAGE;
        }
    }
    if (!cardea_cli__client_open(&client, &common)) {
        return CARDEA_CLI_FAILED;
    }
    err = cardea_recovery_create_key_pair_data(&key, client.session, &opts);
    if (err != CARDEA_OK) {
        cardea_cli__session_error(&client, err, "creating recovery data");
        cardea_cli__client_close(&client);
        return CARDEA_CLI_FAILED;
    }
    if (common.json) {
        json_t *out = json_pack("{s:s, s:I}", "recoveryKey", key,
                                "lifetimeSeconds",
                                (json_int_t)opts.lifetime_s);

        status = cardea_cli__print_json(out, false) ? CARDEA_CLI_OK
                                                    : CARDEA_CLI_FAILED;
        json_decref(out);
    } else {
        printf("%s\n", key);
        fprintf(stderr, "This recovery key is shown once. Keep it offline; "
                        "anyone who has it can recover your keys%s.\n",
                opts.lifetime_s > 0 ? " until it expires" : "");
        status = CARDEA_CLI_OK;
    }
    cardea_wipe(key, strlen(key));
    cardea_free(key);
    cardea_cli__client_close(&client);
    return status;
}

/* ---- recover ------------------------------------------------------------ */

typedef struct recover_args {
    const char *wait;
    bool delete_after;
} recover_args;

static void
take_recover(int opt, void *arg)
{
    recover_args *a = arg;

    if (opt == 1) {
        a->wait = optarg;
    } else {
        a->delete_after = true;
    }
}

/* The recovery key from the argument, or from stdin for "-". */
static bool
recovery_text(char *out, size_t out_cap, const char *arg)
{
    if (strcmp(arg, "-") != 0) {
        if (strlen(arg) >= out_cap) {
            cardea_cli__error("the recovery key is too long");
            return false;
        }
        memcpy(out, arg, strlen(arg) + 1);
        return true;
    }
    if (fgets(out, (int)out_cap, stdin) == NULL) {
        cardea_cli__error("no recovery key on stdin");
        return false;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return true;
}

static int
recover(int argc, char **argv)
{
    static const char usage[] =
        "usage: cardea key recover RECOVERY_KEY|- [--wait SECONDS] "
        "[--delete]\n"
        "                          [OPTIONS]\n"
        "\n"
        "Recovers the key pairs stored under RECOVERY_KEY (- reads it from\n"
        "stdin, which keeps it out of the process list). Each key must be\n"
        "one the user publishes. Recovered keys only decrypt until you\n"
        "compare their fingerprints and run 'cardea key verify'.\n"
        "\n"
        "  --wait SECONDS    wait up to SECONDS (at most 600) for the data\n"
        "                    to be created on another device\n"
        "  --delete          delete the recovery data once used\n"
        CARDEA_CLI_COMMON_HELP;
    static const struct option extra[] = {
        {"wait", required_argument, NULL, 1},
        {"delete", no_argument, NULL, 2},
    };
    recover_args args = {NULL, false};
    cardea_cli_common common;
    cardea_cli_client client;
    char text[RECOVERY_TEXT_MAX];
    unsigned long long wait_s = 0;
    size_t recovered = 0;
    cardea_err err;
    int status = parse_options(&common, argc, argv, extra, 2, usage,
                               take_recover, &args);

    if (status >= 0) {
        return status;
    }
    if (optind + 1 != argc) {
        fputs(usage, stderr);
        return CARDEA_CLI_USAGE;
    }
    if (args.wait != NULL &&
        !cardea_cli__parse_ulong(&wait_s, args.wait, 1,
                                 CARDEA_RECOVERY_WAIT_MAX)) {
        cardea_cli__error("invalid --wait '%s'; give 1 to %u seconds",
                          args.wait, CARDEA_RECOVERY_WAIT_MAX);
        return CARDEA_CLI_USAGE;
    }
    if (!recovery_text(text, sizeof text, argv[optind])) {
        return CARDEA_CLI_USAGE;
    }
    if (!cardea_cli__client_open(&client, &common)) {
        cardea_wipe(text, sizeof text);
        return CARDEA_CLI_FAILED;
    }
    err = wait_s > 0
              ? cardea_recovery_wait_key_pairs(&recovered, client.session,
                                               text, (unsigned)wait_s,
                                               args.delete_after)
              : cardea_recovery_recover_key_pairs(&recovered, client.session,
                                                  text, args.delete_after);
    cardea_wipe(text, sizeof text);
    if (err != CARDEA_OK) {
        cardea_cli__error("recovery failed: %s",
                          cardea_session_errmsg(client.session));
        cardea_cli__client_close(&client);
        return CARDEA_CLI_FAILED;
    }
    printf("recovered %zu %s\n", recovered,
           cardea_cli__plural(recovered, "key pair", "key pairs"));
    if (recovered > 0) {
        printf("compare their fingerprints ('cardea key fingerprint') with "
               "a trusted copy,\nthen run 'cardea key verify FINGERPRINT'\n");
    }
    cardea_cli__client_close(&client);
    return CARDEA_CLI_OK;
}

/* ---- dispatch ----------------------------------------------------------- */

/* see cli/key.h */
int
cardea_cli__key(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;

    if (sub == NULL || strcmp(sub, "--help") == 0 ||
        strcmp(sub, "help") == 0) {
        fputs(key_usage, sub == NULL ? stderr : stdout);
        return sub == NULL ? CARDEA_CLI_USAGE : CARDEA_CLI_OK;
    }
    if (strcmp(sub, "fingerprint") == 0) {
        return fingerprint(argc - 1, argv + 1);
    }
    if (strcmp(sub, "verify") == 0) {
        return verify(argc - 1, argv + 1);
    }
    if (strcmp(sub, "recovery-key") == 0) {
        if (argc > 2 && strcmp(argv[2], "create") == 0) {
            return recovery_key_create(argc - 2, argv + 2);
        }
        cardea_cli__error("unknown command 'key recovery-key %s'; use "
                          "'cardea key recovery-key create'",
                          argc > 2 ? argv[2] : "");
        return CARDEA_CLI_USAGE;
    }
    if (strcmp(sub, "recover") == 0) {
        return recover(argc - 1, argv + 1);
    }
    if (strcmp(sub, "export") == 0) {
        return cardea_cli__key_export(argc - 1, argv + 1);
    }
    if (strcmp(sub, "import") == 0) {
        return cardea_cli__key_import(argc - 1, argv + 1);
    }
    cardea_cli__error("unknown command 'key %s'; run 'cardea key --help'",
                      sub);
    return CARDEA_CLI_USAGE;
}
