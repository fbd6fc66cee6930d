/*
 * Shared by the nano client's files only. The client keeps no tables but
 * the caller's buffers: tx is a byte queue, rx holds at most one partial
 * packet after whole ones, the store is a list of records in send order.
 */
#ifndef KMQTT_NANO_INTERNAL_H
#define KMQTT_NANO_INTERNAL_H

#include <string.h>

#include "kmqtt/nano.h"

#if KMQTT_CFG_V5
#define NANO_V5(c) ((c)->cfg->version == KMQTT_V5)
#else
#define NANO_V5(c) ((void)(c), 0)
#endif

/* c->flags */
#define NANO_F_PING      0x01u /* PINGREQ sent, PINGRESP not yet */
#define NANO_F_SESSION   0x02u /* the CONNACK found the session: resend with DUP */
#define NANO_F_NO_RETAIN 0x04u /* 5.0 CONNACK caps */
#define NANO_F_NO_WILD   0x08u
#define NANO_F_NO_SUBID  0x10u
#define NANO_F_NO_SHARED 0x20u
#define NANO_F_ARM       0x40u /* CONNECTING: start the CONNACK clock at the next poll */

/* Results of handling one inbound packet, beside a kmqtt_err_t < 0. */
#define NANO_DONE  0 /* handled: drop it from rx */
#define NANO_STALL 1 /* its answer does not fit tx yet: keep it, retry later */
#define NANO_GONE  2 /* the connection ended (or the callback ended it) */

/* A store record: this header (host order, copied with memcpy because the
 * caller's store need not be aligned) then the packet, padded to 4. */
typedef struct nano_rec {
    uint32_t len; /* packet bytes kept (0 once PUBREC dropped them) */
    uint16_t id;
    uint8_t kind; /* NANO_REC_* */
    uint8_t pad;  /* 5.0: 1, 2 = not to be sent: too big, QoS too high */
} nano_rec_t;
#define NANO_REC_HDR       8u
#define NANO_REC_QOS1      1u /* PUBLISH awaiting PUBACK */
#define NANO_REC_QOS2      2u /* PUBLISH awaiting PUBREC */
#define NANO_REC_REL       3u /* PUBREL sent, awaiting PUBCOMP */
#define NANO_REC_SIZE(len) (NANO_REC_HDR + (((len) + 3u) & ~3u))
#define NANO_NONE          0xFFFFFFFFu

/* nano_wire.c: packets written straight into tx */
uint8_t *nano_put_u16(uint8_t *p, uint32_t v);
uint8_t *nano_put_bin(uint8_t *p, const void *s, size_t n);
uint8_t *nano_put_varint(uint8_t *p, uint32_t v);
size_t nano_packet_size(uint32_t rem);
uint8_t *nano_put_head(uint8_t *p, uint8_t first, uint32_t rem);
uint8_t *nano_tx_reserve(kmqtt_nano_t *c, size_t n);
uint8_t *nano_tx_begin(kmqtt_nano_t *c, uint8_t first, uint32_t rem);
bool nano_send_ack(kmqtt_nano_t *c, uint8_t first, uint16_t id, uint8_t reason);
size_t nano_connect_size(const kmqtt_nano_t *c);
void nano_write_connect(kmqtt_nano_t *c);

/* nano_poll.c */
void nano_lose(kmqtt_nano_t *c, kmqtt_err_t err, uint8_t reason, const uint8_t *props,
               size_t props_len);
void nano_fail(kmqtt_nano_t *c, kmqtt_err_t err, uint8_t reason);
bool nano_emit(kmqtt_nano_t *c, kmqtt_nano_event_t *ev);
void nano_ev(kmqtt_nano_event_t *ev, kmqtt_nano_event_type_t type);
kmqtt_err_t nano_flush(kmqtt_nano_t *c);
kmqtt_err_t nano_attempt(kmqtt_nano_t *c);
void nano_close(kmqtt_nano_t *c);
uint32_t nano_next_ms(const kmqtt_nano_t *c);

/* nano_input.c */
int nano_input(kmqtt_nano_t *c, const uint8_t *p, size_t len);

/* nano_store.c */
uint32_t nano_store_find(const kmqtt_nano_t *c, uint16_t id, nano_rec_t *r);
void nano_store_remove(kmqtt_nano_t *c, uint32_t off);
void nano_store_set(kmqtt_nano_t *c, uint32_t off, const nano_rec_t *r);
uint16_t nano_new_id(kmqtt_nano_t *c);
void nano_resend(kmqtt_nano_t *c);
void nano_store_release(kmqtt_nano_t *c, uint32_t off, nano_rec_t *r);
bool nano_store_fresh(kmqtt_nano_t *c, bool sp);
void nano_store_check(kmqtt_nano_t *c);

#if KMQTT_CFG_V5
#include "../codec/codec_internal.h" /* kmqtt_reason_valid, kmqtt_props_validate_raw */

/* nano_v5.c */
kmqtt_err_t nano_v5_check(const uint8_t *props, size_t len, unsigned where);
int nano_v5_props(const uint8_t **p, const uint8_t *end, unsigned where, const uint8_t **props,
                  size_t *props_len);
void nano_v5_connack(kmqtt_nano_t *c, const uint8_t *props, size_t len);
uint8_t nano_v5_reason(kmqtt_err_t err);
bool nano_v5_has(const uint8_t *props, size_t len, uint8_t id);
bool nano_v5_method_ok(const kmqtt_nano_t *c, const uint8_t *props, size_t len, bool need);
#endif

#endif
