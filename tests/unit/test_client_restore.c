/*
 * Restoring a store (issue 14, DESIGN.md rule 7): every record the store
 * returns is decoded before the client trusts it. The records below all
 * pass the store's own checks (a store returns them, CRC or not); the ones
 * that are not exactly what their key and header say — a SUBSCRIBE inside,
 * bytes after the PUBLISH, another QoS, another packet id, another protocol
 * version, truncated — are counted in kmqtt_persist_stats().rejected,
 * removed from the store and never sent; the good ones are sent as before.
 * The client runs over an in-memory store and a scripted broker that acks
 * everything and logs every packet it receives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "kmqtt/client.h"
#include "kmqtt/store.h"

/* ------------------------------------------------------- in-memory store */

#define MS_MAX 64

typedef struct mstore {
    uint32_t key[MS_MAX];
    uint8_t val[MS_MAX][128];
    size_t len[MS_MAX];
    bool used[MS_MAX];
} mstore_t;

static int ms_find(mstore_t *m, uint32_t key)
{
    int i;
    for (i = 0; i < MS_MAX; i++) {
        if (m->used[i] && m->key[i] == key)
            return i;
    }
    return -1;
}

static kmqtt_err_t ms_put(void *ctx, uint32_t key, const void *data, size_t len)
{
    mstore_t *m = ctx;
    int i = ms_find(m, key);
    if (len > sizeof m->val[0])
        return KMQTT_ESTORE;
    for (int j = 0; i < 0 && j < MS_MAX; j++) {
        if (!m->used[j])
            i = j;
    }
    if (i < 0)
        return KMQTT_ESTORE;
    m->used[i] = true;
    m->key[i] = key;
    m->len[i] = len;
    if (len > 0)
        memcpy(m->val[i], data, len);
    return KMQTT_OK;
}

static kmqtt_err_t ms_get(void *ctx, uint32_t key, void *buf, size_t cap, size_t *len)
{
    mstore_t *m = ctx;
    int i = ms_find(m, key);
    if (i < 0)
        return KMQTT_ENOTFOUND;
    *len = m->len[i];
    if (m->len[i] > cap)
        return KMQTT_ENOBUFS;
    memcpy(buf, m->val[i], m->len[i]);
    return KMQTT_OK;
}

static kmqtt_err_t ms_remove(void *ctx, uint32_t key)
{
    mstore_t *m = ctx;
    int i = ms_find(m, key);
    if (i >= 0)
        m->used[i] = false;
    return KMQTT_OK;
}

static kmqtt_err_t ms_list(void *ctx, kmqtt_store_list_fn fn, void *arg)
{
    mstore_t *m = ctx;
    int i;
    for (i = 0; i < MS_MAX; i++) {
        if (m->used[i]) {
            kmqtt_err_t err = fn(arg, m->key[i], m->len[i]);
            if (err != KMQTT_OK)
                return err;
        }
    }
    return KMQTT_OK;
}

static kmqtt_store_t ms_store(mstore_t *m)
{
    kmqtt_store_t st;
    memset(&st, 0, sizeof st);
    st.ctx = m;
    st.put = ms_put;
    st.get = ms_get;
    st.remove = ms_remove;
    st.list = ms_list;
    return st;
}

#define KEY_QUEUED 0x01000000u
#define KEY_OUT    0x02000000u
#define KEY_IN     0x03000000u

/* The record formats of src/client/client_persist.c. Flow header: order
 * (u32 LE), from_seq (u32 LE), flags: bit 0 PUBREL, bits 1-2 QoS, bits 4-7
 * protocol level (QoS and level 0 in records written before issue 14). */
static void put_flow(mstore_t *m, uint32_t key, uint32_t order, uint32_t from_seq, uint8_t flags,
                     const char *publish_hex)
{
    uint8_t b[128];
    size_t n;
    b[0] = (uint8_t)order;
    b[1] = (uint8_t)(order >> 8);
    b[2] = (uint8_t)(order >> 16);
    b[3] = (uint8_t)(order >> 24);
    b[4] = (uint8_t)from_seq;
    b[5] = (uint8_t)(from_seq >> 8);
    b[6] = (uint8_t)(from_seq >> 16);
    b[7] = (uint8_t)(from_seq >> 24);
    b[8] = flags;
    n = 9 + (publish_hex != NULL ? hex_decode(publish_hex, b + 9, sizeof b - 9) : 0);
    assert_int_equal(ms_put(m, key, b, n), KMQTT_OK);
}

