/*
 * The protocol engine (include/kmqtt/session.h) driven directly: scripted
 * server bytes, a fake clock, the bytes it wants sent compared exactly. One
 * test per decision of docs/architecture.md ("The engine: decisions") and
 * the rules both drivers rely on. The nano driver's own tests
 * (test_nano_*.c) go through a scripted transport on top.
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
/* 5.0: the engine appends Receive Maximum (the inbound table, 4) and Maximum
 * Packet Size (rx, 256) to the caller's (empty) property block. */
#define CONNECT_5 \
    "10 19 00 04 4d 51 54 54 05 02 00 3c 08 21 00 04 27 00 00 01 00 00 04 64 65 76 31"

static uint16_t publish(const char *topic, const char *payload, uint8_t qos)
{
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = topic;
    m.topic_len = (uint16_t)strlen(topic);
    m.qos = qos;
    m.payload = (const uint8_t *)payload;
    m.payload_len = strlen(payload);
    uint16_t id = 0;
    assert_int_equal(kmqtt_session_publish(&T.s, &m, &id), KMQTT_OK);
    return id;
}

/* ------------------------------------------------------------ connection */

static void start_queues_connect_with_what_the_engine_advertises(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_IDLE);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_ESTATE);
    et_expect_sent(&T, CONNECT_311, 0);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_CONNECTING);
#if KMQTT_CFG_V5
    et_start(&T, KMQTT_V5);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_expect_sent(&T, CONNECT_5, 0);
#endif
}

/* MQTT-3.2.0-1: the first packet from the server is CONNACK. */
static void packet_before_connack_is_a_protocol_error(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, "d0 00", 0);
    assert_int_equal(et_next(&T, 0), KMQTT_EPROTOCOL);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
    kmqtt_session_lost(&T.s);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_IDLE);
}

/* A refusal ends the connection: the event says why (3.2.2.3). */
static void refused_connack_ends_the_session(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, "20 02 00 05", 0);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_CONNACK, 0)->reason_code, 5);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
    et_none(&T, 0);
}

/* ------------------------------------------------- decision 5: acks by id */

/* An ack for an id no record holds is ignored and counted; a PUBREC still
 * gets its PUBREL so the server can finish (5.0: 0x92, Packet Identifier not
 * found). The message in flight is untouched. */
static void unknown_acks_are_ignored_and_counted(void **state)
{
    (void)state;
    for (int v5 = 0; v5 <= KMQTT_CFG_V5; v5++) {
        et_start(&T, v5 ? KMQTT_V5 : KMQTT_V311);
        et_connect(&T, 0, false, "");
        uint16_t id = publish("t/1", "x", 1);
        et_drain(&T, 0);
        uint16_t other = (uint16_t)(id + 1);
        et_feed(&T, et_ack(0x40, other), 1);
        et_feed(&T, et_ack(0x70, other), 1);
        et_feed(&T, et_ack(0x50, other), 1);
        et_none(&T, 1);
        et_expect_sent(&T, v5 ? "62 03 00 02 92" : "62 02 00 02", 1);
        assert_int_equal(kmqtt_session_unknown_acks(&T.s), 3);
        assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_CONNECTED);
        assert_int_equal(kmqtt_session_inflight(&T.s), 1);
        et_feed(&T, et_ack(0x40, id), 2);
        assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 2)->packet_id, id);
        assert_int_equal(kmqtt_session_inflight(&T.s), 0);
    }
}

/* A known id with the wrong kind of ack is a protocol error (the server's
 * state of the flow is not ours); 5.0 says so with DISCONNECT 0x82. */
