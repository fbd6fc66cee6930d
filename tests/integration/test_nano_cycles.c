/*
 * The field device's life with the nano client: wake, connect, publish one
 * QoS 1 reading, wait for PUBLISHED, disconnect, sleep — a thousand times.
 * After every cycle the socket is closed, the transport's memory (a
 * test-owned kmqtt_mem_t in debug mode) is what it was, the nano's store is
 * empty, and no thread was ever created: the nano runs on the caller's task
 * only.
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

#define CYCLES 1000

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

/* One wake: connect, one QoS 1 reading, PUBLISHED, disconnect. The thread
 * count is checked while connected too, where a helper thread would live. */
static void wake_cycle(nit_t *n, int cycle, int threads)
{
    char payload[32];
    uint16_t id = 0;
    int want = n->published + 1;
    kmqtt_err_t e;

    nit_connect(n);
    snprintf(payload, sizeof(payload), "reading %d", cycle);
    e = nit_publish(n, "nit/cyc/data", payload, 1, false, &id);
    if (e != KMQTT_OK) {
        fail_msg("cycle %d: publish: %s", cycle, kmqtt_strerror(e));
    }
    assert_int_equal(kmqtt_nano_inflight(&n->c), 1);
    assert_int_not_equal(kmqtt_nano_store_used(&n->c), 0);
    if (count_threads() != threads) {
        fail_msg("cycle %d: %d threads while connected, %d before", cycle, count_threads(),
                 threads);
    }
    if (!nit_pump_until(n, &n->published, want, 10000)) {
        fail_msg("cycle %d: no PUBLISHED (lost %d, %s)", cycle, n->lost,
                 kmqtt_strerror(n->lost_err));
    }
    assert_int_equal(n->pub_ids[(want - 1) % NIT_MAX_PUB], id);
    assert_int_equal(n->pub_errs[(want - 1) % NIT_MAX_PUB], KMQTT_OK);
    e = kmqtt_nano_disconnect(&n->c, 0, 2000);
    if (e != KMQTT_OK) {
        fail_msg("cycle %d: disconnect: %s", cycle, kmqtt_strerror(e));
    }
    assert_int_equal(kmqtt_nano_state(&n->c), KMQTT_NANO_IDLE);
    assert_int_equal(kmqtt_nano_inflight(&n->c), 0);
    assert_int_equal(kmqtt_nano_store_used(&n->c), 0);
}

/* A device that keeps its RAM between sleeps: one client, one transport. */
static void test_nano_thousand_wake_cycles_return_to_baseline(void **state)
{
    it_baseline_t empty, base;
    int i;
    (void)state;

    it_take_baseline(&parent, &empty);
    assert_int_equal(empty.blocks, 0);
    nit_setup(&nit, &parent, broker_port(broker), "nit-cyc");
    nit_init(&nit);
    /* The transport's own block is all the memory there is (its wake
     * descriptor stays open between connections, the socket does not). */
    it_take_baseline(&parent, &base);
    assert_int_equal(base.blocks, 1);
    for (i = 1; i <= CYCLES; i++) {
        wake_cycle(&nit, i, base.threads);
        it_expect_baseline(&parent, &base, "nano wake cycle", i);
        if (nit.published > NIT_MAX_PUB - 2) {
            nit.published = 0; /* keep the recorder's slots */
        }
    }
    assert_int_equal(nit.lost, 0);
    assert_int_equal(nit.connect_failed, 0);
    nit_teardown(&nit);
    it_expect_baseline(&parent, &empty, "nano transport destroyed", CYCLES);
}

/* A device that boots on every wake: a fresh transport and kmqtt_nano_init
 * each time; everything goes back to zero blocks. */
static void test_nano_boot_per_wake_returns_everything(void **state)
{
    it_baseline_t empty;
    int i;
    (void)state;

    it_take_baseline(&parent, &empty);
    for (i = 1; i <= CYCLES / 10; i++) {
        nit_setup(&nit, &parent, broker_port(broker), "nit-cyc-boot");
        nit_init(&nit);
        wake_cycle(&nit, i, empty.threads);
        nit_teardown(&nit);
        it_expect_baseline(&parent, &empty, "nano boot per wake", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nano_thousand_wake_cycles_return_to_baseline),
        cmocka_unit_test(test_nano_boot_per_wake_returns_everything),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
