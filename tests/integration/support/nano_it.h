/*
 * Shared by the nano integration tests (test_nano_*.c): one nano client over
 * the POSIX TCP transport (or any transport the test sets), with static
 * buffers, an event recorder and pumps (poll, check, wait) with a
 * wall-clock deadline. Header-only (static inline) so that the support
 * objects every integration test links stay free of nano symbols.
 *
 * Include after cmocka.h.
 */
#ifndef KMQTT_IT_NANO_H
#define KMQTT_IT_NANO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "kmqtt/nano.h"
#include "kmqtt/store.h" /* kmqtt_crc32 */
#include "kmqtt/port.h"

#define NIT_MAX_MSGS 256
#define NIT_MAX_PUB  256

typedef struct nit_msg {
    char topic[128];
    uint8_t payload[256];
    size_t len;
    uint8_t qos;
    bool retain;
    bool dup;
    uint16_t packet_id;
    uint8_t props[256];
    size_t props_len;
} nit_msg_t;

typedef struct nit {
    kmqtt_transport_t tr;
    bool tr_made;
    kmqtt_nano_config_t cfg;
    kmqtt_nano_buffers_t bufs;
    kmqtt_nano_t c;
    uint8_t rx[2048];
    uint8_t tx[2048];
    uint8_t store[8192];
    /* What the callback saw. */
    int connected, connect_failed, lost, suback, unsuback, auth;
    kmqtt_err_t fail_err, lost_err;
    uint8_t fail_reason, lost_reason;
    bool session_present;
    uint8_t codes[16];
    size_t ncodes;
    uint16_t suback_id;
    nit_msg_t msgs[NIT_MAX_MSGS];
    int nmsgs;
    int published;
    uint16_t pub_ids[NIT_MAX_PUB];
    kmqtt_err_t pub_errs[NIT_MAX_PUB];
    uint8_t pub_reasons[NIT_MAX_PUB];
    /* Messages in pieces (issue #19): counted and hashed, never kept. */
    int piece_begins, piece_ends, piece_aborts, piece_chunks;
    size_t piece_bytes, piece_total;
    uint32_t piece_crc;
    bool piece_gap; /* a chunk's offset was not the bytes before it */
} nit_t;

static inline uint32_t nit_now(void)
{
    return (uint32_t)kmqtt_port_now_ms();
}

static inline void nit_on_event(void *user, const kmqtt_nano_event_t *ev)
{
    nit_t *n = (nit_t *)user;
    size_t i;
    switch (ev->type) {
    case KMQTT_NANO_EV_CONNECTED:
        n->connected++;
        n->session_present = ev->session_present;
        break;
    case KMQTT_NANO_EV_CONNECT_FAILED:
        n->connect_failed++;
        n->fail_err = ev->err;
        n->fail_reason = ev->reason_code;
        break;
    case KMQTT_NANO_EV_LOST:
        n->lost++;
        n->lost_err = ev->err;
        n->lost_reason = ev->reason_code;
        break;
    case KMQTT_NANO_EV_MESSAGE:
        if (n->nmsgs < NIT_MAX_MSGS && ev->msg != NULL) {
            nit_msg_t *m = &n->msgs[n->nmsgs];
            size_t tl = ev->msg->topic_len < sizeof(m->topic) - 1 ? ev->msg->topic_len
                                                                  : sizeof(m->topic) - 1;
            memcpy(m->topic, ev->msg->topic, tl);
            m->topic[tl] = '\0';
            m->len = ev->msg->payload_len < sizeof(m->payload) ? ev->msg->payload_len
                                                               : sizeof(m->payload);
            memcpy(m->payload, ev->msg->payload, m->len);
            m->qos = ev->msg->qos;
            m->retain = ev->msg->retain;
            m->dup = ev->msg->dup;
            m->packet_id = ev->msg->packet_id;
            m->props_len = ev->msg->props_len < sizeof(m->props) ? ev->msg->props_len : 0;
            if (m->props_len > 0) {
                memcpy(m->props, ev->msg->props, m->props_len);
            }
        }
        n->nmsgs++;
        break;
    case KMQTT_NANO_EV_PUBLISHED:
        if (n->published < NIT_MAX_PUB) {
            n->pub_ids[n->published] = ev->packet_id;
            n->pub_errs[n->published] = ev->err;
            n->pub_reasons[n->published] = ev->reason_code;
        }
        n->published++;
        break;
    case KMQTT_NANO_EV_SUBACK:
    case KMQTT_NANO_EV_UNSUBACK:
        if (ev->type == KMQTT_NANO_EV_SUBACK) {
            n->suback++;
        } else {
            n->unsuback++;
        }
        n->suback_id = ev->packet_id;
        n->ncodes = ev->count < sizeof(n->codes) ? ev->count : sizeof(n->codes);
        for (i = 0; i < n->ncodes; i++) {
            n->codes[i] = ev->codes[i];
        }
        break;
    case KMQTT_NANO_EV_AUTH:
        n->auth++;
        break;
    case KMQTT_NANO_EV_MESSAGE_BEGIN:
        n->piece_begins++;
        n->piece_bytes = 0;
        n->piece_total = ev->total;
        n->piece_crc = 0;
        break;
    case KMQTT_NANO_EV_MESSAGE_CHUNK:
        if (ev->offset != n->piece_bytes)
            n->piece_gap = true;
        n->piece_chunks++;
        n->piece_crc = kmqtt_crc32(n->piece_crc, ev->msg->payload, ev->msg->payload_len);
        n->piece_bytes += ev->msg->payload_len;
        break;
    case KMQTT_NANO_EV_MESSAGE_END:
        n->piece_ends++;
        break;
    case KMQTT_NANO_EV_MESSAGE_ABORT:
        n->piece_aborts++;
        break;
    }
}

