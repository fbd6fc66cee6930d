/*
 * Session set-up, the storage layout, and the connection's life: start,
 * disconnect, loss and clearing.
 */
#include "legacy_session_internal.h"

/* Every region starts on an 8-byte boundary so the records (which hold a
 * uint64_t) and the id table stay aligned whatever the sizes are. */
#define KLS_ALIGN 8u

typedef struct layout {
    size_t inflight, pending, ids, rx, tx, store, alias_in, alias_out, total;
} layout_t;

/* Adds n bytes at *at (rounded up to KLS_ALIGN); false on overflow. */
static bool carve(size_t *at, size_t n, size_t *start)
{
    size_t rounded;
    if (n > (size_t)-1 - (KLS_ALIGN - 1))
        return false;
    rounded = (n + KLS_ALIGN - 1) & ~(size_t)(KLS_ALIGN - 1);
    if (*at > (size_t)-1 - rounded)
        return false;
    *start = *at;
    *at += rounded;
    return true;
}

static bool config_valid(const legacy_session_config_t *cfg)
{
    if (cfg == NULL)
        return false;
    if (cfg->version != KMQTT_V311 && !KLS_IS_V5(cfg->version))
        return false;
    if (cfg->max_inflight < 1 || cfg->max_pending < 1)
        return false;
    /* Every tracked request holds a distinct non-zero id (MQTT-2.3.1-2). */
    if ((uint32_t)cfg->max_inflight + cfg->max_pending > 65535u)
        return false;
    if (cfg->rx_buffer_size < 16 || cfg->tx_buffer_size < 16)
        return false;
    /* Records keep offsets into the store as uint32_t. */
    if (cfg->store_size > UINT32_MAX)
        return false;
    if (KLS_IS_V5(cfg->version) && (cfg->topic_alias_max != 0 || cfg->topic_alias_out != 0) &&
        cfg->alias_topic_len == 0)
        return false;
    return true;
}

static bool plan_layout(const legacy_session_config_t *cfg, layout_t *l)
{
    size_t at = 0;
    size_t rec = sizeof(legacy_session_record_t);
    /* The counts are uint16_t, so these products cannot overflow size_t. */
    if (!carve(&at, rec * cfg->max_inflight, &l->inflight) ||
        !carve(&at, rec * cfg->max_pending, &l->pending) ||
        !carve(&at,
               !KMQTT_CFG_QOS2              ? 0
               : cfg->max_inbound_qos2 == 0 ? KLS_INBOUND_BITMAP_BYTES
                                            : sizeof(uint16_t) * cfg->max_inbound_qos2,
               &l->ids) ||
        !carve(&at, cfg->rx_buffer_size, &l->rx) || !carve(&at, cfg->tx_buffer_size, &l->tx) ||
        !carve(&at, cfg->store_size, &l->store))
        return false;
    l->alias_in = l->alias_out = at;
    /* 3.1.1 has no aliases: nothing carved. The products fit size_t (u16 x
     * (u16 + 8)). */
    if (KLS_IS_V5(cfg->version) &&
        (!carve(&at, (size_t)cfg->topic_alias_max * KLS_ALIAS_IN_SLOT(cfg), &l->alias_in) ||
         !carve(&at, (size_t)cfg->topic_alias_out * KLS_ALIAS_OUT_SLOT(cfg), &l->alias_out)))
        return false;
    l->total = at;
    return true;
}

size_t legacy_session_storage_size(const legacy_session_config_t *cfg)
{
    layout_t l;
    if (!config_valid(cfg) || !plan_layout(cfg, &l))
        return 0;
    return l.total;
}

kmqtt_err_t legacy_session_init(legacy_session_t *s, const legacy_session_config_t *cfg, void *storage,
                               size_t len)
{
    layout_t l;
    uint8_t *base = storage;

    if (s == NULL || storage == NULL || !config_valid(cfg) || !plan_layout(cfg, &l))
        return KMQTT_EINVAL;
    if (((uintptr_t)storage & (KLS_ALIGN - 1)) != 0)
        return KMQTT_EINVAL;
    if (len < l.total)
        return KMQTT_ENOBUFS;

    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->state = LEGACY_SESSION_IDLE;
    s->inflight = (legacy_session_record_t *)(void *)(base + l.inflight);
    s->pending = (legacy_session_record_t *)(void *)(base + l.pending);
    s->inbound_qos2 = (uint16_t *)(void *)(base + l.ids);
    s->rx = base + l.rx;
    s->tx = base + l.tx;
    s->store = base + l.store;
    s->alias_in = base + l.alias_in;
    s->alias_out = base + l.alias_out;
    kls_caps_reset(s);
    kls_inbound_init(s);
    s->next_packet_id = 1;
    s->server_receive_max = 65535;
    s->keepalive_ms = (uint32_t)cfg->keepalive_s * 1000u;
    return KMQTT_OK;
}

