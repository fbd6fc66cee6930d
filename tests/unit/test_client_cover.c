/*
 * The threaded client's argument checks that the scenario tests do not
 * reach (issue 21, coverage): each option kmqtt_client_create refuses (and
 * that it then returns no client and keeps nothing), the 5.0 will and
 * PUBLISH properties it refuses before anything is queued, and the
 * argument checks of subscribe, unsubscribe and request. No connection is
 * made: the transport here refuses every open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kmqtt/client.h"
#include "kmqtt/config.h"
#include "kmqtt/store.h"

static int destroyed;

static kmqtt_err_t t_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)timeout_ms;
    return KMQTT_ECONNREFUSED;
}

static long t_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return KMQTT_ECLOSED;
}

static long t_recv(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return KMQTT_ECLOSED;
}

static kmqtt_err_t t_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    (void)ctx;
    (void)events;
    (void)timeout_ms;
    *ready = 0;
    return KMQTT_OK;
}

static void t_void(void *ctx)
{
    (void)ctx;
}

static void t_destroy(void *ctx)
{
    (void)ctx;
    destroyed++;
}

static kmqtt_transport_t TP;

static void base(kmqtt_client_options_t *o, kmqtt_version_t v)
{
    memset(&TP, 0, sizeof TP);
    TP.open = t_open;
    TP.send = t_send;
    TP.recv = t_recv;
    TP.wait = t_wait;
    TP.wake = t_void;
    TP.close = t_void;
    TP.destroy = t_destroy;
    kmqtt_client_options_init(o);
    o->version = v;
    o->client_id = "cover";
    o->transport = &TP;
}

static kmqtt_client_t *client(kmqtt_version_t v)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    base(&o, v);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    return c;
}

/* create refuses o: no client comes back, and the caller still owns the
 * transport (it was not destroyed). */
static void refused(const kmqtt_client_options_t *o, kmqtt_err_t want, int line)
{
    kmqtt_client_t *c = (kmqtt_client_t *)&c; /* not NULL before */
    int before = destroyed;
    kmqtt_err_t err = kmqtt_client_create(o, &c);
    if (err != want)
        fail_msg("line %d: create gave %d, wanted %d", line, (int)err, (int)want);
    assert_null(c);
    assert_int_equal(destroyed, before);
    /* kmqtt_client_memory_size answers 0 for options create refuses */
    if (want == KMQTT_EINVAL)
        assert_int_equal(kmqtt_client_memory_size(o), 0);
}
#define REFUSED(o, want) refused(o, want, __LINE__)

static kmqtt_err_t s_put(void *ctx, uint32_t id, const void *rec, size_t len)
{
    (void)ctx;
    (void)id;
    (void)rec;
    (void)len;
    return KMQTT_OK;
}

static kmqtt_err_t s_get(void *ctx, uint32_t id, void *buf, size_t cap, size_t *len)
{
    (void)ctx;
    (void)id;
    (void)buf;
    (void)cap;
    *len = 0;
    return KMQTT_ENOTFOUND;
}

static kmqtt_err_t s_remove(void *ctx, uint32_t id)
{
    (void)ctx;
    (void)id;
    return KMQTT_OK;
}

static kmqtt_err_t s_list(void *ctx, kmqtt_store_list_fn fn, void *arg)
{
    (void)ctx;
    (void)fn;
    (void)arg;
    return KMQTT_OK;
}

/* Every option create checks, one at a time (MQTT-1.5.4: UTF-8 strings of
 * at most 65,535 bytes; MQTT-3.1.2-14: will QoS; MQTT-3.3.2-2: no wildcard
 * in a will topic). */
