/*
 * A fault-injecting TCP proxy for integration tests: it listens on a free
 * port of 127.0.0.1, connects every accepted client to 127.0.0.1:<upstream>
 * (the test broker) and forwards bytes both ways, breaking the link on
 * command: a drop after some bytes, a drop at random, 1-byte fragments,
 * latency, or a blackhole.
 *
 * It runs on its own thread inside the test process, so a test can change
 * faults while a client is mid-stream; every setter is thread-safe and takes
 * effect at once (the thread is woken): it applies to every byte the proxy
 * reads after the setter returned. fault_proxy_stop closes every socket
 * it opened and joins the thread, so descriptor and thread counts return to
 * what they were before fault_proxy_start.
 */
#ifndef KMQTT_IT_FAULT_PROXY_H
#define KMQTT_IT_FAULT_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fault_proxy fault_proxy_t;

typedef struct fault_proxy_stats {
    unsigned accepted;   /* client connections accepted */
    unsigned drops;      /* connections the proxy closed as a fault */
    unsigned active;     /* connection pairs open now */
    uint64_t bytes_up;   /* forwarded client -> upstream */
    uint64_t bytes_down; /* forwarded upstream -> client */
} fault_proxy_stats_t;

/* Starts a proxy to 127.0.0.1:upstream_port. seed drives every random
 * choice (print it, so a failing run can be repeated). NULL on failure, with
 * a message on stderr. */
fault_proxy_t *fault_proxy_start(uint16_t upstream_port, uint64_t seed);
/* The port clients connect to. */
uint16_t fault_proxy_port(const fault_proxy_t *p);
/* Closes every connection and the listener, joins the thread, frees p.
 * NULL is a no-op. */
void fault_proxy_stop(fault_proxy_t *p);

/* Each connection is dropped (both sockets closed) once it has forwarded a
 * number of bytes, counted over both directions, drawn uniformly from
 * [min_bytes, max_bytes] when it is accepted; min == max gives exactly that
 * many. Connections already open draw a budget counted from now. A drop may
 * cut a packet in half, as a real network does. 0, 0 turns it off. */
void fault_proxy_drop_after(fault_proxy_t *p, uint64_t min_bytes, uint64_t max_bytes);
/* Each chunk read from either side is, with this probability, the last: the
 * connection is dropped after a random part of it has been forwarded.
 * 0 turns it off. */
void fault_proxy_drop_chance(fault_proxy_t *p, double per_chunk);
/* Drops every open connection now (counted as drops). */
void fault_proxy_drop_now(fault_proxy_t *p);
/* Forward one byte per send() (sockets have TCP_NODELAY), one byte per turn
 * of the proxy's loop, so the peer sees packets arrive in pieces. */
void fault_proxy_fragment(fault_proxy_t *p, bool on);
/* Every chunk is held this long before it is forwarded. */
void fault_proxy_delay(fault_proxy_t *p, unsigned ms);
/* Stops forwarding in both directions without closing anything: the
 * connection is silent, like a cable pulled somewhere along the path. New
 * connections are still accepted (the kernel would queue them anyway) and
 * are silent too. Lifting it resumes forwarding of what waits in the socket
 * buffers, as TCP retransmission would; call fault_proxy_drop_now first to
 * model a path whose state was lost (a NAT that forgot the connection). */
void fault_proxy_blackhole(fault_proxy_t *p, bool on);

void fault_proxy_get_stats(fault_proxy_t *p, fault_proxy_stats_t *s);

#endif
