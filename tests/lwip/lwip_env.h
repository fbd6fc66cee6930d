/*
 * The lwIP side of the lwIP port test: lwIP brought up over a tap device
 * with a static address, counters of lwIP sockets and PCBs (to prove every
 * cycle returns them), and the mosquitto this process starts, restarts and
 * stops inside the test's network namespace (see run_lwip_test.sh).
 */
#ifndef KMQTT_TEST_LWIP_ENV_H
#define KMQTT_TEST_LWIP_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/mem.h"

/* Brings lwIP up: tcpip_init, a netif over the tap named by the environment
 * (PRECONFIGURED_TAPIF; driver in tapnetif.c) with address ip/24 and
 * gateway gw, made the default. 0, or -1 with a message on stderr. */
int lwip_env_up(const char *ip, const char *gw);

/* Takes the netif down and stops the tap driver (lwIP's threads stay). */
void lwip_env_down(void);

/* lwIP sockets open now (lwip_socket_dbg_get_socket over the number range). */
int lwip_env_sockets(void);

typedef struct lwip_pcbs {
    int tcp_active; /* every TCP PCB but LISTEN and TIME_WAIT */
    int tcp_time_wait;
    int udp;
} lwip_pcbs_t;

/* Counts the PCB lists under the tcpip core lock. */
void lwip_env_pcbs(lwip_pcbs_t *out);

/* Waits (at most timeout_ms) until the active TCP PCBs are at most n (a
 * closed connection leaves LAST_ACK when the broker's ACK arrives). Returns
 * the last count. */
int lwip_env_wait_tcp_active(int n, unsigned timeout_ms);

/* mosquitto, from the config file the driver wrote ($KMQTT_LWIP_CONF),
 * logging to $KMQTT_LWIP_LOG; its pid goes to $KMQTT_LWIP_PIDFILE so the
 * driver can stop it if this process dies. Start waits (at most 10 s) until
 * it accepts connections at addr:port. 0 or -1. */
int lwip_env_broker_start(const char *addr, uint16_t port);
void lwip_env_broker_stop(void);
/* How many times needle occurs in the broker's log. */
size_t lwip_env_broker_log_count(const char *needle);
/* Waits (at most timeout_ms) until needle occurs n times; true if it does. */
bool lwip_env_broker_log_wait(const char *needle, size_t n, unsigned timeout_ms);

/* Runs argv (looked up as given) to completion, at most timeout_ms; returns
 * its exit status or -1. Its output goes to the broker's directory. */
int lwip_env_run(char *const argv[], unsigned timeout_ms);

uint64_t lwip_env_now_ms(void);
void lwip_env_sleep_ms(unsigned ms);
/* Threads of this process (/proc/self/task). */
int lwip_env_threads(void);

/* The cmocka group fixtures of every lwIP test program: read the addresses
 * run_lwip_test.sh exports, bring lwIP up and start the broker on port; and
 * the reverse. The addresses are lwip_env_ip() and lwip_env_broker_ip(). */
int lwip_env_group_setup(const char *prog, uint16_t port);
int lwip_env_group_teardown(void);
const char *lwip_env_ip(void);
const char *lwip_env_broker_ip(void);

/* What a connection cycle must return to: m's bytes and blocks, lwIP
 * sockets, active TCP PCBs and this process's threads. */
typedef struct lwip_env_baseline {
    size_t bytes;
    size_t blocks;
    int sockets;
    int tcp_active;
    int threads;
} lwip_env_baseline_t;

void lwip_env_take_baseline(kmqtt_mem_t *m, lwip_env_baseline_t *b);
/* True when everything is back at b (threads compared only with
 * check_threads: a joined thread leaves /proc a moment late); else prints
 * what differs, with what and cycle, to stderr. */
bool lwip_env_at_baseline(kmqtt_mem_t *m, const lwip_env_baseline_t *b, bool check_threads,
                          const char *what, int cycle);

#endif
