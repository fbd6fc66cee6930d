/*
 * The threaded client against a scripted in-memory broker (issue 21,
 * coverage): what the scenario tests do not reach of the 5.0 CONNACK's
 * properties as kmqtt_client_connack reports them, SUBACK and UNSUBACK
 * failure codes as results, an ack's reason code and Reason String, and a
 * server DISCONNECT with its reason. The broker answers each packet the
 * client sends as soon as it is sent (no thread, no network, no clock of
 * its own); the client runs its loop in the calling thread, or (one case)
 * its background thread: the broker's state is behind a mutex.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hex.h"
#include "kmqtt/client.h"
#include "kmqtt/config.h"

#if KMQTT_CFG_V5

typedef struct sb {
    uint8_t in[2048]; /* server -> client, not yet read */
    size_t in_len, in_off;
    bool open;
    const char *connack;   /* hex of the CONNACK's variable header */
    const char *suback;    /* hex after the packet id: properties and codes */
    const char *unsuback;  /* same */
    const char *puback;    /* hex after the packet id: reason, properties */
    const char *after_sub; /* hex of a packet to send after the SUBACK */
    int sent[16];          /* first bytes of what the client sent */
    int nsent;
    const char
        *connect_auth;      /* if set: CONNECT is answered with this AUTH, its AUTH with CONNACK */
    const char *auth_reply; /* the answer to an AUTH after the CONNACK */
    bool connack_owed;
    int auths; /* AUTH packets the client sent */
    bool echo; /* answer a PUBLISH with a Response Topic: payload echo_payload */
    const char *echo_payload;
    bool silent;             /* answer nothing (but CONNECT) */
    const char *connacks[4]; /* if set: the CONNACK of each open in turn (the last repeats) */
    int opens;
    char hosts[4][16];
    uint16_t ports[4];
} sb_t;

static sb_t B;
static pthread_mutex_t MX = PTHREAD_MUTEX_INITIALIZER;

static void queue_bytes(const uint8_t *p, size_t n)
{
    assert_true(B.in_len + n <= sizeof B.in);
    memcpy(B.in + B.in_len, p, n);
    B.in_len += n;
}

/* One packet: first byte, then id (if not 0) and the hex body. */
static void answer(uint8_t first, uint16_t id, const char *hex)
{
    uint8_t body[1024], head[4];
    size_t n = 0, h = 1;
    if (id != 0) {
        body[0] = (uint8_t)(id >> 8);
        body[1] = (uint8_t)id;
        n = 2;
    }
    if (hex != NULL)
        n += hex_decode(hex, body + n, sizeof body - n);
    assert_true(n < 16384);
    head[0] = first;
    if (n >= 128) {
        head[h++] = (uint8_t)(0x80 | (n & 0x7f));
        head[h++] = (uint8_t)(n >> 7);
    } else {
        head[h++] = (uint8_t)n;
    }
    queue_bytes(head, h);
    queue_bytes(body, n);
}

/* The responder of 4.10 (request / response): a PUBLISH carrying a
 * Response Topic is answered on that topic, QoS 0, with its Correlation
 * Data and echo_payload. */
static void echo(const uint8_t *pkt, size_t n)
{
    kmqtt_packet_t in;
    kmqtt_prop_t rt, cd;
    size_t used;
    uint8_t out[256];
    size_t k = 0, pl = strlen(B.echo_payload);
    assert_int_equal(kmqtt_packet_decode(pkt, n, KMQTT_V5, 0, &in, &used), KMQTT_OK);
    if (!kmqtt_props_find(&in.u.publish.props, KMQTT_PROP_RESPONSE_TOPIC, &rt) ||
        !kmqtt_props_find(&in.u.publish.props, KMQTT_PROP_CORRELATION_DATA, &cd))
        return;
    size_t rem = 2 + rt.str.len + 1 + 3 + cd.bin.len + pl;
    assert_true(rem < 128 && rem + 2 <= sizeof out);
    out[k++] = 0x30;
    out[k++] = (uint8_t)rem;
    out[k++] = 0;
    out[k++] = (uint8_t)rt.str.len;
    memcpy(out + k, rt.str.ptr, rt.str.len);
    k += rt.str.len;
    out[k++] = (uint8_t)(3 + cd.bin.len);
    out[k++] = 0x09;
    out[k++] = 0;
    out[k++] = (uint8_t)cd.bin.len;
    memcpy(out + k, cd.bin.ptr, cd.bin.len);
    k += cd.bin.len;
    memcpy(out + k, B.echo_payload, pl);
    k += pl;
    queue_bytes(out, k);
}

