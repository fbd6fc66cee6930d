/** @file
 * kmqtt session — the one MQTT protocol engine, without I/O.
 *
 * Every protocol rule of the library lives here once: what a CONNECT
 * carries and advertises, which ack answers which packet, the store of
 * unacknowledged QoS 1/2 messages and their resend with DUP after a
 * reconnect, packet ids, inbound QoS 2 (exactly once), keepalive, the 5.0
 * server capabilities and the DISCONNECT reason of an error. The clients
 * are drivers over it: kmqtt_nano_t (nano.h, non-blocking, one task) and,
 * in time, kmqtt_client_t (client.h, blocking and threaded).
 *
 * Sans-IO: bytes in (kmqtt_session_rx_space / _rx_commit), bytes out
 * (_tx_peek / _tx_consume), events out (_next_event, pull style), the next
 * deadline out (_tick). It never reads a clock (time is now_ms, a
 * free-running millisecond counter that may wrap at 2^32, compared
 * wrap-safely), never allocates (the caller gives every buffer and table)
 * and never blocks. The configuration is referenced, not copied: it may live
 * in flash and must outlive the session.
 *
 * The wire: inbound packets are parsed in place in rx with exact lengths
 * (strict: one error per violation, never a crash); outbound ones are
 * written field by field into tx, a byte queue, or for a QoS 1/2 PUBLISH into
 * its store record first. 5.0 property blocks travel raw (without their
 * length prefix), validated with the codec's rules.
 *
 * A packet whose answer does not fit tx stays in rx until tx drained, so
 * answers keep the order of what they answer (MQTT-4.6.0-2, MQTT-4.6.0-3).
 *
 * Not thread-safe: one thread (or the holder of one lock) calls it.
 */
#ifndef KMQTT_SESSION_H
#define KMQTT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/codec.h"
#include "kmqtt/config.h"
#include "kmqtt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What the engine needs to speak MQTT on a connection. Referenced by the
 * session (never copied): it must stay valid and unchanged while the
 * session is in use. kmqtt_session_config_init sets the defaults noted. */
typedef struct kmqtt_session_config {
    uint8_t version;             /**< KMQTT_V311 (default) or KMQTT_V5 */
    bool clean_session;          /**< default true; false keeps the session for resumption */
    uint16_t keepalive_s;        /**< default KMQTT_CFG_KEEPALIVE_S; 0 = off */
    const char *client_id;       /**< NUL-terminated; "" only with clean_session (MQTT-3.1.3-7) */
    const char *username;        /**< NULL = none */
    const uint8_t *password;     /**< NULL = none (binary, password_len bytes) */
    uint16_t password_len;       /**< bytes of password */
    const char *will_topic;      /**< NULL = no will */
    const uint8_t *will_payload; /**< the will message's payload */
    uint16_t will_payload_len;   /**< bytes of will_payload */
    uint8_t will_qos;            /**< 0..2 */
    bool will_retain;            /**< the will is retained */
    /** 5.0: the CONNECT's raw property block (without length prefix). The
     * engine adds Receive Maximum (the inbound QoS 2 table's size, unless the
     * 3.1.1 bitmap is used), Maximum Packet Size (rx's size) and Topic Alias
     * Maximum (the inbound alias slots, if any) itself, so the block must not
     * carry those. */
    const uint8_t *connect_props;
    size_t connect_props_len;  /**< bytes of connect_props */
    const uint8_t *will_props; /**< 5.0: the will's raw property block */
    size_t will_props_len;     /**< bytes of will_props */
    /** A PINGRESP must come within this long of its PINGREQ, else
     * kmqtt_session_tick gives KMQTT_EKEEPALIVE. 0 = half the keepalive in
     * force, at least a second (default KMQTT_CFG_PING_TIMEOUT_MS). */
    uint32_t ping_timeout_ms;
    /** 3.1.1 only (and KMQTT_CFG_RETRY): when nothing was acknowledged for
     * this long while messages are in flight, they are sent again on the
     * same connection, with DUP. 0 (default) = only after a reconnect, the
     * only resend 5.0 allows. */
    uint32_t retry_ms;
    /** Outbound QoS 1/2 messages at once (also bounded by the store and, in
     * 5.0, the server's Receive Maximum). Default KMQTT_CFG_MAX_INFLIGHT. */
    uint8_t max_inflight;
    /** Pipelined connect (default true): stored messages owed to the
     * server, and QoS 1/2 publishes, subscribes and unsubscribes made while
     * CONNECTING, go right behind the CONNECT, before the CONNACK (MQTT
     * 3.1.4 allows it; a server that refuses the CONNECT processes none of
     * them, MQTT-3.1.4-5), so a wake cycle takes one round trip less. The
     * first flight holds only what the last CONNACK from this server allowed
     * (kmqtt_session_restore_caps puts a persisted one back), or the
     * specification's defaults before one was seen; QoS 0 always waits for
     * the CONNACK (see kmqtt_session_publish). Off for a 5.0 CONNECT with an
     * Authentication Method, which may send nothing but AUTH before its
     * CONNACK (MQTT-3.1.2-30). false: nothing but CONNECT (and AUTH) before
     * the CONNACK. */
    bool pipeline;
    /** The largest inbound packet the application accepts. 0 (default) or
     * at most rx's size: rx's size, every packet arrives whole. Larger
     * (KMQTT_CFG_STREAM): a PUBLISH that does not fit rx but fits this comes
     * in pieces (KMQTT_SESSION_EV_MESSAGE_BEGIN, _CHUNK..., _END; see
     * kmqtt_session_next_event) while smaller packets still come whole. 5.0:
     * advertised as Maximum Packet Size (MQTT-3.1.2-24); a larger packet is
     * KMQTT_ETOOBIG in either version. At most 268,435,460 (the largest
     * packet MQTT can frame). */
    uint32_t max_packet_size;
} kmqtt_session_config_t;

