/*
 * The peer's MQTT 3.1.1 server side, strict and written for this test (no
 * kmqtt code): packets are assembled from the byte stream, framed from their
 * fixed header, and each is parsed field by field with exact lengths:
 *  - CONNECT first and once (MQTT-3.1.0-1, -2), answered with CONNACK 0;
 *  - PUBLISH of the numbered messages (bp_msg.h): QoS as the cell says,
 *    QoS 1 answered with PUBACK, every message in order and byte-identical;
 *    at QoS 1 a repeated one must carry DUP (MQTT-3.3.1-1) and is counted;
 *  - the end marker (a QoS 1 PUBLISH carrying the count sent);
 *  - PINGREQ answered with PINGRESP; DISCONNECT, after which nothing may
 *    follow (MQTT-3.14.4-1).
 * Anything else is an error, reported with the number of the message that
 * was due when it happened.
 */
#include "bp_peer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest packet a cell can send: a 60,000-byte message with topic,
 * packet id and fixed header. */
#define PKT_MAX (BP_MSG_MAX + 64u)

bool bp_mqtt_init(bp_mqtt_t *m)
{
    memset(m, 0, sizeof(*m));
    m->cap = PKT_MAX;
    m->pkt = malloc(m->cap);
    return m->pkt != NULL;
}

void bp_mqtt_free(bp_mqtt_t *m)
{
    free(m->pkt);
    m->pkt = NULL;
}

/* A length-prefixed field at *at of body (len bytes): its bytes and length. */
static bool field(const uint8_t *body, size_t len, size_t *at, const uint8_t **s, size_t *sl)
{
    size_t l;
    if (len - *at < 2)
        return false;
    l = (size_t)body[*at] << 8 | body[*at + 1];
    if (len - *at - 2 < l)
        return false;
    *s = body + *at + 2;
    *sl = l;
    *at += 2 + l;
    return true;
}

static void on_connect(bp_peer_t *p, uint8_t flags, const uint8_t *b, size_t len)
{
    static const uint8_t connack[4] = {0x20, 0x02, 0x00, 0x00};
    const uint8_t *s;
    size_t sl, at = 0;
    uint8_t cf;

    if (p->mq.connected) {
        bp_peer_fail(p, "a second CONNECT (MQTT-3.1.0-2)");
        return;
    }
    if (flags != 0) {
        bp_peer_fail(p, "CONNECT with fixed-header flags 0x%x (MQTT-2.2.2-2)", flags);
        return;
    }
    if (!field(b, len, &at, &s, &sl) || sl != 4 || memcmp(s, "MQTT", 4) != 0) {
        bp_peer_fail(p, "CONNECT: protocol name is not MQTT (MQTT-3.1.2-1)");
        return;
    }
    if (len - at < 4 || b[at] != 4) {
        bp_peer_fail(p, "CONNECT: protocol level is not 4 (3.1.1)");
        return;
    }
    cf = b[at + 1];
    at += 4; /* level, flags, keep alive */
    if ((cf & 0x01u) != 0) {
        bp_peer_fail(p, "CONNECT: reserved flag set (MQTT-3.1.2-3)");
        return;
    }
    if ((cf & 0x04u) == 0 && (cf & 0x38u) != 0) {
        bp_peer_fail(p, "CONNECT: will QoS/retain without a will (MQTT-3.1.2-11, -13, -15)");
        return;
    }
    if ((cf & 0x80u) == 0 && (cf & 0x40u) != 0) {
        bp_peer_fail(p, "CONNECT: password without user name (MQTT-3.1.2-22)");
        return;
    }
    if (!field(b, len, &at, &s, &sl)) { /* client id */
        bp_peer_fail(p, "CONNECT: client identifier runs past the packet");
        return;
    }
    if ((cf & 0x04u) != 0 && (!field(b, len, &at, &s, &sl) || !field(b, len, &at, &s, &sl))) {
        bp_peer_fail(p, "CONNECT: will topic or message runs past the packet");
        return;
    }
    if ((cf & 0x80u) != 0 && !field(b, len, &at, &s, &sl)) {
        bp_peer_fail(p, "CONNECT: user name runs past the packet");
        return;
    }
    if ((cf & 0x40u) != 0 && !field(b, len, &at, &s, &sl)) {
        bp_peer_fail(p, "CONNECT: password runs past the packet");
        return;
    }
    if (at != len) {
        bp_peer_fail(p, "CONNECT: %zu bytes after the last field", len - at);
        return;
    }
    p->mq.connected = true;
    bp_peer_mqtt_out(p, connack, sizeof(connack));
}

