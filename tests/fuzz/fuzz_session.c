/*
 * Drives the protocol engine (include/kmqtt/session.h) directly with a
 * script of operations taken from the input, so the fuzzer reaches what a
 * driver's loop would only reach by luck: server bytes in any split, events
 * pulled at any moment, tx taken in any amounts, publishes / subscribes /
 * unsubscribes / disconnects between them, the clock jumping (and wrapping),
 * connections lost and started again with records in the store, restored
 * records of any bytes, the 3.1.1 one-bit inbound table.
 *
 * Checked after every operation: no crash, no access outside the buffers
 * (ASan: each is its own exact allocation), the state one of four, in-flight
 * and store within bounds, every view an event hands out inside rx, and
 * everything the engine sends decodes (the codec's decoder) as a packet a
 * client may send: CONNECT first on each connection, nothing after
 * DISCONNECT, QoS > 0 PUBLISH with a packet id.
 *
 * Input: byte 0 = options (bit 0: 5.0; bit 1: persistent session; bit 2:
 * the 3.1.1 one-bit inbound table; bit 3: keepalive 0; bit 4: the 3.1.1
 * resend after 500 ms on the same connection; bit 5: topic aliases both
 * ways), then operations:
 * one byte each, op = b & 7, argument = b >> 3 (and for op 0 the bytes that
 * follow).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/session.h"

#define RX_SIZE    96
#define TX_SIZE    96
#define STORE_SIZE 192
#define INBOUND    3
#define REQUESTS   2
#define OUT_CAP    4096
#define ALIASES    2
#define ALIAS_LEN  8

static void check(int ok)
{
    if (!ok)
        abort();
}

typedef struct fz {
    kmqtt_session_config_t cfg;
    kmqtt_session_t s;
    uint8_t *rx, *tx, *store, *bits;
    uint16_t *inbound;
    kmqtt_session_request_t req[REQUESTS];
    uint8_t alias_in[ALIASES * KMQTT_SESSION_ALIAS_IN_SLOT(ALIAS_LEN)];
    uint8_t alias_out[ALIASES * KMQTT_SESSION_ALIAS_OUT_SLOT(ALIAS_LEN)];
    uint8_t out[OUT_CAP];
    size_t out_len;
    unsigned out_packets;
    bool out_disconnected;
} fz_t;

static bool in_rx(const fz_t *f, const void *p, size_t len)
{
    if (len == 0)
        return true;
    const uint8_t *b = p;
    return b != NULL && b >= f->rx && b + len <= f->rx + RX_SIZE;
}

/* Decodes the complete packets taken from tx on this connection. */
static void check_output(fz_t *f)
{
    kmqtt_version_t v = f->cfg.version == KMQTT_V5 ? KMQTT_V5 : KMQTT_V311;
    size_t off = 0;
    while (off < f->out_len) {
        kmqtt_packet_t p;
        size_t used = 0;
        kmqtt_err_t err = kmqtt_packet_decode(f->out + off, f->out_len - off, v, 0, &p, &used);
        if (err == KMQTT_NEED_MORE)
            break;
        check(err == KMQTT_OK);
        check(!f->out_disconnected);
        check((f->out_packets == 0) == (p.type == KMQTT_CONNECT));
        switch (p.type) {
        case KMQTT_PUBLISH:
            check(p.u.publish.qos == 0 || p.u.publish.packet_id != 0);
            break;
        case KMQTT_DISCONNECT:
            f->out_disconnected = true;
            break;
        case KMQTT_CONNECT:
        case KMQTT_PUBACK:
        case KMQTT_PUBREC:
        case KMQTT_PUBREL:
        case KMQTT_PUBCOMP:
        case KMQTT_SUBSCRIBE:
        case KMQTT_UNSUBSCRIBE:
        case KMQTT_PINGREQ:
        case KMQTT_AUTH:
            break;
        default:
            check(0); /* a server's packet */
        }
        f->out_packets++;
        off += used;
    }
    memmove(f->out, f->out + off, f->out_len - off);
    f->out_len -= off;
}

static void check_session(const fz_t *f)
{
    const kmqtt_session_t *s = &f->s;
    kmqtt_session_state_t st = kmqtt_session_state(s);
    check(st <= KMQTT_SESSION_ENDED);
    check(kmqtt_session_inflight(s) <= f->cfg.max_inflight);
    check(kmqtt_session_store_used(s) <= STORE_SIZE);
    if (kmqtt_session_inflight(s) == 0)
        check(kmqtt_session_store_used(s) == 0);
    check(s->rx_len <= RX_SIZE && s->rx_done <= s->rx_len);
    check(s->tx_start <= s->tx_len && s->tx_len <= TX_SIZE);
    check(s->inbound_count <= INBOUND);
}

