/*
 * A DECLARATION SUBSET of the RT-Thread kernel API, for compile checks only
 * (CTest port.rtthread.compile): the types, constants and functions the
 * kmqtt RT-Thread port uses, with the signatures of RT-Thread 4.1
 * (include/rtthread.h, include/rtdef.h; unchanged in 5.0 for these). Nothing
 * here is implemented; the port is compiled against it with
 * arm-none-eabi-gcc, never linked or run.
 */
#ifndef __RT_THREAD_H__
#define __RT_THREAD_H__

#include <stdarg.h>
#include <stddef.h>

#include <rtconfig.h>

/* rtdef.h: basic types (ARM, 32-bit) */
typedef signed char rt_int8_t;
typedef signed short rt_int16_t;
typedef signed int rt_int32_t;
typedef unsigned char rt_uint8_t;
typedef unsigned short rt_uint16_t;
typedef unsigned int rt_uint32_t;
typedef int rt_bool_t;
typedef long rt_base_t;
typedef unsigned long rt_ubase_t;
typedef rt_base_t rt_err_t;
typedef rt_uint32_t rt_time_t;
typedef rt_uint32_t rt_tick_t;
typedef rt_base_t rt_flag_t;
typedef rt_ubase_t rt_size_t;
typedef rt_base_t rt_off_t;

#define RT_TRUE  1
#define RT_FALSE 0
#define RT_NULL  0

#define RT_EOK      0
#define RT_ERROR    1
#define RT_ETIMEOUT 2
#define RT_EFULL    3
#define RT_EEMPTY   4
#define RT_ENOMEM   5
#define RT_ENOSYS   6
#define RT_EBUSY    7
#define RT_EIO      8
#define RT_EINTR    9
#define RT_EINVAL   10

#define RT_ALIGN_SIZE 8
#define RT_ALIGN_DOWN(size, align) ((size) & ~((align) - 1))

#define RT_WAITING_FOREVER -1
#define RT_WAITING_NO      0

#define RT_IPC_FLAG_FIFO 0x00
#define RT_IPC_FLAG_PRIO 0x01

#define RT_EVENT_FLAG_AND   0x01
#define RT_EVENT_FLAG_OR    0x02
#define RT_EVENT_FLAG_CLEAR 0x04

/* Stand-ins of the right kind: the port embeds these objects in its own
 * blocks (rt_*_init), so they must be complete types; the real layouts
 * depend on rtconfig.h and the version. */
struct rt_object {
    char name[RT_NAME_MAX];
    rt_uint8_t type;
    rt_uint8_t flag;
    void *list[2];
};
struct rt_thread {
    struct rt_object parent;
    void *sp;
    void *entry;
    void *stack_addr;
    rt_uint32_t stack_size;
    rt_uint8_t stat;
    rt_uint8_t current_priority;
};
struct rt_semaphore {
    struct rt_object parent;
    void *suspend[2];
    rt_uint16_t value;
};
struct rt_mutex {
    struct rt_object parent;
    void *suspend[2];
    void *owner;
    rt_uint8_t hold;
};
struct rt_event {
    struct rt_object parent;
    void *suspend[2];
    rt_uint32_t set;
};
typedef struct rt_thread *rt_thread_t;
typedef struct rt_semaphore *rt_sem_t;
typedef struct rt_mutex *rt_mutex_t;
typedef struct rt_event *rt_event_t;

/* RT-Thread 5.x declares the application's entry under GCC
 * (include/rtthread.h): a port function named entry clashes with it. */
int entry(void);

/* clock */
rt_tick_t rt_tick_get(void);
rt_tick_t rt_tick_from_millisecond(rt_int32_t ms);

/* threads */
rt_thread_t rt_thread_create(const char *name, void (*entry)(void *parameter), void *parameter,
                             rt_uint32_t stack_size, rt_uint8_t priority, rt_uint32_t tick);
rt_thread_t rt_thread_self(void);
rt_thread_t rt_thread_find(char *name);
rt_err_t rt_thread_startup(rt_thread_t thread);
rt_err_t rt_thread_delete(rt_thread_t thread);
rt_err_t rt_thread_mdelay(rt_int32_t ms);
void rt_enter_critical(void);
void rt_exit_critical(void);

/* heap */
void *rt_malloc(rt_size_t nbytes);
void rt_free(void *ptr);
void rt_memory_info(rt_size_t *total, rt_size_t *used, rt_size_t *max_used);

/* kservice */
int rt_snprintf(char *buf, rt_size_t size, const char *format, ...);
char *rt_strncpy(char *dest, const char *src, rt_size_t n);

/* IPC */
rt_err_t rt_sem_init(rt_sem_t sem, const char *name, rt_uint32_t value, rt_uint8_t flag);
rt_err_t rt_sem_detach(rt_sem_t sem);
rt_sem_t rt_sem_create(const char *name, rt_uint32_t value, rt_uint8_t flag);
rt_err_t rt_sem_delete(rt_sem_t sem);
rt_err_t rt_sem_take(rt_sem_t sem, rt_int32_t time);
rt_err_t rt_sem_trytake(rt_sem_t sem);
rt_err_t rt_sem_release(rt_sem_t sem);

rt_err_t rt_mutex_init(rt_mutex_t mutex, const char *name, rt_uint8_t flag);
rt_err_t rt_mutex_detach(rt_mutex_t mutex);
rt_mutex_t rt_mutex_create(const char *name, rt_uint8_t flag);
rt_err_t rt_mutex_delete(rt_mutex_t mutex);
rt_err_t rt_mutex_take(rt_mutex_t mutex, rt_int32_t time);
rt_err_t rt_mutex_release(rt_mutex_t mutex);

rt_err_t rt_event_init(rt_event_t event, const char *name, rt_uint8_t flag);
rt_err_t rt_event_detach(rt_event_t event);
rt_event_t rt_event_create(const char *name, rt_uint8_t flag);
rt_err_t rt_event_delete(rt_event_t event);
rt_err_t rt_event_send(rt_event_t event, rt_uint32_t set);
rt_err_t rt_event_recv(rt_event_t event, rt_uint32_t set, rt_uint8_t opt, rt_int32_t timeout,
                       rt_uint32_t *recved);

/* devices (RT_USING_DEVICE) */
struct rt_device {
    struct rt_object parent;
};
typedef struct rt_device *rt_device_t;
rt_device_t rt_device_find(const char *name);

/* console (RT_USING_CONSOLE) */
void rt_kprintf(const char *fmt, ...);

#ifdef RT_USING_FINSH
#include <finsh.h>
#endif

#endif
