/* A DECLARATION SUBSET of RT-Thread SAL's netinet/in.h (4.1/5.0; lwIP's
 * layout), for compile checks only. */
#ifndef KMQTT_TEST_NETINET_IN_H
#define KMQTT_TEST_NETINET_IN_H

#include <stdint.h>
#include <sys/socket.h>

typedef uint32_t in_addr_t;
struct in_addr {
    in_addr_t s_addr;
};

struct sockaddr_in {
    uint8_t sin_len;
    sa_family_t sin_family;
    in_port_t sin_port;
    struct in_addr sin_addr;
    char sin_zero[8];
};

#define IPPROTO_IP  0
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

#endif
