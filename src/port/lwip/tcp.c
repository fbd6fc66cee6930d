/*
 * The TCP transport over lwIP's sockets API: a non-blocking connect bounded
 * by the timeout, lwip_poll() on the socket and the doorbell (bell.c), and
 * sends and receives that never block (MSG_DONTWAIT).
 *
 * Names: numeric IPv4 (and IPv6 when lwIP has it) always; other names
 * through lwip_getaddrinfo() when lwIP is built with LWIP_DNS, whose own
 * retries bound the time it takes (it cannot be cancelled; the deadline and
 * the doorbell are checked when it returns).
 */
#include "lwip_port.h"

#include <limits.h>
#include <string.h>

#define MAX_ADDRS 4

typedef union addr {
    struct sockaddr sa;
    struct sockaddr_in in4;
#if LWIP_IPV6
    struct sockaddr_in6 in6;
#endif
} addr_t;

typedef struct tcp {
    kmqtt_mem_t *mem;
    int fd;    /* -1 when closed */
    bool done; /* the peer closed or the connection failed: close() need not wait */
    lwip_bell_t bell;
} tcp_t;

static uint32_t remaining_ms(uint64_t deadline)
{
    uint64_t now = kmqtt_port_now_ms();
    uint64_t left = deadline > now ? deadline - now : 0;
    return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

static int slice_ms(uint32_t left)
{
    return (int)(left < KMQTT_LWIP_WAKE_SLICE_MS ? left : KMQTT_LWIP_WAKE_SLICE_MS);
}

static kmqtt_err_t connect_error(int e)
{
    switch (e) {
    case ECONNREFUSED:
    case ECONNRESET: /* lwIP reports a RST to our SYN as a reset */
        return KMQTT_ECONNREFUSED;
    case ETIMEDOUT:
    case ECONNABORTED: /* lwIP gives up on SYN retransmissions with ERR_ABRT */
        return KMQTT_ETIMEDOUT;
    case ENFILE:
    case EMFILE:
    case ENOBUFS:
    case ENOMEM:
        return KMQTT_ENOMEM;
    default:
        return KMQTT_EIO;
    }
}

/* ------------------------------------------------------------- resolving */

static size_t numeric(const char *host, uint16_t port, addr_t *out)
{
    memset(out, 0, sizeof *out);
    if (lwip_inet_pton(AF_INET, host, &out->in4.sin_addr) == 1) {
        out->in4.sin_family = AF_INET;
        out->in4.sin_port = lwip_htons(port);
        return 1;
    }
#if LWIP_IPV6
    memset(out, 0, sizeof *out);
    if (lwip_inet_pton(AF_INET6, host, &out->in6.sin6_addr) == 1) {
        out->in6.sin6_family = AF_INET6;
        out->in6.sin6_port = lwip_htons(port);
        return 1;
    }
#endif
    return 0;
}

/* Fills out with up to MAX_ADDRS addresses; returns how many (0: the name
 * could not be resolved). */
static size_t resolve(const char *host, uint16_t port, addr_t *out)
{
    size_t n = numeric(host, port, out);
#if LWIP_DNS
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    struct addrinfo *ai;

    if (n > 0) {
        return n;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (lwip_getaddrinfo(host, NULL, &hints, &list) != 0) {
        return 0;
    }
    for (ai = list; ai != NULL && n < MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof out[n].in4) {
            memcpy(&out[n].in4, ai->ai_addr, sizeof out[n].in4);
            out[n].in4.sin_port = lwip_htons(port);
            n++;
        }
#if LWIP_IPV6
        else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof out[n].in6) {
            memcpy(&out[n].in6, ai->ai_addr, sizeof out[n].in6);
            out[n].in6.sin6_port = lwip_htons(port);
            n++;
        }
#endif
    }
    lwip_freeaddrinfo(list);
#endif
    return n;
}

static socklen_t addr_len(const addr_t *a)
{
#if LWIP_IPV6
    if (a->sa.sa_family == AF_INET6) {
        return (socklen_t)sizeof a->in6;
    }
#endif
    return (socklen_t)sizeof a->in4;
}

