/* The in-test TLS server: see tls_server.h. */
#include "tls_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ws_internal.h"

#define IO_TIMEOUT_S 20
#define SMALL_BUFFER 4096

struct tsrv {
    tsrv_opts_t o;
    SSL_CTX *ctx;
    int lfd, fd;
    uint16_t port;
    pthread_t th;
    /* the stream */
    uint64_t got;      /* stream bytes received */
    int64_t first_bad; /* offset of the first wrong byte, -1 if none */
    bool ok_end;       /* the connection ended cleanly after the bytes */
    unsigned frames;
    /* WebSocket frame being parsed */
    uint8_t hdr[14];
    size_t hlen, hneed;
    uint64_t left;
    uint8_t mask[4];
    unsigned mi;
    bool in_payload, broken;
    bool ctrl;      /* the frame being parsed is a close frame: not the stream */
    bool ws_closed; /* the client's close frame came: nothing may follow */
    bool hello_sent;
    char why[256];
};

uint8_t tsrv_stream_byte(uint64_t off)
{
    uint64_t rec = off / TSRV_RECORD;
    unsigned j = (unsigned)(off % TSRV_RECORD);
    if (j < 4)
        return (uint8_t)(rec >> (8 * (3 - j)));
    return (uint8_t)(rec * 131u + j * 7u + (rec >> 8));
}

static void sleep_for(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void say(tsrv_t *s, const char *what)
{
    unsigned long e = ERR_get_error();
    char err[160] = "";
    if (s->why[0] != '\0')
        return;
    if (e != 0)
        ERR_error_string_n(e, err, sizeof(err));
    snprintf(s->why, sizeof(s->why), "%s%s%s", what, e != 0 ? ": " : "", err);
}

static void stream_bytes(tsrv_t *s, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++, s->got++) {
        if (s->first_bad < 0 && (s->got >= s->o.expect || p[i] != tsrv_stream_byte(s->got)))
            s->first_bad = (int64_t)s->got;
    }
}

/* RFC 6455 5.2: client frames are masked; MQTT over WebSockets uses final
 * binary frames only (kmqtt never fragments). */
static void ws_bytes(tsrv_t *s, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n && !s->broken; i++) {
        if (s->in_payload) {
            uint8_t b = (uint8_t)(p[i] ^ s->mask[s->mi++ & 3u]);
            if (!s->ctrl)
                stream_bytes(s, &b, 1);
            if (--s->left == 0)
                s->in_payload = false;
            continue;
        }
        s->hdr[s->hlen++] = p[i];
        if (s->hlen == 2) {
            unsigned l7 = s->hdr[1] & 0x7Fu;
            /* A close frame (RFC 6455 5.5.1) ends the stream: the client's
             * close() sends one when no frame is half written. */
            s->ctrl = s->hdr[0] == 0x88 && l7 <= 125;
            if ((s->hdr[0] != 0x82 && !s->ctrl) || (s->hdr[1] & 0x80u) == 0 || s->ws_closed) {
                snprintf(s->why, sizeof(s->why),
                         "frame %u: header %02x %02x is no masked final binary frame "
                         "(after %llu stream bytes)",
                         s->frames, s->hdr[0], s->hdr[1], (unsigned long long)s->got);
                s->broken = true;
                if (s->first_bad < 0)
                    s->first_bad = (int64_t)s->got;
                return;
            }
            s->hneed = 2 + (l7 == 126 ? 2u : l7 == 127 ? 8u : 0u) + 4;
        }
        if (s->hlen >= 2 && s->hlen == s->hneed) {
            unsigned l7 = s->hdr[1] & 0x7Fu;
            uint64_t len = l7;
            size_t k;
            if (l7 == 126)
                len = ((uint64_t)s->hdr[2] << 8) | s->hdr[3];
            else if (l7 == 127)
                for (len = 0, k = 2; k < 10; k++)
                    len = (len << 8) | s->hdr[k];
            memcpy(s->mask, s->hdr + s->hneed - 4, 4);
            s->mi = 0;
            s->left = len;
            s->in_payload = len > 0;
            s->hlen = 0;
            s->frames++;
            if (s->ctrl)
                s->ws_closed = true;
        }
    }
}

