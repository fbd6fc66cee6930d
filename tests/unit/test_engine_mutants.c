/*
 * The engine (include/kmqtt/session.h) at the points where mutation testing
 * (make mutate, docs/proof.md) found a wrong engine that every other test
 * let through: each test here fails on such a mutant (named in its comment
 * as file: change) and passes on the engine as written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine_script.h"

static et_t T;

#if KMQTT_CFG_QOS2
/* 3.1.1 PUBLISH QoS 2, topic "a", payload "x", id as given. */
static const char *qos2_publish(uint16_t id)
{
    static char hex[32];
    snprintf(hex, sizeof hex, "34 06 00 01 61 %02x %02x 78", id >> 8, id & 0xff);
    return hex;
}
#endif

#if KMQTT_CFG_V5
static size_t tx_bytes(void)
{
    const uint8_t *buf;
    return kmqtt_session_tx_peek(&T.s, &buf);
}
#endif

/* 3.2.2.3: CONNACK return codes 6..255 are reserved (session_input.c:
 * rc > 5 to rc > 6). */
static void connack_311_return_code_6_is_reserved(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, "20 02 00 06", 0);
    assert_int_equal(et_next(&T, 0), KMQTT_EREASON_CODE);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
}

/* MQTT-3.9.2-1: a SUBACK has a packet id; one byte is truncated, not read
 * past (session_input.c: end - b < 2 to < 1). */
static void suback_of_one_byte_is_truncated(void **state)
{
    (void)state;
    static const kmqtt_session_sub_t sub = {"a", 1};
    uint16_t id;
    et_start(&T, KMQTT_V311);
    et_connect(&T, 0, false, "");
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, &id), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, "90 01 00", 0);
    assert_int_equal(et_next(&T, 0), KMQTT_ETRUNCATED);
}

#if KMQTT_CFG_QOS2
/* MQTT-3.9.3-2: 0x02 (maximum QoS 2) is a valid 3.1.1 SUBACK code
 * (session_input.c: b[i] > 2u to > 1u). */
static void suback_311_grants_qos_2(void **state)
{
    (void)state;
    static const kmqtt_session_sub_t sub = {"a", 2};
    uint16_t id;
    et_start(&T, KMQTT_V311);
    et_connect(&T, 0, false, "");
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, &id), KMQTT_OK);
    et_drain(&T, 0);
    char hex[32];
    snprintf(hex, sizeof hex, "90 03 %02x %02x 02", id >> 8, id & 0xff);
    et_feed(&T, hex, 0);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_SUBACK, 0);
    assert_int_equal(ev->count, 1);
    assert_int_equal(ev->codes[0], 2);
}

/* Decision 6: beyond the inbound table the oldest id is forgotten, and only
 * it; the others stay held (MQTT-4.3.3-2: not delivered again)
 * (session_input.c ks_hold: memmove from inbound + 1 to + 0). */
static void qos2_eviction_forgets_only_the_oldest_id(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311);
    et_connect(&T, 0, false, "");
    for (uint16_t id = 1; id <= ET_INBOUND + 1; id++) {
        et_feed(&T, qos2_publish(id), 0);
        et_take(&T, KMQTT_SESSION_EV_MESSAGE, 0);
        et_expect_sent(&T, et_ack(0x50, id), 0);
    }
    assert_int_equal(kmqtt_session_qos2_evictions(&T.s), 1);
    /* 2..5 held: a copy of 4 is answered, not delivered */
    et_feed(&T, qos2_publish(4), 0);
    et_none(&T, 0);
    et_expect_sent(&T, et_ack(0x50, 4), 0);
    /* 1 forgotten: delivered as a new message */
    et_feed(&T, qos2_publish(1), 0);
    et_take(&T, KMQTT_SESSION_EV_MESSAGE, 0);
    et_expect_sent(&T, et_ack(0x50, 1), 0);
}

#if KMQTT_CFG_INBOUND_BITS
static uint8_t bits[KMQTT_SESSION_INBOUND_BITS_SIZE];

static void start_with_bitmap(bool clean)
{
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = clean;
    T.bufs.inbound_bits = bits;
    assert_int_equal(et_init(&T), KMQTT_OK);
}

/* The 3.1.1 bitmap: PUBREL releases exactly its id's bit, so the id's next
 * message is delivered (session_input.c release: id & 7u to id & 6u). */
static void bitmap_pubrel_releases_its_own_bit(void **state)
{
    (void)state;
    start_with_bitmap(true);
    et_connect(&T, 0, false, "");
    et_feed(&T, qos2_publish(7), 0);
    et_take(&T, KMQTT_SESSION_EV_MESSAGE, 0);
    et_expect_sent(&T, et_ack(0x50, 7), 0);
    et_feed(&T, et_ack(0x62, 7), 0);
    et_none(&T, 0);
    et_expect_sent(&T, et_ack(0x70, 7), 0);
    et_feed(&T, qos2_publish(7), 0);
    et_take(&T, KMQTT_SESSION_EV_MESSAGE, 0);
}

