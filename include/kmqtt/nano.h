/** @file
 * kmqtt nano — the microcontroller client.
 *
 * A second client beside kmqtt_client_t (client.h), for a device whose whole
 * MQTT budget is a few kilobytes of flash and a few hundred bytes of RAM:
 *  - one task: no threads, no locks, no allocation. The caller owns the
 *    client structure, its buffers and its configuration (referenced, not
 *    copied: both must outlive the client);
 *  - non-blocking: kmqtt_nano_poll() does what is due (send, receive, acks,
 *    keepalive, reconnect) and says how long the caller may sleep. Only
 *    opening a connection blocks, inside the transport's open();
 *  - time is an argument (now_ms, a free-running millisecond counter that
 *    may wrap at 2^32): the client never reads a clock;
 *  - the same transports as the full client (port.h: the port's TCP, TLS,
 *    WebSocket), of which it calls only open, send, recv, wait and close;
 *  - MQTT 3.1.1 and, when built with KMQTT_CFG_V5, 5.0; QoS 0/1/2 (QoS 2
 *    when built with KMQTT_CFG_QOS2); reconnect with backoff; session
 *    resumption: unacknowledged QoS 1/2 messages are kept in the caller's
 *    store buffer and sent again, in order, with DUP set, after a reconnect
 *    that finds the session (MQTT-4.4.0-1, MQTT-4.6.0-1).
 *
 * What it leaves to the caller, unlike kmqtt_client_t: subscriptions are not
 * remembered (after a CONNECTED event whose session_present is false the
 * caller subscribes again); nothing is queued while offline (publish gives
 * KMQTT_ENOTCONN); SUBSCRIBE / UNSUBSCRIBE are not sent again after a loss.
 *
 * Not thread-safe: one task calls every function of one client. The event
 * callback runs inside these calls and may call kmqtt_nano_publish,
 * _subscribe, _unsubscribe and _disconnect on the same client.
 */
#ifndef KMQTT_NANO_H
#define KMQTT_NANO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/codec.h"
#include "kmqtt/config.h"
#include "kmqtt/error.h"
#include "kmqtt/port.h"
#include "kmqtt/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Inbound QoS 2 packet ids held between PUBLISH and PUBREL, for exactly once
 * delivery (MQTT-4.3.3). In 5.0 the client advertises this as its Receive
 * Maximum; a server must not send more at once (MQTT-3.3.4-9), but
 * mosquitto 2.0 counts its quota back at PUBREC, not PUBCOMP, and does.
 * When the table is full the client forgets the OLDEST id (its PUBREC went
 * out first, so the server answers it with PUBREL, not with the PUBLISH
 * again) and holds the new one, counting it (kmqtt_nano_qos2_evictions)
 * instead of ending the connection. In 5.0 it sends no DISCONNECT 0x93
 * either: 3.3.4 says the receiver "uses" DISCONNECT 0x93, a sentence with
 * no normative id (MQTT-3.3.4-9 binds the sender), and tolerating it keeps
 * the client working with mosquitto. */
#ifndef KMQTT_NANO_INBOUND_QOS2
#define KMQTT_NANO_INBOUND_QOS2 4
#endif

/** SUBSCRIBE / UNSUBSCRIBE requests awaiting their SUBACK / UNSUBACK at once
 * (each kept as id, kind and number of filters, 4 bytes); one more gives
 * KMQTT_ELIMIT. */
#ifndef KMQTT_NANO_MAX_REQUESTS
#define KMQTT_NANO_MAX_REQUESTS 2
#endif

/** Where a nano client is (kmqtt_nano_state). */
typedef enum kmqtt_nano_state {
    KMQTT_NANO_IDLE = 0,   /**< not connected and not trying (init, or after disconnect) */
    KMQTT_NANO_WAITING,    /**< connection lost; the next attempt is due at a set time */
    KMQTT_NANO_CONNECTING, /**< CONNECT sent, waiting for CONNACK */
    KMQTT_NANO_CONNECTED   /**< CONNACK accepted */
} kmqtt_nano_state_t;