/** One SUBSCRIBE / UNSUBSCRIBE awaiting its ack. Private. */
typedef struct kmqtt_session_request {
    uint16_t id;   /**< 0 = free */
    uint8_t unsub; /**< 1 for UNSUBSCRIBE */
    uint8_t count; /**< filters sent: the ack has one code each */
} kmqtt_session_request_t;

/** Bytes of the optional 3.1.1 inbound QoS 2 table: one bit per packet id. */
#define KMQTT_SESSION_INBOUND_BITS_SIZE 8192u

/** The caller's buffers and tables, used until the session is no longer used.
 *  rx:       the largest packet accepted whole (without max_packet_size
 *            above it: the largest accepted, 5.0: advertised as Maximum
 *            Packet Size; a larger one is KMQTT_ETOOBIG). With streaming on,
 *            the topic and properties of a PUBLISH must fit it.
 *  tx:       bytes waiting to be sent; the largest packet sent.
 *  store:    copies of unacknowledged QoS 1/2 PUBLISH packets (each its
 *            encoded size plus 8 bytes, rounded up to 4); NULL/0 for QoS 0 only.
 *  inbound:  inbound QoS 2 ids awaiting PUBREL (inbound_max of them; 5.0:
 *            advertised as Receive Maximum). NULL/0 with KMQTT_CFG_QOS2 off.
 *  inbound_bits: optional (KMQTT_CFG_INBOUND_BITS), 3.1.1 only:
 *            KMQTT_SESSION_INBOUND_BITS_SIZE bytes, one bit per packet id,
 *            used instead of inbound: never full, never forgets an id.
 *  requests: SUBSCRIBE / UNSUBSCRIBE awaiting their ack (max_requests >= 1).
 *  alias_*:  optional, 5.0 and KMQTT_CFG_TOPIC_ALIAS: topic alias slots of
 *            alias_topic_len topic bytes each. alias_in: alias_in_max slots of
 *            KMQTT_SESSION_ALIAS_IN_SLOT(len) bytes, advertised as Topic Alias
 *            Maximum; the application always sees the full topic. alias_out:
 *            alias_out_max slots of KMQTT_SESSION_ALIAS_OUT_SLOT(len) bytes;
 *            a topic sent again goes as its alias (up to the server's Topic
 *            Alias Maximum; the least recently used slot is reused; a topic
 *            longer than a slot goes without). Both start empty on every
 *            connection (MQTT-3.3.2-7). */
typedef struct kmqtt_session_buffers {
    uint8_t *rx;                       /**< receive buffer */
    size_t rx_size;                    /**< its bytes */
    uint8_t *tx;                       /**< send queue */
    size_t tx_size;                    /**< its bytes */
    uint8_t *store;                    /**< unacknowledged QoS 1/2 PUBLISH packets */
    size_t store_size;                 /**< its bytes */
    uint16_t *inbound;                 /**< inbound QoS 2 ids awaiting PUBREL */
    uint16_t inbound_max;              /**< entries of inbound */
    uint8_t *inbound_bits;             /**< 3.1.1 bitmap, or NULL */
    kmqtt_session_request_t *requests; /**< SUBSCRIBE / UNSUBSCRIBE awaiting ack */
    uint8_t max_requests;              /**< entries of requests */
    uint8_t *alias_in;                 /**< inbound topic alias slots, or NULL */
    uint16_t alias_in_max;             /**< slots of alias_in */
    uint8_t *alias_out;                /**< outbound topic alias slots, or NULL */
    uint16_t alias_out_max;            /**< slots of alias_out */
    uint16_t alias_topic_len;          /**< topic bytes a slot holds */
} kmqtt_session_buffers_t;

/** Bytes of one inbound alias slot holding topics of up to topic_len bytes. */
#define KMQTT_SESSION_ALIAS_IN_SLOT(topic_len) (2u + (size_t)(topic_len))
/** Bytes of one outbound alias slot holding topics of up to topic_len bytes. */
#define KMQTT_SESSION_ALIAS_OUT_SLOT(topic_len) (6u + (size_t)(topic_len))

/** Where a session is (kmqtt_session_state). */
typedef enum kmqtt_session_state {
    KMQTT_SESSION_IDLE = 0,   /**< no connection */
    KMQTT_SESSION_CONNECTING, /**< CONNECT queued, waiting for CONNACK */
    KMQTT_SESSION_CONNECTED,  /**< CONNACK accepted */
    KMQTT_SESSION_ENDED       /**< the connection is over (refused, server DISCONNECT, error):
                                 send what tx holds if you like, close, kmqtt_session_lost */
} kmqtt_session_state_t;

