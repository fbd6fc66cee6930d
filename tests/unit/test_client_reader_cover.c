/*
 * kmqtt_publish_reader (issue #19) against a broker scripted in memory:
 * what the caller sees for bad arguments, a client that is not connected,
 * more than KMQTT_READERS_MAX messages unacknowledged at once (at once and
 * after waiting publish_block_ms), and a reader that fails part way (the
 * packet is cut, so the connection ends). The payload the broker receives
 * is checked byte for byte. The transport can stall (take nothing) or take
 * a little at a time, so the same file also checks what waits behind a
 * send buffer that cannot drain: a second reader, SUBSCRIBE, DISCONNECT,
 * and the offline queue. The client runs its loop in the calling thread
 * (kmqtt_run), so nothing here races.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kmqtt/client.h"
#include "kmqtt/config.h"

#define PAYLOAD_LEN 3000u

typedef struct sb {
    uint8_t in[1024]; /* server -> client, not yet read */
    size_t in_len, in_off;
    uint8_t out[16384]; /* client -> server, every byte of this connection */
    size_t out_len, parsed;
    bool open, ack;
    bool stall;               /* send takes nothing (would block) */
    size_t burst;             /* send takes at most this, then would block once; 0 = all */
    bool blocked;             /* the last send took bytes under burst */
    bool drop_on_subscribe;   /* the connection ends when a SUBSCRIBE arrives */
    bool stall_after_connect; /* stall once the CONNECT has arrived */
    int publishes, pubacks;
    size_t payload_at[8], payload_len[8]; /* where each PUBLISH's payload is in out */
    uint8_t qos[8];
} sb_t;

static sb_t B;

static void queue_bytes(const uint8_t *p, size_t n)
{
    assert_true(B.in_len + n <= sizeof B.in);
    memcpy(B.in + B.in_len, p, n);
    B.in_len += n;
}

/* Answers each whole packet that arrived since the last call. */
static void parse(void)
{
    for (;;) {
        const uint8_t *p = B.out + B.parsed;
        size_t avail = B.out_len - B.parsed, i = 1, rem = 0, shift = 0;
        if (avail < 2)
            return;
        while (i < avail && (p[i] & 0x80)) {
            rem |= (size_t)(p[i] & 0x7f) << shift;
            shift += 7;
            i++;
        }
        if (i >= avail)
            return;
        rem |= (size_t)p[i] << shift;
        if (avail < i + 1 + rem)
            return;
        const uint8_t *v = p + i + 1;
        switch (p[0] >> 4) {
        case 1: /* CONNECT */
        {
            uint8_t ack[] = {0x20, 2, 0, 0};
            queue_bytes(ack, sizeof ack);
            if (B.stall_after_connect)
                B.stall = true; /* takes the rest of this write only */
            break;
        }
        case 3: /* PUBLISH */
        {
            size_t tl = (size_t)v[0] << 8 | v[1], hl = 2 + tl;
            uint8_t q = (uint8_t)((p[0] >> 1) & 3u);
            if (q > 0)
                hl += 2;
            assert_true(B.publishes < 8);
            B.qos[B.publishes] = q;
            B.payload_at[B.publishes] = B.parsed + i + 1 + hl;
            B.payload_len[B.publishes] = rem - hl;
            B.publishes++;
            if (q == 1 && B.ack) {
                uint8_t ack[] = {0x40, 2, v[2 + tl], v[3 + tl]};
                queue_bytes(ack, sizeof ack);
                B.pubacks++;
            }
            break;
        }
        case 8: /* SUBSCRIBE: never answered here */
            if (B.drop_on_subscribe)
                B.open = false;
            break;
        default:
            break;
        }
        B.parsed += i + 1 + rem;
    }
}

static kmqtt_err_t b_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    B.open = true;
    B.in_len = B.in_off = 0;
    B.out_len = B.parsed = 0;
    return KMQTT_OK;
}

static long b_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    if (!B.open)
        return KMQTT_ECLOSED;
    if (B.stall)
        return 0;
    if (B.burst != 0) {
        B.blocked = !B.blocked;
        if (!B.blocked)
            return 0; /* the socket's buffer is full this once */
        if (len > B.burst)
            len = B.burst;
    }
    assert_true(B.out_len + len <= sizeof B.out);
    memcpy(B.out + B.out_len, buf, len);
    B.out_len += len;
    parse();
    return (long)len;
}

