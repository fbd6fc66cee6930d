/*
 * Subscriptions restored after a clean reconnect (issue #18) when each
 * was made with its own 5.0 Subscription Identifier: one SUBSCRIBE carries
 * one identifier (MQTT-3.8.2.1.2: one Subscription Identifier per
 * SUBSCRIBE), so the client sends one SUBSCRIBE per subscription, more
 * than KMQTT_CFG_MAX_REQUESTS of them, the rest as SUBACKs free their
 * slots; every subscription comes back with its own identifier and the
 * messages that match it carry it again.
 *
 * The broker is a script in memory that answers each packet as it
 * arrives; the client runs its loop in the calling thread (kmqtt_run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kmqtt/client.h"
#include "kmqtt/config.h"

#if KMQTT_CFG_V5

#define NSUBS 12

typedef struct sb {
    uint8_t in[8192];
    size_t in_len, in_off;
    bool open, dropped;
    int opens;
    int subscribes[4];          /* SUBSCRIBEs per connection */
    uint32_t ids[4][NSUBS + 1]; /* how often each Subscription Identifier came */
} sb_t;

static sb_t B;

static void queue_bytes(const uint8_t *p, size_t n)
{
    assert_true(B.in_len + n <= sizeof B.in);
    memcpy(B.in + B.in_len, p, n);
    B.in_len += n;
}

static size_t varint(const uint8_t *p, uint32_t *v)
{
    size_t i = 0;
    *v = 0;
    do {
        *v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
    } while (p[i++] & 0x80);
    return i;
}

/* A 5.0 SUBSCRIBE (variable header and payload v, rem bytes): notes its
 * Subscription Identifier and grants every filter. */
static void subscribe(const uint8_t *v, size_t rem)
{
    uint8_t out[64];
    uint32_t plen, id = 0;
    size_t off = 2, n = 0, k = 0, end;
    off += varint(v + off, &plen);
    end = off + plen;
    while (off < end) {
        if (v[off] == 0x0B) {
            off++;
            off += varint(v + off, &id);
        } else {
            fail_msg("unexpected SUBSCRIBE property 0x%02x", v[off]);
        }
    }
    while (off < rem) {
        off += 2 + ((size_t)v[off] << 8 | v[off + 1]) + 1;
        n++;
    }
    assert_int_equal(n, 1); /* one identifier, one subscription */
    assert_true(id >= 1 && id <= NSUBS);
    B.ids[B.opens - 1][id]++;
    B.subscribes[B.opens - 1]++;
    out[k++] = 0x90;
    out[k++] = (uint8_t)(3 + n);
    out[k++] = v[0];
    out[k++] = v[1];
    out[k++] = 0;
    out[k++] = 1; /* granted QoS 1 */
    queue_bytes(out, k);
}

static kmqtt_err_t b_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    assert_true(B.opens < 4);
    B.opens++;
    B.open = true;
    B.dropped = false;
    B.in_len = B.in_off = 0;
    return KMQTT_OK;
}

static long b_send(void *ctx, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t off = 0;
    (void)ctx;
    if (!B.open || B.dropped)
        return KMQTT_ECLOSED;
    /* The client writes whole packets here (tx is large enough). */
    while (off < len) {
        uint32_t rem;
        size_t i = 1 + varint(p + off + 1, &rem);
        const uint8_t *v = p + off + i;
        assert_true(off + i + rem <= len);
        switch (p[off] >> 4) {
        case 1: /* CONNECT: accepted, no session */
        {
            uint8_t ack[] = {0x20, 3, 0, 0, 0};
            queue_bytes(ack, sizeof ack);
            break;
        }
        case 8:
            subscribe(v, rem);
            break;
        default:
            break;
        }
        off += i + rem;
    }
    return (long)len;
}

static long b_recv(void *ctx, void *buf, size_t len)
{
    size_t n = B.in_len - B.in_off;
    (void)ctx;
    if (!B.open || B.dropped)
        return KMQTT_ECLOSED;
    if (n == 0)
        return 0;
    if (n > len)
        n = len;
    memcpy(buf, B.in + B.in_off, n);
    B.in_off += n;
    if (B.in_off == B.in_len)
        B.in_off = B.in_len = 0;
    return (long)n;
}

