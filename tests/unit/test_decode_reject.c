/*
 * kmqtt_packet_decode refuses every malformed packet with the error code of
 * the rule it breaks: one test per rule, named after the normative
 * statement of the MQTT 3.1.1 / 5.0 specification where there is one.
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

static uint8_t *g_buf;
static size_t g_len;

/* Exact-size heap copy: any read past the packet trips AddressSanitizer. */
static kmqtt_err_t decode(const char *hex, kmqtt_version_t v)
{
    uint8_t tmp[512];
    size_t n = hex_decode(hex, tmp, sizeof tmp);
    free(g_buf);
    g_buf = malloc(n > 0 ? n : 1);
    assert_non_null(g_buf);
    memcpy(g_buf, tmp, n);
    g_len = n;

    kmqtt_packet_t p;
    size_t consumed = 12345;
    kmqtt_err_t err = kmqtt_packet_decode(g_buf, g_len, v, 0, &p, &consumed);
    assert_int_equal(consumed, err == KMQTT_OK ? g_len : 0);
    return err;
}

/* ------------------------------------------------------ type and flags */

static void test_packet_type_0_is_reserved(void **state)
{
    (void)state;
    assert_int_equal(decode("00 00", KMQTT_V311), KMQTT_EPACKET_TYPE);
    assert_int_equal(decode("00 00", KMQTT_V5), KMQTT_EPACKET_TYPE);
}

static void test_auth_is_reserved_in_311(void **state)
{
    (void)state;
    assert_int_equal(decode("f0 00", KMQTT_V311), KMQTT_EPACKET_TYPE);
    assert_int_equal(decode("f0 00", KMQTT_V5), KMQTT_OK);
}

static void test_MQTT_3_6_1_1_pubrel_flags_must_be_0010(void **state)
{
    (void)state;
    assert_int_equal(decode("60 02 00 01", KMQTT_V311), KMQTT_EFLAGS);
    assert_int_equal(decode("63 02 00 01", KMQTT_V5), KMQTT_EFLAGS);
    assert_int_equal(decode("62 02 00 01", KMQTT_V311), KMQTT_OK);
}

static void test_MQTT_3_8_1_1_subscribe_flags_must_be_0010(void **state)
{
    (void)state;
    assert_int_equal(decode("80 08 00 01 00 03 61 2f 62 00", KMQTT_V311), KMQTT_EFLAGS);
    assert_int_equal(decode("8a 08 00 01 00 03 61 2f 62 00", KMQTT_V311), KMQTT_EFLAGS);
}

static void test_MQTT_3_10_1_1_unsubscribe_flags_must_be_0010(void **state)
{
    (void)state;
    assert_int_equal(decode("a0 07 00 01 00 03 61 2f 62", KMQTT_V311), KMQTT_EFLAGS);
    assert_int_equal(decode("a3 07 00 01 00 03 61 2f 62", KMQTT_V311), KMQTT_EFLAGS);
}

static void test_MQTT_2_2_2_2_other_packets_need_flags_0000(void **state)
{
    (void)state;
    /* Valid bodies so that only the flags can be wrong. */
    static const char *const bodies[] = {
        /* CONNECT */ "0c 00 04 4d 51 54 54 04 02 00 3c 00 00",
        /* CONNACK */ "03 00 00 00",
        NULL,
        /* PUBACK  */ "02 00 01",
        /* PUBREC  */ "02 00 01",
        NULL,
        /* PUBCOMP */ "02 00 01",
        NULL,
        /* SUBACK  */ "04 00 01 00 00",
        NULL,
        /* UNSUBACK */ "04 00 01 00 00",
        /* PINGREQ */ "00",
        /* PINGRESP */ "00",
        /* DISCONNECT */ "00",
        /* AUTH */ "00",
    };
    for (unsigned type = 1; type <= 15; type++) {
        const char *body = bodies[type - 1];
        if (body == NULL)
            continue;
        char hex[128];
        for (unsigned flags = 0; flags <= 15; flags++) {
            static const char digits[] = "0123456789abcdef";
            hex[0] = digits[type];
            hex[1] = digits[flags];
            hex[2] = ' ';
            strcpy(hex + 3, body);
            assert_int_equal(decode(hex, KMQTT_V5), flags == 0 ? KMQTT_OK : KMQTT_EFLAGS);
        }
    }
}

