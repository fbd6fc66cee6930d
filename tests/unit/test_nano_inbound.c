/*
 * nano client, inbound: messages at QoS 0/1/2 and their answers, stream
 * framing across recv calls, a full tx, oversized and malformed packets and
 * acks nobody asked for. MQTT 3.1.1.
 *
 * PUBLISH "t/1" "hi": QoS 0  30 07 00 03 74 2f 31 68 69
 *                     QoS 1  32 09 00 03 74 2f 31 <id> 68 69
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

static const nt_ev_t *expect_message(uint8_t qos, uint16_t id, const char *payload)
{
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_MESSAGE);
    assert_string_equal(e->topic, "t/1");
    assert_int_equal(e->topic_len, 3);
    assert_int_equal(e->qos, qos);
    assert_int_equal(e->msg_id, id);
    assert_int_equal(e->payload_len, strlen(payload));
    assert_memory_equal(e->payload, payload, strlen(payload));
    return e;
}

/* The connection is gone with an error, nothing was delivered, nothing
 * outside the buffers was touched. */
static void expect_lost(kmqtt_err_t want, const char *what)
{
    if (T.seen >= T.nev)
        fail_msg("%s: no event, expected LOST", what);
    const nt_ev_t *e = &T.ev[T.seen++];
    if (e->type != KMQTT_NANO_EV_LOST)
        fail_msg("%s: event %d, expected LOST", what, (int)e->type);
    if (want != 0 && e->err != want)
        fail_msg("%s: LOST with %d, expected %d", what, (int)e->err, (int)want);
    if (e->err >= 0)
        fail_msg("%s: LOST without an error (%d)", what, (int)e->err);
    nt_no_event(&T);
    if (T.ns.is_open)
        fail_msg("%s: the transport is still open", what);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_WAITING);
    assert_true(nt_guards_ok(&T));
}

static void qos0_message(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "31 07 00 03 74 2f 31 68 69");
    nt_poll(&T, 1);
    const nt_ev_t *e = expect_message(0, 0, "hi");
    assert_true(e->retain);
    assert_false(e->dup);
    nt_no_event(&T);
    nt_expect_nothing_sent(&T);
}

/* MQTT-4.3.2-2: PUBACK with the PUBLISH's id. */
static void qos1_message_is_acked(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "32 09 00 03 74 2f 31 12 34 68 69");
    nt_poll(&T, 1);
    const nt_ev_t *e = expect_message(1, 0x1234, "hi");
    assert_false(e->retain);
    assert_false(e->dup);
    nt_no_event(&T);
    nt_expect_sent(&T, "40 02 12 34");
}

/* MQTT-4.3.3-2: PUBREC, delivered once however often the PUBLISH comes again
 * (DUP) before PUBREL; PUBCOMP for PUBREL; afterwards the id is new. */
static void qos2_message_exactly_once(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "34 09 00 03 74 2f 31 00 09 68 69");
    nt_poll(&T, 1);
    expect_message(2, 9, "hi");
    nt_no_event(&T);
    nt_expect_sent(&T, "50 02 00 09");

    nt_feed(&T, "3c 09 00 03 74 2f 31 00 09 68 69"); /* DUP */
    nt_poll(&T, 2);
    nt_no_event(&T);
    nt_expect_sent(&T, "50 02 00 09");
    nt_feed(&T, "34 09 00 03 74 2f 31 00 09 68 69"); /* even without DUP */
    nt_poll(&T, 3);
    nt_no_event(&T);
    nt_expect_sent(&T, "50 02 00 09");

    nt_feed(&T, "62 02 00 09");
    nt_poll(&T, 4);
    nt_no_event(&T);
    nt_expect_sent(&T, "70 02 00 09");

    nt_feed(&T, "34 09 00 03 74 2f 31 00 09 79 6f");
    nt_poll(&T, 5);
    expect_message(2, 9, "yo");
    nt_expect_sent(&T, "50 02 00 09");
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
}

/* MQTT-4.6.0-2 / -3: PUBACKs and PUBRECs go out in the order the PUBLISHes
 * came in; MQTT-4.6.0-4: PUBCOMPs too (answering PUBRELs). */
