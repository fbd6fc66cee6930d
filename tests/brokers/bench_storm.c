/*
 * kmqtt-storm: many clients from one process against a private broker
 * cluster (issue 22). A benchmark, not a test: it prints numbers and
 * asserts nothing about speed (make bench-storm; docs/brokers.md).
 *
 *   kmqtt-storm [--broker rabbitmq|ejabberd|mosquitto] [--nodes N]
 *               [--clients N] [--msgs M] [--jitter MS] [--mode nano|threaded|both]
 *
 * Starts the broker's nodes (support/bk_nodes.c), then for each mode:
 *  - connect storm: client i is spread over the nodes (i mod nodes) and
 *    starts at a random time in [0, jitter) ms; its connect time is from
 *    that moment to its CONNACK;
 *  - each client publishes M QoS 1 messages to a topic of its own and
 *    waits for every PUBACK; CPU per message is the process's user + system
 *    time over that phase divided by the messages;
 *  - memory per client: what the clients hold (nano: the client, its
 *    buffers and its transport; threaded: the library's own accounting of
 *    every block the clients allocated) and the resident set's growth over
 *    the storm (threaded: thread stacks included), each divided by N.
 * nano: every client in the calling thread, polled in turn (a 1 ms sleep
 * per round when nothing happened). threaded: kmqtt_client_t with its
 * background thread (kmqtt_start), connected from a short-lived thread of
 * its own at its jittered time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bk_nodes.h"
#include "kmqtt/client.h"
#include "kmqtt/nano.h"
#include "kmqtt/port.h"

#define ST_RX    512u
#define ST_TX    512u
#define ST_STORE 2048u

static struct {
    bk_kind_t kind;
    int nodes;
    unsigned clients, msgs, jitter_ms;
    bool nano, threaded;
    bk_cluster_t *cl;
    const char *username;
} st = {BK_RABBITMQ, 3, 1000, 10, 3000, true, true, NULL, NULL};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static size_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Connect times (ms): p50, p95, max, printed with the mode's name. */
static void print_connect(const char *mode, uint64_t *ms, unsigned n, unsigned failed,
                          uint64_t storm_ms)
{
    qsort(ms, n, sizeof ms[0], cmp_u64);
    printf("%s: connect storm: %u clients over %d node(s), jitter %u ms: %u connected, %u "
           "failed, all in %llu ms; connect time p50 %llu ms, p95 %llu ms, max %llu ms\n",
           mode, st.clients, st.nodes, st.jitter_ms, n, failed, (unsigned long long)storm_ms,
           (unsigned long long)(n ? ms[n / 2] : 0),
           (unsigned long long)(n ? ms[(n * 95) / 100] : 0),
           (unsigned long long)(n ? ms[n - 1] : 0));
}

static uint64_t start_offset(void)
{
    return st.jitter_ms == 0 ? 0 : (uint64_t)(rand() % (int)st.jitter_ms);
}

/* ------------------------------------------------------------------ nano */

typedef struct nslot {
    kmqtt_nano_t c;
    kmqtt_transport_t tr;
    uint8_t rx[ST_RX], tx[ST_TX], store[ST_STORE];
    kmqtt_nano_buffers_t bufs;
    kmqtt_nano_config_t cfg;
    char id[48], topic[64];
    uint64_t start_at, connect_ms;
    bool started, connected, failed;
    unsigned sent, acked;
} nslot_t;

static unsigned nano_events;

static void nano_event(void *user, const kmqtt_nano_event_t *ev)
{
    nslot_t *s = user;
    nano_events++;
    if (ev->type == KMQTT_NANO_EV_CONNECTED && !s->connected) {
        s->connected = true;
        s->connect_ms = mono_ms() - s->start_at;
    } else if (ev->type == KMQTT_NANO_EV_PUBLISHED && ev->err == KMQTT_OK) {
        s->acked++;
    }
}

/* One round over every started client; true if anything happened. */
static bool nano_round(nslot_t *s, unsigned n)
{
    unsigned before = nano_events, i;
    uint32_t now = (uint32_t)mono_ms();
    for (i = 0; i < n; i++) {
        if (s[i].started)
            (void)kmqtt_nano_poll(&s[i].c, now, NULL);
    }
    return nano_events != before;
}

