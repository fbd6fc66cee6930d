/*
 * The threaded client (client.h) in the matrix: the background thread runs
 * the connection while this thread publishes; a publish that finds the send
 * buffer (tx_buffer_size) or the QoS 1 window full blocks until there is
 * room (publish_block_ms), the way a gateway application uses it. Automatic
 * reconnect is off: a connection the peer ended stays ended, so a cell that
 * went wrong shows it instead of papering over it.
 */
#include "bp_drive.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/client.h"

#define BLOCK_MS 60000u

typedef struct acks {
    pthread_mutex_t mu; /* the callback runs on the client's thread */
    uint32_t ok, failed;
    kmqtt_err_t last_err;
} acks_t;

static void on_done(kmqtt_client_t *c, uint16_t id, kmqtt_err_t err, uint8_t reason, void *ctx)
{
    acks_t *a = ctx;
    (void)c;
    (void)id;
    pthread_mutex_lock(&a->mu);
    if (err == KMQTT_OK && reason < 0x80)
        a->ok++;
    else {
        a->failed++;
        a->last_err = err;
    }
    pthread_mutex_unlock(&a->mu);
}

void bp_drive_threaded(const bp_drive_t *d, bp_client_result_t *r)
{
    kmqtt_client_options_t o;
    kmqtt_transport_t tr;
    kmqtt_client_t *c = NULL;
    acks_t acks;
    uint8_t *msg = malloc(BP_MSG_MAX), end[4];
    kmqtt_publish_result_t end_pub;
    uint32_t n;
    kmqtt_err_t e;

    memset(r, 0, sizeof(*r));
    memset(&acks, 0, sizeof(acks));
    pthread_mutex_init(&acks.mu, NULL);
    if (msg == NULL) {
        bp_client_fail(r, "out of memory");
        goto out;
    }
    e = bp_stack_create(d, &tr);
    if (e != KMQTT_OK) {
        bp_client_fail(r, "transport: %s", kmqtt_strerror(e));
        goto out;
    }
    kmqtt_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = d->port;
    o.client_id = "bp-threaded";
    o.tx_buffer_size = d->tx_size;
    /* Room for the whole QoS 1 window of the largest messages, so the
     * window (not the store) sets how much is in flight. */
    o.max_inflight = 250;
    o.store_size =
        d->sizes == BP_SIZES_SMALL || d->sizes == BP_SIZES_512 ? 256u * 1024u : 2048u * 1024u;
    o.publish_block_ms = BLOCK_MS;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.transport = &tr;
    o.mem = d->mem;
    o.on_publish_done = on_done;
    o.ctx = &acks;
    e = kmqtt_client_create(&o, &c);
    if (e != KMQTT_OK) {
        tr.destroy(tr.ctx);
        bp_client_fail(r, "create: %s", kmqtt_strerror(e));
        goto out;
    }
    e = kmqtt_connect(c, 10000, NULL);
    if (e == KMQTT_OK)
        e = kmqtt_start(c);
    if (e != KMQTT_OK) {
        bp_client_fail(r, "connect: %s", kmqtt_strerror(e));
        goto out;
    }
    for (n = 0; n < d->count; n++) {
        size_t len = bp_msg_fill(d->sizes, n, msg);
        e = kmqtt_publish(c, BP_TOPIC, msg, len, d->qos, false, NULL, NULL);
        if (e != KMQTT_OK) {
            bp_client_fail(r, "publish of message %u: %s", (unsigned)n, kmqtt_strerror(e));
            goto out;
        }
        r->sent++;
    }
    bp_put_be32(end, d->count);
    e = kmqtt_publish(c, BP_END_TOPIC, end, sizeof(end), 1, false, NULL, &end_pub);
    if (e == KMQTT_OK)
        e = kmqtt_publish_wait(c, end_pub.packet_id, d->timeout_ms, NULL);
    if (e != KMQTT_OK) {
        bp_client_fail(r, "end marker: %s", kmqtt_strerror(e));
        goto out;
    }
    r->end_acked = true;
    /* QoS 1 acks come in order: after the end marker's, none is owed. */
    e = kmqtt_publish_wait_all(c, 1000);
    if (e != KMQTT_OK)
        bp_client_fail(r, "QoS 1 still in flight after the end marker: %s", kmqtt_strerror(e));
out:
    if (c != NULL) {
        e = kmqtt_disconnect(c, NULL);
        if (e != KMQTT_OK && r->end_acked)
            bp_client_fail(r, "disconnect: %s", kmqtt_strerror(e));
        kmqtt_client_destroy(c);
    }
    /* The client's thread has ended: the counts are final. */
    pthread_mutex_lock(&acks.mu);
    r->acked = acks.ok - (r->end_acked ? 1u : 0u);
    if (acks.failed > 0)
        bp_client_fail(r, "%u publishes completed with an error (last %s)", (unsigned)acks.failed,
                       kmqtt_strerror(acks.last_err));
    pthread_mutex_unlock(&acks.mu);
    pthread_mutex_destroy(&acks.mu);
    free(msg);
}
