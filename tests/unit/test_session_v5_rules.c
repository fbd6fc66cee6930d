/*
 * MQTT 5.0 client rules in the session, one test per rule, each naming the
 * normative statement (MQTT-x.y.z-n) or, where the rule has no number, the
 * section: what the CONNACK allows, flow control both ways, maximum packet
 * sizes both ways, topic aliases both ways, enhanced authentication, the
 * DISCONNECT rules, Payload Format Indicator and subscription identifiers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

static const kmqtt_prop_t *method_prop(void);
static void feed_auth(ts_t *t, uint8_t rc, const char *method);
static void publish_topic(ts_t *t, const char *topic, uint8_t qos);

static kmqtt_prop_t pnum(kmqtt_prop_id_t id, uint32_t num)
{
    kmqtt_prop_t p;
    memset(&p, 0, sizeof p);
    p.id = id;
    p.num = num;
    return p;
}

static kmqtt_prop_t pstr(kmqtt_prop_id_t id, const char *s)
{
    kmqtt_prop_t p;
    memset(&p, 0, sizeof p);
    p.id = id;
    p.str.ptr = s;
    p.str.len = strlen(s);
    return p;
}

static ts_cfg_t cfg5(void)
{
    ts_cfg_t c = ts_config(KMQTT_V5);
    c.topic_alias_max = 2;
    c.topic_alias_out = 2;
    c.alias_topic_len = 8;
    return c;
}

/* The properties a block as the engine sees it carries (raw). */
#define EVP(ev)  (&(kmqtt_props_t){NULL, 0, (ev).props, (ev).props_len})
#define MSGP(ev) (&(kmqtt_props_t){NULL, 0, (ev).msg.props, (ev).msg.props_len})

/* Starts with the CONNECT properties given (none: n = 0). What the engine
 * advertises itself is sized, not written: Receive Maximum is its inbound
 * table, Topic Alias Maximum its inbound alias slots (none unless asked
 * for), Maximum Packet Size its rx; a test asking for one of them gets a
 * session set up again with that size (only when it differs). */
static kmqtt_err_t start_with(ts_t *t, const kmqtt_prop_t *props, size_t n)
{
    kmqtt_prop_t rest[8];
    size_t k = 0;
    ts_cfg_t c = t->cfg;
    c.topic_alias_max = 0;
    for (size_t i = 0; i < n; i++) {
        if (props[i].id == KMQTT_PROP_RECEIVE_MAXIMUM)
            c.max_inbound_qos2 = (uint16_t)props[i].num;
        else if (props[i].id == KMQTT_PROP_TOPIC_ALIAS_MAXIMUM)
            c.topic_alias_max = (uint16_t)props[i].num;
        else if (props[i].id == KMQTT_PROP_MAXIMUM_PACKET_SIZE)
            c.rx_buffer_size = props[i].num;
        else
            rest[k++] = props[i];
        assert_true(k < 8);
    }
    if (memcmp(&c, &t->cfg, sizeof c) != 0)
        assert_int_equal(ts_init(t, &c), KMQTT_OK);
    kmqtt_connect_t m = ts_connect_msg(false);
    m.props.items = k != 0 ? rest : NULL;
    m.props.count = k;
    kmqtt_err_t err = ts_start(t, &m);
    ts_take(t);
    return err;
}

static void feed_connack(ts_t *t, uint8_t rc, const kmqtt_prop_t *props, size_t n)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_CONNACK;
    p.u.connack.reason_code = rc;
    p.u.connack.props.items = props;
    p.u.connack.props.count = n;
    ts_feed_packet(t, &p);
}

/* A v5 session (cfg5) connected with CONNECT props cp and CONNACK props ap. */
static ts_t *up(const kmqtt_prop_t *cp, size_t cn, const kmqtt_prop_t *ap, size_t an)
{
    ts_cfg_t c = cfg5();
    ts_t *t = ts_new_cfg(&c);
    assert_int_equal(start_with(t, cp, cn), KMQTT_OK);
    feed_connack(t, 0, ap, an);
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTED);
    return t;
}

/* Before the CONNACK the engine ends the connection without a DISCONNECT
 * (it sends one only once CONNECTED): the error and nothing queued. */
static void expect_end_before_connack(ts_t *t, kmqtt_err_t err)
{
    assert_int_equal(ts_next_err(t), err);
    assert_int_equal(kmqtt_session_close_reason(&t->s), 0);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    ts_expect_nothing_sent(t);
}

/* The error next_event gives, and the DISCONNECT reason it queued. */
static void expect_close(ts_t *t, kmqtt_err_t err, uint8_t reason)
{
    kmqtt_packet_t sent[4];
    assert_int_equal(ts_next_err(t), err);
    assert_int_equal(kmqtt_session_close_reason(&t->s), reason);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED);
    ts_take(t);
    size_t n = ts_sent_packets(t, sent, 4);
    assert_true(n >= 1);
    assert_int_equal(sent[n - 1].type, KMQTT_DISCONNECT);
    assert_int_equal(sent[n - 1].u.disconnect.reason_code, reason);
}

static void feed_publish_props(ts_t *t, const char *topic, uint8_t qos, uint16_t id,
                               const kmqtt_prop_t *props, size_t n, const char *payload)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish.topic.ptr = topic;
    p.u.publish.topic.len = strlen(topic);
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.payload.ptr = (const uint8_t *)payload;
    p.u.publish.payload.len = strlen(payload);
    p.u.publish.props.items = props;
    p.u.publish.props.count = n;
    ts_feed_packet(t, &p);
}

static uint32_t alias_of(const kmqtt_packet_t *p)
{
    kmqtt_prop_t a;
    return kmqtt_props_find(&p->u.publish.props, KMQTT_PROP_TOPIC_ALIAS, &a) ? a.num : 0;
}

/* ------------------------------------------------------- CONNACK abilities */

