/*
 * The TLS transport (built once per backend) against peers that misbehave:
 * options and files that do not load (each refused at create with its own
 * error, nothing kept), a scripted TCP peer on 127.0.0.1 that answers the
 * ClientHello with garbage, an alert, a truncated or oversized record, or
 * nothing at all, an in-test OpenSSL server that ends the connection badly
 * after the handshake, and a lower transport whose calls fail. Each test
 * asserts the error open/send/recv return, that it stays (a later call
 * returns the same), and that the transport's memory is all given back.
 * The certificates are made at test time by make_certs.sh (openssl CLI).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kmqtt/transport.h"

#define OPEN_MS 10000u /* generous: a refusal comes long before it */
#define PEER_S  20     /* every blocking call of a peer gives up after this */

static char dir[256];
/* The in-test server's contexts (TLS 1.3 allowed, TLS 1.2 only), kept for
 * the whole group so that a session of one peer resumes with the next. */
static SSL_CTX *server_ctx[2];

static const char *cert_path(const char *name)
{
    static char buf[16][320];
    static int next;
    char *p = buf[next++ % 16];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s;
    long n;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

static int group_setup(void **state)
{
    char cmd[512];
    FILE *f;
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kmqtt-tlsf-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "sh %s/make_certs.sh %s", KMQTT_TLS_TEST_DIR, dir);
    if (system(cmd) != 0)
        return -1;
    /* A file that exists but holds no PEM at all. */
    f = fopen(cert_path("garbage.pem"), "w");
    if (f == NULL)
        return -1;
    fputs("this is not a certificate\n", f);
    fclose(f);
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[300];
    (void)state;
    SSL_CTX_free(server_ctx[0]);
    SSL_CTX_free(server_ctx[1]);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ the client */

typedef struct cli {
    kmqtt_mem_t mem;
    kmqtt_transport_t tcp, tls;
    bool made;
} cli_t;

static void mem_init(kmqtt_mem_t *m)
{
    kmqtt_mem_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.debug = true;
    assert_int_equal(kmqtt_mem_init(m, &cfg), KMQTT_OK);
}

static void assert_no_blocks(kmqtt_mem_t *m)
{
    kmqtt_mem_stats_t st;
    kmqtt_mem_get_stats(m, &st);
    assert_int_equal(st.blocks, 0);
    assert_int_equal(st.bytes, 0);
}

/* Creates TLS over the port's TCP; on failure the TCP transport (still
 * ours) is destroyed and every block given back is checked. */
static kmqtt_err_t cli_create(cli_t *c, const kmqtt_tls_options_t *o)
{
    kmqtt_err_t err;
    memset(c, 0, sizeof(*c));
    mem_init(&c->mem);
    assert_int_equal(kmqtt_port_tcp_create(&c->mem, &c->tcp), KMQTT_OK);
    err = kmqtt_tls_create(&c->mem, o, &c->tcp, &c->tls);
    if (err != KMQTT_OK) {
        c->tcp.destroy(c->tcp.ctx);
        assert_no_blocks(&c->mem);
        return err;
    }
    c->made = true;
    return KMQTT_OK;
}

static void cli_destroy(cli_t *c)
{
    if (c->made)
        c->tls.destroy(c->tls.ctx);
    c->made = false;
    assert_no_blocks(&c->mem);
}

static void opts(kmqtt_tls_options_t *o)
{
    kmqtt_tls_options_init(o);
    o->ca_file = cert_path("ca.crt");
}

/* create must refuse o with want, keeping nothing. */
static void refuse(const kmqtt_tls_options_t *o, kmqtt_err_t want)
{
    cli_t c;
    assert_int_equal(cli_create(&c, o), want);
}

/* Reads until an error (or 20 s of nothing): returns it. */
static long recv_until_error(kmqtt_transport_t *t)
{
    char buf[512];
    int i;
    for (i = 0; i < 200; i++) {
        unsigned ready = 0;
        long n = t->recv(t->ctx, buf, sizeof(buf));
        kmqtt_err_t err;
        if (n < 0)
            return n;
        if (n > 0)
            continue;
        err = t->wait(t->ctx, KMQTT_WAIT_READ, 100, &ready);
        if (err != KMQTT_OK)
            return err;
    }
    return 0;
}

/* ------------------------------------------------------------ create */

static kmqtt_err_t no_put(void *ctx, uint32_t key, const void *data, size_t len)
{
    (void)ctx;
    (void)key;
    (void)data;
    (void)len;
    return KMQTT_EIO;
}

static kmqtt_err_t no_get(void *ctx, uint32_t key, void *buf, size_t cap, size_t *len)
{
    (void)ctx;
    (void)key;
    (void)buf;
    (void)cap;
    (void)len;
    return KMQTT_EIO;
}

static void test_create_rejects_bad_arguments(void **state)
{
    kmqtt_tls_options_t o;
    kmqtt_mem_t m;
    kmqtt_transport_t tcp, out, nolower;
    kmqtt_tls_session_t s;
    kmqtt_store_t st;
    char long_name[300];
    (void)state;
    mem_init(&m);
    assert_int_equal(kmqtt_port_tcp_create(&m, &tcp), KMQTT_OK);
    opts(&o);
    assert_int_equal(kmqtt_tls_create(NULL, &o, &tcp, &out), KMQTT_EINVAL);
    assert_int_equal(kmqtt_tls_create(&m, NULL, &tcp, &out), KMQTT_EINVAL);
    assert_int_equal(kmqtt_tls_create(&m, &o, NULL, &out), KMQTT_EINVAL);
    assert_int_equal(kmqtt_tls_create(&m, &o, &tcp, NULL), KMQTT_EINVAL);
    memset(&nolower, 0, sizeof(nolower));
    assert_int_equal(kmqtt_tls_create(&m, &o, &nolower, &out), KMQTT_EINVAL);
    /* kmqtt_tls_stats only knows TLS transports. */
    {
        kmqtt_tls_stats_t ts;
        assert_int_equal(kmqtt_tls_stats(&tcp, &ts), KMQTT_EINVAL);
        assert_int_equal(kmqtt_tls_stats(NULL, &ts), KMQTT_EINVAL);
    }
    tcp.destroy(tcp.ctx);
    assert_no_blocks(&m);
    kmqtt_tls_options_init(NULL); /* harmless */

    opts(&o);
    o.min_version = (kmqtt_tls_version_t)7;
    refuse(&o, KMQTT_EINVAL);
    /* A certificate without its key, and a key without its certificate. */
    opts(&o);
    o.cert_file = cert_path("client.crt");
    refuse(&o, KMQTT_EINVAL);
    opts(&o);
    o.key_pem = "-----BEGIN PRIVATE KEY-----";
    refuse(&o, KMQTT_EINVAL);
    /* ALPN lists that do not make a wire list. */
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    {
        const char *bad[] = {"", "mqtt,", "mqtt,,x", ",mqtt", long_name};
        size_t i;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            opts(&o);
            o.alpn = bad[i];
            refuse(&o, KMQTT_EINVAL);
        }
    }
    /* A session buffer without memory, or claiming more than it holds. */
    memset(&s, 0, sizeof(s));
    opts(&o);
    o.session = &s;
    refuse(&o, KMQTT_EINVAL);
    {
        uint8_t buf[4];
        s.buf = buf;
        s.cap = sizeof(buf);
        s.len = 5;
        refuse(&o, KMQTT_EINVAL);
    }
    /* A store without its calls, or without one of them. */
    memset(&st, 0, sizeof(st));
    opts(&o);
    o.session_store = &st;
    refuse(&o, KMQTT_EINVAL);
    st.put = no_put;
    refuse(&o, KMQTT_EINVAL);
    st.get = no_get;
    refuse(&o, KMQTT_EINVAL);
}

