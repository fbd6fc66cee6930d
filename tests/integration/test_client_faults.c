/*
 * No message lost to a bad network: a publisher with a persistent session
 * and automatic reconnect talks to mosquitto through the fault proxy
 * (support/fault_proxy.h), which drops its connection every few hundred
 * messages, cuts packets into 1-byte fragments, delays them or blackholes
 * the link. A subscriber with a persistent session and a QoS 2
 * subscription sits directly on the broker, so every loss it sees is the
 * publisher's.
 *
 * KMQTT_FAULT_MESSAGES sets how many messages the drop tests send (default
 * 2000); KMQTT_FAULT_SEED repeats a run's fault pattern (each test prints
 * its seed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "fault_proxy.h"
#include "it_client.h"
#include "it_group.h"

#define WAIT_MS   5000u
#define SEQ_LEN   8u   /* decimal digits of the sequence number at the start of a payload */
#define AHEAD     400u /* messages the publisher may run ahead of the subscriber */
#define RECONN_LO 20u
#define RECONN_HI 200u
#define STALL_MS  10000u /* a publisher that got nothing out for this long is stuck */

static uint32_t fault_messages(void)
{
    const char *s = getenv("KMQTT_FAULT_MESSAGES");
    long v = s != NULL ? strtol(s, NULL, 10) : 0;
    return v > 0 && v < 100000000 ? (uint32_t)v : 2000u;
}

static uint64_t fault_seed(void)
{
    const char *s = getenv("KMQTT_FAULT_SEED");
    if (s != NULL && *s != '\0') {
        return strtoull(s, NULL, 10);
    }
    return now_ms() ^ ((uint64_t)getpid() << 32);
}

/* ------------------------------------------------------------- payloads */

/* Sequence number in decimal, then filler derived from it, so a payload
 * damaged on the way (a fragment lost or repeated) is noticed. */
static size_t make_payload(uint8_t *buf, uint32_t seq, size_t len)
{
    size_t i;
    uint32_t v = seq;
    for (i = SEQ_LEN; i > 0; i--) {
        buf[i - 1] = (uint8_t)('0' + v % 10u);
        v /= 10u;
    }
    for (i = SEQ_LEN; i < len; i++) {
        buf[i] = (uint8_t)(seq + i);
    }
    return len;
}

/* Fixed size for the drop tests; 8..307 bytes for the fragment test, so
 * the remaining length takes one byte or two. */
static size_t len_fixed(uint32_t seq)
{
    (void)seq;
    return 16;
}

static size_t len_varied(uint32_t seq)
{
    return SEQ_LEN + (seq * 37u) % 300u;
}

/* What the subscriber received, by sequence number. */
typedef struct tally {
    pthread_mutex_t mu;
    uint32_t n;
    uint8_t *seen; /* times each sequence number arrived (saturates) */
    uint32_t unique;
    uint32_t total;
    uint32_t dups;
    uint32_t out_of_order; /* arrivals that were not last + 1 */
    uint32_t bad;          /* unparsable or damaged payloads */
    int64_t last;
    uint64_t last_at;    /* when the latest message arrived */
    uint64_t gap_ms;     /* longest wait between two arrivals */
    uint32_t gap_seq;    /* the message that ended it */
    uint32_t missing;    /* after tally_finish: sequence numbers never seen */
    uint32_t not_once;   /* after tally_finish: seen other than exactly once */
    unsigned sub_lost;   /* connections the subscriber lost (it has no faults) */
    kmqtt_err_t sub_err; /* why it lost the first one */
} tally_t;

static void tally_init(tally_t *t, uint32_t n)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    t->n = n;
    t->seen = calloc(n, 1);
    t->last = -1;
    assert_non_null(t->seen);
}

/* Sums up (missing, not exactly once), names the first few missing, and
 * frees: called before any assertion, so a failing test leaks nothing. */