/* kmqtt_session_init clears the caller's bitmap, whatever it held: with a
 * session found (no clearing at the CONNACK) no id is held that was not
 * received (session.c: memset(bits, 0) to memset(bits, 1)). */
static void bitmap_starts_empty_over_garbage(void **state)
{
    (void)state;
    memset(bits, 0xFF, sizeof bits);
    start_with_bitmap(false);
    et_connect(&T, 0, true, "");
    et_feed(&T, qos2_publish(8), 0);
    et_take(&T, KMQTT_SESSION_EV_MESSAGE, 0);
}
#endif
#endif

#if KMQTT_CFG_OFFLINE_QUEUE
/* The change hook gets bytes only with KMQTT_SESSION_CH_PUBLISH
 * (session.h); DONE has none (session_store.c: NULL, 0 to NULL, 1). */
static void change_hook_done_carries_no_bytes(void **state)
{
    (void)state;
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "a";
    m.topic_len = 1;
    m.qos = 1;
    uint16_t id;
    et_start(&T, KMQTT_V311);
    et_connect(&T, 0, false, "");
    assert_int_equal(kmqtt_session_publish(&T.s, &m, &id), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, et_ack(0x40, id), 0);
    et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 0);
    int done = -1;
    for (int i = 0; i < T.changes && i < 16; i++)
        if (T.change[i] == KMQTT_SESSION_CH_DONE)
            done = i;
    assert_true(done >= 0);
    assert_int_equal(T.change_id[done], id);
    assert_int_equal(T.change_len[done], 0);
}

/* A restored record may be a retained PUBLISH: its first byte is 0x3N with
 * any flags (session_store.c: b[0] & 0xF0u to & 0xF1u). */
static void restore_accepts_a_retained_publish(void **state)
{
    (void)state;
    static const uint8_t pub[] = {0x33, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01};
    et_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_restore(&T.s, 1, false, pub, sizeof pub), KMQTT_OK);
    assert_int_equal(kmqtt_session_inflight(&T.s), 1);
}

/* A restored PUBLISH of one byte after its header is refused, and nothing
 * beyond its len bytes is read (session_store.c: end - p < 2 to < 1; the
 * bytes after it would make a valid topic "a" and id 5). */
static void restore_refuses_a_one_byte_body(void **state)
{
    (void)state;
    static const uint8_t pub[] = {0x32, 0x01, 0x00, 0x01, 'a', 0x00, 0x05};
    et_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_restore(&T.s, 5, false, pub, 3), KMQTT_ESTORE);
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
}

/* With pubrel the bytes are not used: only the id is kept, a record of its
 * 8-byte header (session_store.c: len = 0 dropped). */
static void restore_of_a_pubrel_keeps_only_the_id(void **state)
{
    (void)state;
    static const uint8_t junk[] = {0x32, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x03};
    et_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_restore(&T.s, 3, true, junk, sizeof junk), KMQTT_OK);
    assert_int_equal(kmqtt_session_store_used(&T.s), 8);
}

#if KMQTT_CFG_QOS2
/* kmqtt_session_clear forgets the inbound QoS 2 ids too: a message with a
 * held id is delivered after it (session_store.c: ks_forget_inbound
 * dropped). */
static void clear_forgets_inbound_qos2_ids(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    et_feed(&T, qos2_publish(3), 0);
    et_take(&T, KMQTT_SESSION_EV_MESSAGE, 0);
    et_drain(&T, 0);
    kmqtt_session_lost(&T.s);
    assert_int_equal(kmqtt_session_clear(&T.s), KMQTT_OK);
    et_connect(&T, 10, true, "");
    et_feed(&T, qos2_publish(3), 10);
    et_take(&T, KMQTT_SESSION_EV_MESSAGE, 10);
}
#endif

/* A record acknowledged while it waits to be sent again (tx had no room
 * after the CONNACK) leaves the next one owed, not skipped: its removal
 * keeps resend_off on the record that follows (session_store.c cut:
 * resend_off > off to >=). */
