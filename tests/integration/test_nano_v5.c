/*
 * The nano client in MQTT 5.0 against mosquitto 2.0.11: user properties
 * round trip, session expiry and resumption across a cut, No Local, SUBACK
 * reason codes, the server's Receive Maximum and Maximum Packet Size
 * respected before anything is sent, and a session takeover ending the
 * first connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "fault_proxy.h"
#include "it_client.h"
#include "kmqtt/codec.h"
#include "nano_it.h"
#include "it_group.h"

static broker_t *broker;
static kmqtt_mem_t parent;
static nit_t a, b;

static int group_setup(void **state)
{
    broker_opts_t o;
    (void)state;
    memset(&o, 0, sizeof(o));
    o.log_all = true;
    broker = it_group_broker(&parent, &o);
    return broker != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    broker_stop(broker);
    return 0;
}

static void v5_setup(nit_t *n, uint16_t port, const char *id)
{
    nit_setup(n, &parent, port, id);
    n->cfg.mqtt.version = KMQTT_V5;
}

/* Appends a UTF-8 string (2-byte length) to p. */
static size_t put_str(uint8_t *p, const char *s)
{
    size_t len = strlen(s);
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
    memcpy(p + 2, s, len);
    return len + 2;
}

static size_t put_user(uint8_t *p, const char *k, const char *v)
{
    size_t n = 0;
    p[n++] = KMQTT_PROP_USER_PROPERTY;
    n += put_str(p + n, k);
    n += put_str(p + n, v);
    return n;
}

