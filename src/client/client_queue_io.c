/*
 * The offline queue inside the client: when a publish is queued rather
 * than sent, and how the queue drains into the session. Everything here
 * runs with mx held except the entry of kc_queue_publish.
 */
#include "client_internal.h"

#if KMQTT_CFG_OFFLINE_QUEUE

typedef struct drop_ctx {
    kmqtt_client_t *c;
    kmqtt_err_t err;
} drop_ctx_t;

static void report_drop(const kc_queue_item_t *it, void *arg)
{
    const drop_ctx_t *d = arg;
    kmqtt_queue_drop_t info;

    /* Gone for good, unless the client is only being destroyed: then the
     * persisted copy is what the next process sends. */
    if (d->err != KMQTT_ECANCELED)
        kc_persist_unqueue(d->c, it->seq, it->qos);
    if (d->c->opt.on_queue_drop == NULL)
        return;
    info.seq = it->seq;
    info.topic = it->topic;
    info.topic_len = it->topic_len;
    info.payload = it->payload;
    info.payload_len = it->payload_len;
    info.qos = it->qos;
    info.err = d->err;
    d->c->opt.on_queue_drop(d->c, &info, d->c->opt.ctx);
}

kmqtt_err_t kc_queue_setup(kmqtt_client_t *c)
{
    size_t size = kc_queue_memory_size(&c->opt);

    if (size == 0)
        return KMQTT_OK;
    c->queue_buf = kmqtt_mem_alloc(&c->mem, "queue", size);
    if (c->queue_buf == NULL)
        return KMQTT_ENOMEM;
    kc_queue_init(&c->queue, c->queue_buf, size, c->opt.offline_queue_max_msgs,
                  c->opt.offline_queue_policy);
    return KMQTT_OK;
}

/* Messages still queued at destroy are reported as canceled. */
void kc_queue_free(kmqtt_client_t *c)
{
    drop_ctx_t d;

    if (c->queue_buf == NULL)
        return;
    d.c = c;
    d.err = KMQTT_ECANCELED;
    kc_queue_clear(&c->queue, report_drop, &d);
    (void)kmqtt_mem_free(&c->mem, c->queue_buf);
    c->queue_buf = NULL;
}

kmqtt_err_t kc_queue_add(kmqtt_client_t *c, const kmqtt_publish_t *msg, uint16_t *id, uint32_t *seq)
{
    drop_ctx_t d;
    uint32_t qseq;
    kmqtt_err_t err;

    if (id != NULL)
        *id = 0;
    d.c = c;
    d.err = KMQTT_EDROPPED;
    /* Persisted first, under the seq the push will give it. */
    qseq = c->queue.next_seq;
    err = kc_persist_queued(c, qseq, msg);
    if (err != KMQTT_OK)
        return err;
    err = kc_queue_push(&c->queue, msg->topic.ptr, msg->topic.len, msg->payload.ptr,
                        msg->payload.len, msg->qos, msg->retain, report_drop, &d, seq);
    if (err != KMQTT_OK)
        kc_persist_unqueue(c, qseq, msg->qos);
    if (err == KMQTT_OK) {
        kc_broadcast(c);
        kc_queue_drain(c);
    }
    return err;
}

kmqtt_err_t kc_queue_publish(kmqtt_client_t *c, const kmqtt_publish_t *msg, uint32_t *seq)
{
    kmqtt_err_t err;

    if (c->queue_buf == NULL)
        return KMQTT_NEED_MORE;
    /* Checked now: a queued message must be sendable later. */
    if (kmqtt_topic_name_validate(msg->topic.ptr, msg->topic.len) != KMQTT_OK)
        return KMQTT_EINVAL;
    kc_lock(c);
    if (c->queue.count == 0 && c->state == KMQTT_STATE_CONNECTED && c->open) {
        kc_unlock(c);
        return KMQTT_NEED_MORE;
    }
    err = kc_queue_add(c, msg, NULL, seq);
    kc_unlock(c);
    return err;
}

/* Hands queued messages to the session, oldest first, while the connection
 * and the window take them. A message the session can never take (too big
 * for the broker's maximum packet size) is reported and dropped, so it does
 * not block the queue forever. */
void kc_queue_drain(kmqtt_client_t *c)
{
    const uint8_t *buf;
    kc_queue_item_t it;
    kmqtt_publish_t m;
    drop_ctx_t d;
    uint16_t id;
    size_t before;
    bool was_empty, sent = false;
    kmqtt_err_t err;

    if (c->queue_buf == NULL || c->queue.count == 0)
        return;
    was_empty = kmqtt_session_tx_peek(&c->s, &buf) == 0;
    /* While CONNECTING the session takes what a pipelined first flight may
     * carry and answers KMQTT_ENOTCONN for the rest. */
    while ((c->state == KMQTT_STATE_CONNECTED || c->state == KMQTT_STATE_CONNECTING) && c->open &&
           kc_queue_front(&c->queue, &it)) {
        memset(&m, 0, sizeof m);
        m.topic.ptr = it.topic;
        m.topic.len = it.topic_len;
        m.payload.ptr = it.payload;
        m.payload.len = it.payload_len;
        m.qos = it.qos;
        m.retain = it.retain;
        /* The flow's record names the queue record it replaces. */
        c->draining_seq = it.seq;
        err = kc_session_publish(c, &m, &id);
        c->draining_seq = 0;
        if (err == KMQTT_OK) {
            if (it.qos > 0)
                kc_inflight_add(c, id);
            if (c->state == KMQTT_STATE_CONNECTING)
                c->early_owed = true; /* until a CONNACK accepts (client_connect.c) */
            kc_persist_unqueue(c, it.seq, it.qos);
            kc_queue_pop(&c->queue);
            sent = true;
            continue;
        }
        if (err == KMQTT_ENOBUFS && !c->io_busy) {
            before = kmqtt_session_tx_peek(&c->s, &buf);
            (void)kc_flush(c);
            if (kmqtt_session_tx_peek(&c->s, &buf) < before)
                continue;
        }
        if (err == KMQTT_ENOBUFS || err == KMQTT_ELIMIT || err == KMQTT_ENOTCONN)
            break;
        d.c = c;
        d.err = err;
        report_drop(&it, &d);
        kc_queue_pop(&c->queue);
    }
    if (sent) {
        kc_broadcast(c);
        kc_publish_kick(c, was_empty);
    }
}

size_t kmqtt_queue_count(kmqtt_client_t *c)
{
    size_t n;

    if (c == NULL)
        return 0;
    kc_lock(c);
    n = c->queue.count;
    kc_unlock(c);
    return n;
}

#else /* !KMQTT_CFG_OFFLINE_QUEUE */

size_t kmqtt_queue_count(kmqtt_client_t *c)
{
    (void)c;
    return 0;
}

#endif /* KMQTT_CFG_OFFLINE_QUEUE */
