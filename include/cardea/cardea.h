/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The public API of libcardea in one include: errors and hooks, the HTTP
 * transport, the crypto strategies, sessions, encrypted entities, and
 * key recovery and verification.
 */
#ifndef CARDEA_CARDEA_H
#define CARDEA_CARDEA_H

#include "cardea/common.h"
#include "cardea/transport.h"
#include "cardea/strategies.h"
#include "cardea/session.h"
#include "cardea/entity.h"
#include "cardea/recovery.h"

#endif
