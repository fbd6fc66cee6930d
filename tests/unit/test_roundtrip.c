/*
 * Every packet type of both versions: encode, decode, compare every field,
 * encode the decoded packet again and get the same bytes. Then the same
 * stream decoded at once, one byte at a time and in random splits must give
 * the same packets: the decoder does not care how the bytes arrive.
 *
 * With KMQTT_WRITE_CORPUS=<dir> in the environment the encoded packets are
 * also written there, one file each: that is how tests/fuzz/corpus/decode was
 * seeded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/codec.h"

#define S(lit)                                                                                     \
    {                                                                                              \
        (lit), sizeof(lit) - 1                                                                     \
    }
#define B(lit)                                                                                     \
    {                                                                                              \
        (const uint8_t *)(lit), sizeof(lit) - 1                                                    \
    }
#define PROPS(arr)                                                                                 \
    {                                                                                              \
        (arr), sizeof(arr) / sizeof((arr)[0]), NULL, 0                                             \
    }

/* ------------------------------------------------------------ fixtures */

static const kmqtt_prop_t connect_props[] = {
    {KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 3600, {0}, {0}, {0}},
    {KMQTT_PROP_RECEIVE_MAXIMUM, 20, {0}, {0}, {0}},
    {KMQTT_PROP_MAXIMUM_PACKET_SIZE, 65536, {0}, {0}, {0}},
    {KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 10, {0}, {0}, {0}},
    {KMQTT_PROP_REQUEST_RESPONSE_INFORMATION, 1, {0}, {0}, {0}},
    {KMQTT_PROP_REQUEST_PROBLEM_INFORMATION, 0, {0}, {0}, {0}},
    {KMQTT_PROP_USER_PROPERTY, 0, S("site"), {0}, S("north")},
    {KMQTT_PROP_USER_PROPERTY, 0, S("site"), {0}, S("south")},
    {KMQTT_PROP_AUTHENTICATION_METHOD, 0, S("SCRAM-SHA-1"), {0}, {0}},
    {KMQTT_PROP_AUTHENTICATION_DATA, 0, {0}, B("\x01\x02\x00\x03"), {0}},
};

static const kmqtt_prop_t will_props[] = {
    {KMQTT_PROP_WILL_DELAY_INTERVAL, 30, {0}, {0}, {0}},
    {KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1, {0}, {0}, {0}},
    {KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 600, {0}, {0}, {0}},
    {KMQTT_PROP_CONTENT_TYPE, 0, S("text/plain"), {0}, {0}},
    {KMQTT_PROP_RESPONSE_TOPIC, 0, S("dev/1/reply"), {0}, {0}},
    {KMQTT_PROP_CORRELATION_DATA, 0, {0}, B("\xde\xad"), {0}},
    {KMQTT_PROP_USER_PROPERTY, 0, S("k"), {0}, S("v")},
};

static const kmqtt_prop_t connack_props[] = {
    {KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 0, {0}, {0}, {0}},
    {KMQTT_PROP_RECEIVE_MAXIMUM, 100, {0}, {0}, {0}},
    {KMQTT_PROP_MAXIMUM_QOS, 1, {0}, {0}, {0}},
    {KMQTT_PROP_RETAIN_AVAILABLE, 0, {0}, {0}, {0}},
    {KMQTT_PROP_MAXIMUM_PACKET_SIZE, 1048576, {0}, {0}, {0}},
    {KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, 0, S("auto-7F3A"), {0}, {0}},
    {KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, 5, {0}, {0}, {0}},
    {KMQTT_PROP_REASON_STRING, 0, S("welcome"), {0}, {0}},
    {KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, 1, {0}, {0}, {0}},
    {KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, 1, {0}, {0}, {0}},
    {KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 0, {0}, {0}, {0}},
    {KMQTT_PROP_SERVER_KEEP_ALIVE, 120, {0}, {0}, {0}},
    {KMQTT_PROP_RESPONSE_INFORMATION, 0, S("resp/"), {0}, {0}},
    {KMQTT_PROP_SERVER_REFERENCE, 0, S("other.example:1883"), {0}, {0}},
};