static void test_create_rejects_files_that_do_not_load(void **state)
{
    kmqtt_tls_options_t o;
    char *pem;
    (void)state;
    /* The CA: missing, not PEM, PEM text that is no certificate. */
    opts(&o);
    o.ca_file = cert_path("no-such-ca.crt");
    refuse(&o, KMQTT_ETLS_CONFIG);
    opts(&o);
    o.ca_file = cert_path("garbage.pem");
    refuse(&o, KMQTT_ETLS_CONFIG);
    opts(&o);
    o.ca_file = NULL;
    o.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
    refuse(&o, KMQTT_ETLS_CONFIG);
    /* The client certificate and key: missing, not PEM, swapped. */
    opts(&o);
    o.cert_file = cert_path("no-such.crt");
    o.key_file = cert_path("client.key");
    refuse(&o, KMQTT_ETLS_CONFIG);
    opts(&o);
    o.cert_file = cert_path("client.crt");
    o.key_file = cert_path("no-such.key");
    refuse(&o, KMQTT_ETLS_CONFIG);
    opts(&o);
    o.cert_file = cert_path("garbage.pem");
    o.key_file = cert_path("client.key");
    refuse(&o, KMQTT_ETLS_CONFIG);
    opts(&o);
    o.cert_file = cert_path("client.crt");
    o.key_file = cert_path("garbage.pem");
    refuse(&o, KMQTT_ETLS_CONFIG);
    /* The same as PEM text. */
    pem = slurp(cert_path("client.key"));
    opts(&o);
    o.cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    o.key_pem = pem;
    refuse(&o, KMQTT_ETLS_CONFIG);
    free(pem);
    pem = slurp(cert_path("client.crt"));
    opts(&o);
    o.cert_pem = pem;
    o.key_pem = "not a key";
    refuse(&o, KMQTT_ETLS_CONFIG);
    free(pem);
}

/* A key that is not the certificate's: the handshake could only fail (the
 * server checks our signature), so create says so at once. */
static void test_create_rejects_a_key_that_does_not_match(void **state)
{
    kmqtt_tls_options_t o;
    char *cert, *key;
    (void)state;
    opts(&o);
    o.cert_file = cert_path("client.crt");
    o.key_file = cert_path("server.key");
    refuse(&o, KMQTT_ETLS_CONFIG);
    cert = slurp(cert_path("client.crt"));
    key = slurp(cert_path("server.key"));
    opts(&o);
    o.cert_pem = cert;
    o.key_pem = key;
    refuse(&o, KMQTT_ETLS_CONFIG);
    free(cert);
    free(key);
}

static void test_create_backend_limits(void **state)
{
    kmqtt_tls_options_t o;
    cli_t c;
    (void)state;
    opts(&o);
    o.min_version = KMQTT_TLS_1_3;
    o.alpn = "a,b,c,d,e,f,g,h,i";
#if defined(KMQTT_TEST_TLS_MBEDTLS)
    /* mbed TLS 2.28 has no TLS 1.3 client, and keeps at most 8 ALPN names. */
    refuse(&o, KMQTT_EUNSUPPORTED);
    o.min_version = KMQTT_TLS_1_2;
    refuse(&o, KMQTT_ETLS_CONFIG);
    /* No system store: trust must be given. */
    opts(&o);
    o.ca_file = NULL;
    refuse(&o, KMQTT_ETLS_CONFIG);
    /* A CA directory that does not exist. */
    opts(&o);
    o.ca_file = NULL;
    o.ca_path = cert_path("no-such-dir");
    refuse(&o, KMQTT_ETLS_CONFIG);
    (void)c;
#else
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    cli_destroy(&c);
    opts(&o);
    o.ca_file = NULL; /* the system store */
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    cli_destroy(&c);
#endif
}

