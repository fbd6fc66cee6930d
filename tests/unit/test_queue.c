/* The offline queue of store and forward (src/client/client_queue.c):
 * bounds by count and bytes, the refuse-new and drop-oldest policies, what
 * the drop report carries, and order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "client/client_queue.h"

typedef struct drops {
    int n;
    uint32_t seq[64];
    uint8_t qos[64];
    char topic[64][32];
    char payload[64][32];
} drops_t;

static void on_drop(const kc_queue_item_t *it, void *ctx)
{
    drops_t *d = ctx;

    assert_true(d->n < 64);
    d->seq[d->n] = it->seq;
    d->qos[d->n] = it->qos;
    snprintf(d->topic[d->n], sizeof d->topic[0], "%.*s", (int)it->topic_len, it->topic);
    snprintf(d->payload[d->n], sizeof d->payload[0], "%.*s", (int)it->payload_len,
             (const char *)it->payload);
    d->n++;
}

static kmqtt_err_t push(kc_queue_t *q, const char *payload, uint8_t qos, drops_t *d, uint32_t *seq)
{
    return kc_queue_push(q, "t/q", 3, payload, strlen(payload), qos, false, on_drop, d, seq);
}

/* Pops everything, checking the payloads come out in the order given. */
static void expect_order(kc_queue_t *q, const char *const *want, int n)
{
    kc_queue_item_t it;
    int i;

    for (i = 0; i < n; i++) {
        assert_true(kc_queue_front(q, &it));
        assert_int_equal(it.payload_len, strlen(want[i]));
        assert_memory_equal(it.payload, want[i], it.payload_len);
        assert_int_equal(it.topic_len, 3);
        assert_memory_equal(it.topic, "t/q", 3);
        kc_queue_pop(q);
    }
    assert_false(kc_queue_front(q, &it));
    assert_int_equal(q->count, 0);
    assert_int_equal(kc_queue_bytes(q), 0);
}

static void test_order_and_wrap(void **state)
{
    uint8_t buf[200];
    kc_queue_t q;
    kc_queue_item_t it;
    drops_t d;
    char p[16];
    uint32_t seq, expect = 1;
    int i, round;

    (void)state;
    memset(&d, 0, sizeof d);
    kc_queue_init(&q, buf, sizeof buf, 100, KMQTT_QUEUE_REFUSE_NEW);
    /* Many rounds of fill-some / take-some: the live entries slide to the
     * front when the end is reached; order and contents must hold. */
    for (round = 0; round < 50; round++) {
        for (i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "m%d", round * 3 + i);
            assert_int_equal(push(&q, p, (uint8_t)(i % 3), &d, &seq), KMQTT_OK);
            assert_int_equal(seq, (uint32_t)(round * 3 + i + 1));
        }
        for (i = 0; i < 3; i++) {
            assert_true(kc_queue_front(&q, &it));
            assert_int_equal(it.seq, expect);
            snprintf(p, sizeof p, "m%u", (unsigned)(expect - 1));
            assert_int_equal(it.payload_len, strlen(p));
            assert_memory_equal(it.payload, p, strlen(p));
            assert_int_equal(it.qos, (expect - 1) % 3);
            expect++;
            kc_queue_pop(&q);
        }
    }
    assert_int_equal(d.n, 0);
    assert_int_equal(q.count, 0);
}

static void test_refuse_new_count(void **state)
{
    uint8_t buf[1024];
    kc_queue_t q;
    drops_t d;
    static const char *const want[] = {"a", "b", "c"};

    (void)state;
    memset(&d, 0, sizeof d);
    kc_queue_init(&q, buf, sizeof buf, 3, KMQTT_QUEUE_REFUSE_NEW);
    assert_int_equal(push(&q, "a", 0, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "b", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "c", 2, &d, NULL), KMQTT_OK);
    /* Full by count: the new one is refused, nothing is lost. */
    assert_int_equal(push(&q, "d", 1, &d, NULL), KMQTT_EQUEUE_FULL);
    assert_int_equal(d.n, 0);
    expect_order(&q, want, 3);
}

