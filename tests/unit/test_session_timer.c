/*
 * Time and reconnection: keepalive with a fake clock, the dead-broker
 * check, the 3.1.1 retry, and what is sent again after a reconnect with and
 * without session state. Bytes are listed in test_session_util.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

static ts_t *with_keepalive(uint16_t seconds)
{
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.keepalive_s = seconds;
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, false, false);
    return t;
}

static uint64_t tick(ts_t *t, kmqtt_err_t want)
{
    uint64_t next = 0;
    assert_int_equal(ts_tick(t, &next), want);
    return next;
}

/* ------------------------------------------------------------ keepalive */

static void no_keepalive_and_no_retry_means_no_deadline(void **state)
{
    (void)state;
    ts_t *t = with_keepalive(0);
    t->now += 1000000;
    assert_true(tick(t, KMQTT_OK) == UINT64_MAX);
    ts_expect_nothing_sent(t);
    free(t);
}

static void pingreq_after_a_keepalive_of_silence(void **state)
{
    (void)state;
    ts_t *t = with_keepalive(10); /* connected at 1000 */
    t->now = 10999;
    assert_int_equal(tick(t, KMQTT_OK), 11000);
    ts_expect_nothing_sent(t);
    t->now = 11000;
    /* MQTT-3.1.2-23; the answer is due within half a keepalive */
    assert_int_equal(tick(t, KMQTT_OK), 16000);
    ts_expect_sent(t, "c0 00");
    /* one ping at a time */
    t->now = 12000;
    assert_int_equal(tick(t, KMQTT_OK), 16000);
    ts_expect_nothing_sent(t);
    free(t);
}

static void no_pingresp_within_half_a_keepalive_is_ekeepalive(void **state)
{
    (void)state;
    ts_t *t = with_keepalive(10);
    t->now = 11000;
    tick(t, KMQTT_OK);
    ts_take(t);
    t->now = 15999;
    assert_int_equal(tick(t, KMQTT_OK), 16000);
    t->now = 16000;
    tick(t, KMQTT_EKEEPALIVE);
    free(t);
}

static void pingresp_clears_the_outstanding_ping(void **state)
{
    (void)state;
    ts_t *t = with_keepalive(10);
    t->now = 11000;
    tick(t, KMQTT_OK);
    ts_take(t);
    t->now = 11500;
    ts_feed_hex(t, "d0 00");
    ts_no_event(t); /* a PINGRESP clears the ping; the engine reports nothing */
    t->now = 16000;
    /* next ping a keepalive after the last send (11000) */
    assert_int_equal(tick(t, KMQTT_OK), 21000);
    ts_expect_nothing_sent(t);
    free(t);
}

static void no_ping_while_traffic_flows_both_ways(void **state)
{
    (void)state;
    ts_t *t = with_keepalive(10);
    for (int i = 0; i < 30; i++) {
        t->now += 5000;
        ts_publish(t, 0);
        ts_take(t);
        ts_feed_hex(t, "30 07 00 03 61 2f 62 68 69");
        ts_event(t, KMQTT_SESSION_EV_MESSAGE);
        assert_int_equal(tick(t, KMQTT_OK), t->now + 10000);
        ts_expect_nothing_sent(t);
    }
    free(t);
}

static void ping_when_only_sending_and_nothing_arrives(void **state)
{
    (void)state;
    ts_t *t = with_keepalive(10);
    for (uint64_t at = 3000; at < 11000; at += 2000) {
        t->now = at;
        ts_publish(t, 0);
        ts_take(t);
        tick(t, KMQTT_OK);
        ts_expect_nothing_sent(t);
    }
    t->now = 11000; /* nothing received since 1000 */
    tick(t, KMQTT_OK);
    ts_expect_sent(t, "c0 00");
    free(t);
}

static void ping_when_only_receiving_and_nothing_is_sent(void **state)
{
    (void)state;
    ts_t *t = with_keepalive(10);
    for (uint64_t at = 3000; at < 11000; at += 2000) {
        t->now = at;
        ts_feed_hex(t, "30 07 00 03 61 2f 62 68 69");
        ts_event(t, KMQTT_SESSION_EV_MESSAGE);
        tick(t, KMQTT_OK);
        ts_expect_nothing_sent(t);
    }
    t->now = 11000; /* MQTT-3.1.2-23: nothing sent since 1000 */
    tick(t, KMQTT_OK);
    ts_expect_sent(t, "c0 00");
    free(t);
}

