/* UTF-8 strings as MQTT requires them (MQTT-1.5.3) and variable byte
 * integer sizes (MQTT-1.5.5). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hex.h"
#include "kmqtt/codec.h"

typedef struct utf8_case {
    const char *hex;
    kmqtt_err_t want;
} utf8_case_t;

static void check_cases(const utf8_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t buf[64];
        size_t len = hex_decode(cases[i].hex, buf, sizeof buf);
        kmqtt_err_t got = kmqtt_utf8_validate((const char *)buf, len);
        if (got != cases[i].want) {
            print_error("case %zu [%s]: got %d, want %d\n", i, cases[i].hex, (int)got,
                        (int)cases[i].want);
        }
        assert_int_equal(got, cases[i].want);
    }
}

#define CHECK(cases) check_cases(cases, sizeof(cases) / sizeof(cases[0]))

static void test_ascii_and_empty_strings_are_valid(void **state)
{
    (void)state;
    const char *s = "sport/tennis/player1 ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./\x7f";
    assert_int_equal(kmqtt_utf8_validate(s, strlen(s)), KMQTT_OK);
    assert_int_equal(kmqtt_utf8_validate("", 0), KMQTT_OK);
    assert_int_equal(kmqtt_utf8_validate(NULL, 0), KMQTT_OK);
}

/* MQTT-1.5.3: every character U+0001..U+007F is one byte and valid. Each
 * byte value, at every offset of strings long enough for the word-at-a-time
 * path (a word of 4 or 8 bytes) and its byte-by-byte tail: the property
 * WP leaves unproved across the word path (tests/prove/wp_unproved.txt). */
static void test_every_ascii_byte_at_every_offset_is_valid(void **state)
{
    (void)state;
    uint8_t buf[40];
    for (unsigned c = 1; c < 0x80; c++) {
        for (size_t len = 1; len <= sizeof buf; len++) {
            for (size_t at = 0; at < len; at++) {
                memset(buf, 'a', sizeof buf);
                buf[at] = (uint8_t)c;
                assert_int_equal(kmqtt_utf8_validate((const char *)buf, len), KMQTT_OK);
            }
        }
    }
}

static void test_multibyte_characters_are_valid(void **state)
{
    (void)state;
    static const utf8_case_t cases[] = {
        {"c3 a9", KMQTT_OK},       /* U+00E9 e acute */
        {"c2 80", KMQTT_OK},       /* U+0080 smallest 2-byte */
        {"df bf", KMQTT_OK},       /* U+07FF largest 2-byte */
        {"e0 a0 80", KMQTT_OK},    /* U+0800 smallest 3-byte */
        {"e2 82 ac", KMQTT_OK},    /* U+20AC euro sign */
        {"ef bb bf", KMQTT_OK},    /* U+FEFF BOM is a character (MQTT-1.5.3-3) */
        {"f0 90 80 80", KMQTT_OK}, /* U+10000 smallest 4-byte */
        {"f0 9f 98 80", KMQTT_OK}, /* U+1F600 emoji */
        {"61 c3 a9 e2 82 ac f0 9f 98 80 62", KMQTT_OK}, /* mixed widths */
        /* The spec's own example: U+2A6D4 (MQTT 1.5.3, Figure 1-1). */
        {"41 f0 aa 9b 94", KMQTT_OK},
    };
    CHECK(cases);
}

static void test_code_points_at_the_edges_of_the_valid_ranges(void **state)
{
    (void)state;
    static const utf8_case_t cases[] = {
        {"ed 9f bf", KMQTT_OK},       /* U+D7FF: last before the surrogates */
        {"ee 80 80", KMQTT_OK},       /* U+E000: first after the surrogates */
        {"ef bf bf", KMQTT_OK},       /* U+FFFF: a non-character, but well-formed */
        {"f4 8f bf bf", KMQTT_OK},    /* U+10FFFF: the last code point */
        {"f4 90 80 80", KMQTT_EUTF8}, /* U+110000: past Unicode */
        {"f7 bf bf bf", KMQTT_EUTF8}, /* U+1FFFFF */
        {"f5 80 80 80", KMQTT_EUTF8}, /* F5..FF never start a sequence */
        {"ff", KMQTT_EUTF8},
        {"fe", KMQTT_EUTF8},
        {"f8 88 80 80 80", KMQTT_EUTF8}, /* old 5-byte form */
    };
    CHECK(cases);
}

