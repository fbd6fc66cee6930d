/* Store and forward, the session's side: the change hook reports what must
 * be persisted, in time (before the packet can leave, before a message is
 * delivered), and records put back by legacy_session_restore_* are resent
 * with the same packet id and DUP (MQTT-4.4.0-1), PUBREL again after PUBREC
 * (MQTT-4.3.3-1), and a restored inbound QoS 2 id keeps delivery exactly
 * once (MQTT-4.3.3-2). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_session_util.h"

typedef struct changes {
    int n;
    legacy_session_change_t what[16];
    uint16_t id[16];
    uint8_t bytes[16][32];
    size_t len[16];
    const ts_t *t; /* to check the bytes were not yet queued for sending */
    size_t tx_at_change[16];
} changes_t;

static void on_change(void *ctx, legacy_session_change_t what, uint16_t id, const uint8_t *bytes,
                      size_t len)
{
    changes_t *c = ctx;
    const uint8_t *buf;

    assert_true(c->n < 16);
    c->what[c->n] = what;
    c->id[c->n] = id;
    c->len[c->n] = len;
    if (len > 0 && len <= sizeof c->bytes[0])
        memcpy(c->bytes[c->n], bytes, len);
    c->tx_at_change[c->n] = legacy_session_tx_peek(&c->t->s, &buf);
    c->n++;
}

static void test_hook_reports_outbound_and_inbound(void **state)
{
    ts_t *t = ts_new(KMQTT_V311);
    static changes_t ch;
    uint16_t id1, id2;

    (void)state;
    memset(&ch, 0, sizeof ch);
    ch.t = t;
    legacy_session_set_change_hook(&t->s, on_change, &ch);
    ts_connect(t, false, false);

    (void)ts_publish(t, 0); /* QoS 0: nothing to persist */
    ts_take(t);
    assert_int_equal(ch.n, 0);
    id1 = ts_publish(t, 1);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.what[0], LEGACY_SESSION_CH_PUBLISH);
    assert_int_equal(ch.id[0], id1);
    /* The encoded PUBLISH, reported before it was queued for sending. */
    assert_int_equal(ch.len[0], 11);
    assert_memory_equal(ch.bytes[0], "\x32\x09\x00\x03\x61\x2f\x62\x00\x01\x68\x69", 11);
    assert_int_equal(ch.tx_at_change[0], 0);
    ts_take(t);

    id2 = ts_publish(t, 2);
    ts_take(t);
    ts_feed_ack(t, KMQTT_PUBREC, id2, 0);
    ts_no_event(t);
    assert_int_equal(ch.n, 3);
    assert_int_equal(ch.what[2], LEGACY_SESSION_CH_PUBREL);
    assert_int_equal(ch.id[2], id2);
    ts_take(t);

    /* Inbound QoS 2: persisted before the message is delivered. */
    ts_feed_publish(t, 2, 77, false);
    assert_int_equal(legacy_session_next_event(&t->s, t->now, &(legacy_event_t){0}), KMQTT_OK);
    assert_int_equal(ch.n, 4);
    assert_int_equal(ch.what[3], LEGACY_SESSION_CH_INBOUND);
    assert_int_equal(ch.id[3], 77);
    ts_take(t);
    ts_feed_ack(t, KMQTT_PUBREL, 77, 0);
    ts_no_event(t);
    assert_int_equal(ch.n, 5);
    assert_int_equal(ch.what[4], LEGACY_SESSION_CH_RELEASED);
    assert_int_equal(ch.id[4], 77);

    /* A new session (broker kept none) forgets held inbound ids: reported. */
    ts_feed_publish(t, 2, 78, false);
    (void)ts_event(t, LEGACY_EV_MESSAGE);
    legacy_session_lost(&t->s, t->now);
    ts_connect(t, false, false);
    assert_true(ch.n >= 7);
    assert_int_equal(ch.what[6], LEGACY_SESSION_CH_INBOUND_CLEAR);
    free(t);
}

