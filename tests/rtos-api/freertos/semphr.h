/* A DECLARATION SUBSET of FreeRTOS semphr.h and queue.h (kernel 10.4/10.5,
 * 11.x): the semaphore macros expand to the queue functions as upstream.
 * Compile checks only. */
#ifndef SEMAPHORE_H
#define SEMAPHORE_H

#include "FreeRTOS.h"

struct QueueDefinition;
typedef struct QueueDefinition *QueueHandle_t;
typedef QueueHandle_t SemaphoreHandle_t;

#define queueSEND_TO_BACK                 ((BaseType_t)0)
#define queueQUEUE_TYPE_MUTEX             ((uint8_t)1U)
#define queueQUEUE_TYPE_BINARY_SEMAPHORE  ((uint8_t)3U)
#define semSEMAPHORE_QUEUE_ITEM_LENGTH    ((uint8_t)0U)
#define semGIVE_BLOCK_TIME                ((TickType_t)0U)

QueueHandle_t xQueueGenericCreate(const UBaseType_t uxQueueLength, const UBaseType_t uxItemSize,
                                  const uint8_t ucQueueType);
QueueHandle_t xQueueCreateMutex(const uint8_t ucQueueType);
QueueHandle_t xQueueCreateCountingSemaphore(const UBaseType_t uxMaxCount,
                                            const UBaseType_t uxInitialCount);
BaseType_t xQueueSemaphoreTake(QueueHandle_t xQueue, TickType_t xTicksToWait);
BaseType_t xQueueGenericSend(QueueHandle_t xQueue, const void *const pvItemToQueue,
                             TickType_t xTicksToWait, const BaseType_t xCopyPosition);
void vQueueDelete(QueueHandle_t xQueue);

#define xSemaphoreCreateBinary()                                                                   \
    xQueueGenericCreate((UBaseType_t)1, semSEMAPHORE_QUEUE_ITEM_LENGTH,                            \
                        queueQUEUE_TYPE_BINARY_SEMAPHORE)
#define xSemaphoreCreateMutex() xQueueCreateMutex(queueQUEUE_TYPE_MUTEX)
#define xSemaphoreCreateCounting(uxMaxCount, uxInitialCount)                                       \
    xQueueCreateCountingSemaphore((uxMaxCount), (uxInitialCount))
#define xSemaphoreTake(xSemaphore, xBlockTime) xQueueSemaphoreTake((xSemaphore), (xBlockTime))
#define xSemaphoreGive(xSemaphore)                                                                 \
    xQueueGenericSend((QueueHandle_t)(xSemaphore), NULL, semGIVE_BLOCK_TIME, queueSEND_TO_BACK)
#define vSemaphoreDelete(xSemaphore) vQueueDelete((QueueHandle_t)(xSemaphore))

#endif
