/*
 * The POSIX port against real sockets on loopback: the test opens its own
 * listeners on 127.0.0.1 and ::1, no broker involved.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "kmqtt/port.h"

/* ------------------------------------------------------------- helpers */

typedef struct fixture {
    kmqtt_mem_t mem;
    kmqtt_transport_t tr;
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    kmqtt_mem_config_t cfg;
    memset(&f, 0, sizeof f);
    memset(&cfg, 0, sizeof cfg);
    cfg.debug = true;
    if (kmqtt_mem_init(&f.mem, &cfg) != KMQTT_OK) {
        return -1;
    }
    if (kmqtt_port_tcp_create(&f.mem, &f.tr) != KMQTT_OK) {
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    kmqtt_mem_stats_t st;
    f->tr.destroy(f->tr.ctx);
    kmqtt_mem_get_stats(&f->mem, &st);
    /* Everything the transport took from its context is back. */
    return st.blocks == 0 ? 0 : -1;
}

static size_t live_blocks(const kmqtt_mem_t *m)
{
    kmqtt_mem_stats_t st;
    kmqtt_mem_get_stats(m, &st);
    return st.blocks;
}

/* A listening socket on addr (an IPv4 or IPv6 literal), port chosen by the
 * kernel. Returns -1 if the address family is not available here. */
static int listen_on(const char *addr, int backlog, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    int fd;
    memset(&ss, 0, sizeof ss);
    if (strchr(addr, ':') != NULL) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, addr, &a6->sin6_addr) != 1) {
            return -1;
        }
        len = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        if (inet_pton(AF_INET, addr, &a4->sin_addr) != 1) {
            return -1;
        }
        len = sizeof *a4;
    }
    fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Accepts one connection within 2 s; -1 if none came. */
static int accept_within(int lfd)
{
    struct pollfd p;
    p.fd = lfd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, 2000) != 1) {
        return -1;
    }
    return accept(lfd, NULL, NULL);
}

/* A loopback port nobody listens on: bound and released again. */
static uint16_t free_port(void)
{
    uint16_t port = 0;
    int fd = listen_on("127.0.0.1", 1, &port);
    assert_true(fd >= 0);
    close(fd);
    return port;
}

/* Fills the accept queue of lfd (listening with backlog 0) with connections
 * nobody accepts, until a new SYN is no longer answered. The descriptors go
 * to fds; returns how many, or -1 if the stack never stopped answering. */
static int fill_backlog(uint16_t port, int *fds, int max)
{
    struct sockaddr_in a;
    int i;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < max; i++) {
        struct pollfd p;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            return -1;
        }
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fds[i] = fd;
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            continue;
        }
        p.fd = fd;
        p.events = POLLOUT;
        p.revents = 0;
        if (poll(&p, 1, 200) == 0) {
            return i + 1; /* this one hangs: the queue is full */
        }
    }
    return -1;
}

static void close_all(int *fds, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        close(fds[i]);
    }
}

/* Calls wake() on a transport after a delay, from another thread. */
typedef struct waker {
    kmqtt_transport_t *tr;
    uint32_t delay_ms;
} waker_t;

static void waker_run(void *arg)
{
    waker_t *w = arg;
    kmqtt_port_sleep_ms(w->delay_ms);
    w->tr->wake(w->tr->ctx);
}

/* Connects the transport to a fresh 127.0.0.1 listener; returns the
 * listener and the accepted server side. */
static void connect_pair(fixture_t *f, int *lfd, int *sfd)
{
    uint16_t port = 0;
    *lfd = listen_on("127.0.0.1", 8, &port);
    assert_true(*lfd >= 0);
    assert_int_equal(f->tr.open(f->tr.ctx, "127.0.0.1", port, 2000), KMQTT_OK);
    *sfd = accept_within(*lfd);
    assert_true(*sfd >= 0);
}

