/*
 * The backpressure peer's socket side: listener, the one connection, the
 * two ways of reading (stall, slow), the output queue, and the errors.
 * The layers live in bp_tls_server.c, bp_ws_server.c and bp_mqtt_server.c.
 */
#include "bp_peer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The peer's socket is a slow link's: a small receive buffer (the kernel
 * doubles it), so what the client sends while the peer does not read backs
 * up into the client at once, and the MSS of a real link rather than
 * loopback's 64 KiB. With loopback's MSS the client's kernel bounds its
 * segments to half the largest window it saw, a small window soon falls
 * below that, and the client then sends only when its persist timer fires
 * (every 200 ms or more): the run would go at that timer's pace instead of
 * the peer's. Both are set on the listener; the connection inherits them. */
#define PEER_RCVBUF 4096
#define PEER_MSS    1400
/* After the client side says it is done: how long the rest may take. */
#define GRACE_MS 10000u
/* Slow peer: one-byte reads per round before the output queue gets a turn. */
#define SLOW_BURST 4096

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void bp_peer_fail(bp_peer_t *p, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    if (p->res.failed)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    p->res.failed = true;
    snprintf(p->res.error, sizeof(p->res.error), "message %u: %s", (unsigned)p->mq.next, what);
}

void bp_peer_raw_out(bp_peer_t *p, const uint8_t *b, size_t n)
{
    if (p->out_len + n > p->out_cap) {
        size_t cap = p->out_cap * 2 > p->out_len + n ? p->out_cap * 2 : p->out_len + n;
        uint8_t *q = realloc(p->out, cap);
        if (q == NULL) {
            bp_peer_fail(p, "peer out of memory");
            return;
        }
        p->out = q;
        p->out_cap = cap;
    }
    memcpy(p->out + p->out_len, b, n);
    p->out_len += n;
}

void bp_peer_plain_in(bp_peer_t *p, const uint8_t *b, size_t n)
{
    if (p->o.ws)
        bp_ws_in(p, b, n);
    else
        bp_mqtt_in(p, b, n);
}

void bp_peer_plain_out(bp_peer_t *p, const uint8_t *b, size_t n)
{
    if (p->tls != NULL)
        bp_tls_out(p, b, n);
    else
        bp_peer_raw_out(p, b, n);
}

void bp_peer_mqtt_out(bp_peer_t *p, const uint8_t *b, size_t n)
{
    if (p->o.ws)
        bp_ws_out(p, b, n);
    else
        bp_peer_plain_out(p, b, n);
}

static void raw_in(bp_peer_t *p, const uint8_t *b, size_t n)
{
    p->res.bytes_in += n;
    if (p->tls != NULL)
        bp_tls_in(p, b, n);
    else
        bp_peer_plain_in(p, b, n);
}

/* Sends what the socket takes now. false when the connection is gone. */
static bool flush_out(bp_peer_t *p)
{
    while (p->out_len > 0) {
        ssize_t n = send(p->fd, p->out, p->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return true;
            if (!p->mq.disconnected)
                bp_peer_fail(p, "send to the client failed: %s", strerror(errno));
            p->out_len = 0;
            return false;
        }
        memmove(p->out, p->out + n, p->out_len - (size_t)n);
        p->out_len -= (size_t)n;
    }
    return true;
}

/* The end of the client's stream: an error unless DISCONNECT came first. */
static void stream_ended(bp_peer_t *p, const char *how)
{
    if (!p->mq.disconnected)
        bp_peer_fail(p, "connection %s before DISCONNECT (%llu bytes read)", how,
                     (unsigned long long)p->res.bytes_in);
}

/* Reads what the behaviour allows. Returns false at the end of the stream.
 * *stall_now is set when the stall point was just reached. */
static bool read_some(bp_peer_t *p, bool *stall_now)
{
    uint8_t buf[65536];
    size_t want = sizeof(buf);
    int rounds = p->o.behaviour == BP_PEER_SLOW ? SLOW_BURST : 1;

    if (p->o.behaviour == BP_PEER_SLOW)
        want = 1;
    else if (!p->res.stalled && p->o.stall_at > p->res.bytes_in &&
             p->o.stall_at - p->res.bytes_in < want)
        want = (size_t)(p->o.stall_at - p->res.bytes_in);
    while (rounds-- > 0 && !p->res.failed) {
        ssize_t n = recv(p->fd, buf, want, MSG_DONTWAIT);
        if (n == 0) {
            stream_ended(p, "closed by the client");
            return false;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return true;
            stream_ended(p, strerror(errno));
            return false;
        }
        raw_in(p, buf, (size_t)n);
        if (p->o.behaviour == BP_PEER_STALL && !p->res.stalled &&
            p->res.bytes_in >= p->o.stall_at) {
            *stall_now = true;
            return true;
        }
    }
    return true;
}

