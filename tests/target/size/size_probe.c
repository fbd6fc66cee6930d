/*
 * sizeof of the client's structures for the target, read back from the
 * object with nm -S (scripts/size.sh): each array is as long as the type.
 */
#include "client/client_internal.h"

#define PROBE(name, type) const char kmqtt_sizeof_##name[sizeof(type)] = {0}
#define FIELD(name, f)    PROBE(name, ((struct kmqtt_client *)0)->f)

PROBE(client, struct kmqtt_client);
PROBE(session, kmqtt_session_t); /* the engine the client embeds */
PROBE(mem, kmqtt_mem_t);
PROBE(options, kmqtt_client_options_t);
FIELD(client_done, done);
FIELD(client_req, req);
FIELD(client_resub_ids, resub_ids);
FIELD(client_connack, connack);
FIELD(client_v5, v5);
FIELD(client_opt, opt);
