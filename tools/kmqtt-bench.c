/*
 * kmqtt-bench: kmqtt's side of the benchmark against libmosquitto, paho and a
 * raw socket (the peers live in bench/; scripts/bench.sh runs them all).
 *
 *   kmqtt-bench -h HOST -p PORT --mode qos0|qos1|qos2|latency|cycles
 *               [--count N] [--payload B] [--window W] [--thread]
 *               [--cafile CA.pem [--tls-resume]]
 *
 * Prints exactly one line (the format every benchmark program shares):
 *   impl=kmqtt mode=M qos=Q count=N payload=B window=W elapsed_s=F msgs_per_s=F
 *   cpu_us_per_msg=F allocs_per_msg=F peak_rss_kb=N p50_us=F p99_us=F
 *
 * Modes:
 *  qos0/qos1/qos2  publish count messages of payload bytes as fast as the
 *                  client allows (window = max_inflight for QoS 1/2), then
 *                  wait for every acknowledgement; a QoS 0 run ends with one
 *                  QoS 1 publish and its PUBACK (a fence: the broker has then
 *                  taken every message).
 *  latency         a second client in this process subscribes to the topic;
 *                  count QoS 0 messages, one at a time, each carrying its
 *                  CLOCK_MONOTONIC send time; p50/p99 of publish -> arrival.
 *  cycles          count times: connect, one QoS 1 publish, its PUBACK,
 *                  disconnect (a fresh TCP connection each time, the same
 *                  client object, as a device that wakes and reports);
 *                  p50_us/p99_us are the wall time of one cycle. --cafile
 *                  runs them over TLS (kmqtt_tls_create over the port's
 *                  TCP), with session resumption only when --tls-resume is
 *                  given (its session kept in a caller-given buffer,
 *                  kmqtt_tls_options_t.session, as a device would keep it
 *                  across deep sleep).
 *
 * kmqtt is used the fastest documented way: a 64 KB send buffer (256 KB was
 * no faster and costs 200 KB of RSS), a store for the whole window,
 * max_inflight = --window, publish_block_ms so a full window waits instead of
 * failing, and publish_batch in the qos0/qos1/qos2 modes (many publishes per
 * send; latency and cycles send each publish at once).
 *
 * The client is driven from this thread (the blocking calls run the loop
 * themselves) unless --thread is given, which starts the background thread
 * instead; the calling thread was measured faster (no hand-off between
 * threads per acknowledgement), so it is the default.
 *
 * CPU is getrusage(RUSAGE_SELF) user+sys over the timed section only;
 * allocs_per_msg counts the allocations the client made from the parent
 * accounting context (options.mem) during the timed section; peak_rss_kb is
 * ru_maxrss of the whole process.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "kmqtt/client.h"
#ifdef KMQTT_HAVE_TLS
#include "kmqtt/transport.h"
#endif

#define BENCH_TIMEOUT_MS  30000u        /* connect, subscribe, acknowledgements */
#define BENCH_TX_BUFFER   (64u * 1024u) /* 256 KB: no faster, 200 KB more RSS */
#define BENCH_MAX_COUNT   100000000ul
#define BENCH_MAX_PAYLOAD (16ul * 1024ul * 1024ul)
#define BENCH_MAX_WINDOW  65535ul
#define BENCH_TS_BYTES    8u /* latency: the send time at the start of the payload */

typedef enum bench_mode { M_QOS0, M_QOS1, M_QOS2, M_LATENCY, M_CYCLES } bench_mode_t;

static const char *const mode_names[] = {"qos0", "qos1", "qos2", "latency", "cycles"};

