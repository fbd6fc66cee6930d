/*
 * What the engine does with received packets: events, the answers it
 * queues, exactly-once delivery of inbound QoS 2, and the protocol errors
 * that must close the connection. Bytes are listed in test_session_util.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

static ts_t *connected(void)
{
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, false, false);
    return t;
}

/* -------------------------------------------------------------- CONNACK */

static void first_packet_other_than_connack_is_a_protocol_error(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    kmqtt_connect_t m = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "30 07 00 03 61 2f 62 68 69");
    /* MQTT-3.2.0-1 */
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL);
    free(t);
}

static void second_connack_is_a_protocol_error(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "20 02 00 00");
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL);
    free(t);
}

static void session_present_after_clean_start_is_a_protocol_error(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    kmqtt_connect_t m = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "20 02 01 00"); /* MQTT-3.2.2-1 */
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL);
    free(t);
}

static void nothing_is_decoded_while_idle(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_feed_hex(t, "20 02 00 00");
    ts_no_event(t);
    free(t);
}

/* ------------------------------------------------------ inbound PUBLISH */

static void inbound_qos0_is_delivered_without_answer(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "30 07 00 03 61 2f 62 68 69");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(ev.msg.qos, 0);
    assert_memory_equal(ev.msg.topic, "a/b", 3);
    assert_int_equal(ev.msg.payload_len, 2);
    assert_memory_equal(ev.msg.payload, "hi", 2);
    ts_expect_nothing_sent(t);
    free(t);
}

static void inbound_qos1_is_delivered_and_acknowledged(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "32 09 00 03 61 2f 62 00 07 68 69");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(ev.msg.packet_id, 7);
    assert_int_equal(ev.msg.qos, 1);
    /* MQTT-4.3.2-2 */
    ts_expect_sent(t, "40 02 00 07");
    /* at least once: a repeat is delivered (and acknowledged) again */
    ts_feed_hex(t, "3a 09 00 03 61 2f 62 00 07 68 69");
    ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    assert_true(ev.msg.dup);
    ts_expect_sent(t, "40 02 00 07");
    free(t);
}

static void inbound_qos2_is_delivered_exactly_once(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "34 09 00 03 61 2f 62 00 09 68 69");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(ev.msg.packet_id, 9);
    ts_expect_sent(t, "50 02 00 09");
    /* MQTT-4.3.3-2: the resend before PUBREL is answered, not delivered */
    ts_feed_hex(t, "3c 09 00 03 61 2f 62 00 09 68 69");
    ts_no_event(t);
    ts_expect_sent(t, "50 02 00 09");
    ts_feed_hex(t, "62 02 00 09");
    ts_no_event(t);
    ts_expect_sent(t, "70 02 00 09");
    /* after PUBREL the id is free: the same id is a new message */
    ts_feed_hex(t, "34 09 00 03 61 2f 62 00 09 68 69");
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    free(t);
}

/* Decision 6 of docs/architecture.md: more inbound QoS 2 messages awaiting
 * their PUBREL than the table holds (3.1.1: a configured bound the broker
 * knows nothing of) is neither our error nor the broker's: the oldest id is
 * forgotten, counted, and the connection goes on. (The old session ended it
 * with KMQTT_ELIMIT.) The forgotten id's PUBREL still gets its PUBCOMP. */
static void inbound_qos2_beyond_a_311_table_forgets_the_oldest(void **state)
{
    (void)state;
    ts_t *t = connected();
    for (uint16_t id = 1; id <= 4; id++) {
        ts_feed_publish(t, 2, id, false);
        ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    }
    ts_take(t);
    ts_feed_publish(t, 2, 5, false);
    assert_int_equal(ts_event(t, KMQTT_SESSION_EV_MESSAGE).msg.packet_id, 5);
    ts_expect_sent(t, "50 02 00 05");
    assert_int_equal(kmqtt_session_qos2_evictions(&t->s), 1);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTED);
    /* 2..5 are still held: a copy of 5 is not delivered again */
    ts_feed_publish(t, 2, 5, true);
    ts_no_event(t);
    ts_expect_sent(t, "50 02 00 05");
    ts_feed_hex(t, "62 02 00 01");
    ts_no_event(t);
    ts_expect_sent(t, "70 02 00 01");
    free(t);
}