static void caps_defaults_then_connack_values(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_RECEIVE_MAXIMUM, 7),
                         pnum(KMQTT_PROP_MAXIMUM_QOS, 1),
                         pnum(KMQTT_PROP_RETAIN_AVAILABLE, 0),
                         pnum(KMQTT_PROP_MAXIMUM_PACKET_SIZE, 300),
                         pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 5),
                         pnum(KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, 0),
                         pnum(KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0),
                         pnum(KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 0),
                         pnum(KMQTT_PROP_SERVER_KEEP_ALIVE, 9),
                         pstr(KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, "auto-1"),
                         pnum(KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 60)};
    ts_cfg_t c = cfg5();
    ts_t *t = ts_new_cfg(&c);
    kmqtt_session_caps_t k;
    kmqtt_session_server_caps(&t->s, &k);
    /* Absent properties mean their defaults (5.0 3.2.2.3). */
    assert_int_equal(k.receive_max, 65535);
    assert_int_equal(k.max_qos, 2);
    assert_true(k.retain_available && k.wildcard_available && k.subid_available &&
                k.shared_available);
    assert_int_equal(k.max_packet_size, 0);

    assert_int_equal(start_with(t, NULL, 0), KMQTT_OK);
    feed_connack(t, 0, ap, sizeof ap / sizeof ap[0]);
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_CONNACK);
    kmqtt_prop_t id;
    /* what the engine does not keep reaches the driver in the event */
    assert_true(kmqtt_props_find(EVP(ev), KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, &id));
    assert_int_equal(id.str.len, 6);
    assert_memory_equal(id.str.ptr, "auto-1", 6);
    assert_true(kmqtt_props_find(EVP(ev), KMQTT_PROP_SESSION_EXPIRY_INTERVAL, &id));
    assert_int_equal(id.num, 60);
    kmqtt_session_server_caps(&t->s, &k);
    assert_int_equal(k.receive_max, 7);
    assert_int_equal(k.max_qos, 1);
    assert_false(k.retain_available);
    assert_int_equal(k.max_packet_size, 300);
    assert_false(k.wildcard_available || k.subid_available || k.shared_available);
    assert_int_equal(k.keepalive_s, 9); /* MQTT-3.2.2-21 */
    /* Topic Alias Maximum 5: the two outbound slots are used (3.3.2.3.4) */
    publish_topic(t, "a/b", 0);
    publish_topic(t, "a/b", 0);
    kmqtt_packet_t sent[2];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, sent, 2), 2);
    assert_int_equal(alias_of(&sent[1]), 1);
    free(t);
}

static void publish_above_maximum_qos_is_unsupported_MQTT_3_2_2_11(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_MAXIMUM_QOS, 0)};
    ts_t *t = up(NULL, 0, ap, 1);
    kmqtt_publish_t m = ts_msg(1);
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_EUNSUPPORTED);
    m.qos = 2;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_EUNSUPPORTED);
    ts_expect_nothing_sent(t);
    assert_int_equal(ts_publish(t, 0), 0);
    free(t);
}

static void retain_when_unavailable_is_unsupported_MQTT_3_2_2_14(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_RETAIN_AVAILABLE, 0)};
    ts_t *t = up(NULL, 0, ap, 1);
    kmqtt_publish_t m = ts_msg(0);
    m.retain = true;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_EUNSUPPORTED);
    ts_expect_nothing_sent(t);
    free(t);
}

static kmqtt_err_t sub1(ts_t *t, const char *filter, const kmqtt_prop_t *props, size_t n)
{
    kmqtt_subscription_t f;
    kmqtt_subscribe_t sub;
    memset(&f, 0, sizeof f);
    memset(&sub, 0, sizeof sub);
    f.filter.ptr = filter;
    f.filter.len = strlen(filter);
    sub.items = &f;
    sub.count = 1;
    sub.props.items = props;
    sub.props.count = n;
    return ts_sub(t, &sub, true, NULL);
}

static void unavailable_subscription_features_are_unsupported(void **state)
{
    (void)state;
    /* 5.0 3.2.2.3.11..13: the server would close with 0xA2, 0xA1, 0x9E. */
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, 0),
                         pnum(KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0),
                         pnum(KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 0)};
    kmqtt_prop_t subid = pnum(KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, 4);
    ts_t *t = up(NULL, 0, ap, 3);
    assert_int_equal(sub1(t, "a/+", NULL, 0), KMQTT_EUNSUPPORTED);
    assert_int_equal(sub1(t, "a/#", NULL, 0), KMQTT_EUNSUPPORTED);
    assert_int_equal(sub1(t, "$share/g/a", NULL, 0), KMQTT_EUNSUPPORTED);
    assert_int_equal(sub1(t, "a/b", &subid, 1), KMQTT_EUNSUPPORTED);
    ts_expect_nothing_sent(t);
    assert_int_equal(sub1(t, "a/b", NULL, 0), KMQTT_OK);
    free(t);

    /* Available (the default): all of them go out, the identifier encoded. */
    t = up(NULL, 0, NULL, 0);
    assert_int_equal(sub1(t, "$share/g/a/+", &subid, 1), KMQTT_OK);
    kmqtt_packet_t sent[1];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, sent, 1), 1);
    kmqtt_prop_t got;
    assert_true(
        kmqtt_props_find(&sent[0].u.subscribe.props, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, &got));
    assert_int_equal(got.num, 4);
    free(t);
}

/* ------------------------------------------------------------ flow control */

static void receive_maximum_full_delays_only_publishes_MQTT_3_3_4_8(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_RECEIVE_MAXIMUM, 1)};
    ts_t *t = up(NULL, 0, ap, 1);
    ts_publish(t, 1);
    ts_take(t);
    kmqtt_publish_t m = ts_msg(2);
    /* MQTT-3.3.4-7: one unacknowledged QoS 1/2 PUBLISH is the limit */
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ELIMIT);
    /* MQTT-3.3.4-8: everything else still flows: QoS 0, SUBSCRIBE, answers */
    assert_int_equal(ts_publish(t, 0), 0);
    assert_int_equal(sub1(t, "x", NULL, 0), KMQTT_OK);
    ts_feed_publish(t, 1, 9, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    kmqtt_packet_t sent[4];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, sent, 4), 3);
    assert_int_equal(sent[0].type, KMQTT_PUBLISH);
    assert_int_equal(sent[1].type, KMQTT_SUBSCRIBE);
    assert_int_equal(sent[2].type, KMQTT_PUBACK);
    free(t);
}

