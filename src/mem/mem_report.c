/*
 * kmqtt mem — the human-readable report, like an RTOS `free` command.
 *
 * Kept apart from mem.c because it needs snprintf: a bare-metal build that
 * has no stdio can leave this file out and still account its memory.
 * Numbers are printed as unsigned long rather than with %zu, which small
 * embedded printf implementations often lack.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kmqtt/mem.h"

#define REPORT_LINE 256

typedef struct report_sink {
    void (*print)(void *ctx, const char *line);
    void *ctx;
} report_sink_t;

static void report_block(void *ctx, const kmqtt_mem_block_t *b)
{
    const report_sink_t *sink = ctx;
    char line[REPORT_LINE];

    snprintf(line, sizeof line, "  0x%08" PRIxPTR " %-12s %8lu  %s:%d", (uintptr_t)b->ptr,
             b->tag != NULL ? b->tag : "?", (unsigned long)b->size, b->file != NULL ? b->file : "?",
             b->line);
    sink->print(sink->ctx, line);
}

void kmqtt_mem_report(kmqtt_mem_t *m, void (*print)(void *ctx, const char *line), void *ctx)
{
    char line[REPORT_LINE];
    kmqtt_mem_stats_t st;
    kmqtt_mem_tag_stats_t t;
    report_sink_t sink;
    size_t count;
    size_t i;

    if (m == NULL || print == NULL)
        return;
    memset(&t, 0, sizeof t);
    kmqtt_mem_get_stats(m, &st);
    snprintf(line, sizeof line,
             "mem: %lu bytes in %lu blocks, peak %lu; %lu allocs, %lu frees, %lu failed, "
             "%lu faults",
             (unsigned long)st.bytes, (unsigned long)st.blocks, (unsigned long)st.peak,
             (unsigned long)st.allocs, (unsigned long)st.frees, (unsigned long)st.failed,
             (unsigned long)st.faults);
    print(ctx, line);
    snprintf(line, sizeof line, "  %-12s %10s %10s %8s %10s %10s", "tag", "bytes", "peak", "blocks",
             "allocs", "frees");
    print(ctx, line);

    /* One slot at a time under the lock, printed outside it: slots are only
     * ever added, never moved, and a slow console must not stall other
     * threads' allocations. */
    for (i = 0;; i++) {
        if (m->cfg.lock != NULL)
            m->cfg.lock(m->cfg.lock_ctx);
        count = m->tag_count;
        if (i < count)
            t = m->tags[i];
        if (m->cfg.unlock != NULL)
            m->cfg.unlock(m->cfg.lock_ctx);
        if (i >= count)
            break;
        snprintf(line, sizeof line, "  %-12s %10lu %10lu %8lu %10lu %10lu", t.tag,
                 (unsigned long)t.bytes, (unsigned long)t.peak, (unsigned long)t.blocks,
                 (unsigned long)t.allocs, (unsigned long)t.frees);
        print(ctx, line);
    }

    if (m->cfg.debug) {
        print(ctx, "live blocks (oldest first):");
        sink.print = print;
        sink.ctx = ctx;
        kmqtt_mem_walk(m, report_block, &sink);
    }
}
