/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Password hashing with libargon2: Argon2id at the OWASP minimum cost
 * (19 MiB of memory, 2 passes, 1 lane), a 16-byte random salt and a
 * 32-byte tag, stored as the library's encoded "$argon2id$..." string.
 */
#include <string.h>

#include <argon2.h>

#include "base/base.h"
#include "server/server.h"

#define T_COST 2
#define M_COST_KIB (19 * 1024)
#define PARALLELISM 1
#define SALT_LEN 16
#define TAG_LEN 32

/* see server/server.h */
cardea_err
cardea_password__hash(char **out, const char *password)
{
    uint8_t salt[SALT_LEN];
    size_t pw_len;
    size_t encoded_len;
    char *encoded;
    int rc;

    if (out == NULL || password == NULL) {
        return CARDEA_EINVAL;
    }
    pw_len = strlen(password);
    if (pw_len > CARDEA_PASSWORD_MAX_LEN) {
        return CARDEA_ETOOBIG;
    }
    encoded_len = argon2_encodedlen(T_COST, M_COST_KIB, PARALLELISM,
                                    SALT_LEN, TAG_LEN, Argon2_id);
    if ((encoded = cardea_mem__alloc(encoded_len)) == NULL) {
        return CARDEA_ENOMEM;
    }
    cardea_random__bytes(salt, sizeof salt);
    rc = argon2id_hash_encoded(T_COST, M_COST_KIB, PARALLELISM, password,
                               pw_len, salt, sizeof salt, TAG_LEN, encoded,
                               encoded_len);
    if (rc != ARGON2_OK) {
        cardea_log__write(CARDEA_LOG_ERROR, "argon2id hashing failed: %s",
                          argon2_error_message(rc));
        cardea_mem__free(encoded);
        return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? CARDEA_ENOMEM
                                                    : CARDEA_ECRYPTO;
    }
    *out = encoded;
    return CARDEA_OK;
}

/* see server/server.h */
cardea_err
cardea_password__verify(const char *encoded, const char *password)
{
    size_t pw_len;
    int rc;

    if (encoded == NULL || password == NULL) {
        return CARDEA_EAUTH;
    }
    pw_len = strlen(password);
    if (pw_len > CARDEA_PASSWORD_MAX_LEN) {
        return CARDEA_EAUTH;
    }
    /* argon2id_verify compares the tags in constant time. */
    rc = argon2id_verify(encoded, password, pw_len);
    if (rc == ARGON2_OK) {
        return CARDEA_OK;
    }
    if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
        return CARDEA_ENOMEM;
    }
    return CARDEA_EAUTH;
}
