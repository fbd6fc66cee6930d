/*
 * Publishing and waiting for publishes to complete. Nothing here allocates:
 * the in-flight id table and the ring of recent completions were sized at
 * create.
 */
#include "client_internal.h"

static int inflight_find(const kmqtt_client_t *c, uint16_t id)
{
    uint16_t i;

    for (i = 0; i < c->inflight_count; i++) {
        if (c->inflight_ids[i] == id)
            return (int)i;
    }
    return -1;
}

void kc_inflight_add(kmqtt_client_t *c, uint16_t id)
{
    /* The session's window is never wider than max_inflight. */
    if (c->inflight_count < c->opt.max_inflight && inflight_find(c, id) < 0)
        c->inflight_ids[c->inflight_count++] = id;
}

static void inflight_remove(kmqtt_client_t *c, uint16_t id)
{
    int i = inflight_find(c, id);

    if (i >= 0)
        c->inflight_ids[i] = c->inflight_ids[--c->inflight_count];
}

/* kc_done_t keeps a result in an int8_t: the lowest code must fit. */
typedef char kc_err_fits_int8[KMQTT_EDROPPED >= -128 ? 1 : -1];

static const kc_done_t *done_find(const kmqtt_client_t *c, uint16_t id)
{
    unsigned i, at;

    /* Newest first: a packet id used again must report its latest use. */
    for (i = 1; i <= KC_DONE_RING; i++) {
        at = (c->done_next + KC_DONE_RING - i) % KC_DONE_RING;
        if (c->done[at].packet_id == id)
            return &c->done[at];
    }
    return NULL;
}

void kc_publish_done(kmqtt_client_t *c, uint16_t id, kmqtt_err_t err, uint8_t reason)
{
    kmqtt_publish_done_fn fn = c->opt.on_publish_done;
    kc_done_t *d = &c->done[c->done_next];

    inflight_remove(c, id);
    kc_reader_done(c, id);  /* kmqtt_publish_reader: its reader is no longer asked */
    kc_persist_done(c, id); /* store and forward: after the ack */
    d->packet_id = id;
    d->reason_code = reason;
    d->err = (int8_t)err;
    c->done_next = (c->done_next + 1) % KC_DONE_RING;
    kc_broadcast(c);
    if (fn != NULL) {
        kc_unlock(c);
        fn(c, id, err, reason, c->opt.ctx);
        kc_lock(c);
    }
}

kmqtt_err_t kmqtt_publish(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                          uint8_t qos, bool retain, const kmqtt_publish_props_t *props,
                          kmqtt_publish_result_t *res)
{
    /* Properties take the longer way (client_props.c), whose list lives
     * on its own stack: the common path does not pay for it. */
    if (props != NULL)
        return kc_v5_publish(c, topic, payload, len, qos, retain, props, res);
    return kc_publish_props(c, topic, payload, len, qos, retain, NULL, res);
}

/* The message of a publish, checked as far as it can be without the
 * session. */
static kmqtt_err_t publish_msg(const kmqtt_client_t *c, const char *topic, const void *payload,
                               size_t len, uint8_t qos, bool retain, kmqtt_publish_t *msg)
{
    if (c == NULL || topic == NULL || qos > 2 || (payload == NULL && len != 0))
        return KMQTT_EINVAL;
    if (!KMQTT_CFG_QOS2 && qos == 2)
        return KMQTT_EUNSUPPORTED; /* compiled out */
    memset(msg, 0, sizeof *msg);
    msg->topic.ptr = topic;
    msg->topic.len = strlen(topic);
    /* An empty topic is valid only with a 5.0 Topic Alias, which this call
     * cannot send; the rest of the topic is checked once, by the session. */
    if (msg->topic.len == 0 || msg->topic.len > c->opt.max_topic_len)
        return KMQTT_EINVAL;
    msg->payload.ptr = payload;
    msg->payload.len = len;
    msg->qos = qos;
    msg->retain = retain;
    return KMQTT_OK;
}

/* Store and forward comes first: behind a non-empty offline queue, or
 * while not connected, a message is queued (client_queue_io.c).
 * KMQTT_NEED_MORE: go the direct way. The queue keeps topic and payload
 * only, so a message with properties is never queued, nor may it overtake
 * the queued ones. */
