/*
 * Feeds arbitrary server bytes to a nano client (include/kmqtt/nano.h)
 * through a scripted transport, for both protocol versions, either from the
 * very start (the bytes must begin with a CONNACK) or after a scripted
 * CONNACK, with QoS 1/2 messages and a SUBSCRIBE in flight so acks have
 * something to match. The connection may drop and come back (the transport
 * always opens again), so reconnect and resumption are reached too.
 *
 * Checked after every poll and inside every event: the client never crashes
 * or touches memory outside its buffers (ASan: each buffer is its own
 * exactly-sized allocation), its state is one of the four, the transport is
 * open exactly when CONNECTING or CONNECTED, in-flight and store use stay
 * within their bounds, every pointer an event hands out lies inside the
 * receive buffer, and what the client sends decodes as well-formed packets
 * a client may send, CONNECT first and nothing after DISCONNECT.
 *
 * Input: byte 0 = options (bit 0: 5.0; bit 1: scripted CONNACK first; bits
 * 2-4: bytes per recv, 0 = all; bit 5: persistent session; bit 6: the
 * socket takes nothing every other poll; bit 7: big clock steps), then the
 * server's bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/nano.h"

#define RX_SIZE    128
#define TX_SIZE    128
#define STORE_SIZE 256
#define OUT_CAP    16384

static void check(int ok)
{
    if (!ok)
        abort();
}

typedef struct fz {
    kmqtt_transport_t tp;
    bool open;
    const uint8_t *in;
    size_t in_len;
    size_t chunk;
    bool blocked;
    /* what the client sent on this connection, not yet decoded */
    uint8_t out[OUT_CAP];
    size_t out_len;
    unsigned out_packets;
    bool out_disconnected;
    kmqtt_nano_t c;
    kmqtt_nano_config_t cfg;
    uint8_t *rx, *tx, *store;
    int depth; /* events never nest */
    unsigned messages;
    uint32_t now;
} fz_t;

static kmqtt_err_t t_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    fz_t *f = ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    check(!f->open);
    f->open = true;
    f->out_len = 0;
    f->out_packets = 0;
    f->out_disconnected = false;
    return KMQTT_OK;
}

static long t_send(void *ctx, const void *buf, size_t len)
{
    fz_t *f = ctx;
    check(f->open && buf != NULL && len > 0 && len <= TX_SIZE);
    /* Reading every byte lets ASan see an overrun of tx. */
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + ((const uint8_t *)buf)[i]);
    (void)sum;
    if (f->blocked)
        return 0;
    size_t n = len > 7 ? len - 3 : len; /* sometimes short */
    check(f->out_len + n <= OUT_CAP);   /* drained by check_output after each call */
    memcpy(f->out + f->out_len, buf, n);
    f->out_len += n;
    return (long)n;
}

/* Decodes the complete packets the client sent since the last call. */
static void check_output(fz_t *f)
{
    kmqtt_version_t v = f->cfg.mqtt.version == KMQTT_V5 ? KMQTT_V5 : KMQTT_V311;
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
        case KMQTT_CONNECT:
            check(p.u.connect.version == v);
            break;
        case KMQTT_PUBLISH:
            check(p.u.publish.qos == 0 || p.u.publish.packet_id != 0);
            break;
        case KMQTT_PUBACK:
        case KMQTT_PUBREC:
        case KMQTT_PUBREL:
        case KMQTT_PUBCOMP:
        case KMQTT_SUBSCRIBE:
        case KMQTT_UNSUBSCRIBE:
        case KMQTT_PINGREQ:
        case KMQTT_AUTH:
            break;
        case KMQTT_DISCONNECT:
            f->out_disconnected = true;
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

static long t_recv(void *ctx, void *buf, size_t len)
{
    fz_t *f = ctx;
    check(f->open && buf != NULL && len > 0 && len <= RX_SIZE);
    size_t n = f->in_len;
    if (n == 0)
        return 0;
    if (f->chunk > 0 && n > f->chunk)
        n = f->chunk;
    if (n > len)
        n = len;
    memcpy(buf, f->in, n);
    f->in += n;
    f->in_len -= n;
    return (long)n;
}

static kmqtt_err_t t_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    fz_t *f = ctx;
    (void)timeout_ms;
    *ready = f->open && !f->blocked ? (events & KMQTT_WAIT_WRITE) : 0;
    return KMQTT_OK;
}

