/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key recovery and key verification for a session, compatible with
 * @icure/cardinal-sdk 1.0.0-RC.7:
 * - recovery data: the user's key pairs, or the secrets of exchange data,
 *   AES-encrypted with a recovery key that the user writes down. The
 *   server never receives that key, because it stores the data under the
 *   SHA-256 hash of the key;
 * - give-access-back: after losing every key, the user requests its
 *   counterparts, through KEY_PAIR_UPDATE maintenance tasks, to add its
 *   new public key to the exchange data they share;
 * - verification of the user's own keys, saved in the key store.
 * Transfer keys need no call: sessions create and use them when they
 * open and reload.
 *
 * Rule shared by every recovery path: a key obtained through the server
 * (recovery data, transfer keys) only decrypts until it is verified,
 * either by the crypto strategies (recover_and_verify_keys) or by
 * cardea_session_verify_key. Only verified keys and keys generated on
 * this device encrypt new exchange data.
 *
 * Recovery keys cross this API as text: unpadded RFC 4648 base32 in
 * groups of four characters joined by '-' on output; hex or base32, any
 * case, with or without '-' and spaces, on input. They are secrets, so
 * never log them, and wipe them after use.
 *
 * Thread safety: the functions taking a session follow its rule (one
 * thread at a time per session). cardea_key_recovery_use_recovery_key
 * runs inside the recover_and_verify_keys callback, on the thread that
 * opens or reloads the session. On failure, outputs are untouched and
 * cardea_session_errmsg describes the error.
 */
#ifndef CARDEA_RECOVERY_H
#define CARDEA_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardea/common.h"
#include "cardea/session.h"
#include "cardea/strategies.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Maximum lifetime of recovery data: ten years, in seconds. */
#define CARDEA_RECOVERY_LIFETIME_MAX ((int64_t)10 * 366 * 24 * 3600)
/* Maximum `wait_s` of the functions that wait, in seconds. */
#define CARDEA_RECOVERY_WAIT_MAX 600u

#define CARDEA_RECOVERY_OPTIONS_VERSION 1

typedef struct cardea_recovery_options {
    int version;               /* CARDEA_RECOVERY_OPTIONS_VERSION */
    /* Size of the new recovery key in bytes: 16 or 32. */
    unsigned key_bytes;
    /* Seconds after which the server purges the data, or 0 to keep it
     * until it is deleted. At most CARDEA_RECOVERY_LIFETIME_MAX. */
    int64_t lifetime_s;
    /* Key pairs only: also store the verified keys of the parents. */
    bool include_parents;
} cardea_recovery_options;

#define CARDEA_RECOVERY_OPTIONS_INIT \
    { CARDEA_RECOVERY_OPTIONS_VERSION, 32, 0, false }

/* ---- key pairs (KEYPAIR_RECOVERY) --------------------------------------- */

/*
 * Creates KEYPAIR_RECOVERY recovery data and stores it on the server
 * (POST /rest/v2/recoverydata). The data contains the user's key pairs
 * that are verified or were generated on this device (and those of its
 * parents with opts->include_parents), encrypted with a new random
 * recovery key. Keys that only decrypt are left out.
 *
 * recovery_key (out) the new recovery key as grouped base32 text. Show it
 *              to the user once, then wipe it with cardea_wipe over
 *              strlen + 1 bytes and cardea_free it.
 * opts         (in)  options; NULL means CARDEA_RECOVERY_OPTIONS_INIT.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, bad options),
 * CARDEA_ENOKEY (no verified or device key to store), the HTTP codes of
 * cardea_session_open, CARDEA_ENOMEM or CARDEA_ECRYPTO.
 */
CARDEA_API cardea_err
cardea_recovery_create_key_pair_data(char **recovery_key,
                                     cardea_session *session,
                                     const cardea_recovery_options *opts)
    CARDEA_MUST_CHECK;

