/*
 * msh commands for the field engineer:
 *
 *   kmqtt            every client: id, state, server, socket, thread, and its
 *                    heap by tag, with what RT-Thread spends for it (thread
 *                    stack and control block, wake pipe, SAL socket), peak
 *   kmqtt -v         the same and every live block with its site (clients
 *                    created with options.mem_debug)
 *   kmqtt_cycle N host [port [netdev]]
 *                    plays the low-power device N times: netdev_set_up, wait
 *                    for the internet, connect, publish at QoS 1 and wait for
 *                    its PUBACK, disconnect, netdev_set_down; after each cycle
 *                    rt_memory_info and kmqtt's figures
 *
 * The printing is src/port/common/diag_print.c, the same code a host test
 * runs against a real client and mosquitto (tests/integration/test_diag_print.c).
 */
#include <rtthread.h>

#include <stdlib.h>
#include <string.h>

#include "diag_print.h"
#include "kmqtt/client.h"
#include "kmqtt/mem.h"
#include "kmqtt_rtthread.h"

#ifdef RT_USING_NETDEV
#include <netdev_ipaddr.h> /* netdev.h uses ip_addr_t without including it */
#include <netdev.h>
#endif

#if defined(RT_USING_FINSH) && defined(FINSH_USING_MSH)

static const char *const heap_names[KMQTT_RTT_HEAP_KINDS] = {"rt:stack", "rt:thread", "rt:pipe",
                                                             "rt:socket"};

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    rt_kprintf("%s\n", line);
}

typedef struct show {
    unsigned n;
    bool verbose;
} show_t;

static void show_one(void *ctx, const kmqtt_rtthread_info_t *info)
{
    show_t *s = ctx;
    kmqtt_diag_t d;
    size_t k;

    memset(&d, 0, sizeof d);
    d.index = ++s->n;
    d.is_client = info->client;
    if (d.is_client)
        (void)kmqtt_client_info(kmqtt_client_from_mem(info->mem), &d.client);
    d.socket = info->socket;
    d.wake_fd = info->wake_fd;
    d.blocking = info->blocking;
    d.server = info->server;
    d.thread = info->thread;
    d.os_name = "RT-Thread";
    for (k = 0; k < KMQTT_RTT_HEAP_KINDS && k < KMQTT_DIAG_OS_LINES; k++) {
        d.os[k].name = heap_names[k];
        d.os[k].bytes = info->heap[k];
    }
    d.os_count = k;
    d.os_peak = info->heap_peak;
    /* The client changes its context under its lock: copy it under it. */
    if (info->guard != NULL)
        kmqtt_port_mutex_lock(info->guard);
    kmqtt_diag_snapshot_mem(&d, info->mem);
    if (info->guard != NULL)
        kmqtt_port_mutex_unlock(info->guard);
    kmqtt_diag_print(&d, print_line, NULL);
    if (s->verbose) {
        /* Printed under the lock: the client waits while the console
         * writes (the list must not change under the walk). */
        if (info->guard != NULL)
            kmqtt_port_mutex_lock(info->guard);
        kmqtt_diag_print_blocks(info->mem, print_line, NULL);
        if (info->guard != NULL)
            kmqtt_port_mutex_unlock(info->guard);
    }
}

static void show_all(bool verbose)
{
    show_t s;

    s.n = 0;
    s.verbose = verbose;
    if (kmqtt_rtthread_foreach(show_one, &s) == 0)
        rt_kprintf("kmqtt: no client\n");
}

static int kmqtt_cmd(int argc, char **argv)
{
    bool verbose = argc > 1 && strcmp(argv[1], "-v") == 0;

    if (argc > 2 || (argc == 2 && !verbose)) {
        rt_kprintf("usage: kmqtt [-v]\n");
        return -1;
    }
    show_all(verbose);
    return 0;
}

/* ------------------------------------------------------------ the cycle */

#ifdef RT_USING_NETDEV
/* Up to 60 s for the modem to register and the netdev to report the
 * internet (SAL_INTERNET_CHECK, or the AT driver's own report); without
 * that report, 10 s after link up is taken as enough. */
