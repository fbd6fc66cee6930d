/*
 * Issue #21: the branches of messages in pieces (src/session/session_stream.c)
 * and of payloads from a reader (src/session/session_send_stream.c) that the
 * other tests left untaken. Scripted bytes and a fake clock: a 5.0 property
 * block whose length takes two bytes, split at every byte; heads that are
 * malformed or run past their packet; a QoS 2 END waiting for room for its
 * PUBREC; a reader removed or giving more than asked mid-payload.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

#define RX    32u   /* the receive buffer */
#define LIMIT 4096u /* the application's largest packet */

static ts_t *stream_new(kmqtt_version_t v, size_t rx)
{
    ts_cfg_t c = ts_config(v);
    c.rx_buffer_size = rx;
    ts_t *t = ts_new_cfg(&c);
    t->k.max_packet_size = LIMIT;
    assert_int_equal(kmqtt_session_init(&t->s, &t->k, &t->b), KMQTT_OK);
    ts_connect(t, true, false);
    return t;
}

/* Feeds n bytes at most step at a time; every event is pulled after each
 * piece: pieces are copied to out, BEGINs and ENDs counted. Stops at the
 * first error, which it returns (KMQTT_NEED_MORE: none). */
typedef struct seen {
    unsigned begins, ends, props_len;
    uint8_t out[2048];
    size_t len;
} seen_t;

static kmqtt_err_t feed_and_pull(ts_t *t, const uint8_t *bytes, size_t n, size_t step, seen_t *g)
{
    for (;;) {
        kmqtt_session_event_t ev;
        kmqtt_err_t err;
        while ((err = kmqtt_session_next_event(&t->s, t->now, &ev)) == KMQTT_OK) {
            if (ev.type == KMQTT_SESSION_EV_MESSAGE_BEGIN) {
                g->begins++;
                g->props_len = (unsigned)ev.msg.props_len;
            } else if (ev.type == KMQTT_SESSION_EV_MESSAGE_CHUNK) {
                assert_true(g->len + ev.msg.payload_len <= sizeof g->out);
                memcpy(g->out + g->len, ev.msg.payload, ev.msg.payload_len);
                g->len += ev.msg.payload_len;
            } else if (ev.type == KMQTT_SESSION_EV_MESSAGE_END) {
                g->ends++;
            } else {
                fail_msg("unexpected event %d", (int)ev.type);
            }
        }
        if (err != KMQTT_NEED_MORE || n == 0)
            return err;
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
    }
}

/* 5.0: a property block of 150 bytes has a two-byte length; fed one byte
 * at a time, the head is read only once that length is whole. */
static void two_byte_property_length_split_at_every_byte(void **state)
{
    (void)state;
    ts_t *t = stream_new(KMQTT_V5, 200);
    static char value[140];
    static uint8_t payload[600], pkt[1024];
    memset(value, 'v', sizeof value);
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7u + 1u);
    kmqtt_packet_t p;
    kmqtt_prop_t up;
    memset(&p, 0, sizeof p);
    memset(&up, 0, sizeof up);
    p.type = KMQTT_PUBLISH;
    p.u.publish.topic.ptr = "fw/img";
    p.u.publish.topic.len = 6;
    p.u.publish.qos = 1;
    p.u.publish.packet_id = 9;
    p.u.publish.payload.ptr = payload;
    p.u.publish.payload.len = sizeof payload;
    up.id = KMQTT_PROP_USER_PROPERTY;
    up.str.ptr = "k";
    up.str.len = 1;
    up.value.ptr = value;
    up.value.len = sizeof value;
    p.u.publish.props.items = &up;
    p.u.publish.props.count = 1;
    size_t n;
    assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V5, pkt, sizeof pkt, &n), KMQTT_OK);
    seen_t g;
    memset(&g, 0, sizeof g);
    assert_int_equal(feed_and_pull(t, pkt, n, 1, &g), KMQTT_NEED_MORE);
    assert_int_equal(g.begins, 1);
    assert_int_equal(g.props_len, 1 + 2 + 1 + 2 + sizeof value);
    assert_int_equal(g.ends, 1);
    assert_int_equal(g.len, sizeof payload);
    assert_memory_equal(g.out, payload, sizeof payload);
    ts_expect_sent(t, "40 02 00 09"); /* MQTT-4.3.2-4: after the message is ours */
    free(t);
}

/* 5.0: a property length of five bytes is malformed (1.5.5): the
 * connection ends with DISCONNECT 0x81, nothing delivered. */
