/*
 * kmqtt client — the API most applications use.
 *
 * A client owns one connection at a time. Run it one of two ways:
 *  - your own loop or RTOS task: call kmqtt_run(client, timeout) repeatedly;
 *  - a background thread: kmqtt_start(client) ... kmqtt_disconnect/destroy.
 * Either way the blocking calls (connect, subscribe, unsubscribe,
 * kmqtt_publish_wait) may be used: without the background thread they run
 * the loop themselves until their answer arrives.
 *
 * Thread safety: every function may be called from any thread, including from
 * a message handler on the client's own thread (publish, subscribe,
 * unsubscribe and disconnect; not destroy). State changes under one lock.
 *
 * Lifecycle (the field bugs behind them are in docs/architecture.md):
 *  - kmqtt_disconnect and kmqtt_client_destroy are synchronous: when they
 *    return the socket is closed, the background thread (if any) has stopped,
 *    and nothing reconnects behind the caller's back.
 *  - after kmqtt_client_destroy every byte the client allocated is freed.
 *  - after connect and subscribe, publishing and receiving allocate nothing.
 *
 * Memory: the client allocates through its own kmqtt_mem_t (statistics with
 * kmqtt_client_mem); that context takes its bytes from options.mem if given
 * (so an application can watch every client in one place), else from malloc.
 */
#ifndef KMQTT_CLIENT_H
#define KMQTT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/codec.h"
#include "kmqtt/error.h"
#include "kmqtt/mem.h"
#include "kmqtt/port.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kmqtt_client kmqtt_client_t;
struct kmqtt_store;

/* A message handler. msg (topic, payload, props) is valid only during the
 * call. Runs on the thread that runs the loop; may call publish, subscribe,
 * unsubscribe and disconnect on c. */
typedef void (*kmqtt_message_fn)(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx);

/* A QoS 1/2 publish completed: err KMQTT_OK with the broker's reason code
 * (0 in 3.1.1), or KMQTT_ECANCELED if it was dropped (clean session). */
typedef void (*kmqtt_publish_done_fn)(kmqtt_client_t *c, uint16_t packet_id, kmqtt_err_t err,
                                      uint8_t reason_code, void *ctx);

typedef enum kmqtt_conn_state {
    KMQTT_STATE_DISCONNECTED = 0, /* never connected, or disconnected by the application */
    KMQTT_STATE_CONNECTING,
    KMQTT_STATE_CONNECTED,
    KMQTT_STATE_CONNECTION_LOST, /* closed by the broker, the network or a protocol error */
    KMQTT_STATE_RECONNECTING     /* lost; waiting out the backoff before the next attempt
                                    (automatic reconnect) */
} kmqtt_conn_state_t;

/* When the client reconnects by itself after a lost connection. */
typedef enum kmqtt_reconnect_mode {
    KMQTT_RECONNECT_DEFAULT = 0, /* on while the background thread runs, off otherwise */
    KMQTT_RECONNECT_ON,          /* also for kmqtt_run callers: kmqtt_run reconnects */
    KMQTT_RECONNECT_OFF
} kmqtt_reconnect_mode_t;

/* The connection state changed; err says why a connection was lost or a
 * connect failed (KMQTT_OK otherwise). */
typedef void (*kmqtt_state_fn)(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err,
                               void *ctx);

/* Store and forward: bytes of bookkeeping each queued message takes in the
 * offline queue, besides its topic and payload. */
#define KMQTT_QUEUE_ENTRY_OVERHEAD 12u

/* Store and forward: what the offline queue does when it is full. */
typedef enum kmqtt_queue_policy {
    KMQTT_QUEUE_REFUSE_NEW = 0, /* kmqtt_publish returns KMQTT_EQUEUE_FULL; nothing is lost */
    KMQTT_QUEUE_DROP_OLDEST     /* the oldest QoS 0 message is dropped, else the oldest one */
} kmqtt_queue_policy_t;

/* A queued message the queue policy dropped (err KMQTT_EDROPPED), or one
 * the session could never send (err KMQTT_ETOOBIG, e.g. larger than the
 * broker's maximum packet size). topic and payload are valid only during
 * the call. seq is the number kmqtt_publish_queued returned for it. */
typedef struct kmqtt_queue_drop {
    uint32_t seq;
    const char *topic; /* not NUL-terminated */
    size_t topic_len;
    const void *payload;
    size_t payload_len;
    uint8_t qos;
    kmqtt_err_t err;
} kmqtt_queue_drop_t;

