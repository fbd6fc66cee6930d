/*
 * Store and forward across process kills: kmqtt-test-storepub publishes
 * N QoS 1 and N QoS 2 messages with the file store and a persistent session
 * and is killed with SIGKILL at random points (at least 20 times), started
 * again each time, and finally left to finish. A subscriber with a
 * persistent session and a QoS 2 subscription must then have every QoS 1
 * message at least once (MQTT-4.3.2) and every QoS 2 message exactly once
 * (MQTT-4.3.3): the publisher resent what was queued or in flight with the
 * same packet ids and DUP set (MQTT-4.4.0-1), never a torn record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"

#define N_MSGS  500
#define N_KILLS 24
#define WAIT_MS 10000u

static int start_broker(void **state)
{
    broker_opts_t o;
    memset(&o, 0, sizeof(o));
    o.extra_conf = "max_queued_messages 0";
    *state = broker_start(&o);
    return *state != NULL ? 0 : -1;
}

static kmqtt_client_t *g_sub;

static int stop_broker(void **state)
{
    kmqtt_client_destroy(g_sub);
    g_sub = NULL;
    broker_stop(*state);
    return 0;
}

typedef struct seen {
    pthread_mutex_t mu;
    int hits[2][N_MSGS];
    int distinct[2];
    int total[2];
    int bad;
} seen_t;

static void on_msg(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    seen_t *s = ctx;
    char buf[16];
    long i;
    int k;

    (void)c;
    pthread_mutex_lock(&s->mu);
    if (msg->payload.len != 8 || msg->topic.len != 6) {
        s->bad++;
        pthread_mutex_unlock(&s->mu);
        return;
    }
    memcpy(buf, msg->payload.ptr, 8);
    buf[8] = '\0';
    i = atol(buf);
    k = msg->topic.ptr[5] == '2';
    /* Message i is QoS 1 on sfc/q1 when i is even, QoS 2 on sfc/q2 when odd. */
    if (i < 0 || i >= 2 * N_MSGS || (i % 2 == 1) != (k == 1)) {
        s->bad++;
    } else {
        if (s->hits[k][i / 2]++ == 0) {
            s->distinct[k]++;
        }
        s->total[k]++;
    }
    pthread_mutex_unlock(&s->mu);
}

