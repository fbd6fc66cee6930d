/* The WebSocket transport against a scripted fake lower transport: the
 * handshake (good, refused, malformed, split into tiny reads, with frames
 * behind it), framing both ways at every length encoding, fragmentation,
 * ping/pong, close, framing errors, partial writes, memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/transport.h"
#include "ws_internal.h"

/* ------------------------------------------------------- the fake lower */

#define FAKE_CAP (300 * 1024)

typedef struct fake {
    uint8_t in[FAKE_CAP]; /* what the "server" sends */
    size_t in_len, in_pos;
    size_t rchunk;         /* most bytes per recv; 0 = any */
    kmqtt_err_t eof;       /* recv result once in is drained; 0 = would block */
    uint8_t out[FAKE_CAP]; /* what the transport sent */
    size_t out_len;
    long limits[64]; /* per send call: most bytes taken (0 = would block); then any */
    size_t nlimits, li;
    kmqtt_err_t open_err;
    const char *resp;   /* response head, "%s" = the right accept value; NULL = none */
    uint8_t after[256]; /* bytes right behind the response */
    size_t after_len;
    bool responded, is_open, woken;
    int opens, closes, destroys, sends;
} fake_t;

static fake_t *F;

static kmqtt_err_t f_open(void *ctx, const char *host, uint16_t port, uint32_t t)
{
    fake_t *f = ctx;
    (void)host;
    (void)port;
    (void)t;
    f->opens++;
    if (f->open_err != KMQTT_OK)
        return f->open_err;
    f->is_open = true;
    return KMQTT_OK;
}

static void f_in(fake_t *f, const void *p, size_t n)
{
    assert_true(f->in_len + n <= FAKE_CAP);
    memcpy(f->in + f->in_len, p, n);
    f->in_len += n;
}

/* Answers the upgrade request once it is complete, with the accept value
 * computed from the key it carries. */
static void f_respond(fake_t *f)
{
    const char *k;
    char key[WS_KEY_LEN + 1], acc[WS_ACCEPT_LEN + 1], head[4096];
    int n;

    if (f->responded || f->resp == NULL || ws_head_end(f->out, f->out_len) == 0)
        return;
    f->responded = true;
    f->out[f->out_len] = '\0';
    k = strstr((const char *)f->out, "Sec-WebSocket-Key: ");
    assert_non_null(k);
    memcpy(key, k + 19, WS_KEY_LEN);
    key[WS_KEY_LEN] = '\0';
    ws_accept_for(key, acc);
    n = snprintf(head, sizeof(head), f->resp, acc);
    assert_true(n > 0 && (size_t)n < sizeof(head));
    f_in(f, head, (size_t)n);
    f_in(f, f->after, f->after_len);
}

static long f_send(void *ctx, const void *buf, size_t len)
{
    fake_t *f = ctx;
    size_t n = len;

    if (!f->is_open)
        return KMQTT_ENOTCONN;
    f->sends++;
    if (f->li < f->nlimits) {
        long l = f->limits[f->li++];
        if (l < 0)
            return l;
        if ((size_t)l < n)
            n = (size_t)l;
    }
    assert_true(f->out_len + n < FAKE_CAP);
    memcpy(f->out + f->out_len, buf, n);
    f->out_len += n;
    f_respond(f);
    return (long)n;
}

static long f_recv(void *ctx, void *buf, size_t len)
{
    fake_t *f = ctx;
    size_t n = f->in_len - f->in_pos;

    if (!f->is_open)
        return KMQTT_ENOTCONN;
    if (n == 0)
        return f->eof;
    if (n > len)
        n = len;
    if (f->rchunk != 0 && n > f->rchunk)
        n = f->rchunk;
    memcpy(buf, f->in + f->in_pos, n);
    f->in_pos += n;
    return (long)n;
}

static kmqtt_err_t f_wait(void *ctx, unsigned ev, uint32_t t, unsigned *ready)
{
    fake_t *f = ctx;
    (void)t;
    *ready = 0;
    if (f->woken) {
        f->woken = false;
        *ready = KMQTT_WAIT_WOKEN;
        return KMQTT_OK;
    }
    if ((ev & KMQTT_WAIT_READ) && (f->in_pos < f->in_len || f->eof != KMQTT_OK))
        *ready |= KMQTT_WAIT_READ;
    if ((ev & KMQTT_WAIT_WRITE) && (f->li >= f->nlimits || f->limits[f->li] != 0))
        *ready |= KMQTT_WAIT_WRITE;
    return KMQTT_OK; /* nothing ready: an immediate "timeout" */
}

static void f_wake(void *ctx)
{
    ((fake_t *)ctx)->woken = true;
}

static void f_close(void *ctx)
{
    fake_t *f = ctx;
    if (f->is_open)
        f->closes++;
    f->is_open = false;
}

static void f_destroy(void *ctx)
{
    fake_t *f = ctx;
    f_close(f);
    f->destroys++;
}

static const char ok_resp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                              "Sec-WebSocket-Protocol: mqtt\r\n\r\n";

typedef struct fx {
    kmqtt_mem_t mem;
    kmqtt_transport_t t;
} fx_t;

