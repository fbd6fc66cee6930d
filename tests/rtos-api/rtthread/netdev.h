/* A DECLARATION SUBSET of RT-Thread's netdev.h (components/net/netdev,
 * 4.1/5.x) for compile checks. Like the real one it uses ip_addr_t without
 * including netdev_ipaddr.h. */
#ifndef __NETDEV_H__
#define __NETDEV_H__

#include <rtthread.h>

#define NETDEV_FLAG_UP          0x01U
#define NETDEV_FLAG_LINK_UP     0x04U
#define NETDEV_FLAG_INTERNET_UP 0x80U

enum netdev_cb_type {
    NETDEV_CB_ADDR_IP,
    NETDEV_CB_ADDR_NETMASK,
    NETDEV_CB_ADDR_GATEWAY,
    NETDEV_CB_ADDR_DNS_SERVER,
    NETDEV_CB_STATUS_UP,
    NETDEV_CB_STATUS_DOWN,
    NETDEV_CB_STATUS_LINK_UP,
    NETDEV_CB_STATUS_LINK_DOWN,
    NETDEV_CB_STATUS_INTERNET_UP,
    NETDEV_CB_STATUS_INTERNET_DOWN,
    NETDEV_CB_STATUS_DHCP_ENABLE,
    NETDEV_CB_STATUS_DHCP_DISABLE
};

struct netdev;
typedef void (*netdev_callback_fn)(struct netdev *netdev, enum netdev_cb_type type);

struct netdev {
    struct rt_object parent;
    ip_addr_t ip_addr;
    uint16_t flags;
    netdev_callback_fn status_callback;
};

extern struct netdev *netdev_default;

struct netdev *netdev_get_by_name(const char *name);
int netdev_set_up(struct netdev *netdev);
int netdev_set_down(struct netdev *netdev);
void netdev_set_status_callback(struct netdev *netdev, netdev_callback_fn status_callback);

#define netdev_is_up(netdev) (((netdev)->flags & NETDEV_FLAG_UP) ? (uint8_t)1 : (uint8_t)0)
#define netdev_is_link_up(netdev) (((netdev)->flags & NETDEV_FLAG_LINK_UP) ? (uint8_t)1 : (uint8_t)0)
#define netdev_is_internet_up(netdev)                                                              \
    (((netdev)->flags & NETDEV_FLAG_INTERNET_UP) ? (uint8_t)1 : (uint8_t)0)

#endif
