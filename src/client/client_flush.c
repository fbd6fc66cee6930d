/*
 * kmqtt_flush: waits until the offline queue, the in-flight window and the
 * send buffer are all empty. Runs the loop the way kmqtt_publish_wait_all
 * does (kc_wait_step): on the caller's thread when no other thread runs it.
 */
#include "client_internal.h"

/* A wait step is cut to this, because bytes leaving the send buffer on the
 * background thread wake nobody (only acks and state changes broadcast). */
#define KC_FLUSH_POLL_MS 50u

static bool all_out(const kmqtt_client_t *c)
{
    const uint8_t *buf;

    return KC_QUEUED(c) == 0 && c->inflight_count == 0 && kmqtt_session_inflight(&c->s) == 0 &&
           (!c->open || kmqtt_session_tx_peek(&c->s, &buf) == 0);
}

kmqtt_err_t kmqtt_flush(kmqtt_client_t *c, uint32_t timeout_ms)
{
    uint64_t deadline;
    uint32_t cancel_seq, left;
    kmqtt_err_t err = KMQTT_OK;

    if (c == NULL)
        return KMQTT_EINVAL;
    kc_lock(c);
    deadline = kc_deadline(timeout_ms);
    cancel_seq = c->cancel_seq;
    kc_queue_drain(c);
    kc_try_flush(c);
    for (;;) {
        if (all_out(c))
            break;
        if (c->cancel_seq != cancel_seq) {
            err = KMQTT_ECANCELED;
            break;
        }
        /* Nothing will connect: what is left cannot leave. */
        if (!c->open && !c->rc_armed && c->state != KMQTT_STATE_CONNECTING) {
            err = c->state == KMQTT_STATE_CONNECTION_LOST ? c->last_err : KMQTT_ENOTCONN;
            break;
        }
        left = kc_remaining(deadline);
        if (left == 0) {
            err = KMQTT_ETIMEDOUT;
            break;
        }
        err = kc_wait_step(c, left < KC_FLUSH_POLL_MS ? left : KC_FLUSH_POLL_MS);
        if (err != KMQTT_OK)
            break;
        kc_queue_drain(c);
        kc_try_flush(c);
    }
    kc_unlock(c);
    return err;
}