/*
 * Recovers key pairs with a recovery key: fetches the recovery data
 * (GET /rest/v2/recoverydata/{SHA-256 of the key}), decrypts it, keeps
 * the pairs whose public key a data owner of the user's hierarchy
 * publishes and whose private key matches it, and stores them in the key
 * store as recovered keys. The session then reloads its keys and so
 * calls the crypto strategies to verify the new ones. Until the
 * strategies or cardea_session_verify_key verify them, the recovered keys
 * only decrypt.
 *
 * recovered    (out) number of key pairs stored that the key store did
 *              not have. May be NULL.
 * recovery_key (in)  recovery key text.
 * auto_delete  (in)  delete the recovery data from the server once used.
 * Returns CARDEA_OK or one of these codes:
 * - CARDEA_EFORMAT: the text is not a recovery key.
 * - CARDEA_ENOTFOUND: no recovery data for this key, because the key is
 *   mistyped or the data was deleted, or expired and purged.
 * - CARDEA_EEXPIRED: the server returned data past its expiry.
 * - CARDEA_EVERIFY: the data does not decrypt with this key.
 * - CARDEA_EINVAL: the data contains key pairs, not exchange data, or the
 *   reverse.
 * - the codes of cardea_session_force_reload.
 */
CARDEA_API cardea_err
cardea_recovery_recover_key_pairs(size_t *recovered, cardea_session *session,
                                  const char *recovery_key, bool auto_delete)
    CARDEA_MUST_CHECK;

/*
 * Recovers key pairs as cardea_recovery_recover_key_pairs does, but first
 * waits up to `wait_s` seconds (at most CARDEA_RECOVERY_WAIT_MAX) for the
 * recovery data to be created, with the server's long poll
 * (GET /rest/v2/recoverydata/waiting/{id}). Use it for a recovery key
 * that another device creates a moment later.
 * Returns the codes of cardea_recovery_recover_key_pairs, and
 * CARDEA_ENOTFOUND when the wait ends without data.
 */
CARDEA_API cardea_err
cardea_recovery_wait_key_pairs(size_t *recovered, cardea_session *session,
                               const char *recovery_key, unsigned wait_s,
                               bool auto_delete) CARDEA_MUST_CHECK;

/*
 * Fetches and decrypts the KEYPAIR_RECOVERY data of `recovery_key`
 * (waiting up to `wait_s` seconds, 0 for no wait) and adds every pair to
 * `result` with cardea_key_recovery_add_pair. Call it only inside the
 * recover_and_verify_keys callback. As with any pair the callback adds,
 * the pairs count as verified unless cardea_key_recovery_set_status marks
 * them otherwise, because the application vouches for the recovery key it
 * was given.
 *
 * added  (out) number of pairs added; may be NULL.
 * result (in/out) the object passed to the callback.
 * Returns the codes of cardea_recovery_recover_key_pairs, and
 * CARDEA_ESTATE when `result` is not one a session passed to the
 * callback.
 */
CARDEA_API cardea_err
cardea_key_recovery_use_recovery_key(size_t *added,
                                     cardea_key_recovery *result,
                                     const char *recovery_key,
                                     unsigned wait_s, bool auto_delete)
    CARDEA_MUST_CHECK;

/*
 * Deletes the recovery data of `recovery_key` from the server
 * (DELETE /rest/v2/recoverydata/{id}).
 * Returns CARDEA_OK, CARDEA_EFORMAT, CARDEA_ENOTFOUND, or the HTTP codes
 * of cardea_session_open.
 */
CARDEA_API cardea_err cardea_recovery_purge(cardea_session *session,
                                            const char *recovery_key)
    CARDEA_MUST_CHECK;

/* ---- exchange data (EXCHANGE_KEY_RECOVERY) ------------------------------ */