static int distinct_both(seen_t *s)
{
    int n;
    pthread_mutex_lock(&s->mu);
    n = s->distinct[0] + s->distinct[1];
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void run_crash_test(void **state, bool offline)
{
    broker_t *b = *state;
    static seen_t s;
    static kmqtt_mem_t mem;
    kmqtt_client_options_t o;
    kmqtt_sub_request_t sub;
    it_baseline_t base;
    char dir[64], port[16], count[16], cmd[128];
    char *argv[6];
    unsigned seed = (unsigned)now_ms();
    int kills = 0, finished_early = 0, restores = 0, i, st = -1;
    int max_delay = 60, last_start = 0;
    const char *at;
    uint64_t t0 = now_ms(), deadline;
    proc_t *p;

    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.mu, NULL);
    assert_int_equal(it_group_init(&mem), 0);
    it_take_baseline(&mem, &base);
    print_message("seed %u\n", seed);
    srand(seed);

    /* On a disk file system, so the kills land among real fsyncs (on a
     * RAM file system the whole run takes a few milliseconds). */
    snprintf(dir, sizeof(dir), "/tmp/kmqtt-crash-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(port, sizeof(port), "%u", (unsigned)broker_port(b));
    snprintf(count, sizeof(count), "%d", N_MSGS);
    argv[0] = KMQTT_BIN_DIR "/kmqtt-test-storepub";
    argv[1] = port;
    argv[2] = dir;
    argv[3] = count;
    argv[4] = offline ? "offline" : NULL;
    argv[5] = NULL;

    it_options(&o, b, "sf-crash-sub");
    o.mem = &mem;
    o.clean_session = false;
    assert_int_equal(kmqtt_client_create(&o, &g_sub), KMQTT_OK);
    assert_int_equal(kmqtt_connect(g_sub, 0, NULL), KMQTT_OK);
    sub.filter = "sfc/#";
    sub.qos = 2;
    sub.handler = on_msg;
    sub.ctx = &s;
    assert_int_equal(kmqtt_subscribe(g_sub, &sub, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(g_sub), KMQTT_OK);

    while (kills < N_KILLS) {
        p = proc_spawn(argv);
        assert_non_null(p);
        /* Anywhere from start-up (restore, connect) to mid-burst. */
        sleep_ms(2 + (unsigned)(rand() % max_delay));
        if (proc_poll(p, &st)) {
            /* It finished before this kill point: start over with a fresh
             * progress would change the test; count it and stop killing. */
            finished_early = 1;
            print_message("publisher finished (status %d) after %d kills: %s", st, kills,
                          proc_output(p));
            proc_free(p);
            break;
        }
        if (strstr(proc_output(p), "restored: inflight 0 queued 0") == NULL &&
            strstr(proc_output(p), "restored:") != NULL) {
            restores++;
        }
        /* A fast disk lets a run get far: when one ran past its share of
         * the messages, kill sooner, so all N_KILLS points land before the
         * publisher is done (it finished early on a quiet machine). */
        at = strstr(proc_output(p), "start at ");
        if (at != NULL) {
            int start = atoi(at + 9);
            if (start - last_start > N_MSGS / (2 * N_KILLS) && max_delay > 4) {
                max_delay /= 2;
            }
            last_start = start;
        }
        print_message("%s", proc_output(p));
        proc_free(p); /* SIGKILL */
        kills++;
    }
    if (!finished_early) {
        p = proc_spawn(argv);
        assert_non_null(p);
        st = proc_wait(p, 120000);
        if (st != 0) {
            print_error("publisher: %s\n", proc_output(p));
        }
        print_message("last run: %s", proc_output(p));
        proc_free(p);
    }
    assert_int_equal(st, 0);
    /* At least 20 kill points, or the run is not the test it claims. */
    assert_true(kills >= 20);

    deadline = now_ms() + 30000;
    while (distinct_both(&s) < 2 * N_MSGS && now_ms() < deadline) {
        sleep_ms(10);
    }
    sleep_ms(300); /* a late duplicate would arrive by now */
    pthread_mutex_lock(&s.mu);
    print_message("kills %d (runs that restored records: %d), %llu ms; QoS 1: %d distinct, %d "
                  "delivered (%d duplicates); QoS 2: %d distinct, %d delivered\n",
                  kills, restores, (unsigned long long)(now_ms() - t0), s.distinct[0], s.total[0],
                  s.total[0] - s.distinct[0], s.distinct[1], s.total[1]);
    assert_int_equal(s.bad, 0);
    for (i = 0; i < N_MSGS; i++) {
        if (s.hits[0][i] < 1 || s.hits[1][i] != 1) {
            print_error("message %d: QoS 1 seen %d, QoS 2 seen %d\n", i, s.hits[0][i],
                        s.hits[1][i]);
        }
    }
    assert_int_equal(s.distinct[0], N_MSGS); /* at least once */
    assert_int_equal(s.distinct[1], N_MSGS);
    assert_int_equal(s.total[1], N_MSGS); /* exactly once */
    pthread_mutex_unlock(&s.mu);

    kmqtt_client_destroy(g_sub);
    g_sub = NULL;
    it_expect_baseline(&mem, &base, "crash subscriber", 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&s.mu);
}

/* Connected, publishing and acking while it is killed: in-flight records
 * (PUBLISH, then PUBREL state) and the progress file race the kills. */
static void test_publisher_killed_at_random_points(void **state)
{
    run_crash_test(state, false);
}

/* Everything goes through the persisted offline queue first, then drains:
 * kills land among queued records, and between a flow's record and the
 * removal of the queue record it came from. */
static void test_offline_publisher_killed_at_random_points(void **state)
{
    run_crash_test(state, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publisher_killed_at_random_points, start_broker,
                                        stop_broker),
        cmocka_unit_test_setup_teardown(test_offline_publisher_killed_at_random_points,
                                        start_broker, stop_broker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