/* Decision 6: a 5.0 server beyond the Receive Maximum we sent breaks
 * MQTT-3.3.4-9, but mosquitto 2.0.11 counts its quota back at PUBREC, not at
 * PUBCOMP, and does so in every burst (issue #15: the old session ended the
 * connection with DISCONNECT 0x93 after 5 to 8 messages). The engine
 * forgets the oldest id and goes on, counted. */
static void inbound_qos2_beyond_our_receive_maximum_forgets_the_oldest_in_v5(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V5);
    ts_connect(t, false, false);
    for (uint16_t id = 1; id <= 4; id++) {
        ts_feed_publish(t, 2, id, false);
        ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    }
    ts_take(t);
    ts_feed_publish(t, 2, 5, false);
    assert_int_equal(ts_event(t, KMQTT_SESSION_EV_MESSAGE).msg.packet_id, 5);
    assert_int_equal(kmqtt_session_qos2_evictions(&t->s), 1);
    assert_int_equal(kmqtt_session_close_reason(&t->s), 0);
    ts_expect_sent(t, "50 02 00 05");
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTED);
    free(t);
}

static void inbound_qos2_bitmap_tracks_every_id_exactly_once(void **state)
{
    (void)state;
    /* max_inbound_qos2 0: one bit per packet id, so a 3.1.1 broker may leave
     * any number unreleased and each is still delivered once (MQTT-4.3.3-2). */
    ts_cfg_t cfg = ts_config(KMQTT_V311);
    cfg.max_inbound_qos2 = 0;
    ts_t *t = ts_new_cfg(&cfg);
    ts_connect(t, false, false);
    for (uint32_t id = 1; id <= 300; id++) {
        ts_feed_publish(t, 2, (uint16_t)id, false);
        ts_event(t, KMQTT_SESSION_EV_MESSAGE);
        ts_take(t);
    }
    assert_int_equal(kmqtt_session_qos2_evictions(&t->s), 0); /* none forgotten */
    /* a resent PUBLISH (DUP) for an unreleased id is answered, not delivered */
    ts_feed_publish(t, 2, 150, true);
    ts_no_event(t);
    ts_expect_sent(t, "50 02 00 96");
    /* PUBREL releases it: PUBCOMP, and the id may carry a new message */
    ts_feed_hex(t, "62 02 00 96");
    ts_no_event(t);
    ts_expect_sent(t, "70 02 00 96");
    ts_feed_publish(t, 2, 150, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    /* ids at both ends of the range */
    ts_feed_publish(t, 2, 65535, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_feed_publish(t, 2, 65535, true);
    ts_no_event(t);
    free(t);
}

static void pubrel_for_unknown_id_still_gets_pubcomp(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "62 02 00 33");
    ts_no_event(t);
    ts_expect_sent(t, "70 02 00 33");
    free(t);
}

/* -------------------------------------------------- acks we did not expect */

static void puback_and_pubcomp_for_unknown_ids_are_ignored(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_publish(t, 1);
    ts_take(t);
    ts_feed_hex(t, "40 02 00 08 70 02 00 09");
    ts_no_event(t);
    ts_expect_nothing_sent(t);
    /* Decision 5 of docs/architecture.md: ignored, and counted */
    assert_int_equal(kmqtt_session_unknown_acks(&t->s), 2);
    assert_int_equal(kmqtt_session_inflight(&t->s), 1);
    free(t);
}

/* Decision 5: an ack of the wrong kind for an id we hold (a PUBCOMP for a
 * QoS 1 message) is a protocol error (MQTT-4.3.2, 4.3.3 name each flow's
 * packets). The old session ignored it and kept waiting for its PUBACK. */
static void pubcomp_for_a_qos1_message_is_a_protocol_error(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_publish(t, 1);
    ts_take(t);
    ts_feed_hex(t, "70 02 00 01");
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL);
    free(t);
}

