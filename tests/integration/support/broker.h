/*
 * Integration-test harness: a private mosquitto per test, child processes
 * with a timeout, resource counters and a TCP server that never answers.
 *
 * Never relies on a system mosquitto: every broker runs from its own config in
 * a fresh temporary directory on a free loopback port, and is removed with it.
 * Every wait here is bounded, so a hung broker or tool fails a test instead of
 * hanging CI.
 */
#ifndef KMQTT_IT_BROKER_H
#define KMQTT_IT_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker_opts {
    const char *username; /* with password: a password file, anonymous clients refused */
    const char *password;
    int max_qos;  /* 1..2 limits the QoS the broker grants; 0 = its default (2) */
    bool log_all; /* log_type all: every packet is logged (PINGREQ counts) */
    /* Lines appended to mosquitto.conf (extra listeners: TLS, WebSockets,
     * each with its own port from unused_port()); NULL = none. */
    const char *extra_conf;
} broker_opts_t;

typedef struct broker broker_t;

/* Starts mosquitto on a free port of 127.0.0.1 and waits (at most 5 s) until
 * it accepts connections. opts may be NULL (anonymous, default logging).
 * Returns NULL (with a message on stderr) if it could not. */
broker_t *broker_start(const broker_opts_t *opts);
uint16_t broker_port(const broker_t *b);
/* The broker's log file. */
const char *broker_log_path(const broker_t *b);
/* How many times needle occurs in the broker's log so far. */
size_t broker_log_count(const broker_t *b, const char *needle);
/* Waits (bounded) until needle occurs at least n times in the log. */
bool broker_log_wait(const broker_t *b, const char *needle, size_t n, unsigned timeout_ms);
/* SIGTERM, wait for it to exit, remove its directory, free b; also
 * proc_free_all(). NULL is a no-op. */
void broker_stop(broker_t *b);
/* SIGKILL: the broker dies the way a crashed or powered-off one does. Its
 * directory stays, so broker_restart can bring it back. */
void broker_kill(broker_t *b);
/* SIGSTOP / SIGCONT: the broker stays connected but answers nothing. */
void broker_pause(broker_t *b);
void broker_resume(broker_t *b);
/* Stops the broker if it runs and starts it again on the same port.
 * Returns 0, or -1 if it did not come back within 5 s. */
int broker_restart(broker_t *b);

/* Open file descriptors and threads of this process (/proc/self). */
int count_open_fds(void);
int count_threads(void);
/* Waits (at most timeout_ms) until the thread count is at most n: a joined
 * thread leaves /proc/self/task a moment after pthread_join returns. Returns
 * the last count seen. */
int wait_threads_at_most(int n, unsigned timeout_ms);

/* Starts and joins one thread, so that runtime helper threads that appear on
 * the first pthread_create (ThreadSanitizer's) exist before a thread count
 * is taken as a baseline. */
void warm_up_threads(void);

/* A loopback port nothing listens on (bound, read back and closed). */
uint16_t unused_port(void);

/* Milliseconds from the monotonic clock. */
uint64_t now_ms(void);
void sleep_ms(unsigned ms);

/* A child process whose stdout and stderr go to a temporary file. */
typedef struct proc proc_t;

/* Starts argv[0] (looked up in /usr/bin, /usr/sbin, /usr/local/bin, else
 * PATH) with every descriptor above 2 closed. NULL if it could not. */
proc_t *proc_spawn(char *const argv[]);
/* True once the process has exited; *status gets its exit status
 * (128 + signal if killed). Does not block. */
bool proc_poll(proc_t *p, int *status);
/* Waits up to timeout_ms for it to exit. Returns its exit status, or -1 on
 * timeout (the process is then killed). */
int proc_wait(proc_t *p, unsigned timeout_ms);
/* Everything it printed so far, NUL-terminated; valid until the next call on
 * p or proc_free. Never NULL. */
const char *proc_output(proc_t *p);
/* Waits (bounded) until its output contains needle. */
bool proc_wait_output(proc_t *p, const char *needle, unsigned timeout_ms);
/* Kills it if it still runs, reaps it, removes its output file. NULL is a no-op. */
void proc_free(proc_t *p);
/* proc_free on every proc_t not yet freed (broker_stop calls it, so a test
 * that failed half-way leaves no mosquitto_sub behind). */
void proc_free_all(void);

/* Runs argv to completion (at most timeout_ms). Copies its output into out
 * (truncated, NUL-terminated; out may be NULL). Returns the exit status or -1
 * on timeout or spawn failure. */
int run_capture(char *const argv[], unsigned timeout_ms, char *out, size_t cap);

/* mosquitto_sub against b, subscribed (SUBACK seen) when this returns. It
 * prints each message as "P:<payload hex>:<qos>:<retain>:<topic>" and exits
 * after count messages or timeout_s seconds (exit status 27 on timeout).
 * NULL on failure. */
proc_t *broker_sub_start(const broker_t *b, const char *topic, int count, int timeout_s);
/* mosquitto_pub against b (the broker's user if it has one). Returns its exit status. */
int broker_pub(const broker_t *b, const char *topic, const char *payload, int qos, bool retain);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void to_hex(const void *data, size_t len, char *out);

/* A TCP server on a free loopback port that accepts connections and never
 * sends a byte: a broker that hangs. It runs in a child process so its
 * sockets do not count as this process's descriptors. */
typedef struct silent silent_t;
silent_t *silent_start(void);
uint16_t silent_port(const silent_t *s);
void silent_stop(silent_t *s);

#endif