/* ------------------------------------------------------------ peers */

typedef enum pmode {
    P_GARBAGE,   /* an HTTP error page instead of a ServerHello */
    P_CLOSE,     /* reads the ClientHello, closes */
    P_ALERT,     /* answers with a fatal alert record (alert), keeps the line open */
    P_HUGE,      /* a record header longer than TLS allows */
    P_TRUNCATED, /* half a ServerHello record, then closes */
    P_SILENT,    /* reads the ClientHello, says nothing until the client goes */
    P_ALERT_NOW, /* sends the fatal alert (alert; 0: an HTTP answer) first thing */
    P_TLS        /* an OpenSSL server (act says what it does after the handshake) */
} pmode_t;

typedef enum pact {
    A_CLOSE_NOTIFY, /* a clean TLS close */
    A_BAD_RECORD,   /* an application record that does not decrypt */
    A_CUT_RECORD,   /* the header of a record and a few bytes, then the TCP end */
    A_RESET,        /* the TCP connection reset */
    A_ECHO,         /* echoes what it reads until the client goes */
} pact_t;

typedef struct peer {
    pmode_t mode;
    pact_t act;
    unsigned char alert;
    bool tls12;
    bool v6; /* listen on ::1 */
    int lfd;
    uint16_t port;
    pthread_t th;
    bool handshake_ok;
    char why[160];
} peer_t;

static void set_timeouts(int fd)
{
    struct timeval tv;
    tv.tv_sec = PEER_S;
    tv.tv_usec = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static bool read_n(int fd, unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static void write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t r = write(fd, b, n);
        if (r <= 0)
            return;
        b += r;
        n -= (size_t)r;
    }
}

/* Reads until the client closes (or the timeout): the peer never closes
 * with unread bytes, which would reset the connection and could drop what
 * it sent. */
static void drain(int fd)
{
    unsigned char b[4096];
    while (read(fd, b, sizeof(b)) > 0) {
    }
}

/* The first record the client sends, whole. */
static bool read_record(int fd)
{
    unsigned char h[5], body[16384 + 2048];
    size_t len;
    if (!read_n(fd, h, sizeof(h)))
        return false;
    len = ((size_t)h[3] << 8) | h[4];
    return h[0] == 0x16 && len <= sizeof(body) && read_n(fd, body, len);
}

static void run_raw(peer_t *p, int fd)
{
    static const char http[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    /* A ServerHello record header announcing 0x4a bytes, and 10 of them. */
    static const unsigned char half[] = {0x16, 0x03, 0x03, 0x00, 0x4a, 0x02, 0x00, 0x00,
                                         0x46, 0x03, 0x03, 0x11, 0x22, 0x33, 0x44};
    static const unsigned char huge[] = {0x16, 0x03, 0x03, 0xff, 0xff, 0x02, 0x00, 0x00, 0x46};
    unsigned char alert[7] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0};
    if (p->mode == P_ALERT_NOW) {
        alert[6] = p->alert;
        if (p->alert != 0)
            write_all(fd, alert, sizeof(alert));
        else
            write_all(fd, http, sizeof(http) - 1);
        drain(fd);
        return;
    }
    if (!read_record(fd)) {
        snprintf(p->why, sizeof(p->why), "no ClientHello");
        return;
    }
    switch (p->mode) {
    case P_GARBAGE:
        write_all(fd, http, sizeof(http) - 1);
        break;
    case P_CLOSE:
        return;
    case P_ALERT:
        alert[6] = p->alert;
        write_all(fd, alert, sizeof(alert));
        break;
    case P_HUGE:
        write_all(fd, huge, sizeof(huge));
        break;
    case P_TRUNCATED:
        write_all(fd, half, sizeof(half));
        (void)shutdown(fd, SHUT_WR);
        break;
    default:
        break;
    }
    drain(fd);
}

