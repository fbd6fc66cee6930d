/*
 * nano client: kmqtt_nano_init's argument checks, the CONNECT bytes (MQTT
 * 3.1.1 section 3.1) and CONNACK handling, over the scripted transport.
 *
 * Default CONNECT of the fixture (client id "dev1", keepalive 60, clean):
 *   10 10 | 00 04 'MQTT' | 04 | 02 | 00 3c | 00 04 'dev1'
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nano_script.h"

#define CONNECT_DEFAULT "10 10 00 04 4d 51 54 54 04 02 00 3c 00 04 64 65 76 31"

static nt_t T;

static void config_init_sets_the_documented_defaults(void **state)
{
    (void)state;
    kmqtt_nano_config_t c;
    memset(&c, 0x5a, sizeof c);
    kmqtt_nano_config_init(&c);
    assert_null(c.transport);
    assert_null(c.host);
    assert_null(c.mqtt.client_id);
    assert_int_equal(c.connect_timeout_ms, 10000);
    assert_int_equal(c.mqtt.version, KMQTT_V311);
    assert_true(c.mqtt.clean_session);
    assert_int_equal(c.mqtt.keepalive_s, 60);
    assert_int_equal(c.reconnect_min_ms, 1000);
    assert_int_equal(c.reconnect_max_ms, 60000);
    /* Decision 7 and 10 (docs/architecture.md): the defaults of both
     * clients come from config.h: a PINGRESP within half the keepalive, the
     * window of KMQTT_CFG_MAX_INFLIGHT. */
    assert_int_equal(c.mqtt.ping_timeout_ms, 0);
    assert_int_equal(c.mqtt.max_inflight, KMQTT_CFG_MAX_INFLIGHT);
    assert_int_equal(c.random_seed, 0);
    assert_null(c.mqtt.username);
    assert_null(c.mqtt.password);
    assert_null(c.mqtt.will_topic);
    assert_null(c.mqtt.connect_props);
    assert_null(c.on_event);
}

static void init_rejects_bad_arguments(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    assert_int_equal(kmqtt_nano_init(NULL, &T.cfg, &T.bufs), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_init(&T.c, NULL, &T.bufs), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_init(&T.c, &T.cfg, NULL), KMQTT_EINVAL);

    nt_setup(&T, KMQTT_V311);
    T.cfg.transport = NULL;
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, KMQTT_V311);
    T.cfg.host = NULL;
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, 3); /* MQTT 3.1 is not spoken */
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, 6);
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);

    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.will_topic = "w";
    T.cfg.mqtt.will_qos = 3;
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.will_topic = "w/+"; /* a will topic is a topic name (MQTT-3.1.3-11, 3.3.2-2) */
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);

    /* Not UTF-8 (MQTT-1.5.3-1): client id, username, will topic. */
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.client_id = "dev\xff";
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.username = "\xc0\x80";
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.will_topic = "w\xed\xa0\x80"; /* a surrogate */
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);

    /* 3.1.1: a password needs a user name (MQTT-3.1.2-22). */
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.password = (const uint8_t *)"pw";
    T.cfg.mqtt.password_len = 2;
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);

    /* An empty client id needs a clean session (MQTT-3.1.3-7). */
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.client_id = "";
    T.cfg.mqtt.clean_session = false;
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.client_id = "";
    assert_int_equal(nt_init(&T), KMQTT_OK);

    /* Buffers under 16 bytes. */
    nt_setup(&T, KMQTT_V311);
    T.bufs.rx_size = 15;
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, KMQTT_V311);
    T.bufs.rx = NULL;
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, KMQTT_V311);
    T.bufs.tx_size = 15;
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
    nt_setup(&T, KMQTT_V311);
    T.bufs.tx = NULL;
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);

    /* No store is fine: a QoS 0-only client. */
    nt_setup(&T, KMQTT_V311);
    T.bufs.store = NULL;
    T.bufs.store_size = 0;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    assert_int_equal(T.ns.opens, 0); /* init takes nothing, opens nothing */
}

