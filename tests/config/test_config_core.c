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
#include "client/legacy_session.h"

typedef struct fixture {
    legacy_session_t s;
    void *storage;
} fixture_t;

static void feed(legacy_session_t *s, const uint8_t *b, size_t n)
{
    uint8_t *buf;
    size_t space;

    legacy_session_rx_space(s, &buf, &space);
    assert_true(space >= n);
    memcpy(buf, b, n);
    legacy_session_rx_commit(s, n, 1);
}

/* The first byte of what the session wants to send, then all of it gone. */
static uint8_t sent_type(legacy_session_t *s)
{
    const uint8_t *buf;
    size_t n = legacy_session_tx_peek(s, &buf);
    uint8_t t = n == 0 ? 0 : (uint8_t)(buf[0] >> 4);

    legacy_session_tx_consume(s, n, 1);
    return t;
}

static void config(legacy_session_config_t *cfg, kmqtt_version_t v)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->version = v;
    cfg->keepalive_s = 60;
    cfg->max_inflight = 4;
    cfg->max_pending = 2;
    cfg->rx_buffer_size = 256;
    cfg->tx_buffer_size = 256;
    cfg->store_size = 512;
}

/* A 3.1.1 session, connected (CONNECT sent, CONNACK 0 taken). */
static int connected(void **state)
{
    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
    fixture_t *f = calloc(1, sizeof *f);
    legacy_session_config_t cfg;
    kmqtt_connect_t c;
    legacy_event_t ev;

    assert_non_null(f);
    config(&cfg, KMQTT_V311);
    f->storage = malloc(legacy_session_storage_size(&cfg));
    assert_non_null(f->storage);
    assert_int_equal(legacy_session_init(&f->s, &cfg, f->storage, legacy_session_storage_size(&cfg)),
                     KMQTT_OK);
    memset(&c, 0, sizeof c);
    c.clean_start = true;
    c.keepalive = 60;
    c.client_id.ptr = "c";
    c.client_id.len = 1;
    assert_int_equal(legacy_session_start(&f->s, &c, 1), KMQTT_OK);
    assert_int_equal(sent_type(&f->s), KMQTT_CONNECT);
    feed(&f->s, connack, sizeof connack);
    assert_int_equal(legacy_session_next_event(&f->s, 1, &ev), KMQTT_OK);
    assert_int_equal(ev.type, LEGACY_EV_CONNACK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    free(f->storage);
    free(f);
    return 0;
}

/* 3.1.1 QoS 1 is in every build: delivered once, PUBACK'd (MQTT-4.3.2-2). */
static void test_qos1_in(void **state)
{
    static const uint8_t pub[] = {0x32, 0x08, 0x00, 0x01, 't', 0x00, 0x07, 'h', 'i', '!'};
    fixture_t *f = *state;
    legacy_event_t ev;

    feed(&f->s, pub, sizeof pub);
    assert_int_equal(legacy_session_next_event(&f->s, 1, &ev), KMQTT_OK);
    assert_int_equal(ev.type, LEGACY_EV_MESSAGE);
    assert_int_equal(ev.packet.u.publish.qos, 1);
    assert_int_equal(sent_type(&f->s), KMQTT_PUBACK);
}

/* Inbound QoS 2: PUBREC (MQTT-4.3.3-8) when compiled in; without it a QoS 2
 * PUBLISH can only come from a broker breaking the granted QoS
 * (MQTT-3.8.4-6: we never subscribe above 1), so it is a protocol error. */
static void test_qos2_in(void **state)
{
    static const uint8_t pub[] = {0x34, 0x08, 0x00, 0x01, 't', 0x00, 0x09, 'h', 'i', '!'};
    fixture_t *f = *state;
    legacy_event_t ev;
    kmqtt_err_t err;

    feed(&f->s, pub, sizeof pub);
    err = legacy_session_next_event(&f->s, 1, &ev);
#if KMQTT_CFG_QOS2
    assert_int_equal(err, KMQTT_OK);
    assert_int_equal(ev.type, LEGACY_EV_MESSAGE);
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
    legacy_event_t ev;
    kmqtt_err_t err;

    feed(&f->s, pubrec, sizeof pubrec);
    err = legacy_session_next_event(&f->s, 1, &ev);
#if KMQTT_CFG_QOS2
    assert_true(err == KMQTT_OK || err == KMQTT_NEED_MORE);
#else
    assert_int_equal(err, KMQTT_EPROTOCOL);
#endif
}

static void test_qos2_out(void **state)
{
    fixture_t *f = *state;
    kmqtt_publish_t m;
    kmqtt_subscription_t item;
    kmqtt_subscribe_t sub;
    uint16_t id = 0;
    kmqtt_err_t want = KMQTT_CFG_QOS2 ? KMQTT_OK : KMQTT_EUNSUPPORTED;

    memset(&m, 0, sizeof m);
    m.topic.ptr = "t";
    m.topic.len = 1;
    m.qos = 2;
    assert_int_equal(legacy_session_publish(&f->s, &m, 1, &id), want);
    assert_int_equal(id != 0, KMQTT_CFG_QOS2);
    m.qos = 1;
    assert_int_equal(legacy_session_publish(&f->s, &m, 1, &id), KMQTT_OK);
    assert_int_not_equal(id, 0);

    memset(&item, 0, sizeof item);
    item.filter.ptr = "t/#";
    item.filter.len = 3;
    item.qos = 2;
    memset(&sub, 0, sizeof sub);
    sub.items = &item;
    sub.count = 1;
    assert_int_equal(legacy_session_subscribe(&f->s, &sub, true, 1, &id), want);
    item.qos = 1;
    assert_int_equal(legacy_session_subscribe(&f->s, &sub, true, 1, &id), KMQTT_OK);
}

/* A 5.0 session needs the 5.0 code. */
static void test_session_v5(void **state)
{
    legacy_session_config_t cfg;

    (void)state;
    config(&cfg, KMQTT_V5);
    assert_int_equal(legacy_session_storage_size(&cfg) != 0, KMQTT_CFG_V5);
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
