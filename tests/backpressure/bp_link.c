/*
 * The slow link (see bp_link.h). The port's TCP transport keeps its socket
 * private, so after open() the link finds it among this process's
 * descriptors: the one TCP socket whose peer is the loopback port just
 * connected to (the peer's own sockets have that port as their local one).
 */
#include "bp_link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* The kernel doubles it: about 8 KiB queued before send() refuses. */
#define LINK_SNDBUF 4096

typedef struct link {
    kmqtt_mem_t *mem;
    kmqtt_transport_t tcp;
    bp_link_stats_t *st;
} link_t;

/* The descriptor of our connected socket to 127.0.0.1:port, or -1. */
static int find_socket(uint16_t port)
{
    struct rlimit rl;
    int fd, found = -1, max = 4096;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
        max = (int)rl.rlim_cur;
    for (fd = 3; fd < max; fd++) {
        struct sockaddr_in a;
        socklen_t al = sizeof(a);
        int type = 0;
        socklen_t tl = sizeof(type);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM)
            continue;
        if (getpeername(fd, (struct sockaddr *)&a, &al) != 0 || a.sin_family != AF_INET ||
            a.sin_addr.s_addr != htonl(INADDR_LOOPBACK) || ntohs(a.sin_port) != port)
            continue;
        if (found >= 0)
            return -1; /* two: not sure which is ours */
        found = fd;
    }
    return found;
}

static kmqtt_err_t link_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    link_t *l = ctx;
    int fd, v = LINK_SNDBUF;
    socklen_t vl = sizeof(v);
    kmqtt_err_t e = l->tcp.open(l->tcp.ctx, host, port, timeout_ms);

    if (e != KMQTT_OK)
        return e;
    fd = find_socket(port);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &vl) != 0) {
        l->tcp.close(l->tcp.ctx);
        return KMQTT_EIO;
    }
    l->st->sndbuf = v;
    return KMQTT_OK;
}

static long link_send(void *ctx, const void *buf, size_t len)
{
    link_t *l = ctx;
    long n = l->tcp.send(l->tcp.ctx, buf, len);

    l->st->sends++;
    if (n == 0)
        l->st->would_block++;
    else if (n > 0 && (size_t)n < len)
        l->st->partial++;
    if (n > 0)
        l->st->bytes += (uint64_t)n;
    return n;
}

static long link_recv(void *ctx, void *buf, size_t len)
{
    link_t *l = ctx;
    return l->tcp.recv(l->tcp.ctx, buf, len);
}

static kmqtt_err_t link_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    link_t *l = ctx;
    return l->tcp.wait(l->tcp.ctx, events, timeout_ms, ready);
}

static void link_wake(void *ctx)
{
    link_t *l = ctx;
    l->tcp.wake(l->tcp.ctx);
}

static void link_close(void *ctx)
{
    link_t *l = ctx;
    l->tcp.close(l->tcp.ctx);
}

static void link_destroy(void *ctx)
{
    link_t *l = ctx;
    l->tcp.destroy(l->tcp.ctx);
    kmqtt_mem_free(l->mem, l);
}

kmqtt_err_t bp_link_create(kmqtt_mem_t *m, bp_link_stats_t *stats, kmqtt_transport_t *out)
{
    link_t *l = kmqtt_mem_alloc(m, "bp_link", sizeof(*l));
    kmqtt_err_t e;

    if (l == NULL)
        return KMQTT_ENOMEM;
    memset(stats, 0, sizeof(*stats));
    l->mem = m;
    l->st = stats;
    e = kmqtt_port_tcp_create(m, &l->tcp);
    if (e != KMQTT_OK) {
        kmqtt_mem_free(l->mem, l);
        return e;
    }
    out->ctx = l;
    out->open = link_open;
    out->send = link_send;
    out->recv = link_recv;
    out->wait = link_wait;
    out->wake = link_wake;
    out->close = link_close;
    out->destroy = link_destroy;
    return KMQTT_OK;
}
