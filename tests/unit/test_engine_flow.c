/*
 * The engine's flows, ported from the old session's tests (test_session*.c)
 * to the one engine: packet ids, the window, the store, the bytes in any
 * split, the 3.1.1 resend on the same connection, keepalive corners, store
 * and forward, clear. Scripted bytes and a fake clock (support/engine_script.c).
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

static kmqtt_err_t try_publish(const char *topic, const char *payload, uint8_t qos, uint16_t *id)
{
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = topic;
    m.topic_len = (uint16_t)strlen(topic);
    m.qos = qos;
    m.payload = (const uint8_t *)payload;
    m.payload_len = strlen(payload);
    return kmqtt_session_publish(&T.s, &m, id);
}

static uint16_t publish(const char *payload, uint8_t qos)
{
    uint16_t id = 0;
    assert_int_equal(try_publish("t/1", payload, qos, &id), KMQTT_OK);
    return id;
}

static void connected(uint8_t version)
{
    et_start(&T, version);
    et_connect(&T, 0, false, "");
}

/* -------------------------------------------------------------- ids */

/* MQTT-2.3.1-1: never 0; the counter wraps from 65535 to 1. */
static void packet_ids_wrap_from_65535_to_1_never_0(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    T.s.next_id = 65534;
    assert_int_equal(publish("a", 1), 65535);
    et_drain(&T, 0);
    et_feed(&T, et_ack(0x40, 65535), 0);
    et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 0);
    assert_int_equal(publish("b", 1), 1);
}

/* MQTT-2.3.1-2: an id still in flight (or awaiting a SUBACK) is skipped. */
static void packet_ids_skip_ids_still_in_flight(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    uint16_t held = publish("h", 1);
    kmqtt_session_sub_t sub = {"s/#", 1};
    uint16_t sid;
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, &sid), KMQTT_OK);
    T.s.next_id = 0; /* the next two candidates are held */
    uint16_t id = publish("n", 1);
    assert_int_not_equal(id, held);
    assert_int_not_equal(id, sid);
    assert_int_equal(id, 3);
}

/* ------------------------------------------------------- window and store */

/* max_inflight bounds the window: KMQTT_ELIMIT until an ack frees a slot. */
static void window_full_is_elimit_until_an_ack_frees_a_slot(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    uint16_t first = publish("0", 1);
    for (int i = 1; i < 8; i++)
        publish("x", 1);
    uint16_t id;
    assert_int_equal(try_publish("t/1", "x", 1, &id), KMQTT_ELIMIT);
    assert_int_equal(try_publish("t/1", "x", 0, &id), KMQTT_OK); /* QoS 0 needs no slot */
    et_drain(&T, 0);
    et_feed(&T, et_ack(0x40, first), 1);
    et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1);
    assert_int_equal(try_publish("t/1", "x", 1, &id), KMQTT_OK);
}

/* Acks in any order: the store closes its holes and the resend after a
 * reconnect keeps the original order of what is left (MQTT-4.6.0-1). */
static void store_is_compacted_when_acks_come_out_of_order(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    uint16_t id[4];
    for (int i = 0; i < 4; i++)
        id[i] = publish(i % 2 ? "bb" : "a", 1);
    size_t full = kmqtt_session_store_used(&T.s);
    et_drain(&T, 0);
    et_feed(&T, et_ack(0x40, id[1]), 1);
    et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1);
    et_feed(&T, et_ack(0x40, id[2]), 1);
    et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1);
    assert_true(kmqtt_session_store_used(&T.s) < full);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 2, true, "");
    et_expect_sent(&T, "3a 08 00 03 74 2f 31 00 01 61 3a 09 00 03 74 2f 31 00 04 62 62", 2);
}

/* Store full: KMQTT_ELIMIT (wait for acks); a message that could never
 * fit the store or tx: KMQTT_ETOOBIG. Nothing is queued either way. */
