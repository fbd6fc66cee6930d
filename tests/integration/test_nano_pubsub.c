/*
 * The nano client (include/kmqtt/nano.h) against a real mosquitto, MQTT
 * 3.1.1: publish and receive at QoS 0/1/2, retained messages, the will,
 * unsubscribe, a refused CONNECT and a closed port. mosquitto_sub and
 * mosquitto_pub are the other side. The nano allocates nothing; its TCP
 * transport takes one block from a test-owned kmqtt_mem_t and a socket, and
 * both must be back where they were after every failure.
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
#include "nano_it.h"
#include "it_group.h"

static broker_t *broker;
static kmqtt_mem_t parent;
static nit_t nit;

static int group_setup(void **state)
{
    (void)state;
    broker = it_group_broker(&parent, NULL);
    return broker != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    broker_stop(broker);
    return 0;
}

/* Reads n lines of mosquitto_sub output into payloads/qos. */
static void sub_lines(proc_t *p, int n, char payloads[][64], int *qos, int *retain)
{
    const char *pos = proc_output(p);
    char topic[128];
    int i;
    for (i = 0; i < n; i++) {
        if (!nit_sub_line(&pos, payloads[i], 64, &qos[i], &retain[i], topic, sizeof(topic))) {
            fail_msg("subscriber line %d missing in:\n%s", i, proc_output(p));
        }
    }
}

/* Nano publishes at QoS 0, 1 and 2; a subscriber gets each once, at its QoS;
 * QoS 1 and 2 complete with PUBLISHED (PUBACK / PUBCOMP: MQTT-4.3.2-1,
 * MQTT-4.3.3-1) and leave the store empty. */
static void test_nano_publishes_qos_0_1_2(void **state)
{
    it_baseline_t base;
    proc_t *sub;
    uint16_t id1 = 0, id2 = 0;
    char pl[3][64];
    int qos[3], ret[3];
    (void)state;

    it_take_baseline(&parent, &base);
    sub = broker_sub_start(broker, "nit/ps/out", 3, 20);
    assert_non_null(sub);
    nit_setup(&nit, &parent, broker_port(broker), "nit-ps-pub");
    nit_init(&nit);
    nit_connect(&nit);
    assert_false(nit.session_present);

    assert_int_equal(nit_publish(&nit, "nit/ps/out", "zero", 0, false, NULL), KMQTT_OK);
    assert_int_equal(nit_publish(&nit, "nit/ps/out", "one", 1, false, &id1), KMQTT_OK);
    assert_int_equal(nit_publish(&nit, "nit/ps/out", "two", 2, false, &id2), KMQTT_OK);
    assert_int_not_equal(id1, 0);
    assert_int_not_equal(id2, 0);
    assert_int_not_equal(id1, id2);
    assert_int_equal(kmqtt_nano_inflight(&nit.c), 2);
    assert_true(nit_pump_until(&nit, &nit.published, 2, 10000));
    assert_int_equal(nit.pub_ids[0], id1);
    assert_int_equal(nit.pub_ids[1], id2);
    assert_int_equal(nit.pub_errs[0], KMQTT_OK);
    assert_int_equal(nit.pub_errs[1], KMQTT_OK);
    assert_int_equal(kmqtt_nano_inflight(&nit.c), 0);
    assert_int_equal(kmqtt_nano_store_used(&nit.c), 0);

    assert_int_equal(proc_wait(sub, 10000), 0);
    sub_lines(sub, 3, pl, qos, ret);
    assert_string_equal(pl[0], "zero");
    assert_string_equal(pl[1], "one");
    assert_string_equal(pl[2], "two");
    assert_int_equal(qos[0], 0);
    assert_int_equal(qos[1], 1);
    assert_int_equal(qos[2], 2);
    proc_free(sub);

    assert_int_equal(kmqtt_nano_disconnect(&nit.c, 0, 2000), KMQTT_OK);
    assert_int_equal(kmqtt_nano_state(&nit.c), KMQTT_NANO_IDLE);
    nit_teardown(&nit);
    it_expect_baseline(&parent, &base, "publish qos 0/1/2", 1);
}

/* Another client publishes at QoS 0, 1 and 2 to a QoS 2 subscription: nano
 * gets each once, at the QoS it was published with (MQTT-3.8.4-6), in order
 * (MQTT-4.6.0-5 for one topic). */
