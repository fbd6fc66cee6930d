/* bench_mosquitto: libmosquitto (2.0.x) driven the way its documentation suggests for speed.
 *   --loop threaded : mosquitto_loop_start() network thread; the main thread publishes and
 *                     waits on a condition variable only when the window is full.
 *   --loop manual   : one thread, poll() on mosquitto_socket() and mosquitto_loop_read /
 *                     mosquitto_loop_write / mosquitto_loop_misc (the documented external loop).
 * MOSQ_OPT_TCP_NODELAY on; mosquitto_max_inflight_messages_set(window) for QoS 1/2 (the 3.1.1
 * way; MOSQ_OPT_SEND_MAXIMUM is for MQTT 5 only); acks counted in on_publish. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <mosquitto.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* QoS 0 in threaded mode: the library queues without bound, so the publisher waits when more
 * than this many messages are queued but not yet written (on_publish fires on write). */
#define QOS0_BACKLOG 4096

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int waiting;             /* main thread is in cond_wait */
    volatile long published; /* on_publish calls (QoS 0: written; QoS 1/2: acked) */
    volatile int connected;  /* 1 ok, -1 refused */
    volatile int subscribed;
    volatile int disconnected;
    volatile long received;
    uint64_t last_rx_ns;
    uint64_t last_stamp;
} ctx_t;

static int g_threaded;