/* We advertise 2 (5.0 3.1.2.11.3); the third unreleased QoS 2 message
 * breaks MQTT-3.3.4-9. Decision 6 of docs/architecture.md (issue #15:
 * mosquitto 2.0.11 does so in every burst): the oldest held id is
 * forgotten, counted, and the connection goes on. The old session closed
 * it with DISCONNECT 0x93. */
static void server_exceeding_our_receive_maximum_forgets_the_oldest(void **state)
{
    (void)state;
    kmqtt_prop_t cp[] = {pnum(KMQTT_PROP_RECEIVE_MAXIMUM, 2)};
    ts_t *t = up(cp, 1, NULL, 0);
    ts_feed_publish(t, 2, 1, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_feed_publish(t, 2, 2, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_feed_publish(t, 2, 3, false);
    assert_int_equal(ts_event(t, KMQTT_SESSION_EV_MESSAGE).msg.packet_id, 3);
    assert_int_equal(kmqtt_session_qos2_evictions(&t->s), 1);
    assert_int_equal(kmqtt_session_close_reason(&t->s), 0);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTED);
    ts_expect_sent(t, "50 02 00 01 50 02 00 02 50 02 00 03");
    free(t);
}

static void receive_maximum_released_by_pubrel_allows_more(void **state)
{
    (void)state;
    kmqtt_prop_t cp[] = {pnum(KMQTT_PROP_RECEIVE_MAXIMUM, 1)};
    ts_t *t = up(cp, 1, NULL, 0);
    ts_feed_publish(t, 2, 1, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_feed_hex(t, "62 02 00 01");
    ts_no_event(t);
    ts_feed_publish(t, 2, 2, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_expect_sent(t, "50 02 00 01 70 02 00 01 50 02 00 02");
    free(t);
}

/* The engine advertises what its buffers hold: Receive Maximum (the
 * inbound table), Topic Alias Maximum (the inbound alias slots) and Maximum
 * Packet Size (rx). A CONNECT property block that carries one of them
 * itself could promise more than the buffers hold: refused at init. */
static void advertising_is_the_engines_and_follows_its_buffers(void **state)
{
    (void)state;
    ts_cfg_t c = cfg5();
    ts_t *t = ts_new_cfg(&c);
    static const char *blocks[] = {"21 00 05", "22 00 03", "27 00 00 01 01"};
    uint8_t raw[8];
    for (size_t i = 0; i < 3; i++) {
        t->k.connect_props_len = hex_decode(blocks[i], raw, sizeof raw);
        t->k.connect_props = raw;
        assert_int_equal(kmqtt_session_init(&t->s, &t->k, &t->b), KMQTT_EINVAL);
    }
    assert_int_equal(ts_init(t, &c), KMQTT_OK);
    kmqtt_connect_t m = ts_connect_msg(false);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    ts_take(t);
    kmqtt_packet_t sent[1];
    assert_int_equal(ts_sent_packets(t, sent, 1), 1);
    kmqtt_prop_t p;
    assert_true(kmqtt_props_find(&sent[0].u.connect.props, KMQTT_PROP_RECEIVE_MAXIMUM, &p));
    assert_int_equal(p.num, 4);
    assert_true(kmqtt_props_find(&sent[0].u.connect.props, KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, &p));
    assert_int_equal(p.num, 2);
    assert_true(kmqtt_props_find(&sent[0].u.connect.props, KMQTT_PROP_MAXIMUM_PACKET_SIZE, &p));
    assert_int_equal(p.num, 256);
    free(t);
}

/* ----------------------------------------------------- maximum packet size */

static void inbound_packet_over_our_maximum_gets_0x95(void **state)
{
    (void)state;
    /* 5.0 3.1.2.11.4: a client receiving more than its Maximum Packet Size
     * (MQTT-3.1.2-24 binds the server) closes with 0x95. */
    kmqtt_prop_t cp[] = {pnum(KMQTT_PROP_MAXIMUM_PACKET_SIZE, 20)};
    ts_t *t = up(cp, 1, NULL, 0);
    /* 21 bytes: refused from its fixed header */
    ts_feed_hex(t, "30 13 00 03 61 2f 62");
    expect_close(t, KMQTT_ETOOBIG, 0x95);
    free(t);
}

static void oversized_outbound_is_refused_and_never_sent_MQTT_3_2_2_15(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_MAXIMUM_PACKET_SIZE, 12)};
    kmqtt_prop_t method = pstr(KMQTT_PROP_AUTHENTICATION_METHOD, "KMQTT-TEST");
    kmqtt_prop_t reason = pstr(KMQTT_PROP_REASON_STRING, "a reason that is too long");
    ts_t *t = up(&method, 1, ap, 1);
    kmqtt_props_t rp = {&reason, 1, NULL, 0};
    assert_int_equal(ts_disc(t, 0, &rp), KMQTT_ETOOBIG);
    kmqtt_prop_t auth[] = {method, pstr(KMQTT_PROP_AUTHENTICATION_DATA, "")};
    auth[1].bin.ptr = (const uint8_t *)"0123456789";
    auth[1].bin.len = 10;
    kmqtt_props_t ap2 = {auth, 2, NULL, 0};
    assert_int_equal(ts_auth(t, 0x19, &ap2), KMQTT_ETOOBIG);
    ts_expect_nothing_sent(t);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTED);
    assert_int_equal(ts_disc(t, 0, NULL), KMQTT_OK);
    free(t);
}

/* --------------------------------------------------------- inbound aliases */

