/** @file
 * kmqtt mem — allocation with accounting, tags and leak reports.
 *
 * Every allocation the library makes goes through a kmqtt_mem_t: a small
 * accounting context the caller owns (a client has one, so its statistics
 * are its own). Each call site passes a short tag ("conn", "sub", "ack",
 * "buf") so that a report says who holds what, like an RTOS `free` command.
 *
 * Debug mode (chosen at init) keeps every live block on a list with its tag,
 * size and call site, writes a guard after each block, checks header and
 * guard on free, poisons freed memory, and reports double frees and
 * overflows through the error hook instead of ignoring them.
 *
 * Thread safety: a context is not locked by itself. If several threads use
 * one context, give it lock/unlock hooks in the config.
 */
#ifndef KMQTT_MEM_H
#define KMQTT_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Distinct tags tracked per context; further tags are counted under "other". */
#ifndef KMQTT_MEM_MAX_TAGS
#define KMQTT_MEM_MAX_TAGS 16
#endif

/** Where the bytes come from: the C library by default, or the
 * application's heap (an RTOS heap, a static pool). */
typedef struct kmqtt_mem_backend {
    void *(*alloc)(void *ctx, size_t size); /**< size bytes, or NULL when none are left */
    void (*free)(void *ctx, void *ptr);     /**< returns a block alloc gave */
    void *ctx;                              /**< passed to alloc and free */
} kmqtt_mem_backend_t;

/** What the debug checks found (kmqtt_mem_fault_fn). */
typedef enum kmqtt_mem_fault {
    KMQTT_MEM_FAULT_DOUBLE_FREE = 1, /**< freeing a block that is not live */
    KMQTT_MEM_FAULT_OVERFLOW,        /**< the guard after a block was overwritten */
    KMQTT_MEM_FAULT_HEADER           /**< the header before a block was overwritten */
} kmqtt_mem_fault_t;

/** One live block, as listed by kmqtt_mem_walk (debug mode). */
typedef struct kmqtt_mem_block {
    const void *ptr;  /**< the block as the caller got it */
    size_t size;      /**< the size asked for */
    const char *tag;  /**< the tag given at allocation */
    const char *file; /**< where it was allocated (__FILE__) */
    int line;         /**< and the line */
} kmqtt_mem_block_t;

/** Called when a fault is detected: what, and the block as far as known
 * (file/line of the free call that found it in where_file/where_line). */
typedef void (*kmqtt_mem_fault_fn)(void *ctx, kmqtt_mem_fault_t fault,
                                   const kmqtt_mem_block_t *block, const char *where_file,
                                   int where_line);

/** Called for every block about to be freed, with its bytes still as the
 * user of the block left them (before debug mode's poison, before the
 * backend gets them): block->ptr and block->size are the user's bytes
 * (file and line are those of the allocation in debug mode, else NULL and
 * 0). For tests that check what freed memory held, such as that every
 * secret was wiped. Runs with the context's lock held: it must not call m. */
typedef void (*kmqtt_mem_free_fn)(void *ctx, const kmqtt_mem_block_t *block);

/** How a context works; kmqtt_mem_init copies it. Zeroed = malloc, no debug. */
typedef struct kmqtt_mem_config {
    const kmqtt_mem_backend_t *backend; /**< NULL = malloc/free (not in KMQTT_NO_MALLOC builds) */
    bool debug;                         /**< keep sites, guards, poison, live-block list */
    kmqtt_mem_fault_fn on_fault;        /**< NULL = count only */
    void *fault_ctx;                    /**< passed to on_fault */
    void (*lock)(void *lock_ctx);       /**< optional, for a context shared by threads */
    void (*unlock)(void *lock_ctx);     /**< given exactly when lock is */
    void *lock_ctx;                     /**< passed to lock and unlock */
    kmqtt_mem_free_fn on_free;          /**< optional: sees each block's bytes before it is freed */
    void *free_ctx;                     /**< passed to on_free */
} kmqtt_mem_config_t;

/** What one tag holds (kmqtt_mem_get_tag_stats). */
typedef struct kmqtt_mem_tag_stats {
    const char *tag; /**< the first pointer seen for this tag; "other" past the table */
    size_t bytes;    /**< bytes in use (requested sizes) */
    size_t peak;     /**< highest bytes in use */
    size_t blocks;   /**< live blocks */
    uint32_t allocs; /**< successful allocations */
    uint32_t frees;  /**< frees */
} kmqtt_mem_tag_stats_t;

