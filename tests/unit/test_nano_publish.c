/*
 * nano client, outbound: PUBLISH bytes at QoS 0/1/2, packet identifiers,
 * PUBLISHED events, PUBREL after PUBREC, the limits (store, max_inflight,
 * tx), invalid topics, and SUBSCRIBE / UNSUBSCRIBE bytes. MQTT 3.1.1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nano_script.h"

static nt_t T;

static void connected(void)
{
    nt_start(&T, KMQTT_V311);
    nt_connected(&T, 0, false);
}

static uint16_t publish_ok(const char *topic, const char *payload, uint8_t qos, uint32_t now)
{
    kmqtt_nano_msg_t m = nt_msg(topic, payload, qos, false);
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, now, &id), KMQTT_OK);
    if (qos > 0)
        assert_int_not_equal(id, 0); /* MQTT-2.3.1-1 */
    return id;
}

static void qos0_bytes_and_no_event(void **state)
{
    (void)state;
    connected();
    kmqtt_nano_msg_t m = nt_msg("t/1", "hi", 0, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 5, NULL), KMQTT_OK);
    nt_poll(&T, 5);
    nt_expect_sent(&T, "30 07 00 03 74 2f 31 68 69");
    m.retain = true;
    m.payload_len = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 6, NULL), KMQTT_OK);
    nt_poll(&T, 6);
    nt_expect_sent(&T, "31 05 00 03 74 2f 31"); /* retain bit, empty payload */
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    assert_int_equal(kmqtt_nano_store_used(&T.c), 0);
    nt_no_event(&T);
}

