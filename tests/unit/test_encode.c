/*
 * The packet encoder: golden byte vectors worked out by hand from the MQTT
 * 3.1.1 and 5.0 specifications, remaining length boundaries, buffer limits,
 * and one test per rule the encoder refuses to break.
 *
 * Notation in the derivations: "rem" is the remaining length; strings are
 * written as (length) bytes; ASCII: 'a'=61 'b'=62 'c'=63 'g'=67 'h'=68
 * 'i'=69 'k'=6B 'm'=6D 'n'=6E 'o'=6F 'p'=70 'q'=71 't'=74 'u'=75 'v'=76
 * 'w'=77 'x'=78 'y'=79 'e'=65 '/'=2F '+'=2B '#'=23 '$'=24 '1'=31 '5'=35
 * 'M'=4D 'Q'=51 'T'=54 'S'=53 'C'=43 'R'=52 'A'=41.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "kmqtt/codec.h"

#define CANARY      0xA5
#define CANARY_TAIL 16

#define S(lit)     ((kmqtt_str_t){(lit), sizeof(lit) - 1})
#define B(lit)     ((kmqtt_bin_t){(const uint8_t *)(lit), sizeof(lit) - 1})
#define PROPS(arr) ((kmqtt_props_t){(arr), sizeof(arr) / sizeof((arr)[0]), NULL, 0})
#define SUBS(arr)  (arr), (sizeof(arr) / sizeof((arr)[0]))

static kmqtt_prop_t prop_num(kmqtt_prop_id_t id, uint32_t num)
{
    kmqtt_prop_t p;
    memset(&p, 0, sizeof p);
    p.id = id;
    p.num = num;
    return p;
}

static kmqtt_prop_t prop_str(kmqtt_prop_id_t id, kmqtt_str_t s)
{
    kmqtt_prop_t p;
    memset(&p, 0, sizeof p);
    p.id = id;
    p.str = s;
    return p;
}

static kmqtt_prop_t prop_bin(kmqtt_prop_id_t id, kmqtt_bin_t b)
{
    kmqtt_prop_t p;
    memset(&p, 0, sizeof p);
    p.id = id;
    p.bin = b;
    return p;
}

static kmqtt_prop_t prop_pair(kmqtt_str_t name, kmqtt_str_t value)
{
    kmqtt_prop_t p;
    memset(&p, 0, sizeof p);
    p.id = KMQTT_PROP_USER_PROPERTY;
    p.str = name;
    p.value = value;
    return p;
}

static kmqtt_packet_t packet(kmqtt_packet_type_t type)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    return p;
}

static void assert_canary(const uint8_t *buf, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (buf[i] != CANARY)
            fail_msg("byte %zu past the limit %zu was written", i, from);
    }
}

/* Encodes p and compares it with the hand-derived bytes; then checks the
 * size function agrees, every smaller buffer is refused without a byte
 * written past its end, and the decoder reads the bytes back into a packet
 * that encodes to the same bytes (what kmqtt encodes, kmqtt decodes). */
static void check_encodes(const kmqtt_packet_t *p, kmqtt_version_t v, const char *hex)
{
    uint8_t want[512];
    uint8_t buf[512 + CANARY_TAIL];
    size_t n = hex_decode(hex, want, sizeof want);
    size_t size = 0, written = 12345;

    assert_int_equal(kmqtt_packet_size(p, v, &size), KMQTT_OK);
    assert_int_equal(size, n);

    memset(buf, CANARY, sizeof buf);
    assert_int_equal(kmqtt_packet_encode(p, v, buf, n, &written), KMQTT_OK);
    assert_int_equal(written, n);
    if (memcmp(buf, want, n) != 0)
        fail_msg("encoded %s", hex_format(buf, n));
    assert_canary(buf, n, sizeof buf);

    for (size_t cap = 0; cap < n; cap++) {
        memset(buf, CANARY, sizeof buf);
        assert_int_equal(kmqtt_packet_encode(p, v, buf, cap, &written), KMQTT_ENOBUFS);
        assert_canary(buf, cap, sizeof buf);
    }

    if (p->type == KMQTT_PUBLISH) {
        assert_int_equal(kmqtt_publish_size(&p->u.publish, v, &size), KMQTT_OK);
        assert_int_equal(size, n);
        memset(buf, CANARY, sizeof buf);
        assert_int_equal(kmqtt_publish_encode(&p->u.publish, v, buf, n, &written), KMQTT_OK);
        assert_int_equal(written, n);
        assert_memory_equal(buf, want, n);
        for (size_t cap = 0; cap < n; cap++) {
            memset(buf, CANARY, sizeof buf);
            assert_int_equal(kmqtt_publish_encode(&p->u.publish, v, buf, cap, &written),
                             KMQTT_ENOBUFS);
            assert_canary(buf, cap, sizeof buf);
        }
    }

    /* Decoded packets hold views (raw properties, raw filters); encoding
     * them again must give the same bytes. */
    kmqtt_packet_t back;
    size_t consumed = 0;
    kmqtt_err_t err = kmqtt_packet_decode(want, n, v, 0, &back, &consumed);
    if (err != KMQTT_OK)
        fail_msg("the decoder refuses the encoder's bytes: %s", kmqtt_strerror(err));
    assert_int_equal(consumed, n);
    memset(buf, CANARY, sizeof buf);
    assert_int_equal(kmqtt_packet_encode(&back, v, buf, sizeof buf, &written), KMQTT_OK);
    assert_int_equal(written, n);
    if (memcmp(buf, want, n) != 0)
        fail_msg("re-encoded %s", hex_format(buf, n));
}

/* Both entry points refuse p with err and write nothing. */
static void check_rejects(const kmqtt_packet_t *p, kmqtt_version_t v, kmqtt_err_t err)
{
    uint8_t buf[256];
    size_t size = 777, written = 777;

    assert_int_equal(kmqtt_packet_size(p, v, &size), err);
    memset(buf, CANARY, sizeof buf);
    assert_int_equal(kmqtt_packet_encode(p, v, buf, sizeof buf, &written), err);
    assert_canary(buf, 0, sizeof buf);
    assert_int_equal(written, 0);
    if (p->type == KMQTT_PUBLISH) {
        assert_int_equal(kmqtt_publish_size(&p->u.publish, v, &size), err);
        assert_int_equal(kmqtt_publish_encode(&p->u.publish, v, buf, sizeof buf, &written), err);
        assert_canary(buf, 0, sizeof buf);
    }
}

/* ================================================================ CONNECT */

static kmqtt_packet_t connect_minimal(void)
{
    kmqtt_packet_t p = packet(KMQTT_CONNECT);
    p.u.connect.clean_start = true;
    p.u.connect.keepalive = 60;
    p.u.connect.client_id = S("kmqtt");
    return p;
}

/* 3.1.1 3.1: 10 | rem | 00 04 "MQTT" | level 04 | flags 02 (clean session)
 * | keep alive 00 3C (60) | client id 00 05 "kmqtt" (6B 6D 71 74 74).
 * rem = 6 + 1 + 1 + 2 + 7 = 17 = 0x11. */
static void test_connect_v311_minimal_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = connect_minimal();
    check_encodes(&p, KMQTT_V311, "10 11 00 04 4D 51 54 54 04 02 00 3C 00 05 6B 6D 71 74 74");
}

