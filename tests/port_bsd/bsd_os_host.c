/*
 * The host stand-in behind tests/port_bsd/bsd_os.h: the OS side of the
 * shared transport (flag, lock, a pipe as the wake channel, as RT-Thread's
 * DFS pipe) and the socket calls with the behaviour of the RTOS stacks the
 * test plays.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bsd_tcp.h"

kb_test_mode_t kb_test_mode = KB_TEST_LWIP;
volatile int kb_test_netdown;
kb_test_stats_t kb_test_stats = {0, 0, 0, 0, -1};

static pthread_mutex_t stats_mx = PTHREAD_MUTEX_INITIALIZER;
/* 5.x AT sockets: the error mark an empty non-blocking recv leaves. */
static int at_error_fd = -1;

static void count(unsigned *c, int delta)
{
    pthread_mutex_lock(&stats_mx);
    *c = (unsigned)((int)*c + delta);
    pthread_mutex_unlock(&stats_mx);
}

int kb_test_socket(int domain, int type, int protocol)
{
    int fd = socket(domain, type, protocol);
    if (fd >= 0)
        count(&kb_test_stats.sockets_open, 1);
    return fd;
}

int kb_test_connect(int fd, const struct sockaddr *a, socklen_t len)
{
    return connect(fd, a, len);
}

int kb_test_close(int fd)
{
    if (fd == at_error_fd)
        at_error_fd = -1;
    count(&kb_test_stats.sockets_open, -1);
    return close(fd);
}

int kb_test_send(int fd, const void *buf, size_t len, int flags)
{
    return (int)send(fd, buf, len, flags | MSG_NOSIGNAL);
}

int kb_test_recv(int fd, void *buf, size_t len, int flags)
{
    ssize_t n = recv(fd, buf, len, flags);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && (flags & MSG_DONTWAIT) != 0) {
        count(&kb_test_stats.empty_dontwait, 1);
        if (kb_test_mode == KB_TEST_AT5)
            at_error_fd = fd; /* at_recvfrom: errevent++, never cleared */
        if (kb_test_mode == KB_TEST_AT41) {
            errno = 0;
            return 0; /* at_recvfrom 4.1: "no data" reads as closed */
        }
    }
    return (int)n;
}

int kb_test_poll(struct pollfd *p, nfds_t n, int ms)
{
    nfds_t i;
    int r;

    count(&kb_test_stats.polls, 1);
    if (kb_test_netdown) {
        errno = 0; /* SAL's poll returns -1 without errno */
        return -1;
    }
    r = poll(p, n, ms);
    for (i = 0; r >= 0 && i < n; i++) {
        if (p[i].fd == at_error_fd) {
            if (p[i].revents == 0)
                r++;
            p[i].revents |= POLLERR;
        }
    }
    return r;
}

int kb_test_fcntl(int fd, int cmd, int arg)
{
    if (kb_test_mode != KB_TEST_LWIP) {
        errno = 0; /* dfs_net_ioctl -> sal_ioctlsocket: ioctlsocket NULL, -1 */
        return -1;
    }
    return fcntl(fd, cmd, arg);
}

/* ---------------------------------------------------------- the OS side */

kmqtt_err_t kb_os_init(kmqtt_bsd_os_t *os)
{
    pthread_condattr_t ca;

    os->flag = 0;
    os->pipe_rd = -1;
    os->pipe_wr = -1;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&os->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&os->mx, NULL);
    pthread_mutex_init(&os->lock, NULL);
    return KMQTT_OK;
}

void kb_os_fini(kmqtt_bsd_os_t *os)
{
    pthread_cond_destroy(&os->cv);
    pthread_mutex_destroy(&os->mx);
    pthread_mutex_destroy(&os->lock);
}

void kb_flag_set(kmqtt_bsd_os_t *os)
{
    pthread_mutex_lock(&os->mx);
    os->flag = 1;
    pthread_cond_broadcast(&os->cv);
    pthread_mutex_unlock(&os->mx);
}

bool kb_flag_take(kmqtt_bsd_os_t *os, uint32_t ms)
{
    struct timespec until;
    bool got;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000u);
    until.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&os->mx);
    while (!os->flag && ms > 0 && pthread_cond_timedwait(&os->cv, &os->mx, &until) == 0) {
    }
    got = os->flag != 0;
    os->flag = 0;
    pthread_mutex_unlock(&os->mx);
    return got;
}

void kb_lock(kmqtt_bsd_os_t *os)
{
    pthread_mutex_lock(&os->lock);
}

void kb_unlock(kmqtt_bsd_os_t *os)
{
    pthread_mutex_unlock(&os->lock);
}

int kb_chan_open(kmqtt_bsd_os_t *os, kmqtt_mem_t *m)
{
    int fds[2];

    (void)m;
    if (pipe(fds) != 0)
        return -1;
    (void)fcntl(fds[0], F_SETFL, O_NONBLOCK);
    (void)fcntl(fds[1], F_SETFL, O_NONBLOCK);
    os->pipe_rd = fds[0];
    os->pipe_wr = fds[1];
    count(&kb_test_stats.chans_open, 1);
    return os->pipe_rd;
}

void kb_chan_ping(kmqtt_bsd_os_t *os)
{
    ssize_t n = write(os->pipe_wr, "w", 1);
    (void)n;
}

void kb_chan_drain(kmqtt_bsd_os_t *os)
{
    char buf[16];
    while (read(os->pipe_rd, buf, sizeof buf) > 0) {
    }
}

void kb_chan_close(kmqtt_bsd_os_t *os, kmqtt_mem_t *m)
{
    (void)m;
    close(os->pipe_rd);
    close(os->pipe_wr);
    os->pipe_rd = -1;
    os->pipe_wr = -1;
    count(&kb_test_stats.chans_open, -1);
}

void kb_note_socket(kmqtt_mem_t *m, int fd, int chan, const char *host, uint16_t port,
                    bool blocking)
{
    (void)m;
    (void)chan;
    (void)host;
    (void)port;
    kb_test_stats.last_blocking = fd < 0 ? -1 : (blocking ? 1 : 0);
}
