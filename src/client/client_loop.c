/*
 * The loop: one turn (send, wait, receive, handle), the blocking-wait step
 * every blocking call uses, the closing of a connection, kmqtt_run and the
 * background thread. See client_internal.h for the locking rules.
 */
#include "client_internal.h"

/* ------------------------------------------------------ lock, cond, time */

void kc_lock(kmqtt_client_t *c)
{
    kmqtt_port_mutex_lock(c->mx);
}

void kc_unlock(kmqtt_client_t *c)
{
    kmqtt_port_mutex_unlock(c->mx);
}

void kc_broadcast(kmqtt_client_t *c)
{
    kmqtt_port_cond_broadcast(c->cv);
}

void kc_cond_wait(kmqtt_client_t *c, uint32_t ms)
{
    (void)kmqtt_port_cond_wait(c->cv, c->mx, ms);
}

uint64_t kc_now(void)
{
    return kmqtt_port_now_ms();
}

uint64_t kc_deadline(uint32_t ms)
{
    return kc_now() + ms;
}

uint32_t kc_remaining(uint64_t deadline)
{
    uint64_t now = kc_now();

    if (now >= deadline)
        return 0;
    return deadline - now > UINT32_MAX ? UINT32_MAX : (uint32_t)(deadline - now);
}

/* ------------------------------------------------------------ transport */

/* Sends what the session has queued until the transport would block. */
kmqtt_err_t kc_flush(kmqtt_client_t *c)
{
    const uint8_t *buf;
    size_t n;
    long sent;

    while ((n = kmqtt_session_tx_peek(&c->s, &buf)) != 0) {
        sent = c->tr.send(c->tr.ctx, buf, n);
        if (sent < 0)
            return (kmqtt_err_t)sent;
        if (sent == 0)
            return KMQTT_OK;
        kmqtt_session_tx_consume(&c->s, (size_t)sent, KC_NOW32());
    }
    return KMQTT_OK;
}

/* Gets queued bytes moving without a turn. If the turn holder is inside
 * wait(), it is woken instead (it then sends them): the transport serves
 * one thread at a time. An error is left for the next turn to find. */
void kc_try_flush(kmqtt_client_t *c)
{
    if (!c->open)
        return;
    if (c->io_busy) {
        kc_wake_once(c);
        return;
    }
    (void)kc_flush(c);
}

/* Every wake() goes through here: connect_open consumes a wake left
 * pending only when one was issued (a zero wait() is two system calls). */
void kc_wake(kmqtt_client_t *c)
{
    c->wake_issued = true;
    c->tr.wake(c->tr.ctx);
}

/* Wakes the thread inside wait() unless a wake since it went in is still
 * pending (each wake() is a system call; one is enough: the woken thread
 * flushes everything queued by then, under mx). */
void kc_wake_once(kmqtt_client_t *c)
{
    if (c->wake_pending)
        return;
    c->wake_pending = true;
    kc_wake(c);
}

/* After a publish queued its packet (mx held). was_empty: the send buffer
 * held nothing before it. A thread inside wait() is woken only on that
 * transition (the doorbell): it went into wait() either with bytes queued
 * (and so waits for the socket to be writable) or with none, and then the
 * first publish since rang. Otherwise the bytes are sent now, or with
 * publish_batch left for the turn, a full buffer, a wait or disconnect. */
void kc_publish_kick(kmqtt_client_t *c, bool was_empty)
{
    if (!c->open)
        return;
    if (c->io_busy) {
        if (was_empty)
            kc_wake_once(c);
        return;
    }
    if (!c->opt.publish_batch)
        (void)kc_flush(c);
}

/* Returns once no thread is inside open() or wait(). Those return at once
 * after wake(); the periodic re-wake covers a wake that raced the call. */
void kc_quiesce(kmqtt_client_t *c)
{
    /* Hold off new turns meanwhile: the background thread would otherwise
     * take the lock first every time and go straight back into wait(), and
     * io_busy would never be seen clear (a livelock). */
    c->quiescing++;
    while (c->io_busy) {
        kc_wake(c);
        kc_cond_wait(c, 100);
    }
    c->quiescing--;
}

