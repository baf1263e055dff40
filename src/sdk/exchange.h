/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal contract of the SDK's entity layer. It covers the exchange-data
 * cache of a session (lazy LRU for explicit users, everything at once for
 * anonymous ones) and the access-control headers derived from it. It also
 * covers the delegates an entity is shared with, and the decrypted view
 * of an entity's sharing metadata that create, share and attachments use.
 *
 * The cache lives in session->ext; the first call of this layer installs
 * it with its ext_reset and ext_free hooks. Functions that take a session
 * write the reason of a failure to its errmsg and leave outputs untouched.
 */
#ifndef CARDEA_SDK_EXCHANGE_H
#define CARDEA_SDK_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "format/delegation.h"
#include "format/encrypted_self.h"
#include "format/exchange_data.h"
#include "format/keys.h"
#include "sdk/sdk.h"
#include "cardea/entity.h"

/* Entity types this layer serves: cardea_entity_type values 1 to 5. */
#define CARDEA_SDK_KINDS 5
/* Exchange data an explicit user keeps decrypted before evicting. */
#define CARDEA_SDK_XD_LRU_MAX 1000
/* Exchange data an anonymous user loads at most (all of its own). */
#define CARDEA_SDK_XD_FULL_MAX 100000
/* Page size of GET /exchangedata/byParticipant, as the official SDK. */
#define CARDEA_SDK_XD_PAGE 1000
/* Delegates whose type and stub a session remembers. */
#define CARDEA_SDK_PARTY_MAX 256
/* Entities one byIds call accepts. */
#define CARDEA_SDK_BY_IDS_MAX 1000
/* Name of the header that carries access-control keys. */
#define CARDEA_SDK_AC_HEADER "Icure-Access-Control-Keys"

/* ---- entity types (ackeys.c) ------------------------------------------- */

/* Index 0..CARDEA_SDK_KINDS-1 of a type, or -1 when it is not one. */
int cardea_sdk__kind(cardea_entity_type type);
/* "Patient", "HealthElement", ...: the string acKeys are salted with. */
const char *cardea_sdk__kind_name(int kind);
/* "patient", "helement", ...: the REST path below /rest/v2/. */
const char *cardea_sdk__kind_path(int kind);

/* ---- decrypted exchange data (exchange.c) ------------------------------ */

/* Bits of cardea_sdk_xd.decrypted: the secrets held in its content. */
#define CARDEA_SDK_XD_EXCHANGE_KEY 1u
#define CARDEA_SDK_XD_AC_SECRET 2u
#define CARDEA_SDK_XD_SIGNATURE_KEY 4u
#define CARDEA_SDK_XD_ALL 7u

/*
 * One exchange data the session knows. Each secret costs one RSA
 * private-key operation and is decrypted at most once per session, when
 * first needed: the exchange key to read or write through it, the
 * access-control secret for the acKeys and sdKeys (always loaded for an
 * anonymous user), and the shared-signature key only to verify the
 * user's own exchange data before encrypting with it. Owned by the
 * cache: a pointer stays valid until the public call that obtained it
 * returns (entries used during a call are never evicted by it).
 */
typedef struct cardea_sdk_xd {
    char *id;
    char *delegator;
    char *delegate;
    json_t *json;                  /* as the server returned it */
    cardea_exchange_content *content; /* the secrets in `decrypted` */
    unsigned decrypted;            /* CARDEA_SDK_XD_* bits */
    bool checked;                  /* verification ran */
    bool verified;                 /* checked and usable to encrypt */
    /* Valid when `decrypted` has CARDEA_SDK_XD_AC_SECRET. */
    uint8_t ackeys[CARDEA_SDK_KINDS][CARDEA_AC_KEY_LEN];
    char sdkeys[CARDEA_SDK_KINDS][CARDEA_SD_KEY_HEX_LEN + 1];
    uint64_t last_use;
} cardea_sdk_xd;

/* A data owner an entity is shared with. */
typedef struct cardea_sdk_party {
    char *id;
    cardea_data_owner_type type;
    bool anonymous;
    int owner;                     /* index in session->owners, or -1 */
    json_t *stub;                  /* {type, stub}; NULL for the hierarchy */
} cardea_sdk_party;

/*
 * The cache in session->ext. `items` contains every exchange data of an
 * anonymous user (`full`), or the most recently used ones of an explicit
 * user, evicted by `last_use` once CARDEA_SDK_XD_LRU_MAX is reached.
 * Entries used in the current epoch (public call) are never evicted.
 */
