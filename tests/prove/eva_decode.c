/*
 * Eva harness (make prove): the decoder, for every input of at most
 * KMQTT_PROVE_N bytes, in both protocol versions and with every maximum
 * packet size. Eva is sound: no alarm means no run-time error (no read or
 * write out of bounds, no overflow that is undefined, no uninitialised
 * read, no invalid pointer) on any of those inputs.
 *
 * The input ends exactly at the end of its array (in = buf + N - len), so
 * a read of even one byte past what the caller gave is an access out of
 * bounds, which Eva reports; a byte of buf before `in` is never read by a
 * decoder that only goes forward (the report would show it otherwise).
 *
 * What a caller does with a decoded packet is analysed too: every view is
 * read byte by byte (a view outside the input would be an alarm), the
 * property list and the subscription filters are walked with their
 * iterators.
 *
 * The entry points are parameters (KMQTT_PROVE_TARGET): today the codec's
 * kmqtt_packet_frame / kmqtt_packet_decode; the engine's input path
 * (issue 11: bytes in, events out) is meant to get its own entry function
 * here over the same input, see docs/proof.md.
 */
#include "__fc_builtin.h"
#include "kmqtt/codec.h"

/* One run per input length (scripts/prove.sh runs 0..N): the input is an
 * array of exactly that many unknown bytes, so its bounds are exact. */
#ifndef KMQTT_PROVE_LEN
#define KMQTT_PROVE_LEN 4
#endif
#if KMQTT_PROVE_LEN > 0
#define BUF_SIZE KMQTT_PROVE_LEN
#else
#define BUF_SIZE 1 /* C has no empty arrays; the input is buf + 1, empty */
#endif

static volatile uint8_t sink;

static void touch(const void *ptr, size_t len)
{
    const uint8_t *p = ptr;
    for (size_t i = 0; i < len; i++)
        sink = p[i];
}

static void walk_props(const kmqtt_props_t *props)
{
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;

    kmqtt_prop_iter_init(&it, props);
    while (kmqtt_prop_iter_next(&it, &p)) {
        touch(p.str.ptr, p.str.len);
        touch(p.bin.ptr, p.bin.len);
        touch(p.value.ptr, p.value.len);
    }
}

static void walk_packet(const kmqtt_packet_t *p)
{
    kmqtt_sub_iter_t it;
    kmqtt_subscription_t s;

    switch (p->type) {
    case KMQTT_CONNECT:
        touch(p->u.connect.client_id.ptr, p->u.connect.client_id.len);
        touch(p->u.connect.will.topic.ptr, p->u.connect.will.topic.len);
        touch(p->u.connect.will.payload.ptr, p->u.connect.will.payload.len);
        touch(p->u.connect.username.ptr, p->u.connect.username.len);
        touch(p->u.connect.password.ptr, p->u.connect.password.len);
        walk_props(&p->u.connect.will.props);
        walk_props(&p->u.connect.props);
        break;
    case KMQTT_CONNACK:
        walk_props(&p->u.connack.props);
        break;
    case KMQTT_PUBLISH:
        touch(p->u.publish.topic.ptr, p->u.publish.topic.len);
        touch(p->u.publish.payload.ptr, p->u.publish.payload.len);
        walk_props(&p->u.publish.props);
        break;
    case KMQTT_PUBACK:
    case KMQTT_PUBREC:
    case KMQTT_PUBREL:
    case KMQTT_PUBCOMP:
        walk_props(&p->u.ack.props);
        break;
    case KMQTT_SUBSCRIBE:
    case KMQTT_UNSUBSCRIBE:
        walk_props(&p->u.subscribe.props);
        kmqtt_sub_iter_init(&it, &p->u.subscribe, p->type == KMQTT_SUBSCRIBE);
        while (kmqtt_sub_iter_next(&it, &s))
            touch(s.filter.ptr, s.filter.len);
        break;
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
        walk_props(&p->u.suback.props);
        touch(p->u.suback.reason_codes.ptr, p->u.suback.reason_codes.len);
        break;
    case KMQTT_DISCONNECT:
    case KMQTT_AUTH:
        walk_props(&p->u.disconnect.props);
        break;
    default:
        break;
    }
}

static uint8_t buf[BUF_SIZE];

int main(void)
{
    kmqtt_packet_t pkt;
    size_t consumed, packet_len;

    Frama_C_make_unknown((char *)buf, BUF_SIZE);
    size_t len = KMQTT_PROVE_LEN;
    kmqtt_version_t v = Frama_C_nondet(0, 1) ? KMQTT_V311 : KMQTT_V5;
    uint32_t max = Frama_C_unsigned_int_interval(0, UINT32_MAX);
    /*@ split v; */
    const uint8_t *in = buf + (BUF_SIZE - len);
#if KMQTT_PROVE_LEN > 0
    /* One partition per packet type: each decoder is analysed apart, so
     * the union of *out is not a mix of all of them. */
    unsigned type = (unsigned)(in[0] >> 4);
    /*@ split type; */
#endif

    (void)kmqtt_packet_frame(in, len, max, &packet_len);
    if (kmqtt_packet_decode(in, len, v, max, &pkt, &consumed) == KMQTT_OK)
        walk_packet(&pkt);
    return 0;
}
