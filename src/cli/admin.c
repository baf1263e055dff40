/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cardea admin`: manages users directly in a server database. It is safe
 * while the server runs, because SQLite in WAL mode with a busy timeout
 * serialises the writes. Adding a user also registers its data owner.
 * For an HCP or a device it creates the data owner's document. A
 * patient's Patient entity is created later by an HCP through the API.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "cli/cli.h"
#include "server/server.h"
#include "store/store.h"

static const char usage_text[] =
    "usage: cardea admin [--db FILE] user add --login LOGIN --password PASS\n"
    "                    --type hcp|patient|device [--data-owner-id ID]\n"
    "                    [--parent ID] [--name NAME]\n"
    "       cardea admin [--db FILE] user list\n"
    "       cardea admin [--db FILE] user passwd --login LOGIN "
    "--password PASS\n"
    "\n"
    "  --db FILE           server database (default ./cardea.sqlite, or\n"
    "                      the CARDEA_DB environment variable)\n"
    "  --password PASS     the password; '-' reads one line from stdin\n"
    "  --data-owner-id ID  link the user to this data owner (a new UUID\n"
    "                      when absent); 'user add' prints the id\n"
    "  --parent ID         parent HCP of a new HCP data owner\n"
    "  --name NAME         name stored in a new HCP or device document\n";

typedef struct user_args {
    const char *login;
    const char *password;
    const char *type;
    const char *data_owner_id;
    const char *parent;
    const char *name;
} user_args;

enum {
    OPT_LOGIN = 2000,
    OPT_PASSWORD,
    OPT_TYPE,
    OPT_DATA_OWNER,
    OPT_PARENT,
    OPT_NAME,
};

static const struct option user_options[] = {
    {"login", required_argument, NULL, OPT_LOGIN},
    {"password", required_argument, NULL, OPT_PASSWORD},
    {"type", required_argument, NULL, OPT_TYPE},
    {"data-owner-id", required_argument, NULL, OPT_DATA_OWNER},
    {"parent", required_argument, NULL, OPT_PARENT},
    {"name", required_argument, NULL, OPT_NAME},
    {NULL, 0, NULL, 0},
};

static bool
parse_user_args(user_args *args, int argc, char **argv)
{
    int option;

    optind = 1;
    while ((option = getopt_long(argc, argv, "", user_options, NULL))
           != -1) {
        switch (option) {
        case OPT_LOGIN:
            args->login = optarg;
            break;
        case OPT_PASSWORD:
            args->password = optarg;
            break;
        case OPT_TYPE:
            args->type = optarg;
            break;
        case OPT_DATA_OWNER:
            args->data_owner_id = optarg;
            break;
        case OPT_PARENT:
            args->parent = optarg;
            break;
        case OPT_NAME:
            args->name = optarg;
            break;
        default:
            return false;
        }
    }
    if (optind < argc) {
        cardea_cli__error("unexpected argument '%s'", argv[optind]);
        return false;
    }
    return true;
}

/* Hashes the password, reading it from stdin when it is "-". */
static cardea_err
hash_password(char **out, const char *password)
{
    char line[CARDEA_PASSWORD_MAX_LEN + 2];
    cardea_err err;

    if (strcmp(password, "-") != 0) {
        return cardea_password__hash(out, password);
    }
    if (fgets(line, sizeof line, stdin) == NULL) {
        return CARDEA_EINVAL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    err = cardea_password__hash(out, line);
    cardea_wipe(line, sizeof line);
    return err;
}

/* Creates the HCP or device document when it does not exist yet. */
static cardea_err
ensure_document(cardea_db *db, cardea_do_type type, const char *id,
                const user_args *args)
{
    const char *entity_type = cardea_do_type__entity_type(type);
    json_t *doc = NULL;
    cardea_err err;

    if (type == CARDEA_DO_PATIENT) {
        return CARDEA_OK;
    }
    err = cardea_db__entity_get(&doc, NULL, db, entity_type, id, true);
    if (err != CARDEA_ENOTFOUND) {
        json_decref(doc);
        return err;
    }
    doc = json_pack("{s:s, s:[], s:{}, s:{}, s:{}, s:{}}", "id", id,
                    "publicKeysForOaepWithSha256", "hcPartyKeys",
                    "aesExchangeKeys", "transferKeys",
                    "privateKeyShamirPartitions");
    if (doc == NULL
        || (args->name != NULL
            && cardea_json__set_str(doc, "name", args->name) != CARDEA_OK)
        || (args->parent != NULL
            && cardea_json__set_str(doc, "parentId", args->parent)
                   != CARDEA_OK)) {
        json_decref(doc);
        return CARDEA_ENOMEM;
    }
    err = cardea_db__entity_put(db, entity_type, doc, NULL, false);
    json_decref(doc);
    return err;
}

/* Registers the data owner, or checks that an existing one fits. */
static cardea_err
ensure_data_owner(cardea_db *db, cardea_do_type type, const char *id,
                  const user_args *args)
{
    cardea_do_type existing;
    cardea_do_type parent_type;
    cardea_err err = cardea_db__dataowner_get(&existing, NULL, db, id);

    if (err == CARDEA_OK) {
        if (existing != type) {
            cardea_cli__error("data owner %s exists with type %s", id,
                              cardea_do_type__name(existing));
            return CARDEA_EINVAL;
        }
        return ensure_document(db, type, id, args);
    }
    if (err != CARDEA_ENOTFOUND) {
        return err;
    }
    if (args->parent != NULL) {
        err = cardea_db__dataowner_get(&parent_type, NULL, db, args->parent);
        if (err != CARDEA_OK || parent_type != CARDEA_DO_HCP
            || type != CARDEA_DO_HCP) {
            cardea_cli__error("--parent must name an existing HCP, and "
                              "only an HCP may have a parent");
            return CARDEA_EINVAL;
        }
    }
    if ((err = cardea_db__dataowner_add(db, id, type, args->parent))
        != CARDEA_OK) {
        return err;
    }
    return ensure_document(db, type, id, args);
}

static int
user_add(cardea_store *store, const user_args *args)
{
    char owner_id[CARDEA_UUID_STR_LEN + 1];
    char user_id[CARDEA_UUID_STR_LEN + 1];
    cardea_do_type type = cardea_do_type__parse(args->type);
    cardea_user user = {0};
    cardea_db *db = NULL;
    char *hash = NULL;
    cardea_err err;
    int status = 1;

    if (args->login == NULL || args->password == NULL || type == 0) {
        cardea_cli__error("user add needs --login, --password and --type "
                          "hcp|patient|device");
        return 2;
    }
    cardea_uuid__v4(owner_id);
    cardea_uuid__v4(user_id);
    if ((err = hash_password(&hash, args->password)) != CARDEA_OK) {
        cardea_cli__error("cannot hash the password: %s",
                          cardea_strerror(err));
        return 1;
    }
    user.id = user_id;
    user.login = (char *)args->login;
    user.password_hash = hash;
    user.data_owner_id = args->data_owner_id != NULL
                             ? (char *)args->data_owner_id
                             : owner_id;
    user.type = type;
    user.created_ms = cardea_store__now_ms();
    if ((err = cardea_store__acquire(&db, store)) != CARDEA_OK
        || (err = cardea_db__begin(db)) != CARDEA_OK
        || (err = ensure_data_owner(db, type, user.data_owner_id, args))
               != CARDEA_OK
        || (err = cardea_db__user_add(db, &user)) != CARDEA_OK
        || (err = cardea_db__commit(db)) != CARDEA_OK) {
        if (err == CARDEA_ECONFLICT) {
            cardea_cli__error("login '%s' is already taken", args->login);
        } else if (err != CARDEA_EINVAL) {
            cardea_cli__error("cannot add the user: %s",
                              cardea_strerror(err));
        }
        goto out;
    }
    printf("%s\n", user.data_owner_id);
    status = 0;

out:
    if (db != NULL) {
        cardea_db__rollback(db);
        cardea_store__release(store, db);
    }
    cardea_mem__free_secret(hash, strlen(hash));
    return status;
}

static cardea_err
print_user(const cardea_user *user, void *arg)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s\n", user->login, cardea_do_type__name(user->type),
           user->data_owner_id, user->id);
    return CARDEA_OK;
}

static int
user_list(cardea_store *store)
{
    cardea_db *db = NULL;
    cardea_err err;

    if ((err = cardea_store__acquire(&db, store)) == CARDEA_OK) {
        err = cardea_db__user_each(db, print_user, NULL);
        cardea_store__release(store, db);
    }
    if (err != CARDEA_OK) {
        cardea_cli__error("cannot list users: %s", cardea_strerror(err));
        return 1;
    }
    return 0;
}

static int
user_passwd(cardea_store *store, const user_args *args)
{
    cardea_db *db = NULL;
    char *hash = NULL;
    cardea_err err;

    if (args->login == NULL || args->password == NULL) {
        cardea_cli__error("user passwd needs --login and --password");
        return 2;
    }
    if ((err = hash_password(&hash, args->password)) == CARDEA_OK
        && (err = cardea_store__acquire(&db, store)) == CARDEA_OK) {
        err = cardea_db__user_set_password(db, args->login, hash);
        cardea_store__release(store, db);
    }
    if (hash != NULL) {
        cardea_mem__free_secret(hash, strlen(hash));
    }
    if (err == CARDEA_ENOTFOUND) {
        cardea_cli__error("no user with login '%s'", args->login);
        return 1;
    }
    if (err != CARDEA_OK) {
        cardea_cli__error("cannot change the password: %s",
                          cardea_strerror(err));
        return 1;
    }
    return 0;
}

static int
run_user(const char *db_path, int argc, char **argv)
{
    user_args args = {0};
    cardea_store *store = NULL;
    cardea_err err;
    int status;

    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (!parse_user_args(&args, argc - 1, argv + 1)) {
        fputs("Run 'cardea admin --help' for the options.\n", stderr);
        return 2;
    }
    if (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "list") != 0
        && strcmp(argv[1], "passwd") != 0) {
        cardea_cli__error("unknown user command '%s'; use add, list or "
                          "passwd", argv[1]);
        return 2;
    }
    if ((err = cardea_store_open(&store, db_path, NULL)) != CARDEA_OK) {
        cardea_cli__error("cannot open the database %s: %s", db_path,
                          cardea_strerror(err));
        return 1;
    }
    if (strcmp(argv[1], "add") == 0) {
        status = user_add(store, &args);
    } else if (strcmp(argv[1], "list") == 0) {
        status = user_list(store);
    } else {
        status = user_passwd(store, &args);
    }
    cardea_store_close(store);
    return status;
}

int
cardea_cli__admin(int argc, char **argv)
{
    const char *db_path = getenv("CARDEA_DB");
    int i = 1;

    if (db_path == NULL || db_path[0] == '\0') {
        db_path = "./cardea.sqlite";
    }
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db_path = argv[i + 1];
            i += 2;
            continue;
        }
        cardea_cli__error("unknown option '%s'", argv[i]);
        return 2;
    }
    if (i >= argc || strcmp(argv[i], "user") != 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    return run_user(db_path, argc - i, argv + i);
}
