/*
 * The TCP transport: non-blocking sockets, a connect timeout over every
 * address a name resolves to, and a wake signal that cuts any blocking call
 * short. The signal is created with the transport, not the connection, so
 * wake() from another thread never races with close().
 */
#include "kmqtt/port.h"
#include "wake.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

typedef struct tcp {
    kmqtt_mem_t *mem;
    int fd; /* -1 when closed */
    posix_wake_t wake;
} tcp_t;

/* Remaining milliseconds to a deadline, as poll() wants them. */
static int remaining_ms(uint64_t deadline)
{
    uint64_t now = kmqtt_port_now_ms();
    uint64_t left = deadline > now ? deadline - now : 0;
    return left > (uint64_t)INT_MAX ? INT_MAX : (int)left;
}

static void close_fd(int fd)
{
    /* Never retried on EINTR: Linux has released the descriptor already, and
     * another thread may have been handed the same number since. */
    (void)close(fd);
}

static int new_socket(const struct addrinfo *ai)
{
    int fd;
    int fl;
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
    /* Atomic close-on-exec: a gateway that forks helpers must not leak the
     * broker connection into them. */
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd >= 0 || errno != EINVAL) {
        return fd;
    }
    /* EINVAL: a kernel older than the flags; fall through to fcntl. */
#endif
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        return -1;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        int e = errno;
        close_fd(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void set_options(int fd)
{
    int one = 1;
    /* MQTT packets are small and latency matters more than segment count. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    /* Where send() has no MSG_NOSIGNAL (BSD, macOS). */
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
}

static kmqtt_err_t connect_error(int e)
{
    switch (e) {
    case ECONNREFUSED:
        return KMQTT_ECONNREFUSED;
    case ETIMEDOUT:
        return KMQTT_ETIMEDOUT;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
        return KMQTT_ENOMEM;
    default:
        return KMQTT_EIO;
    }
}

/* Connects one address before `deadline`. On KMQTT_OK *out is the connected
 * socket; on any failure nothing stays open. */
static kmqtt_err_t connect_one(tcp_t *t, const struct addrinfo *ai, uint64_t deadline, int *out)
{
    int fd = new_socket(ai);
    int rc;
    if (fd < 0) {
        return connect_error(errno);
    }
    set_options(fd);
    rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    /* EINTR: the connect goes on in the background, so it is waited for
     * exactly like EINPROGRESS (calling connect() again would give
     * EALREADY). */
    if (rc != 0 && errno != EINPROGRESS && errno != EINTR) {
        kmqtt_err_t err = connect_error(errno);
        close_fd(fd);
        return err;
    }
    while (rc != 0) {
        struct pollfd p[2];
        int n;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        p[0].fd = fd;
        p[0].events = POLLOUT;
        p[0].revents = 0;
        p[1].fd = t->wake.rd;
        p[1].events = POLLIN;
        p[1].revents = 0;
        n = poll(p, 2, remaining_ms(deadline));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            close_fd(fd);
            return KMQTT_EIO;
        }
        if (p[1].revents != 0) {
            (void)posix_wake_drain(&t->wake);
            close_fd(fd);
            return KMQTT_ECANCELED;
        }
        if (n == 0) {
            close_fd(fd);
            return KMQTT_ETIMEDOUT;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
            soerr = errno;
        }
        if (soerr != 0) {
            close_fd(fd);
            return connect_error(soerr);
        }
        rc = 0;
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
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    const struct addrinfo *ai;
    char service[8];
    kmqtt_err_t result = KMQTT_EIO;
    unsigned left = 0;
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    int rc;

    if (t == NULL || host == NULL || port == 0) {
        return KMQTT_EINVAL;
    }
    if (t->fd >= 0) {
        return KMQTT_ESTATE; /* one owner per socket: the caller closes first */
    }
    /* A wake() raised before open() cancels it: the caller asked the
     * current or next blocking call to return. */
    if (posix_wake_drain(&t->wake)) {
        return KMQTT_ECANCELED;
    }

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    (void)snprintf(service, sizeof service, "%u", (unsigned)port);
    /* getaddrinfo() cannot be interrupted or bounded; the deadline and the
     * wake signal are checked as soon as it returns. */
    rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0 || list == NULL) {
        if (list != NULL) {
            freeaddrinfo(list);
        }
        return KMQTT_ERESOLVE;
    }
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        left++;
    }
    for (ai = list; ai != NULL; ai = ai->ai_next, left--) {
        uint64_t now = kmqtt_port_now_ms();
        uint64_t slot;
        kmqtt_err_t err;
        int fd = -1;
        if (ai != list && now >= deadline) {
            result = KMQTT_ETIMEDOUT;
            break;
        }
        /* Each address gets a fair share of what is left, so one that
         * black-holes (IPv6 without a route) does not eat the time of the
         * next one; the last gets all the rest. */
        slot = now + (deadline > now ? (deadline - now) / left : 0);
        err = connect_one(t, ai, left == 1 ? deadline : slot, &fd);
        if (err == KMQTT_OK) {
            t->fd = fd;
            freeaddrinfo(list);
            return KMQTT_OK;
        }
        if (err == KMQTT_ECANCELED) {
            result = err;
            break;
        }
        if (err_rank(err) >= err_rank(result)) {
            result = err;
        }
    }
    freeaddrinfo(list);
    return result;
}