static void pubrec_for_unknown_id_gets_pubrel(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "50 02 00 21");
    ts_no_event(t);
    ts_expect_sent(t, "62 02 00 21");
    free(t);
}

static void pubrec_for_qos1_message_is_a_protocol_error(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_publish(t, 1);
    ts_take(t);
    ts_feed_hex(t, "50 02 00 01");
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL);
    free(t);
}

static uint16_t subscribe_two(ts_t *t, bool is_subscribe)
{
    kmqtt_subscription_t f[2] = {{{"x", 1}, 0, false, false, 0}, {{"y", 1}, 1, false, false, 0}};
    kmqtt_subscribe_t sub;
    memset(&sub, 0, sizeof sub);
    sub.items = f;
    sub.count = 2;
    uint16_t id = 0;
    assert_int_equal(ts_sub(t, &sub, is_subscribe, &id), KMQTT_OK);
    ts_take(t);
    return id;
}

static void suback_with_wrong_code_count_is_a_protocol_error(void **state)
{
    (void)state;
    ts_t *t = connected();
    assert_int_equal(subscribe_two(t, true), 1);
    ts_feed_hex(t, "90 03 00 01 00"); /* MQTT-3.9.3-1: one code per filter */
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL);
    free(t);
}

static void suback_for_unknown_id_is_a_protocol_error(void **state)
{
    (void)state;
    ts_t *t = connected();
    subscribe_two(t, true);
    ts_feed_hex(t, "90 04 00 02 00 01");
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL);
    free(t);
}

static void suback_for_an_unsubscribe_is_a_protocol_error(void **state)
{
    (void)state;
    ts_t *t = connected();
    subscribe_two(t, false);
    ts_feed_hex(t, "90 04 00 01 00 01");
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL);
    free(t);
}

static void suback_reports_one_code_per_filter(void **state)
{
    (void)state;
    ts_t *t = connected();
    subscribe_two(t, true);
    ts_feed_hex(t, "90 04 00 01 00 80");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_SUBACK);
    assert_int_equal(ev.count, 2);
    assert_int_equal(ev.codes[1], 0x80);
    free(t);
}

/* ------------------------------------------------------- protocol errors */

static void packets_only_servers_receive_are_protocol_errors(void **state)
{
    (void)state;
    const char *pkts[] = {
        "10 0d 00 04 4d 51 54 54 04 02 00 00 00 01 63", /* CONNECT */
        "82 06 00 01 00 01 78 00",                      /* SUBSCRIBE */
        "a2 05 00 01 00 01 78",                         /* UNSUBSCRIBE */
        "c0 00",                                        /* PINGREQ */
        "e0 00", /* DISCONNECT: servers never send it in 3.1.1 */
    };
    for (size_t i = 0; i < sizeof pkts / sizeof pkts[0]; i++) {
        ts_t *t = connected();
        ts_feed_hex(t, pkts[i]);
        if (ts_next_err(t) != KMQTT_EPROTOCOL)
            fail_msg("packet %zu was accepted", i);
        free(t);
    }
}

static void malformed_packet_gives_the_codec_error(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "40 03 00 01 00"); /* a 3.1.1 PUBACK has no reason code */
    assert_int_equal(ts_next_err(t), KMQTT_ETRAILING);
    free(t);
    t = connected();
    ts_feed_hex(t, "f0 00"); /* AUTH does not exist in 3.1.1 */
    assert_int_equal(ts_next_err(t), KMQTT_EPACKET_TYPE);
    free(t);
}

static void packet_larger_than_rx_buffer_is_refused_from_its_header(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "30 ac 02"); /* remaining length 300 > 256 */
    assert_int_equal(ts_next_err(t), KMQTT_ETOOBIG);
    free(t);
}

