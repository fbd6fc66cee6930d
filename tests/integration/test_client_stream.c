/*
 * The threaded client receives a 1 MiB message with a 1 KB receive buffer
 * (issue #19): on_message_piece gets BEGIN, DATA..., END from a real
 * mosquitto (the message sent by mosquitto_pub -f), and the CRC-32 of the
 * pieces is the file's; QoS 1 in 3.1.1, QoS 2 in 5.0 (where mosquitto sends
 * it only because the CONNECT's Maximum Packet Size is the application's,
 * not the buffer's: MQTT-3.1.2-25 would have it dropped). Without the
 * option, a maximum_packet_size above the buffer is still refused. And
 * 1 MiB sent by kmqtt_publish_reader through a 1 KB send buffer arrives
 * intact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"
#include "kmqtt/client.h"
#include "kmqtt/store.h" /* kmqtt_crc32 */

#define MIB (1024u * 1024u)

static broker_t *broker;
static kmqtt_mem_t parent;
static char path[64];
static uint32_t file_crc;
static uint8_t *file_bytes; /* the file's bytes, for the reader */

/* What on_message_piece saw (the loop's thread writes, the test reads
 * after it stopped or under mu). */
typedef struct pieces {
    pthread_mutex_t mu;
    int begins, ends, aborts, datas, smalls;
    size_t bytes, total, max_len;
    uint32_t crc;
    bool gap;
    char topic[64];
} pieces_t;

static int group_setup(void **state)
{
    (void)state;
    broker = it_group_broker(&parent, NULL);
    if (broker == NULL)
        return -1;
    uint8_t *buf = malloc(MIB);
    if (buf == NULL)
        return -1;
    uint32_t x = 88172645u;
    for (size_t i = 0; i < MIB; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)(x >> 7);
    }
    file_crc = kmqtt_crc32(0, buf, MIB);
    file_bytes = buf;
    snprintf(path, sizeof path, "/tmp/kmqtt-cstream-XXXXXX");
    int fd = mkstemp(path);
    bool ok = fd >= 0 && write(fd, buf, MIB) == (ssize_t)MIB;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(path);
    free(file_bytes);
    broker_stop(broker);
    return 0;
}

static void on_piece(kmqtt_client_t *c, const kmqtt_message_piece_t *p, void *ctx)
{
    pieces_t *r = ctx;
    (void)c;
    pthread_mutex_lock(&r->mu);
    switch (p->kind) {
    case KMQTT_PIECE_BEGIN:
        r->begins++;
        r->bytes = 0;
        r->crc = 0;
        r->total = p->total;
        if (p->msg != NULL && p->msg->topic.len < sizeof r->topic) {
            memcpy(r->topic, p->msg->topic.ptr, p->msg->topic.len);
            r->topic[p->msg->topic.len] = '\0';
        }
        break;
    case KMQTT_PIECE_DATA:
        if (p->offset != r->bytes)
            r->gap = true;
        r->datas++;
        if (p->len > r->max_len)
            r->max_len = p->len;
        r->crc = kmqtt_crc32(r->crc, p->data, p->len);
        r->bytes += p->len;
        break;
    case KMQTT_PIECE_END:
        r->ends++;
        break;
    case KMQTT_PIECE_ABORT:
        r->aborts++;
        break;
    }
    pthread_mutex_unlock(&r->mu);
}

static void on_small(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    pieces_t *r = ctx;
    (void)c;
    (void)m;
    pthread_mutex_lock(&r->mu);
    r->smalls++;
    pthread_mutex_unlock(&r->mu);
}

static bool ended(void *ctx)
{
    pieces_t *r = ctx;
    pthread_mutex_lock(&r->mu);
    bool done = r->ends + r->aborts > 0;
    pthread_mutex_unlock(&r->mu);
    return done;
}

static bool small_seen(void *ctx)
{
    pieces_t *r = ctx;
    pthread_mutex_lock(&r->mu);
    bool done = r->smalls > 0;
    pthread_mutex_unlock(&r->mu);
    return done;
}

static void pub_file(const char *topic, int qos)
{
    char port[8], q[4];
    snprintf(port, sizeof port, "%u", (unsigned)broker_port(broker));
    snprintf(q, sizeof q, "%d", qos);
    char *argv[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t",
                    (char *)topic,   "-q", q,           "-f", path, NULL};
    char out[512];
    if (run_capture(argv, 30000, out, sizeof out) != 0)
        fail_msg("mosquitto_pub -f failed: %s", out);
}

