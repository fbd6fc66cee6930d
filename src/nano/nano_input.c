/*
 * Inbound packets, parsed in place in rx. Only the packets a server sends a
 * client are accepted, each with its exact length; anything else ends the
 * connection with an error naming the rule. A packet whose answer does not
 * fit tx stays in rx (NANO_STALL) and is handled again once tx drained, so
 * answers keep the order of what they answer (MQTT-4.6.0-2, MQTT-4.6.0-3).
 */
#include "nano_internal.h"

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static int done(kmqtt_nano_t *c, kmqtt_nano_event_t *ev)
{
    return nano_emit(c, ev) ? NANO_DONE : NANO_GONE;
}

/* What may follow a packet id or stand alone (5.0 acks 3.4.2.1 etc.,
 * DISCONNECT 3.14.2.1, AUTH 3.15.2.1): a reason code and a property block,
 * each omitted from the end when it is 0x00 / empty. 3.1.1: nothing. */
static int tail(kmqtt_nano_t *c, unsigned type, const uint8_t *b, const uint8_t *end,
                kmqtt_nano_event_t *ev)
{
#if KMQTT_CFG_V5
    if (NANO_V5(c) && b < end) {
        ev->reason_code = *b++;
        if (!kmqtt_reason_valid(type, KMQTT_V5, ev->reason_code))
            return KMQTT_EREASON_CODE;
        if (b < end) {
            int r = nano_v5_props(&b, end, type, &ev->props, &ev->props_len);
            if (r != KMQTT_OK)
                return r;
        }
    }
#else
    (void)c;
    (void)type;
    (void)ev;
#endif
    return b == end ? KMQTT_OK : KMQTT_ETRAILING;
}

/* A packet id (never 0: MQTT-2.3.1-1) and the tail. */
static int id_tail(kmqtt_nano_t *c, unsigned type, const uint8_t *b, const uint8_t *end,
                   kmqtt_nano_event_t *ev)
{
    if (end - b < 2)
        return KMQTT_ETRUNCATED;
    ev->packet_id = get_u16(b);
    if (ev->packet_id == 0)
        return KMQTT_EPACKET_ID;
    return tail(c, type, b + 2, end, ev);
}

#if KMQTT_CFG_QOS2
/* Where id sits among the inbound QoS 2 ids held, inbound_count if absent. */
static unsigned held_at(const kmqtt_nano_t *c, uint16_t id)
{
    unsigned i = 0;
    while (i < c->inbound_count && c->inbound[i] != id)
        i++;
    return i;
}
#endif

static int connack(kmqtt_nano_t *c, const uint8_t *b, const uint8_t *end)
{
    kmqtt_nano_event_t ev;
    nano_ev(&ev, KMQTT_NANO_EV_CONNECTED);
    if (c->state != KMQTT_NANO_CONNECTING)
        return KMQTT_EPROTOCOL; /* one CONNACK, first (MQTT-3.2.0-1) */
    if (end - b < 2)
        return KMQTT_ETRUNCATED;
    if (b[0] & 0xFEu)
        return KMQTT_EACK_FLAGS; /* MQTT-3.2.2-1 (5.0), 3.2.2.1 (3.1.1) */
    bool sp = b[0] != 0;
    uint8_t rc = b[1];
    b += 2;
#if KMQTT_CFG_V5
    if (NANO_V5(c)) {
        int r = nano_v5_props(&b, end, KMQTT_CONNACK, &ev.props, &ev.props_len);
        if (r != KMQTT_OK)
            return r;
        if (!kmqtt_reason_valid(KMQTT_CONNACK, KMQTT_V5, rc))
            return KMQTT_EREASON_CODE;
        if (rc == 0 && !nano_v5_method_ok(c, ev.props, ev.props_len, false))
            return KMQTT_EPROTOCOL;
    } else
#endif
        if (rc > 5)
        return KMQTT_EREASON_CODE; /* 3.2.2.3: 6..255 reserved */
    if (b != end)
        return KMQTT_ETRAILING;
    /* A refusal has no session (3.1.1 MQTT-3.2.2-4, 5.0 MQTT-3.2.2-6), and
     * a clean session finds none (3.1.1 MQTT-3.2.2-1, 5.0 MQTT-3.2.2-2). */
    if (sp && (rc != 0 || c->cfg->clean_session))
        return KMQTT_EPROTOCOL;
    if (rc != 0) {
        nano_lose(c, KMQTT_EREFUSED, rc, ev.props, ev.props_len);
        return NANO_GONE;
    }

    c->state = KMQTT_NANO_CONNECTED;
    c->flags = sp ? NANO_F_SESSION : 0u;
    c->backoff_ms = c->cfg->reconnect_min_ms;
    c->keepalive_s = c->cfg->keepalive_s;
    c->resend_off = 0;
    c->resent = 0;
    if (!sp)
        c->inbound_count = 0; /* the server forgot them too */
#if KMQTT_CFG_V5
    if (NANO_V5(c)) {
        nano_v5_connack(c, ev.props, ev.props_len);
        nano_store_check(c);
    }
#endif
    /* The resend goes first, so the callback finds room to publish. */
    nano_resend(c);
    ev.session_present = sp;
    if (!nano_emit(c, &ev))
        return NANO_GONE;
    return nano_store_fresh(c, sp) ? NANO_DONE : NANO_GONE;
}

