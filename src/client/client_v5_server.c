/*
 * What the server says besides CONNACK, as 5.0 lets it: a server
 * DISCONNECT (reported before the lost state), the Reason String of a
 * PUBACK / PUBREC / PUBCOMP (readable during on_publish_done), of a SUBACK
 * or UNSUBACK (copied into the caller's result), and PUBRELs that report a
 * failure.
 */
#include "client_internal.h"

#if KMQTT_CFG_V5

/* Reported before the loss (the caller reports CONNECTION_LOST next), with
 * mx released for the callback; the turn is held, so the views stay. */
void kc_v5_server_disconnect(kmqtt_client_t *c, const kc_event_t *ev)
{
    kmqtt_disconnect_fn fn = c->opt.on_disconnect;
    kmqtt_disconnect_info_t info;
    kmqtt_prop_t p;

    if (kmqtt_props_find(&ev->packet.u.disconnect.props, KMQTT_PROP_SERVER_REFERENCE, &p))
        kc_redirect_note(c, ev->packet.u.disconnect.reason_code, &p.str);
    if (fn == NULL)
        return;
    memset(&info, 0, sizeof info);
    info.reason_code = ev->packet.u.disconnect.reason_code;
    if (kmqtt_props_find(&ev->packet.u.disconnect.props, KMQTT_PROP_REASON_STRING, &p))
        info.reason_string = p.str;
    if (kmqtt_props_find(&ev->packet.u.disconnect.props, KMQTT_PROP_SERVER_REFERENCE, &p))
        info.server_reference = p.str;
    kc_unlock(c);
    fn(c, &info, c->opt.ctx);
    kc_lock(c);
}

void kc_v5_publish_done(kmqtt_client_t *c, const kc_event_t *ev)
{
    kmqtt_prop_t p;
    kmqtt_packet_type_t t = ev->packet.type;
    bool is_ack = t == KMQTT_PUBACK || t == KMQTT_PUBREC || t == KMQTT_PUBCOMP;

    c->v5.cb_reason_set = is_ack && ev->err == KMQTT_OK &&
                          kmqtt_props_find(&ev->packet.u.ack.props, KMQTT_PROP_REASON_STRING, &p);
    if (c->v5.cb_reason_set)
        c->v5.cb_reason = p.str;
    kc_publish_done(c, ev->packet_id, ev->err, ev->reason_code);
    c->v5.cb_reason_set = false;
}

/* The Reason String and User Property count of a SUBACK / UNSUBACK into
 * the caller's result (cleared before the request went); the string only
 * if it fits whole. mx held. */
void kc_v5_ack_info(kmqtt_ack_result_t *res, const kmqtt_props_t *props)
{
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;

    if (res == NULL)
        return;
    kmqtt_prop_iter_init(&it, props);
    while (kmqtt_prop_iter_next(&it, &p)) {
        if (p.id == KMQTT_PROP_USER_PROPERTY) {
            res->user_prop_count++;
        } else if (p.id == KMQTT_PROP_REASON_STRING) {
            res->has_reason = true;
            res->reason_len = p.str.len;
            if (p.str.len < sizeof res->reason_string) {
                memcpy(res->reason_string, p.str.ptr, p.str.len);
                res->reason_string[p.str.len] = '\0';
            }
        }
    }
}

uint32_t kmqtt_client_pubrel_failures(kmqtt_client_t *c, uint8_t *last_reason)
{
    uint32_t n;

    if (last_reason != NULL)
        *last_reason = 0;
    if (c == NULL)
        return 0;
    kc_lock(c);
    n = (uint32_t)kmqtt_session_pubrel_failures(&c->s, last_reason);
    kc_unlock(c);
    return n;
}

bool kmqtt_client_reason_string(kmqtt_client_t *c, kmqtt_str_t *out)
{
    /* Read without the lock: set and cleared by the loop's thread around
     * the callback, and only that thread may ask. */
    if (c == NULL || out == NULL || !c->v5.cb_reason_set)
        return false;
    *out = c->v5.cb_reason;
    return true;
}

#else /* !KMQTT_CFG_V5: a 3.1.1 server says none of this */

bool kmqtt_client_reason_string(kmqtt_client_t *c, kmqtt_str_t *out)
{
    (void)c;
    (void)out;
    return false;
}

#endif /* KMQTT_CFG_V5 */