static SSL_CTX *server_ctx_get(bool tls12)
{
    SSL_CTX *ctx = server_ctx[tls12];
    if (ctx != NULL)
        return ctx;
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    if (tls12)
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_file(ctx, cert_path("server.crt"), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cert_path("server.key"), SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    server_ctx[tls12] = ctx;
    return ctx;
}

static void run_tls(peer_t *p, int fd)
{
    SSL_CTX *ctx = server_ctx_get(p->tls12);
    SSL *ssl = NULL;
    if (ctx == NULL) {
        snprintf(p->why, sizeof(p->why), "no server context");
        return;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
        goto out;
    if (SSL_accept(ssl) != 1) {
        snprintf(p->why, sizeof(p->why), "handshake failed");
        drain(fd);
        goto out;
    }
    p->handshake_ok = true;
    switch (p->act) {
    case A_CLOSE_NOTIFY:
        (void)SSL_shutdown(ssl);
        drain(fd);
        break;
    case A_BAD_RECORD: {
        unsigned char rec[5 + 48] = {0x17, 0x03, 0x03, 0x00, 48};
        memset(rec + 5, 0x5a, 48);
        write_all(fd, rec, sizeof(rec));
        drain(fd);
        break;
    }
    case A_CUT_RECORD: {
        static const unsigned char rec[] = {0x17, 0x03, 0x03, 0x01, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
        write_all(fd, rec, sizeof(rec));
        (void)shutdown(fd, SHUT_WR);
        drain(fd);
        break;
    }
    case A_RESET: {
        struct linger l;
        l.l_onoff = 1;
        l.l_linger = 0;
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        break;
    }
    case A_ECHO: {
        char b[4096];
        int n;
        while ((n = SSL_read(ssl, b, sizeof(b))) > 0)
            if (SSL_write(ssl, b, n) != n)
                break;
        break;
    }
    }
out:
    SSL_free(ssl);
}

static void *peer_main(void *arg)
{
    peer_t *p = arg;
    int fd = accept(p->lfd, NULL, NULL);
    if (fd < 0) {
        snprintf(p->why, sizeof(p->why), "accept: %s", strerror(errno));
        return NULL;
    }
    set_timeouts(fd);
    if (p->mode == P_TLS)
        run_tls(p, fd);
    else
        run_raw(p, fd);
    close(fd);
    return NULL;
}

static void peer_start(peer_t *p)
{
    struct sockaddr_in a;
    struct sockaddr_in6 a6;
    socklen_t al;
    int one = 1;
    p->lfd = socket(p->v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    assert_true(p->lfd >= 0);
    (void)setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (p->v6) {
        memset(&a6, 0, sizeof(a6));
        a6.sin6_family = AF_INET6;
        a6.sin6_addr = in6addr_loopback;
        al = sizeof(a6);
        assert_int_equal(bind(p->lfd, (struct sockaddr *)&a6, al), 0);
        assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a6, &al), 0);
        p->port = ntohs(a6.sin6_port);
    } else {
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        al = sizeof(a);
        assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, al), 0);
        assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &al), 0);
        p->port = ntohs(a.sin_port);
    }
    assert_int_equal(listen(p->lfd, 1), 0);
    assert_int_equal(pthread_create(&p->th, NULL, peer_main, p), 0);
}

static void peer_join(peer_t *p)
{
    assert_int_equal(pthread_join(p->th, NULL), 0);
    close(p->lfd);
}

/* open() against a raw peer in mode m: returns its result, after the
 * transport was closed and destroyed (nothing left). */
static kmqtt_err_t open_against(pmode_t m, unsigned char alert, const kmqtt_tls_options_t *o,
                                uint32_t timeout_ms)
{
    peer_t p;
    cli_t c;
    kmqtt_err_t err;
    memset(&p, 0, sizeof(p));
    p.mode = m;
    p.alert = alert;
    peer_start(&p);
    assert_int_equal(cli_create(&c, o), KMQTT_OK);
    err = c.tls.open(c.tls.ctx, "127.0.0.1", p.port, timeout_ms);
    if (err == KMQTT_OK)
        c.tls.close(c.tls.ctx);
    cli_destroy(&c); /* the peer reads until we close */
    peer_join(&p);
    assert_string_equal(p.why, "");
    return err;
}

/* ------------------------------------------------------------ handshake */

static void test_handshake_garbage_instead_of_server_hello(void **state)
{
    kmqtt_tls_options_t o;
    (void)state;
    opts(&o);
    assert_int_equal(open_against(P_GARBAGE, 0, &o, OPEN_MS), KMQTT_ETLS);
}

static void test_handshake_peer_closes(void **state)
{
    kmqtt_tls_options_t o;
    (void)state;
    opts(&o);
    assert_int_equal(open_against(P_CLOSE, 0, &o, OPEN_MS), KMQTT_ETLS);
}

static void test_handshake_truncated_record(void **state)
{
    kmqtt_tls_options_t o;
    (void)state;
    opts(&o);
    assert_int_equal(open_against(P_TRUNCATED, 0, &o, OPEN_MS), KMQTT_ETLS);
}

static void test_handshake_record_too_long(void **state)
{
    kmqtt_tls_options_t o;
    (void)state;
    opts(&o);
    assert_int_equal(open_against(P_HUGE, 0, &o, OPEN_MS), KMQTT_ETLS);
}

/* A server that never answers: open gives up at its timeout. */
static void test_handshake_silent_peer_times_out(void **state)
{
    kmqtt_tls_options_t o;
    (void)state;
    opts(&o);
    assert_int_equal(open_against(P_SILENT, 0, &o, 300), KMQTT_ETIMEDOUT);
}

/* Alerts instead of a ServerHello: those about our certificate say the
 * server refused it (KMQTT_ECERT_REJECTED), any other is a TLS failure. */
static void test_handshake_alerts(void **state)
{
    kmqtt_tls_options_t o, with_cert;
    (void)state;
    opts(&o);
    assert_int_equal(open_against(P_ALERT, 42 /* bad_certificate */, &o, OPEN_MS),
                     KMQTT_ECERT_REJECTED);
    assert_int_equal(open_against(P_ALERT, 48 /* unknown_ca */, &o, OPEN_MS), KMQTT_ECERT_REJECTED);
    assert_int_equal(open_against(P_ALERT, 49 /* access_denied */, &o, OPEN_MS),
                     KMQTT_ECERT_REJECTED);
    assert_int_equal(open_against(P_ALERT, 45 /* certificate_expired */, &o, OPEN_MS),
                     KMQTT_ECERT_REJECTED);
    /* handshake_failure: a TLS 1.2 server requiring a certificate we did
     * not have; with one given it means something else. */
    assert_int_equal(open_against(P_ALERT, 40, &o, OPEN_MS), KMQTT_ECERT_REJECTED);
    opts(&with_cert);
    with_cert.cert_file = cert_path("client.crt");
    with_cert.key_file = cert_path("client.key");
    assert_int_equal(open_against(P_ALERT, 40, &with_cert, OPEN_MS), KMQTT_ETLS);
    assert_int_equal(open_against(P_ALERT, 80 /* internal_error */, &o, OPEN_MS), KMQTT_ETLS);
    assert_int_equal(open_against(P_ALERT, 70 /* protocol_version */, &o, OPEN_MS), KMQTT_ETLS);
}

