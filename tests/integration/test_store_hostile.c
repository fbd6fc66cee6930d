/*
 * Planted records in the file store against a real mosquitto (issue 14,
 * DESIGN.md rule 7). Records with a valid CRC, written through the store's
 * own put, that are not what their key says — a PUBLISH followed by a
 * SUBSCRIBE to '#', a SUBSCRIBE alone, a PUBLISH under another packet id, a
 * truncated PUBLISH, a 5.0 PUBLISH for a 3.1.1 client, a queued message to a
 * wildcard topic — sit beside good ones. A client restoring the store must
 * deliver the good messages, reject the others (counted, removed), and put
 * nothing else on the wire: mosquitto's log (log_type all) shows every
 * packet it received from the client, and a subscriber to "st/#" sees only
 * the good messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "kmqtt/store.h"

#define WAIT_MS    10000u
#define KEY_QUEUED 0x01000000u
#define KEY_OUT    0x02000000u

static int start_broker(void **state)
{
    broker_opts_t o;
    memset(&o, 0, sizeof(o));
    o.log_all = true;
    *state = broker_start(&o);
    return *state != NULL ? 0 : -1;
}

static int stop_broker(void **state)
{
    broker_stop(*state);
    return 0;
}

/* Bytes from hex digits (spaces ignored) into out; returns the count. */
static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned v;
    while (*hex != '\0' && n < cap) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* A flow record (src/client/client_persist.c): order, from_seq, flags,
 * then the bytes. flags 0: the format of records written before issue 14,
 * which the old restore took on the strength of their first byte. */
static void put_flow(kmqtt_store_t *st, uint16_t id, uint32_t order, uint8_t flags, const char *hex)
{
    uint8_t b[128] = {0};
    size_t n;
    b[0] = (uint8_t)order;
    b[8] = flags;
    n = 9 + from_hex(hex, b + 9, sizeof b - 9);
    assert_int_equal(st->put(st->ctx, KEY_OUT | id, b, n), KMQTT_OK);
}

static void put_queued(kmqtt_store_t *st, uint32_t seq, const char *topic, const char *payload)
{
    uint8_t b[128];
    size_t tl = strlen(topic), pl = strlen(payload);
    memset(b, 0, 8);
    b[0] = (uint8_t)seq;
    b[4] = 1; /* QoS 1 */
    b[6] = (uint8_t)tl;
    memcpy(b + 8, topic, tl);
    memcpy(b + 8 + tl, payload, pl);
    assert_int_equal(st->put(st->ctx, KEY_QUEUED | seq, b, 8 + tl + pl), KMQTT_OK);
}

/* Counts the message records: not the server caps record (0x04000000,
 * issue #18), which stays for the next process's pipelined connect. */
static kmqtt_err_t count_rec(void *arg, uint32_t key, size_t len)
{
    (void)len;
    if (key != 0x04000000u)
        (*(int *)arg)++;
    return KMQTT_OK;
}