static kmqtt_err_t b_open_locked(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    B.open = true;
    B.in_len = B.in_off = 0;
    if (B.opens < 4) {
        snprintf(B.hosts[B.opens], sizeof B.hosts[0], "%s", host);
        B.ports[B.opens] = port;
    }
    if (B.connacks[0] != NULL)
        B.connack = B.connacks[B.opens < 3 ? B.opens : 3] != NULL
                        ? B.connacks[B.opens < 3 ? B.opens : 3]
                        : B.connack;
    B.opens++;
    return KMQTT_OK;
}

/* Takes whole packets (the client's tx holds whole ones) and answers. */
static long b_send_locked(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    const uint8_t *p = buf;
    size_t off = 0;
    if (!B.open)
        return KMQTT_ECLOSED;
    while (off < len) {
        size_t n = 0, rem = 0, shift = 0, i = 1;
        while (p[off + i] & 0x80) {
            rem |= (size_t)(p[off + i] & 0x7f) << shift;
            shift += 7;
            i++;
        }
        rem |= (size_t)p[off + i] << shift;
        n = i + 1 + rem;
        assert_true(off + n <= len);
        const uint8_t *v = p + off + i + 1;
        if (B.nsent < 16)
            B.sent[B.nsent++] = p[off];
        if (B.silent && (p[off] >> 4) != 1) {
            off += n;
            continue;
        }
        if ((p[off] >> 4) == 3 && B.echo)
            echo(p + off, n);
        switch (p[off] >> 4) {
        case 1: /* CONNECT */
            if (B.connect_auth != NULL) {
                answer(0xf0, 0, B.connect_auth);
                B.connack_owed = true;
            } else {
                answer(0x20, 0, B.connack);
            }
            break;
        case 15: /* AUTH */
            B.auths++;
            if (B.connack_owed) {
                answer(0x20, 0, B.connack);
                B.connack_owed = false;
            } else if (B.auth_reply != NULL) {
                answer(0xf0, 0, B.auth_reply);
            }
            break;
        case 3: /* PUBLISH */
            if ((p[off] & 0x06) == 0x02) {
                uint16_t tl = (uint16_t)(v[0] << 8 | v[1]);
                answer(0x40, (uint16_t)(v[2 + tl] << 8 | v[3 + tl]), B.puback);
            }
            break;
        case 8: /* SUBSCRIBE */
            answer(0x90, (uint16_t)(v[0] << 8 | v[1]), B.suback);
            if (B.after_sub != NULL) {
                uint8_t extra[64];
                queue_bytes(extra, hex_decode(B.after_sub, extra, sizeof extra));
            }
            break;
        case 10: /* UNSUBSCRIBE */
            answer(0xb0, (uint16_t)(v[0] << 8 | v[1]), B.unsuback);
            break;
        case 12: /* PINGREQ */
            answer(0xd0, 0, NULL);
            break;
        default:
            break;
        }
        off += n;
    }
    return (long)len;
}

static long b_recv_locked(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    size_t n = B.in_len - B.in_off;
    if (!B.open)
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

static kmqtt_err_t b_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    pthread_mutex_lock(&MX);
    kmqtt_err_t err = b_open_locked(ctx, host, port, timeout_ms);
    pthread_mutex_unlock(&MX);
    return err;
}

static long b_send(void *ctx, const void *buf, size_t len)
{
    pthread_mutex_lock(&MX);
    long n = b_send_locked(ctx, buf, len);
    pthread_mutex_unlock(&MX);
    return n;
}

static long b_recv(void *ctx, void *buf, size_t len)
{
    pthread_mutex_lock(&MX);
    long n = b_recv_locked(ctx, buf, len);
    pthread_mutex_unlock(&MX);
    return n;
}

/* Ready at once, or after a millisecond when nothing is to read (so a
 * background thread does not spin). */
static kmqtt_err_t b_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    (void)ctx;
    pthread_mutex_lock(&MX);
    *ready = events & KMQTT_WAIT_WRITE;
    if ((events & KMQTT_WAIT_READ) && B.in_len > B.in_off)
        *ready |= KMQTT_WAIT_READ;
    pthread_mutex_unlock(&MX);
    if (*ready == 0 && timeout_ms > 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return KMQTT_OK;
}

