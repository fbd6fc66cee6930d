/*
 * The engine's (include/kmqtt/session.h) edges that the scenario tests do
 * not reach (issue 21, coverage): calls on a NULL or never-initialised
 * session, each buffer init refuses, malformed server packets and the
 * error each gives, every answer that finds tx full (the packet stays in rx
 * and is answered once tx drained: MQTT-4.6.0-2, -3), acks for records not
 * yet sent again after a reconnect, and the 5.0 limits on what the client
 * sends. Scripted bytes and a fake clock (support/engine_script.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine_script.h"
#include "hex.h"

static et_t T;
static uint8_t zeros[512];

/* A QoS 0..2 message on topic with payload_len zero bytes. */
static kmqtt_err_t pub(const char *topic, size_t payload_len, uint8_t qos, uint16_t *id)
{
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = topic;
    m.topic_len = (uint16_t)strlen(topic);
    m.qos = qos;
    m.payload = zeros;
    m.payload_len = payload_len;
    return kmqtt_session_publish(&T.s, &m, id);
}

static size_t queued(void)
{
    const uint8_t *buf;
    return kmqtt_session_tx_peek(&T.s, &buf);
}

/* The transport takes what tx holds now, once (et_drain takes until empty,
 * also what the engine queues as room appears). */
static void take_once(uint32_t now)
{
    kmqtt_session_tx_consume(&T.s, queued(), now);
}

#define FILL_TOPIC "fill/long/topic/xx" /* longer than any alias slot here */

/* Queues QoS 0 messages until exactly `leave` bytes of tx are free. */
static void fill_tx(size_t leave)
{
    size_t over = 2 + 2 + strlen(FILL_TOPIC) + (T.cfg.version == KMQTT_V5 ? 1u : 0u);
    size_t free_now = T.bufs.tx_size - queued();
    assert_true(free_now >= leave + over || free_now == leave);
    while (free_now > leave) {
        size_t r = free_now - leave;
        size_t k = r > 100 + over ? 100 : r;
        assert_int_equal(pub(FILL_TOPIC, k - over, 0, NULL), KMQTT_OK);
        free_now -= k;
    }
    assert_int_equal(T.bufs.tx_size - queued(), leave);
}

static void connected(uint8_t version, const char *connack_props)
{
    et_start(&T, version);
    et_connect(&T, 0, false, connack_props);
}

/* The bytes want (hex) appear in what tx holds. */
static bool tx_holds(const char *hex)
{
    uint8_t want[64];
    const uint8_t *buf;
    size_t n = hex_decode(hex, want, sizeof want), have = kmqtt_session_tx_peek(&T.s, &buf);
    for (size_t i = 0; i + n <= have; i++)
        if (memcmp(buf + i, want, n) == 0)
            return true;
    return false;
}

/* --------------------------------------------------- NULL and unset sessions */

/* The API's contract: a NULL or never-initialised session is KMQTT_EINVAL
 * (or a neutral answer for getters), never a crash. */