/* Nothing listens: the lower transport's error, nothing kept. */
static void test_open_refused_below(void **state)
{
    kmqtt_tls_options_t o;
    cli_t c;
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    uint16_t port;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    (void)state;
    /* A port that was free a moment ago, and nothing listens on it. */
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    port = ntohs(a.sin_port);
    close(fd);
    opts(&o);
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    assert_int_equal(c.tls.open(c.tls.ctx, "127.0.0.1", port, OPEN_MS), KMQTT_ECONNREFUSED);
    /* Closed: send and recv say so, wait is the lower one's. */
    {
        char b[4];
        assert_int_equal(c.tls.send(c.tls.ctx, "x", 1), KMQTT_ENOTCONN);
        assert_int_equal(c.tls.recv(c.tls.ctx, b, sizeof(b)), KMQTT_ENOTCONN);
    }
    cli_destroy(&c);
}

/* A server name longer than DNS allows: refused at open, nothing kept. */
static void test_open_server_name_too_long(void **state)
{
    kmqtt_tls_options_t o;
    peer_t p;
    cli_t c;
    char name[300];
    (void)state;
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    memset(&p, 0, sizeof(p));
    p.mode = P_SILENT; /* it never gets a ClientHello: read_record fails */
    peer_start(&p);
    opts(&o);
    o.server_name = name;
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    assert_int_equal(c.tls.open(c.tls.ctx, "127.0.0.1", p.port, OPEN_MS), KMQTT_ETLS_CONFIG);
    cli_destroy(&c);
    peer_join(&p);
}

/* ------------------------------------------------------------ after the handshake */

/* Opens against an OpenSSL server doing act after the handshake; returns
 * the error recv met, after checking it stays. */
static long after_handshake(pact_t act, bool tls12)
{
    kmqtt_tls_options_t o;
    peer_t p;
    cli_t c;
    long r;
    char b[8];
    kmqtt_tls_stats_t st;
    memset(&p, 0, sizeof(p));
    p.mode = P_TLS;
    p.act = act;
    p.tls12 = tls12;
    peer_start(&p);
    opts(&o);
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    assert_int_equal(c.tls.open(c.tls.ctx, "127.0.0.1", p.port, OPEN_MS), KMQTT_OK);
    assert_int_equal(c.tls.open(c.tls.ctx, "127.0.0.1", p.port, OPEN_MS), KMQTT_ESTATE);
    assert_int_equal(kmqtt_tls_stats(&c.tls, &st), KMQTT_OK);
    assert_true(st.version[0] != '\0');
    assert_true(st.bytes_in > 0 && st.bytes_out > 0);
    r = recv_until_error(&c.tls);
    assert_true(r < 0);
    /* The first fatal error is kept: every later call returns it. */
    assert_int_equal(c.tls.recv(c.tls.ctx, b, sizeof(b)), r);
    assert_int_equal(c.tls.send(c.tls.ctx, "x", 1), r);
    cli_destroy(&c);
    peer_join(&p);
    assert_true(p.handshake_ok);
    return r;
}

static void test_server_close_notify(void **state)
{
    (void)state;
    assert_int_equal(after_handshake(A_CLOSE_NOTIFY, false), KMQTT_ECLOSED);
    assert_int_equal(after_handshake(A_CLOSE_NOTIFY, true), KMQTT_ECLOSED);
}

static void test_server_record_that_does_not_decrypt(void **state)
{
    (void)state;
    assert_int_equal(after_handshake(A_BAD_RECORD, false), KMQTT_ETLS);
    assert_int_equal(after_handshake(A_BAD_RECORD, true), KMQTT_ETLS);
}

/* The TCP connection ends in the middle of a record: the connection is
 * lost, never a short read of garbage. */
static void test_server_cuts_a_record(void **state)
{
    long r;
    (void)state;
    r = after_handshake(A_CUT_RECORD, false);
    assert_int_equal(r, KMQTT_ECLOSED);
}

static void test_server_resets(void **state)
{
    long r;
    (void)state;
    r = after_handshake(A_RESET, true);
    assert_true(r == KMQTT_ECLOSED || r == KMQTT_EIO);
}

/* ------------------------------------------------------------ memory */

/* A kmqtt_store_t in memory holding the one TLS record; each call can be
 * made to fail. */
typedef struct mstore {
    uint8_t data[KMQTT_TLS_STORE_SESSION_MAX];
    size_t len;
    bool have;
    kmqtt_err_t get_err, put_err;
    int gets, puts, removes;
} mstore_t;

static kmqtt_err_t ms_put(void *ctx, uint32_t key, const void *data, size_t len)
{
    mstore_t *s = ctx;
    assert_int_equal(key, KMQTT_TLS_STORE_KEY);
    s->puts++;
    if (s->put_err != KMQTT_OK)
        return s->put_err;
    assert_true(len <= sizeof(s->data));
    memcpy(s->data, data, len);
    s->len = len;
    s->have = true;
    return KMQTT_OK;
}