/* The one release path of a connection. Needs mx held and io_busy clear. */
void kc_close(kmqtt_client_t *c, kmqtt_err_t why, kmqtt_conn_state_t state)
{
    if (c->open) {
        bool cut = kmqtt_session_in_pieces(&c->s);
        c->tr.close(c->tr.ctx);
        c->open = false;
        kmqtt_session_lost(&c->s);
        if (cut)
            kc_piece_cut(c);
        c->conn_gen++;
    }
    c->last_err = why;
    if (c->connect_result == KMQTT_NEED_MORE)
        c->connect_result = why;
    kc_requests_fail(c, why);
    kc_resubscribe_stop(c, false);
    c->state = state;
    kc_broadcast(c);
}

/* Callbacks run without the lock, so they may call back into the client. */
void kc_notify_state(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err)
{
    kmqtt_state_fn fn = c->opt.on_state;

    kc_piece_abort(c); /* a message in pieces the close cut */
    if (fn == NULL)
        return;
    kc_unlock(c);
    fn(c, state, err, c->opt.ctx);
    kc_lock(c);
}

/* A failure of the transport or the protocol. A connect still waiting for
 * its CONNACK is a failed attempt (it never was connected); an established
 * connection is lost, and retried if the reconnect policy says so. */
kmqtt_err_t kc_lost(kmqtt_client_t *c, kmqtt_err_t err)
{
    uint32_t cancel_seq = c->cancel_seq;

    if (!c->open)
        return err;
    if (c->state == KMQTT_STATE_CONNECTING) {
        kc_close(c, err, KMQTT_STATE_DISCONNECTED);
        kc_attempt_failed(c, err);
        return err;
    }
    c->rc_armed = c->disconnecting == 0 && kc_reconnect_policy(c);
    if (kc_now() - c->connected_ms >= c->opt.reconnect_max_ms)
        c->backoff_ms = c->opt.reconnect_min_ms; /* a connection that held: start over */
    kc_close(c, err, KMQTT_STATE_CONNECTION_LOST);
    kc_notify_state(c, KMQTT_STATE_CONNECTION_LOST, err);
    /* The callback may have disconnected (which disarms) meanwhile. */
    if (c->rc_armed && c->cancel_seq == cancel_seq && !c->open &&
        c->state == KMQTT_STATE_CONNECTION_LOST)
        kc_reconnect_arm(c, err);
    return err;
}

/* ------------------------------------------------------------- the turn */

void kc_turn_acquire(kmqtt_client_t *c)
{
    while (c->turn_busy) {
        if (c->io_busy)
            kc_wake(c);
        kc_cond_wait(c, 100);
    }
    c->turn_busy = true;
    c->turn_bg = c->thread != NULL && kmqtt_port_thread_is_current(c->thread);
}

void kc_turn_release(kmqtt_client_t *c)
{
    c->turn_busy = false;
    c->turn_bg = false;
    kc_broadcast(c);
}

/* Receives and handles until the transport has nothing more (bounded). */
static kmqtt_err_t receive(kmqtt_client_t *c, uint32_t gen)
{
    uint8_t *buf;
    size_t space;
    long n;
    unsigned round;
    kmqtt_err_t err;

    for (round = 0; round < KC_RX_ROUNDS; round++) {
        err = kc_events(c, gen);
        if (err != KMQTT_OK)
            return err;
        buf = kmqtt_session_rx_space(&c->s, &space);
        if (space == 0)
            break; /* a packet waits for room for its answer: send first */
        n = c->tr.recv(c->tr.ctx, buf, space);
        if (n < 0)
            return kc_lost(c, (kmqtt_err_t)n);
        if (n == 0)
            break;
        kmqtt_session_rx_commit(&c->s, (size_t)n, KC_NOW32());
        /* Less than asked for: the socket is (very likely) drained. Asking
         * again would cost a system call that finds nothing; whatever came
         * meanwhile wakes the next wait(). */
        if ((size_t)n < space)
            break;
    }
    return kc_events(c, gen);
}

/* One turn; mx and the turn held. Returns KMQTT_OK, KMQTT_ENOTCONN (nothing
 * open, or closed by kmqtt_disconnect meanwhile) or the error that lost
 * the connection. */