static long tcp_send(void *ctx, const void *buf, size_t len)
{
    tcp_t *t = ctx;
    ssize_t n;
    int flags = 0;
    if (t == NULL || (buf == NULL && len > 0)) {
        return KMQTT_EINVAL;
    }
    if (t->fd < 0) {
        return KMQTT_ENOTCONN;
    }
    if (len == 0) {
        return 0;
    }
    if (len > (size_t)LONG_MAX) {
        len = (size_t)LONG_MAX;
    }
#ifdef MSG_NOSIGNAL
    /* A broker that went away must never kill the device with SIGPIPE. */
    flags |= MSG_NOSIGNAL;
#endif
    do {
        n = send(t->fd, buf, len, flags);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        return (long)n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return 0;
    }
    if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) {
        return KMQTT_ECLOSED;
    }
    return KMQTT_EIO;
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
    if (len > (size_t)LONG_MAX) {
        len = (size_t)LONG_MAX;
    }
    do {
        n = recv(t->fd, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        return (long)n;
    }
    if (n == 0) {
        return KMQTT_ECLOSED; /* orderly shutdown by the peer */
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return 0;
    }
    if (errno == ECONNRESET || errno == EPIPE || errno == ENOTCONN) {
        return KMQTT_ECLOSED;
    }
    return KMQTT_EIO;
}

static kmqtt_err_t tcp_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    tcp_t *t = ctx;
    struct pollfd p[2];
    nfds_t count = 1;
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    unsigned got = 0;
    int n;

    if (ready != NULL) {
        *ready = 0;
    }
    if (t == NULL) {
        return KMQTT_EINVAL;
    }
    p[0].fd = t->wake.rd;
    p[0].events = POLLIN;
    p[0].revents = 0;
    p[1].fd = -1;
    p[1].events = 0;
    p[1].revents = 0;
    /* Without a socket only the wake signal is watched: an idle background
     * thread sleeps here until there is work. */
    if (t->fd >= 0 && (events & (KMQTT_WAIT_READ | KMQTT_WAIT_WRITE)) != 0) {
        p[1].fd = t->fd;
        p[1].events = (short)(((events & KMQTT_WAIT_READ) ? POLLIN : 0) |
                              ((events & KMQTT_WAIT_WRITE) ? POLLOUT : 0));
        count = 2;
    }
    for (;;) {
        n = poll(p, count, remaining_ms(deadline));
        if (n >= 0) {
            break;
        }
        if (errno != EINTR) {
            return KMQTT_EIO;
        }
    }
    if (n == 0) {
        return KMQTT_OK;
    }
    if (p[0].revents != 0) {
        (void)posix_wake_drain(&t->wake);
        got |= KMQTT_WAIT_WOKEN;
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
        /* Errors and hang-ups are reported as readiness so that the
         * following recv()/send() picks up the actual error. */
        if (p[1].revents & (POLLERR | POLLHUP)) {
            got |= events & (KMQTT_WAIT_READ | KMQTT_WAIT_WRITE);
        }
    }
    if (ready != NULL) {
        *ready = got;
    }
    return KMQTT_OK;
}

static void tcp_wake(void *ctx)
{
    tcp_t *t = ctx;
    if (t != NULL) {
        posix_wake_signal(&t->wake);
    }
}

static void tcp_close(void *ctx)
{
    tcp_t *t = ctx;
    if (t != NULL && t->fd >= 0) {
        close_fd(t->fd);
        t->fd = -1;
    }
}

static void tcp_destroy(void *ctx)
{
    tcp_t *t = ctx;
    if (t == NULL) {
        return;
    }
    tcp_close(t);
    posix_wake_destroy(&t->wake);
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
    err = posix_wake_create(&t->wake);
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
