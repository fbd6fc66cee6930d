/*
 * The WebSocket transport and the send contract (include/kmqtt/port.h,
 * DESIGN.md rule 6), over a lower transport that refuses sends where the test
 * says and checks every offer (tests/unit/support/send_contract.h): a frame
 * that was offered is offered again as built (same header, same mask, same
 * masked bytes) until the lower took all of it; what the caller is told was
 * taken is payload the lower really took; pongs and close frames never go
 * inside a frame, never replace one that was refused; and a caller that
 * offers fewer bytes than it owes is refused. Every frame the lower took is
 * decoded (RFC 6455 5.2: masked, FIN, binary) and its payload compared with
 * what the caller sent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/transport.h"
#include "send_contract.h"
#include "ws_internal.h"

#define SINK_CAP (1024 * 1024)
#define IN_CAP   4096

/* -------------------------------------------------- the checking lower */

typedef struct lower {
    sc_gate_t gate;
    uint8_t held[64 * 1024];
    uint8_t out[SINK_CAP];       /* every byte taken, in order */
    size_t out_len, frames_from; /* frames_from: where frames begin (after the request) */
    uint8_t in[IN_CAP];          /* what the "server" sends */
    size_t in_len, in_pos;
    bool is_open, responded;
} lower_t;

static lower_t *L;

static void in_put(lower_t *l, const void *p, size_t n)
{
    assert_true(l->in_len + n <= IN_CAP);
    memcpy(l->in + l->in_len, p, n);
    l->in_len += n;
}

