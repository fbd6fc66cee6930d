/*
 * 5.0 3.6.2.1: a server PUBREL may carry 0x92 (Packet Identifier not
 * found). The engine still completes the flow with PUBCOMP
 * (MQTT-4.3.3-2) and counts the failure for the client to report
 * (kmqtt_client_pubrel_failures); a PUBREL with 0x00 is not counted.
 *
 * v5 bytes: PUBREL id 5 with 0x92: 62 03 00 05 92; PUBCOMP id 5: 70 02 00 05.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

static ts_t *connected(void)
{
    ts_t *t = ts_new(KMQTT_V5);
    ts_connect(t, true, false);
    return t;
}

static void pubrel_0x92_is_counted_and_completed(void **state)
{
    (void)state;
    ts_t *t = connected();
    assert_int_equal(kmqtt_session_pubrel_failures(&t->s, NULL), 0);
    ts_feed_publish(t, 2, 5, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_expect_sent(t, "50 02 00 05"); /* PUBREC */
    ts_feed_hex(t, "62 03 00 05 92");
    ts_no_event(t);
    ts_expect_sent(t, "70 02 00 05"); /* PUBCOMP all the same */
    uint8_t reason = 0;
    assert_int_equal(kmqtt_session_pubrel_failures(&t->s, &reason), 1);
    assert_int_equal(reason, 0x92);
    free(t);
}

static void pubrel_success_is_not_counted(void **state)
{
    (void)state;
    ts_t *t = connected();
    ts_feed_publish(t, 2, 6, false);
    ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    ts_expect_sent(t, "50 02 00 06");
    ts_feed_hex(t, "62 03 00 06 00");
    ts_no_event(t);
    ts_expect_sent(t, "70 02 00 06");
    uint8_t reason = 0xff;
    assert_int_equal(kmqtt_session_pubrel_failures(&t->s, &reason), 0);
    assert_int_equal(reason, 0);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pubrel_0x92_is_counted_and_completed),
        cmocka_unit_test(pubrel_success_is_not_counted),
    };
    return cmocka_run_group_tests_name("session pubrel reason", tests, NULL, NULL);
}