static const kmqtt_prop_t publish_props[] = {
    {KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1, {0}, {0}, {0}},
    {KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 60, {0}, {0}, {0}},
    {KMQTT_PROP_CONTENT_TYPE, 0, S("application/json"), {0}, {0}},
    {KMQTT_PROP_RESPONSE_TOPIC, 0, S("reply/here"), {0}, {0}},
    {KMQTT_PROP_CORRELATION_DATA, 0, {0}, B("id-42"), {0}},
    {KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, 268435455, {0}, {0}, {0}},
    {KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, 2, {0}, {0}, {0}},
    {KMQTT_PROP_USER_PROPERTY,
     0,
     S("unit"),
     {0},
     S("\xc2\xb0"
       "C")},
};

static const kmqtt_prop_t alias_props[] = {
    {KMQTT_PROP_TOPIC_ALIAS, 3, {0}, {0}, {0}},
};

static const kmqtt_prop_t reason_props[] = {
    {KMQTT_PROP_REASON_STRING, 0, S("quota exceeded"), {0}, {0}},
    {KMQTT_PROP_USER_PROPERTY, 0, S("retry-after"), {0}, S("30")},
};

static const kmqtt_prop_t subscribe_props[] = {
    {KMQTT_PROP_SUBSCRIPTION_IDENTIFIER, 16384, {0}, {0}, {0}},
    {KMQTT_PROP_USER_PROPERTY, 0, S("a"), {0}, S("")},
};

static const kmqtt_prop_t disconnect_props[] = {
    {KMQTT_PROP_SESSION_EXPIRY_INTERVAL, 0, {0}, {0}, {0}},
    {KMQTT_PROP_REASON_STRING, 0, S("bye"), {0}, {0}},
    {KMQTT_PROP_SERVER_REFERENCE, 0, S("b.example"), {0}, {0}},
};

static const kmqtt_prop_t auth_props[] = {
    {KMQTT_PROP_AUTHENTICATION_METHOD, 0, S("SCRAM-SHA-1"), {0}, {0}},
    {KMQTT_PROP_AUTHENTICATION_DATA, 0, {0}, B("c=biws,r=abc"), {0}},
    {KMQTT_PROP_REASON_STRING, 0, S("continue"), {0}, {0}},
};

static const kmqtt_subscription_t subs311[] = {
    {S("sensors/+/temp"), 0, false, false, 0},
    {S("cmd/#"), 1, false, false, 0},
    {S("status"), 2, false, false, 0},
};

static const kmqtt_subscription_t subs5[] = {
    {S("sensors/+/temp"), 1, true, true, 2},
    {S("$share/workers/jobs/#"), 2, false, false, 1},
    {S("a/b"), 0, false, true, 0},
};

static const kmqtt_subscription_t unsubs[] = {
    {S("sensors/+/temp"), 0, false, false, 0},
    {S("cmd/#"), 0, false, false, 0},
};

static uint8_t big_payload[70000];

typedef struct fixture {
    const char *name;
    kmqtt_version_t v;
    kmqtt_packet_t p;
} fixture_t;

static fixture_t fixtures[64];
static size_t fixture_count;

static kmqtt_packet_t *add(const char *name, kmqtt_version_t v, kmqtt_packet_type_t type)
{
    fixture_t *f = &fixtures[fixture_count++];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->v = v;
    f->p.type = type;
    return &f->p;
}