static void null_and_unset_sessions_are_refused(void **state)
{
    (void)state;
    kmqtt_session_t z;
    kmqtt_session_caps_t caps;
    kmqtt_session_msg_t m;
    kmqtt_session_sub_t sub = {"a", 0};
    const char *filters[] = {"a"};
    uint8_t reason = 0xAA;
    memset(&z, 0, sizeof z);
    memset(&m, 0, sizeof m);
    m.topic = "a";
    m.topic_len = 1;
    kmqtt_session_config_init(NULL);
    et_setup(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_init(NULL, &T.cfg, &T.bufs), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_init(&T.s, NULL, &T.bufs), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_init(&T.s, &T.cfg, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_start(NULL, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_start(&z, 0), KMQTT_EINVAL);
    kmqtt_session_lost(NULL);
    kmqtt_session_lost(&z);
    assert_int_equal(kmqtt_session_state(NULL), KMQTT_SESSION_IDLE);
    assert_int_equal(kmqtt_session_inflight(NULL), 0);
    assert_int_equal(kmqtt_session_store_used(NULL), 0);
    assert_int_equal(kmqtt_session_qos2_evictions(NULL), 0);
    assert_int_equal(kmqtt_session_close_reason(NULL), 0);
    assert_int_equal(kmqtt_session_unknown_acks(NULL), 0);
    assert_int_equal(kmqtt_session_pubrel_failures(NULL, &reason), 0);
    assert_int_equal(reason, 0);
    kmqtt_session_server_caps(NULL, &caps);
    assert_int_equal(caps.receive_max, 65535);
    assert_int_equal(caps.max_qos, 2);
    kmqtt_session_server_caps(&z, &caps);
    assert_int_equal(caps.receive_max, 65535);
    assert_int_equal(kmqtt_session_publish(NULL, &m, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_publish(&z, &m, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_subscribe(NULL, &sub, 1, NULL, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_subscribe(&z, &sub, 1, NULL, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_unsubscribe(&z, filters, 1, NULL, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_disconnect(NULL, 0, NULL, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_disconnect(&z, 0, NULL, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_clear(NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_clear(&z), KMQTT_EINVAL);
    kmqtt_session_set_change_hook(NULL, NULL, NULL);
#if KMQTT_CFG_V5
    assert_int_equal(kmqtt_session_auth(NULL, 0x18, NULL, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_auth(&z, 0x18, NULL, 0), KMQTT_EINVAL);
#endif
#if KMQTT_CFG_OFFLINE_QUEUE
    assert_int_equal(kmqtt_session_restore(NULL, 1, true, NULL, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_restore(&z, 1, true, NULL, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_restore_inbound(NULL, 1), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_restore_inbound(&z, 1), KMQTT_EINVAL);
#endif
}

/* A publish or a request that is wrong in itself is refused before
 * anything is queued. */
static void bad_requests_queue_nothing(void **state)
{
    (void)state;
    kmqtt_session_msg_t m;
    connected(KMQTT_V311, "");
    assert_int_equal(kmqtt_session_publish(&T.s, NULL, NULL), KMQTT_EINVAL);
    memset(&m, 0, sizeof m);
    m.topic = "a";
    m.topic_len = 1;
    m.payload_len = 3; /* and no payload */
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_EINVAL);
    /* Over 268,435,455 bytes of remaining length (MQTT-1.5.5): never sent. */
    m.payload = zeros;
    m.payload_len = 268435455u;
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_ETOOBIG);
    /* A SUBSCRIBE carries 1..255 filters (its count is a byte here), none NULL. */
    kmqtt_session_sub_t subs[256];
    for (size_t i = 0; i < 256; i++) {
        subs[i].filter = "a";
        subs[i].options = 0;
    }
    assert_int_equal(kmqtt_session_subscribe(&T.s, subs, 256, NULL, 0, NULL), KMQTT_EINVAL);
    subs[0].filter = NULL;
    assert_int_equal(kmqtt_session_subscribe(&T.s, subs, 1, NULL, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_unsubscribe(&T.s, NULL, 1, NULL, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(queued(), 0);
    uint32_t next = 0;
    assert_int_equal(kmqtt_session_tick(&T.s, 1, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_session_tick(&T.s, 1, &next), KMQTT_OK);
    assert_int_equal(queued(), 0);
}

/* ------------------------------------------------------------------ init */

static void init_refuses_each_missing_buffer(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.bufs.requests = NULL;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    et_setup(&T, KMQTT_V311);
    T.bufs.inbound = NULL; /* inbound_max 4 */
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    et_setup(&T, KMQTT_V311);
    T.bufs.store = NULL; /* store_size 1024 */
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
#if KMQTT_CFG_QOS2
    /* Inbound QoS 2 needs a table or the bitmap. */
    et_setup(&T, KMQTT_V311);
    T.bufs.inbound = NULL;
    T.bufs.inbound_max = 0;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
#endif
#if KMQTT_CFG_V5 && KMQTT_CFG_QOS2
    /* The 3.1.1 bitmap cannot stand for 5.0's table: its size is the
     * Receive Maximum the CONNECT advertises. */
    static uint8_t bits[KMQTT_SESSION_INBOUND_BITS_SIZE];
    et_setup(&T, KMQTT_V5);
    T.bufs.inbound = NULL;
    T.bufs.inbound_max = 0;
    T.bufs.inbound_bits = bits;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
#endif
#if KMQTT_CFG_V5 && KMQTT_CFG_TOPIC_ALIAS
    static uint8_t slots[2 * KMQTT_SESSION_ALIAS_OUT_SLOT(8)];
    et_setup(&T, KMQTT_V5);
    T.bufs.alias_in_max = 2; /* slots, but no table */
    T.bufs.alias_topic_len = 8;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    et_setup(&T, KMQTT_V5);
    T.bufs.alias_out_max = 2;
    T.bufs.alias_topic_len = 8;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    et_setup(&T, KMQTT_V5);
    T.bufs.alias_out = slots;
    T.bufs.alias_out_max = 2;
    T.bufs.alias_topic_len = 0; /* slots of no bytes */
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
#endif
}

static void init_refuses_a_bad_configuration(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.version = 3; /* MQTT 3.1 */
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    /* No client id asks the server for one, only with a clean session
     * (MQTT-3.1.3-7). */
    et_setup(&T, KMQTT_V311);
    T.cfg.client_id = NULL;
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    /* A will of QoS 3 (MQTT-3.1.2-14), or a will payload length without one. */
    et_setup(&T, KMQTT_V311);
    T.cfg.will_topic = "w";
    T.cfg.will_qos = 3;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    et_setup(&T, KMQTT_V311);
    T.cfg.will_topic = "w";
    T.cfg.will_payload_len = 2;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    /* A UTF-8 string is at most 65,535 bytes (1.5.4). */
    char *id = malloc(65537);
    assert_non_null(id);
    memset(id, 'a', 65536);
    id[65536] = '\0';
    et_setup(&T, KMQTT_V311);
    T.cfg.client_id = id;
    assert_int_equal(et_init(&T), KMQTT_EINVAL);
    free(id);
}

/* MQTT-3.1.3-6: no client id is sent as a zero-length one. */
static void no_client_id_goes_as_an_empty_one(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V311);
    T.cfg.client_id = NULL;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_expect_sent(&T, "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", 0);
}

#if KMQTT_CFG_V5
/* A receive buffer larger than any MQTT packet is advertised as the largest
 * packet there is, 268,435,460 bytes (1 + 4 + 268,435,455: 3.1.2.11.4, 1.5.5),
 * not a wrapped value. Nothing is fed, so the buffer's real size does not matter. */
static void huge_rx_advertises_the_largest_packet_size(void **state)
{
    (void)state;
    et_setup(&T, KMQTT_V5);
    T.bufs.rx_size = SIZE_MAX;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    assert_true(tx_holds("27 10 00 00 04"));
}
#endif

/* ---------------------------------------------------------------- timing */

/* Decision 7: a PINGREQ also goes when nothing was received for the
 * keepalive. Committing zero bytes is not receiving. */
static void committing_nothing_is_not_hearing_from_the_server(void **state)
{
    (void)state;
    connected(KMQTT_V311, "");
    uint32_t next;
    assert_int_equal(pub("a", 1, 0, NULL), KMQTT_OK);
    et_drain(&T, 30000); /* sent at 30 s */
    kmqtt_session_rx_commit(&T.s, 0, 50000);
    assert_int_equal(kmqtt_session_tick(&T.s, 60000, &next), KMQTT_OK);
    et_expect_sent(&T, "c0 00", 60000);
}

#if KMQTT_CFG_RETRY
/* The 3.1.1 retry resends nothing while the resend of the reconnect is
 * still waiting for room: no message goes twice. 5.0 never resends on the
 * same connection (MQTT-4.4.0-1). */
static void retry_waits_for_the_pending_resend(void **state)
{
    (void)state;
    uint32_t next;
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    T.cfg.retry_ms = 5000;
    T.bufs.tx_size = 40;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    /* nothing in flight: no retry, only the keepalive (60 s) */
    assert_int_equal(kmqtt_session_tick(&T.s, 0, &next), KMQTT_OK);
    assert_int_equal(next, 60000);
    assert_int_equal(pub("a/b", 20, 1, NULL), KMQTT_OK); /* 29 bytes */
    et_drain(&T, 0);
    assert_int_equal(pub("a/b", 20, 1, NULL), KMQTT_OK);
    et_drain(&T, 0);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 10, true, "");
    assert_int_equal(queued(), 29); /* the first again; the second has no room */
    assert_int_equal(kmqtt_session_tick(&T.s, 10, &next), KMQTT_OK);
    assert_int_equal(kmqtt_session_tick(&T.s, 6000, &next), KMQTT_OK);
    assert_int_equal(next, 5000);
    assert_int_equal(queued(), 29);
    take_once(6000); /* now the second, once */
    assert_int_equal(queued(), 29);
#if KMQTT_CFG_V5
    et_setup(&T, KMQTT_V5);
    T.cfg.retry_ms = 1000;
    T.cfg.keepalive_s = 0;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    assert_int_equal(pub("a/b", 2, 1, NULL), KMQTT_OK);
    et_drain(&T, 0);
    assert_int_equal(kmqtt_session_tick(&T.s, 0, &next), KMQTT_OK);
    assert_int_equal(kmqtt_session_tick(&T.s, 5000, &next), KMQTT_OK);
    assert_int_equal(next, UINT32_MAX);
    assert_int_equal(queued(), 0);
#endif
}
#endif

/* ---------------------------------------------------- malformed from server */

/* Each violation ends the connection with the error that names it. */
static void feed_fails(uint8_t version, const char *in, kmqtt_err_t want)
{
    connected(version, "");
    et_drain(&T, 0);
    et_feed(&T, in, 1);
    assert_int_equal(et_next(&T, 1), want);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
}

static void malformed_server_packets_end_the_connection(void **state)
{
    (void)state;
    /* CONNACK shorter than its two bytes (3.2.2). */
    et_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, "20 01 00", 0);
    assert_int_equal(et_next(&T, 0), KMQTT_ETRUNCATED);
    /* A clean session finds no session (MQTT-3.2.2-1). */
    et_start(&T, KMQTT_V311);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_feed(&T, "20 02 01 00", 0);
    assert_int_equal(et_next(&T, 0), KMQTT_EPROTOCOL);
    /* A refusal has no session (MQTT-3.2.2-4). */
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_feed(&T, "20 02 01 05", 0);
    assert_int_equal(et_next(&T, 0), KMQTT_EPROTOCOL);
    feed_fails(KMQTT_V311, "30 01 00", KMQTT_ETRUNCATED);    /* PUBLISH: no topic length */
    feed_fails(KMQTT_V311, "40 02 00 00", KMQTT_EPACKET_ID); /* MQTT-2.3.1-1 */
    feed_fails(KMQTT_V311, "62 02 00 00", KMQTT_EPACKET_ID); /* PUBREL id 0 */
    feed_fails(KMQTT_V311, "90 01 00", KMQTT_ETRUNCATED);    /* SUBACK: no id */
    feed_fails(KMQTT_V311, "90 03 00 00 00", KMQTT_EPACKET_ID);
    feed_fails(KMQTT_V311, "b0 03 00 01 00", KMQTT_ETRAILING); /* 3.1.1 UNSUBACK: id only */
#if KMQTT_CFG_V5
    /* 5.0 CONNACK reason 0x01 is none of 3.2.2.2's. */
    et_start(&T, KMQTT_V5);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_feed(&T, "20 03 00 01 00", 0);
    assert_int_equal(et_next(&T, 0), KMQTT_EREASON_CODE);
    feed_fails(KMQTT_V5, "40 03 00 01 05", KMQTT_EREASON_CODE);        /* PUBACK 0x05 (3.4.2.1) */
    assert_true(tx_holds("e0 01 81"));                                 /* Malformed Packet (4.13) */
    feed_fails(KMQTT_V5, "40 04 00 01 00 80", KMQTT_ETRUNCATED);       /* property length cut */
    feed_fails(KMQTT_V5, "90 05 00 01 02 63 00", KMQTT_EPROP_UNKNOWN); /* SUBACK property 0x63 */
    feed_fails(KMQTT_V5, "e0 01 03", KMQTT_EREASON_CODE); /* DISCONNECT 0x03 (3.14.2.1) */
    /* A property twice or out of range is a Protocol Error (2.2.2.2, 3.3.2.3.2). */
    feed_fails(KMQTT_V5, "30 09 00 01 61 04 01 01 01 01 78", KMQTT_EPROP_DUPLICATE);
    assert_true(tx_holds("e0 01 82"));
    feed_fails(KMQTT_V5, "30 07 00 01 61 02 01 02 78", KMQTT_EPROP_VALUE);
    assert_true(tx_holds("e0 01 82"));
#endif
}

#if KMQTT_CFG_V5
/* 4.13: the DISCONNECT with a reason goes only if tx has room; the error is
 * the same and close_reason says none was queued. */
static void protocol_error_with_tx_full_ends_without_disconnect(void **state)
{
    (void)state;
    connected(KMQTT_V5, "");
    fill_tx(2);
    et_feed(&T, "40 02 00 00", 1);
    assert_int_equal(et_next(&T, 1), KMQTT_EPACKET_ID);
    assert_int_equal(kmqtt_session_close_reason(&T.s), 0);
    assert_false(tx_holds("e0 01"));
}

/* 3.2.2.3.17: the server sends an Authentication Method only if the
 * CONNECT carried one; here the CONNECT has no properties at all. */
static void connack_auth_method_without_ours_is_a_protocol_error(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V5);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_feed(&T, "20 09 00 00 06 15 00 03 61 62 63", 0);
    assert_int_equal(et_next(&T, 0), KMQTT_EPROTOCOL);
    /* ... nor when it has properties but no method */
    static const uint8_t expiry[] = {0x11, 0x00, 0x00, 0x00, 0x3c};
    et_setup(&T, KMQTT_V5);
    T.cfg.connect_props = expiry;
    T.cfg.connect_props_len = sizeof expiry;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_feed(&T, "20 09 00 00 06 15 00 03 61 62 63", 0);
    assert_int_equal(et_next(&T, 0), KMQTT_EPROTOCOL);
}
#endif

/* --------------------------------------------------------- tx full answers */

/* MQTT-4.3.3-2 / MQTT-4.6.0-2: a QoS 2 message whose PUBREC finds tx full
 * waits in rx; it is answered and delivered, once, when tx drained. */
static void qos2_publish_waits_for_room_for_its_pubrec(void **state)
{
    (void)state;
    connected(KMQTT_V311, "");
    fill_tx(3);
    et_feed(&T, "34 06 00 01 61 00 07 78", 1);
    et_none(&T, 1);
    et_drain(&T, 1);
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_MESSAGE, 1);
    assert_int_equal(ev->msg.packet_id, 7);
    et_expect_sent(&T, "50 02 00 07", 1);
    /* PUBREL with tx full: PUBCOMP later. */
    fill_tx(3);
    et_feed(&T, "62 02 00 07", 2);
    et_none(&T, 2);
    et_drain(&T, 2);
    et_none(&T, 2);
    et_expect_sent(&T, "70 02 00 07", 2);
}

/* Decision 5: a PUBREC for an id no record holds still gets its PUBREL, so
 * the server can end the flow; with tx full, once it drained. */
static void unknown_pubrec_waits_for_room_for_its_pubrel(void **state)
{
    (void)state;
    connected(KMQTT_V311, "");
    fill_tx(3);
    et_feed(&T, "50 02 00 09", 1);
    et_none(&T, 1);
    et_drain(&T, 1);
    et_none(&T, 1);
    et_expect_sent(&T, "62 02 00 09", 1);
    assert_int_equal(kmqtt_session_unknown_acks(&T.s), 1);
#if KMQTT_CFG_V5
    /* 5.0: a PUBREC with a failure reason ends the flow, no PUBREL (4.3.3). */
    connected(KMQTT_V5, "");
    et_feed(&T, "50 03 00 09 80", 1);
    et_none(&T, 1);
    assert_int_equal(queued(), 0);
    assert_int_equal(kmqtt_session_unknown_acks(&T.s), 1);
#endif
}

/* A PUBREC for a message of ours whose PUBREL finds tx full waits too. */
static void pubrec_waits_for_room_for_its_pubrel(void **state)
{
    (void)state;
    uint16_t id = 0;
    connected(KMQTT_V311, "");
    assert_int_equal(pub("a", 1, 2, &id), KMQTT_OK);
    et_drain(&T, 0);
    fill_tx(3);
    et_feed(&T, et_ack(0x50, id), 1);
    et_none(&T, 1);
    et_drain(&T, 1);
    et_none(&T, 1);
    et_expect_sent(&T, et_ack(0x62, id), 1);
    et_feed(&T, et_ack(0x70, id), 1);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1)->packet_id, id);
}

#if KMQTT_CFG_V5
/* 3.3.2.3.2: a payload that says UTF-8 and is not is answered 0x99 and not
 * delivered; with tx full the answer (and so the packet) waits. */
static void invalid_utf8_payload_is_refused_also_when_tx_is_full(void **state)
{
    (void)state;
    connected(KMQTT_V5, "");
    et_feed(&T, "34 0a 00 01 61 00 05 02 01 01 ff fe", 1); /* QoS 2 */
    et_none(&T, 1);
    et_expect_sent(&T, "50 03 00 05 99", 1);
    fill_tx(4);
    et_feed(&T, "32 0a 00 01 61 00 06 02 01 01 ff fe", 1); /* QoS 1 */
    et_none(&T, 1);
    et_drain(&T, 1);
    et_none(&T, 1);
    et_expect_sent(&T, "40 03 00 06 99", 1);
}

/* A 5.0 PUBREC with a failure reason for a message already released is a
 * protocol error: the flow is past PUBREC (4.3.3). */
static void pubrec_failure_after_release_is_a_protocol_error(void **state)
{
    (void)state;
    uint16_t id = 0;
    connected(KMQTT_V5, "");
    assert_int_equal(pub("a", 1, 2, &id), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, et_ack(0x50, id), 1);
    et_none(&T, 1);
    et_expect_sent(&T, et_ack(0x62, id), 1);
    et_feed(&T, "50 03 00 01 80", 1);
    assert_int_equal(et_next(&T, 1), KMQTT_EPROTOCOL);
}
#endif

/* ---------------------------------------- acks for records not yet resent */

/* Two QoS qos messages of 29 bytes in flight over a tx of 40, then a
 * reconnect: only the first fits tx again at once. */
static void two_in_flight_then_reconnect(uint8_t qos, bool sp)
{
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    T.bufs.tx_size = 40;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    assert_int_equal(pub("a/b", 20, qos, NULL), KMQTT_OK);
    et_drain(&T, 0);
    assert_int_equal(pub("a/b", 20, qos, NULL), KMQTT_OK);
    et_drain(&T, 0);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 10, sp, "");
    assert_int_equal(queued(), 29);
}

/* With the session found, a PUBREC for a message not yet sent again
 * releases it: the resend sends its PUBREL instead (MQTT-4.4.0-1). */
static void pubrec_before_its_resend_turns_it_into_pubrel(void **state)
{
    (void)state;
    two_in_flight_then_reconnect(2, true);
    et_feed(&T, et_ack(0x50, 2), 10);
    et_none(&T, 10);
    assert_int_equal(queued(), 29);
    take_once(10);
    et_expect_sent(&T, et_ack(0x62, 2), 10);
    assert_int_equal(kmqtt_session_inflight(&T.s), 2);
    /* Without the session the server cannot know that id. */
    two_in_flight_then_reconnect(2, false);
    et_feed(&T, et_ack(0x50, 2), 10);
    assert_int_equal(et_next(&T, 10), KMQTT_EPROTOCOL);
}

/* A PUBACK for a message not yet sent again completes it: it is not sent. */
static void puback_before_its_resend_completes_it(void **state)
{
    (void)state;
    two_in_flight_then_reconnect(1, true);
    et_feed(&T, et_ack(0x40, 2), 10);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 10)->packet_id, 2);
    et_drain(&T, 10);
    assert_int_equal(queued(), 0);
    assert_int_equal(kmqtt_session_inflight(&T.s), 1);
    et_feed(&T, et_ack(0x40, 1), 10);
    assert_int_equal(et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 10)->packet_id, 1);
    assert_int_equal(kmqtt_session_inflight(&T.s), 0);
}

/* MQTT-4.4.0-1: the PUBREL of a released message goes again on the next
 * connection, after the messages before it, as tx makes room. */
static void resent_pubrel_waits_for_room(void **state)
{
    (void)state;
    uint16_t id2 = 0;
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    T.bufs.tx_size = 40;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    assert_int_equal(pub("a/b", 30, 1, NULL), KMQTT_OK); /* 39 bytes */
    et_drain(&T, 0);
    assert_int_equal(pub("a/b", 1, 2, &id2), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, et_ack(0x50, id2), 0);
    et_none(&T, 0);
    et_expect_sent(&T, et_ack(0x62, id2), 0);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 10, true, "");
    assert_int_equal(queued(), 39);
    take_once(10);
    et_expect_sent(&T, et_ack(0x62, id2), 10);
}

/* ---------------------------------------------------------- store, restore */

#if KMQTT_CFG_OFFLINE_QUEUE
/* A restored PUBLISH is checked as one received (DESIGN rule 7). */
static void restore_checks_the_packet(void **state)
{
    (void)state;
    et_start(&T, KMQTT_V311);
    static const uint8_t qos3[] = {0x36, 0x06, 0x00, 0x01, 'a', 0x00, 0x01, 'x'};
    static const uint8_t cut[] = {0x32, 0x01, 0x00};
    static const uint8_t qos0[] = {0x30, 0x04, 0x00, 0x01, 'a', 'x'};
    assert_int_equal(kmqtt_session_restore(&T.s, 1, false, qos0, sizeof qos0), KMQTT_ESTORE);
    assert_int_equal(kmqtt_session_restore(&T.s, 1, false, qos3, sizeof qos3), KMQTT_ESTORE);
    assert_int_equal(kmqtt_session_restore(&T.s, 1, false, cut, sizeof cut), KMQTT_ESTORE);
    /* larger than the whole store */
    static uint8_t big[ET_STORE_SIZE + 8];
    big[0] = 0x32;
    big[1] = 0x80 | ((ET_STORE_SIZE + 5) & 0x7f);
    big[2] = (ET_STORE_SIZE + 5) >> 7;
    assert_int_equal(kmqtt_session_restore(&T.s, 1, false, big, sizeof big), KMQTT_ESTORE);
    /* A remaining length of two bytes is read right: it goes again intact. */
    static uint8_t p200[203];
    p200[0] = 0x32;
    p200[1] = 0x80 | (200 & 0x7f);
    p200[2] = 200 >> 7;
    p200[3] = 0;
    p200[4] = 1;
    p200[5] = 'a';
    p200[6] = 0;
    p200[7] = 1;
    assert_int_equal(kmqtt_session_restore(&T.s, 1, false, p200, sizeof p200), KMQTT_OK);
    assert_int_equal(kmqtt_session_store_used(&T.s), 8 + 204);
    /* The store has no room for more of these. */
    for (uint16_t id = 2; id <= 4; id++) {
        p200[7] = (uint8_t)id;
        assert_int_equal(kmqtt_session_restore(&T.s, id, false, p200, sizeof p200), KMQTT_OK);
    }
    p200[7] = 5;
    assert_int_equal(kmqtt_session_restore(&T.s, 5, false, p200, sizeof p200), KMQTT_ENOBUFS);
    T.cfg.clean_session = false;
    assert_int_equal(kmqtt_session_start(&T.s, 0), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, "20 02 01 00", 0);
    et_take(&T, KMQTT_SESSION_EV_CONNACK, 0);
    const uint8_t *buf;
    assert_true(kmqtt_session_tx_peek(&T.s, &buf) >= sizeof p200);
    assert_int_equal(buf[0], 0x3a); /* DUP */
    assert_int_equal(buf[1], p200[1]);
    assert_int_equal(buf[2], p200[2]);
    assert_int_equal(buf[7], 1);
}

/* Inbound QoS 2 ids restored are held: a copy gets PUBREC, no delivery
 * (MQTT-4.3.3-2). Restoring one twice holds it once. */
static void restored_inbound_ids_are_held_once(void **state)
{
    (void)state;
    static uint8_t bits[KMQTT_SESSION_INBOUND_BITS_SIZE];
    et_setup(&T, KMQTT_V311);
    T.cfg.clean_session = false;
    T.bufs.inbound = NULL;
    T.bufs.inbound_max = 0;
    T.bufs.inbound_bits = bits;
    assert_int_equal(et_init(&T), KMQTT_OK);
    assert_int_equal(kmqtt_session_restore_inbound(&T.s, 300), KMQTT_OK);
    et_connect(&T, 0, true, "");
    et_feed(&T, "34 06 00 01 61 01 2c 78", 1);
    et_none(&T, 1);
    et_expect_sent(&T, "50 02 01 2c", 1);
    /* the table: four places, the same id restored five times takes one */
    et_start(&T, KMQTT_V311);
    for (int i = 0; i < 5; i++)
        assert_int_equal(kmqtt_session_restore_inbound(&T.s, 7), KMQTT_OK);
    for (uint16_t id = 8; id <= 10; id++)
        assert_int_equal(kmqtt_session_restore_inbound(&T.s, id), KMQTT_OK);
    assert_int_equal(kmqtt_session_restore_inbound(&T.s, 11), KMQTT_ELIMIT);
}
#endif

#if KMQTT_CFG_V5
/* MQTT-3.2.2-15: a stored PUBLISH over the new server's Maximum Packet
 * Size is reported ETOOBIG and not sent; a released one's PUBREL still goes
 * on the found session (MQTT-4.4.0-1). */
static void released_records_survive_a_smaller_maximum_packet_size(void **state)
{
    (void)state;
    uint16_t a = 0, b = 0;
    et_setup(&T, KMQTT_V5);
    T.cfg.clean_session = false;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    assert_int_equal(pub("a", 1, 2, &a), KMQTT_OK);
    assert_int_equal(pub("a", 1, 2, &b), KMQTT_OK);
    et_drain(&T, 0);
    et_feed(&T, et_ack(0x50, b), 0);
    et_none(&T, 0);
    et_expect_sent(&T, et_ack(0x62, b), 0);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 1, true, "27 00 00 00 05"); /* Maximum Packet Size 5 */
    const kmqtt_session_event_t *ev = et_take(&T, KMQTT_SESSION_EV_PUBLISHED, 1);
    assert_int_equal(ev->packet_id, a);
    assert_int_equal(ev->err, KMQTT_ETOOBIG);
    et_expect_sent(&T, et_ack(0x62, b), 1);
}

/* 3.2.2.3.11-14: a feature said available (1) stays available. */
static void features_said_available_are_used(void **state)
{
    (void)state;
    kmqtt_session_caps_t c;
    kmqtt_session_sub_t sub = {"$share/g/+/x", 1};
    static const uint8_t subid[] = {0x0b, 0x05};
    connected(KMQTT_V5, "25 01 28 01 29 01 2a 01");
    kmqtt_session_server_caps(&T.s, &c);
    assert_true(c.retain_available && c.wildcard_available && c.subid_available &&
                c.shared_available);
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "a";
    m.topic_len = 1;
    m.retain = true;
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_OK);
    et_expect_sent(&T, "31 04 00 01 61 00", 0);
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, subid, sizeof subid, NULL), KMQTT_OK);
}

