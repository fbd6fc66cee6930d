/*
 * The threaded client's seam to the engine ("agent over core"): the one
 * block the engine works in, its configuration from the client's options,
 * and the client's calls translated into the engine's (5.0 property lists
 * into raw blocks, filters into the engine's arrays, events back into the
 * codec's packet form the client's handlers read). No protocol rule lives
 * here: the engine checks, stores, resends and answers. mx held throughout.
 */
#include "client_internal.h"

#include "../codec/codec_internal.h" /* kmqtt_props_block_size, kmqtt_props_write */

/* Where each part of the "session" block goes; sizes from the options only,
 * so kmqtt_client_memory_size can count it before anything exists. */
typedef struct layout {
    size_t requests, inbound, bits, alias_in, alias_out, rx, tx, store, props, total;
    uint16_t inbound_max, alias_len;
} layout_t;

static size_t up4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

static void layout(const kmqtt_client_options_t *o, layout_t *l)
{
    bool v5 = o->version == KMQTT_V5;
    size_t at = 0, in_slot = 0, out_slot = 0;

    memset(l, 0, sizeof *l);
    /* 5.0: advertised as Receive Maximum (MQTT-3.3.4-9 binds the server);
     * 3.1.1 has no such bound: one bit per packet id, never full. */
    l->inbound_max = o->receive_maximum != 0 ? o->receive_maximum : o->max_inflight;
#if KMQTT_CFG_INBOUND_BITS
    if (!v5)
        l->inbound_max = 0;
#endif
#if !KMQTT_CFG_QOS2
    l->inbound_max = 0;
#endif
#if KMQTT_CFG_V5 && KMQTT_CFG_TOPIC_ALIAS
    if (v5 && (o->topic_alias_maximum != 0 || o->topic_alias_out != 0)) {
        l->alias_len = o->alias_topic_len != 0 ? o->alias_topic_len : 64u;
        in_slot = up4(KMQTT_SESSION_ALIAS_IN_SLOT(l->alias_len) * o->topic_alias_maximum);
        out_slot = up4(KMQTT_SESSION_ALIAS_OUT_SLOT(l->alias_len) * o->topic_alias_out);
    }
#endif
    l->requests = at;
    at += up4(KC_MAX_REQUESTS * sizeof(kmqtt_session_request_t));
    l->inbound = at;
    at += up4((size_t)l->inbound_max * sizeof(uint16_t));
    l->bits = at;
#if KMQTT_CFG_INBOUND_BITS && KMQTT_CFG_QOS2
    if (!v5)
        at += KMQTT_SESSION_INBOUND_BITS_SIZE;
#endif
    l->alias_in = at;
    at += in_slot;
    l->alias_out = at;
    at += out_slot;
    l->rx = at;
    at += up4(o->rx_buffer_size);
    l->tx = at;
    at += up4(o->tx_buffer_size);
    l->store = at;
    at += up4(o->store_size);
    /* 5.0: the CONNECT's and the will's raw property blocks (they fit the
     * CONNECT, so tx_buffer_size), then one for what is being sent (it
     * fits its packet, so tx_buffer_size again). */
    l->props = at;
    if (v5)
        at += 2u * up4(o->tx_buffer_size);
    l->total = at;
}

size_t kc_session_size(const kmqtt_client_options_t *o)
{
    layout_t l;

    layout(o, &l);
    return l.total;
}

#if KMQTT_CFG_V5
/* The raw form (no length prefix) of props, checked for where, into out
 * (cap bytes); *len its length. KMQTT_ETOOBIG when it cannot fit. */
static kmqtt_err_t raw_props(const kmqtt_props_t *props, unsigned where, uint8_t *out, size_t cap,
                             size_t *len)
{
    size_t n, pre;
    wr_t w;
    kmqtt_err_t err;

    *len = 0;
    if (props == NULL || (props->items == NULL && props->raw == NULL))
        return KMQTT_OK;
    err = kmqtt_props_block_size(props, where, &n);
    if (err != KMQTT_OK)
        return err;
    if (n + 4u > cap)
        return KMQTT_ETOOBIG;
    w.p = out;
    w.end = out + cap;
    w.overflow = false;
    kmqtt_props_write(&w, props, n);
    if (w.overflow)
        return KMQTT_ETOOBIG;
    pre = (size_t)(w.p - out) - n; /* the length prefix the engine does not want */
    memmove(out, out + pre, n);
    *len = n;
    return KMQTT_OK;
}
#endif

