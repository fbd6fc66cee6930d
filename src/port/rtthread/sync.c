/*
 * Mutex and condition on RT-Thread. The kernel objects live inside the
 * handle, a kmqtt_mem block (rt_mutex_init, rt_sem_init): no kernel heap is
 * spent on them, the client's memory figures include them, and a leaked one
 * shows in a report under its tag.
 *
 * The condition: RT-Thread has none, so it is a counting semaphore plus a
 * count of waiters. broadcast releases the semaphore once per thread waiting
 * at that moment and starts a new generation. A waiter whose wait timed out
 * after a broadcast already counted it takes its token back (if no one else
 * has), so tokens do not pile up; a leftover one only makes a later wait
 * return early, which the port contract allows (spurious wake-up).
 */
#include <rtthread.h>

#include "kmqtt/port.h"
#include "rtt_internal.h"

struct kmqtt_port_mutex {
    struct rt_mutex mx;
};

struct kmqtt_port_cond {
    struct rt_semaphore sem;
    struct rt_mutex guard; /* waiters and gen */
    uint32_t waiters;
    uint32_t gen;
};

kmqtt_err_t kmqtt_port_mutex_create(kmqtt_mem_t *m, kmqtt_port_mutex_t **out)
{
    kmqtt_port_mutex_t *mx;

    if (m == NULL || out == NULL)
        return KMQTT_EINVAL;
    *out = NULL;
    mx = kmqtt_mem_alloc(m, "mutex", sizeof *mx);
    if (mx == NULL)
        return KMQTT_ENOMEM;
    /* PRIO: priority inheritance orders waiters by priority. */
    if (rt_mutex_init(&mx->mx, "kmqtt", RT_IPC_FLAG_PRIO) != RT_EOK) {
        (void)kmqtt_mem_free(m, mx);
        return KMQTT_EIO;
    }
    *out = mx;
    return KMQTT_OK;
}

void kmqtt_port_mutex_destroy(kmqtt_mem_t *m, kmqtt_port_mutex_t *mx)
{
    if (mx == NULL)
        return;
    (void)rt_mutex_detach(&mx->mx);
    (void)kmqtt_mem_free(m, mx);
}

void kmqtt_port_mutex_lock(kmqtt_port_mutex_t *mx)
{
    (void)rt_mutex_take(&mx->mx, RT_WAITING_FOREVER);
}

void kmqtt_port_mutex_unlock(kmqtt_port_mutex_t *mx)
{
    (void)rt_mutex_release(&mx->mx);
}

kmqtt_err_t kmqtt_port_cond_create(kmqtt_mem_t *m, kmqtt_port_cond_t **out)
{
    kmqtt_port_cond_t *cv;

    if (m == NULL || out == NULL)
        return KMQTT_EINVAL;
    *out = NULL;
    cv = kmqtt_mem_alloc(m, "cond", sizeof *cv);
    if (cv == NULL)
        return KMQTT_ENOMEM;
    cv->waiters = 0;
    cv->gen = 0;
    if (rt_sem_init(&cv->sem, "kmqttc", 0, RT_IPC_FLAG_FIFO) != RT_EOK) {
        (void)kmqtt_mem_free(m, cv);
        return KMQTT_EIO;
    }
    if (rt_mutex_init(&cv->guard, "kmqttg", RT_IPC_FLAG_PRIO) != RT_EOK) {
        (void)rt_sem_detach(&cv->sem);
        (void)kmqtt_mem_free(m, cv);
        return KMQTT_EIO;
    }
    *out = cv;
    return KMQTT_OK;
}

void kmqtt_port_cond_destroy(kmqtt_mem_t *m, kmqtt_port_cond_t *cv)
{
    if (cv == NULL)
        return;
    (void)rt_sem_detach(&cv->sem);
    (void)rt_mutex_detach(&cv->guard);
    (void)kmqtt_mem_free(m, cv);
}

rt_int32_t kmqtt_rtt_ticks(uint32_t ms)
{
    rt_tick_t t;

    if (ms == 0)
        return RT_WAITING_NO;
    t = rt_tick_from_millisecond(ms > 0x7FFFFFFFu ? 0x7FFFFFFF : (rt_int32_t)ms);
    if (t == 0)
        t = 1;
    return t > 0x7FFFFFFFu ? 0x7FFFFFFF : (rt_int32_t)t;
}

kmqtt_err_t kmqtt_port_cond_wait(kmqtt_port_cond_t *cv, kmqtt_port_mutex_t *mx, uint32_t timeout_ms)
{
    uint32_t gen;
    rt_err_t rc;

    (void)rt_mutex_take(&cv->guard, RT_WAITING_FOREVER);
    cv->waiters++;
    gen = cv->gen;
    (void)rt_mutex_release(&cv->guard);

    kmqtt_port_mutex_unlock(mx);
    rc = rt_sem_take(&cv->sem, kmqtt_rtt_ticks(timeout_ms));
    if (rc != RT_EOK) {
        (void)rt_mutex_take(&cv->guard, RT_WAITING_FOREVER);
        if (cv->gen == gen)
            cv->waiters--; /* not counted by a broadcast: leave quietly */
        else
            (void)rt_sem_trytake(&cv->sem); /* ours was given: take it back */
        (void)rt_mutex_release(&cv->guard);
    }
    kmqtt_port_mutex_lock(mx);
    return rc == RT_EOK ? KMQTT_OK : KMQTT_ETIMEDOUT;
}

void kmqtt_port_cond_broadcast(kmqtt_port_cond_t *cv)
{
    uint32_t n;

    (void)rt_mutex_take(&cv->guard, RT_WAITING_FOREVER);
    n = cv->waiters;
    cv->waiters = 0;
    cv->gen++;
    while (n-- > 0)
        (void)rt_sem_release(&cv->sem);
    (void)rt_mutex_release(&cv->guard);
}

size_t kmqtt_port_mutex_size(void)
{
    return sizeof(kmqtt_port_mutex_t);
}

size_t kmqtt_port_cond_size(void)
{
    return sizeof(kmqtt_port_cond_t);
}
