/*
 * Inbound packets, parsed in place in rx. Only the packets a server sends a
 * client are accepted, each with its exact length; anything else ends the
 * connection with an error naming the rule. A packet whose answer does not
 * fit tx stays in rx (KS_STALL) and is handled again once tx drained, so
 * answers keep the order of what they answer (MQTT-4.6.0-2, MQTT-4.6.0-3).
 */
#include "session_internal.h"

kmqtt_err_t ks_fail(kmqtt_session_t *s, kmqtt_err_t err, uint8_t reason)
{
    s->close_reason = 0;
#if KMQTT_CFG_V5
    if (KS_V5(s) && s->state == KMQTT_SESSION_CONNECTED) {
        if (reason == 0)
            reason = ks_v5_reason(err);
        /* reason != 0 always: every error of the input path has one (ks_v5_reason). */
        if (reason != 0 && ks_send_ack(s, 0xE0u, 0, reason))
            s->close_reason = reason;
    }
#else
    (void)reason;
#endif
    s->state = KMQTT_SESSION_ENDED;
    return err;
}

/* What may follow a packet id or stand alone (5.0 acks 3.4.2.1 etc.,
 * DISCONNECT 3.14.2.1, AUTH 3.15.2.1): a reason code and a property block,
 * each omitted from the end when it is 0x00 / empty. 3.1.1: nothing. */
static int tail(kmqtt_session_t *s, unsigned type, const uint8_t *b, const uint8_t *end,
                kmqtt_session_event_t *ev)
{
#if KMQTT_CFG_V5
    if (KS_V5(s) && b < end) {
        ev->reason_code = *b++;
        if (!kmqtt_reason_valid(type, KMQTT_V5, ev->reason_code))
            return KMQTT_EREASON_CODE;
        if (b < end) {
            int r = ks_v5_props(&b, end, type, &ev->props, &ev->props_len);
            if (r != KMQTT_OK)
                return r;
        }
    }
#else
    (void)s;
    (void)type;
    (void)ev;
#endif
    return b == end ? KMQTT_OK : KMQTT_ETRAILING;
}

/* A packet id (never 0: MQTT-2.3.1-1) and the tail. */
static int id_tail(kmqtt_session_t *s, unsigned type, const uint8_t *b, const uint8_t *end,
                   kmqtt_session_event_t *ev)
{
    if (end - b < 2)
        return KMQTT_ETRUNCATED;
    ev->packet_id = ks_get_u16(b);
    if (ev->packet_id == 0)
        return KMQTT_EPACKET_ID;
    return tail(s, type, b + 2, end, ev);
}

#if KMQTT_CFG_QOS2
#if KMQTT_CFG_INBOUND_BITS
#define BITS(s) ((s)->inbound_bits != NULL)
#else
#define BITS(s) 0
#endif

/* Where id sits among the inbound QoS 2 ids held, inbound_count if absent
 * (with the bitmap: 0 held, 1 absent). */
static unsigned held_at(const kmqtt_session_t *s, uint16_t id)
{
#if KMQTT_CFG_INBOUND_BITS
    if (BITS(s))
        return (s->inbound_bits[id >> 3] >> (id & 7u)) & 1u ? 0u : 1u;
#endif
    unsigned i = 0;
    while (i < s->inbound_count && s->inbound[i] != id)
        i++;
    return i;
}

static bool is_held(const kmqtt_session_t *s, unsigned at)
{
    return BITS(s) ? at == 0 : at < s->inbound_count;
}

void ks_hold(kmqtt_session_t *s, uint16_t id)
{
#if KMQTT_CFG_INBOUND_BITS
    if (BITS(s))
        s->inbound_bits[id >> 3] |= (uint8_t)(1u << (id & 7u));
    else
#endif
        if (s->inbound_count == s->inbound_max) {
        /* More than the Receive Maximum the CONNECT advertised
         * (MQTT-3.3.4-9), which mosquitto 2.0 does as it counts its quota
         * back at PUBREC: forget the oldest id, whose PUBREC went out first,
         * so the server answers it with PUBREL, not a copy (decision 6). */
        ks_changed(s, KMQTT_SESSION_CH_RELEASED, s->inbound[0], NULL, 0);
        memmove(s->inbound, s->inbound + 1, (s->inbound_max - 1u) * sizeof s->inbound[0]);
        s->inbound_count--;
        s->qos2_evictions++;
    }
    if (!BITS(s))
        s->inbound[s->inbound_count++] = id;
    ks_changed(s, KMQTT_SESSION_CH_INBOUND, id, NULL, 0);
}

