/*
 * Shared by the session tests (test_session*.c): the one engine
 * (include/kmqtt/session.h) over static buffers, a fake clock, a scripted
 * broker (bytes fed in as hex or encoded with the codec) and checks on the
 * bytes the engine queues for sending. These tests were written against the
 * threaded client's old session and moved to the engine in issue #15: the
 * helpers below take the codec's forms those tests build (kmqtt_connect_t,
 * kmqtt_publish_t, kmqtt_subscribe_t, property lists) and hand the engine
 * its own (configuration, raw property blocks), as the threaded client's
 * seam (src/client/client_session.c) does.
 *
 * Include after cmocka.h. Everything is static inline so a test file that
 * uses only part of it still builds with -Werror.
 *
 * Bytes used throughout (3.1.1 unless named v5), topic "a/b", payload "hi":
 *   CONNECT  10 0d 00 04 4d 51 54 54 04 02 00 00 00 01 63   (client id "c")
 *   PUBLISH  30 07 00 03 61 2f 62 68 69                      (QoS 0)
 *            32 09 00 03 61 2f 62 00 01 68 69                (QoS 1, id 1)
 *   PUBACK   40 02 00 01   PUBREC 50 02 ..   PUBREL 62 02 ..   PUBCOMP 70 02 ..
 */
#ifndef KMQTT_TEST_SESSION_UTIL_H
#define KMQTT_TEST_SESSION_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "codec/codec_internal.h" /* kmqtt_props_block_size, kmqtt_props_write */
#include "hex.h"
#include "kmqtt/session.h"

/* What a test sizes: the old session's knobs, mapped onto the engine's
 * configuration and buffers by ts_new_cfg. */
typedef struct ts_cfg {
    kmqtt_version_t version;
    uint16_t keepalive_s;
    uint16_t max_inflight;
    uint16_t max_inbound_qos2; /* 0: 3.1.1's bitmap */
    uint16_t max_pending;
    size_t rx_buffer_size;
    size_t tx_buffer_size;
    size_t store_size;
    uint32_t retry_ms;
    uint16_t topic_alias_max;
    uint16_t topic_alias_out;
    uint16_t alias_topic_len;
} ts_cfg_t;

#define TS_BUF 4096

typedef struct ts {
    kmqtt_session_t s;
    ts_cfg_t cfg;
    kmqtt_session_config_t k;
    kmqtt_session_buffers_t b;
    uint32_t now;
    uint8_t rx[TS_BUF], tx[TS_BUF], store[2 * TS_BUF];
    uint16_t inbound[256];
    uint8_t bits[KMQTT_SESSION_INBOUND_BITS_SIZE];
    kmqtt_session_request_t req[8];
    uint8_t alias_in[2048], alias_out[2048];
    char client_id[128];
    uint8_t cprops[512], wprops[256], pbuf[TS_BUF];
    uint8_t sent[TS_BUF]; /* last bytes taken from tx */
    size_t sent_len;
} ts_t;

static inline ts_cfg_t ts_config(kmqtt_version_t v)
{
    ts_cfg_t c;
    memset(&c, 0, sizeof c);
    c.version = v;
    c.keepalive_s = 0;
    c.max_inflight = 4;
    c.max_inbound_qos2 = 4;
    c.max_pending = 4;
    c.rx_buffer_size = 256;
    c.tx_buffer_size = 256;
    c.store_size = 512;
    c.retry_ms = 0;
    return c;
}

/* Sets up t's engine for cfg; returns what kmqtt_session_init said. */
static inline kmqtt_err_t ts_init(ts_t *t, const ts_cfg_t *cfg)
{
    t->cfg = *cfg;
    kmqtt_session_config_init(&t->k);
    t->k.version = (uint8_t)cfg->version;
    t->k.keepalive_s = cfg->keepalive_s;
    t->k.max_inflight = (uint8_t)cfg->max_inflight;
    t->k.retry_ms = cfg->retry_ms;
    t->k.client_id = "c";
    t->k.pipeline = false; /* the classic order; test_engine_pipeline.c has the first flight */
    memset(&t->b, 0, sizeof t->b);
    t->b.rx = t->rx;
    t->b.rx_size = cfg->rx_buffer_size;
    t->b.tx = t->tx;
    t->b.tx_size = cfg->tx_buffer_size;
    t->b.store = cfg->store_size != 0 ? t->store : NULL;
    t->b.store_size = cfg->store_size;
    t->b.inbound = cfg->max_inbound_qos2 != 0 ? t->inbound : NULL;
    t->b.inbound_max = cfg->max_inbound_qos2;
    if (cfg->max_inbound_qos2 == 0)
        t->b.inbound_bits = t->bits;
    t->b.requests = t->req;
    t->b.max_requests = (uint8_t)cfg->max_pending;
    if (cfg->topic_alias_max != 0 || cfg->topic_alias_out != 0) {
        t->b.alias_topic_len = cfg->alias_topic_len;
        t->b.alias_in = t->alias_in;
        t->b.alias_in_max = cfg->topic_alias_max;
        t->b.alias_out = t->alias_out;
        t->b.alias_out_max = cfg->topic_alias_out;
    }
    t->now = 1000;
    return kmqtt_session_init(&t->s, &t->k, &t->b);
}

static inline ts_t *ts_new_cfg(const ts_cfg_t *cfg)
{
    ts_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    assert_int_equal(ts_init(t, cfg), KMQTT_OK);
    return t;
}

static inline ts_t *ts_new(kmqtt_version_t v)
{
    ts_cfg_t c = ts_config(v);
    return ts_new_cfg(&c);
}

/* The raw form (no length prefix) of a property list, into out. */
static inline size_t ts_raw_props(const kmqtt_props_t *p, unsigned where, uint8_t *out, size_t cap)
{
    size_t n, pre;
    wr_t w;
    if (p == NULL || (p->items == NULL && p->raw == NULL))
        return 0;
    assert_int_equal(kmqtt_props_block_size(p, where, &n), KMQTT_OK);
    assert_true(n + 4 <= cap);
    w.p = out;
    w.end = out + cap;
    w.overflow = false;
    kmqtt_props_write(&w, p, n);
    pre = (size_t)(w.p - out) - n;
    memmove(out, out + pre, n);
    return n;
}

/* ------------------------------------------------------------- receiving */

static inline void ts_feed(ts_t *t, const uint8_t *bytes, size_t n)
{
    while (n > 0) {
        size_t space;
        uint8_t *buf = kmqtt_session_rx_space(&t->s, &space);
        assert_true(space > 0);
        size_t k = n < space ? n : space;
        memcpy(buf, bytes, k);
        kmqtt_session_rx_commit(&t->s, k, t->now);
        bytes += k;
        n -= k;
    }
}

static inline void ts_feed_hex(ts_t *t, const char *hex)
{
    uint8_t b[1024];
    size_t n = hex_decode(hex, b, sizeof b);
    ts_feed(t, b, n);
}

static inline void ts_feed_packet(ts_t *t, const kmqtt_packet_t *p)
{
    uint8_t b[1024];
    size_t n;
    assert_int_equal(kmqtt_packet_encode(p, t->cfg.version, b, sizeof b, &n), KMQTT_OK);
    ts_feed(t, b, n);
}

static inline kmqtt_session_event_t ts_event(ts_t *t, kmqtt_session_event_type_t want)
{
    kmqtt_session_event_t ev;
    assert_int_equal(kmqtt_session_next_event(&t->s, t->now, &ev), KMQTT_OK);
    if (ev.type != want)
        fail_msg("event %d, expected %d", (int)ev.type, (int)want);
    return ev;
}

static inline void ts_no_event(ts_t *t)
{
    kmqtt_session_event_t ev;
    assert_int_equal(kmqtt_session_next_event(&t->s, t->now, &ev), KMQTT_NEED_MORE);
}

static inline kmqtt_err_t ts_next_err(ts_t *t)
{
    kmqtt_session_event_t ev;
    return kmqtt_session_next_event(&t->s, t->now, &ev);
}

/* ---------------------------------------------------------------- sending */

/* Takes everything queued for sending into t->sent, as a socket would. */
static inline size_t ts_take(ts_t *t)
{
    const uint8_t *buf;
    size_t n = kmqtt_session_tx_peek(&t->s, &buf);
    assert_true(n <= sizeof t->sent);
    memcpy(t->sent, buf, n);
    t->sent_len = n;
    kmqtt_session_tx_consume(&t->s, n, t->now);
    return n;
}

static inline void ts_expect_sent(ts_t *t, const char *hex)
{
    uint8_t want[1024];
    size_t n = hex_decode(hex, want, sizeof want);
    ts_take(t);
    if (t->sent_len != n || memcmp(t->sent, want, n) != 0) {
        char got[3 * 512 + 8];
        strncpy(got, hex_format(t->sent, t->sent_len), sizeof got - 1);
        got[sizeof got - 1] = '\0';
        fail_msg("sent  %s\nwanted %s", got, hex_format(want, n));
    }
}

static inline void ts_expect_nothing_sent(ts_t *t)
{
    const uint8_t *buf;
    assert_int_equal(kmqtt_session_tx_peek(&t->s, &buf), 0);
}

/* Decodes the packets taken by ts_take, in order; returns how many. */
static inline size_t ts_sent_packets(ts_t *t, kmqtt_packet_t *out, size_t max)
{
    size_t off = 0, k = 0;
    while (off < t->sent_len && k < max) {
        size_t used;
        assert_int_equal(kmqtt_packet_decode(t->sent + off, t->sent_len - off, t->cfg.version, 0,
                                             &out[k], &used),
                         KMQTT_OK);
        off += used;
        k++;
    }
    assert_int_equal(off, t->sent_len);
    return k;
}

/* ------------------------------------------------------------- requests */

/* Starts a connection with m's fields as the CONNECT's (the engine takes
 * them from its configuration: set here, before kmqtt_session_start). */
static inline kmqtt_err_t ts_start(ts_t *t, const kmqtt_connect_t *m)
{
    assert_true(m->client_id.len < sizeof t->client_id);
    memcpy(t->client_id, m->client_id.ptr, m->client_id.len);
    t->client_id[m->client_id.len] = '\0';
    t->k.client_id = t->client_id;
    t->k.clean_session = m->clean_start;
    t->k.connect_props_len = ts_raw_props(&m->props, KMQTT_CONNECT, t->cprops, sizeof t->cprops);
    t->k.connect_props = t->k.connect_props_len != 0 ? t->cprops : NULL;
    return kmqtt_session_start(&t->s, t->now);
}

static inline kmqtt_err_t ts_pub(ts_t *t, const kmqtt_publish_t *m, uint16_t *id)
{
    kmqtt_session_msg_t e;
    memset(&e, 0, sizeof e);
    e.topic = m->topic.ptr;
    e.topic_len = (uint16_t)m->topic.len;
    e.qos = m->qos;
    e.retain = m->retain;
    e.payload = m->payload.ptr;
    e.payload_len = m->payload.len;
    if (t->cfg.version == KMQTT_V5) {
        e.props_len = ts_raw_props(&m->props, KMQTT_PUBLISH, t->pbuf, sizeof t->pbuf);
        e.props = e.props_len != 0 ? t->pbuf : NULL;
    }
    return kmqtt_session_publish(&t->s, &e, id);
}

static inline kmqtt_err_t ts_sub(ts_t *t, const kmqtt_subscribe_t *p, bool subscribe, uint16_t *id)
{
    kmqtt_session_sub_t subs[16];
    const char *filters[16];
    char names[16][64];
    size_t i, n = 0;
    assert_true(p->count <= 16);
    for (i = 0; i < p->count; i++) {
        const kmqtt_subscription_t *s = &p->items[i];
        assert_true(s->filter.len < 64);
        memcpy(names[i], s->filter.ptr, s->filter.len);
        names[i][s->filter.len] = '\0';
        filters[i] = names[i];
        subs[i].filter = names[i];
        subs[i].options =
            (uint8_t)(s->qos | (s->no_local ? 4u : 0u) | (s->retain_as_published ? 8u : 0u) |
                      (unsigned)(s->retain_handling << 4));
    }
    if (t->cfg.version == KMQTT_V5)
        n = ts_raw_props(&p->props, subscribe ? KMQTT_SUBSCRIBE : KMQTT_UNSUBSCRIBE, t->pbuf,
                         sizeof t->pbuf);
    if (subscribe)
        return kmqtt_session_subscribe(&t->s, subs, p->count, n ? t->pbuf : NULL, n, id);
    return kmqtt_session_unsubscribe(&t->s, filters, p->count, n ? t->pbuf : NULL, n, id);
}

static inline kmqtt_err_t ts_auth(ts_t *t, uint8_t reason, const kmqtt_props_t *p)
{
    size_t n = ts_raw_props(p, KMQTT_AUTH, t->pbuf, sizeof t->pbuf);
    return kmqtt_session_auth(&t->s, reason, n ? t->pbuf : NULL, n);
}

static inline kmqtt_err_t ts_disc(ts_t *t, uint8_t reason, const kmqtt_props_t *p)
{
    size_t n =
        t->cfg.version == KMQTT_V5 ? ts_raw_props(p, KMQTT_DISCONNECT, t->pbuf, sizeof t->pbuf) : 0;
    return kmqtt_session_disconnect(&t->s, reason, n ? t->pbuf : NULL, n);
}

/* kmqtt_session_tick at t->now; *next the absolute time it wants again
 * (UINT64_MAX: never). */
static inline kmqtt_err_t ts_tick(ts_t *t, uint64_t *next)
{
    uint32_t in = UINT32_MAX;
    kmqtt_err_t err = kmqtt_session_tick(&t->s, t->now, &in);
    *next = in == UINT32_MAX ? UINT64_MAX : (uint64_t)t->now + in;
    return err;
}

/* -------------------------------------------------------------- scenarios */

static inline kmqtt_connect_t ts_connect_msg(bool clean)
{
    kmqtt_connect_t c;
    memset(&c, 0, sizeof c);
    c.clean_start = clean;
    c.client_id.ptr = "c";
    c.client_id.len = 1;
    return c;
}

/* start, send CONNECT, CONNACK accepted with session_present. */
static inline void ts_connect(ts_t *t, bool clean, bool session_present)
{
    kmqtt_connect_t c = ts_connect_msg(clean);
    assert_int_equal(ts_start(t, &c), KMQTT_OK);
    ts_take(t);
    if (t->cfg.version == KMQTT_V5)
        ts_feed_hex(t, session_present ? "20 03 01 00 00" : "20 03 00 00 00");
    else
        ts_feed_hex(t, session_present ? "20 02 01 00" : "20 02 00 00");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_CONNACK);
    assert_int_equal(ev.reason_code, 0);
    assert_int_equal(ev.session_present, session_present);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTED);
}

static inline kmqtt_publish_t ts_msg(uint8_t qos)
{
    kmqtt_publish_t m;
    memset(&m, 0, sizeof m);
    m.topic.ptr = "a/b";
    m.topic.len = 3;
    m.payload.ptr = (const uint8_t *)"hi";
    m.payload.len = 2;
    m.qos = qos;
    return m;
}

static inline uint16_t ts_publish(ts_t *t, uint8_t qos)
{
    kmqtt_publish_t m = ts_msg(qos);
    uint16_t id = 0xFFFF;
    assert_int_equal(ts_pub(t, &m, &id), KMQTT_OK);
    return id;
}

static inline void ts_feed_ack(ts_t *t, kmqtt_packet_type_t type, uint16_t id, uint8_t reason)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.u.ack.packet_id = id;
    p.u.ack.reason_code = reason;
    ts_feed_packet(t, &p);
}

static inline void ts_feed_publish(ts_t *t, uint8_t qos, uint16_t id, bool dup)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish = ts_msg(qos);
    p.u.publish.packet_id = id;
    p.u.publish.dup = dup;
    ts_feed_packet(t, &p);
}

#endif
