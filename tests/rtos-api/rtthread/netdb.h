/* A DECLARATION SUBSET of RT-Thread SAL's netdb.h (components/net/sal,
 * include/socket/netdb.h, 4.1/5.0; lwIP's layout), for compile checks only. */
#ifndef KMQTT_TEST_NETDB_H
#define KMQTT_TEST_NETDB_H

#include <sys/socket.h>

struct addrinfo {
    int ai_flags;
    int ai_family;
    int ai_socktype;
    int ai_protocol;
    socklen_t ai_addrlen;
    struct sockaddr *ai_addr;
    char *ai_canonname;
    struct addrinfo *ai_next;
};

#define AI_PASSIVE     0x01
#define AI_CANONNAME   0x02
#define AI_NUMERICHOST 0x04
#define AI_NUMERICSERV 0x08

int getaddrinfo(const char *nodename, const char *servname, const struct addrinfo *hints,
                struct addrinfo **res);
void freeaddrinfo(struct addrinfo *ai);

#endif