/* A client of 127.0.0.1:port with id, over a fresh TCP transport from mem
 * (which must outlive it). Defaults: 3.1.1, clean session, keepalive 60,
 * reconnect 50..400 ms (tests wait for reconnects, so they are quick). */
static inline void nit_setup(nit_t *n, kmqtt_mem_t *mem, uint16_t port, const char *id)
{
    memset(n, 0, sizeof(*n));
    assert_int_equal(kmqtt_port_tcp_create(mem, &n->tr), KMQTT_OK);
    n->tr_made = true;
    kmqtt_nano_config_init(&n->cfg);
    n->cfg.transport = &n->tr;
    n->cfg.host = "127.0.0.1";
    n->cfg.port = port;
    n->cfg.mqtt.client_id = id;
    n->cfg.connect_timeout_ms = 5000;
    n->cfg.reconnect_min_ms = 50;
    n->cfg.reconnect_max_ms = 400;
    n->cfg.on_event = nit_on_event;
    n->cfg.user = n;
    n->bufs.rx = n->rx;
    n->bufs.rx_size = sizeof(n->rx);
    n->bufs.tx = n->tx;
    n->bufs.tx_size = sizeof(n->tx);
    n->bufs.store = n->store;
    n->bufs.store_size = sizeof(n->store);
}

static inline void nit_init(nit_t *n)
{
    assert_int_equal(kmqtt_nano_init(&n->c, &n->cfg, &n->bufs), KMQTT_OK);
}

/* Disconnects (if needed) and destroys the transport. */
static inline void nit_teardown(nit_t *n)
{
    if (n->tr_made) {
        if (kmqtt_nano_state(&n->c) != KMQTT_NANO_IDLE) {
            (void)kmqtt_nano_disconnect(&n->c, 0, 2000);
        }
        n->tr.destroy(n->tr.ctx);
        n->tr_made = false;
    }
}

/* Polls, and waits in the transport for at most max_ms (less if the client
 * has something due sooner). */
static inline void nit_poll_wait(nit_t *n, uint32_t max_ms, const int *counter, int want)
{
    uint32_t next = 0;
    unsigned ready = 0;
    assert_int_equal(kmqtt_nano_poll(&n->c, nit_now(), &next), KMQTT_OK);
    if (counter != NULL && *counter >= want) {
        return;
    }
    (void)n->tr.wait(n->tr.ctx,
                     KMQTT_WAIT_READ | (kmqtt_nano_want_write(&n->c) ? KMQTT_WAIT_WRITE : 0u),
                     next < max_ms ? next : max_ms, &ready);
}

/* Polls the client until *counter >= want or timeout_ms passes. Poll, check,
 * then wait: kmqtt_nano_step waits after the poll that delivered the event,
 * which would cost a whole wait per round trip. */
