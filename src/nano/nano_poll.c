/*
 * The loop: sending what tx holds, framing and handling what arrives,
 * keepalive, the CONNACK timeout, losing a connection and reconnecting with
 * backoff. Time comes from the caller and is compared wrap-safely.
 */
#include "nano_internal.h"

static bool reached(const kmqtt_nano_t *c, uint32_t at)
{
    return (int32_t)(c->now_ms - at) >= 0;
}

static uint32_t left(const kmqtt_nano_t *c, uint32_t at)
{
    return reached(c, at) ? 0u : at - c->now_ms;
}

void nano_ev(kmqtt_nano_event_t *ev, kmqtt_nano_event_type_t type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
}

/* False when the callback ended the connection (kmqtt_nano_disconnect): the
 * caller must then leave rx, tx and the store alone. */
bool nano_emit(kmqtt_nano_t *c, kmqtt_nano_event_t *ev)
{
    uint8_t gen = c->gen;
    c->busy = 1;
    if (c->cfg->on_event != NULL)
        c->cfg->on_event(c->cfg->user, ev);
    return c->gen == gen;
}

void nano_close(kmqtt_nano_t *c)
{
    c->cfg->transport->close(c->cfg->transport->ctx);
    c->gen++;
    c->rx_len = 0;
    c->tx_start = 0;
    c->tx_len = 0;
    c->flags = 0;
    memset(c->req, 0, sizeof c->req);
}

/* The end of a connection or an attempt: close, choose what comes next,
 * then tell the application (whose callback may call disconnect to stay
 * IDLE). props may point into rx, which closing leaves as it is. */
void nano_lose(kmqtt_nano_t *c, kmqtt_err_t err, uint8_t reason, const uint8_t *props,
               size_t props_len)
{
    const kmqtt_nano_config_t *f = c->cfg;
    kmqtt_nano_event_t ev;
    nano_ev(&ev,
            c->state == KMQTT_NANO_CONNECTED ? KMQTT_NANO_EV_LOST : KMQTT_NANO_EV_CONNECT_FAILED);
    nano_close(c);
    c->state = KMQTT_NANO_IDLE;
    if (f->reconnect_min_ms != 0) {
        c->state = KMQTT_NANO_WAITING;
        c->due_ms = c->now_ms + c->backoff_ms;
        c->backoff_ms =
            c->backoff_ms >= f->reconnect_max_ms / 2u ? f->reconnect_max_ms : c->backoff_ms * 2u;
    }
    ev.err = err;
    ev.reason_code = reason;
    ev.props = props;
    ev.props_len = props_len;
    nano_emit(c, &ev);
}

/* Ends the connection for err; in 5.0 tells the server why first, when tx
 * has room (4.13: DISCONNECT with 0x81, 0x82, 0x93, 0x94, 0x95). */
void nano_fail(kmqtt_nano_t *c, kmqtt_err_t err, uint8_t reason)
{
#if KMQTT_CFG_V5
    if (NANO_V5(c) && c->state == KMQTT_NANO_CONNECTED) {
        if (reason == 0)
            reason = nano_v5_reason(err);
        if (reason != 0 && nano_send_ack(c, 0xE0u, 0, reason))
            (void)nano_flush(c);
    }
#endif
    nano_lose(c, err, reason, NULL, 0);
}

/* Sends what tx holds until the transport would block. */
kmqtt_err_t nano_flush(kmqtt_nano_t *c)
{
    const kmqtt_transport_t *t = c->cfg->transport;
    while (c->tx_start < c->tx_len) {
        long n = t->send(t->ctx, c->tx + c->tx_start, c->tx_len - c->tx_start);
        if (n < 0)
            return (kmqtt_err_t)n;
        if (n == 0)
            break;
        c->tx_start += (uint32_t)n;
        c->last_tx_ms = c->now_ms;
        c->busy = 1;
    }
    if (c->tx_start == c->tx_len) {
        c->tx_start = 0;
        c->tx_len = 0;
    }
    return KMQTT_OK;
}

/* Opens the transport and queues CONNECT. The CONNACK clock starts at the
 * next poll, as open() may have taken a while of the caller's time. */
kmqtt_err_t nano_attempt(kmqtt_nano_t *c)
{
    const kmqtt_nano_config_t *f = c->cfg;
    kmqtt_err_t err =
        f->transport->open(f->transport->ctx, f->host, f->port, f->connect_timeout_ms);
    if (err != KMQTT_OK)
        return err;
    c->rx_len = 0;
    c->flags = NANO_F_ARM;
    nano_write_connect(c);
    c->state = KMQTT_NANO_CONNECTING;
    c->due_ms = c->now_ms + f->connect_timeout_ms;
    c->last_tx_ms = c->now_ms;
    return KMQTT_OK;
}

/* Handles the whole packets in rx, in order. NANO_STALL: the first one
 * waits for room in tx. */
