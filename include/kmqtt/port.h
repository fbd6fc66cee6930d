/** @file
 * kmqtt port — what the client needs from an OS or network stack.
 *
 * A port is one folder under src/port/NAME/ implementing the functions

 * below (linked at build time) and a transport. It is the only code that
 * includes OS headers, and it knows nothing about MQTT. Everything a port
 * allocates comes from the kmqtt_mem_t it is given, so a leak report names it.
 */
#ifndef KMQTT_PORT_H
#define KMQTT_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/error.h"
#include "kmqtt/mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ clock */

/** Milliseconds from a monotonic clock (never jumps with wall-clock changes).
 * Never blocks. */
uint64_t kmqtt_port_now_ms(void);

/** Sleeps at least ms milliseconds. Blocks. */
void kmqtt_port_sleep_ms(uint32_t ms);

/** Fills buf with len bytes from the platform's entropy source (client ids,
 * reconnect jitter). Returns KMQTT_OK or KMQTT_EIO. May block briefly. */
kmqtt_err_t kmqtt_port_random(void *buf, size_t len);

/* ----------------------------------------------------- mutex and condition */

/** A mutex of the port (opaque). */
typedef struct kmqtt_port_mutex kmqtt_port_mutex_t;
/** A condition variable of the port (opaque). */
typedef struct kmqtt_port_cond kmqtt_port_cond_t;
/** A thread handle of the port (opaque). */
typedef struct kmqtt_port_thread kmqtt_port_thread_t;

/** Creates a (non-recursive) mutex from m. Returns KMQTT_OK, KMQTT_ENOMEM or
 * KMQTT_EIO. */
kmqtt_err_t kmqtt_port_mutex_create(kmqtt_mem_t *m, kmqtt_port_mutex_t **out);
/** Destroys an unlocked mutex and returns its memory to m; NULL is a no-op. */
void kmqtt_port_mutex_destroy(kmqtt_mem_t *m, kmqtt_port_mutex_t *mx);
/** Locks mx (not recursive: the holder must not lock it again). Blocks. */
void kmqtt_port_mutex_lock(kmqtt_port_mutex_t *mx);
/** Unlocks mx, which the caller holds. Never blocks. */
void kmqtt_port_mutex_unlock(kmqtt_port_mutex_t *mx);

/** Creates a condition variable from m, waited on with the monotonic clock.
 * Returns KMQTT_OK, KMQTT_ENOMEM or KMQTT_EIO. */
kmqtt_err_t kmqtt_port_cond_create(kmqtt_mem_t *m, kmqtt_port_cond_t **out);
/** Destroys a condition nobody waits on and returns its memory to m; NULL is
 * a no-op. */
void kmqtt_port_cond_destroy(kmqtt_mem_t *m, kmqtt_port_cond_t *cv);
/** With mx locked: releases it, waits for a broadcast or timeout_ms, locks it
 * again. Returns KMQTT_OK when woken (maybe spuriously: re-check the
 * condition) or KMQTT_ETIMEDOUT. Measured on the monotonic clock. Blocks. */
kmqtt_err_t kmqtt_port_cond_wait(kmqtt_port_cond_t *cv, kmqtt_port_mutex_t *mx,
                                 uint32_t timeout_ms);
/** Wakes every thread waiting on cv. Never blocks. */
void kmqtt_port_cond_broadcast(kmqtt_port_cond_t *cv);

/* ---------------------------------------------------------------- threads */

/** Starts a thread running fn(arg); its handle comes from m. Returns KMQTT_OK,
 * KMQTT_ENOMEM or KMQTT_EIO. */
kmqtt_err_t kmqtt_port_thread_start(kmqtt_mem_t *m, kmqtt_port_thread_t **out,
                                    void (*fn)(void *arg), void *arg);
/** Waits for the thread to end and frees its handle. Must not be called from
 * the thread itself. Blocks. */