static void create_refuses_each_bad_option(void **state)
{
    (void)state;
    kmqtt_client_options_t o;
    char *big = malloc(70000);
    assert_non_null(big);
    memset(big, 'a', 69999);
    big[69999] = '\0';

    kmqtt_client_options_init(NULL);
    base(&o, KMQTT_V311);
    assert_int_equal(kmqtt_client_create(&o, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_client_memory_size(NULL), 0);
    o.version = (kmqtt_version_t)3;
    REFUSED(&o, KMQTT_EINVAL);
    base(&o, KMQTT_V311);
    o.reconnect = (kmqtt_reconnect_mode_t)7;
    REFUSED(&o, KMQTT_EINVAL);
    base(&o, KMQTT_V311);
    o.client_id = "\xff";
    REFUSED(&o, KMQTT_EINVAL);
    base(&o, KMQTT_V311);
    o.client_id = big;
    REFUSED(&o, KMQTT_EINVAL);
    base(&o, KMQTT_V311);
    o.username = "\xc0\x80";
    REFUSED(&o, KMQTT_EINVAL);
    base(&o, KMQTT_V311);
    o.username = "u";
    o.password = big;
    o.password_len = 69999;
    REFUSED(&o, KMQTT_EINVAL);
    base(&o, KMQTT_V311);
    o.username = "u";
    o.password_len = 3; /* and no password */
    REFUSED(&o, KMQTT_EINVAL);

    base(&o, KMQTT_V311);
    o.has_will = true; /* and no topic */
    REFUSED(&o, KMQTT_EINVAL);
    o.will_topic = "w";
    o.will_qos = 3;
    REFUSED(&o, KMQTT_EINVAL);
    o.will_qos = 1;
    o.will_topic = "w/#";
    REFUSED(&o, KMQTT_EINVAL);
    o.will_topic = "w";
    o.will_payload = big;
    o.will_payload_len = 69999;
    REFUSED(&o, KMQTT_EINVAL);
    o.will_payload = NULL;
    o.will_payload_len = 2;
    REFUSED(&o, KMQTT_EINVAL);

#if KMQTT_CFG_OFFLINE_QUEUE
    base(&o, KMQTT_V311);
    o.offline_queue_max_msgs = 4;
    o.offline_queue_max_bytes = 1; /* no room for one record */
    REFUSED(&o, KMQTT_EINVAL);
#if SIZE_MAX > UINT32_MAX
    o.offline_queue_max_bytes = (size_t)UINT32_MAX + 1u;
    REFUSED(&o, KMQTT_EINVAL);
    base(&o, KMQTT_V311);
    o.store_size = (size_t)UINT32_MAX + 1u;
    REFUSED(&o, KMQTT_EINVAL);
#endif
    base(&o, KMQTT_V311);
    o.offline_queue_policy = (kmqtt_queue_policy_t)9;
    REFUSED(&o, KMQTT_EINVAL);

    /* A store needs a kept session (clean_session false) and all four calls. */
    kmqtt_store_t st;
    memset(&st, 0, sizeof st);
    st.put = s_put;
    st.get = s_get;
    st.remove = s_remove;
    st.list = s_list;
    base(&o, KMQTT_V311);
    o.store = &st;
    REFUSED(&o, KMQTT_EINVAL); /* clean session */
    o.clean_session = false;
    st.put = NULL;
    REFUSED(&o, KMQTT_EINVAL);
    st.put = s_put;
    st.get = NULL;
    REFUSED(&o, KMQTT_EINVAL);
    st.get = s_get;
    st.remove = NULL;
    REFUSED(&o, KMQTT_EINVAL);
    st.remove = s_remove;
    st.list = NULL;
    REFUSED(&o, KMQTT_EINVAL);
#endif
    base(&o, KMQTT_V311);
    o.rx_buffer_size = (size_t)KMQTT_PACKET_MAX + 1u;
    REFUSED(&o, KMQTT_EINVAL);

    /* A transport must have every call (port.h). */
    static const size_t offsets[] = {
        offsetof(kmqtt_transport_t, open),    offsetof(kmqtt_transport_t, send),
        offsetof(kmqtt_transport_t, recv),    offsetof(kmqtt_transport_t, wait),
        offsetof(kmqtt_transport_t, wake),    offsetof(kmqtt_transport_t, close),
        offsetof(kmqtt_transport_t, destroy),
    };
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        base(&o, KMQTT_V311);
        void (*none)(void) = NULL;
        memcpy((char *)&TP + offsets[i], &none, sizeof none);
        REFUSED(&o, KMQTT_EINVAL);
    }
    free(big);
}

