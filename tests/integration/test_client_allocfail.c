/*
 * Allocation failure, everywhere: a device's whole client lifecycle (create,
 * connect, subscribe, publish QoS 0/1/2, receive, reconnect, unsubscribe,
 * disconnect, destroy) against a real broker is run once to count its K
 * allocations, then K more times with the k-th allocation refused (and once
 * more per k with every allocation from the k-th on refused). Each time the
 * call that could not proceed must say KMQTT_ENOMEM, the scenario stops
 * there, and after destroy not one block, descriptor or thread remains.
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
#include "watchdog.h"
#include "it_group.h"

#define WAIT_MS      5000u
#define RUN_LIMIT_MS 30000u /* one scenario that takes longer is hung */
#define TOPIC        "it/allocfail/t"
#define FILTER       "it/allocfail/#"

static broker_t *broker;
static kmqtt_mem_t parent;
static void stop_broker(void)
{
    broker_stop(broker);
}

static int group_setup(void **state)
{
    (void)state;
    if (it_group_init(&parent) != 0 || !watchdog_start(stop_broker)) {
        return -1;
    }
    broker = broker_start(NULL);
    return broker != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    watchdog_stop();
    broker_stop(broker);
    return 0;
}

typedef enum step {
    S_CREATE,
    S_CONNECT,
    S_START,
    S_SUBSCRIBE,
    S_PUBLISH_Q0,
    S_PUBLISH_Q1,
    S_PUBLISH_Q2,
    S_WAIT_Q1,
    S_WAIT_Q2,
    S_RECEIVE,
    S_DISCONNECT,
    S_RECONNECT,
    S_RESTART,
    S_RESUBSCRIBE,
    S_PUBLISH_AGAIN,
    S_WAIT_AGAIN,
    S_RECEIVE_AGAIN,
    S_UNSUBSCRIBE,
    S_FINAL_DISCONNECT,
    S_DONE
} step_t;

static const char *const step_name[] = {
    "create",        "connect",       "start",       "subscribe",        "publish QoS 0",
    "publish QoS 1", "publish QoS 2", "wait QoS 1",  "wait QoS 2",       "receive",
    "disconnect",    "reconnect",     "start again", "subscribe again",  "publish again",
    "wait again",    "receive again", "unsubscribe", "final disconnect", "done"};

/* Where a scenario stopped, and why. */
typedef struct outcome {
    step_t step; /* S_DONE when every step succeeded */
    kmqtt_err_t err;
} outcome_t;

/* The one error an allocation failure may surface as. */
static bool is_allowed(kmqtt_err_t e)
{
    return e == KMQTT_ENOMEM;
}

#define STEP(s, expr)                                                                              \
    do {                                                                                           \
        kmqtt_err_t e_ = (expr);                                                                   \
        if (e_ != KMQTT_OK) {                                                                      \
            out.step = (s);                                                                        \
            out.err = e_;                                                                          \
            goto end;                                                                              \
        }                                                                                          \
    } while (0)

/* Receiving has no error code of its own: a message that never comes is
 * reported as a timeout. */
static kmqtt_err_t receive(kmqtt_client_t *c, it_rec_t *rec, int n)
{
    return it_wait_msgs(c, rec, n, WAIT_MS) ? KMQTT_OK : KMQTT_ETIMEDOUT;
}

/* The whole lifecycle; stops at the first failure but always destroys. */
static outcome_t scenario(bool thread)
{
    kmqtt_publish_result_t pr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t sub;
    it_rec_t rec;
    const char *filter = FILTER;
    uint16_t id1 = 0, id2 = 0, id3 = 0;
    outcome_t out;

    out.step = S_DONE;
    out.err = KMQTT_OK;
    it_rec_init(&rec);
    it_options(&o, broker, "it-allocfail");
    o.mem = &parent;
    o.mem_debug = true;
    o.reconnect = KMQTT_RECONNECT_OFF;
    memset(&sub, 0, sizeof(sub));
    sub.filter = filter;
    sub.qos = 2;
    sub.handler = it_rec_handler;
    sub.ctx = &rec;

    STEP(S_CREATE, kmqtt_client_create(&o, &c));
    STEP(S_CONNECT, kmqtt_connect(c, WAIT_MS, NULL));
    if (thread) {
        STEP(S_START, kmqtt_start(c));
    }
    STEP(S_SUBSCRIBE, kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, NULL));
    STEP(S_PUBLISH_Q0, kmqtt_publish(c, TOPIC, "zero", 4, 0, false, NULL, NULL));
    STEP(S_PUBLISH_Q1, kmqtt_publish(c, TOPIC, "one", 3, 1, false, NULL, &pr));
    id1 = pr.packet_id;
    STEP(S_PUBLISH_Q2, kmqtt_publish(c, TOPIC, "two", 3, 2, false, NULL, &pr));
    id2 = pr.packet_id;
    STEP(S_WAIT_Q1, kmqtt_publish_wait(c, id1, WAIT_MS, NULL));
    STEP(S_WAIT_Q2, kmqtt_publish_wait(c, id2, WAIT_MS, NULL));
    STEP(S_RECEIVE, receive(c, &rec, 3));
    STEP(S_DISCONNECT, kmqtt_disconnect(c, NULL));
    STEP(S_RECONNECT, kmqtt_connect(c, WAIT_MS, NULL));
    if (thread) {
        STEP(S_RESTART, kmqtt_start(c));
    }
    /* A clean session forgot the subscription; the handler is still ours. */
    STEP(S_RESUBSCRIBE, kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, NULL));
    STEP(S_PUBLISH_AGAIN, kmqtt_publish(c, TOPIC, "again", 5, 1, false, NULL, &pr));
    id3 = pr.packet_id;
    STEP(S_WAIT_AGAIN, kmqtt_publish_wait(c, id3, WAIT_MS, NULL));
    STEP(S_RECEIVE_AGAIN, receive(c, &rec, 4));
    STEP(S_UNSUBSCRIBE, kmqtt_unsubscribe(c, &filter, 1, WAIT_MS, NULL, NULL));
    STEP(S_FINAL_DISCONNECT, kmqtt_disconnect(c, NULL));
