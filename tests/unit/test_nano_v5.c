/*
 * nano client speaking MQTT 5.0 (the default build has KMQTT_CFG_V5): the
 * CONNECT properties, the CONNACK's limits, reason codes, properties in
 * events, malformed property blocks, server DISCONNECT and AUTH.
 *
 * Default 5.0 CONNECT of the fixture (rx 256), properties in either order:
 *   10 19 00 04 'MQTT' 05 02 00 3c | 08 21 00 04 27 00 00 01 00 | 00 04 'dev1'
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hex.h"
#include "nano_script.h"

static nt_t T;

static void connected_with(const char *connack)
{
    nt_start(&T, KMQTT_V5);
    nt_open(&T, 0);
    ns_clear_out(&T.ns);
    nt_feed(&T, connack);
    nt_poll(&T, 0);
    nt_poll(&T, 0);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    nt_expect_nothing_sent(&T);
}

static void connected(void)
{
    connected_with("20 03 00 00 00");
}

/* The capture decodes as 5.0 packets; the last is a DISCONNECT with this
 * reason. The client then closed and reported LOST with an error and that
 * reason. */
static void expect_disconnect_then_lost(uint8_t reason, kmqtt_err_t err, const char *what)
{
    size_t off = 0;
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    while (off < T.ns.out_len) {
        size_t used = 0;
        kmqtt_err_t e =
            kmqtt_packet_decode(T.ns.out + off, T.ns.out_len - off, KMQTT_V5, 0, &p, &used);
        if (e != KMQTT_OK)
            fail_msg("%s: sent bytes do not decode: %s", what, hex_format(T.ns.out, T.ns.out_len));
        off += used;
    }
    if (p.type != KMQTT_DISCONNECT)
        fail_msg("%s: no DISCONNECT sent (%s)", what, hex_format(T.ns.out, T.ns.out_len));
    if (p.u.disconnect.reason_code != reason)
        fail_msg("%s: DISCONNECT 0x%02x, expected 0x%02x", what, p.u.disconnect.reason_code,
                 reason);
    ns_clear_out(&T.ns);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_LOST);
    if (err != 0 && e->err != err)
        fail_msg("%s: LOST with %d, expected %d", what, (int)e->err, (int)err);
    if (e->err >= 0)
        fail_msg("%s: LOST without an error", what);
    /* The event names the reason the client gave the server. */
    if (e->reason_code != reason)
        fail_msg("%s: LOST reason 0x%02x, sent 0x%02x", what, e->reason_code, reason);
    nt_no_event(&T);
    assert_false(T.ns.is_open);
    assert_true(nt_guards_ok(&T));
}

/* Walks the CONNECT's properties: Receive Maximum and Maximum Packet Size
 * once each with these values, and returns the other properties' bytes. */
static size_t connect_props(uint16_t want_rm, uint32_t want_mps, uint8_t *others, size_t cap)
{
    kmqtt_packet_t p;
    size_t used = 0;
    assert_int_equal(kmqtt_packet_decode(T.ns.out, T.ns.out_len, KMQTT_V5, 0, &p, &used), KMQTT_OK);
    assert_int_equal(used, T.ns.out_len);
    assert_int_equal(p.type, KMQTT_CONNECT);
    assert_int_equal(p.u.connect.version, KMQTT_V5);
    int rm = 0, mps = 0;
    size_t n = 0;
    const uint8_t *pos = p.u.connect.props.raw;
    kmqtt_prop_iter_t it;
    kmqtt_prop_t prop;
    kmqtt_prop_iter_init(&it, &p.u.connect.props);
    while (kmqtt_prop_iter_next(&it, &prop)) {
        const uint8_t *next = it.pos;
        if (prop.id == KMQTT_PROP_RECEIVE_MAXIMUM) {
            rm++;
            assert_int_equal(prop.num, want_rm);
        } else if (prop.id == KMQTT_PROP_MAXIMUM_PACKET_SIZE) {
            mps++;
            assert_int_equal(prop.num, want_mps);
        } else {
            assert_true(n + (size_t)(next - pos) <= cap);
            memcpy(others + n, pos, (size_t)(next - pos));
            n += (size_t)(next - pos);
        }
        pos = next;
    }
    assert_int_equal(rm, 1);
    assert_int_equal(mps, 1);
    return n;
}

/* The client advertises Receive Maximum KMQTT_NANO_INBOUND_QOS2 (3.1.2.11.3)
 * and Maximum Packet Size = rx (3.1.2.11.4); all else is exact. */
static void connect_carries_receive_maximum_and_packet_size(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V5);
    nt_open(&T, 0);
    static const char *orders[2] = {
        "10 19 00 04 4d 51 54 54 05 02 00 3c 08 21 00 04 27 00 00 01 00 00 04 64 65 76 31",
        "10 19 00 04 4d 51 54 54 05 02 00 3c 08 27 00 00 01 00 21 00 04 00 04 64 65 76 31"};
    uint8_t want[64];
    bool match = false;
    for (int i = 0; i < 2; i++) {
        size_t n = hex_decode(orders[i], want, sizeof want);
        match |= n == T.ns.out_len && memcmp(want, T.ns.out, n) == 0;
    }
    if (!match)
        fail_msg("CONNECT %s", hex_format(T.ns.out, T.ns.out_len));
    uint8_t others[64];
    assert_int_equal(connect_props(KMQTT_NANO_INBOUND_QOS2, NT_RX_SIZE, others, sizeof others), 0);
}

