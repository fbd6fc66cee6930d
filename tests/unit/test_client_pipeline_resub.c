/*
 * Subscriptions restored in the first flight (issue #18): on an automatic
 * reconnect that asks for a clean session the server has none of the
 * client's subscriptions, so the threaded client sends its SUBSCRIBEs in
 * the same write as the CONNECT (MQTT 3.1.4: a client may send packets
 * before the CONNACK). A server that refuses the CONNECT processes none of
 * them (MQTT-3.1.4-5): they are owed to the next connection. A persistent
 * session waits for the CONNACK's Session Present as before.
 *
 * The broker is a script in memory: it answers what each write carries as
 * the write arrives, and records which packets each write held. The client
 * runs its loop in the calling thread (kmqtt_run), so nothing here races.
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

#define MAX_CONN   8
#define MAX_WRITES 128

typedef struct sb {
    kmqtt_version_t version;
    uint8_t in[4096]; /* server -> client, not yet read */
    size_t in_len, in_off;
    bool open, dropped, refused;
    int opens;                    /* connections so far; the current one is opens - 1 */
    bool refuse[MAX_CONN];        /* answer this connection's CONNECT with a refusal */
    bool present[MAX_CONN];       /* its CONNACK's Session Present */
    int subscribes[MAX_CONN];     /* SUBSCRIBEs this connection processed */
    int connect_write[MAX_CONN];  /* index of the write that carried its CONNECT */
    uint8_t types[MAX_WRITES][8]; /* packet types of each write, in order */
    int ntypes[MAX_WRITES];
    int conn_of[MAX_WRITES];
    int nwrites;
} sb_t;

static sb_t B;

static void queue_bytes(const uint8_t *p, size_t n)
{
    assert_true(B.in_len + n <= sizeof B.in);
    memcpy(B.in + B.in_len, p, n);
    B.in_len += n;
}

static void connack(bool present, bool refuse)
{
    uint8_t v311[] = {0x20, 2, present ? 1u : 0u, refuse ? 0x05u : 0u};
    uint8_t v5[] = {0x20, 3, present ? 1u : 0u, refuse ? 0x87u : 0u, 0};
    if (B.version == KMQTT_V5)
        queue_bytes(v5, sizeof v5);
    else
        queue_bytes(v311, sizeof v311);
}

/* SUBACK granting each filter of the SUBSCRIBE v (its variable header and
 * payload, rem bytes) the QoS it asked for. */
static void suback(const uint8_t *v, size_t rem)
{
    uint8_t out[64];
    size_t k = 0, off = 2, n = 0;
    uint8_t codes[32];
    if (B.version == KMQTT_V5)
        off += 1u + v[2]; /* short property blocks only */
    while (off < rem) {
        size_t fl = (size_t)v[off] << 8 | v[off + 1];
        off += 2 + fl;
        assert_true(off < rem && n < sizeof codes);
        codes[n++] = v[off++] & 3u;
    }
    out[k++] = 0x90;
    out[k++] = (uint8_t)(2 + (B.version == KMQTT_V5 ? 1 : 0) + n);
    out[k++] = v[0];
    out[k++] = v[1];
    if (B.version == KMQTT_V5)
        out[k++] = 0;
    memcpy(out + k, codes, n);
    queue_bytes(out, k + n);
}

/* A QoS 0 PUBLISH from the server. */
static void inject(const char *topic, const char *payload)
{
    uint8_t out[128];
    size_t k = 0, tl = strlen(topic), pl = strlen(payload);
    out[k++] = 0x30;
    out[k++] = (uint8_t)(2 + tl + (B.version == KMQTT_V5 ? 1 : 0) + pl);
    out[k++] = 0;
    out[k++] = (uint8_t)tl;
    memcpy(out + k, topic, tl);
    k += tl;
    if (B.version == KMQTT_V5)
        out[k++] = 0;
    memcpy(out + k, payload, pl);
    queue_bytes(out, k + pl);
}

static kmqtt_err_t b_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    assert_true(B.opens < MAX_CONN);
    B.opens++;
    B.open = true;
    B.dropped = B.refused = false;
    B.in_len = B.in_off = 0;
    return KMQTT_OK;
}

