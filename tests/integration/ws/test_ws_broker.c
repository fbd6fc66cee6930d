/*
 * The client over the WebSocket transport against mosquitto's websockets
 * listener (MQTT over WebSockets, MQTT 3.1.1 section 6): publish/subscribe at
 * every QoS both ways (checked against plain-TCP mosquitto_pub/sub, so the
 * bytes really crossed the broker), messages far larger than a TCP segment
 * or a frame buffer, connect/disconnect cycles back at the heap and
 * descriptor baseline, an upgrade refused by a plain MQTT listener, and
 * reconnection after a broker restart.
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
#include "kmqtt/transport.h"
#include "ws_env.h"
#include "it_group.h"

#define WAIT_MS 10000u
/* mosquitto 2.0.11 answers a WebSocket upgrade after about 200 ms (its
 * libwebsockets service interval; measured with a raw socket as well), so a
 * cycle costs about that; 60 cycles (each checked against the baseline)
 * keep this test near 15 s in each of the three passes of make test. */
#define CYCLES 60
#define BIG    (100u * 1024u)

static broker_t *broker;
static uint16_t ws_port;
static kmqtt_mem_t parent;

static int group_setup(void **state)
{
    broker_opts_t o;
    static char conf[128];
    (void)state;
    ws_port = unused_port();
    /* mosquitto 2.0.11 needs a plain listener besides the websockets one;
     * broker.c always writes it first. */
    snprintf(conf, sizeof(conf), "listener %u 127.0.0.1\nprotocol websockets\n", ws_port);
    memset(&o, 0, sizeof(o));
    o.extra_conf = conf;
    o.log_all = true;
    broker = it_group_broker(&parent, &o);
    return broker != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    broker_stop(broker);
    return 0;
}

/* A client for id over ws://127.0.0.1:<port>/mqtt; transports from parent. */
static kmqtt_client_t *ws_client(const char *id, uint16_t port, size_t bufs, it_rec_t *rec,
                                 it_states_t *st)
{
    kmqtt_client_options_t o;
    kmqtt_transport_t tcp, ws;
    kmqtt_client_t *c = NULL;

    assert_int_equal(kmqtt_port_tcp_create(&parent, &tcp), KMQTT_OK);
    assert_int_equal(
        it_ws_wrap(&parent, &tcp, bufs != 0 ? 16384 : 0, bufs != 0 ? bufs + 1024 : 0, &ws),
        KMQTT_OK);
    it_options(&o, broker, id);
    o.port = port;
    o.mem = &parent;
    o.mem_debug = true;
    o.transport = &ws;
    o.on_message = rec != NULL ? it_rec_handler : NULL;
    o.on_state = st != NULL ? it_states_handler : NULL;
    o.ctx = rec != NULL ? (void *)rec : (void *)st;
    if (bufs != 0) {
        o.rx_buffer_size = bufs;
        o.tx_buffer_size = bufs;
        o.store_size = 2 * bufs;
    }
    if (kmqtt_client_create(&o, &c) != KMQTT_OK) {
        ws.destroy(ws.ctx);
        fail_msg("client create");
    }
    return c;
}

