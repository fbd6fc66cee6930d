/*
 * A TLS 1.2 server that asks for a renegotiation (HelloRequest) right after
 * CONNACK and then stalls: reads nothing, answers nothing. Built once per
 * backend; the server is OpenSSL in the test (tls_server.c). Issue #14: the
 * OpenSSL client accepted the renegotiation, its next write then needed to
 * read the ServerHello (WANT_READ) but was reported as "would block" for
 * writing, so the loop waited for a writable socket, which was writable at
 * once: ~168,000 kmqtt_run returns and 2.4 s of CPU in 3 s. Now both
 * backends refuse renegotiation (no_renegotiation alert) and wait() waits
 * for what TLS needs. The client publishes a small QoS 0 message every
 * 100 ms while it runs its loop for 1.5 s with 50 ms turns; what is checked
 * is how often the loop came back (about 30 to 60 times when it waits; a
 * spinning loop comes back many thousands of times), never how fast. The
 * threaded client (kmqtt_run) and nano (kmqtt_nano_step) are both driven.
 * The CPU time the loop used is printed for the record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "broker.h"
#include "it_client.h"
#include "kmqtt/transport.h"
#include "nano_it.h"
#include "tls_server.h"

#define RUN_MS     1500u
#define TURN_MS    50u
#define PUBLISH_MS 100u
#define STALL_MS   2500u
/* Waiting properly: RUN_MS / TURN_MS turns plus one per publish, about 60;
 * the bound leaves a factor of 5 for a machine that wakes early. */
#define MAX_RETURNS 300u

static char dir[256];
static char ca[320], cert[320], key[320];
static kmqtt_mem_t parent;

static int group_setup(void **state)
{
    char cmd[512];
    (void)state;
    if (it_parent_init(&parent) != 0)
        return -1;
    /* TSan's helper thread exists before a baseline counts threads. */
    warm_up_threads();
    snprintf(dir, sizeof(dir), "/tmp/kmqtt-tlsreneg-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "sh %s/make_certs.sh %s", KMQTT_TLS_TEST_DIR, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(cert, sizeof(cert), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static tsrv_t *reneg_server(void)
{
    tsrv_opts_t so;
    tsrv_t *s;
    memset(&so, 0, sizeof(so));
    so.mode = TSRV_MQTT_RENEG;
    so.cert_file = cert;
    so.key_file = key;
    so.tls12 = true;
    so.first_stall_ms = STALL_MS;
    s = tsrv_start(&so);
    assert_non_null(s);
    return s;
}

static void tls_over(kmqtt_transport_t *tcp, kmqtt_transport_t *out)
{
    kmqtt_tls_options_t t;
    kmqtt_tls_options_init(&t);
    t.ca_file = ca;
    assert_int_equal(kmqtt_tls_create(&parent, &t, tcp, out), KMQTT_OK);
}

/* CPU time of this thread, in ms. */
static uint64_t cpu_ms(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_THREAD, &ru), 0);
    return (uint64_t)ru.ru_utime.tv_sec * 1000u + (uint64_t)ru.ru_utime.tv_usec / 1000u +
           (uint64_t)ru.ru_stime.tv_sec * 1000u + (uint64_t)ru.ru_stime.tv_usec / 1000u;
}

static void report(const char *who, unsigned returns, uint64_t cpu, unsigned published,
                   kmqtt_err_t ended)
{
    printf("%s (%s): %u loop returns, %llu ms CPU in %u ms, %u published, %s\n", who,
           kmqtt_tls_backend(), returns, (unsigned long long)cpu, RUN_MS, published,
           ended == KMQTT_OK ? "still connected" : kmqtt_strerror(ended));
    if (returns > MAX_RETURNS)
        fail_msg("%s: the loop spun: %u returns in %u ms (at most %u when it waits)", who, returns,
                 RUN_MS, MAX_RETURNS);
}

/* The threaded client, its loop run by the caller (kmqtt_run). */
static void test_client_does_not_spin_on_hello_request(void **state)
{
    static const char payload[64] = "reading";
    kmqtt_transport_t tcp, tls;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    it_baseline_t base;
    tsrv_t *srv;
    char why[300];
    unsigned returns = 0, published = 0;
    uint64_t start, next_pub, cpu0;
    kmqtt_err_t ended = KMQTT_OK;
    (void)state;

    it_take_baseline(&parent, &base);
    srv = reneg_server();
    assert_int_equal(kmqtt_port_tcp_create(&parent, &tcp), KMQTT_OK);
    tls_over(&tcp, &tls);
    it_options(&o, NULL, "reneg-client");
    o.port = tsrv_port(srv);
    o.transport = &tls;
    o.mem = &parent;
    o.connect_timeout_ms = 10000;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 10000, NULL), KMQTT_OK);
    cpu0 = cpu_ms();
    start = now_ms();
    next_pub = start;
    while (now_ms() - start < RUN_MS) {
        kmqtt_err_t e;
        if (now_ms() >= next_pub) {
            if (kmqtt_publish(c, "reneg/t", payload, sizeof(payload), 0, false, NULL, NULL) == KMQTT_OK)
                published++;
            next_pub += PUBLISH_MS;
        }
        e = kmqtt_run(c, TURN_MS);
        returns++;
        if (e != KMQTT_OK) {
            /* Ending the connection with a clear error is a fine answer too. */
            ended = e;
            break;
        }
    }
    report("client", returns, cpu_ms() - cpu0, published, ended);
    (void)kmqtt_disconnect(c, NULL);
    kmqtt_client_destroy(c);
    if (!tsrv_finish(srv, why, sizeof(why)))
        fail_msg("server: %s", why);
    it_expect_baseline(&parent, &base, "renegotiation, client", 0);
}

/* nano, its loop run by kmqtt_nano_step. */
static void test_nano_does_not_spin_on_hello_request(void **state)
{
    static nit_t nit;
    kmqtt_transport_t tcp;
    it_baseline_t base;
    tsrv_t *srv;
    char why[300];
    unsigned returns = 0, published = 0;
    uint64_t start, next_pub, cpu0;
    kmqtt_err_t ended = KMQTT_OK;
    (void)state;

    it_take_baseline(&parent, &base);
    srv = reneg_server();
    nit_setup(&nit, &parent, tsrv_port(srv), "reneg-nano");
    tcp = nit.tr;
    tls_over(&tcp, &nit.tr);
    nit.cfg.reconnect_min_ms = 0; /* a lost connection stays lost: the test sees it */
    nit_init(&nit);
    nit_connect(&nit);
    cpu0 = cpu_ms();
    start = now_ms();
    next_pub = start;
    while (now_ms() - start < RUN_MS) {
        if (now_ms() >= next_pub) {
            if (nit_publish(&nit, "reneg/n", "reading", 0, false, NULL) == KMQTT_OK)
                published++;
            next_pub += PUBLISH_MS;
        }
        assert_int_equal(kmqtt_nano_step(&nit.c, nit_now(), TURN_MS), KMQTT_OK);
        returns++;
        if (kmqtt_nano_state(&nit.c) != KMQTT_NANO_CONNECTED) {
            ended = nit.lost_err;
            break;
        }
    }
    report("nano", returns, cpu_ms() - cpu0, published, ended);
    nit_teardown(&nit);
    if (!tsrv_finish(srv, why, sizeof(why)))
        fail_msg("server: %s", why);
    it_expect_baseline(&parent, &base, "renegotiation, nano", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_does_not_spin_on_hello_request),
        cmocka_unit_test(test_nano_does_not_spin_on_hello_request),
    };
    printf("TLS backend: %s\n", kmqtt_tls_backend());
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