static void round_trip(fixture_t *f, int sfd)
{
    char buf[16];
    unsigned ready = 0;
    long n;
    assert_int_equal(f->tr.send(f->tr.ctx, "hello", 5), 5);
    assert_int_equal(recv(sfd, buf, sizeof buf, 0), 5);
    assert_memory_equal(buf, "hello", 5);
    /* Nothing to read yet: recv says "nothing", not an error. */
    assert_int_equal(f->tr.recv(f->tr.ctx, buf, sizeof buf), 0);
    assert_int_equal(send(sfd, "world!", 6, 0), 6);
    assert_int_equal(f->tr.wait(f->tr.ctx, KMQTT_WAIT_READ, 2000, &ready), KMQTT_OK);
    assert_true(ready & KMQTT_WAIT_READ);
    n = f->tr.recv(f->tr.ctx, buf, sizeof buf);
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "world!", 6);
}

/* ------------------------------------------------------------ transport */

static void test_connects_to_ipv4_loopback_and_exchanges_bytes(void **state)
{
    fixture_t *f = *state;
    int lfd, sfd;
    connect_pair(f, &lfd, &sfd);
    round_trip(f, sfd);
    f->tr.close(f->tr.ctx);
    close(sfd);
    close(lfd);
}

static void test_connects_to_ipv6_loopback_and_exchanges_bytes(void **state)
{
    fixture_t *f = *state;
    uint16_t port = 0;
    int lfd = listen_on("::1", 8, &port);
    int sfd;
    if (lfd < 0) {
        fail_msg("cannot listen on ::1: IPv6 loopback is needed to test IPv6 connects");
    }
    assert_int_equal(f->tr.open(f->tr.ctx, "::1", port, 2000), KMQTT_OK);
    sfd = accept_within(lfd);
    assert_true(sfd >= 0);
    round_trip(f, sfd);
    f->tr.close(f->tr.ctx);
    close(sfd);
    close(lfd);
}

static void test_connects_by_name_localhost_trying_each_address(void **state)
{
    fixture_t *f = *state;
    uint16_t port = 0;
    /* Only IPv4 listens: where localhost also resolves to ::1, that address
     * is refused first and the next one must still be tried. */
    int lfd = listen_on("127.0.0.1", 8, &port);
    int sfd;
    assert_true(lfd >= 0);
    assert_int_equal(f->tr.open(f->tr.ctx, "localhost", port, 2000), KMQTT_OK);
    sfd = accept_within(lfd);
    assert_true(sfd >= 0);
    round_trip(f, sfd);
    f->tr.close(f->tr.ctx);
    close(sfd);
    close(lfd);
}

static void test_refused_port_gives_econnrefused_and_leaves_no_fd(void **state)
{
    fixture_t *f = *state;
    uint16_t port = free_port();
    int before = count_open_fds();
    char c;
    assert_int_equal(f->tr.open(f->tr.ctx, "127.0.0.1", port, 2000), KMQTT_ECONNREFUSED);
    assert_int_equal(count_open_fds(), before);
    /* Nothing is open: send and recv say so. */
    assert_int_equal(f->tr.send(f->tr.ctx, "x", 1), KMQTT_ENOTCONN);
    assert_int_equal(f->tr.recv(f->tr.ctx, &c, 1), KMQTT_ENOTCONN);
}

static void test_unresolvable_name_gives_eresolve(void **state)
{
    fixture_t *f = *state;
    int before = count_open_fds();
    /* A 64-character label is not a valid DNS name: refused locally, no query sent. */
    assert_int_equal(
        f->tr.open(f->tr.ctx,
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.invalid", 1883,
                   2000),
        KMQTT_ERESOLVE);
    assert_int_equal(count_open_fds(), before);
}

static void test_connect_to_full_backlog_times_out(void **state)
{
    fixture_t *f = *state;
    uint16_t port = 0;
    int lfd = listen_on("127.0.0.1", 0, &port);
    int fds[64];
    int n, before;
    uint64_t t0, took;
    assert_true(lfd >= 0);
    n = fill_backlog(port, fds, 64);
    if (n < 0) {
        close(lfd);
        fail_msg("could not fill the listen backlog: no way to stall a connect on loopback");
    }
    before = count_open_fds();
    t0 = kmqtt_port_now_ms();
    assert_int_equal(f->tr.open(f->tr.ctx, "127.0.0.1", port, 300), KMQTT_ETIMEDOUT);
    took = kmqtt_port_now_ms() - t0;
    assert_true(took >= 290);
    assert_true(took < 1500);
    assert_int_equal(count_open_fds(), before);
    close_all(fds, n);
    close(lfd);
}

