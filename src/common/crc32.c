/*
 * CRC-32 (reflected, polynomial 0xEDB88320) a nibble at a time: a 16-entry
 * table keeps flash small and is fast enough for records of a few hundred
 * bytes.
 */
#include "kmqtt/store.h"

static const uint32_t nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
    0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t kmqtt_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t i;

    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nibble[crc & 15u];
        crc = (crc >> 4) ^ nibble[crc & 15u];
    }
    return ~crc;
}
