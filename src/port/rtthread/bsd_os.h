/*
 * RT-Thread's side of the shared BSD-socket transport (src/port/bsd): SAL
 * sockets as DFS descriptors (SAL_USING_POSIX), poll(), and a wake channel
 * that needs neither loopback nor a network: a DFS pipe (RT_USING_POSIX_PIPE)
 * opened with each connection and closed with it. The wake flag is an
 * rt_event inside the transport's own block.
 *
 * Two network paths go through here: lwIP behind SAL takes O_NONBLOCK and
 * connects without blocking; AT sockets (at_device: EC20, Air720, ML307,
 * SIM7600 ...) refuse fcntl (SAL's ioctlsocket is NULL), so their socket
 * stays blocking: connect blocks for the modem driver's command timeout and
 * send/recv are only called when poll() says the socket is ready.
 */
#ifndef KMQTT_RTT_BSD_OS_H
#define KMQTT_RTT_BSD_OS_H

#include <rtthread.h>

#include "kmqtt/config.h" /* kmqtt_user_config.h: KMQTT_RTT_NO_WAKE_PIPE */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#define KB_SOCKET       socket
#define KB_CONNECT      connect
#define KB_CLOSE        closesocket
#define KB_SEND         send
#define KB_RECV         recv
#define KB_SETSOCKOPT   setsockopt
#define KB_GETSOCKOPT   getsockopt
#define KB_GETADDRINFO  getaddrinfo
#define KB_FREEADDRINFO freeaddrinfo
#define KB_POLL         poll
#define KB_FCNTL        fcntl

#define KMQTT_BSD_FCNTL   1
#define KMQTT_BSD_POLL    1
#define KMQTT_BSD_NODELAY 1
/* A byte in a pipe is not lost: with the pipe, waits need no slices. */
#define KMQTT_BSD_CHAN_SURE 1

/* The wake pipe is small: one byte in it is a pending wake. */
#ifndef KMQTT_RTT_PIPE_SIZE
#define KMQTT_RTT_PIPE_SIZE 16
#endif

#if defined(RT_USING_POSIX_PIPE) && !defined(KMQTT_RTT_NO_WAKE_PIPE)
#define KMQTT_RTT_WAKE_PIPE 1
#else
#define KMQTT_RTT_WAKE_PIPE 0
#endif

typedef struct kmqtt_bsd_os {
    struct rt_event flag; /* bit 0: a wake is pending */
    struct rt_mutex lock;
    int pipe_rd; /* -1 when closed */
    int pipe_wr;
    char pipe_name[RT_NAME_MAX];
} kmqtt_bsd_os_t;

#endif
