/*
 * TCP transport over RT-Thread SAL sockets (lwIP or another stack behind
 * SAL; select and fcntl need SAL_USING_POSIX).
 *
 * Wake-up without socketpair or pipe: select() watches sockets only, so a
 * wake is (1) a bit in an rt_event, the truth of whether a wake is pending,
 * and (2) a one-byte datagram sent to a UDP socket bound to 127.0.0.1 that
 * select() also watches, so a blocked wait returns at once. (2) needs the
 * stack's loopback (lwIP: LWIP_NETIF_LOOPBACK); where it cannot be set up,
 * or a datagram is lost (no pbuf), the wait still looks at the event bit
 * every KMQTT_RTT_WAKE_POLL_MS, so a wake is never lost, only later. Two
 * UDP sockets (one sends, one receives) because lwIP does not let two
 * threads use one socket at once.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <rtthread.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "kmqtt/port.h"

/* How often a wait looks at the wake bit when the loopback datagram is not
 * available, and at most when it is. */
#ifndef KMQTT_RTT_WAKE_POLL_MS
#define KMQTT_RTT_WAKE_POLL_MS 20u
#endif
#define WAKE_SLICE_MS 1000u
#define WAKE_BIT      1u

typedef struct rtt_tcp {
    kmqtt_mem_t *mem;
    int fd;      /* -1 when closed */
    int wake_rx; /* -1: no loopback, poll the event */
    int wake_tx;
    struct sockaddr_in wake_addr;
    rt_event_t ev;
    rt_mutex_t tx_lock; /* wake() may come from several threads */
} rtt_tcp_t;

