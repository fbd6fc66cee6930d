/* Tracked memory: accounting, tags, debug checks, backends, failure injection. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/mem.h"

/* ------------------------------------------------------------ helpers */

/* A backend on top of malloc that counts calls and can refuse. */
typedef struct counting {
    int allocs;
    int frees;
    bool refuse;
    void *last_raw;             /* last block handed out (to free leaked blocks) */
    const unsigned char *watch; /* user bytes that must be poisoned at free */
    size_t watch_len;
    bool watch_poisoned;
} counting_t;

static void *counting_alloc(void *ctx, size_t size)
{
    counting_t *c = ctx;
    c->allocs++;
    if (c->refuse)
        return NULL;
    c->last_raw = malloc(size);
    return c->last_raw;
}

static void counting_free(void *ctx, void *ptr)
{
    counting_t *c = ctx;
    size_t i;
    c->frees++;
    if (c->watch != NULL) {
        c->watch_poisoned = true;
        for (i = 0; i < c->watch_len; i++) {
            if (c->watch[i] != 0xDD)
                c->watch_poisoned = false;
        }
        c->watch = NULL;
    }
    free(ptr);
}

/* A bump allocator that never reuses memory, so a non-debug double free can
 * be tested without a real use after free. */
typedef union align_probe {
    long double ld;
    long long ll;
    double d;
    void *p;
    void (*fn)(void);
} align_probe_t;

struct align_of_probe {
    char c;
    align_probe_t u;
};
#define MAX_ALIGN offsetof(struct align_of_probe, u)

typedef struct pool {
    align_probe_t buf[256];
    size_t used;
    int frees;
} pool_t;

static void *pool_alloc(void *ctx, size_t size)
{
    pool_t *p = ctx;
    size_t units = (size + sizeof(align_probe_t) - 1) / sizeof(align_probe_t);
    void *r;
    if (units > 256 - p->used)
        return NULL;
    r = &p->buf[p->used];
    p->used += units;
    return r;
}

static void pool_free(void *ctx, void *ptr)
{
    pool_t *p = ctx;
    (void)ptr;
    p->frees++;
}

static void noop_hook(void *ctx)
{
    (void)ctx;
}

typedef struct faults {
    int calls;
    kmqtt_mem_fault_t last;
    kmqtt_mem_block_t block;
    const char *where_file;
    int where_line;
} faults_t;

static void on_fault(void *ctx, kmqtt_mem_fault_t fault, const kmqtt_mem_block_t *block,
                     const char *where_file, int where_line)
{
    faults_t *f = ctx;
    f->calls++;
    f->last = fault;
    f->block = *block;
    f->where_file = where_file;
    f->where_line = where_line;
}

typedef struct walked {
    size_t n;
    kmqtt_mem_block_t b[8];
} walked_t;

static void collect_block(void *ctx, const kmqtt_mem_block_t *b)
{
    walked_t *w = ctx;
    if (w->n < 8)
        w->b[w->n] = *b;
    w->n++;
}

typedef struct text {
    char buf[4096];
    size_t len;
    int lines;
} text_t;

static void collect_line(void *ctx, const char *line)
{
    text_t *t = ctx;
    int n = snprintf(t->buf + t->len, sizeof t->buf - t->len, "%s\n", line);
    assert_true(n > 0 && (size_t)n < sizeof t->buf - t->len);
    assert_null(strchr(line, '\n'));
    t->len += (size_t)n;
    t->lines++;
}

static void init_debug(kmqtt_mem_t *m, counting_t *c, kmqtt_mem_backend_t *be, faults_t *f)
{
    kmqtt_mem_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    if (c != NULL) {
        be->alloc = counting_alloc;
        be->free = counting_free;
        be->ctx = c;
        cfg.backend = be;
    }
    cfg.debug = true;
    cfg.on_fault = on_fault;
    cfg.fault_ctx = f;
    assert_int_equal(kmqtt_mem_init(m, &cfg), KMQTT_OK);
}

/* ------------------------------------------------------------ accounting */

