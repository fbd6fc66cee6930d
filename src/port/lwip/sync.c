/*
 * Mutex and condition variable over lwIP's sys_arch.
 *
 * The mutex is a sys_mutex. lwIP has no condition variable, and its
 * semaphores may be binary (the Unix sys_arch caps the count at 1), so
 * several signals can collapse into one. The condition therefore gives every
 * waiter its own semaphore: broadcast takes each waiter off the list and
 * signals it, under the condition's own small lock. A waiter that times out
 * looks at the list under that lock: still on it, it leaves (a timeout);
 * already taken off, a signal is on its way or there, and it consumes it so
 * the semaphore is clean for the next wait (a wake).
 *
 * The waiter records (a semaphore each) are made with the condition, inside
 * its one block: KMQTT_LWIP_COND_WAITERS of them, so a wait never allocates
 * and kmqtt_port_cond_size is the whole cost (an exact no-malloc arena stays
 * exact). A thread that finds every record taken waits by polling instead
 * (see kmqtt_port_cond_wait).
 */
#include "lwip_port.h"

struct kmqtt_port_mutex {
    sys_mutex_t mx;
};

typedef struct waiter {
    struct waiter *next;
    sys_sem_t sem;
    bool queued; /* on the waiting list: not yet signalled */
} waiter_t;

struct kmqtt_port_cond {
    sys_mutex_t guard; /* the lists and the queued flags */
    waiter_t *waiting;
    waiter_t *spare;
    unsigned made; /* records whose semaphore exists */
    waiter_t slots[KMQTT_LWIP_COND_WAITERS];
};

kmqtt_err_t kmqtt_port_mutex_create(kmqtt_mem_t *m, kmqtt_port_mutex_t **out)
{
    kmqtt_port_mutex_t *mx;

    if (m == NULL || out == NULL) {
        return KMQTT_EINVAL;
    }
    *out = NULL;
    mx = kmqtt_mem_alloc(m, "mutex", sizeof *mx);
    if (mx == NULL) {
        return KMQTT_ENOMEM;
    }
    if (sys_mutex_new(&mx->mx) != ERR_OK) {
        (void)kmqtt_mem_free(m, mx);
        return KMQTT_ENOMEM; /* sys_arch objects come from the RTOS heap */
    }
    *out = mx;
    return KMQTT_OK;
}

void kmqtt_port_mutex_destroy(kmqtt_mem_t *m, kmqtt_port_mutex_t *mx)
{
    if (mx == NULL) {
        return;
    }
    sys_mutex_free(&mx->mx);
    (void)kmqtt_mem_free(m, mx);
}

void kmqtt_port_mutex_lock(kmqtt_port_mutex_t *mx)
{
    sys_mutex_lock(&mx->mx);
}

void kmqtt_port_mutex_unlock(kmqtt_port_mutex_t *mx)
{
    sys_mutex_unlock(&mx->mx);
}

static void cond_free(kmqtt_mem_t *m, kmqtt_port_cond_t *cv)
{
    while (cv->made > 0) {
        sys_sem_free(&cv->slots[--cv->made].sem);
    }
    sys_mutex_free(&cv->guard);
    (void)kmqtt_mem_free(m, cv);
}

kmqtt_err_t kmqtt_port_cond_create(kmqtt_mem_t *m, kmqtt_port_cond_t **out)
{
    kmqtt_port_cond_t *cv;

    if (m == NULL || out == NULL) {
        return KMQTT_EINVAL;
    }
    *out = NULL;
    cv = kmqtt_mem_alloc(m, "cond", sizeof *cv);
    if (cv == NULL) {
        return KMQTT_ENOMEM;
    }
    cv->waiting = NULL;
    cv->spare = NULL;
    cv->made = 0;
    if (sys_mutex_new(&cv->guard) != ERR_OK) {
        (void)kmqtt_mem_free(m, cv);
        return KMQTT_ENOMEM;
    }
    while (cv->made < KMQTT_LWIP_COND_WAITERS) {
        waiter_t *w = &cv->slots[cv->made];
        if (sys_sem_new(&w->sem, 0) != ERR_OK) {
            cond_free(m, cv); /* sys_arch objects come from the RTOS heap */
            return KMQTT_ENOMEM;
        }
        cv->made++;
        w->queued = false;
        w->next = cv->spare;
        cv->spare = w;
    }
    *out = cv;
    return KMQTT_OK;
}