static void test_nano_receives_qos_0_1_2(void **state)
{
    it_baseline_t base;
    (void)state;

    it_take_baseline(&parent, &base);
    nit_setup(&nit, &parent, broker_port(broker), "nit-ps-sub");
    nit_init(&nit);
    nit_connect(&nit);
    assert_int_equal(nit_subscribe(&nit, "nit/ps/in", 2), 2);

    assert_int_equal(broker_pub(broker, "nit/ps/in", "q0", 0, false), 0);
    assert_int_equal(broker_pub(broker, "nit/ps/in", "q1", 1, false), 0);
    assert_int_equal(broker_pub(broker, "nit/ps/in", "q2", 2, false), 0);
    assert_true(nit_pump_until(&nit, &nit.nmsgs, 3, 10000));
    assert_true(nit_msg_is(&nit, 0, "nit/ps/in", "q0"));
    assert_true(nit_msg_is(&nit, 1, "nit/ps/in", "q1"));
    assert_true(nit_msg_is(&nit, 2, "nit/ps/in", "q2"));
    assert_int_equal(nit.msgs[0].qos, 0);
    assert_int_equal(nit.msgs[1].qos, 1);
    assert_int_equal(nit.msgs[2].qos, 2);
    assert_int_equal(nit.msgs[0].packet_id, 0);
    assert_int_not_equal(nit.msgs[1].packet_id, 0);
    assert_int_not_equal(nit.msgs[2].packet_id, 0);
    assert_false(nit.msgs[1].retain);
    /* The QoS 2 exchange completed: a while later nothing arrived twice
     * (MQTT-4.3.3-2: no duplicate delivery after PUBREC/PUBREL). */
    nit_pump_for(&nit, 300);
    assert_int_equal(nit.nmsgs, 3);
    assert_int_equal(nit.lost, 0);

    nit_teardown(&nit);
    it_expect_baseline(&parent, &base, "receive qos 0/1/2", 1);
}

/* A retained message reaches a new subscription with RETAIN set
 * (MQTT-3.3.1-6); nano can also set one itself (MQTT-3.3.1-5). */
static void test_nano_retained_both_ways(void **state)
{
    it_baseline_t base;
    (void)state;

    it_take_baseline(&parent, &base);
    assert_int_equal(broker_pub(broker, "nit/ps/ret", "kept", 1, true), 0);
    nit_setup(&nit, &parent, broker_port(broker), "nit-ps-ret");
    nit_init(&nit);
    nit_connect(&nit);
    assert_int_equal(nit_subscribe(&nit, "nit/ps/ret", 1), 1);
    assert_true(nit_pump_until(&nit, &nit.nmsgs, 1, 10000));
    assert_true(nit_msg_is(&nit, 0, "nit/ps/ret", "kept"));
    assert_true(nit.msgs[0].retain);

    /* Nano replaces the retained message; a fresh subscriber sees nano's. */
    assert_int_equal(nit_publish(&nit, "nit/ps/ret2", "mine", 1, true, NULL), KMQTT_OK);
    assert_true(nit_pump_until(&nit, &nit.published, 1, 10000));
    {
        proc_t *sub = broker_sub_start(broker, "nit/ps/ret2", 1, 10);
        char pl[1][64];
        int qos[1], ret[1];
        assert_non_null(sub);
        assert_int_equal(proc_wait(sub, 10000), 0);
        sub_lines(sub, 1, pl, qos, ret);
        assert_string_equal(pl[0], "mine");
        assert_int_equal(ret[0], 1);
        proc_free(sub);
    }
    /* Clear both (an empty retained payload, MQTT-3.3.1-10). */
    assert_int_equal(nit_publish(&nit, "nit/ps/ret2", "", 1, true, NULL), KMQTT_OK);
    assert_true(nit_pump_until(&nit, &nit.published, 2, 10000));
    assert_int_equal(broker_pub(broker, "nit/ps/ret", "", 1, true), 0);

    nit_teardown(&nit);
    it_expect_baseline(&parent, &base, "retained", 1);
}

/* The will: published when the connection is lost without DISCONNECT
 * (MQTT-3.1.2-8), not after a clean DISCONNECT (MQTT-3.1.2-10). */
