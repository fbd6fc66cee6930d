/*
 * msh command `kmqtt_mem`: every client's memory, like the RT-Thread `free`
 * command: totals, one line per tag, and (for a client created with
 * mem_debug) one line per live block with its tag, size and file:line.
 * The field engineer's question "which client holds how much, for what"
 * answered on the console.
 */
#include <rtthread.h>

#include "kmqtt/mem.h"
#include "kmqtt_rtthread.h"

#if defined(RT_USING_FINSH) && defined(FINSH_USING_MSH)

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    rt_kprintf("%s\n", line);
}

static void report_one(void *ctx, kmqtt_mem_t *m)
{
    unsigned *n = ctx;

    rt_kprintf("kmqtt client %u:\n", ++*n);
    kmqtt_mem_report(m, print_line, NULL);
}

static int kmqtt_mem(int argc, char **argv)
{
    unsigned n = 0;

    (void)argc;
    (void)argv;
    if (kmqtt_rtthread_mem_foreach(report_one, &n) == 0)
        rt_kprintf("kmqtt: no client\n");
    return 0;
}
MSH_CMD_EXPORT(kmqtt_mem, print the memory of every kmqtt client);

#endif
