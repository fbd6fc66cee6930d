/* Topic names, topic filters and matching (MQTT 4.7, shared subscriptions
 * MQTT 4.8.2). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "kmqtt/codec.h"

/* A string with an explicit length, so that cases may hold NUL bytes. */
typedef struct sv {
    const char *s;
    size_t len;
} sv_t;

#define SV(lit)                                                                                    \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }

typedef struct match_case {
    const char *filter;
    const char *topic;
    bool want;
} match_case_t;

static const match_case_t match_cases[] = {
    /* MQTT 4.7.1.2 multi-level wildcard */
    {"sport/tennis/player1/#", "sport/tennis/player1", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
    {"sport/tennis/player1/#", "sport/tennis/player2", false},
    {"sport/tennis/player1/#", "sport/tennis", false},
    {"sport/#", "sport", true}, /* '#' includes the parent level */
    {"sport/#", "sport/", true},
    {"sport/#", "sports", false},
    {"sport/#", "sport/tennis/player1", true},
    {"sport/tennis/#", "sport/tennis", true},
    {"sport/tennis/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/#", "sport/ski", false},
    {"#", "sport", true},
    {"#", "/", true},
    {"#", "sport/tennis/player1", true},
    {"#", "/leading", true},
    /* MQTT 4.7.1.3 single-level wildcard */
    {"sport/tennis/+", "sport/tennis/player1", true},
    {"sport/tennis/+", "sport/tennis/player2", true},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false},
    {"sport/+", "sport", false},
    {"sport/+", "sport/", true}, /* '+' matches an empty level */
    {"+", "sport", true},
    {"+", "/finance", false},
    {"+/+", "/finance", true},
    {"/+", "/finance", true},
    {"/+", "finance", false},
    {"+/+", "sport", false},
    {"+/tennis/#", "sport/tennis/player1", true},
    {"+/tennis/#", "sport/tennis", true},
    {"+/tennis/#", "sport/ski/player1", false},
    {"sport/+/player1", "sport/tennis/player1", true},
    {"sport/+/player1", "sport//player1", true},
    {"sport/+/player1", "sport/tennis/player2", false},
    {"+/+/+", "a/b/c", true},
    {"+/+/+", "a/b", false},
    {"+/#", "a", true},
    /* MQTT 4.7.2: '$' topics and wildcards at the start (MQTT-4.7.2-1) */
    {"#", "$SYS/monitor/Clients", false},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false},
    {"+", "$SYS", false},
    {"$SYS/#", "$SYS/monitor/Clients", true},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    {"$SYS/#", "$SYS", true},
    {"$+/x", "$a/x", false}, /* invalid filter: '+' not a whole level */
    {"a/$SYS/+", "a/$SYS/b", true},
    {"sport/#", "sport/$x", true}, /* only the first character counts */
    /* exact, case-sensitive, and empty levels (MQTT 4.7.3) */
    {"sport/tennis", "sport/tennis", true},
    {"ACCOUNTS", "Accounts", false},
    {"sport/tennis", "sport/tennis/", false},
    {"sport/tennis/", "sport/tennis", false},
    {"sport/tennis", "sport/tenni", false},
    {"sport/tenni", "sport/tennis", false},
    {"a//b", "a//b", true},
    {"a//b", "a/b", false},
    {"a/+/b", "a//b", true},
    {"/", "/", true},
    {"/", "//", false},
    {"+/+", "/", true},
    {"/sport", "/sport", true},
    {"/sport", "sport", false},
    {"sport/", "sport/", true},
    {"sport/+", "sport//", false},
    {"//", "//", true},
    {"+/+/+", "//", true},
    {"caf\xc3\xa9/+", "caf\xc3\xa9/cr\xc3\xa8me", true},
    /* shared subscriptions match as their filter part (MQTT 4.8.2) */
    {"$share/consumer1/sport/tennis/+", "sport/tennis/player1", true},
    {"$share/consumer1/sport/tennis/+", "sport/ski/player1", false},
    {"$share/g/#", "a/b", true},
    {"$share/g/#", "$SYS/x", false},
    {"$share/g/$SYS/#", "$SYS/x", true},
    {"$share/g/+", "g", true},
    {"$share/g/x", "$share/g/x", false}, /* the prefix is not part of the topic */
    {"$share", "$share", true},          /* no '/' after it: an ordinary filter */
    /* an invalid filter or topic never matches */
    {"sport/tennis#", "sport/tennis", false},
    {"sport/#/ranking", "sport/x/ranking", false},
    {"sport+", "sport", false},
    {"sport/+", "sport/+", false},
    {"#", "a/#", false},
    {"", "", false},
    {"#", "", false},
    {"$share/g", "g", false},
    {"$share//x", "x", false},
};

