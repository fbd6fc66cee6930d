/*
 * The nano driver's setup and its thin calls: defaults, init (the engine
 * checks the configuration and buffers; the driver its transport), connect,
 * the synchronous disconnect, the requests (the engine's, with the time
 * noted) and the getters.
 */
#include "nano_internal.h"

void kmqtt_nano_config_init(kmqtt_nano_config_t *c)
{
    if (c == NULL)
        return;
    memset(c, 0, sizeof *c);
    kmqtt_session_config_init(&c->mqtt);
    c->connect_timeout_ms = KMQTT_CFG_CONNECT_TIMEOUT_MS;
    c->reconnect_min_ms = KMQTT_CFG_RECONNECT_MIN_MS;
    c->reconnect_max_ms = KMQTT_CFG_RECONNECT_MAX_MS;
}

kmqtt_err_t kmqtt_nano_init(kmqtt_nano_t *c, const kmqtt_nano_config_t *cfg,
                            const kmqtt_nano_buffers_t *b)
{
    if (c == NULL || cfg == NULL || b == NULL || cfg->transport == NULL || cfg->host == NULL)
        return KMQTT_EINVAL;
    memset(c, 0, sizeof *c);
    kmqtt_session_buffers_t sb;
    memset(&sb, 0, sizeof sb);
    sb.rx = b->rx;
    sb.rx_size = b->rx_size;
    sb.tx = b->tx;
    sb.tx_size = b->tx_size;
    sb.store = b->store;
    sb.store_size = b->store_size;
#if KMQTT_CFG_QOS2
    sb.inbound = c->inbound;
    sb.inbound_max = KMQTT_NANO_INBOUND_QOS2;
#endif
    sb.requests = c->req;
    sb.max_requests = KMQTT_NANO_MAX_REQUESTS;
    kmqtt_err_t err = kmqtt_session_init(&c->s, &cfg->mqtt, &sb);
    if (err != KMQTT_OK)
        return err;
    c->cfg = cfg;
    c->backoff_ms = cfg->reconnect_min_ms;
    /* FNV-1a of the client id when the caller gave no seed: a per-device
     * value without asking for one. xorshift32 must never hold 0. */
    uint32_t seed = cfg->random_seed;
    if (seed == 0) {
        seed = 2166136261u;
        for (const char *p = cfg->mqtt.client_id; p != NULL && *p != '\0'; p++)
            seed = (seed ^ (uint8_t)*p) * 16777619u;
    }
    c->rng = seed != 0 ? seed : 1u;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_nano_connect(kmqtt_nano_t *c, uint32_t now_ms)
{
    if (c == NULL || c->cfg == NULL)
        return KMQTT_EINVAL;
    if (c->state != KMQTT_NANO_IDLE)
        return KMQTT_ESTATE;
    c->now_ms = now_ms;
    c->backoff_ms = c->cfg->reconnect_min_ms;
    return nano_attempt(c);
}

kmqtt_err_t kmqtt_nano_disconnect(kmqtt_nano_t *c, uint8_t reason, uint32_t timeout_ms)
{
    if (c == NULL || c->cfg == NULL)
        return KMQTT_EINVAL;
    if (c->state < KMQTT_NANO_CONNECTING) {
        c->state = KMQTT_NANO_IDLE;
        return KMQTT_OK;
    }
    const kmqtt_transport_t *t = c->cfg->transport;
    const uint8_t *buf;
    kmqtt_err_t err = KMQTT_OK;
    bool queued = false;
    for (;;) {
        if (!queued)
            queued = kmqtt_session_disconnect(&c->s, reason, NULL, 0) != KMQTT_ENOBUFS;
        size_t before = kmqtt_session_tx_peek(&c->s, &buf);
        if (nano_flush(c) != KMQTT_OK) {
            err = KMQTT_ETIMEDOUT;
            break;
        }
        size_t after = kmqtt_session_tx_peek(&c->s, &buf);
        if (queued && after == 0)
            break;
        /* Without a clock, a round that moved nothing costs 1 ms of the
         * allowance, so a transport that keeps saying "writable" and takes
         * nothing cannot hold us here. */
        if (after == before)
            timeout_ms = timeout_ms > 0 ? timeout_ms - 1u : 0u;
        unsigned ready = 0;
        if (timeout_ms == 0 || t->wait(t->ctx, KMQTT_WAIT_WRITE, timeout_ms, &ready) != KMQTT_OK ||
            !(ready & KMQTT_WAIT_WRITE)) {
            err = KMQTT_ETIMEDOUT;
            break;
        }
    }
    nano_close(c);
    c->state = KMQTT_NANO_IDLE;
    return err;
}

kmqtt_err_t kmqtt_nano_publish(kmqtt_nano_t *c, const kmqtt_nano_msg_t *msg, uint32_t now_ms,
                               uint16_t *packet_id)
{
    (void)now_ms;
    return c != NULL ? kmqtt_session_publish(&c->s, msg, packet_id) : KMQTT_EINVAL;
}

kmqtt_err_t kmqtt_nano_subscribe(kmqtt_nano_t *c, const kmqtt_nano_sub_t *subs, size_t count,
                                 const uint8_t *props, size_t props_len, uint32_t now_ms,
                                 uint16_t *packet_id)
{
    (void)now_ms;
    return c != NULL ? kmqtt_session_subscribe(&c->s, subs, count, props, props_len, packet_id)
                     : KMQTT_EINVAL;
}

kmqtt_err_t kmqtt_nano_unsubscribe(kmqtt_nano_t *c, const char *const *filters, size_t count,
                                   uint32_t now_ms, uint16_t *packet_id)
{
    (void)now_ms;
    return c != NULL ? kmqtt_session_unsubscribe(&c->s, filters, count, NULL, 0, packet_id)
                     : KMQTT_EINVAL;
}

kmqtt_err_t kmqtt_nano_auth(kmqtt_nano_t *c, uint8_t reason, const uint8_t *props,
                            size_t props_len, uint32_t now_ms)
{
    (void)now_ms;
    return c != NULL ? kmqtt_session_auth(&c->s, reason, props, props_len) : KMQTT_EINVAL;
}

bool kmqtt_nano_want_write(const kmqtt_nano_t *c)
{
    const uint8_t *buf;
    return c != NULL && c->cfg != NULL && kmqtt_session_tx_peek(&c->s, &buf) != 0;
}

kmqtt_nano_state_t kmqtt_nano_state(const kmqtt_nano_t *c)
{
    return c != NULL ? (kmqtt_nano_state_t)c->state : KMQTT_NANO_IDLE;
}

size_t kmqtt_nano_inflight(const kmqtt_nano_t *c)
{
    return c != NULL ? kmqtt_session_inflight(&c->s) : 0u;
}

size_t kmqtt_nano_store_used(const kmqtt_nano_t *c)
{
    return c != NULL ? kmqtt_session_store_used(&c->s) : 0u;
}

size_t kmqtt_nano_qos2_evictions(const kmqtt_nano_t *c)
{
    return c != NULL ? kmqtt_session_qos2_evictions(&c->s) : 0u;
}

size_t kmqtt_nano_unknown_acks(const kmqtt_nano_t *c)
{
    return c != NULL ? kmqtt_session_unknown_acks(&c->s) : 0u;
}

void kmqtt_nano_server_caps(const kmqtt_nano_t *c, kmqtt_session_caps_t *out)
{
    kmqtt_session_server_caps(c != NULL && c->cfg != NULL ? &c->s : NULL, out);
}

kmqtt_err_t kmqtt_nano_restore_caps(kmqtt_nano_t *c, const kmqtt_session_caps_t *caps)
{
    return c != NULL && c->cfg != NULL ? kmqtt_session_restore_caps(&c->s, caps) : KMQTT_EINVAL;
}
