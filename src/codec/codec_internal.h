/*
 * Shared by the codec's files only: a bounds-checked reader and writer, and
 * the property block functions the packet encoder and decoder call.
 */
#ifndef KMQTT_CODEC_INTERNAL_H
#define KMQTT_CODEC_INTERNAL_H

#include <string.h>

#include "kmqtt/codec.h"
#include "kmqtt/config.h"

/* --------------------------------------------------------------- reader */

/* Reads never go past end: a field that would is KMQTT_ETRUNCATED. */
typedef struct rd {
    const uint8_t *p;
    const uint8_t *end;
} rd_t;

static inline size_t rd_left(const rd_t *r)
{
    return (size_t)(r->end - r->p);
}

static inline kmqtt_err_t rd_u8(rd_t *r, uint8_t *v)
{
    if (rd_left(r) < 1)
        return KMQTT_ETRUNCATED;
    *v = *r->p++;
    return KMQTT_OK;
}

static inline kmqtt_err_t rd_u16(rd_t *r, uint16_t *v)
{
    if (rd_left(r) < 2)
        return KMQTT_ETRUNCATED;
    *v = (uint16_t)((r->p[0] << 8) | r->p[1]);
    r->p += 2;
    return KMQTT_OK;
}

static inline kmqtt_err_t rd_u32(rd_t *r, uint32_t *v)
{
    if (rd_left(r) < 4)
        return KMQTT_ETRUNCATED;
    *v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) |
         (uint32_t)r->p[3];
    r->p += 4;
    return KMQTT_OK;
}

/* Variable byte integer (MQTT-1.5.5): at most 4 bytes. A fifth continuation
 * is KMQTT_EVARINT; running out of input is KMQTT_ETRUNCATED. */
static inline kmqtt_err_t rd_varint(rd_t *r, uint32_t *v)
{
    uint32_t value = 0;
    unsigned shift = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t b;
        if (rd_u8(r, &b) != KMQTT_OK)
            return KMQTT_ETRUNCATED;
        value |= (uint32_t)(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
            *v = value;
            return KMQTT_OK;
        }
        shift += 7;
    }
    return KMQTT_EVARINT;
}

/* Two-byte length then that many bytes. */
static inline kmqtt_err_t rd_bin(rd_t *r, kmqtt_bin_t *out)
{
    uint16_t len;
    kmqtt_err_t err = rd_u16(r, &len);
    if (err != KMQTT_OK)
        return err;
    if (rd_left(r) < len)
        return KMQTT_ETRUNCATED;
    out->ptr = r->p;
    out->len = len;
    r->p += len;
    return KMQTT_OK;
}

/* A UTF-8 string: rd_bin plus kmqtt_utf8_validate. */
static inline kmqtt_err_t rd_str(rd_t *r, kmqtt_str_t *out)
{
    kmqtt_bin_t b;
    kmqtt_err_t err = rd_bin(r, &b);
    if (err != KMQTT_OK)
        return err;
    err = kmqtt_utf8_validate((const char *)b.ptr, b.len);
    if (err != KMQTT_OK)
        return err;
    out->ptr = (const char *)b.ptr;
    out->len = b.len;
    return KMQTT_OK;
}

/* --------------------------------------------------------------- writer */

/* Writes stop at end and set overflow: nothing past the caller's cap is
 * ever written, and the encoder reports KMQTT_ENOBUFS. */
typedef struct wr {
    uint8_t *p;
    uint8_t *end;
    bool overflow;
} wr_t;

static inline void wr_bytes(wr_t *w, const void *src, size_t len)
{
    if (w->overflow || (size_t)(w->end - w->p) < len) {
        w->overflow = true;
        return;
    }
    if (len > 0)
        memcpy(w->p, src, len);
    w->p += len;
}

static inline void wr_u8(wr_t *w, uint8_t v)
{
    wr_bytes(w, &v, 1);
}

static inline void wr_u16(wr_t *w, uint16_t v)
{
    uint8_t b[2];
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
    wr_bytes(w, b, 2);
}

static inline void wr_u32(wr_t *w, uint32_t v)
{
    uint8_t b[4];
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
    wr_bytes(w, b, 4);
}

/* v must be <= KMQTT_VARINT_MAX (checked by the size pass). */
static inline void wr_varint(wr_t *w, uint32_t v)
{
    uint8_t b[4];
    wr_bytes(w, b, (size_t)(kmqtt_varint_write(b, v) - b));
}

/* len must be <= KMQTT_STRING_MAX (checked by the size pass). */
static inline void wr_bin(wr_t *w, const void *ptr, size_t len)
{
    wr_u16(w, (uint16_t)len);
    wr_bytes(w, ptr, len);
}

/* ----------------------------------------------------- property blocks */

/* 'where' is a packet type (KMQTT_CONNECT ... KMQTT_AUTH) or
 * KMQTT_PROP_IN_WILL for the will properties of CONNECT. */

/* Checks a raw property block (the bytes after its length prefix): every
 * identifier known (KMQTT_EPROP_UNKNOWN), allowed in 'where'
 * (KMQTT_EPROP_NOT_ALLOWED), not repeated unless it may be
 * (KMQTT_EPROP_DUPLICATE), values in range (KMQTT_EPROP_VALUE), strings
 * valid UTF-8, and no field running past the block (KMQTT_EPROP_LENGTH). */
kmqtt_err_t kmqtt_props_validate_raw(const uint8_t *block, size_t len, unsigned where);

/* Reads one property (identifier and value) from a raw block, checking its
 * bounds and UTF-8 but not where it may appear. */
kmqtt_err_t kmqtt_prop_read_one(rd_t *r, kmqtt_prop_t *out);

/* Reads a property length varint and the block that follows, validates it,
 * and points out->raw at it (out->items = NULL). Length past the packet is
 * KMQTT_EPROP_LENGTH. */
kmqtt_err_t kmqtt_props_read(rd_t *r, unsigned where, kmqtt_props_t *out);

/* Validates props (either form) for 'where' with the same rules as the
 * decoder, and sets *size to the block length without its length prefix. */
kmqtt_err_t kmqtt_props_block_size(const kmqtt_props_t *props, unsigned where, size_t *size);

/* Writes the length prefix (block_size, from kmqtt_props_block_size) then
 * the block. */
void kmqtt_props_write(wr_t *w, const kmqtt_props_t *props, size_t block_size);

/* ------------------------------------------------------- reason codes */

/* True if code is a valid reason code (5.0) or return code (3.1.1) for a
 * packet of this type: CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK,
 * UNSUBACK, DISCONNECT, AUTH. Other types: false. */
bool kmqtt_reason_valid(unsigned packet_type, kmqtt_version_t v, uint8_t code);

#endif
