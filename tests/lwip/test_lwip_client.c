/*
 * The kmqtt client over lwIP (src/port/lwip), against a real mosquitto that
 * only the tap device reaches (run_lwip_test.sh sets the stage). Connect,
 * QoS 0/1/2 both ways, the transport's errors and wake, reconnect after the
 * broker restarts, and 1,000 connect/disconnect cycles that must each end
 * with the client's heap, the lwIP sockets and the lwIP TCP PCBs where they
 * started.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/client.h"
#include "kmqtt/port.h"
#include "lwip/opt.h"
#include "lwip_env.h"

#define WAIT_MS     10000u
#define CYCLES      1000
#define THREAD_RUNS 100
#define PORT        1883

static const char *lwip_ip;
static const char *broker_ip;

/* ---------------------------------------------------------------- helpers */

typedef struct rec {
    pthread_mutex_t mu;
    char topic[8][64];
    unsigned char payload[8][4096];
    size_t len[8];
    uint8_t qos[8];
    int n;
} rec_t;

static void rec_init(rec_t *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
}

static void rec_handler(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    rec_t *r = ctx;
    (void)c;
    pthread_mutex_lock(&r->mu);
    if (r->n < 8 && msg->payload.len <= sizeof r->payload[0]) {
        snprintf(r->topic[r->n], sizeof r->topic[0], "%.*s", (int)msg->topic.len, msg->topic.ptr);
        memcpy(r->payload[r->n], msg->payload.ptr, msg->payload.len);
        r->len[r->n] = msg->payload.len;
        r->qos[r->n] = msg->qos;
    }
    r->n++;
    pthread_mutex_unlock(&r->mu);
}

static int rec_count(rec_t *r)
{
    int n;
    pthread_mutex_lock(&r->mu);
    n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Runs the client's loop (this test's clients have no background thread
 * unless said) until r has n messages. */
static bool pump_until(kmqtt_client_t *c, rec_t *r, int n, bool thread)
{
    uint64_t deadline = lwip_env_now_ms() + WAIT_MS;
    while (rec_count(r) < n) {
        if (lwip_env_now_ms() >= deadline) {
            return false;
        }
        if (thread) {
            lwip_env_sleep_ms(5);
        } else if (kmqtt_run(c, 50) != KMQTT_OK) {
            return false;
        }
    }
    return true;
}

typedef struct states {
    pthread_mutex_t mu;
    int connected;
    int lost;
} states_t;

static void states_handler(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err, void *ctx)
{
    states_t *s = ctx;
    (void)c;
    (void)err;
    pthread_mutex_lock(&s->mu);
    if (state == KMQTT_STATE_CONNECTED) {
        s->connected++;
    } else if (state == KMQTT_STATE_CONNECTION_LOST) {
        s->lost++;
    }
    pthread_mutex_unlock(&s->mu);
}

static void options(kmqtt_client_options_t *o, const char *id)
{
    kmqtt_client_options_init(o);
    o->host = broker_ip;
    o->port = PORT;
    o->client_id = id;
}

/* ------------------------------------------------------------------ tests */

/* The client reaches the broker through lwIP and the tap: the broker sees
 * it come from lwIP's address, which only the tap leads to. */
static void test_connect_goes_through_lwip_and_the_tap(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_connack_info_t info;
    char needle[96];
    size_t before;
    (void)state;

    snprintf(needle, sizeof needle, "from %s:", lwip_ip);
    before = lwip_env_broker_log_count(needle);
    options(&o, "lwip-connect");
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &info), KMQTT_OK);
    assert_int_equal(info.reason_code, 0);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    /* mosquitto logs "New client connected from <ip>:<port> as <id>". */
    assert_true(lwip_env_broker_log_wait(needle, before + 1, WAIT_MS));
}

/* QoS 0, 1 and 2 out and back in (subscribed at QoS 2, so each comes back at
 * the QoS it was published with: MQTT-3.8.4-6), one payload larger than a
 * TCP segment, and one message from another client (mosquitto_pub over the
 * kernel's stack) in. */
