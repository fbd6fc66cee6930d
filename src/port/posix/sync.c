/*
 * Mutex and condition variable over pthreads. The condition waits on
 * CLOCK_MONOTONIC so that a wall-clock step (NTP at boot, a user setting the
 * date) neither stretches nor cuts a timeout.
 */
#include "kmqtt/port.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

struct kmqtt_port_mutex {
    pthread_mutex_t mx;
};

struct kmqtt_port_cond {
    pthread_cond_t cv;
};

static kmqtt_err_t pthread_err(int rc)
{
    return (rc == ENOMEM || rc == EAGAIN) ? KMQTT_ENOMEM : KMQTT_EIO;
}

kmqtt_err_t kmqtt_port_mutex_create(kmqtt_mem_t *m, kmqtt_port_mutex_t **out)
{
    kmqtt_port_mutex_t *mx;
    int rc;
    if (m == NULL || out == NULL) {
        return KMQTT_EINVAL;
    }
    *out = NULL;
    mx = kmqtt_mem_alloc(m, "mutex", sizeof *mx);
    if (mx == NULL) {
        return KMQTT_ENOMEM;
    }
    rc = pthread_mutex_init(&mx->mx, NULL);
    if (rc != 0) {
        (void)kmqtt_mem_free(m, mx);
        return pthread_err(rc);
    }
    *out = mx;
    return KMQTT_OK;
}

void kmqtt_port_mutex_destroy(kmqtt_mem_t *m, kmqtt_port_mutex_t *mx)
{
    if (mx == NULL) {
        return;
    }
    (void)pthread_mutex_destroy(&mx->mx);
    (void)kmqtt_mem_free(m, mx);
}

void kmqtt_port_mutex_lock(kmqtt_port_mutex_t *mx)
{
    (void)pthread_mutex_lock(&mx->mx);
}

void kmqtt_port_mutex_unlock(kmqtt_port_mutex_t *mx)
{
    (void)pthread_mutex_unlock(&mx->mx);
}

kmqtt_err_t kmqtt_port_cond_create(kmqtt_mem_t *m, kmqtt_port_cond_t **out)
{
    kmqtt_port_cond_t *cv;
    pthread_condattr_t attr;
    int rc;
    if (m == NULL || out == NULL) {
        return KMQTT_EINVAL;
    }
    *out = NULL;
    cv = kmqtt_mem_alloc(m, "cond", sizeof *cv);
    if (cv == NULL) {
        return KMQTT_ENOMEM;
    }
    rc = pthread_condattr_init(&attr);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (rc == 0) {
            rc = pthread_cond_init(&cv->cv, &attr);
        }
        (void)pthread_condattr_destroy(&attr);
    }
    if (rc != 0) {
        (void)kmqtt_mem_free(m, cv);
        return pthread_err(rc);
    }
    *out = cv;
    return KMQTT_OK;
}

void kmqtt_port_cond_destroy(kmqtt_mem_t *m, kmqtt_port_cond_t *cv)
{
    if (cv == NULL) {
        return;
    }
    (void)pthread_cond_destroy(&cv->cv);
    (void)kmqtt_mem_free(m, cv);
}

kmqtt_err_t kmqtt_port_cond_wait(kmqtt_port_cond_t *cv, kmqtt_port_mutex_t *mx, uint32_t timeout_ms)
{
    struct timespec deadline;
    int rc;
    if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0) {
        return KMQTT_EIO;
    }
    deadline.tv_sec += (time_t)(timeout_ms / 1000u);
    deadline.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    rc = pthread_cond_timedwait(&cv->cv, &mx->mx, &deadline);
    return rc == ETIMEDOUT ? KMQTT_ETIMEDOUT : KMQTT_OK;
}

void kmqtt_port_cond_broadcast(kmqtt_port_cond_t *cv)
{
    (void)pthread_cond_broadcast(&cv->cv);
}

size_t kmqtt_port_mutex_size(void)
{
    return sizeof(kmqtt_port_mutex_t);
}

size_t kmqtt_port_cond_size(void)
{
    return sizeof(kmqtt_port_cond_t);
}

/* No console command here: kmqtt_client_mem gives the context directly. */
void kmqtt_port_mem_register(kmqtt_mem_t *m, kmqtt_port_mutex_t *guard)
{
    (void)m;
    (void)guard;
}

void kmqtt_port_mem_unregister(kmqtt_mem_t *m)
{
    (void)m;
}
