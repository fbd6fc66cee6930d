/*
 * kmqtt_packet_decode on golden vectors worked out by hand from the MQTT
 * 3.1.1 and 5.0 specifications: every decoded field, and every view must
 * point into the caller's buffer (nothing is copied).
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

/* Each packet is copied into a heap block of exactly its size, so that a
 * read past the end is caught by AddressSanitizer. */
static uint8_t *g_buf;
static size_t g_len;

static void load(const char *hex)
{
    uint8_t tmp[1024];
    size_t n = hex_decode(hex, tmp, sizeof tmp);
    free(g_buf);
    g_buf = malloc(n > 0 ? n : 1);
    assert_non_null(g_buf);
    memcpy(g_buf, tmp, n);
    g_len = n;
}

static kmqtt_err_t decode(const char *hex, kmqtt_version_t v, kmqtt_packet_t *p)
{
    size_t consumed = 12345;
    load(hex);
    kmqtt_err_t err = kmqtt_packet_decode(g_buf, g_len, v, 0, p, &consumed);
    assert_int_equal(consumed, err == KMQTT_OK ? g_len : 0);
    return err;
}

static void assert_view_(const void *ptr, size_t len, const char *expect, size_t expect_len)
{
    const uint8_t *p = ptr;
    assert_int_equal(len, expect_len);
    if (len == 0)
        return;
    assert_non_null(p);
    assert_true(p >= g_buf && p + len <= g_buf + g_len);
    assert_memory_equal(p, expect, len);
}

/* A view equal to a string literal and lying inside the input buffer. */
#define assert_view(view, lit) assert_view_((view).ptr, (view).len, lit, sizeof(lit) - 1)

static void assert_no_props(const kmqtt_props_t *props)
{
    assert_null(props->items);
    assert_int_equal(props->count, 0);
    assert_int_equal(props->raw_len, 0);
}

/* --------------------------------------------------------------- CONNECT */

static void test_connect_311_with_will_user_and_password(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    /* Flags 0xEE: username, password, will retain, will QoS 1, will,
     * clean session. Decoded with v = 5 to show CONNECT uses its own
     * protocol level. */
    assert_int_equal(decode("10 20 00 04 4d 51 54 54 04 ee 00 3c"
                            " 00 03 61 62 63 00 03 77 2f 74 00 03 62 79 65"
                            " 00 01 75 00 02 70 77",
                            KMQTT_V5, &p),
                     KMQTT_OK);
    assert_int_equal(p.type, KMQTT_CONNECT);
    const kmqtt_connect_t *c = &p.u.connect;
    assert_int_equal(c->version, KMQTT_V311);
    assert_true(c->clean_start);
    assert_int_equal(c->keepalive, 60);
    assert_view(c->client_id, "abc");
    assert_ptr_equal(c->client_id.ptr, (const char *)g_buf + 14);
    assert_true(c->has_will);
    assert_int_equal(c->will.qos, 1);
    assert_true(c->will.retain);
    assert_view(c->will.topic, "w/t");
    assert_view(c->will.payload, "bye");
    assert_no_props(&c->will.props);
    assert_true(c->has_username);
    assert_view(c->username, "u");
    assert_true(c->has_password);
    assert_view(c->password, "pw");
    assert_ptr_equal(c->password.ptr, g_buf + g_len - 2);
    assert_no_props(&c->props);
}

static void test_connect_311_minimal_has_no_optional_fields(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    /* Empty client id, clean session off, keepalive 0. */
    assert_int_equal(decode("10 0c 00 04 4d 51 54 54 04 00 00 00 00 00", KMQTT_V311, &p), KMQTT_OK);
    const kmqtt_connect_t *c = &p.u.connect;
    assert_false(c->clean_start);
    assert_int_equal(c->keepalive, 0);
    assert_int_equal(c->client_id.len, 0);
    assert_false(c->has_will);
    assert_false(c->has_username);
    assert_false(c->has_password);
}

