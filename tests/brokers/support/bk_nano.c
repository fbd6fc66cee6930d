/*
 * The nano client against each broker: the suite's only use of kmqtt/nano.h
 * (through tests/integration/support/nano_it.h), kept in this one file so a
 * change of the nano configuration touches only here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bk_core.h"
#include "bk_target.h"
#include "nano_it.h"

static nit_t nano;

/* Subscribes its own topic at qos, publishes count messages at qos, and
 * checks each is completed (PUBLISHED, no error) and comes back once, in
 * order, at the granted QoS. */
static void nano_roundtrip(const char *leaf, uint8_t qos, int count)
{
    char topic[128], p[32];
    int first_msg = nano.nmsgs, first_pub = nano.published, i;
    uint8_t granted;

    bk_topic(topic, leaf);
    granted = nit_subscribe(&nano, topic, qos);
    assert_int_equal(granted, qos < bk.max_qos ? qos : bk.max_qos);
    for (i = 0; i < count; i++) {
        kmqtt_err_t err;
        /* The in-flight window full: poll until acks free it. */
        while ((err = nit_publish(&nano, topic, bk_payload(p, (unsigned)i), qos, false, NULL)) ==
               KMQTT_ELIMIT)
            nit_poll_wait(&nano, 20, NULL, 0);
        assert_int_equal(err, KMQTT_OK);
    }
    assert_true(nit_pump_until(&nano, &nano.nmsgs, first_msg + count, 15000));
    if (qos > 0) {
        assert_true(nit_pump_until(&nano, &nano.published, first_pub + count, 15000));
        for (i = first_pub; i < first_pub + count; i++)
            assert_int_equal(nano.pub_errs[i], KMQTT_OK);
    }
    for (i = 0; i < count; i++) {
        assert_true(nit_msg_is(&nano, first_msg + i, topic, bk_payload(p, (unsigned)i)));
        assert_int_equal(nano.msgs[first_msg + i].qos, granted);
    }
}

void bk_core_nano(void **state)
{
    char id[64];

    (void)state;
    snprintf(id, sizeof id, "nano-%s", bk.run_id);
    nit_setup(&nano, &bk.parent, bk_port(bk.cl, 0), id);
    if (bk.username != NULL) {
        nano.cfg.mqtt.username = bk.username;
        nano.cfg.mqtt.password = (const uint8_t *)"x";
        nano.cfg.mqtt.password_len = 1;
    }
    nit_init(&nano);
    nit_connect(&nano);
    nano_roundtrip("nano/q1", 1, 10);
    if (bk.max_qos == 2)
        nano_roundtrip("nano/q2", 2, 5); /* MQTT-4.3.3: exactly once */
    nit_teardown(&nano);
}
