/*
 * Framing and robustness of the decoder: a stream fed in any split, the
 * remaining-length limits, oversized packets refused from the header alone,
 * several packets in one buffer, and packets whose remaining length lies.
 * Every buffer is an exact-size heap block so ASan sees any over-read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "kmqtt/codec.h"

typedef struct sample {
    const char *hex;
    kmqtt_version_t v;
    /* true if no shorter remaining length can make a valid packet (the
     * last field is length-prefixed or mandatory) */
    bool strict;
} sample_t;

/* Valid packets of every type and both versions. */
static const sample_t samples[] = {
    {"10 20 00 04 4d 51 54 54 04 ee 00 3c 00 03 61 62 63 00 03 77 2f 74 00 03 62 79 65"
     " 00 01 75 00 02 70 77",
     KMQTT_V311, true},
    {"10 31 00 04 4d 51 54 54 05 86 00 0a 08 11 00 00 00 78 21 00 14 00 03 63 69 64"
     " 0c 18 00 00 00 05 03 00 04 74 65 78 74 00 03 61 2f 62 00 02 68 69 00 01 75",
     KMQTT_V5, true},
    {"20 02 01 00", KMQTT_V311, true},
    {"20 12 00 00 0f 21 00 0a 24 01 22 00 05 26 00 01 6b 00 01 76", KMQTT_V5, true},
    {"32 07 00 03 61 2f 62 00 0a", KMQTT_V311, true},
    {"32 0d 00 03 61 2f 62 00 01 05 23 00 07 01 01", KMQTT_V5, true},
    {"3c 09 00 03 61 2f 62 12 34 68 69", KMQTT_V311, false},
    {"32 0f 00 03 61 2f 62 00 01 05 23 00 07 01 01 68 69", KMQTT_V5, false},
    {"40 02 00 05", KMQTT_V311, true},
    {"62 02 00 05", KMQTT_V311, true},
    {"40 0a 00 05 80 06 1f 00 03 62 61 64", KMQTT_V5, false},
    {"82 08 00 01 00 03 61 2f 62 01", KMQTT_V311, true},
    {"82 0b 00 02 02 0b 05 00 03 78 2f 2b 2d", KMQTT_V5, true},
    {"82 0e 00 01 00 03 61 2f 62 01 00 03 63 2f 23 02", KMQTT_V311, false},
    {"90 03 00 01 01", KMQTT_V311, true},
    {"90 06 00 01 00 00 02 87", KMQTT_V5, false},
    {"a2 07 00 03 00 03 61 2f 62", KMQTT_V311, true},
    {"a2 08 00 03 00 00 03 61 2f 62", KMQTT_V5, true},
    {"b0 02 00 03", KMQTT_V311, true},
    {"b0 04 00 03 00 11", KMQTT_V5, true},
    {"c0 00", KMQTT_V311, true},
    {"d0 00", KMQTT_V5, true},
    {"e0 00", KMQTT_V311, true},
    {"e0 07 04 05 11 00 00 00 00", KMQTT_V5, false},
    {"f0 0a 18 08 15 00 05 53 43 52 41 4d", KMQTT_V5, false},
};
#define NSAMPLES (sizeof samples / sizeof samples[0])

static uint8_t *dup_bytes(const uint8_t *src, size_t n)
{
    uint8_t *p = malloc(n > 0 ? n : 1);
    assert_non_null(p);
    if (n > 0)
        memcpy(p, src, n);
    return p;
}

static size_t load_sample(size_t i, uint8_t *out, size_t cap)
{
    return hex_decode(samples[i].hex, out, cap);
}

static void test_every_sample_decodes(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSAMPLES; i++) {
        uint8_t tmp[256];
        size_t n = load_sample(i, tmp, sizeof tmp);
        uint8_t *buf = dup_bytes(tmp, n);
        kmqtt_packet_t p;
        size_t consumed = 0, frame_len = 0;
        assert_int_equal(kmqtt_packet_frame(buf, n, 0, &frame_len), KMQTT_OK);
        assert_int_equal(frame_len, n);
        assert_int_equal(kmqtt_packet_decode(buf, n, samples[i].v, 0, &p, &consumed), KMQTT_OK);
        assert_int_equal(consumed, n);
        assert_int_equal(p.type, buf[0] >> 4);
        free(buf);
    }
}

