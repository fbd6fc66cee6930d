/*
 * Failover without loss across a broker cluster (issue 22).
 *
 * A device (the threaded client, background thread, automatic reconnect,
 * every node in its server list, a persistent session, the offline queue
 * for what it publishes while reconnecting) publishes QoS 1 messages
 * continuously from a thread of its own; subscribers (threaded clients,
 * persistent sessions, QoS 1) each pinned to one node count what arrives.
 * Then: kill the node the device is on, restart it, kill the node the
 * device is on next; restart that one too. After the publisher stops and
 * the device's flush says every message was acknowledged, every message
 * must have reached a subscriber (loss 0); duplicates are counted (QoS 1
 * allows them, MQTT-4.3.2); each reconnect must land on a live node within
 * the bound its backoff allows.
 *
 * Where the subscribers sit follows what the broker keeps:
 *  - RabbitMQ keeps a persistent session as a durable queue on the node
 *    that made it, reachable from every node: one subscriber, on the node
 *    that is never killed (the last); at the end it reconnects through
 *    another node and must find its session and the messages published
 *    while it was away.
 *  - ejabberd keeps an MQTT session in the memory of the node the client
 *    is connected to: a killed node loses its clients' sessions, and two
 *    nodes leave no node that is never killed. So a subscriber is pinned
 *    to each node, and a message counts as delivered when either got it;
 *    before the second kill the test waits until the subscriber on the
 *    restarted node receives again (kmqtt made its subscription again, the
 *    session being gone), so every message has a live subscription.
 *
 * The line "failover: ..." is the row of docs/brokers.md's table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bk_failover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_target.h"

#define FO_MAX_MSGS   60000u
#define FO_PERIOD_MS  5u     /* one publish every 5 ms: 200 messages a second */
#define FO_STEADY_MS  2000u  /* publishing between the steps */
#define FO_RC_MIN_MS  100u   /* the device's reconnect backoff */
#define FO_RC_MAX_MS  1000u
#define FO_CONNECT_MS 10000u /* its connect timeout (an attempt's bound) */
#define FO_WAIT_MS    60000u

typedef struct fo_sub {
    kmqtt_client_t *c;
    int node;
    pthread_mutex_t mu;
    uint8_t *times; /* per sequence number: how often it arrived */
    unsigned received, dups, foreign;
    unsigned connects;
    bool last_session_present;
    char id[64];
} fo_sub_t;

typedef struct fo_dev {
    kmqtt_client_t *c;
    pthread_mutex_t mu;
    unsigned connects, attempts, lost;
    uint64_t connected_at;
    uint16_t port; /* the server of the current connection */
    kmqtt_err_t last_fail;
} fo_dev_t;

typedef struct fo_pub {
    pthread_t thread;
    kmqtt_client_t *c;
    pthread_mutex_t mu;
    bool stop;          /* set by the test thread */
    unsigned published; /* messages kmqtt_publish took */
    kmqtt_err_t err;    /* the first error other than a full queue */
    char topic[128];
} fo_pub_t;

static fo_dev_t dev;
static fo_pub_t pub;
static fo_sub_t subs[BK_MAX_NODES];
static int nsubs;

/* ---------------------------------------------------------- callbacks */

static void dev_state(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err, void *ctx)
{
    kmqtt_client_info_t info;
    (void)ctx;
    if (state == KMQTT_STATE_CONNECTED)
        (void)kmqtt_client_info(c, &info);
    pthread_mutex_lock(&dev.mu);
    switch (state) {
    case KMQTT_STATE_CONNECTED:
        dev.connects++;
        dev.connected_at = now_ms();
        dev.port = info.port;
        break;
    case KMQTT_STATE_CONNECTING:
        dev.attempts++;
        break;
    case KMQTT_STATE_CONNECTION_LOST:
        dev.lost++;
        dev.port = 0;
        break;
    case KMQTT_STATE_RECONNECTING:
        dev.last_fail = err;
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&dev.mu);
}

