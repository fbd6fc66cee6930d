/* A DECLARATION SUBSET of RT-Thread's rtdevice.h: the pipe device
 * (components/drivers/include/ipc/pipe.h, ringbuffer.h; 4.1/5.x) the port's
 * wake channel uses, for compile checks. */
#ifndef __RT_DEVICE_H__
#define __RT_DEVICE_H__

#include <rtthread.h>

struct rt_ringbuffer {
    rt_uint8_t *buffer_ptr;
    rt_uint16_t read_mirror : 1;
    rt_uint16_t read_index : 15;
    rt_uint16_t write_mirror : 1;
    rt_uint16_t write_index : 15;
    rt_int16_t buffer_size;
};

struct rt_pipe_device {
    struct rt_device parent;
    rt_bool_t is_named;
    struct rt_ringbuffer *fifo;
    rt_uint16_t bufsz;
    struct rt_mutex lock;
};
typedef struct rt_pipe_device rt_pipe_t;

rt_pipe_t *rt_pipe_create(const char *name, int bufsz);
int rt_pipe_delete(const char *name);

#endif
