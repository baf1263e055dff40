/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Field-level encryption of entities into `encryptedSelf`, the manifests
 * that list the fields to encrypt, and the parsing of entity keys.
 *
 * encryptedSelf = base64(AES-CBC(entityKey, compact JSON object of the
 * encrypted fields)), random IV prepended. The encrypted fields are
 * removed from the cleartext. A manifest is a list of entries:
 *
 *   field              a field of this object
 *   obj.field          a field of the nested object `obj`
 *   arr[].field        a field of each object in the array `arr`
 *   map.*.field        a field of each object value of the map `map`
 *   arr[].*            every field of each element of `arr`
 *   *                  every field of this object except encryptedSelf
 *   p.{a,b}            shorthand for p.a and p.b (after any separator)
 *   p.["a","b"]        the same shorthand as a JSON array of strings
 *
 * Field names match [A-Za-z_][A-Za-z0-9_]*. Every nested object, array
 * element and map value that a manifest reaches gets its own
 * encryptedSelf, even when none of its listed fields is present.
 *
 * Pure functions over jansson values: no I/O and no global state.
 */
#ifndef CARDEA_FORMAT_ENCRYPTED_SELF_H
#define CARDEA_FORMAT_ENCRYPTED_SELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardea/common.h"

/* Deepest nesting a manifest may describe. */
#define CARDEA_MANIFEST_MAX_DEPTH 16
/* Maximum entity key length in bytes (AES-256). */
#define CARDEA_ENTITY_KEY_MAX_LEN 32

/* How a nested manifest applies to the value of its field. */
typedef enum cardea_manifest_kind {
    CARDEA_MANIFEST_OBJECT = 1, /* obj.x: the value is one object */
    CARDEA_MANIFEST_ARRAY = 2,  /* arr[].x: each element of the array */
    CARDEA_MANIFEST_MAP = 3,    /* map.*.x: each value of the object */
} cardea_manifest_kind;

struct cardea_manifest;

typedef struct cardea_manifest_nested {
    char *name;
    cardea_manifest_kind kind;
    struct cardea_manifest *manifest;
} cardea_manifest_nested;

/*
 * A parsed manifest, read-only after cardea_manifest__parse. `full` is set
 * for "*", and then `fields` holds only "*" and `nested` is empty.
 */
typedef struct cardea_manifest {
    bool full;
    char **fields;
    size_t fields_len;
    cardea_manifest_nested *nested;
    size_t nested_len;
} cardea_manifest;

/* An AES entity key of 16 or 32 bytes. */
typedef struct cardea_entity_key {
    uint8_t bytes[CARDEA_ENTITY_KEY_MAX_LEN];
    size_t len;
} cardea_entity_key;

/* ---- entity keys -------------------------------------------------------- */

/*
 * Parses an entity key as it comes out of a delegation: 64 hex characters
 * (AES-256), 32 hex characters (AES-128), or a legacy UUID-like string
 * whose dashes are dropped before hex decoding. After dropping dashes the
 * key must be 16 or 32 bytes.
 *
 * out  (out) written on success only; wipe it with cardea_wipe after use.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument) or CARDEA_EFORMAT.
 */
cardea_err cardea_entity_key__parse(cardea_entity_key *out, const char *s,
                                    size_t len) CARDEA_MUST_CHECK;

/* ---- manifests ---------------------------------------------------------- */

/*
 * Parses `entries_len` manifest entries (grammar in the file comment).
 * Rejects a malformed entry, a field listed twice, and a name used as two
 * of field, nested object, array and map. Also rejects "*" next to any
 * other entry of the same level, a field named encryptedSelf, and nesting
 * deeper than CARDEA_MANIFEST_MAX_DEPTH.
 *
 * out  (out) free with cardea_manifest__free.
 * Returns CARDEA_OK, CARDEA_EINVAL (malformed manifest or NULL argument)
 * or CARDEA_ENOMEM.
 */
cardea_err cardea_manifest__parse(cardea_manifest **out,
                                  const char *const *entries,
                                  size_t entries_len) CARDEA_MUST_CHECK;

void cardea_manifest__free(cardea_manifest *manifest);

/* True when `name` is a field, nested object, array or map of the top
 * level of `manifest`. */
bool cardea_manifest__names(const cardea_manifest *manifest,
                            const char *name);

