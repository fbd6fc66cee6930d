/** @file
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
 *
 * One call per operation. Each takes the 3.1.1 arguments first, then two
 * optional ones, NULL in the simple case:
 *   kmqtt_publish(c, topic, payload, len, qos, retain, props, res)
 *   kmqtt_subscribe(c, subs, n, timeout_ms, props, res)
 *   kmqtt_unsubscribe(c, filters, n, timeout_ms, props, res)
 *   kmqtt_disconnect(c, props)
 *   kmqtt_reauthenticate(c, data, len, timeout_ms, props)
 * props is the 5.0 part of the packet sent (properties, a reason code): a
 * struct of named fields, one type per operation, zeroed = nothing. It is
 * the caller's memory, encoded before the call returns and never kept, so
 * nothing is allocated for it. A 3.1.1 client takes NULL only: any props
 * is KMQTT_ENEEDV5 and nothing is sent, so a 5.0 request is never dropped
 * in silence (as libmosquitto's mosquitto_publish_v5 answers
 * MOSQ_ERR_NOT_SUPPORTED to a client of an older protocol).
 * res is what came back (packet id, reason codes, reason string): a struct
 * the call fills (it needs no initialising), NULL when not wanted. The
 * offline queue is the client's option (offline_queue_max_msgs): with it
 * on, kmqtt_publish queues what cannot go now and res says so. Why this shape rather than the
 * usual _v5 twin of each call (libmosquitto's mosquitto_publish_v5,
 * coreMQTT's MQTT_PublishV5): one name per operation whatever the protocol
 * version, a new 5.0 field is a new struct member rather than a new
 * function, and named fields (unlike a property list built by id, as with
 * mosquitto_property_add_* or coreMQTT's property builder) cannot put a
 * property in a packet that does not allow it. The optional result struct
 * follows paho's MQTTAsync_responseOptions, without its callbacks: these
 * calls block until their answer or return at once.
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

/** A client (opaque): kmqtt_client_create, kmqtt_client_destroy. */
typedef struct kmqtt_client kmqtt_client_t;
struct kmqtt_store;

/** A message handler. msg (topic, payload, props) is valid only during the
 * call. Runs on the thread that runs the loop; may call publish, subscribe,
 * unsubscribe and disconnect on c. */
typedef void (*kmqtt_message_fn)(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx);

/** What a kmqtt_message_piece_t carries (option on_message_piece). */
typedef enum kmqtt_piece_kind {
    KMQTT_PIECE_BEGIN = 1, /**< msg: topic, qos, retain, dup, packet_id, 5.0 props (views
                              valid during the call); msg->payload.ptr NULL and
                              msg->payload.len = total */
    KMQTT_PIECE_DATA,      /**< data / len: the next payload bytes, at offset (a view
                              valid during the call: write them out or copy them) */
    KMQTT_PIECE_END,       /**< the last byte was given: the QoS 1 PUBACK / QoS 2
                              PUBREC goes now, not before */
    KMQTT_PIECE_ABORT      /**< the connection ended before END (reported before the
                              state callback hears of it): offset bytes were given,
                              forget them. Nothing was acknowledged, so a QoS 1/2
                              message comes again, from byte 0, on a connection that
                              resumes the session */
} kmqtt_piece_kind_t;

/** One piece of a message larger than rx_buffer_size. */
typedef struct kmqtt_message_piece {
    kmqtt_piece_kind_t kind;    /**< which piece */
    const kmqtt_publish_t *msg; /**< BEGIN only, else NULL */
    const uint8_t *data;        /**< DATA: the bytes */
    size_t len;                 /**< DATA: their number (never 0) */
    size_t offset;              /**< DATA, ABORT: payload bytes before */
    size_t total;               /**< the whole payload's bytes */
    uint16_t packet_id;         /**< 0 at QoS 0 */
    uint8_t qos;                /**< the message's QoS */
} kmqtt_message_piece_t;

/** Receives messages larger than rx_buffer_size in pieces (option
 * on_message_piece): BEGIN, DATA..., END (or ABORT), in order, one message
 * at a time, on the thread that runs the loop. It runs while that thread
 * holds the receive buffer: it must not call blocking client functions
 * (kmqtt_subscribe, kmqtt_publish_wait, kmqtt_disconnect, ...);
 * kmqtt_publish is fine. */
typedef void (*kmqtt_message_piece_fn)(kmqtt_client_t *c, const kmqtt_message_piece_t *piece,
                                       void *ctx);

/** A QoS 1/2 publish completed: err KMQTT_OK with the broker's reason code
 * (0 in 3.1.1), or KMQTT_ECANCELED if it was dropped (clean session). */
typedef void (*kmqtt_publish_done_fn)(kmqtt_client_t *c, uint16_t packet_id, kmqtt_err_t err,
                                      uint8_t reason_code, void *ctx);

/** The connection state (kmqtt_client_state, kmqtt_state_fn). */
typedef enum kmqtt_conn_state {
    KMQTT_STATE_DISCONNECTED = 0, /**< never connected, or disconnected by the application */
    KMQTT_STATE_CONNECTING,       /**< connecting: TCP, TLS, CONNECT, waiting for CONNACK */
    KMQTT_STATE_CONNECTED,        /**< CONNACK accepted */
    KMQTT_STATE_CONNECTION_LOST,  /**< closed by the broker, the network or a protocol error */
    KMQTT_STATE_RECONNECTING      /**< lost; waiting out the backoff before the next attempt
                                     (automatic reconnect) */
} kmqtt_conn_state_t;

/** When the client reconnects by itself after a lost connection. */
typedef enum kmqtt_reconnect_mode {
    KMQTT_RECONNECT_DEFAULT = 0, /**< on while the background thread runs, off otherwise */
    KMQTT_RECONNECT_ON,          /**< also for kmqtt_run callers: kmqtt_run reconnects */
    KMQTT_RECONNECT_OFF          /**< never: a lost connection stays lost */
} kmqtt_reconnect_mode_t;

/** The connection state changed; err says why a connection was lost or a
 * connect failed (KMQTT_OK otherwise). */
