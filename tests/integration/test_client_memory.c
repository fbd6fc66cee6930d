/*
 * The client from application memory (options.memory, the no-malloc mode):
 * for several configurations a buffer of exactly kmqtt_client_memory_size
 * bytes carries a client through create, the background thread, connect,
 * max_subscriptions subscriptions, QoS 0/1 publishing and receiving, and
 * destroy; at its peak every byte of it is used (the size is exact, not just
 * enough), and after destroy every block is back. Smaller buffers fail with
 * KMQTT_ENOMEM at create or at kmqtt_start and leave nothing taken.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"

#define WAIT_MS 10000u

/* The configurations under test; id and server list are filled per test. */
typedef struct mem_case {
    const char *name;
    kmqtt_version_t version;
    size_t rx, tx, store;
    uint16_t inflight, subs, filter_len;
    bool debug, auth_will, server_list;
} mem_case_t;

static const mem_case_t cases[] = {
    {"defaults", KMQTT_V311, 0, 0, 0, 0, 0, 0, false, false, false},
    {"small", KMQTT_V311, 512, 512, 1024, 4, 3, 24, false, true, true},
    {"v5-debug", KMQTT_V5, 1024, 1024, 2048, 8, 17, 40, true, false, false},
};

static char server_list[64];

static void case_options(const mem_case_t *mc, const broker_t *b, kmqtt_client_options_t *o)
{
    it_options(o, b, NULL); /* a generated id: its length is known up front */
    o->version = mc->version;
    o->rx_buffer_size = mc->rx;
    o->tx_buffer_size = mc->tx;
    o->store_size = mc->store;
    o->max_inflight = mc->inflight;
    o->max_subscriptions = mc->subs;
    o->max_filter_len = mc->filter_len;
    o->mem_debug = mc->debug;
    if (mc->auth_will) {
        o->username = "user";
        o->password = "secret";
        o->password_len = 6;
        o->has_will = true;
        o->will_topic = "it/mem/will";
        o->will_payload = "gone";
        o->will_payload_len = 4;
    }
    if (mc->server_list) {
        snprintf(server_list, sizeof server_list, "127.0.0.1:%u,[::1]:%u", (unsigned)broker_port(b),
                 (unsigned)broker_port(b));
        o->servers = server_list;
    }
}

/* The buffer, 8-aligned (malloc's alignment is stricter). The arena's record
 * is at its start: the test reads its counters from there. */
static void *buffer(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    assert_non_null(p);
    memset(p, 0x5C, n);
    return p;
}

static const kmqtt_mem_arena_t *arena_of(const void *buf)
{
    return (const kmqtt_mem_arena_t *)buf;
}

static void full_cycle(broker_t *b, const mem_case_t *mc)
{
    kmqtt_publish_result_t pr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    it_rec_t rec;
    size_t need, i;
    void *buf;
    int fds = count_open_fds();
    char filters[64][48];
    kmqtt_sub_request_t reqs[16];
    uint16_t id = 0;
    uint16_t subs;

    it_rec_init(&rec);
    case_options(mc, b, &o);
    o.on_message = it_rec_handler;
    o.ctx = &rec;
    need = kmqtt_client_memory_size(&o);
    assert_true(need > 0);
    buf = buffer(need);
    o.memory = buf;
    o.memory_size = need;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);

    /* Every subscription slot, in SUBSCRIBEs of up to 16 filters, each
     * filter as long as the table allows. */
    subs = o.max_subscriptions != 0 ? o.max_subscriptions : 32;
    for (i = 0; i < subs; i++) {
        size_t flen = mc->filter_len != 0 ? mc->filter_len : 40;
        if (flen > sizeof filters[i] - 1)
            flen = sizeof filters[i] - 1;
        size_t at = (size_t)snprintf(filters[i], sizeof filters[i], "it/%zu/", i);
        memset(filters[i] + at, 'f', flen - at);
        filters[i][flen] = '\0';
    }
    for (i = 0; i < subs; i += 16) {
        size_t n = subs - i < 16 ? subs - i : 16, k;
        for (k = 0; k < n; k++) {
            memset(&reqs[k], 0, sizeof reqs[k]);
            reqs[k].filter = filters[i + k];
            reqs[k].qos = 1;
        }
        assert_int_equal(kmqtt_subscribe(c, reqs, n, WAIT_MS, NULL, NULL), KMQTT_OK);
    }
    /* The table is full: one more is refused before anything is sent. */
    memset(&reqs[0], 0, sizeof reqs[0]);
    reqs[0].filter = "it/one/more";
    assert_int_equal(kmqtt_subscribe(c, reqs, 1, WAIT_MS, NULL, NULL), KMQTT_ELIMIT);

    /* Every byte of the buffer is in use now: the size was exact. */
    assert_int_equal(arena_of(buf)->peak, arena_of(buf)->size);

    /* Publish to the last filter (a topic name equal to it): QoS 1 out, and
     * back through the subscription. */
    assert_int_equal(kmqtt_publish(c, filters[subs - 1], "hello", 5, 1, false, NULL, &pr),
                     KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, filters[0], "q0", 2, 0, false, NULL, NULL), KMQTT_OK);
    assert_true(it_wait_msgs(c, &rec, 2, WAIT_MS));
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);

    assert_int_equal(arena_of(buf)->used, 0);
    assert_int_equal(count_open_fds(), fds);
    free(buf);
    it_rec_destroy(&rec);
}

static void test_exact_memory_defaults(void **state)
{
    full_cycle(*state, &cases[0]);
}

static void test_exact_memory_small_auth_will_servers(void **state)
{
    full_cycle(*state, &cases[1]);
}

static void test_exact_memory_v5_debug_mode(void **state)
{
    full_cycle(*state, &cases[2]);
}

