/*
 * The TCP transport over a BSD socket API, shared by the RTOS ports
 * (RT-Thread SAL over lwIP or AT sockets, FreeRTOS + lwIP). What differs
 * between stacks is a switch in the port's bsd_os.h (see bsd_tcp.h).
 *
 * The wake-up: wake() sets a flag (the truth of whether a wake is pending)
 * and, while a connection is open, makes the port's wake channel readable so
 * a wait blocked on the socket returns at once. The channel is opened with
 * the connection and closed with it; with nothing open a wait sleeps on the
 * flag alone and touches no socket, so a device whose modem is off sleeps
 * until its timeout instead of spinning on errors from a stack that is down.
 *
 * A stack that fails under an open connection (RT-Thread: the netdev went
 * down, poll() fails at once) makes the wait report the socket ready and the
 * next send or recv report the error, once: the client then closes the
 * connection and the next wait sleeps.
 */
#include <string.h>

#include "bsd_tcp.h"

typedef struct kb_tcp {
    kmqtt_mem_t *mem;
    int fd;        /* -1 when closed */
    int chan;      /* the wake channel's descriptor; -1: none */
    bool blocking; /* the stack refused O_NONBLOCK (AT sockets) */
    bool broken;   /* a wait saw the stack fail under this connection */
    kmqtt_bsd_os_t os;
} kb_tcp_t;

#define EV_READ  1u
#define EV_WRITE 2u
#define EV_ERROR 4u /* error or hang-up on the socket */
#define EV_CHAN  8u /* the wake channel is readable */

static uint32_t remaining(uint64_t deadline)
{
    uint64_t now = kmqtt_port_now_ms();
    uint64_t left = deadline > now ? deadline - now : 0;
    return left > 0x7FFFFFFFu ? 0x7FFFFFFFu : (uint32_t)left;
}

/* ------------------------------------------------------------ readiness */

/* Waits up to ms for fd (want: EV_READ / EV_WRITE) and the channel (chan >=
 * 0); *got says what is ready. Returns the poll/select result (< 0: error,
 * errno set). */