static void test_every_prefix_needs_more(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSAMPLES; i++) {
        uint8_t tmp[256];
        size_t n = load_sample(i, tmp, sizeof tmp);
        for (size_t len = 0; len < n; len++) {
            uint8_t *buf = dup_bytes(tmp, len);
            kmqtt_packet_t p;
            size_t consumed = 99, need = 0;
            assert_int_equal(kmqtt_packet_frame(buf, len, 0, &need), KMQTT_NEED_MORE);
            /* Once the header is in, the whole packet length is known. */
            assert_true(need > len);
            assert_int_equal(need, len >= 2 ? n : 2);
            assert_int_equal(kmqtt_packet_decode(buf, len, samples[i].v, 0, &p, &consumed),
                             KMQTT_NEED_MORE);
            assert_int_equal(consumed, 0);
            free(buf);
        }
    }
}

static void test_prefix_of_multi_byte_remaining_length_needs_more(void **state)
{
    (void)state;
    uint8_t hdr[] = {0x30, 0x80, 0x80, 0x80};
    size_t need = 0;
    for (size_t len = 1; len <= sizeof hdr; len++) {
        uint8_t *buf = dup_bytes(hdr, len);
        assert_int_equal(kmqtt_packet_frame(buf, len, 0, &need), KMQTT_NEED_MORE);
        /* at least one more header byte */
        assert_int_equal(need, len + 1);
        free(buf);
    }
}

static void test_MQTT_1_5_5_fifth_remaining_length_byte_is_rejected(void **state)
{
    (void)state;
    uint8_t five[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01};
    uint8_t *buf = dup_bytes(five, sizeof five);
    size_t need = 0, consumed = 99;
    kmqtt_packet_t p;
    assert_int_equal(kmqtt_packet_frame(buf, sizeof five, 0, &need), KMQTT_EREMLEN);
    assert_int_equal(kmqtt_packet_decode(buf, sizeof five, KMQTT_V5, 0, &p, &consumed),
                     KMQTT_EREMLEN);
    assert_int_equal(consumed, 0);
    /* Known as soon as the fourth length byte carries a continuation bit. */
    assert_int_equal(kmqtt_packet_frame(buf, 5, 0, &need), KMQTT_EREMLEN);
    free(buf);
}

static void test_largest_remaining_length_is_accepted_by_frame(void **state)
{
    (void)state;
    uint8_t hdr[] = {0x30, 0xff, 0xff, 0xff, 0x7f};
    uint8_t *buf = dup_bytes(hdr, sizeof hdr);
    size_t need = 0;
    assert_int_equal(kmqtt_packet_frame(buf, sizeof hdr, 0, &need), KMQTT_NEED_MORE);
    assert_int_equal(need, KMQTT_PACKET_MAX);
    free(buf);
}

static void test_oversized_packet_is_rejected_from_header_alone(void **state)
{
    (void)state;
    size_t need = 0, consumed = 99;
    kmqtt_packet_t p;
    /* 1 MB = 0x80 0x80 0x40, announced in a 4-byte buffer. */
    uint8_t mb[] = {0x30, 0x80, 0x80, 0x40};
    uint8_t *buf = dup_bytes(mb, sizeof mb);
    assert_int_equal(kmqtt_packet_frame(buf, sizeof mb, 1024, &need), KMQTT_ETOOBIG);
    assert_int_equal(kmqtt_packet_decode(buf, sizeof mb, KMQTT_V5, 1024, &p, &consumed),
                     KMQTT_ETOOBIG);
    assert_int_equal(consumed, 0);
    free(buf);

    /* A 3-byte buffer: remaining length 1024 makes a 1027-byte packet. */
    uint8_t k[] = {0x30, 0x80, 0x08};
    buf = dup_bytes(k, sizeof k);
    assert_int_equal(kmqtt_packet_frame(buf, sizeof k, 1024, &need), KMQTT_ETOOBIG);
    /* ... which fits a limit of exactly 1027. */
    assert_int_equal(kmqtt_packet_frame(buf, sizeof k, 1027, &need), KMQTT_NEED_MORE);
    assert_int_equal(need, 1027);
    assert_int_equal(kmqtt_packet_frame(buf, sizeof k, 1026, &need), KMQTT_ETOOBIG);
    free(buf);
}

static void test_max_packet_size_counts_the_whole_packet(void **state)
{
    (void)state;
    uint8_t ping[] = {0xc0, 0x00};
    uint8_t *buf = dup_bytes(ping, sizeof ping);
    size_t need = 0;
    assert_int_equal(kmqtt_packet_frame(buf, 2, 2, &need), KMQTT_OK);
    assert_int_equal(kmqtt_packet_frame(buf, 2, 1, &need), KMQTT_ETOOBIG);
    free(buf);
}