/** What a kmqtt_nano_event_t reports, and which of its fields are set. */
typedef enum kmqtt_nano_event_type {
    KMQTT_NANO_EV_CONNECTED = KMQTT_SESSION_EV_CONNACK, /**< CONNACK accepted: session_present;
                                                           props (5.0) */
    KMQTT_NANO_EV_CONNECT_FAILED = 8, /**< an attempt failed: err (KMQTT_EREFUSED with
                                     reason_code = the CONNACK code, a transport error,
                                     KMQTT_ETIMEDOUT without CONNACK); reason_code, props */
    KMQTT_NANO_EV_LOST = 9,           /**< an accepted connection ended: err (KMQTT_ECLOSED,
                                          KMQTT_EKEEPALIVE, KMQTT_EPROTOCOL, 5.0 KMQTT_EDISCONNECTED with
                                          the server's reason_code and props, ...) */
    KMQTT_NANO_EV_MESSAGE = KMQTT_SESSION_EV_MESSAGE,     /**< an application message: msg */
    KMQTT_NANO_EV_PUBLISHED = KMQTT_SESSION_EV_PUBLISHED, /**< an outbound QoS 1/2 message completed
                                (PUBACK, PUBCOMP, or a 5.0 PUBREC with a failure reason): packet_id,
                                reason_code, props; or was dropped with err set (5.0: its PUBREL was
                                answered 0x92, KMQTT_ENOTFOUND; or, after a reconnect, it
                                is larger than the new server's Maximum Packet Size,
                                KMQTT_ETOOBIG, MQTT-3.2.2-15, or above its Maximum QoS,
                                KMQTT_EUNSUPPORTED, MQTT-3.2.2-11, and was not sent;
                                3.1.1 never drops) */
    KMQTT_NANO_EV_SUBACK =
        KMQTT_SESSION_EV_SUBACK, /**< packet_id; codes/count: one reason code per filter */
    KMQTT_NANO_EV_UNSUBACK =
        KMQTT_SESSION_EV_UNSUBACK, /**< packet_id; codes/count (5.0 only, count 0 in 3.1.1) */
    KMQTT_NANO_EV_AUTH =
        KMQTT_SESSION_EV_AUTH, /**< 5.0 AUTH from the server: reason_code, props. Its
               Authentication Method must be the CONNECT's (in
               connect_props): else DISCONNECT 0x82 and LOST /
               CONNECT_FAILED with KMQTT_EPROTOCOL (MQTT-4.12.0-5,
               3.15); a CONNACK likewise may carry only that method */
    /** Messages in pieces (mqtt.max_packet_size above rx, KMQTT_CFG_STREAM; see
     * kmqtt_session_next_event): a message larger than rx begins. msg: topic,
     * qos, retain, dup, packet_id, props; payload NULL; total = payload_len =
     * its payload's bytes. */
    KMQTT_NANO_EV_MESSAGE_BEGIN = KMQTT_SESSION_EV_MESSAGE_BEGIN,
    /** The next run of its payload: msg->payload / payload_len (valid during
     * the call: write it out or copy it), offset, total. */
    KMQTT_NANO_EV_MESSAGE_CHUNK = KMQTT_SESSION_EV_MESSAGE_CHUNK,
    /** Its last byte was handed over; the PUBACK / PUBREC goes now. msg->qos,
     * msg->packet_id, total. */
    KMQTT_NANO_EV_MESSAGE_END = KMQTT_SESSION_EV_MESSAGE_END,
    /** The connection ended before its END (reported just before LOST): the
     * pieces so far (offset bytes) are not a message. A QoS 1/2 message was
     * not acknowledged and comes again, from its first byte, on the next
     * connection that resumes the session. */
    KMQTT_NANO_EV_MESSAGE_ABORT = KMQTT_SESSION_EV_MESSAGE_ABORT
} kmqtt_nano_event_type_t;

/** A message, outbound (the caller's) or inbound (views into the receive
 * buffer, valid during the callback only): the engine's (session.h). */
typedef kmqtt_session_msg_t kmqtt_nano_msg_t;

/** One event, given to kmqtt_nano_config_t.on_event; valid during the call
 * only. kmqtt_nano_event_type_t says which fields are set. */
