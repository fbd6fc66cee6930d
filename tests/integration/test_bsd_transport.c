/*
 * The BSD-socket transport the RTOS ports share (src/port/bsd/bsd_tcp.c), run
 * on the host over POSIX sockets with a stand-in for each network path of
 * RT-Thread (tests/port_bsd/): lwIP behind SAL, and the AT sockets of a 4G
 * modem (at_device) as RT-Thread 5.x and 4.1 implement them: no fcntl (SAL's
 * ioctlsocket is NULL), and a non-blocking recv with nothing to read marks
 * the socket in error for good (5.x) or reads as "closed" (4.1). A real
 * client talks to mosquitto through it on every path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "bsd_os.h"
#include "kmqtt/client.h"
#include "kmqtt/port.h"

kmqtt_err_t kb_test_tcp_create(kmqtt_mem_t *m, kmqtt_transport_t *out);

#define WAIT_MS 10000u
#define MSGS    20u

static broker_t *broker;

static int group_setup(void **state)
{
    broker_opts_t o;

    (void)state;
    memset(&o, 0, sizeof o);
    broker = broker_start(&o);
    return broker == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    broker_stop(broker);
    return 0;
}

static uint64_t t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void reset(kb_test_mode_t mode)
{
    kb_test_mode = mode;
    kb_test_netdown = 0;
    kb_test_stats.polls = 0;
    kb_test_stats.empty_dontwait = 0;
    kb_test_stats.last_blocking = -1;
}

typedef struct inbox {
    unsigned got;
} inbox_t;

static void on_msg(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    inbox_t *in = ctx;
    (void)c;
    (void)msg;
    in->got++;
}

/* Connect, subscribe, publish MSGS at QoS 1 to ourselves and wait for every
 * PUBACK and every message back, disconnect: over the given path. */
static void round_trip(kb_test_mode_t mode, int want_blocking)
{
    kmqtt_mem_t mem;
    kmqtt_mem_config_t mc;
    kmqtt_transport_t tr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t req;
    inbox_t in = {0};
    kmqtt_mem_stats_t st;
    uint64_t until;
    unsigned i;

    reset(mode);
    memset(&mc, 0, sizeof mc);
    assert_int_equal(kmqtt_mem_init(&mem, &mc), KMQTT_OK);
    assert_int_equal(kb_test_tcp_create(&mem, &tr), KMQTT_OK);
    kmqtt_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = broker_port(broker);
    o.transport = &tr;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kb_test_stats.last_blocking, want_blocking);
    assert_int_equal(kb_test_stats.chans_open, 1);

    memset(&req, 0, sizeof req);
    req.filter = "bsd/t";
    req.qos = 1;
    req.handler = on_msg;
    req.ctx = &in;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    for (i = 0; i < MSGS; i++) {
        kmqtt_publish_result_t r;
        assert_int_equal(kmqtt_publish(c, "bsd/t", "x", 1, 1, false, NULL, &r), KMQTT_OK);
        assert_int_equal(kmqtt_publish_wait(c, r.packet_id, WAIT_MS, NULL), KMQTT_OK);
    }
    until = t_now() + WAIT_MS;
    while (in.got < MSGS && t_now() < until)
        (void)kmqtt_run(c, 100);
    assert_int_equal(in.got, MSGS);
    /* The transport never called recv on an AT socket with nothing to read:
     * that would have marked it in error (5.x) or closed (4.1). */
    if (mode != KB_TEST_LWIP)
        assert_int_equal(kb_test_stats.empty_dontwait, 0);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);

    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    /* Socket and wake pipe go with the connection. */
    assert_int_equal(kb_test_stats.sockets_open, 0);
    assert_int_equal(kb_test_stats.chans_open, 0);
    kmqtt_client_destroy(c);
    kmqtt_mem_get_stats(&mem, &st);
    assert_int_equal(st.blocks, 0);
}

static void test_lwip_path_connects_without_blocking(void **state)
{
    (void)state;
    round_trip(KB_TEST_LWIP, 0);
}

/* Issue #16 item 2: fcntl fails on AT sockets; the connect must not. */
static void test_at_socket_5x_connects_publishes_and_receives(void **state)
{
    (void)state;
    round_trip(KB_TEST_AT5, 1);
}

static void test_at_socket_41_connects_publishes_and_receives(void **state)
{
    (void)state;
    round_trip(KB_TEST_AT41, 1);
}

typedef struct waker {
    kmqtt_transport_t *tr;
    unsigned delay_ms;
} waker_t;

