/*
 * Encoding every MQTT 3.1.1 and 5.0 control packet but PUBLISH (which has
 * its own lean path in encode_publish.c).
 *
 * Two passes: the plan pass checks every field with the rules the decoder
 * enforces and works out the remaining length and the property block
 * sizes; the write pass then only copies bytes. The caller's capacity is
 * compared with the planned size before the first byte is written, and the
 * wr_t writer stops at cap anyway, so nothing past cap is ever touched.
 */
#include "codec_internal.h"

/* What the write pass needs from the plan pass. The short forms of the
 * acknowledgements, DISCONNECT and AUTH are told apart by rem alone. */
typedef struct plan {
    size_t rem;        /* remaining length */
    size_t props;      /* property block size, without its length prefix */
    size_t will_props; /* CONNECT will property block size */
} plan_t;

/* Keeps *acc <= KMQTT_VARINT_MAX, so sums of many fields never wrap. */
static kmqtt_err_t grow(size_t *acc, size_t n)
{
    if (n > KMQTT_VARINT_MAX - *acc)
        return KMQTT_ETOOBIG;
    *acc += n;
    return KMQTT_OK;
}

/* Binary data (and the length of a UTF-8 string): two-byte length prefix. */
static kmqtt_err_t check_bin(const void *ptr, size_t len)
{
    if (len > KMQTT_STRING_MAX)
        return KMQTT_ESTRING_TOO_LONG;
    if (ptr == NULL && len > 0)
        return KMQTT_EINVAL;
    return KMQTT_OK;
}

static kmqtt_err_t check_str(const kmqtt_str_t *s)
{
    kmqtt_err_t err = check_bin(s->ptr, s->len);
    if (err != KMQTT_OK)
        return err;
    return kmqtt_utf8_validate(s->ptr, s->len); /* MQTT-1.5.3-1, MQTT-1.5.3-2 */
}

static bool props_present(const kmqtt_props_t *props)
{
    return props->count != 0 || props->raw_len != 0;
}

/* Sets *block to the property block size for 'where'. 3.1.1 has no
 * properties, so any there is the caller's mistake. */
static kmqtt_err_t plan_props(const kmqtt_props_t *props, kmqtt_version_t v, unsigned where,
                              size_t *block)
{
    *block = 0;
    if (v == KMQTT_V311)
        return props_present(props) ? KMQTT_EINVAL : KMQTT_OK;
    kmqtt_err_t err = kmqtt_props_block_size(props, where, block);
    if (err != KMQTT_OK)
        return err;
    return *block <= KMQTT_VARINT_MAX ? KMQTT_OK : KMQTT_ETOOBIG;
}

/* The property length prefix plus the block. */
static size_t props_field(size_t block)
{
    return kmqtt_varint_size((uint32_t)block) + block;
}

static uint8_t first_byte(unsigned type)
{
    /* MQTT-3.6.1-1, MQTT-3.8.1-1, MQTT-3.10.1-1: these three carry 0010. */
    bool flags = type == KMQTT_PUBREL || type == KMQTT_SUBSCRIBE || type == KMQTT_UNSUBSCRIBE;
    return (uint8_t)((type << 4) | (flags ? 0x02u : 0u));
}

static bool is_shared(const kmqtt_str_t *filter)
{
    static const char prefix[7] = {'$', 's', 'h', 'a', 'r', 'e', '/'};
    return filter->len >= sizeof prefix && memcmp(filter->ptr, prefix, sizeof prefix) == 0;
}

/* ------------------------------------------------------------- CONNECT */

#define CF_CLEAN    0x02u
#define CF_WILL     0x04u
#define CF_RETAIN   0x20u
#define CF_PASSWORD 0x40u
#define CF_USERNAME 0x80u