static void tally_finish(tally_t *t)
{
    uint32_t seq;
    for (seq = 0; seq < t->n; seq++) {
        if (t->seen[seq] == 0 && t->missing++ < 5) {
            print_error("message %u never arrived\n", (unsigned)seq);
        }
        if (t->seen[seq] != 1) {
            t->not_once++;
        }
    }
    free(t->seen);
    t->seen = NULL;
    pthread_mutex_destroy(&t->mu);
}

static uint32_t tally_unique(tally_t *t)
{
    uint32_t u;
    pthread_mutex_lock(&t->mu);
    u = t->unique;
    pthread_mutex_unlock(&t->mu);
    return u;
}

static void tally_handler(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    tally_t *t = ctx;
    const uint8_t *p = msg->payload.ptr;
    uint8_t want[512];
    uint32_t seq = 0;
    bool ok = msg->payload.len >= SEQ_LEN && msg->payload.len <= sizeof(want);
    size_t i;
    (void)c;
    for (i = 0; ok && i < SEQ_LEN; i++) {
        ok = p[i] >= '0' && p[i] <= '9';
        seq = seq * 10u + (uint32_t)(p[i] - '0');
    }
    if (ok) {
        make_payload(want, seq, msg->payload.len);
        ok = memcmp(want, p, msg->payload.len) == 0;
    }
    pthread_mutex_lock(&t->mu);
    if (t->last_at != 0 && now_ms() - t->last_at > t->gap_ms) {
        t->gap_ms = now_ms() - t->last_at;
        t->gap_seq = seq;
    }
    t->last_at = now_ms();
    t->total++;
    if (!ok || seq >= t->n) {
        t->bad++;
    } else {
        if (t->seen[seq] > 0) {
            t->dups++;
        } else {
            t->unique++;
        }
        if (t->seen[seq] < 255) {
            t->seen[seq]++;
        }
        if ((int64_t)seq != t->last + 1) {
            t->out_of_order++;
        }
        t->last = seq;
    }
    pthread_mutex_unlock(&t->mu);
}

static void tally_state(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err, void *ctx)
{
    tally_t *t = ctx;
    (void)c;
    if (state == KMQTT_STATE_CONNECTION_LOST) {
        pthread_mutex_lock(&t->mu);
        if (t->sub_lost++ == 0) {
            t->sub_err = err;
        }
        pthread_mutex_unlock(&t->mu);
    }
}

/* The publisher's connection history. */
typedef struct link {
    pthread_mutex_t mu;
    unsigned connected;
    unsigned lost;
    uint64_t lost_at;      /* of the latest CONNECTION_LOST */
    uint64_t connected_at; /* of the latest CONNECTED */
    uint64_t outage_ms;    /* longest time from CONNECTION_LOST to CONNECTED */
} link_t;

static void link_init(link_t *l)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
}

static void link_destroy(link_t *l)
{
    pthread_mutex_destroy(&l->mu);
}

static void link_handler(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err, void *ctx)
{
    link_t *l = ctx;
    (void)c;
    (void)err;
    pthread_mutex_lock(&l->mu);
    if (state == KMQTT_STATE_CONNECTED) {
        l->connected++;
        l->connected_at = now_ms();
        if (l->lost > 0 && l->connected_at - l->lost_at > l->outage_ms) {
            l->outage_ms = l->connected_at - l->lost_at;
        }
    } else if (state == KMQTT_STATE_CONNECTION_LOST) {
        l->lost++;
        l->lost_at = now_ms();
    }
    pthread_mutex_unlock(&l->mu);
}

static void link_get(link_t *l, link_t *copy)
{
    pthread_mutex_lock(&l->mu);
    copy->connected = l->connected;
    copy->lost = l->lost;
    copy->lost_at = l->lost_at;
    copy->connected_at = l->connected_at;
    copy->outage_ms = l->outage_ms;
    pthread_mutex_unlock(&l->mu);
}

