/*
 * SUBSCRIBE / UNSUBSCRIBE and the handler table.
 *
 * A handler is registered when its SUBACK grants the filter, by the thread
 * that takes the SUBACK, so no message of the new subscription can slip
 * past it to on_message. The table is bounded by max_subscriptions; each
 * entry owns a copy of its filter, allocated then (not on the message path).
 *
 * After an automatic reconnect to a broker that kept no session, every
 * filter of the table is subscribed again with what was requested, from the
 * loop's thread and without blocking: SUBSCRIBE packets of up to
 * KC_MAX_FILTERS filters, their SUBACKs taken here and not reported. A
 * filter the broker refuses then keeps its handler (the application learns
 * nothing of it; a later kmqtt_subscribe of it reports as usual). They
 * compete with the application's own requests for the KC_MAX_REQUESTS
 * pending slots, so a kmqtt_subscribe right after a reconnect may briefly
 * get KMQTT_ELIMIT.
 */
#include "client_internal.h"

static kc_handler_t *handler_find(kmqtt_client_t *c, const char *filter, size_t len)
{
    uint16_t i;

    for (i = 0; i < c->opt.max_subscriptions; i++) {
        kc_handler_t *h = &c->handlers[i];
        if (h->filter != NULL && h->len == len && memcmp(h->filter, filter, len) == 0)
            return h;
    }
    return NULL;
}

static size_t handler_count(const kmqtt_client_t *c)
{
    size_t n = 0;
    uint16_t i;

    for (i = 0; i < c->opt.max_subscriptions; i++)
        n += c->handlers[i].filter != NULL;
    return n;
}

/* The same filter again replaces the subscription (MQTT-3.8.4-3), so it
 * replaces the handler too. */
static kmqtt_err_t handler_set(kmqtt_client_t *c, const kmqtt_sub_request_t *r,
                               const kmqtt_sub_options_t *o, uint32_t subid)
{
    static const kmqtt_sub_options_t none;
    size_t len = strlen(r->filter);
    kc_handler_t *h = handler_find(c, r->filter, len);
    uint16_t i;

    if (h == NULL) {
        for (i = 0; i < c->opt.max_subscriptions && h == NULL; i++) {
            if (c->handlers[i].filter == NULL)
                h = &c->handlers[i];
        }
        if (h == NULL)
            return KMQTT_ELIMIT;
        if (c->filter_pool != NULL) {
            /* Application memory: the slot was made at create. */
            if (len >= c->filter_slot)
                return KMQTT_ELIMIT;
            h->filter = c->filter_pool + (size_t)(h - c->handlers) * c->filter_slot;
        } else {
            h->filter = kmqtt_mem_alloc(&c->mem, "sub", len + 1);
        }
        if (h->filter == NULL)
            return KMQTT_ENOMEM;
        memcpy(h->filter, r->filter, len + 1);
        h->len = len;
    }
    h->fn = r->handler;
    h->ctx = r->ctx;
    if (o == NULL)
        o = &none;
    h->qos = r->qos;
    h->no_local = o->no_local;
    h->retain_as_published = o->retain_as_published;
    h->retain_handling = o->retain_handling;
    h->subscription_id = subid;
    return KMQTT_OK;
}

static void handler_remove(kmqtt_client_t *c, const char *filter)
{
    kc_handler_t *h = handler_find(c, filter, strlen(filter));

    if (h == NULL)
        return;
    if (c->filter_pool == NULL)
        (void)kmqtt_mem_free(&c->mem, h->filter);
    memset(h, 0, sizeof *h);
}

void kc_handlers_free(kmqtt_client_t *c)
{
    uint16_t i;

    if (c->handlers == NULL)
        return;
    for (i = 0; i < c->opt.max_subscriptions; i++) {
        if (c->filter_pool == NULL)
            (void)kmqtt_mem_free(&c->mem, c->handlers[i].filter);
        c->handlers[i].filter = NULL;
    }
}

/* ---------------------------------------------------- subscribing again */