/* ------------------------------------------------------------- connecting */

static void close_fd(int fd)
{
    (void)lwip_close(fd);
}

static int new_socket(int family)
{
    int fd = lwip_socket(family, SOCK_STREAM, IPPROTO_TCP);
    int one = 1;
    if (fd < 0) {
        return -1;
    }
    /* Non-blocking for the connect (send and recv also pass MSG_DONTWAIT). */
    if (lwip_fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        int e = errno;
        close_fd(fd);
        errno = e;
        return -1;
    }
    /* MQTT packets are small and latency matters more than segment count. */
    (void)lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* True once a non-blocking connect has finished; *err is its result. */
static bool connect_done(int fd, kmqtt_err_t *err)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    addr_t peer;
    socklen_t plen = sizeof peer;

    if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
        soerr = errno;
    }
    if (soerr != 0) {
        *err = connect_error(soerr);
        return true;
    }
    /* Readiness without an error: make sure the connection is really up. */
    if (lwip_getpeername(fd, &peer.sa, &plen) == 0) {
        *err = KMQTT_OK;
        return true;
    }
    return false;
}

/* Connects one address before deadline. On KMQTT_OK *out is the connected
 * socket; on any failure nothing stays open. */
static kmqtt_err_t connect_one(tcp_t *t, const addr_t *a, uint64_t deadline, int *out)
{
    int fd = new_socket(a->sa.sa_family);
    kmqtt_err_t err = KMQTT_OK;

    if (fd < 0) {
        return connect_error(errno);
    }
    if (lwip_connect(fd, &a->sa, addr_len(a)) == 0) {
        *out = fd;
        return KMQTT_OK;
    }
    if (errno != EINPROGRESS) {
        err = connect_error(errno);
        close_fd(fd);
        return err;
    }
    for (;;) {
        struct pollfd p[2];
        uint32_t left = remaining_ms(deadline);
        int n;

        if (lwip_bell_take(&t->bell)) {
            err = KMQTT_ECANCELED;
            break;
        }
        p[0].fd = fd;
        p[0].events = POLLOUT;
        p[0].revents = 0;
        p[1].fd = t->bell.fd;
        p[1].events = POLLIN;
        p[1].revents = 0;
        n = lwip_poll(p, 2, slice_ms(left));
        if (n < 0) {
            err = KMQTT_EIO;
            break;
        }
        if (p[0].revents != 0 && connect_done(fd, &err)) {
            break;
        }
        if (left == 0) {
            err = KMQTT_ETIMEDOUT;
            break;
        }
    }
    if (err != KMQTT_OK) {
        close_fd(fd);
        return err;
    }
    *out = fd;
    return KMQTT_OK;
}

/* Which failure to report when every address failed: the one that tells the
 * user most (a refusal says the host is up but nothing listens). */
static int err_rank(kmqtt_err_t e)
{
    switch (e) {
    case KMQTT_ECONNREFUSED:
        return 3;
    case KMQTT_ETIMEDOUT:
        return 2;
    case KMQTT_ENOMEM:
        return 1;
    default:
        return 0;
    }
}

static kmqtt_err_t tcp_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    tcp_t *t = ctx;
    addr_t addrs[MAX_ADDRS];
    kmqtt_err_t result = KMQTT_EIO;
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    size_t count;
    size_t i;

    if (t == NULL || host == NULL || port == 0) {
        return KMQTT_EINVAL;
    }
    if (t->fd >= 0) {
        return KMQTT_ESTATE; /* one owner per socket: the caller closes first */
    }
    /* A wake() raised before open() cancels it. */
    if (lwip_bell_take(&t->bell)) {
        return KMQTT_ECANCELED;
    }
    count = resolve(host, port, addrs);
    if (count == 0) {
        return KMQTT_ERESOLVE;
    }
    for (i = 0; i < count; i++) {
        uint64_t now = kmqtt_port_now_ms();
        uint64_t left = deadline > now ? deadline - now : 0;
        kmqtt_err_t err;
        int fd = -1;

        if (i > 0 && left == 0) {
            result = KMQTT_ETIMEDOUT;
            break;
        }
        /* Each address gets a fair share of what is left; the last all of it. */
        err = connect_one(t, &addrs[i], i + 1 == count ? deadline : now + left / (count - i), &fd);
        if (err == KMQTT_OK) {
            t->fd = fd;
            t->done = false;
            return KMQTT_OK;
        }
        if (err == KMQTT_ECANCELED) {
            return err;
        }
        if (err_rank(err) >= err_rank(result)) {
            result = err;
        }
    }
    return result;
}

