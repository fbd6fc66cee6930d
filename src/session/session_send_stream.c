/*
 * A PUBLISH whose payload is produced in pieces (issue #19): a firmware
 * image or a log file going up through a small tx. The header is queued
 * as for any PUBLISH; the payload is then asked of the reader as the
 * transport takes bytes, and until it is all in tx nothing else enters it
 * (a packet cannot be interleaved). A QoS 1/2 message keeps only its
 * header in the store: a resend asks the reader again from offset 0.
 */
#include "session_internal.h"

#if KMQTT_CFG_STREAM

void kmqtt_session_set_reader(kmqtt_session_t *s, kmqtt_session_read_fn fn, void *ctx)
{
    if (s == NULL)
        return;
    s->reader = fn;
    s->reader_ctx = ctx;
}

/* The Remaining Length of a packet the engine wrote itself. */
uint32_t ks_head_rem(const uint8_t *pkt)
{
    uint32_t rem = 0;
    unsigned i = 1;
    /* i < 5u never false: the engine's own headers end their length within 4 bytes. */
    do {
        rem |= (uint32_t)(pkt[i] & 0x7Fu) << (7u * (i - 1u));
    } while ((pkt[i++] & 0x80u) && i < 5u);
    return rem;
}

void ks_out_start(kmqtt_session_t *s, uint16_t id, const uint8_t *head, uint32_t head_len)
{
    s->so_id = id;
    s->so_total = (uint32_t)ks_packet_size(ks_head_rem(head)) - head_len;
    s->so_left = s->so_total;
    ks_out_fill(s);
}

/* Fills tx from the reader as far as there is room. Bytes already queued
 * are slid down only as ks_tx_reserve does (DESIGN rule 6). */
void ks_out_fill(kmqtt_session_t *s)
{
    while (s->so_left != 0) {
        uint32_t queued = s->tx_len - s->tx_start;
        if (queued == s->tx_size)
            return;
        if (s->tx_len == s->tx_size) {
            memmove(s->tx, s->tx + s->tx_start, queued);
            s->tx_start = 0;
            s->tx_len = queued;
        }
        size_t room = s->tx_size - s->tx_len;
        if (room > s->so_left)
            room = s->so_left;
        long got = s->reader != NULL ? s->reader(s->reader_ctx, s->so_id, s->so_total - s->so_left,
                                                 s->tx + s->tx_len, room)
                                     : (long)KMQTT_EINVAL;
        if (got <= 0 || (size_t)got > room) {
            /* The packet cannot be finished: the connection must end. */
            s->so_err = (int8_t)(got < 0 ? got : (long)KMQTT_EIO);
            s->so_left = 0;
            s->state = KMQTT_SESSION_ENDED;
            return;
        }
        s->tx_len += (uint32_t)got;
        s->so_left -= (uint32_t)got;
    }
}

#else

void kmqtt_session_set_reader(kmqtt_session_t *s, kmqtt_session_read_fn fn, void *ctx)
{
    (void)s;
    (void)fn;
    (void)ctx;
}

#endif
