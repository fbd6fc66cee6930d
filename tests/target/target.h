/* What the bare-metal startup (startup.c) offers the test programs. */
#ifndef KMQTT_TARGET_H
#define KMQTT_TARGET_H

/* Ends the emulation with this exit code (semihosting SYS_EXIT_EXTENDED). */
void kmqtt_target_exit(int code) __attribute__((noreturn));

#endif