/* Answers the upgrade request once all of it was taken. */
static void respond(lower_t *l)
{
    static const char fmt[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                              "Sec-WebSocket-Protocol: mqtt\r\n\r\n";
    char key[WS_KEY_LEN + 1], acc[WS_ACCEPT_LEN + 1], head[512];
    const char *k;
    size_t end = ws_head_end(l->out, l->out_len);
    int n;

    if (l->responded || end == 0)
        return;
    l->responded = true;
    l->frames_from = end;
    l->out[l->out_len] = '\0';
    k = strstr((const char *)l->out, "Sec-WebSocket-Key: ");
    assert_non_null(k);
    memcpy(key, k + 19, WS_KEY_LEN);
    key[WS_KEY_LEN] = '\0';
    ws_accept_for(key, acc);
    n = snprintf(head, sizeof(head), fmt, acc);
    in_put(l, head, (size_t)n);
}

static kmqtt_err_t l_open(void *ctx, const char *host, uint16_t port, uint32_t t)
{
    lower_t *l = ctx;
    (void)host;
    (void)port;
    (void)t;
    l->is_open = true;
    return KMQTT_OK;
}

static long l_send(void *ctx, const void *buf, size_t len)
{
    lower_t *l = ctx;
    size_t n;

    assert_true(l->is_open);
    n = sc_gate_offer(&l->gate, buf, len);
    assert_true(l->out_len + n < SINK_CAP);
    memcpy(l->out + l->out_len, buf, n);
    l->out_len += n;
    respond(l);
    return (long)n;
}

static long l_recv(void *ctx, void *buf, size_t len)
{
    lower_t *l = ctx;
    size_t n = l->in_len - l->in_pos;

    assert_true(l->is_open);
    if (n > len)
        n = len;
    memcpy(buf, l->in + l->in_pos, n);
    l->in_pos += n;
    return (long)n;
}

static kmqtt_err_t l_wait(void *ctx, unsigned ev, uint32_t t, unsigned *ready)
{
    lower_t *l = ctx;
    (void)t;
    *ready = ev & KMQTT_WAIT_WRITE;
    if ((ev & KMQTT_WAIT_READ) && l->in_pos < l->in_len)
        *ready |= KMQTT_WAIT_READ;
    return KMQTT_OK;
}

static void l_wake(void *ctx)
{
    (void)ctx;
}

static void l_close(void *ctx)
{
    lower_t *l = ctx;
    l->is_open = false;
    sc_gate_closed(&l->gate);
}

static void l_destroy(void *ctx)
{
    l_close(ctx);
}

typedef struct fx {
    kmqtt_mem_t mem;
    kmqtt_transport_t t;
} fx_t;

static fx_t *make(size_t buffer_size)
{
    fx_t *x = calloc(1, sizeof(*x));
    kmqtt_mem_config_t cfg = {0};
    kmqtt_transport_t lower = {0};
    kmqtt_ws_options_t o = {0};

    assert_non_null(x);
    L = calloc(1, sizeof(*L));
    assert_non_null(L);
    sc_gate_init(&L->gate, L->held, sizeof(L->held));
    cfg.debug = true;
    assert_int_equal(kmqtt_mem_init(&x->mem, &cfg), KMQTT_OK);
    lower.ctx = L;
    lower.open = l_open;
    lower.send = l_send;
    lower.recv = l_recv;
    lower.wait = l_wait;
    lower.wake = l_wake;
    lower.close = l_close;
    lower.destroy = l_destroy;
    o.buffer_size = buffer_size;
    assert_int_equal(kmqtt_ws_create(&x->mem, &o, &lower, &x->t), KMQTT_OK);
    assert_int_equal(x->t.open(x->t.ctx, "127.0.0.1", 1883, 1000), KMQTT_OK);
    assert_true(L->responded);
    return x;
}

static void destroy(fx_t *x)
{
    kmqtt_mem_stats_t st;
    x->t.destroy(x->t.ctx);
    kmqtt_mem_get_stats(&x->mem, &st);
    assert_int_equal(st.blocks, 0);
    free(L);
    L = NULL;
    free(x);
}

static void expect_gate_ok(void)
{
    if (!sc_gate_ok(&L->gate))
        fail_msg("the WebSocket transport broke the send contract: %s (%d times)", L->gate.first,
                 L->gate.violations);
}

/* -------------------------------------------------- decoding what went */

typedef struct frame {
    unsigned b0; /* FIN | opcode */
    size_t len;
    const uint8_t *masked; /* inside L->out */
    uint8_t mask[4];
} frame_t;

/* Parses the client frame at L->out[*pos]; false if none is complete there.
 * RFC 6455 5.3: every client frame is masked; 5.2: minimal length forms. */
static bool next_frame(size_t *pos, frame_t *f)
{
    const uint8_t *p = L->out + *pos;
    size_t have = L->out_len - *pos, i = 2, k;
    uint64_t n;

    if (have < 2)
        return false;
    assert_true((p[1] & 0x80u) != 0);
    n = p[1] & 0x7Fu;
    if (n == 126) {
        if (have < 4)
            return false;
        n = ((uint64_t)p[2] << 8) | p[3];
        assert_true(n >= 126);
        i = 4;
    } else if (n == 127) {
        if (have < 10)
            return false;
        n = 0;
        for (k = 0; k < 8; k++)
            n = (n << 8) | p[2 + k];
        assert_true(n > 0xFFFF);
        i = 10;
    }
    if (have < i + 4 + n)
        return false;
    f->b0 = p[0];
    f->len = (size_t)n;
    memcpy(f->mask, p + i, 4);
    f->masked = p + i + 4;
    *pos += i + 4 + (size_t)n;
    return true;
}

static void unmask(const frame_t *f, uint8_t *out)
{
    size_t k;
    for (k = 0; k < f->len; k++)
        out[k] = (uint8_t)(f->masked[k] ^ f->mask[k & 3u]);
}

/* Every byte the lower took after the handshake, as frames: the binary
 * frames' payload goes to data (its length to *data_len), control frames'
 * first bytes are listed in ctrl (up to ctrl_cap). Fails the test on a
 * partial frame at the end or on anything but binary, pong and close. */
static size_t decode_all(uint8_t *data, size_t cap, size_t *data_len, unsigned *ctrl,
                         size_t ctrl_cap)
{
    size_t pos = L->frames_from, nctrl = 0;
    frame_t f;

    *data_len = 0;
    while (next_frame(&pos, &f)) {
        if (f.b0 == 0x82) {
            assert_true(*data_len + f.len <= cap);
            unmask(&f, data + *data_len);
            *data_len += f.len;
        } else {
            assert_true(f.b0 == 0x8A || f.b0 == 0x88);
            if (nctrl < ctrl_cap)
                ctrl[nctrl] = f.b0;
            nctrl++;
        }
    }
    if (pos != L->out_len)
        fail_msg("%zu bytes after the last whole frame", L->out_len - pos);
    return nctrl;
}

static void server_ping(const char *payload)
{
    uint8_t h[2];
    h[0] = 0x89;
    h[1] = (uint8_t)strlen(payload);
    in_put(L, h, 2);
    in_put(L, payload, strlen(payload));
}

/* ---------------------------------------------------------------- tests */

/* Refused before its first byte went, the frame (length 3, its mask) is
 * offered again as it was, although the caller's queue grew to 5 bytes
 * meanwhile: the retry reports the 3 bytes of that frame, and the 2 new ones
 * get a frame of their own. */
static void test_refused_frame_goes_again_as_built(void **state)
{
    fx_t *x = make(0);
    static const long refuse_once[] = {0};
    uint8_t data[16];
    unsigned ctrl[4];
    size_t len, pos = L->frames_from;
    frame_t a, b;
    (void)state;

    sc_gate_script(&L->gate, refuse_once, 1);
    assert_int_equal(x->t.send(x->t.ctx, "abc", 3), 0);
    assert_int_equal(x->t.send(x->t.ctx, "abcde", 5), 3);
    assert_int_equal(x->t.send(x->t.ctx, "de", 2), 2);
    expect_gate_ok();
    assert_int_equal(decode_all(data, sizeof(data), &len, ctrl, 4), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "abcde", 5);
    assert_true(next_frame(&pos, &a));
    assert_true(next_frame(&pos, &b));
    assert_int_equal(a.len, 3);
    assert_int_equal(b.len, 2);
    destroy(x);
}

/* A ping arrives while our refused frame waits: its pong goes after the
 * frame, never in its place or inside it. */
static void test_pong_waits_behind_a_refused_frame(void **state)
{
    fx_t *x = make(0);
    static const long refuse_once[] = {0};
    uint8_t data[16], got[8];
    unsigned ctrl[4];
    size_t len;
    frame_t f;
    size_t pos;
    (void)state;

    sc_gate_script(&L->gate, refuse_once, 1);
    assert_int_equal(x->t.send(x->t.ctx, "abc", 3), 0);
    server_ping("hi");
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), 0);
    assert_int_equal(x->t.send(x->t.ctx, "abc", 3), 3);
    expect_gate_ok();
    assert_int_equal(decode_all(data, sizeof(data), &len, ctrl, 4), 1);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "abc", 3);
    pos = L->frames_from;
    assert_true(next_frame(&pos, &f));
    assert_int_equal(f.b0, 0x82); /* the data frame first */
    assert_true(next_frame(&pos, &f));
    assert_int_equal(f.b0, 0x8A);
    destroy(x);
}