typedef void (*kmqtt_state_fn)(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err,
                               void *ctx);

/** Store and forward: bytes of bookkeeping each queued message takes in the
 * offline queue, besides its topic and payload. */
#define KMQTT_QUEUE_ENTRY_OVERHEAD 12u

/** Store and forward: what the offline queue does when it is full. */
typedef enum kmqtt_queue_policy {
    KMQTT_QUEUE_REFUSE_NEW = 0, /**< kmqtt_publish returns KMQTT_EQUEUE_FULL; nothing is lost */
    KMQTT_QUEUE_DROP_OLDEST     /**< the oldest QoS 0 message is dropped, else the oldest one */
} kmqtt_queue_policy_t;

/** A queued message the queue policy dropped (err KMQTT_EDROPPED), or one
 * the session could never send (err KMQTT_ETOOBIG, e.g. larger than the
 * broker's maximum packet size). topic and payload are valid only during
 * the call. seq is the kmqtt_publish_result_t.queue_seq it got. */
typedef struct kmqtt_queue_drop {
    uint32_t seq;        /**< kmqtt_publish_result_t.queue_seq of the message */
    const char *topic;   /**< not NUL-terminated */
    size_t topic_len;    /**< bytes of topic */
    const void *payload; /**< the message */
    size_t payload_len;  /**< bytes of payload */
    uint8_t qos;         /**< its QoS */
    kmqtt_err_t err;     /**< KMQTT_EDROPPED or KMQTT_ETOOBIG */
} kmqtt_queue_drop_t;

/** Called with the client's lock held (the queue is being changed): it must
 * not call any kmqtt_ function on c. Copy what you need and return. */
typedef void (*kmqtt_queue_drop_fn)(kmqtt_client_t *c, const kmqtt_queue_drop_t *info, void *ctx);

/* ---------------------------------------------------------- MQTT 5.0 types
 * For clients with options.version KMQTT_V5 (see "One call per operation"
 * above for what a 3.1.1 client does with them). */

/** One user property (a name/value pair of UTF-8 strings, NUL-terminated
 * here; the same name may appear several times and order is kept). */
typedef struct kmqtt_user_prop {
    const char *name;  /**< UTF-8, NUL-terminated */
    const char *value; /**< UTF-8, NUL-terminated */
} kmqtt_user_prop_t;

/** User properties one packet the application sends may carry (PUBLISH,
 * SUBSCRIBE, UNSUBSCRIBE, DISCONNECT, AUTH): the property list is built on
 * the caller's stack. More is KMQTT_ELIMIT. */
#define KMQTT_USER_PROPS_MAX 16u

/** Properties of an outgoing PUBLISH (kmqtt_publish) or of the will
 * (options.will_props). Zeroed = none. */
typedef struct kmqtt_publish_props {
    uint8_t payload_format;              /**< 0 = bytes (property not sent), 1 = UTF-8: the payload
                                            is checked, KMQTT_EINVAL if it is not (3.3.2.3.2) */
    uint32_t message_expiry_s;           /**< 0 = does not expire (property not sent) */
    const char *content_type;            /**< NULL = none */
    const char *response_topic;          /**< NULL = none; a topic name, no wildcards */
    const void *correlation_data;        /**< NULL = none */
    size_t correlation_len;              /**< bytes of correlation_data */
    const kmqtt_user_prop_t *user_props; /**< user_prop_count entries, in order */
    size_t user_prop_count;              /**< entries in user_props */
    uint32_t will_delay_s;               /**< the will only: Will Delay Interval, 0 = not sent;
                                            KMQTT_EINVAL on kmqtt_publish */
} kmqtt_publish_props_t;

/** What a server-sent DISCONNECT said (5.0). The strings are views into the
 * receive buffer, valid only during the callback (not NUL-terminated). */
typedef struct kmqtt_disconnect_info {
    uint8_t reason_code;          /**< the server's reason code */
    kmqtt_str_t reason_string;    /**< ptr NULL = none */
    kmqtt_str_t server_reference; /**< ptr NULL = none */
} kmqtt_disconnect_info_t;

/** The server sent DISCONNECT. Called on the loop's thread BEFORE the state
 * callback reports KMQTT_STATE_CONNECTION_LOST (with err
 * KMQTT_EDISCONNECTED). The connection is ending: copy what you need and
 * return; do not call blocking client functions, kmqtt_disconnect or
 * kmqtt_client_destroy from here. */
typedef void (*kmqtt_disconnect_fn)(kmqtt_client_t *c, const kmqtt_disconnect_info_t *info,
                                    void *ctx);

/** Enhanced authentication (5.0): the server sent AUTH. reason_code is 0x18
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

/** Largest Authentication Data kmqtt_auth_fn may answer with (a stack buffer). */
#define KMQTT_AUTH_DATA_MAX 512u

/** Everything a client is created with; kmqtt_client_options_init sets the
 * defaults noted, kmqtt_client_create copies what it needs. */
