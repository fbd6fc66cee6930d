/* bench_raw: the floor. A blocking TCP socket (TCP_NODELAY) writing hand-built MQTT 3.1.1 bytes:
 * CONNECT, PUBLISH, PUBACK handling, DISCONNECT. QoS 0 PUBLISHes are packed back to back into
 * large buffers so each write() carries hundreds of packets. Modes: qos0 (ends with a QoS 1
 * fence) and cycles; other modes print a line of -1. Cycles take --wait-connack (PUBLISH only
 * after CONNACK, as a client that does not pipeline) and --cafile (TLS with OpenSSL, blocking;
 * --tls-resume offers the previous cycle's session). */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH_BYTES (64 * 1024)

static SSL_CTX *g_tls;      /* set with --cafile */
static SSL *g_ssl;          /* the open TLS connection, else NULL */
static SSL_SESSION *g_sess; /* --tls-resume: the last session */
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;

static void resolve(const bench_opts *o)
{
    struct addrinfo hints, *res;
    char port[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", o->port);
    if (getaddrinfo(o->host, port, &hints, &res) != 0 || res == NULL)
        bench_die("raw: cannot resolve %s", o->host);
    memcpy(&g_addr, res->ai_addr, res->ai_addrlen);
    g_addrlen = res->ai_addrlen;
    freeaddrinfo(res);
}

static int open_conn(void)
{
    int one = 1;
    int fd = socket(g_addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        bench_die("raw: socket: %s", strerror(errno));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&g_addr, g_addrlen) != 0)
        bench_die("raw: connect: %s", strerror(errno));
    return fd;
}

static void tls_start(int fd)
{
    g_ssl = SSL_new(g_tls);
    if (g_ssl == NULL || SSL_set_fd(g_ssl, fd) != 1)
        bench_die("raw: SSL_new failed");
    if (g_sess != NULL)
        SSL_set_session(g_ssl, g_sess);
    if (SSL_connect(g_ssl) != 1) {
        ERR_print_errors_fp(stderr);
        bench_die("raw: TLS handshake failed");
    }
}

/* Closes the connection (and the TLS over it: close_notify; with --tls-resume the session, with
 * the TLS 1.3 ticket read by then, is kept for the next cycle). */
static void close_conn(int fd, int keep_session)
{
    if (g_ssl != NULL) {
        SSL_shutdown(g_ssl);
        if (keep_session) {
            SSL_SESSION *s = SSL_get1_session(g_ssl);
            if (s != NULL) {
                SSL_SESSION_free(g_sess);
                g_sess = s;
            }
        }
        SSL_free(g_ssl);
        g_ssl = NULL;
    }
    close(fd);
}

static void write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = g_ssl ? SSL_write(g_ssl, p, (int)n) : write(fd, p, n);
        if (w <= 0 && g_ssl)
            bench_die("raw: SSL_write failed");
        if (w < 0) {
            if (errno == EINTR)
                continue;
            bench_die("raw: write: %s", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
}

static void read_all(int fd, unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = g_ssl ? SSL_read(g_ssl, p, (int)n) : read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            bench_die("raw: read: %s", r == 0 ? "connection closed" : strerror(errno));
        p += r;
        n -= (size_t)r;
    }
}

/* Variable byte integer; returns its length. */
static size_t put_varint(unsigned char *p, size_t v)
{
    size_t n = 0;
    do {
        unsigned char b = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            b |= 0x80;
        p[n++] = b;
    } while (v);
    return n;
}

static size_t put_str(unsigned char *p, const char *s)
{
    size_t l = strlen(s);
    p[0] = (unsigned char)(l >> 8);
    p[1] = (unsigned char)l;
    memcpy(p + 2, s, l);
    return l + 2;
}

/* CONNECT, MQTT 3.1.1, clean session, keepalive 60 s. */
static size_t build_connect(unsigned char *p, const char *cid)
{
    unsigned char body[128];
    size_t b = 0, n = 0;
    b += put_str(body + b, "MQTT");
    body[b++] = 4;    /* protocol level 3.1.1 */
    body[b++] = 0x02; /* clean session */
    body[b++] = 0;
    body[b++] = 60;
    b += put_str(body + b, cid);
    p[n++] = 0x10;
    n += put_varint(p + n, b);
    memcpy(p + n, body, b);
    return n + b;
}

/* PUBLISH header + topic (+ packet id); the payload follows. Returns header length. */
static size_t build_publish_head(unsigned char *p, const char *topic, int qos, unsigned pid,
                                 size_t payload)
{
    size_t tl = strlen(topic), n = 0;
    size_t rem = 2 + tl + (qos ? 2 : 0) + payload;
    p[n++] = (unsigned char)(0x30 | (qos << 1));
    n += put_varint(p + n, rem);
    n += put_str(p + n, topic);
    if (qos) {
        p[n++] = (unsigned char)(pid >> 8);
        p[n++] = (unsigned char)pid;
    }
    return n;
}

/* Reads one packet's fixed header and body into buf (cap bytes); returns the first byte. */
static unsigned char read_packet(int fd, unsigned char *buf, size_t cap, size_t *len)
{
    unsigned char h;
    size_t rem = 0, mul = 1;
    int i;
    read_all(fd, &h, 1);
    for (i = 0; i < 4; i++) {
        unsigned char b;
        read_all(fd, &b, 1);
        rem += (size_t)(b & 0x7f) * mul;
        mul *= 128;
        if (!(b & 0x80))
            break;
    }
    if (rem > cap)
        bench_die("raw: unexpected %zu-byte packet", rem);
    read_all(fd, buf, rem);
    *len = rem;
    return h;
}

