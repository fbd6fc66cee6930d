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

    /* security limits
     * Every bound on what the broker can make the client hold, and what a
     * violation does (each ends the connection; on_state gets the error):
     *  - rx_buffer_size is the largest incoming packet: a larger one is
     *    refused from its fixed header, before its body arrives
     *    (KMQTT_ETOOBIG).
     *  - max_topic_len (below): an incoming PUBLISH with a longer topic ends
     *    the connection with KMQTT_ELIMIT (a configured bound, not a protocol
     *    error: the packet itself is valid MQTT); kmqtt_publish and
     *    kmqtt_subscribe refuse a longer topic or filter with KMQTT_EINVAL.
     *  - max_inflight bounds our unacknowledged QoS 1/2 publishes
     *    (kmqtt_publish: KMQTT_ELIMIT, or waits publish_block_ms), and
     *    max_subscriptions the handlers kept (kmqtt_subscribe: KMQTT_ELIMIT).
     *  - Credentials: username and password are copied at create and wiped
     *    (through a volatile pointer, so the compiler keeps the stores)
     *    when the client is destroyed, as is the session buffer that held
     *    the CONNECT packet. */
    size_t max_topic_len; /* default KMQTT_CFG_MAX_TOPIC_LEN (config.h); 0 = that */
} kmqtt_client_options_t;

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
 * on_publish_done and kmqtt_publish_wait. Returns KMQTT_OK, KMQTT_ENOTCONN,
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

#ifdef __cplusplus
}
#endif
#endif