static int run_nano(kmqtt_mem_t *mem)
{
    nslot_t *s = calloc(st.clients, sizeof *s);
    uint64_t *ms = calloc(st.clients, sizeof *ms);
    size_t rss0 = rss_bytes(), rss1;
    unsigned i, connected = 0, failed = 0, acked, want;
    uint64_t t0, deadline, tpub;
    double cpu0;

    if (s == NULL || ms == NULL)
        return -1;
    for (i = 0; i < st.clients; i++) {
        nslot_t *x = &s[i];
        if (kmqtt_port_tcp_create(mem, &x->tr) != KMQTT_OK)
            return -1;
        kmqtt_nano_config_init(&x->cfg);
        snprintf(x->id, sizeof x->id, "storm-n%u-%ld", i, (long)getpid());
        snprintf(x->topic, sizeof x->topic, "storm/%ld/n%u", (long)getpid(), i);
        x->cfg.transport = &x->tr;
        x->cfg.host = "127.0.0.1";
        x->cfg.port = bk_port(st.cl, (int)(i % (unsigned)st.nodes));
        x->cfg.mqtt.client_id = x->id;
        x->cfg.mqtt.keepalive_s = 120;
        x->cfg.reconnect_min_ms = 500;
        x->cfg.reconnect_max_ms = 4000;
        x->cfg.mqtt.max_inflight = 8;
        x->cfg.on_event = nano_event;
        x->cfg.user = x;
        if (st.username != NULL) {
            x->cfg.mqtt.username = st.username;
            x->cfg.mqtt.password = (const uint8_t *)"x";
            x->cfg.mqtt.password_len = 1;
        }
        x->bufs.rx = x->rx;
        x->bufs.rx_size = sizeof x->rx;
        x->bufs.tx = x->tx;
        x->bufs.tx_size = sizeof x->tx;
        x->bufs.store = x->store;
        x->bufs.store_size = sizeof x->store;
        if (kmqtt_nano_init(&x->c, &x->cfg, &x->bufs) != KMQTT_OK)
            return -1;
    }
    t0 = mono_ms();
    for (i = 0; i < st.clients; i++)
        s[i].start_at = t0 + start_offset();
    deadline = t0 + st.jitter_ms + 60000u;
    while (connected + failed < st.clients && mono_ms() < deadline) {
        uint64_t now = mono_ms();
        for (i = 0; i < st.clients; i++) {
            if (!s[i].started && now >= s[i].start_at) {
                s[i].started = true;
                s[i].start_at = now;
                if (kmqtt_nano_connect(&s[i].c, (uint32_t)now) != KMQTT_OK) {
                    s[i].failed = true;
                    failed++;
                }
            }
        }
        if (!nano_round(s, st.clients))
            nap_ms(1);
        connected = 0;
        for (i = 0; i < st.clients; i++)
            connected += s[i].connected;
    }
    for (i = 0, connected = 0; i < st.clients; i++) {
        if (s[i].connected)
            ms[connected++] = s[i].connect_ms;
    }
    print_connect("nano", ms, connected, st.clients - connected, mono_ms() - t0);
    rss1 = rss_bytes();

    /* Publish: M QoS 1 messages per client, then every PUBACK. */
    cpu0 = cpu_s();
    tpub = mono_ms();
    want = connected * st.msgs;
    deadline = tpub + 120000u;
    for (;;) {
        uint32_t now = (uint32_t)mono_ms();
        acked = 0;
        for (i = 0; i < st.clients; i++) {
            kmqtt_nano_msg_t m;
            char p[16];
            if (!s[i].connected)
                continue;
            while (s[i].sent < st.msgs) {
                memset(&m, 0, sizeof m);
                snprintf(p, sizeof p, "m%u", s[i].sent);
                m.topic = s[i].topic;
                m.topic_len = (uint16_t)strlen(s[i].topic);
                m.qos = 1;
                m.payload = (const uint8_t *)p;
                m.payload_len = strlen(p);
                if (kmqtt_nano_publish(&s[i].c, &m, now, NULL) != KMQTT_OK)
                    break; /* window full: after the acks */
                s[i].sent++;
            }
            acked += s[i].acked;
        }
        if (acked >= want || mono_ms() >= deadline)
            break;
        if (!nano_round(s, st.clients))
            nap_ms(1);
    }
    printf("nano: publish: %u QoS 1 messages acknowledged of %u in %llu ms; CPU %.1f us per "
           "message (one thread, polling included)\n",
           acked, want, (unsigned long long)(mono_ms() - tpub), (cpu_s() - cpu0) * 1e6 / acked);
    printf("nano: memory per client: %zu bytes (kmqtt_nano_t %zu + rx %u + tx %u + store %u + "
           "transport %zu); resident set grew %zu bytes per client over the storm\n",
           sizeof(kmqtt_nano_t) + ST_RX + ST_TX + ST_STORE + kmqtt_port_tcp_size(),
           sizeof(kmqtt_nano_t), ST_RX, ST_TX, ST_STORE, kmqtt_port_tcp_size(),
           rss1 > rss0 ? (rss1 - rss0) / st.clients : 0);
    for (i = 0; i < st.clients; i++) {
        if (kmqtt_nano_state(&s[i].c) != KMQTT_NANO_IDLE)
            (void)kmqtt_nano_disconnect(&s[i].c, 0, 1000);
        s[i].tr.destroy(s[i].tr.ctx);
    }
    free(s);
    free(ms);
    return acked == want && connected == st.clients ? 0 : 1;
}

