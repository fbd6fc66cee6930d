/*
 * Automatic reconnect against a real mosquitto: a broker that dies and comes
 * back (the background thread and an own kmqtt_run loop), a broker that
 * hangs with a QoS 1 message unacknowledged, a server list, and stopping a
 * client in the middle of its backoff or of an attempt. Every test checks
 * that memory, descriptors and threads are back where they started.
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

/* The client of the running test, so a failed test still stops its
 * thread before its stack (the callbacks' context) is gone. */
static kmqtt_client_t *g_client;

static int stop_broker(void **state)
{
    kmqtt_client_destroy(g_client);
    g_client = NULL;
    return it_broker_teardown(state);
}

/* Everything one test's client needs. Tests keep it static: after a failed
 * assertion the teardown destroys the client, whose callbacks still use it. */
typedef struct env {
    kmqtt_mem_t mem;
    it_baseline_t base;
    it_states_t states;
    it_rec_t rec;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
} env_t;

static void env_init(env_t *e, const broker_t *b, const char *id)
{
    kmqtt_mem_config_t mc;
    memset(e, 0, sizeof(*e));
    memset(&mc, 0, sizeof(mc));
    mc.debug = true;
    assert_int_equal(kmqtt_mem_init(&e->mem, &mc), KMQTT_OK);
    it_states_init(&e->states);
    it_rec_init(&e->rec);
    it_take_baseline(&e->mem, &e->base);
    it_options(&e->o, b, id);
    e->o.mem = &e->mem;
    e->o.on_state = it_states_handler;
    e->o.ctx = &e->states;
    e->o.reconnect_min_ms = 100;
    e->o.reconnect_max_ms = 400;
}

static void env_create(env_t *e)
{
    assert_int_equal(kmqtt_client_create(&e->o, &e->c), KMQTT_OK);
    g_client = e->c;
}

static void env_done(env_t *e, const char *what)
{
    kmqtt_client_destroy(e->c);
    e->c = NULL;
    g_client = NULL;
    it_expect_baseline(&e->mem, &e->base, what, 0);
    it_rec_destroy(&e->rec);
    it_states_destroy(&e->states);
}

static int states_count(it_states_t *s, kmqtt_conn_state_t st)
{
    int i, n = 0;
    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->n; i++) {
        n += s->state[i] == st;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Polls until st was reported at least n times. */
static bool states_wait_count(it_states_t *s, kmqtt_conn_state_t st, int n, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    while (states_count(s, st) < n) {
        if (now_ms() >= deadline) {
            return false;
        }
        sleep_ms(2);
    }
    return true;
}

static void subscribe(kmqtt_client_t *c, const char *filter, it_rec_t *rec)
{
    kmqtt_sub_request_t sub;
    sub.filter = filter;
    sub.qos = 1;
    sub.handler = it_rec_handler;
    sub.ctx = rec;
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
}

/* ------------------------------------------------------- broker restart */

static void test_thread_client_reconnects_after_a_restart_and_is_subscribed_again(void **state)
{
    broker_t *b = *state;
    static env_t e;
    kmqtt_err_t why = KMQTT_OK;

    env_init(&e, b, "it-rc-thread");
    env_create(&e);
    assert_int_equal(kmqtt_connect(e.c, 0, NULL), KMQTT_OK);
    subscribe(e.c, "it/rc/#", &e.rec);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);

    broker_kill(b);
    assert_true(it_states_wait(&e.states, KMQTT_STATE_CONNECTION_LOST, WAIT_MS, &why));
    assert_true(why < 0);
    assert_true(it_states_wait(&e.states, KMQTT_STATE_RECONNECTING, WAIT_MS, NULL));
    assert_int_equal(broker_restart(b), 0);
    /* Nobody calls connect: the thread does, then subscribes again (the
     * restarted broker kept no session). */
    assert_true(states_wait_count(&e.states, KMQTT_STATE_CONNECTED, 2, WAIT_MS));
    /* (The restarted broker writes a fresh log.) */
    assert_true(broker_log_wait(b, "Received SUBSCRIBE from it-rc-thread", 1, WAIT_MS));
    assert_true(broker_log_wait(b, "it-rc-thread 1 it/rc/#", 1, WAIT_MS));
    assert_int_equal(broker_pub(b, "it/rc/x", "back", 1, false), 0);
    assert_true(it_wait_msgs(e.c, &e.rec, 1, WAIT_MS));
    assert_int_equal(states_count(&e.states, KMQTT_STATE_DISCONNECTED), 0);
    env_done(&e, "restart, background thread");
}

static void test_own_loop_with_reconnect_on_reconnects_after_a_restart(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    static env_t e;
    kmqtt_err_t err = KMQTT_OK;
    uint16_t id = 0;
    uint64_t deadline;

    env_init(&e, b, "it-rc-loop");
    e.o.reconnect = KMQTT_RECONNECT_ON;
    env_create(&e);
    assert_int_equal(kmqtt_connect(e.c, 0, NULL), KMQTT_OK);
    broker_kill(b);
    deadline = now_ms() + WAIT_MS;
    while (err == KMQTT_OK && now_ms() < deadline) {
        err = kmqtt_run(e.c, 50);
    }
    assert_true(err < 0); /* the loss, once */
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_RECONNECTING);
    assert_int_equal(broker_restart(b), 0);
    deadline = now_ms() + WAIT_MS;
    while (kmqtt_client_state(e.c) != KMQTT_STATE_CONNECTED && now_ms() < deadline) {
        assert_int_equal(kmqtt_run(e.c, 50), KMQTT_OK);
    }
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_CONNECTED);
    assert_int_equal(states_count(&e.states, KMQTT_STATE_CONNECTED), 2);
    assert_int_equal(kmqtt_publish(e.c, "it/rc/loop", "x", 1, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(e.c, id, WAIT_MS, NULL), KMQTT_OK);
    env_done(&e, "restart, own loop");
}

