/*
 * nano client, messages larger than its receive buffer (issue #19): with
 * mqtt.max_packet_size above rx, a PUBLISH of 1,500 bytes through a 64-byte
 * rx comes as MESSAGE_BEGIN, CHUNKs and END, whatever the transport's recv
 * sizes; PUBACK / PUBREC leave only after END; a connection lost in the
 * middle gives MESSAGE_ABORT before LOST and the resent copy is delivered
 * in full. 3.1.1 and 5.0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nano_script.h"

#define RX      64u
#define PAYLOAD 1500u

static nt_t T;

/* What the hook assembled. */
static struct {
    uint8_t buf[PAYLOAD];
    size_t len, total;
    int begins, ends, aborts;
    bool early; /* bytes were sent before END */
    char topic[16];
} G;

static void hook(nt_t *t, const kmqtt_nano_event_t *ev)
{
    switch (ev->type) {
    case KMQTT_NANO_EV_MESSAGE_BEGIN:
        G.begins++;
        G.len = 0;
        G.total = ev->total;
        assert_non_null(ev->msg);
        assert_true(ev->msg->topic_len < sizeof G.topic);
        memcpy(G.topic, ev->msg->topic, ev->msg->topic_len);
        G.topic[ev->msg->topic_len] = '\0';
        break;
    case KMQTT_NANO_EV_MESSAGE_CHUNK:
        assert_int_equal(ev->offset, G.len);
        assert_true(G.len + ev->msg->payload_len <= sizeof G.buf);
        memcpy(G.buf + G.len, ev->msg->payload, ev->msg->payload_len);
        G.len += ev->msg->payload_len;
        if (t->ns.out_len != 0)
            G.early = true;
        t->nev--; /* a chunk per recv: too many to log */
        break;
    case KMQTT_NANO_EV_MESSAGE_END:
        if (t->ns.out_len != 0)
            G.early = true;
        G.ends++;
        break;
    case KMQTT_NANO_EV_MESSAGE_ABORT:
        assert_int_equal(ev->offset, G.len);
        G.aborts++;
        break;
    default:
        break;
    }
}

static void start(uint8_t version, bool clean)
{
    nt_setup(&T, version);
    T.bufs.rx_size = RX;
    T.cfg.mqtt.max_packet_size = 4096;
    T.cfg.mqtt.clean_session = clean;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    T.hook = hook;
    memset(&G, 0, sizeof G);
}

static size_t encode(uint8_t version, uint8_t qos, uint16_t id, bool dup, uint8_t *out, size_t cap,
                     uint8_t *payload)
{
    kmqtt_packet_t p;
    size_t n;
    for (size_t i = 0; i < PAYLOAD; i++)
        payload[i] = (uint8_t)(i * 7u + 1u);
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish.topic.ptr = "fw";
    p.u.publish.topic.len = 2;
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.dup = dup;
    p.u.publish.payload.ptr = payload;
    p.u.publish.payload.len = PAYLOAD;
    assert_int_equal(kmqtt_packet_encode(&p, version, out, cap, &n), KMQTT_OK);
    return n;
}

static void drain(uint32_t now)
{
    for (int i = 0; i < 4000 && T.ns.in_off < T.ns.in_len; i++)
        nt_poll(&T, now);
    nt_poll(&T, now);
}

