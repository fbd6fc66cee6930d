/*
 * What the application sends: PUBLISH (QoS 1/2 encoded once into a store
 * record, then copied to tx), SUBSCRIBE and UNSUBSCRIBE. Everything is
 * checked before anything is written, so an error queues nothing.
 */
#include "nano_internal.h"

/* Room for a packet of n bytes in tx now, behind any resend still due (a
 * new message must not overtake an old one: MQTT-4.6.0-1). */
static kmqtt_err_t room(const kmqtt_nano_t *c, size_t n)
{
    if (n > c->tx_size)
        return KMQTT_ETOOBIG;
#if KMQTT_CFG_V5
    if (NANO_V5(c) && c->server_max_packet != 0 && n > c->server_max_packet)
        return KMQTT_ETOOBIG; /* MQTT-3.2.2-15 */
#endif
    if (c->resend_off != c->store_used || n > c->tx_size - (c->tx_len - c->tx_start))
        return KMQTT_ENOBUFS;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_nano_publish(kmqtt_nano_t *c, const kmqtt_nano_msg_t *msg, uint32_t now_ms,
                               uint16_t *packet_id)
{
    (void)now_ms;
    if (c == NULL || c->cfg == NULL || msg == NULL || msg->qos > 2 ||
        (msg->payload_len > 0 && msg->payload == NULL) ||
        kmqtt_topic_name_validate(msg->topic, msg->topic_len) != KMQTT_OK)
        return KMQTT_EINVAL;
    unsigned qos = msg->qos;
    size_t rem = 2u + msg->topic_len + (qos != 0 ? 2u : 0u);
#if KMQTT_CFG_V5
    if (NANO_V5(c)) {
        /* No alias (the nano client keeps no alias table) and no
         * Subscription Identifier from a client (MQTT-3.3.4-6). */
        if (nano_v5_check(msg->props, msg->props_len, KMQTT_PUBLISH) != KMQTT_OK ||
            nano_v5_has(msg->props, msg->props_len, KMQTT_PROP_TOPIC_ALIAS) ||
            nano_v5_has(msg->props, msg->props_len, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER))
            return KMQTT_EINVAL;
        rem += kmqtt_varint_size((uint32_t)msg->props_len) + msg->props_len;
    }
#endif
#if !KMQTT_CFG_QOS2
    if (qos == 2)
        return KMQTT_EUNSUPPORTED;
#endif
    if (c->state != KMQTT_NANO_CONNECTED)
        return KMQTT_ENOTCONN;
#if KMQTT_CFG_V5
    if (NANO_V5(c) && (qos > c->server_max_qos || (msg->retain && (c->flags & NANO_F_NO_RETAIN))))
        return KMQTT_EUNSUPPORTED; /* MQTT-3.2.2-11, MQTT-3.2.2-14 */
#endif
    if (msg->payload_len > KMQTT_VARINT_MAX - rem)
        return KMQTT_ETOOBIG;
    rem += msg->payload_len;
    size_t n = nano_packet_size((uint32_t)rem);
    if (qos != 0) {
        if (c->inflight >= c->cfg->max_inflight ||
#if KMQTT_CFG_V5
            (NANO_V5(c) && c->inflight >= c->server_receive_max) || /* MQTT-3.3.4-7 */
#endif
            NANO_REC_SIZE(n) > c->store_size - c->store_used)
            return n > c->tx_size ? KMQTT_ETOOBIG : KMQTT_ELIMIT;
    }
    kmqtt_err_t err = room(c, n);
    if (err != KMQTT_OK)
        return err;

    uint16_t id = 0;
    uint8_t *dst;
    if (qos != 0) {
        id = nano_new_id(c);
        nano_rec_t r = {(uint32_t)n, id, (uint8_t)qos, 0};
        nano_store_set(c, c->store_used, &r);
        dst = c->store + c->store_used + NANO_REC_HDR;
    } else {
        dst = nano_tx_reserve(c, n);
    }
    uint8_t *p =
        nano_put_head(dst, (uint8_t)(0x30u | (qos << 1) | (msg->retain ? 1u : 0u)), (uint32_t)rem);
    p = nano_put_bin(p, msg->topic, msg->topic_len);
    if (qos != 0)
        p = nano_put_u16(p, id);
#if KMQTT_CFG_V5
    if (NANO_V5(c)) {
        p = nano_put_varint(p, (uint32_t)msg->props_len);
        if (msg->props_len > 0)
            memcpy(p, msg->props, msg->props_len);
        p += msg->props_len;
    }
#endif
    if (msg->payload_len > 0)
        memcpy(p, msg->payload, msg->payload_len);
    if (qos != 0) {
        memcpy(nano_tx_reserve(c, n), dst, n);
        c->store_used += NANO_REC_SIZE(n);
        c->resend_off = c->store_used;
        c->inflight++;
        c->resent++;
    }
    if (packet_id != NULL)
        *packet_id = id;
    return KMQTT_OK;
}

/* Subscription options (3.8.3.1): 3.1.1 has only the QoS; 5.0 adds No
 * Local, Retain As Published and Retain Handling 0..2, bits 6-7 reserved
 * (MQTT-3.8.3-5). */
static kmqtt_err_t check_options(const kmqtt_nano_t *c, uint8_t o, const char *f, size_t n)
{
    if ((o & 3u) == 3u || (NANO_V5(c) ? ((o & 0xC0u) || (o & 0x30u) == 0x30u) : o > 2u))
        return KMQTT_EINVAL;
#if KMQTT_CFG_V5
    /* No Local on a shared subscription is a protocol error (MQTT-3.8.3-4). */
    if ((o & KMQTT_NANO_NO_LOCAL) && n > 7 && memcmp(f, "$share/", 7) == 0)
        return KMQTT_EINVAL;
#else
    (void)f;
    (void)n;
#endif
#if !KMQTT_CFG_QOS2
    if ((o & 3u) == 2u)
        return KMQTT_EUNSUPPORTED;
#endif
    return KMQTT_OK;
}

/* SUBSCRIBE (subs) or UNSUBSCRIBE (filters): one pass to check and size,
 * one to write. */
static kmqtt_err_t sub(kmqtt_nano_t *c, const kmqtt_nano_sub_t *subs, const char *const *filters,
                       size_t count, const uint8_t *props, size_t props_len, uint16_t *packet_id)
{
    bool s = subs != NULL;
    if (c == NULL || c->cfg == NULL || count == 0 || count > UINT8_MAX || (!s && filters == NULL))
        return KMQTT_EINVAL; /* MQTT-3.8.3-3, MQTT-3.10.3-2 */
    size_t rem = 2;
    for (size_t i = 0; i < count; i++) {
        const char *f = s ? subs[i].filter : filters[i];
        size_t n = f != NULL ? strlen(f) : 0u;
        if (kmqtt_topic_filter_validate(f, n) != KMQTT_OK)
            return KMQTT_EINVAL; /* MQTT-4.7.1-2, MQTT-4.7.1-3 */
        if (s) {
            kmqtt_err_t err = check_options(c, subs[i].options, f, n);
            if (err != KMQTT_OK)
                return err;
        }
#if KMQTT_CFG_V5
        /* What the CONNACK said the server lacks (3.2.2.3.12-14). */
        if (s && NANO_V5(c) &&
            (((c->flags & NANO_F_NO_WILD) && strpbrk(f, "+#") != NULL) ||
             ((c->flags & NANO_F_NO_SHARED) && n > 7 && memcmp(f, "$share/", 7) == 0)))
            return KMQTT_EUNSUPPORTED;
#endif
        rem += 2u + n + (s ? 1u : 0u);
        if (rem > KMQTT_VARINT_MAX)
            return KMQTT_ETOOBIG;
    }
#if KMQTT_CFG_V5
    if (NANO_V5(c)) {
        if (nano_v5_check(props, props_len, s ? KMQTT_SUBSCRIBE : KMQTT_UNSUBSCRIBE) != KMQTT_OK)
            return KMQTT_EINVAL;
        if ((c->flags & NANO_F_NO_SUBID) &&
            nano_v5_has(props, props_len, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER))
            return KMQTT_EUNSUPPORTED;
        rem += kmqtt_varint_size((uint32_t)props_len) + props_len;
        if (rem > KMQTT_VARINT_MAX)
            return KMQTT_ETOOBIG;
    }
#else
    (void)props;
    (void)props_len;
#endif
    if (c->state != KMQTT_NANO_CONNECTED)
        return KMQTT_ENOTCONN;
    unsigned slot = 0;
    while (slot < KMQTT_NANO_MAX_REQUESTS && c->req[slot].id != 0)
        slot++;
    if (slot == KMQTT_NANO_MAX_REQUESTS)
        return KMQTT_ELIMIT; /* wait for an ack */
    size_t n = nano_packet_size((uint32_t)rem);
    kmqtt_err_t err = room(c, n);
    /* SUBSCRIBE needs no place behind the resends. */
    if (err == KMQTT_ENOBUFS && n <= c->tx_size - (c->tx_len - c->tx_start))
        err = KMQTT_OK;
    if (err != KMQTT_OK)
        return err;

    uint16_t id = nano_new_id(c);
    uint8_t *p = nano_tx_begin(c, s ? 0x82u : 0xA2u, (uint32_t)rem);
    p = nano_put_u16(p, id);
#if KMQTT_CFG_V5
    if (NANO_V5(c)) {
        p = nano_put_varint(p, (uint32_t)props_len);
        if (props_len > 0)
            memcpy(p, props, props_len);
        p += props_len;
    }
#endif
    for (size_t i = 0; i < count; i++) {
        const char *f = s ? subs[i].filter : filters[i];
        p = nano_put_bin(p, f, strlen(f));
        if (s)
            *p++ = subs[i].options;
    }
    c->req[slot].id = id;
    c->req[slot].unsub = s ? 0u : 1u;
    c->req[slot].count = (uint8_t)count;
    if (packet_id != NULL)
        *packet_id = id;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_nano_subscribe(kmqtt_nano_t *c, const kmqtt_nano_sub_t *subs, size_t count,
                                 const uint8_t *props, size_t props_len, uint32_t now_ms,
                                 uint16_t *packet_id)
{
    (void)now_ms;
    if (subs == NULL)
        return KMQTT_EINVAL;
    return sub(c, subs, NULL, count, props, props_len, packet_id);
}

kmqtt_err_t kmqtt_nano_unsubscribe(kmqtt_nano_t *c, const char *const *filters, size_t count,
                                   uint32_t now_ms, uint16_t *packet_id)
{
    (void)now_ms;
    if (filters == NULL)
        return KMQTT_EINVAL;
    return sub(c, NULL, filters, count, NULL, 0, packet_id);
}
