/*
 * kmqtt mem — the arena backend: blocks from one buffer the application owns.
 *
 * Every block, free or taken, starts with a header holding its full size (a
 * multiple of ARENA_UNIT). A free block also keeps the link to the next free
 * block, in address order, in its first payload bytes, so the smallest block
 * must hold both. Allocation takes the first free block large enough and
 * splits off the rest when the rest can stand as a block of its own
 * (otherwise the caller gets it too, which only ever happens to the last
 * request that fills the arena exactly). Free puts the block back in address
 * order and merges it with a free neighbour on either side, so a client that
 * is destroyed leaves one free block, as at the start.
 *
 * Checking the pointer given to free is the accounting layer's job (mem.c in
 * debug mode); here a pointer outside the buffer is ignored rather than
 * written through.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kmqtt/mem.h"

#define ARENA_UNIT ((size_t)KMQTT_MEM_ARENA_ALIGN)

typedef struct arena_free {
    size_t size; /* the whole block, header included */
    struct arena_free *next;
} arena_free_t;

static size_t round_up(size_t n)
{
    return (n + ARENA_UNIT - 1) / ARENA_UNIT * ARENA_UNIT;
}

/* The header of a taken block is its size; the user bytes follow. */
#define ARENA_HDR round_up(sizeof(size_t))
#define ARENA_MIN round_up(sizeof(arena_free_t))

size_t kmqtt_mem_arena_cost(size_t size)
{
    size_t n;

    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - ARENA_HDR - ARENA_UNIT)
        return 0;
    n = ARENA_HDR + round_up(size);
    return n < ARENA_MIN ? ARENA_MIN : n;
}

static void *arena_alloc(void *ctx, size_t size)
{
    kmqtt_mem_arena_t *a = ctx;
    size_t need = kmqtt_mem_arena_cost(size);
    arena_free_t **link;
    arena_free_t *b;

    if (need == 0) {
        a->failed++;
        return NULL;
    }
    for (link = (arena_free_t **)&a->free_list; *link != NULL; link = &(*link)->next) {
        b = *link;
        if (b->size < need)
            continue;
        if (b->size - need >= ARENA_MIN) {
            arena_free_t *rest = (arena_free_t *)(void *)((unsigned char *)b + need);
            rest->size = b->size - need;
            rest->next = b->next;
            *link = rest;
            b->size = need;
        } else {
            *link = b->next;
        }
        a->used += b->size;
        if (a->used > a->peak)
            a->peak = a->used;
        return (unsigned char *)b + ARENA_HDR;
    }
    a->failed++;
    return NULL;
}

static void arena_free(void *ctx, void *ptr)
{
    kmqtt_mem_arena_t *a = ctx;
    unsigned char *p = ptr;
    arena_free_t *b;
    arena_free_t *prev = NULL;
    arena_free_t *next;

    if (p == NULL || a->base == NULL || p < a->base + ARENA_HDR || p >= a->base + a->size)
        return;
    b = (arena_free_t *)(void *)(p - ARENA_HDR);
    a->used -= b->size;
    next = a->free_list;
    while (next != NULL && next < b) {
        prev = next;
        next = next->next;
    }
    b->next = next;
    if (next != NULL && (unsigned char *)b + b->size == (unsigned char *)next) {
        b->size += next->size;
        b->next = next->next;
    }
    if (prev == NULL) {
        a->free_list = b;
    } else if ((unsigned char *)prev + prev->size == (unsigned char *)b) {
        prev->size += b->size;
        prev->next = b->next;
    } else {
        prev->next = b;
    }
}

kmqtt_err_t kmqtt_mem_arena_init(kmqtt_mem_arena_t *a, void *buf, size_t size)
{
    uintptr_t addr;
    size_t skip;
    arena_free_t *all;

    if (a == NULL || buf == NULL)
        return KMQTT_EINVAL;
    memset(a, 0, sizeof *a);
    a->backend.alloc = arena_alloc;
    a->backend.free = arena_free;
    a->backend.ctx = a;
    addr = (uintptr_t)buf;
    skip = (size_t)((ARENA_UNIT - addr % ARENA_UNIT) % ARENA_UNIT);
    if (size < skip + ARENA_MIN)
        return KMQTT_OK; /* no block fits: every request is refused */
    a->base = (unsigned char *)buf + skip;
    a->size = (size - skip) / ARENA_UNIT * ARENA_UNIT;
    all = (arena_free_t *)(void *)a->base;
    all->size = a->size;
    all->next = NULL;
    a->free_list = all;
    return KMQTT_OK;
}