static void t_wake(void *ctx)
{
    (void)ctx;
}

static void check_output(fz_t *f);

static void t_close(void *ctx)
{
    fz_t *f = ctx;
    check_output(f); /* what this connection carried */
    f->open = false;
}

static void t_destroy(void *ctx)
{
    (void)ctx;
    abort();
}

static bool in_rx(const fz_t *f, const void *p, size_t len)
{
    if (len == 0)
        return true;
    const uint8_t *b = p;
    return b != NULL && b >= f->rx && b + len <= f->rx + RX_SIZE;
}

static void check_client(const fz_t *f)
{
    const kmqtt_nano_t *c = &f->c;
    kmqtt_nano_state_t s = kmqtt_nano_state(c);
    check(s == KMQTT_NANO_IDLE || s == KMQTT_NANO_WAITING || s == KMQTT_NANO_CONNECTING ||
          s == KMQTT_NANO_CONNECTED);
    check(f->open == (s == KMQTT_NANO_CONNECTING || s == KMQTT_NANO_CONNECTED));
    check(kmqtt_nano_inflight(c) <= f->cfg.mqtt.max_inflight);
    check(kmqtt_nano_store_used(c) <= STORE_SIZE);
    check(c->s.rx_len <= c->s.rx_size && c->s.rx_size == RX_SIZE);
    check(c->s.tx_start <= c->s.tx_size && c->s.tx_len <= c->s.tx_size);
    check(c->s.tx_start <= c->s.tx_len);
    check(c->s.inbound_count <= KMQTT_NANO_INBOUND_QOS2);
    if (kmqtt_nano_inflight(c) == 0)
        check(kmqtt_nano_store_used(c) == 0);
}

static void publish_some(fz_t *f, uint32_t now, uint8_t qos)
{
    kmqtt_nano_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "d/1";
    m.topic_len = 3;
    m.payload = (const uint8_t *)"payload";
    m.payload_len = 7;
    m.qos = qos;
    kmqtt_err_t err = kmqtt_nano_publish(&f->c, &m, now, NULL);
    check(err == KMQTT_OK || err == KMQTT_ENOTCONN || err == KMQTT_ELIMIT || err == KMQTT_ENOBUFS ||
          err == KMQTT_EUNSUPPORTED || err == KMQTT_ETOOBIG);
}

