/*
 * kmqtt mem — allocation, accounting, and the debug-mode live list.
 *
 * Block layout (addresses grow to the right):
 *
 *   normal mode:  [base header][user bytes]
 *   debug mode:   [debug header][base header][user bytes][guard]
 *
 * Both headers are padded to a multiple of the strictest C99 scalar alignment
 * (mem_align_t), so a user pointer is as aligned as the backend's pointer; a
 * custom backend must therefore return memory aligned like malloc's.
 *
 * The debug header sits furthest from the user bytes on purpose: an underrun
 * reaches the base header's check word (which is verified) before the list
 * links (which have to be trusted to unlink the block).
 *
 * Double free: in debug mode the pointer is looked up on the live list, so the
 * freed memory is never read. Outside debug mode only the base header is
 * examined; a double free is then recognised only while the backend has not
 * reused the memory (the check word is flipped on free), and that read is
 * itself a use after free. Use debug mode to find double frees reliably.
 *
 * This file stays free of stdio so the core builds for bare metal; with
 * KMQTT_NO_MALLOC it does not even include <stdlib.h>.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifndef KMQTT_NO_MALLOC
#include <stdlib.h>
#endif

#include "kmqtt/mem.h"

#if KMQTT_MEM_MAX_TAGS < 1
#error "KMQTT_MEM_MAX_TAGS must be at least 1 (the \"other\" slot)"
#endif

/* C99 has no max_align_t; a union of the widest scalars stands in for it. */
typedef union mem_align {
    long double ld;
    long long ll;
    double d;
    void *p;
    void (*fn)(void);
} mem_align_t;

typedef struct mem_base {
    size_t size;
    uint32_t tag; /* slot in m->tags */
    uint32_t check;
} mem_base_t;

struct kmqtt_mem_hdr {
    kmqtt_mem_hdr_t *prev; /* circular: m->live is the oldest, m->live->prev the newest */
    kmqtt_mem_hdr_t *next;
    const char *tag; /* as passed, so folded "other" blocks still show their own tag */
    const char *file;
    size_t size; /* copies of the base header, for when that one is damaged */
    uint32_t tag_index;
    int line;
    bool reported; /* damage already counted in stats.faults */
};

typedef union base_slot {
    mem_base_t b;
    mem_align_t a;
} base_slot_t;

typedef union dbg_slot {
    kmqtt_mem_hdr_t h;
    mem_align_t a;
} dbg_slot_t;

#define BASE_SIZE   sizeof(base_slot_t)
#define DBG_SIZE    sizeof(dbg_slot_t)
#define GUARD_SIZE  8u
#define POISON_NEW  0xCD /* fresh debug blocks: reads of unset bytes stand out */
#define POISON_FREE 0xDD
#define CHECK_MAGIC 0x4B4D454Du /* "KMEM" */
#define CHECK_FREED 0xA5A5A5A5u /* xor-ed into the check word on free (normal mode) */

/* Irregular bytes, so an off-by-one write of a common value (0, 0xFF, a
 * string byte) is unlikely to leave the guard intact. */
static const unsigned char guard_pattern[GUARD_SIZE] = {0xFD, 0x5A, 0xC3, 0x96,
                                                        0x0F, 0xA5, 0x3C, 0x69};

static const char tag_other[] = "other";
static const char tag_none[] = "untagged";

#ifndef KMQTT_NO_MALLOC
static void *libc_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void libc_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static const kmqtt_mem_backend_t libc_backend = {libc_alloc, libc_free, NULL};
#endif

static void mem_lock(const kmqtt_mem_t *m)
{
    if (m->cfg.lock != NULL)
        m->cfg.lock(m->cfg.lock_ctx);
}

static void mem_unlock(const kmqtt_mem_t *m)
{
    if (m->cfg.unlock != NULL)
        m->cfg.unlock(m->cfg.lock_ctx);
}

/* Ties the check word to size and tag so damage to either is noticed, not
 * just damage to a fixed magic. The double shift folds in the high half of a
 * 64-bit size without a shift by 32 on 32-bit targets. */