static void init_refuses_a_connect_larger_than_tx(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    /* CONNECT = 2 + 10 + 2 + 24 = 38 bytes. */
    T.cfg.mqtt.client_id = "abcdefghijklmnopqrstuvwx";
    T.bufs.tx_size = 37;
    assert_int_equal(nt_init(&T), KMQTT_ENOBUFS);
    T.bufs.tx_size = 38;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    nt_expect_sent(&T, "10 24 00 04 4d 51 54 54 04 02 00 3c 00 18 61 62 63 64 65 66 67 68 69 6a 6b"
                       " 6c 6d 6e 6f 70 71 72 73 74 75 76 77 78");
    assert_true(nt_guards_ok(&T));
}

static void connect_bytes_clean_session_keepalive(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_nano_connect(&T.c, 100), KMQTT_OK);
    assert_int_equal(T.ns.opens, 1);
    assert_string_equal(T.ns.host, "broker");
    assert_int_equal(T.ns.port, 1883);
    nt_poll(&T, 100);
    nt_expect_sent(&T, CONNECT_DEFAULT);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTING);
    nt_no_event(&T);
    /* Sent once only. */
    nt_poll(&T, 200);
    nt_expect_nothing_sent(&T);
}

static void connect_bytes_persistent_session_no_keepalive(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.clean_session = false;
    T.cfg.mqtt.keepalive_s = 0;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    nt_expect_sent(&T, "10 10 00 04 4d 51 54 54 04 00 00 00 00 04 64 65 76 31");

    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.keepalive_s = 0x1234;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    nt_expect_sent(&T, "10 10 00 04 4d 51 54 54 04 02 12 34 00 04 64 65 76 31");
}

static void connect_bytes_will_qos1_retained(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.will_topic = "w";
    T.cfg.mqtt.will_payload = (const uint8_t *)"bye";
    T.cfg.mqtt.will_payload_len = 3;
    T.cfg.mqtt.will_qos = 1;
    T.cfg.mqtt.will_retain = true;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    /* flags: will retain 0x20 | will QoS 1 0x08 | will 0x04 | clean 0x02 */
    nt_expect_sent(&T, "10 18 00 04 4d 51 54 54 04 2e 00 3c 00 04 64 65 76 31"
                       " 00 01 77 00 03 62 79 65");
}

static void connect_bytes_will_qos2_empty_payload(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.will_topic = "w";
    T.cfg.mqtt.will_qos = 2;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    /* flags: will QoS 2 0x10 | will 0x04 | clean 0x02; an empty will message */
    nt_expect_sent(&T, "10 15 00 04 4d 51 54 54 04 16 00 3c 00 04 64 65 76 31 00 01 77 00 00");
}

static void connect_bytes_username_password_in_order(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.username = "u";
    T.cfg.mqtt.password = (const uint8_t *)"p\0w";
    T.cfg.mqtt.password_len = 3; /* binary, a NUL inside */
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    nt_expect_sent(&T, "10 18 00 04 4d 51 54 54 04 c2 00 3c 00 04 64 65 76 31"
                       " 00 01 75 00 03 70 00 77");

    /* All of it: client id, will topic, will message, user name, password
     * (MQTT-3.1.3-1). */
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.username = "u";
    T.cfg.mqtt.password = (const uint8_t *)"pw";
    T.cfg.mqtt.password_len = 2;
    T.cfg.mqtt.will_topic = "w";
    T.cfg.mqtt.will_payload = (const uint8_t *)"x";
    T.cfg.mqtt.will_payload_len = 1;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    nt_expect_sent(&T, "10 1d 00 04 4d 51 54 54 04 c6 00 3c 00 04 64 65 76 31"
                       " 00 01 77 00 01 78 00 01 75 00 02 70 77");
}

static void connect_open_failure_leaves_idle(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    ns_script_open(&T.ns, KMQTT_ECONNREFUSED);
    assert_int_equal(kmqtt_nano_connect(&T.c, 0), KMQTT_ECONNREFUSED);
    assert_false(T.ns.is_open);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_IDLE);
    /* IDLE: nothing is due, nothing is retried. */
    assert_int_equal(nt_poll(&T, 5000), UINT32_MAX);
    assert_int_equal(nt_poll(&T, 500000), UINT32_MAX);
    assert_int_equal(T.ns.opens, 1);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_IDLE);
    /* And a later connect works. */
    nt_open(&T, 600000);
    nt_expect_sent(&T, CONNECT_DEFAULT);
}

