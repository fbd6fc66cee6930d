/*
 * What the RT-Thread port offers the application beyond include/kmqtt/port.h:
 * a kmqtt_mem backend on the RT-Thread heap, the entropy hook, the netdev
 * hook, and the registry of memory contexts behind the msh command `kmqtt`.
 */
#ifndef KMQTT_RTTHREAD_H
#define KMQTT_RTTHREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/config.h" /* kmqtt_user_config.h: the package options */
#include "kmqtt/mem.h"
#include "kmqtt/port.h"

/* Stack and priority of the client's background thread (kmqtt_start). */
#ifndef KMQTT_RTT_THREAD_STACK
#ifdef PKG_KMQTT_THREAD_STACK_SIZE
#define KMQTT_RTT_THREAD_STACK PKG_KMQTT_THREAD_STACK_SIZE
#else
#define KMQTT_RTT_THREAD_STACK 2048
#endif
#endif
#ifndef KMQTT_RTT_THREAD_PRIO
#ifdef PKG_KMQTT_THREAD_PRIORITY
#define KMQTT_RTT_THREAD_PRIO PKG_KMQTT_THREAD_PRIORITY
#else
/* The middle of the priorities the kernel has (8, 32 or 256). */
#define KMQTT_RTT_THREAD_PRIO (RT_THREAD_PRIORITY_MAX / 2)
#endif
#endif
/* Contexts the msh command can list at once. */
#ifndef KMQTT_RTT_MAX_CONTEXTS
#define KMQTT_RTT_MAX_CONTEXTS 4
#endif
/* How long a join waits for the idle thread to free the ended thread's stack
 * and control block (RT-Thread frees them there, after the thread ended), so
 * `free` right after a disconnect shows them returned. */
#ifndef KMQTT_RTT_REAP_WAIT_MS
#define KMQTT_RTT_REAP_WAIT_MS 200
#endif

/* A backend on rt_malloc/rt_free, for kmqtt_mem_config_t.backend. */
extern const kmqtt_mem_backend_t kmqtt_rtthread_heap;

/* The platform has no standard entropy source: give one (a hardware RNG)
 * for client ids and reconnect jitter. Without it kmqtt_port_random mixes
 * the tick counter and a counter: unique enough per device boot, not
 * secret. fn returns 0 on success. Not thread-safe: set it at start-up. */
void kmqtt_rtthread_set_entropy(int (*fn)(void *buf, size_t len));

/* RT-Thread heap spent on a client's behalf outside its kmqtt_mem context:
 * the background thread's stack and control block (rt_thread_create), the
 * wake pipe (device and ring buffer), and SAL's socket structure. The
 * stack's own per-socket memory (lwIP netconn and PCB from its pools, an AT
 * socket's buffers) is not counted. The port's mutexes, semaphores and
 * events live inside kmqtt_mem blocks (rt_*_init) and show under its tags. */
typedef enum kmqtt_rtthread_heap_kind {
    KMQTT_RTT_HEAP_STACK = 0,
    KMQTT_RTT_HEAP_THREAD,
    KMQTT_RTT_HEAP_PIPE,
    KMQTT_RTT_HEAP_SOCKET,
    KMQTT_RTT_HEAP_KINDS
} kmqtt_rtthread_heap_kind_t;

#define KMQTT_RTT_SERVER_MAX 48
#define KMQTT_RTT_NAME_MAX   16

/* What the port knows of one registered context (a snapshot). */
typedef struct kmqtt_rtthread_info {
    kmqtt_mem_t *mem;
    kmqtt_port_mutex_t *guard;         /* lock around reading mem (NULL: none) */
    bool client;                       /* registered by kmqtt_client_create */
    int socket;                        /* the open socket's descriptor; -1: none */
    int wake_fd;                       /* the wake pipe's read end; -1: none */
    bool blocking;                     /* the stack refused non-blocking mode (AT socket) */
    char server[KMQTT_RTT_SERVER_MAX]; /* host:port of the open socket */
    char thread[KMQTT_RTT_NAME_MAX];   /* the background thread's name; "" none */
    size_t heap[KMQTT_RTT_HEAP_KINDS]; /* bytes now, by kind */
    size_t heap_peak;                  /* highest sum of heap[] */
} kmqtt_rtthread_info_t;

/* Calls fn for every registered context with a snapshot of what the port
 * knows of it. The context cannot be unregistered (its client destroyed)
 * while fn runs, but fn holds no lock: lock info->guard around reading the
 * context. Returns the number of contexts. Blocks briefly. A nano client's
 * context is listed too once the application registers it:
 * kmqtt_port_mem_register(&mem, NULL) after kmqtt_mem_init and
 * kmqtt_port_mem_unregister(&mem) before the context goes. The guard must be
 * NULL there: a guard marks the context as a full client's. */
size_t kmqtt_rtthread_foreach(void (*fn)(void *ctx, const kmqtt_rtthread_info_t *info), void *ctx);

/* Optional: watches a netdev's status (RT_USING_NETDEV) and calls fn(arg,
 * up) from the netdev's callback when it goes up (internet up) or down, so
 * the application can reconnect when the link returns (kmqtt_connect, or
 * kmqtt_nano_connect) instead of waiting out a backoff. netdev_name NULL:
 * the default netdev. One watch at a time; it replaces the netdev's status
 * callback (netdev_set_status_callback): a BSP that uses that callback
 * itself calls kmqtt_rtthread_netdev_event from its own. Returns KMQTT_OK,
 * KMQTT_EINVAL (no such netdev) or KMQTT_EUNSUPPORTED (no netdev). fn runs
 * in the thread that changed the status and must not block. */
kmqtt_err_t kmqtt_rtthread_netdev_watch(const char *netdev_name, void (*fn)(void *arg, bool up),
                                        void *arg);
/* For a BSP that keeps its own status callback: pass each event on (the
 * enum netdev_cb_type value). */
void kmqtt_rtthread_netdev_event(int netdev_cb_type);

#endif
