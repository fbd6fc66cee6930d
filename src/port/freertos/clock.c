/*
 * Time and entropy on FreeRTOS. The tick count wraps (32 bits: 49.7 days at
 * 1 kHz; 16-bit ticks far sooner); it is widened to 64 bits here by adding
 * up the differences between readings, correct as long as the clock is read
 * at least once per wrap, as the client does while it runs.
 */
#include "FreeRTOS.h"
#include "task.h"

#include "kmqtt/port.h"
#include "kmqtt_freertos.h"

static TickType_t last_tick;
static uint64_t total_ticks; /* since boot (last_tick starts at 0); never wraps */

uint64_t kmqtt_port_now_ms(void)
{
    TickType_t now;
    uint64_t ticks;

    vTaskSuspendAll();
    now = xTaskGetTickCount();
    /* The difference in the counter's own width is right across a wrap,
     * whatever that width is. */
    total_ticks += (TickType_t)(now - last_tick);
    last_tick = now;
    ticks = total_ticks;
    (void)xTaskResumeAll();
    return ticks * 1000u / configTICK_RATE_HZ;
}

void kmqtt_port_sleep_ms(uint32_t ms)
{
    /* pdMS_TO_TICKS multiplies in TickType_t: long sleeps in pieces that
     * cannot overflow it; a non-zero sleep is at least one tick. */
    while (ms > 0) {
        uint32_t step = ms > 1000000u ? 1000000u : ms;
        TickType_t ticks = pdMS_TO_TICKS(step);
        vTaskDelay(ticks == 0 ? 1 : ticks);
        ms -= step;
    }
}

static int (*entropy)(void *buf, size_t len);
static uint32_t mix_state;

void kmqtt_freertos_set_entropy(int (*fn)(void *buf, size_t len))
{
    entropy = fn;
}

kmqtt_err_t kmqtt_port_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    uint32_t x;
    size_t i;

    if (buf == NULL && len > 0)
        return KMQTT_EINVAL;
    if (entropy != NULL)
        return entropy(buf, len) == 0 ? KMQTT_OK : KMQTT_EIO;
    vTaskSuspendAll();
    x = mix_state ^ (uint32_t)xTaskGetTickCount() ^ 0x9E3779B9u;
    for (i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)(x >> 24);
    }
    mix_state = x;
    (void)xTaskResumeAll();
    return KMQTT_OK;
}
