/*
 * What the application sends: PUBLISH (QoS 1/2 encoded once into a store
 * record, then copied to tx), SUBSCRIBE, UNSUBSCRIBE and DISCONNECT.
 * Everything is checked before anything is written, so an error queues
 * nothing.
 */
#include "session_internal.h"

/* Room for a packet of n bytes in tx now, behind any resend still due (a
 * new message must not overtake an old one: MQTT-4.6.0-1). */
static kmqtt_err_t room(const kmqtt_session_t *s, size_t n)
{
    if (n > s->tx_size)
        return KMQTT_ETOOBIG;
#if KMQTT_CFG_V5
    if (KS_V5(s) && s->server_max_packet != 0 && n > s->server_max_packet)
        return KMQTT_ETOOBIG; /* MQTT-3.2.2-15 */
#endif
    if (s->resend_off != s->store_used || KS_SENDING(s) ||
        n > s->tx_size - (s->tx_len - s->tx_start))
        return KMQTT_ENOBUFS;
    return KMQTT_OK;
}

/* The remaining length of msg's PUBLISH with topic_len bytes of topic and
 * extra bytes of properties after the caller's; 0 when over
 * KMQTT_VARINT_MAX. */
static size_t publish_rem(const kmqtt_session_t *s, const kmqtt_session_msg_t *msg,
                          uint16_t topic_len, size_t extra)
{
    size_t rem = 2u + topic_len + (msg->qos != 0 ? 2u : 0u);
#if KMQTT_CFG_V5
    if (KS_V5(s))
        rem += kmqtt_varint_size((uint32_t)(msg->props_len + extra)) + msg->props_len + extra;
#else
    (void)s;
    (void)extra;
#endif
    return msg->payload_len > KMQTT_VARINT_MAX - rem ? 0u : rem + msg->payload_len;
}

/* Writes msg's PUBLISH at dst (rem from publish_rem): its topic, or none
 * when alias stands for it, and the Topic Alias after the caller's
 * properties when alias is not 0. */
static void put_publish(const kmqtt_session_t *s, uint8_t *dst, const kmqtt_session_msg_t *msg,
                        uint16_t id, size_t rem, uint16_t alias, bool with_topic)
{
    uint8_t *p = ks_put_head(dst, (uint8_t)(0x30u | (msg->qos << 1) | (msg->retain ? 1u : 0u)),
                             (uint32_t)rem);
    p = ks_put_bin(p, msg->topic, with_topic ? msg->topic_len : 0u);
    if (msg->qos != 0)
        p = ks_put_u16(p, id);
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        p = kmqtt_varint_write(p, (uint32_t)(msg->props_len + (alias != 0 ? 3u : 0u)));
        if (msg->props_len > 0)
            memcpy(p, msg->props, msg->props_len);
        p += msg->props_len;
        if (alias != 0) {
            *p++ = KMQTT_PROP_TOPIC_ALIAS;
            p = ks_put_u16(p, alias);
        }
    }
#else
    (void)s;
    (void)alias;
#endif
    if (msg->payload_len > 0 && msg->payload != NULL) /* NULL: the reader's */
        memcpy(p, msg->payload, msg->payload_len);
}

/* Everything about msg that does not depend on the connection. */
static kmqtt_err_t check_msg(const kmqtt_session_t *s, const kmqtt_session_msg_t *msg, bool reader)
{
    if (s == NULL || s->cfg == NULL || msg == NULL || msg->qos > 2 ||
        (msg->payload_len > 0 && msg->payload == NULL && !reader) ||
        kmqtt_topic_name_validate(msg->topic, msg->topic_len) != KMQTT_OK)
        return KMQTT_EINVAL;
#if KMQTT_CFG_V5
    /* Aliases are the engine's, and a client sends no Subscription
     * Identifier (MQTT-3.3.4-6). */
    if (KS_V5(s) && (ks_v5_check(msg->props, msg->props_len, KMQTT_PUBLISH) != KMQTT_OK ||
                     ks_v5_has(msg->props, msg->props_len, KMQTT_PROP_TOPIC_ALIAS) ||
                     ks_v5_has(msg->props, msg->props_len, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER)))
        return KMQTT_EINVAL;
#endif
#if !KMQTT_CFG_QOS2
    if (msg->qos == 2)
        return KMQTT_EUNSUPPORTED;
#endif
    return KMQTT_OK;
}

