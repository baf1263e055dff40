/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encrypted entities: patients, health elements, contacts, documents and
 * maintenance tasks. Entities cross this API as JSON text in decrypted
 * form, with the iCure field names. The session encrypts the fields the
 * type's manifest names into `encryptedSelf`, builds the sharing metadata
 * (`securityMetadata`, `secretForeignKeys`) and decrypts on the way back.
 *
 * Every function takes a session and follows its thread-safety rule (one
 * thread at a time per session). On failure, cardea_session_errmsg
 * describes the error, and outputs are left untouched. Returned strings
 * and arrays are freed with cardea_free unless stated otherwise. They may
 * contain health data, so wipe them before freeing when that matters.
 */
#ifndef CARDEA_ENTITY_H
#define CARDEA_ENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "cardea/common.h"
#include "cardea/session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cardea_entity_type {
    CARDEA_ENTITY_PATIENT = 1,          /* /rest/v2/patient, "Patient" */
    CARDEA_ENTITY_HEALTH_ELEMENT = 2,   /* /rest/v2/helement */
    CARDEA_ENTITY_CONTACT = 3,          /* /rest/v2/contact */
    CARDEA_ENTITY_DOCUMENT = 4,         /* /rest/v2/document */
    CARDEA_ENTITY_MAINTENANCE_TASK = 5, /* /rest/v2/maintenancetask */
} cardea_entity_type;

/*
 * Access granted to a delegate, written as the `permissions` of its
 * SecureDelegation (the format layer uses this enumeration too).
 */
typedef enum cardea_access_level {
    CARDEA_ACCESS_READ = 1,
    CARDEA_ACCESS_WRITE = 2,
} cardea_access_level;

/* A data owner to share a new entity with. */
typedef struct cardea_entity_delegate {
    const char *data_owner_id;
    cardea_access_level access;
} cardea_entity_delegate;

#define CARDEA_ENTITY_CREATE_OPTIONS_VERSION 1

typedef struct cardea_entity_create_options {
    int version;               /* CARDEA_ENTITY_CREATE_OPTIONS_VERSION */
    /* Patient the new entity belongs to, or NULL. The patient's secret
     * ids become the entity's `secretForeignKeys`, and its id is stored
     * encrypted as the owning entity id. Ignored for patients. */
    const char *owning_patient_id;
    /* Data owners who get access at creation, besides the user. */
    const cardea_entity_delegate *delegates;
    size_t delegate_count;
} cardea_entity_create_options;

#define CARDEA_ENTITY_CREATE_OPTIONS_INIT \
    { CARDEA_ENTITY_CREATE_OPTIONS_VERSION, NULL, NULL, 0 }

/*
 * Encrypts and creates an entity (POST /rest/v2/<type>). The entity gets
 * a new AES-256 key, a new secret id and a root delegation from the user
 * to itself with WRITE access. Each delegate in `opts` gets a child
 * delegation. When no exchange data to a delegate exists, it is created
 * first, and the strategies then verify the delegate's keys. A missing
 * `id` is set to a new UUID, and a given one is kept. When the entity
 * does not set them, `author` and `responsible` are the user id and the
 * data owner id for an explicit user, and "*" for an anonymous one.
 * Fields that the type's default manifest or the session's encrypted
 * fields (cardea_session_options.encrypted_fields) name go to
 * `encryptedSelf`. The services of a Contact are encrypted with the
 * Contact's key, with the Service list. Incoming `rev`,
 * `securityMetadata` and `secretForeignKeys` are replaced.
 *
 * out    (out) the created entity, decrypted, with `id` and `rev`;
 *        cardea_free it.
 * json   (in)  the entity as decrypted JSON text (an object).
 * opts   (in)  options; NULL means CARDEA_ENTITY_CREATE_OPTIONS_INIT.
 * Returns CARDEA_OK or one of these codes:
 * - CARDEA_EINVAL: NULL argument, bad type or options, or JSON that is
 *   not an object.
 * - CARDEA_ENOKEY: no key safe for encryption, or a delegate that
 *   publishes no key.
 * - CARDEA_EDENIED: the strategies accepted none of a delegate's keys,
 *   and the message names that delegate.
 * - CARDEA_EVERIFY: the owning patient cannot be opened.
 * - the HTTP codes of cardea_session_open, CARDEA_ENOMEM or
 *   CARDEA_ECRYPTO.
 */
CARDEA_API cardea_err
cardea_entity_create(char **out, cardea_session *session,
                     cardea_entity_type type, const char *json,
                     const cardea_entity_create_options *opts)
    CARDEA_MUST_CHECK;

/*
 * Fetches one entity (GET /rest/v2/<type>/{id}) and decrypts it. The
 * result keeps `securityMetadata`, `secretForeignKeys` and the
 * `encryptedSelf` members, so it can be passed to cardea_entity_modify.
 *
 * out (out) the entity, decrypted. Free it with cardea_free.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_ENOTFOUND (no such entity, or
 * no access), CARDEA_EVERIFY (no delegation the session can open, or no
 * key decrypts it), the HTTP codes of cardea_session_open, or
 * CARDEA_ENOMEM.
 */
CARDEA_API cardea_err cardea_entity_get(char **out, cardea_session *session,
                                        cardea_entity_type type,
                                        const char *id) CARDEA_MUST_CHECK;

