/*
 * The peer's WebSocket server side (RFC 6455), written for this test: the
 * HTTP upgrade with Sec-WebSocket-Accept and subprotocol "mqtt", then every
 * client frame checked strictly, field by field, as its bytes arrive:
 *  - RSV1-3 clear (no extension was negotiated, 5.2);
 *  - opcode binary, continuation, close, ping or pong: text and reserved
 *    opcodes are errors (MQTT-6.0.0-1: MQTT goes in binary frames only);
 *  - the MASK bit set (5.1: a server must close on an unmasked frame);
 *  - the length in its shortest form (5.2), and not over what any client
 *    buffer of the matrix could hold;
 *  - control frames with FIN and at most 125 bytes (5.5); continuations only
 *    inside a fragmented message, a new data message only outside one (5.4).
 * Payload is unmasked with the frame's own key and handed to MQTT as a byte
 * stream (MQTT-6.0.0-2: packets need not align with frames). A close frame
 * is answered with one; a ping with a pong. Server frames are never masked.
 */
#include "bp_peer_internal.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WS_GUID   "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define OP_CONT   0x0u
#define OP_TEXT   0x1u
#define OP_BINARY 0x2u
#define OP_CLOSE  0x8u
#define OP_PING   0x9u
#define OP_PONG   0xAu
/* No client of the matrix offers more than its 64 KiB send buffer at once;
 * a frame claiming more is a header read from the wrong place. */
#define FRAME_MAX (1u << 20)

