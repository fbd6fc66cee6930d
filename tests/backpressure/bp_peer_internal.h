/*
 * Inside the backpressure peer: its state and the layers' entry points.
 * Bytes flow socket -> bp_peer_raw_in -> [TLS] -> bp_peer_plain_in -> [WS]
 * -> bp_mqtt_in, and answers bp_peer_mqtt_out -> [WS] -> bp_peer_plain_out
 * -> [TLS] -> bp_peer_raw_out -> the socket's output queue. All of it runs
 * on the peer's thread.
 */
#ifndef KMQTT_BP_PEER_INTERNAL_H
#define KMQTT_BP_PEER_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "bp_peer.h"

typedef struct bp_tls bp_tls_t;

enum bp_ws_state { BP_WS_HTTP = 0, BP_WS_HDR, BP_WS_DATA, BP_WS_CTRL, BP_WS_CLOSED };

typedef struct bp_ws {
    enum bp_ws_state state;
    char http[4096]; /* the upgrade request, until its blank line */
    size_t http_len;
    uint8_t hdr[14]; /* the frame header being read */
    size_t hdr_len, hdr_need;
    uint64_t left; /* payload bytes of the current frame still to come */
    uint8_t mask[4];
    unsigned mi; /* mask index of the next payload byte */
    uint8_t op;  /* opcode of the current frame */
    bool fin;    /* FIN of the current frame */
    bool in_msg; /* a fragmented data message is open: only continuations may come */
    uint8_t ctrl[125];
    size_t ctrl_len;
    uint64_t offset; /* bytes of the WebSocket stream so far (after TLS) */
} bp_ws_t;

typedef struct bp_mqtt {
    uint8_t *pkt; /* the packet being assembled */
    size_t len, cap;
    size_t need; /* its full length once the fixed header is known, else 0 */
    bool connected, disconnected;
    uint32_t next;    /* number of the next message expected */
    uint64_t packets; /* packets parsed */
} bp_mqtt_t;

struct bp_peer {
    bp_peer_opts_t o;
    int lfd, fd;
    uint16_t port;
    int wake[2]; /* bp_peer_finish writes here: the client side is done */
    pthread_t thread;
    uint64_t deadline;
    uint8_t *out; /* bytes waiting for the socket */
    size_t out_len, out_cap;
    bp_tls_t *tls;
    bp_ws_t ws;
    bp_mqtt_t mq;
    bp_peer_result_t res;
};

/* Records the first error (formatted, prefixed with the message number where
 * the stream went wrong); later ones are ignored. */
void bp_peer_fail(bp_peer_t *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void bp_peer_raw_out(bp_peer_t *p, const uint8_t *b, size_t n);
void bp_peer_plain_in(bp_peer_t *p, const uint8_t *b, size_t n);
void bp_peer_plain_out(bp_peer_t *p, const uint8_t *b, size_t n);
void bp_peer_mqtt_out(bp_peer_t *p, const uint8_t *b, size_t n);

/* TLS server side (bp_tls_server.c). */
bp_tls_t *bp_tls_new(bp_peer_t *p);
void bp_tls_in(bp_peer_t *p, const uint8_t *b, size_t n);
void bp_tls_out(bp_peer_t *p, const uint8_t *b, size_t n);
void bp_tls_free(bp_tls_t *t);

/* WebSocket server side (bp_ws_server.c). */
void bp_ws_in(bp_peer_t *p, const uint8_t *b, size_t n);
void bp_ws_out(bp_peer_t *p, const uint8_t *b, size_t n);

/* MQTT server side (bp_mqtt_server.c). */
bool bp_mqtt_init(bp_mqtt_t *m);
void bp_mqtt_in(bp_peer_t *p, const uint8_t *b, size_t n);
void bp_mqtt_free(bp_mqtt_t *m);

#endif