typedef struct bench {
    const char *host;
    uint16_t port;
    bench_mode_t mode;
    unsigned long count;
    unsigned long payload;
    unsigned long window;
    int thread;         /* run the background thread instead of the calling thread */
    const char *cafile; /* --cafile: TLS (cycles) */
    int tls_resume;     /* --tls-resume */
#ifdef KMQTT_HAVE_TLS
    kmqtt_transport_t tls;       /* the client's TLS transport (its ctx) */
    kmqtt_tls_session_t session; /* --tls-resume: where the session is kept */
    unsigned long tls_resumed;   /* cycles whose handshake resumed */
    char tls_version[16];
#endif
    char topic[96];
    unsigned char *body;

    /* the parent accounting context every client allocates from */
    kmqtt_mem_t mem;
    pthread_mutex_t mem_lock;

    /* timed section */
    double t0, t1;
    double cpu0, cpu1;
    uint32_t allocs0, allocs1;

    /* latency; cycles: the wall time and CPU of each cycle */
    double *cycle_cpu;
    double *lat;
    unsigned long lat_n;
    volatile int arrived;
    pthread_mutex_t lat_lock;
    pthread_cond_t lat_cv;
} bench_t;

static void die(const char *what, kmqtt_err_t err)
{
    if (err == KMQTT_OK)
        fprintf(stderr, "kmqtt-bench: %s\n", what);
    else
        fprintf(stderr, "kmqtt-bench: %s: %s\n", what, kmqtt_strerror(err));
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long peak_rss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss; /* kilobytes on Linux */
}

static void mem_lock(void *ctx)
{
    pthread_mutex_lock((pthread_mutex_t *)ctx);
}

static void mem_unlock(void *ctx)
{
    pthread_mutex_unlock((pthread_mutex_t *)ctx);
}

static uint32_t mem_allocs(bench_t *b)
{
    kmqtt_mem_stats_t st;

    kmqtt_mem_get_stats(&b->mem, &st); /* takes the lock hook itself */
    return st.allocs;
}

static void timed_begin(bench_t *b)
{
    b->allocs0 = mem_allocs(b);
    b->cpu0 = cpu_s();
    b->t0 = now_s();
}

static void timed_end(bench_t *b)
{
    b->t1 = now_s();
    b->cpu1 = cpu_s();
    b->allocs1 = mem_allocs(b);
}

/* ------------------------------------------------------------ arguments */

static void usage(FILE *f)
{
    fprintf(f, "usage: kmqtt-bench -h HOST -p PORT --mode qos0|qos1|qos2|latency|cycles\n"
               "                   [--count N] [--payload B] [--window W] [--thread]\n"
               "                   [--cafile CA.pem [--tls-resume]]\n"
               "Prints one result line: impl=kmqtt mode=... msgs_per_s=... cpu_us_per_msg=...\n");
}

static unsigned long parse_ul(const char *opt, const char *s, unsigned long lo, unsigned long hi)
{
    char *end;
    unsigned long v;

    if (s == NULL) {
        fprintf(stderr, "kmqtt-bench: %s needs a value\n", opt);
        exit(1);
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "kmqtt-bench: %s: %s is not a number in [%lu, %lu]\n", opt, s, lo, hi);
        exit(1);
    }
    return v;
}

static void parse_args(bench_t *b, int argc, char **argv)
{
    int i, m;
    const char *mode = NULL;

    b->host = "127.0.0.1";
    b->port = 1883;
    b->count = 0;
    b->payload = 64;
    b->window = 20;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--host") == 0) {
            if (v == NULL)
                die("-h needs a value", KMQTT_OK);
            b->host = v;
            i++;
        } else if (strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) {
            b->port = (uint16_t)parse_ul(a, v, 1, 65535);
            i++;
        } else if (strcmp(a, "--mode") == 0) {
            mode = v;
            i++;
        } else if (strcmp(a, "--count") == 0) {
            b->count = parse_ul(a, v, 1, BENCH_MAX_COUNT);
            i++;
        } else if (strcmp(a, "--payload") == 0) {
            b->payload = parse_ul(a, v, 0, BENCH_MAX_PAYLOAD);
            i++;
        } else if (strcmp(a, "--window") == 0) {
            b->window = parse_ul(a, v, 1, BENCH_MAX_WINDOW);
            i++;
        } else if (strcmp(a, "--thread") == 0) {
            b->thread = 1;
        } else if (strcmp(a, "--cafile") == 0) {
            if (v == NULL)
                die("--cafile needs a value", KMQTT_OK);
            b->cafile = v;
            i++;
        } else if (strcmp(a, "--tls-resume") == 0) {
            b->tls_resume = 1;
        } else if (strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "kmqtt-bench: unknown argument %s\n", a);
            usage(stderr);
            exit(1);
        }
    }
    if (mode == NULL) {
        usage(stderr);
        exit(1);
    }
    for (m = 0; m < 5; m++) {
        if (strcmp(mode, mode_names[m]) == 0)
            break;
    }
    if (m == 5) {
        fprintf(stderr, "kmqtt-bench: unknown mode %s\n", mode);
        exit(1);
    }
    b->mode = (bench_mode_t)m;
    if (b->cafile != NULL && b->mode != M_CYCLES)
        die("--cafile: only the cycles mode runs over TLS", KMQTT_OK);
