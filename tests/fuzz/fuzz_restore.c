/*
 * The store reader and the client's restore path (DESIGN.md rule 7: nothing
 * from the disk is trusted before the codec has decoded it).
 *
 * Byte 0 of the input chooses:
 *  bit 0   the client's protocol: 5.0 (set) or 3.1.1
 *  bit 1   the records go into the POSIX file store (through its put, so
 *          their CRC is right) instead of an in-memory one
 *  bit 2   the rest of the input is the raw content of one record file of
 *          the file store (header, length, CRC and value as the fuzzer
 *          makes them): the reader must refuse every damaged one
 * Otherwise the rest is a list of records: kind (byte, mod 4: 0 foreign,
 * 1 queued, 2 outbound flow, 3 inbound id), number (3 bytes LE, below the
 * kind in the key), length (1 byte), value.
 *
 * A client is created over the store (the restore), connected to a
 * scripted broker that acknowledges everything, flushed and destroyed.
 * Checked: nothing crashes or leaks (ASan, libFuzzer's leak check); every
 * byte the client sends decodes, in the client's version, as a packet a
 * restoring client may send (CONNECT first, then only PUBLISH at QoS 1 or 2,
 * PUBREL, PINGREQ, DISCONNECT: never a SUBSCRIBE a record planted); no more
 * PUBLISHes than records restored; every record is counted at most once;
 * and a second client over what the first left in the store rejects
 * nothing (every bad record was removed). In raw-file mode, every record
 * the file store lists is one whose CRC and length match.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmqtt/client.h"
#include "kmqtt/store.h"

#define MS_MAX 32

static void check(int ok)
{
    if (!ok)
        abort();
}

/* ------------------------------------------------------- in-memory store */

typedef struct mstore {
    uint32_t key[MS_MAX];
    uint8_t val[MS_MAX][256];
    size_t len[MS_MAX];
    bool used[MS_MAX];
} mstore_t;

static int ms_find(const mstore_t *m, uint32_t key)
{
    for (int i = 0; i < MS_MAX; i++) {
        if (m->used[i] && m->key[i] == key)
            return i;
    }
    return -1;
}

static kmqtt_err_t ms_put(void *ctx, uint32_t key, const void *data, size_t len)
{
    mstore_t *m = ctx;
    int i = ms_find(m, key);
    for (int j = 0; i < 0 && j < MS_MAX; j++) {
        if (!m->used[j])
            i = j;
    }
    if (i < 0 || len > sizeof m->val[0])
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
    for (int i = 0; i < MS_MAX; i++) {
        if (m->used[i]) {
            kmqtt_err_t err = fn(arg, m->key[i], m->len[i]);
            if (err != KMQTT_OK)
                return err;
        }
    }
    return KMQTT_OK;
}

/* ------------------------------------------------------- scripted broker */

typedef struct broker {
    kmqtt_version_t v;
    bool open;
    uint8_t in[8192];
    size_t in_len;
    uint8_t out[8192];
    size_t out_len;
    unsigned packets, publishes;
    bool disconnected;
} broker_t;

static void b_ack(broker_t *b, kmqtt_packet_type_t type, uint16_t id)
{
    kmqtt_packet_t p;
    size_t w = 0;
    memset(&p, 0, sizeof p);
    p.type = type;
    if (type == KMQTT_CONNACK)
        p.u.connack.session_present = true;
    else
        p.u.ack.packet_id = id;
    check(kmqtt_packet_encode(&p, b->v, b->out + b->out_len, sizeof b->out - b->out_len, &w) ==
          KMQTT_OK);
    b->out_len += w;
}

