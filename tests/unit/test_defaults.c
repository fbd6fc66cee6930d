/*
 * Both clients take their defaults from config.h (issue #15): what
 * kmqtt_client_options_init and kmqtt_nano_config_init set for the same
 * knob is the same number, so a device moving from one client to the other
 * keeps its keepalive, timeouts, backoff and window.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "kmqtt/client.h"
#include "kmqtt/config.h"
#include "kmqtt/nano.h"

static void both_clients_share_the_defaults_of_config_h(void **state)
{
    kmqtt_client_options_t o;
    kmqtt_nano_config_t n;

    (void)state;
    memset(&o, 0x5a, sizeof o);
    memset(&n, 0x5a, sizeof n);
    kmqtt_client_options_init(&o);
    kmqtt_nano_config_init(&n);
    assert_int_equal(o.keepalive_s, KMQTT_CFG_KEEPALIVE_S);
    assert_int_equal(n.mqtt.keepalive_s, KMQTT_CFG_KEEPALIVE_S);
    assert_int_equal(o.connect_timeout_ms, KMQTT_CFG_CONNECT_TIMEOUT_MS);
    assert_int_equal(n.connect_timeout_ms, KMQTT_CFG_CONNECT_TIMEOUT_MS);
    assert_int_equal(o.reconnect_min_ms, KMQTT_CFG_RECONNECT_MIN_MS);
    assert_int_equal(n.reconnect_min_ms, KMQTT_CFG_RECONNECT_MIN_MS);
    assert_int_equal(o.reconnect_max_ms, KMQTT_CFG_RECONNECT_MAX_MS);
    assert_int_equal(n.reconnect_max_ms, KMQTT_CFG_RECONNECT_MAX_MS);
    assert_int_equal(o.max_inflight, KMQTT_CFG_MAX_INFLIGHT);
    assert_int_equal(n.mqtt.max_inflight, KMQTT_CFG_MAX_INFLIGHT);
    assert_int_equal(o.version, n.mqtt.version);
    assert_int_equal(o.clean_session, n.mqtt.clean_session);
    /* Issue #18: both pipeline the connect unless told not to. */
    assert_true(o.pipeline_connect);
    assert_true(n.mqtt.pipeline);
}

/* A zeroed options struct stands for the defaults too: the threaded
 * client resolves each 0 to the same config.h value (checked through what
 * kmqtt_client_memory_size, which resolves them, gives for both forms). */
static void zeroed_options_mean_the_same_defaults(void **state)
{
    kmqtt_client_options_t a, z;

    (void)state;
    kmqtt_client_options_init(&a);
    memset(&z, 0, sizeof z);
    assert_int_not_equal(kmqtt_client_memory_size(&a), 0);
    assert_int_equal(kmqtt_client_memory_size(&z), kmqtt_client_memory_size(&a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_clients_share_the_defaults_of_config_h),
        cmocka_unit_test(zeroed_options_mean_the_same_defaults),
    };
    return cmocka_run_group_tests_name("defaults", tests, NULL, NULL);
}