static bool accept_client(bp_peer_t *p)
{
    for (;;) {
        struct pollfd f[2];
        uint64_t now = mono_ms();
        int r;
        if (now >= p->deadline) {
            bp_peer_fail(p, "no client connected");
            return false;
        }
        f[0].fd = p->lfd;
        f[0].events = POLLIN;
        f[1].fd = p->wake[0];
        f[1].events = POLLIN;
        r = poll(f, 2, (int)(p->deadline - now));
        if (r < 0 && errno != EINTR)
            return false;
        if (r > 0 && (f[1].revents & POLLIN) != 0) {
            bp_peer_fail(p, "no client connected (the client side gave up)");
            return false;
        }
        if (r > 0 && (f[0].revents & POLLIN) != 0) {
            p->fd = accept(p->lfd, NULL, NULL);
            if (p->fd >= 0)
                break;
        }
    }
    close(p->lfd);
    p->lfd = -1;
    (void)fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
    if (p->o.tls) {
        p->tls = bp_tls_new(p);
        if (p->tls == NULL)
            return false;
    }
    return true;
}

static void *peer_main(void *arg)
{
    bp_peer_t *p = arg;
    uint64_t stall_end = 0;
    bool eof = false, client_done = false;

    if (!accept_client(p))
        return NULL;
    while (!p->res.failed && !eof) {
        struct pollfd f[2];
        uint64_t now = mono_ms();
        uint64_t until = p->deadline;
        bool stalling = stall_end != 0 && now < stall_end;
        int r;

        if (now >= p->deadline) {
            bp_peer_fail(p, "timed out (%llu bytes read)", (unsigned long long)p->res.bytes_in);
            break;
        }
        if (stalling && stall_end < until)
            until = stall_end;
        f[0].fd = p->fd;
        f[0].events =
            (short)((stalling ? 0 : POLLIN) | (!stalling && p->out_len > 0 ? POLLOUT : 0));
        f[1].fd = p->wake[0];
        f[1].events = client_done ? 0 : POLLIN;
        r = poll(f, 2, (int)(until - now));
        if (r < 0 && errno != EINTR) {
            bp_peer_fail(p, "poll: %s", strerror(errno));
            break;
        }
        if (r <= 0)
            continue;
        if ((f[1].revents & POLLIN) != 0) {
            client_done = true;
            if (p->deadline > mono_ms() + GRACE_MS)
                p->deadline = mono_ms() + GRACE_MS;
        }
        if (stalling)
            continue;
        if ((f[0].revents & (POLLOUT | POLLERR | POLLHUP)) != 0 && p->out_len > 0)
            (void)flush_out(p);
        if ((f[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
            bool stall_now = false;
            eof = !read_some(p, &stall_now);
            if (stall_now) {
                p->res.stalled = true;
                stall_end = mono_ms() + p->o.stall_ms;
            }
            /* answers go out at once (even when a stall begins now) */
            if (p->out_len > 0)
                (void)flush_out(p);
        }
    }
    /* An error ends the connection, so the client notices at once. */
    shutdown(p->fd, SHUT_RDWR);
    close(p->fd);
    p->fd = -1;
    return NULL;
}

bp_peer_t *bp_peer_start(const bp_peer_opts_t *o)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int rcvbuf = PEER_RCVBUF, mss = PEER_MSS;
    bp_peer_t *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->o = *o;
    p->lfd = -1;
    p->fd = -1;
    p->wake[0] = p->wake[1] = -1;
    p->deadline = mono_ms() + o->timeout_ms;
    if (!bp_mqtt_init(&p->mq) || pipe(p->wake) != 0)
        goto fail;
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->lfd < 0)
        goto fail;
    /* Before listen(): the accepted socket inherits them (see PEER_RCVBUF). */
    (void)setsockopt(p->lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    (void)setsockopt(p->lfd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(p->lfd, 1) != 0 ||
        getsockname(p->lfd, (struct sockaddr *)&a, &alen) != 0)
        goto fail;
    p->port = ntohs(a.sin_port);
    memcpy(p->res.tls_version, "-", 2);
    if (pthread_create(&p->thread, NULL, peer_main, p) != 0)
        goto fail;
    return p;
fail:
    fprintf(stderr, "bp_peer: could not start: %s\n", strerror(errno));
    if (p->lfd >= 0)
        close(p->lfd);
    if (p->wake[0] >= 0) {
        close(p->wake[0]);
        close(p->wake[1]);
    }
    bp_mqtt_free(&p->mq);
    free(p);
    return NULL;
}

uint16_t bp_peer_port(const bp_peer_t *p)
{
    return p->port;
}

void bp_peer_finish(bp_peer_t *p, bp_peer_result_t *out)
{
    char one = 1;
    (void)!write(p->wake[1], &one, 1);
    pthread_join(p->thread, NULL);
    p->res.connected = p->mq.connected;
    p->res.disconnected = p->mq.disconnected;
    *out = p->res;
    if (p->lfd >= 0)
        close(p->lfd);
    close(p->wake[0]);
    close(p->wake[1]);
    bp_tls_free(p->tls);
    bp_mqtt_free(&p->mq);
    free(p->out);
    free(p);
}
