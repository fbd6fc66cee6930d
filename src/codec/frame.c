/*
 * Finding where a packet ends from its fixed header, so a reader can size
 * its buffer (and refuse an oversized packet) before the body arrives.
 */
#include "codec_internal.h"

/* The first-byte rules that hold in every protocol version, so that a
 * stream can be rejected as early as its first byte. */
static kmqtt_err_t check_first_byte(uint8_t b)
{
    unsigned type = (unsigned)(b >> 4);
    unsigned flags = (unsigned)(b & 0x0F);

    switch (type) {
    case 0:
        return KMQTT_EPACKET_TYPE;
    case KMQTT_PUBLISH: {
        unsigned qos = (flags >> 1) & 0x03;
        if (qos == 3)
            return KMQTT_EQOS; /* MQTT-3.3.1-4 */
        if (qos == 0 && (flags & 0x08) != 0)
            return KMQTT_EDUP; /* MQTT-3.3.1-2 */
        return KMQTT_OK;
    }
    case KMQTT_PUBREL:      /* MQTT-3.6.1-1 */
    case KMQTT_SUBSCRIBE:   /* MQTT-3.8.1-1 */
    case KMQTT_UNSUBSCRIBE: /* MQTT-3.10.1-1 */
        return flags == 0x02 ? KMQTT_OK : KMQTT_EFLAGS;
    default:
        return flags == 0 ? KMQTT_OK : KMQTT_EFLAGS; /* MQTT-2.2.2-2 */
    }
}

kmqtt_err_t kmqtt_packet_frame(const uint8_t *buf, size_t len, uint32_t max_packet_size,
                               size_t *packet_len)
{
    if (buf == NULL || packet_len == NULL)
        return KMQTT_EINVAL;
    *packet_len = 0;

    /* The smallest packet is a type byte and a one-byte remaining length. */
    if (len == 0) {
        *packet_len = 2;
        return KMQTT_NEED_MORE;
    }
    kmqtt_err_t err = check_first_byte(buf[0]);
    if (err != KMQTT_OK)
        return err;

    /* Remaining length (MQTT-1.5.5 in 5.0, 2.2.3 in 3.1.1): at most four
     * bytes; a continuation bit on the fourth means a fifth would follow. */
    uint32_t rem = 0;
    size_t n = 0;
    for (;;) {
        if (1 + n >= len) {
            *packet_len = 1 + n + 1;
            return KMQTT_NEED_MORE;
        }
        uint8_t b = buf[1 + n];
        rem |= (uint32_t)(b & 0x7F) << (7 * n);
        n++;
        if ((b & 0x80) == 0)
            break;
        if (n == 4)
            return KMQTT_EREMLEN;
    }

    size_t total = 1 + n + (size_t)rem;
    size_t max = max_packet_size != 0 ? (size_t)max_packet_size : (size_t)KMQTT_PACKET_MAX;
    /* Decided from the header alone, so no caller ever buffers more than
     * max bytes for one packet. */
    if (total > max)
        return KMQTT_ETOOBIG;

    *packet_len = total;
    return len >= total ? KMQTT_OK : KMQTT_NEED_MORE;
}