typedef struct kmqtt_client_options {
    const char *host;         /**< default "localhost" */
    uint16_t port;            /**< default 1883 */
    const char *client_id;    /**< NULL or "" = "kmqtt-" and 12 random hex digits */
    kmqtt_version_t version;  /**< default KMQTT_V311 */
    uint16_t keepalive_s;     /**< default KMQTT_CFG_KEEPALIVE_S (60); 0 = off */
    bool clean_session;       /**< default true */
    const char *username;     /**< NULL = none */
    const void *password;     /**< NULL = none; binary */
    size_t password_len;      /**< bytes of password */
    bool has_will;            /**< send a will (the fields below) */
    const char *will_topic;   /**< topic the broker publishes the will to */
    const void *will_payload; /**< the will message */
    size_t will_payload_len;  /**< bytes of will_payload */
    uint8_t will_qos;         /**< QoS of the will, 0..2 */
    bool will_retain;         /**< retain the will */

    /* The defaults of these five are KMQTT_CFG_RX_BUFFER_SIZE, _TX_BUFFER_SIZE,
     * _STORE_SIZE, _MAX_INFLIGHT and _MAX_SUBSCRIPTIONS (kmqtt/config.h: 4096,
     * 4096, 8192, 20, 32 unless the firmware's configuration says otherwise). */
    size_t rx_buffer_size; /**< largest incoming packet; default KMQTT_CFG_RX_BUFFER_SIZE */
    size_t tx_buffer_size; /**< default KMQTT_CFG_TX_BUFFER_SIZE */
    size_t store_size; /**< bytes kept for unacked QoS 1/2 messages; default KMQTT_CFG_STORE_SIZE */
    uint16_t max_inflight;       /**< default KMQTT_CFG_MAX_INFLIGHT */
    uint16_t max_subscriptions;  /**< handlers kept; default KMQTT_CFG_MAX_SUBSCRIPTIONS */
    uint32_t connect_timeout_ms; /**< TCP connect + CONNACK; default KMQTT_CFG_CONNECT_TIMEOUT_MS */
    uint32_t publish_block_ms;   /**< how long kmqtt_publish waits for room in a full
                                    window (0 = return KMQTT_ELIMIT at once); default 0 */
    uint32_t retry_ms;           /**< 3.1.1 resend of unacked packets; default 0 (on reconnect) */

    /** Batched sending; default false. false: kmqtt_publish hands the packet
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

    /** Pipelined connect (default true, kmqtt_client_options_init): what
     * waits for the connection goes right behind the CONNECT, before the
     * CONNACK (MQTT 3.1.4; a server that refuses processes none of it,
     * MQTT-3.1.4-5): stored QoS 1/2 messages owed to the server and the QoS
     * 1/2 messages of the offline queue, within what the last CONNACK of
     * this server allowed (kept with the session and, with a store, across
     * restarts). The wake cycle of a device, in two round trips (TCP, then
     * CONNECT + PUBLISH -> CONNACK + PUBACK): with the offline queue on,
     * kmqtt_publish before kmqtt_connect queues the message; kmqtt_connect
     * sends it with the CONNECT and returns at the CONNACK, by when its
     * PUBACK has usually come too; kmqtt_publish_wait_all; kmqtt_disconnect.
     * QoS 0 messages wait for the CONNACK. An automatic reconnect with
     * clean_session (or with subscriptions still owed from the last
     * connection) sends the SUBSCRIBEs that restore the handlers' filters
     * there too; with a persistent session they wait for the CONNACK's
     * Session Present. A refused CONNECT leaves every message queued or
     * stored, and every subscription owed, for the next attempt. false:
     * nothing goes before the CONNACK. Ignored (off) with a 5.0
     * Authentication Method (MQTT-3.1.2-30). */
    bool pipeline_connect;

    /** Automatic reconnect after a lost connection (never after kmqtt_disconnect):
     * waits a random time in [d/2, d] with d doubling from reconnect_min_ms
     * up to reconnect_max_ms, back to the minimum once a connection has held
     * for reconnect_max_ms (so a broker that accepts and drops at once is not
     * hammered). After reconnecting, unacknowledged QoS 1/2 messages are resent (with DUP set if
     * the broker kept the session, MQTT-4.4.0-1) and, if the broker did not
     * keep the session, every subscription is made again. */
    kmqtt_reconnect_mode_t reconnect;
    uint32_t reconnect_min_ms; /**< default KMQTT_CFG_RECONNECT_MIN_MS (1000, as nano) */
    uint32_t reconnect_max_ms; /**< default KMQTT_CFG_RECONNECT_MAX_MS (60000, as nano) */
    /** Several brokers, tried in turn (each connect or reconnect attempt takes
     * the next after a failure): "host:port,host:port,[::1]:port". NULL = host
     * and port above. Copied at create; KMQTT_EINVAL if malformed. */
    const char *servers;

    kmqtt_message_fn on_message;           /**< messages no subscription handler took */
    kmqtt_publish_done_fn on_publish_done; /**< a QoS 1/2 publish completed; may be NULL */
    kmqtt_state_fn on_state;               /**< the connection state changed; may be NULL */
    void *ctx;                             /**< passed to the three callbacks above */

    kmqtt_mem_t *mem;                   /**< parent accounting context, optional */
    bool mem_debug;                     /**< the client's own context in debug mode */
    const kmqtt_transport_t *transport; /**< NULL = the port's TCP; the client owns it once
                                           create succeeds (and calls its destroy() at the
                                           end); if create fails the caller still owns it */

    /* store and forward */
    /** The offline queue: while the client is not connected (before the
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
    uint32_t offline_queue_max_msgs;           /**< 0 = no queue (default) */
    size_t offline_queue_max_bytes;            /**< the buffer; at most UINT32_MAX */
    kmqtt_queue_policy_t offline_queue_policy; /**< default KMQTT_QUEUE_REFUSE_NEW */
    kmqtt_queue_drop_fn on_queue_drop;         /**< optional; gets ctx above */
    /** Persistence (include/kmqtt/store.h), e.g. kmqtt_store_file_create.
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

    /** no-malloc: all memory from the application */
    /** One buffer the client takes every block from (an arena over it:
     * kmqtt_mem_arena_t), instead of malloc or mem, which are then not
     * used; memory_size bytes, at least kmqtt_client_memory_size(options).
     * The client owns it until kmqtt_client_destroy returns. Required in a
     * KMQTT_NO_MALLOC build. In this mode the subscription filters live in a
     * table made at create (max_subscriptions of max_filter_len bytes), so
     * subscribing allocates nothing and a filter longer than max_filter_len
     * is refused with KMQTT_ELIMIT. */
    void *memory;
    size_t memory_size;      /**< bytes at memory */
    uint16_t max_filter_len; /**< default KMQTT_CFG_MAX_FILTER_LEN (128) */

    /* ---- MQTT 5.0: used only when version is KMQTT_V5 ---- */
    uint32_t session_expiry_s;    /**< Session Expiry Interval; 0 = the session ends with the
                                     connection, 0xFFFFFFFF = never */
    uint16_t receive_maximum;     /**< QoS 1/2 the server may leave unacknowledged towards us;
                                     0 = max_inflight */
    uint32_t maximum_packet_size; /**< advertised (5.0) and enforced; 0 = rx_buffer_size,
                                     or with on_message_piece every size MQTT allows;
                                     more than rx_buffer_size is KMQTT_EINVAL without
                                     on_message_piece */
    uint16_t topic_alias_maximum; /**< inbound aliases we accept; 0 = none */
    bool request_response_info;   /**< ask for Response Information in CONNACK */
    bool no_problem_info;         /**< Request Problem Information 0: no reason strings or
                                     user properties on anything but PUBLISH, CONNACK and
                                     DISCONNECT (MQTT-3.1.2-29) */
    const kmqtt_user_prop_t *user_props;     /**< sent on CONNECT; copied at create */
    size_t user_prop_count;                  /**< entries in user_props */
    const kmqtt_publish_props_t *will_props; /**< NULL = none; copied at create (has_will) */
    kmqtt_disconnect_fn on_disconnect;       /**< server DISCONNECT; ctx as above */
    /** Outbound topic aliases, chosen automatically: a topic repeated on a
     * connection goes as a 2-byte alias (least recently used slot reused),
     * up to the smaller of topic_alias_out and the server's Topic Alias
     * Maximum; the table restarts empty on every connection. 0 = off. */
    uint16_t topic_alias_out;
    uint16_t alias_topic_len; /**< longest topic kept per alias slot (both directions);
                                 0 = 64 when either alias count is set */
    /** Enhanced authentication: Authentication Method (NULL = none) and the
     * first Authentication Data (may be NULL), sent on CONNECT; the server's
     * AUTH packets go to on_auth (ctx as above). Copied at create. */
    const char *auth_method;
    const void *auth_data; /**< the first Authentication Data (see auth_method) */
    size_t auth_data_len;  /**< bytes of auth_data */
    kmqtt_auth_fn on_auth; /**< the server's AUTH steps (see auth_method) */
    /** Send an empty Client Identifier and let the server assign one
     * (reported as kmqtt_connack_info_t.assigned_client_id). client_id is
     * then ignored. With session_expiry_s > 0 the first assigned id is kept
     * (up to KMQTT_ASSIGNED_ID_MAX bytes, reserved at create) and sent on
     * every later connect of this client, automatic or not, so the session
     * resumes (3.2.2.3.7); a longer one makes those connects fail with
     * KMQTT_ELIMIT. With session_expiry_s 0 every connection asks anew. */
    bool server_assigned_id;
    /** Follow a Server Reference (4.11): when a CONNACK or a server
     * DISCONNECT says Use Another Server (0x9C) or Server Moved (0x9D) and
     * names one, the next attempt goes to the first server it names
     * ("host", "host:port" or "[v6]:port"; no port = the port of the server
     * that sent it), once; later attempts go back to the server list. This
     * many redirects are followed in a row (an accepted CONNACK starts the
     * count again); beyond it, or with a reference that does not parse or
     * is longer than KMQTT_REDIRECT_HOST_MAX, the refusal or the loss is
     * reported as without the option. kmqtt_connect follows a refusing
     * CONNACK within its timeout; automatic reconnect after its backoff.
     * kmqtt_client_info names the referenced server while it is used.
     * 0 = off (default): the reference is only reported. */
    uint8_t redirect_max_hops;

    /** security limits
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
    size_t max_topic_len; /**< default KMQTT_CFG_MAX_TOPIC_LEN (config.h); 0 = that */

    /** Messages larger than the receive buffer, in pieces (issue #19). NULL
     * (default): a packet larger than rx_buffer_size ends the connection
     * (KMQTT_ETOOBIG), as above. Set: a PUBLISH larger than rx_buffer_size,
     * up to maximum_packet_size (0 = 268,435,460 bytes, every size MQTT
     * allows; 5.0 advertises it as Maximum Packet Size), goes to this
     * callback piece by piece (kmqtt_message_piece_fn) instead of to the
     * subscription handlers, whatever its topic; smaller messages still go
     * to the handlers whole. Its topic and properties must fit
     * rx_buffer_size, else the connection ends with KMQTT_ETOOBIG (5.0:
     * DISCONNECT 0x83). A QoS 1/2 message is acknowledged after END. ctx is
     * the ctx above. Needs KMQTT_CFG_STREAM (create gives
     * KMQTT_EUNSUPPORTED without). */
    kmqtt_message_piece_fn on_message_piece;
} kmqtt_client_options_t;

