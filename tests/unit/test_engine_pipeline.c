/*
 * The pipelined connect (issue #18, kmqtt_session_config_t.pipeline): what
 * goes behind the CONNECT before the CONNACK, scripted bytes and a fake
 * clock. MQTT 3.1.4 lets a client send packets right after CONNECT; a
 * server that refuses the CONNECT processes none of them (MQTT-3.1.4-5), so
 * every path here checks that nothing is lost and nothing sent twice: the
 * CONNACK accepts, refuses (3.1.1 return codes, 5.0 reason codes), lowers
 * the caps the first flight was built for, finds the session or not; and
 * the caps of the last CONNACK, put back as from a store, bound the first
 * flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine_script.h"

static et_t T;

#define CONNECT_311 "10 10 00 04 4d 51 54 54 04 02 00 3c 00 04 64 65 76 31"
/* clean_session false */
#define CONNECT_311_KEEP "10 10 00 04 4d 51 54 54 04 00 00 3c 00 04 64 65 76 31"
#define CONNECT_5        "10 19 00 04 4d 51 54 54 05 02 00 3c 08 21 00 04 27 00 00 01 00 00 04 64 65 76 31"
/* PUBLISH "t" "x", QoS 1 / 2, ids 1 and 2; DUP set: 3a */
#define PUB1_311     "32 06 00 01 74 00 01 78"
#define PUB1_311_DUP "3a 06 00 01 74 00 01 78"
#define PUB1_5       "32 07 00 01 74 00 01 00 78"
#define PUB2_5       "32 07 00 01 74 00 02 00 78"
#define PUB1_5_QOS2  "34 07 00 01 74 00 01 00 78"

/* A session as et_start makes it, but pipelined (the harness's default is
 * the classic order) and, when keep, with a persistent session. */
static void start(uint8_t version, bool keep)
{
    et_setup(&T, version);
    T.cfg.pipeline = true;
    T.cfg.clean_session = !keep;
    assert_int_equal(et_init(&T), KMQTT_OK);
}

static kmqtt_err_t pub(uint8_t qos, bool retain, const char *payload, uint16_t *id)
{
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "t";
    m.topic_len = 1;
    m.qos = qos;
    m.retain = retain;
    m.payload = (const uint8_t *)payload;
    m.payload_len = strlen(payload);
    return kmqtt_session_publish(&T.s, &m, id);
}

static uint16_t pub_ok(uint8_t qos)
{
    uint16_t id = 0;
    assert_int_equal(pub(qos, false, "x", &id), KMQTT_OK);
    return id;
}

static void config_init_turns_pipelining_on(void **state)
{
    (void)state;
    kmqtt_session_config_t c;
    memset(&c, 0, sizeof c);
    kmqtt_session_config_init(&c);
    assert_true(c.pipeline);
}

/* The wake cycle's first flight: CONNECT and the QoS 1 PUBLISH in one
 * contiguous buffer (one send), the CONNACK and PUBACK in the answer. */
static void accepted_first_flight_is_connect_and_publish(void **state)
{
    (void)state;
    start(KMQTT_V311, false);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    assert_int_equal(pub_ok(1), 1);
    /* QoS 0 waits for the CONNACK (docs/architecture.md, decision 13). */
    assert_int_equal(pub(0, false, "x", NULL), KMQTT_ENOTCONN);
    et_expect_sent(&T, CONNECT_311 " " PUB1_311, 0);
    et_feed(&T, "20 02 00 00 40 02 00 01", 100);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_CONNACK, 100)->reason_code, 0);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 100);
    assert_int_equal(ev->packet_id, 1);
    assert_int_equal(ev->err, KMQTT_OK);
    et_none(&T, 100);
    et_expect_sent(&T, "", 100); /* not sent again after the CONNACK */
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
    assert_int_equal(pub(0, false, "x", NULL), KMQTT_OK);
}