static void test_MQTT_3_3_1_4_publish_qos3_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("36 07 00 03 61 2f 62 00 01", KMQTT_V311), KMQTT_EQOS);
    assert_int_equal(decode("37 07 00 03 61 2f 62 00 01", KMQTT_V5), KMQTT_EQOS);
}

static void test_MQTT_3_3_1_2_dup_on_qos0_publish_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("38 05 00 03 61 2f 62", KMQTT_V311), KMQTT_EDUP);
    assert_int_equal(decode("39 06 00 03 61 2f 62 00", KMQTT_V5), KMQTT_EDUP);
}

/* ---------------------------------------------------- packet identifier */

static void test_MQTT_2_3_1_1_packet_id_0_is_rejected(void **state)
{
    (void)state;
    static const char *const v311[] = {
        "32 07 00 03 61 2f 62 00 00",    /* PUBLISH QoS 1 */
        "34 07 00 03 61 2f 62 00 00",    /* PUBLISH QoS 2 */
        "40 02 00 00",                   /* PUBACK */
        "50 02 00 00",                   /* PUBREC */
        "62 02 00 00",                   /* PUBREL */
        "70 02 00 00",                   /* PUBCOMP */
        "82 08 00 00 00 03 61 2f 62 00", /* SUBSCRIBE */
        "90 03 00 00 00",                /* SUBACK */
        "a2 07 00 00 00 03 61 2f 62",    /* UNSUBSCRIBE */
        "b0 02 00 00",                   /* UNSUBACK */
    };
    static const char *const v5[] = {
        "32 08 00 03 61 2f 62 00 00 00",    /* PUBLISH QoS 1 */
        "40 03 00 00 10",                   /* PUBACK with reason */
        "82 09 00 00 00 00 03 61 2f 62 00", /* SUBSCRIBE */
        "90 04 00 00 00 00",                /* SUBACK */
        "a2 08 00 00 00 00 03 61 2f 62",    /* UNSUBSCRIBE */
        "b0 04 00 00 00 00",                /* UNSUBACK */
    };
    for (size_t i = 0; i < sizeof v311 / sizeof v311[0]; i++)
        assert_int_equal(decode(v311[i], KMQTT_V311), KMQTT_EPACKET_ID);
    for (size_t i = 0; i < sizeof v5 / sizeof v5[0]; i++)
        assert_int_equal(decode(v5[i], KMQTT_V5), KMQTT_EPACKET_ID);
}

/* --------------------------------------------------- lengths of fields */

static void test_field_past_packet_end_is_truncated(void **state)
{
    (void)state;
    /* Client id announces 5 bytes, 3 follow. */
    assert_int_equal(decode("10 0f 00 04 4d 51 54 54 04 02 00 3c 00 05 61 62 63", KMQTT_V311),
                     KMQTT_ETRUNCATED);
    /* Topic announces 4 bytes, 3 follow. */
    assert_int_equal(decode("30 05 00 04 61 2f 62", KMQTT_V311), KMQTT_ETRUNCATED);
    /* PUBLISH QoS 1 without room for its packet identifier. */
    assert_int_equal(decode("32 06 00 03 61 2f 62 00", KMQTT_V311), KMQTT_ETRUNCATED);
    /* Username flag set, username missing. */
    assert_int_equal(decode("10 0c 00 04 4d 51 54 54 04 82 00 3c 00 00", KMQTT_V311),
                     KMQTT_ETRUNCATED);
}