static int setup(void **state)
{
    fx_t *x = calloc(1, sizeof(*x));
    kmqtt_mem_config_t cfg = {0};
    kmqtt_transport_t lower = {0};
    kmqtt_ws_options_t o = {0};

    F = calloc(1, sizeof(*F));
    F->resp = ok_resp;
    cfg.debug = true;
    assert_int_equal(kmqtt_mem_init(&x->mem, &cfg), KMQTT_OK);
    lower.ctx = F;
    lower.open = f_open;
    lower.send = f_send;
    lower.recv = f_recv;
    lower.wait = f_wait;
    lower.wake = f_wake;
    lower.close = f_close;
    lower.destroy = f_destroy;
    o.max_frame = 100000;
    assert_int_equal(kmqtt_ws_create(&x->mem, &o, &lower, &x->t), KMQTT_OK);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx_t *x = *state;
    kmqtt_mem_stats_t st;

    x->t.destroy(x->t.ctx);
    assert_int_equal(F->destroys, 1);
    kmqtt_mem_get_stats(&x->mem, &st);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.blocks, 0);
    assert_int_equal(st.faults, 0);
    free(F);
    free(x);
    return 0;
}

static kmqtt_err_t do_open(fx_t *x, uint32_t timeout)
{
    return x->t.open(x->t.ctx, "127.0.0.1", 1883, timeout);
}

/* Drops what the transport sent so far (the request), so out holds frames. */
static void open_ok(fx_t *x)
{
    assert_int_equal(do_open(x, 1000), KMQTT_OK);
    F->out_len = 0;
}

/* A server frame (never masked unless mask is set). */
static void srv_frame(unsigned b0, const void *p, size_t n, bool mask)
{
    uint8_t h[14];
    size_t i = 2, k;
    h[0] = (uint8_t)b0;
    if (n <= 125) {
        h[1] = (uint8_t)n;
    } else if (n <= 0xFFFF) {
        h[1] = 126;
        h[i++] = (uint8_t)(n >> 8);
        h[i++] = (uint8_t)n;
    } else {
        h[1] = 127;
        for (k = 0; k < 8; k++)
            h[i++] = (uint8_t)((uint64_t)n >> (56 - 8 * k));
    }
    if (mask) {
        h[1] |= 0x80;
        memset(h + i, 0, 4);
        i += 4;
    }
    f_in(F, h, i);
    f_in(F, p, n);
}

/* Parses one client frame at out[*pos]: it must be masked; unmasks it into
 * payload. Returns the first header byte (FIN | opcode). */
static unsigned cli_frame(size_t *pos, uint8_t *payload, size_t *plen, uint8_t mask_out[4])
{
    const uint8_t *p = F->out + *pos;
    size_t i = 2, k;
    uint64_t n;

    assert_true(F->out_len - *pos >= 6);
    assert_true((p[1] & 0x80) != 0); /* RFC 6455 5.3: every client frame is masked */
    n = p[1] & 0x7F;
    if (n == 126) {
        n = ((uint64_t)p[2] << 8) | p[3];
        i = 4;
        assert_true(n >= 126);
    } else if (n == 127) {
        n = 0;
        for (k = 0; k < 8; k++)
            n = (n << 8) | p[2 + k];
        i = 10;
        assert_true(n > 0xFFFF);
    }
    if (mask_out != NULL)
        memcpy(mask_out, p + i, 4);
    assert_true(F->out_len - *pos >= i + 4 + n);
    for (k = 0; k < n; k++)
        payload[k] = p[i + 4 + k] ^ p[i + (k & 3)];
    *plen = (size_t)n;
    *pos += i + 4 + n;
    return p[0];
}

static long recv_all(fx_t *x, uint8_t *buf, size_t cap, size_t chunk)
{
    size_t got = 0;
    for (;;) {
        size_t want = cap - got < chunk ? cap - got : chunk;
        long n = x->t.recv(x->t.ctx, buf + got, want);
        if (n < 0)
            return got > 0 ? (long)got : n;
        if (n == 0)
            return (long)got;
        got += (size_t)n;
    }
}

/* -------------------------------------------------------------- tests */

static void test_handshake_request_and_ok(void **state)
{
    fx_t *x = *state;
    char *req, *k;

    assert_int_equal(do_open(x, 1000), KMQTT_OK);
    F->out[F->out_len] = '\0';
    req = (char *)F->out;
    assert_memory_equal(req, "GET /mqtt HTTP/1.1\r\n", 20);
    assert_non_null(strstr(req, "\r\nHost: 127.0.0.1:1883\r\n"));
    assert_non_null(strstr(req, "\r\nUpgrade: websocket\r\n"));
    assert_non_null(strstr(req, "\r\nConnection: Upgrade\r\n"));
    assert_non_null(strstr(req, "\r\nSec-WebSocket-Version: 13\r\n"));
    assert_non_null(strstr(req, "\r\nSec-WebSocket-Protocol: mqtt\r\n"));
    k = strstr(req, "\r\nSec-WebSocket-Key: ");
    assert_non_null(k);
    /* 16 random bytes in base64: 22 characters and "==" (RFC 6455 4.1) */
    assert_memory_equal(k + 21 + 22, "==\r\n", 4);
    assert_int_equal(ws_head_end(F->out, F->out_len), F->out_len);
    assert_int_equal(x->t.open(x->t.ctx, "127.0.0.1", 1883, 1000), KMQTT_ESTATE);
    x->t.close(x->t.ctx);
    assert_int_equal(F->closes, 1);
}