/* MQTT-3.1.4-5: a refused CONNECT's first flight was not processed. The
 * message stays stored, no PUBLISHED comes for it, and the next connection
 * carries it again, once. Every 3.1.1 return code (3.2.2.3). */
static void refused_311_keeps_the_first_flight_stored(void **state)
{
    (void)state;
    for (unsigned rc = 1; rc <= 5; rc++) {
        char hex[16];
        start(KMQTT_V311, false);
        assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
        assert_int_equal(pub_ok(1), 1);
        et_expect_sent(&T, CONNECT_311 " " PUB1_311, 0);
        snprintf(hex, sizeof hex, "20 02 00 %02x", rc);
        et_feed(&T, hex, 100);
        assert_int_equal(et_take(&T, KMQTT_SESSION_EV_CONNACK, 100)->reason_code, rc);
        assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
        et_none(&T, 100);
        assert_int_equal(kmqtt_session_inflight(&T.s), 1);
        kmqtt_session_lost(&T.s);
        assert_int_equal(kmqtt_session_start(&T.s, 200), KMQTT_OK);
        et_expect_sent(&T, CONNECT_311 " " PUB1_311, 200);
        et_feed(&T, "20 02 00 00 40 02 00 01", 300);
        et_take(&T, KMQTT_SESSION_EV_CONNACK, 300);
        assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 300)->packet_id, 1);
        et_expect_sent(&T, "", 300);
        assert_int_equal(kmqtt_session_inflight(&T.s), 0);
    }
}

/* The same for 5.0 reason codes (3.2.2.2), and a SUBSCRIBE of the first
 * flight is forgotten with the connection (no SUBACK can come). */
static void refused_v5_keeps_the_first_flight_stored(void **state)
{
    (void)state;
#if KMQTT_CFG_V5
    static const uint8_t codes[] = {0x80, 0x85, 0x86, 0x87, 0x88, 0x89, 0x97, 0x9f};
    for (size_t i = 0; i < sizeof codes; i++) {
        char hex[24];
        start(KMQTT_V5, false);
        assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
        assert_int_equal(pub_ok(1), 1);
        et_expect_sent(&T, CONNECT_5 " " PUB1_5, 0);
        snprintf(hex, sizeof hex, "20 03 00 %02x 00", codes[i]);
        et_feed(&T, hex, 100);
        assert_int_equal(et_take(&T, KMQTT_SESSION_EV_CONNACK, 100)->reason_code, codes[i]);
        assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
        et_none(&T, 100);
        assert_int_equal(kmqtt_session_inflight(&T.s), 1);
        kmqtt_session_lost(&T.s);
        assert_int_equal(kmqtt_session_start(&T.s, 200), KMQTT_OK);
        et_expect_sent(&T, CONNECT_5 " " PUB1_5, 200);
        et_feed(&T, "20 03 00 00 00 40 02 00 01", 300);
        et_take(&T, KMQTT_SESSION_EV_CONNACK, 300);
        assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 300)->packet_id, 1);
        et_expect_sent(&T, "", 300);
    }
#endif
}

static void subscribe_rides_the_first_flight(void **state)
{
    (void)state;
    kmqtt_session_sub_t sub = {"s", 1};
    uint16_t id = 0;
    start(KMQTT_V311, false);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, &id), KMQTT_OK);
    et_expect_sent(&T, CONNECT_311 " 82 06 00 01 00 01 73 01", 0);
    et_feed(&T, "20 02 00 00 90 03 00 01 01", 100);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 100);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_SUBACK, 100)->packet_id, id);
}

/* Stored messages go in the first flight as the CONNECT expects the
 * session: with DUP (MQTT-3.3.1-1) for a persistent one. Session present
 * 1: the server has them, nothing goes again. Session present 0: the server
 * processed them in its new session (they came after the CONNECT): nothing
 * goes again either, and their acks complete them. */
