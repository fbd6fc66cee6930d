/* Store and forward, the engine's side: the change hook reports what must
 * be persisted, in time (before the packet can leave, before a message is
 * delivered), and records put back by kmqtt_session_restore(_inbound) are resent
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
    kmqtt_session_change_t what[16];
    uint16_t id[16];
    uint8_t bytes[16][32];
    size_t len[16];
    const ts_t *t; /* to check the bytes were not yet queued for sending */
    size_t tx_at_change[16];
} changes_t;

static void on_change(void *ctx, kmqtt_session_change_t what, uint16_t id, const uint8_t *bytes,
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
    c->tx_at_change[c->n] = kmqtt_session_tx_peek(&c->t->s, &buf);
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
    kmqtt_session_set_change_hook(&t->s, on_change, &ch);
    ts_connect(t, false, false);
    /* A CONNACK without a session starts a new one: held inbound ids (none
     * yet) are forgotten, and that is reported too. */
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.what[0], KMQTT_SESSION_CH_INBOUND_CLEAR);
    ch.n = 0;

    (void)ts_publish(t, 0); /* QoS 0: nothing to persist */
    ts_take(t);
    assert_int_equal(ch.n, 0);
    id1 = ts_publish(t, 1);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.what[0], KMQTT_SESSION_CH_PUBLISH);
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
    assert_int_equal(ch.what[2], KMQTT_SESSION_CH_PUBREL);
    assert_int_equal(ch.id[2], id2);
    ts_take(t);

    /* Inbound QoS 2: persisted before the message is delivered. */
    ts_feed_publish(t, 2, 77, false);
    assert_int_equal(kmqtt_session_next_event(&t->s, t->now, &(kmqtt_session_event_t){0}),
                     KMQTT_OK);
    assert_int_equal(ch.n, 4);
    assert_int_equal(ch.what[3], KMQTT_SESSION_CH_INBOUND);
    assert_int_equal(ch.id[3], 77);
    ts_take(t);
    ts_feed_ack(t, KMQTT_PUBREL, 77, 0);
    ts_no_event(t);
    assert_int_equal(ch.n, 5);
    assert_int_equal(ch.what[4], KMQTT_SESSION_CH_RELEASED);
    assert_int_equal(ch.id[4], 77);

    /* A new session (broker kept none) forgets held inbound ids: reported. */
    ts_feed_publish(t, 2, 78, false);
    (void)ts_event(t, KMQTT_SESSION_EV_MESSAGE);
    kmqtt_session_lost(&t->s);
    ts_connect(t, false, false);
    assert_true(ch.n >= 7);
    assert_int_equal(ch.what[6], KMQTT_SESSION_CH_INBOUND_CLEAR);
    free(t);
}