static void test_qos_0_1_2_both_ways(void **state)
{
    kmqtt_publish_result_t pr;
    static unsigned char big[3000];
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t req;
    kmqtt_subscribe_result_t granted;
    rec_t rec;
    uint16_t id1 = 0, id2 = 0;
    size_t i;
    char *pub[] = {"/usr/bin/mosquitto_pub",
                   "-h",
                   NULL,
                   "-p",
                   "1883",
                   "-q",
                   "2",
                   "-i",
                   "lwip-ext",
                   "-t",
                   "lwip/qos/ext",
                   "-m",
                   "from the kernel side",
                   NULL};
    (void)state;

    for (i = 0; i < sizeof big; i++) {
        big[i] = (unsigned char)(i * 7 + 3);
    }
    rec_init(&rec);
    options(&o, "lwip-qos");
    o.on_message = rec_handler;
    o.ctx = &rec;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    memset(&req, 0, sizeof req);
    req.filter = "lwip/qos/#";
    req.qos = 2;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, &granted), KMQTT_OK);
    assert_int_equal(granted.reason_codes[0], 2);

    assert_int_equal(kmqtt_publish(c, "lwip/qos/0", "zero", 4, 0, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, "lwip/qos/1", "one", 3, 1, false, NULL, &pr), KMQTT_OK);
    id1 = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id1, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, "lwip/qos/2", big, sizeof big, 2, false, NULL, &pr),
                     KMQTT_OK);
    id2 = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id2, WAIT_MS, NULL), KMQTT_OK);
    assert_true(pump_until(c, &rec, 3, false));

    pub[2] = (char *)broker_ip;
    assert_int_equal(lwip_env_run(pub, WAIT_MS), 0);
    assert_true(pump_until(c, &rec, 4, false));

    assert_int_equal(rec_count(&rec), 4);
    /* One subscription, one connection: the broker keeps their order. */
    assert_string_equal(rec.topic[0], "lwip/qos/0");
    assert_int_equal(rec.qos[0], 0);
    assert_memory_equal(rec.payload[0], "zero", 4);
    assert_string_equal(rec.topic[1], "lwip/qos/1");
    assert_int_equal(rec.qos[1], 1);
    assert_int_equal(rec.len[1], 3);
    assert_memory_equal(rec.payload[1], "one", 3);
    assert_string_equal(rec.topic[2], "lwip/qos/2");
    assert_int_equal(rec.qos[2], 2);
    assert_int_equal(rec.len[2], sizeof big);
    assert_memory_equal(rec.payload[2], big, sizeof big);
    assert_string_equal(rec.topic[3], "lwip/qos/ext");
    assert_int_equal(rec.qos[3], 2);
    assert_int_equal(rec.len[3], strlen("from the kernel side"));
    assert_memory_equal(rec.payload[3], "from the kernel side", rec.len[3]);

    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    pthread_mutex_destroy(&rec.mu);
}

/* The transport's failures over lwIP, each leaving no socket or PCB. */
static void test_transport_errors_leave_nothing_open(void **state)
{
    kmqtt_mem_t m;
    kmqtt_transport_t t;
    lwip_env_baseline_t base;
    uint64_t t0;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    lwip_env_take_baseline(&m, &base);
    assert_int_equal(kmqtt_port_tcp_create(&m, &t), KMQTT_OK);

    /* Nothing listens on 1884: the broker's kernel answers with a RST. */
    assert_int_equal(t.open(t.ctx, broker_ip, 1884, WAIT_MS), KMQTT_ECONNREFUSED);
    /* Nobody has 10.77.0.99: ARP goes unanswered, the timeout ends it. */
    t0 = lwip_env_now_ms();
    assert_int_equal(t.open(t.ctx, "10.77.0.99", PORT, 300), KMQTT_ETIMEDOUT);
    assert_true(lwip_env_now_ms() - t0 >= 290);
#if !LWIP_DNS
    /* Without LWIP_DNS (Debian's lwIP) only numeric addresses resolve. */
    assert_int_equal(t.open(t.ctx, "broker.invalid", PORT, 300), KMQTT_ERESOLVE);
#endif
    /* A wake before open cancels it, once. */
    t.wake(t.ctx);
    assert_int_equal(t.open(t.ctx, broker_ip, PORT, WAIT_MS), KMQTT_ECANCELED);
    assert_int_equal(t.open(t.ctx, broker_ip, PORT, WAIT_MS), KMQTT_OK);
    assert_int_equal(t.open(t.ctx, broker_ip, PORT, WAIT_MS), KMQTT_ESTATE);
    assert_int_equal(t.send(t.ctx, "", 0), 0);
    t.close(t.ctx);
    assert_int_equal(t.send(t.ctx, "x", 1), KMQTT_ENOTCONN);
    assert_int_equal(t.recv(t.ctx, (char[4]){0}, 4), KMQTT_ENOTCONN);
    t.destroy(t.ctx);
    assert_true(lwip_env_at_baseline(&m, &base, false, "transport errors", 0));
}

