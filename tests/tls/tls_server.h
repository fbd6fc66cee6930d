/*
 * An in-test TLS server (OpenSSL, one thread, one connection) for the
 * backpressure and renegotiation tests of the TLS transports: it listens on
 * a free loopback port with a small receive buffer, so a client that sends
 * while it does not read meets "would block" within a few kilobytes, and it
 * plays a busy broker: it stops reading for a while, then reads everything
 * and checks it byte for byte.
 *
 * The stream the client sends is made of numbered records (tsrv_stream_byte):
 * a lost, doubled or misplaced byte shows at once, with its offset.
 */
#ifndef KMQTT_TEST_TLS_SERVER_H
#define KMQTT_TEST_TLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records of the stream: a 4-byte big-endian number, then bytes that depend
 * on the number and the position. */
#define TSRV_RECORD 1000u

/* The byte at offset off of the stream. */
uint8_t tsrv_stream_byte(uint64_t off);

typedef enum tsrv_mode {
    /* The decrypted bytes are the stream. */
    TSRV_STREAM,
    /* A WebSocket upgrade (RFC 6455, subprotocol mqtt); then every frame
     * must be a masked, final, binary frame and their payload is the stream. */
    TSRV_WS,
    /* MQTT: reads the CONNECT, answers CONNACK (accepted), sends a TLS 1.2
     * HelloRequest (asks for a renegotiation), then reads nothing and
     * answers nothing for first_stall_ms, then closes. */
    TSRV_MQTT_RENEG
} tsrv_mode_t;

typedef struct tsrv_opts {
    tsrv_mode_t mode;
    const char *cert_file, *key_file; /* PEM */
    bool tls12;                       /* at most TLS 1.2 (always for TSRV_MQTT_RENEG) */
    uint64_t expect;                  /* STREAM, WS: bytes of the stream to come */
    unsigned first_stall_ms;          /* after the handshake (and upgrade): not reading */
    uint64_t stall_every;             /* then a stall after each this many bytes read (0 = none) */
    unsigned stall_ms;
    /* STREAM: this long into the first stall, a HelloRequest (0 = none);
     * the stall then goes on to its end. */
    unsigned hello_request_at_ms;
} tsrv_opts_t;

typedef struct tsrv tsrv_t;

/* Listens on 127.0.0.1 (free port) and serves one connection in a thread.
 * NULL (with a message on stderr) if it could not. */
tsrv_t *tsrv_start(const tsrv_opts_t *o);
uint16_t tsrv_port(const tsrv_t *s);

/* Shrinks the send buffer of this process's socket connected to port (the
 * client's: the port's TCP transport keeps its descriptor to itself, so it
 * is found by its peer address) to a few kilobytes, so that the client meets
 * "would block" soon, as on a slow link, instead of after megabytes of
 * kernel buffer. Returns how many sockets it changed (1 expected). */
int tsrv_shrink_client_socket(uint16_t port);

/* Waits for the connection to end (every wait of the server is bounded: 20 s
 * without a byte ends it) and frees s. True when the server saw what it
 * expected: STREAM and WS, exactly expect bytes of the stream, all correct,
 * then the end; TSRV_MQTT_RENEG, the CONNECT and its HelloRequest sent.
 * Otherwise why says what went wrong (first bad byte, bytes received, TLS
 * error). */
bool tsrv_finish(tsrv_t *s, char *why, size_t cap);

#endif
