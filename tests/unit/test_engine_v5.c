/*
 * The engine's MQTT 5.0 rules, ported from the old session's tests
 * (test_session_v5*.c) to the one engine: the server's CONNACK
 * capabilities and what they refuse, reason codes of acks, DISCONNECT both
 * ways, AUTH and its method, the Payload Format Indicator, raw property
 * blocks. Scripted bytes and a fake clock (support/engine_script.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine_script.h"

#if KMQTT_CFG_V5
static et_t T;

static kmqtt_err_t try_publish(const char *payload, uint8_t qos, bool retain, const uint8_t *props,
                               size_t props_len, uint16_t *id)
{
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "t/1";
    m.topic_len = 3;
    m.qos = qos;
    m.retain = retain;
    m.payload = (const uint8_t *)payload;
    m.payload_len = strlen(payload);
    m.props = props;
    m.props_len = props_len;
    return kmqtt_session_publish(&T.s, &m, id);
}

static uint16_t publish(const char *payload, uint8_t qos)
{
    uint16_t id = 0;
    assert_int_equal(try_publish(payload, qos, false, NULL, 0, &id), KMQTT_OK);
    return id;
}

static void connected(const char *connack_props)
{
    et_start(&T, KMQTT_V5);
    et_connect(&T, 0, false, connack_props);
}

/* --------------------------------------------------------- CONNACK caps */

/* 3.2.2.3: absent properties mean their defaults; present ones are kept. */
static void caps_defaults_then_connack_values(void **state)
{
    (void)state;
    kmqtt_session_caps_t c;
    et_start(&T, KMQTT_V5);
    kmqtt_session_server_caps(&T.s, &c);
    assert_int_equal(c.receive_max, 65535);
    assert_int_equal(c.max_qos, 2);
    assert_true(c.retain_available && c.wildcard_available && c.subid_available &&
                c.shared_available);
    assert_int_equal(c.max_packet_size, 0);
    assert_int_equal(c.keepalive_s, 60);
    /* Receive Maximum 2, Maximum QoS 1, Retain 0, Maximum Packet Size 200,
     * Wildcard 0, Subscription Identifiers 0, Shared 0, Server Keep Alive 5 */
    et_connect(&T, 0, false, "21 00 02 24 01 25 00 27 00 00 00 c8 28 00 29 00 2a 00 13 00 05");
    kmqtt_session_server_caps(&T.s, &c);
    assert_int_equal(c.receive_max, 2);
    assert_int_equal(c.max_qos, 1);
    assert_false(c.retain_available || c.wildcard_available || c.subid_available ||
                 c.shared_available);
    assert_int_equal(c.max_packet_size, 200);
    assert_int_equal(c.keepalive_s, 5); /* MQTT-3.2.2-21 */
}

/* MQTT-3.2.2-11, MQTT-3.2.2-14: above Maximum QoS, or retain when Retain
 * Available is 0: KMQTT_EUNSUPPORTED, nothing sent. */
static void publish_beyond_the_caps_is_unsupported(void **state)
{
    (void)state;
    connected("24 01 25 00");
    uint16_t id = 0;
    assert_int_equal(try_publish("x", 2, false, NULL, 0, &id), KMQTT_EUNSUPPORTED);
    assert_int_equal(try_publish("x", 0, true, NULL, 0, &id), KMQTT_EUNSUPPORTED);
    et_expect_sent(&T, "", 0);
    assert_int_equal(try_publish("x", 1, false, NULL, 0, &id), KMQTT_OK);
}

/* 3.2.2.3.12-14: a wildcard, shared or identified subscription the server
 * lacks is KMQTT_EUNSUPPORTED; MQTT-3.8.3-4: No Local on a shared one is
 * invalid whatever the server says. */
