/*
 * kmqtt-nano-bench — what the nano client (kmqtt/nano.h) costs on a host.
 *
 *   kmqtt-nano-bench -h HOST -p PORT [-n COUNT] [-s PAYLOAD] [--mode cycles|qos0|qos1|all]
 *                    [--cafile CA.pem [--tls-resume]]
 *
 * Modes (default all):
 *  cycles  COUNT times: connect, one QoS 1 publish, its PUBLISHED, disconnect
 *          (the field device's wake), over one client and TCP transport;
 *  qos0    COUNT QoS 0 publishes as fast as tx takes them (ENOBUFS -> poll),
 *          ended by one QoS 1 publish so every message reached the broker;
 *  qos1    COUNT QoS 1 publishes with up to 16 in flight.
 * One line per mode:
 *   impl=kmqtt-nano mode=M count=N payload=B elapsed_s=F ops_per_s=F us_per_op=F
 *   cpu_us_per_op=F
 * (cycles adds p50_us=F p99_us=F: the wall time of one cycle). --cafile
 * puts TLS (kmqtt_tls_create) over the TCP transport; --tls-resume keeps the
 * session in a caller-given buffer (kmqtt_tls_options_t.session), as a
 * device keeps it in RAM across deep sleep; without it every handshake is
 * a full one.
 * All on the calling thread: the nano client has no other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmqtt/nano.h"
#include "kmqtt/port.h"
#ifdef KMQTT_HAVE_TLS
#include "kmqtt/transport.h"
#endif

#define TIMEOUT_MS 10000u
#define WINDOW     16
/* The longest single wait for CONNACK or PUBLISHED (the loops check the
 * timeout and lost connections between waits). Longer than a slow link's
 * round trip, so a wake cycle over 4G does not wake up for nothing: 50 ms
 * slices added a poll and a recv per 100 ms round trip. */
#define WAIT_SLICE_MS 1000u

static uint8_t rx[4096], tx[16384], store[65536];
static kmqtt_nano_t cli;
static kmqtt_nano_config_t cfg;
static kmqtt_transport_t tcp;
static kmqtt_mem_t mem;
static unsigned long published, failures;
static char topic[96];
static uint8_t *body;
static size_t body_len = 16;
static double *cycle_us;  /* wall time of each cycle */
static double *cycle_cpu; /* CPU of each cycle */
static int tls_on;
static unsigned long tls_resumed; /* cycles whose handshake resumed */
static char tls_version[16];

