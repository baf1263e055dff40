/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The routing table: method, path pattern under /rest/v2 and handler.
 * The first matching row wins, so a literal segment must come before a
 * "{}" that would also match it. A path that matches only rows of other
 * methods gets 405. SECRET rows keep their parameters out of the access
 * log.
 */
#include "server/server_internal.h"

#define GET CARDEA_HTTP_GET
#define POST CARDEA_HTTP_POST
#define PUT CARDEA_HTTP_PUT
#define DELETE CARDEA_HTTP_DELETE
#define PUBLIC CARDEA_ROUTE_PUBLIC
#define BINARY CARDEA_ROUTE_BINARY
#define SECRET CARDEA_ROUTE_SECRET_PARAMS

/* The rows every encryptable entity has, under path segment `p`. */
#define ENTITY_ROUTES(p)                                                   \
    {POST, p, cardea_entity__create, 0},                                   \
    {PUT, p, cardea_entity__modify, 0},                                    \
    {POST, p "/batch", cardea_entity__create_batch, 0},                    \
    {PUT, p "/batch", cardea_entity__modify_batch, 0},                     \
    {POST, p "/byIds", cardea_entity__by_ids, 0},                          \
    {POST, p "/match", cardea_entity__match, 0},                           \
    {PUT, p "/bulkSharedMetadataUpdate", cardea_entity__share, 0},         \
    {PUT, p "/bulkSharedMetadataUpdateMinimal",                            \
     cardea_entity__share_minimal, 0},                                     \
    {POST, p "/delete/batch", cardea_entity__delete_batch, 0},             \
    {POST, p "/delete/batch/withrev", cardea_entity__delete_batch_rev, 0}, \
    {POST, p "/undelete/batch", cardea_entity__undelete_batch, 0},         \
    {POST, p "/undelete/{}", cardea_entity__undelete, 0},                  \
    {DELETE, p "/purge/{}", cardea_entity__purge, 0},                      \
    {GET, p "/{}", cardea_entity__get, 0},                                 \
    {DELETE, p "/{}", cardea_entity__delete, 0}

const cardea_route cardea_routes[] = {
    {POST, "auth/login", cardea_auth__login, PUBLIC},
    {POST, "auth/refresh", cardea_auth__refresh, PUBLIC},
    {POST, "auth/switch/{}", cardea_auth__switch, PUBLIC},
    {POST, "auth/check", cardea_auth__check, PUBLIC},
    {GET, "user/matches", cardea_auth__matches, 0},
    {GET, "user/current", cardea_auth__current_user, 0},

    {GET, "dataowner/current", cardea_dataowner__current, 0},
    {GET, "dataowner/current/hierarchy", cardea_dataowner__hierarchy, 0},
    {GET, "dataowner/current/hierarchy/stub",
     cardea_dataowner__hierarchy_stub, 0},
    {POST, "dataowner/byIds", cardea_dataowner__by_ids, 0},
    {POST, "dataowner/stub/byIds", cardea_dataowner__stub_by_ids, 0},
    {PUT, "dataowner/stub", cardea_dataowner__stub_put, 0},
    {GET, "dataowner/stub/{}", cardea_dataowner__stub_get, 0},
    {GET, "dataowner/{}", cardea_dataowner__get, 0},
    {GET, "hcparty/{}/aesExchangeKeys", cardea_dataowner__aes_keys, 0},

    {POST, "exchangedata", cardea_exchange__create, 0},
    {PUT, "exchangedata", cardea_exchange__modify, 0},
    {POST, "exchangedata/bulk", cardea_exchange__create_bulk, 0},
    {POST, "exchangedata/byIds", cardea_exchange__by_ids, 0},
    {GET, "exchangedata/byDelegatorDelegate",
     cardea_exchange__by_pair_query, 0},
    {GET, "exchangedata/byDelegatorDelegate/{}/{}", cardea_exchange__by_pair,
     0},
    {GET, "exchangedata/byParticipant/{}", cardea_exchange__by_participant,
     0},
    {GET, "exchangedata/byParticipant/{}/counterparts",
     cardea_exchange__counterparts, 0},
    {GET, "exchangedata/{}", cardea_exchange__get, 0},

    {PUT, "exchangedatamap/batch", cardea_exmap__put_batch, 0},
    {POST, "exchangedatamap/batch", cardea_exmap__get_batch, 0},

    {POST, "recoverydata", cardea_recovery__create, 0},
    {GET, "recoverydata/waiting/{}", cardea_recovery__wait, SECRET},
    {DELETE, "recoverydata/forRecipient/{}", cardea_recovery__delete_for, 0},
    {DELETE, "recoverydata/forRecipient/{}/ofType/{}",
     cardea_recovery__delete_for_type, 0},
    /* The official SDK 1.0.0-RC.7 leaves out the slash before
     * forRecipient. */
    {DELETE, "recoverydataforRecipient/{}", cardea_recovery__delete_for, 0},
    {DELETE, "recoverydataforRecipient/{}/ofType/{}",
     cardea_recovery__delete_for_type, 0},
    {GET, "recoverydata/{}", cardea_recovery__get, SECRET},
    {DELETE, "recoverydata/{}", cardea_recovery__delete, SECRET},

    ENTITY_ROUTES("patient"),
    ENTITY_ROUTES("helement"),
    ENTITY_ROUTES("contact"),
    ENTITY_ROUTES("maintenancetask"),
    ENTITY_ROUTES("document"),
    {PUT, "document/{}/attachment", cardea_attachment__put_main, BINARY},
    {GET, "document/{}/attachment", cardea_attachment__get_main, 0},
    {DELETE, "document/{}/attachment", cardea_attachment__delete_main, 0},
    {PUT, "document/{}/secondaryAttachments/{}",
     cardea_attachment__put_secondary, BINARY},
    {GET, "document/{}/secondaryAttachments/{}",
     cardea_attachment__get_secondary, 0},
    {DELETE, "document/{}/secondaryAttachments/{}",
     cardea_attachment__delete_secondary, 0},

    {POST, "securedelegationkeymap", cardea_entity__create, 0},
    {POST, "securedelegationkeymap/bydelegationkeys",
     cardea_sdkmap__by_delegation_keys, 0},
    {PUT, "securedelegationkeymap/bulkSharedMetadataUpdate",
     cardea_entity__share, 0},
    {PUT, "securedelegationkeymap/bulkSharedMetadataUpdateMinimal",
     cardea_entity__share_minimal, 0},
};

const size_t cardea_route_count =
    sizeof cardea_routes / sizeof cardea_routes[0];