/*
 * Gives a delegate that has no key yet, typically a patient invited by
 * an HCP, access to the data the user shares with it. First ensures that
 * exchange data from the user to `delegate_id` exists. When none does and
 * the delegate publishes no key, it is created for the user's own
 * verified keys only, so that cardea_entity_share works with the keyless
 * delegate afterwards. Then stores the raw secrets of every exchange data
 * from the user to the delegate that the user can decrypt, as
 * EXCHANGE_KEY_RECOVERY data for the delegate.
 *
 * recovery_key (out) grouped base32 text to hand to the delegate out of
 *              band; wipe and cardea_free it.
 * delegate_id  (in)  data owner id of the delegate.
 * opts         (in)  key size and lifetime; include_parents is ignored.
 *              NULL means CARDEA_RECOVERY_OPTIONS_INIT.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_ENOKEY (the user has no
 * verified key), CARDEA_ENOTFOUND (no such delegate), the HTTP codes of
 * cardea_session_open, CARDEA_ENOMEM or CARDEA_ECRYPTO.
 */
CARDEA_API cardea_err
cardea_recovery_create_exchange_data_for(char **recovery_key,
                                         cardea_session *session,
                                         const char *delegate_id,
                                         const cardea_recovery_options *opts)
    CARDEA_MUST_CHECK;

/*
 * Recovers access to exchange data with EXCHANGE_KEY_RECOVERY data.
 * Every exchange data it names is
 * fetched and checked first: the user must be its delegate, and the
 * recovered secrets must verify its sharedSignature, so recovery data
 * cannot make the user adopt secrets of someone else's choosing. Only
 * when every entry passes are entries added for the user's verified keys
 * (PUT /rest/v2/exchangedata), so that the user's keys open them from
 * then on. The recovery data is deleted afterwards and the session's
 * exchange-data cache is reloaded.
 *
 * recovered    (out) number of exchange data updated; may be NULL.
 * recovery_key (in)  the key received from the counterpart.
 * Returns:
 *   CARDEA_OK
 *   CARDEA_ENOKEY     the user has no verified key
 *   CARDEA_ENOTFOUND  the recovery data, or an exchange data it names, is
 *                     missing
 *   CARDEA_EVERIFY    the user is not the delegate, or the secrets do not
 *                     match
 *   CARDEA_EFORMAT    an id listed twice, or bad recovery data
 *   CARDEA_EEXPIRED, CARDEA_EINVAL
 *                     as cardea_recovery_recover_key_pairs
 *   the HTTP codes of cardea_session_open, or CARDEA_ENOMEM.
 * Nothing is written on failure unless a PUT fails part way. Running the
 * recovery again then completes it.
 */
CARDEA_API cardea_err
cardea_recovery_recover_exchange_data(size_t *recovered,
                                      cardea_session *session,
                                      const char *recovery_key)
    CARDEA_MUST_CHECK;

/* ---- give-access-back (KEY_PAIR_UPDATE maintenance tasks) --------------- */

/* Bits of the `types` argument of cardea_access_back_request. */
#define CARDEA_ACCESS_BACK_HCP (1u << 0)
#define CARDEA_ACCESS_BACK_PATIENT (1u << 1)
#define CARDEA_ACCESS_BACK_DEVICE (1u << 2)

/*
 * Requests the user's counterparts to give access back to a new key, by
 * creating one KEY_PAIR_UPDATE maintenance task per data owner that
 * shares exchange
 * data with the user not yet encrypted for `spki_hex`, as found by
 * GET /rest/v2/exchangedata/byParticipant/{self}/counterparts. Each task
 * carries the properties dataOwnerConcernedId and
 * dataOwnerConcernedPubKey (encrypted) and is shared with WRITE access to
 * its counterpart only.
 *
 * created  (out) number of tasks created; may be NULL.
 * spki_hex (in)  the new public key, whose private key the session must
 *          have. NULL means the user's newest key generated on this device.
 * types    (in)  CARDEA_ACCESS_BACK_* bits of the counterparts to request.
 *          0 means the official SDK's defaults: a patient requests patients
 *          and HCPs, an HCP requests HCPs, and a device requests no one.
 * Returns CARDEA_OK, CARDEA_EINVAL (bad key or bits), CARDEA_ENOKEY (the
 * session has no private key for it), the codes of cardea_entity_create,
 * CARDEA_ENOMEM.
 */