void kls_caps_reset(legacy_session_t *s)
{
    legacy_server_caps_t *c = &s->caps;
    memset(c, 0, sizeof *c);
    c->receive_max = 65535;
    c->max_qos = 2;
    c->retain_available = true;
    c->wildcard_available = true;
    c->subid_available = true;
    c->shared_available = true;
    c->keepalive_s = s->cfg.keepalive_s;
    c->session_expiry = s->connect_expiry;
}

const legacy_server_caps_t *legacy_session_server_caps(const legacy_session_t *s)
{
    return &s->caps;
}

uint8_t legacy_session_close_reason(const legacy_session_t *s)
{
    return s->close_reason;
}

size_t legacy_session_advertise(const legacy_session_t *s, kmqtt_prop_t *out, size_t max)
{
    size_t n = 0;
    if (s == NULL || out == NULL || !KLS_V5(s))
        return 0;
    if (s->cfg.max_inbound_qos2 != 0 && n < max) {
        memset(&out[n], 0, sizeof out[n]);
        out[n].id = KMQTT_PROP_RECEIVE_MAXIMUM;
        out[n++].num = s->cfg.max_inbound_qos2;
    }
    if (s->cfg.topic_alias_max != 0 && n < max) {
        memset(&out[n], 0, sizeof out[n]);
        out[n].id = KMQTT_PROP_TOPIC_ALIAS_MAXIMUM;
        out[n++].num = s->cfg.topic_alias_max;
    }
    if (n < max) {
        memset(&out[n], 0, sizeof out[n]);
        out[n].id = KMQTT_PROP_MAXIMUM_PACKET_SIZE;
        out[n++].num =
            s->cfg.rx_buffer_size > UINT32_MAX ? UINT32_MAX : (uint32_t)s->cfg.rx_buffer_size;
    }
    return n;
}

/* Takes what our CONNECT advertises as the limits the server must keep to
 * (5.0 3.1.2.11), refusing what the configured tables could not hold. */
static kmqtt_err_t adopt_connect_props(legacy_session_t *s, const kmqtt_connect_t *c)
{
    kmqtt_prop_t p;
    uint16_t receive_max = 65535, alias_max = 0, method_len = 0;
    uint32_t max_packet =
        s->cfg.rx_buffer_size > UINT32_MAX ? UINT32_MAX : (uint32_t)s->cfg.rx_buffer_size;
    uint32_t expiry = 0;

    if (!KLS_V5(s))
        return KMQTT_OK;
    if (kmqtt_props_find(&c->props, KMQTT_PROP_RECEIVE_MAXIMUM, &p)) {
        if (s->cfg.max_inbound_qos2 != 0 && p.num > s->cfg.max_inbound_qos2)
            return KMQTT_EINVAL;
        receive_max = (uint16_t)p.num;
    }
    if (kmqtt_props_find(&c->props, KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, &p)) {
        if (p.num > s->cfg.topic_alias_max)
            return KMQTT_EINVAL;
        alias_max = (uint16_t)p.num;
    }
    if (kmqtt_props_find(&c->props, KMQTT_PROP_MAXIMUM_PACKET_SIZE, &p)) {
        if (p.num > max_packet)
            return KMQTT_EINVAL;
        max_packet = p.num;
    }
    if (kmqtt_props_find(&c->props, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, &p))
        expiry = p.num;
    if (kmqtt_props_find(&c->props, KMQTT_PROP_AUTHENTICATION_METHOD, &p)) {
        if (p.str.len == 0 || p.str.len > LEGACY_SESSION_AUTH_METHOD_MAX)
            return KMQTT_EINVAL;
        memcpy(s->auth_method, p.str.ptr, p.str.len);
        method_len = (uint16_t)p.str.len;
    }
    s->adv_receive_max = receive_max;
    s->adv_alias_max = alias_max;
    s->adv_max_packet = max_packet;
    s->connect_expiry = expiry;
    s->auth_method_len = method_len;
    return KMQTT_OK;
}

legacy_session_state_t legacy_session_state(const legacy_session_t *s)
{
    return s->state;
}

size_t legacy_session_inflight(const legacy_session_t *s)
{
    return kls_inflight_live(s);
}

/* The transport is new or gone: nothing half-received or half-sent from the
 * old one may leak into the next. */