static void test_planted_records_never_reach_the_broker(void **state)
{
    broker_t *b = *state;
    char dir[] = "/tmp/kmqtt-hostile-XXXXXX";
    char cmd[64];
    kmqtt_mem_t mem;
    kmqtt_store_t st;
    kmqtt_client_options_t o;
    kmqtt_client_t *w = NULL, *c = NULL;
    kmqtt_persist_stats_t ps;
    kmqtt_sub_request_t req;
    it_rec_t rec;
    int i, left = 0;
    bool seen[3] = {false, false, false};
    static const char *const good[3] = {"st/good1", "st/good2", "st/queued"};

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(kmqtt_mem_init(&mem, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_store_file_create(&mem, dir, NULL, NULL, &st), KMQTT_OK);

    /* Good: QoS 1 id 1 "st/good1" (flags: 3.1.1, QoS 1), QoS 2 id 2
     * "st/good2" (an old-format record), a queued QoS 1 "st/queued". */
    put_flow(&st, 1, 1, 0x42, "32 0e 00 08 73 74 2f 67 6f 6f 64 31 00 01 67 31");
    put_flow(&st, 2, 2, 0, "34 0e 00 08 73 74 2f 67 6f 6f 64 32 00 02 67 32");
    put_queued(&st, 1, "st/queued", "q1");
    /* Planted: a PUBLISH with a SUBSCRIBE to '#' after it; a SUBSCRIBE; a
     * PUBLISH with id 7 under key 6; a truncated PUBLISH; a 5.0 PUBLISH
     * (property block) for this 3.1.1 client; a queued wildcard topic. */
    put_flow(&st, 3, 3, 0, "32 0a 00 06 73 74 2f 62 61 64 00 03  82 06 00 04 00 01 23 00");
    put_flow(&st, 5, 4, 0, "82 06 00 05 00 01 23 00");
    put_flow(&st, 6, 5, 0, "32 0e 00 08 73 74 2f 77 72 6f 6e 67 00 07 78 78");
    put_flow(&st, 8, 6, 0, "32 0e 00 08 73 74 2f 74 72 75 6e 63 00 08 78");
    put_flow(&st, 9, 7, 0x52, "32 0c 00 05 73 74 2f 76 35 00 09 00 78 78");
    put_queued(&st, 2, "st/+", "q2");

    it_rec_init(&rec);
    it_options(&o, b, "hostile-watch");
    o.on_message = it_rec_handler;
    o.ctx = &rec;
    assert_int_equal(kmqtt_client_create(&o, &w), KMQTT_OK);
    assert_int_equal(kmqtt_connect(w, WAIT_MS, NULL), KMQTT_OK);
    memset(&req, 0, sizeof req);
    req.filter = "st/#";
    req.qos = 2;
    assert_int_equal(kmqtt_subscribe(w, &req, 1, WAIT_MS, NULL, NULL), KMQTT_OK);

    it_options(&o, b, "hostile-restore");
    o.clean_session = false;
    o.store = &st;
    o.offline_queue_max_msgs = 8;
    o.offline_queue_max_bytes = 4096;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_persist_stats(c, &ps);
    printf("old: inflight %u queued %u rejected %u\n", ps.restored_inflight, ps.restored_queued,
           ps.rejected);

    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_flush(c, WAIT_MS), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    assert_true(broker_log_wait(b, "Received DISCONNECT from hostile-restore", 1, WAIT_MS));

    /* What mosquitto received from the restoring client: the three good
     * PUBLISHes and their acks, no SUBSCRIBE, no PUBLISH of another id. */
    assert_int_equal(broker_log_count(b, "Received SUBSCRIBE from hostile-restore"), 0);
    assert_int_equal(broker_log_count(b, "Received PUBLISH from hostile-restore"), 3);
    assert_int_equal(broker_log_count(b, "Received PUBREL from hostile-restore"), 1);
    assert_int_equal(broker_log_count(b, "st/wrong"), 0);
    assert_int_equal(broker_log_count(b, "st/bad"), 0);

    /* The subscriber: the three good messages, then our own marker (sent
     * after the restoring client left, so anything it routed came first). */
    assert_int_equal(kmqtt_publish(w, "st/zz-end", "end", 3, 1, false, NULL, NULL), KMQTT_OK);
    assert_true(it_wait_msgs(w, &rec, 4, WAIT_MS));
    assert_int_equal(it_rec_count(&rec), 4);
    for (i = 0; i < 3; i++) {
        int k;
        for (k = 0; k < 3; k++) {
            if (strcmp(rec.msgs[i].topic, good[k]) == 0)
                seen[k] = true;
        }
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    assert_string_equal(rec.msgs[3].topic, "st/zz-end");

    /* The planted records are gone, the good ones acknowledged: empty. */
    assert_int_equal(st.list(st.ctx, count_rec, &left), KMQTT_OK);
    assert_int_equal(left, 0);

    kmqtt_client_destroy(w);
    it_rec_destroy(&rec);
    st.destroy(st.ctx);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_records_never_reach_the_broker),
    };
    return cmocka_run_group_tests(tests, start_broker, stop_broker);
}
