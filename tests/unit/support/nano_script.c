#include "nano_script.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hex.h"

#define GUARD 0xA5

/* ------------------------------------------------------------- transport */

static kmqtt_err_t s_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    ns_t *s = ctx;
    (void)timeout_ms;
    kmqtt_err_t r = KMQTT_OK;
    if (s->opens < s->open_script_len)
        r = s->open_script[s->opens];
    s->opens++;
    if (s->is_open)
        return KMQTT_ESTATE;
    if (host != NULL) {
        strncpy(s->host, host, sizeof s->host - 1);
        s->host[sizeof s->host - 1] = '\0';
    }
    s->port = port;
    if (r == KMQTT_OK)
        s->is_open = true;
    return r;
}

static long s_send(void *ctx, const void *buf, size_t len)
{
    ns_t *s = ctx;
    s->send_calls++;
    if (!s->is_open) {
        s->misuse = true;
        return KMQTT_ENOTCONN;
    }
    size_t n = len;
    if (s->gate != NULL) {
        n = sc_gate_offer(s->gate, buf, len);
        assert_true(n <= NS_OUT_CAP - s->out_len);
    }
    if (s->send_room >= 0 && n > (size_t)s->send_room)
        n = (size_t)s->send_room;
    if (n > NS_OUT_CAP - s->out_len)
        n = NS_OUT_CAP - s->out_len;
    memcpy(s->out + s->out_len, buf, n);
    s->out_len += n;
    if (s->send_room >= 0)
        s->send_room -= (long)n;
    return (long)n;
}

static long s_recv(void *ctx, void *buf, size_t len)
{
    ns_t *s = ctx;
    s->recv_calls++;
    if (!s->is_open) {
        s->misuse = true;
        return KMQTT_ENOTCONN;
    }
    size_t n = s->in_len - s->in_off;
    if (n == 0)
        return s->recv_end;
    if (s->chunk > 0 && n > s->chunk)
        n = s->chunk;
    if (n > len)
        n = len;
    memcpy(buf, s->in + s->in_off, n);
    s->in_off += n;
    if (s->in_off == s->in_len)
        s->in_off = s->in_len = 0;
    return (long)n;
}

static kmqtt_err_t s_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    ns_t *s = ctx;
    s->wait_calls++;
    s->wait_events = events;
    s->wait_timeout_ms = timeout_ms;
    unsigned r = 0;
    if (s->is_open) {
        if ((events & KMQTT_WAIT_READ) && (s->in_len > s->in_off || s->recv_end != 0))
            r |= KMQTT_WAIT_READ;
        if ((events & KMQTT_WAIT_WRITE) && s->send_room != 0)
            r |= KMQTT_WAIT_WRITE;
    }
    if (ready != NULL)
        *ready = r;
    return KMQTT_OK;
}

static void s_wake(void *ctx)
{
    (void)ctx;
}

static void s_close(void *ctx)
{
    ns_t *s = ctx;
    if (s->is_open)
        s->closes++;
    s->is_open = false;
    if (s->gate != NULL)
        sc_gate_closed(s->gate);
    /* What the server had queued belongs to the old connection. */
    s->in_len = s->in_off = 0;
    s->recv_end = 0;
}

static void s_destroy(void *ctx)
{
    (void)ctx;
    fail_msg("the nano client must never destroy the transport");
}

void ns_init(ns_t *s)
{
    memset(s, 0, sizeof *s);
    s->tp.ctx = s;
    s->tp.open = s_open;
    s->tp.send = s_send;
    s->tp.recv = s_recv;
    s->tp.wait = s_wait;
    s->tp.wake = s_wake;
    s->tp.close = s_close;
    s->tp.destroy = s_destroy;
    s->send_room = -1;
}

void ns_script_open(ns_t *s, kmqtt_err_t result)
{
    assert_true(s->open_script_len < (int)(sizeof s->open_script / sizeof s->open_script[0]));
    s->open_script[s->open_script_len++] = result;
}

