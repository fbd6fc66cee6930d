/*
 * kmqtt_request: MQTT 5.0 request / response on top of publish and
 * subscribe. One request waits at a time per client; its reply is copied
 * into the caller's buffer by the response topic's handler, which runs on
 * whichever thread runs the loop (the waiting caller itself when no
 * background thread does). Nothing is allocated per call.
 */
#include "client_internal.h"

#if KMQTT_CFG_V5

/* The response topic's handler: the awaited reply is copied out; anything
 * else on that topic is the application's (on_message). */
static void on_reply(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    kmqtt_message_fn fallback;
    kmqtt_bin_t corr;
    bool mine;

    (void)ctx;
    kc_lock(c);
    mine = c->v5.rq_busy && !c->v5.rq_done && kmqtt_msg_correlation_data(msg, &corr) &&
           corr.len == sizeof c->v5.rq_corr && memcmp(corr.ptr, c->v5.rq_corr, corr.len) == 0;
    if (mine) {
        c->v5.rq_len = msg->payload.len;
        c->v5.rq_err = KMQTT_ENOBUFS;
        if (msg->payload.len <= c->v5.rq_cap) {
            if (msg->payload.len != 0)
                memcpy(c->v5.rq_reply, msg->payload.ptr, msg->payload.len);
            c->v5.rq_err = KMQTT_OK;
        }
        c->v5.rq_done = true;
        kc_broadcast(c);
    }
    fallback = c->opt.on_message;
    kc_unlock(c);
    if (!mine && fallback != NULL)
        fallback(c, msg, c->opt.ctx);
}

/* Waits for the reply; mx held. */
static kmqtt_err_t wait_reply(kmqtt_client_t *c, uint64_t deadline, uint32_t cancel_seq)
{
    kmqtt_err_t err;

    for (;;) {
        if (c->v5.rq_done)
            return c->v5.rq_err;
        err = kc_conn_err(c, cancel_seq);
        if (err != KMQTT_NEED_MORE)
            return err;
        if (kc_remaining(deadline) == 0)
            return KMQTT_ETIMEDOUT;
        err = kc_wait_step(c, kc_remaining(deadline));
        if (err != KMQTT_OK)
            return err;
    }
}

static kmqtt_err_t subscribe_once(kmqtt_client_t *c, const char *response_topic, uint8_t qos,
                                  uint32_t timeout_ms)
{
    kmqtt_sub_request_t sub;
    bool have;

    kc_lock(c);
    have = kc_handler_is(c, response_topic, on_reply);
    kc_unlock(c);
    if (have)
        return KMQTT_OK;
    memset(&sub, 0, sizeof sub);
    sub.filter = response_topic;
    sub.qos = qos;
    sub.handler = on_reply;
    return kmqtt_subscribe(c, &sub, 1, timeout_ms, NULL, NULL);
}

kmqtt_err_t kmqtt_request(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                          uint8_t qos, const char *response_topic, uint32_t timeout_ms, void *reply,
                          size_t reply_cap, size_t *reply_len)
{
    uint64_t deadline = kc_deadline(timeout_ms);
    kmqtt_publish_props_t props;
    uint32_t cancel_seq;
    uint8_t corr[8];
    kmqtt_err_t err;

    if (reply_len != NULL)
        *reply_len = 0;
    if (c == NULL || topic == NULL || response_topic == NULL || (reply == NULL && reply_cap != 0))
        return KMQTT_EINVAL;
    if (c->opt.version != KMQTT_V5)
        return KMQTT_ENEEDV5;
    /* A response topic is a topic name (MQTT-3.3.2-14): no wildcards. */
    if (kmqtt_topic_name_validate(response_topic, strlen(response_topic)) != KMQTT_OK)
        return KMQTT_EINVAL;
    err = subscribe_once(c, response_topic, qos, timeout_ms);
    if (err != KMQTT_OK)
        return err;

    kc_lock(c);
    if (c->v5.rq_busy) {
        kc_unlock(c);
        return KMQTT_ELIMIT;
    }
    /* Fresh correlation data: a counter (never repeats within this client)
     * and random bytes (never matches a stale reply of an earlier run). */
    c->v5.rq_seq++;
    corr[0] = (uint8_t)(c->v5.rq_seq >> 24);
    corr[1] = (uint8_t)(c->v5.rq_seq >> 16);
    corr[2] = (uint8_t)(c->v5.rq_seq >> 8);
    corr[3] = (uint8_t)c->v5.rq_seq;
    if (kmqtt_port_random(corr + 4, 4) != KMQTT_OK)
        memset(corr + 4, 0, 4);
    memcpy(c->v5.rq_corr, corr, sizeof corr);
    c->v5.rq_busy = true;
    c->v5.rq_done = false;
    c->v5.rq_reply = reply;
    c->v5.rq_cap = reply_cap;
    c->v5.rq_len = 0;
    cancel_seq = c->cancel_seq;
    kc_unlock(c);

    memset(&props, 0, sizeof props);
    props.response_topic = response_topic;
    props.correlation_data = corr;
    props.correlation_len = sizeof corr;
    err = kmqtt_publish(c, topic, payload, len, qos, false, &props, NULL);

    kc_lock(c);
    if (err == KMQTT_OK)
        err = wait_reply(c, deadline, cancel_seq);
    if (c->v5.rq_done && reply_len != NULL)
        *reply_len = c->v5.rq_len;
    c->v5.rq_busy = false;
    c->v5.rq_done = false;
    c->v5.rq_reply = NULL;
    c->v5.rq_cap = 0;
    kc_unlock(c);
    return err;
}

#else /* !KMQTT_CFG_V5: every client speaks 3.1.1 */

kmqtt_err_t kmqtt_request(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                          uint8_t qos, const char *response_topic, uint32_t timeout_ms, void *reply,
                          size_t reply_cap, size_t *reply_len)
{
    (void)topic;
    (void)payload;
    (void)len;
    (void)qos;
    (void)response_topic;
    (void)timeout_ms;
    (void)reply;
    (void)reply_cap;
    if (reply_len != NULL)
        *reply_len = 0;
    return c == NULL ? KMQTT_EINVAL : KMQTT_ENEEDV5;
}

#endif /* KMQTT_CFG_V5 */
