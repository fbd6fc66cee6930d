/*
 * What the RT-Thread msh commands `kmqtt`, `kmqtt -v` and `kmqtt_cycle` print:
 * the same printing code (src/port/common/diag_print.c) run on the host for a
 * real client connected to mosquitto through the POSIX port. The RT-Thread
 * side adds the socket and thread from its registry and the rt: heap lines;
 * here the socket and thread are what the host test knows (none of the
 * port's registry), so those lines read "none". The output is printed so the
 * documentation's samples can be checked against it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "diag_print.h"
#include "kmqtt/client.h"

#define WAIT_MS 10000u

static broker_t *broker;

static int group_setup(void **state)
{
    broker_opts_t o;

    (void)state;
    memset(&o, 0, sizeof o);
    broker = broker_start(&o);
    return broker == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    broker_stop(broker);
    return 0;
}

typedef struct capture {
    char text[16384];
    size_t len;
} capture_t;

static void cap_line(void *ctx, const char *line)
{
    capture_t *c = ctx;
    int n = snprintf(c->text + c->len, sizeof c->text - c->len, "%s\n", line);
    if (n > 0 && (size_t)n < sizeof c->text - c->len)
        c->len += (size_t)n;
    printf("%s\n", line);
}

static void report(kmqtt_client_t *c, unsigned index, bool verbose, capture_t *cap)
{
    kmqtt_diag_t d;

    memset(&d, 0, sizeof d);
    d.index = index;
    d.is_client = true;
    assert_int_equal(kmqtt_client_info(c, &d.client), KMQTT_OK);
    d.socket = -1;
    d.wake_fd = -1;
    kmqtt_diag_snapshot_mem(&d, kmqtt_client_mem(c));
    kmqtt_diag_print(&d, cap_line, cap);
    if (verbose)
        kmqtt_diag_print_blocks(kmqtt_client_mem(c), cap_line, cap);
}

static void test_kmqtt_shows_a_connected_client_by_tag(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    capture_t cap;
    char server[64];
    kmqtt_publish_result_t r;

    (void)state;
    memset(&cap, 0, sizeof cap);
    kmqtt_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = broker_port(broker);
    o.client_id = "dev-0001";
    o.mem_debug = true;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, "sensors/t1", "21.5", 4, 1, false, NULL, &r), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait(c, r.packet_id, WAIT_MS, NULL), KMQTT_OK);

    printf("--- msh />kmqtt\n");
    report(c, 1, false, &cap);
    assert_non_null(strstr(cap.text, "kmqtt 1: client \"dev-0001\", connected, MQTT 3.1.1"));
    snprintf(server, sizeof server, "server  127.0.0.1:%u\n", broker_port(broker));
    /* The host test has no port registry: the broker is the client's. */
    assert_non_null(strstr(cap.text, server));
    assert_non_null(strstr(cap.text, "heap by tag"));
    assert_non_null(strstr(cap.text, "  session "));
    assert_non_null(strstr(cap.text, "  total   kmqtt "));
    assert_null(strstr(cap.text, "live blocks"));

    printf("--- msh />kmqtt -v\n");
    memset(&cap, 0, sizeof cap);
    report(c, 1, true, &cap);
    assert_non_null(strstr(cap.text, "live blocks (oldest first)"));
    assert_non_null(strstr(cap.text, "client.c:"));

    kmqtt_client_destroy(c);
}

static void test_live_blocks_need_mem_debug(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    capture_t cap;

    (void)state;
    memset(&cap, 0, sizeof cap);
    kmqtt_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = broker_port(broker);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    report(c, 2, true, &cap);
    assert_non_null(strstr(cap.text, ", disconnected, "));
    assert_non_null(strstr(cap.text, "(not connected)"));
    assert_non_null(strstr(cap.text, "not kept (create the client with options.mem_debug = true)"));
    kmqtt_client_destroy(c);
}

/* kmqtt_cycle's line after each cycle: kmqtt's context returns to 0 blocks
 * once the cycle's client is destroyed. */
static void test_cycle_line_reports_kmqtt_back_to_zero(void **state)
{
    kmqtt_mem_t parent;
    kmqtt_mem_config_t mc;
    kmqtt_mem_stats_t st;
    char line[256];
    unsigned i;

    (void)state;
    memset(&mc, 0, sizeof mc);
    assert_int_equal(kmqtt_mem_init(&parent, &mc), KMQTT_OK);
    printf(
        "--- msh />kmqtt_cycle 3 127.0.0.1 <port> (the kmqtt part; heap figures are the OS's)\n");
    for (i = 1; i <= 3; i++) {
        kmqtt_client_options_t o;
        kmqtt_client_t *c = NULL;
        kmqtt_publish_result_t r;

        kmqtt_client_options_init(&o);
        o.host = "127.0.0.1";
        o.port = broker_port(broker);
        o.mem = &parent;
        assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
        assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_publish(c, "kmqtt/cycle", "cycle", 5, 1, false, NULL, &r), KMQTT_OK);
        assert_int_equal(kmqtt_publish_wait(c, r.packet_id, WAIT_MS, NULL), KMQTT_OK);
        kmqtt_client_destroy(c);
        kmqtt_mem_get_stats(&parent, &st);
        kmqtt_diag_cycle_line(line, sizeof line, i, 3, "ok", 0, 0, 0, st.bytes, st.blocks);
        printf("%s\n", line);
        assert_non_null(strstr(line, "ok: heap used"));
        assert_non_null(strstr(line, "kmqtt 0 B in 0 blocks"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kmqtt_shows_a_connected_client_by_tag),
        cmocka_unit_test(test_live_blocks_need_mem_debug),
        cmocka_unit_test(test_cycle_line_reports_kmqtt_back_to_zero),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
