/*
 * TLS against a real mosquitto with TLS listeners, built once per backend
 * (OpenSSL, mbedTLS): publish/subscribe at QoS 0/1/2, mutual TLS, each bad
 * certificate refused with its own error, session resumption, and connect /
 * disconnect cycles that leave descriptors and heap where they were. The
 * certificates are made at test time by make_certs.sh (openssl CLI).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"
#include "kmqtt/transport.h"

#define WAIT_MS 10000u
#define CYCLES  200

enum { L_OK, L_MTLS, L_EXPIRED, L_OTHER, L_SELF, L_FOREIGN, L_COUNT };
static const char *const cert_of[L_COUNT] = {"server", "server", "expired",
                                             "other",  "self",   "foreign"};

static char dir[256];
static char path_buf[L_COUNT + 8][320];
static uint16_t port[L_COUNT];
static broker_t *broker;
static kmqtt_mem_t parent;

static const char *cert_path(const char *name)
{
    static int next;
    char *p = path_buf[next++ % (int)(sizeof(path_buf) / sizeof(path_buf[0]))];
    snprintf(p, sizeof(path_buf[0]), "%s/%s", dir, name);
    return p;
}

static int group_setup(void **state)
{
    char cmd[512];
    char conf[2048];
    size_t n = 0;
    broker_opts_t bo;
    int i, attempt;
    (void)state;
    if (it_group_init(&parent) != 0) {
        return -1;
    }
    snprintf(dir, sizeof(dir), "/tmp/kmqtt-tls-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "sh %s/make_certs.sh %s", KMQTT_TLS_TEST_DIR, dir);
    if (system(cmd) != 0) {
        return -1;
    }
    /* A port read back from unused_port() may be taken by another test's
     * connection before mosquitto binds it: a few tries with fresh ports. */
    for (attempt = 0; attempt < 3 && broker == NULL; attempt++) {
        n = 0;
        for (i = 0; i < L_COUNT; i++) {
            port[i] = unused_port();
            n += (size_t)snprintf(conf + n, sizeof(conf) - n,
                                  "listener %u 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/%s.crt\n"
                                  "keyfile %s/%s.key\n%s",
                                  (unsigned)port[i], dir, dir, cert_of[i], dir, cert_of[i],
                                  i == L_MTLS ? "require_certificate true\n" : "");
        }
        memset(&bo, 0, sizeof(bo));
        bo.extra_conf = conf;
        broker = broker_start(&bo);
    }
    return broker != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    char cmd[300];
    (void)state;
    broker_stop(broker);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The trust every test starts from: our CA, verification on. */
static void tls_defaults(kmqtt_tls_options_t *t)
{
    kmqtt_tls_options_init(t);
    t->ca_file = cert_path("ca.crt");
}

/* A client of listener l over TLS; *tr keeps the transport's functions so
 * the test can ask kmqtt_tls_stats. Returns the create result. */
static kmqtt_err_t make_client(int l, const kmqtt_tls_options_t *t, const char *id, it_rec_t *rec,
                               kmqtt_transport_t *tr, kmqtt_client_t **c)
{
    kmqtt_transport_t tcp;
    kmqtt_client_options_t o;
    kmqtt_err_t err;
    *c = NULL;
    if (kmqtt_port_tcp_create(&parent, &tcp) != KMQTT_OK) {
        return KMQTT_ENOMEM;
    }
    err = kmqtt_tls_create(&parent, t, &tcp, tr);
    if (err != KMQTT_OK) {
        tcp.destroy(tcp.ctx); /* still ours when create failed */
        return err;
    }
    it_options(&o, broker, id);
    o.port = port[l];
    o.transport = tr;
    o.mem = &parent;
    o.on_message = rec != NULL ? it_rec_handler : NULL;
    o.ctx = rec;
    o.connect_timeout_ms = WAIT_MS;
    err = kmqtt_client_create(&o, c);
    if (err != KMQTT_OK) {
        tr->destroy(tr->ctx);
    }
    return err;
}

