/*
 * Reconnect backoff with jitter, the one copy both drivers use: a fleet of
 * devices that lost the same broker must not come back in step, so each
 * waits a random time in [d/2, d], d doubling up to the maximum.
 */
#include "session_internal.h"

uint32_t kmqtt_session_backoff(uint32_t *ceiling_ms, uint32_t max_ms, uint32_t random)
{
    uint32_t d = *ceiling_ms, lo = d / 2u;
    *ceiling_ms = d > max_ms / 2u ? max_ms : d * 2u;
    return lo + random % (d - lo + 1u);
}