static void test_wake_cancels_a_connect_in_progress_promptly(void **state)
{
    fixture_t *f = *state;
    uint16_t port = 0;
    int lfd = listen_on("127.0.0.1", 0, &port);
    int fds[64];
    int n, before;
    waker_t w;
    kmqtt_port_thread_t *th = NULL;
    uint64_t t0, took;
    assert_true(lfd >= 0);
    n = fill_backlog(port, fds, 64);
    if (n < 0) {
        close(lfd);
        fail_msg("could not fill the listen backlog: no way to stall a connect on loopback");
    }
    before = count_open_fds();
    w.tr = &f->tr;
    w.delay_ms = 150;
    t0 = kmqtt_port_now_ms();
    assert_int_equal(kmqtt_port_thread_start(&f->mem, &th, waker_run, &w), KMQTT_OK);
    assert_int_equal(f->tr.open(f->tr.ctx, "127.0.0.1", port, 10000), KMQTT_ECANCELED);
    took = kmqtt_port_now_ms() - t0;
    kmqtt_port_thread_join(&f->mem, th);
    assert_true(took >= 100);
    assert_true(took < 1000);
    assert_int_equal(count_open_fds(), before);
    close_all(fds, n);
    close(lfd);
}

static void test_wake_before_open_cancels_that_open_only(void **state)
{
    fixture_t *f = *state;
    uint16_t port = 0;
    int lfd = listen_on("127.0.0.1", 8, &port);
    int sfd;
    assert_true(lfd >= 0);
    f->tr.wake(f->tr.ctx);
    f->tr.wake(f->tr.ctx);
    assert_int_equal(f->tr.open(f->tr.ctx, "127.0.0.1", port, 2000), KMQTT_ECANCELED);
    /* The signal was consumed, however many times it was raised. */
    assert_int_equal(f->tr.open(f->tr.ctx, "127.0.0.1", port, 2000), KMQTT_OK);
    sfd = accept_within(lfd);
    assert_true(sfd >= 0);
    f->tr.close(f->tr.ctx);
    close(sfd);
    close(lfd);
}

static void test_open_while_open_is_refused(void **state)
{
    fixture_t *f = *state;
    int lfd, sfd;
    connect_pair(f, &lfd, &sfd);
    assert_int_equal(f->tr.open(f->tr.ctx, "127.0.0.1", 1, 100), KMQTT_ESTATE);
    /* The first connection is untouched. */
    round_trip(f, sfd);
    f->tr.close(f->tr.ctx);
    f->tr.close(f->tr.ctx); /* idempotent */
    close(sfd);
    close(lfd);
}

static void test_peer_close_makes_recv_return_eclosed(void **state)
{
    fixture_t *f = *state;
    int lfd, sfd;
    unsigned ready = 0;
    char buf[8];
    connect_pair(f, &lfd, &sfd);
    assert_int_equal(send(sfd, "bye", 3, 0), 3);
    close(sfd);
    assert_int_equal(f->tr.wait(f->tr.ctx, KMQTT_WAIT_READ, 2000, &ready), KMQTT_OK);
    assert_true(ready & KMQTT_WAIT_READ);
    /* Data sent before the close still arrives, then the close. */
    assert_int_equal(f->tr.recv(f->tr.ctx, buf, sizeof buf), 3);
    assert_int_equal(f->tr.recv(f->tr.ctx, buf, sizeof buf), KMQTT_ECLOSED);
    f->tr.close(f->tr.ctx);
    close(lfd);
}

