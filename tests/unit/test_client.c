/* The client over a scripted in-memory broker: no network. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmqtt/client.h"
#include "send_contract.h"

/* ============================================================ fake broker */

#define FAKE_SUBS 32
#define FAKE_LOG  32

typedef struct fake {
    pthread_mutex_t mx;
    pthread_cond_t cv;
    kmqtt_version_t v;
    bool is_open;
    bool woken;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_len, out_cap;

    /* script */
    kmqtt_err_t open_result;
    uint8_t connack_rc;
    bool no_connack;
    bool no_acks;     /* never answer PUBLISH */
    bool close_after; /* the next recv() reports the peer closed */
    int fail_opens;   /* the next n opens fail with fail_err */
    kmqtt_err_t fail_err;
    uint16_t refuse_port; /* opens to this port fail with KMQTT_ECONNREFUSED */
    bool block_open;      /* open() waits for wake() */
    bool in_open;         /* a blocked open() is waiting */
    bool session_present; /* CONNACK says so (and the fake keeps subscriptions) */
    int refuse_connacks;  /* the next n CONNACKs carry refuse_rc */
    uint8_t refuse_rc;

    /* what the broker saw */
    char filters[FAKE_SUBS][64];
    uint8_t filter_qos[FAKE_SUBS];
    int nfilters;
    uint16_t next_id;
    int opens, closes, connects, disconnects, publishes, pubrels, subscribes, unsubscribes;
    bool destroyed;
    char client_id[64];
    char last_topic[128];
    uint8_t last_qos;
    /* every open() and every PUBLISH, in order (the first FAKE_LOG) */
    char open_host[FAKE_LOG][64];
    uint16_t open_port[FAKE_LOG];
    uint64_t open_ms[FAKE_LOG];
    uint16_t pub_id[FAKE_LOG];
    bool pub_dup[FAKE_LOG];
    /* publish_batch: transport calls counted, wait() held on request */
    int wakes, sends, pubs_after_disconnect;
    bool hold_wait; /* wait() does not return while set */
    bool in_wait;   /* a thread is inside wait() */
    /* send(): when set, the gate decides how much of each offer is taken
     * and checks the send contract (support/send_contract.h) */
    sc_gate_t *gate;
    /* PUBLISHes on topic "seq": payloads must count up from 0 */
    int seq_next, seq_bad;
} fake_t;

static void fake_grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    while (*cap < need)
        *cap = *cap == 0 ? 4096 : *cap * 2;
    *buf = realloc(*buf, *cap);
    assert_non_null(*buf);
}

static void fake_queue(fake_t *f, const kmqtt_packet_t *p)
{
    size_t size = 0, written = 0;
    assert_int_equal(kmqtt_packet_size(p, f->v, &size), KMQTT_OK);
    fake_grow(&f->out, &f->out_cap, f->out_len + size);
    assert_int_equal(kmqtt_packet_encode(p, f->v, f->out + f->out_len, size, &written), KMQTT_OK);
    f->out_len += written;
    pthread_cond_broadcast(&f->cv);
}

static void fake_ack(fake_t *f, kmqtt_packet_type_t type, uint16_t id)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.u.ack.packet_id = id;
    fake_queue(f, &p);
}

static void fake_publish_locked(fake_t *f, const char *topic, const void *payload, size_t len,
                                uint8_t qos)
{
    kmqtt_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = KMQTT_PUBLISH;
    p.u.publish.topic.ptr = topic;
    p.u.publish.topic.len = strlen(topic);
    p.u.publish.payload.ptr = payload;
    p.u.publish.payload.len = len;
    p.u.publish.qos = qos;
    if (qos > 0) {
        if (++f->next_id == 0)
            f->next_id = 1;
        p.u.publish.packet_id = f->next_id;
    }
    fake_queue(f, &p);
}

/* The broker sends a message to the client. */
static void fake_inject(fake_t *f, const char *topic, const char *payload, uint8_t qos)
{
    pthread_mutex_lock(&f->mx);
    fake_publish_locked(f, topic, payload, strlen(payload), qos);
    pthread_mutex_unlock(&f->mx);
}

static void fake_on_publish(fake_t *f, const kmqtt_publish_t *m)
{
    int i;
    char topic[128];
    size_t tl = m->topic.len < sizeof topic - 1 ? m->topic.len : sizeof topic - 1;

    memcpy(topic, m->topic.ptr, tl);
    topic[tl] = '\0';
    if (f->publishes < FAKE_LOG) {
        f->pub_id[f->publishes] = m->packet_id;
        f->pub_dup[f->publishes] = m->dup;
    }
    f->publishes++;
    if (strcmp(topic, "seq") == 0) {
        char num[16];
        size_t pl = m->payload.len < sizeof num - 1 ? m->payload.len : sizeof num - 1;
        memcpy(num, m->payload.ptr, pl);
        num[pl] = '\0';
        if (atoi(num) != f->seq_next)
            f->seq_bad++;
        f->seq_next++;
    }
    memcpy(f->last_topic, topic, tl + 1);
    f->last_qos = m->qos;
    if (!f->no_acks) {
        if (m->qos == 1)
            fake_ack(f, KMQTT_PUBACK, m->packet_id);
        else if (m->qos == 2)
            fake_ack(f, KMQTT_PUBREC, m->packet_id);
    }
    /* Route to matching subscriptions, once per subscription like a broker. */
    for (i = 0; i < f->nfilters; i++) {
        if (kmqtt_topic_match(f->filters[i], strlen(f->filters[i]), topic, tl)) {
            uint8_t q = m->qos < f->filter_qos[i] ? m->qos : f->filter_qos[i];
            fake_publish_locked(f, topic, m->payload.ptr, m->payload.len, q);
            break; /* one copy per message is enough for these tests */
        }
    }
}

static void fake_on_subscribe(fake_t *f, const kmqtt_packet_t *p, bool sub)
{
    kmqtt_sub_iter_t it;
    kmqtt_subscription_t s;
    uint8_t codes[32];
    size_t n = 0;
    kmqtt_packet_t a;
    int i;

    kmqtt_sub_iter_init(&it, &p->u.subscribe, sub);
    while (kmqtt_sub_iter_next(&it, &s) && n < sizeof codes) {
        char filter[64];
        size_t fl = s.filter.len < sizeof filter - 1 ? s.filter.len : sizeof filter - 1;
        memcpy(filter, s.filter.ptr, fl);
        filter[fl] = '\0';
        if (sub) {
            if (strncmp(filter, "refused", 7) == 0) {
                codes[n++] = 0x80;
                continue;
            }
            codes[n++] = s.qos;
            if (f->nfilters < FAKE_SUBS) {
                strcpy(f->filters[f->nfilters], filter);
                f->filter_qos[f->nfilters++] = s.qos;
            }
        } else {
            codes[n++] = 0;
            for (i = 0; i < f->nfilters; i++) {
                if (strcmp(f->filters[i], filter) == 0) {
                    memmove(&f->filters[i], &f->filters[i + 1],
                            (size_t)(f->nfilters - i - 1) * sizeof f->filters[0]);
                    memmove(&f->filter_qos[i], &f->filter_qos[i + 1],
                            (size_t)(f->nfilters - i - 1));
                    f->nfilters--;
                    break;
                }
            }
        }
    }
    memset(&a, 0, sizeof a);
    a.type = sub ? KMQTT_SUBACK : KMQTT_UNSUBACK;
    a.u.suback.packet_id = p->u.subscribe.packet_id;
    if (sub || f->v == KMQTT_V5) {
        a.u.suback.reason_codes.ptr = codes;
        a.u.suback.reason_codes.len = n;
    }
    fake_queue(f, &a);
}

static void fake_handle(fake_t *f, const kmqtt_packet_t *p)
{
    kmqtt_packet_t a;

    switch (p->type) {
    case KMQTT_CONNECT:
        f->connects++;
        snprintf(f->client_id, sizeof f->client_id, "%.*s", (int)p->u.connect.client_id.len,
                 p->u.connect.client_id.ptr);
        if (!f->no_connack) {
            memset(&a, 0, sizeof a);
            a.type = KMQTT_CONNACK;
            a.u.connack.reason_code = f->connack_rc;
            if (f->refuse_connacks > 0) {
                f->refuse_connacks--;
                a.u.connack.reason_code = f->refuse_rc;
            }
            a.u.connack.session_present = f->session_present && a.u.connack.reason_code == 0;
            fake_queue(f, &a);
        }
        break;
    case KMQTT_PUBLISH:
        if (f->disconnects > 0)
            f->pubs_after_disconnect++;
        fake_on_publish(f, &p->u.publish);
        break;
    case KMQTT_PUBREL:
        f->pubrels++;
        fake_ack(f, KMQTT_PUBCOMP, p->u.ack.packet_id);
        break;
    case KMQTT_PUBREC: /* the client received our QoS 2 message */
        fake_ack(f, KMQTT_PUBREL, p->u.ack.packet_id);
        break;
    case KMQTT_SUBSCRIBE:
        f->subscribes++;
        fake_on_subscribe(f, p, true);
        break;
    case KMQTT_UNSUBSCRIBE:
        f->unsubscribes++;
        fake_on_subscribe(f, p, false);
        break;
    case KMQTT_PINGREQ:
        memset(&a, 0, sizeof a);
        a.type = KMQTT_PINGRESP;
        fake_queue(f, &a);
        break;
    case KMQTT_DISCONNECT:
        f->disconnects++;
        break;
    default:
        break;
    }
}

static kmqtt_err_t fake_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    fake_t *f = ctx;
    kmqtt_err_t err = KMQTT_OK;
    (void)timeout_ms;
    pthread_mutex_lock(&f->mx);
    if (f->opens < FAKE_LOG) {
        snprintf(f->open_host[f->opens], sizeof f->open_host[0], "%s", host);
        f->open_port[f->opens] = port;
        f->open_ms[f->opens] = kmqtt_port_now_ms();
    }
    f->opens++;
    if (f->block_open) {
        f->in_open = true;
        pthread_cond_broadcast(&f->cv);
        while (!f->woken)
            pthread_cond_wait(&f->cv, &f->mx);
        f->in_open = false;
    }
    if (f->woken) {
        f->woken = false;
        err = KMQTT_ECANCELED;
    } else if (f->open_result != KMQTT_OK) {
        err = f->open_result;
    } else if (f->fail_opens > 0) {
        f->fail_opens--;
        err = f->fail_err;
    } else if (f->refuse_port != 0 && port == f->refuse_port) {
        err = KMQTT_ECONNREFUSED;
    } else {
        assert_false(f->is_open);
        f->is_open = true;
        f->in_len = 0;
        f->out_len = 0;
        if (!f->session_present)
            f->nfilters = 0; /* a broker without the session forgot them */
    }
    pthread_mutex_unlock(&f->mx);
    return err;
}