static const uint8_t caller_props[] = {0x11, 0, 0, 0,   0x3c,          /* session expiry 60 */
                                       0x26, 0, 1, 'k', 0,    1, 'v'}; /* user property */
static const uint8_t will_props[] = {0x18, 0, 0, 0, 5, 0x01, 1};       /* delay 5, UTF-8 */

static void connect_carries_the_callers_properties(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.connect_props = caller_props;
    T.cfg.mqtt.connect_props_len = sizeof caller_props;
    T.cfg.mqtt.will_topic = "w";
    T.cfg.mqtt.will_payload = (const uint8_t *)"x";
    T.cfg.mqtt.will_payload_len = 1;
    T.cfg.mqtt.will_props = will_props;
    T.cfg.mqtt.will_props_len = sizeof will_props;
    T.bufs.rx_size = 200;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    uint8_t others[64];
    size_t n = connect_props(KMQTT_NANO_INBOUND_QOS2, 200, others, sizeof others);
    assert_int_equal(n, sizeof caller_props);
    assert_memory_equal(others, caller_props, sizeof caller_props);
    kmqtt_packet_t p;
    size_t used;
    assert_int_equal(kmqtt_packet_decode(T.ns.out, T.ns.out_len, KMQTT_V5, 0, &p, &used), KMQTT_OK);
    assert_true(p.u.connect.has_will);
    assert_int_equal(p.u.connect.will.props.raw_len, sizeof will_props);
    assert_memory_equal(p.u.connect.will.props.raw, will_props, sizeof will_props);
    assert_int_equal(p.u.connect.will.topic.len, 1);
}

/* 5.0 allows a password without a user name (3.1.2.9), unlike 3.1.1. */
static void password_without_user_name(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.password = (const uint8_t *)"pw";
    T.cfg.mqtt.password_len = 2;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    assert_int_equal(T.ns.out[9], 0x42); /* password 0x40 | clean start 0x02 */
    kmqtt_packet_t p;
    size_t used = 0;
    assert_int_equal(kmqtt_packet_decode(T.ns.out, T.ns.out_len, KMQTT_V5, 0, &p, &used), KMQTT_OK);
    assert_false(p.u.connect.has_username);
    assert_true(p.u.connect.has_password);
    assert_int_equal(p.u.connect.password.len, 2);
    assert_memory_equal(p.u.connect.password.ptr, "pw", 2);
}

/* What the client sets itself, or what cannot be in CONNECT, or not parsing. */
static void bad_connect_properties_are_einval(void **state)
{
    (void)state;
    static const char *bad[] = {
        "22 00 0a",                      /* Topic Alias Maximum: the client takes no aliases */
        "21 00 0a",                      /* Receive Maximum: the client's own */
        "27 00 00 10 00",                /* Maximum Packet Size: the client's own */
        "23 00 01",                      /* Topic Alias: not a CONNECT property */
        "7f 00",                         /* unknown identifier */
        "11 00 00",                      /* truncated */
        "11 00 00 00 01 11 00 00 00 02", /* twice */
        "26 00 01 6b",                   /* user property without its value */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        static uint8_t props[32];
        nt_setup(&T, KMQTT_V5);
        T.cfg.mqtt.connect_props = props;
        T.cfg.mqtt.connect_props_len = hex_decode(bad[i], props, sizeof props);
        if (nt_init(&T) != KMQTT_EINVAL)
            fail_msg("connect props %s accepted", bad[i]);
    }
    static uint8_t wp[8];
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.will_topic = "w";
    T.cfg.mqtt.will_props = wp;
    T.cfg.mqtt.will_props_len = hex_decode("11 00 00 00 01", wp, sizeof wp); /* not a will prop */
    assert_int_equal(nt_init(&T), KMQTT_EINVAL);
}

static void connack_refused_reason_and_props(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V5);
    nt_open(&T, 0);
    nt_feed(&T, "20 08 00 87 05 1f 00 02 6e 6f"); /* Not authorized, reason string "no" */
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
    assert_int_equal(e->err, KMQTT_EREFUSED);
    assert_int_equal(e->reason_code, 0x87);
    assert_int_equal(e->props_len, 5);
    assert_memory_equal(e->props, "\x1f\x00\x02no", 5);
    assert_false(T.ns.is_open);
}

/* CONNACK property values out of range (3.2.2.3: Receive Maximum 0, Maximum
 * QoS 2, Maximum Packet Size 0, Retain Available 2 are Protocol Errors), a
 * property CONNACK may not carry: the attempt fails, not connected. */
static void connack_bad_properties_fail_the_attempt(void **state)
{
    (void)state;
    static const char *bad[] = {"20 06 00 00 03 21 00 00",       "20 05 00 00 02 24 02",
                                "20 08 00 00 05 27 00 00 00 00", "20 05 00 00 02 25 02",
                                "20 06 00 00 03 23 00 01",       "20 05 00 00 02 7f 00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nt_start(&T, KMQTT_V5);
        nt_open(&T, 0);
        nt_feed(&T, bad[i]);
        nt_poll(&T, 1);
        nt_poll(&T, 2);
        if (T.seen >= T.nev || T.ev[T.seen].type != KMQTT_NANO_EV_CONNECT_FAILED ||
            T.ev[T.seen].err >= 0)
            fail_msg("CONNACK %s: no CONNECT_FAILED with an error", bad[i]);
        T.seen++;
        nt_no_event(&T);
        assert_false(T.ns.is_open);
        assert_int_not_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    }
}

