/*
 * nano_sensor — the microcontroller client (kmqtt/nano.h) as firmware uses
 * it, on a POSIX host: one loop, no threads, no allocation by the client,
 * three static buffers and a static configuration.
 *
 * It connects (session kept, so QoS 1 readings survive a reconnect),
 * subscribes to its command topic, publishes a reading at QoS 1 every
 * second and prints every event. A command "stop" on its command topic, or
 * -n readings acknowledged, ends it with a synchronous disconnect.
 *
 *   nano_sensor [-h host] [-p port] [-n readings] [-i device-id]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmqtt/nano.h"
#include "kmqtt/port.h"

static uint8_t rx[512], tx[512], store[1024];
static kmqtt_nano_config_t cfg;
static kmqtt_nano_t client;
static char cmd_topic[64], data_topic[64];
static int acked, want = 5;
static bool stop;

static uint32_t now_ms(void)
{
    return (uint32_t)kmqtt_port_now_ms(); /* wraps after 49 days: nano compares wrap-safely */
}

static void on_event(void *user, const kmqtt_nano_event_t *ev)
{
    (void)user;
    switch (ev->type) {
    case KMQTT_NANO_EV_CONNECTED: {
        printf("connected (session %s)\n", ev->session_present ? "resumed" : "new");
        /* nano remembers no subscriptions: make them again on a new session. */
        if (!ev->session_present) {
            kmqtt_nano_sub_t sub = {cmd_topic, 1};
            kmqtt_err_t err = kmqtt_nano_subscribe(&client, &sub, 1, NULL, 0, now_ms(), NULL);
            if (err != KMQTT_OK)
                printf("subscribe: %s\n", kmqtt_strerror(err));
        }
        break;
    }
    case KMQTT_NANO_EV_CONNECT_FAILED:
        printf("connect failed: %s (code %u)\n", kmqtt_strerror(ev->err), ev->reason_code);
        break;
    case KMQTT_NANO_EV_LOST:
        printf("connection lost: %s; reconnecting\n", kmqtt_strerror(ev->err));
        break;
    case KMQTT_NANO_EV_SUBACK:
        printf("subscribed to %s (granted QoS %u)\n", cmd_topic, ev->count > 0 ? ev->codes[0] : 0);
        break;
    case KMQTT_NANO_EV_PUBLISHED:
        printf("reading %u acknowledged\n", ev->packet_id);
        acked++;
        break;
    case KMQTT_NANO_EV_MESSAGE:
        printf("command: %.*s\n", (int)ev->msg->payload_len, (const char *)ev->msg->payload);
        if (ev->msg->payload_len == 4 && memcmp(ev->msg->payload, "stop", 4) == 0)
            stop = true;
        break;
    default:
        break;
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *id = "nano-sensor";
    uint16_t port = 1883;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:n:i:")) != -1) {
        if (opt == 'h')
            host = optarg;
        else if (opt == 'p')
            port = (uint16_t)atoi(optarg);
        else if (opt == 'n')
            want = atoi(optarg);
        else if (opt == 'i')
            id = optarg;
        else
            return 2;
    }
    snprintf(cmd_topic, sizeof cmd_topic, "devices/%s/cmd", id);
    snprintf(data_topic, sizeof data_topic, "devices/%s/temp", id);

    /* The TCP transport is the port's (it allocates its one block from m);
     * the nano client itself takes nothing. */
    kmqtt_mem_t m;
    kmqtt_transport_t tcp;
    if (kmqtt_mem_init(&m, NULL) != KMQTT_OK || kmqtt_port_tcp_create(&m, &tcp) != KMQTT_OK)
        return 1;

    kmqtt_nano_config_init(&cfg);
    cfg.transport = &tcp;
    cfg.host = host;
    cfg.port = port;
    cfg.mqtt.client_id = id;
    cfg.mqtt.clean_session = false;
    cfg.mqtt.keepalive_s = 30;
    cfg.on_event = on_event;
    kmqtt_nano_buffers_t bufs = {rx, sizeof rx, tx, sizeof tx, store, sizeof store};
    kmqtt_err_t err = kmqtt_nano_init(&client, &cfg, &bufs);
    if (err == KMQTT_OK)
        err = kmqtt_nano_connect(&client, now_ms());
    if (err != KMQTT_OK) {
        printf("connect: %s\n", kmqtt_strerror(err));
        tcp.destroy(tcp.ctx);
        return 1;
    }
    printf("sizeof(kmqtt_nano_t) = %zu bytes\n", sizeof client);

    uint32_t next_reading = now_ms();
    int sent = 0;
    while (!stop && acked < want) {
        if (kmqtt_nano_state(&client) == KMQTT_NANO_CONNECTED && sent < want &&
            (int32_t)(now_ms() - next_reading) >= 0) {
            char payload[32];
            int n = snprintf(payload, sizeof payload, "{\"t\":%d.%d}", 20 + sent % 5, sent % 10);
            kmqtt_nano_msg_t msg = {0};
            msg.topic = data_topic;
            msg.topic_len = (uint16_t)strlen(data_topic);
            msg.qos = 1;
            msg.payload = (const uint8_t *)payload;
            msg.payload_len = (size_t)n;
            /* ENOBUFS / ELIMIT: no room now; the loop tries again later. */
            if (kmqtt_nano_publish(&client, &msg, now_ms(), NULL) == KMQTT_OK) {
                sent++;
                next_reading = now_ms() + 1000u;
            }
        }
        kmqtt_nano_step(&client, now_ms(), 200); /* poll, then sleep until due or readable */
    }
    err = kmqtt_nano_disconnect(&client, 0, 2000);
    printf("disconnected: %s; %d readings acknowledged, %zu still in the store\n",
           kmqtt_strerror(err), acked, kmqtt_nano_inflight(&client));
    tcp.destroy(tcp.ctx);
    return 0;
}