static bool str_is(kmqtt_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* User properties set by the publisher reach the subscriber unchanged and in
 * order (MQTT-3.3.2-17, MQTT-3.3.2-18); the inbound message's raw property
 * block walks with kmqtt_prop_iter. */
static void test_nano_v5_user_properties_round_trip(void **state)
{
    it_baseline_t base;
    kmqtt_nano_msg_t m;
    uint8_t props[128];
    size_t n = 0;
    kmqtt_props_t pr;
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;
    int users = 0;
    bool ctype = false;
    (void)state;

    it_take_baseline(&parent, &base);
    v5_setup(&a, broker_port(broker), "nit-v5-up");
    nit_init(&a);
    nit_connect(&a);
    assert_int_equal(nit_subscribe(&a, "nit/v5/up", 1), 1);

    n += put_user(props + n, "site", "north");
    n += put_user(props + n, "unit", "degC");
    n += put_user(props + n, "site", "again"); /* a repeated name is kept */
    props[n++] = KMQTT_PROP_CONTENT_TYPE;
    n += put_str(props + n, "text/plain");
    memset(&m, 0, sizeof(m));
    m.topic = "nit/v5/up";
    m.topic_len = 9;
    m.qos = 1;
    m.payload = (const uint8_t *)"21.5";
    m.payload_len = 4;
    m.props = props;
    m.props_len = n;
    assert_int_equal(kmqtt_nano_publish(&a.c, &m, nit_now(), NULL), KMQTT_OK);
    assert_true(nit_pump_until(&a, &a.nmsgs, 1, 10000));
    assert_true(nit_pump_until(&a, &a.published, 1, 10000));
    assert_true(nit_msg_is(&a, 0, "nit/v5/up", "21.5"));
    assert_true(a.msgs[0].props_len > 0);

    memset(&pr, 0, sizeof(pr));
    pr.raw = a.msgs[0].props;
    pr.raw_len = a.msgs[0].props_len;
    kmqtt_prop_iter_init(&it, &pr);
    while (kmqtt_prop_iter_next(&it, &p)) {
        if (p.id == KMQTT_PROP_USER_PROPERTY) {
            static const char *const k[] = {"site", "unit", "site"};
            static const char *const v[] = {"north", "degC", "again"};
            assert_true(users < 3);
            assert_true(str_is(p.str, k[users]));
            assert_true(str_is(p.value, v[users]));
            users++;
        } else if (p.id == KMQTT_PROP_CONTENT_TYPE) {
            assert_true(str_is(p.str, "text/plain"));
            ctype = true;
        }
    }
    assert_int_equal(users, 3);
    assert_true(ctype);

    nit_teardown(&a);
    it_expect_baseline(&parent, &base, "v5 user properties", 1);
}

/* Clean Start 0 with a Session Expiry Interval of 300 s: the session outlives
 * a cut (MQTT-3.1.2-23); a QoS 1 message published meanwhile arrives after
 * the reconnect, which finds session_present. Without the property the
 * session ends with the connection (expiry 0), even with Clean Start 0. */
static void test_nano_v5_session_expiry_resumes_across_cut(void **state)
{
    it_baseline_t base;
    fault_proxy_t *px;
    uint8_t props[5] = {KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 0, 0, 0x01, 0x2c};
    (void)state;

    it_take_baseline(&parent, &base);
    px = fault_proxy_start(broker_port(broker), 21);
    assert_non_null(px);
    v5_setup(&a, fault_proxy_port(px), "nit-v5-sx");
    a.cfg.mqtt.clean_session = false;
    a.cfg.mqtt.connect_props = props;
    a.cfg.mqtt.connect_props_len = sizeof(props);
    a.cfg.reconnect_min_ms = 0; /* the test reconnects when it wants */
    nit_init(&a);
    nit_connect(&a);
    assert_int_equal(nit_subscribe(&a, "nit/v5/sx", 1), 1);
    fault_proxy_drop_now(px);
    assert_true(nit_pump_until(&a, &a.lost, 1, 10000));
    assert_true(broker_log_wait(broker, "Client nit-v5-sx closed its connection", 1, 5000));
    assert_int_equal(broker_pub(broker, "nit/v5/sx", "while away", 1, false), 0);
    assert_int_equal(kmqtt_nano_state(&a.c), KMQTT_NANO_IDLE);
    nit_connect(&a);
    assert_true(a.session_present);
    assert_true(nit_pump_until(&a, &a.nmsgs, 1, 10000));
    assert_true(nit_msg_is(&a, 0, "nit/v5/sx", "while away"));
    assert_int_equal(a.msgs[0].qos, 1);
    nit_teardown(&a);

    /* No Session Expiry Interval: nothing kept after the connection. */
    v5_setup(&a, fault_proxy_port(px), "nit-v5-sx0");
    a.cfg.mqtt.clean_session = false;
    a.cfg.reconnect_min_ms = 0;
    nit_init(&a);
    nit_connect(&a);
    assert_int_equal(nit_subscribe(&a, "nit/v5/sx0", 1), 1);
    fault_proxy_drop_now(px);
    assert_true(nit_pump_until(&a, &a.lost, 1, 10000));
    assert_true(broker_log_wait(broker, "Client nit-v5-sx0 closed its connection", 1, 5000));
    assert_int_equal(broker_pub(broker, "nit/v5/sx0", "lost", 1, false), 0);
    nit_connect(&a);
    assert_false(a.session_present);
    nit_pump_for(&a, 200);
    assert_int_equal(a.nmsgs, 0);
    nit_teardown(&a);

    fault_proxy_stop(px);
    it_expect_baseline(&parent, &base, "v5 session expiry", 1);
}

/* SUBACK carries one reason code per filter, the granted QoS
 * (MQTT-3.9.3-1, in order); with No Local the broker does not send the
 * client its own messages (MQTT-3.8.3-3) but does send others'. */
static void test_nano_v5_suback_codes_and_no_local(void **state)
{
    it_baseline_t base;
    kmqtt_nano_sub_t subs[3];
    uint16_t id = 0;
    (void)state;

    it_take_baseline(&parent, &base);
    v5_setup(&a, broker_port(broker), "nit-v5-nl");
    nit_init(&a);
    nit_connect(&a);
    subs[0].filter = "nit/v5/nl";
    subs[0].options = 1 | KMQTT_NANO_NO_LOCAL;
    subs[1].filter = "nit/v5/q0/#";
    subs[1].options = 0;
    subs[2].filter = "nit/v5/q2/+";
    subs[2].options = 2;
    assert_int_equal(kmqtt_nano_subscribe(&a.c, subs, 3, NULL, 0, nit_now(), &id), KMQTT_OK);
    assert_true(nit_pump_until(&a, &a.suback, 1, 10000));
    assert_int_equal(a.suback_id, id);
    assert_int_equal(a.ncodes, 3);
    assert_int_equal(a.codes[0], 1);
    assert_int_equal(a.codes[1], 0);
    assert_int_equal(a.codes[2], 2);

    assert_int_equal(nit_publish(&a, "nit/v5/nl", "own", 1, false, NULL), KMQTT_OK);
    assert_true(nit_pump_until(&a, &a.published, 1, 10000));
    assert_int_equal(broker_pub(broker, "nit/v5/nl", "theirs", 1, false), 0);
    assert_true(nit_pump_until(&a, &a.nmsgs, 1, 10000));
    nit_pump_for(&a, 200);
    assert_int_equal(a.nmsgs, 1);
    assert_true(nit_msg_is(&a, 0, "nit/v5/nl", "theirs"));

    /* 5.0 UNSUBACK has a reason code per filter: 0x00 success, 0x11 no
     * subscription existed (MQTT-3.11.3-1). */
    {
        const char *const f[2] = {"nit/v5/nl", "nit/v5/none"};
        assert_int_equal(kmqtt_nano_unsubscribe(&a.c, f, 2, nit_now(), &id), KMQTT_OK);
        assert_true(nit_pump_until(&a, &a.unsuback, 1, 10000));
        assert_int_equal(a.ncodes, 2);
        assert_int_equal(a.codes[0], 0x00);
        assert_int_equal(a.codes[1], 0x11);
    }

    nit_teardown(&a);
    it_expect_baseline(&parent, &base, "v5 no local", 1);
}

/* mosquitto with max_inflight_messages 2 and max_packet_size 300 says so in
 * its CONNACK (Receive Maximum 2, Maximum Packet Size 300). The nano keeps
 * at most 2 QoS 1 messages unacknowledged (MQTT-3.3.4-7: KMQTT_ELIMIT for
 * the third until a PUBLISHED), refuses a 400-byte message with
 * KMQTT_ETOOBIG and sends nothing for it (MQTT-3.1.2-24 for the server's
 * limit), and stays connected. */
static void test_nano_v5_server_limits(void **state)
{
    broker_opts_t o;
    broker_t *lim;
    it_baseline_t base;
    kmqtt_nano_msg_t m;
    static uint8_t big[400];
    size_t received;
    int sent = 0, i;
    (void)state;

    memset(&o, 0, sizeof(o));
    o.log_all = true;
    o.extra_conf = "max_inflight_messages 2\nmax_packet_size 300";
    lim = broker_start(&o);
    assert_non_null(lim);
    it_take_baseline(&parent, &base);
    v5_setup(&a, broker_port(lim), "nit-v5-lim");
    a.cfg.mqtt.max_inflight = 8;
    nit_init(&a);
    nit_connect(&a);

    received = broker_log_count(lim, "Received PUBLISH from nit-v5-lim");
    memset(big, 'x', sizeof(big));
    memset(&m, 0, sizeof(m));
    m.topic = "nit/v5/lim";
    m.topic_len = 10;
    m.qos = 1;
    m.payload = big;
    m.payload_len = sizeof(big);
    assert_int_equal(kmqtt_nano_publish(&a.c, &m, nit_now(), NULL), KMQTT_ETOOBIG);
    assert_int_equal(kmqtt_nano_inflight(&a.c), 0);
    assert_int_equal(kmqtt_nano_store_used(&a.c), 0);

    assert_int_equal(nit_publish(&a, "nit/v5/lim", "r1", 1, false, NULL), KMQTT_OK);
    assert_int_equal(nit_publish(&a, "nit/v5/lim", "r2", 1, false, NULL), KMQTT_OK);
    assert_int_equal(nit_publish(&a, "nit/v5/lim", "r3", 1, false, NULL), KMQTT_ELIMIT);
    assert_int_equal(kmqtt_nano_inflight(&a.c), 2);
    sent = 2;
    /* Ten more, each as soon as there is room: never more than 2 out. */
    for (i = 0; i < 10; i++) {
        char pl[8];
        int want = a.published + 1;
        assert_true(nit_pump_until(&a, &a.published, want, 10000));
        snprintf(pl, sizeof(pl), "s%d", i);
        assert_int_equal(nit_publish(&a, "nit/v5/lim", pl, 1, false, NULL), KMQTT_OK);
        sent++;
        assert_true(kmqtt_nano_inflight(&a.c) <= 2);
    }
    assert_true(nit_pump_until(&a, &a.published, sent, 10000));
    assert_true(
        broker_log_wait(lim, "Received PUBLISH from nit-v5-lim", received + (size_t)sent, 5000));
    nit_pump_for(&a, 100);
    /* The 400-byte message never went out. */
    assert_int_equal(broker_log_count(lim, "Received PUBLISH from nit-v5-lim"),
                     received + (size_t)sent);
    assert_int_equal(a.lost, 0);
    assert_int_equal(kmqtt_nano_state(&a.c), KMQTT_NANO_CONNECTED);

    nit_teardown(&a);
    it_expect_baseline(&parent, &base, "v5 server limits", 1);
    broker_stop(lim);
}

/* A second client with the same id takes the session over: the broker ends
 * the first connection (MQTT-3.1.4-3). mosquitto 2.0.11 closes it without a
 * DISCONNECT 0x8E, so LOST comes with KMQTT_ECLOSED; a broker that sends one
 * gives KMQTT_EDISCONNECTED with reason 0x8E. The second stays connected. */
static void test_nano_v5_takeover_ends_first_connection(void **state)
{
    it_baseline_t base;
    (void)state;

    it_take_baseline(&parent, &base);
    v5_setup(&a, broker_port(broker), "nit-v5-take");
    a.cfg.reconnect_min_ms = 0; /* no fight over the id */
    nit_init(&a);
    nit_connect(&a);
    v5_setup(&b, broker_port(broker), "nit-v5-take");
    nit_init(&b);
    nit_connect(&b);
    assert_true(nit_pump_until(&a, &a.lost, 1, 10000));
    if (a.lost_err == KMQTT_EDISCONNECTED) {
        assert_int_equal(a.lost_reason, 0x8E);
    } else {
        assert_int_equal(a.lost_err, KMQTT_ECLOSED);
    }
    assert_int_equal(kmqtt_nano_state(&a.c), KMQTT_NANO_IDLE);
    nit_pump_for(&b, 100);
    assert_int_equal(b.lost, 0);
    assert_int_equal(kmqtt_nano_state(&b.c), KMQTT_NANO_CONNECTED);

    nit_teardown(&b);
    nit_teardown(&a);
    it_expect_baseline(&parent, &base, "v5 takeover", 1);
}

/* 5.0 DISCONNECT with reason 0x04 (Disconnect with Will Message): the
 * broker publishes the will although the client disconnected
 * (MQTT-3.14.4-3 keeps it only for other reasons); with 0x00 it does not. */
static void test_nano_v5_disconnect_0x04_sends_the_will(void **state)
{
    it_baseline_t base;
    proc_t *s;
    static const uint8_t will[] = "bye";
    (void)state;

    it_take_baseline(&parent, &base);
    s = broker_sub_start(broker, "nit/v5/will", 1, 10);
    assert_non_null(s);
    v5_setup(&a, broker_port(broker), "nit-v5-will");
    a.cfg.mqtt.will_topic = "nit/v5/will";
    a.cfg.mqtt.will_payload = will;
    a.cfg.mqtt.will_payload_len = 3;
    nit_init(&a);
    nit_connect(&a);
    assert_int_equal(kmqtt_nano_disconnect(&a.c, 0x04, 2000), KMQTT_OK);
    assert_int_equal(proc_wait(s, 10000), 0);
    assert_non_null(strstr(proc_output(s), "P:627965:"));
    proc_free(s);
    nit_teardown(&a);
    it_expect_baseline(&parent, &base, "v5 disconnect with will", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nano_v5_user_properties_round_trip),
        cmocka_unit_test(test_nano_v5_session_expiry_resumes_across_cut),
        cmocka_unit_test(test_nano_v5_suback_codes_and_no_local),
        cmocka_unit_test(test_nano_v5_server_limits),
        cmocka_unit_test(test_nano_v5_takeover_ends_first_connection),
        cmocka_unit_test(test_nano_v5_disconnect_0x04_sends_the_will),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
