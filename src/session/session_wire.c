/*
 * The packet writer: every outbound packet is written field by field straight
 * into tx (or, for a QoS 1/2 PUBLISH, into its store record), its remaining
 * length computed first so the fixed header goes out once, in place.
 */
#include "session_internal.h"

uint8_t *ks_put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

uint8_t *ks_put_bin(uint8_t *p, const void *src, size_t n)
{
    p = ks_put_u16(p, (uint32_t)n);
    if (n > 0)
        memcpy(p, src, n);
    return p + n;
}

/* Whole packet from its remaining length (which callers keep under
 * KMQTT_VARINT_MAX). */
size_t ks_packet_size(uint32_t rem)
{
    return 1u + kmqtt_varint_size(rem) + rem;
}

uint8_t *ks_put_head(uint8_t *p, uint8_t first, uint32_t rem)
{
    *p++ = first;
    return kmqtt_varint_write(p, rem);
}

/* Reserves n bytes at the end of tx; NULL when tx has no room now. Bytes
 * already offered to the transport are never moved while a send may be
 * under way: tx_start only moves by what the transport took (DESIGN rule 6),
 * and the queue is slid down only when that leaves room. */
uint8_t *ks_tx_reserve(kmqtt_session_t *s, size_t n)
{
    uint32_t queued = s->tx_len - s->tx_start;
    /* KS_SENDING never decides: ks_out_fill leaves tx full whenever a payload is still owed. */
    if (n > s->tx_size - queued || KS_SENDING(s)) /* a payload in pieces goes first */
        return NULL;
    if (s->tx_len + n > s->tx_size) {
        memmove(s->tx, s->tx + s->tx_start, queued);
        s->tx_start = 0;
        s->tx_len = queued;
    }
    uint8_t *p = s->tx + s->tx_len;
    s->tx_len += (uint32_t)n;
    return p;
}

/* Reserves a whole packet in tx and writes its fixed header; NULL when tx
 * has no room now. The caller fills exactly rem bytes. */
uint8_t *ks_tx_begin(kmqtt_session_t *s, uint8_t first, uint32_t rem)
{
    uint8_t *p = ks_tx_reserve(s, ks_packet_size(rem));
    return p != NULL ? ks_put_head(p, first, rem) : NULL;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP (first byte given), PINGREQ and
 * DISCONNECT (id unused): 5.0 adds the reason code only when it is not
 * 0x00, as 3.4.2.1 etc. allow. False when tx has no room. */
bool ks_send_ack(kmqtt_session_t *s, uint8_t first, uint16_t id, uint8_t reason)
{
    uint32_t rem = first >= 0xC0u ? 0u : 2u;
    if (KS_V5(s) && reason != 0)
        rem++;
    uint8_t *p = ks_tx_begin(s, first, rem);
    if (p == NULL)
        return false;
    if (first < 0xC0u)
        p = ks_put_u16(p, id);
    if (KS_V5(s) && reason != 0)
        *p = reason;
    return true;
}

void ks_ev(kmqtt_session_event_t *ev, kmqtt_session_event_type_t type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
}

static size_t opt_len(const char *str)
{
    return str != NULL ? strlen(str) : 0;
}

#if KMQTT_CFG_V5
/* What the engine advertises in the CONNECT's property block, after the
 * caller's: Receive Maximum = the inbound QoS 2 ids it can hold (65,535
 * without a table: no QoS 2), Maximum Packet Size = the largest packet
 * taken (rx, or more in pieces), and Topic Alias
 * Maximum = its inbound alias slots when it has any. */
#if KS_ALIASES
#define CONNECT_EXTRA(s) (8u + ((s)->alias_in_max > 0 ? 3u : 0u))
#else
#define CONNECT_EXTRA(s) 8u
#endif

static uint8_t *put_extra(uint8_t *p, const kmqtt_session_t *s)
{
    *p++ = KMQTT_PROP_RECEIVE_MAXIMUM;
    /* 65,535 only in builds without QoS 2: with it, 5.0 needs a table (init). */
    p = ks_put_u16(p, s->inbound_max != 0 ? s->inbound_max : 65535u);
    *p++ = KMQTT_PROP_MAXIMUM_PACKET_SIZE;
    p = ks_put_u16(p, KS_MAX_IN(s) >> 16);
    p = ks_put_u16(p, KS_MAX_IN(s));
#if KS_ALIASES
    if (s->alias_in_max > 0) {
        *p++ = KMQTT_PROP_TOPIC_ALIAS_MAXIMUM;
        p = ks_put_u16(p, s->alias_in_max);
    }
#endif
    return p;
}
#endif

/* One pass for the size (out NULL) and one for the bytes, so the two cannot
 * disagree. */
static size_t connect_body(const kmqtt_session_t *s, uint8_t *out)
{
    static const uint8_t proto[] = {0, 4, 'M', 'Q', 'T', 'T'};
    const kmqtt_session_config_t *f = s->cfg;
    uint8_t flags = f->clean_session ? 0x02u : 0u;
    size_t n = sizeof proto + 4u + 2u + opt_len(f->client_id);
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        size_t pl = f->connect_props_len + CONNECT_EXTRA(s);
        n += kmqtt_varint_size((uint32_t)pl) + pl;
        if (f->will_topic != NULL)
            n += kmqtt_varint_size((uint32_t)f->will_props_len) + f->will_props_len;
    }
#endif
    if (f->will_topic != NULL) {
        flags |= (uint8_t)(0x04u | (f->will_qos << 3) | (f->will_retain ? 0x20u : 0u));
        n += 4u + strlen(f->will_topic) + f->will_payload_len;
    }
    if (f->password != NULL) {
        flags |= 0x40u;
        n += 2u + f->password_len;
    }
    if (f->username != NULL) {
        flags |= 0x80u;
        n += 2u + strlen(f->username);
    }
    if (out == NULL)
        return n;

    uint8_t *p = ks_put_head(out, 0x10u, (uint32_t)n);
    memcpy(p, proto, sizeof proto);
    p += sizeof proto;
    *p++ = f->version;
    *p++ = flags;
    p = ks_put_u16(p, f->keepalive_s);
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        p = kmqtt_varint_write(p, (uint32_t)(f->connect_props_len + CONNECT_EXTRA(s)));
        if (f->connect_props_len > 0)
            memcpy(p, f->connect_props, f->connect_props_len);
        p = put_extra(p + f->connect_props_len, s);
    }
#endif
    p = ks_put_bin(p, f->client_id, opt_len(f->client_id));
    if (f->will_topic != NULL) {
#if KMQTT_CFG_V5
        if (KS_V5(s))
            p = ks_put_props(p, f->will_props, f->will_props_len);
#endif
        p = ks_put_bin(p, f->will_topic, strlen(f->will_topic));
        p = ks_put_bin(p, f->will_payload, f->will_payload_len);
    }
    if (f->username != NULL)
        p = ks_put_bin(p, f->username, strlen(f->username));
    if (f->password != NULL)
        ks_put_bin(p, f->password, f->password_len);
    return n;
}

size_t ks_connect_size(const kmqtt_session_t *s)
{
    return ks_packet_size((uint32_t)connect_body(s, NULL));
}

/* Only on an empty tx (a new connection), which init made sure it fits. */
void ks_write_connect(kmqtt_session_t *s)
{
    s->tx_start = 0;
    s->tx_len = (uint32_t)ks_packet_size((uint32_t)connect_body(s, s->tx));
}
