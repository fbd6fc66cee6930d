/*
 * The client's security limits against a real broker: an incoming PUBLISH
 * with a topic longer than max_topic_len, or a packet larger than
 * rx_buffer_size, ends the connection with its own error; our own requests
 * beyond max_topic_len, max_inflight and max_subscriptions are refused with
 * a clear error while the connection stays up; and the username and
 * password are wiped before the client's memory is given back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"

#define WAIT_MS 10000u

static broker_t *broker;
static kmqtt_mem_t parent;

static int group_setup(void **state)
{
    (void)state;
    broker = it_group_broker(&parent, NULL);
    return broker != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    broker_stop(broker);
    return 0;
}

static kmqtt_client_t *connected(kmqtt_client_options_t *o)
{
    kmqtt_client_t *c = NULL;
    o->mem = o->mem != NULL ? o->mem : &parent;
    assert_int_equal(kmqtt_client_create(o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    return c;
}

static void subscribe(kmqtt_client_t *c, const char *filter)
{
    kmqtt_sub_request_t req;
    memset(&req, 0, sizeof req);
    req.filter = filter;
    req.qos = 1;
    assert_int_equal(kmqtt_subscribe(c, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
}

/* Pumps until the connection is lost; returns the error that lost it. */
static kmqtt_err_t wait_lost(kmqtt_client_t *c, it_states_t *st)
{
    kmqtt_err_t err = KMQTT_OK;
    kmqtt_err_t run = it_pump(c, WAIT_MS, NULL, NULL);
    assert_true(it_states_wait(st, KMQTT_STATE_CONNECTION_LOST, 1000, &err));
    assert_int_equal(run, err);
    return err;
}

/* A topic longer than max_topic_len from the broker: the connection ends
 * with KMQTT_ELIMIT (a bound we configured; the packet is valid MQTT). */
static void test_incoming_topic_too_long(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    it_states_t st;
    it_rec_t rec;
    it_baseline_t base;
    char topic[80];
    (void)state;
    it_take_baseline(&parent, &base);
    it_states_init(&st);
    it_rec_init(&rec);
    it_options(&o, broker, "lim-topic");
    o.max_topic_len = 32;
    o.on_state = it_states_handler;
    o.ctx = &st;
    c = connected(&o);
    subscribe(c, "lim/#");
    /* 32 is allowed: the limit is inclusive. */
    assert_int_equal(broker_pub(broker, "lim/aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ok", 1, false), 0);
    memset(topic, 'b', sizeof topic - 1);
    memcpy(topic, "lim/", 4);
    topic[sizeof topic - 1] = '\0';
    assert_int_equal(broker_pub(broker, topic, "too long", 1, false), 0);
    assert_int_equal(wait_lost(c, &st), KMQTT_ELIMIT);
    assert_non_null(strstr(kmqtt_strerror(KMQTT_ELIMIT), "limit"));
    kmqtt_client_destroy(c);
    it_states_destroy(&st);
    it_rec_destroy(&rec);
    it_expect_baseline(&parent, &base, "incoming topic too long", 0);
}

/* A packet larger than rx_buffer_size: refused from its header, the
 * connection ends with KMQTT_ETOOBIG. */
static void test_incoming_packet_too_big(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    it_states_t st;
    it_baseline_t base;
    char big[2001];
    (void)state;
    it_take_baseline(&parent, &base);
    it_states_init(&st);
    it_options(&o, broker, "lim-size");
    o.rx_buffer_size = 512;
    o.on_state = it_states_handler;
    o.ctx = &st;
    c = connected(&o);
    subscribe(c, "size/#");
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(broker_pub(broker, "size/big", big, 0, false), 0);
    assert_int_equal(wait_lost(c, &st), KMQTT_ETOOBIG);
    kmqtt_client_destroy(c);
    it_states_destroy(&st);
    it_expect_baseline(&parent, &base, "incoming packet too big", 0);
}

