/*
 * Test support for the protocol engine (include/kmqtt/session.h): one
 * session over small buffers, fed scripted server bytes, its output compared
 * as hex, time only the now_ms each call passes (a fake clock).
 */
#ifndef KMQTT_TEST_ENGINE_SCRIPT_H
#define KMQTT_TEST_ENGINE_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/session.h"

#define ET_RX_SIZE    256
#define ET_TX_SIZE    256
#define ET_STORE_SIZE 1024
#define ET_INBOUND    4
#define ET_REQUESTS   2

typedef struct et {
    kmqtt_session_config_t cfg;
    kmqtt_session_buffers_t bufs;
    kmqtt_session_t s;
    uint8_t rx[ET_RX_SIZE];
    uint8_t tx[ET_TX_SIZE];
    uint8_t store[ET_STORE_SIZE];
    uint16_t inbound[ET_INBOUND];
    kmqtt_session_request_t req[ET_REQUESTS];
    kmqtt_session_event_t ev; /* the last event taken */
    /* the change hook's log */
    int changes;
    kmqtt_session_change_t change[16];
    uint16_t change_id[16];
    size_t change_len[16];
} et_t;

/* Configuration for version v (client id "dev1", keepalive 60, ping timeout
 * 10 s, clean session, max_inflight 8) and the buffers above; the test may
 * change cfg/bufs, then calls et_init. */
void et_setup(et_t *t, uint8_t version);
kmqtt_err_t et_init(et_t *t);
/* et_setup + et_init that must succeed; the change hook logs into t. */
void et_start(et_t *t, uint8_t version);
/* kmqtt_session_start at now, the CONNECT dropped, the CONNACK (session
 * present as given; 5.0 with the property block hex props, "" for none) fed
 * and taken as KMQTT_SESSION_EV_CONNACK with reason 0. */
void et_connect(et_t *t, uint32_t now, bool sp, const char *props);

/* Server bytes into rx (they must fit). */
void et_feed(et_t *t, const char *hex, uint32_t now);
/* kmqtt_session_next_event at now into t->ev; returns its result. */
kmqtt_err_t et_next(et_t *t, uint32_t now);
/* The next event must be of this type; returns &t->ev. */
const kmqtt_session_event_t *et_take_at(et_t *t, kmqtt_session_event_type_t type, uint32_t now,
                                        const char *file, int line);
#define et_take(t, type, now) et_take_at(t, type, now, __FILE__, __LINE__)
/* No event now. */
#define et_none(t, now) assert_int_equal(et_next(t, now), KMQTT_NEED_MORE)

/* What tx holds must be exactly these bytes; all of it is then taken. */
void et_expect_sent_at(et_t *t, const char *hex, uint32_t now, const char *file, int line);
#define et_expect_sent(t, hex, now) et_expect_sent_at(t, hex, now, __FILE__, __LINE__)
/* Drops what tx holds (taken by the transport at now). */
void et_drain(et_t *t, uint32_t now);

/* Hex of a two-byte-id packet: first byte, 02, id. One of four buffers. */
const char *et_ack(uint8_t first, uint16_t id);
#endif
