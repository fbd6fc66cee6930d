/*
 * Bare-metal startup for the MPS2 Cortex-M boards QEMU models (mps2-an385,
 * mps2-an386): vector table, reset handler and a semihosting exit. Linked
 * with -nostartfiles, so nothing of newlib's crt0 runs: we copy .data, zero
 * .bss, open the semihosting stdio of librdimon and call main.
 */
#include <stdint.h>
#include <stdio.h>

#include "target.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
extern void initialise_monitor_handles(void);
extern int main(void);

void kmqtt_target_reset(void) __attribute__((noreturn));
static void fault(void);

/* Semihosting call: BKPT 0xAB on M-profile, operation in r0, argument in r1. */
static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void kmqtt_target_exit(int code)
{
    /* SYS_EXIT_EXTENDED (0x20): {ADP_Stopped_ApplicationExit, code} makes
     * QEMU exit with `code`; plain SYS_EXIT on AArch32 only knows 0 or 1. */
    uint32_t block[2] = {0x20026u, (uint32_t)code};
    fflush(stdout);
    semihost(0x20, block);
    for (;;)
        semihost(0x18, (void *)0x20026u); /* SYS_EXIT, should the host lack the extension */
}

void kmqtt_target_reset(void)
{
    uint32_t *src = __data_load;
    for (uint32_t *dst = __data_start; dst < __data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = __bss_start; dst < __bss_end;)
        *dst++ = 0;
#if defined(__ARM_ARCH_6M__)
    /* ARMv6-M code (built for Cortex-M0/M0+, run on the M3 model): set
     * CCR.UNALIGN_TRP so every unaligned load or store faults as it would on
     * a Cortex-M0, and a parser that reads a uint16_t from a byte buffer shows
     * up here rather than on the customer's part. (ARMv7-M code may contain
     * unaligned accesses the compiler emits on purpose, so not there.) */
    *(volatile uint32_t *)0xE000ED14u |= 1u << 3;
#endif
    initialise_monitor_handles();
    kmqtt_target_exit(main());
}

/* A hard fault (bad alignment with UNALIGN_TRP, a wild pointer, ...) fails the run loudly. */
static void fault(void)
{
    static const char msg[] = "target: fault\n";
    semihost(0x04, (void *)msg); /* SYS_WRITE0 */
    kmqtt_target_exit(3);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))__stack_top,
    kmqtt_target_reset,
    fault, /* NMI */
    fault, /* HardFault */
    fault, /* MemManage */
    fault, /* BusFault */
    fault, /* UsageFault */
};