static void unavailable_subscription_features_are_unsupported(void **state)
{
    (void)state;
    connected("28 00 29 00 2a 00");
    kmqtt_session_sub_t wild = {"a/+", 0}, shared = {"$share/g/a", 0}, plain = {"a/b", 0};
    static const uint8_t subid[] = {0x0b, 0x05};
    assert_int_equal(kmqtt_session_subscribe(&T.s, &wild, 1, NULL, 0, NULL), KMQTT_EUNSUPPORTED);
    assert_int_equal(kmqtt_session_subscribe(&T.s, &shared, 1, NULL, 0, NULL), KMQTT_EUNSUPPORTED);
    assert_int_equal(kmqtt_session_subscribe(&T.s, &plain, 1, subid, 2, NULL), KMQTT_EUNSUPPORTED);
    assert_int_equal(kmqtt_session_subscribe(&T.s, &plain, 1, NULL, 0, NULL), KMQTT_OK);
    connected("");
    kmqtt_session_sub_t nolocal = {"$share/g/a", 0x04};
    assert_int_equal(kmqtt_session_subscribe(&T.s, &nolocal, 1, NULL, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_subscribe(&T.s, &wild, 1, subid, 2, NULL), KMQTT_OK);
}

/* MQTT-3.3.4-7: the server's Receive Maximum bounds QoS 1/2 in flight; QoS
 * 0 and SUBSCRIBE are not held back. */
static void receive_maximum_from_connack_limits_the_window(void **state)
{
    (void)state;
    connected("21 00 02");
    uint16_t a = publish("a", 1);
    publish("b", 2);
    uint16_t id;
    assert_int_equal(try_publish("c", 1, false, NULL, 0, &id), KMQTT_ELIMIT);
    assert_int_equal(try_publish("c", 0, false, NULL, 0, &id), KMQTT_OK);
    kmqtt_session_sub_t sub = {"s", 0};
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, NULL), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, "40 02 00 01", 1);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1)->packet_id, a);
    assert_int_equal(try_publish("c", 1, false, NULL, 0, &id), KMQTT_OK);
}

/* A reconnect whose CONNACK lowers Receive Maximum: the resend holds back
 * what is beyond it, and sends it as acks come (MQTT-3.3.4-7). */
static void smaller_receive_maximum_on_reconnect_holds_back_resends(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V5);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    uint16_t a = publish("a", 1);
    publish("b", 1);
    et_drain(&T, 0);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 1, true, "21 00 01");
    et_expect_sent(&T, "3a 09 00 03 74 2f 31 00 01 00 61", 1);
    et_feed(&T, "40 02 00 01", 2);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 2)->packet_id, a);
    et_expect_sent(&T, "3a 09 00 03 74 2f 31 00 02 00 62", 2);
}

/* MQTT-3.2.2-15: a packet over the server's Maximum Packet Size is refused
 * before it is queued. */
static void server_maximum_packet_size_makes_larger_packets_etoobig(void **state)
{
    (void)state;
    connected("27 00 00 00 10");
    uint16_t id = 0;
    assert_int_equal(try_publish("012345678", 0, false, NULL, 0, &id), KMQTT_ETOOBIG); /* 17 B */
    assert_int_equal(try_publish("01234567", 0, false, NULL, 0, &id), KMQTT_OK);       /* 16 B */
    assert_int_equal(try_publish("0123456", 1, false, NULL, 0, &id), KMQTT_ETOOBIG);   /* 17 B */
}

/* ------------------------------------------------------------- acks */

/* 4.3.3: a PUBREC with a failure code ends the flow: no PUBREL, done with
 * its reason; a PUBCOMP 0x92 says the server had lost it (KMQTT_ENOTFOUND). */
static void pubrec_failure_ends_the_flow_pubcomp_0x92_is_enotfound(void **state)
{
    (void)state;
    connected("");
    uint16_t a = publish("a", 2), b = publish("b", 2);
    et_drain(&T, 0);
    et_feed(&T, "50 03 00 01 87", 1);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1);
    assert_int_equal(ev->packet_id, a);
    assert_int_equal(ev->reason_code, 0x87);
    et_expect_sent(&T, "", 1);
    et_feed(&T, "50 03 00 02 10", 2); /* 0x10 No matching subscribers: success */
    et_none(&T, 2);
    et_expect_sent(&T, "62 02 00 02", 2);
    et_feed(&T, "70 03 00 02 92", 3);
    ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 3);
    assert_int_equal(ev->packet_id, b);
    assert_int_equal(ev->err, KMQTT_ENOTFOUND);
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
}

