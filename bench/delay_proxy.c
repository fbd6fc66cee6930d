/* delay_proxy: a TCP proxy on loopback that delays each direction by a fixed time, so a client
 * on the same machine sees the round trips of a slow link (the wake benchmark: 50 ms each way is
 * a good 4G link).
 *
 *   delay_proxy -p UPSTREAM_PORT [-d DELAY_MS] [-l LISTEN_PORT] [--log FILE]
 *
 * Listens on 127.0.0.1:LISTEN_PORT (0, the default, picks a free one) and prints "port=N" on
 * stdout once it listens; connects each accepted client to 127.0.0.1:UPSTREAM_PORT. Every chunk
 * read from one side is written to the other DELAY_MS after it was read (order kept); an end of
 * stream is passed on (shutdown) after the same delay. Loopback only, by construction.
 *
 * The TCP handshake: the kernel answers a client's SYN at once, so a user-space proxy cannot
 * delay it. It is modelled instead: the client's first bytes reach the server no earlier than
 * three delays after the accept (SYN, SYN-ACK, then the data: what a real link makes of a client
 * that writes right after connect()). A client therefore sees the round trip of the handshake
 * in its first answer instead of in connect(); the wall time of a cycle is the same.
 *
 * --log FILE gets one line per finished connection: "conn=N up=BYTES down=BYTES", the TCP payload
 * the client sent and received (for TLS: the record bytes). Runs until killed. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define CHUNK     16384

typedef struct chunk {
    struct chunk *next;
    uint64_t due_ns;
    size_t len;
    unsigned char data[];
} chunk_t;

/* One direction: bytes read from `from`, written to `to` when due. */
typedef struct {
    int from, to;
    chunk_t *head, *tail;
    int eof_read;    /* from said end of stream (or failed) */
    uint64_t eof_ns; /* when to pass the end on */
    int eof_done;
    uint64_t bytes;
} dir_t;

typedef struct {
    int used;
    unsigned long id;
    uint64_t accepted_ns;
    dir_t d[2]; /* 0: client -> server (up), 1: server -> client (down) */
} conn_t;

static conn_t conns[MAX_CONNS];
static uint64_t delay_ns;
static FILE *logf;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "delay_proxy: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void conn_end(conn_t *c)
{
    int i;
    for (i = 0; i < 2; i++) {
        while (c->d[i].head != NULL) {
            chunk_t *k = c->d[i].head;
            c->d[i].head = k->next;
            free(k);
        }
    }
    if (logf != NULL) {
        fprintf(logf, "conn=%lu up=%llu down=%llu\n", c->id, (unsigned long long)c->d[0].bytes,
                (unsigned long long)c->d[1].bytes);
        fflush(logf);
    }
    close(c->d[0].from);
    close(c->d[1].from);
    c->used = 0;
}

/* Reads what `from` has; queues it with its due time. Returns -1 when the connection broke. */
static int dir_read(conn_t *c, int which)
{
    dir_t *d = &c->d[which];
    unsigned char buf[CHUNK];
    ssize_t n = read(d->from, buf, sizeof buf);
    uint64_t t = now_ns(), due = t + delay_ns;
    chunk_t *k;
    if (n < 0 && errno == EINTR)
        return 0;
    if (n <= 0) {
        d->eof_read = 1;
        d->eof_ns = due;
        return n < 0 ? -1 : 0;
    }
    /* The modelled TCP handshake: the client's data arrives 3 delays after the accept. */
    if (which == 0 && due < c->accepted_ns + 3 * delay_ns)
        due = c->accepted_ns + 3 * delay_ns;
    if (d->tail != NULL && due < d->tail->due_ns)
        due = d->tail->due_ns;
    k = malloc(sizeof *k + (size_t)n);
    if (k == NULL)
        return -1;
    k->next = NULL;
    k->due_ns = due;
    k->len = (size_t)n;
    memcpy(k->data, buf, (size_t)n);
    if (d->tail != NULL)
        d->tail->next = k;
    else
        d->head = k;
    d->tail = k;
    d->bytes += (uint64_t)n;
    if (d->eof_read && d->eof_ns < due)
        d->eof_ns = due;
    return 0;
}