typedef struct kmqtt_nano_event {
    kmqtt_nano_event_type_t type; /**< what happened */
    kmqtt_err_t err;              /**< why it failed or ended (see the type) */
    uint16_t packet_id;           /**< PUBLISHED, SUBACK, UNSUBACK */
    uint8_t reason_code;          /**< CONNACK, PUBACK/PUBREC/PUBCOMP, DISCONNECT or AUTH code */
    bool session_present;         /**< CONNECTED: the broker kept the session */
    const kmqtt_nano_msg_t *msg;  /**< KMQTT_NANO_EV_MESSAGE */
    const uint8_t *codes;         /**< SUBACK / UNSUBACK reason codes */
    size_t count;                 /**< number of codes */
    const uint8_t *props;         /**< 5.0 raw property block of the packet behind the event */
    size_t props_len;             /**< length of props */
    size_t offset;                /**< MESSAGE_CHUNK / _ABORT: payload bytes before */
    size_t total;                 /**< MESSAGE_BEGIN / _CHUNK / _END / _ABORT: payload bytes */
} kmqtt_nano_event_t;

/** The event callback: user is kmqtt_nano_config_t.user. Runs inside
 * kmqtt_nano_poll (or the call that caused the event) on the caller's
 * thread; it may publish, subscribe or disconnect. */
typedef void (*kmqtt_nano_event_fn)(void *user, const kmqtt_nano_event_t *ev);

/** The configuration, referenced by the client (never copied): it must stay
 * valid and unchanged while the client is in use. Zero everything, then set
 * what you need; kmqtt_nano_config_init sets the defaults noted. */
typedef struct kmqtt_nano_config {
    /** What the engine needs (session.h): the CONNECT (version, clean_session,
     * keepalive_s, client_id, username, password, will, 5.0 property
     * blocks), ping_timeout_ms, max_inflight and max_packet_size (messages
     * larger than rx in pieces), with the defaults of
     * kmqtt_session_config_init. The nano client advertises Receive Maximum
     * KMQTT_NANO_INBOUND_QOS2 and Maximum Packet Size = rx (or
     * max_packet_size when larger); the 5.0 CONNECT
     * block must not carry those, nor a Topic Alias Maximum (KMQTT_EINVAL).
     * Keep max_inflight at or below the broker's own in-flight limit
     * (mosquitto: max_inflight_messages, default 20): mosquitto 2.0.11
     * answers PUBREC but silently drops 3.1.1 QoS 2 publishes above it. */
    kmqtt_session_config_t mqtt;

    /** Where: the transport (the client calls open/send/recv/wait/close on it,
     * never destroy) and the host and port given to its open(). */
    const kmqtt_transport_t *transport;
    const char *host;            /**< broker host given to the transport's open() */
    uint16_t port;               /**< broker port given to the transport's open() */
    uint32_t connect_timeout_ms; /**< open() and then CONNACK, each
                                    (default KMQTT_CFG_CONNECT_TIMEOUT_MS) */

    /** Reconnect: after a loss or a failed attempt the client waits a random
     * time in [d/2, d] (kmqtt_session_backoff), d starting at
     * reconnect_min_ms and doubling each failure up to reconnect_max_ms, back
     * to the minimum after a CONNACK. reconnect_min_ms 0 = never by itself
     * (the caller calls kmqtt_nano_connect again). Defaults
     * KMQTT_CFG_RECONNECT_MIN_MS and _MAX_MS. The random numbers come from a
     * small generator seeded with random_seed: give each device its own (a
     * hardware random number, a serial number); 0 = seeded from client_id,
     * which the broker already requires to be unique. */
    uint32_t reconnect_min_ms;
    uint32_t reconnect_max_ms; /**< the longest wait between attempts (see reconnect_min_ms) */
    uint32_t random_seed;      /**< seeds the backoff's jitter (see reconnect_min_ms) */

    kmqtt_nano_event_fn on_event; /**< may be NULL */
    void *user;                   /**< passed to on_event */
} kmqtt_nano_config_t;

/** The caller's buffers, given to kmqtt_nano_init and used until the client
 * is no longer used.
 *  rx:    the largest packet the client accepts whole (5.0: advertised as
 *         Maximum Packet Size; a larger one ends the connection with
 *         KMQTT_ETOOBIG). With cfg->mqtt.max_packet_size above it, a larger
 *         PUBLISH comes in pieces instead (its topic and properties must
 *         fit rx) and max_packet_size is what is advertised and enforced:
 *         a 1 KB rx can take a firmware image of any size MQTT allows.
 *  tx:    bytes waiting to be sent; the largest packet the client sends.
 *  store: copies of unacknowledged QoS 1/2 PUBLISH packets (each its encoded
 *         size plus 8 bytes, rounded up to 4); NULL/0 for a QoS 0-only
 *         client (QoS 1/2 publish then gives KMQTT_ELIMIT). */