static void ack_of_a_record_awaiting_resend_keeps_the_next_owed(void **state)
{
    (void)state;
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "a";
    m.topic_len = 1;
    m.qos = 1;
    m.payload = (const uint8_t *)"xxxxxxxx";
    m.payload_len = 8;
    uint16_t id1, id2;
    const uint8_t *buf;
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    T.bufs.tx_size = 24; /* the CONNECT (18) and a PUBLISH (15) do not fit at once */
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    assert_int_equal(kmqtt_session_publish(&T.s, &m, &id1), KMQTT_OK);
    et_drain(&T, 0);
    assert_int_equal(kmqtt_session_publish(&T.s, &m, &id2), KMQTT_OK);
    et_drain(&T, 0);
    kmqtt_session_lost(&T.s);
    assert_int_equal(kmqtt_session_start(&T.s, 10), KMQTT_OK);
    et_feed(&T, "20 02 01 00", 10);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 10);
    /* the CONNECT still fills tx: nothing resent yet; the server acks id1 */
    et_feed(&T, et_ack(0x40, id1), 10);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 10)->packet_id, id1);
    kmqtt_session_tx_consume(&T.s, kmqtt_session_tx_peek(&T.s, &buf), 10);
    char hex[64];
    snprintf(hex, sizeof hex, "3a 0d 00 01 61 %02x %02x 78 78 78 78 78 78 78 78", id2 >> 8,
             id2 & 0xff);
    et_expect_sent(&T, hex, 10);
}
#endif

/* The accessors and restore take NULL (session.c, session_store.c: 0u to
 * 1u; s == NULL || to &&). */
static void null_session_is_answered_not_dereferenced(void **state)
{
    (void)state;
    uint8_t reason = 0xAA;
    static const uint8_t pub[] = {0x32, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01};
    assert_int_equal(kmqtt_session_unknown_acks(NULL), 0);
    assert_int_equal(kmqtt_session_pubrel_failures(NULL, &reason), 0);
    assert_int_equal(reason, 0);
    assert_int_equal(kmqtt_session_restore(NULL, 1, false, pub, sizeof pub), KMQTT_EINVAL);
}

#if KMQTT_CFG_V5
/* 5.0 acks: a malformed property block is reported as such, not as
 * trailing bytes (session_input.c tail: r != KMQTT_OK to ==). */
static void v5_ack_with_malformed_props_names_it(void **state)
{
    (void)state;
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "a";
    m.topic_len = 1;
    m.qos = 1;
    uint16_t id;
    et_start(&T, KMQTT_V5);
    et_connect(&T, 0, false, "");
    assert_int_equal(kmqtt_session_publish(&T.s, &m, &id), KMQTT_OK);
    et_drain(&T, 0);
    char hex[32];
    /* reason 0, a block of one byte: property 0x01 without its value */
    snprintf(hex, sizeof hex, "40 05 %02x %02x 00 01 01", id >> 8, id & 0xff);
    et_feed(&T, hex, 0);
    kmqtt_err_t err = et_next(&T, 0);
    assert_true(err < 0);
    assert_int_not_equal(err, KMQTT_ETRAILING);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
}

#if KMQTT_CFG_QOS2
/* 4.3.3: a PUBREC with a failure code (0x80) ends the flow, also for an id
 * the store does not hold: no PUBREL (session_input.c ack: reason_code <
 * 0x80u to < 0x81u). */
static void v5_failed_pubrec_of_unknown_id_gets_no_pubrel(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V5);
    et_connect(&T, 0, false, "");
    et_feed(&T, "50 03 00 09 80", 0);
    et_none(&T, 0);
    assert_int_equal(tx_bytes(), 0);
    assert_int_equal(kmqtt_session_unknown_acks(&T.s), 1);
}

/* A PUBREL sent again after a reconnect is the plain PUBREL (reason 0x00,
 * omitted: 3.6.2.1) (session_store.c ks_resend: reason 0 to 1). */
static void v5_resent_pubrel_has_no_reason(void **state)
{
    (void)state;
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "a";
    m.topic_len = 1;
    m.qos = 2;
    uint16_t id;
    et_setup(&T, KMQTT_V5);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    assert_int_equal(kmqtt_session_publish(&T.s, &m, &id), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, et_ack(0x50, id), 0);
    et_none(&T, 0);
    et_expect_sent(&T, et_ack(0x62, id), 0);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 10, true, "");
    et_expect_sent(&T, et_ack(0x62, id), 10);
}
#endif

/* MQTT-3.1.2-24 / 3.1.2.11.4: the CONNECT advertises rx's size as Maximum
 * Packet Size, all four bytes of it (session_wire.c: rx_size >> 16 to
 * >> 17). rx is never written here, but is as large as it says. */
static void v5_connect_advertises_an_rx_over_64_kib(void **state)
{
    (void)state;
    static uint8_t big_rx[0x10010];
    et_setup(&T, KMQTT_V5);
    T.bufs.rx = big_rx;
    T.bufs.rx_size = sizeof big_rx;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_expect_sent(
        &T, "10 19 00 04 4d 51 54 54 05 02 00 3c 08 21 00 04 27 00 01 00 10 00 04 64 65 76 31", 0);
}

