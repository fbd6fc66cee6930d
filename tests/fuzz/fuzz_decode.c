/*
 * Feeds arbitrary bytes to the decoder as a stream, for both protocol
 * versions. Besides "never crash, never read out of bounds", it checks the
 * codec's promises on every packet that decodes:
 *  - the encoder accepts it (what kmqtt decodes, kmqtt can encode),
 *  - the encoding is no longer than the input and decodes again,
 *  - encoding that second decode gives the same bytes (the encoding is canonical),
 *  - property and filter walks stay inside the packet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/codec.h"

#define MAX_PACKET 65536u

static uint8_t out1[MAX_PACKET + 8];
static uint8_t out2[MAX_PACKET + 8];

static void check(int ok)
{
    if (!ok)
        abort();
}

static void walk(const kmqtt_packet_t *p, const uint8_t *start, size_t len)
{
    const uint8_t *end = start + len;
    kmqtt_props_t none;
    const kmqtt_props_t *props = &none;
    memset(&none, 0, sizeof none);
    switch (p->type) {
    case KMQTT_CONNECT:
        props = &p->u.connect.props;
        break;
    case KMQTT_CONNACK:
        props = &p->u.connack.props;
        break;
    case KMQTT_PUBLISH:
        props = &p->u.publish.props;
        break;
    case KMQTT_PUBACK:
    case KMQTT_PUBREC:
    case KMQTT_PUBREL:
    case KMQTT_PUBCOMP:
        props = &p->u.ack.props;
        break;
    case KMQTT_SUBSCRIBE:
    case KMQTT_UNSUBSCRIBE:
        props = &p->u.subscribe.props;
        break;
    case KMQTT_SUBACK:
    case KMQTT_UNSUBACK:
        props = &p->u.suback.props;
        break;
    case KMQTT_DISCONNECT:
    case KMQTT_AUTH:
        props = &p->u.disconnect.props;
        break;
    default:
        break;
    }
    kmqtt_prop_iter_t it;
    kmqtt_prop_t prop;
    kmqtt_prop_iter_init(&it, props);
    while (kmqtt_prop_iter_next(&it, &prop)) {
        check(kmqtt_prop_type((uint8_t)prop.id) != KMQTT_PROPTYPE_NONE);
        if (prop.str.len > 0)
            check((const uint8_t *)prop.str.ptr >= start &&
                  (const uint8_t *)prop.str.ptr + prop.str.len <= end);
        if (prop.bin.len > 0)
            check(prop.bin.ptr >= start && prop.bin.ptr + prop.bin.len <= end);
    }
    if (p->type == KMQTT_SUBSCRIBE || p->type == KMQTT_UNSUBSCRIBE) {
        kmqtt_sub_iter_t si;
        kmqtt_subscription_t s;
        size_t n = 0;
        kmqtt_sub_iter_init(&si, &p->u.subscribe, p->type == KMQTT_SUBSCRIBE);
        while (kmqtt_sub_iter_next(&si, &s)) {
            check(kmqtt_topic_filter_validate(s.filter.ptr, s.filter.len) == KMQTT_OK);
            /* A filter always matches a topic spelled like itself when it has no wildcard. */
            if (kmqtt_topic_name_validate(s.filter.ptr, s.filter.len) == KMQTT_OK &&
                !(s.filter.len >= 7 && memcmp(s.filter.ptr, "$share/", 7) == 0))
                check(kmqtt_topic_match(s.filter.ptr, s.filter.len, s.filter.ptr, s.filter.len));
            n++;
        }
        check(n == p->u.subscribe.count && n > 0);
    }
}

static void roundtrip(const kmqtt_packet_t *p, kmqtt_version_t v, size_t consumed)
{
    size_t size = 0, w1 = 0, w2 = 0, c2 = 0;
    kmqtt_packet_t again;
    if (p->type == KMQTT_CONNECT)
        v = p->u.connect.version;
    check(kmqtt_packet_size(p, v, &size) == KMQTT_OK);
    check(size <= consumed);
    check(kmqtt_packet_encode(p, v, out1, sizeof out1, &w1) == KMQTT_OK && w1 == size);
    check(kmqtt_packet_decode(out1, w1, v, MAX_PACKET, &again, &c2) == KMQTT_OK && c2 == w1);
    check(again.type == p->type);
    check(kmqtt_packet_encode(&again, v, out2, sizeof out2, &w2) == KMQTT_OK);
    check(w2 == w1 && memcmp(out1, out2, w1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const kmqtt_version_t versions[2] = {KMQTT_V311, KMQTT_V5};
    for (int vi = 0; vi < 2; vi++) {
        const uint8_t *p = data;
        size_t left = size;
        while (left > 0) {
            kmqtt_packet_t pkt;
            size_t consumed = 0, need = 0;
            kmqtt_err_t ferr = kmqtt_packet_frame(p, left, MAX_PACKET, &need);
            kmqtt_err_t err =
                kmqtt_packet_decode(p, left, versions[vi], MAX_PACKET, &pkt, &consumed);
            if (err == KMQTT_NEED_MORE) {
                check(ferr == KMQTT_NEED_MORE && consumed == 0 && need > left);
                break;
            }
            if (err != KMQTT_OK) {
                check(err < 0 && kmqtt_strerror(err)[0] != '\0');
                break;
            }
            check(ferr == KMQTT_OK && need == consumed && consumed > 0 && consumed <= left);
            walk(&pkt, p, consumed);
            roundtrip(&pkt, versions[vi], consumed);
            p += consumed;
            left -= consumed;
        }
    }
    return 0;
}