typedef struct kmqtt_nano_buffers {
    uint8_t *rx;       /**< the receive buffer */
    size_t rx_size;    /**< its size in bytes */
    uint8_t *tx;       /**< the send buffer */
    size_t tx_size;    /**< its size in bytes */
    uint8_t *store;    /**< the store of unacknowledged QoS 1/2 messages; may be NULL */
    size_t store_size; /**< its size in bytes; may be 0 */
} kmqtt_nano_buffers_t;

/** The client: the engine's state and the driver's. Declared so it can be a
 * static or stack object; every field is private. sizeof is at most 256
 * bytes on a 32-bit target. */
typedef struct kmqtt_nano {
    /** @cond PRIVATE */
    kmqtt_session_t s;
    const kmqtt_nano_config_t *cfg;
    uint32_t now_ms; /**< the time given to the running call */
    uint32_t due_ms; /**< WAITING: the next attempt; CONNECTING: the CONNACK deadline */
    uint32_t backoff_ms;
    uint32_t rng; /**< xorshift32 state for the backoff's jitter */
    uint16_t inbound[KMQTT_NANO_INBOUND_QOS2];
    kmqtt_session_request_t req[KMQTT_NANO_MAX_REQUESTS];
    uint8_t state;
    uint8_t gen;  /**< counts connection ends, so code after a callback sees one */
    uint8_t busy; /**< the running poll received, sent, reported or changed state */
    uint8_t arm;  /**< CONNECTING: start the CONNACK clock at the next poll */
    /** @endcond */
} kmqtt_nano_t;

/** Fills c with the defaults noted in kmqtt_nano_config_t (everything else
 * zero: no transport, no client id). */
void kmqtt_nano_config_init(kmqtt_nano_config_t *c);

/** Sets up c (state IDLE) over the caller's configuration and buffers,
 * checking them: KMQTT_EINVAL for a NULL, a missing transport or host, an
 * unknown version, a will QoS over 2, a client id / username / will topic
 * longer than 65,535 bytes or not valid UTF-8, an empty client id without
 * clean_session, a buffer under 16 bytes, 5.0 property blocks that are
 * malformed or carry what the client sets itself; KMQTT_ENOBUFS when the
 * CONNECT does not fit tx. Takes nothing, never blocks. */
kmqtt_err_t kmqtt_nano_init(kmqtt_nano_t *c, const kmqtt_nano_config_t *cfg,
                            const kmqtt_nano_buffers_t *b);

/** Opens the transport (blocking in its open(), up to connect_timeout_ms) and
 * queues CONNECT; the CONNACK is handled by kmqtt_nano_poll, which reports
 * KMQTT_NANO_EV_CONNECTED or KMQTT_NANO_EV_CONNECT_FAILED. From then on the
 * client reconnects by itself (if reconnect_min_ms is set) until
 * kmqtt_nano_disconnect. Returns KMQTT_OK, KMQTT_ESTATE (not IDLE), or the
 * transport's open() error (state stays IDLE, nothing is open). */
kmqtt_err_t kmqtt_nano_connect(kmqtt_nano_t *c, uint32_t now_ms);

/** Does everything due at now_ms: sends what is queued, receives and handles
 * what arrived (answering acks, reporting events), keepalive, CONNACK and
 * PINGRESP timeouts, the next reconnect attempt (which blocks in open()).
 * Sets *next_ms (if not NULL) to how long the caller may wait for the
 * transport to become readable (or writable, see kmqtt_nano_want_write)
 * before calling again; UINT32_MAX when nothing is due (IDLE).
 * Returns KMQTT_OK, also when the connection was lost (that is an event, and
 * the state says what comes next), or KMQTT_EINVAL. Never blocks, except in
 * the transport's open() when a reconnect is due. */
kmqtt_err_t kmqtt_nano_poll(kmqtt_nano_t *c, uint32_t now_ms, uint32_t *next_ms);

/** True when bytes wait for the transport to take them: the caller should
 * wait for KMQTT_WAIT_WRITE too. */
bool kmqtt_nano_want_write(const kmqtt_nano_t *c);