/** What a kmqtt_session_event_t reports, and which of its fields are set. */
typedef enum kmqtt_session_event_type {
    KMQTT_SESSION_EV_CONNACK = 1, /**< reason_code (0: accepted, now CONNECTED; else refused,
                                     ENDED), session_present, props (5.0) */
    KMQTT_SESSION_EV_MESSAGE,     /**< msg: an application message */
    KMQTT_SESSION_EV_PUBLISHED,   /**< an outbound QoS 1/2 message completed (PUBACK, PUBCOMP,
                                       or a 5.0 PUBREC with a failure reason): packet_id,
                                       reason_code, props; or was dropped with err set (see
                                       kmqtt_session_next_event) */
    KMQTT_SESSION_EV_SUBACK,      /**< packet_id; codes/count: one reason code per filter */
    KMQTT_SESSION_EV_UNSUBACK,    /**< packet_id; codes/count (5.0 only; 0 in 3.1.1) */
    KMQTT_SESSION_EV_AUTH,        /**< 5.0 AUTH: reason_code, props */
    KMQTT_SESSION_EV_DISCONNECT,  /**< 5.0 DISCONNECT from the server: reason_code, props;
                                       the session is ENDED */
    /* 8 and 9 are the nano client's own (CONNECT_FAILED, LOST). */
    /** A message too large for rx begins (max_packet_size above rx): msg with topic, qos,
     * retain, dup, packet_id, props, payload NULL and payload_len = total = the whole
     * payload's bytes. CHUNK events follow, then END (or ABORT). */
    KMQTT_SESSION_EV_MESSAGE_BEGIN = 10,
    /** The next piece of that payload: msg.payload/payload_len (a view into rx), offset
     * (bytes before it), total; msg.qos and msg.packet_id as at BEGIN. Pieces come in
     * order, without gap, never empty; their sizes follow what arrived. */
    KMQTT_SESSION_EV_MESSAGE_CHUNK = 11,
    /** The last piece was handed over: msg.qos, msg.packet_id, total. Only now is a
     * QoS 1 PUBACK / QoS 2 PUBREC queued (a QoS 2 id held until PUBREL). */
    KMQTT_SESSION_EV_MESSAGE_END = 12,
    /** The connection was lost between BEGIN and END (reported first by the next
     * kmqtt_session_next_event after kmqtt_session_lost): forget the pieces. msg.qos,
     * msg.packet_id, offset (bytes handed over), total. Nothing was acknowledged, so a
     * QoS 1/2 message comes again on the next connection that keeps the session. */
    KMQTT_SESSION_EV_MESSAGE_ABORT = 13
} kmqtt_session_event_type_t;

/** A message, outbound (the caller's) or inbound (views into rx). */
typedef struct kmqtt_session_msg {
    const char *topic;      /**< not NUL-terminated */
    uint16_t topic_len;     /**< bytes of topic */
    uint8_t qos;            /**< 0..2 */
    bool retain;            /**< the RETAIN flag */
    bool dup;               /**< inbound only */
    uint16_t packet_id;     /**< inbound only (0 at QoS 0) */
    const uint8_t *payload; /**< the application message */
    size_t payload_len;     /**< bytes of payload */
    /** 5.0: the PUBLISH property block, raw (without its length prefix).
     * NULL/0 = none; ignored in 3.1.1. */
    const uint8_t *props;
    size_t props_len; /**< bytes of props */
} kmqtt_session_msg_t;

/** One SUBSCRIBE filter: NUL-terminated, and its options byte (QoS 0..2; 5.0
 * also No Local 0x04, Retain As Published 0x08, Retain Handling << 4). */
typedef struct kmqtt_session_sub {
    const char *filter; /**< NUL-terminated topic filter */
    uint8_t options;    /**< QoS and 5.0 subscription options */
} kmqtt_session_sub_t;

/** An event; its views point into rx and stay valid until the next call of
 * kmqtt_session_next_event or kmqtt_session_rx_space. */
typedef struct kmqtt_session_event {
    kmqtt_session_event_type_t type; /**< what happened */
    kmqtt_err_t err;                 /**< KMQTT_SESSION_EV_PUBLISHED: why it was dropped, or 0 */
    uint16_t packet_id;              /**< the flow's packet id */
    uint8_t reason_code;             /**< CONNACK / ack / AUTH / DISCONNECT reason */
    bool session_present;            /**< CONNACK: the server kept the session */
    kmqtt_session_msg_t msg;         /**< KMQTT_SESSION_EV_MESSAGE */
    const uint8_t *codes;            /**< SUBACK / UNSUBACK reason codes */
    size_t count;                    /**< entries of codes */
    const uint8_t *props;            /**< 5.0 raw property block of the packet behind the event */
    size_t props_len;                /**< bytes of props */
    size_t offset;                   /**< MESSAGE_CHUNK / _ABORT: payload bytes before */
    size_t total;                    /**< MESSAGE_BEGIN / _CHUNK / _END / _ABORT: payload bytes */
} kmqtt_session_event_t;