/* Called with the client's lock held (the queue is being changed): it must
 * not call any kmqtt_ function on c. Copy what you need and return. */
typedef void (*kmqtt_queue_drop_fn)(kmqtt_client_t *c, const kmqtt_queue_drop_t *info,
                                    void *ctx);

typedef struct kmqtt_client_options {
    const char *host;        /* default "localhost" */
    uint16_t port;           /* default 1883 */
    const char *client_id;   /* NULL or "" = "kmqtt-" and 12 random hex digits */
    kmqtt_version_t version; /* default KMQTT_V311 */
    uint16_t keepalive_s;    /* default 60; 0 = off */
    bool clean_session;      /* default true */
    const char *username;    /* NULL = none */
    const void *password;    /* NULL = none; binary */
    size_t password_len;
    bool has_will;
    const char *will_topic;
    const void *will_payload;
    size_t will_payload_len;
    uint8_t will_qos;
    bool will_retain;

    size_t rx_buffer_size;       /* largest incoming packet; default 4096 */
    size_t tx_buffer_size;       /* default 4096 */
    size_t store_size;           /* bytes kept for unacked QoS 1/2 messages; default 8192 */
    uint16_t max_inflight;       /* default 20 */
    uint16_t max_subscriptions;  /* handlers kept; default 32 */
    uint32_t connect_timeout_ms; /* TCP connect + CONNACK; default 10000 */
    uint32_t publish_block_ms;   /* how long kmqtt_publish waits for room in a full
                                    window (0 = return KMQTT_ELIMIT at once); default 0 */
    uint32_t retry_ms;           /* 3.1.1 resend of unacked packets; default 0 (on reconnect) */

    /* Batched sending; default false. false: kmqtt_publish hands the packet
     * to the transport at once (one send per publish), or, while the
     * background thread (or a kmqtt_run caller) waits on the network, wakes
     * it to do so. true: kmqtt_publish only queues the packet in the send
     * buffer (tx_buffer_size), and queued bytes go out, in order, many
     * packets per send:
     *  - when the send buffer has no room for the next packet (that publish
     *    sends first, as it always does on a full buffer);
     *  - once per turn of the loop (kmqtt_run, the background thread, or
     *    the turn a blocking call runs);
     *  - at the start of kmqtt_publish_wait and kmqtt_publish_wait_all;
     *  - at kmqtt_disconnect, before DISCONNECT (briefly, as DISCONNECT).
     * So a caller that runs its own loop and publishes QoS 0 without
     * calling kmqtt_run sees its messages leave only when the buffer fills.
     * With the background thread (or another thread waiting in kmqtt_run),
     * the publish that finds the send buffer empty wakes that thread once
     * (a doorbell); later publishes join the queue without waking it.
     * Either way a wake is never repeated while one is pending. And once
     * the QoS 1/2 window has filled, it is refilled only after it drained to
     * half (a blocked publish waits for that), so a turn sends many PUBLISHes
     * rather than one per PUBACK. */
    bool publish_batch;

    /* Automatic reconnect after a lost connection (never after kmqtt_disconnect):
     * waits a random time in [d/2, d] with d doubling from reconnect_min_ms
     * up to reconnect_max_ms, back to the minimum once a connection has held
     * for reconnect_max_ms (so a broker that accepts and drops at once is not
     * hammered). After reconnecting, unacknowledged QoS 1/2 messages are resent (with DUP set if
     * the broker kept the session, MQTT-4.4.0-1) and, if the broker did not
     * keep the session, every subscription is made again. */
    kmqtt_reconnect_mode_t reconnect;
    uint32_t reconnect_min_ms; /* default 500 */
    uint32_t reconnect_max_ms; /* default 30000 */
    /* Several brokers, tried in turn (each connect or reconnect attempt takes
     * the next after a failure): "host:port,host:port,[::1]:port". NULL = host
     * and port above. Copied at create; KMQTT_EINVAL if malformed. */
    const char *servers;

    kmqtt_message_fn on_message; /* messages no subscription handler took */
    kmqtt_publish_done_fn on_publish_done;
    kmqtt_state_fn on_state;
    void *ctx; /* passed to the three callbacks above */

    kmqtt_mem_t *mem;                   /* parent accounting context, optional */
    bool mem_debug;                     /* the client's own context in debug mode */
    const kmqtt_transport_t *transport; /* NULL = the port's TCP; the client owns it once
                                           create succeeds (and calls its destroy() at the
                                           end); if create fails the caller still owns it */

    /* store and forward */
    /* The offline queue: while the client is not connected (before the
     * first connect, after a loss, while reconnecting, after a disconnect)
     * and while messages wait in it, kmqtt_publish copies the message into
     * the queue instead of failing with KMQTT_ENOTCONN; a QoS 1/2 publish
     * that finds the in-flight window full is queued too. The queue is sent
     * in order, ahead of any later publish, as soon as the connection and
     * the window allow. One buffer of offline_queue_max_bytes is allocated
     * at create (tag "queue"); each message takes 12 bytes + topic +
     * payload of it. Off by default (offline_queue_max_msgs 0): existing
     * callers keep KMQTT_ENOTCONN. With max_msgs set, max_bytes must be too
     * (KMQTT_EINVAL otherwise). */
    uint32_t offline_queue_max_msgs;   /* 0 = no queue (default) */
    size_t offline_queue_max_bytes;    /* the buffer; at most UINT32_MAX */
    kmqtt_queue_policy_t offline_queue_policy; /* default KMQTT_QUEUE_REFUSE_NEW */
    kmqtt_queue_drop_fn on_queue_drop; /* optional; gets ctx above */
    /* Persistence (include/kmqtt/store.h), e.g. kmqtt_store_file_create.
     * Needs a persistent session (clean_session false; KMQTT_EINVAL
     * otherwise). Persisted: QoS 1/2 messages in the offline queue, QoS 1/2
     * messages in flight (the encoded PUBLISH and its packet id, then the
     * PUBREL state after PUBREC) and inbound QoS 2 ids awaiting PUBREL;
     * each before the packet it concerns can leave (or the message be
     * delivered), removed after the ack. At create the client reads them
     * back, so after a process kill they are sent again with the same
     * packet ids (DUP set) and inbound QoS 2 stays exactly once. QoS 0 is
     * never persisted. The store is the caller's: it must outlive the
     * client (destroy it after kmqtt_client_destroy). NULL = none. */
    const struct kmqtt_store *store;

    /* no-malloc: all memory from the application */
    /* One buffer the client takes every block from (an arena over it:
     * kmqtt_mem_arena_t), instead of malloc or mem, which are then not
     * used; memory_size bytes, at least kmqtt_client_memory_size(options).
     * The client owns it until kmqtt_client_destroy returns. Required in a
     * KMQTT_NO_MALLOC build. In this mode the subscription filters live in a
     * table made at create (max_subscriptions of max_filter_len bytes), so
     * subscribing allocates nothing and a filter longer than max_filter_len
     * is refused with KMQTT_ELIMIT. */
    void *memory;
    size_t memory_size;
    uint16_t max_filter_len; /* default KMQTT_CFG_MAX_FILTER_LEN (128) */
} kmqtt_client_options_t;

