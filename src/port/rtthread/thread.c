/*
 * Threads on RT-Thread. A thread made by rt_thread_create is deleted by the
 * kernel when its entry returns, so joining is waiting for a semaphore the
 * thread releases as its very last use of the handle. The stack comes from
 * the RT-Thread heap (KMQTT_RTT_THREAD_STACK bytes), the handle from the
 * caller's kmqtt_mem.
 */
#include <rtthread.h>

#include "kmqtt/port.h"
#include "kmqtt_rtthread.h"

struct kmqtt_port_thread {
    rt_thread_t tid;
    rt_sem_t done;
    void (*fn)(void *arg);
    void *arg;
};

static void entry(void *p)
{
    kmqtt_port_thread_t *t = p;

    t->fn(t->arg);
    /* The joiner frees t once this returns; nothing touches t after it. */
    (void)rt_sem_release(t->done);
}

kmqtt_err_t kmqtt_port_thread_start(kmqtt_mem_t *m, kmqtt_port_thread_t **out,
                                    void (*fn)(void *arg), void *arg)
{
    kmqtt_port_thread_t *t;

    if (m == NULL || out == NULL || fn == NULL)
        return KMQTT_EINVAL;
    *out = NULL;
    t = kmqtt_mem_alloc(m, "thread", sizeof *t);
    if (t == NULL)
        return KMQTT_ENOMEM;
    t->fn = fn;
    t->arg = arg;
    t->done = rt_sem_create("kmqttj", 0, RT_IPC_FLAG_FIFO);
    if (t->done == RT_NULL) {
        (void)kmqtt_mem_free(m, t);
        return KMQTT_ENOMEM;
    }
    t->tid = rt_thread_create("kmqtt", entry, t, KMQTT_RTT_THREAD_STACK, KMQTT_RTT_THREAD_PRIO, 10);
    if (t->tid == RT_NULL) {
        (void)rt_sem_delete(t->done);
        (void)kmqtt_mem_free(m, t);
        return KMQTT_ENOMEM;
    }
    /* Stored before startup: the new thread may run at once and compare. */
    *out = t;
    if (rt_thread_startup(t->tid) != RT_EOK) {
        *out = NULL;
        (void)rt_thread_delete(t->tid);
        (void)rt_sem_delete(t->done);
        (void)kmqtt_mem_free(m, t);
        return KMQTT_EIO;
    }
    return KMQTT_OK;
}

void kmqtt_port_thread_join(kmqtt_mem_t *m, kmqtt_port_thread_t *t)
{
    if (t == NULL)
        return;
    (void)rt_sem_take(t->done, RT_WAITING_FOREVER);
    (void)rt_sem_delete(t->done);
    (void)kmqtt_mem_free(m, t);
}

bool kmqtt_port_thread_is_current(const kmqtt_port_thread_t *t)
{
    return t != NULL && rt_thread_self() == t->tid;
}

size_t kmqtt_port_thread_size(void)
{
    return sizeof(kmqtt_port_thread_t);
}
