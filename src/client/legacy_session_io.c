/*
 * The receive and send buffers, and answers that wait for room.
 *
 * The send buffer is linear: bytes wait in tx[tx_start..tx_end) and are slid
 * to the front only when a new packet needs the room, so tx_peek can always
 * give one contiguous run.
 *
 * An answer the broker is owed (PUBACK, PUBREC, PUBREL, PUBCOMP) or a due
 * PINGREQ that finds tx full goes to a short list and is written, in order,
 * as soon as tx_consume frees room. Only when that list is full too does
 * next_event leave the packet unhandled (KMQTT_NEED_MORE) until tx drains,
 * so an answer is never lost and nothing grows without a bound.
 */
#include "legacy_session_internal.h"

bool kls_tx_fits(const legacy_session_t *s, size_t n)
{
    return n <= s->cfg.tx_buffer_size - (s->tx_end - s->tx_start);
}

uint8_t *kls_tx_alloc(legacy_session_t *s, size_t n)
{
    uint8_t *p;
    if (!kls_tx_fits(s, n))
        return NULL;
    if (s->tx_end + n > s->cfg.tx_buffer_size) {
        size_t held = s->tx_end - s->tx_start;
        memmove(s->tx, s->tx + s->tx_start, held);
        s->tx_start = 0;
        s->tx_end = held;
    }
    p = s->tx + s->tx_end;
    s->tx_end += n;
    return p;
}

kmqtt_err_t kls_tx_packet(legacy_session_t *s, const kmqtt_packet_t *p)
{
    size_t n, written;
    uint8_t *at;
    kmqtt_err_t err = kmqtt_packet_size(p, s->cfg.version, &n);
    if (err != KMQTT_OK)
        return err;
    at = kls_tx_alloc(s, n);
    if (at == NULL)
        return KMQTT_ENOBUFS;
    err = kmqtt_packet_encode(p, s->cfg.version, at, n, &written);
    if (err != KMQTT_OK) {
        /* Cannot happen after a successful size pass; give the room back. */
        s->tx_end -= n;
        return err;
    }
    return KMQTT_OK;
}

static uint32_t owed_pack(kmqtt_packet_type_t type, uint16_t id, uint8_t reason)
{
    return ((uint32_t)type << 24) | ((uint32_t)reason << 16) | id;
}

static bool write_answer(legacy_session_t *s, uint32_t packed)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = (kmqtt_packet_type_t)(packed >> 24);
    if (p.type != KMQTT_PINGREQ) {
        p.u.ack.packet_id = (uint16_t)(packed & 0xFFFFu);
        /* 3.1.1 acknowledgements carry no reason code. */
        if (KLS_V5(s))
            p.u.ack.reason_code = (uint8_t)(packed >> 16);
    }
    return kls_tx_packet(s, &p) == KMQTT_OK;
}

bool kls_answer(legacy_session_t *s, kmqtt_packet_type_t type, uint16_t id, uint8_t reason)
{
    uint32_t packed = owed_pack(type, id, reason);
    /* Nothing may follow DISCONNECT (MQTT-3.14.4-1). The broker sends the
     * unanswered packets again on the next connection, where the inbound
     * QoS 2 ids still held keep delivery exactly once. */
    if (s->state == LEGACY_SESSION_CLOSING)
        return true;
    /* Behind older owed answers, so the broker sees them in the order the
     * packets they answer arrived (MQTT-4.6.0-2, -3). */
    if (s->owed_count == 0 && write_answer(s, packed))
        return true;
    if (s->owed_count >= LEGACY_SESSION_OWED_MAX)
        return false;
    s->owed[s->owed_count++] = packed;
    return true;
}

void kls_owed_drain(legacy_session_t *s)
{
    uint8_t done = 0;
    while (done < s->owed_count && write_answer(s, s->owed[done]))
        done++;
    if (done == 0)
        return;
    memmove(s->owed, s->owed + done, (size_t)(s->owed_count - done) * sizeof s->owed[0]);
    s->owed_count = (uint8_t)(s->owed_count - done);
}

void legacy_session_rx_space(legacy_session_t *s, uint8_t **buf, size_t *space)
{
    if (s->rx_consumed > 0) {
        memmove(s->rx, s->rx + s->rx_consumed, s->rx_len - s->rx_consumed);
        s->rx_len -= s->rx_consumed;
        s->rx_consumed = 0;
    }
    *buf = s->rx + s->rx_len;
    *space = s->cfg.rx_buffer_size - s->rx_len;
}

void legacy_session_rx_commit(legacy_session_t *s, size_t n, uint64_t now_ms)
{
    size_t space = s->cfg.rx_buffer_size - s->rx_len;
    if (n > space)
        n = space; /* a caller bug; never write past the buffer */
    if (n == 0)
        return;
    s->rx_len += n;
    s->last_rx_ms = now_ms;
}

size_t legacy_session_tx_peek(const legacy_session_t *s, const uint8_t **buf)
{
    *buf = s->tx + s->tx_start;
    return s->tx_end - s->tx_start;
}

void legacy_session_tx_consume(legacy_session_t *s, size_t n, uint64_t now_ms)
{
    size_t held = s->tx_end - s->tx_start;
    if (n > held)
        n = held;
    if (n == 0)
        return;
    s->tx_start += n;
    if (s->tx_start == s->tx_end) {
        s->tx_start = 0;
        s->tx_end = 0;
    }
    s->last_tx_ms = now_ms;
    if (s->state == LEGACY_SESSION_CONNECTED) {
        if (s->owed_count != 0)
            kls_owed_drain(s);
        /* Only a record left unsent (resend_due) needs the pump: a new
         * PUBLISH is refused while one waits, so nothing else can be. */
        if (s->resend_due)
            kls_pump(s, now_ms);
    }
}
