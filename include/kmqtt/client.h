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


/* ---------------------------------------------------------- MQTT 5.0 types
 * (issue 5). Everything below is used only when options.version is
 * KMQTT_V5; a 3.1.1 client ignores it. */

/* One user property (a name/value pair of UTF-8 strings, NUL-terminated
 * here; the same name may appear several times and order is kept). */
typedef struct kmqtt_user_prop {
    const char *name;
    const char *value;
} kmqtt_user_prop_t;

/* Properties of an outgoing PUBLISH (kmqtt_publish_ex) or of the will.
 * Zeroed = none. Nothing is allocated: kmqtt_publish_ex builds the property
 * list on its stack (at most KMQTT_PUB_USER_PROPS_MAX user properties). */
typedef struct kmqtt_pub_props {
    uint8_t payload_format;     /* 0 = bytes (property not sent), 1 = UTF-8: the payload
                                   is checked, KMQTT_EINVAL if it is not (3.3.2.3.2) */
    uint32_t message_expiry_s;  /* 0 = does not expire (property not sent) */
    const char *content_type;   /* NULL = none */
    const char *response_topic; /* NULL = none; a topic name, no wildcards */
    const void *correlation_data; /* NULL = none */
    size_t correlation_len;
    const kmqtt_user_prop_t *user_props; /* user_prop_count entries, in order */
    size_t user_prop_count;
    uint32_t will_delay_s; /* will only: Will Delay Interval; 0 = not sent */
} kmqtt_pub_props_t;

/* User properties one kmqtt_publish_ex (or one SUBSCRIBE, UNSUBSCRIBE,
 * DISCONNECT) may carry: its property list lives on the caller's stack. */
#define KMQTT_PUB_USER_PROPS_MAX 16u

/* Properties of a SUBSCRIBE, UNSUBSCRIBE or DISCONNECT the application
 * sends (kmqtt_subscribe_ex, kmqtt_unsubscribe_ex, kmqtt_disconnect_ex).
 * Zeroed or NULL = none. Encoded before the call returns. */
typedef struct kmqtt_packet_props {
    const kmqtt_user_prop_t *user_props; /* at most KMQTT_PUB_USER_PROPS_MAX, in order */
    size_t user_prop_count;
    const char *reason_string; /* DISCONNECT and AUTH only (KMQTT_EINVAL elsewhere);
                                  NULL = none */
} kmqtt_packet_props_t;

/* What a server-sent DISCONNECT said (5.0). The strings are views into the
 * receive buffer, valid only during the callback (not NUL-terminated). */
typedef struct kmqtt_disconnect_info {
    uint8_t reason_code;
    kmqtt_str_t reason_string;    /* ptr NULL = none */
    kmqtt_str_t server_reference; /* ptr NULL = none */
} kmqtt_disconnect_info_t;

/* The server sent DISCONNECT. Called on the loop's thread BEFORE the state
 * callback reports KMQTT_STATE_CONNECTION_LOST (with err
 * KMQTT_EDISCONNECTED). The connection is ending: copy what you need and
 * return; do not call blocking client functions, kmqtt_disconnect or
 * kmqtt_client_destroy from here. */
typedef void (*kmqtt_disconnect_fn)(kmqtt_client_t *c, const kmqtt_disconnect_info_t *info,
                                    void *ctx);

/* Enhanced authentication (5.0): the server sent AUTH. reason_code is 0x18
 * (continue: answer with the next step's data) or 0x00 (a
 * re-authentication succeeded: nothing to answer). server_data is the
 * server's Authentication Data (ptr NULL if none), a view valid during the
 * call. Write the answer into out (cap = KMQTT_AUTH_DATA_MAX bytes) and its
 * length into *out_len, and return KMQTT_OK; any other return ends the
 * connection (the connect fails with that error). Runs on the loop's
 * thread; must not call kmqtt_disconnect or kmqtt_client_destroy. */
typedef kmqtt_err_t (*kmqtt_auth_fn)(kmqtt_client_t *c, uint8_t reason_code,
                                     const kmqtt_bin_t *server_data, uint8_t *out, size_t cap,
                                     size_t *out_len, void *ctx);

