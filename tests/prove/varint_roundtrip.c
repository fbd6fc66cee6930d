/*
 * make prove: the variable byte integer round trip, for every value.
 *
 * WP's provers here (CVC4; Z3 fails on Frama-C 25's bit-vector tasks) do
 * not reason about the shifts and masks of the encoder and decoder, so this
 * property is checked by enumeration instead, which for a domain of 2^28
 * values is a proof too: for every v in 0..KMQTT_VARINT_MAX (MQTT-1.5.5),
 *  - wr_varint writes kmqtt_varint_size(v) bytes (1..4), a continuation
 *    bit on every byte but the last;
 *  - rd_varint reads exactly those bytes back as v;
 *  - kmqtt_packet_frame, given them as a PUBLISH's remaining length, finds
 *    the packet 1 + n + v bytes long (its own decoder of the same field);
 * and KMQTT_VARINT_MAX + 1 has size 0 (no encoding). Exit 0 if all hold.
 */
#include <stdio.h>

#include "codec_internal.h"

int main(void)
{
    unsigned long failures = 0;

    for (uint32_t v = 0; v <= KMQTT_VARINT_MAX; v++) {
        uint8_t b[5];
        wr_t w = {b + 1, b + sizeof b, false};
        rd_t r;
        uint32_t back = 0;
        size_t n = kmqtt_varint_size(v), total = 0;

        wr_varint(&w, v);
        if (w.overflow || (size_t)(w.p - (b + 1)) != n || n < 1 || n > 4) {
            failures++;
            continue;
        }
        for (size_t k = 0; k + 1 < n; k++)
            failures += (b[1 + k] & 0x80) == 0;
        failures += (b[n] & 0x80) != 0;
        r.p = b + 1;
        r.end = b + 1 + n;
        if (rd_varint(&r, &back) != KMQTT_OK || back != v || r.p != r.end)
            failures++;
        b[0] = 0x30; /* PUBLISH, QoS 0 */
        if (kmqtt_packet_frame(b, 1 + n, 0, &total) == KMQTT_ETOOBIG || total != 1 + n + (size_t)v)
            failures++;
        if (failures != 0 && failures < 5)
            fprintf(stderr, "varint: round trip fails at %lu\n", (unsigned long)v);
    }
    if (kmqtt_varint_size(KMQTT_VARINT_MAX + 1u) != 0)
        failures++;
    printf("varint: %lu values (0..%lu) encoded, decoded and framed: %lu failures\n",
           (unsigned long)KMQTT_VARINT_MAX + 1, (unsigned long)KMQTT_VARINT_MAX, failures);
    return failures == 0 ? 0 : 1;
}