/* Delivers what is due. Returns -1 when the connection broke. */
static int dir_deliver(dir_t *d, uint64_t t)
{
    while (d->head != NULL && d->head->due_ns <= t) {
        chunk_t *k = d->head;
        if (write_all(d->to, k->data, k->len) != 0)
            return -1;
        d->head = k->next;
        if (d->head == NULL)
            d->tail = NULL;
        free(k);
    }
    if (d->head == NULL && d->eof_read && !d->eof_done && d->eof_ns <= t) {
        shutdown(d->to, SHUT_WR);
        d->eof_done = 1;
    }
    return 0;
}

static uint64_t dir_next(const dir_t *d)
{
    if (d->head != NULL)
        return d->head->due_ns;
    if (d->eof_read && !d->eof_done)
        return d->eof_ns;
    return UINT64_MAX;
}

static int connect_upstream(int port)
{
    struct sockaddr_in a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void usage(void)
{
    fprintf(stderr, "usage: delay_proxy -p UPSTREAM_PORT [-d DELAY_MS] [-l LISTEN_PORT] "
                    "[--log FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int lfd, one = 1, up_port = 0, listen_port = 0, i;
    unsigned long next_id = 1;
    long delay_ms = 50;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
            up_port = atoi(argv[++i]);
        else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            delay_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "-l") == 0 && i + 1 < argc)
            listen_port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
            logf = fopen(argv[++i], "a");
            if (logf == NULL)
                die("--log");
        } else
            usage();
    }
    if (up_port <= 0 || up_port > 65535 || delay_ms < 0 || delay_ms > 60000 || listen_port < 0 ||
        listen_port > 65535)
        usage();
    delay_ns = (uint64_t)delay_ms * 1000000u;
    signal(SIGPIPE, SIG_IGN);

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)listen_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0)
        die("bind/listen");
    if (getsockname(lfd, (struct sockaddr *)&a, &al) != 0)
        die("getsockname");
    printf("port=%d\n", ntohs(a.sin_port));
    fflush(stdout);

    for (;;) {
        struct pollfd pf[1 + 2 * MAX_CONNS];
        int who[1 + 2 * MAX_CONNS], n = 0, timeout;
        uint64_t t = now_ns(), next = UINT64_MAX;

        pf[n].fd = lfd;
        pf[n].events = POLLIN;
        who[n++] = -1;
        for (i = 0; i < MAX_CONNS; i++) {
            int k;
            if (!conns[i].used)
                continue;
            for (k = 0; k < 2; k++) {
                uint64_t x = dir_next(&conns[i].d[k]);
                if (x < next)
                    next = x;
                if (!conns[i].d[k].eof_read) {
                    pf[n].fd = conns[i].d[k].from;
                    pf[n].events = POLLIN;
                    who[n++] = i * 2 + k;
                }
            }
        }
        if (next == UINT64_MAX)
            timeout = -1;
        else if (next <= t)
            timeout = 0;
        else
            timeout = (int)((next - t + 999999u) / 1000000u);
        if (poll(pf, (nfds_t)n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (i = 1; i < n; i++) {
            conn_t *c = &conns[who[i] / 2];
            if (c->used && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
                dir_read(c, who[i] % 2) != 0)
                conn_end(c);
        }
        if (pf[0].revents & POLLIN) {
            int cfd = accept(lfd, NULL, NULL), ufd;
            if (cfd >= 0) {
                for (i = 0; i < MAX_CONNS && conns[i].used; i++)
                    ;
                ufd = i < MAX_CONNS ? connect_upstream(up_port) : -1;
                if (ufd < 0) {
                    close(cfd);
                } else {
                    conn_t *c = &conns[i];
                    memset(c, 0, sizeof *c);
                    c->used = 1;
                    c->id = next_id++;
                    c->accepted_ns = now_ns();
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c->d[0].from = cfd;
                    c->d[0].to = ufd;
                    c->d[1].from = ufd;
                    c->d[1].to = cfd;
                }
            }
        }
        t = now_ns();
        for (i = 0; i < MAX_CONNS; i++) {
            conn_t *c = &conns[i];
            if (!c->used)
                continue;
            if (dir_deliver(&c->d[0], t) != 0 || dir_deliver(&c->d[1], t) != 0) {
                conn_end(c);
                continue;
            }
            if (c->d[0].eof_done && c->d[1].eof_done)
                conn_end(c);
        }
    }
}
