/*
 * Connecting and disconnecting.
 *
 * Disconnect is synchronous (architecture rule 1): when it returns the
 * transport is closed, the background thread has stopped (unless the call
 * came from it), every blocked call has returned or is returning
 * KMQTT_ECANCELED, and nothing opens a connection again by itself: it
 * disarms automatic reconnect and bumps cancel_seq under the lock, which
 * ends an attempt or a backoff under way without another report.
 */
#include "client_internal.h"

/* An attempt failed (nothing open any more); mx held. The next attempt
 * takes the next broker of the list. An automatic attempt goes back to the
 * backoff; an application's connect ends DISCONNECTED and is not retried.
 * One canceled by kmqtt_disconnect reports nothing: the disconnect does. */
void kc_attempt_failed(kmqtt_client_t *c, kmqtt_err_t err)
{
    bool canceled = c->cancel_seq != c->attempt_seq;

    c->last_err = err;
    if (c->connect_result == KMQTT_NEED_MORE)
        c->connect_result = err;
    if (!canceled)
        kc_server_failed(c);
    kc_broadcast(c);
    if (!canceled && c->rc_attempt && c->rc_armed) {
        kc_reconnect_arm(c, err);
        return;
    }
    c->state = KMQTT_STATE_DISCONNECTED;
    if (!canceled)
        kc_notify_state(c, KMQTT_STATE_DISCONNECTED, err);
}

/* Ends an attempt that failed at open; mx and the turn held. */
static kmqtt_err_t connect_fail(kmqtt_client_t *c, kmqtt_err_t err)
{
    kc_turn_release(c);
    kc_attempt_failed(c, err);
    return err;
}

/* Opens the transport and queues CONNECT. */
static kmqtt_err_t connect_open(kmqtt_client_t *c, uint64_t deadline, uint32_t cancel_seq)
{
    const kc_server_t *sv;
    unsigned ready;
    kmqtt_err_t err;

    /* Wait for a turn still ending (a kmqtt_run that saw the last loss). */
    while (c->turn_busy) {
        if (kc_remaining(deadline) == 0 || c->cancel_seq != cancel_seq) {
            err = c->cancel_seq != cancel_seq ? KMQTT_ECANCELED : KMQTT_ETIMEDOUT;
            kc_attempt_failed(c, err);
            return err;
        }
        kc_cond_wait(c, kc_remaining(deadline));
    }
    kc_turn_acquire(c);
    if (c->cancel_seq != cancel_seq)
        return connect_fail(c, KMQTT_ECANCELED);
    err = kc_v5_connect_check(c); /* 5.0: an assigned id that could not be kept */
    if (err != KMQTT_OK)
        return connect_fail(c, err);
    /* A clean session the application asked for drops what is in flight
     * (each dropped publish is reported ECANCELED). An automatic reconnect
     * keeps it: those messages are owed and go again as new ones. So does
     * a connect after a pipelined first flight took messages out of the
     * offline queue and no CONNACK accepted it (refused: the server
     * processed none of it, MQTT-3.1.4-5): they were never in flight. */
    if (c->opt.clean_session && !c->rc_attempt && !c->early_owed)
        (void)kmqtt_session_clear(&c->s);

    /* A wake() that came after the last wait() returned is still pending
     * and would cancel open(): a zero wait with nothing open consumes it.
     * A disconnect racing this connect is seen through cancel_seq. */
    if (c->wake_issued)
        (void)c->tr.wait(c->tr.ctx, 0, 0, &ready);
    c->wake_issued = false;
    sv = kc_server_take(c); /* the list never changes after create */
    c->io_busy = true;
    kc_unlock(c);
    err = c->tr.open(c->tr.ctx, sv->host, sv->port, kc_remaining(deadline));
    kc_lock(c);
    c->io_busy = false;
    c->wake_pending = false;
    kc_broadcast(c);
    if (c->cancel_seq != cancel_seq) {
        if (err == KMQTT_OK)
            c->tr.close(c->tr.ctx);
        return connect_fail(c, KMQTT_ECANCELED);
    }
    if (err != KMQTT_OK)
        return connect_fail(c, err);

    err = kc_session_start(c);
    if (err != KMQTT_OK) {
        c->tr.close(c->tr.ctx);
        return connect_fail(c, err);
    }
    c->open = true;
    /* Pipelined connect: the subscriptions to restore and the offline queue
     * join the stored messages behind the CONNECT, in the same send. */
    kc_resubscribe_early(c);
    kc_queue_drain(c);
    (void)kc_flush(c); /* errors surface in the first turn */
    kc_turn_release(c);
    return KMQTT_OK;
}

/* One attempt: CONNECTING, open, CONNECT, wait for CONNACK until deadline.
 * mx held; nothing open, no attempt under way. */
