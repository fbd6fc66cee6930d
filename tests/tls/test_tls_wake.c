/*
 * TLS for a device's wake cycle, against a real mosquitto (TLS listener,
 * certificates made at test time by make_certs.sh): the session kept in a
 * caller-given buffer (kmqtt_tls_options_t.session) resumes after the
 * transport is destroyed (deep sleep: only that buffer survives) and after
 * the buffer went through a file (a process restart on Linux); a buffer that
 * holds garbage, half a session, or a session the broker no longer knows
 * (broker restarted: new ticket keys, empty cache) gives a full handshake
 * and no error, and the new session replaces it; a session too big for the
 * buffer is not kept (and said so). Built per backend, and for OpenSSL also
 * capped at TLS 1.2 (tls.openssl12.wake), so both TLS 1.3 tickets and
 * TLS 1.2 resumption are covered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"
#include "kmqtt/store.h"
#include "kmqtt/transport.h"

#define WAIT_MS 10000u

static char dir[256];
static char ca_path[320];
static uint16_t tls_port;
static broker_t *broker;
static kmqtt_mem_t parent;

static int group_setup(void **state)
{
    char cmd[512], conf[1024];
    broker_opts_t bo;
    int attempt;
    (void)state;
    if (it_group_init(&parent) != 0) {
        return -1;
    }
    snprintf(dir, sizeof(dir), "/tmp/kmqtt-tlswake-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "sh %s/make_certs.sh %s", KMQTT_TLS_TEST_DIR, dir);
    if (system(cmd) != 0) {
        return -1;
    }
    snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", dir);
    for (attempt = 0; attempt < 3 && broker == NULL; attempt++) {
        tls_port = unused_port();
        snprintf(conf, sizeof(conf),
                 "listener %u 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/server.crt\n"
                 "keyfile %s/server.key\n",
                 (unsigned)tls_port, dir, dir, dir);
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

/* One wake cycle of a fresh transport and client (nothing survives from the
 * cycle before but *s): connect, one QoS 1 publish and its PUBACK (the TLS
 * 1.3 ticket, sent after the handshake, has been read by then), disconnect,
 * destroy. The handshake's statistics go to *st. server_name NULL = the
 * host (127.0.0.1, no SNI). */
static void wake_cycle(kmqtt_tls_session_t *s, bool resumption, const char *server_name,
                       kmqtt_tls_stats_t *st)
{
    kmqtt_tls_options_t t;
    kmqtt_transport_t tcp, tls;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    it_baseline_t base;
    it_take_baseline(&parent, &base);
    kmqtt_tls_options_init(&t);
    t.ca_file = ca_path;
    t.server_name = server_name;
    t.session_resumption = resumption;
    t.session = s;
    assert_int_equal(kmqtt_port_tcp_create(&parent, &tcp), KMQTT_OK);
    assert_int_equal(kmqtt_tls_create(&parent, &t, &tcp, &tls), KMQTT_OK);
    it_options(&o, broker, "tls-wake");
    o.port = tls_port;
    o.transport = &tls;
    o.mem = &parent;
    o.connect_timeout_ms = WAIT_MS;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, "tls/wake", "w", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
    assert_int_equal(kmqtt_tls_stats(&tls, st), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "tls wake cycle", 0);
}

/* Deep sleep: the transport is destroyed after each cycle and only the
 * caller's buffer remains; the second wake resumes from it and moves fewer
 * handshake bytes (no certificate). */
static void test_session_in_caller_buffer_resumes_after_destroy(void **state)
{
    static uint8_t buf[4096];
    kmqtt_tls_session_t s = {buf, sizeof buf, 0};
    kmqtt_tls_stats_t full, resumed;
    (void)state;
    wake_cycle(&s, true, NULL, &full);
    assert_false(full.resumed);
    assert_false(full.session_too_big);
    assert_true(s.len > 0 && s.len <= s.cap);
    wake_cycle(&s, true, NULL, &resumed);
    assert_true(resumed.resumed);
    assert_string_equal(resumed.version, full.version);
    print_message("%s: full handshake %llu B in / %llu B out, resumed %llu / %llu; session %zu B\n",
                  full.version, (unsigned long long)full.bytes_in,
                  (unsigned long long)full.bytes_out, (unsigned long long)resumed.bytes_in,
                  (unsigned long long)resumed.bytes_out, s.len);
    assert_true(resumed.bytes_in < full.bytes_in);
}

/* A process restart on Linux: the buffer goes to a file and comes back into
 * other memory; the next process's first handshake resumes. */
