/*
 * The driver's loop: moving bytes between the transport and the engine,
 * pulling the engine's events to the callback, the CONNACK timeout, losing a
 * connection and reconnecting with jittered backoff. Time comes from the
 * caller and is compared wrap-safely.
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

/* False when the callback ended the connection (kmqtt_nano_disconnect): the
 * caller must then leave the engine alone. */
static bool emit(kmqtt_nano_t *c, kmqtt_nano_event_t *ev)
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
    kmqtt_session_lost(&c->s);
    c->gen++;
}

/* xorshift32: enough to spread a fleet's reconnects. */
static uint32_t next_random(kmqtt_nano_t *c)
{
    uint32_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c->rng = x;
    return x;
}

/* The end of a connection or an attempt: close, choose what comes next,
 * then tell the application (whose callback may call disconnect to stay
 * IDLE). props may point into rx, which closing leaves as it is. */
void nano_lose(kmqtt_nano_t *c, kmqtt_err_t err, uint8_t reason, const uint8_t *props,
               size_t props_len)
{
    const kmqtt_nano_config_t *f = c->cfg;
    kmqtt_nano_event_t ev;
#if KMQTT_CFG_STREAM
    bool cut = kmqtt_session_in_pieces(&c->s);
#endif
    memset(&ev, 0, sizeof ev);
    ev.type = c->state == KMQTT_NANO_CONNECTED ? KMQTT_NANO_EV_LOST : KMQTT_NANO_EV_CONNECT_FAILED;
    nano_close(c);
#if KMQTT_CFG_STREAM
    if (cut) {
        /* The message in pieces ends here, before the loss is told. */
        kmqtt_session_event_t sev;
        kmqtt_nano_event_t abort_ev;
        if (kmqtt_session_next_event(&c->s, c->now_ms, &sev) == KMQTT_OK) {
            memset(&abort_ev, 0, sizeof abort_ev);
            abort_ev.type = KMQTT_NANO_EV_MESSAGE_ABORT;
            abort_ev.packet_id = sev.packet_id;
            abort_ev.msg = &sev.msg;
            abort_ev.offset = sev.offset;
            abort_ev.total = sev.total;
            emit(c, &abort_ev);
        }
    }
#endif
    c->state = KMQTT_NANO_IDLE;
    if (f->reconnect_min_ms != 0) {
        c->state = KMQTT_NANO_WAITING;
        c->due_ms =
            c->now_ms + kmqtt_session_backoff(&c->backoff_ms, f->reconnect_max_ms, next_random(c));
    }
    ev.err = err;
    ev.reason_code = reason;
    ev.props = props;
    ev.props_len = props_len;
    emit(c, &ev);
}

/* Sends what tx holds until the transport would block. Bytes refused are
 * offered again unchanged (DESIGN rule 6): the engine moves its queue only
 * by what the transport took. */