static void inbound_alias_gives_the_full_topic_MQTT_3_3_2_10(void **state)
{
    (void)state;
    kmqtt_prop_t cp[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    ts_t *t = up(cp, 1, NULL, 0);
    kmqtt_prop_t a2 = pnum(KMQTT_PROP_TOPIC_ALIAS, 2);
    feed_publish_props(t, "x/y", 0, 0, &a2, 1, "1");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(ev.msg.topic_len, 3);
    feed_publish_props(t, "", 1, 5, &a2, 1, "2");
    ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(ev.msg.topic_len, 3);
    assert_memory_equal(ev.msg.topic, "x/y", 3);
    /* a new topic for the same alias replaces the mapping (3.3.2.3.4) */
    feed_publish_props(t, "z", 0, 0, &a2, 1, "3");
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    feed_publish_props(t, "", 0, 0, &a2, 1, "4");
    ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    assert_int_equal(ev.msg.topic_len, 1);
    assert_memory_equal(ev.msg.topic, "z", 1);
    free(t);
}

static void inbound_alias_above_our_maximum_gets_0x94_MQTT_3_1_2_26(void **state)
{
    (void)state;
    kmqtt_prop_t cp[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 1)};
    ts_t *t = up(cp, 1, NULL, 0);
    kmqtt_prop_t a2 = pnum(KMQTT_PROP_TOPIC_ALIAS, 2);
    feed_publish_props(t, "x/y", 0, 0, &a2, 1, "1");
    expect_close(t, KMQTT_EPROTOCOL, 0x94);
    free(t);
}

static void inbound_alias_when_we_advertised_none_gets_0x94_MQTT_3_1_2_27(void **state)
{
    (void)state;
    ts_t *t = up(NULL, 0, NULL, 0); /* no Topic Alias Maximum: 0 */
    kmqtt_prop_t a1 = pnum(KMQTT_PROP_TOPIC_ALIAS, 1);
    feed_publish_props(t, "x/y", 0, 0, &a1, 1, "1");
    expect_close(t, KMQTT_EPROTOCOL, 0x94);
    free(t);
}

static void inbound_alias_zero_is_a_protocol_error_MQTT_3_3_2_8(void **state)
{
    (void)state;
    kmqtt_prop_t cp[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    ts_t *t = up(cp, 1, NULL, 0);
    ts_feed_hex(t, "30 0b 00 03 61 2f 62 03 23 00 00 68 69");
    expect_close(t, KMQTT_EPROP_VALUE, 0x82);
    free(t);
}

static void unknown_inbound_alias_is_a_protocol_error(void **state)
{
    (void)state;
    /* 5.0 3.3.2.3.4: an empty topic needs a mapping on this connection */
    kmqtt_prop_t cp[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    ts_t *t = up(cp, 1, NULL, 0);
    kmqtt_prop_t a1 = pnum(KMQTT_PROP_TOPIC_ALIAS, 1);
    feed_publish_props(t, "", 0, 0, &a1, 1, "1");
    expect_close(t, KMQTT_EPROTOCOL, 0x82);
    free(t);
}

static void inbound_alias_topic_longer_than_a_slot_gets_0x97(void **state)
{
    (void)state;
    kmqtt_prop_t cp[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    ts_t *t = up(cp, 1, NULL, 0);
    kmqtt_prop_t a1 = pnum(KMQTT_PROP_TOPIC_ALIAS, 1);
    feed_publish_props(t, "123456789", 0, 0, &a1, 1, "1"); /* slots hold 8 */
    expect_close(t, KMQTT_ELIMIT, 0x97);
    free(t);
}

static void inbound_aliases_end_with_the_connection_MQTT_3_3_2_7(void **state)
{
    (void)state;
    kmqtt_prop_t cp[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    ts_t *t = up(cp, 1, NULL, 0);
    kmqtt_prop_t a1 = pnum(KMQTT_PROP_TOPIC_ALIAS, 1);
    feed_publish_props(t, "x", 0, 0, &a1, 1, "1");
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    kmqtt_session_lost(&t->s);
    assert_int_equal(start_with(t, cp, 1), KMQTT_OK);
    feed_connack(t, 0, NULL, 0);
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTED);
    feed_publish_props(t, "", 0, 0, &a1, 1, "2");
    expect_close(t, KMQTT_EPROTOCOL, 0x82);
    free(t);
}

/* -------------------------------------------------------- outbound aliases */

static void publish_topic(ts_t *t, const char *topic, uint8_t qos)
{
    kmqtt_publish_t m = ts_msg(qos);
    m.topic.ptr = topic;
    m.topic.len = strlen(topic);
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK);
}

/* Takes one sent PUBLISH; checks its topic (wire form) and alias. */
static void expect_publish(ts_t *t, const char *topic, uint32_t alias)
{
    kmqtt_packet_t p[1];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 1), 1);
    assert_int_equal(p[0].type, KMQTT_PUBLISH);
    assert_int_equal(p[0].u.publish.topic.len, strlen(topic));
    assert_memory_equal(p[0].u.publish.topic.ptr, topic, strlen(topic));
    assert_int_equal(alias_of(&p[0]), alias);
}

static void outbound_alias_first_full_then_empty(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 5)};
    ts_t *t = up(NULL, 0, ap, 1);
    publish_topic(t, "s/1", 0);
    expect_publish(t, "s/1", 1);
    publish_topic(t, "s/1", 1);
    expect_publish(t, "", 1);
    publish_topic(t, "s/2", 0);
    expect_publish(t, "s/2", 2);
    publish_topic(t, "s/1", 0);
    expect_publish(t, "", 1);
    free(t);
}

static void outbound_aliases_never_above_the_server_maximum_MQTT_3_3_2_9(void **state)
{
    (void)state;
    /* The server allows 1 (MQTT-3.2.2-17): the least recently used mapping
     * is replaced, sent with its topic again. */
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 1)};
    ts_t *t = up(NULL, 0, ap, 1);
    publish_topic(t, "s/1", 0);
    expect_publish(t, "s/1", 1);
    publish_topic(t, "s/2", 0);
    expect_publish(t, "s/2", 1);
    publish_topic(t, "s/2", 0);
    expect_publish(t, "", 1);
    free(t);

    /* Two slots (our cfg), server allows 9: LRU over our 2 */
    kmqtt_prop_t ap9[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 9)};
    t = up(NULL, 0, ap9, 1);
    publish_topic(t, "a", 0);
    expect_publish(t, "a", 1);
    publish_topic(t, "b", 0);
    expect_publish(t, "b", 2);
    publish_topic(t, "a", 0); /* b is now the oldest */
    expect_publish(t, "", 1);
    publish_topic(t, "c", 0);
    expect_publish(t, "c", 2);
    publish_topic(t, "a", 0);
    expect_publish(t, "", 1);
    free(t);
}