static kmqtt_err_t publish_queue_first(kmqtt_client_t *c, const kmqtt_publish_t *msg,
                                       bool has_props, uint32_t *seq)
{
    kmqtt_err_t err;

    if (!has_props)
        return kc_queue_publish(c, msg, seq);
    if (!KC_QUEUE_ON(c))
        return KMQTT_NEED_MORE;
    kc_lock(c);
    err = KC_QUEUED(c) != 0 ? KMQTT_ELIMIT : KMQTT_NEED_MORE;
    kc_unlock(c);
    return err;
}

/* One attempt to hand msg to the session; mx held. KMQTT_NEED_MORE: the
 * send buffer just drained into the socket, try again at once. */
static kmqtt_err_t publish_try(kmqtt_client_t *c, const kmqtt_publish_t *msg, uint32_t cancel_seq,
                               uint16_t *id)
{
    const uint8_t *buf;
    size_t before;
    bool was_empty;
    kmqtt_err_t err;

    if (c->state != KMQTT_STATE_CONNECTED || !c->open || c->cancel_seq != cancel_seq)
        /* A bad topic is still a bad topic while not connected. */
        return kmqtt_topic_name_validate(msg->topic.ptr, msg->topic.len) != KMQTT_OK
                   ? KMQTT_EINVAL
                   : KMQTT_ENOTCONN;
    /* Batching: once the window was full, refill it only after it has
     * drained to half, so one wake-up sends many PUBLISHes instead of one
     * per PUBACK (each turn costs a poll, a recv and a send). */
    if (msg->qos > 0 && c->window_refill) {
        if (kmqtt_session_inflight(&c->s) > c->opt.max_inflight / 2u)
            return KMQTT_ELIMIT;
        c->window_refill = false;
    }
    was_empty = kmqtt_session_tx_peek(&c->s, &buf) == 0;
    /* QoS 0 keeps no time: the clock is read only for a stored copy. */
    err = kc_session_publish(c, msg, id);
    if (err == KMQTT_OK) {
        if (msg->qos > 0)
            kc_inflight_add(c, *id);
        kc_publish_kick(c, was_empty);
        return KMQTT_OK;
    }
    if (err == KMQTT_ELIMIT && c->opt.publish_batch)
        c->window_refill = true;
    if (err == KMQTT_ENOBUFS && !c->io_busy) {
        /* The send buffer may just need to drain into the socket. */
        before = kmqtt_session_tx_peek(&c->s, &buf);
        (void)kc_flush(c);
        if (kmqtt_session_tx_peek(&c->s, &buf) < before)
            return KMQTT_NEED_MORE;
    }
    /* The engine's checks: the server's Maximum QoS and Retain Available
     * (5.0, KMQTT_EUNSUPPORTED), sizes; anything else is the message's. */
    if (err != KMQTT_ENOBUFS && err != KMQTT_ELIMIT && err != KMQTT_ETOOBIG &&
        err != KMQTT_ENOTCONN && err != KMQTT_EUNSUPPORTED)
        return KMQTT_EINVAL; /* the topic (or a codec check of it) */
    return err;
}

/* A full window or send buffer: waits one step for acks or room, within
 * publish_block_ms of the first wait (*deadline, 0 until then). false when
 * the time is up, or none was allowed. mx held. */
static bool publish_wait_room(kmqtt_client_t *c, uint64_t *deadline)
{
    if (c->opt.publish_block_ms == 0)
        return false;
    if (*deadline == 0)
        *deadline = kc_deadline(c->opt.publish_block_ms);
    if (kc_remaining(*deadline) == 0)
        return false;
    return kc_wait_step(c, kc_remaining(*deadline)) == KMQTT_OK;
}

/* kmqtt_publish with or without 5.0 properties (props: the encoded list,
 * may be NULL; it is encoded into the session before this returns). */
