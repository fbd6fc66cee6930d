/* Test helpers: write packets as hex strings, compare buffers as hex. */
#ifndef KMQTT_TEST_HEX_H
#define KMQTT_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decodes hex digits into out, skipping spaces; returns the byte count.
 * Aborts the test program on a bad digit or if cap is too small. */
size_t hex_decode(const char *hex, uint8_t *out, size_t cap);

/* Formats len bytes as "0a 1b ..." into a static buffer (for messages). */
const char *hex_format(const uint8_t *buf, size_t len);

#endif
