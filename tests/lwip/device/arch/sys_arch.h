/* The handle types an RTOS sys_arch defines (FreeRTOS-like: opaque handles). */
#ifndef KMQTT_DEV_SYS_ARCH_H
#define KMQTT_DEV_SYS_ARCH_H

typedef void *sys_sem_t;
typedef void *sys_mutex_t;
typedef void *sys_mbox_t;
typedef void *sys_thread_t;
#define sys_sem_valid(s)         (*(s) != 0)
#define sys_sem_set_invalid(s)   (*(s) = 0)
#define sys_mutex_valid(s)       (*(s) != 0)
#define sys_mutex_set_invalid(s) (*(s) = 0)
#define sys_mbox_valid(s)        (*(s) != 0)
#define sys_mbox_set_invalid(s)  (*(s) = 0)

#endif
