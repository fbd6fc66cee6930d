/*
 * UTF-8 validation (MQTT-1.5.3) and the size of a variable byte integer.
 *
 * Every UTF-8 string the peer sends goes through kmqtt_utf8_validate, and
 * most of them (topics, client ids, property names) are plain ASCII, so the
 * common case checks a whole machine word per step and only falls back to
 * decoding byte by byte where a byte is non-ASCII or zero.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec_internal.h"

/* 0x0101...01 and 0x8080...80 for whatever width size_t has, so 32-bit
 * microcontrollers use their native word instead of emulated 64-bit math. */
#define WORD_ONES  ((size_t)-1 / 0xFFu)
#define WORD_HIGHS (WORD_ONES * 0x80u)

/* True if every byte of w is in 0x01..0x7F. A byte >= 0x80 shows in w's high
 * bits; with none of those, w - 0x01..01 borrows (and so sets a high bit)
 * exactly when some byte is 0x00. */
/*@ assigns \nothing; */
static bool word_is_ascii_without_nul(size_t w)
{
    return ((w | (w - WORD_ONES)) & WORD_HIGHS) == 0;
}

/* Contract (ACSL, proved by make prove: tests/prove/, docs/proof.md):
 * no run-time error for any input, one of four results, and a string of
 * ASCII characters other than NUL is always valid. */
/*@ requires s == \null || \valid_read(s + (0 .. len - 1));
    assigns \nothing;
    ensures \result == KMQTT_OK || \result == KMQTT_EUTF8 || \result == KMQTT_EUTF8_NUL ||
            \result == KMQTT_EINVAL;
    ensures s == \null && len > 0 ==> \result == KMQTT_EINVAL;
    behavior ascii:
      assumes s != \null || len == 0;
      assumes \forall integer j; 0 <= j < len ==> 0 < (unsigned char)s[j] < 0x80;
      ensures \result == KMQTT_OK;
*/
kmqtt_err_t kmqtt_utf8_validate(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (len > 0 && s == NULL)
        return KMQTT_EINVAL;

    /*@ loop invariant 0 <= i <= len;
        loop assigns i;
        loop variant len - i;
    */
    while (i < len) {
        if (len - i >= sizeof(size_t)) {
            size_t w;
            /* memcpy: p + i need not be aligned, and this avoids aliasing
             * problems; compilers turn it into a single load. */
            memcpy(&w, p + i, sizeof w);
            if (word_is_ascii_without_nul(w)) {
                i += sizeof w;
                continue;
            }
        }

        unsigned c = p[i];
        if (c < 0x80u) {
            if (c == 0)
                return KMQTT_EUTF8_NUL; /* MQTT-1.5.3-2 */
            i++;
            continue;
        }

        /* Well-formed sequences per Unicode Table 3-7. Restricting the
         * second byte's range is what rejects overlong 3- and 4-byte forms
         * (E0, F0), surrogates (ED A0..BF) and code points past U+10FFFF
         * (F4 90.., F5..FF); C0 and C1 only start overlong 2-byte forms. */
        size_t extra;
        unsigned lo = 0x80u, hi = 0xBFu;
        if (c < 0xC2u) {
            return KMQTT_EUTF8; /* stray continuation byte or C0/C1 */
        } else if (c < 0xE0u) {
            extra = 1;
        } else if (c < 0xF0u) {
            extra = 2;
            if (c == 0xE0u)
                lo = 0xA0u;
            else if (c == 0xEDu)
                hi = 0x9Fu;
        } else if (c < 0xF5u) {
            extra = 3;
            if (c == 0xF0u)
                lo = 0x90u;
            else if (c == 0xF4u)
                hi = 0x8Fu;
        } else {
            return KMQTT_EUTF8;
        }

        if (len - i - 1 < extra)
            return KMQTT_EUTF8; /* sequence cut off by the end of the string */
        if (p[i + 1] < lo || p[i + 1] > hi)
            return KMQTT_EUTF8;
        /*@ loop invariant 2 <= k <= extra + 1;
            loop assigns k;
            loop variant extra + 1 - k;
        */
        for (size_t k = 2; k <= extra; k++) {
            if ((p[i + k] & 0xC0u) != 0x80u)
                return KMQTT_EUTF8;
        }
        i += extra + 1;
    }
    return KMQTT_OK;
}

/*@ assigns \nothing;
    ensures value < 128 ==> \result == 1;
    ensures 128 <= value < 16384 ==> \result == 2;
    ensures 16384 <= value < 2097152 ==> \result == 3;
    ensures 2097152 <= value <= 268435455 ==> \result == 4;
    ensures value > 268435455 ==> \result == 0;
*/
size_t kmqtt_varint_size(uint32_t value)
{
    if (value < 128u)
        return 1;
    if (value < 16384u)
        return 2;
    if (value < 2097152u)
        return 3;
    if (value <= KMQTT_VARINT_MAX)
        return 4;
    return 0;
}

uint8_t *kmqtt_varint_write(uint8_t *p, uint32_t value)
{
    do {
        uint8_t b = (uint8_t)(value & 0x7Fu);
        value >>= 7;
        *p++ = (uint8_t)(value != 0 ? b | 0x80u : b);
    } while (value != 0);
    return p;
}
