/*
 * Mutex and condition on FreeRTOS. The kernel objects come from the FreeRTOS
 * heap (xSemaphoreCreate*); only the handle is a kmqtt_mem block.
 *
 * The condition: FreeRTOS has none. A counting semaphore carries the
 * wake-ups and a count of waiters says how many to give: broadcast gives one
 * per task waiting at that moment and starts a new generation. A counting
 * semaphore rather than one binary semaphore per waiter: several tasks
 * (the background task and blocking callers) may wait at once, and a binary
 * semaphore would merge their wake-ups into one. A waiter whose wait timed
 * out after a broadcast counted it takes its token back if it still can; a
 * leftover only makes a later wait return early (a spurious wake-up, which
 * the port contract allows).
 */
#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

#include "kmqtt/port.h"

#define COND_MAX_TOKENS ((UBaseType_t)0x7FFFFFFFu)

struct kmqtt_port_mutex {
    SemaphoreHandle_t mx;
};

struct kmqtt_port_cond {
    SemaphoreHandle_t sem;
    SemaphoreHandle_t guard; /* waiters and gen */
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
    mx->mx = xSemaphoreCreateMutex(); /* with priority inheritance */
    if (mx->mx == NULL) {
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
    vSemaphoreDelete(mx->mx);
    (void)kmqtt_mem_free(m, mx);
}

void kmqtt_port_mutex_lock(kmqtt_port_mutex_t *mx)
{
    (void)xSemaphoreTake(mx->mx, portMAX_DELAY);
}

void kmqtt_port_mutex_unlock(kmqtt_port_mutex_t *mx)
{
    (void)xSemaphoreGive(mx->mx);
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
    cv->sem = xSemaphoreCreateCounting(COND_MAX_TOKENS, 0);
    cv->guard = xSemaphoreCreateMutex();
    if (cv->sem == NULL || cv->guard == NULL) {
        if (cv->sem != NULL)
            vSemaphoreDelete(cv->sem);
        if (cv->guard != NULL)
            vSemaphoreDelete(cv->guard);
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
    vSemaphoreDelete(cv->sem);
    vSemaphoreDelete(cv->guard);
    (void)kmqtt_mem_free(m, cv);
}

/* At least one tick for a non-zero wait; never portMAX_DELAY (forever). */
static TickType_t wait_ticks(uint32_t ms)
{
    uint64_t t;

    if (ms == 0)
        return 0;
    t = (uint64_t)ms * configTICK_RATE_HZ / 1000u;
    if (t == 0)
        t = 1;
    return t >= portMAX_DELAY ? portMAX_DELAY - 1 : (TickType_t)t;
}

kmqtt_err_t kmqtt_port_cond_wait(kmqtt_port_cond_t *cv, kmqtt_port_mutex_t *mx, uint32_t timeout_ms)
{
    uint32_t gen;
    BaseType_t got;

    (void)xSemaphoreTake(cv->guard, portMAX_DELAY);
    cv->waiters++;
    gen = cv->gen;
    (void)xSemaphoreGive(cv->guard);

    kmqtt_port_mutex_unlock(mx);
    got = xSemaphoreTake(cv->sem, wait_ticks(timeout_ms));
    if (got != pdTRUE) {
        (void)xSemaphoreTake(cv->guard, portMAX_DELAY);
        if (cv->gen == gen)
            cv->waiters--;
        else
            (void)xSemaphoreTake(cv->sem, 0);
        (void)xSemaphoreGive(cv->guard);
    }
    kmqtt_port_mutex_lock(mx);
    return got == pdTRUE ? KMQTT_OK : KMQTT_ETIMEDOUT;
}

void kmqtt_port_cond_broadcast(kmqtt_port_cond_t *cv)
{
    uint32_t n;

    (void)xSemaphoreTake(cv->guard, portMAX_DELAY);
    n = cv->waiters;
    cv->waiters = 0;
    cv->gen++;
    while (n-- > 0)
        (void)xSemaphoreGive(cv->sem);
    (void)xSemaphoreGive(cv->guard);
}

size_t kmqtt_port_mutex_size(void)
{
    return sizeof(kmqtt_port_mutex_t);
}

size_t kmqtt_port_cond_size(void)
{
    return sizeof(kmqtt_port_cond_t);
}