kmqtt_err_t nano_flush(kmqtt_nano_t *c)
{
    const kmqtt_transport_t *t = c->cfg->transport;
    const uint8_t *buf;
    size_t n;
    while ((n = kmqtt_session_tx_peek(&c->s, &buf)) != 0) {
        long sent = t->send(t->ctx, buf, n);
        if (sent < 0)
            return (kmqtt_err_t)sent;
        if (sent == 0)
            break;
        kmqtt_session_tx_consume(&c->s, (size_t)sent, c->now_ms);
        c->busy = 1;
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
    (void)kmqtt_session_start(&c->s, c->now_ms);
    c->arm = 1;
    c->state = KMQTT_NANO_CONNECTING;
    c->due_ms = c->now_ms + f->connect_timeout_ms;
    return KMQTT_OK;
}

/* One engine event to the callback. False when the connection ended. */
static bool deliver(kmqtt_nano_t *c, const kmqtt_session_event_t *sev)
{
    kmqtt_nano_event_t ev;
    memset(&ev, 0, sizeof ev);
    /* The engine's event numbers are the driver's, but for the two ends. */
    ev.type = (kmqtt_nano_event_type_t)sev->type;
    ev.err = sev->err;
    ev.packet_id = sev->packet_id;
    ev.reason_code = sev->reason_code;
    ev.session_present = sev->session_present;
    ev.msg = sev->type == KMQTT_SESSION_EV_MESSAGE ? &sev->msg : NULL;
#if KMQTT_CFG_STREAM
    if (sev->type >= KMQTT_SESSION_EV_MESSAGE_BEGIN)
        ev.msg = &sev->msg;
    ev.offset = sev->offset;
    ev.total = sev->total;
#endif
    ev.codes = sev->codes;
    ev.count = sev->count;
    ev.props = sev->props;
    ev.props_len = sev->props_len;
    if (sev->type == KMQTT_SESSION_EV_DISCONNECT) {
        nano_lose(c, KMQTT_EDISCONNECTED, sev->reason_code, sev->props, sev->props_len);
        return false;
    }
    if (sev->type == KMQTT_SESSION_EV_CONNACK) {
        if (sev->reason_code != 0) {
            nano_lose(c, KMQTT_EREFUSED, sev->reason_code, sev->props, sev->props_len);
            return false;
        }
        c->state = KMQTT_NANO_CONNECTED;
        c->backoff_ms = c->cfg->reconnect_min_ms;
    }
    return emit(c, &ev);
}

/* The engine's events, in order, until it needs more bytes. False when the
 * connection ended. A protocol error: the engine queued its DISCONNECT
 * (5.0), which goes out before the close. */
static bool pump(kmqtt_nano_t *c)
{
    kmqtt_session_event_t sev;
    for (;;) {
        kmqtt_err_t err = kmqtt_session_next_event(&c->s, c->now_ms, &sev);
        if (err == KMQTT_NEED_MORE)
            return true;
        if (err < 0) {
            (void)nano_flush(c);
            nano_lose(c, err, kmqtt_session_close_reason(&c->s), NULL, 0);
            return false;
        }
        if (!deliver(c, &sev))
            return false;
    }
}

/* Returns how long until the engine's next deadline (UINT32_MAX: none). */
static uint32_t io(kmqtt_nano_t *c)
{
    uint32_t next = UINT32_MAX;
    const kmqtt_transport_t *t = c->cfg->transport;
    for (unsigned round = 0;; round++) {
        kmqtt_err_t err = nano_flush(c);
        if (err != KMQTT_OK) {
            nano_lose(c, err, 0, NULL, 0);
            return next;
        }
        if (!pump(c))
            return next;
        size_t space;
        uint8_t *buf = kmqtt_session_rx_space(&c->s, &space);
        if (round == 4 || space == 0)
            break;
        long n = t->recv(t->ctx, buf, space);
        if (n < 0) {
            nano_lose(c, (kmqtt_err_t)n, 0, NULL, 0);
            return next;
        }
        if (n == 0)
            break;
        kmqtt_session_rx_commit(&c->s, (size_t)n, c->now_ms);
        c->busy = 1;
    }
    /* The CONNACK timeout is the driver's; keepalive the engine's. */
    if (c->state == KMQTT_NANO_CONNECTING && reached(c, c->due_ms)) {
        nano_lose(c, KMQTT_ETIMEDOUT, 0, NULL, 0);
        return next;
    }
    kmqtt_err_t err = kmqtt_session_tick(&c->s, c->now_ms, &next);
    if (err == KMQTT_OK)
        err = nano_flush(c);
    if (err != KMQTT_OK)
        nano_lose(c, err, 0, NULL, 0);
    return next;
}

static uint32_t next_ms(const kmqtt_nano_t *c, uint32_t engine)
{
    switch (c->state) {
    case KMQTT_NANO_CONNECTING:
        if (c->arm)
            return 0; /* come back at once to start the CONNACK clock */
        return left(c, c->due_ms);
    case KMQTT_NANO_WAITING:
        return left(c, c->due_ms);
    case KMQTT_NANO_CONNECTED:
        return engine;
    default:
        return UINT32_MAX;
    }
}

kmqtt_err_t kmqtt_nano_poll(kmqtt_nano_t *c, uint32_t now_ms, uint32_t *next)
{
    if (c == NULL || c->cfg == NULL)
        return KMQTT_EINVAL;
    c->now_ms = now_ms;
    c->busy = 0;
    uint8_t state = c->state;
    if (c->arm) {
        c->arm = 0;
        c->due_ms = now_ms + c->cfg->connect_timeout_ms;
    }
    if (c->state == KMQTT_NANO_WAITING && reached(c, c->due_ms)) {
        kmqtt_err_t err = nano_attempt(c);
        if (err != KMQTT_OK)
            nano_lose(c, err, 0, NULL, 0);
    }
    uint32_t engine = UINT32_MAX;
    if (c->state >= KMQTT_NANO_CONNECTING)
        engine = io(c);
    if (c->state != state)
        c->busy = 1;
    if (next != NULL)
        *next = next_ms(c, engine);
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
