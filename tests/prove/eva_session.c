/*
 * Eva harness (make prove): the engine's input path (include/kmqtt/session.h:
 * kmqtt_session_rx_space, kmqtt_session_rx_commit, kmqtt_session_next_event)
 * for every input of exactly KMQTT_PROVE_LEN unknown bytes, in both protocol
 * versions, delivered in one piece or split in two at any point, from two
 * starting states:
 *  - CONNECTING: CONNECT sent, nothing received (the input must begin with
 *    a CONNACK, or a 5.0 AUTH);
 *  - CONNECTED: a CONNACK accepted, then a QoS 1 and a QoS 2 PUBLISH in the
 *    store, a SUBSCRIBE and an UNSUBSCRIBE awaiting their acks, so the
 *    input's acks can find what they acknowledge.
 * Either with a clean session or not (a CONNACK with Session Present is
 * then accepted), 3.1.1 with the inbound QoS 2 table or its bitmap, 5.0 with
 * inbound and outbound topic alias slots; tx drained between the two
 * pieces of input.
 *
 * Every event is read as an application would: each view it carries (topic,
 * payload, property block, reason codes) byte by byte, so a view outside rx
 * is an alarm. The input is copied to where rx_space says; rx is exactly as
 * large as the engine is told, so a read past it is an out-of-bounds alarm.
 *
 * Eva is sound: no alarm means no run-time error (read or write out of
 * bounds, undefined overflow, uninitialised read, invalid pointer) on any of
 * those inputs. Remaining alarms are listed, by function, with the reason,
 * in eva_session.alarms.md; scripts/prove.sh fails on any other.
 */
#include "__fc_builtin.h"
#include "kmqtt/session.h"

#ifndef KMQTT_PROVE_LEN
#define KMQTT_PROVE_LEN 4
#endif
#if KMQTT_PROVE_LEN > 0
#define IN_SIZE KMQTT_PROVE_LEN
#else
#define IN_SIZE 1 /* C has no empty arrays; the input is empty */
#endif

#define RX_SIZE 64 /* larger than any input analysed, so only the input decides */
#define TX_SIZE 48 /* CONNECT fits; an ack after a full tx waits */

static volatile uint8_t sink;

static void touch(const void *ptr, size_t len)
{
    const uint8_t *p = ptr;
    for (size_t i = 0; i < len; i++)
        sink = p[i];
}

static void walk_event(const kmqtt_session_event_t *ev)
{
    switch (ev->type) {
    case KMQTT_SESSION_EV_MESSAGE:
        touch(ev->msg.topic, ev->msg.topic_len);
        touch(ev->msg.payload, ev->msg.payload_len);
        touch(ev->msg.props, ev->msg.props_len);
        break;
    case KMQTT_SESSION_EV_SUBACK:
    case KMQTT_SESSION_EV_UNSUBACK:
        touch(ev->codes, ev->count);
        touch(ev->props, ev->props_len);
        break;
    default:
        touch(ev->props, ev->props_len);
        break;
    }
}

static uint8_t in[IN_SIZE];
static uint8_t rx[RX_SIZE], tx[TX_SIZE], store[128];
static uint16_t inbound[2];
static uint8_t bits[KMQTT_SESSION_INBOUND_BITS_SIZE];
static kmqtt_session_request_t req[2];
static uint8_t alias_in[2 * KMQTT_SESSION_ALIAS_IN_SLOT(4)];
static uint8_t alias_out[2 * KMQTT_SESSION_ALIAS_OUT_SLOT(4)];
static kmqtt_session_t s;
static kmqtt_session_config_t cfg;
static kmqtt_session_buffers_t b;

static void drain_tx(void)
{
    const uint8_t *p;
    size_t n = kmqtt_session_tx_peek(&s, &p);
    kmqtt_session_tx_consume(&s, n, 0);
}

/* Feeds n bytes from src as a transport would (what does not fit rx now is
 * dropped by this harness: rx is larger than every input, so nothing is). */
static void feed(const uint8_t *src, size_t n)
{
    size_t space;
    uint8_t *at = kmqtt_session_rx_space(&s, &space);
    if (n > space)
        n = space;
    /*@ loop unroll 16; */
    for (size_t i = 0; i < n; i++)
        at[i] = src[i];
    kmqtt_session_rx_commit(&s, n, 0);
}

/* Takes every event the engine has, as a driver's loop does. */
static void events(void)
{
    kmqtt_session_event_t ev;
    /*@ loop unroll 8; */
    while (kmqtt_session_next_event(&s, 0, &ev) == KMQTT_OK)
        walk_event(&ev);
}

static void connected(bool v5)
{
    static const uint8_t connack311[] = {0x20, 0x02, 0x00, 0x00};
    static const uint8_t connack5[] = {0x20, 0x03, 0x00, 0x00, 0x00};
    static const uint8_t payload[] = {'h', 'i'};
    static const kmqtt_session_sub_t sub = {"a/+", 1};
    static const char *const unsub[] = {"a/#"};
    kmqtt_session_msg_t m = {"a/b", 3, 1, false, false, 0, payload, 2, NULL, 0};

    if (v5)
        feed(connack5, sizeof connack5);
    else
        feed(connack311, sizeof connack311);
    events();
    drain_tx();
    (void)kmqtt_session_publish(&s, &m, NULL);
    drain_tx();
    m.qos = 2;
    (void)kmqtt_session_publish(&s, &m, NULL);
    drain_tx();
    (void)kmqtt_session_subscribe(&s, &sub, 1, NULL, 0, NULL);
    drain_tx();
    (void)kmqtt_session_unsubscribe(&s, unsub, 1, NULL, 0, NULL);
    drain_tx();
}

int main(void)
{
    Frama_C_make_unknown((char *)in, IN_SIZE);
    size_t len = KMQTT_PROVE_LEN;
    int v5 = Frama_C_nondet(0, 1);
    int mode = Frama_C_nondet(0, 1);
    /*@ split v5; */
    /*@ split mode; */

    kmqtt_session_config_init(&cfg);
    cfg.version = v5 ? KMQTT_V5 : KMQTT_V311;
    cfg.client_id = "c";
    cfg.clean_session = Frama_C_nondet(0, 1) != 0;
    b.rx = rx;
    b.rx_size = RX_SIZE;
    b.tx = tx;
    b.tx_size = TX_SIZE;
    b.store = store;
    b.store_size = sizeof store;
    b.inbound = inbound;
    b.inbound_max = 2;
    b.requests = req;
    b.max_requests = 2;
    if (v5) {
        b.alias_in = alias_in;
        b.alias_in_max = 2;
        b.alias_out = alias_out;
        b.alias_out_max = 2;
        b.alias_topic_len = 4;
    } else if (Frama_C_nondet(0, 1)) {
        b.inbound_bits = bits;
    }
    if (kmqtt_session_init(&s, &cfg, &b) != KMQTT_OK || kmqtt_session_start(&s, 0) != KMQTT_OK)
        return 1;
    drain_tx();
    if (mode)
        connected(v5 != 0);

    /* The input, in one piece (cut == len) or in two. */
    size_t cut = (size_t)Frama_C_interval(0, (int)len);
    /*@ split cut; */
    feed(in, cut);
    events();
    drain_tx();
    feed(in + cut, len - cut);
    events();
    drain_tx();
    events();
    return 0;
}
