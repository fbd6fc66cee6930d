/*
 * The packet ids of inbound QoS 2 messages delivered but not yet released
 * by PUBREL: what makes delivery exactly once (MQTT-4.3.3-2).
 *
 * Two forms. A table of cfg.max_inbound_qos2 ids suits 5.0, where the
 * client's Receive Maximum bounds what the server may leave unreleased. A
 * 3.1.1 broker has no such bound (mosquitto was seen leaving 300 QoS 2
 * messages unreleased on one connection), so cfg.max_inbound_qos2 == 0
 * keeps one bit per possible id: 8 KB that can never overflow, and O(1).
 */
#include "legacy_session_internal.h"

#if KMQTT_CFG_QOS2

static uint8_t *bitmap(const legacy_session_t *s)
{
    return (uint8_t *)(void *)s->inbound_qos2;
}

bool kls_inbound_has(const legacy_session_t *s, uint16_t id)
{
    if (s->cfg.max_inbound_qos2 == 0)
        return (bitmap(s)[id >> 3] & (1u << (id & 7u))) != 0;
    for (uint16_t i = 0; i < s->inbound_count; i++) {
        if (s->inbound_qos2[i] == id)
            return true;
    }
    return false;
}

bool kls_inbound_add(legacy_session_t *s, uint16_t id)
{
    if (s->cfg.max_inbound_qos2 == 0) {
        bitmap(s)[id >> 3] |= (uint8_t)(1u << (id & 7u));
        s->inbound_count++;
        return true;
    }
    if (s->inbound_count >= s->cfg.max_inbound_qos2)
        return false;
    s->inbound_qos2[s->inbound_count++] = id;
    return true;
}

void kls_inbound_remove(legacy_session_t *s, uint16_t id)
{
    if (s->cfg.max_inbound_qos2 == 0) {
        if (kls_inbound_has(s, id)) {
            bitmap(s)[id >> 3] &= (uint8_t) ~(1u << (id & 7u));
            s->inbound_count--;
        }
        return;
    }
    for (uint16_t i = 0; i < s->inbound_count; i++) {
        if (s->inbound_qos2[i] == id) {
            s->inbound_qos2[i] = s->inbound_qos2[--s->inbound_count];
            return;
        }
    }
}

void kls_inbound_clear(legacy_session_t *s)
{
    /* inbound_count is the number of set bits: an empty bitmap needs no
     * 8 KB memset (it was 17% of a short connection's instructions). */
    if (s->cfg.max_inbound_qos2 == 0 && s->inbound_count != 0)
        memset(bitmap(s), 0, KLS_INBOUND_BITMAP_BYTES);
    if (s->inbound_count != 0)
        kls_changed(s, LEGACY_SESSION_CH_INBOUND_CLEAR, 0, NULL, 0);
    s->inbound_count = 0;
}

void kls_inbound_init(legacy_session_t *s)
{
    if (s->cfg.max_inbound_qos2 == 0)
        memset(bitmap(s), 0, KLS_INBOUND_BITMAP_BYTES);
    s->inbound_count = 0;
}

#else
/* Nothing here: a C translation unit must not be empty. */
typedef int kls_inbound_compiled_out_t;
#endif /* KMQTT_CFG_QOS2 */