static void store_full_is_elimit_and_too_large_is_etoobig(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.bufs.store_size = 64;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    char p[40];
    memset(p, 'p', sizeof p - 1);
    p[sizeof p - 1] = '\0';
    publish(p, 1); /* 48 + 8 bytes of store */
    uint16_t id = 0;
    assert_int_equal(try_publish("t/1", p, 1, &id), KMQTT_ELIMIT);
    char big[ET_TX_SIZE];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(try_publish("t/1", big, 1, &id), KMQTT_ETOOBIG);
    assert_int_equal(try_publish("t/1", big, 0, &id), KMQTT_ETOOBIG);
    assert_int_equal(id, 0);
    assert_int_equal(kmqtt_session_inflight(&T.s), 1);
}

/* A full tx: KMQTT_ENOBUFS now, room after the transport takes bytes. */
static void send_buffer_full_is_enobufs_until_it_drains(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    char p[ET_TX_SIZE / 2];
    memset(p, 'p', sizeof p - 1);
    p[sizeof p - 1] = '\0';
    publish(p, 0);
    uint16_t id = 0;
    assert_int_equal(try_publish("t/1", p, 1, &id), KMQTT_ENOBUFS);
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
    et_drain(&T, 0);
    assert_int_equal(try_publish("t/1", p, 1, &id), KMQTT_OK);
}

/* Invalid messages queue nothing and take no id (MQTT-3.3.2-2, MQTT-1.5.3-1). */
static void invalid_message_queues_nothing(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    uint16_t id = 0;
    assert_int_equal(try_publish("t/+", "x", 1, &id), KMQTT_EINVAL);
    assert_int_equal(try_publish("", "x", 1, &id), KMQTT_EINVAL);
    assert_int_equal(try_publish("t/\xff", "x", 1, &id), KMQTT_EINVAL);
    kmqtt_session_sub_t bad = {"a/#/b", 0};
    assert_int_equal(kmqtt_session_subscribe(&T.s, &bad, 1, NULL, 0, &id), KMQTT_EINVAL);
    const uint8_t *buf;
    assert_int_equal(kmqtt_session_tx_peek(&T.s, &buf), 0);
    assert_int_equal(id, 0);
    assert_int_equal(publish("x", 1), 1);
}

/* Thousands of publish / ack cycles across reconnects: the store and rx/tx
 * return to empty each time (DESIGN rule 5: nothing grows). */
static void ten_thousand_cycles_keep_the_store_flat(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    for (unsigned i = 0; i < 10000; i++) {
        uint16_t id = publish("x", (uint8_t)(1 + (i & 1)));
        et_drain(&T, i);
        et_feed(&T, et_ack(i & 1 ? 0x50 : 0x40, id), i);
        if (i & 1) {
            et_none(&T, i);
            et_drain(&T, i);
            et_feed(&T, et_ack(0x70, id), i);
        }
        et_take(&T, KMQTT_SESSION_EV_PUBLISHED, i);
        assert_int_equal(kmqtt_session_store_used(&T.s), 0);
        if (i % 1000 == 999) {
            kmqtt_session_lost(&T.s);
            et_connect(&T, i, false, "");
        }
    }
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
}

/* ------------------------------------------------------------ input */

/* The same bytes one at a time: the same events and answers. */
static void bytes_fed_one_at_a_time_give_the_same_events(void **state)
{
    (void)state;
    static const char *const in[] = {"32", "05", "00", "01", "74", "00", "07",
                                     "30", "03", "00", "01", "75", "d0", "00"};
    connected(KMQTT_V311);
    int messages = 0;
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        et_feed(&T, in[i], 1);
        while (et_next(&T, 1) == KMQTT_OK) {
            assert_int_equal(T.ev.type, KMQTT_SESSION_EV_MESSAGE);
            messages++;
        }
    }
    assert_int_equal(messages, 2);
    et_expect_sent(&T, "40 02 00 07", 1);
}

/* A packet exactly as long as rx is taken; one byte longer is refused from
 * its header, before its body arrives (KMQTT_ETOOBIG). */
static void packet_filling_rx_is_accepted_one_more_is_refused(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    char hex[3 * ET_RX_SIZE + 16];
    /* 30 fd 01 (3 bytes) + 253 bytes: topic "t" (3) + 250 of payload = 256 */
    size_t n = (size_t)snprintf(hex, sizeof hex, "30 fd 01 00 01 74");
    for (int i = 0; i < 250; i++)
        n += (size_t)snprintf(hex + n, sizeof hex - n, " 70");
    et_feed(&T, hex, 1);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1)->msg.payload_len, 250);
    et_feed(&T, "30 fe 01", 2);
    assert_int_equal(et_next(&T, 2), KMQTT_ETOOBIG);
}

