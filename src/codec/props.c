/*
 * The MQTT 5.0 property table (section 2.2.2.2, Table 2-4) and walking a
 * property list in either of its two forms.
 */
#include "codec_internal.h"

#if KMQTT_CFG_V5
#define IN(t) (1u << (t))
#define WILL  IN(KMQTT_PROP_IN_WILL)
#define ACKS  (IN(KMQTT_PUBACK) | IN(KMQTT_PUBREC) | IN(KMQTT_PUBREL) | IN(KMQTT_PUBCOMP))
#define N_IDS 0x2Bu /* one past the largest identifier MQTT 5.0 defines */

typedef struct prop_info {
    uint8_t type; /* kmqtt_prop_type_t; 0 = the identifier is not assigned */
    uint16_t where;
} prop_info_t;

/* Indexed by identifier so that a lookup is one bounds check and one load. */
static const prop_info_t prop_table[N_IDS] = {
    [KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR] = {KMQTT_PROPTYPE_BYTE, IN(KMQTT_PUBLISH) | WILL},
    [KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL] = {KMQTT_PROPTYPE_U32, IN(KMQTT_PUBLISH) | WILL},
    [KMQTT_PROP_CONTENT_TYPE] = {KMQTT_PROPTYPE_STRING, IN(KMQTT_PUBLISH) | WILL},
    [KMQTT_PROP_RESPONSE_TOPIC] = {KMQTT_PROPTYPE_STRING, IN(KMQTT_PUBLISH) | WILL},
    [KMQTT_PROP_CORRELATION_DATA] = {KMQTT_PROPTYPE_BINARY, IN(KMQTT_PUBLISH) | WILL},
    [KMQTT_PROP_SUBSCRIPTION_IDENTIFIER] = {KMQTT_PROPTYPE_VARINT,
                                            IN(KMQTT_PUBLISH) | IN(KMQTT_SUBSCRIBE)},
    [KMQTT_PROP_SESSION_EXPIRY_INTERVAL] = {KMQTT_PROPTYPE_U32, IN(KMQTT_CONNECT) |
                                                                    IN(KMQTT_CONNACK) |
                                                                    IN(KMQTT_DISCONNECT)},
    [KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER] = {KMQTT_PROPTYPE_STRING, IN(KMQTT_CONNACK)},
    [KMQTT_PROP_SERVER_KEEP_ALIVE] = {KMQTT_PROPTYPE_U16, IN(KMQTT_CONNACK)},
    [KMQTT_PROP_AUTHENTICATION_METHOD] = {KMQTT_PROPTYPE_STRING,
                                          IN(KMQTT_CONNECT) | IN(KMQTT_CONNACK) | IN(KMQTT_AUTH)},
    [KMQTT_PROP_AUTHENTICATION_DATA] = {KMQTT_PROPTYPE_BINARY,
                                        IN(KMQTT_CONNECT) | IN(KMQTT_CONNACK) | IN(KMQTT_AUTH)},
    [KMQTT_PROP_REQUEST_PROBLEM_INFORMATION] = {KMQTT_PROPTYPE_BYTE, IN(KMQTT_CONNECT)},
    [KMQTT_PROP_WILL_DELAY_INTERVAL] = {KMQTT_PROPTYPE_U32, WILL},
    [KMQTT_PROP_REQUEST_RESPONSE_INFORMATION] = {KMQTT_PROPTYPE_BYTE, IN(KMQTT_CONNECT)},
    [KMQTT_PROP_RESPONSE_INFORMATION] = {KMQTT_PROPTYPE_STRING, IN(KMQTT_CONNACK)},
    [KMQTT_PROP_SERVER_REFERENCE] = {KMQTT_PROPTYPE_STRING,
                                     IN(KMQTT_CONNACK) | IN(KMQTT_DISCONNECT)},
    [KMQTT_PROP_REASON_STRING] = {KMQTT_PROPTYPE_STRING, IN(KMQTT_CONNACK) | ACKS |
                                                             IN(KMQTT_SUBACK) | IN(KMQTT_UNSUBACK) |
                                                             IN(KMQTT_DISCONNECT) | IN(KMQTT_AUTH)},
    [KMQTT_PROP_RECEIVE_MAXIMUM] = {KMQTT_PROPTYPE_U16, IN(KMQTT_CONNECT) | IN(KMQTT_CONNACK)},
    [KMQTT_PROP_TOPIC_ALIAS_MAXIMUM] = {KMQTT_PROPTYPE_U16, IN(KMQTT_CONNECT) | IN(KMQTT_CONNACK)},
    [KMQTT_PROP_TOPIC_ALIAS] = {KMQTT_PROPTYPE_U16, IN(KMQTT_PUBLISH)},
    [KMQTT_PROP_MAXIMUM_QOS] = {KMQTT_PROPTYPE_BYTE, IN(KMQTT_CONNACK)},
    [KMQTT_PROP_RETAIN_AVAILABLE] = {KMQTT_PROPTYPE_BYTE, IN(KMQTT_CONNACK)},
    [KMQTT_PROP_USER_PROPERTY] = {KMQTT_PROPTYPE_STRING_PAIR,
                                  IN(KMQTT_CONNECT) | IN(KMQTT_CONNACK) | IN(KMQTT_PUBLISH) | WILL |
                                      ACKS | IN(KMQTT_SUBSCRIBE) | IN(KMQTT_SUBACK) |
                                      IN(KMQTT_UNSUBSCRIBE) | IN(KMQTT_UNSUBACK) |
                                      IN(KMQTT_DISCONNECT) | IN(KMQTT_AUTH)},
    [KMQTT_PROP_MAXIMUM_PACKET_SIZE] = {KMQTT_PROPTYPE_U32, IN(KMQTT_CONNECT) | IN(KMQTT_CONNACK)},
    [KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE] = {KMQTT_PROPTYPE_BYTE, IN(KMQTT_CONNACK)},
    [KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE] = {KMQTT_PROPTYPE_BYTE, IN(KMQTT_CONNACK)},
    [KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE] = {KMQTT_PROPTYPE_BYTE, IN(KMQTT_CONNACK)},
};