/* What the client sends is checked against the server's Maximum Packet
 * Size (MQTT-3.2.2-15) and tx; nothing is queued on a refusal. */
static void disconnect_and_auth_limits(void **state)
{
    (void)state;
    static const uint8_t reason_str[] = {0x1f, 0x00, 0x05, 'b', 'y', 'e', 'b', 'y'};
    static const uint8_t bad[] = {0x63, 0x00};
    connected(KMQTT_V5, "27 00 00 00 08");
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0, bad, sizeof bad), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0, reason_str, sizeof reason_str),
                     KMQTT_ETOOBIG);
    assert_int_equal(queued(), 0);
    connected(KMQTT_V5, "27 00 00 00 0c"); /* 12 bytes: it fits */
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0x04, reason_str, sizeof reason_str), KMQTT_OK);
    et_expect_sent(&T, "e0 0a 04 08 1f 00 05 62 79 65 62 79", 0);
    connected(KMQTT_V5, "");
    fill_tx(8);
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0, reason_str, sizeof reason_str),
                     KMQTT_ENOBUFS);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_CONNECTED);
    connected(KMQTT_V311, "");
    fill_tx(1);
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0, NULL, 0), KMQTT_ENOBUFS);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_CONNECTED);
    et_drain(&T, 0);
    assert_int_equal(kmqtt_session_disconnect(&T.s, 0, NULL, 0), KMQTT_OK);
    et_expect_sent(&T, "e0 00", 0);

    /* AUTH: the method must be the CONNECT's (3.15.2.2.2). */
    static const uint8_t method[] = {0x15, 0x00, 0x02, 'm', '1'};
    static const uint8_t other[] = {0x15, 0x00, 0x02, 'm', '2'};
    static const uint8_t longer[] = {0x15, 0x00, 0x02, 'm', '1', 0x16, 0x00, 0x04, 1, 2, 3, 4};
    et_setup(&T, KMQTT_V5);
    T.cfg.connect_props = method;
    T.cfg.connect_props_len = sizeof method;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "15 00 02 6d 31 27 00 00 00 0c");
    assert_int_equal(kmqtt_session_auth(&T.s, 0x19, other, sizeof other), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_auth(&T.s, 0x19, bad, sizeof bad), KMQTT_EINVAL);
    assert_int_equal(kmqtt_session_auth(&T.s, 0x19, longer, sizeof longer), KMQTT_ETOOBIG);
    assert_int_equal(queued(), 0);
    assert_int_equal(kmqtt_session_auth(&T.s, 0x19, method, sizeof method), KMQTT_OK);
    et_expect_sent(&T, "f0 07 19 05 15 00 02 6d 31", 0);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 0, false, "15 00 02 6d 31");
    fill_tx(4);
    assert_int_equal(kmqtt_session_auth(&T.s, 0x19, method, sizeof method), KMQTT_ENOBUFS);
    et_drain(&T, 0);
    assert_int_equal(kmqtt_session_auth(&T.s, 0x19, method, sizeof method), KMQTT_OK);
    et_expect_sent(&T, "f0 07 19 05 15 00 02 6d 31", 0);
}

