/*
 * A scripted MQTT broker for the backpressure matrix: it accepts one client
 * on a free loopback port and plays the server side of every layer itself:
 * TLS (OpenSSL, server side, over memory BIOs), WebSocket (HTTP upgrade,
 * Sec-WebSocket-Accept, subprotocol mqtt, every client frame's header, mask
 * bit, opcode and length checked), and MQTT 3.1.1 (CONNECT -> CONNACK,
 * PUBLISH QoS 0/1 -> PUBACK, PINGREQ, DISCONNECT), parsing every packet
 * strictly and checking every numbered message (bp_msg.h) for order and
 * content. Nothing of a client library is used on this side, so a stream
 * the client corrupted cannot be "understood" by the same mistake.
 *
 * It reads the way a slow link or a busy broker does:
 *  - BP_PEER_STALL: at full speed, but stops reading (and writing) for
 *    stall_ms once stall_at bytes have arrived from the socket;
 *  - BP_PEER_SLOW: one byte per recv() for the whole connection.
 * Its socket's receive buffer is small, so the client feels it at once.
 *
 * The peer runs in its own thread from bp_peer_start to bp_peer_finish. The
 * first error ends the connection (the client sees it closed) and is kept
 * with the number of the message where the stream went wrong.
 */
#ifndef KMQTT_BP_PEER_H
#define KMQTT_BP_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "bp_msg.h"

typedef enum bp_behaviour { BP_PEER_STALL = 0, BP_PEER_SLOW } bp_behaviour_t;

typedef struct bp_peer_opts {
    bool tls; /* TLS server side (cert_file, key_file: PEM) */
    bool ws;  /* WebSocket server side (path "/mqtt") */
    const char *cert_file;
    const char *key_file;
    bp_behaviour_t behaviour;
    uint64_t stall_at;   /* BP_PEER_STALL: socket bytes read before the stall */
    uint32_t stall_ms;   /* BP_PEER_STALL: how long it reads nothing */
    uint8_t qos;         /* the QoS every numbered message must have */
    uint32_t count;      /* messages the client will send */
    bp_sizes_t sizes;    /* their size class */
    uint32_t timeout_ms; /* the whole connection, from start */
} bp_peer_opts_t;

typedef struct bp_peer_result {
    uint32_t received;  /* messages that arrived, in order and intact (first deliveries) */
    uint32_t dups;      /* QoS 1: messages that arrived again (DUP set, bytes intact) */
    bool connected;     /* a client connected and its CONNECT was accepted */
    bool end_ok;        /* the end marker came after all count messages */
    bool disconnected;  /* DISCONNECT arrived */
    bool stalled;       /* BP_PEER_STALL: the stall happened */
    uint64_t bytes_in;  /* socket bytes read */
    uint64_t frames;    /* WebSocket data frames */
    uint64_t max_frame; /* largest WebSocket frame payload */
    char tls_version[16];
    bool failed;
    char error[320]; /* the first error, with the message number where it happened */
} bp_peer_result_t;

typedef struct bp_peer bp_peer_t;

/* Binds a listener on 127.0.0.1 (a free port) and starts the peer's
 * thread. NULL (with a message on stderr) if it could not. */
bp_peer_t *bp_peer_start(const bp_peer_opts_t *o);

uint16_t bp_peer_port(const bp_peer_t *p);

/* Tells the peer the client side is done (so it stops waiting for a client
 * that never came, or reads what is left and ends at EOF), waits for its
 * thread, fills *out and frees everything. Blocks (bounded by timeout_ms). */
void bp_peer_finish(bp_peer_t *p, bp_peer_result_t *out);

#endif