static void test_frame_checks_the_first_byte_before_the_length(void **state)
{
    (void)state;
    size_t need = 0;
    uint8_t b;
    b = 0x00; /* reserved type */
    assert_int_equal(kmqtt_packet_frame(&b, 1, 0, &need), KMQTT_EPACKET_TYPE);
    b = 0x60; /* PUBREL needs 0010, MQTT-3.6.1-1 */
    assert_int_equal(kmqtt_packet_frame(&b, 1, 0, &need), KMQTT_EFLAGS);
    b = 0xc1; /* PINGREQ needs 0000, MQTT-2.2.2-2 */
    assert_int_equal(kmqtt_packet_frame(&b, 1, 0, &need), KMQTT_EFLAGS);
    b = 0x36; /* PUBLISH QoS 3, MQTT-3.3.1-4 */
    assert_int_equal(kmqtt_packet_frame(&b, 1, 0, &need), KMQTT_EQOS);
    b = 0x38; /* DUP on QoS 0, MQTT-3.3.1-2 */
    assert_int_equal(kmqtt_packet_frame(&b, 1, 0, &need), KMQTT_EDUP);
    /* AUTH is version-dependent, so frame lets it through. */
    b = 0xf0;
    assert_int_equal(kmqtt_packet_frame(&b, 1, 0, &need), KMQTT_NEED_MORE);
}

static void test_several_packets_in_one_buffer_decode_in_turn(void **state)
{
    (void)state;
    uint8_t tmp[128];
    size_t n = hex_decode("20 03 00 00 00"                    /* CONNACK */
                          " 32 08 00 03 61 2f 62 00 07 00"    /* PUBLISH QoS 1 id 7 */
                          " d0 00"                            /* PINGRESP */
                          " 90 04 00 01 00 01"                /* SUBACK */
                          " 30 09 00 01 74 00 68 65 6c 6c 6f" /* PUBLISH "hello" */
                          " e0 01 00",                        /* DISCONNECT */
                          tmp, sizeof tmp);
    uint8_t *buf = dup_bytes(tmp, n);
    static const kmqtt_packet_type_t want[] = {KMQTT_CONNACK, KMQTT_PUBLISH, KMQTT_PINGRESP,
                                               KMQTT_SUBACK,  KMQTT_PUBLISH, KMQTT_DISCONNECT};
    size_t off = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        kmqtt_packet_t p;
        size_t consumed = 0;
        assert_int_equal(kmqtt_packet_decode(buf + off, n - off, KMQTT_V5, 0, &p, &consumed),
                         KMQTT_OK);
        assert_int_equal(p.type, want[i]);
        if (i == 1)
            assert_int_equal(p.u.publish.packet_id, 7);
        if (i == 4) {
            assert_int_equal(p.u.publish.payload.len, 5);
            assert_ptr_equal(p.u.publish.payload.ptr, buf + off + 6);
            assert_memory_equal(p.u.publish.payload.ptr, "hello", 5);
        }
        off += consumed;
    }
    assert_int_equal(off, n);
    free(buf);
}

static void test_stream_fed_byte_by_byte(void **state)
{
    (void)state;
    /* The caller accumulates bytes and retries after NEED_MORE. */
    uint8_t tmp[128];
    size_t n = hex_decode("32 08 00 03 61 2f 62 00 07 00 d0 00 e0 00", tmp, sizeof tmp);
    size_t off = 0, have = 0, packets = 0;
    while (off < n) {
        uint8_t *buf = dup_bytes(tmp + off, have - off);
        kmqtt_packet_t p;
        size_t consumed = 0;
        kmqtt_err_t err = kmqtt_packet_decode(buf, have - off, KMQTT_V5, 0, &p, &consumed);
        free(buf);
        if (err == KMQTT_NEED_MORE) {
            assert_true(have < n);
            have++;
            continue;
        }
        assert_int_equal(err, KMQTT_OK);
        off += consumed;
        packets++;
    }
    assert_int_equal(packets, 3);
}

/* Builds the sample with its remaining length replaced by rem (shorter
 * than the real one) and the body cut to match. */
static uint8_t *lie_about_length(const uint8_t *pkt, size_t n, size_t rem, size_t *out_len)
{
    size_t hdr = 2;
    while (pkt[hdr - 1] & 0x80)
        hdr++;
    const uint8_t *body = pkt + hdr;
    uint8_t tmp[300];
    size_t o = 0;
    tmp[o++] = pkt[0];
    size_t r = rem;
    do {
        uint8_t b = (uint8_t)(r & 0x7f);
        r >>= 7;
        if (r > 0)
            b |= 0x80;
        tmp[o++] = b;
    } while (r > 0);
    assert_true(rem <= n - hdr);
    memcpy(tmp + o, body, rem);
    *out_len = o + rem;
    return dup_bytes(tmp, *out_len);
}