static inline bool nit_pump_until(nit_t *n, const int *counter, int want, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    while (*counter < want) {
        if (now_ms() >= end) {
            return false;
        }
        nit_poll_wait(n, 20, counter, want);
    }
    return true;
}

/* Steps the client for ms milliseconds (to let something not happen). */
static inline void nit_pump_for(nit_t *n, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    while (now_ms() < end) {
        assert_int_equal(kmqtt_nano_step(&n->c, nit_now(), 20), KMQTT_OK);
    }
}

/* kmqtt_nano_connect and pump until CONNECTED; fails the test on anything else. */
static inline void nit_connect(nit_t *n)
{
    int want = n->connected + 1;
    int failed = n->connect_failed;
    assert_int_equal(kmqtt_nano_connect(&n->c, nit_now()), KMQTT_OK);
    if (!nit_pump_until(n, &n->connected, want, 10000) || n->connect_failed != failed) {
        fail_msg("nano did not connect: %d failures, last %s reason %u", n->connect_failed,
                 kmqtt_strerror(n->fail_err), (unsigned)n->fail_reason);
    }
    assert_int_equal(kmqtt_nano_state(&n->c), KMQTT_NANO_CONNECTED);
}

/* Subscribes one filter and waits for its SUBACK; returns the granted code. */
static inline uint8_t nit_subscribe(nit_t *n, const char *filter, uint8_t options)
{
    kmqtt_nano_sub_t s;
    uint16_t id = 0;
    int want = n->suback + 1;
    s.filter = filter;
    s.options = options;
    assert_int_equal(kmqtt_nano_subscribe(&n->c, &s, 1, NULL, 0, nit_now(), &id), KMQTT_OK);
    assert_true(nit_pump_until(n, &n->suback, want, 10000));
    assert_int_equal(n->suback_id, id);
    assert_int_equal(n->ncodes, 1);
    return n->codes[0];
}

/* Publishes a NUL-terminated payload. */
static inline kmqtt_err_t nit_publish(nit_t *n, const char *topic, const char *payload, uint8_t qos,
                                      bool retain, uint16_t *id)
{
    kmqtt_nano_msg_t m;
    memset(&m, 0, sizeof(m));
    m.topic = topic;
    m.topic_len = (uint16_t)strlen(topic);
    m.qos = qos;
    m.retain = retain;
    m.payload = (const uint8_t *)payload;
    m.payload_len = strlen(payload);
    return kmqtt_nano_publish(&n->c, &m, nit_now(), id);
}

/* True if message i has this topic and payload. */
static inline bool nit_msg_is(const nit_t *n, int i, const char *topic, const char *payload)
{
    const nit_msg_t *m = &n->msgs[i];
    return strcmp(m->topic, topic) == 0 && m->len == strlen(payload) &&
           memcmp(m->payload, payload, m->len) == 0;
}

/* Prints the broker's log lines that mention needle (on a failure). */
static inline void nit_print_log(const broker_t *br, const char *needle)
{
    char line[512];
    FILE *f = fopen(broker_log_path(br), "r");
    if (f == NULL) {
        return;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, needle) != NULL) {
            print_message("broker: %s", line);
        }
    }
    fclose(f);
}

/* Parses one "P:<hex>:<qos>:<retain>:<topic>" line of broker_sub_start's
 * output at *pos (advanced); the payload into out (NUL-terminated). */
static inline bool nit_sub_line(const char **pos, char *out, size_t cap, int *qos, int *retain,
                                char *topic, size_t tcap)
{
    const char *p = strstr(*pos, "P:");
    size_t k = 0, t = 0;
    unsigned v;
    if (p == NULL) {
        return false;
    }
    p += 2;
    while (p[0] != ':' && p[0] != '\0' && p[1] != '\0') {
        if (sscanf(p, "%2x", &v) != 1 || k + 1 >= cap) {
            return false;
        }
        out[k++] = (char)v;
        p += 2;
    }
    out[k] = '\0';
    if (sscanf(p, ":%d:%d:", qos, retain) != 2) {
        return false;
    }
    p = strchr(p + 1, ':');
    p = p != NULL ? strchr(p + 1, ':') : NULL;
    if (p == NULL) {
        return false;
    }
    p++;
    while (*p != '\n' && *p != '\0' && t + 1 < tcap) {
        topic[t++] = *p++;
    }
    topic[t] = '\0';
    *pos = p;
    return true;
}

#endif