static void test_bytes_after_last_field_are_trailing(void **state)
{
    (void)state;
    assert_int_equal(decode("c0 01 00", KMQTT_V311), KMQTT_ETRAILING);
    assert_int_equal(decode("d0 01 00", KMQTT_V5), KMQTT_ETRAILING);
    assert_int_equal(decode("40 03 00 01 00", KMQTT_V311), KMQTT_ETRAILING);
    assert_int_equal(decode("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 00 ff", KMQTT_V311),
                     KMQTT_ETRAILING);
    /* v5 ack: after reason code and properties nothing may follow. */
    assert_int_equal(decode("40 05 00 01 00 00 00", KMQTT_V5), KMQTT_ETRAILING);
}

/* --------------------------------------------------------------- UTF-8 */

static void test_MQTT_1_5_3_1_ill_formed_utf8_is_rejected(void **state)
{
    (void)state;
    /* client id "a\xff" */
    assert_int_equal(decode("10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 61 ff", KMQTT_V311),
                     KMQTT_EUTF8);
    /* topic holding the surrogate U+D800 */
    assert_int_equal(decode("30 05 00 03 ed a0 80", KMQTT_V311), KMQTT_EUTF8);
    /* username "\xc0\xaf" (overlong '/') */
    assert_int_equal(decode("10 10 00 04 4d 51 54 54 04 82 00 3c 00 00 00 02 c0 af", KMQTT_V311),
                     KMQTT_EUTF8);
}

static void test_MQTT_1_5_3_2_nul_in_string_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("30 05 00 03 61 00 62", KMQTT_V311), KMQTT_EUTF8_NUL);
    assert_int_equal(decode("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 00", KMQTT_V311),
                     KMQTT_EUTF8_NUL);
}

/* ------------------------------------------------------------- PUBLISH */

static void test_MQTT_3_3_2_2_wildcard_in_topic_name_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("30 05 00 03 61 2f 2b", KMQTT_V311), KMQTT_ETOPIC_NAME);
    assert_int_equal(decode("30 06 00 03 61 2f 23 00", KMQTT_V5), KMQTT_ETOPIC_NAME);
}

static void test_empty_topic_name_needs_v5_topic_alias(void **state)
{
    (void)state;
    /* MQTT-4.7.3-1 in 3.1.1: topic names are at least one character. */
    assert_int_equal(decode("30 04 00 00 68 69", KMQTT_V311), KMQTT_ETOPIC_NAME);
    /* MQTT 5.0 3.3.2.3.4: empty only together with a Topic Alias. */
    assert_int_equal(decode("30 03 00 00 00", KMQTT_V5), KMQTT_ETOPIC_NAME);
    /* Payload Format Indicator is not a Topic Alias. */
    assert_int_equal(decode("30 05 00 00 02 01 01", KMQTT_V5), KMQTT_ETOPIC_NAME);
    assert_int_equal(decode("30 06 00 00 03 23 00 07", KMQTT_V5), KMQTT_OK);
}

static void test_publish_property_not_allowed_is_rejected(void **state)
{
    (void)state;
    /* Session Expiry Interval belongs to CONNECT / CONNACK / DISCONNECT. */
    assert_int_equal(decode("30 0b 00 03 61 2f 62 05 11 00 00 00 01", KMQTT_V5),
                     KMQTT_EPROP_NOT_ALLOWED);
}

/* ------------------------------------------------------------- CONNECT */

static void test_MQTT_3_1_2_1_protocol_name_must_be_MQTT(void **state)
{
    (void)state;
    assert_int_equal(decode("10 0c 00 04 4d 51 54 58 04 02 00 3c 00 00", KMQTT_V311),
                     KMQTT_EPROTOCOL_NAME);
    /* MQTT 3.1 "MQIsdp" is not supported. */
    assert_int_equal(decode("10 0e 00 06 4d 51 49 73 64 70 03 02 00 3c 00 00", KMQTT_V311),
                     KMQTT_EPROTOCOL_NAME);
    /* lower case */
    assert_int_equal(decode("10 0c 00 04 6d 71 74 74 04 02 00 3c 00 00", KMQTT_V311),
                     KMQTT_EPROTOCOL_NAME);
}