/* Bytes kmqtt_client_create needs in options.memory for o (the defaults
 * fill in for zero fields; o->memory itself is not looked at): the arena's
 * own record, the client structure, its lock and condition, the option
 * strings and server list, the session's buffers and in-flight table
 * (rx/tx buffers, store_size), the message scratch buffer (rx_buffer_size),
 * the subscription table with max_subscriptions filters of max_filter_len
 * bytes, the port's TCP transport (unless o->transport is given), and the
 * background thread's handle (counted always, so kmqtt_start cannot run out).
 * Debug mode (o->mem_debug) adds its headers and guards. Exact for a buffer
 * aligned to KMQTT_MEM_ARENA_ALIGN (declare it as uint64_t[]); add
 * KMQTT_MEM_ARENA_ALIGN - 1 for one that may not be. Returns 0 if o is NULL
 * or invalid (what kmqtt_client_create refuses with KMQTT_EINVAL). Never
 * allocates, never blocks. */
size_t kmqtt_client_memory_size(const kmqtt_client_options_t *o);

/* Fills o with the defaults above. */
void kmqtt_client_options_init(kmqtt_client_options_t *o);

/* Creates a client. Every string and buffer in o is copied: the caller's
 * memory is not used after this returns. Does not connect, does not block.
 * Returns KMQTT_OK and *out, KMQTT_EINVAL (an option out of range, an invalid
 * will topic), KMQTT_ENOMEM, or KMQTT_EIO (no entropy for a client id). On
 * failure nothing is left allocated. */