static kmqtt_err_t b_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    (void)ctx;
    (void)timeout_ms;
    *ready = events & KMQTT_WAIT_WRITE;
    if ((events & KMQTT_WAIT_READ) && (B.in_len > B.in_off || B.dropped))
        *ready |= KMQTT_WAIT_READ;
    return KMQTT_OK;
}

static void b_void(void *ctx)
{
    (void)ctx;
}

static void b_close(void *ctx)
{
    (void)ctx;
    B.open = false;
}

static kmqtt_transport_t TP = {NULL, b_open, b_send, b_recv, b_wait, b_void, b_close, b_void};

static int connected;

static void on_state(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    (void)c;
    (void)err;
    (void)ctx;
    if (st == KMQTT_STATE_CONNECTED)
        connected++;
}

/* A QoS 0 PUBLISH on "f/<k>" carrying Subscription Identifier k. */
static void inject(unsigned k)
{
    uint8_t out[32];
    size_t n = 0;
    out[n++] = 0x30;
    out[n++] = 0; /* set below */
    out[n++] = 0;
    out[n++] = (uint8_t)(k < 10 ? 3 : 4);
    out[n++] = 'f';
    out[n++] = '/';
    if (k >= 10)
        out[n++] = (uint8_t)('0' + k / 10);
    out[n++] = (uint8_t)('0' + k % 10);
    out[n++] = 2; /* properties */
    out[n++] = 0x0B;
    out[n++] = (uint8_t)k;
    out[n++] = 'm';
    out[1] = (uint8_t)(n - 2);
    queue_bytes(out, n);
}

static int messages;

static void on_message(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    (void)c;
    (void)ctx;
    if (m->payload.len == 1 && m->payload.ptr[0] == 'm')
        messages++;
}

static void clean_reconnect_restores_each_identifier(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    char filters[NSUBS + 1][8];
    unsigned k;
    int i;
    (void)state;
    memset(&B, 0, sizeof B);
    connected = messages = 0;
    kmqtt_client_options_init(&o);
    o.version = KMQTT_V5;
    o.client_id = "ids";
    o.transport = &TP;
    o.clean_session = true;
    o.pipeline_connect = true;
    o.reconnect = KMQTT_RECONNECT_ON;
    o.reconnect_min_ms = 1;
    o.reconnect_max_ms = 4;
    o.on_state = on_state;
    o.max_subscriptions = NSUBS + 4;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    for (k = 1; k <= NSUBS; k++) {
        kmqtt_sub_request_t sub = {filters[k], 1, on_message, NULL};
        kmqtt_subscribe_props_t props;
        memset(&props, 0, sizeof props);
        props.subscription_id = k;
        snprintf(filters[k], sizeof filters[k], "f/%u", k);
        assert_int_equal(kmqtt_subscribe(c, &sub, 1, 2000, &props, NULL), KMQTT_OK);
    }
    assert_int_equal(B.subscribes[0], NSUBS);
    B.dropped = true;
    for (i = 0; i < 5000 && connected < 2; i++)
        (void)kmqtt_run(c, 2);
    assert_int_equal(connected, 2);
    for (i = 0; i < 200 && B.subscribes[1] < NSUBS; i++)
        (void)kmqtt_run(c, 1);
    /* More SUBSCRIBEs than request slots (KMQTT_CFG_MAX_REQUESTS): all go,
     * one per identifier, each once. */
    assert_true(NSUBS > KMQTT_CFG_MAX_REQUESTS);
    assert_int_equal(B.subscribes[1], NSUBS);
    for (k = 1; k <= NSUBS; k++)
        assert_int_equal(B.ids[1][k], 1);
    /* Every restored subscription delivers again. */
    for (k = 1; k <= NSUBS; k++)
        inject(k);
    for (i = 0; i < 200 && messages < NSUBS; i++)
        (void)kmqtt_run(c, 1);
    assert_int_equal(messages, NSUBS);
    kmqtt_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_reconnect_restores_each_identifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
    return 0; /* 5.0 built out: nothing to restore with identifiers */
}

#endif