/** Bytes kmqtt_client_create needs in options.memory for o (the defaults
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

/** Fills o with the defaults above. */
void kmqtt_client_options_init(kmqtt_client_options_t *o);

/** Creates a client. Every string and buffer in o is copied: the caller's
 * memory is not used after this returns. Does not connect, does not block.
 * Returns KMQTT_OK and *out, KMQTT_EINVAL (an option out of range, an invalid
 * will topic), KMQTT_ENOMEM, or KMQTT_EIO (no entropy for a client id). On
 * failure nothing is left allocated. */
kmqtt_err_t kmqtt_client_create(const kmqtt_client_options_t *o, kmqtt_client_t **out);

/** Disconnects (if connected), stops the background thread (if any), and
 * frees everything. Must not be called from a handler of c. NULL is a no-op.
 * Blocks until done (bounded by a short flush of DISCONNECT). */
void kmqtt_client_destroy(kmqtt_client_t *c);

/** What the broker's CONNACK said (kmqtt_connect, kmqtt_client_connack). */
typedef struct kmqtt_connack_info {
    uint8_t reason_code;  /**< 3.1.1 return code or 5.0 reason code */
    bool session_present; /**< the broker kept a session for this client id */
    /* ---- 5.0 (zero in 3.1.1). Strings are NUL-terminated copies kept by the
     * client until the next connect attempt or destroy; NULL = not sent
     * (or longer than KMQTT_CONNACK_STR_MAX bytes together: then
     * strings_dropped is true). Absent capabilities read as the spec's
     * defaults (receive_maximum 65535, maximum_qos 2, the *_available true). */
    const char *reason_string;        /**< 5.0 Reason String; NULL = none */
    const char *assigned_client_id;   /**< 5.0 Assigned Client Identifier; NULL = none */
    const char *response_information; /**< 5.0 Response Information; NULL = none */
    const char *server_reference;     /**< 5.0 Server Reference; NULL = none */
    bool strings_dropped;        /**< the strings were longer than KMQTT_CONNACK_STR_MAX together */
    uint16_t server_keepalive_s; /**< 0 = the server did not override keepalive_s */
    bool has_session_expiry;     /**< the CONNACK carried a Session Expiry Interval */
    uint32_t session_expiry_s;   /**< the server's override of ours */
    uint16_t receive_maximum;    /**< 5.0 Receive Maximum (65535 if absent) */
    uint8_t maximum_qos;         /**< 5.0 Maximum QoS (2 if absent) */
    bool retain_available;       /**< 5.0 Retain Available (true if absent) */
    bool wildcard_available;     /**< 5.0 Wildcard Subscription Available */
    bool subscription_id_available; /**< 5.0 Subscription Identifiers Available */
    bool shared_available;          /**< 5.0 Shared Subscription Available */
    uint32_t maximum_packet_size;   /**< 0 = no limit */
    uint16_t topic_alias_maximum;   /**< 5.0 Topic Alias Maximum of the server (0 if absent) */
} kmqtt_connack_info_t;

