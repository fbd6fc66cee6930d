/*
 * Store and forward: persistence of the offline queue and the session's
 * QoS 1/2 state through a kmqtt_store_t (include/kmqtt/store.h).
 *
 * Keys: kind in the top byte, number below.
 *   KEY_QUEUED | seq (24 bits)  a QoS 1/2 message in the offline queue:
 *                               seq (u32) qos retain topic_len (u16) topic payload
 *   KEY_OUT | packet id         an outbound QoS 1/2 flow:
 *                               order (u32) from_seq (u32) flags (u8) [PUBLISH]
 *   KEY_IN | packet id          an inbound QoS 2 id awaiting PUBREL (empty)
 *   KEY_CAPS                    what the last accepted CONNACK allowed (issue #18,
 *                               bounds the next pipelined first flight):
 *                               version (u8, CAPS_VERSION) max_qos (u8) flags (u8:
 *                               bit 0 no retain, 1 no wildcard, 2 no subscription
 *                               ids, 3 no shared) 0 (u8) receive_max (u16)
 *                               0 (u16) max_packet_size (u32)
 *                               A store without it (written before issue 18) reads
 *                               as the specification's defaults; one of another
 *                               version, or that fails its checks, is removed and
 *                               the defaults used: only the first flight is
 *                               bounded by it, the CONNACK decides. A store read
 *                               by a client older than issue 18 ignores it.
 * Integers little-endian. order is the send order across restarts;
 * from_seq the queue seq the message left the queue with (0 = none), so a
 * crash between writing the flow and removing the queue record cannot
 * send the message twice: the queue record is dropped at restore. flags:
 * bit 0 the PUBREL state (the PUBLISH is gone, only PUBREL is sent again),
 * bits 1-2 the flow's QoS, bits 4-7 the protocol level (4, 5) the PUBLISH
 * was encoded for. Records written before issue 14 have QoS and level 0;
 * they are still read (their bytes are decoded all the same).
 *
 * Restore (DESIGN.md rule 7): nothing read back is trusted before it is
 * checked in full. A flow's PUBLISH is decoded by the codec (in
 * kmqtt_session_restore) and must be exactly one PUBLISH of the
 * key's packet id and the recorded QoS and level, nothing after it; a
 * queued message must have a valid topic. A record that fails is counted
 * (pstats.rejected), removed and never sent.
 *
 * Write order (crash safety): a record is written before the packet it
 * covers can be sent (the hook runs inside the session call that queues
 * it; the loop sends only later), and removed only after the ack.
 */
#include "client_internal.h"
#include "kmqtt/config.h"

#if KMQTT_CFG_OFFLINE_QUEUE

#define KEY_QUEUED 0x01000000u
#define KEY_OUT    0x02000000u
#define KEY_IN     0x03000000u
#define KEY_CAPS   0x04000000u
#define KEY_KIND   0xff000000u
#define KEY_ID_HI  0x00ff0000u /* above a packet id: zero in OUT and IN keys */
#define Q_HDR      8u
#define OUT_HDR    9u

#define CAPS_LEN     12u
#define CAPS_VERSION 1u

#define OUT_PUBREL   0x01u
#define OUT_RESERVED 0x08u

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st_put(kmqtt_client_t *c, uint32_t key, const void *data, size_t len)
{
    if (c->store.put(c->store.ctx, key, data, len) != KMQTT_OK)
        c->pstats.store_errors++;
}

static void st_remove(kmqtt_client_t *c, uint32_t key)
{
    if (c->store.remove(c->store.ctx, key) != KMQTT_OK)
        c->pstats.store_errors++;
}

/* A record that failed its checks: counted, removed, never sent. */
static void reject(kmqtt_client_t *c, uint32_t key)
{
    c->pstats.rejected++;
    st_remove(c, key);
}

static uint8_t out_flags(const kmqtt_client_t *c, unsigned qos, bool pubrel)
{
    return (uint8_t)((unsigned)c->opt.version << 4 | qos << 1 | (pubrel ? OUT_PUBREL : 0u));
}

/* --------------------------------------------------------------- writes */

