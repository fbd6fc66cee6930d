/*
 * What the loop does with each event the session reports. Runs on the
 * turn holder with mx held; callbacks are called with mx released.
 */
#include "client_internal.h"

static kmqtt_err_t on_connack(kmqtt_client_t *c, const kc_event_t *ev)
{
    c->connack.reason_code = ev->reason_code;
    c->connack.session_present = ev->session_present;
    kc_v5_connack(c, ev); /* 5.0 properties and server capabilities */
    if (ev->reason_code == 0 && kmqtt_session_state(&c->s) == KMQTT_SESSION_CONNECTED) {
        c->state = KMQTT_STATE_CONNECTED;
        if (c->connect_result == KMQTT_NEED_MORE)
            c->connect_result = KMQTT_OK;
        /* The backoff is not reset here but when this connection is lost
         * after lasting reconnect_max_ms (kc_lost): a broker that accepts and
         * drops at once must not be hammered at the minimum interval. */
        c->connected_ms = kc_now();
        c->rc_armed = false;
        c->early_owed = false;
        kc_persist_caps(c); /* the next process's first flight (issue #18) */
        kc_resubscribe_connack(c, ev->session_present);
        kc_broadcast(c);
        kc_notify_state(c, KMQTT_STATE_CONNECTED, KMQTT_OK);
        return KMQTT_OK;
    }
    /* A refusal closes the network connection (MQTT-3.2.2-5): so do we. The
     * client was never connected: a failed attempt (retried after the
     * backoff if it was an automatic one). */
    kc_close(c, KMQTT_EREFUSED, KMQTT_STATE_DISCONNECTED);
    kc_attempt_failed(c, KMQTT_EREFUSED);
    return KMQTT_EREFUSED;
}

kmqtt_err_t kc_events(kmqtt_client_t *c, uint32_t gen)
{
    kc_event_t ev;
    kmqtt_err_t err;

    for (;;) {
        /* A callback may have disconnected (and even connected again). */
        if (gen != c->conn_gen || !c->open)
            return KMQTT_ENOTCONN;
        err = kc_session_event(c, &ev);
        if (err == KMQTT_NEED_MORE)
            return KMQTT_OK;
        if (err != KMQTT_OK) {
            /* 5.0: the session queued a DISCONNECT with the reason; it gets
             * one non-blocking chance to leave before the close. */
            if (kmqtt_session_state(&c->s) == KMQTT_SESSION_ENDED)
                (void)kc_flush(c);
            return kc_lost(c, err);
        }
        switch (ev.type) {
        case KC_EV_CONNACK:
            err = on_connack(c, &ev);
            if (err != KMQTT_OK)
                return err;
            break;
        case KC_EV_MESSAGE:
            /* A configured bound, not a protocol error: valid MQTT the
             * application said it will not take. 3.1.1 has no way to refuse
             * one message, so the connection ends. */
            if (ev.packet.u.publish.topic.len > c->opt.max_topic_len)
                return kc_lost(c, KMQTT_ELIMIT);
            kc_dispatch(c, &ev.packet.u.publish);
            break;
        case KC_EV_PIECE_BEGIN:
            if (ev.packet.u.publish.topic.len > c->opt.max_topic_len)
                return kc_lost(c, KMQTT_ELIMIT);
            kc_piece(c, &ev);
            break;
        case KC_EV_PIECE_DATA:
        case KC_EV_PIECE_END:
            kc_piece(c, &ev);
            break;
        case KC_EV_PUBLISH_DONE:
            kc_v5_publish_done(c, &ev); /* kc_publish_done + reason string */
            break;
        case KC_EV_SUBACK:
        case KC_EV_UNSUBACK:
            kc_request_answer(c, &ev);
            break;
        case KC_EV_DISCONNECT:
            /* 5.0: the server ends the connection and closes it next. The
             * application hears why before it hears of the loss. */
            kc_v5_server_disconnect(c, &ev);
            if (gen != c->conn_gen || !c->open)
                return KMQTT_ENOTCONN;
            return kc_lost(c, KMQTT_EDISCONNECTED);
        case KC_EV_AUTH:
            /* 5.0 enhanced authentication (client_auth.c). */
            err = kc_v5_auth(c, &ev);
            if (gen != c->conn_gen || !c->open)
                return KMQTT_ENOTCONN;
            if (err != KMQTT_OK)
                return kc_lost(c, err);
            break;
        default:
            break;
        }
    }
}