static long b_recv(void *ctx, void *buf, size_t len)
{
    size_t n = B.in_len - B.in_off;
    (void)ctx;
    if (!B.open)
        return KMQTT_ECLOSED;
    if (n == 0)
        return 0;
    if (n > len)
        n = len;
    memcpy(buf, B.in + B.in_off, n);
    B.in_off += n;
    if (B.in_off == B.in_len)
        B.in_off = B.in_len = 0;
    return (long)n;
}

static kmqtt_err_t b_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    (void)ctx;
    (void)timeout_ms;
    *ready = events & KMQTT_WAIT_WRITE;
    if ((events & KMQTT_WAIT_READ) && B.in_len > B.in_off)
        *ready |= KMQTT_WAIT_READ;
    return KMQTT_OK;
}

static void b_void(void *ctx)
{
    (void)ctx;
}

static void b_close(void *ctx)
{
    (void)ctx;
    B.open = false;
}

static kmqtt_transport_t TP = {NULL, b_open, b_send, b_recv, b_wait, b_void, b_close, b_void};

static int lost;
static kmqtt_err_t lost_err;

static void on_state(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    (void)c;
    (void)ctx;
    if (st == KMQTT_STATE_CONNECTION_LOST) {
        lost++;
        lost_err = err;
    }
}

/* The reader: byte k of the payload is (k * 7 + seed) & 0xff; fails with
 * fail_err once asked for bytes at or past fail_at. */
typedef struct src {
    uint8_t seed;
    size_t fail_at;
    long fail_err;
    int calls;
} src_t;

static long read_src(void *ctx, size_t offset, void *buf, size_t len)
{
    src_t *s = ctx;
    uint8_t *b = buf;
    size_t k;
    s->calls++;
    if (offset >= s->fail_at)
        return s->fail_err;
    if (len > PAYLOAD_LEN - offset)
        len = PAYLOAD_LEN - offset;
    if (len > 100)
        len = 100; /* a reader gives less than asked: the engine asks again */
    for (k = 0; k < len; k++)
        b[k] = (uint8_t)((offset + k) * 7u + s->seed);
    return (long)len;
}

static void assert_payload(int n, uint8_t seed)
{
    size_t k;
    assert_true(n < B.publishes);
    assert_int_equal(B.payload_len[n], PAYLOAD_LEN);
    for (k = 0; k < PAYLOAD_LEN; k++)
        assert_int_equal(B.out[B.payload_at[n] + k], (uint8_t)(k * 7u + seed));
}

static kmqtt_client_t *make(uint32_t block_ms, bool ack, bool connect)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    memset(&B, 0, sizeof B);
    B.ack = ack;
    lost = 0;
    lost_err = KMQTT_OK;
    kmqtt_client_options_init(&o);
    o.version = KMQTT_V311;
    o.client_id = "reader";
    o.transport = &TP;
    o.tx_buffer_size = 256; /* the 3000-byte payload leaves in many pieces */
    o.max_topic_len = 16;
    o.publish_block_ms = block_ms;
    o.on_state = on_state;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    if (connect)
        assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    return c;
}

static void drain(kmqtt_client_t *c)
{
    int i;
    for (i = 0; i < 50; i++)
        (void)kmqtt_run(c, 1);
}

/* Bad arguments: KMQTT_EINVAL, nothing sent, and the result is cleared
 * even when the call fails (a caller reading it sees no stale id). */
static void bad_arguments_are_refused(void **state)
{
    kmqtt_client_t *c = make(0, true, true);
    kmqtt_publish_result_t res;
    src_t s = {1, (size_t)-1, 0, 0};
    size_t sent = B.out_len;
    (void)state;
    memset(&res, 0xA5, sizeof res);
    assert_int_equal(kmqtt_publish_reader(NULL, "t", PAYLOAD_LEN, read_src, &s, 0, false, &res),
                     KMQTT_EINVAL);
    assert_int_equal(res.packet_id, 0);
    assert_int_equal(kmqtt_publish_reader(c, NULL, PAYLOAD_LEN, read_src, &s, 0, false, NULL),
                     KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_reader(c, "t", PAYLOAD_LEN, NULL, &s, 0, false, NULL),
                     KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_reader(c, "t", PAYLOAD_LEN, read_src, &s, 3, false, NULL),
                     KMQTT_EINVAL);
    /* Longer than max_topic_len (16). */
    assert_int_equal(
        kmqtt_publish_reader(c, "a/topic/far/too/long", PAYLOAD_LEN, read_src, &s, 0, false, NULL),
        KMQTT_EINVAL);
    assert_int_equal(s.calls, 0);
    assert_int_equal(B.out_len, sent);
    assert_int_equal(B.publishes, 0);
    kmqtt_client_destroy(c);
}

