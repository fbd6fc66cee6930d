/*
 * Messages larger than the receive buffer, handed over in pieces (issue
 * #19): MESSAGE_BEGIN with the topic and properties, CHUNKs in order, END,
 * the QoS 1/2 answer only after END, ABORT when the connection is lost in
 * between, and the refusals that stay (over max_packet_size; a topic and
 * properties larger than rx). Scripted bytes, split at every byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

#define RX    32u   /* the receive buffer */
#define BIG   300u  /* a payload ten times its size */
#define LIMIT 4096u /* the application's largest packet */

/* t connected with rx RX and streaming up to max (0: off). */
static ts_t *stream_new(kmqtt_version_t v, uint32_t max, bool clean)
{
    ts_cfg_t c = ts_config(v);
    c.rx_buffer_size = RX;
    ts_t *t = ts_new_cfg(&c);
    t->k.max_packet_size = max;
    assert_int_equal(kmqtt_session_init(&t->s, &t->k, &t->b), KMQTT_OK);
    ts_connect(t, clean, false);
    return t;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31u + seed);
}

/* A PUBLISH on "fw/img" of payload (5.0: with a User Property "k"="v"),
 * encoded into out; returns its bytes. */
static size_t encode_pub(ts_t *t, uint8_t qos, uint16_t id, bool dup, const uint8_t *payload,
                         size_t len, uint8_t *out, size_t cap)
{
    kmqtt_packet_t p;
    kmqtt_prop_t up;
    size_t n;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish.topic.ptr = "fw/img";
    p.u.publish.topic.len = 6;
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.dup = dup;
    p.u.publish.payload.ptr = payload;
    p.u.publish.payload.len = len;
    if (t->cfg.version == KMQTT_V5) {
        memset(&up, 0, sizeof up);
        up.id = KMQTT_PROP_USER_PROPERTY;
        up.str.ptr = "k";
        up.str.len = 1;
        up.value.ptr = "v";
        up.value.len = 1;
        p.u.publish.props.items = &up;
        p.u.publish.props.count = 1;
    }
    assert_int_equal(kmqtt_packet_encode(&p, t->cfg.version, out, cap, &n), KMQTT_OK);
    return n;
}

/* What the application saw of one message. */
typedef struct got {
    unsigned begins, ends, aborts, wholes;
    uint8_t payload[3 * BIG];
    size_t len, total, base; /* base: where the current message starts */
    bool acked_early;        /* an answer was queued before END */
    bool props_seen;         /* 5.0: BEGIN carried the User Property */
} got_t;

/* Pulls every event, checking pieces arrive in order and that nothing is
 * answered before END. */
static void pull(ts_t *t, got_t *g)
{
    kmqtt_session_event_t ev;
    const uint8_t *buf;
    while (kmqtt_session_next_event(&t->s, t->now, &ev) == KMQTT_OK) {
        switch (ev.type) {
        case KMQTT_SESSION_EV_MESSAGE_BEGIN:
            g->begins++;
            assert_int_equal(ev.msg.topic_len, 6);
            assert_memory_equal(ev.msg.topic, "fw/img", 6);
            assert_null(ev.msg.payload);
            g->total = ev.total;
            g->base = g->len;
            assert_int_equal(ev.msg.payload_len, ev.total);
            g->props_seen = ev.msg.props_len == 7 && ev.msg.props[0] == KMQTT_PROP_USER_PROPERTY;
            if (kmqtt_session_tx_peek(&t->s, &buf) != 0)
                g->acked_early = true;
            break;
        case KMQTT_SESSION_EV_MESSAGE_CHUNK:
            assert_int_equal(g->begins, g->ends + g->aborts + 1);
            assert_int_equal(ev.offset, g->len - g->base); /* in order, no gap */
            assert_int_equal(ev.total, g->total);
            assert_true(ev.msg.payload_len > 0);
            assert_true(g->len + ev.msg.payload_len <= sizeof g->payload);
            memcpy(g->payload + g->len, ev.msg.payload, ev.msg.payload_len);
            g->len += ev.msg.payload_len;
            if (kmqtt_session_tx_peek(&t->s, &buf) != 0)
                g->acked_early = true;
            break;
        case KMQTT_SESSION_EV_MESSAGE_END:
            assert_int_equal(g->len - g->base, g->total);
            assert_int_equal(ev.total, g->total);
            g->ends++;
            break;
        case KMQTT_SESSION_EV_MESSAGE_ABORT:
            assert_int_equal(ev.offset, g->len - g->base);
            g->aborts++;
            break;
        case KMQTT_SESSION_EV_MESSAGE:
            g->wholes++;
            assert_true(g->len + ev.msg.payload_len <= sizeof g->payload);
            if (ev.msg.payload_len != 0)
                memcpy(g->payload + g->len, ev.msg.payload, ev.msg.payload_len);
            g->len += ev.msg.payload_len;
            break;
        default:
            fail_msg("unexpected event %d", (int)ev.type);
        }
    }
}