static void expect_refused(fx_t *x, const char *resp)
{
    F->resp = resp;
    assert_int_equal(do_open(x, 1000), KMQTT_EWS_HANDSHAKE);
    assert_false(F->is_open); /* a failed open leaves nothing open */
    assert_int_equal(F->closes, 1);
    assert_int_equal(x->t.send(x->t.ctx, "x", 1), KMQTT_ENOTCONN);
}

static void test_handshake_wrong_accept(void **state)
{
    expect_refused(*state,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                   "Sec-WebSocket-Protocol: mqtt\r\n\r\n");
}

static void test_handshake_missing_subprotocol(void **state)
{
    expect_refused(*state, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n");
}

static void test_handshake_not_101(void **state)
{
    expect_refused(*state, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

/* RFC 6455 4.1 (the client's checks of the server's answer) over HTTP/1.1
 * (RFC 7230 3.2: field names are case-insensitive, optional whitespace
 * around a value; 3.2.6 and 6.1: Connection is a comma-separated token
 * list, empty elements allowed): a server that writes its answer this way
 * is accepted, and an empty Sec-WebSocket-Extensions offers nothing. */
static void test_handshake_accepts_case_whitespace_and_token_lists(void **state)
{
    fx_t *x = *state;
    F->resp = "HTTP/1.1 101\r\nupgrade:websocket\r\nCONNECTION: keep-alive, ,Upgrade \r\n"
              "sec-websocket-accept: \t%s\t \r\nSec-WebSocket-Protocol:  mqtt\r\n"
              "Sec-WebSocket-Extensions:\r\nServer: test\r\n\r\n";
    assert_int_equal(do_open(x, 1000), KMQTT_OK);
    assert_true(F->is_open);
}

/* RFC 6455 4.1: without "Connection: Upgrade" the server did not switch. */
static void test_handshake_connection_without_upgrade_token(void **state)
{
    expect_refused(*state, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: keep-alive, upgraded\r\nSec-WebSocket-Accept: %s\r\n"
                           "Sec-WebSocket-Protocol: mqtt\r\n\r\n");
}

/* MQTT-6.0.0-4 and RFC 6455 4.1: the subprotocol must be "mqtt" exactly
 * (names are case-sensitive); a longer one is another protocol. */
static void test_handshake_other_subprotocols(void **state)
{
    expect_refused(*state, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                           "Sec-WebSocket-Protocol: mqttv3.1\r\n\r\n");
}

static void test_handshake_subprotocol_is_case_sensitive(void **state)
{
    expect_refused(*state, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                           "Sec-WebSocket-Protocol: MQTT\r\n\r\n");
}

/* RFC 7230 3: every header line ends in CRLF and has a colon; a status
 * code that only starts with 101 is another code. */
static void test_handshake_header_line_without_cr(void **state)
{
    expect_refused(*state, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                           "Sec-WebSocket-Protocol: mqtt\r\n\r\n");
}

static void test_handshake_header_line_without_colon(void **state)
{
    expect_refused(*state, "HTTP/1.1 101 Switching Protocols\r\nUpgrade websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                           "Sec-WebSocket-Protocol: mqtt\r\n\r\n");
}

static void test_handshake_status_1010(void **state)
{
    expect_refused(*state, "HTTP/1.1 1010 Switching\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                           "Sec-WebSocket-Protocol: mqtt\r\n\r\n");
}

/* A host the request cannot carry: none, or longer than a DNS name. */
static void test_open_refuses_missing_or_overlong_host(void **state)
{
    fx_t *x = *state;
    char host[300];
    memset(host, 'a', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    assert_int_equal(x->t.open(x->t.ctx, NULL, 1883, 1000), KMQTT_EINVAL);
    assert_int_equal(x->t.open(x->t.ctx, host, 1883, 1000), KMQTT_EINVAL);
    assert_false(F->is_open); /* nothing was opened below */
    assert_int_equal(F->opens, 0);
}

static void test_handshake_closed_by_server(void **state)
{
    fx_t *x = *state;
    F->resp = NULL;
    F->eof = KMQTT_ECLOSED; /* a plain MQTT listener drops the "GET" */
    assert_int_equal(do_open(x, 1000), KMQTT_EWS_HANDSHAKE);
    assert_false(F->is_open);
}

static void test_handshake_head_too_large(void **state)
{
    fx_t *x = *state;
    static char big[2048];
    memset(big, 'a', sizeof(big) - 1);
    memcpy(big, "HTTP/1.1 101 x\r\nX: ", 19);
    F->resp = big; /* never ends within the 1024-byte receive buffer */
    assert_int_equal(do_open(x, 1000), KMQTT_EWS_HANDSHAKE);
    assert_false(F->is_open);
}

static void test_handshake_timeout_and_wake(void **state)
{
    fx_t *x = *state;
    F->resp = NULL; /* never answers */
    assert_int_equal(do_open(x, 30), KMQTT_ETIMEDOUT);
    assert_false(F->is_open);
    x->t.wake(x->t.ctx);
    assert_int_equal(do_open(x, 5000), KMQTT_ECANCELED);
    assert_false(F->is_open);
    F->open_err = KMQTT_ECONNREFUSED;
    assert_int_equal(do_open(x, 1000), KMQTT_ECONNREFUSED);
}

static void test_handshake_tiny_reads(void **state)
{
    fx_t *x = *state;
    uint8_t buf[16];

    F->rchunk = 1; /* the head arrives one byte per recv */
    F->after_len = 0;
    assert_int_equal(do_open(x, 1000), KMQTT_OK);
    /* nothing more came: nothing to read */
    assert_int_equal(x->t.recv(x->t.ctx, buf, sizeof(buf)), 0);
}

static void test_handshake_trailing_frame(void **state)
{
    fx_t *x = *state;
    uint8_t buf[16];
    unsigned ready = 0;

    /* the server's first frame arrives in the same segment as its answer */
    memcpy(F->after, "\x82\x05hello", 7);
    F->after_len = 7;
    assert_int_equal(do_open(x, 1000), KMQTT_OK);
    assert_int_equal(F->in_pos, F->in_len); /* all taken from the lower transport */
    /* the lower transport has nothing, yet the bytes held are readable */
    assert_int_equal(x->t.wait(x->t.ctx, KMQTT_WAIT_READ, 1000, &ready), KMQTT_OK);
    assert_int_equal(ready, KMQTT_WAIT_READ);
    assert_int_equal(x->t.recv(x->t.ctx, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(x->t.recv(x->t.ctx, buf, sizeof(buf)), 0);
    assert_int_equal(x->t.wait(x->t.ctx, KMQTT_WAIT_READ, 0, &ready), KMQTT_OK);
    assert_int_equal(ready, 0);
}

static const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 99999};

static void test_server_frames_every_length(void **state)
{
    fx_t *x = *state;
    static uint8_t want[400000], got[400000];
    size_t i, k, total = 0;

    open_ok(x);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (k = 0; k < sizes[i]; k++)
            want[total + k] = (uint8_t)(k * 7 + i);
        srv_frame(0x82, want + total, sizes[i], false);
        total += sizes[i];
    }
    /* through several read sizes, so frame edges fall everywhere */
    assert_int_equal(recv_all(x, got, sizeof(got), 1000), (long)total);
    assert_memory_equal(got, want, total);
    assert_int_equal(F->out_len, 0); /* nothing to answer */
}

static void test_server_frames_tiny_reads(void **state)
{
    fx_t *x = *state;
    static uint8_t want[70000], got[70000];
    size_t k;

    open_ok(x);
    for (k = 0; k < 65536; k++)
        want[k] = (uint8_t)(k * 13);
    srv_frame(0x82, want, 300, false);
    srv_frame(0x82, want + 300, 65536, false);
    F->rchunk = 1;
    assert_int_equal(recv_all(x, got, sizeof(got), 7), 300 + 65536);
    assert_memory_equal(got, want, 300 + 65536);
}

static void test_client_frames_every_length(void **state)
{
    fx_t *x = *state;
    static uint8_t data[100000], back[100000];
    uint8_t masks[8][4];
    size_t i, k, pos = 0, plen;

    open_ok(x);
    for (k = 0; k < sizeof(data); k++)
        data[k] = (uint8_t)(k * 31);
    assert_int_equal(x->t.send(x->t.ctx, data, 0), 0);
    for (i = 1; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t done = 0;
        while (done < sizes[i]) {
            long n = x->t.send(x->t.ctx, data + done, sizes[i] - done);
            assert_true(n > 0);
            done += (size_t)n;
        }
    }
    for (i = 1; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        /* one FIN binary frame per message, with its own length encoding */
        assert_int_equal(cli_frame(&pos, back, &plen, masks[i]), 0x82);
        assert_int_equal(plen, sizes[i]);
        assert_memory_equal(back, data, plen);
    }
    assert_int_equal(pos, F->out_len);
    /* a fresh mask per frame (RFC 6455 5.3) */
    for (i = 2; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        assert_memory_not_equal(masks[i], masks[i - 1], 4);
    /* the frame overhead: 2 + 4, 4 + 4, 10 + 4 bytes */
    assert_int_equal(F->out_len,
                     (1 + 6) + (125 + 6) + (126 + 8) + (65535 + 8) + (65536 + 14) + (99999 + 14));
}

static void test_fragmented_with_ping_in_middle(void **state)
{
    fx_t *x = *state;
    uint8_t got[64], back[200];
    size_t pos = 0, plen;

    open_ok(x);
    srv_frame(0x02, "abc", 3, false); /* binary, no FIN */
    srv_frame(0x00, "def", 3, false); /* continuation */
    srv_frame(0x89, "p1", 2, false);  /* ping between fragments (RFC 6455 5.4) */
    srv_frame(0x00, "", 0, false);
    srv_frame(0x80, "ghi", 3, false); /* continuation, FIN */
    srv_frame(0x8A, "x", 1, false);   /* an unasked pong: ignored */
    srv_frame(0x82, "jk", 2, false);
    assert_int_equal(recv_all(x, got, sizeof(got), 64), 11);
    assert_memory_equal(got, "abcdefghijk", 11);
    /* the pong echoes the ping's payload (RFC 6455 5.5.3) */
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x8A);
    assert_int_equal(plen, 2);
    assert_memory_equal(back, "p1", 2);
    assert_int_equal(pos, F->out_len);
}

static void test_pong_waits_for_half_written_frame(void **state)
{
    fx_t *x = *state;
    static uint8_t data[3000], back[3000];
    size_t pos = 0, plen, done = 0;
    long n;
    unsigned ready;

    open_ok(x);
    memset(data, 0x5A, sizeof(data));
    F->limits[0] = 100; /* the lower transport takes part of the frame */
    F->limits[1] = 0;   /* then would block */
    F->nlimits = 2;
    F->li = 0;
    n = x->t.send(x->t.ctx, data, sizeof(data));
    assert_int_equal(n, 100 - 4 - 4); /* header 4 + mask 4, then payload */
    done = (size_t)n;
    srv_frame(0x89, "hb", 2, false);
    assert_int_equal(x->t.recv(x->t.ctx, back, sizeof(back)), 0); /* ping: no data */
    assert_int_equal(F->out_len, 100);                            /* no pong inside our frame */
    /* the writable wait does not write the pong either */
    assert_int_equal(x->t.wait(x->t.ctx, KMQTT_WAIT_WRITE, 10, &ready), KMQTT_OK);
    assert_int_equal(F->out_len, 100);
    while (done < sizeof(data)) {
        n = x->t.send(x->t.ctx, data + done, sizeof(data) - done);
        assert_true(n >= 0);
        done += (size_t)n;
    }
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x82);
    assert_int_equal(plen, sizeof(data));
    assert_memory_equal(back, data, plen);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x8A); /* right after the frame */
    assert_memory_equal(back, "hb", 2);
    assert_int_equal(pos, F->out_len);
}

static void test_partial_writes(void **state)
{
    fx_t *x = *state;
    static uint8_t data[5000], back[5000];
    long script[] = {3, 0, 1, 2, 0, 5, 1, 0, 700, 1, 0};
    size_t pos = 0, plen, done = 0, k;
    int zero_calls = 0;
    long n;

    open_ok(x);
    for (k = 0; k < sizeof(data); k++)
        data[k] = (uint8_t)k;
    memcpy(F->limits, script, sizeof(script));
    F->nlimits = sizeof(script) / sizeof(script[0]);
    F->li = 0;
    /* the first call gets 3 bytes of an 8-byte header out: 0 payload bytes
     * taken, yet the frame is committed and finished first */
    while (done < sizeof(data)) {
        n = x->t.send(x->t.ctx, data + done, sizeof(data) - done);
        assert_true(n >= 0);
        if (n == 0)
            zero_calls++;
        done += (size_t)n;
        assert_true(zero_calls < 20);
    }
    assert_true(zero_calls >= 3);
    /* then a second message as its own frame */
    assert_int_equal(x->t.send(x->t.ctx, "tail", 4), 4);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x82);
    assert_int_equal(plen, sizeof(data));
    assert_memory_equal(back, data, plen);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x82);
    assert_memory_equal(back, "tail", 4);
    assert_int_equal(pos, F->out_len);
}

/* A frame refused before its first byte went is still begun (port.h: the
 * lower may hold it already, a TLS record): it goes again as built, with
 * its length and mask, although the caller's queue grew meanwhile; a pong
 * owed meanwhile follows it (issue #14). */
static void test_would_block_before_any_byte_keeps_the_frame(void **state)
{
    fx_t *x = *state;
    uint8_t got[16], back[64];
    size_t pos = 0, plen;

    open_ok(x);
    F->limits[0] = 0; /* the first try sends nothing at all */
    F->nlimits = 1;
    F->li = 0;
    assert_int_equal(x->t.send(x->t.ctx, "abc", 3), 0);
    assert_int_equal(F->out_len, 0);
    srv_frame(0x89, "q", 1, false);
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), 0);
    assert_int_equal(F->out_len, 0); /* the pong does not take the frame's place */
    /* the caller's queue grew meanwhile: the frame keeps its length */
    assert_int_equal(x->t.send(x->t.ctx, "abcde", 5), 3);
    assert_int_equal(x->t.send(x->t.ctx, "de", 2), 2);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x82);
    assert_int_equal(plen, 3);
    assert_memory_equal(back, "abc", 3);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x8A); /* then the pong */
    assert_memory_equal(back, "q", 1);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x82);
    assert_int_equal(plen, 2);
    assert_memory_equal(back, "de", 2);
    assert_int_equal(pos, F->out_len);
}

