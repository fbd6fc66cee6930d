/*
 * The session's set-up, connection and outbound flows: exact bytes of what
 * it queues, packet ids, the in-flight window, the store and its limits.
 * Bytes are listed in test_session_util.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

/* ------------------------------------------------------------ set-up */

/* The engine takes the caller's buffers as given and checks them (and the
 * configuration) once, at init: an unknown version, no request slot, a
 * receive or send buffer under 16 bytes is KMQTT_EINVAL. */
static void invalid_configs_do_not_init(void **state)
{
    (void)state;
    ts_cfg_t good = ts_config(KMQTT_V311);
    ts_cfg_t bad[4];
    for (int i = 0; i < 4; i++)
        bad[i] = good;
    bad[0].version = (kmqtt_version_t)3;
    bad[1].max_pending = 0;
    bad[2].rx_buffer_size = 15;
    bad[3].tx_buffer_size = 0;
    ts_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ts_init(t, &bad[i]), KMQTT_EINVAL);
    assert_int_equal(ts_init(t, &good), KMQTT_OK);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_IDLE);
    free(t);
}

/* Odd sizes everywhere, each buffer inside a guarded region: traffic in
 * both directions, a loss and a resend never write outside the buffers
 * given (the threaded client carves them from one block). */
static void buffers_are_used_within_their_bounds(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.max_inflight = 3;
    c.max_pending = 1;
    c.max_inbound_qos2 = 3;
    c.rx_buffer_size = 37;
    c.tx_buffer_size = 39;
    c.store_size = 43;
    ts_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    memset(t->rx, 0xA5, sizeof t->rx);
    memset(t->tx, 0xA5, sizeof t->tx);
    memset(t->store, 0xA5, sizeof t->store);
    assert_int_equal(ts_init(t, &c), KMQTT_OK);
    ts_connect(t, false, false);
    for (int i = 0; i < 20; i++) {
        uint16_t id = ts_publish(t, (uint8_t)(1 + i % 2));
        ts_take(t);
        ts_feed_publish(t, 2, (uint16_t)(i + 1), false);
        ts_event(t, KMQTT_SESSION_EV_MESSAGE);
        ts_take(t);
        ts_feed_ack(t, KMQTT_PUBREL, (uint16_t)(i + 1), 0);
        ts_no_event(t);
        ts_take(t);
        if (i % 2 == 0) {
            ts_feed_ack(t, KMQTT_PUBACK, id, 0);
            ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
        } else {
            kmqtt_session_lost(&t->s);
            ts_connect(t, false, true);
            ts_take(t);
            ts_feed_ack(t, KMQTT_PUBREC, id, 0);
            ts_no_event(t);
            ts_take(t);
            ts_feed_ack(t, KMQTT_PUBCOMP, id, 0);
            ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
        }
    }
    for (size_t i = 37; i < sizeof t->rx; i++)
        assert_int_equal(t->rx[i], 0xA5);
    for (size_t i = 39; i < sizeof t->tx; i++)
        assert_int_equal(t->tx[i], 0xA5);
    for (size_t i = 43; i < sizeof t->store; i++)
        assert_int_equal(t->store[i], 0xA5);
    free(t);
}

/* -------------------------------------------------------- connection */

static void start_queues_connect_with_configured_keepalive(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.keepalive_s = 60;
    ts_t *t = ts_new_cfg(&c);
    kmqtt_connect_t m = ts_connect_msg(true);
    m.keepalive = 5; /* the session announces what it enforces */
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTING);
    ts_expect_sent(t, "10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63");
    assert_int_equal(ts_start(t, &m), KMQTT_ESTATE);
    free(t);
}

static void start_reports_enobufs_when_connect_does_not_fit(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.tx_buffer_size = 16;
    ts_t *t = ts_new_cfg(&c);
    kmqtt_connect_t m = ts_connect_msg(true);
    m.client_id.ptr = "a-long-client-id";
    m.client_id.len = 16;
    assert_int_equal(ts_start(t, &m), KMQTT_ENOBUFS);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_IDLE);
    ts_expect_nothing_sent(t);
    free(t);
}