static void expect_connack(int fd)
{
    unsigned char b[8];
    size_t n;
    unsigned char h = read_packet(fd, b, sizeof(b), &n);
    if (h != 0x20 || n != 2 || b[1] != 0)
        bench_die("raw: bad CONNACK (0x%02x rc %d)", h, n == 2 ? b[1] : -1);
}

static void expect_puback(int fd, unsigned pid)
{
    unsigned char b[8];
    size_t n;
    unsigned char h = read_packet(fd, b, sizeof(b), &n);
    if (h != 0x40 || n != 2 || (unsigned)((b[0] << 8) | b[1]) != pid)
        bench_die("raw: bad PUBACK (0x%02x)", h);
}

static void run_qos0(const bench_opts *o, bench_result *r)
{
    unsigned char head[300], con[200];
    size_t hl = build_publish_head(head, o->topic, 0, 0, (size_t)o->payload);
    size_t pkt = hl + (size_t)o->payload;
    size_t per = pkt >= BATCH_BYTES ? 1 : BATCH_BYTES / pkt;
    unsigned char *batch = malloc(per * pkt), *fence;
    size_t i, fl;
    long left;
    bench_timer t;
    int fd;
    if (!batch || !(fence = malloc(pkt + 8)))
        bench_die("raw: out of memory");
    /* Every QoS 0 PUBLISH is the same bytes (payload of 0x55), so one batch is built once. */
    for (i = 0; i < per; i++) {
        memcpy(batch + i * pkt, head, hl);
        memset(batch + i * pkt + hl, 0x55, (size_t)o->payload);
    }
    fl = build_publish_head(fence, o->topic, 1, 1, (size_t)o->payload);
    memset(fence + fl, 0x55, (size_t)o->payload);
    fl += (size_t)o->payload;

    fd = open_conn();
    write_all(fd, con, build_connect(con, o->client_id));
    expect_connack(fd);

    bench_timer_start(&t);
    for (left = o->count; left > 0;) {
        size_t k = (size_t)left < per ? (size_t)left : per;
        write_all(fd, batch, k * pkt);
        left -= (long)k;
    }
    write_all(fd, fence, fl);
    expect_puback(fd, 1);
    bench_timer_stop(&t, r);

    con[0] = 0xE0;
    con[1] = 0;
    write_all(fd, con, 2);
    close(fd);
    free(batch);
    free(fence);
}

/* Each cycle: connect, CONNECT and the QoS 1 PUBLISH in one write (MQTT lets a client send
 * before CONNACK), read CONNACK and PUBACK, DISCONNECT, close. With --wait-connack, CONNECT,
 * read CONNACK, then PUBLISH: what a client that does not pipeline does. */
static void run_cycles(const bench_opts *o, bench_result *r)
{
    size_t cap = 512 + (size_t)o->payload;
    unsigned char *buf = malloc(cap);
    unsigned char disc[2] = {0xE0, 0};
    size_t n, hl;
    long i;
    size_t cl;
    bench_timer t;
    bench_cycle_clock cc;
    if (!buf)
        bench_die("raw: out of memory");
    n = cl = build_connect(buf, o->client_id);
    hl = build_publish_head(buf + n, o->topic, 1, 1, (size_t)o->payload);
    memset(buf + n + hl, 0x55, (size_t)o->payload);
    n += hl + (size_t)o->payload;

    bench_cycles_init(&cc, o->count);
    /* --tls-resume: one cycle before the timed ones makes the session, so
     * every timed cycle resumes. */
    for (i = g_tls != NULL && o->tls_resume ? -1 : 0; i < o->count; i++) {
        int fd;
        if (i == 0)
            bench_timer_start(&t);
        bench_cycle_start(&cc);
        fd = open_conn();
        if (g_tls != NULL)
            tls_start(fd);
        if (o->wait_connack) {
            write_all(fd, buf, cl);
            expect_connack(fd);
            write_all(fd, buf + cl, n - cl);
        } else {
            write_all(fd, buf, n);
            expect_connack(fd);
        }
        expect_puback(fd, 1);
        write_all(fd, disc, 2);
        close_conn(fd, o->tls_resume);
        if (i >= 0)
            bench_cycle_stop(&cc);
    }
    bench_timer_stop(&t, r);
    bench_cycles_finish(&cc, r);
    free(buf);
}

int main(int argc, char **argv)
{
    bench_opts o;
    bench_result r = {-1, -1, -1, -1, -1};
    bench_parse(argc, argv, "raw", &o);
    resolve(&o);
    if (o.cafile != NULL) {
        g_tls = SSL_CTX_new(TLS_client_method());
        if (g_tls == NULL || SSL_CTX_load_verify_locations(g_tls, o.cafile, NULL) != 1)
            bench_die("raw: cannot load %s", o.cafile);
        SSL_CTX_set_verify(g_tls, SSL_VERIFY_PEER, NULL);
        if (!o.tls_resume)
            SSL_CTX_set_session_cache_mode(g_tls, SSL_SESS_CACHE_OFF);
    }
    switch (o.mode) {
    case MODE_QOS0:
        run_qos0(&o, &r);
        break;
    case MODE_CYCLES:
        run_cycles(&o, &r);
        break;
    default:
        bench_print("raw", &o, &r, 0);
        return 0;
    }
    bench_print("raw", &o, &r, 1);
    return 0;
}