static uint32_t base_check(size_t size, uint32_t tag)
{
    uint32_t folded = (uint32_t)size ^ (uint32_t)((size >> 16) >> 16);
    return CHECK_MAGIC ^ folded ^ (uint32_t)(tag * 0x9E3779B9u);
}

static uint32_t tag_slot(kmqtt_mem_t *m, const char *tag)
{
    size_t i;

    /* Call sites pass literals, so the pointer usually matches outright. */
    for (i = 0; i < m->tag_count; i++) {
        if (m->tags[i].tag == tag)
            return (uint32_t)i;
    }
    for (i = 0; i < m->tag_count; i++) {
        if (strcmp(m->tags[i].tag, tag) == 0)
            return (uint32_t)i;
    }
    if (m->tag_count < KMQTT_MEM_MAX_TAGS - 1) {
        i = m->tag_count++;
        memset(&m->tags[i], 0, sizeof m->tags[i]);
        m->tags[i].tag = tag;
        return (uint32_t)i;
    }
    if (m->tag_count == KMQTT_MEM_MAX_TAGS - 1) {
        i = m->tag_count++;
        memset(&m->tags[i], 0, sizeof m->tags[i]);
        m->tags[i].tag = tag_other;
    }
    return KMQTT_MEM_MAX_TAGS - 1;
}

static void account_add(kmqtt_mem_t *m, uint32_t slot, size_t size)
{
    kmqtt_mem_tag_stats_t *t = &m->tags[slot];

    m->stats.bytes += size;
    if (m->stats.bytes > m->stats.peak)
        m->stats.peak = m->stats.bytes;
    m->stats.blocks++;
    m->stats.allocs++;
    t->bytes += size;
    if (t->bytes > t->peak)
        t->peak = t->bytes;
    t->blocks++;
    t->allocs++;
}

/* Header fields may come from damaged memory: refuse numbers that cannot
 * belong to a live block rather than let the totals wrap. */
static bool account_plausible(const kmqtt_mem_t *m, uint32_t slot, size_t size)
{
    return slot < m->tag_count && m->tags[slot].blocks > 0 && size <= m->tags[slot].bytes &&
           size <= m->stats.bytes && m->stats.blocks > 0;
}

static void account_remove(kmqtt_mem_t *m, uint32_t slot, size_t size)
{
    kmqtt_mem_tag_stats_t *t = &m->tags[slot];

    m->stats.bytes -= size;
    m->stats.blocks--;
    m->stats.frees++;
    t->bytes -= size;
    t->blocks--;
    t->frees++;
}

static unsigned char *dbg_user(kmqtt_mem_hdr_t *d)
{
    return (unsigned char *)d + DBG_SIZE + BASE_SIZE;
}

/* The base header ends where the user bytes begin (its slot's padding, if
 * any, comes first): on 32-bit targets mem_base_t is 12 bytes in a 16-byte
 * slot, and a one-byte underrun must hit the check word, not padding. */
static mem_base_t *user_base(unsigned char *user)
{
    return (mem_base_t *)(void *)(user - sizeof(mem_base_t));
}

static void live_append(kmqtt_mem_t *m, kmqtt_mem_hdr_t *d)
{
    if (m->live == NULL) {
        d->prev = d;
        d->next = d;
        m->live = d;
        return;
    }
    d->next = m->live;
    d->prev = m->live->prev;
    m->live->prev->next = d;
    m->live->prev = d;
}

static void live_unlink(kmqtt_mem_t *m, kmqtt_mem_hdr_t *d)
{
    if (d->next == d) {
        m->live = NULL;
        return;
    }
    d->prev->next = d->next;
    d->next->prev = d->prev;
    if (m->live == d)
        m->live = d->next;
}

/* Compares addresses only, so a stale pointer's memory is never touched.
 * Newest first: most blocks are short-lived. */
static kmqtt_mem_hdr_t *live_find(kmqtt_mem_t *m, const unsigned char *user)
{
    kmqtt_mem_hdr_t *d;

    if (m->live == NULL)
        return NULL;
    d = m->live->prev;
    for (;;) {
        if (dbg_user(d) == user)
            return d;
        if (d == m->live)
            return NULL;
        d = d->prev;
    }
}