kmqtt_err_t kc_session_setup(kmqtt_client_t *c)
{
    const kmqtt_client_options_t *o = &c->opt;
    kmqtt_session_config_t *k = &c->scfg;
    kmqtt_session_buffers_t b;
    uint8_t *at = c->storage;
    layout_t l;
    kmqtt_err_t err0;

    layout(o, &l);
    kmqtt_session_config_init(k); /* the defaults of config.h, as nano's */
    k->version = (uint8_t)o->version;
    k->clean_session = o->clean_session;
    k->keepalive_s = o->keepalive_s;
    k->client_id = o->client_id;
    k->username = o->username;
    k->password = o->password;
    k->password_len = (uint16_t)o->password_len;
    if (o->has_will) {
        k->will_topic = o->will_topic;
        k->will_payload = o->will_payload;
        k->will_payload_len = (uint16_t)o->will_payload_len;
        k->will_qos = o->will_qos;
        k->will_retain = o->will_retain;
    }
    k->retry_ms = o->retry_ms;
    k->max_inflight = o->max_inflight > 255u ? 255u : (uint8_t)o->max_inflight;
    k->pipeline = o->pipeline_connect;
    memset(&b, 0, sizeof b);
    b.requests = (kmqtt_session_request_t *)(void *)(at + l.requests);
    b.max_requests = (uint8_t)KC_MAX_REQUESTS;
    b.inbound = l.inbound_max != 0 ? (uint16_t *)(void *)(at + l.inbound) : NULL;
    b.inbound_max = l.inbound_max;
    if (l.alias_in != l.bits)
        b.inbound_bits = at + l.bits;
    b.rx = at + l.rx;
    /* 5.0: what we advertise as Maximum Packet Size (MQTT-3.1.2-24). */
    b.rx_size = o->maximum_packet_size != 0 && o->maximum_packet_size < o->rx_buffer_size
                    ? o->maximum_packet_size
                    : o->rx_buffer_size;
    /* Pieces (issue #19): rx stays the buffer; the application's maximum
     * is what the engine takes and advertises. */
    if (o->on_message_piece != NULL &&
        (o->maximum_packet_size == 0 || o->maximum_packet_size > o->rx_buffer_size)) {
        b.rx_size = o->rx_buffer_size;
        k->max_packet_size =
            o->maximum_packet_size != 0 ? o->maximum_packet_size : (uint32_t)KMQTT_PACKET_MAX;
    }
    b.tx = at + l.tx;
    b.tx_size = o->tx_buffer_size;
    b.store = o->store_size != 0 ? at + l.store : NULL;
    b.store_size = o->store_size;
#if KMQTT_CFG_V5 && KMQTT_CFG_TOPIC_ALIAS
    if (l.alias_len != 0) {
        b.alias_in = o->topic_alias_maximum != 0 ? at + l.alias_in : NULL;
        b.alias_in_max = o->topic_alias_maximum;
        b.alias_out = o->topic_alias_out != 0 ? at + l.alias_out : NULL;
        b.alias_out_max = o->topic_alias_out;
        b.alias_topic_len = l.alias_len;
    }
#endif
#if KMQTT_CFG_V5
    if (o->version == KMQTT_V5) {
        kmqtt_connect_t p;
        size_t half = up4(o->tx_buffer_size), n = 0, wn = 0;
        kmqtt_err_t err;

        memset(&p, 0, sizeof p);
        p.has_will = o->has_will;
        kc_v5_connect_props(c, &p);
        err = raw_props(&p.props, KMQTT_CONNECT, at + l.props, half, &n);
        if (err == KMQTT_OK && o->has_will)
            err = raw_props(&p.will.props, KMQTT_PROP_IN_WILL, at + l.props + n, half - n, &wn);
        if (err != KMQTT_OK)
            return err == KMQTT_ETOOBIG ? KMQTT_ENOBUFS : err;
        k->connect_props = n != 0 ? at + l.props : NULL;
        k->connect_props_len = n;
        k->will_props = wn != 0 ? at + l.props + n : NULL;
        k->will_props_len = wn;
        c->pbuf = at + l.props + half;
        c->pbuf_size = half;
    }
#endif
    err0 = kmqtt_session_init(&c->s, k, &b);
    kmqtt_session_set_reader(&c->s, kc_reader_read, c); /* kmqtt_publish_reader */
    c->reader_pending = -1;
    return err0;
}

/* Queues CONNECT on a freshly opened transport. */
kmqtt_err_t kc_session_start(kmqtt_client_t *c)
{
#if KMQTT_CFG_V5
    kmqtt_connect_t p;

    /* 5.0: an id the server assigned names the session from then on
     * (3.2.2.3.7); until one came the CONNECT asks for one (3.1.3.1). */
    memset(&p, 0, sizeof p);
    p.client_id.ptr = c->opt.client_id;
    p.client_id.len = c->client_id_len;
    kc_v5_connect_props(c, &p);
    c->scfg.client_id = p.client_id.len == 0 ? "" : p.client_id.ptr;
#endif
    return kmqtt_session_start(&c->s, KC_NOW32());
}