static void sub_message(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    fo_sub_t *s = ctx;
    char buf[16];
    unsigned long seq;
    (void)c;
    pthread_mutex_lock(&s->mu);
    if (msg->payload.len > 1 && msg->payload.len < sizeof buf &&
        ((const char *)msg->payload.ptr)[0] == 's') {
        memcpy(buf, (const char *)msg->payload.ptr + 1, msg->payload.len - 1);
        buf[msg->payload.len - 1] = '\0';
        seq = strtoul(buf, NULL, 10);
        if (seq < FO_MAX_MSGS) {
            if (s->times[seq] > 0)
                s->dups++;
            if (s->times[seq] < 255)
                s->times[seq]++;
            s->received++;
        } else {
            s->foreign++;
        }
    } else {
        s->foreign++;
    }
    pthread_mutex_unlock(&s->mu);
}

static void sub_state(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err, void *ctx)
{
    fo_sub_t *s = ctx;
    kmqtt_connack_info_t ci;
    (void)err;
    if (state != KMQTT_STATE_CONNECTED)
        return;
    (void)kmqtt_client_connack(c, &ci);
    pthread_mutex_lock(&s->mu);
    s->connects++;
    s->last_session_present = ci.session_present;
    pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------- publisher */

static void *publisher(void *arg)
{
    char p[16];
    unsigned seq = 0;
    (void)arg;
    while (seq < FO_MAX_MSGS) {
        kmqtt_err_t err;
        bool stop;
        pthread_mutex_lock(&pub.mu);
        stop = pub.stop;
        pthread_mutex_unlock(&pub.mu);
        if (stop)
            break;
        snprintf(p, sizeof p, "s%u", seq);
        err = kmqtt_publish(pub.c, pub.topic, p, strlen(p), 1, false, NULL, NULL);
        if (err == KMQTT_OK) {
            seq++;
            pthread_mutex_lock(&pub.mu);
            pub.published = seq;
            pthread_mutex_unlock(&pub.mu);
            sleep_ms(FO_PERIOD_MS);
        } else if (err == KMQTT_EQUEUE_FULL || err == KMQTT_ELIMIT) {
            sleep_ms(1); /* the same message again: nothing is skipped */
        } else {
            pthread_mutex_lock(&pub.mu);
            pub.err = err;
            pthread_mutex_unlock(&pub.mu);
            break;
        }
    }
    return NULL;
}

static unsigned published(void)
{
    unsigned n;
    pthread_mutex_lock(&pub.mu);
    n = pub.published;
    pthread_mutex_unlock(&pub.mu);
    return n;
}

/* ------------------------------------------------------------- clients */

/* bk_subscribe with sub_message as the handler. */
static void sub_subscribe(fo_sub_t *s, const char *topic)
{
    kmqtt_sub_request_t r;
    r.filter = topic;
    r.qos = 1;
    r.handler = sub_message;
    r.ctx = s;
    assert_int_equal(kmqtt_subscribe(s->c, &r, 1, FO_WAIT_MS, NULL, NULL), KMQTT_OK);
}

static void sub_start(fo_sub_t *s, int node, const char *topic)
{
    kmqtt_client_options_t o;
    kmqtt_connack_info_t ci;
    char prefix[16];

    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->times = calloc(FO_MAX_MSGS, 1);
    assert_non_null(s->times);
    s->node = node;
    snprintf(prefix, sizeof prefix, "fosub%d", node);
    bk_options(&o, node, KMQTT_V311, prefix, s->id);
    o.clean_session = false;
    o.reconnect_min_ms = FO_RC_MIN_MS;
    o.reconnect_max_ms = FO_RC_MAX_MS;
    o.keepalive_s = 10;
    o.on_state = sub_state;
    o.ctx = s;
    s->c = bk_connect(&o, &ci);
    s->connects = 1;
    sub_subscribe(s, topic);
    assert_int_equal(kmqtt_start(s->c), KMQTT_OK);
}

static unsigned sub_received(fo_sub_t *s)
{
    unsigned n;
    pthread_mutex_lock(&s->mu);
    n = s->received;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void dev_start(const char *topic)
{
    kmqtt_client_options_t o;
    kmqtt_connack_info_t ci;
    static char id[64];

    memset(&dev, 0, sizeof dev);
    pthread_mutex_init(&dev.mu, NULL);
    bk_options(&o, 0, KMQTT_V311, "fodev", id);
    o.servers = bk_servers(bk.cl);
    o.clean_session = false;
    o.reconnect_min_ms = FO_RC_MIN_MS;
    o.reconnect_max_ms = FO_RC_MAX_MS;
    o.connect_timeout_ms = FO_CONNECT_MS;
    o.keepalive_s = 10;
    o.offline_queue_max_msgs = FO_MAX_MSGS;
    o.offline_queue_max_bytes = (size_t)FO_MAX_MSGS * 64u;
    o.on_state = dev_state;
    dev.c = bk_connect(&o, &ci);
    assert_int_equal(kmqtt_start(dev.c), KMQTT_OK);

    memset(&pub, 0, sizeof pub);
    pthread_mutex_init(&pub.mu, NULL);
    pub.c = dev.c;
    snprintf(pub.topic, sizeof pub.topic, "%s", topic);
    assert_int_equal(pthread_create(&pub.thread, NULL, publisher, NULL), 0);
}

static int dev_node(void)
{
    uint16_t port;
    pthread_mutex_lock(&dev.mu);
    port = dev.port;
    pthread_mutex_unlock(&dev.mu);
    return port == 0 ? -1 : bk_node_of_port(bk.cl, port);
}

/* The longest a reconnect may take after attempts attempts: each waits its
 * backoff ([d/2, d], d doubling from the minimum to the maximum) and then
 * at most the connect timeout. */
static uint64_t backoff_bound(unsigned attempts)
{
    uint64_t bound = 0, d = FO_RC_MIN_MS;
    unsigned k;
    for (k = 0; k < attempts; k++) {
        bound += d + FO_CONNECT_MS;
        d = d * 2 > FO_RC_MAX_MS ? FO_RC_MAX_MS : d * 2;
    }
    return bound;
}

/* Kills the device's node and waits until it is connected to another.
 * Returns the node killed; *ms and *attempts say how long and how many
 * attempts the move took. */
static int kill_device_node(uint64_t *ms, unsigned *attempts)
{
    int victim = dev_node(), now_on;
    unsigned connects, tries;
    uint64_t t0, deadline;

    assert_true(victim >= 0);
    pthread_mutex_lock(&dev.mu);
    connects = dev.connects;
    tries = dev.attempts;
    pthread_mutex_unlock(&dev.mu);
    t0 = now_ms();
    bk_kill(bk.cl, victim);
    deadline = t0 + FO_WAIT_MS;
    for (;;) {
        pthread_mutex_lock(&dev.mu);
        if (dev.connects > connects) {
            *ms = dev.connected_at - t0;
            *attempts = dev.attempts - tries;
            pthread_mutex_unlock(&dev.mu);
            break;
        }
        pthread_mutex_unlock(&dev.mu);
        if (now_ms() >= deadline) {
            bk_print_logs(bk.cl, NULL);
            fail_msg("the device did not reconnect within %u ms of node %d's death "
                     "(%u attempts, last error %s)",
                     FO_WAIT_MS, victim, dev.attempts - tries, kmqtt_strerror(dev.last_fail));
        }
        sleep_ms(5);
    }
    now_on = dev_node();
    printf("bk: %s: node %d killed; the device is on node %d after %llu ms, %u attempt(s)\n",
           bk_kind_name(bk_kind(bk.cl)), victim, now_on, (unsigned long long)*ms, *attempts);
    /* On a live node, within what its backoff allows. */
    assert_true(now_on >= 0 && now_on != victim && bk_alive(bk.cl, now_on));
    assert_true(*ms <= backoff_bound(*attempts));
    return victim;
}

/* Publishing goes on for ms. */
static void run_for(unsigned ms)
{
    unsigned before = published();
    sleep_ms(ms);
    /* The publisher did not stop (the offline queue took what could not
     * go). */
    assert_true(published() > before);
}

/* Waits until subscriber s receives again (after its node came back). */
static void wait_receiving(fo_sub_t *s)
{
    unsigned before = sub_received(s);
    uint64_t deadline = now_ms() + FO_WAIT_MS;
    while (sub_received(s) <= before + 10) {
        if (now_ms() >= deadline)
            fail_msg("subscriber on node %d receives nothing after its node's restart",
                     s->node);
        sleep_ms(10);
    }
}

static void restart(int node)
{
    uint64_t ms = 0;
    assert_int_equal(bk_restart(bk.cl, node, &ms), 0);
    printf("bk: %s: node %d restarted in %llu ms\n", bk_kind_name(bk_kind(bk.cl)), node,
           (unsigned long long)ms);
}

/* Stops the publisher, lets the device deliver everything, waits until the
 * subscribers have all (or FO_WAIT_MS passed), and counts. */
static void finish(unsigned *messages, unsigned *lost, unsigned *dups)
{
    uint64_t deadline;
    unsigned n, i, missing = 0;
    int k;

    pthread_mutex_lock(&pub.mu);
    pub.stop = true;
    pthread_mutex_unlock(&pub.mu);
    assert_int_equal(pthread_join(pub.thread, NULL), 0);
    assert_int_equal(pub.err, KMQTT_OK);
    n = published();
    /* Every message acknowledged by a broker (MQTT-4.3.2: PUBACK). */
    assert_int_equal(kmqtt_flush(dev.c, FO_WAIT_MS), KMQTT_OK);
    deadline = now_ms() + FO_WAIT_MS;
    for (;;) {
        missing = 0;
        for (i = 0; i < n; i++) {
            bool got = false;
            for (k = 0; k < nsubs && !got; k++) {
                pthread_mutex_lock(&subs[k].mu);
                got = subs[k].times[i] > 0;
                pthread_mutex_unlock(&subs[k].mu);
            }
            missing += !got;
        }
        if (missing == 0 || now_ms() >= deadline)
            break;
        sleep_ms(100);
    }
    *messages = n;
    *lost = missing;
    *dups = 0;
    for (k = 0; k < nsubs; k++) {
        pthread_mutex_lock(&subs[k].mu);
        *dups += subs[k].dups;
        assert_int_equal(subs[k].foreign, 0);
        pthread_mutex_unlock(&subs[k].mu);
    }
    if (missing > 0) {
        unsigned shown = 0;
        for (i = 0; i < n && shown < 20; i++) {
            bool got = false;
            for (k = 0; k < nsubs; k++)
                got = got || subs[k].times[i] > 0;
            if (!got) {
                print_error("lost: s%u\n", i);
                shown++;
            }
        }
    }
}

/* After the run: subscriber s leaves, messages are published, and it
 * comes back with its client id through node 0 (another node than its
 * own). RabbitMQ keeps the session (a durable queue, reachable from every
 * node): session present (MQTT-3.2.2-2) and the messages published while
 * it was away (MQTT-3.1.2-5). ejabberd keeps it in the node it was made on:
 * through another node the session is not found. */
static void session_moves(fo_sub_t *s, const char *topic, unsigned base)
{
    kmqtt_client_options_t o;
    kmqtt_connack_info_t ci;
    kmqtt_client_t *c, *p;
    char idp[64], unused[64], payload[16];
    unsigned before, i;
    uint64_t deadline;

    assert_int_equal(kmqtt_disconnect(s->c, NULL), KMQTT_OK);
    kmqtt_client_destroy(s->c);
    s->c = NULL;
    bk_options(&o, 0, KMQTT_V311, "fomove", idp);
    p = bk_connect(&o, NULL);
    for (i = 0; i < 20; i++) {
        snprintf(payload, sizeof payload, "s%u", base + i);
        assert_int_equal(kmqtt_publish(p, topic, payload, strlen(payload), 1, false, NULL, NULL),
                         KMQTT_OK);
    }
    assert_int_equal(kmqtt_flush(p, FO_WAIT_MS), KMQTT_OK);
    kmqtt_client_destroy(p);

    before = sub_received(s);
    bk_options(&o, 0, KMQTT_V311, "fomove", unused);
    o.client_id = s->id;
    o.clean_session = false;
    o.on_message = sub_message; /* a new client: no handler of its own yet */
    o.ctx = s;
    c = bk_connect(&o, &ci);
    printf("bk: %s: the subscriber's session through node 0: session present %d\n",
           bk_kind_name(bk_kind(bk.cl)), (int)ci.session_present);
    assert_int_equal(ci.session_present, bk.session_cluster_wide);
    if (bk.session_cluster_wide) {
        deadline = now_ms() + FO_WAIT_MS;
        while (sub_received(s) < before + 20 && now_ms() < deadline)
            assert_int_equal(kmqtt_run(c, 50), KMQTT_OK);
        assert_int_equal(sub_received(s), before + 20);
        for (i = 0; i < 20; i++)
            assert_int_equal(s->times[base + i], 1);
    }
    kmqtt_client_destroy(c);
}

/* Ends a persistent session on the broker: connect with a clean session. */
static void forget_session(int node, const char *id)
{
    kmqtt_client_options_t o;
    char unused[64];
    bk_options(&o, node, KMQTT_V311, "forget", unused);
    o.client_id = id;
    kmqtt_client_destroy(bk_connect(&o, NULL));
}

/* Subscribers pinned to node get their messages again after its restart. */
static void node_back(int node)
{
    int k;
    restart(node);
    for (k = 0; k < nsubs; k++) {
        if (subs[k].node == node) {
            wait_receiving(&subs[k]);
            pthread_mutex_lock(&subs[k].mu);
            printf("bk: %s: the subscriber on node %d is back, session present %d\n",
                   bk_kind_name(bk_kind(bk.cl)), node, (int)subs[k].last_session_present);
            /* Where the broker keeps sessions in the node's memory, the
             * session died with it: kmqtt subscribed again. */
            if (bk.sessions_node_local)
                assert_false(subs[k].last_session_present);
            pthread_mutex_unlock(&subs[k].mu);
        }
    }
}

void bk_failover_threaded(void **state)
{
    char topic[128], dev_id[64];
    unsigned messages = 0, lost = 0, dups = 0, att1 = 0, att2 = 0;
    uint64_t ms1 = 0, ms2 = 0;
    kmqtt_client_info_t info;
    int first, second, k;

    (void)state;
    bk_topic(topic, "failover");
    nsubs = bk.sessions_node_local ? bk_count(bk.cl) : 1;
    for (k = 0; k < nsubs; k++)
        sub_start(&subs[k], nsubs == 1 ? bk_sub_node() : k, topic);
    dev_start(topic);
    assert_int_equal(kmqtt_client_info(dev.c, &info), KMQTT_OK);
    snprintf(dev_id, sizeof dev_id, "%s", info.client_id);

    run_for(FO_STEADY_MS);
    first = kill_device_node(&ms1, &att1);
    run_for(FO_STEADY_MS);
    node_back(first);
    run_for(FO_STEADY_MS);
    second = kill_device_node(&ms2, &att2);
    assert_int_not_equal(second, first);
    run_for(FO_STEADY_MS);
    node_back(second);
    finish(&messages, &lost, &dups);
    printf("failover: %s | %d nodes | kill %d, restart %d, kill %d, restart %d | messages %u | "
           "lost %u | duplicates %u | reconnect %llu ms (%u attempts), %llu ms (%u attempts)\n",
           bk_kind_name(bk_kind(bk.cl)), bk_count(bk.cl), first, first, second, second,
           messages, lost, dups, (unsigned long long)ms1, att1, (unsigned long long)ms2, att2);
    fflush(stdout);
    assert_int_equal(lost, 0);

    kmqtt_client_destroy(dev.c);
    forget_session(0, dev_id);
    session_moves(&subs[nsubs - 1], topic, messages);
    for (k = 0; k < nsubs; k++) {
        kmqtt_client_destroy(subs[k].c);
        forget_session(0, subs[k].id);
        pthread_mutex_destroy(&subs[k].mu);
        free(subs[k].times);
    }
    pthread_mutex_destroy(&pub.mu);
    pthread_mutex_destroy(&dev.mu);
}