static void test_session_through_a_file_resumes(void **state)
{
    static uint8_t first[4096], second[4096];
    kmqtt_tls_session_t s = {first, sizeof first, 0}, r = {second, sizeof second, 0};
    kmqtt_tls_stats_t st;
    char path[320];
    FILE *f;
    (void)state;
    wake_cycle(&s, true, NULL, &st);
    assert_true(s.len > 0);
    snprintf(path, sizeof(path), "%s/session.bin", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s.buf, 1, s.len, f), s.len);
    assert_int_equal(fclose(f), 0);
    memset(first, 0, sizeof first);
    f = fopen(path, "rb");
    assert_non_null(f);
    r.len = fread(r.buf, 1, r.cap, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(r.len, s.len);
    wake_cycle(&r, true, NULL, &st);
    assert_true(st.resumed);
}

/* One wake cycle whose TLS session lives only in the file store in
 * store_dir (kmqtt_tls_options_t.session_store, no caller buffer): a new
 * store object, transport and client, as a new process makes them. No
 * cmocka assertion here (a forked child runs it): returns the first step
 * that failed, 0 when the cycle completed. */
static int wake_cycle_store(const char *store_dir, kmqtt_tls_stats_t *st)
{
    kmqtt_store_t store;
    kmqtt_tls_options_t t;
    kmqtt_transport_t tcp, tls;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    int step = 0;
    if (kmqtt_store_file_create(&parent, store_dir, NULL, NULL, &store) != KMQTT_OK)
        return 1;
    kmqtt_tls_options_init(&t);
    t.ca_file = ca_path;
    t.session_store = &store;
    if (kmqtt_port_tcp_create(&parent, &tcp) != KMQTT_OK) {
        store.destroy(store.ctx);
        return 2;
    }
    if (kmqtt_tls_create(&parent, &t, &tcp, &tls) != KMQTT_OK) {
        tcp.destroy(tcp.ctx);
        store.destroy(store.ctx);
        return 3;
    }
    it_options(&o, broker, "tls-wake-store");
    o.port = tls_port;
    o.transport = &tls;
    o.mem = &parent;
    o.connect_timeout_ms = WAIT_MS;
    if (kmqtt_client_create(&o, &c) != KMQTT_OK) {
        tls.destroy(tls.ctx);
        store.destroy(store.ctx);
        return 4;
    }
    if (kmqtt_connect(c, WAIT_MS, NULL) != KMQTT_OK)
        step = 5;
    else if (kmqtt_publish(c, "tls/wake", "w", 1, 1, false, NULL, NULL) != KMQTT_OK)
        step = 6;
    else if (kmqtt_publish_wait_all(c, WAIT_MS) != KMQTT_OK)
        step = 7;
    else if (kmqtt_tls_stats(&tls, st) != KMQTT_OK)
        step = 8;
    else if (kmqtt_disconnect(c, NULL) != KMQTT_OK)
        step = 9;
    kmqtt_client_destroy(c);
    store.destroy(store.ctx);
    return step;
}

/* A process restart on Linux with the session in the store (issue #18):
 * a child process makes the session (full handshake) and exits; this
 * process, with nothing but the same store directory, resumes. */