static void caps_encode(const kmqtt_session_caps_t *k, uint8_t *b)
{
    memset(b, 0, CAPS_LEN);
    b[0] = CAPS_VERSION;
    b[1] = k->max_qos;
    b[2] = (uint8_t)((k->retain_available ? 0u : 1u) | (k->wildcard_available ? 0u : 2u) |
                     (k->subid_available ? 0u : 4u) | (k->shared_available ? 0u : 8u));
    b[4] = (uint8_t)k->receive_max;
    b[5] = (uint8_t)(k->receive_max >> 8);
    put32(b + 8, k->max_packet_size);
}

void kc_persist_caps(kmqtt_client_t *c)
{
    kmqtt_session_caps_t k;
    uint8_t b[CAPS_LEN];

    if (!c->persist)
        return;
    kmqtt_session_server_caps(&c->s, &k);
    caps_encode(&k, b);
    /* Written only when they changed: a wake cycle costs no flash write. */
    if (memcmp(b, c->caps_rec, CAPS_LEN) == 0)
        return;
    memcpy(c->caps_rec, b, CAPS_LEN);
    st_put(c, KEY_CAPS, b, CAPS_LEN);
}

/* The caps record b[0..n): checked in full before the session takes it. */
static void caps_restore(kmqtt_client_t *c, const uint8_t *b, size_t n)
{
    kmqtt_session_caps_t k;

    memset(&k, 0, sizeof k);
    if (n == CAPS_LEN && b[0] == CAPS_VERSION && b[1] <= 2 && (b[2] & 0xf0u) == 0 && b[3] == 0 &&
        b[6] == 0 && b[7] == 0) {
        k.max_qos = b[1];
        k.retain_available = (b[2] & 1u) == 0;
        k.wildcard_available = (b[2] & 2u) == 0;
        k.subid_available = (b[2] & 4u) == 0;
        k.shared_available = (b[2] & 8u) == 0;
        k.receive_max = (uint16_t)(b[4] | b[5] << 8);
        k.max_packet_size = get32(b + 8);
        if (kmqtt_session_restore_caps(&c->s, &k) == KMQTT_OK) {
            memcpy(c->caps_rec, b, CAPS_LEN);
            return;
        }
    }
    reject(c, KEY_CAPS);
}

kmqtt_err_t kc_persist_queued(kmqtt_client_t *c, uint32_t seq, const kmqtt_publish_t *msg)
{
    uint8_t *b = c->persist_buf;
    size_t n = Q_HDR + msg->topic.len + msg->payload.len;

    if (!c->persist || msg->qos == 0)
        return KMQTT_OK;
    if (n > c->persist_buf_size)
        return KMQTT_ETOOBIG;
    put32(b, seq);
    b[4] = msg->qos;
    b[5] = msg->retain ? 1u : 0u;
    b[6] = (uint8_t)msg->topic.len;
    b[7] = (uint8_t)(msg->topic.len >> 8);
    memcpy(b + Q_HDR, msg->topic.ptr, msg->topic.len);
    if (msg->payload.len != 0)
        memcpy(b + Q_HDR + msg->topic.len, msg->payload.ptr, msg->payload.len);
    if (c->store.put(c->store.ctx, KEY_QUEUED | (seq & 0xffffffu), b, n) != KMQTT_OK) {
        c->pstats.store_errors++;
        return KMQTT_ESTORE;
    }
    return KMQTT_OK;
}

void kc_persist_unqueue(kmqtt_client_t *c, uint32_t seq, uint8_t qos)
{
    if (c->persist && qos != 0)
        st_remove(c, KEY_QUEUED | (seq & 0xffffffu));
}

void kc_persist_done(kmqtt_client_t *c, uint16_t id)
{
    if (c->persist)
        st_remove(c, KEY_OUT | id);
}

static kmqtt_err_t drop_inbound(void *arg, uint32_t key, size_t len)
{
    kmqtt_client_t *c = arg;

    (void)len;
    if ((key & KEY_KIND) == KEY_IN)
        st_remove(c, key);
    return KMQTT_OK;
}

