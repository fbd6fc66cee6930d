/*
 * 5.0 details neither mosquitto nor the broker double show: a scripted
 * server built on the codec sends Reason Strings and User Properties on
 * SUBACK, UNSUBACK and AUTH, a PUBREL with 0x92 (Packet Identifier not
 * found), and assigns client ids (one too long to keep). The reuse of an
 * assigned id is also checked against mosquitto, which resumes the session
 * it names (3.2.2.3.7).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"
#include "raw_peer.h"

#define WAIT_MS   5000u
#define MAX_CONNS 4

static kmqtt_mem_t parent;

/* The UNSUBACK's Reason String: longer than a result keeps
 * (KMQTT_ACK_REASON_MAX), to show it is never cut. */
#define LONG_REASON                                                                                \
    "nothing to remove: no subscription matched any of the filters named in this UNSUBSCRIBE, "    \
    "so the server had no state to change for this client"

/* ------------------------------------------------------ scripted server */

typedef struct srv {
    int lfd;
    uint16_t port;
    pthread_t th;
    int want_conns;     /* connections to serve before the thread ends */
    const char *assign; /* Assigned Client Identifier for an empty id */
    pthread_mutex_t mu;
    int conns;                /* connections whose CONNECT was read */
    char ids[MAX_CONNS][256]; /* the client id of each */
    int pubcomps;             /* PUBCOMPs for the PUBREL 0x92 */
    uint8_t pubcomp_reason;
    int reauths;          /* AUTH 0x19 received */
    char reauth_user[64]; /* its user properties, "name=value;" each */
    char reauth_why[32];  /* its Reason String */
} srv_t;

/* SUBACK (granted QoS 1 each) or UNSUBACK (0x11 each) with a Reason String
 * and two User Properties. */
static int send_suback(int fd, const kmqtt_packet_t *req)
{
    static const uint8_t granted[4] = {1, 1, 1, 1}, none[4] = {0x11, 0x11, 0x11, 0x11};
    kmqtt_packet_t p;
    kmqtt_prop_t pr[3];
    bool sub = req->type == KMQTT_SUBSCRIBE;

    memset(&p, 0, sizeof p);
    raw_str_prop(&pr[0], KMQTT_PROP_REASON_STRING, sub ? "granted by policy 7" : LONG_REASON);
    raw_user_prop(&pr[1], "policy", "7");
    raw_user_prop(&pr[2], "zone", "eu");
    p.type = sub ? KMQTT_SUBACK : KMQTT_UNSUBACK;
    p.u.suback.packet_id = req->u.subscribe.packet_id;
    p.u.suback.props.items = pr;
    p.u.suback.props.count = 3;
    p.u.suback.reason_codes.ptr = sub ? granted : none;
    p.u.suback.reason_codes.len = req->u.subscribe.count;
    return req->u.subscribe.count <= 4 ? raw_send_packet(fd, &p) : -1;
}

static int send_connack(srv_t *s, int fd, const kmqtt_packet_t *req)
{
    kmqtt_packet_t p;
    kmqtt_prop_t pr;

    memset(&p, 0, sizeof p);
    p.type = KMQTT_CONNACK;
    if (req->u.connect.client_id.len == 0 && s->assign != NULL) {
        raw_str_prop(&pr, KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, s->assign);
        p.u.connack.props.items = &pr;
        p.u.connack.props.count = 1;
    } else if (s->assign != NULL && req->u.connect.client_id.len == strlen(s->assign) &&
               memcmp(req->u.connect.client_id.ptr, s->assign, strlen(s->assign)) == 0) {
        p.u.connack.session_present = true; /* the session the id names */
    }
    return raw_send_packet(fd, &p);
}

/* The CONNECT's Authentication Method gets one AUTH 0x18 step (with a
 * Reason String) before the CONNACK. */
static int auth_step(int fd, const kmqtt_packet_t *req, uint8_t *buf, size_t cap)
{
    kmqtt_packet_t p;
    kmqtt_prop_t pr[2], m;
    size_t used;
    long n;

    if (!kmqtt_props_find(&req->u.connect.props, KMQTT_PROP_AUTHENTICATION_METHOD, &m))
        return 0;
    memset(&p, 0, sizeof p);
    pr[0] = m;
    raw_str_prop(&pr[1], KMQTT_PROP_REASON_STRING, "prove it");
    p.type = KMQTT_AUTH;
    p.u.disconnect.reason_code = 0x18;
    p.u.disconnect.props.items = pr;
    p.u.disconnect.props.count = 2;
    if (raw_send_packet(fd, &p) != 0)
        return -1;
    n = raw_read_packet(fd, buf, cap, 10000);
    if (n <= 0 || kmqtt_packet_decode(buf, (size_t)n, KMQTT_V5, 0, &p, &used) != KMQTT_OK ||
        p.type != KMQTT_AUTH || p.u.disconnect.reason_code != 0x18)
        return -1;
    return 0;
}

