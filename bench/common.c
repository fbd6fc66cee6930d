#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void usage(const char *impl)
{
    fprintf(stderr,
            "usage: bench_%s [-h HOST] [-p PORT] [--mode qos0|qos1|qos2|latency|cycles]\n"
            "       [--count N] [--payload B] [--window W] [--loop manual|threaded]\n"
            "       [--cafile CA.pem] [--tls-resume] [--wait-connack]\n",
            impl);
    exit(2);
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static long parse_long(const char *s, const char *impl, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        usage(impl);
    return v;
}

void bench_parse(int argc, char **argv, const char *impl, bench_opts *o)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'},    {"count", required_argument, NULL, 'n'},
        {"payload", required_argument, NULL, 's'}, {"window", required_argument, NULL, 'w'},
        {"loop", required_argument, NULL, 'l'},    {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},    {"cafile", required_argument, NULL, 'c'},
        {"wait-connack", no_argument, NULL, 'W'},  {"tls-resume", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, '?'},          {NULL, 0, NULL, 0}};
    int c;
    memset(o, 0, sizeof(*o));
    o->host = "127.0.0.1";
    o->port = 1883;
    o->mode = MODE_QOS0;
    o->count = 10000;
    o->payload = 64;
    o->window = 20;
    o->loop = NULL;
    while ((c = getopt_long(argc, argv, "h:p:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            o->host = optarg;
            break;
        case 'p':
            o->port = (int)parse_long(optarg, impl, 1, 65535);
            break;
        case 'n':
            o->count = parse_long(optarg, impl, 1, 1000000000L);
            break;
        case 's':
            o->payload = parse_long(optarg, impl, 0, 256L * 1024 * 1024);
            break;
        case 'w':
            o->window = (int)parse_long(optarg, impl, 1, 65535);
            break;
        case 'l':
            o->loop = optarg;
            break;
        case 'c':
            o->cafile = optarg;
            break;
        case 'W':
            o->wait_connack = 1;
            break;
        case 'R':
            o->tls_resume = 1;
            break;
        case 'm':
            if (strcmp(optarg, "qos0") == 0)
                o->mode = MODE_QOS0;
            else if (strcmp(optarg, "qos1") == 0)
                o->mode = MODE_QOS1;
            else if (strcmp(optarg, "qos2") == 0)
                o->mode = MODE_QOS2;
            else if (strcmp(optarg, "latency") == 0)
                o->mode = MODE_LATENCY;
            else if (strcmp(optarg, "cycles") == 0)
                o->mode = MODE_CYCLES;
            else
                usage(impl);
            break;
        default:
            usage(impl);
        }
    }
    if (optind != argc)
        usage(impl);
    snprintf(o->topic, sizeof(o->topic), "bench/%s/%ld/data", impl, (long)getpid());
    snprintf(o->client_id, sizeof(o->client_id), "b-%s-%ld", impl, (long)getpid());
}

const char *bench_mode_name(enum bench_mode m)
{
    static const char *const names[] = {"qos0", "qos1", "qos2", "latency", "cycles"};
    return names[m];
}

int bench_mode_qos(enum bench_mode m)
{
    switch (m) {
    case MODE_QOS1:
    case MODE_CYCLES:
        return 1;
    case MODE_QOS2:
        return 2;
    default:
        return 0;
    }
}

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

void bench_timer_start(bench_timer *t)
{
    t->cpu0_us = bench_cpu_us();
    t->t0_ns = bench_now_ns();
}

void bench_timer_stop(const bench_timer *t, bench_result *r)
{
    uint64_t t1 = bench_now_ns();
    r->cpu_us_total = bench_cpu_us() - t->cpu0_us;
    r->elapsed_s = (double)(t1 - t->t0_ns) / 1e9;
}

void bench_cycles_init(bench_cycle_clock *c, long count)
{
    c->n = 0;
    c->cap = count;
    c->us = malloc(sizeof(double) * (size_t)(count > 0 ? count : 1));
    c->cpu_us = malloc(sizeof(double) * (size_t)(count > 0 ? count : 1));
    if (c->us == NULL || c->cpu_us == NULL)
        bench_die("out of memory");
}

void bench_cycle_start(bench_cycle_clock *c)
{
    c->cpu0_us = bench_cpu_us();
    c->t0_ns = bench_now_ns();
}

void bench_cycle_stop(bench_cycle_clock *c)
{
    if (c->n < c->cap) {
        c->us[c->n] = (double)(bench_now_ns() - c->t0_ns) / 1e3;
        c->cpu_us[c->n++] = bench_cpu_us() - c->cpu0_us;
    }
}

void bench_cycles_finish(bench_cycle_clock *c, bench_result *r)
{
    r->p50_us = bench_percentile(c->us, (size_t)c->n, 50);
    r->p99_us = bench_percentile(c->us, (size_t)c->n, 99);
    r->cycle_cpu_p50_us = bench_percentile(c->cpu_us, (size_t)c->n, 50);
    free(c->us);
    free(c->cpu_us);
    c->us = c->cpu_us = NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double p)
{
    size_t rank;
    if (n == 0)
        return -1;
    qsort(v, n, sizeof(*v), cmp_double);
    rank = (size_t)((p / 100.0) * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

void bench_print(const char *impl, const bench_opts *o, const bench_result *r, int ok)
{
    struct rusage ru;
    int win = (o->mode == MODE_QOS1 || o->mode == MODE_QOS2) ? o->window : -1;
    double rate = -1, cpu = -1, el = -1, p50 = -1, p99 = -1;
    long rss = -1;
    if (ok) {
        el = r->elapsed_s;
        rate = el > 0 ? (double)o->count / el : -1;
        cpu = r->cpu_us_total / (double)o->count;
        p50 = r->p50_us;
        p99 = r->p99_us;
        getrusage(RUSAGE_SELF, &ru);
        rss = ru.ru_maxrss;
    }
    printf("impl=%s mode=%s qos=%d count=%ld payload=%ld window=%d elapsed_s=%.6f "
           "msgs_per_s=%.1f cpu_us_per_msg=%.3f allocs_per_msg=-1 peak_rss_kb=%ld "
           "p50_us=%.1f p99_us=%.1f",
           impl, bench_mode_name(o->mode), bench_mode_qos(o->mode), o->count, o->payload, win, el,
           rate, cpu, rss, p50, p99);
    if (ok && r->cycle_cpu_p50_us >= 0)
        printf(" cycle_cpu_p50_us=%.1f", r->cycle_cpu_p50_us);
    printf("\n");
    fflush(stdout);
}

void bench_stamp_write(unsigned char *buf, uint64_t ns)
{
    int i;
    for (i = 0; i < 8; i++)
        buf[i] = (unsigned char)(ns >> (8 * i));
}

uint64_t bench_stamp_read(const unsigned char *buf)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--)
        v = (v << 8) | buf[i];
    return v;
}
