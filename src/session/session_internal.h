/*
 * Shared by the session's files only.
 *
 * Records: the inflight array holds outbound QoS 1/2 messages in the order
 * they were first sent (which is also the order of their copies in the
 * store, so compaction can slide them down in one pass); the pending array
 * holds SUBSCRIBE / UNSUBSCRIBE requests. A record that only waits to be
 * reported by kmqtt_session_next_event keeps its slot (and its packet id)
 * until then, so an id is never reused before the application heard of it.
 */
#ifndef KMQTT_SESSION_INTERNAL_H
#define KMQTT_SESSION_INTERNAL_H

#include <string.h>

#include "kmqtt/config.h"
#include "kmqtt/session.h"

/* kmqtt_session_record_t.kind */
enum {
    KS_AWAIT_PUBACK = 1, /* QoS 1 PUBLISH sent */
    KS_AWAIT_PUBREC,     /* QoS 2 PUBLISH sent */
    KS_AWAIT_PUBCOMP,    /* QoS 2 PUBREL sent; the PUBLISH copy is gone */
    KS_REPORT_DONE,      /* to report as KMQTT_EV_PUBLISH_DONE, then drop */
    KS_AWAIT_SUBACK,     /* pending: store_len is the number of filters */
    KS_AWAIT_UNSUBACK,   /* pending: store_len is the number of filters */
    KS_REPORT_FAILED     /* pending: to report as KMQTT_EV_REQUEST_FAILED */
};

/* kmqtt_session_record_t.flags */
#define KS_UNSENT   0x01u /* (re)send the PUBLISH or PUBREL when tx has room */
#define KS_CANCELED 0x02u /* KS_REPORT_DONE: forgotten by clear(), not completed */

/* PUBLISH fixed header: DUP is bit 3 of the first byte (MQTT-3.3.1-1). */
#define KS_DUP_BIT 0x08u

/* Largest answer the session queues: PUBACK..PUBCOMP with a 5.0 reason code
 * and no properties. */
#define KS_ANSWER_MAX 5u

/* 5.0 "Packet Identifier not found" (PUBREL, PUBCOMP). */
#define KS_RC_ID_NOT_FOUND 0x92u

/* Alias slot sizes (5.0): inbound u16 length + topic; outbound u32 LRU
 * stamp, u16 length, 2 spare bytes, topic. */
#define KS_ALIAS_IN_SLOT(cfg)  (2u + (size_t)(cfg)->alias_topic_len)
#define KS_ALIAS_OUT_SLOT(cfg) (8u + (size_t)(cfg)->alias_topic_len)

/* kmqtt_session_t.auth_state */
enum { KS_AUTH_NONE = 0, KS_AUTH_REAUTH };

/* 5.0 reason codes the session sends. */
#define KS_RC_MALFORMED       0x81u
#define KS_RC_PROTOCOL        0x82u
#define KS_RC_RECEIVE_MAX     0x93u
#define KS_RC_ALIAS_INVALID   0x94u
#define KS_RC_TOO_LARGE       0x95u
#define KS_RC_QUOTA           0x97u
#define KS_RC_PAYLOAD_FORMAT  0x99u
#define KS_RC_QOS_UNSUPPORTED 0x9Bu
#define KS_RC_CONTINUE_AUTH   0x18u
#define KS_RC_REAUTHENTICATE  0x19u

/* max_inbound_qos2 == 0: one bit per packet id instead of a table. */
#define KS_INBOUND_BITMAP_BYTES (65536u / 8u)

