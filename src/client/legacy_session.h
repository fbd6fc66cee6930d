/*
 * The threaded client's private copy of the old session (issue #15, phase A).
 *
 * This is the protocol engine the threaded client was written against,
 * moved out of src/session/ (which now holds the one engine, session.h)
 * with its names changed so both link together. It stays only until the
 * threaded client is a driver over kmqtt_session_t (phase B), and is then
 * deleted; nothing else may use it. What follows is its original comment.
 *
 * kmqtt session — MQTT protocol state without I/O.
 *
 * The session takes events (bytes received, the current time, requests from
 * the API) and gives back bytes to send, events for the application and the
 * next deadline. It never reads a clock, opens a socket, starts a thread or
 * allocates: the caller gives it one block of storage at init and the time
 * as an argument to every call, which is what makes it testable with scripted
 * bytes and a fake clock.
 *
 * Not thread-safe by itself: the client calls it under its lock.
 *
 * Where the rules live:
 *  - outbound QoS 1: PUBLISH -> PUBACK; QoS 2: PUBLISH -> PUBREC -> PUBREL ->
 *    PUBCOMP. An encoded copy of each unacknowledged PUBLISH is kept in the
 *    store (bounded) so it can be sent again.
 *  - inbound QoS 2 is delivered once: the packet id is remembered from
 *    PUBLISH until PUBREL, and a repeated PUBLISH is answered but not
 *    delivered again.
 *  - keepalive: a PINGREQ when nothing was sent or received for keepalive
 *    seconds; no answer within half a keepalive more is KMQTT_EKEEPALIVE, so
 *    a dead broker is noticed within 1.5 x keepalive.
 *  - after a reconnect with session present, unacknowledged PUBLISH packets
 *    are sent again with DUP set and PUBREL packets again, in their original
 *    order (MQTT-4.4.0-1); without session present, unacknowledged PUBLISH
 *    packets are sent again as new deliveries and QoS 2 messages already
 *    released are reported complete.
 */
#ifndef LEGACY_SESSION_H
#define LEGACY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/codec.h"
#include "kmqtt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct legacy_session_config {
    kmqtt_version_t version;
    uint16_t keepalive_s;      /* 0 = no keepalive */
    uint16_t max_inflight;     /* outbound QoS 1/2 not yet complete (>= 1) */
    uint16_t max_inbound_qos2; /* inbound QoS 2 packet ids awaiting PUBREL; past it a 5.0
                                  server broke our Receive Maximum (KMQTT_EPROTOCOL) and a
                                  3.1.1 broker our bound (KMQTT_ELIMIT). 0 = one bit per
                                  packet id (8 KB): never full, what 3.1.1 needs */
    uint16_t max_pending;      /* SUBSCRIBE / UNSUBSCRIBE awaiting their ack (>= 1) */
    size_t rx_buffer_size;     /* largest incoming packet accepted (>= 16) */
    size_t tx_buffer_size;     /* outgoing bytes not yet written (>= 16) */
    size_t store_size;         /* bytes kept for unacknowledged QoS 1/2 PUBLISH packets */
    uint32_t retry_ms;         /* 3.1.1 only: resend an unacknowledged packet after this
                                  long on the same connection; 0 = only after reconnect
                                  (the only resend 5.0 allows) */
    /* 5.0 only (3.1.1 ignores them and carves nothing for them); 0 = off. */
    uint16_t topic_alias_max; /* inbound aliases we can hold: the most a CONNECT may
                                 advertise as Topic Alias Maximum */
    uint16_t topic_alias_out; /* outbound alias slots; in force: the smaller of this and
                                 the server's Topic Alias Maximum */
    uint16_t alias_topic_len; /* topic bytes each alias slot holds, both directions (>= 1
                                 when either count is set). A server alias for a longer
                                 topic ends the connection (DISCONNECT 0x97); a longer
                                 outbound topic is simply sent without an alias */
} legacy_session_config_t;

typedef enum legacy_session_state {
    LEGACY_SESSION_IDLE = 0,   /* no connection */
    LEGACY_SESSION_CONNECTING, /* CONNECT queued or sent, waiting for CONNACK */
    LEGACY_SESSION_CONNECTED,
    LEGACY_SESSION_CLOSING /* DISCONNECT queued: flush, then close */
} legacy_session_state_t;

