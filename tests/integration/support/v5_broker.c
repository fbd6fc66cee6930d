/*
 * The strict MQTT 5.0 test broker (see v5_broker.h).
 *
 * Enhanced authentication, method "KMQTT-TEST":
 *   CONNECT (method, any data)  -> AUTH 0x18 (data "challenge")
 *   AUTH 0x18 (data "response") -> CONNACK 0x00 (with the method)
 *   AUTH 0x18 (other data)      -> CONNACK 0x87, close
 * Re-authentication when connected:
 *   AUTH 0x19 -> AUTH 0x18 "challenge"; AUTH 0x18 "response" -> AUTH 0x00;
 *   other data -> DISCONNECT 0x87.
 * A CONNECT with another method gets CONNACK 0x8C (bad authentication
 * method); without one, when enhanced_auth is set, CONNACK 0x87.
 *
 * The child polls the shared control block every few milliseconds; the
 * test's requests (a server DISCONNECT) are answered by bumping done.
 */
#define _POSIX_C_SOURCE 200809L
#include "v5_broker.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kmqtt/codec.h"

#define V5B_RX        (128u * 1024u)
#define V5B_SUBS      16
#define V5B_FILTER    128
#define V5B_ALIASES   64
#define V5B_TOPIC     256
#define V5B_OUT_ALIAS 16
#define V5B_ACKS      256

/* Shared between the test and the child. */
typedef struct shared {
    v5b_stats_t stats;
    volatile unsigned req, done; /* a request is pending while req != done */
    volatile int req_ok;
    uint8_t req_reason;
    char req_string[128];
    bool req_has_string;
    char req_ref[128];
    bool req_has_ref;
} shared_t;

struct v5b {
    pid_t pid;
    uint16_t port;
    shared_t *sh;
};

typedef struct ack {
    uint16_t id;
    uint8_t qos;
} ack_t;

/* One connection's state, in the child. */
typedef struct conn {
    int fd;
    v5b_opts_t o;
    shared_t *sh;
    uint8_t rx[V5B_RX];
    size_t rx_len;
    bool connected;
    int auth; /* 0 none, 1 waiting for the response at connect, 2 re-auth */
    uint16_t client_receive_max, client_alias_max;
    uint32_t client_max_packet;
    char subs[V5B_SUBS][V5B_FILTER];
    uint8_t sub_qos[V5B_SUBS];
    char in_alias[V5B_ALIASES + 1][V5B_TOPIC];
    char out_alias[V5B_OUT_ALIAS + 1][V5B_TOPIC];
    uint16_t out_next_alias;
    ack_t acks[V5B_ACKS];
    unsigned n_acks;
    uint64_t acks_since;
    unsigned inflight; /* client QoS 1/2 PUBLISHes not finished */
    unsigned out_inflight;
    uint16_t next_id;
    unsigned nth;     /* connections served before this one */
    bool max_qos_set; /* the CONNACK carried Maximum QoS max_qos */
    uint8_t max_qos;
} conn_t;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int send_all(int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_packet(conn_t *c, const kmqtt_packet_t *p)
{
    static uint8_t buf[V5B_RX];
    size_t n;
    if (kmqtt_packet_encode(p, KMQTT_V5, buf, sizeof buf, &n) != KMQTT_OK)
        return -1;
    /* MQTT-3.1.2-25: never more than the client's Maximum Packet Size. */
    if (c->client_max_packet != 0 && n > c->client_max_packet)
        return 0;
    return send_all(c->fd, buf, n);
}

static kmqtt_prop_t num(kmqtt_prop_id_t id, uint32_t v)
{
    kmqtt_prop_t p;
    memset(&p, 0, sizeof p);
    p.id = id;
    p.num = v;
    return p;
}

static kmqtt_prop_t str(kmqtt_prop_id_t id, const char *s)
{
    kmqtt_prop_t p;
    memset(&p, 0, sizeof p);
    p.id = id;
    p.str.ptr = s;
    p.str.len = strlen(s);
    return p;
}

static kmqtt_prop_t bin(kmqtt_prop_id_t id, const char *s)
{
    kmqtt_prop_t p;
    memset(&p, 0, sizeof p);
    p.id = id;
    p.bin.ptr = (const uint8_t *)s;
    p.bin.len = strlen(s);
    return p;
}

static int send_simple(conn_t *c, kmqtt_packet_type_t type, uint8_t reason,
                       const kmqtt_prop_t *props, size_t n)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.u.disconnect.reason_code = reason;
    p.u.disconnect.props.items = props;
    p.u.disconnect.props.count = n;
    return send_packet(c, &p);
}