void kmqtt_port_thread_join(kmqtt_mem_t *m, kmqtt_port_thread_t *t);
/** True if the caller is running on thread t. */
bool kmqtt_port_thread_is_current(const kmqtt_port_thread_t *t);

/* ------------------------------------------------------------------ sizes */

/* Each port object (mutex, condition, thread handle, TCP transport) is one
 * block from the kmqtt_mem_t it is given; these return that block's size in
 * bytes, so kmqtt_client_memory_size is exact for a no-malloc buffer. A port
 * whose kernel objects live elsewhere (an RTOS heap) counts only its block.
 * Never block. */
/** Bytes of the block kmqtt_port_mutex_create takes from its kmqtt_mem_t
 * (only that block, where the kernel object lives elsewhere). Never blocks. */
size_t kmqtt_port_mutex_size(void);
/** Bytes of the block kmqtt_port_cond_create takes. Never blocks. */
size_t kmqtt_port_cond_size(void);
/** Bytes of the handle kmqtt_port_thread_start takes. Never blocks. */
size_t kmqtt_port_thread_size(void);
/** Bytes kmqtt_port_tcp_create takes for the TCP transport. Never blocks. */
size_t kmqtt_port_tcp_size(void);

/* ------------------------------------------------------------ diagnostics */

/** The client announces its accounting context at create (guard: the mutex
 * under which the client uses it) and withdraws it at destroy, so a port's
 * console command can list every client's memory (RT-Thread: msh
 * `kmqtt`). Neither may allocate; a port without such a command makes
 * both do nothing. */
void kmqtt_port_mem_register(kmqtt_mem_t *m, kmqtt_port_mutex_t *guard);
/** Withdraws m, announced by kmqtt_port_mem_register (at client destroy).
 * Never allocates, never blocks beyond the port's own lock. */
void kmqtt_port_mem_unregister(kmqtt_mem_t *m);

/* -------------------------------------------------------------- transport */

/* Events for kmqtt_transport_t.wait. */
#define KMQTT_WAIT_READ  1u /**< kmqtt_transport_t.wait event: bytes to receive */
#define KMQTT_WAIT_WRITE 2u /**< kmqtt_transport_t.wait event: room to send */
#define KMQTT_WAIT_WOKEN 4u /**< kmqtt_transport_t.wait event: wake() was called */

/** A byte stream to the broker: the port's TCP, or TLS / WebSocket stacked on
 * another transport (transport.h). The client never knows what is behind it.
 * All calls but wake() come from one thread at a time; wake() may come from
 * any thread at any time, also while another thread is blocked in open() or
 * wait(), and also when nothing is open.
 *
 * The send contract (DESIGN.md rule 6: a byte offered to a transport is never
 * rebuilt). Every transport and every caller of send() keeps it; the callers
 * are the clients' send queues (session tx, nano tx), the WebSocket layer
 * over its lower transport, and the TLS libraries' record layers over theirs.
 *
 * 1. send(buf, len) offers buf[0..len) as the stream's next bytes. It returns
 *    n > 0 when the first n of them (n <= len) are taken: they will go out,
 *    in order, and the caller forgets them. It returns 0 ("would block") when
 *    none was taken, and < 0 on an error.
 * 2. Bytes offered and not taken (all len after 0, the last len - n after n)
 *    are already the stream's next bytes: a transport may hold them encoded
 *    (an encrypted TLS record, a masked WebSocket frame) and will send them
 *    as built. So the caller's next send() on this connection begins with
 *    exactly those bytes, unchanged and in the same order; it may add new
 *    bytes behind them (a send queue that grew meanwhile: a longer buffer
 *    with the same prefix), but never offers fewer of them, never changes
 *    one and never puts other bytes first. A transport that can tell
 *    refuses a shorter offer with KMQTT_EINVAL, which ends the connection
 *    (the stream cannot be repaired).
 * 3. The same bytes may come from another address (a queue compacted with
 *    memmove): a transport keeps no pointer into buf between calls.
 * 4. A transport reports only bytes really taken: passed on to the layer
 *    below and taken by it (the port's TCP: copied into the kernel's send
 *    buffer). What it encoded but could not pass on is not reported; it
 *    offers that to the layer below again, as built, before anything else.
 *    Its own messages (TLS alerts, WebSocket pongs and close frames) go out
 *    only between the caller's bytes, never inside something half sent.
 * 5. After an error (< 0) the connection is lost: later send() and recv()
 *    calls return an error too; bytes not reported taken are not delivered,
 *    and bytes reported taken may or may not have reached the peer (MQTT's
 *    resend rules decide what goes again). The caller calls close(), which
 *    forgets everything held: the next open() starts a fresh stream, and
 *    nothing is owed across it.
 *
 * wait() is the other half: after send() returned 0, KMQTT_WAIT_WRITE means
 * a retry can now take bytes; after recv() returned 0, KMQTT_WAIT_READ means
 * a retry can return bytes or the end of the stream. A transport that needs
 * the other direction to get there (TLS must read to finish a write, or
 * write to finish a read) waits for that direction on the transport below,
 * so a caller's loop never spins on a socket that is ready for the wrong
 * thing. A spurious wake-up is allowed (the retry returns 0 again); a
 * transport that stays "ready" without progress is not. */