static void packet_exactly_filling_rx_buffer_is_accepted(void **state)
{
    (void)state;
    ts_t *t = connected();
    /* 256 bytes: 1 + 2 (remaining length 253) + 2 + 3 (topic) + 248 payload */
    uint8_t p[256];
    memset(p, 'z', sizeof p);
    p[0] = 0x30;
    p[1] = 0xFD;
    p[2] = 0x01;
    p[3] = 0x00;
    p[4] = 0x03;
    memcpy(p + 5, "a/b", 3);
    ts_feed(t, p, sizeof p);
    size_t space;
    (void)kmqtt_session_rx_space(&t->s, &space);
    assert_int_equal(space, 0); /* allowed: a packet waits */
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(ev.msg.payload_len, 248);
    (void)kmqtt_session_rx_space(&t->s, &space);
    assert_int_equal(space, 256);
    free(t);
}

/* ----------------------------------------------------- streams and buffers */

static const char script[] = "32 09 00 03 61 2f 62 00 05 68 69"  /* QoS 1 id 5 */
                             " 34 09 00 03 61 2f 62 00 06 68 69" /* QoS 2 id 6 */
                             " 3c 09 00 03 61 2f 62 00 06 68 69" /* its DUP */
                             " 62 02 00 06"                      /* PUBREL 6 */
                             " 40 02 00 01"                      /* PUBACK 1 */
                             " d0 00"                            /* PINGRESP */
                             " 30 07 00 03 61 2f 62 68 69";      /* QoS 0 */

typedef struct run {
    kmqtt_session_event_type_t types[16];
    uint16_t ids[16];
    size_t n;
    uint8_t sent[256];
    size_t sent_len;
} run_t;

static void drain_events(ts_t *t, run_t *r)
{
    kmqtt_session_event_t ev;
    kmqtt_err_t err;
    while ((err = kmqtt_session_next_event(&t->s, t->now, &ev)) == KMQTT_OK) {
        assert_true(r->n < 16);
        r->types[r->n] = ev.type;
        r->ids[r->n++] = ev.type == KMQTT_SESSION_EV_MESSAGE ? ev.msg.packet_id : ev.packet_id;
    }
    assert_int_equal(err, KMQTT_NEED_MORE);
    const uint8_t *buf;
    size_t n = kmqtt_session_tx_peek(&t->s, &buf);
    memcpy(r->sent + r->sent_len, buf, n);
    r->sent_len += n;
    kmqtt_session_tx_consume(&t->s, n, t->now);
}

static void play(bool bytewise, run_t *r)
{
    uint8_t bytes[256];
    size_t n = hex_decode(script, bytes, sizeof bytes);
    ts_t *t = connected();
    ts_publish(t, 1);
    ts_take(t);
    memset(r, 0, sizeof *r);
    if (bytewise) {
        for (size_t i = 0; i < n; i++) {
            ts_feed(t, bytes + i, 1);
            drain_events(t, r);
        }
    } else {
        ts_feed(t, bytes, n);
        drain_events(t, r);
    }
    free(t);
}