void ns_feed(ns_t *s, const uint8_t *buf, size_t len)
{
    assert_true(len <= NS_IN_CAP - s->in_len);
    memcpy(s->in + s->in_len, buf, len);
    s->in_len += len;
}

void ns_feed_hex(ns_t *s, const char *hex)
{
    static uint8_t buf[NS_IN_CAP];
    size_t n = hex_decode(hex, buf, sizeof buf);
    ns_feed(s, buf, n);
}

void ns_clear_out(ns_t *s)
{
    s->out_len = 0;
}

/* --------------------------------------------------------------- fixture */

static void copy_bytes(uint8_t *dst, size_t cap, size_t *dst_len, const void *src, size_t len)
{
    if (len > cap)
        fail_msg("test log: %u bytes do not fit %u", (unsigned)len, (unsigned)cap);
    if (len > 0)
        memcpy(dst, src, len);
    *dst_len = len;
}

static void on_event(void *user, const kmqtt_nano_event_t *ev)
{
    nt_t *t = user;
    assert_non_null(ev);
    if (t->nev >= NT_EV_MAX)
        fail_msg("more than %d events", NT_EV_MAX);
    nt_ev_t *e = &t->ev[t->nev++];
    memset(e, 0, sizeof *e);
    e->type = ev->type;
    e->err = ev->err;
    e->packet_id = ev->packet_id;
    e->reason_code = ev->reason_code;
    e->session_present = ev->session_present;
    e->state = kmqtt_nano_state(&t->c);
    if (ev->type == KMQTT_NANO_EV_MESSAGE) {
        const kmqtt_nano_msg_t *m = ev->msg;
        assert_non_null(m);
        size_t tl = 0;
        copy_bytes((uint8_t *)e->topic, sizeof e->topic - 1, &tl, m->topic, m->topic_len);
        e->topic[tl] = '\0';
        e->topic_len = m->topic_len;
        copy_bytes(e->payload, sizeof e->payload, &e->payload_len, m->payload, m->payload_len);
        e->qos = m->qos;
        e->retain = m->retain;
        e->dup = m->dup;
        e->msg_id = m->packet_id;
        copy_bytes(e->msg_props, sizeof e->msg_props, &e->msg_props_len, m->props, m->props_len);
    }
    if (ev->type == KMQTT_NANO_EV_SUBACK || ev->type == KMQTT_NANO_EV_UNSUBACK)
        copy_bytes(e->codes, sizeof e->codes, &e->count, ev->codes, ev->count);
    copy_bytes(e->props, sizeof e->props, &e->props_len, ev->props, ev->props_len);
    if (t->hook != NULL) {
        t->hook_calls++;
        t->hook(t, ev);
    }
}

void nt_setup(nt_t *t, uint8_t version)
{
    memset(t, 0, sizeof *t);
    ns_init(&t->ns);
    kmqtt_nano_config_init(&t->cfg);
    t->cfg.transport = &t->ns.tp;
    t->cfg.host = "broker";
    t->cfg.port = 1883;
    t->cfg.mqtt.version = version;
    t->cfg.mqtt.client_id = "dev1";
    t->cfg.reconnect_min_ms = 1000;
    t->cfg.reconnect_max_ms = 8000;
    /* What the tests were written for (the defaults are 0 = half the
     * keepalive, and KMQTT_CFG_MAX_INFLIGHT). */
    t->cfg.mqtt.ping_timeout_ms = 10000;
    t->cfg.mqtt.max_inflight = 8;
    /* The classic order (requests after the CONNACK); the pipelined first
     * flight has its own tests (test_nano_pipeline.c). */
    t->cfg.mqtt.pipeline = false;
    t->cfg.on_event = on_event;
    t->cfg.user = t;
    memset(t->rx, GUARD, sizeof t->rx);
    memset(t->tx, GUARD, sizeof t->tx);
    memset(t->store, GUARD, sizeof t->store);
    t->bufs.rx = t->rx;
    t->bufs.rx_size = NT_RX_SIZE;
    t->bufs.tx = t->tx;
    t->bufs.tx_size = NT_TX_SIZE;
    t->bufs.store = t->store;
    t->bufs.store_size = NT_STORE_CAP;
}