/* An inbound application message. QoS 1: PUBACK. QoS 2 (MQTT-4.3.3):
 * PUBREC, delivered once, its id held until PUBREL; a copy whose id is held
 * gets PUBREC again and no delivery. The answer is queued before the
 * callback, so a callback that publishes cannot take its room. */
static int publish(kmqtt_nano_t *c, uint8_t first, const uint8_t *b, const uint8_t *end)
{
    kmqtt_nano_msg_t m;
    kmqtt_nano_event_t ev;
    memset(&m, 0, sizeof m);
    nano_ev(&ev, KMQTT_NANO_EV_MESSAGE);
    ev.msg = &m;
    m.qos = (uint8_t)((first >> 1) & 3u);
    m.retain = (first & 1u) != 0;
    m.dup = (first & 8u) != 0;
#if !KMQTT_CFG_QOS2
    if (m.qos == 2)
        return KMQTT_EUNSUPPORTED;
#endif
    if (end - b < 2)
        return KMQTT_ETRUNCATED;
    m.topic_len = get_u16(b);
    b += 2;
    if ((size_t)(end - b) < m.topic_len + (m.qos != 0 ? 2u : 0u))
        return KMQTT_ETRUNCATED;
    m.topic = (const char *)b;
    b += m.topic_len;
    if (m.qos != 0) {
        m.packet_id = get_u16(b);
        b += 2;
        if (m.packet_id == 0)
            return KMQTT_EPACKET_ID;
    }
#if KMQTT_CFG_V5
    if (NANO_V5(c)) {
        int r = nano_v5_props(&b, end, KMQTT_PUBLISH, &m.props, &m.props_len);
        if (r != KMQTT_OK)
            return r;
        /* The CONNECT set no Topic Alias Maximum, so any alias is over it
         * (MQTT-3.1.2-26, MQTT-3.1.2-27): Topic Alias invalid. */
        if (nano_v5_has(m.props, m.props_len, KMQTT_PROP_TOPIC_ALIAS)) {
            nano_fail(c, KMQTT_EPROTOCOL, 0x94u);
            return NANO_GONE;
        }
    }
#endif
    /* MQTT-3.3.2-2 (no wildcards), MQTT-1.5.3-1 (UTF-8), MQTT-4.7.3-1 (not
     * empty, as no alias can stand for it) */
    kmqtt_err_t err = kmqtt_topic_name_validate(m.topic, m.topic_len);
    if (err != KMQTT_OK)
        return err;
    m.payload = b;
    m.payload_len = (size_t)(end - b);

    if (m.qos == 1 && !nano_send_ack(c, 0x40u, m.packet_id, 0))
        return NANO_STALL;
#if KMQTT_CFG_QOS2
    if (m.qos == 2) {
        unsigned i = held_at(c, m.packet_id);
        bool held = i < c->inbound_count;
        if (!nano_send_ack(c, 0x50u, m.packet_id, 0))
            return NANO_STALL;
        if (held)
            return NANO_DONE;
        if (i == KMQTT_NANO_INBOUND_QOS2) {
            /* More than the Receive Maximum the CONNECT advertised
             * (MQTT-3.3.4-9), which mosquitto 2.0 does as it counts its
             * quota back at PUBREC: forget the oldest id, whose PUBREC went
             * out first, so the server answers it with PUBREL, not a copy. */
            memmove(c->inbound, c->inbound + 1,
                    (KMQTT_NANO_INBOUND_QOS2 - 1u) * sizeof c->inbound[0]);
            c->inbound_count--;
            c->qos2_evictions++;
        }
        c->inbound[c->inbound_count++] = m.packet_id;
    }
#endif
    return done(c, &ev);
}