typedef struct waiter {
    kmqtt_transport_t *t;
    unsigned events;
    unsigned ready;
    kmqtt_err_t err;
    uint64_t took_ms;
} waiter_t;

static void *wait_thread(void *p)
{
    waiter_t *w = p;
    uint64_t t0 = lwip_env_now_ms();
    w->err = w->t->wait(w->t->ctx, w->events, 30000u, &w->ready);
    w->took_ms = lwip_env_now_ms() - t0;
    return NULL;
}

/* wake() from another thread ends a wait() blocked in lwip_poll, with and
 * without a connection, long before its 30 s timeout and before the 20 s
 * poll slice this build uses (part_lwip.cmake): the doorbell rang. */
static void test_wake_ends_a_blocked_wait(void **state)
{
    kmqtt_mem_t m;
    kmqtt_transport_t t;
    waiter_t w;
    pthread_t th;
    unsigned ready = 99;
    int round;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_port_tcp_create(&m, &t), KMQTT_OK);
    /* events 0, timeout 0: clears a pending wake and returns. */
    t.wake(t.ctx);
    assert_int_equal(t.wait(t.ctx, 0, 0, &ready), KMQTT_OK);
    assert_int_equal(t.wait(t.ctx, 0, 0, &ready), KMQTT_OK);
    assert_int_equal(ready, 0);

    for (round = 0; round < 2; round++) {
        if (round == 1) {
            assert_int_equal(t.open(t.ctx, broker_ip, PORT, WAIT_MS), KMQTT_OK);
        }
        memset(&w, 0, sizeof w);
        w.t = &t;
        w.events = KMQTT_WAIT_READ; /* the broker sends nothing unasked */
        assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
        lwip_env_sleep_ms(200); /* most likely blocked by now; either way it must end */
        t.wake(t.ctx);
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_int_equal(w.err, KMQTT_OK);
        assert_true((w.ready & KMQTT_WAIT_WOKEN) != 0);
        assert_true(w.took_ms < 15000u);
        print_message("wake %s a connection: wait returned after %llu ms\n",
                      round == 0 ? "without" : "with", (unsigned long long)w.took_ms);
    }
    t.destroy(t.ctx);
    assert_int_equal(m.stats.blocks, 0);
}

/* The broker goes away and comes back: the background thread reconnects
 * over lwIP, makes the subscription again (clean session) and messages flow. */
static void test_reconnect_after_the_broker_restarts(void **state)
{
    kmqtt_publish_result_t pr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t req;
    states_t st;
    rec_t rec;
    uint64_t deadline;
    uint16_t id = 0;
    int connected;
    (void)state;

    rec_init(&rec);
    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.mu, NULL);
    options(&o, "lwip-reconnect");
    /* on_state gets the client's ctx, the subscription handler its own. */
    o.on_state = states_handler;
    o.ctx = &st;
    o.reconnect_min_ms = 100;
    o.reconnect_max_ms = 1000;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    memset(&req, 0, sizeof req);
    req.filter = "lwip/rc";
    req.qos = 1;
    req.handler = rec_handler;
    req.ctx = &rec;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    pthread_mutex_lock(&st.mu);
    connected = st.connected;
    pthread_mutex_unlock(&st.mu);

    lwip_env_broker_stop();
    lwip_env_sleep_ms(300); /* at least one refused attempt */
    assert_int_equal(lwip_env_broker_start(broker_ip, PORT), 0);

    deadline = lwip_env_now_ms() + 20000u;
    for (;;) {
        int now_connected, lost;
        pthread_mutex_lock(&st.mu);
        now_connected = st.connected;
        lost = st.lost;
        pthread_mutex_unlock(&st.mu);
        if (lost >= 1 && now_connected > connected &&
            kmqtt_client_state(c) == KMQTT_STATE_CONNECTED) {
            break;
        }
        assert_true(lwip_env_now_ms() < deadline);
        lwip_env_sleep_ms(20);
    }
    /* The resubscription is in flight or done; a QoS 1 message published
     * after it must come back. Retry the publish until the handler sees one,
     * since the SUBACK may still be on its way. */
    deadline = lwip_env_now_ms() + 20000u;
    while (rec_count(&rec) == 0) {
        kmqtt_err_t e = kmqtt_publish(c, "lwip/rc", "again", 5, 1, false, NULL, &pr);
        id = pr.packet_id;
        assert_true(e == KMQTT_OK || e == KMQTT_ENOTCONN);
        if (e == KMQTT_OK) {
            (void)kmqtt_publish_wait(c, id, WAIT_MS, NULL);
        }
        assert_true(lwip_env_now_ms() < deadline);
        lwip_env_sleep_ms(100);
    }
    assert_memory_equal(rec.payload[0], "again", 5);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    pthread_mutex_destroy(&rec.mu);
    pthread_mutex_destroy(&st.mu);
}