/* Polls until the link has seen more than `than` of CONNECTED (or LOST). */
static bool link_wait(link_t *l, bool connected, unsigned than, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    link_t s;
    for (;;) {
        link_get(l, &s);
        if ((connected ? s.connected : s.lost) > than) {
            return true;
        }
        if (now_ms() >= deadline) {
            return false;
        }
        sleep_ms(1);
    }
}

/* -------------------------------------------------------------- clients */

static void persistent_options(kmqtt_client_options_t *o, uint16_t port, const char *id)
{
    kmqtt_client_options_init(o);
    o->host = "127.0.0.1";
    o->port = port;
    o->client_id = id;
    o->clean_session = false;
    o->reconnect = KMQTT_RECONNECT_ON;
    o->reconnect_min_ms = RECONN_LO;
    o->reconnect_max_ms = RECONN_HI;
    o->connect_timeout_ms = 1000;
}

/* Connected, with its background thread (and so its reconnects) running. */
static kmqtt_client_t *publisher(uint16_t port, const char *id, uint16_t keepalive_s, link_t *l)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    persistent_options(&o, port, id);
    o.keepalive_s = keepalive_s;
    o.publish_block_ms = 50;
    o.on_state = link_handler;
    o.ctx = l;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    return c;
}

static kmqtt_client_t *subscriber(uint16_t port, const char *id, const char *topic, uint8_t qos,
                                  tally_t *t)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t sub;
    kmqtt_subscribe_result_t granted;
    persistent_options(&o, port, id);
    o.on_state = tally_state;
    o.ctx = t;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    sub.filter = topic;
    sub.qos = qos;
    sub.handler = tally_handler;
    sub.ctx = t;
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, &granted), KMQTT_OK);
    assert_int_equal(granted.reason_codes[0], qos);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    return c;
}

/* Publishes sequence numbers [from, to). While the client reconnects it
 * answers KMQTT_ENOTCONN, and KMQTT_ELIMIT while its window is full: until
 * an offline queue exists, waiting and trying again is the application's
 * job. The publisher also stays at most AHEAD messages in front of the
 * subscriber, because mosquitto drops what overflows a client's queue
 * (max_queued_messages, 1000 by default): that would be the broker's loss,
 * not the client's. Returns false past the deadline. */
static bool publish_range(kmqtt_client_t *c, const char *topic, uint8_t qos, uint32_t from,
                          uint32_t to, size_t (*len_of)(uint32_t), tally_t *t, uint64_t deadline,
                          unsigned *retries)
{
    uint8_t buf[512];
    uint32_t seq;
    uint64_t progress = now_ms();
    for (seq = from; seq < to; seq++) {
        size_t len = make_payload(buf, seq, len_of(seq));
        for (;;) {
            kmqtt_err_t e;
            uint64_t now = now_ms();
            if (now > deadline || now - progress > STALL_MS) {
                print_error("publishing %u: %s (client state %d)\n", (unsigned)seq,
                            now > deadline ? "deadline passed" : "no progress",
                            (int)kmqtt_client_state(c));
                return false;
            }
            if (seq >= tally_unique(t) + AHEAD) {
                sleep_ms(1);
                continue;
            }
            e = kmqtt_publish(c, topic, buf, len, qos, false, NULL, NULL);
            if (e == KMQTT_OK) {
                progress = now_ms();
                break;
            }
            if (e != KMQTT_ENOTCONN && e != KMQTT_ELIMIT) {
                print_error("publishing %u: %s\n", (unsigned)seq, kmqtt_strerror(e));
                return false;
            }
            (*retries)++;
            sleep_ms(1);
        }
    }
    return true;
}

static bool wait_unique(tally_t *t, uint32_t n, uint64_t deadline)
{
    while (tally_unique(t) < n) {
        if (now_ms() > deadline) {
            return false;
        }
        sleep_ms(2);
    }
    return true;
}