static void test_shorter_remaining_length_is_an_error_never_a_crash(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSAMPLES; i++) {
        uint8_t tmp[256];
        size_t n = load_sample(i, tmp, sizeof tmp);
        size_t hdr = 2;
        while (tmp[hdr - 1] & 0x80)
            hdr++;
        for (size_t rem = 0; rem < n - hdr; rem++) {
            size_t len;
            uint8_t *buf = lie_about_length(tmp, n, rem, &len);
            kmqtt_packet_t p;
            size_t consumed = 99;
            kmqtt_err_t err = kmqtt_packet_decode(buf, len, samples[i].v, 0, &p, &consumed);
            /* The packet is complete as announced, so never NEED_MORE. */
            assert_int_not_equal(err, KMQTT_NEED_MORE);
            if (samples[i].strict) {
                if (err >= 0)
                    fail_msg("sample %zu with remaining length %zu decoded: %s", i, rem,
                             hex_format(buf, len));
            }
            assert_int_equal(consumed, err == KMQTT_OK ? len : 0);
            free(buf);
        }
    }
}

static void test_shorter_remaining_length_gives_the_field_error(void **state)
{
    (void)state;
    kmqtt_packet_t p;
    size_t consumed, len;
    uint8_t tmp[64];
    /* 3.1.1 CONNECT cut inside the password: ETRUNCATED */
    size_t n = hex_decode("10 20 00 04 4d 51 54 54 04 ee 00 3c 00 03 61 62 63 00 03 77 2f 74"
                          " 00 03 62 79 65 00 01 75 00 02 70 77",
                          tmp, sizeof tmp);
    uint8_t *buf = lie_about_length(tmp, n, 31, &len);
    assert_int_equal(kmqtt_packet_decode(buf, len, KMQTT_V311, 0, &p, &consumed), KMQTT_ETRUNCATED);
    free(buf);
    /* v5 CONNACK cut inside its property block: a property length error */
    n = hex_decode("20 12 00 00 0f 21 00 0a 24 01 22 00 05 26 00 01 6b 00 01 76", tmp, sizeof tmp);
    buf = lie_about_length(tmp, n, 10, &len);
    kmqtt_err_t err = kmqtt_packet_decode(buf, len, KMQTT_V5, 0, &p, &consumed);
    assert_true(err == KMQTT_EPROP_LENGTH || err == KMQTT_ETRUNCATED);
    free(buf);
}

static void test_bit_flips_never_crash(void **state)
{
    (void)state;
    /* Cheap deterministic mutation: every single-bit flip of every sample,
     * under both versions. Whatever the result, a success must account for
     * the whole buffer and views must stay inside it. */
    for (size_t i = 0; i < NSAMPLES; i++) {
        uint8_t tmp[256];
        size_t n = load_sample(i, tmp, sizeof tmp);
        for (size_t pos = 0; pos < n; pos++) {
            for (unsigned bit = 0; bit < 8; bit++) {
                uint8_t *buf = dup_bytes(tmp, n);
                buf[pos] ^= (uint8_t)(1u << bit);
                for (int v = KMQTT_V311; v <= KMQTT_V5; v++) {
                    kmqtt_packet_t p;
                    size_t consumed = 99;
                    kmqtt_err_t err =
                        kmqtt_packet_decode(buf, n, (kmqtt_version_t)v, 0, &p, &consumed);
                    if (err == KMQTT_OK) {
                        assert_true(consumed <= n);
                        if (p.type == KMQTT_PUBLISH) {
                            const uint8_t *pl = p.u.publish.payload.ptr;
                            assert_true(pl >= buf && pl + p.u.publish.payload.len <= buf + n);
                        }
                    } else {
                        assert_int_equal(consumed, 0);
                    }
                }
                free(buf);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_sample_decodes),
        cmocka_unit_test(test_every_prefix_needs_more),
        cmocka_unit_test(test_prefix_of_multi_byte_remaining_length_needs_more),
        cmocka_unit_test(test_MQTT_1_5_5_fifth_remaining_length_byte_is_rejected),
        cmocka_unit_test(test_largest_remaining_length_is_accepted_by_frame),
        cmocka_unit_test(test_oversized_packet_is_rejected_from_header_alone),
        cmocka_unit_test(test_max_packet_size_counts_the_whole_packet),
        cmocka_unit_test(test_frame_checks_the_first_byte_before_the_length),
        cmocka_unit_test(test_several_packets_in_one_buffer_decode_in_turn),
        cmocka_unit_test(test_stream_fed_byte_by_byte),
        cmocka_unit_test(test_shorter_remaining_length_is_an_error_never_a_crash),
        cmocka_unit_test(test_shorter_remaining_length_gives_the_field_error),
        cmocka_unit_test(test_bit_flips_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