static void test_restore_resends_with_same_ids(void **state)
{
    ts_t *t = ts_new(KMQTT_V311);
    uint8_t pub[11];
    kmqtt_session_event_t ev;

    (void)state;
    hex_decode("32 09 00 03 61 2f 62 01 2c 68 69", pub, sizeof pub); /* QoS 1, id 300 */
    assert_int_equal(kmqtt_session_restore(&t->s, 300, false, pub, sizeof pub), KMQTT_OK);
    assert_int_equal(kmqtt_session_restore(&t->s, 301, true, NULL, 0), KMQTT_OK);
    assert_int_equal(kmqtt_session_restore_inbound(&t->s, 9), KMQTT_OK);
    /* Refused: an id in use, id 0, not a QoS 1/2 PUBLISH (a damaged
     * record: KMQTT_ESTORE). */
    assert_int_equal(kmqtt_session_restore(&t->s, 300, false, pub, sizeof pub), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_restore(&t->s, 0, false, pub, sizeof pub), KMQTT_EINVAL);
    pub[0] = 0x30;
    assert_int_equal(kmqtt_session_restore(&t->s, 302, false, pub, sizeof pub), KMQTT_ESTORE);
    pub[0] = 0x32;
    assert_int_equal(kmqtt_session_inflight(&t->s), 2);

    /* The broker kept the session: the PUBLISH again with DUP and its id,
     * then the PUBREL, in their original order. */
    ts_connect(t, false, true);
    ts_expect_sent(t, "3a 09 00 03 61 2f 62 01 2c 68 69  62 02 01 2d");
    /* The broker resends inbound QoS 2 id 9: answered, not delivered. */
    ts_feed_publish(t, 2, 9, true);
    ts_no_event(t);
    ts_expect_sent(t, "50 02 00 09");
    /* A new publish takes an id none of the restored holds (MQTT-2.2.1-3). */
    ts_take(t);
    uint16_t id = ts_publish(t, 1);
    assert_true(id != 0 && id != 300 && id != 301);
    ts_take(t);
    /* Acks complete them. */
    ts_feed_ack(t, KMQTT_PUBACK, 300, 0);
    ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, 300);
    ts_feed_ack(t, KMQTT_PUBCOMP, 301, 0);
    ev = ts_event(t, KMQTT_SESSION_EV_PUBLISHED);
    assert_int_equal(ev.packet_id, 301);
    /* Only while idle. */
    assert_int_equal(kmqtt_session_restore(&t->s, 400, true, NULL, 0), KMQTT_ESTATE);
    free(t);
}

static void test_restore_without_session_is_a_new_delivery(void **state)
{
    ts_t *t = ts_new(KMQTT_V311);
    uint8_t pub[11];

    (void)state;
    hex_decode("34 09 00 03 61 2f 62 00 05 68 69", pub, sizeof pub); /* QoS 2, id 5 */
    assert_int_equal(kmqtt_session_restore(&t->s, 5, false, pub, sizeof pub), KMQTT_OK);
    /* The broker forgot the session: sent as a new delivery (no DUP). */
    ts_connect(t, false, false);
    ts_expect_sent(t, "34 09 00 03 61 2f 62 00 05 68 69");
    free(t);
}

/* restore_hex: hex of a record restored under id 7 in session t. */
static kmqtt_err_t restore_hex(ts_t *t, const char *hex)
{
    uint8_t b[64];
    size_t n = hex_decode(hex, b, sizeof b);
    return kmqtt_session_restore(&t->s, 7, false, b, n);
}

/* Rule 7 of DESIGN.md: nothing from the disk is trusted before the codec
 * decoded it. A record's bytes (its CRC checked by the store) must be
 * exactly one QoS 1/2 PUBLISH of the record's packet id, in the session's
 * protocol version, with nothing after it; anything else is refused
 * (KMQTT_ESTORE) and never reaches the wire. The session is unchanged by a
 * refusal, and a good record after the bad ones goes out alone. */