/* MQTT-4.3.2-1: a QoS 1 PUBLISH with a new id, unacknowledged until PUBACK. */
static void qos1_publish_and_puback(void **state)
{
    (void)state;
    connected();
    uint16_t id = publish_ok("t/1", "hi", 1, 5);
    nt_poll(&T, 5);
    nt_expect_sent(&T, nt_publish_hex(0x32, "t/1", id, "hi", false));
    assert_int_equal(kmqtt_nano_inflight(&T.c), 1);
    assert_true(kmqtt_nano_store_used(&T.c) >= 11); /* a copy of the 11-byte packet */
    nt_no_event(&T);

    nt_feed(&T, nt_ack_hex(0x40, id));
    nt_poll(&T, 6);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    assert_int_equal(e->packet_id, id);
    assert_int_equal(e->err, KMQTT_OK);
    assert_int_equal(e->reason_code, 0);
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    assert_int_equal(kmqtt_nano_store_used(&T.c), 0);
    nt_expect_nothing_sent(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
}

/* MQTT-4.3.3-1: PUBLISH QoS 2, PUBREC, then PUBREL (fixed header 0x62,
 * MQTT-3.6.1-1) with the same id; complete at PUBCOMP. */
static void qos2_publish_pubrec_pubrel_pubcomp(void **state)
{
    (void)state;
    connected();
    uint16_t id = publish_ok("t/1", "hi", 2, 5);
    nt_poll(&T, 5);
    nt_expect_sent(&T, nt_publish_hex(0x34, "t/1", id, "hi", false));

    nt_feed(&T, nt_ack_hex(0x50, id));
    nt_poll(&T, 6);
    nt_expect_sent(&T, nt_ack_hex(0x62, id));
    nt_no_event(&T); /* PUBREC is not completion */
    assert_int_equal(kmqtt_nano_inflight(&T.c), 1);

    nt_feed(&T, nt_ack_hex(0x70, id));
    nt_poll(&T, 7);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    assert_int_equal(e->packet_id, id);
    assert_int_equal(e->err, KMQTT_OK);
    nt_no_event(&T);
    nt_expect_nothing_sent(&T);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    assert_int_equal(kmqtt_nano_store_used(&T.c), 0);
}

/* MQTT-2.3.1-1/-2: ids are non-zero and not in use, also across the 16-bit
 * wrap while one message stays unacknowledged. */
static void packet_ids_nonzero_and_unique_across_wrap(void **state)
{
    (void)state;
    connected();
    uint16_t held = publish_ok("t/1", "h", 1, 0);
    uint16_t ids[7];
    for (int i = 0; i < 7; i++) {
        ids[i] = publish_ok("t/1", "x", 2, 0);
        assert_int_not_equal(ids[i], held);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(ids[i], ids[j]);
    }
    /* max_inflight (8) reached */
    kmqtt_nano_msg_t m = nt_msg("t/1", "x", 1, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_ELIMIT);
    nt_poll(&T, 0);
    ns_clear_out(&T.ns);
    for (int i = 0; i < 7; i++) {
        nt_feed(&T, nt_ack_hex(0x50, ids[i]));
        nt_feed(&T, nt_ack_hex(0x70, ids[i]));
    }
    nt_poll(&T, 1);
    nt_poll(&T, 1);
    for (int i = 0; i < 7; i++)
        assert_int_equal(nt_take(&T, KMQTT_NANO_EV_PUBLISHED)->packet_id, ids[i]);
    nt_no_event(&T);
    ns_clear_out(&T.ns);

    /* 65,540 more, each acknowledged: none may reuse the held id. */
    for (uint32_t n = 0; n < 65540u; n++) {
        uint16_t id = publish_ok("t/1", "x", 1, n);
        if (id == held)
            fail_msg("id %u in use reused after %u publishes", held, (unsigned)n);
        nt_poll(&T, n);
        nt_feed(&T, nt_ack_hex(0x40, id));
        nt_poll(&T, n);
        T.nev = T.seen = 0;
        T.ns.out_len = 0;
        if (kmqtt_nano_inflight(&T.c) != 1)
            fail_msg("after %u: inflight %u", (unsigned)n, (unsigned)kmqtt_nano_inflight(&T.c));
    }
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
}

/* Records are the packet's size + 8, rounded up to 4: "t/1" with 20 bytes
 * of payload is 29 + 8 -> 40 bytes; a 64-byte store holds one. */
static void store_full_is_elimit_and_nothing_is_sent(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.bufs.store_size = 64;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_connected(&T, 0, false);
    const char *p20 = "01234567890123456789";
    uint16_t id = publish_ok("t/1", p20, 1, 0);
    assert_int_equal(kmqtt_nano_store_used(&T.c), 40);
    nt_poll(&T, 0);
    ns_clear_out(&T.ns);
    kmqtt_nano_msg_t m = nt_msg("t/1", p20, 1, false);
    uint16_t id2 = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, &id2), KMQTT_ELIMIT);
    m.qos = 2;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, &id2), KMQTT_ELIMIT);
    nt_poll(&T, 1);
    nt_expect_nothing_sent(&T);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 1);
    assert_int_equal(kmqtt_nano_store_used(&T.c), 40);
    /* QoS 0 needs no store. */
    m.qos = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, NULL), KMQTT_OK);
    nt_poll(&T, 1);
    nt_expect_sent(&T, nt_publish_hex(0x30, "t/1", 0, p20, false));
    /* After the PUBACK there is room again. */
    nt_feed(&T, nt_ack_hex(0x40, id));
    nt_poll(&T, 2);
    nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    m.qos = 1;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 2, &id2), KMQTT_OK);
    nt_poll(&T, 2);
    nt_expect_sent(&T, nt_publish_hex(0x32, "t/1", id2, p20, false));
    assert_true(nt_guards_ok(&T));
}

static void no_store_means_qos0_only(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.bufs.store = NULL;
    T.bufs.store_size = 0;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_connected(&T, 0, false);
    kmqtt_nano_msg_t m = nt_msg("t/1", "x", 1, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_ELIMIT);
    m.qos = 2;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_ELIMIT);
    m.qos = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_OK);
    nt_poll(&T, 0);
    nt_expect_sent(&T, "30 06 00 03 74 2f 31 78");
}

static void max_inflight_is_elimit_until_an_ack(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.max_inflight = 2;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_connected(&T, 0, false);
    uint16_t a = publish_ok("t/1", "a", 1, 0);
    uint16_t b = publish_ok("t/1", "b", 2, 0);
    kmqtt_nano_msg_t m = nt_msg("t/1", "c", 1, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_ELIMIT);
    m.qos = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_OK);
    nt_poll(&T, 0);
    char want[256];
    snprintf(want, sizeof want, "%s %s %s", nt_publish_hex(0x32, "t/1", a, "a", false),
             nt_publish_hex(0x34, "t/1", b, "b", false), "30 06 00 03 74 2f 31 63");
    nt_expect_sent(&T, want);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 2);
    nt_feed(&T, nt_ack_hex(0x40, a));
    nt_poll(&T, 1);
    nt_take(&T, KMQTT_NANO_EV_PUBLISHED);
    m.qos = 1;
    uint16_t c = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 1, &c), KMQTT_OK);
    assert_int_not_equal(c, b);
}

