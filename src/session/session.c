/*
 * The engine's setup and its byte seam: defaults, checking the caller's
 * configuration and buffers once at init (so nothing later can fail on
 * them), start and loss of a connection, bytes in and out, the event pump
 * and the getters.
 */
#include "session_internal.h"

void kmqtt_session_config_init(kmqtt_session_config_t *c)
{
    if (c == NULL)
        return;
    memset(c, 0, sizeof *c);
    c->version = KMQTT_V311;
    c->clean_session = true;
    c->keepalive_s = KMQTT_CFG_KEEPALIVE_S;
    c->ping_timeout_ms = KMQTT_CFG_PING_TIMEOUT_MS;
    c->max_inflight = KMQTT_CFG_MAX_INFLIGHT;
    c->pipeline = true;
}

/* A string of the CONNECT: at most 65,535 bytes of UTF-8 (MQTT-1.5.3-1). */
static bool bad_str(const char *str)
{
    if (str == NULL)
        return false;
    size_t n = strlen(str);
    return n > KMQTT_STRING_MAX || kmqtt_utf8_validate(str, n) != KMQTT_OK;
}

static bool bad_buf(const uint8_t *p, size_t n)
{
    return p == NULL || n < 16;
}

static uint32_t clamp(size_t n)
{
    return n > KMQTT_PACKET_MAX ? KMQTT_PACKET_MAX : (uint32_t)n;
}

static kmqtt_err_t check_config(const kmqtt_session_config_t *cfg)
{
    if (cfg->will_qos > 2 || (cfg->will_payload_len > 0 && cfg->will_payload == NULL) ||
        (cfg->version != KMQTT_V311 && cfg->version != KMQTT_V5))
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
        (ks_v5_check(cfg->connect_props, cfg->connect_props_len, KMQTT_CONNECT) != KMQTT_OK ||
         ks_v5_has(cfg->connect_props, cfg->connect_props_len, KMQTT_PROP_RECEIVE_MAXIMUM) ||
         ks_v5_has(cfg->connect_props, cfg->connect_props_len, KMQTT_PROP_MAXIMUM_PACKET_SIZE) ||
         ks_v5_has(cfg->connect_props, cfg->connect_props_len, KMQTT_PROP_TOPIC_ALIAS_MAXIMUM) ||
         (cfg->will_topic != NULL &&
          ks_v5_check(cfg->will_props, cfg->will_props_len, KMQTT_PROP_IN_WILL) != KMQTT_OK)))
        return KMQTT_EINVAL;
