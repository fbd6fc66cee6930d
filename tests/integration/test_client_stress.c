/*
 * Concurrency stress: one client with its background thread and automatic
 * reconnect, four threads publishing QoS 0/1/2 as fast as the window
 * allows, one thread disconnecting and connecting again and again, a
 * message handler that itself publishes, and the broker killed and
 * restarted three times, for KMQTT_STRESS_SECONDS (default 20). It must not
 * deadlock (every wait is bounded and a watchdog fails the run), must pass
 * under ThreadSanitizer, and must account for every QoS 1/2 message: each
 * packet id kmqtt_publish returned ends in exactly one on_publish_done, and
 * with a persistent session (clean_session false) none is dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "it_client.h"
#include "watchdog.h"
#include "it_group.h"

#define PUBLISHERS          4
#define DEFAULT_SECONDS     20u
#define JOIN_GRACE_MS       30000u /* workers must be done this long after the deadline */
#define KILLS               3
#define BROKER_DOWN_MS      300u
#define PAUSE_BEFORE_END_MS 1500u
#define CONNECT_MS          2000u
#define FINAL_WAIT_MS       10000u
#define MAX_INFLIGHT        20u
#define CLIENT_ID           "it-stress"
#define SUB_FILTER          "it/stress/in/#"
#define ECHO_TOPIC          "it/stress/echo"

static broker_t *broker;
static kmqtt_mem_t parent;
/* Everything the threads report, under one lock; checked by the main
 * thread after they are joined (cmocka asserts only on the main thread). */
typedef struct account {
    pthread_mutex_t mu;
    uint32_t published[65536]; /* kmqtt_publish OK with QoS 1/2, per packet id */
    uint32_t completed[65536]; /* on_publish_done, per packet id */
    uint64_t pub_total, done_total, qos0_ok, retries;
    uint64_t done_not_ok; /* on_publish_done with an error (none expected) */
    kmqtt_err_t first_done_err;
    uint64_t handler_calls, echo_ok;
    uint64_t cycles, connect_failures, resubscribes;
    uint64_t unexpected;
    char first_unexpected[160];
    int finished; /* worker threads done */
    pthread_cond_t finished_cv;
} account_t;

static account_t tally;
static kmqtt_client_t *client;
static uint64_t stop_at;

static void unexpected(const char *what, kmqtt_err_t e)
{
    pthread_mutex_lock(&tally.mu);
    if (tally.unexpected++ == 0) {
        snprintf(tally.first_unexpected, sizeof(tally.first_unexpected), "%s gave %s (%d)", what,
                 kmqtt_strerror(e), (int)e);
    }
    pthread_mutex_unlock(&tally.mu);
}

static bool running(void)
{
    return now_ms() < stop_at;
}

/* ------------------------------------------------------------- callbacks */

static void on_done(kmqtt_client_t *c, uint16_t id, kmqtt_err_t err, uint8_t reason, void *ctx)
{
    (void)c;
    (void)ctx;
    (void)reason;
    pthread_mutex_lock(&tally.mu);
    tally.completed[id]++;
    tally.done_total++;
    if (err != KMQTT_OK && tally.done_not_ok++ == 0) {
        tally.first_done_err = err;
    }
    pthread_mutex_unlock(&tally.mu);
}

/* A handler that publishes from the client's own thread. */
static void echo_handler(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    kmqtt_err_t e =
        kmqtt_publish(c, ECHO_TOPIC, msg->payload.ptr, msg->payload.len, 0, false, NULL, NULL);
    (void)ctx;
    pthread_mutex_lock(&tally.mu);
    tally.handler_calls++;
    tally.echo_ok += e == KMQTT_OK;
    pthread_mutex_unlock(&tally.mu);
    if (e != KMQTT_OK && e != KMQTT_ENOTCONN && e != KMQTT_ELIMIT) {
        unexpected("publish from the handler", e);
    }
}

/* --------------------------------------------------------------- workers */

static void worker_finished(void)
{
    pthread_mutex_lock(&tally.mu);
    tally.finished++;
    pthread_cond_broadcast(&tally.finished_cv);
    pthread_mutex_unlock(&tally.mu);
}