/* Inbound QoS 2 ids awaiting PUBREL (session_inbound.c). */
#if KMQTT_CFG_QOS2
bool ks_inbound_has(const kmqtt_session_t *s, uint16_t id);
bool ks_inbound_add(kmqtt_session_t *s, uint16_t id); /* false: table full */
void ks_inbound_remove(kmqtt_session_t *s, uint16_t id);
void ks_inbound_clear(kmqtt_session_t *s);
void ks_inbound_init(kmqtt_session_t *s); /* at init: the storage holds garbage */
#else
/* No inbound QoS 2 (KMQTT_CFG_QOS2=0): no id table is carved. */
#define ks_inbound_has(s, id)    false
#define ks_inbound_add(s, id)    false
#define ks_inbound_remove(s, id) ((void)0)
#define ks_inbound_clear(s)      ((void)((s)->inbound_count = 0))
#define ks_inbound_init(s)       ((void)((s)->inbound_count = 0))
#endif

/* 5.0 code behind these tests is compiled out with KMQTT_CFG_V5=0: the
 * condition is then constant false (and a 5.0 config is refused). */
#define KS_IS_V5(v) (KMQTT_CFG_V5 && (v) == KMQTT_V5)
#define KS_V5(s)    KS_IS_V5((s)->cfg.version)

/* caps and aliases (session.c, session_alias.c) */
void ks_caps_reset(kmqtt_session_t *s);
#if KMQTT_CFG_V5
void ks_alias_reset(kmqtt_session_t *s);
/* Inbound: resolves or records the alias of m (a PUBLISH); sets *reason to a
 * DISCONNECT reason on failure. */
kmqtt_err_t ks_alias_inbound(kmqtt_session_t *s, kmqtt_publish_t *m, uint8_t *reason);
/* Outbound: the alias for topic (0 = none) and whether the topic must be
 * sent with it (a new mapping); nothing changes until ks_alias_commit. */
uint16_t ks_alias_pick(const kmqtt_session_t *s, const kmqtt_str_t *topic, bool *with_topic);
void ks_alias_commit(kmqtt_session_t *s, uint16_t alias, const kmqtt_str_t *topic);
bool ks_auth_method_is(const kmqtt_session_t *s, const kmqtt_props_t *props, bool required);
#else
#define ks_alias_reset(s)                ((void)0)
#define ks_alias_inbound(s, m, reason)   KMQTT_EPROTOCOL
#define ks_alias_pick(s, topic, with)    (*(with) = true, (uint16_t)0)
#define ks_alias_commit(s, alias, topic) ((void)0)
#define ks_auth_method_is(s, props, req) false
#endif

static inline uint64_t ks_elapsed(uint64_t now, uint64_t since)
{
    return now > since ? now - since : 0;
}

/* tx (session_io.c) */
uint8_t *ks_tx_alloc(kmqtt_session_t *s, size_t n);
bool ks_tx_fits(const kmqtt_session_t *s, size_t n);
kmqtt_err_t ks_tx_packet(kmqtt_session_t *s, const kmqtt_packet_t *p);
bool ks_answer(kmqtt_session_t *s, kmqtt_packet_type_t type, uint16_t id, uint8_t reason);
void ks_owed_drain(kmqtt_session_t *s);

/* records and store (session_publish.c) */
uint16_t ks_window(const kmqtt_session_t *s);
size_t ks_inflight_live(const kmqtt_session_t *s);
kmqtt_session_record_t *ks_find_inflight(kmqtt_session_t *s, uint16_t id);
kmqtt_session_record_t *ks_find_pending(kmqtt_session_t *s, uint16_t id);
void ks_store_release(kmqtt_session_t *s, kmqtt_session_record_t *r);
void ks_inflight_remove(kmqtt_session_t *s, kmqtt_session_record_t *r);
void ks_pending_remove(kmqtt_session_t *s, kmqtt_session_record_t *r);
void ks_pump(kmqtt_session_t *s, uint64_t now_ms);

/* store and forward: tells the change hook, if any (session_persist.c) */
void ks_changed(kmqtt_session_t *s, kmqtt_session_change_t what, uint16_t id, const uint8_t *bytes,
                size_t len);
size_t ks_store_take(kmqtt_session_t *s, size_t n); /* store_alloc; room checked */
bool ks_store_fits(const kmqtt_session_t *s, size_t n);

#endif