/* A QoS 2 message to the client; its PUBREC gets a PUBREL 0x92. */
static int send_qos2(int fd)
{
    kmqtt_packet_t p;

    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish.topic.ptr = "gaps/q2";
    p.u.publish.topic.len = 7;
    p.u.publish.payload.ptr = (const uint8_t *)"x";
    p.u.publish.payload.len = 1;
    p.u.publish.qos = 2;
    p.u.publish.packet_id = 9;
    return raw_send_packet(fd, &p);
}

static int send_pubrel(int fd, uint16_t id, uint8_t rc)
{
    kmqtt_packet_t p;

    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBREL;
    p.u.ack.packet_id = id;
    p.u.ack.reason_code = rc;
    return raw_send_packet(fd, &p);
}

/* A re-authentication (AUTH 0x19): what it carried is kept, and it
 * succeeds at once (AUTH 0x00 with the same method). */
static int reauth(srv_t *s, int fd, const kmqtt_packet_t *req)
{
    kmqtt_prop_iter_t it;
    kmqtt_prop_t pr, m;
    kmqtt_packet_t p;
    size_t used;

    if (req->u.disconnect.reason_code != 0x19 ||
        !kmqtt_props_find(&req->u.disconnect.props, KMQTT_PROP_AUTHENTICATION_METHOD, &m))
        return -1;
    pthread_mutex_lock(&s->mu);
    s->reauths++;
    kmqtt_prop_iter_init(&it, &req->u.disconnect.props);
    while (kmqtt_prop_iter_next(&it, &pr)) {
        used = strlen(s->reauth_user);
        if (pr.id == KMQTT_PROP_USER_PROPERTY &&
            used + pr.str.len + pr.value.len + 3 < sizeof s->reauth_user)
            snprintf(s->reauth_user + used, sizeof s->reauth_user - used, "%.*s=%.*s;",
                     (int)pr.str.len, pr.str.ptr, (int)pr.value.len, pr.value.ptr);
        if (pr.id == KMQTT_PROP_REASON_STRING && pr.str.len < sizeof s->reauth_why)
            snprintf(s->reauth_why, sizeof s->reauth_why, "%.*s", (int)pr.str.len, pr.str.ptr);
    }
    pthread_mutex_unlock(&s->mu);
    memset(&p, 0, sizeof p);
    p.type = KMQTT_AUTH;
    p.u.disconnect.reason_code = 0;
    p.u.disconnect.props.items = &m;
    p.u.disconnect.props.count = 1;
    return raw_send_packet(fd, &p);
}

/* One connection; returns when the client leaves or breaks the script. */
static void serve(srv_t *s, int fd)
{
    uint8_t buf[1024], abuf[256];
    kmqtt_packet_t p;
    size_t used;
    long n;
    int r = 0;

    while (r == 0 && (n = raw_read_packet(fd, buf, sizeof buf, 10000)) > 0) {
        if (kmqtt_packet_decode(buf, (size_t)n, KMQTT_V5, 0, &p, &used) != KMQTT_OK)
            break;
        switch (p.type) {
        case KMQTT_CONNECT:
            pthread_mutex_lock(&s->mu);
            if (s->conns < MAX_CONNS && p.u.connect.client_id.len < sizeof s->ids[0]) {
                memcpy(s->ids[s->conns], p.u.connect.client_id.ptr, p.u.connect.client_id.len);
                s->ids[s->conns][p.u.connect.client_id.len] = '\0';
            }
            s->conns++;
            pthread_mutex_unlock(&s->mu);
            r = auth_step(fd, &p, abuf, sizeof abuf);
            if (r == 0)
                r = send_connack(s, fd, &p);
            break;
        case KMQTT_SUBSCRIBE:
        case KMQTT_UNSUBSCRIBE:
            r = send_suback(fd, &p);
            break;
        case KMQTT_PUBLISH:
            if (p.u.publish.topic.len == 4 && memcmp(p.u.publish.topic.ptr, "drop", 4) == 0)
                r = -1; /* the connection breaks */
            else if (p.u.publish.topic.len == 4 && memcmp(p.u.publish.topic.ptr, "kick", 4) == 0)
                r = send_qos2(fd);
            break;
        case KMQTT_PUBREC:
            r = send_pubrel(fd, p.u.ack.packet_id, 0x92);
            break;
        case KMQTT_PUBCOMP:
            pthread_mutex_lock(&s->mu);
            s->pubcomps++;
            s->pubcomp_reason = p.u.ack.reason_code;
            pthread_mutex_unlock(&s->mu);
            break;
        case KMQTT_AUTH:
            r = reauth(s, fd, &p);
            break;
        case KMQTT_DISCONNECT:
            r = -1;
            break;
        default:
            break;
        }
    }
    close(fd);
}

