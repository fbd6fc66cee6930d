/*
 * The wake cycle in two flights (issue #18) against a real mosquitto, for
 * both clients: the QoS 1 PUBLISH leaves in the same write as the CONNECT
 * (MQTT 3.1.4 allows packets right after CONNECT), so the cycle is the TCP
 * handshake plus one exchange (CONNECT + PUBLISH -> CONNACK + PUBACK), then
 * DISCONNECT. Counted, not timed: a transport wrapper counts the writes
 * made before the first byte of an answer came (the first flight) and in
 * all; a subscriber checks that the broker processed every message.
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
#include "kmqtt/config.h"
#include "it_client.h"
#include "it_group.h"
#include "nano_it.h"

#define CYCLES  3
#define WAIT_MS 5000u

static broker_t *broker;
static kmqtt_mem_t parent;

static int group_setup(void **state)
{
    (void)state;
    broker_opts_t opts;
    memset(&opts, 0, sizeof opts);
    opts.log_all = true; /* the SUBSCRIBEs the broker received, counted */
    broker = it_group_broker(&parent, &opts);
    return broker != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    broker_stop(broker);
    return 0;
}

/* ---------------------------------------------- the counting transport */

typedef struct ct {
    kmqtt_transport_t in;
    int sends;         /* send() calls that took bytes, this connection */
    int sends_first;   /* of them, before the first answer byte */
    bool answered;     /* a byte came back on this connection */
    uint8_t first[64]; /* the first write's first bytes */
    size_t first_len;
    int opens; /* open() calls, in all */
} ct_t;

static kmqtt_err_t ct_open(void *ctx, const char *host, uint16_t port, uint32_t ms)
{
    ct_t *t = ctx;
    t->sends = t->sends_first = 0;
    t->answered = false;
    t->first_len = 0;
    t->opens++;
    return t->in.open(t->in.ctx, host, port, ms);
}

static long ct_send(void *ctx, const void *buf, size_t len)
{
    ct_t *t = ctx;
    long n = t->in.send(t->in.ctx, buf, len);
    if (n > 0) {
        if (t->sends == 0) {
            t->first_len = (size_t)n < sizeof t->first ? (size_t)n : sizeof t->first;
            memcpy(t->first, buf, t->first_len);
        }
        t->sends++;
        if (!t->answered)
            t->sends_first++;
    }
    return n;
}

static long ct_recv(void *ctx, void *buf, size_t len)
{
    ct_t *t = ctx;
    long n = t->in.recv(t->in.ctx, buf, len);
    if (n > 0)
        t->answered = true;
    return n;
}

static kmqtt_err_t ct_wait(void *ctx, unsigned ev, uint32_t ms, unsigned *ready)
{
    ct_t *t = ctx;
    return t->in.wait(t->in.ctx, ev, ms, ready);
}

static void ct_wake(void *ctx)
{
    ct_t *t = ctx;
    t->in.wake(t->in.ctx);
}

static void ct_close(void *ctx)
{
    ct_t *t = ctx;
    t->in.close(t->in.ctx);
}

static void ct_destroy(void *ctx)
{
    ct_t *t = ctx;
    t->in.destroy(t->in.ctx);
}

static void ct_make(ct_t *t, kmqtt_transport_t *out)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(kmqtt_port_tcp_create(&parent, &t->in), KMQTT_OK);
    out->ctx = t;
    out->open = ct_open;
    out->send = ct_send;
    out->recv = ct_recv;
    out->wait = ct_wait;
    out->wake = ct_wake;
    out->close = ct_close;
    out->destroy = ct_destroy;
}

/* The first write holds a whole CONNECT and, right after it, a QoS 1
 * PUBLISH (0x32). */
static void expect_connect_then_publish(const ct_t *t)
{
    assert_true(t->first_len >= 4);
    assert_int_equal(t->first[0], 0x10);
    assert_true(t->first[1] < 0x80); /* a short CONNECT: one length byte */
    size_t next = 2u + t->first[1];
    assert_true(next < t->first_len);
    assert_int_equal(t->first[next], 0x32);
}