/* Not connected (never, or after kmqtt_disconnect): KMQTT_ENOTCONN, the
 * reader is never called. */
static void not_connected_is_enotconn(void **state)
{
    kmqtt_client_t *c = make(0, true, false);
    src_t s = {1, (size_t)-1, 0, 0};
    (void)state;
    assert_int_equal(kmqtt_publish_reader(c, "t", PAYLOAD_LEN, read_src, &s, 1, false, NULL),
                     KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_reader(c, "t", PAYLOAD_LEN, read_src, &s, 0, false, NULL),
                     KMQTT_ENOTCONN);
    assert_int_equal(s.calls, 0);
    assert_int_equal(B.publishes, 0);
    kmqtt_client_destroy(c);
}

/* QoS 0 and QoS 1 messages arrive whole and in order; the QoS 1 one gets
 * a packet id and completes on its PUBACK. */
static void payloads_arrive_whole(void **state)
{
    kmqtt_client_t *c = make(0, true, true);
    kmqtt_publish_result_t res;
    src_t s0 = {3, (size_t)-1, 0, 0}, s1 = {9, (size_t)-1, 0, 0};
    (void)state;
    assert_int_equal(kmqtt_publish_reader(c, "r/0", PAYLOAD_LEN, read_src, &s0, 0, false, &res),
                     KMQTT_OK);
    assert_int_equal(res.packet_id, 0);
    assert_int_equal(kmqtt_publish_reader(c, "r/1", PAYLOAD_LEN, read_src, &s1, 1, true, &res),
                     KMQTT_OK);
    assert_int_not_equal(res.packet_id, 0);
    assert_int_equal(kmqtt_flush(c, 2000), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait(c, res.packet_id, 2000, NULL), KMQTT_OK);
    assert_int_equal(B.publishes, 2);
    assert_int_equal(B.qos[0], 0);
    assert_int_equal(B.qos[1], 1);
    assert_payload(0, 3);
    assert_payload(1, 9);
    assert_true(s0.calls >= (int)(PAYLOAD_LEN / 100));
    assert_int_equal(lost, 0);
    kmqtt_client_destroy(c);
}

/* KMQTT_READERS_MAX QoS 1 messages unacknowledged: the next one is
 * KMQTT_ELIMIT at once with publish_block_ms 0, and after the wait with
 * publish_block_ms > 0; once the acks come, a slot is free again. */