/* From the first slot; mx held, just connected. */
void kc_resubscribe_start(kmqtt_client_t *c)
{
    c->resub_owed = true;
    c->resub_next = 0;
    c->resub_count = 0;
    kc_resubscribe(c);
}

/* Pipelined connect (issue #18): an automatic reconnect that asks for a
 * clean session (MQTT-3.2.2-1, 5.0 MQTT-3.2.2-2), or that still owes
 * subscriptions from the last connection, knows the server lacks them:
 * they go behind the CONNECT (MQTT 3.1.4), as far as the session takes
 * them before the CONNACK (not with a 5.0 Authentication Method; request
 * slots, send buffer); the rest waits for it. A persistent session may be
 * present: that waits for Session Present. mx held, CONNECTING, CONNECT
 * queued. */
void kc_resubscribe_early(kmqtt_client_t *c)
{
    if (!c->rc_attempt || !c->opt.pipeline_connect || !(c->opt.clean_session || c->resub_owed))
        return;
    c->resub_early = true;
    kc_resubscribe_start(c);
}

/* The CONNACK accepted us: subscribe again if the broker forgot our
 * subscriptions, or we had not finished making them again on the last
 * connection. What the first flight carried went to this session (the
 * server processed it before answering, MQTT-3.1.4-5): only the rest goes,
 * so no SUBSCRIBE is sent twice on one connection. mx held. */
void kc_resubscribe_connack(kmqtt_client_t *c, bool session_present)
{
    if (c->resub_early) {
        c->resub_early = false;
        kc_resubscribe(c);
    } else if (c->rc_attempt && (!session_present || c->resub_owed)) {
        kc_resubscribe_start(c);
    }
}

/* The connection closed (forget = false: whatever was not confirmed is
 * still owed to the next connection) or the application disconnected or
 * connected anew (forget = true). mx held. */
void kc_resubscribe_stop(kmqtt_client_t *c, bool forget)
{
    if (forget)
        c->resub_owed = false;
    c->resub_next = c->opt.max_subscriptions;
    c->resub_count = 0;
    /* Refused (MQTT-3.1.4-5) or lost before the CONNACK: what the first
     * flight carried is owed to the next connection. */
    c->resub_early = false;
}

static bool resub_ack(kmqtt_client_t *c, uint16_t id)
{
    unsigned i;

    for (i = 0; i < c->resub_count; i++) {
        if (c->resub_ids[i] == id) {
            c->resub_ids[i] = c->resub_ids[--c->resub_count];
            if (c->resub_count == 0 && c->resub_next >= c->opt.max_subscriptions)
                c->resub_owed = false;
            return true;
        }
    }
    return false;
}

/* Queues SUBSCRIBEs for the slots from resub_next on, as far as the pending
 * slots and the send buffer allow; the rest waits for a later turn. mx
 * held, connected (or connecting: kc_resubscribe_early). */
