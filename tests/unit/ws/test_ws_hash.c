/* SHA-1 (FIPS 180-4 examples), base64 (RFC 4648 section 10) and the
 * WebSocket accept value (RFC 6455 1.3 sample). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ws_internal.h"

static void sha1_hex(const void *data, size_t len, size_t step, char out[41])
{
    ws_sha1_t s;
    uint8_t d[20];
    const uint8_t *p = data;
    size_t i;

    ws_sha1_init(&s);
    /* fed in pieces of step bytes: the block boundary logic is exercised */
    for (i = 0; i < len; i += step)
        ws_sha1_update(&s, p + i, len - i < step ? len - i : step);
    ws_sha1_final(&s, d);
    for (i = 0; i < 20; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha1_vectors(void **state)
{
    static char million[1000000];
    char hex[41];
    size_t steps[] = {1, 3, 63, 64, 65, 1000000};
    size_t i;
    (void)state;

    sha1_hex("", 0, 1, hex);
    assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    for (i = 0; i < 3; i++) {
        sha1_hex("abc", 3, steps[i], hex);
        assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
    /* 448 bits: the padding needs a second block */
    sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 7, hex);
    assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    sha1_hex(
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopq"
        "rlmnopqrsmnopqrstnopqrstu",
        112, 5, hex);
    assert_string_equal(hex, "a49b2446a02c645bf419f995b67091253a04a259");
    memset(million, 'a', sizeof(million));
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sha1_hex(million, sizeof(million), steps[i], hex);
        assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }
    /* lengths around the 55/56/64-byte padding edges */
    sha1_hex(million, 55, 55, hex);
    assert_string_equal(hex, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    sha1_hex(million, 56, 56, hex);
    assert_string_equal(hex, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    sha1_hex(million, 64, 64, hex);
    assert_string_equal(hex, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

static void test_base64_vectors(void **state)
{
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[16];
    size_t i;
    (void)state;

    for (i = 0; i < 7; i++) {
        assert_int_equal(ws_base64((const uint8_t *)in[i], strlen(in[i]), out, sizeof(out)),
                         strlen(want[i]));
        assert_string_equal(out, want[i]);
    }
    /* no room for the NUL: refused, not truncated */
    assert_int_equal(ws_base64((const uint8_t *)"foobar", 6, out, 8), 0);
    assert_int_equal(ws_base64((const uint8_t *)"foobar", 6, out, 9), 8);
}

static void test_accept_rfc6455_sample(void **state)
{
    char out[WS_ACCEPT_LEN + 1];
    (void)state;

    ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", out);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static kmqtt_err_t check(const char *head)
{
    size_t len = ws_head_end((const uint8_t *)head, strlen(head));
    if (len == 0)
        return KMQTT_NEED_MORE;
    return ws_check_response((const uint8_t *)head, len, "dGhlIHNhbXBsZSBub25jZQ==");
}

static void test_response_checks(void **state)
{
    (void)state;
    assert_int_equal(
        check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
              "Sec-WebSocket-Protocol: mqtt\r\n\r\n"),
        KMQTT_OK);
    /* header names and the Upgrade/Connection tokens are case-insensitive;
     * Connection may list several tokens; whitespace around values */
    assert_int_equal(
        check("HTTP/1.1 101 OK\r\nupgrade:WebSocket\r\nCONNECTION:  keep-alive, upgrade \r\n"
              "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
              "SEC-WEBSOCKET-PROTOCOL: mqtt\r\nServer: x\r\n\r\n"),
        KMQTT_OK);
    assert_int_equal(
        check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOx=\r\n"
              "Sec-WebSocket-Protocol: mqtt\r\n\r\n"),
        KMQTT_EWS_HANDSHAKE);
    /* subprotocol names are case-sensitive; missing is refused */
    assert_int_equal(
        check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
              "Sec-WebSocket-Protocol: MQTT\r\n\r\n"),
        KMQTT_EWS_HANDSHAKE);
    assert_int_equal(
        check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
        KMQTT_EWS_HANDSHAKE);
    assert_int_equal(check("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                           "Sec-WebSocket-Protocol: mqtt\r\n\r\n"),
                     KMQTT_EWS_HANDSHAKE);
    assert_int_equal(check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                           "Sec-WebSocket-Protocol: mqtt\r\n\r\n"),
                     KMQTT_EWS_HANDSHAKE);
    /* an extension we never offered */
    assert_int_equal(
        check(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
        KMQTT_EWS_HANDSHAKE);
    assert_int_equal(check("HTTP/1.1 200 OK\r\nUpgrade: websocket\r\n\r\n"), KMQTT_EWS_HANDSHAKE);
    assert_int_equal(check("HTTP/1.1 1010\r\n\r\n"), KMQTT_EWS_HANDSHAKE);
    assert_int_equal(check("garbage\r\n\r\n"), KMQTT_EWS_HANDSHAKE);
    /* a header line without a colon, a bare LF */
    assert_int_equal(check("HTTP/1.1 101 x\r\nbogus\r\n\r\n"), KMQTT_EWS_HANDSHAKE);
    assert_int_equal(check("HTTP/1.1 101 x\r\nUpgrade: websocket\nConnection: Upgrade\r\n\r\n"),
                     KMQTT_EWS_HANDSHAKE);
    assert_int_equal(check("HTTP/1.1 101 x\r\nUpgrade: websocket\r\n"), KMQTT_NEED_MORE);
}

static void test_request_fits_or_refuses(void **state)
{
    char out[512];
    size_t n;
    (void)state;

    n = ws_request(out, sizeof(out), "/mqtt", "example:80", "dGhlIHNhbXBsZSBub25jZQ==");
    assert_true(n > 0);
    out[n] = '\0';
    assert_non_null(strstr(out, "GET /mqtt HTTP/1.1\r\nHost: example:80\r\n"));
    assert_non_null(strstr(out, "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    assert_int_equal(ws_request(out, n - 1, "/mqtt", "example:80", "dGhlIHNhbXBsZSBub25jZQ=="), 0);
    assert_int_equal(ws_request(out, n, "/mqtt", "example:80", "dGhlIHNhbXBsZSBub25jZQ=="), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1_vectors),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_accept_rfc6455_sample),
        cmocka_unit_test(test_response_checks),
        cmocka_unit_test(test_request_fits_or_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