#if KMQTT_CFG_STREAM
bool ks_held(const kmqtt_session_t *s, uint16_t id)
{
    return is_held(s, held_at(s, id));
}
#endif

static void release(kmqtt_session_t *s, uint16_t id, unsigned at)
{
    ks_changed(s, KMQTT_SESSION_CH_RELEASED, id, NULL, 0);
#if KMQTT_CFG_INBOUND_BITS
    if (BITS(s)) {
        s->inbound_bits[id >> 3] &= (uint8_t) ~(1u << (id & 7u));
        return;
    }
#endif
    (void)id;
    /* Kept in arrival order, so the oldest is first. */
    s->inbound_count--;
    memmove(s->inbound + at, s->inbound + at + 1, (s->inbound_count - at) * sizeof s->inbound[0]);
}
#endif

void ks_forget_inbound(kmqtt_session_t *s)
{
    ks_changed(s, KMQTT_SESSION_CH_INBOUND_CLEAR, 0, NULL, 0);
    s->inbound_count = 0;
#if KMQTT_CFG_INBOUND_BITS
    if (s->inbound_bits != NULL)
        memset(s->inbound_bits, 0, KMQTT_SESSION_INBOUND_BITS_SIZE);
#endif
}

static int connack(kmqtt_session_t *s, const uint8_t *b, const uint8_t *end,
                   kmqtt_session_event_t *ev)
{
    ks_ev(ev, KMQTT_SESSION_EV_CONNACK);
    if (s->state != KMQTT_SESSION_CONNECTING)
        return KMQTT_EPROTOCOL; /* one CONNACK, first (MQTT-3.2.0-1) */
    if (end - b < 2)
        return KMQTT_ETRUNCATED;
    if (b[0] & 0xFEu)
        return KMQTT_EACK_FLAGS; /* MQTT-3.2.2-1 (5.0), 3.2.2.1 (3.1.1) */
    bool sp = b[0] != 0;
    uint8_t rc = b[1];
    b += 2;
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        int r = ks_v5_props(&b, end, KMQTT_CONNACK, &ev->props, &ev->props_len);
        if (r != KMQTT_OK)
            return r;
        if (!kmqtt_reason_valid(KMQTT_CONNACK, KMQTT_V5, rc))
            return KMQTT_EREASON_CODE;
        if (rc == 0 && !ks_v5_method_ok(s, ev->props, ev->props_len, false))
            return KMQTT_EPROTOCOL;
    } else
#endif
        if (rc > 5)
        return KMQTT_EREASON_CODE; /* 3.2.2.3: 6..255 reserved */
    if (b != end)
        return KMQTT_ETRAILING;
    /* A refusal has no session (3.1.1 MQTT-3.2.2-4, 5.0 MQTT-3.2.2-6), and
     * a clean session finds none (3.1.1 MQTT-3.2.2-1, 5.0 MQTT-3.2.2-2). */
    if (sp && (rc != 0 || s->cfg->clean_session))
        return KMQTT_EPROTOCOL;
    ev->reason_code = rc;
    bool early = s->early != 0;
    s->early = 0;
    if (rc != 0) {
        /* MQTT-3.1.4-5: nothing of a pipelined first flight was processed;
         * its records stay stored for the next connection. */
        s->state = KMQTT_SESSION_ENDED;
        return KS_REPORT;
    }

    s->state = KMQTT_SESSION_CONNECTED;
    s->flags = (uint8_t)(KS_F_FRESH | (sp ? KS_F_SESSION : 0u));
    s->keepalive_s = s->cfg->keepalive_s;
    if (!early) {
        s->resend_off = 0;
        s->resent = 0;
    } /* else what the first flight carried went to this session */
    s->caps_seen = 1;
#if KMQTT_CFG_RETRY
    s->retry_armed = 0;
#endif
    s->server_receive_max = 65535u;
    s->server_max_qos = 2;
    s->server_max_packet = 0;
    if (!sp)
        ks_forget_inbound(s); /* the server forgot them too */
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        ks_v5_connack(s, ev->props, ev->props_len);
        ks_store_check(s); /* decision 8: MQTT-3.2.2-15, MQTT-3.2.2-11 */
    }
