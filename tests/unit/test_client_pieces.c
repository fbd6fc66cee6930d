/*
 * The threaded client's messages in pieces over a scripted transport (no
 * network): on_message_piece gets BEGIN, DATA in order, END; the PUBACK
 * leaves after END; a connection closed in the middle gives ABORT before
 * the state callback hears CONNECTION_LOST, and nothing was acknowledged.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/client.h"

#define PAYLOAD 1000u

/* A transport that hands out scripted bytes, takes everything sent, and
 * reports the peer closed once the script ran out (when told to). One
 * thread only (the test runs the loop with kmqtt_run). */
typedef struct script {
    uint8_t in[4096];
    size_t in_len, in_off;
    size_t chunk; /* bytes per recv */
    bool close_at_end;
    bool open;
    uint8_t out[4096];
    size_t out_len;
} script_t;

static kmqtt_err_t s_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    script_t *s = ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    s->open = true;
    return KMQTT_OK;
}

static long s_send(void *ctx, const void *buf, size_t len)
{
    script_t *s = ctx;
    if (!s->open)
        return KMQTT_ENOTCONN;
    if (len > sizeof s->out - s->out_len)
        len = sizeof s->out - s->out_len;
    memcpy(s->out + s->out_len, buf, len);
    s->out_len += len;
    return (long)len;
}

static long s_recv(void *ctx, void *buf, size_t len)
{
    script_t *s = ctx;
    size_t n = s->in_len - s->in_off;
    if (!s->open)
        return KMQTT_ENOTCONN;
    if (n == 0)
        return s->close_at_end ? KMQTT_ECLOSED : 0;
    if (n > len)
        n = len;
    if (n > s->chunk)
        n = s->chunk;
    memcpy(buf, s->in + s->in_off, n);
    s->in_off += n;
    return (long)n;
}

static kmqtt_err_t s_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    script_t *s = ctx;
    (void)timeout_ms; /* the script is ready or will never be: no sleeping */
    *ready = 0;
    if (s->open && (events & KMQTT_WAIT_READ) && (s->in_off < s->in_len || s->close_at_end))
        *ready |= KMQTT_WAIT_READ;
    if (s->open && (events & KMQTT_WAIT_WRITE))
        *ready |= KMQTT_WAIT_WRITE;
    return KMQTT_OK;
}

static void s_wake(void *ctx)
{
    (void)ctx;
}

static void s_close(void *ctx)
{
    script_t *s = ctx;
    s->open = false;
}

static void s_destroy(void *ctx)
{
    (void)ctx;
}

static void feed(script_t *s, const void *bytes, size_t n)
{
    assert_true(n <= sizeof s->in - s->in_len);
    memcpy(s->in + s->in_len, bytes, n);
    s->in_len += n;
}

/* What the callbacks saw, in order: 'B', 'D', 'E', 'A' for the pieces, 'L'
 * for CONNECTION_LOST. */
typedef struct seen {
    char log[2048];
    size_t n;
    uint8_t payload[PAYLOAD];
    size_t bytes, total;
    bool gap;
    size_t out_at_end; /* bytes sent when END came */
    script_t *s;
} seen_t;

static void on_piece(kmqtt_client_t *c, const kmqtt_message_piece_t *p, void *ctx)
{
    seen_t *v = ctx;
    (void)c;
    static const char kinds[] = "?BDEA";
    if (v->n < sizeof v->log - 1)
        v->log[v->n++] = kinds[p->kind];
    switch (p->kind) {
    case KMQTT_PIECE_BEGIN:
        assert_non_null(p->msg);
        assert_int_equal(p->msg->topic.len, 2);
        assert_memory_equal(p->msg->topic.ptr, "fw", 2);
        v->total = p->total;
        v->bytes = 0;
        break;
    case KMQTT_PIECE_DATA:
        if (p->offset != v->bytes)
            v->gap = true;
        assert_true(p->offset + p->len <= PAYLOAD);
        memcpy(v->payload + p->offset, p->data, p->len);
        v->bytes += p->len;
        break;
    case KMQTT_PIECE_END:
        v->out_at_end = v->s->out_len;
        break;
    case KMQTT_PIECE_ABORT:
        assert_int_equal(p->offset, v->bytes);
        assert_int_equal(p->total, v->total);
        break;
    }
}

static void on_state(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    seen_t *v = ctx;
    (void)c;
    (void)err;
    if (st == KMQTT_STATE_CONNECTION_LOST && v->n < sizeof v->log - 1)
        v->log[v->n++] = 'L';
}