/* Everything a test reports and then checks. */
typedef struct run_result {
    uint32_t sent;
    tally_t *t;
    fault_proxy_stats_t px;
    link_t link;
    unsigned retries;
    uint64_t elapsed_ms;
    uint64_t published_ms; /* when the last publish was accepted */
    uint64_t delivered_ms; /* when the last message arrived */
    bool published;
    bool delivered;
    kmqtt_err_t drained;
} run_result_t;

static void report(const char *name, uint64_t seed, const run_result_t *r)
{
    print_message(
        "%s: sent %u, received %u (unique %u, duplicates %u, out of order %u, "
        "damaged %u), drops %u, reconnects %u (longest outage %llu ms), publish "
        "retries %u, %llu ms "
        "(published at %llu, delivered at %llu, longest gap %llu ms before %u), "
        "subscriber lost its connection %u times (first: %s), seed %llu\n",
        name, (unsigned)r->sent, (unsigned)r->t->total, (unsigned)r->t->unique,
        (unsigned)r->t->dups, (unsigned)r->t->out_of_order, (unsigned)r->t->bad, r->px.drops,
        r->link.connected > 0 ? r->link.connected - 1 : 0, (unsigned long long)r->link.outage_ms,
        r->retries, (unsigned long long)r->elapsed_ms, (unsigned long long)r->published_ms,
        (unsigned long long)r->delivered_ms, (unsigned long long)r->t->gap_ms,
        (unsigned)r->t->gap_seq, r->t->sub_lost,
        r->t->sub_lost > 0 ? kmqtt_strerror(r->t->sub_err) : "-", (unsigned long long)seed);
}

/* -------------------------------------------------------- drop tests */

/* N messages at qos through a link dropped every few hundred messages: a
 * drop budget of 4,000..16,000 bytes (both directions) is 100..400 QoS 1
 * messages of 34 bytes on the wire, fewer at QoS 2 (4 packets each). */
static void stream_through_drops(broker_t *b, uint8_t qos, const char *name, run_result_t *r,
                                 tally_t *t)
{
    char topic[64], pub_id[64], sub_id[64];
    uint64_t seed = fault_seed();
    int fds0 = count_open_fds();
    int threads0 = count_threads();
    uint64_t t0, deadline;
    fault_proxy_t *px;
    kmqtt_client_t *sub, *pub;

    snprintf(topic, sizeof(topic), "fault/%s", name);
    snprintf(pub_id, sizeof(pub_id), "it-fault-pub-%s", name);
    snprintf(sub_id, sizeof(sub_id), "it-fault-sub-%s", name);
    memset(r, 0, sizeof(*r));
    r->t = t;
    r->sent = fault_messages();
    tally_init(t, r->sent);
    link_init(&r->link);

    px = fault_proxy_start(broker_port(b), seed);
    assert_non_null(px);
    sub = subscriber(broker_port(b), sub_id, topic, 2, t);
    pub = publisher(fault_proxy_port(px), pub_id, 30, &r->link);

    fault_proxy_drop_after(px, 4000, 16000);
    t0 = now_ms();
    deadline = t0 + 20000u + (uint64_t)r->sent * 10u;
    r->published = publish_range(pub, topic, qos, 0, r->sent, len_fixed, t, deadline, &r->retries);
    r->published_ms = now_ms() - t0;
    r->delivered = r->published && wait_unique(t, r->sent, deadline);
    r->delivered_ms = now_ms() - t0;
    /* Quiet link: the last acks come back, late duplicates have time to show. */
    fault_proxy_drop_after(px, 0, 0);
    r->drained = kmqtt_publish_wait_all(pub, WAIT_MS);
    sleep_ms(300);
    r->elapsed_ms = now_ms() - t0;

    kmqtt_client_destroy(pub);
    kmqtt_client_destroy(sub);
    fault_proxy_get_stats(px, &r->px);
    fault_proxy_stop(px);
    link_get(&r->link, &r->link);
    link_destroy(&r->link);
    report(name, seed, r);
    tally_finish(t);

    assert_int_equal(wait_threads_at_most(threads0, 500), threads0);
    assert_int_equal(count_open_fds(), fds0);
}