/* MQTT-3.11.3-1: an UNSUBACK carries one code per filter. */
static void unsuback_code_count_must_match_the_filters(void **state)
{
    (void)state;
    static const char *const f[] = {"a", "b"};
    connected("");
    assert_int_equal(kmqtt_session_unsubscribe(&T.s, f, 2, NULL, 0, NULL), KMQTT_OK);
    et_feed(&T, "b0 04 00 01 00 00", 1);
    assert_int_equal(et_next(&T, 1), KMQTT_EPROTOCOL);
    et_expect_sent(&T, "a2 09 00 01 00 00 01 61 00 01 62 e0 01 82", 1);
    connected("");
    assert_int_equal(kmqtt_session_unsubscribe(&T.s, f, 2, NULL, 0, NULL), KMQTT_OK);
    et_feed(&T, "b0 05 00 01 00 00 11", 1);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_UNSUBACK, 1);
    assert_int_equal(ev->count, 2);
    assert_int_equal(ev->codes[1], 0x11);
}

/* ------------------------------------------------------- messages */

/* A message's raw property block reaches the application, validated. */
static void message_properties_reach_the_application(void **state)
{
    (void)state;
    connected("");
    /* User Property "k"="v", Subscription Identifier 7 */
    et_feed(&T, "30 0e 00 01 74 09 26 00 01 6b 00 01 76 0b 07 78", 1);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1);
    assert_int_equal(ev->msg.props_len, 9);
    assert_int_equal(ev->msg.props[0], 0x26);
    assert_int_equal(ev->msg.payload_len, 1);
    assert_int_equal(ev->msg.payload[0], 'x');
}

/* 3.3.2.3.2: a payload marked UTF-8 that is not is never delivered: QoS 1/2
 * answered 0x99 Payload format invalid (which ends a QoS 2 flow), QoS 0
 * dropped. */
static void payload_format_utf8_invalid_is_rejected_with_0x99(void **state)
{
    (void)state;
    connected("");
    et_feed(&T, "30 07 00 01 74 02 01 01 ff", 1);
    et_feed(&T, "32 09 00 01 74 00 05 02 01 01 ff", 1);
    et_feed(&T, "34 09 00 01 74 00 06 02 01 01 ff", 1);
    et_feed(&T, "30 07 00 01 74 02 01 01 41", 1); /* valid: delivered */
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1)->msg.payload[0], 'A');
    et_none(&T, 1);
    et_expect_sent(&T, "40 03 00 05 99 50 03 00 06 99", 1);
}

/* ------------------------------------------------------- DISCONNECT */

/* 3.14: the server says why; MQTT-3.14.2-2: it never sends a Session
 * Expiry Interval (a Protocol Error, 0x82). */
static void server_disconnect_with_session_expiry_is_refused(void **state)
{
    (void)state;
    connected("");
    et_feed(&T, "e0 07 8b 05 11 00 00 00 0a", 1);
    assert_int_equal(et_next(&T, 1), KMQTT_EPROTOCOL);
    et_expect_sent(&T, "e0 01 82", 1);
    connected("");
    et_feed(&T, "e0 06 9c 04 1c 00 01 68", 1); /* Use another server, Server Reference "h" */
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_DISCONNECT, 1);
    assert_int_equal(ev->reason_code, 0x9c);
    assert_int_equal(ev->props_len, 4);
}

/* Our DISCONNECT carries its reason and properties; 3.14.2.2.2: a non-zero
 * Session Expiry Interval cannot revive a session the CONNECT gave 0. */
static void disconnect_carries_reason_and_props_but_cannot_revive_expiry(void **state)
{
    (void)state;
    static const uint8_t expiry[] = {0x11, 0, 0, 0, 10};
    static const uint8_t reason[] = {0x1f, 0, 1, 'r'};
    connected("");
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0x04, expiry, sizeof expiry), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0x04, reason, sizeof reason), KMQTT_OK);
    et_expect_sent(&T, "e0 06 04 04 1f 00 01 72", 0);
    static const uint8_t connect_expiry[] = {0x11, 0, 0, 0, 60};
    et_setup(&T, KMQTT_V5);
    T.cfg.connect_props = connect_expiry;
    T.cfg.connect_props_len = sizeof connect_expiry;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0, expiry, sizeof expiry), KMQTT_OK);
}

/* ------------------------------------------------------------- AUTH */