static kmqtt_err_t ms_get(void *ctx, uint32_t key, void *buf, size_t cap, size_t *len)
{
    mstore_t *s = ctx;
    assert_int_equal(key, KMQTT_TLS_STORE_KEY);
    s->gets++;
    if (s->get_err != KMQTT_OK)
        return s->get_err;
    if (!s->have)
        return KMQTT_ENOTFOUND;
    if (s->len > cap)
        return KMQTT_ENOBUFS;
    memcpy(buf, s->data, s->len);
    *len = s->len;
    return KMQTT_OK;
}

static kmqtt_err_t ms_remove(void *ctx, uint32_t key)
{
    mstore_t *s = ctx;
    assert_int_equal(key, KMQTT_TLS_STORE_KEY);
    s->removes++;
    s->have = false;
    return s->put_err;
}

static void ms_init(mstore_t *s, kmqtt_store_t *st)
{
    memset(s, 0, sizeof(*s));
    memset(st, 0, sizeof(*st));
    st->ctx = s;
    st->put = ms_put;
    st->get = ms_get;
    st->remove = ms_remove;
}

/* Every allocation of create failing in turn: KMQTT_ENOMEM, nothing kept;
 * then create succeeds. With a session store, its buffer too. */
static void test_create_out_of_memory(void **state)
{
    kmqtt_tls_options_t o;
    mstore_t ms;
    kmqtt_store_t st;
    int with_store;
    (void)state;
    ms_init(&ms, &st);
    for (with_store = 0; with_store < 2; with_store++) {
        uint32_t n;
        bool made = false;
        opts(&o);
        o.cert_file = cert_path("client.crt");
        o.key_file = cert_path("client.key");
        o.server_name = "localhost";
        o.alpn = "mqtt";
        o.session_store = with_store ? &st : NULL;
        for (n = 1; n < 64 && !made; n++) {
            cli_t c;
            kmqtt_err_t err;
            memset(&c, 0, sizeof(c));
            mem_init(&c.mem);
            assert_int_equal(kmqtt_port_tcp_create(&c.mem, &c.tcp), KMQTT_OK);
            kmqtt_mem_fail_nth(&c.mem, n, false);
            err = kmqtt_tls_create(&c.mem, &o, &c.tcp, &c.tls);
            kmqtt_mem_fail_nth(&c.mem, 0, false);
            if (err == KMQTT_OK) {
                made = true;
                c.tls.destroy(c.tls.ctx);
            } else {
                assert_int_equal(err, KMQTT_ENOMEM);
                c.tcp.destroy(c.tcp.ctx);
            }
            assert_no_blocks(&c.mem);
        }
        assert_true(made);
        assert_true(n > 6); /* the transport, then each option copied */
    }
}

/* ------------------------------------------------------------ sessions */

/* Opens t against a TLS 1.2 echo server (the session comes within the
 * handshake), checks one round trip, closes. Returns the stats. */
static kmqtt_tls_stats_t echo_cycle(kmqtt_transport_t *t, const char *host, bool v6)
{
    peer_t p;
    kmqtt_tls_stats_t st;
    char b[16];
    long n;
    int i;
    memset(&p, 0, sizeof(p));
    p.mode = P_TLS;
    p.act = A_ECHO;
    p.tls12 = true;
    p.v6 = v6;
    peer_start(&p);
    assert_int_equal(t->open(t->ctx, host, p.port, OPEN_MS), KMQTT_OK);
    assert_int_equal(t->send(t->ctx, "ping", 4), 4);
    assert_int_equal(t->send(t->ctx, "", 0), 0);
    for (i = 0, n = 0; i < 100 && n == 0; i++) {
        unsigned ready = 0;
        n = t->recv(t->ctx, b, sizeof(b));
        if (n == 0)
            assert_int_equal(t->wait(t->ctx, KMQTT_WAIT_READ, 200, &ready), KMQTT_OK);
    }
    assert_int_equal(n, 4);
    assert_memory_equal(b, "ping", 4);
    assert_int_equal(kmqtt_tls_stats(t, &st), KMQTT_OK);
    t->close(t->ctx);
    peer_join(&p);
    assert_string_equal(p.why, "");
    return st;
}

/* The session goes to the store and comes back in a new transport (a new
 * process); a store that fails is counted, never fatal. */
static void test_session_store(void **state)
{
    kmqtt_tls_options_t o;
    mstore_t ms;
    kmqtt_store_t st;
    kmqtt_tls_stats_t ts;
    cli_t c;
    (void)state;
    ms_init(&ms, &st);
    opts(&o);
    o.session_store = &st;
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    ts = echo_cycle(&c.tls, "127.0.0.1", false);
    assert_false(ts.resumed);
    assert_int_equal(ts.store_errors, 0);
    cli_destroy(&c);
    assert_true(ms.have);
    assert_true(ms.puts >= 1);

    /* A new transport resumes from the store. */
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    ts = echo_cycle(&c.tls, "127.0.0.1", false);
    assert_true(ts.resumed);
    cli_destroy(&c);

    /* A store that cannot be read, then cannot be written: counted. */
    ms.get_err = KMQTT_EIO;
    ms.put_err = KMQTT_EIO;
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    ts = echo_cycle(&c.tls, "127.0.0.1", false);
    assert_false(ts.resumed);
    assert_true(ts.store_errors >= 2);
    cli_destroy(&c);
}

/* A session buffer too small for the session: emptied, said in the stats,
 * the record removed from the store; the next handshake is a full one. */
