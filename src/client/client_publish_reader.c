/*
 * kmqtt_publish_reader: a payload produced in pieces by the application's
 * reader, never held whole (issue #19). The engine asks for the payload by
 * packet id as the send buffer drains (kmqtt_session_publish_reader); this
 * file keeps which reader serves which id, until the message completes.
 * mx held throughout.
 */
#include "client_internal.h"

static int reader_find(const kmqtt_client_t *c, uint16_t id)
{
    unsigned i;

    for (i = 0; i < KMQTT_READERS_MAX; i++) {
        if (c->readers[i].used && c->readers[i].id == id)
            return (int)i;
    }
    return -1;
}

long kc_reader_read(void *ctx, uint16_t id, size_t offset, uint8_t *buf, size_t len)
{
    kmqtt_client_t *c = ctx;
    int i = reader_find(c, id);

    if (i < 0 && c->reader_pending >= 0) {
        /* The first read of the publish under way: the engine chose id. */
        i = c->reader_pending;
        c->readers[i].id = id;
        c->reader_pending = -1;
    }
    if (i < 0)
        return KMQTT_ENOTFOUND; /* cannot happen: the message is cut */
    return c->readers[i].fn(c->readers[i].ctx, offset, buf, len);
}

void kc_reader_done(kmqtt_client_t *c, uint16_t id)
{
    int i = id != 0 ? reader_find(c, id) : -1;

    if (i >= 0)
        c->readers[i].used = false;
}

/* A slot for a new publish: a free one, or the QoS 0 one (id 0), whose
 * payload left before the engine took a new publish. */
static int reader_slot(kmqtt_client_t *c)
{
    int i = reader_find(c, 0);
    unsigned k;

    if (i >= 0)
        return i;
    for (k = 0; k < KMQTT_READERS_MAX; k++) {
        if (!c->readers[k].used)
            return (int)k;
    }
    return -1;
}

static kmqtt_err_t try_once(kmqtt_client_t *c, const kmqtt_session_msg_t *m,
                            kmqtt_payload_reader_fn read, void *ctx, uint16_t *id)
{
    const uint8_t *buf;
    size_t before;
    bool was_empty;
    kmqtt_err_t err;
    kmqtt_payload_reader_fn old_fn;
    void *old_ctx;
    bool old_used;
    int slot;

    if (c->state != KMQTT_STATE_CONNECTED || !c->open)
        return KMQTT_ENOTCONN;
    slot = reader_slot(c);
    if (slot < 0)
        return KMQTT_ELIMIT;
    /* The QoS 0 slot may still serve a payload that has not all entered
     * tx: the engine then refuses this publish (ENOBUFS), and that payload
     * must keep its own reader, or the flush below would ask the new one
     * for its bytes (or find none and cut the packet). */
    old_used = c->readers[slot].used;
    old_fn = c->readers[slot].fn;
    old_ctx = c->readers[slot].ctx;
    c->readers[slot].used = true;
    c->readers[slot].id = 0;
    c->readers[slot].fn = read;
    c->readers[slot].ctx = ctx;
    c->reader_pending = slot;
    was_empty = kmqtt_session_tx_peek(&c->s, &buf) == 0;
    err = kmqtt_session_publish_reader(&c->s, m, id);
    if (c->reader_pending == slot) {
        /* Not taken (or taken with nothing read yet: bind its id now). */
        c->reader_pending = -1;
        if (err == KMQTT_OK)
            c->readers[slot].id = *id;
    }
    if (err != KMQTT_OK) {
        c->readers[slot].used = old_used;
        c->readers[slot].id = 0; /* a used slot here is the QoS 0 one */
        c->readers[slot].fn = old_fn;
        c->readers[slot].ctx = old_ctx;
        if (err == KMQTT_ENOBUFS && !c->io_busy) {
            before = kmqtt_session_tx_peek(&c->s, &buf);
            (void)kc_flush(c);
            if (kmqtt_session_tx_peek(&c->s, &buf) < before)
                return KMQTT_NEED_MORE;
        }
        return err;
    }
    if (m->qos > 0)
        kc_inflight_add(c, *id);
    kc_publish_kick(c, was_empty);
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_publish_reader(kmqtt_client_t *c, const char *topic, size_t total,
                                 kmqtt_payload_reader_fn read, void *ctx, uint8_t qos, bool retain,
                                 kmqtt_publish_result_t *res)
{
    kmqtt_session_msg_t m;
    uint64_t deadline = 0;
    uint16_t id = 0;
    kmqtt_err_t err;

    if (res != NULL)
        memset(res, 0, sizeof *res);
    if (c == NULL || topic == NULL || read == NULL || qos > 2)
        return KMQTT_EINVAL;
    if (!KMQTT_CFG_STREAM)
        return KMQTT_EUNSUPPORTED;
    memset(&m, 0, sizeof m);
    m.topic = topic;
    m.topic_len = (uint16_t)strlen(topic);
    if (strlen(topic) > c->opt.max_topic_len || strlen(topic) > 0xFFFFu)
        return KMQTT_EINVAL;
    m.qos = qos;
    m.retain = retain;
    m.payload_len = total;
    kc_lock(c);
    for (;;) {
        err = try_once(c, &m, read, ctx, &id);
        if (err == KMQTT_NEED_MORE)
            continue;
        if (err != KMQTT_ENOBUFS && err != KMQTT_ELIMIT)
            break;
        /* A full window or send buffer: wait for acks or room, if allowed. */
        if (c->opt.publish_block_ms == 0)
            break;
        if (deadline == 0)
            deadline = kc_deadline(c->opt.publish_block_ms);
        if (kc_remaining(deadline) == 0 || kc_wait_step(c, kc_remaining(deadline)) != KMQTT_OK)
            break;
    }
    if (err == KMQTT_ENOBUFS)
        err = KMQTT_ELIMIT;
    kc_unlock(c);
    if (err == KMQTT_OK && res != NULL)
        res->packet_id = id;
    return err;
}
