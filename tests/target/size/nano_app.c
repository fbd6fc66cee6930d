/*
 * The smallest useful nano application (make size, ctest nano.cross): every
 * public function of include/kmqtt/nano.h is called, so linked with
 * --gc-sections the bytes kept from src/nano, src/codec and src/common are
 * what a firmware image really pays for the nano client. Buffers are the
 * "typical" ones docs/nano.md sizes: rx 512, tx 512, store 2048.
 * The transport refuses to connect (no network in the emulator), so the calls
 * fail at run time; the code they need is linked all the same. Its functions
 * are the application's, not kmqtt's (scripts/size.sh counts only the
 * library's objects).
 */
#include <stdio.h>

#include "kmqtt/nano.h"

#define RX_SIZE    512
#define TX_SIZE    512
#define STORE_SIZE 2048

static uint8_t rx[RX_SIZE];
static uint8_t tx[TX_SIZE];
static uint8_t store[STORE_SIZE];
static kmqtt_nano_t client;
static kmqtt_nano_config_t cfg;
static volatile uint32_t ticks;
static unsigned events;

static kmqtt_err_t t_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    return KMQTT_ECONNREFUSED;
}

static long t_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return KMQTT_ENOTCONN;
}

static long t_recv(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return KMQTT_ENOTCONN;
}

static kmqtt_err_t t_wait(void *ctx, unsigned ev, uint32_t timeout_ms, unsigned *ready)
{
    (void)ctx;
    (void)ev;
    ticks += timeout_ms;
    *ready = 0;
    return KMQTT_OK;
}

static void t_none(void *ctx)
{
    (void)ctx;
}

static const kmqtt_transport_t tr = {NULL, t_open, t_send, t_recv, t_wait, t_none, t_none, t_none};

static void on_event(void *user, const kmqtt_nano_event_t *ev)
{
    (void)user;
    events += (unsigned)ev->type;
}

int main(void)
{
    static const kmqtt_nano_buffers_t bufs = {rx, sizeof rx, tx, sizeof tx, store, sizeof store};
    static const kmqtt_nano_sub_t subs[2] = {{"sensors/+/cmd", 1}, {"fw/#", 2}};
    static const char *const unsubs[1] = {"fw/#"};
    kmqtt_nano_msg_t msg = {0};
    uint16_t id = 0;
    uint32_t next = 0;
    uint8_t q;

    kmqtt_nano_config_init(&cfg);
    cfg.transport = &tr;
    cfg.host = "192.0.2.1";
    cfg.port = 1883;
    cfg.mqtt.client_id = "dev-0001";
    cfg.mqtt.clean_session = false;
    cfg.mqtt.will_topic = "dev-0001/status";
    cfg.mqtt.will_payload = (const uint8_t *)"offline";
    cfg.mqtt.will_payload_len = 7;
    cfg.on_event = on_event;
#if KMQTT_CFG_V5
    cfg.mqtt.version = KMQTT_V5;
#endif
    if (kmqtt_nano_init(&client, &cfg, &bufs) != KMQTT_OK)
        return 1;
    (void)kmqtt_nano_connect(&client, ticks);
    (void)kmqtt_nano_poll(&client, ticks, &next);
    (void)kmqtt_nano_subscribe(&client, subs, 2, NULL, 0, ticks, &id);
    msg.topic = "sensors/1/temp";
    msg.topic_len = 14;
    msg.payload = (const uint8_t *)"21.5";
    msg.payload_len = 4;
    for (q = 0; q <= 2; q++) {
        msg.qos = q;
        (void)kmqtt_nano_publish(&client, &msg, ticks, &id);
    }
    if (kmqtt_nano_want_write(&client))
        (void)kmqtt_nano_poll(&client, ticks, &next);
    (void)kmqtt_nano_step(&client, ticks, 100);
    (void)kmqtt_nano_unsubscribe(&client, unsubs, 1, ticks, &id);
#if KMQTT_CFG_V5
    (void)kmqtt_nano_auth(&client, 0x19, NULL, 0, ticks);
#endif
    printf("nano: state %d, %u in flight, %u store bytes, events %u\n",
           (int)kmqtt_nano_state(&client), (unsigned)kmqtt_nano_inflight(&client),
           (unsigned)kmqtt_nano_store_used(&client), events);
    (void)kmqtt_nano_disconnect(&client, 0, 1000);
    return 0;
}
