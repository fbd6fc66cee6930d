/** @file
 * kmqtt build configuration — one header of `#ifndef` defaults, the lwIP way.
 *
 * A firmware project overrides any of these by defining it before this header
 * is seen: on the compiler command line (-DKMQTT_CFG_V5=0) or in its own
 * "kmqtt_user_config.h", included here when KMQTT_USER_CONFIG is defined.
 * Features switched off cost no flash: a 3.1.1-only, QoS 0/1 build pays
 * nothing for MQTT 5.0 properties or the QoS 2 exchange. Calling a feature
 * that was compiled out returns KMQTT_EUNSUPPORTED.
 */
#ifndef KMQTT_CONFIG_H
#define KMQTT_CONFIG_H

#ifdef KMQTT_USER_CONFIG
#include "kmqtt_user_config.h"
#endif

/* ------------------------------------------------------------- features */

/** MQTT 5.0 (properties, reason codes, AUTH, topic aliases). 0 = 3.1.1 only. */
#ifndef KMQTT_CFG_V5
#define KMQTT_CFG_V5 1
#endif

/** QoS 2 (PUBREC/PUBREL/PUBCOMP both ways). 0 = QoS 0 and 1 only. */
#ifndef KMQTT_CFG_QOS2
#define KMQTT_CFG_QOS2 1
#endif

/** The server direction of the codec (decoding CONNECT, SUBSCRIBE, ...;
 * encoding CONNACK, SUBACK, ...), needed by test brokers and the fuzzer,
 * not by a client. */
#ifndef KMQTT_CFG_SERVER_CODEC
#define KMQTT_CFG_SERVER_CODEC 1
#endif

/** Human-readable kmqtt_strerror texts. 0 = every code but KMQTT_OK reads
 * one fixed text pointing at kmqtt/error.h (saves about 2.3 KB of flash). */
#ifndef KMQTT_CFG_STRERROR
#define KMQTT_CFG_STRERROR 1
#endif

/** Logging through the application's log hook. */
#ifndef KMQTT_CFG_LOG
#define KMQTT_CFG_LOG 1
#endif

/** TLS transport (a port or src/transport/ provides it). */
#ifndef KMQTT_CFG_TLS
#define KMQTT_CFG_TLS 1
#endif

/** The offline queue and persistence of store and forward. */
#ifndef KMQTT_CFG_OFFLINE_QUEUE
#define KMQTT_CFG_OFFLINE_QUEUE 1
#endif

/** 3.1.1: the resend of unacknowledged messages on the same connection after
 * kmqtt_session_config_t.retry_ms (the threaded client's option retry_ms).
 * 0 = only the resend after a reconnect (the only one 5.0 allows). */
#ifndef KMQTT_CFG_RETRY
#define KMQTT_CFG_RETRY 1
#endif

/** 5.0 topic aliases in the engine, both ways (the caller's slots,
 * kmqtt_session_buffers_t.alias_*). 0 = no code for them: the nano build. */
#ifndef KMQTT_CFG_TOPIC_ALIAS
#define KMQTT_CFG_TOPIC_ALIAS 1
#endif

/** The 3.1.1 inbound QoS 2 table of one bit per packet id (8 KB of the
 * caller's, kmqtt_session_buffers_t.inbound_bits): never full, never forgets
 * an id. 0 = the engine has no code for it (the nano build). */
#ifndef KMQTT_CFG_INBOUND_BITS
#define KMQTT_CFG_INBOUND_BITS 1
#endif

/** Inbound messages in pieces (issue #19): with
 * kmqtt_session_config_t.max_packet_size above the receive buffer, a
 * PUBLISH that does not fit rx is handed over as it arrives (topic and
 * properties, payload chunks, end) instead of being refused. 0 = no code
 * for it (the minimal nano builds of make size): max_packet_size above rx
 * is then KMQTT_EUNSUPPORTED. */
