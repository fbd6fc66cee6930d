/*
 * The console report of kmqtt's clients (see diag_print.h). snprintf with
 * unsigned long rather than %zu, which small embedded printf
 * implementations lack (as mem_report.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "diag_print.h"

#define LINE 160

const char *kmqtt_diag_state_name(kmqtt_conn_state_t s)
{
    switch (s) {
    case KMQTT_STATE_DISCONNECTED:
        return "disconnected";
    case KMQTT_STATE_CONNECTING:
        return "connecting";
    case KMQTT_STATE_CONNECTED:
        return "connected";
    case KMQTT_STATE_CONNECTION_LOST:
        return "connection lost";
    case KMQTT_STATE_RECONNECTING:
        return "reconnecting";
    }
    return "?";
}

void kmqtt_diag_snapshot_mem(kmqtt_diag_t *d, const kmqtt_mem_t *m)
{
    size_t n;

    kmqtt_mem_get_stats(m, &d->mem);
    n = kmqtt_mem_get_all_tag_stats(m, d->tags, KMQTT_MEM_MAX_TAGS);
    d->tag_count = n < KMQTT_MEM_MAX_TAGS ? n : KMQTT_MEM_MAX_TAGS;
    d->mem_debug = m->cfg.debug;
}

static void row(kmqtt_diag_print_fn print, void *ctx, const char *tag, size_t bytes,
                const char *peak, const char *blocks)
{
    char line[LINE];

    snprintf(line, sizeof line, "  %-12s %9lu %9s %7s", tag, (unsigned long)bytes, peak, blocks);
    print(ctx, line);
}

void kmqtt_diag_print(const kmqtt_diag_t *d, kmqtt_diag_print_fn print, void *ctx)
{
    char line[LINE];
    char a[24], b[24];
    size_t i, os_sum = 0;
    bool any_server = d->server != NULL && d->server[0] != '\0';

    if (d->is_client) {
        snprintf(line, sizeof line, "kmqtt %u: client \"%s\", %s, MQTT %s%s", d->index,
                 d->client.client_id != NULL ? d->client.client_id : "",
                 kmqtt_diag_state_name(d->client.state),
                 d->client.version == KMQTT_V5 ? "5.0" : "3.1.1",
                 d->client.background ? ", background thread" : "");
        print(ctx, line);
        if (any_server)
            snprintf(line, sizeof line, "  server  %s", d->server);
        else
            snprintf(line, sizeof line, "  server  %s:%u%s",
                     d->client.host != NULL ? d->client.host : "?", (unsigned)d->client.port,
                     d->client.state == KMQTT_STATE_CONNECTED ? "" : " (not connected)");
        print(ctx, line);
    } else {
        snprintf(line, sizeof line, "kmqtt %u: memory context (nano client or application)%s%s",
                 d->index, any_server ? ", server " : "", any_server ? d->server : "");
        print(ctx, line);
    }
    if (d->socket >= 0)
        snprintf(line, sizeof line, "  socket  fd %d, %s, wake pipe %s", d->socket,
                 d->blocking ? "blocking (AT socket)" : "non-blocking",
                 d->wake_fd >= 0 ? "open" : "none (20 ms polling)");
    else
        snprintf(line, sizeof line, "  socket  none");
    if (d->socket >= 0 && d->wake_fd >= 0) {
        size_t len = strlen(line);
        snprintf(line + len, sizeof line - len, " (fd %d)", d->wake_fd);
    }
    print(ctx, line);
    snprintf(line, sizeof line, "  thread  %s",
             d->thread != NULL && d->thread[0] != '\0' ? d->thread : "none");
    print(ctx, line);

    snprintf(line, sizeof line, "  %-12s %9s %9s %7s", "heap by tag", "bytes", "peak", "blocks");
    print(ctx, line);
    for (i = 0; i < d->tag_count; i++) {
        const kmqtt_mem_tag_stats_t *t = &d->tags[i];
        snprintf(a, sizeof a, "%lu", (unsigned long)t->peak);
        snprintf(b, sizeof b, "%lu", (unsigned long)t->blocks);
        row(print, ctx, t->tag != NULL ? t->tag : "?", t->bytes, a, b);
    }
    for (i = 0; i < d->os_count && i < KMQTT_DIAG_OS_LINES; i++) {
        if (d->os[i].bytes == 0)
            continue;
        os_sum += d->os[i].bytes;
        row(print, ctx, d->os[i].name, d->os[i].bytes, "-", "-");
    }
    snprintf(line, sizeof line, "  total   kmqtt %lu B in %lu blocks (peak %lu B)",
             (unsigned long)d->mem.bytes, (unsigned long)d->mem.blocks, (unsigned long)d->mem.peak);
    if (d->os_name != NULL) {
        size_t len = strlen(line);
        snprintf(line + len, sizeof line - len, "; %s heap for it %lu B (peak %lu B)", d->os_name,
                 (unsigned long)os_sum, (unsigned long)d->os_peak);
    }
    print(ctx, line);
    snprintf(line, sizeof line, "  allocs %lu, frees %lu, failed %lu, faults %lu",
             (unsigned long)d->mem.allocs, (unsigned long)d->mem.frees,
             (unsigned long)d->mem.failed, (unsigned long)d->mem.faults);
    print(ctx, line);
}

typedef struct block_sink {
    kmqtt_diag_print_fn print;
    void *ctx;
} block_sink_t;

static void one_block(void *ctx, const kmqtt_mem_block_t *blk)
{
    const block_sink_t *s = ctx;
    char line[LINE];

    snprintf(line, sizeof line, "    0x%08" PRIxPTR " %-10s %7lu  %s:%d", (uintptr_t)blk->ptr,
             blk->tag != NULL ? blk->tag : "?", (unsigned long)blk->size,
             blk->file != NULL ? blk->file : "?", blk->line);
    s->print(s->ctx, line);
}

void kmqtt_diag_print_blocks(kmqtt_mem_t *m, kmqtt_diag_print_fn print, void *ctx)
{
    block_sink_t s;

    if (!m->cfg.debug) {
        print(ctx, "  live blocks: not kept (create the client with options.mem_debug = true)");
        return;
    }
    print(ctx, "  live blocks (oldest first): address, tag, bytes, where");
    s.print = print;
    s.ctx = ctx;
    (void)kmqtt_mem_walk(m, one_block, &s);
}

void kmqtt_diag_cycle_line(char *out, size_t cap, unsigned cycle, unsigned cycles,
                           const char *result, size_t heap_used, size_t heap_base, size_t heap_max,
                           size_t kmqtt_bytes, size_t kmqtt_blocks)
{
    long delta = (long)heap_used - (long)heap_base;

    snprintf(out, cap,
             "cycle %u/%u %s: heap used %lu B (%+ld B from before cycle 1), max %lu B; "
             "kmqtt %lu B in %lu blocks",
             cycle, cycles, result, (unsigned long)heap_used, delta, (unsigned long)heap_max,
             (unsigned long)kmqtt_bytes, (unsigned long)kmqtt_blocks);
}
