/*
 * Fault-injecting TCP proxy (see fault_proxy.h).
 *
 * One thread polls the listener, a wake pipe and both sockets of every
 * connection pair. Each direction has one buffer: it is refilled only when
 * empty, so a slow or stalled side pushes back on the other through TCP
 * instead of growing the proxy's memory, and a delay or a fragment mode
 * applies chunk by chunk.
 */
#include "fault_proxy.h"

#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#define FP_MAX_PAIRS 16
#define FP_BUF       4096
#define FP_NEVER     UINT64_MAX

typedef struct fp_dir {
    uint8_t buf[FP_BUF];
    size_t len;
    size_t off;
    uint64_t ready_at; /* when the chunk may go out (delay) */
} fp_dir_t;

typedef struct fp_pair {
    bool used;
    int fd[2];       /* 0: the client, 1: upstream */
    fp_dir_t dir[2]; /* dir[i] carries bytes read from fd[i] to fd[1 - i] */
    uint64_t forwarded;
    uint64_t budget; /* dropped once forwarded reaches it */
} fp_pair_t;

/* The settings one turn of the loop works with. */
typedef struct fp_cfg {
    uint64_t drop_min, drop_max;
    double drop_chance;
    bool fragment;
    unsigned delay_ms;
    bool blackhole;
} fp_cfg_t;

struct fault_proxy {
    pthread_t thread;
    pthread_mutex_t mu;
    int listen_fd;
    int wake[2];
    uint16_t port;
    uint16_t upstream;

    /* Under mu: written by the setters, read by the thread. */
    bool stop;
    unsigned drop_now_gen;
    unsigned budget_gen;
    fp_cfg_t cfg;
    fault_proxy_stats_t stats;