static void *srv_main(void *arg)
{
    srv_t *s = arg;
    int i;

    for (i = 0; i < s->want_conns; i++) {
        struct pollfd pf = {s->lfd, POLLIN, 0};
        int fd;

        if (poll(&pf, 1, 15000) <= 0)
            break;
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            break;
        serve(s, fd);
    }
    return NULL;
}

static void srv_start(srv_t *s, int want_conns, const char *assign)
{
    memset(s, 0, sizeof *s);
    s->want_conns = want_conns;
    s->assign = assign;
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = raw_listen(4, &s->port);
    assert_true(s->lfd >= 0);
    assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(srv_t *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
    pthread_mutex_destroy(&s->mu);
}

static int srv_int(srv_t *s, const int *field)
{
    int v;

    pthread_mutex_lock(&s->mu);
    v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static void v5_client(kmqtt_client_options_t *o, const srv_t *s, const char *id)
{
    it_options(o, NULL, id);
    o->port = s->port;
    o->version = KMQTT_V5;
    o->mem = &parent;
}

/* ---------------------------------------------------- SUBACK / UNSUBACK */

/* The Reason String and User Properties of SUBACK (3.9.2.1.2, 3.9.2.1.3)
 * and UNSUBACK (3.11.2.1.2, 3.11.2.1.3) reach the caller; a buffer too
 * small gets nothing rather than a cut string. */
static void test_suback_unsuback_reason_string(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    it_baseline_t base;
    srv_t s;
    kmqtt_sub_request_t r[2] = {{"gaps/a", 1, NULL, NULL}, {"gaps/b", 1, NULL, NULL}};
    const char *f[2] = {"gaps/a", "gaps/b"};
    kmqtt_ack_result_t info;

    (void)state;
    it_take_baseline(&parent, &base);
    srv_start(&s, 1, NULL);
    v5_client(&o, &s, "it-v5-gaps-sub");
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);

    memset(&info, 0xA5, sizeof info); /* needs no initialising: the call clears it */
    assert_int_equal(kmqtt_subscribe(c, r, 2, WAIT_MS, NULL, &info), KMQTT_OK);
    assert_int_equal(info.reason_codes[0], 1);
    assert_int_equal(info.reason_codes[1], 1);
    assert_true(info.has_reason);
    assert_string_equal(info.reason_string, "granted by policy 7");
    assert_int_equal(info.reason_len, strlen("granted by policy 7"));
    assert_int_equal(info.user_prop_count, 2);

    /* Longer than KMQTT_ACK_REASON_MAX: the length says so, the string is
     * empty. */
    assert_true(strlen(LONG_REASON) >= KMQTT_ACK_REASON_MAX);
    assert_int_equal(kmqtt_unsubscribe(c, f, 2, WAIT_MS, NULL, &info), KMQTT_OK);
    assert_int_equal(info.reason_codes[0], 0x11);
    assert_int_equal(info.reason_codes[1], 0x11);
    assert_true(info.has_reason);
    assert_int_equal(info.reason_len, strlen(LONG_REASON));
    assert_string_equal(info.reason_string, "");
    assert_int_equal(info.user_prop_count, 2);

    /* A later call reports its own ack, not the last one's. */
    assert_int_equal(kmqtt_subscribe(c, r, 1, WAIT_MS, NULL, &info), KMQTT_OK);
    assert_true(info.has_reason);
    assert_int_equal(info.reason_len, strlen("granted by policy 7"));
    assert_string_equal(info.reason_string, "granted by policy 7");

    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    srv_stop(&s);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "suback reason string", 0);
}

/* ----------------------------------------------------------------- AUTH */

typedef struct auth_seen {
    int calls;
    uint8_t code;
    char why[32];
} auth_seen_t;

