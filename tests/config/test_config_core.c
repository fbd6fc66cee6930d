/*
 * The whole core (codec, session, client) built with feature switches off
 * (cmake/part_target.cmake builds this file once per configuration, linked
 * with a kmqtt library compiled with the same -DKMQTT_CFG_... flags). What
 * is compiled out answers KMQTT_EUNSUPPORTED (or, for a packet that cannot
 * be the answer to anything we sent, is a protocol error); what stays works
 * as in the default build. Nothing here needs a broker: the session is fed
 * bytes, the client is only created and asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/client.h"
#include "kmqtt/config.h"
#include "kmqtt/session.h"

typedef struct fixture {
    kmqtt_session_t s;
    kmqtt_session_config_t cfg;
    uint8_t rx[256], tx[256], store[512];
    uint16_t inbound[4];
    kmqtt_session_request_t req[2];
} fixture_t;

static void feed(kmqtt_session_t *s, const uint8_t *b, size_t n)
{
    size_t space;
    uint8_t *buf = kmqtt_session_rx_space(s, &space);

    assert_true(space >= n);
    memcpy(buf, b, n);
    kmqtt_session_rx_commit(s, n, 1);
}

/* The first byte of what the session wants to send, then all of it gone. */
static uint8_t sent_type(kmqtt_session_t *s)
{
    const uint8_t *buf;
    size_t n = kmqtt_session_tx_peek(s, &buf);
    uint8_t t = n == 0 ? 0 : (uint8_t)(buf[0] >> 4);

    kmqtt_session_tx_consume(s, n, 1);
    return t;
}

/* The engine over f's buffers for version v; what kmqtt_session_init says. */
static kmqtt_err_t setup(fixture_t *f, kmqtt_version_t v)
{
    kmqtt_session_buffers_t b;

    kmqtt_session_config_init(&f->cfg);
    f->cfg.version = (uint8_t)v;
    f->cfg.keepalive_s = 60;
    f->cfg.max_inflight = 4;
    f->cfg.client_id = "c";
    memset(&b, 0, sizeof b);
    b.rx = f->rx;
    b.rx_size = sizeof f->rx;
    b.tx = f->tx;
    b.tx_size = sizeof f->tx;
    b.store = f->store;
    b.store_size = sizeof f->store;
#if KMQTT_CFG_QOS2
    b.inbound = f->inbound;
    b.inbound_max = 4;
#endif
    b.requests = f->req;
    b.max_requests = 2;
    return kmqtt_session_init(&f->s, &f->cfg, &b);
}

/* A 3.1.1 session, connected (CONNECT sent, CONNACK 0 taken). */
static int connected(void **state)
{
    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
    fixture_t *f = calloc(1, sizeof *f);
    kmqtt_session_event_t ev;

    assert_non_null(f);
    assert_int_equal(setup(f, KMQTT_V311), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&f->s, 1), KMQTT_OK);
    assert_int_equal(sent_type(&f->s), KMQTT_CONNECT);
    feed(&f->s, connack, sizeof connack);
    assert_int_equal(kmqtt_session_next_event(&f->s, 1, &ev), KMQTT_OK);
    assert_int_equal(ev.type, KMQTT_SESSION_EV_CONNACK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    free(f);
    return 0;
}

