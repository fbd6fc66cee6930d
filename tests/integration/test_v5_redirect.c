/*
 * 5.0 redirection (issue 22, options.redirect_max_hops) against the strict
 * broker double (support/v5_broker.c): a CONNACK or a server DISCONNECT
 * that says Use Another Server (0x9C) or Server Moved (0x9D) with a Server
 * Reference (MQTT 5.0 4.11, 3.2.2.3.16, 3.14.2.2.5) sends the client's
 * next attempt to the server it names, within the hop limit; without the
 * option the reference is only reported. Every test checks that the
 * client's memory is back at its baseline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"
#include "v5_broker.h"

#define WAIT_MS 5000u

static kmqtt_mem_t parent;

static int setup(void **state)
{
    (void)state;
    return it_group_init(&parent);
}

static void options(kmqtt_client_options_t *o, v5b_t *b, const char *id, uint8_t hops)
{
    it_options(o, NULL, id);
    o->port = v5b_port(b);
    o->version = KMQTT_V5;
    o->mem = &parent;
    o->redirect_max_hops = hops;
}

static v5b_t *start_referring(const char *reference, uint8_t reason)
{
    v5b_opts_t bo;
    memset(&bo, 0, sizeof bo);
    bo.server_reference = reference;
    bo.reference_reason = reason;
    return v5b_start(&bo);
}

static v5b_t *start_plain(void)
{
    v5b_opts_t bo;
    memset(&bo, 0, sizeof bo);
    return v5b_start(&bo);
}

static uint16_t info_port(kmqtt_client_t *c)
{
    kmqtt_client_info_t info;
    assert_int_equal(kmqtt_client_info(c, &info), KMQTT_OK);
    return info.port;
}

/* A refusing CONNACK (reason) naming the live server B: kmqtt_connect
 * follows it within its timeout and is connected to B. */
static void connack_followed(uint8_t reason, const char *id)
{
    v5b_t *a, *b;
    v5b_stats_t sa, sb;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_connack_info_t ci;
    char ref[64];
    it_baseline_t base;

    it_take_baseline(&parent, &base);
    b = start_plain();
    assert_non_null(b);
    snprintf(ref, sizeof ref, "127.0.0.1:%u", (unsigned)v5b_port(b));
    a = start_referring(ref, reason);
    assert_non_null(a);
    options(&o, a, id, 1);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_OK);
    assert_int_equal(ci.reason_code, 0);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_int_equal(info_port(c), v5b_port(b));
    assert_int_equal(kmqtt_publish(c, "kt/redirect", "x", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_flush(c, WAIT_MS), KMQTT_OK);
    v5b_get_stats(a, &sa);
    v5b_get_stats(b, &sb);
    assert_int_equal(sa.refusals, 1);
    assert_int_equal(sa.connects, 0);
    assert_int_equal(sb.connects, 1);
    assert_int_equal(sb.publishes, 1);
    assert_int_equal(sb.violations, 0);
    /* The next connect starts from the list again: A, which sends it to B. */
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(info_port(c), v5b_port(b));
    v5b_get_stats(a, &sa);
    assert_int_equal(sa.refusals, 2);
    kmqtt_client_destroy(c);
    v5b_stop(a);
    v5b_stop(b);
    it_expect_baseline(&parent, &base, "redirect", 0);
}

/* 0x9C Use Another Server (4.11). */
static void test_connack_use_another_server_followed(void **state)
{
    (void)state;
    connack_followed(0x9C, "it-v5r-9c");
}

/* 0x9D Server Moved (4.11). */
static void test_connack_server_moved_followed(void **state)
{
    (void)state;
    connack_followed(0x9D, "it-v5r-9d");
}

/* Without the option (default 0) the reference is reported, not followed. */
static void test_not_followed_by_default(void **state)
{
    v5b_t *a, *b;
    v5b_stats_t sa, sb;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_connack_info_t ci;
    char ref[64];
    it_baseline_t base;

    (void)state;
    it_take_baseline(&parent, &base);
    b = start_plain();
    assert_non_null(b);
    snprintf(ref, sizeof ref, "127.0.0.1:%u", (unsigned)v5b_port(b));
    a = start_referring(ref, 0x9C);
    assert_non_null(a);
    options(&o, a, "it-v5r-off", 0);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_EREFUSED);
    assert_int_equal(ci.reason_code, 0x9C);
    assert_non_null(ci.server_reference);
    assert_string_equal(ci.server_reference, ref);
    assert_int_equal(info_port(c), v5b_port(a));
    v5b_get_stats(a, &sa);
    v5b_get_stats(b, &sb);
    assert_int_equal(sa.refusals, 1);
    assert_int_equal(sb.connects, 0);
    kmqtt_client_destroy(c);
    v5b_stop(a);
    v5b_stop(b);
    it_expect_baseline(&parent, &base, "no redirect", 0);
}

/* A server that refers to itself ("127.0.0.1" without a port: the port of
 * the server that sent it): the first attempt and then exactly the hop
 * limit's redirects, then the refusal is reported. */
static void test_hop_limit_ends_a_circle(void **state)
{
    v5b_t *a;
    v5b_stats_t sa;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_connack_info_t ci;
    it_baseline_t base;

    (void)state;
    it_take_baseline(&parent, &base);
    a = start_referring("127.0.0.1", 0x9C);
    assert_non_null(a);
    options(&o, a, "it-v5r-circle", 3);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_EREFUSED);
    assert_int_equal(ci.reason_code, 0x9C);
    v5b_get_stats(a, &sa);
    assert_int_equal(sa.refusals, 1 + 3);
    /* The count starts again with the next connect. */
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_EREFUSED);
    v5b_get_stats(a, &sa);
    assert_int_equal(sa.refusals, 2 * (1 + 3));
    kmqtt_client_destroy(c);
    v5b_stop(a);
    it_expect_baseline(&parent, &base, "circle", 0);
}

