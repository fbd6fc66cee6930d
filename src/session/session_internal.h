/*
 * Shared by the engine's files only. The engine keeps no tables but the
 * caller's: tx is a byte queue, rx holds whole packets then at most one
 * partial one, the store is a list of records in send order.
 */
#ifndef KMQTT_SESSION_INTERNAL_H
#define KMQTT_SESSION_INTERNAL_H

#include <string.h>

#include "kmqtt/session.h"

#if KMQTT_CFG_V5
#define KS_V5(s) ((s)->cfg->version == KMQTT_V5)
#else
#define KS_V5(s) ((void)(s), 0)
#endif

/* s->flags */
#define KS_F_PING      0x01u /* PINGREQ sent, PINGRESP not yet */
#define KS_F_SESSION   0x02u /* the CONNACK found the session: resend with DUP */
#define KS_F_NO_RETAIN 0x04u /* 5.0 CONNACK caps */
#define KS_F_NO_WILD   0x08u
#define KS_F_NO_SUBID  0x10u
#define KS_F_NO_SHARED 0x20u
#define KS_F_FRESH     0x40u /* after a CONNACK: report the records it will not carry */
#define KS_F_PING_OWED 0x80u /* a PINGREQ is due but tx had no room */
/* The server's caps, kept from one connection to the next (session_pipeline.c). */
#define KS_F_CAPS (KS_F_NO_RETAIN | KS_F_NO_WILD | KS_F_NO_SUBID | KS_F_NO_SHARED)

/* CONNECTING with a pipelined first flight: requests go behind the CONNECT. */
#define KS_EARLY(s) ((s)->state == KMQTT_SESSION_CONNECTING && (s)->early)

/* Results of handling one inbound packet, beside a kmqtt_err_t < 0. */
#define KS_DONE   0 /* handled, nothing to report: drop it from rx */
#define KS_REPORT 1 /* handled, *ev filled: drop it at the next call */
#define KS_STALL  2 /* its answer does not fit tx yet: keep it, retry later */

/* A store record: this header (host order, copied with memcpy because the
 * caller's store need not be aligned) then the packet, padded to 4. */
typedef struct ks_rec {
    uint32_t len; /* packet bytes kept (0 once PUBREC dropped them) */
    uint16_t id;
    uint8_t kind; /* KS_REC_* */
    uint8_t pad;  /* not to be sent: KS_DROP_* */
} ks_rec_t;
/* KS_REC_READER or'ed into kind: only the header is kept, the payload
 * comes from the reader (session_send_stream.c). */
#define KS_REC_HDR       8u
#define KS_REC_QOS1      1u /* PUBLISH awaiting PUBACK */
#define KS_REC_QOS2      2u /* PUBLISH awaiting PUBREC */
#define KS_REC_REL       3u /* PUBREL sent, awaiting PUBCOMP */
#define KS_REC_READER    0x10u
#define KS_KIND(r)       ((r).kind & 0x0Fu)
#define KS_REC_SIZE(len) (KS_REC_HDR + (((len) + 3u) & ~3u))
#define KS_NONE          0xFFFFFFFFu
#define KS_DROP_TOOBIG   1u /* over the server's Maximum Packet Size (5.0) */
#define KS_DROP_QOS      2u /* above the server's Maximum QoS (5.0) */
#define KS_DROP_CLEARED  3u /* kmqtt_session_clear */

static inline uint16_t ks_get_u16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* session_wire.c: packets written straight into tx */
uint8_t *ks_put_u16(uint8_t *p, uint32_t v);
uint8_t *ks_put_bin(uint8_t *p, const void *src, size_t n);
size_t ks_packet_size(uint32_t rem);
uint8_t *ks_put_head(uint8_t *p, uint8_t first, uint32_t rem);
uint8_t *ks_tx_reserve(kmqtt_session_t *s, size_t n);
uint8_t *ks_tx_begin(kmqtt_session_t *s, uint8_t first, uint32_t rem);
bool ks_send_ack(kmqtt_session_t *s, uint8_t first, uint16_t id, uint8_t reason);
size_t ks_connect_size(const kmqtt_session_t *s);
void ks_write_connect(kmqtt_session_t *s);
void ks_ev(kmqtt_session_event_t *ev, kmqtt_session_event_type_t type);

/* session_input.c */
int ks_input(kmqtt_session_t *s, const uint8_t *p, size_t len, kmqtt_session_event_t *ev);
/* Ends the connection for err: in 5.0 a DISCONNECT with reason (0: the one
 * err calls for) is queued first when tx has room (4.13). Returns err. */
kmqtt_err_t ks_fail(kmqtt_session_t *s, kmqtt_err_t err, uint8_t reason);

#if KMQTT_CFG_STREAM
/* session_input.c: a PUBLISH up to its payload (view into rx, alias
 * resolved, topic checked), without its answer */