static uint8_t connect_flags(const kmqtt_connect_t *c)
{
    unsigned f = 0;
    if (c->clean_start)
        f |= CF_CLEAN;
    if (c->has_will) {
        f |= CF_WILL | ((unsigned)c->will.qos << 3);
        if (c->will.retain)
            f |= CF_RETAIN;
    }
    if (c->has_password)
        f |= CF_PASSWORD;
    if (c->has_username)
        f |= CF_USERNAME;
    return (uint8_t)f;
}

static kmqtt_err_t plan_connect(const kmqtt_connect_t *c, kmqtt_version_t v, plan_t *pl)
{
    kmqtt_err_t err;
    size_t rem = 10; /* protocol name (6), level, flags, keep alive (2) */

    if (v != KMQTT_V311 && v != KMQTT_V5)
        return KMQTT_EPROTOCOL_VERSION;
    if (!c->has_will && (c->will.qos != 0 || c->will.retain))
        return KMQTT_ECONNECT_FLAGS; /* MQTT-3.1.2-13, MQTT-3.1.2-15 (5.0: -11, -13) */
    if (c->has_will && c->will.qos > 2)
        return KMQTT_EQOS; /* MQTT-3.1.2-14 (5.0: MQTT-3.1.2-12) */
    if (v == KMQTT_V311 && c->has_password && !c->has_username)
        return KMQTT_ECONNECT_FLAGS; /* MQTT-3.1.2-22; 5.0 allows a password alone */

    if ((err = plan_props(&c->props, v, KMQTT_CONNECT, &pl->props)) != KMQTT_OK)
        return err;
    if (v == KMQTT_V5 && (err = grow(&rem, props_field(pl->props))) != KMQTT_OK)
        return err;
    if ((err = check_str(&c->client_id)) != KMQTT_OK)
        return err;
    rem += 2 + c->client_id.len; /* rem is tiny here, cannot overflow */

    pl->will_props = 0;
    if (c->has_will) {
        err = plan_props(&c->will.props, v, KMQTT_PROP_IN_WILL, &pl->will_props);
        if (err != KMQTT_OK)
            return err;
        if (v == KMQTT_V5 && (err = grow(&rem, props_field(pl->will_props))) != KMQTT_OK)
            return err;
        if ((err = check_bin(c->will.topic.ptr, c->will.topic.len)) != KMQTT_OK)
            return err;
        err = kmqtt_topic_name_validate(c->will.topic.ptr, c->will.topic.len);
        if (err != KMQTT_OK)
            return err; /* MQTT-3.1.3-11 is a topic name: no wildcards */
        if ((err = grow(&rem, 2 + c->will.topic.len)) != KMQTT_OK)
            return err;
        if ((err = check_bin(c->will.payload.ptr, c->will.payload.len)) != KMQTT_OK)
            return err;
        if ((err = grow(&rem, 2 + c->will.payload.len)) != KMQTT_OK)
            return err;
    }
    if (c->has_username) {
        if ((err = check_str(&c->username)) != KMQTT_OK)
            return err;
        if ((err = grow(&rem, 2 + c->username.len)) != KMQTT_OK)
            return err;
    }
    if (c->has_password) {
        if ((err = check_bin(c->password.ptr, c->password.len)) != KMQTT_OK)
            return err;
        if ((err = grow(&rem, 2 + c->password.len)) != KMQTT_OK)
            return err;
    }
    pl->rem = rem;
    return KMQTT_OK;
}

static void write_connect(wr_t *w, const kmqtt_connect_t *c, kmqtt_version_t v, const plan_t *pl)
{
    wr_bin(w, "MQTT", 4); /* MQTT-3.1.2-1 */
    wr_u8(w, (uint8_t)v);
    wr_u8(w, connect_flags(c));
    wr_u16(w, c->keepalive);
    if (v == KMQTT_V5)
        kmqtt_props_write(w, &c->props, pl->props);
    wr_bin(w, c->client_id.ptr, c->client_id.len);
    if (c->has_will) {
        if (v == KMQTT_V5)
            kmqtt_props_write(w, &c->will.props, pl->will_props);
        wr_bin(w, c->will.topic.ptr, c->will.topic.len);
        wr_bin(w, c->will.payload.ptr, c->will.payload.len);
    }
    if (c->has_username)
        wr_bin(w, c->username.ptr, c->username.len);
    if (c->has_password)
        wr_bin(w, c->password.ptr, c->password.len);
}