kmqtt_err_t nt_init(nt_t *t)
{
    return kmqtt_nano_init(&t->c, &t->cfg, &t->bufs);
}

void nt_start(nt_t *t, uint8_t version)
{
    nt_setup(t, version);
    assert_int_equal(nt_init(t), KMQTT_OK);
    assert_int_equal(kmqtt_nano_state(&t->c), KMQTT_NANO_IDLE);
}

uint32_t nt_poll(nt_t *t, uint32_t now)
{
    uint32_t next = 12345;
    assert_int_equal(kmqtt_nano_poll(&t->c, now, &next), KMQTT_OK);
    assert_false(t->ns.misuse);
    return next;
}

void nt_open(nt_t *t, uint32_t now)
{
    assert_int_equal(kmqtt_nano_connect(&t->c, now), KMQTT_OK);
    assert_true(t->ns.is_open);
    nt_poll(t, now);
    assert_int_equal(kmqtt_nano_state(&t->c), KMQTT_NANO_CONNECTING);
}

void nt_connected(nt_t *t, uint32_t now, bool session_present)
{
    nt_open(t, now);
    ns_clear_out(&t->ns);
    nt_feed(t, t->cfg.mqtt.version == KMQTT_V5 ? (session_present ? "20 03 01 00 00" : "20 03 00 00 00")
                                          : (session_present ? "20 02 01 00" : "20 02 00 00"));
    nt_poll(t, now);
    assert_int_equal(kmqtt_nano_state(&t->c), KMQTT_NANO_CONNECTED);
    const nt_ev_t *e = nt_take(t, KMQTT_NANO_EV_CONNECTED);
    assert_int_equal(e->session_present, session_present);
    assert_int_equal(e->err, KMQTT_OK);
    nt_skip_events(t);
}

void nt_feed(nt_t *t, const char *hex)
{
    ns_feed_hex(&t->ns, hex);
}

void nt_expect_sent_at(nt_t *t, const char *hex, const char *file, int line)
{
    static uint8_t want[NS_OUT_CAP];
    static char got_text[3 * 512 + 8];
    size_t n = hex_decode(hex, want, sizeof want);
    if (n != t->ns.out_len || memcmp(want, t->ns.out, n) != 0) {
        strncpy(got_text, hex_format(t->ns.out, t->ns.out_len), sizeof got_text - 1);
        got_text[sizeof got_text - 1] = '\0';
        fail_msg("%s:%d: sent\n  %s\nexpected\n  %s", file, line, got_text, hex_format(want, n));
    }
    ns_clear_out(&t->ns);
}

static const char *type_name(kmqtt_nano_event_type_t type)
{
    switch (type) {
    case KMQTT_NANO_EV_CONNECTED:
        return "CONNECTED";
    case KMQTT_NANO_EV_CONNECT_FAILED:
        return "CONNECT_FAILED";
    case KMQTT_NANO_EV_LOST:
        return "LOST";
    case KMQTT_NANO_EV_MESSAGE:
        return "MESSAGE";
    case KMQTT_NANO_EV_PUBLISHED:
        return "PUBLISHED";
    case KMQTT_NANO_EV_SUBACK:
        return "SUBACK";
    case KMQTT_NANO_EV_UNSUBACK:
        return "UNSUBACK";
    case KMQTT_NANO_EV_AUTH:
        return "AUTH";
    case KMQTT_NANO_EV_MESSAGE_BEGIN:
        return "MESSAGE_BEGIN";
    case KMQTT_NANO_EV_MESSAGE_CHUNK:
        return "MESSAGE_CHUNK";
    case KMQTT_NANO_EV_MESSAGE_END:
        return "MESSAGE_END";
    case KMQTT_NANO_EV_MESSAGE_ABORT:
        return "MESSAGE_ABORT";
    }
    return "?";
}

