/*
 * Decoding MQTT 3.1.1 and 5.0 control packets into views of the caller's
 * buffer. Each malformed input gets the error code of the rule it breaks,
 * so the checks below run in the order the fields appear on the wire.
 */
#include "codec_internal.h"

/* Every decoder ends here: a field left unread is malformed, never
 * silently ignored. */
static kmqtt_err_t expect_end(const rd_t *r)
{
    return rd_left(r) == 0 ? KMQTT_OK : KMQTT_ETRAILING;
}

static kmqtt_err_t read_packet_id(rd_t *r, uint16_t *id)
{
    kmqtt_err_t err = rd_u16(r, id);
    if (err != KMQTT_OK)
        return err;
    return *id != 0 ? KMQTT_OK : KMQTT_EPACKET_ID; /* MQTT-2.3.1-1 */
}

static kmqtt_err_t read_reason(rd_t *r, unsigned type, kmqtt_version_t v, uint8_t *code)
{
    kmqtt_err_t err = rd_u8(r, code);
    if (err != KMQTT_OK)
        return err;
    return kmqtt_reason_valid(type, v, *code) ? KMQTT_OK : KMQTT_EREASON_CODE;
}

/* ------------------------------------------------------------- CONNECT */

#define CF_RESERVED 0x01u
#define CF_CLEAN    0x02u
#define CF_WILL     0x04u
#define CF_WILL_QOS 0x18u
#define CF_RETAIN   0x20u
#define CF_PASSWORD 0x40u
#define CF_USERNAME 0x80u

#if KMQTT_CFG_SERVER_CODEC
static kmqtt_err_t check_connect_flags(uint8_t f, kmqtt_version_t level)
{
    unsigned will_qos = (f & CF_WILL_QOS) >> 3;

    if (f & CF_RESERVED)
        return KMQTT_ECONNECT_FLAGS; /* MQTT-3.1.2-3 */
    if ((f & CF_WILL) == 0) {
        /* MQTT-3.1.2-11 / -13 / -15: no will, so no will QoS or retain. */
        if (will_qos != 0 || (f & CF_RETAIN) != 0)
            return KMQTT_ECONNECT_FLAGS;
    } else if (will_qos == 3) {
        return KMQTT_EQOS; /* MQTT-3.1.2-14 */
    }
    /* MQTT-3.1.2-22: 3.1.1 only; 5.0 allows a password alone. */
    if (level == KMQTT_V311 && (f & CF_PASSWORD) != 0 && (f & CF_USERNAME) == 0)
        return KMQTT_ECONNECT_FLAGS;
    return KMQTT_OK;
}

static kmqtt_err_t decode_connect(rd_t *r, kmqtt_connect_t *c)
{
    static const uint8_t name[4] = {'M', 'Q', 'T', 'T'};
    kmqtt_bin_t proto;
    uint8_t level;
    uint8_t flags;
    kmqtt_err_t err;

    if ((err = rd_bin(r, &proto)) != KMQTT_OK)
        return err;
    if (proto.len != sizeof name || memcmp(proto.ptr, name, sizeof name) != 0)
        return KMQTT_EPROTOCOL_NAME; /* MQTT-3.1.2-1 */
    if ((err = rd_u8(r, &level)) != KMQTT_OK)
        return err;
    if (level != KMQTT_V311 && level != KMQTT_V5)
        return KMQTT_EPROTOCOL_VERSION; /* MQTT-3.1.2-2 */
    c->version = (kmqtt_version_t)level;
    if ((err = rd_u8(r, &flags)) != KMQTT_OK)
        return err;
    if ((err = check_connect_flags(flags, c->version)) != KMQTT_OK)
        return err;
    c->clean_start = (flags & CF_CLEAN) != 0;
    c->has_will = (flags & CF_WILL) != 0;
    c->will.qos = (uint8_t)((flags & CF_WILL_QOS) >> 3);
    c->will.retain = (flags & CF_RETAIN) != 0;
    c->has_username = (flags & CF_USERNAME) != 0;
    c->has_password = (flags & CF_PASSWORD) != 0;
    if ((err = rd_u16(r, &c->keepalive)) != KMQTT_OK)
        return err;
    if (c->version == KMQTT_V5 && (err = kmqtt_props_read(r, KMQTT_CONNECT, &c->props)) != KMQTT_OK)
        return err;

    /* Payload: the fields appear in this fixed order (MQTT-3.1.3-1). */
    if ((err = rd_str(r, &c->client_id)) != KMQTT_OK)
        return err;
    if (c->has_will) {
        kmqtt_bin_t topic;
        if (c->version == KMQTT_V5 &&
            (err = kmqtt_props_read(r, KMQTT_PROP_IN_WILL, &c->will.props)) != KMQTT_OK)
            return err;
        if ((err = rd_bin(r, &topic)) != KMQTT_OK)
            return err;
        err = kmqtt_topic_name_validate((const char *)topic.ptr, topic.len);
        if (err != KMQTT_OK)
            return err;
        c->will.topic.ptr = (const char *)topic.ptr;
        c->will.topic.len = topic.len;
        if ((err = rd_bin(r, &c->will.payload)) != KMQTT_OK)
            return err;
    }
    if (c->has_username && (err = rd_str(r, &c->username)) != KMQTT_OK)
        return err;
    if (c->has_password && (err = rd_bin(r, &c->password)) != KMQTT_OK)
        return err;
    return expect_end(r);
}

