/*
 * The backpressure peer checked against streams written by hand: a correct
 * one must pass, and each kind of damage the matrix exists to catch must be
 * reported, at the message where it happened. Without this, a peer that
 * accepted anything would make every cell of the matrix pass.
 *
 * The "client" here is a plain socket (and OpenSSL's client for TLS); the
 * MQTT packets and WebSocket frames are built byte by byte below.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bp_msg.h"
#include "bp_peer.h"

#define COUNT 20

static int failures, passes;
static char dir[64], cert[128], key[128];

/* ------------------------------------------------------- stream builder */

typedef struct buf {
    uint8_t b[1 << 16];
    size_t n;
} buf_t;

static void put(buf_t *o, const void *p, size_t n)
{
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put8(buf_t *o, unsigned v)
{
    o->b[o->n++] = (uint8_t)v;
}

static void put16(buf_t *o, unsigned v)
{
    put8(o, v >> 8);
    put8(o, v & 0xFF);
}

static void put_rl(buf_t *o, size_t rl)
{
    do {
        uint8_t d = rl & 0x7F;
        rl >>= 7;
        put8(o, d | (rl > 0 ? 0x80u : 0));
    } while (rl > 0);
}

static void connect_pkt(buf_t *o)
{
    static const uint8_t body[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 2, 's', 't'};
    put8(o, 0x10);
    put_rl(o, sizeof(body));
    put(o, body, sizeof(body));
}

/* PUBLISH of payload p (n bytes) to topic, with qos/dup and packet id. */
static void publish_raw(buf_t *o, const char *topic, const uint8_t *p, size_t n, unsigned qos,
                        bool dup, unsigned id)
{
    size_t tl = strlen(topic);
    put8(o, 0x30 | (dup ? 0x08u : 0) | (qos << 1));
    put_rl(o, 2 + tl + (qos > 0 ? 2 : 0) + n);
    put16(o, (unsigned)tl);
    put(o, topic, tl);
    if (qos > 0)
        put16(o, id);
    put(o, p, n);
}

static void message(buf_t *o, uint32_t n, unsigned qos, bool dup)
{
    uint8_t m[BP_MSG_MAX];
    size_t len = bp_msg_fill(BP_SIZES_SMALL, n, m);
    publish_raw(o, BP_TOPIC, m, len, qos, dup, n + 1);
}

static void end_and_disconnect(buf_t *o, uint32_t count)
{
    uint8_t c[4];
    bp_put_be32(c, count);
    publish_raw(o, BP_END_TOPIC, c, 4, 1, false, 60000);
    put8(o, 0xE0);
    put8(o, 0x00);
}

/* A whole good stream at qos: CONNECT, COUNT messages, end, DISCONNECT. */
static void good_stream(buf_t *o, unsigned qos)
{
    uint32_t n;
    connect_pkt(o);
    for (n = 0; n < COUNT; n++)
        message(o, n, qos, false);
    end_and_disconnect(o, COUNT);
}

/* --------------------------------------------------------- the "client" */

static int dial(uint16_t port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return; /* the peer closed on an error: what it saw is the result */
        p += k;
        n -= (size_t)k;
    }
}

/* Reads (bounded) until the peer closes; answers are not looked at. */
static void drain_until_closed(int fd)
{
    uint8_t b[4096];
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    shutdown(fd, SHUT_WR);
    while (recv(fd, b, sizeof(b), 0) > 0) {
    }
}

/* The WebSocket upgrade; true if the peer answered 101. */
static bool ws_upgrade(int fd)
{
    static const char req[] =
        "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
    char resp[1024];
    size_t n = 0;
    send_all(fd, (const uint8_t *)req, sizeof(req) - 1);
    while (n + 1 < sizeof(resp)) {
        ssize_t k = recv(fd, resp + n, 1, 0);
        if (k <= 0)
            return false;
        n++;
        resp[n] = '\0';
        if (n >= 4 && strcmp(resp + n - 4, "\r\n\r\n") == 0)
            break;
    }
    /* RFC 6455 1.3's own example key and accept value. */
    return strncmp(resp, "HTTP/1.1 101", 12) == 0 &&
           strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL &&
           strstr(resp, "Sec-WebSocket-Protocol: mqtt\r\n") != NULL;
}