kmqtt_err_t kc_turn(kmqtt_client_t *c, uint32_t wait_ms)
{
    uint32_t gen = c->conn_gen;
    uint64_t now, next = UINT64_MAX;
    const uint8_t *buf;
    unsigned events = KMQTT_WAIT_READ, ready = 0;
    kmqtt_err_t err;

    if (!c->open)
        return KMQTT_ENOTCONN;
    if (c->resub_next < c->opt.max_subscriptions)
        kc_resubscribe(c);
    err = kc_flush(c);
    if (err != KMQTT_OK)
        return kc_lost(c, err);
    now = kc_now();
    err = kc_session_tick(c, now, &next);
    if (err != KMQTT_OK)
        return kc_lost(c, err);
    kc_queue_drain(c);
    err = kc_flush(c);
    if (err != KMQTT_OK)
        return kc_lost(c, err);
    /* A packet whose answer found tx full waits in the engine's rx until tx
     * drained, which the flush may just have done: it is taken now, not
     * after a wait for bytes that may not come. */
    err = kc_events(c, gen);
    if (err != KMQTT_OK)
        return err;
    if (kmqtt_session_tx_peek(&c->s, &buf) != 0)
        events |= KMQTT_WAIT_WRITE;
    if (next <= now)
        wait_ms = 0;
    else if (next - now < wait_ms)
        wait_ms = (uint32_t)(next - now);
    if (c->disconnecting != 0 || c->quiescing != 0 || (c->turn_bg && c->bg_stop))
        wait_ms = 0;
    if (wait_ms != 0) {
        c->io_busy = true;
        kc_unlock(c);
        err = c->tr.wait(c->tr.ctx, events, wait_ms, &ready);
        kc_lock(c);
        c->io_busy = false;
        c->wake_pending = false;
        kc_broadcast(c);
        /* A disconnect woke us to close the transport: leave it alone. */
        if (gen != c->conn_gen || !c->open || c->disconnecting != 0)
            return KMQTT_ENOTCONN;
        if (err != KMQTT_OK)
            return kc_lost(c, err);
    }
    err = receive(c, gen);
    if (err != KMQTT_OK)
        return err;
    if (gen != c->conn_gen || !c->open)
        return KMQTT_ENOTCONN;
    kc_queue_drain(c); /* acks made room in the window */
    err = kc_flush(c);
    if (err != KMQTT_OK)
        return kc_lost(c, err);
    return KMQTT_OK;
}

/* ---------------------------------------------------------------- waits */

/* True when the background thread runs the loop for everyone else. */
bool kc_bg_drives(const kmqtt_client_t *c)
{
    return c->thread != NULL && !c->bg_stop;
}

/* Why a blocked call ends early: its caller's disconnect (or another
 * thread's), or the connection's loss. KMQTT_NEED_MORE if neither, also
 * while the client reconnects by itself (a message in flight goes again
 * after the reconnect). */
kmqtt_err_t kc_conn_err(const kmqtt_client_t *c, uint32_t cancel_seq)
{
    if (c->cancel_seq != cancel_seq)
        return KMQTT_ECANCELED;
    if (c->rc_armed)
        return KMQTT_NEED_MORE;
    if (c->state == KMQTT_STATE_CONNECTION_LOST)
        return c->last_err;
    if (c->state == KMQTT_STATE_DISCONNECTED)
        return KMQTT_ECANCELED;
    return KMQTT_NEED_MORE;
}

/* One step of a blocking call's wait, up to ms: runs a turn on the calling
 * thread when nobody else runs the loop, else sleeps on the condition.
 * KMQTT_ESTATE when the only thread that could run the loop is the caller,
 * already inside a turn (a handler of a message delivered straight from
 * the receive buffer, on the background thread): waiting would only time
 * out. */
kmqtt_err_t kc_wait_step(kmqtt_client_t *c, uint32_t ms)
{
    bool on_bg = c->thread != NULL && kmqtt_port_thread_is_current(c->thread);
    kmqtt_err_t err;

    if (ms == 0)
        return KMQTT_OK;
    /* Reconnecting, and nobody else runs the loop: the caller stands in. */
    if (kc_reconnect_due(c) && (!kc_bg_drives(c) || on_bg)) {
        kc_reconnect_step(c, kc_deadline(ms));
        return KMQTT_OK;
    }
    if ((kc_bg_drives(c) && !on_bg) || c->disconnecting != 0 || !c->open) {
        kc_cond_wait(c, ms);
        return KMQTT_OK;
    }
    if (c->turn_busy) {
        if (on_bg && c->turn_bg)
            return KMQTT_ESTATE;
        if (c->io_busy)
            kc_wake(c);
        kc_cond_wait(c, ms);
        return KMQTT_OK;
    }
    kc_turn_acquire(c);
    err = kc_turn(c, ms);
    kc_turn_release(c);
    (void)err; /* the caller's check sees the state it left */
    return KMQTT_OK;
}

