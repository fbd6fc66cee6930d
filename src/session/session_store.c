/*
 * The store: one record per outbound QoS 1/2 message not yet complete, in
 * the order they were first sent, each keeping the PUBLISH exactly as
 * encoded so a resend after a reconnect is a copy (MQTT-4.6.0-1).
 * resend_off splits the records already put into tx on this connection
 * from those still to go again.
 */
#include "session_internal.h"

void ks_store_get(const kmqtt_session_t *s, uint32_t off, ks_rec_t *r)
{
    memcpy(r, s->store + off, sizeof *r);
}

void ks_store_set(kmqtt_session_t *s, uint32_t off, const ks_rec_t *r)
{
    memcpy(s->store + off, r, sizeof *r);
}

#if KMQTT_CFG_OFFLINE_QUEUE
void ks_changed(kmqtt_session_t *s, kmqtt_session_change_t what, uint16_t id, const uint8_t *bytes,
                size_t len)
{
    if (s->change_fn != NULL)
        s->change_fn(s->change_ctx, what, id, bytes, len);
}
#endif

uint32_t ks_store_find(const kmqtt_session_t *s, uint16_t id, ks_rec_t *r)
{
    for (uint32_t off = 0; off < s->store_used; off += KS_REC_SIZE(r->len)) {
        ks_store_get(s, off, r);
        if (r->id == id)
            return off;
    }
    return KS_NONE;
}

/* Cuts n bytes at off out of the store, keeping resend_off on the same
 * record. */
static void cut(kmqtt_session_t *s, uint32_t off, uint32_t n)
{
    memmove(s->store + off, s->store + off + n, s->store_used - off - n);
    s->store_used -= n;
    if (s->resend_off > off)
        s->resend_off -= n;
}

void ks_store_remove(kmqtt_session_t *s, uint32_t off)
{
    ks_rec_t r;
    ks_store_get(s, off, &r);
    if (s->resend_off > off)
        s->resent--;
    cut(s, off, KS_REC_SIZE(r.len));
    s->inflight--;
    ks_changed(s, KMQTT_SESSION_CH_DONE, r.id, NULL, 0);
}

/* PUBREC: the message is the server's now (MQTT-4.3.3); keep only the id. */
void ks_store_release(kmqtt_session_t *s, uint32_t off, ks_rec_t *r)
{
    uint32_t body = KS_REC_SIZE(r->len) - KS_REC_HDR;
    r->len = 0;
    r->kind = KS_REC_REL;
    ks_store_set(s, off, r);
    cut(s, off + KS_REC_HDR, body);
    ks_changed(s, KMQTT_SESSION_CH_PUBREL, r->id, NULL, 0);
}

static bool requested(const kmqtt_session_t *s, uint16_t id)
{
    for (unsigned i = 0; i < s->max_requests; i++)
        if (s->req[i].id == id)
            return true;
    return false;
}

/* A packet id no record and no SUBSCRIBE / UNSUBSCRIBE awaiting its ack
 * holds (MQTT-2.3.1-2). They hold far fewer than 65,535, so this ends. */
uint16_t ks_new_id(kmqtt_session_t *s)
{
    ks_rec_t r;
    for (;;) {
        uint16_t id = ++s->next_id;
        if (id != 0 && !requested(s, id) && ks_store_find(s, id, &r) == KS_NONE)
            return id;
    }
}

/* The size of a stored PUBLISH as sent: a reader's record keeps only its
 * header, whose Remaining Length counts the payload too. */
static uint32_t rec_whole(const kmqtt_session_t *s, uint32_t off, const ks_rec_t *r)
{
#if KMQTT_CFG_STREAM
    if (r->kind & KS_REC_READER)
        return (uint32_t)ks_packet_size(ks_head_rem(s->store + off + KS_REC_HDR));
#else
    (void)s;
    (void)off;
#endif
    return r->len;
}

/* Puts the records not yet sent on this connection into tx, in order, as
 * far as tx has room: PUBLISH with DUP when the session was found
 * (MQTT-3.3.1-1), as new otherwise; PUBREL for the released ones
 * (MQTT-4.4.0-1). Without a session those are skipped, for ks_store_fresh
 * to report. Only while CONNECTED, or in a pipelined first flight. */