static void take_tx(fz_t *f, size_t max, uint32_t now)
{
    const uint8_t *buf;
    size_t n = kmqtt_session_tx_peek(&f->s, &buf);
    if (n > max)
        n = max;
    if (n == 0)
        return;
    check(buf >= f->tx && buf + n <= f->tx + TX_SIZE);
    check(f->out_len + n <= OUT_CAP);
    memcpy(f->out + f->out_len, buf, n);
    f->out_len += n;
    kmqtt_session_tx_consume(&f->s, n, now);
    check_output(f);
}

/* The connection is over: what was sent must have been whole packets only
 * up to the last one taken; then back to IDLE. */
static void lose(fz_t *f)
{
    kmqtt_session_lost(&f->s);
    f->out_len = 0;
    f->out_packets = 0;
    f->out_disconnected = false;
}

static void pull(fz_t *f, uint32_t now)
{
    kmqtt_session_event_t ev;
    for (int i = 0; i < 64; i++) {
        kmqtt_err_t err = kmqtt_session_next_event(&f->s, now, &ev);
        if (err == KMQTT_NEED_MORE)
            return;
        if (err < 0) {
            check(kmqtt_session_state(&f->s) == KMQTT_SESSION_ENDED);
            take_tx(f, TX_SIZE, now); /* the 5.0 DISCONNECT, if queued */
            lose(f);
            return;
        }
        check(err == KMQTT_OK);
        check(ev.type >= KMQTT_SESSION_EV_CONNACK && ev.type <= KMQTT_SESSION_EV_DISCONNECT);
        check(in_rx(f, ev.props, ev.props_len));
        if (ev.type == KMQTT_SESSION_EV_MESSAGE) {
            /* the topic is in rx, or in an inbound alias slot */
            const uint8_t *t = (const uint8_t *)ev.msg.topic;
            check(ev.msg.topic_len > 0 &&
                  (in_rx(f, t, ev.msg.topic_len) ||
                   (t >= f->alias_in && t + ev.msg.topic_len <= f->alias_in + sizeof f->alias_in)));
            check(kmqtt_topic_name_validate(ev.msg.topic, ev.msg.topic_len) == KMQTT_OK);
            check(in_rx(f, ev.msg.payload, ev.msg.payload_len));
            check(in_rx(f, ev.msg.props, ev.msg.props_len));
            check((ev.msg.qos == 0) == (ev.msg.packet_id == 0));
        } else if (ev.type == KMQTT_SESSION_EV_SUBACK || ev.type == KMQTT_SESSION_EV_UNSUBACK) {
            check(in_rx(f, ev.codes, ev.count));
        } else if (ev.type == KMQTT_SESSION_EV_PUBLISHED) {
            check(ev.packet_id != 0);
        }
        if (kmqtt_session_state(&f->s) == KMQTT_SESSION_ENDED) {
            lose(f);
            return;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static fz_t f;
    memset(&f, 0, sizeof f);
    uint8_t opt = data[0];
    f.rx = malloc(RX_SIZE);
    f.tx = malloc(TX_SIZE);
    f.store = malloc(STORE_SIZE);
    f.inbound = malloc(INBOUND * sizeof *f.inbound);
    f.bits = malloc(KMQTT_SESSION_INBOUND_BITS_SIZE);
    check(f.rx && f.tx && f.store && f.inbound && f.bits);

    kmqtt_session_config_init(&f.cfg);
    f.cfg.client_id = "fz";
    f.cfg.version = (opt & 1) ? KMQTT_V5 : KMQTT_V311;
    f.cfg.clean_session = !(opt & 2);
    f.cfg.keepalive_s = (opt & 8) ? 0 : 3;
    f.cfg.max_inflight = 4;
    f.cfg.retry_ms = (opt & 16) ? 500u : 0u;
    bool bits = (opt & 4) && f.cfg.version == KMQTT_V311 && KMQTT_CFG_INBOUND_BITS;
    kmqtt_session_buffers_t b;
    memset(&b, 0, sizeof b);
    b.rx = f.rx;
    b.rx_size = RX_SIZE;
    b.tx = f.tx;
    b.tx_size = TX_SIZE;
    b.store = f.store;
    b.store_size = STORE_SIZE;
    b.inbound = f.inbound;
    b.inbound_max = INBOUND;
    b.inbound_bits = bits ? f.bits : NULL;
    b.requests = f.req;
    b.max_requests = REQUESTS;
#if KMQTT_CFG_V5 && KMQTT_CFG_TOPIC_ALIAS
    if (opt & 32) { /* topic aliases both ways, slots of 8 topic bytes */
        b.alias_in = f.alias_in;
        b.alias_in_max = ALIASES;
        b.alias_out = f.alias_out;
        b.alias_out_max = ALIASES;
        b.alias_topic_len = ALIAS_LEN;
    }
#endif
    check(kmqtt_session_init(&f.s, &f.cfg, &b) == KMQTT_OK);

    uint32_t now = 0xFFFFF000u; /* the clock wraps during the run */
    size_t i = 1;
    while (i < size) {
        uint8_t op = data[i] & 7u, arg = data[i] >> 3;
        i++;
        switch (op) {
        case 0: { /* server bytes: arg + 1 of them */
            size_t space, n = (size_t)arg + 1u;
            if (n > size - i)
                n = size - i;
            uint8_t *p = kmqtt_session_rx_space(&f.s, &space);
            check(p >= f.rx && p + space <= f.rx + RX_SIZE);
            if (n > space)
                n = space;
            if (kmqtt_session_state(&f.s) == KMQTT_SESSION_IDLE)
                break; /* nothing arrives without a connection */
            memcpy(p, data + i, n);
            kmqtt_session_rx_commit(&f.s, n, now);
            i += n;
            break;
        }
        case 1:
            pull(&f, now);
            break;
        case 2:
            take_tx(&f, (size_t)arg * 3u + 1u, now);
            break;
        case 3: { /* publish */
            kmqtt_session_msg_t m;
            memset(&m, 0, sizeof m);
            static const char *const topics[] = {"d/1", "d/22", "a-long-topic"};
            m.topic = topics[arg % 3u];
            m.topic_len = (uint16_t)strlen(m.topic);
            static const uint8_t payload[32] = {'p'};
            m.payload = payload;
            m.payload_len = arg;
            m.qos = (uint8_t)(arg % 3u);
            m.retain = arg & 8u;
            kmqtt_err_t err = kmqtt_session_publish(&f.s, &m, NULL);
            check(err == KMQTT_OK || err == KMQTT_ENOTCONN || err == KMQTT_ELIMIT ||
                  err == KMQTT_ENOBUFS || err == KMQTT_EUNSUPPORTED || err == KMQTT_ETOOBIG);
            break;
        }
        case 4: { /* subscribe / unsubscribe / disconnect */
            static const char *const filters[] = {"d/#", "$share/g/e/+"};
            kmqtt_session_sub_t sub[2] = {{"d/#", (uint8_t)(arg % 3u)}, {"$share/g/e/+", 1}};
            kmqtt_err_t err;
            if (arg & 16u)
                err = kmqtt_session_disconnect(&f.s, 0, NULL, 0);
            else if (arg & 8u)
                err = kmqtt_session_unsubscribe(&f.s, filters, 1u + (arg & 1u), NULL, 0, NULL);
            else
                err = kmqtt_session_subscribe(&f.s, sub, 1u + (arg & 1u), NULL, 0, NULL);
            check(err <= KMQTT_OK);
            break;
        }
        case 5: { /* time passes */
            uint32_t next;
            now += (uint32_t)arg * (uint32_t)arg * 40u;
            kmqtt_err_t err = kmqtt_session_tick(&f.s, now, &next);
            if (err != KMQTT_OK) {
                check(err == KMQTT_EKEEPALIVE);
                lose(&f);
            }
            break;
        }
        case 6: /* the connection drops; a new one starts (or the old goes on) */
            if (arg & 1u)
                lose(&f);
            if ((arg & 2u) && kmqtt_session_state(&f.s) == KMQTT_SESSION_IDLE) {
                check(kmqtt_session_clear(&f.s) == KMQTT_OK);
                pull(&f, now); /* every record reported, cancelled */
                check(kmqtt_session_inflight(&f.s) == 0);
            }
            if (kmqtt_session_state(&f.s) == KMQTT_SESSION_IDLE)
                check(kmqtt_session_start(&f.s, now) == KMQTT_OK);
            break;
        default: { /* restore a record made of input bytes */
            size_t n = arg;
            if (n > size - i)
                n = size - i;
            kmqtt_err_t err = kmqtt_session_restore(&f.s, (uint16_t)(arg + 1u), arg & 1u,
                                                    data + i, n);
            check(err <= KMQTT_OK);
            i += n;
            break;
        }
        }
        check_session(&f);
    }
    free(f.rx);
    free(f.tx);
    free(f.store);
    free(f.inbound);
    free(f.bits);
    return 0;
}