/* One client frame: opcode op (with FIN fin), masked when mask, the length
 * in 16 bits even when short when long16. */
static void ws_frame(buf_t *o, unsigned op, bool fin, const uint8_t *p, size_t n, bool mask,
                     bool long16)
{
    static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    size_t i;
    put8(o, (fin ? 0x80u : 0) | op);
    if (n < 126 && !long16) {
        put8(o, (mask ? 0x80u : 0) | (unsigned)n);
    } else {
        put8(o, (mask ? 0x80u : 0) | 126u);
        put16(o, (unsigned)n);
    }
    if (mask)
        put(o, key, 4);
    for (i = 0; i < n; i++)
        put8(o, mask ? p[i] ^ key[i & 3] : p[i]);
}

/* ------------------------------------------------------------- the cases */

typedef struct expect {
    bool pass;         /* no error, everything arrived */
    const char *error; /* else: the error must contain this */
    uint32_t received; /* messages in order before it */
    uint32_t dups;
} expect_t;

static void check(const char *name, const bp_peer_result_t *r, const expect_t *e)
{
    bool ok;
    if (e->pass)
        ok = !r->failed && r->received == COUNT && r->end_ok && r->disconnected &&
             r->dups == e->dups;
    else
        ok = r->failed && strstr(r->error, e->error) != NULL && r->received == e->received;
    printf("%s %s: received=%u dups=%u %s%s\n", ok ? "ok  " : "FAIL", name, (unsigned)r->received,
           (unsigned)r->dups, r->failed ? "error: " : "", r->failed ? r->error : "no error");
    passes += ok ? 1 : 0;
    if (!ok) {
        failures++;
        if (!e->pass)
            printf("     expected an error with \"%s\" after %u messages\n", e->error,
                   (unsigned)e->received);
    }
}

static bp_peer_t *peer(bool tls, bool ws, unsigned qos)
{
    bp_peer_opts_t o;
    memset(&o, 0, sizeof(o));
    o.tls = tls;
    o.ws = ws;
    o.cert_file = cert;
    o.key_file = key;
    o.behaviour = BP_PEER_STALL;
    o.stall_at = UINT64_MAX; /* never: these cases are about what arrives */
    o.qos = (uint8_t)qos;
    o.count = COUNT;
    o.sizes = BP_SIZES_SMALL;
    o.timeout_ms = 20000;
    return bp_peer_start(&o);
}

/* Sends s over plain TCP to a fresh peer and checks the verdict. */
static void tcp_case(const char *name, unsigned qos, const buf_t *s, const expect_t *e)
{
    bp_peer_t *p = peer(false, false, qos);
    bp_peer_result_t r;
    int fd = p != NULL ? dial(bp_peer_port(p)) : -1;
    if (fd >= 0) {
        send_all(fd, s->b, s->n);
        drain_until_closed(fd);
        close(fd);
    }
    if (p == NULL) {
        printf("FAIL %s: peer did not start\n", name);
        failures++;
        return;
    }
    bp_peer_finish(p, &r);
    check(name, &r, e);
}

/* Sends the frames f (after the upgrade) to a fresh WebSocket peer. */
static void ws_case(const char *name, const buf_t *f, const expect_t *e)
{
    bp_peer_t *p = peer(false, true, 0);
    bp_peer_result_t r;
    int fd = p != NULL ? dial(bp_peer_port(p)) : -1;
    bool up = fd >= 0 && ws_upgrade(fd);
    if (up)
        send_all(fd, f->b, f->n);
    if (fd >= 0) {
        drain_until_closed(fd);
        close(fd);
    }
    if (p == NULL) {
        printf("FAIL %s: peer did not start\n", name);
        failures++;
        return;
    }
    bp_peer_finish(p, &r);
    if (!up) {
        printf("FAIL %s: the upgrade was refused (%s)\n", name, r.error);
        failures++;
        return;
    }
    check(name, &r, e);
}

/* s over TLS (OpenSSL's client); with corrupt, one byte of the ciphertext
 * after the handshake is flipped on its way out. */