static void test_match_table(void **state)
{
    (void)state;
    size_t n = sizeof match_cases / sizeof match_cases[0];
    assert_true(n >= 45);
    for (size_t i = 0; i < n; i++) {
        const match_case_t *c = &match_cases[i];
        bool got = kmqtt_topic_match(c->filter, strlen(c->filter), c->topic, strlen(c->topic));
        if (got != c->want) {
            print_error("case %zu: filter \"%s\" topic \"%s\": got %d, want %d\n", i, c->filter,
                        c->topic, (int)got, (int)c->want);
        }
        assert_int_equal(got, c->want);
    }
}

static void test_match_uses_lengths_not_terminators(void **state)
{
    (void)state;
    /* Decoded strings are views into a packet, followed by other bytes. */
    const char filter[] = "sport/#tail";
    const char topic[] = "sport/tennisXYZ";
    assert_true(kmqtt_topic_match(filter, 7, topic, 12));
    assert_false(kmqtt_topic_match(filter, 6, topic, 12)); /* "sport/" */
    assert_false(kmqtt_topic_match("sport/tennis", 12, topic, 15));
    assert_true(kmqtt_topic_match("sport/tennis", 12, topic, 12));
    /* A view that ends inside a level: "sport/tenni" is not "sport/tennis",
     * even though the byte after the view is the 's' the filter wants next. */
    const char player[] = "sport/tennis/player1";
    assert_false(kmqtt_topic_match("sport/tennis/#", 14, player, 11));
    assert_true(kmqtt_topic_match("sport/tennis/#", 14, player, 20));
}

static void test_match_rejects_topic_with_nul(void **state)
{
    (void)state;
    /* "a\0b" is not a valid topic, so even '#' does not match it. */
    assert_false(kmqtt_topic_match("#", 1, "a\0b", 3));
    assert_false(kmqtt_topic_match("a", 1, "a\0", 2));
}

static char big_a[65536];
static char big_b[65536];

static void test_match_on_deepest_possible_filter_and_topic(void **state)
{
    (void)state;
    /* 32768 '+' levels fill a 65535-byte filter; a topic of 32767 '/' has
     * 32768 empty levels. Matching must neither recurse per level nor
     * give up on the size. */
    for (size_t i = 0; i < 65535; i++)
        big_a[i] = (i % 2 == 0) ? '+' : '/';
    memset(big_b, '/', 32767);
    assert_true(kmqtt_topic_match(big_a, 65535, big_b, 32767));
    assert_false(kmqtt_topic_match(big_a, 65535, big_b, 32766));
    assert_false(kmqtt_topic_match(big_a, 65535, big_b, 32768));

    /* "a/a/.../a/#" against "a/a/.../a", then with the last level changed */
    for (size_t i = 0; i < 65535; i++)
        big_a[i] = (i % 2 == 0) ? 'a' : '/';
    big_a[65534] = '#';
    memcpy(big_b, big_a, 65533);
    assert_true(kmqtt_topic_match(big_a, 65535, big_b, 65533));
    big_b[65532] = 'b';
    assert_false(kmqtt_topic_match(big_a, 65535, big_b, 65533));
}