static void test_send_to_closed_peer_fails_without_sigpipe(void **state)
{
    fixture_t *f = *state;
    int lfd, sfd, i;
    long rc = 0;
    static const char chunk[1024] = {0};
    /* Default disposition on purpose: a SIGPIPE would kill this test. */
    signal(SIGPIPE, SIG_DFL);
    connect_pair(f, &lfd, &sfd);
    close(sfd);
    /* The first send may still be accepted (the peer answers it with RST);
     * a later one must fail. */
    for (i = 0; i < 200 && rc >= 0; i++) {
        unsigned ready = 0;
        rc = f->tr.send(f->tr.ctx, chunk, sizeof chunk);
        if (rc >= 0) {
            (void)f->tr.wait(f->tr.ctx, KMQTT_WAIT_WRITE, 20, &ready);
        }
    }
    assert_true(rc < 0);
    assert_true(rc == KMQTT_ECLOSED || rc == KMQTT_EIO);
    f->tr.close(f->tr.ctx);
    close(lfd);
}

static void test_wait_times_out_with_nothing_ready(void **state)
{
    fixture_t *f = *state;
    int lfd, sfd;
    unsigned ready = 99;
    uint64_t t0, took;
    connect_pair(f, &lfd, &sfd);
    t0 = kmqtt_port_now_ms();
    assert_int_equal(f->tr.wait(f->tr.ctx, KMQTT_WAIT_READ, 200, &ready), KMQTT_OK);
    took = kmqtt_port_now_ms() - t0;
    assert_int_equal(ready, 0);
    assert_true(took >= 190);
    assert_true(took < 1000);
    /* A fresh connection is writable at once. */
    assert_int_equal(f->tr.wait(f->tr.ctx, KMQTT_WAIT_WRITE, 2000, &ready), KMQTT_OK);
    assert_int_equal(ready, KMQTT_WAIT_WRITE);
    f->tr.close(f->tr.ctx);
    close(sfd);
    close(lfd);
}

static void test_wake_from_another_thread_ends_a_blocked_wait(void **state)
{
    fixture_t *f = *state;
    int lfd, sfd;
    unsigned ready = 0;
    waker_t w;
    kmqtt_port_thread_t *th = NULL;
    uint64_t t0, took;
    connect_pair(f, &lfd, &sfd);
    w.tr = &f->tr;
    w.delay_ms = 100;
    t0 = kmqtt_port_now_ms();
    assert_int_equal(kmqtt_port_thread_start(&f->mem, &th, waker_run, &w), KMQTT_OK);
    assert_int_equal(f->tr.wait(f->tr.ctx, KMQTT_WAIT_READ, 5000, &ready), KMQTT_OK);
    took = kmqtt_port_now_ms() - t0;
    kmqtt_port_thread_join(&f->mem, th);
    assert_int_equal(ready, KMQTT_WAIT_WOKEN);
    assert_true(took < 1000);
    f->tr.close(f->tr.ctx);
    close(sfd);
    close(lfd);
}

static void test_wake_while_nobody_waits_ends_the_next_wait_once(void **state)
{
    fixture_t *f = *state;
    unsigned ready = 0;
    uint64_t t0;
    /* Not open: wait watches only the wake signal (an idle loop thread). */
    f->tr.wake(f->tr.ctx);
    t0 = kmqtt_port_now_ms();
    assert_int_equal(f->tr.wait(f->tr.ctx, KMQTT_WAIT_READ, 5000, &ready), KMQTT_OK);
    assert_int_equal(ready, KMQTT_WAIT_WOKEN);
    assert_true(kmqtt_port_now_ms() - t0 < 500);
    /* Consumed: the next wait runs to its timeout. */
    t0 = kmqtt_port_now_ms();
    assert_int_equal(f->tr.wait(f->tr.ctx, 0, 100, &ready), KMQTT_OK);
    assert_int_equal(ready, 0);
    assert_true(kmqtt_port_now_ms() - t0 >= 90);
}

static void test_wake_with_data_ready_reports_both(void **state)
{
    fixture_t *f = *state;
    int lfd, sfd;
    unsigned ready = 0;
    char c;
    connect_pair(f, &lfd, &sfd);
    assert_int_equal(send(sfd, "x", 1, 0), 1);
    kmqtt_port_sleep_ms(50);
    f->tr.wake(f->tr.ctx);
    assert_int_equal(f->tr.wait(f->tr.ctx, KMQTT_WAIT_READ, 2000, &ready), KMQTT_OK);
    assert_int_equal(ready, KMQTT_WAIT_READ | KMQTT_WAIT_WOKEN);
    assert_int_equal(f->tr.recv(f->tr.ctx, &c, 1), 1);
    f->tr.close(f->tr.ctx);
    close(sfd);
    close(lfd);
}

