/*
 * Threads over pthreads. The handle comes from the caller's mem context so a
 * thread that is never joined shows up in its leak report.
 */
#include "kmqtt/port.h"

#include <errno.h>
#include <pthread.h>

struct kmqtt_port_thread {
    pthread_t tid;
    /* Held by the creator until tid is stored: POSIX lets the new thread run
     * before pthread_create() writes tid, and is_current() in that thread
     * must not read it half-written. */
    pthread_mutex_t started;
    void (*fn)(void *arg);
    void *arg;
};

static void *trampoline(void *p)
{
    kmqtt_port_thread_t *t = p;
    (void)pthread_mutex_lock(&t->started);
    (void)pthread_mutex_unlock(&t->started);
    t->fn(t->arg);
    return NULL;
}

kmqtt_err_t kmqtt_port_thread_start(kmqtt_mem_t *m, kmqtt_port_thread_t **out,
                                    void (*fn)(void *arg), void *arg)
{
    kmqtt_port_thread_t *t;
    int rc;
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
    rc = pthread_mutex_init(&t->started, NULL);
    if (rc != 0) {
        (void)kmqtt_mem_free(m, t);
        return rc == ENOMEM || rc == EAGAIN ? KMQTT_ENOMEM : KMQTT_EIO;
    }
    (void)pthread_mutex_lock(&t->started);
    rc = pthread_create(&t->tid, NULL, trampoline, t);
    (void)pthread_mutex_unlock(&t->started);
    if (rc != 0) {
        (void)pthread_mutex_destroy(&t->started);
        (void)kmqtt_mem_free(m, t);
        /* EAGAIN: the thread limit or memory for a stack. */
        return rc == EAGAIN || rc == ENOMEM ? KMQTT_ENOMEM : KMQTT_EIO;
    }
    *out = t;
    return KMQTT_OK;
}

void kmqtt_port_thread_join(kmqtt_mem_t *m, kmqtt_port_thread_t *t)
{
    if (t == NULL) {
        return;
    }
    (void)pthread_join(t->tid, NULL);
    (void)pthread_mutex_destroy(&t->started);
    (void)kmqtt_mem_free(m, t);
}

bool kmqtt_port_thread_is_current(const kmqtt_port_thread_t *t)
{
    return t != NULL && pthread_equal(pthread_self(), t->tid) != 0;
}

size_t kmqtt_port_thread_size(void)
{
    return sizeof(kmqtt_port_thread_t);
}