/** Connects and waits for CONNACK up to timeout_ms (0 = the configured
 * connect_timeout_ms). Fills *info when a CONNACK arrived (info may be NULL).
 * Returns KMQTT_OK, KMQTT_ERESOLVE, KMQTT_ECONNREFUSED, KMQTT_ETIMEDOUT,
 * KMQTT_EREFUSED (CONNACK refusal; see info->reason_code), KMQTT_EPROTOCOL or
 * a codec error, KMQTT_ECANCELED (disconnect/destroy from another thread),
 * KMQTT_ESTATE (already connected). On failure the socket is closed. Blocks. */
kmqtt_err_t kmqtt_connect(kmqtt_client_t *c, uint32_t timeout_ms, kmqtt_connack_info_t *info);

/* ------------------------------------------------------------ DISCONNECT */

/** The 5.0 part of the DISCONNECT kmqtt_disconnect sends. Zeroed or NULL =
 * a normal disconnect without properties. */
typedef struct kmqtt_disconnect_props {
    uint8_t reason_code;       /**< 0 = normal; 0x04 = disconnect with will message */
    bool set_session_expiry;   /**< send session_expiry_s: a new Session Expiry Interval */
    uint32_t session_expiry_s; /**< 0 = the session ends now; non-zero when the CONNECT
                                  said 0 is KMQTT_EINVAL (3.14.2.2.2) */
    const char *reason_string; /**< NULL = none */
    const kmqtt_user_prop_t *user_props; /**< at most KMQTT_USER_PROPS_MAX, in order */
    size_t user_prop_count;              /**< entries in user_props */
} kmqtt_disconnect_props_t;

/** Sends DISCONNECT (best effort, briefly), closes the socket, stops the
 * background thread (unless called from it: it then ends as soon as the
 * handler returns), and wakes every blocked call with KMQTT_ECANCELED.
 * props: NULL for a normal disconnect, or the 5.0 reason code and
 * properties (checked first: on KMQTT_EINVAL, KMQTT_ELIMIT or
 * KMQTT_ENEEDV5 nothing is done and the connection stays). Returns KMQTT_OK
 * or KMQTT_ENOTCONN (there was no connection to end; the client is
 * disconnected all the same). Blocks until the socket is closed. */
kmqtt_err_t kmqtt_disconnect(kmqtt_client_t *c, const kmqtt_disconnect_props_t *props);

/** The connection state now. Never blocks (takes the client's lock briefly). */
kmqtt_conn_state_t kmqtt_client_state(kmqtt_client_t *c);

/* --------------------------------------------------------------- PUBLISH */

/** What kmqtt_publish did with the message. */
typedef struct kmqtt_publish_result {
    uint16_t packet_id; /**< QoS 1/2 handed to the session: its id, for kmqtt_publish_wait
                           and on_publish_done; 0 for QoS 0 and for a queued message
                           (it gets its id when it leaves the queue) */
    uint32_t queue_seq; /**< store and forward: the message's number in the offline queue
                           (kmqtt_queue_drop_t.seq), 0 = not queued */
} kmqtt_publish_result_t;

/** Publishes. props: NULL, or the PUBLISH's 5.0 properties (topic aliases
 * are never set here: options.topic_alias_out chooses them). res (may be
 * NULL) gets the packet id of a QoS 1/2 message; its completion comes by
 * on_publish_done and kmqtt_publish_wait.
 *
 * Store and forward: with the offline queue on (offline_queue_max_msgs), a
 * message that cannot be sent now (not connected, the window full, or
 * messages already waiting) is copied into the queue and sent in order
 * later: KMQTT_OK with res->queue_seq set, or KMQTT_EQUEUE_FULL (the queue
 * is full and its policy refuses new messages; nothing was queued) or
 * KMQTT_ETOOBIG (larger than the whole queue). The queue keeps topic and
 * payload only, so a message with properties is never queued: it gets
 * KMQTT_ENOTCONN while offline and KMQTT_ELIMIT while the queue is not
 * empty.
 *
 * Returns KMQTT_OK, KMQTT_ENOTCONN, KMQTT_EINVAL (bad topic, QoS;
 * payload_format 1 with a payload that is not UTF-8, a bad response topic,
 * will_delay_s set), KMQTT_ELIMIT (window full after publish_block_ms; more
 * than KMQTT_USER_PROPS_MAX user properties), KMQTT_ETOOBIG (never fits the
 * buffers; 5.0: larger than the server's Maximum Packet Size, nothing sent,
 * MQTT-3.2.2-15), KMQTT_EUNSUPPORTED (5.0: QoS above the server's Maximum
 * QoS, MQTT-3.2.2-11; retain while Retain Available is 0, MQTT-3.2.2-14),
 * KMQTT_ENEEDV5 (props on a 3.1.1 client). Does not allocate. Blocks
 * at most publish_block_ms. */
kmqtt_err_t kmqtt_publish(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                          uint8_t qos, bool retain, const kmqtt_publish_props_t *props,
                          kmqtt_publish_result_t *res);

