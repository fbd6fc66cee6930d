/*
 * The nano client (kmqtt/nano.h) over lwIP's TCP transport (src/port/lwip),
 * against a real mosquitto that only the tap device reaches
 * (run_lwip_test.sh sets the stage): QoS 0/1/2 both ways, resumption of QoS 1
 * messages across a broker restart with nano's own reconnect, and 1,000 wake
 * cycles of a field device that must each return the transport's heap, the
 * lwIP sockets and the lwIP TCP PCBs to where they started, on one thread.
 * Nano runs single-task here, as on the device: kmqtt_nano_step with a
 * 32-bit millisecond clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/nano.h"
#include "kmqtt/port.h"
#include "lwip_env.h"

#define WAIT_MS 10000u
#define CYCLES  1000
#define PORT    1883
#define MAX_REC 16

static const char *lwip_ip;
static const char *broker_ip;

/* ---------------------------------------------------------------- helpers */

/* The device's clock: a free-running 32-bit millisecond counter. */
static uint32_t now32(void)
{
    return (uint32_t)lwip_env_now_ms();
}

/* Everything the event callback saw. */
typedef struct rec {
    int connected, connect_failed, lost, suback, published, messages;
    bool session_present;
    uint8_t suback_code;
    uint16_t pub_id[MAX_REC];
    kmqtt_err_t pub_err[MAX_REC];
    char topic[MAX_REC][32];
    uint8_t payload[MAX_REC][3100];
    size_t len[MAX_REC];
    uint8_t qos[MAX_REC];
} rec_t;

static void on_event(void *user, const kmqtt_nano_event_t *ev)
{
    rec_t *r = user;
    switch (ev->type) {
    case KMQTT_NANO_EV_CONNECTED:
        r->connected++;
        r->session_present = ev->session_present;
        break;
    case KMQTT_NANO_EV_CONNECT_FAILED:
        r->connect_failed++;
        break;
    case KMQTT_NANO_EV_LOST:
        r->lost++;
        break;
    case KMQTT_NANO_EV_SUBACK:
        r->suback++;
        r->suback_code = ev->count == 1 ? ev->codes[0] : 0xffu;
        break;
    case KMQTT_NANO_EV_PUBLISHED:
        if (r->published < MAX_REC) {
            r->pub_id[r->published] = ev->packet_id;
            r->pub_err[r->published] = ev->err;
        }
        r->published++;
        break;
    case KMQTT_NANO_EV_MESSAGE:
        if (r->messages < MAX_REC && ev->msg->payload_len <= sizeof r->payload[0]) {
            int i = r->messages;
            snprintf(r->topic[i], sizeof r->topic[0], "%.*s", (int)ev->msg->topic_len,
                     ev->msg->topic);
            memcpy(r->payload[i], ev->msg->payload, ev->msg->payload_len);
            r->len[i] = ev->msg->payload_len;
            r->qos[i] = ev->msg->qos;
        }
        r->messages++;
        break;
    default:
        break;
    }
}

/* The caller's memory for one nano client, as a device would have it. */
static uint8_t rx_buf[4096], tx_buf[4096], store_buf[8192];

static void nano_setup(kmqtt_nano_config_t *cfg, kmqtt_nano_buffers_t *b,
                       const kmqtt_transport_t *t, const char *id, rec_t *r)
{
    kmqtt_nano_config_init(cfg);
    cfg->transport = t;
    cfg->host = broker_ip;
    cfg->port = PORT;
    cfg->mqtt.client_id = id;
    cfg->on_event = on_event;
    cfg->user = r;
    memset(b, 0, sizeof *b);
    b->rx = rx_buf;
    b->rx_size = sizeof rx_buf;
    b->tx = tx_buf;
    b->tx_size = sizeof tx_buf;
    b->store = store_buf;
    b->store_size = sizeof store_buf;
    memset(r, 0, sizeof *r);
}