#define F_V311_Q1 (0x40u | 0x02u)
#define F_V311_Q2 (0x40u | 0x04u)
#define F_V5_Q1   (0x50u | 0x02u)
#define F_PUBREL  0x01u

/* Queue record: seq (u32 LE), qos, retain, topic length (u16 LE), topic,
 * payload. */
static void put_queued(mstore_t *m, uint32_t seq, uint8_t qos, uint8_t retain, const char *topic,
                       const char *payload)
{
    uint8_t b[128];
    size_t tl = strlen(topic), pl = strlen(payload);
    b[0] = (uint8_t)seq;
    b[1] = (uint8_t)(seq >> 8);
    b[2] = (uint8_t)(seq >> 16);
    b[3] = (uint8_t)(seq >> 24);
    b[4] = qos;
    b[5] = retain;
    b[6] = (uint8_t)tl;
    b[7] = (uint8_t)(tl >> 8);
    memcpy(b + 8, topic, tl);
    memcpy(b + 8 + tl, payload, pl);
    assert_int_equal(ms_put(m, KEY_QUEUED | seq, b, 8 + tl + pl), KMQTT_OK);
}

/* ------------------------------------------------------- scripted broker */

#define LOG_MAX 32

typedef struct broker {
    kmqtt_version_t v;
    bool open;
    uint8_t in[4096];
    size_t in_len;
    uint8_t out[4096];
    size_t out_len;
    /* every packet received, in order: type, packet id, topic */
    int n;
    kmqtt_packet_type_t type[LOG_MAX];
    uint16_t id[LOG_MAX];
    char topic[LOG_MAX][32];
    bool dup[LOG_MAX];
    int undecodable; /* bytes that did not decode as a packet */
} broker_t;

static void b_queue(broker_t *b, kmqtt_packet_type_t type, uint16_t id)
{
    kmqtt_packet_t p;
    size_t w = 0;
    memset(&p, 0, sizeof p);
    p.type = type;
    if (type == KMQTT_CONNACK)
        p.u.connack.session_present = true;
    else
        p.u.ack.packet_id = id;
    assert_int_equal(
        kmqtt_packet_encode(&p, b->v, b->out + b->out_len, sizeof b->out - b->out_len, &w),
        KMQTT_OK);
    b->out_len += w;
}

static void b_handle(broker_t *b, const kmqtt_packet_t *p)
{
    int i = b->n++;
    assert_true(i < LOG_MAX);
    b->type[i] = p->type;
    b->id[i] = 0;
    b->topic[i][0] = '\0';
    switch (p->type) {
    case KMQTT_CONNECT:
        b_queue(b, KMQTT_CONNACK, 0);
        break;
    case KMQTT_PUBLISH:
        b->id[i] = p->u.publish.packet_id;
        b->dup[i] = p->u.publish.dup;
        snprintf(b->topic[i], sizeof b->topic[i], "%.*s", (int)p->u.publish.topic.len,
                 p->u.publish.topic.ptr);
        if (p->u.publish.qos == 1)
            b_queue(b, KMQTT_PUBACK, p->u.publish.packet_id);
        else if (p->u.publish.qos == 2)
            b_queue(b, KMQTT_PUBREC, p->u.publish.packet_id);
        break;
    case KMQTT_PUBREL:
        b->id[i] = p->u.ack.packet_id;
        b_queue(b, KMQTT_PUBCOMP, p->u.ack.packet_id);
        break;
    case KMQTT_SUBSCRIBE:
        b->id[i] = p->u.subscribe.packet_id;
        break;
    default:
        break;
    }
}

static kmqtt_err_t b_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    broker_t *b = ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    b->open = true;
    b->in_len = b->out_len = 0;
    return KMQTT_OK;
}

