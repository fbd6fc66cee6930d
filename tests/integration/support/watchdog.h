/*
 * A deadlock guard for tests: a thread that, when an armed deadline passes,
 * says what was still running, calls the test's cleanup (stop the brokers
 * it started, so no child outlives the test) and ends the process with a
 * failure. A hung client call then fails the test within a bound instead
 * of hanging CI until its global timeout.
 *
 * The guard is one thread for the whole program: start it before taking
 * thread-count baselines.
 */
#ifndef KMQTT_IT_WATCHDOG_H
#define KMQTT_IT_WATCHDOG_H

#include <stdbool.h>

/* cleanup may be NULL; it runs on the watchdog thread. Returns false if
 * the thread could not start. */
bool watchdog_start(void (*cleanup)(void));
/* From now, what must finish within timeout_ms. what: a string literal. */
void watchdog_arm(const char *what, unsigned timeout_ms);
void watchdog_disarm(void);
/* Stops and joins the thread. */
void watchdog_stop(void);

#endif