#endif
    /* The resend goes first, so the application finds room to publish. */
    ks_resend(s);
    ev->session_present = sp;
    return KS_REPORT;
}

/* An inbound application message. QoS 1: PUBACK. QoS 2 (MQTT-4.3.3):
 * PUBREC, delivered once, its id held until PUBREL; a copy whose id is held
 * gets PUBREC again and no delivery. The answer is queued before the message
 * is reported, so a publish of the application cannot take its room. */
KS_STREAM_API int ks_publish_head(kmqtt_session_t *s, uint8_t first, const uint8_t *b,
                                  const uint8_t *end, kmqtt_session_event_t *ev)
{
    kmqtt_session_msg_t *m = &ev->msg;
    (void)s; /* 3.1.1-only builds */
    ks_ev(ev, KMQTT_SESSION_EV_MESSAGE);
    m->qos = (uint8_t)((first >> 1) & 3u);
    m->retain = (first & 1u) != 0;
    m->dup = (first & 8u) != 0;
#if !KMQTT_CFG_QOS2
    /* Built out, we never subscribe above QoS 1: a QoS 2 message breaks the
     * granted QoS (MQTT-3.8.4-6), a protocol error. */
    if (m->qos == 2)
        return KMQTT_EPROTOCOL;
#endif
    if (end - b < 2)
        return KMQTT_ETRUNCATED;
    m->topic_len = ks_get_u16(b);
    b += 2;
    if ((size_t)(end - b) < m->topic_len + (m->qos != 0 ? 2u : 0u))
        return KMQTT_ETRUNCATED;
    m->topic = (const char *)b;
    b += m->topic_len;
    if (m->qos != 0) {
        m->packet_id = ks_get_u16(b);
        b += 2;
        if (m->packet_id == 0)
            return KMQTT_EPACKET_ID;
    }
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        int r = ks_v5_props(&b, end, KMQTT_PUBLISH, &m->props, &m->props_len);
        if (r != KMQTT_OK)
            return r;
#if KS_ALIASES
        r = ks_alias_in(s, m);
        if (r != KMQTT_OK)
            return r;
#else
        /* The CONNECT set no Topic Alias Maximum, so any alias is over it
         * (MQTT-3.1.2-26, MQTT-3.1.2-27): Topic Alias invalid. */
        if (ks_v5_has(m->props, m->props_len, KMQTT_PROP_TOPIC_ALIAS))
            return ks_fail(s, KMQTT_EPROTOCOL, 0x94u);
#endif
    }
#endif
    /* MQTT-3.3.2-2 (no wildcards), MQTT-1.5.3-1 (UTF-8), MQTT-4.7.3-1 (not
     * empty, as no alias can stand for it) */
    kmqtt_err_t err = kmqtt_topic_name_validate(m->topic, m->topic_len);
    if (err != KMQTT_OK)
        return err;
    m->payload = b;
    m->payload_len = (size_t)(end - b);
    return KMQTT_OK;
}

static int publish(kmqtt_session_t *s, uint8_t first, const uint8_t *b, const uint8_t *end,
                   kmqtt_session_event_t *ev)
{
    kmqtt_session_msg_t *m = &ev->msg;
    int head = ks_publish_head(s, first, b, end, ev);
    if (head != KMQTT_OK)
        return head;
#if KMQTT_CFG_V5
    /* A payload that says it is UTF-8 and is not (3.3.2.3.2): never
     * delivered; QoS 1/2 answered 0x99 Payload format invalid, which ends a
     * QoS 2 flow at PUBREC (4.3.3). */
    uint32_t pfi;
    if (KS_V5(s) && ks_v5_num(m->props, m->props_len, KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, &pfi) &&
        pfi == 1 && kmqtt_utf8_validate((const char *)m->payload, m->payload_len) != KMQTT_OK) {
        if (m->qos != 0 && !ks_send_ack(s, m->qos == 1 ? 0x40u : 0x50u, m->packet_id, 0x99u))
            return KS_STALL;
        return KS_DONE;
    }
#endif

    if (m->qos == 1 && !ks_send_ack(s, 0x40u, m->packet_id, 0))
        return KS_STALL;
#if KMQTT_CFG_QOS2
    if (m->qos == 2) {
        unsigned at = held_at(s, m->packet_id);
        if (!ks_send_ack(s, 0x50u, m->packet_id, 0))
            return KS_STALL;
        if (is_held(s, at))
            return KS_DONE; /* MQTT-4.3.3-2: not delivered again */
        ks_hold(s, m->packet_id);
    }
#endif
    return KS_REPORT;
}