static void b_void(void *ctx)
{
    (void)ctx;
}

static void b_close(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&MX);
    B.open = false;
    pthread_mutex_unlock(&MX);
}

static kmqtt_transport_t TP = {NULL, b_open, b_send, b_recv, b_wait, b_void, b_close, b_void};

static int disconnects;
static uint8_t disconnect_reason;
static char disconnect_ref[8];

static void on_disconnect(kmqtt_client_t *c, const kmqtt_disconnect_info_t *info, void *ctx)
{
    (void)c;
    (void)ctx;
    disconnects++;
    disconnect_reason = info->reason_code;
    memset(disconnect_ref, 0, sizeof disconnect_ref);
    if (info->server_reference.ptr != NULL && info->server_reference.len < sizeof disconnect_ref)
        memcpy(disconnect_ref, info->server_reference.ptr, info->server_reference.len);
}

/* A 5.0 client connected to the script (CONNACK variable header hex). */
static kmqtt_client_t *connected(const char *connack, kmqtt_connack_info_t *info)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    memset(&B, 0, sizeof B);
    B.connack = connack;
    disconnects = 0;
    kmqtt_client_options_init(&o);
    o.version = KMQTT_V5;
    o.client_id = "script";
    o.transport = &TP;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.on_disconnect = on_disconnect;
    o.session_expiry_s = 60;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 2000, info), KMQTT_OK);
    return c;
}

/* 3.2.2.3: every CONNACK property the client reports, as sent. */
static void connack_properties_are_reported(void **state)
{
    (void)state;
    kmqtt_connack_info_t ci;
    /* flags 00, reason 00, properties: Session Expiry 30, Receive Maximum 5,
     * Maximum QoS 1, Retain Available 0, Maximum Packet Size 4096, Topic
     * Alias Maximum 3, Wildcard 0, Subscription Identifiers 0, Shared 0,
     * Server Keep Alive 20, Response Information "ri", Server Reference
     * "sr", Reason String "rs", User Property a=b */
    kmqtt_client_t *c = connected("00 00 33"
                                  " 11 00 00 00 1e 21 00 05 24 01 25 00 27 00 00 10 00"
                                  " 22 00 03 28 00 29 00 2a 00 13 00 14"
                                  " 1a 00 02 72 69 1c 00 02 73 72 1f 00 02 72 73"
                                  " 26 00 01 61 00 01 62",
                                  &ci);
    assert_true(ci.has_session_expiry);
    assert_int_equal(ci.session_expiry_s, 30);
    assert_int_equal(ci.receive_maximum, 5);
    assert_int_equal(ci.maximum_qos, 1);
    assert_false(ci.retain_available);
    assert_int_equal(ci.maximum_packet_size, 4096);
    assert_int_equal(ci.topic_alias_maximum, 3);
    assert_false(ci.wildcard_available);
    assert_false(ci.subscription_id_available);
    assert_false(ci.shared_available);
    assert_int_equal(ci.server_keepalive_s, 20);
    assert_string_equal(ci.response_information, "ri");
    assert_string_equal(ci.server_reference, "sr");
    assert_string_equal(ci.reason_string, "rs");
    kmqtt_connack_info_t again;
    assert_int_equal(kmqtt_client_connack(c, &again), KMQTT_OK);
    assert_int_equal(again.receive_maximum, 5);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
}

/* KMQTT_CONNACK_STR_MAX: CONNACK strings beyond it together are not kept
 * (NULL) and strings_dropped says so; an Assigned Client Identifier on a
 * refusal is reported, not kept for later connects. */
