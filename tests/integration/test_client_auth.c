/*
 * Username and password against a mosquitto with a password file and
 * anonymous clients refused. What mosquitto 2.0 answers (checked by hand with
 * mosquitto_pub -d): 3.1.1 return code 5 "not authorized" for a wrong
 * password, an unknown user and no credentials alike (never 4); 5.0 reason
 * code 0x87 "Not authorized".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "it_group.h"

#define WAIT_MS 5000u

static int start_broker(void **state)
{
    broker_opts_t o;
    memset(&o, 0, sizeof(o));
    o.username = "sensor";
    o.password = "s3cret pass";
    *state = broker_start(&o);
    return *state != NULL ? 0 : -1;
}

/* Connects with the given credentials; returns the result, the CONNACK code
 * in *rc (0xff if none came). */
static kmqtt_err_t try_connect(broker_t *b, kmqtt_version_t v, const char *user, const char *pass,
                               uint8_t *rc, kmqtt_conn_state_t *after)
{
    kmqtt_publish_result_t pr;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_connack_info_t info;
    kmqtt_err_t e;
    int fds = count_open_fds();

    it_options(&o, b, "it-auth");
    o.version = v;
    o.username = user;
    o.password = pass;
    o.password_len = pass != NULL ? strlen(pass) : 0;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    info.reason_code = 0xff;
    e = kmqtt_connect(c, 0, &info);
    *rc = info.reason_code;
    *after = kmqtt_client_state(c);
    if (e == KMQTT_OK) {
        uint16_t id = 0;
        assert_int_equal(kmqtt_publish(c, "it/auth", "ok", 2, 1, false, NULL, &pr), KMQTT_OK);
        id = pr.packet_id;
        assert_int_equal(kmqtt_publish_wait(c, id, WAIT_MS, NULL), KMQTT_OK);
    }
    kmqtt_client_destroy(c);
    assert_int_equal(count_open_fds(), fds);
    return e;
}

static void test_right_password_connects(void **state)
{
    uint8_t rc;
    kmqtt_conn_state_t st;
    assert_int_equal(try_connect(*state, KMQTT_V311, "sensor", "s3cret pass", &rc, &st), KMQTT_OK);
    assert_int_equal(rc, 0);
    assert_int_equal(st, KMQTT_STATE_CONNECTED);
}

static void test_right_password_connects_with_mqtt5(void **state)
{
    uint8_t rc;
    kmqtt_conn_state_t st;
    assert_int_equal(try_connect(*state, KMQTT_V5, "sensor", "s3cret pass", &rc, &st), KMQTT_OK);
    assert_int_equal(rc, 0);
}

static void test_wrong_password_is_refused_with_not_authorized(void **state)
{
    uint8_t rc;
    kmqtt_conn_state_t st;
    assert_int_equal(try_connect(*state, KMQTT_V311, "sensor", "wrong", &rc, &st), KMQTT_EREFUSED);
    assert_int_equal(rc, 5);
    assert_int_not_equal(st, KMQTT_STATE_CONNECTED);
}

static void test_unknown_user_is_refused_with_not_authorized(void **state)
{
    uint8_t rc;
    kmqtt_conn_state_t st;
    assert_int_equal(try_connect(*state, KMQTT_V311, "intruder", "s3cret pass", &rc, &st),
                     KMQTT_EREFUSED);
    assert_int_equal(rc, 5);
}

static void test_anonymous_client_is_refused_with_not_authorized(void **state)
{
    uint8_t rc;
    kmqtt_conn_state_t st;
    assert_int_equal(try_connect(*state, KMQTT_V311, NULL, NULL, &rc, &st), KMQTT_EREFUSED);
    assert_int_equal(rc, 5);
}

static void test_wrong_password_is_refused_with_mqtt5_not_authorized(void **state)
{
    uint8_t rc;
    kmqtt_conn_state_t st;
    assert_int_equal(try_connect(*state, KMQTT_V5, "sensor", "wrong", &rc, &st), KMQTT_EREFUSED);
    assert_int_equal(rc, 0x87);
}

static void test_refused_connect_can_be_retried_and_is_refused_again(void **state)
{
    broker_t *b = *state;
    kmqtt_client_options_t o;
    kmqtt_client_t *bad = NULL;
    kmqtt_connack_info_t info;

    it_options(&o, b, "it-auth-retry");
    o.username = "sensor";
    o.password = "nope";
    o.password_len = 4;
    assert_int_equal(kmqtt_client_create(&o, &bad), KMQTT_OK);
    assert_int_equal(kmqtt_connect(bad, 0, &info), KMQTT_EREFUSED);
    assert_int_equal(info.reason_code, 5);
    /* Refused twice the same way: nothing stuck from the first attempt. */
    assert_int_equal(kmqtt_connect(bad, 0, &info), KMQTT_EREFUSED);
    assert_int_equal(info.reason_code, 5);
    kmqtt_client_destroy(bad);
}

#define T(f) cmocka_unit_test_setup_teardown(f, start_broker, it_broker_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_right_password_connects),
        T(test_right_password_connects_with_mqtt5),
        T(test_wrong_password_is_refused_with_not_authorized),
        T(test_unknown_user_is_refused_with_not_authorized),
        T(test_anonymous_client_is_refused_with_not_authorized),
        T(test_wrong_password_is_refused_with_mqtt5_not_authorized),
        T(test_refused_connect_can_be_retried_and_is_refused_again),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