kmqtt_err_t kc_session_publish(kmqtt_client_t *c, const kmqtt_publish_t *msg, uint16_t *id)
{
    kmqtt_session_msg_t m;

    memset(&m, 0, sizeof m);
    if (msg->topic.len > 0xFFFFu)
        return KMQTT_EINVAL;
    m.topic = msg->topic.ptr;
    m.topic_len = (uint16_t)msg->topic.len;
    m.qos = msg->qos;
    m.retain = msg->retain;
    m.payload = msg->payload.ptr;
    m.payload_len = msg->payload.len;
#if KMQTT_CFG_V5
    if (c->opt.version == KMQTT_V5) {
        kmqtt_err_t err =
            raw_props(&msg->props, KMQTT_PUBLISH, c->pbuf, c->pbuf_size, &m.props_len);
        if (err != KMQTT_OK)
            return err == KMQTT_ETOOBIG ? err : KMQTT_EINVAL;
        m.props = m.props_len != 0 ? c->pbuf : NULL;
    }
#endif
    if (id != NULL)
        *id = 0;
    return kmqtt_session_publish(&c->s, &m, id);
}

kmqtt_err_t kc_session_subscribe(kmqtt_client_t *c, const kmqtt_subscribe_t *pkt, bool subscribe,
                                 uint16_t *id)
{
    kmqtt_session_sub_t subs[KC_MAX_FILTERS];
    const char *filters[KC_MAX_FILTERS];
    const uint8_t *props = NULL;
    size_t i, n = 0;

    if (pkt->count == 0 || pkt->count > KC_MAX_FILTERS)
        return KMQTT_EINVAL;
    /* The client's filters are NUL-terminated copies or the caller's strings. */
    for (i = 0; i < pkt->count; i++) {
        const kmqtt_subscription_t *it = &pkt->items[i];
        filters[i] = it->filter.ptr;
        subs[i].filter = it->filter.ptr;
        subs[i].options =
            (uint8_t)(it->qos | (it->no_local ? 0x04u : 0u) |
                      (it->retain_as_published ? 0x08u : 0u) | (uint8_t)(it->retain_handling << 4));
    }
#if KMQTT_CFG_V5
    if (c->opt.version == KMQTT_V5) {
        kmqtt_err_t err = raw_props(&pkt->props, subscribe ? KMQTT_SUBSCRIBE : KMQTT_UNSUBSCRIBE,
                                    c->pbuf, c->pbuf_size, &n);
        if (err != KMQTT_OK)
            return err;
        props = n != 0 ? c->pbuf : NULL;
    }
#endif
    if (subscribe)
        return kmqtt_session_subscribe(&c->s, subs, pkt->count, props, n, id);
    return kmqtt_session_unsubscribe(&c->s, filters, pkt->count, props, n, id);
}

kmqtt_err_t kc_session_auth(kmqtt_client_t *c, uint8_t reason, const kmqtt_props_t *props)
{
#if KMQTT_CFG_V5
    size_t n = 0;
    kmqtt_err_t err = raw_props(props, KMQTT_AUTH, c->pbuf, c->pbuf_size, &n);

    if (err != KMQTT_OK)
        return err;
    err = kmqtt_session_auth(&c->s, reason, n != 0 ? c->pbuf : NULL, n);
    /* The data may be a credential (client_auth.c wipes its own copy). */
    kmqtt_mem_wipe(c->pbuf, n);
    return err;
#else
    (void)c;
    (void)reason;
    (void)props;
    return KMQTT_EUNSUPPORTED;
#endif
}

kmqtt_err_t kc_session_disconnect(kmqtt_client_t *c, uint8_t reason, const kmqtt_props_t *props)
{
    size_t n = 0;
    const uint8_t *raw = NULL;

#if KMQTT_CFG_V5
    if (c->opt.version == KMQTT_V5) {
        kmqtt_err_t err = raw_props(props, KMQTT_DISCONNECT, c->pbuf, c->pbuf_size, &n);
        if (err != KMQTT_OK)
            return err;
        raw = n != 0 ? c->pbuf : NULL;
    }
#else
    (void)props;
#endif
    return kmqtt_session_disconnect(&c->s, reason, raw, n);
}