int ks_publish_head(kmqtt_session_t *s, uint8_t first, const uint8_t *b, const uint8_t *end,
                    kmqtt_session_event_t *ev);
bool ks_held(const kmqtt_session_t *s, uint16_t id);
#define KS_STREAM_API
#else
#define KS_STREAM_API static /* only publish() reads a head: inlined */
#endif

/* session_input.c: the inbound QoS 2 ids */
void ks_hold(kmqtt_session_t *s, uint16_t id);
void ks_forget_inbound(kmqtt_session_t *s);

/* An ack came (with the bytes last received): the 3.1.1 retry waits again. */
#if KMQTT_CFG_RETRY
#define KS_ACKED(s) ((s)->last_ack_ms = (s)->last_rx_ms)
#else
#define KS_ACKED(s) ((void)0)
#endif

/* session_stream.c: a PUBLISH larger than rx, in pieces */
#if KMQTT_CFG_STREAM
#define KS_PASS      3 /* not a message in pieces: frame rx as usual */
#define KS_MAX_IN(s) ((s)->max_in)
int ks_stream(kmqtt_session_t *s, kmqtt_session_event_t *ev);
void ks_stream_lost(kmqtt_session_t *s);
bool ks_stream_cut(kmqtt_session_t *s, kmqtt_session_event_t *ev);
#define KS_STREAMING(s) ((s)->st_phase != 0)
#define KS_SENDING(s)   ((s)->so_left != 0)
void ks_out_fill(kmqtt_session_t *s);
uint32_t ks_head_rem(const uint8_t *pkt);
void ks_out_start(kmqtt_session_t *s, uint16_t id, const uint8_t *head, uint32_t head_len);
#else
#define KS_SENDING(s)   ((void)(s), 0)
#define KS_MAX_IN(s)    ((s)->rx_size)
#define KS_STREAMING(s) ((void)(s), 0)
#endif

/* session_timer.c */
void ks_ping_owed(kmqtt_session_t *s, uint32_t now_ms);

/* session_pipeline.c */
void ks_early_start(kmqtt_session_t *s);
bool ks_early_fits(const kmqtt_session_t *s, unsigned qos, bool retain, size_t len);
void ks_caps_default(kmqtt_session_t *s);

/* session_store.c */
uint32_t ks_store_find(const kmqtt_session_t *s, uint16_t id, ks_rec_t *r);
void ks_store_get(const kmqtt_session_t *s, uint32_t off, ks_rec_t *r);
void ks_store_set(kmqtt_session_t *s, uint32_t off, const ks_rec_t *r);
void ks_store_remove(kmqtt_session_t *s, uint32_t off);
void ks_store_release(kmqtt_session_t *s, uint32_t off, ks_rec_t *r);
uint16_t ks_new_id(kmqtt_session_t *s);
void ks_resend(kmqtt_session_t *s);
bool ks_store_fresh(kmqtt_session_t *s, kmqtt_session_event_t *ev);
void ks_store_check(kmqtt_session_t *s);
#if KMQTT_CFG_OFFLINE_QUEUE
void ks_changed(kmqtt_session_t *s, kmqtt_session_change_t what, uint16_t id,
                const uint8_t *bytes, size_t len);
#else
/* Store and forward compiled out: nobody hears of changes. */
#define ks_changed(s, what, id, bytes, len) ((void)0)
#endif

#if KMQTT_CFG_V5
#include "../codec/codec_internal.h" /* kmqtt_reason_valid, kmqtt_props_validate_raw */

/* session_v5.c */
kmqtt_err_t ks_v5_check(const uint8_t *props, size_t len, unsigned where);
int ks_v5_props(const uint8_t **p, const uint8_t *end, unsigned where, const uint8_t **props,
                size_t *props_len);
void ks_v5_connack(kmqtt_session_t *s, const uint8_t *props, size_t len);
uint8_t ks_v5_reason(kmqtt_err_t err);
bool ks_v5_has(const uint8_t *props, size_t len, uint8_t id);
bool ks_v5_num(const uint8_t *props, size_t len, uint8_t id, uint32_t *num);
bool ks_v5_method_ok(const kmqtt_session_t *s, const uint8_t *props, size_t len, bool need);
uint8_t *ks_put_props(uint8_t *p, const uint8_t *blk, size_t len);
#endif

#if KMQTT_CFG_V5 && KMQTT_CFG_TOPIC_ALIAS
/* session_alias.c */
void ks_alias_reset(kmqtt_session_t *s);
int ks_alias_in(kmqtt_session_t *s, kmqtt_session_msg_t *m);
uint16_t ks_alias_pick(const kmqtt_session_t *s, const char *topic, uint16_t len, bool *with_topic);
void ks_alias_commit(kmqtt_session_t *s, uint16_t alias, const char *topic, uint16_t len);
#define KS_ALIASES 1
#else
#define KS_ALIASES 0
#endif

#endif