static void connack_props_reach_the_connected_event(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V5);
    nt_open(&T, 0);
    nt_feed(&T, "20 0a 00 00 07 26 00 01 61 00 01 62");
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    assert_int_equal(e->props_len, 7);
    assert_memory_equal(e->props,
                        "\x26\x00\x01"
                        "a\x00\x01"
                        "b",
                        7);
}

static void publish_bytes_with_and_without_properties(void **state)
{
    (void)state;
    connected();
    kmqtt_nano_msg_t m = nt_msg("t/1", "hi", 0, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_OK);
    nt_poll(&T, 1);
    nt_expect_sent(&T, "30 08 00 03 74 2f 31 00 68 69");
    static const uint8_t expiry[] = {0x02, 0, 0, 0, 0x0a};
    m.props = expiry;
    m.props_len = sizeof expiry;
    m.qos = 1;
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 2, &id), KMQTT_OK);
    nt_poll(&T, 2);
    char want[128];
    snprintf(want, sizeof want, "32 0f 00 03 74 2f 31 %02x %02x 05 02 00 00 00 0a 68 69", id >> 8,
             id & 0xff);
    nt_expect_sent(&T, want);
    /* A Topic Alias (the client does not use them) and broken blocks. */
    static const uint8_t alias[] = {0x23, 0, 1};
    static const uint8_t broken[] = {0x02, 0, 0};
    static const uint8_t not_here[] = {0x11, 0, 0, 0, 1}; /* session expiry */
    m.props = alias;
    m.props_len = sizeof alias;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 3, NULL), KMQTT_EINVAL);
    m.props = broken;
    m.props_len = sizeof broken;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 3, NULL), KMQTT_EINVAL);
    m.props = not_here;
    m.props_len = sizeof not_here;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 3, NULL), KMQTT_EINVAL);
    nt_poll(&T, 3);
    nt_expect_nothing_sent(&T);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 1);
}

/* MQTT-3.3.4-7: no more unacknowledged QoS 1/2 PUBLISHes than the server's
 * Receive Maximum. */
static void connack_receive_maximum_bounds_inflight(void **state)
{
    (void)state;
    connected_with("20 06 00 00 03 21 00 02");
    kmqtt_nano_msg_t m = nt_msg("t/1", "x", 1, false);
    uint16_t a = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, &a), KMQTT_OK);
    m.qos = 2;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_ELIMIT);
    m.qos = 1;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_ELIMIT);
    m.qos = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_OK);
    nt_poll(&T, 1);
    nt_feed(&T, nt_ack_hex(0x40, a));
    nt_poll(&T, 2);
    nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    m.qos = 1;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 2, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 2, NULL), KMQTT_ELIMIT);
}

/* MQTT-3.3.4-7 holds for messages sent again too: three unacknowledged,
 * the connection comes back with the session and Receive Maximum 1: one
 * PUBLISH at a time, each after the previous one's PUBACK, in order. */
static void resend_obeys_the_new_receive_maximum(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.clean_session = false;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    nt_feed(&T, "20 03 00 00 00");
    nt_poll(&T, 0);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    uint16_t id[3];
    const char *pl[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        kmqtt_nano_msg_t m = nt_msg("t/1", pl[i], 1, false);
        assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, &id[i]), KMQTT_OK);
    }
    nt_poll(&T, 1);
    T.ns.recv_end = KMQTT_ECLOSED;
    nt_poll(&T, 2);
    nt_take(&T, KMQTT_NANO_EV_LOST);
    nt_poll(&T, 1002);
    nt_poll(&T, 1002);
    ns_clear_out(&T.ns);
    nt_feed(&T, "20 06 01 00 03 21 00 01");
    nt_poll(&T, 1003);
    nt_poll(&T, 1004);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    for (int i = 0; i < 3; i++) {
        char want[64];
        snprintf(want, sizeof want, "3a 09 00 03 74 2f 31 %02x %02x 00 %02x", id[i] >> 8,
                 id[i] & 0xff, (uint8_t)pl[i][0]);
        nt_expect_sent(&T, want);
        nt_feed(&T, nt_ack_hex(0x40, id[i]));
        nt_poll(&T, 1005 + (uint32_t)i);
        nt_poll(&T, 1005 + (uint32_t)i);
        assert_int_equal(nt_take(&T, KMQTT_NANO_EV_PUBLISHED)->packet_id, id[i]);
    }
    nt_expect_nothing_sent(&T);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
}

/* MQTT-3.2.2-11 (Maximum QoS), MQTT-3.2.2-14 (Retain Available 0). */
static void connack_maximum_qos_and_retain_available(void **state)
{
    (void)state;
    connected_with("20 05 00 00 02 24 00");
    kmqtt_nano_msg_t m = nt_msg("t/1", "x", 1, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_EUNSUPPORTED);
    m.qos = 2;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_EUNSUPPORTED);
    m.qos = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_OK);

    connected_with("20 07 00 00 04 24 01 25 00");
    m = nt_msg("t/1", "x", 2, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_EUNSUPPORTED);
    m.qos = 1;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_OK);
    m.retain = true;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_EUNSUPPORTED);
    m.qos = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_EUNSUPPORTED);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 1);
    nt_poll(&T, 1);
    uint8_t first = T.ns.out[0];
    assert_int_equal(first, 0x32); /* only the QoS 1 one went out */
    assert_int_equal(T.ns.out_len, 11);
}