static void test_qos1_stream_survives_dropped_connections_with_every_message_delivered(void **state)
{
    run_result_t r;
    tally_t t;

    stream_through_drops(*state, 1, "q1", &r, &t);
    assert_true(r.published);
    assert_true(r.delivered);
    assert_int_equal(r.drained, KMQTT_OK);
    /* At least once (MQTT-4.3.2): every sequence number arrived. */
    assert_int_equal(t.missing, 0);
    assert_int_equal(t.bad, 0);
    /* The faults really happened, and each one was recovered from. */
    assert_true(r.px.drops >= 1);
    assert_true(r.link.connected >= r.px.drops + 1);
}

static void test_qos2_stream_survives_dropped_connections_exactly_once_and_in_order(void **state)
{
    run_result_t r;
    tally_t t;

    stream_through_drops(*state, 2, "q2", &r, &t);
    assert_true(r.published);
    assert_true(r.delivered);
    assert_int_equal(r.drained, KMQTT_OK);
    /* Exactly once (MQTT-4.3.3): resent PUBLISHes carry DUP and their old
     * packet id, so the broker's session discards the copies; resends go in
     * the original order (MQTT-4.6.0-1, -2, -3), so the stream stays ordered. */
    assert_int_equal(t.missing, 0);
    assert_int_equal(t.not_once, 0);
    assert_int_equal(t.dups, 0);
    assert_int_equal(t.out_of_order, 0);
    assert_int_equal(t.bad, 0);
    assert_true(r.px.drops >= 1);
    assert_true(r.link.connected >= r.px.drops + 1);
}

/* ------------------------------------------------- the subscriber alone */

static void test_qos2_subscriber_keeps_its_connection_under_a_fast_stream(void **state)
{
    broker_t *b = *state;
    uint32_t n = fault_messages();
    uint64_t seed = 0;
    run_result_t r;
    tally_t t;
    kmqtt_client_t *sub, *pub;
    uint64_t t0;

    memset(&r, 0, sizeof(r));
    r.t = &t;
    r.sent = n;
    tally_init(&t, n);
    link_init(&r.link);
    /* No proxy, no faults: 3.1.1 has no Receive Maximum, so the broker may
     * have many more QoS 2 messages awaiting PUBREL than the client's
     * max_inflight; the client must not call that a protocol error. */
    sub = subscriber(broker_port(b), "it-fast-sub", "fault/fast", 2, &t);
    pub = publisher(broker_port(b), "it-fast-pub", 30, &r.link);
    t0 = now_ms();
    r.published = publish_range(pub, "fault/fast", 2, 0, n, len_fixed, &t,
                                t0 + 20000u + (uint64_t)n * 10u, &r.retries);
    r.published_ms = now_ms() - t0;
    r.delivered = r.published && wait_unique(&t, n, t0 + 20000u + (uint64_t)n * 10u);
    r.delivered_ms = now_ms() - t0;
    r.drained = kmqtt_publish_wait_all(pub, WAIT_MS);
    r.elapsed_ms = now_ms() - t0;
    kmqtt_client_destroy(pub);
    kmqtt_client_destroy(sub);
    link_get(&r.link, &r.link);
    link_destroy(&r.link);
    report("fast", seed, &r);
    tally_finish(&t);

    assert_true(r.delivered);
    assert_int_equal(t.dups, 0);
    assert_int_equal(t.out_of_order, 0);
    assert_int_equal(t.sub_lost, 0);
    assert_int_equal(r.link.lost, 0);
}

/* ------------------------------------------------------------ fragments */