typedef struct hammer {
    kmqtt_transport_t *tr;
    kmqtt_port_mutex_t *mx;
    bool stop;
    unsigned wakes;
} hammer_t;

static void hammer_run(void *arg)
{
    hammer_t *h = arg;
    for (;;) {
        bool stop;
        kmqtt_port_mutex_lock(h->mx);
        stop = h->stop;
        kmqtt_port_mutex_unlock(h->mx);
        if (stop) {
            break;
        }
        h->tr->wake(h->tr->ctx);
        h->wakes++;
        kmqtt_port_sleep_ms(1);
    }
}

static void test_wake_from_another_thread_is_safe_during_open_and_close(void **state)
{
    fixture_t *f = *state;
    uint16_t port = 0;
    int lfd = listen_on("127.0.0.1", 16, &port);
    int fds_before, i, opened = 0;
    hammer_t h;
    kmqtt_port_thread_t *th = NULL;
    assert_true(lfd >= 0);
    fds_before = count_open_fds();
    memset(&h, 0, sizeof h);
    h.tr = &f->tr;
    assert_int_equal(kmqtt_port_mutex_create(&f->mem, &h.mx), KMQTT_OK);
    assert_int_equal(kmqtt_port_thread_start(&f->mem, &th, hammer_run, &h), KMQTT_OK);
    for (i = 0; i < 100; i++) {
        unsigned ready = 0;
        kmqtt_err_t err = f->tr.open(f->tr.ctx, "127.0.0.1", port, 2000);
        /* Either the wake got there first or the connection is up. */
        assert_true(err == KMQTT_OK || err == KMQTT_ECANCELED);
        if (err == KMQTT_OK) {
            int sfd = accept_within(lfd);
            assert_true(sfd >= 0);
            opened++;
            assert_int_equal(f->tr.wait(f->tr.ctx, KMQTT_WAIT_READ, 2000, &ready), KMQTT_OK);
            assert_true(ready & KMQTT_WAIT_WOKEN);
            f->tr.close(f->tr.ctx);
            close(sfd);
        }
    }
    kmqtt_port_mutex_lock(h.mx);
    h.stop = true;
    kmqtt_port_mutex_unlock(h.mx);
    kmqtt_port_thread_join(&f->mem, th);
    kmqtt_port_mutex_destroy(&f->mem, h.mx);
    assert_true(h.wakes > 0);
    assert_int_equal(count_open_fds(), fds_before);
    close(lfd);
}

static void test_many_open_close_cycles_leak_nothing(void **state)
{
    fixture_t *f = *state;
    uint16_t port = 0;
    int lfd = listen_on("127.0.0.1", 16, &port);
    int fds_before, i;
    size_t blocks_before = live_blocks(&f->mem);
    assert_true(lfd >= 0);
    fds_before = count_open_fds();
    for (i = 0; i < 200; i++) {
        int sfd;
        assert_int_equal(f->tr.open(f->tr.ctx, "127.0.0.1", port, 2000), KMQTT_OK);
        sfd = accept_within(lfd);
        assert_true(sfd >= 0);
        f->tr.close(f->tr.ctx);
        close(sfd);
    }
    assert_int_equal(count_open_fds(), fds_before);
    assert_int_equal(live_blocks(&f->mem), blocks_before);
    close(lfd);
}

static void test_failed_opens_leak_nothing(void **state)
{
    fixture_t *f = *state;
    uint16_t port = free_port();
    int fds_before = count_open_fds();
    size_t blocks_before = live_blocks(&f->mem);
    int i;
    for (i = 0; i < 100; i++) {
        assert_int_equal(f->tr.open(f->tr.ctx, "127.0.0.1", port, 1000), KMQTT_ECONNREFUSED);
    }
    assert_int_equal(count_open_fds(), fds_before);
    assert_int_equal(live_blocks(&f->mem), blocks_before);
}