static void no_outbound_alias_when_server_allows_none_MQTT_3_2_2_18(void **state)
{
    (void)state;
    ts_t *t = up(NULL, 0, NULL, 0);
    publish_topic(t, "s/1", 0);
    expect_publish(t, "s/1", 0);
    publish_topic(t, "s/1", 0);
    expect_publish(t, "s/1", 0);
    /* a topic longer than a slot is just sent whole */
    free(t);
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    t = up(NULL, 0, ap, 1);
    publish_topic(t, "123456789", 0);
    expect_publish(t, "123456789", 0);
    free(t);
}

static void callers_topic_alias_is_refused(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    ts_t *t = up(NULL, 0, ap, 1);
    kmqtt_prop_t a1 = pnum(KMQTT_PROP_TOPIC_ALIAS, 1);
    kmqtt_publish_t m = ts_msg(0);
    m.props.items = &a1;
    m.props.count = 1;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_EINVAL);
    ts_expect_nothing_sent(t);
    free(t);
}

static void publish_with_a_subscription_identifier_is_refused_MQTT_3_3_4_6(void **state)
{
    (void)state;
    ts_t *t = up(NULL, 0, NULL, 0);
    kmqtt_prop_t id = pnum(KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, 1);
    kmqtt_publish_t m = ts_msg(1);
    m.props.items = &id;
    m.props.count = 1;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_EINVAL);
    ts_expect_nothing_sent(t);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    free(t);
}

static void only_auth_before_connack_with_a_method_MQTT_3_1_2_30(void **state)
{
    (void)state;
    ts_cfg_t c = cfg5();
    c.keepalive_s = 1;
    ts_t *t = ts_new_cfg(&c);
    assert_int_equal(start_with(t, method_prop(), 1), KMQTT_OK);
    kmqtt_publish_t m = ts_msg(0);
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_ENOTCONN);
    assert_int_equal(sub1(t, "a", NULL, 0), KMQTT_ENOTCONN);
    uint64_t next;
    t->now += 5000; /* keepalive long passed: still no PINGREQ */
    assert_int_equal(ts_tick(t, &next), KMQTT_OK);
    ts_expect_nothing_sent(t);
    feed_auth(t, 0x18, "KMQTT-TEST");
    ts_event(t, KMQTT_SESSION_EV_AUTH);
    kmqtt_props_t mp = {method_prop(), 1, NULL, 0};
    assert_int_equal(ts_auth(t, 0x18, &mp), KMQTT_OK);
    free(t);
}

static void aliased_message_keeps_its_other_properties(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    ts_t *t = up(NULL, 0, ap, 1);
    kmqtt_prop_t ct = pstr(KMQTT_PROP_CONTENT_TYPE, "t/p");
    kmqtt_publish_t m = ts_msg(1);
    m.props.items = &ct;
    m.props.count = 1;
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK);
    assert_int_equal(ts_pub(t, &m, NULL), KMQTT_OK);
    kmqtt_packet_t p[2];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 2), 2);
    kmqtt_prop_t got;
    for (int i = 0; i < 2; i++) {
        assert_true(kmqtt_props_find(&p[i].u.publish.props, KMQTT_PROP_CONTENT_TYPE, &got));
        assert_int_equal(alias_of(&p[i]), 1);
    }
    assert_int_equal(p[0].u.publish.topic.len, 3);
    assert_int_equal(p[1].u.publish.topic.len, 0);
    free(t);
}

static void resend_after_reconnect_carries_the_full_topic_MQTT_3_3_2_7(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    ts_t *t = up(NULL, 0, ap, 1);
    publish_topic(t, "a/b", 1);
    publish_topic(t, "a/b", 1); /* sent as alias 1, empty topic */
    ts_take(t);
    kmqtt_session_lost(&t->s);
    assert_int_equal(start_with(t, NULL, 0), KMQTT_OK);
    feed_connack(t, 0, ap, 1);
    /* both again (here as new deliveries: no session present), with the
     * full topic and no alias from the old connection (MQTT-3.3.2-7) */
    kmqtt_packet_t p[2];
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 2), 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(p[i].u.publish.topic.len, 3);
        assert_int_equal(alias_of(&p[i]), 0);
        assert_int_equal(p[i].u.publish.packet_id, i + 1);
    }
    /* and the new connection starts its own aliases from scratch */
    publish_topic(t, "a/b", 0);
    expect_publish(t, "a/b", 1);
    free(t);
}

static void resend_with_session_present_is_dup_and_unaliased_MQTT_3_3_1_1(void **state)
{
    (void)state;
    kmqtt_prop_t ap[] = {pnum(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 2)};
    ts_t *t = up(NULL, 0, ap, 1);
    publish_topic(t, "a/b", 2);
    publish_topic(t, "a/b", 1); /* alias only on the wire */
    ts_take(t);
    kmqtt_session_lost(&t->s);
    assert_int_equal(start_with(t, NULL, 0), KMQTT_OK);
    ts_feed_hex(t, "20 06 01 00 03 22 00 02"); /* session present, TAM 2 */
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    kmqtt_packet_t p[2];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 2), 2);
    for (int i = 0; i < 2; i++) {
        assert_true(p[i].u.publish.dup); /* MQTT-3.3.1-1 */
        assert_int_equal(p[i].u.publish.topic.len, 3);
        assert_memory_equal(p[i].u.publish.topic.ptr, "a/b", 3);
        assert_int_equal(alias_of(&p[i]), 0); /* MQTT-3.3.2-7 */
    }
    free(t);
}

/* ------------------------------------------------------------------- AUTH */