static void test_nano_will_on_cut_not_on_disconnect(void **state)
{
    it_baseline_t base;
    fault_proxy_t *px;
    proc_t *sub;
    char pl[1][64];
    int qos[1], ret[1];
    static const uint8_t will[] = "gone";
    (void)state;

    it_take_baseline(&parent, &base);
    px = fault_proxy_start(broker_port(broker), 8);
    assert_non_null(px);
    sub = broker_sub_start(broker, "nit/ps/will", 1, 20);
    assert_non_null(sub);

    nit_setup(&nit, &parent, fault_proxy_port(px), "nit-ps-will");
    nit.cfg.mqtt.will_topic = "nit/ps/will";
    nit.cfg.mqtt.will_payload = will;
    nit.cfg.mqtt.will_payload_len = 4;
    nit.cfg.mqtt.will_qos = 1;
    nit.cfg.reconnect_min_ms = 0; /* stay down after the cut */
    nit_init(&nit);
    nit_connect(&nit);
    fault_proxy_drop_now(px);
    assert_true(nit_pump_until(&nit, &nit.lost, 1, 10000));
    assert_int_not_equal(nit.lost_err, KMQTT_OK);
    assert_int_equal(proc_wait(sub, 10000), 0);
    sub_lines(sub, 1, pl, qos, ret);
    assert_string_equal(pl[0], "gone");
    assert_int_equal(qos[0], 1);
    proc_free(sub);
    /* reconnect_min_ms 0: the client waits for the caller. */
    nit_pump_for(&nit, 200);
    assert_int_equal(nit.connected, 1);
    (void)kmqtt_nano_disconnect(&nit.c, 0, 1000);
    assert_int_equal(kmqtt_nano_state(&nit.c), KMQTT_NANO_IDLE);

    /* Now a clean disconnect: the broker discards the will. */
    nit_connect(&nit);
    sub = broker_sub_start(broker, "nit/ps/will", 1, 2);
    assert_non_null(sub);
    assert_int_equal(kmqtt_nano_disconnect(&nit.c, 0, 2000), KMQTT_OK);
    assert_int_equal(kmqtt_nano_state(&nit.c), KMQTT_NANO_IDLE);
    assert_true(broker_log_wait(broker, "nit-ps-will disconnected", 1, 5000));
    /* mosquitto_sub exits 27 when its 2 s pass without a message. */
    assert_int_equal(proc_wait(sub, 10000), 27);
    assert_null(strstr(proc_output(sub), "P:"));
    proc_free(sub);

    nit_teardown(&nit);
    fault_proxy_stop(px);
    it_expect_baseline(&parent, &base, "will", 1);
}

/* After UNSUBACK the broker stops delivering on that filter
 * (MQTT-3.10.4-2); another subscription keeps working. */
static void test_nano_unsubscribe_stops_delivery(void **state)
{
    it_baseline_t base;
    const char *filter = "nit/ps/uns";
    uint16_t id = 0;
    (void)state;

    it_take_baseline(&parent, &base);
    nit_setup(&nit, &parent, broker_port(broker), "nit-ps-uns");
    nit_init(&nit);
    nit_connect(&nit);
    assert_int_equal(nit_subscribe(&nit, "nit/ps/uns", 1), 1);
    assert_int_equal(nit_subscribe(&nit, "nit/ps/mark", 1), 1);
    assert_int_equal(broker_pub(broker, "nit/ps/uns", "before", 1, false), 0);
    assert_true(nit_pump_until(&nit, &nit.nmsgs, 1, 10000));
    assert_true(nit_msg_is(&nit, 0, "nit/ps/uns", "before"));

    assert_int_equal(kmqtt_nano_unsubscribe(&nit.c, &filter, 1, nit_now(), &id), KMQTT_OK);
    assert_true(nit_pump_until(&nit, &nit.unsuback, 1, 10000));
    assert_int_equal(nit.suback_id, id);
    assert_int_equal(nit.ncodes, 0); /* 3.1.1: UNSUBACK has no codes */

    assert_int_equal(broker_pub(broker, "nit/ps/uns", "after", 1, false), 0);
    /* Same publisher, sent after it: once the marker is here, "after" would
     * have been too (MQTT-4.6.0-5 ordering over one connection). */
    assert_int_equal(broker_pub(broker, "nit/ps/mark", "mark", 1, false), 0);
    assert_true(nit_pump_until(&nit, &nit.nmsgs, 2, 10000));
    nit_pump_for(&nit, 100);
    assert_int_equal(nit.nmsgs, 2);
    assert_true(nit_msg_is(&nit, 1, "nit/ps/mark", "mark"));

    nit_teardown(&nit);
    it_expect_baseline(&parent, &base, "unsubscribe", 1);
}

/* mosquitto with a password file refuses an anonymous CONNECT: 3.1.1 CONNACK
 * code 5, not authorized (MQTT-3.2.2-5: the server closes the connection).
 * The nano reports CONNECT_FAILED KMQTT_EREFUSED reason 5; with reconnect
 * off it is IDLE with its socket closed. With the password it connects. */