static void long_connack_strings_are_dropped_not_cut(void **state)
{
    (void)state;
    static char hex[3 * 700 + 64];
    size_t off = 0;
    /* Reason String of 300 'a', Response Information of 300 'b' */
    off += (size_t)snprintf(hex + off, sizeof hex - off, "00 00 %02x %02x", 0x80 | (606 & 0x7f),
                            606 >> 7);
    off += (size_t)snprintf(hex + off, sizeof hex - off, " 1f 01 2c");
    for (int i = 0; i < 300; i++)
        off += (size_t)snprintf(hex + off, sizeof hex - off, " 61");
    off += (size_t)snprintf(hex + off, sizeof hex - off, " 1a 01 2c");
    for (int i = 0; i < 300; i++)
        off += (size_t)snprintf(hex + off, sizeof hex - off, " 62");
    kmqtt_connack_info_t ci;
    kmqtt_client_t *c = connected(hex, &ci);
    assert_non_null(ci.reason_string);
    assert_int_equal(strlen(ci.reason_string), 300);
    assert_null(ci.response_information);
    assert_true(ci.strings_dropped);
    kmqtt_client_destroy(c);

    /* refused (0x85 Client Identifier not valid) with an assigned id */
    memset(&B, 0, sizeof B);
    B.connack = "00 85 06 12 00 03 69 64 32";
    kmqtt_client_options_t o;
    kmqtt_client_options_init(&o);
    o.version = KMQTT_V5;
    o.transport = &TP;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.server_assigned_id = true;
    o.session_expiry_s = 60;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 2000, &ci), KMQTT_EREFUSED);
    assert_int_equal(ci.reason_code, 0x85);
    assert_string_equal(ci.assigned_client_id, "id2");
    kmqtt_client_info_t info;
    assert_int_equal(kmqtt_client_info(c, &info), KMQTT_OK);
    assert_string_not_equal(info.client_id, "id2");
    kmqtt_client_destroy(c);
}

/* The background thread (kmqtt_start) shows in kmqtt_client_info; a
 * publish with properties is still checked for its topic, QoS and payload. */
static void background_and_publish_checks(void **state)
{
    (void)state;
    kmqtt_client_t *c = connected("00 00 00", NULL);
    kmqtt_client_info_t info;
    kmqtt_publish_props_t p;
    memset(&p, 0, sizeof p);
    p.message_expiry_s = 5;
    assert_int_equal(kmqtt_publish(c, NULL, "x", 1, 0, false, &p, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 3, false, &p, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(c, "t", NULL, 1, 0, false, &p, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    assert_int_equal(kmqtt_client_info(c, &info), KMQTT_OK);
    assert_true(info.background);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
}

/* MQTT-3.9.3: a SUBACK failure code for a filter is KMQTT_ESUBFAIL with
 * each code in the result; 5.0 UNSUBACK codes are reported per filter
 * (0x11: no subscription existed). */
static void failed_subscriptions_and_unsubscriptions_are_reported(void **state)
{
    (void)state;
    kmqtt_client_t *c = connected("00 00 00", NULL);
    kmqtt_sub_request_t subs[2] = {{"a", 1, NULL, NULL}, {"b/#", 0, NULL, NULL}};
    kmqtt_subscribe_result_t sr;
    B.suback = "05 1f 00 02 6e 6f 01 87"; /* Reason String "no"; granted 1, Not authorized */
    assert_int_equal(kmqtt_subscribe(c, subs, 2, 2000, NULL, &sr), KMQTT_ESUBFAIL);
    assert_true(sr.has_reason);
    assert_string_equal(sr.reason_string, "no");
    assert_int_equal(sr.reason_codes[0], 0x01);
    assert_int_equal(sr.reason_codes[1], 0x87);
    const char *filters[] = {"a", "c"};
    kmqtt_unsubscribe_result_t ur;
    B.unsuback = "00 00 11";
    assert_int_equal(kmqtt_unsubscribe(c, filters, 2, 2000, NULL, &ur), KMQTT_OK);
    assert_int_equal(ur.reason_codes[1], 0x11);
    B.unsuback = "00 87"; /* Not authorized */
    assert_int_equal(kmqtt_unsubscribe(c, filters, 1, 2000, NULL, &ur), KMQTT_ESUBFAIL);
    assert_int_equal(ur.reason_codes[0], 0x87);
    kmqtt_client_destroy(c);
}

/* 3.4.2.1: a PUBACK's reason code reaches kmqtt_publish_wait; 0x10 (no
 * matching subscribers) is a success. */
static void puback_reason_reaches_the_waiter(void **state)
{
    (void)state;
    kmqtt_client_t *c = connected("00 00 00", NULL);
    kmqtt_publish_result_t res;
    uint8_t reason = 0xff;
    B.puback = "10 05 1f 00 02 6e 6f"; /* 0x10, Reason String "no" */
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 1, false, NULL, &res), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait(c, res.packet_id, 2000, &reason), KMQTT_OK);
    assert_int_equal(reason, 0x10);
    kmqtt_client_destroy(c);
}

static char auth_reason[8], done_reason[8];
static int auth_calls;

/* The application's side of enhanced authentication: it answers "r1" and
 * notes the Reason String the server's AUTH carried. */
static kmqtt_err_t on_auth(kmqtt_client_t *c, uint8_t reason, const kmqtt_bin_t *server_data,
                           uint8_t *out, size_t cap, size_t *out_len, void *ctx)
{
    kmqtt_str_t rs;
    (void)server_data;
    (void)ctx;
    auth_calls++;
    memset(auth_reason, 0, sizeof auth_reason);
    if (kmqtt_client_reason_string(c, &rs) && rs.len < sizeof auth_reason)
        memcpy(auth_reason, rs.ptr, rs.len);
    if (reason == 0x18) {
        assert_true(cap >= 2);
        out[0] = 'r';
        out[1] = '1';
        *out_len = 2;
    }
    return KMQTT_OK;
}

static void on_done(kmqtt_client_t *c, uint16_t id, kmqtt_err_t err, uint8_t reason, void *ctx)
{
    kmqtt_str_t rs;
    (void)id;
    (void)err;
    (void)reason;
    (void)ctx;
    memset(done_reason, 0, sizeof done_reason);
    if (kmqtt_client_reason_string(c, &rs) && rs.len < sizeof done_reason)
        memcpy(done_reason, rs.ptr, rs.len);
}

static kmqtt_err_t on_auth_refuses(kmqtt_client_t *c, uint8_t reason,
                                   const kmqtt_bin_t *server_data, uint8_t *out, size_t cap,
                                   size_t *out_len, void *ctx)
{
    (void)c;
    (void)reason;
    (void)server_data;
    (void)out;
    (void)cap;
    (void)out_len;
    (void)ctx;
    auth_calls++;
    return KMQTT_EREFUSED;
}

static kmqtt_client_t *with_auth(kmqtt_auth_fn fn)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_client_options_init(&o);
    o.version = KMQTT_V5;
    o.client_id = "script";
    o.transport = &TP;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.auth_method = "m";
    o.auth_data = "c0";
    o.auth_data_len = 2;
    o.on_auth = fn;
    o.on_publish_done = on_done;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    return c;
}