/* Largest Authentication Data kmqtt_auth_fn may answer with (a stack buffer). */
#define KMQTT_AUTH_DATA_MAX 512u

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

    /* ---- MQTT 5.0 (issue 5): used only when version is KMQTT_V5 ---- */
    uint32_t session_expiry_s;     /* Session Expiry Interval; 0 = the session ends with the
                                      connection, 0xFFFFFFFF = never */
    uint16_t receive_maximum;      /* QoS 1/2 the server may leave unacknowledged towards us;
                                      0 = max_inflight */
    uint32_t maximum_packet_size;  /* advertised; 0 = rx_buffer_size; more than
                                      rx_buffer_size is KMQTT_EINVAL */
    uint16_t topic_alias_maximum;  /* inbound aliases we accept; 0 = none */
    bool request_response_info;    /* ask for Response Information in CONNACK */
    bool no_problem_info;          /* Request Problem Information 0: no reason strings or
                                      user properties on anything but PUBLISH, CONNACK and
                                      DISCONNECT (MQTT-3.1.2-29) */
    const kmqtt_user_prop_t *user_props; /* sent on CONNECT; copied at create */
    size_t user_prop_count;
    const kmqtt_pub_props_t *will_props; /* NULL = none; copied at create (has_will) */
    kmqtt_disconnect_fn on_disconnect;   /* server DISCONNECT; ctx as above */
    /* Outbound topic aliases, chosen automatically: a topic repeated on a
     * connection goes as a 2-byte alias (least recently used slot reused),
     * up to the smaller of topic_alias_out and the server's Topic Alias
     * Maximum; the table restarts empty on every connection. 0 = off. */
    uint16_t topic_alias_out;
    uint16_t alias_topic_len; /* longest topic kept per alias slot (both directions);
                                 0 = 64 when either alias count is set */
    /* Enhanced authentication: Authentication Method (NULL = none) and the
     * first Authentication Data (may be NULL), sent on CONNECT; the server's
     * AUTH packets go to on_auth (ctx as above). Copied at create. */
    const char *auth_method;
    const void *auth_data;
    size_t auth_data_len;
    kmqtt_auth_fn on_auth;
    /* Send an empty Client Identifier and let the server assign one
     * (reported as kmqtt_connack_info_t.assigned_client_id). client_id is
     * then ignored. With session_expiry_s > 0 the first assigned id is kept
     * (up to KMQTT_ASSIGNED_ID_MAX bytes, reserved at create) and sent on
     * every later connect of this client, automatic or not, so the session
     * resumes (3.2.2.3.7); a longer one makes those connects fail with
     * KMQTT_ELIMIT. With session_expiry_s 0 every connection asks anew. */
    bool server_assigned_id;

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
     *  - Credentials: username, password and (5.0) the Authentication
     *    Data are copied at create and wiped (kmqtt_mem_wipe, which the
     *    compiler cannot drop) when the client is destroyed, as are the
     *    session buffers the CONNECT and AUTH packets went through; the
     *    buffer on_auth writes its answer into is wiped after each call. */
    size_t max_topic_len; /* default KMQTT_CFG_MAX_TOPIC_LEN (config.h); 0 = that */
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
    /* ---- 5.0 (zero in 3.1.1). Strings are NUL-terminated copies kept by the
     * client until the next connect attempt or destroy; NULL = not sent
     * (or longer than KMQTT_CONNACK_STR_MAX bytes together: then
     * strings_dropped is true). Absent capabilities read as the spec's
     * defaults (receive_maximum 65535, maximum_qos 2, the *_available true). */
    const char *reason_string;
    const char *assigned_client_id;
    const char *response_information;
    const char *server_reference;
    bool strings_dropped;
    uint16_t server_keepalive_s; /* 0 = the server did not override keepalive_s */
    bool has_session_expiry;
    uint32_t session_expiry_s; /* the server's override of ours */
    uint16_t receive_maximum;
    uint8_t maximum_qos;
    bool retain_available;
    bool wildcard_available;
    bool subscription_id_available;
    bool shared_available;
    uint32_t maximum_packet_size; /* 0 = no limit */
    uint16_t topic_alias_maximum;
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

/* 5.0 options of one filter of kmqtt_subscribe_ex (a separate array, so
 * kmqtt_sub_request_t initializers written for 3.1.1 stay valid). Zeroed =
 * the protocol defaults. */