end:
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
    return out;
}

static uint32_t failed_allocs(void)
{
    kmqtt_mem_stats_t s;
    kmqtt_mem_get_stats(&parent, &s);
    return s.failed;
}

/* Runs the scenario with failure k armed (0 = none); checks everything a
 * failure must leave behind. Returns how many allocations it attempted. */
static uint32_t run_one(bool thread, uint32_t k, bool all_after, const it_baseline_t *base,
                        outcome_t *out)
{
    uint32_t refused_before = failed_allocs(), attempts;
    bool hit;

    watchdog_arm(thread ? "allocation-failure scenario (thread)" : "allocation-failure scenario",
                 RUN_LIMIT_MS);
    kmqtt_mem_fail_nth(&parent, k, all_after);
    *out = scenario(thread);
    attempts = kmqtt_mem_attempts(&parent);
    kmqtt_mem_fail_nth(&parent, 0, false);
    watchdog_disarm();
    hit = failed_allocs() != refused_before;

    if (out->step != S_DONE && !is_allowed(out->err)) {
        print_error("k=%u%s: %s failed with %s (%d), not KMQTT_ENOMEM\n", (unsigned)k,
                    all_after ? " and after" : "", step_name[out->step], kmqtt_strerror(out->err),
                    (int)out->err);
        fail();
    }
    if (k == 0 && out->step != S_DONE) {
        print_error("without injection: %s failed with %s\n", step_name[out->step],
                    kmqtt_strerror(out->err));
        fail();
    }
    /* A refused allocation that every call hid would be a silent failure. */
    if (hit && out->step == S_DONE) {
        print_error("k=%u%s: an allocation was refused but every call succeeded\n", (unsigned)k,
                    all_after ? " and after" : "");
        fail();
    }
    if (!hit && out->step != S_DONE) {
        print_error("k=%u%s: %s failed (%s) though no allocation was refused\n", (unsigned)k,
                    all_after ? " and after" : "", step_name[out->step], kmqtt_strerror(out->err));
        fail();
    }
    it_expect_baseline(&parent, base, thread ? "scenario with thread" : "scenario", (int)k);
    return attempts;
}

static void every_allocation_fails_cleanly(bool thread, bool all_after)
{
    it_baseline_t base;
    outcome_t out;
    uint32_t k, K;
    unsigned at_step[S_DONE + 1];

    memset(at_step, 0, sizeof(at_step));
    it_take_baseline(&parent, &base);
    assert_int_equal(base.blocks, 0);

    K = run_one(thread, 0, false, &base, &out);
    print_message("%s: K = %u allocation attempts per scenario\n",
                  thread ? "with background thread" : "with own loop", (unsigned)K);
    assert_true(K > 0);

    for (k = 1; k <= K; k++) {
        (void)run_one(thread, k, all_after, &base, &out);
        /* Every allocation of a deterministic scenario is reached again. */
        assert_int_not_equal(out.step, S_DONE);
        at_step[out.step]++;
    }
    for (k = 0; k < S_DONE; k++) {
        if (at_step[k] != 0) {
            print_message("  %-17s ENOMEM for %u value(s) of k\n", step_name[k], at_step[k]);
        }
    }
    /* Nothing is left armed: the next run succeeds as the first did. */
    (void)run_one(thread, 0, false, &base, &out);
}

static void test_each_allocation_failing_alone_with_own_loop_is_clean(void **state)
{
    (void)state;
    every_allocation_fails_cleanly(false, false);
}

static void test_every_allocation_from_the_kth_failing_with_own_loop_is_clean(void **state)
{
    (void)state;
    every_allocation_fails_cleanly(false, true);
}

static void test_each_allocation_failing_alone_with_background_thread_is_clean(void **state)
{
    (void)state;
    every_allocation_fails_cleanly(true, false);
}

static void test_every_allocation_from_the_kth_failing_with_background_thread_is_clean(void **state)
{
    (void)state;
    every_allocation_fails_cleanly(true, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_allocation_failing_alone_with_own_loop_is_clean),
        cmocka_unit_test(test_every_allocation_from_the_kth_failing_with_own_loop_is_clean),
        cmocka_unit_test(test_each_allocation_failing_alone_with_background_thread_is_clean),
        cmocka_unit_test(
            test_every_allocation_from_the_kth_failing_with_background_thread_is_clean),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