/* 0 if intact, else the fault to report. */
static int block_damage(kmqtt_mem_hdr_t *d)
{
    unsigned char *user = dbg_user(d);
    const mem_base_t *b = user_base(user);

    if (b->check != base_check(b->size, b->tag) || b->size != d->size || b->tag != d->tag_index)
        return KMQTT_MEM_FAULT_HEADER;
    if (memcmp(user + d->size, guard_pattern, GUARD_SIZE) != 0)
        return KMQTT_MEM_FAULT_OVERFLOW;
    return 0;
}

static void dbg_block(kmqtt_mem_hdr_t *d, kmqtt_mem_block_t *out)
{
    out->ptr = dbg_user(d);
    out->size = d->size;
    out->tag = d->tag;
    out->file = d->file;
    out->line = d->line;
}

kmqtt_err_t kmqtt_mem_init(kmqtt_mem_t *m, const kmqtt_mem_config_t *cfg)
{
    if (m == NULL)
        return KMQTT_EINVAL;
    if (cfg != NULL) {
        if ((cfg->lock == NULL) != (cfg->unlock == NULL))
            return KMQTT_EINVAL;
        if (cfg->backend != NULL && (cfg->backend->alloc == NULL || cfg->backend->free == NULL))
            return KMQTT_EINVAL;
    }
#ifdef KMQTT_NO_MALLOC
    if (cfg == NULL || cfg->backend == NULL)
        return KMQTT_EINVAL;
#endif
    memset(m, 0, sizeof *m);
    if (cfg != NULL)
        m->cfg = *cfg;
    m->live = NULL;
#ifndef KMQTT_NO_MALLOC
    if (m->cfg.backend == NULL)
        m->cfg.backend = &libc_backend;
#endif
    return KMQTT_OK;
}

static bool injected_failure(const kmqtt_mem_t *m)
{
    if (m->fail_at == 0)
        return false;
    return m->fail_count == m->fail_at || (m->fail_all_after && m->fail_count > m->fail_at);
}

void *kmqtt_mem_alloc_at(kmqtt_mem_t *m, const char *tag, size_t size, const char *file, int line)
{
    size_t hdr;
    size_t extra;
    unsigned char *raw;
    unsigned char *user;
    mem_base_t *b;
    uint32_t slot;

    if (m == NULL)
        return NULL;
    if (tag == NULL)
        tag = tag_none;
    if (size == 0)
        size = 1;
    hdr = BASE_SIZE + (m->cfg.debug ? DBG_SIZE : 0);
    extra = hdr + (m->cfg.debug ? GUARD_SIZE : 0);

    mem_lock(m);
    if (m->fail_count < UINT32_MAX)
        m->fail_count++;
    if (injected_failure(m) || size > SIZE_MAX - extra) {
        m->stats.failed++;
        mem_unlock(m);
        return NULL;
    }
    raw = m->cfg.backend->alloc(m->cfg.backend->ctx, size + extra);
    if (raw == NULL) {
        m->stats.failed++;
        mem_unlock(m);
        return NULL;
    }
    slot = tag_slot(m, tag);
    user = raw + hdr;
    b = user_base(user);
    b->size = size;
    b->tag = slot;
    b->check = base_check(size, slot);
    if (m->cfg.debug) {
        kmqtt_mem_hdr_t *d = (kmqtt_mem_hdr_t *)(void *)raw;
        d->tag = tag;
        d->file = file;
        d->line = line;
        d->size = size;
        d->tag_index = slot;
        d->reported = false;
        memset(user, POISON_NEW, size);
        memcpy(user + size, guard_pattern, GUARD_SIZE);
        live_append(m, d);
    }
    account_add(m, slot, size);
    mem_unlock(m);
    return user;
}

void *kmqtt_mem_calloc_at(kmqtt_mem_t *m, const char *tag, size_t size, const char *file, int line)
{
    void *p = kmqtt_mem_alloc_at(m, tag, size, file, line);

    if (p != NULL)
        memset(p, 0, size == 0 ? 1 : size);
    return p;
}

