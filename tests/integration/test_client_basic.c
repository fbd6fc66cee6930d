/*
 * The client against a real mosquitto: connect and disconnect, publish at
 * every QoS (checked by mosquitto_sub), receive at every QoS (sent by
 * mosquitto_pub), retained messages, the will, and multi-filter subscriptions.
 * Every test starts its own broker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <poll.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"

#define WAIT_MS 5000u

static int start_broker_max_qos1(void **state)
{
    broker_opts_t o;
    memset(&o, 0, sizeof(o));
    o.max_qos = 1;
    *state = broker_start(&o);
    return *state != NULL ? 0 : -1;
}

/* A connected client whose unclaimed messages go to rec. */
static kmqtt_client_t *connected(broker_t *b, const char *id, it_rec_t *rec)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_connack_info_t info;
    it_options(&o, b, id);
    o.on_message = rec != NULL ? it_rec_handler : NULL;
    o.ctx = rec;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &info), KMQTT_OK);
    assert_int_equal(info.reason_code, 0);
    return c;
}

/* ------------------------------------------------------------- connection */

static void test_connect_then_disconnect_sends_disconnect_and_closes(void **state)
{
    broker_t *b = *state;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_connack_info_t info;
    int fds = count_open_fds();

    int fds_created;

    it_options(&o, b, "it-basic-conn");
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    fds_created = count_open_fds();
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_DISCONNECTED);
    memset(&info, 0xff, sizeof(info));
    assert_int_equal(kmqtt_connect(c, 0, &info), KMQTT_OK);
    assert_int_equal(info.reason_code, 0);
    assert_false(info.session_present);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_true(broker_log_wait(b, "as it-basic-conn (p2, c1, k60", 1, WAIT_MS));

    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_DISCONNECTED);
    /* Disconnect is synchronous: the socket is closed when it returns. */
    assert_int_equal(count_open_fds(), fds_created);
    /* The broker saw a DISCONNECT, not a dropped connection (so no will). */
    assert_true(broker_log_wait(b, "Received DISCONNECT from it-basic-conn", 1, WAIT_MS));
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_ENOTCONN);
    kmqtt_client_destroy(c);
    assert_int_equal(count_open_fds(), fds);
}