/* A property block that cannot be one: NULL with a length, or longer than a
 * packet can carry. */
static void impossible_property_blocks_are_refused(void **state)
{
    (void)state;
    kmqtt_session_msg_t m;
    connected(KMQTT_V5, "");
    memset(&m, 0, sizeof m);
    m.topic = "a";
    m.topic_len = 1;
    m.props_len = 3;
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_EINVAL);
    m.props = zeros;
    m.props_len = 268435456u;
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_EINVAL);
    const char *filters[] = {"a"};
    static const uint8_t bad[] = {0x63, 0x00};
    assert_int_equal(kmqtt_session_unsubscribe(&T.s, filters, 1, bad, sizeof bad, NULL),
                     KMQTT_EINVAL);
    assert_int_equal(queued(), 0);
}

/* MQTT-3.3.4-7: resends held back by a smaller Receive Maximum hold back new
 * messages (MQTT-4.6.0-1), not a SUBSCRIBE, which goes if tx has room. */
static void subscribe_passes_resends_held_by_receive_maximum(void **state)
{
    (void)state;
    kmqtt_session_sub_t sub = {"s", 0};
    char longf[64];
    et_setup(&T, KMQTT_V5);
    T.cfg.clean_session = false;
    T.bufs.tx_size = 48;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, "");
    assert_int_equal(pub("t", 1, 1, NULL), KMQTT_OK);
    assert_int_equal(pub("t", 1, 1, NULL), KMQTT_OK);
    et_drain(&T, 0);
    kmqtt_session_lost(&T.s);
    et_connect(&T, 1, true, "21 00 01");
    assert_int_equal(queued(), 9); /* one of two */
    assert_int_equal(pub("t", 1, 0, NULL), KMQTT_ENOBUFS);
    memset(longf, 'f', sizeof longf - 1);
    longf[40] = '\0';
    sub.filter = longf; /* 48 bytes: no room beside the resend */
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, NULL), KMQTT_ENOBUFS);
    sub.filter = "s";
    assert_int_equal(kmqtt_session_subscribe(&T.s, &sub, 1, NULL, 0, NULL), KMQTT_OK);
    assert_int_equal(queued(), 9 + 9);
}
#endif

