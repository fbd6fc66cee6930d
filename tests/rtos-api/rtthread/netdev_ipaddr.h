/* A DECLARATION SUBSET of RT-Thread's netdev_ipaddr.h for compile checks. */
#ifndef __NETDEV_IPADDR_H__
#define __NETDEV_IPADDR_H__

#include <stdint.h>

typedef struct {
    uint32_t addr;
} ip_addr_t;

#endif
