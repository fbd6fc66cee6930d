/*
 * Outbound requests: PUBLISH at every QoS, SUBSCRIBE and UNSUBSCRIBE, the
 * packet ids they take, the store that keeps QoS 1/2 copies for resending,
 * and the pump that (re)sends records in their original order.
 */
#include "legacy_session_internal.h"

uint16_t kls_window(const legacy_session_t *s)
{
    /* 5.0 MQTT-3.3.4-7: never more unacknowledged QoS 1/2 PUBLISH packets
     * than the server's Receive Maximum. */
    uint16_t w = s->cfg.max_inflight;
    return s->server_receive_max < w ? s->server_receive_max : w;
}

size_t kls_inflight_live(const legacy_session_t *s)
{
    size_t n = 0;
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        if (s->inflight[i].kind != KLS_REPORT_DONE)
            n++;
    }
    return n;
}

legacy_session_record_t *kls_find_inflight(legacy_session_t *s, uint16_t id)
{
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        if (s->inflight[i].packet_id == id)
            return &s->inflight[i];
    }
    return NULL;
}

legacy_session_record_t *kls_find_pending(legacy_session_t *s, uint16_t id)
{
    for (uint16_t i = 0; i < s->pending_count; i++) {
        if (s->pending[i].packet_id == id)
            return &s->pending[i];
    }
    return NULL;
}

/* A new id, 1..65535 in turn, skipping any still held by a record
 * (MQTT-2.3.1-2); 0 when none is free (cannot happen while the windows are
 * smaller than 65535, which init checks). */
static uint16_t take_id(legacy_session_t *s)
{
    for (uint32_t tries = 0; tries < 65535u; tries++) {
        uint16_t id = s->next_packet_id != 0 ? s->next_packet_id : 1;
        s->next_packet_id = (uint16_t)(id == 65535u ? 1u : id + 1u);
        if (kls_find_inflight(s, id) == NULL && kls_find_pending(s, id) == NULL)
            return id;
    }
    return 0;
}

/* ------------------------------------------------------------------ store */

/* Copies sit in inflight order, so one forward pass closes every hole. */
static void store_compact(legacy_session_t *s)
{
    size_t at = 0;
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        legacy_session_record_t *r = &s->inflight[i];
        if (r->store_len == 0)
            continue;
        if (r->store_off != at)
            memmove(s->store + at, s->store + r->store_off, r->store_len);
        r->store_off = (uint32_t)at;
        at += r->store_len;
    }
    s->store_end = at;
}

static bool store_fits(const legacy_session_t *s, size_t n)
{
    return n <= s->cfg.store_size - s->store_used;
}

static size_t store_alloc(legacy_session_t *s, size_t n)
{
    size_t off;
    if (n > s->cfg.store_size - s->store_end)
        store_compact(s);
    off = s->store_end;
    s->store_end += n;
    s->store_used += n;
    return off;
}

size_t kls_store_take(legacy_session_t *s, size_t n)
{
    return store_alloc(s, n);
}

bool kls_store_fits(const legacy_session_t *s, size_t n)
{
    return store_fits(s, n);
}

void kls_store_release(legacy_session_t *s, legacy_session_record_t *r)
{
    if (r->store_len == 0)
        return;
    s->store_used -= r->store_len;
    if (s->store_used == 0)
        s->store_end = 0;
    else if ((size_t)r->store_off + r->store_len == s->store_end)
        s->store_end = r->store_off;
    r->store_len = 0;
    r->store_off = 0;
}

void kls_inflight_remove(legacy_session_t *s, legacy_session_record_t *r)
{
    size_t i = (size_t)(r - s->inflight);
    kls_store_release(s, r);
    memmove(r, r + 1, (s->inflight_count - i - 1) * sizeof *r);
    s->inflight_count--;
}

void kls_pending_remove(legacy_session_t *s, legacy_session_record_t *r)
{
    size_t i = (size_t)(r - s->pending);
    memmove(r, r + 1, (s->pending_count - i - 1) * sizeof *r);
    s->pending_count--;
}

