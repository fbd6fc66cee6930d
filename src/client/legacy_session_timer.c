/*
 * Time: keepalive pings, the dead-broker check, and the 3.1.1 retry of
 * unacknowledged packets on the same connection.
 */
#include "legacy_session_internal.h"

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t add_ms(uint64_t t, uint64_t d)
{
    return t > UINT64_MAX - d ? UINT64_MAX : t + d;
}

/* How long a PINGREQ may wait for its PINGRESP: half a keepalive, at
 * least a second, so a dead broker is noticed within 1.5 x keepalive. */
static uint64_t ping_allowance(const legacy_session_t *s)
{
    uint64_t half = s->keepalive_ms / 2u;
    return half < 1000u ? 1000u : half;
}

static kmqtt_err_t keepalive(legacy_session_t *s, uint64_t now_ms, uint64_t *next)
{
    if (s->keepalive_ms == 0)
        return KMQTT_OK;
    if (s->ping_outstanding) {
        uint64_t deadline = add_ms(s->ping_sent_ms, ping_allowance(s));
        if (now_ms >= deadline)
            return KMQTT_EKEEPALIVE;
        *next = earliest(*next, deadline);
        return KMQTT_OK;
    }
    if (s->state != LEGACY_SESSION_CONNECTED)
        return KMQTT_OK; /* no PINGREQ before CONNACK or after DISCONNECT */
    /* MQTT-3.1.2-23: something must be sent within each keepalive; a ping
     * when nothing arrived either finds out whether the broker is alive. */
    uint64_t due = add_ms(earliest(s->last_tx_ms, s->last_rx_ms), s->keepalive_ms);
    if (now_ms < due) {
        *next = earliest(*next, due);
        return KMQTT_OK;
    }
    /* Owed if tx is full: the allowance then also covers a send buffer
     * that does not drain. */
    if (kls_answer(s, KMQTT_PINGREQ, 0, 0)) {
        s->ping_outstanding = true;
        s->ping_sent_ms = now_ms;
        *next = earliest(*next, add_ms(now_ms, ping_allowance(s)));
    } else {
        /* tx and the owed list are full: the next tick after tx drains
         * queues it; until then, look again after an allowance. */
        *next = earliest(*next, add_ms(now_ms, ping_allowance(s)));
    }
    return KMQTT_OK;
}

static void retry(legacy_session_t *s, uint64_t now_ms, uint64_t *next)
{
    /* 5.0 allows a resend only on a new connection (MQTT-4.4.0-1). */
    if (s->cfg.version != KMQTT_V311 || s->cfg.retry_ms == 0 || s->state != LEGACY_SESSION_CONNECTED)
        return;
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        legacy_session_record_t *r = &s->inflight[i];
        if (r->kind == KLS_REPORT_DONE || (r->flags & KLS_UNSENT) != 0)
            continue;
        if (kls_elapsed(now_ms, r->sent_ms) < s->cfg.retry_ms)
            continue;
        /* MQTT-3.3.1-1: a PUBLISH sent again carries DUP. */
        if (r->kind != KLS_AWAIT_PUBCOMP)
            s->store[r->store_off] |= KLS_DUP_BIT;
        r->flags |= KLS_UNSENT;
    }
    kls_pump(s, now_ms);
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        const legacy_session_record_t *r = &s->inflight[i];
        if (r->kind != KLS_REPORT_DONE && (r->flags & KLS_UNSENT) == 0)
            *next = earliest(*next, add_ms(r->sent_ms, s->cfg.retry_ms));
    }
}

kmqtt_err_t legacy_session_tick(legacy_session_t *s, uint64_t now_ms, uint64_t *next_ms)
{
    uint64_t next = UINT64_MAX;
    kmqtt_err_t err;

    if (s == NULL || next_ms == NULL)
        return KMQTT_EINVAL;
    if (s->state == LEGACY_SESSION_CONNECTED)
        kls_owed_drain(s);
    err = keepalive(s, now_ms, &next);
    if (err != KMQTT_OK) {
        *next_ms = now_ms;
        return err;
    }
    retry(s, now_ms, &next);
    /* A received packet waits only for room for its answer: once there is
     * some, next_event can go on at once. */
    if (s->rx_blocked && s->owed_count < LEGACY_SESSION_OWED_MAX)
        next = now_ms;
    *next_ms = next;
    return KMQTT_OK;
}
