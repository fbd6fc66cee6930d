/*
 * The nano client (nano.h) in the matrix: one thread, the caller's buffers
 * (tx is the cell's send buffer), a loop of poll and transport wait. A
 * publish refused for want of room (KMQTT_ENOBUFS: tx full; KMQTT_ELIMIT:
 * the QoS 1 window or store full) is offered again after the next poll, the
 * way a sensor task retries. No reconnect: a lost connection ends the run.
 */
#include "bp_drive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/nano.h"

#define RX_SIZE 512u

typedef struct run {
    kmqtt_nano_t c;
    kmqtt_transport_t tr;
    int connected, failed, lost;
    kmqtt_err_t err;
    uint32_t acked_ok, acked_bad;
    uint32_t next; /* what the last poll said about the next deadline */
    uint64_t deadline;
} run_t;

static void on_event(void *user, const kmqtt_nano_event_t *ev)
{
    run_t *r = user;
    switch (ev->type) {
    case KMQTT_NANO_EV_CONNECTED:
        r->connected++;
        break;
    case KMQTT_NANO_EV_CONNECT_FAILED:
        r->failed++;
        r->err = ev->err;
        break;
    case KMQTT_NANO_EV_LOST:
        r->lost++;
        r->err = ev->err;
        break;
    case KMQTT_NANO_EV_PUBLISHED:
        if (ev->err == KMQTT_OK && ev->reason_code < 0x80)
            r->acked_ok++;
        else
            r->acked_bad++;
        break;
    default:
        break;
    }
}

static uint32_t now32(void)
{
    return (uint32_t)kmqtt_port_now_ms();
}

/* One turn: with wait, first a wait of at most 50 ms for what the client
 * waits for (the socket writable while bytes wait in tx, an answer), then a
 * poll, which sends and receives what it can. false once the connection is
 * gone or the run's time is up. */
static bool pump(run_t *r, bp_client_result_t *res, bool wait)
{
    uint32_t next = 0;
    unsigned ready = 0;
    kmqtt_err_t e;

    if (wait)
        (void)r->tr.wait(r->tr.ctx,
                         KMQTT_WAIT_READ | (kmqtt_nano_want_write(&r->c) ? KMQTT_WAIT_WRITE : 0u),
                         r->next < 50 ? r->next : 50, &ready);
    e = kmqtt_nano_poll(&r->c, now32(), &next);
    r->next = next;
    if (e != KMQTT_OK) {
        bp_client_fail(res, "poll: %s", kmqtt_strerror(e));
        return false;
    }
    if (r->lost > 0 || r->failed > 0) {
        bp_client_fail(res, "connection %s: %s", r->lost > 0 ? "lost" : "refused",
                       kmqtt_strerror(r->err));
        return false;
    }
    if (kmqtt_port_now_ms() >= r->deadline) {
        bp_client_fail(res, "timed out");
        return false;
    }
    return true;
}

/* Offers m until the client takes it: after a refusal a poll (which may make
 * room at once), and only when that was not enough a wait before the next. */
static bool publish(run_t *r, const kmqtt_nano_msg_t *m, bp_client_result_t *res, uint32_t n)
{
    bool wait = false;

    for (;;) {
        kmqtt_err_t e = kmqtt_nano_publish(&r->c, m, now32(), NULL);
        if (e == KMQTT_OK)
            return true;
        if (e != KMQTT_ENOBUFS && e != KMQTT_ELIMIT) {
            bp_client_fail(res, "publish of message %u: %s", (unsigned)n, kmqtt_strerror(e));
            return false;
        }
        if (!pump(r, res, wait))
            return false;
        wait = true;
    }
}

void bp_drive_nano(const bp_drive_t *d, bp_client_result_t *res)
{
    kmqtt_nano_config_t cfg;
    kmqtt_nano_buffers_t b;
    kmqtt_nano_msg_t m;
    size_t store_size =
        d->sizes == BP_SIZES_SMALL || d->sizes == BP_SIZES_512 ? 256u * 1024u : 2048u * 1024u;
    run_t *r = calloc(1, sizeof(*r));
    uint8_t *rx = malloc(RX_SIZE), *tx = malloc(d->tx_size), *store = malloc(store_size);
    uint8_t *msg = malloc(BP_MSG_MAX), end[4];
    bool made = false, inited = false;
    uint32_t n, want;
    kmqtt_err_t e;

    memset(res, 0, sizeof(*res));
    if (r == NULL || rx == NULL || tx == NULL || store == NULL || msg == NULL) {
        bp_client_fail(res, "out of memory");
        goto out;
    }
    r->deadline = kmqtt_port_now_ms() + d->timeout_ms;
    e = bp_stack_create(d, &r->tr);
    if (e != KMQTT_OK) {
        bp_client_fail(res, "transport: %s", kmqtt_strerror(e));
        goto out;
    }
    made = true;
    kmqtt_nano_config_init(&cfg);
    cfg.transport = &r->tr;
    cfg.host = "127.0.0.1";
    cfg.port = d->port;
    cfg.mqtt.client_id = "bp-nano";
    cfg.reconnect_min_ms = 0;
    cfg.mqtt.max_inflight = 250;
    cfg.on_event = on_event;
    cfg.user = r;
    b.rx = rx;
    b.rx_size = RX_SIZE;
    b.tx = tx;
    b.tx_size = d->tx_size;
    b.store = store;
    b.store_size = store_size;
    e = kmqtt_nano_init(&r->c, &cfg, &b);
    inited = e == KMQTT_OK;
    if (e == KMQTT_OK)
        e = kmqtt_nano_connect(&r->c, now32());
    if (e != KMQTT_OK) {
        bp_client_fail(res, "connect: %s", kmqtt_strerror(e));
        goto out;
    }
    while (r->connected == 0)
        if (!pump(r, res, true))
            goto out;
    memset(&m, 0, sizeof(m));
    m.topic = BP_TOPIC;
    m.topic_len = (uint16_t)strlen(BP_TOPIC);
    m.qos = d->qos;
    m.payload = msg;
    for (n = 0; n < d->count; n++) {
        m.payload_len = bp_msg_fill(d->sizes, n, msg);
        if (!publish(r, &m, res, n))
            goto out;
        res->sent++;
    }
    bp_put_be32(end, d->count);
    m.topic = BP_END_TOPIC;
    m.topic_len = (uint16_t)strlen(BP_END_TOPIC);
    m.qos = 1;
    m.payload = end;
    m.payload_len = sizeof(end);
    if (!publish(r, &m, res, d->count))
        goto out;
    /* Every QoS 1 message of the cell, and the end marker. */
    want = (d->qos == 1 ? d->count : 0u) + 1u;
    while (r->acked_ok + r->acked_bad < want)
        if (!pump(r, res, true))
            goto out;
    res->end_acked = r->acked_bad == 0;
out:
    if (r != NULL) {
        if (inited) {
            e = kmqtt_nano_disconnect(&r->c, 0, 10000);
            if (e != KMQTT_OK && res->end_acked)
                bp_client_fail(res, "disconnect: %s", kmqtt_strerror(e));
        }
        if (made)
            r->tr.destroy(r->tr.ctx);
        res->acked = r->acked_ok - (res->end_acked ? 1u : 0u);
        if (r->acked_bad > 0)
            bp_client_fail(res, "%u publishes completed with an error", (unsigned)r->acked_bad);
    }
    free(r);
    free(rx);
    free(tx);
    free(store);
    free(msg);
}
