/** @file
 * kmqtt lwIP port — the three things the board gives the port.
 *
 * The lwIP port (src/port/lwip/) builds the whole of port.h on lwIP: its
 * sockets API for the transport and its sys_arch (sys_now, sys_mutex,
 * sys_sem, sys_thread_new) for time, locks and threads. lwIP's sys_arch has
 * no entropy source, no "which thread am I" and no rule for how a thread
 * ends, so the application (or board support) defines these three functions.
 * docs/port-lwip.md shows them for FreeRTOS, RT-Thread and the Linux test
 * host (src/port/lwip/host/unix_hooks.c).
 */
#ifndef KMQTT_PORT_LWIP_H
#define KMQTT_PORT_LWIP_H

#include <stddef.h>
#include <stdint.h>

#include "kmqtt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fills buf with len bytes from the device's entropy source (a hardware
 * RNG; client ids and reconnect jitter depend on it). Returns KMQTT_OK or
 * KMQTT_EIO. May block briefly. Called from any thread. */
kmqtt_err_t kmqtt_lwip_entropy(void *buf, size_t len);

/** An identity of the calling thread (task), unique among live threads and
 * never 0: the task handle on an RTOS. Never blocks. */
uintptr_t kmqtt_lwip_thread_self(void);

/** Called as the last thing on a thread started by kmqtt_port_thread_start,
 * after its function returned and kmqtt_port_thread_join may have freed its
 * handle. For kernels whose task function must not return, end the task
 * here (FreeRTOS: vTaskDelete(NULL)); elsewhere it may do nothing. */
void kmqtt_lwip_thread_exit(void);

#ifdef __cplusplus
}
#endif
#endif