static void drop_bytes(legacy_session_t *s)
{
    s->rx_len = 0;
    s->rx_consumed = 0;
    s->tx_start = 0;
    s->tx_end = 0;
    s->owed_count = 0;
    s->rx_blocked = false;
    s->ping_outstanding = false;
    s->resend_due = false;
    /* Resends are decided again by the next CONNACK. */
    for (uint16_t i = 0; i < s->inflight_count; i++)
        s->inflight[i].flags &= (uint8_t)~KLS_UNSENT;
}

kmqtt_err_t legacy_session_start(legacy_session_t *s, const kmqtt_connect_t *connect, uint64_t now_ms)
{
    kmqtt_packet_t p;
    kmqtt_err_t err;

    if (s == NULL || connect == NULL)
        return KMQTT_EINVAL;
    if (s->state != LEGACY_SESSION_IDLE)
        return KMQTT_ESTATE;
    err = adopt_connect_props(s, connect);
    if (err != KMQTT_OK)
        return err;
    drop_bytes(s);

    memset(&p, 0, sizeof p);
    p.type = KMQTT_CONNECT;
    p.u.connect = *connect;
    /* The keepalive the session enforces is the one it announces. */
    p.u.connect.keepalive = s->cfg.keepalive_s;
    err = kls_tx_packet(s, &p);
    if (err != KMQTT_OK)
        return err;

    s->state = LEGACY_SESSION_CONNECTING;
    s->clean_start = connect->clean_start;
    s->keepalive_ms = (uint32_t)s->cfg.keepalive_s * 1000u;
    s->server_receive_max = 65535;
    s->server_max_packet = 0;
    kls_caps_reset(s);
    /* MQTT-3.3.2-7: no alias outlives its connection, either way. */
    kls_alias_reset(s);
    s->close_reason = 0;
    s->auth_state = KLS_AUTH_NONE;
    s->last_tx_ms = now_ms;
    s->last_rx_ms = now_ms;
    return KMQTT_OK;
}

kmqtt_err_t legacy_session_disconnect(legacy_session_t *s, uint8_t reason, const kmqtt_props_t *props)
{
    kmqtt_packet_t p;
    kmqtt_err_t err;

    if (s == NULL)
        return KMQTT_EINVAL;
    if (s->state != LEGACY_SESSION_CONNECTED)
        return KMQTT_ESTATE;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_DISCONNECT;
    p.u.disconnect.reason_code = reason;
    if (props != NULL)
        p.u.disconnect.props = *props;
    if (KLS_V5(s)) {
        kmqtt_prop_t e;
        size_t n;
        /* 5.0 3.14.2.2.2 (a Protocol Error, no MUST number): a session that was to end with the
         * connection cannot be kept by the DISCONNECT. */
        if (props != NULL && s->connect_expiry == 0 &&
            kmqtt_props_find(props, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, &e) && e.num != 0)
            return KMQTT_EINVAL;
        err = kmqtt_packet_size(&p, s->cfg.version, &n);
        if (err != KMQTT_OK)
            return err;
        if (s->server_max_packet != 0 && n > s->server_max_packet)
            return KMQTT_ETOOBIG; /* MQTT-3.2.2-15 */
    }
    /* DISCONNECT is the last packet on the wire (MQTT-3.14.4-1): answers
     * still waiting for room are dropped; the broker sends those messages
     * again on the next connection. */
    s->owed_count = 0;
    err = kls_tx_packet(s, &p);
    if (err != KMQTT_OK)
        return err;
    s->state = LEGACY_SESSION_CLOSING;
    return KMQTT_OK;
}

void legacy_session_lost(legacy_session_t *s, uint64_t now_ms)
{
    (void)now_ms;
    if (s == NULL)
        return;
    s->state = LEGACY_SESSION_IDLE;
    drop_bytes(s);
    /* A request's ack can only come on the connection that carried it. */
    for (uint16_t i = 0; i < s->pending_count; i++) {
        legacy_session_record_t *r = &s->pending[i];
        if (r->kind != KLS_REPORT_FAILED) {
            r->kind = KLS_REPORT_FAILED;
            s->failed_pending++;
        }
    }
}

kmqtt_err_t legacy_session_clear(legacy_session_t *s)
{
    if (s == NULL)
        return KMQTT_EINVAL;
    if (s->state != LEGACY_SESSION_IDLE)
        return KMQTT_ESTATE;
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        legacy_session_record_t *r = &s->inflight[i];
        if (r->kind != KLS_REPORT_DONE) {
            r->kind = KLS_REPORT_DONE;
            r->flags = KLS_CANCELED;
        }
        r->store_len = 0;
        r->store_off = 0;
    }
    s->store_used = 0;
    s->store_end = 0;
    kls_inbound_clear(s);
    s->resend_due = false;
    return KMQTT_OK;
}
