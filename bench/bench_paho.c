/* bench_paho: paho.mqtt.c asynchronous API (MQTTAsync, libpaho-mqtt3a). The library runs its own
 * send and receive threads; completions arrive in onSuccess callbacks (fired on write for QoS 0,
 * on PUBACK / PUBCOMP for QoS 1 / 2). The main thread keeps `window` messages in flight (and
 * sets maxInflight to the same), waiting on a condition variable only when the window is full.
 * Persistence off (MQTTCLIENT_PERSISTENCE_NONE), sendWhileDisconnected off, MQTT 3.1.1. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* QoS 0: the library's command queue is unbounded, so the publisher waits when more than this
 * many messages are queued but not yet written. */
#define QOS0_BACKLOG 4096

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int waiting;
    volatile long done;      /* publish onSuccess calls */
    volatile int connected;  /* 1 ok, -1 failed */
    volatile int subscribed; /* 1 ok, -1 failed */
    volatile int disconnected;
    volatile int failed; /* a publish failed */
    volatile long received;
    uint64_t last_rx_ns, last_stamp;
} ctx_t;

static void wake_locked(ctx_t *c)
{
    if (c->waiting)
        pthread_cond_signal(&c->cv);
}

#define SET_AND_WAKE(c, stmt)                                                                      \
    do {                                                                                           \
        pthread_mutex_lock(&(c)->mu);                                                              \
        stmt;                                                                                      \
        wake_locked(c);                                                                            \
        pthread_mutex_unlock(&(c)->mu);                                                            \
    } while (0)

#define WAIT_UNTIL(c, cond)                                                                        \
    do {                                                                                           \
        pthread_mutex_lock(&(c)->mu);                                                              \
        while (!(cond)) {                                                                          \
            (c)->waiting = 1;                                                                      \
            pthread_cond_wait(&(c)->cv, &(c)->mu);                                                 \
            (c)->waiting = 0;                                                                      \
        }                                                                                          \
        pthread_mutex_unlock(&(c)->mu);                                                            \
    } while (0)