/* A frame longer than the send scratch goes a piece at a time; the caller
 * offers everything it has not been told was taken (port.h), and each call
 * reports the payload the lower took of the piece in the scratch. */
static void test_caller_continues_a_long_frame(void **state)
{
    fx_t *x = *state;
    static uint8_t data[2000], back[2000];
    size_t pos = 0, plen, k;

    open_ok(x);
    for (k = 0; k < sizeof(data); k++)
        data[k] = (uint8_t)(k * 13u);
    F->limits[0] = 500;
    F->nlimits = 1;
    F->li = 0;
    /* the first piece: header 8 (2 + 2 length + 4 mask) and 1016 payload */
    assert_int_equal(x->t.send(x->t.ctx, data, 2000), 500 - 8);
    assert_int_equal(x->t.send(x->t.ctx, data + 492, 1508), 1024 - 500);
    /* the second piece: the rest of the payload */
    assert_int_equal(x->t.send(x->t.ctx, data + 1016, 984), 984);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x82);
    assert_int_equal(plen, 2000);
    assert_memory_equal(back, data, 2000);
    assert_int_equal(pos, F->out_len);
}

static void test_close_mid_frame_sends_no_close_and_reopens_clean(void **state)
{
    fx_t *x = *state;
    static uint8_t data[500];
    uint8_t back[600], got[8];
    size_t pos = 0, plen;

    open_ok(x);
    F->limits[0] = 50;
    F->nlimits = 1;
    F->li = 0;
    assert_int_equal(x->t.send(x->t.ctx, data, sizeof(data)), 50 - 8);
    x->t.close(x->t.ctx);
    /* a close frame now would land inside the data frame: none is sent */
    assert_int_equal(F->out_len, 50);
    assert_false(F->is_open);
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), KMQTT_ENOTCONN);
    F->responded = false;
    F->in_len = F->in_pos = 0;
    F->out_len = 0;
    open_ok(x);
    /* the new connection starts with a fresh frame */
    assert_int_equal(x->t.send(x->t.ctx, "new", 3), 3);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x82);
    assert_int_equal(plen, 3);
    assert_memory_equal(back, "new", 3);
}

