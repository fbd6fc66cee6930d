/*
 * A burst of QoS 2 messages into a nano subscriber, against a real
 * mosquitto, MQTT 3.1.1 and 5.0. mosquitto 2.0.11 counts its in-flight quota
 * back at PUBREC, not PUBCOMP, so it has more QoS 2 ids awaiting PUBREL at
 * the nano than KMQTT_NANO_INBOUND_QOS2 (in 5.0 beyond the Receive Maximum
 * the nano advertised: MQTT-3.3.4-9). The nano must still deliver every
 * message exactly once (MQTT-4.3.3) without losing the connection. A second
 * nano client publishes the burst as fast as the broker acks it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "nano_it.h"
#include "it_group.h"

#define BURST 20

static broker_t *broker;
static kmqtt_mem_t parent;
static nit_t sub, pub;

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

static void poll_both(void)
{
    uint32_t next = 0;
    unsigned ready = 0;
    assert_int_equal(kmqtt_nano_poll(&pub.c, nit_now(), NULL), KMQTT_OK);
    assert_int_equal(kmqtt_nano_poll(&sub.c, nit_now(), &next), KMQTT_OK);
    (void)sub.tr.wait(sub.tr.ctx, KMQTT_WAIT_READ, next < 2u ? next : 2u, &ready);
}

static void burst(uint8_t version, const char *tag)
{
    it_baseline_t base;
    char topic[64];
    char ids[2][32];
    int i;

    snprintf(topic, sizeof(topic), "nit/burst/%s", tag);
    snprintf(ids[0], sizeof(ids[0]), "nit-burst-sub-%s", tag);
    snprintf(ids[1], sizeof(ids[1]), "nit-burst-pub-%s", tag);
    it_take_baseline(&parent, &base);
    nit_setup(&sub, &parent, broker_port(broker), ids[0]);
    nit_setup(&pub, &parent, broker_port(broker), ids[1]);
    sub.cfg.mqtt.version = version;
    pub.cfg.mqtt.version = version;
    pub.cfg.mqtt.max_inflight = BURST;
    nit_init(&sub);
    nit_init(&pub);
    nit_connect(&sub);
    nit_connect(&pub);
    assert_int_equal(nit_subscribe(&sub, topic, 2), 2);

    uint64_t end = now_ms() + 20000;
    for (i = 0; i < BURST;) {
        char payload[16];
        snprintf(payload, sizeof(payload), "m%02d", i);
        kmqtt_err_t err = nit_publish(&pub, topic, payload, 2, false, NULL);
        if (err == KMQTT_OK) {
            i++;
            continue;
        }
        assert_true(err == KMQTT_ELIMIT || err == KMQTT_ENOBUFS);
        assert_true(now_ms() < end);
        poll_both();
    }
    while ((sub.nmsgs < BURST || pub.published < BURST) && now_ms() < end) {
        poll_both();
    }
    /* Let any duplicate arrive before counting. */
    uint64_t quiet = now_ms() + 300;
    while (now_ms() < quiet) {
        poll_both();
    }
    printf("# %s: %d messages, %u QoS 2 ids evicted\n", tag, sub.nmsgs,
           (unsigned)kmqtt_nano_qos2_evictions(&sub.c));
    assert_int_equal(sub.lost, 0);
    assert_int_equal(sub.connected, 1);
    assert_int_equal(pub.lost, 0);
    assert_int_equal(pub.published, BURST);
    assert_int_equal(sub.nmsgs, BURST);
    /* Each exactly once, in order (MQTT-4.6.0-6: one topic, one QoS). */
    for (i = 0; i < BURST; i++) {
        char payload[16];
        snprintf(payload, sizeof(payload), "m%02d", i);
        if (!nit_msg_is(&sub, i, topic, payload)) {
            fail_msg("message %d is not %s", i, payload);
        }
        assert_int_equal(sub.msgs[i].qos, 2);
    }
    nit_teardown(&pub);
    nit_teardown(&sub);
    it_expect_baseline(&parent, &base, tag, 1);
}

static void test_nano_qos2_burst_v311(void **state)
{
    (void)state;
    burst(KMQTT_V311, "v311");
}

#if KMQTT_CFG_V5
static void test_nano_qos2_burst_v5(void **state)
{
    (void)state;
    burst(KMQTT_V5, "v5");
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nano_qos2_burst_v311),
#if KMQTT_CFG_V5
        cmocka_unit_test(test_nano_qos2_burst_v5),
#endif
    };
    return cmocka_run_group_tests_name("nano qos2 burst", tests, group_setup, group_teardown);
}
