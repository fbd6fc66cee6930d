/*
 * Restoring a store at kmqtt_client_create (issue 14, DESIGN.md rule 7),
 * the cases test_client_restore.c does not reach (issue 21, coverage): a
 * store that cannot list or read, inbound records with a bad key or a
 * body, keys of another kind, flow records with reserved flags or of the
 * old format, queued records that are damaged or already in flight, and
 * queued records when no queue is configured. Each is observed through
 * kmqtt_persist_stats and what is left in the store. No connection is made.
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
#include "kmqtt/store.h"

#if KMQTT_CFG_OFFLINE_QUEUE

#define KQ  0x01000000u /* queued message */
#define KO  0x02000000u /* outbound flow */
#define KI  0x03000000u /* inbound QoS 2 id */
#define MAX 32

/* A store of at most MAX records in arrays; list_err / get_err make its
 * calls fail. */
typedef struct rs {
    uint32_t key[MAX];
    uint8_t val[MAX][64];
    size_t len[MAX];
    int n;
    kmqtt_err_t list_err, get_err;
} rs_t;

static rs_t S;

static int rs_at(uint32_t key)
{
    for (int i = 0; i < S.n; i++)
        if (S.key[i] == key)
            return i;
    return -1;
}

static kmqtt_err_t rs_put(void *ctx, uint32_t key, const void *data, size_t len)
{
    (void)ctx;
    int i = rs_at(key);
    if (i < 0) {
        assert_true(S.n < MAX);
        i = S.n++;
    }
    assert_true(len <= sizeof S.val[0]);
    S.key[i] = key;
    if (len != 0)
        memcpy(S.val[i], data, len);
    S.len[i] = len;
    return KMQTT_OK;
}

static kmqtt_err_t rs_get(void *ctx, uint32_t key, void *buf, size_t cap, size_t *len)
{
    (void)ctx;
    int i = rs_at(key);
    if (S.get_err != KMQTT_OK)
        return S.get_err;
    if (i < 0)
        return KMQTT_ENOTFOUND;
    if (S.len[i] > cap)
        return KMQTT_ENOBUFS;
    memcpy(buf, S.val[i], S.len[i]);
    *len = S.len[i];
    return KMQTT_OK;
}

static kmqtt_err_t rs_remove(void *ctx, uint32_t key)
{
    (void)ctx;
    int i = rs_at(key);
    if (i >= 0) {
        S.n--;
        S.key[i] = S.key[S.n];
        memcpy(S.val[i], S.val[S.n], S.len[S.n]);
        S.len[i] = S.len[S.n];
    }
    return KMQTT_OK;
}

static kmqtt_err_t rs_list(void *ctx, kmqtt_store_list_fn fn, void *arg)
{
    (void)ctx;
    uint32_t keys[MAX];
    size_t lens[MAX];
    int n = S.n;
    if (S.list_err != KMQTT_OK)
        return S.list_err;
    for (int i = 0; i < n; i++) {
        keys[i] = S.key[i];
        lens[i] = S.len[i];
    }
    for (int i = 0; i < n; i++) {
        kmqtt_err_t err = fn(arg, keys[i], lens[i]);
        if (err != KMQTT_OK)
            return err;
    }
    return KMQTT_OK;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A flow record: order, from_seq, flags, then the PUBLISH bytes. */
static void flow(uint16_t id, uint32_t order, uint32_t from_seq, uint8_t flags, const uint8_t *pub,
                 size_t pub_len)
{
    uint8_t b[64];
    put_le32(b, order);
    put_le32(b + 4, from_seq);
    b[8] = flags;
    if (pub_len != 0)
        memcpy(b + 9, pub, pub_len);
    rs_put(NULL, KO | id, b, 9 + pub_len);
}

/* A queued record: seq, qos, retain, topic length, topic, payload. */
static void queued(uint32_t key_seq, uint32_t seq, uint8_t qos, uint8_t retain, const char *topic,
                   uint16_t tlen)
{
    uint8_t b[64];
    size_t n = strlen(topic);
    put_le32(b, seq);
    b[4] = qos;
    b[5] = retain;
    b[6] = (uint8_t)tlen;
    b[7] = (uint8_t)(tlen >> 8);
    memcpy(b + 8, topic, n);
    memcpy(b + 8 + n, "pl", 2);
    rs_put(NULL, KQ | key_seq, b, 8 + n + 2);
}

static kmqtt_err_t t_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    return KMQTT_ECONNREFUSED;
}

static long t_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return KMQTT_ECLOSED;
}

static long t_recv(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return KMQTT_ECLOSED;
}

static kmqtt_err_t t_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    (void)ctx;
    (void)events;
    (void)timeout_ms;
    *ready = 0;
    return KMQTT_OK;
}

static void t_void(void *ctx)
{
    (void)ctx;
}

static kmqtt_transport_t TP = {NULL, t_open, t_send, t_recv, t_wait, t_void, t_void, t_void};
static kmqtt_store_t ST;

/* create over the store S (3.1.1, a kept session, with or without an
 * offline queue); returns create's result and the stats in *ps. */
static kmqtt_err_t create(bool with_queue, kmqtt_persist_stats_t *ps)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    memset(&ST, 0, sizeof ST);
    ST.put = rs_put;
    ST.get = rs_get;
    ST.remove = rs_remove;
    ST.list = rs_list;
    kmqtt_client_options_init(&o);
    o.client_id = "restore";
    o.clean_session = false;
    o.transport = &TP;
    o.store = &ST;
    if (with_queue) {
        o.offline_queue_max_msgs = 8;
        o.offline_queue_max_bytes = 1024;
    }
    kmqtt_err_t err = kmqtt_client_create(&o, &c);
    memset(ps, 0, sizeof *ps);
    if (err == KMQTT_OK) {
        kmqtt_persist_stats(c, ps);
        kmqtt_client_destroy(c);
    } else {
        assert_null(c);
    }
    return err;
}