/* What a restoring client may send, and the broker's answer. */
static void b_handle(broker_t *b, const kmqtt_packet_t *p)
{
    check(!b->disconnected);
    check((b->packets++ == 0) == (p->type == KMQTT_CONNECT));
    switch (p->type) {
    case KMQTT_CONNECT:
        b_ack(b, KMQTT_CONNACK, 0);
        break;
    case KMQTT_PUBLISH:
        check(p->u.publish.qos == 1 || p->u.publish.qos == 2);
        b->publishes++;
        b_ack(b, p->u.publish.qos == 1 ? KMQTT_PUBACK : KMQTT_PUBREC, p->u.publish.packet_id);
        break;
    case KMQTT_PUBREL:
        b_ack(b, KMQTT_PUBCOMP, p->u.ack.packet_id);
        break;
    case KMQTT_PINGREQ:
        break;
    case KMQTT_DISCONNECT:
        b->disconnected = true;
        break;
    default:
        abort(); /* SUBSCRIBE, UNSUBSCRIBE, an ack we never owe, AUTH, ... */
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
    b->packets = 0;
    b->disconnected = false;
    return KMQTT_OK;
}

static long b_send(void *ctx, const void *buf, size_t len)
{
    broker_t *b = ctx;
    size_t off = 0, used = 0;
    kmqtt_packet_t p;
    check(b->open);
    if (len > sizeof b->in - b->in_len)
        len = sizeof b->in - b->in_len;
    memcpy(b->in + b->in_len, buf, len);
    b->in_len += len;
    for (;;) {
        kmqtt_err_t err = kmqtt_packet_decode(b->in + off, b->in_len - off, b->v, 0, &p, &used);
        if (err == KMQTT_NEED_MORE)
            break;
        check(err == KMQTT_OK); /* every byte sent is a well-formed packet */
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

/* ------------------------------------------------------------ the run */

static char g_dir[64];

static void clear_dir(void)
{
    DIR *d = opendir(g_dir);
    struct dirent *de;
    char path[128];
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", g_dir, de->d_name);
        (void)unlink(path);
    }
    closedir(d);
}

static void remove_dir(void)
{
    clear_dir();
    (void)rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* In memory where there is a tmpfs: the file store fsyncs every put. */
    snprintf(g_dir, sizeof g_dir, "/dev/shm/kmqtt-fuzz-restore-XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        snprintf(g_dir, sizeof g_dir, "/tmp/kmqtt-fuzz-restore-XXXXXX");
        check(mkdtemp(g_dir) != NULL);
    }
    atexit(remove_dir);
    return 0;
}

typedef struct counted {
    kmqtt_store_t *st;
    size_t ours;
} counted_t;

/* Every listed record can be read back with the length list gave. */
static kmqtt_err_t list_check(void *arg, uint32_t key, size_t len)
{
    counted_t *k = arg;
    uint8_t *buf = malloc(len > 0 ? len : 1);
    size_t n = 0;
    check(buf != NULL);
    check(k->st->get(k->st->ctx, key, buf, len, &n) == KMQTT_OK && n == len);
    free(buf);
    if ((key >> 24) >= 1 && (key >> 24) <= 3)
        k->ours++;
    return KMQTT_OK;
}

static void restore_once(kmqtt_version_t v, kmqtt_store_t *st, bool again)
{
    broker_t b;
    kmqtt_transport_t tr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_persist_stats_t ps;
    counted_t k = {st, 0};
    kmqtt_err_t err;

    check(st->list(st->ctx, list_check, &k) == KMQTT_OK);
    memset(&b, 0, sizeof b);
    b.v = v;
    memset(&tr, 0, sizeof tr);
    tr.ctx = &b;
    tr.open = b_open;
    tr.send = b_send;
    tr.recv = b_recv;
    tr.wait = b_wait;
    tr.wake = b_wake;
    tr.close = b_close;
    tr.destroy = b_close;
    kmqtt_client_options_init(&o);
    o.host = "broker.invalid";
    o.client_id = "fuzz-restore";
    o.version = v;
    o.clean_session = false;
    o.store = st;
    o.transport = &tr;
    o.tx_buffer_size = 512;
    o.rx_buffer_size = 512;
    o.max_inflight = 8;
    o.offline_queue_max_msgs = 8;
    o.offline_queue_max_bytes = 1024;
    err = kmqtt_client_create(&o, &c);
    check(err == KMQTT_OK);
    kmqtt_persist_stats(c, &ps);
    /* Each record is counted once at most (a queued one whose flow was
     * restored is dropped without a count). */
    check((size_t)ps.restored_inflight + ps.restored_queued + ps.restored_inbound + ps.skipped +
              ps.rejected <=
          k.ours);
    if (again)
        check(ps.rejected == 0);
    if (kmqtt_connect(c, 1000, NULL) == KMQTT_OK) {
        (void)kmqtt_flush(c, 200);
        (void)kmqtt_disconnect(c, NULL);
    }
    check(b.publishes <= ps.restored_inflight + ps.restored_queued);
    kmqtt_client_destroy(c);
}

static void put_records(kmqtt_store_t *st, const uint8_t *d, size_t n)
{
    while (n >= 5) {
        uint32_t key = (uint32_t)(d[0] & 3u) << 24 | (uint32_t)d[1] | (uint32_t)d[2] << 8 |
                       (uint32_t)d[3] << 16;
        size_t len = d[4];
        d += 5;
        n -= 5;
        if (len > n)
            len = n;
        (void)st->put(st->ctx, key, d, len);
        d += len;
        n -= len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mstore_t m;
    kmqtt_mem_t mem;
    kmqtt_store_t st;
    kmqtt_version_t v;
    uint8_t opt;

    if (size < 1)
        return 0;
    opt = data[0];
    v = (opt & 1u) ? KMQTT_V5 : KMQTT_V311;
    data++;
    size--;
    if (opt & 6u) {
        check(kmqtt_mem_init(&mem, NULL) == KMQTT_OK);
        clear_dir();
        if (opt & 4u) {
            char path[128];
            int fd;
            snprintf(path, sizeof path, "%s/02000001.rec", g_dir);
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            check(fd >= 0);
            check(write(fd, data, size) == (ssize_t)size);
            close(fd);
        }
        check(kmqtt_store_file_create(&mem, g_dir, NULL, NULL, &st) == KMQTT_OK);
        if (!(opt & 4u))
            put_records(&st, data, size);
    } else {
        memset(&m, 0, sizeof m);
        st.ctx = &m;
        st.put = ms_put;
        st.get = ms_get;
        st.remove = ms_remove;
        st.list = ms_list;
        st.destroy = NULL;
        put_records(&st, data, size);
    }
    restore_once(v, &st, false);
    restore_once(v, &st, true);
    if (st.destroy != NULL) {
        st.destroy(st.ctx);
        clear_dir();
    }
    return 0;
}