static void short_keepalive_allows_at_least_a_second_for_pingresp(void **state)
{
    (void)state;
    ts_t *t = with_keepalive(1);
    t->now = 2000;
    assert_int_equal(tick(t, KMQTT_OK), 3000);
    ts_expect_sent(t, "c0 00");
    t->now = 2999;
    tick(t, KMQTT_OK);
    t->now = 3000;
    tick(t, KMQTT_EKEEPALIVE);
    free(t);
}

static void no_ping_before_connack(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.keepalive_s = 5;
    ts_t *t = ts_new_cfg(&c);
    kmqtt_connect_t m = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    t->now += 60000;
    tick(t, KMQTT_OK);
    ts_expect_nothing_sent(t);
    free(t);
}

static void ping_waits_for_room_in_a_full_send_buffer(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.keepalive_s = 10;
    c.tx_buffer_size = 16;
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, false, false);
    kmqtt_publish_t m = ts_msg(0);
    m.payload.ptr = (const uint8_t *)"12345678";
    m.payload.len = 8;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK); /* 15 bytes */
    t->now = 11000;
    tick(t, KMQTT_OK);
    ts_take(t);
    assert_int_equal(t->sent_len, 15);
    ts_expect_sent(t, "c0 00");
    /* the allowance ran from when the ping was due: a send buffer that
     * never drains is noticed too */
    t->now = 16000;
    tick(t, KMQTT_EKEEPALIVE);
    free(t);
}

/* ---------------------------------------------------------------- retry */

/* The engine's 3.1.1 retry (session.h, retry_ms): when nothing was
 * acknowledged for retry_ms while messages are in flight, every one of them
 * goes again (the old session timed each message on its own). The clock
 * starts at the first tick that sees a message in flight, and again at each
 * ack. */
static void retry_resends_publish_with_dup_and_pubrel(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.retry_ms = 5000;
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, false, false);
    ts_publish(t, 1); /* sent at 1000 */
    ts_take(t);
    assert_int_equal(tick(t, KMQTT_OK), 6000);
    t->now = 3000;
    ts_publish(t, 2); /* sent at 3000 */
    ts_take(t);
    t->now = 5999;
    assert_int_equal(tick(t, KMQTT_OK), 6000);
    ts_expect_nothing_sent(t);
    t->now = 6000;
    /* MQTT-3.3.1-1: DUP on the resend; the next retry counts from now */
    assert_int_equal(tick(t, KMQTT_OK), 11000);
    ts_expect_sent(t, "3a 09 00 03 61 2f 62 00 01 68 69 3c 09 00 03 61 2f 62 00 02 68 69");
    t->now = 7000;
    ts_feed_hex(t, "50 02 00 02"); /* an ack: the clock starts again */
    ts_no_event(t);
    ts_expect_sent(t, "62 02 00 02");
    t->now = 11000;
    assert_int_equal(tick(t, KMQTT_OK), 12000);
    ts_expect_nothing_sent(t);
    t->now = 12000;
    tick(t, KMQTT_OK);
    ts_expect_sent(t, "3a 09 00 03 61 2f 62 00 01 68 69 62 02 00 02");
    free(t);
}

static void retry_is_never_used_in_v5(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V5);
    c.retry_ms = 1000;
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, false, false);
    ts_publish(t, 1);
    ts_take(t);
    t->now += 60000;
    assert_true(tick(t, KMQTT_OK) == UINT64_MAX);
    ts_expect_nothing_sent(t); /* MQTT-4.4.0-1: only on reconnect */
    free(t);
}

/* ------------------------------------------------------------ reconnect */

/* QoS 1 id 1, QoS 2 id 2 (released: PUBREL sent), QoS 2 id 3, QoS 1 id 4 */
static ts_t *four_in_flight(void)
{
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, false, false);
    ts_publish(t, 1);
    ts_publish(t, 2);
    ts_publish(t, 2);
    ts_publish(t, 1);
    ts_take(t);
    ts_feed_hex(t, "50 02 00 02");
    ts_no_event(t);
    ts_expect_sent(t, "62 02 00 02");
    kmqtt_session_lost(&t->s);
    return t;
}