static void on_event(void *user, const kmqtt_nano_event_t *ev)
{
    fz_t *f = user;
    check(ev != NULL && f->depth == 0);
    f->depth++;
    check((ev->type >= KMQTT_NANO_EV_CONNECTED && ev->type <= KMQTT_NANO_EV_AUTH) ||
          ev->type == KMQTT_NANO_EV_CONNECT_FAILED || ev->type == KMQTT_NANO_EV_LOST);
    check(in_rx(f, ev->props, ev->props_len));
    switch (ev->type) {
    case KMQTT_NANO_EV_CONNECT_FAILED:
    case KMQTT_NANO_EV_LOST:
        check(ev->err < 0);
        break;
    case KMQTT_NANO_EV_MESSAGE: {
        const kmqtt_nano_msg_t *m = ev->msg;
        check(m != NULL && m->qos <= 2);
        check(m->topic_len > 0 && in_rx(f, m->topic, m->topic_len));
        check(kmqtt_topic_name_validate(m->topic, m->topic_len) == KMQTT_OK);
        check(in_rx(f, m->payload, m->payload_len));
        check(in_rx(f, m->props, m->props_len));
        check((m->qos == 0) == (m->packet_id == 0));
        /* Answer from inside the callback now and then. */
        if (++f->messages % 3 == 0)
            publish_some(f, f->now, (uint8_t)(f->messages % 2 + 1));
        break;
    }
    case KMQTT_NANO_EV_SUBACK:
    case KMQTT_NANO_EV_UNSUBACK:
        check(in_rx(f, ev->codes, ev->count));
        break;
    case KMQTT_NANO_EV_PUBLISHED:
        check(ev->packet_id != 0);
        break;
    default:
        break;
    }
    f->depth--;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static fz_t f;
    memset(&f, 0, sizeof f);
    uint8_t opt = data[0];
    f.in = data + 1;
    f.in_len = size - 1;
    f.chunk = (opt >> 2) & 7;
    f.tp.ctx = &f;
    f.tp.open = t_open;
    f.tp.send = t_send;
    f.tp.recv = t_recv;
    f.tp.wait = t_wait;
    f.tp.wake = t_wake;
    f.tp.close = t_close;
    f.tp.destroy = t_destroy;
    f.rx = malloc(RX_SIZE);
    f.tx = malloc(TX_SIZE);
    f.store = malloc(STORE_SIZE);
    check(f.rx && f.tx && f.store);

    kmqtt_nano_config_init(&f.cfg);
    f.cfg.transport = &f.tp;
    f.cfg.host = "fuzz";
    f.cfg.port = 1883;
    f.cfg.mqtt.client_id = "fz";
    f.cfg.mqtt.version = (opt & 1) ? KMQTT_V5 : KMQTT_V311;
    f.cfg.mqtt.clean_session = !(opt & 0x20);
    f.cfg.mqtt.keepalive_s = 5;
    f.cfg.mqtt.ping_timeout_ms = 2000;
    f.cfg.connect_timeout_ms = 3000;
    f.cfg.reconnect_min_ms = 100;
    f.cfg.reconnect_max_ms = 400;
    f.cfg.mqtt.max_inflight = 4;
    f.cfg.on_event = on_event;
    f.cfg.user = &f;
    kmqtt_nano_buffers_t b = {f.rx, RX_SIZE, f.tx, TX_SIZE, f.store, STORE_SIZE};
    check(kmqtt_nano_init(&f.c, &f.cfg, &b) == KMQTT_OK);

    uint32_t now = 0xFFFFF000u; /* the clock wraps during the run */
    check(kmqtt_nano_connect(&f.c, now) == KMQTT_OK);
    if (opt & 2) {
        /* A scripted CONNACK first, then the fuzzer's bytes. */
        static const uint8_t ack311[] = {0x20, 0x02, 0x00, 0x00};
        static const uint8_t ack5[] = {0x20, 0x03, 0x00, 0x00, 0x00};
        const uint8_t *rest = f.in;
        size_t rest_len = f.in_len;
        f.in = (opt & 1) ? ack5 : ack311;
        f.in_len = (opt & 1) ? sizeof ack5 : sizeof ack311;
        size_t chunk = f.chunk;
        f.chunk = 0;
        check(kmqtt_nano_poll(&f.c, now, NULL) == KMQTT_OK);
        check(kmqtt_nano_state(&f.c) == KMQTT_NANO_CONNECTED);
        check_output(&f);
        f.chunk = chunk;
        f.in = rest;
        f.in_len = rest_len;
        publish_some(&f, now, 1);
        publish_some(&f, now, 2);
        publish_some(&f, now, 0);
        kmqtt_nano_sub_t sub = {"d/#", 2};
        kmqtt_err_t err = kmqtt_nano_subscribe(&f.c, &sub, 1, NULL, 0, now, NULL);
        check(err == KMQTT_OK || err == KMQTT_ENOBUFS || err == KMQTT_ELIMIT);
    }
    check_client(&f);

    for (unsigned round = 0; round < 4096 && (f.in_len > 0 || round < 8); round++) {
        f.blocked = (opt & 0x40) && (round & 1);
        uint32_t next = 0;
        f.now = now;
        check(kmqtt_nano_poll(&f.c, now, &next) == KMQTT_OK);
        check_client(&f);
        check_output(&f);
        if (kmqtt_nano_state(&f.c) == KMQTT_NANO_IDLE)
            check(next == UINT32_MAX);
        if (round % 16 == 5)
            publish_some(&f, now, (uint8_t)(round % 3));
        now += (opt & 0x80) ? 1500u : 37u;
    }
    f.blocked = false;
    kmqtt_err_t err = kmqtt_nano_disconnect(&f.c, 0, 0);
    check(err == KMQTT_OK || err == KMQTT_ETIMEDOUT);
    check_output(&f);
    check(!f.open && kmqtt_nano_state(&f.c) == KMQTT_NANO_IDLE);
    check_client(&f);
    free(f.rx);
    free(f.tx);
    free(f.store);
    return 0;
}