/* Subscribes and publishes to itself at QoS 0, 1 and 2 over an open client. */
static void pubsub_roundtrip(kmqtt_client_t *c, it_rec_t *rec, const char *topic)
{
    kmqtt_publish_result_t pr;
    kmqtt_sub_request_t req;
    kmqtt_subscribe_result_t granted;
    int q;
    memset(&req, 0, sizeof(req));
    req.filter = topic;
    req.qos = 2;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, &granted), KMQTT_OK);
    assert_int_equal(granted.reason_codes[0], 2);
    for (q = 0; q <= 2; q++) {
        char payload[32];
        uint16_t id = 0;
        snprintf(payload, sizeof(payload), "over tls qos %d", q);
        assert_int_equal(
            kmqtt_publish(c, topic, payload, strlen(payload), (uint8_t)q, false, NULL, &pr),
            KMQTT_OK);
        id = pr.packet_id;
        if (q > 0) {
            assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
        }
        assert_true(it_wait_msgs(c, rec, q + 1, WAIT_MS));
        assert_int_equal(rec->msgs[q].qos, q);
        assert_int_equal(rec->msgs[q].len, strlen(payload));
        assert_memory_equal(rec->msgs[q].payload, payload, strlen(payload));
    }
}

/* tls.openssl12.*: OPENSSL_CONF caps OpenSSL at TLS 1.2 (openssl_tls12.cnf). */
static bool capped_at_12(void)
{
    const char *c = getenv("KMQTT_TEST_TLS12");
    return (c != NULL && c[0] == '1') || strstr(kmqtt_tls_backend(), "mbed") != NULL;
}

static void pubsub_with(kmqtt_tls_version_t v, const char *want_version)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tr;
    kmqtt_tls_stats_t st;
    kmqtt_client_t *c;
    it_rec_t rec;
    it_baseline_t base;
    kmqtt_err_t err;
    it_take_baseline(&parent, &base);
    it_rec_init(&rec);
    tls_defaults(&t);
    t.min_version = v;
    err = make_client(L_OK, &t, "tls-pubsub", &rec, &tr, &c);
    if (v == KMQTT_TLS_1_3 && err == KMQTT_EUNSUPPORTED) {
        /* mbed TLS 2.28 has no TLS 1.3 client: said so at create. */
        assert_string_equal(want_version, "TLSv1.3");
        assert_true(strstr(kmqtt_tls_backend(), "mbed") != NULL);
        it_rec_destroy(&rec);
        it_expect_baseline(&parent, &base, "tls 1.3 unsupported", 0);
        return;
    }
    assert_int_equal(err, KMQTT_OK);
    if (v == KMQTT_TLS_1_3 && capped_at_12()) {
        /* Nothing both sides accept: a handshake failure, not a fallback. */
        assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_ETLS);
        kmqtt_client_destroy(c);
        it_rec_destroy(&rec);
        it_expect_baseline(&parent, &base, "tls 1.3 refused", 0);
        return;
    }
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_tls_stats(&tr, &st), KMQTT_OK);
    assert_string_equal(st.version, want_version);
    assert_true(st.bytes_in > 0 && st.bytes_out > 0);
    pubsub_roundtrip(c, &rec, v == KMQTT_TLS_1_3 ? "tls/pubsub13" : "tls/pubsub12");
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
    it_expect_baseline(&parent, &base, "pubsub", 0);
}

/* QoS 0/1/2 through the TLS listener, host name 127.0.0.1 checked against
 * the certificate's IP SAN (the backend's highest version). */
static void test_pubsub(void **state)
{
    (void)state;
    pubsub_with(KMQTT_TLS_1_2, capped_at_12() ? "TLSv1.2" : "TLSv1.3");
}

static void test_pubsub_tls13_only(void **state)
{
    (void)state;
    pubsub_with(KMQTT_TLS_1_3, "TLSv1.3");
}

/* Mutual TLS: our client certificate on a listener that requires one; and a
 * DNS host name (localhost via server_name: SNI and the DNS SAN). */
