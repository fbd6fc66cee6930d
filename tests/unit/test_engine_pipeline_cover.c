/*
 * Issue #21: the branches of the pipelined connect
 * (src/session/session_pipeline.c) the other tests left untaken: caps put
 * back on a session never initialised, subscription caps the server lacks
 * (Wildcard, Subscription Identifiers, Shared Subscriptions Available,
 * 3.2.2.3.12-14) bounding the first flight, and a first-flight PUBLISH within
 * a remembered Maximum Packet Size (MQTT-3.2.2-15). Scripted bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

/* A 5.0 session, pipelined, caps put back as from a store: all there, or
 * the three subscription caps missing. */
static ts_t *pipelined_new(bool sub_caps, uint32_t max_packet)
{
    ts_cfg_t c = ts_config(KMQTT_V5);
    ts_t *t = ts_new_cfg(&c);
    t->k.pipeline = true;
    assert_int_equal(kmqtt_session_init(&t->s, &t->k, &t->b), KMQTT_OK);
    kmqtt_session_caps_t caps;
    kmqtt_session_server_caps(&t->s, &caps);
    caps.wildcard_available = sub_caps;
    caps.subid_available = sub_caps;
    caps.shared_available = sub_caps;
    caps.max_packet_size = max_packet;
    assert_int_equal(kmqtt_session_restore_caps(&t->s, &caps), KMQTT_OK);
    kmqtt_session_caps_t got;
    kmqtt_session_server_caps(&t->s, &got);
    assert_int_equal(got.wildcard_available, sub_caps);
    assert_int_equal(got.subid_available, sub_caps);
    assert_int_equal(got.shared_available, sub_caps);
    kmqtt_connect_t cm = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &cm), KMQTT_OK);
    return t;
}

static kmqtt_err_t sub1(ts_t *t, const char *filter, const uint8_t *props, size_t props_len)
{
    kmqtt_session_sub_t s;
    s.filter = filter;
    s.options = 1;
    return kmqtt_session_subscribe(&t->s, &s, 1, props, props_len, NULL);
}

/* A session never given to kmqtt_session_init has no configuration. */
static void restore_caps_on_a_session_never_initialised(void **state)
{
    (void)state;
    kmqtt_session_t s;
    kmqtt_session_caps_t caps;
    memset(&s, 0, sizeof s);
    memset(&caps, 0, sizeof caps);
    caps.max_qos = 1;
    caps.receive_max = 10;
    assert_int_equal(kmqtt_session_restore_caps(&s, &caps), KMQTT_EINVAL);
}

/* The server said it lacks wildcards, Subscription Identifiers and shared
 * subscriptions: before its next CONNACK no SUBSCRIBE needing them is
 * queued (3.2.2.3.12-14, MQTT-3.8.3-4), one needing none rides the first
 * flight. */
static void restored_subscription_caps_bound_the_first_flight(void **state)
{
    (void)state;
    static const uint8_t subid[] = {0x0B, 0x05}; /* Subscription Identifier 5 */
    ts_t *t = pipelined_new(false, 0);
    assert_int_equal(sub1(t, "a/+", NULL, 0), KMQTT_EUNSUPPORTED);
    assert_int_equal(sub1(t, "$share/g/a", NULL, 0), KMQTT_EUNSUPPORTED);
    assert_int_equal(sub1(t, "a/b", subid, sizeof subid), KMQTT_EUNSUPPORTED);
    assert_int_equal(sub1(t, "a/b", NULL, 0), KMQTT_OK);
    kmqtt_packet_t p[4];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 4), 2);
    assert_int_equal(p[0].type, KMQTT_CONNECT);
    assert_int_equal(p[1].type, KMQTT_SUBSCRIBE);
    assert_int_equal(p[1].u.subscribe.count, 1);
    free(t);

    /* With them there, the same SUBSCRIBEs go. */
    t = pipelined_new(true, 0);
    assert_int_equal(sub1(t, "a/+", NULL, 0), KMQTT_OK);
    assert_int_equal(sub1(t, "$share/g/a", subid, sizeof subid), KMQTT_OK);
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 4), 3);
    assert_int_equal(p[1].type, KMQTT_SUBSCRIBE);
    assert_int_equal(p[2].type, KMQTT_SUBSCRIBE);
    free(t);
}