static void test_close_frame_answered(void **state)
{
    fx_t *x = *state;
    uint8_t got[16], back[200];
    size_t pos = 0, plen;

    open_ok(x);
    srv_frame(0x82, "ab", 2, false);
    srv_frame(0x88, "\x03\xe8", 2, false); /* close 1000 */
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), 2);
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), KMQTT_ECLOSED);
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), KMQTT_ECLOSED);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x88); /* echoed (RFC 6455 5.5.1) */
    assert_int_equal(plen, 2);
    assert_memory_equal(back, "\x03\xe8", 2);
    assert_int_equal(x->t.send(x->t.ctx, "x", 1), KMQTT_ECLOSED);
    x->t.close(x->t.ctx);
    assert_int_equal(pos, F->out_len); /* no second close frame */
    assert_false(F->is_open);
}

static void test_close_sends_close_frame(void **state)
{
    fx_t *x = *state;
    uint8_t back[200];
    size_t pos = 0, plen;

    open_ok(x);
    x->t.close(x->t.ctx);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x88);
    assert_int_equal(plen, 2);
    assert_memory_equal(back, "\x03\xe8", 2);
    assert_false(F->is_open);
    /* open again after close */
    F->responded = false;
    F->in_len = F->in_pos = 0;
    F->out_len = 0;
    open_ok(x);
    assert_int_equal(x->t.send(x->t.ctx, "z", 1), 1);
}