static const kmqtt_prop_t *method_prop(void)
{
    static kmqtt_prop_t m;
    m = pstr(KMQTT_PROP_AUTHENTICATION_METHOD, "KMQTT-TEST");
    return &m;
}

static void feed_auth(ts_t *t, uint8_t rc, const char *method)
{
    kmqtt_packet_t p;
    kmqtt_prop_t m = pstr(KMQTT_PROP_AUTHENTICATION_METHOD, method);
    memset(&p, 0, sizeof p);
    p.type = KMQTT_AUTH;
    p.u.disconnect.reason_code = rc;
    if (method != NULL) {
        p.u.disconnect.props.items = &m;
        p.u.disconnect.props.count = 1;
    }
    ts_feed_packet(t, &p);
}

static void enhanced_auth_at_connect(void **state)
{
    (void)state;
    ts_cfg_t c = cfg5();
    ts_t *t = ts_new_cfg(&c);
    kmqtt_props_t mp = {method_prop(), 1, NULL, 0};
    assert_int_equal(start_with(t, method_prop(), 1), KMQTT_OK);
    /* 0x19 is for a connected session only (5.0 4.12.1) */
    assert_int_equal(ts_auth(t, 0x19, &mp), KMQTT_ESTATE);
    feed_auth(t, 0x18, "KMQTT-TEST");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_AUTH);
    assert_int_equal(ev.reason_code, 0x18);
    assert_int_equal(ts_auth(t, 0x18, &mp), KMQTT_OK);
    kmqtt_packet_t p[1];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 1), 1);
    assert_int_equal(p[0].type, KMQTT_AUTH);
    assert_int_equal(p[0].u.disconnect.reason_code, 0x18);
    /* CONNACK with the same method completes it */
    feed_connack(t, 0, method_prop(), 1);
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTED);
    free(t);
}

static void auth_with_another_method_is_refused(void **state)
{
    (void)state;
    ts_cfg_t c = cfg5();
    ts_t *t = ts_new_cfg(&c);
    assert_int_equal(start_with(t, method_prop(), 1), KMQTT_OK);
    kmqtt_prop_t other = pstr(KMQTT_PROP_AUTHENTICATION_METHOD, "OTHER");
    kmqtt_props_t op = {&other, 1, NULL, 0};
    kmqtt_props_t none = {NULL, 0, NULL, 0};
    /* ours: the method must be the CONNECT's (5.0 3.15.2.2.2) */
    assert_int_equal(ts_auth(t, 0x18, &op), KMQTT_EINVAL);
    assert_int_equal(ts_auth(t, 0x18, &none), KMQTT_EINVAL);
    assert_int_equal(ts_auth(t, 0x00, &op), KMQTT_EINVAL);
    ts_expect_nothing_sent(t);
    /* theirs (before the CONNACK: no DISCONNECT) */
    feed_auth(t, 0x18, "OTHER");
    expect_end_before_connack(t, KMQTT_EPROTOCOL);
    free(t);
}

static void connack_with_another_method_is_a_protocol_error(void **state)
{
    (void)state;
    ts_cfg_t c = cfg5();
    ts_t *t = ts_new_cfg(&c);
    assert_int_equal(start_with(t, method_prop(), 1), KMQTT_OK);
    kmqtt_prop_t other = pstr(KMQTT_PROP_AUTHENTICATION_METHOD, "OTHER");
    feed_connack(t, 0, &other, 1);
    expect_end_before_connack(t, KMQTT_EPROTOCOL);
    free(t);

    /* nor may a CONNACK bring a method to a CONNECT without one */
    t = ts_new_cfg(&c);
    assert_int_equal(start_with(t, NULL, 0), KMQTT_OK);
    feed_connack(t, 0, method_prop(), 1);
    expect_end_before_connack(t, KMQTT_EPROTOCOL);
    free(t);
}

static void auth_without_a_method_in_connect_is_a_protocol_error(void **state)
{
    (void)state;
    /* 5.0 3.1.2.11.9: without a method the server sends no AUTH */
    ts_t *t = up(NULL, 0, NULL, 0);
    feed_auth(t, 0x18, "KMQTT-TEST");
    expect_close(t, KMQTT_EPROTOCOL, 0x82);
    free(t);
    ts_cfg_t c = cfg5();
    t = ts_new_cfg(&c);
    kmqtt_props_t mp = {method_prop(), 1, NULL, 0};
    assert_int_equal(start_with(t, NULL, 0), KMQTT_OK);
    assert_int_equal(ts_auth(t, 0x18, &mp), KMQTT_ESTATE);
    free(t);
}

static void reauthentication_exchange(void **state)
{
    (void)state;
    ts_t *t = up(method_prop(), 1, method_prop(), 1);
    kmqtt_props_t mp = {method_prop(), 1, NULL, 0};
    kmqtt_prop_t other = pstr(KMQTT_PROP_AUTHENTICATION_METHOD, "OTHER");
    kmqtt_props_t op = {&other, 1, NULL, 0};
    /* MQTT-4.12.1-1: re-authentication uses the CONNECT's method */
    assert_int_equal(ts_auth(t, 0x19, &op), KMQTT_EINVAL);
    /* MQTT-3.15.2-1: only AUTH reason codes a client may send (0x00 is the server's) */
    assert_int_equal(ts_auth(t, 0x00, &mp), KMQTT_EINVAL);
    assert_int_equal(ts_auth(t, 0x87, &mp), KMQTT_EINVAL);
    ts_expect_nothing_sent(t);
    /* Pacing the exchange (one at a time, a 0x18 only in answer) is the
     * driver's: the threaded client allows one kmqtt_reauthenticate at a
     * time and answers only the server's AUTH (client_auth.c). */
    assert_int_equal(ts_auth(t, 0x19, &mp), KMQTT_OK);
    ts_take(t);
    feed_auth(t, 0x18, "KMQTT-TEST");
    assert_int_equal(ts_event(t, KMQTT_SESSION_EV_AUTH).reason_code, 0x18);
    assert_int_equal(ts_auth(t, 0x18, &mp), KMQTT_OK);
    feed_auth(t, 0x00, "KMQTT-TEST");
    assert_int_equal(ts_event(t, KMQTT_SESSION_EV_AUTH).reason_code, 0x00);
    /* over: the next one may start, publishing never stopped */
    assert_int_equal(ts_publish(t, 1), 1);
    assert_int_equal(ts_auth(t, 0x19, &mp), KMQTT_OK);
    free(t);

    /* A server AUTH nobody asked for reaches the driver, which decides (the
     * threaded client ends the connection unless on_auth answers it). */
    t = up(method_prop(), 1, NULL, 0);
    feed_auth(t, 0x18, "KMQTT-TEST");
    assert_int_equal(ts_event(t, KMQTT_SESSION_EV_AUTH).reason_code, 0x18);
    free(t);
}