/* Options that are corrected, not refused: a maximum backoff under the
 * minimum stays at the minimum; no client id is generated. */
static void create_accepts_what_it_can_resolve(void **state)
{
    (void)state;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    base(&o, KMQTT_V311);
    o.reconnect_min_ms = 5000;
    o.reconnect_max_ms = 10;
    o.client_id = NULL;
    o.host = "";
    assert_true(kmqtt_client_memory_size(&o) > 0);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_non_null(c);
    assert_int_equal(kmqtt_client_state(c), KMQTT_STATE_DISCONNECTED);
    int before = destroyed;
    kmqtt_client_destroy(c);
    assert_int_equal(destroyed, before + 1); /* the client owned the transport */
    kmqtt_client_destroy(NULL);
    assert_null(kmqtt_client_mem(NULL));
    assert_int_equal(kmqtt_client_state(NULL), KMQTT_STATE_DISCONNECTED);
}

/* Bug found here (issue 21): kmqtt_client_memory_size is documented to
 * answer 0 for every option create refuses with KMQTT_EINVAL, but it took a
 * transport missing a call, and a 5.0 user property list that is NULL with
 * a count made it read through NULL (a crash) instead of answering 0. */
static void memory_size_answers_0_for_what_create_refuses(void **state)
{
    (void)state;
    kmqtt_client_options_t o;
    base(&o, KMQTT_V311);
    TP.close = NULL;
    assert_int_equal(kmqtt_client_memory_size(&o), 0);
#if KMQTT_CFG_V5
    kmqtt_publish_props_t w;
    kmqtt_user_prop_t no_name = {NULL, "v"};
    base(&o, KMQTT_V5);
    o.user_prop_count = 2;
    assert_int_equal(kmqtt_client_memory_size(&o), 0);
    o.user_prop_count = 1;
    o.user_props = &no_name;
    assert_int_equal(kmqtt_client_memory_size(&o), 0);
    base(&o, KMQTT_V5);
    memset(&w, 0, sizeof w);
    w.user_prop_count = 1;
    o.has_will = true;
    o.will_topic = "w";
    o.will_props = &w;
    assert_int_equal(kmqtt_client_memory_size(&o), 0);
    w.user_prop_count = 0;
    assert_true(kmqtt_client_memory_size(&o) > 0);
#endif
#if KMQTT_CFG_OFFLINE_QUEUE
    /* ... and counts the offline queue's buffer and the store's record buffer */
    kmqtt_store_t st;
    memset(&st, 0, sizeof st);
    st.put = s_put;
    st.get = s_get;
    st.remove = s_remove;
    st.list = s_list;
    base(&o, KMQTT_V311);
    size_t plain = kmqtt_client_memory_size(&o);
    o.offline_queue_max_msgs = 8;
    o.offline_queue_max_bytes = 4096;
    assert_true(kmqtt_client_memory_size(&o) >= plain + 4096);
    base(&o, KMQTT_V311);
    o.clean_session = false;
    o.store = &st;
    assert_true(kmqtt_client_memory_size(&o) > plain);
#endif
}

/* ------------------------------------------------------------------ 5.0 */

