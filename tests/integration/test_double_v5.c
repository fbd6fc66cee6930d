/*
 * The strict MQTT 5.0 test broker (support/v5_broker.c) against the
 * engine (include/kmqtt/session.h) over a real loopback socket, and against raw codec bytes where
 * the broker must catch a client that breaks its limits. These show both
 * that the double enforces what it claims (so client tests that pass
 * against it mean something) and that the session keeps the server's
 * Receive Maximum of 2, Maximum Packet Size of 256 and Topic Alias Maximum
 * of 2 on the wire.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codec/codec_internal.h" /* kmqtt_props_block_size, kmqtt_props_write */
#include "kmqtt/session.h"
#include "v5_broker.h"

#define WAIT_MS   10000
#define ALIAS_LEN 32

typedef struct drv {
    kmqtt_session_t s;
    kmqtt_session_config_t cfg;
    uint8_t rx[1024], tx[2048], store[4096], cprops[64], pbuf[256];
    uint16_t inbound[8];
    kmqtt_session_request_t req[4];
    uint8_t alias_in[2 * KMQTT_SESSION_ALIAS_IN_SLOT(ALIAS_LEN)];
    uint8_t alias_out[4 * KMQTT_SESSION_ALIAS_OUT_SLOT(ALIAS_LEN)];
    int fd;
    bool assigned_id;
    /* what the session reported */
    int done, done_fail, messages, auths, disconnects, subacks;
    uint8_t last_auth_rc, last_disc_rc, connack_rc;
    bool connack;
    char last_topic[64];
    char auth_data[32];
    char reason_string[64];
    char reference[64];
} drv_t;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int dial(uint16_t port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void copy_str(char *dst, size_t cap, const kmqtt_props_t *props, kmqtt_prop_id_t id)
{
    kmqtt_prop_t p;
    dst[0] = '\0';
    if (kmqtt_props_find(props, id, &p)) {
        size_t n = p.str.len < cap - 1 ? p.str.len : cap - 1;
        memcpy(dst, p.str.ptr, n);
        dst[n] = '\0';
    }
}

/* The raw form (no length prefix) of a property list, into out. */
static size_t raw_props(const kmqtt_props_t *p, unsigned where, uint8_t *out, size_t cap)
{
    size_t n, pre;
    wr_t w;
    assert_int_equal(kmqtt_props_block_size(p, where, &n), KMQTT_OK);
    assert_true(n + 4 <= cap);
    w.p = out;
    w.end = out + cap;
    w.overflow = false;
    kmqtt_props_write(&w, p, n);
    pre = (size_t)(w.p - out) - n;
    memmove(out, out + pre, n);
    return n;
}

static void record(drv_t *d, const kmqtt_session_event_t *ev)
{
    kmqtt_props_t props = {NULL, 0, ev->props, ev->props_len};
    kmqtt_prop_t p;

    switch (ev->type) {
    case KMQTT_SESSION_EV_CONNACK:
        d->connack = true;
        d->connack_rc = ev->reason_code;
        copy_str(d->reference, sizeof d->reference, &props, KMQTT_PROP_SERVER_REFERENCE);
        d->assigned_id = kmqtt_props_find(&props, KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, &p);
        break;
    case KMQTT_SESSION_EV_PUBLISHED:
        if (ev->err == KMQTT_OK && ev->reason_code < 0x80)
            d->done++;
        else
            d->done_fail++;
        break;
    case KMQTT_SESSION_EV_MESSAGE: {
        size_t len = ev->msg.topic_len;
        size_t n = len < sizeof d->last_topic - 1 ? len : sizeof d->last_topic - 1;
        memcpy(d->last_topic, ev->msg.topic, n);
        d->last_topic[n] = '\0';
        assert_true(len > 0); /* never an alias-only topic */
        d->messages++;
        break;
    }
    case KMQTT_SESSION_EV_AUTH: {
        d->auths++;
        d->last_auth_rc = ev->reason_code;
        d->auth_data[0] = '\0';
        if (kmqtt_props_find(&props, KMQTT_PROP_AUTHENTICATION_DATA, &p) &&
            p.bin.len < sizeof d->auth_data) {
            memcpy(d->auth_data, p.bin.ptr, p.bin.len);
            d->auth_data[p.bin.len] = '\0';
        }
        break;
    }
    case KMQTT_SESSION_EV_DISCONNECT:
        d->disconnects++;
        d->last_disc_rc = ev->reason_code;
        copy_str(d->reason_string, sizeof d->reason_string, &props, KMQTT_PROP_REASON_STRING);
        break;
    case KMQTT_SESSION_EV_SUBACK:
        d->subacks++;
        break;
    default:
        break;
    }
}

/* One turn: write what is queued, read what came (up to wait ms), report
 * events. Returns false once the connection is closed. */
static bool turn(drv_t *d, int wait)
{
    const uint8_t *out;
    size_t n;
    kmqtt_session_event_t ev;
    kmqtt_err_t err;
    uint32_t next;

    while ((n = kmqtt_session_tx_peek(&d->s, &out)) > 0) {
        ssize_t w = send(d->fd, out, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        kmqtt_session_tx_consume(&d->s, (size_t)w, (uint32_t)now_ms());
    }
    struct pollfd pf = {d->fd, POLLIN, 0};
    if (poll(&pf, 1, wait) > 0) {
        size_t space;
        uint8_t *buf = kmqtt_session_rx_space(&d->s, &space);
        ssize_t r = recv(d->fd, buf, space, 0);
        if (r <= 0)
            return false;
        kmqtt_session_rx_commit(&d->s, (size_t)r, (uint32_t)now_ms());
    }
    while ((err = kmqtt_session_next_event(&d->s, (uint32_t)now_ms(), &ev)) == KMQTT_OK)
        record(d, &ev);
    if (err < 0)
        return false;
    assert_int_equal(kmqtt_session_tick(&d->s, (uint32_t)now_ms(), &next), KMQTT_OK);
    /* ENDED: the connection is over (a refusal, a server DISCONNECT) */
    return kmqtt_session_state(&d->s) != KMQTT_SESSION_ENDED;
}

#define RUN_UNTIL(d, cond)                                                                         \
    do {                                                                                           \
        uint64_t until_ = now_ms() + WAIT_MS;                                                      \
        while (!(cond)) {                                                                          \
            assert_true(now_ms() < until_);                                                        \
            assert_true(turn((d), 5));                                                             \
        }                                                                                          \
    } while (0)

static drv_t *drv_new(uint16_t port)
{
    drv_t *d = calloc(1, sizeof *d);
    kmqtt_session_buffers_t b;
    assert_non_null(d);
    kmqtt_session_config_init(&d->cfg);
    d->cfg.version = KMQTT_V5;
    d->cfg.keepalive_s = 30;
    d->cfg.max_inflight = 8;
    d->cfg.client_id = "";
    memset(&b, 0, sizeof b);
    b.rx = d->rx;
    b.rx_size = sizeof d->rx;
    b.tx = d->tx;
    b.tx_size = sizeof d->tx;
    b.store = d->store;
    b.store_size = sizeof d->store;
    b.inbound = d->inbound;
    b.inbound_max = 8;
    b.requests = d->req;
    b.max_requests = 4;
    b.alias_in = d->alias_in;
    b.alias_in_max = 2;
    b.alias_out = d->alias_out;
    b.alias_out_max = 4;
    b.alias_topic_len = ALIAS_LEN;
    assert_int_equal(kmqtt_session_init(&d->s, &d->cfg, &b), KMQTT_OK);
    d->fd = dial(port);
    return d;
}

static void drv_free(drv_t *d)
{
    close(d->fd);
    free(d);
}

/* CONNECT with what the engine advertises (Receive Maximum 8, Topic Alias
 * Maximum 2, Maximum Packet Size 1024: its buffers) plus extra props. */
static void drv_start(drv_t *d, const kmqtt_prop_t *extra, size_t n_extra, const char *id)
{
    kmqtt_props_t props = {extra, n_extra, NULL, 0};
    d->cfg.client_id = id;
    d->cfg.connect_props_len =
        n_extra != 0 ? raw_props(&props, KMQTT_CONNECT, d->cprops, sizeof d->cprops) : 0;
    d->cfg.connect_props = d->cfg.connect_props_len != 0 ? d->cprops : NULL;
    assert_int_equal(kmqtt_session_start(&d->s, (uint32_t)now_ms()), KMQTT_OK);
}

static void subscribe(drv_t *d, const char *filter, uint8_t qos)
{
    kmqtt_session_sub_t f = {filter, qos};
    int before = d->subacks;
    assert_int_equal(kmqtt_session_subscribe(&d->s, &f, 1, NULL, 0, NULL), KMQTT_OK);
    RUN_UNTIL(d, d->subacks > before);
}

static kmqtt_err_t publish(drv_t *d, const char *topic, uint8_t qos, size_t len)
{
    static uint8_t payload[512];
    kmqtt_session_msg_t m;
    memset(payload, 'p', sizeof payload);
    memset(&m, 0, sizeof m);
    m.topic = topic;
    m.topic_len = (uint16_t)strlen(topic);
    m.qos = qos;
    m.payload = payload;
    m.payload_len = len;
    return kmqtt_session_publish(&d->s, &m, NULL);
}

/* ------------------------------------------------------------------ tests */

static void strict_limits_hold_on_the_wire(void **state)
{
    (void)state;
    v5b_opts_t o;
    memset(&o, 0, sizeof o);
    o.receive_max = 2;
    o.max_packet_size = 256;
    o.topic_alias_max = 2;
    o.send_aliases = true;
    v5b_t *b = v5b_start(&o);
    assert_non_null(b);
    drv_t *d = drv_new(v5b_port(b));
    drv_start(d, NULL, 0, "limits");
    RUN_UNTIL(d, d->connack);
    assert_int_equal(d->connack_rc, 0);
    kmqtt_session_caps_t k;
    kmqtt_session_server_caps(&d->s, &k);
    assert_int_equal(k.receive_max, 2);
    assert_int_equal(k.max_packet_size, 256);
    subscribe(d, "t/#", 1);

    /* 12 QoS 1 over 3 topics (2 aliases: the LRU one is re-mapped). */
    const char *topics[] = {"t/a", "t/b", "t/c"};
    int sent = 0, limited = 0;
    uint64_t until = now_ms() + WAIT_MS;
    while (sent < 12) {
        kmqtt_err_t err = publish(d, topics[(sent / 2) % 3], 1, 20);
        if (err == KMQTT_OK) {
            sent++;
            continue;
        }
        assert_int_equal(err, KMQTT_ELIMIT); /* MQTT-3.3.4-7: the window of 2 */
        limited++;
        assert_true(now_ms() < until);
        assert_true(turn(d, 5));
    }
    RUN_UNTIL(d, d->done == 12 && d->messages == 12);
    assert_true(limited > 0);
    /* MQTT-3.2.2-15: refused, never sent */
    assert_int_equal(publish(d, "t/big", 0, 300), KMQTT_ETOOBIG);
    assert_int_equal(publish(d, "t/a", 0, 200), KMQTT_OK);
    RUN_UNTIL(d, d->messages == 13);
    assert_string_equal(d->last_topic, "t/a");

    v5b_stats_t st;
    v5b_get_stats(b, &st);
    assert_int_equal(st.violations, 0);
    assert_true(st.max_inflight <= 2);
    assert_true(st.max_inflight >= 1);
    assert_true(st.max_packet <= 256);
    assert_true(st.aliased > 0); /* repeated topics went as aliases */
    /* and came back as aliases, yet every event had the full topic */
    assert_true(st.aliases_sent > 0);
    assert_int_equal(st.publishes, 13);

    assert_int_equal(kmqtt_session_disconnect(&d->s, 0, NULL, 0), KMQTT_OK);
    (void)turn(d, 0);
    uint64_t t_end = now_ms() + WAIT_MS;
    do {
        v5b_get_stats(b, &st);
    } while (st.last_disconnect_reason == 0xFF && now_ms() < t_end);
    assert_int_equal(st.last_disconnect_reason, 0);
    drv_free(d);
    v5b_stop(b);
}

static void enhanced_auth_and_reauth(void **state)
{
    (void)state;
    v5b_opts_t o;
    memset(&o, 0, sizeof o);
    o.enhanced_auth = true;
    v5b_t *b = v5b_start(&o);
    assert_non_null(b);
    drv_t *d = drv_new(v5b_port(b));
    kmqtt_prop_t m;
    memset(&m, 0, sizeof m);
    m.id = KMQTT_PROP_AUTHENTICATION_METHOD;
    m.str.ptr = V5B_AUTH_METHOD;
    m.str.len = strlen(V5B_AUTH_METHOD);
    kmqtt_prop_t resp[2] = {m, m};
    resp[1].id = KMQTT_PROP_AUTHENTICATION_DATA;
    resp[1].str.ptr = NULL;
    resp[1].str.len = 0;
    resp[1].bin.ptr = (const uint8_t *)"response";
    resp[1].bin.len = 8;
    kmqtt_props_t rp = {resp, 2, NULL, 0};
    uint8_t raw_rp[64], raw_mp[64];
    size_t n_rp = raw_props(&rp, KMQTT_AUTH, raw_rp, sizeof raw_rp);

    drv_start(d, &m, 1, "auth");
    RUN_UNTIL(d, d->auths == 1);
    assert_int_equal(d->last_auth_rc, 0x18);
    assert_string_equal(d->auth_data, "challenge");
    assert_int_equal(kmqtt_session_auth(&d->s, 0x18, raw_rp, n_rp), KMQTT_OK);
    RUN_UNTIL(d, d->connack);
    assert_int_equal(d->connack_rc, 0);

    kmqtt_props_t mp = {&m, 1, NULL, 0};
    size_t n_mp = raw_props(&mp, KMQTT_AUTH, raw_mp, sizeof raw_mp);
    assert_int_equal(kmqtt_session_auth(&d->s, 0x19, raw_mp, n_mp), KMQTT_OK);
    RUN_UNTIL(d, d->auths == 2);
    assert_string_equal(d->auth_data, "challenge");
    assert_int_equal(kmqtt_session_auth(&d->s, 0x18, raw_rp, n_rp), KMQTT_OK);
    RUN_UNTIL(d, d->auths == 3);
    assert_int_equal(d->last_auth_rc, 0x00);
    v5b_stats_t st;
    v5b_get_stats(b, &st);
    assert_int_equal(st.reauths, 1);
    assert_int_equal(st.auth_steps, 3);
    assert_int_equal(st.violations, 0);
    drv_free(d);
    v5b_stop(b);
}

static void server_reference_connack(void **state)
{
    (void)state;
    v5b_opts_t o;
    memset(&o, 0, sizeof o);
    o.server_reference = "127.0.0.1:1";
    v5b_t *b = v5b_start(&o);
    assert_non_null(b);
    drv_t *d = drv_new(v5b_port(b));
    drv_start(d, NULL, 0, "ref");
    uint64_t until = now_ms() + WAIT_MS;
    while (!d->connack && now_ms() < until)
        (void)turn(d, 5);
    assert_true(d->connack);
    assert_int_equal(d->connack_rc, 0x9C);
    assert_string_equal(d->reference, "127.0.0.1:1");
    assert_int_equal(kmqtt_session_state(&d->s), KMQTT_SESSION_ENDED);
    drv_free(d);
    v5b_stop(b);
}

static void server_disconnect_assigned_id_and_keepalive(void **state)
{
    (void)state;
    v5b_opts_t o;
    memset(&o, 0, sizeof o);
    o.assigned_id = "given-7";
    o.server_keepalive = 7;
    v5b_t *b = v5b_start(&o);
    assert_non_null(b);
    drv_t *d = drv_new(v5b_port(b));
    drv_start(d, NULL, 0, "");
    RUN_UNTIL(d, d->connack);
    kmqtt_session_caps_t k;
    kmqtt_session_server_caps(&d->s, &k);
    assert_true(d->assigned_id);
    assert_int_equal(k.keepalive_s, 7); /* MQTT-3.2.2-21 */
    assert_int_equal(v5b_disconnect(b, 0x8B, "going down"), 0);
    uint64_t until = now_ms() + WAIT_MS;
    while (d->disconnects == 0 && now_ms() < until)
        (void)turn(d, 5);
    assert_int_equal(d->last_disc_rc, 0x8B);
    assert_string_equal(d->reason_string, "going down");
    drv_free(d);
    v5b_stop(b);
}

/* Raw codec client that ignores the broker's limits: the double catches it. */
static void double_catches_a_client_over_receive_maximum(void **state)
{
    (void)state;
    v5b_opts_t o;
    memset(&o, 0, sizeof o);
    o.receive_max = 2;
    o.ack_delay_ms = 500;
    v5b_t *b = v5b_start(&o);
    assert_non_null(b);
    int fd = dial(v5b_port(b));
    uint8_t buf[512];
    size_t n, off = 0;
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_CONNECT;
    p.u.connect.clean_start = true;
    p.u.connect.client_id.ptr = "raw";
    p.u.connect.client_id.len = 3;
    assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V5, buf, sizeof buf, &n), KMQTT_OK);
    off = n;
    for (uint16_t id = 1; id <= 3; id++) {
        memset(&p, 0, sizeof p);
        p.type = KMQTT_PUBLISH;
        p.u.publish.topic.ptr = "x";
        p.u.publish.topic.len = 1;
        p.u.publish.qos = 1;
        p.u.publish.packet_id = id;
        assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V5, buf + off, sizeof buf - off, &n),
                         KMQTT_OK);
        off += n;
    }
    assert_int_equal(send(fd, buf, off, MSG_NOSIGNAL), (ssize_t)off);
    /* CONNACK, then DISCONNECT 0x93, then EOF */
    size_t got = 0;
    uint64_t until = now_ms() + WAIT_MS;
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        assert_true(now_ms() < until);
        if (poll(&pf, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, buf + got, sizeof buf - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    size_t at = 0, used;
    kmqtt_packet_t in;
    assert_int_equal(kmqtt_packet_decode(buf, got, KMQTT_V5, 0, &in, &used), KMQTT_OK);
    assert_int_equal(in.type, KMQTT_CONNACK);
    at = used;
    assert_int_equal(kmqtt_packet_decode(buf + at, got - at, KMQTT_V5, 0, &in, &used), KMQTT_OK);
    assert_int_equal(in.type, KMQTT_DISCONNECT);
    assert_int_equal(in.u.disconnect.reason_code, 0x93);
    v5b_stats_t st;
    v5b_get_stats(b, &st);
    assert_int_equal(st.violations, 1);
    assert_int_equal(st.max_inflight, 3);
    close(fd);
    v5b_stop(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strict_limits_hold_on_the_wire),
        cmocka_unit_test(enhanced_auth_and_reauth),
        cmocka_unit_test(server_reference_connack),
        cmocka_unit_test(server_disconnect_assigned_id_and_keepalive),
        cmocka_unit_test(double_catches_a_client_over_receive_maximum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