static void test_pubsub_every_qos_both_ways(void **state)
{
    kmqtt_publish_result_t pr;
    static it_rec_t rec;
    kmqtt_client_t *c;
    kmqtt_sub_request_t sub;
    kmqtt_subscribe_result_t granted;
    proc_t *p;
    char hex[64];
    int q;
    (void)state;

    it_rec_init(&rec);
    c = ws_client("it-ws-pubsub", ws_port, 0, &rec, NULL);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_true(broker_log_wait(broker, "as it-ws-pubsub", 1, WAIT_MS));
    memset(&sub, 0, sizeof(sub));
    sub.filter = "it/ws/in/#";
    sub.qos = 2;
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, &granted), KMQTT_OK);
    assert_int_equal(granted.reason_codes[0], 2);

    /* broker -> ws client, from a plain TCP publisher, at each QoS */
    for (q = 0; q <= 2; q++) {
        char topic[32], payload[32];
        snprintf(topic, sizeof(topic), "it/ws/in/%d", q);
        snprintf(payload, sizeof(payload), "to-ws-qos%d", q);
        assert_int_equal(broker_pub(broker, topic, payload, q, false), 0);
        assert_true(it_wait_msgs(c, &rec, q + 1, WAIT_MS));
        assert_string_equal(rec.msgs[q].topic, topic);
        assert_int_equal(rec.msgs[q].len, strlen(payload));
        assert_memory_equal(rec.msgs[q].payload, payload, strlen(payload));
        assert_int_equal(rec.msgs[q].qos, q); /* min(publish, granted), MQTT-3.8.4-6 */
    }

    /* ws client -> broker -> plain TCP subscriber, at each QoS */
    p = broker_sub_start(broker, "it/ws/out", 3, 10);
    assert_non_null(p);
    for (q = 0; q <= 2; q++) {
        char payload[32];
        uint16_t id = 0;
        snprintf(payload, sizeof(payload), "from-ws-qos%d", q);
        assert_int_equal(
            kmqtt_publish(c, "it/ws/out", payload, strlen(payload), (uint8_t)q, false, NULL, &pr),
            KMQTT_OK);
        id = pr.packet_id;
        if (q > 0)
            assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    }
    assert_int_equal(it_wait_proc(c, p, WAIT_MS), 0);
    for (q = 0; q <= 2; q++) {
        char payload[32], line[128];
        snprintf(payload, sizeof(payload), "from-ws-qos%d", q);
        to_hex(payload, strlen(payload), hex);
        snprintf(line, sizeof(line), "P:%s:%d:0:it/ws/out", hex, q);
        assert_non_null(strstr(proc_output(p), line));
    }
    proc_free(p);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    /* a DISCONNECT, then the WebSocket close: not a dropped connection */
    assert_true(broker_log_wait(broker, "Received DISCONNECT from it-ws-pubsub", 1, WAIT_MS));
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
}

/* Large messages: many TCP segments, many frames' worth of send scratch.
 * (One of 100 KB: mosquitto 2.0.11 sends large messages to websockets
 * clients slowly, about 2.4 s per 100 KB, measured with a raw socket too.) */
static const size_t sizes[3] = {20000, BIG, 30000};
typedef struct big_rx {
    const uint8_t *want;
    int ok, bad;
} big_rx_t;

static void big_handler(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    big_rx_t *r = ctx;
    (void)c;
    if (m->payload.len == sizes[m->qos] && memcmp(m->payload.ptr, r->want, sizes[m->qos]) == 0)
        r->ok++;
    else
        r->bad++;
}

static bool big_done(void *ctx)
{
    big_rx_t *r = ctx;
    return r->ok + r->bad >= 3;
}

static void test_messages_larger_than_a_segment(void **state)
{
    kmqtt_publish_result_t pr;
    static uint8_t payload[BIG];
    big_rx_t r;
    kmqtt_client_t *c;
    kmqtt_sub_request_t sub;
    uint32_t x = 12345;
    size_t i;
    int q;
    (void)state;

    for (i = 0; i < BIG; i++) {
        x = x * 1103515245u + 12345u;
        payload[i] = (uint8_t)(x >> 16);
    }
    memset(&r, 0, sizeof(r));
    r.want = payload;
    c = ws_client("it-ws-big", ws_port, BIG + 1024, NULL, NULL);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    memset(&sub, 0, sizeof(sub));
    sub.filter = "it/ws/big";
    sub.qos = 2;
    sub.handler = big_handler;
    sub.ctx = &r;
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    for (q = 0; q <= 2; q++) {
        uint16_t id = 0;
        assert_int_equal(
            kmqtt_publish(c, "it/ws/big", payload, sizes[q], (uint8_t)q, false, NULL, &pr),
            KMQTT_OK);
        id = pr.packet_id;
        if (q > 0)
            assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    }
    assert_int_equal(it_pump(c, WAIT_MS, big_done, &r), KMQTT_OK);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.ok, 3);
    kmqtt_client_destroy(c);
}

static void test_connect_disconnect_cycles_return_to_baseline(void **state)
{
    kmqtt_publish_result_t pr;
    it_baseline_t base;
    int i;
    (void)state;

    it_take_baseline(&parent, &base);
    for (i = 1; i <= CYCLES; i++) {
        kmqtt_client_t *c = ws_client("it-ws-cycle", ws_port, 0, NULL, NULL);
        uint16_t id = 0;
        kmqtt_err_t e = kmqtt_connect(c, 0, NULL);
        if (e != KMQTT_OK)
            fail_msg("cycle %d: connect: %s", i, kmqtt_strerror(e));
        assert_int_equal(kmqtt_publish(c, "it/ws/cycle", "c", 1, 1, false, NULL, &pr), KMQTT_OK);
        id = pr.packet_id;
        assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        kmqtt_client_destroy(c);
        it_expect_baseline(&parent, &base, "ws cycle", i);
    }
}