typedef enum legacy_event_type {
    LEGACY_EV_NONE = 0,
    LEGACY_EV_CONNACK,      /* reason_code, session_present; packet.u.connack */
    LEGACY_EV_MESSAGE,      /* packet.u.publish: an application message. 5.0: the topic is
                              always the full one (an inbound Topic Alias is resolved by the
                              session; the view then points into its alias table); a payload
                              whose Payload Format Indicator says UTF-8 but is not is never
                              reported (answered PUBACK / PUBREC 0x99, or dropped at QoS 0) */
    LEGACY_EV_PUBLISH_DONE, /* packet_id, reason_code: an outbound QoS 1/2 PUBLISH completed
                              (PUBACK, PUBCOMP, or PUBREC with a failure code in 5.0) */
    LEGACY_EV_SUBACK,       /* packet_id; packet.u.suback.reason_codes, one per filter */
    LEGACY_EV_UNSUBACK,     /* packet_id; packet.u.suback */
    LEGACY_EV_PINGRESP,
    LEGACY_EV_DISCONNECT,    /* 5.0: the server disconnects; reason_code, packet.u.disconnect */
    LEGACY_EV_AUTH,          /* 5.0: reason_code, packet.u.disconnect (props) */
    LEGACY_EV_REQUEST_FAILED /* packet_id, err: a SUBSCRIBE / UNSUBSCRIBE ended without its ack
                               (connection lost); no packet */
} legacy_event_type_t;

typedef struct legacy_event {
    legacy_event_type_t type;
    uint16_t packet_id;
    uint8_t reason_code;
    bool session_present;
    kmqtt_err_t err;
    kmqtt_packet_t packet; /* views into the session's receive buffer: valid until the next
                              call of legacy_session_next_event or legacy_session_rx_space */
} legacy_event_t;

/* What the server's CONNACK said (5.0), with the defaults of an absent
 * property filled in; in 3.1.1 the defaults. */
typedef struct legacy_server_caps {
    uint16_t receive_max;     /* 65535 if absent */
    uint8_t max_qos;          /* 2 if absent */
    bool retain_available;    /* true if absent, like the three below */
    bool wildcard_available;  /* Wildcard Subscription Available */
    bool subid_available;     /* Subscription Identifiers Available */
    bool shared_available;    /* Shared Subscription Available */
    uint32_t max_packet_size; /* 0 = no limit */
    uint16_t topic_alias_max; /* the server's; 0 if absent (no outbound aliases) */
    uint16_t keepalive_s;     /* the keepalive in force */
    bool server_keepalive;    /* it is the CONNACK's Server Keep Alive (MQTT-3.2.2-21) */
    bool assigned_client_id;  /* the CONNACK carried an Assigned Client Identifier (the
                                 string is a view in the CONNACK event's props) */
    uint32_t session_expiry;  /* the CONNACK's Session Expiry Interval, else the CONNECT's */
} legacy_server_caps_t;

/* Longest Authentication Method legacy_session_start accepts. */
#define LEGACY_SESSION_AUTH_METHOD_MAX 64

/* One outbound QoS 1/2 message or request being tracked. Private. */
typedef struct legacy_session_record {
    uint16_t packet_id;
    uint8_t kind;  /* private: what is awaited */
    uint8_t flags; /* private */
    uint32_t store_off;
    uint32_t store_len;
    uint64_t sent_ms;
} legacy_session_record_t;

/* Private: how many answers may wait for room in the send buffer. */
#define LEGACY_SESSION_OWED_MAX 8

/* Store and forward: a change of the state that must survive a restart,
 * reported to the hook of legacy_session_set_change_hook as it happens
 * (before the packet it concerns can be sent or the message delivered).
 * The end of an outbound flow is not reported here: it is the
 * LEGACY_EV_PUBLISH_DONE event. */