/* Packets only a server receives, from the server: protocol errors. */
static void packets_only_servers_receive_are_protocol_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "10 00",             /* CONNECT */
        "82 06 00 01 00 01 74 00", /* SUBSCRIBE */
        "a2 02 00 01",       /* UNSUBSCRIBE */
        "c0 00",             /* PINGREQ */
        "e0 00",             /* DISCONNECT in 3.1.1 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        connected(KMQTT_V311);
        et_feed(&T, bad[i], 1);
        kmqtt_err_t err = et_next(&T, 1);
        if (err >= 0)
            fail_msg("%s: %d", bad[i], (int)err);
        assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
    }
}

/* MQTT-3.9.3-1, MQTT-3.9.2-1: a SUBACK matches its SUBSCRIBE by id and kind
 * with one code per filter; anything else is a protocol error. */
static void suback_must_match_its_request(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "90 04 00 01 00 01",  /* two codes for one filter */
        "90 03 00 02 00",     /* an id nobody awaits */
        "b0 02 00 01",        /* an UNSUBACK for a SUBSCRIBE */
        "90 03 00 01 03",     /* a code 3.1.1 does not have */
    };
    kmqtt_session_sub_t sub = {"s/#", 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        connected(KMQTT_V311);
        assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, NULL), KMQTT_OK);
        et_feed(&T, bad[i], 1);
        assert_true(et_next(&T, 1) < 0);
    }
    connected(KMQTT_V311);
    uint16_t id;
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, &id), KMQTT_OK);
    et_expect_sent(&T, "82 08 00 01 00 03 73 2f 23 01", 0);
    et_feed(&T, "90 03 00 01 80", 1);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_SUBACK, 1);
    assert_int_equal(ev->packet_id, id);
    assert_int_equal(ev->count, 1);
    assert_int_equal(ev->codes[0], 0x80);
}

/* Requests awaiting their ack are bounded by the caller's table. */
static void pending_requests_are_bounded(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    kmqtt_session_sub_t sub = {"s/#", 0};
    for (int i = 0; i < ET_REQUESTS; i++)
        assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, NULL), KMQTT_ELIMIT);
    /* The connection is lost: they are forgotten (the driver subscribes again). */
    kmqtt_session_lost(&T.s);
    et_connect(&T, 1, false, "");
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, NULL), KMQTT_OK);
}

/* MQTT-3.14.4-1: after our DISCONNECT nothing is sent, not even an answer. */
static void nothing_is_answered_after_disconnect(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    et_feed(&T, "32 05 00 01 74 00 07", 1);
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0, NULL, 0), KMQTT_OK);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
    et_none(&T, 1);
    et_expect_sent(&T, "e0 00", 1);
    assert_int_equal(try_publish("t/1", "x", 0, NULL), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0, NULL, 0), KMQTT_ENOTCONN);
}

/* --------------------------------------------------- 3.1.1 resend (retry) */

#if KMQTT_CFG_RETRY
/* retry_ms (3.1.1): nothing acknowledged for that long while messages are
 * in flight: they go again on the same connection, PUBLISH with DUP
 * (MQTT-3.3.1-1), a released one as PUBREL, in order. */
static void retry_resends_publish_with_dup_and_pubrel(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.retry_ms = 5000;
    T.cfg.keepalive_s = 0;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    uint16_t a = publish("a", 2);
    uint16_t b = publish("b", 1);
    et_drain(&T, 0);
    uint32_t next;
    assert_int_equal(kmqtt_session_tick(&T.s, 100, &next), KMQTT_OK);
    assert_int_equal(next, 5000);
    et_feed(&T, et_ack(0x50, a), 1000);
    et_none(&T, 1000);
    et_expect_sent(&T, et_ack(0x62, a), 1000);
    assert_int_equal(kmqtt_session_tick(&T.s, 5999, &next), KMQTT_OK);
    assert_int_equal(next, 1);
    et_expect_sent(&T, "", 5999);
    assert_int_equal(kmqtt_session_tick(&T.s, 6000, &next), KMQTT_OK);
    et_expect_sent(&T, "62 02 00 01 3a 08 00 03 74 2f 31 00 02 62", 6000);
    (void)b;
}
#endif