static void test_totals_and_per_tag_numbers_follow_allocs_and_frees(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_stats_t st;
    kmqtt_mem_tag_stats_t ts;
    void *a, *b, *c, *d;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    a = kmqtt_mem_alloc(&m, "conn", 100);
    b = kmqtt_mem_alloc(&m, "buf", 40);
    c = kmqtt_mem_alloc(&m, "buf", 60);
    d = kmqtt_mem_alloc(&m, "sub", 7);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    assert_int_equal(kmqtt_mem_free(&m, b), KMQTT_OK);
    assert_int_equal(kmqtt_mem_free(&m, d), KMQTT_OK);

    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.bytes, 160);
    assert_int_equal(st.peak, 207);
    assert_int_equal(st.blocks, 2);
    assert_int_equal(st.allocs, 4);
    assert_int_equal(st.frees, 2);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.faults, 0);

    assert_int_equal(kmqtt_mem_get_tag_stats(&m, "buf", &ts), KMQTT_OK);
    assert_string_equal(ts.tag, "buf");
    assert_int_equal(ts.bytes, 60);
    assert_int_equal(ts.peak, 100);
    assert_int_equal(ts.blocks, 1);
    assert_int_equal(ts.allocs, 2);
    assert_int_equal(ts.frees, 1);

    assert_int_equal(kmqtt_mem_get_tag_stats(&m, "sub", &ts), KMQTT_OK);
    assert_int_equal(ts.bytes, 0);
    assert_int_equal(ts.peak, 7);
    assert_int_equal(ts.blocks, 0);
    assert_int_equal(ts.frees, 1);

    kmqtt_mem_free(&m, a);
    kmqtt_mem_free(&m, c);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.blocks, 0);
}

static void test_tags_are_matched_by_content_not_pointer(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_tag_stats_t ts;
    char name[8];
    void *a, *b;
    (void)state;

    strcpy(name, "ack");
    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    a = kmqtt_mem_alloc(&m, "ack", 10);
    b = kmqtt_mem_alloc(&m, name, 20);
    assert_int_equal(m.tag_count, 1);
    assert_int_equal(kmqtt_mem_get_tag_stats(&m, name, &ts), KMQTT_OK);
    assert_int_equal(ts.bytes, 30);
    assert_int_equal(ts.blocks, 2);
    assert_int_equal(kmqtt_mem_get_tag_stats(&m, "never", &ts), KMQTT_ENOTFOUND);
    kmqtt_mem_free(&m, a);
    kmqtt_mem_free(&m, b);
}

static void test_peak_holds_highest_use_until_reset(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_stats_t st;
    kmqtt_mem_tag_stats_t ts;
    void *a, *b, *c;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    a = kmqtt_mem_alloc(&m, "conn", 500);
    b = kmqtt_mem_alloc(&m, "conn", 300);
    kmqtt_mem_free(&m, a);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.bytes, 300);
    assert_int_equal(st.peak, 800);

    kmqtt_mem_reset_peak(&m);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.peak, 300);
    assert_int_equal(kmqtt_mem_get_tag_stats(&m, "conn", &ts), KMQTT_OK);
    assert_int_equal(ts.peak, 300);

    c = kmqtt_mem_alloc(&m, "conn", 50);
    kmqtt_mem_free(&m, c);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.peak, 350);
    kmqtt_mem_free(&m, b);
}

static void test_tags_past_the_table_are_counted_as_other(void **state)
{
    static const char *const names[] = {"t0",  "t1",  "t2",  "t3",  "t4",  "t5",  "t6",
                                        "t7",  "t8",  "t9",  "t10", "t11", "t12", "t13",
                                        "t14", "t15", "t16", "t17", "t18", "t19"};
    kmqtt_mem_t m;
    kmqtt_mem_tag_stats_t ts;
    void *p[20];
    size_t i;
    (void)state;

    assert_true(KMQTT_MEM_MAX_TAGS + 4 <= 20);
    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    for (i = 0; i < KMQTT_MEM_MAX_TAGS + 4; i++) {
        p[i] = kmqtt_mem_alloc(&m, names[i], 10);
        assert_non_null(p[i]);
    }
    assert_int_equal(m.tag_count, KMQTT_MEM_MAX_TAGS);

    /* The first MAX-1 tags keep their own slot. */
    assert_int_equal(kmqtt_mem_get_tag_stats(&m, names[KMQTT_MEM_MAX_TAGS - 2], &ts), KMQTT_OK);
    assert_int_equal(ts.bytes, 10);
    /* The rest (5 tags) share the last one. */
    assert_int_equal(kmqtt_mem_get_tag_stats(&m, "other", &ts), KMQTT_OK);
    assert_int_equal(ts.bytes, 50);
    assert_int_equal(ts.blocks, 5);
    assert_int_equal(kmqtt_mem_get_tag_stats(&m, names[KMQTT_MEM_MAX_TAGS + 3], &ts),
                     KMQTT_ENOTFOUND);

    for (i = 0; i < KMQTT_MEM_MAX_TAGS + 4; i++)
        assert_int_equal(kmqtt_mem_free(&m, p[i]), KMQTT_OK);
    assert_int_equal(kmqtt_mem_get_tag_stats(&m, "other", &ts), KMQTT_OK);
    assert_int_equal(ts.bytes, 0);
    assert_int_equal(ts.frees, 5);
}