/* QoS 1 PUBLISH "a", id 5, payload "x" (3.1.1). */
static const uint8_t PUB5[] = {0x32, 0x06, 0x00, 0x01, 'a', 0x00, 0x05, 'x'};

/* A store that cannot list its records: create fails with KMQTT_ESTORE
 * rather than start without the session it was asked to keep. */
static void unlistable_store_fails_create(void **state)
{
    (void)state;
    kmqtt_persist_stats_t ps;
    memset(&S, 0, sizeof S);
    S.list_err = KMQTT_EIO;
    assert_int_equal(create(false, &ps), KMQTT_ESTORE);
}

/* Inbound ids: a key with bits above a packet id, id 0 or a body are
 * rejected and removed; a good one is held again (MQTT-4.3.3-2); keys of a
 * kind not ours are left alone. */
static void inbound_records_are_checked(void **state)
{
    (void)state;
    kmqtt_persist_stats_t ps;
    memset(&S, 0, sizeof S);
    rs_put(NULL, KI | 0x00010005u, NULL, 0); /* bits above the id */
    rs_put(NULL, KI | 0u, NULL, 0);          /* id 0 */
    rs_put(NULL, KI | 7u, "x", 1);           /* a body */
    rs_put(NULL, KI | 9u, NULL, 0);          /* good */
    rs_put(NULL, 0x7f000001u, "y", 1);       /* not ours */
    assert_int_equal(create(false, &ps), KMQTT_OK);
    assert_int_equal(ps.rejected, 3);
    assert_int_equal(ps.restored_inbound, 1);
    assert_true(rs_at(KI | 9u) >= 0);
    assert_true(rs_at(0x7f000001u) >= 0);
    assert_true(rs_at(KI | 7u) < 0);
    assert_int_equal(S.n, 2);
}

/* A flow record whose read fails is skipped and removed; one with a reserved flag bit is rejected;
 * an old-format (before issue 14) PUBREL record, bare, is restored. */
static void flow_records_unreadable_reserved_and_old(void **state)
{
    (void)state;
    kmqtt_persist_stats_t ps;
    memset(&S, 0, sizeof S);
    flow(5, 1, 0, 0x40 | 0x02, PUB5, sizeof PUB5);
    S.get_err = KMQTT_EIO;
    assert_int_equal(create(false, &ps), KMQTT_OK);
    assert_int_equal(ps.skipped, 1);
    assert_int_equal(ps.restored_inflight, 0);
    assert_int_equal(S.n, 0);

    memset(&S, 0, sizeof S);
    flow(5, 1, 0, 0x40 | 0x02 | 0x08, PUB5, sizeof PUB5); /* reserved bit 3 */
    flow(6, 2, 0, 0x01, NULL, 0);                         /* old PUBREL state */
    flow(7, 3, 0, 0x00, NULL, 0);                         /* old PUBLISH state, no PUBLISH */
    assert_int_equal(create(false, &ps), KMQTT_OK);
    assert_int_equal(ps.rejected, 2);
    assert_int_equal(ps.restored_inflight, 1);
    assert_true(rs_at(KO | 6u) >= 0);
    assert_true(rs_at(KO | 5u) < 0);
}

/* Queued messages: the key's seq must be the record's, QoS 1 or 2, retain
 * 0 or 1, the topic inside the record; one whose flow record names it is
 * in flight already and is removed, not queued twice; without a queue the
 * good ones are skipped (kept). */
static void queued_records_are_checked(void **state)
{
    (void)state;
    kmqtt_persist_stats_t ps;
    memset(&S, 0, sizeof S);
    queued(1, 2, 1, 0, "q", 1);  /* seq differs from the key's */
    queued(3, 3, 3, 0, "q", 1);  /* QoS 3 */
    queued(4, 4, 1, 2, "q", 1);  /* retain 2 */
    queued(5, 5, 1, 0, "q", 60); /* topic longer than the record */
    queued(6, 6, 1, 0, "q", 1);  /* good */
    queued(8, 8, 2, 1, "q", 1);  /* good, in flight from seq 8: */
    flow(5, 1, 8, 0x40 | 0x02, PUB5, sizeof PUB5);
    assert_int_equal(create(true, &ps), KMQTT_OK);
    assert_int_equal(ps.rejected, 4);
    assert_int_equal(ps.restored_queued, 1);
    assert_int_equal(ps.restored_inflight, 1);
    assert_true(rs_at(KQ | 6u) >= 0);
    assert_true(rs_at(KQ | 8u) < 0);

    memset(&S, 0, sizeof S);
    queued(6, 6, 1, 0, "q", 1);
    assert_int_equal(create(false, &ps), KMQTT_OK);
    assert_int_equal(ps.skipped, 1);
    assert_int_equal(ps.restored_queued, 0);
    assert_true(rs_at(KQ | 6u) >= 0);
}
#endif

int main(void)
{
#if KMQTT_CFG_OFFLINE_QUEUE
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unlistable_store_fails_create),
        cmocka_unit_test(inbound_records_are_checked),
        cmocka_unit_test(flow_records_unreadable_reserved_and_old),
        cmocka_unit_test(queued_records_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#else
    return 0;
#endif
}