static void test_valid_topic_names_are_accepted(void **state)
{
    (void)state;
    static const sv_t names[] = {
        SV("a"),
        SV("/"),
        SV("//"),
        SV(" "),
        SV("sport/tennis/player1"),
        SV("/finance"),
        SV("a//b"),
        SV("sport/"),
        SV("$SYS/monitor/Clients"),
        SV("$share/g/x"), /* a name, not a filter: nothing special */
        SV("caf\xc3\xa9/\xf0\x9f\x98\x80"),
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (kmqtt_topic_name_validate(names[i].s, names[i].len) != KMQTT_OK)
            print_error("name case %zu \"%s\"\n", i, names[i].s);
        assert_int_equal(kmqtt_topic_name_validate(names[i].s, names[i].len), KMQTT_OK);
    }
}

static void test_invalid_topic_names_are_rejected(void **state)
{
    (void)state;
    static const struct {
        sv_t name;
        kmqtt_err_t want;
    } cases[] = {
        {SV(""), KMQTT_ETOPIC_NAME},  /* MQTT-4.7.3-1 */
        {SV("+"), KMQTT_ETOPIC_NAME}, /* MQTT-3.3.2-2 */
        {SV("#"), KMQTT_ETOPIC_NAME},
        {SV("sport/+"), KMQTT_ETOPIC_NAME},
        {SV("sport/tennis/#"), KMQTT_ETOPIC_NAME},
        {SV("sport+"), KMQTT_ETOPIC_NAME},
        {SV("sport/tennis#"), KMQTT_ETOPIC_NAME},
        {SV("a\0b"), KMQTT_EUTF8_NUL}, /* MQTT-1.5.3-2 */
        {SV("\0"), KMQTT_EUTF8_NUL},
        {SV("a\xc0\xaf"), KMQTT_EUTF8},      /* overlong '/' */
        {SV("a/\xed\xa0\x80"), KMQTT_EUTF8}, /* surrogate, MQTT-1.5.3-1 */
        {SV("a\xc3"), KMQTT_EUTF8},          /* truncated */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kmqtt_err_t got = kmqtt_topic_name_validate(cases[i].name.s, cases[i].name.len);
        if (got != cases[i].want)
            print_error("name case %zu: got %d want %d\n", i, (int)got, (int)cases[i].want);
        assert_int_equal(got, cases[i].want);
    }
}

static void test_valid_topic_filters_are_accepted(void **state)
{
    (void)state;
    static const sv_t filters[] = {
        SV("#"),
        SV("+"),
        SV("+/+"),
        SV("/+"),
        SV("/"),
        SV("sport/#"),
        SV("sport/tennis/#"),
        SV("sport/tennis/player1/#"),
        SV("+/tennis/#"),
        SV("sport/+/player1"),
        SV("sport/+"),
        SV("a//b"),
        SV("$SYS/#"),
        SV("$SYS/monitor/+"),
        SV("+/monitor/Clients"),
        SV("$share"),      /* no '/': an ordinary filter */
        SV("$shared/g/+"), /* a different prefix: an ordinary filter */
        SV("$share/g/#"),
        SV("$share/consumer1/sport/tennis/+"),
        SV("$share/g/+/x/#"),
        SV("$share/\xc3\xa9/x"),
        SV("$share/g/$share/h/x"),
        SV("caf\xc3\xa9/+"),
    };
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        kmqtt_err_t got = kmqtt_topic_filter_validate(filters[i].s, filters[i].len);
        if (got != KMQTT_OK)
            print_error("filter case %zu \"%s\": got %d\n", i, filters[i].s, (int)got);
        assert_int_equal(got, KMQTT_OK);
    }
}