/* 4.12 Enhanced authentication: the server's AUTH 0x18 (continue) reaches
 * on_auth with its Reason String readable (kmqtt_client_reason_string),
 * the answer goes as AUTH, and the CONNACK follows; a re-authentication
 * (0x19) the server accepts with AUTH 0x00 (MQTT-4.12.1-1) returns OK and
 * calls on_auth once more. Without on_auth a server's step ends the
 * connection: nobody can answer it. The Reason String of a PUBACK is
 * readable in on_publish_done. */
static void enhanced_authentication_steps(void **state)
{
    (void)state;
    memset(&B, 0, sizeof B);
    auth_calls = 0;
    B.connect_auth = "18 0e 15 00 01 6d 16 00 02 63 31 1f 00 02 67 6f";
    B.connack = "00 00 04 15 00 01 6d";
    kmqtt_client_t *c = with_auth(on_auth);
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    assert_int_equal(auth_calls, 1);
    assert_string_equal(auth_reason, "go");
    assert_int_equal(B.auths, 1);
    B.auth_reply = "00 04 15 00 01 6d";
    assert_int_equal(kmqtt_reauthenticate(c, "c2", 2, 2000, NULL), KMQTT_OK);
    assert_int_equal(B.auths, 2);
    assert_int_equal(auth_calls, 2);
    B.puback = "10 05 1f 00 02 6e 6f";
    kmqtt_publish_result_t res;
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 1, false, NULL, &res), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait(c, res.packet_id, 2000, NULL), KMQTT_OK);
    assert_string_equal(done_reason, "no");
    kmqtt_client_destroy(c);

    memset(&B, 0, sizeof B);
    B.connect_auth = "18 0e 15 00 01 6d 16 00 02 63 31 1f 00 02 67 6f";
    B.connack = "00 00 04 15 00 01 6d";
    c = with_auth(NULL);
    assert_int_not_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    assert_int_equal(B.auths, 0);
    kmqtt_client_destroy(c);

    /* on_auth gives up: no answer goes, the attempt fails */
    memset(&B, 0, sizeof B);
    auth_calls = 0;
    B.connect_auth = "18 0e 15 00 01 6d 16 00 02 63 31 1f 00 02 67 6f";
    B.connack = "00 00 04 15 00 01 6d";
    c = with_auth(on_auth_refuses);
    assert_int_not_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    assert_int_equal(auth_calls, 1);
    assert_int_equal(B.auths, 0);
    kmqtt_client_destroy(c);

    /* a re-authentication accepted without on_auth */
    memset(&B, 0, sizeof B);
    B.connack = "00 00 04 15 00 01 6d";
    c = with_auth(NULL);
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    B.auth_reply = "00 04 15 00 01 6d";
    assert_int_equal(kmqtt_reauthenticate(c, NULL, 0, 2000, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
}

/* 4.10 Request / Response through kmqtt_request: the reply with the
 * request's Correlation Data comes back in reply; one larger than
 * reply_cap is KMQTT_ENOBUFS with its size; no reply is KMQTT_ETIMEDOUT. */
static void request_and_its_reply(void **state)
{
    (void)state;
    char reply[8];
    size_t len = 0;
    kmqtt_client_t *c = connected("00 00 00", NULL);
    B.suback = "00 01";
    B.puback = "00";
    B.echo = true;
    B.echo_payload = "pong";
    assert_int_equal(kmqtt_request(c, "svc", "ping", 4, 1, "me/r", 2000, reply, sizeof reply, &len),
                     KMQTT_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(reply, "pong", 4);
    B.echo_payload = "a reply too long";
    assert_int_equal(kmqtt_request(c, "svc", "ping", 4, 1, "me/r", 2000, reply, sizeof reply, &len),
                     KMQTT_ENOBUFS);
    assert_int_equal(len, 16);
    B.echo = false;
    assert_int_equal(kmqtt_request(c, "svc", "ping", 4, 0, "me/r", 50, reply, sizeof reply, &len),
                     KMQTT_ETIMEDOUT);
    kmqtt_client_destroy(c);
}

/* A broker that stops answering: subscribe, unsubscribe, re-authentication
 * and flush give up at their timeout with KMQTT_ETIMEDOUT; a CONNACK
 * query before any CONNACK is KMQTT_ENOTCONN. */
static void silent_broker_times_out(void **state)
{
    (void)state;
    kmqtt_connack_info_t ci;
    kmqtt_client_t *c = with_auth(on_auth);
    assert_int_equal(kmqtt_client_connack(c, &ci), KMQTT_ENOTCONN);
    kmqtt_client_destroy(c);
    memset(&B, 0, sizeof B);
    B.connack = "00 00 04 15 00 01 6d";
    c = with_auth(on_auth);
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_OK);
    B.silent = true;
    kmqtt_sub_request_t sub = {"a", 1, NULL, NULL};
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, 50, NULL, NULL), KMQTT_ETIMEDOUT);
    const char *f[] = {"a"};
    assert_int_equal(kmqtt_unsubscribe(c, f, 1, 50, NULL, NULL), KMQTT_ETIMEDOUT);
    assert_int_equal(kmqtt_reauthenticate(c, "d", 1, 50, NULL), KMQTT_ETIMEDOUT);
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_flush(c, 50), KMQTT_ETIMEDOUT);
    kmqtt_client_destroy(c);
}

