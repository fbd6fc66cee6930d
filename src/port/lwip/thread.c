/*
 * Threads over lwIP's sys_thread_new(). lwIP has no join and no "current
 * thread", so the thread signals a semaphore as its function returns (join
 * waits for it) and records its identity from the board's
 * kmqtt_lwip_thread_self() before kmqtt_port_thread_start returns.
 *
 * sys_thread_new() reports no failure in a portable way (the Unix sys_arch
 * aborts, others assert), so a start that cannot happen is the sys_arch's to
 * report; the handle itself comes from the caller's mem context.
 */
#include "lwip_port.h"

struct kmqtt_port_thread {
    void (*fn)(void *arg);
    void *arg;
    uintptr_t id;      /* set by the thread before start() returns */
    sys_sem_t started; /* freed by start() once the thread has signalled it */
    sys_sem_t done;    /* signalled as fn returns; join waits on it */
};

static void trampoline(void *p)
{
    kmqtt_port_thread_t *t = p;

    t->id = kmqtt_lwip_thread_self();
    sys_sem_signal(&t->started);
    t->fn(t->arg);
    /* The last touch of t: join may free it as soon as this is signalled. */
    sys_sem_signal(&t->done);
    kmqtt_lwip_thread_exit();
}

kmqtt_err_t kmqtt_port_thread_start(kmqtt_mem_t *m, kmqtt_port_thread_t **out,
                                    void (*fn)(void *arg), void *arg)
{
    kmqtt_port_thread_t *t;

    if (m == NULL || out == NULL || fn == NULL) {
        return KMQTT_EINVAL;
    }
    *out = NULL;
    t = kmqtt_mem_alloc(m, "thread", sizeof *t);
    if (t == NULL) {
        return KMQTT_ENOMEM;
    }
    t->fn = fn;
    t->arg = arg;
    t->id = 0;
    if (sys_sem_new(&t->started, 0) != ERR_OK) {
        (void)kmqtt_mem_free(m, t);
        return KMQTT_ENOMEM;
    }
    if (sys_sem_new(&t->done, 0) != ERR_OK) {
        sys_sem_free(&t->started);
        (void)kmqtt_mem_free(m, t);
        return KMQTT_ENOMEM;
    }
    (void)sys_thread_new(KMQTT_LWIP_THREAD_NAME, trampoline, t, KMQTT_LWIP_THREAD_STACKSIZE,
                         KMQTT_LWIP_THREAD_PRIO);
    /* Until the thread has recorded who it is, is_current() could not
     * answer for it; waiting here also orders that write before every read. */
    (void)sys_arch_sem_wait(&t->started, 0);
    sys_sem_free(&t->started);
    *out = t;
    return KMQTT_OK;
}

void kmqtt_port_thread_join(kmqtt_mem_t *m, kmqtt_port_thread_t *t)
{
    if (t == NULL) {
        return;
    }
    (void)sys_arch_sem_wait(&t->done, 0); /* 0: until it comes */
    sys_sem_free(&t->done);
    (void)kmqtt_mem_free(m, t);
}

bool kmqtt_port_thread_is_current(const kmqtt_port_thread_t *t)
{
    return t != NULL && t->id != 0 && t->id == kmqtt_lwip_thread_self();
}

size_t kmqtt_port_thread_size(void)
{
    return sizeof(kmqtt_port_thread_t);
}