kmqtt_err_t kmqtt_client_create(const kmqtt_client_options_t *o, kmqtt_client_t **out);

/* Disconnects (if connected), stops the background thread (if any), and
 * frees everything. Must not be called from a handler of c. NULL is a no-op.
 * Blocks until done (bounded by a short flush of DISCONNECT). */
void kmqtt_client_destroy(kmqtt_client_t *c);

typedef struct kmqtt_connack_info {
    uint8_t reason_code; /* 3.1.1 return code or 5.0 reason code */
    bool session_present;
} kmqtt_connack_info_t;

/* Connects and waits for CONNACK up to timeout_ms (0 = the configured
 * connect_timeout_ms). Fills *info when a CONNACK arrived (info may be NULL).
 * Returns KMQTT_OK, KMQTT_ERESOLVE, KMQTT_ECONNREFUSED, KMQTT_ETIMEDOUT,
 * KMQTT_EREFUSED (CONNACK refusal; see info->reason_code), KMQTT_EPROTOCOL or
 * a codec error, KMQTT_ECANCELED (disconnect/destroy from another thread),
 * KMQTT_ESTATE (already connected). On failure the socket is closed. Blocks. */
kmqtt_err_t kmqtt_connect(kmqtt_client_t *c, uint32_t timeout_ms, kmqtt_connack_info_t *info);

/* Sends DISCONNECT (best effort, briefly), closes the socket, stops the
 * background thread (unless called from it: it then ends as soon as the
 * handler returns), and wakes every blocked call with KMQTT_ECANCELED.
 * Returns KMQTT_OK or KMQTT_ENOTCONN. Blocks until the socket is closed. */
kmqtt_err_t kmqtt_disconnect(kmqtt_client_t *c);

kmqtt_conn_state_t kmqtt_client_state(kmqtt_client_t *c);

/* Publishes. QoS 1/2 set *packet_id (may be NULL); completion comes by
 * on_publish_done and kmqtt_publish_wait. With the offline queue on
 * (offline_queue_max_msgs), a message that cannot be sent now is queued
 * instead: KMQTT_OK with *packet_id 0 (see kmqtt_publish_queued), or
 * KMQTT_EQUEUE_FULL. Returns KMQTT_OK, KMQTT_ENOTCONN,
 * KMQTT_EINVAL (bad topic, QoS), KMQTT_ELIMIT (window full after
 * publish_block_ms), KMQTT_ETOOBIG (never fits the buffers). Does not
 * allocate. Blocks at most publish_block_ms. */
kmqtt_err_t kmqtt_publish(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                          uint8_t qos, bool retain, uint16_t *packet_id);

/* Waits until the QoS 1/2 publish packet_id completes, up to timeout_ms.
 * The last 64 completions are remembered, so a publish acknowledged before
 * the wait began returns at once. Returns KMQTT_OK (and *reason_code if not
 * NULL), KMQTT_ETIMEDOUT, KMQTT_ENOTFOUND (neither in flight nor among the
 * recent completions), KMQTT_ECANCELED. Blocks. */
kmqtt_err_t kmqtt_publish_wait(kmqtt_client_t *c, uint16_t packet_id, uint32_t timeout_ms,
                               uint8_t *reason_code);

/* Waits until no QoS 1/2 publish is in flight, up to timeout_ms. Same
 * returns as kmqtt_publish_wait. Blocks. */
kmqtt_err_t kmqtt_publish_wait_all(kmqtt_client_t *c, uint32_t timeout_ms);

/* One filter of kmqtt_subscribe. */
typedef struct kmqtt_sub_request {
    const char *filter;
    uint8_t qos;
    kmqtt_message_fn handler; /* NULL = on_message */
    void *ctx;                /* for handler */
} kmqtt_sub_request_t;

/* Subscribes to n filters in one SUBSCRIBE and waits for SUBACK up to
 * timeout_ms. granted (n entries, may be NULL) receives the granted QoS or
 * the failure code (0x80 or above) per filter. Handlers are registered for
 * the granted filters; a message matching several subscriptions goes to each
 * matching handler once, and to on_message only when no handler matched.
 * Returns KMQTT_OK (all granted), KMQTT_ESUBFAIL (some refused; see granted),
 * KMQTT_EINVAL (bad filter), KMQTT_ELIMIT (max_subscriptions),
 * KMQTT_ETIMEDOUT, KMQTT_ENOTCONN, KMQTT_ECANCELED, KMQTT_ENOMEM. Blocks. */