/* ------------------------------------------------------------ debug mode */

static void test_debug_walk_lists_live_blocks_oldest_first_with_sites(void **state)
{
    kmqtt_mem_t m;
    faults_t f = {0};
    walked_t w = {0};
    void *a, *b, *c;
    int line_a, line_c;
    (void)state;

    init_debug(&m, NULL, NULL, &f);
    line_a = __LINE__ + 1;
    a = kmqtt_mem_alloc(&m, "conn", 24);
    b = kmqtt_mem_alloc(&m, "buf", 5);
    line_c = __LINE__ + 1;
    c = kmqtt_mem_alloc(&m, "sub", 9);
    kmqtt_mem_free(&m, b);

    assert_int_equal(kmqtt_mem_walk(&m, collect_block, &w), 2);
    assert_int_equal(w.n, 2);
    assert_ptr_equal(w.b[0].ptr, a);
    assert_string_equal(w.b[0].tag, "conn");
    assert_int_equal(w.b[0].size, 24);
    assert_string_equal(w.b[0].file, __FILE__);
    assert_int_equal(w.b[0].line, line_a);
    assert_ptr_equal(w.b[1].ptr, c);
    assert_string_equal(w.b[1].tag, "sub");
    assert_int_equal(w.b[1].size, 9);
    assert_int_equal(w.b[1].line, line_c);

    kmqtt_mem_free(&m, a);
    kmqtt_mem_free(&m, c);
    assert_int_equal(kmqtt_mem_walk(&m, collect_block, &w), 0);
    assert_int_equal(f.calls, 0);
}

static void test_walk_outside_debug_mode_lists_nothing(void **state)
{
    kmqtt_mem_t m;
    walked_t w = {0};
    void *a;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    a = kmqtt_mem_alloc(&m, "conn", 24);
    assert_int_equal(kmqtt_mem_walk(&m, collect_block, &w), 0);
    assert_int_equal(w.n, 0);
    assert_int_equal(kmqtt_mem_check(&m), 0);
    kmqtt_mem_free(&m, a);
}

static void test_report_names_tags_and_allocation_sites(void **state)
{
    kmqtt_mem_t m;
    faults_t f = {0};
    text_t t;
    char site[512];
    void *a, *b;
    int line_b;
    (void)state;

    memset(&t, 0, sizeof t);
    init_debug(&m, NULL, NULL, &f);
    a = kmqtt_mem_alloc(&m, "conn", 100);
    line_b = __LINE__ + 1;
    b = kmqtt_mem_alloc(&m, "inflight", 33);
    kmqtt_mem_free(&m, a);
    kmqtt_mem_report(&m, collect_line, &t);

    assert_non_null(strstr(t.buf, "33 bytes in 1 blocks"));
    assert_non_null(strstr(t.buf, "conn"));
    assert_non_null(strstr(t.buf, "inflight"));
    snprintf(site, sizeof site, "%s:%d", __FILE__, line_b);
    assert_non_null(strstr(t.buf, site));
    /* Totals, column heads, two tags, the list title, one live block. */
    assert_int_equal(t.lines, 6);
    kmqtt_mem_free(&m, b);
}

