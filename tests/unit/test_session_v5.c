/*
 * MQTT 5.0 in the session: limits the server sets in CONNACK, reason codes
 * that end a flow, the server's DISCONNECT and AUTH, and properties passed
 * through to the application.
 *
 * v5 bytes: CONNECT 10 16 00 04 4d 51 54 54 05 00 00 00 08 21 00 04 27 00 00 01 00
 * 00 01 63 (the engine advertises Receive Maximum 4, its inbound table, and
 * Maximum Packet Size 256, its rx: MQTT-3.3.4-9, MQTT-3.1.2-24);
 * PUBLISH QoS 1 id 1, no properties: 32 0a 00 03 61 2f 62 00 01 00 68 69.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

static ts_t *connect_with(const char *connack_hex)
{
    ts_t *t = ts_new(KMQTT_V5);
    kmqtt_connect_t m = ts_connect_msg(false);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_expect_sent(t, "10 16 00 04 4d 51 54 54 05 00 00 00 08 21 00 04 27 00 00 01 00 00 01 63");
    ts_feed_hex(t, connack_hex);
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    return t;
}

static ts_t *connected(void)
{
    return connect_with("20 03 00 00 00");
}

static void connack_failure_code_is_reported_and_goes_idle(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V5);
    kmqtt_connect_t m = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "20 03 00 87 00"); /* not authorized */
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_CONNACK);
    assert_int_equal(ev.reason_code, 0x87);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED); /* the driver closes */
    free(t);
}

static void receive_maximum_from_connack_limits_the_window(void **state)
{
    (void)state;
    ts_t *t = connect_with("20 06 00 00 03 21 00 02"); /* Receive Maximum 2 */
    ts_publish(t, 1);
    ts_publish(t, 2);
    kmqtt_publish_t m = ts_msg(1);
    /* MQTT-3.3.4-7, though cfg.max_inflight is 4 */
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ELIMIT);
    assert_int_equal(ts_publish(t, 0), 0);
    ts_take(t);
    ts_feed_hex(t, "40 02 00 01");
    ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ts_publish(t, 1), 3);
    free(t);
}

static void smaller_receive_maximum_on_reconnect_holds_back_resends(void **state)
{
    (void)state;
    ts_t *t = connected();
    for (int i = 0; i < 4; i++)
        ts_publish(t, 1);
    ts_take(t);
    kmqtt_session_lost(&t->s);
    kmqtt_connect_t m = ts_connect_msg(false);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "20 06 01 00 03 21 00 02");
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    ts_expect_sent(t, "3a 0a 00 03 61 2f 62 00 01 00 68 69 3a 0a 00 03 61 2f 62 00 02 00 68 69");
    ts_feed_hex(t, "40 02 00 01");
    ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    ts_expect_sent(t, "3a 0a 00 03 61 2f 62 00 03 00 68 69");
    free(t);
}

static void server_maximum_packet_size_makes_larger_packets_etoobig(void **state)
{
    (void)state;
    ts_t *t = connect_with("20 08 00 00 05 27 00 00 00 14"); /* 20 bytes */
    kmqtt_publish_t m = ts_msg(0);
    m.payload.ptr = (const uint8_t *)"0123456789abc"; /* 8 + 13 = 21 bytes */
    m.payload.len = 13;
    /* MQTT-3.2.2-15: never send more than the server accepts */
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ETOOBIG);
    m.qos = 1;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ETOOBIG);
    m.payload.len = 12; /* exactly 20 */
    m.qos = 0;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK);
    kmqtt_subscription_t f = {{"a-rather-long/filter", 20}, 0, false, false, 0};
    kmqtt_subscribe_t sub;
    memset(&sub, 0, sizeof sub);
    sub.items = &f;
    sub.count = 1;
    assert_int_equal(ts_sub(t, &sub, true, NULL), KMQTT_ETOOBIG);
    free(t);
}

static void server_keep_alive_replaces_ours(void **state)
{
    (void)state;
    ts_t *t = connect_with("20 06 00 00 03 13 00 05"); /* Server Keep Alive 5 s */
    uint64_t next = 0;
    assert_int_equal(ts_tick(t, &next), KMQTT_OK);
    assert_int_equal(next, 6000); /* MQTT-3.2.2-21 */
    t->now = 6000;
    assert_int_equal(ts_tick(t, &next), KMQTT_OK);
    ts_expect_sent(t, "c0 00");
    free(t);
}

static void qos1_flow_bytes_and_puback_reason(void **state)
{
    (void)state;
    ts_t *t = connected();
    assert_int_equal(ts_publish(t, 1), 1);
    ts_expect_sent(t, "32 0a 00 03 61 2f 62 00 01 00 68 69");
    ts_feed_hex(t, "40 03 00 01 10"); /* no matching subscribers: still delivered */
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.reason_code, 0x10);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    free(t);
}

static void pubrec_failure_code_ends_the_flow_without_pubrel(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_publish(t, 2);
    ts_take(t);
    ts_feed_hex(t, "50 03 00 01 80");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, 1);
    assert_int_equal(ev.reason_code, 0x80);
    ts_expect_nothing_sent(t);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    assert_int_equal(kmqtt_session_store_used(&t->s), 0);
    free(t);
}

static void pubrec_success_code_below_0x80_continues_with_pubrel(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_publish(t, 2);
    ts_take(t);
    ts_feed_hex(t, "50 03 00 01 10");
    ts_no_event(t);
    ts_expect_sent(t, "62 02 00 01");
    ts_feed_hex(t, "70 02 00 01");
    ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    free(t);
}

