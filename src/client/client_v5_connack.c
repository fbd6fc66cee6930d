/*
 * The server's CONNACK: what kmqtt_client_connack reports (its strings
 * copied into a fixed block made at create, KMQTT_CONNACK_STR_MAX), a
 * server-assigned client id kept for later connects, and the capabilities
 * it announced, checked before a publish or subscribe is sent.
 */
#include "client_internal.h"

#if KMQTT_CFG_V5

/* Copies a string property into the CONNACK strings block. */
static const char *keep(kmqtt_client_t *c, size_t *used, const kmqtt_prop_t *p)
{
    char *dst;

    if (*used + p->str.len + 1 > KMQTT_CONNACK_STR_MAX) {
        c->connack.strings_dropped = true;
        return NULL;
    }
    dst = c->v5.connack_str + *used;
    memcpy(dst, p->str.ptr, p->str.len);
    dst[p->str.len] = '\0';
    *used += p->str.len + 1;
    return dst;
}

/* Keeps an assigned client id for the next connects, or notes that it
 * cannot be (kc_v5_connect_check then refuses them). */
static void keep_assigned_id(kmqtt_client_t *c, const kmqtt_prop_t *p)
{
    if (c->v5.assigned_id == NULL)
        return;
    c->v5.assigned_too_long = p->str.len > KMQTT_ASSIGNED_ID_MAX;
    if (c->v5.assigned_too_long) {
        c->v5.assigned_len = 0;
        return;
    }
    memcpy(c->v5.assigned_id, p->str.ptr, p->str.len);
    c->v5.assigned_id[p->str.len] = '\0';
    c->v5.assigned_len = p->str.len;
}

/* Before a connect: a session named by an assigned id too long to keep
 * cannot be resumed, and asking for a new id would silently start another
 * session; the attempt fails instead. mx held. */
kmqtt_err_t kc_v5_connect_check(const kmqtt_client_t *c)
{
    return c->v5.assigned_too_long ? KMQTT_ELIMIT : KMQTT_OK;
}

void kc_v5_connack(kmqtt_client_t *c, const legacy_event_t *ev)
{
    kmqtt_connack_info_t *ci = &c->connack;
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;
    size_t used = 0;

    c->v5.have_connack = true;
    if (c->opt.version != KMQTT_V5)
        return;
    /* Absent capabilities are the spec's defaults. */
    ci->receive_maximum = 65535;
    ci->maximum_qos = 2;
    ci->retain_available = true;
    ci->wildcard_available = true;
    ci->subscription_id_available = true;
    ci->shared_available = true;
    kmqtt_prop_iter_init(&it, &ev->packet.u.connack.props);
    while (kmqtt_prop_iter_next(&it, &p)) {
        switch (p.id) {
        case KMQTT_PROP_REASON_STRING:
            ci->reason_string = keep(c, &used, &p);
            break;
        case KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER:
            ci->assigned_client_id = keep(c, &used, &p);
            if (ev->reason_code < 0x80)
                keep_assigned_id(c, &p);
            break;
        case KMQTT_PROP_RESPONSE_INFORMATION:
            ci->response_information = keep(c, &used, &p);
            break;
        case KMQTT_PROP_SERVER_REFERENCE:
            ci->server_reference = keep(c, &used, &p);
            break;
        case KMQTT_PROP_SERVER_KEEP_ALIVE:
            ci->server_keepalive_s = (uint16_t)p.num;
            break;
        case KMQTT_PROP_SESSION_EXPIRY_INTERVAL:
            ci->has_session_expiry = true;
            ci->session_expiry_s = p.num;
            break;
        case KMQTT_PROP_RECEIVE_MAXIMUM:
            ci->receive_maximum = (uint16_t)p.num;
            break;
        case KMQTT_PROP_MAXIMUM_QOS:
            ci->maximum_qos = (uint8_t)p.num;
            break;
        case KMQTT_PROP_RETAIN_AVAILABLE:
            ci->retain_available = p.num != 0;
            break;
        case KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
            ci->wildcard_available = p.num != 0;
            break;
        case KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
            ci->subscription_id_available = p.num != 0;
            break;
        case KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
            ci->shared_available = p.num != 0;
            break;
        case KMQTT_PROP_MAXIMUM_PACKET_SIZE:
            ci->maximum_packet_size = p.num;
            break;
        case KMQTT_PROP_TOPIC_ALIAS_MAXIMUM:
            ci->topic_alias_maximum = (uint16_t)p.num;
            break;
        default:
            break;
        }
    }
    c->v5.max_qos = ci->maximum_qos;
    c->v5.retain_ok = ci->retain_available;
    c->v5.wildcard_ok = ci->wildcard_available;
    c->v5.subid_ok = ci->subscription_id_available;
    c->v5.shared_ok = ci->shared_available;
}

/* ---------------------------------------------- checked before sending */

kmqtt_err_t kc_v5_publish_check(const kmqtt_client_t *c, uint8_t qos, bool retain)
{
    if (c->opt.version != KMQTT_V5 || !c->v5.have_connack)
        return KMQTT_OK;
    if (qos > c->v5.max_qos)
        return KMQTT_EUNSUPPORTED; /* MQTT-3.2.2-11 */
    if (retain && !c->v5.retain_ok)
        return KMQTT_EUNSUPPORTED; /* MQTT-3.2.2-14 */
    return KMQTT_OK;
}

/* What the server said it does not support is not sent: Wildcard
 * Subscription, Subscription Identifiers and Shared Subscription Available
 * 0 (3.2.2.3.11 to 3.2.2.3.13). mx held. */
kmqtt_err_t kc_v5_subscribe_check(const kmqtt_client_t *c, const kmqtt_sub_request_t *subs,
                                  size_t n, uint32_t subid)
{
    size_t i;

    if (c->opt.version != KMQTT_V5 || !c->v5.have_connack)
        return KMQTT_OK;
    if (subid != 0 && !c->v5.subid_ok)
        return KMQTT_EUNSUPPORTED;
    for (i = 0; i < n; i++) {
        const char *f = subs[i].filter;
        if (strncmp(f, "$share/", 7) == 0 && !c->v5.shared_ok)
            return KMQTT_EUNSUPPORTED;
        if ((strchr(f, '+') != NULL || strchr(f, '#') != NULL) && !c->v5.wildcard_ok)
            return KMQTT_EUNSUPPORTED;
    }
    return KMQTT_OK;
}

#endif /* KMQTT_CFG_V5 */

kmqtt_err_t kmqtt_client_connack(kmqtt_client_t *c, kmqtt_connack_info_t *info)
{
    kmqtt_err_t err = KMQTT_ENOTCONN;

    if (info != NULL)
        memset(info, 0, sizeof *info);
    if (c == NULL || info == NULL)
        return KMQTT_EINVAL;
    kc_lock(c);
    if (c->v5.have_connack) {
        *info = c->connack;
        err = KMQTT_OK;
    }
    kc_unlock(c);
    return err;
}