static void receive_1mib(kmqtt_version_t version, uint8_t qos)
{
    it_baseline_t base;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    pieces_t r;
    char topic[64];

    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    it_take_baseline(&parent, &base);
    snprintf(topic, sizeof topic, "cit/stream/%d/%u", (int)version, (unsigned)qos);
    it_options(&o, broker, "cit-stream");
    o.version = version;
    o.mem = &parent;
    o.rx_buffer_size = 1024;
    o.on_message_piece = on_piece;
    o.on_message = on_small;
    o.ctx = &r;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 5000, NULL), KMQTT_OK);
    kmqtt_sub_request_t req = {topic, qos, NULL, NULL};
    assert_int_equal(kmqtt_subscribe(c, &req, 1, 5000, NULL, NULL), KMQTT_OK);
    uint64_t t0 = now_ms();
    pub_file(topic, qos);
    assert_int_equal(it_pump(c, 60000, ended, &r), KMQTT_OK);
    print_message("client %s QoS %u: 1 MiB through a 1 KB rx in %d pieces, %llu ms\n",
                  version == KMQTT_V5 ? "5.0" : "3.1.1", (unsigned)qos, r.datas,
                  (unsigned long long)(now_ms() - t0));
    assert_int_equal(r.begins, 1);
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.aborts, 0);
    assert_false(r.gap);
    assert_string_equal(r.topic, topic);
    assert_int_equal(r.total, MIB);
    assert_int_equal(r.bytes, MIB);
    assert_true(r.max_len <= 1024);
    assert_int_equal(r.crc, file_crc);
    /* Acknowledged, and the connection goes on: a small one comes whole. */
    assert_int_equal(broker_pub(broker, topic, "small", qos, false), 0);
    assert_int_equal(it_pump(c, 10000, small_seen, &r), KMQTT_OK);
    assert_int_equal(r.smalls, 1);
    assert_int_equal(r.begins, 1);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    pthread_mutex_destroy(&r.mu);
    it_expect_baseline(&parent, &base, "stream", 0);
}

static void test_client_1mib_qos1_v311(void **state)
{
    (void)state;
    receive_1mib(KMQTT_V311, 1);
}

static void test_client_1mib_qos2_v5(void **state)
{
    (void)state;
    receive_1mib(KMQTT_V5, 2);
}

/* The reader of kmqtt_publish_reader: the file's bytes, at most 300 at a
 * time; counts the reads and the restarts from offset 0. */
typedef struct src {
    unsigned reads, restarts;
    size_t end;
} src_t;

static long read_file_bytes(void *ctx, size_t offset, void *buf, size_t len)
{
    src_t *s = ctx;
    if (offset == 0 && s->end != 0)
        s->restarts++;
    if (len > 300)
        len = 300;
    if (offset + len > MIB)
        return KMQTT_EINVAL;
    memcpy(buf, file_bytes + offset, len);
    s->reads++;
    s->end = offset + len;
    return (long)len;
}

/* 1 MiB published from a reader through a 1 KB send buffer (and a 1 KB
 * store at QoS 1: only the header is kept), received by the same client in
 * pieces through a 1 KB receive buffer: the CRC-32 matches, the QoS 1
 * publish completes. */
static void send_1mib(kmqtt_version_t version, uint8_t qos)
{
    it_baseline_t base;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_publish_result_t res;
    pieces_t r;
    src_t src;
    char topic[64];

    memset(&r, 0, sizeof r);
    memset(&src, 0, sizeof src);
    pthread_mutex_init(&r.mu, NULL);
    it_take_baseline(&parent, &base);
    snprintf(topic, sizeof topic, "cit/up/%d/%u", (int)version, (unsigned)qos);
    it_options(&o, broker, "cit-up");
    o.version = version;
    o.mem = &parent;
    o.rx_buffer_size = 1024;
    o.tx_buffer_size = 1024;
    o.store_size = 1024;
    o.on_message_piece = on_piece;
    o.ctx = &r;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 5000, NULL), KMQTT_OK);
    kmqtt_sub_request_t req = {topic, qos, NULL, NULL};
    assert_int_equal(kmqtt_subscribe(c, &req, 1, 5000, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    uint64_t t0 = now_ms();
    assert_int_equal(kmqtt_publish_reader(c, topic, MIB, read_file_bytes, &src, qos, false, &res),
                     KMQTT_OK);
    if (qos > 0)
        assert_int_equal(kmqtt_publish_wait(c, res.packet_id, 60000, NULL), KMQTT_OK);
    assert_int_equal(it_pump(c, 60000, ended, &r), KMQTT_OK);
    print_message("client %s QoS %u: 1 MiB sent from a reader through a 1 KB tx (%u reads) and "
                  "received in pieces, %llu ms\n",
                  version == KMQTT_V5 ? "5.0" : "3.1.1", (unsigned)qos, src.reads,
                  (unsigned long long)(now_ms() - t0));
    assert_int_equal(src.restarts, 0);
    assert_int_equal(src.end, MIB);
    pthread_mutex_lock(&r.mu);
    assert_int_equal(r.begins, 1);
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.bytes, MIB);
    assert_int_equal(r.crc, file_crc);
    pthread_mutex_unlock(&r.mu);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    pthread_mutex_destroy(&r.mu);
    it_expect_baseline(&parent, &base, "stream up", 0);
}

static void test_client_sends_1mib_from_reader_qos1_v311(void **state)
{
    (void)state;
    send_1mib(KMQTT_V311, 1);
}

static void test_client_sends_1mib_from_reader_qos0_v5(void **state)
{
    (void)state;
    send_1mib(KMQTT_V5, 0);
}

/* Without on_message_piece the buffer is the limit, as before. */
static void test_client_max_packet_over_rx_needs_pieces(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    (void)state;
    it_options(&o, broker, "cit-stream-off");
    o.version = KMQTT_V5;
    o.mem = &parent;
    o.rx_buffer_size = 1024;
    o.maximum_packet_size = 4096;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_EINVAL);
    o.on_message_piece = on_piece;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_1mib_qos1_v311),
        cmocka_unit_test(test_client_1mib_qos2_v5),
        cmocka_unit_test(test_client_max_packet_over_rx_needs_pieces),
        cmocka_unit_test(test_client_sends_1mib_from_reader_qos1_v311),
        cmocka_unit_test(test_client_sends_1mib_from_reader_qos0_v5),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