/* Through a volatile pointer the compiler must call memset, even on bytes
 * it can prove are never read again (C99 6.7.3: a volatile object's value
 * may be used in ways unknown to the implementation). */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

void kmqtt_mem_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        (void)wipe_memset(p, 0, n);
}

static kmqtt_err_t free_debug(kmqtt_mem_t *m, unsigned char *user, int *fault,
                              kmqtt_mem_block_t *blk)
{
    kmqtt_mem_hdr_t *d = live_find(m, user);

    if (d == NULL) {
        m->stats.faults++;
        *fault = KMQTT_MEM_FAULT_DOUBLE_FREE;
        blk->ptr = user;
        return KMQTT_EMEM_BAD_FREE;
    }
    *fault = block_damage(d);
    dbg_block(d, blk);
    live_unlink(m, d);
    if (*fault != 0) {
        if (!d->reported)
            m->stats.faults++;
        /* Released from the totals so a later report is not haunted by it,
         * but never returned: the backend's own bookkeeping may be what the
         * stray write hit. */
        if (account_plausible(m, d->tag_index, d->size))
            account_remove(m, d->tag_index, d->size);
        return KMQTT_EMEM_CORRUPT;
    }
    account_remove(m, d->tag_index, d->size);
    if (m->cfg.on_free != NULL)
        m->cfg.on_free(m->cfg.free_ctx, blk);
    memset(d, POISON_FREE, DBG_SIZE + BASE_SIZE + d->size + GUARD_SIZE);
    m->cfg.backend->free(m->cfg.backend->ctx, d);
    return KMQTT_OK;
}