/* ------------------------------------------------------------ send, recv */

static long tcp_send(void *ctx, const void *buf, size_t len)
{
    tcp_t *t = ctx;
    ssize_t n;

    if (t == NULL || (buf == NULL && len > 0)) {
        return KMQTT_EINVAL;
    }
    if (t->fd < 0) {
        return KMQTT_ENOTCONN;
    }
    if (len == 0) {
        return 0;
    }
    if (len > (size_t)INT_MAX) {
        len = (size_t)INT_MAX;
    }
    /* lwIP raises no SIGPIPE: there are no signals in it. */
    n = lwip_send(t->fd, buf, len, MSG_DONTWAIT);
    if (n >= 0) {
        return (long)n;
    }
    switch (errno) {
    case EWOULDBLOCK:
#if EAGAIN != EWOULDBLOCK
    case EAGAIN:
#endif
    case ENOMEM: /* pbufs or segments short for a moment: like a full buffer */
        return 0;
    case ENOTCONN:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
        t->done = true;
        return KMQTT_ECLOSED;
    default:
        t->done = true;
        return KMQTT_EIO;
    }
}

static long tcp_recv(void *ctx, void *buf, size_t len)
{
    tcp_t *t = ctx;
    ssize_t n;

    if (t == NULL || (buf == NULL && len > 0)) {
        return KMQTT_EINVAL;
    }
    if (t->fd < 0) {
        return KMQTT_ENOTCONN;
    }
    if (len == 0) {
        return 0;
    }
    if (len > (size_t)INT_MAX) {
        len = (size_t)INT_MAX;
    }
    n = lwip_recv(t->fd, buf, len, MSG_DONTWAIT);
    if (n > 0) {
        return (long)n;
    }
    if (n == 0) {
        t->done = true;
        return KMQTT_ECLOSED; /* orderly shutdown by the peer */
    }
    switch (errno) {
    case EWOULDBLOCK:
#if EAGAIN != EWOULDBLOCK
    case EAGAIN:
#endif
        return 0;
    case ENOTCONN:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
        t->done = true;
        return KMQTT_ECLOSED;
    default:
        t->done = true;
        return KMQTT_EIO;
    }
}

/* ------------------------------------------------------------------ wait */

static kmqtt_err_t tcp_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    tcp_t *t = ctx;
    struct pollfd p[2];
    nfds_t count = 1;
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    unsigned got = 0;

    if (ready != NULL) {
        *ready = 0;
    }
    if (t == NULL) {
        return KMQTT_EINVAL;
    }
    p[0].fd = t->bell.fd;
    p[0].events = POLLIN;
    /* Without a socket only the doorbell is watched: an idle background
     * thread sleeps here until there is work. */
    p[1].fd = t->fd;
    p[1].events = 0;
    if (t->fd >= 0 && (events & (KMQTT_WAIT_READ | KMQTT_WAIT_WRITE)) != 0) {
        p[1].events = (short)(((events & KMQTT_WAIT_READ) ? POLLIN : 0) |
                              ((events & KMQTT_WAIT_WRITE) ? POLLOUT : 0));
        count = 2;
    }
    for (;;) {
        uint32_t left = remaining_ms(deadline);
        bool woken = lwip_bell_take(&t->bell);
        int n;

        p[0].revents = 0;
        p[1].revents = 0;
        /* Woken: one look at the socket without waiting, so readiness that
         * came with the wake is reported with it. */
        n = lwip_poll(p, count, woken ? 0 : slice_ms(left));
        if (n < 0) {
            return KMQTT_EIO;
        }
        if (count == 2 && p[1].revents != 0) {
            if (p[1].revents & POLLNVAL) {
                return KMQTT_EIO;
            }
            if (p[1].revents & POLLIN) {
                got |= KMQTT_WAIT_READ;
            }
            if (p[1].revents & POLLOUT) {
                got |= KMQTT_WAIT_WRITE;
            }
            /* Errors are reported as readiness so that the following
             * recv()/send() picks up the actual error. */
            if (p[1].revents & (POLLERR | POLLHUP)) {
                got |= events & (KMQTT_WAIT_READ | KMQTT_WAIT_WRITE);
            }
        }
        if (!woken && (p[0].revents & POLLIN) != 0) {
            woken = lwip_bell_take(&t->bell);
        }
        if (woken) {
            got |= KMQTT_WAIT_WOKEN;
        }
        /* A datagram whose flag was already taken (a late one) wakes the
         * poll without a wake: look again until something or the deadline. */
        if (got != 0 || left == 0) {
            break;
        }
    }
    if (ready != NULL) {
        *ready = got;
    }
    return KMQTT_OK;
}