static void test_messages_cut_into_single_bytes_all_arrive_intact(void **state)
{
    broker_t *b = *state;
    const uint32_t n = 300;
    uint64_t seed = fault_seed();
    int fds0 = count_open_fds();
    int threads0 = count_threads();
    fault_proxy_t *px = fault_proxy_start(broker_port(b), seed);
    run_result_t r;
    tally_t t;
    kmqtt_client_t *sub, *pub;
    uint64_t t0;

    assert_non_null(px);
    memset(&r, 0, sizeof(r));
    r.t = &t;
    r.sent = n;
    tally_init(&t, n);
    link_init(&r.link);
    /* Both clients through the proxy: every packet each way, CONNECT and
     * SUBSCRIBE included, reaches a client one byte at a time. */
    fault_proxy_fragment(px, true);
    sub = subscriber(fault_proxy_port(px), "it-frag-sub", "fault/frag", 1, &t);
    pub = publisher(fault_proxy_port(px), "it-frag-pub", 30, &r.link);
    t0 = now_ms();
    r.published =
        publish_range(pub, "fault/frag", 1, 0, n, len_varied, &t, t0 + 60000u, &r.retries);
    r.published_ms = now_ms() - t0;
    r.delivered = r.published && wait_unique(&t, n, t0 + 60000u);
    r.delivered_ms = now_ms() - t0;
    r.drained = kmqtt_publish_wait_all(pub, WAIT_MS);
    r.elapsed_ms = now_ms() - t0;
    kmqtt_client_destroy(pub);
    kmqtt_client_destroy(sub);
    fault_proxy_get_stats(px, &r.px);
    fault_proxy_stop(px);
    link_get(&r.link, &r.link);
    link_destroy(&r.link);
    report("fragments", seed, &r);
    tally_finish(&t);

    assert_true(r.delivered);
    assert_int_equal(r.drained, KMQTT_OK);
    assert_int_equal(t.total, n);
    assert_int_equal(t.out_of_order, 0);
    assert_int_equal(t.bad, 0);
    assert_int_equal(r.px.drops, 0);
    assert_int_equal(r.px.accepted, 2);
    assert_int_equal(r.link.connected, 1);
    assert_int_equal(wait_threads_at_most(threads0, 500), threads0);
    assert_int_equal(count_open_fds(), fds0);
}

/* ------------------------------------------------------------ blackhole */