typedef struct kmqtt_sub_options {
    bool no_local;            /* our own publishes are not sent back (MQTT-3.8.3-3);
                                 not allowed on a shared subscription (MQTT-3.8.3-4) */
    bool retain_as_published; /* keep the RETAIN flag as published (MQTT-3.3.1-13) */
    uint8_t retain_handling;  /* 0 = send retained at subscribe, 1 = only if the
                                 subscription is new, 2 = never */
    uint32_t subscription_id; /* 1..268435455, 0 = none; every filter of one call must
                                 have the same (one per SUBSCRIBE) */
} kmqtt_sub_options_t;

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
 * record would not survive a restart; the message itself still goes).
 * Every record is checked before it is trusted (DESIGN.md rule 7): a flow
 * record's bytes must decode, with the codec, as exactly one QoS 1/2
 * PUBLISH of the record's packet id, QoS and protocol version, nothing
 * after it (or be the bare PUBREL state); a queued message must have a
 * valid topic, QoS 1 or 2 and its key's sequence number. A record that
 * fails is counted in rejected, removed from the store and never sent:
 * a damaged or planted record cannot put a packet the application never
 * made (a SUBSCRIBE, another packet id) on the wire. */
typedef struct kmqtt_persist_stats {
    uint32_t restored_inflight; /* outbound QoS 1/2 flows put back in the session */
    uint32_t restored_queued;   /* messages put back in the offline queue */
    uint32_t restored_inbound;  /* inbound QoS 2 ids */
    uint32_t skipped;           /* valid records not restored: unreadable now, or no room */
    uint32_t rejected;          /* records that failed the checks above: removed, never sent */
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

/* ------------------------------------------------------- MQTT 5.0 (issue 5) */

/* Bytes kept for the CONNACK strings of kmqtt_connack_info_t (allocated at
 * create, 5.0 clients only). */
#define KMQTT_CONNACK_STR_MAX 512u
/* Longest server-assigned Client Identifier kept for reuse (bytes; reserved
 * at create by 5.0 clients with server_assigned_id and session_expiry_s). */
#define KMQTT_ASSIGNED_ID_MAX 128u

/* kmqtt_publish with 5.0 properties (props may be NULL: same as
 * kmqtt_publish). Topic aliases are not chosen here. Beyond kmqtt_publish's
 * returns: KMQTT_EUNSUPPORTED (3.1.1 client with properties; QoS above the
 * server's Maximum QoS, MQTT-3.2.2-11; retain while Retain Available is 0,
 * MQTT-3.2.2-14), KMQTT_ETOOBIG (larger than the server's Maximum Packet
 * Size: nothing sent, MQTT-3.2.2-15), KMQTT_ELIMIT (more than
 * KMQTT_PUB_USER_PROPS_MAX user properties), KMQTT_EINVAL (payload_format 1
 * with a payload that is not UTF-8, a bad response topic, will_delay_s set).
 * Does not allocate; props are encoded before it returns (the caller's
 * memory is not kept). Blocks at most publish_block_ms. */
kmqtt_err_t kmqtt_publish_ex(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                             uint8_t qos, bool retain, const kmqtt_pub_props_t *props,
                             uint16_t *packet_id);

/* The CONNACK of the current (or last) connection, including one made by
 * automatic reconnect. Returns KMQTT_OK, or KMQTT_ENOTCONN if no CONNACK has
 * arrived since create. Strings stay valid until the next connect attempt or
 * destroy. Does not block. */
kmqtt_err_t kmqtt_client_connack(kmqtt_client_t *c, kmqtt_connack_info_t *info);

/* kmqtt_subscribe with 5.0 subscription options: opts has n entries (NULL
 * = defaults). Shared subscriptions ("$share/group/filter") need no option:
 * their messages go to the handler whose filter part matches. Beyond
 * kmqtt_subscribe's returns: KMQTT_EINVAL (options in 3.1.1, retain_handling
 * over 2, no_local on a shared subscription, different subscription ids),
 * KMQTT_EUNSUPPORTED (the server's CONNACK said Wildcard, Shared or
 * Subscription Identifier not available: nothing is sent). Options are
 * kept for subscribing again after a reconnect; props (user properties of
 * this SUBSCRIBE, may be NULL) are not. Blocks. */
kmqtt_err_t kmqtt_subscribe_ex(kmqtt_client_t *c, const kmqtt_sub_request_t *subs,
                               const kmqtt_sub_options_t *opts, size_t n,
                               const kmqtt_packet_props_t *props, uint32_t timeout_ms,
                               uint8_t *granted);

/* kmqtt_unsubscribe that also reports the UNSUBACK reason code of each
 * filter into reasons (n entries; 5.0: 0x00 success, 0x11 no subscription
 * existed, 0x80 and above refused; 3.1.1 has none: all read 0). Returns
 * KMQTT_ESUBFAIL if some code is 0x80 or above (handlers of refused filters
 * are kept), else as kmqtt_unsubscribe. props: user properties of this
 * UNSUBSCRIBE (may be NULL). Blocks. */
kmqtt_err_t kmqtt_unsubscribe_ex(kmqtt_client_t *c, const char *const *filters, size_t n,
                                 const kmqtt_packet_props_t *props, uint32_t timeout_ms,
                                 uint8_t *reasons);

/* What a SUBACK or UNSUBACK said beyond its reason codes (5.0), for
 * kmqtt_subscribe_ex2 / kmqtt_unsubscribe_ex2. The caller owns the struct
 * and the buffer; nothing is kept after the call returns. */
typedef struct kmqtt_ack_info {
    char *reason_string; /* in: a buffer for the Reason String (may be NULL) */
    size_t cap;          /* in: its size in bytes */
    /* out: set when the ack arrived (cleared when the call begins) */
    bool has_reason;        /* the ack carried a Reason String */
    size_t len;             /* its length in bytes; copied NUL-terminated only if
                               len < cap, else reason_string is "" (never cut) */
    size_t user_prop_count; /* how many User Properties the ack carried */
} kmqtt_ack_info_t;

/* kmqtt_subscribe_ex that also reports the SUBACK's Reason String and User
 * Property count into *info (may be NULL: the same as kmqtt_subscribe_ex).
 * Same returns as kmqtt_subscribe_ex. Blocks. */
kmqtt_err_t kmqtt_subscribe_ex2(kmqtt_client_t *c, const kmqtt_sub_request_t *subs,
                                const kmqtt_sub_options_t *opts, size_t n,
                                const kmqtt_packet_props_t *props, uint32_t timeout_ms,
                                uint8_t *granted, kmqtt_ack_info_t *info);

/* kmqtt_unsubscribe_ex that also reports the UNSUBACK's Reason String and
 * User Property count into *info (may be NULL). Same returns as
 * kmqtt_unsubscribe_ex. Blocks. */
kmqtt_err_t kmqtt_unsubscribe_ex2(kmqtt_client_t *c, const char *const *filters, size_t n,
                                  const kmqtt_packet_props_t *props, uint32_t timeout_ms,
                                  uint8_t *reasons, kmqtt_ack_info_t *info);

/* 5.0: how many PUBRELs the server sent with a failure reason code since
 * create (0x92 Packet Identifier not found: the server no longer knew the
 * QoS 2 message our PUBREC answered). *last_reason (may be NULL) gets the
 * last such code, 0 if none. The client answers PUBCOMP all the same
 * (MQTT-4.3.3-2). Does not block. */
uint32_t kmqtt_client_pubrel_failures(kmqtt_client_t *c, uint8_t *last_reason);

/* kmqtt_disconnect with a 5.0 reason code (0 = normal; 0x04 = disconnect
 * with will message) and a Session Expiry Interval, sent only when it
 * differs from options.session_expiry_s. A non-zero value when the CONNECT
 * said 0 is KMQTT_EINVAL (3.14.2.2.2) and nothing is done. In 3.1.1
 * reason_code and session_expiry_s must be 0 and options.session_expiry_s
 * (KMQTT_EINVAL otherwise). props: a Reason String and user properties
 * (may be NULL; 5.0 only). Blocks as kmqtt_disconnect. */
kmqtt_err_t kmqtt_disconnect_ex(kmqtt_client_t *c, uint8_t reason_code, uint32_t session_expiry_s,
                                const kmqtt_packet_props_t *props);

/* During on_publish_done or on_auth (on the loop's thread) only: the
 * Reason String of the PUBACK / PUBREC / PUBCOMP or AUTH being reported, as
 * a view. Returns false when there is none (or when called from anywhere
 * else). */
bool kmqtt_client_reason_string(kmqtt_client_t *c, kmqtt_str_t *out);

/* Re-authentication (5.0, a CONNECT with auth_method): sends AUTH 0x19 with
 * data and waits up to timeout_ms for the server's AUTH 0x00 (the steps
 * between go through on_auth). Returns KMQTT_OK, KMQTT_ESTATE (3.1.1, no
 * auth_method, one already under way), KMQTT_ENOTCONN, KMQTT_ETIMEDOUT,
 * KMQTT_EDISCONNECTED / KMQTT_ECLOSED (the server ended the connection:
 * re-authentication failed), KMQTT_ECANCELED. Blocks. */
kmqtt_err_t kmqtt_reauthenticate(kmqtt_client_t *c, const void *data, size_t len,
                                 uint32_t timeout_ms);

/* kmqtt_reauthenticate whose AUTH 0x19 also carries props: a Reason String
 * and User Properties (may be NULL; caller's memory, encoded before the
 * AUTH is queued, not kept). Beyond kmqtt_reauthenticate's returns:
 * KMQTT_ELIMIT (more than KMQTT_PUB_USER_PROPS_MAX user properties),
 * KMQTT_EINVAL (a string that is not UTF-8), KMQTT_ETOOBIG (larger than
 * the server's Maximum Packet Size or the send buffer). Blocks. */
kmqtt_err_t kmqtt_reauthenticate_ex(kmqtt_client_t *c, const void *data, size_t len,
                                    const kmqtt_packet_props_t *props, uint32_t timeout_ms);

/* ---- reading a received message's 5.0 properties (views into msg, valid
 * as long as msg is: during the handler). None allocate or block. */

/* Walks the user properties in order: kmqtt_prop_iter_init(&it, &msg->props)
 * then while (kmqtt_next_user_prop(&it, &name, &value)) ... */
bool kmqtt_next_user_prop(kmqtt_prop_iter_t *it, kmqtt_str_t *name, kmqtt_str_t *value);
/* Same for the Subscription Identifiers (one per matching subscription
 * that had one). */
bool kmqtt_next_subscription_id(kmqtt_prop_iter_t *it, uint32_t *id);
/* Each returns true and the value if the property is present. */
bool kmqtt_msg_content_type(const kmqtt_publish_t *msg, kmqtt_str_t *out);
bool kmqtt_msg_response_topic(const kmqtt_publish_t *msg, kmqtt_str_t *out);
bool kmqtt_msg_correlation_data(const kmqtt_publish_t *msg, kmqtt_bin_t *out);
bool kmqtt_msg_message_expiry(const kmqtt_publish_t *msg, uint32_t *seconds);
/* Payload Format Indicator: 1 = UTF-8 (the payload was checked), 0 = bytes
 * or absent. */
uint8_t kmqtt_msg_payload_format(const kmqtt_publish_t *msg);

/* Request / response (5.0): subscribes to response_topic the first time
 * (its handler stays, for later requests), publishes payload to topic with
 * that Response Topic and a fresh 8-byte Correlation Data, and waits up to
 * timeout_ms for the message on response_topic that carries the same
 * Correlation Data. Its payload is copied to reply (reply_cap bytes; the
 * length into *reply_len). One request at a time per client; nothing is
 * allocated per call (the first call allocates the handler's filter copy).
 * Other messages on response_topic go to on_message; keep response_topic
 * for kmqtt_request (subscribing it with your own handler replaces the
 * request's, and the next request subscribes it again). Returns KMQTT_OK,
 * KMQTT_ETIMEDOUT, KMQTT_ENOBUFS (the reply is larger than reply_cap:
 * *reply_len says how large), KMQTT_ELIMIT (another request is waiting),
 * KMQTT_EUNSUPPORTED (3.1.1), kmqtt_subscribe's and kmqtt_publish's errors.
 * Must not be called from a handler. Blocks. */
kmqtt_err_t kmqtt_request(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                          uint8_t qos, const char *response_topic, uint32_t timeout_ms,
                          void *reply, size_t reply_cap, size_t *reply_len);

#ifdef __cplusplus
}
#endif
#endif