static void *publisher(void *arg)
{
    kmqtt_publish_result_t pr;
    int self = (int)(intptr_t)arg;
    char topic[64], payload[32];
    unsigned n = 0;

    while (running()) {
        uint8_t qos = (uint8_t)(n % 3u);
        uint16_t id = 0;
        kmqtt_err_t e;
        /* Half of them come back through the echo handler. */
        snprintf(topic, sizeof(topic), "it/stress/%s/%d", n % 2u == 0 ? "in" : "out", self);
        snprintf(payload, sizeof(payload), "%d:%u", self, n);
        e = kmqtt_publish(client, topic, payload, strlen(payload), qos, false, NULL, &pr);
        id = pr.packet_id;
        if (e == KMQTT_OK) {
            n++;
            pthread_mutex_lock(&tally.mu);
            if (qos > 0) {
                tally.published[id]++;
                tally.pub_total++;
            } else {
                tally.qos0_ok++;
            }
            pthread_mutex_unlock(&tally.mu);
            sleep_ms(1);
        } else if (e == KMQTT_ENOTCONN || e == KMQTT_ELIMIT) {
            pthread_mutex_lock(&tally.mu);
            tally.retries++;
            pthread_mutex_unlock(&tally.mu);
            sleep_ms(3);
        } else {
            unexpected("publish", e);
            sleep_ms(3);
        }
    }
    worker_finished();
    return NULL;
}

static kmqtt_err_t subscribe_echo(void)
{
    kmqtt_sub_request_t sub;
    memset(&sub, 0, sizeof(sub));
    sub.filter = SUB_FILTER;
    sub.qos = 1;
    sub.handler = echo_handler;
    return kmqtt_subscribe(client, &sub, 1, CONNECT_MS, NULL, NULL);
}

/* What a connect may fail with while the broker dies and comes back. */
static bool connect_error_expected(kmqtt_err_t e)
{
    return e == KMQTT_ECONNREFUSED || e == KMQTT_ETIMEDOUT || e == KMQTT_ECLOSED || e == KMQTT_EIO;
}

/* Connects (retrying while the broker is away) and starts the thread.
 * until: give up after this time. Returns true once connected. */
static bool connect_and_start(uint64_t until)
{
    for (;;) {
        kmqtt_connack_info_t info;
        kmqtt_err_t e = kmqtt_connect(client, CONNECT_MS, &info);
        if (e == KMQTT_OK) {
            e = kmqtt_start(client);
            if (e != KMQTT_OK && e != KMQTT_ESTATE) {
                unexpected("start", e);
            }
            /* A broker that lost the session lost the subscription too;
             * the application makes it again, like any application would. */
            if (!info.session_present) {
                e = subscribe_echo();
                pthread_mutex_lock(&tally.mu);
                tally.resubscribes++;
                pthread_mutex_unlock(&tally.mu);
                if (e != KMQTT_OK && e != KMQTT_ENOTCONN && e != KMQTT_ECANCELED &&
                    e != KMQTT_ETIMEDOUT && !connect_error_expected(e)) {
                    unexpected("subscribe after connect", e);
                }
            }
            return true;
        }
        pthread_mutex_lock(&tally.mu);
        tally.connect_failures++;
        pthread_mutex_unlock(&tally.mu);
        if (!connect_error_expected(e)) {
            unexpected("connect", e);
        }
        if (now_ms() >= until) {
            return false;
        }
        sleep_ms(50);
    }
}

static void *cycler(void *arg)
{
    unsigned seed = 12345u;
    (void)arg;
    while (running()) {
        kmqtt_err_t e;
        unsigned pause = 100u + (unsigned)(rand_r(&seed) % 300u);
        uint64_t until = now_ms() + pause;
        while (running() && now_ms() < until) {
            sleep_ms(10);
        }
        e = kmqtt_disconnect(client, NULL);
        if (e != KMQTT_OK && e != KMQTT_ENOTCONN) {
            unexpected("disconnect", e);
        }
        pthread_mutex_lock(&tally.mu);
        tally.cycles++;
        pthread_mutex_unlock(&tally.mu);
        (void)connect_and_start(stop_at);
    }
    worker_finished();
    return NULL;
}