/** Store and forward: a change worth persisting, reported to the change hook
 * as it happens (before the packet concerned can be sent). */
typedef enum kmqtt_session_change {
    KMQTT_SESSION_CH_PUBLISH = 1,  /**< a QoS 1/2 PUBLISH took packet_id; bytes, len: the
                                      encoded packet (DUP clear) */
    KMQTT_SESSION_CH_PUBREL,       /**< PUBREC came for packet_id: only PUBREL from now on */
    KMQTT_SESSION_CH_DONE,         /**< packet_id completed or dropped: forget it */
    KMQTT_SESSION_CH_INBOUND,      /**< inbound QoS 2 packet_id held until its PUBREL */
    KMQTT_SESSION_CH_RELEASED,     /**< inbound QoS 2 packet_id released (PUBREL, or forgotten
                                         as the oldest beyond the table: decision 6) */
    KMQTT_SESSION_CH_INBOUND_CLEAR /**< every inbound QoS 2 id forgotten (a new session) */
} kmqtt_session_change_t;

/** The change hook: what changed for packet_id; bytes/len with
 * KMQTT_SESSION_CH_PUBLISH only (valid during the call). */
typedef void (*kmqtt_session_change_fn)(void *ctx, kmqtt_session_change_t what, uint16_t packet_id,
                                        const uint8_t *bytes, size_t len);

/** Produces a payload sent in pieces (kmqtt_session_publish_reader): writes
 * the payload's bytes from offset on into buf, at most len (never 0) of
 * them, and returns how many it wrote (at least 1), or a kmqtt_err_t < 0.
 * packet_id names the message (0 at QoS 0). It runs inside the session call
 * that makes room in tx (kmqtt_session_publish_reader, _tx_consume) and
 * must not call back into the session. */
typedef long (*kmqtt_session_read_fn)(void *ctx, uint16_t packet_id, size_t offset, uint8_t *buf,
                                      size_t len);

/** The session. Declared so a driver can embed it; every field is private. */
typedef struct kmqtt_session {
    /** @cond PRIVATE */
    const kmqtt_session_config_t *cfg;
    uint8_t *rx;
    uint8_t *tx;
    uint8_t *store;
    uint16_t *inbound;
    uint8_t *inbound_bits;
    kmqtt_session_request_t *req;
#if KMQTT_CFG_OFFLINE_QUEUE
    kmqtt_session_change_fn change_fn;
    void *change_ctx;
#endif
    uint32_t rx_size, rx_len, rx_done; /**< rx_done: the packet last reported, dropped next */
    uint32_t tx_size, tx_start, tx_len;
    uint32_t store_size, store_used;
    uint32_t resend_off; /**< next store record to send again on this connection */
    uint32_t last_tx_ms, last_rx_ms, ping_sent_ms;
#if KMQTT_CFG_RETRY
    uint32_t last_ack_ms; /**< 3.1.1 retry: the last ack, or when the clock started */
#endif
    uint32_t server_max_packet; /**< 5.0 CONNACK Maximum Packet Size, 0 = none */
    uint32_t qos2_evictions;
    uint32_t unknown_acks;
#if KMQTT_CFG_V5
    uint32_t pubrel_failures; /**< server PUBRELs with a failure reason (0x92) */
    uint8_t pubrel_reason;    /**< the last one's reason */
#endif
    uint16_t keepalive_s; /**< in force (5.0: Server Keep Alive) */
    uint16_t next_id;
    uint16_t server_receive_max; /**< 5.0, 65535 if absent */
    uint16_t inbound_max, inbound_count;
    uint8_t max_requests;
    uint8_t inflight; /**< store records */
    uint8_t resent;   /**< store records before resend_off */
    uint8_t state;
    uint8_t flags;
    uint8_t server_max_qos;
#if KMQTT_CFG_V5 && KMQTT_CFG_TOPIC_ALIAS
    uint8_t *alias_in, *alias_out;
    uint16_t alias_in_max, alias_out_max, alias_topic_len;
    uint16_t alias_out_active; /**< the smaller of alias_out_max and the server's maximum */
    uint32_t alias_clock;      /**< last-use stamps of the outbound slots */
#endif
    uint8_t close_reason; /**< 5.0 DISCONNECT reason queued by the last protocol error */
    uint8_t early;        /**< CONNECTING with a pipelined first flight */
    uint8_t caps_seen;    /**< the server_* caps came from a CONNACK or a restore */
#if KMQTT_CFG_STREAM
    uint32_t max_in;              /**< the largest inbound packet (>= rx_size) */
    uint32_t st_left, st_total;   /**< a message in pieces: payload bytes to come, in all */
    uint16_t st_id;               /**< its packet id */
    uint8_t st_phase;             /**< 0 none, 1 handing over, 2 skipping (a QoS 2 copy) */
    uint8_t st_qos;               /**< its QoS */
    uint8_t st_cut;               /**< lost between BEGIN and END: ABORT owed */
    kmqtt_session_read_fn reader; /**< outbound payloads in pieces */
    void *reader_ctx;
    uint32_t so_left, so_total; /**< the one being sent: bytes to come, in all */
    uint16_t so_id;             /**< its packet id */
    int8_t so_err;              /**< the reader failed: the connection must end */
#endif
#if KMQTT_CFG_RETRY
    uint8_t retry_armed; /**< 3.1.1 retry: last_ack_ms counts */
#endif
    /** @endcond */
} kmqtt_session_t;

