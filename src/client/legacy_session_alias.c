/*
 * MQTT 5.0 topic aliases, both directions, and the AUTH packets the client
 * sends.
 *
 * Storage: each alias has a fixed slot of cfg.alias_topic_len topic bytes,
 * carved at init (a pool shared between aliases would save bytes when
 * topics differ in length, but a fixed slot can never fragment and makes a
 * lookup one multiplication). Inbound slot: u16 length (0 = unset) + topic.
 * Outbound slot: u32 last-use stamp, u16 length (0 = free), 2 spare bytes,
 * topic.
 *
 * Outbound policy: a topic already in a slot is sent as an empty topic with
 * its alias; a new topic takes a free slot, else the least recently used
 * one, and is sent in full with the alias (which re-maps it at the server).
 * Both tables are emptied at every legacy_session_start (MQTT-3.3.2-7).
 */
#include "legacy_session_internal.h"

#if KMQTT_CFG_V5

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xFFu);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)(v & 0xFFFFu));
}

static uint8_t *in_slot(const legacy_session_t *s, uint16_t alias)
{
    return s->alias_in + (size_t)(alias - 1u) * KLS_ALIAS_IN_SLOT(&s->cfg);
}

static uint8_t *out_slot(const legacy_session_t *s, uint16_t alias)
{
    return s->alias_out + (size_t)(alias - 1u) * KLS_ALIAS_OUT_SLOT(&s->cfg);
}

void kls_alias_reset(legacy_session_t *s)
{
    if (!KLS_V5(s))
        return;
    for (uint16_t a = 1; a <= s->cfg.topic_alias_max; a++)
        put16(in_slot(s, a), 0);
    for (uint16_t a = 1; a <= s->cfg.topic_alias_out; a++) {
        put32(out_slot(s, a), 0);
        put16(out_slot(s, a) + 4, 0);
    }
    s->alias_out_max = 0; /* until the CONNACK says how many the server takes */
    s->alias_clock = 0;
}

kmqtt_err_t kls_alias_inbound(legacy_session_t *s, kmqtt_publish_t *m, uint8_t *reason)
{
    kmqtt_prop_t p;
    uint8_t *slot;

    if (!kmqtt_props_find(&m->props, KMQTT_PROP_TOPIC_ALIAS, &p))
        return KMQTT_OK;
    /* MQTT-3.3.2-8 (0 is never an alias), MQTT-3.1.2-26 / -27 (not above
     * what our CONNECT advertised, none if it advertised none);
     * MQTT-3.3.2-10: every value in 1..that maximum is accepted. */
    if (p.num == 0 || p.num > s->adv_alias_max) {
        *reason = KLS_RC_ALIAS_INVALID;
        return KMQTT_EPROTOCOL;
    }
    slot = in_slot(s, (uint16_t)p.num);
    if (m->topic.len > 0) {
        if (m->topic.len > s->cfg.alias_topic_len) {
            /* Valid, but more than this client keeps per alias. */
            *reason = KLS_RC_QUOTA;
            return KMQTT_ELIMIT;
        }
        put16(slot, (uint16_t)m->topic.len);
        memcpy(slot + 2, m->topic.ptr, m->topic.len);
        return KMQTT_OK;
    }
    if (get16(slot) == 0) {
        /* 5.0 3.3.2.3.4: an alias with no mapping on this connection. */
        *reason = KLS_RC_PROTOCOL;
        return KMQTT_EPROTOCOL;
    }
    /* The application always sees the full topic. */
    m->topic.ptr = (const char *)(slot + 2);
    m->topic.len = get16(slot);
    return KMQTT_OK;
}

