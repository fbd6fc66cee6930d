/*
 * The optional netdev hook: tells the application when the network it uses
 * comes back (or goes), so a device reconnects as soon as its modem has
 * registered instead of waiting out a backoff. netdev keeps one status
 * callback per device; kmqtt_rtthread_netdev_watch takes it.
 */
#include <rtthread.h>

#include "kmqtt_rtthread.h"

#ifdef RT_USING_NETDEV
#include <netdev_ipaddr.h> /* netdev.h uses ip_addr_t without including it */
#include <netdev.h>

static void (*watch_fn)(void *arg, bool up);
static void *watch_arg;

void kmqtt_rtthread_netdev_event(int netdev_cb_type)
{
    void (*fn)(void *arg, bool up) = watch_fn;

    if (fn == RT_NULL)
        return;
    switch (netdev_cb_type) {
    case NETDEV_CB_STATUS_INTERNET_UP:
        fn(watch_arg, true);
        break;
    case NETDEV_CB_STATUS_DOWN:
    case NETDEV_CB_STATUS_LINK_DOWN:
    case NETDEV_CB_STATUS_INTERNET_DOWN:
        fn(watch_arg, false);
        break;
    default:
        break;
    }
}

static void on_status(struct netdev *nd, enum netdev_cb_type type)
{
    (void)nd;
    kmqtt_rtthread_netdev_event((int)type);
}

kmqtt_err_t kmqtt_rtthread_netdev_watch(const char *netdev_name, void (*fn)(void *arg, bool up),
                                        void *arg)
{
    struct netdev *nd = netdev_name != RT_NULL ? netdev_get_by_name(netdev_name) : netdev_default;

    if (nd == RT_NULL)
        return KMQTT_EINVAL;
    watch_arg = arg;
    watch_fn = fn;
    netdev_set_status_callback(nd, fn != RT_NULL ? on_status : RT_NULL);
    return KMQTT_OK;
}

#else

void kmqtt_rtthread_netdev_event(int netdev_cb_type)
{
    (void)netdev_cb_type;
}

kmqtt_err_t kmqtt_rtthread_netdev_watch(const char *netdev_name, void (*fn)(void *arg, bool up),
                                        void *arg)
{
    (void)netdev_name;
    (void)fn;
    (void)arg;
    return KMQTT_EUNSUPPORTED;
}

#endif