static void wrong_kind_of_ack_is_a_protocol_error(void **state)
{
    (void)state;
    static const struct {
        uint8_t qos, ack;
    } cases[] = {{2, 0x40}, {1, 0x50}, {1, 0x70}, {2, 0x70}};
    for (int v5 = 0; v5 <= KMQTT_CFG_V5; v5++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            if (!KMQTT_CFG_QOS2 && (cases[i].qos == 2 || cases[i].ack != 0x40))
                continue;
            et_start(&T, v5 ? KMQTT_V5 : KMQTT_V311);
            et_connect(&T, 0, false, "");
            uint16_t id = publish("t/1", "x", cases[i].qos);
            et_drain(&T, 0);
            et_feed(&T, et_ack(cases[i].ack, id), 1);
            assert_int_equal(et_next(&T, 1), KMQTT_EPROTOCOL);
            assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
            et_expect_sent(&T, v5 ? "e0 01 82" : "", 1);
            assert_int_equal(kmqtt_session_close_reason(&T.s), v5 ? 0x82 : 0);
            assert_int_equal(kmqtt_session_inflight(&T.s), 1);
        }
    }
}

/* ---------------------------------------- decision 6: inbound QoS 2 bound */

#if KMQTT_CFG_QOS2
static const char *qos2_publish(uint16_t id, bool v5, bool dup)
{
    static char b[64];
    snprintf(b, sizeof b, "%02x %02x 00 01 74 %02x %02x %s78", dup ? 0x3c : 0x34, v5 ? 7 : 6,
             id >> 8, id & 0xff, v5 ? "00 " : "");
    return b;
}

/* One more QoS 2 message than the inbound table holds (MQTT-3.3.4-9 binds
 * the server; mosquitto 2.0 frees its quota at PUBREC): the oldest id, whose
 * PUBREC went first, is forgotten and counted; the connection stays up, no
 * DISCONNECT 0x93. Exactly once holds for the ids still held
 * (MQTT-4.3.3-2); a PUBREL for the forgotten one is answered all the same. */
static void inbound_qos2_beyond_receive_maximum_forgets_the_oldest(void **state)
{
    (void)state;
    for (int v5 = 0; v5 <= KMQTT_CFG_V5; v5++) {
        et_start(&T, v5 ? KMQTT_V5 : KMQTT_V311);
        et_connect(&T, 0, false, "");
        for (uint16_t id = 1; id <= ET_INBOUND + 1; id++) {
            et_feed(&T, qos2_publish(id, v5, false), 1);
            assert_int_equal(et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1)->msg.packet_id, id);
            et_expect_sent(&T, et_ack(0x50, id), 1);
        }
        et_none(&T, 1);
        assert_int_equal(kmqtt_session_qos2_evictions(&T.s), 1);
        assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_CONNECTED);
        /* A copy of a held one: PUBREC again, not delivered again. */
        et_feed(&T, qos2_publish(ET_INBOUND + 1, v5, true), 2);
        et_none(&T, 2);
        et_expect_sent(&T, et_ack(0x50, ET_INBOUND + 1), 2);
        /* PUBREL of the forgotten id 1: PUBCOMP (5.0: 0x92); of id 2: PUBCOMP. */
        et_feed(&T, et_ack(0x62, 1), 3);
        et_feed(&T, et_ack(0x62, 2), 3);
        et_none(&T, 3);
        et_expect_sent(&T, v5 ? "70 03 00 01 92 70 02 00 02" : "70 02 00 01 70 02 00 02", 3);
    }
}

#if KMQTT_CFG_INBOUND_BITS
/* The 3.1.1 table of one bit per id (decision 6): never full, never forgets,
 * so exactly once holds for any number of messages in flight. */