/** Convenience for a simple loop: kmqtt_nano_poll, then, only when that poll
 * did nothing (received or sent no byte, reported no event, left the state
 * as it was), the transport's wait() for at most the smaller of its next_ms
 * and max_wait_ms. A poll that made progress returns at once, so a loop
 * `while (!done) kmqtt_nano_step(c, now(), 50)` runs as fast as the
 * exchange goes and sleeps only when idle. May block (in the wait, or in
 * open() when a reconnect is due). */
kmqtt_err_t kmqtt_nano_step(kmqtt_nano_t *c, uint32_t now_ms, uint32_t max_wait_ms);

/** Queues a PUBLISH. QoS 1/2 get a packet id (*packet_id, may be NULL), a copy
 * in the store, and a KMQTT_NANO_EV_PUBLISHED later. While CONNECTING with
 * the pipelined connect (cfg.mqtt.pipeline, the default) a QoS 1/2 message
 * goes right behind the CONNECT, in the same send; a refused CONNECT keeps
 * it stored for the next attempt. Returns KMQTT_OK, KMQTT_ENOTCONN (not
 * CONNECTED: nothing is queued offline; while CONNECTING: QoS 0, which
 * waits for the CONNACK, or no pipelining, or beyond the caps of the last
 * CONNACK), KMQTT_EINVAL
 * (NULL, QoS over 2, topic empty, with '+' or '#', over 65,535 bytes or not
 * UTF-8: MQTT-3.3.2-2, MQTT-1.5.3-1; malformed 5.0 props, a Topic Alias in
 * them), KMQTT_EUNSUPPORTED (QoS 2 built out; 5.0: over the server's Maximum
 * QoS, retain when Retain Available is 0), KMQTT_ETOOBIG (bigger than tx, or
 * 5.0: than the server's Maximum Packet Size), KMQTT_ELIMIT (max_inflight or
 * the server's Receive Maximum reached, or no room in the store: retry after
 * a PUBLISHED event), KMQTT_ENOBUFS (no room in tx now: retry after poll).
 * Nothing is queued on any error. Never blocks. */
kmqtt_err_t kmqtt_nano_publish(kmqtt_nano_t *c, const kmqtt_nano_msg_t *msg, uint32_t now_ms,
                               uint16_t *packet_id);

/** One filter of a SUBSCRIBE: the filter (NUL-terminated) and its options
 * byte: QoS 0..2, and in 5.0 also KMQTT_NANO_NO_LOCAL,
 * KMQTT_NANO_RETAIN_AS_PUBLISHED, KMQTT_NANO_RETAIN_HANDLING(n). */
typedef kmqtt_session_sub_t kmqtt_nano_sub_t;

/** Subscription option (5.0): our own publishes are not sent back. */
#define KMQTT_NANO_NO_LOCAL 0x04u
/** Subscription option (5.0): the RETAIN flag is kept as published. */
#define KMQTT_NANO_RETAIN_AS_PUBLISHED 0x08u
/** Subscription option (5.0): retained messages at subscribe: n = 0 always,
 * 1 only for a new subscription, 2 never. */
#define KMQTT_NANO_RETAIN_HANDLING(n) ((uint8_t)((n) << 4))

/** Queues a SUBSCRIBE of count filters (5.0: with the raw property block
 * props, e.g. a Subscription Identifier; NULL/0 = none). The SUBACK comes as
 * KMQTT_NANO_EV_SUBACK with *packet_id. Returns KMQTT_OK, KMQTT_ENOTCONN,
 * KMQTT_EINVAL (no filter or more than 255, an invalid filter:
 * MQTT-4.7.1-2/-3, options with reserved bits or, in 3.1.1, anything but
 * QoS), KMQTT_EUNSUPPORTED (5.0: a wildcard, shared or identified
 * subscription the server said it lacks), KMQTT_ETOOBIG, KMQTT_ENOBUFS,
 * KMQTT_ELIMIT (KMQTT_NANO_MAX_REQUESTS requests await their ack: retry
 * after a SUBACK / UNSUBACK event).
 * The ack is matched to the request: a SUBACK / UNSUBACK with an id not
 * awaited, of the other kind, or with a number of reason codes other than
 * the filters sent (MQTT-3.9.3-1, MQTT-3.11.3-1) ends the connection, LOST
 * with KMQTT_EPROTOCOL (5.0: DISCONNECT 0x82 first). Requests awaiting their
 * ack when the connection is lost are forgotten (no event): the caller
 * subscribes again after the next CONNECTED event. Never blocks. */