/* Feeds bytes at most step at a time (and never more than rx takes),
 * pulling events after each. */
static void feed_steps(ts_t *t, const uint8_t *bytes, size_t n, size_t step, got_t *g)
{
    while (n > 0) {
        size_t space;
        uint8_t *dst = kmqtt_session_rx_space(&t->s, &space);
        size_t k = n < space ? n : space;
        if (k > step)
            k = step;
        assert_true(k > 0);
        memcpy(dst, bytes, k);
        kmqtt_session_rx_commit(&t->s, k, t->now);
        bytes += k;
        n -= k;
        pull(t, g);
    }
}

static void expect_ack(ts_t *t, uint8_t qos, uint16_t id)
{
    char want[32];
    if (qos == 0) {
        ts_expect_nothing_sent(t);
        return;
    }
    snprintf(want, sizeof want, "%02x 02 %02x %02x", qos == 1 ? 0x40 : 0x50, id >> 8, id & 0xFF);
    ts_expect_sent(t, want);
}

/* One message of BIG bytes, fed in steps of every size from 1 to the whole
 * packet: every chunk boundary falls at every byte of it. */
static void every_boundary(kmqtt_version_t v)
{
    uint8_t payload[BIG], pkt[BIG + 64];
    fill(payload, sizeof payload, 7);
    for (uint8_t qos = 0; qos <= 2; qos++) {
        ts_t *t = stream_new(v, LIMIT, true);
        size_t n = encode_pub(t, qos, 9, false, payload, sizeof payload, pkt, sizeof pkt);
        for (size_t step = 1; step <= n; step++) {
            got_t g;
            memset(&g, 0, sizeof g);
            /* A distinct id each time, so QoS 2 delivers each (MQTT-4.3.3-2). */
            uint16_t id = (uint16_t)(step + 1);
            encode_pub(t, qos, id, false, payload, sizeof payload, pkt, sizeof pkt);
            feed_steps(t, pkt, n, step, &g);
            assert_int_equal(g.begins, 1);
            assert_int_equal(g.ends, 1);
            assert_int_equal(g.wholes, 0);
            assert_false(g.acked_early);
            assert_int_equal(g.total, BIG);
            assert_memory_equal(g.payload, payload, BIG);
            if (v == KMQTT_V5)
                assert_true(g.props_seen);
            /* MQTT-4.3.2-4 / MQTT-4.3.3-9: answered once the message was taken. */
            expect_ack(t, qos, id);
            if (qos == 2) {
                ts_feed_ack(t, KMQTT_PUBREL, id, 0);
                ts_no_event(t);
                ts_take(t); /* PUBCOMP */
            }
        }
        free(t);
    }
}

static void pieces_at_every_boundary_v311(void **state)
{
    (void)state;
    every_boundary(KMQTT_V311);
}

static void pieces_at_every_boundary_v5(void **state)
{
    (void)state;
    every_boundary(KMQTT_V5);
}

