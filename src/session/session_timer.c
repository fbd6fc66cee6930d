/*
 * Time: keepalive and the PINGRESP deadline. now_ms is a free-running
 * counter that may wrap, so times are compared by their difference.
 *
 * Decision 7 (docs/architecture.md): a PINGREQ goes when nothing was sent
 * for the keepalive OR nothing was received for it. MQTT-3.1.2-23 asks only
 * for the first; a PINGREQ may be sent at any time (3.1.2.10), and the
 * second notices a dead broker within keepalive + ping timeout even while
 * the application publishes QoS 0 without pause.
 */
#include "session_internal.h"

static uint32_t left(uint32_t now, uint32_t at)
{
    return (int32_t)(now - at) >= 0 ? 0u : at - now;
}

static uint32_t ping_timeout(const kmqtt_session_t *s)
{
    uint32_t t = s->cfg->ping_timeout_ms;
    return t != 0 ? t : s->keepalive_s * 500u;
}

kmqtt_err_t kmqtt_session_tick(kmqtt_session_t *s, uint32_t now_ms, uint32_t *next_ms)
{
    uint32_t next = UINT32_MAX;
    if (s->state == KMQTT_SESSION_CONNECTED) {
        ks_resend(s);
        if (s->keepalive_s != 0) {
            uint32_t ka = s->keepalive_s * 1000u;
            if (s->flags & KS_F_PING) {
                next = left(now_ms, s->ping_sent_ms + ping_timeout(s));
                if (next == 0) {
                    s->state = KMQTT_SESSION_ENDED;
                    return KMQTT_EKEEPALIVE;
                }
            } else {
                uint32_t tx = left(now_ms, s->last_tx_ms + ka);
                uint32_t rx = left(now_ms, s->last_rx_ms + ka);
                next = tx < rx ? tx : rx;
                if (next == 0) {
                    /* A tx too full for two bytes has not moved for a whole
                     * keepalive: the PINGRESP deadline ends the connection
                     * all the same. */
                    (void)ks_send_ack(s, 0xC0u, 0, 0);
                    s->flags |= KS_F_PING;
                    s->ping_sent_ms = now_ms;
                    next = ping_timeout(s);
                }
            }
        }
    }
    if (next_ms != NULL)
        *next_ms = next;
    return KMQTT_OK;
}