#ifndef KMQTT_CFG_STREAM
#define KMQTT_CFG_STREAM 1
#endif

/* ------------------------------- defaults of both clients (nano and threaded) */

/** Keepalive in seconds both clients ask for by default (0 = off). */
#ifndef KMQTT_CFG_KEEPALIVE_S
#define KMQTT_CFG_KEEPALIVE_S 60
#endif
/** A PINGRESP must follow its PINGREQ within this long; 0 = half the
 * keepalive in force (docs/architecture.md, decision 7). */
#ifndef KMQTT_CFG_PING_TIMEOUT_MS
#define KMQTT_CFG_PING_TIMEOUT_MS 0
#endif
/** Opening the transport, and then the CONNACK, each may take this long. */
#ifndef KMQTT_CFG_CONNECT_TIMEOUT_MS
#define KMQTT_CFG_CONNECT_TIMEOUT_MS 10000
#endif
/** Reconnect backoff: a random wait in [d/2, d], d doubling from this
 * minimum to KMQTT_CFG_RECONNECT_MAX_MS. */
#ifndef KMQTT_CFG_RECONNECT_MIN_MS
#define KMQTT_CFG_RECONNECT_MIN_MS 1000
#endif
/** The most the reconnect backoff's d grows to. */
#ifndef KMQTT_CFG_RECONNECT_MAX_MS
#define KMQTT_CFG_RECONNECT_MAX_MS 60000
#endif

/* ------------------------------------------- defaults of the client options */

#ifndef KMQTT_CFG_RX_BUFFER_SIZE
/** Default kmqtt_client_options_t.rx_buffer_size: the largest incoming packet. */
#define KMQTT_CFG_RX_BUFFER_SIZE 4096
#endif
#ifndef KMQTT_CFG_TX_BUFFER_SIZE
/** Default kmqtt_client_options_t.tx_buffer_size: the send buffer. */
#define KMQTT_CFG_TX_BUFFER_SIZE 4096
#endif
#ifndef KMQTT_CFG_STORE_SIZE
/** Default kmqtt_client_options_t.store_size: bytes for unacknowledged QoS 1/2. */
#define KMQTT_CFG_STORE_SIZE 8192
#endif
#ifndef KMQTT_CFG_MAX_INFLIGHT
/** Default kmqtt_client_options_t.max_inflight: QoS 1/2 publishes in flight. */
#define KMQTT_CFG_MAX_INFLIGHT 20
#endif
#ifndef KMQTT_CFG_MAX_SUBSCRIPTIONS
/** Default kmqtt_client_options_t.max_subscriptions: handlers kept. */
#define KMQTT_CFG_MAX_SUBSCRIPTIONS 32
#endif
/** Longest subscription filter when the client runs from application memory
 * (kmqtt_client_options_t.memory): the filter table is made at create. */
#ifndef KMQTT_CFG_MAX_FILTER_LEN
#define KMQTT_CFG_MAX_FILTER_LEN 128
#endif
#ifndef KMQTT_CFG_MAX_TOPIC_LEN
/** Default kmqtt_client_options_t.max_topic_len: the longest topic accepted. */
#define KMQTT_CFG_MAX_TOPIC_LEN 1024

#endif

/* ------------------------------------ tables inside the client structure */

/** Results of completed QoS 1/2 publishes kept for kmqtt_publish_wait (4
 * bytes each): a wait for an id that fell out of this ring no longer finds
 * its result. Keep it at least max_inflight if you wait on every id. */
#ifndef KMQTT_CFG_DONE_RING
#define KMQTT_CFG_DONE_RING 64
#endif
/** SUBSCRIBE / UNSUBSCRIBE awaiting their ack at once (about 36 bytes each
 * on a 32-bit target); one more waiting caller gets KMQTT_ELIMIT. */
#ifndef KMQTT_CFG_MAX_REQUESTS
#define KMQTT_CFG_MAX_REQUESTS 8
#endif

#endif