/* A message that fits rx still comes whole, as does an empty payload. */
static void small_and_empty_messages_come_whole(void **state)
{
    (void)state;
    uint8_t pkt[64];
    for (int v = 0; v < 2; v++) {
        ts_t *t = stream_new(v ? KMQTT_V5 : KMQTT_V311, LIMIT, true);
        got_t g;
        memset(&g, 0, sizeof g);
        size_t n = encode_pub(t, 1, 3, false, NULL, 0, pkt, sizeof pkt);
        feed_steps(t, pkt, n, 1, &g);
        assert_int_equal(g.wholes, 1);
        assert_int_equal(g.begins, 0);
        assert_int_equal(g.len, 0);
        expect_ack(t, 1, 3);
        free(t);
    }
}

/* Two pieces messages and a small one back to back in one stream of bytes. */
static void messages_in_pieces_back_to_back(void **state)
{
    (void)state;
    uint8_t a[BIG], b[BIG - 1], pkt[3 * BIG];
    fill(a, sizeof a, 1);
    fill(b, sizeof b, 2);
    ts_t *t = stream_new(KMQTT_V311, LIMIT, true);
    size_t n = encode_pub(t, 1, 1, false, a, sizeof a, pkt, sizeof pkt);
    n += encode_pub(t, 1, 2, false, b, sizeof b, pkt + n, sizeof pkt - n);
    n += encode_pub(t, 1, 3, false, a, 4, pkt + n, sizeof pkt - n);
    got_t g;
    memset(&g, 0, sizeof g);
    feed_steps(t, pkt, n, 7, &g);
    assert_int_equal(g.begins, 2);
    assert_int_equal(g.ends, 2);
    assert_int_equal(g.wholes, 1);
    ts_expect_sent(t, "40 02 00 01 40 02 00 02 40 02 00 03");
    free(t);
}

/* Lost half way: ABORT first, nothing acknowledged; the server sends it
 * again (DUP) on the resumed session and it is delivered whole, answered
 * once (MQTT-4.4.0-1). */
static void lost_mid_message_aborts_and_the_resend_is_delivered(void **state)
{
    (void)state;
    uint8_t payload[BIG], pkt[BIG + 64];
    fill(payload, sizeof payload, 5);
    for (uint8_t qos = 1; qos <= 2; qos++) {
        for (int v = 0; v < 2; v++) {
            ts_t *t = stream_new(v ? KMQTT_V5 : KMQTT_V311, LIMIT, false);
            size_t n = encode_pub(t, qos, 42, false, payload, sizeof payload, pkt, sizeof pkt);
            got_t g;
            memset(&g, 0, sizeof g);
            feed_steps(t, pkt, n / 2, 10, &g);
            assert_int_equal(g.begins, 1);
            assert_true(g.len > 0 && g.len < BIG);
            ts_expect_nothing_sent(t);
            kmqtt_session_lost(&t->s);
            pull(t, &g);
            assert_int_equal(g.aborts, 1);
            assert_int_equal(g.ends, 0);
            /* Resumed: the copy comes with DUP and is delivered in full. */
            ts_connect(t, false, true);
            memset(&g, 0, sizeof g);
            n = encode_pub(t, qos, 42, true, payload, sizeof payload, pkt, sizeof pkt);
            feed_steps(t, pkt, n, 13, &g);
            assert_int_equal(g.begins, 1);
            assert_int_equal(g.ends, 1);
            assert_int_equal(g.aborts, 0);
            assert_memory_equal(g.payload, payload, BIG);
            expect_ack(t, qos, 42);
            free(t);
        }
    }
}

/* A QoS 2 copy of a message delivered in pieces, before its PUBREL: no
 * event at all, PUBREC again (MQTT-4.3.3-2). */