static void readers_beyond_the_limit(uint32_t block_ms)
{
    kmqtt_client_t *c = make(block_ms, false, true);
    src_t s[KMQTT_READERS_MAX + 1];
    kmqtt_publish_result_t res;
    uint16_t ids[KMQTT_READERS_MAX];
    unsigned k;
    for (k = 0; k <= KMQTT_READERS_MAX; k++) {
        s[k].seed = (uint8_t)(k + 1);
        s[k].fail_at = (size_t)-1;
        s[k].fail_err = 0;
        s[k].calls = 0;
    }
    for (k = 0; k < KMQTT_READERS_MAX; k++) {
        assert_int_equal(
            kmqtt_publish_reader(c, "lim", PAYLOAD_LEN, read_src, &s[k], 1, false, &res), KMQTT_OK);
        ids[k] = res.packet_id;
    }
    assert_int_equal(kmqtt_publish_reader(c, "lim", PAYLOAD_LEN, read_src, &s[k], 1, false, &res),
                     KMQTT_ELIMIT);
    assert_int_equal(res.packet_id, 0);
    assert_int_equal(s[KMQTT_READERS_MAX].calls, 0);
    drain(c); /* kmqtt_flush would wait for the PUBACKs this broker holds back */
    assert_int_equal(B.publishes, (int)KMQTT_READERS_MAX);
    for (k = 0; k < KMQTT_READERS_MAX; k++)
        assert_payload((int)k, (uint8_t)(k + 1));
    /* Acknowledge the first: its slot serves the next message. */
    {
        uint8_t ack[] = {0x40, 2, (uint8_t)(ids[0] >> 8), (uint8_t)ids[0]};
        queue_bytes(ack, sizeof ack);
    }
    assert_int_equal(kmqtt_publish_wait(c, ids[0], 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_reader(c, "lim", PAYLOAD_LEN, read_src, &s[KMQTT_READERS_MAX], 1,
                                          false, &res),
                     KMQTT_OK);
    drain(c);
    assert_int_equal(B.publishes, (int)KMQTT_READERS_MAX + 1);
    assert_payload((int)KMQTT_READERS_MAX, (uint8_t)(KMQTT_READERS_MAX + 1));
    assert_int_equal(lost, 0);
    kmqtt_client_destroy(c);
}

static void readers_beyond_the_limit_no_wait(void **state)
{
    (void)state;
    readers_beyond_the_limit(0);
}

static void readers_beyond_the_limit_after_waiting(void **state)
{
    (void)state;
    readers_beyond_the_limit(30);
}

/* A reader that fails part way: the PUBLISH cannot be finished, so the
 * connection ends (on_state CONNECTION_LOST) with the reader's error and
 * the broker never gets a whole packet. */
static void failing_reader_ends_the_connection(void **state)
{
    kmqtt_client_t *c = make(0, true, true);
    src_t s = {5, 1000, KMQTT_EIO, 0};
    kmqtt_err_t err;
    (void)state;
    err = kmqtt_publish_reader(c, "fail", PAYLOAD_LEN, read_src, &s, 0, false, NULL);
    assert_true(err == KMQTT_OK || err == KMQTT_EIO);
    (void)kmqtt_flush(c, 500);
    drain(c);
    assert_int_equal(lost, 1);
    assert_int_equal(lost_err, KMQTT_EIO);
    assert_int_equal(B.publishes, 0); /* the cut packet never completed */
    assert_false(B.open);
    assert_int_equal(kmqtt_publish_reader(c, "t", PAYLOAD_LEN, read_src, &s, 0, false, NULL),
                     KMQTT_ENOTCONN);
    kmqtt_client_destroy(c);
}

/* A transport that takes 200 bytes at a time and then would block once:
 * the second publish finds the first payload still leaving, pushes it out
 * itself (and waits, publish_block_ms, while the transport would block),
 * and both arrive whole and in order, each from its own reader. */
static void second_publish_pushes_the_first_out(void **state)
{
    kmqtt_client_t *c = make(2000, true, true);
    src_t a = {11, (size_t)-1, 0, 0}, b = {22, (size_t)-1, 0, 0};
    (void)state;
    B.burst = 200;
    assert_int_equal(kmqtt_publish_reader(c, "a", PAYLOAD_LEN, read_src, &a, 0, false, NULL),
                     KMQTT_OK);
    assert_int_equal(kmqtt_publish_reader(c, "b", PAYLOAD_LEN, read_src, &b, 0, false, NULL),
                     KMQTT_OK);
    assert_int_equal(kmqtt_flush(c, 2000), KMQTT_OK);
    assert_int_equal(B.publishes, 2);
    assert_payload(0, 11);
    assert_payload(1, 22);
    assert_int_equal(lost, 0);
    kmqtt_client_destroy(c);
}

/* A transport that takes nothing: the first payload cannot leave, so a
 * second publish (publish_block_ms 0) is KMQTT_ELIMIT and its reader is
 * never called; once the transport takes bytes again the first arrives
 * whole and a new publish goes. */
static void stalled_transport_is_elimit(void **state)
{
    kmqtt_client_t *c = make(0, true, true);
    src_t a = {33, (size_t)-1, 0, 0}, b = {44, (size_t)-1, 0, 0};
    (void)state;
    B.stall = true;
    assert_int_equal(kmqtt_publish_reader(c, "a", PAYLOAD_LEN, read_src, &a, 0, false, NULL),
                     KMQTT_OK);
    assert_int_equal(kmqtt_publish_reader(c, "b", PAYLOAD_LEN, read_src, &b, 0, false, NULL),
                     KMQTT_ELIMIT);
    assert_int_equal(b.calls, 0);
    assert_int_equal(B.publishes, 0);
    B.stall = false;
    assert_int_equal(kmqtt_flush(c, 2000), KMQTT_OK);
    assert_int_equal(B.publishes, 1);
    assert_payload(0, 33);
    assert_int_equal(kmqtt_publish_reader(c, "b", PAYLOAD_LEN, read_src, &b, 0, false, NULL),
                     KMQTT_OK);
    assert_int_equal(kmqtt_flush(c, 2000), KMQTT_OK);
    assert_int_equal(B.publishes, 2);
    assert_payload(1, 44);
    kmqtt_client_destroy(c);
}

/* While a payload in pieces cannot leave, nothing may enter tx inside it:
 * a SUBSCRIBE or UNSUBSCRIBE is KMQTT_ELIMIT at once (not a wait for a
 * SUBACK that cannot come), and nothing of it reaches the broker. */
static void subscribe_behind_a_stalled_payload_is_elimit(void **state)
{
    kmqtt_client_t *c = make(0, true, true);
    src_t a = {55, (size_t)-1, 0, 0};
    kmqtt_sub_request_t sub = {"s/#", 1, NULL, NULL};
    const char *filter = "s/#";
    (void)state;
    B.stall = true;
    assert_int_equal(kmqtt_publish_reader(c, "a", PAYLOAD_LEN, read_src, &a, 0, false, NULL),
                     KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, 1000, NULL, NULL), KMQTT_ELIMIT);
    assert_int_equal(kmqtt_unsubscribe(c, &filter, 1, 1000, NULL, NULL), KMQTT_ELIMIT);
    B.stall = false;
    assert_int_equal(kmqtt_flush(c, 2000), KMQTT_OK);
    assert_int_equal(B.publishes, 1);
    assert_payload(0, 55);
    assert_int_equal(B.parsed, B.out_len); /* the PUBLISH was the last packet */
    kmqtt_client_destroy(c);
}

