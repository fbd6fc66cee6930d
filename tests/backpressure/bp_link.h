/*
 * The device's end of a slow link, for the backpressure matrix: the port's
 * own TCP transport, with the socket's send buffer made small once it is
 * connected (a modem's or lwIP's few kilobytes rather than Linux's
 * megabytes), and counters of what the socket refused. Everything else is
 * passed through unchanged; TLS and WebSocket stack on it as on plain TCP.
 *
 * The counters tell a cell that backpressure really happened: a send that
 * took less than it was offered, or nothing ("would block").
 */
#ifndef KMQTT_BP_LINK_H
#define KMQTT_BP_LINK_H

#include <stdint.h>

#include "kmqtt/port.h"

typedef struct bp_link_stats {
    uint64_t sends;       /* send() calls */
    uint64_t would_block; /* ... that took nothing */
    uint64_t partial;     /* ... that took some but not all */
    uint64_t bytes;       /* bytes taken */
    int sndbuf;           /* the socket's send buffer after open (as the kernel reports it) */
} bp_link_stats_t;

/* Creates the link over a new port TCP transport from m; *stats (the
 * caller's, must outlive the transport) is zeroed and updated by it.
 * KMQTT_OK, KMQTT_ENOMEM or the TCP create error. */
kmqtt_err_t bp_link_create(kmqtt_mem_t *m, bp_link_stats_t *stats, kmqtt_transport_t *out);

#endif