/* 4.12: with an Authentication Method in the CONNECT the server may send
 * AUTH before the CONNACK; the engine answers with the application's AUTH,
 * the same method (MQTT-4.12.0-5); a CONNACK or AUTH with another method is
 * a Protocol Error. Without a method no AUTH goes (MQTT-3.1.2-30). */
static void enhanced_auth_and_its_method(void **state)
{
    (void)state;
    static const uint8_t method[] = {0x15, 0, 1, 'm'};
    static const uint8_t other[] = {0x15, 0, 1, 'o'};
    et_setup(&T, KMQTT_V5);
    T.cfg.connect_props = method;
    T.cfg.connect_props_len = sizeof method;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, "f0 06 18 04 15 00 01 6d", 1);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_AUTH, 1)->reason_code, 0x18);
    assert_int_equal(kmqtt_session_auth(&T.s, 0x18, other, sizeof other), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_auth(&T.s, 0x18, method, sizeof method), KMQTT_OK);
    et_expect_sent(&T, "f0 06 18 04 15 00 01 6d", 1);
    et_feed(&T, "20 07 00 00 04 15 00 01 6f", 2); /* CONNACK with another method */
    assert_int_equal(et_next(&T, 2), KMQTT_EPROTOCOL);
    /* Re-authentication on a connection. */
    kmqtt_session_lost(&T.s);
    et_connect(&T, 3, false, "15 00 01 6d");
    assert_int_equal(kmqtt_session_auth(&T.s, 0x19, method, sizeof method), KMQTT_OK);
    et_expect_sent(&T, "f0 06 19 04 15 00 01 6d", 3);
    et_feed(&T, "f0 06 00 04 15 00 01 6d", 4);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_AUTH, 4)->reason_code, 0);
    et_feed(&T, "f0 06 18 04 15 00 01 6f", 5);
    assert_int_equal(et_next(&T, 5), KMQTT_EPROTOCOL);
    /* No method in the CONNECT: no AUTH at all, and one from the server is
     * a Protocol Error. */
    connected("");
    assert_int_equal(kmqtt_session_auth(&T.s, 0x19, method, sizeof method), KMQTT_ESTATE);
    et_feed(&T, "f0 06 18 04 15 00 01 6d", 1);
    assert_int_equal(et_next(&T, 1), KMQTT_EPROTOCOL);
}

/* kmqtt_session_clear, then a new connection before the events were
 * pulled: the cleared messages are still reported (KMQTT_ECANCELED) and
 * never sent, whatever the CONNACK says. */
static void cleared_messages_are_never_sent(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V5);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    uint16_t a = publish("a", 1);
    et_drain(&T, 0);
    kmqtt_session_lost(&T.s);
    assert_int_equal(kmqtt_session_clear(&T.s), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 1), KMQTT_OK);
    et_drain(&T, 1);
    et_feed(&T, "20 03 01 00 00", 1);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1);
    assert_int_equal(ev->packet_id, a);
    assert_int_equal(ev->err, KMQTT_ECANCELED);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 1);
    et_none(&T, 1);
    et_expect_sent(&T, "", 1);
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
}

/* ---------------------------------------------------------- topic aliases */

#if KMQTT_CFG_TOPIC_ALIAS
#define ALEN 8
static uint8_t alias_in[3 * KMQTT_SESSION_ALIAS_IN_SLOT(ALEN)];
static uint8_t alias_out[3 * KMQTT_SESSION_ALIAS_OUT_SLOT(ALEN)];

/* A 5.0 engine with 2 inbound and 3 outbound alias slots of 8 topic bytes,
 * connected with the CONNACK's properties. */
static void with_aliases(const char *connack_props, bool persistent)
{
    et_setup(&T, KMQTT_V5);
    T.cfg.clean_session = !persistent;
    T.bufs.alias_in = alias_in;
    T.bufs.alias_in_max = 2;
    T.bufs.alias_out = alias_out;
    T.bufs.alias_out_max = 3;
    T.bufs.alias_topic_len = ALEN;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, connack_props);
}

/* MQTT-3.3.2-10, -11: an alias sent with a topic maps it; sent with an
 * empty topic it stands for it. The application always sees the full topic.
 * The CONNECT advertises the slots as Topic Alias Maximum. */