static void wake(ctx_t *c)
{
    if (!g_threaded)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->waiting)
        pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    ctx_t *c = ud;
    (void)m;
    c->connected = rc == 0 ? 1 : -1;
    wake(c);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    ctx_t *c = ud;
    (void)m;
    (void)rc;
    c->disconnected = 1;
    wake(c);
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    ctx_t *c = ud;
    (void)m;
    (void)mid;
    if (g_threaded) {
        pthread_mutex_lock(&c->mu);
        c->published++;
        if (c->waiting)
            pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
    } else {
        c->published++;
    }
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted)
{
    ctx_t *c = ud;
    (void)m;
    (void)mid;
    (void)n;
    (void)granted;
    c->subscribed = 1;
    wake(c);
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    ctx_t *c = ud;
    uint64_t now = bench_now_ns();
    (void)m;
    if (msg->payloadlen < 8)
        return;
    if (g_threaded)
        pthread_mutex_lock(&c->mu);
    c->last_rx_ns = now;
    c->last_stamp = bench_stamp_read(msg->payload);
    c->received++;
    if (g_threaded) {
        if (c->waiting)
            pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
}

/* Manual loop: one poll() over the given clients, then read / write / misc on each. */
static void pump(struct mosquitto **ms, int n, int timeout_ms)
{
    struct pollfd pf[2];
    int i, k = 0, idx[2];
    for (i = 0; i < n; i++) {
        int fd = mosquitto_socket(ms[i]);
        if (fd < 0)
            continue;
        pf[k].fd = fd;
        pf[k].events = POLLIN | (mosquitto_want_write(ms[i]) ? POLLOUT : 0);
        pf[k].revents = 0;
        idx[k++] = i;
    }
    if (k == 0)
        return;
    if (poll(pf, (nfds_t)k, timeout_ms) < 0)
        return;
    for (i = 0; i < k; i++) {
        struct mosquitto *m = ms[idx[i]];
        int rc = MOSQ_ERR_SUCCESS;
        if (pf[i].revents & (POLLIN | POLLERR | POLLHUP))
            rc = mosquitto_loop_read(m, 1);
        if (rc == MOSQ_ERR_SUCCESS && (pf[i].revents & POLLOUT))
            rc = mosquitto_loop_write(m, 1);
        if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
            bench_die("mosquitto: loop: %s", mosquitto_strerror(rc));
        mosquitto_loop_misc(m);
    }
}

/* Waits until *flag (read under the mutex in threaded mode) satisfies cond. */
#define WAIT_UNTIL(c, ms, n, cond)                                                                 \
    do {                                                                                           \
        if (g_threaded) {                                                                          \
            pthread_mutex_lock(&(c)->mu);                                                          \
            while (!(cond)) {                                                                      \
                (c)->waiting = 1;                                                                  \
                pthread_cond_wait(&(c)->cv, &(c)->mu);                                             \
                (c)->waiting = 0;                                                                  \
            }                                                                                      \
            pthread_mutex_unlock(&(c)->mu);                                                        \
        } else {                                                                                   \
            while (!(cond))                                                                        \
                pump((ms), (n), 1000);                                                             \
        }                                                                                          \
    } while (0)

static void ctx_init(ctx_t *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static struct mosquitto *make_client(const bench_opts *o, const char *suffix, ctx_t *c)
{
    char id[80];
    struct mosquitto *m;
    snprintf(id, sizeof(id), "%s%s", o->client_id, suffix);
    m = mosquitto_new(id, true, c);
    if (!m)
        bench_die("mosquitto_new failed");
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_disconnect_callback_set(m, on_disconnect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message);
    if (o->cafile != NULL) {
        int rc = mosquitto_tls_set(m, o->cafile, NULL, NULL, NULL, NULL);
        if (rc != MOSQ_ERR_SUCCESS)
            bench_die("mosquitto_tls_set: %s", mosquitto_strerror(rc));
    }
    return m;
}

/* Connects and waits for CONNACK; in threaded mode also starts the network thread. */
static void do_connect(const bench_opts *o, struct mosquitto *m, ctx_t *c)
{
    int rc;
    c->connected = 0;
    c->disconnected = 0;
    rc = mosquitto_connect(m, o->host, o->port, 60);
    if (rc != MOSQ_ERR_SUCCESS)
        bench_die("mosquitto_connect: %s", mosquitto_strerror(rc));
    if (g_threaded && (rc = mosquitto_loop_start(m)) != MOSQ_ERR_SUCCESS)
        bench_die("mosquitto_loop_start: %s", mosquitto_strerror(rc));
    WAIT_UNTIL(c, &m, 1, c->connected != 0);
    if (c->connected < 0)
        bench_die("mosquitto: connection refused");
}

static void do_disconnect(struct mosquitto *m, ctx_t *c)
{
    mosquitto_disconnect(m);
    if (g_threaded)
        mosquitto_loop_stop(m, false); /* loop thread ends after an explicit disconnect */
    else
        while (!c->disconnected && mosquitto_socket(m) >= 0)
            pump(&m, 1, 1000);
}

static void publish_or_die(struct mosquitto *m, const bench_opts *o, const void *pl, int qos)
{
    int rc = mosquitto_publish(m, NULL, o->topic, (int)o->payload, pl, qos, false);
    if (rc != MOSQ_ERR_SUCCESS)
        bench_die("mosquitto_publish: %s", mosquitto_strerror(rc));
}

static void run_throughput(const bench_opts *o, bench_result *r)
{
    ctx_t c;
    struct mosquitto *m;
    int qos = bench_mode_qos(o->mode);
    long window = qos ? o->window : QOS0_BACKLOG, sent = 0;
    unsigned char *pl = malloc((size_t)o->payload + 1);
    bench_timer t;
    if (!pl)
        bench_die("out of memory");
    memset(pl, 0x55, (size_t)o->payload);
    ctx_init(&c);
    m = make_client(o, "", &c);
    if (qos)
        mosquitto_max_inflight_messages_set(m, (unsigned)o->window);
    do_connect(o, m, &c);

    bench_timer_start(&t);
    if (g_threaded) {
        while (sent < o->count) {
            if (sent - c.published >= window) {
                pthread_mutex_lock(&c.mu);
                while (sent - c.published >= window) {
                    c.waiting = 1;
                    pthread_cond_wait(&c.cv, &c.mu);
                    c.waiting = 0;
                }
                pthread_mutex_unlock(&c.mu);
            }
            publish_or_die(m, o, pl, qos);
            sent++;
        }
    } else if (qos) {
        while (c.published < o->count) {
            while (sent < o->count && sent - c.published < window) {
                publish_or_die(m, o, pl, qos);
                sent++;
            }
            pump(&m, 1, 1000);
        }
    } else {
        /* Manual QoS 0: mosquitto_publish writes straight to the socket when it can; run the
         * loop only when the library has bytes it could not write. */
        while (sent < o->count) {
            publish_or_die(m, o, pl, 0);
            sent++;
            while (mosquitto_want_write(m))
                pump(&m, 1, 1000);
        }
    }
    if (qos == 0) {
        /* Fence: on_publish fires on write for QoS 0 and on PUBACK for the QoS 1 fence, which
         * the broker sends only after it has read every QoS 0 message before it. */
        publish_or_die(m, o, pl, 1);
        WAIT_UNTIL(&c, &m, 1, c.published >= o->count + 1);
    } else {
        WAIT_UNTIL(&c, &m, 1, c.published >= o->count);
    }
    bench_timer_stop(&t, r);
    do_disconnect(m, &c);
    mosquitto_destroy(m);
    free(pl);
}

static void run_latency(const bench_opts *o, bench_result *r)
{
    ctx_t cp, cs;
    struct mosquitto *pub, *sub, *both[2];
    size_t plen = o->payload < 8 ? 8 : (size_t)o->payload;
    unsigned char *pl = calloc(1, plen);
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
    do_connect(o, sub, &cs);
    do_connect(o, pub, &cp);
    both[0] = pub;
    both[1] = sub;
    if (mosquitto_subscribe(sub, NULL, o->topic, 0) != MOSQ_ERR_SUCCESS)
        bench_die("mosquitto_subscribe failed");
    WAIT_UNTIL(&cs, both, 2, cs.subscribed);

    bench_timer_start(&t);
    for (i = 0; i < o->count; i++) {
        uint64_t t0 = bench_now_ns();
        int rc;
        bench_stamp_write(pl, t0);
        rc = mosquitto_publish(pub, NULL, o->topic, (int)plen, pl, 0, false);
        if (rc != MOSQ_ERR_SUCCESS)
            bench_die("mosquitto_publish: %s", mosquitto_strerror(rc));
        WAIT_UNTIL(&cs, both, 2, cs.received > i && cs.last_stamp == t0);
        lat[i] = (double)(cs.last_rx_ns - t0) / 1e3;
    }
    bench_timer_stop(&t, r);
    r->p50_us = bench_percentile(lat, (size_t)o->count, 50);
    r->p99_us = bench_percentile(lat, (size_t)o->count, 99);
    do_disconnect(pub, &cp);
    do_disconnect(sub, &cs);
    mosquitto_destroy(pub);
    mosquitto_destroy(sub);
    free(pl);
    free(lat);
}

/* One handle reused; each cycle is a fresh TCP connection and MQTT session. */
static void run_cycles(const bench_opts *o, bench_result *r)
{
    ctx_t c;
    struct mosquitto *m;
    unsigned char *pl = malloc((size_t)o->payload + 1);
    bench_timer t;
    bench_cycle_clock cc;
    long i;
    if (!pl)
        bench_die("out of memory");
    memset(pl, 0x55, (size_t)o->payload);
    ctx_init(&c);
    m = make_client(o, "", &c);
    bench_cycles_init(&cc, o->count);
    bench_timer_start(&t);
    for (i = 0; i < o->count; i++) {
        long before = c.published;
        bench_cycle_start(&cc);
        do_connect(o, m, &c);
        publish_or_die(m, o, pl, 1);
        WAIT_UNTIL(&c, &m, 1, c.published > before);
        do_disconnect(m, &c);
        bench_cycle_stop(&cc);
    }
    bench_timer_stop(&t, r);
    bench_cycles_finish(&cc, r);
    mosquitto_destroy(m);
    free(pl);
}

int main(int argc, char **argv)
{
    bench_opts o;
    bench_result r = {-1, -1, -1, -1, -1};
    bench_parse(argc, argv, "mosquitto", &o);
    if (o.loop == NULL || strcmp(o.loop, "manual") == 0)
        g_threaded = 0;
    else if (strcmp(o.loop, "threaded") == 0)
        g_threaded = 1;
    else
        bench_die("--loop must be manual or threaded");
    mosquitto_lib_init();
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
    bench_print("libmosquitto", &o, &r, 1);
    mosquitto_lib_cleanup();
    return 0;
}
