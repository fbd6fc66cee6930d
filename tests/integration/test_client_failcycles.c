/*
 * Field bugs as regression tests, failure side: a device in poor coverage
 * fails to connect many times a day, in every way there is. Each failed
 * connect must leave exactly the memory, descriptors and threads it found:
 * nothing listening, a name that does not resolve, a broker that never
 * answers, a broker that refuses the CONNECT.
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
#include "it_group.h"

#define CYCLES            100
#define ROUNDS            15
#define SILENT_TIMEOUT_MS 200u
#define WAIT_MS           5000u

static broker_t *broker; /* with a password file */
static silent_t *silent;
static kmqtt_mem_t parent;
static int group_setup(void **state)
{
    broker_opts_t bo;
    (void)state;
    memset(&bo, 0, sizeof(bo));
    bo.username = "modem";
    bo.password = "right";
    broker = it_group_broker(&parent, &bo);
    silent = silent_start();
    return broker != NULL && silent != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    silent_stop(silent);
    broker_stop(broker);
    return 0;
}

typedef enum failure { REFUSED_PORT, UNRESOLVABLE, SILENT, WRONG_PASSWORD } failure_t;

/* A 64-character label is not a valid DNS name (RFC 1035 allows 63), so the
 * resolver refuses it locally: no query leaves the machine and the answer
 * comes at once, every time. */
#define UNRESOLVABLE_HOST "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.invalid"

static const char *const failure_name[] = {"refused port", "unresolvable name",
                                           "broker that never answers", "wrong password"};

static void options_for(kmqtt_client_options_t *o, failure_t f, uint16_t refused_port)
{
    it_options(o, broker, "it-fail");
    o->mem = &parent;
    o->mem_debug = true;
    o->connect_timeout_ms = SILENT_TIMEOUT_MS;
    o->username = "modem";
    o->password = "right";
    o->password_len = 5;
    switch (f) {
    case REFUSED_PORT:
        o->port = refused_port;
        break;
    case UNRESOLVABLE:
        o->host = UNRESOLVABLE_HOST;
        break;
    case SILENT:
        o->port = silent_port(silent);
        break;
    case WRONG_PASSWORD:
        o->password = "wrong";
        break;
    }
}

static kmqtt_err_t expected_error(failure_t f)
{
    switch (f) {
    case REFUSED_PORT:
        return KMQTT_ECONNREFUSED;
    case UNRESOLVABLE:
        return KMQTT_ERESOLVE;
    case SILENT:
        return KMQTT_ETIMEDOUT;
    case WRONG_PASSWORD:
    default:
        return KMQTT_EREFUSED;
    }
}

static void failed_connect(kmqtt_client_t *c, failure_t f, uint32_t timeout_ms, int cycle)
{
    kmqtt_connack_info_t info;
    kmqtt_err_t e;
    uint64_t t0 = now_ms();

    info.reason_code = 0xff;
    e = kmqtt_connect(c, timeout_ms, &info);
    if (e != expected_error(f)) {
        print_error("%s, cycle %d: connect gave %s (%d), wanted %s\n", failure_name[f], cycle,
                    kmqtt_strerror(e), (int)e, kmqtt_strerror(expected_error(f)));
        fail();
    }
    if (f == WRONG_PASSWORD) {
        assert_int_equal(info.reason_code, 5);
    }
    if (f == SILENT) {
        /* The timeout covers TCP connect and CONNACK, and is kept. */
        uint64_t took = now_ms() - t0;
        assert_true(took + 5 >= SILENT_TIMEOUT_MS);
        assert_true(took < SILENT_TIMEOUT_MS + 1000);
    }
    assert_int_not_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
}

/* A safety net: after budget_ms (and at least 10 cycles) the test stops
 * early and says so. */
static void fresh_client_cycles(failure_t f, unsigned budget_ms)
{
    it_baseline_t base;
    uint16_t refused = unused_port();
    uint64_t end = now_ms() + budget_ms;
    int i;
    it_take_baseline(&parent, &base);
    for (i = 1; i <= CYCLES; i++) {
        if (i > 10 && now_ms() > end) {
            print_message("%s: stopped after %d cycles (%u ms budget)\n", failure_name[f], i - 1,
                          budget_ms);
            break;
        }
        kmqtt_client_options_t o;
        kmqtt_client_t *c = NULL;
        options_for(&o, f, refused);
        assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
        failed_connect(c, f, 0, i);
        kmqtt_client_destroy(c);
        it_expect_baseline(&parent, &base, failure_name[f], i);
    }
}

static void test_refused_port_cycles_leak_nothing(void **state)
{
    (void)state;
    fresh_client_cycles(REFUSED_PORT, 60000);
}

static void test_unresolvable_name_cycles_leak_nothing(void **state)
{
    (void)state;
    fresh_client_cycles(UNRESOLVABLE, 60000);
}

static void test_connect_timeout_cycles_leak_nothing(void **state)
{
    (void)state;
    fresh_client_cycles(SILENT, 60000);
}

static void test_connack_refusal_cycles_leak_nothing(void **state)
{
    (void)state;
    fresh_client_cycles(WRONG_PASSWORD, 60000);
}

/* One client, as on a device: it fails every way in turn, then succeeds,
 * and after each round is back where it was after the first. */
static void test_one_client_failing_every_way_then_connecting_leaks_nothing(void **state)
{
    kmqtt_publish_result_t pr;
    it_baseline_t empty, base;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    uint16_t refused = unused_port();
    int round;
    (void)state;

    it_take_baseline(&parent, &empty);
    /* The good settings; the failures come from per-call targets below. */
    options_for(&o, WRONG_PASSWORD, refused);
    o.password = "right";
    for (round = 0; round <= ROUNDS; round++) {
        kmqtt_client_options_t fo;
        kmqtt_client_t *f = NULL;
        uint16_t id = 0;
        failure_t k;

        /* A client's target is fixed at create, so the failures use their
         * own reused clients... */
        for (k = REFUSED_PORT; k <= WRONG_PASSWORD; k++) {
            options_for(&fo, k, refused);
            assert_int_equal(kmqtt_client_create(&fo, &f), KMQTT_OK);
            failed_connect(f, k, SILENT_TIMEOUT_MS, round);
            failed_connect(f, k, SILENT_TIMEOUT_MS, round);
            kmqtt_client_destroy(f);
        }
        /* ...and the device's client keeps working between them. */
        if (c == NULL) {
            assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
        }
        assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_publish(c, "it/fail/ok", "up", 2, 1, false, NULL, &pr), KMQTT_OK);
        id = pr.packet_id;
        assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        if (round == 0) {
            it_take_baseline(&parent, &base);
        } else {
            it_expect_baseline(&parent, &base, "mixed failures", round);
        }
    }
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &empty, "mixed failures, destroyed", round);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_port_cycles_leak_nothing),
        cmocka_unit_test(test_unresolvable_name_cycles_leak_nothing),
        cmocka_unit_test(test_connect_timeout_cycles_leak_nothing),
        cmocka_unit_test(test_connack_refusal_cycles_leak_nothing),
        cmocka_unit_test(test_one_client_failing_every_way_then_connecting_leaks_nothing),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