/* ------------------------------------------------------------ kmqtt_run */

/* kmqtt_run while the client reconnects by itself (only with
 * KMQTT_RECONNECT_ON: otherwise the background thread does it): sleeps out
 * the backoff within the caller's time, then makes the attempt. */
static kmqtt_err_t run_reconnect(kmqtt_client_t *c, uint64_t deadline)
{
    for (;;) {
        if (c->open || !c->rc_armed || c->disconnecting != 0)
            return c->rc_armed || c->open ? KMQTT_OK : KMQTT_ENOTCONN;
        if (kc_reconnect_due(c) && kc_now() >= c->retry_at) {
            kc_reconnect_step(c, deadline); /* the attempt */
            return KMQTT_OK;
        }
        if (kc_remaining(deadline) == 0)
            return KMQTT_OK;
        if (kc_reconnect_due(c))
            kc_reconnect_step(c, deadline); /* the backoff, or part of it */
        else
            kc_cond_wait(c, kc_remaining(deadline)); /* another thread's attempt */
    }
}

kmqtt_err_t kmqtt_run(kmqtt_client_t *c, uint32_t timeout_ms)
{
    uint64_t deadline;
    kmqtt_err_t err;

    if (c == NULL)
        return KMQTT_EINVAL;
    kc_lock(c);
    if (kc_bg_drives(c)) {
        kc_unlock(c);
        return KMQTT_ESTATE;
    }
    deadline = kc_deadline(timeout_ms);
    /* Another thread's blocking call may be running a turn: its turn
     * serves this caller too. */
    while (c->open && c->turn_busy) {
        uint32_t left = kc_remaining(deadline);
        if (left == 0) {
            kc_unlock(c);
            return KMQTT_OK;
        }
        kc_cond_wait(c, left);
    }
    if (!c->open) {
        err = run_reconnect(c, deadline);
        kc_unlock(c);
        return err;
    }
    kc_turn_acquire(c);
    err = kc_turn(c, kc_remaining(deadline));
    kc_turn_release(c);
    kc_unlock(c);
    return err;
}

/* ---------------------------------------------------- background thread */

static void bg_main(void *arg)
{
    kmqtt_client_t *c = arg;

    kc_lock(c);
    while (!c->bg_stop) {
        if (c->open && !c->turn_busy && c->disconnecting == 0 && c->quiescing == 0) {
            kc_turn_acquire(c);
            (void)kc_turn(c, KC_BG_TURN_MS);
            kc_turn_release(c);
        } else if (kc_reconnect_due(c)) {
            kc_reconnect_step(c, kc_deadline(KC_BG_TURN_MS));
        } else {
            kc_cond_wait(c, KC_BG_TURN_MS);
        }
    }
    c->bg_done = true;
    kc_broadcast(c);
    kc_unlock(c);
}

/* Joins a background thread that was told to stop; mx held, not on that
 * thread. The thread leaves mx for good before it sets bg_done, so the
 * join (and the free of its handle in c->mem) happens under mx. */
void kc_bg_reap(kmqtt_client_t *c)
{
    if (c->thread == NULL || kmqtt_port_thread_is_current(c->thread))
        return;
    c->bg_stop = true;
    kc_broadcast(c);
    while (!c->bg_done) {
        if (c->io_busy)
            kc_wake(c);
        kc_cond_wait(c, 100);
    }
    kmqtt_port_thread_join(&c->mem, c->thread);
    c->thread = NULL;
    c->bg_done = false;
    c->bg_stop = false;
}

kmqtt_err_t kmqtt_start(kmqtt_client_t *c)
{
    kmqtt_err_t err;

    if (c == NULL)
        return KMQTT_EINVAL;
    kc_lock(c);
    if (kc_bg_drives(c) || (c->thread != NULL && kmqtt_port_thread_is_current(c->thread))) {
        kc_unlock(c);
        return KMQTT_ESTATE;
    }
    kc_bg_reap(c);
    c->bg_stop = false;
    c->bg_done = false;
    err = kmqtt_port_thread_start(&c->mem, &c->thread, bg_main, c);
    if (err != KMQTT_OK)
        c->thread = NULL;
    kc_unlock(c);
    return err;
}