static void connect_when_not_idle_is_a_state_error(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    nt_open(&T, 0);
    assert_int_equal(kmqtt_nano_connect(&T.c, 1), KMQTT_ESTATE);
    assert_int_equal(T.ns.opens, 1);
    nt_feed(&T, "20 02 00 00");
    nt_poll(&T, 1);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    assert_int_equal(kmqtt_nano_connect(&T.c, 2), KMQTT_ESTATE);
    assert_int_equal(T.ns.opens, 1);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
}

static void connack_accepted_reports_connected(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    nt_open(&T, 0);
    nt_feed(&T, "20 02 00 00");
    nt_poll(&T, 10);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    assert_int_equal(e->err, KMQTT_OK);
    assert_false(e->session_present);
    assert_int_equal(e->state, KMQTT_NANO_CONNECTED);
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    assert_true(T.ns.is_open);
    nt_expect_sent(&T, CONNECT_DEFAULT);
}

static void connack_split_byte_by_byte(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    nt_open(&T, 0);
    T.ns.chunk = 1;
    nt_feed(&T, "20");
    nt_poll(&T, 1);
    nt_feed(&T, "02");
    nt_poll(&T, 2);
    nt_feed(&T, "00");
    nt_poll(&T, 3);
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTING);
    nt_feed(&T, "00");
    nt_poll(&T, 4);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    nt_no_event(&T);
}

/* 3.1.1 table 3.1: return codes 1..5 refuse the connection. */
static void connack_refused_codes_fail_the_attempt(void **state)
{
    (void)state;
    for (uint8_t code = 1; code <= 5; code++) {
        char hex[16] = "20 02 00 0?";
        hex[10] = (char)('0' + code);
        nt_start(&T, KMQTT_V311);
        nt_open(&T, 0);
        nt_feed(&T, hex);
        nt_poll(&T, 10);
        const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
        assert_int_equal(e->err, KMQTT_EREFUSED);
        assert_int_equal(e->reason_code, code);
        nt_no_event(&T);
        assert_false(T.ns.is_open);
        assert_int_equal(T.ns.closes, 1);
        /* reconnect_min_ms is set: the next attempt waits. */
        assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_WAITING);
        nt_expect_sent(&T, CONNECT_DEFAULT);
    }
}

static void connack_timeout_fails_the_attempt(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.connect_timeout_ms = 3000;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 1000);
    uint32_t next = nt_poll(&T, 1500);
    assert_true(next > 0 && next <= 2500); /* wake up for the deadline */
    nt_poll(&T, 3999);
    nt_no_event(&T);
    assert_true(T.ns.is_open);
    nt_poll(&T, 4001);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
    assert_int_equal(e->err, KMQTT_ETIMEDOUT);
    nt_no_event(&T);
    assert_false(T.ns.is_open);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_WAITING);
}

/* The clock is a free-running counter that wraps: a deadline past 2^32. */
static void connack_timeout_across_clock_wrap(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.connect_timeout_ms = 3000;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, UINT32_MAX - 1000);
    nt_poll(&T, 1000); /* 2001 ms later */
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTING);
    nt_poll(&T, 2100);
    nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
}

/* A server sends one CONNACK, first (MQTT-3.2.0-1); a second is a protocol
 * violation that ends the connection. */
static void second_connack_is_a_protocol_error(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    nt_connected(&T, 0, false);
    nt_feed(&T, "20 02 00 00");
    nt_poll(&T, 10);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_LOST);
    assert_int_equal(e->err, KMQTT_EPROTOCOL);
    nt_no_event(&T);
    assert_false(T.ns.is_open);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_WAITING);
}

/* MQTT-3.2.2-1: with CleanSession 1 the server sets Session Present 0; a 1
 * means the two disagree about the session: the client closes. */
static void session_present_with_clean_session_is_a_protocol_error(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    nt_open(&T, 0);
    nt_feed(&T, "20 02 01 00");
    nt_poll(&T, 10);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
    assert_int_equal(e->err, KMQTT_EPROTOCOL);
    nt_no_event(&T);
    assert_false(T.ns.is_open);
    assert_int_not_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
}