/** Fills c with the defaults noted in kmqtt_session_config_t. */
void kmqtt_session_config_init(kmqtt_session_config_t *c);

/** Sets up s (IDLE) over the caller's configuration and buffers, checking
 * them so nothing later fails on them: KMQTT_EINVAL for a NULL, an unknown
 * version, a will QoS over 2, a client id / username / will topic longer
 * than 65,535 bytes or not valid UTF-8, an empty client id without
 * clean_session, a 3.1.1 password without user name (MQTT-3.1.2-22), rx or
 * tx under 16 bytes, no request slot, 5.0 property blocks that are malformed
 * or carry what the engine sets itself; KMQTT_EUNSUPPORTED for 5.0 in a
 * build without it; KMQTT_ENOBUFS when the CONNECT does not fit tx. */
kmqtt_err_t kmqtt_session_init(kmqtt_session_t *s, const kmqtt_session_config_t *cfg,
                               const kmqtt_session_buffers_t *b);

/** Begins a connection on a freshly opened transport: drops any received or
 * unsent bytes and queues CONNECT, written from the configuration as it is
 * now (a driver may change its client id while IDLE). Returns KMQTT_OK,
 * KMQTT_ESTATE (not IDLE) or KMQTT_ENOBUFS (the CONNECT no longer fits tx). */
kmqtt_err_t kmqtt_session_start(kmqtt_session_t *s, uint32_t now_ms);

/** The connection is over, whatever the reason: back to IDLE, unsent and
 * unread bytes dropped (rx keeps its contents, so views of the last event
 * stay readable until bytes are received again), requests awaiting their
 * ack forgotten. Unacknowledged QoS 1/2 messages stay in the store for the
 * next connection. */
void kmqtt_session_lost(kmqtt_session_t *s);

/* ------------------------------------------------------------------ bytes */

/** Where received bytes go: returns the place and sets *space (0 when rx is
 * full of a packet still waiting for room in tx). Drops the packet of the
 * last event, so its views end. */
uint8_t *kmqtt_session_rx_space(kmqtt_session_t *s, size_t *space);

/** n bytes were written at the place kmqtt_session_rx_space gave. */
void kmqtt_session_rx_commit(kmqtt_session_t *s, size_t n, uint32_t now_ms);

/** The bytes waiting to be sent, contiguous: returns their number, sets *buf. */
size_t kmqtt_session_tx_peek(const kmqtt_session_t *s, const uint8_t **buf);

/** n of them were taken by the transport. Queues stored messages still owed
 * to this connection as room appears. */
void kmqtt_session_tx_consume(kmqtt_session_t *s, size_t n, uint32_t now_ms);

/** Takes the next whole packet in rx, applies the protocol rules, queues its
 * answer and reports what the application should know. Returns:
 *  KMQTT_OK         *ev is filled (views valid until the next call here or
 *                   of kmqtt_session_rx_space);
 *  KMQTT_NEED_MORE  nothing to report until more bytes arrive, or until tx
 *                   drains (a packet whose answer does not fit waits);
 *  < 0              the server broke the protocol or sent a malformed packet:
 *                   the error names the rule; in 5.0 a DISCONNECT with its
 *                   reason (0x81, 0x82, 0x93, 0x94, 0x95) was queued when tx
 *                   had room. The session is ENDED.
 * Besides the packets' own events it reports, after a CONNACK, each stored
 * message the new connection will not carry, as KMQTT_SESSION_EV_PUBLISHED
 * with err: a QoS 2 message whose PUBREL was due when the session was not
 * found (KMQTT_OK: the server released it and kept nothing), and in 5.0 a
 * PUBLISH larger than the server's Maximum Packet Size (KMQTT_ETOOBIG,
 * MQTT-3.2.2-15) or above its Maximum QoS (KMQTT_EUNSUPPORTED,
 * MQTT-3.2.2-11), never sent. A PUBREL answered 0x92 gives KMQTT_ENOTFOUND.
 *
 * Messages in pieces (max_packet_size above rx, KMQTT_CFG_STREAM): a PUBLISH
 * larger than rx is reported as it arrives: MESSAGE_BEGIN once its topic and
 * properties are in rx, MESSAGE_CHUNK for each run of payload bytes received
 * (a chunk's view ends at the next call, so copy or write it out), then
 * MESSAGE_END. The QoS 1 PUBACK / QoS 2 PUBREC is queued at END, after the
 * last piece was handed over (and END waits, like any packet, until tx has
 * room for it); a QoS 2 copy whose id is held is read past without events
 * and answered PUBREC (MQTT-4.3.3-2). A connection lost in between gives
 * MESSAGE_ABORT at the next call, before anything else. The topic, packet id
 * and properties must fit rx: if they do not, KMQTT_ETOOBIG and in 5.0
 * DISCONNECT 0x83 Implementation specific error (the packet is within the
 * Maximum Packet Size advertised, so 0x95 would be untrue); nothing was
 * reported of that message. A 5.0 Payload Format Indicator 1 is not checked
 * on a payload in pieces (3.3.2.3.2 lets a receiver validate, it need not):
 * the application has it in props. */
