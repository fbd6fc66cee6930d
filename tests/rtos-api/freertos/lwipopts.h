/*
 * lwipopts.h for the FreeRTOS port's compile check: the options a typical
 * FreeRTOS + lwIP 2.1 firmware sets for the BSD socket API (the kmqtt
 * FreeRTOS port needs LWIP_SOCKET, LWIP_SOCKET_SELECT, LWIP_DNS and,
 * for the fastest wake-up, LWIP_NETIF_LOOPBACK with LWIP_HAVE_LOOPIF). The
 * lwIP headers themselves are Debian's liblwip-dev (lwIP 2.1.3), unchanged.
 */
#ifndef KMQTT_TEST_LWIPOPTS_H
#define KMQTT_TEST_LWIPOPTS_H

#define NO_SYS 0
#define LWIP_SOCKET 1
#define LWIP_NETCONN 1
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_SELECT 1
#define LWIP_SOCKET_POLL 0
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_DNS 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1
#define MEM_ALIGNMENT 4
#define LWIP_TCPIP_CORE_LOCKING 1

#endif