static void test_MQTT_3_1_2_2_protocol_level_must_be_4_or_5(void **state)
{
    (void)state;
    assert_int_equal(decode("10 0c 00 04 4d 51 54 54 03 02 00 3c 00 00", KMQTT_V311),
                     KMQTT_EPROTOCOL_VERSION);
    assert_int_equal(decode("10 0c 00 04 4d 51 54 54 06 02 00 3c 00 00", KMQTT_V5),
                     KMQTT_EPROTOCOL_VERSION);
}

static void test_MQTT_3_1_2_3_reserved_connect_flag_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("10 0c 00 04 4d 51 54 54 04 03 00 3c 00 00", KMQTT_V311),
                     KMQTT_ECONNECT_FLAGS);
    assert_int_equal(decode("10 0d 00 04 4d 51 54 54 05 01 00 3c 00 00 00", KMQTT_V5),
                     KMQTT_ECONNECT_FLAGS);
}

static void test_MQTT_3_1_2_14_will_qos3_is_rejected(void **state)
{
    (void)state;
    /* flags 0x1e: will, will QoS 3, clean */
    assert_int_equal(
        decode("10 14 00 04 4d 51 54 54 04 1e 00 3c 00 00 00 03 61 2f 62 00 01 78", KMQTT_V311),
        KMQTT_EQOS);
}

static void test_MQTT_3_1_2_11_13_will_qos_without_will_flag_is_rejected(void **state)
{
    (void)state;
    /* flags 0x0a: will QoS 1, no will */
    assert_int_equal(decode("10 0c 00 04 4d 51 54 54 04 0a 00 3c 00 00", KMQTT_V311),
                     KMQTT_ECONNECT_FLAGS);
    /* flags 0x12: will QoS 2, no will */
    assert_int_equal(decode("10 0d 00 04 4d 51 54 54 05 12 00 3c 00 00 00", KMQTT_V5),
                     KMQTT_ECONNECT_FLAGS);
}

static void test_MQTT_3_1_2_15_will_retain_without_will_flag_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("10 0c 00 04 4d 51 54 54 04 22 00 3c 00 00", KMQTT_V311),
                     KMQTT_ECONNECT_FLAGS);
}

static void test_MQTT_3_1_2_22_311_password_without_username_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("10 0f 00 04 4d 51 54 54 04 42 00 3c 00 00 00 01 70", KMQTT_V311),
                     KMQTT_ECONNECT_FLAGS);
}

static void test_will_topic_must_be_a_valid_topic_name(void **state)
{
    (void)state;
    assert_int_equal(
        decode("10 14 00 04 4d 51 54 54 04 06 00 3c 00 00 00 03 61 2f 23 00 01 78", KMQTT_V311),
        KMQTT_ETOPIC_NAME);
    assert_int_equal(decode("10 11 00 04 4d 51 54 54 04 06 00 3c 00 00 00 00 00 01 78", KMQTT_V311),
                     KMQTT_ETOPIC_NAME);
}

static void test_connect_properties_are_checked_where_they_stand(void **state)
{
    (void)state;
    /* Will Delay Interval in the CONNECT properties: only allowed in the
     * will properties. */
    assert_int_equal(
        decode("10 12 00 04 4d 51 54 54 05 02 00 3c 05 18 00 00 00 05 00 00", KMQTT_V5),
        KMQTT_EPROP_NOT_ALLOWED);
    /* Session Expiry Interval in the will properties. */
    assert_int_equal(decode("10 18 00 04 4d 51 54 54 05 06 00 3c 00 00 00"
                            " 05 11 00 00 00 01 00 01 74 00 00",
                            KMQTT_V5),
                     KMQTT_EPROP_NOT_ALLOWED);
    /* The same Will Delay Interval in the will properties is fine. */
    assert_int_equal(decode("10 18 00 04 4d 51 54 54 05 06 00 3c 00 00 00"
                            " 05 18 00 00 00 01 00 01 74 00 00",
                            KMQTT_V5),
                     KMQTT_OK);
}