/* MQTT-3.2.2-15: nothing larger than the server's Maximum Packet Size. */
static void connack_maximum_packet_size_is_etoobig(void **state)
{
    (void)state;
    connected_with("20 08 00 00 05 27 00 00 00 14"); /* 20 bytes */
    /* 2 + 2 + 3 + 1 + 12 = 20 */
    kmqtt_nano_msg_t m = nt_msg("t/1", "123456789012", 0, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_OK);
    m.payload_len = 13;
    m.payload = (const uint8_t *)"1234567890123";
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_ETOOBIG);
    m.qos = 1;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_ETOOBIG);
    kmqtt_nano_sub_t s = {"a/very/long/filter/name", 0};
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 1, NULL), KMQTT_ETOOBIG);
    nt_poll(&T, 1);
    nt_expect_sent(&T, "30 12 00 03 74 2f 31 00 31 32 33 34 35 36 37 38 39 30 31 32");
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
}

/* MQTT-3.2.2-21: the Server Keep Alive replaces the client's. */
static void connack_server_keep_alive_is_used(void **state)
{
    (void)state;
    connected_with("20 06 00 00 03 13 00 05");
    uint32_t next = nt_poll(&T, 0);
    assert_true(next > 0 && next <= 5000);
    nt_poll(&T, 4000);
    nt_expect_nothing_sent(&T);
    nt_poll(&T, 5000);
    nt_poll(&T, 5001);
    nt_expect_sent(&T, "c0 00");
}

static void connack_subscription_features(void **state)
{
    (void)state;
    connected_with("20 09 00 00 06 28 00 29 00 2a 00");
    kmqtt_nano_sub_t s = {"a/+", 0};
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 1, NULL), KMQTT_EUNSUPPORTED);
    s.filter = "a/#";
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 1, NULL), KMQTT_EUNSUPPORTED);
    s.filter = "$share/g/a";
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 1, NULL), KMQTT_EUNSUPPORTED);
    static const uint8_t subid[] = {0x0b, 0x01};
    s.filter = "a/b";
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, subid, sizeof subid, 1, NULL),
                     KMQTT_EUNSUPPORTED);
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 1, &id), KMQTT_OK);
    nt_poll(&T, 1);
    char want[64];
    snprintf(want, sizeof want, "82 09 %02x %02x 00 00 03 61 2f 62 00", id >> 8, id & 0xff);
    nt_expect_sent(&T, want);
}

/* 5.0 SUBSCRIBE options byte (3.8.3.1) and SUBACK / UNSUBACK reason codes. */
static void subscribe_options_and_reason_codes(void **state)
{
    (void)state;
    connected();
    kmqtt_nano_sub_t subs[2] = {{"a/+", 1 | KMQTT_NANO_NO_LOCAL | KMQTT_NANO_RETAIN_AS_PUBLISHED |
                                            KMQTT_NANO_RETAIN_HANDLING(2)},
                                {"b", 2}};
    uint16_t id = 0;
    static const uint8_t subid[] = {0x0b, 0x07};
    assert_int_equal(kmqtt_nano_subscribe(&T.c, subs, 2, subid, sizeof subid, 1, &id), KMQTT_OK);
    nt_poll(&T, 1);
    char want[96];
    snprintf(want, sizeof want, "82 0f %02x %02x 02 0b 07 00 03 61 2f 2b 2d 00 01 62 02", id >> 8,
             id & 0xff);
    nt_expect_sent(&T, want);
    snprintf(want, sizeof want, "90 05 %02x %02x 00 01 87", id >> 8, id & 0xff);
    nt_feed(&T, want);
    nt_poll(&T, 2);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_SUBACK);
    assert_int_equal(e->packet_id, id);
    assert_int_equal(e->count, 2);
    assert_memory_equal(e->codes, "\x01\x87", 2);

    const char *filters[2] = {"a/+", "b"};
    assert_int_equal(kmqtt_nano_unsubscribe(&T.c, filters, 2, 3, &id), KMQTT_OK);
    nt_poll(&T, 3);
    snprintf(want, sizeof want, "a2 0b %02x %02x 00 00 03 61 2f 2b 00 01 62", id >> 8, id & 0xff);
    nt_expect_sent(&T, want);
    snprintf(want, sizeof want, "b0 05 %02x %02x 00 00 11", id >> 8, id & 0xff);
    nt_feed(&T, want);
    nt_poll(&T, 4);
    e = nt_take(&T, KMQTT_NANO_EV_UNSUBACK);
    assert_int_equal(e->count, 2);
    assert_memory_equal(e->codes, "\x00\x11", 2);

    /* Reserved option bits, retain handling 3 (3.8.3.1). */
    kmqtt_nano_sub_t bad = {"c", 0x40};
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &bad, 1, NULL, 0, 5, NULL), KMQTT_EINVAL);
    bad.options = KMQTT_NANO_RETAIN_HANDLING(3);
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &bad, 1, NULL, 0, 5, NULL), KMQTT_EINVAL);
    /* No Local on a shared subscription is a protocol error (MQTT-3.8.3-4). */
    bad.filter = "$share/g/c";
    bad.options = KMQTT_NANO_NO_LOCAL;
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &bad, 1, NULL, 0, 5, NULL), KMQTT_EINVAL);
    nt_poll(&T, 5);
    nt_expect_nothing_sent(&T);
}

/* PUBACK reason codes and properties reach the PUBLISHED event; a PUBREC
 * of 0x80 or more ends the exchange without PUBREL (4.3.3); PUBCOMP 0x92
 * reports the message dropped. */