static void puback(bp_peer_t *p, uint16_t id)
{
    uint8_t a[4] = {0x40, 0x02, (uint8_t)(id >> 8), (uint8_t)id};
    bp_peer_mqtt_out(p, a, sizeof(a));
}

/* A numbered message: in order, intact, the cell's QoS. */
static void on_message(bp_peer_t *p, unsigned qos, bool dup, const uint8_t *pl, size_t len)
{
    char why[160];
    uint32_t n;

    if (qos != p->o.qos) {
        bp_peer_fail(p, "PUBLISH at QoS %u, the cell sends QoS %u", qos, (unsigned)p->o.qos);
        return;
    }
    if (len < 4) {
        bp_peer_fail(p, "PUBLISH with a %zu-byte payload: no message number", len);
        return;
    }
    n = bp_be32(pl);
    if (n >= p->o.count) {
        bp_peer_fail(p, "PUBLISH numbered %u, but only %u are sent", (unsigned)n,
                     (unsigned)p->o.count);
        return;
    }
    if (!bp_msg_check(p->o.sizes, n, pl, len, why, sizeof(why))) {
        bp_peer_fail(p, "message %u arrived damaged: %s", (unsigned)n, why);
        return;
    }
    if (n == p->mq.next) {
        if (dup) {
            bp_peer_fail(p, "first delivery with DUP set");
            return;
        }
        p->mq.next++;
        p->res.received++;
    } else if (n > p->mq.next) {
        bp_peer_fail(p, "lost: message %u came instead", (unsigned)n);
    } else if (qos == 0) {
        bp_peer_fail(p, "message %u arrived again (QoS 0 is at most once)", (unsigned)n);
    } else if (!dup) {
        bp_peer_fail(p, "message %u arrived again without DUP (MQTT-3.3.1-1)", (unsigned)n);
    } else {
        p->res.dups++;
    }
}

static void on_publish(bp_peer_t *p, uint8_t flags, const uint8_t *b, size_t len)
{
    unsigned qos = (flags >> 1) & 3u;
    bool dup = (flags & 0x08u) != 0;
    const uint8_t *topic;
    size_t tl, at = 0;
    uint16_t id = 0;

    if (!p->mq.connected) {
        bp_peer_fail(p, "PUBLISH before CONNECT (MQTT-3.1.0-1)");
        return;
    }
    if (qos == 3) {
        bp_peer_fail(p, "PUBLISH with QoS 3 (MQTT-3.3.1-4)");
        return;
    }
    if (qos == 0 && dup) {
        bp_peer_fail(p, "QoS 0 PUBLISH with DUP set (MQTT-3.3.1-2)");
        return;
    }
    if ((flags & 0x01u) != 0) {
        bp_peer_fail(p, "PUBLISH with RETAIN set (the matrix never retains)");
        return;
    }
    if (!field(b, len, &at, &topic, &tl)) {
        bp_peer_fail(p, "PUBLISH: topic runs past the packet");
        return;
    }
    if (qos > 0) {
        if (len - at < 2) {
            bp_peer_fail(p, "PUBLISH: no packet identifier");
            return;
        }
        id = (uint16_t)(b[at] << 8 | b[at + 1]);
        at += 2;
        if (id == 0) {
            bp_peer_fail(p, "PUBLISH with packet identifier 0 (MQTT-2.3.1-1)");
            return;
        }
    }
    if (tl == sizeof(BP_TOPIC) - 1 && memcmp(topic, BP_TOPIC, tl) == 0) {
        on_message(p, qos, dup, b + at, len - at);
    } else if (tl == sizeof(BP_END_TOPIC) - 1 && memcmp(topic, BP_END_TOPIC, tl) == 0) {
        uint32_t sent = len - at == 4 ? bp_be32(b + at) : UINT32_MAX;
        if (qos != 1 || len - at != 4) {
            bp_peer_fail(p, "end marker is not a QoS 1 PUBLISH of 4 bytes");
            return;
        }
        if (sent != p->o.count || p->mq.next != p->o.count) {
            bp_peer_fail(p, "end marker says %u sent; %u arrived in order", (unsigned)sent,
                         (unsigned)p->mq.next);
            return;
        }
        p->res.end_ok = true;
    } else {
        bp_peer_fail(p, "PUBLISH to an unexpected topic of %zu bytes", tl);
        return;
    }
    if (qos == 1 && !p->res.failed)
        puback(p, id);
}