static void qos2_copy_in_pieces_is_not_delivered_again(void **state)
{
    (void)state;
    uint8_t payload[BIG], pkt[BIG + 64];
    fill(payload, sizeof payload, 3);
    ts_t *t = stream_new(KMQTT_V5, LIMIT, true);
    size_t n = encode_pub(t, 2, 7, false, payload, sizeof payload, pkt, sizeof pkt);
    got_t g;
    memset(&g, 0, sizeof g);
    feed_steps(t, pkt, n, 64, &g);
    assert_int_equal(g.ends, 1);
    expect_ack(t, 2, 7);
    memset(&g, 0, sizeof g);
    n = encode_pub(t, 2, 7, true, payload, sizeof payload, pkt, sizeof pkt);
    feed_steps(t, pkt, n, 5, &g);
    assert_int_equal(g.begins + g.ends + g.wholes, 0);
    expect_ack(t, 2, 7);
    ts_feed_ack(t, KMQTT_PUBREL, 7, 0);
    ts_no_event(t);
    ts_expect_sent(t, "70 02 00 07");
    free(t);
}

/* The answer waits at END while tx has no room, and goes once it drains. */
static void end_waits_for_room_for_its_answer(void **state)
{
    (void)state;
    uint8_t payload[BIG], pkt[BIG + 64];
    fill(payload, sizeof payload, 9);
    ts_t *t = stream_new(KMQTT_V311, LIMIT, true);
    /* Fill tx with QoS 0 publishes ("a/b", 7 bytes + payload), leaving 2
     * bytes: less than a PUBACK's 4. */
    const uint8_t *buf;
    kmqtt_publish_t m = ts_msg(0);
    size_t free_bytes;
    while ((free_bytes = t->cfg.tx_buffer_size - kmqtt_session_tx_peek(&t->s, &buf)) >= 18)
        assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK);
    static const uint8_t pad[TS_BUF];
    m.payload.ptr = pad;
    m.payload.len = free_bytes - 9;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK);
    assert_int_equal(t->cfg.tx_buffer_size - kmqtt_session_tx_peek(&t->s, &buf), 2);
    size_t n = encode_pub(t, 1, 11, false, payload, sizeof payload, pkt, sizeof pkt);
    got_t g;
    memset(&g, 0, sizeof g);
    feed_steps(t, pkt, n, 50, &g);
    assert_int_equal(g.ends, 0); /* every piece given, END held back */
    assert_int_equal(g.len, BIG);
    ts_take(t);
    pull(t, &g);
    assert_int_equal(g.ends, 1);
    expect_ack(t, 1, 11);
    free(t);
}

/* Over the application's maximum: refused from the fixed header as before
 * (5.0: DISCONNECT 0x95 Packet too large, MQTT-3.1.2-24). */
static void over_max_packet_size_is_refused(void **state)
{
    (void)state;
    uint8_t payload[BIG], pkt[BIG + 64];
    memset(payload, 'x', sizeof payload);
    for (int v = 0; v < 2; v++) {
        ts_t *t = stream_new(v ? KMQTT_V5 : KMQTT_V311, 200, true);
        size_t n = encode_pub(t, 1, 1, false, payload, sizeof payload, pkt, sizeof pkt);
        ts_feed(t, pkt, 8);
        assert_int_equal(ts_next_err(t), KMQTT_ETOOBIG);
        assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
        if (v) {
            ts_expect_sent(t, "e0 01 95");
            assert_int_equal(kmqtt_session_close_reason(&t->s), 0x95);
        }
        (void)n;
        free(t);
    }
}

/* Streaming off (max_packet_size 0): a message over rx is refused as before. */
static void without_streaming_a_large_message_is_refused(void **state)
{
    (void)state;
    uint8_t payload[BIG], pkt[BIG + 64];
    memset(payload, 'x', sizeof payload);
    ts_t *t = stream_new(KMQTT_V311, 0, true);
    encode_pub(t, 0, 0, false, payload, sizeof payload, pkt, sizeof pkt);
    ts_feed(t, pkt, 8);
    assert_int_equal(ts_next_err(t), KMQTT_ETOOBIG);
    free(t);
}

/* A topic (and properties) that do not fit rx cannot be read in place: the
 * connection ends with KMQTT_ETOOBIG, in 5.0 with DISCONNECT 0x83 (the
 * packet was within the Maximum Packet Size advertised); nothing of the
 * message was reported. */