static void test_refuse_new_bytes(void **state)
{
    uint8_t buf[3 * (KC_QUEUE_HDR + 3 + 4)];
    kc_queue_t q;
    drops_t d;
    static const char *const want[] = {"aaaa", "bbbb", "cccc", "e"};

    (void)state;
    memset(&d, 0, sizeof d);
    kc_queue_init(&q, buf, sizeof buf, 100, KMQTT_QUEUE_REFUSE_NEW);
    assert_int_equal(push(&q, "aaaa", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "bbbb", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "cccc", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(kc_queue_bytes(&q), sizeof buf);
    assert_int_equal(push(&q, "d", 1, &d, NULL), KMQTT_EQUEUE_FULL);
    /* Larger than the whole buffer: never fits, a different error. */
    assert_int_equal(
        push(&q, "0123456789012345678901234567890123456789012345678901234567890", 1, &d, NULL),
        KMQTT_ETOOBIG);
    kc_queue_pop(&q);
    /* Room again, at the end only after sliding the live entries. */
    assert_int_equal(push(&q, "e", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(d.n, 0);
    kc_queue_init(&q, buf, sizeof buf, 100, KMQTT_QUEUE_REFUSE_NEW);
    assert_int_equal(push(&q, "aaaa", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "bbbb", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "cccc", 1, &d, NULL), KMQTT_OK);
    kc_queue_pop(&q);
    kc_queue_pop(&q);
    kc_queue_pop(&q);
    assert_int_equal(push(&q, "e", 1, &d, NULL), KMQTT_OK);
    (void)want;
}

static void test_drop_oldest_qos0_first(void **state)
{
    uint8_t buf[1024];
    kc_queue_t q;
    drops_t d;
    static const char *const want[] = {"q1a", "q2b", "q1c", "new1", "new2"};

    (void)state;
    memset(&d, 0, sizeof d);
    kc_queue_init(&q, buf, sizeof buf, 5, KMQTT_QUEUE_DROP_OLDEST);
    assert_int_equal(push(&q, "q1a", 1, &d, NULL), KMQTT_OK);  /* seq 1 */
    assert_int_equal(push(&q, "q0a", 0, &d, NULL), KMQTT_OK);  /* seq 2 */
    assert_int_equal(push(&q, "q2b", 2, &d, NULL), KMQTT_OK);  /* seq 3 */
    assert_int_equal(push(&q, "q0b", 0, &d, NULL), KMQTT_OK);  /* seq 4 */
    assert_int_equal(push(&q, "q1c", 1, &d, NULL), KMQTT_OK);  /* seq 5 */
    assert_int_equal(push(&q, "new1", 1, &d, NULL), KMQTT_OK); /* drops q0a */
    assert_int_equal(push(&q, "new2", 2, &d, NULL), KMQTT_OK); /* drops q0b */
    assert_int_equal(d.n, 2);
    assert_int_equal(d.seq[0], 2);
    assert_int_equal(d.qos[0], 0);
    assert_string_equal(d.topic[0], "t/q");
    assert_string_equal(d.payload[0], "q0a");
    assert_int_equal(d.seq[1], 4);
    assert_string_equal(d.payload[1], "q0b");
    expect_order(&q, want, 5);
}

static void test_drop_oldest_then_oldest(void **state)
{
    uint8_t buf[1024];
    kc_queue_t q;
    drops_t d;
    static const char *const want[] = {"c", "d", "e"};

    (void)state;
    memset(&d, 0, sizeof d);
    kc_queue_init(&q, buf, sizeof buf, 3, KMQTT_QUEUE_DROP_OLDEST);
    assert_int_equal(push(&q, "a", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "b", 2, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "c", 1, &d, NULL), KMQTT_OK);
    /* No QoS 0 left: the oldest goes, whatever its QoS. */
    assert_int_equal(push(&q, "d", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "e", 0, &d, NULL), KMQTT_OK);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.payload[0], "a");
    assert_int_equal(d.qos[0], 1);
    assert_int_equal(d.seq[0], 1);
    assert_string_equal(d.payload[1], "b");
    assert_int_equal(d.qos[1], 2);
    expect_order(&q, want, 3);
}

static void test_drop_for_bytes(void **state)
{
    uint8_t buf[3 * (KC_QUEUE_HDR + 3 + 4)];
    kc_queue_t q;
    drops_t d;
    static const char *const want[] = {"bbbb", "dddddddd"};

    (void)state;
    memset(&d, 0, sizeof d);
    kc_queue_init(&q, buf, sizeof buf, 100, KMQTT_QUEUE_DROP_OLDEST);
    assert_int_equal(push(&q, "aaaa", 0, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "bbbb", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "cccc", 0, &d, NULL), KMQTT_OK);
    /* Needs the room of one entry plus 4 bytes: both QoS 0 ones go. */
    assert_int_equal(push(&q, "dddddddd", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.payload[0], "aaaa");
    assert_string_equal(d.payload[1], "cccc");
    expect_order(&q, want, 2);
}

static void test_clear_reports_all(void **state)
{
    uint8_t buf[256];
    kc_queue_t q;
    drops_t d;

    (void)state;
    memset(&d, 0, sizeof d);
    kc_queue_init(&q, buf, sizeof buf, 10, KMQTT_QUEUE_REFUSE_NEW);
    assert_int_equal(push(&q, "x", 1, &d, NULL), KMQTT_OK);
    assert_int_equal(push(&q, "y", 2, &d, NULL), KMQTT_OK);
    kc_queue_clear(&q, on_drop, &d);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.payload[0], "x");
    assert_string_equal(d.payload[1], "y");
    assert_int_equal(q.count, 0);
}

static void test_off(void **state)
{
    kc_queue_t q;
    kmqtt_client_options_t o;

    (void)state;
    kc_queue_init(&q, NULL, 0, 0, KMQTT_QUEUE_REFUSE_NEW);
    assert_int_equal(push(&q, "x", 1, NULL, NULL), KMQTT_ENOTCONN);
    kmqtt_client_options_init(&o);
    assert_int_equal(kc_queue_memory_size(&o), 0); /* off by default */
    o.offline_queue_max_msgs = 10;
    o.offline_queue_max_bytes = 4096;
    assert_int_equal(kc_queue_memory_size(&o), 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_wrap),
        cmocka_unit_test(test_refuse_new_count),
        cmocka_unit_test(test_refuse_new_bytes),
        cmocka_unit_test(test_drop_oldest_qos0_first),
        cmocka_unit_test(test_drop_oldest_then_oldest),
        cmocka_unit_test(test_drop_for_bytes),
        cmocka_unit_test(test_clear_reports_all),
        cmocka_unit_test(test_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