/* A subscriber on topic; returns it (the recorder collects). */
static kmqtt_client_t *subscriber(const char *id, const char *topic, it_rec_t *rec)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t req;
    kmqtt_subscribe_result_t granted;
    it_options(&o, broker, id);
    o.mem = &parent;
    o.on_message = it_rec_handler;
    o.ctx = rec;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    memset(&req, 0, sizeof req);
    req.filter = topic;
    req.qos = 1;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, &granted), KMQTT_OK);
    return c;
}

/* The threaded client as a device uses it (README, "The wake cycle"):
 * publish into the offline queue, connect, wait for the PUBACK,
 * disconnect. */
static void threaded_wake_cycle_is_two_flights(void **state)
{
    (void)state;
    it_rec_t rec;
    it_rec_init(&rec);
    kmqtt_client_t *sub = subscriber("pipe-sub-t", "it/pipe/t", &rec);

    ct_t ct;
    kmqtt_transport_t tr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    ct_make(&ct, &tr);
    it_options(&o, broker, "pipe-dev-t");
    o.mem = &parent;
    o.transport = &tr;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.offline_queue_max_msgs = 4;
    o.offline_queue_max_bytes = 1024;
    assert_true(o.pipeline_connect); /* the default */
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    for (int i = 0; i < CYCLES; i++) {
        kmqtt_publish_result_t r;
        assert_int_equal(kmqtt_publish(c, "it/pipe/t", "reading", 7, 1, false, NULL, &r), KMQTT_OK);
        assert_int_not_equal(r.queue_seq, 0); /* queued: not connected yet */
        assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
        assert_int_equal(ct.sends_first, 1); /* CONNECT + PUBLISH: one write */
        expect_connect_then_publish(&ct);
        assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        assert_int_equal(ct.sends, 2); /* and the DISCONNECT */
    }
    kmqtt_client_destroy(c);
    assert_true(it_wait_msgs(sub, &rec, CYCLES, WAIT_MS));
    assert_int_equal(it_rec_count(&rec), CYCLES);
    kmqtt_client_destroy(sub);
    it_rec_destroy(&rec);
}

/* The nano: connect, publish while CONNECTING, poll. */
static void nano_wake_cycle_is_two_flights(void **state)
{
    (void)state;
    it_rec_t rec;
    it_rec_init(&rec);
    kmqtt_client_t *sub = subscriber("pipe-sub-n", "it/pipe/n", &rec);

    static nit_t n;
    ct_t ct;
    nit_setup(&n, &parent, broker_port(broker), "pipe-dev-n");
    n.tr.destroy(n.tr.ctx); /* the counting one instead */
    ct_make(&ct, &n.tr);
    n.cfg.reconnect_min_ms = 0;       /* a failure would show as CONNECT_FAILED */
    assert_true(n.cfg.mqtt.pipeline); /* the default */
    nit_init(&n);
    for (int i = 0; i < CYCLES; i++) {
        kmqtt_nano_msg_t m;
        memset(&m, 0, sizeof m);
        m.topic = "it/pipe/n";
        m.topic_len = 9;
        m.qos = 1;
        m.payload = (const uint8_t *)"reading";
        m.payload_len = 7;
        int want = n.published + 1;
        assert_int_equal(kmqtt_nano_connect(&n.c, nit_now()), KMQTT_OK);
        assert_int_equal(kmqtt_nano_publish(&n.c, &m, nit_now(), NULL), KMQTT_OK);
        assert_true(nit_pump_until(&n, &n.published, want, WAIT_MS));
        assert_int_equal(n.connect_failed, 0);
        assert_int_equal(ct.sends_first, 1);
        expect_connect_then_publish(&ct);
        assert_int_equal(kmqtt_nano_disconnect(&n.c, 0, 2000), KMQTT_OK);
        assert_int_equal(ct.sends, 2);
    }
    nit_teardown(&n);
    assert_true(it_wait_msgs(sub, &rec, CYCLES, WAIT_MS));
    assert_int_equal(it_rec_count(&rec), CYCLES);
    kmqtt_client_destroy(sub);
    it_rec_destroy(&rec);
}

/* Pipelining off: the PUBLISH waits for the CONNACK (three round trips):
 * what the option turns off is what the counts above show. */