/* ------------------------------------------------------------------ test */

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

static unsigned stress_seconds(void)
{
    const char *s = getenv("KMQTT_STRESS_SECONDS");
    long v = s != NULL ? strtol(s, NULL, 10) : 0;
    return v > 0 && v < 86400 ? (unsigned)v : DEFAULT_SECONDS;
}

/* Every id is published and completed the same number of times, except at
 * most one publish per id still in flight. Returns how many are. */
static uint64_t check_accounting(bool all_done)
{
    uint64_t in_flight = 0;
    uint32_t id;

    pthread_mutex_lock(&tally.mu);
    for (id = 0; id < 65536u; id++) {
        int64_t d = (int64_t)tally.published[id] - (int64_t)tally.completed[id];
        if (d < 0 || d > 1 || (all_done && d != 0)) {
            print_error("packet id %u: published %u times, completed %u times\n", (unsigned)id,
                        (unsigned)tally.published[id], (unsigned)tally.completed[id]);
            pthread_mutex_unlock(&tally.mu);
            fail();
        }
        in_flight += (uint64_t)d;
    }
    if (tally.pub_total != tally.done_total + in_flight) {
        print_error("published %llu, completed %llu, in flight %llu\n",
                    (unsigned long long)tally.pub_total, (unsigned long long)tally.done_total,
                    (unsigned long long)in_flight);
        pthread_mutex_unlock(&tally.mu);
        fail();
    }
    pthread_mutex_unlock(&tally.mu);
    /* The window never holds more than max_inflight. */
    assert_true(in_flight <= MAX_INFLIGHT);
    return in_flight;
}