static void session_present_1_and_0_send_nothing_twice(void **state)
{
    (void)state;
    for (int sp = 0; sp <= 1; sp++) {
        start(KMQTT_V311, true);
        assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
        et_expect_sent(&T, CONNECT_311_KEEP, 0);
        et_feed(&T, "20 02 00 00", 10);
        et_take(&T, KMQTT_SESSION_EV_CONNACK, 10);
        assert_int_equal(pub_ok(1), 1);
        et_expect_sent(&T, PUB1_311, 10);
        kmqtt_session_lost(&T.s); /* no PUBACK */

        assert_int_equal(kmqtt_session_start(&T.s, 100), KMQTT_OK);
        et_expect_sent(&T, CONNECT_311_KEEP " " PUB1_311_DUP, 100);
        et_feed(&T, sp ? "20 02 01 00" : "20 02 00 00", 200);
        assert_int_equal(et_take(&T, KMQTT_SESSION_EV_CONNACK, 200)->session_present, sp);
        et_none(&T, 200);
        et_expect_sent(&T, "", 200);
        et_feed(&T, "40 02 00 01", 200);
        assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 200)->packet_id, 1);
        assert_int_equal(kmqtt_session_inflight(&T.s), 0);
    }
}

/* A PUBREL owed goes in the first flight too. Session present 0: the
 * server kept nothing, so the message is complete (reported, as without
 * pipelining) and the PUBCOMP that may still come is an unknown ack. */
static void pubrel_in_first_flight_with_no_session(void **state)
{
    (void)state;
#if KMQTT_CFG_QOS2
    start(KMQTT_V311, true);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, "20 02 00 00", 10);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 10);
    assert_int_equal(pub_ok(2), 1);
    et_drain(&T, 10);
    et_feed(&T, "50 02 00 01", 20);
    et_none(&T, 20);
    et_expect_sent(&T, "62 02 00 01", 20);
    kmqtt_session_lost(&T.s);

    assert_int_equal(kmqtt_session_start(&T.s, 100), KMQTT_OK);
    et_expect_sent(&T, CONNECT_311_KEEP " 62 02 00 01", 100);
    et_feed(&T, "20 02 00 00", 200);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 200);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 200);
    assert_int_equal(ev->packet_id, 1);
    assert_int_equal(ev->err, KMQTT_OK);
    et_feed(&T, "70 02 00 01", 210);
    et_none(&T, 210);
    assert_int_equal(kmqtt_session_unknown_acks(&T.s), 1);
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
#endif
}

/* 5.0: a first flight built on the defaults (no CONNACK seen) carried a
 * QoS 2 message; the CONNACK lowers Maximum QoS to 1. What the flight
 * carried is the server's to judge (not reported failed: it may have been
 * processed). The server's DISCONNECT 0x9B (MQTT-3.2.2-12) leaves it
 * stored; the next first flight, bound by the caps now known, leaves it
 * out, and that CONNACK drops it unsent with KMQTT_EUNSUPPORTED (decision
 * 8, MQTT-3.2.2-11). */
static void lowered_max_qos_after_the_first_flight(void **state)
{
    (void)state;
#if KMQTT_CFG_V5 && KMQTT_CFG_QOS2
    start(KMQTT_V5, false);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    assert_int_equal(pub_ok(2), 1);
    et_expect_sent(&T, CONNECT_5 " " PUB1_5_QOS2, 0);
    et_feed(&T, "20 05 00 00 02 24 01", 100);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 100);
    et_none(&T, 100);
    assert_int_equal(kmqtt_session_inflight(&T.s), 1);
    et_feed(&T, "e0 01 9b", 100);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_DISCONNECT, 100)->reason_code, 0x9b);
    kmqtt_session_lost(&T.s);
    assert_int_equal(kmqtt_session_inflight(&T.s), 1);

    kmqtt_session_caps_t caps;
    kmqtt_session_server_caps(&T.s, &caps);
    assert_true(caps.seen);
    assert_int_equal(caps.max_qos, 1);
    assert_int_equal(kmqtt_session_start(&T.s, 200), KMQTT_OK);
    et_expect_sent(&T, CONNECT_5, 200);
    et_feed(&T, "20 05 00 00 02 24 01", 300);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 300);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 300);
    assert_int_equal(ev->packet_id, 1);
    assert_int_equal(ev->err, KMQTT_EUNSUPPORTED);
    et_expect_sent(&T, "", 300);
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
#endif
}