/* Reads exactly n bytes (blocking, with the socket's timeout). */
static bool read_exact(tsrv_t *s, SSL *ssl, uint8_t *buf, size_t n)
{
    size_t have = 0;
    while (have < n) {
        int r = SSL_read(ssl, buf + have, (int)(n - have));
        if (r <= 0) {
            say(s, "connection ended early");
            return false;
        }
        have += (size_t)r;
    }
    return true;
}

static bool ws_upgrade(tsrv_t *s, SSL *ssl)
{
    static const char fmt[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                              "Sec-WebSocket-Protocol: mqtt\r\n\r\n";
    char req[4096], key[WS_KEY_LEN + 1], acc[WS_ACCEPT_LEN + 1], resp[512];
    size_t have = 0;
    const char *k;
    int n;

    /* The client sends nothing else before our answer: read byte-wise to
     * the empty line. */
    while (have < 4 || memcmp(req + have - 4, "\r\n\r\n", 4) != 0) {
        if (have == sizeof(req) - 1 || !read_exact(s, ssl, (uint8_t *)req + have, 1)) {
            say(s, "no upgrade request");
            return false;
        }
        have++;
    }
    req[have] = '\0';
    k = strstr(req, "Sec-WebSocket-Key: ");
    if (k == NULL) {
        say(s, "upgrade request without a key");
        return false;
    }
    memcpy(key, k + 19, WS_KEY_LEN);
    key[WS_KEY_LEN] = '\0';
    ws_accept_for(key, acc);
    n = snprintf(resp, sizeof(resp), fmt, acc);
    if (SSL_write(ssl, resp, n) != n) {
        say(s, "could not answer the upgrade");
        return false;
    }
    return true;
}

/* Asks for a renegotiation (TLS 1.2): OpenSSL's server sends HelloRequest
 * and goes on; the client's answer (a ClientHello, or a no_renegotiation
 * alert) is read, if ever, with the data. */
static bool hello_request(tsrv_t *s, SSL *ssl)
{
    if (SSL_renegotiate(ssl) != 1 || SSL_do_handshake(ssl) != 1) {
        say(s, "could not send HelloRequest");
        return false;
    }
    s->hello_sent = true;
    return true;
}

static void stall(tsrv_t *s, SSL *ssl)
{
    unsigned at = s->o.hello_request_at_ms;
    if (at != 0 && at < s->o.first_stall_ms) {
        sleep_for(at);
        if (!hello_request(s, ssl))
            return;
        sleep_for(s->o.first_stall_ms - at);
    } else {
        sleep_for(s->o.first_stall_ms);
    }
}

static void read_all(tsrv_t *s, SSL *ssl)
{
    static uint8_t buf[16384];
    uint64_t raw = 0, next = s->o.stall_every;

    stall(s, ssl);
    for (;;) {
        int n = SSL_read(ssl, buf, (int)sizeof(buf));
        if (n <= 0) {
            int e = SSL_get_error(ssl, n);
            if (e == SSL_ERROR_ZERO_RETURN) {
                s->ok_end = true;
            } else {
                char what[96];
                snprintf(what, sizeof(what), "read failed (SSL error %d, errno %d)", e, errno);
                say(s, what);
            }
            return;
        }
        if (s->o.mode == TSRV_WS)
            ws_bytes(s, buf, (size_t)n);
        else
            stream_bytes(s, buf, (size_t)n);
        raw += (uint64_t)n;
        if (s->o.stall_every != 0 && raw >= next) {
            sleep_for(s->o.stall_ms);
            next += s->o.stall_every;
        }
    }
}

static void mqtt_reneg(tsrv_t *s, SSL *ssl)
{
    static const uint8_t connack[4] = {0x20, 0x02, 0x00, 0x00};
    uint8_t b[512];
    uint32_t rem = 0, mul = 1;
    int i;

    if (!read_exact(s, ssl, b, 1) || b[0] != 0x10) {
        say(s, "no CONNECT");
        return;
    }
    for (i = 0; i < 4; i++) {
        if (!read_exact(s, ssl, b, 1))
            return;
        rem += (uint32_t)(b[0] & 0x7Fu) * mul;
        mul *= 128u;
        if ((b[0] & 0x80u) == 0)
            break;
    }
    if (rem > sizeof(b) || !read_exact(s, ssl, b, rem))
        return;
    if (SSL_write(ssl, connack, 4) != 4) {
        say(s, "could not send CONNACK");
        return;
    }
    if (hello_request(s, ssl))
        sleep_for(s->o.first_stall_ms);
}

static void *serve(void *arg)
{
    tsrv_t *s = arg;
    struct pollfd p;
    struct timeval tv;
    SSL *ssl = NULL;

    p.fd = s->lfd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, IO_TIMEOUT_S * 1000) != 1) {
        say(s, "nobody connected");
        goto out;
    }
    s->fd = accept(s->lfd, NULL, NULL);
    if (s->fd < 0) {
        say(s, "accept failed");
        goto out;
    }
    tv.tv_sec = IO_TIMEOUT_S;
    tv.tv_usec = 0;
    (void)setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ssl = SSL_new(s->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, s->fd) != 1 || SSL_accept(ssl) != 1) {
        say(s, "handshake failed");
        goto out;
    }
    switch (s->o.mode) {
    case TSRV_WS:
        if (!ws_upgrade(s, ssl))
            break;
        /* fall through */
    case TSRV_STREAM:
        read_all(s, ssl);
        break;
    case TSRV_MQTT_RENEG:
        mqtt_reneg(s, ssl);
        break;
    }
