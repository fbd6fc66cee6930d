/*
 * Every way a connection can fail, twenty times each, with the application's
 * loop and with the background thread: the failure path itself must close
 * the socket and leave the threads as they were, and a client destroyed
 * after a failure must give back every byte. Checked after every cycle,
 * both on a client reused across failures (as a device does) and on a fresh
 * client per attempt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "script_server.h"
#include "watchdog.h"
#include "it_group.h"

#define CYCLES         20
#define TIMEOUT_MS     200u /* connect timeout against the silent server */
#define LOSS_WAIT_MS   5000u
#define CYCLE_LIMIT_MS 20000u /* a cycle that takes longer is hung */

/* A 64-character label is not a valid DNS name (RFC 1035 allows 63), so the
 * resolver refuses it locally: no query leaves the machine. */
#define UNRESOLVABLE_HOST "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.invalid"

typedef enum failure {
    UNRESOLVABLE,
    REFUSED_PORT,
    CONNECT_TIMEOUT,
    CONNACK_REFUSED,
    CLOSED_MID_HANDSHAKE,
    PROTOCOL_ERROR
} failure_t;

static const char *const failure_name[] = {"unresolvable name",    "refused port",
                                           "connect timeout",      "CONNACK refused",
                                           "closed mid-handshake", "protocol error after CONNACK"};

static broker_t *broker; /* with a password file */
static silent_t *silent;
static script_server_t *closer;
static script_server_t *garbler;
static uint16_t refused_port;
static kmqtt_mem_t parent;
/* Runs on the watchdog thread when a cycle hangs: no child may outlive us. */
static void stop_servers(void)
{
    script_server_stop(garbler);
    script_server_stop(closer);
    silent_stop(silent);
    broker_stop(broker);
}

static int group_setup(void **state)
{
    broker_opts_t bo;
    (void)state;
    if (it_group_init(&parent) != 0 || !watchdog_start(stop_servers)) {
        return -1;
    }
    memset(&bo, 0, sizeof(bo));
    bo.username = "modem";
    bo.password = "right";
    broker = broker_start(&bo);
    silent = silent_start();
    closer = script_server_start(SCRIPT_CLOSE_AFTER_CONNECT);
    garbler = script_server_start(SCRIPT_CONNACK_THEN_GARBAGE);
    refused_port = unused_port();
    return broker != NULL && silent != NULL && closer != NULL && garbler != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    watchdog_stop();
    stop_servers();
    return 0;
}

static void options_for(kmqtt_client_options_t *o, failure_t f, it_states_t *states)
{
    it_options(o, broker, "it-failpath");
    o->mem = &parent;
    o->mem_debug = true;
    o->connect_timeout_ms = TIMEOUT_MS;
    o->username = "modem";
    o->password = "right";
    o->password_len = 5;
    /* A failure must stay a failure: nothing may retry behind the test. */
    o->reconnect = KMQTT_RECONNECT_OFF;
    o->on_state = it_states_handler;
    o->ctx = states;
    switch (f) {
    case UNRESOLVABLE:
        o->host = UNRESOLVABLE_HOST;
        break;
    case REFUSED_PORT:
        o->port = refused_port;
        break;
    case CONNECT_TIMEOUT:
        o->port = silent_port(silent);
        break;
    case CONNACK_REFUSED:
        o->password = "wrong";
        break;
    case CLOSED_MID_HANDSHAKE:
        o->port = script_server_port(closer);
        break;
    case PROTOCOL_ERROR:
        o->port = script_server_port(garbler);
        break;
    }
}

static kmqtt_err_t expected_error(failure_t f)
{
    switch (f) {
    case UNRESOLVABLE:
        return KMQTT_ERESOLVE;
    case REFUSED_PORT:
        return KMQTT_ECONNREFUSED;
    case CONNECT_TIMEOUT:
        return KMQTT_ETIMEDOUT;
    case CONNACK_REFUSED:
        return KMQTT_EREFUSED;
    case CLOSED_MID_HANDSHAKE:
        return KMQTT_ECLOSED;
    case PROTOCOL_ERROR:
    default:
        /* A remaining length of more than 4 bytes (MQTT-1.5.5). */
        return KMQTT_EREMLEN;
    }
}

static void check_error(failure_t f, const char *what, kmqtt_err_t got, int cycle)
{
    if (got != expected_error(f)) {
        print_error("%s, cycle %d: %s gave %s (%d), wanted %s\n", failure_name[f], cycle, what,
                    kmqtt_strerror(got), (int)got, kmqtt_strerror(expected_error(f)));
        fail();
    }
}

/* The protocol error comes after a successful CONNACK, so it ends an
 * established connection: the application sees it from kmqtt_run, or
 * (background thread) from on_state. */
static void wait_for_loss(kmqtt_client_t *c, failure_t f, bool thread, it_states_t *states,
                          int cycle)
{
    kmqtt_err_t e = KMQTT_OK, reported = KMQTT_OK;
    if (!thread) {
        uint64_t deadline = now_ms() + LOSS_WAIT_MS;
        do {
            e = kmqtt_run(c, 50);
        } while (e == KMQTT_OK && now_ms() < deadline);
        /* ENOTCONN: the garbage came with the CONNACK and the connection
         * was already lost inside kmqtt_connect; on_state said why. */
        if (e != KMQTT_ENOTCONN) {
            check_error(f, "the loop", e, cycle);
        }
    }
    if (!it_states_wait(states, KMQTT_STATE_CONNECTION_LOST, LOSS_WAIT_MS, &reported)) {
        print_error("%s, cycle %d: the connection was never reported lost\n", failure_name[f],
                    cycle);
        fail();
    }
    check_error(f, "on_state", reported, cycle);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTION_LOST);
}