void kc_resubscribe(kmqtt_client_t *c)
{
    kmqtt_subscription_t items[KC_MAX_FILTERS];
    uint32_t slot[KC_MAX_FILTERS];
    kmqtt_subscribe_t pkt;
    kmqtt_prop_t subid;
    uint32_t i, max = c->opt.max_subscriptions;
    size_t n;
    uint16_t id;
    kmqtt_err_t err;

    while (c->resub_next < max &&
           (c->state == KMQTT_STATE_CONNECTED || c->state == KMQTT_STATE_CONNECTING) && c->open &&
           c->resub_count < KC_MAX_REQUESTS) {
        memset(items, 0, sizeof items);
        for (i = c->resub_next, n = 0; i < max && n < KC_MAX_FILTERS; i++) {
            const kc_handler_t *h = &c->handlers[i];
            if (h->filter == NULL)
                continue;
            /* 5.0: one Subscription Identifier per SUBSCRIBE. */
            if (n != 0 && h->subscription_id != c->handlers[slot[0]].subscription_id)
                break;
            items[n].filter.ptr = h->filter;
            items[n].filter.len = h->len;
            items[n].qos = h->qos;
            items[n].no_local = h->no_local;
            items[n].retain_as_published = h->retain_as_published;
            items[n].retain_handling = h->retain_handling;
            slot[n++] = i;
        }
        if (n == 0) {
            c->resub_next = max;
            break;
        }
        memset(&pkt, 0, sizeof pkt);
        pkt.items = items;
        if (c->handlers[slot[0]].subscription_id != 0) {
            memset(&subid, 0, sizeof subid);
            subid.id = KMQTT_PROP_SUBSCRIPTION_IDENTIFIER;
            subid.num = c->handlers[slot[0]].subscription_id;
            pkt.props.items = &subid;
            pkt.props.count = 1;
        }
        for (;;) {
            pkt.count = n;
            err = kc_session_subscribe(c, &pkt, true, &id);
            if (err != KMQTT_ETOOBIG || n == 1)
                break;
            n = (n + 1) / 2; /* long filters: fewer per packet */
        }
        if (err == KMQTT_OK) {
            c->resub_ids[c->resub_count++] = id;
            c->resub_next = slot[n - 1] + 1;
        } else if (err == KMQTT_ELIMIT || err == KMQTT_ENOBUFS ||
                   c->state != KMQTT_STATE_CONNECTED) {
            /* No pending slot or no room yet, or not before the CONNACK
             * (KMQTT_ENOTCONN; or the last CONNACK's caps, which the next
             * one may change): a later turn. */
            return;
        } else {
            c->resub_next = slot[0] + 1; /* never fits: skip this filter */
        }
    }
    if (c->resub_next >= max && c->resub_count == 0)
        c->resub_owed = false;
}

/* ------------------------------------------------------------- requests */

static kc_request_t *request_find(kmqtt_client_t *c, uint16_t id)
{
    unsigned i;

    for (i = 0; i < KC_MAX_REQUESTS; i++) {
        if (c->req[i].in_use && !c->req[i].done && c->req[i].packet_id == id)
            return &c->req[i];
    }
    return NULL;
}

static void suback(kmqtt_client_t *c, kc_request_t *r, const kmqtt_bin_t *codes)
{
    kmqtt_err_t err = KMQTT_OK, e;
    size_t i;
    uint8_t code;

    for (i = 0; i < r->n; i++) {
        /* A SUBACK has one code per filter (MQTT-3.9.3-1); the session
         * checked the count, a missing one counts as a refusal. */
        code = i < codes->len ? codes->ptr[i] : 0x80;
        if (code < 0x80) {
            e = handler_set(c, &r->subs[i], r->opts != NULL ? &r->opts[i] : NULL, r->subid);
            if (e != KMQTT_OK && err == KMQTT_OK)
                err = e;
        } else if (err == KMQTT_OK) {
            err = KMQTT_ESUBFAIL;
        }
        if (r->res != NULL)
            r->res->reason_codes[i] = code;
    }
    r->err = err;
}

void kc_request_answer(kmqtt_client_t *c, const kc_event_t *ev)
{
    kc_request_t *r = request_find(c, ev->packet_id);
    size_t i;

    /* No waiter: one of ours (subscribing again), or it timed out or was
     * canceled; the answer is dropped. */
    if (r == NULL) {
        (void)resub_ack(c, ev->packet_id);
        return;
    }
    if (ev->type == KC_EV_SUBACK && r->is_subscribe) {
        suback(c, r, &ev->packet.u.suback.reason_codes);
    } else if (ev->type == KC_EV_UNSUBACK && !r->is_subscribe) {
        /* 5.0 has a code per filter (MQTT-3.11.3-1): a refused one keeps
         * its subscription, and so its handler. 3.1.1 has none. */
        const kmqtt_bin_t *codes = &ev->packet.u.suback.reason_codes;
        r->err = KMQTT_OK;
        for (i = 0; i < r->n; i++) {
            uint8_t code = i < codes->len ? codes->ptr[i] : 0;
            if (r->res != NULL)
                r->res->reason_codes[i] = code;
            if (code >= 0x80)
                r->err = KMQTT_ESUBFAIL;
            else
                handler_remove(c, r->filters[i]);
        }
    } else {
        r->err = ev->err != KMQTT_OK ? ev->err : KMQTT_ECLOSED;
    }
    if (ev->type == KC_EV_SUBACK || ev->type == KC_EV_UNSUBACK)
        kc_v5_ack_info(r->res, &ev->packet.u.suback.props);
    r->done = true;
    kc_broadcast(c);
}

