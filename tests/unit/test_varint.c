/* The codec's reader and writer of a variable byte integer (MQTT-1.5.5 in
 * 5.0, 2.2.3 in 3.1.1), rd_varint and wr_varint of codec_internal.h, which
 * the nano client reads property lengths with. make prove checks the round
 * trip for every value (tests/prove/varint_roundtrip.c); these are the
 * boundaries and the errors, in the suite that runs everywhere. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "codec/codec_internal.h"

/* The spec's table in 1.5.5: the first and last value of each length. */
static const struct {
    uint32_t value;
    uint8_t bytes[4];
    size_t n;
} boundaries[] = {
    {0, {0x00}, 1},
    {127, {0x7F}, 1},
    {128, {0x80, 0x01}, 2},
    {16383, {0xFF, 0x7F}, 2},
    {16384, {0x80, 0x80, 0x01}, 3},
    {2097151, {0xFF, 0xFF, 0x7F}, 3},
    {2097152, {0x80, 0x80, 0x80, 0x01}, 4},
    {268435455, {0xFF, 0xFF, 0xFF, 0x7F}, 4},
};

static void test_each_length_boundary_is_written_as_the_spec_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++) {
        uint8_t buf[8] = {0};
        wr_t w = {buf, buf + sizeof buf, false};
        wr_varint(&w, boundaries[i].value);
        assert_false(w.overflow);
        assert_int_equal((size_t)(w.p - buf), boundaries[i].n);
        assert_memory_equal(buf, boundaries[i].bytes, boundaries[i].n);
        assert_int_equal(kmqtt_varint_size(boundaries[i].value), boundaries[i].n);
    }
}

static void test_each_length_boundary_reads_back(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++) {
        /* A byte after the integer must be left for the next field. */
        uint8_t buf[5];
        memcpy(buf, boundaries[i].bytes, boundaries[i].n);
        buf[boundaries[i].n] = 0xAA;
        rd_t r = {buf, buf + boundaries[i].n + 1};
        uint32_t v = 0xFFFFFFFFu;
        assert_int_equal(rd_varint(&r, &v), KMQTT_OK);
        assert_int_equal(v, boundaries[i].value);
        assert_ptr_equal(r.p, buf + boundaries[i].n);
    }
}

/* MQTT-1.5.5: at most four bytes; a continuation bit on the fourth is
 * malformed, not a larger value. */
static void test_a_fifth_byte_is_a_malformed_integer(void **state)
{
    (void)state;
    const uint8_t five[] = {0x80, 0x80, 0x80, 0x80, 0x01};
    rd_t r = {five, five + sizeof five};
    uint32_t v = 0;
    assert_int_equal(rd_varint(&r, &v), KMQTT_EVARINT);
}

/* Input that ends inside the integer is truncated, whichever byte it ends at. */
static void test_an_integer_cut_short_is_truncated(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0xFF, 0xFF, 0xFF, 0x7F};
    for (size_t n = 0; n < sizeof bytes; n++) {
        rd_t r = {bytes, bytes + n};
        uint32_t v = 0;
        assert_int_equal(rd_varint(&r, &v), KMQTT_ETRUNCATED);
    }
}

/* Each byte carries seven bits of value: the continuation bit is not part
 * of it, in any position. */
static void test_every_low_seven_bit_pattern_reads_back_in_every_position(void **state)
{
    (void)state;
    for (unsigned pos = 0; pos < 4; pos++) {
        for (uint32_t bits = 0; bits < 128; bits++) {
            uint32_t value = bits << (7 * pos);
            uint8_t buf[4];
            wr_t w = {buf, buf + sizeof buf, false};
            wr_varint(&w, value);
            rd_t r = {buf, w.p};
            uint32_t v = 0xFFFFFFFFu;
            assert_int_equal(rd_varint(&r, &v), KMQTT_OK);
            assert_int_equal(v, value);
        }
    }
}

/* The writer never writes past its end: a four-byte integer into three
 * bytes of room is an overflow, nothing written. */
static void test_writing_without_room_writes_nothing(void **state)
{
    (void)state;
    uint8_t buf[4] = {0x11, 0x22, 0x33, 0x44};
    wr_t w = {buf, buf + 3, false};
    wr_varint(&w, 268435455u);
    assert_true(w.overflow);
    assert_ptr_equal(w.p, buf);
    assert_int_equal(buf[0], 0x11);
    assert_int_equal(buf[3], 0x44);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_length_boundary_is_written_as_the_spec_table),
        cmocka_unit_test(test_each_length_boundary_reads_back),
        cmocka_unit_test(test_a_fifth_byte_is_a_malformed_integer),
        cmocka_unit_test(test_an_integer_cut_short_is_truncated),
        cmocka_unit_test(test_every_low_seven_bit_pattern_reads_back_in_every_position),
        cmocka_unit_test(test_writing_without_room_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