/* A pong that was offered and refused is offered again, unchanged, when
 * close() wants to send its close frame: the close frame follows it. */
static void test_close_keeps_a_refused_pong(void **state)
{
    fx_t *x = make(0);
    static const long refuse_once[] = {0};
    uint8_t data[16], got[8];
    unsigned ctrl[4];
    size_t len;
    (void)state;

    sc_gate_script(&L->gate, refuse_once, 1);
    server_ping("p");
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), 0); /* the pong is refused */
    assert_int_equal(L->out_len, L->frames_from);
    x->t.close(x->t.ctx);
    expect_gate_ok();
    assert_int_equal(decode_all(data, sizeof(data), &len, ctrl, 4), 2);
    assert_int_equal(ctrl[0], 0x8A);
    assert_int_equal(ctrl[1], 0x88);
    destroy(x);
}

/* A frame longer than the send scratch is built a piece at a time; a piece
 * refused halfway goes again from where the lower stopped, unchanged. */
static void test_long_frame_refused_mid_piece(void **state)
{
    fx_t *x = make(256);
    static const long script[] = {100, 0, 0, 57, 0, 1, 0, 300, 0};
    static uint8_t stream[3000], data[3000];
    unsigned ctrl[4];
    size_t done = 0, len, k;
    int calls = 0;
    (void)state;

    for (k = 0; k < sizeof(stream); k++)
        stream[k] = (uint8_t)(k * 7u + 3u);
    sc_gate_script(&L->gate, script, sizeof(script) / sizeof(script[0]));
    while (done < sizeof(stream)) {
        long n = x->t.send(x->t.ctx, stream + done, sizeof(stream) - done);
        assert_true(n >= 0);
        assert_true((size_t)n <= sizeof(stream) - done);
        done += (size_t)n;
        assert_true(++calls < 1000);
    }
    expect_gate_ok();
    assert_int_equal(decode_all(data, sizeof(data), &len, ctrl, 4), 0);
    assert_int_equal(len, sizeof(stream));
    assert_memory_equal(data, stream, len);
    destroy(x);
}