/* ------------------------------------------------------------- CONNACK */

#endif

static kmqtt_err_t decode_connack(rd_t *r, kmqtt_version_t v, kmqtt_connack_t *c)
{
    uint8_t ack;
    kmqtt_err_t err;

    if ((err = rd_u8(r, &ack)) != KMQTT_OK)
        return err;
    if (ack & 0xFE)
        return KMQTT_EACK_FLAGS; /* MQTT-3.2.2-1 */
    c->session_present = (ack & 0x01) != 0;
    if ((err = read_reason(r, KMQTT_CONNACK, v, &c->reason_code)) != KMQTT_OK)
        return err;
    /* A refusal never resumes a session: MQTT-3.2.2-4 (5.0: MQTT-3.2.2-6). The
     * encoder refuses the same, so what decodes also encodes. */
    if (c->session_present && c->reason_code != 0)
        return KMQTT_EACK_FLAGS;
    if (v == KMQTT_V5 && (err = kmqtt_props_read(r, KMQTT_CONNACK, &c->props)) != KMQTT_OK)
        return err;
    return expect_end(r);
}

/* ------------------------------------------------------------- PUBLISH */

static kmqtt_err_t decode_publish(rd_t *r, uint8_t flags, kmqtt_version_t v, kmqtt_publish_t *p)
{
    kmqtt_bin_t topic;
    kmqtt_err_t err;

    p->retain = (flags & 0x01) != 0;
    p->qos = (uint8_t)((flags >> 1) & 0x03);
    p->dup = (flags & 0x08) != 0;

    if ((err = rd_bin(r, &topic)) != KMQTT_OK)
        return err;
    if (p->qos > 0 && (err = read_packet_id(r, &p->packet_id)) != KMQTT_OK)
        return err;
    if (v == KMQTT_V5 && (err = kmqtt_props_read(r, KMQTT_PUBLISH, &p->props)) != KMQTT_OK)
        return err;

    /* The topic is checked after the properties: only they tell whether an
     * empty topic is a 5.0 Topic Alias reference (MQTT 5.0 3.3.2.3.4). */
    if (topic.len == 0) {
        kmqtt_prop_t alias;
        if (v != KMQTT_V5 || !kmqtt_props_find(&p->props, KMQTT_PROP_TOPIC_ALIAS, &alias))
            return KMQTT_ETOPIC_NAME;
    } else {
        /* MQTT-3.3.2-2: no wildcards in a topic name. */
        err = kmqtt_topic_name_validate((const char *)topic.ptr, topic.len);
        if (err != KMQTT_OK)
            return err;
    }
    p->topic.ptr = (const char *)topic.ptr;
    p->topic.len = topic.len;

    /* The payload is whatever is left, possibly nothing. */
    p->payload.ptr = r->p;
    p->payload.len = rd_left(r);
    r->p = r->end;
    return KMQTT_OK;
}

/* ------------------------------------- PUBACK, PUBREC, PUBREL, PUBCOMP */