#ifndef KMQTT_HAVE_TLS
    if (b->cafile != NULL)
        die("--cafile: this build has no TLS", KMQTT_OK);
#endif
    if (b->count == 0) {
        static const unsigned long defaults[] = {200000, 100000, 50000, 5000, 2000};
        b->count = defaults[m];
    }
    if (b->mode == M_LATENCY && b->payload < BENCH_TS_BYTES)
        b->payload = BENCH_TS_BYTES;
}

/* --------------------------------------------------------------- client */

static void on_latency_msg(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    bench_t *b = ctx;
    uint64_t sent, at = now_ns();

    (void)c;
    if (msg->payload.len < BENCH_TS_BYTES)
        return;
    memcpy(&sent, msg->payload.ptr, sizeof sent);
    if (b->lat_n < b->count)
        b->lat[b->lat_n++] = (double)(at - sent) / 1e3;
    pthread_mutex_lock(&b->lat_lock);
    b->arrived = 1;
    pthread_cond_signal(&b->lat_cv);
    pthread_mutex_unlock(&b->lat_lock);
}

static kmqtt_client_t *make_client(bench_t *b, bool connect)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_err_t err;
    size_t packet = b->payload + strlen(b->topic) + 16;

    kmqtt_client_options_init(&o);
    o.host = b->host;
    o.port = b->port;
    o.keepalive_s = 60;
    o.clean_session = true;
    o.max_inflight = (uint16_t)b->window;
    /* A large send buffer lets many publishes leave in one write. */
    o.tx_buffer_size = BENCH_TX_BUFFER;
    if (o.tx_buffer_size < packet + 64)
        o.tx_buffer_size = packet + 64;
    o.rx_buffer_size = packet + 64 > 4096 ? packet + 64 : 4096;
    /* The store keeps every unacknowledged QoS 1/2 publish of the window. */
    o.store_size = (b->window + 1) * packet + 1024;
    if (o.store_size < 8192)
        o.store_size = 8192;
    o.publish_block_ms = BENCH_TIMEOUT_MS; /* a full window or buffer waits */
    o.reconnect = KMQTT_RECONNECT_OFF;
    /* Throughput: queue publishes and send many per write. */
    o.publish_batch = b->mode == M_QOS0 || b->mode == M_QOS1 || b->mode == M_QOS2;
    if (b->mode == M_CYCLES) {
        /* The wake cycle publishes before it connects: the offline queue
         * holds the message and the pipelined connect sends it with the
         * CONNECT (options.pipeline_connect, on by default). */
        o.offline_queue_max_msgs = 4;
        o.offline_queue_max_bytes = 4 * (packet + 64);
    }
    o.mem = &b->mem;
    o.ctx = b;
