/*
 * The nano client's wake cycle with the pipelined connect (issue #18, the
 * engine's kmqtt_session_config_t.pipeline, on by default): connect, a QoS 1
 * publish made while CONNECTING, one poll: CONNECT and PUBLISH leave in one
 * send (MQTT 3.1.4 allows packets right after CONNECT); the CONNACK and the
 * PUBACK come back together. A refused CONNECT keeps the message stored
 * (MQTT-3.1.4-5: the server processed nothing of the flight) and the next
 * attempt carries it. Scripted transport, fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nano_script.h"

#define CONNECT_DEFAULT "10 10 00 04 4d 51 54 54 04 02 00 3c 00 04 64 65 76 31"

static nt_t T;

static void start_pipelined(void)
{
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.pipeline = true; /* the default the harness turns off */
    assert_int_equal(nt_init(&T), KMQTT_OK);
}

static void wake_cycle_is_two_flights(void **state)
{
    (void)state;
    start_pipelined();
    kmqtt_nano_msg_t m = nt_msg("t/1", "hi", 1, false);
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_connect(&T.c, 0), KMQTT_OK);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTING);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, &id), KMQTT_OK);
    nt_poll(&T, 0);
    /* Flight 1: one send of CONNECT + PUBLISH. */
    assert_int_equal(T.ns.send_calls, 1);
    char want[256];
    snprintf(want, sizeof want, "%s %s", CONNECT_DEFAULT,
             nt_publish_hex(0x32, "t/1", id, "hi", false));
    nt_expect_sent(&T, want);
    /* Flight 2 (the answer): CONNACK and PUBACK together. */
    nt_feed(&T, "20 02 00 00");
    nt_feed(&T, nt_ack_hex(0x40, id));
    nt_poll(&T, 100);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    const nt_ev_t *ev = nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    assert_int_equal(ev->packet_id, id);
    assert_int_equal(ev->err, KMQTT_OK);
    nt_no_event(&T);
    nt_expect_nothing_sent(&T); /* nothing sent twice */
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    assert_int_equal(kmqtt_nano_disconnect(&T.c, 0, 10), KMQTT_OK);
    assert_int_equal(T.ns.send_calls, 2); /* the DISCONNECT */
}

/* QoS 0 waits for the CONNACK: the app is never told "sent" for a message
 * a refusing server would drop unprocessed (docs/architecture.md). */
static void qos0_waits_for_the_connack(void **state)
{
    (void)state;
    start_pipelined();
    kmqtt_nano_msg_t m = nt_msg("t/1", "hi", 0, false);
    assert_int_equal(kmqtt_nano_connect(&T.c, 0), KMQTT_OK);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_ENOTCONN);
}

static void refused_connect_keeps_the_message_for_the_next_attempt(void **state)
{
    (void)state;
    start_pipelined();
    kmqtt_nano_msg_t m = nt_msg("t/1", "hi", 1, false);
    uint16_t id = 0;
    char want[256];
    assert_int_equal(kmqtt_nano_connect(&T.c, 0), KMQTT_OK);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, &id), KMQTT_OK);
    nt_poll(&T, 0);
    snprintf(want, sizeof want, "%s %s", CONNECT_DEFAULT,
             nt_publish_hex(0x32, "t/1", id, "hi", false));
    nt_expect_sent(&T, want);
    nt_feed(&T, "20 02 00 03"); /* server unavailable */
    nt_poll(&T, 100);
    const nt_ev_t *ev = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
    assert_int_equal(ev->err, KMQTT_EREFUSED);
    nt_no_event(&T); /* no PUBLISHED: it was not processed */
    assert_int_equal(kmqtt_nano_inflight(&T.c), 1);
    /* The reconnect (backoff 500..1000 ms) carries it, once. */
    nt_poll(&T, 1100);
    nt_expect_sent(&T, want);
    nt_feed(&T, "20 02 00 00");
    nt_feed(&T, nt_ack_hex(0x40, id));
    nt_poll(&T, 1200);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    assert_int_equal(nt_take(&T, KMQTT_NANO_EV_PUBLISHED)->packet_id, id);
    nt_expect_nothing_sent(&T);
}

/* 5.0: caps saved from an earlier CONNACK (a device reset in between)
 * bound the first write: Maximum QoS 1 keeps a QoS 2 publish for the
 * CONNACK (3.1.1 has no such caps). */
static void restored_caps_bound_the_first_write(void **state)
{
    (void)state;
#if KMQTT_CFG_QOS2 && KMQTT_CFG_V5
    kmqtt_session_caps_t caps;
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.pipeline = true;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    kmqtt_nano_server_caps(&T.c, &caps);
    assert_false(caps.seen);
    caps.max_qos = 1;
    assert_int_equal(kmqtt_nano_restore_caps(&T.c, &caps), KMQTT_OK);
    kmqtt_nano_server_caps(&T.c, &caps);
    assert_true(caps.seen);
    assert_int_equal(caps.max_qos, 1);
    kmqtt_nano_msg_t m2 = nt_msg("t/1", "hi", 2, false), m1 = nt_msg("t/1", "hi", 1, false);
    assert_int_equal(kmqtt_nano_connect(&T.c, 0), KMQTT_OK);
    assert_int_equal(kmqtt_nano_restore_caps(&T.c, &caps), KMQTT_ESTATE);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m2, 0, NULL), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m1, 0, NULL), KMQTT_OK);
    caps.max_qos = 3;
    assert_int_equal(kmqtt_nano_restore_caps(NULL, &caps), KMQTT_EINVAL);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wake_cycle_is_two_flights),
        cmocka_unit_test(qos0_waits_for_the_connack),
        cmocka_unit_test(refused_connect_keeps_the_message_for_the_next_attempt),
        cmocka_unit_test(restored_caps_bound_the_first_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
