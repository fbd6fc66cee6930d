/*
 * Store and forward, the session's side: the change hook, and putting back
 * records an earlier process persisted. The session itself never touches a
 * store; the client does, from the hook.
 */
#include "legacy_session_internal.h"

void legacy_session_set_change_hook(legacy_session_t *s, legacy_session_change_fn fn, void *ctx)
{
    if (s == NULL)
        return;
    s->change_fn = fn;
    s->change_ctx = ctx;
}

void kls_changed(legacy_session_t *s, legacy_session_change_t what, uint16_t id, const uint8_t *bytes,
                size_t len)
{
    if (s->change_fn != NULL)
        s->change_fn(s->change_ctx, what, id, bytes, len);
}

/* Rule 7 of DESIGN.md: a record from the store is trusted only once the
 * codec has decoded it. Its bytes must be exactly one QoS 1/2 PUBLISH with
 * the record's packet id, in the session's protocol version, with nothing
 * after it (the store's CRC only says the bytes are the ones written, not
 * who wrote them): anything else could put a packet the application never
 * made on the wire. In 5.0 the topic must be in full (an alias belongs to
 * the connection that set it up, MQTT-3.3.2-7) and there must be no
 * Subscription Identifier (the server's to send, MQTT-3.3.4-6). */
static bool restored_publish_ok(const legacy_session_t *s, uint16_t packet_id, const uint8_t *bytes,
                                size_t len)
{
    kmqtt_packet_t p;
    kmqtt_prop_t prop;
    size_t frame = 0, used = 0;

    if (bytes == NULL || len == 0 || len > s->cfg.tx_buffer_size || len > UINT32_MAX)
        return false;
    if (kmqtt_packet_frame(bytes, len, 0, &frame) != KMQTT_OK || frame != len)
        return false;
    if (kmqtt_packet_decode(bytes, len, s->cfg.version, 0, &p, &used) != KMQTT_OK || used != len)
        return false;
    if (p.type != KMQTT_PUBLISH || p.u.publish.qos == 0 || p.u.publish.packet_id != packet_id ||
        p.u.publish.topic.len == 0)
        return false;
    return !KLS_V5(s) ||
           (!kmqtt_props_find(&p.u.publish.props, KMQTT_PROP_TOPIC_ALIAS, &prop) &&
            !kmqtt_props_find(&p.u.publish.props, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, &prop));
}

kmqtt_err_t legacy_session_restore_publish(legacy_session_t *s, uint16_t packet_id, bool pubrel,
                                          const uint8_t *bytes, size_t len)
{
    legacy_session_record_t *r;

    if (s == NULL || packet_id == 0)
        return KMQTT_EINVAL;
    if (s->state != LEGACY_SESSION_IDLE)
        return KMQTT_ESTATE;
    if (kls_find_inflight(s, packet_id) != NULL || kls_find_pending(s, packet_id) != NULL)
        return KMQTT_EINVAL;
    if (!KMQTT_CFG_QOS2 && pubrel)
        return KMQTT_EUNSUPPORTED;
    if (!pubrel) {
        if (!restored_publish_ok(s, packet_id, bytes, len))
            return KMQTT_ESTORE;
        if (!KMQTT_CFG_QOS2 && ((bytes[0] >> 1) & 3u) == 2)
            return KMQTT_EUNSUPPORTED;
    }
    if (s->inflight_count >= s->cfg.max_inflight)
        return KMQTT_ELIMIT;
    if (!pubrel && !kls_store_fits(s, len))
        return KMQTT_ENOBUFS;
    r = &s->inflight[s->inflight_count++];
    memset(r, 0, sizeof *r);
    r->packet_id = packet_id;
    r->flags = KLS_UNSENT;
    if (pubrel) {
        r->kind = KLS_AWAIT_PUBCOMP;
    } else {
        size_t off = kls_store_take(s, len);
        memcpy(s->store + off, bytes, len);
        /* The broker may have it: a duplicate (MQTT-3.3.1-1); the CONNACK
         * clears the bit again if the broker kept no session. */
        s->store[off] |= KLS_DUP_BIT;
        r->kind = ((bytes[0] >> 1) & 3u) == 1 ? KLS_AWAIT_PUBACK : KLS_AWAIT_PUBREC;
        r->store_off = (uint32_t)off;
        r->store_len = (uint32_t)len;
    }
    /* New ids continue after the restored ones. */
    s->next_packet_id = (uint16_t)(packet_id == 65535u ? 1u : packet_id + 1u);
    return KMQTT_OK;
}

kmqtt_err_t legacy_session_restore_inbound_qos2(legacy_session_t *s, uint16_t packet_id)
{
    if (s == NULL || packet_id == 0)
        return KMQTT_EINVAL;
    if (!KMQTT_CFG_QOS2)
        return KMQTT_EUNSUPPORTED;
    if (kls_inbound_has(s, packet_id))
        return KMQTT_OK;
    return kls_inbound_add(s, packet_id) ? KMQTT_OK : KMQTT_ELIMIT;
}