static void connack_accepted_moves_to_connected(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    ts_expect_nothing_sent(t);
    ts_no_event(t);
    free(t);
}

static void connack_refused_reports_code_and_goes_idle(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    kmqtt_connect_t m = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "20 02 00 05"); /* not authorized */
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_CONNACK);
    assert_int_equal(ev.reason_code, 5);
    /* The engine says the connection is over; the driver closes it and
     * calls kmqtt_session_lost. */
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    kmqtt_publish_t p = ts_msg(0);
    assert_int_equal(ts_pub(t, &p, NULL), KMQTT_ENOTCONN);
    kmqtt_session_lost(&t->s);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_IDLE);
    free(t);
}

static void publish_before_connack_is_not_connected(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    kmqtt_connect_t m = ts_connect_msg(true);
    kmqtt_publish_t p = ts_msg(1);
    uint16_t id = 7;
    assert_int_equal(ts_pub(t, &p, &id), KMQTT_ENOTCONN);
    assert_int_equal(id, 7); /* untouched: nothing was queued */
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    assert_int_equal(ts_pub(t, &p, &id), KMQTT_ENOTCONN);
    free(t);
}

static void disconnect_queues_disconnect_and_closes(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    assert_int_equal(ts_disc(t, 0, NULL), KMQTT_ENOTCONN);
    ts_connect(t, true, false);
    assert_int_equal(ts_disc(t, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    ts_expect_sent(t, "e0 00");
    kmqtt_publish_t p = ts_msg(0);
    assert_int_equal(ts_pub(t, &p, NULL), KMQTT_ENOTCONN);
    kmqtt_session_lost(&t->s);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_IDLE);
    free(t);
}

/* ---------------------------------------------------- outbound flows */

static void qos0_publish_is_sent_at_once_without_id(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    assert_int_equal(ts_publish(t, 0), 0);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    ts_expect_sent(t, "30 07 00 03 61 2f 62 68 69");
    assert_int_equal(kmqtt_session_store_used(&t->s), 0);
    free(t);
}

static void qos1_publish_completes_on_puback(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    assert_int_equal(ts_publish(t, 1), 1);
    /* MQTT-4.3.2-1: DUP 0 on the first send, kept until PUBACK. */
    ts_expect_sent(t, "32 09 00 03 61 2f 62 00 01 68 69");
    assert_int_equal(kmqtt_session_inflight(&t->s), 1);
    /* The record: the packet and an 8-byte header, rounded up to 4. */
    assert_int_equal(kmqtt_session_store_used(&t->s), 20);
    ts_feed_hex(t, "40 02 00 01");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, 1);
    assert_int_equal(ev.err, KMQTT_OK);
    assert_int_equal(ev.reason_code, 0);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    assert_int_equal(kmqtt_session_store_used(&t->s), 0);
    ts_expect_nothing_sent(t);
    free(t);
}

static void qos2_publish_releases_on_pubrec_and_completes_on_pubcomp(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    assert_int_equal(ts_publish(t, 2), 1);
    ts_expect_sent(t, "34 09 00 03 61 2f 62 00 01 68 69");
    ts_feed_hex(t, "50 02 00 01");
    ts_no_event(t);
    /* MQTT-4.3.3-1: PUBREL answers PUBREC; the PUBLISH copy is dropped,
     * the record's 8-byte header stays for the PUBREL. */
    ts_expect_sent(t, "62 02 00 01");
    assert_int_equal(kmqtt_session_store_used(&t->s), 8);
    assert_int_equal(kmqtt_session_inflight(&t->s), 1);
    ts_feed_hex(t, "70 02 00 01");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, 1);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    free(t);
}