/* 5.0 resends only after a reconnect (MQTT-4.4.0-1): retry_ms does nothing. */
static void retry_is_never_used_in_v5(void **state)
{
    (void)state;
    if (!KMQTT_CFG_V5)
        return;
    et_setup(&T, KMQTT_V5);
    T.cfg.retry_ms = 1000;
    T.cfg.keepalive_s = 0;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    publish("a", 1);
    et_drain(&T, 0);
    uint32_t next;
    assert_int_equal(kmqtt_session_tick(&T.s, 100000, &next), KMQTT_OK);
    assert_int_equal(next, UINT32_MAX);
    et_expect_sent(&T, "", 100000);
}

/* --------------------------------------------------------- keepalive corners */

/* The PINGREQ that finds tx full waits for room (a busy link is not a dead
 * one); the PINGRESP deadline runs from when it was queued. */
static void ping_waits_for_room_in_a_full_send_buffer(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.keepalive_s = 10;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    char fill[ET_TX_SIZE];
    memset(fill, 'f', sizeof fill);
    fill[ET_TX_SIZE - 9] = '\0'; /* a 255-byte PUBLISH: 1 byte of tx left */
    publish(fill, 0);
    uint32_t next;
    assert_int_equal(kmqtt_session_tick(&T.s, 10000, &next), KMQTT_OK);
    const uint8_t *buf;
    assert_int_equal(kmqtt_session_tx_peek(&T.s, &buf), ET_TX_SIZE - 1);
    /* Still owed at 19 s: the transport took nothing, yet not dead. */
    assert_int_equal(kmqtt_session_tick(&T.s, 19999, &next), KMQTT_OK);
    kmqtt_session_tx_consume(&T.s, 10, 20000);
    assert_int_equal(kmqtt_session_tx_peek(&T.s, &buf), ET_TX_SIZE - 1 - 10 + 2);
    assert_int_equal(buf[ET_TX_SIZE - 11], 0xc0);
    assert_int_equal(kmqtt_session_tick(&T.s, 29999, &next), KMQTT_OK);
    assert_int_equal(next, 1);
    assert_int_equal(kmqtt_session_tick(&T.s, 30000, &next), KMQTT_EKEEPALIVE);
    /* Owed and the transport takes nothing for a keepalive and a ping
     * timeout: dead. */
    et_start(&T, KMQTT_V311);
    T.cfg.keepalive_s = 10;
    et_connect(&T, 0, false, "");
    publish(fill, 0);
    assert_int_equal(kmqtt_session_tick(&T.s, 10000, &next), KMQTT_OK);
    assert_int_equal(kmqtt_session_tick(&T.s, 20000, &next), KMQTT_EKEEPALIVE);
}

/* With a keepalive of 1 s, half of it would be 500 ms: at least a second
 * is left for the PINGRESP. No PINGREQ before the CONNACK. */
static void short_keepalive_allows_a_second_for_pingresp(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.keepalive_s = 1;
    T.cfg.ping_timeout_ms = 0;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_drain(&T, 0);
    uint32_t next;
    assert_int_equal(kmqtt_session_tick(&T.s, 5000, &next), KMQTT_OK);
    et_expect_sent(&T, "", 5000);
    et_feed(&T, "20 02 00 00", 5000);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 5000);
    assert_int_equal(kmqtt_session_tick(&T.s, 6000, &next), KMQTT_OK);
    et_expect_sent(&T, "c0 00", 6000);
    assert_int_equal(next, 1000);
    assert_int_equal(kmqtt_session_tick(&T.s, 6999, &next), KMQTT_OK);
    assert_int_equal(kmqtt_session_tick(&T.s, 7000, &next), KMQTT_EKEEPALIVE);
}

/* ------------------------------------------------------ store and forward */