/* Each framing error ends the stream with KMQTT_EWS_PROTOCOL and a close
 * frame 1002 (RFC 6455 7.4.1). */
static void expect_protocol(fx_t *x, const uint8_t *frame, size_t len)
{
    uint8_t got[200], back[200];
    size_t pos = 0, plen;
    long n;

    open_ok(x);
    f_in(F, frame, len);
    do /* data before the bad frame is delivered first */
        n = x->t.recv(x->t.ctx, got, sizeof(got));
    while (n > 0);
    assert_int_equal(n, KMQTT_EWS_PROTOCOL);
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), KMQTT_EWS_PROTOCOL);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x88);
    assert_int_equal(plen, 2);
    assert_memory_equal(back, "\x03\xea", 2);
    x->t.close(x->t.ctx);
    assert_int_equal(pos, F->out_len);
    F->responded = false;
    F->in_len = F->in_pos = 0;
    F->out_len = 0;
}

static void test_framing_errors(void **state)
{
    fx_t *x = *state;
    static uint8_t over[100010];

    expect_protocol(x, (const uint8_t *)"\x82\x82\0\0\0\0ab", 8); /* masked server frame */
    expect_protocol(x, (const uint8_t *)"\xc2\x01x", 3);          /* RSV1 */
    expect_protocol(x, (const uint8_t *)"\xa2\x01x", 3);          /* RSV2 */
    expect_protocol(x, (const uint8_t *)"\x92\x01x", 3);          /* RSV3 */
    expect_protocol(x, (const uint8_t *)"\x81\x01x", 3);          /* text (MQTT-6.0.0-1) */
    expect_protocol(x, (const uint8_t *)"\x83\x01x", 3);          /* reserved data opcode */
    expect_protocol(x, (const uint8_t *)"\x8b\x00", 2);           /* reserved control opcode */
    expect_protocol(x, (const uint8_t *)"\x80\x01x", 3);          /* continuation, no message */
    expect_protocol(x, (const uint8_t *)"\x02\x01x\x82\x01y", 6); /* new message inside one */
    expect_protocol(x, (const uint8_t *)"\x09\x00", 2);           /* fragmented ping */
    expect_protocol(x, (const uint8_t *)"\x89\x7e\x00\x7e", 4);   /* ping over 125 bytes */
    expect_protocol(x, (const uint8_t *)"\x82\x7e\x00\x05", 4);   /* 16-bit length < 126 */
    expect_protocol(x, (const uint8_t *)"\x82\x7f\0\0\0\0\0\0\xff\xff", 10); /* 64-bit <= 65535 */
    expect_protocol(x, (const uint8_t *)"\x82\x7f\x80\0\0\0\0\0\0\0", 10);   /* 64-bit MSB set */
    expect_protocol(x, (const uint8_t *)"\x88\x01\x03", 3);                  /* close with 1 byte */
    /* over max_frame (100000 here): refused from the header alone */
    memcpy(over, "\x82\x7f\0\0\0\0\0\x01\x86\xa1", 10);
    expect_protocol(x, over, 10);
}