static void test_session_too_big(void **state)
{
    kmqtt_tls_options_t o;
    uint8_t buf[8];
    kmqtt_tls_session_t s;
    mstore_t ms;
    kmqtt_store_t st;
    kmqtt_tls_stats_t ts;
    cli_t c;
    (void)state;
    ms_init(&ms, &st);
    memset(&s, 0, sizeof(s));
    s.buf = buf;
    s.cap = sizeof(buf);
    opts(&o);
    o.session = &s;
    o.session_store = &st;
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    ts = echo_cycle(&c.tls, "127.0.0.1", false);
    assert_true(ts.session_too_big);
    assert_int_equal(s.len, 0);
    assert_true(ms.removes >= 1);
    assert_false(ms.have);
    cli_destroy(&c);
}

/* Bytes in the session buffer that are no session: ignored, a full
 * handshake, then the buffer holds a real session. */
static void test_session_garbage_ignored(void **state)
{
    kmqtt_tls_options_t o;
    uint8_t buf[4096];
    kmqtt_tls_session_t s;
    kmqtt_tls_stats_t ts;
    cli_t c;
    (void)state;
    memset(&s, 0, sizeof(s));
    memset(buf, 0x30, sizeof(buf));
    s.buf = buf;
    s.cap = sizeof(buf);
    s.len = 100;
    opts(&o);
    o.session = &s;
    /* With a store too: the caller's buffer is the newer, the store is
     * not read. */
    {
        mstore_t ms;
        kmqtt_store_t st;
        ms_init(&ms, &st);
        o.session_store = &st;
        assert_int_equal(cli_create(&c, &o), KMQTT_OK);
        assert_int_equal(ms.gets, 0);
        cli_destroy(&c);
        o.session_store = NULL;
    }
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    ts = echo_cycle(&c.tls, "127.0.0.1", false);
    assert_false(ts.resumed);
    assert_true(s.len > 0 && s.len <= s.cap);
    /* The same transport offers it on its next open: resumed. */
    ts = echo_cycle(&c.tls, "127.0.0.1", false);
    assert_true(ts.resumed);
    cli_destroy(&c);
}

/* ::1 is checked against the certificate's IPv6 SAN. */
static void test_ipv6_literal(void **state)
{
    kmqtt_tls_options_t o;
    kmqtt_tls_stats_t ts;
    cli_t c;
    (void)state;
    opts(&o);
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    ts = echo_cycle(&c.tls, "::1", true);
    assert_true(ts.version[0] != '\0');
    /* Resumption is per name: 127.0.0.1 does not get ::1's session. */
    ts = echo_cycle(&c.tls, "127.0.0.1", false);
    assert_false(ts.resumed);
    cli_destroy(&c);
}

/* ------------------------------------------------------------ a failing lower */

typedef struct flaky {
    kmqtt_transport_t real;
    bool fail_send;       /* send fails (KMQTT_EIO) */
    bool send_after_read; /* ... once something can be read */
    bool fail_wait;       /* wait fails (KMQTT_EIO) */
    bool fail_recv;       /* recv fails (KMQTT_EIO) */
} flaky_t;

static kmqtt_err_t fl_open(void *ctx, const char *h, uint16_t port, uint32_t ms)
{
    flaky_t *f = ctx;
    return f->real.open(f->real.ctx, h, port, ms);
}

static long fl_send(void *ctx, const void *b, size_t n)
{
    flaky_t *f = ctx;
    if (f->fail_send) {
        unsigned ready = 0;
        if (f->send_after_read)
            (void)f->real.wait(f->real.ctx, KMQTT_WAIT_READ, OPEN_MS, &ready);
        return KMQTT_EIO;
    }
    return f->real.send(f->real.ctx, b, n);
}

static long fl_recv(void *ctx, void *b, size_t n)
{
    flaky_t *f = ctx;
    return f->fail_recv ? KMQTT_EIO : f->real.recv(f->real.ctx, b, n);
}

static kmqtt_err_t fl_wait(void *ctx, unsigned ev, uint32_t ms, unsigned *ready)
{
    flaky_t *f = ctx;
    if (f->fail_wait) {
        *ready = 0;
        return KMQTT_EIO;
    }
    return f->real.wait(f->real.ctx, ev, ms, ready);
}

static void fl_wake(void *ctx)
{
    flaky_t *f = ctx;
    f->real.wake(f->real.ctx);
}

static void fl_close(void *ctx)
{
    flaky_t *f = ctx;
    f->real.close(f->real.ctx);
}

static void fl_destroy(void *ctx)
{
    flaky_t *f = ctx;
    f->real.destroy(f->real.ctx);
}

/* TLS over a flaky lower over TCP. */
static void flaky_create(cli_t *c, flaky_t *f)
{
    kmqtt_tls_options_t o;
    kmqtt_transport_t lower;
    memset(c, 0, sizeof(*c));
    memset(f, 0, sizeof(*f));
    mem_init(&c->mem);
    assert_int_equal(kmqtt_port_tcp_create(&c->mem, &f->real), KMQTT_OK);
    lower.ctx = f;
    lower.open = fl_open;
    lower.send = fl_send;
    lower.recv = fl_recv;
    lower.wait = fl_wait;
    lower.wake = fl_wake;
    lower.close = fl_close;
    lower.destroy = fl_destroy;
    opts(&o);
    assert_int_equal(kmqtt_tls_create(&c->mem, &o, &lower, &c->tls), KMQTT_OK);
    c->made = true;
}

/* The lower transport's wait fails during the handshake: open returns
 * that error, nothing open. */