static void test_invalid_topic_filters_are_rejected(void **state)
{
    (void)state;
    static const struct {
        sv_t filter;
        kmqtt_err_t want;
    } cases[] = {
        {SV(""), KMQTT_ETOPIC_FILTER},                       /* MQTT-4.7.3-1 */
        {SV("sport/tennis#"), KMQTT_ETOPIC_FILTER},          /* MQTT-4.7.1-2 */
        {SV("sport/tennis/#/ranking"), KMQTT_ETOPIC_FILTER}, /* MQTT-4.7.1-2 */
        {SV("#/"), KMQTT_ETOPIC_FILTER},
        {SV("##"), KMQTT_ETOPIC_FILTER},
        {SV("#a"), KMQTT_ETOPIC_FILTER},
        {SV("sport+"), KMQTT_ETOPIC_FILTER}, /* MQTT-4.7.1-3 */
        {SV("+sport"), KMQTT_ETOPIC_FILTER},
        {SV("++"), KMQTT_ETOPIC_FILTER},
        {SV("sport/+tennis/x"), KMQTT_ETOPIC_FILTER},
        {SV("+#"), KMQTT_ETOPIC_FILTER},
        {SV("$share/"), KMQTT_ETOPIC_FILTER}, /* MQTT-4.8.2-1: empty ShareName */
        {SV("$share//x"), KMQTT_ETOPIC_FILTER},
        {SV("$share/g"), KMQTT_ETOPIC_FILTER},    /* MQTT-4.8.2-2: no '/' after it */
        {SV("$share/g/"), KMQTT_ETOPIC_FILTER},   /* empty filter after it */
        {SV("$share/g+/x"), KMQTT_ETOPIC_FILTER}, /* wildcard in ShareName */
        {SV("$share/+/x"), KMQTT_ETOPIC_FILTER},
        {SV("$share/#/x"), KMQTT_ETOPIC_FILTER},
        {SV("$share/g#/x"), KMQTT_ETOPIC_FILTER},
        {SV("$share/g/a#"), KMQTT_ETOPIC_FILTER}, /* its filter part is checked too */
        {SV("$share/g/#/a"), KMQTT_ETOPIC_FILTER},
        {SV("a\0b"), KMQTT_EUTF8_NUL}, /* MQTT-1.5.3-2 */
        {SV("#\0"), KMQTT_EUTF8_NUL},
        {SV("$share/g\0/x"), KMQTT_EUTF8_NUL},
        {SV("\xff/#"), KMQTT_EUTF8}, /* MQTT-1.5.3-1 */
        {SV("a/\xed\xbf\xbf"), KMQTT_EUTF8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kmqtt_err_t got = kmqtt_topic_filter_validate(cases[i].filter.s, cases[i].filter.len);
        if (got != cases[i].want)
            print_error("filter case %zu: got %d want %d\n", i, (int)got, (int)cases[i].want);
        assert_int_equal(got, cases[i].want);
    }
}

static void test_topic_longer_than_65535_bytes_is_rejected(void **state)
{
    (void)state;
    /* MQTT-4.7.3-3: a topic is a UTF-8 string, at most 65,535 bytes. */
    memset(big_a, 'a', sizeof big_a);
    assert_int_equal(kmqtt_topic_name_validate(big_a, 65535), KMQTT_OK);
    assert_int_equal(kmqtt_topic_name_validate(big_a, 65536), KMQTT_ETOPIC_NAME);
    assert_int_equal(kmqtt_topic_filter_validate(big_a, 65535), KMQTT_OK);
    assert_int_equal(kmqtt_topic_filter_validate(big_a, 65536), KMQTT_ETOPIC_FILTER);

    big_a[65534] = '#';
    big_a[65533] = '/';
    assert_int_equal(kmqtt_topic_filter_validate(big_a, 65535), KMQTT_OK);
    assert_false(kmqtt_topic_match(big_a, 65536, "a", 1));
    memset(big_b, 'a', sizeof big_b);
    assert_true(kmqtt_topic_match("#", 1, big_b, 65535));
    assert_false(kmqtt_topic_match("#", 1, big_b, 65536));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_match_uses_lengths_not_terminators),
        cmocka_unit_test(test_match_rejects_topic_with_nul),
        cmocka_unit_test(test_match_on_deepest_possible_filter_and_topic),
        cmocka_unit_test(test_valid_topic_names_are_accepted),
        cmocka_unit_test(test_invalid_topic_names_are_rejected),
        cmocka_unit_test(test_valid_topic_filters_are_accepted),
        cmocka_unit_test(test_invalid_topic_filters_are_rejected),
        cmocka_unit_test(test_topic_longer_than_65535_bytes_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
