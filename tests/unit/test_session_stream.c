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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