/* flags: username 80 | password 40 | will retain 20 | will QoS 1 (08) |
 * will 04 | clean 02 = EE. keep alive 30 = 00 1E.
 * payload: client id 00 02 "c1" (4) | will topic 00 03 "w/t" (5) |
 * will message 00 03 "bye" (5) | username 00 01 "u" (3) | password 00 02
 * "pw" (4) = 21; rem = 10 + 21 = 31 = 0x1F. */
static void test_connect_v311_with_will_username_password_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_CONNECT);
    kmqtt_connect_t *c = &p.u.connect;
    c->clean_start = true;
    c->keepalive = 30;
    c->client_id = S("c1");
    c->has_will = true;
    c->will.topic = S("w/t");
    c->will.payload = B("bye");
    c->will.qos = 1;
    c->will.retain = true;
    c->has_username = true;
    c->username = S("u");
    c->has_password = true;
    c->password = B("pw");
    check_encodes(&p, KMQTT_V311,
                  "10 1F 00 04 4D 51 54 54 04 EE 00 1E"
                  "00 02 63 31 00 03 77 2F 74 00 03 62 79 65 00 01 75 00 02 70 77");
}

/* 5.0 3.1.2.11: properties Session Expiry Interval 11 00 00 0E 10 (3600)
 * and Receive Maximum 21 00 14 (20): block 5 + 3 = 8.
 * Will properties (3.1.3.2): Will Delay Interval 18 00 00 00 0A (10) and
 * Payload Format Indicator 01 01: block 5 + 2 = 7.
 * flags: will 04 | clean 02 = 06; keep alive 00 3C.
 * variable header: 00 04 "MQTT" 05 06 00 3C | 08 <8 bytes> = 19.
 * payload: 00 02 "v5" (4) | 07 <7 bytes> (8) | 00 03 "a/b" (5) |
 * 00 01 "x" (3) = 20; rem = 39 = 0x27. */
static void test_connect_v5_with_properties_and_will_properties_golden(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_num(KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 3600),
                            prop_num(KMQTT_PROP_RECEIVE_MAXIMUM, 20)};
    kmqtt_prop_t will_props[] = {prop_num(KMQTT_PROP_WILL_DELAY_INTERVAL, 10),
                                 prop_num(KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1)};
    kmqtt_packet_t p = packet(KMQTT_CONNECT);
    kmqtt_connect_t *c = &p.u.connect;
    c->clean_start = true;
    c->keepalive = 60;
    c->client_id = S("v5");
    c->props = PROPS(props);
    c->has_will = true;
    c->will.topic = S("a/b");
    c->will.payload = B("x");
    c->will.props = PROPS(will_props);
    check_encodes(&p, KMQTT_V5,
                  "10 27 00 04 4D 51 54 54 05 06 00 3C"
                  "08 11 00 00 0E 10 21 00 14"
                  "00 02 76 35"
                  "07 18 00 00 00 0A 01 01"
                  "00 03 61 2F 62 00 01 78");
}

/* 5.0 3.1.2.9 dropped MQTT-3.1.2-22: a password alone is allowed.
 * flags 40, keep alive 00 00, property length 00, client id 00 01 "a",
 * password 00 01 "p"; rem = 10 + 1 + 3 + 3 = 17 = 0x11. */
static void test_connect_v5_password_without_username_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_CONNECT);
    p.u.connect.client_id = S("a");
    p.u.connect.has_password = true;
    p.u.connect.password = B("p");
    check_encodes(&p, KMQTT_V5, "10 11 00 04 4D 51 54 54 05 40 00 00 00 00 01 61 00 01 70");
}

/* ================================================================ CONNACK */

/* 3.1.1 3.2: 20 02 | acknowledge flags 01 (session present) | return 00. */
static void test_connack_v311_session_present_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_CONNACK);
    p.u.connack.session_present = true;
    check_encodes(&p, KMQTT_V311, "20 02 01 00");
}

/* Return code 5 (not authorized), session present 0 (MQTT-3.2.2-4). */
static void test_connack_v311_refused_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_CONNACK);
    p.u.connack.reason_code = 5;
    check_encodes(&p, KMQTT_V311, "20 02 00 05");
}

/* 5.0 3.2: flags 00, reason 00, properties: Receive Maximum 21 00 0A,
 * Topic Alias Maximum 22 00 05, Assigned Client Identifier 12 00 02 "id"
 * = 3 + 3 + 5 = 11 = 0x0B; rem = 2 + 1 + 11 = 14 = 0x0E. */
static void test_connack_v5_with_properties_golden(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_num(KMQTT_PROP_RECEIVE_MAXIMUM, 10),
                            prop_num(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 5),
                            prop_str(KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, S("id"))};
    kmqtt_packet_t p = packet(KMQTT_CONNACK);
    p.u.connack.props = PROPS(props);
    check_encodes(&p, KMQTT_V5, "20 0E 00 00 0B 21 00 0A 22 00 05 12 00 02 69 64");
}

/* 5.0 without properties still carries the property length 00. */
static void test_connack_v5_without_properties_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_CONNACK);
    p.u.connack.reason_code = 0x87; /* Not authorized */
    check_encodes(&p, KMQTT_V5, "20 03 00 87 00");
}

/* ================================================================ PUBLISH */

static kmqtt_packet_t publish_ab(uint8_t qos, uint16_t id, bool dup, bool retain)
{
    kmqtt_packet_t p = packet(KMQTT_PUBLISH);
    p.u.publish.topic = S("a/b");
    p.u.publish.payload = B("hi");
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.dup = dup;
    p.u.publish.retain = retain;
    return p;
}

/* 3.3.1: first byte 0011 DUP QoS(2) RETAIN. Topic 00 03 "a/b" (5),
 * payload "hi" (68 69). QoS 0: rem = 5 + 2 = 7, byte 30; with retain 31. */
static void test_publish_qos0_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(0, 0, false, false);
    check_encodes(&p, KMQTT_V311, "30 07 00 03 61 2F 62 68 69");
    p = publish_ab(0, 0, false, true);
    check_encodes(&p, KMQTT_V311, "31 07 00 03 61 2F 62 68 69");
}

/* QoS 1 (bits 2-1 = 01 -> 32), packet id 00 0A; rem = 5 + 2 + 2 = 9.
 * DUP + QoS 1 + RETAIN = 0011 1011 = 3B. */
static void test_publish_qos1_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(1, 10, false, false);
    check_encodes(&p, KMQTT_V311, "32 09 00 03 61 2F 62 00 0A 68 69");
    p = publish_ab(1, 10, true, true);
    check_encodes(&p, KMQTT_V311, "3B 09 00 03 61 2F 62 00 0A 68 69");
}

/* QoS 2 (bits 2-1 = 10 -> 34), DUP adds 08 -> 3C; packet id 12 34. */
static void test_publish_qos2_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(2, 0x1234, false, false);
    check_encodes(&p, KMQTT_V311, "34 09 00 03 61 2F 62 12 34 68 69");
    p = publish_ab(2, 0x1234, true, false);
    check_encodes(&p, KMQTT_V311, "3C 09 00 03 61 2F 62 12 34 68 69");
}

/* 5.0 QoS 0 without properties: the property length 00 is still there;
 * rem = 5 + 1 + 2 = 8. */
static void test_publish_v5_without_properties_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(0, 0, false, false);
    check_encodes(&p, KMQTT_V5, "30 08 00 03 61 2F 62 00 68 69");
}