static int send_ack(conn_t *c, kmqtt_packet_type_t type, uint16_t id)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.u.ack.packet_id = id;
    return send_packet(c, &p);
}

/* The client broke a rule: DISCONNECT with the reason, then close (-1). */
static int violation(conn_t *c, uint8_t reason)
{
    c->sh->stats.violations++;
    (void)send_simple(c, KMQTT_DISCONNECT, reason, NULL, 0);
    return -1;
}

static int send_auth(conn_t *c, uint8_t reason, const char *data)
{
    kmqtt_prop_t p[2] = {str(KMQTT_PROP_AUTHENTICATION_METHOD, V5B_AUTH_METHOD),
                         bin(KMQTT_PROP_AUTHENTICATION_DATA, data != NULL ? data : "")};
    return send_simple(c, KMQTT_AUTH, reason, p, data != NULL ? 2 : 1);
}

static int send_connack(conn_t *c, uint8_t reason, bool assigned, bool sp)
{
    kmqtt_prop_t p[8];
    size_t n = 0;
    kmqtt_packet_t k;
    if (reason == 0) {
        if (c->o.receive_max != 0)
            p[n++] = num(KMQTT_PROP_RECEIVE_MAXIMUM, c->o.receive_max);
        if (c->o.max_packet_size != 0)
            p[n++] = num(KMQTT_PROP_MAXIMUM_PACKET_SIZE, c->o.max_packet_size);
        if (c->o.topic_alias_max != 0)
            p[n++] = num(KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, c->o.topic_alias_max);
        if (c->o.server_keepalive != 0)
            p[n++] = num(KMQTT_PROP_SERVER_KEEP_ALIVE, c->o.server_keepalive);
        if (assigned)
            p[n++] = str(KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER,
                         c->o.assigned_id != NULL ? c->o.assigned_id : "v5b-1");
        if (c->o.enhanced_auth)
            p[n++] = str(KMQTT_PROP_AUTHENTICATION_METHOD, V5B_AUTH_METHOD);
        if (c->max_qos_set)
            p[n++] = num(KMQTT_PROP_MAXIMUM_QOS, c->max_qos);
    } else if ((reason == 0x9C || reason == 0x9D) && c->o.server_reference != NULL) {
        p[n++] = str(KMQTT_PROP_SERVER_REFERENCE, c->o.server_reference);
    }
    memset(&k, 0, sizeof k);
    k.type = KMQTT_CONNACK;
    k.u.connack.reason_code = reason;
    k.u.connack.session_present = sp;
    k.u.connack.props.items = p;
    k.u.connack.props.count = n;
    /* Counted before it leaves: the test reads the count once the client
     * has the CONNACK. */
    if (reason != 0)
        c->sh->stats.refusals++;
    if (send_packet(c, &k) != 0)
        return -1;
    if (reason != 0)
        return -1; /* the connection ends after a failure CONNACK */
    c->connected = true;
    c->sh->stats.connects++;
    return 0;
}

static bool data_is(const kmqtt_props_t *props, const char *want)
{
    kmqtt_prop_t d;
    return kmqtt_props_find(props, KMQTT_PROP_AUTHENTICATION_DATA, &d) &&
           d.bin.len == strlen(want) && memcmp(d.bin.ptr, want, d.bin.len) == 0;
}

static bool method_ok(const kmqtt_props_t *props)
{
    kmqtt_prop_t m;
    return kmqtt_props_find(props, KMQTT_PROP_AUTHENTICATION_METHOD, &m) &&
           m.str.len == strlen(V5B_AUTH_METHOD) &&
           memcmp(m.str.ptr, V5B_AUTH_METHOD, m.str.len) == 0;
}