/* MQTT-3.8.3-4 forbids No Local (0x04) on a shared subscription, nothing
 * else: QoS 1 on one is fine (session_publish.c: o & 0x04u to & 0x05u). */
static void v5_shared_subscription_refuses_only_no_local(void **state)
{
    (void)state;
    kmqtt_session_sub_t sub = {"$share/g/a", 1};
    uint16_t id;
    et_start(&T, KMQTT_V5);
    et_connect(&T, 0, false, "");
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, &id), KMQTT_OK);
    sub.options = 0x05;
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, &id), KMQTT_EINVAL);
}

#if KMQTT_CFG_TOPIC_ALIAS
/* kmqtt_session_init: alias slots need a topic length and their buffer
 * (session.c: alias_topic_len == 0 to == 1, alias_in_max > 0 to > 1). */
static void v5_alias_slots_need_their_buffer_and_length(void **state)
{
    (void)state;
    static uint8_t slots[4 * KMQTT_SESSION_ALIAS_IN_SLOT(8)];
    et_setup(&T, KMQTT_V5);
    T.bufs.alias_in = NULL;
    T.bufs.alias_in_max = 1;
    T.bufs.alias_topic_len = 8;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    et_setup(&T, KMQTT_V5);
    T.bufs.alias_in = slots;
    T.bufs.alias_in_max = 1;
    T.bufs.alias_topic_len = 0;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    et_setup(&T, KMQTT_V5);
    T.bufs.alias_in = slots;
    T.bufs.alias_in_max = 1;
    T.bufs.alias_topic_len = 1;
    assert_int_equal(et_init(&T), KMQTT_OK);
}

/* A PUBLISH whose stored form (full topic) exceeds tx is too big even when
 * its alias form would fit now: it could never be sent again after a
 * reconnect, where aliases start empty (MQTT-3.3.2-7) (session_publish.c:
 * room(n) || room(ntx) to &&). */
static void v5_publish_too_big_without_its_alias_is_refused(void **state)
{
    (void)state;
    static uint8_t slots[2 * KMQTT_SESSION_ALIAS_OUT_SLOT(16)];
    static uint8_t payload[30];
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "abcdefgh";
    m.topic_len = 8;
    et_setup(&T, KMQTT_V5);
    T.bufs.tx_size = 40;
    T.bufs.alias_out = slots;
    T.bufs.alias_out_max = 2;
    T.bufs.alias_topic_len = 16;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "22 00 02"); /* Topic Alias Maximum 2 */
    /* the first use sends the topic and sets the alias */
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_OK);
    et_drain(&T, 0);
    /* full form 43 bytes > tx 40; the alias form (38) would fit */
    m.payload = payload;
    m.payload_len = sizeof payload;
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_ETOOBIG);
    assert_int_equal(tx_bytes(), 0);
}
#endif
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connack_311_return_code_6_is_reserved),
        cmocka_unit_test(suback_of_one_byte_is_truncated),
#if KMQTT_CFG_QOS2
        cmocka_unit_test(suback_311_grants_qos_2),
        cmocka_unit_test(qos2_eviction_forgets_only_the_oldest_id),
#if KMQTT_CFG_INBOUND_BITS
        cmocka_unit_test(bitmap_pubrel_releases_its_own_bit),
        cmocka_unit_test(bitmap_starts_empty_over_garbage),
#endif
#endif
#if KMQTT_CFG_OFFLINE_QUEUE
        cmocka_unit_test(change_hook_done_carries_no_bytes),
        cmocka_unit_test(restore_accepts_a_retained_publish),
        cmocka_unit_test(restore_refuses_a_one_byte_body),
        cmocka_unit_test(restore_of_a_pubrel_keeps_only_the_id),
#if KMQTT_CFG_QOS2
        cmocka_unit_test(clear_forgets_inbound_qos2_ids),
#endif
        cmocka_unit_test(ack_of_a_record_awaiting_resend_keeps_the_next_owed),
#endif
        cmocka_unit_test(null_session_is_answered_not_dereferenced),
#if KMQTT_CFG_V5
        cmocka_unit_test(v5_ack_with_malformed_props_names_it),
#if KMQTT_CFG_QOS2
        cmocka_unit_test(v5_failed_pubrec_of_unknown_id_gets_no_pubrel),
        cmocka_unit_test(v5_resent_pubrel_has_no_reason),
#endif
        cmocka_unit_test(v5_connect_advertises_an_rx_over_64_kib),
        cmocka_unit_test(v5_shared_subscription_refuses_only_no_local),
#if KMQTT_CFG_TOPIC_ALIAS
        cmocka_unit_test(v5_alias_slots_need_their_buffer_and_length),
        cmocka_unit_test(v5_publish_too_big_without_its_alias_is_refused),
#endif
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