static void test_wait_flushes_pong_without_send(void **state)
{
    fx_t *x = *state;
    uint8_t got[16], back[200];
    size_t pos = 0, plen;
    unsigned ready = 0;

    open_ok(x);
    srv_frame(0x89, "k", 1, false);
    F->limits[0] = 0; /* the pong cannot go while recv runs */
    F->nlimits = 1;
    F->li = 0;
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), 0);
    assert_int_equal(F->out_len, 0);
    /* the caller only waits to read: the pong still goes out */
    assert_int_equal(x->t.wait(x->t.ctx, KMQTT_WAIT_READ, 10, &ready), KMQTT_OK);
    assert_int_equal(ready, 0);
    assert_int_equal(cli_frame(&pos, back, &plen, NULL), 0x8A);
    assert_memory_equal(back, "k", 1);
}

static void test_lower_errors_pass_through(void **state)
{
    fx_t *x = *state;
    uint8_t got[16];

    open_ok(x);
    F->eof = KMQTT_ECLOSED;
    assert_int_equal(x->t.recv(x->t.ctx, got, sizeof(got)), KMQTT_ECLOSED);
    F->limits[0] = KMQTT_EIO;
    F->nlimits = 1;
    F->li = 0;
    assert_int_equal(x->t.send(x->t.ctx, "a", 1), KMQTT_EIO);
    assert_int_equal(x->t.send(x->t.ctx, "a", 1), KMQTT_EIO); /* sticky */
    x->t.close(x->t.ctx);
    assert_false(F->is_open);
}

static void test_create_arguments_and_memory(void **state)
{
    kmqtt_mem_t m;
    kmqtt_transport_t lower = {0}, t;
    kmqtt_ws_options_t o = {0};
    kmqtt_mem_stats_t st;
    fake_t *f = calloc(1, sizeof(*f));
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    lower.ctx = f;
    lower.open = f_open;
    lower.send = f_send;
    lower.recv = f_recv;
    lower.wait = f_wait;
    lower.wake = f_wake;
    lower.close = f_close;
    assert_int_equal(kmqtt_ws_create(&m, NULL, &lower, &t), KMQTT_EINVAL); /* no destroy */
    lower.destroy = f_destroy;
    assert_int_equal(kmqtt_ws_create(NULL, NULL, &lower, &t), KMQTT_EINVAL);
    o.path = "mqtt";
    assert_int_equal(kmqtt_ws_create(&m, &o, &lower, &t), KMQTT_EINVAL);
    o.path = "/a\r\nX: y";
    assert_int_equal(kmqtt_ws_create(&m, &o, &lower, &t), KMQTT_EINVAL);
    o.path = "/ok";
    o.host_header = "h\r\n";
    assert_int_equal(kmqtt_ws_create(&m, &o, &lower, &t), KMQTT_EINVAL);
    o.host_header = "broker.example";
    o.buffer_size = 100;
    assert_int_equal(kmqtt_ws_create(&m, &o, &lower, &t), KMQTT_EINVAL);
    o.buffer_size = 0;
    kmqtt_mem_fail_nth(&m, 1, false);
    assert_int_equal(kmqtt_ws_create(&m, &o, &lower, &t), KMQTT_ENOMEM);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.blocks, 0);
    assert_int_equal(f->destroys, 0); /* a failed create leaves lower to the caller */
    assert_int_equal(kmqtt_ws_create(&m, &o, &lower, &t), KMQTT_OK);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.blocks, 1); /* one block, taken at create */
    /* the options' strings were copied, and are used */
    f->resp = ok_resp;
    assert_int_equal(t.open(t.ctx, "::1", 8080, 1000), KMQTT_OK);
    f->out[f->out_len] = '\0';
    assert_non_null(strstr((char *)f->out, "GET /ok HTTP/1.1\r\nHost: broker.example\r\n"));
    assert_int_equal(st.allocs, 1);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.allocs, 1); /* nothing allocated by open */
    t.destroy(t.ctx);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.blocks, 0);
    assert_int_equal(f->destroys, 1);
    free(f);
}

