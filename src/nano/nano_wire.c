/*
 * The packet writer: every outbound packet is written field by field straight
 * into tx (or, for a QoS 1/2 PUBLISH, into its store record), its remaining
 * length computed first so the fixed header goes out once, in place.
 */
#include "nano_internal.h"

uint8_t *nano_put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

uint8_t *nano_put_bin(uint8_t *p, const void *s, size_t n)
{
    p = nano_put_u16(p, (uint32_t)n);
    if (n > 0)
        memcpy(p, s, n);
    return p + n;
}

uint8_t *nano_put_varint(uint8_t *p, uint32_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7Fu);
        v >>= 7;
        *p++ = (uint8_t)(v != 0 ? b | 0x80u : b);
    } while (v != 0);
    return p;
}

/* Whole packet from its remaining length (which callers keep under
 * KMQTT_VARINT_MAX). */
size_t nano_packet_size(uint32_t rem)
{
    return 1u + kmqtt_varint_size(rem) + rem;
}

uint8_t *nano_put_head(uint8_t *p, uint8_t first, uint32_t rem)
{
    *p++ = first;
    return nano_put_varint(p, rem);
}

/* Reserves n bytes at the end of tx; NULL when tx has no room now. */
uint8_t *nano_tx_reserve(kmqtt_nano_t *c, size_t n)
{
    uint32_t queued = c->tx_len - c->tx_start;
    if (n > c->tx_size - queued)
        return NULL;
    if (c->tx_len + n > c->tx_size) {
        memmove(c->tx, c->tx + c->tx_start, queued);
        c->tx_start = 0;
        c->tx_len = queued;
    }
    uint8_t *p = c->tx + c->tx_len;
    c->tx_len += (uint32_t)n;
    return p;
}

/* Reserves a whole packet in tx and writes its fixed header; NULL when tx
 * has no room now. The caller fills exactly rem bytes. */
uint8_t *nano_tx_begin(kmqtt_nano_t *c, uint8_t first, uint32_t rem)
{
    uint8_t *p = nano_tx_reserve(c, nano_packet_size(rem));
    return p != NULL ? nano_put_head(p, first, rem) : NULL;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP (first byte given), PINGREQ and
 * DISCONNECT (id unused): 5.0 adds the reason code only when it is not
 * 0x00, as 3.4.2.1 etc. allow. False when tx has no room. */
bool nano_send_ack(kmqtt_nano_t *c, uint8_t first, uint16_t id, uint8_t reason)
{
    uint32_t rem = first >= 0xC0u ? 0u : 2u;
    if (NANO_V5(c) && reason != 0)
        rem++;
    uint8_t *p = nano_tx_begin(c, first, rem);
    if (p == NULL)
        return false;
    if (first < 0xC0u)
        p = nano_put_u16(p, id);
    if (NANO_V5(c) && reason != 0)
        *p = reason;
    return true;
}

static size_t opt_len(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

#if KMQTT_CFG_V5
/* A property block with its length prefix; the CONNECT's gets Receive
 * Maximum and Maximum Packet Size appended (the 8 bytes of extra). */
static uint8_t *put_props(uint8_t *p, const uint8_t *blk, size_t len, uint32_t extra,
                          const kmqtt_nano_t *c)
{
    p = nano_put_varint(p, (uint32_t)(len + extra));
    if (len > 0)
        memcpy(p, blk, len);
    p += len;
    if (extra != 0) {
        *p++ = KMQTT_PROP_RECEIVE_MAXIMUM;
        p = nano_put_u16(p, KMQTT_NANO_INBOUND_QOS2);
        *p++ = KMQTT_PROP_MAXIMUM_PACKET_SIZE;
        p = nano_put_u16(p, c->rx_size >> 16);
        p = nano_put_u16(p, c->rx_size);
    }
    return p;
}
#define CONNECT_EXTRA 8u
#endif

/* One pass for the size (out NULL) and one for the bytes, so the two cannot
 * disagree. */
static size_t connect_body(const kmqtt_nano_t *c, uint8_t *out)
{
    static const uint8_t proto[] = {0, 4, 'M', 'Q', 'T', 'T'};
    const kmqtt_nano_config_t *f = c->cfg;
    uint8_t flags = f->clean_session ? 0x02u : 0u;
    size_t n = sizeof proto + 4u + 2u + opt_len(f->client_id);
#if KMQTT_CFG_V5
    if (NANO_V5(c)) {
        size_t pl = f->connect_props_len + CONNECT_EXTRA;
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

    uint8_t *p = nano_put_head(out, 0x10u, (uint32_t)n);
    memcpy(p, proto, sizeof proto);
    p += sizeof proto;
    *p++ = f->version;
    *p++ = flags;
    p = nano_put_u16(p, f->keepalive_s);
#if KMQTT_CFG_V5
    if (NANO_V5(c))
        p = put_props(p, f->connect_props, f->connect_props_len, CONNECT_EXTRA, c);
#endif
    p = nano_put_bin(p, f->client_id, opt_len(f->client_id));
    if (f->will_topic != NULL) {
#if KMQTT_CFG_V5
        if (NANO_V5(c))
            p = put_props(p, f->will_props, f->will_props_len, 0, c);
#endif
        p = nano_put_bin(p, f->will_topic, strlen(f->will_topic));
        p = nano_put_bin(p, f->will_payload, f->will_payload_len);
    }
    if (f->username != NULL)
        p = nano_put_bin(p, f->username, strlen(f->username));
    if (f->password != NULL)
        nano_put_bin(p, f->password, f->password_len);
    return n;
}

size_t nano_connect_size(const kmqtt_nano_t *c)
{
    return nano_packet_size((uint32_t)connect_body(c, NULL));
}

/* Only on an empty tx (a new connection), which init made sure it fits. */
void nano_write_connect(kmqtt_nano_t *c)
{
    c->tx_start = 0;
    c->tx_len = (uint32_t)nano_packet_size((uint32_t)connect_body(c, c->tx));
}