/* ------------------------------------------------------------- CONNACK */

static void test_MQTT_3_2_2_1_connack_reserved_ack_flags_are_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("20 02 02 00", KMQTT_V311), KMQTT_EACK_FLAGS);
    assert_int_equal(decode("20 03 80 00 00", KMQTT_V5), KMQTT_EACK_FLAGS);
}

static void test_MQTT_3_2_2_4_refusal_with_session_present_is_rejected(void **state)
{
    (void)state;
    /* A refused connection cannot resume a session (5.0: MQTT-3.2.2-6). */
    assert_int_equal(decode("20 02 01 04", KMQTT_V311), KMQTT_EACK_FLAGS);
    assert_int_equal(decode("20 03 01 87 00", KMQTT_V5), KMQTT_EACK_FLAGS);
    assert_int_equal(decode("20 02 01 00", KMQTT_V311), KMQTT_OK);
}

static void test_connack_invalid_return_code_is_rejected(void **state)
{
    (void)state;
    /* 3.1.1 return codes stop at 5. */
    assert_int_equal(decode("20 02 00 06", KMQTT_V311), KMQTT_EREASON_CODE);
    /* 0x80 is a 5.0 code only. */
    assert_int_equal(decode("20 02 00 80", KMQTT_V311), KMQTT_EREASON_CODE);
    /* 0x01 is not a CONNACK reason code in 5.0. */
    assert_int_equal(decode("20 03 00 01 00", KMQTT_V5), KMQTT_EREASON_CODE);
}

static void test_connack_311_remaining_length_must_be_2(void **state)
{
    (void)state;
    assert_int_equal(decode("20 03 00 00 00", KMQTT_V311), KMQTT_ETRAILING);
    assert_int_equal(decode("20 01 00", KMQTT_V311), KMQTT_ETRUNCATED);
    /* v5 needs the property length. */
    assert_int_equal(decode("20 02 00 00", KMQTT_V5), KMQTT_ETRUNCATED);
}

/* ------------------------------------------------------------- acks */

static void test_ack_invalid_reason_code_is_rejected(void **state)
{
    (void)state;
    /* 0x01 is not a PUBACK reason code. */
    assert_int_equal(decode("40 03 00 05 01", KMQTT_V5), KMQTT_EREASON_CODE);
    /* 0x10 is valid for PUBACK but not for PUBREL or PUBCOMP. */
    assert_int_equal(decode("62 03 00 05 10", KMQTT_V5), KMQTT_EREASON_CODE);
    assert_int_equal(decode("70 04 00 05 10 00", KMQTT_V5), KMQTT_EREASON_CODE);
}

static void test_ack_311_remaining_length_must_be_2(void **state)
{
    (void)state;
    assert_int_equal(decode("50 03 00 01 00", KMQTT_V311), KMQTT_ETRAILING);
    assert_int_equal(decode("70 01 00", KMQTT_V311), KMQTT_ETRUNCATED);
    assert_int_equal(decode("40 00", KMQTT_V5), KMQTT_ETRUNCATED);
}

static void test_ack_v5_property_not_allowed_is_rejected(void **state)
{
    (void)state;
    /* Topic Alias is a PUBLISH property. */
    assert_int_equal(decode("40 07 00 05 00 03 23 00 01", KMQTT_V5), KMQTT_EPROP_NOT_ALLOWED);
}

/* ------------------------------------------------------------ SUBSCRIBE */

static void test_MQTT_3_8_3_3_subscribe_without_filter_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("82 02 00 01", KMQTT_V311), KMQTT_ENO_TOPICS);
    assert_int_equal(decode("82 03 00 01 00", KMQTT_V5), KMQTT_ENO_TOPICS);
}