/* 5.0 3.3.2.3: Payload Format Indicator 01 01 (2), Message Expiry
 * Interval 02 00 00 00 3C (5), Content Type 03 00 01 "t" (4), User
 * Property 26 00 01 "k" 00 01 "v" (7): block 18 = 0x12.
 * QoS 1 id 00 01; rem = 5 + 2 + 1 + 18 + 2 = 28 = 0x1C. */
static void test_publish_v5_with_properties_golden(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_num(KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1),
                            prop_num(KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 60),
                            prop_str(KMQTT_PROP_CONTENT_TYPE, S("t")), prop_pair(S("k"), S("v"))};
    kmqtt_packet_t p = publish_ab(1, 1, false, false);
    p.u.publish.props = PROPS(props);
    check_encodes(&p, KMQTT_V5,
                  "32 1C 00 03 61 2F 62 00 01 12"
                  "01 01 02 00 00 00 3C 03 00 01 74 26 00 01 6B 00 01 76 68 69");
}

/* 5.0 3.3.2.3.4: an empty topic (00 00) with Topic Alias 23 00 07;
 * rem = 2 + 1 + 3 + 2 = 8. */
static void test_publish_v5_topic_alias_with_empty_topic_golden(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_num(KMQTT_PROP_TOPIC_ALIAS, 7)};
    kmqtt_packet_t p = publish_ab(0, 0, false, false);
    p.u.publish.topic = S("");
    p.u.publish.props = PROPS(props);
    check_encodes(&p, KMQTT_V5, "30 08 00 00 03 23 00 07 68 69");
}

/* An empty payload is a valid message (3.3.3): rem = 5. */
static void test_publish_empty_payload_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(0, 0, false, false);
    p.u.publish.payload.ptr = NULL;
    p.u.publish.payload.len = 0;
    check_encodes(&p, KMQTT_V311, "30 05 00 03 61 2F 62");
}

/* ============================================ PUBACK PUBREC PUBREL PUBCOMP */

static kmqtt_packet_t ack(kmqtt_packet_type_t type, uint16_t id, uint8_t reason)
{
    kmqtt_packet_t p = packet(type);
    p.u.ack.packet_id = id;
    p.u.ack.reason_code = reason;
    return p;
}

/* 3.1.1 3.4-3.7: type byte | 02 | packet id 00 0A. PUBREL has flags 0010
 * (MQTT-3.6.1-1) so 62; the others 40, 50, 70. */
static void test_acks_v311_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = ack(KMQTT_PUBACK, 10, 0);
    check_encodes(&p, KMQTT_V311, "40 02 00 0A");
    p = ack(KMQTT_PUBREC, 10, 0);
    check_encodes(&p, KMQTT_V311, "50 02 00 0A");
    p = ack(KMQTT_PUBREL, 10, 0);
    check_encodes(&p, KMQTT_V311, "62 02 00 0A");
    p = ack(KMQTT_PUBCOMP, 10, 0);
    check_encodes(&p, KMQTT_V311, "70 02 00 0A");
}

/* 5.0 3.4.2.1: reason 00 and no properties -> both left out, rem 2. */
static void test_acks_v5_short_form_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = ack(KMQTT_PUBACK, 10, 0);
    check_encodes(&p, KMQTT_V5, "40 02 00 0A");
    p = ack(KMQTT_PUBREC, 10, 0);
    check_encodes(&p, KMQTT_V5, "50 02 00 0A");
    p = ack(KMQTT_PUBREL, 10, 0);
    check_encodes(&p, KMQTT_V5, "62 02 00 0A");
    p = ack(KMQTT_PUBCOMP, 10, 0);
    check_encodes(&p, KMQTT_V5, "70 02 00 0A");
}

/* 5.0 3.4.2.2.1: a reason but no properties -> no property length, rem 3.
 * PUBACK 10 (No matching subscribers), PUBREC 80 (Unspecified error),
 * PUBREL and PUBCOMP 92 (Packet Identifier not found). */
static void test_acks_v5_reason_only_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = ack(KMQTT_PUBACK, 10, 0x10);
    check_encodes(&p, KMQTT_V5, "40 03 00 0A 10");
    p = ack(KMQTT_PUBREC, 10, 0x80);
    check_encodes(&p, KMQTT_V5, "50 03 00 0A 80");
    p = ack(KMQTT_PUBREL, 10, 0x92);
    check_encodes(&p, KMQTT_V5, "62 03 00 0A 92");
    p = ack(KMQTT_PUBCOMP, 10, 0x92);
    check_encodes(&p, KMQTT_V5, "70 03 00 0A 92");
}

/* Full form: id 00 0A, reason, property length 05, Reason String
 * 1F 00 02 "ok"; rem = 2 + 1 + 1 + 5 = 9. Reason 00 still written: with
 * properties it cannot be left out. */
static void test_acks_v5_full_form_golden(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_str(KMQTT_PROP_REASON_STRING, S("ok"))};
    kmqtt_packet_t p = ack(KMQTT_PUBACK, 10, 0);
    p.u.ack.props = PROPS(props);
    check_encodes(&p, KMQTT_V5, "40 09 00 0A 00 05 1F 00 02 6F 6B");
    p = ack(KMQTT_PUBREC, 10, 0x10);
    p.u.ack.props = PROPS(props);
    check_encodes(&p, KMQTT_V5, "50 09 00 0A 10 05 1F 00 02 6F 6B");
    p = ack(KMQTT_PUBREL, 10, 0);
    p.u.ack.props = PROPS(props);
    check_encodes(&p, KMQTT_V5, "62 09 00 0A 00 05 1F 00 02 6F 6B");
    p = ack(KMQTT_PUBCOMP, 10, 0x92);
    p.u.ack.props = PROPS(props);
    check_encodes(&p, KMQTT_V5, "70 09 00 0A 92 05 1F 00 02 6F 6B");
}

/* ============================================================= SUBSCRIBE */

/* 3.1.1 3.8: 82 (flags 0010, MQTT-3.8.1-1) | rem | id 00 01 |
 * 00 03 "a/+" 01 (6) | 00 03 "b/#" 02 (6) | 00 01 "c" 00 (4);
 * rem = 2 + 16 = 18 = 0x12. */
static void test_subscribe_v311_several_filters_golden(void **state)
{
    (void)state;
    kmqtt_subscription_t subs[3];
    memset(subs, 0, sizeof subs);
    subs[0].filter = S("a/+");
    subs[0].qos = 1;
    subs[1].filter = S("b/#");
    subs[1].qos = 2;
    subs[2].filter = S("c");
    kmqtt_packet_t p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.items = subs;
    p.u.subscribe.count = 3;
    check_encodes(&p, KMQTT_V311, "82 12 00 01 00 03 61 2F 2B 01 00 03 62 2F 23 02 00 01 63 00");
}

/* 5.0 3.8.2.1.2: Subscription Identifier 300 as a varint: 300 = 0x12C,
 * low 7 bits 2C | 80 = AC, then 300 >> 7 = 02 -> 0B AC 02, block 3.
 * 3.8.3.1 options: bits 0-1 QoS, 2 No Local, 3 Retain As Published,
 * 4-5 Retain Handling.
 *  "a/+"  QoS 1 + No Local            = 05   -> 00 03 61 2F 2B 05 (6)
 *  "b"    QoS 2 + RAP 08 + RH 2 (20)  = 2A   -> 00 01 62 2A (4)
 *  "$share/g/c" QoS 0 + RH 1 (10)     = 10   -> 00 0A <10 bytes> 10 (13)
 * rem = 2 + 1 + 3 + 6 + 4 + 13 = 29 = 0x1D. */
