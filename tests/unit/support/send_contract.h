/*
 * Test support: the send contract of include/kmqtt/port.h, checked from
 * below. A "gate" sits in a fake lower transport's send(): it decides how
 * many bytes of each offer the fake takes (a script, then a seeded random
 * schedule of refusals and short takes) and checks every offer against the
 * one before: bytes offered and not taken must come back at the start of
 * the next offer, unchanged, never fewer (more behind them is fine).
 *
 * Portable C99 with string.h only, so the nano unit tests that use it also
 * run on the emulated Cortex-M targets. The gate never asserts by itself: it
 * counts violations and keeps the first one's description for the test.
 */
#ifndef KMQTT_TEST_SEND_CONTRACT_H
#define KMQTT_TEST_SEND_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_SCRIPT_MAX 64

typedef struct sc_gate {
    /* Per offer, in order: the most bytes taken (0 = refuse: would block). */
    long script[SC_SCRIPT_MAX];
    size_t script_len, script_pos;
    /* After the script: with seed != 0, each offer is refused with
     * refuse_per_mille / 1000 odds, else taken up to a random length
     * (1..max_take, 0 = any); with seed 0 every offer is taken whole. */
    uint32_t seed;
    unsigned refuse_per_mille;
    size_t max_take;
    /* What the last offer left owed: its bytes not taken (up to held_cap of
     * them are kept to compare) and how many there were. */
    uint8_t *held;
    size_t held_cap, held_len, owed;
    /* Counters for the test. */
    size_t offers, refusals, taken;
    int violations;
    char first[160];
} sc_gate_t;

/* Empties g and gives it the buffer where owed bytes are kept (its size
 * bounds how far a re-offer is compared byte by byte; the length is always
 * checked). No script, seed 0. */
void sc_gate_init(sc_gate_t *g, uint8_t *held, size_t held_cap);
/* Appends per-offer limits to the script (0 = refuse). */
void sc_gate_script(sc_gate_t *g, const long *limits, size_t n);
/* Random refusals after the script (seed 0 turns them off). */
void sc_gate_random(sc_gate_t *g, uint32_t seed, unsigned refuse_per_mille, size_t max_take);
/* An offer of buf[0..len): checks it against what the last offer left owed
 * and returns how many of its bytes to take (0 = refuse). */
size_t sc_gate_offer(sc_gate_t *g, const void *buf, size_t len);
/* The connection closed: nothing is owed any more. */
void sc_gate_closed(sc_gate_t *g);
/* True when no offer broke the contract. */
bool sc_gate_ok(const sc_gate_t *g);

#endif