static void build_fixtures(void)
{
    kmqtt_packet_t *p;
    static const kmqtt_str_t cid = S("kmqtt-dev-0001");
    static const kmqtt_str_t topic = S("sensors/dev1/temp");
    static const kmqtt_bin_t payload = B("{\"t\":21.5}");
    static const kmqtt_bin_t codes311 = B("\x00\x01\x80");
    static const kmqtt_bin_t codes5 = B("\x01\x02\x97");
    static const kmqtt_bin_t unsub_codes5 = B("\x00\x11");
    static const kmqtt_props_t cprops = PROPS(connect_props);
    static const kmqtt_props_t wprops = PROPS(will_props);
    static const kmqtt_props_t caprops = PROPS(connack_props);
    static const kmqtt_props_t pprops = PROPS(publish_props);
    static const kmqtt_props_t aprops = PROPS(alias_props);
    static const kmqtt_props_t rprops = PROPS(reason_props);
    static const kmqtt_props_t sprops = PROPS(subscribe_props);
    static const kmqtt_props_t dprops = PROPS(disconnect_props);
    static const kmqtt_props_t auprops = PROPS(auth_props);

    for (size_t i = 0; i < sizeof big_payload; i++)
        big_payload[i] = (uint8_t)(i * 31u);
    fixture_count = 0;

    for (int vi = 0; vi < 2; vi++) {
        kmqtt_version_t v = vi == 0 ? KMQTT_V311 : KMQTT_V5;
        bool v5 = v == KMQTT_V5;

        p = add("connect minimal", v, KMQTT_CONNECT);
        p->u.connect.clean_start = true;
        p->u.connect.keepalive = 60;
        p->u.connect.client_id = cid;

        p = add("connect will user password", v, KMQTT_CONNECT);
        p->u.connect.keepalive = 0xffff;
        p->u.connect.client_id = (kmqtt_str_t)S("");
        p->u.connect.clean_start = true;
        p->u.connect.has_will = true;
        p->u.connect.will.topic = (kmqtt_str_t)S("dev/1/status");
        p->u.connect.will.payload = (kmqtt_bin_t)B("offline\x00\xff");
        p->u.connect.will.qos = 2;
        p->u.connect.will.retain = true;
        p->u.connect.has_username = true;
        p->u.connect.username = (kmqtt_str_t)S("d\xc3\xa9vice");
        p->u.connect.has_password = true;
        p->u.connect.password = (kmqtt_bin_t)B("s3cr\x00t");
        if (v5) {
            p->u.connect.props = cprops;
            p->u.connect.will.props = wprops;
        }

        p = add("connack", v, KMQTT_CONNACK);
        p->u.connack.session_present = true;
        p = add("connack refused", v, KMQTT_CONNACK);
        p->u.connack.reason_code = v5 ? 0x87 : 5;
        if (v5) {
            p = add("connack properties", v, KMQTT_CONNACK);
            p->u.connack.props = caprops;
        }

        p = add("publish qos0", v, KMQTT_PUBLISH);
        p->u.publish.topic = topic;
        p->u.publish.payload = payload;
        p = add("publish qos0 empty payload retain", v, KMQTT_PUBLISH);
        p->u.publish.topic = topic;
        p->u.publish.retain = true;
        p = add("publish qos1 dup", v, KMQTT_PUBLISH);
        p->u.publish.topic = topic;
        p->u.publish.payload = payload;
        p->u.publish.qos = 1;
        p->u.publish.dup = true;
        p->u.publish.packet_id = 1;
        p = add("publish qos2 big", v, KMQTT_PUBLISH);
        p->u.publish.topic = (kmqtt_str_t)S("$SYS/\xe6\xb8\xa9\xe5\xba\xa6/x");
        p->u.publish.payload = (kmqtt_bin_t){big_payload, sizeof big_payload};
        p->u.publish.qos = 2;
        p->u.publish.packet_id = 65535;
        if (v5) {
            p = add("publish properties", v, KMQTT_PUBLISH);
            p->u.publish.topic = topic;
            p->u.publish.payload = payload;
            p->u.publish.qos = 1;
            p->u.publish.packet_id = 9;
            p->u.publish.props = pprops;
            p = add("publish alias only", v, KMQTT_PUBLISH);
            p->u.publish.payload = payload;
            p->u.publish.props = aprops;
        }

        static const kmqtt_packet_type_t acks[] = {KMQTT_PUBACK, KMQTT_PUBREC, KMQTT_PUBREL,
                                                   KMQTT_PUBCOMP};
        for (size_t a = 0; a < 4; a++) {
            p = add("ack", v, acks[a]);
            p->u.ack.packet_id = (uint16_t)(1 + a * 1000);
            if (v5) {
                p = add("ack reason only", v, acks[a]);
                p->u.ack.packet_id = 77;
                p->u.ack.reason_code =
                    (acks[a] == KMQTT_PUBREL || acks[a] == KMQTT_PUBCOMP) ? 0x92 : 0x10;
                p = add("ack reason and properties", v, acks[a]);
                p->u.ack.packet_id = 78;
                p->u.ack.reason_code =
                    (acks[a] == KMQTT_PUBREL || acks[a] == KMQTT_PUBCOMP) ? 0x92 : 0x97;
                p->u.ack.props = rprops;
            }
        }

        p = add("subscribe", v, KMQTT_SUBSCRIBE);
        p->u.subscribe.packet_id = 10;
        p->u.subscribe.items = v5 ? subs5 : subs311;
        p->u.subscribe.count = 3;
        if (v5)
            p->u.subscribe.props = sprops;
        p = add("suback", v, KMQTT_SUBACK);
        p->u.suback.packet_id = 10;
        p->u.suback.reason_codes = v5 ? codes5 : codes311;
        if (v5)
            p->u.suback.props = rprops;
        p = add("unsubscribe", v, KMQTT_UNSUBSCRIBE);
        p->u.subscribe.packet_id = 11;
        p->u.subscribe.items = unsubs;
        p->u.subscribe.count = 2;
        p = add("unsuback", v, KMQTT_UNSUBACK);
        p->u.suback.packet_id = 11;
        if (v5) {
            p->u.suback.reason_codes = unsub_codes5;
            p->u.suback.props = rprops;
        }
        add("pingreq", v, KMQTT_PINGREQ);
        add("pingresp", v, KMQTT_PINGRESP);
        add("disconnect", v, KMQTT_DISCONNECT);
        if (v5) {
            p = add("disconnect reason", v, KMQTT_DISCONNECT);
            p->u.disconnect.reason_code = 0x04; /* with will message */
            p = add("disconnect properties", v, KMQTT_DISCONNECT);
            p->u.disconnect.reason_code = 0x9C; /* use another server */
            p->u.disconnect.props = dprops;
            add("auth success", v, KMQTT_AUTH);
            p = add("auth continue", v, KMQTT_AUTH);
            p->u.disconnect.reason_code = 0x18;
            p->u.disconnect.props = auprops;
        }
    }
}