/* ------------------------------------------------------------------- pump */

static bool send_record(legacy_session_t *s, const legacy_session_record_t *r)
{
    if (r->kind == KLS_AWAIT_PUBCOMP) {
        kmqtt_packet_t p;
        memset(&p, 0, sizeof p);
        p.type = KMQTT_PUBREL;
        p.u.ack.packet_id = r->packet_id;
        return kls_tx_packet(s, &p) == KMQTT_OK;
    }
    uint8_t *at = kls_tx_alloc(s, r->store_len);
    if (at == NULL)
        return false;
    memcpy(at, s->store + r->store_off, r->store_len);
    return true;
}

void kls_pump(legacy_session_t *s, uint64_t now_ms)
{
    uint16_t window = kls_window(s);
    size_t live = 0;
    bool left = false;

    if (s->state != LEGACY_SESSION_CONNECTED)
        return;
    for (uint16_t i = 0; i < s->inflight_count; i++) {
        legacy_session_record_t *r = &s->inflight[i];
        if (r->kind == KLS_REPORT_DONE)
            continue;
        live++;
        if ((r->flags & KLS_UNSENT) == 0)
            continue;
        /* Strictly in the original order (MQTT-4.4.0-1, 4.6.0-1): stop at
         * the first that does not fit rather than send a later one first;
         * and never past a Receive Maximum that shrank on reconnect. */
        if (live > window || !send_record(s, r)) {
            left = true;
            break;
        }
        r->flags &= (uint8_t)~KLS_UNSENT;
        r->sent_ms = now_ms;
    }
    s->resend_due = left;
}

/* --------------------------------------------------------------- requests */

/* The common PUBLISH (a topic, no properties) is sized and written here in
 * one pass with the single topic check the codec's size pass would make
 * (MQTT-3.3.2-2, through kmqtt_topic_name_validate), instead of validating
 * the topic once to size the packet and again to encode it. A PUBLISH with
 * properties (or a 5.0 Topic Alias with an empty topic) goes through the
 * codec. plain_size gives the packet size (*n) and remaining length (*rem). */
static bool publish_plain(const kmqtt_publish_t *m)
{
    return m->topic.len != 0 && m->props.count == 0 && m->props.raw_len == 0;
}

static kmqtt_err_t plain_size(const kmqtt_publish_t *m, kmqtt_version_t v, size_t *n, size_t *rem)
{
    size_t r;
    kmqtt_err_t err;

    if (m->qos > 2)
        return KMQTT_EQOS; /* MQTT-3.3.1-4 */
    if (m->topic.len > KMQTT_STRING_MAX)
        return KMQTT_ESTRING_TOO_LONG;
    if (m->payload.ptr == NULL && m->payload.len > 0)
        return KMQTT_EINVAL;
    err = kmqtt_topic_name_validate(m->topic.ptr, m->topic.len);
    if (err != KMQTT_OK)
        return err;
    r = 2 + m->topic.len + (m->qos > 0 ? 2u : 0u) + (KLS_IS_V5(v) ? 1u : 0u);
    if (m->payload.len > KMQTT_VARINT_MAX - r)
        return KMQTT_ETOOBIG;
    r += m->payload.len;
    *rem = r;
    *n = 1 + kmqtt_varint_size((uint32_t)r) + r;
    return KMQTT_OK;
}

/* Writes what plain_size measured; at has room for exactly that. */
static void plain_write(uint8_t *at, const kmqtt_publish_t *m, kmqtt_version_t v, size_t rem)
{
    *at++ = (uint8_t)((KMQTT_PUBLISH << 4) | (m->qos << 1) | (m->retain ? 0x01u : 0u));
    do {
        uint8_t b = (uint8_t)(rem & 0x7Fu);
        rem >>= 7;
        *at++ = rem != 0 ? (uint8_t)(b | 0x80u) : b;
    } while (rem != 0);
    *at++ = (uint8_t)(m->topic.len >> 8);
    *at++ = (uint8_t)(m->topic.len & 0xFFu);
    memcpy(at, m->topic.ptr, m->topic.len);
    at += m->topic.len;
    if (m->qos > 0) {
        *at++ = (uint8_t)(m->packet_id >> 8);
        *at++ = (uint8_t)(m->packet_id & 0xFFu);
    }
    if (KLS_IS_V5(v))
        *at++ = 0; /* no properties */
    if (m->payload.len > 0)
        memcpy(at, m->payload.ptr, m->payload.len);
}

