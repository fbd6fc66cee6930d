/*
 * What the FreeRTOS port offers the application beyond include/kmqtt/port.h:
 * a kmqtt_mem backend on pvPortMalloc/vPortFree, the entropy hook, and a
 * report of every client's memory for the application's console (the
 * FreeRTOS-Plus-CLI or a UART shell).
 */
#ifndef KMQTT_FREERTOS_H
#define KMQTT_FREERTOS_H

#include <stddef.h>

#include "kmqtt/mem.h"
#include "kmqtt/port.h"

/* Stack (in words, as xTaskCreate counts) and priority of the client's
 * background task (kmqtt_start). */
#ifndef KMQTT_FREERTOS_STACK_WORDS
#define KMQTT_FREERTOS_STACK_WORDS 768
#endif
#ifndef KMQTT_FREERTOS_PRIORITY
#define KMQTT_FREERTOS_PRIORITY (tskIDLE_PRIORITY + 2)
#endif
/* Contexts the report can list at once. */
#ifndef KMQTT_FREERTOS_MAX_CONTEXTS
#define KMQTT_FREERTOS_MAX_CONTEXTS 4
#endif

/* A backend on pvPortMalloc/vPortFree, for kmqtt_mem_config_t.backend. */
extern const kmqtt_mem_backend_t kmqtt_freertos_heap;

/* The kernel has no entropy source: give one (a hardware RNG) for client ids
 * and reconnect jitter. Without it the tick count is stirred: distinct per
 * boot moment, not secret. fn returns 0 on success. Set it at start-up. */
void kmqtt_freertos_set_entropy(int (*fn)(void *buf, size_t len));

/* Writes every registered client's memory report (totals, tags, and live
 * blocks of clients created with mem_debug) through print, one line per
 * call, each client's under its own lock. Returns the number of clients.
 * Blocks while a client holds its lock. */
size_t kmqtt_freertos_mem_report(void (*print)(void *ctx, const char *line), void *ctx);

#endif