static kmqtt_err_t on_auth(kmqtt_client_t *c, uint8_t reason_code, const kmqtt_bin_t *server_data,
                           uint8_t *out, size_t cap, size_t *out_len, void *ctx)
{
    auth_seen_t *a = ctx;
    kmqtt_str_t rs;

    (void)server_data;
    a->calls++;
    a->code = reason_code;
    if (kmqtt_client_reason_string(c, &rs) && rs.len < sizeof a->why) {
        memcpy(a->why, rs.ptr, rs.len);
        a->why[rs.len] = '\0';
    }
    if (cap < 2)
        return KMQTT_ENOBUFS;
    memcpy(out, "ok", 2);
    *out_len = 2;
    return KMQTT_OK;
}

/* The Reason String of a server AUTH (3.15.2.2.3) is readable during
 * on_auth, and only then; the client's own re-authentication AUTH carries
 * the properties the application gives. */
static void test_auth_reason_string_during_on_auth(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    it_baseline_t base;
    auth_seen_t seen;
    kmqtt_str_t rs;
    kmqtt_user_prop_t up[KMQTT_USER_PROPS_MAX + 1] = {{"why", "rotate"}, {"key", "2"}};
    kmqtt_auth_props_t pp;
    srv_t s;
    int i;

    (void)state;
    it_take_baseline(&parent, &base);
    srv_start(&s, 1, NULL);
    memset(&seen, 0, sizeof seen);
    memset(&pp, 0, sizeof pp);
    for (i = 2; i <= (int)KMQTT_USER_PROPS_MAX; i++) {
        up[i].name = "n";
        up[i].value = "v";
    }
    v5_client(&o, &s, "it-v5-gaps-auth");
    o.auth_method = "GAPS-1";
    o.on_auth = on_auth;
    o.ctx = &seen;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.code, 0x18);
    assert_string_equal(seen.why, "prove it");
    assert_false(kmqtt_client_reason_string(c, &rs));

    /* A re-authentication carries a Reason String and User Properties
     * (3.15.2.2.3, 3.15.2.2.4), in order. */
    pp.user_props = up;
    pp.user_prop_count = 2;
    pp.reason_string = "key rotation";
    assert_int_equal(kmqtt_reauthenticate(c, "k2", 2, WAIT_MS, &pp), KMQTT_OK);
    pthread_mutex_lock(&s.mu);
    assert_int_equal(s.reauths, 1);
    assert_string_equal(s.reauth_user, "why=rotate;key=2;");
    assert_string_equal(s.reauth_why, "key rotation");
    pthread_mutex_unlock(&s.mu);
    /* Too many user properties: refused, nothing sent. */
    pp.user_prop_count = KMQTT_USER_PROPS_MAX + 1;
    assert_int_equal(kmqtt_reauthenticate(c, "k3", 2, WAIT_MS, &pp), KMQTT_ELIMIT);
    assert_int_equal(srv_int(&s, &s.reauths), 1);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    srv_stop(&s);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "auth reason string", 0);
}

/* --------------------------------------------------------------- PUBREL */

static bool pubrel_seen(void *arg)
{
    return kmqtt_client_pubrel_failures(arg, NULL) >= 1;
}

/* A server PUBREL with 0x92 (3.6.2.1) is counted and its code kept; the
 * client still completes the flow with PUBCOMP (MQTT-4.3.3-2). */
static void test_pubrel_reason_reported(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    it_baseline_t base;
    uint8_t rc = 0xff;
    kmqtt_sub_request_t r = {"gaps/q2", 2, NULL, NULL};
    srv_t s;
    int i;

    (void)state;
    it_take_baseline(&parent, &base);
    srv_start(&s, 1, NULL);
    v5_client(&o, &s, "it-v5-gaps-pubrel");
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_client_pubrel_failures(c, &rc), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(c, &r, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, "kick", "k", 1, 0, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(it_pump(c, WAIT_MS, pubrel_seen, c), KMQTT_OK);
    assert_int_equal(kmqtt_client_pubrel_failures(c, &rc), 1);
    assert_int_equal(rc, 0x92);
    for (i = 0; i < 200 && srv_int(&s, &s.pubcomps) < 1; i++)
        (void)kmqtt_run(c, 25);
    assert_int_equal(srv_int(&s, &s.pubcomps), 1);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    srv_stop(&s);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "pubrel reason", 0);
}

/* ------------------------------------------------- assigned client id */

/* 3.2.2.3.7: with a session that outlives the connection, the assigned id
 * is what the client sends next time, after an automatic reconnect and on
 * the application's next kmqtt_connect. */