/* Records a WebSocket error at the current stream position; returns false. */
static bool ws_bad(bp_peer_t *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static bool ws_bad(bp_peer_t *p, const char *fmt, ...)
{
    char what[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    bp_peer_fail(p, "WebSocket stream byte %llu: %s", (unsigned long long)p->ws.offset, what);
    return false;
}

static void send_frame(bp_peer_t *p, unsigned op, const uint8_t *b, size_t n)
{
    uint8_t h[10];
    size_t hl = 2;

    h[0] = (uint8_t)(0x80u | op);
    if (n < 126) {
        h[1] = (uint8_t)n;
    } else if (n <= 0xFFFF) {
        h[1] = 126;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        hl = 4;
    } else {
        int i;
        h[1] = 127;
        for (i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    bp_peer_plain_out(p, h, hl);
    if (n > 0)
        bp_peer_plain_out(p, b, n);
}

void bp_ws_out(bp_peer_t *p, const uint8_t *b, size_t n)
{
    if (p->ws.state == BP_WS_HTTP || p->ws.state == BP_WS_CLOSED)
        return; /* nothing may go out before the upgrade or after the close */
    send_frame(p, OP_BINARY, b, n);
}

/* ---------------------------------------------------------- the upgrade */

/* The value of header name (case-insensitive), trimmed, copied into out;
 * false if absent or there twice. */
static bool header(const char *req, const char *name, char *out, size_t cap)
{
    const char *line = strstr(req, "\r\n");
    size_t nl = strlen(name);
    bool found = false;

    while (line != NULL && line[2] != '\r') {
        const char *s = line + 2, *e = strstr(s, "\r\n");
        if (e == NULL)
            break;
        if ((size_t)(e - s) > nl && strncasecmp(s, name, nl) == 0 && s[nl] == ':') {
            const char *v = s + nl + 1;
            size_t vl;
            if (found)
                return false;
            while (*v == ' ' || *v == '\t')
                v++;
            vl = (size_t)(e - v);
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl >= cap)
                return false;
            memcpy(out, v, vl);
            out[vl] = '\0';
            found = true;
        }
        line = e;
    }
    return found;
}

/* True if the comma-separated list has token (case-insensitive). */
static bool has_token(const char *list, const char *token)
{
    size_t tl = strlen(token);
    const char *s = list;

    while (*s != '\0') {
        const char *e = strchr(s, ',');
        size_t l;
        if (e == NULL)
            e = s + strlen(s);
        while (*s == ' ')
            s++;
        l = (size_t)(e - s);
        while (l > 0 && s[l - 1] == ' ')
            l--;
        if (l == tl && strncasecmp(s, token, tl) == 0)
            return true;
        s = *e == ',' ? e + 1 : e;
    }
    return false;
}

static bool upgrade(bp_peer_t *p, const char *req)
{
    char v[256], key[64], accept[64], resp[512];
    uint8_t digest[SHA_DIGEST_LENGTH], raw[32];
    size_t kl;
    int n;

    /* 4.1: GET, HTTP/1.1 or later; the client's default path. */
    if (strncmp(req, "GET /mqtt HTTP/1.1\r\n", 20) != 0)
        return ws_bad(p, "upgrade: request line is not GET /mqtt HTTP/1.1");
    if (!header(req, "Host", v, sizeof(v)) || v[0] == '\0')
        return ws_bad(p, "upgrade: no Host");
    if (!header(req, "Upgrade", v, sizeof(v)) || !has_token(v, "websocket"))
        return ws_bad(p, "upgrade: Upgrade is not websocket");
    if (!header(req, "Connection", v, sizeof(v)) || !has_token(v, "Upgrade"))
        return ws_bad(p, "upgrade: Connection has no Upgrade");
    if (!header(req, "Sec-WebSocket-Version", v, sizeof(v)) || strcmp(v, "13") != 0)
        return ws_bad(p, "upgrade: Sec-WebSocket-Version is not 13");
    if (!header(req, "Sec-WebSocket-Protocol", v, sizeof(v)) || !has_token(v, "mqtt"))
        return ws_bad(p, "upgrade: subprotocol mqtt not offered");
    /* 4.1: the key is 16 random bytes in base64 (24 characters). */
    if (!header(req, "Sec-WebSocket-Key", key, sizeof(key)) || strlen(key) != 24 ||
        strcmp(key + 22, "==") != 0 || EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18)
        return ws_bad(p, "upgrade: Sec-WebSocket-Key is not 16 bytes of base64");
    /* 4.2.2: base64(SHA-1(key + GUID)). */
    kl = strlen(key);
    memcpy(v, key, kl);
    memcpy(v + kl, WS_GUID, sizeof(WS_GUID));
    SHA1((const unsigned char *)v, kl + sizeof(WS_GUID) - 1, digest);
    EVP_EncodeBlock((unsigned char *)accept, digest, SHA_DIGEST_LENGTH);
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                 "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
                 accept);
    bp_peer_plain_out(p, (const uint8_t *)resp, (size_t)n);
    return true;
}

/* Takes request bytes; returns how many of b were part of it. */
static size_t http_in(bp_peer_t *p, const uint8_t *b, size_t n)
{
    bp_ws_t *w = &p->ws;
    size_t i;

    for (i = 0; i < n; i++) {
        if (w->http_len + 1 >= sizeof(w->http)) {
            ws_bad(p, "upgrade: request over %zu bytes", sizeof(w->http));
            return n;
        }
        w->http[w->http_len++] = (char)b[i];
        if (w->http_len >= 4 && memcmp(w->http + w->http_len - 4, "\r\n\r\n", 4) == 0) {
            w->http[w->http_len] = '\0';
            if (upgrade(p, w->http)) {
                w->state = BP_WS_HDR;
                w->hdr_len = 0;
                w->hdr_need = 2;
            }
            return i + 1;
        }
    }
    return n;
}

/* ----------------------------------------------------------- the frames */

static bool is_control(unsigned op)
{
    return (op & 0x8u) != 0;
}

/* Byte 0 and 1 of a header are known: check them, say what else is needed. */
static bool check_first_two(bp_peer_t *p)
{
    bp_ws_t *w = &p->ws;
    unsigned b0 = w->hdr[0], b1 = w->hdr[1];
    unsigned op = b0 & 0x0Fu, len7 = b1 & 0x7Fu;

    w->fin = (b0 & 0x80u) != 0;
    w->op = (uint8_t)op;
    if ((b0 & 0x70u) != 0)
        return ws_bad(p, "frame header: RSV bits set (first byte 0x%02x)", b0);
    if (op == OP_TEXT)
        return ws_bad(p, "text frame (MQTT-6.0.0-1: binary frames only)");
    if (op != OP_CONT && op != OP_BINARY && op != OP_CLOSE && op != OP_PING && op != OP_PONG)
        return ws_bad(p, "frame header: reserved opcode 0x%x", op);
    if ((b1 & 0x80u) == 0)
        return ws_bad(p, "frame header: not masked (RFC 6455 5.1)");
    if (is_control(op) && !w->fin)
        return ws_bad(p, "control frame 0x%x fragmented (5.5)", op);
    if (is_control(op) && len7 > 125)
        return ws_bad(p, "control frame 0x%x longer than 125 bytes (5.5)", op);
    if (op == OP_CONT && !w->in_msg)
        return ws_bad(p, "continuation frame outside a fragmented message (5.4)");
    if (op == OP_BINARY && w->in_msg)
        return ws_bad(p, "binary frame inside a fragmented message (5.4)");
    w->hdr_need = 2 + (len7 == 126 ? 2u : len7 == 127 ? 8u : 0u) + 4u;
    return true;
}

/* The whole header is here: its length, mask key; on to the payload. */
static void header_done(bp_peer_t *p)
{
    bp_ws_t *w = &p->ws;
    unsigned len7 = w->hdr[1] & 0x7Fu;
    uint64_t len = len7;
    size_t at = 2, i;

    if (len7 == 126) {
        len = (uint64_t)w->hdr[2] << 8 | w->hdr[3];
        at = 4;
        if (len < 126) {
            ws_bad(p, "frame length %llu in 16 bits (5.2: the shortest form)",
                   (unsigned long long)len);
            return;
        }
    } else if (len7 == 127) {
        len = 0;
        for (i = 0; i < 8; i++)
            len = len << 8 | w->hdr[2 + i];
        at = 10;
        if ((len >> 63) != 0 || len <= 0xFFFF) {
            ws_bad(p, "frame length %llu in 64 bits (5.2: the shortest form, top bit 0)",
                   (unsigned long long)len);
            return;
        }
    }
    if (len > FRAME_MAX) {
        ws_bad(p, "frame of %llu bytes, more than any client buffer", (unsigned long long)len);
        return;
    }
    memcpy(w->mask, w->hdr + at, 4);
    w->mi = 0;
    w->left = len;
    w->ctrl_len = 0;
    if (is_control(w->op)) {
        w->state = BP_WS_CTRL;
    } else {
        w->state = BP_WS_DATA;
        w->in_msg = !w->fin;
        p->res.frames++;
        if (len > p->res.max_frame)
            p->res.max_frame = len;
    }
}

static void control_done(bp_peer_t *p)
{
    bp_ws_t *w = &p->ws;

    if (w->op == OP_PING) {
        send_frame(p, OP_PONG, w->ctrl, w->ctrl_len);
    } else if (w->op == OP_CLOSE) {
        uint8_t code[2] = {0x03, 0xE8}; /* 1000, normal */
        if (w->ctrl_len == 1) {
            ws_bad(p, "close frame with a 1-byte body (5.5.1)");
            return;
        }
        if (!p->mq.disconnected) {
            ws_bad(p, "close frame before DISCONNECT");
            return;
        }
        send_frame(p, OP_CLOSE, code, 2);
        w->state = BP_WS_CLOSED;
    }
}

void bp_ws_in(bp_peer_t *p, const uint8_t *b, size_t n)
{
    bp_ws_t *w = &p->ws;
    size_t i = 0;

    while (i < n && !p->res.failed) {
        switch (w->state) {
        case BP_WS_HTTP:
            i += http_in(p, b + i, n - i);
            break;
        case BP_WS_HDR:
            w->hdr[w->hdr_len++] = b[i++];
            if (w->hdr_len == 2 && !check_first_two(p))
                return;
            if (w->hdr_len == w->hdr_need) {
                header_done(p);
                w->offset += w->hdr_len;
                w->hdr_len = 0;
                w->hdr_need = 2;
                if (w->state == BP_WS_DATA && w->left == 0)
                    w->state = BP_WS_HDR;
                else if (w->state == BP_WS_CTRL && w->left == 0) {
                    w->state = BP_WS_HDR;
                    control_done(p);
                }
            }
            break;
        case BP_WS_DATA:
        case BP_WS_CTRL: {
            uint8_t chunk[4096];
            size_t k = n - i, j;
            if (k > w->left)
                k = (size_t)w->left;
            if (k > sizeof(chunk))
                k = sizeof(chunk);
            for (j = 0; j < k; j++)
                chunk[j] = (uint8_t)(b[i + j] ^ w->mask[(w->mi + j) & 3u]);
            w->mi = (unsigned)((w->mi + k) & 3u);
            w->left -= k;
            w->offset += k;
            i += k;
            if (w->state == BP_WS_CTRL) {
                memcpy(w->ctrl + w->ctrl_len, chunk, k);
                w->ctrl_len += k;
                if (w->left == 0) {
                    w->state = BP_WS_HDR;
                    control_done(p);
                }
            } else {
                if (w->left == 0)
                    w->state = BP_WS_HDR;
                bp_mqtt_in(p, chunk, k);
            }
            break;
        }
        case BP_WS_CLOSED:
            ws_bad(p, "bytes after the close frame");
            return;
        }
    }
}