static void answers_in_arrival_order(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "32 08 00 03 74 2f 31 00 05 61"
                " 34 08 00 03 74 2f 31 00 03 62"
                " 32 08 00 03 74 2f 31 00 01 63"
                " 34 08 00 03 74 2f 31 00 04 64");
    nt_poll(&T, 1);
    nt_poll(&T, 1);
    expect_message(1, 5, "a");
    expect_message(2, 3, "b");
    expect_message(1, 1, "c");
    expect_message(2, 4, "d");
    nt_no_event(&T);
    nt_expect_sent(&T, "40 02 00 05 50 02 00 03 40 02 00 01 50 02 00 04");
    nt_feed(&T, "62 02 00 04 62 02 00 03");
    nt_poll(&T, 2);
    nt_expect_sent(&T, "70 02 00 04 70 02 00 03");
}

/* A PUBREL for an id not held (our PUBCOMP was lost and the server sends
 * PUBREL again): answered PUBCOMP all the same, the message is not
 * delivered again, the connection stays. */
static void pubrel_for_an_unknown_id_gets_pubcomp(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "62 02 00 33");
    nt_poll(&T, 1);
    nt_expect_sent(&T, "70 02 00 33");
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
#if KMQTT_CFG_V5
    /* 5.0: PUBCOMP 0x92 Packet Identifier not found (3.7.2.1). */
    nt_start(&T, KMQTT_V5);
    nt_open(&T, 0);
    nt_feed(&T, "20 03 00 00 00");
    nt_poll(&T, 0);
    nt_skip_events(&T);
    ns_clear_out(&T.ns);
    nt_feed(&T, "62 02 00 33");
    nt_poll(&T, 1);
    nt_expect_sent(&T, "70 03 00 33 92");
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
#endif
}

/* Every split of the stream works: one byte per recv. */
static void packet_split_byte_by_byte(void **state)
{
    (void)state;
    connected();
    T.ns.chunk = 1;
    static const char *bytes[] = {"32", "09", "00", "03", "74", "2f", "31", "00", "07", "68"};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        nt_feed(&T, bytes[i]);
        nt_poll(&T, (uint32_t)i);
        nt_no_event(&T);
        nt_expect_nothing_sent(&T);
    }
    nt_feed(&T, "69");
    nt_poll(&T, 20);
    nt_poll(&T, 21);
    expect_message(1, 7, "hi");
    nt_no_event(&T);
    nt_expect_sent(&T, "40 02 00 07");
    /* A long stream one byte per call, many polls: all of it, in order. */
    for (int i = 0; i < 3; i++)
        nt_feed(&T, "30 07 00 03 74 2f 31 68 69");
    for (uint32_t now = 30; now < 200 && T.ns.in_len > 0; now++)
        nt_poll(&T, now);
    nt_poll(&T, 200);
    for (int i = 0; i < 3; i++)
        expect_message(0, 0, "hi");
    nt_no_event(&T);
}

/* The smallest rx (16 bytes) and packets straddling every chunk boundary:
 * the client makes room by moving what it has not used, never loses or
 * repeats a byte. Packets of 9..16 bytes, recv chunks of 1..9 bytes. */
static void small_rx_many_packets_every_split(void **state)
{
    (void)state;
    for (size_t chunk = 1; chunk <= 9; chunk++) {
        nt_setup(&T, KMQTT_V311);
        T.bufs.rx_size = 16;
        assert_int_equal(nt_init(&T), KMQTT_OK);
        nt_connected(&T, 0, false);
        T.ns.chunk = chunk;
        for (int i = 0; i < 8; i++) {
            /* QoS 1, topic "t/1", id i+1, payload of i bytes: 2 + 7 + i bytes */
            uint8_t pkt[16] = {0x32, (uint8_t)(7 + i), 0, 3, 't', '/', '1', 0, (uint8_t)(i + 1)};
            for (int k = 0; k < i; k++)
                pkt[9 + k] = (uint8_t)('a' + k);
            ns_feed(&T.ns, pkt, (size_t)(9 + i));
        }
        for (uint32_t now = 1; now < 200 && T.ns.in_len > 0; now++)
            nt_poll(&T, now);
        nt_poll(&T, 300);
        char want[128] = "";
        for (int i = 0; i < 8; i++) {
            char p[8] = "";
            for (int k = 0; k < i; k++)
                p[k] = (char)('a' + k);
            const nt_ev_t *e = expect_message(1, (uint16_t)(i + 1), p);
            (void)e;
            char ack[16];
            snprintf(ack, sizeof ack, "40 02 00 %02x ", i + 1);
            strcat(want, ack);
        }
        nt_no_event(&T);
        nt_expect_sent(&T, want);
        assert_true(nt_guards_ok(&T));
    }
}