static void bytes_fed_one_at_a_time_give_the_same_events_and_answers(void **state)
{
    (void)state;
    run_t whole, single;
    play(false, &whole);
    play(true, &single);
    assert_int_equal(whole.n, 4); /* the PINGRESP is no event */
    assert_int_equal(whole.types[0], KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(whole.ids[0], 5);
    assert_int_equal(whole.types[1], KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(whole.ids[1], 6);
    assert_int_equal(whole.types[2], KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(whole.ids[2], 1);
    assert_int_equal(whole.types[3], KMQTT_SESSION_EV_MESSAGE);
    uint8_t want[32];
    size_t wn = hex_decode("40 02 00 05 50 02 00 06 50 02 00 06 70 02 00 06", want, sizeof want);
    assert_int_equal(whole.sent_len, wn);
    assert_memory_equal(whole.sent, want, wn);

    assert_int_equal(single.n, whole.n);
    assert_memory_equal(single.types, whole.types, sizeof whole.types[0] * whole.n);
    assert_memory_equal(single.ids, whole.ids, sizeof whole.ids[0] * whole.n);
    assert_int_equal(single.sent_len, whole.sent_len);
    assert_memory_equal(single.sent, whole.sent, whole.sent_len);
}

/* A packet whose answer does not fit tx waits in rx, unhandled, until tx
 * drained (session.h): answers keep the order of what they answer
 * (MQTT-4.6.0-2) however little room there is. */
static void answers_wait_for_room_in_a_full_send_buffer_in_order(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.tx_buffer_size = 16;
    c.rx_buffer_size = 512;
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, false, false);
    kmqtt_publish_t m = ts_msg(0);
    m.payload.ptr = (const uint8_t *)"123456";
    m.payload.len = 6;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK); /* 13 bytes */

    /* nine QoS 1 messages while only 3 bytes are free */
    for (uint16_t id = 1; id <= 9; id++)
        ts_feed_publish(t, 1, id, false);
    ts_no_event(t); /* the first answer has no place yet: it waits */

    uint8_t all[64];
    size_t total = 0;
    uint16_t next = 1;
    ts_take(t); /* the 13-byte PUBLISH */
    assert_int_equal(t->sent_len, 13);
    for (int round = 0; round < 20 && next <= 9; round++) {
        kmqtt_session_event_t ev;
        while (kmqtt_session_next_event(&t->s, t->now, &ev) == KMQTT_OK) {
            assert_int_equal(ev.type, KMQTT_SESSION_EV_MESSAGE);
            assert_int_equal(ev.msg.packet_id, next);
            next++;
        }
        ts_take(t);
        memcpy(all + total, t->sent, t->sent_len);
        total += t->sent_len;
    }
    assert_int_equal(next, 10);
    /* MQTT-4.6.0-2: PUBACKs in the order the messages came */
    assert_int_equal(total, 36);
    for (uint16_t i = 0; i < 9; i++) {
        assert_int_equal(all[4 * i], 0x40);
        assert_int_equal(all[4 * i + 3], i + 1);
    }
    free(t);
}

/* The waiting packet needs no timer: it is taken by the next
 * kmqtt_session_next_event once tx drained, which is what a driver calls
 * after sending (the threaded client also asks before it waits). */
static void blocked_packet_is_taken_once_room_returns(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.tx_buffer_size = 16;
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, false, false);
    kmqtt_publish_t m = ts_msg(0);
    m.payload.ptr = (const uint8_t *)"123456";
    m.payload.len = 6;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK);
    ts_feed_publish(t, 1, 1, false);
    ts_no_event(t);
    ts_no_event(t); /* asking again changes nothing */
    ts_take(t);
    assert_int_equal(ts_event(t, KMQTT_SESSION_EV_MESSAGE).msg.packet_id, 1);
    ts_expect_sent(t, "40 02 00 01");
    free(t);
}

/* MQTT-3.14.4-1: after our DISCONNECT nothing more is sent, so nothing
 * received is taken either (a QoS 1/2 message could not be answered); the
 * broker sends it again on the next connection, where it is delivered once. */
static void nothing_is_answered_after_disconnect(void **state)
{
    (void)state;
    ts_t *t = connected();
    assert_int_equal(ts_disc(t, 0, NULL), KMQTT_OK);
    ts_expect_sent(t, "e0 00");
    ts_feed_publish(t, 2, 4, false);
    ts_feed_publish(t, 1, 5, false);
    ts_feed_hex(t, "62 02 00 04");
    ts_no_event(t);
    ts_expect_nothing_sent(t);
    kmqtt_session_lost(&t->s);
    ts_connect(t, false, true);
    ts_feed_publish(t, 2, 4, true);
    assert_int_equal(ts_event(t, KMQTT_SESSION_EV_MESSAGE).msg.packet_id, 4);
    ts_expect_sent(t, "50 02 00 04");
    ts_feed_publish(t, 2, 4, true);
    ts_no_event(t); /* MQTT-4.3.3-2 */
    ts_expect_sent(t, "50 02 00 04");
    free(t);
}

