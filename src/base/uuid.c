/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random version-4 UUIDs in lowercase canonical form, and the OS random
 * source they and every key of the library come from.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "base/base.h"

void
cardea_random__bytes(uint8_t *out, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t got = getrandom(out + done, len - done, 0);

        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            /* No safe way on: keys made without entropy are worthless. */
            abort();
        }
        done += (size_t)got;
    }
}

void
cardea_uuid__v4(char out[CARDEA_UUID_STR_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t raw[16];
    size_t o = 0;

    cardea_random__bytes(raw, sizeof raw);
    raw[6] = (uint8_t)((raw[6] & 0x0f) | 0x40); /* version 4 */
    raw[8] = (uint8_t)((raw[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (size_t i = 0; i < sizeof raw; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = digits[raw[i] >> 4];
        out[o++] = digits[raw[i] & 0x0f];
    }
    out[o] = '\0';
}

bool
cardea_uuid__is_valid(const char *s)
{
    if (s == NULL) {
        return false;
    }
    for (size_t i = 0; i < CARDEA_UUID_STR_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (s[i] == '\0') {
            return false;
        }
        if (dash ? s[i] != '-' : !cardea_hex__is_valid(&s[i], 1)) {
            return false;
        }
    }
    return s[CARDEA_UUID_STR_LEN] == '\0';
}