static kmqtt_err_t decode_ack(rd_t *r, unsigned type, kmqtt_version_t v, kmqtt_ack_t *a)
{
    kmqtt_err_t err;

    if ((err = read_packet_id(r, &a->packet_id)) != KMQTT_OK)
        return err;
    /* MQTT 5.0 3.4.2.1: a missing reason code means 0x00 and missing
     * properties mean none. 3.1.1 has neither field. */
    if (v == KMQTT_V5 && rd_left(r) > 0) {
        if ((err = read_reason(r, type, v, &a->reason_code)) != KMQTT_OK)
            return err;
        if (rd_left(r) > 0 && (err = kmqtt_props_read(r, type, &a->props)) != KMQTT_OK)
            return err;
    }
    return expect_end(r);
}

/* ------------------------------------------------ SUBSCRIBE, UNSUBSCRIBE */

#if KMQTT_CFG_SERVER_CODEC
static bool is_shared(const kmqtt_bin_t *filter)
{
    static const char prefix[7] = {'$', 's', 'h', 'a', 'r', 'e', '/'};
    return filter->len >= sizeof prefix && memcmp(filter->ptr, prefix, sizeof prefix) == 0;
}

static kmqtt_err_t check_sub_options(uint8_t opt, kmqtt_version_t v, const kmqtt_bin_t *filter)
{
    if (v == KMQTT_V311) {
        if (opt & 0xFC)
            return KMQTT_ESUB_OPTIONS; /* MQTT-3-8.3-4 (3.1.1) */
    } else {
        if (opt & 0xC0)
            return KMQTT_ESUB_OPTIONS; /* MQTT-3.8.3-5 */
        if (((opt >> 4) & 0x03) == 3)
            return KMQTT_ESUB_OPTIONS; /* retain handling 3 is reserved */
    }
    if ((opt & 0x03) == 3)
        return KMQTT_EQOS;
    if (v == KMQTT_V5 && (opt & 0x04) != 0 && is_shared(filter))
        return KMQTT_ESUB_OPTIONS; /* MQTT-3.8.3-4 (5.0): No Local on a shared subscription */
    return KMQTT_OK;
}

static kmqtt_err_t decode_subscribe(rd_t *r, unsigned type, kmqtt_version_t v, kmqtt_subscribe_t *s)
{
    bool with_options = type == KMQTT_SUBSCRIBE;
    kmqtt_err_t err;

    if ((err = read_packet_id(r, &s->packet_id)) != KMQTT_OK)
        return err;
    if (v == KMQTT_V5 && (err = kmqtt_props_read(r, type, &s->props)) != KMQTT_OK)
        return err;
    if (rd_left(r) == 0)
        return KMQTT_ENO_TOPICS; /* MQTT-3.8.3-3, MQTT-3.10.3-2 */

    /* Validated in full here so that kmqtt_sub_iter_* can trust the view. */
    s->raw = r->p;
    s->raw_len = rd_left(r);
    while (rd_left(r) > 0) {
        kmqtt_bin_t filter;
        if ((err = rd_bin(r, &filter)) != KMQTT_OK)
            return err;
        err = kmqtt_topic_filter_validate((const char *)filter.ptr, filter.len);
        if (err != KMQTT_OK)
            return err;
        if (with_options) {
            uint8_t opt;
            if ((err = rd_u8(r, &opt)) != KMQTT_OK)
                return err;
            if ((err = check_sub_options(opt, v, &filter)) != KMQTT_OK)
                return err;
        }
        s->count++;
    }
    return KMQTT_OK;
}

/* ----------------------------------------------------- SUBACK, UNSUBACK */

#endif

static kmqtt_err_t decode_suback(rd_t *r, unsigned type, kmqtt_version_t v, kmqtt_suback_t *s)
{
    kmqtt_err_t err;

    if ((err = read_packet_id(r, &s->packet_id)) != KMQTT_OK)
        return err;
    /* A 3.1.1 UNSUBACK is the packet identifier and nothing else. */
    if (type == KMQTT_UNSUBACK && v == KMQTT_V311)
        return expect_end(r);
    if (v == KMQTT_V5 && (err = kmqtt_props_read(r, type, &s->props)) != KMQTT_OK)
        return err;
    /* One code per filter of the request, and a request has at least one
     * filter, so an empty list is a missing field. */
    if (rd_left(r) == 0)
        return KMQTT_ETRUNCATED;
    s->reason_codes.ptr = r->p;
    s->reason_codes.len = rd_left(r);
    while (rd_left(r) > 0) {
        uint8_t code;
        if ((err = read_reason(r, type, v, &code)) != KMQTT_OK)
            return err;
    }
    return KMQTT_OK;
}

/* ---------------------------------------------------- DISCONNECT, AUTH */