static void raw_view(kmqtt_props_t *p, const kmqtt_session_event_t *e)
{
    memset(p, 0, sizeof *p);
    p->raw = e->props;
    p->raw_len = e->props_len;
}

/* A PUBLISH as the dispatcher reads it, from a whole message or the head
 * of one in pieces; the caller sets the payload. */
static void publish_view(kc_event_t *ev, const kmqtt_session_event_t *e)
{
    kmqtt_publish_t *m = &ev->packet.u.publish;
    ev->packet.type = KMQTT_PUBLISH;
    m->topic.ptr = e->msg.topic;
    m->topic.len = e->msg.topic_len;
    m->packet_id = e->msg.packet_id;
    m->qos = e->msg.qos;
    m->retain = e->msg.retain;
    m->dup = e->msg.dup;
    m->props.raw = e->msg.props;
    m->props.raw_len = e->msg.props_len;
}

kmqtt_err_t kc_session_event(kmqtt_client_t *c, kc_event_t *ev)
{
    kmqtt_session_event_t e;
    kmqtt_err_t err = kmqtt_session_next_event(&c->s, KC_NOW32(), &e);

    if (err != KMQTT_OK)
        return err;
    memset(ev, 0, sizeof *ev);
    ev->type = (kc_event_type_t)e.type;
    ev->packet_id = e.packet_id;
    ev->reason_code = e.reason_code;
    ev->session_present = e.session_present;
    ev->err = e.err;
    switch (e.type) {
    case KMQTT_SESSION_EV_CONNACK:
        ev->packet.type = KMQTT_CONNACK;
        ev->packet.u.connack.reason_code = e.reason_code;
        ev->packet.u.connack.session_present = e.session_present;
        raw_view(&ev->packet.u.connack.props, &e);
        break;
    case KMQTT_SESSION_EV_MESSAGE:
        publish_view(ev, &e);
        ev->packet.u.publish.payload.ptr = e.msg.payload;
        ev->packet.u.publish.payload.len = e.msg.payload_len;
        break;
#if KMQTT_CFG_STREAM
    case KMQTT_SESSION_EV_MESSAGE_BEGIN:
    case KMQTT_SESSION_EV_MESSAGE_CHUNK:
    case KMQTT_SESSION_EV_MESSAGE_END:
        publish_view(ev, &e);
        ev->packet.u.publish.payload.len = e.total;
        ev->data = e.type == KMQTT_SESSION_EV_MESSAGE_CHUNK ? e.msg.payload : NULL;
        ev->len = e.type == KMQTT_SESSION_EV_MESSAGE_CHUNK ? e.msg.payload_len : 0;
        ev->offset = e.offset;
        ev->total = e.total;
        break;
#endif
    case KMQTT_SESSION_EV_PUBLISHED:
        /* The ack that completed it (its kind does not matter to the
         * client); none when it was dropped (err set). */
        ev->packet.type = e.err == KMQTT_OK ? KMQTT_PUBACK : (kmqtt_packet_type_t)0;
        ev->packet.u.ack.packet_id = e.packet_id;
        ev->packet.u.ack.reason_code = e.reason_code;
        raw_view(&ev->packet.u.ack.props, &e);
        break;
    case KMQTT_SESSION_EV_SUBACK:
    case KMQTT_SESSION_EV_UNSUBACK:
        ev->packet.type = e.type == KMQTT_SESSION_EV_SUBACK ? KMQTT_SUBACK : KMQTT_UNSUBACK;
        ev->packet.u.suback.packet_id = e.packet_id;
        ev->packet.u.suback.reason_codes.ptr = e.codes;
        ev->packet.u.suback.reason_codes.len = e.count;
        raw_view(&ev->packet.u.suback.props, &e);
        break;
    case KMQTT_SESSION_EV_AUTH:
    case KMQTT_SESSION_EV_DISCONNECT:
        ev->packet.type = e.type == KMQTT_SESSION_EV_AUTH ? KMQTT_AUTH : KMQTT_DISCONNECT;
        ev->packet.u.disconnect.reason_code = e.reason_code;
        raw_view(&ev->packet.u.disconnect.props, &e);
        break;
    default:
        break;
    }
    return KMQTT_OK;
}

/* The engine counts in wrapping 32-bit milliseconds and answers how long
 * until it has something to do; the client's loop thinks in 64-bit
 * deadlines. */
kmqtt_err_t kc_session_tick(kmqtt_client_t *c, uint64_t now, uint64_t *next)
{
    uint32_t in = UINT32_MAX;
    kmqtt_err_t err = kmqtt_session_tick(&c->s, (uint32_t)now, &in);

    *next = in == UINT32_MAX ? UINT64_MAX : now + in;
    return err;
}
