/*
 * The registry of memory contexts behind the msh command `kmqtt`: each
 * client announces its context at create and withdraws it at destroy; the
 * port notes against it what RT-Thread spends on the client's behalf (the
 * thread's stack, the wake pipe, the socket) and which socket and thread it
 * uses. A fixed table (it must not allocate) under one mutex, made on first
 * use. An entry being printed is pinned: unregistering it waits, so the
 * command never reads a destroyed client.
 */
#include <rtthread.h>

#include <string.h>

#include "kmqtt/port.h"
#include "rtt_internal.h"

typedef struct reg_entry {
    kmqtt_rtthread_info_t info;
    unsigned pins;
} reg_entry_t;

static reg_entry_t registry[KMQTT_RTT_MAX_CONTEXTS];
static struct rt_mutex reg_lock;
static volatile bool reg_ready;

static void reg_take(void)
{
    if (!reg_ready) {
        /* The port's spinlock makes the first use single, on every core:
         * two first clients cannot both initialise the mutex. */
        rt_base_t level = kmqtt_rtt_spin_take();
        if (!reg_ready) {
            (void)rt_mutex_init(&reg_lock, "kmqttr", RT_IPC_FLAG_PRIO);
            reg_ready = true;
        }
        kmqtt_rtt_spin_give(level);
    }
    (void)rt_mutex_take(&reg_lock, RT_WAITING_FOREVER);
}

static void reg_give(void)
{
    (void)rt_mutex_release(&reg_lock);
}

static reg_entry_t *reg_find(kmqtt_mem_t *m)
{
    size_t i;

    for (i = 0; i < KMQTT_RTT_MAX_CONTEXTS; i++)
        if (registry[i].info.mem == m)
            return &registry[i];
    return NULL;
}

/* A full table only means the command does not list that client. */
void kmqtt_port_mem_register(kmqtt_mem_t *m, kmqtt_port_mutex_t *guard)
{
    reg_entry_t *e;

    if (m == NULL)
        return;
    reg_take();
    e = reg_find(m) != NULL ? NULL : reg_find(NULL);
    if (e != NULL) {
        memset(e, 0, sizeof *e);
        e->info.mem = m;
        e->info.guard = guard;
        /* Only kmqtt_client_create passes its lock. */
        e->info.client = guard != NULL;
        e->info.socket = -1;
        e->info.wake_fd = -1;
    }
    reg_give();
}

void kmqtt_port_mem_unregister(kmqtt_mem_t *m)
{
    reg_entry_t *e;

    if (m == NULL)
        return;
    reg_take();
    while ((e = reg_find(m)) != NULL && e->pins > 0) {
        reg_give();
        (void)rt_thread_mdelay(1);
        reg_take();
    }
    if (e != NULL)
        memset(e, 0, sizeof *e);
    reg_give();
}

size_t kmqtt_rtthread_foreach(void (*fn)(void *ctx, const kmqtt_rtthread_info_t *info), void *ctx)
{
    size_t i, n = 0;

    if (fn == NULL)
        return 0;
    for (i = 0; i < KMQTT_RTT_MAX_CONTEXTS; i++) {
        kmqtt_rtthread_info_t snap;

        reg_take();
        snap = registry[i].info;
        if (snap.mem != NULL)
            registry[i].pins++;
        reg_give();
        if (snap.mem == NULL)
            continue;
        n++;
        fn(ctx, &snap);
        reg_take();
        registry[i].pins--;
        reg_give();
    }
    return n;
}

void kmqtt_rtt_registry_heap(kmqtt_mem_t *m, kmqtt_rtthread_heap_kind_t kind, long delta)
{
    reg_entry_t *e;

    if (m == NULL || kind >= KMQTT_RTT_HEAP_KINDS)
        return;
    reg_take();
    e = reg_find(m);
    if (e != NULL) {
        size_t sum = 0, k;

        if (delta < 0 && (size_t)-delta > e->info.heap[kind])
            e->info.heap[kind] = 0;
        else
            e->info.heap[kind] = (size_t)((long)e->info.heap[kind] + delta);
        for (k = 0; k < KMQTT_RTT_HEAP_KINDS; k++)
            sum += e->info.heap[k];
        if (sum > e->info.heap_peak)
            e->info.heap_peak = sum;
    }
    reg_give();
}

void kmqtt_rtt_registry_socket(kmqtt_mem_t *m, int fd, int chan, const char *host, uint16_t port,
                               bool blocking)
{
    reg_entry_t *e;

    if (m == NULL)
        return;
    reg_take();
    e = reg_find(m);
    if (e != NULL) {
        e->info.socket = fd;
        e->info.wake_fd = chan;
        e->info.blocking = blocking;
        if (fd >= 0 && host != NULL)
            rt_snprintf(e->info.server, sizeof e->info.server, "%s:%u", host, (unsigned)port);
        else
            e->info.server[0] = '\0';
    }
    reg_give();
}

void kmqtt_rtt_registry_thread(kmqtt_mem_t *m, const char *name)
{
    reg_entry_t *e;

    if (m == NULL)
        return;
    reg_take();
    e = reg_find(m);
    if (e != NULL) {
        if (name != NULL)
            rt_strncpy(e->info.thread, name, sizeof e->info.thread - 1);
        else
            e->info.thread[0] = '\0';
    }
    reg_give();
}