/** The totals of a context (kmqtt_mem_get_stats). */
typedef struct kmqtt_mem_stats {
    size_t bytes;    /**< bytes in use (requested sizes, without headers) */
    size_t peak;     /**< highest bytes in use since init or kmqtt_mem_reset_peak */
    size_t blocks;   /**< live blocks */
    uint32_t allocs; /**< successful allocations */
    uint32_t frees;  /**< frees */
    uint32_t failed; /**< allocations refused (backend or injected) */
    uint32_t faults; /**< double frees, overflows and header damage detected */
} kmqtt_mem_stats_t;

/** The header of a block in debug mode (private). */
typedef struct kmqtt_mem_hdr kmqtt_mem_hdr_t;
/** The context. Treat the fields as private; it is declared here so it can
 * live in static memory or inside another struct without allocation. */
typedef struct kmqtt_mem {
    kmqtt_mem_config_t cfg;                         /**< copy of the config */
    kmqtt_mem_stats_t stats;                        /**< the totals */
    kmqtt_mem_tag_stats_t tags[KMQTT_MEM_MAX_TAGS]; /**< per-tag numbers */
    size_t tag_count;      /**< the last slot is "other" once the table is full */
    kmqtt_mem_hdr_t *live; /**< debug mode: list of live blocks */
    uint32_t fail_at;      /**< failure injection: refuse the fail_at-th allocation (0 = off) */
    uint32_t fail_count;   /**< allocations attempted since injection was armed */
    bool fail_all_after;   /**< refuse every allocation from fail_at on, not just that one */
} kmqtt_mem_t;

/** Sets up a context. cfg may be NULL (malloc, no debug). Copies cfg.
 * Returns KMQTT_EINVAL if m is NULL or a lock hook is given without the other,
 * or if there is no backend in a KMQTT_NO_MALLOC build. Never allocates. */
kmqtt_err_t kmqtt_mem_init(kmqtt_mem_t *m, const kmqtt_mem_config_t *cfg);

/** Allocates size bytes (size 0 is treated as 1) tagged with tag (a string
 * with static storage, e.g. a literal: only the pointer is kept). Returns
 * NULL if the backend refuses or failure injection says so. Use the macro
 * kmqtt_mem_alloc, which records the call site. Never blocks beyond the
 * backend and the lock hook. */
void *kmqtt_mem_alloc_at(kmqtt_mem_t *m, const char *tag, size_t size, const char *file, int line);
/** kmqtt_mem_alloc_at with the caller's file and line. */
#define kmqtt_mem_alloc(m, tag, size) kmqtt_mem_alloc_at((m), (tag), (size), __FILE__, __LINE__)

/** Like kmqtt_mem_alloc, with the bytes set to zero. */
void *kmqtt_mem_calloc_at(kmqtt_mem_t *m, const char *tag, size_t size, const char *file, int line);
/** kmqtt_mem_calloc_at with the caller's file and line. */
#define kmqtt_mem_calloc(m, tag, size) kmqtt_mem_calloc_at((m), (tag), (size), __FILE__, __LINE__)

/** Frees a block from kmqtt_mem_alloc; NULL is a no-op. Returns KMQTT_OK, or
 * (the block is then not handed to the backend, so a fault never turns into
 * heap corruption):
 *  KMQTT_EMEM_BAD_FREE  double free / unknown pointer (detected in debug
 *                       mode without touching the pointer's memory)
 *  KMQTT_EMEM_CORRUPT   header or guard overwritten (the block is released
 *                       from the accounting but leaked on purpose) */
kmqtt_err_t kmqtt_mem_free_at(kmqtt_mem_t *m, void *ptr, const char *file, int line);
/** kmqtt_mem_free_at with the caller's file and line. */
#define kmqtt_mem_free(m, ptr) kmqtt_mem_free_at((m), (ptr), __FILE__, __LINE__)

/** Overwrites n bytes at p with zeros in a way the compiler cannot drop as
 * a dead store (a memset just before free may be removed): for passwords,
 * keys and authentication data before their memory is freed or their stack
 * buffer goes out of scope. p may be NULL when n is 0. Never blocks. */
void kmqtt_mem_wipe(void *p, size_t n);

/** Copies the totals. */
void kmqtt_mem_get_stats(const kmqtt_mem_t *m, kmqtt_mem_stats_t *out);

/** Statistics for one tag (compared by content); KMQTT_ENOTFOUND if never seen. */
kmqtt_err_t kmqtt_mem_get_tag_stats(const kmqtt_mem_t *m, const char *tag,
                                    kmqtt_mem_tag_stats_t *out);