/* ---------------------------------------------------------- comparison */

static void assert_str_eq(kmqtt_str_t a, kmqtt_str_t b)
{
    assert_int_equal(a.len, b.len);
    if (a.len > 0)
        assert_memory_equal(a.ptr, b.ptr, a.len);
}

static void assert_bin_eq(kmqtt_bin_t a, kmqtt_bin_t b)
{
    assert_int_equal(a.len, b.len);
    if (a.len > 0)
        assert_memory_equal(a.ptr, b.ptr, a.len);
}

static void assert_in(const void *ptr, size_t len, const uint8_t *buf, size_t buflen)
{
    if (len == 0)
        return;
    /* Decoded fields are views into the input, never copies. */
    assert_true((const uint8_t *)ptr >= buf && (const uint8_t *)ptr + len <= buf + buflen);
}

static void assert_props_eq(const kmqtt_props_t *want, const kmqtt_props_t *got, const uint8_t *buf,
                            size_t len)
{
    kmqtt_prop_iter_t a, b;
    kmqtt_prop_t pa, pb;
    size_t n = 0;
    kmqtt_prop_iter_init(&a, want);
    kmqtt_prop_iter_init(&b, got);
    assert_null(got->items);
    assert_in(got->raw, got->raw_len, buf, len);
    while (kmqtt_prop_iter_next(&a, &pa)) {
        assert_true(kmqtt_prop_iter_next(&b, &pb));
        assert_int_equal(pa.id, pb.id);
        switch (kmqtt_prop_type((uint8_t)pa.id)) {
        case KMQTT_PROPTYPE_BYTE:
        case KMQTT_PROPTYPE_U16:
        case KMQTT_PROPTYPE_U32:
        case KMQTT_PROPTYPE_VARINT:
            assert_int_equal(pa.num, pb.num);
            break;
        case KMQTT_PROPTYPE_STRING:
            assert_str_eq(pa.str, pb.str);
            break;
        case KMQTT_PROPTYPE_BINARY:
            assert_bin_eq(pa.bin, pb.bin);
            break;
        case KMQTT_PROPTYPE_STRING_PAIR:
            assert_str_eq(pa.str, pb.str);
            assert_str_eq(pa.value, pb.value);
            break;
        default:
            fail_msg("unknown property type for 0x%02x", pa.id);
        }
        n++;
    }
    assert_false(kmqtt_prop_iter_next(&b, &pb));
    assert_int_equal(n, want->items != NULL ? want->count : n);
}

