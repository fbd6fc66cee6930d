/*
 * arch/sys_arch.h for the FreeRTOS port's compile check: the handle types
 * lwIP's contrib FreeRTOS port declares (only their names matter to the
 * socket API's headers).
 */
#ifndef KMQTT_TEST_ARCH_SYS_ARCH_H
#define KMQTT_TEST_ARCH_SYS_ARCH_H

typedef struct sys_sem { void *sem; } sys_sem_t;
typedef struct sys_mutex { void *mut; } sys_mutex_t;
typedef struct sys_mbox { void *mbx; } sys_mbox_t;
typedef struct sys_thread { void *thread_handle; } sys_thread_t;
#define sys_mbox_valid(m) ((m)->mbx != NULL)
#define sys_mbox_set_invalid(m) ((m)->mbx = NULL)
#define sys_sem_valid(s) ((s)->sem != NULL)
#define sys_sem_set_invalid(s) ((s)->sem = NULL)

#endif
