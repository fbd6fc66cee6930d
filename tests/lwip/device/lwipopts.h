/*
 * A device's lwipopts.h for compiling the lwIP port for Cortex-M
 * (tests/lwip/device_compile.sh): lwIP's own socket definitions, not the C
 * library's. KMQTT_DEV_VARIANT 1 turns DNS, IPv6 and core locking off.
 */
#ifndef KMQTT_DEV_LWIPOPTS_H
#define KMQTT_DEV_LWIPOPTS_H

#define NO_SYS              0
#define LWIP_SOCKET         1
#define LWIP_NETCONN        1
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_PROVIDE_ERRNO  1
#define MEMP_NUM_NETCONN    8
#define MEMP_NUM_TCP_PCB    6
#define MEMP_NUM_UDP_PCB    6

#if KMQTT_DEV_VARIANT == 1
#define LWIP_DNS                0
#define LWIP_IPV6               0
#define LWIP_TCPIP_CORE_LOCKING 0
#else
#define LWIP_DNS                1
#define LWIP_IPV6               1
#define LWIP_TCPIP_CORE_LOCKING 1
#endif

#endif