#if KMQTT_CFG_V5
/* The will's and CONNECT's 5.0 properties are checked at create (3.1.3.2). */
static void create_refuses_bad_5_properties(void **state)
{
    (void)state;
    kmqtt_client_options_t o;
    kmqtt_publish_props_t w;
    kmqtt_user_prop_t bad_user = {"\xff", "v"};
    kmqtt_user_prop_t bad_value = {"n", "\xff"};

    base(&o, KMQTT_V5);
    o.user_prop_count = 1; /* and no list */
    REFUSED(&o, KMQTT_EINVAL);
    o.user_props = &bad_user;
    REFUSED(&o, KMQTT_EINVAL);
    o.user_props = &bad_value;
    REFUSED(&o, KMQTT_EINVAL);

    base(&o, KMQTT_V5);
    o.has_will = true;
    o.will_topic = "w";
    o.will_payload = "\xff\xfe";
    o.will_payload_len = 2;
    o.will_props = &w;
    memset(&w, 0, sizeof w);
    w.payload_format = 2; /* 3.3.2.3.2: 0 or 1 */
    REFUSED(&o, KMQTT_EINVAL);
    w.payload_format = 1; /* and the payload is not UTF-8 */
    REFUSED(&o, KMQTT_EINVAL);
    w.payload_format = 0;
    w.content_type = "\xff";
    REFUSED(&o, KMQTT_EINVAL);
    w.content_type = "text/plain";
    w.response_topic = "r/+"; /* MQTT-3.3.2-14 */
    REFUSED(&o, KMQTT_EINVAL);
    w.response_topic = "r";
    w.correlation_len = 70000;
    w.correlation_data = &w;
    REFUSED(&o, KMQTT_EINVAL);
    w.correlation_data = NULL;
    w.correlation_len = 4;
    REFUSED(&o, KMQTT_EINVAL);
    w.correlation_len = 0;
    w.user_prop_count = 1;
    REFUSED(&o, KMQTT_EINVAL);
    w.user_props = &bad_user;
    REFUSED(&o, KMQTT_EINVAL);
    w.user_props = &bad_value;
    REFUSED(&o, KMQTT_EINVAL);
    /* CONNECT's own: a Maximum Packet Size over rx (3.1.2.11.4), an
     * Authentication Method that is no UTF-8 string, its data too long or
     * missing. */
    base(&o, KMQTT_V5);
    o.rx_buffer_size = 1024;
    o.maximum_packet_size = 2048;
    REFUSED(&o, KMQTT_EINVAL);
    base(&o, KMQTT_V5);
    o.auth_method = "\xff";
    REFUSED(&o, KMQTT_EINVAL);
    o.auth_method = "m";
    o.auth_data = &w;
    o.auth_data_len = 70000;
    REFUSED(&o, KMQTT_EINVAL);
    o.auth_data = NULL;
    o.auth_data_len = 2;
    REFUSED(&o, KMQTT_EINVAL);
    base(&o, KMQTT_V5);
    o.has_will = true;
    o.will_topic = "w";
    o.will_payload = "\xff\xfe";
    o.will_payload_len = 2;
    o.will_props = &w;
    /* all right: the will with its properties is taken */
    kmqtt_client_t *c = NULL;
    w.user_prop_count = 0;
    o.will_payload = "ok";
    w.payload_format = 1;
    w.message_expiry_s = 60;
    w.content_type = "text/plain";
    w.correlation_data = "id";
    w.correlation_len = 2;
    o.request_response_info = true;
    o.no_problem_info = true;
    o.auth_method = "m";
    o.auth_data = "d";
    o.auth_data_len = 1;
    assert_true(kmqtt_client_memory_size(&o) > 0);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_client_destroy(c);
}