static int on_connect(conn_t *c, const kmqtt_connect_t *k)
{
    kmqtt_prop_t p;
    bool has_method = kmqtt_props_find(&k->props, KMQTT_PROP_AUTHENTICATION_METHOD, NULL);

    if (c->connected)
        return violation(c, 0x82); /* MQTT-3.1.0-2 */
    c->client_receive_max = 65535;
    if (kmqtt_props_find(&k->props, KMQTT_PROP_RECEIVE_MAXIMUM, &p))
        c->client_receive_max = (uint16_t)p.num;
    if (kmqtt_props_find(&k->props, KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, &p))
        c->client_alias_max = (uint16_t)p.num;
    if (kmqtt_props_find(&k->props, KMQTT_PROP_MAXIMUM_PACKET_SIZE, &p))
        c->client_max_packet = p.num;
    if (c->o.server_reference != NULL)
        return send_connack(c, c->o.reference_reason != 0 ? c->o.reference_reason : 0x9C, false,
                            false);
    if (c->o.enhanced_auth) {
        if (!has_method)
            return send_connack(c, 0x87, false, false);
        if (!method_ok(&k->props))
            return send_connack(c, 0x8C, false, false);
        c->auth = 1;
        return send_auth(c, 0x18, "challenge");
    }
    if (has_method)
        return send_connack(c, 0x8C, false, false);
    return send_connack(c, 0, k->client_id.len == 0,
                        c->o.keep_session && !k->clean_start && c->nth > 0);
}

static int on_auth(conn_t *c, const kmqtt_disconnect_t *a)
{
    c->sh->stats.auth_steps++;
    if (!c->o.enhanced_auth || !method_ok(&a->props))
        return violation(c, 0x82);
    if (a->reason_code == 0x19) {
        if (!c->connected || c->auth != 0)
            return violation(c, 0x82);
        c->auth = 2;
        return send_auth(c, 0x18, "challenge");
    }
    if (a->reason_code != 0x18 || c->auth == 0)
        return violation(c, 0x82);
    if (!data_is(&a->props, "response")) {
        if (c->auth == 1)
            return send_connack(c, 0x87, false, false);
        (void)send_simple(c, KMQTT_DISCONNECT, 0x87, NULL, 0);
        return -1;
    }
    if (c->auth == 1) {
        c->auth = 0;
        return send_connack(c, 0, false, false);
    }
    c->auth = 0;
    c->sh->stats.reauths++;
    return send_auth(c, 0x00, NULL);
}

/* Sends a message to the client, with an alias when it takes them. */
static int forward(conn_t *c, const kmqtt_publish_t *m, uint8_t qos)
{
    kmqtt_packet_t p;
    kmqtt_prop_t alias;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish = *m;
    p.u.publish.qos = qos;
    p.u.publish.dup = false;
    p.u.publish.retain = false;
    p.u.publish.props.items = NULL;
    p.u.publish.props.count = 0;
    p.u.publish.props.raw = NULL;
    p.u.publish.props.raw_len = 0;
    if (qos > 0) {
        if (c->out_inflight >= c->client_receive_max)
            return 0; /* MQTT-3.3.4-9: dropped rather than exceed it */
        c->next_id = (uint16_t)(c->next_id == 65535 ? 1 : c->next_id + 1);
        p.u.publish.packet_id = c->next_id;
        c->out_inflight++;
    }
    if (c->o.send_aliases && c->client_alias_max > 0 && m->topic.len < V5B_TOPIC) {
        uint16_t max = c->client_alias_max < V5B_OUT_ALIAS ? c->client_alias_max : V5B_OUT_ALIAS;
        uint16_t a;
        for (a = 1; a <= max; a++) {
            if (strlen(c->out_alias[a]) == m->topic.len &&
                memcmp(c->out_alias[a], m->topic.ptr, m->topic.len) == 0)
                break;
        }
        if (a > max) {
            c->out_next_alias = (uint16_t)(c->out_next_alias % max + 1);
            a = c->out_next_alias;
            memcpy(c->out_alias[a], m->topic.ptr, m->topic.len);
            c->out_alias[a][m->topic.len] = '\0';
        } else {
            p.u.publish.topic.len = 0; /* the client knows this one */
            c->sh->stats.aliases_sent++;
        }
        alias = num(KMQTT_PROP_TOPIC_ALIAS, a);
        p.u.publish.props.items = &alias;
        p.u.publish.props.count = 1;
    }
    return send_packet(c, &p);
}