/* -------------------------------------------------------------- threaded */

typedef struct tslot {
    kmqtt_client_t *c;
    pthread_t th;
    char id[48], topic[64];
    unsigned offset_ms;
    uint64_t connect_ms;
    kmqtt_err_t err;
} tslot_t;

static void *t_connect(void *arg)
{
    tslot_t *s = arg;
    uint64_t t;
    nap_ms(s->offset_ms);
    t = mono_ms();
    s->err = kmqtt_connect(s->c, 0, NULL);
    s->connect_ms = mono_ms() - t;
    if (s->err == KMQTT_OK)
        s->err = kmqtt_start(s->c);
    return NULL;
}

static int run_threaded(kmqtt_mem_t *mem)
{
    tslot_t *s = calloc(st.clients, sizeof *s);
    uint64_t *ms = calloc(st.clients, sizeof *ms);
    size_t rss0 = rss_bytes(), rss1;
    unsigned i, connected = 0, published = 0, flushed = 0;
    uint64_t t0, tpub;
    kmqtt_mem_stats_t ms0, ms1;
    double cpu0;

    if (s == NULL || ms == NULL)
        return -1;
    kmqtt_mem_get_stats(mem, &ms0);
    for (i = 0; i < st.clients; i++) {
        kmqtt_client_options_t o;
        kmqtt_client_options_init(&o);
        snprintf(s[i].id, sizeof s[i].id, "storm-t%u-%ld", i, (long)getpid());
        snprintf(s[i].topic, sizeof s[i].topic, "storm/%ld/t%u", (long)getpid(), i);
        o.host = "127.0.0.1";
        o.port = bk_port(st.cl, (int)(i % (unsigned)st.nodes));
        o.client_id = s[i].id;
        o.keepalive_s = 120;
        o.connect_timeout_ms = 30000;
        o.publish_block_ms = 30000; /* a full window waits for acks */
        o.mem = mem;
        if (st.username != NULL) {
            o.username = st.username;
            o.password = "x";
            o.password_len = 1;
        }
        if (kmqtt_client_create(&o, &s[i].c) != KMQTT_OK)
            return -1;
        s[i].offset_ms = (unsigned)start_offset();
    }
    t0 = mono_ms();
    for (i = 0; i < st.clients; i++) {
        if (pthread_create(&s[i].th, NULL, t_connect, &s[i]) != 0)
            return -1;
    }
    for (i = 0; i < st.clients; i++) {
        pthread_join(s[i].th, NULL);
        if (s[i].err == KMQTT_OK)
            ms[connected++] = s[i].connect_ms;
    }
    print_connect("threaded", ms, connected, st.clients - connected, mono_ms() - t0);
    rss1 = rss_bytes();
    kmqtt_mem_get_stats(mem, &ms1);

    cpu0 = cpu_s();
    tpub = mono_ms();
    for (i = 0; i < st.clients; i++) {
        unsigned k;
        char p[16];
        if (s[i].err != KMQTT_OK)
            continue;
        for (k = 0; k < st.msgs; k++) {
            snprintf(p, sizeof p, "m%u", k);
            /* Blocks while the in-flight window is full (publish_block_ms). */
            if (kmqtt_publish(s[i].c, s[i].topic, p, strlen(p), 1, false, NULL, NULL) == KMQTT_OK)
                published++;
        }
    }
    for (i = 0; i < st.clients; i++) {
        if (s[i].err == KMQTT_OK && kmqtt_flush(s[i].c, 60000) == KMQTT_OK)
            flushed++;
    }
    printf("threaded: publish: %u QoS 1 messages, %u of %u clients flushed (every PUBACK) in "
           "%llu ms; CPU %.1f us per message (every thread of the process)\n",
           published, flushed, connected, (unsigned long long)(mono_ms() - tpub),
           (cpu_s() - cpu0) * 1e6 / (published ? published : 1));
    printf("threaded: memory per client: %zu bytes allocated by the library (%zu blocks); "
           "resident set grew %zu bytes per client over the storm (thread stacks included)\n",
           (ms1.bytes - ms0.bytes) / st.clients, (ms1.blocks - ms0.blocks) / st.clients,
           rss1 > rss0 ? (rss1 - rss0) / st.clients : 0);
    for (i = 0; i < st.clients; i++)
        kmqtt_client_destroy(s[i].c);
    free(s);
    free(ms);
    return flushed == st.clients ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: kmqtt-storm [--broker rabbitmq|ejabberd|mosquitto] [--nodes N] "
                    "[--clients N] [--msgs M] [--jitter MS] [--mode nano|threaded|both]\n");
    return 2;
}