static void test_lower_wait_fails_in_handshake(void **state)
{
    cli_t c;
    flaky_t f;
    peer_t p;
    (void)state;
    memset(&p, 0, sizeof(p));
    p.mode = P_SILENT;
    peer_start(&p);
    flaky_create(&c, &f);
    f.fail_wait = true;
    assert_int_equal(c.tls.open(c.tls.ctx, "127.0.0.1", p.port, OPEN_MS), KMQTT_EIO);
    cli_destroy(&c);
    peer_join(&p);
}

/* The ClientHello cannot be written, and the server already said why:
 * the alert names the reason; without one, the lower error. */
static void test_lower_send_fails_in_handshake(void **state)
{
    static const struct {
        unsigned char alert;
        kmqtt_err_t mbed, ossl;
    } cases[] = {
        {42, KMQTT_ECERT_REJECTED, KMQTT_ETLS},
        {40, KMQTT_ECERT_REJECTED, KMQTT_ETLS},
        {80, KMQTT_ETLS, KMQTT_ETLS},
        {0, KMQTT_EIO, KMQTT_ETLS}, /* no alert (an HTTP answer): the lower error */
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cli_t c;
        flaky_t f;
        peer_t p;
        kmqtt_err_t err;
        memset(&p, 0, sizeof(p));
        p.mode = P_ALERT_NOW;
        p.alert = cases[i].alert;
        peer_start(&p);
        flaky_create(&c, &f);
        f.fail_send = true;
        f.send_after_read = true;
        err = c.tls.open(c.tls.ctx, "127.0.0.1", p.port, OPEN_MS);
#if defined(KMQTT_TEST_TLS_MBEDTLS)
        assert_int_equal(err, cases[i].mbed);
#else
        assert_int_equal(err, cases[i].ossl);
#endif
        cli_destroy(&c);
        peer_join(&p);
    }
}

/* After the handshake the lower transport fails: send and recv report
 * it, and it stays. */
static void test_lower_fails_after_handshake(void **state)
{
    int which;
    (void)state;
    for (which = 0; which < 2; which++) {
        cli_t c;
        flaky_t f;
        peer_t p;
        char b[8];
        long r;
        memset(&p, 0, sizeof(p));
        p.mode = P_TLS;
        p.act = A_ECHO;
        peer_start(&p);
        flaky_create(&c, &f);
        assert_int_equal(c.tls.open(c.tls.ctx, "127.0.0.1", p.port, OPEN_MS), KMQTT_OK);
        if (which == 0) {
            f.fail_send = true;
            r = c.tls.send(c.tls.ctx, "hello", 5);
            assert_int_equal(r, KMQTT_EIO);
        } else {
            f.fail_recv = true;
            r = c.tls.recv(c.tls.ctx, b, sizeof(b));
#if defined(KMQTT_TEST_TLS_MBEDTLS)
            assert_int_equal(r, KMQTT_EIO);
#else
            /* OpenSSL's BIO takes any failure below as the end of the stream. */
            assert_int_equal(r, KMQTT_ECLOSED);
#endif
        }
        assert_int_equal(c.tls.send(c.tls.ctx, "x", 1), r);
        assert_int_equal(c.tls.recv(c.tls.ctx, b, sizeof(b)), r);
        f.fail_send = false;
        f.fail_recv = false;
        cli_destroy(&c);
        peer_join(&p);
    }
}

/* Closed, the transport's wait is the lower one's; destroy(NULL) and
 * stats without a place to put them are harmless. */
static void test_closed_transport_calls(void **state)
{
    kmqtt_tls_options_t o;
    kmqtt_tls_stats_t ts;
    unsigned ready = 0;
    cli_t c;
    (void)state;
    opts(&o);
    assert_int_equal(cli_create(&c, &o), KMQTT_OK);
    (void)c.tls.wait(c.tls.ctx, KMQTT_WAIT_READ, 0, &ready);
    assert_int_equal(ready & KMQTT_WAIT_READ, 0);
    assert_int_equal(kmqtt_tls_stats(&c.tls, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_tls_stats(&c.tls, &ts), KMQTT_OK);
    assert_false(ts.resumed);
    c.tls.destroy(NULL);
    c.tls.close(c.tls.ctx);
    cli_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_arguments),
        cmocka_unit_test(test_create_rejects_files_that_do_not_load),
        cmocka_unit_test(test_create_rejects_a_key_that_does_not_match),
        cmocka_unit_test(test_create_backend_limits),
        cmocka_unit_test(test_handshake_garbage_instead_of_server_hello),
        cmocka_unit_test(test_handshake_peer_closes),
        cmocka_unit_test(test_handshake_truncated_record),
        cmocka_unit_test(test_handshake_record_too_long),
        cmocka_unit_test(test_handshake_silent_peer_times_out),
        cmocka_unit_test(test_handshake_alerts),
        cmocka_unit_test(test_open_refused_below),
        cmocka_unit_test(test_open_server_name_too_long),
        cmocka_unit_test(test_server_close_notify),
        cmocka_unit_test(test_server_record_that_does_not_decrypt),
        cmocka_unit_test(test_server_cuts_a_record),
        cmocka_unit_test(test_server_resets),
        cmocka_unit_test(test_create_out_of_memory),
        cmocka_unit_test(test_session_store),
        cmocka_unit_test(test_session_too_big),
        cmocka_unit_test(test_session_garbage_ignored),
        cmocka_unit_test(test_ipv6_literal),
        cmocka_unit_test(test_lower_wait_fails_in_handshake),
        cmocka_unit_test(test_lower_send_fails_in_handshake),
        cmocka_unit_test(test_lower_fails_after_handshake),
        cmocka_unit_test(test_closed_transport_calls),
    };
    /* The in-test peers write with write(): a client that already went
     * must not kill the program. */
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