kmqtt_err_t kmqtt_subscribe(kmqtt_client_t *c, const kmqtt_sub_request_t *subs, size_t n,
                            uint32_t timeout_ms, uint8_t *granted);

/* Unsubscribes n filters, waits for UNSUBACK, and removes their handlers.
 * Returns KMQTT_OK, KMQTT_EINVAL, KMQTT_ETIMEDOUT, KMQTT_ENOTCONN,
 * KMQTT_ECANCELED. Blocks. */
kmqtt_err_t kmqtt_unsubscribe(kmqtt_client_t *c, const char *const *filters, size_t n,
                              uint32_t timeout_ms);

/* One turn of the loop for callers that run it themselves: waits up to
 * timeout_ms for the network (0 = do not wait), then reads, handles packets
 * (calling handlers), sends and keeps the connection alive. With automatic
 * reconnect on (KMQTT_RECONNECT_ON), a lost connection is retried from here:
 * the turn sleeps out the backoff (within timeout_ms) and makes the attempt
 * (which may block up to connect_timeout_ms). Returns KMQTT_OK (also while
 * reconnecting), KMQTT_ENOTCONN (nothing to run), KMQTT_ESTATE (the
 * background thread runs it), or the error that just lost the connection
 * (KMQTT_ECLOSED, KMQTT_EKEEPALIVE, KMQTT_EPROTOCOL, ...). Blocks. */
kmqtt_err_t kmqtt_run(kmqtt_client_t *c, uint32_t timeout_ms);

/* Starts the background thread that runs the loop while connected. Returns
 * KMQTT_OK, KMQTT_ESTATE (already running) or KMQTT_ENOMEM / KMQTT_EIO. */
kmqtt_err_t kmqtt_start(kmqtt_client_t *c);

/* The client's own accounting context (statistics, live blocks). */
kmqtt_mem_t *kmqtt_client_mem(kmqtt_client_t *c);

/* Store and forward: like kmqtt_publish, and *seq (may be NULL) gets the
 * queue sequence number when the message was queued (0 when it went
 * straight to the session; *packet_id is then set as by kmqtt_publish).
 * A queued message gets its packet id only when it leaves the queue.
 * Returns what kmqtt_publish returns, and KMQTT_EQUEUE_FULL (the queue is
 * full and its policy refuses new messages; nothing was queued) or
 * KMQTT_ETOOBIG (larger than the whole queue). With the queue off, the
 * same as kmqtt_publish. Does not allocate. */
kmqtt_err_t kmqtt_publish_queued(kmqtt_client_t *c, const char *topic, const void *payload,
                                 size_t len, uint8_t qos, bool retain, uint16_t *packet_id,
                                 uint32_t *seq);

/* Messages in the offline queue now (not yet handed to the session). */
size_t kmqtt_queue_count(kmqtt_client_t *c);

/* Store and forward with options.store: what create read back from the
 * store, and how many store calls failed since (a failed write means that
 * record would not survive a restart; the message itself still goes). */
typedef struct kmqtt_persist_stats {
    uint32_t restored_inflight; /* outbound QoS 1/2 flows put back in the session */
    uint32_t restored_queued;   /* messages put back in the offline queue */
    uint32_t restored_inbound;  /* inbound QoS 2 ids */
    uint32_t skipped;           /* records unreadable, malformed or with no room */
    uint32_t store_errors;      /* failed put/remove since create */
} kmqtt_persist_stats_t;

void kmqtt_persist_stats(kmqtt_client_t *c, kmqtt_persist_stats_t *out);

/* Waits until everything published so far has left: the offline queue is
 * empty, every QoS 1/2 message is acknowledged (PUBACK / PUBCOMP) and every
 * queued byte (QoS 0 messages included) is written to the transport. The
 * building block of "wake, connect, flush, disconnect, sleep". Runs the
 * loop itself when no background thread does (like kmqtt_publish_wait_all);
 * keeps waiting through an automatic reconnect. Returns KMQTT_OK,
 * KMQTT_ETIMEDOUT, KMQTT_ENOTCONN (not connected and not reconnecting, with
 * something left to send), KMQTT_ECANCELED (disconnect from another thread)
 * or the error that lost the connection (without automatic reconnect).
 * Blocks up to timeout_ms. */
kmqtt_err_t kmqtt_flush(kmqtt_client_t *c, uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