kmqtt_err_t kmqtt_session_next_event(kmqtt_session_t *s, uint32_t now_ms,
                                     kmqtt_session_event_t *ev);

/* ------------------------------------------------------------------- time */

/** Does what is due at now_ms: a PINGREQ when nothing was sent or nothing
 * received for the keepalive; queues stored messages owed to the connection.
 * Sets *next_ms (if not NULL) to how long until tick has something to do
 * (UINT32_MAX: nothing). Returns KMQTT_OK, or KMQTT_EKEEPALIVE when a
 * PINGREQ got no PINGRESP within the ping timeout (the session is ENDED). */
kmqtt_err_t kmqtt_session_tick(kmqtt_session_t *s, uint32_t now_ms, uint32_t *next_ms);

/* --------------------------------------------------------------- requests */

/** Queues a PUBLISH. QoS 1/2 get a packet id (*packet_id, may be NULL), a copy
 * in the store and a KMQTT_SESSION_EV_PUBLISHED later. While CONNECTING with
 * a pipelined first flight (kmqtt_session_config_t.pipeline) a QoS 1/2
 * message within the caps of the last CONNACK goes behind the CONNECT; if
 * the CONNACK refuses, it stays stored for the next connection. Returns
 * KMQTT_OK, KMQTT_ENOTCONN (not CONNECTED; while CONNECTING: QoS 0, which
 * waits for the CONNACK so a refused connection never swallows a message
 * reported sent, no pipelining, or outside the last CONNACK's caps: retry
 * once CONNECTED), KMQTT_EINVAL (NULL, QoS over 2, topic
 * empty, with wildcards, over 65,535 bytes or not UTF-8: MQTT-3.3.2-2,
 * MQTT-1.5.3-1; malformed 5.0 props, a Topic Alias or a Subscription
 * Identifier in them: MQTT-3.3.4-6), KMQTT_EUNSUPPORTED (QoS 2 built out;
 * 5.0: over the server's Maximum QoS, MQTT-3.2.2-11, retain when Retain
 * Available is 0, MQTT-3.2.2-14), KMQTT_ETOOBIG (bigger than tx, QoS 1/2
 * bigger than the whole store, or 5.0 than the server's Maximum Packet Size,
 * MQTT-3.2.2-15), KMQTT_ELIMIT
 * (max_inflight or the server's Receive Maximum reached, MQTT-3.3.4-7, or no
 * room in the store: retry after a PUBLISHED event), KMQTT_ENOBUFS (no room
 * in tx now, or stored messages still wait to be sent again: retry after tx
 * drained). Nothing is queued on any error. */
kmqtt_err_t kmqtt_session_publish(kmqtt_session_t *s, const kmqtt_session_msg_t *msg,
                                  uint16_t *packet_id);

/** Sets (fn NULL: clears) the reader of payloads sent in pieces. */
void kmqtt_session_set_reader(kmqtt_session_t *s, kmqtt_session_read_fn fn, void *ctx);

/** Queues a PUBLISH whose payload (msg->payload NULL, msg->payload_len its
 * bytes in all) is never held whole: its header goes into tx, then the
 * reader set with kmqtt_session_set_reader fills tx with the payload as the
 * transport takes bytes (_tx_consume), so tx needs room only for the
 * header. Nothing else enters tx until the payload is complete (acks and
 * PINGREQ wait, as they do when tx is full). A QoS 1/2 message keeps only
 * its header in the store; when it must be sent again after a reconnect,
 * the reader is asked again for the same packet_id from offset 0 and must
 * give the same bytes (a reader that cannot, e.g. a pipe, must publish at
 * QoS 0). Such a message is not reported to the change hook (store and
 * forward does not persist it). A reader error, or a return of 0 or more
 * than asked, cuts the packet: the session is ENDED and the next
 * kmqtt_session_next_event returns the error (KMQTT_EIO for a bad count);
 * close the connection. Returns what kmqtt_session_publish does, with the
 * sizes counted as the whole packet for the server's Maximum Packet Size
 * and the header's for tx and the store, and KMQTT_EINVAL without a reader
 * or with msg->payload set; KMQTT_ENOBUFS while another payload is being
 * sent; KMQTT_EUNSUPPORTED without KMQTT_CFG_STREAM. No topic alias is
 * used for it. */
kmqtt_err_t kmqtt_session_publish_reader(kmqtt_session_t *s, const kmqtt_session_msg_t *msg,
                                         uint16_t *packet_id);