static void pipelining_off_writes_connect_alone(void **state)
{
    (void)state;
    ct_t ct;
    kmqtt_transport_t tr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_publish_result_t r;
    ct_make(&ct, &tr);
    it_options(&o, broker, "pipe-off");
    o.mem = &parent;
    o.transport = &tr;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.offline_queue_max_msgs = 4;
    o.offline_queue_max_bytes = 1024;
    o.pipeline_connect = false;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, "it/pipe/off", "x", 1, 1, false, NULL, &r), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
    assert_int_equal(ct.sends_first, 1);
    assert_int_equal(ct.first_len, 2u + ct.first[1]); /* the CONNECT alone */
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    assert_int_equal(ct.sends, 3); /* CONNECT, PUBLISH, DISCONNECT */
    kmqtt_client_destroy(c);
}

/* Subscriptions restored in the first flight: the broker restarts (it
 * keeps no session), the client reconnects by itself with a clean session
 * and, knowing the broker lacks its subscription, sends the SUBSCRIBE in
 * the same write as the CONNECT (MQTT 3.1.4); the subscription works
 * again. The client runs its own loop here (kmqtt_run), so the counting
 * transport is touched by this thread only. */
static void reconnect_restores_subscription_in_the_first_flight(kmqtt_version_t version,
                                                                const char *id)
{
    it_rec_t rec;
    ct_t ct;
    kmqtt_transport_t tr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t req = {"it/pipe/resub/#", 1, it_rec_handler, NULL};
    uint64_t deadline;
    char line[96];
    it_rec_init(&rec);
    req.ctx = &rec;
    ct_make(&ct, &tr);
    it_options(&o, broker, id);
    o.version = version;
    o.mem = &parent;
    o.transport = &tr;
    o.reconnect = KMQTT_RECONNECT_ON;
    o.reconnect_min_ms = 20;
    o.reconnect_max_ms = 200;
    assert_true(o.clean_session && o.pipeline_connect); /* the defaults */
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);

    assert_int_equal(broker_restart(broker), 0); /* a fresh broker: no session */
    deadline = now_ms() + WAIT_MS;
    /* The loss, then the reconnect (as many attempts as it takes). */
    while ((ct.opens < 2 || kmqtt_client_state(c) != KMQTT_STATE_CONNECTED) && now_ms() < deadline)
        (void)kmqtt_run(c, 20);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    /* The first write of the new connection: CONNECT, then SUBSCRIBE. */
    assert_true(ct.first_len >= 4);
    assert_int_equal(ct.first[0], 0x10);
    assert_true(ct.first[1] < 0x80);
    size_t next = 2u + ct.first[1];
    assert_true(next < ct.first_len);
    assert_int_equal(ct.first[next], 0x82);
    snprintf(line, sizeof line, "Received SUBSCRIBE from %s", id);
    assert_true(broker_log_wait(broker, line, 1, WAIT_MS));
    assert_int_equal(broker_pub(broker, "it/pipe/resub/x", "back", 1, false), 0);
    assert_true(it_wait_msgs(c, &rec, 1, WAIT_MS));
    /* Once on this connection: the CONNACK did not send it again. */
    assert_int_equal(broker_log_count(broker, line), 1);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
}

static void reconnect_restores_subscription_in_the_first_flight_311(void **state)
{
    (void)state;
    reconnect_restores_subscription_in_the_first_flight(KMQTT_V311, "pipe-resub-3");
}

#if KMQTT_CFG_V5
static void reconnect_restores_subscription_in_the_first_flight_5(void **state)
{
    (void)state;
    reconnect_restores_subscription_in_the_first_flight(KMQTT_V5, "pipe-resub-5");
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threaded_wake_cycle_is_two_flights),
        cmocka_unit_test(nano_wake_cycle_is_two_flights),
        cmocka_unit_test(pipelining_off_writes_connect_alone),
        /* Last: they restart the broker. */
        cmocka_unit_test(reconnect_restores_subscription_in_the_first_flight_311),
#if KMQTT_CFG_V5
        cmocka_unit_test(reconnect_restores_subscription_in_the_first_flight_5),
#endif
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