static void two_packets_in_one_recv(void **state)
{
    (void)state;
    connected();
    nt_feed(&T, "30 06 00 03 74 2f 31 61 32 08 00 03 74 2f 31 00 02 62");
    nt_poll(&T, 1);
    nt_poll(&T, 2);
    expect_message(0, 0, "a");
    expect_message(1, 2, "b");
    nt_no_event(&T);
    nt_expect_sent(&T, "40 02 00 02");
}

/* tx is full of the application's packets and the socket takes nothing:
 * the PUBACK for an inbound QoS 1 message waits, it is not dropped, and the
 * message is delivered once. */
static void answer_deferred_while_tx_is_full(void **state)
{
    (void)state;
    connected();
    T.ns.send_room = 0;
    const char *p50 = "01234567890123456789012345678901234567890123456789";
    kmqtt_nano_msg_t m = nt_msg("t/1", p50, 0, false);
    int queued = 0;
    while (kmqtt_nano_publish(&T.c, &m, 0, NULL) == KMQTT_OK)
        queued++;
    /* 4 x 57 = 228 of 256 bytes: room for some acks but not for a fifth
     * PUBLISH. Fill the rest with PUBACKs the client owes: each inbound QoS 1
     * message needs 4 bytes, so after 7 (28 bytes) tx is full. */
    for (int i = 1; i <= 10; i++) {
        char pub[64];
        snprintf(pub, sizeof pub, "32 08 00 03 74 2f 31 00 %02x %02x", i, 0x60 + i);
        nt_feed(&T, pub);
    }
    for (uint32_t now = 1; now < 20; now++)
        nt_poll(&T, now);
    nt_expect_nothing_sent(&T);
    /* Let the socket drain. */
    T.ns.send_room = -1;
    for (uint32_t now = 20; now < 40; now++)
        nt_poll(&T, now);
    char want[2048] = "";
    for (int i = 0; i < queued; i++) {
        strcat(want, nt_publish_hex(0x30, "t/1", 0, p50, false));
        strcat(want, " ");
    }
    for (int i = 1; i <= 10; i++) {
        char ack[16];
        snprintf(ack, sizeof ack, "40 02 00 %02x ", i);
        strcat(want, ack);
    }
    nt_expect_sent(&T, want);
    for (int i = 1; i <= 10; i++) {
        char p[2] = {(char)(0x60 + i), 0};
        expect_message(1, (uint16_t)i, p);
    }
    nt_no_event(&T);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    assert_true(nt_guards_ok(&T));
}

/* rx bounds the packet (the whole packet: fixed header included). */
static void packet_larger_than_rx_is_etoobig(void **state)
{
    (void)state;
    connected();
    /* remaining length 254 -> 257 bytes > 256 */
    nt_feed(&T, "30 fe 01 00 03 74 2f 31");
    nt_poll(&T, 1);
    expect_lost(KMQTT_ETOOBIG, "257-byte PUBLISH");

    /* Exactly rx: 1 + 2 + 253 = 256 is delivered. */
    connected();
    static uint8_t pkt[NT_RX_SIZE];
    memset(pkt, 'z', sizeof pkt);
    pkt[0] = 0x30;
    pkt[1] = 0xfd;
    pkt[2] = 0x01;
    pkt[3] = 0;
    pkt[4] = 3;
    memcpy(pkt + 5, "t/1", 3);
    ns_feed(&T.ns, pkt, sizeof pkt);
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_MESSAGE);
    assert_int_equal(e->payload_len, NT_RX_SIZE - 8);
    nt_no_event(&T);
    assert_true(nt_guards_ok(&T));
}