/* reader: the payload comes from the session's reader (msg->payload NULL);
 * tx and the store take the header only (hl bytes of the n). */
static kmqtt_err_t publish_any(kmqtt_session_t *s, const kmqtt_session_msg_t *msg,
                               uint16_t *packet_id, bool reader)
{
    kmqtt_err_t err = check_msg(s, msg, reader);
    if (err != KMQTT_OK)
        return err;
    unsigned qos = msg->qos;
    if (s->state != KMQTT_SESSION_CONNECTED &&
        (!KS_EARLY(s) || !ks_early_fits(s, qos, msg->retain, 0u)))
        return KMQTT_ENOTCONN; /* QoS 0 and beyond the caps wait for the CONNACK */
#if KMQTT_CFG_V5
    if (KS_V5(s) && (qos > s->server_max_qos || (msg->retain && (s->flags & KS_F_NO_RETAIN))))
        return KMQTT_EUNSUPPORTED; /* MQTT-3.2.2-11, MQTT-3.2.2-14 */
#endif
    size_t rem = publish_rem(s, msg, msg->topic_len, 0);
    if (rem == 0)
        return KMQTT_ETOOBIG;
    /* n: the PUBLISH as stored (full topic, no alias: a resend on a later
     * connection never uses an old alias, MQTT-3.3.2-7); ntx: as it goes
     * now, perhaps with an alias. */
    size_t n = ks_packet_size((uint32_t)rem), ntx = n, rem_tx = rem;
    uint16_t alias = 0;
    bool with_topic = true;
#if KMQTT_CFG_V5
    if (reader && KS_V5(s) && s->server_max_packet != 0 && n > s->server_max_packet)
        return KMQTT_ETOOBIG; /* MQTT-3.2.2-15: the whole packet counts */
#endif
    if (reader)
        n = ntx = n - msg->payload_len; /* what tx and the store hold */
#if KS_ALIASES
    if (!reader && KS_V5(s) &&
        (alias = ks_alias_pick(s, msg->topic, msg->topic_len, &with_topic)) != 0) {
        rem_tx = publish_rem(s, msg, with_topic ? msg->topic_len : 0u, 3u);
        if (rem_tx == 0)
            return KMQTT_ETOOBIG;
        ntx = ks_packet_size((uint32_t)rem_tx);
    }
#endif
    if (qos != 0) {
        if (s->inflight >= s->cfg->max_inflight ||
#if KMQTT_CFG_V5
            (KS_V5(s) && s->inflight >= s->server_receive_max) || /* MQTT-3.3.4-7 */
#endif
            KS_REC_SIZE(n) > s->store_size - s->store_used)
            /* Never fits (tx, or the whole store; without a store QoS 1/2
             * is simply not available: KMQTT_ELIMIT). */
            return n > s->tx_size || (s->store_size != 0 && KS_REC_SIZE(n) > s->store_size)
                       ? KMQTT_ETOOBIG
                       : KMQTT_ELIMIT;
    }
    if (s->state != KMQTT_SESSION_CONNECTED && !ks_early_fits(s, qos, msg->retain, n))
        return KMQTT_ENOTCONN; /* over the last CONNACK's Maximum Packet Size */
    if ((err = room(s, n)) != KMQTT_OK || (err = room(s, ntx)) != KMQTT_OK)
        return err;

    uint16_t id = 0;
    if (qos != 0) {
        id = ks_new_id(s);
        ks_rec_t r = {(uint32_t)n, id, (uint8_t)(qos | (reader ? KS_REC_READER : 0u)), 0};
        ks_store_set(s, s->store_used, &r);
        uint8_t *rec = s->store + s->store_used + KS_REC_HDR;
        put_publish(s, rec, msg, id, rem, 0, true);
        /* Store and forward: recorded before it can leave (a header
         * without its payload is not a record to keep). */
        if (!reader)
            ks_changed(s, KMQTT_SESSION_CH_PUBLISH, id, rec, n);
        if (alias == 0)
            memcpy(ks_tx_reserve(s, n), rec, n);
        s->store_used += KS_REC_SIZE(n);
        s->resend_off = s->store_used;
        s->inflight++;
        s->resent++;
    }
    if (qos == 0 || alias != 0)
        put_publish(s, ks_tx_reserve(s, ntx), msg, id, rem_tx, alias, with_topic);
#if KS_ALIASES
    if (alias != 0)
        ks_alias_commit(s, alias, msg->topic, msg->topic_len);
#endif
    if (packet_id != NULL)
        *packet_id = id;
#if KMQTT_CFG_STREAM
    if (reader) {
        s->so_id = id;
        s->so_total = s->so_left = (uint32_t)msg->payload_len;
        ks_out_fill(s);
    }
#endif
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_session_publish(kmqtt_session_t *s, const kmqtt_session_msg_t *msg,
                                  uint16_t *packet_id)
{
    return publish_any(s, msg, packet_id, false);
}

kmqtt_err_t kmqtt_session_publish_reader(kmqtt_session_t *s, const kmqtt_session_msg_t *msg,
                                         uint16_t *packet_id)
{
#if KMQTT_CFG_STREAM
    if (s == NULL || msg == NULL || msg->payload != NULL || s->reader == NULL)
        return KMQTT_EINVAL;
    return publish_any(s, msg, packet_id, true);
#else
    (void)s;
    (void)msg;
    (void)packet_id;
    return KMQTT_EUNSUPPORTED;
#endif
}

/* Subscription options (3.8.3.1): 3.1.1 has only the QoS; 5.0 adds No
 * Local, Retain As Published and Retain Handling 0..2, bits 6-7 reserved
 * (MQTT-3.8.3-5). */
static kmqtt_err_t check_options(const kmqtt_session_t *s, uint8_t o, const char *f, size_t n)
{
    if ((o & 3u) == 3u || (KS_V5(s) ? ((o & 0xC0u) || (o & 0x30u) == 0x30u) : o > 2u))
        return KMQTT_EINVAL;
#if KMQTT_CFG_V5
    /* No Local on a shared subscription is a protocol error (MQTT-3.8.3-4). */
    if ((o & 0x04u) && kmqtt_topic_is_shared(f, n))
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
static kmqtt_err_t sub(kmqtt_session_t *s, const kmqtt_session_sub_t *subs,
                       const char *const *filters, size_t count, const uint8_t *props,
                       size_t props_len, uint16_t *packet_id)
{
    bool is_sub = subs != NULL;
    /* filters == NULL never: kmqtt_session_unsubscribe refused it already. */
    if (s == NULL || s->cfg == NULL || count == 0 || count > UINT8_MAX ||
        (!is_sub && filters == NULL))
        return KMQTT_EINVAL; /* MQTT-3.8.3-3, MQTT-3.10.3-2 */
    size_t rem = 2;
    for (size_t i = 0; i < count; i++) {
        const char *f = is_sub ? subs[i].filter : filters[i];
        size_t n = f != NULL ? strlen(f) : 0u;
        if (kmqtt_topic_filter_validate(f, n) != KMQTT_OK)
            return KMQTT_EINVAL; /* MQTT-4.7.1-2, MQTT-4.7.1-3 */
        if (is_sub) {
            kmqtt_err_t err = check_options(s, subs[i].options, f, n);
            if (err != KMQTT_OK)
                return err;
        }
#if KMQTT_CFG_V5
        /* What the CONNACK said the server lacks (3.2.2.3.12-14). */
        if (is_sub && KS_V5(s) &&
            (((s->flags & KS_F_NO_WILD) && strpbrk(f, "+#") != NULL) ||
             ((s->flags & KS_F_NO_SHARED) && kmqtt_topic_is_shared(f, n))))
            return KMQTT_EUNSUPPORTED;
#endif
        /* Never true: 255 filters of at most 65,537 bytes each stay far below. */
        rem += 2u + n + (is_sub ? 1u : 0u);
        if (rem > KMQTT_VARINT_MAX)
            return KMQTT_ETOOBIG;
    }
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        if (ks_v5_check(props, props_len, is_sub ? KMQTT_SUBSCRIBE : KMQTT_UNSUBSCRIBE) != KMQTT_OK)
            return KMQTT_EINVAL;
        if ((s->flags & KS_F_NO_SUBID) &&
            ks_v5_has(props, props_len, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER))
            return KMQTT_EUNSUPPORTED;
        /* Needs a valid property block of about 256 MiB: not tested. */
        rem += kmqtt_varint_size((uint32_t)props_len) + props_len;
        if (rem > KMQTT_VARINT_MAX)
            return KMQTT_ETOOBIG;
    }
#else
    (void)props;
    (void)props_len;
#endif
    if (s->state != KMQTT_SESSION_CONNECTED && !KS_EARLY(s))
        return KMQTT_ENOTCONN;
    unsigned slot = 0;
    while (slot < s->max_requests && s->req[slot].id != 0)
        slot++;
    if (slot == s->max_requests)
        return KMQTT_ELIMIT; /* wait for an ack */
    size_t n = ks_packet_size((uint32_t)rem);
    kmqtt_err_t err = room(s, n);
    /* SUBSCRIBE needs no place behind the resends. */
    if (err == KMQTT_ENOBUFS && n <= s->tx_size - (s->tx_len - s->tx_start))
        err = KMQTT_OK;
    if (err != KMQTT_OK)
        return err;

    uint16_t id = ks_new_id(s);
    uint8_t *p = ks_tx_begin(s, is_sub ? 0x82u : 0xA2u, (uint32_t)rem);
    p = ks_put_u16(p, id);
#if KMQTT_CFG_V5
    if (KS_V5(s))
        p = ks_put_props(p, props, props_len);
#endif
    for (size_t i = 0; i < count; i++) {
        const char *f = is_sub ? subs[i].filter : filters[i];
        p = ks_put_bin(p, f, strlen(f));
        if (is_sub)
            *p++ = subs[i].options;
    }
    s->req[slot].id = id;
    s->req[slot].unsub = is_sub ? 0u : 1u;
    s->req[slot].count = (uint8_t)count;
    if (packet_id != NULL)
        *packet_id = id;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_session_subscribe(kmqtt_session_t *s, const kmqtt_session_sub_t *subs,
                                    size_t count, const uint8_t *props, size_t props_len,
                                    uint16_t *packet_id)
{
    if (subs == NULL)
        return KMQTT_EINVAL;
    return sub(s, subs, NULL, count, props, props_len, packet_id);
}

kmqtt_err_t kmqtt_session_unsubscribe(kmqtt_session_t *s, const char *const *filters, size_t count,
                                      const uint8_t *props, size_t props_len, uint16_t *packet_id)
{
    if (filters == NULL)
        return KMQTT_EINVAL;
    return sub(s, NULL, filters, count, props, props_len, packet_id);
}

kmqtt_err_t kmqtt_session_disconnect(kmqtt_session_t *s, uint8_t reason, const uint8_t *props,
                                     size_t props_len)
{
    if (s == NULL || s->cfg == NULL)
        return KMQTT_EINVAL;
    if (s->state != KMQTT_SESSION_CONNECTING && s->state != KMQTT_SESSION_CONNECTED)
        return KMQTT_ENOTCONN;
#if KMQTT_CFG_V5
    if (KS_V5(s) && props_len > 0) {
        uint32_t mine = 0, theirs;
        (void)ks_v5_num(s->cfg->connect_props, s->cfg->connect_props_len,
                        KMQTT_PROP_SESSION_EXPIRY_INTERVAL, &mine);
        if (ks_v5_check(props, props_len, KMQTT_DISCONNECT) != KMQTT_OK ||
            (mine == 0 &&
             ks_v5_num(props, props_len, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, &theirs) &&
             theirs != 0))
            return KMQTT_EINVAL; /* 3.14.2.2.2 */
        uint32_t rem = 1u + (uint32_t)kmqtt_varint_size((uint32_t)props_len) + (uint32_t)props_len;
        if (s->server_max_packet != 0 && ks_packet_size(rem) > s->server_max_packet)
            return KMQTT_ETOOBIG; /* MQTT-3.2.2-15 */
        uint8_t *p = ks_tx_begin(s, 0xE0u, rem);
        if (p == NULL)
            return KMQTT_ENOBUFS;
        *p++ = reason;
        ks_put_props(p, props, props_len);
    } else
#else
    (void)props;
    (void)props_len;
#endif
        if (!ks_send_ack(s, 0xE0u, 0, reason))
        return KMQTT_ENOBUFS;
    /* Nothing may follow the DISCONNECT (MQTT-3.14.4-1, -2: the client
     * closes and sends no more). */
    s->state = KMQTT_SESSION_ENDED;
    return KMQTT_OK;
}