CARDEA_API cardea_err cardea_access_back_request(size_t *created,
                                                 cardea_session *session,
                                                 const char *spki_hex,
                                                 unsigned types)
    CARDEA_MUST_CHECK;

/* One pending KEY_PAIR_UPDATE task addressed to the user. */
typedef struct cardea_key_pair_update {
    char *task_id;
    char *data_owner_id;       /* the requester */
    char *spki_hex;            /* its new public key */
    char fp_v1[33];            /* fingerprint of that key, to compare out
                                  of band before applying */
} cardea_key_pair_update;

/*
 * Lists the pending KEY_PAIR_UPDATE tasks the user can read
 * (MaintenanceTaskByHcPartyAndTypeFilter), made by Cardea or by the
 * official SDK. Tasks that cannot be decrypted or lack a property are
 * skipped and logged.
 *
 * out   (out) array of *count entries. Free it with
 *       cardea_key_pair_updates_free. NULL when *count is 0.
 * Returns CARDEA_OK, the codes of cardea_entity_match and
 * cardea_entity_get_by_ids, or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_access_back_list(cardea_key_pair_update **out, size_t *count,
                        cardea_session *session) CARDEA_MUST_CHECK;

/* Frees a list from cardea_access_back_list. NULL does nothing. */
CARDEA_API void cardea_key_pair_updates_free(cardea_key_pair_update *list,
                                             size_t count);

/*
 * Gives access back to the new key of a data owner. Checks that
 * `data_owner_id` publishes `spki_hex` and calls the strategies'
 * verify_delegate_public_keys on that key. Then adds entries for it to
 * every exchange data between the user and that data owner, in both
 * directions, that the user can decrypt (PUT /rest/v2/exchangedata).
 * The delegator signatures are left as they are.
 *
 * updated (out) number of exchange data updated. May be NULL.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL or malformed key),
 * CARDEA_EVERIFY (the data owner does not publish that key),
 * CARDEA_EDENIED (the strategies rejected the key), CARDEA_ENOTFOUND
 * (no such data owner), the HTTP codes of cardea_session_open, or
 * CARDEA_ENOMEM.
 */
CARDEA_API cardea_err cardea_access_back_apply(size_t *updated,
                                               cardea_session *session,
                                               const char *data_owner_id,
                                               const char *spki_hex)
    CARDEA_MUST_CHECK;

/*
 * Applies the KEY_PAIR_UPDATE task `task_id` with
 * cardea_access_back_apply, then marks the task completed. Failing to
 * mark it is logged, not returned.
 * Returns the codes of cardea_access_back_apply and cardea_entity_get,
 * and CARDEA_EINVAL when the task is no KEY_PAIR_UPDATE task.
 */
CARDEA_API cardea_err cardea_access_back_apply_task(size_t *updated,
                                                    cardea_session *session,
                                                    const char *task_id)
    CARDEA_MUST_CHECK;

/* ---- verification of the user's own keys -------------------------------- */

/*
 * Records the result of an out-of-band check of one of the public keys
 * that the user or a parent publishes, such as a comparison of
 * fingerprints with another device. The result is saved in the key store
 * (org.taktik.icure.rsa.<id>.verification.self) and the session reloads
 * its keys. A verified key whose private key the session has encrypts
 * from then on. A verified key whose private key the session lacks
 * becomes a source of transfer keys. The next session that has a
 * verified private key makes the user's self exchange data and transfer
 * keys reachable from the newly verified key, so a device that has only
 * that key recovers the others.
 *
 * fingerprint (in) fingerprint v1 (32 hex digits), v2 (22) or full SPKI
 *             hex of the key.
 * verified    (in) true: genuine; false: not genuine (decrypt only).
 * Returns CARDEA_OK; CARDEA_EINVAL (NULL or malformed fingerprint);
 * CARDEA_ENOTFOUND (no data owner of the hierarchy publishes it); the
 * codes of cardea_session_force_reload.
 */
CARDEA_API cardea_err cardea_session_verify_key(cardea_session *session,
                                                const char *fingerprint,
                                                bool verified)
    CARDEA_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif
