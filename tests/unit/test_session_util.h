/*
 * Shared by the session tests: a session over static storage, a fake clock,
 * a scripted broker (bytes fed in as hex or encoded with the codec) and
 * checks on the bytes the session queues for sending.
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

#include "hex.h"
#include "client/legacy_session.h"

#define TS_STORAGE 16384

typedef struct ts {
    legacy_session_t s;
    legacy_session_config_t cfg;
    uint64_t now;
    uint64_t storage[TS_STORAGE / 8];
    uint8_t sent[4096]; /* last bytes taken from tx */
    size_t sent_len;
} ts_t;

static inline legacy_session_config_t ts_config(kmqtt_version_t v)
{
    legacy_session_config_t c;
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

static inline ts_t *ts_new_cfg(const legacy_session_config_t *cfg)
{
    ts_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->cfg = *cfg;
    t->now = 1000;
    assert_true(legacy_session_storage_size(cfg) <= sizeof t->storage);
    assert_int_equal(legacy_session_init(&t->s, cfg, t->storage, sizeof t->storage), KMQTT_OK);
    return t;
}

static inline ts_t *ts_new(kmqtt_version_t v)
{
    legacy_session_config_t c = ts_config(v);
    return ts_new_cfg(&c);
}

/* ------------------------------------------------------------- receiving */

static inline void ts_feed(ts_t *t, const uint8_t *bytes, size_t n)
{
    while (n > 0) {
        uint8_t *buf;
        size_t space;
        legacy_session_rx_space(&t->s, &buf, &space);
        assert_true(space > 0);
        size_t k = n < space ? n : space;
        memcpy(buf, bytes, k);
        legacy_session_rx_commit(&t->s, k, t->now);
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

static inline legacy_event_t ts_event(ts_t *t, legacy_event_type_t want)
{
    legacy_event_t ev;
    assert_int_equal(legacy_session_next_event(&t->s, t->now, &ev), KMQTT_OK);
    if (ev.type != want)
        fail_msg("event %d, expected %d", (int)ev.type, (int)want);
    return ev;
}

static inline void ts_no_event(ts_t *t)
{
    legacy_event_t ev;
    assert_int_equal(legacy_session_next_event(&t->s, t->now, &ev), KMQTT_NEED_MORE);
}

static inline kmqtt_err_t ts_next_err(ts_t *t)
{
    legacy_event_t ev;
    return legacy_session_next_event(&t->s, t->now, &ev);
}

/* ---------------------------------------------------------------- sending */

/* Takes everything queued for sending into t->sent, as a socket would. */
static inline size_t ts_take(ts_t *t)
{
    const uint8_t *buf;
    size_t n = legacy_session_tx_peek(&t->s, &buf);
    assert_true(n <= sizeof t->sent);
    memcpy(t->sent, buf, n);
    t->sent_len = n;
    legacy_session_tx_consume(&t->s, n, t->now);
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
    assert_int_equal(legacy_session_tx_peek(&t->s, &buf), 0);
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
    assert_int_equal(legacy_session_start(&t->s, &c, t->now), KMQTT_OK);
    ts_take(t);
    if (t->cfg.version == KMQTT_V5)
        ts_feed_hex(t, session_present ? "20 03 01 00 00" : "20 03 00 00 00");
    else
        ts_feed_hex(t, session_present ? "20 02 01 00" : "20 02 00 00");
    legacy_event_t ev = ts_event(t, LEGACY_EV_CONNACK);
    assert_int_equal(ev.reason_code, 0);
    assert_int_equal(ev.session_present, session_present);
    assert_int_equal(legacy_session_state(&t->s), LEGACY_SESSION_CONNECTED);
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
    assert_int_equal(legacy_session_publish(&t->s, &m, t->now, &id), KMQTT_OK);
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