static void head_larger_than_rx_ends_the_connection(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        ts_t *t = stream_new(v ? KMQTT_V5 : KMQTT_V311, LIMIT, true);
        uint8_t pkt[128];
        char topic[64];
        memset(topic, 't', sizeof topic);
        kmqtt_packet_t p;
        size_t n;
        memset(&p, 0, sizeof p);
        p.type = KMQTT_PUBLISH;
        p.u.publish.topic.ptr = topic;
        p.u.publish.topic.len = sizeof topic;
        p.u.publish.payload.ptr = (const uint8_t *)"abc";
        p.u.publish.payload.len = 3;
        assert_int_equal(kmqtt_packet_encode(&p, t->cfg.version, pkt, sizeof pkt, &n), KMQTT_OK);
        got_t g;
        memset(&g, 0, sizeof g);
        ts_feed(t, pkt, RX);
        kmqtt_session_event_t ev;
        assert_int_equal(kmqtt_session_next_event(&t->s, t->now, &ev), KMQTT_ETOOBIG);
        assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
        if (v) {
            ts_expect_sent(t, "e0 01 83");
            assert_int_equal(kmqtt_session_close_reason(&t->s), 0x83);
        }
        kmqtt_session_lost(&t->s);
        assert_int_equal(ts_next_err(t), KMQTT_NEED_MORE); /* no ABORT: nothing began */
        free(t);
    }
}

/* 5.0: the Maximum Packet Size advertised is the application's maximum,
 * not rx (MQTT-3.1.2-24 then binds the server to it). */
static void v5_connect_advertises_the_application_maximum(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V5);
    c.rx_buffer_size = RX;
    ts_t *t = ts_new_cfg(&c);
    t->k.max_packet_size = 1048576u + 64u;
    assert_int_equal(kmqtt_session_init(&t->s, &t->k, &t->b), KMQTT_OK);
    kmqtt_connect_t m = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    kmqtt_packet_t p;
    size_t used;
    assert_int_equal(kmqtt_packet_decode(t->sent, t->sent_len, KMQTT_V5, 0, &p, &used), KMQTT_OK);
    /* The raw block holds 27 (Maximum Packet Size) and its 4 bytes. */
    const uint8_t want[] = {0x27, 0x00, 0x10, 0x00, 0x40};
    bool found = false;
    for (size_t i = 0; i + sizeof want <= t->sent_len; i++)
        found = found || memcmp(t->sent + i, want, sizeof want) == 0;
    assert_true(found);
    free(t);
}

/* ------------------------------------------------------------- outbound */

/* A reader of a pattern payload: byte i is (i * 13 + 5); counts the calls
 * and remembers the offsets asked. fail_at: return this error when asked
 * for that offset (0: never). */
typedef struct reader {
    unsigned calls, restarts;
    size_t last_end;
    size_t fail_at;
    long fail_with;
} reader_t;

static long pattern_read(void *ctx, uint16_t id, size_t off, uint8_t *buf, size_t len)
{
    reader_t *r = ctx;
    (void)id;
    r->calls++;
    if (off == 0 && r->last_end != 0)
        r->restarts++;
    if (r->fail_at != 0 && off >= r->fail_at)
        return r->fail_with;
    if (len > 7)
        len = 7; /* a reader may give less than asked */
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((off + i) * 13u + 5u);
    r->last_end = off + len;
    return (long)len;
}

/* Takes everything tx gives, a little at a time (as a slow socket), into
 * out; returns the bytes taken. */
static size_t drain_tx(ts_t *t, uint8_t *out, size_t cap, size_t step)
{
    size_t got = 0;
    for (;;) {
        const uint8_t *buf;
        size_t n = kmqtt_session_tx_peek(&t->s, &buf);
        if (n == 0)
            return got;
        if (n > step)
            n = step;
        assert_true(got + n <= cap);
        memcpy(out + got, buf, n);
        got += n;
        kmqtt_session_tx_consume(&t->s, n, t->now);
    }
}