    /* The thread's own. */
    uint64_t rng;
    unsigned seen_drop_now;
    unsigned seen_budget;
    fp_pair_t pairs[FP_MAX_PAIRS];
};

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return -1;
    }
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void loopback(struct sockaddr_in *a, uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int open_listener(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    loopback(&a, 0);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0 || set_flags(fd) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Loopback connects complete (or are refused) at once, so blocking here does
 * not stall the other pairs. */
static int connect_upstream(uint16_t port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    loopback(&a, port);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || set_flags(fd) != 0) {
        close(fd);
        return -1;
    }
    set_nodelay(fd);
    return fd;
}

/* xorshift64*: reproducible from the seed, good enough to place faults. */
static uint64_t rng_next(fault_proxy_t *p)
{
    p->rng ^= p->rng >> 12;
    p->rng ^= p->rng << 25;
    p->rng ^= p->rng >> 27;
    return p->rng * 2685821657736338717ull;
}

static uint64_t rng_range(fault_proxy_t *p, uint64_t lo, uint64_t hi)
{
    if (hi <= lo) {
        return lo;
    }
    return lo + rng_next(p) % (hi - lo + 1);
}

static double rng_unit(fault_proxy_t *p)
{
    return (double)(rng_next(p) >> 11) / 9007199254740992.0; /* 2^53 */
}

static uint64_t draw_budget(fault_proxy_t *p, const fp_cfg_t *cfg, uint64_t forwarded)
{
    if (cfg->drop_max == 0) {
        return FP_NEVER;
    }
    return forwarded + rng_range(p, cfg->drop_min, cfg->drop_max);
}

/* Counted before the close, so a test that sees the connection end also
 * sees it in the statistics. */
static void pair_close(fault_proxy_t *p, fp_pair_t *pr, bool as_drop)
{
    pthread_mutex_lock(&p->mu);
    p->stats.active--;
    if (as_drop) {
        p->stats.drops++;
    }
    pthread_mutex_unlock(&p->mu);
    close(pr->fd[0]);
    close(pr->fd[1]);
    pr->used = false;
}

static void accept_one(fault_proxy_t *p, const fp_cfg_t *cfg)
{
    fp_pair_t *pr = NULL;
    int up;
    int i;
    int fd = accept(p->listen_fd, NULL, NULL);
    if (fd < 0) {
        return;
    }
    if (set_flags(fd) != 0) {
        close(fd);
        return;
    }
    set_nodelay(fd);
    for (i = 0; i < FP_MAX_PAIRS; i++) {
        if (!p->pairs[i].used) {
            pr = &p->pairs[i];
            break;
        }
    }
    up = pr != NULL ? connect_upstream(p->upstream) : -1;
    if (up < 0) {
        /* No room or no broker: the client sees a closed connection. */
        close(fd);
        return;
    }
    pr->used = true;
    pr->fd[0] = fd;
    pr->fd[1] = up;
    pr->dir[0].len = pr->dir[0].off = 0;
    pr->dir[1].len = pr->dir[1].off = 0;
    pr->forwarded = 0;
    pr->budget = draw_budget(p, cfg, 0);
    pthread_mutex_lock(&p->mu);
    p->stats.accepted++;
    p->stats.active++;
    pthread_mutex_unlock(&p->mu);
}

/* Reads a chunk from side d into its empty buffer. False if the pair closed. */
static bool dir_read(fault_proxy_t *p, fp_pair_t *pr, int d, const fp_cfg_t *cfg, uint64_t now)
{
    fp_dir_t *dr = &pr->dir[d];
    ssize_t n = recv(pr->fd[d], dr->buf, sizeof(dr->buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return true;
    }
    if (n <= 0) {
        /* One side went away: so does the other, as it would end to end. */
        pair_close(p, pr, false);
        return false;
    }
    dr->len = (size_t)n;
    dr->off = 0;
    dr->ready_at = now + cfg->delay_ms;
    if (cfg->drop_chance > 0.0 && rng_unit(p) < cfg->drop_chance) {
        uint64_t cut = pr->forwarded + rng_range(p, 0, (uint64_t)n - 1);
        if (cut < pr->budget) {
            pr->budget = cut;
        }
    }
    return true;
}

/* Forwards what side d's buffer holds, within the budget. False if the pair
 * closed. */
static bool dir_write(fault_proxy_t *p, fp_pair_t *pr, int d, const fp_cfg_t *cfg)
{
    fp_dir_t *dr = &pr->dir[d];
    size_t want = dr->len - dr->off;
    ssize_t n;
    if (pr->forwarded >= pr->budget) {
        pair_close(p, pr, true);
        return false;
    }
    if (cfg->fragment) {
        want = 1;
    }
    if ((uint64_t)want > pr->budget - pr->forwarded) {
        want = (size_t)(pr->budget - pr->forwarded);
    }
    n = send(pr->fd[1 - d], dr->buf + dr->off, want, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return true;
    }
    if (n < 0) {
        pair_close(p, pr, false);
        return false;
    }
    dr->off += (size_t)n;
    pr->forwarded += (uint64_t)n;
    if (dr->off == dr->len) {
        dr->len = dr->off = 0;
    }
    pthread_mutex_lock(&p->mu);
    if (d == 0) {
        p->stats.bytes_up += (uint64_t)n;
    } else {
        p->stats.bytes_down += (uint64_t)n;
    }
    pthread_mutex_unlock(&p->mu);
    if (pr->forwarded >= pr->budget) {
        pair_close(p, pr, true);
        return false;
    }
    return true;
}

/* Takes the current settings and carries out a drop or a new budget asked
 * for since the last call; false once stop was asked. */
static bool take_config(fault_proxy_t *p, fp_cfg_t *cfg)
{
    bool stop, drop_all, rebudget;
    int i;
    pthread_mutex_lock(&p->mu);
    stop = p->stop;
    *cfg = p->cfg;
    drop_all = p->drop_now_gen != p->seen_drop_now;
    rebudget = p->budget_gen != p->seen_budget;
    p->seen_drop_now = p->drop_now_gen;
    p->seen_budget = p->budget_gen;
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < FP_MAX_PAIRS; i++) {
        fp_pair_t *pr = &p->pairs[i];
        if (pr->used && drop_all) {
            pair_close(p, pr, true);
        } else if (pr->used && rebudget) {
            pr->budget = draw_budget(p, cfg, pr->forwarded);
        }
    }
    return !stop;
}

static void *proxy_main(void *arg)
{
    fault_proxy_t *p = arg;
    struct pollfd pfd[2 + 2 * FP_MAX_PAIRS];
    fp_cfg_t cfg;
    int i, d;

    while (take_config(p, &cfg)) {
        uint64_t now = now_ms();
        int timeout = -1;

        pfd[0].fd = p->wake[0];
        pfd[0].events = POLLIN;
        pfd[1].fd = p->listen_fd;
        pfd[1].events = POLLIN;
        for (i = 0; i < FP_MAX_PAIRS; i++) {
            fp_pair_t *pr = &p->pairs[i];
            for (d = 0; d < 2; d++) {
                struct pollfd *q = &pfd[2 + 2 * i + d];
                const fp_dir_t *out = &pr->dir[1 - d];
                q->fd = -1;
                q->events = 0;
                q->revents = 0;
                if (!pr->used || cfg.blackhole) {
                    /* A blackholed socket is not even polled: its hangup
                     * must not be noticed either. */
                    continue;
                }
                q->fd = pr->fd[d];
                if (pr->dir[d].len == 0) {
                    q->events |= POLLIN;
                }
                if (out->len > 0) {
                    if (now >= out->ready_at) {
                        q->events |= POLLOUT;
                    } else {
                        uint64_t wait = out->ready_at - now;
                        if (timeout < 0 || wait < (uint64_t)timeout) {
                            timeout = (int)wait;
                        }
                    }
                }
            }
        }
        if (poll(pfd, 2 + 2 * FP_MAX_PAIRS, timeout) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (pfd[0].revents & POLLIN) {
            char sink[64];
            while (read(p->wake[0], sink, sizeof(sink)) > 0) {
            }
        }
        /* Again: a setter that returned before these bytes came in must
         * apply to them. */
        if (!take_config(p, &cfg)) {
            break;
        }
        now = now_ms();
        for (i = 0; i < FP_MAX_PAIRS && !cfg.blackhole; i++) {
            fp_pair_t *pr = &p->pairs[i];
            for (d = 0; d < 2 && pr->used; d++) {
                short rin = pfd[2 + 2 * i + d].revents;
                if (pr->dir[d].len == 0 && (rin & (POLLIN | POLLHUP | POLLERR)) != 0) {
                    if (!dir_read(p, pr, d, &cfg, now)) {
                        break;
                    }
                }
                /* Written straight after the read when no delay holds it;
                 * a full socket answers EAGAIN and POLLOUT takes over. */
                if (pr->dir[d].len > 0 && now >= pr->dir[d].ready_at) {
                    if (!dir_write(p, pr, d, &cfg)) {
                        break;
                    }
                }
            }
        }
        /* After the pairs, so a new pair never sees this turn's events. */
        if (pfd[1].revents & POLLIN) {
            accept_one(p, &cfg);
        }
    }

    for (i = 0; i < FP_MAX_PAIRS; i++) {
        if (p->pairs[i].used) {
            pair_close(p, &p->pairs[i], false);
        }
    }
    return NULL;
}

static void wake(fault_proxy_t *p)
{
    char one = 1;
    /* A full pipe already means "wake up". */
    (void)!write(p->wake[1], &one, 1);
}

fault_proxy_t *fault_proxy_start(uint16_t upstream_port, uint64_t seed)
{
    fault_proxy_t *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->upstream = upstream_port;
    p->wake[0] = p->wake[1] = -1;
    /* splitmix64 of the seed: any seed, 0 included, gives a usable state. */
    p->rng = seed + 0x9e3779b97f4a7c15ull;
    p->rng = (p->rng ^ (p->rng >> 30)) * 0xbf58476d1ce4e5b9ull;
    p->rng = (p->rng ^ (p->rng >> 27)) * 0x94d049bb133111ebull;
    p->rng ^= p->rng >> 31;
    if (p->rng == 0) {
        p->rng = 1;
    }
    pthread_mutex_init(&p->mu, NULL);
    p->listen_fd = open_listener(&p->port);
    if (p->listen_fd < 0 || pipe(p->wake) != 0) {
        goto fail;
    }
    if (set_flags(p->wake[0]) != 0 || set_flags(p->wake[1]) != 0) {
        goto fail;
    }
    if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
        goto fail;
    }
    return p;

fail:
    fprintf(stderr, "fault_proxy_start: %s\n", strerror(errno));
    if (p->listen_fd >= 0) {
        close(p->listen_fd);
    }
    if (p->wake[0] >= 0) {
        close(p->wake[0]);
        close(p->wake[1]);
    }
    pthread_mutex_destroy(&p->mu);
    free(p);
    return NULL;
}

uint16_t fault_proxy_port(const fault_proxy_t *p)
{
    return p->port;
}

void fault_proxy_stop(fault_proxy_t *p)
{
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_mutex_unlock(&p->mu);
    wake(p);
    pthread_join(p->thread, NULL);
    close(p->listen_fd);
    close(p->wake[0]);
    close(p->wake[1]);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void fault_proxy_drop_after(fault_proxy_t *p, uint64_t min_bytes, uint64_t max_bytes)
{
    pthread_mutex_lock(&p->mu);
    p->cfg.drop_min = min_bytes;
    p->cfg.drop_max = max_bytes < min_bytes ? min_bytes : max_bytes;
    p->budget_gen++;
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

void fault_proxy_drop_chance(fault_proxy_t *p, double per_chunk)
{
    pthread_mutex_lock(&p->mu);
    p->cfg.drop_chance = per_chunk;
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

void fault_proxy_drop_now(fault_proxy_t *p)
{
    pthread_mutex_lock(&p->mu);
    p->drop_now_gen++;
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

void fault_proxy_fragment(fault_proxy_t *p, bool on)
{
    pthread_mutex_lock(&p->mu);
    p->cfg.fragment = on;
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

void fault_proxy_delay(fault_proxy_t *p, unsigned ms)
{
    pthread_mutex_lock(&p->mu);
    p->cfg.delay_ms = ms;
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

void fault_proxy_blackhole(fault_proxy_t *p, bool on)
{
    pthread_mutex_lock(&p->mu);
    p->cfg.blackhole = on;
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

void fault_proxy_get_stats(fault_proxy_t *p, fault_proxy_stats_t *s)
{
    pthread_mutex_lock(&p->mu);
    *s = p->stats;
    pthread_mutex_unlock(&p->mu);
}
