/* Compiler and platform for the device compile check (Cortex-M, newlib). */
#ifndef KMQTT_DEV_CC_H
#define KMQTT_DEV_CC_H

#include <stdint.h>

#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_PLATFORM_ASSERT(x)                                                                    \
    do {                                                                                           \
    } while (0)
#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
    } while (0)
typedef uint32_t sys_prot_t;

#endif