typedef enum legacy_session_change {
    LEGACY_SESSION_CH_PUBLISH = 1,   /* a QoS 1/2 PUBLISH took packet_id; bytes, len: the
                                       encoded packet (DUP clear) */
    LEGACY_SESSION_CH_PUBREL,        /* PUBREC came for packet_id: only PUBREL from now on */
    LEGACY_SESSION_CH_INBOUND,       /* inbound QoS 2 packet_id held until its PUBREL */
    LEGACY_SESSION_CH_RELEASED,      /* inbound QoS 2 packet_id released by PUBREL */
    LEGACY_SESSION_CH_INBOUND_CLEAR  /* every inbound QoS 2 id forgotten (new session) */
} legacy_session_change_t;

typedef void (*legacy_session_change_fn)(void *ctx, legacy_session_change_t what,
                                        uint16_t packet_id, const uint8_t *bytes, size_t len);

/* The session. Declared so it can live inside another struct; treat every
 * field as private. */
typedef struct legacy_session {
    legacy_session_config_t cfg;
    legacy_session_state_t state;
    /* carved from the caller's storage by legacy_session_init */
    legacy_session_record_t *inflight; /* cfg.max_inflight, in send order */
    uint16_t inflight_count;
    legacy_session_record_t *pending; /* cfg.max_pending SUBSCRIBE / UNSUBSCRIBE */
    uint16_t pending_count;
    uint16_t *inbound_qos2; /* cfg.max_inbound_qos2 ids awaiting PUBREL, or a bitmap */
    uint16_t inbound_count;
    uint8_t *rx;
    size_t rx_len;      /* bytes held */
    size_t rx_consumed; /* bytes at the front already handled, dropped by rx_space */
    uint8_t *tx;
    size_t tx_start, tx_end;
    uint8_t *store;
    size_t store_used; /* bytes of live copies */
    size_t store_end;  /* end of the last copy; holes before it are compacted on demand */
    uint16_t next_packet_id;
    uint16_t failed_pending;     /* requests to report as LEGACY_EV_REQUEST_FAILED */
    uint16_t server_receive_max; /* 5.0 CONNACK Receive Maximum (65535 if absent) */
    uint32_t server_max_packet;  /* 5.0 CONNACK Maximum Packet Size (0 = none) */
    uint64_t last_tx_ms, last_rx_ms, ping_sent_ms;
    uint32_t keepalive_ms; /* cfg.keepalive_s, or the 5.0 Server Keep Alive */
    bool ping_outstanding;
    bool resend_due;  /* some record still waits for room in tx */
    bool clean_start; /* the CONNECT asked for a new session */
    bool rx_blocked;  /* a received packet waits for room for its answer */
    /* answers (and PINGREQ) that found tx full, sent in order as it drains */
    uint8_t owed_count;
    uint32_t owed[LEGACY_SESSION_OWED_MAX];
    /* store and forward (session_persist.c) */
    legacy_session_change_fn change_fn;
    void *change_ctx;

    /* 5.0 */
    legacy_server_caps_t caps;
    uint16_t adv_receive_max; /* what our CONNECT advertised (65535 if absent) */
    uint16_t adv_alias_max;   /* our CONNECT's Topic Alias Maximum (0 if absent) */
    uint32_t adv_max_packet;  /* our CONNECT's Maximum Packet Size, else rx_buffer_size */
    uint32_t connect_expiry;  /* our CONNECT's Session Expiry Interval */
    uint16_t alias_out_max;   /* outbound aliases in force on this connection */
    uint32_t alias_clock;     /* LRU stamps of the outbound slots */
    uint8_t *alias_in;        /* cfg.topic_alias_max slots: u16 length + topic */
    uint8_t *alias_out;       /* cfg.topic_alias_out slots: u32 stamp, u16 length, topic */
    uint8_t close_reason;     /* DISCONNECT reason queued on a protocol error */
    uint8_t auth_state;       /* private */
    uint16_t auth_method_len; /* 0: the CONNECT had no Authentication Method */
    char auth_method[LEGACY_SESSION_AUTH_METHOD_MAX];
    uint32_t pubrel_failures; /* server PUBRELs with a non-zero reason code (0x92) */
    uint8_t pubrel_reason;    /* the last such code */
} legacy_session_t;

/* Bytes of storage legacy_session_init needs for cfg (tables, receive and
 * send buffers, store), or 0 if cfg is invalid. */