/* A refused CONNACK (reason) with a Server Reference ref: its hex. */
static const char *refused_with(uint8_t reason, const char *ref)
{
    static char hex[2][160];
    static int slot;
    char *h = hex[slot++ & 1];
    size_t n = strlen(ref), off;
    off =
        (size_t)snprintf(h, 160, "00 %02x %02x 1c 00 %02x", reason, (unsigned)(n + 3), (unsigned)n);
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(h + off, 160 - off, " %02x", (unsigned char)ref[i]);
    return h;
}

/* Connects with the first CONNACK refused as given; the second accepts.
 * Returns kmqtt_connect's result; B.opens says how many opens there were. */
static kmqtt_err_t connect_redirected(const char *first, uint8_t hops)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    memset(&B, 0, sizeof B);
    B.connacks[0] = first;
    B.connacks[1] = "00 00 00";
    kmqtt_client_options_init(&o);
    o.version = KMQTT_V5;
    o.client_id = "script";
    o.host = "h1";
    o.transport = &TP;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.redirect_max_hops = hops;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_err_t err = kmqtt_connect(c, 2000, NULL);
    kmqtt_client_destroy(c);
    return err;
}

/* 4.11 Server redirection: a CONNACK 0x9C (Use another server) or 0x9D
 * (Server moved) with a Server Reference "host[:port]" or "[v6]:port" is
 * followed at once; a reference that is not one, another reason, or a hop
 * over the limit is not, and the refusal is the result. */
