/*
 * A DECLARATION SUBSET of RT-Thread SAL's sal_low_lvl.h (4.1/5.x) for
 * compile checks: the socket structure the port counts, and the operations
 * table a stack gives SAL. The AT socket stack (sal/impl/af_inet_at.c) leaves
 * ioctlsocket NULL (and getsockname, getpeername, sendmsg, recvmsg), so
 * fcntl(F_SETFL, O_NONBLOCK) on an AT socket returns -1: the transport must
 * not depend on it (the at_ops_standin below is that table).
 */
#ifndef SAL_LOW_LVL_H__
#define SAL_LOW_LVL_H__

#include <rtthread.h>
#include <sys/socket.h>

struct sal_socket {
    rt_uint32_t magic;
    int socket;
    int domain;
    int type;
    int protocol;
    void *netdev;
    void *user_data;
    void *user_data_tls;
};

struct sal_socket_ops {
    int (*socket)(int domain, int type, int protocol);
    int (*closesocket)(int s);
    int (*bind)(int s, const struct sockaddr *name, socklen_t namelen);
    int (*listen)(int s, int backlog);
    int (*connect)(int s, const struct sockaddr *name, socklen_t namelen);
    int (*accept)(int s, struct sockaddr *addr, socklen_t *addrlen);
    int (*sendto)(int s, const void *data, size_t size, int flags, const struct sockaddr *to,
                  socklen_t tolen);
    void *sendmsg;
    void *recvmsg;
    int (*recvfrom)(int s, void *mem, size_t len, int flags, struct sockaddr *from,
                    socklen_t *fromlen);
    int (*getsockopt)(int s, int level, int optname, void *optval, socklen_t *optlen);
    int (*setsockopt)(int s, int level, int optname, const void *optval, socklen_t optlen);
    int (*shutdown)(int s, int how);
    int (*getpeername)(int s, struct sockaddr *name, socklen_t *namelen);
    int (*getsockname)(int s, struct sockaddr *name, socklen_t *namelen);
    int (*ioctlsocket)(int s, long cmd, void *arg);
    int (*socketpair)(int s, int type, int protocol, int *fds);
};

/* What af_inet_at.c hands SAL (without AT_USING_SOCKET_SERVER): no
 * ioctlsocket, no getsockname. */
#define KMQTT_TEST_AT_SOCKET_OPS                                                                   \
    {at_socket, at_closesocket, at_bind, NULL, at_connect, NULL, at_sendto, NULL, NULL,           \
     at_recvfrom, at_getsockopt, at_setsockopt, at_shutdown, NULL, NULL, NULL, NULL}

#endif