static void test_subscribe_invalid_topic_filter_is_rejected(void **state)
{
    (void)state;
    /* MQTT-4.7.1-2: '#' must be last. */
    assert_int_equal(decode("82 0a 00 01 00 05 61 2f 23 2f 62 00", KMQTT_V311),
                     KMQTT_ETOPIC_FILTER);
    /* MQTT-4.7.3-1: empty filter. */
    assert_int_equal(decode("82 05 00 01 00 00 00", KMQTT_V311), KMQTT_ETOPIC_FILTER);
    /* second filter bad: "a+" */
    assert_int_equal(decode("82 0d 00 01 00 03 61 2f 62 00 00 02 61 2b 00", KMQTT_V311),
                     KMQTT_ETOPIC_FILTER);
}

static void test_subscribe_missing_options_byte_is_truncated(void **state)
{
    (void)state;
    assert_int_equal(decode("82 07 00 01 00 03 61 2f 62", KMQTT_V311), KMQTT_ETRUNCATED);
}

static void test_MQTT_3_8_3_4_311_reserved_option_bits_are_rejected(void **state)
{
    (void)state;
    /* 0x04 is No Local in 5.0 but reserved in 3.1.1. */
    assert_int_equal(decode("82 08 00 01 00 03 61 2f 62 04", KMQTT_V311), KMQTT_ESUB_OPTIONS);
    assert_int_equal(decode("82 08 00 01 00 03 61 2f 62 80", KMQTT_V311), KMQTT_ESUB_OPTIONS);
    assert_int_equal(decode("82 09 00 01 00 00 03 61 2f 62 04", KMQTT_V5), KMQTT_OK);
}

static void test_MQTT_3_8_3_5_v5_reserved_option_bits_are_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("82 09 00 01 00 00 03 61 2f 62 40", KMQTT_V5), KMQTT_ESUB_OPTIONS);
    assert_int_equal(decode("82 09 00 01 00 00 03 61 2f 62 80", KMQTT_V5), KMQTT_ESUB_OPTIONS);
}

static void test_retain_handling_3_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("82 09 00 01 00 00 03 61 2f 62 30", KMQTT_V5), KMQTT_ESUB_OPTIONS);
    assert_int_equal(decode("82 09 00 01 00 00 03 61 2f 62 20", KMQTT_V5), KMQTT_OK);
}

static void test_subscription_qos3_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("82 08 00 01 00 03 61 2f 62 03", KMQTT_V311), KMQTT_EQOS);
    assert_int_equal(decode("82 09 00 01 00 00 03 61 2f 62 03", KMQTT_V5), KMQTT_EQOS);
}

static void test_MQTT_3_8_3_4_v5_no_local_on_shared_subscription_is_rejected(void **state)
{
    (void)state;
    /* "$share/g/a" with No Local */
    assert_int_equal(decode("82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04", KMQTT_V5),
                     KMQTT_ESUB_OPTIONS);
}

/* -------------------------------------------------------------- SUBACK */

static void test_suback_without_reason_code_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("90 02 00 01", KMQTT_V311), KMQTT_ETRUNCATED);
    assert_int_equal(decode("90 03 00 01 00", KMQTT_V5), KMQTT_ETRUNCATED);
}

static void test_suback_invalid_reason_code_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("90 03 00 01 03", KMQTT_V311), KMQTT_EREASON_CODE);
    /* 0x87 exists in 5.0 only. */
    assert_int_equal(decode("90 04 00 01 00 87", KMQTT_V311), KMQTT_EREASON_CODE);
    assert_int_equal(decode("90 05 00 01 00 00 03", KMQTT_V5), KMQTT_EREASON_CODE);
}

/* ---------------------------------------------------- UNSUBSCRIBE / ACK */

static void test_MQTT_3_10_3_2_unsubscribe_without_filter_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("a2 02 00 01", KMQTT_V311), KMQTT_ENO_TOPICS);
    assert_int_equal(decode("a2 03 00 01 00", KMQTT_V5), KMQTT_ENO_TOPICS);
}

