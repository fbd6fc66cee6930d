/*
 * The nano client's setup and teardown: defaults, checking the caller's
 * configuration and buffers once at init (so nothing later can fail on
 * them), connect, the synchronous disconnect, and the getters.
 */
#include "nano_internal.h"

void kmqtt_nano_config_init(kmqtt_nano_config_t *c)
{
    if (c == NULL)
        return;
    memset(c, 0, sizeof *c);
    c->connect_timeout_ms = 10000;
    c->version = KMQTT_V311;
    c->clean_session = true;
    c->keepalive_s = 60;
    c->reconnect_min_ms = 1000;
    c->reconnect_max_ms = 60000;
    c->ping_timeout_ms = 10000;
    c->max_inflight = 8;
}

/* A string of the CONNECT: at most 65,535 bytes of UTF-8 (MQTT-1.5.3-1). */
static bool bad_str(const char *s)
{
    if (s == NULL)
        return false;
    size_t n = strlen(s);
    return n > KMQTT_STRING_MAX || kmqtt_utf8_validate(s, n) != KMQTT_OK;
}

static bool bad_buf(const uint8_t *p, size_t n)
{
    return p == NULL || n < 16;
}

static uint32_t clamp(size_t n)
{
    return n > KMQTT_PACKET_MAX ? KMQTT_PACKET_MAX : (uint32_t)n;
}

kmqtt_err_t kmqtt_nano_init(kmqtt_nano_t *c, const kmqtt_nano_config_t *cfg,
                            const kmqtt_nano_buffers_t *b)
{
    if (c == NULL || cfg == NULL || b == NULL || cfg->transport == NULL || cfg->host == NULL ||
        cfg->will_qos > 2 || (cfg->will_payload_len > 0 && cfg->will_payload == NULL) ||
        bad_buf(b->rx, b->rx_size) || bad_buf(b->tx, b->tx_size) ||
        (b->store_size != 0 && bad_buf(b->store, b->store_size)))
        return KMQTT_EINVAL;
    if (cfg->version != KMQTT_V311 && cfg->version != KMQTT_V5)
        return KMQTT_EINVAL;
#if !KMQTT_CFG_V5
    if (cfg->version == KMQTT_V5)
        return KMQTT_EUNSUPPORTED;
#endif
    /* An empty client id asks the server for one, which it grants only to a
     * clean session (MQTT-3.1.3-7). 3.1.1 has no password without a user
     * name (MQTT-3.1.2-22). */
    if (bad_str(cfg->client_id) || bad_str(cfg->username) ||
        ((cfg->client_id == NULL || cfg->client_id[0] == '\0') && !cfg->clean_session) ||
        (cfg->password != NULL && cfg->username == NULL && cfg->version == KMQTT_V311) ||
        (cfg->will_topic != NULL &&
         kmqtt_topic_name_validate(cfg->will_topic, strlen(cfg->will_topic)) != KMQTT_OK))
        return KMQTT_EINVAL;
#if KMQTT_CFG_V5
    if (cfg->version == KMQTT_V5 &&
        (nano_v5_check(cfg->connect_props, cfg->connect_props_len, KMQTT_CONNECT) != KMQTT_OK ||
         nano_v5_has(cfg->connect_props, cfg->connect_props_len, KMQTT_PROP_RECEIVE_MAXIMUM) ||
         nano_v5_has(cfg->connect_props, cfg->connect_props_len, KMQTT_PROP_MAXIMUM_PACKET_SIZE) ||
         nano_v5_has(cfg->connect_props, cfg->connect_props_len, KMQTT_PROP_TOPIC_ALIAS_MAXIMUM) ||
         (cfg->will_topic != NULL &&
          nano_v5_check(cfg->will_props, cfg->will_props_len, KMQTT_PROP_IN_WILL) != KMQTT_OK)))
        return KMQTT_EINVAL;
#endif
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->rx = b->rx;
    c->rx_size = clamp(b->rx_size);
    c->tx = b->tx;
    c->tx_size = clamp(b->tx_size);
    c->store = b->store;
    c->store_size = b->store != NULL ? clamp(b->store_size) : 0u;
    c->backoff_ms = cfg->reconnect_min_ms;
    if (nano_connect_size(c) > c->tx_size)
        return KMQTT_ENOBUFS;
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
    kmqtt_err_t err = KMQTT_OK;
    bool queued = false;
    for (;;) {
        if (!queued)
            queued = nano_send_ack(c, 0xE0u, 0, reason);
        uint32_t before = c->tx_len - c->tx_start;
        if (nano_flush(c) != KMQTT_OK) {
            err = KMQTT_ETIMEDOUT;
            break;
        }
        if (queued && c->tx_len == 0)
            break;
        /* Without a clock, a round that moved nothing costs 1 ms of the
         * allowance, so a transport that keeps saying "writable" and takes
         * nothing cannot hold us here. */
        if (c->tx_len - c->tx_start == before)
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

bool kmqtt_nano_want_write(const kmqtt_nano_t *c)
{
    return c != NULL && c->tx_len > c->tx_start;
}

kmqtt_nano_state_t kmqtt_nano_state(const kmqtt_nano_t *c)
{
    return c != NULL ? (kmqtt_nano_state_t)c->state : KMQTT_NANO_IDLE;
}

size_t kmqtt_nano_inflight(const kmqtt_nano_t *c)
{
    return c != NULL ? c->inflight : 0u;
}

size_t kmqtt_nano_store_used(const kmqtt_nano_t *c)
{
    return c != NULL ? c->store_used : 0u;
}

size_t kmqtt_nano_qos2_evictions(const kmqtt_nano_t *c)
{
    return c != NULL ? c->qos2_evictions : 0u;
}
