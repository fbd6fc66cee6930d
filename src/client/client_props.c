/*
 * The optional 5.0 part of the calls that send a packet: publish,
 * subscribe, unsubscribe, disconnect and reauthenticate. Each struct of
 * named fields becomes the packet's property list on the caller's stack
 * (views of the caller's strings, encoded before the call returns), so
 * nothing is allocated. A 3.1.1 client takes NULL only: any 5.0 part is
 * KMQTT_ENEEDV5 and nothing is sent, so a 5.0 request is never dropped in
 * silence (libmosquitto's mosquitto_*_v5 answer MOSQ_ERR_NOT_SUPPORTED
 * alike). Compiled out (KMQTT_CFG_V5=0), every client is a 3.1.1 one and
 * client_internal.h answers for these functions.
 */
#include "client_internal.h"

#if KMQTT_CFG_V5

/* --------------------------------------------------------- list building */

bool kc_text_ok(const char *s)
{
    size_t len;

    if (s == NULL)
        return false;
    len = strlen(s);
    return len <= KMQTT_STRING_MAX && kmqtt_utf8_validate(s, len) == KMQTT_OK;
}

kmqtt_prop_t *kc_prop_add(kmqtt_prop_t *list, size_t *n, kmqtt_prop_id_t id, uint32_t num)
{
    kmqtt_prop_t *p = &list[(*n)++];

    memset(p, 0, sizeof *p);
    p->id = id;
    p->num = num;
    return p;
}

static kmqtt_err_t add_text(kmqtt_prop_t *list, size_t cap, size_t *n, kmqtt_prop_id_t id,
                            const char *s)
{
    kmqtt_prop_t *p;

    if (s == NULL)
        return KMQTT_OK;
    if (!kc_text_ok(s))
        return KMQTT_EINVAL;
    if (*n >= cap)
        return KMQTT_ELIMIT;
    p = kc_prop_add(list, n, id, 0);
    p->str.ptr = s;
    p->str.len = strlen(s);
    return KMQTT_OK;
}

static kmqtt_err_t add_users(kmqtt_prop_t *list, size_t cap, size_t *n, const kmqtt_user_prop_t *u,
                             size_t count)
{
    kmqtt_prop_t *p;
    size_t i;

    if (count > KMQTT_USER_PROPS_MAX || *n + count > cap)
        return KMQTT_ELIMIT;
    if (count != 0 && u == NULL)
        return KMQTT_EINVAL;
    for (i = 0; i < count; i++) {
        if (!kc_text_ok(u[i].name) || !kc_text_ok(u[i].value))
            return KMQTT_EINVAL;
        p = kc_prop_add(list, n, KMQTT_PROP_USER_PROPERTY, 0);
        p->str.ptr = u[i].name;
        p->str.len = strlen(u[i].name);
        p->value.ptr = u[i].value;
        p->value.len = strlen(u[i].value);
    }
    return KMQTT_OK;
}

/* A 5.0 part given (p not NULL) to a 3.1.1 client is refused. */
static kmqtt_err_t version_check(const kmqtt_client_t *c, const void *p)
{
    return p != NULL && c->opt.version != KMQTT_V5 ? KMQTT_ENEEDV5 : KMQTT_OK;
}

/* ------------------------------------------------------------- PUBLISH */

/* Room for the fixed PUBLISH properties (format, expiry, content type,
 * response topic, correlation data) and the user ones. */
#define KC_PUB_PROPS_MAX (5u + KMQTT_USER_PROPS_MAX)