static long b_send(void *ctx, const void *buf, size_t len)
{
    broker_t *b = ctx;
    size_t off = 0, used = 0;
    kmqtt_packet_t p;
    assert_true(b->open && b->in_len + len <= sizeof b->in);
    memcpy(b->in + b->in_len, buf, len);
    b->in_len += len;
    for (;;) {
        kmqtt_err_t err = kmqtt_packet_decode(b->in + off, b->in_len - off, b->v, 0, &p, &used);
        if (err == KMQTT_NEED_MORE)
            break;
        if (err != KMQTT_OK) {
            b->undecodable++;
            off = b->in_len;
            break;
        }
        b_handle(b, &p);
        off += used;
    }
    memmove(b->in, b->in + off, b->in_len - off);
    b->in_len -= off;
    return (long)len;
}

static long b_recv(void *ctx, void *buf, size_t len)
{
    broker_t *b = ctx;
    size_t n = b->out_len < len ? b->out_len : len;
    memcpy(buf, b->out, n);
    memmove(b->out, b->out + n, b->out_len - n);
    b->out_len -= n;
    return (long)n;
}

static kmqtt_err_t b_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    broker_t *b = ctx;
    (void)timeout_ms;
    *ready = 0;
    if ((events & KMQTT_WAIT_READ) && b->out_len > 0)
        *ready |= KMQTT_WAIT_READ;
    if (events & KMQTT_WAIT_WRITE)
        *ready |= KMQTT_WAIT_WRITE;
    return KMQTT_OK;
}

static void b_wake(void *ctx)
{
    (void)ctx;
}

static void b_close(void *ctx)
{
    ((broker_t *)ctx)->open = false;
}

static void b_destroy(void *ctx)
{
    ((broker_t *)ctx)->open = false;
}

static kmqtt_transport_t b_transport(broker_t *b)
{
    kmqtt_transport_t t;
    memset(&t, 0, sizeof t);
    t.ctx = b;
    t.open = b_open;
    t.send = b_send;
    t.recv = b_recv;
    t.wait = b_wait;
    t.wake = b_wake;
    t.close = b_close;
    t.destroy = b_destroy;
    return t;
}

static kmqtt_client_t *restore_client(kmqtt_version_t v, kmqtt_store_t *st, broker_t *b,
                                      kmqtt_transport_t *tr)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_client_options_init(&o);
    o.host = "broker.invalid";
    o.client_id = "restore";
    o.version = v;
    o.clean_session = false;
    o.store = st;
    o.offline_queue_max_msgs = 16;
    o.offline_queue_max_bytes = 4096;
    b->v = v;
    *tr = b_transport(b);
    o.transport = tr; /* the client owns it: its destroy() only marks it closed */
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    return c;
}

/* Connects, lets everything restored go out and be acknowledged. */
static void run_all(kmqtt_client_t *c)
{
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_flush(c, 2000), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
}

/* The packets listed (type, and id or topic), each exactly once, between
 * the CONNECT and the DISCONNECT, and nothing else: no other packet and no
 * byte that failed to decode. Returns nothing; where[i] gets the position
 * of w[i] for order checks. */
typedef struct want {
    kmqtt_packet_type_t type;
    uint16_t id;       /* 0: any */
    const char *topic; /* NULL: any */
} want_t;

static void expect_wire(const broker_t *b, const want_t *w, int n, int *where)
{
    int i, j;
    assert_int_equal(b->undecodable, 0);
    if (b->n != n + 2) {
        for (i = 0; i < b->n; i++)
            print_message("sent: type %d id %u topic %s\n", (int)b->type[i], b->id[i], b->topic[i]);
        fail_msg("%d packets, want %d", b->n, n + 2);
    }
    assert_int_equal(b->type[0], KMQTT_CONNECT);
    assert_int_equal(b->type[n + 1], KMQTT_DISCONNECT);
    for (i = 0; i < n; i++) {
        int found = -1;
        for (j = 1; j <= n; j++) {
            if (b->type[j] == w[i].type && (w[i].id == 0 || b->id[j] == w[i].id) &&
                (w[i].topic == NULL || strcmp(b->topic[j], w[i].topic) == 0)) {
                assert_int_equal(found, -1);
                found = j;
            }
        }
        if (found < 0)
            fail_msg("packet type %d id %u topic %s never sent", (int)w[i].type, w[i].id,
                     w[i].topic != NULL ? w[i].topic : "-");
        if (where != NULL)
            where[i] = found;
    }
}

