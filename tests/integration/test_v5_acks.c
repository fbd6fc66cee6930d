/*
 * Reason strings on acknowledgements (5.0): neither mosquitto nor the
 * broker double sends one, so a tiny scripted server built on the codec
 * answers a QoS 1 PUBLISH with PUBACK 0x10 (No matching subscribers) and a
 * Reason String, and a QoS 2 PUBLISH with PUBREC 0x97 (Quota exceeded)
 * and another. The application reads each during on_publish_done with
 * kmqtt_client_reason_string, and nowhere else.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"
#include "raw_peer.h"

#define WAIT_MS 5000u

static kmqtt_mem_t parent;

/* ------------------------------------------------------ scripted server */

typedef struct acker {
    int lfd;
    uint16_t port;
    pthread_t th;
    int ok; /* the script ran to the end */
} acker_t;

/* An ack with a reason code and a Reason String. */
static int send_ack(int fd, kmqtt_packet_type_t type, uint16_t id, uint8_t rc, const char *why)
{
    kmqtt_packet_t p;
    kmqtt_prop_t rs;

    memset(&p, 0, sizeof p);
    raw_str_prop(&rs, KMQTT_PROP_REASON_STRING, why);
    p.type = type;
    p.u.ack.packet_id = id;
    p.u.ack.reason_code = rc;
    p.u.ack.props.items = &rs;
    p.u.ack.props.count = 1;
    return raw_send_packet(fd, &p);
}

static void *acker_main(void *arg)
{
    acker_t *a = arg;
    uint8_t buf[512];
    kmqtt_packet_t p;
    size_t used;
    long n;
    int fd = accept(a->lfd, NULL, NULL);
    int publishes = 0;

    if (fd < 0)
        return NULL;
    while ((n = raw_read_packet(fd, buf, sizeof buf, 5000)) > 0) {
        if (kmqtt_packet_decode(buf, (size_t)n, KMQTT_V5, 0, &p, &used) != KMQTT_OK)
            break;
        if (p.type == KMQTT_CONNECT) {
            memset(&p, 0, sizeof p);
            p.type = KMQTT_CONNACK;
            if (raw_send_packet(fd, &p) != 0)
                break;
        } else if (p.type == KMQTT_PUBLISH && p.u.publish.qos == 1) {
            if (send_ack(fd, KMQTT_PUBACK, p.u.publish.packet_id, 0x10, "nobody listens") != 0)
                break;
            publishes++;
        } else if (p.type == KMQTT_PUBLISH && p.u.publish.qos == 2) {
            /* a failure code ends the QoS 2 exchange at PUBREC (4.3.3) */
            if (send_ack(fd, KMQTT_PUBREC, p.u.publish.packet_id, 0x97, "quota used up") != 0)
                break;
            publishes++;
        } else if (p.type == KMQTT_DISCONNECT) {
            a->ok = publishes == 2;
            break;
        }
    }
    close(fd);
    return NULL;
}

static acker_t *acker_start(void)
{
    static acker_t a;

    memset(&a, 0, sizeof a);
    a.lfd = raw_listen(1, &a.port);
    assert_true(a.lfd >= 0);
    assert_int_equal(pthread_create(&a.th, NULL, acker_main, &a), 0);
    return &a;
}

static int acker_stop(acker_t *a)
{
    pthread_join(a->th, NULL);
    close(a->lfd);
    return a->ok;
}

/* ------------------------------------------------------------- the test */

typedef struct seen {
    int n;
    uint8_t code[2];
    char why[2][32];
} seen_t;

static void on_done(kmqtt_client_t *c, uint16_t id, kmqtt_err_t err, uint8_t reason, void *ctx)
{
    seen_t *s = ctx;
    /* static: gcc 12 -O3 takes a pointer read out of a local that was passed
     * by address for one to the local itself (-Wdangling-pointer). */
    static kmqtt_str_t rs;

    (void)id;
    (void)err;
    if (s->n >= 2)
        return;
    s->code[s->n] = reason;
    rs.ptr = NULL;
    rs.len = 0;
    if (kmqtt_client_reason_string(c, &rs)) {
        size_t n = rs.len < sizeof s->why[0] - 1 ? rs.len : sizeof s->why[0] - 1;
        memcpy(s->why[s->n], rs.ptr, n);
        s->why[s->n][n] = '\0';
    }
    s->n++;
}

static bool two_done(void *arg)
{
    return ((seen_t *)arg)->n >= 2;
}

static void test_ack_reason_strings_during_publish_done(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    it_baseline_t base;
    acker_t *a;
    seen_t seen;
    kmqtt_str_t rs;

    (void)state;
    it_take_baseline(&parent, &base);
    a = acker_start();
    memset(&seen, 0, sizeof seen);
    it_options(&o, NULL, "it-v5-acks");
    o.port = a->port;
    o.version = KMQTT_V5;
    o.mem = &parent;
    o.on_publish_done = on_done;
    o.ctx = &seen;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, "acks/1", "x", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, "acks/2", "y", 1, 2, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(it_pump(c, WAIT_MS, two_done, &seen), KMQTT_OK);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.code[0], 0x10);
    assert_string_equal(seen.why[0], "nobody listens");
    assert_int_equal(seen.code[1], 0x97);
    assert_string_equal(seen.why[1], "quota used up");
    /* Outside the callback there is none. */
    assert_false(kmqtt_client_reason_string(c, &rs));
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    assert_true(acker_stop(a));
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "ack reason strings", 0);
}

static int setup(void **state)
{
    (void)state;
    return it_group_init(&parent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ack_reason_strings_during_publish_done),
    };
    return cmocka_run_group_tests_name("v5 ack reason strings", tests, setup, NULL);
}