static void assert_subs_eq(const kmqtt_subscribe_t *want, const kmqtt_subscribe_t *got,
                           bool is_subscribe, const uint8_t *buf, size_t len)
{
    kmqtt_sub_iter_t a, b;
    kmqtt_subscription_t sa, sb;
    assert_int_equal(want->count, got->count);
    assert_null(got->items);
    assert_in(got->raw, got->raw_len, buf, len);
    kmqtt_sub_iter_init(&a, want, is_subscribe);
    kmqtt_sub_iter_init(&b, got, is_subscribe);
    while (kmqtt_sub_iter_next(&a, &sa)) {
        assert_true(kmqtt_sub_iter_next(&b, &sb));
        assert_str_eq(sa.filter, sb.filter);
        assert_in(sb.filter.ptr, sb.filter.len, buf, len);
        if (is_subscribe) {
            assert_int_equal(sa.qos, sb.qos);
            assert_int_equal(sa.no_local, sb.no_local);
            assert_int_equal(sa.retain_as_published, sb.retain_as_published);
            assert_int_equal(sa.retain_handling, sb.retain_handling);
        }
    }
    assert_false(kmqtt_sub_iter_next(&b, &sb));
}

static void assert_packet_eq(const fixture_t *f, const kmqtt_packet_t *got, const uint8_t *buf,
                             size_t len)
{
    const kmqtt_packet_t *w = &f->p;
    assert_int_equal(w->type, got->type);
    switch (w->type) {
    case KMQTT_CONNECT:
        assert_int_equal(got->u.connect.version, f->v);
        assert_int_equal(w->u.connect.clean_start, got->u.connect.clean_start);
        assert_int_equal(w->u.connect.keepalive, got->u.connect.keepalive);
        assert_str_eq(w->u.connect.client_id, got->u.connect.client_id);
        assert_int_equal(w->u.connect.has_will, got->u.connect.has_will);
        if (w->u.connect.has_will) {
            assert_str_eq(w->u.connect.will.topic, got->u.connect.will.topic);
            assert_bin_eq(w->u.connect.will.payload, got->u.connect.will.payload);
            assert_in(got->u.connect.will.payload.ptr, got->u.connect.will.payload.len, buf, len);
            assert_int_equal(w->u.connect.will.qos, got->u.connect.will.qos);
            assert_int_equal(w->u.connect.will.retain, got->u.connect.will.retain);
            assert_props_eq(&w->u.connect.will.props, &got->u.connect.will.props, buf, len);
        }
        assert_int_equal(w->u.connect.has_username, got->u.connect.has_username);
        assert_str_eq(w->u.connect.username, got->u.connect.username);
        assert_int_equal(w->u.connect.has_password, got->u.connect.has_password);
        assert_bin_eq(w->u.connect.password, got->u.connect.password);
        assert_props_eq(&w->u.connect.props, &got->u.connect.props, buf, len);
        break;
    case KMQTT_CONNACK:
        assert_int_equal(w->u.connack.session_present, got->u.connack.session_present);
        assert_int_equal(w->u.connack.reason_code, got->u.connack.reason_code);
        assert_props_eq(&w->u.connack.props, &got->u.connack.props, buf, len);
        break;
    case KMQTT_PUBLISH:
        assert_str_eq(w->u.publish.topic, got->u.publish.topic);
        assert_in(got->u.publish.topic.ptr, got->u.publish.topic.len, buf, len);
        assert_bin_eq(w->u.publish.payload, got->u.publish.payload);
        assert_in(got->u.publish.payload.ptr, got->u.publish.payload.len, buf, len);
        assert_int_equal(w->u.publish.qos, got->u.publish.qos);
        assert_int_equal(w->u.publish.retain, got->u.publish.retain);
        assert_int_equal(w->u.publish.dup, got->u.publish.dup);
        assert_int_equal(w->u.publish.packet_id, got->u.publish.packet_id);
        assert_props_eq(&w->u.publish.props, &got->u.publish.props, buf, len);
        break;
    case KMQTT_PUBACK:
    case KMQTT_PUBREC:
    case KMQTT_PUBREL:
    case KMQTT_PUBCOMP:
        assert_int_equal(w->u.ack.packet_id, got->u.ack.packet_id);
        assert_int_equal(w->u.ack.reason_code, got->u.ack.reason_code);
        assert_props_eq(&w->u.ack.props, &got->u.ack.props, buf, len);
        break;
    case KMQTT_SUBSCRIBE:
    case KMQTT_UNSUBSCRIBE:
        assert_int_equal(w->u.subscribe.packet_id, got->u.subscribe.packet_id);
        assert_props_eq(&w->u.subscribe.props, &got->u.subscribe.props, buf, len);
        assert_subs_eq(&w->u.subscribe, &got->u.subscribe, w->type == KMQTT_SUBSCRIBE, buf, len);
        break;
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
        assert_int_equal(w->u.suback.packet_id, got->u.suback.packet_id);
        assert_bin_eq(w->u.suback.reason_codes, got->u.suback.reason_codes);
        assert_props_eq(&w->u.suback.props, &got->u.suback.props, buf, len);
        break;
    case KMQTT_DISCONNECT:
    case KMQTT_AUTH:
        assert_int_equal(w->u.disconnect.reason_code, got->u.disconnect.reason_code);
        assert_props_eq(&w->u.disconnect.props, &got->u.disconnect.props, buf, len);
        break;
    default:
        break;
    }
}