size_t legacy_session_storage_size(const legacy_session_config_t *cfg);

/* Sets up s over storage (len >= legacy_session_storage_size(cfg), aligned
 * for uint64_t). The session uses storage until the caller stops using s;
 * it never frees it. Returns KMQTT_OK, KMQTT_EINVAL (bad config) or
 * KMQTT_ENOBUFS (storage too small). */
kmqtt_err_t legacy_session_init(legacy_session_t *s, const legacy_session_config_t *cfg, void *storage,
                               size_t len);

legacy_session_state_t legacy_session_state(const legacy_session_t *s);

/* Number of outbound QoS 1/2 messages not yet complete. */
size_t legacy_session_inflight(const legacy_session_t *s);

/* 5.0: what the last CONNACK said (defaults before one came, and in
 * 3.1.1). The pointer stays valid as long as s. */
const legacy_server_caps_t *legacy_session_server_caps(const legacy_session_t *s);

/* 5.0: the properties the session can honour, for the caller to put in the
 * CONNECT (ahead of its own): Receive Maximum (cfg.max_inbound_qos2, if not
 * 0), Topic Alias Maximum (cfg.topic_alias_max, if not 0) and Maximum Packet
 * Size (cfg.rx_buffer_size). Writes up to max items to out (their strings
 * are none) and returns how many; 0 in 3.1.1. */
size_t legacy_session_advertise(const legacy_session_t *s, kmqtt_prop_t *out, size_t max);

/* 5.0: the reason code of the DISCONNECT the session queued when
 * legacy_session_next_event last failed (0x81 malformed packet, 0x82
 * protocol error, 0x93 Receive Maximum exceeded, 0x94 Topic Alias invalid,
 * 0x95 packet too large, 0x97 quota exceeded), or 0 if none. */
uint8_t legacy_session_close_reason(const legacy_session_t *s);

/* ------------------------------------------------------------- connection */

/* Begins a connection on a fresh transport: drops any received or unsent
 * bytes and queues CONNECT (connect->version is ignored: cfg.version is
 * used). In 5.0 the session enforces what the CONNECT's own properties
 * advertise: Receive Maximum (a server exceeding it gets DISCONNECT 0x93),
 * Topic Alias Maximum (0x94 past it), Maximum Packet Size (0x95 past it;
 * without one, rx_buffer_size still bounds), and it remembers the
 * Authentication Method and Session Expiry Interval. Outbound and inbound
 * topic aliases start empty (MQTT-3.3.2-7). Returns KMQTT_OK, KMQTT_ESTATE
 * (not idle), KMQTT_EINVAL (a property advertises more than the config
 * holds: Receive Maximum > cfg.max_inbound_qos2 when that is not 0, Topic
 * Alias Maximum > cfg.topic_alias_max, Maximum Packet Size >
 * cfg.rx_buffer_size, a method longer than LEGACY_SESSION_AUTH_METHOD_MAX),
 * KMQTT_ENOBUFS (CONNECT does not fit in the send buffer) or the encoder's
 * error. */
kmqtt_err_t legacy_session_start(legacy_session_t *s, const kmqtt_connect_t *connect,
                                uint64_t now_ms);

/* Queues DISCONNECT (reason and props are 5.0 only; pass 0 and NULL in
 * 3.1.1) and moves to CLOSING. Returns KMQTT_OK, KMQTT_ESTATE (not
 * connected), KMQTT_EINVAL (5.0: a non-zero Session Expiry Interval when the
 * CONNECT's was 0 or absent: a Protocol Error by 5.0 3.14.2.2.2), KMQTT_ETOOBIG
 * (over the server's Maximum Packet Size) or KMQTT_ENOBUFS. */
kmqtt_err_t legacy_session_disconnect(legacy_session_t *s, uint8_t reason,
                                     const kmqtt_props_t *props);

