/*
 * MQTT 5.0 session lifetime against mosquitto: Session Expiry Interval
 * across a reconnect (queued QoS 1 messages delivered within it, gone after
 * it), DISCONNECT with a new expiry, the Will Delay Interval (the will with
 * its properties after the delay; none when the client is back in time),
 * DISCONNECT 0x04 (send the will).
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

#define WAIT_MS 5000u

static kmqtt_mem_t parent;

static int setup(void **state)
{
    broker_opts_t o;

    memset(&o, 0, sizeof o);
    *state = it_group_broker(&parent, &o);
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    broker_stop(*state);
    return 0;
}

/* The will's properties, as the observer saw them. */
static char will_props_seen[64];

static void will_handler(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    kmqtt_str_t ct, name, value;
    kmqtt_prop_iter_t it;

    if (msg->topic.len == 12 && memcmp(msg->topic.ptr, "v5/will/late", 12) == 0 &&
        kmqtt_msg_content_type(msg, &ct)) {
        kmqtt_prop_iter_init(&it, &msg->props);
        if (kmqtt_next_user_prop(&it, &name, &value))
            snprintf(will_props_seen, sizeof will_props_seen, "%.*s %.*s=%.*s", (int)ct.len, ct.ptr,
                     (int)name.len, name.ptr, (int)value.len, value.ptr);
    }
    it_rec_handler(c, msg, ctx);
}

static void v5_options(kmqtt_client_options_t *o, broker_t *b, const char *id, it_rec_t *rec)
{
    it_options(o, b, id);
    o->version = KMQTT_V5;
    o->mem = &parent;
    o->on_message = rec != NULL ? will_handler : NULL;
    o->ctx = rec;
}

static kmqtt_client_t *v5_connected(broker_t *b, const char *id, it_rec_t *rec)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;

    v5_options(&o, b, id, rec);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    return c;
}

static void sub1(kmqtt_client_t *c, const char *filter)
{
    kmqtt_sub_request_t r;

    memset(&r, 0, sizeof r);
    r.filter = filter;
    r.qos = 1;
    assert_int_equal(kmqtt_subscribe(c, &r, 1, WAIT_MS, NULL, NULL), KMQTT_OK);
}

static void publish3(broker_t *b, const char *topic)
{
    kmqtt_client_t *tx = v5_connected(b, "it-v5-exp-tx", NULL);
    int i;

    for (i = 0; i < 3; i++)
        assert_int_equal(kmqtt_publish(tx, topic, "q", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_publish_wait_all(tx, WAIT_MS), KMQTT_OK);
    kmqtt_client_destroy(tx);
}

/* Session Expiry Interval 60: messages queued while we were away arrive
 * after the reconnect, which finds the session (MQTT-3.1.2-23,
 * MQTT-3.2.2-3). A DISCONNECT that lowers it to 1 s (3.14.2.2.2 allows
 * it: the CONNECT's was not 0) ends the session: after 3 s the broker has
 * forgotten it and what was queued. */
static void test_session_expiry_across_reconnect(void **state)
{
    broker_t *b = *state;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    kmqtt_connack_info_t ci;
    kmqtt_disconnect_props_t dp;
    it_baseline_t base;
    it_rec_t rec;

    it_take_baseline(&parent, &base);
    it_rec_init(&rec);
    v5_options(&o, b, "it-v5-expiry", &rec);
    o.clean_session = false;
    o.session_expiry_s = 60;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_OK);
    sub1(c, "v5/exp");
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);

    publish3(b, "v5/exp");
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_OK);
    assert_true(ci.session_present);
    assert_true(it_wait_msgs(c, &rec, 3, WAIT_MS));

    /* 0 when the CONNECT had 60 is fine; a different value only if the
     * CONNECT's was not 0 (checked by the client). */
    memset(&dp, 0, sizeof dp);
    dp.set_session_expiry = true;
    dp.session_expiry_s = 1;
    assert_int_equal(kmqtt_disconnect(c, &dp), KMQTT_OK);
    publish3(b, "v5/exp");
    sleep_ms(3000); /* past the 1 s expiry, and mosquitto's once-a-second sweep */
    assert_int_equal(kmqtt_connect(c, 0, &ci), KMQTT_OK);
    assert_false(ci.session_present);
    assert_false(it_wait_msgs(c, &rec, 4, 500));
    assert_int_equal(it_rec_count(&rec), 3);
    kmqtt_client_destroy(c);

    /* A client whose CONNECT said 0 may not set an expiry at DISCONNECT. */
    v5_options(&o, b, "it-v5-expiry0", NULL);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, 0, NULL), KMQTT_OK);
    memset(&dp, 0, sizeof dp);
    dp.set_session_expiry = true;
    dp.session_expiry_s = 30; /* 3.14.2.2.2 */
    assert_int_equal(kmqtt_disconnect(c, &dp), KMQTT_EINVAL);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_CONNECTED);
    kmqtt_client_destroy(c);
    it_rec_destroy(&rec);
    it_expect_baseline(&parent, &base, "session expiry", 0);
}