static void test_mutual_tls(void **state)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tr;
    kmqtt_client_t *c;
    it_rec_t rec;
    it_baseline_t base;
    (void)state;
    it_take_baseline(&parent, &base);
    it_rec_init(&rec);
    tls_defaults(&t);
    t.cert_file = cert_path("client.crt");
    t.key_file = cert_path("client.key");
    t.server_name = "localhost";
    assert_int_equal(make_client(L_MTLS, &t, "tls-mutual", &rec, &tr, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    pubsub_roundtrip(c, &rec, "tls/mutual");
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
    it_expect_baseline(&parent, &base, "mutual tls", 0);
}

/* The text of file name in dir, NUL-terminated, in buf (cap bytes). */
static void read_text(const char *name, char *buf, size_t cap)
{
    FILE *f = fopen(cert_path(name), "r");
    size_t n;
    assert_non_null(f);
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
}

/* What secret_seen looks for in every block freed through secret_mem. */
static const char *secret_needle;
static int secret_hits;

static void secret_seen(void *ctx, const kmqtt_mem_block_t *b)
{
    size_t k = strlen(secret_needle), i;
    (void)ctx;
    for (i = 0; i + k <= b->size; i++) {
        if (memcmp((const char *)b->ptr + i, secret_needle, k) == 0) {
            secret_hits++;
            return;
        }
    }
}

/* Mutual TLS with the key given as PEM text (key_pem): the transport's copy
 * of the key is wiped before it is freed. Every block of the transport
 * comes from a debug-mode context whose on_free hook sees the bytes before
 * the poison; none may hold a piece of the key. */
static void test_key_pem_copy_is_wiped(void **state)
{
    static char cert[4096], key[4096];
    char needle[41];
    const char *body;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_t m;
    kmqtt_mem_stats_t ms;
    kmqtt_tls_options_t t;
    kmqtt_transport_t tcp, tls;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    (void)state;
    read_text("client.crt", cert, sizeof cert);
    read_text("client.key", key, sizeof key);
    body = strchr(key, '\n'); /* the first line of base64 after the BEGIN line */
    assert_non_null(body);
    snprintf(needle, sizeof needle, "%.40s", body + 1);
    assert_int_equal(strlen(needle), 40);
    secret_needle = needle;
    secret_hits = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.debug = true;
    cfg.on_free = secret_seen;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
    tls_defaults(&t);
    t.cert_pem = cert;
    t.key_pem = key;
    t.server_name = "localhost";
    assert_int_equal(kmqtt_port_tcp_create(&m, &tcp), KMQTT_OK);
    assert_int_equal(kmqtt_tls_create(&m, &t, &tcp, &tls), KMQTT_OK);
    it_options(&o, broker, "tls-keypem");
    o.port = port[L_MTLS];
    o.transport = &tls;
    o.mem = &m;
    o.connect_timeout_ms = WAIT_MS;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c); /* destroys the transport: the key copy is freed */
    kmqtt_mem_get_stats(&m, &ms);
    assert_int_equal(ms.blocks, 0);
    assert_true(ms.frees > 0);
    assert_int_equal(secret_hits, 0);
}

/* Connects (twice on the same client: a device retries) and expects want,
 * a kmqtt_strerror text containing word, and everything back at baseline. */
static void expect_refused(int l, const kmqtt_tls_options_t *t, kmqtt_err_t want, const char *word)
{
    kmqtt_transport_t tr;
    kmqtt_client_t *c;
    it_baseline_t base;
    int i;
    it_take_baseline(&parent, &base);
    assert_int_equal(make_client(l, t, "tls-refused", NULL, &tr, &c), KMQTT_OK);
    for (i = 0; i < 2; i++) {
        kmqtt_err_t err = kmqtt_connect(c, WAIT_MS, NULL);
        if (err != want) {
            fail_msg("listener %d: got %d (%s), want %d (%s)", l, err, kmqtt_strerror(err), want,
                     kmqtt_strerror(want));
        }
        assert_non_null(strstr(kmqtt_strerror(err), word));
    }
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, word, 0);
}

