/*
 * MQTT 5.0 enhanced authentication: the server's AUTH packets are answered
 * from the application's on_auth callback (at connect, and during a
 * re-authentication the application starts with kmqtt_reauthenticate).
 * The answer's data lives on the loop thread's stack (KMQTT_AUTH_DATA_MAX)
 * until the session has copied it into the send buffer, and is wiped
 * before that buffer goes out of scope.
 */
#include "client_internal.h"

#if KMQTT_CFG_V5

#define KC_AUTH_CONTINUE 0x18u
#define KC_AUTH_REAUTH   0x19u

/* AUTH with the CONNECT's method and data, and ap's Reason String and
 * User Properties (may be NULL); mx held. */
static kmqtt_err_t send_auth(kmqtt_client_t *c, uint8_t reason, const void *data, size_t len,
                             const kmqtt_auth_props_t *ap)
{
    kmqtt_prop_t p[KC_AUTH_PROPS_MAX];
    kmqtt_props_t props;
    size_t n = 1;
    kmqtt_err_t err;

    p[0] = *c->v5.auth_method;
    if (data != NULL) {
        memset(&p[1], 0, sizeof p[1]);
        p[1].id = KMQTT_PROP_AUTHENTICATION_DATA;
        p[1].bin.ptr = data;
        p[1].bin.len = len;
        n = 2;
    }
    err = kc_auth_prop_list(c, ap, p, KC_AUTH_PROPS_MAX, &n);
    if (err != KMQTT_OK)
        return err;
    memset(&props, 0, sizeof props);
    props.items = p;
    props.count = n;
    err = kc_session_auth(c, reason, &props);
    if (err == KMQTT_OK)
        kc_try_flush(c);
    return err;
}

/* A server AUTH; the turn and mx held (released for the callback). A
 * non-OK return ends the connection. */
kmqtt_err_t kc_v5_auth(kmqtt_client_t *c, const kc_event_t *ev)
{
    kmqtt_auth_fn fn = c->opt.on_auth;
    uint8_t out[KMQTT_AUTH_DATA_MAX];
    kmqtt_bin_t data;
    kmqtt_prop_t p;
    size_t out_len = 0;
    kmqtt_err_t err;

    memset(&data, 0, sizeof data);
    if (kmqtt_props_find(&ev->packet.u.disconnect.props, KMQTT_PROP_AUTHENTICATION_DATA, &p))
        data = p.bin;
    if (ev->reason_code == 0) {
        /* A re-authentication succeeded. */
        c->v5.reauth_done = true;
        c->v5.reauth_err = KMQTT_OK;
        kc_broadcast(c);
    } else if (fn == NULL || c->v5.auth_method == NULL) {
        return KMQTT_EUNSUPPORTED; /* the server wants a step nobody can answer */
    }
    if (fn == NULL)
        return KMQTT_OK;
    /* kmqtt_client_reason_string works during the callback, as in
     * on_publish_done. */
    c->v5.cb_reason_set =
        kmqtt_props_find(&ev->packet.u.disconnect.props, KMQTT_PROP_REASON_STRING, &p);
    if (c->v5.cb_reason_set)
        c->v5.cb_reason = p.str;
    kc_unlock(c);
    err = fn(c, ev->reason_code, &data, out, sizeof out, &out_len, c->opt.ctx);
    kc_lock(c);
    c->v5.cb_reason_set = false;
    if (ev->reason_code == 0)
        err = KMQTT_OK; /* a success needs no answer */
    else if (err == KMQTT_OK)
        err = out_len > sizeof out ? KMQTT_EINVAL
                                   : send_auth(c, KC_AUTH_CONTINUE, out, out_len, NULL);
    /* The answer is a credential; the callback may have used all of out. */
    kmqtt_mem_wipe(out, sizeof out);
    return err;
}

kmqtt_err_t kmqtt_reauthenticate(kmqtt_client_t *c, const void *data, size_t len,
                                 uint32_t timeout_ms, const kmqtt_auth_props_t *props)
{
    uint64_t deadline = kc_deadline(timeout_ms);
    uint32_t cancel_seq, gen;
    kmqtt_err_t err;

    if (c == NULL || (data == NULL && len != 0) || len > KMQTT_STRING_MAX)
        return KMQTT_EINVAL;
    kc_lock(c);
    if (c->opt.version != KMQTT_V5) {
        kc_unlock(c);
        return KMQTT_ENEEDV5;
    }
    if (c->v5.auth_method == NULL || c->v5.reauth_busy) {
        kc_unlock(c);
        return KMQTT_ESTATE;
    }
    if (c->state != KMQTT_STATE_CONNECTED || !c->open) {
        kc_unlock(c);
        return KMQTT_ENOTCONN;
    }
    err = send_auth(c, KC_AUTH_REAUTH, data, len, props);
    if (err != KMQTT_OK) {
        kc_unlock(c);
        return err;
    }
    c->v5.reauth_busy = true;
    c->v5.reauth_done = false;
    cancel_seq = c->cancel_seq;
    gen = c->conn_gen;
    for (;;) {
        if (c->v5.reauth_done) {
            err = c->v5.reauth_err;
            break;
        }
        /* A refusal is a server DISCONNECT: this connection is over even
         * if automatic reconnect makes another. */
        if (c->conn_gen != gen) {
            err = c->last_err != KMQTT_OK ? c->last_err : KMQTT_ECLOSED;
            break;
        }
        err = kc_conn_err(c, cancel_seq);
        if (err != KMQTT_NEED_MORE)
            break;
        if (kc_remaining(deadline) == 0) {
            err = KMQTT_ETIMEDOUT;
            break;
        }
        err = kc_wait_step(c, kc_remaining(deadline));
        if (err != KMQTT_OK)
            break;
    }
    c->v5.reauth_busy = false;
    c->v5.reauth_done = false;
    kc_unlock(c);
    return err;
}

#else /* !KMQTT_CFG_V5: every client speaks 3.1.1 */

kmqtt_err_t kmqtt_reauthenticate(kmqtt_client_t *c, const void *data, size_t len,
                                 uint32_t timeout_ms, const kmqtt_auth_props_t *props)
{
    (void)data;
    (void)len;
    (void)timeout_ms;
    (void)props;
    return c == NULL ? KMQTT_EINVAL : KMQTT_ENEEDV5;
}

#endif /* KMQTT_CFG_V5 */