static void test_subscribe_v5_options_and_subscription_identifier_golden(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_num(KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, 300)};
    kmqtt_subscription_t subs[3];
    memset(subs, 0, sizeof subs);
    subs[0].filter = S("a/+");
    subs[0].qos = 1;
    subs[0].no_local = true;
    subs[1].filter = S("b");
    subs[1].qos = 2;
    subs[1].retain_as_published = true;
    subs[1].retain_handling = 2;
    subs[2].filter = S("$share/g/c");
    subs[2].retain_handling = 1;
    kmqtt_packet_t p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 2;
    p.u.subscribe.props = PROPS(props);
    p.u.subscribe.items = subs;
    p.u.subscribe.count = 3;
    check_encodes(&p, KMQTT_V5,
                  "82 1D 00 02 03 0B AC 02"
                  "00 03 61 2F 2B 05 00 01 62 2A"
                  "00 0A 24 73 68 61 72 65 2F 67 2F 63 10");
}

/* A decoded SUBSCRIBE carries its filters as a raw view; encoding it
 * again walks that view: same bytes as the 3.1.1 vector above. */
static void test_subscribe_from_raw_filters_golden(void **state)
{
    (void)state;
    uint8_t raw[16];
    size_t n = hex_decode("00 03 61 2F 2B 01 00 03 62 2F 23 02 00 01 63 00", raw, sizeof raw);
    kmqtt_packet_t p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.raw = raw;
    p.u.subscribe.raw_len = n;
    p.u.subscribe.count = 3;
    check_encodes(&p, KMQTT_V311, "82 12 00 01 00 03 61 2F 2B 01 00 03 62 2F 23 02 00 01 63 00");
}

/* =============================================================== SUBACK */

/* 3.1.1 3.9: 90 | rem 05 | id 00 01 | granted 01, 02, failure 80. */
static void test_suback_v311_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_SUBACK);
    p.u.suback.packet_id = 1;
    p.u.suback.reason_codes = B("\x01\x02\x80");
    check_encodes(&p, KMQTT_V311, "90 05 00 01 01 02 80");
}

/* 5.0 3.9: id 00 02 | property length 05, Reason String 1F 00 02 "no" |
 * codes 00 01 02 87 (Not authorized); rem = 2 + 1 + 5 + 4 = 12 = 0x0C. */
static void test_suback_v5_golden(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_str(KMQTT_PROP_REASON_STRING, S("no"))};
    kmqtt_packet_t p = packet(KMQTT_SUBACK);
    p.u.suback.packet_id = 2;
    p.u.suback.props = PROPS(props);
    p.u.suback.reason_codes = B("\x00\x01\x02\x87");
    check_encodes(&p, KMQTT_V5, "90 0C 00 02 05 1F 00 02 6E 6F 00 01 02 87");
}

/* ========================================================== UNSUBSCRIBE */

/* 3.1.1 3.10: A2 (flags 0010, MQTT-3.10.1-1) | rem | id 00 03 |
 * 00 03 "a/+" (5) | 00 01 "b" (3): rem = 10 = 0x0A. 5.0 adds the property
 * length 00: rem 11. */
static void test_unsubscribe_golden(void **state)
{
    (void)state;
    kmqtt_subscription_t subs[2];
    memset(subs, 0, sizeof subs);
    subs[0].filter = S("a/+");
    subs[1].filter = S("b");
    kmqtt_packet_t p = packet(KMQTT_UNSUBSCRIBE);
    p.u.subscribe.packet_id = 3;
    p.u.subscribe.items = subs;
    p.u.subscribe.count = 2;
    check_encodes(&p, KMQTT_V311, "A2 0A 00 03 00 03 61 2F 2B 00 01 62");
    check_encodes(&p, KMQTT_V5, "A2 0B 00 03 00 00 03 61 2F 2B 00 01 62");
}

/* 3.1.1 3.11: B0 02 00 03, no payload. 5.0 3.11: id 00 03 | property
 * length 00 | codes 00, 11 (No subscription existed): rem 5. */
static void test_unsuback_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_UNSUBACK);
    p.u.suback.packet_id = 3;
    check_encodes(&p, KMQTT_V311, "B0 02 00 03");
    p.u.suback.reason_codes = B("\x00\x11");
    check_encodes(&p, KMQTT_V5, "B0 05 00 03 00 00 11");
}

/* ================================================= PING, DISCONNECT, AUTH */

/* 3.12, 3.13: C0 00 and D0 00 in both versions. */
static void test_ping_golden(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_PINGREQ);
    check_encodes(&p, KMQTT_V311, "C0 00");
    check_encodes(&p, KMQTT_V5, "C0 00");
    p = packet(KMQTT_PINGRESP);
    check_encodes(&p, KMQTT_V311, "D0 00");
    check_encodes(&p, KMQTT_V5, "D0 00");
}

/* 3.1.1 3.14: E0 00. 5.0 3.14.2.1: reason 00 and no properties -> rem 0;
 * reason 04 (Disconnect with Will) alone -> rem 1 (3.14.2.2.1: property
 * length may be left out); with Session Expiry Interval 11 00 00 00 00
 * (block 5): 04 05 <5 bytes>, rem 7. */
static void test_disconnect_golden(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_num(KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 0)};
    kmqtt_packet_t p = packet(KMQTT_DISCONNECT);
    check_encodes(&p, KMQTT_V311, "E0 00");
    check_encodes(&p, KMQTT_V5, "E0 00");
    p.u.disconnect.reason_code = 0x04;
    check_encodes(&p, KMQTT_V5, "E0 01 04");
    p.u.disconnect.props = PROPS(props);
    check_encodes(&p, KMQTT_V5, "E0 07 04 05 11 00 00 00 00");
}

/* 5.0 3.15: F0 00 for success without properties. Continue
 * authentication (18) with Authentication Method 15 00 05 "SCRAM" (8) and
 * Authentication Data 16 00 02 01 02 (5): block 13 = 0x0D, rem = 1 + 1 +
 * 13 = 15 = 0x0F. Re-authenticate (19) alone keeps the property length
 * 00 (AUTH has no rule letting it go): rem 2. */
static void test_auth_v5_golden(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_str(KMQTT_PROP_AUTHENTICATION_METHOD, S("SCRAM")),
                            prop_bin(KMQTT_PROP_AUTHENTICATION_DATA, B("\x01\x02"))};
    kmqtt_packet_t p = packet(KMQTT_AUTH);
    check_encodes(&p, KMQTT_V5, "F0 00");
    p.u.disconnect.reason_code = 0x18;
    p.u.disconnect.props = PROPS(props);
    check_encodes(&p, KMQTT_V5, "F0 0F 18 0D 15 00 05 53 43 52 41 4D 16 00 02 01 02");
    p.u.disconnect.reason_code = 0x19;
    memset(&p.u.disconnect.props, 0, sizeof p.u.disconnect.props);
    check_encodes(&p, KMQTT_V5, "F0 02 19 00");
}

/* ============================================== remaining length limits */

/* A 3.1.1 QoS 0 PUBLISH to "t" (00 01 74, 3 bytes) with an n-byte payload
 * has rem = 3 + n. MQTT 1.5.5: 7 bits per byte, low group first, bit 7
 * set when more follow. */