/* Caps persisted from an earlier CONNACK (as a store gives them back to a
 * new process) bound what may join the first flight: Maximum QoS,
 * Retain Available, Maximum Packet Size, Receive Maximum. What does not fit
 * waits for the CONNACK (KMQTT_ENOTCONN), as without pipelining. */
static void restored_caps_bound_the_first_flight(void **state)
{
    (void)state;
#if KMQTT_CFG_V5
    kmqtt_session_caps_t caps, got;
    start(KMQTT_V5, false);
    kmqtt_session_server_caps(&T.s, &caps);
    assert_false(caps.seen); /* the specification's defaults */
    assert_int_equal(caps.max_qos, 2);
    caps.max_qos = 1;
    caps.receive_max = 1;
    caps.max_packet_size = 12;
    caps.retain_available = false;
    assert_int_equal(kmqtt_session_restore_caps(&T.s, &caps), KMQTT_OK);
    kmqtt_session_server_caps(&T.s, &got);
    assert_true(got.seen);
    assert_int_equal(got.max_qos, 1);
    assert_int_equal(got.receive_max, 1);
    assert_int_equal(got.max_packet_size, 12);
    assert_false(got.retain_available);

    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    assert_int_equal(kmqtt_session_restore_caps(&T.s, &caps), KMQTT_ESTATE);
    assert_int_equal(pub(2, false, "x", NULL), KMQTT_ENOTCONN);        /* Maximum QoS */
    assert_int_equal(pub(1, true, "x", NULL), KMQTT_ENOTCONN);         /* Retain Available */
    assert_int_equal(pub(1, false, "xxxxxxxx", NULL), KMQTT_ENOTCONN); /* 16 > 12 bytes */
    assert_int_equal(pub_ok(1), 1);
    assert_int_equal(pub(1, false, "x", NULL), KMQTT_ELIMIT); /* Receive Maximum */
    et_expect_sent(&T, CONNECT_5 " " PUB1_5, 0);
    /* The CONNACK raises them: the next publish may use it. */
    et_feed(&T, "20 03 00 00 00 40 02 00 01", 100);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 100);
    et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 100);
    assert_int_equal(pub(2, true, "xxxxxxxx", NULL), KMQTT_OK);
#endif
}

/* Receive Maximum lowered below the records owed: the first flight takes
 * as many as the remembered Receive Maximum (MQTT-3.3.4-7), the rest follow
 * the acks, in order. */
static void receive_maximum_bounds_the_stored_records(void **state)
{
    (void)state;
#if KMQTT_CFG_V5
    kmqtt_session_caps_t caps;
    start(KMQTT_V5, false);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    assert_int_equal(pub_ok(1), 1);
    assert_int_equal(pub_ok(1), 2);
    et_expect_sent(&T, CONNECT_5 " " PUB1_5 " " PUB2_5, 0);
    kmqtt_session_lost(&T.s); /* no CONNACK: both stay stored */
    assert_int_equal(kmqtt_session_inflight(&T.s), 2);
    kmqtt_session_server_caps(&T.s, &caps);
    caps.receive_max = 1;
    assert_int_equal(kmqtt_session_restore_caps(&T.s, &caps), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 100), KMQTT_OK);
    et_expect_sent(&T, CONNECT_5 " " PUB1_5, 100);
    et_feed(&T, "20 06 00 00 03 21 00 01", 200);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 200);
    et_expect_sent(&T, "", 200);
    et_feed(&T, "40 02 00 01", 210);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 210)->packet_id, 1);
    et_expect_sent(&T, PUB2_5, 210);
#endif
}

