/*
 * The no-malloc proof program: linked with malloc, calloc, realloc and free
 * wrapped to __wrap_ symbols that exist nowhere, so the link fails if this
 * file or any kmqtt object (built with KMQTT_NO_MALLOC, POSIX port) refers to
 * the allocator. The broker harness is a shared library: its own malloc
 * calls are bound at run time and not touched by --wrap (it is test
 * scaffolding, not kmqtt). Likewise libc may allocate inside pthread_create
 * or getaddrinfo: that is libc's own reference, not ours.
 *
 * It creates a client in a static buffer, connects to a private mosquitto,
 * subscribes, publishes QoS 0 and 1 to itself on the background thread,
 * disconnects and destroys, and checks that every arena block came back.
 * Exit status 0 = all of that worked.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "kmqtt/client.h"

#define WAIT_MS 10000u

static uint64_t memory[32768 / sizeof(uint64_t)];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int received;

static void on_message(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    (void)c;
    (void)ctx;
    if (msg->payload.len == 2 && memcmp(msg->payload.ptr, "hi", 2) == 0) {
        pthread_mutex_lock(&lock);
        received++;
        pthread_mutex_unlock(&lock);
    }
}

static int count(void)
{
    int n;
    pthread_mutex_lock(&lock);
    n = received;
    pthread_mutex_unlock(&lock);
    return n;
}

#define CHECK(what, expr)                                                                          \
    do {                                                                                           \
        kmqtt_err_t e_ = (expr);                                                                   \
        if (e_ != KMQTT_OK) {                                                                      \
            fprintf(stderr, "nomalloc: %s: %s\n", what, kmqtt_strerror(e_));                       \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    kmqtt_publish_result_t pr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t sub;
    const kmqtt_mem_arena_t *arena = (const kmqtt_mem_arena_t *)(void *)memory;
    broker_t *b;
    uint16_t id = 0;
    size_t need;
    int waited, rc = 1;

    b = broker_start(NULL);
    if (b == NULL)
        return 1;
    kmqtt_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = broker_port(b);
    o.client_id = "nomalloc";
    o.rx_buffer_size = 1024;
    o.tx_buffer_size = 1024;
    o.store_size = 2048;
    o.max_inflight = 4;
    o.max_subscriptions = 4;
    o.max_filter_len = 32;
    o.on_message = on_message;

    /* Without memory a no-malloc build has nowhere to take it from. */
    if (kmqtt_client_create(&o, &c) != KMQTT_EINVAL) {
        fprintf(stderr, "nomalloc: create without memory was not refused\n");
        goto out;
    }
    need = kmqtt_client_memory_size(&o);
    printf("nomalloc: the client needs %lu bytes of the %lu-byte buffer\n", (unsigned long)need,
           (unsigned long)sizeof memory);
    if (need == 0 || need > sizeof memory)
        goto out;
    o.memory = memory;
    o.memory_size = need;
    CHECK("create", kmqtt_client_create(&o, &c));
    CHECK("connect", kmqtt_connect(c, WAIT_MS, NULL));
    CHECK("start", kmqtt_start(c));
    memset(&sub, 0, sizeof sub);
    sub.filter = "nomalloc/#";
    sub.qos = 1;
    CHECK("subscribe", kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, NULL));
    CHECK("publish 0", kmqtt_publish(c, "nomalloc/a", "hi", 2, 0, false, NULL, NULL));
    CHECK("publish 1", kmqtt_publish(c, "nomalloc/b", "hi", 2, 1, false, NULL, &pr));
    id = pr.packet_id;
    CHECK("publish wait", kmqtt_publish_wait(c, id, WAIT_MS, NULL));
    /* Bounded poll: the handler runs on the client's thread. */
    for (waited = 0; count() < 2 && waited < (int)WAIT_MS; waited += 10)
        kmqtt_port_sleep_ms(10);
    if (count() != 2) {
        fprintf(stderr, "nomalloc: received %d of 2 messages\n", count());
        goto out;
    }
    CHECK("disconnect", kmqtt_disconnect(c, NULL));
    kmqtt_client_destroy(c);
    c = NULL;
    if (arena->used != 0 || arena->peak != arena->size) {
        fprintf(stderr, "nomalloc: arena used %lu (want 0), peak %lu of %lu\n",
                (unsigned long)arena->used, (unsigned long)arena->peak, (unsigned long)arena->size);
        goto out;
    }
    printf("nomalloc: connected, subscribed, 2 messages back, every block returned\n");
    rc = 0;
out:
    kmqtt_client_destroy(c);
    broker_stop(b);
    return rc;
}