/* The session's change hook (mx held: every session call is under it). */
static void on_change(void *ctx, kmqtt_session_change_t what, uint16_t id, const uint8_t *bytes,
                      size_t len)
{
    kmqtt_client_t *c = ctx;
    uint8_t *b = c->persist_buf;
    size_t n = 0;

    switch (what) {
    case KMQTT_SESSION_CH_PUBLISH:
        if (OUT_HDR + len > c->persist_buf_size) {
            c->pstats.store_errors++;
            return;
        }
        put32(b, c->persist_order++);
        put32(b + 4, c->draining_seq);
        b[8] = out_flags(c, (bytes[0] >> 1) & 3u, false);
        memcpy(b + OUT_HDR, bytes, len);
        st_put(c, KEY_OUT | id, b, OUT_HDR + len);
        break;
    case KMQTT_SESSION_CH_PUBREL:
        /* Keeps its place in the send order; the PUBLISH is not needed
         * any more (only PUBREL is sent again, MQTT-4.3.3-1). */
        if (c->store.get(c->store.ctx, KEY_OUT | id, b, c->persist_buf_size, &n) != KMQTT_OK ||
            n < OUT_HDR) {
            put32(b, c->persist_order++);
            put32(b + 4, 0);
        }
        b[8] = out_flags(c, 2, true);
        st_put(c, KEY_OUT | id, b, OUT_HDR);
        break;
    case KMQTT_SESSION_CH_INBOUND:
        st_put(c, KEY_IN | id, NULL, 0);
        break;
    case KMQTT_SESSION_CH_RELEASED:
        st_remove(c, KEY_IN | id);
        break;
    case KMQTT_SESSION_CH_INBOUND_CLEAR:
        if (c->store.list(c->store.ctx, drop_inbound, c) != KMQTT_OK)
            c->pstats.store_errors++;
        break;
    default:
        break; /* KMQTT_SESSION_CH_DONE: the PUBLISHED event removes it (kc_persist_done) */
    }
}

/* -------------------------------------------------------------- restore */

typedef struct rec {
    uint32_t key;
    uint32_t order; /* order (outbound) or seq (queued) */
    uint32_t from_seq;
    bool rejected; /* a flow that failed restore_out's checks */
} rec_t;

typedef struct scan {
    kmqtt_client_t *c;
    rec_t *recs;
    size_t n, cap;
} scan_t;

static kmqtt_err_t count_one(void *arg, uint32_t key, size_t len)
{
    scan_t *sc = arg;

    (void)key;
    (void)len;
    sc->cap++;
    return KMQTT_OK;
}

/* The flow record b[0..n) under key, all but its PUBLISH's body (which
 * kmqtt_session_restore decodes): a packet id, a header, known
 * flags, the PUBREL state bare, a PUBLISH of the recorded QoS and level. */
static bool out_record_ok(const kmqtt_client_t *c, uint32_t key, const uint8_t *b, size_t n)
{
    unsigned f, qos, level;

    if ((key & KEY_ID_HI) != 0 || (uint16_t)key == 0 || n < OUT_HDR)
        return false;
    f = b[8];
    qos = (f >> 1) & 3u;
    level = f >> 4;
    if ((f & OUT_RESERVED) != 0)
        return false;
    if (qos == 0 && level == 0) /* written before issue 14 */
        return (f & OUT_PUBREL) != 0 ? n == OUT_HDR : n > OUT_HDR;
    if (level != (unsigned)c->opt.version || qos == 0 || qos == 3)
        return false;
    if ((f & OUT_PUBREL) != 0)
        return qos == 2 && n == OUT_HDR;
    return n > OUT_HDR && ((b[OUT_HDR] >> 1) & 3u) == qos;
}

/* A queued message: its key's seq, QoS 1 or 2, a retain flag, a valid
 * topic inside the record. */
static bool queued_record_ok(uint32_t key, const uint8_t *b, size_t n)
{
    size_t tlen;

    if (n < Q_HDR || (get32(b) & 0xffffffu) != (key & 0xffffffu))
        return false;
    tlen = (size_t)b[6] | (size_t)b[7] << 8;
    return (b[4] == 1 || b[4] == 2) && b[5] <= 1 && Q_HDR + tlen <= n &&
           kmqtt_topic_name_validate((const char *)b + Q_HDR, tlen) == KMQTT_OK;
}

