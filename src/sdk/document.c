/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Main attachment of a document: AES-CBC with the document's entity key
 * (random IV prepended, no base64), uploaded as application/octet-stream
 * with PUT /document/{id}/attachment?rev=&utis=&encrypted=true and read
 * back with GET /document/{id}/attachment.
 */
#include <string.h>

#include "sdk/exchange.h"

/* Sends a raw request about a document with its access-control headers. */
static cardea_err
document_request(uint8_t **out, size_t *out_len, cardea_session *session,
                 const char *method, const char *path, const uint8_t *body,
                 size_t body_len)
{
    int kind = cardea_sdk__kind(CARDEA_ENTITY_DOCUMENT);
    cardea_http_header *headers = NULL;
    size_t header_count = 0;
    cardea_err err;

    err = cardea_sdk__ac_headers(&headers, &header_count, session, kind);
    if (err == CARDEA_OK) {
        err = cardea_sdk__request(out, out_len, session, method, path,
                                  headers, header_count, body, body_len,
                                  body != NULL ? "application/octet-stream"
                                               : NULL);
    }
    cardea_free(headers);
    return err;
}

static cardea_err
attachment_path(char **out, cardea_session *session, const char *id,
                const char *rev, const char *uti)
{
    int kind = cardea_sdk__kind(CARDEA_ENTITY_DOCUMENT);
    char *rev_esc = NULL;
    char *uti_esc = NULL;
    char *base = NULL;
    cardea_buf buf;
    cardea_err err;

    cardea_buf__init(&buf, 0);
    err = cardea_sdk__entity_path(&base, session, kind, "/attachment", id);
    if (err != CARDEA_OK) {
        return err;
    }
    err = cardea_buf__append_str(&buf, base);
    if (err == CARDEA_OK && rev != NULL) {
        err = cardea_sdk__escape_segment(&rev_esc, rev);
        if (err == CARDEA_OK) {
            err = cardea_buf__append_str(&buf, "?rev=");
        }
        if (err == CARDEA_OK) {
            err = cardea_buf__append_str(&buf, rev_esc);
        }
        if (err == CARDEA_OK && uti != NULL) {
            err = cardea_sdk__escape_segment(&uti_esc, uti);
            if (err == CARDEA_OK) {
                err = cardea_buf__append_str(&buf, "&utis=");
            }
            if (err == CARDEA_OK) {
                err = cardea_buf__append_str(&buf, uti_esc);
            }
        }
        if (err == CARDEA_OK) {
            err = cardea_buf__append_str(&buf, "&encrypted=true");
        }
    }
    if (err == CARDEA_OK) {
        err = cardea_buf__take_str(out, &buf);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "out of memory");
    }
    cardea_buf__free(&buf, false);
    cardea_free(base);
    cardea_free(rev_esc);
    cardea_free(uti_esc);
    return err;
}

static cardea_err
decrypt_document(char **out, cardea_session *session, const uint8_t *text,
                 size_t len)
{
    json_t *stored = NULL;
    char message[128];
    cardea_err err;

    err = cardea_json__parse(&stored, (const char *)text, len, message,
                             sizeof message);
    if (err != CARDEA_OK || !json_is_object(stored)) {
        json_decref(stored);
        cardea_sdk__set_error(session, "attachment upload: the answer is no "
                              "document");
        return CARDEA_EFORMAT;
    }
    err = cardea_sdk__entity_dump(out, session,
                                  cardea_sdk__kind(CARDEA_ENTITY_DOCUMENT),
                                  stored);
    json_decref(stored);
    return err;
}

/* see cardea/entity.h */
cardea_err
cardea_document_set_attachment(char **out, cardea_session *session,
                               const char *document_id, const char *uti,
                               const uint8_t *data, size_t data_len)
{
    cardea_sdk_access access = {0};
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    char *path = NULL;
    const char *rev;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    if (out == NULL || document_id == NULL || (data == NULL && data_len > 0)) {
        cardea_sdk__set_error(session, "invalid attachment argument");
        return CARDEA_EINVAL;
    }
    if ((err = cardea_sdk__xd_begin(session)) != CARDEA_OK
        || (err = cardea_sdk__access_fetch(
                &access, session, cardea_sdk__kind(CARDEA_ENTITY_DOCUMENT),
                document_id)) != CARDEA_OK) {
        goto out;
    }
    rev = cardea_json__get_str(access.entity, "rev");
    err = cardea_aes__cbc_encrypt_alloc(&blob, &blob_len,
                                        access.keys[0].bytes,
                                        access.keys[0].len, data, data_len);
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "encrypting the attachment failed: "
                              "%s", cardea_strerror(err));
        goto out;
    }
    err = attachment_path(&path, session, document_id,
                          rev != NULL ? rev : "", uti);
    if (err == CARDEA_OK) {
        err = document_request(&answer, &answer_len, session, "PUT", path,
                               blob, blob_len);
    }
    if (err == CARDEA_OK) {
        err = decrypt_document(out, session, answer, answer_len);
    }

out:
    cardea_free(answer);
    cardea_free(blob);
    cardea_free(path);
    cardea_sdk__access_free(&access);
    return err;
}

/* see cardea/entity.h */
cardea_err
cardea_document_get_attachment(uint8_t **out, size_t *out_len,
                               cardea_session *session,
                               const char *document_id)
{
    cardea_sdk_access access = {0};
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    char *path = NULL;
    cardea_err err;

    if (session == NULL) {
        return CARDEA_EINVAL;
    }
    if (out == NULL || out_len == NULL || document_id == NULL) {
        cardea_sdk__set_error(session, "invalid attachment argument");
        return CARDEA_EINVAL;
    }
    if ((err = cardea_sdk__xd_begin(session)) != CARDEA_OK
        || (err = cardea_sdk__access_fetch(
                &access, session, cardea_sdk__kind(CARDEA_ENTITY_DOCUMENT),
                document_id)) != CARDEA_OK
        || (err = attachment_path(&path, session, document_id, NULL, NULL))
               != CARDEA_OK
        || (err = document_request(&blob, &blob_len, session, "GET", path,
                                   NULL, 0)) != CARDEA_OK) {
        goto out;
    }
    err = CARDEA_EVERIFY;
    for (size_t i = 0; i < access.key_count && err == CARDEA_EVERIFY; i++) {
        err = cardea_aes__cbc_decrypt_alloc(out, out_len, access.keys[i].bytes,
                                            access.keys[i].len, blob,
                                            blob_len);
    }
    if (err != CARDEA_OK) {
        cardea_sdk__set_error(session, "attachment of document %s cannot be "
                              "decrypted: %s", document_id,
                              cardea_strerror(err));
    }

out:
    cardea_free(blob);
    cardea_free(path);
    cardea_sdk__access_free(&access);
    return err;
}
