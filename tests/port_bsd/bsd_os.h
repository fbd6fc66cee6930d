/*
 * The shared BSD-socket transport (src/port/bsd) on the host, over POSIX
 * sockets, with a stand-in for each RTOS network path (tests/integration/
 * test_bsd_transport.c): KB_TEST_LWIP behaves like lwIP behind SAL;
 * KB_TEST_AT5 and KB_TEST_AT41 like RT-Thread's AT sockets (5.x and 4.1):
 * fcntl fails (SAL's ioctlsocket is NULL), the socket stays blocking, and a
 * MSG_DONTWAIT recv with nothing to read marks the socket in error for good
 * (5.x: poll reports POLLERR from then on) or returns 0 as if the peer had
 * closed (4.1); KB_TEST_NETDOWN makes poll fail at once, as SAL's does when
 * the netdev under an open socket is down.
 */
#ifndef KMQTT_TEST_BSD_OS_H
#define KMQTT_TEST_BSD_OS_H

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

/* The test's transport lives beside the POSIX port's in one program. */
#define kmqtt_port_tcp_create kb_test_tcp_create
#define kmqtt_port_tcp_size   kb_test_tcp_size

int kb_test_socket(int domain, int type, int protocol);
int kb_test_connect(int fd, const struct sockaddr *a, socklen_t len);
int kb_test_close(int fd);
int kb_test_send(int fd, const void *buf, size_t len, int flags);
int kb_test_recv(int fd, void *buf, size_t len, int flags);
int kb_test_poll(struct pollfd *p, nfds_t n, int ms);
int kb_test_fcntl(int fd, int cmd, int arg);

#define KB_SOCKET       kb_test_socket
#define KB_CONNECT      kb_test_connect
#define KB_CLOSE        kb_test_close
#define KB_SEND         kb_test_send
#define KB_RECV         kb_test_recv
#define KB_SETSOCKOPT   setsockopt
#define KB_GETSOCKOPT   getsockopt
#define KB_GETADDRINFO  getaddrinfo
#define KB_FREEADDRINFO freeaddrinfo
#define KB_POLL         kb_test_poll
#define KB_FCNTL        kb_test_fcntl

#define KMQTT_BSD_FCNTL     1
#define KMQTT_BSD_POLL      1
#define KMQTT_BSD_NODELAY   1
#define KMQTT_BSD_CHAN_SURE 1

typedef struct kmqtt_bsd_os {
    pthread_mutex_t mx;
    pthread_cond_t cv;
    int flag;
    pthread_mutex_t lock;
    int pipe_rd;
    int pipe_wr;
} kmqtt_bsd_os_t;

typedef enum kb_test_mode { KB_TEST_LWIP = 0, KB_TEST_AT5, KB_TEST_AT41 } kb_test_mode_t;

/* What the stand-in saw, for the test's assertions. */
typedef struct kb_test_stats {
    unsigned polls;          /* poll() calls */
    unsigned empty_dontwait; /* MSG_DONTWAIT recv with nothing to read (AT: a false error) */
    unsigned sockets_open;   /* stream sockets open now */
    unsigned chans_open;     /* wake pipes open now */
    int last_blocking;       /* the transport's last note: 1 blocking, 0 not, -1 none */
} kb_test_stats_t;

extern kb_test_mode_t kb_test_mode;
extern volatile int kb_test_netdown; /* poll on a stream socket fails, errno 0 */
extern kb_test_stats_t kb_test_stats;

#endif
