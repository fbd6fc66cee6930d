/*
 * Time for the client from lwIP's sys_now(), and entropy from the board.
 *
 * sys_now() counts milliseconds in 32 bits and wraps after 49.7 days; the
 * client wants a 64-bit clock that never goes back, so the wraps are counted
 * here. That needs a call at least once per wrap, which any running client
 * (keepalive) makes many times over.
 */
#include "lwip_port.h"

static u32_t last_now;
static uint64_t wraps; /* multiples of 2^32 ms seen so far */

uint64_t kmqtt_port_now_ms(void)
{
    SYS_ARCH_DECL_PROTECT(lev);
    u32_t now;
    uint64_t result;

    SYS_ARCH_PROTECT(lev);
    now = sys_now();
    if (now < last_now) {
        wraps += (uint64_t)1 << 32;
    }
    last_now = now;
    result = wraps + now;
    SYS_ARCH_UNPROTECT(lev);
    return result;
}

void kmqtt_port_sleep_ms(uint32_t ms)
{
    uint64_t end = kmqtt_port_now_ms() + ms;
    uint64_t now;

    /* sys_msleep() may come back a tick early; go on until ms really passed. */
    while ((now = kmqtt_port_now_ms()) < end) {
        uint64_t left = end - now;
        sys_msleep(left > 0x7fffffffu ? 0x7fffffffu : (u32_t)left);
    }
}

kmqtt_err_t kmqtt_port_random(void *buf, size_t len)
{
    if (buf == NULL && len > 0) {
        return KMQTT_EINVAL;
    }
    if (len == 0) {
        return KMQTT_OK;
    }
    return kmqtt_lwip_entropy(buf, len) == KMQTT_OK ? KMQTT_OK : KMQTT_EIO;
}
