/* A DECLARATION SUBSET of RT-Thread's rthw.h (4.1/5.x) for compile checks. */
#ifndef __RT_HW_H__
#define __RT_HW_H__

#include <rtthread.h>

rt_base_t rt_hw_interrupt_disable(void);
void rt_hw_interrupt_enable(rt_base_t level);

#endif