static void test_connect_v5_with_properties_and_will_properties(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    kmqtt_prop_t prop;
    /* Flags 0x86: username, will (QoS 0), clean start. Properties:
     * Session Expiry 120, Receive Maximum 20. Will properties: Will Delay 5,
     * Content Type "text". Decoded with v = 3.1.1 on purpose. */
    assert_int_equal(decode("10 31 00 04 4d 51 54 54 05 86 00 0a"
                            " 08 11 00 00 00 78 21 00 14"
                            " 00 03 63 69 64"
                            " 0c 18 00 00 00 05 03 00 04 74 65 78 74"
                            " 00 03 61 2f 62 00 02 68 69 00 01 75",
                            KMQTT_V311, &p),
                     KMQTT_OK);
    const kmqtt_connect_t *c = &p.u.connect;
    assert_int_equal(c->version, KMQTT_V5);
    assert_true(c->clean_start);
    assert_int_equal(c->keepalive, 10);

    assert_ptr_equal(c->props.raw, g_buf + 13);
    assert_int_equal(c->props.raw_len, 8);
    assert_null(c->props.items);
    assert_true(kmqtt_props_find(&c->props, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, &prop));
    assert_int_equal(prop.num, 120);
    assert_true(kmqtt_props_find(&c->props, KMQTT_PROP_RECEIVE_MAXIMUM, &prop));
    assert_int_equal(prop.num, 20);

    assert_view(c->client_id, "cid");
    assert_true(c->has_will);
    assert_int_equal(c->will.qos, 0);
    assert_false(c->will.retain);
    assert_ptr_equal(c->will.props.raw, g_buf + 27);
    assert_int_equal(c->will.props.raw_len, 12);
    assert_true(kmqtt_props_find(&c->will.props, KMQTT_PROP_WILL_DELAY_INTERVAL, &prop));
    assert_int_equal(prop.num, 5);
    assert_true(kmqtt_props_find(&c->will.props, KMQTT_PROP_CONTENT_TYPE, &prop));
    assert_view(prop.str, "text");
    assert_view(c->will.topic, "a/b");
    assert_view(c->will.payload, "hi");
    assert_true(c->has_username);
    assert_view(c->username, "u");
    assert_false(c->has_password);
}

static void test_connect_v5_password_without_username_is_allowed(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    /* MQTT 5.0 dropped MQTT-3.1.2-22. */
    assert_int_equal(decode("10 10 00 04 4d 51 54 54 05 42 00 3c 00 00 00 00 01 70", KMQTT_V5, &p),
                     KMQTT_OK);
    assert_false(p.u.connect.has_username);
    assert_true(p.u.connect.has_password);
    assert_view(p.u.connect.password, "p");
}

/* --------------------------------------------------------------- CONNACK */