/* --------------------------------------------------------------- tests */

static uint8_t enc[80000];
static uint8_t enc2[80000];

static void write_corpus(const fixture_t *f, size_t i, const uint8_t *buf, size_t len)
{
    const char *dir = getenv("KMQTT_WRITE_CORPUS");
    char path[512];
    if (dir == NULL || len > 4096)
        return;
    snprintf(path, sizeof path, "%s/v%d-%02zu-%d", dir, (int)f->v, i, (int)f->p.type);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    fclose(fp);
}

static void test_every_packet_round_trips_in_both_versions(void **state)
{
    (void)state;
    build_fixtures();
    assert_true(fixture_count > 40);
    for (size_t i = 0; i < fixture_count; i++) {
        const fixture_t *f = &fixtures[i];
        size_t size = 0, written = 0, consumed = 0, written2 = 0;
        kmqtt_packet_t got;
        kmqtt_err_t err = kmqtt_packet_size(&f->p, f->v, &size);
        if (err != KMQTT_OK)
            fail_msg("%s v%d: size: %s", f->name, (int)f->v, kmqtt_strerror(err));
        err = kmqtt_packet_encode(&f->p, f->v, enc, sizeof enc, &written);
        if (err != KMQTT_OK)
            fail_msg("%s v%d: encode: %s", f->name, (int)f->v, kmqtt_strerror(err));
        assert_int_equal(size, written);
        assert_int_equal(enc[0] >> 4, f->p.type);
        write_corpus(f, i, enc, written);

        err = kmqtt_packet_decode(enc, written, f->v, 0, &got, &consumed);
        if (err != KMQTT_OK)
            fail_msg("%s v%d: decode: %s", f->name, (int)f->v, kmqtt_strerror(err));
        assert_int_equal(consumed, written);
        assert_packet_eq(f, &got, enc, written);

        /* The decoded form (raw views) encodes to the very same bytes. */
        err = kmqtt_packet_encode(&got, f->v, enc2, sizeof enc2, &written2);
        if (err != KMQTT_OK)
            fail_msg("%s v%d: re-encode: %s", f->name, (int)f->v, kmqtt_strerror(err));
        assert_int_equal(written, written2);
        assert_memory_equal(enc, enc2, written);
    }
}

/* One stream holding every small fixture of one version, back to back. */
static size_t build_stream(kmqtt_version_t v, uint8_t *buf, size_t cap, size_t *count)
{
    size_t len = 0;
    *count = 0;
    for (size_t i = 0; i < fixture_count; i++) {
        size_t w = 0;
        if (fixtures[i].v != v || fixtures[i].p.type == KMQTT_CONNECT)
            continue; /* a stream carries one CONNECT at most; keep it simple */
        assert_int_equal(kmqtt_packet_encode(&fixtures[i].p, v, buf + len, cap - len, &w),
                         KMQTT_OK);
        len += w;
        (*count)++;
    }
    return len;
}

typedef struct seen {
    kmqtt_packet_type_t type;
    size_t len;
} seen_t;

/* Feeds the stream in chunks of the sizes next_chunk returns, appending to an
 * accumulation buffer the way a receive loop does, and records the packets. */