/** Copies the statistics of every tag (at most cap, in the order the tags
 * first appeared) into out; returns how many tags the context has. For a
 * console's table. Never blocks beyond the context's lock. */
size_t kmqtt_mem_get_all_tag_stats(const kmqtt_mem_t *m, kmqtt_mem_tag_stats_t *out, size_t cap);

/** Restarts the peak at the current use, e.g. after start-up. */
void kmqtt_mem_reset_peak(kmqtt_mem_t *m);

/** Debug mode: calls fn for each live block, oldest first, and returns the
 * number of blocks. Returns 0 and calls nothing outside debug mode. fn must
 * not allocate from or free into m. */
size_t kmqtt_mem_walk(kmqtt_mem_t *m, void (*fn)(void *ctx, const kmqtt_mem_block_t *b), void *ctx);

/** Debug mode: checks the header and guard of every live block, reporting
 * each damaged one through the fault hook. Returns the number damaged. */
size_t kmqtt_mem_check(kmqtt_mem_t *m);

/** Writes a report like an RTOS `free` command through print (one line per
 * call, no newline): totals, one line per tag, and in debug mode one line
 * per live block with tag, size and file:line. */
void kmqtt_mem_report(kmqtt_mem_t *m, void (*print)(void *ctx, const char *line), void *ctx);

/** Failure injection for tests: the nth allocation from now (1 = the next)
 * fails; with all_after, it and every later one fail. n = 0 turns it off.
 * kmqtt_mem_attempts tells how many allocations were attempted since the
 * last call to kmqtt_mem_fail_nth (to count a scenario's K). */
void kmqtt_mem_fail_nth(kmqtt_mem_t *m, uint32_t n, bool all_after);
/** Allocations attempted since the last kmqtt_mem_fail_nth (see there). */
uint32_t kmqtt_mem_attempts(const kmqtt_mem_t *m);

/* ------------------------------------------------------------ the arena */

/** A backend over one buffer the application gives (a static array): the
 * no-malloc way. First fit over an address-ordered free list; a freed block
 * merges with free neighbours. Every block is a multiple of
 * KMQTT_MEM_ARENA_ALIGN bytes and starts at such a multiple of the buffer,
 * so user memory is aligned for uint64_t, double and pointers (not for long
 * double or over-aligned types). Allocation and free walk the free list:
 * O(free blocks), fine for the client, which allocates at create, subscribe
 * and start only.
 *
 * Thread safety: the arena has no lock. Give it to one kmqtt_mem_t and let
 * that context's users serialise (the client allocates only at create and
 * under its own lock), or give that context lock hooks. */
#define KMQTT_MEM_ARENA_ALIGN 8u

/** An arena: a backend over the application's buffer (kmqtt_mem_arena_init). */
typedef struct kmqtt_mem_arena {
    kmqtt_mem_backend_t backend; /**< point kmqtt_mem_config_t.backend here */
    unsigned char *base;         /**< first aligned byte of the buffer */
    size_t size;                 /**< usable bytes from base, a multiple of the alignment */
    void *free_list;             /**< private */
    size_t used;                 /**< bytes in allocated blocks, headers included */
    size_t peak;                 /**< the most bytes used at once */
    uint32_t failed;             /**< requests that found no block large enough */

} kmqtt_mem_arena_t;

/** Sets up a over buf (size bytes; an unaligned start loses up to
 * KMQTT_MEM_ARENA_ALIGN - 1 bytes). buf must outlive every block. Returns
 * KMQTT_EINVAL if a or buf is NULL; a buffer too small for one block is
 * accepted and refuses every allocation. Never allocates. */
kmqtt_err_t kmqtt_mem_arena_init(kmqtt_mem_arena_t *a, void *buf, size_t size);

/** Bytes of the arena one backend request of size bytes takes (its header
 * and rounding included). Pure arithmetic; 0 on overflow. */
size_t kmqtt_mem_arena_cost(size_t size);

/** Bytes a kmqtt_mem_alloc of size bytes asks its backend for, in normal or
 * debug mode (the headers and the guard of the accounting). Pure
 * arithmetic; 0 on overflow. With kmqtt_mem_arena_cost this gives the exact
 * arena bytes a set of allocations needs. */
size_t kmqtt_mem_backend_request(bool debug, size_t size);

#ifdef __cplusplus
}
#endif
#endif
