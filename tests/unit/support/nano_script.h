/*
 * Test support for the nano client (include/kmqtt/nano.h): a scripted
 * transport and a fixture around one client.
 *
 * The transport: open() returns scripted results (KMQTT_OK once the script
 * runs out); recv() hands out queued server bytes, at most `chunk` per call
 * (0 = all), then 0 ("nothing yet"), or `recv_end` once set (e.g.
 * KMQTT_ECLOSED: the peer closed); send() appends to a capture buffer,
 * accepting at most `send_room` bytes in all (-1 = unlimited; 0 simulates a
 * full socket), or, with `gate` set, what the send-contract gate takes of
 * each offer (send_contract.h: refusals where the test says, every re-offer
 * checked); close() is counted; wait() returns at once. Every call on a
 * transport that is not open fails the test, except close().
 *
 * The fixture (nt_t): a client over the scripted transport with small
 * buffers, a configuration the test may change before nt_init, and a log of
 * every event (copies of what the event pointed to). The clock is only the
 * now_ms the test passes.
 */
#ifndef KMQTT_TEST_NANO_SCRIPT_H
#define KMQTT_TEST_NANO_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/nano.h"
#include "send_contract.h"

#define NS_IN_CAP  4096
#define NS_OUT_CAP 8192

typedef struct ns {
    kmqtt_transport_t tp;
    kmqtt_err_t open_script[8];
    int open_script_len;
    int opens;  /* open() calls */
    int closes; /* close() calls while open */
    bool is_open;
    char host[32];
    uint16_t port;
    uint8_t in[NS_IN_CAP];
    size_t in_len, in_off;
    size_t chunk;
    long recv_end; /* returned when the queue is empty: 0, or an error */
    uint8_t out[NS_OUT_CAP];
    size_t out_len;
    long send_room;
    sc_gate_t *gate; /* NULL: send_room decides */
    int send_calls, recv_calls, wait_calls;
    unsigned wait_events;     /* of the last wait() */
    uint32_t wait_timeout_ms; /* of the last wait() */
    bool misuse;              /* send/recv/wait on a closed transport */
} ns_t;

void ns_init(ns_t *s);
/* Appends one scripted open() result. */
void ns_script_open(ns_t *s, kmqtt_err_t result);
/* Queues server bytes given in hex. */
void ns_feed_hex(ns_t *s, const char *hex);
void ns_feed(ns_t *s, const uint8_t *buf, size_t len);
/* Forgets what was captured. */
void ns_clear_out(ns_t *s);

#define NT_EV_MAX    32
#define NT_RX_SIZE   256
#define NT_TX_SIZE   256
#define NT_STORE_CAP 1024

/* One event, copied out of the callback. */
typedef struct nt_ev {
    kmqtt_nano_event_type_t type;
    kmqtt_err_t err;
    uint16_t packet_id;
    uint8_t reason_code;
    bool session_present;
    kmqtt_nano_state_t state; /* the client's state during the callback */
    /* MESSAGE */
    char topic[64];
    uint16_t topic_len;
    uint8_t payload[NT_RX_SIZE];
    size_t payload_len;
    uint8_t qos;
    bool retain, dup;
    uint16_t msg_id;
    uint8_t msg_props[64];
    size_t msg_props_len;
    /* SUBACK / UNSUBACK */
    uint8_t codes[16];
    size_t count;
    uint8_t props[64];
    size_t props_len;
} nt_ev_t;

typedef struct nt nt_t;
/* Called at the end of every event (after it is logged), if set. */
typedef void (*nt_hook_fn)(nt_t *t, const kmqtt_nano_event_t *ev);

struct nt {
    ns_t ns;
    kmqtt_nano_config_t cfg;
    kmqtt_nano_buffers_t bufs;
    kmqtt_nano_t c;
    uint8_t rx[NT_RX_SIZE + 16];
    uint8_t tx[NT_TX_SIZE + 16];
    uint8_t store[NT_STORE_CAP + 16];
    nt_ev_t ev[NT_EV_MAX];
    int nev;  /* events logged */
    int seen; /* events already taken by nt_take */
    nt_hook_fn hook;
    int hook_calls;
};

/* Sets up the transport and a configuration for version v: host "broker",
 * port 1883, client id "dev1", keepalive 60, clean session, reconnect
 * 1000..8000 ms, buffers rx/tx NT_RX_SIZE/NT_TX_SIZE and a store of
 * NT_STORE_CAP (the arrays have guard bytes after them, checked by
 * nt_guards_ok). The test may change cfg/bufs, then calls nt_init. */
void nt_setup(nt_t *t, uint8_t version);
/* kmqtt_nano_init; returns its result. */
kmqtt_err_t nt_init(nt_t *t);
/* nt_setup + nt_init that must succeed. */
void nt_start(nt_t *t, uint8_t version);
/* kmqtt_nano_poll at now, must return KMQTT_OK; returns *next_ms. */
uint32_t nt_poll(nt_t *t, uint32_t now);
/* kmqtt_nano_connect at now (must succeed) and a poll; the captured bytes
 * are left for the test. */
void nt_open(nt_t *t, uint32_t now);
/* nt_open, discard the CONNECT, feed a CONNACK (3.1.1: 20 02 sp 00; 5.0:
 * 20 03 sp 00 00), poll: the client must be CONNECTED with one CONNECTED
 * event. Output and events are cleared. */
void nt_connected(nt_t *t, uint32_t now, bool session_present);

void nt_feed(nt_t *t, const char *hex);
/* The captured output must be exactly these bytes; clears it. */
void nt_expect_sent_at(nt_t *t, const char *hex, const char *file, int line);
#define nt_expect_sent(t, hex) nt_expect_sent_at(t, hex, __FILE__, __LINE__)
/* Nothing was sent since the last check. */
#define nt_expect_nothing_sent(t) nt_expect_sent_at(t, "", __FILE__, __LINE__)

/* The next event not yet taken must be of this type; returns it. */
const nt_ev_t *nt_take_at(nt_t *t, kmqtt_nano_event_type_t type, const char *file, int line);
#define nt_take(t, type) nt_take_at(t, type, __FILE__, __LINE__)
/* No event beyond those taken. */
void nt_no_event_at(nt_t *t, const char *file, int line);
#define nt_no_event(t) nt_no_event_at(t, __FILE__, __LINE__)
/* Drops all events not yet taken. */
void nt_skip_events(nt_t *t);

/* True if the fixture's rx, tx and store arrays are untouched past the sizes
 * the client was given (bufs.*_size). */
bool nt_guards_ok(const nt_t *t);

/* A publish: topic "t/1", payload as given. */
kmqtt_nano_msg_t nt_msg(const char *topic, const char *payload, uint8_t qos, bool retain);

/* Hex of a 3.1.1 PUBLISH (first byte as given; id written when QoS > 0),
 * or of a 5.0 one when v5 (empty property block). One static buffer per
 * call slot: valid until the fourth call after. */
const char *nt_publish_hex(uint8_t first, const char *topic, uint16_t id, const char *payload,
                           bool v5);
/* Hex of a two-byte-id packet: first byte, 02, id (e.g. PUBACK 40, PUBREL 62). */
const char *nt_ack_hex(uint8_t first, uint16_t id);
#endif
