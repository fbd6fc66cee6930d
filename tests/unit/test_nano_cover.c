/*
 * The nano driver's (include/kmqtt/nano.h) edges that the scenario tests do
 * not reach (issue 21, coverage): calls on a NULL or never-initialised
 * client, kmqtt_nano_disconnect over a socket that drains slowly, refuses
 * or fails, a transport whose send fails, a full rx behind a full tx, and a
 * client without a callback. Scripted transport and a fake clock
 * (support/nano_script.c); a wrapper transport adds the failures the script
 * does not script.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nano_script.h"

static nt_t T;

/* The wrapper: the script's transport, but send fails with send_err when
 * set, wait fails with wait_err when set, and each wait may give the socket
 * wait_room more bytes of room. */
static kmqtt_transport_t W;
static kmqtt_err_t send_err, wait_err;
static long wait_room;
static bool wait_never_writable;

static long w_send(void *ctx, const void *buf, size_t len)
{
    if (send_err != KMQTT_OK)
        return send_err;
    return T.ns.tp.send(ctx, buf, len);
}

static kmqtt_err_t w_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    if (wait_err != KMQTT_OK)
        return wait_err;
    if (wait_room > 0)
        T.ns.send_room = wait_room;
    kmqtt_err_t err = T.ns.tp.wait(ctx, events, timeout_ms, ready);
    if (wait_never_writable)
        *ready &= ~(unsigned)KMQTT_WAIT_WRITE;
    return err;
}

static void wrapped(uint8_t version)
{
    nt_setup(&T, version);
    W = T.ns.tp;
    W.send = w_send;
    W.wait = w_wait;
    T.cfg.transport = &W;
    send_err = wait_err = KMQTT_OK;
    wait_room = 0;
    wait_never_writable = false;
    assert_int_equal(nt_init(&T), KMQTT_OK);
}

/* ------------------------------------------------------ NULL and unset */

/* The API's contract: a NULL or never-initialised client is KMQTT_EINVAL
 * (or a neutral answer for getters), never a crash. */
