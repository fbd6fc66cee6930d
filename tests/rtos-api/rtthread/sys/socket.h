/*
 * A DECLARATION SUBSET of RT-Thread's SAL socket API (components/net/sal,
 * include/socket/sys_socket/sys/socket.h, RT-Thread 4.1/5.0; the types and
 * constants are lwIP's, which SAL mirrors) for compile checks only.
 */
#ifndef KMQTT_TEST_SYS_SOCKET_H
#define KMQTT_TEST_SYS_SOCKET_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t socklen_t;
typedef uint8_t sa_family_t;
typedef uint16_t in_port_t;

struct sockaddr {
    uint8_t sa_len;
    sa_family_t sa_family;
    char sa_data[14];
};

struct sockaddr_storage {
    uint8_t s2_len;
    sa_family_t ss_family;
    char s2_data1[2];
    uint32_t s2_data2[3];
    uint32_t s2_data3[3];
};

#define AF_UNSPEC   0
#define AF_INET     2
#define AF_INET6    10
#define PF_INET     AF_INET
#define SOCK_STREAM 1
#define SOCK_DGRAM  2
#define SOL_SOCKET  0xfff
#define SO_ERROR    0x1007
#define SO_SNDTIMEO 0x1005
#define SO_RCVTIMEO 0x1006
#define MSG_DONTWAIT 0x08

int socket(int domain, int type, int protocol);
int bind(int s, const struct sockaddr *name, socklen_t namelen);
int connect(int s, const struct sockaddr *name, socklen_t namelen);
int getsockname(int s, struct sockaddr *name, socklen_t *namelen);
int getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen);
int setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen);
int send(int s, const void *dataptr, size_t size, int flags);
int recv(int s, void *mem, size_t len, int flags);
int sendto(int s, const void *dataptr, size_t size, int flags, const struct sockaddr *to,
           socklen_t tolen);
int closesocket(int s);

#endif