static long b_send(void *ctx, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t off = 0;
    int conn = B.opens - 1, w = B.nwrites;
    (void)ctx;
    if (!B.open || B.dropped)
        return KMQTT_ECLOSED;
    assert_true(w < MAX_WRITES);
    B.nwrites++;
    B.conn_of[w] = conn;
    while (off < len) {
        size_t i = 1, rem = 0, shift = 0;
        while (p[off + i] & 0x80) {
            rem |= (size_t)(p[off + i] & 0x7f) << shift;
            shift += 7;
            i++;
        }
        rem |= (size_t)p[off + i] << shift;
        const uint8_t *v = p + off + i + 1;
        unsigned type = p[off] >> 4;
        assert_true(off + i + 1 + rem <= len);
        if (B.ntypes[w] < 8)
            B.types[w][B.ntypes[w]++] = (uint8_t)type;
        off += i + 1 + rem;
        if (B.refused)
            continue; /* MQTT-3.1.4-5: nothing after a refused CONNECT is processed */
        switch (type) {
        case 1: /* CONNECT */
            B.connect_write[conn] = w;
            B.refused = B.refuse[conn];
            connack(B.present[conn], B.refused);
            break;
        case 3: /* PUBLISH QoS 1: PUBACK */
            if ((p[off - i - 1 - rem] & 0x06) == 0x02) {
                size_t tl = (size_t)v[0] << 8 | v[1];
                uint8_t ack[] = {0x40, 2, v[2 + tl], v[3 + tl]};
                queue_bytes(ack, sizeof ack);
            }
            break;
        case 8: /* SUBSCRIBE */
            B.subscribes[conn]++;
            suback(v, rem);
            break;
        case 12: /* PINGREQ */
        {
            uint8_t pong[] = {0xd0, 0};
            queue_bytes(pong, sizeof pong);
            break;
        }
        default:
            break;
        }
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
        return B.refused ? KMQTT_ECLOSED : 0; /* MQTT-3.2.2-5: a refusal closes */
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
    if ((events & KMQTT_WAIT_READ) && (B.in_len > B.in_off || B.dropped || B.refused))
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

static int connected_count, messages;

static void on_state(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    (void)c;
    (void)err;
    (void)ctx;
    if (st == KMQTT_STATE_CONNECTED)
        connected_count++;
}

static void on_message(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    (void)c;
    (void)ctx;
    if (msg->payload.len == 5 && memcmp(msg->payload.ptr, "again", 5) == 0)
        messages++;
}

/* A client connected (first connection, accepted) with two subscriptions. */
static kmqtt_client_t *setup(kmqtt_version_t version, bool clean, bool pipeline)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_sub_request_t subs[2] = {{"a/+", 1, on_message, NULL}, {"b/#", 0, on_message, NULL}};
    memset(&B, 0, sizeof B);
    B.version = version;
    connected_count = messages = 0;
    kmqtt_client_options_init(&o);
    o.version = version;
    o.client_id = "resub";
    o.transport = &TP;
    o.clean_session = clean;
    o.pipeline_connect = pipeline;
    o.reconnect = KMQTT_RECONNECT_ON;
    o.reconnect_min_ms = 1;
    o.reconnect_max_ms = 4;
    o.on_state = on_state;
#if KMQTT_CFG_V5
    if (version == KMQTT_V5 && !clean)
        o.session_expiry_s = 60;
#endif
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_subscribe(c, subs, 2, 2000, NULL, NULL), KMQTT_OK);
    assert_int_equal(B.subscribes[0], 1);
    return c;
}

/* Drops the connection and runs the loop until the client is connected
 * `times` times in all, then some turns more (for what follows a CONNACK). */
static void drop_and_reconnect(kmqtt_client_t *c, int times)
{
    int i;
    B.dropped = true;
    for (i = 0; i < 5000 && connected_count < times; i++)
        (void)kmqtt_run(c, 2);
    assert_int_equal(connected_count, times);
    for (i = 0; i < 20; i++)
        (void)kmqtt_run(c, 1);
}

/* The packet types the write carrying connection conn's CONNECT held. */
static void assert_first_write(int conn, const uint8_t *types, int n)
{
    int w = B.connect_write[conn], i;
    assert_int_equal(B.conn_of[w], conn);
    assert_int_equal(B.ntypes[w], n);
    for (i = 0; i < n; i++)
        assert_int_equal(B.types[w][i], types[i]);
}

/* The handlers still get their messages on the new connection. */
static void assert_delivers(kmqtt_client_t *c)
{
    int i;
    inject("a/x", "again");
    inject("b/y/z", "again");
    for (i = 0; i < 50 && messages < 2; i++)
        (void)kmqtt_run(c, 1);
    assert_int_equal(messages, 2);
}