static void test_blackholed_link_is_noticed_within_keepalive_and_flow_resumes(void **state)
{
    broker_t *b = *state;
    const uint16_t keepalive_s = 2;
    const uint32_t before = 50, during = 5, after = 50, n = before + during + after;
    uint64_t seed = fault_seed();
    int fds0 = count_open_fds();
    int threads0 = count_threads();
    fault_proxy_t *px = fault_proxy_start(broker_port(b), seed);
    run_result_t r;
    tally_t t;
    link_t s;
    kmqtt_client_t *sub, *pub;
    uint64_t t0, hole_at, lift_at;
    uint64_t noticed_ms = 0, back_ms = 0;
    bool noticed, back = false, ok;

    assert_non_null(px);
    memset(&r, 0, sizeof(r));
    r.t = &t;
    r.sent = n;
    tally_init(&t, n);
    link_init(&r.link);
    sub = subscriber(broker_port(b), "it-hole-sub", "fault/hole", 2, &t);
    pub = publisher(fault_proxy_port(px), "it-hole-pub", keepalive_s, &r.link);
    t0 = now_ms();

    ok = publish_range(pub, "fault/hole", 1, 0, before, len_fixed, &t, t0 + 10000u, &r.retries);
    ok = ok && wait_unique(&t, before, t0 + 10000u);
    ok = ok && kmqtt_publish_wait_all(pub, WAIT_MS) == KMQTT_OK;

    /* The link goes silent with messages in flight: they wait in the store
     * and go again after the reconnect (MQTT-4.4.0-1). */
    fault_proxy_blackhole(px, true);
    hole_at = now_ms();
    ok = ok && publish_range(pub, "fault/hole", 1, before, before + during, len_fixed, &t,
                             hole_at + 1000u, &r.retries);
    noticed = link_wait(&r.link, false, 0, keepalive_s * 2000u);
    link_get(&r.link, &s);
    if (noticed) {
        noticed_ms = s.lost_at - hole_at;
        /* Attempts during the blackhole reach the proxy and hang there. */
        sleep_ms(500);
    }
    /* The path lost its state (a NAT that forgot it): what was sent into
     * the hole is gone, and the next attempt gets through. */
    fault_proxy_drop_now(px);
    fault_proxy_blackhole(px, false);
    lift_at = now_ms();
    if (noticed) {
        back = link_wait(&r.link, true, s.connected, WAIT_MS);
        link_get(&r.link, &s);
        back_ms = back ? s.connected_at - lift_at : 0;
    }
    ok = ok && back &&
         publish_range(pub, "fault/hole", 1, before + during, n, len_fixed, &t, lift_at + 10000u,
                       &r.retries);
    r.published = ok;
    r.published_ms = now_ms() - t0;
    r.delivered = ok && wait_unique(&t, n, lift_at + 10000u);
    r.delivered_ms = now_ms() - t0;
    r.drained = kmqtt_publish_wait_all(pub, WAIT_MS);
    r.elapsed_ms = now_ms() - t0;

    kmqtt_client_destroy(pub);
    kmqtt_client_destroy(sub);
    fault_proxy_get_stats(px, &r.px);
    fault_proxy_stop(px);
    link_get(&r.link, &r.link);
    link_destroy(&r.link);
    report("blackhole", seed, &r);
    tally_finish(&t);
    print_message("blackhole: lost noticed after %llu ms (keepalive %u s), connected again %llu ms "
                  "after the link came back\n",
                  (unsigned long long)noticed_ms, (unsigned)keepalive_s,
                  (unsigned long long)back_ms);

    assert_true(noticed);
    /* A PINGREQ after a keepalive of silence, then half a keepalive for its
     * PINGRESP: 1.5 x keepalive, plus scheduling slack. Not sooner than a
     * keepalive could have run out either. */
    assert_true(noticed_ms <= keepalive_s * 1500u + 300u);
    assert_true(noticed_ms >= keepalive_s * 1000u - 500u);
    assert_true(back);
    assert_true(back_ms <= 1000u + RECONN_HI + 500u);
    assert_true(r.published);
    assert_true(r.delivered);
    assert_int_equal(r.drained, KMQTT_OK);
    assert_int_equal(t.bad, 0);
    assert_int_equal(wait_threads_at_most(threads0, 500), threads0);
    assert_int_equal(count_open_fds(), fds0);
}

/* ---------------------------------------------------------------- delay */

static void test_slow_link_delivers_with_the_added_latency(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    const unsigned delay = 40;
    int fds0 = count_open_fds();
    fault_proxy_t *px = fault_proxy_start(broker_port(b), 1);
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    uint16_t id = 0;
    uint64_t t0, rtt;
    int i;

    assert_non_null(px);
    it_options(&o, b, "it-delay");
    o.port = fault_proxy_port(px);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    fault_proxy_delay(px, delay);
    for (i = 0; i < 5; i++) {
        t0 = now_ms();
        assert_int_equal(kmqtt_publish(c, "fault/delay", "x", 1, 1, false, NULL, &pr), KMQTT_OK);
        id = pr.packet_id;
        assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
        rtt = now_ms() - t0;
        if (rtt < 2u * delay - 2u) {
            print_error("round trip %u: %llu ms\n", i, (unsigned long long)rtt);
        }
        /* PUBLISH one way, PUBACK the other: each held for the delay. */
        assert_true(rtt >= 2u * delay - 2u);
        assert_true(rtt < 2u * delay + 1000u);
    }
    kmqtt_client_destroy(c);
    fault_proxy_stop(px);
    assert_int_equal(count_open_fds(), fds0);
}

/* ------------------------------------------------- the proxy's own promises */