#ifdef KMQTT_HAVE_TLS
    kmqtt_transport_t tcp;
    if (b->cafile != NULL) {
        /* The session buffer a device would keep in RAM that survives deep
         * sleep; here it lives as long as the process. */
        static uint8_t session_buf[4096];
        kmqtt_tls_options_t to;
        b->session.buf = session_buf;
        b->session.cap = sizeof session_buf;
        b->session.len = 0;
        kmqtt_tls_options_init(&to);
        to.ca_file = b->cafile;
        to.session_resumption = b->tls_resume != 0;
        to.session = b->tls_resume ? &b->session : NULL;
        if ((err = kmqtt_port_tcp_create(&b->mem, &tcp)) != KMQTT_OK)
            die("tcp", err);
        if ((err = kmqtt_tls_create(&b->mem, &to, &tcp, &b->tls)) != KMQTT_OK)
            die("tls", err);
        o.transport = &b->tls;
    }
#endif
    err = kmqtt_client_create(&o, &c);
    if (err != KMQTT_OK)
        die("create", err);
    if (connect) {
        err = kmqtt_connect(c, BENCH_TIMEOUT_MS, NULL);
        if (err != KMQTT_OK)
            die("connect", err);
    }
    return c;
}

static void start_loop(bench_t *b, kmqtt_client_t *c)
{
    kmqtt_err_t err;

    if (!b->thread)
        return;
    err = kmqtt_start(c);
    if (err != KMQTT_OK)
        die("start", err);
}

/* ---------------------------------------------------------------- modes */

static void run_throughput(bench_t *b)
{
    uint8_t qos = b->mode == M_QOS0 ? 0 : b->mode == M_QOS1 ? 1 : 2;
    kmqtt_client_t *c = make_client(b, true);
    kmqtt_publish_result_t fence;
    kmqtt_err_t err;
    unsigned long i;

    start_loop(b, c);
    timed_begin(b);
    for (i = 0; i < b->count; i++) {
        err = kmqtt_publish(c, b->topic, b->body, b->payload, qos, false, NULL, NULL);
        if (err != KMQTT_OK)
            die("publish", err);
    }
    if (qos == 0) {
        err = kmqtt_publish(c, b->topic, b->body, b->payload, 1, false, NULL, &fence);
        if (err != KMQTT_OK)
            die("publish (fence)", err);
        err = kmqtt_publish_wait(c, fence.packet_id, BENCH_TIMEOUT_MS, NULL);
        if (err != KMQTT_OK)
            die("fence PUBACK", err);
    } else {
        err = kmqtt_publish_wait_all(c, BENCH_TIMEOUT_MS);
        if (err != KMQTT_OK)
            die("waiting for acknowledgements", err);
    }
    timed_end(b);
    kmqtt_client_destroy(c);
}

/* Waits for the subscriber to take the message in flight. */
static void latency_wait(bench_t *b, kmqtt_client_t *sub)
{
    double deadline = now_s() + BENCH_TIMEOUT_MS / 1000.0;
    kmqtt_err_t err;

    if (b->thread) {
        struct timespec ts;
        uint64_t ns;

        pthread_mutex_lock(&b->lat_lock);
        while (!b->arrived) {
            if (now_s() > deadline) {
                pthread_mutex_unlock(&b->lat_lock);
                die("latency: a message did not arrive", KMQTT_ETIMEDOUT);
            }
            clock_gettime(CLOCK_REALTIME, &ts);
            ns = (uint64_t)ts.tv_nsec + 100000000u;
            ts.tv_sec += (time_t)(ns / 1000000000u);
            ts.tv_nsec = (long)(ns % 1000000000u);
            pthread_cond_timedwait(&b->lat_cv, &b->lat_lock, &ts);
        }
        b->arrived = 0;
        pthread_mutex_unlock(&b->lat_lock);
        return;
    }
    while (!b->arrived) {
        if (now_s() > deadline)
            die("latency: a message did not arrive", KMQTT_ETIMEDOUT);
        err = kmqtt_run(sub, 100);
        if (err != KMQTT_OK)
            die("latency: subscriber loop", err);
    }
    b->arrived = 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;

    return a < c ? -1 : a > c ? 1 : 0;
}