#if KMQTT_CFG_V5 && KMQTT_CFG_TOPIC_ALIAS
#define ALEN 8
static uint8_t ain[2 * KMQTT_SESSION_ALIAS_IN_SLOT(ALEN)];
static uint8_t aout[2 * KMQTT_SESSION_ALIAS_OUT_SLOT(ALEN)];

static void with_aliases(const char *connack_props)
{
    et_setup(&T, KMQTT_V5);
    T.bufs.alias_in = ain;
    T.bufs.alias_in_max = 2;
    T.bufs.alias_out = aout;
    T.bufs.alias_out_max = 2;
    T.bufs.alias_topic_len = ALEN;
    assert_int_equal(et_init(&T), KMQTT_OK);
    et_connect(&T, 0, false, connack_props);
}

/* A new alias adds 3 bytes to the packet: it must fit tx and MQTT's largest
 * remaining length too, else nothing is queued and the alias stays free. */
static void outbound_alias_needs_its_own_room(void **state)
{
    (void)state;
    with_aliases("22 00 02");
    /* n = 2+1+2+3+1 = 9 bytes fit, n + 3 do not */
    fill_tx(10);
    assert_int_equal(pub("a/b", 1, 0, NULL), KMQTT_ENOBUFS);
    et_drain(&T, 0);
    assert_int_equal(pub("a/b", 1, 0, NULL), KMQTT_OK);
    et_expect_sent(&T, "30 0a 00 03 61 2f 62 03 23 00 01 00", 0);
    /* the largest remaining length without the alias, over it with */
    kmqtt_session_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = "c/d";
    m.topic_len = 3;
    m.payload = zeros;
    m.payload_len = 268435455u - (2 + 3 + 1);
    assert_int_equal(kmqtt_session_publish(&T.s, &m, NULL), KMQTT_ETOOBIG);
}