static uint32_t remaining(uint64_t deadline)
{
    uint64_t now = kmqtt_port_now_ms();
    uint64_t left = deadline > now ? deadline - now : 0;
    return left > 0x7FFFFFFFu ? 0x7FFFFFFFu : (uint32_t)left;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ------------------------------------------------------------- wake-up */

static void wake_close(rtt_tcp_t *t)
{
    if (t->wake_rx >= 0)
        (void)closesocket(t->wake_rx);
    if (t->wake_tx >= 0)
        (void)closesocket(t->wake_tx);
    t->wake_rx = -1;
    t->wake_tx = -1;
}

/* Best effort: without it the waits poll the event bit. */
static void wake_open(rtt_tcp_t *t)
{
    static const unsigned char loopback[4] = {127, 0, 0, 1};
    socklen_t len = sizeof t->wake_addr;

    memset(&t->wake_addr, 0, sizeof t->wake_addr);
    t->wake_addr.sin_len = sizeof t->wake_addr;
    t->wake_addr.sin_family = AF_INET;
    memcpy(&t->wake_addr.sin_addr, loopback, 4); /* network order as written */
    t->wake_rx = socket(AF_INET, SOCK_DGRAM, 0);
    t->wake_tx = socket(AF_INET, SOCK_DGRAM, 0);
    if (t->wake_rx < 0 || t->wake_tx < 0 ||
        bind(t->wake_rx, (const struct sockaddr *)&t->wake_addr, sizeof t->wake_addr) != 0 ||
        getsockname(t->wake_rx, (struct sockaddr *)&t->wake_addr, &len) != 0 ||
        set_nonblock(t->wake_rx) != 0 || set_nonblock(t->wake_tx) != 0)
        wake_close(t);
}

/* Consumes a pending wake; true if there was one. */
static bool wake_drain(rtt_tcp_t *t)
{
    rt_uint32_t got = 0;
    unsigned char buf[8];

    if (t->wake_rx >= 0) {
        while (recv(t->wake_rx, buf, sizeof buf, 0) > 0) {
        }
    }
    return rt_event_recv(t->ev, WAKE_BIT, RT_EVENT_FLAG_OR | RT_EVENT_FLAG_CLEAR, RT_WAITING_NO,
                         &got) == RT_EOK;
}

static void tcp_wake(void *ctx)
{
    rtt_tcp_t *t = ctx;

    if (t == NULL)
        return;
    (void)rt_event_send(t->ev, WAKE_BIT);
    if (t->wake_tx >= 0) {
        (void)rt_mutex_take(t->tx_lock, RT_WAITING_FOREVER);
        (void)sendto(t->wake_tx, "w", 1, 0, (const struct sockaddr *)&t->wake_addr,
                     sizeof t->wake_addr);
        (void)rt_mutex_release(t->tx_lock);
    }
}

/* select() on fd (events) and the wake socket for at most ms; *woken when
 * a wake is pending afterwards. Returns the select() result. */
static int wait_once(rtt_tcp_t *t, int fd, unsigned events, uint32_t ms, unsigned *ready,
                     bool *woken)
{
    fd_set rd, wr;
    struct timeval tv;
    int maxfd = -1;
    int n;
    uint32_t slice = t->wake_rx >= 0 ? WAKE_SLICE_MS : KMQTT_RTT_WAKE_POLL_MS;

    if (ms > slice)
        ms = slice;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    if (fd >= 0 && (events & KMQTT_WAIT_READ) != 0)
        FD_SET(fd, &rd);
    if (fd >= 0 && (events & KMQTT_WAIT_WRITE) != 0)
        FD_SET(fd, &wr);
    if (fd >= 0)
        maxfd = fd;
    if (t->wake_rx >= 0) {
        FD_SET(t->wake_rx, &rd);
        if (t->wake_rx > maxfd)
            maxfd = t->wake_rx;
    }
    tv.tv_sec = (long)(ms / 1000u);
    tv.tv_usec = (long)(ms % 1000u) * 1000L;
    *ready = 0;
    if (maxfd < 0) {
        kmqtt_port_sleep_ms(ms);
        n = 0;
    } else {
        n = select(maxfd + 1, &rd, &wr, NULL, &tv);
    }
    if (n > 0 && fd >= 0) {
        if (FD_ISSET(fd, &rd))
            *ready |= KMQTT_WAIT_READ;
        if (FD_ISSET(fd, &wr))
            *ready |= KMQTT_WAIT_WRITE;
    }
    *woken = wake_drain(t);
    return n;
}

/* ------------------------------------------------------------- connect */

static kmqtt_err_t connect_error(int e)
{
    switch (e) {
    case ECONNREFUSED:
        return KMQTT_ECONNREFUSED;
    case ETIMEDOUT:
        return KMQTT_ETIMEDOUT;
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
        return KMQTT_ENOMEM;
    default:
        return KMQTT_EIO;
    }
}

static kmqtt_err_t connect_one(rtt_tcp_t *t, const struct addrinfo *ai, uint64_t deadline, int *out)
{
    int one = 1;
    int fd = socket(ai->ai_family, SOCK_STREAM, IPPROTO_TCP);

    if (fd < 0)
        return connect_error(errno);
    if (set_nonblock(fd) != 0) {
        (void)closesocket(fd);
        return KMQTT_EIO;
    }
    /* MQTT packets are small; latency matters more than segment count. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS && errno != EWOULDBLOCK) {
            kmqtt_err_t err = connect_error(errno);
            (void)closesocket(fd);
            return err;
        }
        for (;;) {
            unsigned ready;
            bool woken;
            int soerr = 0;
            socklen_t len = sizeof soerr;
            int n = wait_once(t, fd, KMQTT_WAIT_WRITE, remaining(deadline), &ready, &woken);

            if (woken) {
                (void)closesocket(fd);
                return KMQTT_ECANCELED;
            }
            if (n < 0 && errno != EINTR) {
                (void)closesocket(fd);
                return KMQTT_EIO;
            }
            if (ready == 0) {
                if (remaining(deadline) == 0) {
                    (void)closesocket(fd);
                    return KMQTT_ETIMEDOUT;
                }
                continue;
            }
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
                soerr = errno;
            if (soerr != 0) {
                (void)closesocket(fd);
                return connect_error(soerr);
            }
            break;
        }
    }
    *out = fd;
    return KMQTT_OK;
}

/* The port as text, without stdio. */
static void port_text(uint16_t port, char out[6])
{
    char tmp[6];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + port % 10u);
        port = (uint16_t)(port / 10u);
    } while (port != 0);
    for (i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

static kmqtt_err_t tcp_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    rtt_tcp_t *t = ctx;
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    const struct addrinfo *ai;
    char service[6];
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    kmqtt_err_t result = KMQTT_ERESOLVE;

    if (t == NULL || host == NULL || port == 0)
        return KMQTT_EINVAL;
    if (t->fd >= 0)
        return KMQTT_ESTATE;
    if (wake_drain(t))
        return KMQTT_ECANCELED;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    port_text(port, service);
    /* DNS blocks for as long as the stack's resolver takes; the deadline
     * and a wake are looked at once it returns. */
    if (getaddrinfo(host, service, &hints, &list) != 0 || list == NULL)
        return KMQTT_ERESOLVE;
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        int fd = -1;
        kmqtt_err_t err;

        if (remaining(deadline) == 0) {
            result = KMQTT_ETIMEDOUT;
            break;
        }
        err = connect_one(t, ai, deadline, &fd);
        if (err == KMQTT_OK) {
            t->fd = fd;
            freeaddrinfo(list);
            return KMQTT_OK;
        }
        result = err;
        if (err == KMQTT_ECANCELED)
            break;
    }
    freeaddrinfo(list);
    return result;
}