#if KMQTT_CFG_QOS2
/* PUBREL: release the id and answer PUBCOMP, also for an id not held (a
 * PUBREL sent again after our PUBCOMP was lost; 5.0: 0x92). */
static int pubrel(kmqtt_session_t *s, const uint8_t *b, const uint8_t *end,
                  kmqtt_session_event_t *ev)
{
    ev->reason_code = 0;
    int r = id_tail(s, KMQTT_PUBREL, b, end, ev);
    if (r != KMQTT_OK)
        return r;
#if KMQTT_CFG_V5
    if (ev->reason_code != 0) { /* 0x92: the server lost the message (3.6.2.1) */
        s->pubrel_failures++;
        s->pubrel_reason = ev->reason_code;
    }
#endif
    unsigned at = held_at(s, ev->packet_id);
    bool held = is_held(s, at);
    if (!ks_send_ack(s, 0x70u, ev->packet_id, held ? 0u : 0x92u))
        return KS_STALL;
    if (held)
        release(s, ev->packet_id, at);
    return KS_DONE;
}
#endif

/* PUBACK, PUBREC, PUBCOMP for an outbound message. An id no record holds is
 * ignored and counted (decision 5: a 3.1.1 resend can draw a second ack, and
 * no normative statement asks to close); a PUBREC for one still gets its
 * PUBREL (5.0: 0x92) so the server can end the flow. An ack of the wrong
 * kind for a record held is a protocol error. */
static int ack(kmqtt_session_t *s, unsigned type, const uint8_t *b, const uint8_t *end,
               kmqtt_session_event_t *ev)
{
    ks_ev(ev, KMQTT_SESSION_EV_PUBLISHED);
    int r = id_tail(s, type, b, end, ev);
    if (r != KMQTT_OK)
        return r;
    ks_rec_t rec;
    uint32_t off = ks_store_find(s, ev->packet_id, &rec);
    if (off == KS_NONE) {
#if KMQTT_CFG_QOS2
        if (type == KMQTT_PUBREC && ev->reason_code < 0x80u &&
            !ks_send_ack(s, 0x62u, ev->packet_id, 0x92u))
            return KS_STALL;
#endif
        s->unknown_acks++;
        return KS_DONE;
    }
    if (type == KMQTT_PUBACK) {
        if (KS_KIND(rec) != KS_REC_QOS1)
            return KMQTT_EPROTOCOL;
    }
#if KMQTT_CFG_QOS2
    else if (type == KMQTT_PUBREC) {
        if (KS_KIND(rec) == KS_REC_QOS1)
            return KMQTT_EPROTOCOL;
        /* 5.0: a failure code ends the exchange (4.3.3: no PUBREL). */
        if (ev->reason_code < 0x80u) {
            /* Not yet sent again on this connection: with a session the
             * resend sends the PUBREL in its place; without one the server
             * cannot know the id. */
            if (off >= s->resend_off) {
                if (!(s->flags & KS_F_SESSION))
                    return KMQTT_EPROTOCOL;
            } else if (!ks_send_ack(s, 0x62u, ev->packet_id, 0)) {
                return KS_STALL;
            }
            if (KS_KIND(rec) == KS_REC_QOS2)
                ks_store_release(s, off, &rec);
            KS_ACKED(s);
            return KS_DONE;
        }
        if (KS_KIND(rec) != KS_REC_QOS2)
            return KMQTT_EPROTOCOL;
    } else {
        if (KS_KIND(rec) != KS_REC_REL)
            return KMQTT_EPROTOCOL;
        if (ev->reason_code == 0x92u)
            ev->err = KMQTT_ENOTFOUND; /* the server had lost it */
    }
#endif
    ks_store_remove(s, off);
    KS_ACKED(s);
    /* A resend held back by the Receive Maximum may go now. */
    ks_resend(s);
    return KS_REPORT;
}

/* SUBACK (one code per filter, in order: MQTT-3.9.3-1) and UNSUBACK (3.1.1:
 * nothing after the id; 5.0: one code per filter, MQTT-3.11.3-1), each
 * matched to the request with its id and kind (MQTT-3.9.2-1,
 * MQTT-3.11.2-1); anything else is a protocol error. */
