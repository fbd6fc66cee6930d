/*
 * Pipelined connect (issue #18): what may go behind the CONNECT before its
 * CONNACK, and the server caps that bound it, kept from the last CONNACK of
 * this server (or put back from a store) so the first flight never asks
 * more than that server allowed.
 *
 * MQTT 3.1.4 (3.1.1 and 5.0) lets a client send packets right after
 * CONNECT; a server that refuses the CONNECT processes none of them
 * (MQTT-3.1.4-5). So a refused first flight changes nothing on the server:
 * stored messages stay stored and go again on the next connection.
 */
#include "session_internal.h"

/* The specification's defaults for absent CONNACK properties (3.2.2.3). */
void ks_caps_default(kmqtt_session_t *s)
{
    s->server_receive_max = 65535u;
    s->server_max_qos = 2;
    s->server_max_packet = 0;
    s->flags &= (uint8_t)~KS_F_CAPS;
}

/* Whether this connection pipelines: configured, and not a 5.0 CONNECT
 * with an Authentication Method, which may send nothing but AUTH or
 * DISCONNECT before its CONNACK (MQTT-3.1.2-30). */
void ks_early_start(kmqtt_session_t *s)
{
    s->early = s->cfg->pipeline ? 1u : 0u;
#if KMQTT_CFG_V5
    if (KS_V5(s) && ks_v5_has(s->cfg->connect_props, s->cfg->connect_props_len,
                              KMQTT_PROP_AUTHENTICATION_METHOD))
        s->early = 0;
#endif
    if (s->early)
        ks_resend(s);
}

/* A QoS 1/2 PUBLISH of len bytes may join the first flight: within the
 * caps the last CONNACK of this server gave (5.0 Maximum QoS, Retain
 * Available, Maximum Packet Size; MQTT-3.2.2-11, -14, -15). 3.1.1 has
 * none. Receive Maximum is counted by the callers (records in flight). */
bool ks_early_fits(const kmqtt_session_t *s, unsigned qos, bool retain, size_t len)
{
    if (qos == 0)
        return false; /* QoS 0 waits for the CONNACK: docs/architecture.md decision */
#if KMQTT_CFG_V5
    if (KS_V5(s))
        return qos <= s->server_max_qos && !(retain && (s->flags & KS_F_NO_RETAIN)) &&
               (s->server_max_packet == 0 || len <= s->server_max_packet);
#else
    (void)s;
    (void)retain;
    (void)len;
#endif
    return true;
}

kmqtt_err_t kmqtt_session_restore_caps(kmqtt_session_t *s, const kmqtt_session_caps_t *caps)
{
    if (s == NULL || s->cfg == NULL || caps == NULL || caps->max_qos > 2 || caps->receive_max == 0)
        return KMQTT_EINVAL;
    if (s->state != KMQTT_SESSION_IDLE)
        return KMQTT_ESTATE;
    ks_caps_default(s);
    s->server_receive_max = caps->receive_max;
    s->server_max_qos = caps->max_qos;
    s->server_max_packet = caps->max_packet_size;
    s->flags |= (uint8_t)((caps->retain_available ? 0u : KS_F_NO_RETAIN) |
                          (caps->wildcard_available ? 0u : KS_F_NO_WILD) |
                          (caps->subid_available ? 0u : KS_F_NO_SUBID) |
                          (caps->shared_available ? 0u : KS_F_NO_SHARED));
    s->caps_seen = 1;
    return KMQTT_OK;
}