static void test_report_without_debug_has_totals_and_tags_only(void **state)
{
    kmqtt_mem_t m;
    text_t t;
    void *a;
    (void)state;

    memset(&t, 0, sizeof t);
    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    a = kmqtt_mem_alloc(&m, "sess", 12);
    kmqtt_mem_report(&m, collect_line, &t);
    assert_non_null(strstr(t.buf, "sess"));
    assert_null(strstr(t.buf, __FILE__));
    assert_int_equal(t.lines, 3);
    kmqtt_mem_free(&m, a);
}

static void test_one_byte_overflow_is_reported_on_free_and_block_kept_from_backend(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_backend_t be;
    counting_t c = {0};
    faults_t f = {0};
    kmqtt_mem_stats_t st;
    unsigned char *p;
    void *raw;
    int free_line;
    (void)state;

    init_debug(&m, &c, &be, &f);
    p = kmqtt_mem_alloc(&m, "buf", 16);
    raw = c.last_raw;
    p[16] = 0; /* one past the end */
    free_line = __LINE__ + 1;
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_EMEM_CORRUPT);

    assert_int_equal(f.calls, 1);
    assert_int_equal(f.last, KMQTT_MEM_FAULT_OVERFLOW);
    assert_ptr_equal(f.block.ptr, p);
    assert_int_equal(f.block.size, 16);
    assert_string_equal(f.block.tag, "buf");
    assert_string_equal(f.where_file, __FILE__);
    assert_int_equal(f.where_line, free_line);
    assert_int_equal(c.frees, 0);

    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.faults, 1);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.blocks, 0);
    assert_int_equal(kmqtt_mem_walk(&m, NULL, NULL), 0);
    free(raw); /* leaked on purpose by the library */
}

static void test_check_finds_an_overflowed_block_before_it_is_freed(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_backend_t be;
    counting_t c = {0};
    faults_t f = {0};
    kmqtt_mem_stats_t st;
    unsigned char *good, *bad;
    void *raw_bad;
    (void)state;

    init_debug(&m, &c, &be, &f);
    good = kmqtt_mem_alloc(&m, "ok", 8);
    bad = kmqtt_mem_alloc(&m, "topic", 5);
    raw_bad = c.last_raw;
    assert_int_equal(kmqtt_mem_check(&m), 0);
    memcpy(bad, "abcdef", 6); /* writes the terminator past the end */

    assert_int_equal(kmqtt_mem_check(&m), 1);
    assert_int_equal(f.calls, 1);
    assert_int_equal(f.last, KMQTT_MEM_FAULT_OVERFLOW);
    assert_ptr_equal(f.block.ptr, bad);
    assert_string_equal(f.block.tag, "topic");
    assert_null(f.where_file);

    /* Seen twice (check, then free) but one damaged block: one fault. */
    assert_int_equal(kmqtt_mem_check(&m), 1);
    assert_int_equal(kmqtt_mem_free(&m, bad), KMQTT_EMEM_CORRUPT);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.faults, 1);
    assert_int_equal(f.calls, 3);

    assert_int_equal(kmqtt_mem_free(&m, good), KMQTT_OK);
    assert_int_equal(c.frees, 1);
    free(raw_bad);
}

static void test_damaged_header_is_reported_as_header_fault(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_backend_t be;
    counting_t c = {0};
    faults_t f = {0};
    unsigned char *p;
    void *raw;
    (void)state;

    init_debug(&m, &c, &be, &f);
    p = kmqtt_mem_alloc(&m, "conn", 32);
    raw = c.last_raw;
    p[-1] ^= 0x40; /* an underrun into the header */
    assert_int_equal(kmqtt_mem_check(&m), 1);
    assert_int_equal(f.last, KMQTT_MEM_FAULT_HEADER);
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_EMEM_CORRUPT);
    assert_int_equal(f.last, KMQTT_MEM_FAULT_HEADER);
    assert_int_equal(c.frees, 0);
    free(raw);
}

