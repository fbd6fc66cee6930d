/*
 * Threads on RT-Thread. A thread made by rt_thread_create is deleted by the
 * kernel when its entry returns; its stack and control block are freed
 * later, by the idle thread. Joining is waiting for a semaphore the thread
 * releases as its very last use of the handle, then (up to
 * KMQTT_RTT_REAP_WAIT_MS) for the idle thread to have freed it, so that
 * `free` right after kmqtt_disconnect shows the stack returned. The stack
 * and control block come from the RT-Thread heap (noted in the registry
 * against the client for msh `kmqtt`), the handle from the client's
 * kmqtt_mem.
 */
#include <rtthread.h>

#include <string.h>

#include "kmqtt/port.h"
#include "kmqtt_rtthread.h"
#include "rtt_internal.h"

/* RT_ASSERT(priority < RT_THREAD_PRIORITY_MAX) in rt_thread_create: say it
 * at build time instead of at run time. */
#if KMQTT_RTT_THREAD_PRIO >= RT_THREAD_PRIORITY_MAX
#error "kmqtt: PKG_KMQTT_THREAD_PRIORITY must be below RT_THREAD_PRIORITY_MAX"
#endif

struct kmqtt_port_thread {
    rt_thread_t tid;
    struct rt_semaphore done;
    void (*fn)(void *arg);
    void *arg;
    char name[RT_NAME_MAX];
};

/* Not named `entry`: RT-Thread 5.x's rtthread.h declares int entry(void). */
static void thread_main(void *p)
{
    kmqtt_port_thread_t *t = p;

    t->fn(t->arg);
    /* The joiner frees t once this returns; nothing touches t after it. */
    (void)rt_sem_release(&t->done);
}

/* A name no other thread has now: "kmq" and a counter in hex, within
 * RT_NAME_MAX, so the join can tell when the kernel has let go of it. */
static void thread_name(char *out)
{
    static rt_uint32_t next;
    static const char hex[] = "0123456789abcdef";
    size_t digits = RT_NAME_MAX > 5 ? RT_NAME_MAX - 4 : 1;
    unsigned tries;

    if (digits > 8)
        digits = 8;
    for (tries = 0; tries < 16; tries++) {
        rt_uint32_t n;
        size_t i;
        rt_base_t level = kmqtt_rtt_spin_take();

        n = next++;
        kmqtt_rtt_spin_give(level);
        memcpy(out, "kmq", 3);
        for (i = 0; i < digits; i++)
            out[3 + digits - 1 - i] = hex[(n >> (4 * i)) & 15u];
        out[3 + digits] = '\0';
        if (rt_thread_find(out) == RT_NULL)
            return;
    }
}

static void note_heap(kmqtt_mem_t *m, long sign)
{
    kmqtt_rtt_registry_heap(m, KMQTT_RTT_HEAP_STACK, sign * (long)KMQTT_RTT_THREAD_STACK);
    kmqtt_rtt_registry_heap(m, KMQTT_RTT_HEAP_THREAD, sign * (long)sizeof(struct rt_thread));
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
    thread_name(t->name);
    if (rt_sem_init(&t->done, "kmqttj", 0, RT_IPC_FLAG_FIFO) != RT_EOK) {
        (void)kmqtt_mem_free(m, t);
        return KMQTT_EIO;
    }
    t->tid = rt_thread_create(t->name, thread_main, t, KMQTT_RTT_THREAD_STACK,
                              KMQTT_RTT_THREAD_PRIO, 10);
    if (t->tid == RT_NULL) {
        (void)rt_sem_detach(&t->done);
        (void)kmqtt_mem_free(m, t);
        return KMQTT_ENOMEM;
    }
    note_heap(m, 1);
    kmqtt_rtt_registry_thread(m, t->name);
    /* Stored before startup: the new thread may run at once and compare. */
    *out = t;
    if (rt_thread_startup(t->tid) != RT_EOK) {
        *out = NULL;
        (void)rt_thread_delete(t->tid);
        (void)rt_sem_detach(&t->done);
        kmqtt_rtt_registry_thread(m, NULL);
        note_heap(m, -1);
        (void)kmqtt_mem_free(m, t);
        return KMQTT_EIO;
    }
    return KMQTT_OK;
}

void kmqtt_port_thread_join(kmqtt_mem_t *m, kmqtt_port_thread_t *t)
{
    uint32_t waited = 0;

    if (t == NULL)
        return;
    (void)rt_sem_take(&t->done, RT_WAITING_FOREVER);
    /* The thread is ending; the idle thread frees its stack once it runs.
     * Sleeping lets it run (unless a busy thread above idle keeps it out:
     * then the stack is freed later and `kmqtt` still shows it). */
    while (rt_thread_find(t->name) != RT_NULL && waited < KMQTT_RTT_REAP_WAIT_MS) {
        (void)rt_thread_mdelay(1);
        waited++;
    }
    (void)rt_sem_detach(&t->done);
    kmqtt_rtt_registry_thread(m, NULL);
    note_heap(m, -1);
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