/* One wake cycle of a device: connect, publish QoS 1, wait for PUBACK,
 * disconnect. */
static void cycle(kmqtt_client_t *c, int i, bool thread)
{
    kmqtt_publish_result_t pr;
    char payload[32];
    uint16_t id = 0;
    kmqtt_err_t e;

    e = kmqtt_connect(c, 0, NULL);
    if (e != KMQTT_OK) {
        print_error("cycle %d: connect: %s\n", i, kmqtt_strerror(e));
        fail();
    }
    if (thread) {
        assert_int_equal(kmqtt_start(c), KMQTT_OK);
    }
    snprintf(payload, sizeof payload, "cycle %d", i);
    assert_int_equal(kmqtt_publish(c, "lwip/cycle", payload, strlen(payload), 1, false, NULL, &pr),
                     KMQTT_OK);
    id = pr.packet_id;
    e = kmqtt_publish_wait(c, id, WAIT_MS, NULL);
    if (e != KMQTT_OK) {
        print_error("cycle %d: publish_wait: %s\n", i, kmqtt_strerror(e));
        fail();
    }
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
}

/* 1,000 cycles of one client: after each, the client's heap, the lwIP
 * sockets and the active TCP PCBs are back at the baseline; TIME_WAIT stays
 * with the broker (the port waits for its FIN), not in lwIP. */
static void test_1000_cycles_return_heap_sockets_and_pcbs(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_mem_stats_t st;
    lwip_env_baseline_t base;
    lwip_pcbs_t before, after;
    uint64_t t0, ms;
    int i;
    (void)state;

    options(&o, "lwip-cycles");
    o.mem_debug = true;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_mem_get_stats(kmqtt_client_mem(c), &st);
    print_message("client created: %zu bytes in %zu blocks\n", st.bytes, st.blocks);
    lwip_env_pcbs(&before);
    cycle(c, 1, false);
    (void)lwip_env_wait_tcp_active(before.tcp_active, 5000u);
    lwip_env_take_baseline(kmqtt_client_mem(c), &base);

    t0 = lwip_env_now_ms();
    for (i = 2; i <= CYCLES; i++) {
        cycle(c, i, false);
        assert_true(lwip_env_at_baseline(kmqtt_client_mem(c), &base, false, "reused client", i));
    }
    ms = lwip_env_now_ms() - t0;
    lwip_env_pcbs(&after);
    print_message("%d cycles in %llu ms (%.0f cycles/s), TIME_WAIT PCBs in lwIP: %d before, "
                  "%d after\n",
                  CYCLES - 1, (unsigned long long)ms, (CYCLES - 1) * 1000.0 / (double)(ms ? ms : 1),
                  before.tcp_time_wait, after.tcp_time_wait);
    /* The broker closes first after DISCONNECT, so lwIP holds no TIME_WAIT
     * for these connections. A few may still if the machine was so loaded
     * that a FIN came later than KMQTT_LWIP_CLOSE_WAIT_MS. */
    assert_true(after.tcp_time_wait - before.tcp_time_wait < CYCLES / 20);

    /* Every DISCONNECT reached the broker before the connection ended, so it
     * discarded the will each time (MQTT-3.14.4-3); an abortive close could
     * have cut it off. mosquitto logs "Client <id> disconnected." for it and
     * "closed its connection" otherwise. */
    assert_true(lwip_env_broker_log_wait("Client lwip-cycles disconnected.", CYCLES, WAIT_MS));
    assert_int_equal(lwip_env_broker_log_count("Client lwip-cycles closed its connection"), 0);

    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    kmqtt_mem_get_stats(kmqtt_client_mem(c), &st);
    print_message("heap of a connected client (default options): %zu bytes in %zu blocks\n",
                  st.bytes, st.blocks);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
}

/* Fresh clients with a background thread (a sys_thread_new thread): create,
 * connect, start, publish, disconnect, destroy; everything comes back,
 * threads included. */
