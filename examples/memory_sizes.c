/*
 * Prints, as a Markdown table, the bytes a client needs in options.memory
 * (kmqtt_client_memory_size) for a few configurations, on this machine and
 * port. docs/no-malloc.md shows its output; run it on the target (or with
 * the target's port) for that target's numbers.
 *
 *   build/<dir>/bin/memory_sizes
 */
#include <stdio.h>

#include "kmqtt/client.h"

typedef struct size_case {
    const char *name;
    kmqtt_version_t version;
    size_t rx, tx, store;
    uint16_t inflight, subs, filter_len;
    bool debug;
} size_case_t;

static const size_case_t cases[] = {
    {"sensor: 3.1.1, 512 B buffers, 4 subs", KMQTT_V311, 512, 512, 1024, 4, 4, 32, false},
    {"RT-Thread package defaults", KMQTT_V311, 2048, 2048, 4096, 10, 16, 96, false},
    {"library defaults", KMQTT_V311, 4096, 4096, 8192, 20, 32, 128, false},
    {"library defaults, 5.0", KMQTT_V5, 4096, 4096, 8192, 20, 32, 128, false},
    {"library defaults, mem_debug", KMQTT_V311, 4096, 4096, 8192, 20, 32, 128, true},
};

int main(void)
{
    size_t i;

    printf("| configuration | rx | tx | store | inflight | subs x filter | bytes |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const size_case_t *c = &cases[i];
        kmqtt_client_options_t o;

        kmqtt_client_options_init(&o);
        o.host = "broker.local";
        o.client_id = "device-0001";
        o.version = c->version;
        o.rx_buffer_size = c->rx;
        o.tx_buffer_size = c->tx;
        o.store_size = c->store;
        o.max_inflight = c->inflight;
        o.max_subscriptions = c->subs;
        o.max_filter_len = c->filter_len;
        o.mem_debug = c->debug;
        printf("| %s | %lu | %lu | %lu | %u | %u x %u | %lu |\n", c->name, (unsigned long)c->rx,
               (unsigned long)c->tx, (unsigned long)c->store, (unsigned)c->inflight,
               (unsigned)c->subs, (unsigned)c->filter_len,
               (unsigned long)kmqtt_client_memory_size(&o));
    }
    printf("\nhost \"broker.local\", client id \"device-0001\", no user/password/will;"
           " sizeof(void *) = %lu\n",
           (unsigned long)sizeof(void *));
    return 0;
}
