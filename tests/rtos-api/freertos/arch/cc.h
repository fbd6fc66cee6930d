/*
 * arch/cc.h for the FreeRTOS port's compile check (Cortex-M, GCC, newlib):
 * what an lwIP port for that target typically provides.
 */
#ifndef KMQTT_TEST_ARCH_CC_H
#define KMQTT_TEST_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { printf("%s\n", x); abort(); } while (0)
#define LWIP_RAND() ((u32_t)rand())

#endif