static void inbound_alias_gives_the_full_topic(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V5);
    T.bufs.alias_in = alias_in;
    T.bufs.alias_in_max = 2;
    T.bufs.alias_topic_len = ALEN;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_expect_sent(&T, "10 1c 00 04 4d 51 54 54 05 02 00 3c 0b 21 00 04 27 00 00 01 00 22 00 02 "
                       "00 04 64 65 76 31", 0);
    et_feed(&T, "20 03 00 00 00", 0);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 0);
    et_feed(&T, "30 0a 00 03 61 2f 62 03 23 00 01 78", 1); /* "a/b" as alias 1 */
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1);
    assert_int_equal(ev->msg.topic_len, 3);
    assert_memory_equal(ev->msg.topic, "a/b", 3);
    et_feed(&T, "30 0c 00 00 08 23 00 01 26 00 00 00 00 79", 2); /* alias 1 alone, more props */
    ev = et_take(&T, KMQTT_SESSION_EV_MESSAGE, 2);
    assert_int_equal(ev->msg.topic_len, 3);
    assert_memory_equal(ev->msg.topic, "a/b", 3);
    assert_int_equal(ev->msg.payload[0], 'y');
    assert_int_equal(ev->msg.props_len, 8);
}

/* What the server may not do with aliases, and the reason we give. */
static void inbound_alias_errors_and_their_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint8_t reason;
    } cases[] = {
        {"30 0a 00 03 61 2f 62 03 23 00 03 78", 0x94}, /* over our maximum: MQTT-3.1.2-26 */
        {"30 0a 00 03 61 2f 62 03 23 00 00 78", 0x82}, /* 0: MQTT-3.3.2-8, out of range */
        {"30 07 00 00 03 23 00 02 78", 0x82},          /* never mapped */
        {"30 0f 00 09 61 2f 62 63 64 65 66 67 68 03 23 00 01", 0x97}, /* longer than a slot */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        with_aliases("", false);
        et_feed(&T, cases[i].in, 1);
        assert_true(et_next(&T, 1) < 0);
        char want[16];
        snprintf(want, sizeof want, "e0 01 %02x", cases[i].reason);
        et_expect_sent(&T, want, 1);
    }
    /* No slots: we advertised no maximum, any alias is invalid (MQTT-3.1.2-27). */
    connected("");
    et_feed(&T, "30 0a 00 03 61 2f 62 03 23 00 01 78", 1);
    assert_int_equal(et_next(&T, 1), KMQTT_EPROTOCOL);
    et_expect_sent(&T, "e0 01 94", 1);
}

/* MQTT-3.3.2-7: aliases end with the connection. */
static void inbound_aliases_end_with_the_connection(void **state)
{
    (void)state;
    with_aliases("", true);
    et_feed(&T, "30 0a 00 03 61 2f 62 03 23 00 01 78", 1);
    et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 2, true, "");
    et_feed(&T, "30 07 00 00 03 23 00 01 78", 3);
    assert_int_equal(et_next(&T, 3), KMQTT_EPROTOCOL);
}

/* Outbound: the first PUBLISH of a topic carries it and its alias, the next
 * only the alias (empty topic); never more aliases than the server's Topic
 * Alias Maximum (MQTT-3.3.2-9), the least recently used slot reused; none
 * when the server allows none (MQTT-3.2.2-18); a topic longer than a slot
 * goes without. The stored QoS 1 copy keeps the full topic, so a resend on
 * the next connection never carries an old alias (MQTT-3.3.2-7). */