/* The transport takes nothing: packets wait in tx; when tx has no room the
 * publish is refused with nothing queued, and the queued ones go out whole
 * and in order once the socket drains. */
static void tx_full_is_enobufs_with_nothing_queued(void **state)
{
    (void)state;
    connected();
    T.ns.send_room = 0;
    const char *p50 = "01234567890123456789012345678901234567890123456789";
    kmqtt_nano_msg_t m = nt_msg("t/1", p50, 0, false); /* 57 bytes each */
    int queued = 0;
    kmqtt_err_t err;
    while ((err = kmqtt_nano_publish(&T.c, &m, 0, NULL)) == KMQTT_OK) {
        queued++;
        nt_poll(&T, 0);
        assert_true(kmqtt_nano_want_write(&T.c));
        assert_true(queued <= NT_TX_SIZE / 57);
    }
    assert_int_equal(err, KMQTT_ENOBUFS);
    assert_int_equal(queued, NT_TX_SIZE / 57); /* 4 */
    /* QoS 1 is refused the same way and takes no id, no store. */
    m.qos = 1;
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, &id), KMQTT_ENOBUFS);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    assert_int_equal(kmqtt_nano_store_used(&T.c), 0);
    nt_expect_nothing_sent(&T);

    /* Drain a few bytes at a time: the output is the queued packets, whole. */
    char want[1024] = "";
    for (int i = 0; i < queued; i++) {
        strcat(want, nt_publish_hex(0x30, "t/1", 0, p50, false));
        strcat(want, " ");
    }
    for (uint32_t now = 1; now < 200 && kmqtt_nano_want_write(&T.c); now++) {
        T.ns.send_room = 7;
        nt_poll(&T, now);
    }
    assert_false(kmqtt_nano_want_write(&T.c));
    nt_expect_sent(&T, want);
    T.ns.send_room = -1;
    m.qos = 1;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 300, &id), KMQTT_OK);
    nt_poll(&T, 300);
    nt_expect_sent(&T, nt_publish_hex(0x32, "t/1", id, p50, false));
    assert_true(nt_guards_ok(&T));
}

static void larger_than_tx_is_etoobig(void **state)
{
    (void)state;
    connected();
    static char big[NT_TX_SIZE];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    kmqtt_nano_msg_t m = nt_msg("t/1", big, 0, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_ETOOBIG);
    m.qos = 1;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_ETOOBIG);
    /* Exactly tx: 1 + 2 (remaining length 253) + 2 + 3 + 248 = 256; one more byte is too big. */
    m.qos = 0;
    m.payload_len = NT_TX_SIZE - 8;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_OK);
    m.payload_len = NT_TX_SIZE - 7;
    nt_poll(&T, 0);
    assert_int_equal(T.ns.out_len, NT_TX_SIZE);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_ETOOBIG);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    assert_true(nt_guards_ok(&T));
}

/* MQTT-3.3.2-2 (no wildcards in a topic name), MQTT-4.7.3-1 (not empty),
 * MQTT-1.5.3-1 (well-formed UTF-8), MQTT-1.5.3-2 (no U+0000), QoS 3. */
static void invalid_publish_arguments_are_einval(void **state)
{
    (void)state;
    connected();
    const char *bad[] = {"", "a/+", "a/#", "+", "#", "a\xff", "\xc0\xaf", "a\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (uint8_t qos = 0; qos <= 2; qos++) {
            kmqtt_nano_msg_t m = nt_msg(bad[i], "x", qos, false);
            if (kmqtt_nano_publish(&T.c, &m, 0, NULL) != KMQTT_EINVAL)
                fail_msg("topic #%u at QoS %u accepted", (unsigned)i, qos);
        }
    }
    kmqtt_nano_msg_t m = nt_msg("a b", "x", 0, false);
    m.topic = "a\0b";
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_EINVAL);
    m = nt_msg("t", "x", 3, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_EINVAL);
    m = nt_msg("t", "x", 0, false);
    m.topic = NULL;
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_publish(&T.c, NULL, 0, NULL), KMQTT_EINVAL);
    nt_poll(&T, 0);
    nt_expect_nothing_sent(&T);
    assert_int_equal(kmqtt_nano_inflight(&T.c), 0);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
}