static void test_double_free_in_debug_mode_is_reported_and_not_passed_to_backend(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_backend_t be;
    counting_t c = {0};
    faults_t f = {0};
    kmqtt_mem_stats_t st;
    void *p;
    (void)state;

    /* The backend really frees, so under AddressSanitizer any read of p's
     * memory by the second free would abort the test. */
    init_debug(&m, &c, &be, &f);
    p = kmqtt_mem_alloc(&m, "ack", 20);
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_OK);
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_EMEM_BAD_FREE);

    assert_int_equal(c.frees, 1);
    assert_int_equal(f.calls, 1);
    assert_int_equal(f.last, KMQTT_MEM_FAULT_DOUBLE_FREE);
    assert_ptr_equal(f.block.ptr, p);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.faults, 1);
    assert_int_equal(st.frees, 1);
    assert_int_equal(st.bytes, 0);
}

static void test_freeing_a_pointer_never_allocated_is_a_bad_free_in_debug_mode(void **state)
{
    kmqtt_mem_t m;
    faults_t f = {0};
    long local = 0;
    void *p;
    (void)state;

    init_debug(&m, NULL, NULL, &f);
    p = kmqtt_mem_alloc(&m, "conn", 8);
    assert_int_equal(kmqtt_mem_free(&m, &local), KMQTT_EMEM_BAD_FREE);
    assert_int_equal(f.last, KMQTT_MEM_FAULT_DOUBLE_FREE);
    assert_int_equal(kmqtt_mem_walk(&m, NULL, NULL), 1);
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_OK);
}

static void test_double_free_without_debug_is_caught_while_memory_is_unused(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_backend_t be = {pool_alloc, pool_free, NULL};
    static pool_t pool;
    faults_t f = {0};
    kmqtt_mem_stats_t st;
    void *p;
    (void)state;

    memset(&pool, 0, sizeof pool);
    be.ctx = &pool;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &be;
    cfg.on_fault = on_fault;
    cfg.fault_ctx = &f;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
    p = kmqtt_mem_alloc(&m, "sub", 40);
    assert_non_null(p);
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_OK);
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_EMEM_BAD_FREE);
    assert_int_equal(pool.frees, 1);
    assert_int_equal(f.last, KMQTT_MEM_FAULT_DOUBLE_FREE);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.faults, 1);
    assert_int_equal(st.frees, 1);
}

static void test_damaged_header_without_debug_is_corrupt_and_kept(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_backend_t be = {pool_alloc, pool_free, NULL};
    static pool_t pool;
    faults_t f = {0};
    kmqtt_mem_stats_t st;
    unsigned char *p;
    (void)state;

    memset(&pool, 0, sizeof pool);
    be.ctx = &pool;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &be;
    cfg.on_fault = on_fault;
    cfg.fault_ctx = &f;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
    p = kmqtt_mem_alloc(&m, "sub", 40);
    p[-2] ^= 0x11;
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_EMEM_CORRUPT);
    assert_int_equal(f.last, KMQTT_MEM_FAULT_HEADER);
    assert_int_equal(pool.frees, 0);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.faults, 1);
}

static void test_freed_memory_is_poisoned_before_the_backend_gets_it(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_backend_t be;
    counting_t c = {0};
    faults_t f = {0};
    unsigned char *p;
    (void)state;

    init_debug(&m, &c, &be, &f);
    p = kmqtt_mem_alloc(&m, "buf", 64);
    memset(p, 'x', 64);
    c.watch = p;
    c.watch_len = 64;
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_OK);
    assert_true(c.watch_poisoned);
}

/* The on_free hook: what each block held when it was freed, before debug
 * mode's poison (so a test can tell a wiped secret from a poisoned one). */
typedef struct seen_free {
    int calls;
    size_t size;
    const char *tag;
    unsigned char bytes[64];
} seen_free_t;

static void on_free_copy(void *ctx, const kmqtt_mem_block_t *b)
{
    seen_free_t *s = ctx;
    s->calls++;
    s->size = b->size;
    s->tag = b->tag;
    memcpy(s->bytes, b->ptr, b->size < sizeof s->bytes ? b->size : sizeof s->bytes);
}

