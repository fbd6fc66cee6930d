/*
 * Session set-up, the storage layout, and the connection's life: start,
 * disconnect, loss and clearing.
 */
#include "session_internal.h"

/* Every region starts on an 8-byte boundary so the records (which hold a
 * uint64_t) and the id table stay aligned whatever the sizes are. */
#define KS_ALIGN 8u

typedef struct layout {
    size_t inflight, pending, ids, rx, tx, store, total;
} layout_t;

/* Adds n bytes at *at (rounded up to KS_ALIGN); false on overflow. */
static bool carve(size_t *at, size_t n, size_t *start)
{
    size_t rounded;
    if (n > (size_t)-1 - (KS_ALIGN - 1))
        return false;
    rounded = (n + KS_ALIGN - 1) & ~(size_t)(KS_ALIGN - 1);
    if (*at > (size_t)-1 - rounded)
        return false;
    *start = *at;
    *at += rounded;
    return true;
}

static bool config_valid(const kmqtt_session_config_t *cfg)
{
    if (cfg == NULL)
        return false;
    if (cfg->version != KMQTT_V311 && cfg->version != KMQTT_V5)
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
    return true;
}

static bool plan_layout(const kmqtt_session_config_t *cfg, layout_t *l)
{
    size_t at = 0;
    size_t rec = sizeof(kmqtt_session_record_t);
    /* The counts are uint16_t, so these products cannot overflow size_t. */
    if (!carve(&at, rec * cfg->max_inflight, &l->inflight) ||
        !carve(&at, rec * cfg->max_pending, &l->pending) ||
        !carve(&at,
               cfg->max_inbound_qos2 == 0 ? KS_INBOUND_BITMAP_BYTES
                                          : sizeof(uint16_t) * cfg->max_inbound_qos2,
               &l->ids) ||
        !carve(&at, cfg->rx_buffer_size, &l->rx) || !carve(&at, cfg->tx_buffer_size, &l->tx) ||
        !carve(&at, cfg->store_size, &l->store))
        return false;
    l->total = at;
    return true;
}

size_t kmqtt_session_storage_size(const kmqtt_session_config_t *cfg)
{
    layout_t l;
    if (!config_valid(cfg) || !plan_layout(cfg, &l))
        return 0;
    return l.total;
}

kmqtt_err_t kmqtt_session_init(kmqtt_session_t *s, const kmqtt_session_config_t *cfg, void *storage,
                               size_t len)
{
    layout_t l;
    uint8_t *base = storage;

    if (s == NULL || storage == NULL || !config_valid(cfg) || !plan_layout(cfg, &l))
        return KMQTT_EINVAL;
    if (((uintptr_t)storage & (KS_ALIGN - 1)) != 0)
        return KMQTT_EINVAL;
    if (len < l.total)
        return KMQTT_ENOBUFS;

    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->state = KMQTT_SESSION_IDLE;
    s->inflight = (kmqtt_session_record_t *)(void *)(base + l.inflight);
    s->pending = (kmqtt_session_record_t *)(void *)(base + l.pending);
    s->inbound_qos2 = (uint16_t *)(void *)(base + l.ids);
    s->rx = base + l.rx;
    s->tx = base + l.tx;
    s->store = base + l.store;
    ks_inbound_init(s);
    s->next_packet_id = 1;
    s->server_receive_max = 65535;
    s->keepalive_ms = (uint32_t)cfg->keepalive_s * 1000u;
    return KMQTT_OK;
}

kmqtt_session_state_t kmqtt_session_state(const kmqtt_session_t *s)
{
    return s->state;
}

size_t kmqtt_session_inflight(const kmqtt_session_t *s)
{
    return ks_inflight_live(s);
}

/* The transport is new or gone: nothing half-received or half-sent from the
 * old one may leak into the next. */
static void drop_bytes(kmqtt_session_t *s)
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
        s->inflight[i].flags &= (uint8_t)~KS_UNSENT;
}

kmqtt_err_t kmqtt_session_start(kmqtt_session_t *s, const kmqtt_connect_t *connect, uint64_t now_ms)
{
    kmqtt_packet_t p;
    kmqtt_err_t err;

    if (s == NULL || connect == NULL)
        return KMQTT_EINVAL;
    if (s->state != KMQTT_SESSION_IDLE)
        return KMQTT_ESTATE;
    drop_bytes(s);

    memset(&p, 0, sizeof p);
    p.type = KMQTT_CONNECT;
    p.u.connect = *connect;
    /* The keepalive the session enforces is the one it announces. */
    p.u.connect.keepalive = s->cfg.keepalive_s;
    err = ks_tx_packet(s, &p);
    if (err != KMQTT_OK)
        return err;

    s->state = KMQTT_SESSION_CONNECTING;
    s->clean_start = connect->clean_start;
    s->keepalive_ms = (uint32_t)s->cfg.keepalive_s * 1000u;
    s->server_receive_max = 65535;
    s->server_max_packet = 0;
    s->last_tx_ms = now_ms;
    s->last_rx_ms = now_ms;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_session_disconnect(kmqtt_session_t *s, uint8_t reason, const kmqtt_props_t *props)
{
    kmqtt_packet_t p;
    kmqtt_err_t err;

    if (s == NULL)
        return KMQTT_EINVAL;
    if (s->state != KMQTT_SESSION_CONNECTED)
        return KMQTT_ESTATE;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_DISCONNECT;
    p.u.disconnect.reason_code = reason;
    if (props != NULL)
        p.u.disconnect.props = *props;
    /* DISCONNECT is the last packet on the wire (MQTT-3.14.4-1): answers
     * still waiting for room are dropped; the broker sends those messages
     * again on the next connection. */
    s->owed_count = 0;
    err = ks_tx_packet(s, &p);
    if (err != KMQTT_OK)
        return err;
    s->state = KMQTT_SESSION_CLOSING;
    return KMQTT_OK;
}

void kmqtt_session_lost(kmqtt_session_t *s, uint64_t now_ms)
{
    (void)now_ms;
    if (s == NULL)
        return;
    s->state = KMQTT_SESSION_IDLE;
    drop_bytes(s);
    /* A request's ack can only come on the connection that carried it. */
    for (uint16_t i = 0; i < s->pending_count; i++) {
        kmqtt_session_record_t *r = &s->pending[i];
        if (r->kind != KS_REPORT_FAILED) {
            r->kind = KS_REPORT_FAILED;
            s->failed_pending++;
        }
    }
}

kmqtt_err_t kmqtt_session_clear(kmqtt_session_t *s)
{
    if (s == NULL)
        return KMQTT_EINVAL;
    if (s->state != KMQTT_SESSION_IDLE)
        return KMQTT_ESTATE;
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        kmqtt_session_record_t *r = &s->inflight[i];
        if (r->kind != KS_REPORT_DONE) {
            r->kind = KS_REPORT_DONE;
            r->flags = KS_CANCELED;
        }
        r->store_len = 0;
        r->store_off = 0;
    }
    s->store_used = 0;
    s->store_end = 0;
    ks_inbound_clear(s);
    s->resend_due = false;
    return KMQTT_OK;
}