/* 3.1.1 SUBSCRIBE: 0x82 (MQTT-3.8.1-1), id, filters with a QoS byte; SUBACK
 * return codes reported as they came (0x80 = failure). */
static void subscribe_and_suback(void **state)
{
    (void)state;
    connected();
    kmqtt_nano_sub_t subs[2] = {{"a/+", 1}, {"b/#", 2}};
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_subscribe(&T.c, subs, 2, NULL, 0, 0, &id), KMQTT_OK);
    assert_int_not_equal(id, 0);
    nt_poll(&T, 0);
    char want[128];
    snprintf(want, sizeof want, "82 0e %02x %02x 00 03 61 2f 2b 01 00 03 62 2f 23 02", id >> 8,
             id & 0xff);
    nt_expect_sent(&T, want);
    snprintf(want, sizeof want, "90 04 %02x %02x 01 80", id >> 8, id & 0xff);
    nt_feed(&T, want);
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_SUBACK);
    assert_int_equal(e->packet_id, id);
    assert_int_equal(e->count, 2);
    assert_int_equal(e->codes[0], 0x01);
    assert_int_equal(e->codes[1], 0x80);
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
}

static void unsubscribe_and_unsuback(void **state)
{
    (void)state;
    connected();
    const char *filters[2] = {"a/+", "b"};
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_unsubscribe(&T.c, filters, 2, 0, &id), KMQTT_OK);
    assert_int_not_equal(id, 0);
    nt_poll(&T, 0);
    char want[128];
    snprintf(want, sizeof want, "a2 0a %02x %02x 00 03 61 2f 2b 00 01 62", id >> 8, id & 0xff);
    nt_expect_sent(&T, want); /* 0xa2: MQTT-3.10.1-1 */
    nt_feed(&T, nt_ack_hex(0xb0, id));
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_UNSUBACK);
    assert_int_equal(e->packet_id, id);
    assert_int_equal(e->count, 0);
    nt_no_event(&T);
}

/* MQTT-4.7.1-2/-3 wildcard placement, no filters (MQTT-3.8.3-3), 3.1.1
 * options beyond QoS. */
static void invalid_subscribe_arguments_are_einval(void **state)
{
    (void)state;
    connected();
    const char *bad[] = {"", "a/#/b", "a#", "a/b+", "+a", "a\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kmqtt_nano_sub_t s = {bad[i], 0};
        if (kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 0, NULL) != KMQTT_EINVAL)
            fail_msg("filter #%u accepted by subscribe", (unsigned)i);
        if (kmqtt_nano_unsubscribe(&T.c, &bad[i], 1, 0, NULL) != KMQTT_EINVAL)
            fail_msg("filter #%u accepted by unsubscribe", (unsigned)i);
    }
    kmqtt_nano_sub_t s = {"a", 3};
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 0, NULL), KMQTT_EINVAL);
    s.options = KMQTT_NANO_NO_LOCAL | 1; /* 5.0 only */
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 0, NULL), KMQTT_EINVAL);
    s.options = 1;
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 0, NULL, 0, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_subscribe(&T.c, NULL, 1, NULL, 0, 0, NULL), KMQTT_EINVAL);
    nt_poll(&T, 0);
    nt_expect_nothing_sent(&T);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qos0_bytes_and_no_event),
        cmocka_unit_test(qos1_publish_and_puback),
        cmocka_unit_test(qos2_publish_pubrec_pubrel_pubcomp),
        cmocka_unit_test(packet_ids_nonzero_and_unique_across_wrap),
        cmocka_unit_test(store_full_is_elimit_and_nothing_is_sent),
        cmocka_unit_test(no_store_means_qos0_only),
        cmocka_unit_test(max_inflight_is_elimit_until_an_ack),
        cmocka_unit_test(tx_full_is_enobufs_with_nothing_queued),
        cmocka_unit_test(larger_than_tx_is_etoobig),
        cmocka_unit_test(invalid_publish_arguments_are_einval),
        cmocka_unit_test(subscribe_and_suback),
        cmocka_unit_test(unsubscribe_and_unsuback),
        cmocka_unit_test(invalid_subscribe_arguments_are_einval),
    };
    return cmocka_run_group_tests_name("nano publish", tests, NULL, NULL);
}
