/* The WebSocket transport's upgrade answer checked the way a server may
 * write it (lists, spaces, case, no reason phrase) and the ways it may get
 * it wrong (bare line feeds, a short or wrong accept value, a status that
 * only starts with 101), and kmqtt_ws_create refusing options and lower
 * transports it cannot work with (RFC 6455 4.1, 4.2.2). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "kmqtt/transport.h"
#include "ws_internal.h"

static const char key[WS_KEY_LEN + 1] = "dGhlIHNhbXBsZSBub25jZQ==";

/* Checks head (a printf format whose one %s is the right accept value). */
static kmqtt_err_t check(const char *fmt)
{
    char acc[WS_ACCEPT_LEN + 1], head[1024];
    int n;
    ws_accept_for(key, acc);
    n = snprintf(head, sizeof(head), fmt, acc);
    assert_true(n > 0 && (size_t)n < sizeof(head));
    return ws_check_response((const uint8_t *)head, (size_t)n, key);
}

/* RFC 6455 4.2.2 example: this key's accept value. */
static void test_accept_value_of_the_rfc_example(void **state)
{
    char acc[WS_ACCEPT_LEN + 1];
    (void)state;
    ws_accept_for(key, acc);
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* Token lists with spaces and empty elements, any case, no reason phrase:
 * all accepted (RFC 7230 7: #list allows empty elements and OWS). */
static void test_answers_a_server_may_write(void **state)
{
    (void)state;
    assert_int_equal(check("HTTP/1.1 101\r\nUpgrade: WebSocket\r\n"
                           "Connection: keep-alive, ,Upgrade ,\r\nSec-WebSocket-Accept: %s\r\n"
                           "Sec-WebSocket-Protocol: mqtt\r\n\r\n"),
                     KMQTT_OK);
    assert_int_equal(check("HTTP/1.1 101 Switching Protocols\r\nupgrade:\t websocket \t\r\n"
                           "CONNECTION: upgrade\r\nsec-websocket-accept:%s\r\n"
                           "Sec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Extensions: \r\n"
                           "X-Other: 1\r\n\r\n"),
                     KMQTT_OK);
}

/* Each answer is refused with KMQTT_EWS_HANDSHAKE. */
static void test_answers_refused(void **state)
{
    static const char *const bad[] = {
        /* a status that only starts with 101 */
        "HTTP/1.1 1010 Odd\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        /* a header line ended by a bare line feed */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        /* an empty line of a bare line feed */
        "HTTP/1.1 101 OK\r\n\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        /* a header line without a colon */
        "HTTP/1.1 101 OK\r\nUpgrade websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        /* the accept value one character short */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %.27s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        /* the accept value of another key, right length */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\nSec-WebSocket-Protocol: mqtt\r\n"
        "X: %s\r\n\r\n",
        /* "Connection: upgradex": a token is whole */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgradex, close\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        /* a header named like Upgrade but not it */
        "HTTP/1.1 101 OK\r\nUpgradx: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        /* the subprotocol in another case (names are case-sensitive) */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: MQTT\r\n\r\n",
        /* an extension we never offered */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        /* no Upgrade header at all */
        "HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (check(bad[i]) != KMQTT_EWS_HANDSHAKE)
            fail_msg("answer %zu accepted", i);
    }
    /* Too short to hold a status line. */
    assert_int_equal(ws_check_response((const uint8_t *)"HTTP/1.1 101", 12, key),
                     KMQTT_EWS_HANDSHAKE);
}

/* The head ends at the first CR LF CR LF, not before. */
static void test_head_end(void **state)
{
    static const char partial[] = "HTTP/1.1 101\r\nA: b\r\n\rX\r\n\nY\r\n\r";
    static const char whole[] = "HTTP/1.1 101\r\nA: b\r\n\r\nframe";
    (void)state;
    assert_int_equal(ws_head_end((const uint8_t *)partial, sizeof(partial) - 1), 0);
    assert_int_equal(ws_head_end((const uint8_t *)whole, sizeof(whole) - 1), sizeof(whole) - 6);
    assert_int_equal(ws_head_end((const uint8_t *)"\r\n", 2), 0);
}

/* A request that does not fit is not written at all. */
static void test_request_that_does_not_fit(void **state)
{
    char out[512];
    size_t n;
    (void)state;
    n = ws_request(out, sizeof(out), "/mqtt", "broker.example:8080", key);
    assert_true(n > 0 && n < sizeof(out));
    assert_int_equal(ws_request(out, n - 1, "/mqtt", "broker.example:8080", key), 0);
    assert_int_equal(ws_request(out, 20, "/mqtt", "broker.example:8080", key), 0);
}

/* ------------------------------------------------------------ create */

static kmqtt_err_t l_open(void *c, const char *h, uint16_t p, uint32_t t)
{
    (void)c;
    (void)h;
    (void)p;
    (void)t;
    return KMQTT_ECONNREFUSED;
}
static long l_send(void *c, const void *b, size_t n)
{
    (void)c;
    (void)b;
    (void)n;
    return KMQTT_ENOTCONN;
}
static long l_recv(void *c, void *b, size_t n)
{
    (void)c;
    (void)b;
    (void)n;
    return KMQTT_ENOTCONN;
}
static kmqtt_err_t l_wait(void *c, unsigned e, uint32_t t, unsigned *r)
{
    (void)c;
    (void)e;
    (void)t;
    *r = 0;
    return KMQTT_OK;
}
static void l_void(void *c)
{
    (void)c;
}

static kmqtt_transport_t lower_all(void)
{
    kmqtt_transport_t l;
    l.ctx = NULL;
    l.open = l_open;
    l.send = l_send;
    l.recv = l_recv;
    l.wait = l_wait;
    l.wake = l_void;
    l.close = l_void;
    l.destroy = l_void;
    return l;
}

/* A lower transport missing any call, or options it cannot honour: the
 * caller learns at create (KMQTT_EINVAL), with nothing allocated. */
static void test_create_refuses(void **state)
{
    kmqtt_mem_t m;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_stats_t st;
    kmqtt_transport_t l, out;
    kmqtt_ws_options_t o;
    int i;
    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.debug = true;
    assert_int_equal(kmqtt_mem_init(&m, &cfg), KMQTT_OK);
    l = lower_all();
    assert_int_equal(kmqtt_ws_create(NULL, NULL, &l, &out), KMQTT_EINVAL);
    assert_int_equal(kmqtt_ws_create(&m, NULL, NULL, &out), KMQTT_EINVAL);
    assert_int_equal(kmqtt_ws_create(&m, NULL, &l, NULL), KMQTT_EINVAL);
    for (i = 0; i < 7; i++) {
        l = lower_all();
        switch (i) {
        case 0:
            l.open = NULL;
            break;
        case 1:
            l.send = NULL;
            break;
        case 2:
            l.recv = NULL;
            break;
        case 3:
            l.wait = NULL;
            break;
        case 4:
            l.wake = NULL;
            break;
        case 5:
            l.close = NULL;
            break;
        default:
            l.destroy = NULL;
            break;
        }
        if (kmqtt_ws_create(&m, NULL, &l, &out) != KMQTT_EINVAL)
            fail_msg("lower without call %d accepted", i);
    }
    l = lower_all();
    memset(&o, 0, sizeof(o));
    o.host_header = "";
    assert_int_equal(kmqtt_ws_create(&m, &o, &l, &out), KMQTT_EINVAL);
    o.host_header = "evil\r\nX-Injected: 1";
    assert_int_equal(kmqtt_ws_create(&m, &o, &l, &out), KMQTT_EINVAL);
    o.host_header = NULL;
    o.path = "/a b";
    assert_int_equal(kmqtt_ws_create(&m, &o, &l, &out), KMQTT_EINVAL);
    o.path = "mqtt";
    assert_int_equal(kmqtt_ws_create(&m, &o, &l, &out), KMQTT_EINVAL);
    o.path = NULL;
    o.buffer_size = 255;
    assert_int_equal(kmqtt_ws_create(&m, &o, &l, &out), KMQTT_EINVAL);
    /* What it accepts: the lower's refusal comes from open, and the one
     * block goes back on destroy. */
    o.buffer_size = 256;
    o.host_header = "broker.example";
    assert_int_equal(kmqtt_ws_create(&m, &o, &l, &out), KMQTT_OK);
    assert_int_equal(out.open(out.ctx, "127.0.0.1", 1, 1000), KMQTT_ECONNREFUSED);
    out.destroy(out.ctx);
    kmqtt_mem_get_stats(&m, &st);
    assert_int_equal(st.blocks, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_value_of_the_rfc_example),
        cmocka_unit_test(test_answers_a_server_may_write),
        cmocka_unit_test(test_answers_refused),
        cmocka_unit_test(test_head_end),
        cmocka_unit_test(test_request_that_does_not_fit),
        cmocka_unit_test(test_create_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
