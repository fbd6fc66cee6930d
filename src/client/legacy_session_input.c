/*
 * Received packets: framing out of the receive buffer, the protocol rules
 * for each packet a server may send, and the events the application sees.
 */
#include "legacy_session_internal.h"

/* What handling one packet gave. */
typedef enum handled { KLS_SKIP, KLS_REPORT } handled_t;

static uint32_t rx_limit(const legacy_session_t *s)
{
    uint32_t lim = s->cfg.rx_buffer_size > KMQTT_PACKET_MAX ? (uint32_t)KMQTT_PACKET_MAX
                                                            : (uint32_t)s->cfg.rx_buffer_size;
    /* 5.0: the Maximum Packet Size our CONNECT advertised (MQTT-3.1.2-24
     * binds the server to it). */
    if (KLS_V5(s) && s->adv_max_packet != 0 && s->adv_max_packet < lim)
        lim = s->adv_max_packet;
    return lim;
}

/* Events that come from the session itself rather than from a packet:
 * requests ended by a lost connection, messages ended by clear() or by a
 * reconnect without session state. */
static bool report_internal(legacy_session_t *s, legacy_event_t *ev)
{
    if (s->failed_pending > 0) {
        for (uint16_t i = 0; i < s->pending_count; i++) {
            legacy_session_record_t *r = &s->pending[i];
            if (r->kind == KLS_REPORT_FAILED) {
                ev->type = LEGACY_EV_REQUEST_FAILED;
                ev->packet_id = r->packet_id;
                ev->err = KMQTT_ECLOSED;
                kls_pending_remove(s, r);
                s->failed_pending--;
                return true;
            }
        }
        s->failed_pending = 0; /* unreachable: the count follows the records */
    }
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        legacy_session_record_t *r = &s->inflight[i];
        if (r->kind == KLS_REPORT_DONE) {
            ev->type = LEGACY_EV_PUBLISH_DONE;
            ev->packet_id = r->packet_id;
            ev->err = (r->flags & KLS_CANCELED) != 0 ? KMQTT_ECANCELED : KMQTT_OK;
            kls_inflight_remove(s, r);
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- CONNACK */

static void apply_connack_props(legacy_session_t *s, const kmqtt_connack_t *c)
{
    legacy_server_caps_t *k = &s->caps;
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;

    if (!KLS_V5(s))
        return;
    /* Absent means the default, filled by kls_caps_reset (5.0 3.2.2.3). */
    kmqtt_prop_iter_init(&it, &c->props);
    while (kmqtt_prop_iter_next(&it, &p)) {
        switch (p.id) {
        case KMQTT_PROP_RECEIVE_MAXIMUM:
            k->receive_max = (uint16_t)p.num;
            break;
        case KMQTT_PROP_MAXIMUM_QOS:
            k->max_qos = (uint8_t)p.num;
            break;
        case KMQTT_PROP_RETAIN_AVAILABLE:
            k->retain_available = p.num != 0;
            break;
        case KMQTT_PROP_MAXIMUM_PACKET_SIZE:
            k->max_packet_size = p.num;
            break;
        case KMQTT_PROP_TOPIC_ALIAS_MAXIMUM:
            k->topic_alias_max = (uint16_t)p.num;
            break;
        case KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
            k->wildcard_available = p.num != 0;
            break;
        case KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
            k->subid_available = p.num != 0;
            break;
        case KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
            k->shared_available = p.num != 0;
            break;
        case KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER:
            k->assigned_client_id = true;
            break;
        case KMQTT_PROP_SESSION_EXPIRY_INTERVAL:
            k->session_expiry = p.num;
            break;
        case KMQTT_PROP_SERVER_KEEP_ALIVE:
            k->keepalive_s = (uint16_t)p.num;
            k->server_keepalive = true;
            break;
        default:
            break;
        }
    }
    s->server_receive_max = k->receive_max;    /* MQTT-3.3.4-7 */
    s->server_max_packet = k->max_packet_size; /* MQTT-3.2.2-15 */
    /* MQTT-3.2.2-21: the client must use the server's keepalive. */
    if (k->server_keepalive)
        s->keepalive_ms = (uint32_t)k->keepalive_s * 1000u;
    /* MQTT-3.2.2-17 / -18: never an alias above the server's maximum. */
    s->alias_out_max =
        k->topic_alias_max < s->cfg.topic_alias_out ? k->topic_alias_max : s->cfg.topic_alias_out;
}

/* Decides what each unfinished outbound message becomes on the new
 * connection (see session.h). */
static void plan_resend(legacy_session_t *s, bool session_present)
{
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        legacy_session_record_t *r = &s->inflight[i];
        switch (r->kind) {
        case KLS_AWAIT_PUBACK:
        case KLS_AWAIT_PUBREC:
            /* MQTT-4.4.0-1 / MQTT-3.3.1-1: the same message again, marked
             * as a duplicate only if the server may have seen it. */
            if (session_present)
                s->store[r->store_off] |= KLS_DUP_BIT;
            else
                s->store[r->store_off] &= (uint8_t)~KLS_DUP_BIT;
            r->flags |= KLS_UNSENT;
            break;
        case KLS_AWAIT_PUBCOMP:
            if (session_present) {
                r->flags |= KLS_UNSENT; /* PUBREL again (MQTT-4.4.0-1) */
            } else {
                /* The server released it before it forgot the session. */
                r->kind = KLS_REPORT_DONE;
                r->flags = 0;
            }
            break;
        default:
            break;
        }
    }
    if (!session_present)
        kls_inbound_clear(s);
}

static kmqtt_err_t on_connack(legacy_session_t *s, const kmqtt_packet_t *p, uint64_t now_ms,
                              legacy_event_t *ev)
{
    const kmqtt_connack_t *c = &p->u.connack;

    /* MQTT-3.2.0-1: one CONNACK, as the first packet. */
    if (s->state != LEGACY_SESSION_CONNECTING)
        return KMQTT_EPROTOCOL;
    ev->type = LEGACY_EV_CONNACK;
    ev->reason_code = c->reason_code;
    ev->session_present = c->session_present;
    ev->packet = *p;
    /* 5.0 3.2.2.3.17: the method of our CONNECT, or none if it had none. */
    if (KLS_V5(s) && !(s->auth_method_len != 0
                          ? kls_auth_method_is(s, &c->props, false)
                          : !kmqtt_props_find(&c->props, KMQTT_PROP_AUTHENTICATION_METHOD, NULL)))
        return KMQTT_EPROTOCOL;
    if (c->reason_code != 0) {
        apply_connack_props(s, c);     /* e.g. a Server Reference with 0x9C is in the event */
        s->state = LEGACY_SESSION_IDLE; /* the server closes the connection */
        return KMQTT_OK;
    }
    /* MQTT-3.2.2-1 (3.1.1), MQTT-3.2.2-2 (5.0): a clean start never comes
     * back with a session. */
    if (s->clean_start && c->session_present)
        return KMQTT_EPROTOCOL;
    s->state = LEGACY_SESSION_CONNECTED;
    apply_connack_props(s, c);
    plan_resend(s, c->session_present);
    kls_pump(s, now_ms);
    return KMQTT_OK;
}

/* ---------------------------------------------------------------- PUBLISH */

/* 5.0 3.3.2.3.2: a payload that says it is UTF-8 and is not. The receiver
 * MAY check; this one does and rejects the message (PUBACK / PUBREC 0x99, not
 * delivered), so the application never has to. */
static bool payload_format_invalid(const legacy_session_t *s, const kmqtt_publish_t *m)
{
    kmqtt_prop_t p;
    if (!KLS_V5(s) || (m->props.count == 0 && m->props.raw_len == 0))
        return false;
    if (!kmqtt_props_find(&m->props, KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, &p) || p.num != 1)
        return false;
    return kmqtt_utf8_validate((const char *)m->payload.ptr, m->payload.len) != KMQTT_OK;
}

static kmqtt_err_t on_publish(legacy_session_t *s, const kmqtt_packet_t *p, legacy_event_t *ev,
                              handled_t *h)
{
    kmqtt_publish_t *m = &ev->packet.u.publish;

    ev->type = LEGACY_EV_MESSAGE;
    ev->packet = *p;
    ev->packet_id = m->packet_id;
    *h = KLS_REPORT;
    if (KLS_V5(s)) {
        kmqtt_err_t err = kls_alias_inbound(s, m, &s->close_reason);
        if (err != KMQTT_OK)
            return err;
        if (payload_format_invalid(s, m)) {
            *h = KLS_SKIP;
            if (m->qos == 0)
                return KMQTT_OK;
            /* A failure code ends a QoS 2 flow at PUBREC: no id to keep. */
            return kls_answer(s, m->qos == 1 ? KMQTT_PUBACK : KMQTT_PUBREC, m->packet_id,
                             KLS_RC_PAYLOAD_FORMAT)
                       ? KMQTT_OK
                       : KMQTT_NEED_MORE;
        }
    }
    switch (m->qos) {
    case 0:
        return KMQTT_OK;
    case 1:
        /* MQTT-4.3.2-2: answered with a PUBACK; delivered every time it
         * comes (at least once). */
        return kls_answer(s, KMQTT_PUBACK, m->packet_id, 0) ? KMQTT_OK : KMQTT_NEED_MORE;
    default:
        if (!KMQTT_CFG_QOS2) {
            /* Compiled out; we never subscribe at QoS 2 (MQTT-3.8.4-6
             * bounds the broker by the granted QoS). */
            s->close_reason = KLS_RC_QOS_UNSUPPORTED;
            return KMQTT_EPROTOCOL;
        }
        if (kls_inbound_has(s, m->packet_id)) {
            /* Already delivered: answer again, deliver nothing
             * (MQTT-4.3.3-2, exactly once). */
            *h = KLS_SKIP;
            return kls_answer(s, KMQTT_PUBREC, m->packet_id, 0) ? KMQTT_OK : KMQTT_NEED_MORE;
        }
        /* More unreleased QoS 2 messages than we advertised (5.0: the
         * server broke MQTT-3.3.4-9's counterpart of MQTT-3.3.4-7, DISCONNECT
         * 0x93) or than the table holds; in 3.1.1 there is no such rule,
         * only our configured bound (0 = track every id). */
        if (KLS_V5(s) &&
            (s->inbound_count >= s->adv_receive_max ||
             (s->cfg.max_inbound_qos2 != 0 && s->inbound_count >= s->cfg.max_inbound_qos2))) {
            s->close_reason = KLS_RC_RECEIVE_MAX;
            return KMQTT_EPROTOCOL;
        }
        if (s->cfg.max_inbound_qos2 != 0 && s->inbound_count >= s->cfg.max_inbound_qos2)
            return KMQTT_ELIMIT;
        if (!kls_answer(s, KMQTT_PUBREC, m->packet_id, 0))
            return KMQTT_NEED_MORE;
        (void)kls_inbound_add(s, m->packet_id);
        /* Persisted before the message is delivered. */
        kls_changed(s, LEGACY_SESSION_CH_INBOUND, m->packet_id, NULL, 0);
        return KMQTT_OK;
    }
}

#if KMQTT_CFG_QOS2
static kmqtt_err_t on_pubrel(legacy_session_t *s, const kmqtt_ack_t *a)
{
    bool known = kls_inbound_has(s, a->packet_id);

    /* 5.0: the server says it lost the flow (0x92); the caller reports it. */
    if (a->reason_code != 0) {
        s->pubrel_failures++;
        s->pubrel_reason = a->reason_code;
    }
    /* No PUBCOMP may follow our DISCONNECT: keep the id, the broker
     * releases it again on the next connection. */
    if (s->state == LEGACY_SESSION_CLOSING)
        return KMQTT_OK;
    /* MQTT-4.3.3-2: PUBCOMP even for an id we no longer hold (it may be a
     * resend after our PUBCOMP was lost); 5.0 says so with 0x92. */
    if (!kls_answer(s, KMQTT_PUBCOMP, a->packet_id, known ? 0 : KLS_RC_ID_NOT_FOUND))
        return KMQTT_NEED_MORE;
    if (known) {
        kls_inbound_remove(s, a->packet_id);
        kls_changed(s, LEGACY_SESSION_CH_RELEASED, a->packet_id, NULL, 0);
    }
    return KMQTT_OK;
}

/* ----------------------------------------------------------- outbound acks */

#endif

static void publish_done(legacy_session_t *s, legacy_session_record_t *r, const kmqtt_packet_t *p,
                         uint64_t now_ms, legacy_event_t *ev)
{
    ev->type = LEGACY_EV_PUBLISH_DONE;
    ev->packet_id = r->packet_id;
    ev->reason_code = p->u.ack.reason_code;
    ev->packet = *p;
    kls_inflight_remove(s, r);
    /* A resend held back by the Receive Maximum may go now. */
    if (s->resend_due)
        kls_pump(s, now_ms);
}

#if KMQTT_CFG_QOS2
static kmqtt_err_t on_pubrec(legacy_session_t *s, const kmqtt_packet_t *p, uint64_t now_ms,
                             legacy_event_t *ev, handled_t *h)
{
    const kmqtt_ack_t *a = &p->u.ack;
    legacy_session_record_t *r = kls_find_inflight(s, a->packet_id);

    if (r == NULL || r->kind == KLS_REPORT_DONE) {
        /* Not ours (any more): release it so the server can finish. */
        return kls_answer(s, KMQTT_PUBREL, a->packet_id, KLS_RC_ID_NOT_FOUND) ? KMQTT_OK
                                                                            : KMQTT_NEED_MORE;
    }
    if (r->kind == KLS_AWAIT_PUBACK)
        return KMQTT_EPROTOCOL; /* PUBREC for a QoS 1 message */
    if (r->kind == KLS_AWAIT_PUBREC && KLS_V5(s) && a->reason_code >= 0x80) {
        /* 5.0 4.3.3: a failure code ends the flow, no PUBREL. */
        publish_done(s, r, p, now_ms, ev);
        *h = KLS_REPORT;
        return KMQTT_OK;
    }
    /* MQTT-4.3.3-1: from here on only the PUBREL is sent again, so the copy
     * of the PUBLISH is no longer needed. A repeated PUBREC gets the PUBREL
     * again. */
    kls_store_release(s, r);
    r->kind = KLS_AWAIT_PUBCOMP;
    r->flags |= KLS_UNSENT;
    kls_changed(s, LEGACY_SESSION_CH_PUBREL, r->packet_id, NULL, 0);
    kls_pump(s, now_ms);
    return KMQTT_OK;
}

#endif

static kmqtt_err_t on_puback_pubcomp(legacy_session_t *s, const kmqtt_packet_t *p, uint64_t now_ms,
                                     legacy_event_t *ev, handled_t *h)
{
    unsigned want = p->type == KMQTT_PUBACK ? KLS_AWAIT_PUBACK : KLS_AWAIT_PUBCOMP;
    legacy_session_record_t *r = kls_find_inflight(s, p->u.ack.packet_id);
    /* Anything else may be the answer to a copy sent twice (a resend
     * crossing the first answer): nothing to do. */
    if (r != NULL && r->kind == want) {
        publish_done(s, r, p, now_ms, ev);
        *h = KLS_REPORT;
    }
    return KMQTT_OK;
}

/* -------------------------------------------------------- SUBACK, UNSUBACK */

static kmqtt_err_t on_suback(legacy_session_t *s, const kmqtt_packet_t *p, legacy_event_t *ev)
{
    const kmqtt_suback_t *a = &p->u.suback;
    bool sub = p->type == KMQTT_SUBACK;
    legacy_session_record_t *r = kls_find_pending(s, a->packet_id);

    if (r == NULL || r->kind != (sub ? KLS_AWAIT_SUBACK : KLS_AWAIT_UNSUBACK))
        return KMQTT_EPROTOCOL; /* an ack for nothing we asked */
    /* One code per filter (MQTT-3.9.3-1; 5.0 3.11.3); 3.1.1 UNSUBACK has
     * none. */
    if ((sub || KLS_V5(s)) && a->reason_codes.len != r->store_len)
        return KMQTT_EPROTOCOL;
    ev->type = sub ? LEGACY_EV_SUBACK : LEGACY_EV_UNSUBACK;
    ev->packet_id = a->packet_id;
    ev->packet = *p;
    kls_pending_remove(s, r);
    return KMQTT_OK;
}

/* ------------------------------------------------------------------- AUTH */

/* 5.0 4.12: the server speaks AUTH only in an exchange our CONNECT started
 * with an Authentication Method (3.1.2.11.9), with that same method
 * (3.15.2.2.2); 0x18 while connecting or re-authenticating, 0x00 to end a
 * re-authentication (a connect ends with CONNACK). */
static kmqtt_err_t on_auth(legacy_session_t *s, const kmqtt_packet_t *p, legacy_event_t *ev)
{
    uint8_t rc = p->u.disconnect.reason_code;

    if (s->auth_method_len == 0 || !kls_auth_method_is(s, &p->u.disconnect.props, rc != 0))
        return KMQTT_EPROTOCOL;
    if (s->state == LEGACY_SESSION_CONNECTING) {
        if (rc != KLS_RC_CONTINUE_AUTH)
            return KMQTT_EPROTOCOL;
    } else if (s->state == LEGACY_SESSION_CONNECTED && s->auth_state == KLS_AUTH_REAUTH) {
        if (rc == 0)
            s->auth_state = KLS_AUTH_NONE;
        else if (rc != KLS_RC_CONTINUE_AUTH)
            return KMQTT_EPROTOCOL;
    } else if (s->state == LEGACY_SESSION_CONNECTED) {
        return KMQTT_EPROTOCOL; /* no exchange in progress */
    }
    ev->type = LEGACY_EV_AUTH;
    ev->reason_code = rc;
    ev->packet = *p;
    return KMQTT_OK;
}

/* --------------------------------------------------------------- dispatch */

static kmqtt_err_t handle(legacy_session_t *s, const kmqtt_packet_t *p, uint64_t now_ms,
                          legacy_event_t *ev, handled_t *h)
{
    bool v5 = KLS_V5(s);

    *h = KLS_SKIP;
    /* MQTT-3.2.0-1: nothing but CONNACK (or 5.0 AUTH) before CONNACK. */
    if (s->state == LEGACY_SESSION_CONNECTING && p->type != KMQTT_CONNACK &&
        !(v5 && p->type == KMQTT_AUTH))
        return KMQTT_EPROTOCOL;

    switch (p->type) {
    case KMQTT_CONNACK:
        *h = KLS_REPORT;
        return on_connack(s, p, now_ms, ev);
    case KMQTT_PUBLISH:
        return on_publish(s, p, ev, h);
    case KMQTT_PUBACK:
#if KMQTT_CFG_QOS2
    case KMQTT_PUBCOMP:
#endif
        return on_puback_pubcomp(s, p, now_ms, ev, h);
#if KMQTT_CFG_QOS2
    case KMQTT_PUBREC:
        return on_pubrec(s, p, now_ms, ev, h);
    case KMQTT_PUBREL:
        return on_pubrel(s, &p->u.ack);
#endif
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
        *h = KLS_REPORT;
        return on_suback(s, p, ev);
    case KMQTT_PINGRESP:
        s->ping_outstanding = false;
        ev->type = LEGACY_EV_PINGRESP;
        *h = KLS_REPORT;
        return KMQTT_OK;
    case KMQTT_DISCONNECT:
        /* A 3.1.1 server never sends DISCONNECT. */
        if (!v5)
            return KMQTT_EPROTOCOL;
        /* MQTT-3.14.2-2: never from the server. */
        if (kmqtt_props_find(&p->u.disconnect.props, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, NULL))
            return KMQTT_EPROTOCOL;
        ev->type = LEGACY_EV_DISCONNECT;
        ev->reason_code = p->u.disconnect.reason_code;
        ev->packet = *p;
        *h = KLS_REPORT;
        return KMQTT_OK;
    case KMQTT_AUTH:
        if (!v5)
            return KMQTT_EPROTOCOL; /* does not decode in 3.1.1 */
        *h = KLS_REPORT;
        return on_auth(s, p, ev);
    default:
        /* CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ go to servers only. */
        return KMQTT_EPROTOCOL;
    }
}

static kmqtt_err_t take_event(legacy_session_t *s, uint64_t now_ms, legacy_event_t *ev)
{
    if (report_internal(s, ev))
        return KMQTT_OK;
    /* Bytes from a connection that is over mean nothing. */
    if (s->state == LEGACY_SESSION_IDLE)
        return KMQTT_NEED_MORE;
    if (s->state == LEGACY_SESSION_CONNECTED)
        kls_owed_drain(s);

    for (;;) {
        const uint8_t *at = s->rx + s->rx_consumed;
        size_t avail = s->rx_len - s->rx_consumed;
        size_t len;
        kmqtt_packet_t p;
        handled_t h;

        if (avail == 0)
            return KMQTT_NEED_MORE;
        /* Refuses a packet larger than the receive buffer from its header,
         * before its body is waited for. */
        kmqtt_err_t err = kmqtt_packet_frame(at, avail, rx_limit(s), &len);
        if (err != KMQTT_OK)
            return err;
        err = kmqtt_packet_decode(at, len, s->cfg.version, rx_limit(s), &p, &len);
        if (err != KMQTT_OK)
            return err;

        err = handle(s, &p, now_ms, ev, &h);
        if (err == KMQTT_NEED_MORE) {
            /* The answer has no room yet: keep the packet for the next
             * call, after tx has drained. */
            memset(ev, 0, sizeof *ev);
            s->rx_blocked = true;
            return KMQTT_NEED_MORE;
        }
        if (err != KMQTT_OK)
            return err;
        s->rx_blocked = false;
        s->rx_consumed += len;
        if (h == KLS_REPORT)
            return KMQTT_OK;
        memset(ev, 0, sizeof *ev);
    }
}

/* 5.0 4.13: a client that finds a Malformed Packet or Protocol Error says
 * why in a DISCONNECT before it closes. Best effort: with no room in tx the
 * connection just closes. */
static void close_with_reason(legacy_session_t *s, kmqtt_err_t err)
{
    kmqtt_packet_t p;

    if (s->close_reason == 0) {
        if (err == KMQTT_ETOOBIG)
            s->close_reason = KLS_RC_TOO_LARGE; /* 5.0 3.1.2.11.4 */
        else if (err == KMQTT_EPROTOCOL || err == KMQTT_EPROP_VALUE)
            /* 5.0 calls a property out of its range (Receive Maximum 0,
             * Topic Alias 0, ...) a Protocol Error. */
            s->close_reason = KLS_RC_PROTOCOL;
        else
            s->close_reason = KLS_RC_MALFORMED;
    }
    memset(&p, 0, sizeof p);
    p.type = KMQTT_DISCONNECT;
    p.u.disconnect.reason_code = s->close_reason;
    s->owed_count = 0; /* DISCONNECT is the last packet (MQTT-3.14.4-1) */
    (void)kls_tx_packet(s, &p);
    s->state = LEGACY_SESSION_CLOSING;
}

kmqtt_err_t legacy_session_next_event(legacy_session_t *s, uint64_t now_ms, legacy_event_t *ev)
{
    kmqtt_err_t err;
    if (s == NULL || ev == NULL)
        return KMQTT_EINVAL;
    memset(ev, 0, sizeof *ev);
    err = take_event(s, now_ms, ev);
    if (err < 0 && KLS_V5(s) &&
        (s->state == LEGACY_SESSION_CONNECTING || s->state == LEGACY_SESSION_CONNECTED))
        close_with_reason(s, err);
    return err;
}