#if KMQTT_CFG_QOS2
/* PUBREL: release the id and answer PUBCOMP, also for an id not held (a
 * PUBREL sent again after our PUBCOMP was lost; 5.0: 0x92). */
static int pubrel(kmqtt_nano_t *c, const uint8_t *b, const uint8_t *end)
{
    kmqtt_nano_event_t ev;
    nano_ev(&ev, KMQTT_NANO_EV_PUBLISHED);
    int r = id_tail(c, KMQTT_PUBREL, b, end, &ev);
    if (r != KMQTT_OK)
        return r;
    unsigned i = held_at(c, ev.packet_id);
    bool held = i < c->inbound_count;
    if (!nano_send_ack(c, 0x70u, ev.packet_id, held ? 0u : 0x92u))
        return NANO_STALL;
    if (held) {
        /* Kept in arrival order, so the oldest is first. */
        c->inbound_count--;
        memmove(c->inbound + i, c->inbound + i + 1, (c->inbound_count - i) * sizeof c->inbound[0]);
    }
    return NANO_DONE;
}
#endif

/* PUBACK, PUBREC, PUBCOMP for an outbound message. An id with no record,
 * or an ack of the wrong kind for the record, is a protocol error. */
static int ack(kmqtt_nano_t *c, unsigned type, const uint8_t *b, const uint8_t *end)
{
    kmqtt_nano_event_t ev;
    nano_ev(&ev, KMQTT_NANO_EV_PUBLISHED);
    int r = id_tail(c, type, b, end, &ev);
    if (r != KMQTT_OK)
        return r;
    nano_rec_t rec;
    uint32_t off = nano_store_find(c, ev.packet_id, &rec);
    if (off == NANO_NONE)
        return KMQTT_EPROTOCOL;
    if (type == KMQTT_PUBACK) {
        if (rec.kind != NANO_REC_QOS1)
            return KMQTT_EPROTOCOL;
    }
#if KMQTT_CFG_QOS2
    else if (type == KMQTT_PUBREC) {
        if (rec.kind == NANO_REC_QOS1)
            return KMQTT_EPROTOCOL;
        /* 5.0: a failure code ends the exchange (4.3.3: no PUBREL). */
        if (ev.reason_code < 0x80u) {
            /* Not yet sent again on this connection: with a session the
             * resend sends the PUBREL in its place; without one the server
             * cannot know the id. */
            if (off >= c->resend_off) {
                if (!(c->flags & NANO_F_SESSION))
                    return KMQTT_EPROTOCOL;
            } else if (!nano_send_ack(c, 0x62u, ev.packet_id, 0)) {
                return NANO_STALL;
            }
            if (rec.kind == NANO_REC_QOS2)
                nano_store_release(c, off, &rec);
            return NANO_DONE;
        }
        if (rec.kind != NANO_REC_QOS2)
            return KMQTT_EPROTOCOL;
    } else {
        if (rec.kind != NANO_REC_REL)
            return KMQTT_EPROTOCOL;
        if (ev.reason_code == 0x92u)
            ev.err = KMQTT_ENOTFOUND; /* the server had lost it */
    }
#endif
    nano_store_remove(c, off);
    return done(c, &ev);
}

/* SUBACK (one code per filter, in order: MQTT-3.9.3-1) and UNSUBACK (3.1.1:
 * nothing after the id; 5.0: one code per filter, MQTT-3.11.3-1), each
 * matched to the request with its id and kind (MQTT-3.9.2-1,
 * MQTT-3.11.2-1); anything else is a protocol error. */