static void test_create_destroy_cycles_and_failed_create_leak_nothing(void **state)
{
    fixture_t *f = *state;
    int fds_before = count_open_fds();
    size_t blocks_before = live_blocks(&f->mem);
    kmqtt_transport_t tr;
    kmqtt_err_t err;
    int i;
    for (i = 0; i < 100; i++) {
        assert_int_equal(kmqtt_port_tcp_create(&f->mem, &tr), KMQTT_OK);
        tr.wake(tr.ctx); /* a pending signal is no reason to leak */
        tr.destroy(tr.ctx);
    }
    kmqtt_mem_fail_nth(&f->mem, 1, false);
    err = kmqtt_port_tcp_create(&f->mem, &tr);
    kmqtt_mem_fail_nth(&f->mem, 0, false);
    assert_int_equal(err, KMQTT_ENOMEM);
    assert_int_equal(count_open_fds(), fds_before);
    assert_int_equal(live_blocks(&f->mem), blocks_before);
}

/* ------------------------------------------------- clock, random, sync */

static void test_clock_is_monotonic_and_sleep_sleeps_at_least(void **state)
{
    uint64_t t0 = kmqtt_port_now_ms();
    uint64_t t1;
    (void)state;
    kmqtt_port_sleep_ms(50);
    t1 = kmqtt_port_now_ms();
    assert_true(t1 >= t0 + 50);
    assert_true(t1 < t0 + 1000);
}

static void test_random_fills_bytes_that_differ_between_calls(void **state)
{
    unsigned char a[32], b[32], zero[32];
    (void)state;
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memset(zero, 0, sizeof zero);
    assert_int_equal(kmqtt_port_random(a, sizeof a), KMQTT_OK);
    assert_int_equal(kmqtt_port_random(b, sizeof b), KMQTT_OK);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(kmqtt_port_random(NULL, 0), KMQTT_OK);
}

static void test_cond_wait_times_out_after_the_timeout(void **state)
{
    fixture_t *f = *state;
    kmqtt_port_mutex_t *mx = NULL;
    kmqtt_port_cond_t *cv = NULL;
    uint64_t t0, took;
    kmqtt_err_t err;
    assert_int_equal(kmqtt_port_mutex_create(&f->mem, &mx), KMQTT_OK);
    assert_int_equal(kmqtt_port_cond_create(&f->mem, &cv), KMQTT_OK);
    kmqtt_port_mutex_lock(mx);
    t0 = kmqtt_port_now_ms();
    do {
        err = kmqtt_port_cond_wait(cv, mx, 150); /* OK would be spurious: retry */
    } while (err == KMQTT_OK && kmqtt_port_now_ms() - t0 < 150);
    took = kmqtt_port_now_ms() - t0;
    kmqtt_port_mutex_unlock(mx);
    assert_int_equal(err, KMQTT_ETIMEDOUT);
    assert_true(took >= 140);
    assert_true(took < 1000);
    kmqtt_port_cond_destroy(&f->mem, cv);
    kmqtt_port_mutex_destroy(&f->mem, mx);
}

typedef struct shared {
    kmqtt_port_mutex_t *mx;
    kmqtt_port_cond_t *cv;
    kmqtt_port_thread_t *self;
    bool go;
    bool saw_go;
    bool was_current;
} shared_t;

static void waiter_run(void *arg)
{
    shared_t *s = arg;
    uint64_t t0 = kmqtt_port_now_ms();
    kmqtt_port_mutex_lock(s->mx);
    s->was_current = kmqtt_port_thread_is_current(s->self);
    while (!s->go && kmqtt_port_now_ms() - t0 < 5000) {
        (void)kmqtt_port_cond_wait(s->cv, s->mx, 5000);
    }
    s->saw_go = s->go;
    kmqtt_port_mutex_unlock(s->mx);
}