static int on_publish(conn_t *c, kmqtt_publish_t *m, size_t len)
{
    kmqtt_prop_t a;
    char topic[V5B_TOPIC];

    c->sh->stats.publishes++;
    if (kmqtt_props_find(&m->props, KMQTT_PROP_TOPIC_ALIAS, &a)) {
        /* MQTT-3.2.2-17, MQTT-3.3.2-8 / -9 */
        if (a.num == 0 || a.num > c->o.topic_alias_max || a.num > V5B_ALIASES)
            return violation(c, 0x94);
        if (m->topic.len == 0) {
            if (c->in_alias[a.num][0] == '\0')
                return violation(c, 0x82);
            m->topic.ptr = c->in_alias[a.num];
            m->topic.len = strlen(c->in_alias[a.num]);
            c->sh->stats.aliased++;
        } else if (m->topic.len < V5B_TOPIC) {
            memcpy(c->in_alias[a.num], m->topic.ptr, m->topic.len);
            c->in_alias[a.num][m->topic.len] = '\0';
        }
    }
    (void)len;
    if (c->max_qos_set && m->qos > c->max_qos)
        return violation(c, 0x9B); /* MQTT-3.2.2-11: QoS not supported */
    if (m->qos > 0) {
        if (c->n_acks == 0)
            c->acks_since = now_ms();
        c->inflight++;
        if (c->inflight > c->sh->stats.max_inflight)
            c->sh->stats.max_inflight = c->inflight;
        /* MQTT-3.3.4-7 */
        if (c->o.receive_max != 0 && c->inflight > c->o.receive_max)
            return violation(c, 0x93);
        if (c->n_acks < V5B_ACKS)
            c->acks[c->n_acks++] = (ack_t){m->packet_id, m->qos};
    }
    if (m->topic.len >= V5B_TOPIC)
        return 0;
    memcpy(topic, m->topic.ptr, m->topic.len);
    topic[m->topic.len] = '\0';
    for (int i = 0; i < V5B_SUBS; i++) {
        if (c->subs[i][0] != '\0' &&
            kmqtt_topic_match(c->subs[i], strlen(c->subs[i]), topic, strlen(topic))) {
            uint8_t q = m->qos < c->sub_qos[i] ? m->qos : c->sub_qos[i];
            if (forward(c, m, q) != 0)
                return -1;
            break; /* one copy per message, like an overlapping-subscription broker may */
        }
    }
    return 0;
}

static int flush_acks(conn_t *c)
{
    for (unsigned i = 0; i < c->n_acks; i++) {
        if (send_ack(c, c->acks[i].qos == 1 ? KMQTT_PUBACK : KMQTT_PUBREC, c->acks[i].id) != 0)
            return -1;
        if (c->acks[i].qos == 1)
            c->inflight--;
    }
    c->n_acks = 0;
    return 0;
}

static int on_subscribe(conn_t *c, const kmqtt_subscribe_t *s, bool sub)
{
    kmqtt_sub_iter_t it;
    kmqtt_subscription_t f;
    uint8_t codes[64];
    size_t n = 0;
    kmqtt_packet_t p;

    kmqtt_sub_iter_init(&it, s, sub);
    while (kmqtt_sub_iter_next(&it, &f) && n < sizeof codes) {
        int slot = -1;
        for (int i = 0; i < V5B_SUBS; i++) {
            if (strlen(c->subs[i]) == f.filter.len &&
                memcmp(c->subs[i], f.filter.ptr, f.filter.len) == 0)
                slot = i;
        }
        if (!sub) {
            if (slot >= 0)
                c->subs[slot][0] = '\0';
            codes[n++] = slot >= 0 ? 0x00 : 0x11;
            continue;
        }
        for (int i = 0; slot < 0 && i < V5B_SUBS; i++) {
            if (c->subs[i][0] == '\0')
                slot = i;
        }
        if (slot < 0 || f.filter.len >= V5B_FILTER) {
            codes[n++] = 0x97; /* quota exceeded */
            continue;
        }
        memcpy(c->subs[slot], f.filter.ptr, f.filter.len);
        c->subs[slot][f.filter.len] = '\0';
        c->sub_qos[slot] = f.qos;
        codes[n++] = f.qos;
    }
    memset(&p, 0, sizeof p);
    p.type = sub ? KMQTT_SUBACK : KMQTT_UNSUBACK;
    p.u.suback.packet_id = s->packet_id;
    p.u.suback.reason_codes.ptr = codes;
    p.u.suback.reason_codes.len = n;
    return send_packet(c, &p);
}