/* ------------------------------------------------------------------ tests */

/* PUBLISH "a/b" "hi" QoS 1 id 1 (3.1.1). */
#define PUB_Q1_ID1 "32 09 00 03 61 2f 62 00 01 68 69"

static void test_hostile_records_are_rejected_removed_and_never_sent(void **state)
{
    static mstore_t m;
    static broker_t b;
    kmqtt_store_t st;
    kmqtt_transport_t tr;
    kmqtt_client_t *c;
    kmqtt_persist_stats_t ps;
    static const uint32_t bad[] = {KEY_OUT | 2,    KEY_OUT | 3,    KEY_OUT | 4,    KEY_OUT | 6,
                                   KEY_OUT | 7,    KEY_OUT | 8,    KEY_OUT | 9,    KEY_OUT | 13,
                                   KEY_OUT | 14,   KEY_OUT | 15,   KEY_OUT | 16,   0x02010005u,
                                   KEY_OUT | 0,    KEY_IN | 12,    KEY_IN | 0,     KEY_QUEUED | 5,
                                   KEY_QUEUED | 7, KEY_QUEUED | 9, KEY_QUEUED | 10};
    const want_t wire[] = {{KMQTT_PUBLISH, 1, "a/b"},  /* the good flows */
                           {KMQTT_PUBLISH, 10, "c/d"}, /* a record written before issue 14 */
                           {KMQTT_PUBREL, 11, NULL},
                           {KMQTT_PUBREL, 10, NULL},   /* after its PUBREC */
                           {KMQTT_PUBLISH, 0, "q/ok"}, /* the queue */
                           {KMQTT_PUBLISH, 0, "q/eight"}};
    int at[6];
    size_t i;

    (void)state;
    memset(&m, 0, sizeof m);
    memset(&b, 0, sizeof b);
    put_flow(&m, KEY_OUT | 1, 1, 0, F_V311_Q1, PUB_Q1_ID1);
    /* A good PUBLISH, then a SUBSCRIBE to '#' in the same record. */
    put_flow(&m, KEY_OUT | 2, 2, 0, F_V311_Q1,
             "32 09 00 03 61 2f 62 00 02 68 69  82 06 00 09 00 01 23 00");
    /* A SUBSCRIBE alone, the PUBLISH's type bits and all. */
    put_flow(&m, KEY_OUT | 3, 3, 0, F_V311_Q1, "82 06 00 03 00 01 23 00");
    /* Another packet id than the key's. */
    put_flow(&m, KEY_OUT | 4, 4, 0, F_V311_Q1, "32 09 00 03 61 2f 62 00 05 68 69");
    /* The header says QoS 2, the PUBLISH is QoS 1. */
    put_flow(&m, KEY_OUT | 6, 5, 0, F_V311_Q2, "32 09 00 03 61 2f 62 00 06 68 69");
    /* A valid 5.0 PUBLISH recorded by a 5.0 client; this one is 3.1.1 (it
     * would decode, the property block read as payload). */
    put_flow(&m, KEY_OUT | 7, 6, 0, F_V5_Q1, "32 0a 00 03 61 2f 62 00 07 00 68 69");
    /* Truncated. */
    put_flow(&m, KEY_OUT | 8, 7, 0, F_V311_Q1, "32 09 00 03 61 2f 62 00 08 68");
    /* PUBREL state with bytes after the header. */
    put_flow(&m, KEY_OUT | 9, 8, 0, F_V311_Q2 | F_PUBREL, PUB_Q1_ID1);
    /* Header too short; PUBREL of a QoS 1 flow; an unknown flag bit; a
     * QoS 0 PUBLISH; a key with bits above the packet id; packet id 0. */
    assert_int_equal(ms_put(&m, KEY_OUT | 13, "\1\0\0\0\0", 5), KMQTT_OK);
    put_flow(&m, KEY_OUT | 14, 9, 0, F_V311_Q1 | F_PUBREL, NULL);
    put_flow(&m, KEY_OUT | 15, 10, 0, F_V311_Q1 | 0x08u, "32 09 00 03 61 2f 62 00 0f 68 69");
    put_flow(&m, KEY_OUT | 16, 11, 0, 0, "30 07 00 03 61 2f 62 68 69");
    put_flow(&m, 0x02010005u, 12, 0, F_V311_Q1, "32 09 00 03 61 2f 62 00 05 68 69");
    put_flow(&m, KEY_OUT | 0, 13, 0, F_V311_Q1, "32 09 00 03 61 2f 62 00 00 68 69");
    /* A record from before issue 14 (flags 0: QoS and version not recorded):
     * decoded all the same, and taken. */
    put_flow(&m, KEY_OUT | 10, 20, 0, 0, "34 09 00 03 63 2f 64 00 0a 68 69");
    put_flow(&m, KEY_OUT | 11, 21, 0, F_V311_Q2 | F_PUBREL, NULL);
    /* A rejected flow that names queue record 8 as its origin must not make
     * the restore drop that queued message as "already in flight". */
    put_flow(&m, KEY_OUT | 17, 22, 8, F_V311_Q1, "32 09 00 03 61 2f 62 00 03 68 69");
    /* Inbound QoS 2 ids: a value where there is none, id 0. */
    assert_int_equal(ms_put(&m, KEY_IN | 12, "x", 1), KMQTT_OK);
    assert_int_equal(ms_put(&m, KEY_IN | 0, NULL, 0), KMQTT_OK);
    /* Queued: a wildcard topic, QoS 0, a seq that is not the key's, a
     * topic longer than the record; then two good ones. */
    put_queued(&m, 5, 1, 0, "q/#", "x");
    put_queued(&m, 7, 0, 0, "q/zero", "x");
    put_queued(&m, 9, 1, 0, "q/nine", "x");
    m.val[ms_find(&m, KEY_QUEUED | 9)][0] = 99;
    put_queued(&m, 10, 1, 0, "q/ten", "x");
    m.val[ms_find(&m, KEY_QUEUED | 10)][6] = 200;
    put_queued(&m, 6, 1, 0, "q/ok", "x");
    put_queued(&m, 8, 1, 0, "q/eight", "x");

    st = ms_store(&m);
    c = restore_client(KMQTT_V311, &st, &b, &tr);
    kmqtt_persist_stats(c, &ps);
    assert_int_equal(ps.restored_inflight, 3);
    assert_int_equal(ps.restored_queued, 2);
    assert_int_equal(ps.rejected, sizeof bad / sizeof bad[0] + 1); /* + KEY_OUT | 17 */
    assert_int_equal(ps.skipped, 0);
    /* Removed from the store, so the next start does not meet them again. */
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ms_find(&m, bad[i]) >= 0)
            fail_msg("record 0x%08x is still in the store", (unsigned)bad[i]);
    }
    assert_true(ms_find(&m, KEY_OUT | 17) < 0);

    run_all(c);
    expect_wire(&b, wire, 6, at);
    /* Resent in their original order (MQTT-4.6.0-1), with DUP
     * (MQTT-4.4.0-1: the broker kept the session); the queue after them,
     * in its order. */
    assert_true(at[0] < at[1] && at[1] < at[2] && at[2] < at[4] && at[4] < at[5]);
    assert_true(b.dup[at[0]] && b.dup[at[1]]);
    /* Everything acknowledged: the store holds no message; only what the
     * CONNACK allowed (0x04000000, issue #18: the next process's pipelined
     * first flight is bounded by it). */
    for (i = 0; i < MS_MAX; i++) {
        if (m.used[i] && m.key[i] != 0x04000000u)
            fail_msg("record 0x%08x left after every ack", (unsigned)m.key[i]);
    }
    assert_true(ms_find(&m, 0x04000000u) >= 0);
    kmqtt_client_destroy(c);
}