static void test_surrogate_code_points_are_rejected(void **state)
{
    (void)state;
    /* MQTT-1.5.3-1: U+D800..U+DFFF must not be encoded. */
    static const utf8_case_t cases[] = {
        {"ed a0 80", KMQTT_EUTF8},             /* U+D800 */
        {"ed af bf", KMQTT_EUTF8},             /* U+DBFF */
        {"ed b0 80", KMQTT_EUTF8},             /* U+DC00 */
        {"ed bf bf", KMQTT_EUTF8},             /* U+DFFF */
        {"ed a0 bd ed b8 80", KMQTT_EUTF8},    /* CESU-8 pair for U+1F600 */
        {"61 62 63 ed a0 80 64", KMQTT_EUTF8}, /* in the middle */
    };
    CHECK(cases);
}

static void test_overlong_encodings_are_rejected(void **state)
{
    (void)state;
    static const utf8_case_t cases[] = {
        {"c0 af", KMQTT_EUTF8},       /* '/' in 2 bytes */
        {"c1 bf", KMQTT_EUTF8},       /* U+007F in 2 bytes */
        {"c0 80", KMQTT_EUTF8},       /* Modified-UTF-8 NUL is still not allowed */
        {"e0 80 af", KMQTT_EUTF8},    /* '/' in 3 bytes */
        {"e0 9f bf", KMQTT_EUTF8},    /* U+07FF in 3 bytes */
        {"f0 80 80 af", KMQTT_EUTF8}, /* '/' in 4 bytes */
        {"f0 8f bf bf", KMQTT_EUTF8}, /* U+FFFF in 4 bytes */
        {"f0 80 80 80", KMQTT_EUTF8}, /* U+0000 in 4 bytes */
    };
    CHECK(cases);
}

static void test_stray_and_missing_continuation_bytes_are_rejected(void **state)
{
    (void)state;
    static const utf8_case_t cases[] = {
        {"80", KMQTT_EUTF8}, /* lone continuation */
        {"bf", KMQTT_EUTF8},
        {"61 80 62", KMQTT_EUTF8},    /* continuation between ASCII */
        {"c3 a9 a9", KMQTT_EUTF8},    /* one continuation too many */
        {"c3 41", KMQTT_EUTF8},       /* lead then ASCII */
        {"e2 82 41", KMQTT_EUTF8},    /* third byte not a continuation */
        {"f0 9f 98 41", KMQTT_EUTF8}, /* fourth byte not a continuation */
        {"e2 c3 a9", KMQTT_EUTF8},    /* lead interrupted by another lead */
        /* Just outside 80..BF, the range of a continuation byte (Table 3-7
         * of Unicode, which MQTT-1.5.4-1 refers to): */
        {"c2 7f", KMQTT_EUTF8},
        {"c2 c0", KMQTT_EUTF8},
        {"e1 7f 80", KMQTT_EUTF8},
        {"e1 80 7f", KMQTT_EUTF8},
        {"f1 7f 80 80", KMQTT_EUTF8},
        {"f1 80 80 c0", KMQTT_EUTF8},
        {"c2 80", KMQTT_OK},
        {"df bf", KMQTT_OK}, /* the range's ends are valid */
    };
    CHECK(cases);
}

static void test_sequences_cut_off_at_the_end_are_rejected(void **state)
{
    (void)state;
    static const utf8_case_t cases[] = {
        {"c3", KMQTT_EUTF8},
        {"61 62 c3", KMQTT_EUTF8},
        {"e2", KMQTT_EUTF8},
        {"e2 82", KMQTT_EUTF8},
        {"f0", KMQTT_EUTF8},
        {"f0 9f", KMQTT_EUTF8},
        {"f0 9f 98", KMQTT_EUTF8},
        {"61 61 61 61 61 61 61 f0 9f 98", KMQTT_EUTF8}, /* after a run of ASCII */
    };
    CHECK(cases);
}

static void test_truncation_is_judged_by_length_not_by_a_terminator(void **state)
{
    (void)state;
    /* The euro sign is complete in memory, but the string ends before it. */
    const char s[] = "ab\xe2\x82\xac";
    assert_int_equal(kmqtt_utf8_validate(s, 5), KMQTT_OK);
    assert_int_equal(kmqtt_utf8_validate(s, 4), KMQTT_EUTF8);
    assert_int_equal(kmqtt_utf8_validate(s, 3), KMQTT_EUTF8);
    assert_int_equal(kmqtt_utf8_validate(s, 2), KMQTT_OK);
}

