/*
 * Reading a received message's 5.0 properties: views into the message,
 * valid as long as it is (during the handler). A 3.1.1 message has none.
 */
#include "client_internal.h"

#if KMQTT_CFG_V5

bool kmqtt_next_user_prop(kmqtt_prop_iter_t *it, kmqtt_str_t *name, kmqtt_str_t *value)
{
    kmqtt_prop_t p;

    while (it != NULL && kmqtt_prop_iter_next(it, &p)) {
        if (p.id == KMQTT_PROP_USER_PROPERTY) {
            if (name != NULL)
                *name = p.str;
            if (value != NULL)
                *value = p.value;
            return true;
        }
    }
    return false;
}

bool kmqtt_next_subscription_id(kmqtt_prop_iter_t *it, uint32_t *id)
{
    kmqtt_prop_t p;

    while (it != NULL && kmqtt_prop_iter_next(it, &p)) {
        if (p.id == KMQTT_PROP_SUBSCRIPTION_IDENTIFIER) {
            if (id != NULL)
                *id = p.num;
            return true;
        }
    }
    return false;
}

static bool find(const kmqtt_publish_t *m, kmqtt_prop_id_t id, kmqtt_prop_t *p)
{
    return m != NULL && kmqtt_props_find(&m->props, id, p);
}

bool kmqtt_msg_content_type(const kmqtt_publish_t *msg, kmqtt_str_t *out)
{
    kmqtt_prop_t p;

    if (!find(msg, KMQTT_PROP_CONTENT_TYPE, &p))
        return false;
    if (out != NULL)
        *out = p.str;
    return true;
}

bool kmqtt_msg_response_topic(const kmqtt_publish_t *msg, kmqtt_str_t *out)
{
    kmqtt_prop_t p;

    if (!find(msg, KMQTT_PROP_RESPONSE_TOPIC, &p))
        return false;
    if (out != NULL)
        *out = p.str;
    return true;
}

bool kmqtt_msg_correlation_data(const kmqtt_publish_t *msg, kmqtt_bin_t *out)
{
    kmqtt_prop_t p;

    if (!find(msg, KMQTT_PROP_CORRELATION_DATA, &p))
        return false;
    if (out != NULL)
        *out = p.bin;
    return true;
}

bool kmqtt_msg_message_expiry(const kmqtt_publish_t *msg, uint32_t *seconds)
{
    kmqtt_prop_t p;

    if (!find(msg, KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &p))
        return false;
    if (seconds != NULL)
        *seconds = p.num;
    return true;
}

uint8_t kmqtt_msg_payload_format(const kmqtt_publish_t *msg)
{
    kmqtt_prop_t p;

    return find(msg, KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, &p) ? (uint8_t)p.num : 0;
}

#else /* !KMQTT_CFG_V5 */

bool kmqtt_next_user_prop(kmqtt_prop_iter_t *it, kmqtt_str_t *name, kmqtt_str_t *value)
{
    (void)it;
    (void)name;
    (void)value;
    return false;
}

bool kmqtt_next_subscription_id(kmqtt_prop_iter_t *it, uint32_t *id)
{
    (void)it;
    (void)id;
    return false;
}

bool kmqtt_msg_content_type(const kmqtt_publish_t *msg, kmqtt_str_t *out)
{
    (void)msg;
    (void)out;
    return false;
}

bool kmqtt_msg_response_topic(const kmqtt_publish_t *msg, kmqtt_str_t *out)
{
    (void)msg;
    (void)out;
    return false;
}

bool kmqtt_msg_correlation_data(const kmqtt_publish_t *msg, kmqtt_bin_t *out)
{
    (void)msg;
    (void)out;
    return false;
}

bool kmqtt_msg_message_expiry(const kmqtt_publish_t *msg, uint32_t *seconds)
{
    (void)msg;
    (void)seconds;
    return false;
}

uint8_t kmqtt_msg_payload_format(const kmqtt_publish_t *msg)
{
    (void)msg;
    return 0;
}

#endif /* KMQTT_CFG_V5 */
