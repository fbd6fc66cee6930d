/*
 * The nano client over TLS (kmqtt_tls_create over the port's TCP), built
 * once per TLS backend, against a mosquitto TLS listener with certificates
 * make_certs.sh makes at test time: QoS 1 both ways with the server's
 * certificate verified, an untrusted server refused by the handshake inside
 * kmqtt_nano_connect, and the TLS transport's memory and socket back at their
 * baseline after each.
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
#include "nano_it.h"
#include "it_group.h"

enum { L_OK, L_SELF, L_COUNT };
static const char *const cert_of[L_COUNT] = {"server", "self"};

static char dir[256];
static char ca_path[300];
static uint16_t port[L_COUNT];
static broker_t *broker;
static kmqtt_mem_t parent;
static nit_t nit;

static int group_setup(void **state)
{
    char cmd[512];
    char conf[1024];
    size_t n;
    broker_opts_t bo;
    int i, attempt;
    (void)state;
    if (it_group_init(&parent) != 0) {
        return -1;
    }
    snprintf(dir, sizeof(dir), "/tmp/kmqtt-tlsnano-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "sh %s/make_certs.sh %s", KMQTT_TLS_TEST_DIR, dir);
    if (system(cmd) != 0) {
        return -1;
    }
    snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", dir);
    /* A port from unused_port() may be taken before mosquitto binds it. */
    for (attempt = 0; attempt < 3 && broker == NULL; attempt++) {
        n = 0;
        for (i = 0; i < L_COUNT; i++) {
            port[i] = unused_port();
            n += (size_t)snprintf(conf + n, sizeof(conf) - n,
                                  "listener %u 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/%s.crt\n"
                                  "keyfile %s/%s.key\n",
                                  (unsigned)port[i], dir, dir, cert_of[i], dir, cert_of[i]);
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

/* A nano over TLS to listener l: nit's transport becomes TLS over its TCP
 * (the TLS transport owns the TCP one: its destroy destroys both). */
static void tls_nano(int l, const char *id)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tcp;
    nit_setup(&nit, &parent, port[l], id);
    tcp = nit.tr;
    kmqtt_tls_options_init(&t);
    t.ca_file = ca_path;
    assert_int_equal(kmqtt_tls_create(&parent, &t, &tcp, &nit.tr), KMQTT_OK);
}

/* QoS 1 out and in through a verified TLS connection; then the client and
 * both transports are gone and so is everything they took. */
static void test_nano_over_tls_pubsub(void **state)
{
    it_baseline_t base;
    (void)state;

    it_take_baseline(&parent, &base);
    tls_nano(L_OK, "nit-tls");
    nit_init(&nit);
    nit_connect(&nit);
    assert_int_equal(nit_subscribe(&nit, "nit/tls/#", 1), 1);
    assert_int_equal(nit_publish(&nit, "nit/tls/a", "secret reading", 1, false, NULL), KMQTT_OK);
    assert_true(nit_pump_until(&nit, &nit.published, 1, 10000));
    assert_true(nit_pump_until(&nit, &nit.nmsgs, 1, 10000));
    assert_true(nit_msg_is(&nit, 0, "nit/tls/a", "secret reading"));
    assert_int_equal(nit.msgs[0].qos, 1);
    assert_int_equal(kmqtt_nano_disconnect(&nit.c, 0, 2000), KMQTT_OK);
    nit_teardown(&nit);
    it_expect_baseline(&parent, &base, "nano over TLS", 1);
}

/* A self-signed server certificate: the handshake fails inside open(), so
 * kmqtt_nano_connect returns the TLS error, stays IDLE, keeps no socket. */
static void test_nano_over_tls_untrusted_server_refused(void **state)
{
    it_baseline_t base, open_base;
    kmqtt_err_t e;
    (void)state;

    it_take_baseline(&parent, &base);
    tls_nano(L_SELF, "nit-tls-self");
    nit.cfg.reconnect_min_ms = 0;
    nit_init(&nit);
    it_take_baseline(&parent, &open_base);
    e = kmqtt_nano_connect(&nit.c, nit_now());
    assert_int_equal(e, KMQTT_ECERT_UNTRUSTED);
    assert_int_equal(kmqtt_nano_state(&nit.c), KMQTT_NANO_IDLE);
    assert_int_equal(nit.connected, 0);
    it_expect_baseline(&parent, &open_base, "untrusted TLS server", 1);
    nit_teardown(&nit);
    it_expect_baseline(&parent, &base, "untrusted TLS server destroyed", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nano_over_tls_pubsub),
        cmocka_unit_test(test_nano_over_tls_untrusted_server_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