#if KMQTT_CFG_QOS2 && KMQTT_CFG_OFFLINE_QUEUE
/* Inbound QoS 2: the hook hears each id held and released, and of a new
 * session; a restored id makes a resent PUBLISH answered, not delivered
 * (MQTT-4.3.3-2). */
static void hook_and_restore_of_inbound_ids(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    T.changes = 0;
    et_feed(&T, "34 06 00 01 74 00 05 78", 1);
    et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1);
    et_feed(&T, et_ack(0x62, 5), 1);
    et_none(&T, 1);
    assert_int_equal(T.changes, 2);
    assert_int_equal(T.change[0], KMQTT_SESSION_CH_INBOUND);
    assert_int_equal(T.change_id[0], 5);
    assert_int_equal(T.change[1], KMQTT_SESSION_CH_RELEASED);
    /* A process restart: a fresh engine with id 9 restored. */
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_restore_inbound(&T.s, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_restore_inbound(&T.s, 9), KMQTT_OK);
    et_connect(&T, 0, true, "");
    et_feed(&T, "3c 06 00 01 74 00 09 78", 1);
    et_none(&T, 1);
    et_expect_sent(&T, et_ack(0x50, 9), 1);
    assert_int_equal(kmqtt_session_restore_inbound(&T.s, 10), KMQTT_ESTATE);
    for (uint16_t id = 20; id < 20 + ET_INBOUND; id++) {
        kmqtt_session_lost(&T.s);
        assert_int_equal(kmqtt_session_restore_inbound(&T.s, id),
                         id < 20 + ET_INBOUND - 1 ? KMQTT_OK : KMQTT_ELIMIT);
    }
}
#endif

/* kmqtt_session_clear: every outbound message is reported once with
 * KMQTT_ECANCELED, then the store is empty. */
static void clear_cancels_every_outbound_message_once(void **state)
{
    (void)state;
    connected(KMQTT_V311);
    uint16_t a = publish("a", 1), b = publish("b", 1);
    assert_int_equal(kmqtt_session_clear(&T.s), KMQTT_ESTATE);
    kmqtt_session_lost(&T.s);
    assert_int_equal(kmqtt_session_clear(&T.s), KMQTT_OK);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1);
    assert_int_equal(ev->packet_id, a);
    assert_int_equal(ev->err, KMQTT_ECANCELED);
    ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1);
    assert_int_equal(ev->packet_id, b);
    et_none(&T, 1);
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
    assert_int_equal(kmqtt_session_store_used(&T.s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(packet_ids_wrap_from_65535_to_1_never_0),
        cmocka_unit_test(packet_ids_skip_ids_still_in_flight),
        cmocka_unit_test(window_full_is_elimit_until_an_ack_frees_a_slot),
        cmocka_unit_test(store_is_compacted_when_acks_come_out_of_order),
        cmocka_unit_test(store_full_is_elimit_and_too_large_is_etoobig),
        cmocka_unit_test(send_buffer_full_is_enobufs_until_it_drains),
        cmocka_unit_test(invalid_message_queues_nothing),
        cmocka_unit_test(ten_thousand_cycles_keep_the_store_flat),
        cmocka_unit_test(bytes_fed_one_at_a_time_give_the_same_events),
        cmocka_unit_test(packet_filling_rx_is_accepted_one_more_is_refused),
        cmocka_unit_test(packets_only_servers_receive_are_protocol_errors),
        cmocka_unit_test(suback_must_match_its_request),
        cmocka_unit_test(pending_requests_are_bounded),
        cmocka_unit_test(nothing_is_answered_after_disconnect),
#if KMQTT_CFG_RETRY
        cmocka_unit_test(retry_resends_publish_with_dup_and_pubrel),
#endif
        cmocka_unit_test(retry_is_never_used_in_v5),
        cmocka_unit_test(ping_waits_for_room_in_a_full_send_buffer),
        cmocka_unit_test(short_keepalive_allows_a_second_for_pingresp),
#if KMQTT_CFG_QOS2 && KMQTT_CFG_OFFLINE_QUEUE
        cmocka_unit_test(hook_and_restore_of_inbound_ids),
#endif
        cmocka_unit_test(clear_cancels_every_outbound_message_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
