/*
 * The HTTP/1.1 side of the WebSocket opening handshake (RFC 6455 4.1, 4.2.2):
 * the upgrade request and the checks on the server's answer.
 */
#include <string.h>

#include "ws_internal.h"

/* RFC 6455 1.3: appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ws_accept_for(const char key[WS_KEY_LEN], char out[WS_ACCEPT_LEN + 1])
{
    ws_sha1_t s;
    uint8_t d[20];

    ws_sha1_init(&s);
    ws_sha1_update(&s, key, WS_KEY_LEN);
    ws_sha1_update(&s, ws_guid, sizeof(ws_guid) - 1);
    ws_sha1_final(&s, d);
    (void)ws_base64(d, sizeof(d), out, WS_ACCEPT_LEN + 1);
}

/* Appends s to out at *at; false (and *at past cap) if it does not fit. */
static bool put(char *out, size_t cap, size_t *at, const char *s, size_t n)
{
    if (*at > cap || cap - *at < n) {
        *at = cap + 1;
        return false;
    }
    memcpy(out + *at, s, n);
    *at += n;
    return true;
}

static bool puts_(char *out, size_t cap, size_t *at, const char *s)
{
    return put(out, cap, at, s, strlen(s));
}

size_t ws_request(char *out, size_t cap, const char *path, const char *host_header,
                  const char key[WS_KEY_LEN])
{
    size_t at = 0;

    /* The subprotocol "mqtt" is what MQTT-6.0.0-3 / MQTT 5.0 6.0 require. */
    puts_(out, cap, &at, "GET ");
    puts_(out, cap, &at, path);
    puts_(out, cap, &at, " HTTP/1.1\r\nHost: ");
    puts_(out, cap, &at, host_header);
    puts_(out, cap, &at, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    put(out, cap, &at, key, WS_KEY_LEN);
    puts_(out, cap, &at, "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n");
    return at > cap ? 0 : at;
}

size_t ws_head_end(const uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return i + 4;
    return 0;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *a, size_t an, const char *b)
{
    size_t i;

    if (an != strlen(b))
        return false;
    for (i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/* True if the comma-separated list v (n bytes) holds token (any case). */
static bool has_token(const char *v, size_t n, const char *token)
{
    size_t i = 0;

    while (i < n) {
        size_t s, e;
        while (i < n && (ows(v[i]) || v[i] == ','))
            i++;
        s = i;
        while (i < n && v[i] != ',')
            i++;
        e = i;
        while (e > s && ows(v[e - 1]))
            e--;
        if (e > s && ieq(v + s, e - s, token))
            return true;
    }
    return false;
}

kmqtt_err_t ws_check_response(const uint8_t *head, size_t len, const char key[WS_KEY_LEN])
{
    const char *p = (const char *)head, *end = p + len;
    char want[WS_ACCEPT_LEN + 1];
    bool upgrade = false, connection = false, accept = false, proto = false;
    static const char status[] = "HTTP/1.1 101";
    const char *eol;

    if (len < sizeof(status) + 1 || memcmp(p, status, sizeof(status) - 1) != 0 ||
        (p[sizeof(status) - 1] != ' ' && p[sizeof(status) - 1] != '\r'))
        return KMQTT_EWS_HANDSHAKE;
    ws_accept_for(key, want);
    /* Skip the status line; then one header per line up to the empty one. */
    eol = memchr(p, '\n', (size_t)(end - p));
    p = eol + 1;
    while (p < end) {
        const char *name = p, *colon, *v, *ve;
        size_t nlen;

        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL || eol == p || eol[-1] != '\r')
            return KMQTT_EWS_HANDSHAKE;
        if (eol - p == 1)
            break; /* the empty line */
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL)
            return KMQTT_EWS_HANDSHAKE;
        nlen = (size_t)(colon - name);
        v = colon + 1;
        ve = eol - 1;
        while (v < ve && ows(*v))
            v++;
        while (ve > v && ows(ve[-1]))
            ve--;
        if (ieq(name, nlen, "upgrade")) {
            upgrade = has_token(v, (size_t)(ve - v), "websocket");
        } else if (ieq(name, nlen, "connection")) {
            connection = has_token(v, (size_t)(ve - v), "upgrade");
        } else if (ieq(name, nlen, "sec-websocket-accept")) {
            accept = (size_t)(ve - v) == WS_ACCEPT_LEN && memcmp(v, want, WS_ACCEPT_LEN) == 0;
        } else if (ieq(name, nlen, "sec-websocket-protocol")) {
            /* Subprotocol names are case-sensitive (RFC 6455 4.1). */
            proto = (size_t)(ve - v) == 4 && memcmp(v, "mqtt", 4) == 0;
        } else if (ieq(name, nlen, "sec-websocket-extensions")) {
            if (ve > v)
                return KMQTT_EWS_HANDSHAKE; /* we offered none (RFC 6455 4.1, point 5) */
        }
        p = eol + 1;
    }
    return (upgrade && connection && accept && proto) ? KMQTT_OK : KMQTT_EWS_HANDSHAKE;
}
