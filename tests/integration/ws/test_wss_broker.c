/*
 * Secure WebSockets (wss://): the WebSocket transport over the TLS transport
 * over TCP, against a mosquitto websockets listener with a certificate made
 * at test time by the openssl CLI (a test CA and a server certificate for
 * IP 127.0.0.1). Publish/subscribe at every QoS, connect/disconnect cycles
 * back at the heap and descriptor baseline, and a server certificate from an
 * untrusted CA refused with nothing leaked.
 *
 * Built only when the TLS transport (target kmqtt_tls) exists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "it_client.h"
#include "kmqtt/transport.h"
#include "ws_env.h"
#include "it_group.h"

#define WAIT_MS 10000u
#define CYCLES  20

static broker_t *broker;
static uint16_t wss_port;
static kmqtt_mem_t parent;
static char dir[64];
static char ca[128], other_ca[128];

static int run(char *const argv[])
{
    char out[2048];
    int st = run_capture(argv, 30000, out, sizeof(out));
    if (st != 0)
        fprintf(stderr, "%s failed (%d): %s\n", argv[0], st, out);
    return st;
}

static void path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* A self-signed CA named cn: <prefix>.key, <prefix>.crt. */
static int make_ca(const char *prefix, const char *cn)
{
    char key[128], crt[128], subj[64];
    snprintf(key, sizeof(key), "%s/%s.key", dir, prefix);
    snprintf(crt, sizeof(crt), "%s/%s.crt", dir, prefix);
    snprintf(subj, sizeof(subj), "/CN=%s", cn);
    {
        char *argv[] = {"openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:prime256v1",
                        "-nodes",
                        "-keyout",
                        key,
                        "-out",
                        crt,
                        "-days",
                        "2",
                        "-subj",
                        subj,
                        NULL};
        return run(argv);
    }
}