static void test_assigned_id_reused_on_reconnect(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_connack_info_t ci;
    it_baseline_t base;
    srv_t s;
    int i;

    (void)state;
    it_take_baseline(&parent, &base);
    srv_start(&s, 3, "srv-given-17");
    v5_client(&o, &s, "ignored");
    o.server_assigned_id = true;
    o.session_expiry_s = 60;
    o.clean_session = false;
    o.reconnect = KMQTT_RECONNECT_ON;
    o.reconnect_min_ms = 50;
    o.reconnect_max_ms = 200;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_OK);
    assert_string_equal(ci.assigned_client_id, "srv-given-17");
    assert_false(ci.session_present);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);

    /* The server breaks the connection; the client comes back by itself. */
    assert_int_equal(kmqtt_publish(c, "drop", "d", 1, 0, false, NULL, NULL), KMQTT_OK);
    for (i = 0; i < 400 && srv_int(&s, &s.conns) < 2; i++)
        sleep_ms(25);
    assert_int_equal(srv_int(&s, &s.conns), 2);
    for (i = 0; i < 400 && kmqtt_client_state(c) != KMQTT_STATE_CONNECTED; i++)
        sleep_ms(25);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    pthread_mutex_lock(&s.mu);
    assert_string_equal(s.ids[0], "");
    assert_string_equal(s.ids[1], "srv-given-17");
    pthread_mutex_unlock(&s.mu);
    assert_int_equal(kmqtt_client_connack(c, &ci), KMQTT_OK);
    assert_true(ci.session_present);

    /* And on the application's next connect. */
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_OK);
    assert_true(ci.session_present);
    pthread_mutex_lock(&s.mu);
    assert_string_equal(s.ids[2], "srv-given-17");
    pthread_mutex_unlock(&s.mu);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    srv_stop(&s);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "assigned id reuse", 0);
}

/* An assigned id longer than KMQTT_ASSIGNED_ID_MAX cannot be kept: the
 * next connect fails with KMQTT_ELIMIT before anything is opened, rather
 * than silently asking for a new id (and a new session). */
static void test_assigned_id_too_long_refused(void **state)
{
    static char longid[KMQTT_ASSIGNED_ID_MAX + 2];
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_connack_info_t ci;
    it_baseline_t base;
    srv_t s;

    (void)state;
    memset(longid, 'L', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    it_take_baseline(&parent, &base);
    srv_start(&s, 1, longid);
    v5_client(&o, &s, "ignored");
    o.server_assigned_id = true;
    o.session_expiry_s = 60;
    o.clean_session = false;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_OK);
    assert_string_equal(ci.assigned_client_id, longid); /* still reported */
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    srv_stop(&s); /* served its one connection: a second would hang */
    assert_int_equal(kmqtt_connect(c, 1000, NULL), KMQTT_ELIMIT);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(s.conns, 1);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "assigned id too long", 0);
}

/* Against mosquitto 2.0.11, which assigns "auto-..." ids: the second
 * connect of the same client resumes the session (Session Present). */
static void test_assigned_id_resumes_mosquitto_session(void **state)
{
    broker_opts_t bo;
    broker_t *b;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_connack_info_t ci;
    kmqtt_disconnect_props_t dp;
    it_baseline_t base;
    kmqtt_sub_request_t r = {"gaps/m", 1, NULL, NULL};

    (void)state;
    memset(&bo, 0, sizeof bo);
    b = broker_start(&bo);
    assert_non_null(b);
    it_take_baseline(&parent, &base);
    it_options(&o, b, "ignored");
    o.version = KMQTT_V5;
    o.mem = &parent;
    o.server_assigned_id = true;
    o.session_expiry_s = 60;
    o.clean_session = false;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_OK);
    assert_non_null(ci.assigned_client_id);
    assert_int_equal(strncmp(ci.assigned_client_id, "auto-", 5), 0);
    assert_false(ci.session_present);
    assert_int_equal(kmqtt_subscribe(c, &r, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_OK);
    assert_true(ci.session_present);
    assert_null(ci.assigned_client_id);                             /* we sent it: none assigned */
    memset(&dp, 0, sizeof dp);
    dp.set_session_expiry = true; /* 0: end the session */
    assert_int_equal(kmqtt_disconnect(c, &dp), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "assigned id mosquitto", 0);
    broker_stop(b);
}

static int setup(void **state)
{
    (void)state;
    return it_group_init(&parent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suback_unsuback_reason_string),
        cmocka_unit_test(test_auth_reason_string_during_on_auth),
        cmocka_unit_test(test_pubrel_reason_reported),
        cmocka_unit_test(test_assigned_id_reused_on_reconnect),
        cmocka_unit_test(test_assigned_id_too_long_refused),
        cmocka_unit_test(test_assigned_id_resumes_mosquitto_session),
    };
    return cmocka_run_group_tests_name("v5 gaps", tests, setup, NULL);
}