typedef struct kmqtt_transport {
    void *ctx; /**< the transport's own state, passed to every function below */
    /** Connects within timeout_ms (name resolution included where the stack
     * allows). Returns KMQTT_OK, KMQTT_ERESOLVE, KMQTT_ECONNREFUSED,
     * KMQTT_ETIMEDOUT, KMQTT_ECANCELED (wake() was called, also before
     * open() began: a wake is remembered once), KMQTT_ESTATE (already open)
     * or KMQTT_EIO. On failure nothing stays open. Blocks. */
    kmqtt_err_t (*open)(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms);
    /** Offers len bytes without blocking, under the send contract above:
     * bytes taken, 0 = would block (nothing taken; offer them again), < 0 =
     * error (a kmqtt_err_t; KMQTT_ENOTCONN when nothing is open,
     * KMQTT_EINVAL when fewer bytes come back than were refused). len 0
     * returns 0 when nothing is owed. Never raises SIGPIPE. */
    long (*send)(void *ctx, const void *buf, size_t len);
    /** Receives up to len bytes without blocking: bytes received, 0 = nothing
     * yet, < 0 = closed by the peer (KMQTT_ECLOSED) or error. */
    long (*recv)(void *ctx, void *buf, size_t len);
    /** Waits until one of events (KMQTT_WAIT_READ / _WRITE) is ready (in
     * the sense of the contract above: the matching call can make progress,
     * whatever this transport needs from the one below for that), wake() is
     * called, or timeout_ms passes; sets *ready to the events that are ready
     * (0 on timeout). With nothing open it waits for wake() or the timeout
     * only (events 0 and timeout 0 just clears a pending wake). Returns
     * KMQTT_OK or an error. Blocks. */
    kmqtt_err_t (*wait)(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready);
    /** Makes the current or next open()/wait() return at once. Any thread. */
    void (*wake)(void *ctx);
    /** Closes the connection (if open). The transport can be opened again. */
    void (*close)(void *ctx);
    /** Closes and frees everything the transport holds, ctx included. */
    void (*destroy)(void *ctx);
} kmqtt_transport_t;

/** Creates the port's TCP transport (IPv4 and IPv6, name resolution,
 * non-blocking with a connect timeout, TCP_NODELAY) with memory from m.
 * Returns KMQTT_OK, KMQTT_ENOMEM or KMQTT_EIO. */
kmqtt_err_t kmqtt_port_tcp_create(kmqtt_mem_t *m, kmqtt_transport_t *out);

#ifdef __cplusplus
}
#endif
#endif