static void inbound_bits_hold_every_id(void **state)
{
    (void)state;
    static uint8_t bits[KMQTT_SESSION_INBOUND_BITS_SIZE];
    et_setup(&T, KMQTT_V311);
    T.bufs.inbound = NULL;
    T.bufs.inbound_max = 0;
    T.bufs.inbound_bits = bits;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    for (uint16_t id = 1; id <= 40; id++) {
        et_feed(&T, qos2_publish((uint16_t)(id * 1000u), false, false), 1);
        et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1);
        et_drain(&T, 1);
    }
    for (uint16_t id = 1; id <= 40; id++) {
        et_feed(&T, qos2_publish((uint16_t)(id * 1000u), false, true), 2);
        et_none(&T, 2);
    }
    assert_int_equal(kmqtt_session_qos2_evictions(&T.s), 0);
    et_drain(&T, 2);
    et_feed(&T, et_ack(0x62, 1000), 3);
    et_none(&T, 3);
    et_expect_sent(&T, "70 02 03 e8", 3);
    /* Released: a new PUBLISH with that id is a new message. */
    et_feed(&T, qos2_publish(1000, false, false), 4);
    et_take(&T, KMQTT_SESSION_EV_MESSAGE, 4);
    /* The bitmap is 3.1.1's: a 5.0 session needs its table (Receive Maximum). */
    et_setup(&T, KMQTT_V5);
    T.bufs.inbound = NULL;
    T.bufs.inbound_max = 0;
    T.bufs.inbound_bits = bits;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
}
#endif
#endif

/* ------------------------------------------------- decision 7: keepalive */

/* MQTT-3.1.2-23 asks for a packet within each keepalive; the engine also
 * pings when nothing was received for one (3.1.2.10 allows a PINGREQ at any
 * time), so a dead broker is noticed while the application keeps sending. */
static void keepalive_pings_when_nothing_was_received(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.keepalive_s = 10;
    T.cfg.ping_timeout_ms = 0; /* half the keepalive: 5 s */
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    uint32_t next;
    for (uint32_t t = 1000; t < 10000; t += 1000) {
        publish("t/1", "x", 0);
        et_drain(&T, t); /* sent: the send side is never idle */
        assert_int_equal(kmqtt_session_tick(&T.s, t, &next), KMQTT_OK);
        assert_int_equal(next, 10000 - t);
        et_expect_sent(&T, "", t);
    }
    assert_int_equal(kmqtt_session_tick(&T.s, 10000, &next), KMQTT_OK);
    et_expect_sent(&T, "c0 00", 10000);
    assert_int_equal(next, 5000);
    assert_int_equal(kmqtt_session_tick(&T.s, 14999, &next), KMQTT_OK);
    assert_int_equal(next, 1);
    assert_int_equal(kmqtt_session_tick(&T.s, 15000, &next), KMQTT_EKEEPALIVE);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
}

/* The classic case: bytes arrive, nothing is sent: PINGREQ at the keepalive;
 * its PINGRESP clears the deadline. Time wraps at 2^32 on the way. */
static void keepalive_pings_when_nothing_was_sent_across_the_wrap(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.keepalive_s = 10;
    assert_int_equal(et_init(&T), KMQTT_OK);
    uint32_t t0 = UINT32_MAX - 4000u, next;
    et_connect(&T, t0, false, "");
    for (uint32_t t = t0 + 1000u; t != t0 + 10000u; t += 1000u) {
        et_feed(&T, "30 04 00 01 74 78", t);
        et_take(&T, KMQTT_SESSION_EV_MESSAGE, t);
        assert_int_equal(kmqtt_session_tick(&T.s, t, &next), KMQTT_OK);
        et_expect_sent(&T, "", t);
    }
    assert_int_equal(kmqtt_session_tick(&T.s, t0 + 10000u, &next), KMQTT_OK);
    et_expect_sent(&T, "c0 00", t0 + 10000u);
    assert_int_equal(next, 10000); /* ping_timeout_ms of the fixture */
    et_feed(&T, "d0 00", t0 + 10500u);
    et_none(&T, t0 + 10500u);
    assert_int_equal(kmqtt_session_tick(&T.s, t0 + 10500u, &next), KMQTT_OK);
    assert_int_equal(next, 9500);
    assert_int_equal(kmqtt_session_tick(&T.s, t0 + 25000u, &next), KMQTT_OK);
    et_expect_sent(&T, "c0 00", t0 + 25000u);
}

/* ------------------------------------- decision 8: caps lowered by CONNACK */