static void repeated_pubrec_gets_pubrel_again(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    ts_publish(t, 2);
    ts_take(t);
    ts_feed_hex(t, "50 02 00 01");
    ts_no_event(t);
    ts_expect_sent(t, "62 02 00 01");
    ts_feed_hex(t, "50 02 00 01");
    ts_no_event(t);
    ts_expect_sent(t, "62 02 00 01");
    free(t);
}

static void subscribe_sends_request_and_reports_suback(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    kmqtt_subscription_t f = {{"a/#", 3}, 1, false, false, 0};
    kmqtt_subscribe_t sub;
    memset(&sub, 0, sizeof sub);
    sub.items = &f;
    sub.count = 1;
    uint16_t id = 0;
    assert_int_equal(ts_sub(t, &sub, true, &id), KMQTT_OK);
    assert_int_equal(id, 1);
    ts_expect_sent(t, "82 08 00 01 00 03 61 2f 23 01");
    ts_feed_hex(t, "90 03 00 01 01");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_SUBACK);
    assert_int_equal(ev.packet_id, 1);
    assert_int_equal(ev.count, 1);
    assert_int_equal(ev.codes[0], 1);

    assert_int_equal(ts_sub(t, &sub, false, &id), KMQTT_OK);
    assert_int_equal(id, 2);
    ts_expect_sent(t, "a2 07 00 02 00 03 61 2f 23");
    ts_feed_hex(t, "b0 02 00 02");
    ev = ts_event(t, KMQTT_SESSION_EV_UNSUBACK);
    assert_int_equal(ev.packet_id, 2);
    free(t);
}

static void pending_requests_are_bounded(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    kmqtt_subscription_t f = {{"x", 1}, 0, false, false, 0};
    kmqtt_subscribe_t sub;
    memset(&sub, 0, sizeof sub);
    sub.items = &f;
    sub.count = 1;
    for (int i = 0; i < 4; i++)
        assert_int_equal(ts_sub(t, &sub, true, NULL), KMQTT_OK);
    assert_int_equal(ts_sub(t, &sub, true, NULL), KMQTT_ELIMIT);
    free(t);
}

/* -------------------------------------------------------- packet ids */

static void packet_ids_wrap_from_65535_to_1_never_0(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    for (uint32_t want = 1; want <= 65535u; want++) {
        uint16_t id = ts_publish(t, 1);
        if (id != want)
            fail_msg("id %u, expected %u", id, want);
        ts_take(t);
        ts_feed_ack(t, KMQTT_PUBACK, id, 0);
        ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    }
    assert_int_equal(ts_publish(t, 1), 1); /* MQTT-2.3.1-1: never 0 */
    free(t);
}

static void packet_ids_skip_ids_still_in_flight(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    assert_int_equal(ts_publish(t, 1), 1); /* stays unacknowledged */
    kmqtt_subscription_t f = {{"x", 1}, 0, false, false, 0};
    kmqtt_subscribe_t sub;
    memset(&sub, 0, sizeof sub);
    sub.items = &f;
    sub.count = 1;
    uint16_t sid;
    assert_int_equal(ts_sub(t, &sub, true, &sid), KMQTT_OK);
    assert_int_equal(sid, 2); /* stays pending */
    ts_take(t);
    for (uint32_t want = 3; want <= 65535u; want++) {
        uint16_t id = ts_publish(t, 1);
        if (id != want)
            fail_msg("id %u, expected %u", id, want);
        ts_take(t);
        ts_feed_ack(t, KMQTT_PUBACK, id, 0);
        ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    }
    /* MQTT-2.3.1-2: 1 and 2 are in use. */
    assert_int_equal(ts_publish(t, 1), 3);
    free(t);
}

/* ------------------------------------------------- window and limits */