/* ------------------------------------------------ persistent session */

static void test_unacked_qos1_sent_to_a_hung_broker_arrives_after_reconnect(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    static env_t e;
    proc_t *sub;
    uint16_t id = 0;
    char hex[16];

    env_init(&e, b, "it-rc-persist");
    sub = broker_sub_start(b, "it/rcp/#", 1, 20);
    assert_non_null(sub);
    e.o.clean_session = false;
    e.o.keepalive_s = 1;
    e.o.connect_timeout_ms = 1000;
    env_create(&e);
    assert_int_equal(kmqtt_connect(e.c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);

    broker_pause(b);
    assert_int_equal(kmqtt_publish(e.c, "it/rcp/x", "kept", 4, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    /* No PUBACK, no PINGRESP: keepalive declares the link dead. */
    assert_true(it_states_wait(&e.states, KMQTT_STATE_CONNECTION_LOST, WAIT_MS, NULL));
    broker_resume(b);
    /* The wait goes on through the reconnect: the message is still owed. */
    assert_int_equal(kmqtt_publish_wait(e.c, id, 3 * WAIT_MS, NULL), KMQTT_OK);
    assert_true(states_wait_count(&e.states, KMQTT_STATE_CONNECTED, 2, WAIT_MS));
    /* The broker kept the session: the same message again, DUP set. */
    assert_true(broker_log_wait(b, "Received PUBLISH from it-rc-persist (d1, q1", 1, WAIT_MS));
    assert_int_equal(it_wait_proc(e.c, sub, WAIT_MS), 0);
    to_hex("kept", 4, hex);
    assert_non_null(strstr(proc_output(sub), hex));
    proc_free(sub);
    env_done(&e, "persistent session");
}

/* ---------------------------------------------------------- server list */

static void test_server_list_moves_past_a_refused_port(void **state)
{
    broker_t *b = *state;
    static env_t e;
    char list[64];

    env_init(&e, b, "it-rc-list");
    snprintf(list, sizeof(list), "127.0.0.1:%u,127.0.0.1:%u", (unsigned)unused_port(),
             (unsigned)broker_port(b));
    e.o.servers = list;
    e.o.port = 1; /* ignored with a list */
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 0, NULL), KMQTT_ECONNREFUSED);
    /* An application's failed connect is not retried behind its back. */
    sleep_ms(300);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(states_count(&e.states, KMQTT_STATE_CONNECTING), 1);
    assert_int_equal(kmqtt_connect(e.c, 0, NULL), KMQTT_OK);
    assert_true(broker_log_wait(b, "as it-rc-list", 1, WAIT_MS));
    env_done(&e, "server list");
}

/* ------------------------------------------------------------ stopping */

static void test_disconnect_during_backoff_returns_promptly_and_stays_down(void **state)
{
    broker_t *b = *state;
    static env_t e;
    uint64_t t0;

    env_init(&e, b, "it-rc-backoff");
    e.o.reconnect_min_ms = 20000;
    e.o.reconnect_max_ms = 20000;
    env_create(&e);
    assert_int_equal(kmqtt_connect(e.c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    broker_kill(b);
    assert_true(it_states_wait(&e.states, KMQTT_STATE_RECONNECTING, WAIT_MS, NULL));
    assert_int_equal(broker_restart(b), 0);
    t0 = now_ms();
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    assert_true(now_ms() - t0 < 1000);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    sleep_ms(300);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(states_count(&e.states, KMQTT_STATE_CONNECTING), 1);
    assert_int_equal(broker_log_count(b, "as it-rc-backoff"), 0); /* fresh log */
    env_done(&e, "disconnect in backoff");
}

static void test_disconnect_during_an_attempt_on_a_silent_server_returns_promptly(void **state)
{
    broker_t *b = *state;
    silent_t *s = silent_start();
    static env_t e;
    char list[64];
    uint64_t t0;

    assert_non_null(s);
    env_init(&e, b, "it-rc-silent");
    snprintf(list, sizeof(list), "127.0.0.1:%u,127.0.0.1:%u", (unsigned)broker_port(b),
             (unsigned)silent_port(s));
    e.o.servers = list;
    e.o.connect_timeout_ms = 10000;
    e.o.reconnect_min_ms = 20;
    e.o.reconnect_max_ms = 40;
    env_create(&e);
    assert_int_equal(kmqtt_connect(e.c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    broker_kill(b);
    /* The broker refuses the first attempt; the second goes to the silent
     * server and waits there for a CONNACK that never comes. */
    assert_true(states_wait_count(&e.states, KMQTT_STATE_CONNECTING, 3, WAIT_MS));
    sleep_ms(200);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_CONNECTING);
    t0 = now_ms();
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    assert_true(now_ms() - t0 < 1000);
    sleep_ms(200);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(states_count(&e.states, KMQTT_STATE_CONNECTING), 3);
    env_done(&e, "disconnect in an attempt");
    silent_stop(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, it_broker_setup_logged, stop_broker)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_thread_client_reconnects_after_a_restart_and_is_subscribed_again),
        T(test_own_loop_with_reconnect_on_reconnects_after_a_restart),
        T(test_unacked_qos1_sent_to_a_hung_broker_arrives_after_reconnect),
        T(test_server_list_moves_past_a_refused_port),
        T(test_disconnect_during_backoff_returns_promptly_and_stays_down),
        T(test_disconnect_during_an_attempt_on_a_silent_server_returns_promptly),
    };
    signal(SIGPIPE, SIG_IGN);
    warm_up_threads();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
