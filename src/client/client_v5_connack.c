/*
 * The server's CONNACK: what kmqtt_client_connack reports (its strings
 * copied into a fixed block made at create, KMQTT_CONNACK_STR_MAX), a
 * server-assigned client id kept for later connects. The capabilities it
 * announced are the engine's to enforce (session.h); they are only reported
 * here.
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

void kc_v5_connack(kmqtt_client_t *c, const kc_event_t *ev)
{
    kmqtt_connack_info_t *ci = &c->connack;
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;
    kmqtt_str_t ref = {NULL, 0};
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
            ref = p.str;
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
    if (ev->reason_code < 0x80)
        kc_redirect_accepted(c);
    else
        kc_redirect_note(c, ev->reason_code, &ref);
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