static kmqtt_err_t publish_write(const kmqtt_publish_t *m, kmqtt_version_t v, bool plain,
                                 size_t rem, uint8_t *at, size_t n)
{
    size_t written;

    if (plain) {
        plain_write(at, m, v, rem);
        return KMQTT_OK;
    }
    return kmqtt_publish_encode(m, v, at, n, &written);
}

/* 5.0 checks against what the CONNACK allowed. */
static kmqtt_err_t publish_allowed(const legacy_session_t *s, const kmqtt_publish_t *m)
{
    if (!KLS_V5(s))
        return KMQTT_OK;
    if (m->qos > s->caps.max_qos)
        return KMQTT_EUNSUPPORTED; /* MQTT-3.2.2-11 */
    if (m->retain && !s->caps.retain_available)
        return KMQTT_EUNSUPPORTED; /* MQTT-3.2.2-14 */
    /* Aliases are the session's (MQTT-3.3.2-7..-9 need the connection's
     * state, which only the session has). */
    if (m->props.count == 0 && m->props.raw_len == 0)
        return KMQTT_OK;
    if (kmqtt_props_find(&m->props, KMQTT_PROP_TOPIC_ALIAS, NULL))
        return KMQTT_EINVAL;
    /* MQTT-3.3.4-6: only the server adds Subscription Identifiers. */
    if (kmqtt_props_find(&m->props, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, NULL))
        return KMQTT_EINVAL;
    return KMQTT_OK;
}

/* Most property items an aliased PUBLISH may carry besides its alias. */
#define KLS_ALIAS_ITEMS 8u

/* The aliased form of m, if one applies: m with the alias item added (and
 * the topic emptied when the server knows the mapping). items has room for
 * KLS_ALIAS_ITEMS + 1. Returns the alias, 0 for none. */
static uint16_t alias_form(const legacy_session_t *s, const kmqtt_publish_t *m, kmqtt_publish_t *a,
                           kmqtt_prop_t *items)
{
    bool with_topic;
    uint16_t alias;

    if (!KLS_V5(s) || s->alias_out_max == 0 || m->props.raw != NULL ||
        m->props.count > KLS_ALIAS_ITEMS)
        return 0;
    alias = kls_alias_pick(s, &m->topic, &with_topic);
    if (alias == 0)
        return 0;
    *a = *m;
    if (m->props.count > 0)
        memcpy(items, m->props.items, m->props.count * sizeof *items);
    memset(&items[m->props.count], 0, sizeof *items);
    items[m->props.count].id = KMQTT_PROP_TOPIC_ALIAS;
    items[m->props.count].num = alias;
    a->props.items = items;
    a->props.count = m->props.count + 1;
    a->props.raw = NULL;
    a->props.raw_len = 0;
    if (!with_topic)
        a->topic.len = 0;
    return alias;
}