/* 5.0 enhanced authentication: queues AUTH. reason is 0x18 (continue: while
 * CONNECTING after the server's AUTH, or while CONNECTED during a
 * re-authentication) or 0x19 (re-authenticate: CONNECTED). props must carry
 * the CONNECT's Authentication Method (and usually Authentication Data);
 * the caller owns them, they are copied into the send buffer. The server's
 * AUTH packets arrive as LEGACY_EV_AUTH; a re-authentication ends with AUTH
 * 0x00 (LEGACY_EV_AUTH, reason 0) or a server DISCONNECT. Returns KMQTT_OK,
 * KMQTT_ESTATE (3.1.1, no method in the CONNECT, wrong state), KMQTT_EINVAL
 * (other reason, missing or different method), KMQTT_ETOOBIG (over the
 * server's Maximum Packet Size) or KMQTT_ENOBUFS. */
kmqtt_err_t legacy_session_auth(legacy_session_t *s, uint8_t reason, const kmqtt_props_t *props);

/* The connection is gone, for whatever reason: back to IDLE, unsent and
 * unprocessed bytes dropped. Outbound QoS 1/2 messages stay for the next
 * connection; each pending SUBSCRIBE / UNSUBSCRIBE is reported once by
 * legacy_session_next_event as LEGACY_EV_REQUEST_FAILED. */
void legacy_session_lost(legacy_session_t *s, uint64_t now_ms);

/* Forgets every outbound message and inbound QoS 2 id (a clean session
 * the application asked for). Each forgotten outbound message is reported
 * by legacy_session_next_event as LEGACY_EV_PUBLISH_DONE with err
 * KMQTT_ECANCELED. Only when IDLE; returns KMQTT_ESTATE otherwise. */
kmqtt_err_t legacy_session_clear(legacy_session_t *s);

/* --------------------------------------------------------------- requests */

/* Queues a PUBLISH (msg->packet_id and msg->dup are ignored). QoS 1/2 take
 * a packet id (returned in *packet_id; 0 for QoS 0), a record and a copy in
 * the store. Only when CONNECTED. In 5.0 a topic repeated on the connection
 * is sent with a Topic Alias when the server allows aliases and
 * cfg.topic_alias_out > 0 (least recently used slot reused; not for
 * messages with raw properties or more than 8 items); the stored copy of a
 * QoS 1/2 message always carries the full topic, so a resend on a later
 * connection never uses an old alias. Returns KMQTT_OK, KMQTT_ENOTCONN,
 * KMQTT_EUNSUPPORTED (5.0: QoS above the server's Maximum QoS,
 * MQTT-3.2.2-11; retain when Retain Available is 0, MQTT-3.2.2-14),
 * KMQTT_EINVAL (a Topic Alias property of the caller's: aliases are the
 * session's),
 * KMQTT_ELIMIT (in-flight window full: the smaller of cfg.max_inflight and
 * the server's Receive Maximum), KMQTT_ENOBUFS (send buffer or store full
 * for now: send, or wait for acks, and try again), KMQTT_ETOOBIG (larger
 * than the send buffer, store or the server's maximum packet size: never
 * fits) or the encoder's error for an invalid message. On error nothing is
 * queued and no packet id is used. */
kmqtt_err_t legacy_session_publish(legacy_session_t *s, const kmqtt_publish_t *msg, uint64_t now_ms,
                                  uint16_t *packet_id);

/* Queues a SUBSCRIBE (is_subscribe) or UNSUBSCRIBE with a new packet id
 * (sub->packet_id is ignored). Returns KMQTT_OK, KMQTT_ENOTCONN,
 * KMQTT_EUNSUPPORTED (5.0 SUBSCRIBE: a wildcard filter, a "$share/" filter or
 * a Subscription Identifier the CONNACK said the server does not support),
 * KMQTT_ELIMIT
 * (cfg.max_pending requests already waiting), KMQTT_ENOBUFS, KMQTT_ETOOBIG or
 * the encoder's error. */
kmqtt_err_t legacy_session_subscribe(legacy_session_t *s, const kmqtt_subscribe_t *sub,
                                    bool is_subscribe, uint64_t now_ms, uint16_t *packet_id);

/* ------------------------------------------------------------------ bytes */

/* Where the next received bytes go: *buf and *space (may be 0 only when a
 * packet is waiting to be taken by legacy_session_next_event). Invalidates the
 * views of the last event. */
