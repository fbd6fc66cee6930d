/*
 * rtconfig.h for the RT-Thread port's compile check: what menuconfig writes
 * for a board with the kmqtt package enabled (the PKG_KMQTT_* options of
 * the package Kconfig), on a 1 kHz tick with SAL and finsh.
 */
#ifndef RT_CONFIG_H__
#define RT_CONFIG_H__

#define RT_NAME_MAX 8
#define RT_TICK_PER_SECOND 1000
#define RT_THREAD_PRIORITY_32
#define RT_THREAD_PRIORITY_MAX 32
#define RT_VER_NUM 0x50100
#define RT_USING_HEAP
#define RT_USING_MUTEX
#define RT_USING_SEMAPHORE
#define RT_USING_EVENT
#define RT_USING_CONSOLE
#define RT_USING_FINSH
#define FINSH_USING_MSH
#define RT_USING_DEVICE
#define RT_USING_DFS
#define DFS_USING_POSIX
#define RT_USING_POSIX_FS
#define RT_USING_POSIX_POLL
#define RT_USING_POSIX_SELECT
#define RT_USING_POSIX_SOCKET
#define RT_USING_POSIX_PIPE
#define RT_USING_POSIX_PIPE_SIZE 512
#define RT_USING_SAL
#define SAL_USING_POSIX
#define RT_USING_NETDEV

#define PKG_USING_KMQTT
#define PKG_KMQTT_USING_V5
#define PKG_KMQTT_USING_QOS2
#define PKG_KMQTT_USING_STRERROR
#define PKG_KMQTT_WAKE_PIPE
#define PKG_KMQTT_MAX_CONTEXTS 4
#define PKG_KMQTT_USING_MSH_CMD
#define PKG_KMQTT_RX_BUFFER_SIZE 2048
#define PKG_KMQTT_TX_BUFFER_SIZE 2048
#define PKG_KMQTT_STORE_SIZE 4096
#define PKG_KMQTT_MAX_INFLIGHT 10
#define PKG_KMQTT_MAX_SUBSCRIPTIONS 16
#define PKG_KMQTT_MAX_FILTER_LEN 96
#define PKG_KMQTT_THREAD_STACK_SIZE 3072
#define PKG_KMQTT_THREAD_PRIORITY 12

#endif
