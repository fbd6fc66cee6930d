/*
 * What the RT-Thread port offers the application beyond include/kmqtt/port.h:
 * a kmqtt_mem backend on the RT-Thread heap, the entropy hook, and the list
 * of registered memory contexts the msh command `kmqtt_mem` prints.
 */
#ifndef KMQTT_RTTHREAD_H
#define KMQTT_RTTHREAD_H

#include <stddef.h>

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
#define KMQTT_RTT_THREAD_PRIO 12
#endif
#endif
/* Contexts the msh command can list at once. */
#ifndef KMQTT_RTT_MAX_CONTEXTS
#define KMQTT_RTT_MAX_CONTEXTS 4
#endif

/* A backend on rt_malloc/rt_free, for kmqtt_mem_config_t.backend. */
extern const kmqtt_mem_backend_t kmqtt_rtthread_heap;

/* The platform has no standard entropy source: give one (a hardware RNG)
 * for client ids and reconnect jitter. Without it kmqtt_port_random mixes
 * the tick counter and a counter: unique enough per device boot, not
 * secret. fn returns 0 on success. Not thread-safe: set it at start-up. */
void kmqtt_rtthread_set_entropy(int (*fn)(void *buf, size_t len));

/* Calls fn for every registered context (each client's) with its guard
 * held, so the context cannot change or go away meanwhile. Returns the
 * number of contexts. fn must not call into the client. */
size_t kmqtt_rtthread_mem_foreach(void (*fn)(void *ctx, kmqtt_mem_t *m), void *ctx);

#endif