static int readiness(int fd, unsigned want, int chan, uint32_t ms, unsigned *got)
{
    int n;
#if KMQTT_BSD_POLL
    struct pollfd p[2];
    nfds_t count = 0;

    *got = 0;
    if (fd >= 0) {
        p[count].fd = fd;
        p[count].events =
            (short)(((want & EV_READ) != 0 ? POLLIN : 0) | ((want & EV_WRITE) != 0 ? POLLOUT : 0));
        p[count].revents = 0;
        count++;
    }
    if (chan >= 0) {
        p[count].fd = chan;
        p[count].events = POLLIN;
        p[count].revents = 0;
        count++;
    }
    errno = 0;
    n = KB_POLL(p, count, ms > 0x7FFFFFFFu ? 0x7FFFFFFF : (int)ms);
    if (n > 0) {
        nfds_t i = 0;
        if (fd >= 0) {
            if ((p[0].revents & POLLIN) != 0)
                *got |= EV_READ;
            if ((p[0].revents & POLLOUT) != 0)
                *got |= EV_WRITE;
            if ((p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0)
                *got |= EV_ERROR;
            i = 1;
        }
        if (chan >= 0 && (p[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0)
            *got |= EV_CHAN;
    }
#else
    fd_set rd, wr, ex;
    struct timeval tv;
    int maxfd = fd > chan ? fd : chan;

    *got = 0;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    if (fd >= 0) {
        if ((want & EV_READ) != 0)
            FD_SET(fd, &rd);
        if ((want & EV_WRITE) != 0)
            FD_SET(fd, &wr);
        FD_SET(fd, &ex); /* select reports a socket error only here */
    }
    if (chan >= 0)
        FD_SET(chan, &rd);
    tv.tv_sec = (long)(ms / 1000u);
    tv.tv_usec = (long)(ms % 1000u) * 1000L;
    errno = 0;
    n = KB_SELECT(maxfd + 1, &rd, &wr, &ex, &tv);
    if (n > 0) {
        if (fd >= 0 && FD_ISSET(fd, &rd))
            *got |= EV_READ;
        if (fd >= 0 && FD_ISSET(fd, &wr))
            *got |= EV_WRITE;
        if (fd >= 0 && FD_ISSET(fd, &ex))
            *got |= EV_ERROR;
        if (chan >= 0 && FD_ISSET(chan, &rd))
            *got |= EV_CHAN;
    }
#endif
    return n;
}

/* ------------------------------------------------------------- wake-up */

/* Consumes a pending wake; true if there was one. */
static bool wake_take(kb_tcp_t *t)
{
    if (t->chan >= 0)
        kb_chan_drain(&t->os);
    return kb_flag_take(&t->os, 0);
}

static void tcp_wake(void *ctx)
{
    kb_tcp_t *t = ctx;

    if (t == NULL)
        return;
    kb_flag_set(&t->os);
    kb_lock(&t->os);
    if (t->chan >= 0)
        kb_chan_ping(&t->os);
    kb_unlock(&t->os);
}

static void chan_open(kb_tcp_t *t)
{
    kb_lock(&t->os);
    t->chan = kb_chan_open(&t->os, t->mem);
    kb_unlock(&t->os);
}

static void chan_close(kb_tcp_t *t)
{
    kb_lock(&t->os);
    if (t->chan >= 0)
        kb_chan_close(&t->os, t->mem);
    t->chan = -1;
    kb_unlock(&t->os);
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

static bool set_nonblock(int fd)
{
#if KMQTT_BSD_FCNTL
    int fl;

    errno = 0;
    fl = KB_FCNTL(fd, F_GETFL, 0);
    return fl >= 0 && KB_FCNTL(fd, F_SETFL, fl | O_NONBLOCK) == 0;
#else
    (void)fd;
    return false;
#endif
}

/* A blocking connect (the stack has no non-blocking mode): bounded by the
 * socket timeouts where the stack honours them for connect, otherwise by
 * the stack's own (an AT modem driver's command timeout). A wake during it
 * is seen when it returns. */
static kmqtt_err_t connect_blocking(kb_tcp_t *t, int fd, const struct addrinfo *ai,
                                    uint64_t deadline)
{
    uint32_t left = remaining(deadline);
    struct timeval tv;
    int rc;

    tv.tv_sec = (long)(left / 1000u);
    tv.tv_usec = (long)(left % 1000u) * 1000L;
    (void)KB_SETSOCKOPT(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    (void)KB_SETSOCKOPT(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    errno = 0;
    rc = KB_CONNECT(fd, ai->ai_addr, ai->ai_addrlen);
    if (kb_flag_take(&t->os, 0))
        return KMQTT_ECANCELED;
    if (rc == 0)
        return KMQTT_OK;
    if (remaining(deadline) == 0)
        return KMQTT_ETIMEDOUT;
    return errno != 0 ? connect_error(errno) : KMQTT_EIO;
}

static kmqtt_err_t connect_nonblocking(kb_tcp_t *t, int fd, const struct addrinfo *ai,
                                       uint64_t deadline)
{
    errno = 0;
    if (KB_CONNECT(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return KMQTT_OK;
    if (errno != EINPROGRESS && errno != EWOULDBLOCK)
        return connect_error(errno);
    for (;;) {
        uint32_t ms = remaining(deadline);
        unsigned got;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        int n;

        if (t->chan < 0 && ms > KMQTT_BSD_WAKE_POLL_MS)
            ms = KMQTT_BSD_WAKE_POLL_MS;
        else if (!KMQTT_BSD_CHAN_SURE && ms > KMQTT_BSD_WAKE_SLICE_MS)
            ms = KMQTT_BSD_WAKE_SLICE_MS;
        n = readiness(fd, EV_WRITE, t->chan, ms, &got);
        if (wake_take(t))
            return KMQTT_ECANCELED;
        if (n < 0 && errno != EINTR)
            return KMQTT_EIO;
        if ((got & (EV_WRITE | EV_ERROR)) == 0) {
            if (remaining(deadline) == 0)
                return KMQTT_ETIMEDOUT;
            continue;
        }
        if (KB_GETSOCKOPT(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
            soerr = errno != 0 ? errno : EIO;
        return soerr == 0 ? KMQTT_OK : connect_error(soerr);
    }
}

static kmqtt_err_t connect_one(kb_tcp_t *t, const struct addrinfo *ai, uint64_t deadline)
{
    kmqtt_err_t err;
    int fd;

    errno = 0;
    fd = KB_SOCKET(ai->ai_family, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0)
        return errno != 0 ? connect_error(errno) : KMQTT_EIO;
#if KMQTT_BSD_NODELAY
    {
        /* MQTT packets are small; latency matters more than segment count. */
        int one = 1;
        (void)KB_SETSOCKOPT(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
#endif
    t->blocking = !set_nonblock(fd);
    err = t->blocking ? connect_blocking(t, fd, ai, deadline)
                      : connect_nonblocking(t, fd, ai, deadline);
    if (err != KMQTT_OK) {
        (void)KB_CLOSE(fd);
        return err;
    }
    t->fd = fd;
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
    kb_tcp_t *t = ctx;
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
    if (kb_flag_take(&t->os, 0))
        return KMQTT_ECANCELED;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    port_text(port, service);
    /* DNS blocks for as long as the stack's resolver takes (a modem's own
     * resolver for AT sockets); the deadline and a wake are looked at once
     * it returns. */
    if (KB_GETADDRINFO(host, service, &hints, &list) != 0 || list == NULL)
        return KMQTT_ERESOLVE;
    chan_open(t);
    t->broken = false;
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        if (remaining(deadline) == 0) {
            result = KMQTT_ETIMEDOUT;
            break;
        }
        result = connect_one(t, ai, deadline);
        if (result == KMQTT_OK || result == KMQTT_ECANCELED)
            break;
    }
    KB_FREEADDRINFO(list);
    if (result != KMQTT_OK) {
        chan_close(t);
        return result;
    }
    kb_note_socket(t->mem, t->fd, t->chan, host, port, t->blocking);
    return KMQTT_OK;
}

/* ------------------------------------------------------ send and receive */

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

/* A blocking socket is only called when it is ready: an AT socket's
 * non-blocking recv with nothing to read marks the socket in error for good
 * (RT-Thread 5.x) or returns 0 as if closed (4.1). */
static unsigned ready_now(kb_tcp_t *t, unsigned want)
{
    unsigned got = 0;

    if (readiness(t->fd, want, -1, 0, &got) < 0 && errno != EINTR)
        got |= EV_ERROR;
    return got;
}

/* Rule 6: send returns what the stack really took; 0 means nothing was
 * taken and the same bytes come again. */
static long tcp_send(void *ctx, const void *buf, size_t len)
{
    kb_tcp_t *t = ctx;
    int n;

    if (t == NULL || (buf == NULL && len > 0))
        return KMQTT_EINVAL;
    if (t->fd < 0)
        return KMQTT_ENOTCONN;
    if (t->broken)
        return KMQTT_EIO;
    if (len == 0)
        return 0;
    if (len > 0x7FFFFFFFu)
        len = 0x7FFFFFFFu;
    if (t->blocking && ready_now(t, EV_WRITE) == 0)
        return 0;
    errno = 0;
    /* No SIGPIPE on an RTOS: a dead peer is an error return. */
    n = KB_SEND(t->fd, buf, len, 0);
    if (n < 0 && errno == 0)
        return KMQTT_EIO; /* SAL refuses without errno when the netdev is down */
    return io_result(n, false);
}

static long tcp_recv(void *ctx, void *buf, size_t len)
{
    kb_tcp_t *t = ctx;
    unsigned got = EV_READ;
    int n;

    if (t == NULL || (buf == NULL && len > 0))
        return KMQTT_EINVAL;
    if (t->fd < 0)
        return KMQTT_ENOTCONN;
    if (t->broken)
        return KMQTT_EIO;
    if (len == 0)
        return 0;
    if (len > 0x7FFFFFFFu)
        len = 0x7FFFFFFFu;
    if (t->blocking) {
        got = ready_now(t, EV_READ);
        if (got == 0)
            return 0;
    }
    errno = 0;
    n = KB_RECV(t->fd, buf, len, MSG_DONTWAIT);
    if (n < 0 && errno == 0)
        return KMQTT_EIO;
    if (n < 0 && t->blocking && (got & EV_READ) == 0) {
        /* Only an error was flagged and nothing came: that is the error. */
        return KMQTT_ECLOSED;
    }
    return io_result(n, true);
}

/* ---------------------------------------------------------------- wait */

static kmqtt_err_t tcp_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    kb_tcp_t *t = ctx;
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    unsigned want = 0, got = 0, out = 0;

    if (ready != NULL)
        *ready = 0;
    if (t == NULL)
        return KMQTT_EINVAL;
    if (t->fd < 0) {
        /* Nothing open: no socket to watch, and none to fail because the
         * network is down. Sleep on the flag until a wake or the timeout. */
        if (kb_flag_take(&t->os, timeout_ms) && ready != NULL)
            *ready = KMQTT_WAIT_WOKEN;
        return KMQTT_OK;
    }
    if ((events & KMQTT_WAIT_READ) != 0)
        want |= EV_READ;
    if ((events & KMQTT_WAIT_WRITE) != 0)
        want |= EV_WRITE;
    if (t->broken)
        out = events & (KMQTT_WAIT_READ | KMQTT_WAIT_WRITE);
    while (out == 0) {
        uint32_t ms = remaining(deadline);
        int n;

        if (t->chan < 0 && ms > KMQTT_BSD_WAKE_POLL_MS)
            ms = KMQTT_BSD_WAKE_POLL_MS;
        else if (!KMQTT_BSD_CHAN_SURE && ms > KMQTT_BSD_WAKE_SLICE_MS)
            ms = KMQTT_BSD_WAKE_SLICE_MS;
        n = readiness(t->fd, want, t->chan, ms, &got);
        if (n < 0 && errno != EINTR) {
            /* The stack failed under the connection (RT-Thread: SAL's poll
             * on a socket whose netdev is down). Report the socket ready so
             * the client's next send/recv gets the error and closes. */
            t->broken = true;
            out = events & (KMQTT_WAIT_READ | KMQTT_WAIT_WRITE);
        }
        if ((got & EV_ERROR) != 0)
            got |= want; /* the next send or recv says what went wrong */
        if ((got & EV_READ) != 0)
            out |= KMQTT_WAIT_READ;
        if ((got & EV_WRITE) != 0)
            out |= KMQTT_WAIT_WRITE;
        if (wake_take(t))
            out |= KMQTT_WAIT_WOKEN;
        if (remaining(deadline) == 0)
            break;
        if (out == 0 && n > 0 && (got & EV_CHAN) == 0) {
            /* Ready for something not asked for (a stack that reports an
             * error select() cannot name): do not spin on it. */
            kmqtt_port_sleep_ms(1);
        }
    }
    if (ready != NULL)
        *ready = out;
    return KMQTT_OK;
}

/* ------------------------------------------------------------ the rest */

static void tcp_close(void *ctx)
{
    kb_tcp_t *t = ctx;

    if (t == NULL || t->fd < 0)
        return;
    (void)KB_CLOSE(t->fd);
    t->fd = -1;
    t->broken = false;
    chan_close(t);
    kb_note_socket(t->mem, -1, -1, NULL, 0, false);
}

static void tcp_destroy(void *ctx)
{
    kb_tcp_t *t = ctx;

    if (t == NULL)
        return;
    tcp_close(t);
    kb_os_fini(&t->os);
    (void)kmqtt_mem_free(t->mem, t);
}

kmqtt_err_t kmqtt_port_tcp_create(kmqtt_mem_t *m, kmqtt_transport_t *out)
{
    kb_tcp_t *t;

    if (m == NULL || out == NULL)
        return KMQTT_EINVAL;
    memset(out, 0, sizeof *out);
    t = kmqtt_mem_alloc(m, "tcp", sizeof *t);
    if (t == NULL)
        return KMQTT_ENOMEM;
    memset(t, 0, sizeof *t);
    t->mem = m;
    t->fd = -1;
    t->chan = -1;
    if (kb_os_init(&t->os) != KMQTT_OK) {
        (void)kmqtt_mem_free(m, t);
        return KMQTT_ENOMEM;
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
    return sizeof(kb_tcp_t);
}