static void test_session_in_the_store_resumes_in_a_new_process(void **state)
{
    char store_dir[320];
    kmqtt_tls_stats_t st;
    kmqtt_store_t store;
    uint8_t buf[KMQTT_TLS_STORE_SESSION_MAX];
    size_t len = 0;
    int status = -1;
    pid_t pid;
    (void)state;
    snprintf(store_dir, sizeof(store_dir), "%s/store", dir);
    assert_int_equal(mkdir(store_dir, 0700), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        kmqtt_tls_stats_t first;
        int step = wake_cycle_store(store_dir, &first);
        _exit(step != 0 ? 10 + step : first.resumed || first.store_errors != 0 ? 2 : 0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0); /* a full handshake, stored */
    assert_int_equal(kmqtt_store_file_create(&parent, store_dir, NULL, NULL, &store), KMQTT_OK);
    assert_int_equal(store.get(store.ctx, KMQTT_TLS_STORE_KEY, buf, sizeof buf, &len), KMQTT_OK);
    assert_true(len > 0);
    store.destroy(store.ctx);
    assert_int_equal(wake_cycle_store(store_dir, &st), 0);
    assert_true(st.resumed);
    assert_int_equal(st.store_errors, 0);
    /* And again (the new session the server sent was stored). */
    assert_int_equal(wake_cycle_store(store_dir, &st), 0);
    assert_true(st.resumed);
}

/* Garbage, and a real session cut in half: neither is offered; the
 * handshake is a full one, the connection works, and the server's new
 * session replaces the bad bytes (the next wake resumes). */
static void test_bad_session_gives_full_handshake(void **state)
{
    static uint8_t buf[4096];
    kmqtt_tls_session_t s = {buf, sizeof buf, 0};
    kmqtt_tls_stats_t st;
    size_t i;
    (void)state;
    for (i = 0; i < 600; i++) {
        buf[i] = (uint8_t)(i * 37u + 11u);
    }
    s.len = 600;
    wake_cycle(&s, true, NULL, &st);
    assert_false(st.resumed);
    assert_true(s.len > 0);
    wake_cycle(&s, true, NULL, &st);
    assert_true(st.resumed);
    s.len /= 2; /* half of a good one */
    wake_cycle(&s, true, NULL, &st);
    assert_false(st.resumed);
    wake_cycle(&s, true, NULL, &st);
    assert_true(st.resumed);
}

/* A stale session: the broker restarted (new ticket keys, empty session
 * cache) and does not take it. Full handshake, no error; the next wake
 * resumes the new session. */
static void test_stale_session_gives_full_handshake(void **state)
{
    static uint8_t buf[4096];
    kmqtt_tls_session_t s = {buf, sizeof buf, 0};
    kmqtt_tls_stats_t st;
    uint8_t before[4096];
    size_t before_len;
    (void)state;
    wake_cycle(&s, true, NULL, &st);
    assert_true(s.len > 0);
    before_len = s.len;
    memcpy(before, buf, s.len);
    assert_int_equal(broker_restart(broker), 0);
    wake_cycle(&s, true, NULL, &st);
    assert_false(st.resumed);
    assert_false(s.len == before_len && memcmp(before, buf, before_len) == 0);
    wake_cycle(&s, true, NULL, &st);
    assert_true(st.resumed);
}

/* A buffer too small for the session: nothing half-written, len 0, and the
 * statistics say why; the connection itself is not affected. */
static void test_session_too_big_is_not_kept(void **state)
{
    static uint8_t buf[32];
    kmqtt_tls_session_t s = {buf, sizeof buf, 0};
    kmqtt_tls_stats_t st;
    (void)state;
    wake_cycle(&s, true, NULL, &st);
    assert_int_equal(s.len, 0);
    assert_true(st.session_too_big);
}

/* With resumption off the buffer is neither read nor written. */
static void test_session_unused_without_resumption(void **state)
{
    static uint8_t buf[4096];
    kmqtt_tls_session_t s = {buf, sizeof buf, 0};
    kmqtt_tls_stats_t st;
    (void)state;
    wake_cycle(&s, false, NULL, &st);
    assert_int_equal(s.len, 0);
    wake_cycle(&s, false, NULL, &st);
    assert_false(st.resumed);
    assert_int_equal(s.len, 0);
}

/* A session buffer without memory, or claiming more than it holds, is a
 * caller's mistake: KMQTT_EINVAL at create, nothing allocated. */
static void test_bad_session_buffer_is_refused(void **state)
{
    static uint8_t buf[16];
    kmqtt_tls_session_t none = {NULL, 100, 0}, over = {buf, sizeof buf, sizeof buf + 1};
    kmqtt_tls_options_t t;
    kmqtt_transport_t tcp, tls;
    it_baseline_t base;
    (void)state;
    it_take_baseline(&parent, &base);
    kmqtt_tls_options_init(&t);
    t.ca_file = ca_path;
    assert_int_equal(kmqtt_port_tcp_create(&parent, &tcp), KMQTT_OK);
    t.session = &none;
    assert_int_equal(kmqtt_tls_create(&parent, &t, &tcp, &tls), KMQTT_EINVAL);
    t.session = &over;
    assert_int_equal(kmqtt_tls_create(&parent, &t, &tcp, &tls), KMQTT_EINVAL);
    tcp.destroy(tcp.ctx); /* still ours: create failed */
    it_expect_baseline(&parent, &base, "bad session buffer", 0);
}

#ifdef KMQTT_TEST_TLS_OPENSSL
/* OpenSSL records the server name a session was made for: a session made
 * with SNI "localhost" is not offered to a connection without it (nor the
 * reverse), so a device that changes brokers never offers one server's
 * session to another. */
static void test_session_of_another_server_name_is_not_offered(void **state)
{
    static uint8_t buf[4096];
    kmqtt_tls_session_t s = {buf, sizeof buf, 0};
    kmqtt_tls_stats_t st;
    (void)state;
    wake_cycle(&s, true, "localhost", &st);
    assert_true(s.len > 0);
    wake_cycle(&s, true, NULL, &st);
    assert_false(st.resumed);
    wake_cycle(&s, true, NULL, &st);
    assert_true(st.resumed);
    wake_cycle(&s, true, "localhost", &st);
    assert_false(st.resumed);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_in_caller_buffer_resumes_after_destroy),
        cmocka_unit_test(test_session_in_the_store_resumes_in_a_new_process),
        cmocka_unit_test(test_session_through_a_file_resumes),
        cmocka_unit_test(test_bad_session_gives_full_handshake),
        cmocka_unit_test(test_stale_session_gives_full_handshake),
        cmocka_unit_test(test_session_too_big_is_not_kept),
        cmocka_unit_test(test_session_unused_without_resumption),
        cmocka_unit_test(test_bad_session_buffer_is_refused),
#ifdef KMQTT_TEST_TLS_OPENSSL
        cmocka_unit_test(test_session_of_another_server_name_is_not_offered),
#endif
    };
    printf("TLS backend: %s\n", kmqtt_tls_backend());
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