out:
    if (ssl != NULL)
        SSL_free(ssl);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    ERR_clear_error();
    return NULL;
}

tsrv_t *tsrv_start(const tsrv_opts_t *o)
{
    tsrv_t *s = calloc(1, sizeof(*s));
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int one = 1, small = SMALL_BUFFER;

    if (s == NULL)
        return NULL;
    s->o = *o;
    s->fd = -1;
    s->first_bad = -1;
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (s->ctx == NULL || SSL_CTX_use_certificate_chain_file(s->ctx, o->cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(s->ctx, o->key_file, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "tsrv: cannot load %s / %s\n", o->cert_file, o->key_file);
        goto fail;
    }
    /* A client that closes without close_notify ends the stream all the same. */
    SSL_CTX_set_options(s->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (o->tls12 || o->mode == TSRV_MQTT_RENEG || o->hello_request_at_ms != 0)
        SSL_CTX_set_max_proto_version(s->ctx, TLS1_2_VERSION);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->lfd < 0)
        goto fail;
    (void)setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* Small buffers (inherited by the accepted socket): "would block"
     * comes after a few kilobytes, not megabytes. */
    (void)setsockopt(s->lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    (void)setsockopt(s->lfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->lfd, 1) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0) {
        close(s->lfd);
        goto fail;
    }
    s->port = ntohs(a.sin_port);
    if (pthread_create(&s->th, NULL, serve, s) != 0) {
        close(s->lfd);
        goto fail;
    }
    return s;
fail:
    SSL_CTX_free(s->ctx);
    free(s);
    return NULL;
}

uint16_t tsrv_port(const tsrv_t *s)
{
    return s->port;
}

int tsrv_shrink_client_socket(uint16_t port)
{
    int fd, n = 0, small = SMALL_BUFFER;
    for (fd = 3; fd < 4096; fd++) {
        struct sockaddr_in a;
        socklen_t al = sizeof(a);
        if (getpeername(fd, (struct sockaddr *)&a, &al) == 0 && a.sin_family == AF_INET &&
            ntohs(a.sin_port) == port &&
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0)
            n++;
    }
    return n;
}

bool tsrv_finish(tsrv_t *s, char *why, size_t cap)
{
    bool ok;

    /* Every wait of the thread is bounded (poll, socket timeouts, stalls). */
    pthread_join(s->th, NULL);
    close(s->lfd);
    if (s->o.mode == TSRV_MQTT_RENEG) {
        ok = s->hello_sent && s->why[0] == '\0';
    } else {
        ok = s->ok_end && s->first_bad < 0 && s->got == s->o.expect && s->why[0] == '\0';
        if (!ok && s->why[0] == '\0')
            snprintf(s->why, sizeof(s->why), "%llu of %llu bytes, first wrong at %lld (%u frames)",
                     (unsigned long long)s->got, (unsigned long long)s->o.expect,
                     (long long)s->first_bad, s->frames);
        else if (!ok) {
            char more[128];
            snprintf(more, sizeof(more), "; %llu of %llu bytes, first wrong at %lld",
                     (unsigned long long)s->got, (unsigned long long)s->o.expect,
                     (long long)s->first_bad);
            strncat(s->why, more, sizeof(s->why) - strlen(s->why) - 1);
        }
    }
    if (why != NULL && cap > 0)
        snprintf(why, cap, "%s", s->why);
    SSL_CTX_free(s->ctx);
    free(s);
    return ok;
}
