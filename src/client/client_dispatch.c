/*
 * Handing a received message to its handlers.
 *
 * The handlers to call are copied out of the table (a snapshot of fn/ctx
 * pairs) before the lock is released, so a handler may subscribe or
 * unsubscribe, and the table change under it, without a dispatch ever
 * using a freed entry.
 */
#include "client_internal.h"

/* Each matching handler once, even when several of its filters match or
 * one handler serves several filters. */
static size_t collect(const kmqtt_client_t *c, const kmqtt_publish_t *m, kc_match_t *out)
{
    size_t n = 0, j;
    uint16_t i;

    for (i = 0; i < c->opt.max_subscriptions; i++) {
        const kc_handler_t *h = &c->handlers[i];
        if (h->filter == NULL || h->fn == NULL ||
            !kmqtt_topic_match(h->filter, h->len, m->topic.ptr, m->topic.len))
            continue;
        for (j = 0; j < n; j++) {
            if (out[j].fn == h->fn && out[j].ctx == h->ctx)
                break;
        }
        if (j == n) {
            out[n].fn = h->fn;
            out[n].ctx = h->ctx;
            n++;
        }
    }
    return n;
}

static void deliver(kmqtt_client_t *c, const kmqtt_publish_t *m, const kc_match_t *list, size_t n)
{
    kmqtt_message_fn fallback = c->opt.on_message;
    void *fallback_ctx = c->opt.ctx;
    size_t i;

    kc_unlock(c);
    if (n == 0) {
        if (fallback != NULL)
            fallback(c, m, fallback_ctx);
    } else {
        for (i = 0; i < n; i++)
            list[i].fn(c, m, list[i].ctx);
    }
    kc_lock(c);
}

static const void *put(uint8_t **at, const void *src, size_t len)
{
    uint8_t *p = *at;

    if (len != 0)
        memcpy(p, src, len);
    *at = p + len;
    return p;
}

/* Copies the message's bytes out of the receive buffer. Their total is at
 * most the packet, and the packet fit the receive buffer, which is the
 * scratch buffer's size. */
static bool relocate(kmqtt_client_t *c, const kmqtt_publish_t *m, kmqtt_publish_t *out)
{
    uint8_t *at = c->scratch;
    size_t need = m->topic.len + m->payload.len + m->props.raw_len;

    if (need > c->scratch_size || m->props.items != NULL)
        return false;
    *out = *m;
    out->topic.ptr = put(&at, m->topic.ptr, m->topic.len);
    out->payload.ptr = put(&at, m->payload.ptr, m->payload.len);
    if (m->props.raw != NULL)
        out->props.raw = put(&at, m->props.raw, m->props.raw_len);
    return true;
}

/* A piece of a message larger than rx (issue #19). Its bytes are a view
 * into the receive buffer: the turn is kept while the callback runs, so
 * nothing overwrites them. */
void kc_piece(kmqtt_client_t *c, const kc_event_t *ev)
{
    kmqtt_message_piece_fn fn = c->opt.on_message_piece;
    kmqtt_message_piece_t p;

    memset(&p, 0, sizeof p);
    p.kind = ev->type == KC_EV_PIECE_BEGIN  ? KMQTT_PIECE_BEGIN
             : ev->type == KC_EV_PIECE_DATA ? KMQTT_PIECE_DATA
                                            : KMQTT_PIECE_END;
    p.msg = ev->type == KC_EV_PIECE_BEGIN ? &ev->packet.u.publish : NULL;
    p.data = ev->data;
    p.len = ev->len;
    p.offset = ev->offset;
    p.total = ev->total;
    p.packet_id = ev->packet.u.publish.packet_id;
    p.qos = ev->packet.u.publish.qos;
    if (fn == NULL)
        return; /* the engine streams only when the option is set */
    c->piece_begun = p.kind != KMQTT_PIECE_END;
    kc_unlock(c);
    fn(c, &p, c->opt.ctx);
    kc_lock(c);
}

/* The close cut a message in pieces (mx held, after kmqtt_session_lost):
 * the engine's ABORT is taken now and told before the state callback. */
void kc_piece_cut(kmqtt_client_t *c)
{
    kmqtt_session_event_t e;

    if (kmqtt_session_next_event(&c->s, KC_NOW32(), &e) != KMQTT_OK || !c->piece_begun)
        return; /* (a BEGIN the client refused was never told) */
    c->piece_begun = false;
    memset(&c->cut, 0, sizeof c->cut);
    c->cut.kind = KMQTT_PIECE_ABORT;
    c->cut.offset = e.offset;
    c->cut.total = e.total;
    c->cut.packet_id = e.msg.packet_id;
    c->cut.qos = e.msg.qos;
    c->piece_cut = true;
}

void kc_piece_abort(kmqtt_client_t *c)
{
    kmqtt_message_piece_t p;

    if (!c->piece_cut || c->opt.on_message_piece == NULL)
        return;
    c->piece_cut = false;
    p = c->cut;
    kc_unlock(c);
    c->opt.on_message_piece(c, &p, c->opt.ctx);
    kc_lock(c);
}

void kc_dispatch(kmqtt_client_t *c, const kmqtt_publish_t *msg)
{
    kmqtt_publish_t copy;
    size_t n;

    if (!c->scratch_busy && relocate(c, msg, &copy)) {
        /* The copy frees the receive buffer: the turn is given up while
         * the handlers run, so one of them may run the loop itself. */
        n = collect(c, &copy, c->match);
        c->scratch_busy = true;
        kc_turn_release(c);
        deliver(c, &copy, c->match, n);
        c->scratch_busy = false;
        kc_turn_acquire(c);
        return;
    }
    /* Scratch is taken by an outer dispatch: deliver from the receive
     * buffer, keeping the turn so nothing overwrites it meanwhile. */
    n = collect(c, msg, c->match + c->opt.max_subscriptions);
    deliver(c, msg, c->match + c->opt.max_subscriptions, n);
}