static void test_expired(void **state)
{
    kmqtt_tls_options_t t;
    (void)state;
    tls_defaults(&t);
    expect_refused(L_EXPIRED, &t, KMQTT_ECERT_EXPIRED, "expired");
}

static void test_wrong_host(void **state)
{
    kmqtt_tls_options_t t;
    (void)state;
    tls_defaults(&t);
    expect_refused(L_OTHER, &t, KMQTT_ECERT_HOSTNAME, "host");
    /* A certificate for 127.0.0.1/localhost is still wrong for another name. */
    t.server_name = "wrong.example";
    expect_refused(L_OK, &t, KMQTT_ECERT_HOSTNAME, "host");
}

static void test_self_signed(void **state)
{
    kmqtt_tls_options_t t;
    (void)state;
    tls_defaults(&t);
    expect_refused(L_SELF, &t, KMQTT_ECERT_UNTRUSTED, "trusted");
}

/* require_certificate without our certificate: the server's alert is named. */
static void test_no_client_cert(void **state)
{
    kmqtt_tls_options_t t;
    (void)state;
    tls_defaults(&t);
    expect_refused(L_MTLS, &t, KMQTT_ECERT_REJECTED, "rejected our client certificate");
}

/* skip_host_name_check (mosquitto's --insecure) leaves out the host name
 * only: a certificate of our CA for another host is accepted; one of
 * another CA, a self-signed one or an expired one is still refused. */
static void test_skip_host_name_check(void **state)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tr;
    kmqtt_client_t *c;
    it_baseline_t base;
    (void)state;
    tls_defaults(&t);
    t.skip_host_name_check = true;
    expect_refused(L_FOREIGN, &t, KMQTT_ECERT_UNTRUSTED, "trusted");
    expect_refused(L_SELF, &t, KMQTT_ECERT_UNTRUSTED, "trusted");
    expect_refused(L_EXPIRED, &t, KMQTT_ECERT_EXPIRED, "expired");
    it_take_baseline(&parent, &base);
    assert_int_equal(make_client(L_OTHER, &t, "tls-nohost", NULL, &tr, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    /* With a server name that is not the certificate's either. */
    t.server_name = "wrong.example.org";
    assert_int_equal(make_client(L_OK, &t, "tls-nohost", NULL, &tr, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "skip host name check", 0);
}

/* A certificate with the right names from a CA we do not trust is refused:
 * the names alone prove nothing. */
static void test_foreign_ca(void **state)
{
    kmqtt_tls_options_t t;
    (void)state;
    tls_defaults(&t);
    expect_refused(L_FOREIGN, &t, KMQTT_ECERT_UNTRUSTED, "trusted");
}

/* no_verification_at_all accepts every certificate: self-signed, another
 * CA, another host, expired; with no trust given at all (mbedTLS too). */
static void test_no_verification_at_all(void **state)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tr;
    kmqtt_client_t *c;
    it_baseline_t base;
    int l;
    (void)state;
    it_take_baseline(&parent, &base);
    kmqtt_tls_options_init(&t);
    t.no_verification_at_all = true;
    for (l = L_EXPIRED; l <= L_FOREIGN; l++) {
        assert_int_equal(make_client(l, &t, "tls-noverify", NULL, &tr, &c), KMQTT_OK);
        assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        kmqtt_client_destroy(c);
    }
    it_expect_baseline(&parent, &base, "no verification at all", 0);
}

/* A file that cannot be loaded is reported by create, which gives back
 * everything it took (and leaves the TCP transport to the caller). */
static void test_bad_config(void **state)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tr;
    kmqtt_client_t *c;
    it_baseline_t base;
    (void)state;
    it_take_baseline(&parent, &base);
    tls_defaults(&t);
    t.ca_file = "/nonexistent/ca.crt";
    assert_int_equal(make_client(L_OK, &t, "tls-badconf", NULL, &tr, &c), KMQTT_ETLS_CONFIG);
    tls_defaults(&t);
    t.cert_file = cert_path("client.crt");
    t.key_file = cert_path("ca.crt"); /* not a key */
    assert_int_equal(make_client(L_OK, &t, "tls-badconf", NULL, &tr, &c), KMQTT_ETLS_CONFIG);
    t.key_file = NULL; /* a certificate without a key */
    assert_int_equal(make_client(L_OK, &t, "tls-badconf", NULL, &tr, &c), KMQTT_EINVAL);
    assert_non_null(strstr(kmqtt_strerror(KMQTT_ETLS_CONFIG), "cannot load"));
    it_expect_baseline(&parent, &base, "bad config", 0);
}