static void test_restore_resends_with_same_ids(void **state)
{
    ts_t *t = ts_new(KMQTT_V311);
    uint8_t pub[11];
    legacy_event_t ev;

    (void)state;
    hex_decode("32 09 00 03 61 2f 62 01 2c 68 69", pub, sizeof pub); /* QoS 1, id 300 */
    assert_int_equal(legacy_session_restore_publish(&t->s, 300, false, pub, sizeof pub), KMQTT_OK);
    assert_int_equal(legacy_session_restore_publish(&t->s, 301, true, NULL, 0), KMQTT_OK);
    assert_int_equal(legacy_session_restore_inbound_qos2(&t->s, 9), KMQTT_OK);
    /* Refused: an id in use, id 0, not a QoS 1/2 PUBLISH. */
    assert_int_equal(legacy_session_restore_publish(&t->s, 300, false, pub, sizeof pub),
                     KMQTT_EINVAL);
    assert_int_equal(legacy_session_restore_publish(&t->s, 0, false, pub, sizeof pub), KMQTT_EINVAL);
    pub[0] = 0x30;
    assert_int_equal(legacy_session_restore_publish(&t->s, 302, false, pub, sizeof pub),
                     KMQTT_EINVAL);
    pub[0] = 0x32;
    assert_int_equal(legacy_session_inflight(&t->s), 2);

    /* The broker kept the session: the PUBLISH again with DUP and its id,
     * then the PUBREL, in their original order. */
    ts_connect(t, false, true);
    ts_expect_sent(t, "3a 09 00 03 61 2f 62 01 2c 68 69  62 02 01 2d");
    /* The broker resends inbound QoS 2 id 9: answered, not delivered. */
    ts_feed_publish(t, 2, 9, true);
    ts_no_event(t);
    ts_expect_sent(t, "50 02 00 09");
    /* Acks complete them; a new publish takes an id after the restored. */
    ts_feed_ack(t, KMQTT_PUBACK, 300, 0);
    ev = ts_event(t, LEGACY_EV_PUBLISH_DONE);
    assert_int_equal(ev.packet_id, 300);
    ts_feed_ack(t, KMQTT_PUBCOMP, 301, 0);
    ev = ts_event(t, LEGACY_EV_PUBLISH_DONE);
    assert_int_equal(ev.packet_id, 301);
    assert_int_equal(ts_publish(t, 1), 302);
    /* Only while idle. */
    assert_int_equal(legacy_session_restore_publish(&t->s, 400, true, NULL, 0), KMQTT_ESTATE);
    free(t);
}

static void test_restore_without_session_is_a_new_delivery(void **state)
{
    ts_t *t = ts_new(KMQTT_V311);
    uint8_t pub[11];

    (void)state;
    hex_decode("34 09 00 03 61 2f 62 00 05 68 69", pub, sizeof pub); /* QoS 2, id 5 */
    assert_int_equal(legacy_session_restore_publish(&t->s, 5, false, pub, sizeof pub), KMQTT_OK);
    /* The broker forgot the session: sent as a new delivery (no DUP). */
    ts_connect(t, false, false);
    ts_expect_sent(t, "34 09 00 03 61 2f 62 00 05 68 69");
    free(t);
}

static void test_restore_limits(void **state)
{
    ts_t *t = ts_new(KMQTT_V311);
    uint16_t id;

    (void)state;
    for (id = 1; id <= t->cfg.max_inflight; id++)
        assert_int_equal(legacy_session_restore_publish(&t->s, id, true, NULL, 0), KMQTT_OK);
    assert_int_equal(legacy_session_restore_publish(&t->s, id, true, NULL, 0), KMQTT_ELIMIT);
    assert_int_equal(legacy_session_restore_inbound_qos2(&t->s, 0), KMQTT_EINVAL);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_reports_outbound_and_inbound),
        cmocka_unit_test(test_restore_resends_with_same_ids),
        cmocka_unit_test(test_restore_without_session_is_a_new_delivery),
        cmocka_unit_test(test_restore_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