/* PUBLISH properties are checked before anything is queued (3.3.2.3). */
static void publish_refuses_bad_properties(void **state)
{
    (void)state;
    kmqtt_client_t *c = client(KMQTT_V5);
    kmqtt_publish_props_t p;
    kmqtt_publish_result_t res;
    kmqtt_user_prop_t users[KMQTT_USER_PROPS_MAX + 1];
    kmqtt_user_prop_t bad_user = {"\xff", "v"};
    for (size_t i = 0; i < KMQTT_USER_PROPS_MAX + 1; i++) {
        users[i].name = "n";
        users[i].value = "v";
    }
    static const struct {
        uint8_t format;
        uint32_t delay;
        const char *ctype, *rtopic;
        const void *corr;
        size_t corr_len;
        const char *payload;
    } cases[] = {
        {2, 0, NULL, NULL, NULL, 0, "x"},       /* format 0 or 1 */
        {0, 5, NULL, NULL, NULL, 0, "x"},       /* Will Delay is the will's */
        {0, 0, NULL, NULL, NULL, 3, "x"},       /* correlation length, no data */
        {0, 0, NULL, NULL, "c", 70000, "x"},    /* binary data: 65,535 bytes at most */
        {1, 0, NULL, NULL, NULL, 0, "\xff"},    /* said UTF-8, is not */
        {0, 0, "\xff", NULL, NULL, 0, "x"},     /* content type not UTF-8 */
        {0, 0, NULL, "a/#", NULL, 0, "x"},      /* response topic is a name */
        {0, 0, NULL, "\xc0\x80", NULL, 0, "x"}, /* nor ill-formed */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&p, 0, sizeof p);
        p.payload_format = cases[i].format;
        p.will_delay_s = cases[i].delay;
        p.content_type = cases[i].ctype;
        p.response_topic = cases[i].rtopic;
        p.correlation_data = cases[i].corr;
        p.correlation_len = cases[i].corr_len;
        if (kmqtt_publish(c, "t", cases[i].payload, strlen(cases[i].payload), 1, false, &p, &res) !=
            KMQTT_EINVAL)
            fail_msg("case %u accepted", (unsigned)i);
    }
    memset(&p, 0, sizeof p);
    p.user_props = users;
    p.user_prop_count = KMQTT_USER_PROPS_MAX + 1;
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 0, false, &p, NULL), KMQTT_ELIMIT);
    p.user_props = NULL;
    p.user_prop_count = 1;
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 0, false, &p, NULL), KMQTT_EINVAL);
    p.user_props = &bad_user;
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 0, false, &p, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(NULL, "t", "x", 1, 0, false, &p, NULL), KMQTT_EINVAL);
    kmqtt_client_destroy(c);

    /* 5.0 properties on a 3.1.1 client */
    c = client(KMQTT_V311);
    memset(&p, 0, sizeof p);
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 0, false, &p, NULL), KMQTT_ENEEDV5);
    kmqtt_client_destroy(c);
}

/* The message property getters (client.h): each finds its property, and
 * takes a NULL output; none is found in no message. */
static void message_getters_find_and_take_null(void **state)
{
    (void)state;
    static const uint8_t raw[] = {0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x3c, 0x03, 0x00, 0x01,
                                  't',  0x08, 0x00, 0x01, 'r',  0x09, 0x00, 0x01, 'c',  0x26,
                                  0x00, 0x01, 'n',  0x00, 0x01, 'v',  0x0b, 0x05};
    kmqtt_publish_t m;
    kmqtt_prop_iter_t it;
    kmqtt_str_t str;
    uint32_t num = 0;
    memset(&m, 0, sizeof m);
    m.props.raw = raw;
    m.props.raw_len = sizeof raw;
    assert_true(kmqtt_msg_content_type(&m, NULL));
    assert_true(kmqtt_msg_content_type(&m, &str));
    assert_int_equal(str.len, 1);
    assert_true(kmqtt_msg_response_topic(&m, NULL));
    assert_true(kmqtt_msg_correlation_data(&m, NULL));
    assert_true(kmqtt_msg_message_expiry(&m, NULL));
    assert_true(kmqtt_msg_message_expiry(&m, &num));
    assert_int_equal(num, 60);
    assert_int_equal(kmqtt_msg_payload_format(&m), 1);
    kmqtt_prop_iter_init(&it, &m.props);
    assert_true(kmqtt_next_user_prop(&it, NULL, NULL));
    assert_false(kmqtt_next_user_prop(&it, NULL, NULL));
    kmqtt_prop_iter_init(&it, &m.props);
    assert_true(kmqtt_next_subscription_id(&it, NULL));
    kmqtt_prop_iter_init(&it, &m.props);
    assert_true(kmqtt_next_subscription_id(&it, &num));
    assert_int_equal(num, 5);
    assert_false(kmqtt_next_user_prop(NULL, NULL, NULL));
    assert_false(kmqtt_next_subscription_id(NULL, NULL));
    assert_false(kmqtt_msg_content_type(NULL, &str));
}

