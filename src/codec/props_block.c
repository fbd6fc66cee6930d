/*
 * Property blocks: validating a received block, sizing and writing one to
 * send. Both directions go through check_id() and check_value() so that what
 * the encoder accepts is exactly what the decoder accepts.
 *
 * Error choices worth knowing:
 *  - an identifier byte with its top bit set is KMQTT_EPROP_UNKNOWN: every
 *    identifier MQTT 5.0 assigns fits in one byte, so a longer one is either
 *    unassigned or a non-minimal encoding (MQTT-1.5.5-1);
 *  - a field that runs past the block is KMQTT_EPROP_LENGTH, including a
 *    Subscription Identifier varint cut short; a varint that is not minimal
 *    or has a fifth byte is KMQTT_EVARINT (MQTT-1.5.5-1);
 *  - in the items form, a value wider than its type is KMQTT_EPROP_VALUE,
 *    except a Subscription Identifier over KMQTT_VARINT_MAX, which is
 *    KMQTT_EVARINT; a string or binary field over 65,535 bytes is
 *    KMQTT_ESTRING_TOO_LONG;
 *  - a block whose total length cannot be a varint is KMQTT_EVARINT.
 */
#include "codec_internal.h"

#if KMQTT_CFG_V5

/* Every assigned identifier is below 64, so one bit each fits a uint64_t. */
typedef uint64_t seen_t;

static bool where_valid(unsigned where)
{
    return where <= KMQTT_AUTH;
}

/* Section 2.2.2.2: an identifier not valid for the packet type makes it a
 * Malformed Packet; each property's own section makes a second copy a
 * Protocol Error, except User Property (any number, 3.1.2.11.8 etc.) and
 * Subscription Identifier, which repeats only in PUBLISH (3.3.2.3.8) and
 * appears at most once in SUBSCRIBE (3.8.2.1.2). */
static kmqtt_err_t check_id(uint8_t id, unsigned where, seen_t *seen)
{
    if (kmqtt_prop_type(id) == KMQTT_PROPTYPE_NONE)
        return KMQTT_EPROP_UNKNOWN;
    if (!kmqtt_prop_allowed(id, where))
        return KMQTT_EPROP_NOT_ALLOWED;
    if (id == KMQTT_PROP_USER_PROPERTY)
        return KMQTT_OK;
    if (id == KMQTT_PROP_SUBSCRIPTION_IDENTIFIER && where == KMQTT_PUBLISH)
        return KMQTT_OK;
    seen_t bit = (seen_t)1 << id;
    if ((*seen & bit) != 0)
        return KMQTT_EPROP_DUPLICATE;
    *seen |= bit;
    return KMQTT_OK;
}

/* Range rules from each property's section of 3.x.2.2 / 3.3.2.3. */
static kmqtt_err_t check_value(const kmqtt_prop_t *p)
{
    switch (p->id) {
    case KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
    case KMQTT_PROP_REQUEST_PROBLEM_INFORMATION:
    case KMQTT_PROP_REQUEST_RESPONSE_INFORMATION:
    case KMQTT_PROP_MAXIMUM_QOS: /* 3.2.2.3.4: 0 or 1; absent means 2 */
    case KMQTT_PROP_RETAIN_AVAILABLE:
    case KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
    case KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
    case KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
        return p->num <= 1 ? KMQTT_OK : KMQTT_EPROP_VALUE;
    case KMQTT_PROP_RECEIVE_MAXIMUM:
    case KMQTT_PROP_MAXIMUM_PACKET_SIZE:
    case KMQTT_PROP_TOPIC_ALIAS: /* MQTT-3.3.2-8 */
        return p->num != 0 ? KMQTT_OK : KMQTT_EPROP_VALUE;
    case KMQTT_PROP_SUBSCRIPTION_IDENTIFIER: /* 1..268,435,455 (3.3.2.3.8) */
        return p->num != 0 && p->num <= KMQTT_VARINT_MAX ? KMQTT_OK : KMQTT_EPROP_VALUE;
    default:
        return KMQTT_OK;
    }
}