/*
 * Encrypts and saves a modified entity (PUT /rest/v2/<type>) with the
 * entity key it already has and the session's manifests, as
 * cardea_entity_create does. `json` must carry the `id` and the `rev` it
 * was read with. The sharing metadata is copied from the stored entity,
 * whatever `json` contains, because it changes only through sharing.
 *
 * out (out) the saved entity, decrypted, with its new `rev`.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, no id or rev),
 * CARDEA_ECONFLICT (stale rev), CARDEA_ENOTFOUND, CARDEA_EACCESS (no
 * write access), CARDEA_EVERIFY, the HTTP codes of cardea_session_open,
 * or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_entity_modify(char **out, cardea_session *session,
                     cardea_entity_type type, const char *json)
    CARDEA_MUST_CHECK;

/*
 * Lists the ids of the entities a filter selects (POST .../match).
 *
 * ids    (out) array of *count strings. Free it with cardea_strings_free.
 *        NULL when *count is 0.
 * filter (in)  the filter as JSON text, such as
 *              {"$type":"PatientByHcPartyFilter","healthcarePartyId":"…"}.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, filter that is not an
 * object), CARDEA_EFORMAT (response is not an array of strings), the HTTP
 * codes of cardea_session_open (an unsupported filter gives CARDEA_EHTTP),
 * or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_entity_match(char ***ids, size_t *count, cardea_session *session,
                    cardea_entity_type type, const char *filter)
    CARDEA_MUST_CHECK;

/*
 * Fetches entities by id (POST .../byIds) and decrypts them. An entity
 * the user can fetch but not decrypt does not fail the call, because one
 * entity shared with a key the user lost should not hide the others.
 * Instead, it is left out of `out`, and its id is listed in `failed_ids`
 * and logged at CARDEA_LOG_WARN. Ids the server does not return (unknown,
 * or no access) are simply absent.
 *
 * out          (out) JSON array text of the decrypted entities, in the
 *              server's order. Free it with cardea_free.
 * failed_ids   (out) ids fetched but not decrypted. Free them with
 *              cardea_strings_free. May be NULL together with
 *              failed_count.
 * failed_count (out) number of failed ids.
 * ids          (in)  `id_count` ids, at most 1000.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, bad type, more than
 * 1000 ids), CARDEA_EFORMAT (response is not an array), the HTTP codes
 * of cardea_session_open, or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_entity_get_by_ids(char **out, char ***failed_ids,
                         size_t *failed_count, cardea_session *session,
                         cardea_entity_type type, const char *const *ids,
                         size_t id_count) CARDEA_MUST_CHECK;

/*
 * Shares an entity with a data owner (PUT .../bulkSharedMetadataUpdate).
 * Exchange data from the user to the delegate is taken from the session's
 * cache or the server, or created when none is verified (the strategies
 * then verify the delegate's keys, and only accepted keys receive it).
 * The delegate gets every secret id, entity key and owning entity id the
 * user can open. WRITE requests MAX_WRITE (write when the user's own
 * delegation allows it), and READ requests MAX_READ. When the entity
 * already has a delegation to the delegate through that exchange data,
 * only the values it lacks are added, and nothing is sent when it lacks
 * none. An anonymous delegate can read a first share from a data owner
 * only after its own session is reloaded (cardea_session_force_reload).
 *
 * out (out) the updated entity, decrypted.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_ENOTFOUND (unknown entity or
 * delegate), CARDEA_ENOKEY, CARDEA_EDENIED (as cardea_entity_create),
 * CARDEA_EVERIFY, CARDEA_EACCESS, CARDEA_ECONFLICT or CARDEA_EHTTP when
 * the server rejected the request (the message gives its reason), the
 * HTTP codes of cardea_session_open, or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_entity_share(char **out, cardea_session *session,
                    cardea_entity_type type, const char *id,
                    const char *delegate_id, cardea_access_level access)
    CARDEA_MUST_CHECK;

/*
 * Encrypts `data` with the document's key and stores it as the main
 * attachment of the document (PUT /rest/v2/document/{id}/attachment with
 * the document's current rev).
 *
 * out     (out) the updated document, decrypted, with its new rev.
 * uti     (in)  Uniform Type Identifier of the content, such as
 *               "public.plain-text", or NULL to send none.
 * data    (in)  `data_len` bytes. May be NULL when data_len is 0.
 * Returns CARDEA_OK, CARDEA_EINVAL, CARDEA_ENOTFOUND (no such document or
 * no access), CARDEA_EVERIFY (no delegation the session can open),
 * CARDEA_ECONFLICT (the document changed meanwhile), the HTTP codes of
 * cardea_session_open, or CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_document_set_attachment(char **out, cardea_session *session,
                               const char *document_id, const char *uti,
                               const uint8_t *data, size_t data_len)
    CARDEA_MUST_CHECK;

/*
 * Fetches and decrypts the main attachment of a document.
 *
 * out     (out) the attachment; wipe it if needed, then cardea_free it.
 * out_len (out) its length in bytes.
 * Returns CARDEA_OK, CARDEA_ENOTFOUND (no document or no attachment),
 * CARDEA_EVERIFY, the HTTP codes of cardea_session_open, or
 * CARDEA_ENOMEM.
 */
CARDEA_API cardea_err
cardea_document_get_attachment(uint8_t **out, size_t *out_len,
                               cardea_session *session,
                               const char *document_id) CARDEA_MUST_CHECK;

/* Frees an array of `count` strings and the array. NULL does nothing. */
CARDEA_API void cardea_strings_free(char **strings, size_t count);

#ifdef __cplusplus
}
#endif

#endif