/* ------------------------------------------------------------- DISCONNECT */

static void server_disconnect_reports_reason_string_and_reference(void **state)
{
    (void)state;
    ts_t *t = up(NULL, 0, NULL, 0);
    kmqtt_prop_t dp[] = {pstr(KMQTT_PROP_REASON_STRING, "moving"),
                         pstr(KMQTT_PROP_SERVER_REFERENCE, "other:1883")};
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_DISCONNECT;
    p.u.disconnect.reason_code = 0x9d; /* server moved */
    p.u.disconnect.props.items = dp;
    p.u.disconnect.props.count = 2;
    ts_feed_packet(t, &p);
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_DISCONNECT);
    kmqtt_prop_t got;
    assert_int_equal(ev.reason_code, 0x9d);
    assert_true(kmqtt_props_find(EVP(ev), KMQTT_PROP_REASON_STRING, &got));
    assert_int_equal(got.str.len, 6);
    assert_memory_equal(got.str.ptr, "moving", 6);
    assert_true(kmqtt_props_find(EVP(ev), KMQTT_PROP_SERVER_REFERENCE, &got));
    assert_memory_equal(got.str.ptr, "other:1883", 10);
    free(t);
}

static void server_disconnect_with_session_expiry_is_refused_MQTT_3_14_2_2(void **state)
{
    (void)state;
    ts_t *t = up(NULL, 0, NULL, 0);
    kmqtt_prop_t e = pnum(KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 5);
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_DISCONNECT;
    p.u.disconnect.props.items = &e;
    p.u.disconnect.props.count = 1;
    ts_feed_packet(t, &p);
    expect_close(t, KMQTT_EPROTOCOL, 0x82);
    free(t);
}

static void connack_use_another_server_is_reported_with_its_reference(void **state)
{
    (void)state;
    ts_cfg_t c = cfg5();
    ts_t *t = ts_new_cfg(&c);
    assert_int_equal(start_with(t, NULL, 0), KMQTT_OK);
    kmqtt_prop_t ref = pstr(KMQTT_PROP_SERVER_REFERENCE, "b:1884");
    feed_connack(t, 0x9c, &ref, 1);
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_CONNACK);
    kmqtt_prop_t got;
    assert_int_equal(ev.reason_code, 0x9c);
    assert_true(kmqtt_props_find(EVP(ev), KMQTT_PROP_SERVER_REFERENCE, &got));
    assert_memory_equal(got.str.ptr, "b:1884", 6);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_ENDED); /* the driver closes */
    free(t);
}

static void disconnect_cannot_revive_a_zero_expiry_3_14_2_2_2(void **state)
{
    (void)state;
    kmqtt_prop_t e = pnum(KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 30);
    kmqtt_props_t ep = {&e, 1, NULL, 0};
    ts_t *t = up(NULL, 0, NULL, 0); /* CONNECT without expiry: 0 */
    assert_int_equal(ts_disc(t, 0, &ep), KMQTT_EINVAL);
    ts_expect_nothing_sent(t);
    e.num = 0;
    assert_int_equal(ts_disc(t, 0, &ep), KMQTT_OK);
    free(t);

    kmqtt_prop_t ce = pnum(KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 10);
    t = up(&ce, 1, NULL, 0);
    e.num = 30; /* a non-zero one may change (3.14.2.2.2) */
    assert_int_equal(ts_disc(t, 0x04, &ep), KMQTT_OK);
    kmqtt_packet_t p[1];
    ts_take(t);
    assert_int_equal(ts_sent_packets(t, p, 1), 1);
    assert_int_equal(p[0].u.disconnect.reason_code, 0x04);
    free(t);
}

static void malformed_packet_closes_with_0x81(void **state)
{
    (void)state;
    ts_t *t = up(NULL, 0, NULL, 0);
    ts_feed_hex(t, "f1 00"); /* AUTH with fixed-header flags 1 (MQTT-2.2.2-2) */
    expect_close(t, KMQTT_EFLAGS, 0x81);
    free(t);
}

/* ---------------------------------------------------------------- PUBLISH */