static void one_message(uint8_t version)
{
    static const size_t chunks[] = {1, 7, 63, 64, 65, 4096};
    uint8_t pkt[PAYLOAD + 32], payload[PAYLOAD];
    for (uint8_t qos = 0; qos <= 2; qos++) {
        for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
            start(version, true);
            nt_connected(&T, 0, false);
            T.ns.chunk = chunks[k];
            size_t n = encode(version, qos, 5, false, pkt, sizeof pkt, payload);
            ns_feed(&T.ns, pkt, n);
            drain(10);
            nt_take(&T, KMQTT_NANO_EV_MESSAGE_BEGIN);
            nt_take(&T, KMQTT_NANO_EV_MESSAGE_END);
            nt_no_event(&T);
            assert_string_equal(G.topic, "fw");
            assert_int_equal(G.total, PAYLOAD);
            assert_int_equal(G.len, PAYLOAD);
            assert_memory_equal(G.buf, payload, PAYLOAD);
            assert_false(G.early); /* MQTT-4.3.2-4, MQTT-4.3.3-9: after the message */
            if (qos == 0)
                nt_expect_nothing_sent(&T);
            else
                nt_expect_sent(&T, nt_ack_hex(qos == 1 ? 0x40 : 0x50, 5));
            assert_true(nt_guards_ok(&T));
        }
    }
}

static void pieces_v311(void **state)
{
    (void)state;
    one_message(KMQTT_V311);
}

static void pieces_v5(void **state)
{
    (void)state;
    one_message(KMQTT_V5);
}

/* Lost half way: ABORT, then LOST; nothing acknowledged. After the
 * reconnect that finds the session the copy (DUP) is delivered in full and
 * answered (MQTT-4.4.0-1). */
static void lost_mid_message_then_resent(void **state)
{
    (void)state;
    uint8_t pkt[PAYLOAD + 32], payload[PAYLOAD];
    for (uint8_t qos = 1; qos <= 2; qos++) {
        start(KMQTT_V311, false);
        nt_connected(&T, 0, false);
        T.ns.chunk = 100;
        size_t n = encode(KMQTT_V311, qos, 9, false, pkt, sizeof pkt, payload);
        ns_feed(&T.ns, pkt, n / 2);
        drain(10);
        T.ns.recv_end = KMQTT_ECLOSED;
        nt_poll(&T, 20);
        nt_take(&T, KMQTT_NANO_EV_MESSAGE_BEGIN);
        nt_take(&T, KMQTT_NANO_EV_MESSAGE_ABORT);
        nt_take(&T, KMQTT_NANO_EV_LOST);
        nt_no_event(&T);
        assert_int_equal(G.aborts, 1);
        assert_int_equal(G.ends, 0);
        nt_expect_nothing_sent(&T);
        /* Reconnect, session found, the copy comes again. */
        T.ns.recv_end = 0;
        T.ns.in_len = T.ns.in_off = 0;
        nt_poll(&T, 10000);
        assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTING);
        ns_clear_out(&T.ns);
        nt_feed(&T, "20 02 01 00");
        nt_poll(&T, 10001);
        nt_take(&T, KMQTT_NANO_EV_CONNECTED);
        n = encode(KMQTT_V311, qos, 9, true, pkt, sizeof pkt, payload);
        ns_feed(&T.ns, pkt, n);
        drain(10002);
        nt_take(&T, KMQTT_NANO_EV_MESSAGE_BEGIN);
        nt_take(&T, KMQTT_NANO_EV_MESSAGE_END);
        nt_no_event(&T);
        assert_int_equal(G.len, PAYLOAD);
        assert_memory_equal(G.buf, payload, PAYLOAD);
        nt_expect_sent(&T, nt_ack_hex(qos == 1 ? 0x40 : 0x50, 9));
    }
}

/* 5.0: Maximum Packet Size in the CONNECT is max_packet_size (4096 =
 * 00 00 10 00), not rx (MQTT-3.1.2-24). */
static void v5_connect_advertises_max_packet_size(void **state)
{
    (void)state;
    start(KMQTT_V5, true);
    nt_open(&T, 0);
    const uint8_t want[] = {0x27, 0x00, 0x00, 0x10, 0x00};
    bool found = false;
    for (size_t i = 0; i + sizeof want <= T.ns.out_len; i++)
        found = found || memcmp(T.ns.out + i, want, sizeof want) == 0;
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pieces_v311),
        cmocka_unit_test(pieces_v5),
        cmocka_unit_test(lost_mid_message_then_resent),
        cmocka_unit_test(v5_connect_advertises_max_packet_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