static void window_full_is_elimit_until_an_ack_frees_a_slot(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(ts_publish(t, (uint8_t)(i % 2 + 1)), i);
    ts_take(t);
    kmqtt_publish_t m = ts_msg(1);
    uint16_t id = 9;
    assert_int_equal(ts_pub(t, &m, &id), KMQTT_ELIMIT);
    assert_int_equal(id, 9); /* untouched */
    ts_expect_nothing_sent(t);
    assert_int_equal(ts_publish(t, 0), 0); /* QoS 0 takes no slot */
    ts_take(t);
    ts_feed_hex(t, "40 02 00 02");
    ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    /* The refused attempt used no id (session.h). */
    assert_int_equal(ts_publish(t, 1), 5);
    assert_int_equal(kmqtt_session_inflight(&t->s), 4);
    free(t);
}

static void store_is_compacted_when_acks_come_out_of_order(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.store_size = 60; /* three 11-byte QoS 1 packets, 20 bytes each as records */
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, false, false);
    for (int i = 1; i <= 3; i++)
        ts_publish(t, 1);
    ts_take(t);
    kmqtt_publish_t m = ts_msg(1);
    /* The store is full: retry after a PUBLISHED event (session.h). */
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ELIMIT);
    ts_feed_hex(t, "40 02 00 02"); /* the middle one */
    ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(kmqtt_session_store_used(&t->s), 40);
    /* 20 bytes free in total, none at the end: compaction makes room. */
    assert_int_equal(ts_publish(t, 1), 4);
    ts_expect_sent(t, "32 09 00 03 61 2f 62 00 04 68 69");
    assert_int_equal(kmqtt_session_store_used(&t->s), 60);

    /* The moved copies must still be the right packets. */
    kmqtt_session_lost(&t->s);
    ts_connect(t, false, true);
    ts_expect_sent(t, "3a 09 00 03 61 2f 62 00 01 68 69"
                      " 3a 09 00 03 61 2f 62 00 03 68 69"
                      " 3a 09 00 03 61 2f 62 00 04 68 69");
    free(t);
}

static void store_full_is_elimit_and_too_large_is_etoobig(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.store_size = 20; /* one 11-byte QoS 1 packet as a record */
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, true, false);
    uint8_t big[30];
    memset(big, 'x', sizeof big);
    kmqtt_publish_t m = ts_msg(1);
    m.payload.ptr = big;
    m.payload.len = sizeof big;
    /* could never be kept for resending */
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ETOOBIG);
    m.qos = 0; /* nothing to keep */
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK);
    ts_take(t);
    ts_publish(t, 1); /* 20 of 20 bytes */
    m = ts_msg(1);
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ELIMIT);
    assert_int_equal(kmqtt_session_inflight(&t->s), 1);
    free(t);
}

static void send_buffer_full_is_enobufs_and_too_large_is_etoobig(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.tx_buffer_size = 32;
    ts_t *t = ts_new_cfg(&c);
    ts_connect(t, true, false);
    for (int i = 0; i < 3; i++)
        ts_publish(t, 0); /* 27 of 32 bytes */
    kmqtt_publish_t m = ts_msg(0);
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ENOBUFS);
    m.qos = 1;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ENOBUFS);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    assert_int_equal(kmqtt_session_store_used(&t->s), 0);
    ts_take(t);
    assert_int_equal(ts_publish(t, 1), 1); /* no id was used by the refusal */

    uint8_t big[40];
    memset(big, 'x', sizeof big);
    m = ts_msg(0);
    m.payload.ptr = big;
    m.payload.len = sizeof big;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ETOOBIG);
    free(t);
}

static void invalid_message_queues_nothing(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    kmqtt_publish_t m = ts_msg(1);
    /* The engine names both KMQTT_EINVAL (session.h): a wildcard in the
     * topic (MQTT-3.3.2-2), QoS 3 (MQTT-3.3.1-4). */
    m.topic.ptr = "a/+";
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_EINVAL);
    m = ts_msg(3);
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_EINVAL);
    ts_expect_nothing_sent(t);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    assert_int_equal(kmqtt_session_store_used(&t->s), 0);
    assert_int_equal(ts_publish(t, 1), 1);
    free(t);
}