static void test_nano_refused_connect_releases_everything(void **state)
{
    broker_opts_t bo;
    broker_t *auth;
    it_baseline_t empty, base;
    static const uint8_t pw[] = "s3cret";
    int round;
    (void)state;

    memset(&bo, 0, sizeof(bo));
    bo.username = "dev";
    bo.password = "s3cret";
    auth = broker_start(&bo);
    assert_non_null(auth);

    it_take_baseline(&parent, &empty);
    nit_setup(&nit, &parent, broker_port(auth), "nit-ps-auth");
    nit.cfg.reconnect_min_ms = 0;
    nit_init(&nit);
    it_take_baseline(&parent, &base);
    for (round = 1; round <= 3; round++) {
        assert_int_equal(kmqtt_nano_connect(&nit.c, nit_now()), KMQTT_OK);
        assert_true(nit_pump_until(&nit, &nit.connect_failed, round, 10000));
        assert_int_equal(nit.fail_err, KMQTT_EREFUSED);
        assert_int_equal(nit.fail_reason, 5);
        assert_int_equal(nit.connected, 0);
        assert_int_equal(kmqtt_nano_state(&nit.c), KMQTT_NANO_IDLE);
        it_expect_baseline(&parent, &base, "refused connect", round);
    }
    /* The right password: accepted. */
    nit.cfg.mqtt.username = "dev";
    nit.cfg.mqtt.password = pw;
    nit.cfg.mqtt.password_len = 6;
    nit_init(&nit);
    nit_connect(&nit);
    assert_int_equal(kmqtt_nano_disconnect(&nit.c, 0, 2000), KMQTT_OK);
    it_expect_baseline(&parent, &base, "authorized connect", 1);
    nit_teardown(&nit);
    it_expect_baseline(&parent, &empty, "auth transport destroyed", 1);
    broker_stop(auth);
}

/* Nothing listens: kmqtt_nano_connect returns the transport's error, stays
 * IDLE and keeps no socket; a hung server gives CONNECT_FAILED
 * KMQTT_ETIMEDOUT once connect_timeout_ms passes without CONNACK. */
static void test_nano_connect_failures_release_everything(void **state)
{
    it_baseline_t empty, base;
    silent_t *s;
    int round;
    kmqtt_err_t e;
    (void)state;

    it_take_baseline(&parent, &empty);
    nit_setup(&nit, &parent, unused_port(), "nit-ps-closed");
    nit.cfg.reconnect_min_ms = 0;
    nit_init(&nit);
    it_take_baseline(&parent, &base);
    for (round = 1; round <= 3; round++) {
        e = kmqtt_nano_connect(&nit.c, nit_now());
        assert_int_equal(e, KMQTT_ECONNREFUSED);
        assert_int_equal(kmqtt_nano_state(&nit.c), KMQTT_NANO_IDLE);
        it_expect_baseline(&parent, &base, "closed port", round);
    }
    assert_int_equal(nit.connected, 0);
    nit_teardown(&nit);
    it_expect_baseline(&parent, &empty, "closed port transport destroyed", 1);

    s = silent_start();
    assert_non_null(s);
    it_take_baseline(&parent, &empty);
    nit_setup(&nit, &parent, silent_port(s), "nit-ps-silent");
    nit.cfg.reconnect_min_ms = 0;
    nit.cfg.connect_timeout_ms = 300;
    nit_init(&nit);
    it_take_baseline(&parent, &base);
    assert_int_equal(kmqtt_nano_connect(&nit.c, nit_now()), KMQTT_OK);
    assert_int_equal(kmqtt_nano_state(&nit.c), KMQTT_NANO_CONNECTING);
    assert_true(nit_pump_until(&nit, &nit.connect_failed, 1, 10000));
    assert_int_equal(nit.fail_err, KMQTT_ETIMEDOUT);
    assert_int_equal(kmqtt_nano_state(&nit.c), KMQTT_NANO_IDLE);
    it_expect_baseline(&parent, &base, "silent server", 1);
    nit_teardown(&nit);
    it_expect_baseline(&parent, &empty, "silent transport destroyed", 1);
    silent_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nano_publishes_qos_0_1_2),
        cmocka_unit_test(test_nano_receives_qos_0_1_2),
        cmocka_unit_test(test_nano_retained_both_ways),
        cmocka_unit_test(test_nano_will_on_cut_not_on_disconnect),
        cmocka_unit_test(test_nano_unsubscribe_stops_delivery),
        cmocka_unit_test(test_nano_refused_connect_releases_everything),
        cmocka_unit_test(test_nano_connect_failures_release_everything),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