static void server_references_are_followed_or_not(void **state)
{
    (void)state;
    assert_int_equal(connect_redirected(refused_with(0x9c, "h2:1884"), 2), KMQTT_OK);
    assert_int_equal(B.opens, 2);
    assert_string_equal(B.hosts[1], "h2");
    assert_int_equal(B.ports[1], 1884);
    assert_int_equal(connect_redirected(refused_with(0x9d, " [::1]:1885 h9:1"), 2), KMQTT_OK);
    assert_string_equal(B.hosts[1], "::1");
    assert_int_equal(B.ports[1], 1885);
    assert_int_equal(connect_redirected(refused_with(0x9c, "[::2]"), 2), KMQTT_OK);
    assert_string_equal(B.hosts[1], "::2");
    assert_int_equal(B.ports[1], 1883);
    assert_int_equal(connect_redirected(refused_with(0x9c, "h3"), 2), KMQTT_OK);
    assert_string_equal(B.hosts[1], "h3");
    assert_int_equal(B.ports[1], 1883);
    static const char *const bad[] = {"   ",   "[]:1",  "[::1",   "[::1]x", ":1",
                                      "a:1:2", "a:[1]", "a/b:1",  "a:",     "a:123456",
                                      "a:0",   "a:7x",  "a:70000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kmqtt_err_t err = connect_redirected(refused_with(0x9c, bad[i]), 2);
        if (err != KMQTT_EREFUSED || B.opens != 1)
            fail_msg("reference \"%s\" followed (%d, %d opens)", bad[i], (int)err, B.opens);
    }
    /* another reason: the reference is only information */
    assert_int_equal(connect_redirected(refused_with(0x87, "h2:1884"), 2), KMQTT_EREFUSED);
    assert_int_equal(B.opens, 1);
    /* no redirects asked for */
    assert_int_equal(connect_redirected(refused_with(0x9c, "h2:1884"), 0), KMQTT_EREFUSED);
    assert_int_equal(B.opens, 1);
    /* the hop limit: the second refusal is not followed */
    memset(&B, 0, sizeof B);
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    B.connacks[0] = refused_with(0x9c, "h2:1884");
    B.connacks[1] = refused_with(0x9c, "h3:1885");
    B.connacks[2] = "00 00 00";
    kmqtt_client_options_init(&o);
    o.version = KMQTT_V5;
    o.client_id = "script";
    o.transport = &TP;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.redirect_max_hops = 1;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 2000, NULL), KMQTT_EREFUSED);
    assert_int_equal(B.opens, 2);
    kmqtt_client_destroy(c);
}

/* 3.14: a server DISCONNECT (here right after a SUBACK) ends the
 * connection; on_disconnect hears its reason (0x9c Use another server, with
 * a Server Reference and a Reason String). */
static void server_disconnect_reaches_the_application(void **state)
{
    (void)state;
    kmqtt_client_t *c = connected("00 00 00", NULL);
    kmqtt_sub_request_t sub = {"a", 0, NULL, NULL};
    B.suback = "00 00";
    B.after_sub = "e0 0c 9c 0a 1c 00 02 73 32 1f 00 02 67 6f";
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, 2000, NULL, NULL), KMQTT_OK);
    kmqtt_run(c, 200);
    assert_int_equal(disconnects, 1);
    assert_int_equal(disconnect_reason, 0x9c);
    assert_string_equal(disconnect_ref, "s2");
    assert_int_not_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    kmqtt_client_destroy(c);
}
#endif

int main(void)
{
#if KMQTT_CFG_V5
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connack_properties_are_reported),
        cmocka_unit_test(failed_subscriptions_and_unsubscriptions_are_reported),
        cmocka_unit_test(long_connack_strings_are_dropped_not_cut),
        cmocka_unit_test(background_and_publish_checks),
        cmocka_unit_test(puback_reason_reaches_the_waiter),
        cmocka_unit_test(server_disconnect_reaches_the_application),
        cmocka_unit_test(server_references_are_followed_or_not),
        cmocka_unit_test(enhanced_authentication_steps),
        cmocka_unit_test(request_and_its_reply),
        cmocka_unit_test(silent_broker_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#else
    return 0;
#endif
}