void ks_resend(kmqtt_session_t *s)
{
    bool early = KS_EARLY(s);
    if (s->state != KMQTT_SESSION_CONNECTED && !early)
        return;
    /* A pipelined first flight expects the session the CONNECT asks for:
     * a record sent again there carries DUP and a PUBREL goes again. */
    bool sess = early ? !s->cfg->clean_session : (s->flags & KS_F_SESSION) != 0;
    while (s->resend_off < s->store_used) {
        ks_rec_t r;
        ks_store_get(s, s->resend_off, &r);
#if KMQTT_CFG_V5
        if (KS_V5(s) && s->resent >= s->server_receive_max)
            return; /* MQTT-3.3.4-7 */
#endif
        /* The first flight stops (keeping the order, MQTT-4.6.0-1) at a
         * record the last CONNACK's caps would not take, or one cleared. */
        if (early && r.pad != KS_DROP_CLEARED &&
            (r.pad != 0 ||
             (KS_KIND(r) != KS_REC_REL &&
              !ks_early_fits(s, KS_KIND(r), (s->store[s->resend_off + KS_REC_HDR] & 1u) != 0,
                             rec_whole(s, s->resend_off, &r)))))
            return;
        if (r.pad != 0) {
            /* marked by ks_store_check: never sent, dropped after the CONNACK */
        } else if (KS_KIND(r) == KS_REC_REL) {
            if (sess && !ks_send_ack(s, 0x62u, r.id, 0))
                return;
        } else {
            uint8_t *pkt = s->store + s->resend_off + KS_REC_HDR;
            uint8_t *p = ks_tx_reserve(s, r.len);
            if (p == NULL)
                return;
            pkt[0] = (uint8_t)(sess ? pkt[0] | 0x08u : pkt[0] & ~0x08u);
            memcpy(p, pkt, r.len);
#if KMQTT_CFG_STREAM
            /* Its payload from the reader again, from offset 0; nothing
             * else enters tx until it is all there. */
            if (r.kind & KS_REC_READER)
                ks_out_start(s, r.id, pkt, r.len);
#endif
        }
        s->resend_off += KS_REC_SIZE(r.len);
        s->resent++;
    }
}

#if KMQTT_CFG_V5
/* 5.0, at a CONNACK, before the resend: a stored PUBLISH larger than this
 * server's Maximum Packet Size (MQTT-3.2.2-15) or above its Maximum QoS
 * (MQTT-3.2.2-11) must not be sent; mark it for ks_store_fresh. */
void ks_store_check(kmqtt_session_t *s)
{
    ks_rec_t r;
    /* Records a pipelined first flight already carried are the server's
     * to judge: its ack completes them, or its DISCONNECT leaves them
     * stored for the next connection, checked then. */
    for (uint32_t off = s->resend_off; off < s->store_used; off += KS_REC_SIZE(r.len)) {
        ks_store_get(s, off, &r);
        /* Never true: ks_store_fresh reports cleared records before a CONNACK is read. */
        if (r.pad == KS_DROP_CLEARED)
            continue; /* cleared: reported, never sent */
        r.pad = 0;
        if (KS_KIND(r) != KS_REC_REL) {
            uint32_t whole = rec_whole(s, off, &r);
            if (s->server_max_packet != 0 && whole > s->server_max_packet)
                r.pad = KS_DROP_TOOBIG;
            else if (KS_KIND(r) > s->server_max_qos)
                r.pad = KS_DROP_QOS;
        }
        ks_store_set(s, off, &r);
    }
}
#endif

/* After a CONNACK (or kmqtt_session_clear): the next record the connection will not carry, removed
 * and reported in *ev: a message whose PUBREL was pending when the session
 * was not found (the server released it and kept nothing of it), and (5.0)
 * one ks_store_check marked, with its error. False when none is left. */
bool ks_store_fresh(kmqtt_session_t *s, kmqtt_session_event_t *ev)
{
    for (uint32_t off = 0; off < s->store_used;) {
        ks_rec_t r;
        ks_store_get(s, off, &r);
        kmqtt_err_t err = KMQTT_OK;
        if (r.pad != 0)
            err = r.pad == KS_DROP_TOOBIG ? KMQTT_ETOOBIG
                  : r.pad == KS_DROP_QOS  ? KMQTT_EUNSUPPORTED
                                          : KMQTT_ECANCELED;
        else if (KS_KIND(r) != KS_REC_REL || (s->flags & KS_F_SESSION)) {
            off += KS_REC_SIZE(r.len);
            continue;
        }
        ks_store_remove(s, off);
        ks_ev(ev, KMQTT_SESSION_EV_PUBLISHED);
        ev->packet_id = r.id;
        ev->err = err;
        return true;
    }
    return false;
}

#if KMQTT_CFG_OFFLINE_QUEUE
/* The record's PUBLISH is checked as one received would be (DESIGN rule
 * 7), by the same strict reader: exactly one packet of len bytes, a QoS 1/2
 * PUBLISH of a valid topic in full, carrying packet_id, its 5.0 properties
 * valid and without Topic Alias or Subscription Identifier. KMQTT_ESTORE
 * when it is not; KMQTT_EUNSUPPORTED for QoS 2 in a build without it. */