/* The first packet from the server must be a CONNACK (MQTT-3.2.0-1). */
static void packet_before_connack_fails_the_attempt(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    nt_open(&T, 0);
    nt_feed(&T, "30 05 00 01 74 68 69"); /* PUBLISH "t" "hi" */
    nt_poll(&T, 10);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
    assert_int_equal(e->err, KMQTT_EPROTOCOL);
    nt_no_event(&T); /* the message is not delivered */
    assert_false(T.ns.is_open);
}

/* Reserved CONNACK flag bits (3.1.1 3.2.2.1) and return codes past 5. */
static void malformed_connack_fails_the_attempt(void **state)
{
    (void)state;
    const char *bad[] = {"20 02 02 00", "20 02 80 00", "20 02 00 06", "20 03 00 00 00",
                         "21 02 00 00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nt_start(&T, KMQTT_V311);
        nt_open(&T, 0);
        nt_feed(&T, bad[i]);
        nt_poll(&T, 10);
        const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
        if (e->err >= 0)
            fail_msg("CONNACK %s: err %d", bad[i], (int)e->err);
        nt_no_event(&T);
        assert_false(T.ns.is_open);
        assert_int_not_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    }
}

static void peer_close_before_connack_fails_the_attempt(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    nt_open(&T, 0);
    T.ns.recv_end = KMQTT_ECLOSED;
    nt_poll(&T, 10);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
    assert_int_equal(e->err, KMQTT_ECLOSED);
    nt_no_event(&T);
    assert_false(T.ns.is_open);
    assert_int_equal(T.ns.closes, 1);
}

static void nothing_is_sent_before_connected(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    kmqtt_nano_msg_t m = nt_msg("t", "x", 0, false);
    kmqtt_nano_sub_t sub = {"t/#", 1};
    const char *filters[1] = {"t/#"};
    uint16_t id = 0;
    /* IDLE */
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &sub, 1, NULL, 0, 0, &id), KMQTT_ENOTCONN);
    /* CONNECTING: nothing is queued offline either. */
    nt_open(&T, 0);
    m.qos = 1;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, &id), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &sub, 1, NULL, 0, 0, &id), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_nano_unsubscribe(&T.c, filters, 1, 0, &id), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    nt_poll(&T, 1);
    nt_expect_sent(&T, CONNECT_DEFAULT);
    nt_feed(&T, "20 02 00 00");
    nt_poll(&T, 2);
    nt_expect_nothing_sent(&T);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_init_sets_the_documented_defaults),
        cmocka_unit_test(init_rejects_bad_arguments),
        cmocka_unit_test(init_refuses_a_connect_larger_than_tx),
        cmocka_unit_test(connect_bytes_clean_session_keepalive),
        cmocka_unit_test(connect_bytes_persistent_session_no_keepalive),
        cmocka_unit_test(connect_bytes_will_qos1_retained),
        cmocka_unit_test(connect_bytes_will_qos2_empty_payload),
        cmocka_unit_test(connect_bytes_username_password_in_order),
        cmocka_unit_test(connect_open_failure_leaves_idle),
        cmocka_unit_test(connect_when_not_idle_is_a_state_error),
        cmocka_unit_test(connack_accepted_reports_connected),
        cmocka_unit_test(connack_split_byte_by_byte),
        cmocka_unit_test(connack_refused_codes_fail_the_attempt),
        cmocka_unit_test(connack_timeout_fails_the_attempt),
        cmocka_unit_test(connack_timeout_across_clock_wrap),
        cmocka_unit_test(second_connack_is_a_protocol_error),
        cmocka_unit_test(session_present_with_clean_session_is_a_protocol_error),
        cmocka_unit_test(packet_before_connack_fails_the_attempt),
        cmocka_unit_test(malformed_connack_fails_the_attempt),
        cmocka_unit_test(peer_close_before_connack_fails_the_attempt),
        cmocka_unit_test(nothing_is_sent_before_connected),
    };
    return cmocka_run_group_tests_name("nano connect", tests, NULL, NULL);
}