static void test_on_free_sees_the_bytes_before_they_are_poisoned(void **state)
{
    kmqtt_mem_config_t cfg;
    kmqtt_mem_t m;
    seen_free_t seen;
    unsigned char *p;
    int debug;
    (void)state;

    for (debug = 0; debug < 2; debug++) {
        memset(&cfg, 0, sizeof cfg);
        memset(&seen, 0, sizeof seen);
        cfg.debug = debug != 0;
        cfg.on_free = on_free_copy;
        cfg.free_ctx = &seen;
        assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
        p = kmqtt_mem_alloc(&m, "secret", 10);
        memcpy(p, "hunter2-pw", 10);
        assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_OK);
        assert_int_equal(seen.calls, 1);
        assert_int_equal(seen.size, 10);
        assert_string_equal(seen.tag, "secret");
        assert_memory_equal(seen.bytes, "hunter2-pw", 10);
        /* Wiped first: the hook sees zeros. */
        p = kmqtt_mem_alloc(&m, "secret", 10);
        memcpy(p, "hunter2-pw", 10);
        kmqtt_mem_wipe(p, 10);
        assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_OK);
        assert_int_equal(seen.calls, 2);
        assert_memory_equal(seen.bytes, "\0\0\0\0\0\0\0\0\0\0", 10);
        /* A failed free (double free) is no free: the hook is not called. */
        if (debug) {
            assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_EMEM_BAD_FREE);
            assert_int_equal(seen.calls, 2);
        }
    }
    kmqtt_mem_wipe(NULL, 0);
}

/* ------------------------------------------------------------ backends */

static void test_custom_backend_receives_every_call(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_backend_t be = {counting_alloc, counting_free, NULL};
    counting_t c = {0};
    void *p[5];
    int i;
    (void)state;

    be.ctx = &c;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &be;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
    for (i = 0; i < 5; i++)
        p[i] = kmqtt_mem_alloc(&m, "buf", (size_t)(i + 1) * 10);
    for (i = 0; i < 3; i++)
        kmqtt_mem_free(&m, p[i]);
    assert_int_equal(c.allocs, 5);
    assert_int_equal(c.frees, 3);
    kmqtt_mem_free(&m, p[3]);
    kmqtt_mem_free(&m, p[4]);
    assert_int_equal(c.frees, 5);
}

static void test_backend_refusal_gives_null_and_counts_failed(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_backend_t be = {counting_alloc, counting_free, NULL};
    counting_t c = {0};
    kmqtt_mem_stats_t st;
    (void)state;

    c.refuse = true;
    be.ctx = &c;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &be;
    cfg.debug = true;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
    assert_null(kmqtt_mem_alloc(&m, "conn", 10));
    assert_null(kmqtt_mem_calloc(&m, "conn", 10));
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.allocs, 0);
    assert_int_equal(st.blocks, 0);
    assert_int_equal(kmqtt_mem_walk(&m, NULL, NULL), 0);
}

static void test_size_overflow_gives_null_and_counts_failed(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_backend_t be = {counting_alloc, counting_free, NULL};
    counting_t c = {0};
    kmqtt_mem_stats_t st;
    (void)state;

    be.ctx = &c;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &be;
    cfg.debug = true;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
    assert_null(kmqtt_mem_alloc(&m, "buf", SIZE_MAX));
    assert_null(kmqtt_mem_alloc(&m, "buf", SIZE_MAX - 4));
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.failed, 2);
    assert_int_equal(c.allocs, 0); /* the wrapped size never reaches the backend */
}

static void test_init_without_config_uses_malloc(void **state)
{
    kmqtt_mem_t m;
    char *p;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    p = kmqtt_mem_alloc(&m, "buf", 3);
    assert_non_null(p);
    memcpy(p, "ok", 3);
    assert_string_equal(p, "ok");
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_OK);
}

static void test_init_rejects_bad_arguments(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_backend_t half = {counting_alloc, NULL, NULL};
    (void)state;

    assert_int_equal(kmqtt_mem_init(NULL, NULL), KMQTT_EINVAL);
    memset(&cfg, 0, sizeof cfg);
    cfg.lock = noop_hook; /* without an unlock */
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_EINVAL);
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &half;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_EINVAL);
}

/* ------------------------------------------------------------ failure injection */