static void check_remaining_length(size_t rem, const char *header_hex)
{
    uint8_t header[5];
    size_t hlen = hex_decode(header_hex, header, sizeof header);
    size_t n = rem - 3;
    uint8_t *payload = malloc(n);
    size_t total = hlen + rem;
    uint8_t *buf = malloc(total + CANARY_TAIL);
    size_t size = 0, written = 0;

    assert_non_null(payload);
    assert_non_null(buf);
    memset(payload, 'z', n);
    payload[n - 1] = 'Q';
    kmqtt_publish_t pub;
    memset(&pub, 0, sizeof pub);
    pub.topic = S("t");
    pub.payload.ptr = payload;
    pub.payload.len = n;

    assert_int_equal(kmqtt_publish_size(&pub, KMQTT_V311, &size), KMQTT_OK);
    assert_int_equal(size, total);
    memset(buf, CANARY, total + CANARY_TAIL);
    assert_int_equal(kmqtt_publish_encode(&pub, KMQTT_V311, buf, total, &written), KMQTT_OK);
    assert_int_equal(written, total);
    assert_memory_equal(buf, header, hlen);
    assert_int_equal(buf[hlen], 0x00);
    assert_int_equal(buf[hlen + 1], 0x01);
    assert_int_equal(buf[hlen + 2], 't');
    assert_int_equal(buf[total - 1], 'Q');
    assert_canary(buf, total, total + CANARY_TAIL);

    /* One byte short, and a cap that cuts the length field itself. */
    size_t caps[] = {total - 1, hlen - 1, 1, 0};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        memset(buf, CANARY, total + CANARY_TAIL);
        assert_int_equal(kmqtt_publish_encode(&pub, KMQTT_V311, buf, caps[i], &written),
                         KMQTT_ENOBUFS);
        assert_canary(buf, caps[i], total + CANARY_TAIL);
    }
    free(buf);
    free(payload);
}

/* 127 = 7F fits one byte; 128 = 80 01 (0 with continuation, then 1). */
static void test_remaining_length_127_and_128(void **state)
{
    (void)state;
    check_remaining_length(127, "30 7F");
    check_remaining_length(128, "30 80 01");
}

/* 16383 = 0x3FFF = FF 7F; 16384 = 0x4000 = 80 80 01. */
static void test_remaining_length_16383_and_16384(void **state)
{
    (void)state;
    check_remaining_length(16383, "30 FF 7F");
    check_remaining_length(16384, "30 80 80 01");
}

/* 2097151 = 0x1FFFFF = FF FF 7F; 2097152 = 0x200000 = 80 80 80 01. */
static void test_remaining_length_2097151_and_2097152(void **state)
{
    (void)state;
    check_remaining_length(2097151, "30 FF FF 7F");
    check_remaining_length(2097152, "30 80 80 80 01");
}

/* MQTT 1.5.5: 268,435,455 is the largest remaining length (FF FF FF 7F).
 * The size pass never reads the payload, so a dummy pointer will do. */
static void test_remaining_length_maximum_is_sized_and_one_more_is_too_big(void **state)
{
    (void)state;
    static const uint8_t dummy[1];
    kmqtt_publish_t pub;
    size_t size = 0;
    memset(&pub, 0, sizeof pub);
    pub.topic = S("t");
    pub.payload.ptr = dummy;
    pub.payload.len = KMQTT_VARINT_MAX - 3;
    assert_int_equal(kmqtt_publish_size(&pub, KMQTT_V311, &size), KMQTT_OK);
    assert_int_equal(size, (size_t)KMQTT_PACKET_MAX);

    pub.payload.len = KMQTT_VARINT_MAX - 2;
    assert_int_equal(kmqtt_publish_size(&pub, KMQTT_V311, &size), KMQTT_ETOOBIG);
    pub.payload.len = (size_t)-1; /* must not wrap around to something small */
    assert_int_equal(kmqtt_publish_size(&pub, KMQTT_V311, &size), KMQTT_ETOOBIG);
}

/* ================================================================ refusals */

static char big[KMQTT_STRING_MAX + 1];

static kmqtt_str_t big_str(void)
{
    memset(big, 'a', sizeof big);
    return (kmqtt_str_t){big, sizeof big};
}

/* MQTT-3.3.1-4: QoS 3 does not exist. */
static void test_publish_qos3_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(3, 1, false, false);
    check_rejects(&p, KMQTT_V311, KMQTT_EQOS);
    check_rejects(&p, KMQTT_V5, KMQTT_EQOS);
}

/* MQTT-3.3.1-2: DUP must be 0 on a QoS 0 PUBLISH. */
static void test_publish_dup_on_qos0_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(0, 0, true, false);
    check_rejects(&p, KMQTT_V311, KMQTT_EDUP);
}

/* MQTT-2.3.1-1: every packet that needs a packet identifier needs a
 * non-zero one. */
static void test_packet_id_zero_is_rejected_where_required(void **state)
{
    (void)state;
    kmqtt_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.filter = S("a");

    kmqtt_packet_t p = publish_ab(1, 0, false, false);
    check_rejects(&p, KMQTT_V311, KMQTT_EPACKET_ID);
    p = publish_ab(2, 0, false, false);
    check_rejects(&p, KMQTT_V5, KMQTT_EPACKET_ID);

    const kmqtt_packet_type_t acks[] = {KMQTT_PUBACK, KMQTT_PUBREC, KMQTT_PUBREL, KMQTT_PUBCOMP};
    for (size_t i = 0; i < 4; i++) {
        p = ack(acks[i], 0, 0);
        check_rejects(&p, KMQTT_V311, KMQTT_EPACKET_ID);
        check_rejects(&p, KMQTT_V5, KMQTT_EPACKET_ID);
    }

    p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.items = &sub;
    p.u.subscribe.count = 1;
    check_rejects(&p, KMQTT_V311, KMQTT_EPACKET_ID);
    p.type = KMQTT_UNSUBSCRIBE;
    check_rejects(&p, KMQTT_V311, KMQTT_EPACKET_ID);

    p = packet(KMQTT_SUBACK);
    p.u.suback.reason_codes = B("\x00");
    check_rejects(&p, KMQTT_V311, KMQTT_EPACKET_ID);
    p.type = KMQTT_UNSUBACK;
    check_rejects(&p, KMQTT_V5, KMQTT_EPACKET_ID);
}

/* MQTT-3.3.2-2: no wildcard in a topic name. */
static void test_publish_topic_with_wildcard_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(0, 0, false, false);
    p.u.publish.topic = S("a/+");
    check_rejects(&p, KMQTT_V311, KMQTT_ETOPIC_NAME);
    p.u.publish.topic = S("a/#");
    check_rejects(&p, KMQTT_V5, KMQTT_ETOPIC_NAME);
}

/* MQTT-4.7.3-1: a topic name is at least one character; 5.0 waives that
 * only when a Topic Alias stands in for it. */
static void test_publish_empty_topic_without_topic_alias_is_rejected(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_num(KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 5)};
    kmqtt_packet_t p = publish_ab(0, 0, false, false);
    p.u.publish.topic = S("");
    check_rejects(&p, KMQTT_V311, KMQTT_ETOPIC_NAME);
    check_rejects(&p, KMQTT_V5, KMQTT_ETOPIC_NAME);
    p.u.publish.props = PROPS(props);
    check_rejects(&p, KMQTT_V5, KMQTT_ETOPIC_NAME);
}