/* Will Delay Interval 2 s with DISCONNECT 0x04 (Disconnect with Will
 * Message): the will, with its properties, is published after the delay,
 * not at once (MQTT-3.1.3-9). A second client that comes back within the
 * delay keeps its will from being sent. */
static void test_will_delay(void **state)
{
    broker_t *b = *state;
    kmqtt_client_options_t o;
    kmqtt_client_t *obs, *w;
    kmqtt_publish_props_t wp;
    kmqtt_disconnect_props_t dp;
    kmqtt_user_prop_t up = {"origin", "it"};
    it_baseline_t base;
    it_rec_t rec;
    uint64_t t0;

    it_take_baseline(&parent, &base);
    it_rec_init(&rec);
    obs = v5_connected(b, "it-v5-will-obs", &rec);
    sub1(obs, "v5/will/#");

    memset(&wp, 0, sizeof wp);
    wp.will_delay_s = 2;
    wp.content_type = "text/plain";
    wp.user_props = &up;
    wp.user_prop_count = 1;
    v5_options(&o, b, "it-v5-will", NULL);
    o.has_will = true;
    o.will_topic = "v5/will/late";
    o.will_payload = "gone";
    o.will_payload_len = 4;
    o.will_qos = 1;
    o.will_props = &wp;
    o.clean_session = false;
    o.session_expiry_s = 30;
    assert_int_equal(kmqtt_client_create(&o, &w), KMQTT_OK);
    assert_int_equal(kmqtt_connect(w, 0, NULL), KMQTT_OK);
    t0 = now_ms();
    memset(&dp, 0, sizeof dp);
    dp.reason_code = 0x04; /* disconnect with will message */
    assert_int_equal(kmqtt_disconnect(w, &dp), KMQTT_OK);
    assert_false(it_wait_msgs(obs, &rec, 1, 1000));
    assert_true(it_wait_msgs(obs, &rec, 1, 4u * WAIT_MS));
    assert_true(now_ms() - t0 >= 1000);
    assert_string_equal(rec.msgs[0].topic, "v5/will/late");
    assert_memory_equal(rec.msgs[0].payload, "gone", 4);
    assert_string_equal(will_props_seen, "text/plain origin=it");
    kmqtt_client_destroy(w);

    /* Back within the delay: no will. */
    o.client_id = "it-v5-will2";
    o.will_topic = "v5/will/never";
    assert_int_equal(kmqtt_client_create(&o, &w), KMQTT_OK);
    assert_int_equal(kmqtt_connect(w, 0, NULL), KMQTT_OK);
    memset(&dp, 0, sizeof dp);
    dp.reason_code = 0x04; /* disconnect with will message */
    assert_int_equal(kmqtt_disconnect(w, &dp), KMQTT_OK);
    assert_int_equal(kmqtt_connect(w, 0, NULL), KMQTT_OK);
    sleep_ms(3000);
    assert_int_equal(kmqtt_publish(w, "v5/will/sentinel", "s", 1, 1, false, NULL, NULL), KMQTT_OK);
    assert_true(it_wait_msgs(obs, &rec, 2, WAIT_MS));
    assert_string_equal(rec.msgs[1].topic, "v5/will/sentinel");
    /* a clean end: DISCONNECT 0x00 removes the will, session gone */
    memset(&dp, 0, sizeof dp);
    dp.set_session_expiry = true; /* 0: the session ends now */
    assert_int_equal(kmqtt_disconnect(w, &dp), KMQTT_OK);
    kmqtt_client_destroy(w);
    assert_false(it_wait_msgs(obs, &rec, 3, 300));
    kmqtt_client_destroy(obs);
    it_rec_destroy(&rec);
    it_expect_baseline(&parent, &base, "will delay", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_expiry_across_reconnect),
        cmocka_unit_test(test_will_delay),
    };
    return cmocka_run_group_tests_name("v5 session lifetime against mosquitto", tests, setup,
                                       teardown);
}