/* The server certificate for 127.0.0.1, signed by the CA "ca". */
static int make_server_cert(void)
{
    char key[128], csr[128], crt[128], cakey[128], ext[128], serial[128];
    FILE *f;

    path(key, sizeof(key), "server.key");
    path(csr, sizeof(csr), "server.csr");
    path(crt, sizeof(crt), "server.crt");
    path(cakey, sizeof(cakey), "ca.key");
    path(ext, sizeof(ext), "server.ext");
    path(serial, sizeof(serial), "ca.srl");
    f = fopen(ext, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    fclose(f);
    {
        char *argv[] = {"openssl",
                        "req",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:prime256v1",
                        "-nodes",
                        "-keyout",
                        key,
                        "-out",
                        csr,
                        "-subj",
                        "/CN=127.0.0.1",
                        NULL};
        if (run(argv) != 0)
            return -1;
    }
    {
        char *argv[] = {"openssl",   "x509",     "-req",   "-in", csr,
                        "-CA",       ca,         "-CAkey", cakey, "-CAcreateserial",
                        "-CAserial", serial,     "-out",   crt,   "-days",
                        "2",         "-extfile", ext,      NULL};
        return run(argv);
    }
}

static int group_setup(void **state)
{
    broker_opts_t o;
    static char conf[1024];
    char crt[128], key[128];
    (void)state;

    if (it_group_init(&parent) != 0)
        return -1;
    snprintf(dir, sizeof(dir), "/tmp/kmqtt-wss-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    path(ca, sizeof(ca), "ca.crt");
    path(other_ca, sizeof(other_ca), "other.crt");
    path(crt, sizeof(crt), "server.crt");
    path(key, sizeof(key), "server.key");
    if (make_ca("ca", "kmqtt test CA") != 0 || make_ca("other", "kmqtt other CA") != 0 ||
        make_server_cert() != 0)
        return -1;
    wss_port = unused_port();
    snprintf(conf, sizeof(conf),
             "listener %u 127.0.0.1\nprotocol websockets\ncafile %s\ncertfile %s\nkeyfile %s\n",
             wss_port, ca, crt, key);
    memset(&o, 0, sizeof(o));
    o.extra_conf = conf;
    broker = broker_start(&o);
    return broker != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    const char *names[] = {"ca.key",     "ca.crt",     "ca.srl",     "other.key", "other.crt",
                           "server.key", "server.csr", "server.crt", "server.ext"};
    size_t i;
    (void)state;
    broker_stop(broker);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char p[128];
        path(p, sizeof(p), names[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

/* ws over TLS over TCP; every layer's memory from parent. */
static kmqtt_client_t *wss_client(const char *id, const char *cafile, it_rec_t *rec)
{
    kmqtt_tls_options_t to;
    kmqtt_transport_t tcp, tls, ws;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;

    assert_int_equal(kmqtt_port_tcp_create(&parent, &tcp), KMQTT_OK);
    kmqtt_tls_options_init(&to);
    to.ca_file = cafile;
    if (kmqtt_tls_create(&parent, &to, &tcp, &tls) != KMQTT_OK) {
        tcp.destroy(tcp.ctx);
        fail_msg("tls create");
    }
    assert_int_equal(it_ws_wrap(&parent, &tls, 0, 0, &ws), KMQTT_OK);
    it_options(&o, broker, id);
    o.port = wss_port;
    o.mem = &parent;
    o.mem_debug = true;
    o.transport = &ws;
    o.on_message = rec != NULL ? it_rec_handler : NULL;
    o.ctx = rec;
    if (kmqtt_client_create(&o, &c) != KMQTT_OK) {
        ws.destroy(ws.ctx);
        fail_msg("client create");
    }
    return c;
}

static void test_wss_pubsub_every_qos(void **state)
{
    kmqtt_publish_result_t pr;
    static it_rec_t rec;
    kmqtt_client_t *c;
    kmqtt_sub_request_t sub;
    int q;
    (void)state;

    it_rec_init(&rec);
    c = wss_client("it-wss-pubsub", ca, &rec);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    memset(&sub, 0, sizeof(sub));
    sub.filter = "it/wss/#";
    sub.qos = 2;
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    for (q = 0; q <= 2; q++) {
        char payload[32];
        uint16_t id = 0;
        snprintf(payload, sizeof(payload), "wss-qos%d", q);
        /* out over wss, back over wss */
        assert_int_equal(
            kmqtt_publish(c, "it/wss/self", payload, strlen(payload), (uint8_t)q, false, NULL, &pr),
            KMQTT_OK);
        id = pr.packet_id;
        if (q > 0)
            assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
        assert_true(it_wait_msgs(c, &rec, q + 1, WAIT_MS));
        assert_int_equal(rec.msgs[q].qos, q);
        assert_memory_equal(rec.msgs[q].payload, payload, strlen(payload));
    }
    /* and from a plain TCP publisher */
    assert_int_equal(broker_pub(broker, "it/wss/in", "from-tcp", 1, false), 0);
    assert_true(it_wait_msgs(c, &rec, 4, WAIT_MS));
    assert_memory_equal(rec.msgs[3].payload, "from-tcp", 8);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
}

static void test_wss_cycles_return_to_baseline(void **state)
{
    kmqtt_publish_result_t pr;
    it_baseline_t base;
    int i;
    (void)state;

    it_take_baseline(&parent, &base);
    for (i = 1; i <= CYCLES; i++) {
        kmqtt_client_t *c = wss_client("it-wss-cycle", ca, NULL);
        uint16_t id = 0;
        kmqtt_err_t e = kmqtt_connect(c, 0, NULL);
        if (e != KMQTT_OK)
            fail_msg("cycle %d: connect: %s", i, kmqtt_strerror(e));
        assert_int_equal(kmqtt_publish(c, "it/wss/cycle", "c", 1, 1, false, NULL, &pr), KMQTT_OK);
        id = pr.packet_id;
        assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        kmqtt_client_destroy(c);
        it_expect_baseline(&parent, &base, "wss cycle", i);
    }
}

static void test_wss_untrusted_server_refused(void **state)
{
    it_baseline_t base;
    kmqtt_client_t *c;
    int i;
    (void)state;

    it_take_baseline(&parent, &base);
    for (i = 1; i <= 3; i++) {
        c = wss_client("it-wss-untrusted", other_ca, NULL);
        /* the TLS layer refuses before any WebSocket byte is sent */
        assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_ECERT_UNTRUSTED);
        kmqtt_client_destroy(c);
        it_expect_baseline(&parent, &base, "wss untrusted", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wss_pubsub_every_qos),
        cmocka_unit_test(test_wss_cycles_return_to_baseline),
        cmocka_unit_test(test_wss_untrusted_server_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
