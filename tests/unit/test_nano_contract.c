/*
 * nano's send queue (tx) and the send contract of include/kmqtt/port.h
 * (DESIGN.md rule 6), over the scripted transport with a checking gate
 * (support/send_contract.h): whatever the transport refused or took only in
 * part comes back at the start of the next offer, unchanged (tx grows and is
 * compacted meanwhile: longer offers, other addresses), and the bytes taken
 * are exactly the packets in the order they were published.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nano_script.h"
#include "send_contract.h"

#define MESSAGES 400

static nt_t T;
static uint8_t held[NT_TX_SIZE];

/* The PUBLISH packets in out, QoS 0, topic "t/1": their payloads must be
 * "0", "1", ... in order, and nothing else may be there. */
static void expect_publishes_in_order(const uint8_t *out, size_t len, unsigned count)
{
    size_t at = 0;
    unsigned next = 0;

    while (at < len) {
        char want[12];
        size_t rem, wl;
        assert_true(len - at >= 2);
        assert_int_equal(out[at], 0x30); /* PUBLISH, QoS 0 */
        rem = out[at + 1];               /* < 128 here: one length byte */
        assert_true(rem < 128 && len - at >= 2 + rem);
        assert_int_equal(out[at + 2], 0);
        assert_int_equal(out[at + 3], 3);
        assert_memory_equal(out + at + 4, "t/1", 3);
        wl = (size_t)snprintf(want, sizeof want, "%u", next);
        assert_int_equal(rem - 5, wl);
        assert_memory_equal(out + at + 7, want, wl);
        next++;
        at += 2 + rem;
    }
    assert_int_equal(next, count);
}

static void run(uint32_t seed, unsigned refuse_per_mille, size_t max_take)
{
    sc_gate_t gate;
    unsigned published = 0, rounds = 0;
    uint32_t now = 1000;

    nt_start(&T, 4);
    nt_connected(&T, now, false);
    sc_gate_init(&gate, held, sizeof held);
    sc_gate_random(&gate, seed, refuse_per_mille, max_take);
    T.ns.gate = &gate;
    while (published < MESSAGES || kmqtt_nano_want_write(&T.c)) {
        while (published < MESSAGES) {
            char payload[12];
            kmqtt_nano_msg_t m;
            kmqtt_err_t e;
            snprintf(payload, sizeof payload, "%u", published);
            m = nt_msg("t/1", payload, 0, false);
            e = kmqtt_nano_publish(&T.c, &m, now, NULL);
            if (e == KMQTT_ENOBUFS)
                break; /* tx is full: poll, then again */
            assert_int_equal(e, KMQTT_OK);
            published++;
        }
        (void)nt_poll(&T, now);
        now += 1;
        assert_true(++rounds < 100000);
        assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    }
    if (!sc_gate_ok(&gate))
        fail_msg("seed %u: nano broke the send contract: %s (%d times)", (unsigned)seed, gate.first,
                 gate.violations);
    assert_true(gate.refusals > 0);
    expect_publishes_in_order(T.ns.out, T.ns.out_len, MESSAGES);
    assert_true(nt_guards_ok(&T));
    T.ns.gate = NULL;
}

/* Refusals and short takes at random: the contract holds at every offer. */
static void test_flush_reoffers_what_was_refused(void **state)
{
    uint32_t seed;
    (void)state;
    for (seed = 1; seed <= 40; seed++)
        run(seed, 400, seed % 2 == 0 ? 7 : 0);
}

/* A transport that mostly refuses and takes one byte at a time. */
static void test_flush_under_one_byte_takes(void **state)
{
    (void)state;
    run(77, 600, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flush_reoffers_what_was_refused),
        cmocka_unit_test(test_flush_under_one_byte_takes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