static void expect_pattern_publish(ts_t *t, const uint8_t *bytes, size_t n, uint8_t qos, bool dup,
                                   size_t total)
{
    kmqtt_packet_t p;
    size_t used;
    assert_int_equal(kmqtt_packet_decode(bytes, n, t->cfg.version, 0, &p, &used), KMQTT_OK);
    assert_int_equal(used, n);
    assert_int_equal(p.type, KMQTT_PUBLISH);
    assert_int_equal(p.u.publish.qos, qos);
    assert_int_equal(p.u.publish.dup, dup);
    assert_int_equal(p.u.publish.payload.len, total);
    for (size_t i = 0; i < total; i++)
        if (p.u.publish.payload.ptr[i] != (uint8_t)(i * 13u + 5u))
            fail_msg("payload byte %zu wrong", i);
}

static kmqtt_session_msg_t reader_msg(uint8_t qos, size_t total)
{
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "up/fw";
    m.topic_len = 5;
    m.qos = qos;
    m.payload_len = total;
    return m;
}

/* 2,000 bytes through a 64-byte tx at QoS 0, 1 and 2, 3.1.1 and 5.0: the
 * packet arrives whole and in order; the store keeps only the header. */
static void payload_from_a_reader_through_a_small_tx(void **state)
{
    (void)state;
    static uint8_t out[4096];
    for (int v = 0; v < 2; v++) {
        for (uint8_t qos = 0; qos <= 2; qos++) {
            ts_cfg_t c = ts_config(v ? KMQTT_V5 : KMQTT_V311);
            c.tx_buffer_size = 64;
            ts_t *t = ts_new_cfg(&c);
            ts_connect(t, true, false);
            reader_t r;
            memset(&r, 0, sizeof r);
            kmqtt_session_set_reader(&t->s, pattern_read, &r);
            kmqtt_session_msg_t m = reader_msg(qos, 2000);
            uint16_t id = 0;
            assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, &id), KMQTT_OK);
            assert_int_equal(id != 0, qos != 0);
            assert_true(kmqtt_session_store_used(&t->s) < 64); /* never held whole */
            size_t n = drain_tx(t, out, sizeof out, 9);
            expect_pattern_publish(t, out, n, qos, false, 2000);
            assert_int_equal(r.restarts, 0);
            if (qos != 0) {
                ts_feed_ack(t, qos == 1 ? KMQTT_PUBACK : KMQTT_PUBREC, id, 0);
                if (qos == 2) {
                    ts_no_event(t);
                    ts_take(t); /* PUBREL */
                    ts_feed_ack(t, KMQTT_PUBCOMP, id, 0);
                }
                kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
                assert_int_equal(ev.packet_id, id);
                assert_int_equal(kmqtt_session_inflight(&t->s), 0);
            }
            free(t);
        }
    }
}

/* Nothing enters tx inside the payload: an inbound QoS 1 message's PUBACK
 * waits until the PUBLISH being sent is complete (no interleaving). */
static void acks_wait_for_the_payload_in_pieces(void **state)
{
    (void)state;
    static uint8_t out[4096];
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.tx_buffer_size = 64;
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, true, false);
    reader_t r;
    memset(&r, 0, sizeof r);
    kmqtt_session_set_reader(&t->s, pattern_read, &r);
    kmqtt_session_msg_t m = reader_msg(0, 500);
    assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, NULL), KMQTT_OK);
    /* A second one waits for this one. */
    assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, NULL), KMQTT_ENOBUFS);
    ts_feed_publish(t, 1, 77, false);
    ts_no_event(t); /* its PUBACK has no room yet: the message waits too */
    size_t n = drain_tx(t, out, sizeof out, 5);
    expect_pattern_publish(t, out, n, 0, false, 500);
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(ev.msg.packet_id, 77);
    ts_expect_sent(t, "40 02 00 4d");
    free(t);
}

/* Lost half way: on the resumed session the message goes again with DUP,
 * its payload read again from offset 0 (MQTT-4.4.0-1). */
