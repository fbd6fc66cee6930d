/*
 * The RT-Thread heap as a kmqtt_mem backend.
 */
#include <rtthread.h>

#include "kmqtt/port.h"
#include "kmqtt_rtthread.h"

static void *heap_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return rt_malloc((rt_size_t)size);
}

static void heap_free(void *ctx, void *ptr)
{
    (void)ctx;
    rt_free(ptr);
}

const kmqtt_mem_backend_t kmqtt_rtthread_heap = {heap_alloc, heap_free, NULL};