static void run_latency(bench_t *b, double *p50, double *p99)
{
    kmqtt_client_t *pub, *sub;
    kmqtt_sub_request_t rq;
    kmqtt_err_t err;
    unsigned long i;
    uint64_t ts;

    b->lat = calloc(b->count, sizeof *b->lat);
    if (b->lat == NULL)
        die("out of memory", KMQTT_ENOMEM);
    pthread_mutex_init(&b->lat_lock, NULL);
    pthread_cond_init(&b->lat_cv, NULL);
    sub = make_client(b, true);
    pub = make_client(b, true);
    memset(&rq, 0, sizeof rq);
    rq.filter = b->topic;
    rq.qos = 0;
    rq.handler = on_latency_msg;
    rq.ctx = b;
    err = kmqtt_subscribe(sub, &rq, 1, BENCH_TIMEOUT_MS, NULL, NULL);
    if (err != KMQTT_OK)
        die("subscribe", err);
    start_loop(b, sub);
    start_loop(b, pub);

    timed_begin(b);
    for (i = 0; i < b->count; i++) {
        ts = now_ns();
        memcpy(b->body, &ts, sizeof ts);
        err = kmqtt_publish(pub, b->topic, b->body, b->payload, 0, false, NULL, NULL);
        if (err != KMQTT_OK)
            die("publish", err);
        latency_wait(b, sub);
    }
    timed_end(b);

    kmqtt_client_destroy(pub);
    kmqtt_client_destroy(sub);
    qsort(b->lat, b->lat_n, sizeof *b->lat, cmp_double);
    if (b->lat_n == 0)
        die("latency: nothing measured", KMQTT_OK);
    *p50 = b->lat[(b->lat_n - 1) * 50 / 100];
    *p99 = b->lat[(b->lat_n - 1) * 99 / 100];
    free(b->lat);
}

/* One cycle: connect, one QoS 1 publish, its PUBACK, disconnect, as a
 * device does it (README, "The wake cycle"): the publish comes first and
 * waits in the offline queue; kmqtt_connect sends it right behind the
 * CONNECT (pipelined connect) and returns at the CONNACK, with which the
 * PUBACK usually came. Two round trips: TCP, then MQTT. */
static void one_cycle(bench_t *b, kmqtt_client_t *c)
{
    kmqtt_publish_result_t r;
    kmqtt_err_t err;

    err = kmqtt_publish(c, b->topic, b->body, b->payload, 1, false, NULL, &r);
    if (err != KMQTT_OK)
        die("publish", err);
    err = kmqtt_connect(c, BENCH_TIMEOUT_MS, NULL);
    if (err != KMQTT_OK)
        die("connect", err);
    start_loop(b, c);
#ifdef KMQTT_HAVE_TLS
    if (b->cafile != NULL) {
        kmqtt_tls_stats_t st;
        if (kmqtt_tls_stats(&b->tls, &st) == KMQTT_OK) {
            b->tls_resumed += st.resumed;
            memcpy(b->tls_version, st.version, sizeof b->tls_version);
        }
    }
#endif
    err = kmqtt_publish_wait_all(c, BENCH_TIMEOUT_MS);
    if (err != KMQTT_OK)
        die("PUBACK", err);
    err = kmqtt_disconnect(c, NULL);
    if (err != KMQTT_OK)
        die("disconnect", err);
}

static void run_cycles(bench_t *b)
{
    kmqtt_client_t *c = make_client(b, false);
    unsigned long i;
    uint64_t t0;
    double c0;

    b->lat = malloc(sizeof *b->lat * b->count);
    b->cycle_cpu = malloc(sizeof *b->cycle_cpu * b->count);
    if (b->lat == NULL || b->cycle_cpu == NULL)
        die("out of memory", KMQTT_ENOMEM);
    /* --tls-resume: one cycle before the timed ones makes the session, so
     * every timed cycle resumes (and counts in tls_resumed). */
    if (b->cafile != NULL && b->tls_resume) {
        one_cycle(b, c);
#ifdef KMQTT_HAVE_TLS
        b->tls_resumed = 0;
#endif
    }
    timed_begin(b);
    for (i = 0; i < b->count; i++) {
        c0 = cpu_s();
        t0 = now_ns();
        one_cycle(b, c);
        b->lat[b->lat_n] = (double)(now_ns() - t0) / 1e3;
        b->cycle_cpu[b->lat_n++] = (cpu_s() - c0) * 1e6;
    }
    timed_end(b);
    kmqtt_client_destroy(c);
}