/* A caller that offers fewer bytes than it owes (the frame's length was its
 * whole first offer) breaks the stream: KMQTT_EINVAL, and the connection is
 * lost (every later send says so). */
static void test_fewer_bytes_than_owed_are_refused(void **state)
{
    fx_t *x = make(0);
    static const long script[] = {10};
    static uint8_t stream[100];
    (void)state;

    sc_gate_script(&L->gate, script, 1);
    assert_int_equal(x->t.send(x->t.ctx, stream, 100), 10 - 2 - 4); /* header 2, mask 4 */
    assert_int_equal(x->t.send(x->t.ctx, stream + 4, 50), KMQTT_EINVAL);
    assert_int_equal(x->t.send(x->t.ctx, stream + 4, 96), KMQTT_EINVAL);
    destroy(x);
}

/* The way the clients send: a queue that grows by whole packets while the
 * lower refuses or takes a little at random; the caller always offers all
 * it has queued and drops what was taken. Pings come in between, so pongs
 * must find their place between frames. Over many schedules, every offer
 * keeps the contract and the frames carry exactly the caller's bytes. */
static void test_queue_caller_under_random_refusals(void **state)
{
    static uint8_t stream[40000], queue[8192], data[40000];
    uint32_t seed;
    (void)state;

    for (seed = 1; seed <= 300; seed++) {
        fx_t *x = make(seed % 3 == 0 ? 256 : 1024);
        uint32_t r = seed * 2654435761u;
        size_t made = 0, sent = 0, qlen = 0, len, k;
        unsigned ctrl[64];
        int rounds = 0, pings = 0;
        uint8_t got[16];

        for (k = 0; k < sizeof(stream); k++)
            stream[k] = (uint8_t)(k ^ (k >> 8) ^ seed);
        sc_gate_random(&L->gate, seed, 350, seed % 2 == 0 ? 700 : 0);
        while (sent < sizeof(stream)) {
            long n;
            r = r * 1103515245u + 12345u;
            /* queue a packet of 1..2000 bytes if it fits */
            if (made < sizeof(stream)) {
                size_t p = 1 + (r >> 8) % 2000;
                if (p > sizeof(stream) - made)
                    p = sizeof(stream) - made;
                if (qlen + p <= sizeof(queue)) {
                    memcpy(queue + qlen, stream + made, p);
                    qlen += p;
                    made += p;
                }
            }
            if ((r >> 20) % 16 == 0 && pings < 40 && L->in_len + 8 < IN_CAP) {
                server_ping("hb");
                pings++;
            }
            if ((r >> 24) % 4 == 0)
                (void)x->t.recv(x->t.ctx, got, sizeof(got));
            n = x->t.send(x->t.ctx, queue, qlen);
            if (n < 0)
                fail_msg("seed %u: send failed %ld", (unsigned)seed, n);
            assert_true((size_t)n <= qlen);
            /* drop what was taken; the rest moves to the front (another
             * address for the same bytes, which the contract allows) */
            memmove(queue, queue + n, qlen - (size_t)n);
            qlen -= (size_t)n;
            sent += (size_t)n;
            assert_true(++rounds < 200000);
        }
        /* the last pongs owed go out with a read */
        sc_gate_random(&L->gate, 0, 0, 0);
        (void)x->t.recv(x->t.ctx, got, sizeof(got));
        if (!sc_gate_ok(&L->gate))
            fail_msg("seed %u: %s (%d times)", (unsigned)seed, L->gate.first, L->gate.violations);
        (void)decode_all(data, sizeof(data), &len, ctrl, 64);
        assert_int_equal(len, sizeof(stream));
        if (memcmp(data, stream, len) != 0)
            fail_msg("seed %u: the frames do not carry the caller's bytes", (unsigned)seed);
        destroy(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_frame_goes_again_as_built),
        cmocka_unit_test(test_pong_waits_behind_a_refused_frame),
        cmocka_unit_test(test_close_keeps_a_refused_pong),
        cmocka_unit_test(test_long_frame_refused_mid_piece),
        cmocka_unit_test(test_fewer_bytes_than_owed_are_refused),
        cmocka_unit_test(test_queue_caller_under_random_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