/* ------------------------------------------------------------ raw form */

/* Strict varint (MQTT-1.5.5-1): minimal encoding, at most four bytes. */
static kmqtt_err_t read_varint(rd_t *r, uint32_t *v, kmqtt_err_t short_err)
{
    uint32_t value = 0;
    unsigned shift = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t b;
        if (rd_u8(r, &b) != KMQTT_OK)
            return short_err;
        value |= (uint32_t)(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
            /* A last byte of 0 after the first adds nothing: not minimal. */
            if (i > 0 && b == 0)
                return KMQTT_EVARINT;
            *v = value;
            return KMQTT_OK;
        }
        shift += 7;
    }
    return KMQTT_EVARINT;
}

static kmqtt_err_t read_str(rd_t *r, kmqtt_str_t *out)
{
    kmqtt_bin_t b;
    if (rd_bin(r, &b) != KMQTT_OK)
        return KMQTT_EPROP_LENGTH;
    out->ptr = (const char *)b.ptr;
    out->len = b.len;
    /* MQTT-1.5.4-1, MQTT-1.5.4-2 */
    return b.len > 0 ? kmqtt_utf8_validate(out->ptr, out->len) : KMQTT_OK;
}

static kmqtt_err_t read_value(rd_t *r, kmqtt_prop_type_t type, kmqtt_prop_t *p)
{
    uint8_t b8;
    uint16_t b16;
    kmqtt_err_t err;

    switch (type) {
    case KMQTT_PROPTYPE_BYTE:
        if (rd_u8(r, &b8) != KMQTT_OK)
            return KMQTT_EPROP_LENGTH;
        p->num = b8;
        return KMQTT_OK;
    case KMQTT_PROPTYPE_U16:
        if (rd_u16(r, &b16) != KMQTT_OK)
            return KMQTT_EPROP_LENGTH;
        p->num = b16;
        return KMQTT_OK;
    case KMQTT_PROPTYPE_U32:
        return rd_u32(r, &p->num) == KMQTT_OK ? KMQTT_OK : KMQTT_EPROP_LENGTH;
    case KMQTT_PROPTYPE_VARINT:
        return read_varint(r, &p->num, KMQTT_EPROP_LENGTH);
    case KMQTT_PROPTYPE_STRING:
        return read_str(r, &p->str);
    case KMQTT_PROPTYPE_BINARY:
        return rd_bin(r, &p->bin) == KMQTT_OK ? KMQTT_OK : KMQTT_EPROP_LENGTH;
    case KMQTT_PROPTYPE_STRING_PAIR:
        /* MQTT-1.5.7-1: name and value must both be valid UTF-8. */
        err = read_str(r, &p->str);
        return err != KMQTT_OK ? err : read_str(r, &p->value);
    case KMQTT_PROPTYPE_NONE:
    default:
        return KMQTT_EPROP_UNKNOWN;
    }
}

kmqtt_err_t kmqtt_prop_read_one(rd_t *r, kmqtt_prop_t *out)
{
    uint8_t id;
    if (rd_u8(r, &id) != KMQTT_OK)
        return KMQTT_EPROP_LENGTH;
    memset(out, 0, sizeof *out);
    out->id = (kmqtt_prop_id_t)id;
    return read_value(r, kmqtt_prop_type(id), out);
}