/* Handles one packet; -1 ends the connection. */
static int handle(conn_t *c, kmqtt_packet_t *p, size_t len)
{
    if (!c->connected && p->type != KMQTT_CONNECT && p->type != KMQTT_AUTH)
        return violation(c, 0x82);
    switch (p->type) {
    case KMQTT_CONNECT:
        return on_connect(c, &p->u.connect);
    case KMQTT_AUTH:
        return on_auth(c, &p->u.disconnect);
    case KMQTT_PUBLISH:
        return on_publish(c, &p->u.publish, len);
    case KMQTT_PUBREL:
        if (c->inflight > 0)
            c->inflight--;
        return send_ack(c, KMQTT_PUBCOMP, p->u.ack.packet_id);
    case KMQTT_PUBREC:
        return send_ack(c, KMQTT_PUBREL, p->u.ack.packet_id);
    case KMQTT_PUBACK:
    case KMQTT_PUBCOMP:
        if (c->out_inflight > 0)
            c->out_inflight--;
        return 0;
    case KMQTT_SUBSCRIBE:
        return on_subscribe(c, &p->u.subscribe, true);
    case KMQTT_UNSUBSCRIBE:
        return on_subscribe(c, &p->u.subscribe, false);
    case KMQTT_PINGREQ:
        return send_simple(c, KMQTT_PINGRESP, 0, NULL, 0);
    case KMQTT_DISCONNECT:
        c->sh->stats.last_disconnect_reason = p->u.disconnect.reason_code;
        return -1;
    default:
        return violation(c, 0x82);
    }
}

/* Takes the complete packets out of c->rx. */
static int drain(conn_t *c)
{
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && off < c->rx_len) {
        size_t len;
        kmqtt_packet_t p;
        kmqtt_err_t err = kmqtt_packet_frame(c->rx + off, c->rx_len - off, V5B_RX, &len);
        if (err == KMQTT_NEED_MORE)
            break;
        if (err != KMQTT_OK)
            return violation(c, 0x81);
        if (len > c->sh->stats.max_packet)
            c->sh->stats.max_packet = (unsigned)len;
        /* MQTT-3.2.2-15 */
        if (c->o.max_packet_size != 0 && len > c->o.max_packet_size)
            return violation(c, 0x95);
        err = kmqtt_packet_decode(c->rx + off, len, KMQTT_V5, 0, &p, &len);
        if (err != KMQTT_OK)
            return violation(c, err == KMQTT_EPROTOCOL_VERSION ? 0x84 : 0x81);
        rc = handle(c, &p, len);
        off += len;
    }
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
    return rc;
}

/* Answers a test request that finds no client. */
static void refuse_request(shared_t *sh)
{
    if (sh->req != sh->done) {
        sh->req_ok = -1;
        __sync_synchronize();
        sh->done = sh->req;
    }
}

static void serve_conn(conn_t *c, pid_t parent)
{
    uint32_t delay = c->o.ack_delay_ms != 0 ? c->o.ack_delay_ms : 20;
    for (;;) {
        struct pollfd pf = {c->fd, POLLIN, 0};
        int r;
        if (getppid() != parent)
            return;
        if (c->sh->req != c->sh->done) {
            kmqtt_prop_t rs[2];
            size_t nrs = 0;
            if (c->sh->req_has_string)
                rs[nrs++] = str(KMQTT_PROP_REASON_STRING, c->sh->req_string);
            if (c->sh->req_has_ref)
                rs[nrs++] = str(KMQTT_PROP_SERVER_REFERENCE, c->sh->req_ref);
            (void)send_simple(c, KMQTT_DISCONNECT, c->sh->req_reason, rs, nrs);
            c->sh->req_ok = 0;
            __sync_synchronize();
            c->sh->done = c->sh->req;
            return;
        }
        if (c->n_acks > 0 && now_ms() - c->acks_since >= delay && flush_acks(c) != 0)
            return;
        r = poll(&pf, 1, 5);
        if (r < 0 && errno != EINTR)
            return;
        if (r > 0) {
            ssize_t n = recv(c->fd, c->rx + c->rx_len, sizeof c->rx - c->rx_len, 0);
            if (n <= 0)
                return;
            c->rx_len += (size_t)n;
            if (drain(c) != 0)
                return;
            if (c->rx_len == sizeof c->rx)
                return; /* a packet larger than the broker reads */
        }
    }
}