static long fake_send(void *ctx, const void *buf, size_t len)
{
    fake_t *f = ctx;
    size_t off = 0, used;
    kmqtt_packet_t p;

    pthread_mutex_lock(&f->mx);
    assert_true(f->is_open);
    f->sends++;
    if (f->gate != NULL)
        len = sc_gate_offer(f->gate, buf, len);
    fake_grow(&f->in, &f->in_cap, f->in_len + len);
    memcpy(f->in + f->in_len, buf, len);
    f->in_len += len;
    while (off < f->in_len &&
           kmqtt_packet_decode(f->in + off, f->in_len - off, f->v, 0, &p, &used) == KMQTT_OK) {
        fake_handle(f, &p);
        off += used;
    }
    memmove(f->in, f->in + off, f->in_len - off);
    f->in_len -= off;
    pthread_mutex_unlock(&f->mx);
    return (long)len;
}

static long fake_recv(void *ctx, void *buf, size_t len)
{
    fake_t *f = ctx;
    size_t n;

    pthread_mutex_lock(&f->mx);
    assert_true(f->is_open);
    if (f->close_after && f->out_len == 0) {
        pthread_mutex_unlock(&f->mx);
        return KMQTT_ECLOSED;
    }
    n = f->out_len < len ? f->out_len : len;
    if (n > 0) {
        memcpy(buf, f->out, n);
        memmove(f->out, f->out + n, f->out_len - n);
        f->out_len -= n;
    }
    pthread_mutex_unlock(&f->mx);
    return (long)n;
}

static kmqtt_err_t fake_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    fake_t *f = ctx;
    struct timespec ts;
    unsigned r;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&f->mx);
    f->in_wait = true;
    pthread_cond_broadcast(&f->cv);
    for (;;) {
        if (f->hold_wait) {
            pthread_cond_wait(&f->cv, &f->mx);
            continue;
        }
        r = 0;
        if (f->is_open && (events & KMQTT_WAIT_READ) && (f->out_len > 0 || f->close_after))
            r |= KMQTT_WAIT_READ;
        if (f->is_open && (events & KMQTT_WAIT_WRITE))
            r |= KMQTT_WAIT_WRITE;
        if (f->woken) {
            f->woken = false;
            r |= KMQTT_WAIT_WOKEN;
        }
        if (r != 0 || timeout_ms == 0)
            break;
        if (pthread_cond_timedwait(&f->cv, &f->mx, &ts) != 0)
            break;
    }
    f->in_wait = false;
    pthread_mutex_unlock(&f->mx);
    *ready = r;
    return KMQTT_OK;
}

static void fake_wake(void *ctx)
{
    fake_t *f = ctx;
    pthread_mutex_lock(&f->mx);
    f->wakes++;
    f->woken = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mx);
}

static void fake_close(void *ctx)
{
    fake_t *f = ctx;
    pthread_mutex_lock(&f->mx);
    if (f->is_open)
        f->closes++;
    f->is_open = false;
    f->close_after = false;
    if (f->gate != NULL)
        sc_gate_closed(f->gate);
    pthread_mutex_unlock(&f->mx);
}

static void fake_destroy(void *ctx)
{
    fake_t *f = ctx;
    fake_close(f);
    f->destroyed = true;
}

static fake_t *fake_new(kmqtt_version_t v, kmqtt_transport_t *tr)
{
    fake_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    pthread_mutex_init(&f->mx, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->v = v;
    tr->ctx = f;
    tr->open = fake_open;
    tr->send = fake_send;
    tr->recv = fake_recv;
    tr->wait = fake_wait;
    tr->wake = fake_wake;
    tr->close = fake_close;
    tr->destroy = fake_destroy;
    return f;
}

static void fake_free(fake_t *f)
{
    pthread_mutex_destroy(&f->mx);
    pthread_cond_destroy(&f->cv);
    free(f->in);
    free(f->out);
    free(f);
}

static int fake_get(fake_t *f, const int *field)
{
    int v;
    pthread_mutex_lock(&f->mx);
    v = *field;
    pthread_mutex_unlock(&f->mx);
    return v;
}

/* ============================================================== fixture */

typedef struct record {
    pthread_mutex_t mx;
    int messages;  /* on_message */
    int handler_a; /* handler a */
    int handler_b; /* handler b */
    int done;      /* on_publish_done */
    uint16_t done_ids[8];
    kmqtt_conn_state_t states[64];
    kmqtt_err_t state_errs[64];
    int nstates;
    char last_topic[128];
    char last_payload[128];
} record_t;

typedef struct env {
    kmqtt_mem_t parent;
    kmqtt_client_options_t o;
    kmqtt_transport_t tr;
    fake_t *fake;
    kmqtt_client_t *c;
    record_t rec;
} env_t;

static void copy_msg(record_t *r, const kmqtt_publish_t *m)
{
    snprintf(r->last_topic, sizeof r->last_topic, "%.*s", (int)m->topic.len, m->topic.ptr);
    snprintf(r->last_payload, sizeof r->last_payload, "%.*s", (int)m->payload.len,
             (const char *)m->payload.ptr);
}

static void on_message(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    record_t *r = ctx;
    (void)c;
    pthread_mutex_lock(&r->mx);
    r->messages++;
    copy_msg(r, m);
    pthread_mutex_unlock(&r->mx);
}

static void on_done(kmqtt_client_t *c, uint16_t id, kmqtt_err_t err, uint8_t rc, void *ctx)
{
    record_t *r = ctx;
    (void)c;
    (void)rc;
    assert_int_equal(err, KMQTT_OK);
    pthread_mutex_lock(&r->mx);
    if (r->done < 8)
        r->done_ids[r->done] = id;
    r->done++;
    pthread_mutex_unlock(&r->mx);
}

static void on_state(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    record_t *r = ctx;
    (void)c;
    pthread_mutex_lock(&r->mx);
    if (r->nstates < 64) {
        r->states[r->nstates] = st;
        r->state_errs[r->nstates] = err;
        r->nstates++;
    }
    pthread_mutex_unlock(&r->mx);
}

static int rec_get(record_t *r, const int *field)
{
    int v;
    pthread_mutex_lock(&r->mx);
    v = *field;
    pthread_mutex_unlock(&r->mx);
    return v;
}

static void env_init(env_t *e, kmqtt_version_t v)
{
    kmqtt_mem_config_t mc;
    memset(e, 0, sizeof *e);
    memset(&mc, 0, sizeof mc);
    mc.debug = true;
    assert_int_equal(kmqtt_mem_init(&e->parent, &mc), KMQTT_OK);
    pthread_mutex_init(&e->rec.mx, NULL);
    e->fake = fake_new(v, &e->tr);
    kmqtt_client_options_init(&e->o);
    e->o.version = v;
    e->o.client_id = "test-client";
    e->o.on_message = on_message;
    e->o.on_publish_done = on_done;
    e->o.on_state = on_state;
    e->o.ctx = &e->rec;
    e->o.mem = &e->parent;
    e->o.mem_debug = true;
    e->o.transport = &e->tr;
}

static void env_create(env_t *e)
{
    assert_int_equal(kmqtt_client_create(&e->o, &e->c), KMQTT_OK);
}

static void env_connect(env_t *e)
{
    kmqtt_connack_info_t info;
    env_create(e);
    assert_int_equal(kmqtt_connect(e->c, 2000, &info), KMQTT_OK);
    assert_int_equal(info.reason_code, 0);
    assert_int_equal(kmqtt_client_state(e->c), KMQTT_STATE_CONNECTED);
}

/* Destroys the client and checks the parent got every byte back. */
static void env_done(env_t *e)
{
    kmqtt_mem_stats_t st;
    kmqtt_client_destroy(e->c);
    e->c = NULL;
    kmqtt_mem_get_stats(&e->parent, &st);
    assert_int_equal(st.blocks, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(kmqtt_mem_walk(&e->parent, NULL, NULL), 0);
    assert_int_equal(st.faults, 0);
    assert_true(e->fake->destroyed);
    fake_free(e->fake);
    pthread_mutex_destroy(&e->rec.mx);
}

/* Runs the loop until *field reaches want (or fails after 2 s). */
static void run_until(env_t *e, const int *field, int want)
{
    uint64_t end = kmqtt_port_now_ms() + 2000;
    while (rec_get(&e->rec, field) < want && kmqtt_port_now_ms() < end)
        assert_int_equal(kmqtt_run(e->c, 10), KMQTT_OK);
    assert_int_equal(rec_get(&e->rec, field), want);
}

static void wait_for(record_t *r, const int *field, int want)
{
    uint64_t end = kmqtt_port_now_ms() + 2000;
    while (rec_get(r, field) < want && kmqtt_port_now_ms() < end)
        kmqtt_port_sleep_ms(1);
    assert_int_equal(rec_get(r, field), want);
}

/* ============================================================ connecting */

static void test_connect_then_disconnect_walks_the_states(void **state)
{
    env_t e;
    (void)state;
    env_init(&e, KMQTT_V311);
    env_connect(&e);
    assert_string_equal(e.fake->client_id, "test-client");
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(e.fake->disconnects, 1);
    assert_int_equal(e.fake->closes, 1);
    assert_false(e.fake->is_open);
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_ENOTCONN);
    assert_int_equal(e.rec.nstates, 3);
    assert_int_equal(e.rec.states[0], KMQTT_STATE_CONNECTING);
    assert_int_equal(e.rec.states[1], KMQTT_STATE_CONNECTED);
    assert_int_equal(e.rec.states[2], KMQTT_STATE_DISCONNECTED);
    /* Connected again on the same client. */
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_ESTATE);
    env_done(&e);
}

static void test_empty_client_id_becomes_kmqtt_and_12_hex_digits(void **state)
{
    env_t e;
    size_t i;
    (void)state;
    env_init(&e, KMQTT_V5);
    e.o.client_id = "";
    env_connect(&e);
    assert_int_equal(strlen(e.fake->client_id), 18);
    assert_memory_equal(e.fake->client_id, "kmqtt-", 6);
    for (i = 6; i < 18; i++)
        assert_non_null(strchr("0123456789abcdef", e.fake->client_id[i]));
    env_done(&e);
}

static void test_connack_refusal_returns_erefused_with_the_code(void **state)
{
    env_t e;
    kmqtt_connack_info_t info;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.fake->connack_rc = 5; /* not authorized */
    env_create(&e);
    assert_int_equal(kmqtt_connect(e.c, 2000, &info), KMQTT_EREFUSED);
    assert_int_equal(info.reason_code, 5);
    assert_false(e.fake->is_open);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(e.rec.states[e.rec.nstates - 1], KMQTT_STATE_DISCONNECTED);
    assert_int_equal(e.rec.state_errs[e.rec.nstates - 1], KMQTT_EREFUSED);
    assert_int_equal(kmqtt_publish(e.c, "t", "x", 1, 0, false, NULL, NULL), KMQTT_ENOTCONN);
    env_done(&e);
}

