/*
 * pvPortMalloc/vPortFree as a kmqtt_mem backend, and the registry of memory
 * contexts behind kmqtt_freertos_mem_report: a fixed table (it must not
 * allocate) under one mutex, made on first use with the scheduler
 * suspended so two first clients cannot both make it.
 */
#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

#include "kmqtt/port.h"
#include "kmqtt_freertos.h"

static void *heap_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return pvPortMalloc(size);
}

static void heap_free(void *ctx, void *ptr)
{
    (void)ctx;
    vPortFree(ptr);
}

const kmqtt_mem_backend_t kmqtt_freertos_heap = {heap_alloc, heap_free, NULL};

typedef struct reg_entry {
    kmqtt_mem_t *m;
    kmqtt_port_mutex_t *guard;
} reg_entry_t;

static reg_entry_t registry[KMQTT_FREERTOS_MAX_CONTEXTS];
static SemaphoreHandle_t reg_lock;

static bool reg_take(void)
{
    if (reg_lock == NULL) {
        SemaphoreHandle_t made = xSemaphoreCreateMutex();
        vTaskSuspendAll();
        if (reg_lock == NULL) {
            reg_lock = made;
            made = NULL;
        }
        (void)xTaskResumeAll();
        if (made != NULL)
            vSemaphoreDelete(made);
        if (reg_lock == NULL)
            return false;
    }
    (void)xSemaphoreTake(reg_lock, portMAX_DELAY);
    return true;
}

void kmqtt_port_mem_register(kmqtt_mem_t *m, kmqtt_port_mutex_t *guard)
{
    size_t i;

    if (m == NULL || !reg_take())
        return;
    for (i = 0; i < KMQTT_FREERTOS_MAX_CONTEXTS; i++) {
        if (registry[i].m == NULL) {
            registry[i].m = m;
            registry[i].guard = guard;
            break;
        }
    }
    (void)xSemaphoreGive(reg_lock);
}

void kmqtt_port_mem_unregister(kmqtt_mem_t *m)
{
    size_t i;

    if (m == NULL || !reg_take())
        return;
    for (i = 0; i < KMQTT_FREERTOS_MAX_CONTEXTS; i++) {
        if (registry[i].m == m) {
            registry[i].m = NULL;
            registry[i].guard = NULL;
        }
    }
    (void)xSemaphoreGive(reg_lock);
}

size_t kmqtt_freertos_mem_report(void (*print)(void *ctx, const char *line), void *ctx)
{
    size_t i, n = 0;

    if (print == NULL || !reg_take())
        return 0;
    for (i = 0; i < KMQTT_FREERTOS_MAX_CONTEXTS; i++) {
        if (registry[i].m == NULL)
            continue;
        n++;
        if (registry[i].guard != NULL)
            kmqtt_port_mutex_lock(registry[i].guard);
        kmqtt_mem_report(registry[i].m, print, ctx);
        if (registry[i].guard != NULL)
            kmqtt_port_mutex_unlock(registry[i].guard);
    }
    (void)xSemaphoreGive(reg_lock);
    return n;
}