static kmqtt_err_t publish_list(const kmqtt_publish_props_t *pp, const void *payload, size_t len,
                                kmqtt_prop_t *l, size_t *n)
{
    kmqtt_err_t err;

    /* will_delay_s belongs to the will (options.will_props). */
    if (pp->payload_format > 1 || pp->will_delay_s != 0 ||
        (pp->correlation_data == NULL && pp->correlation_len != 0) ||
        pp->correlation_len > KMQTT_STRING_MAX)
        return KMQTT_EINVAL;
    if (pp->payload_format == 1) {
        /* 3.3.2.3.2: a payload said to be UTF-8 must be. */
        if (len != 0 && kmqtt_utf8_validate(payload, len) != KMQTT_OK)
            return KMQTT_EINVAL;
        (void)kc_prop_add(l, n, KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
    }
    if (pp->message_expiry_s != 0)
        (void)kc_prop_add(l, n, KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, pp->message_expiry_s);
    err = add_text(l, KC_PUB_PROPS_MAX, n, KMQTT_PROP_CONTENT_TYPE, pp->content_type);
    /* MQTT-3.3.2-14: a Response Topic is a topic name, not a filter. */
    if (err == KMQTT_OK && pp->response_topic != NULL &&
        kmqtt_topic_name_validate(pp->response_topic, strlen(pp->response_topic)) != KMQTT_OK)
        err = KMQTT_EINVAL;
    if (err == KMQTT_OK)
        err = add_text(l, KC_PUB_PROPS_MAX, n, KMQTT_PROP_RESPONSE_TOPIC, pp->response_topic);
    if (err == KMQTT_OK && pp->correlation_data != NULL) {
        kmqtt_prop_t *p = kc_prop_add(l, n, KMQTT_PROP_CORRELATION_DATA, 0);
        p->bin.ptr = pp->correlation_data;
        p->bin.len = pp->correlation_len;
    }
    if (err == KMQTT_OK)
        err = add_users(l, KC_PUB_PROPS_MAX, n, pp->user_props, pp->user_prop_count);
    return err;
}

kmqtt_err_t kc_v5_publish(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                          uint8_t qos, bool retain, const kmqtt_publish_props_t *p,
                          kmqtt_publish_result_t *res)
{
    kmqtt_prop_t list[KC_PUB_PROPS_MAX];
    kmqtt_props_t pl;
    size_t n = 0;
    kmqtt_err_t err;

    if (res != NULL)
        memset(res, 0, sizeof *res);
    if (c == NULL)
        return KMQTT_EINVAL;
    err = version_check(c, p);
    if (err == KMQTT_OK)
        err = publish_list(p, payload, len, list, &n);
    if (err != KMQTT_OK)
        return err;
    memset(&pl, 0, sizeof pl);
    pl.items = list;
    pl.count = n;
    /* Nothing asked for: the message may be queued like one without. */
    return kc_publish_props(c, topic, payload, len, qos, retain, n != 0 ? &pl : NULL, res);
}

/* ------------------------------------------- SUBSCRIBE, UNSUBSCRIBE, AUTH */

kmqtt_err_t kc_subscribe_prop_list(const kmqtt_client_t *c, const kmqtt_subscribe_props_t *p,
                                   kmqtt_prop_t *list, size_t cap, size_t *n)
{
    kmqtt_err_t err = version_check(c, p);

    if (err != KMQTT_OK || p == NULL)
        return err;
    if (p->subscription_id > KMQTT_VARINT_MAX)
        return KMQTT_EINVAL;
    if (p->subscription_id != 0) {
        if (*n >= cap)
            return KMQTT_ELIMIT;
        (void)kc_prop_add(list, n, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, p->subscription_id);
    }
    return add_users(list, cap, n, p->user_props, p->user_prop_count);
}

kmqtt_err_t kc_unsubscribe_prop_list(const kmqtt_client_t *c, const kmqtt_unsubscribe_props_t *p,
                                     kmqtt_prop_t *list, size_t cap, size_t *n)
{
    kmqtt_err_t err = version_check(c, p);

    if (err != KMQTT_OK || p == NULL)
        return err;
    return add_users(list, cap, n, p->user_props, p->user_prop_count);
}

/* A Reason String (may be NULL) and user properties: AUTH and DISCONNECT. */
static kmqtt_err_t add_reason_users(kmqtt_prop_t *list, size_t cap, size_t *n, const char *reason,
                                    const kmqtt_user_prop_t *u, size_t count)
{
    kmqtt_err_t err = add_text(list, cap, n, KMQTT_PROP_REASON_STRING, reason);

    return err != KMQTT_OK ? err : add_users(list, cap, n, u, count);
}

kmqtt_err_t kc_auth_prop_list(const kmqtt_client_t *c, const kmqtt_auth_props_t *p,
                              kmqtt_prop_t *list, size_t cap, size_t *n)
{
    kmqtt_err_t err = version_check(c, p);

    if (err != KMQTT_OK || p == NULL)
        return err;
    return add_reason_users(list, cap, n, p->reason_string, p->user_props, p->user_prop_count);
}

/* ------------------------------------------------------------ DISCONNECT */

/* Session Expiry, Reason String and the user properties. */
#define KC_DISC_PROPS_MAX (2u + KMQTT_USER_PROPS_MAX)

kmqtt_err_t kc_v5_disconnect(kmqtt_client_t *c, const kmqtt_disconnect_props_t *p)
{
    kmqtt_prop_t list[KC_DISC_PROPS_MAX];
    kmqtt_props_t props;
    size_t n = 0;
    kmqtt_err_t err;

    if (c == NULL)
        return KMQTT_EINVAL;
    err = version_check(c, p);
    if (err != KMQTT_OK)
        return err;
    if (p->set_session_expiry) {
        /* 3.14.2.2.2: no session expiry at DISCONNECT when CONNECT had 0. */
        if (p->session_expiry_s != 0 && c->opt.session_expiry_s == 0)
            return KMQTT_EINVAL;
        (void)kc_prop_add(list, &n, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, p->session_expiry_s);
    }
    err = add_reason_users(list, KC_DISC_PROPS_MAX, &n, p->reason_string, p->user_props,
                           p->user_prop_count);
    if (err != KMQTT_OK)
        return err;
    memset(&props, 0, sizeof props);
    props.items = list;
    props.count = n;
    return kc_disconnect(c, p->reason_code, n != 0 ? &props : NULL);
}

#endif /* KMQTT_CFG_V5 */