/* One failure on c. Returns with c not connected and, without the
 * background thread, the failure fully handled (nothing left to release). */
static void fail_once(kmqtt_client_t *c, failure_t f, bool thread, it_states_t *states, int cycle)
{
    kmqtt_connack_info_t info;
    kmqtt_err_t e;

    if (thread) {
        assert_int_equal(kmqtt_start(c), KMQTT_OK);
    }
    memset(&info, 0xff, sizeof(info));
    e = kmqtt_connect(c, 0, &info);
    if (f == PROTOCOL_ERROR) {
        /* The CONNACK itself was fine. */
        check_error(f, "connect", e == KMQTT_OK ? KMQTT_EREMLEN : e, cycle);
        wait_for_loss(c, f, thread, states, cycle);
    } else {
        check_error(f, "connect", e, cycle);
        assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_DISCONNECTED);
    }
    if (f == CONNACK_REFUSED) {
        /* 3.1.1: 5 = not authorized. */
        assert_int_equal(info.reason_code, 5);
        assert_false(info.session_present);
    }
}

static void states_reset(it_states_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->n = 0;
    pthread_mutex_unlock(&s->mu);
}

static void failure_cycles(failure_t f, bool thread)
{
    it_baseline_t empty, idle;
    it_states_t states;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    int i;

    it_states_init(&states);
    it_take_baseline(&parent, &empty);
    options_for(&o, f, &states);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    /* A created, idle client: what every cycle must come back to. */
    it_take_baseline(&parent, &idle);

    for (i = 1; i <= CYCLES; i++) {
        kmqtt_client_t *fresh = NULL;
        kmqtt_err_t e;

        watchdog_arm(failure_name[f], CYCLE_LIMIT_MS);
        /* The device's own client, reused. */
        states_reset(&states);
        fail_once(c, f, thread, &states, i);
        if (thread) {
            /* The socket is closed by the failure; the thread runs on until
             * the application stops it. */
            assert_int_equal(count_open_fds(), idle.fds);
        } else {
            it_expect_baseline(&parent, &idle, failure_name[f], i);
        }
        e = kmqtt_disconnect(c, NULL);
        assert_true(e == KMQTT_OK || e == KMQTT_ENOTCONN);
        it_expect_baseline(&parent, &idle, failure_name[f], i);

        /* A fresh client per attempt, destroyed right after the failure. */
        states_reset(&states);
        assert_int_equal(kmqtt_client_create(&o, &fresh), KMQTT_OK);
        fail_once(fresh, f, thread, &states, i);
        kmqtt_client_destroy(fresh);
        it_expect_baseline(&parent, &idle, failure_name[f], i);
    }
    watchdog_disarm();
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &empty, failure_name[f], CYCLES);
    it_states_destroy(&states);
}

#define FAILPATH_TESTS(name, f)                                                                    \
    static void test_##name##_with_own_loop_leaves_nothing(void **state)                           \
    {                                                                                              \
        (void)state;                                                                               \
        failure_cycles(f, false);                                                                  \
    }                                                                                              \
    static void test_##name##_with_background_thread_leaves_nothing(void **state)                  \
    {                                                                                              \
        (void)state;                                                                               \
        failure_cycles(f, true);                                                                   \
    }

FAILPATH_TESTS(unresolvable_name, UNRESOLVABLE)
FAILPATH_TESTS(refused_port, REFUSED_PORT)
FAILPATH_TESTS(connect_timeout, CONNECT_TIMEOUT)
FAILPATH_TESTS(connack_refusal, CONNACK_REFUSED)
FAILPATH_TESTS(broker_closing_mid_handshake, CLOSED_MID_HANDSHAKE)
FAILPATH_TESTS(protocol_error_after_connack, PROTOCOL_ERROR)

/* The smallest case of the cycles above: the background thread runs while
 * a connect waits for a CONNACK that never comes. The connect must end at
 * its timeout, as it does without the thread. */
static void test_connect_timeout_with_background_thread_running_returns_in_time(void **state)
{
    it_baseline_t empty;
    it_states_t states;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    uint64_t t0, took;
    kmqtt_err_t e;
    (void)state;

    it_states_init(&states);
    it_take_baseline(&parent, &empty);
    options_for(&o, CONNECT_TIMEOUT, &states);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    watchdog_arm("connect timeout with the background thread running", 5000u);
    t0 = now_ms();
    e = kmqtt_connect(c, 0, NULL);
    took = now_ms() - t0;
    watchdog_disarm();
    assert_int_equal(e, KMQTT_ETIMEDOUT);
    assert_true(took + 5 >= TIMEOUT_MS);
    assert_true(took < TIMEOUT_MS + 1000u);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &empty, "connect timeout with thread", 1);
    it_states_destroy(&states);
}

#define ONE(name, mode) cmocka_unit_test(test_##name##_with_##mode##_leaves_nothing)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ONE(unresolvable_name, own_loop),
        ONE(refused_port, own_loop),
        ONE(connect_timeout, own_loop),
        ONE(connack_refusal, own_loop),
        ONE(broker_closing_mid_handshake, own_loop),
        ONE(protocol_error_after_connack, own_loop),
        ONE(unresolvable_name, background_thread),
        ONE(refused_port, background_thread),
        ONE(connack_refusal, background_thread),
        ONE(broker_closing_mid_handshake, background_thread),
        ONE(protocol_error_after_connack, background_thread),
        /* Last: a hang here ends the program (watchdog). */
        cmocka_unit_test(test_connect_timeout_with_background_thread_running_returns_in_time),
        ONE(connect_timeout, background_thread),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