/* The second connection offers the first one's session and the broker
 * takes it: no certificate exchange. Without resumption it never is. */
static void resumption_with(kmqtt_tls_version_t v)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tr;
    kmqtt_tls_stats_t st;
    kmqtt_client_t *c;
    it_rec_t rec;
    int i;
    bool on;
    for (on = false;; on = true) {
        it_rec_init(&rec);
        tls_defaults(&t);
        t.min_version = v;
        t.session_resumption = on;
        assert_int_equal(make_client(L_OK, &t, "tls-resume", &rec, &tr, &c), KMQTT_OK);
        for (i = 0; i < 3; i++) {
            assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
            /* One exchange, so a TLS 1.3 ticket (sent after the handshake)
             * has arrived before we disconnect. */
            if (i == 0) {
                pubsub_roundtrip(c, &rec, "tls/resume");
            } else {
                assert_int_equal(kmqtt_publish(c, "tls/resume", "r", 1, 1, false, NULL, NULL),
                                 KMQTT_OK);
                assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
            }
            assert_int_equal(kmqtt_tls_stats(&tr, &st), KMQTT_OK);
            assert_int_equal(st.resumed, on && i > 0);
            assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        }
        kmqtt_client_destroy(c);
        it_rec_destroy(&rec);
        if (on) {
            break;
        }
    }
}

static void test_resumption(void **state)
{
    (void)state;
    resumption_with(KMQTT_TLS_1_2);
}

/* Many connect/disconnect cycles on one client over TLS: the socket, the
 * SSL objects and every byte come back each time (the field client leaked
 * its TLS contexts on every reconnect). */
static void test_cycles(void **state)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tr;
    kmqtt_client_t *c;
    it_baseline_t base;
    size_t heap_warm = 0;
    int i;
    (void)state;
    tls_defaults(&t);
    assert_int_equal(make_client(L_OK, &t, "tls-cycles", NULL, &tr, &c), KMQTT_OK);
    it_take_baseline(&parent, &base);
    for (i = 0; i < CYCLES; i++) {
        assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        it_expect_baseline(&parent, &base, "tls cycle", i);
        if (i == 20) {
            heap_warm = mallinfo2().uordblks;
        }
    }
    /* The libraries' own allocations are outside kmqtt_mem: the process
     * heap (glibc; 0 under ASan, whose leak check covers it) must not grow
     * by a connection's worth of TLS state per cycle. */
    if (heap_warm > 0) {
        size_t now = mallinfo2().uordblks;
        if (now > heap_warm + 16384) {
            fail_msg("heap grew by %zu bytes over %d TLS cycles", now - heap_warm, CYCLES - 21);
        }
    }
    kmqtt_client_destroy(c);
}

/* A server that accepts and never answers: the handshake in open() ends at
 * its timeout (KMQTT_ETIMEDOUT), and at once on wake() from another thread
 * (KMQTT_ECANCELED); neither leaves a descriptor or a byte behind. */
static void *wake_later(void *arg)
{
    kmqtt_transport_t *tr = arg;
    sleep_ms(300);
    tr->wake(tr->ctx);
    return NULL;
}