static kmqtt_err_t free_plain(kmqtt_mem_t *m, unsigned char *user, int *fault,
                              kmqtt_mem_block_t *blk)
{
    mem_base_t *b = user_base(user);
    uint32_t live = base_check(b->size, b->tag);

    blk->ptr = user;
    if (b->check == (live ^ CHECK_FREED)) {
        m->stats.faults++;
        *fault = KMQTT_MEM_FAULT_DOUBLE_FREE;
        return KMQTT_EMEM_BAD_FREE;
    }
    if (b->check != live || !account_plausible(m, b->tag, b->size)) {
        /* Size and tag are untrustworthy, so the totals keep the block. */
        m->stats.faults++;
        *fault = KMQTT_MEM_FAULT_HEADER;
        return KMQTT_EMEM_CORRUPT;
    }
    blk->size = b->size;
    blk->tag = m->tags[b->tag].tag;
    account_remove(m, b->tag, b->size);
    if (m->cfg.on_free != NULL)
        m->cfg.on_free(m->cfg.free_ctx, blk);
    b->check = live ^ CHECK_FREED;
    m->cfg.backend->free(m->cfg.backend->ctx, user - BASE_SIZE);
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_mem_free_at(kmqtt_mem_t *m, void *ptr, const char *file, int line)
{
    kmqtt_mem_block_t blk;
    kmqtt_err_t rc;
    int fault = 0;

    if (ptr == NULL)
        return KMQTT_OK;
    if (m == NULL)
        return KMQTT_EINVAL;
    memset(&blk, 0, sizeof blk);
    mem_lock(m);
    if (m->cfg.debug)
        rc = free_debug(m, ptr, &fault, &blk);
    else
        rc = free_plain(m, ptr, &fault, &blk);
    mem_unlock(m);
    /* Outside the lock, so the hook may log through kmqtt_mem_report. */
    if (fault != 0 && m->cfg.on_fault != NULL)
        m->cfg.on_fault(m->cfg.fault_ctx, (kmqtt_mem_fault_t)fault, &blk, file, line);
    return rc;
}

void kmqtt_mem_get_stats(const kmqtt_mem_t *m, kmqtt_mem_stats_t *out)
{
    if (out == NULL)
        return;
    if (m == NULL) {
        memset(out, 0, sizeof *out);
        return;
    }
    mem_lock(m);
    *out = m->stats;
    mem_unlock(m);
}

kmqtt_err_t kmqtt_mem_get_tag_stats(const kmqtt_mem_t *m, const char *tag,
                                    kmqtt_mem_tag_stats_t *out)
{
    kmqtt_err_t rc = KMQTT_ENOTFOUND;
    size_t i;

    if (m == NULL || tag == NULL || out == NULL)
        return KMQTT_EINVAL;
    mem_lock(m);
    for (i = 0; i < m->tag_count; i++) {
        if (m->tags[i].tag == tag || strcmp(m->tags[i].tag, tag) == 0) {
            *out = m->tags[i];
            rc = KMQTT_OK;
            break;
        }
    }
    mem_unlock(m);
    return rc;
}

size_t kmqtt_mem_get_all_tag_stats(const kmqtt_mem_t *m, kmqtt_mem_tag_stats_t *out, size_t cap)
{
    size_t i, n;

    if (m == NULL)
        return 0;
    mem_lock(m);
    n = m->tag_count;
    for (i = 0; i < n && i < cap && out != NULL; i++)
        out[i] = m->tags[i];
    mem_unlock(m);
    return n;
}

void kmqtt_mem_reset_peak(kmqtt_mem_t *m)
{
    size_t i;

    if (m == NULL)
        return;
    mem_lock(m);
    m->stats.peak = m->stats.bytes;
    for (i = 0; i < m->tag_count; i++)
        m->tags[i].peak = m->tags[i].bytes;
    mem_unlock(m);
}

/* The lock is held while fn runs, so the list cannot change under it. */
size_t kmqtt_mem_walk(kmqtt_mem_t *m, void (*fn)(void *ctx, const kmqtt_mem_block_t *b), void *ctx)
{
    kmqtt_mem_hdr_t *d;
    kmqtt_mem_block_t blk;
    size_t n = 0;

    if (m == NULL || !m->cfg.debug)
        return 0;
    mem_lock(m);
    d = m->live;
    if (d != NULL) {
        do {
            n++;
            if (fn != NULL) {
                dbg_block(d, &blk);
                fn(ctx, &blk);
            }
            d = d->next;
        } while (d != m->live);
    }
    mem_unlock(m);
    return n;
}

/* The fault hook runs with the lock held here (the list is being walked), so
 * it must not call back into m. A damaged block counts once in stats.faults
 * however often it is checked or freed. */
size_t kmqtt_mem_check(kmqtt_mem_t *m)
{
    kmqtt_mem_hdr_t *d;
    kmqtt_mem_block_t blk;
    size_t n = 0;
    int fault;

    if (m == NULL || !m->cfg.debug)
        return 0;
    mem_lock(m);
    d = m->live;
    if (d != NULL) {
        do {
            fault = block_damage(d);
            if (fault != 0) {
                n++;
                if (!d->reported) {
                    d->reported = true;
                    m->stats.faults++;
                }
                if (m->cfg.on_fault != NULL) {
                    dbg_block(d, &blk);
                    m->cfg.on_fault(m->cfg.fault_ctx, (kmqtt_mem_fault_t)fault, &blk, NULL, 0);
                }
            }
            d = d->next;
        } while (d != m->live);
    }
    mem_unlock(m);
    return n;
}

void kmqtt_mem_fail_nth(kmqtt_mem_t *m, uint32_t n, bool all_after)
{
    if (m == NULL)
        return;
    mem_lock(m);
    m->fail_at = n;
    m->fail_all_after = all_after;
    m->fail_count = 0;
    mem_unlock(m);
}

uint32_t kmqtt_mem_attempts(const kmqtt_mem_t *m)
{
    uint32_t n;

    if (m == NULL)
        return 0;
    mem_lock(m);
    n = m->fail_count;
    mem_unlock(m);
    return n;
}

size_t kmqtt_mem_backend_request(bool debug, size_t size)
{
    size_t extra = BASE_SIZE + (debug ? DBG_SIZE + GUARD_SIZE : 0);

    if (size == 0)
        size = 1;
    return size > SIZE_MAX - extra ? 0 : size + extra;
}