static void null_and_unset_clients_are_refused(void **state)
{
    (void)state;
    kmqtt_nano_t z;
    kmqtt_nano_msg_t m = nt_msg("t/1", "x", 0, false);
    kmqtt_nano_sub_t sub = {"a", 0};
    const char *filters[] = {"a"};
    memset(&z, 0, sizeof z);
    kmqtt_nano_config_init(NULL);
    assert_int_equal(kmqtt_nano_connect(NULL, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_connect(&z, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_disconnect(NULL, 0, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_disconnect(&z, 0, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_poll(&z, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_step(NULL, 0, 0), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_publish(NULL, &m, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_subscribe(NULL, &sub, 1, NULL, 0, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_unsubscribe(NULL, filters, 1, 0, NULL), KMQTT_EINVAL);
    assert_int_equal(kmqtt_nano_auth(NULL, 0x18, NULL, 0, 0), KMQTT_EINVAL);
    assert_false(kmqtt_nano_want_write(NULL));
    assert_false(kmqtt_nano_want_write(&z));
    assert_int_equal(kmqtt_nano_state(NULL), KMQTT_NANO_IDLE);
    assert_int_equal(kmqtt_nano_inflight(NULL), 0);
    assert_int_equal(kmqtt_nano_store_used(NULL), 0);
    assert_int_equal(kmqtt_nano_qos2_evictions(NULL), 0);
    assert_int_equal(kmqtt_nano_unknown_acks(NULL), 0);
}

/* MQTT-3.1.3-6: no client id goes as a zero-length one (and seeds the
 * backoff's randomness all the same). */
static void no_client_id_connects_with_an_empty_one(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.client_id = NULL;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    nt_expect_sent(&T, "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00");
}

/* ------------------------------------------------------------ disconnect */

/* A socket that takes a byte per wait: the DISCONNECT goes whole, then the
 * transport closes (MQTT-3.14.4-1). */
static void disconnect_over_a_slow_socket_sends_it_whole(void **state)
{
    (void)state;
    wrapped(KMQTT_V311);
    nt_connected(&T, 0, false);
    T.ns.send_room = 0;
    wait_room = 1;
    assert_int_equal(kmqtt_nano_disconnect(&T.c, 0, 1000), KMQTT_OK);
    nt_expect_sent(&T, "e0 00");
    assert_int_equal(T.ns.closes, 1);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_IDLE);
}

/* The DISCONNECT is queued once tx made room for it: a full tx goes first. */
static void disconnect_behind_a_full_tx_goes_after_it(void **state)
{
    (void)state;
    wrapped(KMQTT_V311);
    nt_connected(&T, 0, false);
    T.ns.send_room = 0;
    kmqtt_nano_msg_t m = nt_msg("t/1", "", 0, false);
    static char payload[NT_TX_SIZE];
    memset(payload, 'p', sizeof payload - 1);
    payload[NT_TX_SIZE - 1 - 7 - 1] = '\0'; /* a PUBLISH of 255 bytes: tx has 1 left */
    m.payload = (const uint8_t *)payload;
    m.payload_len = strlen(payload);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_OK);
    assert_true(kmqtt_nano_want_write(&T.c));
    wait_room = 64;
    assert_int_equal(kmqtt_nano_disconnect(&T.c, 0, 1000), KMQTT_OK);
    assert_int_equal(T.ns.out_len, NT_TX_SIZE - 1 + 2);
    assert_int_equal(T.ns.out[T.ns.out_len - 2], 0xe0);
    assert_int_equal(T.ns.closes, 1);
}

/* A socket that fails, refuses to wait or never becomes writable: the
 * disconnect gives up with KMQTT_ETIMEDOUT and still closes (DESIGN rule 1:
 * nothing leaks). */
static void disconnect_gives_up_on_a_failing_socket(void **state)
{
    (void)state;
    wrapped(KMQTT_V311);
    nt_connected(&T, 0, false);
    send_err = KMQTT_EIO;
    assert_int_equal(kmqtt_nano_disconnect(&T.c, 0, 1000), KMQTT_ETIMEDOUT);
    assert_int_equal(T.ns.closes, 1);

    wrapped(KMQTT_V311);
    nt_connected(&T, 0, false);
    T.ns.send_room = 0;
    wait_err = KMQTT_EIO;
    assert_int_equal(kmqtt_nano_disconnect(&T.c, 0, 1000), KMQTT_ETIMEDOUT);
    assert_int_equal(T.ns.closes, 1);

    wrapped(KMQTT_V311);
    nt_connected(&T, 0, false);
    T.ns.send_room = 0;
    wait_room = 1;
    wait_never_writable = true;
    assert_int_equal(kmqtt_nano_disconnect(&T.c, 0, 1000), KMQTT_ETIMEDOUT);
    assert_int_equal(T.ns.closes, 1);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_IDLE);
}

/* ------------------------------------------------------------------- io */

/* A send that fails ends the connection with its error; the next attempt
 * is scheduled (decision: jittered backoff). */
static void failing_send_loses_the_connection(void **state)
{
    (void)state;
    wrapped(KMQTT_V311);
    nt_connected(&T, 0, false);
    kmqtt_nano_msg_t m = nt_msg("t/1", "x", 1, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_OK);
    send_err = KMQTT_EIO;
    nt_poll(&T, 1);
    const nt_ev_t *ev = nt_take(&T, KMQTT_NANO_EV_LOST);
    assert_int_equal(ev->err, KMQTT_EIO);
    assert_int_equal(T.ns.closes, 1);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_WAITING);
    /* the message is kept for the next connection */
    assert_int_equal(kmqtt_nano_inflight(&T.c), 1);
}

/* While the CONNACK is awaited, the next poll is due at its timeout. */
static void connecting_poll_is_due_at_the_connack_timeout(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    nt_open(&T, 0);
    assert_int_equal(nt_poll(&T, 100), T.cfg.connect_timeout_ms - 100);
    assert_int_equal(nt_poll(&T, 2100), T.cfg.connect_timeout_ms - 2100);
}

/* MQTT-4.6.0-2: inbound QoS 1 messages whose PUBACKs find tx full wait in
 * rx, which fills; nothing is lost, and once the socket takes bytes every
 * message is delivered once, in order, and acknowledged in order. */
static void full_rx_behind_full_tx_loses_nothing(void **state)
{
    (void)state;
    nt_start(&T, KMQTT_V311);
    nt_connected(&T, 0, false);
    T.ns.send_room = 0;
    /* tx: 256 bytes, filled to 2 free by QoS 0 messages the socket will not take */
    static char payload[NT_TX_SIZE];
    memset(payload, 'p', sizeof payload - 1);
    payload[NT_TX_SIZE - 2 - 7 - 1] = '\0';
    kmqtt_nano_msg_t m = nt_msg("t/1", payload, 0, false);
    assert_int_equal(kmqtt_nano_publish(&T.c, &m, 0, NULL), KMQTT_OK);
    const int count = 30; /* 30 x 17 bytes: more than rx holds */
    for (int i = 1; i <= count; i++)
        nt_feed(&T, nt_publish_hex(0x32, "a", (uint16_t)i, "xxxxxxxxxx", false));
    nt_poll(&T, 1);
    nt_no_event(&T);
    assert_int_equal(T.c.state, KMQTT_NANO_CONNECTED);
    T.ns.send_room = -1;
    for (uint32_t now = 2; now < 40 && T.nev < count; now++)
        nt_poll(&T, now);
    for (int i = 1; i <= count; i++) {
        const nt_ev_t *ev = nt_take(&T, KMQTT_NANO_EV_MESSAGE);
        assert_int_equal(ev->msg_id, i);
    }
    nt_no_event(&T);
    /* after the QoS 0 message: the 30 PUBACKs in order */
    size_t off = T.ns.out_len - (size_t)count * 4;
    for (int i = 1; i <= count; i++) {
        assert_int_equal(T.ns.out[off], 0x40);
        assert_int_equal(T.ns.out[off + 3], i);
        off += 4;
    }
}

/* A backoff that came out 0 (jitter in [d/2, d] with d = 1 ms) makes the
 * attempt due at once: the poll says come back now, and the next poll
 * opens the transport. */
static void reconnect_due_at_once_is_polled_at_once(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.reconnect_min_ms = 1;
    T.cfg.reconnect_max_ms = 1;
    T.cfg.random_seed = 2; /* xorshift32(2) is even: a backoff of 0 */
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_connected(&T, 0, false);
    T.ns.recv_end = KMQTT_ECLOSED;
    assert_int_equal(nt_poll(&T, 5), 0);
    assert_int_equal(nt_take(&T, KMQTT_NANO_EV_LOST)->err, KMQTT_ECLOSED);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_WAITING);
    T.ns.recv_end = 0;
    nt_poll(&T, 5);
    assert_int_equal(T.ns.opens, 2);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTING);
}

/* The backoff's delay after a loss at 10 ms with client id and seed. */
static uint32_t first_backoff(const char *client_id, uint32_t seed)
{
    nt_setup(&T, KMQTT_V311);
    T.cfg.mqtt.client_id = client_id;
    T.cfg.random_seed = seed;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_connected(&T, 0, false);
    T.ns.recv_end = KMQTT_ECLOSED;
    uint32_t next = nt_poll(&T, 10);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_WAITING);
    return next;
}