static size_t encode_publish(uint8_t *out, size_t cap, uint8_t *payload)
{
    kmqtt_packet_t p;
    size_t n;
    for (size_t i = 0; i < PAYLOAD; i++)
        payload[i] = (uint8_t)(i * 5u + 3u);
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish.topic.ptr = "fw";
    p.u.publish.topic.len = 2;
    p.u.publish.qos = 1;
    p.u.publish.packet_id = 7;
    p.u.publish.payload.ptr = payload;
    p.u.publish.payload.len = PAYLOAD;
    assert_int_equal(kmqtt_packet_encode(&p, KMQTT_V311, out, cap, &n), KMQTT_OK);
    return n;
}

static kmqtt_client_t *start(script_t *s, kmqtt_transport_t *tr, seen_t *v)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    memset(s, 0, sizeof *s);
    memset(v, 0, sizeof *v);
    v->s = s;
    s->chunk = 50;
    tr->ctx = s;
    tr->open = s_open;
    tr->send = s_send;
    tr->recv = s_recv;
    tr->wait = s_wait;
    tr->wake = s_wake;
    tr->close = s_close;
    tr->destroy = s_destroy;
    kmqtt_client_options_init(&o);
    o.client_id = "pieces";
    o.keepalive_s = 0;
    o.rx_buffer_size = 64;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.transport = tr;
    o.on_message_piece = on_piece;
    o.on_state = on_state;
    o.ctx = v;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    feed(s, "\x20\x02\x00\x00", 4); /* CONNACK */
    assert_int_equal(kmqtt_connect(c, 1000, NULL), KMQTT_OK);
    s->out_len = 0; /* the CONNECT */
    return c;
}

/* 1,000 bytes through a 64-byte rx: BEGIN, DATA in order, END; the PUBACK
 * leaves only after END (MQTT-4.3.2-4: once the message is ours). */
static void pieces_then_puback_after_end(void **state)
{
    (void)state;
    script_t s;
    kmqtt_transport_t tr;
    seen_t v;
    uint8_t pkt[PAYLOAD + 16], payload[PAYLOAD];
    kmqtt_client_t *c = start(&s, &tr, &v);
    feed(&s, pkt, encode_publish(pkt, sizeof pkt, payload));
    for (int i = 0; i < 100 && s.in_off < s.in_len; i++)
        assert_int_equal(kmqtt_run(c, 0), KMQTT_OK);
    assert_int_equal(kmqtt_run(c, 0), KMQTT_OK);
    assert_true(v.n >= 3);
    assert_int_equal(v.log[0], 'B');
    assert_int_equal(v.log[v.n - 1], 'E');
    for (size_t i = 1; i + 1 < v.n; i++)
        assert_int_equal(v.log[i], 'D');
    assert_false(v.gap);
    assert_int_equal(v.bytes, PAYLOAD);
    assert_memory_equal(v.payload, payload, PAYLOAD);
    assert_int_equal(v.out_at_end, 0); /* nothing answered before END */
    assert_int_equal(s.out_len, 4);
    assert_memory_equal(s.out, "\x40\x02\x00\x07", 4);
    kmqtt_client_destroy(c);
}

/* Closed half way: ABORT, then CONNECTION_LOST; no PUBACK left. */
static void closed_half_way_aborts_before_lost(void **state)
{
    (void)state;
    script_t s;
    kmqtt_transport_t tr;
    seen_t v;
    uint8_t pkt[PAYLOAD + 16], payload[PAYLOAD];
    kmqtt_client_t *c = start(&s, &tr, &v);
    feed(&s, pkt, encode_publish(pkt, sizeof pkt, payload) / 2);
    s.close_at_end = true;
    kmqtt_err_t err = KMQTT_OK;
    for (int i = 0; i < 100 && err == KMQTT_OK; i++)
        err = kmqtt_run(c, 0);
    assert_int_equal(err, KMQTT_ECLOSED);
    assert_true(v.n >= 4);
    assert_int_equal(v.log[0], 'B');
    assert_int_equal(v.log[v.n - 2], 'A');
    assert_int_equal(v.log[v.n - 1], 'L');
    assert_true(v.bytes > 0 && v.bytes < PAYLOAD);
    assert_int_equal(s.out_len, 0);
    kmqtt_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pieces_then_puback_after_end),
        cmocka_unit_test(closed_half_way_aborts_before_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
