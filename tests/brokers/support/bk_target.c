/*
 * The broker suite's target and shared helpers (see bk_target.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bk_target.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

bk_target_t bk;

/* A node whose MQTT port accepts may still refuse CONNECT for a while:
 * RabbitMQ answers CONNACK 0x03 (Server unavailable) until its vhost and
 * users are loaded on that node (seen once in ten runs on 2 cores). So the
 * suite starts only when every node has accepted a real CONNECT, retried
 * until deadline_ms. */
static int wait_mqtt(uint64_t *waited_ms)
{
    const unsigned deadline_ms = 60000, step_ms = 200;
    unsigned spent = 0;
    int i;

    for (i = 0; i < bk_count(bk.cl); i++) {
        for (;;) {
            kmqtt_client_options_t o;
            kmqtt_client_t *c = NULL;
            kmqtt_connack_info_t info;
            kmqtt_err_t err;
            char ids[64];

            bk_options(&o, i, KMQTT_V311, "probe", ids);
            o.reconnect = KMQTT_RECONNECT_OFF;
            if (kmqtt_client_create(&o, &c) != KMQTT_OK)
                return -1;
            memset(&info, 0, sizeof info);
            err = kmqtt_connect(c, 0, &info);
            if (err == KMQTT_OK)
                (void)kmqtt_disconnect(c, NULL);
            kmqtt_client_destroy(c);
            if (err == KMQTT_OK)
                break;
            if (spent >= deadline_ms) {
                fprintf(stderr, "bk: %s node %d refuses CONNECT after %u ms: %s (0x%02x)\n",
                        bk_kind_name(bk_kind(bk.cl)), i, spent, kmqtt_strerror(err),
                        (unsigned)info.reason_code);
                return -1;
            }
            usleep(step_ms * 1000u);
            spent += step_ms;
        }
    }
    *waited_ms = spent;
    return 0;
}

int bk_group_setup(bk_kind_t kind, int nodes)
{
    uint64_t boot = 0, mqtt_wait = 0;

    memset(&bk, 0, sizeof bk);
    warm_up_threads();
    if (it_parent_init(&bk.parent) != 0)
        return -1;
    snprintf(bk.run_id, sizeof bk.run_id, "%ld", (long)getpid());
    bk.max_qos = 2;
    bk.retained_cluster_wide = true;
    bk.v5 = kind == BK_MOSQUITTO || kind == BK_EJABBERD;
    if (kind == BK_EJABBERD)
        bk.username = "kmqtt";
    bk.cl = bk_start(kind, nodes, &boot);
    if (bk.cl == NULL) {
        fprintf(stderr, "bk: %s (%d nodes) did not start\n", bk_kind_name(kind), nodes);
        return -1;
    }
    if (wait_mqtt(&mqtt_wait) != 0) {
        bk_stop(bk.cl);
        bk.cl = NULL;
        return -1;
    }
    /* How long the boot takes is what keeps make test-brokers short or not;
     * it goes in the run's log (docs/brokers.md). */
    printf("bk: %s: %d node(s) ready in %llu ms (CONNECT refused for %llu ms more): %s\n",
           bk_kind_name(kind), nodes, (unsigned long long)boot, (unsigned long long)mqtt_wait,
           bk_servers(bk.cl));
    fflush(stdout);
    return 0;
}

int bk_group_teardown(void)
{
    bk_stop(bk.cl);
    bk.cl = NULL;
    return 0;
}

int bk_sub_node(void)
{
    return bk_count(bk.cl) - 1;
}

void bk_options(kmqtt_client_options_t *o, int node, kmqtt_version_t version, const char *prefix,
                char ids[64])
{
    kmqtt_client_options_init(o);
    o->host = "127.0.0.1";
    o->port = bk_port(bk.cl, node);
    o->version = version;
    snprintf(ids, 64, "%s-%s", prefix, bk.run_id);
    o->client_id = ids;
    o->connect_timeout_ms = 10000;
    o->mem = &bk.parent;
    if (bk.username != NULL) {
        o->username = bk.username;
        o->password = "x";
        o->password_len = 1;
    }
}

const char *bk_topic(char out[128], const char *leaf)
{
    snprintf(out, 128, "kbk/%s/%s", bk.run_id, leaf);
    return out;
}

kmqtt_client_t *bk_connect(const kmqtt_client_options_t *o, kmqtt_connack_info_t *info)
{
    kmqtt_client_t *c = NULL;
    kmqtt_connack_info_t local;
    kmqtt_err_t err;

    assert_int_equal(kmqtt_client_create(o, &c), KMQTT_OK);
    err = kmqtt_connect(c, 0, info != NULL ? info : &local);
    if (err != KMQTT_OK) {
        print_error("connect %s to %s:%u: %s (reason 0x%02x)\n", o->client_id, o->host,
                    (unsigned)o->port, kmqtt_strerror(err),
                    (unsigned)(info != NULL ? info : &local)->reason_code);
        bk_print_logs(bk.cl, NULL);
        kmqtt_client_destroy(c);
        fail();
    }
    return c;
}

uint8_t bk_subscribe(kmqtt_client_t *c, const char *filter, uint8_t qos, it_rec_t *r)
{
    kmqtt_sub_request_t s;
    kmqtt_subscribe_result_t res;
    kmqtt_err_t err;

    s.filter = filter;
    s.qos = qos;
    s.handler = it_rec_handler;
    s.ctx = r;
    err = kmqtt_subscribe(c, &s, 1, 10000, NULL, &res);
    if (err != KMQTT_OK && err != KMQTT_ESUBFAIL)
        fail_msg("subscribe %s: %s", filter, kmqtt_strerror(err));
    return res.reason_codes[0];
}

const char *bk_payload(char buf[32], unsigned i)
{
    snprintf(buf, 32, "m%u", i);
    return buf;
}

void bk_departure(const char *statement, const char *what)
{
    printf("departure: %s: %s: %s\n", bk_kind_name(bk_kind(bk.cl)), statement, what);
    fflush(stdout);
}