kmqtt_err_t kmqtt_props_validate_raw(const uint8_t *block, size_t len, unsigned where)
{
    seen_t seen = 0;
    kmqtt_err_t err;

    if (!where_valid(where) || (block == NULL && len > 0))
        return KMQTT_EINVAL;
    if (len == 0)
        return KMQTT_OK;
    rd_t r = {block, block + len};
    while (rd_left(&r) > 0) {
        kmqtt_prop_t p;
        err = check_id(*r.p, where, &seen);
        if (err != KMQTT_OK)
            return err;
        err = kmqtt_prop_read_one(&r, &p);
        if (err != KMQTT_OK)
            return err;
        err = check_value(&p);
        if (err != KMQTT_OK)
            return err;
    }
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_props_read(rd_t *r, unsigned where, kmqtt_props_t *out)
{
    /* Work on a copy so that a failure leaves the caller's reader alone. */
    rd_t c = *r;
    uint32_t len;
    kmqtt_err_t err;

    if (!where_valid(where))
        return KMQTT_EINVAL;
    /* The prefix itself cut short is a packet shorter than its fields. */
    err = read_varint(&c, &len, KMQTT_ETRUNCATED);
    if (err != KMQTT_OK)
        return err;
    if (len > rd_left(&c))
        return KMQTT_EPROP_LENGTH;
    err = kmqtt_props_validate_raw(c.p, len, where);
    if (err != KMQTT_OK)
        return err;
    out->items = NULL;
    out->count = 0;
    out->raw = c.p;
    out->raw_len = len;
    r->p = c.p + len;
    return KMQTT_OK;
}

/* ---------------------------------------------------------- items form */

static size_t varint_len(uint32_t v)
{
    if (v < 128u)
        return 1;
    if (v < 16384u)
        return 2;
    if (v < 2097152u)
        return 3;
    return 4;
}

static kmqtt_err_t check_str(const kmqtt_str_t *s)
{
    if (s->len > KMQTT_STRING_MAX)
        return KMQTT_ESTRING_TOO_LONG;
    if (s->len == 0)
        return KMQTT_OK;
    if (s->ptr == NULL)
        return KMQTT_EINVAL;
    return kmqtt_utf8_validate(s->ptr, s->len);
}

/* Validates one caller item and gives its encoded size with identifier. */
static kmqtt_err_t item_size(const kmqtt_prop_t *p, size_t *size)
{
    kmqtt_err_t err;

    switch (kmqtt_prop_type((uint8_t)p->id)) {
    case KMQTT_PROPTYPE_BYTE:
        if (p->num > 0xFFu)
            return KMQTT_EPROP_VALUE;
        *size = 1 + 1;
        break;
    case KMQTT_PROPTYPE_U16:
        if (p->num > 0xFFFFu)
            return KMQTT_EPROP_VALUE;
        *size = 1 + 2;
        break;
    case KMQTT_PROPTYPE_U32:
        *size = 1 + 4;
        break;
    case KMQTT_PROPTYPE_VARINT:
        if (p->num > KMQTT_VARINT_MAX)
            return KMQTT_EVARINT;
        *size = 1 + varint_len(p->num);
        break;
    case KMQTT_PROPTYPE_STRING:
        err = check_str(&p->str);
        if (err != KMQTT_OK)
            return err;
        *size = 1 + 2 + p->str.len;
        break;
    case KMQTT_PROPTYPE_BINARY:
        if (p->bin.len > KMQTT_STRING_MAX)
            return KMQTT_ESTRING_TOO_LONG;
        if (p->bin.ptr == NULL && p->bin.len > 0)
            return KMQTT_EINVAL;
        *size = 1 + 2 + p->bin.len;
        break;
    case KMQTT_PROPTYPE_STRING_PAIR:
        err = check_str(&p->str);
        if (err == KMQTT_OK)
            err = check_str(&p->value);
        if (err != KMQTT_OK)
            return err;
        *size = 1 + 2 + p->str.len + 2 + p->value.len;
        break;
    case KMQTT_PROPTYPE_NONE:
    default:
        return KMQTT_EPROP_UNKNOWN;
    }
    return check_value(p);
}

kmqtt_err_t kmqtt_props_block_size(const kmqtt_props_t *props, unsigned where, size_t *size)
{
    seen_t seen = 0;
    size_t total = 0;
    kmqtt_err_t err;

    if (props == NULL || size == NULL || !where_valid(where))
        return KMQTT_EINVAL;
    if (props->raw != NULL) {
        if (props->items != NULL)
            return KMQTT_EINVAL; /* the two forms are exclusive */
        if (props->raw_len > KMQTT_VARINT_MAX)
            return KMQTT_EVARINT;
        err = kmqtt_props_validate_raw(props->raw, props->raw_len, where);
        if (err != KMQTT_OK)
            return err;
        *size = props->raw_len;
        return KMQTT_OK;
    }
    if (props->items == NULL) {
        if (props->count != 0 || props->raw_len != 0)
            return KMQTT_EINVAL;
        *size = 0;
        return KMQTT_OK;
    }
    for (size_t i = 0; i < props->count; i++) {
        const kmqtt_prop_t *p = &props->items[i];
        size_t n;
        /* Through a variable: where enums are short (arm-none-eabi) the range
         * check would be a constant, and -Wtype-limits says so. */
        unsigned id = (unsigned)p->id;
        if (id > 0xFFu)
            return KMQTT_EPROP_UNKNOWN;
        err = check_id((uint8_t)p->id, where, &seen);
        if (err != KMQTT_OK)
            return err;
        err = item_size(p, &n);
        if (err != KMQTT_OK)
            return err;
        /* One item is at most ~128 KiB, so checking after each add keeps
         * total from wrapping even with a 32-bit size_t. */
        total += n;
        if (total > KMQTT_VARINT_MAX)
            return KMQTT_EVARINT;
    }
    *size = total;
    return KMQTT_OK;
}

static void write_item(wr_t *w, const kmqtt_prop_t *p)
{
    wr_u8(w, (uint8_t)p->id);
    switch (kmqtt_prop_type((uint8_t)p->id)) {
    case KMQTT_PROPTYPE_BYTE:
        wr_u8(w, (uint8_t)p->num);
        break;
    case KMQTT_PROPTYPE_U16:
        wr_u16(w, (uint16_t)p->num);
        break;
    case KMQTT_PROPTYPE_U32:
        wr_u32(w, p->num);
        break;
    case KMQTT_PROPTYPE_VARINT:
        wr_varint(w, p->num);
        break;
    case KMQTT_PROPTYPE_STRING:
        wr_bin(w, p->str.ptr, p->str.len);
        break;
    case KMQTT_PROPTYPE_BINARY:
        wr_bin(w, p->bin.ptr, p->bin.len);
        break;
    case KMQTT_PROPTYPE_STRING_PAIR:
        wr_bin(w, p->str.ptr, p->str.len);
        wr_bin(w, p->value.ptr, p->value.len);
        break;
    case KMQTT_PROPTYPE_NONE:
    default:
        break; /* kmqtt_props_block_size rejected it */
    }
}

void kmqtt_props_write(wr_t *w, const kmqtt_props_t *props, size_t block_size)
{
    wr_varint(w, (uint32_t)block_size);
    if (props->raw != NULL) {
        wr_bytes(w, props->raw, props->raw_len);
        return;
    }
    if (props->items == NULL)
        return;
    for (size_t i = 0; i < props->count; i++)
        write_item(w, &props->items[i]);
}

#else
/* !KMQTT_CFG_V5: no property can be read or written; a 3.1.1 packet never
 * gets here, a 5.0 one was refused at the codec's entry. */

kmqtt_err_t kmqtt_prop_read_one(rd_t *r, kmqtt_prop_t *out)
{
    (void)r;
    (void)out;
    return KMQTT_EUNSUPPORTED;
}

kmqtt_err_t kmqtt_props_validate_raw(const uint8_t *block, size_t len, unsigned where)
{
    (void)block;
    (void)where;
    return len == 0 ? KMQTT_OK : KMQTT_EUNSUPPORTED;
}

kmqtt_err_t kmqtt_props_read(rd_t *r, unsigned where, kmqtt_props_t *out)
{
    (void)r;
    (void)where;
    (void)out;
    return KMQTT_EUNSUPPORTED;
}

kmqtt_err_t kmqtt_props_block_size(const kmqtt_props_t *props, unsigned where, size_t *size)
{
    (void)props;
    (void)where;
    if (size != NULL)
        *size = 0;
    return KMQTT_EUNSUPPORTED;
}

void kmqtt_props_write(wr_t *w, const kmqtt_props_t *props, size_t block_size)
{
    (void)props;
    wr_varint(w, (uint32_t)block_size);
}

#endif