static void test_connect_when_connected_is_refused_and_keeps_the_connection(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    kmqtt_client_t *c = connected(b, "it-basic-twice", NULL);
    uint16_t id = 0;
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_ESTATE);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_int_equal(kmqtt_publish(c, "it/twice", "x", 1, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
}

static void test_client_without_id_connects_with_a_generated_one(void **state)
{
    broker_t *b = *state;
    kmqtt_client_t *c = connected(b, NULL, NULL);
    char *log;
    const char *p;
    size_t i;
    FILE *f;
    long len;

    assert_true(broker_log_wait(b, " as kmqtt-", 1, WAIT_MS));
    f = fopen(broker_log_path(b), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    log = test_calloc(1, (size_t)len + 1);
    assert_int_equal(fread(log, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    p = strstr(log, " as kmqtt-");
    assert_non_null(p);
    p += strlen(" as kmqtt-");
    for (i = 0; i < 12; i++) {
        assert_non_null(strchr("0123456789abcdefABCDEF", p[i]));
    }
    assert_int_equal(p[12], ' ');
    test_free(log);
    kmqtt_client_destroy(c);
}

static void test_destroy_while_connected_disconnects_cleanly(void **state)
{
    broker_t *b = *state;
    int fds = count_open_fds();
    kmqtt_client_t *c = connected(b, "it-basic-destroy", NULL);
    kmqtt_client_destroy(c);
    assert_int_equal(count_open_fds(), fds);
    assert_true(broker_log_wait(b, "Received DISCONNECT from it-basic-destroy", 1, WAIT_MS));
}

/* ---------------------------------------------------------------- publish */

static void publish_seen_by_mosquitto_sub(broker_t *b, uint8_t qos)
{
    kmqtt_publish_result_t pr;
    static const uint8_t payload[] = {0x00, 0x01, 'k', 'm', 'q', 't', 't', 0x7f, 0x80, 0xfe, 0xff};
    char topic[32], hex[2 * sizeof(payload) + 1], want[128];
    kmqtt_client_t *c = connected(b, "it-basic-pub", NULL);
    proc_t *sub;
    uint16_t id = 0;

    snprintf(topic, sizeof(topic), "it/pub/q%u", (unsigned)qos);
    sub = broker_sub_start(b, topic, 1, 5);
    assert_non_null(sub);
    assert_int_equal(kmqtt_publish(c, topic, payload, sizeof(payload), qos, false, NULL, &pr),
                     KMQTT_OK);
    id = pr.packet_id;
    if (qos > 0) {
        uint8_t rc = 0xaa;
        assert_int_not_equal(id, 0);
        assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, &rc), KMQTT_OK);
        assert_int_equal(rc, 0);
        /* Waiting again on a completed publish gives its result at once (a
         * background thread may complete it before the caller waits). */
        {
            uint64_t t0 = now_ms();
            rc = 0xaa;
            assert_int_equal(kmqtt_publish_wait(c, id, 2000, &rc), KMQTT_OK);
            assert_int_equal(rc, 0);
            assert_true(now_ms() - t0 < 500);
        }
        /* An id that was never used is not in flight. */
        assert_int_equal(kmqtt_publish_wait(c, (uint16_t)(id + 1000), 10, NULL), KMQTT_ENOTFOUND);
    }
    assert_int_equal(it_wait_proc(c, sub, WAIT_MS), 0);
    to_hex(payload, sizeof(payload), hex);
    snprintf(want, sizeof(want), "P:%s:%u:0:%s\n", hex, (unsigned)qos, topic);
    if (strstr(proc_output(sub), want) == NULL) {
        print_error("mosquitto_sub printed:\n%s\nwanted %s", proc_output(sub), want);
        fail();
    }
    proc_free(sub);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
}

static void test_qos0_publish_arrives_exactly(void **state)
{
    publish_seen_by_mosquitto_sub(*state, 0);
}

static void test_qos1_publish_is_acked_and_arrives_exactly(void **state)
{
    publish_seen_by_mosquitto_sub(*state, 1);
}

static void test_qos2_publish_completes_and_arrives_exactly(void **state)
{
    publish_seen_by_mosquitto_sub(*state, 2);
}

static void test_many_qos1_publishes_all_complete_in_order(void **state)
{
    broker_t *b = *state;
    kmqtt_client_t *c = connected(b, "it-basic-many", NULL);
    proc_t *sub = broker_sub_start(b, "it/many", 50, 5);
    int i;
    char msg[16];
    const char *out, *prev;

    assert_non_null(sub);
    for (i = 0; i < 50; i++) {
        snprintf(msg, sizeof(msg), "m%02d", i);
        assert_int_equal(kmqtt_publish(c, "it/many", msg, strlen(msg), 1, false, NULL, NULL),
                         KMQTT_OK);
        /* publish_block_ms is 0: a full window is an error, so drain it. */
        if (i % 10 == 9) {
            assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
        }
    }
    assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
    assert_int_equal(it_wait_proc(c, sub, WAIT_MS), 0);
    out = proc_output(sub);
    prev = out;
    for (i = 0; i < 50; i++) {
        char hex[16], want[64];
        const char *at;
        snprintf(msg, sizeof(msg), "m%02d", i);
        to_hex(msg, strlen(msg), hex);
        snprintf(want, sizeof(want), "P:%s:1:0:it/many\n", hex);
        at = strstr(prev, want);
        if (at == NULL) {
            print_error("message %d missing or out of order in:\n%s\n", i, out);
            fail();
        }
        prev = at;
    }
    proc_free(sub);
    kmqtt_client_destroy(c);
}

/* ---------------------------------------------------------------- receive */

static void receive_from_mosquitto_pub(broker_t *b, int qos)
{
    it_rec_t rec;
    kmqtt_client_t *c;
    kmqtt_sub_request_t req;
    kmqtt_subscribe_result_t granted;
    char topic[32], payload[64];

    it_rec_init(&rec);
    c = connected(b, "it-basic-recv", NULL);
    snprintf(topic, sizeof(topic), "it/recv/q%d", qos);
    snprintf(payload, sizeof(payload), "reading %d: 21.5 C", qos);
    memset(&req, 0, sizeof(req));
    req.filter = topic;
    req.qos = 2;
    req.handler = it_rec_handler;
    req.ctx = &rec;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, &granted), KMQTT_OK);
    assert_int_equal(granted.reason_codes[0], 2);

    assert_int_equal(broker_pub(b, topic, payload, qos, false), 0);
    assert_true(it_wait_msgs(c, &rec, 1, WAIT_MS));
    /* Nothing more arrives: QoS 1 and 2 are acknowledged, not redelivered. */
    assert_int_equal(it_pump(c, 300, NULL, NULL), KMQTT_OK);
    assert_int_equal(it_rec_count(&rec), 1);
    assert_string_equal(rec.msgs[0].topic, topic);
    assert_int_equal(rec.msgs[0].len, strlen(payload));
    assert_memory_equal(rec.msgs[0].payload, payload, strlen(payload));
    assert_int_equal(rec.msgs[0].qos, qos);
    assert_false(rec.msgs[0].retain);
    if (qos == 2) {
        /* The QoS 2 flow finished: the broker got our PUBREC and PUBCOMP'd. */
        assert_true(broker_log_wait(b, "Received PUBREC from it-basic-recv", 1, WAIT_MS));
        assert_true(broker_log_wait(b, "Received PUBCOMP from it-basic-recv", 1, WAIT_MS));
    } else if (qos == 1) {
        assert_true(broker_log_wait(b, "Received PUBACK from it-basic-recv", 1, WAIT_MS));
    }
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
}