static void test_unsubscribe_invalid_topic_filter_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("a2 07 00 01 00 03 61 23 62", KMQTT_V311), KMQTT_ETOPIC_FILTER);
}

static void test_unsuback_311_remaining_length_must_be_2(void **state)
{
    (void)state;
    assert_int_equal(decode("b0 03 00 01 00", KMQTT_V311), KMQTT_ETRAILING);
}

static void test_unsuback_v5_needs_a_valid_reason_code(void **state)
{
    (void)state;
    assert_int_equal(decode("b0 03 00 01 00", KMQTT_V5), KMQTT_ETRUNCATED);
    assert_int_equal(decode("b0 04 00 01 00 02", KMQTT_V5), KMQTT_EREASON_CODE);
    assert_int_equal(decode("b0 04 00 01 00 11", KMQTT_V5), KMQTT_OK);
}

/* ------------------------------------------------- DISCONNECT and AUTH */

static void test_disconnect_311_remaining_length_must_be_0(void **state)
{
    (void)state;
    assert_int_equal(decode("e0 01 00", KMQTT_V311), KMQTT_ETRAILING);
}

static void test_disconnect_v5_invalid_reason_code_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("e0 01 01", KMQTT_V5), KMQTT_EREASON_CODE);
}

static void test_disconnect_v5_property_length_past_end_is_rejected(void **state)
{
    (void)state;
    /* Property length 5 with 2 bytes left: some error, never OK. */
    assert_true(decode("e0 04 00 05 1f 00", KMQTT_V5) < 0);
}

static void test_auth_invalid_reason_code_is_rejected(void **state)
{
    (void)state;
    /* 0x04 is a DISCONNECT code, not an AUTH one. */
    assert_int_equal(decode("f0 01 04", KMQTT_V5), KMQTT_EREASON_CODE);
}

/* ----------------------------------------------------------- arguments */