#endif
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_session_init(kmqtt_session_t *s, const kmqtt_session_config_t *cfg,
                               const kmqtt_session_buffers_t *b)
{
    if (s == NULL || cfg == NULL || b == NULL || bad_buf(b->rx, b->rx_size) ||
        bad_buf(b->tx, b->tx_size) || (b->store_size != 0 && bad_buf(b->store, b->store_size)) ||
        b->requests == NULL || b->max_requests == 0 || (b->inbound_max != 0 && b->inbound == NULL))
        return KMQTT_EINVAL;
#if KMQTT_CFG_QOS2
    /* Inbound QoS 2 needs somewhere to hold its ids; the bitmap is 3.1.1's. */
    if (b->inbound_max == 0 && (b->inbound_bits == NULL || cfg->version != KMQTT_V311))
        return KMQTT_EINVAL;
#endif
#if !KMQTT_CFG_INBOUND_BITS
    if (b->inbound_bits != NULL)
        return KMQTT_EUNSUPPORTED;
#endif
    kmqtt_err_t err = check_config(cfg);
    if (err != KMQTT_OK)
        return err;
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->rx = b->rx;
    s->rx_size = clamp(b->rx_size);
    s->tx = b->tx;
    s->tx_size = clamp(b->tx_size);
    s->store = b->store;
    s->store_size = b->store != NULL ? clamp(b->store_size) : 0u;
    s->inbound = b->inbound;
    s->inbound_max = b->inbound_max;
    s->inbound_bits = cfg->version == KMQTT_V311 ? b->inbound_bits : NULL;
    s->req = b->requests;
    s->max_requests = b->max_requests;
    ks_caps_default(s);
    memset(s->req, 0, s->max_requests * sizeof s->req[0]);
#if KMQTT_CFG_INBOUND_BITS
    if (s->inbound_bits != NULL)
        memset(s->inbound_bits, 0, KMQTT_SESSION_INBOUND_BITS_SIZE);
#endif
#if KS_ALIASES
    if (cfg->version == KMQTT_V5 && (b->alias_in_max > 0 || b->alias_out_max > 0)) {
        if (b->alias_topic_len == 0 || (b->alias_in_max > 0 && b->alias_in == NULL) ||
            (b->alias_out_max > 0 && b->alias_out == NULL))
            return KMQTT_EINVAL;
        s->alias_in = b->alias_in;
        s->alias_in_max = b->alias_in_max;
        s->alias_out = b->alias_out;
        s->alias_out_max = b->alias_out_max;
        s->alias_topic_len = b->alias_topic_len;
    }
#else
    if (b->alias_in_max > 0 || b->alias_out_max > 0)
        return KMQTT_EUNSUPPORTED;
#endif
#if KMQTT_CFG_STREAM
    s->max_in = cfg->max_packet_size > s->rx_size ? clamp(cfg->max_packet_size) : s->rx_size;
#else
    if (cfg->max_packet_size > s->rx_size)
        return KMQTT_EUNSUPPORTED;
#endif
    if (ks_connect_size(s) > s->tx_size)
        return KMQTT_ENOBUFS;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_session_start(kmqtt_session_t *s, uint32_t now_ms)
{
    if (s == NULL || s->cfg == NULL)
        return KMQTT_EINVAL;
    if (s->state != KMQTT_SESSION_IDLE)
        return KMQTT_ESTATE;
    /* A driver may name the session anew between connections (a 5.0
     * server-assigned client id): the CONNECT is measured again. */
    if (ks_connect_size(s) > s->tx_size)
        return KMQTT_ENOBUFS;
    s->rx_len = 0;
    s->rx_done = 0;
    /* Records still to report stay so; the last CONNACK's caps bound the
     * first flight. */
    s->flags &= KS_F_FRESH | KS_F_CAPS;
    s->resend_off = 0; /* every record is owed to the new connection */
    s->resent = 0;
#if KS_ALIASES
    ks_alias_reset(s); /* MQTT-3.3.2-7: aliases last one connection */
#endif
    ks_write_connect(s);
    s->state = KMQTT_SESSION_CONNECTING;
    s->last_tx_ms = now_ms;
    s->last_rx_ms = now_ms;
    ks_early_start(s);
    return KMQTT_OK;
}

void kmqtt_session_lost(kmqtt_session_t *s)
{
    if (s == NULL || s->cfg == NULL)
        return;
    s->state = KMQTT_SESSION_IDLE;
#if KMQTT_CFG_STREAM
    ks_stream_lost(s); /* a message in pieces is cut: ABORT owed */
    s->so_left = 0;    /* one being sent is cut: a QoS 1/2 one goes again */
    s->so_err = 0;
#endif
    s->rx_len = 0;
    s->rx_done = 0;
    s->tx_start = 0;
    s->tx_len = 0;
    s->flags &= KS_F_FRESH | KS_F_CAPS; /* records still to report stay so */
    s->early = 0;
    memset(s->req, 0, s->max_requests * sizeof s->req[0]);
}

/* Drops the packet the last event reported. */
static void drop_done(kmqtt_session_t *s)
{
    if (s->rx_done == 0)
        return;
    s->rx_len -= s->rx_done;
    memmove(s->rx, s->rx + s->rx_done, s->rx_len);
    s->rx_done = 0;
}

uint8_t *kmqtt_session_rx_space(kmqtt_session_t *s, size_t *space)
{
    drop_done(s);
    *space = s->rx_size - s->rx_len;
    return s->rx + s->rx_len;
}

void kmqtt_session_rx_commit(kmqtt_session_t *s, size_t n, uint32_t now_ms)
{
    if (n == 0)
        return;
    s->rx_len += (uint32_t)n;
    s->last_rx_ms = now_ms;
}

size_t kmqtt_session_tx_peek(const kmqtt_session_t *s, const uint8_t **buf)
{
    *buf = s->tx + s->tx_start;
    return s->tx_len - s->tx_start;
}

void kmqtt_session_tx_consume(kmqtt_session_t *s, size_t n, uint32_t now_ms)
{
    if (n == 0)
        return;
    s->tx_start += (uint32_t)n;
    s->last_tx_ms = now_ms;
    if (s->tx_start == s->tx_len) {
        s->tx_start = 0;
        s->tx_len = 0;
    }
#if KMQTT_CFG_STREAM
    ks_out_fill(s); /* the payload in pieces takes the room first */
#endif
    if (s->state == KMQTT_SESSION_CONNECTED)
        ks_ping_owed(s, now_ms);
    ks_resend(s); /* CONNECTED, or a pipelined first flight */
}

kmqtt_err_t kmqtt_session_next_event(kmqtt_session_t *s, uint32_t now_ms, kmqtt_session_event_t *ev)
{
    (void)now_ms;
    drop_done(s);
#if KMQTT_CFG_STREAM
    if (ks_stream_cut(s, ev))
        return KMQTT_OK;
    if (s->so_err != 0) { /* the reader failed: the packet was cut */
        kmqtt_err_t err = (kmqtt_err_t)s->so_err;
        s->so_err = 0;
        return err;
    }
#endif
    if (s->flags & KS_F_FRESH) {
        if (ks_store_fresh(s, ev))
            return KMQTT_OK;
        s->flags &= (uint8_t)~KS_F_FRESH;
    }
    if (s->state == KMQTT_SESSION_ENDED || s->state == KMQTT_SESSION_IDLE)
        return KMQTT_NEED_MORE;
    while (s->rx_len > 0 || KS_STREAMING(s)) {
#if KMQTT_CFG_STREAM
        int piece = ks_stream(s, ev);
        if (piece < 0)
            return s->state == KMQTT_SESSION_ENDED ? (kmqtt_err_t)piece
                                                   : ks_fail(s, (kmqtt_err_t)piece, 0);
        if (piece == KS_REPORT)
            return KMQTT_OK; /* rx_done set by ks_stream */
        if (piece == KS_STALL)
            break;
        if (piece == KS_DONE)
            continue;
#endif
        size_t len;
        kmqtt_err_t err = kmqtt_packet_frame(s->rx, s->rx_len, s->rx_size, &len);
        if (err == KMQTT_NEED_MORE)
            break;
        int r = err < 0 ? (int)err : ks_input(s, s->rx, len, ev);
        if (r < 0) /* ks_input may have failed it already, with its own reason */
            return s->state == KMQTT_SESSION_ENDED ? (kmqtt_err_t)r : ks_fail(s, (kmqtt_err_t)r, 0);
        if (r == KS_STALL)
            break;
        if (r == KS_REPORT) {
            s->rx_done = (uint32_t)len;
            return KMQTT_OK;
        }
        s->rx_len -= (uint32_t)len;
        memmove(s->rx, s->rx + len, s->rx_len);
    }
    return KMQTT_NEED_MORE;
}

kmqtt_session_state_t kmqtt_session_state(const kmqtt_session_t *s)
{
    return s != NULL ? (kmqtt_session_state_t)s->state : KMQTT_SESSION_IDLE;
}

size_t kmqtt_session_inflight(const kmqtt_session_t *s)
{
    return s != NULL ? s->inflight : 0u;
}

size_t kmqtt_session_store_used(const kmqtt_session_t *s)
{
    return s != NULL ? s->store_used : 0u;
}

size_t kmqtt_session_qos2_evictions(const kmqtt_session_t *s)
{
    return s != NULL ? s->qos2_evictions : 0u;
}

void kmqtt_session_server_caps(const kmqtt_session_t *s, kmqtt_session_caps_t *out)
{
    memset(out, 0, sizeof *out);
    out->receive_max = 65535u;
    out->max_qos = 2;
    out->retain_available = out->wildcard_available = true;
    out->subid_available = out->shared_available = true;
    if (s == NULL || s->cfg == NULL)
        return;
    out->keepalive_s = s->cfg->keepalive_s;
    if (!s->caps_seen)
        return; /* no CONNACK yet */
    out->seen = true;
    out->receive_max = s->server_receive_max;
    out->max_qos = s->server_max_qos;
    out->retain_available = !(s->flags & KS_F_NO_RETAIN);
    out->wildcard_available = !(s->flags & KS_F_NO_WILD);
    out->subid_available = !(s->flags & KS_F_NO_SUBID);
    out->shared_available = !(s->flags & KS_F_NO_SHARED);
    out->max_packet_size = s->server_max_packet;
    out->keepalive_s = s->keepalive_s;
}

uint8_t kmqtt_session_close_reason(const kmqtt_session_t *s)
{
    return s != NULL ? s->close_reason : 0u;
}

size_t kmqtt_session_unknown_acks(const kmqtt_session_t *s)
{
    return s != NULL ? s->unknown_acks : 0u;
}

size_t kmqtt_session_pubrel_failures(const kmqtt_session_t *s, uint8_t *last_reason)
{
    if (last_reason != NULL)
        *last_reason = 0;
#if KMQTT_CFG_V5
    if (s == NULL)
        return 0u;
    if (last_reason != NULL)
        *last_reason = s->pubrel_reason;
    return s->pubrel_failures;
#else
    (void)s;
    return 0u;
#endif
}