/* MQTT 1.5.4: UTF-8 strings and binary data carry a 16-bit length. */
static void test_strings_longer_than_65535_bytes_are_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(0, 0, false, false);
    p.u.publish.topic = big_str();
    check_rejects(&p, KMQTT_V311, KMQTT_ESTRING_TOO_LONG);

    p = connect_minimal();
    p.u.connect.client_id = big_str();
    check_rejects(&p, KMQTT_V311, KMQTT_ESTRING_TOO_LONG);

    p = connect_minimal();
    p.u.connect.has_username = true;
    p.u.connect.username = S("u");
    p.u.connect.has_password = true;
    p.u.connect.password.ptr = (const uint8_t *)big;
    p.u.connect.password.len = sizeof big;
    check_rejects(&p, KMQTT_V311, KMQTT_ESTRING_TOO_LONG);

    p = connect_minimal();
    p.u.connect.has_will = true;
    p.u.connect.will.topic = S("w");
    p.u.connect.will.payload.ptr = (const uint8_t *)big;
    p.u.connect.will.payload.len = sizeof big;
    check_rejects(&p, KMQTT_V5, KMQTT_ESTRING_TOO_LONG);

    kmqtt_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.filter = big_str();
    p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.items = &sub;
    p.u.subscribe.count = 1;
    check_rejects(&p, KMQTT_V311, KMQTT_ESTRING_TOO_LONG);

    /* Exactly 65535 is still fine. */
    p = connect_minimal();
    p.u.connect.client_id.ptr = big;
    p.u.connect.client_id.len = KMQTT_STRING_MAX;
    size_t size = 0;
    assert_int_equal(kmqtt_packet_size(&p, KMQTT_V311, &size), KMQTT_OK);
    assert_int_equal(size, 1 + 3 + 10 + 2 + KMQTT_STRING_MAX);
}

/* MQTT-1.5.3-1 (ill-formed UTF-8) and MQTT-1.5.3-2 (U+0000). */
static void test_invalid_utf8_strings_are_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = connect_minimal();
    p.u.connect.client_id = S("\xC0\x80"); /* overlong NUL */
    check_rejects(&p, KMQTT_V311, KMQTT_EUTF8);
    p.u.connect.client_id = S("a\0b");
    check_rejects(&p, KMQTT_V311, KMQTT_EUTF8_NUL);

    p = connect_minimal();
    p.u.connect.has_username = true;
    p.u.connect.username = S("\xED\xA0\x80"); /* surrogate U+D800 */
    check_rejects(&p, KMQTT_V5, KMQTT_EUTF8);

    p = publish_ab(0, 0, false, false);
    p.u.publish.topic = S("a/\xFF");
    check_rejects(&p, KMQTT_V311, KMQTT_EUTF8);
}

/* MQTT-3.1.2-13, MQTT-3.1.2-15 (5.0: -11, -13): without a will there is
 * no will QoS and no will retain. */
static void test_connect_will_qos_or_retain_without_will_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = connect_minimal();
    p.u.connect.will.qos = 1;
    check_rejects(&p, KMQTT_V311, KMQTT_ECONNECT_FLAGS);
    p = connect_minimal();
    p.u.connect.will.retain = true;
    check_rejects(&p, KMQTT_V5, KMQTT_ECONNECT_FLAGS);
}

/* MQTT-3.1.2-14 (5.0: MQTT-3.1.2-12): will QoS 3 does not exist. */
static void test_connect_will_qos3_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = connect_minimal();
    p.u.connect.has_will = true;
    p.u.connect.will.topic = S("w");
    p.u.connect.will.qos = 3;
    check_rejects(&p, KMQTT_V311, KMQTT_EQOS);
    check_rejects(&p, KMQTT_V5, KMQTT_EQOS);
}

/* MQTT-3.1.2-22: in 3.1.1 a password needs a user name. */
static void test_connect_v311_password_without_username_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = connect_minimal();
    p.u.connect.has_password = true;
    p.u.connect.password = B("pw");
    check_rejects(&p, KMQTT_V311, KMQTT_ECONNECT_FLAGS);
}

/* MQTT-3.1.3-11: the will topic is a topic name, so no wildcards and not
 * empty. */
static void test_connect_will_topic_must_be_a_topic_name(void **state)
{
    (void)state;
    kmqtt_packet_t p = connect_minimal();
    p.u.connect.has_will = true;
    p.u.connect.will.topic = S("a/#");
    check_rejects(&p, KMQTT_V311, KMQTT_ETOPIC_NAME);
    p.u.connect.will.topic = S("");
    check_rejects(&p, KMQTT_V5, KMQTT_ETOPIC_NAME);
}

/* MQTT-3.1.2-2: only levels 4 and 5 exist here. */
static void test_connect_unknown_version_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = connect_minimal();
    check_rejects(&p, (kmqtt_version_t)3, KMQTT_EPROTOCOL_VERSION);
    check_rejects(&p, (kmqtt_version_t)6, KMQTT_EPROTOCOL_VERSION);
    p = packet(KMQTT_PINGREQ);
    check_rejects(&p, (kmqtt_version_t)3, KMQTT_EINVAL);
}

/* 3.1.1 3.2.2.3 return codes 0..5; 5.0 3.2.2.2 reason codes. */
static void test_connack_invalid_return_code_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_CONNACK);
    p.u.connack.reason_code = 6;
    check_rejects(&p, KMQTT_V311, KMQTT_EREASON_CODE);
    p.u.connack.reason_code = 0x01;
    check_rejects(&p, KMQTT_V5, KMQTT_EREASON_CODE);
}

/* MQTT-3.2.2-4 (5.0: MQTT-3.2.2-6): a refused connection has no session. */
static void test_connack_session_present_with_error_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_CONNACK);
    p.u.connack.session_present = true;
    p.u.connack.reason_code = 5;
    check_rejects(&p, KMQTT_V311, KMQTT_EACK_FLAGS);
    p.u.connack.reason_code = 0x87;
    check_rejects(&p, KMQTT_V5, KMQTT_EACK_FLAGS);
}

/* 3.1.1 3.4-3.7: an acknowledgement is the packet identifier only. */
static void test_ack_v311_reason_or_properties_is_rejected(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_str(KMQTT_PROP_REASON_STRING, S("ok"))};
    kmqtt_packet_t p = ack(KMQTT_PUBACK, 1, 0x10);
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);
    p = ack(KMQTT_PUBCOMP, 1, 0);
    p.u.ack.props = PROPS(props);
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);
}

/* 5.0 3.6.2.1: PUBREL knows only 00 and 92; 3.4.2.1: PUBACK has no 92. */
static void test_ack_v5_reason_not_valid_for_the_type_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = ack(KMQTT_PUBREL, 1, 0x10);
    check_rejects(&p, KMQTT_V5, KMQTT_EREASON_CODE);
    p = ack(KMQTT_PUBACK, 1, 0x92);
    check_rejects(&p, KMQTT_V5, KMQTT_EREASON_CODE);
}

/* MQTT-3.8.3-3 (5.0: MQTT-3.8.3-2), MQTT-3.10.3-2: at least one filter. */
static void test_subscribe_and_unsubscribe_without_filters_are_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    check_rejects(&p, KMQTT_V311, KMQTT_ENO_TOPICS);
    check_rejects(&p, KMQTT_V5, KMQTT_ENO_TOPICS);
    p.type = KMQTT_UNSUBSCRIBE;
    check_rejects(&p, KMQTT_V311, KMQTT_ENO_TOPICS);
    check_rejects(&p, KMQTT_V5, KMQTT_ENO_TOPICS);
}