static void ack_reason_codes(void **state)
{
    (void)state;
    connected();
    kmqtt_nano_msg_t m = nt_msg("t/1", "x", 1, false);
    uint16_t a = 0, b = 0, c = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, &a), KMQTT_OK);
    m.qos = 2;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, &b), KMQTT_OK);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, &c), KMQTT_OK);
    nt_poll(&T, 1);
    ns_clear_out(&T.ns);
    char pkt[64];
    snprintf(pkt, sizeof pkt, "40 09 %02x %02x 10 05 1f 00 02 6f 6b", a >> 8, a & 0xff);
    nt_feed(&T, pkt);
    nt_poll(&T, 2);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    assert_int_equal(e->packet_id, a);
    assert_int_equal(e->reason_code, 0x10); /* no matching subscribers: still delivered */
    assert_int_equal(e->err, KMQTT_OK);
    assert_int_equal(e->props_len, 5);
    assert_memory_equal(e->props, "\x1f\x00\x02ok", 5);

    snprintf(pkt, sizeof pkt, "50 03 %02x %02x 87", b >> 8, b & 0xff);
    nt_feed(&T, pkt);
    nt_poll(&T, 3);
    e = nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    assert_int_equal(e->packet_id, b);
    assert_int_equal(e->reason_code, 0x87);
    nt_expect_nothing_sent(&T); /* no PUBREL */
    assert_int_equal(kmqtt_nano_inflight(&T.c), 1);

    nt_feed(&T, nt_ack_hex(0x50, c));
    nt_poll(&T, 4);
    nt_expect_sent(&T, nt_ack_hex(0x62, c));
    snprintf(pkt, sizeof pkt, "70 03 %02x %02x 92", c >> 8, c & 0xff);
    nt_feed(&T, pkt);
    nt_poll(&T, 5);
    e = nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    assert_int_equal(e->packet_id, c);
    assert_int_equal(e->reason_code, 0x92);
    assert_true(e->err < 0);
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    assert_int_equal(kmqtt_nano_store_used(&T.c), 0);
}

/* Inbound: the PUBLISH properties (user properties...) come with the
 * message; a QoS 1 PUBACK is the short form or carries success. */
static void inbound_properties_pass_through(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "32 11 00 03 74 2f 31 00 05 07 26 00 01 6b 00 01 76 68 69");
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_MESSAGE);
    assert_string_equal(e->topic, "t/1");
    assert_int_equal(e->msg_id, 5);
    assert_int_equal(e->msg_props_len, 7);
    assert_memory_equal(e->msg_props, "\x26\x00\x01k\x00\x01v", 7);
    assert_int_equal(e->payload_len, 2);
    assert_memory_equal(e->payload, "hi", 2);
    /* PUBACK: 40 02 00 05, or with an explicit success code. */
    if (T.ns.out_len == 5)
        nt_expect_sent(&T, "40 03 00 05 00");
    else
        nt_expect_sent(&T, "40 02 00 05");
}

/* Malformed property blocks: DISCONNECT 0x81 (Malformed Packet); protocol
 * errors: 0x82; then LOST. 5.0 section 4.13. */
static void malformed_properties_disconnect_0x81_or_0x82(void **state)
{
    (void)state;
    static const struct {
        const char *pkt;
        uint8_t reason;
    } cases[] = {
        {"30 09 00 03 74 2f 31 02 7f 00 78", 0x81},          /* unknown property */
        {"30 0a 00 03 74 2f 31 05 02 00 00 78", 0x81},       /* property length overruns */
        {"30 0c 00 03 74 2f 31 05 11 00 00 00 01 78", 0x81}, /* not a PUBLISH property */
        {"30 0a 00 03 74 2f 31 03 08 00 01 78", 0x81},       /* response topic past the end */
        {NULL, 0x81},                                        /* PUBACK props overrun */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        connected();
        char pkt[64];
        if (cases[i].pkt == NULL) {
            kmqtt_nano_msg_t m = nt_msg("t/1", "x", 1, false);
            uint16_t id = 0;
            assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, &id), KMQTT_OK);
            nt_poll(&T, 1);
            ns_clear_out(&T.ns);
            snprintf(pkt, sizeof pkt, "40 04 %02x %02x 00 05", id >> 8, id & 0xff);
        } else {
            snprintf(pkt, sizeof pkt, "%s", cases[i].pkt);
        }
        nt_feed(&T, pkt);
        nt_poll(&T, 2);
        nt_poll(&T, 3);
        expect_disconnect_then_lost(cases[i].reason, 0, pkt);
    }
}

/* A packet over the Maximum Packet Size we advertised (rx): DISCONNECT 0x95
 * Packet too large, LOST KMQTT_ETOOBIG (MQTT-3.1.2-24: the server must not
 * send it). */
static void inbound_over_maximum_packet_size_is_0x95(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "30 fe 01 00 03 74 2f 31 00");
    nt_poll(&T, 1);
    nt_poll(&T, 2);
    expect_disconnect_then_lost(0x95, KMQTT_ETOOBIG, "257-byte PUBLISH");
}

/* A property that may appear once, twice: "It is a Protocol Error to
 * include the Payload Format Indicator more than once" (3.3.2.3.2; the same
 * for every single-valued property): DISCONNECT 0x82, not 0x81. */
static void duplicate_property_is_protocol_error_0x82(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "30 0a 00 03 74 2f 31 04 01 00 01 00");
    nt_poll(&T, 1);
    nt_poll(&T, 2);
    expect_disconnect_then_lost(0x82, 0, "Payload Format Indicator twice");
}

/* We advertised no Topic Alias Maximum (3.1.2.11.5): an alias from the
 * server is invalid, DISCONNECT 0x94. */