static void five_byte_property_length_is_malformed(void **state)
{
    (void)state;
    ts_t *t = stream_new(KMQTT_V5, RX);
    uint8_t pkt[102];
    memset(pkt, 0, sizeof pkt);
    memcpy(pkt, "\x30\x64\x00\x01\x74\x80\x80\x80\x80\x01", 10);
    seen_t g;
    memset(&g, 0, sizeof g);
    kmqtt_err_t err = feed_and_pull(t, pkt, sizeof pkt, RX, &g);
    assert_int_equal(err, KMQTT_EVARINT);
    assert_int_equal(g.begins, 0);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    ts_expect_sent(t, "e0 01 81"); /* 0x81 Malformed Packet */
    free(t);
}

/* A topic length running past the packet (MQTT-1.5.4, 2.1.4 Remaining
 * Length): the connection ends, nothing delivered. */
static void topic_running_past_its_packet_ends_the_connection(void **state)
{
    (void)state;
    ts_t *t = stream_new(KMQTT_V311, RX);
    uint8_t pkt[102];
    memset(pkt, 'a', sizeof pkt);
    memcpy(pkt, "\x30\x64\x00\xf0", 4); /* topic of 240 bytes in 100 */
    seen_t g;
    memset(&g, 0, sizeof g);
    kmqtt_err_t err = feed_and_pull(t, pkt, sizeof pkt, RX, &g);
    assert_int_equal(err, KMQTT_ETRUNCATED);
    assert_int_equal(g.begins, 0);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    free(t);
}

/* A large message on a topic with a wildcard (MQTT-3.3.2-2): refused at its
 * head, before any piece. */
static void wildcard_topic_in_a_large_message_is_refused(void **state)
{
    (void)state;
    ts_t *t = stream_new(KMQTT_V311, RX);
    uint8_t pkt[102];
    memset(pkt, 'x', sizeof pkt);
    memcpy(pkt, "\x30\x64\x00\x03\x61\x2f\x2b", 7); /* "a/+" */
    seen_t g;
    memset(&g, 0, sizeof g);
    kmqtt_err_t err = feed_and_pull(t, pkt, sizeof pkt, RX, &g);
    assert_int_equal(err, KMQTT_ETOPIC_NAME);
    assert_int_equal(g.begins, 0);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    free(t);
}

/* QoS 2 in pieces: END waits while tx has no room for the PUBREC
 * (MQTT-4.3.3-9), and comes once it has. */
static void qos2_end_waits_for_room_for_its_pubrec(void **state)
{
    (void)state;
    ts_t *t = stream_new(KMQTT_V311, RX);
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
    uint8_t pkt[108];
    memset(pkt, 'p', sizeof pkt);
    memcpy(pkt, "\x34\x6a\x00\x01\x74\x00\x0b", 7); /* QoS 2, id 11, 101 bytes of payload */
    seen_t g;
    memset(&g, 0, sizeof g);
    assert_int_equal(feed_and_pull(t, pkt, sizeof pkt, 20, &g), KMQTT_NEED_MORE);
    assert_int_equal(g.begins, 1);
    assert_int_equal(g.len, 101);
    assert_int_equal(g.ends, 0); /* every piece given, END held back */
    ts_take(t);
    assert_int_equal(feed_and_pull(t, NULL, 0, 1, &g), KMQTT_NEED_MORE);
    assert_int_equal(g.ends, 1);
    ts_expect_sent(t, "50 02 00 0b");
    free(t);
}

static void in_pieces_of_no_session_is_false(void **state)
{
    (void)state;
    assert_false(kmqtt_session_in_pieces(NULL));
}

/* ------------------------------------------------------------- outbound */

typedef struct reader {
    long extra; /* bytes given beyond what was asked */
} reader_t;

static long pattern_read(void *ctx, uint16_t id, size_t off, uint8_t *buf, size_t len)
{
    reader_t *r = ctx;
    (void)id;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((off + i) * 13u + 5u);
    return (long)len + r->extra;
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

static size_t drain_tx(ts_t *t, uint8_t *out, size_t cap)
{
    size_t got = 0;
    for (;;) {
        const uint8_t *buf;
        size_t n = kmqtt_session_tx_peek(&t->s, &buf);
        if (n == 0)
            return got;
        assert_true(got + n <= cap);
        memcpy(out + got, buf, n);
        got += n;
        kmqtt_session_tx_consume(&t->s, n, t->now);
    }
}

static ts_t *small_tx_new(kmqtt_version_t v)
{
    ts_cfg_t c = ts_config(v);
    c.tx_buffer_size = 64;
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, true, false);
    return t;
}