static void test_publishing_reconnecting_and_broker_restarts_at_once_lose_nothing(void **state)
{
    it_baseline_t base;
    it_states_t states;
    kmqtt_client_options_t o;
    pthread_t pubs[PUBLISHERS], cyc;
    unsigned seconds = stress_seconds();
    uint64_t start, join_deadline, in_flight;
    int i, restarts_failed = 0;
    kmqtt_err_t e;
    (void)state;

    memset(&tally, 0, sizeof(tally));
    pthread_mutex_init(&tally.mu, NULL);
    pthread_cond_init(&tally.finished_cv, NULL);
    it_states_init(&states);
    it_take_baseline(&parent, &base);

    it_options(&o, broker, CLIENT_ID);
    o.mem = &parent;
    o.mem_debug = true;
    o.clean_session = false; /* nothing may be cancelled */
    o.keepalive_s = 5;
    o.max_inflight = MAX_INFLIGHT;
    o.connect_timeout_ms = CONNECT_MS;
    o.reconnect = KMQTT_RECONNECT_ON;
    o.reconnect_min_ms = 50;
    o.reconnect_max_ms = 500;
    o.on_publish_done = on_done;
    o.on_state = it_states_handler;
    o.ctx = &states;
    assert_int_equal(kmqtt_client_create(&o, &client), KMQTT_OK);
    assert_int_equal(kmqtt_connect(client, CONNECT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(client), KMQTT_OK);
    assert_int_equal(subscribe_echo(), KMQTT_OK);

    /* Also guards the main thread (broker restarts) beyond the join check. */
    watchdog_arm("stress run", seconds * 1000u + JOIN_GRACE_MS + 30000u);
    start = now_ms();
    stop_at = start + (uint64_t)seconds * 1000u;
    print_message("stress: %u s, %d publishers, broker killed %d times\n", seconds, PUBLISHERS,
                  KILLS);
    for (i = 0; i < PUBLISHERS; i++) {
        assert_int_equal(pthread_create(&pubs[i], NULL, publisher, (void *)(intptr_t)i), 0);
    }
    assert_int_equal(pthread_create(&cyc, NULL, cycler, NULL), 0);

    /* The broker dies the hard way at 1/4, 2/4 and 3/4 of the run. */
    for (i = 1; i <= KILLS; i++) {
        uint64_t at = start + (uint64_t)seconds * 1000u * (uint64_t)i / (KILLS + 1u);
        while (now_ms() < at) {
            sleep_ms(10);
        }
        broker_kill(broker);
        sleep_ms(BROKER_DOWN_MS);
        restarts_failed += broker_restart(broker) != 0;
    }

    /* The broker stops answering for the last moments, so the run ends
     * with messages in flight that only the persistent session can finish. */
    while (now_ms() + PAUSE_BEFORE_END_MS < stop_at) {
        sleep_ms(10);
    }
    broker_pause(broker);

    /* No deadlock: every worker is back within the grace after the end. */
    join_deadline = stop_at + JOIN_GRACE_MS;
    pthread_mutex_lock(&tally.mu);
    while (tally.finished < PUBLISHERS + 1 && now_ms() < join_deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&tally.finished_cv, &tally.mu, &ts);
    }
    i = tally.finished;
    pthread_mutex_unlock(&tally.mu);
    if (i < PUBLISHERS + 1) {
        print_error("stress: only %d of %d workers finished %u ms after the deadline "
                    "(deadlock)\n",
                    i, PUBLISHERS + 1, JOIN_GRACE_MS);
        /* The stuck threads still use the client: leave without joining. */
        stop_broker();
        broker = NULL;
        fprintf(stderr, "stress: aborting\n");
        _exit(1);
    }
    for (i = 0; i < PUBLISHERS; i++) {
        pthread_join(pubs[i], NULL);
    }
    pthread_join(cyc, NULL);
    assert_int_equal(restarts_failed, 0);

    watchdog_arm("stress: final reconnect and accounting", 60000u);
    /* After disconnect no callback runs: the numbers hold still. */
    e = kmqtt_disconnect(client, NULL);
    assert_true(e == KMQTT_OK || e == KMQTT_ENOTCONN);
    in_flight = check_accounting(false);
    print_message("stress: %llu QoS 1/2 published, %llu completed, %llu in flight at the end; "
                  "%llu QoS 0; %llu retries; %llu echo calls; %llu disconnect/connect "
                  "cycles (%llu failed connects, %llu resubscribes)\n",
                  (unsigned long long)tally.pub_total, (unsigned long long)tally.done_total,
                  (unsigned long long)in_flight, (unsigned long long)tally.qos0_ok,
                  (unsigned long long)tally.retries, (unsigned long long)tally.handler_calls,
                  (unsigned long long)tally.cycles, (unsigned long long)tally.connect_failures,
                  (unsigned long long)tally.resubscribes);

    /* The persistent session resends what is left; then nothing is. */
    broker_resume(broker);
    assert_true(connect_and_start(now_ms() + FINAL_WAIT_MS));
    assert_int_equal(kmqtt_publish_wait_all(client, FINAL_WAIT_MS), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(client, NULL), KMQTT_OK);
    (void)check_accounting(true);
    watchdog_disarm();

    if (tally.unexpected != 0) {
        print_error("stress: %llu unexpected results, the first: %s\n",
                    (unsigned long long)tally.unexpected, tally.first_unexpected);
        fail();
    }
    if (tally.done_not_ok != 0) {
        print_error("stress: %llu publishes completed with an error, the first %s\n",
                    (unsigned long long)tally.done_not_ok, kmqtt_strerror(tally.first_done_err));
        fail();
    }
    /* The run did what it claims. */
    assert_true(tally.pub_total > 0);
    assert_true(tally.qos0_ok > 0);
    assert_true(tally.handler_calls > 0);
    assert_true(tally.cycles >= 2);

    kmqtt_client_destroy(client);
    client = NULL;
    it_expect_baseline(&parent, &base, "stress, destroyed", 0);
    it_states_destroy(&states);
    pthread_cond_destroy(&tally.finished_cv);
    pthread_mutex_destroy(&tally.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publishing_reconnecting_and_broker_restarts_at_once_lose_nothing),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