static void reconnect_with_session_resends_dup_and_pubrel_in_order(void **state)
{
    (void)state;
    ts_t *t = four_in_flight();
    ts_connect(t, false, true);
    /* MQTT-4.4.0-1: same order; PUBLISH with DUP (MQTT-3.3.1-1) */
    ts_expect_sent(t, "3a 09 00 03 61 2f 62 00 01 68 69"
                      " 62 02 00 02"
                      " 3c 09 00 03 61 2f 62 00 03 68 69"
                      " 3a 09 00 03 61 2f 62 00 04 68 69");
    ts_no_event(t);
    /* and again after a second loss */
    kmqtt_session_lost(&t->s);
    ts_connect(t, false, true);
    ts_take(t);
    assert_int_equal(t->sent_len, 4 + 3 * 11);
    assert_int_equal(t->sent[0], 0x3a);
    free(t);
}

static void reconnect_without_session_resends_as_new_and_completes_released(void **state)
{
    (void)state;
    ts_t *t = four_in_flight();
    ts_connect(t, false, false);
    ts_expect_sent(t, "32 09 00 03 61 2f 62 00 01 68 69"
                      " 34 09 00 03 61 2f 62 00 03 68 69"
                      " 32 09 00 03 61 2f 62 00 04 68 69");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, 2);
    assert_int_equal(ev.err, KMQTT_OK);
    ts_no_event(t);
    assert_int_equal(kmqtt_session_inflight(&t->s), 3);
    free(t);
}

static void reconnect_without_session_forgets_inbound_qos2_ids(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, false, false);
    ts_feed_publish(t, 2, 7, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    kmqtt_session_lost(&t->s);
    ts_connect(t, false, true); /* kept: the repeat is not delivered */
    ts_feed_publish(t, 2, 7, true);
    ts_no_event(t);
    kmqtt_session_lost(&t->s);
    ts_connect(t, false, false); /* a new session: id 7 is a new message */
    ts_feed_publish(t, 2, 7, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    free(t);
}

static void resend_backlog_goes_before_new_publishes(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.tx_buffer_size = 24; /* two 11-byte packets at a time */
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, false, false);
    for (int i = 0; i < 3; i++) {
        ts_publish(t, 1);
        ts_take(t);
    }
    kmqtt_session_lost(&t->s);
    kmqtt_connect_t m = ts_connect_msg(false);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "20 02 01 00");
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    kmqtt_publish_t p = ts_msg(1);
    assert_int_equal(ts_pub(t, &p, NULL), KMQTT_ENOBUFS);
    ts_take(t);
    assert_int_equal(t->sent_len, 22);
    assert_int_equal(t->sent[8], 1);
    assert_int_equal(t->sent[19], 2);
    ts_expect_sent(t, "3a 09 00 03 61 2f 62 00 03 68 69");
    assert_int_equal(ts_publish(t, 1), 4);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_keepalive_and_no_retry_means_no_deadline),
        cmocka_unit_test(pingreq_after_a_keepalive_of_silence),
        cmocka_unit_test(no_pingresp_within_half_a_keepalive_is_ekeepalive),
        cmocka_unit_test(pingresp_clears_the_outstanding_ping),
        cmocka_unit_test(no_ping_while_traffic_flows_both_ways),
        cmocka_unit_test(ping_when_only_sending_and_nothing_arrives),
        cmocka_unit_test(ping_when_only_receiving_and_nothing_is_sent),
        cmocka_unit_test(short_keepalive_allows_at_least_a_second_for_pingresp),
        cmocka_unit_test(no_ping_before_connack),
        cmocka_unit_test(ping_waits_for_room_in_a_full_send_buffer),
        cmocka_unit_test(retry_resends_publish_with_dup_and_pubrel),
        cmocka_unit_test(retry_is_never_used_in_v5),
        cmocka_unit_test(reconnect_with_session_resends_dup_and_pubrel_in_order),
        cmocka_unit_test(reconnect_without_session_resends_as_new_and_completes_released),
        cmocka_unit_test(reconnect_without_session_forgets_inbound_qos2_ids),
        cmocka_unit_test(resend_backlog_goes_before_new_publishes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