/* Issue #18, the pipelined connect: a queued QoS 1 message leaves with the
 * CONNECT. The CONNECT is refused (MQTT-3.1.4-5: the server processed
 * nothing after it), so the message is neither reported nor lost: the next
 * kmqtt_connect of a clean-session client (whose connect otherwise drops
 * what was in flight) sends it, and it completes once, with success. */
static void test_refused_pipelined_message_goes_on_the_next_connect(void **state)
{
    env_t e;
    kmqtt_publish_result_t r;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.offline_queue_max_msgs = 4;
    e.o.offline_queue_max_bytes = 1024;
    e.o.reconnect = KMQTT_RECONNECT_OFF;
    e.fake->refuse_connacks = 1;
    e.fake->refuse_rc = 3;
    env_create(&e);
    assert_int_equal(kmqtt_publish(e.c, "q/a", "x", 1, 1, false, NULL, &r), KMQTT_OK);
    assert_int_not_equal(r.queue_seq, 0);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_EREFUSED);
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 1); /* it went with the CONNECT */
    assert_int_equal(rec_get(&e.rec, &e.rec.done), 0);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(e.c, 2000), KMQTT_OK);
    assert_int_equal(rec_get(&e.rec, &e.rec.done), 1); /* on_done asserts KMQTT_OK */
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 2);
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    env_done(&e);
}

static void test_connect_without_connack_times_out_and_closes(void **state)
{
    env_t e;
    uint64_t t0;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.fake->no_connack = true;
    env_create(&e);
    t0 = kmqtt_port_now_ms();
    assert_int_equal(kmqtt_connect(e.c, 150, NULL), KMQTT_ETIMEDOUT);
    assert_true(kmqtt_port_now_ms() - t0 < 1000);
    assert_false(e.fake->is_open);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    env_done(&e);
}

static void test_connect_reports_the_transport_error(void **state)
{
    env_t e;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.fake->open_result = KMQTT_ECONNREFUSED;
    env_create(&e);
    assert_int_equal(kmqtt_connect(e.c, 500, NULL), KMQTT_ECONNREFUSED);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    e.fake->open_result = KMQTT_OK;
    assert_int_equal(kmqtt_connect(e.c, 500, NULL), KMQTT_OK);
    env_done(&e);
}

static void test_create_rejects_bad_options(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = (kmqtt_client_t *)&o;
    (void)state;
    kmqtt_client_options_init(&o);
    o.has_will = true;
    o.will_topic = "bad/+/will";
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_EINVAL);
    assert_null(c);
    kmqtt_client_options_init(&o);
    o.will_qos = 3;
    o.has_will = true;
    o.will_topic = "w";
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_EINVAL);
    kmqtt_client_options_init(&o);
    o.version = (kmqtt_version_t)3;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_EINVAL);
    assert_int_equal(kmqtt_client_create(NULL, &c), KMQTT_EINVAL);
}

/* ============================================================ publishing */

static void test_publish_qos_0_1_2_complete_with_callback_and_wait(void **state)
{
    kmqtt_publish_result_t pr;
    env_t e;
    uint16_t id1 = 0, id2 = 0, id0 = 7;
    uint8_t rc = 0xFF;
    (void)state;
    env_init(&e, KMQTT_V311);
    env_connect(&e);
    assert_int_equal(kmqtt_publish(e.c, "a/0", "zero", 4, 0, false, NULL, &pr), KMQTT_OK);
    id0 = pr.packet_id;
    assert_int_equal(id0, 0);
    assert_int_equal(kmqtt_publish(e.c, "a/1", "one", 3, 1, false, NULL, &pr), KMQTT_OK);
    id1 = pr.packet_id;
    assert_int_equal(kmqtt_publish(e.c, "a/2", "two", 3, 2, true, NULL, &pr), KMQTT_OK);
    id2 = pr.packet_id;
    assert_true(id1 != 0 && id2 != 0 && id1 != id2);
    /* publish_wait runs the loop itself (no background thread). */
    assert_int_equal(kmqtt_publish_wait(e.c, id2, 2000, &rc), KMQTT_OK);
    assert_int_equal(rc, 0);
    assert_int_equal(kmqtt_publish_wait_all(e.c, 2000), KMQTT_OK);
    /* Completed before the wait began: still known. */
    assert_int_equal(kmqtt_publish_wait(e.c, id1, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait(e.c, 999, 100, NULL), KMQTT_ENOTFOUND);
    assert_int_equal(e.rec.done, 2);
    assert_int_equal(e.fake->publishes, 3);
    assert_int_equal(e.fake->pubrels, 1);
    env_done(&e);
}

static void test_publish_refuses_bad_topic_and_qos(void **state)
{
    env_t e;
    (void)state;
    env_init(&e, KMQTT_V311);
    env_connect(&e);
    assert_int_equal(kmqtt_publish(e.c, "a/+", "x", 1, 0, false, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(e.c, "", "x", 1, 0, false, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(e.c, "a", "x", 1, 3, false, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(e.c, "a", NULL, 1, 0, false, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(e.fake->publishes, 0);
    env_done(&e);
}

static void test_full_window_returns_elimit_at_once(void **state)
{
    env_t e;
    int i;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.max_inflight = 3;
    e.fake->no_acks = true;
    env_connect(&e);
    for (i = 0; i < 3; i++)
        assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, NULL), KMQTT_ELIMIT);
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 0, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(e.c, 50), KMQTT_ETIMEDOUT);
    env_done(&e);
}

/* ============================================================ subscribing */

static void handler_a(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    record_t *r = ctx;
    (void)c;
    pthread_mutex_lock(&r->mx);
    r->handler_a++;
    copy_msg(r, m);
    pthread_mutex_unlock(&r->mx);
}

static void handler_b(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    record_t *r = ctx;
    (void)c;
    (void)m;
    pthread_mutex_lock(&r->mx);
    r->handler_b++;
    pthread_mutex_unlock(&r->mx);
}

static void test_subscribe_reports_granted_codes_and_routes_to_handlers(void **state)
{
    env_t e;
    kmqtt_subscribe_result_t granted;
    kmqtt_sub_request_t subs[3] = {{"s/a/#", 1, handler_a, NULL},
                                   {"s/+/b", 2, handler_b, NULL},
                                   {"refused/x", 0, handler_b, NULL}};
    (void)state;
    env_init(&e, KMQTT_V311);
    subs[0].ctx = subs[1].ctx = subs[2].ctx = &e.rec;
    env_connect(&e);
    assert_int_equal(kmqtt_subscribe(e.c, subs, 3, 2000, NULL, &granted), KMQTT_ESUBFAIL);
    assert_int_equal(granted.reason_codes[0], 1);
    assert_int_equal(granted.reason_codes[1], 2);
    assert_int_equal(granted.reason_codes[2], 0x80);

    /* Matches both filters: each handler once, not on_message. */
    fake_inject(e.fake, "s/a/b", "both", 1);
    run_until(&e, &e.rec.handler_b, 1);
    assert_int_equal(e.rec.handler_a, 1);
    assert_string_equal(e.rec.last_payload, "both");
    /* Matches one. */
    fake_inject(e.fake, "s/a/c", "one", 0);
    run_until(&e, &e.rec.handler_a, 2);
    assert_int_equal(e.rec.handler_b, 1);
    /* Matches none: the default handler. */
    fake_inject(e.fake, "other", "dflt", 2);
    run_until(&e, &e.rec.messages, 1);
    assert_string_equal(e.rec.last_topic, "other");
    /* The refused filter registered nothing. */
    fake_inject(e.fake, "refused/x", "r", 0);
    run_until(&e, &e.rec.messages, 2);
    assert_int_equal(e.rec.handler_b, 1);
    assert_int_equal(e.rec.handler_a, 2);
    env_done(&e);
}

static void test_one_handler_on_two_matching_filters_runs_once(void **state)
{
    env_t e;
    kmqtt_sub_request_t subs[2] = {{"d/#", 0, handler_a, NULL}, {"d/+", 0, handler_a, NULL}};
    (void)state;
    env_init(&e, KMQTT_V5);
    subs[0].ctx = subs[1].ctx = &e.rec;
    env_connect(&e);
    assert_int_equal(kmqtt_subscribe(e.c, subs, 2, 2000, NULL, NULL), KMQTT_OK);
    fake_inject(e.fake, "d/x", "p", 0);
    fake_inject(e.fake, "d/y", "q", 0);
    run_until(&e, &e.rec.handler_a, 2);
    kmqtt_run(e.c, 20);
    assert_int_equal(e.rec.handler_a, 2);
    assert_int_equal(e.rec.messages, 0);
    env_done(&e);
}

static void test_unsubscribe_removes_the_handler(void **state)
{
    env_t e;
    kmqtt_sub_request_t sub = {"u/#", 1, handler_a, NULL};
    const char *filters[1] = {"u/#"};
    (void)state;
    env_init(&e, KMQTT_V311);
    sub.ctx = &e.rec;
    env_connect(&e);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    fake_inject(e.fake, "u/1", "a", 1);
    run_until(&e, &e.rec.handler_a, 1);
    assert_int_equal(kmqtt_unsubscribe(e.c, filters, 1, 2000, NULL, NULL), KMQTT_OK);
    assert_int_equal(e.fake->unsubscribes, 1);
    fake_inject(e.fake, "u/1", "b", 1);
    run_until(&e, &e.rec.messages, 1);
    assert_int_equal(e.rec.handler_a, 1);
    assert_int_equal(kmqtt_unsubscribe(e.c, (const char *const[]){"u/+/#/x"}, 1, 100, NULL, NULL),
                     KMQTT_EINVAL);
    env_done(&e);
}

static void test_subscriptions_are_bounded(void **state)
{
    env_t e;
    kmqtt_sub_request_t subs[3] = {
        {"b/1", 0, handler_a, NULL}, {"b/2", 0, handler_a, NULL}, {"b/3", 0, handler_a, NULL}};
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.max_subscriptions = 2;
    env_connect(&e);
    assert_int_equal(kmqtt_subscribe(e.c, subs, 2, 2000, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(e.c, &subs[2], 1, 2000, NULL, NULL), KMQTT_ELIMIT);
    /* The same filter again replaces, so it fits. */
    assert_int_equal(kmqtt_subscribe(e.c, &subs[0], 1, 2000, NULL, NULL), KMQTT_OK);
    assert_int_equal(
        kmqtt_subscribe(e.c, (kmqtt_sub_request_t[]){{"a/#/b", 0, NULL, NULL}}, 1, 100, NULL, NULL),
        KMQTT_EINVAL);
    env_done(&e);
}

/* ========================================================== handler calls */

typedef struct reentry {
    env_t *e;
    int calls;
    kmqtt_err_t err;
    kmqtt_subscribe_result_t granted;
} reentry_t;

static void handler_publishes(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    reentry_t *r = ctx;
    (void)m;
    r->calls++;
    r->err = kmqtt_publish(c, "reply/1", "pong", 4, 1, false, NULL, NULL);
}

static void test_a_handler_may_publish(void **state)
{
    env_t e;
    reentry_t r = {0};
    kmqtt_sub_request_t sub = {"ping/#", 1, handler_publishes, NULL};
    (void)state;
    env_init(&e, KMQTT_V311);
    r.e = &e;
    sub.ctx = &r;
    env_connect(&e);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    fake_inject(e.fake, "ping/1", "ping", 1);
    run_until(&e, &e.rec.done, 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, KMQTT_OK);
    assert_string_equal(e.fake->last_topic, "reply/1");
    env_done(&e);
}

static void handler_subscribes(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    reentry_t *r = ctx;
    kmqtt_sub_request_t sub = {"more/#", 1, handler_a, NULL};
    sub.ctx = &r->e->rec;
    r->err = kmqtt_subscribe(c, &sub, 1, 2000, NULL, &r->granted);
    /* The message is still readable after the nested loop ran. */
    if (m->topic.len != 5 || memcmp(m->topic.ptr, "sub/1", 5) != 0)
        r->err = KMQTT_EINVAL;
    pthread_mutex_lock(&r->e->rec.mx);
    r->calls++;
    pthread_mutex_unlock(&r->e->rec.mx);
}

static void test_a_handler_may_subscribe_and_wait_for_suback(void **state)
{
    env_t e;
    reentry_t r = {0};
    kmqtt_sub_request_t sub = {"sub/#", 1, handler_subscribes, NULL};
    (void)state;
    env_init(&e, KMQTT_V311);
    r.e = &e;
    sub.ctx = &r;
    env_connect(&e);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    fake_inject(e.fake, "sub/1", "go", 1);
    fake_inject(e.fake, "x/y", "during", 0); /* arrives while the handler waits */
    while (r.calls == 0)
        assert_int_equal(kmqtt_run(e.c, 100), KMQTT_OK);
    assert_int_equal(r.err, KMQTT_OK);
    assert_int_equal(r.granted.reason_codes[0], 1);
    run_until(&e, &e.rec.messages, 1);
    fake_inject(e.fake, "more/1", "m", 0);
    run_until(&e, &e.rec.handler_a, 1);
    env_done(&e);
}

static void handler_disconnects(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    reentry_t *r = ctx;
    (void)m;
    r->err = kmqtt_disconnect(c, NULL);
    pthread_mutex_lock(&r->e->rec.mx);
    r->calls++;
    pthread_mutex_unlock(&r->e->rec.mx);
}

static void test_a_handler_may_disconnect(void **state)
{
    env_t e;
    reentry_t r = {0};
    kmqtt_sub_request_t sub = {"bye", 0, handler_disconnects, NULL};
    kmqtt_err_t err = KMQTT_OK;
    int i;
    (void)state;
    env_init(&e, KMQTT_V311);
    r.e = &e;
    sub.ctx = &r;
    env_connect(&e);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    fake_inject(e.fake, "bye", "", 0);
    for (i = 0; i < 100 && err == KMQTT_OK; i++)
        err = kmqtt_run(e.c, 20);
    assert_int_equal(err, KMQTT_ENOTCONN);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, KMQTT_OK);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(e.fake->disconnects, 1);
    assert_false(e.fake->is_open);
    assert_int_equal(kmqtt_run(e.c, 10), KMQTT_ENOTCONN);
    assert_int_equal(e.fake->opens, 1);
    env_done(&e);
}

/* ========================================================= threads */

typedef struct runner {
    kmqtt_client_t *c;
    kmqtt_err_t err;
    uint64_t returned_ms;
} runner_t;

static void *run_long(void *arg)
{
    runner_t *r = arg;
    r->err = kmqtt_run(r->c, 10000);
    r->returned_ms = kmqtt_port_now_ms();
    return NULL;
}

static void test_disconnect_from_another_thread_ends_a_blocked_run(void **state)
{
    env_t e;
    runner_t r = {0};
    pthread_t t;
    uint64_t t0;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.keepalive_s = 0;
    env_connect(&e);
    r.c = e.c;
    assert_int_equal(pthread_create(&t, NULL, run_long, &r), 0);
    kmqtt_port_sleep_ms(100);
    t0 = kmqtt_port_now_ms();
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    assert_true(kmqtt_port_now_ms() - t0 < 1000);
    pthread_join(t, NULL);
    assert_true(r.returned_ms - t0 < 1000);
    assert_int_equal(r.err, KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_false(e.fake->is_open);
    kmqtt_port_sleep_ms(100);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 1); /* nothing reconnected */
    env_done(&e);
}

static void test_background_thread_runs_the_loop_for_blocking_calls(void **state)
{
    env_t e;
    kmqtt_sub_request_t sub = {"bg/#", 2, handler_a, NULL};
    kmqtt_publish_result_t pr;
    int i;
    (void)state;
    env_init(&e, KMQTT_V5);
    e.o.publish_block_ms = 2000; /* 50 publishes through a window of 20 */
    sub.ctx = &e.rec;
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_start(e.c), KMQTT_ESTATE);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_run(e.c, 10), KMQTT_ESTATE);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    for (i = 0; i < 50; i++)
        assert_int_equal(kmqtt_publish(e.c, "bg/x", "v", 1, (uint8_t)(i % 3), false, NULL, &pr),
                         KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(e.c, 2000), KMQTT_OK);
    wait_for(&e.rec, &e.rec.handler_a, 50);
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    assert_false(e.fake->is_open);
    /* The thread is gone: run() is the caller's again. */
    assert_int_equal(kmqtt_run(e.c, 10), KMQTT_ENOTCONN);
    /* A second life with a new thread, ended by destroy. */
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    env_done(&e);
}

static void handler_bg_subscribes(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    handler_subscribes(c, m, ctx);
}

static void test_a_handler_on_the_background_thread_may_subscribe_and_disconnect(void **state)
{
    env_t e;
    reentry_t r = {0}, d = {0};
    kmqtt_sub_request_t subs[2] = {{"sub/#", 1, handler_bg_subscribes, NULL},
                                   {"bye", 0, handler_disconnects, NULL}};
    (void)state;
    env_init(&e, KMQTT_V311);
    r.e = &e;
    d.e = &e;
    subs[0].ctx = &r;
    subs[1].ctx = &d;
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(e.c, subs, 2, 2000, NULL, NULL), KMQTT_OK);
    fake_inject(e.fake, "sub/1", "go", 1);
    wait_for(&e.rec, &r.calls, 1);
    assert_int_equal(r.err, KMQTT_OK);
    fake_inject(e.fake, "bye", "", 0);
    wait_for(&e.rec, &d.calls, 1);
    assert_int_equal(d.err, KMQTT_OK);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    /* The thread ended after its handler; start() joins it and starts anew. */
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    env_done(&e);
}

