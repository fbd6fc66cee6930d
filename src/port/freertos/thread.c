/*
 * Tasks on FreeRTOS. A task function must never return: the task gives its
 * join semaphore as its last use of the handle and deletes itself (the idle
 * task frees its stack and TCB). The task is created with the scheduler
 * suspended, so its handle is stored before it can run and ask
 * kmqtt_port_thread_is_current. Stack: KMQTT_FREERTOS_STACK_WORDS words from
 * the FreeRTOS heap; the handle from the caller's kmqtt_mem.
 */
#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

#include "kmqtt/port.h"
#include "kmqtt_freertos.h"

struct kmqtt_port_thread {
    TaskHandle_t task;
    SemaphoreHandle_t done;
    void (*fn)(void *arg);
    void *arg;
};

static void entry(void *p)
{
    kmqtt_port_thread_t *t = p;

    t->fn(t->arg);
    (void)xSemaphoreGive(t->done); /* the joiner may free t from here on */
    vTaskDelete(NULL);
}

kmqtt_err_t kmqtt_port_thread_start(kmqtt_mem_t *m, kmqtt_port_thread_t **out,
                                    void (*fn)(void *arg), void *arg)
{
    kmqtt_port_thread_t *t;
    BaseType_t rc;

    if (m == NULL || out == NULL || fn == NULL)
        return KMQTT_EINVAL;
    *out = NULL;
    t = kmqtt_mem_alloc(m, "thread", sizeof *t);
    if (t == NULL)
        return KMQTT_ENOMEM;
    t->fn = fn;
    t->arg = arg;
    t->task = NULL;
    t->done = xSemaphoreCreateBinary();
    if (t->done == NULL) {
        (void)kmqtt_mem_free(m, t);
        return KMQTT_ENOMEM;
    }
    *out = t;
    vTaskSuspendAll();
    rc = xTaskCreate(entry, "kmqtt", KMQTT_FREERTOS_STACK_WORDS, t, KMQTT_FREERTOS_PRIORITY,
                     &t->task);
    (void)xTaskResumeAll();
    if (rc != pdPASS) {
        *out = NULL;
        vSemaphoreDelete(t->done);
        (void)kmqtt_mem_free(m, t);
        return KMQTT_ENOMEM;
    }
    return KMQTT_OK;
}

void kmqtt_port_thread_join(kmqtt_mem_t *m, kmqtt_port_thread_t *t)
{
    if (t == NULL)
        return;
    (void)xSemaphoreTake(t->done, portMAX_DELAY);
    vSemaphoreDelete(t->done);
    (void)kmqtt_mem_free(m, t);
}

bool kmqtt_port_thread_is_current(const kmqtt_port_thread_t *t)
{
    return t != NULL && xTaskGetCurrentTaskHandle() == t->task;
}

size_t kmqtt_port_thread_size(void)
{
    return sizeof(kmqtt_port_thread_t);
}