/* Malformed packets and packets a server must not send: the connection is
 * lost with an error, nothing is delivered, no crash. */
static void malformed_packets_end_the_connection(void **state)
{
    (void)state;
    static const char *bad[] = {
        "60 02 00 01",                      /* PUBREL flags 0000, MQTT-3.6.1-1 / MQTT-2.2.2-2 */
        "41 02 00 01",                      /* PUBACK flags 0001, MQTT-2.2.2-2 */
        "d1 00",                            /* PINGRESP flags */
        "36 09 00 03 74 2f 31 00 01 68 69", /* QoS 3, MQTT-3.3.1-4 */
        "38 07 00 03 74 2f 31 68 69",       /* DUP on QoS 0, MQTT-3.3.1-2 */
        "32 09 00 03 74 2f 31 00 00 68 69", /* packet id 0, MQTT-2.3.1-1 */
        "30 06 00 03 74 ff 31 68",          /* topic not UTF-8, MQTT-1.5.3-1 */
        "30 06 00 03 74 00 31 68",          /* U+0000 in the topic, MQTT-1.5.3-2 */
        "30 06 00 03 74 2f 23 68",          /* wildcard in the topic, MQTT-3.3.2-2 */
        "30 06 00 03 2b 2f 31 68",          /* wildcard in the topic, MQTT-3.3.2-2 */
        "30 03 00 00 68",                   /* empty topic, MQTT-4.7.3-1 */
        "30 03 00 05 74",                   /* topic runs past the packet */
        "32 05 00 03 74 2f 31",             /* QoS 1 without a packet id */
        "40 01 00",                         /* truncated PUBACK */
        "d0 01 00",                         /* PINGRESP with a body */
        "90 02 00 01",                      /* SUBACK without return codes */
        "00 00",                            /* reserved type 0 */
        "f0 00",                            /* AUTH in 3.1.1 */
        "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", /* a CONNECT from the server */
        "82 06 00 01 00 01 61 00",                   /* a SUBSCRIBE from the server */
        "c0 00",                                     /* a PINGREQ from the server */
        "e0 00",                                     /* DISCONNECT from a 3.1.1 server */
        "30 ff ff ff ff 7f",                         /* remaining length of 5 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        connected();
        nt_feed(&T, bad[i]);
        nt_poll(&T, 1);
        nt_poll(&T, 2);
        expect_lost(0, bad[i]);
        nt_expect_nothing_sent(&T);
    }
}

/* Decision 5 (docs/architecture.md): a PUBACK / PUBREC / PUBCOMP for an id
 * the client does not hold is ignored and counted, not a protocol error (a
 * 3.1.1 resend on the same connection can draw a second ack, and no
 * normative statement asks the client to close). A PUBREC still gets its
 * PUBREL, so the server can end its flow. The connection stays up and the
 * message in flight stays in flight. */
static void unknown_acks_are_ignored_and_counted(void **state)
{
    (void)state;
    static const struct {
        uint8_t first; /* ack type */
        uint8_t qos;   /* of the message in flight (0 = none) */
    } cases[] = {{0x40, 0}, {0x50, 0}, {0x70, 0}, {0x40, 1}, {0x50, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        connected();
        uint16_t id = 0x4242;
        if (cases[i].qos > 0) {
            kmqtt_nano_msg_t m = nt_msg("t/1", "x", cases[i].qos, false);
            assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, &id), KMQTT_OK);
            nt_poll(&T, 0);
            ns_clear_out(&T.ns);
            id = (uint16_t)(id + 1);
        }
        nt_feed(&T, nt_ack_hex(cases[i].first, id));
        nt_poll(&T, 1);
        nt_no_event(&T);
        assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
        assert_int_equal(kmqtt_nano_unknown_acks(&T.c), 1);
        assert_int_equal(kmqtt_nano_inflight(&T.c), cases[i].qos > 0 ? 1u : 0u);
        if (cases[i].first == 0x50)
            nt_expect_sent(&T, nt_ack_hex(0x62, id));
        else
            nt_expect_nothing_sent(&T);
        assert_true(nt_guards_ok(&T));
    }
}

/* An ack of the wrong kind for a message the client holds (PUBREC for QoS
 * 1, PUBACK for QoS 2, PUBCOMP before PUBREC) is a protocol error: the
 * connection ends with KMQTT_EPROTOCOL, nothing crashes, and the message
 * stays in flight. */
static void wrong_kind_of_ack_ends_the_connection(void **state)
{
    (void)state;
    static const struct {
        uint8_t first;
        uint8_t qos;
    } cases[] = {{0x40, 2}, {0x50, 1}, {0x70, 1}, {0x70, 2}};
    char failed[512] = "";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        connected();
        uint16_t id;
        kmqtt_nano_msg_t m = nt_msg("t/1", "x", cases[i].qos, false);
        assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, &id), KMQTT_OK);
        nt_poll(&T, 0);
        ns_clear_out(&T.ns);
        const char *ack = nt_ack_hex(cases[i].first, id);
        nt_feed(&T, ack);
        nt_poll(&T, 1);
        /* Every case runs; the failures are listed together. */
        const nt_ev_t *e = T.seen < T.nev ? &T.ev[T.seen] : NULL;
        bool ok = e != NULL && e->type == KMQTT_NANO_EV_LOST && e->err == KMQTT_EPROTOCOL &&
                  T.nev == T.seen + 1 && !T.ns.is_open && nt_guards_ok(&T) &&
                  kmqtt_nano_inflight(&T.c) == 1u;
        if (!ok) {
            char one[96];
            snprintf(one, sizeof one, "[%s with QoS %u in flight: event %d err %d] ", ack,
                     cases[i].qos, e ? (int)e->type : 0, e ? (int)e->err : 0);
            strncat(failed, one, sizeof failed - strlen(failed) - 1);
        }
    }
    if (failed[0] != '\0')
        fail_msg("not LOST with KMQTT_EPROTOCOL: %s", failed);
}