static void die(const char *what, kmqtt_err_t err)
{
    fprintf(stderr, "kmqtt-nano-bench: %s: %s\n", what, kmqtt_strerror(err));
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t ms(void)
{
    return (uint32_t)kmqtt_port_now_ms();
}

static void on_event(void *user, const kmqtt_nano_event_t *ev)
{
    (void)user;
    if (ev->type == KMQTT_NANO_EV_PUBLISHED) {
        if (ev->err != KMQTT_OK)
            die("PUBLISHED", ev->err);
        published++;
    } else if (ev->type == KMQTT_NANO_EV_LOST || ev->type == KMQTT_NANO_EV_CONNECT_FAILED) {
        failures++;
    }
}

/* Poll, then wait in the transport for what is due (at most max_ms).
 * Polling and checking before waiting matters here: a loop of
 * kmqtt_nano_step sleeps once more after the poll that delivered the
 * event, up to its max_wait_ms per round trip. */
static void poll_wait(uint32_t max_ms, int (*done)(void))
{
    uint32_t next;
    unsigned ready;
    kmqtt_nano_poll(&cli, ms(), &next);
    if (done != NULL && done())
        return;
    tcp.wait(tcp.ctx, KMQTT_WAIT_READ | (kmqtt_nano_want_write(&cli) ? KMQTT_WAIT_WRITE : 0u),
             next < max_ms ? next : max_ms, &ready);
}

static unsigned long want_published;

static int published_reached(void)
{
    return published >= want_published;
}

static int is_connected(void)
{
    return kmqtt_nano_state(&cli) == KMQTT_NANO_CONNECTED;
}

/* Polls until published reaches want; dies on timeout or a lost connection. */
static void wait_published(unsigned long want)
{
    uint32_t start = ms();
    want_published = want;
    while (published < want) {
        if (failures > 0)
            die("connection lost", KMQTT_ECLOSED);
        if ((uint32_t)(ms() - start) > TIMEOUT_MS)
            die("PUBLISHED", KMQTT_ETIMEDOUT);
        poll_wait(WAIT_SLICE_MS, published_reached);
    }
}

static void connect_now(void)
{
    uint32_t start = ms();
    kmqtt_err_t e = kmqtt_nano_connect(&cli, ms());
    if (e != KMQTT_OK)
        die("connect", e);
    while (kmqtt_nano_state(&cli) != KMQTT_NANO_CONNECTED) {
        if (failures > 0)
            die("CONNACK", KMQTT_EREFUSED);
        if ((uint32_t)(ms() - start) > TIMEOUT_MS)
            die("CONNACK", KMQTT_ETIMEDOUT);
        poll_wait(WAIT_SLICE_MS, is_connected);
    }
}

static kmqtt_err_t pub(uint8_t qos)
{
    kmqtt_nano_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = topic;
    m.topic_len = (uint16_t)strlen(topic);
    m.qos = qos;
    m.payload = body;
    m.payload_len = body_len;
    return kmqtt_nano_publish(&cli, &m, ms(), NULL);
}

/* One cycle: connect, one QoS 1 publish, its PUBLISHED, disconnect. The
 * publish is made while CONNECTING: with the pipelined connect (the
 * default, cfg.mqtt.pipeline) it leaves with the CONNECT in one send and
 * its PUBACK comes with the CONNACK, two round trips in all (TCP, then
 * MQTT). */
static void one_cycle(void)
{
    kmqtt_err_t e = kmqtt_nano_connect(&cli, ms());
    if (e != KMQTT_OK)
        die("connect", e);
    e = pub(1);
    if (e == KMQTT_ENOTCONN) { /* pipelining off: publish once connected */
        kmqtt_nano_state_t st;
        while ((st = kmqtt_nano_state(&cli)) != KMQTT_NANO_CONNECTED) {
            if (failures > 0 || st == KMQTT_NANO_IDLE)
                die("CONNACK", KMQTT_EREFUSED);
            poll_wait(WAIT_SLICE_MS, is_connected);
        }
        e = pub(1);
    }
    if (e != KMQTT_OK)
        die("publish", e);
    wait_published(published + 1);
#ifdef KMQTT_HAVE_TLS
    if (tls_on) {
        kmqtt_tls_stats_t st;
        if (kmqtt_tls_stats(&tcp, &st) == KMQTT_OK) {
            tls_resumed += st.resumed;
            memcpy(tls_version, st.version, sizeof tls_version);
        }
    }
#endif
    e = kmqtt_nano_disconnect(&cli, 0, TIMEOUT_MS);
    if (e != KMQTT_OK)
        die("disconnect", e);
}

static void run_cycles(unsigned long n)
{
    unsigned long i;
    for (i = 0; i < n; i++) {
        double t0 = now_s(), c0 = cpu_s();
        one_cycle();
        cycle_us[i] = (now_s() - t0) * 1e6;
        cycle_cpu[i] = (cpu_s() - c0) * 1e6;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void run_stream(unsigned long n, uint8_t qos)
{
    unsigned long sent = 0, base = published;
    kmqtt_err_t e;
    connect_now();
    while (sent < n) {
        e = pub(qos);
        if (e == KMQTT_OK) {
            sent++;
            continue;
        }
        if (e != KMQTT_ENOBUFS && e != KMQTT_ELIMIT)
            die("publish", e);
        if (failures > 0)
            die("connection lost", KMQTT_ECLOSED);
        /* tx full or window full: poll sends and takes acks; wait only if
         * that made no room. */
        kmqtt_nano_poll(&cli, ms(), NULL);
        if ((e == KMQTT_ELIMIT && kmqtt_nano_inflight(&cli) >= WINDOW) ||
            (e == KMQTT_ENOBUFS && kmqtt_nano_want_write(&cli)))
            poll_wait(5, NULL);
    }
    if (qos == 0) {
        /* One QoS 1 behind them: its PUBACK means the broker read them all. */
        while ((e = pub(1)) == KMQTT_ENOBUFS)
            poll_wait(5, NULL);
        if (e != KMQTT_OK)
            die("publish", e);
        wait_published(base + 1);
    } else {
        wait_published(base + n);
    }
    e = kmqtt_nano_disconnect(&cli, 0, TIMEOUT_MS);
    if (e != KMQTT_OK)
        die("disconnect", e);
}

/* --help prints to stdout and succeeds; a bad command line prints to stderr
 * and exits 2. */
static void usage(FILE *f, int code)
{
    fprintf(f, "usage: kmqtt-nano-bench -h HOST -p PORT [-n COUNT] [-s PAYLOAD] "
               "[--mode cycles|qos0|qos1|all] [--cafile CA.pem [--tls-resume]]\n");
    exit(code);
}

int main(int argc, char **argv)
{
    static const char *const modes[] = {"cycles", "qos0", "qos1"};
    const char *host = "127.0.0.1", *mode = "all", *cafile = NULL;
    int tls_resume = 0;
    kmqtt_nano_buffers_t bufs;
    unsigned long count = 1000;
    int port = 1883, i, m;
    kmqtt_err_t e;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            usage(stdout, 0);
        if (strcmp(argv[i], "--tls-resume") == 0) {
            tls_resume = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage(stderr, 2);
        if (strcmp(argv[i], "-h") == 0)
            host = argv[++i];
        else if (strcmp(argv[i], "-p") == 0)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "-n") == 0)
            count = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-s") == 0)
            body_len = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--mode") == 0)
            mode = argv[++i];
        else if (strcmp(argv[i], "--cafile") == 0)
            cafile = argv[++i];
        else
            usage(stderr, 2);
    }
    if (port <= 0 || port > 65535 || count == 0 || body_len > 2048)
        usage(stderr, 2);
    body = calloc(1, body_len + 1);
    if (body == NULL)
        die("payload", KMQTT_ENOMEM);
    memset(body, 'x', body_len);
    snprintf(topic, sizeof topic, "kmqtt/nanobench/%ld", (long)clock());

    if (kmqtt_mem_init(&mem, NULL) != KMQTT_OK)
        die("mem", KMQTT_EINVAL);
    e = kmqtt_port_tcp_create(&mem, &tcp);
    if (e != KMQTT_OK)
        die("tcp", e);
    if (cafile != NULL) {
#ifdef KMQTT_HAVE_TLS
        static uint8_t session_buf[4096];
        static kmqtt_tls_session_t session = {session_buf, sizeof session_buf, 0};
        kmqtt_tls_options_t to;
        kmqtt_transport_t tls;
        kmqtt_tls_options_init(&to);
        to.ca_file = cafile;
        to.session_resumption = tls_resume != 0;
        to.session = tls_resume ? &session : NULL;
        e = kmqtt_tls_create(&mem, &to, &tcp, &tls);
        if (e != KMQTT_OK)
            die("tls", e);
        tcp = tls; /* the TLS transport owns the TCP one now */
        tls_on = 1;
#else
        die("--cafile: this build has no TLS", KMQTT_EUNSUPPORTED);
#endif
    }
    cycle_us = calloc(count, sizeof *cycle_us);
    cycle_cpu = calloc(count, sizeof *cycle_cpu);
    if (cycle_us == NULL || cycle_cpu == NULL)
        die("cycle times", KMQTT_ENOMEM);
    kmqtt_nano_config_init(&cfg);
    cfg.transport = &tcp;
    cfg.host = host;
    cfg.port = (uint16_t)port;
    cfg.mqtt.client_id = "kmqtt-nano-bench";
    cfg.reconnect_min_ms = 0; /* a lost connection ends the run */
    cfg.mqtt.max_inflight = WINDOW;
    cfg.on_event = on_event;
    bufs.rx = rx;
    bufs.rx_size = sizeof rx;
    bufs.tx = tx;
    bufs.tx_size = sizeof tx;
    bufs.store = store;
    bufs.store_size = sizeof store;
    e = kmqtt_nano_init(&cli, &cfg, &bufs);
    if (e != KMQTT_OK)
        die("init", e);

    for (m = 0; m < 3; m++) {
        double t0, t1, c0, c1, el;
        if (strcmp(mode, "all") != 0 && strcmp(mode, modes[m]) != 0)
            continue;
        if (m == 0 && tls_on && tls_resume) {
            /* One cycle before the timed ones makes the session, so every
             * timed cycle resumes (and counts in tls_resumed). */
            one_cycle();
            tls_resumed = 0;
        }
        t0 = now_s();
        c0 = cpu_s();
        if (m == 0)
            run_cycles(count);
        else
            run_stream(count, (uint8_t)(m - 1));
        c1 = cpu_s();
        t1 = now_s();
        el = t1 - t0;
        printf("impl=kmqtt-nano mode=%s count=%lu payload=%zu elapsed_s=%.6f ops_per_s=%.1f "
               "us_per_op=%.2f cpu_us_per_op=%.2f",
               modes[m], count, body_len, el, (double)count / el, el * 1e6 / (double)count,
               (c1 - c0) * 1e6 / (double)count);
        if (m == 0) {
            qsort(cycle_us, count, sizeof *cycle_us, cmp_double);
            qsort(cycle_cpu, count, sizeof *cycle_cpu, cmp_double);
            printf(" p50_us=%.1f p99_us=%.1f cycle_cpu_p50_us=%.1f",
                   cycle_us[(count - 1) * 50 / 100], cycle_us[(count - 1) * 99 / 100],
                   cycle_cpu[(count - 1) / 2]);
            if (tls_on)
                printf(" tls=%s tls_resumed=%lu", tls_version, tls_resumed);
        }
        printf("\n");
    }
    tcp.destroy(tcp.ctx);
    free(cycle_us);
    free(cycle_cpu);
    free(body);
    return 0;
}