static void tls_case(const char *name, const buf_t *s, bool corrupt, const expect_t *e)
{
    bp_peer_t *p = peer(true, false, 0);
    bp_peer_result_t r;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    int fd = p != NULL ? dial(bp_peer_port(p)) : -1;
    uint8_t tmp[16384];

    if (fd >= 0 && ctx != NULL && rb != NULL && wb != NULL) {
        /* Memory BIOs both ways, so the ciphertext can be touched. */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        ssl = SSL_new(ctx);
        SSL_set_bio(ssl, rb, wb);
        rb = wb = NULL;
        SSL_set_connect_state(ssl);
        for (;;) {
            int k, rc = SSL_do_handshake(ssl);
            while ((k = BIO_read(SSL_get_wbio(ssl), tmp, sizeof(tmp))) > 0)
                send_all(fd, tmp, (size_t)k);
            if (rc == 1)
                break;
            if (SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ)
                break;
            k = (int)recv(fd, tmp, sizeof(tmp), 0);
            if (k <= 0)
                break;
            BIO_write(SSL_get_rbio(ssl), tmp, k);
        }
        if (SSL_is_init_finished(ssl)) {
            int k;
            SSL_write(ssl, s->b, (int)s->n);
            k = BIO_read(SSL_get_wbio(ssl), tmp, sizeof(tmp));
            if (k > 0 && corrupt)
                tmp[k / 2] ^= 0x01; /* one bit, inside the record */
            if (k > 0)
                send_all(fd, tmp, (size_t)k);
        }
        drain_until_closed(fd);
    }
    if (fd >= 0)
        close(fd);
    SSL_free(ssl);
    BIO_free(rb);
    BIO_free(wb);
    SSL_CTX_free(ctx);
    if (p == NULL) {
        printf("FAIL %s: peer did not start\n", name);
        failures++;
        return;
    }
    bp_peer_finish(p, &r);
    check(name, &r, e);
}

static void tcp_cases(void)
{
    static buf_t s;
    uint32_t n;
    expect_t e;

    memset(&s, 0, sizeof(s));
    good_stream(&s, 0);
    e = (expect_t){true, NULL, COUNT, 0};
    tcp_case("tcp: a correct QoS 0 stream passes", 0, &s, &e);

    memset(&s, 0, sizeof(s));
    good_stream(&s, 1);
    tcp_case("tcp: a correct QoS 1 stream passes", 1, &s, &e);

    /* one byte of message 7's payload flipped */
    memset(&s, 0, sizeof(s));
    connect_pkt(&s);
    for (n = 0; n < COUNT; n++) {
        message(&s, n, 0, false);
        if (n == 7)
            s.b[s.n - 3] ^= 0x20;
    }
    end_and_disconnect(&s, COUNT);
    e = (expect_t){false, "message 7 arrived damaged: payload byte", 7, 0};
    tcp_case("tcp: a flipped payload byte is found", 0, &s, &e);

    /* message 5 missing */
    memset(&s, 0, sizeof(s));
    connect_pkt(&s);
    for (n = 0; n < COUNT; n++)
        if (n != 5)
            message(&s, n, 0, false);
    end_and_disconnect(&s, COUNT);
    e = (expect_t){false, "message 5: lost: message 6 came instead", 5, 0};
    tcp_case("tcp: a lost message is found", 0, &s, &e);

    /* the stream cut short by 10 bytes in message 12: misaligned from there */
    memset(&s, 0, sizeof(s));
    connect_pkt(&s);
    for (n = 0; n < COUNT; n++) {
        message(&s, n, 0, false);
        if (n == 12)
            s.n -= 10;
    }
    end_and_disconnect(&s, COUNT);
    e = (expect_t){false, "message 12:", 12, 0};
    tcp_case("tcp: a misaligned stream is found", 0, &s, &e);

    /* QoS 1: message 3 again, with DUP (counted) and without (an error) */
    memset(&s, 0, sizeof(s));
    connect_pkt(&s);
    for (n = 0; n < COUNT; n++) {
        message(&s, n, 1, false);
        if (n == 3)
            message(&s, n, 1, true);
    }
    end_and_disconnect(&s, COUNT);
    e = (expect_t){true, NULL, COUNT, 1};
    tcp_case("tcp: a QoS 1 duplicate with DUP is counted", 1, &s, &e);

    memset(&s, 0, sizeof(s));
    connect_pkt(&s);
    for (n = 0; n < COUNT; n++) {
        message(&s, n, 1, false);
        if (n == 3)
            message(&s, n, 1, false);
    }
    end_and_disconnect(&s, COUNT);
    e = (expect_t){false, "message 3 arrived again without DUP (MQTT-3.3.1-1)", 4, 0};
    tcp_case("tcp: a QoS 1 duplicate without DUP is an error", 1, &s, &e);

    /* the end marker before the last message */
    memset(&s, 0, sizeof(s));
    connect_pkt(&s);
    for (n = 0; n + 1 < COUNT; n++)
        message(&s, n, 0, false);
    end_and_disconnect(&s, COUNT);
    e = (expect_t){false, "end marker says 20 sent; 19 arrived in order", COUNT - 1, 0};
    tcp_case("tcp: a message missing at the end is found", 0, &s, &e);
}

