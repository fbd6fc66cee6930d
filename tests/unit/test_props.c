/* MQTT 5.0 properties: the table, block validation, encoding, iteration. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec/codec_internal.h"
#include "hex.h"

#define STR(s)                                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
#define B(t) (1u << (t))
#define WILL B(KMQTT_PROP_IN_WILL)

/* ------------------------------------------------------------ helpers */

/* Sizes and writes props (either form) with its length prefix. */
static kmqtt_err_t encode_props(const kmqtt_props_t *props, unsigned where, uint8_t *buf,
                                size_t cap, size_t *len)
{
    size_t block;
    kmqtt_err_t err = kmqtt_props_block_size(props, where, &block);
    if (err != KMQTT_OK)
        return err;
    wr_t w = {buf, buf + cap, false};
    kmqtt_props_write(&w, props, block);
    if (w.overflow)
        return KMQTT_ENOBUFS;
    *len = (size_t)(w.p - buf);
    return KMQTT_OK;
}

static kmqtt_err_t encode_items(const kmqtt_prop_t *items, size_t n, unsigned where, uint8_t *buf,
                                size_t cap, size_t *len)
{
    kmqtt_props_t props = {items, n, NULL, 0};
    return encode_props(&props, where, buf, cap, len);
}

static kmqtt_err_t items_err(unsigned where, const kmqtt_prop_t *items, size_t n)
{
    kmqtt_props_t props = {items, n, NULL, 0};
    size_t size;
    return kmqtt_props_block_size(&props, where, &size);
}

/* Validates a raw block held in a heap buffer of exactly its length, so
 * that ASan flags any read past the end. */
static kmqtt_err_t raw_err(unsigned where, const char *hex)
{
    uint8_t tmp[512];
    size_t n = hex_decode(hex, tmp, sizeof tmp);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    assert_non_null(buf);
    memcpy(buf, tmp, n);
    kmqtt_err_t err = kmqtt_props_validate_raw(buf, n, where);
    free(buf);
    return err;
}

#define EXPECT_RAW(where, hex, want)                                                               \
    do {                                                                                           \
        kmqtt_err_t got_ = raw_err((where), (hex));                                                \
        if (got_ != (want))                                                                        \
            print_error("raw block [%s] in %u: got %d, want %d\n", (hex), (unsigned)(where),       \
                        (int)got_, (int)(want));                                                   \
        assert_int_equal(got_, (want));                                                            \
    } while (0)

static void assert_same_prop(const kmqtt_prop_t *a, const kmqtt_prop_t *b)
{
    assert_int_equal(a->id, b->id);
    switch (kmqtt_prop_type((uint8_t)a->id)) {
    case KMQTT_PROPTYPE_STRING:
        assert_int_equal(a->str.len, b->str.len);
        assert_memory_equal(a->str.ptr, b->str.ptr, a->str.len);
        break;
    case KMQTT_PROPTYPE_BINARY:
        assert_int_equal(a->bin.len, b->bin.len);
        assert_memory_equal(a->bin.ptr, b->bin.ptr, a->bin.len);
        break;
    case KMQTT_PROPTYPE_STRING_PAIR:
        assert_int_equal(a->str.len, b->str.len);
        assert_memory_equal(a->str.ptr, b->str.ptr, a->str.len);
        assert_int_equal(a->value.len, b->value.len);
        assert_memory_equal(a->value.ptr, b->value.ptr, a->value.len);
        break;
    default:
        assert_int_equal(a->num, b->num);
        break;
    }
}

/* ------------------------------------------------------ the table itself */

/* Table 2-4 of MQTT 5.0, transcribed again here so that a slip in either
 * copy shows up. */
typedef struct expect_prop {
    uint8_t id;
    kmqtt_prop_type_t type;
    unsigned where;
} expect_prop_t;

#define ACKS (B(KMQTT_PUBACK) | B(KMQTT_PUBREC) | B(KMQTT_PUBREL) | B(KMQTT_PUBCOMP))

static const expect_prop_t table_2_4[] = {
    {0x01, KMQTT_PROPTYPE_BYTE, B(KMQTT_PUBLISH) | WILL},
    {0x02, KMQTT_PROPTYPE_U32, B(KMQTT_PUBLISH) | WILL},
    {0x03, KMQTT_PROPTYPE_STRING, B(KMQTT_PUBLISH) | WILL},
    {0x08, KMQTT_PROPTYPE_STRING, B(KMQTT_PUBLISH) | WILL},
    {0x09, KMQTT_PROPTYPE_BINARY, B(KMQTT_PUBLISH) | WILL},
    {0x0B, KMQTT_PROPTYPE_VARINT, B(KMQTT_PUBLISH) | B(KMQTT_SUBSCRIBE)},
    {0x11, KMQTT_PROPTYPE_U32, B(KMQTT_CONNECT) | B(KMQTT_CONNACK) | B(KMQTT_DISCONNECT)},
    {0x12, KMQTT_PROPTYPE_STRING, B(KMQTT_CONNACK)},
    {0x13, KMQTT_PROPTYPE_U16, B(KMQTT_CONNACK)},
    {0x15, KMQTT_PROPTYPE_STRING, B(KMQTT_CONNECT) | B(KMQTT_CONNACK) | B(KMQTT_AUTH)},
    {0x16, KMQTT_PROPTYPE_BINARY, B(KMQTT_CONNECT) | B(KMQTT_CONNACK) | B(KMQTT_AUTH)},
    {0x17, KMQTT_PROPTYPE_BYTE, B(KMQTT_CONNECT)},
    {0x18, KMQTT_PROPTYPE_U32, WILL},
    {0x19, KMQTT_PROPTYPE_BYTE, B(KMQTT_CONNECT)},
    {0x1A, KMQTT_PROPTYPE_STRING, B(KMQTT_CONNACK)},
    {0x1C, KMQTT_PROPTYPE_STRING, B(KMQTT_CONNACK) | B(KMQTT_DISCONNECT)},
    {0x1F, KMQTT_PROPTYPE_STRING,
     B(KMQTT_CONNACK) | ACKS | B(KMQTT_SUBACK) | B(KMQTT_UNSUBACK) | B(KMQTT_DISCONNECT) |
         B(KMQTT_AUTH)},
    {0x21, KMQTT_PROPTYPE_U16, B(KMQTT_CONNECT) | B(KMQTT_CONNACK)},
    {0x22, KMQTT_PROPTYPE_U16, B(KMQTT_CONNECT) | B(KMQTT_CONNACK)},
    {0x23, KMQTT_PROPTYPE_U16, B(KMQTT_PUBLISH)},
    {0x24, KMQTT_PROPTYPE_BYTE, B(KMQTT_CONNACK)},
    {0x25, KMQTT_PROPTYPE_BYTE, B(KMQTT_CONNACK)},
    {0x26, KMQTT_PROPTYPE_STRING_PAIR,
     B(KMQTT_CONNECT) | B(KMQTT_CONNACK) | B(KMQTT_PUBLISH) | WILL | ACKS | B(KMQTT_SUBSCRIBE) |
         B(KMQTT_SUBACK) | B(KMQTT_UNSUBSCRIBE) | B(KMQTT_UNSUBACK) | B(KMQTT_DISCONNECT) |
         B(KMQTT_AUTH)},
    {0x27, KMQTT_PROPTYPE_U32, B(KMQTT_CONNECT) | B(KMQTT_CONNACK)},
    {0x28, KMQTT_PROPTYPE_BYTE, B(KMQTT_CONNACK)},
    {0x29, KMQTT_PROPTYPE_BYTE, B(KMQTT_CONNACK)},
    {0x2A, KMQTT_PROPTYPE_BYTE, B(KMQTT_CONNACK)},
};
#define N_TABLE (sizeof table_2_4 / sizeof table_2_4[0])

