/*
 * The integration core against each broker (see bk_core.h). The threaded
 * client through its public API only; no background thread, so each wait
 * runs the client's loop itself (it_pump and the blocking calls).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bk_core.h"

#include <stdio.h>
#include <string.h>

#include "bk_target.h"

#define WAIT_MS 15000u

/* Publishes count messages "m<first>".. on topic at qos and waits until
 * every QoS 1/2 one is acknowledged (every QoS 0 one written). */
static void publish_range(kmqtt_client_t *c, const char *topic, unsigned first, unsigned count,
                          uint8_t qos, bool retain)
{
    char p[32];
    unsigned i;
    for (i = first; i < first + count; i++) {
        kmqtt_err_t err;
        bk_payload(p, i);
        /* A full window (max_inflight): run the loop until acks free it. */
        while ((err = kmqtt_publish(c, topic, p, strlen(p), qos, retain, NULL, NULL)) ==
               KMQTT_ELIMIT)
            assert_int_equal(kmqtt_run(c, 50), KMQTT_OK);
        assert_int_equal(err, KMQTT_OK);
    }
    assert_int_equal(kmqtt_flush(c, WAIT_MS), KMQTT_OK);
}

/* r holds exactly the messages m<first>..m<first+count-1>, in order, on
 * topic, each at qos, none retained. */
static void expect_stream(it_rec_t *r, const char *topic, unsigned first, unsigned count,
                          uint8_t qos)
{
    char p[32];
    unsigned i;
    assert_int_equal(it_rec_count(r), (int)count);
    for (i = 0; i < count; i++) {
        const it_msg_t *m = &r->msgs[i];
        bk_payload(p, first + i);
        assert_string_equal(m->topic, topic);
        assert_int_equal(m->len, strlen(p));
        assert_memory_equal(m->payload, p, m->len);
        assert_int_equal(m->qos, qos);
        /* MQTT-3.3.1-9: a message sent to an existing subscription is not
         * flagged retained. */
        assert_false(m->retain);
    }
}

/* Waits until r has n messages; then, to see that nothing more comes,
 * pumps until a marker published afterwards on the same topic arrived:
 * a broker keeps the order of one topic (MQTT-4.6.0-5), so anything that
 * was still coming is in r before the marker. */
static void settle(kmqtt_client_t *sub, it_rec_t *r, kmqtt_client_t *pub, const char *topic)
{
    int before = it_rec_count(r);
    assert_int_equal(kmqtt_publish(pub, topic, "marker", 6, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(pub, WAIT_MS), KMQTT_OK);
    assert_true(it_wait_msgs(sub, r, before + 1, WAIT_MS));
    assert_int_equal(it_rec_count(r), before + 1);
    assert_int_equal(r->msgs[before].len, 6);
    assert_memory_equal(r->msgs[before].payload, "marker", 6);
    r->n = before;
}

static void stream_case(const char *leaf, uint8_t sub_qos, uint8_t pub_qos, unsigned count)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *sub, *pub;
    char id_s[64], id_p[64], topic[128];
    uint8_t granted, want;
    it_rec_t r;

    it_rec_init(&r);
    bk_topic(topic, leaf);
    bk_options(&o, bk_sub_node(), KMQTT_V311, leaf, id_s);
    sub = bk_connect(&o, NULL);
    granted = bk_subscribe(sub, topic, sub_qos, &r);
    want = sub_qos < bk.max_qos ? sub_qos : bk.max_qos;
    if (granted != sub_qos) {
        /* MQTT-3.8.4-6: the server may grant a lower maximum QoS. */
        bk_departure("MQTT-3.8.4-6", "a lower QoS granted than requested (allowed)");
    }
    assert_int_equal(granted, want);

    {
        char pre[40];
        snprintf(pre, sizeof pre, "%spub", leaf);
        bk_options(&o, 0, KMQTT_V311, pre, id_p);
    }
    pub = bk_connect(&o, NULL);
    publish_range(pub, topic, 0, count, pub_qos, false);
    /* MQTT-3.8.4-7 / 3.3.5: delivered at the lower of the publish QoS and
     * the granted QoS. */
    assert_true(it_wait_msgs(sub, &r, (int)count, WAIT_MS));
    settle(sub, &r, pub, topic);
    expect_stream(&r, topic, 0, count, pub_qos < granted ? pub_qos : granted);
    kmqtt_client_destroy(pub);
    kmqtt_client_destroy(sub);
    it_rec_destroy(&r);
}

