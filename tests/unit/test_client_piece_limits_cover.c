/*
 * on_message_piece and maximum_packet_size together (issue #19), over a
 * scripted transport: a maximum below rx_buffer_size still bounds what
 * comes in (smaller messages go whole to the handlers, a larger one ends
 * the connection and no piece is told), a maximum above it lets a message
 * through in pieces up to that maximum only, and without on_message_piece
 * a maximum above rx_buffer_size is refused at create. One thread: the
 * test runs the loop with kmqtt_run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kmqtt/client.h"
#include "kmqtt/config.h"

typedef struct script {
    uint8_t in[4096];
    size_t in_len, in_off;
    bool open;
    uint8_t out[1024];
    size_t out_len;
} script_t;

static script_t S;

static kmqtt_err_t s_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    S.open = true;
    return KMQTT_OK;
}

static long s_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    if (!S.open)
        return KMQTT_ECLOSED;
    if (len > sizeof S.out - S.out_len)
        len = sizeof S.out - S.out_len;
    memcpy(S.out + S.out_len, buf, len);
    S.out_len += len;
    return (long)len;
}

static long s_recv(void *ctx, void *buf, size_t len)
{
    size_t n = S.in_len - S.in_off;
    (void)ctx;
    if (!S.open)
        return KMQTT_ECLOSED;
    if (n == 0)
        return 0;
    if (n > len)
        n = len;
    if (n > 40)
        n = 40;
    memcpy(buf, S.in + S.in_off, n);
    S.in_off += n;
    return (long)n;
}

static kmqtt_err_t s_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    (void)ctx;
    (void)timeout_ms;
    *ready = 0;
    if (S.open && (events & KMQTT_WAIT_READ) && S.in_off < S.in_len)
        *ready |= KMQTT_WAIT_READ;
    if (S.open && (events & KMQTT_WAIT_WRITE))
        *ready |= KMQTT_WAIT_WRITE;
    return KMQTT_OK;
}

static void s_void(void *ctx)
{
    (void)ctx;
}

static void s_close(void *ctx)
{
    (void)ctx;
    S.open = false;
}

static kmqtt_transport_t TP = {NULL, s_open, s_send, s_recv, s_wait, s_void, s_close, s_void};

static void feed(const void *bytes, size_t n)
{
    assert_true(n <= sizeof S.in - S.in_len);
    memcpy(S.in + S.in_len, bytes, n);
    S.in_len += n;
}

/* What the callbacks saw: 'M' a whole message (with its length), 'B', 'D',
 * 'E', 'A' pieces, 'L' CONNECTION_LOST. */
static char seen[512];
static size_t nseen, whole_len, piece_bytes;
static kmqtt_err_t lost_err;

static void mark(char ch)
{
    if (nseen < sizeof seen - 1)
        seen[nseen++] = ch;
}

static void on_message(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    (void)c;
    (void)ctx;
    mark('M');
    whole_len = m->payload.len;
}

static void on_piece(kmqtt_client_t *c, const kmqtt_message_piece_t *p, void *ctx)
{
    static const char kinds[] = "?BDEA";
    (void)c;
    (void)ctx;
    mark(kinds[p->kind]);
    if (p->kind == KMQTT_PIECE_DATA)
        piece_bytes += p->len;
}

static void on_state(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    (void)c;
    (void)ctx;
    if (st == KMQTT_STATE_CONNECTION_LOST) {
        mark('L');
        lost_err = err;
    }
}

/* A QoS 0 PUBLISH on "t" with len payload bytes. */
static void feed_publish(kmqtt_version_t v, size_t len)
{
    uint8_t pkt[2048], payload[1600];
    kmqtt_packet_t p;
    size_t n;
    assert_true(len <= sizeof payload);
    memset(payload, 'x', len);
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish.topic.ptr = "t";
    p.u.publish.topic.len = 1;
    p.u.publish.payload.ptr = payload;
    p.u.publish.payload.len = len;
    assert_int_equal(kmqtt_packet_encode(&p, v, pkt, sizeof pkt, &n), KMQTT_OK);
    feed(pkt, n);
}

static void options(kmqtt_client_options_t *o, kmqtt_version_t v, uint32_t max, size_t rx)
{
    kmqtt_client_options_init(o);
    o->version = v;
    o->client_id = "limits";
    o->keepalive_s = 0;
    o->rx_buffer_size = rx;
    o->maximum_packet_size = max;
    o->reconnect = KMQTT_RECONNECT_OFF;
    o->transport = &TP;
    o->on_message = on_message;
    o->on_message_piece = on_piece;
    o->on_state = on_state;
}