static void inbound_topic_alias_is_0x94(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "30 0a 00 03 74 2f 31 03 23 00 01 78");
    nt_poll(&T, 1);
    nt_poll(&T, 2);
    expect_disconnect_then_lost(0x94, 0, "topic alias 1 with a topic");
    connected();
    nt_feed(&T, "30 07 00 00 03 23 00 01 78");
    nt_poll(&T, 1);
    nt_poll(&T, 2);
    expect_disconnect_then_lost(0x94, 0, "topic alias 1 without a topic");
}

/* More inbound QoS 2 than our Receive Maximum (a broker breach of
 * MQTT-3.3.4-9 that mosquitto 2.0 commits): tolerated, no DISCONNECT 0x93;
 * the oldest id is forgotten and counted, the new message delivered once. */
static void inbound_over_receive_maximum_is_tolerated(void **state)
{
    (void)state;
    connected();
    for (int i = 1; i <= KMQTT_NANO_INBOUND_QOS2; i++) {
        char pub[64];
        snprintf(pub, sizeof pub, "34 09 00 03 74 2f 31 00 %02x 00 61", i);
        nt_feed(&T, pub);
        nt_poll(&T, (uint32_t)i);
        nt_take(&T, KMQTT_NANO_EV_MESSAGE);
    }
    ns_clear_out(&T.ns);
    nt_feed(&T, "34 09 00 03 74 2f 31 00 63 00 61");
    nt_poll(&T, 10);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_MESSAGE);
    assert_int_equal(e->msg_id, 0x63);
    nt_expect_sent(&T, "50 02 00 63");
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    assert_int_equal(kmqtt_nano_qos2_evictions(&T.c), 1);
    /* A copy of a held id is not delivered again. */
    nt_feed(&T, "3c 09 00 03 74 2f 31 00 63 00 61");
    nt_poll(&T, 11);
    nt_expect_sent(&T, "50 02 00 63");
    nt_no_event(&T);
}

/* The server's DISCONNECT: LOST with KMQTT_EDISCONNECTED, its reason and
 * properties; the client sends nothing back (4.13). */
static void server_disconnect_is_lost_edisconnected(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "e0 07 8b 05 1f 00 02 62 79");
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_LOST);
    assert_int_equal(e->err, KMQTT_EDISCONNECTED);
    assert_int_equal(e->reason_code, 0x8b);
    assert_int_equal(e->props_len, 5);
    assert_memory_equal(e->props,
                        "\x1f\x00\x02"
                        "by",
                        5);
    nt_no_event(&T);
    nt_expect_nothing_sent(&T);
    assert_false(T.ns.is_open);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_WAITING);
    /* The short form: reason 0x00 implied. */
    connected();
    nt_feed(&T, "e0 00");
    nt_poll(&T, 1);
    e = nt_take(&T, KMQTT_NANO_EV_LOST);
    assert_int_equal(e->err, KMQTT_EDISCONNECTED);
    assert_int_equal(e->reason_code, 0);
}

static void disconnect_sends_the_reason(void **state)
{
    (void)state;
    connected();
    assert_int_equal(kmqtt_nano_disconnect(&T.c, 0x04, 100), KMQTT_OK);
    /* 0x04: disconnect with will message. The short form "e0 01 04" or with
     * an empty property block. */
    if (T.ns.out_len == 4)
        nt_expect_sent(&T, "e0 02 04 00");
    else
        nt_expect_sent(&T, "e0 01 04");
    assert_false(T.ns.is_open);
}

/* Re-authentication (4.12.1) on a connection whose CONNECT named the
 * method "m" (3.15: AUTH needs the CONNECT's Authentication Method). */
static void auth_in_and_out(void **state)
{
    (void)state;
    static const uint8_t method[] = {0x15, 0, 1, 'm'};
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.connect_props = method;
    T.cfg.mqtt.connect_props_len = sizeof method;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    ns_clear_out(&T.ns);
    nt_feed(&T, "20 07 00 00 04 15 00 01 6d");
    nt_poll(&T, 0);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    static const uint8_t props[] = {0x15, 0, 1, 'm', 0x16, 0, 1, 'd'};
    assert_int_equal(kmqtt_nano_auth(&T.c, 0x19, props, sizeof props, 1), KMQTT_OK);
    nt_poll(&T, 1);
    nt_expect_sent(&T, "f0 0a 19 08 15 00 01 6d 16 00 01 64");
    nt_feed(&T, "f0 06 18 04 15 00 01 6d");
    nt_poll(&T, 2);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_AUTH);
    assert_int_equal(e->reason_code, 0x18);
    assert_int_equal(e->props_len, 4);
    assert_memory_equal(e->props, "\x15\x00\x01m", 4);
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    /* 3.1.1 has no AUTH. */
    nt_start(&T, KMQTT_V311);
    nt_connected(&T, 0, false);
    assert_int_equal(kmqtt_nano_auth(&T.c, 0x19, props, sizeof props, 1), KMQTT_EUNSUPPORTED);
    nt_poll(&T, 1);
    nt_expect_nothing_sent(&T);
}

/* "It is a Protocol Error for the Client or Server to send an AUTH packet if
 * the CONNECT packet did not contain the same Authentication Method" (3.15):
 * the CONNECT had none, the server sends AUTH -> DISCONNECT 0x82. */