static kmqtt_err_t read_one(void *arg, uint32_t key, size_t len)
{
    scan_t *sc = arg;
    kmqtt_client_t *c = sc->c;
    uint8_t *b = c->persist_buf;
    size_t n = 0;
    kmqtt_err_t err;

    if (sc->n >= sc->cap)
        return KMQTT_OK; /* a record that appeared between the two passes */
    if ((key & KEY_KIND) == KEY_IN) {
        if ((key & KEY_ID_HI) != 0 || (uint16_t)key == 0 || len != 0)
            reject(c, key);
        else if (kmqtt_session_restore_inbound(&c->s, (uint16_t)key) == KMQTT_OK)
            c->pstats.restored_inbound++;
        else
            c->pstats.skipped++;
        return KMQTT_OK;
    }
    if ((key & KEY_KIND) != KEY_OUT && (key & KEY_KIND) != KEY_QUEUED && key != KEY_CAPS)
        return KMQTT_OK; /* not ours */
    err = c->store.get(c->store.ctx, key, b, c->persist_buf_size, &n);
    if (err != KMQTT_OK) {
        c->pstats.skipped++;
        st_remove(c, key);
        return KMQTT_OK;
    }
    if (key == KEY_CAPS) {
        caps_restore(c, b, n);
        return KMQTT_OK;
    }
    if ((key & KEY_KIND) == KEY_OUT ? !out_record_ok(c, key, b, n) : !queued_record_ok(key, b, n)) {
        reject(c, key);
        return KMQTT_OK;
    }
    sc->recs[sc->n].key = key;
    sc->recs[sc->n].order = get32(b);
    sc->recs[sc->n].from_seq = (key & KEY_KIND) == KEY_OUT ? get32(b + 4) : 0;
    sc->recs[sc->n].rejected = false;
    sc->n++;
    return KMQTT_OK;
}

/* Kind first (outbound before queued), then order; a heap sort, as the
 * core has no qsort. */
static bool rec_less(const rec_t *a, const rec_t *b)
{
    uint32_t ka = a->key & KEY_KIND, kb = b->key & KEY_KIND;

    if (ka != kb)
        return ka == KEY_OUT;
    return a->order < b->order;
}

static void sift(rec_t *r, size_t i, size_t n)
{
    rec_t t;
    size_t ch;

    while ((ch = 2 * i + 1) < n) {
        if (ch + 1 < n && rec_less(&r[ch], &r[ch + 1]))
            ch++;
        if (!rec_less(&r[i], &r[ch]))
            return;
        t = r[i];
        r[i] = r[ch];
        r[ch] = t;
        i = ch;
    }
}

static void rec_sort(rec_t *r, size_t n)
{
    size_t i;
    rec_t t;

    for (i = n / 2; i-- > 0;)
        sift(r, i, n);
    for (i = n; i-- > 1;) {
        t = r[0];
        r[0] = r[i];
        r[i] = t;
        sift(r, 0, i);
    }
}

static bool in_flight_from(const rec_t *r, size_t n, uint32_t seq)
{
    size_t i;

    /* A rejected flow names nothing: a planted one must not make a queued
     * message look sent. */
    for (i = 0; i < n && (r[i].key & KEY_KIND) == KEY_OUT; i++) {
        if (r[i].from_seq == seq && !r[i].rejected)
            return true;
    }
    return false;
}

static void restore_out(kmqtt_client_t *c, rec_t *r)
{
    uint8_t *b = c->persist_buf;
    size_t n = 0;
    kmqtt_err_t err;

    if (c->store.get(c->store.ctx, r->key, b, c->persist_buf_size, &n) != KMQTT_OK) {
        c->pstats.skipped++;
        return;
    }
    err = out_record_ok(c, r->key, b, n)
              ? kmqtt_session_restore(&c->s, (uint16_t)r->key, (b[8] & OUT_PUBREL) != 0,
                                      b + OUT_HDR, n - OUT_HDR)
              : KMQTT_ESTORE;
    if (err == KMQTT_OK) {
        c->pstats.restored_inflight++;
        if (r->order >= c->persist_order)
            c->persist_order = r->order + 1;
    } else if (err == KMQTT_ELIMIT || err == KMQTT_ENOBUFS || err == KMQTT_EUNSUPPORTED) {
        c->pstats.skipped++; /* a good record with no room here: kept */
    } else {
        r->rejected = true;
        reject(c, r->key);
    }
}