kmqtt_err_t kmqtt_nano_subscribe(kmqtt_nano_t *c, const kmqtt_nano_sub_t *subs, size_t count,
                                 const uint8_t *props, size_t props_len, uint32_t now_ms,
                                 uint16_t *packet_id);

/** Queues an UNSUBSCRIBE of count filters; KMQTT_NANO_EV_UNSUBACK follows.
 * Errors as kmqtt_nano_subscribe. Never blocks. */
kmqtt_err_t kmqtt_nano_unsubscribe(kmqtt_nano_t *c, const char *const *filters, size_t count,
                                   uint32_t now_ms, uint16_t *packet_id);

/** 5.0: sends AUTH (reason 0x18 continue or 0x19 re-authenticate) with the
 * raw property block props (Authentication Method and Data). Returns
 * KMQTT_OK, KMQTT_ENOTCONN, KMQTT_EINVAL, KMQTT_ENOBUFS, or
 * KMQTT_EUNSUPPORTED in 3.1.1 or a build without 5.0. Never blocks. */
kmqtt_err_t kmqtt_nano_auth(kmqtt_nano_t *c, uint8_t reason, const uint8_t *props, size_t props_len,
                            uint32_t now_ms);

/** Sends DISCONNECT (5.0: with reason; 0x04 keeps the will) and closes the
 * transport. It waits (transport wait(), blocking) up to timeout_ms for what
 * is queued, DISCONNECT included, to be sent. When it returns the transport
 * is closed and the client is IDLE: it never reconnects by itself until
 * kmqtt_nano_connect. The store keeps unacknowledged messages, so the next
 * connect with clean_session false sends them again. Returns KMQTT_OK, or
 * KMQTT_ETIMEDOUT when not everything was sent (the transport is closed all
 * the same); KMQTT_OK with nothing to do when IDLE or WAITING (WAITING
 * becomes IDLE). */
kmqtt_err_t kmqtt_nano_disconnect(kmqtt_nano_t *c, uint8_t reason, uint32_t timeout_ms);

/** Where c is: IDLE, WAITING, CONNECTING or CONNECTED. Never blocks. */
kmqtt_nano_state_t kmqtt_nano_state(const kmqtt_nano_t *c);

/** Outbound QoS 1/2 messages not yet complete (in the store). */
size_t kmqtt_nano_inflight(const kmqtt_nano_t *c);

/** Bytes of the store in use, for sizing it. */
size_t kmqtt_nano_store_used(const kmqtt_nano_t *c);

/** Inbound QoS 2 ids forgotten because more than KMQTT_NANO_INBOUND_QOS2
 * awaited their PUBREL at once (see KMQTT_NANO_INBOUND_QOS2), since init.
 * Exactly once holds for the newest KMQTT_NANO_INBOUND_QOS2 messages; an
 * evicted one may be delivered twice only if the connection is lost before
 * the broker received its PUBREC. 0 for NULL. Never blocks. */
size_t kmqtt_nano_qos2_evictions(const kmqtt_nano_t *c);

/** PUBACK / PUBREC / PUBCOMP received for a packet id the client does not
 * hold, since init: ignored, not a protocol error (a PUBREC still gets its
 * PUBREL, 5.0 with 0x92). 0 for NULL. Never blocks. */
size_t kmqtt_nano_unknown_acks(const kmqtt_nano_t *c);

/** What the last CONNACK of the server allowed (the engine's
 * kmqtt_session_server_caps; out->seen false: none came yet, the
 * specification's defaults). A device that resets (not just sleeps with RAM
 * kept) saves it where it keeps data, and gives it back with
 * kmqtt_nano_restore_caps after kmqtt_nano_init: the first write of a
 * pipelined connect then holds no more than that server allowed. Never
 * blocks. */
void kmqtt_nano_server_caps(const kmqtt_nano_t *c, kmqtt_session_caps_t *out);

/** Puts back caps saved from kmqtt_nano_server_caps (their seen and
 * keepalive_s are not read), while IDLE or WAITING (no connection open).
 * Returns KMQTT_OK, KMQTT_EINVAL (NULL, max_qos over 2, receive_max 0) or
 * KMQTT_ESTATE. Never blocks. */
kmqtt_err_t kmqtt_nano_restore_caps(kmqtt_nano_t *c, const kmqtt_session_caps_t *caps);

#ifdef __cplusplus
}
#endif
#endif