const nt_ev_t *nt_take_at(nt_t *t, kmqtt_nano_event_type_t type, const char *file, int line)
{
    if (t->seen >= t->nev)
        fail_msg("%s:%d: no event, expected %s", file, line, type_name(type));
    const nt_ev_t *e = &t->ev[t->seen++];
    if (e->type != type)
        fail_msg("%s:%d: event %s (err %d, reason 0x%02x), expected %s", file, line,
                 type_name(e->type), (int)e->err, e->reason_code, type_name(type));
    return e;
}

void nt_no_event_at(nt_t *t, const char *file, int line)
{
    if (t->seen < t->nev) {
        const nt_ev_t *e = &t->ev[t->seen];
        fail_msg("%s:%d: unexpected event %s (err %d, reason 0x%02x, id %u)", file, line,
                 type_name(e->type), (int)e->err, e->reason_code, e->packet_id);
    }
}

void nt_skip_events(nt_t *t)
{
    t->seen = t->nev;
}

static bool guard_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != GUARD)
            return false;
    return true;
}

/* Everything of the fixture's arrays past the size the client was given. */
static bool tail_ok(const uint8_t *arr, size_t arr_size, const uint8_t *given, size_t given_size)
{
    if (given != arr || given_size > arr_size)
        return true; /* not the fixture's array */
    return guard_ok(arr + given_size, arr_size - given_size);
}

bool nt_guards_ok(const nt_t *t)
{
    return tail_ok(t->rx, sizeof t->rx, t->bufs.rx, t->bufs.rx_size) &&
           tail_ok(t->tx, sizeof t->tx, t->bufs.tx, t->bufs.tx_size) &&
           tail_ok(t->store, sizeof t->store, t->bufs.store, t->bufs.store_size);
}

kmqtt_nano_msg_t nt_msg(const char *topic, const char *payload, uint8_t qos, bool retain)
{
    kmqtt_nano_msg_t m;
    memset(&m, 0, sizeof m);
    m.topic = topic;
    m.topic_len = (uint16_t)strlen(topic);
    m.payload = (const uint8_t *)payload;
    m.payload_len = strlen(payload);
    m.qos = qos;
    m.retain = retain;
    return m;
}

static char *hex_slot(void)
{
    static char slots[4][1024];
    static unsigned next;
    return slots[next++ % 4];
}

const char *nt_publish_hex(uint8_t first, const char *topic, uint16_t id, const char *payload,
                           bool v5)
{
    char *out = hex_slot();
    size_t tl = strlen(topic), pl = strlen(payload);
    bool has_id = ((first >> 1) & 3) != 0;
    size_t rl = 2 + tl + (has_id ? 2 : 0) + (v5 ? 1 : 0) + pl;
    assert_true(rl < 128 && 3 * (rl + 2) < 1024);
    size_t o = (size_t)snprintf(out, 1024, "%02x %02x %02x %02x", first, (unsigned)rl,
                                (unsigned)(tl >> 8), (unsigned)(tl & 0xff));
    for (size_t i = 0; i < tl; i++)
        o += (size_t)snprintf(out + o, 1024 - o, " %02x", (uint8_t)topic[i]);
    if (has_id)
        o += (size_t)snprintf(out + o, 1024 - o, " %02x %02x", (unsigned)(id >> 8),
                              (unsigned)(id & 0xff));
    if (v5)
        o += (size_t)snprintf(out + o, 1024 - o, " 00");
    for (size_t i = 0; i < pl; i++)
        o += (size_t)snprintf(out + o, 1024 - o, " %02x", (uint8_t)payload[i]);
    return out;
}

const char *nt_ack_hex(uint8_t first, uint16_t id)
{
    char *out = hex_slot();
    snprintf(out, 1024, "%02x 02 %02x %02x", first, (unsigned)(id >> 8), (unsigned)(id & 0xff));
    return out;
}