/* An inbound topic with an alias is checked like any topic name
 * (MQTT-3.3.2-2): a wildcard in it is refused, not mapped. */
static void inbound_alias_with_a_wildcard_topic_is_refused(void **state)
{
    (void)state;
    with_aliases("");
    et_feed(&T, "30 0a 00 03 61 2f 2b 03 23 00 01 78", 1);
    assert_int_equal(et_next(&T, 1), KMQTT_ETOPIC_NAME);
    assert_int_equal(kmqtt_session_state(&T.s), KMQTT_SESSION_ENDED);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_and_unset_sessions_are_refused),
        cmocka_unit_test(bad_requests_queue_nothing),
        cmocka_unit_test(init_refuses_each_missing_buffer),
        cmocka_unit_test(init_refuses_a_bad_configuration),
        cmocka_unit_test(no_client_id_goes_as_an_empty_one),
#if KMQTT_CFG_V5
        cmocka_unit_test(huge_rx_advertises_the_largest_packet_size),
#endif
        cmocka_unit_test(committing_nothing_is_not_hearing_from_the_server),
#if KMQTT_CFG_RETRY
        cmocka_unit_test(retry_waits_for_the_pending_resend),
#endif
        cmocka_unit_test(malformed_server_packets_end_the_connection),
#if KMQTT_CFG_V5
        cmocka_unit_test(protocol_error_with_tx_full_ends_without_disconnect),
        cmocka_unit_test(connack_auth_method_without_ours_is_a_protocol_error),
