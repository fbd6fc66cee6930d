/*
 * MQTT 5.0 client features against a real mosquitto (2.0.11) in v5 mode:
 * properties round trip (user properties in order, content type,
 * correlation data, response topic, expiry, payload format), CONNACK
 * capabilities, subscription options (no local, retain as published,
 * retain handling), shared subscriptions, subscription identifiers,
 * request / response, reason codes (PUBACK 0x10, UNSUBACK 0x11), Maximum
 * QoS, the server's DISCONNECT (session taken over) reported before the
 * loss, outbound topic aliases resolved by mosquitto, and both Maximum
 * Packet Sizes. Each test checks the client's memory is back at its
 * baseline afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"

#define WAIT_MS 5000u
#define MAXM    32

static kmqtt_mem_t parent;

/* ------------------------------------------------------------- recorder */

typedef struct v5msg {
    char topic[64];
    char payload[600];
    size_t len;
    uint8_t qos;
    bool retain;
    char users[256]; /* "k=v;k=v;" in order */
    char content_type[32];
    char corr[32];
    char resp[64];
    bool has_expiry;
    uint32_t expiry;
    uint8_t format;
    uint32_t subid[4];
    int nsubid;
} v5msg_t;

typedef struct v5rec {
    pthread_mutex_t mu;
    v5msg_t m[MAXM];
    int n;
    unsigned block_first_ms; /* the first message's handler sleeps this long */
    int lost;                /* CONNECTION_LOST reports (rec_state) */
    kmqtt_err_t lost_err;    /* the first one's error */
} v5rec_t;

static void rec_init(v5rec_t *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
}

