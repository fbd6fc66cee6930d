/*
 * The codec built with feature switches off (cmake/part_target.cmake builds
 * this file once per configuration, against a core compiled with the same
 * -DKMQTT_CFG_... flags). What is compiled out answers KMQTT_EUNSUPPORTED;
 * what stays behaves exactly as in the default build.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "kmqtt/codec.h"
#include "kmqtt/config.h"

/* 3.1.1 CONNECT, clean session, keepalive 60, client id "c" (MQTT-3.1.2-1..) */
static const uint8_t connect311[] = {0x10, 0x0d, 0x00, 0x04, 'M',  'Q',  'T', 'T',
                                     0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 'c'};
static const uint8_t connack311[] = {0x20, 0x02, 0x01, 0x00};
static const uint8_t publish311[] = {0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x07, 'h', 'i'};
static const uint8_t puback5[] = {0x40, 0x02, 0x00, 0x07};
static const uint8_t subscribe311[] = {0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '/', 'b', 0x01};
static const uint8_t suback311[] = {0x90, 0x03, 0x00, 0x01, 0x01};
static const uint8_t pingreq[] = {0xc0, 0x00};
static const uint8_t pingresp[] = {0xd0, 0x00};

static kmqtt_err_t decode(const uint8_t *b, size_t n, kmqtt_version_t v, kmqtt_packet_t *p)
{
    size_t used = 0;
    kmqtt_err_t err = kmqtt_packet_decode(b, n, v, 0, p, &used);
    if (err == KMQTT_OK)
        assert_int_equal(used, n);
    return err;
}

/* The client's direction is always there: CONNECT and PUBLISH out,
 * CONNACK, PUBLISH, SUBACK and PINGRESP in, in 3.1.1. */
static void test_client_direction_in_311(void **state)
{
    kmqtt_packet_t p;
    uint8_t buf[64];
    size_t n;
    (void)state;

    memset(&p, 0, sizeof p);
    p.type = KMQTT_CONNECT;
    p.u.connect.version = KMQTT_V311;
    p.u.connect.clean_start = true;
    p.u.connect.keepalive = 60;
    p.u.connect.client_id.ptr = "c";
    p.u.connect.client_id.len = 1;
    assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V311, buf, sizeof buf, &n), KMQTT_OK);
    assert_int_equal(n, sizeof connect311);
    assert_memory_equal(buf, connect311, n);

    assert_int_equal(decode(connack311, sizeof connack311, KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.type, KMQTT_CONNACK);
    assert_true(p.u.connack.session_present);
    assert_int_equal(decode(publish311, sizeof publish311, KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(p.u.publish.packet_id, 7);
    assert_int_equal(decode(suback311, sizeof suback311, KMQTT_V311, &p), KMQTT_OK);
    assert_int_equal(decode(pingresp, sizeof pingresp, KMQTT_V311, &p), KMQTT_OK);

    memset(&p, 0, sizeof p);
    p.type = KMQTT_SUBSCRIBE;
    kmqtt_subscription_t s;
    memset(&s, 0, sizeof s);
    s.filter.ptr = "a/b";
    s.filter.len = 3;
    s.qos = 1;
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.items = &s;
    p.u.subscribe.count = 1;
    assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V311, buf, sizeof buf, &n), KMQTT_OK);
    assert_int_equal(n, sizeof subscribe311);
    assert_memory_equal(buf, subscribe311, n);
}

static void test_server_direction(void **state)
{
    kmqtt_packet_t p;
    uint8_t buf[16];
    size_t n;
    (void)state;

    kmqtt_err_t want = KMQTT_CFG_SERVER_CODEC ? KMQTT_OK : KMQTT_EUNSUPPORTED;
    assert_int_equal(decode(connect311, sizeof connect311, KMQTT_V311, &p), want);
    assert_int_equal(decode(subscribe311, sizeof subscribe311, KMQTT_V311, &p), want);
    assert_int_equal(decode(pingreq, sizeof pingreq, KMQTT_V311, &p), want);
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PINGRESP;
    assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V311, buf, sizeof buf, &n), want);
    p.type = KMQTT_CONNACK;
    assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V311, buf, sizeof buf, &n), want);
}

static void test_v5(void **state)
{
    kmqtt_packet_t p, in;
    uint8_t buf[32];
    size_t n;
    (void)state;

    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish.topic.ptr = "a/b";
    p.u.publish.topic.len = 3;
    if (KMQTT_CFG_V5) {
        assert_int_equal(decode(puback5, sizeof puback5, KMQTT_V5, &in), KMQTT_OK);
        assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V5, buf, sizeof buf, &n), KMQTT_OK);
    } else {
        assert_int_equal(decode(puback5, sizeof puback5, KMQTT_V5, &in), KMQTT_EUNSUPPORTED);
        assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V5, buf, sizeof buf, &n),
                         KMQTT_EUNSUPPORTED);
        assert_int_equal(kmqtt_packet_size(&p, KMQTT_V5, &n), KMQTT_EUNSUPPORTED);
        assert_int_equal(kmqtt_prop_type(0x21), KMQTT_PROPTYPE_NONE);
    }
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(kmqtt_strerror(KMQTT_OK), "success");
    if (KMQTT_CFG_STRERROR)
        assert_string_equal(kmqtt_strerror(KMQTT_ENOMEM), "out of memory");
    else
        assert_non_null(strstr(kmqtt_strerror(KMQTT_ENOMEM), "kmqtt/error.h"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_direction_in_311),
        cmocka_unit_test(test_server_direction),
        cmocka_unit_test(test_v5),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