/* A first-flight PUBLISH within the remembered Maximum Packet Size goes
 * behind the CONNECT; one over it waits for the CONNACK. */
static void first_flight_publish_within_remembered_packet_size(void **state)
{
    (void)state;
    ts_t *t = pipelined_new(true, 20);
    kmqtt_publish_t m = ts_msg(1); /* "a/b" "hi": 12 bytes */
    uint16_t id = 0;
    assert_int_equal(ts_pub(t, &m, &id), KMQTT_OK);
    assert_int_equal(id, 1);
    m.retain = true; /* Retain Available: it may go too (MQTT-3.2.2-14) */
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK);
    m.payload.ptr = (const uint8_t *)"0123456789abc"; /* 23 bytes */
    m.payload.len = 13;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ENOTCONN);
    kmqtt_packet_t p[4];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 4), 3);
    assert_int_equal(p[1].type, KMQTT_PUBLISH);
    assert_int_equal(p[1].u.publish.packet_id, 1);
    assert_int_equal(p[2].type, KMQTT_PUBLISH);
    assert_true(p[2].u.publish.retain);
    free(t);
}

/* A 5.0 session kept across connections, pipelined, with one QoS 2
 * message stored and sent; the connection then lost. Returns its id. */
static ts_t *kept_with_one_stored(uint16_t *id)
{
    ts_cfg_t c = ts_config(KMQTT_V5);
    ts_t *t = ts_new_cfg(&c);
    t->k.pipeline = true;
    assert_int_equal(kmqtt_session_init(&t->s, &t->k, &t->b), KMQTT_OK);
    ts_connect(t, false, false);
    *id = ts_publish(t, 2);
    ts_take(t);
    kmqtt_session_lost(&t->s);
    return t;
}

/* Only the CONNECT went in the first flight. */
static void first_flight_is_the_connect_alone(ts_t *t)
{
    kmqtt_packet_t p[4];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 4), 1);
    assert_int_equal(p[0].type, KMQTT_CONNECT);
}

/* Messages cleared while IDLE, their reports not yet pulled, when the next
 * pipelined connect starts: none goes in its first flight; each is then
 * reported cancelled. */
static void cleared_records_stay_out_of_the_first_flight(void **state)
{
    (void)state;
    uint16_t id;
    ts_t *t = kept_with_one_stored(&id);
    assert_int_equal(kmqtt_session_clear(&t->s), KMQTT_OK);
    kmqtt_connect_t cm = ts_connect_msg(false);
    assert_int_equal(ts_start(t, &cm), KMQTT_OK);
    first_flight_is_the_connect_alone(t);
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, id);
    assert_int_equal(ev.err, KMQTT_ECANCELED);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    free(t);
}

/* A CONNACK lowers Maximum QoS to 1 and the connection is lost before the
 * QoS 2 message it rules out was reported: the next pipelined connect stops
 * its first flight there (MQTT-3.2.2-11), and the message is reported
 * unsupported, never sent on this server. */
static void marked_records_stop_the_first_flight(void **state)
{
    (void)state;
    uint16_t id;
    ts_t *t = kept_with_one_stored(&id);
    t->k.pipeline = false; /* this connection resends only after its CONNACK */
    kmqtt_connect_t cm = ts_connect_msg(false);
    assert_int_equal(ts_start(t, &cm), KMQTT_OK);
    ts_take(t);
    ts_feed_hex(t, "20 05 01 00 02 24 01"); /* session present, Maximum QoS 1 */
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    ts_expect_nothing_sent(t); /* the QoS 2 message is not resent here */
    kmqtt_session_lost(&t->s);
    t->k.pipeline = true;
    assert_int_equal(ts_start(t, &cm), KMQTT_OK);
    first_flight_is_the_connect_alone(t);
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, id);
    assert_int_equal(ev.err, KMQTT_EUNSUPPORTED);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(restore_caps_on_a_session_never_initialised),
        cmocka_unit_test(restored_subscription_caps_bound_the_first_flight),
        cmocka_unit_test(first_flight_publish_within_remembered_packet_size),
        cmocka_unit_test(cleared_records_stay_out_of_the_first_flight),
        cmocka_unit_test(marked_records_stop_the_first_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