/* ----------------------------------------------------------------- close */

/* After our DISCONNECT the broker closes first; waiting for its FIN (and
 * then closing a half-closed socket) leaves TIME_WAIT with the broker
 * instead of in this device's PCB pool. Bounded by KMQTT_LWIP_CLOSE_WAIT_MS
 * for a broker that does not close (a dead link, a protocol error of ours). */
static void await_peer_close(tcp_t *t)
{
    uint64_t deadline = kmqtt_port_now_ms() + KMQTT_LWIP_CLOSE_WAIT_MS;
    unsigned char sink[64];

    while (!t->done) {
        struct pollfd p;
        ssize_t n = lwip_recv(t->fd, sink, sizeof sink, MSG_DONTWAIT);
        uint32_t left;

        if (n > 0) {
            continue; /* what the broker still sent is of no use now */
        }
        if (n == 0 || (errno != EWOULDBLOCK && errno != EAGAIN)) {
            break;
        }
        left = remaining_ms(deadline);
        if (left == 0) {
            break;
        }
        p.fd = t->fd;
        p.events = POLLIN;
        p.revents = 0;
        if (lwip_poll(&p, 1, (int)left) <= 0) {
            break;
        }
    }
}

static void tcp_close(void *ctx)
{
    tcp_t *t = ctx;
    if (t == NULL || t->fd < 0) {
        return;
    }
    if (KMQTT_LWIP_CLOSE_WAIT_MS > 0) {
        await_peer_close(t);
    }
    close_fd(t->fd);
    t->fd = -1;
    t->done = false;
}

static void tcp_wake(void *ctx)
{
    tcp_t *t = ctx;
    if (t != NULL) {
        lwip_bell_ring(&t->bell);
    }
}

static void tcp_destroy(void *ctx)
{
    tcp_t *t = ctx;
    if (t == NULL) {
        return;
    }
    tcp_close(t);
    lwip_bell_destroy(&t->bell);
    (void)kmqtt_mem_free(t->mem, t);
}

kmqtt_err_t kmqtt_port_tcp_create(kmqtt_mem_t *m, kmqtt_transport_t *out)
{
    tcp_t *t;
    kmqtt_err_t err;

    if (m == NULL || out == NULL) {
        return KMQTT_EINVAL;
    }
    memset(out, 0, sizeof *out);
    t = kmqtt_mem_alloc(m, "tcp", sizeof *t);
    if (t == NULL) {
        return KMQTT_ENOMEM;
    }
    t->mem = m;
    t->fd = -1;
    t->done = false;
    err = lwip_bell_create(&t->bell);
    if (err != KMQTT_OK) {
        (void)kmqtt_mem_free(m, t);
        return err;
    }
    out->ctx = t;
    out->open = tcp_open;
    out->send = tcp_send;
    out->recv = tcp_recv;
    out->wait = tcp_wait;
    out->wake = tcp_wake;
    out->close = tcp_close;
    out->destroy = tcp_destroy;
    return KMQTT_OK;
}

size_t kmqtt_port_tcp_size(void)
{
    return sizeof(tcp_t);
}
