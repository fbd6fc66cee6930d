/*
 * kmqtt-ws-bench: QoS 0 throughput and connect time over WebSocket vs plain
 * TCP against a local broker. Not a test (nothing is asserted); numbers for
 * docs/websocket.md.
 *
 *   kmqtt-ws-bench tcp|ws <port> <count> <payload bytes> [out]
 *
 * The client subscribes to its own topic at QoS 0, publishes count messages
 * (batched) and stops the clock when it has received all of them: each
 * message crosses the transport twice (out and back through the broker).
 * With "out" it does not subscribe: the clock stops when a QoS 1 publish
 * sent after the others is acknowledged (the client-to-broker direction).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmqtt/client.h"
#include "kmqtt/transport.h"

static long got;
static kmqtt_mem_t mem; /* the transports' memory (malloc) */

static void on_msg(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    (void)c;
    (void)m;
    (void)ctx;
    got++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static kmqtt_client_t *make(bool ws, uint16_t port, size_t bufs)
{
    kmqtt_client_options_t o;
    kmqtt_transport_t tcp, w;
    kmqtt_client_t *c = NULL;
    kmqtt_ws_options_t wo;

    kmqtt_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = port;
    o.on_message = on_msg;
    o.publish_batch = true;
    o.rx_buffer_size = bufs;
    o.tx_buffer_size = bufs;
    if (ws) {
        memset(&wo, 0, sizeof(wo));
        wo.buffer_size = 16384;
        wo.max_frame = 1u << 20;
        if (kmqtt_mem_init(&mem, NULL) != KMQTT_OK || kmqtt_port_tcp_create(&mem, &tcp) != KMQTT_OK)
            return NULL;
        if (kmqtt_ws_create(&mem, &wo, &tcp, &w) != KMQTT_OK) {
            tcp.destroy(tcp.ctx);
            return NULL;
        }
        o.transport = &w;
    }
    if (kmqtt_client_create(&o, &c) != KMQTT_OK)
        return NULL;
    return c;
}

int main(int argc, char **argv)
{
    bool ws;
    uint16_t port;
    long count, i;
    size_t size;
    char *payload;
    kmqtt_client_t *c;
    kmqtt_sub_request_t sub;
    double t0, t1, conn = 0;
    int k;

    bool out = argc == 6 && strcmp(argv[5], "out") == 0;

    if (argc != 5 && !out) {
        fprintf(stderr, "usage: %s tcp|ws <port> <count> <payload bytes>\n", argv[0]);
        return 2;
    }
    ws = strcmp(argv[1], "ws") == 0;
    port = (uint16_t)atoi(argv[2]);
    count = atol(argv[3]);
    size = (size_t)atol(argv[4]);
    payload = calloc(1, size + 1);
    c = make(ws, port, 65536 + size);
    if (c == NULL || payload == NULL)
        return 1;
    /* connect time: mean of 10 connect + CONNACK */
    for (k = 0; k < 10; k++) {
        t0 = now_s();
        if (kmqtt_connect(c, 5000, NULL) != KMQTT_OK) {
            fprintf(stderr, "connect failed\n");
            return 1;
        }
        conn += now_s() - t0;
        kmqtt_disconnect(c, NULL);
    }
    if (kmqtt_connect(c, 5000, NULL) != KMQTT_OK)
        return 1;
    memset(&sub, 0, sizeof(sub));
    sub.filter = "bench/ws";
    if (!out && kmqtt_subscribe(c, &sub, 1, 5000, NULL, NULL) != KMQTT_OK)
        return 1;
    t0 = now_s();
    for (i = 0; i < count; i++) {
        while (kmqtt_publish(c, "bench/ws", payload, size, 0, false, NULL, NULL) != KMQTT_OK)
            kmqtt_run(c, 0);
        if (i % 64 == 0)
            kmqtt_run(c, 0);
    }
    if (out) {
        kmqtt_publish_result_t r;
        if (kmqtt_publish(c, "bench/ws", "end", 3, 1, false, NULL, &r) != KMQTT_OK ||
            kmqtt_publish_wait(c, r.packet_id, 60000, NULL) != KMQTT_OK)
            return 1;
        got = count;
    }
    while (got < count && now_s() - t0 < 60)
        kmqtt_run(c, 100);
    t1 = now_s();
    printf("%s%s payload=%zu count=%ld received=%ld time=%.3fs rate=%.0f msg/s %.1f MB/s "
           "connect=%.2fms\n",
           ws ? "ws " : "tcp", out ? " out" : " loop", size, count, got, t1 - t0,
           (double)got / (t1 - t0), (double)got * (double)size / (t1 - t0) / 1e6, conn / 10 * 1000);
    kmqtt_client_destroy(c);
    free(payload);
    return got == count ? 0 : 1;
}
