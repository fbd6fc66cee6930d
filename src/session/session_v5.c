/*
 * MQTT 5.0 in the engine: property blocks (validated by the codec's own
 * rules, kmqtt_props_validate_raw, so there is one copy of them), the
 * server's CONNACK capabilities, the DISCONNECT reason for an error, the
 * Authentication Method check and AUTH. Built only with KMQTT_CFG_V5.
 */
#include "session_internal.h"

#if KMQTT_CFG_V5

kmqtt_err_t ks_v5_check(const uint8_t *props, size_t len, unsigned where)
{
    if (len > 0 && props == NULL)
        return KMQTT_EINVAL;
    if (len > KMQTT_VARINT_MAX)
        return KMQTT_ETOOBIG;
    return kmqtt_props_validate_raw(props, len, where);
}

/* A property block with its length (2.2.2): *p moves past it. */
int ks_v5_props(const uint8_t **p, const uint8_t *end, unsigned where, const uint8_t **props,
                size_t *props_len)
{
    rd_t r = {*p, end};
    uint32_t n;
    kmqtt_err_t err = rd_varint(&r, &n);
    if (err != KMQTT_OK)
        return err;
    if (n > rd_left(&r))
        return KMQTT_EPROP_LENGTH;
    err = kmqtt_props_validate_raw(r.p, n, where);
    if (err != KMQTT_OK)
        return err;
    *props = r.p;
    *props_len = n;
    *p = r.p + n;
    return KMQTT_OK;
}

/* A raw block with its length prefix. */
uint8_t *ks_put_props(uint8_t *p, const uint8_t *blk, size_t len)
{
    p = kmqtt_varint_write(p, (uint32_t)len);
    if (len > 0)
        memcpy(p, blk, len);
    return p + len;
}

bool ks_v5_has(const uint8_t *props, size_t len, uint8_t id)
{
    uint32_t num;
    return ks_v5_num(props, len, id, &num);
}

/* The property id of a validated block: true, and its number (0 for a
 * string or binary), when present. */
bool ks_v5_num(const uint8_t *props, size_t len, uint8_t id, uint32_t *num)
{
    kmqtt_props_t ps = {NULL, 0, props, len};
    kmqtt_prop_t p;
    if (len == 0 || !kmqtt_props_find(&ps, (kmqtt_prop_id_t)id, &p))
        return false;
    *num = p.num;
    return true;
}

/* The Authentication Method of props is the CONNECT's (MQTT-4.12.0-5,
 * 3.2.2.3.17: a CONNACK carries it only if the CONNECT did; 3.15: an AUTH
 * without the CONNECT's method is a Protocol Error). need: props must carry
 * one (AUTH). Read from the caller's raw blocks: no copy kept. */
bool ks_v5_method_ok(const kmqtt_session_t *s, const uint8_t *props, size_t len, bool need)
{
    kmqtt_props_t ps = {NULL, 0, props, len};
    kmqtt_prop_t p;
    if (len == 0 || !kmqtt_props_find(&ps, KMQTT_PROP_AUTHENTICATION_METHOD, &p))
        return !need;
    kmqtt_str_t theirs = p.str;
    ps.raw = s->cfg->connect_props;
    ps.raw_len = s->cfg->connect_props_len;
    return ps.raw_len > 0 && kmqtt_props_find(&ps, KMQTT_PROP_AUTHENTICATION_METHOD, &p) &&
           p.str.len == theirs.len && memcmp(p.str.ptr, theirs.ptr, theirs.len) == 0;
}

/* What the server allows (3.2.2.3), absent properties meaning the
 * defaults: Receive Maximum 65,535 bounds our inflight (MQTT-3.3.4-7),
 * Maximum QoS (MQTT-3.2.2-11), Retain Available (MQTT-3.2.2-14), Maximum
 * Packet Size (MQTT-3.2.2-15), Server Keep Alive replaces ours
 * (MQTT-3.2.2-21), and the subscription features. */