/* A lowered Maximum Packet Size: a stored message over it is left out of
 * the first flight and, at the CONNACK, dropped unsent (MQTT-3.2.2-15). */
static void lowered_packet_size_keeps_big_records_out(void **state)
{
    (void)state;
#if KMQTT_CFG_V5
    kmqtt_session_caps_t caps;
    start(KMQTT_V5, false);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    uint16_t id = 0;
    assert_int_equal(pub(1, false, "xxxxxxxx", &id), KMQTT_OK);
    et_drain(&T, 0);
    kmqtt_session_lost(&T.s);
    kmqtt_session_server_caps(&T.s, &caps);
    caps.max_packet_size = 12;
    assert_int_equal(kmqtt_session_restore_caps(&T.s, &caps), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 100), KMQTT_OK);
    et_expect_sent(&T, CONNECT_5, 100);
    et_feed(&T, "20 08 00 00 05 27 00 00 00 0c", 200);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 200);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 200);
    assert_int_equal(ev->packet_id, id);
    assert_int_equal(ev->err, KMQTT_ETOOBIG);
    et_expect_sent(&T, "", 200);
#endif
}

/* MQTT-3.1.2-30: with an Authentication Method nothing but AUTH or
 * DISCONNECT goes before the CONNACK: no pipelining. */
static void authentication_method_turns_pipelining_off(void **state)
{
    (void)state;
#if KMQTT_CFG_V5
    static const uint8_t method[] = {0x15, 0x00, 0x01, 'm'};
    et_setup(&T, KMQTT_V5);
    T.cfg.pipeline = true;
    T.cfg.connect_props = method;
    T.cfg.connect_props_len = sizeof method;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    assert_int_equal(pub(1, false, "x", NULL), KMQTT_ENOTCONN);
    const uint8_t *buf;
    size_t n = kmqtt_session_tx_peek(&T.s, &buf);
    assert_true(n > 2);
    assert_int_equal(buf[0], 0x10);
    assert_int_equal(n, 2u + buf[1]); /* the CONNECT alone */
#endif
}

static void pipeline_off_is_the_classic_order(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311); /* the harness's pipeline = false */
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    assert_int_equal(pub(1, false, "x", NULL), KMQTT_ENOTCONN);
    et_expect_sent(&T, CONNECT_311, 0);
}

static void restore_caps_rejects_bad_arguments(void **state)
{
    (void)state;
    kmqtt_session_caps_t caps;
    start(KMQTT_V311, false);
    kmqtt_session_server_caps(&T.s, &caps);
    assert_int_equal(kmqtt_session_restore_caps(NULL, &caps), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_restore_caps(&T.s, NULL), KMQTT_EINVAL);
    caps.max_qos = 3;
    assert_int_equal(kmqtt_session_restore_caps(&T.s, &caps), KMQTT_EINVAL);
    caps.max_qos = 2;
    caps.receive_max = 0;
    assert_int_equal(kmqtt_session_restore_caps(&T.s, &caps), KMQTT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_init_turns_pipelining_on),
        cmocka_unit_test(accepted_first_flight_is_connect_and_publish),
        cmocka_unit_test(refused_311_keeps_the_first_flight_stored),
        cmocka_unit_test(refused_v5_keeps_the_first_flight_stored),
        cmocka_unit_test(subscribe_rides_the_first_flight),
        cmocka_unit_test(session_present_1_and_0_send_nothing_twice),
        cmocka_unit_test(pubrel_in_first_flight_with_no_session),
        cmocka_unit_test(lowered_max_qos_after_the_first_flight),
        cmocka_unit_test(restored_caps_bound_the_first_flight),
        cmocka_unit_test(receive_maximum_bounds_the_stored_records),
        cmocka_unit_test(lowered_packet_size_keeps_big_records_out),
        cmocka_unit_test(authentication_method_turns_pipelining_off),
        cmocka_unit_test(pipeline_off_is_the_classic_order),
        cmocka_unit_test(restore_caps_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
