/*
 * Time for the client: a monotonic clock, so keepalive and timeouts survive
 * NTP steps and a gateway whose RTC starts at 1970.
 */
#include "kmqtt/port.h"

#include <errno.h>
#include <time.h>

uint64_t kmqtt_port_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0; /* CLOCK_MONOTONIC is mandatory on every system we build for */
    }
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void kmqtt_port_sleep_ms(uint32_t ms)
{
    struct timespec req;
    struct timespec rem;
    req.tv_sec = (time_t)(ms / 1000u);
    req.tv_nsec = (long)(ms % 1000u) * 1000000L;
    /* A signal cuts nanosleep short; go on with what is left so the caller
     * really sleeps at least ms. */
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) {
        req = rem;
    }
}
