/*
 * Keeping a connection alive and noticing when it is not: keepalive pings on
 * an idle connection, a broker that dies (SIGKILL), a broker that hangs
 * (SIGSTOP), with the application's loop and with the background thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"

#define WAIT_MS 5000u

static kmqtt_client_t *client_with(broker_t *b, const char *id, uint16_t keepalive,
                                   it_states_t *states)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    it_options(&o, b, id);
    o.keepalive_s = keepalive;
    /* These tests watch the loss itself; reconnecting is test_client_reconnect's. */
    o.reconnect = KMQTT_RECONNECT_OFF;
    if (states != NULL) {
        o.on_state = it_states_handler;
        o.ctx = states;
    }
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    return c;
}

static void publish_and_wait_ok(kmqtt_client_t *c)
{
    kmqtt_publish_result_t pr;
    uint16_t id = 0;
    assert_int_equal(kmqtt_publish(c, "it/alive", "still here", 10, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
}

/* ---------------------------------------------------------------- pings */

static void test_idle_connection_is_kept_alive_by_pings_from_the_loop(void **state)
{
    broker_t *b = *state;
    kmqtt_client_t *c = client_with(b, "it-ka-loop", 1, NULL);

    /* mosquitto drops a client silent for 1.5 x keepalive: 3.5 s of idling
     * survives only if the loop pings. */
    assert_int_equal(it_pump(c, 3500, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_true(broker_log_count(b, "Received PINGREQ from it-ka-loop") >= 2);
    assert_true(broker_log_count(b, "Sending PINGRESP to it-ka-loop") >= 2);
    assert_int_equal(broker_log_count(b, "Client it-ka-loop has exceeded timeout"), 0);
    publish_and_wait_ok(c);
    kmqtt_client_destroy(c);
}

static void test_idle_connection_is_kept_alive_by_the_background_thread(void **state)
{
    broker_t *b = *state;
    kmqtt_client_t *c = client_with(b, "it-ka-thread", 1, NULL);

    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    sleep_ms(3500);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_true(broker_log_count(b, "Received PINGREQ from it-ka-thread") >= 2);
    assert_int_equal(broker_log_count(b, "Client it-ka-thread has exceeded timeout"), 0);
    publish_and_wait_ok(c);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
}

static void test_busy_connection_needs_no_extra_pings(void **state)
{
    broker_t *b = *state;
    kmqtt_client_t *c = client_with(b, "it-ka-busy", 2, NULL);
    uint64_t end = now_ms() + 2500;

    /* A control packet at least every keepalive is enough (MQTT-3.1.2-23). */
    while (now_ms() < end) {
        publish_and_wait_ok(c);
        assert_int_equal(it_pump(c, 200, NULL, NULL), KMQTT_OK);
    }
    assert_int_equal(broker_log_count(b, "Received PINGREQ from it-ka-busy"), 0);
    kmqtt_client_destroy(c);
}

/* ----------------------------------------------------------- broker dies */

static void test_loop_reports_a_killed_broker_at_once(void **state)
{
    broker_t *b = *state;
    kmqtt_client_t *c = client_with(b, "it-dead-loop", 60, NULL);
    kmqtt_err_t e;
    uint64_t t0;

    assert_int_equal(it_pump(c, 100, NULL, NULL), KMQTT_OK);
    broker_kill(b);
    t0 = now_ms();
    e = it_pump(c, WAIT_MS, NULL, NULL);
    /* The kernel closes a dead process's sockets: no keepalive wait needed. */
    assert_true(now_ms() - t0 < 1000);
    assert_true(e < 0);
    assert_int_not_equal(e, KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTION_LOST);
    assert_int_equal(kmqtt_run(c, 10), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_publish(c, "it/x", "x", 1, 0, false, NULL, NULL), KMQTT_ENOTCONN);

    /* The application decides when to reconnect; the same client works. */
    assert_int_equal(broker_restart(b), 0);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    publish_and_wait_ok(c);
    kmqtt_client_destroy(c);
}

static void test_blocked_publish_wait_returns_when_the_broker_dies(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    kmqtt_client_t *c = client_with(b, "it-dead-wait", 60, NULL);
    uint16_t id = 0;
    kmqtt_err_t e;
    uint64_t t0;

    /* A hung broker: the PUBACK never comes, then the broker dies. */
    broker_pause(b);
    assert_int_equal(kmqtt_publish(c, "it/x", "x", 1, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, 200, NULL), KMQTT_ETIMEDOUT);
    broker_kill(b);
    t0 = now_ms();
    e = kmqtt_publish_wait(c, id, WAIT_MS, NULL);
    assert_true(now_ms() - t0 < 1000);
    assert_int_not_equal(e, KMQTT_OK);
    assert_int_not_equal(e, KMQTT_ETIMEDOUT);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTION_LOST);
    kmqtt_client_destroy(c);
}

static void test_background_thread_reports_a_killed_broker_by_callback(void **state)
{
    broker_t *b = *state;
    it_states_t states;
    kmqtt_client_t *c;
    kmqtt_err_t why = KMQTT_OK;
    kmqtt_err_t e;
    int threads = count_threads();
    uint64_t t0;

    it_states_init(&states);
    c = client_with(b, "it-dead-thread", 60, &states);
    assert_true(it_states_wait(&states, KMQTT_STATE_CONNECTED, WAIT_MS, NULL));
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    assert_int_equal(count_threads(), threads + 1);
    broker_kill(b);
    t0 = now_ms();
    assert_true(it_states_wait(&states, KMQTT_STATE_CONNECTION_LOST, WAIT_MS, &why));
    assert_true(now_ms() - t0 < 1000);
    assert_true(why < 0);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTION_LOST);
    /* Nothing to disconnect any more, but the call still stops the thread. */
    e = kmqtt_disconnect(c, NULL);
    assert_true(e == KMQTT_OK || e == KMQTT_ENOTCONN);
    assert_int_equal(wait_threads_at_most(threads, 200), threads);
    kmqtt_client_destroy(c);
    it_states_destroy(&states);
}

/* ---------------------------------------------------------- broker hangs */

static void test_hung_broker_is_detected_by_keepalive(void **state)
{
    broker_t *b = *state;
    kmqtt_client_t *c = client_with(b, "it-hung", 1, NULL);
    kmqtt_err_t e;
    uint64_t t0;

    broker_pause(b);
    t0 = now_ms();
    e = it_pump(c, 6000, NULL, NULL);
    /* A PINGREQ after 1 s idle, then a bounded wait for its PINGRESP. */
    assert_int_equal(e, KMQTT_EKEEPALIVE);
    assert_true(now_ms() - t0 <= 4000);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTION_LOST);
    broker_resume(b);
    kmqtt_client_destroy(c);
}

static void test_disconnect_returns_promptly_from_a_hung_broker(void **state)
{
    broker_t *b = *state;
    kmqtt_client_t *c = client_with(b, "it-hung-disc", 60, NULL);
    int fds;
    uint64_t t0;

    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    broker_pause(b);
    t0 = now_ms();
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    /* The DISCONNECT flush is best effort and brief. */
    assert_true(now_ms() - t0 < 2000);
    fds = count_open_fds();
    kmqtt_client_destroy(c);
    assert_true(count_open_fds() <= fds);
    broker_resume(b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, it_broker_setup_logged, it_broker_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_idle_connection_is_kept_alive_by_pings_from_the_loop),
        T(test_idle_connection_is_kept_alive_by_the_background_thread),
        T(test_busy_connection_needs_no_extra_pings),
        T(test_loop_reports_a_killed_broker_at_once),
        T(test_blocked_publish_wait_returns_when_the_broker_dies),
        T(test_background_thread_reports_a_killed_broker_by_callback),
        T(test_hung_broker_is_detected_by_keepalive),
        T(test_disconnect_returns_promptly_from_a_hung_broker),
    };
    signal(SIGPIPE, SIG_IGN);
    warm_up_threads();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
