/* Reason codes (5.0) and return codes (3.1.1) accepted per packet type. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "codec/codec_internal.h"

/* The valid codes of one packet type in one version, transcribed from the
 * specification independently of src/codec/reason.c. Every one of the 256
 * byte values is checked against it, so an extra or a missing code fails. */
typedef struct expect {
    const char *name;
    unsigned type;
    kmqtt_version_t version;
    const uint8_t *codes;
    size_t n;
} expect_t;

static const uint8_t none[] = {0};
static const uint8_t zero[] = {0x00};
static const uint8_t v311_connack[] = {0, 1, 2, 3, 4, 5};
static const uint8_t v311_suback[] = {0x00, 0x01, 0x02, 0x80};
/* 3.2.2.2 */
static const uint8_t v5_connack[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                     0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                     0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
/* 3.4.2.1, 3.5.2.1 */
static const uint8_t v5_puback[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
/* 3.6.2.1, 3.7.2.1 */
static const uint8_t v5_pubrel[] = {0x00, 0x92};
/* 3.9.3 */
static const uint8_t v5_suback[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                    0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
/* 3.11.3 */
static const uint8_t v5_unsuback[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
/* 3.14.2.1 */
static const uint8_t v5_disconnect[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
                                        0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
                                        0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
/* 3.15.2.1 */
static const uint8_t v5_auth[] = {0x00, 0x18, 0x19};

#define E(name, type, v, list)                                                                     \
    {                                                                                              \
        name, type, v, list, sizeof(list)                                                          \
    }
#define NONE(name, type, v)                                                                        \
    {                                                                                              \
        name, type, v, none, 0                                                                     \
    }

static const expect_t table[] = {
    E("3.1.1 CONNACK", KMQTT_CONNACK, KMQTT_V311, v311_connack),
    E("3.1.1 PUBACK", KMQTT_PUBACK, KMQTT_V311, zero),
    E("3.1.1 PUBREC", KMQTT_PUBREC, KMQTT_V311, zero),
    E("3.1.1 PUBREL", KMQTT_PUBREL, KMQTT_V311, zero),
    E("3.1.1 PUBCOMP", KMQTT_PUBCOMP, KMQTT_V311, zero),
    E("3.1.1 SUBACK", KMQTT_SUBACK, KMQTT_V311, v311_suback),
    E("3.1.1 UNSUBACK", KMQTT_UNSUBACK, KMQTT_V311, zero),
    E("3.1.1 DISCONNECT", KMQTT_DISCONNECT, KMQTT_V311, zero),
    NONE("3.1.1 AUTH", KMQTT_AUTH, KMQTT_V311),
    NONE("3.1.1 CONNECT", KMQTT_CONNECT, KMQTT_V311),
    NONE("3.1.1 PUBLISH", KMQTT_PUBLISH, KMQTT_V311),
    NONE("3.1.1 PINGREQ", KMQTT_PINGREQ, KMQTT_V311),
    E("5.0 CONNACK", KMQTT_CONNACK, KMQTT_V5, v5_connack),
    E("5.0 PUBACK", KMQTT_PUBACK, KMQTT_V5, v5_puback),
    E("5.0 PUBREC", KMQTT_PUBREC, KMQTT_V5, v5_puback),
    E("5.0 PUBREL", KMQTT_PUBREL, KMQTT_V5, v5_pubrel),
    E("5.0 PUBCOMP", KMQTT_PUBCOMP, KMQTT_V5, v5_pubrel),
    E("5.0 SUBACK", KMQTT_SUBACK, KMQTT_V5, v5_suback),
    E("5.0 UNSUBACK", KMQTT_UNSUBACK, KMQTT_V5, v5_unsuback),
    E("5.0 DISCONNECT", KMQTT_DISCONNECT, KMQTT_V5, v5_disconnect),
    E("5.0 AUTH", KMQTT_AUTH, KMQTT_V5, v5_auth),
    NONE("5.0 CONNECT", KMQTT_CONNECT, KMQTT_V5),
    NONE("5.0 PUBLISH", KMQTT_PUBLISH, KMQTT_V5),
    NONE("5.0 SUBSCRIBE", KMQTT_SUBSCRIBE, KMQTT_V5),
    NONE("5.0 UNSUBSCRIBE", KMQTT_UNSUBSCRIBE, KMQTT_V5),
    NONE("5.0 PINGRESP", KMQTT_PINGRESP, KMQTT_V5),
    NONE("5.0 type 0", 0, KMQTT_V5),
    NONE("5.0 type 16", 16, KMQTT_V5),
};

static bool listed(const expect_t *e, unsigned code)
{
    for (size_t i = 0; i < e->n; i++) {
        if (e->codes[i] == code)
            return true;
    }
    return false;
}

static void test_every_code_of_every_packet_matches_the_spec_tables(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof table / sizeof table[0]; t++) {
        const expect_t *e = &table[t];
        for (unsigned code = 0; code < 256; code++) {
            bool want = listed(e, code);
            bool got = kmqtt_reason_valid(e->type, e->version, (uint8_t)code);
            if (got != want) {
                print_error("%s code 0x%02x: expected %s\n", e->name, code,
                            want ? "valid" : "invalid");
                fail();
            }
        }
    }
}

static void test_unknown_protocol_version_accepts_no_code(void **state)
{
    (void)state;
    assert_false(kmqtt_reason_valid(KMQTT_CONNACK, (kmqtt_version_t)3, 0x00));
    assert_false(kmqtt_reason_valid(KMQTT_PUBACK, (kmqtt_version_t)6, 0x00));
}

/* A few rows spelled out, so a failure names the rule a user would hit. */
static void test_v311_connack_return_code_6_is_reserved(void **state)
{
    (void)state;
    assert_true(kmqtt_reason_valid(KMQTT_CONNACK, KMQTT_V311, 5)); /* not authorized */
    assert_false(kmqtt_reason_valid(KMQTT_CONNACK, KMQTT_V311, 6));
    /* a 5.0 code is not a 3.1.1 return code */
    assert_false(kmqtt_reason_valid(KMQTT_CONNACK, KMQTT_V311, 0x87));
}

static void test_v311_suback_qos3_is_rejected(void **state)
{
    (void)state;
    /* MQTT-3.9.3-2: only 0x00, 0x01, 0x02 and 0x80 */
    assert_false(kmqtt_reason_valid(KMQTT_SUBACK, KMQTT_V311, 0x03));
    assert_true(kmqtt_reason_valid(KMQTT_SUBACK, KMQTT_V311, 0x80));
    assert_false(kmqtt_reason_valid(KMQTT_SUBACK, KMQTT_V311, 0x87));
}

static void test_v5_puback_no_matching_subscribers_is_valid_but_not_in_pubrel(void **state)
{
    (void)state;
    assert_true(kmqtt_reason_valid(KMQTT_PUBACK, KMQTT_V5, 0x10));
    assert_false(kmqtt_reason_valid(KMQTT_PUBREL, KMQTT_V5, 0x10));
    assert_true(kmqtt_reason_valid(KMQTT_PUBREL, KMQTT_V5, 0x92)); /* packet id not found */
    assert_false(kmqtt_reason_valid(KMQTT_PUBACK, KMQTT_V5, 0x92));
}

static void test_v5_disconnect_with_will_is_only_a_disconnect_code(void **state)
{
    (void)state;
    assert_true(kmqtt_reason_valid(KMQTT_DISCONNECT, KMQTT_V5, 0x04));
    assert_false(kmqtt_reason_valid(KMQTT_CONNACK, KMQTT_V5, 0x04));
    assert_false(kmqtt_reason_valid(KMQTT_DISCONNECT, KMQTT_V5, 0x84)); /* CONNACK only */
    assert_false(kmqtt_reason_valid(KMQTT_DISCONNECT, KMQTT_V5, 0xA3));
}

static void test_v5_auth_accepts_only_success_continue_and_reauthenticate(void **state)
{
    (void)state;
    assert_true(kmqtt_reason_valid(KMQTT_AUTH, KMQTT_V5, 0x18));
    assert_true(kmqtt_reason_valid(KMQTT_AUTH, KMQTT_V5, 0x19));
    assert_false(kmqtt_reason_valid(KMQTT_AUTH, KMQTT_V5, 0x80));
    assert_false(kmqtt_reason_valid(KMQTT_AUTH, KMQTT_V311, 0x00));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_of_every_packet_matches_the_spec_tables),
        cmocka_unit_test(test_unknown_protocol_version_accepts_no_code),
        cmocka_unit_test(test_v311_connack_return_code_6_is_reserved),
        cmocka_unit_test(test_v311_suback_qos3_is_rejected),
        cmocka_unit_test(test_v5_puback_no_matching_subscribers_is_valid_but_not_in_pubrel),
        cmocka_unit_test(test_v5_disconnect_with_will_is_only_a_disconnect_code),
        cmocka_unit_test(test_v5_auth_accepts_only_success_continue_and_reauthenticate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