/* A SUBACK / UNSUBACK when no SUBSCRIBE / UNSUBSCRIBE awaits one: the
 * application would be told of a subscription it never asked for. */
static void suback_nobody_awaits_ends_the_connection(void **state)
{
    (void)state;
    static const char *acks[] = {"90 03 42 42 00", "b0 02 42 42"};
    for (size_t i = 0; i < 2; i++) {
        connected();
        nt_feed(&T, acks[i]);
        nt_poll(&T, 1);
        expect_lost(KMQTT_EPROTOCOL, acks[i]);
    }
    /* The kind counts: an UNSUBACK does not answer a SUBSCRIBE. */
    connected();
    kmqtt_nano_sub_t s = {"a", 0};
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 0, &id), KMQTT_OK);
    nt_poll(&T, 0);
    ns_clear_out(&T.ns);
    nt_feed(&T, nt_ack_hex(0xb0, id));
    nt_poll(&T, 1);
    expect_lost(KMQTT_EPROTOCOL, "UNSUBACK for a SUBSCRIBE");
}

/* A SUBACK / UNSUBACK whose id is not an outstanding request's
 * (MQTT-3.9.2-1, MQTT-3.11.2-1). */
static void suback_with_an_unknown_id_ends_the_connection(void **state)
{
    (void)state;
    static const char *acks[] = {"90 03 42 42 00", "b0 02 42 42"};
    for (size_t i = 0; i < 2; i++) {
        connected();
        kmqtt_nano_sub_t s = {"a", 0};
        uint16_t id = 0;
        assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 0, &id), KMQTT_OK);
        const char *filters[1] = {"a"};
        assert_int_equal(kmqtt_nano_unsubscribe(&T.c, filters, 1, 0, &id), KMQTT_OK);
        assert_true(id != 0x4242);
        nt_poll(&T, 0);
        ns_clear_out(&T.ns);
        nt_feed(&T, acks[i]);
        nt_poll(&T, 1);
        expect_lost(KMQTT_EPROTOCOL, acks[i]);
    }
}

/* More inbound QoS 2 ids awaiting PUBREL at once than
 * KMQTT_NANO_INBOUND_QOS2 (mosquitto 2.0 does it: it frees its quota at
 * PUBREC): the oldest id is forgotten and counted, the new message is
 * delivered once, the connection stays. Copies of ids still held are not
 * delivered again (MQTT-4.3.3-9 exactly once for what is held). */
