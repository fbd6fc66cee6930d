/*
 * Shared inside the RT-Thread port: millisecond to tick conversion and the
 * diagnostics registry's bookkeeping (registry.c).
 */
#ifndef KMQTT_RTT_INTERNAL_H
#define KMQTT_RTT_INTERNAL_H

#include <rtthread.h>

#include "kmqtt_rtthread.h"

/* Milliseconds to ticks for a timed kernel wait: RT_WAITING_NO for 0, at
 * least one tick otherwise, capped below the kernel's "forever". */
rt_int32_t kmqtt_rtt_ticks(uint32_t ms);

/* The port's spinlock with interrupts off (clock.c): short sections only,
 * SMP-safe where rt_enter_critical is not. */
rt_base_t kmqtt_rtt_spin_take(void);
void kmqtt_rtt_spin_give(rt_base_t level);

/* RT-Thread heap spent for the context m (registered or not: then nothing
 * is recorded) changes by delta bytes of the given kind. */
void kmqtt_rtt_registry_heap(kmqtt_mem_t *m, kmqtt_rtthread_heap_kind_t kind, long delta);
/* The transport of m opened fd (and the wake channel chan) to host:port, or
 * closed it (fd -1). */
void kmqtt_rtt_registry_socket(kmqtt_mem_t *m, int fd, int chan, const char *host, uint16_t port,
                               bool blocking);
/* The background thread of m is called name (NULL: it ended). */
void kmqtt_rtt_registry_thread(kmqtt_mem_t *m, const char *name);

#endif