static void *wake_later(void *arg)
{
    waker_t *w = arg;
    struct timespec ts = {0, (long)w->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    w->tr->wake(w->tr->ctx);
    return NULL;
}

/* Item 8: with nothing open (modem off) a wait sleeps on the flag until its
 * timeout or a wake: no socket is made or polled, so no error loop. */
static void test_wait_with_nothing_open_touches_no_socket(void **state)
{
    kmqtt_mem_t mem;
    kmqtt_mem_config_t mc;
    kmqtt_transport_t tr;
    unsigned ready = 99;
    uint64_t t0;
    pthread_t th;
    waker_t w;

    (void)state;
    reset(KB_TEST_AT5);
    kb_test_netdown = 1; /* the network is down: nothing may ask it */
    memset(&mc, 0, sizeof mc);
    assert_int_equal(kmqtt_mem_init(&mem, &mc), KMQTT_OK);
    assert_int_equal(kb_test_tcp_create(&mem, &tr), KMQTT_OK);
    t0 = t_now();
    assert_int_equal(tr.wait(tr.ctx, KMQTT_WAIT_READ, 300, &ready), KMQTT_OK);
    assert_true(t_now() - t0 >= 290);
    assert_int_equal(ready, 0);
    assert_int_equal(kb_test_stats.polls, 0);
    assert_int_equal(kb_test_stats.sockets_open, 0);
    assert_int_equal(kb_test_stats.chans_open, 0);

    /* A wake still ends that sleep at once. */
    w.tr = &tr;
    w.delay_ms = 50;
    assert_int_equal(pthread_create(&th, NULL, wake_later, &w), 0);
    assert_int_equal(tr.wait(tr.ctx, KMQTT_WAIT_READ, 60000, &ready), KMQTT_OK);
    pthread_join(th, NULL);
    assert_int_equal(ready, KMQTT_WAIT_WOKEN);
    assert_int_equal(kb_test_stats.polls, 0);
    tr.destroy(tr.ctx);
}

/* Item 7: a wake ends a wait on an open socket through the pipe, with no
 * loopback and no slices (a 60 s wait ends when woken). */
static void test_wake_ends_wait_on_open_at_socket(void **state)
{
    kmqtt_mem_t mem;
    kmqtt_mem_config_t mc;
    kmqtt_transport_t tr;
    unsigned ready = 0;
    uint64_t t0;
    pthread_t th;
    waker_t w;

    (void)state;
    reset(KB_TEST_AT5);
    memset(&mc, 0, sizeof mc);
    assert_int_equal(kmqtt_mem_init(&mem, &mc), KMQTT_OK);
    assert_int_equal(kb_test_tcp_create(&mem, &tr), KMQTT_OK);
    assert_int_equal(tr.open(tr.ctx, "127.0.0.1", broker_port(broker), WAIT_MS), KMQTT_OK);
    w.tr = &tr;
    w.delay_ms = 100;
    t0 = t_now();
    assert_int_equal(pthread_create(&th, NULL, wake_later, &w), 0);
    assert_int_equal(tr.wait(tr.ctx, KMQTT_WAIT_READ, 60000, &ready), KMQTT_OK);
    pthread_join(th, NULL);
    assert_int_equal(ready, KMQTT_WAIT_WOKEN);
    assert_true(t_now() - t0 < 30000);
    /* One poll call blocked the whole time: no slices, no spinning. */
    assert_true(kb_test_stats.polls <= 2);
    tr.close(tr.ctx);
    assert_int_equal(kb_test_stats.chans_open, 0);
    tr.destroy(tr.ctx);
}

/* Item 8: the netdev goes down under an open socket (SAL's poll fails at
 * once): the wait reports the socket ready once, the next recv reports the
 * error, and after the close the waits sleep. */
static void test_network_down_under_open_socket_is_one_error_then_sleep(void **state)
{
    kmqtt_mem_t mem;
    kmqtt_mem_config_t mc;
    kmqtt_transport_t tr;
    unsigned ready = 0;
    unsigned char buf[16];
    unsigned polls;
    uint64_t t0;

    (void)state;
    reset(KB_TEST_AT5);
    memset(&mc, 0, sizeof mc);
    assert_int_equal(kmqtt_mem_init(&mem, &mc), KMQTT_OK);
    assert_int_equal(kb_test_tcp_create(&mem, &tr), KMQTT_OK);
    assert_int_equal(tr.open(tr.ctx, "127.0.0.1", broker_port(broker), WAIT_MS), KMQTT_OK);
    kb_test_netdown = 1;
    assert_int_equal(tr.wait(tr.ctx, KMQTT_WAIT_READ, 5000, &ready), KMQTT_OK);
    assert_int_equal(ready, KMQTT_WAIT_READ);
    assert_true(tr.recv(tr.ctx, buf, sizeof buf) < 0);
    assert_true(tr.send(tr.ctx, "x", 1) < 0);
    tr.close(tr.ctx);
    polls = kb_test_stats.polls;
    t0 = t_now();
    assert_int_equal(tr.wait(tr.ctx, KMQTT_WAIT_READ, 300, &ready), KMQTT_OK);
    assert_int_equal(ready, 0);
    assert_true(t_now() - t0 >= 290);
    assert_int_equal(kb_test_stats.polls, polls);
    /* And a new connection while the network is down fails, it does not hang. */
    tr.destroy(tr.ctx);
    kb_test_netdown = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lwip_path_connects_without_blocking),
        cmocka_unit_test(test_at_socket_5x_connects_publishes_and_receives),
        cmocka_unit_test(test_at_socket_41_connects_publishes_and_receives),
        cmocka_unit_test(test_wait_with_nothing_open_touches_no_socket),
        cmocka_unit_test(test_wake_ends_wait_on_open_at_socket),
        cmocka_unit_test(test_network_down_under_open_socket_is_one_error_then_sleep),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