static void test_qos0_message_from_mosquitto_pub_reaches_the_handler(void **state)
{
    receive_from_mosquitto_pub(*state, 0);
}

static void test_qos1_message_from_mosquitto_pub_reaches_the_handler_once(void **state)
{
    receive_from_mosquitto_pub(*state, 1);
}

static void test_qos2_message_from_mosquitto_pub_reaches_the_handler_once(void **state)
{
    receive_from_mosquitto_pub(*state, 2);
}

static void test_messages_reach_the_handler_while_the_background_thread_runs(void **state)
{
    broker_t *b = *state;
    it_rec_t rec;
    kmqtt_client_t *c;
    kmqtt_sub_request_t req;
    int i;

    it_rec_init(&rec);
    c = connected(b, "it-basic-thread", NULL);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    assert_int_equal(kmqtt_start(c), KMQTT_ESTATE);
    assert_int_equal(kmqtt_run(c, 10), KMQTT_ESTATE);
    memset(&req, 0, sizeof(req));
    req.filter = "it/thread/#";
    req.qos = 1;
    req.handler = it_rec_handler;
    req.ctx = &rec;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    for (i = 0; i < 3; i++) {
        assert_int_equal(broker_pub(b, "it/thread/x", "tick", 1, false), 0);
    }
    assert_true(it_wait_msgs(c, &rec, 3, WAIT_MS));
    assert_string_equal(rec.msgs[2].topic, "it/thread/x");
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
}

/* --------------------------------------------------------------- retained */

static void test_retained_message_is_delivered_on_subscribe_with_retain_set(void **state)
{
    broker_t *b = *state;
    it_rec_t rec;
    kmqtt_client_t *c;
    kmqtt_sub_request_t req;

    it_rec_init(&rec);
    assert_int_equal(broker_pub(b, "it/ret/cfg", "interval=60", 1, true), 0);
    c = connected(b, "it-basic-ret", &rec);
    memset(&req, 0, sizeof(req));
    req.filter = "it/ret/cfg";
    req.qos = 1;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    assert_true(it_wait_msgs(c, &rec, 1, WAIT_MS));
    assert_string_equal(rec.msgs[0].topic, "it/ret/cfg");
    assert_int_equal(rec.msgs[0].len, strlen("interval=60"));
    assert_memory_equal(rec.msgs[0].payload, "interval=60", strlen("interval=60"));
    assert_true(rec.msgs[0].retain);
    assert_int_equal(rec.msgs[0].qos, 1);
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
}

