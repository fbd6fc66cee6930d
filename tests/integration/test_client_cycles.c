/*
 * Field bugs as regression tests: a device that wakes, connects, subscribes,
 * publishes, waits for the PUBACK and disconnects thousands of times a day
 * must end every cycle with exactly the memory, descriptors and threads it
 * started with. Every byte the client takes comes from a test-owned parent
 * context in debug mode, so a leak names its tag and call site.
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

#define CYCLES  1000
#define WAIT_MS 5000u

static broker_t *broker;
static kmqtt_mem_t parent;
/* The client's own context and its background thread may both reach the
 * parent, so it is locked. */
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

static kmqtt_client_t *new_client(const char *id, it_rec_t *rec)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    it_options(&o, broker, id);
    o.mem = &parent;
    o.mem_debug = true;
    o.on_message = rec != NULL ? it_rec_handler : NULL;
    o.ctx = rec;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    return c;
}

/* One wake cycle of the device. */
static void wake_cycle(kmqtt_client_t *c, int cycle, bool thread)
{
    kmqtt_publish_result_t pr;
    kmqtt_sub_request_t req[2];
    kmqtt_subscribe_result_t granted;
    char payload[32];
    uint16_t id = 0;
    kmqtt_err_t e;

    e = kmqtt_connect(c, 0, NULL);
    if (e != KMQTT_OK) {
        print_error("cycle %d: connect: %s\n", cycle, kmqtt_strerror(e));
        fail();
    }
    if (thread) {
        assert_int_equal(kmqtt_start(c), KMQTT_OK);
    }
    memset(req, 0, sizeof(req));
    req[0].filter = "it/cyc/cmd";
    req[0].qos = 1;
    req[1].filter = "it/cyc/cfg/#";
    req[1].qos = 0;
    assert_int_equal(kmqtt_subscribe(c, req, 2, WAIT_MS, NULL, &granted), KMQTT_OK);
    snprintf(payload, sizeof(payload), "cycle %d", cycle);
    assert_int_equal(kmqtt_publish(c, "it/cyc/data", payload, strlen(payload), 1, false, NULL, &pr),
                     KMQTT_OK);
    id = pr.packet_id;
    e = kmqtt_publish_wait(c, id, WAIT_MS, NULL);
    if (e != KMQTT_OK) {
        print_error("cycle %d: publish_wait: %s\n", cycle, kmqtt_strerror(e));
        fail();
    }
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
}

static void test_create_cycle_destroy_returns_everything_every_cycle(void **state)
{
    it_baseline_t base;
    int i;
    (void)state;
    it_take_baseline(&parent, &base);
    assert_int_equal(base.blocks, 0);
    for (i = 1; i <= CYCLES; i++) {
        kmqtt_client_t *c = new_client("it-cyc-fresh", NULL);
        wake_cycle(c, i, false);
        kmqtt_client_destroy(c);
        it_expect_baseline(&parent, &base, "fresh client", i);
    }
}

static void test_reused_client_returns_to_its_baseline_every_cycle(void **state)
{
    it_baseline_t empty, base;
    kmqtt_client_t *c;
    int i;
    (void)state;
    it_take_baseline(&parent, &empty);
    c = new_client("it-cyc-reuse", NULL);
    /* What a client keeps between connections (buffers, tables) is allowed;
     * the baseline is taken after the first cycle and must never move. */
    wake_cycle(c, 1, false);
    it_take_baseline(&parent, &base);
    for (i = 2; i <= CYCLES; i++) {
        wake_cycle(c, i, false);
        it_expect_baseline(&parent, &base, "reused client", i);
    }
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &empty, "reused client destroyed", CYCLES);
}

static void test_background_thread_cycles_return_memory_fds_and_threads(void **state)
{
    it_baseline_t base;
    int i;
    (void)state;
    it_take_baseline(&parent, &base);
    for (i = 1; i <= CYCLES; i++) {
        kmqtt_client_t *c = new_client("it-cyc-thread", NULL);
        wake_cycle(c, i, true);
        kmqtt_client_destroy(c);
        it_expect_baseline(&parent, &base, "fresh client with thread", i);
    }
}

static void test_reused_client_with_thread_stops_it_every_cycle(void **state)
{
    it_baseline_t empty, base;
    kmqtt_client_t *c;
    int i;
    (void)state;
    it_take_baseline(&parent, &empty);
    c = new_client("it-cyc-thread-reuse", NULL);
    wake_cycle(c, 1, true);
    it_take_baseline(&parent, &base);
    assert_int_equal(base.threads, empty.threads);
    for (i = 2; i <= CYCLES / 4; i++) {
        wake_cycle(c, i, true);
        it_expect_baseline(&parent, &base, "reused client with thread", i);
    }
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &empty, "reused client with thread destroyed", CYCLES / 4);
}

/* After connect and subscribe, publishing and receiving allocate nothing. */
static void test_steady_state_publish_and_receive_allocate_nothing(void **state)
{
    it_rec_t rec;
    kmqtt_client_t *c;
    kmqtt_sub_request_t req;
    kmqtt_mem_stats_t before, after, own_before, own_after;
    int i;
    (void)state;

    it_rec_init(&rec);
    c = new_client("it-cyc-steady", &rec);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    memset(&req, 0, sizeof(req));
    req.filter = "it/steady";
    req.qos = 1;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    /* One round trip first so that anything lazily set up is set up. */
    assert_int_equal(kmqtt_publish(c, "it/steady", "warm", 4, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
    assert_true(it_wait_msgs(c, &rec, 1, WAIT_MS));

    kmqtt_mem_get_stats(&parent, &before);
    kmqtt_mem_get_stats(kmqtt_client_mem(c), &own_before);
    for (i = 0; i < 40; i++) {
        uint8_t qos = (uint8_t)(i % 3);
        assert_int_equal(kmqtt_publish(c, "it/steady", "reading", 7, qos, false, NULL, NULL),
                         KMQTT_OK);
        assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
    }
    assert_true(it_wait_msgs(c, &rec, 41, WAIT_MS));
    kmqtt_mem_get_stats(&parent, &after);
    kmqtt_mem_get_stats(kmqtt_client_mem(c), &own_after);
    assert_int_equal(after.allocs, before.allocs);
    assert_int_equal(own_after.allocs, own_before.allocs);
    assert_int_equal(own_after.bytes, own_before.bytes);

    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_cycle_destroy_returns_everything_every_cycle),
        cmocka_unit_test(test_reused_client_returns_to_its_baseline_every_cycle),
        cmocka_unit_test(test_background_thread_cycles_return_memory_fds_and_threads),
        cmocka_unit_test(test_reused_client_with_thread_stops_it_every_cycle),
        cmocka_unit_test(test_steady_state_publish_and_receive_allocate_nothing),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