static void test_handshake_timeout_and_wake(void **state)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tcp, tls;
    it_baseline_t base;
    silent_t *s = silent_start();
    pthread_t th;
    uint64_t t0;
    (void)state;
    assert_non_null(s);
    it_take_baseline(&parent, &base);
    tls_defaults(&t);
    assert_int_equal(kmqtt_port_tcp_create(&parent, &tcp), KMQTT_OK);
    assert_int_equal(kmqtt_tls_create(&parent, &t, &tcp, &tls), KMQTT_OK);
    t0 = now_ms();
    assert_int_equal(tls.open(tls.ctx, "127.0.0.1", silent_port(s), 300), KMQTT_ETIMEDOUT);
    assert_true(now_ms() - t0 < 5000);
    assert_int_equal(pthread_create(&th, NULL, wake_later, &tls), 0);
    t0 = now_ms();
    assert_int_equal(tls.open(tls.ctx, "127.0.0.1", silent_port(s), 30000), KMQTT_ECANCELED);
    assert_true(now_ms() - t0 < 20000);
    pthread_join(th, NULL);
    tls.destroy(tls.ctx);
    silent_stop(s);
    it_expect_baseline(&parent, &base, "handshake timeout and wake", 0);
}

/* ALPN: the ClientHello offers the configured protocols (what cloud brokers
 * on port 443 route by). mosquitto 2.0.11 has no ALPN setting, so the
 * server here is openssl s_server, which prints what the client offered. */
static void test_alpn_offered(void **state)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tcp, tls;
    it_baseline_t base;
    char accept[32];
    uint16_t p = unused_port();
    proc_t *srv;
    char *argv[18];
    int n = 0;
    (void)state;
    snprintf(accept, sizeof accept, "127.0.0.1:%u", (unsigned)p);
    argv[n++] = "openssl";
    argv[n++] = "s_server";
    argv[n++] = "-accept";
    argv[n++] = accept;
    argv[n++] = "-cert";
    argv[n++] = (char *)cert_path("server.crt");
    argv[n++] = "-key";
    argv[n++] = (char *)cert_path("server.key");
    argv[n++] = "-alpn";
    argv[n++] = "mqtt";
    argv[n++] = "-www"; /* serves without reading its stdin (/dev/null) */
    argv[n++] = "-naccept";
    argv[n++] = "1";
    argv[n] = NULL;
    srv = proc_spawn(argv);
    assert_non_null(srv);
    assert_true(proc_wait_output(srv, "ACCEPT", 10000));
    it_take_baseline(&parent, &base);
    tls_defaults(&t);
    t.alpn = "mqtt,x-other";
    assert_int_equal(kmqtt_port_tcp_create(&parent, &tcp), KMQTT_OK);
    assert_int_equal(kmqtt_tls_create(&parent, &t, &tcp, &tls), KMQTT_OK);
    if (tls.open(tls.ctx, "127.0.0.1", p, WAIT_MS) != KMQTT_OK) {
        fail_msg("s_server said: %s", proc_output(srv));
    }
    tls.destroy(tls.ctx);
    /* s_server's stdout is a file (fully buffered): it shows once the one
     * connection it serves (-naccept 1) has ended and it exits. */
    if (!proc_wait_output(srv, "ALPN protocols advertised by the client: mqtt, x-other", 10000)) {
        fail_msg("s_server said: %s", proc_output(srv));
    }
    it_expect_baseline(&parent, &base, "alpn", 0);
    proc_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pubsub),
        cmocka_unit_test(test_pubsub_tls13_only),
        cmocka_unit_test(test_mutual_tls),
        cmocka_unit_test(test_key_pem_copy_is_wiped),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_wrong_host),
        cmocka_unit_test(test_self_signed),
        cmocka_unit_test(test_no_client_cert),
        cmocka_unit_test(test_skip_host_name_check),
        cmocka_unit_test(test_foreign_ca),
        cmocka_unit_test(test_no_verification_at_all),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_resumption),
        cmocka_unit_test(test_cycles),
        cmocka_unit_test(test_handshake_timeout_and_wake),
        cmocka_unit_test(test_alpn_offered),
    };
    printf("TLS backend: %s\n", kmqtt_tls_backend());
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
