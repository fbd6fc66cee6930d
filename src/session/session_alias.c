/*
 * MQTT 5.0 topic aliases, both ways, in the caller's fixed slots (a slot
 * can never fragment, and a lookup is one multiplication). Inbound slot:
 * u16 length (0 = unset) + topic. Outbound slot: u32 last-use stamp, u16
 * length (0 = free) + topic, both copied with memcpy (the caller's table
 * need not be aligned). A topic already in an outbound slot goes as an empty
 * topic with its alias; a new one takes a free slot, else the least recently
 * used, and goes in full with the alias (which maps it at the server). Both
 * tables start empty on every connection (MQTT-3.3.2-7). Built with
 * KMQTT_CFG_V5 and KMQTT_CFG_TOPIC_ALIAS.
 */
#include "session_internal.h"

#if KS_ALIASES

static uint8_t *in_slot(const kmqtt_session_t *s, uint32_t alias)
{
    return s->alias_in + (alias - 1u) * KMQTT_SESSION_ALIAS_IN_SLOT(s->alias_topic_len);
}

static uint8_t *out_slot(const kmqtt_session_t *s, uint32_t alias)
{
    return s->alias_out + (alias - 1u) * KMQTT_SESSION_ALIAS_OUT_SLOT(s->alias_topic_len);
}

void ks_alias_reset(kmqtt_session_t *s)
{
    s->alias_out_active = 0;
    s->alias_clock = 0;
    if (s->alias_in_max > 0)
        memset(s->alias_in, 0, s->alias_in_max * KMQTT_SESSION_ALIAS_IN_SLOT(s->alias_topic_len));
    if (s->alias_out_max > 0)
        memset(s->alias_out, 0,
               s->alias_out_max * KMQTT_SESSION_ALIAS_OUT_SLOT(s->alias_topic_len));
}

/* An inbound PUBLISH's Topic Alias: a topic with it maps the alias, an empty
 * topic takes the mapped one, so the application always sees the full topic
 * (MQTT-3.3.2-10, -11). 0 or over the Topic Alias Maximum we advertised
 * (none when we have no slots) is Topic Alias invalid, 0x94 (MQTT-3.3.2-8,
 * MQTT-3.1.2-26, -27); an alias never mapped is a Protocol Error; a topic
 * longer than our slots is Quota exceeded, 0x97. */
int ks_alias_in(kmqtt_session_t *s, kmqtt_session_msg_t *m)
{
    uint32_t a;
    if (!ks_v5_num(m->props, m->props_len, KMQTT_PROP_TOPIC_ALIAS, &a))
        return KMQTT_OK;
    /* a == 0 is never true here: the codec refused Topic Alias 0 (MQTT-3.3.2-8). */
    if (a == 0 || a > s->alias_in_max)
        return ks_fail(s, KMQTT_EPROTOCOL, 0x94u);
    uint8_t *slot = in_slot(s, a);
    if (m->topic_len == 0) {
        uint16_t len = ks_get_u16(slot);
        if (len == 0)
            return ks_fail(s, KMQTT_EPROTOCOL, 0x82u);
        m->topic = (const char *)slot + 2;
        m->topic_len = len;
        return KMQTT_OK;
    }
    kmqtt_err_t err = kmqtt_topic_name_validate(m->topic, m->topic_len);
    if (err != KMQTT_OK)
        return err;
    if (m->topic_len > s->alias_topic_len)
        return ks_fail(s, KMQTT_ELIMIT, 0x97u);
    ks_put_u16(slot, m->topic_len);
    memcpy(slot + 2, m->topic, m->topic_len);
    return KMQTT_OK;
}

/* The alias for an outbound topic (0: none) and whether the topic goes with
 * it (a new mapping). Nothing changes until ks_alias_commit. */
uint16_t ks_alias_pick(const kmqtt_session_t *s, const char *topic, uint16_t len, bool *with_topic)
{
    *with_topic = true;
    if (s->alias_out_active == 0 || len > s->alias_topic_len)
        return 0;
    uint16_t pick = 0;
    uint32_t oldest = UINT32_MAX;
    for (uint16_t a = 1; a <= s->alias_out_active; a++) {
        const uint8_t *slot = out_slot(s, a);
        uint32_t stamp;
        memcpy(&stamp, slot, 4);
        uint16_t have = ks_get_u16(slot + 4);
        if (have == len && memcmp(slot + 6, topic, len) == 0) {
            *with_topic = false;
            return a;
        }
        if (have == 0)
            stamp = 0; /* a free slot before any used one */
        if (stamp < oldest) {
            oldest = stamp;
            pick = a;
        }
    }
    return pick;
}

void ks_alias_commit(kmqtt_session_t *s, uint16_t alias, const char *topic, uint16_t len)
{
    uint8_t *slot = out_slot(s, alias);
    uint32_t stamp = ++s->alias_clock;
    memcpy(slot, &stamp, 4);
    ks_put_u16(slot + 4, len);
    memcpy(slot + 6, topic, len);
}
#endif