/** Produces the payload of kmqtt_publish_reader: writes its bytes from
 * offset on into buf, at most len (never 0) of them, and returns how many
 * (at least 1), or a kmqtt_err_t < 0 (which ends the connection: the packet
 * is cut). Called with the client's lock held, on the thread that sends
 * (the caller of kmqtt_publish_reader, the background thread or a
 * kmqtt_run caller): it must not call the client, and should not block for
 * long. */
typedef long (*kmqtt_payload_reader_fn)(void *ctx, size_t offset, void *buf, size_t len);

/** Publishes a payload of total bytes that is never held whole (a firmware
 * image or a log file going up): the PUBLISH header is queued and read()
 * fills the send buffer with the payload as the transport takes it, so
 * tx_buffer_size needs room only for the header (and the store,
 * store_size, only for the header of a QoS 1/2 message). Nothing else is
 * sent inside the payload; the next publish waits for it like one that
 * finds the send buffer full. QoS 1/2: when the message must be sent again
 * after a reconnect that resumed the session, read() is called again from
 * offset 0 and must give the same bytes, so it must stay valid (with ctx)
 * until on_publish_done reports the message; a source that cannot be read
 * twice (a pipe) is for QoS 0. For QoS 0 read() and ctx must stay valid
 * until the payload has left (kmqtt_flush). At most KMQTT_READERS_MAX such
 * messages at once (KMQTT_ELIMIT beyond). Not queued offline, not
 * persisted by a store (store.h), no 5.0 properties, no topic alias.
 * Returns what kmqtt_publish does (KMQTT_ENOTCONN while not connected), and
 * KMQTT_EINVAL for a NULL read, KMQTT_EUNSUPPORTED without
 * KMQTT_CFG_STREAM. Blocks at most publish_block_ms, plus the time read()
 * takes to fill the send buffer once. */
kmqtt_err_t kmqtt_publish_reader(kmqtt_client_t *c, const char *topic, size_t total,
                                 kmqtt_payload_reader_fn read, void *ctx, uint8_t qos, bool retain,
                                 kmqtt_publish_result_t *res);

/** Messages from kmqtt_publish_reader unacknowledged at once. */
#define KMQTT_READERS_MAX 4u

/** Waits until the QoS 1/2 publish packet_id completes, up to timeout_ms.
 * The last 64 completions are remembered, so a publish acknowledged before
 * the wait began returns at once. Returns KMQTT_OK (and *reason_code if not
 * NULL), KMQTT_ETIMEDOUT, KMQTT_ENOTFOUND (neither in flight nor among the
 * recent completions), KMQTT_ECANCELED. Blocks. */
kmqtt_err_t kmqtt_publish_wait(kmqtt_client_t *c, uint16_t packet_id, uint32_t timeout_ms,
                               uint8_t *reason_code);

/** Waits until no QoS 1/2 publish is in flight, up to timeout_ms. Same
 * returns as kmqtt_publish_wait. Blocks. */
kmqtt_err_t kmqtt_publish_wait_all(kmqtt_client_t *c, uint32_t timeout_ms);

/* ------------------------------------------------ SUBSCRIBE / UNSUBSCRIBE */

/** Filters in one kmqtt_subscribe or kmqtt_unsubscribe (one packet; the
 * packet's filter array lives on the caller's stack). */
#define KMQTT_SUB_FILTERS_MAX 16u

/** One filter of kmqtt_subscribe. */
typedef struct kmqtt_sub_request {
    const char *filter;       /**< topic filter, NUL-terminated */
    uint8_t qos;              /**< maximum QoS, 0..2 */
    kmqtt_message_fn handler; /**< NULL = on_message */
    void *ctx;                /**< for handler */
} kmqtt_sub_request_t;

/** The 5.0 subscription options of one filter. Zeroed = the protocol
 * defaults. (Not in kmqtt_sub_request_t, so that a positional
 * {filter, qos, handler, ctx} initializer stays complete under
 * -Wmissing-field-initializers.) */
typedef struct kmqtt_sub_options {
    bool no_local;            /**< our own publishes are not sent back (MQTT-3.8.3-3);
                                 not allowed on a shared subscription (MQTT-3.8.3-4) */
    bool retain_as_published; /**< keep the RETAIN flag as published (MQTT-3.3.1-13) */
    uint8_t retain_handling;  /**< 0 = send retained at subscribe, 1 = only if the
                                 subscription is new, 2 = never */
} kmqtt_sub_options_t;

/** The 5.0 part of a SUBSCRIBE. Zeroed or NULL = none. */
typedef struct kmqtt_subscribe_props {
    const kmqtt_sub_options_t *options;  /**< one per filter, in the order of subs;
                                            NULL = the defaults for all */
    uint32_t subscription_id;            /**< 1..268435455, 0 = none; carried by the messages that
                                            match these filters (kmqtt_next_subscription_id) */
    const kmqtt_user_prop_t *user_props; /**< at most KMQTT_USER_PROPS_MAX, in order */
    size_t user_prop_count;              /**< entries in user_props */
} kmqtt_subscribe_props_t;

/** The properties of an UNSUBSCRIBE. Zeroed or NULL = none. */
typedef struct kmqtt_unsubscribe_props {
    const kmqtt_user_prop_t *user_props; /**< at most KMQTT_USER_PROPS_MAX, in order */
    size_t user_prop_count;              /**< entries in user_props */
} kmqtt_unsubscribe_props_t;

/** Bytes kept of a SUBACK / UNSUBACK Reason String in kmqtt_ack_result_t
 * (with its NUL). */
#define KMQTT_ACK_REASON_MAX 128u

/** What a SUBACK or UNSUBACK said: the result of kmqtt_subscribe and
 * kmqtt_unsubscribe. Only written by the call (cleared when it begins, so
 * it needs no initialising); nothing is kept after the call. */