static void too_many_inbound_qos2_evicts_the_oldest(void **state)
{
    (void)state;
    connected();
    for (int i = 1; i <= KMQTT_NANO_INBOUND_QOS2; i++) {
        char pub[64];
        snprintf(pub, sizeof pub, "34 08 00 03 74 2f 31 00 %02x 61", i);
        nt_feed(&T, pub);
        nt_poll(&T, (uint32_t)i);
        expect_message(2, (uint16_t)i, "a");
        char rec[32];
        snprintf(rec, sizeof rec, "50 02 00 %02x", i);
        nt_expect_sent(&T, rec);
    }
    assert_int_equal(kmqtt_nano_qos2_evictions(&T.c), 0);
    nt_feed(&T, "34 08 00 03 74 2f 31 00 63 62");
    nt_poll(&T, 10);
    expect_message(2, 0x63, "b");
    nt_expect_sent(&T, "50 02 00 63");
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    assert_int_equal(kmqtt_nano_qos2_evictions(&T.c), 1);
    /* Copies of the held ids (2..4 and 0x63): PUBREC again, no delivery. */
    nt_feed(&T, "3c 08 00 03 74 2f 31 00 02 61");
    nt_feed(&T, "3c 08 00 03 74 2f 31 00 63 62");
    nt_poll(&T, 11);
    nt_expect_sent(&T, "50 02 00 02 50 02 00 63");
    nt_no_event(&T);
    /* The broker releases them all, the evicted one included: PUBCOMP each,
     * and the table has room again without another eviction. */
    nt_feed(&T, "62 02 00 01 62 02 00 02 62 02 00 03 62 02 00 04 62 02 00 63");
    nt_poll(&T, 12);
    nt_expect_sent(&T, "70 02 00 01 70 02 00 02 70 02 00 03 70 02 00 04 70 02 00 63");
    for (int i = 1; i <= KMQTT_NANO_INBOUND_QOS2; i++) {
        char pub[64];
        snprintf(pub, sizeof pub, "34 08 00 03 74 2f 31 00 %02x 61", 0x20 + i);
        nt_feed(&T, pub);
    }
    nt_poll(&T, 13);
    for (int i = 1; i <= KMQTT_NANO_INBOUND_QOS2; i++)
        expect_message(2, (uint16_t)(0x20 + i), "a");
    assert_int_equal(kmqtt_nano_qos2_evictions(&T.c), 1);
    nt_no_event(&T);
}

/* At most KMQTT_NANO_MAX_REQUESTS requests await their ack: one more is
 * KMQTT_ELIMIT, and an ack frees a place. Ids never collide with an
 * outstanding request (MQTT-2.3.1-2). */
static void request_table_full_is_elimit(void **state)
{
    (void)state;
    connected();
    kmqtt_nano_sub_t s = {"a", 1};
    uint16_t ids[KMQTT_NANO_MAX_REQUESTS];
    for (int i = 0; i < KMQTT_NANO_MAX_REQUESTS; i++) {
        assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 0, &ids[i]), KMQTT_OK);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(ids[i], ids[j]);
    }
    uint16_t id = 0;
    const char *filters[1] = {"a"};
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 0, &id), KMQTT_ELIMIT);
    assert_int_equal(kmqtt_nano_unsubscribe(&T.c, filters, 1, 0, &id), KMQTT_ELIMIT);
    nt_poll(&T, 0);
    ns_clear_out(&T.ns);
    char ack[32];
    snprintf(ack, sizeof ack, "90 03 %02x %02x 01", ids[0] >> 8, ids[0] & 0xff);
    nt_feed(&T, ack);
    nt_poll(&T, 1);
    const nt_ev_t *e = nt_take(&T, KMQTT_NANO_EV_SUBACK);
    assert_int_equal(e->packet_id, ids[0]);
    assert_int_equal(kmqtt_nano_unsubscribe(&T.c, filters, 1, 0, &id), KMQTT_OK);
    /* The same SUBACK again is now for nobody. */
    nt_feed(&T, ack);
    nt_poll(&T, 2);
    expect_lost(KMQTT_EPROTOCOL, "a second SUBACK for one SUBSCRIBE");
}