static void test_reused_client_cycles_keep_their_baseline(void **state)
{
    it_baseline_t empty, base;
    kmqtt_client_t *c;
    int i;
    (void)state;

    it_take_baseline(&parent, &empty);
    c = ws_client("it-ws-reuse", ws_port, 0, NULL, NULL);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    it_take_baseline(&parent, &base);
    for (i = 1; i <= CYCLES / 10; i++) {
        assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        it_expect_baseline(&parent, &base, "reused ws client", i);
    }
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &empty, "reused ws client destroyed", i);
}

static void test_upgrade_refused_by_plain_listener(void **state)
{
    it_baseline_t base;
    kmqtt_client_t *c;
    int i;
    (void)state;

    it_take_baseline(&parent, &base);
    for (i = 1; i <= 3; i++) {
        /* the plain MQTT listener reads "GET ..." as a broken packet and hangs up */
        c = ws_client("it-ws-refused", broker_port(broker), 0, NULL, NULL);
        assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_EWS_HANDSHAKE);
        /* a clear error a user can print */
        assert_null(strstr(kmqtt_strerror(KMQTT_EWS_HANDSHAKE), "unknown"));
        assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_DISCONNECTED);
        kmqtt_client_destroy(c);
        it_expect_baseline(&parent, &base, "refused upgrade", i);
    }
    /* and nothing listening at all: the lower transport's error */
    c = ws_client("it-ws-nobody", unused_port(), 0, NULL, NULL);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_ECONNREFUSED);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "refused connection", 0);
}

static bool connected_again(void *ctx)
{
    return kmqtt_client_state(ctx) == KMQTT_STATE_CONNECTED;
}

static void test_reconnects_after_broker_restart(void **state)
{
    static it_rec_t rec;
    static it_states_t st;
    it_baseline_t base;
    kmqtt_client_t *c;
    kmqtt_sub_request_t sub;
    uint64_t deadline;
    (void)state;

    it_rec_init(&rec);
    it_states_init(&st);
    it_take_baseline(&parent, &base);
    {
        kmqtt_client_options_t o;
        kmqtt_transport_t tcp, ws;
        assert_int_equal(kmqtt_port_tcp_create(&parent, &tcp), KMQTT_OK);
        assert_int_equal(it_ws_wrap(&parent, &tcp, 0, 0, &ws), KMQTT_OK);
        it_options(&o, broker, "it-ws-restart");
        o.port = ws_port;
        o.mem = &parent;
        o.transport = &ws;
        o.on_message = it_rec_handler;
        o.on_state = it_states_handler;
        o.ctx = &rec;
        o.reconnect = KMQTT_RECONNECT_ON;
        o.reconnect_min_ms = 100;
        o.reconnect_max_ms = 500;
        assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    }
    (void)st;
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    memset(&sub, 0, sizeof(sub));
    sub.filter = "it/ws/rc";
    sub.qos = 1;
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    broker_kill(broker);
    deadline = now_ms() + WAIT_MS;
    while (kmqtt_client_state(c) == KMQTT_STATE_CONNECTED && now_ms() < deadline)
        (void)kmqtt_run(c, 50);
    assert_int_not_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_int_equal(broker_restart(broker), 0);
    /* the client reconnects over ws and subscribes again (the broker kept no session) */
    assert_int_equal(it_pump(c, WAIT_MS, connected_again, c), KMQTT_OK);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_true(broker_log_wait(broker, "Received SUBSCRIBE from it-ws-restart", 1, WAIT_MS));
    assert_int_equal(broker_pub(broker, "it/ws/rc", "back", 1, false), 0);
    assert_true(it_wait_msgs(c, &rec, 1, WAIT_MS));
    assert_memory_equal(rec.msgs[0].payload, "back", 4);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "restart", 0);
    it_rec_destroy(&rec);
    it_states_destroy(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pubsub_every_qos_both_ways),
        cmocka_unit_test(test_messages_larger_than_a_segment),
        cmocka_unit_test(test_connect_disconnect_cycles_return_to_baseline),
        cmocka_unit_test(test_reused_client_cycles_keep_their_baseline),
        cmocka_unit_test(test_upgrade_refused_by_plain_listener),
        cmocka_unit_test(test_reconnects_after_broker_restart),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