static void test_nul_character_is_rejected_anywhere(void **state)
{
    (void)state;
    /* MQTT-1.5.3-2 */
    static const utf8_case_t cases[] = {
        {"00", KMQTT_EUTF8_NUL},
        {"00 61", KMQTT_EUTF8_NUL},
        {"61 62 00 63 64", KMQTT_EUTF8_NUL},
        {"61 00", KMQTT_EUTF8_NUL},
        {"c3 a9 00", KMQTT_EUTF8_NUL},
        /* inside what would otherwise be a word of ASCII */
        {"61 62 63 64 65 66 67 68 69 6a 6b 00 6d 6e 6f 70 71 72", KMQTT_EUTF8_NUL},
    };
    CHECK(cases);
}

static void test_every_position_of_a_bad_byte_in_a_long_string_is_found(void **state)
{
    (void)state;
    /* Exercises the word-at-a-time path: the bad byte lands at every
     * offset within a word and at every word boundary. */
    char buf[67];
    for (size_t pos = 0; pos < sizeof buf; pos++) {
        memset(buf, 'x', sizeof buf);
        assert_int_equal(kmqtt_utf8_validate(buf, sizeof buf), KMQTT_OK);

        buf[pos] = '\0';
        assert_int_equal(kmqtt_utf8_validate(buf, sizeof buf), KMQTT_EUTF8_NUL);

        buf[pos] = (char)0x80;
        assert_int_equal(kmqtt_utf8_validate(buf, sizeof buf), KMQTT_EUTF8);

        buf[pos] = (char)0xFF;
        assert_int_equal(kmqtt_utf8_validate(buf, sizeof buf), KMQTT_EUTF8);

        /* A bad byte past len must not be looked at. */
        assert_int_equal(kmqtt_utf8_validate(buf, pos), KMQTT_OK);
    }
}

static void test_valid_multibyte_at_every_offset_of_a_long_string(void **state)
{
    (void)state;
    char buf[40];
    for (size_t pos = 0; pos + 4 <= sizeof buf; pos++) {
        memset(buf, 'y', sizeof buf);
        memcpy(buf + pos, "\xf0\x9f\x98\x80", 4);
        assert_int_equal(kmqtt_utf8_validate(buf, sizeof buf), KMQTT_OK);
        /* cut the 4-byte sequence short by ending the string inside it */
        assert_int_equal(kmqtt_utf8_validate(buf, pos + 3), KMQTT_EUTF8);
    }
}

static void test_varint_size_at_each_byte_boundary(void **state)
{
    (void)state;
    /* MQTT 1.5.5 Table 1-1 */
    assert_int_equal(kmqtt_varint_size(0), 1);
    assert_int_equal(kmqtt_varint_size(127), 1);
    assert_int_equal(kmqtt_varint_size(128), 2);
    assert_int_equal(kmqtt_varint_size(16383), 2);
    assert_int_equal(kmqtt_varint_size(16384), 3);
    assert_int_equal(kmqtt_varint_size(2097151), 3);
    assert_int_equal(kmqtt_varint_size(2097152), 4);
    assert_int_equal(kmqtt_varint_size(KMQTT_VARINT_MAX), 4);
}

static void test_varint_size_over_the_maximum_is_zero(void **state)
{
    (void)state;
    assert_int_equal(kmqtt_varint_size(KMQTT_VARINT_MAX + 1u), 0);
    assert_int_equal(kmqtt_varint_size(UINT32_MAX), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_and_empty_strings_are_valid),
        cmocka_unit_test(test_every_ascii_byte_at_every_offset_is_valid),
        cmocka_unit_test(test_multibyte_characters_are_valid),
        cmocka_unit_test(test_code_points_at_the_edges_of_the_valid_ranges),
        cmocka_unit_test(test_surrogate_code_points_are_rejected),
        cmocka_unit_test(test_overlong_encodings_are_rejected),
        cmocka_unit_test(test_stray_and_missing_continuation_bytes_are_rejected),
        cmocka_unit_test(test_sequences_cut_off_at_the_end_are_rejected),
        cmocka_unit_test(test_truncation_is_judged_by_length_not_by_a_terminator),
        cmocka_unit_test(test_nul_character_is_rejected_anywhere),
        cmocka_unit_test(test_every_position_of_a_bad_byte_in_a_long_string_is_found),
        cmocka_unit_test(test_valid_multibyte_at_every_offset_of_a_long_string),
        cmocka_unit_test(test_varint_size_at_each_byte_boundary),
        cmocka_unit_test(test_varint_size_over_the_maximum_is_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