/* A SUBACK with a reason code count other than the filters sent
 * (MQTT-3.9.3-1: one per filter). */
static void suback_code_count_must_match_the_filters(void **state)
{
    (void)state;
    static const char *extra[] = {"90 04 %02x %02x 00 00", "90 04 %02x %02x 00 01"};
    size_t nfilters[] = {1, 3};
    for (size_t i = 0; i < 2; i++) {
        connected();
        kmqtt_nano_sub_t s[3] = {{"a", 0}, {"b", 1}, {"c", 1}};
        uint16_t id = 0;
        assert_int_equal(kmqtt_nano_subscribe(&T.c, s, nfilters[i], NULL, 0, 0, &id), KMQTT_OK);
        nt_poll(&T, 0);
        ns_clear_out(&T.ns);
        char ack[48];
        snprintf(ack, sizeof ack, extra[i], id >> 8, id & 0xff);
        nt_feed(&T, ack);
        nt_poll(&T, 1);
        expect_lost(KMQTT_EPROTOCOL, ack);
    }
}

/* A request outstanding when the connection is lost is forgotten: its
 * SUBACK on the next connection is for nobody. */
static void requests_are_forgotten_on_loss(void **state)
{
    (void)state;
    connected();
    kmqtt_nano_sub_t s = {"a", 0};
    uint16_t id = 0;
    assert_int_equal(kmqtt_nano_subscribe(&T.c, &s, 1, NULL, 0, 0, &id), KMQTT_OK);
    nt_poll(&T, 0);
    T.ns.recv_end = KMQTT_ECLOSED;
    nt_poll(&T, 1);
    expect_lost(KMQTT_ECLOSED, "peer close");
    T.ns.recv_end = 0;
    nt_poll(&T, 5000); /* reconnect */
    ns_clear_out(&T.ns);
    nt_feed(&T, "20 02 00 00");
    nt_poll(&T, 5001);
    nt_take(&T, KMQTT_NANO_EV_CONNECTED);
    char ack[32];
    snprintf(ack, sizeof ack, "90 03 %02x %02x 00", id >> 8, id & 0xff);
    nt_feed(&T, ack);
    nt_poll(&T, 5002);
    expect_lost(KMQTT_EPROTOCOL, "SUBACK of the lost connection");
}

static void peer_close_is_lost_eclosed(void **state)
{
    (void)state;
    connected();
    T.ns.recv_end = KMQTT_ECLOSED;
    nt_poll(&T, 5);
    expect_lost(KMQTT_ECLOSED, "peer close");
    assert_int_equal(T.ns.closes, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qos0_message),
        cmocka_unit_test(qos1_message_is_acked),
        cmocka_unit_test(qos2_message_exactly_once),
        cmocka_unit_test(answers_in_arrival_order),
        cmocka_unit_test(pubrel_for_an_unknown_id_gets_pubcomp),
        cmocka_unit_test(packet_split_byte_by_byte),
        cmocka_unit_test(two_packets_in_one_recv),
        cmocka_unit_test(small_rx_many_packets_every_split),
        cmocka_unit_test(answer_deferred_while_tx_is_full),
        cmocka_unit_test(packet_larger_than_rx_is_etoobig),
        cmocka_unit_test(malformed_packets_end_the_connection),
        cmocka_unit_test(unknown_acks_are_ignored_and_counted),
        cmocka_unit_test(wrong_kind_of_ack_ends_the_connection),
        cmocka_unit_test(suback_nobody_awaits_ends_the_connection),
        cmocka_unit_test(suback_with_an_unknown_id_ends_the_connection),
        cmocka_unit_test(too_many_inbound_qos2_evicts_the_oldest),
        cmocka_unit_test(request_table_full_is_elimit),
        cmocka_unit_test(suback_code_count_must_match_the_filters),
        cmocka_unit_test(requests_are_forgotten_on_loss),
        cmocka_unit_test(peer_close_is_lost_eclosed),
    };
    return cmocka_run_group_tests_name("nano inbound", tests, NULL, NULL);
}