/* ============================================================ lost link */

static void test_broker_closing_is_connection_lost(void **state)
{
    kmqtt_publish_result_t pr;
    env_t e;
    uint16_t id = 0;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.clean_session = false; /* keep the message for the next connection */
    e.fake->no_acks = true;
    env_connect(&e);
    assert_int_equal(kmqtt_publish(e.c, "l", "x", 1, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    pthread_mutex_lock(&e.fake->mx);
    e.fake->close_after = true;
    pthread_mutex_unlock(&e.fake->mx);
    assert_int_equal(kmqtt_publish_wait(e.c, id, 2000, NULL), KMQTT_ECLOSED);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_CONNECTION_LOST);
    assert_int_equal(e.rec.states[e.rec.nstates - 1], KMQTT_STATE_CONNECTION_LOST);
    assert_int_equal(e.rec.state_errs[e.rec.nstates - 1], KMQTT_ECLOSED);
    assert_int_equal(kmqtt_run(e.c, 10), KMQTT_ENOTCONN);
    assert_int_equal(e.fake->opens, 1);
    /* The unacknowledged message goes again on the next connection. */
    e.fake->no_acks = false;
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait(e.c, id, 2000, NULL), KMQTT_OK);
    assert_int_equal(e.fake->publishes, 2);
    env_done(&e);
}

/* ================================================================ memory */