static int drain(kmqtt_nano_t *c)
{
    while (c->rx_len > 0) {
        size_t len;
        kmqtt_err_t err = kmqtt_packet_frame(c->rx, c->rx_len, c->rx_size, &len);
        if (err == KMQTT_NEED_MORE)
            return NANO_DONE;
        int r = err < 0 ? (int)err : nano_input(c, c->rx, len);
        if (r < 0) {
            nano_fail(c, (kmqtt_err_t)r, 0);
            return NANO_GONE;
        }
        if (r != NANO_DONE)
            return r;
        c->rx_len -= (uint32_t)len;
        memmove(c->rx, c->rx + len, c->rx_len);
    }
    return NANO_DONE;
}

/* Keepalive (MQTT-3.1.2-23: a packet at least every keepalive_s; the
 * PINGRESP must follow its PINGREQ) and the CONNACK timeout. False when
 * the connection ended. */
static bool timers(kmqtt_nano_t *c)
{
    if (c->state == KMQTT_NANO_CONNECTING) {
        if (!reached(c, c->due_ms))
            return true;
        nano_lose(c, KMQTT_ETIMEDOUT, 0, NULL, 0);
        return false;
    }
    if (c->keepalive_s == 0)
        return true;
    if (c->flags & NANO_F_PING) {
        if (!reached(c, c->ping_sent_ms + c->cfg->ping_timeout_ms))
            return true;
        nano_lose(c, KMQTT_EKEEPALIVE, 0, NULL, 0);
        return false;
    }
    if (reached(c, c->last_tx_ms + c->keepalive_s * 1000u)) {
        /* A tx too full for two bytes has not moved for a whole keepalive:
         * the PINGRESP timeout then ends the connection all the same. */
        (void)nano_send_ack(c, 0xC0u, 0, 0);
        c->flags |= NANO_F_PING;
        c->ping_sent_ms = c->now_ms;
    }
    return true;
}

static void io(kmqtt_nano_t *c)
{
    const kmqtt_transport_t *t = c->cfg->transport;
    for (unsigned round = 0;; round++) {
        if (c->state == KMQTT_NANO_CONNECTED)
            nano_resend(c);
        kmqtt_err_t err = nano_flush(c);
        if (err != KMQTT_OK) {
            nano_lose(c, err, 0, NULL, 0);
            return;
        }
        if (drain(c) == NANO_GONE)
            return;
        if (round == 4 || c->rx_len == c->rx_size)
            break;
        long n = t->recv(t->ctx, c->rx + c->rx_len, c->rx_size - c->rx_len);
        if (n < 0) {
            nano_lose(c, (kmqtt_err_t)n, 0, NULL, 0);
            return;
        }
        if (n == 0)
            break;
        c->rx_len += (uint32_t)n;
        c->busy = 1;
    }
    if (!timers(c))
        return;
    if (c->state == KMQTT_NANO_CONNECTED)
        nano_resend(c);
    kmqtt_err_t err = nano_flush(c);
    if (err != KMQTT_OK)
        nano_lose(c, err, 0, NULL, 0);
}

uint32_t nano_next_ms(const kmqtt_nano_t *c)
{
    switch (c->state) {
    case KMQTT_NANO_CONNECTING:
        if (c->flags & NANO_F_ARM)
            return 0; /* come back at once to start the CONNACK clock */
        /* fall through */
    case KMQTT_NANO_WAITING:
        return left(c, c->due_ms);
    case KMQTT_NANO_CONNECTED:
        if (c->keepalive_s == 0)
            return UINT32_MAX;
        if (c->flags & NANO_F_PING)
            return left(c, c->ping_sent_ms + c->cfg->ping_timeout_ms);
        return left(c, c->last_tx_ms + c->keepalive_s * 1000u);
    default:
        return UINT32_MAX;
    }
}

kmqtt_err_t kmqtt_nano_poll(kmqtt_nano_t *c, uint32_t now_ms, uint32_t *next_ms)
{
    if (c == NULL || c->cfg == NULL)
        return KMQTT_EINVAL;
    c->now_ms = now_ms;
    c->busy = 0;
    uint8_t state = c->state;
    if (c->flags & NANO_F_ARM) {
        c->flags &= (uint8_t)~NANO_F_ARM;
        c->due_ms = now_ms + c->cfg->connect_timeout_ms;
    }
    if (c->state == KMQTT_NANO_WAITING && reached(c, c->due_ms)) {
        kmqtt_err_t err = nano_attempt(c);
        if (err != KMQTT_OK)
            nano_lose(c, err, 0, NULL, 0);
    }
    if (c->state >= KMQTT_NANO_CONNECTING)
        io(c);
    if (c->state != state)
        c->busy = 1;
    if (next_ms != NULL)
        *next_ms = nano_next_ms(c);
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_nano_step(kmqtt_nano_t *c, uint32_t now_ms, uint32_t max_wait_ms)
{
    uint32_t next;
    kmqtt_err_t err = kmqtt_nano_poll(c, now_ms, &next);
    if (err != KMQTT_OK)
        return err;
    /* A poll that moved something may find more at once: the wait is for
     * when there is nothing to do. */
    if (c->busy)
        return KMQTT_OK;
    const kmqtt_transport_t *t = c->cfg->transport;
    unsigned ready;
    return t->wait(t->ctx, KMQTT_WAIT_READ | (kmqtt_nano_want_write(c) ? KMQTT_WAIT_WRITE : 0u),
                   next < max_wait_ms ? next : max_wait_ms, &ready);
}