/* ------------------------------------------------------------ the rest */

static long io_result(int n, bool is_recv)
{
    if (n > 0)
        return n;
    if (n == 0)
        return is_recv ? KMQTT_ECLOSED : 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    if (errno == ECONNRESET || errno == ENOTCONN || errno == EPIPE || errno == ECONNABORTED)
        return KMQTT_ECLOSED;
    return KMQTT_EIO;
}

static long tcp_send(void *ctx, const void *buf, size_t len)
{
    rtt_tcp_t *t = ctx;

    if (t == NULL || (buf == NULL && len > 0))
        return KMQTT_EINVAL;
    if (t->fd < 0)
        return KMQTT_ENOTCONN;
    if (len == 0)
        return 0;
    if (len > 0x7FFFFFFFu)
        len = 0x7FFFFFFFu;
    /* No SIGPIPE on an RTOS: a dead peer is an error return. */
    return io_result(send(t->fd, buf, len, 0), false);
}

static long tcp_recv(void *ctx, void *buf, size_t len)
{
    rtt_tcp_t *t = ctx;

    if (t == NULL || (buf == NULL && len > 0))
        return KMQTT_EINVAL;
    if (t->fd < 0)
        return KMQTT_ENOTCONN;
    if (len == 0)
        return 0;
    if (len > 0x7FFFFFFFu)
        len = 0x7FFFFFFFu;
    return io_result(recv(t->fd, buf, len, 0), true);
}

static kmqtt_err_t tcp_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    rtt_tcp_t *t = ctx;
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    unsigned got = 0;
    bool woken = false;

    if (ready != NULL)
        *ready = 0;
    if (t == NULL)
        return KMQTT_EINVAL;
    if (t->fd < 0)
        events = 0;
    for (;;) {
        int n = wait_once(t, t->fd, events, remaining(deadline), &got, &woken);

        if (n < 0 && errno != EINTR)
            return KMQTT_EIO;
        if (woken)
            got |= KMQTT_WAIT_WOKEN;
        if (got != 0 || remaining(deadline) == 0)
            break;
    }
    if (ready != NULL)
        *ready = got;
    return KMQTT_OK;
}

static void tcp_close(void *ctx)
{
    rtt_tcp_t *t = ctx;

    if (t != NULL && t->fd >= 0) {
        (void)closesocket(t->fd);
        t->fd = -1;
    }
}

static void tcp_destroy(void *ctx)
{
    rtt_tcp_t *t = ctx;

    if (t == NULL)
        return;
    tcp_close(t);
    wake_close(t);
    (void)rt_event_delete(t->ev);
    (void)rt_mutex_delete(t->tx_lock);
    (void)kmqtt_mem_free(t->mem, t);
}

kmqtt_err_t kmqtt_port_tcp_create(kmqtt_mem_t *m, kmqtt_transport_t *out)
{
    rtt_tcp_t *t;

    if (m == NULL || out == NULL)
        return KMQTT_EINVAL;
    memset(out, 0, sizeof *out);
    t = kmqtt_mem_alloc(m, "tcp", sizeof *t);
    if (t == NULL)
        return KMQTT_ENOMEM;
    memset(t, 0, sizeof *t);
    t->mem = m;
    t->fd = -1;
    t->ev = rt_event_create("kmqttw", RT_IPC_FLAG_FIFO);
    t->tx_lock = rt_mutex_create("kmqttx", RT_IPC_FLAG_PRIO);
    if (t->ev == RT_NULL || t->tx_lock == RT_NULL) {
        if (t->ev != RT_NULL)
            (void)rt_event_delete(t->ev);
        if (t->tx_lock != RT_NULL)
            (void)rt_mutex_delete(t->tx_lock);
        (void)kmqtt_mem_free(m, t);
        return KMQTT_ENOMEM;
    }
    wake_open(t);
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
    return sizeof(rtt_tcp_t);
}