static void outbound_aliases(void **state)
{
    (void)state;
    static const uint8_t user[] = {0x26, 0, 1, 'k', 0, 1, 'v'};
    with_aliases("22 00 02", true);
    uint16_t id = 0;
    assert_int_equal(try_publish("x", 0, false, NULL, 0, &id), KMQTT_OK);
    et_expect_sent(&T, "30 0a 00 03 74 2f 31 03 23 00 01 78", 0);
    assert_int_equal(try_publish("y", 1, false, user, sizeof user, &id), KMQTT_OK);
    et_expect_sent(&T, "32 10 00 00 00 01 0a 26 00 01 6b 00 01 76 23 00 01 79", 0);
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "u/2";
    m.topic_len = 3;
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_OK);
    et_expect_sent(&T, "30 09 00 03 75 2f 32 03 23 00 02", 0);
    m.topic = "v/3"; /* the server allows 2: slot 1 ("t/1", used less recently) goes */
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_OK);
    et_expect_sent(&T, "30 09 00 03 76 2f 33 03 23 00 01", 0);
    m.topic = "long/topic/9";
    m.topic_len = 12;
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_OK);
    et_expect_sent(&T, "30 0f 00 0c 6c 6f 6e 67 2f 74 6f 70 69 63 2f 39 00", 0);
    /* Reconnect: the QoS 1 message goes again with its full topic. */
    kmqtt_session_lost(&T.s);
    et_connect(&T, 1, true, "22 00 02");
    et_expect_sent(&T, "3a 10 00 03 74 2f 31 00 01 07 26 00 01 6b 00 01 76 79", 1);
    assert_int_equal(try_publish("z", 0, false, NULL, 0, &id), KMQTT_OK);
    et_expect_sent(&T, "30 0a 00 03 74 2f 31 03 23 00 01 7a", 1);
    /* The server allows none: no alias. */
    with_aliases("", false);
    assert_int_equal(try_publish("x", 0, false, NULL, 0, &id), KMQTT_OK);
    assert_int_equal(try_publish("x", 0, false, NULL, 0, &id), KMQTT_OK);
    et_expect_sent(&T, "30 07 00 03 74 2f 31 00 78 30 07 00 03 74 2f 31 00 78", 0);
}
#endif

/* ------------------------------------------------------ what we send */

/* A client's PUBLISH carries neither a Topic Alias (the engine keeps none)
 * nor a Subscription Identifier (MQTT-3.3.4-6); the CONNECT may not carry
 * what the engine advertises itself. */
static void what_the_caller_may_not_put_in_properties(void **state)
{
    (void)state;
    static const uint8_t alias[] = {0x23, 0, 1};
    static const uint8_t subid[] = {0x0b, 1};
    connected("");
    uint16_t id = 0;
    assert_int_equal(try_publish("x", 1, false, alias, sizeof alias, &id), KMQTT_EINVAL);
    assert_int_equal(try_publish("x", 1, false, subid, sizeof subid, &id), KMQTT_EINVAL);
    assert_int_equal(id, 0);
    static const uint8_t rm[] = {0x21, 0, 9};
    et_setup(&T, KMQTT_V5);
    T.cfg.connect_props = rm;
    T.cfg.connect_props_len = sizeof rm;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
}
#endif

int main(void)
{
#if KMQTT_CFG_V5
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(caps_defaults_then_connack_values),
        cmocka_unit_test(publish_beyond_the_caps_is_unsupported),
        cmocka_unit_test(unavailable_subscription_features_are_unsupported),
        cmocka_unit_test(receive_maximum_from_connack_limits_the_window),
        cmocka_unit_test(smaller_receive_maximum_on_reconnect_holds_back_resends),
        cmocka_unit_test(server_maximum_packet_size_makes_larger_packets_etoobig),
        cmocka_unit_test(pubrec_failure_ends_the_flow_pubcomp_0x92_is_enotfound),
        cmocka_unit_test(unsuback_code_count_must_match_the_filters),
        cmocka_unit_test(message_properties_reach_the_application),
        cmocka_unit_test(payload_format_utf8_invalid_is_rejected_with_0x99),
        cmocka_unit_test(server_disconnect_with_session_expiry_is_refused),
        cmocka_unit_test(disconnect_carries_reason_and_props_but_cannot_revive_expiry),
        cmocka_unit_test(enhanced_auth_and_its_method),
        cmocka_unit_test(what_the_caller_may_not_put_in_properties),
        cmocka_unit_test(cleared_messages_are_never_sent),
#if KMQTT_CFG_TOPIC_ALIAS
        cmocka_unit_test(inbound_alias_gives_the_full_topic),
        cmocka_unit_test(inbound_alias_errors_and_their_reasons),
        cmocka_unit_test(inbound_aliases_end_with_the_connection),
        cmocka_unit_test(outbound_aliases),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#else
    return 0;
#endif
}