/* The seed is the client id's FNV-1a hash; xorshift32 never leaves 0, so a
 * hash of 0 ("3u25abs" has one) must not be used as it is, or every device
 * with that id would wait exactly d/2, in step. It becomes 1. */
static void client_id_hashing_to_zero_still_jitters(void **state)
{
    (void)state;
    uint32_t zero_hash = first_backoff("3u25abs", 0);
    assert_int_equal(zero_hash, first_backoff("dev1", 1));
    assert_int_not_equal(zero_hash, T.cfg.reconnect_min_ms / 2);
}

/* Without a callback the client still runs: events go nowhere. */
static void no_callback_still_connects_and_answers(void **state)
{
    (void)state;
    nt_setup(&T, KMQTT_V311);
    T.cfg.on_event = NULL;
    assert_int_equal(nt_init(&T), KMQTT_OK);
    nt_open(&T, 0);
    ns_clear_out(&T.ns);
    nt_feed(&T, "20 02 00 00");
    nt_poll(&T, 1);
    assert_int_equal(kmqtt_nano_state(&T.c), KMQTT_NANO_CONNECTED);
    nt_feed(&T, nt_publish_hex(0x32, "a", 5, "x", false));
    nt_poll(&T, 2);
    nt_expect_sent(&T, "40 02 00 05");
    assert_int_equal(T.nev, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_and_unset_clients_are_refused),
        cmocka_unit_test(no_client_id_connects_with_an_empty_one),
        cmocka_unit_test(disconnect_over_a_slow_socket_sends_it_whole),
        cmocka_unit_test(disconnect_behind_a_full_tx_goes_after_it),
        cmocka_unit_test(disconnect_gives_up_on_a_failing_socket),
        cmocka_unit_test(failing_send_loses_the_connection),
        cmocka_unit_test(connecting_poll_is_due_at_the_connack_timeout),
        cmocka_unit_test(full_rx_behind_full_tx_loses_nothing),
        cmocka_unit_test(reconnect_due_at_once_is_polled_at_once),
        cmocka_unit_test(client_id_hashing_to_zero_still_jitters),
        cmocka_unit_test(no_callback_still_connects_and_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