/** Queues a SUBSCRIBE of count filters (5.0: with the raw property block
 * props; NULL/0 = none). KMQTT_SESSION_EV_SUBACK follows with *packet_id.
 * While CONNECTING with a pipelined first flight it goes behind the CONNECT;
 * a refused CONNACK means it was not processed (no SUBACK comes).
 * Returns KMQTT_OK, KMQTT_ENOTCONN, KMQTT_EINVAL (no filter or more than 255,
 * an invalid filter: MQTT-4.7.1-2/-3; options with reserved bits or, in
 * 3.1.1, anything but QoS; No Local on a shared subscription, MQTT-3.8.3-4),
 * KMQTT_EUNSUPPORTED (QoS 2 built out; 5.0: a wildcard, shared or identified
 * subscription the server said it lacks), KMQTT_ETOOBIG, KMQTT_ENOBUFS,
 * KMQTT_ELIMIT (every request slot awaits its ack). The ack must match the
 * request (id, kind, one code per filter: MQTT-3.9.3-1, MQTT-3.11.3-1), else
 * it is KMQTT_EPROTOCOL. */
kmqtt_err_t kmqtt_session_subscribe(kmqtt_session_t *s, const kmqtt_session_sub_t *subs,
                                    size_t count, const uint8_t *props, size_t props_len,
                                    uint16_t *packet_id);

/** Queues an UNSUBSCRIBE of count filters; KMQTT_SESSION_EV_UNSUBACK follows.
 * Errors as kmqtt_session_subscribe. */
kmqtt_err_t kmqtt_session_unsubscribe(kmqtt_session_t *s, const char *const *filters, size_t count,
                                      const uint8_t *props, size_t props_len, uint16_t *packet_id);

/** 5.0: queues AUTH (reason 0x18 continue, also while CONNECTING, or 0x19
 * re-authenticate, only while CONNECTED: MQTT-4.12.1-1) with the raw
 * property block props, which must carry the CONNECT's Authentication
 * Method (MQTT-4.12.0-5, 3.15). The exchange's pacing (one
 * re-authentication at a time, a 0x18 only in answer to the server's) is the
 * driver's. Returns KMQTT_OK, KMQTT_ENOTCONN, KMQTT_ESTATE (the CONNECT had
 * no Authentication Method: MQTT-3.1.2-30 allows no AUTH then; 0x19 before
 * the CONNACK), KMQTT_EINVAL (other reason, malformed
 * props, another or no method), KMQTT_ETOOBIG (over the server's Maximum
 * Packet Size, MQTT-3.2.2-15), KMQTT_ENOBUFS, or KMQTT_EUNSUPPORTED in
 * 3.1.1 or a build without 5.0. */
kmqtt_err_t kmqtt_session_auth(kmqtt_session_t *s, uint8_t reason, const uint8_t *props,
                               size_t props_len);

/** Queues DISCONNECT (5.0: with reason, 0x04 keeps the will, and the raw
 * property block props; both ignored in 3.1.1); the session is then ENDED:
 * nothing more is queued (MQTT-3.14.4-1). Returns KMQTT_OK, KMQTT_ENOTCONN
 * (not CONNECTING or CONNECTED), KMQTT_EINVAL (malformed props; a non-zero
 * Session Expiry Interval when the CONNECT's was 0 or absent, a Protocol
 * Error by 3.14.2.2.2), KMQTT_ETOOBIG (with props, over the server's Maximum
 * Packet Size, MQTT-3.2.2-15) or KMQTT_ENOBUFS (no room in tx now). The driver sends what tx holds,
 * closes and calls kmqtt_session_lost. */
kmqtt_err_t kmqtt_session_disconnect(kmqtt_session_t *s, uint8_t reason, const uint8_t *props,
                                     size_t props_len);

/* ------------------------------------------------------ store and forward */

/** Sets (fn NULL: clears) the hook that hears of every change worth
 * persisting. fn runs inside the session call that made the change and
 * must not call back into s. Store and forward is KMQTT_CFG_OFFLINE_QUEUE:
 * without it the hook is never called and the restores below give
 * KMQTT_EUNSUPPORTED. */
void kmqtt_session_set_change_hook(kmqtt_session_t *s, kmqtt_session_change_fn fn, void *ctx);

/** Puts back an outbound QoS 1/2 message persisted earlier, after the records
 * already held (call in the order they were made): packet_id as before,
 * bytes/len the encoded PUBLISH (with pubrel, NULL/0: its PUBREC had come, so
 * only PUBREL is sent again). Only while IDLE. The PUBLISH is read as any
 * received packet is before it is trusted (DESIGN rule 7): exactly one QoS
 * 1/2 PUBLISH with packet_id, in the session's version, nothing after it, its
 * topic in full (5.0: no Topic Alias, no Subscription Identifier). Returns
 * KMQTT_OK, KMQTT_ESTATE, KMQTT_EINVAL (id 0 or in use), KMQTT_ESTORE (the
 * bytes are not such a PUBLISH: nothing was taken), KMQTT_EUNSUPPORTED (QoS 2
 * in a build without it), KMQTT_ELIMIT (max_inflight records) or
 * KMQTT_ENOBUFS (the store is full). */
kmqtt_err_t kmqtt_session_restore(kmqtt_session_t *s, uint16_t packet_id, bool pubrel,
                                  const uint8_t *bytes, size_t len);