typedef struct cardea_sdk_xstate {
    cardea_sdk_xd **items;
    size_t count;
    size_t cap;
    bool full;                     /* the user is anonymous */
    bool loaded;                   /* `full` and every item is loaded */
    uint64_t clock;                /* bumped on each use */
    uint64_t epoch;                /* clock value when the call began */
    char **header_values[CARDEA_SDK_KINDS];
    size_t header_counts[CARDEA_SDK_KINDS];
    bool headers_valid[CARDEA_SDK_KINDS];
    cardea_sdk_party **parties;    /* each allocated on its own */
    size_t party_count;
} cardea_sdk_xstate;

/*
 * Starts one public call: installs the cache on first use, loads every
 * exchange data of an anonymous user when not loaded yet (after open or
 * force_reload), and opens a new epoch for LRU eviction.
 */
cardea_err cardea_sdk__xd_begin(cardea_session *session) CARDEA_MUST_CHECK;

/*
 * Returns the exchange data `id` with its exchange key decrypted: from
 * the cache, else fetched with GET /exchangedata/{id} and cached.
 * CARDEA_ENOTFOUND, CARDEA_EVERIFY or CARDEA_ENOKEY when it does not
 * exist or no key of the hierarchy opens it.
 */
cardea_err cardea_sdk__xd_by_id(const cardea_sdk_xd **out,
                                cardea_session *session, const char *id)
    CARDEA_MUST_CHECK;

/*
 * The cached exchange data whose sdKey for `kind` is `sdkey`, with its
 * exchange key decrypted, or NULL. Only entries whose access-control
 * secret is decrypted can match: all of an anonymous user's, and an
 * explicit user's own verified ones. NULL also when the exchange key
 * fails to decrypt (the reason is logged at debug level).
 */
const cardea_sdk_xd *cardea_sdk__xd_by_sdkey(cardea_session *session,
                                             int kind, const char *sdkey);

/*
 * Decrypts the access-control secret of the cached `xd` (one RSA
 * private-key operation, once per session), so that
 * cardea_sdk__xd_by_sdkey finds it afterwards. For an explicit user
 * reading a delegation without exchangeDataId (one side anonymous):
 * without it, every later read of such a delegation decrypts its
 * exchange-data id from ExchangeDataMap again.
 */
cardea_err cardea_sdk__xd_need_ackeys(cardea_session *session,
                                      const cardea_sdk_xd *xd)
    CARDEA_MUST_CHECK;

/*
 * Returns exchange data from the user to `delegate` that is fully
 * decrypted and verified: the cache first, then GET /exchangedata/
 * byDelegatorDelegate/{self}/{delegate}, else new exchange data encrypted
 * for the user's safe keys and the delegate's accepted keys, POSTed and
 * cached. The strategies verify the delegate's keys only in that last
 * case, and never for the user or its hierarchy.
 * CARDEA_ENOKEY when the user has no safe key or the delegate publishes
 * no key; CARDEA_EDENIED when the strategies accept none of its keys.
 */
cardea_err cardea_sdk__xd_to(const cardea_sdk_xd **out,
                             cardea_session *session,
                             const cardea_sdk_party *delegate)
    CARDEA_MUST_CHECK;

/*
 * Resolves a delegate: the user, a parent, or another data owner read
 * with GET /dataowner/stub/{id} (remembered for the session).
 * `out` is borrowed from the cache, valid like a cardea_sdk_xd.
 */
cardea_err cardea_sdk__party(const cardea_sdk_party **out,
                             cardea_session *session, const char *id)
    CARDEA_MUST_CHECK;

/*
 * Borrowed views of the session's keys for the format layer.
 * decryption_keys: every private key of the hierarchy.
 * safe_keys: the user's own keys that are verified or device keys.
 * `out`: cardea_free the array only; the keys stay the session's.
 */
cardea_err cardea_sdk__decryption_keys(cardea_owner_key **out, size_t *count,
                                       cardea_session *session)
    CARDEA_MUST_CHECK;
cardea_err cardea_sdk__safe_keys(cardea_owner_key **out, size_t *count,
                                 cardea_session *session) CARDEA_MUST_CHECK;

/* ---- access-control headers (ackeys.c) ------------------------------- */

/*
 * Builds the Icure-Access-Control-Keys headers of a request about an
 * entity of `kind`. An explicit user sends none. An anonymous user sends
 * the acKeys of every cached exchange data, at most
 * CARDEA_AC_KEYS_PER_HEADER per value and one header line per value. The
 * values are cached per kind until the exchange-data cache changes.
 * `out`: cardea_free the array only; NULL when there is no header.
 */
cardea_err cardea_sdk__ac_headers(cardea_http_header **out, size_t *count,
                                  cardea_session *session, int kind)
    CARDEA_MUST_CHECK;

