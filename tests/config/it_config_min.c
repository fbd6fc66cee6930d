/*
 * The smallest client (make size's "min": 3.1.1, QoS 0/1, no offline queue,
 * small tables; cmake/part_target.cmake links this with that build) against
 * a real mosquitto: subscribe and publish at QoS 1 both ways, QoS 2 refused
 * before anything is sent, automatic reconnect and resubscription after the
 * broker restarts, and every byte back at destroy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "kmqtt/client.h"
#include "kmqtt/config.h"

#define WAIT_MS 10000u

static int setup(void **state)
{
    broker_t *b = broker_start(NULL);

    if (b == NULL)
        return -1;
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    broker_stop(*state);
    return 0;
}

static int connected_count(it_states_t *s)
{
    int i, n = 0;

    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->n; i++)
        n += s->state[i] == KMQTT_STATE_CONNECTED;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void test_min_client_qos1_reconnect_resume(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    static kmqtt_mem_t mem;
    static it_baseline_t base;
    static it_states_t states;
    static it_rec_t rec;
    kmqtt_mem_config_t mc;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t sub;
    kmqtt_subscribe_result_t granted;
    uint16_t id = 0;
    uint64_t deadline;

    /* The build under test is the min one. */
    assert_int_equal(KMQTT_CFG_V5, 0);
    assert_int_equal(KMQTT_CFG_QOS2, 0);
    assert_int_equal(KMQTT_CFG_OFFLINE_QUEUE, 0);

    memset(&mc, 0, sizeof mc);
    mc.debug = true;
    assert_int_equal(kmqtt_mem_init(&mem, &mc), KMQTT_OK);
    it_states_init(&states);
    it_rec_init(&rec);
    it_take_baseline(&mem, &base);
    it_options(&o, b, "it-min");
    o.mem = &mem;
    o.on_state = it_states_handler;
    o.ctx = &states;
    o.clean_session = false; /* resumption: the broker keeps the subscription */
    o.reconnect = KMQTT_RECONNECT_ON;
    o.reconnect_min_ms = 100;
    o.reconnect_max_ms = 400;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);

    memset(&sub, 0, sizeof sub);
    sub.filter = "it/min/#";
    sub.qos = 2;
    sub.handler = it_rec_handler;
    sub.ctx = &rec;
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, &granted), KMQTT_EUNSUPPORTED);
    sub.qos = 1;
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, &granted), KMQTT_OK);
    assert_int_equal(granted.reason_codes[0], 1);

    /* QoS 1 out and back in (MQTT-4.3.2: PUBACK both ways). */
    assert_int_equal(kmqtt_publish(c, "it/min/a", "one", 3, 2, false, NULL, &pr),
                     KMQTT_EUNSUPPORTED);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish(c, "it/min/a", "one", 3, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    assert_true(it_wait_msgs(c, &rec, 1, WAIT_MS));
    /* A QoS 2 message from another client reaches us downgraded to the
     * granted QoS 1 (MQTT-3.8.4-6), so it is no protocol error. */
    assert_int_equal(broker_pub(b, "it/min/b", "two", 2, false), 0);
    assert_true(it_wait_msgs(c, &rec, 2, WAIT_MS));
    assert_int_equal(rec.msgs[1].qos, 1);

    /* The broker goes away and comes back without our session (the test
     * broker runs without persistence): the client reconnects by itself
     * and subscribes again by itself; the SUBSCRIBE leaves before the
     * PUBLISH below, so the handler sees the message. */
    broker_kill(b);
    deadline = now_ms() + WAIT_MS;
    while (kmqtt_client_state(c) == KMQTT_STATE_CONNECTED && now_ms() < deadline)
        (void)kmqtt_run(c, 50);
    assert_int_equal(broker_restart(b), 0);
    deadline = now_ms() + WAIT_MS;
    while (kmqtt_client_state(c) != KMQTT_STATE_CONNECTED && now_ms() < deadline)
        (void)kmqtt_run(c, 50);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_int_equal(connected_count(&states), 2); /* a new connection */
    assert_int_equal(kmqtt_publish(c, "it/min/c", "three", 5, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    assert_true(it_wait_msgs(c, &rec, 3, WAIT_MS));

    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_expect_baseline(&mem, &base, "min client", 0);
    it_rec_destroy(&rec);
    it_states_destroy(&states);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_min_client_qos1_reconnect_resume, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
