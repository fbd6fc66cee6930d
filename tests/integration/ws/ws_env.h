/*
 * Shared by the WebSocket integration tests: a kmqtt client whose transport
 * is the WebSocket transport over a lower one (TCP, or TLS for wss).
 */
#ifndef KMQTT_IT_WS_ENV_H
#define KMQTT_IT_WS_ENV_H

#include "kmqtt/transport.h"

/* Wraps *lower (owned by the caller until this succeeds) in a WebSocket
 * transport with buffers of buffer_size (0 = default) and frames up to
 * max_frame; on failure destroys lower. KMQTT_OK or the create error. */
static inline kmqtt_err_t it_ws_wrap(kmqtt_mem_t *m, kmqtt_transport_t *lower, size_t buffer_size,
                                     size_t max_frame, kmqtt_transport_t *out)
{
    kmqtt_ws_options_t o;
    kmqtt_err_t e;
    memset(&o, 0, sizeof(o));
    o.buffer_size = buffer_size;
    o.max_frame = max_frame;
    e = kmqtt_ws_create(m, &o, lower, out);
    if (e != KMQTT_OK)
        lower->destroy(lower->ctx);
    return e;
}

#endif