static void test_thread_cycles_return_everything(void **state)
{
    kmqtt_mem_t parent;
    lwip_env_baseline_t base;
    int threads;
    int i;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&parent, NULL), KMQTT_OK);
    lwip_env_take_baseline(&parent, &base);
    threads = lwip_env_threads();
    for (i = 1; i <= THREAD_RUNS; i++) {
        kmqtt_client_options_t o;
        kmqtt_client_t *c = NULL;
        uint64_t deadline;
        options(&o, "lwip-thread");
        o.mem = &parent;
        assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
        cycle(c, i, true);
        kmqtt_client_destroy(c);
        assert_true(lwip_env_at_baseline(&parent, &base, false, "fresh client with thread", i));
        /* A joined thread leaves /proc a moment after it signalled. */
        deadline = lwip_env_now_ms() + 5000u;
        while (lwip_env_threads() > threads && lwip_env_now_ms() < deadline) {
            lwip_env_sleep_ms(2);
        }
        assert_int_equal(lwip_env_threads(), threads);
    }
}

/* A client in an arena of exactly kmqtt_client_memory_size bytes, with its
 * background thread and three application threads blocked in
 * kmqtt_publish_wait at once: every wait finds its record in the condition
 * made at create, so nothing runs out (the condition once took a record from
 * the client's memory per concurrent waiter, past what the size counted). */
typedef struct waiter_arg {
    kmqtt_client_t *c;
    int n;
    int ok;
    char topic[32];
} waiter_arg_t;

static void *publish_and_wait(void *p)
{
    waiter_arg_t *a = p;
    for (int i = 0; i < a->n; i++) {
        kmqtt_publish_result_t r;
        if (kmqtt_publish(a->c, a->topic, "x", 1, 1, false, NULL, &r) != KMQTT_OK ||
            kmqtt_publish_wait(a->c, r.packet_id, WAIT_MS, NULL) != KMQTT_OK) {
            break;
        }
        a->ok++;
    }
    return NULL;
}

static void test_exact_arena_with_threads_waiting_at_once(void **state)
{
    static uint64_t arena[8 * 1024]; /* 64 KB, 8-byte aligned */
    kmqtt_mem_stats_t st, after;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    waiter_arg_t args[3];
    pthread_t th[3];
    size_t need;
    int i;
    (void)state;

    options(&o, "lwip-arena");
    o.rx_buffer_size = 1024;
    o.tx_buffer_size = 1024;
    need = kmqtt_client_memory_size(&o);
    assert_true(need > 0 && need <= sizeof arena);
    o.memory = arena;
    o.memory_size = need;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    kmqtt_mem_get_stats(kmqtt_client_mem(c), &st);
    for (i = 0; i < 3; i++) {
        args[i].c = c;
        args[i].n = 50;
        args[i].ok = 0;
        snprintf(args[i].topic, sizeof args[i].topic, "lwip/arena/%d", i);
        assert_int_equal(pthread_create(&th[i], NULL, publish_and_wait, &args[i]), 0);
    }
    for (i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
    }
    for (i = 0; i < 3; i++) {
        if (args[i].ok != 50) {
            print_error("thread %d: %d of 50 publishes acknowledged\n", i, args[i].ok);
        }
        assert_int_equal(args[i].ok, 50);
    }
    /* Steady state took nothing (rule 5): no allocation, none refused. */
    kmqtt_mem_get_stats(kmqtt_client_mem(c), &after);
    assert_int_equal(after.allocs, st.allocs);
    assert_int_equal(after.failed, 0);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
}

/* ------------------------------------------------------------------ main */

static int group_setup(void **state)
{
    (void)state;
    if (lwip_env_group_setup("test_lwip_client", PORT) != 0) {
        return -1;
    }
    lwip_ip = lwip_env_ip();
    broker_ip = lwip_env_broker_ip();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return lwip_env_group_teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_goes_through_lwip_and_the_tap),
        cmocka_unit_test(test_qos_0_1_2_both_ways),
        cmocka_unit_test(test_transport_errors_leave_nothing_open),
        cmocka_unit_test(test_wake_ends_a_blocked_wait),
        cmocka_unit_test(test_reconnect_after_the_broker_restarts),
        cmocka_unit_test(test_1000_cycles_return_heap_sockets_and_pcbs),
        cmocka_unit_test(test_thread_cycles_return_everything),
        cmocka_unit_test(test_exact_arena_with_threads_waiting_at_once),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