/* Drops the cached header values (after the exchange data changed). */
void cardea_sdk__ac_headers_invalidate(cardea_session *session);

/* cardea_sdk__request_json with the access-control headers of `kind`. */
cardea_err cardea_sdk__entity_request(json_t **out, cardea_session *session,
                                      int kind, const char *method,
                                      const char *path, const json_t *body)
    CARDEA_MUST_CHECK;

/* ---- sharing metadata of an entity (entity.c) ------------------------- */

/* A set of distinct strings; `secret` ones are wiped when freed. */
typedef struct cardea_sdk_strings {
    char **items;
    size_t count;
} cardea_sdk_strings;

cardea_err cardea_sdk__strings_add(cardea_sdk_strings *set, const char *s)
    CARDEA_MUST_CHECK;
bool cardea_sdk__strings_has(const cardea_sdk_strings *set, const char *s);
void cardea_sdk__strings_free(cardea_sdk_strings *set, bool secret);

/*
 * What the user can open of an entity's metadata: the delegations it can
 * access (their sdKeys) and the decrypted secret ids, entity keys and
 * owning entity ids of all of them, legacy metadata included.
 */
typedef struct cardea_sdk_access {
    json_t *entity;                /* the entity as stored (encrypted) */
    cardea_sdk_strings sdkeys;
    cardea_sdk_strings secret_ids;
    cardea_sdk_strings keys_hex;   /* secret */
    cardea_sdk_strings owning_ids;
    cardea_entity_key *keys;       /* parsed keys_hex, secret */
    size_t key_count;
} cardea_sdk_access;

/*
 * Opens the metadata of `entity` (borrowed; a reference is kept).
 * CARDEA_EVERIFY when no delegation yields an entity key.
 */
cardea_err cardea_sdk__access_open(cardea_sdk_access *out,
                                   cardea_session *session, int kind,
                                   json_t *entity) CARDEA_MUST_CHECK;

/* GET /<kind>/{id}, then cardea_sdk__access_open. */
cardea_err cardea_sdk__access_fetch(cardea_sdk_access *out,
                                    cardea_session *session, int kind,
                                    const char *id) CARDEA_MUST_CHECK;

/* Wipes and frees the contents of `access` and zeroes it. */
void cardea_sdk__access_free(cardea_sdk_access *access);

/*
 * Decrypts the encryptedSelf members of `access->entity` with its keys.
 * `out`: a new object holding health data; never log it.
 */
cardea_err cardea_sdk__access_decrypt(json_t **out, cardea_session *session,
                                      const cardea_sdk_access *access)
    CARDEA_MUST_CHECK;

/*
 * Decrypts `access->entity` as cardea_sdk__access_decrypt does and writes
 * it as JSON text into `out`, freed with cardea_free. The text contains
 * health data.
 */
cardea_err cardea_sdk__access_dump(char **out, cardea_session *session,
                                   const cardea_sdk_access *access)
    CARDEA_MUST_CHECK;

/* Opens `entity` of `kind` (borrowed), then cardea_sdk__access_dump. */
cardea_err cardea_sdk__entity_dump(char **out, cardea_session *session,
                                   int kind, json_t *entity)
    CARDEA_MUST_CHECK;

/* Dumps `value` as compact JSON text; CARDEA_ENOMEM on failure. */
cardea_err cardea_sdk__dump(char **out, cardea_session *session,
                            const json_t *value) CARDEA_MUST_CHECK;

/* Builds "<kind path><suffix>" with `id` escaped when not NULL. */
cardea_err cardea_sdk__entity_path(char **out, cardea_session *session,
                                   int kind, const char *suffix,
                                   const char *id) CARDEA_MUST_CHECK;

/*
 * Uploads ExchangeDataMap entries with PUT /exchangedatamap/batch:
 * `batch` is {acKeyHex: {fpV2: base64}}. Nothing is sent when empty.
 */
cardea_err cardea_sdk__exmap_put(cardea_session *session, const json_t *batch)
    CARDEA_MUST_CHECK;

/*
 * Encrypts the exchange-data id of a delegation from the user to
 * `delegate` through `xd`, as the official SDK does. `*out` is NULL when
 * both sides are explicit or both anonymous. An explicit user encrypts it
 * for its own safe keys when the delegate is anonymous. An anonymous user
 * encrypts it for the explicit delegate's published keys that `xd`'s
 * exchangeKey map names.
 */
cardea_err cardea_sdk__encrypted_xd_id(json_t **out, cardea_session *session,
                                       const cardea_sdk_xd *xd,
                                       const cardea_sdk_party *delegate)
    CARDEA_MUST_CHECK;

#endif
