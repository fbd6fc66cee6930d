/*
 * Encoding PUBLISH: the hot path of every client, so it is kept apart from
 * the general encoder and does only the checks the decoder would make on
 * the same bytes, calling the property code only when there are properties.
 */
#include "codec_internal.h"

static bool props_present(const kmqtt_props_t *props)
{
    return props->count != 0 || props->raw_len != 0;
}

/* Validates p and works out its remaining length and property block size
 * (0 when the packet has none), so that the write pass needs no checks. */
static kmqtt_err_t publish_plan(const kmqtt_publish_t *p, kmqtt_version_t v, size_t *rem,
                                size_t *block)
{
    size_t n;
    kmqtt_err_t err;

    if (v != KMQTT_V311 && v != KMQTT_V5)
        return KMQTT_EINVAL;
#if !KMQTT_CFG_V5
    if (v == KMQTT_V5)
        return KMQTT_EUNSUPPORTED; /* compiled out */
#endif
    if (p->qos > 2)
        return KMQTT_EQOS; /* MQTT-3.3.1-4 */
    if (p->dup && p->qos == 0)
        return KMQTT_EDUP; /* MQTT-3.3.1-2 */
    if (p->qos > 0 && p->packet_id == 0)
        return KMQTT_EPACKET_ID; /* MQTT-2.3.1-1 */
    if (p->topic.len > KMQTT_STRING_MAX)
        return KMQTT_ESTRING_TOO_LONG;
    if (p->payload.ptr == NULL && p->payload.len > 0)
        return KMQTT_EINVAL;

    *block = 0;
    n = 2 + p->topic.len + (p->qos > 0 ? 2u : 0u);
    if (v == KMQTT_V5) {
        if (props_present(&p->props)) {
            err = kmqtt_props_block_size(&p->props, KMQTT_PUBLISH, block);
            if (err != KMQTT_OK)
                return err;
        }
        n += kmqtt_varint_size((uint32_t)*block) + *block;
    } else if (props_present(&p->props)) {
        return KMQTT_EINVAL; /* 3.1.1 has no properties */
    }

    if (p->topic.len == 0) {
        kmqtt_prop_t alias;
        /* 5.0 3.3.2.3.4: an empty topic refers to a Topic Alias, which must
         * then be in the same packet. */
        if (v != KMQTT_V5 || *block == 0 ||
            !kmqtt_props_find(&p->props, KMQTT_PROP_TOPIC_ALIAS, &alias))
            return KMQTT_ETOPIC_NAME;
    } else {
        err = kmqtt_topic_name_validate(p->topic.ptr, p->topic.len); /* MQTT-3.3.2-2 */
        if (err != KMQTT_OK)
            return err;
    }

    /* n is at most a few bytes over 2^28, so this cannot wrap. */
    if (n > KMQTT_VARINT_MAX || p->payload.len > KMQTT_VARINT_MAX - n)
        return KMQTT_ETOOBIG;
    *rem = n + p->payload.len;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_publish_size(const kmqtt_publish_t *p, kmqtt_version_t v, size_t *size)
{
    size_t rem, block;
    kmqtt_err_t err;

    if (p == NULL || size == NULL)
        return KMQTT_EINVAL;
    err = publish_plan(p, v, &rem, &block);
    if (err != KMQTT_OK)
        return err;
    *size = 1 + kmqtt_varint_size((uint32_t)rem) + rem;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_publish_encode(const kmqtt_publish_t *p, kmqtt_version_t v, uint8_t *buf,
                                 size_t cap, size_t *written)
{
    size_t rem, block;
    kmqtt_err_t err;

    if (written != NULL)
        *written = 0;
    if (p == NULL || buf == NULL || written == NULL)
        return KMQTT_EINVAL;
    err = publish_plan(p, v, &rem, &block);
    if (err != KMQTT_OK)
        return err;
    if (cap < 1 + kmqtt_varint_size((uint32_t)rem) + rem)
        return KMQTT_ENOBUFS;

    wr_t w = {buf, buf + cap, false};
    wr_u8(&w, (uint8_t)((KMQTT_PUBLISH << 4) | (p->dup ? 0x08 : 0) | (p->qos << 1) |
                        (p->retain ? 0x01 : 0)));
    wr_varint(&w, (uint32_t)rem);
    wr_bin(&w, p->topic.ptr, p->topic.len);
    if (p->qos > 0)
        wr_u16(&w, p->packet_id);
    if (v == KMQTT_V5) {
        if (block == 0)
            wr_u8(&w, 0);
        else
            kmqtt_props_write(&w, &p->props, block);
    }
    wr_bytes(&w, p->payload.ptr, p->payload.len);
    if (w.overflow)
        return KMQTT_ENOBUFS; /* unreachable: cap was checked above */
    *written = (size_t)(w.p - buf);
    return KMQTT_OK;
}