typedef struct kmqtt_ack_result {
    /** One code per filter, in order. SUBACK: the granted QoS (0..2) or a
     * failure (0x80 and above). UNSUBACK in 5.0: 0x00 success, 0x11 no
     * subscription existed, 0x80 and above refused; 3.1.1 has no codes: all
     * read 0. */
    uint8_t reason_codes[KMQTT_SUB_FILTERS_MAX];
    bool has_reason;                          /**< 5.0: the ack carried a Reason String */
    size_t reason_len;                        /**< its length in bytes */
    char reason_string[KMQTT_ACK_REASON_MAX]; /**< a NUL-terminated copy if reason_len <
                                                 KMQTT_ACK_REASON_MAX, else "" (never cut) */
    size_t user_prop_count;                   /**< 5.0: how many User Properties the ack carried */
} kmqtt_ack_result_t;
/** What kmqtt_subscribe reports: one reason code per filter. */
typedef kmqtt_ack_result_t kmqtt_subscribe_result_t;
/** What kmqtt_unsubscribe reports: one reason code per filter (5.0). */
typedef kmqtt_ack_result_t kmqtt_unsubscribe_result_t;

/** Subscribes to n filters (at most KMQTT_SUB_FILTERS_MAX) in one SUBSCRIBE
 * and waits for SUBACK up to timeout_ms. res (may be NULL) gets the code of
 * each filter. Handlers are registered for the granted filters; a message
 * matching several subscriptions goes to each matching handler once, and to
 * on_message only when no handler matched. Shared subscriptions
 * ("$share/group/filter", 5.0) need no option: their messages go to the
 * handler whose filter part matches. The subscription options and the
 * Subscription Identifier are kept for subscribing again after a reconnect
 * the broker kept no session for; user properties are not.
 * Returns KMQTT_OK (all granted), KMQTT_ESUBFAIL (some refused; see
 * res->reason_codes), KMQTT_EINVAL (bad filter; retain_handling over 2,
 * no_local on a shared subscription, subscription_id out of range),
 * KMQTT_ELIMIT (max_subscriptions, more than KMQTT_SUB_FILTERS_MAX filters
 * or KMQTT_USER_PROPS_MAX user properties), KMQTT_EUNSUPPORTED (5.0: the
 * server's CONNACK said Wildcard, Shared or Subscription Identifier not
 * available: nothing is sent), KMQTT_ENEEDV5 (props on a 3.1.1 client),
 * KMQTT_ETIMEDOUT, KMQTT_ENOTCONN,
 * KMQTT_ECANCELED, KMQTT_ENOMEM. Blocks. */
kmqtt_err_t kmqtt_subscribe(kmqtt_client_t *c, const kmqtt_sub_request_t *subs, size_t n,
                            uint32_t timeout_ms, const kmqtt_subscribe_props_t *props,
                            kmqtt_subscribe_result_t *res);

/** Unsubscribes n filters (at most KMQTT_SUB_FILTERS_MAX), waits for
 * UNSUBACK, and removes their handlers (in 5.0 only those the UNSUBACK did
 * not refuse). res (may be NULL) gets the code of each filter. Returns
 * KMQTT_OK, KMQTT_ESUBFAIL (5.0: some code is 0x80 or above; those handlers
 * are kept), KMQTT_EINVAL, KMQTT_ELIMIT (user properties), KMQTT_ENEEDV5
 * (props on a 3.1.1 client), KMQTT_ETIMEDOUT, KMQTT_ENOTCONN,
 * KMQTT_ECANCELED. Blocks. */
kmqtt_err_t kmqtt_unsubscribe(kmqtt_client_t *c, const char *const *filters, size_t n,
                              uint32_t timeout_ms, const kmqtt_unsubscribe_props_t *props,
                              kmqtt_unsubscribe_result_t *res);

/* ----------------------------------------------------------------- loop */

/** One turn of the loop for callers that run it themselves: waits up to
 * timeout_ms for the network (0 = do not wait), then reads, handles packets
 * (calling handlers), sends and keeps the connection alive. With automatic
 * reconnect on (KMQTT_RECONNECT_ON), a lost connection is retried from here:
 * the turn sleeps out the backoff (within timeout_ms) and makes the attempt
 * (which may block up to connect_timeout_ms). Returns KMQTT_OK (also while
 * reconnecting), KMQTT_ENOTCONN (nothing to run), KMQTT_ESTATE (the
 * background thread runs it), or the error that just lost the connection
 * (KMQTT_ECLOSED, KMQTT_EKEEPALIVE, KMQTT_EPROTOCOL, ...). Blocks. */
kmqtt_err_t kmqtt_run(kmqtt_client_t *c, uint32_t timeout_ms);

/** Starts the background thread that runs the loop while connected. Returns
 * KMQTT_OK, KMQTT_ESTATE (already running) or KMQTT_ENOMEM / KMQTT_EIO. */
kmqtt_err_t kmqtt_start(kmqtt_client_t *c);

/** The client's own accounting context (statistics, live blocks). */
kmqtt_mem_t *kmqtt_client_mem(kmqtt_client_t *c);

/** What a console command shows of a client (RT-Thread msh `kmqtt`). The
 * strings point into the client and stay valid until it is destroyed. */
typedef struct kmqtt_client_info {
    const char *client_id;    /**< as sent in CONNECT (generated when none was given) */
    kmqtt_conn_state_t state; /**< the connection state */
    const char *host;         /**< the broker of the current, or else the next, attempt */
    uint16_t port;            /**< its port */
    kmqtt_version_t version;  /**< the protocol version */
    bool background;          /**< the kmqtt_start thread runs */
} kmqtt_client_info_t;

/** Fills *out under the client's lock. Returns KMQTT_OK or KMQTT_EINVAL.
 * Blocks while another thread holds the lock. */
kmqtt_err_t kmqtt_client_info(kmqtt_client_t *c, kmqtt_client_info_t *out);

/** The client whose own context is m: m must be one the client announced
 * through kmqtt_port_mem_register (the port's diagnostics registry); any
 * other m gives an invalid pointer. Never blocks. */
kmqtt_client_t *kmqtt_client_from_mem(kmqtt_mem_t *m);

/* ------------------------------------------------------ store and forward */

/** Messages in the offline queue now (not yet handed to the session). */
size_t kmqtt_queue_count(kmqtt_client_t *c);