static void test_destroy_returns_every_byte_to_the_parent(void **state)
{
    env_t e;
    kmqtt_sub_request_t sub = {"m/#", 1, handler_a, NULL};
    kmqtt_mem_stats_t st;
    (void)state;
    env_init(&e, KMQTT_V5);
    sub.ctx = &e.rec;
    env_connect(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    kmqtt_mem_get_stats(&e.parent, &st);
    assert_true(st.blocks > 5);
    kmqtt_mem_get_stats(kmqtt_client_mem(e.c), &st);
    assert_true(st.blocks > 5);
    {
        kmqtt_mem_tag_stats_t ts;
        assert_int_equal(kmqtt_mem_get_tag_stats(kmqtt_client_mem(e.c), "session", &ts), KMQTT_OK);
        assert_int_equal(ts.blocks, 1);
    }
    /* destroy while connected, with the thread running */
    env_done(&e);
}

static void test_create_without_parent_uses_its_own_context(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_transport_t tr;
    fake_t *f = fake_new(KMQTT_V311, &tr);
    kmqtt_client_t *c = NULL;
    kmqtt_mem_stats_t st;
    kmqtt_mem_tag_stats_t ts;
    (void)state;
    kmqtt_client_options_init(&o);
    o.transport = &tr;
    o.mem_debug = true;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_mem_get_stats(kmqtt_client_mem(c), &st);
    assert_true(st.blocks >= 6);
    assert_int_equal(kmqtt_mem_get_tag_stats(kmqtt_client_mem(c), "client", &ts), KMQTT_OK);
    assert_int_equal(ts.blocks, 1);
    assert_int_equal(kmqtt_mem_get_tag_stats(kmqtt_client_mem(c), "session", &ts), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    assert_true(f->destroyed);
    fake_free(f);
}

static void test_every_allocation_failure_in_create_leaves_nothing(void **state)
{
    env_t e;
    uint32_t k, attempts;
    kmqtt_client_t *c;
    kmqtt_mem_stats_t st;
    int j;
    (void)state;
    for (j = 0; j < 2; j++) {
        env_init(&e, KMQTT_V311);
        if (j == 1)
            e.o.transport = NULL; /* the port's TCP transport, allocated too */
        kmqtt_mem_fail_nth(&e.parent, 0, false);
        assert_int_equal(kmqtt_client_create(&e.o, &c), KMQTT_OK);
        attempts = kmqtt_mem_attempts(&e.parent);
        kmqtt_client_destroy(c);
        e.fake->destroyed = false;
        assert_true(attempts >= 8);
        for (k = 1; k <= attempts; k++) {
            c = (kmqtt_client_t *)&e;
            kmqtt_mem_fail_nth(&e.parent, k, false);
            assert_int_equal(kmqtt_client_create(&e.o, &c), KMQTT_ENOMEM);
            assert_null(c);
            kmqtt_mem_get_stats(&e.parent, &st);
            assert_int_equal(st.blocks, 0);
            assert_false(e.fake->destroyed); /* the caller still owns it */
        }
        kmqtt_mem_fail_nth(&e.parent, 0, false);
        e.c = NULL;
        e.fake->destroyed = true;
        env_done(&e);
    }
}

static void count_a(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    int *n = ctx;
    (void)c;
    (void)m;
    (*n)++;
}

static void test_ten_thousand_messages_allocate_nothing(void **state)
{
    env_t e;
    int received = 0, i;
    kmqtt_sub_request_t sub = {"echo/#", 1, count_a, NULL};
    kmqtt_mem_stats_t own0, own1, par0, par1;
    uint64_t end;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.publish_block_ms = 5000;
    e.o.on_publish_done = NULL;
    sub.ctx = &received;
    env_connect(&e);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    kmqtt_mem_get_stats(kmqtt_client_mem(e.c), &own0);
    kmqtt_mem_get_stats(&e.parent, &par0);
    for (i = 0; i < 10000; i++) {
        assert_int_equal(
            kmqtt_publish(e.c, "echo/x", "payload", 7, (uint8_t)(i % 2), false, NULL, NULL),
            KMQTT_OK);
        assert_int_equal(kmqtt_run(e.c, 0), KMQTT_OK);
    }
    assert_int_equal(kmqtt_publish_wait_all(e.c, 5000), KMQTT_OK);
    end = kmqtt_port_now_ms() + 5000;
    while (received < 10000 && kmqtt_port_now_ms() < end)
        assert_int_equal(kmqtt_run(e.c, 10), KMQTT_OK);
    assert_int_equal(received, 10000);
    kmqtt_mem_get_stats(kmqtt_client_mem(e.c), &own1);
    kmqtt_mem_get_stats(&e.parent, &par1);
    assert_int_equal(own1.allocs, own0.allocs);
    assert_int_equal(own1.frees, own0.frees);
    assert_int_equal(par1.allocs, par0.allocs);
    assert_int_equal(par1.frees, par0.frees);
    env_done(&e);
}

/* ========================================================== reconnect */

static void fake_drop(fake_t *f)
{
    pthread_mutex_lock(&f->mx);
    f->close_after = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mx);
}

static int count_state(record_t *r, kmqtt_conn_state_t st)
{
    int i, n = 0;
    pthread_mutex_lock(&r->mx);
    for (i = 0; i < r->nstates; i++)
        n += r->states[i] == st;
    pthread_mutex_unlock(&r->mx);
    return n;
}

/* Waits (2 s at most) until st was reported n times. */
static void wait_state(record_t *r, kmqtt_conn_state_t st, int n)
{
    uint64_t end = kmqtt_port_now_ms() + 2000;
    while (count_state(r, st) < n && kmqtt_port_now_ms() < end)
        kmqtt_port_sleep_ms(1);
    assert_int_equal(count_state(r, st), n);
}

static void expect_states(record_t *r, const kmqtt_conn_state_t *want, const kmqtt_err_t *errs,
                          int n)
{
    int i;
    pthread_mutex_lock(&r->mx);
    assert_int_equal(r->nstates, n);
    for (i = 0; i < n; i++) {
        assert_int_equal(r->states[i], want[i]);
        assert_int_equal(r->state_errs[i], errs[i]);
    }
    pthread_mutex_unlock(&r->mx);
}

/* A client with its background thread, connected, reconnecting fast. */
static void env_bg(env_t *e, kmqtt_version_t v, uint32_t min_ms, uint32_t max_ms)
{
    env_init(e, v);
    e->o.reconnect_min_ms = min_ms;
    e->o.reconnect_max_ms = max_ms;
    env_create(e);
    assert_int_equal(kmqtt_start(e->c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e->c, 2000, NULL), KMQTT_OK);
}

static void test_lost_connection_reconnects_on_the_background_thread(void **state)
{
    kmqtt_publish_result_t pr;
    env_t e;
    uint16_t id = 0;
    const kmqtt_conn_state_t want[] = {KMQTT_STATE_CONNECTING,      KMQTT_STATE_CONNECTED,
                                       KMQTT_STATE_CONNECTION_LOST, KMQTT_STATE_RECONNECTING,
                                       KMQTT_STATE_CONNECTING,      KMQTT_STATE_CONNECTED};
    const kmqtt_err_t errs[] = {KMQTT_OK,      KMQTT_OK, KMQTT_ECLOSED,
                                KMQTT_ECLOSED, KMQTT_OK, KMQTT_OK};
    (void)state;
    env_bg(&e, KMQTT_V311, 20, 100);
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTED, 2);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 2);
    assert_int_equal(fake_get(e.fake, &e.fake->connects), 2);
    expect_states(&e.rec, want, errs, 6);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_CONNECTED);
    assert_int_equal(kmqtt_publish(e.c, "after", "x", 1, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    assert_int_equal(kmqtt_publish_wait(e.c, id, 2000, NULL), KMQTT_OK);
    env_done(&e);
}

static void fake_server_disconnect(fake_t *f)
{
    kmqtt_packet_t p;
    pthread_mutex_lock(&f->mx);
    memset(&p, 0, sizeof p);
    p.type = KMQTT_DISCONNECT;
    p.u.disconnect.reason_code = 0x8B; /* server shutting down */
    fake_queue(f, &p);
    f->close_after = true;
    pthread_mutex_unlock(&f->mx);
}

static void test_server_disconnect_in_v5_is_a_loss_and_reconnects(void **state)
{
    env_t e;
    (void)state;
    env_bg(&e, KMQTT_V5, 20, 100);
    fake_server_disconnect(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTED, 2);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_CONNECTION_LOST), 1);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_DISCONNECTED), 0);
    env_done(&e);
}

static void test_default_mode_leaves_reconnecting_to_kmqtt_run_users(void **state)
{
    env_t e;
    kmqtt_err_t err = KMQTT_OK;
    int i;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.reconnect_min_ms = 10;
    env_connect(&e);
    fake_drop(e.fake);
    for (i = 0; i < 100 && err == KMQTT_OK; i++)
        err = kmqtt_run(e.c, 20);
    assert_int_equal(err, KMQTT_ECLOSED);
    kmqtt_port_sleep_ms(50);
    assert_int_equal(kmqtt_run(e.c, 50), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_CONNECTION_LOST);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_RECONNECTING), 0);
    assert_int_equal(e.fake->opens, 1);
    env_done(&e);
}

static void test_reconnect_on_makes_kmqtt_run_reconnect(void **state)
{
    env_t e;
    kmqtt_err_t err;
    int i, lost = 0;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.reconnect = KMQTT_RECONNECT_ON;
    e.o.reconnect_min_ms = 20;
    env_connect(&e);
    fake_drop(e.fake);
    for (i = 0; i < 200 && count_state(&e.rec, KMQTT_STATE_CONNECTED) < 2; i++) {
        err = kmqtt_run(e.c, 10);
        if (err == KMQTT_ECLOSED)
            lost++;
        else
            assert_int_equal(err, KMQTT_OK); /* also while reconnecting */
    }
    assert_int_equal(lost, 1);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_CONNECTED);
    assert_int_equal(e.fake->opens, 2);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_RECONNECTING), 1);
    env_done(&e);
}

static void test_reconnect_off_never_reconnects_even_with_the_thread(void **state)
{
    env_t e;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.reconnect = KMQTT_RECONNECT_OFF;
    e.o.reconnect_min_ms = 10;
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTION_LOST, 1);
    kmqtt_port_sleep_ms(100);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 1);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_CONNECTION_LOST);
    assert_int_equal(kmqtt_publish(e.c, "t", "x", 1, 0, false, NULL, NULL), KMQTT_ENOTCONN);
    /* The application may connect again itself. */
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    env_done(&e);
}

static void test_backoff_doubles_to_max_and_resets_only_after_a_connection_held(void **state)
{
    env_t e;
    const uint32_t d[] = {80, 160, 160, 160}; /* d after failures 1..4 (min 40) */
    uint64_t gap, t_drop;
    int k;
    (void)state;
    env_bg(&e, KMQTT_V311, 40, 160);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->fail_opens = 5;
    e.fake->fail_err = KMQTT_ECONNREFUSED;
    pthread_mutex_unlock(&e.fake->mx);
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTED, 2);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 7); /* 1 + 5 refused + 1 */
    /* Each wait is random in [d/2, d]; the upper bound allows for a slow
     * scheduler (sanitizers). */
    for (k = 0; k < 4; k++) {
        gap = e.fake->open_ms[k + 2] - e.fake->open_ms[k + 1];
        assert_true(gap >= d[k] / 2);
        assert_true(gap <= d[k] + 80);
    }
    /* One RECONNECTING after the loss, one after each refused attempt. */
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_RECONNECTING), 6);
    pthread_mutex_lock(&e.rec.mx);
    assert_int_equal(e.rec.state_errs[e.rec.nstates - 3], KMQTT_ECONNREFUSED);
    pthread_mutex_unlock(&e.rec.mx);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_DISCONNECTED), 0);

    /* Dropped right after its CONNACK: the backoff keeps growing (d is at
     * the maximum), so a broker that accepts and drops is not hammered. */
    t_drop = kmqtt_port_now_ms();
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTED, 3);
    gap = e.fake->open_ms[7] - t_drop;
    assert_true(gap >= 80);
    assert_true(gap <= 160 + 80);

    /* A connection that held for reconnect_max_ms brings d back to the minimum. */
    kmqtt_port_sleep_ms(200);
    t_drop = kmqtt_port_now_ms();
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTED, 4);
    gap = e.fake->open_ms[8] - t_drop;
    assert_true(gap >= 20);
    assert_true(gap <= 40 + 80);
    env_done(&e);
}

static void test_connack_refusal_while_reconnecting_is_a_failed_attempt(void **state)
{
    env_t e;
    int i, refused = 0;
    (void)state;
    env_bg(&e, KMQTT_V311, 20, 40);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->refuse_connacks = 2;
    e.fake->refuse_rc = 3; /* server unavailable */
    pthread_mutex_unlock(&e.fake->mx);
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTED, 2);
    assert_int_equal(fake_get(e.fake, &e.fake->connects), 4);
    pthread_mutex_lock(&e.rec.mx);
    for (i = 0; i < e.rec.nstates; i++)
        refused +=
            e.rec.states[i] == KMQTT_STATE_RECONNECTING && e.rec.state_errs[i] == KMQTT_EREFUSED;
    pthread_mutex_unlock(&e.rec.mx);
    assert_int_equal(refused, 2);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_DISCONNECTED), 0);
    env_done(&e);
}