static void payload_format_utf8_invalid_is_rejected_with_0x99(void **state)
{
    (void)state;
    /* 5.0 3.3.2.3.2: the receiver MAY check; we do, PUBACK / PUBREC 0x99, not
     * delivered (the statement leaves the choice to the receiver) */
    ts_t *t = up(NULL, 0, NULL, 0);
    kmqtt_prop_t pfi = pnum(KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
    feed_publish_props(t, "a", 1, 3, &pfi, 1, "ok \xc3\xa9");
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_expect_sent(t, "40 02 00 03");
    feed_publish_props(t, "a", 1, 4, &pfi, 1, "bad \xc3");
    ts_no_event(t);
    ts_expect_sent(t, "40 03 00 04 99");
    feed_publish_props(t, "a", 2, 5, &pfi, 1, "\xff");
    ts_no_event(t);
    ts_expect_sent(t, "50 03 00 05 99");
    /* the failed flow keeps no id: the same id is a new message */
    feed_publish_props(t, "a", 2, 5, NULL, 0, "x");
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_expect_sent(t, "50 02 00 05");
    feed_publish_props(t, "a", 0, 0, &pfi, 1, "\xed\xa0\x80"); /* surrogate */
    ts_no_event(t);
    ts_expect_nothing_sent(t);
    /* indicator 0: bytes are bytes */
    kmqtt_prop_t pfi0 = pnum(KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 0);
    feed_publish_props(t, "a", 0, 0, &pfi0, 1, "\xff");
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    free(t);
}

static void subscription_identifiers_reach_the_application(void **state)
{
    (void)state;
    ts_t *t = up(NULL, 0, NULL, 0);
    kmqtt_prop_t ids[] = {pnum(KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, 3),
                          pnum(KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, 300)};
    feed_publish_props(t, "a", 0, 0, ids, 2, "x");
    kmqtt_session_event_t ev = ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;
    uint32_t seen[2];
    size_t n = 0;
    kmqtt_prop_iter_init(&it, MSGP(ev));
    while (kmqtt_prop_iter_next(&it, &p))
        if (p.id == KMQTT_PROP_SUBSCRIPTION_IDENTIFIER && n < 2)
            seen[n++] = p.num;
    assert_int_equal(n, 2);
    assert_int_equal(seen[0], 3);
    assert_int_equal(seen[1], 300);
    free(t);
}

static void v311_has_no_aliases_nor_caps_checks(void **state)
{
    (void)state;
    ts_cfg_t c = ts_config(KMQTT_V311);
    c.topic_alias_max = 4; /* ignored in 3.1.1 */
    c.topic_alias_out = 4;
    c.alias_topic_len = 8;
    ts_t *t = ts_new_cfg(&c);
    kmqtt_connect_t m = ts_connect_msg(true);
    assert_int_equal(ts_start(t, &m), KMQTT_OK);
    /* a 3.1.1 CONNECT advertises nothing */
    ts_expect_sent(t, "10 0d 00 04 4d 51 54 54 04 02 00 00 00 01 63");
    ts_feed_hex(t, "20 02 00 00");
    ts_event(t, KMQTT_SESSION_EV_CONNACK);
    publish_topic(t, "a/b", 0);
    ts_expect_sent(t, "30 07 00 03 61 2f 62 68 69");
    publish_topic(t, "a/b", 0);
    ts_expect_sent(t, "30 07 00 03 61 2f 62 68 69");
    ts_feed_hex(t, "f0 00"); /* AUTH does not exist in 3.1.1 */
    assert_true(ts_next_err(t) < 0);
    assert_int_equal(kmqtt_session_close_reason(&t->s), 0);
    ts_expect_nothing_sent(t); /* no DISCONNECT with a reason in 3.1.1 */
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(caps_defaults_then_connack_values),
        cmocka_unit_test(publish_above_maximum_qos_is_unsupported_MQTT_3_2_2_11),
        cmocka_unit_test(retain_when_unavailable_is_unsupported_MQTT_3_2_2_14),
        cmocka_unit_test(unavailable_subscription_features_are_unsupported),
        cmocka_unit_test(receive_maximum_full_delays_only_publishes_MQTT_3_3_4_8),
        cmocka_unit_test(server_exceeding_our_receive_maximum_forgets_the_oldest),
        cmocka_unit_test(receive_maximum_released_by_pubrel_allows_more),
        cmocka_unit_test(advertising_is_the_engines_and_follows_its_buffers),
        cmocka_unit_test(inbound_packet_over_our_maximum_gets_0x95),
        cmocka_unit_test(oversized_outbound_is_refused_and_never_sent_MQTT_3_2_2_15),
        cmocka_unit_test(inbound_alias_gives_the_full_topic_MQTT_3_3_2_10),
        cmocka_unit_test(inbound_alias_above_our_maximum_gets_0x94_MQTT_3_1_2_26),
        cmocka_unit_test(inbound_alias_when_we_advertised_none_gets_0x94_MQTT_3_1_2_27),
        cmocka_unit_test(inbound_alias_zero_is_a_protocol_error_MQTT_3_3_2_8),
        cmocka_unit_test(unknown_inbound_alias_is_a_protocol_error),
        cmocka_unit_test(inbound_alias_topic_longer_than_a_slot_gets_0x97),
        cmocka_unit_test(inbound_aliases_end_with_the_connection_MQTT_3_3_2_7),
        cmocka_unit_test(outbound_alias_first_full_then_empty),
        cmocka_unit_test(outbound_aliases_never_above_the_server_maximum_MQTT_3_3_2_9),
        cmocka_unit_test(no_outbound_alias_when_server_allows_none_MQTT_3_2_2_18),
        cmocka_unit_test(callers_topic_alias_is_refused),
        cmocka_unit_test(publish_with_a_subscription_identifier_is_refused_MQTT_3_3_4_6),
        cmocka_unit_test(only_auth_before_connack_with_a_method_MQTT_3_1_2_30),
        cmocka_unit_test(aliased_message_keeps_its_other_properties),
        cmocka_unit_test(resend_after_reconnect_carries_the_full_topic_MQTT_3_3_2_7),
        cmocka_unit_test(resend_with_session_present_is_dup_and_unaliased_MQTT_3_3_1_1),
        cmocka_unit_test(enhanced_auth_at_connect),
        cmocka_unit_test(auth_with_another_method_is_refused),
        cmocka_unit_test(connack_with_another_method_is_a_protocol_error),
        cmocka_unit_test(auth_without_a_method_in_connect_is_a_protocol_error),
        cmocka_unit_test(reauthentication_exchange),
        cmocka_unit_test(server_disconnect_reports_reason_string_and_reference),
        cmocka_unit_test(server_disconnect_with_session_expiry_is_refused_MQTT_3_14_2_2),
        cmocka_unit_test(connack_use_another_server_is_reported_with_its_reference),
        cmocka_unit_test(disconnect_cannot_revive_a_zero_expiry_3_14_2_2_2),
        cmocka_unit_test(malformed_packet_closes_with_0x81),
        cmocka_unit_test(payload_format_utf8_invalid_is_rejected_with_0x99),
        cmocka_unit_test(subscription_identifiers_reach_the_application),
        cmocka_unit_test(v311_has_no_aliases_nor_caps_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
