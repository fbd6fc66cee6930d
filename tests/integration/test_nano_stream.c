/*
 * The nano client receives a 1 MiB message through a 1 KB receive buffer
 * (issue #19): mosquitto_pub -f sends it through a real mosquitto, the nano
 * takes it in pieces (MESSAGE_BEGIN, CHUNKs, END) and the CRC-32 of the
 * pieces must be the file's, at QoS 1 and 2, in 3.1.1 and 5.0. With
 * streaming off the same message ends the connection (3.1.1) as before.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"
#include "nano_it.h"

#define MIB (1024u * 1024u)

static broker_t *broker;
static kmqtt_mem_t parent;
static nit_t nit;
static char path[64];
static uint32_t file_crc;

static int group_setup(void **state)
{
    (void)state;
    broker = it_group_broker(&parent, NULL);
    if (broker == NULL)
        return -1;
    /* 1 MiB of a pattern that no shift of it repeats (a lost or doubled
     * piece changes the CRC). */
    uint8_t *buf = malloc(MIB);
    if (buf == NULL)
        return -1;
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < MIB; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    file_crc = kmqtt_crc32(0, buf, MIB);
    snprintf(path, sizeof path, "/tmp/kmqtt-stream-XXXXXX");
    int fd = mkstemp(path);
    bool ok = fd >= 0 && write(fd, buf, MIB) == (ssize_t)MIB;
    if (fd >= 0)
        close(fd);
    free(buf);
    return ok ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(path);
    broker_stop(broker);
    return 0;
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

static void receive_1mib(uint8_t version, uint8_t qos)
{
    it_baseline_t base;
    char topic[64];
    it_take_baseline(&parent, &base);
    snprintf(topic, sizeof topic, "nit/stream/%u/%u", (unsigned)version, (unsigned)qos);
    nit_setup(&nit, &parent, broker_port(broker), "nit-stream");
    nit.cfg.mqtt.version = version;
    nit.bufs.rx_size = 1024;
    nit.cfg.mqtt.max_packet_size = 2 * MIB;
    nit_init(&nit);
    nit_connect(&nit);
    assert_int_equal(nit_subscribe(&nit, topic, qos), qos);
    uint64_t t0 = now_ms();
    pub_file(topic, qos);
    if (!nit_pump_until(&nit, &nit.piece_ends, 1, 60000))
        fail_msg("no END: %d begins, %zu bytes, lost %d (%s)", nit.piece_begins, nit.piece_bytes,
                 nit.lost, kmqtt_strerror(nit.lost_err));
    print_message("nano %s QoS %u: 1 MiB through a 1 KB rx in %d chunks, %llu ms (publish "
                  "included)\n",
                  version == KMQTT_V5 ? "5.0" : "3.1.1", (unsigned)qos, nit.piece_chunks,
                  (unsigned long long)(now_ms() - t0));
    assert_int_equal(nit.piece_begins, 1);
    assert_int_equal(nit.piece_aborts, 0);
    assert_false(nit.piece_gap);
    assert_int_equal(nit.piece_total, MIB);
    assert_int_equal(nit.piece_bytes, MIB);
    assert_int_equal(nit.piece_crc, file_crc);
    assert_int_equal(nit.lost, 0);
    assert_int_equal(nit.nmsgs, 0);
    /* Acknowledged: the broker has nothing left for us; the connection goes on. */
    assert_int_equal(nit_publish(&nit, topic, "small", qos, false, NULL), KMQTT_OK);
    assert_true(nit_pump_until(&nit, &nit.nmsgs, 1, 10000));
    assert_true(nit_msg_is(&nit, 0, topic, "small"));
    assert_int_equal(nit.piece_begins, 1);
    nit_teardown(&nit);
    it_expect_baseline(&parent, &base, "stream", 0);
}

static void test_nano_1mib_qos1_v311(void **state)
{
    (void)state;
    receive_1mib(KMQTT_V311, 1);
}

static void test_nano_1mib_qos2_v5(void **state)
{
    (void)state;
    receive_1mib(KMQTT_V5, 2);
}

static void test_nano_1mib_qos0_v5(void **state)
{
    (void)state;
    receive_1mib(KMQTT_V5, 0);
}

/* Streaming off: the 1 MiB message is larger than rx and ends the 3.1.1
 * connection with KMQTT_ETOOBIG, as it always did. */
static void test_nano_without_streaming_refuses(void **state)
{
    it_baseline_t base;
    (void)state;
    it_take_baseline(&parent, &base);
    nit_setup(&nit, &parent, broker_port(broker), "nit-stream-off");
    nit.bufs.rx_size = 1024;
    nit.cfg.reconnect_min_ms = 0;
    nit_init(&nit);
    nit_connect(&nit);
    assert_int_equal(nit_subscribe(&nit, "nit/stream/off", 0), 0);
    pub_file("nit/stream/off", 0);
    assert_true(nit_pump_until(&nit, &nit.lost, 1, 30000));
    assert_int_equal(nit.lost_err, KMQTT_ETOOBIG);
    assert_int_equal(nit.piece_begins, 0);
    nit_teardown(&nit);
    it_expect_baseline(&parent, &base, "stream", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nano_1mib_qos1_v311),
        cmocka_unit_test(test_nano_1mib_qos2_v5),
        cmocka_unit_test(test_nano_1mib_qos0_v5),
        cmocka_unit_test(test_nano_without_streaming_refuses),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
