/*
 * A DECLARATION SUBSET of the FreeRTOS kernel API, for compile checks only
 * (CTest port.freertos.compile): the types, constants and functions the kmqtt
 * FreeRTOS port uses, with the signatures of FreeRTOS kernel 10.4/10.5
 * (FreeRTOS.h, portmacro.h of ARM_CM4F, task.h, queue.h, semphr.h; the same
 * in 11.x, where xTaskCreate's depth parameter is named uxStackDepth). The
 * semphr.h macros expand to the queue functions exactly as upstream. Nothing
 * here is implemented; the port is compiled, never linked or run.
 */
#ifndef INC_FREERTOS_H
#define INC_FREERTOS_H

#include <stddef.h>
#include <stdint.h>

#include "FreeRTOSConfig.h"

/* portmacro.h (ARM_CM4F) */
typedef long BaseType_t;
typedef unsigned long UBaseType_t;
typedef uint32_t TickType_t;
typedef uint32_t StackType_t;
#define portMAX_DELAY ((TickType_t)0xffffffffUL)

/* projdefs.h */
typedef void (*TaskFunction_t)(void *);
#define pdFALSE ((BaseType_t)0)
#define pdTRUE  ((BaseType_t)1)
#define pdPASS  (pdTRUE)
#define pdFAIL  (pdFALSE)
#ifndef pdMS_TO_TICKS
#define pdMS_TO_TICKS(xTimeInMs)                                                                   \
    ((TickType_t)(((TickType_t)(xTimeInMs) * (TickType_t)configTICK_RATE_HZ) / (TickType_t)1000U))
#endif

#ifndef configSTACK_DEPTH_TYPE
#define configSTACK_DEPTH_TYPE uint16_t
#endif

/* portable.h */
void *pvPortMalloc(size_t xWantedSize);
void vPortFree(void *pv);

#endif
