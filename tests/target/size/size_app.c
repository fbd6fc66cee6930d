/*
 * The smallest useful kmqtt application (make size): create a client with
 * the default options, connect, subscribe, publish, disconnect. Linked with
 * --gc-sections its kmqtt bytes are what a firmware image pays. Run under
 * qemu it prints the RAM the default configuration takes from the heap.
 * The transport refuses to connect (there is no network in the emulator), so
 * the calls fail at run time; the code they need is linked all the same.
 */
#include <stdio.h>

#include "kmqtt/client.h"

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

static kmqtt_err_t t_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    (void)ctx;
    (void)events;
    (void)timeout_ms;
    *ready = 0;
    return KMQTT_ENOTCONN;
}

static void t_none(void *ctx)
{
    (void)ctx;
}

static void on_msg(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    (void)c;
    (void)ctx;
    (void)msg;
}

int main(void)
{
    kmqtt_mem_t heap;
    kmqtt_mem_stats_t st;
    kmqtt_client_options_t o;
    kmqtt_transport_t tr = {NULL, t_open, t_send, t_recv, t_wait, t_none, t_none, t_none};
    kmqtt_client_t *c;
    kmqtt_sub_request_t sub = {"sensors/+/cmd", 1, on_msg, NULL};
    kmqtt_subscribe_result_t granted;
    kmqtt_publish_result_t pub;

    if (kmqtt_mem_init(&heap, NULL) != KMQTT_OK)
        return 1;
    kmqtt_client_options_init(&o);
    o.host = "192.0.2.1";
    o.client_id = "dev-0001";
    o.transport = &tr;
    o.mem = &heap;
    if (kmqtt_client_create(&o, &c) != KMQTT_OK)
        return 1;
    kmqtt_mem_get_stats(&heap, &st);
    printf("default client: %u bytes of heap in %u blocks\n", (unsigned)st.bytes,
           (unsigned)st.blocks);
    (void)kmqtt_connect(c, 1000, NULL);
    (void)kmqtt_subscribe(c, &sub, 1, 1000, NULL, &granted);
    (void)kmqtt_publish(c, "sensors/1/temp", "21.5", 4, 1, false, NULL, &pub);
    (void)kmqtt_run(c, 0);
    (void)kmqtt_disconnect(c, NULL);
    kmqtt_client_destroy(c);
    kmqtt_mem_get_stats(&heap, &st);
    printf("after destroy: %u bytes in %u blocks\n", (unsigned)st.bytes, (unsigned)st.blocks);
    return st.bytes == 0 ? 0 : 1;
}