/* A value, or -1 for one that does not apply. */
static void fmt_opt(char *out, size_t n, double v)
{
    if (v < 0)
        snprintf(out, n, "-1");
    else
        snprintf(out, n, "%.2f", v);
}

int main(int argc, char **argv)
{
    static bench_t b;
    kmqtt_mem_config_t mc;
    kmqtt_err_t err;
    double p50 = -1, p99 = -1, elapsed, cpu, cycle_cpu = -1;
    char s50[32], s99[32];
    int qos;

    parse_args(&b, argc, argv);
    snprintf(b.topic, sizeof b.topic, "kmqtt/bench/%ld/%s", (long)getpid(), mode_names[b.mode]);
    b.body = malloc(b.payload + 1);
    if (b.body == NULL)
        die("out of memory", KMQTT_ENOMEM);
    memset(b.body, 'x', b.payload + 1);

    pthread_mutex_init(&b.mem_lock, NULL);
    memset(&mc, 0, sizeof mc);
    mc.lock = mem_lock;
    mc.unlock = mem_unlock;
    mc.lock_ctx = &b.mem_lock;
    err = kmqtt_mem_init(&b.mem, &mc);
    if (err != KMQTT_OK)
        die("mem init", err);

    switch (b.mode) {
    case M_QOS0:
    case M_QOS1:
    case M_QOS2:
        run_throughput(&b);
        break;
    case M_LATENCY:
        run_latency(&b, &p50, &p99);
        break;
    case M_CYCLES:
        run_cycles(&b);
        qsort(b.lat, b.lat_n, sizeof *b.lat, cmp_double);
        qsort(b.cycle_cpu, b.lat_n, sizeof *b.cycle_cpu, cmp_double);
        p50 = b.lat[(b.lat_n - 1) * 50 / 100];
        p99 = b.lat[(b.lat_n - 1) * 99 / 100];
        cycle_cpu = b.cycle_cpu[(b.lat_n - 1) / 2];
        free(b.lat);
        free(b.cycle_cpu);
        break;
    }

    elapsed = b.t1 - b.t0;
    cpu = b.cpu1 - b.cpu0;
    qos = b.mode == M_QOS1 || b.mode == M_CYCLES ? 1 : b.mode == M_QOS2 ? 2 : 0;
    fmt_opt(s50, sizeof s50, p50);
    fmt_opt(s99, sizeof s99, p99);
    printf("impl=kmqtt mode=%s qos=%d count=%lu payload=%lu window=%ld elapsed_s=%.6f "
           "msgs_per_s=%.1f cpu_us_per_msg=%.4f allocs_per_msg=%.4f peak_rss_kb=%ld "
           "p50_us=%s p99_us=%s",
           mode_names[b.mode], qos, b.count, b.payload,
           b.mode == M_QOS1 || b.mode == M_QOS2 ? (long)b.window : -1L, elapsed,
           elapsed > 0 ? (double)b.count / elapsed : -1.0, cpu * 1e6 / (double)b.count,
           (double)(b.allocs1 - b.allocs0) / (double)b.count, peak_rss_kb(), s50, s99);
    if (cycle_cpu >= 0)
        printf(" cycle_cpu_p50_us=%.1f", cycle_cpu);
#ifdef KMQTT_HAVE_TLS
    if (b.cafile != NULL)
        printf(" tls=%s tls_resumed=%lu tls_session_bytes=%zu", b.tls_version, b.tls_resumed,
               b.session.len);
#endif
    printf("\n");
    free(b.body);
    return 0;
}
