/*
 * Which reason codes (MQTT 5.0) and return codes (MQTT 3.1.1) each packet
 * may carry. A code outside these lists makes the packet malformed, so the
 * decoder rejects it and the encoder refuses to send it.
 */
#include "codec_internal.h"

#if KMQTT_CFG_V5
/* 3.2.2.2 Connect Reason Code */
static const uint8_t v5_connack[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                     0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                     0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
/* 3.4.2.1 PUBACK and 3.5.2.1 PUBREC share one list. */
static const uint8_t v5_puback[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
/* 3.6.2.1 PUBREL and 3.7.2.1 PUBCOMP share one list. */
static const uint8_t v5_pubrel[] = {0x00, 0x92};
/* 3.9.3 SUBACK payload */
static const uint8_t v5_suback[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                    0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
/* 3.11.3 UNSUBACK payload */
static const uint8_t v5_unsuback[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
/* 3.14.2.1 Disconnect Reason Code */
static const uint8_t v5_disconnect[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
                                        0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
                                        0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
/* 3.15.2.1 Authenticate Reason Code */
static const uint8_t v5_auth[] = {0x00, 0x18, 0x19};
#endif
/* MQTT 3.1.1 section 3.9.3: granted QoS 0..2 or 0x80 failure */
static const uint8_t v311_suback[] = {0x00, 0x01, 0x02, 0x80};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const uint8_t *list, size_t n, uint8_t code)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] == code)
            return true;
    }
    return false;
}

static bool valid_v311(unsigned packet_type, uint8_t code)
{
    switch (packet_type) {
    case KMQTT_CONNACK: /* MQTT 3.1.1 section 3.2.2.3: 0..5, 6..255 reserved */
        return code <= 5;
    case KMQTT_SUBACK: /* MQTT-3.9.3-2: other values are reserved */
        return in_list(v311_suback, COUNT(v311_suback), code);
    case KMQTT_PUBACK:
    case KMQTT_PUBREC:
    case KMQTT_PUBREL:
    case KMQTT_PUBCOMP:
    case KMQTT_UNSUBACK:
    case KMQTT_DISCONNECT:
        /* These carry no code in 3.1.1; 0 is what the decoder reports. */
        return code == 0;
    default: /* AUTH does not exist in 3.1.1 */
        return false;
    }
}

#if KMQTT_CFG_V5
static bool valid_v5(unsigned packet_type, uint8_t code)
{
    switch (packet_type) {
    case KMQTT_CONNACK:
        return in_list(v5_connack, COUNT(v5_connack), code);
    case KMQTT_PUBACK:
    case KMQTT_PUBREC:
        return in_list(v5_puback, COUNT(v5_puback), code);
    case KMQTT_PUBREL:
    case KMQTT_PUBCOMP:
        return in_list(v5_pubrel, COUNT(v5_pubrel), code);
    case KMQTT_SUBACK:
        return in_list(v5_suback, COUNT(v5_suback), code);
    case KMQTT_UNSUBACK:
        return in_list(v5_unsuback, COUNT(v5_unsuback), code);
    case KMQTT_DISCONNECT:
        return in_list(v5_disconnect, COUNT(v5_disconnect), code);
    case KMQTT_AUTH:
        return in_list(v5_auth, COUNT(v5_auth), code);
    default:
        return false;
    }
}
#endif

bool kmqtt_reason_valid(unsigned packet_type, kmqtt_version_t v, uint8_t code)
{
    if (v == KMQTT_V311)
        return valid_v311(packet_type, code);
#if KMQTT_CFG_V5
    if (v == KMQTT_V5)
        return valid_v5(packet_type, code);
#endif
    return false;
}