/* A lower transport without one of its functions is refused at create,
 * whichever it is, and nothing is allocated. */
static void test_create_refuses_a_lower_transport_missing_a_function(void **state)
{
    kmqtt_mem_t m;
    kmqtt_transport_t t;
    kmqtt_mem_stats_t st;
    (void)state;

    assert_int_equal(kmqtt_mem_init(&m, NULL), KMQTT_OK);
    for (int missing = 0; missing < 7; missing++) {
        kmqtt_transport_t lower = {0};
        lower.open = missing == 0 ? NULL : f_open;
        lower.send = missing == 1 ? NULL : f_send;
        lower.recv = missing == 2 ? NULL : f_recv;
        lower.wait = missing == 3 ? NULL : f_wait;
        lower.wake = missing == 4 ? NULL : f_wake;
        lower.close = missing == 5 ? NULL : f_close;
        lower.destroy = missing == 6 ? NULL : f_destroy;
        assert_int_equal(kmqtt_ws_create(&m, NULL, &lower, &t), KMQTT_EINVAL);
    }
    assert_int_equal(kmqtt_ws_create(&m, NULL, NULL, &t), KMQTT_EINVAL);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.allocs, 0);
}

/* Hostile input: random frames (valid, broken, split anywhere) never crash,
 * hang or overrun; each stream ends in data, nothing, or a clear error. */
static void test_random_input_is_handled(void **state)
{
    fx_t *x = *state;
    static uint8_t junk[4096], got[8192];
    uint32_t r = 2463534242u;
    int round;

    for (round = 0; round < 300; round++) {
        size_t n = 0, k;
        long res;
        int steps = 0;

        open_ok(x);
        while (n < sizeof(junk) - 200) {
            r ^= r << 13;
            r ^= r >> 17;
            r ^= r << 5;
            if ((r & 3u) == 0) { /* a valid binary frame now and then */
                size_t len = (r >> 8) % 150;
                junk[n++] = 0x82;
                junk[n++] = (uint8_t)len;
                for (k = 0; k < len; k++)
                    junk[n++] = (uint8_t)k;
            } else {
                junk[n++] = (uint8_t)(r >> 11);
            }
        }
        f_in(F, junk, n);
        F->rchunk = 1 + (r % 97);
        do {
            res = x->t.recv(x->t.ctx, got, 1 + (r >> 20) % sizeof(got));
            steps++;
        } while (res > 0 && steps < 100000);
        assert_true(res == 0 || res == KMQTT_EWS_PROTOCOL || res == KMQTT_ECLOSED);
        x->t.close(x->t.ctx);
        assert_false(F->is_open);
        F->responded = false;
        F->in_len = F->in_pos = 0;
        F->out_len = 0;
    }
}

static void test_wake_ends_wait(void **state)
{
    fx_t *x = *state;
    unsigned ready = 0;

    open_ok(x);
    x->t.wake(x->t.ctx);
    assert_int_equal(x->t.wait(x->t.ctx, KMQTT_WAIT_READ, 5000, &ready), KMQTT_OK);
    assert_int_equal(ready, KMQTT_WAIT_WOKEN);
}

static void test_ipv6_host_header(void **state)
{
    fx_t *x = *state;
    assert_int_equal(x->t.open(x->t.ctx, "::1", 8080, 1000), KMQTT_OK);
    F->out[F->out_len] = '\0';
    assert_non_null(strstr((char *)F->out, "\r\nHost: [::1]:8080\r\n"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_handshake_request_and_ok),
        T(test_handshake_wrong_accept),
        T(test_handshake_missing_subprotocol),
        T(test_handshake_not_101),
        T(test_handshake_accepts_case_whitespace_and_token_lists),
        T(test_handshake_connection_without_upgrade_token),
        T(test_handshake_other_subprotocols),
        T(test_handshake_subprotocol_is_case_sensitive),
        T(test_handshake_header_line_without_cr),
        T(test_handshake_header_line_without_colon),
        T(test_handshake_status_1010),
        T(test_open_refuses_missing_or_overlong_host),
        T(test_handshake_closed_by_server),
        T(test_handshake_head_too_large),
        T(test_handshake_timeout_and_wake),
        T(test_handshake_tiny_reads),
        T(test_handshake_trailing_frame),
        T(test_server_frames_every_length),
        T(test_server_frames_tiny_reads),
        T(test_client_frames_every_length),
        T(test_fragmented_with_ping_in_middle),
        T(test_pong_waits_for_half_written_frame),
        T(test_partial_writes),
        T(test_would_block_before_any_byte_keeps_the_frame),
        T(test_caller_continues_a_long_frame),
        T(test_close_mid_frame_sends_no_close_and_reopens_clean),
        T(test_close_frame_answered),
        T(test_close_sends_close_frame),
        T(test_framing_errors),
        T(test_wait_flushes_pong_without_send),
        T(test_lower_errors_pass_through),
        T(test_random_input_is_handled),
        T(test_wake_ends_wait),
        T(test_ipv6_host_header),
        cmocka_unit_test(test_create_arguments_and_memory),
        cmocka_unit_test(test_create_refuses_a_lower_transport_missing_a_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