static void restore_queued(kmqtt_client_t *c, const rec_t *r)
{
    uint8_t *b = c->persist_buf;
    size_t n = 0, tlen;
    uint32_t seq;

    if (c->queue_buf == NULL ||
        c->store.get(c->store.ctx, r->key, b, c->persist_buf_size, &n) != KMQTT_OK) {
        c->pstats.skipped++;
        return;
    }
    if (!queued_record_ok(r->key, b, n)) {
        reject(c, r->key);
        return;
    }
    seq = get32(b);
    tlen = (size_t)b[6] | (size_t)b[7] << 8;
    /* The same seq again, so its key stays the same. */
    c->queue.next_seq = seq;
    if (kc_queue_push(&c->queue, (const char *)b + Q_HDR, tlen, b + Q_HDR + tlen, n - Q_HDR - tlen,
                      b[4], b[5] != 0, NULL, NULL, NULL) != KMQTT_OK) {
        c->pstats.skipped++;
        return;
    }
    c->pstats.restored_queued++;
}

static kmqtt_err_t restore(kmqtt_client_t *c)
{
    scan_t sc;
    uint32_t max_seq = 0;
    size_t i;
    kmqtt_err_t err;

    memset(&sc, 0, sizeof sc);
    sc.c = c;
    err = c->store.list(c->store.ctx, count_one, &sc);
    if (err != KMQTT_OK)
        return KMQTT_ESTORE;
    if (sc.cap == 0)
        return KMQTT_OK;
    sc.recs = kmqtt_mem_alloc(&c->mem, "persist", sc.cap * sizeof *sc.recs);
    if (sc.recs == NULL)
        return KMQTT_ENOMEM;
    err = c->store.list(c->store.ctx, read_one, &sc);
    if (err != KMQTT_OK) {
        (void)kmqtt_mem_free(&c->mem, sc.recs);
        return KMQTT_ESTORE;
    }
    rec_sort(sc.recs, sc.n);
    for (i = 0; i < sc.n; i++) {
        rec_t *r = &sc.recs[i];
        if ((r->key & KEY_KIND) == KEY_OUT) {
            restore_out(c, r);
            continue;
        }
        if (r->order > max_seq)
            max_seq = r->order;
        /* Crashed after the flow was written, before the queue record was
         * removed: it is in flight already, not queued. */
        if (in_flight_from(sc.recs, sc.n, r->order)) {
            st_remove(c, r->key);
            continue;
        }
        restore_queued(c, r);
    }
    if (c->queue_buf != NULL)
        c->queue.next_seq = max_seq + 1 == 0 ? 1 : max_seq + 1;
    (void)kmqtt_mem_free(&c->mem, sc.recs);
    return KMQTT_OK;
}

/* ---------------------------------------------------------- setup, free */

size_t kc_persist_memory_size(const kmqtt_client_options_t *o)
{
    if (o == NULL || o->store == NULL)
        return 0;
    /* The same default as the client's options. */
    return (o->tx_buffer_size != 0 ? o->tx_buffer_size : (size_t)KMQTT_CFG_TX_BUFFER_SIZE) +
           OUT_HDR;
}

kmqtt_err_t kc_persist_setup(kmqtt_client_t *c)
{
    const kmqtt_store_t *st = c->opt.store;

    if (st == NULL)
        return KMQTT_OK;
    /* One record at a time: the largest PUBLISH the session can send, or
     * a queued message (whose PUBLISH is larger than its record). */
    c->persist_buf_size = kc_persist_memory_size(&c->opt);
    c->store = *st;
    c->opt.store = NULL; /* the copy is what is used */
    c->persist_buf = kmqtt_mem_alloc(&c->mem, "persist", c->persist_buf_size);
    if (c->persist_buf == NULL)
        return KMQTT_ENOMEM;
    c->persist_order = 1;
    c->persist = true;
    kmqtt_session_set_change_hook(&c->s, on_change, c);
    return restore(c);
}

void kc_persist_free(kmqtt_client_t *c)
{
    (void)kmqtt_mem_free(&c->mem, c->persist_buf);
    c->persist_buf = NULL;
    c->persist = false;
}

void kmqtt_persist_stats(kmqtt_client_t *c, kmqtt_persist_stats_t *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    if (c == NULL)
        return;
    kc_lock(c);
    *out = c->pstats;
    kc_unlock(c);
}

#else /* !KMQTT_CFG_OFFLINE_QUEUE */

void kmqtt_persist_stats(kmqtt_client_t *c, kmqtt_persist_stats_t *out)
{
    (void)c;
    if (out != NULL)
        memset(out, 0, sizeof *out);
}

#endif /* KMQTT_CFG_OFFLINE_QUEUE */