static void test_servers_are_tried_in_turn_after_each_failure(void **state)
{
    env_t e;
    char list[64] = " alpha:1001, beta:1002 ,[::1]:1003";
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.servers = list;
    e.o.host = "ignored";
    e.o.reconnect_min_ms = 10;
    e.o.reconnect_max_ms = 20;
    e.fake->refuse_port = 1001;
    env_create(&e);
    memset(list, 'x', sizeof list - 1); /* copied at create */
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    /* An application's connect is not retried, but the next one moves on. */
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_ECONNREFUSED);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    assert_string_equal(e.fake->open_host[0], "alpha");
    assert_int_equal(e.fake->open_port[0], 1001);
    assert_string_equal(e.fake->open_host[1], "beta");
    assert_int_equal(e.fake->open_port[1], 1002);

    /* Lost: the same broker first, then the next, round robin. */
    pthread_mutex_lock(&e.fake->mx);
    e.fake->refuse_port = 1002;
    pthread_mutex_unlock(&e.fake->mx);
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTED, 2);
    assert_string_equal(e.fake->open_host[2], "beta");
    assert_string_equal(e.fake->open_host[3], "::1");
    assert_int_equal(e.fake->open_port[3], 1003);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->refuse_port = 1003;
    pthread_mutex_unlock(&e.fake->mx);
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTED, 3);
    assert_string_equal(e.fake->open_host[4], "::1");
    assert_string_equal(e.fake->open_host[5], "alpha");
    assert_int_equal(e.fake->open_port[5], 1001);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 6);
    env_done(&e);
}

static void test_malformed_server_lists_are_refused_at_create(void **state)
{
    static const char *const bad[] = {
        "",          ",",         "h:1,",    ",h:1",      "h",        ":1883",
        "h:",        "h:0",       "h:65536", "h:123456",  "h:18a",    "h:-1",
        "[::1:1883", "::1]:1883", "[::1]",   "[::1]1883", "::1:1883", "[]:1",
        "[[::1]]:1", "h:1,,h:2",  "  :1",    "h:1 2",
    };
    static const char *const good[] = {"h:1", "h:65535", " h:1 , [::1]:1883,g:2",
                                       "[fe80::1%eth0]:1883", "broker.example:8883"};
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_mem_t parent;
    kmqtt_mem_config_t mc;
    kmqtt_mem_stats_t st;
    size_t i;
    (void)state;
    memset(&mc, 0, sizeof mc);
    assert_int_equal(kmqtt_mem_init(&parent, &mc), KMQTT_OK);
    kmqtt_client_options_init(&o);
    o.mem = &parent;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.servers = bad[i];
        c = (kmqtt_client_t *)&o;
        if (kmqtt_client_create(&o, &c) != KMQTT_EINVAL)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_null(c);
    }
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        o.servers = good[i];
        if (kmqtt_client_create(&o, &c) != KMQTT_OK)
            fail_msg("\"%s\" was refused", good[i]);
        kmqtt_client_destroy(c);
    }
    o.servers = NULL;
    o.reconnect = (kmqtt_reconnect_mode_t)7;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_EINVAL);
    kmqtt_mem_get_stats(&parent, &st);
    assert_int_equal(st.blocks, 0);
}

/* Loses the connection of a background-thread client whose backoff is
 * long, and waits until it sits in the backoff. */
static void lose_into_a_long_backoff(env_t *e)
{
    env_bg(e, KMQTT_V311, 10000, 10000);
    fake_drop(e->fake);
    wait_state(&e->rec, KMQTT_STATE_RECONNECTING, 1);
}

static void test_disconnect_during_backoff_returns_at_once_and_nothing_reconnects(void **state)
{
    env_t e;
    uint64_t t0;
    (void)state;
    lose_into_a_long_backoff(&e);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_RECONNECTING);
    t0 = kmqtt_port_now_ms();
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    assert_true(kmqtt_port_now_ms() - t0 < 1000);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    pthread_mutex_lock(&e.rec.mx);
    assert_int_equal(e.rec.states[e.rec.nstates - 1], KMQTT_STATE_DISCONNECTED);
    assert_int_equal(e.rec.state_errs[e.rec.nstates - 1], KMQTT_OK);
    pthread_mutex_unlock(&e.rec.mx);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_DISCONNECTED), 1);
    kmqtt_port_sleep_ms(100);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 1);
    assert_int_equal(kmqtt_run(e.c, 10), KMQTT_ENOTCONN);
    env_done(&e);
}

static void test_destroy_during_backoff_returns_at_once(void **state)
{
    env_t e;
    uint64_t t0;
    (void)state;
    lose_into_a_long_backoff(&e);
    t0 = kmqtt_port_now_ms();
    env_done(&e);
    assert_true(kmqtt_port_now_ms() - t0 < 1000);
}

static void test_disconnect_during_a_reconnect_blocked_in_open_returns_at_once(void **state)
{
    env_t e;
    uint64_t t0, end;
    (void)state;
    env_bg(&e, KMQTT_V311, 10, 10);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->block_open = true;
    e.fake->close_after = true;
    pthread_cond_broadcast(&e.fake->cv);
    end = kmqtt_port_now_ms() + 2000;
    while (!e.fake->in_open && kmqtt_port_now_ms() < end) {
        pthread_mutex_unlock(&e.fake->mx);
        kmqtt_port_sleep_ms(1);
        pthread_mutex_lock(&e.fake->mx);
    }
    assert_true(e.fake->in_open);
    pthread_mutex_unlock(&e.fake->mx);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_CONNECTING);
    t0 = kmqtt_port_now_ms();
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    assert_true(kmqtt_port_now_ms() - t0 < 1000);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_DISCONNECTED), 1);
    kmqtt_port_sleep_ms(100);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 2);
    assert_false(e.fake->is_open);
    env_done(&e);
}

static void test_destroy_while_a_reconnect_waits_for_connack_returns_at_once(void **state)
{
    env_t e;
    uint64_t t0, end;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.reconnect_min_ms = 10;
    e.o.connect_timeout_ms = 10000;
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->no_connack = true;
    pthread_mutex_unlock(&e.fake->mx);
    fake_drop(e.fake);
    end = kmqtt_port_now_ms() + 2000;
    while (fake_get(e.fake, &e.fake->connects) < 2 && kmqtt_port_now_ms() < end)
        kmqtt_port_sleep_ms(1);
    assert_int_equal(fake_get(e.fake, &e.fake->connects), 2);
    t0 = kmqtt_port_now_ms();
    env_done(&e);
    assert_true(kmqtt_port_now_ms() - t0 < 1000);
}

static void *run_until_enotconn(void *arg)
{
    runner_t *r = arg;
    do
        r->err = kmqtt_run(r->c, 10000);
    while (r->err != KMQTT_ENOTCONN);
    r->returned_ms = kmqtt_port_now_ms();
    return NULL;
}

static void test_disconnect_ends_a_kmqtt_run_sleeping_out_the_backoff(void **state)
{
    env_t e;
    runner_t r = {0};
    pthread_t t;
    uint64_t t0;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.reconnect = KMQTT_RECONNECT_ON;
    e.o.reconnect_min_ms = 10000;
    e.o.reconnect_max_ms = 10000;
    env_connect(&e);
    r.c = e.c;
    assert_int_equal(pthread_create(&t, NULL, run_until_enotconn, &r), 0);
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_RECONNECTING, 1);
    kmqtt_port_sleep_ms(20);
    t0 = kmqtt_port_now_ms();
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    pthread_join(t, NULL);
    assert_true(r.returned_ms - t0 < 1000);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(e.fake->opens, 1);
    env_done(&e);
}

static void test_no_reconnect_after_a_failed_first_connect(void **state)
{
    env_t e;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.reconnect = KMQTT_RECONNECT_ON;
    e.o.reconnect_min_ms = 10;
    e.fake->open_result = KMQTT_ECONNREFUSED;
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 500, NULL), KMQTT_ECONNREFUSED);
    kmqtt_port_sleep_ms(100);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 1);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_RECONNECTING), 0);
    env_done(&e);
}

static void test_no_reconnect_after_kmqtt_disconnect(void **state)
{
    env_t e;
    (void)state;
    env_bg(&e, KMQTT_V311, 10, 10);
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK); /* a thread that could */
    kmqtt_port_sleep_ms(100);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 1);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_RECONNECTING), 0);
    env_done(&e);
}

static void disconnect_when_lost(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err,
                                 void *ctx)
{
    on_state(c, st, err, ctx);
    if (st == KMQTT_STATE_CONNECTION_LOST)
        (void)kmqtt_disconnect(c, NULL);
}

static void test_disconnect_from_the_lost_callback_stops_the_reconnect(void **state)
{
    env_t e;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.reconnect_min_ms = 10;
    e.o.on_state = disconnect_when_lost;
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_DISCONNECTED, 1);
    kmqtt_port_sleep_ms(100);
    assert_int_equal(fake_get(e.fake, &e.fake->opens), 1);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_RECONNECTING), 0);
    assert_int_equal(kmqtt_client_state(e.c), KMQTT_STATE_DISCONNECTED);
    env_done(&e);
}

static void test_while_reconnecting_publish_is_enotconn_and_connect_estate(void **state)
{
    env_t e;
    kmqtt_sub_request_t sub = {"s", 0, NULL, NULL};
    (void)state;
    lose_into_a_long_backoff(&e);
    assert_int_equal(kmqtt_publish(e.c, "t", "x", 1, 1, false, NULL, NULL), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 100, NULL, NULL), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_connect(e.c, 100, NULL), KMQTT_ESTATE);
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    /* Stopped: the application's connect is its own again. */
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    env_done(&e);
}

static void test_subscriptions_are_made_again_when_the_broker_kept_no_session(void **state)
{
    env_t e;
    kmqtt_sub_request_t subs[20];
    char names[20][8];
    int i, subscribes;
    uint64_t end;
    (void)state;
    env_init(&e, KMQTT_V5);
    e.o.reconnect_min_ms = 10;
    env_create(&e);
    for (i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "r/%d", i);
        subs[i].filter = names[i];
        subs[i].qos = (uint8_t)(i % 3);
        subs[i].handler = handler_a;
        subs[i].ctx = &e.rec;
    }
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(e.c, subs, 16, 2000, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(e.c, subs + 16, 4, 2000, NULL, NULL), KMQTT_OK);
    assert_int_equal(e.fake->subscribes, 2);
    subscribes = 2;
    fake_drop(e.fake);
    wait_state(&e.rec, KMQTT_STATE_CONNECTED, 2);
    end = kmqtt_port_now_ms() + 2000;
    while (fake_get(e.fake, &e.fake->nfilters) < 20 && kmqtt_port_now_ms() < end)
        kmqtt_port_sleep_ms(1);
    pthread_mutex_lock(&e.fake->mx);
    assert_int_equal(e.fake->nfilters, 20);
    /* 20 filters go in packets of at most 16, with the qos requested. */
    assert_int_equal(e.fake->subscribes, subscribes + 2);
    for (i = 0; i < 20; i++) {
        int n = atoi(e.fake->filters[i] + 2);
        assert_int_equal(e.fake->filter_qos[i], n % 3);
    }
    pthread_mutex_unlock(&e.fake->mx);
    /* The handler still gets its messages. */
    fake_inject(e.fake, "r/7", "again", 1);
    wait_for(&e.rec, &e.rec.handler_a, 1);
    assert_int_equal(rec_get(&e.rec, &e.rec.messages), 0);
    env_done(&e);
}