kmqtt_err_t legacy_session_publish(legacy_session_t *s, const kmqtt_publish_t *msg, uint64_t now_ms,
                                  uint16_t *packet_id)
{
    kmqtt_publish_t m, am;
    kmqtt_prop_t items[KLS_ALIAS_ITEMS + 1];
    size_t n, an = 0, rem = 0;
    uint16_t alias;
    bool plain;
    kmqtt_err_t err;

    if (packet_id != NULL)
        *packet_id = 0;
    if (s == NULL || msg == NULL)
        return KMQTT_EINVAL;
    if (!KMQTT_CFG_QOS2 && msg->qos == 2)
        return KMQTT_EUNSUPPORTED; /* compiled out */
    if (s->state != LEGACY_SESSION_CONNECTED)
        return KMQTT_ENOTCONN;
    if ((err = publish_allowed(s, msg)) != KMQTT_OK)
        return err;

    m = *msg;
    m.dup = false;
    m.packet_id = m.qos > 0 ? 1 : 0; /* the real id is taken once all checks pass */
    plain = publish_plain(&m);
    err = plain ? plain_size(&m, s->cfg.version, &n, &rem)
                : kmqtt_publish_size(&m, s->cfg.version, &n);
    if (err != KMQTT_OK)
        return err;
    /* The full form is what a resend on a later connection carries, so it
     * must fit every limit even when this send is aliased (MQTT-3.2.2-15). */
    if (n > s->cfg.tx_buffer_size || (s->server_max_packet != 0 && n > s->server_max_packet) ||
        (m.qos > 0 && n > s->cfg.store_size))
        return KMQTT_ETOOBIG;
    alias = alias_form(s, &m, &am, items);
    if (alias != 0 &&
        (kmqtt_publish_size(&am, s->cfg.version, &an) != KMQTT_OK || an > s->cfg.tx_buffer_size ||
         (s->server_max_packet != 0 && an > s->server_max_packet)))
        alias = 0; /* the few bytes of the alias tipped it over: send it whole */
    if (m.qos > 0 &&
        (kls_inflight_live(s) >= kls_window(s) || s->inflight_count >= s->cfg.max_inflight))
        return KMQTT_ELIMIT;
    /* Older records still waiting to be resent go first (MQTT-4.6.0-1). */
    if (s->resend_due || !kls_tx_fits(s, alias != 0 ? an : n) || (m.qos > 0 && !store_fits(s, n)))
        return KMQTT_ENOBUFS;

    if (m.qos == 0) {
        /* Straight into the send buffer: a QoS 0 message is never stored. */
        if (alias != 0) {
            size_t written;
            uint8_t *at = kls_tx_alloc(s, an);
            err = kmqtt_publish_encode(&am, s->cfg.version, at, an, &written);
            if (err != KMQTT_OK) {
                s->tx_end -= an; /* cannot happen after the size pass */
                return err;
            }
            kls_alias_commit(s, alias, &m.topic);
            return KMQTT_OK;
        }
        uint8_t *at = kls_tx_alloc(s, n);
        err = publish_write(&m, s->cfg.version, plain, rem, at, n);
        if (err != KMQTT_OK)
            s->tx_end -= n; /* cannot happen after the size pass */
        return err;
    }

    uint16_t id = take_id(s);
    if (id == 0)
        return KMQTT_ELIMIT;
    m.packet_id = id;
    size_t off = store_alloc(s, n);
    legacy_session_record_t *r = &s->inflight[s->inflight_count++];
    memset(r, 0, sizeof *r);
    r->packet_id = id;
    r->kind = m.qos == 1 ? KLS_AWAIT_PUBACK : KLS_AWAIT_PUBREC;
    r->store_off = (uint32_t)off;
    r->store_len = (uint32_t)n;
    r->sent_ms = now_ms;
    err = publish_write(&m, s->cfg.version, plain, rem, s->store + off, n);
    if (err != KMQTT_OK) {
        kls_inflight_remove(s, r); /* cannot happen after the size pass */
        return err;
    }
    /* Persisted (by the hook) before it can leave; the store keeps the full
     * topic, which is what a restart must resend. */
    kls_changed(s, LEGACY_SESSION_CH_PUBLISH, id, s->store + off, n);
    if (alias != 0) {
        /* The wire gets the aliased form, the store keeps the full one. */
        size_t written;
        am.packet_id = id;
        err = kmqtt_publish_encode(&am, s->cfg.version, kls_tx_alloc(s, an), an, &written);
        if (err != KMQTT_OK) {
            s->tx_end -= an; /* cannot happen after the size pass */
            kls_inflight_remove(s, r);
            return err;
        }
        kls_alias_commit(s, alias, &m.topic);
    } else {
        memcpy(kls_tx_alloc(s, n), s->store + off, n);
    }
    if (packet_id != NULL)
        *packet_id = id;
    return KMQTT_OK;
}

