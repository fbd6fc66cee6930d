/*
 * The console report of kmqtt's clients, shared by the RTOS consoles (RT-Thread
 * msh `kmqtt`, `kmqtt -v`, `kmqtt_cycle`) and the host test that shows what
 * they print. No OS headers: the caller gathers what its OS knows (socket,
 * thread, the heap the OS spends on a client's behalf) into a kmqtt_diag_t
 * and hands lines to its own console through print.
 */
#ifndef KMQTT_DIAG_PRINT_H
#define KMQTT_DIAG_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/client.h"
#include "kmqtt/mem.h"

typedef void (*kmqtt_diag_print_fn)(void *ctx, const char *line);

#define KMQTT_DIAG_OS_LINES 4

/* One line of the OS's own heap spent for a client (thread stack, ...). */
typedef struct kmqtt_diag_os_line {
    const char *name; /* shown as a tag: "rt:stack" */
    size_t bytes;
} kmqtt_diag_os_line_t;

typedef struct kmqtt_diag {
    unsigned index;
    bool is_client; /* client is filled (else a registered context) */
    kmqtt_client_info_t client;
    int socket;          /* -1: none open */
    int wake_fd;         /* -1: none */
    bool blocking;       /* the socket is blocking (AT socket) */
    const char *server;  /* host:port of the open socket; NULL or "": none */
    const char *thread;  /* NULL or "": none */
    const char *os_name; /* whose heap os[] is: "RT-Thread" */
    kmqtt_diag_os_line_t os[KMQTT_DIAG_OS_LINES];
    size_t os_count;
    size_t os_peak; /* highest sum of os[] */
    /* from kmqtt_diag_snapshot_mem */
    kmqtt_mem_stats_t mem;
    kmqtt_mem_tag_stats_t tags[KMQTT_MEM_MAX_TAGS];
    size_t tag_count;
    bool mem_debug;
} kmqtt_diag_t;

/* Copies the context's statistics and tags into d. Call it with the lock
 * that guards m held (a client's: its mutex). Never blocks. */
void kmqtt_diag_snapshot_mem(kmqtt_diag_t *d, const kmqtt_mem_t *m);

/* Prints d: a header with id, state and version, the server, socket and
 * thread, then one table of the heap by tag (kmqtt's tags, then the OS's
 * lines), with a total. Never blocks but in print. */
void kmqtt_diag_print(const kmqtt_diag_t *d, kmqtt_diag_print_fn print, void *ctx);

/* Prints m's live blocks (address, tag, size, file:line), oldest first, or
 * a line saying they need mem_debug. Call it with m's lock held. */
void kmqtt_diag_print_blocks(kmqtt_mem_t *m, kmqtt_diag_print_fn print, void *ctx);

/* The line kmqtt_cycle prints after each cycle: the system heap in use now
 * and its difference from heap_base (before the first cycle), its highest
 * use, and kmqtt's bytes and blocks in the context the cycles' clients took
 * their memory from (0 and 0 once every client is gone). */
void kmqtt_diag_cycle_line(char *out, size_t cap, unsigned cycle, unsigned cycles,
                           const char *result, size_t heap_used, size_t heap_base, size_t heap_max,
                           size_t kmqtt_bytes, size_t kmqtt_blocks);

const char *kmqtt_diag_state_name(kmqtt_conn_state_t s);

#endif