uint16_t kls_alias_pick(const legacy_session_t *s, const kmqtt_str_t *topic, bool *with_topic)
{
    uint16_t free_slot = 0, oldest = 0;
    uint32_t oldest_stamp = UINT32_MAX;

    *with_topic = true;
    if (s->alias_out_max == 0 || topic->len == 0 || topic->len > s->cfg.alias_topic_len)
        return 0;
    for (uint16_t a = 1; a <= s->alias_out_max; a++) {
        const uint8_t *slot = out_slot(s, a);
        uint16_t len = get16(slot + 4);
        if (len == 0) {
            if (free_slot == 0)
                free_slot = a;
            continue;
        }
        if (len == topic->len && memcmp(slot + 8, topic->ptr, len) == 0) {
            *with_topic = false;
            return a;
        }
        if (get32(slot) < oldest_stamp) {
            oldest_stamp = get32(slot);
            oldest = a;
        }
    }
    return free_slot != 0 ? free_slot : oldest;
}

void kls_alias_commit(legacy_session_t *s, uint16_t alias, const kmqtt_str_t *topic)
{
    uint8_t *slot = out_slot(s, alias);
    if (s->alias_clock == UINT32_MAX) {
        /* Forty years of publishing later: restart the stamps, keeping order
         * is not worth the code. */
        for (uint16_t a = 1; a <= s->alias_out_max; a++)
            put32(out_slot(s, a), 0);
        s->alias_clock = 0;
    }
    put32(slot, ++s->alias_clock);
    put16(slot + 4, (uint16_t)topic->len);
    memcpy(slot + 8, topic->ptr, topic->len);
}

/* ------------------------------------------------------------------- AUTH */

bool kls_auth_method_is(const legacy_session_t *s, const kmqtt_props_t *props, bool required)
{
    kmqtt_prop_t p;
    if (!kmqtt_props_find(props, KMQTT_PROP_AUTHENTICATION_METHOD, &p))
        return !required;
    return p.str.len == s->auth_method_len && memcmp(p.str.ptr, s->auth_method, p.str.len) == 0;
}

kmqtt_err_t legacy_session_auth(legacy_session_t *s, uint8_t reason, const kmqtt_props_t *props)
{
    kmqtt_packet_t p;
    size_t n;
    kmqtt_err_t err;

    if (s == NULL || props == NULL)
        return KMQTT_EINVAL;
    if (!KLS_V5(s) || s->auth_method_len == 0)
        return KMQTT_ESTATE;
    if (reason == KLS_RC_CONTINUE_AUTH) {
        if (s->state != LEGACY_SESSION_CONNECTING &&
            !(s->state == LEGACY_SESSION_CONNECTED && s->auth_state == KLS_AUTH_REAUTH))
            return KMQTT_ESTATE;
    } else if (reason == KLS_RC_REAUTHENTICATE) {
        /* 5.0 4.12.1: only after a successful connect, one at a time. */
        if (s->state != LEGACY_SESSION_CONNECTED || s->auth_state == KLS_AUTH_REAUTH)
            return KMQTT_ESTATE;
    } else {
        return KMQTT_EINVAL;
    }
    /* 5.0 3.15.2.2.2, 4.12: the method of the CONNECT, every time. */
    if (!kls_auth_method_is(s, props, true))
        return KMQTT_EINVAL;

    memset(&p, 0, sizeof p);
    p.type = KMQTT_AUTH;
    p.u.disconnect.reason_code = reason;
    p.u.disconnect.props = *props;
    if ((err = kmqtt_packet_size(&p, s->cfg.version, &n)) != KMQTT_OK)
        return err;
    if (s->server_max_packet != 0 && n > s->server_max_packet)
        return KMQTT_ETOOBIG; /* MQTT-3.2.2-15 */
    if (n > s->cfg.tx_buffer_size)
        return KMQTT_ETOOBIG;
    if ((err = kls_tx_packet(s, &p)) != KMQTT_OK)
        return err;
    if (reason == KLS_RC_REAUTHENTICATE)
        s->auth_state = KLS_AUTH_REAUTH;
    return KMQTT_OK;
}

#else /* !KMQTT_CFG_V5: no aliases, no AUTH in 3.1.1 */

kmqtt_err_t legacy_session_auth(legacy_session_t *s, uint8_t reason, const kmqtt_props_t *props)
{
    (void)s;
    (void)reason;
    (void)props;
    return KMQTT_EUNSUPPORTED;
}

#endif /* KMQTT_CFG_V5 */