static const expect_prop_t *expected(unsigned id)
{
    for (size_t i = 0; i < N_TABLE; i++) {
        if (table_2_4[i].id == id)
            return &table_2_4[i];
    }
    return NULL;
}

static void test_every_identifier_has_the_type_of_table_2_4(void **state)
{
    (void)state;
    assert_int_equal(N_TABLE, 27);
    for (unsigned id = 0; id < 256; id++) {
        const expect_prop_t *e = expected(id);
        kmqtt_prop_type_t want = e != NULL ? e->type : KMQTT_PROPTYPE_NONE;
        if (kmqtt_prop_type((uint8_t)id) != want)
            print_error("identifier 0x%02x\n", id);
        assert_int_equal(kmqtt_prop_type((uint8_t)id), want);
    }
}

static void test_every_identifier_is_allowed_exactly_where_table_2_4_says(void **state)
{
    (void)state;
    for (unsigned id = 0; id < 256; id++) {
        const expect_prop_t *e = expected(id);
        for (unsigned where = 0; where <= 16; where++) {
            bool want = e != NULL && where < 16 && (e->where & B(where)) != 0;
            if (kmqtt_prop_allowed((uint8_t)id, where) != want) {
                print_error("identifier 0x%02x in packet type %u: want %d\n", id, where, want);
                fail();
            }
        }
    }
}

/* ------------------------------------------------------------ round trip */

static const uint8_t corr_data[] = {0x00, 0xFF};
static const uint8_t auth_data[] = {0x01, 0x02, 0x03};

typedef struct round_trip {
    unsigned where;
    kmqtt_prop_t prop;
    const char *golden; /* the block, without its length prefix */
} round_trip_t;

/* Golden bytes worked out by hand from section 2.2.2.2 and 1.5. */
static const round_trip_t round_trips[] = {
    {KMQTT_PUBLISH, {.id = KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, .num = 1}, "01 01"},
    {KMQTT_PROP_IN_WILL, {.id = KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, .num = 3600}, "02 00 00 0e 10"},
    {KMQTT_PUBLISH,
     {.id = KMQTT_PROP_CONTENT_TYPE, .str = STR("text/plain")},
     "03 00 0a 74 65 78 74 2f 70 6c 61 69 6e"},
    {KMQTT_PROP_IN_WILL, {.id = KMQTT_PROP_RESPONSE_TOPIC, .str = STR("r/1")}, "08 00 03 72 2f 31"},
    {KMQTT_PUBLISH, {.id = KMQTT_PROP_CORRELATION_DATA, .bin = {corr_data, 2}}, "09 00 02 00 ff"},
    /* 321 = 2 * 128 + 65: low group first with the continuation bit */
    {KMQTT_SUBSCRIBE, {.id = KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, .num = 321}, "0b c1 02"},
    {KMQTT_CONNECT,
     {.id = KMQTT_PROP_SESSION_EXPIRY_INTERVAL, .num = 0xFFFFFFFFu},
     "11 ff ff ff ff"},
    {KMQTT_CONNACK,
     {.id = KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, .str = STR("id")},
     "12 00 02 69 64"},
    {KMQTT_CONNACK, {.id = KMQTT_PROP_SERVER_KEEP_ALIVE, .num = 60}, "13 00 3c"},
    {KMQTT_CONNECT,
     {.id = KMQTT_PROP_AUTHENTICATION_METHOD, .str = STR("SCRAM")},
     "15 00 05 53 43 52 41 4d"},
    {KMQTT_AUTH,
     {.id = KMQTT_PROP_AUTHENTICATION_DATA, .bin = {auth_data, 3}},
     "16 00 03 01 02 03"},
    {KMQTT_CONNECT, {.id = KMQTT_PROP_REQUEST_PROBLEM_INFORMATION, .num = 0}, "17 00"},
    {KMQTT_PROP_IN_WILL, {.id = KMQTT_PROP_WILL_DELAY_INTERVAL, .num = 10}, "18 00 00 00 0a"},
    {KMQTT_CONNECT, {.id = KMQTT_PROP_REQUEST_RESPONSE_INFORMATION, .num = 1}, "19 01"},
    {KMQTT_CONNACK, {.id = KMQTT_PROP_RESPONSE_INFORMATION, .str = STR("ri")}, "1a 00 02 72 69"},
    {KMQTT_DISCONNECT, {.id = KMQTT_PROP_SERVER_REFERENCE, .str = STR("h:1")}, "1c 00 03 68 3a 31"},
    /* U+00E9 is two bytes of UTF-8: the length counts bytes */
    {KMQTT_PUBACK,
     {.id = KMQTT_PROP_REASON_STRING, .str = STR("caf\xc3\xa9")},
     "1f 00 05 63 61 66 c3 a9"},
    {KMQTT_CONNECT, {.id = KMQTT_PROP_RECEIVE_MAXIMUM, .num = 20}, "21 00 14"},
    {KMQTT_CONNACK, {.id = KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, .num = 0}, "22 00 00"},
    {KMQTT_PUBLISH, {.id = KMQTT_PROP_TOPIC_ALIAS, .num = 1}, "23 00 01"},
    {KMQTT_CONNACK, {.id = KMQTT_PROP_MAXIMUM_QOS, .num = 1}, "24 01"},
    {KMQTT_CONNACK, {.id = KMQTT_PROP_RETAIN_AVAILABLE, .num = 0}, "25 00"},
    {KMQTT_SUBSCRIBE,
     {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("k"), .value = STR("v")},
     "26 00 01 6b 00 01 76"},
    {KMQTT_CONNECT, {.id = KMQTT_PROP_MAXIMUM_PACKET_SIZE, .num = 1024}, "27 00 00 04 00"},
    {KMQTT_CONNACK, {.id = KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, .num = 1}, "28 01"},
    {KMQTT_CONNACK, {.id = KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, .num = 0}, "29 00"},
    {KMQTT_CONNACK, {.id = KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, .num = 1}, "2a 01"},
};
#define N_RT (sizeof round_trips / sizeof round_trips[0])

static void test_round_trip_covers_all_27_properties(void **state)
{
    (void)state;
    uint64_t seen = 0;
    assert_int_equal(N_RT, 27);
    for (size_t i = 0; i < N_RT; i++) {
        unsigned id = round_trips[i].prop.id;
        assert_true(id < 64);
        assert_int_not_equal(kmqtt_prop_type((uint8_t)id), KMQTT_PROPTYPE_NONE);
        assert_false(seen & ((uint64_t)1 << id));
        seen |= (uint64_t)1 << id;
    }
}

/* items -> bytes (golden) -> raw (kmqtt_props_read) -> iterate -> same
 * property, and the raw form re-encodes to the same bytes. */
