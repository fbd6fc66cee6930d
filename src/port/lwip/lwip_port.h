/*
 * Internal to the lwIP port: the lwIP headers it needs, the options it
 * requires of lwipopts.h, its own #ifndef defaults, and the doorbell that
 * makes a blocked lwip_poll() return when another thread calls wake().
 */
#ifndef KMQTT_PORT_LWIP_INTERNAL_H
#define KMQTT_PORT_LWIP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/opt.h"
#include "lwip/def.h"
#include "lwip/sys.h"
#include "lwip/sockets.h"
#include "lwip/inet.h"
#include "lwip/errno.h"
#if LWIP_DNS
#include "lwip/netdb.h"
#endif

#include "kmqtt/error.h"
#include "kmqtt/port.h"
#include "kmqtt/port_lwip.h"

/* An lwIP built to use the C library's socket headers (Debian's liblwip,
 * LWIP_SOCKET_EXTERNAL_HEADERS) takes the C library's constants, so they come
 * from the same place lwIP's own sockets.c saw them. */
#if defined(LWIP_SOCKET_EXTERNAL_HEADERS) && LWIP_SOCKET_EXTERNAL_HEADERS
#include <fcntl.h>
#include <netinet/tcp.h>
#endif

/* What the port needs from lwipopts.h. */
#if NO_SYS
#error "kmqtt's lwIP port needs an OS (NO_SYS 0): sys_mutex, sys_sem and sys_thread_new"
#endif
#if !LWIP_SOCKET || !LWIP_TCP || !LWIP_UDP
#error "kmqtt's lwIP port needs LWIP_SOCKET, LWIP_TCP and LWIP_UDP"
#endif
#if !LWIP_SOCKET_POLL
#error "kmqtt's lwIP port waits with lwip_poll(): LWIP_SOCKET_POLL 1 (lwIP 2.1 or newer)"
#endif
#if !LWIP_NETIF_LOOPBACK && !LWIP_HAVE_LOOPIF
#error                                                                                             \
    "kmqtt's lwIP port rings its wake-up doorbell over 127.0.0.1: LWIP_NETIF_LOOPBACK or LWIP_HAVE_LOOPIF"
#endif

/* The longest single lwip_poll(). wait() and open() re-check the wake flag
 * between slices, so even a doorbell datagram lost to pbuf exhaustion delays
 * a wake by at most this much. */
#ifndef KMQTT_LWIP_WAKE_SLICE_MS
#define KMQTT_LWIP_WAKE_SLICE_MS 1000u
#endif

/* How long close() waits for the broker's FIN before closing. After our
 * DISCONNECT the broker closes first, so TIME_WAIT (2 * TCP_MSL, 2 minutes
 * by default) is spent in the broker's kernel, not in this device's PCB
 * pool. 0 = close at once (this side then holds TIME_WAIT). */
/* Threads that can wait on one condition at once without polling: each has
 * a record (a sys_sem) made with the condition. A client has its background
 * thread and the application threads in blocking calls; past this many, a
 * waiter re-checks every 10 ms instead of sleeping until signalled. */
#ifndef KMQTT_LWIP_COND_WAITERS
#define KMQTT_LWIP_COND_WAITERS 4
#endif

#ifndef KMQTT_LWIP_CLOSE_WAIT_MS
#define KMQTT_LWIP_CLOSE_WAIT_MS 500u
#endif

/* The background thread: sys_thread_new's name, stack size and priority
 * (units as the sys_arch defines them). It runs the application's message
 * handlers, so size the stack for them. */
#ifndef KMQTT_LWIP_THREAD_NAME
#define KMQTT_LWIP_THREAD_NAME "kmqtt"
#endif
#ifndef KMQTT_LWIP_THREAD_STACKSIZE
#define KMQTT_LWIP_THREAD_STACKSIZE DEFAULT_THREAD_STACKSIZE
#endif
#ifndef KMQTT_LWIP_THREAD_PRIO
#define KMQTT_LWIP_THREAD_PRIO DEFAULT_THREAD_PRIO
#endif

/* ---------------------------------------------------------------- doorbell */

/* A UDP socket that rings itself at 127.0.0.1. wake() sets a flag and, if it
 * was clear, sends the socket one byte; lwip_poll() on the socket
 * then returns in whichever thread is blocked. The flag, not the datagram,
 * says whether a wake is pending, so a datagram that arrives late (loopback
 * goes through the tcpip thread) only causes one more look at the flag. */
typedef struct lwip_bell {
    int fd;                /* -1 when not created */
    struct sockaddr_in to; /* 127.0.0.1 and the socket's port */
    sys_mutex_t lock;
    bool lock_ok;
    bool pending;
} lwip_bell_t;

/* Creates the socket and lock. KMQTT_OK, KMQTT_ENOMEM or KMQTT_EIO; on failure
 * nothing is held. */
kmqtt_err_t lwip_bell_create(lwip_bell_t *b);
/* Frees what create took; no other thread may use b any more. */
void lwip_bell_destroy(lwip_bell_t *b);
/* Any thread (not an interrupt): raises the flag and rings once. */
void lwip_bell_ring(lwip_bell_t *b);
/* Discards datagrams, then takes the flag: true if a wake was pending. */
bool lwip_bell_take(lwip_bell_t *b);

#endif