static int suback(kmqtt_nano_t *c, unsigned type, const uint8_t *b, const uint8_t *end)
{
    kmqtt_nano_event_t ev;
    nano_ev(&ev, type == KMQTT_SUBACK ? KMQTT_NANO_EV_SUBACK : KMQTT_NANO_EV_UNSUBACK);
    if (end - b < 2)
        return KMQTT_ETRUNCATED;
    ev.packet_id = get_u16(b);
    b += 2;
    if (ev.packet_id == 0)
        return KMQTT_EPACKET_ID;
#if KMQTT_CFG_V5
    if (NANO_V5(c)) {
        int r = nano_v5_props(&b, end, type, &ev.props, &ev.props_len);
        if (r != KMQTT_OK)
            return r;
    }
#endif
    ev.codes = b;
    ev.count = (size_t)(end - b);
    if (type == KMQTT_UNSUBACK && !NANO_V5(c)) {
        if (ev.count != 0)
            return KMQTT_ETRAILING;
    } else if (ev.count == 0) {
        return KMQTT_ETRUNCATED;
    }
    for (size_t i = 0; i < ev.count; i++) {
#if KMQTT_CFG_V5
        if (NANO_V5(c) ? !kmqtt_reason_valid(type, KMQTT_V5, b[i]) : (b[i] > 2u && b[i] != 0x80u))
#else
        if (b[i] > 2u && b[i] != 0x80u) /* MQTT-3.9.3-2 */
#endif
            return KMQTT_EREASON_CODE;
    }
    unsigned i = 0;
    while (i < KMQTT_NANO_MAX_REQUESTS && c->req[i].id != ev.packet_id)
        i++;
    if (i == KMQTT_NANO_MAX_REQUESTS || c->req[i].unsub != (type == KMQTT_UNSUBACK) ||
        (ev.count != 0 && ev.count != c->req[i].count))
        return KMQTT_EPROTOCOL;
    c->req[i].id = 0;
    return done(c, &ev);
}

int nano_input(kmqtt_nano_t *c, const uint8_t *p, size_t len)
{
    unsigned type = p[0] >> 4;
    const uint8_t *b = p + 1;
    const uint8_t *end = p + len;
    while (*b++ & 0x80u) {
        /* the remaining length, checked by kmqtt_packet_frame */
    }
    if (c->state != KMQTT_NANO_CONNECTED && type != KMQTT_CONNACK &&
        !(NANO_V5(c) && type == KMQTT_AUTH))
        return KMQTT_EPROTOCOL; /* CONNACK comes first (MQTT-3.2.0-1) */

    switch (type) {
    case KMQTT_CONNACK:
        return connack(c, b, end);
    case KMQTT_PUBLISH:
        return publish(c, p[0], b, end);
    case KMQTT_PUBACK:
#if KMQTT_CFG_QOS2
    case KMQTT_PUBREC:
    case KMQTT_PUBCOMP:
#endif
        return ack(c, type, b, end);
#if KMQTT_CFG_QOS2
    case KMQTT_PUBREL:
        return pubrel(c, b, end);
#endif
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
        return suback(c, type, b, end);
    case KMQTT_PINGRESP:
        if (b != end)
            return KMQTT_ETRAILING;
        c->flags &= (uint8_t)~NANO_F_PING;
        return NANO_DONE;
#if KMQTT_CFG_V5
    case KMQTT_DISCONNECT:
    case KMQTT_AUTH:
        if (NANO_V5(c)) {
            kmqtt_nano_event_t ev;
            nano_ev(&ev, KMQTT_NANO_EV_AUTH);
            int r = tail(c, type, b, end, &ev);
            if (r != KMQTT_OK)
                return r;
            if (type == KMQTT_AUTH) {
                if (!nano_v5_method_ok(c, ev.props, ev.props_len, true))
                    return KMQTT_EPROTOCOL;
                return done(c, &ev);
            }
            /* 3.14: the server ends the connection and says why. */
            nano_lose(c, KMQTT_EDISCONNECTED, ev.reason_code, ev.props, ev.props_len);
            return NANO_GONE;
        }
        break;
#endif
    default:
        break;
    }
    /* server-bound packets; AUTH in 3.1.1 (reserved type 15) */
    return type == KMQTT_AUTH ? KMQTT_EPACKET_TYPE : KMQTT_EPROTOCOL;
}