static void test_every_property_round_trips_through_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_RT; i++) {
        const round_trip_t *t = &round_trips[i];
        uint8_t golden[64];
        uint8_t buf[64];
        uint8_t again[64];
        size_t glen = hex_decode(t->golden, golden, sizeof golden);
        size_t len = 0;
        size_t len2 = 0;

        print_message("property 0x%02x\n", (unsigned)t->prop.id);
        assert_int_equal(encode_items(&t->prop, 1, t->where, buf, sizeof buf, &len), KMQTT_OK);
        assert_true(glen < 128);
        assert_int_equal(len, 1 + glen);
        assert_int_equal(buf[0], glen); /* one-byte property length */
        assert_memory_equal(buf + 1, golden, glen);

        rd_t r = {buf, buf + len};
        kmqtt_props_t raw;
        assert_int_equal(kmqtt_props_read(&r, t->where, &raw), KMQTT_OK);
        assert_ptr_equal(r.p, buf + len);
        assert_null(raw.items);
        assert_int_equal(raw.raw_len, glen);

        kmqtt_prop_iter_t it;
        kmqtt_prop_t got;
        kmqtt_prop_iter_init(&it, &raw);
        assert_true(kmqtt_prop_iter_next(&it, &got));
        assert_same_prop(&got, &t->prop);
        assert_false(kmqtt_prop_iter_next(&it, &got));

        assert_int_equal(encode_props(&raw, t->where, again, sizeof again, &len2), KMQTT_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(again, buf, len);
    }
}

static void test_receive_maximum_20_is_written_as_03_21_00_14(void **state)
{
    (void)state;
    kmqtt_prop_t rm = {.id = KMQTT_PROP_RECEIVE_MAXIMUM, .num = 20};
    uint8_t buf[8];
    uint8_t want[8];
    size_t len = 0;
    size_t n = hex_decode("03 21 00 14", want, sizeof want);
    assert_int_equal(encode_items(&rm, 1, KMQTT_CONNECT, buf, sizeof buf, &len), KMQTT_OK);
    assert_int_equal(len, n);
    assert_memory_equal(buf, want, n);
}

static void test_connect_block_keeps_order_and_both_user_properties(void **state)
{
    (void)state;
    const kmqtt_prop_t items[] = {
        {.id = KMQTT_PROP_SESSION_EXPIRY_INTERVAL, .num = 120},
        {.id = KMQTT_PROP_RECEIVE_MAXIMUM, .num = 20},
        {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("a"), .value = STR("1")},
        {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("a"), .value = STR("2")},
    };
    uint8_t buf[64];
    uint8_t want[64];
    size_t len = 0;
    size_t n = hex_decode("16 11 00 00 00 78 21 00 14 26 00 01 61 00 01 31 26 00 01 61 00 01 32",
                          want, sizeof want);
    assert_int_equal(encode_items(items, 4, KMQTT_CONNECT, buf, sizeof buf, &len), KMQTT_OK);
    assert_int_equal(len, n);
    assert_memory_equal(buf, want, n);

    rd_t r = {buf, buf + len};
    kmqtt_props_t raw;
    assert_int_equal(kmqtt_props_read(&r, KMQTT_CONNECT, &raw), KMQTT_OK);
    kmqtt_prop_iter_t it;
    kmqtt_prop_t got;
    size_t i = 0;
    kmqtt_prop_iter_init(&it, &raw);
    while (kmqtt_prop_iter_next(&it, &got)) {
        assert_true(i < 4);
        assert_same_prop(&got, &items[i]);
        i++;
    }
    assert_int_equal(i, 4);

    /* the items form walks the same way */
    kmqtt_props_t src = {items, 4, NULL, 0};
    i = 0;
    kmqtt_prop_iter_init(&it, &src);
    while (kmqtt_prop_iter_next(&it, &got))
        assert_same_prop(&got, &items[i++]);
    assert_int_equal(i, 4);
}

