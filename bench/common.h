/* Shared helpers for the peer benchmark programs (bench_mosquitto, bench_paho, bench_raw):
 * command line, clocks, CPU time, percentiles and the one result line every program prints.
 * POSIX / libc only; not part of the kmqtt library. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

enum bench_mode { MODE_QOS0 = 0, MODE_QOS1, MODE_QOS2, MODE_LATENCY, MODE_CYCLES };

typedef struct {
    const char *host;     /* -h, default 127.0.0.1 */
    int port;             /* -p, default 1883 */
    enum bench_mode mode; /* --mode */
    long count;           /* --count */
    long payload;         /* --payload (bytes) */
    int window;           /* --window (QoS 1/2 in-flight window) */
    const char *loop;     /* --loop (bench_mosquitto only: "manual" or "threaded") */
    const char *cafile;   /* --cafile: TLS to the broker, trusting this CA (cycles only) */
    int tls_resume;       /* --tls-resume (bench_raw): offer the last TLS session again */
    int wait_connack;     /* --wait-connack (bench_raw cycles): PUBLISH only after CONNACK */
    char topic[96];       /* unique per process: bench/<impl>/<pid>/data */
    char client_id[48];   /* prefix unique per process */
} bench_opts;

/* Result of one run; fields left at -1 print as -1. */
typedef struct {
    double elapsed_s;
    double cpu_us_total; /* user+sys over the timed section */
    double p50_us, p99_us;
    double cycle_cpu_p50_us; /* cycles: median CPU of one cycle (else -1, not printed) */
} bench_result;

/* Parses argv into *o (exits with usage on error). impl names the program in messages. */
void bench_parse(int argc, char **argv, const char *impl, bench_opts *o);

const char *bench_mode_name(enum bench_mode m);
int bench_mode_qos(enum bench_mode m);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);
/* getrusage(RUSAGE_SELF) user+sys in microseconds (all threads of the process). */
double bench_cpu_us(void);

/* Timed section helpers: start records wall and CPU clocks, stop fills elapsed and CPU. */
typedef struct {
    uint64_t t0_ns;
    double cpu0_us;
} bench_timer;
void bench_timer_start(bench_timer *t);
void bench_timer_stop(const bench_timer *t, bench_result *r);

/* Per-cycle wall times of the cycles mode: p50/p99 of each cycle's wall time
 * (connect to close) go in the result's p50_us/p99_us, the median CPU of one cycle in
 * cycle_cpu_p50_us. */
typedef struct {
    double *us, *cpu_us;
    long n, cap;
    uint64_t t0_ns;
    double cpu0_us;
} bench_cycle_clock;
void bench_cycles_init(bench_cycle_clock *c, long count);
void bench_cycle_start(bench_cycle_clock *c);
void bench_cycle_stop(bench_cycle_clock *c);
/* Fills r->p50_us, r->p99_us (wall) and r->cycle_cpu_p50_us and frees the times. */
void bench_cycles_finish(bench_cycle_clock *c, bench_result *r);

/* Sorts v in place and returns the nearest-rank percentile p (0..100). */
double bench_percentile(double *v, size_t n, double p);

/* Prints the shared one-line result to stdout. ok == 0 prints -1 for every measured field
 * (a mode the program cannot run). */
void bench_print(const char *impl, const bench_opts *o, const bench_result *r, int ok);

/* Prints a message to stderr and exits 1. */
void bench_die(const char *fmt, ...);

/* Writes a CLOCK_MONOTONIC timestamp (ns, little endian) into the first 8 bytes of buf;
 * bench_stamp_read reads it back. */
void bench_stamp_write(unsigned char *buf, uint64_t ns);
uint64_t bench_stamp_read(const unsigned char *buf);

#endif