static kmqtt_client_t *start(kmqtt_version_t v, uint32_t max, size_t rx)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    memset(&S, 0, sizeof S);
    nseen = whole_len = piece_bytes = 0;
    memset(seen, 0, sizeof seen);
    lost_err = KMQTT_OK;
    options(&o, v, max, rx);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    if (v == KMQTT_V5)
        feed("\x20\x03\x00\x00\x00", 5);
    else
        feed("\x20\x02\x00\x00", 4);
    assert_int_equal(kmqtt_connect(c, 1000, NULL), KMQTT_OK);
    return c;
}

static kmqtt_err_t run_until_quiet(kmqtt_client_t *c)
{
    kmqtt_err_t err = KMQTT_OK;
    int i;
    for (i = 0; i < 200 && err == KMQTT_OK && (S.in_off < S.in_len || i < 5); i++)
        err = kmqtt_run(c, 0);
    return err;
}

/* maximum_packet_size 100 under a 256-byte rx with on_message_piece: a
 * message that fits goes whole to on_message; a 150-byte packet is over
 * the maximum the client set, so the connection ends and no piece is told
 * (the limit is not lifted by on_message_piece when it is below rx). */
static void maximum_below_rx_bounds_messages(void **state)
{
    kmqtt_client_t *c = start(KMQTT_V311, 100, 256);
    (void)state;
    feed_publish(KMQTT_V311, 60);
    assert_int_equal(run_until_quiet(c), KMQTT_OK);
    assert_string_equal(seen, "M");
    assert_int_equal(whole_len, 60);
    feed_publish(KMQTT_V311, 150);
    assert_int_not_equal(run_until_quiet(c), KMQTT_OK);
    assert_string_equal(seen, "ML");
    assert_int_equal(lost_err, KMQTT_ETOOBIG);
    assert_int_equal(piece_bytes, 0);
    kmqtt_client_destroy(c);
}

#if KMQTT_CFG_V5
/* 5.0: the same maximum is advertised on CONNECT (MQTT-3.1.2-24: Maximum
 * Packet Size, property 0x27, four bytes). */
static void maximum_below_rx_is_advertised_5(void **state)
{
    static const uint8_t prop[] = {0x27, 0, 0, 0, 100};
    kmqtt_client_t *c = start(KMQTT_V5, 100, 256);
    size_t k;
    bool found = false;
    (void)state;
    assert_true(S.out_len > 0 && (S.out[0] >> 4) == 1);
    for (k = 0; k + sizeof prop <= S.out_len && !found; k++)
        found = memcmp(S.out + k, prop, sizeof prop) == 0;
    assert_true(found);
    feed_publish(KMQTT_V5, 60);
    assert_int_equal(run_until_quiet(c), KMQTT_OK);
    assert_string_equal(seen, "M");
    kmqtt_client_destroy(c);
}

/* 5.0 without on_message_piece: a maximum above rx_buffer_size cannot be
 * honoured, so create refuses it; with on_message_piece it is accepted. */
static void maximum_above_rx_needs_pieces_5(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    (void)state;
    options(&o, KMQTT_V5, 1000, 256);
    o.on_message_piece = NULL;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_EINVAL);
    assert_null(c);
    options(&o, KMQTT_V5, 1000, 256);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_client_destroy(c);
}
#endif

/* maximum_packet_size 1000 over a 64-byte rx with on_message_piece: 800
 * bytes come in pieces (BEGIN, DATA..., END), then a 1,200-byte packet is
 * over the maximum: the connection ends without a BEGIN for it. */
static void maximum_above_rx_streams_up_to_it(void **state)
{
    kmqtt_client_t *c = start(KMQTT_V311, 1000, 64);
    size_t k;
    (void)state;
    feed_publish(KMQTT_V311, 800);
    assert_int_equal(run_until_quiet(c), KMQTT_OK);
    assert_true(nseen >= 3);
    assert_int_equal(seen[0], 'B');
    for (k = 1; k + 1 < nseen; k++)
        assert_int_equal(seen[k], 'D');
    assert_int_equal(seen[nseen - 1], 'E');
    assert_int_equal(piece_bytes, 800);
    k = nseen;
    feed_publish(KMQTT_V311, 1200);
    assert_int_not_equal(run_until_quiet(c), KMQTT_OK);
    assert_int_equal(nseen, k + 1);
    assert_int_equal(seen[k], 'L');
    assert_int_equal(lost_err, KMQTT_ETOOBIG);
    assert_int_equal(piece_bytes, 800);
    kmqtt_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maximum_below_rx_bounds_messages),
#if KMQTT_CFG_V5
        cmocka_unit_test(maximum_below_rx_is_advertised_5),
        cmocka_unit_test(maximum_above_rx_needs_pieces_5),
#endif
        cmocka_unit_test(maximum_above_rx_streams_up_to_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