static void test_fail_nth_refuses_only_that_allocation(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_stats_t st;
    void *p[4];
    int i;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    kmqtt_mem_fail_nth(&m, 2, false);
    for (i = 0; i < 4; i++)
        p[i] = kmqtt_mem_alloc(&m, "buf", 8);
    assert_non_null(p[0]);
    assert_null(p[1]);
    assert_non_null(p[2]);
    assert_non_null(p[3]);
    assert_int_equal(kmqtt_mem_attempts(&m), 4);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.failed, 1);
    for (i = 0; i < 4; i++)
        kmqtt_mem_free(&m, p[i]);
}

static void test_fail_nth_all_after_refuses_every_later_allocation(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_stats_t st;
    void *p[5];
    int i;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    kmqtt_mem_fail_nth(&m, 3, true);
    for (i = 0; i < 5; i++)
        p[i] = kmqtt_mem_alloc(&m, "buf", 8);
    assert_non_null(p[0]);
    assert_non_null(p[1]);
    assert_null(p[2]);
    assert_null(p[3]);
    assert_null(p[4]);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.failed, 3);

    kmqtt_mem_fail_nth(&m, 0, false); /* off again */
    assert_int_equal(kmqtt_mem_attempts(&m), 0);
    p[2] = kmqtt_mem_calloc(&m, "buf", 8);
    assert_non_null(p[2]);
    assert_int_equal(kmqtt_mem_attempts(&m), 1);
    for (i = 0; i < 3; i++)
        kmqtt_mem_free(&m, p[i]);
}

static void test_attempts_count_a_scenario_without_injection(void **state)
{
    kmqtt_mem_t m;
    void *p;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    p = kmqtt_mem_alloc(&m, "buf", 8);
    kmqtt_mem_free(&m, p);
    assert_int_equal(kmqtt_mem_attempts(&m), 1);
    kmqtt_mem_fail_nth(&m, 0, false);
    assert_int_equal(kmqtt_mem_attempts(&m), 0);
}

/* ------------------------------------------------------------ small contracts */

static void test_calloc_returns_zeroed_memory(void **state)
{
    kmqtt_mem_t m;
    faults_t f = {0};
    unsigned char *p;
    size_t i;
    (void)state;

    /* Debug mode fills fresh blocks with a pattern, so zeroing is visible. */
    init_debug(&m, NULL, NULL, &f);
    p = kmqtt_mem_calloc(&m, "sub", 200);
    assert_non_null(p);
    for (i = 0; i < 200; i++)
        assert_int_equal(p[i], 0);
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_OK);
}

static void test_free_null_is_a_noop(void **state)
{
    kmqtt_mem_t m;
    faults_t f = {0};
    kmqtt_mem_stats_t st;
    (void)state;

    init_debug(&m, NULL, NULL, &f);
    assert_int_equal(kmqtt_mem_free(&m, NULL), KMQTT_OK);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.frees, 0);
    assert_int_equal(st.faults, 0);
    assert_int_equal(f.calls, 0);
}

static void test_size_zero_allocates_one_byte(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_stats_t st;
    unsigned char *p;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    p = kmqtt_mem_alloc(&m, "buf", 0);
    assert_non_null(p);
    p[0] = 1;
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.bytes, 1);
    assert_int_equal(kmqtt_mem_free(&m, p), KMQTT_OK);
}

static void test_pointers_are_aligned_for_any_scalar(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_config_t cfg;
    void *p[40];
    size_t i;
    int debug;
    (void)state;

    for (debug = 0; debug < 2; debug++) {
        memset(&cfg, 0, sizeof cfg);
        cfg.debug = debug != 0;
        assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
        for (i = 0; i < 40; i++) {
            p[i] = kmqtt_mem_alloc(&m, "buf", i);
            assert_int_equal((uintptr_t)p[i] % MAX_ALIGN, 0);
            if (i >= sizeof(long double))
                *(long double *)p[i] = 1.5L;
        }
        for (i = 0; i < 40; i++)
            assert_int_equal(kmqtt_mem_free(&m, p[i]), KMQTT_OK);
    }
}

typedef struct lockstate {
    int locks;
    int unlocks;
    int depth;
    int max_depth;
} lockstate_t;

static void test_lock(void *ctx)
{
    lockstate_t *l = ctx;
    l->locks++;
    l->depth++;
    if (l->depth > l->max_depth)
        l->max_depth = l->depth;
}

static void test_unlock(void *ctx)
{
    lockstate_t *l = ctx;
    assert_true(l->depth > 0);
    l->unlocks++;
    l->depth--;
}