void kmqtt_port_cond_destroy(kmqtt_mem_t *m, kmqtt_port_cond_t *cv)
{
    if (cv == NULL) {
        return;
    }
    /* Nobody waits on a condition that is destroyed. */
    cond_free(m, cv);
}

/* A free waiter record, or NULL when as many threads as there are records
 * wait already. Called with the caller's mutex held, guard not held. */
static waiter_t *get_waiter(kmqtt_port_cond_t *cv)
{
    waiter_t *w;

    sys_mutex_lock(&cv->guard);
    w = cv->spare;
    if (w != NULL) {
        cv->spare = w->next;
    }
    sys_mutex_unlock(&cv->guard);
    return w;
}

kmqtt_err_t kmqtt_port_cond_wait(kmqtt_port_cond_t *cv, kmqtt_port_mutex_t *mx, uint32_t timeout_ms)
{
    waiter_t *w;
    u32_t r = SYS_ARCH_TIMEOUT;
    kmqtt_err_t result;

    if (timeout_ms == 0) {
        return KMQTT_ETIMEDOUT; /* nothing to wait for; the mutex stays held */
    }
    w = get_waiter(cv);
    if (w == NULL) {
        /* More waiters than records: give the lock up for a moment and
         * report a (spurious) wake, so the caller re-checks and comes back,
         * neither spinning nor sleeping through a broadcast for long. */
        sys_mutex_unlock(&mx->mx);
        kmqtt_port_sleep_ms(timeout_ms < 10u ? timeout_ms : 10u);
        sys_mutex_lock(&mx->mx);
        return KMQTT_OK;
    }
    sys_mutex_lock(&cv->guard);
    w->queued = true;
    w->next = cv->waiting;
    cv->waiting = w;
    sys_mutex_unlock(&cv->guard);

    sys_mutex_unlock(&mx->mx);
    /* sys_arch_sem_wait's 0 means "forever"; timeout_ms is never 0 here. */
    r = sys_arch_sem_wait(&w->sem, timeout_ms);

    sys_mutex_lock(&cv->guard);
    if (w->queued) {
        /* Not signalled: leave the list. */
        waiter_t **pp = &cv->waiting;
        while (*pp != w) {
            pp = &(*pp)->next;
        }
        *pp = w->next;
        result = r == SYS_ARCH_TIMEOUT ? KMQTT_ETIMEDOUT : KMQTT_OK;
    } else {
        /* Signalled. If the wait timed out first, the signal was posted
         * before we took the guard: take it now (at once) so the semaphore
         * is clean for the record's next use. */
        if (r == SYS_ARCH_TIMEOUT) {
            (void)sys_arch_sem_wait(&w->sem, 0);
        }
        result = KMQTT_OK;
    }
    w->next = cv->spare;
    cv->spare = w;
    sys_mutex_unlock(&cv->guard);
    sys_mutex_lock(&mx->mx);
    return result;
}

void kmqtt_port_cond_broadcast(kmqtt_port_cond_t *cv)
{
    waiter_t *w;

    sys_mutex_lock(&cv->guard);
    for (w = cv->waiting; w != NULL; w = w->next) {
        w->queued = false;
        sys_sem_signal(&w->sem);
    }
    cv->waiting = NULL;
    sys_mutex_unlock(&cv->guard);
}

size_t kmqtt_port_mutex_size(void)
{
    return sizeof(kmqtt_port_mutex_t);
}

/* The condition's one block, its waiter records included: a wait takes
 * nothing more. */
size_t kmqtt_port_cond_size(void)
{
    return sizeof(kmqtt_port_cond_t);
}

/* No console command in this port: kmqtt_client_mem gives the context. */
void kmqtt_port_mem_register(kmqtt_mem_t *m, kmqtt_port_mutex_t *guard)
{
    (void)m;
    (void)guard;
}

void kmqtt_port_mem_unregister(kmqtt_mem_t *m)
{
    (void)m;
}