static void serve(int ls, const v5b_opts_t *o, shared_t *sh, pid_t parent)
{
    static conn_t c;
    unsigned nth = 0;
    for (;;) {
        struct pollfd pf = {ls, POLLIN, 0};
        if (getppid() != parent)
            return;
        refuse_request(sh);
        if (poll(&pf, 1, 20) <= 0)
            continue;
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        memset(&c, 0, sizeof c);
        c.fd = fd;
        c.o = *o;
        c.sh = sh;
        c.client_receive_max = 65535;
        c.nth = nth++;
        if (c.nth > 0 && o->later_caps) {
            c.o.max_packet_size = o->later_max_packet_size;
            c.max_qos_set = true;
            c.max_qos = o->later_max_qos;
        }
        serve_conn(&c, parent);
        close(fd);
    }
}

static int fd_ceiling(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int hi = 1024;
    if (d == NULL)
        return 4096;
    while ((e = readdir(d)) != NULL) {
        int v = atoi(e->d_name);
        if (v > hi)
            hi = v;
    }
    closedir(d);
    return hi;
}

v5b_t *v5b_start(const v5b_opts_t *o)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    v5b_t *b = calloc(1, sizeof *b);
    int ls, maxfd;
    pid_t parent = getpid();

    if (b == NULL || o == NULL || o->topic_alias_max > V5B_ALIASES) {
        free(b);
        return NULL;
    }
    b->sh = mmap(NULL, sizeof *b->sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b->sh == MAP_FAILED) {
        free(b);
        return NULL;
    }
    memset(b->sh, 0, sizeof *b->sh);
    b->sh->stats.last_disconnect_reason = 0xFF;
    ls = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0 || listen(ls, 16) != 0) {
        if (ls >= 0)
            close(ls);
        munmap(b->sh, sizeof *b->sh);
        free(b);
        return NULL;
    }
    b->port = ntohs(a.sin_port);
    maxfd = fd_ceiling();
    b->pid = fork();
    if (b->pid == 0) {
        /* No copies of the test's descriptors: a client's close() must
         * really close. */
        for (int fd = 3; fd <= maxfd; fd++) {
            if (fd != ls)
                close(fd);
        }
        signal(SIGPIPE, SIG_IGN);
        serve(ls, o, b->sh, parent);
        _exit(0);
    }
    close(ls);
    if (b->pid < 0) {
        munmap(b->sh, sizeof *b->sh);
        free(b);
        return NULL;
    }
    return b;
}

uint16_t v5b_port(const v5b_t *b)
{
    return b->port;
}

void v5b_get_stats(v5b_t *b, v5b_stats_t *out)
{
    __sync_synchronize();
    *out = b->sh->stats;
}

int v5b_disconnect(v5b_t *b, uint8_t reason, const char *reason_string)
{
    return v5b_disconnect_ref(b, reason, reason_string, NULL);
}

int v5b_disconnect_ref(v5b_t *b, uint8_t reason, const char *reason_string,
                       const char *server_reference)
{
    uint64_t until = now_ms() + 5000;
    shared_t *sh = b->sh;
    sh->req_reason = reason;
    sh->req_has_ref = server_reference != NULL;
    if (server_reference != NULL) {
        strncpy(sh->req_ref, server_reference, sizeof sh->req_ref - 1);
        sh->req_ref[sizeof sh->req_ref - 1] = '\0';
    }
    sh->req_has_string = reason_string != NULL;
    if (reason_string != NULL) {
        strncpy(sh->req_string, reason_string, sizeof sh->req_string - 1);
        sh->req_string[sizeof sh->req_string - 1] = '\0';
    }
    __sync_synchronize();
    sh->req = sh->done + 1;
    while (sh->done != sh->req) {
        struct timespec ts = {0, 2000000};
        if (now_ms() > until)
            return -1;
        nanosleep(&ts, NULL);
    }
    return sh->req_ok;
}

void v5b_stop(v5b_t *b)
{
    int st;
    if (b == NULL)
        return;
    kill(b->pid, SIGKILL);
    while (waitpid(b->pid, &st, 0) < 0 && errno == EINTR) {
    }
    munmap(b->sh, sizeof *b->sh);
    free(b);
}