static void test_retained_publish_is_kept_and_an_empty_one_clears_it(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    kmqtt_client_t *c = connected(b, "it-basic-retpub", NULL);
    proc_t *sub;
    uint16_t id = 0;
    char hex[64], want[128];

    assert_int_equal(kmqtt_publish(c, "it/ret/state", "online", 6, 1, true, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);

    /* A subscriber that comes later still gets it, flagged retained. */
    sub = broker_sub_start(b, "it/ret/state", 1, 5);
    assert_non_null(sub);
    assert_int_equal(proc_wait(sub, WAIT_MS), 0);
    to_hex("online", 6, hex);
    snprintf(want, sizeof(want), "P:%s:1:1:it/ret/state\n", hex);
    assert_non_null(strstr(proc_output(sub), want));
    proc_free(sub);

    /* An empty retained message removes it (MQTT-3.3.1-10). */
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, "it/ret/state", NULL, 0, 1, true, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    sub = broker_sub_start(b, "it/ret/state", 1, 1);
    assert_non_null(sub);
    assert_int_equal(proc_wait(sub, WAIT_MS), 27); /* mosquitto_sub: timed out, nothing came */
    assert_null(strstr(proc_output(sub), "P:"));
    proc_free(sub);
    kmqtt_client_destroy(c);
}

/* ------------------------------------------------------------------- will */

static void test_will_is_published_when_the_client_dies(void **state)
{
    broker_t *b = *state;
    proc_t *sub = broker_sub_start(b, "it/will/dev1", 1, 5);
    int pipefd[2];
    pid_t pid;
    char hex[64], want[128], byte = 0;
    struct pollfd pfd;
    int st;

    assert_non_null(sub);
    assert_int_equal(pipe(pipefd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The device: connects with a will, reports, then waits to be killed. */
        kmqtt_client_options_t o;
        kmqtt_client_t *c = NULL;
        char ok;
        close(pipefd[0]);
        it_options(&o, b, "it-will-dev1");
        o.has_will = true;
        o.will_topic = "it/will/dev1";
        o.will_payload = "offline";
        o.will_payload_len = 7;
        o.will_qos = 1;
        ok = kmqtt_client_create(&o, &c) == KMQTT_OK && kmqtt_connect(c, 0, NULL) == KMQTT_OK ? 'y'
                                                                                              : 'n';
        if (write(pipefd[1], &ok, 1) != 1) {
            _exit(2);
        }
        /* Orphaned if the parent's test fails: SIGALRM ends it. */
        alarm(30);
        for (;;) {
            pause();
        }
    }
    close(pipefd[1]);
    pfd.fd = pipefd[0];
    pfd.events = POLLIN;
    assert_int_equal(poll(&pfd, 1, (int)WAIT_MS), 1);
    assert_int_equal(read(pipefd[0], &byte, 1), 1);
    close(pipefd[0]);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(byte, 'y');

    assert_int_equal(proc_wait(sub, WAIT_MS), 0);
    to_hex("offline", 7, hex);
    snprintf(want, sizeof(want), "P:%s:1:0:it/will/dev1\n", hex);
    if (strstr(proc_output(sub), want) == NULL) {
        print_error("mosquitto_sub printed:\n%s\n", proc_output(sub));
        fail();
    }
    proc_free(sub);
}

static void test_will_is_not_published_after_a_normal_disconnect(void **state)
{
    broker_t *b = *state;
    proc_t *sub = broker_sub_start(b, "it/will/dev2", 1, 2);
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;

    assert_non_null(sub);
    it_options(&o, b, "it-will-dev2");
    o.has_will = true;
    o.will_topic = "it/will/dev2";
    o.will_payload = "offline";
    o.will_payload_len = 7;
    o.will_qos = 1;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    /* Discarded on DISCONNECT (MQTT-3.1.2-10): the subscriber times out. */
    assert_int_equal(proc_wait(sub, WAIT_MS), 27);
    assert_null(strstr(proc_output(sub), "P:"));
    proc_free(sub);
}

/* ------------------------------------------------------------ subscribing */

static void subscribe_three(broker_t *b, const uint8_t want[3])
{
    it_rec_t other, rec[3];
    kmqtt_client_t *c;
    kmqtt_sub_request_t req[3];
    kmqtt_subscribe_result_t granted;
    int i;

    it_rec_init(&other);
    for (i = 0; i < 3; i++) {
        it_rec_init(&rec[i]);
    }
    c = connected(b, "it-basic-subs", &other);
    memset(req, 0, sizeof(req));
    req[0].filter = "it/subs/zero";
    req[0].qos = 0;
    req[1].filter = "it/subs/one/+";
    req[1].qos = 1;
    req[2].filter = "it/subs/two/#";
    req[2].qos = 2;
    for (i = 0; i < 3; i++) {
        req[i].handler = it_rec_handler;
        req[i].ctx = &rec[i];
    }
    assert_int_equal(kmqtt_subscribe(c, req, 3, WAIT_MS, NULL, &granted), KMQTT_OK);
    assert_memory_equal(granted.reason_codes, want, 3);

    /* Each message goes to the handler of the filter it matches, at the
     * granted QoS at most. */
    assert_int_equal(broker_pub(b, "it/subs/two/a/b", "2", 1, false), 0);
    assert_int_equal(broker_pub(b, "it/subs/one/x", "1", 1, false), 0);
    assert_int_equal(broker_pub(b, "it/subs/zero", "0", 1, false), 0);
    assert_true(it_wait_msgs(c, &rec[0], 1, WAIT_MS));
    assert_true(it_wait_msgs(c, &rec[1], 1, WAIT_MS));
    assert_true(it_wait_msgs(c, &rec[2], 1, WAIT_MS));
    assert_int_equal(it_pump(c, 200, NULL, NULL), KMQTT_OK);
    for (i = 0; i < 3; i++) {
        assert_int_equal(it_rec_count(&rec[i]), 1);
        assert_int_equal(rec[i].msgs[0].payload[0], '0' + i);
        assert_int_equal(rec[i].msgs[0].qos, want[i] < 1 ? want[i] : 1);
    }
    assert_string_equal(rec[1].msgs[0].topic, "it/subs/one/x");
    assert_string_equal(rec[2].msgs[0].topic, "it/subs/two/a/b");
    assert_int_equal(it_rec_count(&other), 0);

    /* After unsubscribing, a filter's messages stop. */
    {
        const char *const filters[] = {"it/subs/one/+"};
        assert_int_equal(kmqtt_unsubscribe(c, filters, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    }
    assert_int_equal(broker_pub(b, "it/subs/one/y", "1", 1, false), 0);
    assert_int_equal(broker_pub(b, "it/subs/zero", "0", 1, false), 0);
    assert_true(it_wait_msgs(c, &rec[0], 2, WAIT_MS));
    assert_int_equal(it_pump(c, 200, NULL, NULL), KMQTT_OK);
    assert_int_equal(it_rec_count(&rec[1]), 1);
    assert_int_equal(it_rec_count(&other), 0);

    kmqtt_client_destroy(c);
    for (i = 0; i < 3; i++) {
        it_rec_destroy(&rec[i]);
    }
    it_rec_destroy(&other);
}

static void test_subscribe_to_three_filters_grants_each_its_qos(void **state)
{
    static const uint8_t want[3] = {0, 1, 2};
    subscribe_three(*state, want);
}

static void test_subscribe_reports_the_qos_a_limited_broker_granted_per_filter(void **state)
{
    /* This broker has max_qos 1: the QoS 2 filter is granted 1. */
    static const uint8_t want[3] = {0, 1, 1};
    subscribe_three(*state, want);
}

static void test_mqtt5_publish_reports_the_brokers_reason_code(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_connack_info_t info;
    uint16_t id = 0;
    uint8_t rc = 0xaa;
    proc_t *sub;

    it_options(&o, b, "it-basic-v5");
    o.version = KMQTT_V5;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &info), KMQTT_OK);
    assert_int_equal(info.reason_code, 0);
    /* mosquitto answers 0x10 "No matching subscribers" when nobody listens. */
    assert_int_equal(kmqtt_publish(c, "it/v5/none", "x", 1, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, &rc), KMQTT_OK);
    assert_int_equal(rc, 0x10);
    sub = broker_sub_start(b, "it/v5/some", 1, 5);
    assert_non_null(sub);
    assert_int_equal(kmqtt_publish(c, "it/v5/some", "y", 1, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, &rc), KMQTT_OK);
    assert_int_equal(rc, 0);
    assert_int_equal(proc_wait(sub, WAIT_MS), 0);
    proc_free(sub);
    kmqtt_client_destroy(c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, it_broker_setup_logged, it_broker_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_connect_then_disconnect_sends_disconnect_and_closes),
        T(test_connect_when_connected_is_refused_and_keeps_the_connection),
        T(test_client_without_id_connects_with_a_generated_one),
        T(test_destroy_while_connected_disconnects_cleanly),
        T(test_qos0_publish_arrives_exactly),
        T(test_qos1_publish_is_acked_and_arrives_exactly),
        T(test_qos2_publish_completes_and_arrives_exactly),
        T(test_many_qos1_publishes_all_complete_in_order),
        T(test_qos0_message_from_mosquitto_pub_reaches_the_handler),
        T(test_qos1_message_from_mosquitto_pub_reaches_the_handler_once),
        T(test_qos2_message_from_mosquitto_pub_reaches_the_handler_once),
        T(test_messages_reach_the_handler_while_the_background_thread_runs),
        T(test_retained_message_is_delivered_on_subscribe_with_retain_set),
        T(test_retained_publish_is_kept_and_an_empty_one_clears_it),
        T(test_will_is_published_when_the_client_dies),
        T(test_will_is_not_published_after_a_normal_disconnect),
        T(test_subscribe_to_three_filters_grants_each_its_qos),
        cmocka_unit_test_setup_teardown(
            test_subscribe_reports_the_qos_a_limited_broker_granted_per_filter,
            start_broker_max_qos1, it_broker_teardown),
        T(test_mqtt5_publish_reports_the_brokers_reason_code),
    };
    /* A killed broker or peer must not kill the test with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