static void test_null_arguments_are_einval(void **state)
{
    (void)state;
    uint8_t buf[2] = {0xc0, 0x00};
    kmqtt_packet_t p;
    size_t n = 7;
    assert_int_equal(kmqtt_packet_decode(NULL, 2, KMQTT_V5, 0, &p, &n), KMQTT_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(kmqtt_packet_decode(buf, 2, KMQTT_V5, 0, NULL, &n), KMQTT_EINVAL);
    assert_int_equal(kmqtt_packet_decode(buf, 2, KMQTT_V5, 0, &p, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_packet_frame(NULL, 2, 0, &n), KMQTT_EINVAL);
    assert_int_equal(kmqtt_packet_frame(buf, 2, 0, NULL), KMQTT_EINVAL);
}

static void test_unknown_version_is_einval_except_for_connect(void **state)
{
    (void)state;
    assert_int_equal(decode("c0 00", (kmqtt_version_t)3), KMQTT_EINVAL);
    /* A server decodes CONNECT before it knows the version. */
    assert_int_equal(decode("10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", (kmqtt_version_t)0),
                     KMQTT_OK);
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
        cmocka_unit_test(test_packet_type_0_is_reserved),
        cmocka_unit_test(test_auth_is_reserved_in_311),
        cmocka_unit_test(test_MQTT_3_6_1_1_pubrel_flags_must_be_0010),
        cmocka_unit_test(test_MQTT_3_8_1_1_subscribe_flags_must_be_0010),
        cmocka_unit_test(test_MQTT_3_10_1_1_unsubscribe_flags_must_be_0010),
        cmocka_unit_test(test_MQTT_2_2_2_2_other_packets_need_flags_0000),
        cmocka_unit_test(test_MQTT_3_3_1_4_publish_qos3_is_rejected),
        cmocka_unit_test(test_MQTT_3_3_1_2_dup_on_qos0_publish_is_rejected),
        cmocka_unit_test(test_MQTT_2_3_1_1_packet_id_0_is_rejected),
        cmocka_unit_test(test_field_past_packet_end_is_truncated),
        cmocka_unit_test(test_bytes_after_last_field_are_trailing),
        cmocka_unit_test(test_MQTT_1_5_3_1_ill_formed_utf8_is_rejected),
        cmocka_unit_test(test_MQTT_1_5_3_2_nul_in_string_is_rejected),
        cmocka_unit_test(test_MQTT_3_3_2_2_wildcard_in_topic_name_is_rejected),
        cmocka_unit_test(test_empty_topic_name_needs_v5_topic_alias),
        cmocka_unit_test(test_publish_property_not_allowed_is_rejected),
        cmocka_unit_test(test_MQTT_3_1_2_1_protocol_name_must_be_MQTT),
        cmocka_unit_test(test_MQTT_3_1_2_2_protocol_level_must_be_4_or_5),
        cmocka_unit_test(test_MQTT_3_1_2_3_reserved_connect_flag_is_rejected),
        cmocka_unit_test(test_MQTT_3_1_2_14_will_qos3_is_rejected),
        cmocka_unit_test(test_MQTT_3_1_2_11_13_will_qos_without_will_flag_is_rejected),
        cmocka_unit_test(test_MQTT_3_1_2_15_will_retain_without_will_flag_is_rejected),
        cmocka_unit_test(test_MQTT_3_1_2_22_311_password_without_username_is_rejected),
        cmocka_unit_test(test_will_topic_must_be_a_valid_topic_name),
        cmocka_unit_test(test_connect_properties_are_checked_where_they_stand),
        cmocka_unit_test(test_MQTT_3_2_2_1_connack_reserved_ack_flags_are_rejected),
        cmocka_unit_test(test_MQTT_3_2_2_4_refusal_with_session_present_is_rejected),
        cmocka_unit_test(test_connack_invalid_return_code_is_rejected),
        cmocka_unit_test(test_connack_311_remaining_length_must_be_2),
        cmocka_unit_test(test_ack_invalid_reason_code_is_rejected),
        cmocka_unit_test(test_ack_311_remaining_length_must_be_2),
        cmocka_unit_test(test_ack_v5_property_not_allowed_is_rejected),
        cmocka_unit_test(test_MQTT_3_8_3_3_subscribe_without_filter_is_rejected),
        cmocka_unit_test(test_subscribe_invalid_topic_filter_is_rejected),
        cmocka_unit_test(test_subscribe_missing_options_byte_is_truncated),
        cmocka_unit_test(test_MQTT_3_8_3_4_311_reserved_option_bits_are_rejected),
        cmocka_unit_test(test_MQTT_3_8_3_5_v5_reserved_option_bits_are_rejected),
        cmocka_unit_test(test_retain_handling_3_is_rejected),
        cmocka_unit_test(test_subscription_qos3_is_rejected),
        cmocka_unit_test(test_MQTT_3_8_3_4_v5_no_local_on_shared_subscription_is_rejected),
        cmocka_unit_test(test_suback_without_reason_code_is_rejected),
        cmocka_unit_test(test_suback_invalid_reason_code_is_rejected),
        cmocka_unit_test(test_MQTT_3_10_3_2_unsubscribe_without_filter_is_rejected),
        cmocka_unit_test(test_unsubscribe_invalid_topic_filter_is_rejected),
        cmocka_unit_test(test_unsuback_311_remaining_length_must_be_2),
        cmocka_unit_test(test_unsuback_v5_needs_a_valid_reason_code),
        cmocka_unit_test(test_disconnect_311_remaining_length_must_be_0),
        cmocka_unit_test(test_disconnect_v5_invalid_reason_code_is_rejected),
        cmocka_unit_test(test_disconnect_v5_property_length_past_end_is_rejected),
        cmocka_unit_test(test_auth_invalid_reason_code_is_rejected),
        cmocka_unit_test(test_null_arguments_are_einval),
        cmocka_unit_test(test_unknown_version_is_einval_except_for_connect),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