/* A 5.0 client takes its own 5.0 records and refuses 3.1.1 ones. */
static void test_records_of_another_protocol_version_are_rejected(void **state)
{
    static mstore_t m;
    static broker_t b;
    kmqtt_store_t st;
    kmqtt_transport_t tr;
    kmqtt_client_t *c;
    kmqtt_persist_stats_t ps;
    const want_t wire[] = {{KMQTT_PUBLISH, 2, "a/b"}};

    (void)state;
    memset(&m, 0, sizeof m);
    memset(&b, 0, sizeof b);
    put_flow(&m, KEY_OUT | 1, 1, 0, F_V311_Q1, PUB_Q1_ID1);
    put_flow(&m, KEY_OUT | 2, 2, 0, F_V5_Q1, "32 0a 00 03 61 2f 62 00 02 00 68 69");
    /* Header says 5.0, the bytes are 3.1.1: the codec refuses them. */
    put_flow(&m, KEY_OUT | 3, 3, 0, F_V5_Q1, "32 09 00 03 61 2f 62 00 03 68 69");
    /* 5.0, but the topic is an alias of a connection long gone. */
    put_flow(&m, KEY_OUT | 4, 4, 0, F_V5_Q1, "32 0a 00 00 00 04 03 23 00 01 68 69");
    st = ms_store(&m);
    c = restore_client(KMQTT_V5, &st, &b, &tr);
    kmqtt_persist_stats(c, &ps);
    assert_int_equal(ps.restored_inflight, 1);
    assert_int_equal(ps.rejected, 3);
    assert_true(ms_find(&m, KEY_OUT | 1) < 0 && ms_find(&m, KEY_OUT | 3) < 0 &&
                ms_find(&m, KEY_OUT | 4) < 0);
    run_all(c);
    expect_wire(&b, wire, 1, NULL);
    kmqtt_client_destroy(c);
}