/* Steps the client until *counter reaches n (at most timeout_ms). */
static bool step_until(kmqtt_nano_t *c, const int *counter, int n, uint32_t timeout_ms)
{
    uint32_t t0 = now32();
    while (*counter < n) {
        if ((uint32_t)(now32() - t0) >= timeout_ms) {
            return false;
        }
        if (kmqtt_nano_step(c, now32(), 50) != KMQTT_OK) {
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ tests */

/* Nano subscribes at QoS 2 and publishes QoS 0, 1 and 2 (one payload larger
 * than a TCP segment) to that filter: each comes back once, at the QoS it
 * was published with (MQTT-3.8.4-6), with its payload; QoS 1 and 2 end in a
 * PUBLISHED event for their packet id (PUBACK, MQTT-4.3.2-1; PUBCOMP,
 * MQTT-4.3.3-1). A QoS 2 message from another client (mosquitto_pub over
 * the kernel's stack) arrives once too (MQTT-4.3.3-2: no duplicate). A QoS 1
 * marker published last proves nothing more came before it. */
static void test_nano_qos_0_1_2_both_ways(void **state)
{
    static uint8_t big[3000];
    static rec_t rec;
    kmqtt_mem_t m;
    kmqtt_transport_t t;
    kmqtt_nano_config_t cfg;
    kmqtt_nano_buffers_t b;
    kmqtt_nano_t c;
    kmqtt_nano_sub_t sub = {"nano/qos/#", 2};
    kmqtt_nano_msg_t msg;
    uint16_t id1 = 0, id2 = 0, id3 = 0, sid = 0;
    char needle[96];
    size_t before, i;
    char *pub[] = {"/usr/bin/mosquitto_pub",
                   "-h",
                   NULL,
                   "-p",
                   "1883",
                   "-q",
                   "2",
                   "-i",
                   "nano-ext",
                   "-t",
                   "nano/qos/ext",
                   "-m",
                   "from the kernel side",
                   NULL};
    (void)state;

    for (i = 0; i < sizeof big; i++) {
        big[i] = (uint8_t)(i * 7 + 3);
    }
    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_port_tcp_create(&m, &t), KMQTT_OK);
    nano_setup(&cfg, &b, &t, "nano-qos", &rec);
    assert_int_equal(kmqtt_nano_init(&c, &cfg, &b), KMQTT_OK);

    snprintf(needle, sizeof needle, "from %s:", lwip_ip);
    before = lwip_env_broker_log_count(needle);
    assert_int_equal(kmqtt_nano_connect(&c, now32()), KMQTT_OK);
    assert_true(step_until(&c, &rec.connected, 1, WAIT_MS));
    assert_int_equal(kmqtt_nano_state(&c), KMQTT_NANO_CONNECTED);
    assert_false(rec.session_present); /* clean session: MQTT-3.2.2-1 */
    /* The broker saw it come from lwIP's address, which only the tap reaches. */
    assert_true(lwip_env_broker_log_wait(needle, before + 1, WAIT_MS));

    assert_int_equal(kmqtt_nano_subscribe(&c, &sub, 1, NULL, 0, now32(), &sid), KMQTT_OK);
    assert_true(step_until(&c, &rec.suback, 1, WAIT_MS));
    assert_int_equal(rec.suback_code, 2);

    memset(&msg, 0, sizeof msg);
    msg.topic = "nano/qos/0";
    msg.topic_len = 10;
    msg.payload = (const uint8_t *)"zero";
    msg.payload_len = 4;
    assert_int_equal(kmqtt_nano_publish(&c, &msg, now32(), NULL), KMQTT_OK);
    msg.topic = "nano/qos/1";
    msg.qos = 1;
    msg.payload = (const uint8_t *)"one";
    msg.payload_len = 3;
    assert_int_equal(kmqtt_nano_publish(&c, &msg, now32(), &id1), KMQTT_OK);
    msg.topic = "nano/qos/2";
    msg.qos = 2;
    msg.payload = big;
    msg.payload_len = sizeof big;
    assert_int_equal(kmqtt_nano_publish(&c, &msg, now32(), &id2), KMQTT_OK);
    assert_true(id1 != 0 && id2 != 0 && id1 != id2);
    assert_true(step_until(&c, &rec.published, 2, WAIT_MS));
    assert_true(step_until(&c, &rec.messages, 3, WAIT_MS));
    assert_int_equal(rec.pub_id[0], id1);
    assert_int_equal(rec.pub_err[0], KMQTT_OK);
    assert_int_equal(rec.pub_id[1], id2);
    assert_int_equal(rec.pub_err[1], KMQTT_OK);
    assert_int_equal(kmqtt_nano_inflight(&c), 0);
    assert_int_equal(kmqtt_nano_store_used(&c), 0);

    /* In from another client, at QoS 2, while nano is stepped meanwhile. */
    pub[2] = (char *)broker_ip;
    assert_int_equal(lwip_env_run(pub, WAIT_MS), 0);
    assert_true(step_until(&c, &rec.messages, 4, WAIT_MS));

    msg.topic = "nano/qos/end";
    msg.topic_len = 12;
    msg.qos = 1;
    msg.payload = (const uint8_t *)"end";
    msg.payload_len = 3;
    assert_int_equal(kmqtt_nano_publish(&c, &msg, now32(), &id3), KMQTT_OK);
    assert_true(step_until(&c, &rec.messages, 5, WAIT_MS));
    assert_true(step_until(&c, &rec.published, 3, WAIT_MS));
    assert_int_equal(rec.pub_id[2], id3);

    /* One subscription, one connection: the broker keeps their order, and
     * each came exactly once. */
    assert_int_equal(rec.messages, 5);
    assert_string_equal(rec.topic[0], "nano/qos/0");
    assert_int_equal(rec.qos[0], 0);
    assert_int_equal(rec.len[0], 4);
    assert_memory_equal(rec.payload[0], "zero", 4);
    assert_string_equal(rec.topic[1], "nano/qos/1");
    assert_int_equal(rec.qos[1], 1);
    assert_int_equal(rec.len[1], 3);
    assert_memory_equal(rec.payload[1], "one", 3);
    assert_string_equal(rec.topic[2], "nano/qos/2");
    assert_int_equal(rec.qos[2], 2);
    assert_int_equal(rec.len[2], sizeof big);
    assert_memory_equal(rec.payload[2], big, sizeof big);
    assert_string_equal(rec.topic[3], "nano/qos/ext");
    assert_int_equal(rec.qos[3], 2);
    assert_int_equal(rec.len[3], strlen("from the kernel side"));
    assert_memory_equal(rec.payload[3], "from the kernel side", rec.len[3]);
    assert_string_equal(rec.topic[4], "nano/qos/end");
    assert_int_equal(rec.lost, 0);
    assert_int_equal(rec.connect_failed, 0);

    assert_int_equal(kmqtt_nano_disconnect(&c, 0, WAIT_MS), KMQTT_OK);
    assert_int_equal(kmqtt_nano_state(&c), KMQTT_NANO_IDLE);
    t.destroy(t.ctx);
    assert_int_equal(m.stats.blocks, 0);
}

/* clean_session false; QoS 1 messages are queued, then the broker goes away
 * before they are acknowledged and comes back. Nano alone (no
 * kmqtt_nano_connect from the caller) loses the connection, fails its
 * attempts while the broker is down with growing backoff, reconnects, and
 * sends the stored messages again (MQTT-4.4.0-1) until each has its
 * PUBLISHED event, in order. */
#define RESUME_N 5
static void test_nano_resumes_qos1_after_the_broker_restarts(void **state)
{
    static rec_t rec;
    kmqtt_mem_t m;
    kmqtt_transport_t t;
    kmqtt_nano_config_t cfg;
    kmqtt_nano_buffers_t b;
    kmqtt_nano_t c;
    kmqtt_nano_msg_t msg;
    uint16_t ids[RESUME_N];
    char payload[RESUME_N][16];
    int i;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_port_tcp_create(&m, &t), KMQTT_OK);
    nano_setup(&cfg, &b, &t, "nano-resume", &rec);
    cfg.mqtt.clean_session = false;
    cfg.reconnect_min_ms = 100;
    cfg.reconnect_max_ms = 1000;
    cfg.connect_timeout_ms = 3000;
    assert_int_equal(kmqtt_nano_init(&c, &cfg, &b), KMQTT_OK);
    assert_int_equal(kmqtt_nano_connect(&c, now32()), KMQTT_OK);
    assert_true(step_until(&c, &rec.connected, 1, WAIT_MS));

    memset(&msg, 0, sizeof msg);
    msg.topic = "nano/resume";
    msg.topic_len = 11;
    msg.qos = 1;
    for (i = 0; i < RESUME_N; i++) {
        snprintf(payload[i], sizeof payload[i], "resume %d", i);
        msg.payload = (const uint8_t *)payload[i];
        msg.payload_len = strlen(payload[i]);
        assert_int_equal(kmqtt_nano_publish(&c, &msg, now32(), &ids[i]), KMQTT_OK);
    }
    assert_int_equal(kmqtt_nano_inflight(&c), RESUME_N);

    lwip_env_broker_stop();
    /* Down until at least two attempts failed (the second after a backoff). */
    assert_true(step_until(&c, &rec.lost, 1, WAIT_MS));
    assert_true(step_until(&c, &rec.connect_failed, 2, WAIT_MS));
    assert_int_equal(rec.published, 0);
    assert_int_equal(kmqtt_nano_inflight(&c), RESUME_N);
    assert_int_equal(lwip_env_broker_start(broker_ip, PORT), 0);

    assert_true(step_until(&c, &rec.connected, 2, 20000u));
    assert_true(step_until(&c, &rec.published, RESUME_N, 20000u));
    print_message("resumed after %d failed attempts; %d PUBLISHED events\n", rec.connect_failed,
                  rec.published);
    for (i = 0; i < RESUME_N; i++) {
        assert_int_equal(rec.pub_id[i], ids[i]);
        assert_int_equal(rec.pub_err[i], KMQTT_OK);
    }
    assert_int_equal(rec.published, RESUME_N);
    assert_int_equal(kmqtt_nano_inflight(&c), 0);
    assert_int_equal(kmqtt_nano_store_used(&c), 0);
    assert_int_equal(kmqtt_nano_state(&c), KMQTT_NANO_CONNECTED);

    assert_int_equal(kmqtt_nano_disconnect(&c, 0, WAIT_MS), KMQTT_OK);
    t.destroy(t.ctx);
    assert_int_equal(m.stats.blocks, 0);
}

/* One wake of the field device: connect, publish QoS 1, wait for its
 * PUBLISHED, disconnect. */
static void wake_cycle(kmqtt_nano_t *c, rec_t *r, int i)
{
    kmqtt_nano_msg_t msg;
    char payload[32];
    uint16_t id = 0;
    int connected = r->connected, published = r->published;
    kmqtt_err_t e;

    e = kmqtt_nano_connect(c, now32());
    if (e != KMQTT_OK) {
        print_error("cycle %d: connect: %s\n", i, kmqtt_strerror(e));
        fail();
    }
    if (!step_until(c, &r->connected, connected + 1, WAIT_MS)) {
        print_error("cycle %d: no CONNACK (%d failed attempts, %d lost)\n", i, r->connect_failed,
                    r->lost);
        fail();
    }
    memset(&msg, 0, sizeof msg);
    snprintf(payload, sizeof payload, "cycle %d", i);
    msg.topic = "nano/cycle";
    msg.topic_len = 10;
    msg.qos = 1;
    msg.payload = (const uint8_t *)payload;
    msg.payload_len = strlen(payload);
    assert_int_equal(kmqtt_nano_publish(c, &msg, now32(), &id), KMQTT_OK);
    if (!step_until(c, &r->published, published + 1, WAIT_MS)) {
        print_error("cycle %d: no PUBACK\n", i);
        fail();
    }
    assert_int_equal(kmqtt_nano_disconnect(c, 0, WAIT_MS), KMQTT_OK);
    assert_int_equal(kmqtt_nano_state(c), KMQTT_NANO_IDLE);
}

/* 1,000 wake cycles of one nano client on one transport: after each, the
 * transport's heap, the lwIP sockets, the active TCP PCBs and this
 * process's threads are back at the baseline; no connection was lost or
 * refused; TIME_WAIT stays with the broker, not in lwIP. */
static void test_nano_1000_wake_cycles_return_everything(void **state)
{
    static rec_t rec;
    kmqtt_mem_t m;
    kmqtt_transport_t t;
    kmqtt_nano_config_t cfg;
    kmqtt_nano_buffers_t b;
    kmqtt_nano_t c;
    lwip_env_baseline_t base;
    lwip_pcbs_t before, after;
    uint64_t t0, ms;
    int i;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_port_tcp_create(&m, &t), KMQTT_OK);
    nano_setup(&cfg, &b, &t, "nano-cycles", &rec);
    assert_int_equal(kmqtt_nano_init(&c, &cfg, &b), KMQTT_OK);
    lwip_env_pcbs(&before);
    wake_cycle(&c, &rec, 1);
    (void)lwip_env_wait_tcp_active(before.tcp_active, 5000u);
    lwip_env_take_baseline(&m, &base);
    print_message("transport: %zu bytes in %zu blocks between cycles; nano: %zu bytes of "
                  "state, %zu of buffers\n",
                  base.bytes, base.blocks, sizeof c,
                  sizeof rx_buf + sizeof tx_buf + sizeof store_buf);

    t0 = lwip_env_now_ms();
    for (i = 2; i <= CYCLES; i++) {
        wake_cycle(&c, &rec, i);
        assert_true(lwip_env_at_baseline(&m, &base, true, "nano wake", i));
    }
    ms = lwip_env_now_ms() - t0;
    lwip_env_pcbs(&after);
    print_message("%d nano wake cycles in %llu ms (%.0f cycles/s), TIME_WAIT PCBs in lwIP: "
                  "%d before, %d after\n",
                  CYCLES - 1, (unsigned long long)ms, (CYCLES - 1) * 1000.0 / (double)(ms ? ms : 1),
                  before.tcp_time_wait, after.tcp_time_wait);
    assert_int_equal(rec.connected, CYCLES);
    assert_int_equal(rec.published, CYCLES);
    assert_int_equal(rec.lost, 0);
    assert_int_equal(rec.connect_failed, 0);
    /* Same bound as test_lwip_client: the broker closes first after
     * DISCONNECT, so lwIP holds no TIME_WAIT unless a FIN came later than
     * KMQTT_LWIP_CLOSE_WAIT_MS on a loaded machine. */
    assert_true(after.tcp_time_wait - before.tcp_time_wait < CYCLES / 20);
    /* Every DISCONNECT reached the broker before the close (the will is
     * discarded, MQTT-3.14.4-3): "disconnected.", never "closed its
     * connection". */
    assert_true(lwip_env_broker_log_wait("Client nano-cycles disconnected.", CYCLES, WAIT_MS));
    assert_int_equal(lwip_env_broker_log_count("Client nano-cycles closed its connection"), 0);

    t.destroy(t.ctx);
    assert_int_equal(m.stats.blocks, 0);
}

/* ------------------------------------------------------------------ main */

static int group_setup(void **state)
{
    (void)state;
    if (lwip_env_group_setup("test_lwip_nano", PORT) != 0) {
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
        cmocka_unit_test(test_nano_qos_0_1_2_both_ways),
        cmocka_unit_test(test_nano_resumes_qos1_after_the_broker_restarts),
        cmocka_unit_test(test_nano_1000_wake_cycles_return_everything),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