static kmqtt_err_t publish_ok(const kmqtt_session_t *s, uint16_t id, const uint8_t *b, size_t len)
{
    size_t n;
    if (b == NULL || len < 2 || len > s->store_size ||
        kmqtt_packet_frame(b, len, len, &n) != KMQTT_OK || n != len || (b[0] & 0xF0u) != 0x30u)
        return KMQTT_ESTORE;
    unsigned qos = (b[0] >> 1) & 3u;
    const uint8_t *p = b + 1;
    while (*p++ & 0x80u) {
    }
    const uint8_t *end = b + len;
    /* qos == 3 never: kmqtt_packet_frame refused it (KMQTT_EQOS). */
    if (qos == 0 || qos == 3 || end - p < 2)
        return KMQTT_ESTORE;
    uint16_t tl = ks_get_u16(p);
    p += 2;
    if ((size_t)(end - p) < tl + 2u || kmqtt_topic_name_validate((const char *)p, tl) != KMQTT_OK)
        return KMQTT_ESTORE;
    p += tl;
    if (ks_get_u16(p) != id)
        return KMQTT_ESTORE;
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        const uint8_t *props;
        size_t props_len;
        p += 2;
        if (ks_v5_props(&p, end, KMQTT_PUBLISH, &props, &props_len) != KMQTT_OK ||
            ks_v5_has(props, props_len, KMQTT_PROP_TOPIC_ALIAS) ||
            ks_v5_has(props, props_len, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER))
            return KMQTT_ESTORE;
    }
#endif
    return qos == 2 && !KMQTT_CFG_QOS2 ? KMQTT_EUNSUPPORTED : KMQTT_OK;
}

kmqtt_err_t kmqtt_session_restore(kmqtt_session_t *s, uint16_t packet_id, bool pubrel,
                                  const uint8_t *bytes, size_t len)
{
    ks_rec_t r;
    if (s == NULL || s->cfg == NULL)
        return KMQTT_EINVAL;
    if (s->state != KMQTT_SESSION_IDLE)
        return KMQTT_ESTATE;
    if (packet_id == 0 || ks_store_find(s, packet_id, &r) != KS_NONE)
        return KMQTT_EINVAL;
    if (pubrel && !KMQTT_CFG_QOS2)
        return KMQTT_EUNSUPPORTED;
    if (pubrel) {
        len = 0;
    } else {
        kmqtt_err_t err = publish_ok(s, packet_id, bytes, len);
        if (err != KMQTT_OK)
            return err; /* nothing taken */
    }
    if (s->inflight >= s->cfg->max_inflight)
        return KMQTT_ELIMIT;
    if (KS_REC_SIZE(len) > s->store_size - s->store_used)
        return KMQTT_ENOBUFS;
    r.len = (uint32_t)len;
    r.id = packet_id;
    r.kind = pubrel ? KS_REC_REL : (uint8_t)((bytes[0] >> 1) & 3u);
    r.pad = 0;
    ks_store_set(s, s->store_used, &r);
    if (len > 0)
        memcpy(s->store + s->store_used + KS_REC_HDR, bytes, len);
    s->store_used += KS_REC_SIZE(len);
    s->inflight++;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_session_restore_inbound(kmqtt_session_t *s, uint16_t packet_id)
{
    if (s == NULL || s->cfg == NULL || packet_id == 0 || !KMQTT_CFG_QOS2)
        return KMQTT_EINVAL;
    if (s->state != KMQTT_SESSION_IDLE)
        return KMQTT_ESTATE;
#if KMQTT_CFG_QOS2
    if (s->inbound_bits == NULL) {
        for (unsigned i = 0; i < s->inbound_count; i++)
            if (s->inbound[i] == packet_id)
                return KMQTT_OK;
        if (s->inbound_count == s->inbound_max)
            return KMQTT_ELIMIT;
    }
    ks_hold(s, packet_id);
#endif
    return KMQTT_OK;
}

#else
kmqtt_err_t kmqtt_session_restore(kmqtt_session_t *s, uint16_t packet_id, bool pubrel,
                                  const uint8_t *bytes, size_t len)
{
    (void)s;
    (void)packet_id;
    (void)pubrel;
    (void)bytes;
    (void)len;
    return KMQTT_EUNSUPPORTED;
}

kmqtt_err_t kmqtt_session_restore_inbound(kmqtt_session_t *s, uint16_t packet_id)
{
    (void)s;
    (void)packet_id;
    return KMQTT_EUNSUPPORTED;
}
#endif

kmqtt_err_t kmqtt_session_clear(kmqtt_session_t *s)
{
    ks_rec_t r;
    if (s == NULL || s->cfg == NULL)
        return KMQTT_EINVAL;
    if (s->state != KMQTT_SESSION_IDLE)
        return KMQTT_ESTATE;
    for (uint32_t off = 0; off < s->store_used; off += KS_REC_SIZE(r.len)) {
        ks_store_get(s, off, &r);
        r.pad = KS_DROP_CLEARED;
        ks_store_set(s, off, &r);
    }
    s->flags |= KS_F_FRESH;
    ks_forget_inbound(s);
    return KMQTT_OK;
}

void kmqtt_session_set_change_hook(kmqtt_session_t *s, kmqtt_session_change_fn fn, void *ctx)
{
#if KMQTT_CFG_OFFLINE_QUEUE
    if (s == NULL)
        return;
    s->change_fn = fn;
    s->change_ctx = ctx;
#else
    (void)s;
    (void)fn;
    (void)ctx;
#endif
}