/* 5.0: what the CONNACK said the server does not support (3.2.2.3.11..13;
 * the server would answer with DISCONNECT 0xA1, 0xA2 or 0x9E). */
static kmqtt_err_t subscribe_allowed(const legacy_session_t *s, const kmqtt_subscribe_t *sub)
{
    kmqtt_sub_iter_t it;
    kmqtt_subscription_t f;

#if !KMQTT_CFG_QOS2
    /* No QoS 2 exchange compiled in: never ask a broker for one. */
    kmqtt_sub_iter_init(&it, sub, true);
    while (kmqtt_sub_iter_next(&it, &f)) {
        if (f.qos == 2)
            return KMQTT_EUNSUPPORTED;
    }
#endif
    if (!KLS_V5(s))
        return KMQTT_OK;
    if (!s->caps.subid_available &&
        kmqtt_props_find(&sub->props, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, NULL))
        return KMQTT_EUNSUPPORTED;
    if (s->caps.wildcard_available && s->caps.shared_available)
        return KMQTT_OK;
    kmqtt_sub_iter_init(&it, sub, true);
    while (kmqtt_sub_iter_next(&it, &f)) {
        if (f.filter.ptr == NULL || f.filter.len == 0)
            continue; /* the encoder refuses it */
        if (!s->caps.wildcard_available && (memchr(f.filter.ptr, '+', f.filter.len) != NULL ||
                                            memchr(f.filter.ptr, '#', f.filter.len) != NULL))
            return KMQTT_EUNSUPPORTED;
        if (!s->caps.shared_available && kmqtt_topic_is_shared(f.filter.ptr, f.filter.len))
            return KMQTT_EUNSUPPORTED;
    }
    return KMQTT_OK;
}

kmqtt_err_t legacy_session_subscribe(legacy_session_t *s, const kmqtt_subscribe_t *sub,
                                    bool is_subscribe, uint64_t now_ms, uint16_t *packet_id)
{
    kmqtt_packet_t p;
    size_t n;
    kmqtt_err_t err;

    if (packet_id != NULL)
        *packet_id = 0;
    if (s == NULL || sub == NULL)
        return KMQTT_EINVAL;
    if (s->state != LEGACY_SESSION_CONNECTED)
        return KMQTT_ENOTCONN;
    if (is_subscribe && (err = subscribe_allowed(s, sub)) != KMQTT_OK)
        return err;

    memset(&p, 0, sizeof p);
    p.type = is_subscribe ? KMQTT_SUBSCRIBE : KMQTT_UNSUBSCRIBE;
    p.u.subscribe = *sub;
    p.u.subscribe.packet_id = 1; /* the real id is taken once all checks pass */
    if ((err = kmqtt_packet_size(&p, s->cfg.version, &n)) != KMQTT_OK)
        return err;
    if (n > s->cfg.tx_buffer_size || (s->server_max_packet != 0 && n > s->server_max_packet))
        return KMQTT_ETOOBIG;
    if (s->pending_count >= s->cfg.max_pending)
        return KMQTT_ELIMIT;
    if (!kls_tx_fits(s, n))
        return KMQTT_ENOBUFS;

    uint16_t id = take_id(s);
    if (id == 0)
        return KMQTT_ELIMIT;
    p.u.subscribe.packet_id = id;
    if ((err = kls_tx_packet(s, &p)) != KMQTT_OK)
        return err;

    legacy_session_record_t *r = &s->pending[s->pending_count++];
    memset(r, 0, sizeof *r);
    r->packet_id = id;
    r->kind = is_subscribe ? KLS_AWAIT_SUBACK : KLS_AWAIT_UNSUBACK;
    /* The ack must carry one code per filter (MQTT-3.9.3-1, 5.0 3.11.3). */
    r->store_len = (uint32_t)sub->count;
    r->sent_ms = now_ms;
    if (packet_id != NULL)
        *packet_id = id;
    return KMQTT_OK;
}
