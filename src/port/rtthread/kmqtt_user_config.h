/*
 * The kmqtt build options from the RT-Thread package configuration: menuconfig
 * writes PKG_KMQTT_* into rtconfig.h (see the package's Kconfig), this maps
 * them onto the KMQTT_CFG_* names of include/kmqtt/config.h and the port's
 * own. Picked up because SConscript defines KMQTT_USER_CONFIG and puts this
 * folder on the include path. ctest port.rtthread.kconfig checks that every
 * Kconfig option changes the built package.
 */
#ifndef KMQTT_USER_CONFIG_H
#define KMQTT_USER_CONFIG_H

#include <rtconfig.h>

#ifdef PKG_KMQTT_USING_V5
#define KMQTT_CFG_V5 1
#else
#define KMQTT_CFG_V5 0
#endif

#ifdef PKG_KMQTT_USING_QOS2
#define KMQTT_CFG_QOS2 1
#else
#define KMQTT_CFG_QOS2 0
#endif

#ifdef PKG_KMQTT_USING_TLS
#define KMQTT_CFG_TLS 1
#else
#define KMQTT_CFG_TLS 0
#endif

#ifdef PKG_KMQTT_USING_STRERROR
#define KMQTT_CFG_STRERROR 1
#else
#define KMQTT_CFG_STRERROR 0
#endif

#ifdef PKG_KMQTT_USING_OFFLINE_QUEUE
#define KMQTT_CFG_OFFLINE_QUEUE 1
#else
#define KMQTT_CFG_OFFLINE_QUEUE 0
#endif

/* A device is a client: the server half of the codec stays out. */
#define KMQTT_CFG_SERVER_CODEC 0

/* The wake pipe (PKG_KMQTT_WAKE_PIPE, which selects RT_USING_POSIX_PIPE). */
#ifndef PKG_KMQTT_WAKE_PIPE
#define KMQTT_RTT_NO_WAKE_PIPE
#endif

/* The nano client: its buffers are the caller's, so only its tables are
 * build options. */
#ifdef PKG_KMQTT_NANO_INBOUND_QOS2
#define KMQTT_NANO_INBOUND_QOS2 PKG_KMQTT_NANO_INBOUND_QOS2
#endif
#ifdef PKG_KMQTT_NANO_MAX_REQUESTS
#define KMQTT_NANO_MAX_REQUESTS PKG_KMQTT_NANO_MAX_REQUESTS
#endif
/* What only the threaded client asks of the engine: the 3.1.1 one-bit-per-id
 * table, the 3.1.1 resend on the same connection, topic aliases. */
#ifdef PKG_KMQTT_NANO_CLIENT
#define KMQTT_CFG_INBOUND_BITS 0
#define KMQTT_CFG_RETRY 0
#define KMQTT_CFG_TOPIC_ALIAS 0
#endif

/* The full client's defaults (kmqtt_client_options_init). */
#ifdef PKG_KMQTT_RX_BUFFER_SIZE
#define KMQTT_CFG_RX_BUFFER_SIZE PKG_KMQTT_RX_BUFFER_SIZE
#endif
#ifdef PKG_KMQTT_TX_BUFFER_SIZE
#define KMQTT_CFG_TX_BUFFER_SIZE PKG_KMQTT_TX_BUFFER_SIZE
#endif
#ifdef PKG_KMQTT_STORE_SIZE
#define KMQTT_CFG_STORE_SIZE PKG_KMQTT_STORE_SIZE
#endif
#ifdef PKG_KMQTT_MAX_INFLIGHT
#define KMQTT_CFG_MAX_INFLIGHT PKG_KMQTT_MAX_INFLIGHT
#endif
#ifdef PKG_KMQTT_MAX_SUBSCRIPTIONS
#define KMQTT_CFG_MAX_SUBSCRIPTIONS PKG_KMQTT_MAX_SUBSCRIPTIONS
#endif
#ifdef PKG_KMQTT_MAX_FILTER_LEN
#define KMQTT_CFG_MAX_FILTER_LEN PKG_KMQTT_MAX_FILTER_LEN
#endif

/* The port: the background thread, and the registry behind msh `kmqtt`. */
#if defined(PKG_KMQTT_THREAD_STACK_SIZE) && !defined(KMQTT_RTT_THREAD_STACK)
#define KMQTT_RTT_THREAD_STACK PKG_KMQTT_THREAD_STACK_SIZE
#endif
#if defined(PKG_KMQTT_THREAD_PRIORITY) && !defined(KMQTT_RTT_THREAD_PRIO)
#define KMQTT_RTT_THREAD_PRIO PKG_KMQTT_THREAD_PRIORITY
#endif
#if defined(PKG_KMQTT_MAX_CONTEXTS) && !defined(KMQTT_RTT_MAX_CONTEXTS)
#define KMQTT_RTT_MAX_CONTEXTS PKG_KMQTT_MAX_CONTEXTS
#endif

#endif