static void unknown_ids_are_answered_with_0x92(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "62 02 00 05"); /* PUBREL */
    ts_no_event(t);
    ts_expect_sent(t, "70 03 00 05 92");
    ts_feed_hex(t, "50 02 00 21"); /* PUBREC */
    ts_no_event(t);
    ts_expect_sent(t, "62 03 00 21 92");
    free(t);
}

static void server_disconnect_is_reported_with_its_reason(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_hex(t, "e0 01 8b"); /* server shutting down */
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_DISCONNECT);
    assert_int_equal(ev.reason_code, 0x8b);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    free(t);
}

static void disconnect_before_connack_is_a_protocol_error(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V5);
    kmqtt_connect_t m = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "e0 01 8b");
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL); /* MQTT-3.14.0-1 */
    free(t);
}

static void auth_is_reported_even_before_connack(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V5);
    kmqtt_connect_t m = ts_connect_msg(true);
    kmqtt_prop_t method;
    memset(&method, 0, sizeof method);
    method.id = KMQTT_PROP_AUTHENTICATION_METHOD;
    method.str.ptr = "M";
    method.str.len = 1;
    m.props.items = &method;
    m.props.count = 1;
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "f0 06 18 04 15 00 01 4d"); /* continue authentication, method "M" */
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_AUTH);
    assert_int_equal(ev.reason_code, 0x18);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTING);
    free(t);
}

static void message_properties_reach_the_application(void **state)
{
    (void)state;
    ts_t *t = connected();
    kmqtt_prop_t up;
    memset(&up, 0, sizeof up);
    up.id = KMQTT_PROP_USER_PROPERTY;
    up.str.ptr = "k";
    up.str.len = 1;
    up.value.ptr = "v";
    up.value.len = 1;
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish = ts_msg(1);
    p.u.publish.packet_id = 3;
    p.u.publish.props.items = &up;
    p.u.publish.props.count = 1;
    ts_feed_packet(t, &p);
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    kmqtt_prop_t got;
    kmqtt_props_t raw = {NULL, 0, ev.msg.props, ev.msg.props_len};
    assert_true(kmqtt_props_find(&raw, KMQTT_PROP_USER_PROPERTY, &got));
    assert_memory_equal(got.str.ptr, "k", 1);
    assert_memory_equal(got.value.ptr, "v", 1);
    ts_expect_sent(t, "40 02 00 03");
    free(t);
}

/* Decision 6 of docs/architecture.md (issue #15): beyond the Receive
 * Maximum we sent (MQTT-3.3.4-9 binds the server) the oldest held id is
 * forgotten, counted, and the connection goes on; the old session sent
 * DISCONNECT 0x93 and ended it. */
static void inbound_qos2_beyond_receive_maximum_forgets_the_oldest(void **state)
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
    free(t);
}

static void unsuback_code_count_must_match_the_filters(void **state)
{
    (void)state;
    kmqtt_subscription_t f[2] = {{{"x", 1}, 0, false, false, 0}, {{"y", 1}, 0, false, false, 0}};
    kmqtt_subscribe_t sub;
    memset(&sub, 0, sizeof sub);
    sub.items = f;
    sub.count = 2;
    ts_t *t = connected();
    assert_int_equal(ts_sub(t, &sub, false, NULL), KMQTT_OK);
    assert_int_equal(ts_sub(t, &sub, false, NULL), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "b0 05 00 01 00 00 11");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_UNSUBACK);
    assert_int_equal(ev.codes[1], 0x11);
    ts_feed_hex(t, "b0 04 00 02 00 00");
    assert_int_equal(ts_next_err(t), KMQTT_EPROTOCOL);
    free(t);
}

static void disconnect_carries_reason_and_properties(void **state)
{
    (void)state;
    ts_t *t = connected();
    kmqtt_prop_t sei;
    memset(&sei, 0, sizeof sei);
    sei.id = KMQTT_PROP_SESSION_EXPIRY_INTERVAL;
    sei.num = 0;
    kmqtt_props_t props = {&sei, 1, NULL, 0};
    assert_int_equal(ts_disc(t, 0x04, &props), KMQTT_OK);
    ts_expect_sent(t, "e0 07 04 05 11 00 00 00 00");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connack_failure_code_is_reported_and_goes_idle),
        cmocka_unit_test(receive_maximum_from_connack_limits_the_window),
        cmocka_unit_test(smaller_receive_maximum_on_reconnect_holds_back_resends),
        cmocka_unit_test(server_maximum_packet_size_makes_larger_packets_etoobig),
        cmocka_unit_test(server_keep_alive_replaces_ours),
        cmocka_unit_test(qos1_flow_bytes_and_puback_reason),
        cmocka_unit_test(pubrec_failure_code_ends_the_flow_without_pubrel),
        cmocka_unit_test(pubrec_success_code_below_0x80_continues_with_pubrel),
        cmocka_unit_test(unknown_ids_are_answered_with_0x92),
        cmocka_unit_test(server_disconnect_is_reported_with_its_reason),
        cmocka_unit_test(disconnect_before_connack_is_a_protocol_error),
        cmocka_unit_test(auth_is_reported_even_before_connack),
        cmocka_unit_test(message_properties_reach_the_application),
        cmocka_unit_test(inbound_qos2_beyond_receive_maximum_forgets_the_oldest),
        cmocka_unit_test(unsuback_code_count_must_match_the_filters),
        cmocka_unit_test(disconnect_carries_reason_and_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