void bk_core_qos0(void **state)
{
    (void)state;
    stream_case("qos0", 0, 0, 20);
}

void bk_core_qos1(void **state)
{
    (void)state;
    /* MQTT-4.3.2-2 / 4.6.0-2: every QoS 1 message once here (no
     * reconnect), in the order sent. */
    stream_case("qos1", 1, 1, 50);
}

static void count_done(kmqtt_client_t *c, uint16_t packet_id, kmqtt_err_t err, uint8_t reason,
                       void *ctx)
{
    (void)c;
    (void)packet_id;
    (void)err;
    (void)reason;
    (*(int *)ctx)++;
}

void bk_core_qos2(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *pub, *sub;
    char id[64], ids[64], topic[128];
    kmqtt_publish_result_t res;
    int done = 0;
    it_rec_t r;

    (void)state;
    if (bk.max_qos == 2) {
        /* MQTT-4.3.3: exactly once, PUBREC/PUBREL/PUBCOMP completed. */
        stream_case("qos2", 2, 2, 20);
        return;
    }
    /* A broker without QoS 2 (RabbitMQ 3.10): a subscription is granted at
     * most its maximum (checked by stream_case), and a QoS 2 PUBLISH is
     * delivered at QoS 1 and answered with PUBACK instead of PUBREC
     * (MQTT-4.3.3). A PUBACK for an id the client holds as QoS 2 is an ack of
     * the wrong kind, which the one engine takes as the protocol violation it
     * is (docs/architecture.md, decision 5): the wait says KMQTT_EPROTOCOL,
     * the connection ends, nothing hangs, and a new connection carries QoS 0
     * and 1 as before. Publish at most QoS 1 to such a broker. */
    stream_case("qos2", 2, 1, 10);
    bk_departure("MQTT-4.3.3", "a QoS 2 PUBLISH is delivered at QoS 1 and answered with "
                               "PUBACK, not PUBREC");
    it_rec_init(&r);
    bk_topic(topic, "qos2/raw");
    bk_options(&o, bk_sub_node(), KMQTT_V311, "q2sub", ids);
    sub = bk_connect(&o, NULL);
    (void)bk_subscribe(sub, topic, 2, &r);
    bk_options(&o, 0, KMQTT_V311, "q2pub", id);
    o.reconnect = KMQTT_RECONNECT_OFF;
    pub = bk_connect(&o, NULL);
    assert_int_equal(kmqtt_publish(pub, topic, "two", 3, 2, false, NULL, &res), KMQTT_OK);
    assert_true(it_wait_msgs(sub, &r, 1, WAIT_MS));
    assert_int_equal(r.msgs[0].qos, 1);
    assert_int_equal(kmqtt_publish_wait(pub, res.packet_id, WAIT_MS, NULL), KMQTT_EPROTOCOL);
    assert_int_not_equal(kmqtt_client_state(pub), KMQTT_STATE_CONNECTED);
    kmqtt_client_destroy(pub);
    bk_options(&o, 0, KMQTT_V311, "q2pub1", id);
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.on_publish_done = count_done;
    o.ctx = &done;
    pub = bk_connect(&o, NULL);
    assert_int_equal(kmqtt_publish(pub, topic, "one", 3, 1, false, NULL, &res), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait(pub, res.packet_id, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(done, 1);
    assert_true(it_wait_msgs(sub, &r, 2, WAIT_MS));
    assert_int_equal(r.msgs[1].qos, 1);
    kmqtt_client_destroy(pub);
    kmqtt_client_destroy(sub);
    it_rec_destroy(&r);
}

/* A new subscriber on node subscribes to topic. expect: the retained
 * message want must come (waited for up to WAIT_MS), flagged retained;
 * else nothing may come within 2 s (a broker that sends it later than that
 * passes this check wrongly; one that sends it never fails it wrongly). */
static void retained_on(int node, const char *topic, const char *want, bool expect,
                        kmqtt_client_t *pub)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *sub;
    char id[64], leaf[32];
    it_rec_t r;

    it_rec_init(&r);
    snprintf(leaf, sizeof leaf, "ret%d", node);
    bk_options(&o, node, KMQTT_V311, leaf, id);
    sub = bk_connect(&o, NULL);
    (void)bk_subscribe(sub, topic, 1, &r);
    if (expect) {
        /* MQTT-3.3.1-6: the retained message, flagged, on subscribing. */
        assert_true(it_wait_msgs(sub, &r, 1, WAIT_MS));
        assert_true(r.msgs[0].retain);
        assert_int_equal(r.msgs[0].len, strlen(want));
        assert_memory_equal(r.msgs[0].payload, want, r.msgs[0].len);
        /* MQTT-3.3.1-9: a live message is not flagged. */
        assert_int_equal(kmqtt_publish(pub, topic, "live", 4, 1, false, NULL, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_publish_wait_all(pub, WAIT_MS), KMQTT_OK);
        assert_true(it_wait_msgs(sub, &r, 2, WAIT_MS));
        assert_false(r.msgs[1].retain);
    } else {
        (void)it_wait_msgs(sub, &r, 1, 2000);
        assert_int_equal(it_rec_count(&r), 0);
    }
    kmqtt_client_destroy(sub);
    it_rec_destroy(&r);
}

void bk_core_retained(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *pub;
    char id[64], topic[128];

    (void)state;
    bk_topic(topic, "retained");
    bk_options(&o, 0, KMQTT_V311, "retpub", id);
    pub = bk_connect(&o, NULL);
    assert_int_equal(kmqtt_publish(pub, topic, "kept", 4, 1, true, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(pub, WAIT_MS), KMQTT_OK);

    /* MQTT-3.3.1-5 / -6: kept and sent to a new subscriber on its node. */
    retained_on(0, topic, "kept", true, pub);
    if (bk_count(bk.cl) > 1) {
        retained_on(bk_sub_node(), topic, "kept", bk.retained_cluster_wide, pub);
        if (!bk.retained_cluster_wide)
            bk_departure("MQTT-3.3.1-6", "a retained message is kept by the node it was "
                                         "published on only: a subscriber on another node "
                                         "of the cluster does not get it");
    }
    /* MQTT-3.3.1-10 / -11: an empty retained message removes it, and is
     * not kept itself. */
    assert_int_equal(kmqtt_publish(pub, topic, "", 0, 1, true, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(pub, WAIT_MS), KMQTT_OK);
    retained_on(0, topic, "", false, pub);
    kmqtt_client_destroy(pub);
}

/* Ends a tool's argv at n: the broker's credentials if it wants them, then
 * NULL. argv has room for 5 more. */
static void tool_args_end(char **argv, int n)
{
    if (bk.username != NULL) {
        argv[n++] = "-u";
        argv[n++] = (char *)(uintptr_t)bk.username;
        argv[n++] = "-P";
        argv[n++] = "x";
    }
    argv[n] = NULL;
}

/* Starts kmqtt-sub with argv (run with -d) and returns once it printed its
 * SUBACK. */
static proc_t *tool_sub_subscribed(char **argv)
{
    proc_t *p = proc_spawn(argv);

    assert_non_null(p);
    if (!proc_wait_output(p, "subscribed to", WAIT_MS))
        fail_msg("kmqtt-sub did not subscribe:\n%s", proc_output(p));
    return p;
}

/* kmqtt-sub, the tool, with a will on topic; connected (SUBACK) when this
 * returns. */
static proc_t *tool_with_will(const char *id, const char *topic, const char *will_topic)
{
    char port[8];
    char *argv[32];
    int n = 0;

    snprintf(port, sizeof port, "%u", (unsigned)bk_port(bk.cl, 0));
    argv[n++] = KMQTT_BIN_DIR "/kmqtt-sub";
    argv[n++] = "-h";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-p";
    argv[n++] = port;
    argv[n++] = "-i";
    argv[n++] = (char *)(uintptr_t)id;
    argv[n++] = "-t";
    argv[n++] = (char *)(uintptr_t)topic;
    argv[n++] = "--will-topic";
    argv[n++] = (char *)(uintptr_t)will_topic;
    argv[n++] = "--will-payload";
    argv[n++] = "gone";
    argv[n++] = "--will-qos";
    argv[n++] = "1";
    argv[n++] = "-C";
    argv[n++] = "1";
    argv[n++] = "-W";
    argv[n++] = "60";
    argv[n++] = "-d";
    tool_args_end(argv, n);
    return tool_sub_subscribed(argv);
}

void bk_core_will(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *watch, *pub;
    char id[64], idp[64], topic[128], will[128], wid[96];
    proc_t *p;
    it_rec_t r;

    (void)state;
    it_rec_init(&r);
    bk_topic(topic, "will/idle");
    bk_topic(will, "will/status");
    bk_options(&o, bk_sub_node(), KMQTT_V311, "watch", id);
    watch = bk_connect(&o, NULL);
    (void)bk_subscribe(watch, will, 1, &r);
    bk_options(&o, 0, KMQTT_V311, "willpub", idp);
    pub = bk_connect(&o, NULL);

    /* MQTT-3.1.2-8: the connection ends without DISCONNECT (the process
     * is killed): the broker publishes the will. */
    snprintf(wid, sizeof wid, "willkill-%s", bk.run_id);
    p = tool_with_will(wid, topic, will);
    proc_free(p); /* SIGKILL */
    assert_true(it_wait_msgs(watch, &r, 1, WAIT_MS));
    assert_int_equal(r.msgs[0].len, 4);
    assert_memory_equal(r.msgs[0].payload, "gone", 4);
    assert_string_equal(r.msgs[0].topic, will);

    /* MQTT-3.1.2-10: after a DISCONNECT the will is deleted, not sent:
     * kmqtt-sub -C 1 disconnects after its one message. */
    snprintf(wid, sizeof wid, "willbye-%s", bk.run_id);
    p = tool_with_will(wid, topic, will);
    assert_int_equal(kmqtt_publish(pub, topic, "bye", 3, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(pub, WAIT_MS), KMQTT_OK);
    assert_int_equal(proc_wait(p, WAIT_MS), 0);
    proc_free(p);
    settle(watch, &r, pub, will);
    assert_int_equal(it_rec_count(&r), 1);

    kmqtt_client_destroy(pub);
    kmqtt_client_destroy(watch);
    it_rec_destroy(&r);
}

void bk_core_session(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *sub, *pub, *clean;
    kmqtt_connack_info_t ci;
    char id[64], idp[64], topic[128];
    it_rec_t r;

    (void)state;
    it_rec_init(&r);
    bk_topic(topic, "session");
    bk_options(&o, bk_sub_node(), KMQTT_V311, "sess", id);
    o.clean_session = false;
    sub = bk_connect(&o, &ci);
    (void)bk_subscribe(sub, topic, 1, &r);
    assert_int_equal(kmqtt_disconnect(sub, NULL), KMQTT_OK);

    bk_options(&o, 0, KMQTT_V311, "sesspub", idp);
    pub = bk_connect(&o, NULL);
    publish_range(pub, topic, 0, 5, 1, false);

    /* MQTT-3.2.2-2: the broker kept the session (session present), and
     * MQTT-3.1.2-5: the QoS 1 messages published meanwhile, delivered
     * without a new SUBSCRIBE. */
    assert_int_equal(kmqtt_connect(sub, 0, &ci), KMQTT_OK);
    assert_true(ci.session_present);
    assert_true(it_wait_msgs(sub, &r, 5, WAIT_MS));
    settle(sub, &r, pub, topic);
    expect_stream(&r, topic, 0, 5, 1);
    kmqtt_client_destroy(sub);

    /* MQTT-3.2.2-1 and MQTT-3.1.2-6: a clean session starts anew and
     * ends with the connection; the next persistent one finds none. */
    bk_options(&o, bk_sub_node(), KMQTT_V311, "sess", id);
    o.clean_session = true;
    clean = bk_connect(&o, &ci);
    assert_false(ci.session_present);
    kmqtt_client_destroy(clean);
    o.clean_session = false;
    clean = bk_connect(&o, &ci);
    assert_false(ci.session_present);
    kmqtt_client_destroy(clean);
    /* Leave no session behind on the broker. */
    o.clean_session = true;
    clean = bk_connect(&o, &ci);
    kmqtt_client_destroy(clean);

    kmqtt_client_destroy(pub);
    it_rec_destroy(&r);
}

/* What a 5.0 message carried, copied in its handler (its properties are
 * views valid only there). */
typedef struct v5_got {
    int n;
    char content_type[32];
    char response_topic[128];
    uint8_t corr[16];
    size_t corr_len;
    char up[4][2][16];
    int nup;
    uint8_t payload_format;
    bool has_expiry;
    uint32_t expiry;
} v5_got_t;

static void copy_str(char *dst, size_t cap, kmqtt_str_t s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static void v5_handler(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    v5_got_t *g = ctx;
    kmqtt_prop_iter_t it;
    kmqtt_str_t name, value;
    kmqtt_bin_t corr;

    (void)c;
    if (g->n++ > 0)
        return;
    if (kmqtt_msg_content_type(msg, &name))
        copy_str(g->content_type, sizeof g->content_type, name);
    if (kmqtt_msg_response_topic(msg, &name))
        copy_str(g->response_topic, sizeof g->response_topic, name);
    if (kmqtt_msg_correlation_data(msg, &corr) && corr.len <= sizeof g->corr) {
        memcpy(g->corr, corr.ptr, corr.len);
        g->corr_len = corr.len;
    }
    kmqtt_prop_iter_init(&it, &msg->props);
    while (kmqtt_next_user_prop(&it, &name, &value) && g->nup < 4) {
        copy_str(g->up[g->nup][0], 16, name);
        copy_str(g->up[g->nup][1], 16, value);
        g->nup++;
    }
    g->payload_format = kmqtt_msg_payload_format(msg);
    g->has_expiry = kmqtt_msg_message_expiry(msg, &g->expiry);
}

static bool v5_arrived(void *ctx)
{
    return ((v5_got_t *)ctx)->n > 0;
}

static void v5_props_case(void)
{
    static const kmqtt_user_prop_t up[2] = {{"site", "north"}, {"site", "south"}};
    static const uint8_t corr[4] = {1, 2, 3, 4};
    kmqtt_client_options_t o;
    kmqtt_client_t *sub, *pub;
    kmqtt_publish_props_t pp;
    kmqtt_sub_request_t sr;
    kmqtt_connack_info_t ci;
    char id[64], idp[64], topic[128], resp[128];
    v5_got_t g;

    memset(&g, 0, sizeof g);
    bk_topic(topic, "v5");
    bk_topic(resp, "v5/reply");
    bk_options(&o, bk_sub_node(), KMQTT_V5, "v5sub", id);
    sub = bk_connect(&o, &ci);
    assert_int_equal(ci.reason_code, 0);
    sr.filter = topic;
    sr.qos = 1;
    sr.handler = v5_handler;
    sr.ctx = &g;
    assert_int_equal(kmqtt_subscribe(sub, &sr, 1, WAIT_MS, NULL, NULL), KMQTT_OK);

    bk_options(&o, 0, KMQTT_V5, "v5pub", idp);
    pub = bk_connect(&o, NULL);
    memset(&pp, 0, sizeof pp);
    pp.payload_format = 1;
    pp.content_type = "text/plain";
    pp.response_topic = resp;
    pp.correlation_data = corr;
    pp.correlation_len = sizeof corr;
    pp.user_props = up;
    pp.user_prop_count = 2;
    pp.message_expiry_s = 300;
    assert_int_equal(kmqtt_publish(pub, topic, "hello", 5, 1, false, &pp, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(pub, WAIT_MS), KMQTT_OK);
    (void)it_pump(sub, WAIT_MS, v5_arrived, &g);
    assert_int_equal(g.n, 1);
    /* MQTT-3.3.2-4: the Payload Format Indicator, unaltered. */
    assert_int_equal(g.payload_format, 1);
    /* MQTT-3.3.2-20: the Content Type, unaltered. */
    assert_string_equal(g.content_type, "text/plain");
    /* MQTT-3.3.2-15 / -16: Response Topic and Correlation Data, unaltered. */
    assert_string_equal(g.response_topic, resp);
    assert_int_equal(g.corr_len, sizeof corr);
    assert_memory_equal(g.corr, corr, sizeof corr);
    /* MQTT-3.3.2-17 / -18: every User Property, in order. */
    assert_int_equal(g.nup, 2);
    assert_string_equal(g.up[0][0], "site");
    assert_string_equal(g.up[0][1], "north");
    assert_string_equal(g.up[1][1], "south");
    /* MQTT-3.3.2-6: the Message Expiry Interval goes on, less the time
     * the message waited. */
    assert_true(g.has_expiry);
    assert_true(g.expiry <= 300 && g.expiry >= 200);
    kmqtt_client_destroy(pub);
    kmqtt_client_destroy(sub);
}

void bk_core_v5(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_connack_info_t ci;
    kmqtt_err_t err;
    char id[64];
    uint64_t t0;

    (void)state;
    if (bk.v5) {
        v5_props_case();
        return;
    }
    /* A broker of 3.1.1 only: a 5.0 CONNECT is refused, and the client
     * says so at once, closed, with nothing held (MQTT-3.1.2-2 of 3.1.1:
     * return code 0x01 and close; 5.0's 3.1.2.2: 0x84 Unsupported
     * Protocol Version). */
    bk_options(&o, 0, KMQTT_V5, "v5try", id);
    o.reconnect = KMQTT_RECONNECT_OFF;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    t0 = now_ms();
    err = kmqtt_connect(c, 0, &ci);
    printf("bk: %s: a 5.0 CONNECT ends with %s, reason 0x%02x, after %llu ms\n",
           bk_kind_name(bk_kind(bk.cl)), kmqtt_strerror(err), (unsigned)ci.reason_code,
           (unsigned long long)(now_ms() - t0));
    assert_int_not_equal(err, KMQTT_OK);
    assert_int_not_equal(err, KMQTT_ETIMEDOUT);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_DISCONNECTED);
    /* No CONNACK at all: the connection was just closed (RabbitMQ 3.10). */
    if (err == KMQTT_ECLOSED)
        bk_departure("MQTT-3.1.2-2", "a CONNECT of a protocol level it does not support is "
                                     "closed without the CONNACK 0x01 3.1.1 asks for");
    kmqtt_client_destroy(c);
}

void bk_core_tools(void **state)
{
    char port_s[8], port_p[8], topic[128], p[32], id[64];
    char *argv[32];
    proc_t *sub;
    unsigned i;
    int n;

    (void)state;
    bk_topic(topic, "tools");
    snprintf(port_s, sizeof port_s, "%u", (unsigned)bk_port(bk.cl, bk_sub_node()));
    snprintf(port_p, sizeof port_p, "%u", (unsigned)bk_port(bk.cl, 0));
    snprintf(id, sizeof id, "toolsub-%s", bk.run_id);
    n = 0;
    argv[n++] = KMQTT_BIN_DIR "/kmqtt-sub";
    argv[n++] = "-h";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-p";
    argv[n++] = port_s;
    argv[n++] = "-i";
    argv[n++] = id;
    argv[n++] = "-t";
    argv[n++] = topic;
    argv[n++] = "-q";
    argv[n++] = "1";
    argv[n++] = "-C";
    argv[n++] = "3";
    argv[n++] = "-W";
    argv[n++] = "30";
    argv[n++] = "-d";
    tool_args_end(argv, n);
    sub = tool_sub_subscribed(argv);
    for (i = 0; i < 3; i++) {
        char out[1024];
        n = 0;
        argv[n++] = KMQTT_BIN_DIR "/kmqtt-pub";
        argv[n++] = "-h";
        argv[n++] = "127.0.0.1";
        argv[n++] = "-p";
        argv[n++] = port_p;
        argv[n++] = "-t";
        argv[n++] = topic;
        argv[n++] = "-q";
        argv[n++] = "1";
        argv[n++] = "-m";
        argv[n++] = (char *)(uintptr_t)bk_payload(p, i);
        tool_args_end(argv, n);
        if (run_capture(argv, WAIT_MS, out, sizeof out) != 0)
            fail_msg("kmqtt-pub failed:\n%s", out);
    }
    assert_int_equal(proc_wait(sub, WAIT_MS), 0);
    for (i = 0; i < 3; i++) {
        char line[40];
        snprintf(line, sizeof line, "\n%s\n", bk_payload(p, i));
        if (strstr(proc_output(sub), line) == NULL)
            fail_msg("kmqtt-sub did not print %s:\n%s", p, proc_output(sub));
    }
    proc_free(sub);
}