static int suback(kmqtt_session_t *s, unsigned type, const uint8_t *b, const uint8_t *end,
                  kmqtt_session_event_t *ev)
{
    ks_ev(ev, type == KMQTT_SUBACK ? KMQTT_SESSION_EV_SUBACK : KMQTT_SESSION_EV_UNSUBACK);
    if (end - b < 2)
        return KMQTT_ETRUNCATED;
    ev->packet_id = ks_get_u16(b);
    b += 2;
    if (ev->packet_id == 0)
        return KMQTT_EPACKET_ID;
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        int r = ks_v5_props(&b, end, type, &ev->props, &ev->props_len);
        if (r != KMQTT_OK)
            return r;
    }
#endif
    ev->codes = b;
    ev->count = (size_t)(end - b);
    if (type == KMQTT_UNSUBACK && !KS_V5(s)) {
        if (ev->count != 0)
            return KMQTT_ETRAILING;
    } else if (ev->count == 0) {
        return KMQTT_ETRUNCATED;
    }
    for (size_t i = 0; i < ev->count; i++) {
#if KMQTT_CFG_V5
        if (KS_V5(s) ? !kmqtt_reason_valid(type, KMQTT_V5, b[i]) : (b[i] > 2u && b[i] != 0x80u))
#else
        if (b[i] > 2u && b[i] != 0x80u) /* MQTT-3.9.3-2 */
#endif
            return KMQTT_EREASON_CODE;
    }
    unsigned i = 0;
    while (i < s->max_requests && s->req[i].id != ev->packet_id)
        i++;
    if (i == s->max_requests || s->req[i].unsub != (type == KMQTT_UNSUBACK) ||
        (ev->count != 0 && ev->count != s->req[i].count))
        return KMQTT_EPROTOCOL;
    s->req[i].id = 0;
    return KS_REPORT;
}

int ks_input(kmqtt_session_t *s, const uint8_t *p, size_t len, kmqtt_session_event_t *ev)
{
    unsigned type = p[0] >> 4;
    const uint8_t *b = p + 1;
    const uint8_t *end = p + len;
    while (*b++ & 0x80u) {
        /* the remaining length, checked by kmqtt_packet_frame */
    }
    if (s->state != KMQTT_SESSION_CONNECTED && type != KMQTT_CONNACK &&
        !(KS_V5(s) && type == KMQTT_AUTH))
        return KMQTT_EPROTOCOL; /* CONNACK comes first (MQTT-3.2.0-1) */

    switch (type) {
    case KMQTT_CONNACK:
        return connack(s, b, end, ev);
    case KMQTT_PUBLISH:
        return publish(s, p[0], b, end, ev);
    case KMQTT_PUBACK:
#if KMQTT_CFG_QOS2
    case KMQTT_PUBREC:
    case KMQTT_PUBCOMP:
#endif
        return ack(s, type, b, end, ev);
#if KMQTT_CFG_QOS2
    case KMQTT_PUBREL:
        return pubrel(s, b, end, ev);
#endif
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
        return suback(s, type, b, end, ev);
    case KMQTT_PINGRESP:
        if (b != end)
            return KMQTT_ETRAILING;
        s->flags &= (uint8_t)~KS_F_PING;
        return KS_DONE;
#if KMQTT_CFG_V5
    case KMQTT_DISCONNECT:
    case KMQTT_AUTH:
        if (KS_V5(s)) {
            ks_ev(ev, type == KMQTT_AUTH ? KMQTT_SESSION_EV_AUTH : KMQTT_SESSION_EV_DISCONNECT);
            int r = tail(s, type, b, end, ev);
            if (r != KMQTT_OK)
                return r;
            if (type == KMQTT_AUTH) {
                if (!ks_v5_method_ok(s, ev->props, ev->props_len, true))
                    return KMQTT_EPROTOCOL;
            } else {
                /* MQTT-3.14.2-2: a server never sends a Session Expiry Interval. */
                if (ks_v5_has(ev->props, ev->props_len, KMQTT_PROP_SESSION_EXPIRY_INTERVAL))
                    return KMQTT_EPROTOCOL;
                s->state = KMQTT_SESSION_ENDED; /* 3.14: the server ends it and says why */
            }
            return KS_REPORT;
        }
        break;
#endif
    default:
        break;
    }
    /* server-bound packets; AUTH in 3.1.1 (reserved type 15) */
    return type == KMQTT_AUTH ? KMQTT_EPACKET_TYPE : KMQTT_EPROTOCOL;
}
