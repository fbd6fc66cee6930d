/*
 * Internal to the POSIX port: a level-triggered wake-up signal that poll()
 * can watch. One eventfd on Linux, a non-blocking pipe elsewhere.
 */
#ifndef KMQTT_PORT_POSIX_WAKE_H
#define KMQTT_PORT_POSIX_WAKE_H

#include <stdbool.h>

#include "kmqtt/error.h"

typedef struct posix_wake {
    int rd; /* poll() this for POLLIN */
    int wr; /* the same descriptor as rd when it is an eventfd */
} posix_wake_t;

/* Creates the descriptors (close-on-exec, non-blocking). KMQTT_OK, KMQTT_ENOMEM
 * (descriptor table or kernel memory full) or KMQTT_EIO; on failure nothing is
 * open and both fields are -1. */
kmqtt_err_t posix_wake_create(posix_wake_t *w);
/* Closes what create opened; a wake whose fields are -1 is a no-op. */
void posix_wake_destroy(posix_wake_t *w);
/* Async-signal-safe, any thread; preserves errno. A signal stays pending until
 * drained, however many times it is raised. */
void posix_wake_signal(const posix_wake_t *w);
/* Consumes a pending signal; true if there was one. */
bool posix_wake_drain(const posix_wake_t *w);

#endif