/* ------------------------------------------------------------- CONNACK */

#if KMQTT_CFG_SERVER_CODEC
static kmqtt_err_t plan_connack(const kmqtt_connack_t *c, kmqtt_version_t v, plan_t *pl)
{
    kmqtt_err_t err;

    if (!kmqtt_reason_valid(KMQTT_CONNACK, v, c->reason_code))
        return KMQTT_EREASON_CODE;
    if (c->session_present && c->reason_code != 0)
        return KMQTT_EACK_FLAGS; /* MQTT-3.2.2-4 (5.0: MQTT-3.2.2-6) */
    if ((err = plan_props(&c->props, v, KMQTT_CONNACK, &pl->props)) != KMQTT_OK)
        return err;
    pl->rem = 2;
    if (v == KMQTT_V5)
        return grow(&pl->rem, props_field(pl->props));
    return KMQTT_OK;
}

static void write_connack(wr_t *w, const kmqtt_connack_t *c, kmqtt_version_t v, const plan_t *pl)
{
    wr_u8(w, c->session_present ? 0x01 : 0x00);
    wr_u8(w, c->reason_code);
    if (v == KMQTT_V5)
        kmqtt_props_write(w, &c->props, pl->props);
}

/* ------------------------------------- PUBACK, PUBREC, PUBREL, PUBCOMP */

#endif

static kmqtt_err_t plan_ack(unsigned type, const kmqtt_ack_t *a, kmqtt_version_t v, plan_t *pl)
{
    kmqtt_err_t err;

    if (a->packet_id == 0)
        return KMQTT_EPACKET_ID; /* MQTT-2.3.1-1 */
    if (v == KMQTT_V311) {
        if (a->reason_code != 0)
            return KMQTT_EINVAL; /* 3.1.1 acknowledgements have no reason code */
    } else if (!kmqtt_reason_valid(type, v, a->reason_code)) {
        return KMQTT_EREASON_CODE;
    }
    if ((err = plan_props(&a->props, v, type, &pl->props)) != KMQTT_OK)
        return err;
    /* 5.0 3.4.2.1: the reason code may be left out when it is 0x00 and
     * there are no properties, and the property length when there are
     * none; the shortest form is the one 3.1.1 peers also understand. */
    pl->rem = 2;
    if (pl->props != 0)
        return grow(&pl->rem, 1 + props_field(pl->props));
    if (a->reason_code != 0)
        pl->rem = 3;
    return KMQTT_OK;
}

static void write_ack(wr_t *w, const kmqtt_ack_t *a, const plan_t *pl)
{
    wr_u16(w, a->packet_id);
    if (pl->rem >= 3)
        wr_u8(w, a->reason_code);
    if (pl->rem > 3)
        kmqtt_props_write(w, &a->props, pl->props);
}

/* ------------------------------------------------ SUBSCRIBE, UNSUBSCRIBE */

static kmqtt_err_t check_options(const kmqtt_subscription_t *s, kmqtt_version_t v)
{
    if (s->qos > 2)
        return KMQTT_EQOS; /* MQTT-3.8.3-4 (3.1.1), MQTT-3.8.3-5 (5.0) */
    if (v == KMQTT_V311) {
        if (s->no_local || s->retain_as_published || s->retain_handling != 0)
            return KMQTT_ESUB_OPTIONS; /* MQTT-3.8.3-4 (3.1.1): reserved bits */
        return KMQTT_OK;
    }
    if (s->retain_handling > 2)
        return KMQTT_ESUB_OPTIONS; /* 5.0 3.8.3.1: retain handling 3 is reserved */
    if (s->no_local && is_shared(&s->filter))
        return KMQTT_ESUB_OPTIONS; /* MQTT-3.8.3-4 (5.0) */
    return KMQTT_OK;
}