/*
 * Returns the default manifest entries of the official SDK for
 * `entity_type` (Patient, Contact, Service, HealthElement, CalendarItem,
 * AccessLog, MaintenanceTask, Message, Topic, Document, Form, Receipt,
 * Classification, Invoice; TimeTable has none). The Service list omits
 * `content`, which cardea_encrypted_self__encrypt_service adds itself.
 * Entries the official SDK keeps only for legacy clients are left out.
 *
 * out  (out) static array of *out_len strings.
 * Returns CARDEA_OK, CARDEA_ENOTFOUND (no default for that type) or
 * CARDEA_EINVAL.
 */
cardea_err cardea_manifest__default_entries(const char *const **out,
                                            size_t *out_len,
                                            const char *entity_type)
    CARDEA_MUST_CHECK;

/* Parses the default entries of `entity_type`; errors as both calls. */
cardea_err cardea_manifest__default(cardea_manifest **out,
                                    const char *entity_type)
    CARDEA_MUST_CHECK;

/* ---- encryption --------------------------------------------------------- */

/*
 * Encrypts the fields of `plain` that `manifest` names with `key` and
 * returns the result as a new object; `plain` is not modified. If `plain`
 * already has an encryptedSelf that decrypts with `key` to exactly the
 * fields to encrypt, it is kept as is, so re-saving an unchanged entity
 * does not change its ciphertext.
 *
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, `plain` not an object,
 * or a value the manifest calls an object, array or map that is of
 * another type and not null), CARDEA_ETOOBIG (nesting deeper than
 * CARDEA_JSON_MAX_DEPTH) or CARDEA_ENOMEM.
 */
cardea_err cardea_encrypted_self__encrypt(json_t **out, const json_t *plain,
                                          const cardea_manifest *manifest,
                                          const cardea_entity_key *key)
    CARDEA_MUST_CHECK;

/*
 * Encrypts one Service of a Contact with the Contact's key. A content
 * value is compound when it has a non-empty compoundValue and no other
 * value, and an absent or empty `content` counts as compound. When every
 * value is compound, `content` stays in clear and each sub-service of each
 * compoundValue is encrypted the same way, recursively. Otherwise
 * `content` is encrypted along with the fields of `service_manifest`, which
 * must not name `content`.
 *
 * Returns the errors of cardea_encrypted_self__encrypt, and CARDEA_EINVAL
 * when the manifest names `content`.
 */
cardea_err cardea_encrypted_self__encrypt_service(
    json_t **out, const json_t *service,
    const cardea_manifest *service_manifest, const cardea_entity_key *key)
    CARDEA_MUST_CHECK;

/*
 * Encrypts a Contact: its own fields with `contact_manifest` (which must
 * not name `services`), then each element of `services` with
 * cardea_encrypted_self__encrypt_service and the same key.
 */
cardea_err cardea_encrypted_self__encrypt_contact(
    json_t **out, const json_t *contact,
    const cardea_manifest *contact_manifest,
    const cardea_manifest *service_manifest, const cardea_entity_key *key)
    CARDEA_MUST_CHECK;

/*
 * Encrypts an entity of `entity_type` with the default manifests, using
 * the Contact and Service rules above for those two types.
 *
 * Returns the errors above and CARDEA_ENOTFOUND for a type without a
 * default manifest.
 */
cardea_err cardea_encrypted_self__encrypt_entity(json_t **out,
                                                 const char *entity_type,
                                                 const json_t *plain,
                                                 const cardea_entity_key *key)
    CARDEA_MUST_CHECK;

/* ---- decryption --------------------------------------------------------- */

/*
 * Decrypts every encryptedSelf in `encrypted`: first those of nested
 * objects and of arrays whose elements are all objects or null, then the
 * object's own, whose fields are merged over the cleartext (a decrypted
 * field wins). Each encryptedSelf is tried with each of `keys` in order.
 * A key is rejected when the padding check fails or the plaintext is not
 * a JSON object. The encryptedSelf members stay in the result, as the
 * official SDK leaves them, so that cardea_encrypted_self__encrypt can
 * reuse them. A null encryptedSelf counts as absent.
 *
 * out  (out) new object; it holds decrypted health data, so do not log it.
 * Returns CARDEA_OK, CARDEA_EINVAL (NULL argument, no keys, `encrypted`
 * not an object), CARDEA_EFORMAT (encryptedSelf not a base64 string),
 * CARDEA_EVERIFY (no key decrypts some encryptedSelf), CARDEA_ETOOBIG
 * (nesting deeper than CARDEA_JSON_MAX_DEPTH) or CARDEA_ENOMEM.
 */
cardea_err cardea_encrypted_self__decrypt(json_t **out,
                                          const json_t *encrypted,
                                          const cardea_entity_key *keys,
                                          size_t keys_len) CARDEA_MUST_CHECK;

#endif