static void auth_without_a_method_is_a_protocol_error(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "f0 06 18 04 15 00 01 6d");
    nt_poll(&T, 1);
    nt_poll(&T, 2);
    expect_disconnect_then_lost(0x82, KMQTT_EPROTOCOL, "AUTH without a method in CONNECT");
    /* Before the CONNACK too. */
    nt_start(&T, KMQTT_V5);
    nt_open(&T, 0);
    ns_clear_out(&T.ns);
    nt_feed(&T, "f0 06 18 04 15 00 01 6d");
    nt_poll(&T, 1);
    nt_poll(&T, 2);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
    assert_int_equal(e->err, KMQTT_EPROTOCOL);
    assert_false(T.ns.is_open);
    /* Another method than the CONNECT's (MQTT-4.12.0-5: the same value). */
    static const uint8_t method[] = {0x15, 0, 1, 'm'};
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.connect_props = method;
    T.cfg.mqtt.connect_props_len = sizeof method;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    ns_clear_out(&T.ns);
    nt_feed(&T, "20 07 00 00 04 15 00 01 6d");
    nt_poll(&T, 0);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    nt_feed(&T, "f0 06 18 04 15 00 01 78");
    nt_poll(&T, 1);
    nt_poll(&T, 2);
    expect_disconnect_then_lost(0x82, KMQTT_EPROTOCOL, "AUTH with another method");
}

/* The CONNACK's Authentication Method must be the CONNECT's, and absent when
 * the CONNECT had none (3.2.2.3.17, MQTT-4.12.0-5): else CONNECT_FAILED
 * with KMQTT_EPROTOCOL. */
static void connack_auth_method_must_match(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V5);
    nt_open(&T, 0);
    ns_clear_out(&T.ns);
    nt_feed(&T, "20 07 00 00 04 15 00 01 6d");
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
    assert_int_equal(e->err, KMQTT_EPROTOCOL);
    assert_false(T.ns.is_open);
    static const uint8_t method[] = {0x15, 0, 1, 'm'};
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.connect_props = method;
    T.cfg.mqtt.connect_props_len = sizeof method;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    ns_clear_out(&T.ns);
    nt_feed(&T, "20 07 00 00 04 15 00 01 78");
    nt_poll(&T, 1);
    e = nt_take(&T, KMQTT_NANO_EV_CONNECT_FAILED);
    assert_int_equal(e->err, KMQTT_EPROTOCOL);
    /* None is accepted (the reconnect is due after the backoff). */
    nt_poll(&T, 5000);
    ns_clear_out(&T.ns);
    nt_feed(&T, "20 03 00 00 00");
    nt_poll(&T, 5001);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
}

/* 5.0 UNSUBACK: one reason code per filter (MQTT-3.11.3-1), matched by id
 * and kind; a mismatch is DISCONNECT 0x82. */
static void unsuback_code_count_must_match(void **state)
{
    (void)state;
    connected();
    const char *filters[2] = {"a", "b"};
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_unsubscribe(&T.c, filters, 2, 0, &id), KMQTT_OK);
    nt_poll(&T, 0);
    ns_clear_out(&T.ns);
    char ack[48];
    snprintf(ack, sizeof ack, "b0 04 %02x %02x 00 00", id >> 8, id & 0xff);
    nt_feed(&T, ack);
    nt_poll(&T, 1);
    nt_poll(&T, 2);
    expect_disconnect_then_lost(0x82, KMQTT_EPROTOCOL, "UNSUBACK with one code for two filters");
    connected();
    assert_int_equal(kmqtt_nano_unsubscribe(&T.c, filters, 2, 0, &id), KMQTT_OK);
    nt_poll(&T, 0);
    ns_clear_out(&T.ns);
    snprintf(ack, sizeof ack, "b0 05 %02x %02x 00 00 11", id >> 8, id & 0xff);
    nt_feed(&T, ack);
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_UNSUBACK);
    assert_int_equal(e->count, 2);
}

/* After a reconnect, a stored message larger than the new server's Maximum
 * Packet Size (MQTT-3.2.2-15) or above its Maximum QoS (MQTT-3.2.2-11) is not
 * sent: PUBLISHED with KMQTT_ETOOBIG / KMQTT_EUNSUPPORTED, dropped from the
 * store; the others go out in order. */
static void stored_messages_meet_the_new_servers_limits(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.clean_session = false;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_connected(&T, 0, false);
    kmqtt_nano_msg_t big = nt_msg("t/1", "0123456789012345678901234567890123456789", 1, false);
    kmqtt_nano_msg_t q2 = nt_msg("t/1", "x", 2, false);
    kmqtt_nano_msg_t q1 = nt_msg("t/1", "y", 1, false);
    uint16_t id_big, id_q2, id_q1;
    assert_int_equal(kmqtt_nano_publish(&T.c, &big, 1, &id_big), KMQTT_OK);
    assert_int_equal(kmqtt_nano_publish(&T.c, &q2, 1, &id_q2), KMQTT_OK);
    assert_int_equal(kmqtt_nano_publish(&T.c, &q1, 1, &id_q1), KMQTT_OK);
    nt_poll(&T, 1);
    T.ns.recv_end = KMQTT_ECLOSED;
    nt_poll(&T, 2);
    nt_take(&T, KMQTT_NANO_EV_LOST);
    T.ns.recv_end = 0;
    assert_int_equal(kmqtt_nano_inflight(&T.c), 3);
    nt_poll(&T, 5000);
    ns_clear_out(&T.ns);
    /* Maximum QoS 1, Maximum Packet Size 30. */
    nt_feed(&T, "20 0a 00 00 07 24 01 27 00 00 00 1e");
    nt_poll(&T, 5001);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    assert_int_equal(e->packet_id, id_big);
    assert_int_equal(e->err, KMQTT_ETOOBIG);
    e = nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    assert_int_equal(e->packet_id, id_q2);
    assert_int_equal(e->err, KMQTT_EUNSUPPORTED);
    nt_no_event(&T);
    char want[64];
    snprintf(want, sizeof want, "32 09 00 03 74 2f 31 %02x %02x 00 79", id_q1 >> 8, id_q1 & 0xff);
    nt_expect_sent(&T, want);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 1);
    nt_feed(&T, nt_ack_hex(0x40, id_q1));
    nt_poll(&T, 5002);
    e = nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    assert_int_equal(e->packet_id, id_q1);
    assert_int_equal(e->err, KMQTT_OK);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    assert_int_equal(kmqtt_nano_store_used(&T.c), 0);
}