/* A reference that does not parse (a port out of range, a stray bracket,
 * nothing but spaces) is not followed: the refusal is reported after one
 * attempt. */
static void test_malformed_reference_not_followed(void **state)
{
    static const char *const bad[] = {"127.0.0.1:99999", "127.0.0.1:",   "[::1", "   ",
                                      "a:b:c",           "127.0.0.1:12x"};
    size_t i;
    it_baseline_t base;

    (void)state;
    it_take_baseline(&parent, &base);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v5b_t *a = start_referring(bad[i], 0x9D);
        v5b_stats_t sa;
        kmqtt_client_options_t o;
        kmqtt_client_t *c;
        kmqtt_connack_info_t ci;

        assert_non_null(a);
        options(&o, a, "it-v5r-bad", 4);
        assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
        assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_EREFUSED);
        assert_int_equal(ci.reason_code, 0x9D);
        v5b_get_stats(a, &sa);
        if (sa.refusals != 1)
            fail_msg("reference \"%s\": %u attempts", bad[i], sa.refusals);
        kmqtt_client_destroy(c);
        v5b_stop(a);
    }
    it_expect_baseline(&parent, &base, "bad reference", 0);
}

/* A server DISCONNECT 0x9D (Server Moved) with a Server Reference while
 * connected: automatic reconnect goes to the server it names. */
static void test_disconnect_server_moved_followed(void **state)
{
    v5b_t *a, *b;
    v5b_stats_t sb;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    it_states_t st;
    char ref[64];
    uint64_t deadline;
    it_baseline_t base;

    (void)state;
    it_take_baseline(&parent, &base);
    a = start_plain();
    b = start_plain();
    assert_non_null(a);
    assert_non_null(b);
    snprintf(ref, sizeof ref, "127.0.0.1:%u", (unsigned)v5b_port(b));
    it_states_init(&st);
    options(&o, a, "it-v5r-moved", 1);
    o.reconnect = KMQTT_RECONNECT_ON;
    o.reconnect_min_ms = 20;
    o.reconnect_max_ms = 100;
    o.on_state = it_states_handler;
    o.ctx = &st;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(info_port(c), v5b_port(a));
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    assert_int_equal(v5b_disconnect_ref(a, 0x9D, "moved", ref), 0);
    deadline = now_ms() + WAIT_MS;
    do {
        v5b_get_stats(b, &sb);
        if (sb.connects == 1 && kmqtt_client_state(c) == KMQTT_STATE_CONNECTED)
            break;
        sleep_ms(10);
    } while (now_ms() < deadline);
    assert_int_equal(sb.connects, 1);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    assert_int_equal(info_port(c), v5b_port(b));
    assert_int_equal(kmqtt_publish(c, "kt/moved", "y", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_flush(c, WAIT_MS), KMQTT_OK);
    v5b_get_stats(b, &sb);
    assert_int_equal(sb.publishes, 1);
    kmqtt_client_destroy(c);
    it_states_destroy(&st);
    v5b_stop(a);
    v5b_stop(b);
    it_expect_baseline(&parent, &base, "moved", 0);
}

/* The same DISCONNECT to a client without the option: it reconnects to
 * its own server (the list), not to the reference. */
static void test_disconnect_reference_ignored_without_option(void **state)
{
    v5b_t *a, *b;
    v5b_stats_t sa, sb;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    char ref[64];
    uint64_t deadline;
    it_baseline_t base;

    (void)state;
    it_take_baseline(&parent, &base);
    a = start_plain();
    b = start_plain();
    assert_non_null(a);
    assert_non_null(b);
    snprintf(ref, sizeof ref, "127.0.0.1:%u", (unsigned)v5b_port(b));
    options(&o, a, "it-v5r-stay", 0);
    o.reconnect = KMQTT_RECONNECT_ON;
    o.reconnect_min_ms = 20;
    o.reconnect_max_ms = 100;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_start(c), KMQTT_OK);
    assert_int_equal(v5b_disconnect_ref(a, 0x9C, NULL, ref), 0);
    deadline = now_ms() + WAIT_MS;
    do {
        v5b_get_stats(a, &sa);
        if (sa.connects == 2 && kmqtt_client_state(c) == KMQTT_STATE_CONNECTED)
            break;
        sleep_ms(10);
    } while (now_ms() < deadline);
    v5b_get_stats(b, &sb);
    assert_int_equal(sa.connects, 2);
    assert_int_equal(sb.connects, 0);
    assert_int_equal(info_port(c), v5b_port(a));
    kmqtt_client_destroy(c);
    v5b_stop(a);
    v5b_stop(b);
    it_expect_baseline(&parent, &base, "stay", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connack_use_another_server_followed),
        cmocka_unit_test(test_connack_server_moved_followed),
        cmocka_unit_test(test_not_followed_by_default),
        cmocka_unit_test(test_hop_limit_ends_a_circle),
        cmocka_unit_test(test_malformed_reference_not_followed),
        cmocka_unit_test(test_disconnect_server_moved_followed),
        cmocka_unit_test(test_disconnect_reference_ignored_without_option),
    };
    return cmocka_run_group_tests_name("5.0 redirection against the broker double", tests, setup,
                                       NULL);
}