#endif
        cmocka_unit_test(qos2_publish_waits_for_room_for_its_pubrec),
        cmocka_unit_test(unknown_pubrec_waits_for_room_for_its_pubrel),
        cmocka_unit_test(pubrec_waits_for_room_for_its_pubrel),
#if KMQTT_CFG_V5
        cmocka_unit_test(invalid_utf8_payload_is_refused_also_when_tx_is_full),
        cmocka_unit_test(pubrec_failure_after_release_is_a_protocol_error),
#endif
        cmocka_unit_test(pubrec_before_its_resend_turns_it_into_pubrel),
        cmocka_unit_test(puback_before_its_resend_completes_it),
        cmocka_unit_test(resent_pubrel_waits_for_room),
#if KMQTT_CFG_OFFLINE_QUEUE
        cmocka_unit_test(restore_checks_the_packet),
        cmocka_unit_test(restored_inbound_ids_are_held_once),
#endif
#if KMQTT_CFG_V5
        cmocka_unit_test(released_records_survive_a_smaller_maximum_packet_size),
        cmocka_unit_test(features_said_available_are_used),
        cmocka_unit_test(disconnect_and_auth_limits),
        cmocka_unit_test(impossible_property_blocks_are_refused),
        cmocka_unit_test(subscribe_passes_resends_held_by_receive_maximum),
#endif
#if KMQTT_CFG_V5 && KMQTT_CFG_TOPIC_ALIAS
        cmocka_unit_test(outbound_alias_needs_its_own_room),
        cmocka_unit_test(inbound_alias_with_a_wildcard_topic_is_refused),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