static uint8_t options_byte(const kmqtt_subscription_t *s)
{
    return (uint8_t)(s->qos | (s->no_local ? 0x04u : 0u) | (s->retain_as_published ? 0x08u : 0u) |
                     ((unsigned)s->retain_handling << 4));
}

static kmqtt_err_t plan_subscribe(unsigned type, const kmqtt_subscribe_t *s, kmqtt_version_t v,
                                  plan_t *pl)
{
    bool is_sub = type == KMQTT_SUBSCRIBE;
    kmqtt_sub_iter_t it;
    kmqtt_subscription_t sub;
    size_t count = 0;
    size_t rem = 2;
    kmqtt_err_t err;

    if (s->packet_id == 0)
        return KMQTT_EPACKET_ID; /* MQTT-2.3.1-1 */
    if ((err = plan_props(&s->props, v, type, &pl->props)) != KMQTT_OK)
        return err;
    if (v == KMQTT_V5 && (err = grow(&rem, props_field(pl->props))) != KMQTT_OK)
        return err;
    kmqtt_sub_iter_init(&it, s, is_sub);
    while (kmqtt_sub_iter_next(&it, &sub)) {
        if ((err = check_bin(sub.filter.ptr, sub.filter.len)) != KMQTT_OK)
            return err;
        err = kmqtt_topic_filter_validate(sub.filter.ptr, sub.filter.len);
        if (err != KMQTT_OK)
            return err; /* MQTT-4.7.1-1..-3, MQTT-4.7.3-1 */
        if (is_sub && (err = check_options(&sub, v)) != KMQTT_OK)
            return err;
        if ((err = grow(&rem, 2 + sub.filter.len + (is_sub ? 1u : 0u))) != KMQTT_OK)
            return err;
        count++;
    }
    if (count == 0)
        return KMQTT_ENO_TOPICS; /* MQTT-3.8.3-3, MQTT-3.10.3-2 */
    pl->rem = rem;
    return KMQTT_OK;
}

static void write_subscribe(wr_t *w, unsigned type, const kmqtt_subscribe_t *s, kmqtt_version_t v,
                            const plan_t *pl)
{
    bool is_sub = type == KMQTT_SUBSCRIBE;
    kmqtt_sub_iter_t it;
    kmqtt_subscription_t sub;

    wr_u16(w, s->packet_id);
    if (v == KMQTT_V5)
        kmqtt_props_write(w, &s->props, pl->props);
    kmqtt_sub_iter_init(&it, s, is_sub);
    while (kmqtt_sub_iter_next(&it, &sub)) {
        wr_bin(w, sub.filter.ptr, sub.filter.len);
        if (is_sub)
            wr_u8(w, options_byte(&sub));
    }
}

/* ----------------------------------------------------- SUBACK, UNSUBACK */

#if KMQTT_CFG_SERVER_CODEC
static kmqtt_err_t plan_suback(unsigned type, const kmqtt_suback_t *s, kmqtt_version_t v,
                               plan_t *pl)
{
    kmqtt_err_t err;
    size_t rem = 2;

    if (s->packet_id == 0)
        return KMQTT_EPACKET_ID; /* MQTT-2.3.1-1 */
    if ((err = plan_props(&s->props, v, type, &pl->props)) != KMQTT_OK)
        return err;
    if (type == KMQTT_UNSUBACK && v == KMQTT_V311) {
        /* 3.1.1 3.11.3: UNSUBACK has no payload. */
        if (s->reason_codes.len != 0)
            return KMQTT_EINVAL;
        pl->rem = rem;
        return KMQTT_OK;
    }
    if (v == KMQTT_V5 && (err = grow(&rem, props_field(pl->props))) != KMQTT_OK)
        return err;
    /* One code per filter of the request, which had at least one. */
    if (s->reason_codes.len == 0)
        return KMQTT_ENO_TOPICS;
    if (s->reason_codes.ptr == NULL)
        return KMQTT_EINVAL;
    if ((err = grow(&rem, s->reason_codes.len)) != KMQTT_OK)
        return err;
    for (size_t i = 0; i < s->reason_codes.len; i++) {
        if (!kmqtt_reason_valid(type, v, s->reason_codes.ptr[i]))
            return KMQTT_EREASON_CODE; /* MQTT-3.9.3-2 (3.1.1) */
    }
    pl->rem = rem;
    return KMQTT_OK;
}

