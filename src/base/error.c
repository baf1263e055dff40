/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text for each cardea_err code. Kept in one table so the public header
 * and the messages cannot drift apart unnoticed: the unit test walks every
 * value from CARDEA_OK down to the last one.
 */
#include "cardea/common.h"

/* see cardea/common.h */
const char *
cardea_strerror(cardea_err err)
{
    switch (err) {
    case CARDEA_OK:
        return "success";
    case CARDEA_EINVAL:
        return "invalid argument or malformed input";
    case CARDEA_ENOMEM:
        return "out of memory";
    case CARDEA_ETOOBIG:
        return "input or output over the size limit";
    case CARDEA_EVERIFY:
        return "decryption or verification failed";
    case CARDEA_EFORMAT:
        return "invalid encoding";
    case CARDEA_ENOTFOUND:
        return "not found";
    case CARDEA_EIO:
        return "input/output error";
    case CARDEA_ECRYPTO:
        return "crypto library failure";
    case CARDEA_EOVERFLOW:
        return "size arithmetic overflow";
    case CARDEA_EUNSUPPORTED:
        return "not supported";
    case CARDEA_EACCESS:
        return "access denied";
    case CARDEA_ECONFLICT:
        return "conflict with the stored revision";
    case CARDEA_ENETWORK:
        return "network failure";
    case CARDEA_EHTTP:
        return "the server returned an error status";
    case CARDEA_EDENIED:
        return "refused by the crypto strategies";
    case CARDEA_ENOKEY:
        return "no usable key";
    case CARDEA_ESTATE:
        return "operation not valid in the current state";
    case CARDEA_EEXPIRED:
        return "expired";
    case CARDEA_EAUTH:
        return "authentication failed";
    }
    return "unknown error";
}