kmqtt_prop_type_t kmqtt_prop_type(uint8_t id)
{
    if (id >= N_IDS)
        return KMQTT_PROPTYPE_NONE;
    return (kmqtt_prop_type_t)prop_table[id].type;
}

bool kmqtt_prop_allowed(uint8_t id, unsigned packet_type)
{
    if (id >= N_IDS || packet_type > KMQTT_AUTH)
        return false;
    return (prop_table[id].where & IN(packet_type)) != 0;
}
#else
/* 3.1.1 only: no identifier is known, none is allowed anywhere. */
kmqtt_prop_type_t kmqtt_prop_type(uint8_t id)
{
    (void)id;
    return KMQTT_PROPTYPE_NONE;
}

bool kmqtt_prop_allowed(uint8_t id, unsigned packet_type)
{
    (void)id;
    (void)packet_type;
    return false;
}
#endif

void kmqtt_prop_iter_init(kmqtt_prop_iter_t *it, const kmqtt_props_t *props)
{
    it->item = props->items;
    it->left = props->items != NULL ? props->count : 0;
    /* NULL + 0 is undefined in C, so a zeroed raw form stays NULL/NULL. */
    if (props->items == NULL && props->raw != NULL) {
        it->pos = props->raw;
        it->end = props->raw + props->raw_len;
    } else {
        it->pos = NULL;
        it->end = NULL;
    }
}

bool kmqtt_prop_iter_next(kmqtt_prop_iter_t *it, kmqtt_prop_t *out)
{
    if (it->item != NULL) {
        if (it->left == 0)
            return false;
        *out = *it->item++;
        it->left--;
        return true;
    }
    if (it->pos == NULL || it->pos >= it->end)
        return false;
    rd_t r = {it->pos, it->end};
    /* The decoder validated the block already; this only guards the bounds,
     * so a block that does not parse ends the walk instead of being read past. */
    if (kmqtt_prop_read_one(&r, out) != KMQTT_OK) {
        it->pos = it->end; /* a later call must not retry the bad bytes */
        return false;
    }
    it->pos = r.p;
    return true;
}

bool kmqtt_props_find(const kmqtt_props_t *props, kmqtt_prop_id_t id, kmqtt_prop_t *out)
{
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;

    if (props == NULL)
        return false;
    kmqtt_prop_iter_init(&it, props);
    while (kmqtt_prop_iter_next(&it, &p)) {
        if (p.id == id) {
            if (out != NULL)
                *out = p;
            return true;
        }
    }
    return false;
}