static void test_restore_decodes_every_record(void **state)
{
    ts_t *t = ts_new(KMQTT_V311);
    (void)state;
    /* A SUBSCRIBE to '#' the application never made. */
    assert_int_equal(restore_hex(t, "82 08 00 07 00 03 61 2f 62 00"), KMQTT_ESTORE);
    /* A good PUBLISH with a SUBSCRIBE after it (it would have been sent too). */
    assert_int_equal(restore_hex(t, "32 09 00 03 61 2f 62 00 07 68 69  82 06 00 08 00 01 23 00"),
                     KMQTT_ESTORE);
    /* One stray byte after the PUBLISH. */
    assert_int_equal(restore_hex(t, "32 09 00 03 61 2f 62 00 07 68 69 00"), KMQTT_ESTORE);
    /* QoS 0 (no packet id, no ack: not a flow) and QoS 3 (MQTT-3.3.1-4). */
    assert_int_equal(restore_hex(t, "30 07 00 03 61 2f 62 68 69"), KMQTT_ESTORE);
    assert_int_equal(restore_hex(t, "36 09 00 03 61 2f 62 00 07 68 69"), KMQTT_ESTORE);
    /* Another packet id than the record's (id 8 restored as 7). */
    assert_int_equal(restore_hex(t, "32 09 00 03 61 2f 62 00 08 68 69"), KMQTT_ESTORE);
    /* Truncated: the remaining length says 9, 8 bytes follow. */
    assert_int_equal(restore_hex(t, "32 09 00 03 61 2f 62 00 07 68"), KMQTT_ESTORE);
    /* The remaining length cuts through the topic (the string runs past
     * the end of the packet). */
    assert_int_equal(restore_hex(t, "32 04 00 03 61 2f"), KMQTT_ESTORE);
    /* A wildcard in the topic name (MQTT-3.3.2-2), a bad remaining length. */
    assert_int_equal(restore_hex(t, "32 09 00 03 61 2f 23 00 07 68 69"), KMQTT_ESTORE);
    assert_int_equal(restore_hex(t, "32 ff ff ff ff 7f"), KMQTT_ESTORE);
    assert_int_equal(restore_hex(t, "32"), KMQTT_ESTORE);
    assert_int_equal(kmqtt_session_restore(&t->s, 7, false, NULL, 0), KMQTT_ESTORE);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);

    /* The good record: only it goes out, with DUP (MQTT-4.4.0-1). */
    assert_int_equal(restore_hex(t, "32 09 00 03 61 2f 62 00 07 68 69"), KMQTT_OK);
    assert_int_equal(kmqtt_session_inflight(&t->s), 1);
    ts_connect(t, false, true);
    ts_expect_sent(t, "3a 09 00 03 61 2f 62 00 07 68 69");
    free(t);
}

/* In 5.0 the record is decoded as 5.0: a 3.1.1 PUBLISH (whose payload
 * would be read as a property length) is refused, and so is a PUBLISH that
 * names its topic by an alias: an alias belongs to the connection that set
 * it up (MQTT-3.3.2-7), the store keeps full topics. */
static void test_restore_decodes_in_the_session_version(void **state)
{
    ts_t *t = ts_new(KMQTT_V5);
    (void)state;
    assert_int_equal(restore_hex(t, "32 09 00 03 61 2f 62 00 07 68 69"), KMQTT_ESTORE);
    /* Topic alias 1 in place of the topic, and beside a full topic. */
    assert_int_equal(restore_hex(t, "32 0a 00 00 00 07 03 23 00 01 68 69"), KMQTT_ESTORE);
    assert_int_equal(restore_hex(t, "32 0d 00 03 61 2f 62 00 07 03 23 00 01 68 69"), KMQTT_ESTORE);
    /* A Subscription Identifier: the server's to send, never ours
     * (MQTT-3.3.4-6). */
    assert_int_equal(restore_hex(t, "32 0c 00 03 61 2f 62 00 07 02 0b 01 68 69"), KMQTT_ESTORE);
    assert_int_equal(kmqtt_session_inflight(&t->s), 0);
    /* The same message in 5.0 form (empty property block) is taken. */
    assert_int_equal(restore_hex(t, "32 0a 00 03 61 2f 62 00 07 00 68 69"), KMQTT_OK);
    assert_int_equal(kmqtt_session_inflight(&t->s), 1);
    free(t);
}

static void test_restore_limits(void **state)
{
    ts_t *t = ts_new(KMQTT_V311);
    uint16_t id;

    (void)state;
    for (id = 1; id <= t->cfg.max_inflight; id++)
        assert_int_equal(kmqtt_session_restore(&t->s, id, true, NULL, 0), KMQTT_OK);
    assert_int_equal(kmqtt_session_restore(&t->s, id, true, NULL, 0), KMQTT_ELIMIT);
    assert_int_equal(kmqtt_session_restore_inbound(&t->s, 0), KMQTT_EINVAL);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_reports_outbound_and_inbound),
        cmocka_unit_test(test_restore_resends_with_same_ids),
        cmocka_unit_test(test_restore_without_session_is_a_new_delivery),
        cmocka_unit_test(test_restore_limits),
        cmocka_unit_test(test_restore_decodes_every_record),
        cmocka_unit_test(test_restore_decodes_in_the_session_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