static void test_broadcast_wakes_a_waiting_thread(void **state)
{
    fixture_t *f = *state;
    shared_t s;
    kmqtt_port_thread_t *th = NULL;
    size_t blocks_before = live_blocks(&f->mem);
    uint64_t t0;
    memset(&s, 0, sizeof s);
    assert_int_equal(kmqtt_port_mutex_create(&f->mem, &s.mx), KMQTT_OK);
    assert_int_equal(kmqtt_port_cond_create(&f->mem, &s.cv), KMQTT_OK);
    kmqtt_port_mutex_lock(s.mx); /* the thread reads s.self only after we set it */
    assert_int_equal(kmqtt_port_thread_start(&f->mem, &th, waiter_run, &s), KMQTT_OK);
    s.self = th;
    kmqtt_port_mutex_unlock(s.mx);
    assert_false(kmqtt_port_thread_is_current(th));
    kmqtt_port_sleep_ms(50);
    t0 = kmqtt_port_now_ms();
    kmqtt_port_mutex_lock(s.mx);
    s.go = true;
    kmqtt_port_cond_broadcast(s.cv);
    kmqtt_port_mutex_unlock(s.mx);
    kmqtt_port_thread_join(&f->mem, th);
    assert_true(kmqtt_port_now_ms() - t0 < 1000);
    assert_true(s.saw_go);
    assert_true(s.was_current);
    kmqtt_port_cond_destroy(&f->mem, s.cv);
    kmqtt_port_mutex_destroy(&f->mem, s.mx);
    assert_int_equal(live_blocks(&f->mem), blocks_before);
}

static void test_sync_create_fails_cleanly_without_memory(void **state)
{
    fixture_t *f = *state;
    kmqtt_port_mutex_t *mx = (kmqtt_port_mutex_t *)&mx;
    kmqtt_port_cond_t *cv = (kmqtt_port_cond_t *)&cv;
    kmqtt_port_thread_t *th = (kmqtt_port_thread_t *)&th;
    waker_t w;
    size_t blocks_before = live_blocks(&f->mem);
    w.tr = &f->tr;
    w.delay_ms = 0;
    kmqtt_mem_fail_nth(&f->mem, 1, true);
    assert_int_equal(kmqtt_port_mutex_create(&f->mem, &mx), KMQTT_ENOMEM);
    assert_int_equal(kmqtt_port_cond_create(&f->mem, &cv), KMQTT_ENOMEM);
    assert_int_equal(kmqtt_port_thread_start(&f->mem, &th, waker_run, &w), KMQTT_ENOMEM);
    kmqtt_mem_fail_nth(&f->mem, 0, false);
    assert_null(mx);
    assert_null(cv);
    assert_null(th);
    assert_int_equal(live_blocks(&f->mem), blocks_before);
    /* NULL is a no-op for the destroyers. */
    kmqtt_port_mutex_destroy(&f->mem, NULL);
    kmqtt_port_cond_destroy(&f->mem, NULL);
    kmqtt_port_thread_join(&f->mem, NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_connects_to_ipv4_loopback_and_exchanges_bytes),
        T(test_connects_to_ipv6_loopback_and_exchanges_bytes),
        T(test_connects_by_name_localhost_trying_each_address),
        T(test_refused_port_gives_econnrefused_and_leaves_no_fd),
        T(test_unresolvable_name_gives_eresolve),
        T(test_connect_to_full_backlog_times_out),
        T(test_wake_cancels_a_connect_in_progress_promptly),
        T(test_wake_before_open_cancels_that_open_only),
        T(test_open_while_open_is_refused),
        T(test_peer_close_makes_recv_return_eclosed),
        T(test_send_to_closed_peer_fails_without_sigpipe),
        T(test_wait_times_out_with_nothing_ready),
        T(test_wake_from_another_thread_ends_a_blocked_wait),
        T(test_wake_while_nobody_waits_ends_the_next_wait_once),
        T(test_wake_with_data_ready_reports_both),
        T(test_wake_from_another_thread_is_safe_during_open_and_close),
        T(test_many_open_close_cycles_leak_nothing),
        T(test_failed_opens_leak_nothing),
        T(test_create_destroy_cycles_and_failed_create_leak_nothing),
        T(test_clock_is_monotonic_and_sleep_sleeps_at_least),
        T(test_random_fills_bytes_that_differ_between_calls),
        T(test_cond_wait_times_out_after_the_timeout),
        T(test_broadcast_wakes_a_waiting_thread),
        T(test_sync_create_fails_cleanly_without_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