typedef struct waiter {
    kmqtt_client_t *c;
    uint16_t id;
    kmqtt_err_t err;
} waiter_t;

static void *wait_publish(void *arg)
{
    waiter_t *w = arg;
    w->err = kmqtt_publish_wait(w->c, w->id, 3000, NULL);
    return NULL;
}

static void test_session_present_resends_unacked_with_dup_and_keeps_subscriptions(void **state)
{
    kmqtt_publish_result_t pr;
    env_t e;
    kmqtt_sub_request_t sub = {"keep/#", 1, handler_a, NULL};
    uint16_t id1 = 0, id2 = 0;
    waiter_t w;
    pthread_t t;
    uint64_t end;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.clean_session = false;
    e.o.reconnect_min_ms = 100;
    e.o.reconnect_max_ms = 100;
    sub.ctx = &e.rec;
    e.fake->no_acks = true;
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(e.c, "q/1", "one", 3, 1, false, NULL, &pr), KMQTT_OK);
    id1 = pr.packet_id;
    assert_int_equal(kmqtt_publish(e.c, "q/2", "two", 3, 2, false, NULL, &pr), KMQTT_OK);
    id2 = pr.packet_id;
    end = kmqtt_port_now_ms() + 2000;
    while (fake_get(e.fake, &e.fake->publishes) < 2 && kmqtt_port_now_ms() < end)
        kmqtt_port_sleep_ms(1);
    /* A wait that began before the loss goes on through the reconnect. */
    w.c = e.c;
    w.id = id1;
    w.err = KMQTT_EIO;
    assert_int_equal(pthread_create(&t, NULL, wait_publish, &w), 0);
    kmqtt_port_sleep_ms(30);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->no_acks = false;
    e.fake->session_present = true;
    e.fake->close_after = true;
    pthread_cond_broadcast(&e.fake->cv);
    pthread_mutex_unlock(&e.fake->mx);
    pthread_join(t, NULL);
    assert_int_equal(w.err, KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait(e.c, id2, 2000, NULL), KMQTT_OK);
    pthread_mutex_lock(&e.fake->mx);
    assert_int_equal(e.fake->publishes, 4);
    /* MQTT-4.4.0-1: the same packets again, in order, with DUP set. */
    assert_false(e.fake->pub_dup[0]);
    assert_false(e.fake->pub_dup[1]);
    assert_true(e.fake->pub_dup[2]);
    assert_true(e.fake->pub_dup[3]);
    assert_int_equal(e.fake->pub_id[2], id1);
    assert_int_equal(e.fake->pub_id[3], id2);
    /* The broker kept the subscription: nothing subscribed again. */
    assert_int_equal(e.fake->subscribes, 1);
    pthread_mutex_unlock(&e.fake->mx);
    assert_int_equal(count_state(&e.rec, KMQTT_STATE_CONNECTED), 2);
    env_done(&e);
}

static void test_clean_session_reconnect_resends_unacked_as_new_and_resubscribes(void **state)
{
    kmqtt_publish_result_t pr;
    env_t e;
    kmqtt_sub_request_t sub = {"clean/#", 2, handler_a, NULL};
    uint16_t id = 0;
    uint64_t end;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.reconnect_min_ms = 10;
    sub.ctx = &e.rec;
    e.fake->no_acks = true;
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(e.c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(e.c, "owed", "x", 1, 1, false, NULL, &pr), KMQTT_OK);
    id = pr.packet_id;
    end = kmqtt_port_now_ms() + 2000;
    while (fake_get(e.fake, &e.fake->publishes) < 1 && kmqtt_port_now_ms() < end)
        kmqtt_port_sleep_ms(1);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->no_acks = false;
    e.fake->close_after = true;
    pthread_cond_broadcast(&e.fake->cv);
    pthread_mutex_unlock(&e.fake->mx);
    /* Completed (on_done asserts KMQTT_OK: not dropped as ECANCELED). */
    assert_int_equal(kmqtt_publish_wait(e.c, id, 2000, NULL), KMQTT_OK);
    end = kmqtt_port_now_ms() + 2000;
    while (fake_get(e.fake, &e.fake->nfilters) < 1 && kmqtt_port_now_ms() < end)
        kmqtt_port_sleep_ms(1);
    pthread_mutex_lock(&e.fake->mx);
    assert_int_equal(e.fake->publishes, 2);
    assert_false(e.fake->pub_dup[1]); /* a new delivery: the broker kept nothing */
    assert_int_equal(e.fake->subscribes, 2);
    assert_int_equal(e.fake->filter_qos[0], 2);
    pthread_mutex_unlock(&e.fake->mx);
    /* The callback runs on the loop thread after waiters are woken. */
    wait_for(&e.rec, &e.rec.done, 1);
    fake_inject(e.fake, "clean/1", "m", 2);
    wait_for(&e.rec, &e.rec.handler_a, 1);
    env_done(&e);
}

/* ========================================================= publish_batch */

static void test_publish_batch_sends_nothing_until_a_turn(void **state)
{
    env_t e;
    int i, sends;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.publish_batch = true;
    env_connect(&e);
    for (i = 0; i < 5; i++)
        assert_int_equal(kmqtt_publish(e.c, "b/x", "v", 1, 0, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 0);
    sends = fake_get(e.fake, &e.fake->sends);
    assert_int_equal(kmqtt_run(e.c, 0), KMQTT_OK);
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 5);
    assert_int_equal(fake_get(e.fake, &e.fake->sends) - sends, 1); /* all five in one send */
    assert_string_equal(e.fake->last_topic, "b/x");
    env_done(&e);
}

/* Acks id and lets the client (own loop) read it. */
static void ack_and_run(env_t *e, uint16_t id)
{
    pthread_mutex_lock(&e->fake->mx);
    fake_ack(e->fake, KMQTT_PUBACK, id);
    pthread_mutex_unlock(&e->fake->mx);
    assert_int_equal(kmqtt_run(e->c, 50), KMQTT_OK);
}

static void test_publish_batch_refills_a_full_window_only_after_half_drained(void **state)
{
    env_t e;
    kmqtt_publish_result_t ids[4];
    int i;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.publish_batch = true;
    e.o.max_inflight = 4;
    e.fake->no_acks = true;
    env_connect(&e);
    for (i = 0; i < 4; i++)
        assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, &ids[i]), KMQTT_OK);
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, NULL), KMQTT_ELIMIT);
    assert_int_equal(kmqtt_run(e.c, 0), KMQTT_OK); /* the four go out */
    /* One ack frees a slot, but the window refills only at half (2). */
    ack_and_run(&e, ids[0].packet_id);
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, NULL), KMQTT_ELIMIT);
    /* QoS 0 is never held back by the window. */
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 0, false, NULL, NULL), KMQTT_OK);
    ack_and_run(&e, ids[1].packet_id);
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, NULL), KMQTT_ELIMIT);
    env_done(&e);
}

static void test_without_batch_a_freed_slot_is_used_at_once(void **state)
{
    env_t e;
    kmqtt_publish_result_t ids[4];
    int i;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.max_inflight = 4;
    e.fake->no_acks = true;
    env_connect(&e);
    for (i = 0; i < 4; i++)
        assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, &ids[i]), KMQTT_OK);
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, NULL), KMQTT_ELIMIT);
    ack_and_run(&e, ids[0].packet_id);
    assert_int_equal(kmqtt_publish(e.c, "w", "x", 1, 1, false, NULL, NULL), KMQTT_OK);
    env_done(&e);
}

static void test_publish_batch_sends_when_the_buffer_fills(void **state)
{
    env_t e;
    char payload[20];
    int i, sent;
    (void)state;
    memset(payload, 'p', sizeof payload);
    env_init(&e, KMQTT_V311);
    e.o.publish_batch = true;
    e.o.tx_buffer_size = 256; /* 9 packets of 27 bytes fit */
    env_connect(&e);
    for (i = 0; i < 20; i++)
        assert_int_equal(kmqtt_publish(e.c, "b/x", payload, sizeof payload, 0, false, NULL, NULL),
                         KMQTT_OK);
    sent = fake_get(e.fake, &e.fake->publishes);
    assert_true(sent >= 9 && sent < 20);
    /* wait_all flushes the rest before it looks (nothing is in flight). */
    assert_int_equal(kmqtt_publish_wait_all(e.c, 1000), KMQTT_OK);
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 20);
    env_done(&e);
}

/* Store and forward and the publish result: a message that cannot go now
 * is queued and the result says so (queue_seq, no packet id yet). The
 * queue keeps topic and payload only, so a publish with 5.0 properties is
 * refused instead (KMQTT_ENOTCONN while the queue is empty, KMQTT_ELIMIT
 * behind queued messages); a zeroed props struct asks for nothing and is
 * queued like NULL. */
static void test_publish_result_reports_the_queue_and_props_are_never_queued(void **state)
{
    env_t e;
    kmqtt_publish_props_t pp;
    kmqtt_publish_result_t r;
    (void)state;
    env_init(&e, KMQTT_V5);
    e.o.offline_queue_max_msgs = 4;
    e.o.offline_queue_max_bytes = 1024;
    env_create(&e);
    memset(&pp, 0, sizeof pp);
    pp.content_type = "text/plain";
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(kmqtt_publish(e.c, "q/a", "p", 1, 1, false, &pp, &r), KMQTT_ENOTCONN);
    assert_int_equal(r.packet_id, 0);
    assert_int_equal(r.queue_seq, 0);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(kmqtt_publish(e.c, "q/a", "x", 1, 1, false, NULL, &r), KMQTT_OK);
    assert_int_equal(r.packet_id, 0);
    assert_int_equal(r.queue_seq, 1);
    memset(&pp, 0, sizeof pp);
    assert_int_equal(kmqtt_publish(e.c, "q/a", "y", 1, 1, false, &pp, &r), KMQTT_OK);
    assert_int_equal(r.queue_seq, 2);
    pp.message_expiry_s = 60;
    assert_int_equal(kmqtt_publish(e.c, "q/a", "z", 1, 1, false, &pp, &r), KMQTT_ELIMIT);
    assert_int_equal(r.queue_seq, 0);
    assert_int_equal(kmqtt_queue_count(e.c), 2);
    env_done(&e);
}

