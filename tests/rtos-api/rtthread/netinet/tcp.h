/* A DECLARATION SUBSET of RT-Thread SAL's netinet/tcp.h (4.1/5.0), for
 * compile checks only. */
#ifndef KMQTT_TEST_NETINET_TCP_H
#define KMQTT_TEST_NETINET_TCP_H

#define TCP_NODELAY 0x01

#endif