/* One size short of the need: create or kmqtt_start reports KMQTT_ENOMEM,
 * and every block taken so far is back in the arena. */
static void short_by(broker_t *b, const mem_case_t *mc, size_t less)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    size_t need;
    void *buf;
    kmqtt_err_t err;
    int fds = count_open_fds();

    case_options(mc, b, &o);
    need = kmqtt_client_memory_size(&o);
    assert_true(need > less);
    buf = buffer(need);
    o.memory = buf;
    o.memory_size = need - less;
    err = kmqtt_client_create(&o, &c);
    if (err == KMQTT_OK) {
        /* All but the thread handle fitted: the thread is refused. */
        assert_non_null(c);
        assert_int_equal(kmqtt_start(c), KMQTT_ENOMEM);
        assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        kmqtt_client_destroy(c);
    } else {
        assert_int_equal(err, KMQTT_ENOMEM);
        assert_null(c);
    }
    if (need - less >= sizeof(kmqtt_mem_arena_t))
        assert_int_equal(arena_of(buf)->used, 0);
    assert_int_equal(count_open_fds(), fds);
    free(buf);
}

static void test_short_memory_fails_cleanly(void **state)
{
    size_t k;
    /* One byte and one arena unit short (the thread's handle no longer
     * fits), and much shorter (create itself fails), for each case. */
    static const size_t less[] = {1, KMQTT_MEM_ARENA_ALIGN, 200, 5000};

    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t i;
        for (i = 0; i < sizeof less / sizeof less[0]; i++)
            short_by(*state, &cases[k], less[i]);
    }
}

/* Shorter than the arena's own record, and zero bytes. */
static void test_tiny_memory_is_enomem(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    uint64_t small[4];

    it_options(&o, *state, "it-mem-tiny");
    o.memory = small;
    o.memory_size = sizeof small;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_ENOMEM);
    assert_null(c);
    o.memory_size = 0;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_ENOMEM);

    /* What create refuses as invalid has no size. */
    assert_int_equal(kmqtt_client_memory_size(NULL), 0);
    o.servers = "127.0.0.1:1883,:";
    assert_int_equal(kmqtt_client_memory_size(&o), 0);
    o.servers = NULL;
    o.version = (kmqtt_version_t)9;
    assert_int_equal(kmqtt_client_memory_size(&o), 0);
}

/* A filter longer than max_filter_len is refused before SUBSCRIBE goes out,
 * and the connection carries on. */
static void test_filter_longer_than_table_is_elimit(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t r;
    void *buf;
    size_t need;

    it_options(&o, *state, "it-mem-filter");
    o.max_filter_len = 8;
    o.max_subscriptions = 2;
    need = kmqtt_client_memory_size(&o);
    buf = buffer(need);
    o.memory = buf;
    o.memory_size = need;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    memset(&r, 0, sizeof r);
    r.filter = "a/b/c/d/e"; /* 9 bytes */
    assert_int_equal(kmqtt_subscribe(c, &r, 1, WAIT_MS, NULL, NULL), KMQTT_ELIMIT);
    r.filter = "a/b/c/de"; /* 8 bytes */
    assert_int_equal(kmqtt_subscribe(c, &r, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_unsubscribe(c, &r.filter, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(c, &r, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    assert_int_equal(arena_of(buf)->used, 0);
    free(buf);
}

/* The arena alone: first fit, splitting, merging back to one block. */
static void test_arena_merges_back_to_one_block(void **state)
{
    kmqtt_mem_arena_t a;
    uint64_t store[64];
    void *p[6];
    size_t i;
    (void)state;

    assert_int_equal(kmqtt_mem_arena_init(&a, store, sizeof store), KMQTT_OK);
    assert_int_equal(a.size, sizeof store);
    for (i = 0; i < 6; i++) {
        p[i] = a.backend.alloc(a.backend.ctx, 20 + i);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % KMQTT_MEM_ARENA_ALIGN, 0);
        memset(p[i], 0xAB, 20 + i);
    }
    /* Free in an order that needs merging on both sides. */
    a.backend.free(a.backend.ctx, p[1]);
    a.backend.free(a.backend.ctx, p[3]);
    a.backend.free(a.backend.ctx, p[2]);
    a.backend.free(a.backend.ctx, p[5]);
    a.backend.free(a.backend.ctx, p[0]);
    a.backend.free(a.backend.ctx, p[4]);
    assert_int_equal(a.used, 0);
    /* One block again: the whole arena can be taken at once. */
    p[0] = a.backend.alloc(a.backend.ctx, sizeof store - KMQTT_MEM_ARENA_ALIGN); /* - header */
    assert_non_null(p[0]);
    assert_null(a.backend.alloc(a.backend.ctx, 1));
    assert_int_equal(a.failed, 1);
    a.backend.free(a.backend.ctx, p[0]);
    assert_int_equal(a.used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_merges_back_to_one_block),
        cmocka_unit_test_setup_teardown(test_exact_memory_defaults, it_broker_setup,
                                        it_broker_teardown),
        cmocka_unit_test_setup_teardown(test_exact_memory_small_auth_will_servers, it_broker_setup,
                                        it_broker_teardown),
        cmocka_unit_test_setup_teardown(test_exact_memory_v5_debug_mode, it_broker_setup,
                                        it_broker_teardown),
        cmocka_unit_test_setup_teardown(test_short_memory_fails_cleanly, it_broker_setup,
                                        it_broker_teardown),
        cmocka_unit_test_setup_teardown(test_tiny_memory_is_enomem, it_broker_setup,
                                        it_broker_teardown),
        cmocka_unit_test_setup_teardown(test_filter_longer_than_table_is_elimit, it_broker_setup,
                                        it_broker_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