static bool netdev_bring_up(struct netdev *nd)
{
    uint32_t waited = 0, linked = 0;

    (void)netdev_set_up(nd);
    while (waited < 60000u) {
        if (netdev_is_internet_up(nd))
            return true;
        if (netdev_is_up(nd) && netdev_is_link_up(nd) && (linked += 100u) >= 10000u)
            return true;
        (void)rt_thread_mdelay(100);
        waited += 100u;
    }
    return false;
}
#endif

static const char *cycle_once(kmqtt_mem_t *parent, const char *host, uint16_t port, unsigned i,
                              bool show)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = RT_NULL;
    kmqtt_publish_result_t r;
    char payload[24];
    const char *result = "ok";

    kmqtt_client_options_init(&o);
    o.host = host;
    o.port = port;
    o.mem = parent;
    o.connect_timeout_ms = 20000;
    rt_snprintf(payload, sizeof payload, "cycle %u", i);
    if (kmqtt_client_create(&o, &c) != KMQTT_OK)
        return "create failed";
    if (kmqtt_connect(c, 20000, RT_NULL) != KMQTT_OK)
        result = "connect failed";
    else if (kmqtt_publish(c, "kmqtt/cycle", payload, strlen(payload), 1, false, RT_NULL, &r) != KMQTT_OK ||
             kmqtt_publish_wait(c, r.packet_id, 20000, RT_NULL) != KMQTT_OK)
        result = "publish failed";
    if (show)
        show_all(false);
    kmqtt_client_destroy(c); /* disconnects: socket, pipe and thread are gone when it returns */
    return result;
}

static int kmqtt_cycle(int argc, char **argv)
{
    static const kmqtt_mem_config_t mc = {.backend = &kmqtt_rtthread_heap};
    kmqtt_mem_t parent;
    kmqtt_mem_stats_t st;
    rt_size_t total = 0, used = 0, max_used = 0, base = 0;
    unsigned n, i;
    uint16_t port = 1883;
    char line[192];
#ifdef RT_USING_NETDEV
    struct netdev *nd;
#endif

    if (argc < 3 || (n = (unsigned)atoi(argv[1])) == 0) {
        rt_kprintf("usage: kmqtt_cycle N host [port [netdev]]\n");
        return -1;
    }
    if (argc > 3)
        port = (uint16_t)atoi(argv[3]);
#ifdef RT_USING_NETDEV
    nd = argc > 4 ? netdev_get_by_name(argv[4]) : netdev_default;
    if (nd == RT_NULL) {
        rt_kprintf("kmqtt_cycle: no netdev %s\n", argc > 4 ? argv[4] : "(default)");
        return -1;
    }
#endif
    if (kmqtt_mem_init(&parent, &mc) != KMQTT_OK)
        return -1;
    rt_memory_info(&total, &base, &max_used);
    for (i = 1; i <= n; i++) {
        const char *result;

#ifdef RT_USING_NETDEV
        if (!netdev_bring_up(nd)) {
            result = "no internet";
        } else {
            result = cycle_once(&parent, argv[2], port, i, i == 1);
        }
        (void)netdev_set_down(nd);
#else
        result = cycle_once(&parent, argv[2], port, i, i == 1);
#endif
        rt_memory_info(&total, &used, &max_used);
        kmqtt_mem_get_stats(&parent, &st);
        kmqtt_diag_cycle_line(line, sizeof line, i, n, result, used, base, max_used, st.bytes,
                              st.blocks);
        rt_kprintf("%s\n", line);
    }
    return 0;
}

/* finsh casts every command to long (*)(void); GCC's -Wcast-function-type
 * (in -Wextra) flags that cast, which is finsh's, not ours. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"
#endif
MSH_CMD_EXPORT_ALIAS(kmqtt_cmd, kmqtt, kmqtt clients
                     : state socket thread heap by tag;
                     - v live blocks);
MSH_CMD_EXPORT(kmqtt_cycle, kmqtt_cycle N host[port[netdev]] : connect publish disconnect cycles);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