/** Store and forward with options.store: what create read back from the
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
    uint32_t restored_inflight; /**< outbound QoS 1/2 flows put back in the session */
    uint32_t restored_queued;   /**< messages put back in the offline queue */
    uint32_t restored_inbound;  /**< inbound QoS 2 ids */
    uint32_t skipped;           /**< valid records not restored: unreadable now, or no room */
    uint32_t rejected;          /**< records that failed the checks above: removed, never sent */
    uint32_t store_errors;      /**< failed put/remove since create */
} kmqtt_persist_stats_t;

/** Copies c's persistence statistics into *out. Never blocks. */
void kmqtt_persist_stats(kmqtt_client_t *c, kmqtt_persist_stats_t *out);

/** Waits until everything published so far has left: the offline queue is
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

/* ------------------------------------------------------------- MQTT 5.0 */

/** Bytes kept for the CONNACK strings of kmqtt_connack_info_t (allocated at
 * create, 5.0 clients only). */
#define KMQTT_CONNACK_STR_MAX 512u
/** Longest server-assigned Client Identifier kept for reuse (bytes; reserved
 * at create by 5.0 clients with server_assigned_id and session_expiry_s). */
#define KMQTT_ASSIGNED_ID_MAX 128u
/** Longest host of a Server Reference followed (options.redirect_max_hops;
 * bytes, reserved at create by 5.0 clients with the option). */
#define KMQTT_REDIRECT_HOST_MAX 255u

/** The CONNACK of the current (or last) connection, including one made by
 * automatic reconnect. Returns KMQTT_OK, or KMQTT_ENOTCONN if no CONNACK has
 * arrived since create. Strings stay valid until the next connect attempt or
 * destroy. Does not block. */
kmqtt_err_t kmqtt_client_connack(kmqtt_client_t *c, kmqtt_connack_info_t *info);

/** 5.0: how many PUBRELs the server sent with a failure reason code since
 * create (0x92 Packet Identifier not found: the server no longer knew the
 * QoS 2 message our PUBREC answered). *last_reason (may be NULL) gets the
 * last such code, 0 if none. The client answers PUBCOMP all the same
 * (MQTT-4.3.3-2). Does not block. */
uint32_t kmqtt_client_pubrel_failures(kmqtt_client_t *c, uint8_t *last_reason);

/** During on_publish_done or on_auth (on the loop's thread) only: the
 * Reason String of the PUBACK / PUBREC / PUBCOMP or AUTH being reported, as
 * a view. Returns false when there is none (or when called from anywhere
 * else). */
bool kmqtt_client_reason_string(kmqtt_client_t *c, kmqtt_str_t *out);

/** The properties of the AUTH 0x19 kmqtt_reauthenticate sends. Zeroed or
 * NULL = none. */
typedef struct kmqtt_auth_props {
    const char *reason_string;           /**< NULL = none */
    const kmqtt_user_prop_t *user_props; /**< at most KMQTT_USER_PROPS_MAX, in order */
    size_t user_prop_count;              /**< entries in user_props */
} kmqtt_auth_props_t;

/** Re-authentication (5.0, a CONNECT with auth_method): sends AUTH 0x19 with
 * data and props (may be NULL) and waits up to timeout_ms for the server's
 * AUTH 0x00 (the steps between go through on_auth). Returns KMQTT_OK,
 * KMQTT_ENEEDV5 (a 3.1.1 client), KMQTT_ESTATE (no auth_method, one already
 * under way), KMQTT_ENOTCONN, KMQTT_ELIMIT (more than KMQTT_USER_PROPS_MAX
 * user properties), KMQTT_EINVAL (a string that is not UTF-8),
 * KMQTT_ETOOBIG (larger than the server's Maximum Packet Size or the send
 * buffer), KMQTT_ETIMEDOUT, KMQTT_EDISCONNECTED / KMQTT_ECLOSED (the server
 * ended the connection: re-authentication failed), KMQTT_ECANCELED.
 * Blocks. */
kmqtt_err_t kmqtt_reauthenticate(kmqtt_client_t *c, const void *data, size_t len,
                                 uint32_t timeout_ms, const kmqtt_auth_props_t *props);

/* ---- reading a received message's 5.0 properties (views into msg, valid
 * as long as msg is: during the handler). None allocate or block. */

/** Walks the user properties in order: kmqtt_prop_iter_init(&it, &msg->props)
 * then while (kmqtt_next_user_prop(&it, &name, &value)) ... */
bool kmqtt_next_user_prop(kmqtt_prop_iter_t *it, kmqtt_str_t *name, kmqtt_str_t *value);
/** Same for the Subscription Identifiers (one per matching subscription
 * that had one). */
bool kmqtt_next_subscription_id(kmqtt_prop_iter_t *it, uint32_t *id);
/** Each returns true and the value if the property is present. */
bool kmqtt_msg_content_type(const kmqtt_publish_t *msg, kmqtt_str_t *out);
/** Response Topic: true and its value if the property is present. */
bool kmqtt_msg_response_topic(const kmqtt_publish_t *msg, kmqtt_str_t *out);
/** Correlation Data: true and its value if the property is present. */
bool kmqtt_msg_correlation_data(const kmqtt_publish_t *msg, kmqtt_bin_t *out);
/** Message Expiry Interval: true and its seconds if the property is present. */
bool kmqtt_msg_message_expiry(const kmqtt_publish_t *msg, uint32_t *seconds);
/** Payload Format Indicator: 1 = UTF-8 (the payload was checked), 0 = bytes
 * or absent. */
uint8_t kmqtt_msg_payload_format(const kmqtt_publish_t *msg);

/** Request / response (5.0): subscribes to response_topic the first time
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
 * KMQTT_ENEEDV5 (a 3.1.1 client), kmqtt_subscribe's and kmqtt_publish's
 * errors. Must not be called from a handler. Blocks. */
kmqtt_err_t kmqtt_request(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                          uint8_t qos, const char *response_topic, uint32_t timeout_ms, void *reply,
                          size_t reply_cap, size_t *reply_len);

#ifdef __cplusplus
}
#endif
#endif