kmqtt_err_t kc_connect_run(kmqtt_client_t *c, uint64_t deadline, bool automatic)
{
    uint32_t cancel_seq = c->cancel_seq;
    kmqtt_err_t err;

    c->attempt_seq = cancel_seq;
    c->rc_attempt = automatic;
    c->state = KMQTT_STATE_CONNECTING;
    c->connect_result = KMQTT_NEED_MORE;
    memset(&c->connack, 0, sizeof c->connack);
    kc_broadcast(c);
    kc_notify_state(c, KMQTT_STATE_CONNECTING, KMQTT_OK);

    err = connect_open(c, deadline, cancel_seq);
    while (err == KMQTT_OK) {
        if (c->connect_result != KMQTT_NEED_MORE) {
            err = c->connect_result;
            break;
        }
        if (c->cancel_seq != cancel_seq) {
            /* The disconnect closes the transport itself. */
            err = KMQTT_ECANCELED;
            break;
        }
        if (kc_remaining(deadline) == 0) {
            /* No CONNACK in time: close before anything else uses it. */
            kc_quiesce(c);
            if (c->connect_result == KMQTT_NEED_MORE && c->cancel_seq == cancel_seq) {
                kc_close(c, KMQTT_ETIMEDOUT, KMQTT_STATE_DISCONNECTED);
                kc_attempt_failed(c, KMQTT_ETIMEDOUT);
            }
            err = c->connect_result;
            break;
        }
        err = kc_wait_step(c, kc_remaining(deadline));
    }
    if (automatic)
        c->rc_attempt = false;
    return err;
}

kmqtt_err_t kmqtt_connect(kmqtt_client_t *c, uint32_t timeout_ms, kmqtt_connack_info_t *info)
{
    uint64_t deadline;
    kmqtt_err_t err;

    if (info != NULL)
        memset(info, 0, sizeof *info);
    if (c == NULL)
        return KMQTT_EINVAL;
    kc_lock(c);
    /* While reconnecting by itself the client is busy connecting too. */
    if (c->open || c->state == KMQTT_STATE_CONNECTED || c->state == KMQTT_STATE_CONNECTING ||
        c->rc_armed) {
        kc_unlock(c);
        return KMQTT_ESTATE;
    }
    if (c->disconnecting != 0) {
        kc_unlock(c);
        return KMQTT_ECANCELED;
    }
    deadline = kc_deadline(timeout_ms != 0 ? timeout_ms : c->opt.connect_timeout_ms);
    c->backoff_ms = c->opt.reconnect_min_ms;
    kc_resubscribe_stop(c, true);
    err = kc_redirect_connect(c, deadline);
    if (info != NULL && (err == KMQTT_OK || err == KMQTT_EREFUSED))
        *info = c->connack;
    kc_unlock(c);
    return err;
}

/* DISCONNECT gets a short, bounded chance to leave; mx held, nobody else
 * in the transport. */
static void flush_bounded(kmqtt_client_t *c)
{
    uint64_t deadline = kc_deadline(KC_DISCONNECT_FLUSH_MS);
    const uint8_t *buf;
    unsigned ready;

    for (;;) {
        if (kc_flush(c) != KMQTT_OK || kmqtt_session_tx_peek(&c->s, &buf) == 0)
            return;
        if (kc_remaining(deadline) == 0)
            return;
        if (c->tr.wait(c->tr.ctx, KMQTT_WAIT_WRITE, kc_remaining(deadline), &ready) != KMQTT_OK)
            return;
    }
}

/* kmqtt_disconnect once its 5.0 part is encoded: reason and props are
 * 5.0's (0 and NULL in 3.1.1). */
kmqtt_err_t kc_disconnect(kmqtt_client_t *c, uint8_t reason, const kmqtt_props_t *props)
{
    kmqtt_conn_state_t was;
    kmqtt_err_t rc = KMQTT_ENOTCONN;

    if (c == NULL)
        return KMQTT_EINVAL;
    kc_lock(c);
    /* Taken before anything is woken: an attempt or a backoff this ends
     * reports nothing itself, so the one DISCONNECTED below is the report. */
    was = c->state;
    if (c->rc_armed || was == KMQTT_STATE_CONNECTING || was == KMQTT_STATE_RECONNECTING)
        rc = KMQTT_OK;
    c->rc_armed = false;
    c->cancel_seq++;
    c->disconnecting++;
    if (c->thread != NULL)
        c->bg_stop = true;
    kc_broadcast(c);
    kc_quiesce(c);
    if (c->open) {
        if (kmqtt_session_state(&c->s) == KMQTT_SESSION_CONNECTED) {
            kmqtt_err_t derr = kc_session_disconnect(c, reason, props);
            /* Queued packets (publish_batch) go first; DISCONNECT follows
             * them once there is room for it. */
            if (derr == KMQTT_ENOBUFS) {
                flush_bounded(c);
                derr = kc_session_disconnect(c, reason, props);
            }
            if (derr == KMQTT_OK)
                flush_bounded(c);
        }
        rc = KMQTT_OK;
    }
    if (c->connect_result == KMQTT_NEED_MORE)
        c->connect_result = KMQTT_ECANCELED;
    kc_close(c, KMQTT_ECANCELED, KMQTT_STATE_DISCONNECTED);
    kc_resubscribe_stop(c, true);
    c->backoff_ms = c->opt.reconnect_min_ms;
    c->last_err = KMQTT_OK;
    /* From a handler on the background thread, the thread ends when the
     * handler returns; start() or destroy() joins it. */
    kc_bg_reap(c);
    c->disconnecting--;
    kc_broadcast(c);
    if (was != KMQTT_STATE_DISCONNECTED)
        kc_notify_state(c, KMQTT_STATE_DISCONNECTED, KMQTT_OK);
    kc_unlock(c);
    return rc;
}

kmqtt_err_t kmqtt_disconnect(kmqtt_client_t *c, const kmqtt_disconnect_props_t *props)
{
    /* A reason code or properties: the list is built on the stack of
     * client_props.c, checked before anything is done. */
    if (props != NULL)
        return kc_v5_disconnect(c, props);
    return kc_disconnect(c, 0, NULL);
}