/* The session's send queue (kc_flush) keeps the send contract of port.h
 * (DESIGN.md rule 6): a transport that refuses, or takes a few bytes, at
 * random gets back at the start of every offer exactly what it did not take
 * (the queue grew and was compacted meanwhile: longer offers, another
 * address), and the broker sees every message once, in order. */
static void test_flush_keeps_the_send_contract(void **state)
{
    static uint8_t held[4096];
    sc_gate_t gate;
    env_t e;
    char payload[40];
    int i;
    (void)state;
    env_init(&e, KMQTT_V311);
    e.o.tx_buffer_size = 1024;
    env_connect(&e);
    sc_gate_init(&gate, held, sizeof held);
    sc_gate_random(&gate, 12345, 400, 37);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->gate = &gate;
    pthread_mutex_unlock(&e.fake->mx);
    for (i = 0; i < 1000; i++) {
        kmqtt_err_t err;
        memset(payload, 'x', sizeof payload);
        payload[snprintf(payload, 16, "%d", i)] = ' ';
        while ((err = kmqtt_publish(e.c, "seq", payload, sizeof payload, i % 3 == 2 ? 1 : 0, false,
                                    NULL, NULL)) != KMQTT_OK) {
            assert_true(err == KMQTT_ELIMIT || err == KMQTT_ENOBUFS || err == KMQTT_ETIMEDOUT);
            assert_int_equal(kmqtt_run(e.c, 1), KMQTT_OK);
        }
    }
    assert_int_equal(kmqtt_publish_wait_all(e.c, 10000), KMQTT_OK);
    pthread_mutex_lock(&e.fake->mx);
    if (!sc_gate_ok(&gate))
        fail_msg("the client broke the send contract: %s (%d times)", gate.first, gate.violations);
    assert_true(gate.refusals > 0);
    assert_int_equal(e.fake->seq_next, 1000);
    assert_int_equal(e.fake->seq_bad, 0);
    pthread_mutex_unlock(&e.fake->mx);
    env_done(&e);
}

static void test_publish_batch_wait_sends_the_queue(void **state)
{
    env_t e;
    kmqtt_publish_result_t ids[3];
    uint8_t rc = 0xFF;
    int i;
    (void)state;
    env_init(&e, KMQTT_V5);
    e.o.publish_batch = true;
    env_connect(&e);
    for (i = 0; i < 3; i++)
        assert_int_equal(kmqtt_publish(e.c, "b/q", "v", 1, 1, false, NULL, &ids[i]), KMQTT_OK);
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 0);
    assert_int_equal(kmqtt_publish_wait(e.c, ids[0].packet_id, 1000, &rc), KMQTT_OK);
    assert_int_equal(rc, 0);
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 3);
    assert_int_equal(kmqtt_publish_wait_all(e.c, 1000), KMQTT_OK);
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 3);
    env_done(&e);
}

static void test_publish_batch_disconnect_sends_the_queue_then_disconnect(void **state)
{
    env_t e;
    char payload[57];
    int i;
    (void)state;
    memset(payload, 'p', sizeof payload);
    env_init(&e, KMQTT_V311);
    e.o.publish_batch = true;
    e.o.tx_buffer_size = 256; /* exactly four packets of 64 bytes: no room for DISCONNECT */
    env_connect(&e);
    for (i = 0; i < 4; i++)
        assert_int_equal(kmqtt_publish(e.c, "b/x", payload, sizeof payload, 0, false, NULL, NULL),
                         KMQTT_OK);
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 0);
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    assert_int_equal(e.fake->publishes, 4);
    assert_int_equal(e.fake->disconnects, 1);
    assert_int_equal(e.fake->pubs_after_disconnect, 0);
    assert_false(e.fake->is_open);
    env_done(&e);
}

/* The background thread is held inside wait(); n publishes must wake it
 * once (the doorbell), whether batched or not, and send nothing meanwhile. */
static void doorbell(bool batch)
{
    env_t e;
    int i, wakes, sends;
    uint64_t end;
    env_init(&e, KMQTT_V311);
    e.o.publish_batch = batch;
    env_create(&e);
    assert_int_equal(kmqtt_start(e.c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(e.c, 2000, NULL), KMQTT_OK);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->hold_wait = true;
    while (!e.fake->in_wait)
        pthread_cond_wait(&e.fake->cv, &e.fake->mx);
    wakes = e.fake->wakes;
    sends = e.fake->sends;
    pthread_mutex_unlock(&e.fake->mx);
    for (i = 0; i < 100; i++)
        assert_int_equal(kmqtt_publish(e.c, "d/x", "v", 1, 0, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(fake_get(e.fake, &e.fake->wakes) - wakes, 1);
    assert_int_equal(fake_get(e.fake, &e.fake->sends), sends);
    pthread_mutex_lock(&e.fake->mx);
    e.fake->hold_wait = false;
    pthread_cond_broadcast(&e.fake->cv);
    pthread_mutex_unlock(&e.fake->mx);
    end = kmqtt_port_now_ms() + 2000;
    while (fake_get(e.fake, &e.fake->publishes) < 100 && kmqtt_port_now_ms() < end)
        kmqtt_port_sleep_ms(1);
    assert_int_equal(fake_get(e.fake, &e.fake->publishes), 100);
    assert_int_equal(kmqtt_disconnect(e.c, NULL), KMQTT_OK);
    env_done(&e);
}

static void test_background_thread_is_woken_once_for_many_publishes(void **state)
{
    (void)state;
    doorbell(false);
    doorbell(true);
}

static void test_publish_without_connection_still_refuses_a_bad_topic(void **state)
{
    env_t e;
    (void)state;
    env_init(&e, KMQTT_V311);
    env_create(&e);
    assert_int_equal(kmqtt_publish(e.c, "a/#", "x", 1, 0, false, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(e.c, "a", "x", 1, 0, false, NULL, NULL), KMQTT_ENOTCONN);
    env_done(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_then_disconnect_walks_the_states),
        cmocka_unit_test(test_empty_client_id_becomes_kmqtt_and_12_hex_digits),
        cmocka_unit_test(test_connack_refusal_returns_erefused_with_the_code),
        cmocka_unit_test(test_refused_pipelined_message_goes_on_the_next_connect),
        cmocka_unit_test(test_connect_without_connack_times_out_and_closes),
        cmocka_unit_test(test_connect_reports_the_transport_error),
        cmocka_unit_test(test_create_rejects_bad_options),
        cmocka_unit_test(test_publish_qos_0_1_2_complete_with_callback_and_wait),
        cmocka_unit_test(test_publish_refuses_bad_topic_and_qos),
        cmocka_unit_test(test_full_window_returns_elimit_at_once),
        cmocka_unit_test(test_subscribe_reports_granted_codes_and_routes_to_handlers),
        cmocka_unit_test(test_one_handler_on_two_matching_filters_runs_once),
        cmocka_unit_test(test_unsubscribe_removes_the_handler),
        cmocka_unit_test(test_subscriptions_are_bounded),
        cmocka_unit_test(test_a_handler_may_publish),
        cmocka_unit_test(test_a_handler_may_subscribe_and_wait_for_suback),
        cmocka_unit_test(test_a_handler_may_disconnect),
        cmocka_unit_test(test_disconnect_from_another_thread_ends_a_blocked_run),
        cmocka_unit_test(test_background_thread_runs_the_loop_for_blocking_calls),
        cmocka_unit_test(test_a_handler_on_the_background_thread_may_subscribe_and_disconnect),
        cmocka_unit_test(test_broker_closing_is_connection_lost),
        cmocka_unit_test(test_destroy_returns_every_byte_to_the_parent),
        cmocka_unit_test(test_create_without_parent_uses_its_own_context),
        cmocka_unit_test(test_every_allocation_failure_in_create_leaves_nothing),
        cmocka_unit_test(test_ten_thousand_messages_allocate_nothing),
        cmocka_unit_test(test_lost_connection_reconnects_on_the_background_thread),
        cmocka_unit_test(test_server_disconnect_in_v5_is_a_loss_and_reconnects),
        cmocka_unit_test(test_default_mode_leaves_reconnecting_to_kmqtt_run_users),
        cmocka_unit_test(test_reconnect_on_makes_kmqtt_run_reconnect),
        cmocka_unit_test(test_reconnect_off_never_reconnects_even_with_the_thread),
        cmocka_unit_test(test_backoff_doubles_to_max_and_resets_only_after_a_connection_held),
        cmocka_unit_test(test_connack_refusal_while_reconnecting_is_a_failed_attempt),
        cmocka_unit_test(test_servers_are_tried_in_turn_after_each_failure),
        cmocka_unit_test(test_malformed_server_lists_are_refused_at_create),
        cmocka_unit_test(test_disconnect_during_backoff_returns_at_once_and_nothing_reconnects),
        cmocka_unit_test(test_destroy_during_backoff_returns_at_once),
        cmocka_unit_test(test_disconnect_during_a_reconnect_blocked_in_open_returns_at_once),
        cmocka_unit_test(test_destroy_while_a_reconnect_waits_for_connack_returns_at_once),
        cmocka_unit_test(test_disconnect_ends_a_kmqtt_run_sleeping_out_the_backoff),
        cmocka_unit_test(test_no_reconnect_after_a_failed_first_connect),
        cmocka_unit_test(test_no_reconnect_after_kmqtt_disconnect),
        cmocka_unit_test(test_disconnect_from_the_lost_callback_stops_the_reconnect),
        cmocka_unit_test(test_while_reconnecting_publish_is_enotconn_and_connect_estate),
        cmocka_unit_test(test_subscriptions_are_made_again_when_the_broker_kept_no_session),
        cmocka_unit_test(test_session_present_resends_unacked_with_dup_and_keeps_subscriptions),
        cmocka_unit_test(test_clean_session_reconnect_resends_unacked_as_new_and_resubscribes),
        cmocka_unit_test(test_publish_batch_sends_nothing_until_a_turn),
        cmocka_unit_test(test_publish_batch_refills_a_full_window_only_after_half_drained),
        cmocka_unit_test(test_without_batch_a_freed_slot_is_used_at_once),
        cmocka_unit_test(test_publish_batch_sends_when_the_buffer_fills),
        cmocka_unit_test(test_publish_result_reports_the_queue_and_props_are_never_queued),
        cmocka_unit_test(test_publish_batch_wait_sends_the_queue),
        cmocka_unit_test(test_flush_keeps_the_send_contract),
        cmocka_unit_test(test_publish_batch_disconnect_sends_the_queue_then_disconnect),
        cmocka_unit_test(test_background_thread_is_woken_once_for_many_publishes),
        cmocka_unit_test(test_publish_without_connection_still_refuses_a_bad_topic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