static void test_connack_311_session_present_accepted(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    assert_int_equal(decode("20 02 01 00", KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_CONNACK);
    assert_true(p.u.connack.session_present);
    assert_int_equal(p.u.connack.reason_code, 0);
    assert_no_props(&p.u.connack.props);
}

static void test_connack_311_refused_return_code(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    /* 5 = not authorized */
    assert_int_equal(decode("20 02 00 05", KMQTT_V311, &p), KMQTT_OK);
    assert_false(p.u.connack.session_present);
    assert_int_equal(p.u.connack.reason_code, 5);
}

static void test_connack_v5_with_several_properties(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    kmqtt_prop_t prop;
    kmqtt_prop_iter_t it;
    /* Receive Maximum 10, Maximum QoS 1, Topic Alias Maximum 5,
     * User Property ("k", "v"). */
    assert_int_equal(
        decode("20 12 00 00 0f 21 00 0a 24 01 22 00 05 26 00 01 6b 00 01 76", KMQTT_V5, &p),
        KMQTT_OK);
    const kmqtt_connack_t *c = &p.u.connack;
    assert_false(c->session_present);
    assert_int_equal(c->reason_code, 0);
    assert_ptr_equal(c->props.raw, g_buf + 5);
    assert_int_equal(c->props.raw_len, 15);

    kmqtt_prop_iter_init(&it, &c->props);
    assert_true(kmqtt_prop_iter_next(&it, &prop));
    assert_int_equal(prop.id, KMQTT_PROP_RECEIVE_MAXIMUM);
    assert_int_equal(prop.num, 10);
    assert_true(kmqtt_prop_iter_next(&it, &prop));
    assert_int_equal(prop.id, KMQTT_PROP_MAXIMUM_QOS);
    assert_int_equal(prop.num, 1);
    assert_true(kmqtt_prop_iter_next(&it, &prop));
    assert_int_equal(prop.id, KMQTT_PROP_TOPIC_ALIAS_MAXIMUM);
    assert_int_equal(prop.num, 5);
    assert_true(kmqtt_prop_iter_next(&it, &prop));
    assert_int_equal(prop.id, KMQTT_PROP_USER_PROPERTY);
    assert_view(prop.str, "k");
    assert_view(prop.value, "v");
    assert_false(kmqtt_prop_iter_next(&it, &prop));
}

static void test_connack_v5_refused_with_empty_properties(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    /* 0x87 Not authorized */
    assert_int_equal(decode("20 03 00 87 00", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.connack.reason_code, 0x87);
    assert_int_equal(p.u.connack.props.raw_len, 0);
}

/* --------------------------------------------------------------- PUBLISH */

static void test_publish_qos0(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    assert_int_equal(decode("30 07 00 03 61 2f 62 68 69", KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_PUBLISH);
    const kmqtt_publish_t *m = &p.u.publish;
    assert_int_equal(m->qos, 0);
    assert_false(m->retain);
    assert_false(m->dup);
    assert_int_equal(m->packet_id, 0);
    assert_view(m->topic, "a/b");
    assert_ptr_equal(m->topic.ptr, (const char *)g_buf + 4);
    assert_view(m->payload, "hi");
    assert_ptr_equal(m->payload.ptr, g_buf + 7);
}

static void test_publish_qos1_retain(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    assert_int_equal(decode("33 09 00 03 61 2f 62 00 0a 68 69", KMQTT_V311, &p), KMQTT_OK);
    const kmqtt_publish_t *m = &p.u.publish;
    assert_int_equal(m->qos, 1);
    assert_true(m->retain);
    assert_false(m->dup);
    assert_int_equal(m->packet_id, 10);
    assert_view(m->topic, "a/b");
    assert_view(m->payload, "hi");
    assert_ptr_equal(m->payload.ptr, g_buf + 9);
}

static void test_publish_qos2_dup(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    assert_int_equal(decode("3c 09 00 03 61 2f 62 12 34 68 69", KMQTT_V311, &p), KMQTT_OK);
    const kmqtt_publish_t *m = &p.u.publish;
    assert_int_equal(m->qos, 2);
    assert_false(m->retain);
    assert_true(m->dup);
    assert_int_equal(m->packet_id, 0x1234);
    assert_view(m->payload, "hi");
}

static void test_publish_empty_payload(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    assert_int_equal(decode("30 05 00 03 61 2f 62", KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.u.publish.payload.len, 0);
    /* v5: the property length is there, the payload is not. */
    assert_int_equal(decode("30 06 00 03 61 2f 62 00", KMQTT_V5, &p), KMQTT_OK);
    assert_view(p.u.publish.topic, "a/b");
    assert_int_equal(p.u.publish.payload.len, 0);
}

static void test_publish_v5_qos1_with_properties(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    kmqtt_prop_t prop;
    /* Topic Alias 7, Payload Format Indicator 1. */
    assert_int_equal(decode("32 0f 00 03 61 2f 62 00 01 05 23 00 07 01 01 68 69", KMQTT_V5, &p),
                     KMQTT_OK);
    const kmqtt_publish_t *m = &p.u.publish;
    assert_int_equal(m->qos, 1);
    assert_int_equal(m->packet_id, 1);
    assert_view(m->topic, "a/b");
    assert_ptr_equal(m->props.raw, g_buf + 10);
    assert_int_equal(m->props.raw_len, 5);
    assert_true(kmqtt_props_find(&m->props, KMQTT_PROP_TOPIC_ALIAS, &prop));
    assert_int_equal(prop.num, 7);
    assert_true(kmqtt_props_find(&m->props, KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, &prop));
    assert_int_equal(prop.num, 1);
    assert_view(m->payload, "hi");
    assert_ptr_equal(m->payload.ptr, g_buf + 15);
}

static void test_publish_v5_empty_topic_with_topic_alias(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    /* MQTT 5.0 3.3.2.3.4: an empty topic refers to an alias set earlier. */
    assert_int_equal(decode("30 07 00 00 03 23 00 07 78", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.publish.topic.len, 0);
    assert_view(p.u.publish.payload, "x");
}

/* ------------------------------------------- PUBACK PUBREC PUBREL PUBCOMP */

static void test_acks_311(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    static const struct {
        const char *hex;
        kmqtt_packet_type_t type;
    } cases[] = {
        {"40 02 00 05", KMQTT_PUBACK},
        {"50 02 00 05", KMQTT_PUBREC},
        {"62 02 00 05", KMQTT_PUBREL},
        {"70 02 00 05", KMQTT_PUBCOMP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(decode(cases[i].hex, KMQTT_V311, &p), KMQTT_OK);
        assert_int_equal(p.type, cases[i].type);
        assert_int_equal(p.u.ack.packet_id, 5);
        assert_int_equal(p.u.ack.reason_code, 0);
        assert_no_props(&p.u.ack.props);
    }
}

static void test_ack_v5_short_forms(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    /* MQTT 5.0 3.4.2.1: length 2 means reason 0x00 and no properties. */
    assert_int_equal(decode("40 02 00 05", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.ack.packet_id, 5);
    assert_int_equal(p.u.ack.reason_code, 0);
    /* length 3: reason code, no properties (0x10 No matching subscribers) */
    assert_int_equal(decode("40 03 00 05 10", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.ack.reason_code, 0x10);
    assert_int_equal(p.u.ack.props.raw_len, 0);
    /* length 4: reason code and an empty property block */
    assert_int_equal(decode("50 04 00 05 10 00", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_PUBREC);
    assert_int_equal(p.u.ack.reason_code, 0x10);
    /* PUBREL 0x92 Packet Identifier not found */
    assert_int_equal(decode("62 03 00 05 92", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.ack.reason_code, 0x92);
}

static void test_ack_v5_with_reason_string(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    kmqtt_prop_t prop;
    assert_int_equal(decode("40 0a 00 05 80 06 1f 00 03 62 61 64", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.ack.reason_code, 0x80);
    assert_ptr_equal(p.u.ack.props.raw, g_buf + 6);
    assert_int_equal(p.u.ack.props.raw_len, 6);
    assert_true(kmqtt_props_find(&p.u.ack.props, KMQTT_PROP_REASON_STRING, &prop));
    assert_view(prop.str, "bad");
}

/* ------------------------------------------------------------- SUBSCRIBE */

static void test_subscribe_311_two_filters(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    kmqtt_sub_iter_t it;
    kmqtt_subscription_t s;
    assert_int_equal(decode("82 0e 00 01 00 03 61 2f 62 01 00 03 63 2f 23 02", KMQTT_V311, &p),
                     KMQTT_OK);
    assert_int_equal(p.type, KMQTT_SUBSCRIBE);
    const kmqtt_subscribe_t *sub = &p.u.subscribe;
    assert_int_equal(sub->packet_id, 1);
    assert_int_equal(sub->count, 2);
    assert_null(sub->items);
    assert_ptr_equal(sub->raw, g_buf + 4);
    assert_int_equal(sub->raw_len, 12);
    assert_no_props(&sub->props);

    kmqtt_sub_iter_init(&it, sub, true);
    assert_true(kmqtt_sub_iter_next(&it, &s));
    assert_view(s.filter, "a/b");
    assert_int_equal(s.qos, 1);
    assert_true(kmqtt_sub_iter_next(&it, &s));
    assert_view(s.filter, "c/#");
    assert_int_equal(s.qos, 2);
    assert_false(kmqtt_sub_iter_next(&it, &s));
}

static void test_subscribe_v5_options_and_subscription_id(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    kmqtt_prop_t prop;
    kmqtt_sub_iter_t it;
    kmqtt_subscription_t s;
    /* Subscription Identifier 5; options 0x2d = QoS 1, No Local,
     * Retain As Published, Retain Handling 2. */
    assert_int_equal(decode("82 0b 00 02 02 0b 05 00 03 78 2f 2b 2d", KMQTT_V5, &p), KMQTT_OK);
    const kmqtt_subscribe_t *sub = &p.u.subscribe;
    assert_int_equal(sub->packet_id, 2);
    assert_int_equal(sub->count, 1);
    assert_true(kmqtt_props_find(&sub->props, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, &prop));
    assert_int_equal(prop.num, 5);
    assert_ptr_equal(sub->raw, g_buf + 7);
    assert_int_equal(sub->raw_len, 6);

    kmqtt_sub_iter_init(&it, sub, true);
    assert_true(kmqtt_sub_iter_next(&it, &s));
    assert_view(s.filter, "x/+");
    assert_int_equal(s.qos, 1);
    assert_true(s.no_local);
    assert_true(s.retain_as_published);
    assert_int_equal(s.retain_handling, 2);
    assert_false(kmqtt_sub_iter_next(&it, &s));
}

static void test_subscribe_v5_shared_without_no_local(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    assert_int_equal(decode("82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 00", KMQTT_V5, &p),
                     KMQTT_OK);
    assert_int_equal(p.u.subscribe.count, 1);
}

/* ---------------------------------------------------------------- SUBACK */

static void test_suback_311(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    assert_int_equal(decode("90 04 00 01 01 80", KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_SUBACK);
    assert_int_equal(p.u.suback.packet_id, 1);
    assert_view(p.u.suback.reason_codes, "\x01\x80");
    assert_ptr_equal(p.u.suback.reason_codes.ptr, g_buf + 4);
}

static void test_suback_v5(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    /* 0x00 granted QoS 0, 0x02 granted QoS 2, 0x87 not authorized */
    assert_int_equal(decode("90 06 00 01 00 00 02 87", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.suback.props.raw_len, 0);
    assert_view(p.u.suback.reason_codes, "\x00\x02\x87");
    assert_ptr_equal(p.u.suback.reason_codes.ptr, g_buf + 5);
}

/* ---------------------------------------------------- UNSUBSCRIBE UNSUBACK */

static void test_unsubscribe(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    kmqtt_sub_iter_t it;
    kmqtt_subscription_t s;
    assert_int_equal(decode("a2 0c 00 03 00 03 61 2f 62 00 03 63 2f 23", KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_UNSUBSCRIBE);
    assert_int_equal(p.u.subscribe.packet_id, 3);
    assert_int_equal(p.u.subscribe.count, 2);
    kmqtt_sub_iter_init(&it, &p.u.subscribe, false);
    assert_true(kmqtt_sub_iter_next(&it, &s));
    assert_view(s.filter, "a/b");
    assert_true(kmqtt_sub_iter_next(&it, &s));
    assert_view(s.filter, "c/#");
    assert_false(kmqtt_sub_iter_next(&it, &s));

    assert_int_equal(decode("a2 08 00 03 00 00 03 61 2f 62", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.subscribe.count, 1);
    assert_ptr_equal(p.u.subscribe.raw, g_buf + 5);
}

static void test_unsuback(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    assert_int_equal(decode("b0 02 00 03", KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_UNSUBACK);
    assert_int_equal(p.u.suback.packet_id, 3);
    assert_int_equal(p.u.suback.reason_codes.len, 0);
    /* 0x11 No subscription existed */
    assert_int_equal(decode("b0 05 00 03 00 00 11", KMQTT_V5, &p), KMQTT_OK);
    assert_view(p.u.suback.reason_codes, "\x00\x11");
}

/* ------------------------------------------------ PING DISCONNECT AUTH */

static void test_ping_and_311_disconnect(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    assert_int_equal(decode("c0 00", KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_PINGREQ);
    assert_int_equal(decode("d0 00", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_PINGRESP);
    assert_int_equal(decode("e0 00", KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_DISCONNECT);
    assert_int_equal(p.u.disconnect.reason_code, 0);
}

static void test_disconnect_v5_forms(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    kmqtt_prop_t prop;
    assert_int_equal(decode("e0 00", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.disconnect.reason_code, 0);
    /* 0x8e Session taken over, no properties */
    assert_int_equal(decode("e0 01 8e", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.disconnect.reason_code, 0x8e);
    assert_int_equal(p.u.disconnect.props.raw_len, 0);
    /* 0x04 Disconnect with Will Message, Session Expiry 0 */
    assert_int_equal(decode("e0 07 04 05 11 00 00 00 00", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.disconnect.reason_code, 4);
    assert_ptr_equal(p.u.disconnect.props.raw, g_buf + 4);
    assert_true(kmqtt_props_find(&p.u.disconnect.props, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, &prop));
    assert_int_equal(prop.num, 0);
}

static void test_auth_v5_forms(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    kmqtt_prop_t prop;
    assert_int_equal(decode("f0 00", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_AUTH);
    assert_int_equal(p.u.disconnect.reason_code, 0);
    /* Unlike DISCONNECT, AUTH may not drop the property length alone (3.15.2.1). */
    assert_int_equal(decode("f0 01 19", KMQTT_V5, &p), KMQTT_ETRUNCATED);
    assert_int_equal(decode("f0 02 19 00", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.disconnect.reason_code, 0x19);
    /* 0x18 Continue authentication, Authentication Method "SCRAM" */
    assert_int_equal(decode("f0 0a 18 08 15 00 05 53 43 52 41 4d", KMQTT_V5, &p), KMQTT_OK);
    assert_int_equal(p.u.disconnect.reason_code, 0x18);
    assert_true(kmqtt_props_find(&p.u.disconnect.props, KMQTT_PROP_AUTHENTICATION_METHOD, &prop));
    assert_view(prop.str, "SCRAM");
}

static void test_two_byte_remaining_length(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    /* 200 = 0xc8 0x01: topic "t" (3 bytes) and a 197-byte payload. */
    char hex[1024] = "30 c8 01 00 01 74";
    for (int i = 0; i < 197; i++)
        strcat(hex, " 5a");
    assert_int_equal(decode(hex, KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(g_len, 203);
    assert_view(p.u.publish.topic, "t");
    assert_ptr_equal(p.u.publish.payload.ptr, g_buf + 6);
    assert_int_equal(p.u.publish.payload.len, 197);
}

static int teardown(void **state)
{
    (void)state;
    free(g_buf);
    g_buf = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_311_with_will_user_and_password),
        cmocka_unit_test(test_connect_311_minimal_has_no_optional_fields),
        cmocka_unit_test(test_connect_v5_with_properties_and_will_properties),
        cmocka_unit_test(test_connect_v5_password_without_username_is_allowed),
        cmocka_unit_test(test_connack_311_session_present_accepted),
        cmocka_unit_test(test_connack_311_refused_return_code),
        cmocka_unit_test(test_connack_v5_with_several_properties),
        cmocka_unit_test(test_connack_v5_refused_with_empty_properties),
        cmocka_unit_test(test_publish_qos0),
        cmocka_unit_test(test_publish_qos1_retain),
        cmocka_unit_test(test_publish_qos2_dup),
        cmocka_unit_test(test_publish_empty_payload),
        cmocka_unit_test(test_publish_v5_qos1_with_properties),
        cmocka_unit_test(test_publish_v5_empty_topic_with_topic_alias),
        cmocka_unit_test(test_acks_311),
        cmocka_unit_test(test_ack_v5_short_forms),
        cmocka_unit_test(test_ack_v5_with_reason_string),
        cmocka_unit_test(test_subscribe_311_two_filters),
        cmocka_unit_test(test_subscribe_v5_options_and_subscription_id),
        cmocka_unit_test(test_subscribe_v5_shared_without_no_local),
        cmocka_unit_test(test_suback_311),
        cmocka_unit_test(test_suback_v5),
        cmocka_unit_test(test_unsubscribe),
        cmocka_unit_test(test_unsuback),
        cmocka_unit_test(test_ping_and_311_disconnect),
        cmocka_unit_test(test_disconnect_v5_forms),
        cmocka_unit_test(test_auth_v5_forms),
        cmocka_unit_test(test_two_byte_remaining_length),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