void kc_requests_fail(kmqtt_client_t *c, kmqtt_err_t err)
{
    unsigned i;

    for (i = 0; i < KC_MAX_REQUESTS; i++) {
        if (c->req[i].in_use && !c->req[i].done) {
            c->req[i].done = true;
            c->req[i].err = err;
        }
    }
}

/* Queues the request and waits for its answer; mx held. */
static kmqtt_err_t request_run(kmqtt_client_t *c, kc_request_t *proto, const kmqtt_subscribe_t *pkt,
                               uint32_t timeout_ms)
{
    uint64_t deadline = kc_deadline(timeout_ms);
    uint32_t cancel_seq = c->cancel_seq;
    kc_request_t *r = NULL;
    kmqtt_err_t err;
    unsigned i;

    if (c->state != KMQTT_STATE_CONNECTED || !c->open)
        return KMQTT_ENOTCONN;
    for (i = 0; i < KC_MAX_REQUESTS && r == NULL; i++) {
        if (!c->req[i].in_use)
            r = &c->req[i];
    }
    if (r == NULL)
        return KMQTT_ELIMIT;
    err = kc_session_subscribe(c, pkt, proto->is_subscribe, &proto->packet_id);
    if (err != KMQTT_OK)
        return err == KMQTT_ENOBUFS ? KMQTT_ELIMIT : err;
    *r = *proto;
    r->in_use = true;
    r->done = false;
    kc_try_flush(c);
    for (;;) {
        if (r->done) {
            err = r->err;
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
    if (c->cancel_seq != cancel_seq && err != KMQTT_OK && err != KMQTT_ESUBFAIL)
        err = KMQTT_ECANCELED;
    memset(r, 0, sizeof *r);
    return err;
}

/* A result before the request goes. */
static void result_clear(kmqtt_ack_result_t *res)
{
    if (res != NULL)
        memset(res, 0, sizeof *res);
}

/* One filter of a SUBSCRIBE with its 5.0 options (o may be NULL),
 * checked: what is refused is never sent. (A 3.1.1 client refused options
 * before, in kc_subscribe_prop_list.) */
static kmqtt_err_t sub_item(const kmqtt_client_t *c, const kmqtt_sub_request_t *r,
                            const kmqtt_sub_options_t *o, kmqtt_subscription_t *item)
{
    if (r->filter == NULL || r->qos > 2)
        return KMQTT_EINVAL;
    if (!KMQTT_CFG_QOS2 && r->qos == 2)
        return KMQTT_EUNSUPPORTED; /* compiled out */
    item->filter.ptr = r->filter;
    item->filter.len = strlen(r->filter);
    if (item->filter.len > c->opt.max_topic_len ||
        kmqtt_topic_filter_validate(r->filter, item->filter.len) != KMQTT_OK)
        return KMQTT_EINVAL;
    /* Refused before it is sent: the SUBACK could not register it. */
    if (c->filter_pool != NULL && item->filter.len >= c->filter_slot)
        return KMQTT_ELIMIT;
    item->qos = r->qos;
    if (o == NULL)
        return KMQTT_OK;
    /* Retain Handling 3 is a protocol error (3.8.3.1); No Local on a shared
     * subscription (MQTT-3.8.3-4) is the engine's check. */
    if (o->retain_handling > 2)
        return KMQTT_EINVAL;
    item->no_local = o->no_local;
    item->retain_as_published = o->retain_as_published;
    item->retain_handling = o->retain_handling;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_subscribe(kmqtt_client_t *c, const kmqtt_sub_request_t *subs, size_t n,
                            uint32_t timeout_ms, const kmqtt_subscribe_props_t *props,
                            kmqtt_subscribe_result_t *res)
{
    const kmqtt_sub_options_t *opts = props != NULL ? props->options : NULL;
    kmqtt_subscription_t items[KC_MAX_FILTERS];
    kmqtt_prop_t plist[KC_SUB_PROPS_MAX];
    kmqtt_subscribe_t pkt;
    kc_request_t proto;
    size_t i, fresh = 0;
    kmqtt_err_t err;

    result_clear(res);
    if (c == NULL || subs == NULL || n == 0)
        return KMQTT_EINVAL;
    if (n > KC_MAX_FILTERS)
        return KMQTT_ELIMIT;
    memset(&pkt, 0, sizeof pkt);
    err = kc_subscribe_prop_list(c, props, plist, KC_SUB_PROPS_MAX, &pkt.props.count);
    memset(items, 0, sizeof items);
    for (i = 0; i < n && err == KMQTT_OK; i++)
        err = sub_item(c, &subs[i], opts != NULL ? &opts[i] : NULL, &items[i]);
    if (err != KMQTT_OK)
        return err;
    pkt.items = items;
    pkt.count = n;
    pkt.props.items = plist;
    memset(&proto, 0, sizeof proto);
    proto.is_subscribe = true;
    proto.subs = subs;
    proto.opts = opts;
    proto.subid = props != NULL ? props->subscription_id : 0;
    proto.n = n;
    proto.res = res;

    kc_lock(c);
    for (i = 0; i < n; i++)
        fresh += handler_find(c, subs[i].filter, items[i].filter.len) == NULL;
    /* The server's Wildcard / Shared / Subscription Identifier Available
     * (5.0) are the engine's checks, in request_run. */
    err = handler_count(c) + fresh > c->opt.max_subscriptions ? KMQTT_ELIMIT : KMQTT_OK;
    if (err == KMQTT_OK)
        err = request_run(c, &proto, &pkt, timeout_ms);
    kc_unlock(c);
    return err;
}

kmqtt_err_t kmqtt_unsubscribe(kmqtt_client_t *c, const char *const *filters, size_t n,
                              uint32_t timeout_ms, const kmqtt_unsubscribe_props_t *props,
                              kmqtt_unsubscribe_result_t *res)
{
    kmqtt_prop_t plist[KC_UNSUB_PROPS_MAX];
    kmqtt_subscription_t items[KC_MAX_FILTERS];
    kmqtt_subscribe_t pkt;
    kc_request_t proto;
    size_t i;
    kmqtt_err_t err;

    result_clear(res);
    if (c == NULL || filters == NULL || n == 0 || n > KC_MAX_FILTERS)
        return KMQTT_EINVAL;
    memset(items, 0, sizeof items);
    for (i = 0; i < n; i++) {
        if (filters[i] == NULL)
            return KMQTT_EINVAL;
        items[i].filter.ptr = filters[i];
        items[i].filter.len = strlen(filters[i]);
        if (kmqtt_topic_filter_validate(filters[i], items[i].filter.len) != KMQTT_OK)
            return KMQTT_EINVAL;
    }
    memset(&pkt, 0, sizeof pkt);
    err = kc_unsubscribe_prop_list(c, props, plist, KC_UNSUB_PROPS_MAX, &pkt.props.count);
    if (err != KMQTT_OK)
        return err;
    pkt.items = items;
    pkt.count = n;
    pkt.props.items = plist;
    memset(&proto, 0, sizeof proto);
    proto.is_subscribe = false;
    proto.filters = filters;
    proto.n = n;
    proto.res = res;

    kc_lock(c);
    err = request_run(c, &proto, &pkt, timeout_ms);
    kc_unlock(c);
    return err;
}

#if KMQTT_CFG_V5
/* True if filter is subscribed with handler fn (kmqtt_request subscribes
 * its response topic once). */
bool kc_handler_is(kmqtt_client_t *c, const char *filter, kmqtt_message_fn fn)
{
    const kc_handler_t *h = handler_find(c, filter, strlen(filter));

    return h != NULL && h->fn == fn;
}
#endif
