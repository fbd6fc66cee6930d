/*
 * The store: one record per outbound QoS 1/2 message not yet complete, in
 * the order they were first sent, each keeping the PUBLISH exactly as
 * encoded so a resend after a reconnect is a copy (MQTT-4.6.0-1).
 * resend_off splits the records already put into tx on this connection
 * from those still to go again.
 */
#include "nano_internal.h"

static void get(const kmqtt_nano_t *c, uint32_t off, nano_rec_t *r)
{
    memcpy(r, c->store + off, sizeof *r);
}

void nano_store_set(kmqtt_nano_t *c, uint32_t off, const nano_rec_t *r)
{
    memcpy(c->store + off, r, sizeof *r);
}

uint32_t nano_store_find(const kmqtt_nano_t *c, uint16_t id, nano_rec_t *r)
{
    for (uint32_t off = 0; off < c->store_used; off += NANO_REC_SIZE(r->len)) {
        get(c, off, r);
        if (r->id == id)
            return off;
    }
    return NANO_NONE;
}

/* Cuts n bytes at off out of the store, keeping resend_off on the same
 * record. */
static void cut(kmqtt_nano_t *c, uint32_t off, uint32_t n)
{
    memmove(c->store + off, c->store + off + n, c->store_used - off - n);
    c->store_used -= n;
    if (c->resend_off > off)
        c->resend_off -= n;
}

void nano_store_remove(kmqtt_nano_t *c, uint32_t off)
{
    nano_rec_t r;
    get(c, off, &r);
    if (c->resend_off > off)
        c->resent--;
    cut(c, off, NANO_REC_SIZE(r.len));
    c->inflight--;
}

/* PUBREC: the message is the server's now (MQTT-4.3.3); keep only the id. */
void nano_store_release(kmqtt_nano_t *c, uint32_t off, nano_rec_t *r)
{
    uint32_t body = NANO_REC_SIZE(r->len) - NANO_REC_HDR;
    r->len = 0;
    r->kind = NANO_REC_REL;
    nano_store_set(c, off, r);
    cut(c, off + NANO_REC_HDR, body);
}

static bool requested(const kmqtt_nano_t *c, uint16_t id)
{
    for (unsigned i = 0; i < KMQTT_NANO_MAX_REQUESTS; i++)
        if (c->req[i].id == id)
            return true;
    return false;
}

/* A packet id no record and no SUBSCRIBE / UNSUBSCRIBE awaiting its ack
 * holds (MQTT-2.3.1-2). They hold far fewer than 65,535, so this ends. */
uint16_t nano_new_id(kmqtt_nano_t *c)
{
    nano_rec_t r;
    for (;;) {
        uint16_t id = ++c->next_id;
        if (id != 0 && !requested(c, id) && nano_store_find(c, id, &r) == NANO_NONE)
            return id;
    }
}

/* Puts the records not yet sent on this connection into tx, in order, as
 * far as tx has room: PUBLISH with DUP when the session was found
 * (MQTT-3.3.1-1), as new otherwise; PUBREL for the released ones
 * (MQTT-4.4.0-1). Without a session those are skipped, for
 * nano_store_fresh to report. */
void nano_resend(kmqtt_nano_t *c)
{
    while (c->resend_off < c->store_used) {
        nano_rec_t r;
        get(c, c->resend_off, &r);
#if KMQTT_CFG_V5
        if (NANO_V5(c) && c->resent >= c->server_receive_max)
            return; /* MQTT-3.3.4-7 */
#endif
#if KMQTT_CFG_V5
        if (r.pad != 0) {
            /* marked by nano_store_check: never sent, dropped after the CONNACK */
        } else
#endif
            if (r.kind == NANO_REC_REL) {
            if ((c->flags & NANO_F_SESSION) && !nano_send_ack(c, 0x62u, r.id, 0))
                return;
        } else {
            uint8_t *pkt = c->store + c->resend_off + NANO_REC_HDR;
            uint8_t *p = nano_tx_reserve(c, r.len);
            if (p == NULL)
                return;
            pkt[0] = (uint8_t)((c->flags & NANO_F_SESSION) ? pkt[0] | 0x08u : pkt[0] & ~0x08u);
            memcpy(p, pkt, r.len);
        }
        c->resend_off += NANO_REC_SIZE(r.len);
        c->resent++;
    }
}

#if KMQTT_CFG_V5
/* 5.0, at a CONNACK, before the resend: a stored PUBLISH larger than this
 * server's Maximum Packet Size (MQTT-3.2.2-15) or above its Maximum QoS
 * (MQTT-3.2.2-11) must not be sent; mark it for nano_store_fresh. */
void nano_store_check(kmqtt_nano_t *c)
{
    nano_rec_t r;
    for (uint32_t off = 0; off < c->store_used; off += NANO_REC_SIZE(r.len)) {
        get(c, off, &r);
        r.pad = 0;
        if (r.kind != NANO_REC_REL) {
            if (c->server_max_packet != 0 && r.len > c->server_max_packet)
                r.pad = 1;
            else if (r.kind > c->server_max_qos)
                r.pad = 2;
        }
        nano_store_set(c, off, &r);
    }
}
#endif

/* After a CONNACK: report complete, and drop, a message whose PUBREL was
 * pending when the session was not found (the server released it and kept
 * nothing of it), and (5.0) one nano_store_check marked, with its error.
 * False when a callback ended the connection. */
bool nano_store_fresh(kmqtt_nano_t *c, bool sp)
{
    uint32_t off = 0;
    while (off < c->store_used) {
        nano_rec_t r;
        get(c, off, &r);
        kmqtt_err_t err = KMQTT_OK;
#if KMQTT_CFG_V5
        if (r.pad != 0)
            err = r.pad == 1 ? KMQTT_ETOOBIG : KMQTT_EUNSUPPORTED;
        else
#endif
            if (r.kind != NANO_REC_REL || sp) {
            off += NANO_REC_SIZE(r.len);
            continue;
        }
        nano_store_remove(c, off);
        kmqtt_nano_event_t ev;
        nano_ev(&ev, KMQTT_NANO_EV_PUBLISHED);
        ev.packet_id = r.id;
        ev.err = err;
        if (!nano_emit(c, &ev))
            return false;
    }
    return true;
}