static void reader_publish_refuses_missing_arguments(void **state)
{
    (void)state;
    ts_t *t = small_tx_new(KMQTT_V311);
    kmqtt_session_msg_t m = reader_msg(1, 100);
    reader_t r = {0};
    kmqtt_session_set_reader(NULL, pattern_read, &r); /* nothing to set */
    assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, NULL), KMQTT_EINVAL); /* no reader */
    kmqtt_session_set_reader(&t->s, pattern_read, &r);
    assert_int_equal(kmqtt_session_publish_reader(NULL, &m, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_publish_reader(&t->s, NULL, NULL), KMQTT_EINVAL);
    const uint8_t *buf;
    assert_int_equal(kmqtt_session_tx_peek(&t->s, &buf), 0); /* nothing queued */
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    free(t);
}

/* The reader taken away half way: the packet cannot be finished, the
 * connection ends with KMQTT_EINVAL. */
static void reader_removed_mid_payload_ends_the_connection(void **state)
{
    (void)state;
    ts_t *t = small_tx_new(KMQTT_V311);
    reader_t r = {0};
    kmqtt_session_set_reader(&t->s, pattern_read, &r);
    kmqtt_session_msg_t m = reader_msg(1, 1000);
    assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, NULL), KMQTT_OK);
    kmqtt_session_set_reader(&t->s, NULL, NULL);
    static uint8_t out[4096];
    assert_true(drain_tx(t, out, sizeof out) < 1000);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    assert_int_equal(ts_next_err(t), KMQTT_EINVAL);
    free(t);
}

/* A reader claiming more bytes than it was asked for would overrun tx:
 * the connection ends with KMQTT_EIO instead. */
static void reader_giving_more_than_asked_ends_the_connection(void **state)
{
    (void)state;
    ts_t *t = small_tx_new(KMQTT_V311);
    reader_t r = {1};
    kmqtt_session_set_reader(&t->s, pattern_read, &r);
    kmqtt_session_msg_t m = reader_msg(0, 1000);
    assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, NULL), KMQTT_OK);
    static uint8_t out[4096];
    assert_true(drain_tx(t, out, sizeof out) < 1000);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    assert_int_equal(ts_next_err(t), KMQTT_EIO);
    free(t);
}

/* 5.0: under the server's Maximum Packet Size (MQTT-3.2.2-15) the packet
 * goes whole. */
static void reader_publish_within_server_maximum_goes_whole(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V5);
    c.tx_buffer_size = 64;
    ts_t *t = ts_new_cfg(&c);
    kmqtt_connect_t cm = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &cm), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "20 08 00 00 05 27 00 00 10 00"); /* Maximum Packet Size 4096 */
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    reader_t r = {0};
    kmqtt_session_set_reader(&t->s, pattern_read, &r);
    kmqtt_session_msg_t m = reader_msg(1, 1000);
    uint16_t id = 0;
    assert_int_equal(kmqtt_session_publish_reader(&t->s, &m, &id), KMQTT_OK);
    static uint8_t out[4096];
    size_t n = drain_tx(t, out, sizeof out);
    kmqtt_packet_t p;
    size_t used;
    assert_int_equal(kmqtt_packet_decode(out, n, KMQTT_V5, 0, &p, &used), KMQTT_OK);
    assert_int_equal(used, n);
    assert_int_equal(p.u.publish.packet_id, id);
    assert_int_equal(p.u.publish.payload.len, 1000);
    for (size_t i = 0; i < 1000; i++)
        if (p.u.publish.payload.ptr[i] != (uint8_t)(i * 13u + 5u))
            fail_msg("payload byte %zu wrong", i);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_byte_property_length_split_at_every_byte),
        cmocka_unit_test(five_byte_property_length_is_malformed),
        cmocka_unit_test(topic_running_past_its_packet_ends_the_connection),
        cmocka_unit_test(wildcard_topic_in_a_large_message_is_refused),
        cmocka_unit_test(qos2_end_waits_for_room_for_its_pubrec),
        cmocka_unit_test(in_pieces_of_no_session_is_false),
        cmocka_unit_test(reader_publish_refuses_missing_arguments),
        cmocka_unit_test(reader_removed_mid_payload_ends_the_connection),
        cmocka_unit_test(reader_giving_more_than_asked_ends_the_connection),
        cmocka_unit_test(reader_publish_within_server_maximum_goes_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