/* 3.1.1 QoS 1 is in every build: delivered once, PUBACK'd (MQTT-4.3.2-2). */
static void test_qos1_in(void **state)
{
    static const uint8_t pub[] = {0x32, 0x08, 0x00, 0x01, 't', 0x00, 0x07, 'h', 'i', '!'};
    fixture_t *f = *state;
    kmqtt_session_event_t ev;

    feed(&f->s, pub, sizeof pub);
    assert_int_equal(kmqtt_session_next_event(&f->s, 1, &ev), KMQTT_OK);
    assert_int_equal(ev.type, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(ev.msg.qos, 1);
    assert_int_equal(sent_type(&f->s), KMQTT_PUBACK);
}

/* Inbound QoS 2: PUBREC (MQTT-4.3.3-8) when compiled in; without it a QoS 2
 * PUBLISH can only come from a broker breaking the granted QoS
 * (MQTT-3.8.4-6: we never subscribe above 1), so it is a protocol error. */
static void test_qos2_in(void **state)
{
    static const uint8_t pub[] = {0x34, 0x08, 0x00, 0x01, 't', 0x00, 0x09, 'h', 'i', '!'};
    fixture_t *f = *state;
    kmqtt_session_event_t ev;
    kmqtt_err_t err;

    feed(&f->s, pub, sizeof pub);
    err = kmqtt_session_next_event(&f->s, 1, &ev);
#if KMQTT_CFG_QOS2
    assert_int_equal(err, KMQTT_OK);
    assert_int_equal(ev.type, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(sent_type(&f->s), KMQTT_PUBREC);
#else
    assert_int_equal(err, KMQTT_EPROTOCOL);
#endif
}

/* A PUBREC for nothing we sent: answered with PUBREL (MQTT-4.3.3-1 keeps the
 * flow going) with QoS 2, a protocol error without. */
static void test_pubrec_in(void **state)
{
    static const uint8_t pubrec[] = {0x50, 0x02, 0x00, 0x05};
    fixture_t *f = *state;
    kmqtt_session_event_t ev;
    kmqtt_err_t err;

    feed(&f->s, pubrec, sizeof pubrec);
    err = kmqtt_session_next_event(&f->s, 1, &ev);
#if KMQTT_CFG_QOS2
    assert_true(err == KMQTT_OK || err == KMQTT_NEED_MORE);
#else
    assert_int_equal(err, KMQTT_EPROTOCOL);
#endif
}

static void test_qos2_out(void **state)
{
    fixture_t *f = *state;
    kmqtt_session_msg_t m;
    kmqtt_session_sub_t sub;
    uint16_t id = 0;
    kmqtt_err_t want = KMQTT_CFG_QOS2 ? KMQTT_OK : KMQTT_EUNSUPPORTED;

    memset(&m, 0, sizeof m);
    m.topic = "t";
    m.topic_len = 1;
    m.qos = 2;
    assert_int_equal(kmqtt_session_publish(&f->s, &m, &id), want);
    assert_int_equal(id != 0, KMQTT_CFG_QOS2);
    m.qos = 1;
    assert_int_equal(kmqtt_session_publish(&f->s, &m, &id), KMQTT_OK);
    assert_int_not_equal(id, 0);

    sub.filter = "t/#";
    sub.options = 2;
    assert_int_equal(kmqtt_session_subscribe(&f->s, &sub, 1, NULL, 0, &id), want);
    sub.options = 1;
    assert_int_equal(kmqtt_session_subscribe(&f->s, &sub, 1, NULL, 0, &id), KMQTT_OK);
}

/* A 5.0 session needs the 5.0 code. */
static void test_session_v5(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);

    (void)state;
    assert_non_null(f);
    assert_int_equal(setup(f, KMQTT_V5), KMQTT_CFG_V5 ? KMQTT_OK : KMQTT_EUNSUPPORTED);
    free(f);
}

static kmqtt_err_t try_create(const kmqtt_client_options_t *o)
{
    kmqtt_client_t *c = NULL;
    kmqtt_err_t err = kmqtt_client_create(o, &c);

    if (err == KMQTT_OK)
        kmqtt_client_destroy(c);
    else
        assert_null(c);
    return err;
}

static void test_client_create(void **state)
{
    kmqtt_client_options_t o;

    (void)state;
    kmqtt_client_options_init(&o);
    o.host = "127.0.0.1";
    o.client_id = "cfg";
    assert_int_equal(try_create(&o), KMQTT_OK);

    o.version = KMQTT_V5;
    assert_int_equal(try_create(&o), KMQTT_CFG_V5 ? KMQTT_OK : KMQTT_EUNSUPPORTED);
    o.version = KMQTT_V311;

    o.offline_queue_max_msgs = 4;
    o.offline_queue_max_bytes = 1024;
    assert_int_equal(try_create(&o), KMQTT_CFG_OFFLINE_QUEUE ? KMQTT_OK : KMQTT_EUNSUPPORTED);
    o.offline_queue_max_msgs = 0;

    o.has_will = true;
    o.will_topic = "w";
    o.will_qos = 2;
    assert_int_equal(try_create(&o), KMQTT_CFG_QOS2 ? KMQTT_OK : KMQTT_EUNSUPPORTED);
    o.will_qos = 1;
    assert_int_equal(try_create(&o), KMQTT_OK);
}

/* What a created, never connected 3.1.1 client answers. */
static void test_client_calls(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t sub;
    uint8_t reply[8];
    size_t reply_len = 1;

    (void)state;
    kmqtt_client_options_init(&o);
    o.host = "127.0.0.1";
    o.client_id = "cfg";
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);

    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 2, false, NULL, NULL),
                     KMQTT_CFG_QOS2 ? KMQTT_ENOTCONN : KMQTT_EUNSUPPORTED);
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 1, false, NULL, NULL), KMQTT_ENOTCONN);
    memset(&sub, 0, sizeof sub);
    sub.filter = "t";
    sub.qos = 2;
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, 100, NULL, NULL),
                     KMQTT_CFG_QOS2 ? KMQTT_ENOTCONN : KMQTT_EUNSUPPORTED);
    /* Request / response and re-authentication are 5.0 in every build: a
     * 3.1.1 client (every client when 5.0 is compiled out) is refused. */
    assert_int_equal(kmqtt_request(c, "t", "x", 1, 1, "r", 100, reply, sizeof reply, &reply_len),
                     KMQTT_ENEEDV5);
    assert_int_equal(reply_len, 0);
    assert_int_equal(kmqtt_reauthenticate(c, NULL, 0, 100, NULL), KMQTT_ENEEDV5);
    assert_int_equal(kmqtt_queue_count(c), 0);
    kmqtt_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_qos1_in, connected, teardown),
        cmocka_unit_test_setup_teardown(test_qos2_in, connected, teardown),
        cmocka_unit_test_setup_teardown(test_pubrec_in, connected, teardown),
        cmocka_unit_test_setup_teardown(test_qos2_out, connected, teardown),
        cmocka_unit_test(test_session_v5),
        cmocka_unit_test(test_client_create),
        cmocka_unit_test(test_client_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
