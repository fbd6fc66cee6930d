/*
 * FreeRTOS + lwIP's side of the shared BSD-socket transport (src/port/bsd):
 * lwIP's socket API by its lwip_* names (so LWIP_COMPAT_SOCKETS may be
 * anything), lwip_select, lwip_fcntl for a non-blocking connect. The wake
 * channel is a UDP socket bound to 127.0.0.1 (select() watches sockets only)
 * opened with each connection and closed with it; it needs
 * LWIP_NETIF_LOOPBACK, and a datagram may be dropped (no pbuf), so waits are
 * cut into 1 s slices. FreeRTOS-Plus-TCP is not supported by this port.
 */
#ifndef KMQTT_FREERTOS_BSD_OS_H
#define KMQTT_FREERTOS_BSD_OS_H

#include "FreeRTOS.h"
#include "semphr.h"

#include <errno.h>

#include "lwip/netdb.h"
#include "lwip/sockets.h"

#define KB_SOCKET       lwip_socket
#define KB_CONNECT      lwip_connect
#define KB_CLOSE        lwip_close
#define KB_SEND         lwip_send
#define KB_RECV         lwip_recv
#define KB_SETSOCKOPT   lwip_setsockopt
#define KB_GETSOCKOPT   lwip_getsockopt
#define KB_GETADDRINFO  lwip_getaddrinfo
#define KB_FREEADDRINFO lwip_freeaddrinfo
#define KB_SELECT       lwip_select
#define KB_FCNTL        lwip_fcntl

#define KMQTT_BSD_FCNTL     1
#define KMQTT_BSD_POLL      0
#define KMQTT_BSD_NODELAY   1
#define KMQTT_BSD_CHAN_SURE 0

typedef struct kmqtt_bsd_os {
    SemaphoreHandle_t pending; /* binary: given = a wake is pending */
    SemaphoreHandle_t lock;    /* wake() may come from several tasks */
    int wake_rx;               /* -1 when closed */
    int wake_tx;
    struct sockaddr_in wake_addr;
} kmqtt_bsd_os_t;

#endif