#if KMQTT_CFG_V5
/* A reconnect whose CONNACK lowers Maximum Packet Size below a stored
 * PUBLISH (MQTT-3.2.2-15) or Maximum QoS below its QoS (MQTT-3.2.2-11): the
 * message is not sent, it is reported complete with an error. */
static void lowered_caps_drop_stored_messages_unsent(void **state)
{
    (void)state;
    static const struct {
        const char *props;
        kmqtt_err_t err;
    } cases[] = {{"27 00 00 00 32", KMQTT_ETOOBIG}, {"24 00", KMQTT_EUNSUPPORTED}};
    char big[100];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (size_t i = 0; i < 2; i++) {
        et_setup(&T, KMQTT_V5);
        T.cfg.clean_session = false;
        assert_int_equal(et_init(&T), KMQTT_OK);
        et_connect(&T, 0, false, "");
        uint16_t id = publish("t/1", big, 1); /* a 110-byte PUBLISH */
        uint16_t small = publish("t/1", "s", 0);
        (void)small;
        et_drain(&T, 0);
        kmqtt_session_lost(&T.s);
        et_connect(&T, 10, true, cases[i].props);
        const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 10);
        assert_int_equal(ev->packet_id, id);
        assert_int_equal(ev->err, cases[i].err);
        et_none(&T, 10);
        et_expect_sent(&T, "", 10);
        assert_int_equal(kmqtt_session_inflight(&T.s), 0);
        assert_int_equal(kmqtt_session_store_used(&T.s), 0);
    }
}
#endif

/* ------------------------------------------------- store and resend */

#if KMQTT_CFG_QOS2
/* MQTT-4.4.0-1: after a reconnect that finds the session, unacknowledged
 * PUBLISH packets go again with DUP (MQTT-3.3.1-1) and released ones as
 * PUBREL, in their original order; without the session the PUBLISH goes as
 * new and the released one is reported done (the server kept nothing). */
static void resend_after_reconnect_in_order(void **state)
{
    (void)state;
    for (int sp = 1; sp >= 0; sp--) {
        et_setup(&T, KMQTT_V311);
        T.cfg.clean_session = false;
        assert_int_equal(et_init(&T), KMQTT_OK);
        et_connect(&T, 0, false, "");
        uint16_t a = publish("t/1", "a", 2);
        uint16_t b = publish("t/1", "b", 1);
        et_drain(&T, 0);
        et_feed(&T, et_ack(0x50, a), 1);
        et_none(&T, 1);
        et_expect_sent(&T, et_ack(0x62, a), 1);
        kmqtt_session_lost(&T.s);
        et_connect(&T, 2, sp, "");
        if (sp) {
            et_expect_sent(&T, "62 02 00 01 3a 08 00 03 74 2f 31 00 02 62", 2);
        } else {
            const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 2);
            assert_int_equal(ev->packet_id, a);
            assert_int_equal(ev->err, KMQTT_OK);
            et_expect_sent(&T, "32 08 00 03 74 2f 31 00 02 62", 2);
        }
        et_none(&T, 2);
        (void)b;
    }
}
#endif

/* MQTT-4.6.0-2/-3: a packet whose answer does not fit tx waits in rx; the
 * answers go in the order of what they answer once tx drained. */
static void answer_that_does_not_fit_waits_in_order(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311);
    et_connect(&T, 0, false, "");
    char fill[ET_TX_SIZE];
    memset(fill, 'f', sizeof fill);
    fill[ET_TX_SIZE - 8] = '\0'; /* a 254-byte PUBLISH: leaves 2 bytes of tx */
    publish("t", fill, 0);
    et_feed(&T, "32 05 00 01 74 00 07 32 05 00 01 74 00 08", 1);
    et_none(&T, 1);
    const uint8_t *buf;
    assert_int_equal(kmqtt_session_tx_peek(&T.s, &buf), ET_TX_SIZE - 2);
    et_drain(&T, 1);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1)->msg.packet_id, 7);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1)->msg.packet_id, 8);
    et_none(&T, 1);
    et_expect_sent(&T, "40 02 00 07 40 02 00 08", 1);
}