static size_t decode_in_chunks(kmqtt_version_t v, const uint8_t *stream, size_t len,
                               size_t (*next_chunk)(void), seen_t *out, size_t max)
{
    static uint8_t acc[80000];
    size_t have = 0, fed = 0, n = 0;
    memset(out, 0, max * sizeof *out); /* the arrays are compared whole, padding included */
    while (fed < len || have > 0) {
        if (fed < len) {
            size_t c = next_chunk();
            if (c > len - fed)
                c = len - fed;
            memcpy(acc + have, stream + fed, c);
            have += c;
            fed += c;
        }
        for (;;) {
            kmqtt_packet_t p;
            size_t consumed = 0;
            kmqtt_err_t err = kmqtt_packet_decode(acc, have, v, 0, &p, &consumed);
            if (err == KMQTT_NEED_MORE) {
                assert_int_equal(consumed, 0);
                break;
            }
            assert_int_equal(err, KMQTT_OK);
            assert_true(n < max);
            out[n].type = p.type;
            out[n].len = consumed;
            n++;
            memmove(acc, acc + consumed, have - consumed);
            have -= consumed;
        }
        if (fed == len && have > 0)
            fail_msg("%zu bytes left undecoded at end of stream", have);
    }
    return n;
}

static size_t one_byte(void)
{
    return 1;
}

static size_t whole(void)
{
    return SIZE_MAX;
}

static uint32_t rng_state;
static size_t random_chunk(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return 1 + (rng_state >> 16) % 97;
}

static void test_byte_at_a_time_gives_the_same_packets_as_all_at_once(void **state)
{
    static uint8_t stream[160000];
    (void)state;
    build_fixtures();
    for (int vi = 0; vi < 2; vi++) {
        kmqtt_version_t v = vi == 0 ? KMQTT_V311 : KMQTT_V5;
        seen_t at_once[64], bytewise[64], random[64];
        size_t count = 0;
        size_t len = build_stream(v, stream, sizeof stream, &count);
        size_t a = decode_in_chunks(v, stream, len, whole, at_once, 64);
        size_t b = decode_in_chunks(v, stream, len, one_byte, bytewise, 64);
        assert_int_equal(a, count);
        assert_int_equal(b, count);
        assert_memory_equal(at_once, bytewise, a * sizeof(seen_t));
        for (uint32_t seed = 1; seed <= 20; seed++) {
            rng_state = seed;
            size_t c = decode_in_chunks(v, stream, len, random_chunk, random, 64);
            assert_int_equal(c, count);
            assert_memory_equal(at_once, random, a * sizeof(seen_t));
        }
    }
}

static void test_every_strict_prefix_of_a_packet_needs_more(void **state)
{
    (void)state;
    build_fixtures();
    for (size_t i = 0; i < fixture_count; i++) {
        size_t w = 0;
        assert_int_equal(kmqtt_packet_encode(&fixtures[i].p, fixtures[i].v, enc, sizeof enc, &w),
                         KMQTT_OK);
        size_t step = w > 4096 ? 997 : 1; /* the 70 kB packet: sample its prefixes */
        for (size_t cut = 0; cut < w; cut += step) {
            kmqtt_packet_t p;
            size_t consumed = 99;
            /* Decoding a prefix must not read past it: copy it to a buffer of exactly that size. */
            uint8_t *prefix = malloc(cut > 0 ? cut : 1);
            assert_non_null(prefix);
            memcpy(prefix, enc, cut);
            assert_int_equal(kmqtt_packet_decode(prefix, cut, fixtures[i].v, 0, &p, &consumed),
                             KMQTT_NEED_MORE);
            assert_int_equal(consumed, 0);
            free(prefix);
        }
    }
}

static void test_max_packet_size_refuses_before_the_body_arrives(void **state)
{
    (void)state;
    build_fixtures();
    for (size_t i = 0; i < fixture_count; i++) {
        size_t w = 0, need = 0;
        kmqtt_packet_t p;
        size_t consumed = 0;
        assert_int_equal(kmqtt_packet_encode(&fixtures[i].p, fixtures[i].v, enc, sizeof enc, &w),
                         KMQTT_OK);
        if (w < 3)
            continue;
        /* Exactly the limit is fine; one byte less is refused from the header alone. */
        assert_int_equal(kmqtt_packet_frame(enc, w, (uint32_t)w, &need), KMQTT_OK);
        assert_int_equal(need, w);
        size_t header = 2;
        while (enc[header - 1] & 0x80)
            header++;
        assert_int_equal(
            kmqtt_packet_decode(enc, header, fixtures[i].v, (uint32_t)(w - 1), &p, &consumed),
            KMQTT_ETOOBIG);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_packet_round_trips_in_both_versions),
        cmocka_unit_test(test_byte_at_a_time_gives_the_same_packets_as_all_at_once),
        cmocka_unit_test(test_every_strict_prefix_of_a_packet_needs_more),
        cmocka_unit_test(test_max_packet_size_refuses_before_the_body_arrives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