/* MQTT-4.7.1-2 ('#' last), MQTT-4.7.1-3 ('+' a whole level),
 * MQTT-4.7.3-1 (not empty). */
static void test_subscribe_invalid_filter_is_rejected(void **state)
{
    (void)state;
    kmqtt_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    kmqtt_packet_t p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.items = &sub;
    p.u.subscribe.count = 1;
    sub.filter = S("a/#/b");
    check_rejects(&p, KMQTT_V311, KMQTT_ETOPIC_FILTER);
    sub.filter = S("a+");
    check_rejects(&p, KMQTT_V5, KMQTT_ETOPIC_FILTER);
    sub.filter = S("");
    p.type = KMQTT_UNSUBSCRIBE;
    check_rejects(&p, KMQTT_V311, KMQTT_ETOPIC_FILTER);
}

/* MQTT-3.8.3-4 (3.1.1): QoS 3 in a subscription is malformed. */
static void test_subscribe_qos3_is_rejected(void **state)
{
    (void)state;
    kmqtt_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.filter = S("a");
    sub.qos = 3;
    kmqtt_packet_t p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.items = &sub;
    p.u.subscribe.count = 1;
    check_rejects(&p, KMQTT_V311, KMQTT_EQOS);
    check_rejects(&p, KMQTT_V5, KMQTT_EQOS);
}

/* MQTT-3.8.3-4 (3.1.1): bits 2-7 of the requested QoS byte are reserved,
 * so 5.0's options cannot be sent to a 3.1.1 server. */
static void test_subscribe_v311_with_v5_options_is_rejected(void **state)
{
    (void)state;
    kmqtt_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.filter = S("a");
    kmqtt_packet_t p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.items = &sub;
    p.u.subscribe.count = 1;
    sub.no_local = true;
    check_rejects(&p, KMQTT_V311, KMQTT_ESUB_OPTIONS);
    sub.no_local = false;
    sub.retain_as_published = true;
    check_rejects(&p, KMQTT_V311, KMQTT_ESUB_OPTIONS);
    sub.retain_as_published = false;
    sub.retain_handling = 1;
    check_rejects(&p, KMQTT_V311, KMQTT_ESUB_OPTIONS);
}

/* 5.0 3.8.3.1: Retain Handling 3 is a protocol error. */
static void test_subscribe_v5_retain_handling_3_is_rejected(void **state)
{
    (void)state;
    kmqtt_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.filter = S("a");
    sub.retain_handling = 3;
    kmqtt_packet_t p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.items = &sub;
    p.u.subscribe.count = 1;
    check_rejects(&p, KMQTT_V5, KMQTT_ESUB_OPTIONS);
}

/* MQTT-3.8.3-4 (5.0): No Local on a shared subscription. */
static void test_subscribe_v5_no_local_on_shared_subscription_is_rejected(void **state)
{
    (void)state;
    kmqtt_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.filter = S("$share/g/a");
    sub.no_local = true;
    kmqtt_packet_t p = packet(KMQTT_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.items = &sub;
    p.u.subscribe.count = 1;
    check_rejects(&p, KMQTT_V5, KMQTT_ESUB_OPTIONS);
}

/* MQTT-3.9.3-2 (3.1.1): return codes other than 00, 01, 02, 80 are
 * reserved; 5.0 3.9.3 has its own list. A SUBACK answers at least one
 * filter, so it carries at least one code. */
static void test_suback_invalid_or_missing_codes_are_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_SUBACK);
    p.u.suback.packet_id = 1;
    p.u.suback.reason_codes = B("\x00\x03");
    check_rejects(&p, KMQTT_V311, KMQTT_EREASON_CODE);
    p.u.suback.reason_codes = B("\x11");
    check_rejects(&p, KMQTT_V5, KMQTT_EREASON_CODE);
    p.u.suback.reason_codes = B("");
    check_rejects(&p, KMQTT_V311, KMQTT_ENO_TOPICS);
    check_rejects(&p, KMQTT_V5, KMQTT_ENO_TOPICS);
}

/* 3.1.1 3.11.3: UNSUBACK has no payload; 5.0 3.11.3: one code per filter
 * from its own list. */
static void test_unsuback_codes_are_checked_per_version(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_UNSUBACK);
    p.u.suback.packet_id = 1;
    p.u.suback.reason_codes = B("\x00");
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);
    p.u.suback.reason_codes = B("");
    check_rejects(&p, KMQTT_V5, KMQTT_ENO_TOPICS);
    p.u.suback.reason_codes = B("\x02"); /* a SUBACK code, not an UNSUBACK one */
    check_rejects(&p, KMQTT_V5, KMQTT_EREASON_CODE);
}

/* 3.1.1 3.14: DISCONNECT has no variable header; 5.0 3.14.2.1 list. */
static void test_disconnect_invalid_reason_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_DISCONNECT);
    p.u.disconnect.reason_code = 0x04;
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);
    p.u.disconnect.reason_code = 0x01;
    check_rejects(&p, KMQTT_V5, KMQTT_EREASON_CODE);
}

/* AUTH is packet type 15, reserved in 3.1.1 (3.1.1 2.2.1). */
static void test_auth_in_v311_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_AUTH);
    check_rejects(&p, KMQTT_V311, KMQTT_EPACKET_TYPE);
    p.u.disconnect.reason_code = 0x01;
    check_rejects(&p, KMQTT_V5, KMQTT_EREASON_CODE);
}

/* Types 0 and 16+ do not exist. */
static void test_unknown_packet_type_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet((kmqtt_packet_type_t)0);
    check_rejects(&p, KMQTT_V5, KMQTT_EPACKET_TYPE);
    p.type = (kmqtt_packet_type_t)16;
    check_rejects(&p, KMQTT_V311, KMQTT_EPACKET_TYPE);
}

/* 5.0 2.2.2.2: each property belongs to certain packets; the will
 * properties have their own list (3.1.3.2). */
static void test_property_not_allowed_where_it_is_put_is_rejected(void **state)
{
    (void)state;
    kmqtt_prop_t alias[] = {prop_num(KMQTT_PROP_TOPIC_ALIAS, 1)};
    kmqtt_prop_t session[] = {prop_num(KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 1)};
    kmqtt_prop_t delay[] = {prop_num(KMQTT_PROP_WILL_DELAY_INTERVAL, 1)};

    kmqtt_packet_t p = connect_minimal();
    p.u.connect.props = PROPS(alias);
    check_rejects(&p, KMQTT_V5, KMQTT_EPROP_NOT_ALLOWED);
    p.u.connect.props = PROPS(delay); /* a will property, not a CONNECT one */
    check_rejects(&p, KMQTT_V5, KMQTT_EPROP_NOT_ALLOWED);

    p = connect_minimal();
    p.u.connect.has_will = true;
    p.u.connect.will.topic = S("w");
    p.u.connect.will.props = PROPS(session);
    check_rejects(&p, KMQTT_V5, KMQTT_EPROP_NOT_ALLOWED);

    p = ack(KMQTT_PUBACK, 1, 0);
    p.u.ack.props = PROPS(session);
    check_rejects(&p, KMQTT_V5, KMQTT_EPROP_NOT_ALLOWED);
}

/* 3.1.1 has no properties at all: passing some is a caller error rather
 * than something to drop silently. */