void legacy_session_rx_space(legacy_session_t *s, uint8_t **buf, size_t *space);

/* n bytes were written at the place legacy_session_rx_space gave. */
void legacy_session_rx_commit(legacy_session_t *s, size_t n, uint64_t now_ms);

/* Takes the next complete packet from the received bytes, applies the
 * protocol rules, queues any answer (PUBACK, PUBREC, PUBREL, PUBCOMP) and
 * reports what the application should know. Packets that need no report are
 * handled and skipped. Returns:
 *  KMQTT_OK         *ev is filled (views valid until the next call here or of
 *                   legacy_session_rx_space)
 *  KMQTT_NEED_MORE  nothing to report until more bytes arrive (or, rarely, until
 *                   tx drains: a packet whose answer finds tx and the short
 *                   owed list full waits; legacy_session_tick then gives a
 *                   next_ms of now once there is room)
 *  < 0              the broker broke the protocol or sent a malformed packet
 *                   (the codec's error, KMQTT_EPROTOCOL or KMQTT_ETOOBIG): close
 *                   the connection and call legacy_session_lost */
kmqtt_err_t legacy_session_next_event(legacy_session_t *s, uint64_t now_ms, legacy_event_t *ev);

/* The bytes waiting to be sent, contiguous: returns their number and sets
 * *buf. */
size_t legacy_session_tx_peek(const legacy_session_t *s, const uint8_t **buf);

/* n of those bytes were written. */
void legacy_session_tx_consume(legacy_session_t *s, size_t n, uint64_t now_ms);

/* ------------------------------------------------- store and forward */

/* Sets (fn NULL: clears) the hook that hears of every change worth
 * persisting (see legacy_session_change_t). Called after legacy_session_init
 * (init clears it). fn runs inside the session call that made the change
 * and must not call back into s. */
void legacy_session_set_change_hook(legacy_session_t *s, legacy_session_change_fn fn, void *ctx);

/* Puts back an outbound QoS 1/2 message persisted by an earlier process,
 * in its original order (call in the order the records were made):
 * packet_id as before, bytes/len the encoded PUBLISH (ignored when pubrel:
 * the PUBREC had come, so only PUBREL is sent again). The bytes are decoded
 * by the codec first and must be exactly one QoS 1/2 PUBLISH with
 * packet_id, in the session's protocol version, nothing after it, its
 * topic in full (5.0: no Topic Alias, no Subscription Identifier). It is
 * sent on the next connection like any unacknowledged message: with DUP
 * set if the broker kept the session (MQTT-4.4.0-1), as a new delivery if
 * not. Only while IDLE. Returns KMQTT_OK, KMQTT_ESTATE, KMQTT_EINVAL (id 0
 * or in use), KMQTT_ESTORE (the bytes are not such a PUBLISH: nothing was
 * taken), KMQTT_EUNSUPPORTED (QoS 2 in a build without it), KMQTT_ELIMIT
 * (max_inflight records) or KMQTT_ENOBUFS (the store is full). */
kmqtt_err_t legacy_session_restore_publish(legacy_session_t *s, uint16_t packet_id, bool pubrel,
                                          const uint8_t *bytes, size_t len);

/* Puts back an inbound QoS 2 packet id that awaited PUBREL, so a resent
 * PUBLISH with it is answered but not delivered again (MQTT-4.3.3-2).
 * Returns KMQTT_OK, KMQTT_EINVAL (id 0) or KMQTT_ELIMIT (table full). */
kmqtt_err_t legacy_session_restore_inbound_qos2(legacy_session_t *s, uint16_t packet_id);

/* ------------------------------------------------------------------- time */

/* Does what is due at now_ms: a PINGREQ when idle for keepalive, a resend
 * when cfg.retry_ms passed (3.1.1). Sets *next_ms to the next time tick has
 * something to do (UINT64_MAX if nothing). Returns KMQTT_OK, or
 * KMQTT_EKEEPALIVE when a PINGREQ got no answer within half a keepalive
 * (close the connection). */
kmqtt_err_t legacy_session_tick(legacy_session_t *s, uint64_t now_ms, uint64_t *next_ms);

#ifdef __cplusplus
}
#endif
#endif