static kmqtt_err_t decode_disconnect(rd_t *r, unsigned type, kmqtt_version_t v,
                                     kmqtt_disconnect_t *d)
{
    kmqtt_err_t err;

    /* MQTT 5.0 3.14.2.1 / 3.15.2.1: both fields may be left out, meaning
     * reason 0x00 and no properties. 3.1.1 DISCONNECT has no body. */
    if (v == KMQTT_V5 && rd_left(r) > 0) {
        if ((err = read_reason(r, type, v, &d->reason_code)) != KMQTT_OK)
            return err;
        /* Only DISCONNECT may drop the property length alone (3.14.2.2.1);
         * AUTH omits both fields or neither (3.15.2.1). */
        if (type == KMQTT_AUTH && rd_left(r) == 0)
            return KMQTT_ETRUNCATED;
        if (rd_left(r) > 0 && (err = kmqtt_props_read(r, type, &d->props)) != KMQTT_OK)
            return err;
    }
    return expect_end(r);
}

/* ------------------------------------------------------------ dispatch */

kmqtt_err_t kmqtt_packet_decode(const uint8_t *buf, size_t len, kmqtt_version_t v,
                                uint32_t max_packet_size, kmqtt_packet_t *out, size_t *consumed)
{
    size_t total;
    kmqtt_err_t err;

    if (consumed != NULL)
        *consumed = 0;
    if (buf == NULL || out == NULL || consumed == NULL)
        return KMQTT_EINVAL;
    memset(out, 0, sizeof *out);

    err = kmqtt_packet_frame(buf, len, max_packet_size, &total);
    if (err != KMQTT_OK)
        return err;

    unsigned type = (unsigned)(buf[0] >> 4);
    uint8_t flags = (uint8_t)(buf[0] & 0x0F);
    /* CONNECT announces its own version; everything else needs the
     * caller's. */
    if (type != KMQTT_CONNECT && v != KMQTT_V311 && v != KMQTT_V5)
        return KMQTT_EINVAL;
    if (type == KMQTT_AUTH && v != KMQTT_V5)
        return KMQTT_EPACKET_TYPE; /* reserved in 3.1.1 */
#if !KMQTT_CFG_V5
    if (v == KMQTT_V5 && type != KMQTT_CONNECT)
        return KMQTT_EUNSUPPORTED; /* compiled out (a 5.0 CONNECT fails at its properties) */
#endif

    /* The body starts after the type byte and the remaining length. */
    size_t hdr = 2;
    while (buf[hdr - 1] & 0x80)
        hdr++;
    rd_t r = {buf + hdr, buf + total};

    out->type = (kmqtt_packet_type_t)type;
    switch (type) {
#if KMQTT_CFG_SERVER_CODEC
    case KMQTT_CONNECT:
        err = decode_connect(&r, &out->u.connect);
        break;
    case KMQTT_SUBSCRIBE:
    case KMQTT_UNSUBSCRIBE:
        err = decode_subscribe(&r, type, v, &out->u.subscribe);
        break;
    case KMQTT_PINGREQ:
        err = expect_end(&r);
        break;
#else
    case KMQTT_CONNECT:
    case KMQTT_SUBSCRIBE:
    case KMQTT_UNSUBSCRIBE:
    case KMQTT_PINGREQ:
        err = KMQTT_EUNSUPPORTED; /* server direction compiled out */
        break;
#endif
    case KMQTT_CONNACK:
        err = decode_connack(&r, v, &out->u.connack);
        break;
    case KMQTT_PUBLISH:
        err = decode_publish(&r, flags, v, &out->u.publish);
        break;
    case KMQTT_PUBACK:
    case KMQTT_PUBREC:
    case KMQTT_PUBREL:
    case KMQTT_PUBCOMP:
        err = decode_ack(&r, type, v, &out->u.ack);
        break;
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
        err = decode_suback(&r, type, v, &out->u.suback);
        break;
    case KMQTT_PINGRESP:
        err = expect_end(&r);
        break;
    case KMQTT_DISCONNECT:
    case KMQTT_AUTH:
        err = decode_disconnect(&r, type, v, &out->u.disconnect);
        break;
    default:
        /* kmqtt_packet_frame already refused type 0; nothing else is left. */
        err = KMQTT_EPACKET_TYPE;
        break;
    }
    if (err != KMQTT_OK)
        return err;
    *consumed = total;
    return KMQTT_OK;
}