static void test_drop_after_n_bytes_cuts_the_connection_at_exactly_n(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    int fds0 = count_open_fds();
    fault_proxy_t *px = fault_proxy_start(broker_port(b), 1);
    fault_proxy_stats_t st;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_err_t e = KMQTT_OK;
    uint8_t payload[40];
    int i;

    assert_non_null(px);
    fault_proxy_drop_after(px, 300, 300);
    it_options(&o, b, "it-cut");
    o.port = fault_proxy_port(px);
    o.reconnect = KMQTT_RECONNECT_OFF;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    memset(payload, 'p', sizeof(payload));
    for (i = 0; i < 100 && e == KMQTT_OK; i++) {
        uint16_t id = 0;
        e = kmqtt_publish(c, "fault/cut", payload, sizeof(payload), 1, false, NULL, &pr);
        id = pr.packet_id;
        if (e == KMQTT_OK) {
            e = kmqtt_publish_wait(c, id, WAIT_MS, NULL);
        }
    }
    assert_true(e < 0);
    assert_int_not_equal(e, KMQTT_ETIMEDOUT);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTION_LOST);
    fault_proxy_get_stats(px, &st);
    print_message("cut: %s after %d publishes; accepted %u, drops %u, active %u, %llu B up, "
                  "%llu B down\n",
                  kmqtt_strerror(e), i, st.accepted, st.drops, st.active,
                  (unsigned long long)st.bytes_up, (unsigned long long)st.bytes_down);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.drops, 1);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.bytes_up + st.bytes_down, 300);
    kmqtt_client_destroy(c);
    fault_proxy_stop(px);
    assert_int_equal(count_open_fds(), fds0);
}

static int raw_connect(uint16_t port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void test_stopping_the_proxy_releases_every_socket_and_its_thread(void **state)
{
    broker_t *b = *state;
    int fds0 = count_open_fds();
    int threads0 = count_threads();
    fault_proxy_t *px = fault_proxy_start(broker_port(b), 1);
    fault_proxy_stats_t st;
    uint64_t deadline;
    int fd[3];
    int i;

    assert_non_null(px);
    assert_int_equal(count_threads(), threads0 + 1);
    for (i = 0; i < 3; i++) {
        fd[i] = raw_connect(fault_proxy_port(px));
    }
    deadline = now_ms() + WAIT_MS;
    do {
        sleep_ms(2);
        fault_proxy_get_stats(px, &st);
    } while (st.active < 3 && now_ms() < deadline);
    assert_int_equal(st.accepted, 3);
    assert_int_equal(st.active, 3);
    /* Listener, wake pipe, and a pair per connection, ours included. */
    assert_int_equal(count_open_fds(), fds0 + 3 + 3 + 2 * 3);
    fault_proxy_blackhole(px, true);

    /* Stopped with connections open and blackholed: everything goes. */
    fault_proxy_stop(px);
    assert_int_equal(count_open_fds(), fds0 + 3);
    assert_int_equal(wait_threads_at_most(threads0, 500), threads0);
    for (i = 0; i < 3; i++) {
        char c;
        /* The proxy closed its end: our side reads end of file. */
        assert_true(read(fd[i], &c, 1) <= 0);
        close(fd[i]);
    }
    assert_int_equal(count_open_fds(), fds0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, it_broker_setup, it_broker_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_stopping_the_proxy_releases_every_socket_and_its_thread),
        T(test_drop_after_n_bytes_cuts_the_connection_at_exactly_n),
        T(test_slow_link_delivers_with_the_added_latency),
        T(test_messages_cut_into_single_bytes_all_arrive_intact),
        T(test_qos1_stream_survives_dropped_connections_with_every_message_delivered),
        T(test_qos2_stream_survives_dropped_connections_exactly_once_and_in_order),
        T(test_qos2_subscriber_keeps_its_connection_under_a_fast_stream),
        T(test_blackholed_link_is_noticed_within_keepalive_and_flow_resumes),
    };
    signal(SIGPIPE, SIG_IGN);
    warm_up_threads();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