static void ws_cases(void)
{
    static buf_t s, f;
    size_t at, cut;
    expect_t e;

    /* The good stream in frames of 37 bytes, the first message fragmented
     * (binary without FIN, then continuations): packets span frames. */
    memset(&s, 0, sizeof(s));
    good_stream(&s, 0);
    memset(&f, 0, sizeof(f));
    for (at = 0; at < s.n; at += cut) {
        cut = s.n - at < 37 ? s.n - at : 37;
        ws_frame(&f,
                 at == 0    ? 0x2u
                 : at < 100 ? 0x0u
                            : 0x2u,
                 at + cut >= 100 || at >= 100, s.b + at, cut, true, false);
    }
    ws_frame(&f, 0x8u, true, (const uint8_t *)"\x03\xe8", 2, true, false);
    e = (expect_t){true, NULL, COUNT, 0};
    ws_case("ws: a correct stream in fragments passes", &f, &e);

    memset(&f, 0, sizeof(f));
    ws_frame(&f, 0x2u, true, s.b, 16, false, false);
    e = (expect_t){false, "not masked (RFC 6455 5.1)", 0, 0};
    ws_case("ws: an unmasked frame is an error", &f, &e);

    memset(&f, 0, sizeof(f));
    ws_frame(&f, 0x2u, true, s.b, 100, true, true);
    e = (expect_t){false, "in 16 bits (5.2: the shortest form)", 0, 0};
    ws_case("ws: a length not in its shortest form is an error", &f, &e);

    memset(&f, 0, sizeof(f));
    ws_frame(&f, 0x1u, true, s.b, 16, true, false);
    e = (expect_t){false, "text frame (MQTT-6.0.0-1", 0, 0};
    ws_case("ws: a text frame is an error", &f, &e);

    memset(&f, 0, sizeof(f));
    ws_frame(&f, 0x2u, true, s.b, 16, true, false);
    f.b[0] |= 0x40; /* RSV1 */
    e = (expect_t){false, "RSV bits set", 0, 0};
    ws_case("ws: a reserved bit is an error", &f, &e);
}

static void tls_cases(void)
{
    static buf_t s;
    expect_t e;
    memset(&s, 0, sizeof(s));
    good_stream(&s, 0);
    e = (expect_t){true, NULL, COUNT, 0};
    tls_case("tls: a correct stream passes", &s, false, &e);
    e = (expect_t){false, "TLS record from the client", 0, 0};
    tls_case("tls: a flipped ciphertext bit is an error", &s, true, &e);
}

int main(void)
{
    char cmd[512];
    snprintf(dir, sizeof(dir), "/tmp/kmqtt-bpself-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(cmd, sizeof(cmd), "sh %s/make_certs.sh %s", KMQTT_TLS_TEST_DIR, dir);
    snprintf(cert, sizeof(cert), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    if (system(cmd) != 0)
        return 1;
    tcp_cases();
    ws_cases();
    tls_cases();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)!system(cmd);
    printf("bp: %d passed, %d failed\n", passes, failures);
    return failures == 0 ? 0 : 1;
}
