/*
 * Time: keepalive, the PINGRESP deadline and (3.1.1) the resend of
 * unacknowledged messages on the same connection. now_ms is a free-running
 * counter that may wrap, so times are compared by their difference.
 *
 * Decision 7 (docs/architecture.md): a PINGREQ goes when nothing was sent
 * for the keepalive OR nothing was received for it. MQTT-3.1.2-23 asks only
 * for the first; a PINGREQ may be sent at any time (3.1.2.10), and the
 * second notices a dead broker within keepalive + ping timeout even while
 * the application publishes QoS 0 without pause.
 */
#include "session_internal.h"

static uint32_t left(uint32_t now, uint32_t at)
{
    return (int32_t)(now - at) >= 0 ? 0u : at - now;
}

/* The configured timeout, or half the keepalive in force but at least a
 * second (a round trip over a slow link). */
static uint32_t ping_timeout(const kmqtt_session_t *s)
{
    uint32_t t = s->cfg->ping_timeout_ms;
    if (t == 0)
        t = s->keepalive_s * 500u < 1000u ? 1000u : s->keepalive_s * 500u;
    return t;
}

/* Queues the PINGREQ a tick found due when tx had no room (from
 * kmqtt_session_tx_consume, as room appears). */
void ks_ping_owed(kmqtt_session_t *s, uint32_t now_ms)
{
    if ((s->flags & KS_F_PING_OWED) && ks_send_ack(s, 0xC0u, 0, 0)) {
        s->flags = (uint8_t)((s->flags & ~KS_F_PING_OWED) | KS_F_PING);
        s->ping_sent_ms = now_ms;
    }
}

static uint32_t keepalive(kmqtt_session_t *s, uint32_t now_ms, kmqtt_err_t *err)
{
    uint32_t ka = s->keepalive_s * 1000u;
    if (s->flags & KS_F_PING) {
        uint32_t next = left(now_ms, s->ping_sent_ms + ping_timeout(s));
        if (next == 0)
            *err = KMQTT_EKEEPALIVE;
        return next;
    }
    uint32_t tx = left(now_ms, s->last_tx_ms + ka);
    if (s->flags & KS_F_PING_OWED) {
        /* tx has been full since the ping fell due: the transport took
         * nothing for a keepalive and a ping timeout more. */
        uint32_t next = left(now_ms, s->last_tx_ms + ka + ping_timeout(s));
        if (next == 0)
            *err = KMQTT_EKEEPALIVE;
        return next;
    }
    uint32_t rx = left(now_ms, s->last_rx_ms + ka);
    uint32_t next = tx < rx ? tx : rx;
    if (next != 0)
        return next;
    /* A full tx owes the PINGREQ until the transport makes room: a busy
     * link is not a dead one. */
    s->flags |= KS_F_PING_OWED;
    ks_ping_owed(s, now_ms);
    return (s->flags & KS_F_PING) ? ping_timeout(s) : left(now_ms, s->last_tx_ms + ka + ping_timeout(s));
}

#if KMQTT_CFG_RETRY
/* 3.1.1 on the same connection: when nothing was acknowledged for retry_ms
 * while messages are in flight, they go again with DUP (MQTT-3.3.1-1; 5.0
 * allows a resend only after a reconnect: MQTT-4.4.0-1). The clock starts
 * at the first tick with a message in flight, and again at each ack. */
static uint32_t retry(kmqtt_session_t *s, uint32_t now_ms)
{
    uint32_t r = s->cfg->retry_ms;
    if (r == 0 || KS_V5(s) || s->inflight == 0) {
        s->retry_armed = 0;
        return UINT32_MAX;
    }
    if (!s->retry_armed) {
        s->retry_armed = 1;
        s->last_ack_ms = now_ms;
    }
    uint32_t next = left(now_ms, s->last_ack_ms + r);
    if (next != 0 || s->resend_off != s->store_used)
        return next != 0 ? next : r;
    s->flags |= KS_F_SESSION; /* the server has them: DUP, and PUBREL for the released */
    s->resend_off = 0;
    s->resent = 0;
    s->last_ack_ms = now_ms;
    ks_resend(s);
    return r;
}
#endif

kmqtt_err_t kmqtt_session_tick(kmqtt_session_t *s, uint32_t now_ms, uint32_t *next_ms)
{
    uint32_t next = UINT32_MAX;
    kmqtt_err_t err = KMQTT_OK;
    if (s->state == KMQTT_SESSION_CONNECTED) {
        ks_resend(s);
        if (s->keepalive_s != 0)
            next = keepalive(s, now_ms, &err);
#if KMQTT_CFG_RETRY
        uint32_t r = retry(s, now_ms);
        if (r < next)
            next = r;
#endif
        if (err != KMQTT_OK)
            s->state = KMQTT_SESSION_ENDED;
    }
    if (next_ms != NULL)
        *next_ms = next;
    return err;
}