static void test_properties_in_v311_are_rejected(void **state)
{
    (void)state;
    kmqtt_prop_t props[] = {prop_num(KMQTT_PROP_TOPIC_ALIAS, 1)};
    kmqtt_prop_t session[] = {prop_num(KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 1)};
    kmqtt_prop_t delay[] = {prop_num(KMQTT_PROP_WILL_DELAY_INTERVAL, 1)};

    kmqtt_packet_t p = publish_ab(0, 0, false, false);
    p.u.publish.props = PROPS(props);
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);

    p = connect_minimal();
    p.u.connect.props = PROPS(session);
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);
    p = connect_minimal();
    p.u.connect.has_will = true;
    p.u.connect.will.topic = S("w");
    p.u.connect.will.props = PROPS(delay);
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);

    p = packet(KMQTT_CONNACK);
    p.u.connack.props = PROPS(session);
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);
    p = packet(KMQTT_DISCONNECT);
    p.u.disconnect.props = PROPS(session);
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);
}

static void test_null_arguments_are_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = packet(KMQTT_PINGREQ);
    kmqtt_publish_t pub = publish_ab(0, 0, false, false).u.publish;
    uint8_t buf[16];
    size_t n;

    assert_int_equal(kmqtt_packet_size(NULL, KMQTT_V5, &n), KMQTT_EINVAL);
    assert_int_equal(kmqtt_packet_size(&p, KMQTT_V5, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_packet_encode(NULL, KMQTT_V5, buf, sizeof buf, &n), KMQTT_EINVAL);
    assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V5, NULL, sizeof buf, &n), KMQTT_EINVAL);
    assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V5, buf, sizeof buf, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_size(NULL, KMQTT_V5, &n), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_size(&pub, KMQTT_V5, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_encode(NULL, KMQTT_V5, buf, sizeof buf, &n), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_encode(&pub, KMQTT_V5, NULL, sizeof buf, &n), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_encode(&pub, KMQTT_V5, buf, sizeof buf, NULL), KMQTT_EINVAL);
}

/* A view with a length but no bytes cannot be encoded. */
static void test_null_view_with_length_is_rejected(void **state)
{
    (void)state;
    kmqtt_packet_t p = publish_ab(0, 0, false, false);
    p.u.publish.payload.ptr = NULL;
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);

    p = connect_minimal();
    p.u.connect.has_username = true;
    p.u.connect.username = S("u");
    p.u.connect.has_password = true;
    p.u.connect.password.ptr = NULL;
    p.u.connect.password.len = 2;
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);

    p = packet(KMQTT_SUBACK);
    p.u.suback.packet_id = 1;
    p.u.suback.reason_codes.len = 1;
    check_rejects(&p, KMQTT_V311, KMQTT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_v311_minimal_golden),
        cmocka_unit_test(test_connect_v311_with_will_username_password_golden),
        cmocka_unit_test(test_connect_v5_with_properties_and_will_properties_golden),
        cmocka_unit_test(test_connect_v5_password_without_username_golden),
        cmocka_unit_test(test_connack_v311_session_present_golden),
        cmocka_unit_test(test_connack_v311_refused_golden),
        cmocka_unit_test(test_connack_v5_with_properties_golden),
        cmocka_unit_test(test_connack_v5_without_properties_golden),
        cmocka_unit_test(test_publish_qos0_golden),
        cmocka_unit_test(test_publish_qos1_golden),
        cmocka_unit_test(test_publish_qos2_golden),
        cmocka_unit_test(test_publish_v5_without_properties_golden),
        cmocka_unit_test(test_publish_v5_with_properties_golden),
        cmocka_unit_test(test_publish_v5_topic_alias_with_empty_topic_golden),
        cmocka_unit_test(test_publish_empty_payload_golden),
        cmocka_unit_test(test_acks_v311_golden),
        cmocka_unit_test(test_acks_v5_short_form_golden),
        cmocka_unit_test(test_acks_v5_reason_only_golden),
        cmocka_unit_test(test_acks_v5_full_form_golden),
        cmocka_unit_test(test_subscribe_v311_several_filters_golden),
        cmocka_unit_test(test_subscribe_v5_options_and_subscription_identifier_golden),
        cmocka_unit_test(test_subscribe_from_raw_filters_golden),
        cmocka_unit_test(test_suback_v311_golden),
        cmocka_unit_test(test_suback_v5_golden),
        cmocka_unit_test(test_unsubscribe_golden),
        cmocka_unit_test(test_unsuback_golden),
        cmocka_unit_test(test_ping_golden),
        cmocka_unit_test(test_disconnect_golden),
        cmocka_unit_test(test_auth_v5_golden),
        cmocka_unit_test(test_remaining_length_127_and_128),
        cmocka_unit_test(test_remaining_length_16383_and_16384),
        cmocka_unit_test(test_remaining_length_2097151_and_2097152),
        cmocka_unit_test(test_remaining_length_maximum_is_sized_and_one_more_is_too_big),
        cmocka_unit_test(test_publish_qos3_is_rejected),
        cmocka_unit_test(test_publish_dup_on_qos0_is_rejected),
        cmocka_unit_test(test_packet_id_zero_is_rejected_where_required),
        cmocka_unit_test(test_publish_topic_with_wildcard_is_rejected),
        cmocka_unit_test(test_publish_empty_topic_without_topic_alias_is_rejected),
        cmocka_unit_test(test_strings_longer_than_65535_bytes_are_rejected),
        cmocka_unit_test(test_invalid_utf8_strings_are_rejected),
        cmocka_unit_test(test_connect_will_qos_or_retain_without_will_is_rejected),
        cmocka_unit_test(test_connect_will_qos3_is_rejected),
        cmocka_unit_test(test_connect_v311_password_without_username_is_rejected),
        cmocka_unit_test(test_connect_will_topic_must_be_a_topic_name),
        cmocka_unit_test(test_connect_unknown_version_is_rejected),
        cmocka_unit_test(test_connack_invalid_return_code_is_rejected),
        cmocka_unit_test(test_connack_session_present_with_error_is_rejected),
        cmocka_unit_test(test_ack_v311_reason_or_properties_is_rejected),
        cmocka_unit_test(test_ack_v5_reason_not_valid_for_the_type_is_rejected),
        cmocka_unit_test(test_subscribe_and_unsubscribe_without_filters_are_rejected),
        cmocka_unit_test(test_subscribe_invalid_filter_is_rejected),
        cmocka_unit_test(test_subscribe_qos3_is_rejected),
        cmocka_unit_test(test_subscribe_v311_with_v5_options_is_rejected),
        cmocka_unit_test(test_subscribe_v5_retain_handling_3_is_rejected),
        cmocka_unit_test(test_subscribe_v5_no_local_on_shared_subscription_is_rejected),
        cmocka_unit_test(test_suback_invalid_or_missing_codes_are_rejected),
        cmocka_unit_test(test_unsuback_codes_are_checked_per_version),
        cmocka_unit_test(test_disconnect_invalid_reason_is_rejected),
        cmocka_unit_test(test_auth_in_v311_is_rejected),
        cmocka_unit_test(test_unknown_packet_type_is_rejected),
        cmocka_unit_test(test_property_not_allowed_where_it_is_put_is_rejected),
        cmocka_unit_test(test_properties_in_v311_are_rejected),
        cmocka_unit_test(test_null_arguments_are_rejected),
        cmocka_unit_test(test_null_view_with_length_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