static void ten_thousand_cycles_keep_storage_flat(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, true, false);
    for (int i = 0; i < 10000; i++) {
        uint8_t qos = (uint8_t)(i % 3);
        uint16_t id = ts_publish(t, qos);
        ts_take(t);
        if (qos == 1) {
            ts_feed_ack(t, KMQTT_PUBACK, id, 0);
            ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
        } else if (qos == 2) {
            ts_feed_ack(t, KMQTT_PUBREC, id, 0);
            ts_no_event(t);
            ts_take(t);
            ts_feed_ack(t, KMQTT_PUBCOMP, id, 0);
            ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
        }
        ts_feed_publish(t, qos, (uint16_t)(i % 1000 + 1), false);
        ts_event(t, KMQTT_SESSION_EV_MESSAGE);
        if (qos == 2) {
            ts_feed_ack(t, KMQTT_PUBREL, (uint16_t)(i % 1000 + 1), 0);
            ts_no_event(t);
        }
        ts_take(t);
    }
    size_t space;
    (void)kmqtt_session_rx_space(&t->s, &space);
    assert_int_equal(space, 256);
    assert_int_equal(kmqtt_session_store_used(&t->s), 0);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    assert_int_equal(kmqtt_session_qos2_evictions(&t->s), 0);
    ts_expect_nothing_sent(t);
    free(t);
}

/* ------------------------------------------------------------- clear */

static void clear_cancels_every_outbound_message_once(void **state)
{
    (void)state;
    ts_t *t = ts_new(KMQTT_V311);
    ts_connect(t, false, false);
    ts_publish(t, 1);
    ts_publish(t, 2);
    ts_take(t);
    assert_int_equal(kmqtt_session_clear(&t->s), KMQTT_ESTATE);
    kmqtt_session_lost(&t->s);
    assert_int_equal(kmqtt_session_clear(&t->s), KMQTT_OK);
    /* Each record goes as its cancellation is reported. */
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, 1);
    assert_int_equal(ev.err, KMQTT_ECANCELED);
    ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, 2);
    assert_int_equal(ev.err, KMQTT_ECANCELED);
    ts_no_event(t);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    assert_int_equal(kmqtt_session_store_used(&t->s), 0);
    ts_connect(t, true, false);
    ts_expect_nothing_sent(t); /* nothing left to resend */
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(invalid_configs_do_not_init),
        cmocka_unit_test(buffers_are_used_within_their_bounds),
        cmocka_unit_test(start_queues_connect_with_configured_keepalive),
        cmocka_unit_test(start_reports_enobufs_when_connect_does_not_fit),
        cmocka_unit_test(connack_accepted_moves_to_connected),
        cmocka_unit_test(connack_refused_reports_code_and_goes_idle),
        cmocka_unit_test(publish_before_connack_is_not_connected),
        cmocka_unit_test(disconnect_queues_disconnect_and_closes),
        cmocka_unit_test(qos0_publish_is_sent_at_once_without_id),
        cmocka_unit_test(qos1_publish_completes_on_puback),
        cmocka_unit_test(qos2_publish_releases_on_pubrec_and_completes_on_pubcomp),
        cmocka_unit_test(repeated_pubrec_gets_pubrel_again),
        cmocka_unit_test(subscribe_sends_request_and_reports_suback),
        cmocka_unit_test(pending_requests_are_bounded),
        cmocka_unit_test(packet_ids_wrap_from_65535_to_1_never_0),
        cmocka_unit_test(packet_ids_skip_ids_still_in_flight),
        cmocka_unit_test(window_full_is_elimit_until_an_ack_frees_a_slot),
        cmocka_unit_test(store_is_compacted_when_acks_come_out_of_order),
        cmocka_unit_test(store_full_is_elimit_and_too_large_is_etoobig),
        cmocka_unit_test(send_buffer_full_is_enobufs_and_too_large_is_etoobig),
        cmocka_unit_test(invalid_message_queues_nothing),
        cmocka_unit_test(ten_thousand_cycles_keep_storage_flat),
        cmocka_unit_test(clear_cancels_every_outbound_message_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