/** Puts back an inbound QoS 2 packet id that awaited its PUBREL when it was
 * persisted, so a PUBLISH sent again with it is answered but not delivered
 * again (MQTT-4.3.3-2). Only while IDLE. Returns KMQTT_OK, KMQTT_ESTATE,
 * KMQTT_EINVAL (id 0; QoS 2 built out) or KMQTT_ELIMIT (the table is full). */
kmqtt_err_t kmqtt_session_restore_inbound(kmqtt_session_t *s, uint16_t packet_id);

/** Forgets every outbound message and inbound QoS 2 id (a clean session the
 * application asked for). Each forgotten outbound message is reported by
 * kmqtt_session_next_event as KMQTT_SESSION_EV_PUBLISHED with err
 * KMQTT_ECANCELED. Only while IDLE: KMQTT_ESTATE otherwise. */
kmqtt_err_t kmqtt_session_clear(kmqtt_session_t *s);

/* ---------------------------------------------------------------- helpers */

/** Reconnect backoff with jitter, for the drivers: returns the wait before
 * the next attempt, in [d/2, d] where d is *ceiling_ms, chosen by random (any
 * 32 random bits), and doubles *ceiling_ms up to max_ms. The driver resets
 * *ceiling_ms to its minimum when a connection succeeds. */
uint32_t kmqtt_session_backoff(uint32_t *ceiling_ms, uint32_t max_ms, uint32_t random);

/* ---------------------------------------------------------------- getters */

/** What the server's CONNACK allows (5.0; the defaults of absent properties,
 * and in 3.1.1 the defaults). */
typedef struct kmqtt_session_caps {
    uint16_t receive_max;     /**< 65535 if absent */
    uint8_t max_qos;          /**< 2 if absent */
    bool retain_available;    /**< true if absent, like the three below */
    bool wildcard_available;  /**< Wildcard Subscription Available */
    bool subid_available;     /**< Subscription Identifiers Available */
    bool shared_available;    /**< Shared Subscription Available */
    uint32_t max_packet_size; /**< 0 = no limit */
    uint16_t keepalive_s;     /**< the keepalive in force (MQTT-3.2.2-21) */
    /** These came from a CONNACK (or kmqtt_session_restore_caps); false:
     * the specification's defaults. */
    bool seen;
} kmqtt_session_caps_t;

/** Fills *out with what the last CONNACK said (defaults before one came).
 * They stay after the connection ends: a driver persists them (when seen)
 * so the first flight of the next pipelined connect, perhaps in another
 * process, holds no more than this server allowed. */
void kmqtt_session_server_caps(const kmqtt_session_t *s, kmqtt_session_caps_t *out);

/** Puts back what a CONNACK from this server allowed, as
 * kmqtt_session_server_caps gave it (keepalive_s and seen are not read):
 * the first flight of a pipelined connect holds no more than that (Maximum
 * QoS, Maximum Packet Size, Receive Maximum, Retain Available; the
 * subscription caps too). The next CONNACK replaces them. Only while IDLE.
 * Returns KMQTT_OK, KMQTT_EINVAL (NULL, max_qos over 2, receive_max 0) or
 * KMQTT_ESTATE. */
kmqtt_err_t kmqtt_session_restore_caps(kmqtt_session_t *s, const kmqtt_session_caps_t *caps);

/** Where s is (IDLE, CONNECTING, CONNECTED, ENDED). */
kmqtt_session_state_t kmqtt_session_state(const kmqtt_session_t *s);

/** True between a MESSAGE_BEGIN and its END: a message in pieces is being
 * handed over. A driver asks before kmqtt_session_lost to know an ABORT
 * will follow. Always false without KMQTT_CFG_STREAM. */
bool kmqtt_session_in_pieces(const kmqtt_session_t *s);

/** Outbound QoS 1/2 messages not yet complete (in the store). */
size_t kmqtt_session_inflight(const kmqtt_session_t *s);

/** Bytes of the store in use. */
size_t kmqtt_session_store_used(const kmqtt_session_t *s);

/** Inbound QoS 2 ids forgotten because more than inbound_max awaited their
 * PUBREL at once (the oldest goes), since init. */
size_t kmqtt_session_qos2_evictions(const kmqtt_session_t *s);

/** 5.0: the reason of the DISCONNECT the session queued when
 * kmqtt_session_next_event last failed (0x81, 0x82, 0x93, 0x94, 0x95), or 0. */
uint8_t kmqtt_session_close_reason(const kmqtt_session_t *s);

/** PUBACK / PUBREC / PUBCOMP received for a packet id no record holds
 * (ignored), since init. */
size_t kmqtt_session_unknown_acks(const kmqtt_session_t *s);

/** 5.0: server PUBRELs that carried a failure reason (0x92 Packet
 * Identifier not found, 3.6.2.1) since init; *last_reason (if not NULL)
 * gets the last one's code, 0 if none. The flow is still completed with
 * PUBCOMP (MQTT-4.3.3-2). 0 in 3.1.1. */
size_t kmqtt_session_pubrel_failures(const kmqtt_session_t *s, uint8_t *last_reason);

#ifdef __cplusplus
}
#endif
#endif