static void hook_auth_continue(nt_t *t, const kmqtt_nano_event_t *ev)
{
    if (ev->type == KMQTT_NANO_EV_AUTH) {
        static const uint8_t more[] = {0x15, 0, 1, 'm', 0x16, 0, 2, 'r', '2'};
        assert_int_equal(kmqtt_nano_state(&t->c), KMQTT_NANO_CONNECTING);
        assert_int_equal(kmqtt_nano_auth(&t->c, 0x18, more, sizeof more, 1), KMQTT_OK);
    }
}

/* Enhanced authentication (4.12): with an Authentication Method in the
 * CONNECT the server may send AUTH 0x18 before the CONNACK; the application
 * answers from inside the AUTH event, then the CONNACK comes. */
static void enhanced_auth_before_connack(void **state)
{
    (void)state;
    static const uint8_t method[] = {0x15, 0, 1, 'm', 0x16, 0, 2, 'r', '1'};
    nt_setup(&T, KMQTT_V5);
    T.cfg.mqtt.connect_props = method;
    T.cfg.mqtt.connect_props_len = sizeof method;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    T.hook = hook_auth_continue;
    nt_open(&T, 0);
    ns_clear_out(&T.ns);
    nt_feed(&T, "f0 0b 18 09 15 00 01 6d 16 00 02 63 31");
    nt_poll(&T, 1);
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_AUTH);
    assert_int_equal(e->reason_code, 0x18);
    assert_int_equal(e->props_len, 9);
    nt_no_event(&T);
    nt_expect_sent(&T, "f0 0b 18 09 15 00 01 6d 16 00 02 72 32");
    nt_feed(&T, "20 07 00 00 04 15 00 01 6d");
    nt_poll(&T, 2);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    /* A reason AUTH may not carry from the client; another method. */
    static const uint8_t other[] = {0x15, 0, 1, 'x'};
    assert_int_equal(kmqtt_nano_auth(&T.c, 0x00, method, 4, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_auth(&T.c, 0x19, other, 4, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_auth(&T.c, 0x19, method, 4, 0), KMQTT_OK);
    /* Not connecting, not connected: no AUTH. */
    assert_int_equal(kmqtt_nano_disconnect(&T.c, 0, 10), KMQTT_OK);
    assert_int_equal(kmqtt_nano_auth(&T.c, 0x18, method, 4, 0), KMQTT_ENOTCONN);
    /* MQTT-3.1.2-30: without an Authentication Method in the CONNECT the
     * client sends no AUTH at all. */
    connected();
    assert_int_equal(kmqtt_nano_auth(&T.c, 0x19, method, 4, 0), KMQTT_ESTATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_carries_receive_maximum_and_packet_size),
        cmocka_unit_test(connect_carries_the_callers_properties),
        cmocka_unit_test(password_without_user_name),
        cmocka_unit_test(bad_connect_properties_are_einval),
        cmocka_unit_test(connack_refused_reason_and_props),
        cmocka_unit_test(connack_bad_properties_fail_the_attempt),
        cmocka_unit_test(connack_props_reach_the_connected_event),
        cmocka_unit_test(publish_bytes_with_and_without_properties),
        cmocka_unit_test(connack_receive_maximum_bounds_inflight),
        cmocka_unit_test(resend_obeys_the_new_receive_maximum),
        cmocka_unit_test(connack_maximum_qos_and_retain_available),
        cmocka_unit_test(connack_maximum_packet_size_is_etoobig),
        cmocka_unit_test(connack_server_keep_alive_is_used),
        cmocka_unit_test(connack_subscription_features),
        cmocka_unit_test(subscribe_options_and_reason_codes),
        cmocka_unit_test(ack_reason_codes),
        cmocka_unit_test(inbound_properties_pass_through),
        cmocka_unit_test(malformed_properties_disconnect_0x81_or_0x82),
        cmocka_unit_test(duplicate_property_is_protocol_error_0x82),
        cmocka_unit_test(inbound_over_maximum_packet_size_is_0x95),
        cmocka_unit_test(inbound_topic_alias_is_0x94),
        cmocka_unit_test(inbound_over_receive_maximum_is_tolerated),
        cmocka_unit_test(server_disconnect_is_lost_edisconnected),
        cmocka_unit_test(disconnect_sends_the_reason),
        cmocka_unit_test(auth_in_and_out),
        cmocka_unit_test(enhanced_auth_before_connack),
        cmocka_unit_test(auth_without_a_method_is_a_protocol_error),
        cmocka_unit_test(connack_auth_method_must_match),
        cmocka_unit_test(stored_messages_meet_the_new_servers_limits),
        cmocka_unit_test(unsuback_code_count_must_match),
    };
    return cmocka_run_group_tests_name("nano v5", tests, NULL, NULL);
}