/* The connection ends while a SUBSCRIBE waits for its SUBACK: the call
 * returns the error that ended it (not a timeout), after on_state heard
 * CONNECTION_LOST. */
static void connection_lost_while_waiting_for_suback(void **state)
{
    kmqtt_client_t *c = make(0, true, true);
    kmqtt_sub_request_t sub = {"s/#", 1, NULL, NULL};
    kmqtt_err_t err;
    (void)state;
    B.drop_on_subscribe = true;
    err = kmqtt_subscribe(c, &sub, 1, 2000, NULL, NULL);
    assert_int_equal(lost, 1);
    assert_int_equal(err, lost_err);
    assert_int_not_equal(err, KMQTT_ETIMEDOUT);
    assert_int_not_equal(err, KMQTT_OK);
    kmqtt_client_destroy(c);
}

/* kmqtt_disconnect behind a payload in pieces that cannot leave: the
 * DISCONNECT cannot enter tx inside the PUBLISH, so after its bounded try
 * the client closes anyway: the call returns KMQTT_OK (it does not hang
 * on the stalled transport), the cut PUBLISH never completed, and the
 * client is not connected afterwards. */
static void disconnect_behind_a_stalled_payload_closes(void **state)
{
    kmqtt_client_t *c = make(0, true, true);
    src_t a = {66, (size_t)-1, 0, 0};
    (void)state;
    B.stall = true;
    assert_int_equal(kmqtt_publish_reader(c, "a", PAYLOAD_LEN, read_src, &a, 0, false, NULL),
                     KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    assert_false(B.open);
    assert_int_equal(B.publishes, 0);
    assert_int_equal(kmqtt_publish_reader(c, "a", PAYLOAD_LEN, read_src, &a, 0, false, NULL),
                     KMQTT_ENOTCONN);
    kmqtt_client_destroy(c);
}

/* The offline queue behind a send buffer that cannot drain yet. */
static kmqtt_client_t *make_queue(uint16_t max_inflight)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    memset(&B, 0, sizeof B);
    lost = 0;
    kmqtt_client_options_init(&o);
    o.version = KMQTT_V311;
    o.client_id = "queue";
    o.transport = &TP;
    o.tx_buffer_size = 256;
    o.max_inflight = max_inflight;
    o.offline_queue_max_msgs = 8;
    o.offline_queue_max_bytes = 4096;
    o.on_state = on_state;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    return c;
}