/* kmqtt_request: its arguments, and 5.0 only (4.10). */
static void request_refuses_bad_arguments(void **state)
{
    (void)state;
    char reply[8];
    size_t reply_len = 99;
    kmqtt_client_t *c = client(KMQTT_V5);
    assert_int_equal(kmqtt_request(NULL, "t", "x", 1, 1, "r", 10, reply, sizeof reply, &reply_len),
                     KMQTT_EINVAL);
    assert_int_equal(reply_len, 0);
    assert_int_equal(kmqtt_request(c, NULL, "x", 1, 1, "r", 10, reply, sizeof reply, NULL),
                     KMQTT_EINVAL);
    assert_int_equal(kmqtt_request(c, "t", "x", 1, 1, NULL, 10, reply, sizeof reply, NULL),
                     KMQTT_EINVAL);
    assert_int_equal(kmqtt_request(c, "t", "x", 1, 1, "r", 10, NULL, 4, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_request(c, "t", "x", 1, 1, "r/#", 10, reply, sizeof reply, NULL),
                     KMQTT_EINVAL);
    kmqtt_client_destroy(c);
    c = client(KMQTT_V311);
    assert_int_equal(kmqtt_request(c, "t", "x", 1, 1, "r", 10, reply, sizeof reply, NULL),
                     KMQTT_ENEEDV5);
    kmqtt_client_destroy(c);
}
#endif

/* Every call on a NULL client is KMQTT_EINVAL (or a neutral answer), and
 * what needs a connection on one never connected says so: nothing blocks
 * or crashes. */
static void calls_on_null_and_unconnected_clients(void **state)
{
    (void)state;
    kmqtt_client_info_t info;
    kmqtt_connack_info_t ca;
    uint8_t reason = 0;
    assert_int_equal(kmqtt_connect(NULL, 10, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_disconnect(NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_flush(NULL, 10), KMQTT_EINVAL);
    assert_int_equal(kmqtt_run(NULL, 10), KMQTT_EINVAL);
    assert_int_equal(kmqtt_start(NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_client_info(NULL, &info), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(NULL, "t", "x", 1, 0, false, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_wait(NULL, 1, 10, &reason), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_wait_all(NULL, 10), KMQTT_EINVAL);
    assert_int_equal(kmqtt_queue_count(NULL), 0);
#if KMQTT_CFG_V5
    kmqtt_str_t str;
    assert_int_equal(kmqtt_client_connack(NULL, &ca), KMQTT_EINVAL);
    assert_false(kmqtt_client_reason_string(NULL, &str));
    assert_int_equal(kmqtt_reauthenticate(NULL, NULL, 0, 10, NULL), KMQTT_EINVAL);
#endif
    (void)ca;

    kmqtt_client_t *c = client(KMQTT_V311);
    assert_int_equal(kmqtt_client_info(c, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_client_info(c, &info), KMQTT_OK);
    assert_int_equal(kmqtt_publish(c, NULL, "x", 1, 0, false, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 3, false, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(c, "t", NULL, 1, 0, false, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish_wait(c, 0, 10, &reason), KMQTT_EINVAL);
    assert_int_equal(kmqtt_publish(c, "t", "x", 1, 1, false, NULL, NULL), KMQTT_ENOTCONN);
    assert_int_equal(kmqtt_flush(c, 10), KMQTT_OK);              /* nothing to flush */
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_ENOTCONN); /* never connected */
    kmqtt_client_destroy(c);
#if KMQTT_CFG_V5
    c = client(KMQTT_V5);
    /* no CONNACK yet */
    assert_int_equal(kmqtt_client_connack(c, NULL), KMQTT_EINVAL);
    assert_false(kmqtt_client_reason_string(c, NULL));
    assert_false(kmqtt_client_reason_string(c, &str));
    /* re-authentication: data within 65,535 bytes, a method set at
     * create (MQTT-4.12.1-1), a connection */
    assert_int_equal(kmqtt_reauthenticate(c, NULL, 3, 10, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_reauthenticate(c, "d", 70000, 10, NULL), KMQTT_EINVAL);
    assert_int_not_equal(kmqtt_reauthenticate(c, "d", 1, 10, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    kmqtt_client_options_t o;
    base(&o, KMQTT_V5);
    o.auth_method = "m";
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_reauthenticate(c, "d", 1, 10, NULL), KMQTT_ENOTCONN);
    kmqtt_client_destroy(c);
#endif
}

/* A server list (options.servers): "host:port" entries separated by
 * commas, blanks around them, IPv6 literals in brackets; anything else is
 * refused at create. Sizes the client cannot hold are clamped, not refused. */
static void server_list_and_clamped_sizes(void **state)
{
    (void)state;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    static const char *const bad[] = {"a:1,",     "a",  "a:1:2",    "a[b]:1", "[::1:1", "[::1]",
                                      "[[::1]:1", "a:", "a:123456", "a:0",    "a:1x",   "a]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        base(&o, KMQTT_V311);
        o.servers = bad[i];
        if (kmqtt_client_create(&o, &c) != KMQTT_EINVAL)
            fail_msg("servers \"%s\" accepted", bad[i]);
    }
    base(&o, KMQTT_V311);
    o.servers = " a:1 ,\tb:2\t, [::1]:1883";
    o.max_inflight = 1000; /* the engine's window is a byte: 255 */
    o.store_size = 0;      /* the default */
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_client_destroy(c);
#if KMQTT_CFG_V5
    base(&o, KMQTT_V5);
    o.rx_buffer_size = 4096;
    o.maximum_packet_size = 1024; /* rx advertised smaller than it is */
    o.topic_alias_out = 4;        /* slots of the default 64 bytes */
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_client_destroy(c);
#endif
}

/* A client in the caller's memory (options.memory) keeps one filter slot
 * of max_filter_len bytes per handler: a longer filter is KMQTT_ELIMIT,
 * refused before anything is sent. */
static void fixed_memory_filter_slots_bound_filters(void **state)
{
    (void)state;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    base(&o, KMQTT_V311);
    o.max_filter_len = 8;
    o.max_subscriptions = 2;
    size_t need = kmqtt_client_memory_size(&o);
    assert_true(need > 0);
    void *mem = malloc(need + 64);
    assert_non_null(mem);
    o.memory = mem;
    o.memory_size = need + 64;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_sub_request_t sub = {"abcdefghij", 0, NULL, NULL};
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, 10, NULL, NULL), KMQTT_ELIMIT);
    sub.filter = "abc";
    assert_int_equal(kmqtt_subscribe(c, &sub, 1, 10, NULL, NULL), KMQTT_ENOTCONN);
    kmqtt_client_destroy(c);
    free(mem);
#if KMQTT_CFG_V5
    /* 5.0: an Authentication Method without data, alias slots of a set size */
    base(&o, KMQTT_V5);
    o.auth_method = "m";
    o.topic_alias_out = 2;
    o.topic_alias_maximum = 2;
    o.alias_topic_len = 32;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_client_destroy(c);
#endif
}

/* subscribe / unsubscribe: their arguments, checked before anything is
 * sent (MQTT-3.8.3-3: at least one filter; MQTT-4.7.1: valid filters). */
static void subscribe_refuses_bad_arguments(void **state)
{
    (void)state;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    base(&o, KMQTT_V5);
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    kmqtt_sub_request_t subs[KMQTT_SUB_FILTERS_MAX + 1];
    const char *filters[KMQTT_SUB_FILTERS_MAX + 1];
    memset(subs, 0, sizeof subs);
    for (size_t i = 0; i <= KMQTT_SUB_FILTERS_MAX; i++) {
        subs[i].filter = "a";
        filters[i] = "a";
    }
    assert_int_equal(kmqtt_subscribe(NULL, subs, 1, 10, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_subscribe(c, NULL, 1, 10, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_subscribe(c, subs, 0, 10, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_subscribe(c, subs, KMQTT_SUB_FILTERS_MAX + 1, 10, NULL, NULL),
                     KMQTT_ELIMIT);
    subs[0].filter = NULL;
    assert_int_equal(kmqtt_subscribe(c, subs, 1, 10, NULL, NULL), KMQTT_EINVAL);
    subs[0].filter = "a";
    subs[0].qos = 3;
    assert_int_equal(kmqtt_subscribe(c, subs, 1, 10, NULL, NULL), KMQTT_EINVAL);
    subs[0].qos = 0;
#if KMQTT_CFG_V5
    kmqtt_subscribe_props_t sp;
    kmqtt_sub_options_t so;
    memset(&sp, 0, sizeof sp);
    memset(&so, 0, sizeof so);
    so.retain_handling = 3; /* MQTT-3.8.3-5: reserved */
    sp.options = &so;
    assert_int_equal(kmqtt_subscribe(c, subs, 1, 10, &sp, NULL), KMQTT_EINVAL);
    sp.options = NULL;
    sp.subscription_id = 268435456u; /* 1..268,435,455 (3.8.2.1.2) */
    assert_int_equal(kmqtt_subscribe(c, subs, 1, 10, &sp, NULL), KMQTT_EINVAL);
#endif
    assert_int_equal(kmqtt_unsubscribe(NULL, filters, 1, 10, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_unsubscribe(c, NULL, 1, 10, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_unsubscribe(c, filters, 0, 10, NULL, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_unsubscribe(c, filters, KMQTT_SUB_FILTERS_MAX + 1, 10, NULL, NULL),
                     KMQTT_EINVAL);
    filters[0] = NULL;
    assert_int_equal(kmqtt_unsubscribe(c, filters, 1, 10, NULL, NULL), KMQTT_EINVAL);
    filters[0] = "a/#/b";
    assert_int_equal(kmqtt_unsubscribe(c, filters, 1, 10, NULL, NULL), KMQTT_EINVAL);
    /* not connected: the valid request is refused, not queued */
    filters[0] = "a";
    assert_int_equal(kmqtt_unsubscribe(c, filters, 1, 10, NULL, NULL), KMQTT_ENOTCONN);
    kmqtt_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_refuses_each_bad_option),
        cmocka_unit_test(create_accepts_what_it_can_resolve),
        cmocka_unit_test(memory_size_answers_0_for_what_create_refuses),
#if KMQTT_CFG_V5
        cmocka_unit_test(create_refuses_bad_5_properties),
        cmocka_unit_test(publish_refuses_bad_properties),
        cmocka_unit_test(request_refuses_bad_arguments),
        cmocka_unit_test(message_getters_find_and_take_null),
#endif
        cmocka_unit_test(subscribe_refuses_bad_arguments),
        cmocka_unit_test(calls_on_null_and_unconnected_clients),
        cmocka_unit_test(server_list_and_clamped_sizes),
        cmocka_unit_test(fixed_memory_filter_slots_bound_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