kmqtt_err_t kc_publish_props(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                             uint8_t qos, bool retain, const kmqtt_props_t *props,
                             kmqtt_publish_result_t *res)
{
    uint32_t *seq = res != NULL ? &res->queue_seq : NULL;
    kmqtt_publish_t msg;
    uint64_t deadline = 0;
    uint32_t cancel_seq;
    uint16_t id = 0;
    kmqtt_err_t err;

    if (res != NULL)
        memset(res, 0, sizeof *res);
    err = publish_msg(c, topic, payload, len, qos, retain, &msg);
    if (err != KMQTT_OK)
        return err;
    if (props != NULL)
        msg.props = *props;
    err = publish_queue_first(c, &msg, props != NULL, seq);
    if (err != KMQTT_NEED_MORE)
        return err;

    kc_lock(c);
    cancel_seq = c->cancel_seq;
    do {
        err = publish_try(c, &msg, cancel_seq, &id);
        /* A full window or buffer: wait for acks (or room) if allowed. */
    } while (err == KMQTT_NEED_MORE ||
             ((err == KMQTT_ENOBUFS || err == KMQTT_ELIMIT) && publish_wait_room(c, &deadline)));
    if (err == KMQTT_ENOBUFS)
        err = KMQTT_ELIMIT;
    if ((err == KMQTT_ENOTCONN || err == KMQTT_ELIMIT) && KC_QUEUE_ON(c) && props == NULL)
        err = kc_queue_add(c, &msg, &id, seq);
    kc_unlock(c);
    if (err == KMQTT_OK && res != NULL)
        res->packet_id = id;
    return err;
}

/* The common wait of publish_wait and publish_wait_all: check() says done
 * (a result) or KMQTT_NEED_MORE. */
static kmqtt_err_t wait_until(kmqtt_client_t *c, uint32_t timeout_ms,
                              kmqtt_err_t (*check)(kmqtt_client_t *c, const void *arg),
                              const void *arg)
{
    uint64_t deadline = kc_deadline(timeout_ms);
    uint32_t cancel_seq = c->cancel_seq;
    kmqtt_err_t err;

    /* Queued packets (publish_batch) leave before the wait begins. */
    kc_try_flush(c);
    for (;;) {
        err = check(c, arg);
        if (err != KMQTT_NEED_MORE)
            return err;
        err = kc_conn_err(c, cancel_seq);
        if (err != KMQTT_NEED_MORE)
            return err;
        if (kc_remaining(deadline) == 0)
            return KMQTT_ETIMEDOUT;
        err = kc_wait_step(c, kc_remaining(deadline));
        if (err != KMQTT_OK)
            return err;
    }
}

typedef struct one_wait {
    uint16_t id;
    uint8_t *reason;
} one_wait_t;

static kmqtt_err_t check_one(kmqtt_client_t *c, const void *arg)
{
    const one_wait_t *w = arg;
    const kc_done_t *d;

    if (inflight_find(c, w->id) >= 0)
        return KMQTT_NEED_MORE;
    d = done_find(c, w->id);
    if (d == NULL)
        return KMQTT_ENOTFOUND;
    if (w->reason != NULL)
        *w->reason = d->reason_code;
    return (kmqtt_err_t)d->err;
}

kmqtt_err_t kmqtt_publish_wait(kmqtt_client_t *c, uint16_t packet_id, uint32_t timeout_ms,
                               uint8_t *reason_code)
{
    one_wait_t w;
    kmqtt_err_t err;

    if (c == NULL || packet_id == 0)
        return KMQTT_EINVAL;
    w.id = packet_id;
    w.reason = reason_code;
    kc_lock(c);
    err = wait_until(c, timeout_ms, check_one, &w);
    kc_unlock(c);
    return err;
}

static kmqtt_err_t check_all(kmqtt_client_t *c, const void *arg)
{
    (void)arg;
    return c->inflight_count == 0 ? KMQTT_OK : KMQTT_NEED_MORE;
}

kmqtt_err_t kmqtt_publish_wait_all(kmqtt_client_t *c, uint32_t timeout_ms)
{
    kmqtt_err_t err;

    if (c == NULL)
        return KMQTT_EINVAL;
    kc_lock(c);
    err = wait_until(c, timeout_ms, check_all, NULL);
    kc_unlock(c);
    return err;
}