int main(int argc, char **argv)
{
    kmqtt_mem_t mem;
    uint64_t boot = 0;
    int i, rc = 0;

    for (i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--broker") == 0) {
            if (strcmp(v, "rabbitmq") == 0)
                st.kind = BK_RABBITMQ;
            else if (strcmp(v, "ejabberd") == 0)
                st.kind = BK_EJABBERD;
            else if (strcmp(v, "mosquitto") == 0)
                st.kind = BK_MOSQUITTO;
            else
                return usage();
        } else if (strcmp(k, "--nodes") == 0) {
            st.nodes = atoi(v);
        } else if (strcmp(k, "--clients") == 0) {
            st.clients = (unsigned)atoi(v);
        } else if (strcmp(k, "--msgs") == 0) {
            st.msgs = (unsigned)atoi(v);
        } else if (strcmp(k, "--jitter") == 0) {
            st.jitter_ms = (unsigned)atoi(v);
        } else if (strcmp(k, "--mode") == 0) {
            st.nano = strcmp(v, "threaded") != 0;
            st.threaded = strcmp(v, "nano") != 0;
        } else {
            return usage();
        }
    }
    if (i != argc || st.clients == 0 || st.nodes < 1 || st.nodes > BK_MAX_NODES)
        return usage();
    if (st.kind == BK_MOSQUITTO)
        st.nodes = 1;
    if (st.kind == BK_EJABBERD)
        st.username = "kmqtt"; /* mod_mqtt wants one (anonymous login) */
    srand((unsigned)getpid());
    if (kmqtt_mem_init(&mem, NULL) != KMQTT_OK)
        return 1;
    st.cl = bk_start(st.kind, st.nodes, &boot);
    if (st.cl == NULL)
        return 1;
    printf("storm: %s, %d node(s) ready in %llu ms (%s); %u clients, %u QoS 1 messages each\n",
           bk_kind_name(st.kind), st.nodes, (unsigned long long)boot, bk_servers(st.cl), st.clients,
           st.msgs);
    fflush(stdout);
    if (st.nano)
        rc |= run_nano(&mem);
    fflush(stdout);
    if (st.threaded)
        rc |= run_threaded(&mem);
    fflush(stdout);
    bk_stop(st.cl);
    return rc;
}
