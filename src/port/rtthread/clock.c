/*
 * Time and entropy on RT-Thread. The tick counter is 32 bits and wraps
 * (49.7 days at 1 kHz); it is widened to 64 bits here by adding up the
 * differences between readings, correct as long as the clock is read at
 * least once per wrap, as the client does (every turn of its loop, every
 * keepalive). The first reading counts from tick 0, so the clock starts at
 * the time since boot.
 *
 * The state is guarded by a spinlock with interrupts off: rt_enter_critical
 * only stops the scheduler on the calling core, so on an SMP kernel two
 * cores could both add the same difference. 5.x has the spinlock on every
 * kernel; 4.1 only with RT_USING_SMP, and without it disabling interrupts
 * on the one core is the same thing.
 */
#include <rthw.h>
#include <rtthread.h>

#include "kmqtt/port.h"
#include "kmqtt_rtthread.h"
#include "rtt_internal.h"

static rt_tick_t last_tick;
static uint64_t total_ticks; /* since boot (last_tick starts at 0); never wraps */

#if (defined(RT_VERSION_MAJOR) && RT_VERSION_MAJOR >= 5) || defined(RT_USING_SMP)
#ifndef RT_SPINLOCK_INIT
#define RT_SPINLOCK_INIT                                                                           \
    {                                                                                              \
        0                                                                                          \
    }
#endif
static struct rt_spinlock clock_lock = RT_SPINLOCK_INIT;
#define CLOCK_LOCK()      rt_spin_lock_irqsave(&clock_lock)
#define CLOCK_UNLOCK(lvl) rt_spin_unlock_irqrestore(&clock_lock, (lvl))
#else
#define CLOCK_LOCK()      rt_hw_interrupt_disable()
#define CLOCK_UNLOCK(lvl) rt_hw_interrupt_enable(lvl)
#endif

rt_base_t kmqtt_rtt_spin_take(void)
{
    return CLOCK_LOCK();
}

void kmqtt_rtt_spin_give(rt_base_t level)
{
    CLOCK_UNLOCK(level);
}

uint64_t kmqtt_port_now_ms(void)
{
    rt_tick_t now;
    uint64_t ticks;
    rt_base_t level = CLOCK_LOCK();

    now = rt_tick_get();
    /* The difference in the counter's own width is right across a wrap,
     * whatever that width is. */
    total_ticks += (rt_tick_t)(now - last_tick);
    last_tick = now;
    ticks = total_ticks;
    CLOCK_UNLOCK(level);
    return ticks * 1000u / RT_TICK_PER_SECOND;
}

void kmqtt_port_sleep_ms(uint32_t ms)
{
    /* rt_thread_mdelay takes a signed count: long sleeps in pieces. */
    while (ms > 0) {
        uint32_t step = ms > 0x7FFFFFFFu ? 0x7FFFFFFFu : ms;
        (void)rt_thread_mdelay((rt_int32_t)step);
        ms -= step;
    }
}

static int (*entropy)(void *buf, size_t len);
static uint32_t mix_state;

void kmqtt_rtthread_set_entropy(int (*fn)(void *buf, size_t len))
{
    entropy = fn;
}

kmqtt_err_t kmqtt_port_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    uint32_t x;
    size_t i;
    rt_base_t level;

    if (buf == NULL && len > 0)
        return KMQTT_EINVAL;
    if (entropy != NULL)
        return entropy(buf, len) == 0 ? KMQTT_OK : KMQTT_EIO;
    /* xorshift32 stirred with the tick at each call: distinct ids for
     * clients created at different moments, no secrecy claimed. */
    level = CLOCK_LOCK();
    x = mix_state ^ (uint32_t)rt_tick_get() ^ 0x9E3779B9u;
    for (i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)(x >> 24);
    }
    mix_state = x;
    CLOCK_UNLOCK(level);
    return KMQTT_OK;
}