static void on_packet(bp_peer_t *p, const uint8_t *pkt, size_t hlen, size_t len)
{
    uint8_t type = pkt[0] >> 4, flags = pkt[0] & 0x0Fu;
    const uint8_t *body = pkt + hlen;
    size_t blen = len - hlen;

    p->mq.packets++;
    if (p->mq.disconnected) {
        bp_peer_fail(p, "packet type %u after DISCONNECT (MQTT-3.14.4-1)", (unsigned)type);
        return;
    }
    if (type != 1 && !p->mq.connected) {
        bp_peer_fail(p, "packet type %u before CONNECT (MQTT-3.1.0-1)", (unsigned)type);
        return;
    }
    switch (type) {
    case 1:
        on_connect(p, flags, body, blen);
        break;
    case 3:
        on_publish(p, flags, body, blen);
        break;
    case 12: /* PINGREQ */
        if (flags != 0 || blen != 0) {
            bp_peer_fail(p, "malformed PINGREQ (MQTT-2.2.2-2)");
            return;
        }
        {
            static const uint8_t pingresp[2] = {0xD0, 0x00};
            bp_peer_mqtt_out(p, pingresp, 2);
        }
        break;
    case 14: /* DISCONNECT */
        if (flags != 0 || blen != 0) {
            bp_peer_fail(p, "malformed DISCONNECT (MQTT-3.14.1-1)");
            return;
        }
        p->mq.disconnected = true;
        break;
    default:
        bp_peer_fail(p, "unexpected packet: first byte 0x%02x, remaining length %zu",
                     (unsigned)pkt[0], blen);
        break;
    }
}

/* With the first bytes of a packet in m->pkt: its full length once the
 * remaining length is complete (0 = need more). Fails on a malformed one. */
static size_t frame_length(bp_peer_t *p, size_t *hlen)
{
    bp_mqtt_t *m = &p->mq;
    size_t i, rl = 0;

    for (i = 1; i < m->len && i <= 4; i++) {
        rl |= (size_t)(m->pkt[i] & 0x7Fu) << (7 * (i - 1));
        if ((m->pkt[i] & 0x80u) == 0) {
            /* the shortest form: a last byte of 0 only when it is the only one */
            if (i > 1 && m->pkt[i] == 0) {
                bp_peer_fail(p, "remaining length not in its shortest form");
                return 0;
            }
            *hlen = i + 1;
            if (rl + i + 1 > m->cap) {
                bp_peer_fail(p,
                             "packet (first byte 0x%02x) of %zu bytes, larger than any "
                             "message of the cell",
                             (unsigned)m->pkt[0], rl + i + 1);
                return 0;
            }
            return rl + i + 1;
        }
    }
    if (i > 4) {
        bp_peer_fail(p, "remaining length over 4 bytes (first byte 0x%02x)", (unsigned)m->pkt[0]);
    }
    return 0;
}

void bp_mqtt_in(bp_peer_t *p, const uint8_t *b, size_t n)
{
    bp_mqtt_t *m = &p->mq;
    size_t hlen = 0;

    while (n > 0 && !p->res.failed) {
        if (m->need == 0) {
            /* the fixed header, a byte at a time */
            m->pkt[m->len++] = *b++;
            n--;
            if (m->len >= 2)
                m->need = frame_length(p, &hlen);
            if (m->need != 0 && m->len == m->need) {
                on_packet(p, m->pkt, hlen, m->len);
                m->len = m->need = 0;
            }
            continue;
        }
        {
            size_t k = m->need - m->len;
            if (k > n)
                k = n;
            memcpy(m->pkt + m->len, b, k);
            m->len += k;
            b += k;
            n -= k;
            if (m->len == m->need) {
                size_t h = 2;
                while (h < 5 && (m->pkt[h - 1] & 0x80u) != 0)
                    h++;
                on_packet(p, m->pkt, h, m->len);
                m->len = m->need = 0;
            }
        }
    }
}