/* What the client writes, it restores: a QoS 1 and a QoS 2 message left in
 * flight (no acks) by one client are sent again by the next. */
static void test_own_records_round_trip(void **state)
{
    kmqtt_publish_result_t pr;
    static mstore_t m;
    static broker_t b;
    kmqtt_store_t st;
    kmqtt_transport_t tr;
    kmqtt_client_t *c;
    kmqtt_persist_stats_t ps;
    uint16_t id1 = 0, id2 = 0;
    int v;

    (void)state;
    for (v = 0; v < 2; v++) {
        kmqtt_version_t ver = v == 0 ? KMQTT_V311 : KMQTT_V5;
        memset(&m, 0, sizeof m);
        memset(&b, 0, sizeof b);
        st = ms_store(&m);
        c = restore_client(ver, &st, &b, &tr);
        assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
        /* Destroyed before the loop reads the broker's acks: both stay in
         * the store, as after a process kill. */
        assert_int_equal(kmqtt_publish(c, "r/1", "one", 3, 1, false, NULL, &pr), KMQTT_OK);
        id1 = pr.packet_id;
        assert_int_equal(kmqtt_publish(c, "r/2", "two", 3, 2, false, NULL, &pr), KMQTT_OK);
        id2 = pr.packet_id;
        kmqtt_client_destroy(c);
        assert_true(ms_find(&m, KEY_OUT | id1) >= 0 && ms_find(&m, KEY_OUT | id2) >= 0);

        memset(&b, 0, sizeof b);
        c = restore_client(ver, &st, &b, &tr);
        kmqtt_persist_stats(c, &ps);
        assert_int_equal(ps.restored_inflight, 2);
        assert_int_equal(ps.rejected, 0);
        run_all(c);
        {
            const want_t wire[] = {{KMQTT_PUBLISH, id1, "r/1"},
                                   {KMQTT_PUBLISH, id2, "r/2"},
                                   {KMQTT_PUBREL, id2, NULL}};
            expect_wire(&b, wire, 3, NULL);
        }
        kmqtt_client_destroy(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_records_are_rejected_removed_and_never_sent),
        cmocka_unit_test(test_records_of_another_protocol_version_are_rejected),
        cmocka_unit_test(test_own_records_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