static void cpy(char *dst, size_t cap, const void *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void rec_handler(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    v5rec_t *r = ctx;
    kmqtt_prop_iter_t it;
    kmqtt_str_t name, value, s;
    kmqtt_bin_t b;
    v5msg_t *m;
    int idx;

    (void)c;
    pthread_mutex_lock(&r->mu);
    idx = r->n;
    if (r->n < MAXM) {
        m = &r->m[r->n];
        memset(m, 0, sizeof *m);
        cpy(m->topic, sizeof m->topic, msg->topic.ptr, msg->topic.len);
        cpy(m->payload, sizeof m->payload, msg->payload.ptr, msg->payload.len);
        m->len = msg->payload.len;
        m->qos = msg->qos;
        m->retain = msg->retain;
        kmqtt_prop_iter_init(&it, &msg->props);
        while (kmqtt_next_user_prop(&it, &name, &value)) {
            size_t at = strlen(m->users);
            snprintf(m->users + at, sizeof m->users - at, "%.*s=%.*s;", (int)name.len, name.ptr,
                     (int)value.len, value.ptr);
        }
        if (kmqtt_msg_content_type(msg, &s))
            cpy(m->content_type, sizeof m->content_type, s.ptr, s.len);
        if (kmqtt_msg_correlation_data(msg, &b))
            cpy(m->corr, sizeof m->corr, b.ptr, b.len);
        if (kmqtt_msg_response_topic(msg, &s))
            cpy(m->resp, sizeof m->resp, s.ptr, s.len);
        m->has_expiry = kmqtt_msg_message_expiry(msg, &m->expiry);
        m->format = kmqtt_msg_payload_format(msg);
        kmqtt_prop_iter_init(&it, &msg->props);
        while (m->nsubid < 4 && kmqtt_next_subscription_id(&it, &m->subid[m->nsubid]))
            m->nsubid++;
    }
    r->n++;
    pthread_mutex_unlock(&r->mu);
    if (idx == 0 && r->block_first_ms != 0)
        sleep_ms(r->block_first_ms);
}

/* A kmqtt_state_fn for a client whose ctx is a v5rec_t. */
static void rec_state(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    v5rec_t *r = ctx;

    (void)c;
    if (st != KMQTT_STATE_CONNECTION_LOST)
        return;
    pthread_mutex_lock(&r->mu);
    if (r->lost++ == 0)
        r->lost_err = err;
    pthread_mutex_unlock(&r->mu);
}

static int rec_count(v5rec_t *r)
{
    int n;
    pthread_mutex_lock(&r->mu);
    n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

typedef struct cnt_arg {
    v5rec_t *r;
    int n;
} cnt_arg_t;

static bool has_n(void *arg)
{
    cnt_arg_t *a = arg;
    return rec_count(a->r) >= a->n;
}

/* Pumps c until r has n messages (or the time is up). */
static bool wait_n(kmqtt_client_t *c, v5rec_t *r, int n, unsigned ms)
{
    cnt_arg_t a = {r, n};
    (void)it_pump(c, ms, has_n, &a);
    return rec_count(r) >= n;
}

/* -------------------------------------------------------------- clients */

static void v5_options(kmqtt_client_options_t *o, broker_t *b, const char *id, v5rec_t *rec)
{
    it_options(o, b, id);
    o->version = KMQTT_V5;
    o->mem = &parent;
    o->on_message = rec != NULL ? rec_handler : NULL;
    o->ctx = rec;
}

static kmqtt_client_t *v5_connected(broker_t *b, const char *id, v5rec_t *rec)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;

    v5_options(&o, b, id, rec);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    return c;
}

/* One filter with its 5.0 options (so may be NULL) and Subscription
 * Identifier (0 = none); the SUBACK must grant qos. */
static void sub1(kmqtt_client_t *c, const char *filter, uint8_t qos, const kmqtt_sub_options_t *so,
                 uint32_t subid)
{
    kmqtt_sub_request_t r;
    kmqtt_subscribe_props_t sp;
    kmqtt_subscribe_result_t granted;

    memset(&r, 0, sizeof r);
    memset(&sp, 0, sizeof sp);
    r.filter = filter;
    r.qos = qos;
    sp.options = so;
    sp.subscription_id = subid;
    assert_int_equal(kmqtt_subscribe(c, &r, 1, WAIT_MS, &sp, &granted), KMQTT_OK);
    assert_int_equal(granted.reason_codes[0], qos);
}

static int setup(void **state)
{
    broker_opts_t o;

    memset(&o, 0, sizeof o);
    o.log_all = true;
    *state = it_group_broker(&parent, &o);
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    broker_stop(*state);
    return 0;
}

/* ------------------------------------------------------------ the tests */

/* Every message property the API sends arrives at another 5.0 client as
 * sent, through mosquitto; user properties keep their order, including a
 * repeated name (MQTT-3.3.2-18: the server forwards them unchanged). */
static void test_publish_properties_round_trip_in_order(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    v5rec_t rec;
    kmqtt_client_t *rx, *tx;
    kmqtt_publish_props_t pp;
    kmqtt_user_prop_t up[4] = {{"zeta", "1"}, {"alpha", "2"}, {"zeta", "3"}, {"k", ""}};
    kmqtt_connack_info_t ci;
    kmqtt_publish_result_t pr;
    uint8_t reason = 0xff;

    it_take_baseline(&parent, &base);
    rec_init(&rec);
    rx = v5_connected(b, "it-v5-props-rx", &rec);
    sub1(rx, "v5/props", 1, NULL, 0);
    tx = v5_connected(b, "it-v5-props-tx", NULL);

    /* mosquitto's CONNACK as the client reports it. */
    assert_int_equal(kmqtt_client_connack(tx, &ci), KMQTT_OK);
    assert_int_equal(ci.reason_code, 0);
    assert_int_equal(ci.maximum_qos, 2);
    assert_true(ci.retain_available);
    assert_true(ci.shared_available);
    assert_true(ci.topic_alias_maximum > 0); /* mosquitto: max_topic_alias 10 */

    memset(&pp, 0, sizeof pp);
    pp.user_props = up;
    pp.user_prop_count = 4;
    pp.content_type = "text/plain";
    pp.correlation_data = "corr-7";
    pp.correlation_len = 6;
    pp.response_topic = "v5/reply";
    pp.message_expiry_s = 3600;
    pp.payload_format = 1;
    assert_int_equal(kmqtt_publish(tx, "v5/props", "h\xc3\xa9llo", 6, 1, false, &pp, &pr),
                     KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait(tx, pr.packet_id, WAIT_MS, &reason), KMQTT_OK);
    assert_int_equal(reason, 0);
    assert_true(wait_n(rx, &rec, 1, WAIT_MS));
    assert_string_equal(rec.m[0].payload, "h\xc3\xa9llo");
    assert_string_equal(rec.m[0].users, "zeta=1;alpha=2;zeta=3;k=;");
    assert_string_equal(rec.m[0].content_type, "text/plain");
    assert_string_equal(rec.m[0].corr, "corr-7");
    assert_string_equal(rec.m[0].resp, "v5/reply");
    assert_true(rec.m[0].has_expiry);
    assert_true(rec.m[0].expiry > 3500 && rec.m[0].expiry <= 3600); /* MQTT-3.3.2-6 */
    assert_int_equal(rec.m[0].format, 1);

    /* A payload said to be UTF-8 that is not is refused before sending. */
    assert_int_equal(kmqtt_publish(tx, "v5/props", "\xff", 1, 0, false, &pp, NULL), KMQTT_EINVAL);
    /* Properties need a 5.0 client. */
    kmqtt_client_destroy(tx);
    kmqtt_client_destroy(rx);
    it_expect_baseline(&parent, &base, "props", 0);
    pthread_mutex_destroy(&rec.mu);
}

/* No Local: our own messages are not sent back to us (MQTT-3.8.3-3), a
 * different client's are. */
static void test_no_local_drops_only_our_own_messages(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    v5rec_t rec;
    kmqtt_client_t *c, *other;
    kmqtt_sub_options_t so;

    it_take_baseline(&parent, &base);
    rec_init(&rec);
    c = v5_connected(b, "it-v5-nl", &rec);
    other = v5_connected(b, "it-v5-nl-other", NULL);
    memset(&so, 0, sizeof so);
    so.no_local = true;
    sub1(c, "v5/nl", 1, &so, 0);
    assert_int_equal(kmqtt_publish(c, "v5/nl", "mine", 4, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(c, WAIT_MS), KMQTT_OK);
    assert_int_equal(kmqtt_publish(other, "v5/nl", "theirs", 6, 1, false, NULL, NULL), KMQTT_OK);
    assert_true(wait_n(c, &rec, 1, WAIT_MS));
    (void)wait_n(c, &rec, 2, 300);
    assert_int_equal(rec_count(&rec), 1);
    assert_string_equal(rec.m[0].payload, "theirs");
    kmqtt_client_destroy(other);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "no local", 0);
    pthread_mutex_destroy(&rec.mu);
}

/* Retain As Published keeps RETAIN on a live retained message
 * (MQTT-3.3.1-13); without it the flag is cleared (MQTT-3.3.1-12). */
static void test_retain_as_published_keeps_the_flag(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    v5rec_t rap, plain;
    kmqtt_client_t *a, *p, *tx;
    kmqtt_sub_options_t so;

    it_take_baseline(&parent, &base);
    rec_init(&rap);
    rec_init(&plain);
    a = v5_connected(b, "it-v5-rap", &rap);
    p = v5_connected(b, "it-v5-norap", &plain);
    tx = v5_connected(b, "it-v5-rap-tx", NULL);
    memset(&so, 0, sizeof so);
    so.retain_as_published = true;
    sub1(a, "v5/rap", 1, &so, 0);
    sub1(p, "v5/rap", 1, NULL, 0);
    assert_int_equal(kmqtt_publish(tx, "v5/rap", "r", 1, 1, true, NULL, NULL), KMQTT_OK);
    assert_true(wait_n(a, &rap, 1, WAIT_MS));
    assert_true(wait_n(p, &plain, 1, WAIT_MS));
    assert_true(rap.m[0].retain);
    assert_false(plain.m[0].retain);
    /* clear the retained message */
    assert_int_equal(kmqtt_publish(tx, "v5/rap", NULL, 0, 1, true, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(tx, WAIT_MS), KMQTT_OK);
    kmqtt_client_destroy(tx);
    kmqtt_client_destroy(p);
    kmqtt_client_destroy(a);
    it_expect_baseline(&parent, &base, "rap", 0);
    pthread_mutex_destroy(&rap.mu);
    pthread_mutex_destroy(&plain.mu);
}

/* Retain Handling: 2 = no retained message at subscribe, 1 = only when the
 * subscription is new, 0 = every time (MQTT-3.3.1-9, -10, -11). A live
 * sentinel after each SUBACK shows what came before it. */
static void test_retain_handling_0_1_2(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    v5rec_t rec;
    kmqtt_client_t *c, *tx;
    kmqtt_sub_options_t so;
    int i;
    /* retain_handling, expected retained deliveries before the sentinel */
    static const struct {
        uint8_t rh;
        int retained;
    } steps[] = {{2, 0}, {1, 0}, {0, 1}};

    it_take_baseline(&parent, &base);
    rec_init(&rec);
    tx = v5_connected(b, "it-v5-rh-tx", NULL);
    assert_int_equal(kmqtt_publish(tx, "v5/rh/t", "kept", 4, 1, true, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(tx, WAIT_MS), KMQTT_OK);
    c = v5_connected(b, "it-v5-rh", &rec);
    memset(&so, 0, sizeof so);

    /* A new subscription with 1 gets it. */
    so.retain_handling = 1;
    sub1(c, "v5/rh/+", 1, &so, 0);
    assert_true(wait_n(c, &rec, 1, WAIT_MS));
    assert_true(rec.m[0].retain);
    assert_string_equal(rec.m[0].payload, "kept");

    for (i = 0; i < 3; i++) {
        int before = rec_count(&rec), j, retained = 0;
        so.retain_handling = steps[i].rh;
        sub1(c, "v5/rh/+", 1, &so, 0); /* an existing subscription from now on */
        assert_int_equal(kmqtt_publish(tx, "v5/rh/s", "sentinel", 8, 1, false, NULL, NULL),
                         KMQTT_OK);
        assert_true(wait_n(c, &rec, before + steps[i].retained + 1, WAIT_MS));
        for (j = before; j < rec_count(&rec) && j < MAXM; j++) {
            if (strcmp(rec.m[j].payload, "sentinel") == 0)
                break;
            retained++;
        }
        assert_int_equal(retained, steps[i].retained);
    }
    assert_int_equal(kmqtt_publish(tx, "v5/rh/t", NULL, 0, 1, true, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(tx, WAIT_MS), KMQTT_OK);
    kmqtt_client_destroy(c);
    kmqtt_client_destroy(tx);
    it_expect_baseline(&parent, &base, "rh", 0);
    pthread_mutex_destroy(&rec.mu);
}

/* Two clients in one share group: each message goes to exactly one of
 * them (MQTT-4.8.2), and the handler of "$share/g/v5/sh/+" takes them
 * (dispatch matches the filter without the $share/g/ prefix). */
static void test_shared_subscription_each_message_to_one_member(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    v5rec_t r1, r2, fallback;
    kmqtt_client_t *m1, *m2, *tx;
    kmqtt_sub_request_t req;
    kmqtt_client_options_t o;
    bool seen[20];
    int i, total;
    char payload[8];

    it_take_baseline(&parent, &base);
    rec_init(&r1);
    rec_init(&r2);
    rec_init(&fallback);
    v5_options(&o, b, "it-v5-sh1", &fallback);
    assert_int_equal(kmqtt_client_create(&o, &m1), KMQTT_OK);
    assert_int_equal(kmqtt_connect(m1, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(m1), KMQTT_OK);
    v5_options(&o, b, "it-v5-sh2", &fallback);
    assert_int_equal(kmqtt_client_create(&o, &m2), KMQTT_OK);
    assert_int_equal(kmqtt_connect(m2, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(m2), KMQTT_OK);
    memset(&req, 0, sizeof req);
    req.filter = "$share/g/v5/sh/+";
    req.qos = 1;
    req.handler = rec_handler;
    req.ctx = &r1;
    assert_int_equal(kmqtt_subscribe(m1, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    req.ctx = &r2;
    assert_int_equal(kmqtt_subscribe(m2, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);

    tx = v5_connected(b, "it-v5-sh-tx", NULL);
    for (i = 0; i < 20; i++) {
        snprintf(payload, sizeof payload, "%d", i);
        assert_int_equal(
            kmqtt_publish(tx, "v5/sh/x", payload, strlen(payload), 1, false, NULL, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_publish_wait_all(tx, WAIT_MS), KMQTT_OK);
    }
    for (i = 0; i < 100 && rec_count(&r1) + rec_count(&r2) < 20; i++)
        sleep_ms(50);
    sleep_ms(200); /* a duplicate would show now */
    total = rec_count(&r1) + rec_count(&r2);
    assert_int_equal(total, 20);
    assert_int_equal(rec_count(&fallback), 0);
    memset(seen, 0, sizeof seen);
    for (i = 0; i < rec_count(&r1); i++)
        seen[atoi(r1.m[i].payload)] = true;
    for (i = 0; i < rec_count(&r2); i++) {
        assert_false(seen[atoi(r2.m[i].payload)]);
        seen[atoi(r2.m[i].payload)] = true;
    }
    for (i = 0; i < 20; i++)
        assert_true(seen[i]);
    /* No Local on a shared subscription is a protocol error: refused here
     * (MQTT-3.8.3-4). */
    {
        kmqtt_sub_options_t so;
        kmqtt_subscribe_props_t sp;
        memset(&so, 0, sizeof so);
        memset(&sp, 0, sizeof sp);
        so.no_local = true;
        sp.options = &so;
        assert_int_equal(kmqtt_subscribe(m1, &req, 1, WAIT_MS, &sp, NULL), KMQTT_EINVAL);
    }
    kmqtt_client_destroy(tx);
    kmqtt_client_destroy(m2);
    kmqtt_client_destroy(m1);
    it_expect_baseline(&parent, &base, "shared", 0);
    pthread_mutex_destroy(&r1.mu);
    pthread_mutex_destroy(&r2.mu);
    pthread_mutex_destroy(&fallback.mu);
}

/* Subscription identifiers set on subscribe come back on each matching
 * message (MQTT-3.3.4-3), one per matching subscription. */
static void test_subscription_identifiers_reported_per_message(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    v5rec_t rec;
    kmqtt_client_t *c;
    kmqtt_sub_options_t so;
    bool seen42 = false, seenmax = false;
    int i, j;

    it_take_baseline(&parent, &base);
    rec_init(&rec);
    c = v5_connected(b, "it-v5-subid", &rec);
    memset(&so, 0, sizeof so);
    sub1(c, "v5/sid/+", 1, &so, 42);
    sub1(c, "v5/sid/#", 1, &so, 268435455);
    assert_int_equal(kmqtt_publish(c, "v5/sid/a", "x", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_true(wait_n(c, &rec, 1, WAIT_MS));
    (void)wait_n(c, &rec, 2, 500);
    /* One PUBLISH with both identifiers, or (mosquitto 2.0.11) one per
     * matching subscription, each with its own: both ids reported. */
    for (i = 0; i < rec_count(&rec); i++) {
        for (j = 0; j < rec.m[i].nsubid; j++) {
            seen42 = seen42 || rec.m[i].subid[j] == 42;
            seenmax = seenmax || rec.m[i].subid[j] == 268435455;
        }
    }
    assert_true(seen42);
    assert_true(seenmax);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "subid", 0);
    pthread_mutex_destroy(&rec.mu);
}

/* ------------------------------------------------------ request/response */

/* The responder answers on the request's Response Topic with its
 * Correlation Data (MQTT-4.10). */
static void responder(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    kmqtt_str_t rt;
    kmqtt_bin_t corr;
    kmqtt_publish_props_t pp;
    char topic[64], reply[128];
    int n;

    (void)ctx;
    if (!kmqtt_msg_response_topic(msg, &rt) || !kmqtt_msg_correlation_data(msg, &corr))
        return;
    cpy(topic, sizeof topic, rt.ptr, rt.len);
    n = snprintf(reply, sizeof reply, "re:%.*s", (int)msg->payload.len,
                 (const char *)msg->payload.ptr);
    memset(&pp, 0, sizeof pp);
    pp.correlation_data = corr.ptr;
    pp.correlation_len = corr.len;
    (void)kmqtt_publish(c, topic, reply, (size_t)n, 1, false, &pp, NULL);
}

static void test_request_response_helper(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_t *svc, *req;
    kmqtt_sub_request_t s;
    char reply[64], small[4];
    size_t len = 0;
    int i;

    it_take_baseline(&parent, &base);
    svc = v5_connected(b, "it-v5-svc", NULL);
    assert_int_equal(kmqtt_start(svc), KMQTT_OK);
    memset(&s, 0, sizeof s);
    s.filter = "v5/svc/req";
    s.qos = 1;
    s.handler = responder;
    assert_int_equal(kmqtt_subscribe(svc, &s, 1, WAIT_MS, NULL, NULL), KMQTT_OK);

    req = v5_connected(b, "it-v5-req", NULL);
    for (i = 0; i < 3; i++) {
        char q[8], want[16];
        snprintf(q, sizeof q, "q%d", i);
        snprintf(want, sizeof want, "re:q%d", i);
        memset(reply, 0, sizeof reply);
        assert_int_equal(kmqtt_request(req, "v5/svc/req", q, strlen(q), 1, "v5/svc/reply/1",
                                       WAIT_MS, reply, sizeof reply - 1, &len),
                         KMQTT_OK);
        assert_int_equal(len, strlen(want));
        assert_string_equal(reply, want);
    }
    /* A reply larger than the buffer: nothing truncated, its size told. */
    assert_int_equal(kmqtt_request(req, "v5/svc/req", "long", 4, 1, "v5/svc/reply/1", WAIT_MS,
                                   small, sizeof small, &len),
                     KMQTT_ENOBUFS);
    assert_int_equal(len, 7);
    /* Nobody answers on a topic without a responder. */
    assert_int_equal(kmqtt_request(req, "v5/svc/none", "x", 1, 0, "v5/svc/reply/1", 300, reply,
                                   sizeof reply, &len),
                     KMQTT_ETIMEDOUT);
    kmqtt_client_destroy(req);
    kmqtt_client_destroy(svc);
    it_expect_baseline(&parent, &base, "request", 0);
}

/* ---------------------------------------------------------- reason codes */

/* mosquitto answers a QoS 1 publish nobody subscribed to with PUBACK 0x10
 * (No matching subscribers), and UNSUBSCRIBE of an unknown filter with
 * 0x11 (No subscription existed); both reach the application. */
static void test_reason_codes_reach_the_application(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_t *c;
    const char *filters[2] = {"v5/rc/never", "v5/rc/sub"};
    kmqtt_unsubscribe_result_t reasons;
    uint8_t reason = 0xff;
    uint16_t id = 0;

    it_take_baseline(&parent, &base);
    c = v5_connected(b, "it-v5-rc", NULL);
    assert_int_equal(kmqtt_publish(c, "v5/rc/nobody", "x", 1, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, &reason), KMQTT_OK);
    assert_int_equal(reason, 0x10);
    sub1(c, "v5/rc/sub", 0, NULL, 0);
    assert_int_equal(kmqtt_unsubscribe(c, filters, 2, WAIT_MS, NULL, &reasons), KMQTT_OK);
    assert_int_equal(reasons.reason_codes[0], 0x11);
    assert_int_equal(reasons.reason_codes[1], 0x00);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "reason codes", 0);
}

/* --------------------------------------------------- server DISCONNECT */

typedef struct order {
    pthread_mutex_t mu;
    char log[256];
    uint8_t reason;
} order_t;

static void on_disc(kmqtt_client_t *c, const kmqtt_disconnect_info_t *info, void *ctx)
{
    order_t *o = ctx;
    (void)c;
    pthread_mutex_lock(&o->mu);
    o->reason = info->reason_code;
    strcat(o->log, "disconnect;");
    pthread_mutex_unlock(&o->mu);
}

static void on_state_log(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    order_t *o = ctx;
    char line[48];
    (void)c;
    snprintf(line, sizeof line, "state%d:%d;", (int)st, (int)err);
    pthread_mutex_lock(&o->mu);
    if (strlen(o->log) + strlen(line) < sizeof o->log)
        strcat(o->log, line);
    pthread_mutex_unlock(&o->mu);
}

static bool lost_seen(void *arg)
{
    order_t *o = arg;
    bool seen;
    pthread_mutex_lock(&o->mu);
    seen = strstr(o->log, "state3:") != NULL;
    pthread_mutex_unlock(&o->mu);
    return seen;
}

/* A second client with our id takes the session over. mosquitto 2.0.11
 * sends no DISCONNECT 0x8E for it (checked with a raw socket: it just
 * closes), so the client reports the plain close: CONNECTION_LOST with
 * KMQTT_ECLOSED and no on_disconnect. The ordering of a real server
 * DISCONNECT before the loss is tested with the broker double
 * (test_v5_double.c). */
static void test_session_takeover_reported_as_connection_lost(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_options_t o;
    kmqtt_client_t *first, *second;
    order_t ord;
    char want[64];

    it_take_baseline(&parent, &base);
    memset(&ord, 0, sizeof ord);
    pthread_mutex_init(&ord.mu, NULL);
    v5_options(&o, b, "it-v5-takeover", NULL);
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.on_disconnect = on_disc;
    o.on_state = on_state_log;
    o.ctx = &ord;
    assert_int_equal(kmqtt_client_create(&o, &first), KMQTT_OK);
    assert_int_equal(kmqtt_connect(first, 0, NULL), KMQTT_OK);
    second = v5_connected(b, "it-v5-takeover", NULL);
    (void)it_pump(first, WAIT_MS, lost_seen, &ord);
    snprintf(want, sizeof want, "state%d:%d;", (int)KMQTT_STATE_CONNECTION_LOST,
             (int)KMQTT_ECLOSED);
    assert_non_null(strstr(ord.log, want));
    assert_null(strstr(ord.log, "disconnect;"));
    assert_int_equal(kmqtt_client_state(second), KMQTT_STATE_CONNECTED);
    kmqtt_client_destroy(second);
    kmqtt_client_destroy(first);
    it_expect_baseline(&parent, &base, "takeover", 0);
    pthread_mutex_destroy(&ord.mu);
}

/* ------------------------------------------------------------ flow control */

/* Outbound topic aliases against mosquitto (Topic Alias Maximum 10): the
 * same topic published repeatedly, with more topics than slots, arrives
 * with the right topic every time (mosquitto resolved every alias; a
 * wrong one would end the connection; never above its maximum, MQTT-3.3.2-9). */
static void test_outbound_aliases_resolved_by_mosquitto(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_options_t o;
    v5rec_t rec;
    kmqtt_client_t *rx, *tx;
    char topic[32];
    int i;

    it_take_baseline(&parent, &base);
    rec_init(&rec);
    rx = v5_connected(b, "it-v5-alias-rx", &rec);
    sub1(rx, "v5/alias/#", 0, NULL, 0);
    v5_options(&o, b, "it-v5-alias-tx", NULL);
    o.topic_alias_out = 2;
    assert_int_equal(kmqtt_client_create(&o, &tx), KMQTT_OK);
    assert_int_equal(kmqtt_connect(tx, 0, NULL), KMQTT_OK);
    for (i = 0; i < 24; i++) {
        snprintf(topic, sizeof topic, "v5/alias/t%d", i % 3);
        assert_int_equal(kmqtt_publish(tx, topic, topic, strlen(topic), 1, false, NULL, NULL),
                         KMQTT_OK);
        assert_int_equal(kmqtt_publish_wait_all(tx, WAIT_MS), KMQTT_OK);
    }
    assert_true(wait_n(rx, &rec, 24, WAIT_MS));
    for (i = 0; i < 24; i++) {
        assert_string_equal(rec.m[i].topic, rec.m[i].payload);
    }
    assert_int_equal(kmqtt_client_state(tx), KMQTT_STATE_CONNECTED);
    kmqtt_client_destroy(tx);
    kmqtt_client_destroy(rx);
    it_expect_baseline(&parent, &base, "aliases", 0);
    pthread_mutex_destroy(&rec.mu);
}

/* Our Maximum Packet Size: mosquitto drops a message larger than we
 * advertised instead of sending it (MQTT-3.1.2-24, -25); the next one arrives. */
static void test_our_maximum_packet_size_honoured_by_mosquitto(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_options_t o;
    v5rec_t rec;
    kmqtt_client_t *rx, *tx;
    char big[500];

    it_take_baseline(&parent, &base);
    rec_init(&rec);
    v5_options(&o, b, "it-v5-mps-rx", &rec);
    o.maximum_packet_size = 200;
    assert_int_equal(kmqtt_client_create(&o, &rx), KMQTT_OK);
    assert_int_equal(kmqtt_connect(rx, 0, NULL), KMQTT_OK);
    sub1(rx, "v5/mps", 1, NULL, 0);
    tx = v5_connected(b, "it-v5-mps-tx", NULL);
    memset(big, 'b', sizeof big);
    assert_int_equal(kmqtt_publish(tx, "v5/mps", big, sizeof big, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(tx, "v5/mps", "small", 5, 1, false, NULL, NULL), KMQTT_OK);
    assert_true(wait_n(rx, &rec, 1, WAIT_MS));
    assert_string_equal(rec.m[0].payload, "small");
    assert_int_equal(kmqtt_client_state(rx), KMQTT_STATE_CONNECTED);
    kmqtt_client_destroy(tx);
    kmqtt_client_destroy(rx);
    it_expect_baseline(&parent, &base, "our max packet", 0);
    pthread_mutex_destroy(&rec.mu);
}

/* Our Receive Maximum: with 2 advertised, mosquitto has at most 2 QoS 1
 * messages unacknowledged towards us (MQTT-3.3.4-9). The first handler
 * blocks (so no PUBACK after the first leaves); mosquitto's log shows
 * how many it sent meanwhile. */
static void test_our_receive_maximum_honoured_by_mosquitto(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_options_t o;
    v5rec_t rec;
    kmqtt_client_t *rx, *tx;
    size_t before, sent_while_blocked;
    int i;

    it_take_baseline(&parent, &base);
    rec_init(&rec);
    v5_options(&o, b, "it-v5-rmax", &rec);
    o.receive_maximum = 2;
    assert_int_equal(kmqtt_client_create(&o, &rx), KMQTT_OK);
    assert_int_equal(kmqtt_connect(rx, 0, NULL), KMQTT_OK);
    sub1(rx, "v5/rmax", 1, NULL, 0);
    assert_int_equal(kmqtt_start(rx), KMQTT_OK);
    rec.block_first_ms = 1500;
    before = broker_log_count(b, "Sending PUBLISH to it-v5-rmax");
    tx = v5_connected(b, "it-v5-rmax-tx", NULL);
    for (i = 0; i < 8; i++)
        assert_int_equal(kmqtt_publish(tx, "v5/rmax", "m", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(tx, WAIT_MS), KMQTT_OK);
    /* all 8 reached mosquitto; the receiver is still blocked in its handler */
    assert_true(broker_log_wait(b, "Sending PUBLISH to it-v5-rmax", before + 1, WAIT_MS));
    sleep_ms(500);
    sent_while_blocked = broker_log_count(b, "Sending PUBLISH to it-v5-rmax") - before;
    /* The first PUBACK may have left before the handler ran: 3 at most. */
    assert_true(sent_while_blocked <= 3);
    for (i = 0; i < 100 && rec_count(&rec) < 8; i++)
        sleep_ms(50);
    assert_int_equal(rec_count(&rec), 8);
    kmqtt_client_destroy(tx);
    kmqtt_client_destroy(rx);
    it_expect_baseline(&parent, &base, "receive max", 0);
    pthread_mutex_destroy(&rec.mu);
}

/* Issue #15: a burst of 20 QoS 2 messages into a subscriber that advertised
 * Receive Maximum 4. mosquitto 2.0.11 counts its quota back at PUBREC, not
 * PUBCOMP, so more than 4 wait for their PUBREL at us at once (MQTT-3.3.4-9
 * binds the server; the 0x93 sentence of 3.3.4 has no normative id). The
 * client tolerates it (docs/architecture.md, decision 6): every message
 * arrives exactly once (MQTT-4.3.3) and the connection stays. The old
 * session ended it with KMQTT_EPROTOCOL after 5 to 8 messages. */
static void test_qos2_burst_beyond_our_receive_maximum(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_options_t o;
    v5rec_t rec;
    kmqtt_client_t *rx, *tx;
    bool seen[20];
    char payload[8];
    int i;

    it_take_baseline(&parent, &base);
    rec_init(&rec);
    v5_options(&o, b, "it-v5-burst", &rec);
    o.receive_maximum = 4;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.on_state = rec_state;
    assert_int_equal(kmqtt_client_create(&o, &rx), KMQTT_OK);
    assert_int_equal(kmqtt_connect(rx, 0, NULL), KMQTT_OK);
    sub1(rx, "v5/burst", 2, NULL, 0);
    assert_int_equal(kmqtt_start(rx), KMQTT_OK);
    tx = v5_connected(b, "it-v5-burst-tx", NULL);
    for (i = 0; i < 20; i++) {
        snprintf(payload, sizeof payload, "m%02d", i);
        assert_int_equal(kmqtt_publish(tx, "v5/burst", payload, 3, 2, false, NULL, NULL), KMQTT_OK);
    }
    assert_int_equal(kmqtt_publish_wait_all(tx, WAIT_MS), KMQTT_OK);
    for (i = 0; i < 200 && rec_count(&rec) < 20 && rec.lost == 0; i++)
        sleep_ms(25);
    sleep_ms(200); /* a copy delivered twice would have come by now */
    pthread_mutex_lock(&rec.mu);
    print_message("qos2 burst: %d of 20 received, %d connection lost (%s)\n", rec.n, rec.lost,
                  rec.lost ? kmqtt_strerror(rec.lost_err) : "-");
    assert_int_equal(rec.lost, 0);
    assert_int_equal(rec.n, 20);
    memset(seen, 0, sizeof seen);
    for (i = 0; i < 20; i++) {
        int k = atoi(rec.m[i].payload + 1);
        assert_int_equal(rec.m[i].qos, 2);
        assert_true(k >= 0 && k < 20 && !seen[k]);
        seen[k] = true;
    }
    pthread_mutex_unlock(&rec.mu);
    assert_int_equal(kmqtt_client_state(rx), KMQTT_STATE_CONNECTED);
    kmqtt_client_destroy(tx);
    kmqtt_client_destroy(rx);
    it_expect_baseline(&parent, &base, "qos2 burst", 0);
    pthread_mutex_destroy(&rec.mu);
}

/* A 3.1.1 client keeps 3.1.1 behaviour: any 5.0 part of a call (props
 * not NULL, even a zeroed one) is refused with KMQTT_ENEEDV5 before
 * anything is sent, and it connects with protocol level 4 as before. */
static void test_v311_client_refuses_5_0_calls(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_publish_props_t pp;
    kmqtt_sub_options_t so;
    kmqtt_subscribe_props_t sp;
    kmqtt_unsubscribe_props_t unp;
    kmqtt_disconnect_props_t dp;
    kmqtt_sub_request_t r;
    char reply[8];

    it_take_baseline(&parent, &base);
    it_options(&o, b, "it-v5-as311");
    o.mem = &parent;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_true(broker_log_wait(b, "as it-v5-as311 (p2,", 1, WAIT_MS));
    memset(&pp, 0, sizeof pp);
    pp.content_type = "x";
    assert_int_equal(kmqtt_publish(c, "v5/311", "x", 1, 0, false, &pp, NULL), KMQTT_ENEEDV5);
    assert_int_equal(kmqtt_publish(c, "v5/311", "x", 1, 0, false, NULL, NULL), KMQTT_OK);
    memset(&pp, 0, sizeof pp);
    assert_int_equal(kmqtt_publish(c, "v5/311", "x", 1, 0, false, &pp, NULL), KMQTT_ENEEDV5);
    memset(&so, 0, sizeof so);
    memset(&sp, 0, sizeof sp);
    memset(&unp, 0, sizeof unp);
    so.no_local = true;
    sp.options = &so;
    memset(&r, 0, sizeof r);
    r.filter = "v5/311";
    assert_int_equal(kmqtt_subscribe(c, &r, 1, WAIT_MS, &sp, NULL), KMQTT_ENEEDV5);
    assert_int_equal(kmqtt_unsubscribe(c, &r.filter, 1, WAIT_MS, &unp, NULL), KMQTT_ENEEDV5);
    assert_non_null(strstr(kmqtt_strerror(KMQTT_ENEEDV5), "5.0"));
    assert_int_equal(
        kmqtt_request(c, "v5/311", "x", 1, 0, "v5/311/r", 100, reply, sizeof reply, NULL),
        KMQTT_ENEEDV5);
    assert_int_equal(kmqtt_reauthenticate(c, NULL, 0, 100, NULL), KMQTT_ENEEDV5);
    memset(&dp, 0, sizeof dp);
    dp.set_session_expiry = true;
    dp.session_expiry_s = 10;
    assert_int_equal(kmqtt_disconnect(c, &dp), KMQTT_ENEEDV5);
    memset(&dp, 0, sizeof dp);
    assert_int_equal(kmqtt_disconnect(c, &dp), KMQTT_ENEEDV5);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "3.1.1", 0);
}

/* User properties on SUBSCRIBE and UNSUBSCRIBE and a Reason String with
 * user properties on DISCONNECT are well-formed for mosquitto: the
 * SUBSCRIBE is granted, the UNSUBSCRIBE succeeds, and the DISCONNECT is
 * taken as a normal one (DISCONNECT 0x00 removes the will: none is published). A Reason
 * String on SUBSCRIBE cannot be given (kmqtt_subscribe_props_t has no such
 * field, 3.8.2.1); too many user properties are refused before sending. */
static void test_properties_on_subscribe_unsubscribe_disconnect(void **state)
{
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_options_t o;
    v5rec_t rec;
    kmqtt_client_t *obs, *c;
    kmqtt_user_prop_t up[2] = {{"req", "42"}, {"by", "test"}};
    kmqtt_user_prop_t many[KMQTT_USER_PROPS_MAX + 1];
    kmqtt_subscribe_props_t sp;
    kmqtt_unsubscribe_props_t unp;
    kmqtt_disconnect_props_t dp;
    kmqtt_sub_request_t r;
    const char *filter = "v5/pp/t";
    kmqtt_subscribe_result_t granted;
    kmqtt_unsubscribe_result_t reason;
    size_t before;
    int i;

    it_take_baseline(&parent, &base);
    rec_init(&rec);
    obs = v5_connected(b, "it-v5-pp-obs", &rec);
    sub1(obs, "v5/pp/will", 0, NULL, 0);
    v5_options(&o, b, "it-v5-pp", NULL);
    o.has_will = true;
    o.will_topic = "v5/pp/will";
    o.will_payload = "w";
    o.will_payload_len = 1;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);

    memset(&sp, 0, sizeof sp);
    sp.user_props = up;
    sp.user_prop_count = 2;
    memset(&unp, 0, sizeof unp);
    unp.user_props = up;
    unp.user_prop_count = 2;
    memset(&r, 0, sizeof r);
    r.filter = filter;
    r.qos = 1;
    assert_int_equal(kmqtt_subscribe(c, &r, 1, WAIT_MS, &sp, &granted), KMQTT_OK);
    assert_int_equal(granted.reason_codes[0], 1);
    assert_int_equal(kmqtt_unsubscribe(c, &filter, 1, WAIT_MS, &unp, &reason), KMQTT_OK);
    assert_int_equal(reason.reason_codes[0], 0);
    for (i = 0; i <= (int)KMQTT_USER_PROPS_MAX; i++) {
        many[i].name = "n";
        many[i].value = "v";
    }
    unp.user_props = many;
    unp.user_prop_count = KMQTT_USER_PROPS_MAX + 1;
    assert_int_equal(kmqtt_unsubscribe(c, &filter, 1, WAIT_MS, &unp, NULL), KMQTT_ELIMIT);

    before = broker_log_count(b, "Received DISCONNECT from it-v5-pp");
    memset(&dp, 0, sizeof dp);
    dp.user_props = up;
    dp.user_prop_count = 2;
    dp.reason_string = "maintenance";
    assert_int_equal(kmqtt_disconnect(c, &dp), KMQTT_OK);
    assert_true(broker_log_wait(b, "Received DISCONNECT from it-v5-pp", before + 1, WAIT_MS));
    assert_false(wait_n(obs, &rec, 1, 500));
    kmqtt_client_destroy(c);
    kmqtt_client_destroy(obs);
    it_expect_baseline(&parent, &base, "packet props", 0);
    pthread_mutex_destroy(&rec.mu);
}

/* ------------------------------------------------------- limited broker */

static int setup_limited(void **state)
{
    broker_opts_t o;

    memset(&o, 0, sizeof o);
    o.log_all = true;
    o.max_qos = 1;
    o.extra_conf = "max_packet_size 300";
    *state = it_group_broker(&parent, &o);
    return *state != NULL ? 0 : -1;
}

/* mosquitto with max_qos 1 and max_packet_size 300: its CONNACK says so,
 * a QoS 2 publish is refused with KMQTT_EUNSUPPORTED (MQTT-3.2.2-11) and
 * a too-large one with KMQTT_ETOOBIG (MQTT-3.2.2-15), nothing sent
 * either time; the connection stays up and a fitting publish works. */
static void test_server_limits_refused_locally(void **state)
{
    kmqtt_publish_result_t pr;
    broker_t *b = *state;
    it_baseline_t base;
    kmqtt_client_t *c;
    kmqtt_connack_info_t ci;
    char big[400];
    size_t received;
    uint16_t id = 0;

    it_take_baseline(&parent, &base);
    c = v5_connected(b, "it-v5-limits", NULL);
    assert_int_equal(kmqtt_client_connack(c, &ci), KMQTT_OK);
    assert_int_equal(ci.maximum_qos, 1);
    assert_int_equal(ci.maximum_packet_size, 300);
    received = broker_log_count(b, "Received PUBLISH from it-v5-limits");
    assert_int_equal(kmqtt_publish(c, "v5/lim", "x", 1, 2, false, NULL, NULL), KMQTT_EUNSUPPORTED);
    memset(big, 'x', sizeof big);
    assert_int_equal(kmqtt_publish(c, "v5/lim", big, sizeof big, 1, false, NULL, NULL),
                     KMQTT_ETOOBIG);
    assert_int_equal(kmqtt_publish(c, "v5/lim", "ok", 2, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    assert_true(broker_log_wait(b, "Received PUBLISH from it-v5-limits", received + 1, WAIT_MS));
    sleep_ms(100);
    assert_int_equal(broker_log_count(b, "Received PUBLISH from it-v5-limits"), received + 1);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "limits", 0);
}

/* After an automatic reconnect to a broker that lost our session (a
 * restarted mosquitto without persistence), the client subscribes again
 * with the 5.0 options it was given: the Subscription Identifier comes
 * back on messages and No Local still holds. */
static void test_resubscribe_keeps_5_0_options(void **state)
{
    broker_opts_t bo;
    broker_t *b;
    it_baseline_t base;
    kmqtt_client_options_t o;
    v5rec_t rec;
    kmqtt_client_t *c, *tx;
    kmqtt_sub_options_t so;
    int i;

    (void)state;
    memset(&bo, 0, sizeof bo);
    bo.log_all = true;
    b = broker_start(&bo);
    assert_non_null(b);
    it_take_baseline(&parent, &base);
    rec_init(&rec);
    v5_options(&o, b, "it-v5-resub", &rec);
    o.reconnect = KMQTT_RECONNECT_ON;
    o.reconnect_min_ms = 100;
    o.reconnect_max_ms = 400;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    memset(&so, 0, sizeof so);
    so.no_local = true;
    sub1(c, "v5/resub/#", 1, &so, 77);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);

    assert_int_equal(broker_restart(b), 0);
    assert_true(broker_log_wait(b, "Sending SUBACK to it-v5-resub", 1, 4u * WAIT_MS));
    assert_int_equal(kmqtt_publish(c, "v5/resub/own", "own", 3, 1, false, NULL, NULL), KMQTT_OK);
    tx = v5_connected(b, "it-v5-resub-tx", NULL);
    assert_int_equal(kmqtt_publish(tx, "v5/resub/x", "theirs", 6, 1, false, NULL, NULL), KMQTT_OK);
    for (i = 0; i < 100 && rec_count(&rec) < 1; i++)
        sleep_ms(50);
    sleep_ms(300);
    assert_int_equal(rec_count(&rec), 1);
    assert_string_equal(rec.m[0].payload, "theirs");
    assert_int_equal(rec.m[0].nsubid, 1);
    assert_int_equal(rec.m[0].subid[0], 77);
    kmqtt_client_destroy(tx);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "resubscribe", 0);
    pthread_mutex_destroy(&rec.mu);
    broker_stop(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_properties_round_trip_in_order),
        cmocka_unit_test(test_no_local_drops_only_our_own_messages),
        cmocka_unit_test(test_retain_as_published_keeps_the_flag),
        cmocka_unit_test(test_retain_handling_0_1_2),
        cmocka_unit_test(test_shared_subscription_each_message_to_one_member),
        cmocka_unit_test(test_subscription_identifiers_reported_per_message),
        cmocka_unit_test(test_request_response_helper),
        cmocka_unit_test(test_reason_codes_reach_the_application),
        cmocka_unit_test(test_session_takeover_reported_as_connection_lost),
        cmocka_unit_test(test_outbound_aliases_resolved_by_mosquitto),
        cmocka_unit_test(test_our_maximum_packet_size_honoured_by_mosquitto),
        cmocka_unit_test(test_our_receive_maximum_honoured_by_mosquitto),
        cmocka_unit_test(test_qos2_burst_beyond_our_receive_maximum),
        cmocka_unit_test(test_v311_client_refuses_5_0_calls),
        cmocka_unit_test(test_properties_on_subscribe_unsubscribe_disconnect),
    };
    const struct CMUnitTest limited[] = {
        cmocka_unit_test(test_server_limits_refused_locally),
        cmocka_unit_test(test_resubscribe_keeps_5_0_options),
    };
    int rc = cmocka_run_group_tests_name("v5 against mosquitto", tests, setup, teardown);
    rc += cmocka_run_group_tests_name("v5 against a limited mosquitto", limited, setup_limited,
                                      teardown);
    return rc;
}