/* Our own requests past a bound are refused; the connection stays. */
static void test_outgoing_bounds(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_sub_request_t req[3];
    it_baseline_t base;
    char topic[40];
    int i;
    (void)state;
    it_take_baseline(&parent, &base);
    it_options(&o, broker, "lim-out");
    o.max_topic_len = 16;
    o.max_inflight = 2;
    o.max_subscriptions = 2;
    c = connected(&o);
    memset(topic, 'c', sizeof topic - 1);
    topic[sizeof topic - 1] = '\0';
    assert_int_equal(kmqtt_publish(c, topic, "x", 1, 0, false, NULL, NULL), KMQTT_EINVAL);
    memset(req, 0, sizeof req);
    req[0].filter = topic;
    assert_int_equal(kmqtt_subscribe(c, req, 1, WAIT_MS, NULL, NULL), KMQTT_EINVAL);
    /* max_subscriptions = 2: a third filter is refused. */
    req[0].filter = "a/1";
    req[1].filter = "a/2";
    req[2].filter = "a/3";
    assert_int_equal(kmqtt_subscribe(c, req, 2, WAIT_MS, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(c, &req[2], 1, WAIT_MS, NULL, NULL), KMQTT_ELIMIT);
    /* max_inflight = 2 with the broker stopped answering: the third QoS 1
     * publish finds the window full (publish_block_ms 0). */
    broker_pause(broker);
    for (i = 0; i < 2; i++) {
        assert_int_equal(kmqtt_publish(c, "a/1", "w", 1, 1, false, NULL, NULL), KMQTT_OK);
    }
    assert_int_equal(kmqtt_publish(c, "a/1", "w", 1, 1, false, NULL, NULL), KMQTT_ELIMIT);
    broker_resume(broker);
    assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "outgoing bounds", 0);
}

/* ---- credentials wiped: a backend that looks at every block it frees ---- */

#define SECRET_USER "wipe-me-user"
#define SECRET_PASS "wipe-me-password-9c1f"

typedef struct scan {
    int blocks_with_secret;
    int blocks_freed;
} scan_t;

static bool contains(const unsigned char *p, size_t n, const char *s)
{
    size_t k = strlen(s), i;
    for (i = 0; i + k <= n; i++) {
        if (memcmp(p + i, s, k) == 0) {
            return true;
        }
    }
    return false;
}

static void *scan_alloc(void *ctx, size_t size)
{
    size_t *p = malloc(sizeof(size_t) * 2 + size);
    (void)ctx;
    if (p == NULL) {
        return NULL;
    }
    p[0] = size;
    return p + 2;
}

static void scan_free(void *ctx, void *ptr)
{
    scan_t *s = ctx;
    size_t *p;
    if (ptr == NULL) {
        return;
    }
    p = (size_t *)ptr - 2;
    s->blocks_freed++;
    if (contains(ptr, p[0], SECRET_USER) || contains(ptr, p[0], SECRET_PASS)) {
        s->blocks_with_secret++;
    }
    free(p);
}

static void test_credentials_wiped(void **state)
{
    kmqtt_mem_backend_t be;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_t m;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    scan_t s;
    (void)state;
    memset(&s, 0, sizeof s);
    be.alloc = scan_alloc;
    be.free = scan_free;
    be.ctx = &s;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &be;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
    it_options(&o, broker, "lim-wipe");
    o.username = SECRET_USER;
    o.password = SECRET_PASS;
    o.password_len = strlen(SECRET_PASS);
    o.mem = &m;
    c = connected(&o); /* the CONNECT with both went through the send buffer */
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    assert_true(s.blocks_freed > 0);
    assert_int_equal(s.blocks_with_secret, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incoming_topic_too_long),
        cmocka_unit_test(test_incoming_packet_too_big),
        cmocka_unit_test(test_outgoing_bounds),
        cmocka_unit_test(test_credentials_wiped),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