void ks_v5_connack(kmqtt_session_t *s, const uint8_t *props, size_t len)
{
    kmqtt_props_t ps = {NULL, 0, props, len};
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;
    kmqtt_prop_iter_init(&it, &ps);
    while (kmqtt_prop_iter_next(&it, &p)) {
        switch (p.id) {
        case KMQTT_PROP_RECEIVE_MAXIMUM:
            s->server_receive_max = (uint16_t)p.num;
            break;
        case KMQTT_PROP_MAXIMUM_QOS:
            s->server_max_qos = (uint8_t)p.num;
            break;
        case KMQTT_PROP_MAXIMUM_PACKET_SIZE:
            s->server_max_packet = p.num;
            break;
        case KMQTT_PROP_SERVER_KEEP_ALIVE:
            s->keepalive_s = (uint16_t)p.num;
            break;
#if KS_ALIASES
        case KMQTT_PROP_TOPIC_ALIAS_MAXIMUM: /* MQTT-3.3.2-9: never above it */
            s->alias_out_active = p.num < s->alias_out_max ? (uint16_t)p.num : s->alias_out_max;
            break;
#endif
        case KMQTT_PROP_RETAIN_AVAILABLE:
            if (p.num == 0)
                s->flags |= KS_F_NO_RETAIN;
            break;
        case KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
            if (p.num == 0)
                s->flags |= KS_F_NO_WILD;
            break;
        case KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
            if (p.num == 0)
                s->flags |= KS_F_NO_SUBID;
            break;
        case KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
            if (p.num == 0)
                s->flags |= KS_F_NO_SHARED;
            break;
        default:
            break;
        }
    }
}

/* The DISCONNECT reason for an error of the server's (4.13); 0 = send none
 * (the connection itself failed). */
uint8_t ks_v5_reason(kmqtt_err_t err)
{
    if (err == KMQTT_ETOOBIG)
        return 0x95u; /* Packet too large */
    /* Never true: the input path's only KMQTT_ELIMIT (0x97) comes with its reason. */
    if (err == KMQTT_ELIMIT)
        return 0x93u; /* Receive Maximum exceeded */
    /* A repeated property or one out of range is a Protocol Error in its
     * own section (e.g. 3.2.2.3.3), unlike one unknown or misplaced
     * (2.2.2.2: Malformed Packet). */
    /* KMQTT_EUNSUPPORTED never comes from the input path; kept for 4.13's mapping. */
    if (err == KMQTT_EPROTOCOL || err == KMQTT_EUNSUPPORTED || err == KMQTT_EPROP_DUPLICATE ||
        err == KMQTT_EPROP_VALUE)
        return 0x82u; /* Protocol Error */
    /* The input path gives no error outside this range, so 0 is never returned. */
    if (err <= KMQTT_EREMLEN && err >= KMQTT_EPROP_LENGTH)
        return 0x81u; /* Malformed Packet */
    return 0;
}

kmqtt_err_t kmqtt_session_auth(kmqtt_session_t *s, uint8_t reason, const uint8_t *props,
                               size_t props_len)
{
    if (s == NULL || s->cfg == NULL)
        return KMQTT_EINVAL;
    if (!KS_V5(s))
        return KMQTT_EUNSUPPORTED;
    if (!ks_v5_has(s->cfg->connect_props, s->cfg->connect_props_len,
                   KMQTT_PROP_AUTHENTICATION_METHOD))
        return KMQTT_ESTATE; /* MQTT-3.1.2-30 */
    if ((reason != 0x18u && reason != 0x19u) ||
        ks_v5_check(props, props_len, KMQTT_AUTH) != KMQTT_OK ||
        !ks_v5_method_ok(s, props, props_len, true))
        return KMQTT_EINVAL;
    /* 0x18 also before the CONNACK: enhanced authentication (4.12);
     * re-authentication only after it (MQTT-4.12.1-1). */
    if (s->state != KMQTT_SESSION_CONNECTING && s->state != KMQTT_SESSION_CONNECTED)
        return KMQTT_ENOTCONN;
    if (reason == 0x19u && s->state != KMQTT_SESSION_CONNECTED)
        return KMQTT_ESTATE;
    uint32_t rem = 1u + (uint32_t)kmqtt_varint_size((uint32_t)props_len) + (uint32_t)props_len;
    if (s->server_max_packet != 0 && ks_packet_size(rem) > s->server_max_packet)
        return KMQTT_ETOOBIG; /* MQTT-3.2.2-15 */
    uint8_t *p = ks_tx_begin(s, 0xF0u, rem);
    if (p == NULL)
        return KMQTT_ENOBUFS;
    *p++ = reason;
    ks_put_props(p, props, props_len);
    return KMQTT_OK;
}
#else

kmqtt_err_t kmqtt_session_auth(kmqtt_session_t *s, uint8_t reason, const uint8_t *props,
                               size_t props_len)
{
    (void)s;
    (void)reason;
    (void)props;
    (void)props_len;
    return KMQTT_EUNSUPPORTED;
}
#endif