static void test_subscription_identifier_varint_boundaries(void **state)
{
    (void)state;
    static const struct {
        uint32_t v;
        const char *hex;
    } cases[] = {
        {1, "0b 01"},
        {127, "0b 7f"},
        {128, "0b 80 01"},
        {16383, "0b ff 7f"},
        {16384, "0b 80 80 01"},
        {2097151, "0b ff ff 7f"},
        {2097152, "0b 80 80 80 01"},
        {268435455, "0b ff ff ff 7f"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kmqtt_prop_t p = {.id = KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, .num = cases[i].v};
        uint8_t want[8];
        uint8_t buf[8];
        size_t n = hex_decode(cases[i].hex, want, sizeof want);
        size_t len = 0;
        assert_int_equal(encode_items(&p, 1, KMQTT_PUBLISH, buf, sizeof buf, &len), KMQTT_OK);
        assert_int_equal(len, n + 1);
        assert_int_equal(buf[0], n); /* the block length counts every byte of the varint */
        assert_memory_equal(buf + 1, want, n);

        kmqtt_props_t raw = {NULL, 0, buf + 1, n};
        kmqtt_prop_t got;
        assert_int_equal(kmqtt_props_validate_raw(buf + 1, n, KMQTT_PUBLISH), KMQTT_OK);
        assert_true(kmqtt_props_find(&raw, KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, &got));
        assert_int_equal(got.num, cases[i].v);
    }
}

static void test_payload_format_indicator_1_encodes_without_looking_at_a_payload(void **state)
{
    (void)state;
    /* Checking the payload is the packet encoder's business (3.3.2.3.2). */
    kmqtt_prop_t p = {.id = KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, .num = 1};
    assert_int_equal(items_err(KMQTT_PUBLISH, &p, 1), KMQTT_OK);
    assert_int_equal(items_err(KMQTT_PROP_IN_WILL, &p, 1), KMQTT_OK);
}

/* --------------------------------------------------------- rejections */

static void test_unknown_identifier_is_rejected(void **state)
{
    (void)state;
    EXPECT_RAW(KMQTT_PUBLISH, "00 01", KMQTT_EPROP_UNKNOWN);
    EXPECT_RAW(KMQTT_PUBLISH, "04 01", KMQTT_EPROP_UNKNOWN);
    EXPECT_RAW(KMQTT_CONNACK, "2b 01", KMQTT_EPROP_UNKNOWN);
    EXPECT_RAW(KMQTT_CONNACK, "7f", KMQTT_EPROP_UNKNOWN);
    /* a multi-byte identifier is unassigned or not minimal (MQTT-1.5.5-1) */
    EXPECT_RAW(KMQTT_CONNECT, "a1 00 00 14", KMQTT_EPROP_UNKNOWN);
    EXPECT_RAW(KMQTT_CONNECT, "ff ff ff 7f", KMQTT_EPROP_UNKNOWN);
    /* after a valid property too */
    EXPECT_RAW(KMQTT_CONNECT, "21 00 14 14 00", KMQTT_EPROP_UNKNOWN);

    kmqtt_prop_t p = {.id = (kmqtt_prop_id_t)0x04, .num = 1};
    assert_int_equal(items_err(KMQTT_PUBLISH, &p, 1), KMQTT_EPROP_UNKNOWN);
    p.id = (kmqtt_prop_id_t)0x2B;
    assert_int_equal(items_err(KMQTT_CONNACK, &p, 1), KMQTT_EPROP_UNKNOWN);
    /* An id that would truncate to Receive Maximum; with the short enums of
     * the ARM EABI (arm-none-eabi-gcc's default) the type cannot hold it. */
    if (sizeof(kmqtt_prop_id_t) > 1) {
        p.id = (kmqtt_prop_id_t)0x121;
        assert_int_equal(items_err(KMQTT_CONNECT, &p, 1), KMQTT_EPROP_UNKNOWN);
    }
}

/* Section 2.2.2.2: an identifier not valid for the packet type makes it a
 * Malformed Packet. */
static void test_property_outside_its_packets_is_rejected(void **state)
{
    (void)state;
    EXPECT_RAW(KMQTT_CONNECT, "23 00 01", KMQTT_EPROP_NOT_ALLOWED);       /* Topic Alias */
    EXPECT_RAW(KMQTT_PUBLISH, "18 00 00 00 0a", KMQTT_EPROP_NOT_ALLOWED); /* Will Delay */
    EXPECT_RAW(KMQTT_CONNECT, "18 00 00 00 0a", KMQTT_EPROP_NOT_ALLOWED); /* only in will */
    EXPECT_RAW(KMQTT_PROP_IN_WILL, "11 00 00 00 0a", KMQTT_EPROP_NOT_ALLOWED);
    EXPECT_RAW(KMQTT_PUBLISH, "1f 00 00", KMQTT_EPROP_NOT_ALLOWED); /* Reason String */
    EXPECT_RAW(KMQTT_UNSUBSCRIBE, "0b 01", KMQTT_EPROP_NOT_ALLOWED);
    EXPECT_RAW(KMQTT_CONNECT, "24 01", KMQTT_EPROP_NOT_ALLOWED); /* Maximum QoS */
    EXPECT_RAW(KMQTT_PINGREQ, "26 00 01 6b 00 01 76", KMQTT_EPROP_NOT_ALLOWED);
    EXPECT_RAW(KMQTT_CONNECT, "21 00 14 12 00 00", KMQTT_EPROP_NOT_ALLOWED);

    kmqtt_prop_t ta = {.id = KMQTT_PROP_TOPIC_ALIAS, .num = 1};
    assert_int_equal(items_err(KMQTT_CONNECT, &ta, 1), KMQTT_EPROP_NOT_ALLOWED);
    kmqtt_prop_t wd = {.id = KMQTT_PROP_WILL_DELAY_INTERVAL, .num = 10};
    assert_int_equal(items_err(KMQTT_PUBLISH, &wd, 1), KMQTT_EPROP_NOT_ALLOWED);
    assert_int_equal(items_err(KMQTT_PROP_IN_WILL, &wd, 1), KMQTT_OK);
    kmqtt_prop_t rs = {.id = KMQTT_PROP_REASON_STRING, .str = STR("x")};
    assert_int_equal(items_err(KMQTT_PUBLISH, &rs, 1), KMQTT_EPROP_NOT_ALLOWED);
}

static void test_packet_type_out_of_range_is_invalid(void **state)
{
    (void)state;
    uint8_t block[] = {0x21, 0x00, 0x14};
    uint8_t prefixed[] = {0x00};
    kmqtt_prop_t rm = {.id = KMQTT_PROP_RECEIVE_MAXIMUM, .num = 20};
    assert_int_equal(kmqtt_props_validate_raw(block, sizeof block, 16), KMQTT_EINVAL);
    assert_int_equal(kmqtt_props_validate_raw(NULL, 0, 16), KMQTT_EINVAL);
    assert_int_equal(items_err(16, &rm, 1), KMQTT_EINVAL);
    rd_t r = {prefixed, prefixed + 1};
    kmqtt_props_t out;
    assert_int_equal(kmqtt_props_read(&r, 99, &out), KMQTT_EINVAL);
    assert_false(kmqtt_prop_allowed(KMQTT_PROP_USER_PROPERTY, 16));
}

/* Each property's section: "It is a Protocol Error to include ... more
 * than once." */
static void test_repeated_property_is_rejected(void **state)
{
    (void)state;
    EXPECT_RAW(KMQTT_CONNECT, "21 00 14 21 00 14", KMQTT_EPROP_DUPLICATE);
    EXPECT_RAW(KMQTT_CONNECT, "21 00 14 11 00 00 00 01 21 00 15", KMQTT_EPROP_DUPLICATE);
    EXPECT_RAW(KMQTT_PUBLISH, "03 00 01 61 03 00 01 62", KMQTT_EPROP_DUPLICATE);
    EXPECT_RAW(KMQTT_AUTH, "15 00 01 61 15 00 01 61", KMQTT_EPROP_DUPLICATE);
    EXPECT_RAW(KMQTT_CONNACK, "2a 01 2a 01", KMQTT_EPROP_DUPLICATE);
    EXPECT_RAW(KMQTT_PROP_IN_WILL, "18 00 00 00 01 18 00 00 00 01", KMQTT_EPROP_DUPLICATE);

    const kmqtt_prop_t twice[] = {
        {.id = KMQTT_PROP_RECEIVE_MAXIMUM, .num = 20},
        {.id = KMQTT_PROP_RECEIVE_MAXIMUM, .num = 21},
    };
    assert_int_equal(items_err(KMQTT_CONNECT, twice, 2), KMQTT_EPROP_DUPLICATE);
    const kmqtt_prop_t ct[] = {
        {.id = KMQTT_PROP_CONTENT_TYPE, .str = STR("a")},
        {.id = KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, .num = 0},
        {.id = KMQTT_PROP_CONTENT_TYPE, .str = STR("b")},
    };
    assert_int_equal(items_err(KMQTT_PUBLISH, ct, 3), KMQTT_EPROP_DUPLICATE);
}

static void test_user_property_may_repeat_in_every_packet_that_has_it(void **state)
{
    (void)state;
    const kmqtt_prop_t three[] = {
        {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("k"), .value = STR("v")},
        {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("k"), .value = STR("v")},
        {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("k"), .value = STR("w")},
    };
    for (unsigned where = 0; where <= KMQTT_AUTH; where++) {
        if (!kmqtt_prop_allowed(KMQTT_PROP_USER_PROPERTY, where))
            continue;
        EXPECT_RAW(where, "26 00 01 6b 00 01 76 26 00 01 6b 00 01 76 26 00 01 6b 00 01 77",
                   KMQTT_OK);
        assert_int_equal(items_err(where, three, 3), KMQTT_OK);
    }
}

/* 3.3.2.3.8: several in PUBLISH; 3.8.2.1.2: once in SUBSCRIBE. */
static void test_subscription_identifier_repeats_only_in_publish(void **state)
{
    (void)state;
    EXPECT_RAW(KMQTT_PUBLISH, "0b 01 0b 02 0b 80 01", KMQTT_OK);
    EXPECT_RAW(KMQTT_SUBSCRIBE, "0b 01", KMQTT_OK);
    EXPECT_RAW(KMQTT_SUBSCRIBE, "0b 01 0b 02", KMQTT_EPROP_DUPLICATE);

    const kmqtt_prop_t two[] = {
        {.id = KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, .num = 1},
        {.id = KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, .num = 2},
    };
    assert_int_equal(items_err(KMQTT_PUBLISH, two, 2), KMQTT_OK);
    assert_int_equal(items_err(KMQTT_SUBSCRIBE, two, 2), KMQTT_EPROP_DUPLICATE);
}

static void test_flag_byte_properties_accept_only_0_or_1(void **state)
{
    (void)state;
    static const struct {
        uint8_t id;
        unsigned where;
    } flags[] = {
        {KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, KMQTT_PUBLISH},
        {KMQTT_PROP_REQUEST_PROBLEM_INFORMATION, KMQTT_CONNECT},
        {KMQTT_PROP_REQUEST_RESPONSE_INFORMATION, KMQTT_CONNECT},
        {KMQTT_PROP_MAXIMUM_QOS, KMQTT_CONNACK}, /* 3.2.2.3.4: 2 is "absent" */
        {KMQTT_PROP_RETAIN_AVAILABLE, KMQTT_CONNACK},
        {KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, KMQTT_CONNACK},
        {KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, KMQTT_CONNACK},
        {KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, KMQTT_CONNACK},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        for (unsigned v = 0; v < 256; v++) {
            uint8_t block[2] = {flags[i].id, (uint8_t)v};
            kmqtt_err_t want = v <= 1 ? KMQTT_OK : KMQTT_EPROP_VALUE;
            kmqtt_prop_t p = {.id = (kmqtt_prop_id_t)flags[i].id, .num = v};
            assert_int_equal(kmqtt_props_validate_raw(block, 2, flags[i].where), want);
            assert_int_equal(items_err(flags[i].where, &p, 1), want);
        }
        kmqtt_prop_t wide = {.id = (kmqtt_prop_id_t)flags[i].id, .num = 0x101};
        assert_int_equal(items_err(flags[i].where, &wide, 1), KMQTT_EPROP_VALUE);
    }
}

static void test_zero_where_zero_is_meaningless_is_rejected(void **state)
{
    (void)state;
    EXPECT_RAW(KMQTT_CONNECT, "21 00 00", KMQTT_EPROP_VALUE);       /* Receive Maximum */
    EXPECT_RAW(KMQTT_CONNACK, "27 00 00 00 00", KMQTT_EPROP_VALUE); /* Max Packet Size */
    EXPECT_RAW(KMQTT_PUBLISH, "23 00 00", KMQTT_EPROP_VALUE);       /* MQTT-3.3.2-8 */
    EXPECT_RAW(KMQTT_SUBSCRIBE, "0b 00", KMQTT_EPROP_VALUE);        /* 3.8.2.1.2 */
    EXPECT_RAW(KMQTT_PUBLISH, "0b 01 0b 00", KMQTT_EPROP_VALUE);
    EXPECT_RAW(KMQTT_CONNACK, "22 00 00 13 00 00", KMQTT_OK); /* 0 is fine for these */
    EXPECT_RAW(KMQTT_PUBLISH, "02 00 00 00 00", KMQTT_OK);

    static const struct {
        kmqtt_prop_id_t id;
        unsigned where;
    } nonzero[] = {
        {KMQTT_PROP_RECEIVE_MAXIMUM, KMQTT_CONNACK},
        {KMQTT_PROP_MAXIMUM_PACKET_SIZE, KMQTT_CONNECT},
        {KMQTT_PROP_TOPIC_ALIAS, KMQTT_PUBLISH},
        {KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, KMQTT_PUBLISH},
    };
    for (size_t i = 0; i < sizeof nonzero / sizeof nonzero[0]; i++) {
        kmqtt_prop_t p = {.id = nonzero[i].id, .num = 0};
        assert_int_equal(items_err(nonzero[i].where, &p, 1), KMQTT_EPROP_VALUE);
        p.num = 1;
        assert_int_equal(items_err(nonzero[i].where, &p, 1), KMQTT_OK);
    }
}

static void test_items_integer_wider_than_its_field_is_rejected(void **state)
{
    (void)state;
    kmqtt_prop_t p = {.id = KMQTT_PROP_RECEIVE_MAXIMUM, .num = 65536};
    assert_int_equal(items_err(KMQTT_CONNECT, &p, 1), KMQTT_EPROP_VALUE);
    p.num = 65535;
    assert_int_equal(items_err(KMQTT_CONNECT, &p, 1), KMQTT_OK);
    kmqtt_prop_t ka = {.id = KMQTT_PROP_SERVER_KEEP_ALIVE, .num = 70000};
    assert_int_equal(items_err(KMQTT_CONNACK, &ka, 1), KMQTT_EPROP_VALUE);
    kmqtt_prop_t sid = {.id = KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, .num = KMQTT_VARINT_MAX + 1};
    assert_int_equal(items_err(KMQTT_SUBSCRIBE, &sid, 1), KMQTT_EVARINT);
    sid.num = 0xFFFFFFFFu;
    assert_int_equal(items_err(KMQTT_PUBLISH, &sid, 1), KMQTT_EVARINT);
}

static char big[65536];

static void test_items_string_or_binary_over_65535_bytes_is_rejected(void **state)
{
    (void)state;
    memset(big, 'a', sizeof big);
    kmqtt_str_t s_ok = {big, 65535};
    kmqtt_str_t s_big = {big, 65536};
    kmqtt_bin_t b_ok = {(const uint8_t *)big, 65535};
    kmqtt_bin_t b_big = {(const uint8_t *)big, 65536};
    kmqtt_str_t k = STR("k");
    size_t size;

    kmqtt_prop_t ct = {.id = KMQTT_PROP_CONTENT_TYPE, .str = s_big};
    assert_int_equal(items_err(KMQTT_PUBLISH, &ct, 1), KMQTT_ESTRING_TOO_LONG);
    ct.str = s_ok;
    kmqtt_props_t props = {&ct, 1, NULL, 0};
    assert_int_equal(kmqtt_props_block_size(&props, KMQTT_PUBLISH, &size), KMQTT_OK);
    assert_int_equal(size, 1 + 2 + 65535);

    kmqtt_prop_t cd = {.id = KMQTT_PROP_CORRELATION_DATA, .bin = b_big};
    assert_int_equal(items_err(KMQTT_PUBLISH, &cd, 1), KMQTT_ESTRING_TOO_LONG);
    cd.bin = b_ok;
    assert_int_equal(items_err(KMQTT_PUBLISH, &cd, 1), KMQTT_OK);

    kmqtt_prop_t up = {.id = KMQTT_PROP_USER_PROPERTY, .str = s_big, .value = k};
    assert_int_equal(items_err(KMQTT_CONNECT, &up, 1), KMQTT_ESTRING_TOO_LONG);
    up.str = k;
    up.value = s_big;
    assert_int_equal(items_err(KMQTT_CONNECT, &up, 1), KMQTT_ESTRING_TOO_LONG);
}

static void test_items_string_without_bytes_is_invalid(void **state)
{
    (void)state;
    kmqtt_prop_t ct = {.id = KMQTT_PROP_CONTENT_TYPE, .str = {NULL, 3}};
    assert_int_equal(items_err(KMQTT_PUBLISH, &ct, 1), KMQTT_EINVAL);
    kmqtt_prop_t cd = {.id = KMQTT_PROP_CORRELATION_DATA, .bin = {NULL, 3}};
    assert_int_equal(items_err(KMQTT_PUBLISH, &cd, 1), KMQTT_EINVAL);
    /* an empty string needs no bytes and encodes as 00 00 */
    kmqtt_prop_t empty = {.id = KMQTT_PROP_REASON_STRING, .str = {NULL, 0}};
    uint8_t buf[8];
    size_t len = 0;
    assert_int_equal(encode_items(&empty, 1, KMQTT_DISCONNECT, buf, sizeof buf, &len), KMQTT_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "\x03\x1f\x00\x00", 4);
}

/* MQTT-1.5.4-1, MQTT-1.5.4-2, and MQTT-1.5.7-1 for both halves of a pair. */
static void test_ill_formed_utf8_in_string_properties_is_rejected(void **state)
{
    (void)state;
    EXPECT_RAW(KMQTT_PUBLISH, "03 00 01 ff", KMQTT_EUTF8);
    EXPECT_RAW(KMQTT_PUBLISH, "03 00 03 ed a0 80", KMQTT_EUTF8); /* U+D800 */
    EXPECT_RAW(KMQTT_PUBLISH, "03 00 02 c0 80", KMQTT_EUTF8);    /* overlong NUL */
    EXPECT_RAW(KMQTT_PUBLISH, "08 00 03 61 00 62", KMQTT_EUTF8_NUL);
    EXPECT_RAW(KMQTT_CONNECT, "26 00 01 ff 00 01 76", KMQTT_EUTF8);
    EXPECT_RAW(KMQTT_CONNECT, "26 00 01 6b 00 01 ff", KMQTT_EUTF8);
    EXPECT_RAW(KMQTT_CONNECT, "26 00 01 6b 00 01 00", KMQTT_EUTF8_NUL);
    /* binary data is not UTF-8 */
    EXPECT_RAW(KMQTT_PUBLISH, "09 00 02 ff 00", KMQTT_OK);
    EXPECT_RAW(KMQTT_AUTH, "16 00 01 ff", KMQTT_OK);

    kmqtt_prop_t ct = {.id = KMQTT_PROP_CONTENT_TYPE, .str = STR("a\xff")};
    assert_int_equal(items_err(KMQTT_PUBLISH, &ct, 1), KMQTT_EUTF8);
    kmqtt_prop_t up = {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("k"), .value = {"a\0b", 3}};
    assert_int_equal(items_err(KMQTT_CONNECT, &up, 1), KMQTT_EUTF8_NUL);
    up.str = (kmqtt_str_t){"\xed\xbf\xbf", 3}; /* U+DFFF */
    up.value = (kmqtt_str_t){"v", 1};
    assert_int_equal(items_err(KMQTT_CONNECT, &up, 1), KMQTT_EUTF8);
}

static void test_field_running_past_the_block_is_a_length_error(void **state)
{
    (void)state;
    EXPECT_RAW(KMQTT_CONNECT, "21", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_CONNECT, "21 00", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_CONNECT, "11 00 00 00", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_PUBLISH, "01", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_PUBLISH, "03 00", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_PUBLISH, "03 00 05 61 62", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_PUBLISH, "09 ff ff 00", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_CONNECT, "26 00 01 6b", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_CONNECT, "26 00 01 6b 00 05 76", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_PUBLISH, "0b", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_PUBLISH, "0b 80", KMQTT_EPROP_LENGTH);
    EXPECT_RAW(KMQTT_PUBLISH, "0b ff ff ff", KMQTT_EPROP_LENGTH);
}

/* MQTT-1.5.5-1: at most four bytes, and the fewest that hold the value. */
static void test_malformed_subscription_identifier_varint_is_rejected(void **state)
{
    (void)state;
    EXPECT_RAW(KMQTT_PUBLISH, "0b 80 80 80 80", KMQTT_EVARINT);
    EXPECT_RAW(KMQTT_PUBLISH, "0b ff ff ff ff 01", KMQTT_EVARINT);
    EXPECT_RAW(KMQTT_PUBLISH, "0b 81 00", KMQTT_EVARINT);
    EXPECT_RAW(KMQTT_PUBLISH, "0b 80 80 00", KMQTT_EVARINT);
}

static void test_property_length_longer_than_the_packet_is_a_length_error(void **state)
{
    (void)state;
    uint8_t buf[8];
    size_t n = hex_decode("05 21 00 14", buf, sizeof buf);
    rd_t r = {buf, buf + n};
    kmqtt_props_t out;
    assert_int_equal(kmqtt_props_read(&r, KMQTT_CONNECT, &out), KMQTT_EPROP_LENGTH);
    assert_ptr_equal(r.p, buf); /* the reader is left where it was */

    n = hex_decode("80 80 80 80 01", buf, sizeof buf);
    r = (rd_t){buf, buf + n};
    assert_int_equal(kmqtt_props_read(&r, KMQTT_CONNECT, &out), KMQTT_EVARINT);
    n = hex_decode("83 00 21 00 14", buf, sizeof buf); /* 3, not minimal */
    r = (rd_t){buf, buf + n};
    assert_int_equal(kmqtt_props_read(&r, KMQTT_CONNECT, &out), KMQTT_EVARINT);
    r = (rd_t){buf, buf};
    assert_int_equal(kmqtt_props_read(&r, KMQTT_CONNECT, &out), KMQTT_ETRUNCATED);
}

static void test_read_consumes_exactly_the_block_and_validates_it(void **state)
{
    (void)state;
    uint8_t buf[16];
    size_t n = hex_decode("03 21 00 14 aa bb", buf, sizeof buf);
    rd_t r = {buf, buf + n};
    kmqtt_props_t out;
    assert_int_equal(kmqtt_props_read(&r, KMQTT_CONNECT, &out), KMQTT_OK);
    assert_ptr_equal(out.raw, buf + 1);
    assert_int_equal(out.raw_len, 3);
    assert_ptr_equal(r.p, buf + 4);

    /* same bytes, but Receive Maximum is not a PUBLISH property */
    r = (rd_t){buf, buf + n};
    assert_int_equal(kmqtt_props_read(&r, KMQTT_PUBLISH, &out), KMQTT_EPROP_NOT_ALLOWED);
    assert_ptr_equal(r.p, buf);
}

static void test_empty_block_reads_iterates_and_writes_as_one_zero_byte(void **state)
{
    (void)state;
    uint8_t in[] = {0x00, 0x42};
    rd_t r = {in, in + sizeof in};
    kmqtt_props_t out;
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;
    uint8_t buf[4];
    size_t len = 0;

    assert_int_equal(kmqtt_props_read(&r, KMQTT_PUBACK, &out), KMQTT_OK);
    assert_int_equal(out.raw_len, 0);
    assert_ptr_equal(r.p, in + 1);
    kmqtt_prop_iter_init(&it, &out);
    assert_false(kmqtt_prop_iter_next(&it, &p));
    assert_false(kmqtt_props_find(&out, KMQTT_PROP_REASON_STRING, &p));
    assert_int_equal(encode_props(&out, KMQTT_PUBACK, buf, sizeof buf, &len), KMQTT_OK);
    assert_int_equal(len, 1);
    assert_int_equal(buf[0], 0x00);

    kmqtt_props_t zero;
    memset(&zero, 0, sizeof zero);
    kmqtt_prop_iter_init(&it, &zero);
    assert_false(kmqtt_prop_iter_next(&it, &p));
    assert_false(kmqtt_props_find(&zero, KMQTT_PROP_REASON_STRING, &p));
    assert_int_equal(encode_props(&zero, KMQTT_PUBACK, buf, sizeof buf, &len), KMQTT_OK);
    assert_int_equal(len, 1);
    assert_int_equal(buf[0], 0x00);
    assert_int_equal(kmqtt_props_validate_raw(NULL, 0, KMQTT_PUBACK), KMQTT_OK);
}

static void test_encoder_rejects_a_bad_raw_block_like_the_decoder(void **state)
{
    (void)state;
    uint8_t block[] = {0x21, 0x00, 0x00}; /* Receive Maximum 0 */
    kmqtt_props_t raw = {NULL, 0, block, sizeof block};
    size_t size;
    assert_int_equal(kmqtt_props_block_size(&raw, KMQTT_CONNECT, &size), KMQTT_EPROP_VALUE);
    assert_int_equal(kmqtt_props_block_size(&raw, KMQTT_PUBLISH, &size), KMQTT_EPROP_NOT_ALLOWED);
    block[2] = 0x14;
    assert_int_equal(kmqtt_props_block_size(&raw, KMQTT_CONNECT, &size), KMQTT_OK);
    assert_int_equal(size, 3);
}

static void test_mixed_or_inconsistent_forms_are_invalid(void **state)
{
    (void)state;
    uint8_t block[] = {0x21, 0x00, 0x14};
    kmqtt_prop_t rm = {.id = KMQTT_PROP_RECEIVE_MAXIMUM, .num = 20};
    size_t size;
    kmqtt_props_t both = {&rm, 1, block, sizeof block};
    assert_int_equal(kmqtt_props_block_size(&both, KMQTT_CONNECT, &size), KMQTT_EINVAL);
    kmqtt_props_t no_items = {NULL, 2, NULL, 0};
    assert_int_equal(kmqtt_props_block_size(&no_items, KMQTT_CONNECT, &size), KMQTT_EINVAL);
    kmqtt_props_t no_raw = {NULL, 0, NULL, 3};
    assert_int_equal(kmqtt_props_block_size(&no_raw, KMQTT_CONNECT, &size), KMQTT_EINVAL);
    assert_int_equal(kmqtt_props_validate_raw(NULL, 3, KMQTT_CONNECT), KMQTT_EINVAL);
    kmqtt_props_t empty_items = {&rm, 0, NULL, 0};
    assert_int_equal(kmqtt_props_block_size(&empty_items, KMQTT_CONNECT, &size), KMQTT_OK);
    assert_int_equal(size, 0);
}

static void test_block_too_long_for_its_varint_length_is_rejected(void **state)
{
    (void)state;
    /* 2049 user properties of 2 * 65,535 bytes add up past 268,435,455. */
    const size_t n = 2049;
    kmqtt_prop_t *items = calloc(n, sizeof *items);
    assert_non_null(items);
    memset(big, 'a', sizeof big);
    for (size_t i = 0; i < n; i++) {
        items[i].id = KMQTT_PROP_USER_PROPERTY;
        items[i].str = (kmqtt_str_t){big, 65535};
        items[i].value = (kmqtt_str_t){big, 65535};
    }
    size_t size;
    kmqtt_props_t props = {items, n, NULL, 0};
    assert_int_equal(kmqtt_props_block_size(&props, KMQTT_PUBLISH, &size), KMQTT_EVARINT);
    props.count = 2048; /* 2048 * 131,075 = 268,441,600: still too long */
    assert_int_equal(kmqtt_props_block_size(&props, KMQTT_PUBLISH, &size), KMQTT_EVARINT);
    props.count = 2047;
    assert_int_equal(kmqtt_props_block_size(&props, KMQTT_PUBLISH, &size), KMQTT_OK);
    assert_int_equal(size, (size_t)2047 * 131075u);
    free(items);

    uint8_t block[] = {0x21, 0x00, 0x14};
    kmqtt_props_t raw = {NULL, 0, block, (size_t)KMQTT_VARINT_MAX + 1};
    assert_int_equal(kmqtt_props_block_size(&raw, KMQTT_CONNECT, &size), KMQTT_EVARINT);
}

static void test_write_never_goes_past_the_callers_buffer(void **state)
{
    (void)state;
    kmqtt_prop_t ct = {.id = KMQTT_PROP_CONTENT_TYPE, .str = STR("text/plain")};
    kmqtt_props_t props = {&ct, 1, NULL, 0};
    size_t block;
    assert_int_equal(kmqtt_props_block_size(&props, KMQTT_PUBLISH, &block), KMQTT_OK);
    for (size_t cap = 0; cap < 1 + block; cap++) {
        uint8_t buf[32];
        memset(buf, 0xEE, sizeof buf);
        wr_t w = {buf, buf + cap, false};
        kmqtt_props_write(&w, &props, block);
        assert_true(w.overflow);
        for (size_t i = cap; i < sizeof buf; i++)
            assert_int_equal(buf[i], 0xEE);
    }
}

static void test_find_returns_the_first_match_in_either_form(void **state)
{
    (void)state;
    const kmqtt_prop_t items[] = {
        {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("a"), .value = STR("1")},
        {.id = KMQTT_PROP_REASON_STRING, .str = STR("why")},
        {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("b"), .value = STR("2")},
    };
    kmqtt_props_t src = {items, 3, NULL, 0};
    kmqtt_prop_t got;
    assert_true(kmqtt_props_find(&src, KMQTT_PROP_USER_PROPERTY, &got));
    assert_memory_equal(got.value.ptr, "1", 1);
    assert_true(kmqtt_props_find(&src, KMQTT_PROP_REASON_STRING, &got));
    assert_int_equal(got.str.len, 3);
    assert_false(kmqtt_props_find(&src, KMQTT_PROP_SERVER_REFERENCE, &got));
    assert_true(kmqtt_props_find(&src, KMQTT_PROP_REASON_STRING, NULL));

    uint8_t buf[64];
    size_t len = 0;
    assert_int_equal(encode_props(&src, KMQTT_DISCONNECT, buf, sizeof buf, &len), KMQTT_OK);
    rd_t r = {buf, buf + len};
    kmqtt_props_t raw;
    assert_int_equal(kmqtt_props_read(&r, KMQTT_DISCONNECT, &raw), KMQTT_OK);
    assert_true(kmqtt_props_find(&raw, KMQTT_PROP_USER_PROPERTY, &got));
    assert_int_equal(got.str.len, 1);
    assert_memory_equal(got.str.ptr, "a", 1);
    assert_memory_equal(got.value.ptr, "1", 1);
    /* the view points into the caller's buffer */
    assert_true((const uint8_t *)got.str.ptr > buf && (const uint8_t *)got.str.ptr < buf + len);
    assert_true(kmqtt_props_find(&raw, KMQTT_PROP_REASON_STRING, &got));
    assert_memory_equal(got.str.ptr, "why", 3);
    assert_false(kmqtt_props_find(&raw, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, &got));
}

/* A block with one of every CONNACK property; cut it at every byte. */
static void test_truncated_block_at_every_cut_point_is_an_error(void **state)
{
    (void)state;
    const kmqtt_prop_t items[] = {
        {.id = KMQTT_PROP_SESSION_EXPIRY_INTERVAL, .num = 0x01020304},
        {.id = KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, .str = STR("client-1")},
        {.id = KMQTT_PROP_SERVER_KEEP_ALIVE, .num = 30},
        {.id = KMQTT_PROP_AUTHENTICATION_METHOD, .str = STR("SCRAM-SHA-1")},
        {.id = KMQTT_PROP_AUTHENTICATION_DATA, .bin = {auth_data, 3}},
        {.id = KMQTT_PROP_RESPONSE_INFORMATION, .str = STR("resp/")},
        {.id = KMQTT_PROP_SERVER_REFERENCE, .str = STR("other-broker.example:1883")},
        {.id = KMQTT_PROP_REASON_STRING, .str = STR("everything is fine, carry on")},
        {.id = KMQTT_PROP_RECEIVE_MAXIMUM, .num = 10},
        {.id = KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, .num = 5},
        {.id = KMQTT_PROP_MAXIMUM_QOS, .num = 1},
        {.id = KMQTT_PROP_RETAIN_AVAILABLE, .num = 1},
        {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("k1"), .value = STR("v1")},
        {.id = KMQTT_PROP_USER_PROPERTY, .str = STR("k2"), .value = STR("")},
        {.id = KMQTT_PROP_MAXIMUM_PACKET_SIZE, .num = 65536},
        {.id = KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, .num = 0},
        {.id = KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, .num = 1},
        {.id = KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, .num = 0},
    };
    const size_t n_items = sizeof items / sizeof items[0];
    uint8_t full[256];
    size_t len = 0;
    assert_int_equal(encode_items(items, n_items, KMQTT_CONNACK, full, sizeof full, &len),
                     KMQTT_OK);
    assert_true(len > 128); /* a two-byte length prefix: cuts inside it too */
    const size_t prefix = 2;
    const uint8_t *block = full + prefix;
    const size_t block_len = len - prefix;

    /* Where each property ends, from walking the whole block. */
    bool boundary[256] = {false};
    kmqtt_props_t whole = {NULL, 0, block, block_len};
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;
    size_t count = 0;
    boundary[0] = true;
    kmqtt_prop_iter_init(&it, &whole);
    while (kmqtt_prop_iter_next(&it, &p)) {
        boundary[it.pos - block] = true;
        count++;
    }
    assert_int_equal(count, n_items);
    assert_true(boundary[block_len]);

    /* The packet ends early: reading the prefixed block always fails. */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *buf = malloc(cut > 0 ? cut : 1);
        assert_non_null(buf);
        memcpy(buf, full, cut);
        rd_t r = {buf, buf + cut};
        kmqtt_props_t out;
        kmqtt_err_t err = kmqtt_props_read(&r, KMQTT_CONNACK, &out);
        assert_int_equal(err, cut < prefix ? KMQTT_ETRUNCATED : KMQTT_EPROP_LENGTH);
        free(buf);
    }

    /* The block itself is cut: valid only on a property boundary, and the
     * iterator never reads past the cut even without validation. */
    for (size_t cut = 0; cut < block_len; cut++) {
        uint8_t *buf = malloc(cut > 0 ? cut : 1);
        assert_non_null(buf);
        memcpy(buf, block, cut);
        kmqtt_err_t err = kmqtt_props_validate_raw(buf, cut, KMQTT_CONNACK);
        assert_int_equal(err, boundary[cut] ? KMQTT_OK : KMQTT_EPROP_LENGTH);

        kmqtt_props_t raw = {NULL, 0, buf, cut};
        size_t seen = 0;
        size_t complete = 0;
        for (size_t b = 1; b <= cut; b++)
            complete += boundary[b] ? 1 : 0;
        kmqtt_prop_iter_init(&it, &raw);
        while (kmqtt_prop_iter_next(&it, &p)) {
            assert_same_prop(&p, &items[seen]);
            seen++;
        }
        assert_int_equal(seen, complete);
        assert_false(kmqtt_prop_iter_next(&it, &p)); /* stays finished */
        free(buf);
    }
}

