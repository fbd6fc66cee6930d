#include "hex.h"

#include <stdio.h>
#include <stdlib.h>

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex != '\0') {
        if (*hex == ' ' || *hex == '\n') {
            hex++;
            continue;
        }
        int hi = nibble(hex[0]);
        int lo = hex[1] != '\0' ? nibble(hex[1]) : -1;
        if (hi < 0 || lo < 0 || n >= cap) {
            fprintf(stderr, "hex_decode: bad input at \"%s\"\n", hex);
            abort();
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
        hex += 2;
    }
    return n;
}

const char *hex_format(const uint8_t *buf, size_t len)
{
    static char text[3 * 512 + 8];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < sizeof text; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%02x ", buf[i]);
    if (len * 3 + 1 > sizeof text)
        snprintf(text + o, sizeof text - o, "...");
    text[o > 0 && len * 3 + 1 <= sizeof text ? o - 1 : o] = '\0';
    return text;
}