static void count_line(void *ctx, const char *line)
{
    (void)line;
    (*(int *)ctx)++;
}

static void test_lock_hooks_are_called_balanced(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_stats_t st;
    kmqtt_mem_tag_stats_t ts;
    lockstate_t l = {0};
    void *a, *b;
    int lines = 0;
    (void)state;

    memset(&cfg, 0, sizeof cfg);
    cfg.debug = true;
    cfg.lock = test_lock;
    cfg.unlock = test_unlock;
    cfg.lock_ctx = &l;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
    a = kmqtt_mem_alloc(&m, "conn", 10);
    kmqtt_mem_fail_nth(&m, 1, false);
    b = kmqtt_mem_alloc(&m, "conn", 10); /* refused */
    assert_null(b);
    b = kmqtt_mem_calloc(&m, "buf", 10);
    kmqtt_mem_get_stats(&m, &st);
    kmqtt_mem_get_tag_stats(&m, "buf", &ts);
    kmqtt_mem_reset_peak(&m);
    kmqtt_mem_walk(&m, NULL, NULL);
    kmqtt_mem_check(&m);
    kmqtt_mem_report(&m, count_line, &lines);
    kmqtt_mem_free(&m, a);
    kmqtt_mem_free(&m, a); /* bad free: the error path unlocks too */
    kmqtt_mem_free(&m, b);
    (void)kmqtt_mem_attempts(&m);

    assert_true(lines > 0);
    assert_true(l.locks >= 13);
    assert_int_equal(l.locks, l.unlocks);
    assert_int_equal(l.depth, 0);
    assert_int_equal(l.max_depth, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totals_and_per_tag_numbers_follow_allocs_and_frees),
        cmocka_unit_test(test_tags_are_matched_by_content_not_pointer),
        cmocka_unit_test(test_peak_holds_highest_use_until_reset),
        cmocka_unit_test(test_tags_past_the_table_are_counted_as_other),
        cmocka_unit_test(test_debug_walk_lists_live_blocks_oldest_first_with_sites),
        cmocka_unit_test(test_walk_outside_debug_mode_lists_nothing),
        cmocka_unit_test(test_report_names_tags_and_allocation_sites),
        cmocka_unit_test(test_report_without_debug_has_totals_and_tags_only),
        cmocka_unit_test(test_one_byte_overflow_is_reported_on_free_and_block_kept_from_backend),
        cmocka_unit_test(test_check_finds_an_overflowed_block_before_it_is_freed),
        cmocka_unit_test(test_damaged_header_is_reported_as_header_fault),
        cmocka_unit_test(test_double_free_in_debug_mode_is_reported_and_not_passed_to_backend),
        cmocka_unit_test(test_freeing_a_pointer_never_allocated_is_a_bad_free_in_debug_mode),
        cmocka_unit_test(test_double_free_without_debug_is_caught_while_memory_is_unused),
        cmocka_unit_test(test_damaged_header_without_debug_is_corrupt_and_kept),
        cmocka_unit_test(test_freed_memory_is_poisoned_before_the_backend_gets_it),
        cmocka_unit_test(test_on_free_sees_the_bytes_before_they_are_poisoned),
        cmocka_unit_test(test_custom_backend_receives_every_call),
        cmocka_unit_test(test_backend_refusal_gives_null_and_counts_failed),
        cmocka_unit_test(test_size_overflow_gives_null_and_counts_failed),
        cmocka_unit_test(test_init_without_config_uses_malloc),
        cmocka_unit_test(test_init_rejects_bad_arguments),
        cmocka_unit_test(test_fail_nth_refuses_only_that_allocation),
        cmocka_unit_test(test_fail_nth_all_after_refuses_every_later_allocation),
        cmocka_unit_test(test_attempts_count_a_scenario_without_injection),
        cmocka_unit_test(test_calloc_returns_zeroed_memory),
        cmocka_unit_test(test_free_null_is_a_noop),
        cmocka_unit_test(test_size_zero_allocates_one_byte),
        cmocka_unit_test(test_pointers_are_aligned_for_any_scalar),
        cmocka_unit_test(test_lock_hooks_are_called_balanced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