static void test_iterator_stops_at_an_unknown_identifier_in_an_unvalidated_block(void **state)
{
    (void)state;
    uint8_t block[] = {0x21, 0x00, 0x14, 0x04, 0x00, 0x21, 0x00, 0x15};
    kmqtt_props_t raw = {NULL, 0, block, sizeof block};
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;
    kmqtt_prop_iter_init(&it, &raw);
    assert_true(kmqtt_prop_iter_next(&it, &p));
    assert_int_equal(p.num, 20);
    assert_false(kmqtt_prop_iter_next(&it, &p));
    assert_false(kmqtt_prop_iter_next(&it, &p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_identifier_has_the_type_of_table_2_4),
        cmocka_unit_test(test_every_identifier_is_allowed_exactly_where_table_2_4_says),
        cmocka_unit_test(test_round_trip_covers_all_27_properties),
        cmocka_unit_test(test_every_property_round_trips_through_bytes),
        cmocka_unit_test(test_receive_maximum_20_is_written_as_03_21_00_14),
        cmocka_unit_test(test_connect_block_keeps_order_and_both_user_properties),
        cmocka_unit_test(test_subscription_identifier_varint_boundaries),
        cmocka_unit_test(test_payload_format_indicator_1_encodes_without_looking_at_a_payload),
        cmocka_unit_test(test_unknown_identifier_is_rejected),
        cmocka_unit_test(test_property_outside_its_packets_is_rejected),
        cmocka_unit_test(test_packet_type_out_of_range_is_invalid),
        cmocka_unit_test(test_repeated_property_is_rejected),
        cmocka_unit_test(test_user_property_may_repeat_in_every_packet_that_has_it),
        cmocka_unit_test(test_subscription_identifier_repeats_only_in_publish),
        cmocka_unit_test(test_flag_byte_properties_accept_only_0_or_1),
        cmocka_unit_test(test_zero_where_zero_is_meaningless_is_rejected),
        cmocka_unit_test(test_items_integer_wider_than_its_field_is_rejected),
        cmocka_unit_test(test_items_string_or_binary_over_65535_bytes_is_rejected),
        cmocka_unit_test(test_items_string_without_bytes_is_invalid),
        cmocka_unit_test(test_ill_formed_utf8_in_string_properties_is_rejected),
        cmocka_unit_test(test_field_running_past_the_block_is_a_length_error),
        cmocka_unit_test(test_malformed_subscription_identifier_varint_is_rejected),
        cmocka_unit_test(test_property_length_longer_than_the_packet_is_a_length_error),
        cmocka_unit_test(test_read_consumes_exactly_the_block_and_validates_it),
        cmocka_unit_test(test_empty_block_reads_iterates_and_writes_as_one_zero_byte),
        cmocka_unit_test(test_encoder_rejects_a_bad_raw_block_like_the_decoder),
        cmocka_unit_test(test_mixed_or_inconsistent_forms_are_invalid),
        cmocka_unit_test(test_block_too_long_for_its_varint_length_is_rejected),
        cmocka_unit_test(test_write_never_goes_past_the_callers_buffer),
        cmocka_unit_test(test_find_returns_the_first_match_in_either_form),
        cmocka_unit_test(test_truncated_block_at_every_cut_point_is_an_error),
        cmocka_unit_test(test_iterator_stops_at_an_unknown_identifier_in_an_unvalidated_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