static void publish_numbered(kmqtt_client_t *c, uint8_t k, uint8_t qos)
{
    uint8_t payload[150];
    kmqtt_publish_result_t res;
    memset(payload, k, sizeof payload);
    assert_int_equal(kmqtt_publish(c, "q", payload, sizeof payload, qos, false, NULL, &res),
                     KMQTT_OK);
}

/* The k-th PUBLISH the broker got carries message number want. */
static void assert_numbered(int k, uint8_t want)
{
    assert_true(k < B.publishes);
    assert_int_equal(B.payload_len[k], 150);
    assert_int_equal(B.out[B.payload_at[k]], want);
    assert_int_equal(B.out[B.payload_at[k] + 149], want);
}

/* Queued before connect, sent when the transport stalls right after the
 * CONNECT: what does not fit stays queued (no error, nothing dropped), a
 * later publish waits behind it, and once the transport takes bytes all
 * arrive whole and in order. */
static void queue_waits_for_a_stalled_transport(void **state)
{
    kmqtt_client_t *c = make_queue(0);
    int k;
    (void)state;
    for (k = 1; k <= 4; k++)
        publish_numbered(c, (uint8_t)k, 0);
    B.stall_after_connect = true;
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    assert_true(B.publishes < 4);
    publish_numbered(c, 5, 0);
    B.stall = false;
    B.stall_after_connect = false;
    assert_int_equal(kmqtt_flush(c, 2000), KMQTT_OK);
    assert_int_equal(B.publishes, 5);
    for (k = 0; k < 5; k++)
        assert_numbered(k, (uint8_t)(k + 1));
    assert_int_equal(lost, 0);
    kmqtt_client_destroy(c);
}

/* The same through a transport that takes 200 bytes and then would block
 * once: the drain pushes the send buffer out itself and goes on. */
static void queue_drains_through_a_slow_transport(void **state)
{
    kmqtt_client_t *c = make_queue(0);
    int k;
    (void)state;
    for (k = 1; k <= 6; k++)
        publish_numbered(c, (uint8_t)k, 0);
    B.burst = 200;
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_flush(c, 2000), KMQTT_OK);
    assert_int_equal(B.publishes, 6);
    for (k = 0; k < 6; k++)
        assert_numbered(k, (uint8_t)(k + 1));
    kmqtt_client_destroy(c);
}

/* QoS 1 with a window of one (max_inflight 1): the queue gives the session
 * one message per PUBACK, in order. */
static void queue_drains_one_per_ack_with_a_window_of_one(void **state)
{
    kmqtt_client_t *c = make_queue(1);
    int k;
    (void)state;
    for (k = 1; k <= 3; k++)
        publish_numbered(c, (uint8_t)k, 1);
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    drain(c);
    assert_int_equal(B.publishes, 1);
    B.ack = true; /* from now on each PUBLISH is acknowledged */
    {
        const uint8_t *v = B.out + B.payload_at[0] - 2; /* its packet id */
        uint8_t ack[] = {0x40, 2, v[0], v[1]};
        queue_bytes(ack, sizeof ack);
    }
    assert_int_equal(kmqtt_flush(c, 2000), KMQTT_OK);
    assert_int_equal(B.publishes, 3);
    for (k = 0; k < 3; k++) {
        assert_int_equal(B.qos[k], 1);
        assert_numbered(k, (uint8_t)(k + 1));
    }
    kmqtt_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(not_connected_is_enotconn),
        cmocka_unit_test(payloads_arrive_whole),
        cmocka_unit_test(readers_beyond_the_limit_no_wait),
        cmocka_unit_test(readers_beyond_the_limit_after_waiting),
        cmocka_unit_test(failing_reader_ends_the_connection),
        cmocka_unit_test(second_publish_pushes_the_first_out),
        cmocka_unit_test(stalled_transport_is_elimit),
        cmocka_unit_test(subscribe_behind_a_stalled_payload_is_elimit),
        cmocka_unit_test(connection_lost_while_waiting_for_suback),
        cmocka_unit_test(disconnect_behind_a_stalled_payload_closes),
        cmocka_unit_test(queue_waits_for_a_stalled_transport),
        cmocka_unit_test(queue_drains_through_a_slow_transport),
        cmocka_unit_test(queue_drains_one_per_ack_with_a_window_of_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