/* DESIGN rule 6: what was offered to the transport is offered again
 * unchanged; a packet queued meanwhile goes behind it. */
static void partly_taken_bytes_stay_as_they_were(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311);
    et_connect(&T, 0, false, "");
    publish("t/1", "abc", 0);
    const uint8_t *buf;
    kmqtt_session_tx_consume(&T.s, 3, 1);
    publish("t/1", "d", 0);
    assert_int_equal(kmqtt_session_tx_peek(&T.s, &buf), 7 + 8);
    et_expect_sent(&T, "03 74 2f 31 61 62 63 30 06 00 03 74 2f 31 64", 1);
}

/* ------------------------------------------------ store and forward */

#if KMQTT_CFG_QOS2 && KMQTT_CFG_OFFLINE_QUEUE
static void change_hook_reports_each_step_of_a_flow(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311);
    et_connect(&T, 0, false, "");
    /* A new session: the inbound ids of any old one are gone. */
    assert_int_equal(T.changes, 1);
    assert_int_equal(T.change[0], KMQTT_SESSION_CH_INBOUND_CLEAR);
    T.changes = 0;
    uint16_t id = publish("t/1", "x", 2);
    assert_int_equal(T.changes, 1);
    assert_int_equal(T.change[0], KMQTT_SESSION_CH_PUBLISH);
    assert_int_equal(T.change_id[0], id);
    assert_int_equal(T.change_len[0], 10);
    et_drain(&T, 0);
    et_feed(&T, et_ack(0x50, id), 1);
    et_none(&T, 1);
    assert_int_equal(T.change[1], KMQTT_SESSION_CH_PUBREL);
    et_feed(&T, et_ack(0x70, id), 2);
    et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 2);
    assert_int_equal(T.changes, 3);
    assert_int_equal(T.change[2], KMQTT_SESSION_CH_DONE);
    assert_int_equal(T.change_id[2], id);
}
#endif

#if KMQTT_CFG_OFFLINE_QUEUE
/* DESIGN rule 7: a restored record is checked like a received packet before
 * it is trusted; a good one goes on the next connection with DUP when the
 * session was found. */
static void restore_checks_the_record_then_resends_it(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    static const uint8_t good[] = {0x32, 0x06, 0x00, 0x01, 't', 0x00, 0x09, 'x'};
    uint8_t bad[sizeof good];
    memcpy(bad, good, sizeof good);
    bad[1] = 0x07; /* longer than the record */
    assert_int_equal(kmqtt_session_restore(&T.s, 9, false, bad, sizeof bad), KMQTT_ESTORE);
    memcpy(bad, good, sizeof good);
    bad[0] = 0x30; /* QoS 0: nothing to restore */
    assert_int_equal(kmqtt_session_restore(&T.s, 9, false, bad, sizeof bad), KMQTT_ESTORE);
    memcpy(bad, good, sizeof good);
    bad[4] = '#'; /* not a topic name */
    assert_int_equal(kmqtt_session_restore(&T.s, 9, false, bad, sizeof bad), KMQTT_ESTORE);
    /* another id than the record's */
    assert_int_equal(kmqtt_session_restore(&T.s, 8, false, good, sizeof good), KMQTT_ESTORE);
    assert_int_equal(kmqtt_session_inflight(&T.s), 0); /* nothing taken */
    assert_int_equal(kmqtt_session_restore(&T.s, 9, false, good, sizeof good), KMQTT_OK);
    assert_int_equal(kmqtt_session_restore(&T.s, 9, false, good, sizeof good), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_inflight(&T.s), 1);
    et_connect(&T, 0, true, "");
    et_expect_sent(&T, "3a 06 00 01 74 00 09 78", 0);
    assert_int_equal(kmqtt_session_restore(&T.s, 10, false, good, sizeof good), KMQTT_ESTATE);
}
#endif

/* ------------------------------------------------------------- 5.0 errors */

