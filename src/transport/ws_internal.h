/*
 * WebSocket transport internals: SHA-1 and base64 for the handshake's
 * Sec-WebSocket-Accept, and the HTTP upgrade request / response helpers.
 * Only string.h, stdint.h, stddef.h and stdbool.h: runs on every port.
 */
#ifndef KMQTT_WS_INTERNAL_H
#define KMQTT_WS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/error.h"

/* SHA-1 (FIPS 180-4), incremental. */
typedef struct ws_sha1 {
    uint32_t h[5];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t used; /* bytes waiting in block */
} ws_sha1_t;

void ws_sha1_init(ws_sha1_t *s);
void ws_sha1_update(ws_sha1_t *s, const void *data, size_t len);
void ws_sha1_final(ws_sha1_t *s, uint8_t digest[20]);

/* Standard base64 with padding (RFC 4648 section 4). Writes 4 * ceil(len / 3)
 * characters and a NUL into out; returns the characters written, or 0 when
 * cap is too small (nothing is truncated silently). */
size_t ws_base64(const uint8_t *in, size_t len, char *out, size_t cap);

/* Length of a Sec-WebSocket-Key (base64 of 16 bytes) and of an accept
 * value (base64 of a SHA-1 digest), without the NUL. */
#define WS_KEY_LEN    24
#define WS_ACCEPT_LEN 28

/* Sec-WebSocket-Accept for key (RFC 6455 4.2.2: base64(SHA-1(key + GUID))). */
void ws_accept_for(const char key[WS_KEY_LEN], char out[WS_ACCEPT_LEN + 1]);

/* Writes the HTTP/1.1 upgrade request into out (no NUL). host_header is the
 * Host value. Returns its length, or 0 if it does not fit cap. */
size_t ws_request(char *out, size_t cap, const char *path, const char *host_header,
                  const char key[WS_KEY_LEN]);

/* Length of the response head (through the empty line "\r\n\r\n"), or 0 if
 * buf does not hold all of it yet. */
size_t ws_head_end(const uint8_t *buf, size_t len);

/* Checks a complete response head (len bytes from ws_head_end): status 101,
 * Upgrade: websocket, Connection: upgrade, the accept value for key, the
 * subprotocol "mqtt" and no extension. KMQTT_OK or KMQTT_EWS_HANDSHAKE. */
kmqtt_err_t ws_check_response(const uint8_t *head, size_t len, const char key[WS_KEY_LEN]);

#endif