/* A lost connection forgets the SUBSCRIBE / UNSUBSCRIBE awaiting their ack
 * (the driver fails its waiters: the threaded client with KMQTT_ECLOSED)
 * and keeps the outbound messages for the next connection. */
static void lost_forgets_pending_requests_and_keeps_messages(void **state)
{
    (void)state;
    ts_t *t = connected();
    (void)subscribe_two(t, true);
    (void)subscribe_two(t, false);
    uint16_t pid = ts_publish(t, 1);
    ts_feed_hex(t, "30 07 00 03"); /* half a packet, and unsent bytes */
    kmqtt_session_lost(&t->s);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_IDLE);
    ts_expect_nothing_sent(t);
    ts_no_event(t);
    assert_int_equal(kmqtt_session_inflight(&t->s), 1);
    size_t space;
    (void)kmqtt_session_rx_space(&t->s, &space);
    assert_int_equal(space, 256);
    /* the message goes out again on the next connection */
    ts_connect(t, false, true);
    ts_take(t);
    kmqtt_packet_t p[4];
    assert_int_equal(ts_sent_packets(t, p, 4), 1);
    assert_int_equal(p[0].u.publish.packet_id, pid);
    /* every request slot is free again (max_pending 4) */
    for (int i = 0; i < 4; i++)
        (void)subscribe_two(t, true);
    free(t);
}

static void several_packets_in_one_read_come_out_in_order(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "30 07 00 03 61 2f 62 68 69 30 07 00 03 61 2f 62 68 69 d0 00");
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_no_event(t); /* a PINGRESP clears the ping; the engine reports nothing */
    ts_no_event(t);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_packet_other_than_connack_is_a_protocol_error),
        cmocka_unit_test(second_connack_is_a_protocol_error),
        cmocka_unit_test(session_present_after_clean_start_is_a_protocol_error),
        cmocka_unit_test(nothing_is_decoded_while_idle),
        cmocka_unit_test(inbound_qos0_is_delivered_without_answer),
        cmocka_unit_test(inbound_qos1_is_delivered_and_acknowledged),
        cmocka_unit_test(inbound_qos2_is_delivered_exactly_once),
        cmocka_unit_test(inbound_qos2_beyond_a_311_table_forgets_the_oldest),
        cmocka_unit_test(inbound_qos2_beyond_our_receive_maximum_forgets_the_oldest_in_v5),
        cmocka_unit_test(inbound_qos2_bitmap_tracks_every_id_exactly_once),
        cmocka_unit_test(pubrel_for_unknown_id_still_gets_pubcomp),
        cmocka_unit_test(puback_and_pubcomp_for_unknown_ids_are_ignored),
        cmocka_unit_test(pubcomp_for_a_qos1_message_is_a_protocol_error),
        cmocka_unit_test(pubrec_for_unknown_id_gets_pubrel),
        cmocka_unit_test(pubrec_for_qos1_message_is_a_protocol_error),
        cmocka_unit_test(suback_with_wrong_code_count_is_a_protocol_error),
        cmocka_unit_test(suback_for_unknown_id_is_a_protocol_error),
        cmocka_unit_test(suback_for_an_unsubscribe_is_a_protocol_error),
        cmocka_unit_test(suback_reports_one_code_per_filter),
        cmocka_unit_test(packets_only_servers_receive_are_protocol_errors),
        cmocka_unit_test(malformed_packet_gives_the_codec_error),
        cmocka_unit_test(packet_larger_than_rx_buffer_is_refused_from_its_header),
        cmocka_unit_test(packet_exactly_filling_rx_buffer_is_accepted),
        cmocka_unit_test(bytes_fed_one_at_a_time_give_the_same_events_and_answers),
        cmocka_unit_test(answers_wait_for_room_in_a_full_send_buffer_in_order),
        cmocka_unit_test(blocked_packet_is_taken_once_room_returns),
        cmocka_unit_test(nothing_is_answered_after_disconnect),
        cmocka_unit_test(lost_forgets_pending_requests_and_keeps_messages),
        cmocka_unit_test(several_packets_in_one_read_come_out_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