#if KMQTT_CFG_V5
/* 4.13: a protocol error in 5.0 is told to the server with its reason. */
static void v5_errors_send_their_disconnect_reason(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        kmqtt_err_t err;
        uint8_t reason;
    } cases[] = {
        {"30 08 00 01 74 03 23 00 01 78", KMQTT_EPROTOCOL, 0x94}, /* a Topic Alias */
        {"30 05 00 01 74 05 78", KMQTT_EPROP_LENGTH, 0x81},       /* props past the packet */
        {"30 83 02", KMQTT_ETOOBIG, 0x95},                         /* over rx (Maximum Packet Size) */
    };
    for (size_t i = 0; i < 3; i++) {
        et_start(&T, KMQTT_V5);
        et_connect(&T, 0, false, "");
        et_feed(&T, cases[i].in, 1);
        assert_int_equal(et_next(&T, 1), cases[i].err);
        char want[16];
        snprintf(want, sizeof want, "e0 01 %02x", cases[i].reason);
        et_expect_sent(&T, want, 1);
        assert_int_equal(kmqtt_session_close_reason(&T.s), cases[i].reason);
    }
}

/* 3.14: the server's DISCONNECT ends the session, with its reason. */
static void server_disconnect_is_an_event_and_ends_the_session(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V5);
    et_connect(&T, 0, false, "");
    et_feed(&T, "e0 01 8b", 1);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_DISCONNECT, 1)->reason_code, 0x8b);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
    et_none(&T, 1);
}
#endif

/* ------------------------------------------------------------- helpers */

/* Decision 10: one backoff for both drivers, random in [d/2, d], d doubling
 * to the maximum. */
static void backoff_is_random_within_half_to_whole(void **state)
{
    (void)state;
    uint32_t d = 1000;
    assert_int_equal(kmqtt_session_backoff(&d, 8000, 0), 500);
    assert_int_equal(d, 2000);
    assert_int_equal(kmqtt_session_backoff(&d, 8000, 1000), 2000);
    assert_int_equal(d, 4000);
    assert_int_equal(kmqtt_session_backoff(&d, 8000, 2001), 2000);
    assert_int_equal(d, 8000);
    assert_int_equal(kmqtt_session_backoff(&d, 8000, UINT32_MAX), 4000u + UINT32_MAX % 4001u);
    assert_int_equal(d, 8000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_queues_connect_with_what_the_engine_advertises),
        cmocka_unit_test(packet_before_connack_is_a_protocol_error),
        cmocka_unit_test(refused_connack_ends_the_session),
        cmocka_unit_test(unknown_acks_are_ignored_and_counted),
        cmocka_unit_test(wrong_kind_of_ack_is_a_protocol_error),
#if KMQTT_CFG_QOS2
        cmocka_unit_test(inbound_qos2_beyond_receive_maximum_forgets_the_oldest),
#if KMQTT_CFG_INBOUND_BITS
        cmocka_unit_test(inbound_bits_hold_every_id),
#endif
        cmocka_unit_test(resend_after_reconnect_in_order),
#if KMQTT_CFG_OFFLINE_QUEUE
        cmocka_unit_test(change_hook_reports_each_step_of_a_flow),
#endif
#endif
        cmocka_unit_test(keepalive_pings_when_nothing_was_received),
        cmocka_unit_test(keepalive_pings_when_nothing_was_sent_across_the_wrap),
#if KMQTT_CFG_V5
        cmocka_unit_test(lowered_caps_drop_stored_messages_unsent),
        cmocka_unit_test(v5_errors_send_their_disconnect_reason),
        cmocka_unit_test(server_disconnect_is_an_event_and_ends_the_session),
#endif
        cmocka_unit_test(answer_that_does_not_fit_waits_in_order),
        cmocka_unit_test(partly_taken_bytes_stay_as_they_were),
#if KMQTT_CFG_OFFLINE_QUEUE
        cmocka_unit_test(restore_checks_the_record_then_resends_it),
#endif
        cmocka_unit_test(backoff_is_random_within_half_to_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