static void on_conn_ok(void *ctx, MQTTAsync_successData *d)
{
    ctx_t *c = ctx;
    (void)d;
    SET_AND_WAKE(c, c->connected = 1);
}
static void on_conn_fail(void *ctx, MQTTAsync_failureData *d)
{
    ctx_t *c = ctx;
    (void)d;
    SET_AND_WAKE(c, c->connected = -1);
}
static void on_sub_ok(void *ctx, MQTTAsync_successData *d)
{
    ctx_t *c = ctx;
    (void)d;
    SET_AND_WAKE(c, c->subscribed = 1);
}
static void on_sub_fail(void *ctx, MQTTAsync_failureData *d)
{
    ctx_t *c = ctx;
    (void)d;
    SET_AND_WAKE(c, c->subscribed = -1);
}
static void on_pub_ok(void *ctx, MQTTAsync_successData *d)
{
    ctx_t *c = ctx;
    (void)d;
    SET_AND_WAKE(c, c->done++);
}
static void on_pub_fail(void *ctx, MQTTAsync_failureData *d)
{
    ctx_t *c = ctx;
    (void)d;
    SET_AND_WAKE(c, c->failed = 1);
}
static void on_disc_ok(void *ctx, MQTTAsync_successData *d)
{
    ctx_t *c = ctx;
    (void)d;
    SET_AND_WAKE(c, c->disconnected = 1);
}
static void on_disc_fail(void *ctx, MQTTAsync_failureData *d)
{
    ctx_t *c = ctx;
    (void)d;
    SET_AND_WAKE(c, c->disconnected = 1);
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    bench_die("paho: connection lost: %s", cause ? cause : "?");
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *msg)
{
    ctx_t *c = ctx;
    uint64_t now = bench_now_ns();
    (void)tlen;
    if (msg->payloadlen >= 8) {
        uint64_t st = bench_stamp_read(msg->payload);
        SET_AND_WAKE(c, (c->last_rx_ns = now, c->last_stamp = st, c->received++));
    }
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

static void ctx_init(ctx_t *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static const char *g_cafile; /* --cafile: ssl:// (bench_paho_tls, linked with paho-mqtt3as) */

static MQTTAsync make_client(const bench_opts *o, const char *suffix, ctx_t *c)
{
    MQTTAsync h;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    char uri[300], id[80];
    int rc;
    g_cafile = o->cafile;
    snprintf(uri, sizeof(uri), "%s://%s:%d", o->cafile ? "ssl" : "tcp", o->host, o->port);
    snprintf(id, sizeof(id), "%s%s", o->client_id, suffix);
    co.sendWhileDisconnected = 0;
    /* paho counts every queued command against maxBufferedMessages even while connected
     * (default 100), so it must cover the publisher's window / QoS 0 backlog. */
    co.maxBufferedMessages = QOS0_BACKLOG + (o->window > 0 ? o->window : 0) + 64;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    rc = MQTTAsync_createWithOptions(&h, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (rc != MQTTASYNC_SUCCESS)
        bench_die("MQTTAsync_createWithOptions: %d", rc);
    if (MQTTAsync_setCallbacks(h, c, on_lost, on_message, NULL) != MQTTASYNC_SUCCESS)
        bench_die("MQTTAsync_setCallbacks failed");
    return h;
}

static void do_connect(MQTTAsync h, ctx_t *c, int inflight)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_SSLOptions so = MQTTAsync_SSLOptions_initializer;
    int rc;
    if (g_cafile != NULL) {
        so.trustStore = g_cafile;
        so.enableServerCertAuth = 1;
        so.verify = 1;
        co.ssl = &so;
    }
    co.keepAliveInterval = 60;
    co.cleansession = 1;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.maxInflight = inflight;
    co.automaticReconnect = 0;
    co.onSuccess = on_conn_ok;
    co.onFailure = on_conn_fail;
    co.context = c;
    c->connected = 0;
    c->disconnected = 0;
    if ((rc = MQTTAsync_connect(h, &co)) != MQTTASYNC_SUCCESS)
        bench_die("MQTTAsync_connect: %d", rc);
    WAIT_UNTIL(c, c->connected != 0);
    if (c->connected < 0)
        bench_die("paho: connect failed");
}

static void do_disconnect(MQTTAsync h, ctx_t *c)
{
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 0;
    d.onSuccess = on_disc_ok;
    d.onFailure = on_disc_fail;
    d.context = c;
    if (MQTTAsync_disconnect(h, &d) != MQTTASYNC_SUCCESS)
        bench_die("MQTTAsync_disconnect failed");
    WAIT_UNTIL(c, c->disconnected);
}

static void send_msg(MQTTAsync h, const bench_opts *o, ctx_t *c, void *pl, int len, int qos)
{
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    int rc;
    m.payload = pl;
    m.payloadlen = len;
    m.qos = qos;
    m.retained = 0;
    ro.onSuccess = on_pub_ok;
    ro.onFailure = on_pub_fail;
    ro.context = c;
    if ((rc = MQTTAsync_sendMessage(h, o->topic, &m, &ro)) != MQTTASYNC_SUCCESS)
        bench_die("MQTTAsync_sendMessage: %d", rc);
}

static void run_throughput(const bench_opts *o, bench_result *r)
{
    ctx_t c;
    MQTTAsync h;
    int qos = bench_mode_qos(o->mode);
    long window = qos ? o->window : QOS0_BACKLOG, sent = 0;
    unsigned char *pl = malloc((size_t)o->payload + 1);
    bench_timer t;
    if (!pl)
        bench_die("out of memory");
    memset(pl, 0x55, (size_t)o->payload);
    ctx_init(&c);
    h = make_client(o, "", &c);
    do_connect(h, &c, qos ? o->window : 65535);

    bench_timer_start(&t);
    while (sent < o->count) {
        if (sent - c.done >= window)
            WAIT_UNTIL(&c, sent - c.done < window || c.failed);
        if (c.failed)
            bench_die("paho: publish failed");
        send_msg(h, o, &c, pl, (int)o->payload, qos);
        sent++;
    }
    if (qos == 0) {
        /* Fence: QoS 0 completions fire on write; the QoS 1 fence completes on PUBACK. */
        send_msg(h, o, &c, pl, (int)o->payload, 1);
        WAIT_UNTIL(&c, c.done >= o->count + 1 || c.failed);
    } else {
        WAIT_UNTIL(&c, c.done >= o->count || c.failed);
    }
    bench_timer_stop(&t, r);
    if (c.failed)
        bench_die("paho: publish failed");
    do_disconnect(h, &c);
    MQTTAsync_destroy(&h);
    free(pl);
}

static void run_latency(const bench_opts *o, bench_result *r)
{
    ctx_t cp, cs;
    MQTTAsync pub, sub;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    size_t plen = o->payload < 8 ? 8 : (size_t)o->payload;
    unsigned char *pl = malloc(plen);
    double *lat = malloc(sizeof(double) * (size_t)o->count);
    bench_timer t;
    long i;
    if (!pl || !lat)
        bench_die("out of memory");
    memset(pl, 0x55, plen);
    ctx_init(&cp);
    ctx_init(&cs);
    sub = make_client(o, "-s", &cs);
    pub = make_client(o, "-p", &cp);
    do_connect(sub, &cs, 65535);
    do_connect(pub, &cp, 65535);
    ro.onSuccess = on_sub_ok;
    ro.onFailure = on_sub_fail;
    ro.context = &cs;
    if (MQTTAsync_subscribe(sub, o->topic, 0, &ro) != MQTTASYNC_SUCCESS)
        bench_die("MQTTAsync_subscribe failed");
    WAIT_UNTIL(&cs, cs.subscribed != 0);
    if (cs.subscribed < 0)
        bench_die("paho: subscribe failed");

    bench_timer_start(&t);
    for (i = 0; i < o->count; i++) {
        uint64_t t0 = bench_now_ns();
        bench_stamp_write(pl, t0);
        send_msg(pub, o, &cp, pl, (int)plen, 0);
        WAIT_UNTIL(&cs, cs.received > i && cs.last_stamp == t0);
        lat[i] = (double)(cs.last_rx_ns - t0) / 1e3;
    }
    bench_timer_stop(&t, r);
    r->p50_us = bench_percentile(lat, (size_t)o->count, 50);
    r->p99_us = bench_percentile(lat, (size_t)o->count, 99);
    do_disconnect(pub, &cp);
    do_disconnect(sub, &cs);
    MQTTAsync_destroy(&pub);
    MQTTAsync_destroy(&sub);
    free(pl);
    free(lat);
}

/* Each cycle: create a handle, connect, one QoS 1 publish, disconnect, destroy. Reusing one
 * handle is about 6x slower with paho 1.3 (the next MQTTAsync_connect waits ~1.1 s for the
 * library's receive thread), so a fresh handle per cycle is paho's fast path. paho's internal
 * sleeps still make a cycle take tens of milliseconds of wall time, so the run stops after
 * CYCLES_WALL_CAP_S seconds and reports the cycles it completed as count. */
#define CYCLES_WALL_CAP_S 30

static void run_cycles(bench_opts *o, bench_result *r)
{
    ctx_t c;
    unsigned char *pl = malloc((size_t)o->payload + 1);
    bench_timer t;
    bench_cycle_clock cc;
    uint64_t cap_ns;
    long i;
    if (!pl)
        bench_die("out of memory");
    memset(pl, 0x55, (size_t)o->payload);
    ctx_init(&c);
    bench_cycles_init(&cc, o->count);
    bench_timer_start(&t);
    cap_ns = t.t0_ns + (uint64_t)CYCLES_WALL_CAP_S * 1000000000u;
    for (i = 0; i < o->count; i++) {
        MQTTAsync h;
        long before = c.done;
        bench_cycle_start(&cc);
        h = make_client(o, "", &c);
        do_connect(h, &c, 65535);
        send_msg(h, o, &c, pl, (int)o->payload, 1);
        WAIT_UNTIL(&c, c.done > before || c.failed);
        if (c.failed)
            bench_die("paho: publish failed");
        do_disconnect(h, &c);
        MQTTAsync_destroy(&h);
        bench_cycle_stop(&cc);
        if (bench_now_ns() > cap_ns && i + 1 < o->count) {
            fprintf(stderr, "paho: cycles stopped at the %d s cap after %ld cycles\n",
                    CYCLES_WALL_CAP_S, i + 1);
            o->count = i + 1;
            break;
        }
    }
    bench_timer_stop(&t, r);
    bench_cycles_finish(&cc, r);
    free(pl);
}

int main(int argc, char **argv)
{
    bench_opts o;
    bench_result r = {-1, -1, -1, -1, -1};
    bench_parse(argc, argv, "paho", &o);
    switch (o.mode) {
    case MODE_QOS0:
    case MODE_QOS1:
    case MODE_QOS2:
        run_throughput(&o, &r);
        break;
    case MODE_LATENCY:
        run_latency(&o, &r);
        break;
    case MODE_CYCLES:
        run_cycles(&o, &r);
        break;
    }
    bench_print("paho", &o, &r, 1);
    return 0;
}
