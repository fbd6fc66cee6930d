/* A DECLARATION SUBSET of FreeRTOS task.h (kernel 10.4/10.5; 11.x the same
 * but for the name of xTaskCreate's depth parameter), compile checks only. */
#ifndef INC_TASK_H
#define INC_TASK_H

#include "FreeRTOS.h"

struct tskTaskControlBlock;
typedef struct tskTaskControlBlock *TaskHandle_t;

#define tskIDLE_PRIORITY ((UBaseType_t)0U)

BaseType_t xTaskCreate(TaskFunction_t pxTaskCode, const char *const pcName,
                       const configSTACK_DEPTH_TYPE usStackDepth, void *const pvParameters,
                       UBaseType_t uxPriority, TaskHandle_t *const pxCreatedTask);
void vTaskDelete(TaskHandle_t xTaskToDelete);
void vTaskDelay(const TickType_t xTicksToDelay);
TickType_t xTaskGetTickCount(void);
TaskHandle_t xTaskGetCurrentTaskHandle(void);
void vTaskSuspendAll(void);
BaseType_t xTaskResumeAll(void);

#endif
