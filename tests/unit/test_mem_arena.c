/* The arena backend: exact costs, alignment, first fit, merging, refusal,
 * and a kmqtt_mem_t (normal and debug mode) running on it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "kmqtt/mem.h"

#define UNIT KMQTT_MEM_ARENA_ALIGN

static uint64_t store[512]; /* 4 KB, 8-aligned */

static void *take(kmqtt_mem_arena_t *a, size_t n)
{
    return a->backend.alloc(a->backend.ctx, n);
}

static void give(kmqtt_mem_arena_t *a, void *p)
{
    a->backend.free(a->backend.ctx, p);
}

static void test_cost_is_header_plus_rounded_size(void **state)
{
    (void)state;
    /* One 8-byte header (size_t fits in it on 32- and 64-bit targets). */
    assert_int_equal(kmqtt_mem_arena_cost(1), UNIT + UNIT);
    assert_int_equal(kmqtt_mem_arena_cost(8), UNIT + UNIT);
    assert_int_equal(kmqtt_mem_arena_cost(9), UNIT + 2 * UNIT);
    assert_int_equal(kmqtt_mem_arena_cost(0), kmqtt_mem_arena_cost(1));
    assert_int_equal(kmqtt_mem_arena_cost(SIZE_MAX), 0);
    assert_int_equal(kmqtt_mem_backend_request(false, SIZE_MAX), 0);
    assert_true(kmqtt_mem_backend_request(true, 10) > kmqtt_mem_backend_request(false, 10));
}

/* Blocks of the costs given fill the arena to the byte, and one more byte
 * does not fit. */
static void test_exact_fill_then_refusal(void **state)
{
    kmqtt_mem_arena_t a;
    static const size_t sizes[] = {1, 24, 100, 7, 333, 64};
    void *p[6];
    size_t total = 0, i;
    (void)state;

    for (i = 0; i < 6; i++)
        total += kmqtt_mem_arena_cost(sizes[i]);
    assert_int_equal(kmqtt_mem_arena_init(&a, store, total), KMQTT_OK);
    for (i = 0; i < 6; i++) {
        p[i] = take(&a, sizes[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % UNIT, 0);
        memset(p[i], 0x77, sizes[i]);
    }
    assert_int_equal(a.used, total);
    assert_int_equal(a.peak, total);
    assert_null(take(&a, 1));
    assert_int_equal(a.failed, 1);
    for (i = 0; i < 6; i++)
        give(&a, p[(i * 5) % 6]); /* an order that merges on both sides */
    assert_int_equal(a.used, 0);
    /* Merged into one block again. */
    assert_non_null(take(&a, total - UNIT));
}

/* A hole is reused by a request that fits it (first fit), and a request
 * larger than every hole is refused even if the holes add up. */
static void test_first_fit_and_fragmentation(void **state)
{
    kmqtt_mem_arena_t a;
    void *p[8];
    void *q;
    size_t i;
    (void)state;

    assert_int_equal(kmqtt_mem_arena_init(&a, store, 8 * kmqtt_mem_arena_cost(56)), KMQTT_OK);
    for (i = 0; i < 8; i++)
        assert_non_null(p[i] = take(&a, 56));
    give(&a, p[2]);
    give(&a, p[5]);
    q = take(&a, 40); /* fits the first hole */
    assert_ptr_equal(q, p[2]);
    assert_null(take(&a, 120)); /* 2 holes of 64, not adjacent */
    give(&a, q);
    give(&a, p[3]);
    give(&a, p[4]); /* 2..5 now one hole of 4 blocks */
    q = take(&a, 4 * kmqtt_mem_arena_cost(56) - UNIT);
    assert_ptr_equal(q, p[2]);
}

/* An unaligned start loses only the bytes up to the next boundary. */
static void test_unaligned_buffer(void **state)
{
    kmqtt_mem_arena_t a;
    unsigned char *raw = (unsigned char *)store + 3;
    void *p;
    (void)state;

    assert_int_equal(kmqtt_mem_arena_init(&a, raw, 1000), KMQTT_OK);
    assert_int_equal((uintptr_t)a.base % UNIT, 0);
    assert_int_equal(a.size, (1000 - 5) / UNIT * UNIT);
    p = take(&a, 16);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % UNIT, 0);
    give(&a, p);
    assert_int_equal(a.used, 0);
}

static void test_tiny_and_invalid(void **state)
{
    kmqtt_mem_arena_t a;
    (void)state;

    assert_int_equal(kmqtt_mem_arena_init(NULL, store, 100), KMQTT_EINVAL);
    assert_int_equal(kmqtt_mem_arena_init(&a, NULL, 100), KMQTT_EINVAL);
    assert_int_equal(kmqtt_mem_arena_init(&a, store, 4), KMQTT_OK);
    assert_null(take(&a, 1));
    give(&a, NULL);
    give(&a, store); /* outside the (empty) arena: ignored, not written */
    assert_int_equal(a.used, 0);
}

/* kmqtt_mem on the arena: accounting, a double free caught in debug mode
 * without damaging the arena, and everything back at the end. */
static void test_mem_context_on_arena(void **state)
{
    kmqtt_mem_arena_t a;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_t m;
    kmqtt_mem_stats_t st;
    void *x, *y;
    int debug;
    (void)state;

    for (debug = 0; debug < 2; debug++) {
        size_t need = kmqtt_mem_arena_cost(kmqtt_mem_backend_request(debug != 0, 100)) +
                      kmqtt_mem_arena_cost(kmqtt_mem_backend_request(debug != 0, 30));
        assert_int_equal(kmqtt_mem_arena_init(&a, store, need), KMQTT_OK);
        memset(&cfg, 0, sizeof cfg);
        cfg.backend = &a.backend;
        cfg.debug = debug != 0;
        assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
        x = kmqtt_mem_alloc(&m, "x", 100);
        y = kmqtt_mem_alloc(&m, "y", 30);
        assert_non_null(x);
        assert_non_null(y);
        assert_int_equal(a.used, need); /* the costs add up exactly */
        assert_null(kmqtt_mem_alloc(&m, "z", 1));
        kmqtt_mem_get_stats(&m, &st);
        assert_int_equal(st.bytes, 130);
        assert_int_equal(st.failed, 1);
        assert_int_equal(kmqtt_mem_free(&m, x), KMQTT_OK);
        if (debug)
            assert_int_equal(kmqtt_mem_free(&m, x), KMQTT_EMEM_BAD_FREE);
        assert_int_equal(kmqtt_mem_free(&m, y), KMQTT_OK);
        assert_int_equal(a.used, 0);
        kmqtt_mem_get_stats(&m, &st);
        assert_int_equal(st.bytes, 0);
        assert_int_equal(st.blocks, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_is_header_plus_rounded_size),
        cmocka_unit_test(test_exact_fill_then_refusal),
        cmocka_unit_test(test_first_fit_and_fragmentation),
        cmocka_unit_test(test_unaligned_buffer),
        cmocka_unit_test(test_tiny_and_invalid),
        cmocka_unit_test(test_mem_context_on_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