static void a_resend_reads_again_from_offset_0(void **state)
{
    (void)state;
    static uint8_t out[4096];
    for (uint8_t qos = 1; qos <= 2; qos++) {
        ts_cfg_t c = ts_config(KMQTT_V5);
        c.tx_buffer_size = 64;
        ts_t *t = ts_new_cfg(&c);
        ts_connect(t, false, false);
        reader_t r;
        memset(&r, 0, sizeof r);
        kmqtt_session_set_reader(&t->s, pattern_read, &r);
        kmqtt_session_msg_t m = reader_msg(qos, 1000);
        uint16_t id = 0;
        assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, &id), KMQTT_OK);
        const uint8_t *buf;
        kmqtt_session_tx_consume(&t->s, kmqtt_session_tx_peek(&t->s, &buf), t->now);
        kmqtt_session_lost(&t->s);
        ts_connect(t, false, true); /* the resend is queued at the CONNACK */
        size_t n = drain_tx(t, out, sizeof out, 11);
        expect_pattern_publish(t, out, n, qos, true, 1000);
        assert_int_equal(r.restarts, 1);
        free(t);
    }
}

/* A reader that fails cuts the packet: the session ends and the next
 * next_event gives the reader's error; a reader that returns 0 gives
 * KMQTT_EIO. */
static void a_failing_reader_ends_the_connection(void **state)
{
    (void)state;
    long results[] = {KMQTT_ECLOSED, 0};
    for (int i = 0; i < 2; i++) {
        ts_cfg_t c = ts_config(KMQTT_V311);
        c.tx_buffer_size = 64;
        ts_t *t = ts_new_cfg(&c);
        ts_connect(t, true, false);
        reader_t r;
        memset(&r, 0, sizeof r);
        r.fail_at = 100;
        r.fail_with = results[i];
        kmqtt_session_set_reader(&t->s, pattern_read, &r);
        kmqtt_session_msg_t m = reader_msg(1, 1000);
        assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, NULL), KMQTT_OK);
        static uint8_t out[4096];
        drain_tx(t, out, sizeof out, 16);
        assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
        assert_int_equal(ts_next_err(t), i == 0 ? KMQTT_ECLOSED : KMQTT_EIO);
        kmqtt_session_lost(&t->s);
        free(t);
    }
}

/* 5.0: the whole packet counts against the server's Maximum Packet Size
 * (MQTT-3.2.2-15), not the header in tx. */
static void reader_publish_over_server_maximum_is_refused(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V5);
    ts_t *t = ts_new_cfg(&c);
    kmqtt_connect_t cm = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &cm), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "20 08 00 00 05 27 00 00 01 00"); /* Maximum Packet Size 256 */
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    reader_t r;
    memset(&r, 0, sizeof r);
    kmqtt_session_set_reader(&t->s, pattern_read, &r);
    kmqtt_session_msg_t m = reader_msg(1, 1000);
    assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, NULL), KMQTT_ETOOBIG);
    assert_int_equal(r.calls, 0);
    m.payload = (const uint8_t *)"x";
    assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, NULL), KMQTT_EINVAL);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pieces_at_every_boundary_v311),
        cmocka_unit_test(pieces_at_every_boundary_v5),
        cmocka_unit_test(small_and_empty_messages_come_whole),
        cmocka_unit_test(messages_in_pieces_back_to_back),
        cmocka_unit_test(lost_mid_message_aborts_and_the_resend_is_delivered),
        cmocka_unit_test(qos2_copy_in_pieces_is_not_delivered_again),
        cmocka_unit_test(end_waits_for_room_for_its_answer),
        cmocka_unit_test(over_max_packet_size_is_refused),
        cmocka_unit_test(without_streaming_a_large_message_is_refused),
        cmocka_unit_test(head_larger_than_rx_ends_the_connection),
        cmocka_unit_test(v5_connect_advertises_the_application_maximum),
        cmocka_unit_test(payload_from_a_reader_through_a_small_tx),
        cmocka_unit_test(acks_wait_for_the_payload_in_pieces),
        cmocka_unit_test(a_resend_reads_again_from_offset_0),
        cmocka_unit_test(a_failing_reader_ends_the_connection),
        cmocka_unit_test(reader_publish_over_server_maximum_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