static void write_suback(wr_t *w, unsigned type, const kmqtt_suback_t *s, kmqtt_version_t v,
                         const plan_t *pl)
{
    wr_u16(w, s->packet_id);
    if (type == KMQTT_UNSUBACK && v == KMQTT_V311)
        return;
    if (v == KMQTT_V5)
        kmqtt_props_write(w, &s->props, pl->props);
    wr_bytes(w, s->reason_codes.ptr, s->reason_codes.len);
}

/* ---------------------------------------------------- DISCONNECT, AUTH */

#endif

static kmqtt_err_t plan_disconnect(unsigned type, const kmqtt_disconnect_t *d, kmqtt_version_t v,
                                   plan_t *pl)
{
    kmqtt_err_t err;

    if (v == KMQTT_V311) {
        if (type == KMQTT_AUTH)
            return KMQTT_EPACKET_TYPE; /* reserved in 3.1.1 */
        if (d->reason_code != 0 || props_present(&d->props))
            return KMQTT_EINVAL; /* 3.1.1 DISCONNECT has no variable header */
        pl->rem = 0;
        pl->props = 0;
        return KMQTT_OK;
    }
    if (!kmqtt_reason_valid(type, v, d->reason_code))
        return KMQTT_EREASON_CODE;
    if ((err = plan_props(&d->props, v, type, &pl->props)) != KMQTT_OK)
        return err;
    /* 5.0 3.14.2.1 / 3.15.2.1: reason 0x00 without properties may be
     * left out entirely. DISCONNECT may also drop just the property
     * length (3.14.2.2.1); AUTH has no such rule, so it keeps it. */
    if (d->reason_code == 0 && pl->props == 0)
        pl->rem = 0;
    else if (pl->props == 0 && type == KMQTT_DISCONNECT)
        pl->rem = 1;
    else
        pl->rem = 1 + props_field(pl->props);
    return KMQTT_OK;
}

static void write_disconnect(wr_t *w, const kmqtt_disconnect_t *d, const plan_t *pl)
{
    if (pl->rem >= 1)
        wr_u8(w, d->reason_code);
    if (pl->rem > 1)
        kmqtt_props_write(w, &d->props, pl->props);
}

/* ------------------------------------------------------------ dispatch */

