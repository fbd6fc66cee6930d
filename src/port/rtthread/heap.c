/*
 * The RT-Thread heap as a kmqtt_mem backend, and the registry of memory
 * contexts behind the msh command. The registry is a fixed table (it must
 * not allocate) under one mutex, made on first use inside a critical
 * section so two first clients cannot both make it.
 */
#include <rtthread.h>

#include "kmqtt/port.h"
#include "kmqtt_rtthread.h"

static void *heap_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return rt_malloc((rt_size_t)size);
}

static void heap_free(void *ctx, void *ptr)
{
    (void)ctx;
    rt_free(ptr);
}

const kmqtt_mem_backend_t kmqtt_rtthread_heap = {heap_alloc, heap_free, NULL};

typedef struct reg_entry {
    kmqtt_mem_t *m;
    kmqtt_port_mutex_t *guard;
} reg_entry_t;

static reg_entry_t registry[KMQTT_RTT_MAX_CONTEXTS];
static rt_mutex_t reg_lock;

static bool reg_take(void)
{
    if (reg_lock == RT_NULL) {
        rt_mutex_t made = rt_mutex_create("kmqttr", RT_IPC_FLAG_PRIO);
        rt_enter_critical();
        if (reg_lock == RT_NULL) {
            reg_lock = made;
            made = RT_NULL;
        }
        rt_exit_critical();
        if (made != RT_NULL)
            (void)rt_mutex_delete(made);
        if (reg_lock == RT_NULL)
            return false;
    }
    (void)rt_mutex_take(reg_lock, RT_WAITING_FOREVER);
    return true;
}

/* A full table only means the command does not list that client. */
void kmqtt_port_mem_register(kmqtt_mem_t *m, kmqtt_port_mutex_t *guard)
{
    size_t i;

    if (m == NULL || !reg_take())
        return;
    for (i = 0; i < KMQTT_RTT_MAX_CONTEXTS; i++) {
        if (registry[i].m == NULL) {
            registry[i].m = m;
            registry[i].guard = guard;
            break;
        }
    }
    (void)rt_mutex_release(reg_lock);
}

void kmqtt_port_mem_unregister(kmqtt_mem_t *m)
{
    size_t i;

    if (m == NULL || !reg_take())
        return;
    for (i = 0; i < KMQTT_RTT_MAX_CONTEXTS; i++) {
        if (registry[i].m == m) {
            registry[i].m = NULL;
            registry[i].guard = NULL;
        }
    }
    (void)rt_mutex_release(reg_lock);
}

size_t kmqtt_rtthread_mem_foreach(void (*fn)(void *ctx, kmqtt_mem_t *m), void *ctx)
{
    size_t i, n = 0;

    if (fn == NULL || !reg_take())
        return 0;
    for (i = 0; i < KMQTT_RTT_MAX_CONTEXTS; i++) {
        if (registry[i].m == NULL)
            continue;
        n++;
        if (registry[i].guard != NULL)
            kmqtt_port_mutex_lock(registry[i].guard);
        fn(ctx, registry[i].m);
        if (registry[i].guard != NULL)
            kmqtt_port_mutex_unlock(registry[i].guard);
    }
    (void)rt_mutex_release(reg_lock);
    return n;
}
