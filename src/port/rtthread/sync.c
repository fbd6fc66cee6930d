/*
 * Mutex and condition on RT-Thread. The kernel objects come from the
 * RT-Thread object heap (rt_mutex_create, rt_sem_create); only the small
 * handle is a kmqtt_mem block, so a leaked one still shows in a report.
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

struct kmqtt_port_mutex {
    rt_mutex_t mx;
};

struct kmqtt_port_cond {
    rt_sem_t sem;
    rt_mutex_t guard; /* waiters and gen */
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
    mx->mx = rt_mutex_create("kmqtt", RT_IPC_FLAG_PRIO);
    if (mx->mx == RT_NULL) {
        (void)kmqtt_mem_free(m, mx);
        return KMQTT_ENOMEM;
    }
    *out = mx;
    return KMQTT_OK;
}

void kmqtt_port_mutex_destroy(kmqtt_mem_t *m, kmqtt_port_mutex_t *mx)
{
    if (mx == NULL)
        return;
    (void)rt_mutex_delete(mx->mx);
    (void)kmqtt_mem_free(m, mx);
}

void kmqtt_port_mutex_lock(kmqtt_port_mutex_t *mx)
{
    (void)rt_mutex_take(mx->mx, RT_WAITING_FOREVER);
}

void kmqtt_port_mutex_unlock(kmqtt_port_mutex_t *mx)
{
    (void)rt_mutex_release(mx->mx);
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
    cv->sem = rt_sem_create("kmqttc", 0, RT_IPC_FLAG_FIFO);
    cv->guard = rt_mutex_create("kmqttg", RT_IPC_FLAG_PRIO);
    if (cv->sem == RT_NULL || cv->guard == RT_NULL) {
        if (cv->sem != RT_NULL)
            (void)rt_sem_delete(cv->sem);
        if (cv->guard != RT_NULL)
            (void)rt_mutex_delete(cv->guard);
        (void)kmqtt_mem_free(m, cv);
        return KMQTT_ENOMEM;
    }
    *out = cv;
    return KMQTT_OK;
}

void kmqtt_port_cond_destroy(kmqtt_mem_t *m, kmqtt_port_cond_t *cv)
{
    if (cv == NULL)
        return;
    (void)rt_sem_delete(cv->sem);
    (void)rt_mutex_delete(cv->guard);
    (void)kmqtt_mem_free(m, cv);
}

/* Milliseconds to ticks, at least one for a non-zero wait, capped where
 * the kernel's signed count would turn it into "forever". */
static rt_int32_t wait_ticks(uint32_t ms)
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

    (void)rt_mutex_take(cv->guard, RT_WAITING_FOREVER);
    cv->waiters++;
    gen = cv->gen;
    (void)rt_mutex_release(cv->guard);

    kmqtt_port_mutex_unlock(mx);
    rc = rt_sem_take(cv->sem, wait_ticks(timeout_ms));
    if (rc != RT_EOK) {
        (void)rt_mutex_take(cv->guard, RT_WAITING_FOREVER);
        if (cv->gen == gen)
            cv->waiters--; /* not counted by a broadcast: leave quietly */
        else
            (void)rt_sem_trytake(cv->sem); /* ours was given: take it back */
        (void)rt_mutex_release(cv->guard);
    }
    kmqtt_port_mutex_lock(mx);
    return rc == RT_EOK ? KMQTT_OK : KMQTT_ETIMEDOUT;
}

void kmqtt_port_cond_broadcast(kmqtt_port_cond_t *cv)
{
    uint32_t n;

    (void)rt_mutex_take(cv->guard, RT_WAITING_FOREVER);
    n = cv->waiters;
    cv->waiters = 0;
    cv->gen++;
    while (n-- > 0)
        (void)rt_sem_release(cv->sem);
    (void)rt_mutex_release(cv->guard);
}

size_t kmqtt_port_mutex_size(void)
{
    return sizeof(kmqtt_port_mutex_t);
}

size_t kmqtt_port_cond_size(void)
{
    return sizeof(kmqtt_port_cond_t);
}