static kmqtt_err_t plan_packet(const kmqtt_packet_t *p, kmqtt_version_t v, plan_t *pl)
{
    unsigned type = (unsigned)p->type;

    pl->rem = 0;
    pl->props = 0;
    pl->will_props = 0;
    if (type < KMQTT_CONNECT || type > KMQTT_AUTH)
        return KMQTT_EPACKET_TYPE;
#if !KMQTT_CFG_V5
    if (v == KMQTT_V5)
        return KMQTT_EUNSUPPORTED; /* compiled out */
#endif
    if (type == KMQTT_CONNECT)
        return plan_connect(&p->u.connect, v, pl);
    if (v != KMQTT_V311 && v != KMQTT_V5)
        return KMQTT_EINVAL;

    switch (type) {
#if KMQTT_CFG_SERVER_CODEC
    case KMQTT_CONNACK:
        return plan_connack(&p->u.connack, v, pl);
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
        return plan_suback(type, &p->u.suback, v, pl);
    case KMQTT_PINGRESP:
        return KMQTT_OK;
#else
    case KMQTT_CONNACK:
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
    case KMQTT_PINGRESP:
        return KMQTT_EUNSUPPORTED; /* server direction compiled out */
#endif
    case KMQTT_PUBACK:
    case KMQTT_PUBREC:
    case KMQTT_PUBREL:
    case KMQTT_PUBCOMP:
        return plan_ack(type, &p->u.ack, v, pl);
    case KMQTT_SUBSCRIBE:
    case KMQTT_UNSUBSCRIBE:
        return plan_subscribe(type, &p->u.subscribe, v, pl);
    case KMQTT_DISCONNECT:
    case KMQTT_AUTH:
        return plan_disconnect(type, &p->u.disconnect, v, pl);
    default:
        return KMQTT_OK; /* PINGREQ: no body */
    }
}

static void write_body(wr_t *w, const kmqtt_packet_t *p, kmqtt_version_t v, const plan_t *pl)
{
    unsigned type = (unsigned)p->type;

    switch (type) {
    case KMQTT_CONNECT:
        write_connect(w, &p->u.connect, v, pl);
        break;
#if KMQTT_CFG_SERVER_CODEC
    case KMQTT_CONNACK:
        write_connack(w, &p->u.connack, v, pl);
        break;
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
        write_suback(w, type, &p->u.suback, v, pl);
        break;
#endif
    case KMQTT_PUBACK:
    case KMQTT_PUBREC:
    case KMQTT_PUBREL:
    case KMQTT_PUBCOMP:
        write_ack(w, &p->u.ack, pl);
        break;
    case KMQTT_SUBSCRIBE:
    case KMQTT_UNSUBSCRIBE:
        write_subscribe(w, type, &p->u.subscribe, v, pl);
        break;
    case KMQTT_DISCONNECT:
    case KMQTT_AUTH:
        write_disconnect(w, &p->u.disconnect, pl);
        break;
    default:
        break; /* PINGREQ, PINGRESP */
    }
}

static size_t total_size(const plan_t *pl)
{
    return 1 + kmqtt_varint_size((uint32_t)pl->rem) + pl->rem;
}

kmqtt_err_t kmqtt_packet_size(const kmqtt_packet_t *p, kmqtt_version_t v, size_t *size)
{
    plan_t pl;
    kmqtt_err_t err;

    if (p == NULL || size == NULL)
        return KMQTT_EINVAL;
    if (p->type == KMQTT_PUBLISH)
        return kmqtt_publish_size(&p->u.publish, v, size);
    if ((err = plan_packet(p, v, &pl)) != KMQTT_OK)
        return err;
    *size = total_size(&pl);
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_packet_encode(const kmqtt_packet_t *p, kmqtt_version_t v, uint8_t *buf,
                                size_t cap, size_t *written)
{
    plan_t pl;
    kmqtt_err_t err;

    if (written != NULL)
        *written = 0;
    if (p == NULL || buf == NULL || written == NULL)
        return KMQTT_EINVAL;
    if (p->type == KMQTT_PUBLISH)
        return kmqtt_publish_encode(&p->u.publish, v, buf, cap, written);
    if ((err = plan_packet(p, v, &pl)) != KMQTT_OK)
        return err;
    if (cap < total_size(&pl))
        return KMQTT_ENOBUFS;

    wr_t w = {buf, buf + cap, false};
    wr_u8(&w, first_byte((unsigned)p->type));
    wr_varint(&w, (uint32_t)pl.rem);
    write_body(&w, p, v, &pl);
    if (w.overflow)
        return KMQTT_ENOBUFS; /* unreachable: cap was checked above */
    *written = (size_t)(w.p - buf);
    return KMQTT_OK;
}