static const uint8_t CONNECT_SUBSCRIBE[] = {1, 8};
static const uint8_t CONNECT_ONLY[] = {1};

static void clean_reconnect_sends_subscribe_with_the_connect(kmqtt_version_t version)
{
    kmqtt_client_t *c = setup(version, true, true);
    drop_and_reconnect(c, 2);
    /* MQTT 3.1.4: the SUBSCRIBE needs no CONNACK; both filters fit one. */
    assert_first_write(1, CONNECT_SUBSCRIBE, 2);
    assert_int_equal(B.subscribes[1], 1); /* not again after the CONNACK */
    assert_delivers(c);
    kmqtt_client_destroy(c);
}

static void clean_reconnect_sends_subscribe_with_the_connect_311(void **state)
{
    (void)state;
    clean_reconnect_sends_subscribe_with_the_connect(KMQTT_V311);
}

#if KMQTT_CFG_V5
static void clean_reconnect_sends_subscribe_with_the_connect_5(void **state)
{
    (void)state;
    clean_reconnect_sends_subscribe_with_the_connect(KMQTT_V5);
}
#endif

/* MQTT-3.1.4-5: a refused CONNECT's SUBSCRIBE was not processed, so each
 * attempt carries it again, and each accepted connection gets it once.
 * Five refusals in a row would exhaust the request table if an attempt
 * leaked its request. */
static void refused_then_accepted(kmqtt_version_t version)
{
    kmqtt_client_t *c = setup(version, true, true);
    kmqtt_sub_request_t more = {"c/1", 1, on_message, NULL};
    int i;
    for (i = 1; i <= 5; i++)
        B.refuse[i] = true;
    drop_and_reconnect(c, 2);
    assert_int_equal(B.opens, 7);
    for (i = 1; i <= 6; i++) {
        assert_first_write(i, CONNECT_SUBSCRIBE, 2);
        assert_int_equal(B.subscribes[i], i == 6 ? 1 : 0);
    }
    assert_delivers(c);
    /* The request table is whole: the application's own subscribe goes. */
    assert_int_equal(kmqtt_subscribe(c, &more, 1, 2000, NULL, NULL), KMQTT_OK);
    assert_int_equal(B.subscribes[6], 2);
    kmqtt_client_destroy(c);
}

static void refused_then_accepted_subscribes_once_per_accepted_connection_311(void **state)
{
    (void)state;
    refused_then_accepted(KMQTT_V311);
}

#if KMQTT_CFG_V5
static void refused_then_accepted_subscribes_once_per_accepted_connection_5(void **state)
{
    (void)state;
    refused_then_accepted(KMQTT_V5);
}
#endif

/* A persistent session: the client cannot know whether the server kept
 * the subscriptions, so it waits for Session Present (as before). */
static void persistent_session_waits_for_the_connack(void **state)
{
    (void)state;
    kmqtt_client_t *c = setup(KMQTT_V311, false, true);
    /* Session Present 0: the server forgot them; made again after the CONNACK. */
    drop_and_reconnect(c, 2);
    assert_first_write(1, CONNECT_ONLY, 1);
    assert_int_equal(B.subscribes[1], 1);
    assert_delivers(c);
    /* Session Present 1: kept; nothing subscribed again. */
    B.present[2] = true;
    messages = 0;
    drop_and_reconnect(c, 3);
    assert_first_write(2, CONNECT_ONLY, 1);
    assert_int_equal(B.subscribes[2], 0);
    kmqtt_client_destroy(c);
}

/* pipeline_connect off: the SUBSCRIBE waits for the CONNACK. */
static void without_pipelining_subscribe_waits_for_the_connack(void **state)
{
    (void)state;
    kmqtt_client_t *c = setup(KMQTT_V311, true, false);
    drop_and_reconnect(c, 2);
    assert_first_write(1, CONNECT_ONLY, 1);
    assert_int_equal(B.subscribes[1], 1);
    assert_delivers(c);
    kmqtt_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_reconnect_sends_subscribe_with_the_connect_311),
#if KMQTT_CFG_V5
        cmocka_unit_test(clean_reconnect_sends_subscribe_with_the_connect_5),
#endif
        cmocka_unit_test(refused_then_accepted_subscribes_once_per_accepted_connection_311),
#if KMQTT_CFG_V5
        cmocka_unit_test(refused_then_accepted_subscribes_once_per_accepted_connection_5),
#endif
        cmocka_unit_test(persistent_session_waits_for_the_connack),
        cmocka_unit_test(without_pipelining_subscribe_waits_for_the_connack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
