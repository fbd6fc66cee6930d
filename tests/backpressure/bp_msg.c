/*
 * Numbered messages (see bp_msg.h).
 */
#include "bp_msg.h"

#include <stdio.h>

/* A 32-bit mix (the finalizer of MurmurHash3): neighbouring inputs give
 * unrelated outputs, so a shifted stream never matches by accident. */
static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

size_t bp_msg_len(bp_sizes_t s, uint32_t n)
{
    uint32_t h = mix(n * 4u + (uint32_t)s + 0x9e3779b9u);
    uint32_t r = h >> 8;

    switch (s) {
    case BP_SIZES_SMALL:
        return 8u + r % 193u;
    case BP_SIZES_512:
        return 8u + r % 433u;
    case BP_SIZES_16K:
        return (h & 7u) == 0 ? 2000u + r % 13001u : 8u + r % 1993u;
    case BP_SIZES_64K:
        return (h & 15u) == 0 ? 16500u + r % 43501u : 8u + r % 3993u;
    }
    return 8u;
}

uint8_t bp_msg_byte(uint32_t n, size_t i)
{
    /* Four bytes per mix; which of them by the position. */
    return (uint8_t)(mix(n * 0x01000193u ^ (uint32_t)(i >> 2) * 0x9e3779b1u) >> ((i & 3u) * 8u));
}

size_t bp_msg_fill(bp_sizes_t s, uint32_t n, uint8_t *buf)
{
    size_t len = bp_msg_len(s, n), i;

    bp_put_be32(buf, n);
    for (i = 4; i < len; i++)
        buf[i] = bp_msg_byte(n, i);
    return len;
}

bool bp_msg_check(bp_sizes_t s, uint32_t n, const uint8_t *p, size_t len, char *why, size_t cap)
{
    size_t want = bp_msg_len(s, n), i;

    if (len != want) {
        snprintf(why, cap, "payload of %zu bytes, expected %zu", len, want);
        return false;
    }
    for (i = 4; i < len; i++) {
        uint8_t b = bp_msg_byte(n, i);
        if (p[i] != b) {
            snprintf(why, cap, "payload byte %zu of %zu is 0x%02x, expected 0x%02x", i, len,
                     (unsigned)p[i], (unsigned)b);
            return false;
        }
    }
    return true;
}

uint64_t bp_msg_total(bp_sizes_t s, uint32_t count)
{
    uint64_t t = 0;
    uint32_t n;

    for (n = 0; n < count; n++)
        t += bp_msg_len(s, n);
    return t;
}

uint32_t bp_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void bp_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
