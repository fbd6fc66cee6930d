/*
 * Shared by the session's files only.
 *
 * Records: the inflight array holds outbound QoS 1/2 messages in the order
 * they were first sent (which is also the order of their copies in the
 * store, so compaction can slide them down in one pass); the pending array
 * holds SUBSCRIBE / UNSUBSCRIBE requests. A record that only waits to be
 * reported by legacy_session_next_event keeps its slot (and its packet id)
 * until then, so an id is never reused before the application heard of it.
 */
#ifndef LEGACY_SESSION_INTERNAL_H
#define LEGACY_SESSION_INTERNAL_H

#include <string.h>

#include "kmqtt/config.h"
#include "legacy_session.h"

/* legacy_session_record_t.kind */
enum {
    KLS_AWAIT_PUBACK = 1, /* QoS 1 PUBLISH sent */
    KLS_AWAIT_PUBREC,     /* QoS 2 PUBLISH sent */
    KLS_AWAIT_PUBCOMP,    /* QoS 2 PUBREL sent; the PUBLISH copy is gone */
    KLS_REPORT_DONE,      /* to report as LEGACY_EV_PUBLISH_DONE, then drop */
    KLS_AWAIT_SUBACK,     /* pending: store_len is the number of filters */
    KLS_AWAIT_UNSUBACK,   /* pending: store_len is the number of filters */
    KLS_REPORT_FAILED     /* pending: to report as LEGACY_EV_REQUEST_FAILED */
};

/* legacy_session_record_t.flags */
#define KLS_UNSENT   0x01u /* (re)send the PUBLISH or PUBREL when tx has room */
#define KLS_CANCELED 0x02u /* KLS_REPORT_DONE: forgotten by clear(), not completed */

/* PUBLISH fixed header: DUP is bit 3 of the first byte (MQTT-3.3.1-1). */
#define KLS_DUP_BIT 0x08u

/* Largest answer the session queues: PUBACK..PUBCOMP with a 5.0 reason code
 * and no properties. */
#define KLS_ANSWER_MAX 5u

/* 5.0 "Packet Identifier not found" (PUBREL, PUBCOMP). */
#define KLS_RC_ID_NOT_FOUND 0x92u

/* Alias slot sizes (5.0): inbound u16 length + topic; outbound u32 LRU
 * stamp, u16 length, 2 spare bytes, topic. */
#define KLS_ALIAS_IN_SLOT(cfg)  (2u + (size_t)(cfg)->alias_topic_len)
#define KLS_ALIAS_OUT_SLOT(cfg) (8u + (size_t)(cfg)->alias_topic_len)

/* legacy_session_t.auth_state */
enum { KLS_AUTH_NONE = 0, KLS_AUTH_REAUTH };

/* 5.0 reason codes the session sends. */
#define KLS_RC_MALFORMED       0x81u
#define KLS_RC_PROTOCOL        0x82u
#define KLS_RC_RECEIVE_MAX     0x93u
#define KLS_RC_ALIAS_INVALID   0x94u
#define KLS_RC_TOO_LARGE       0x95u
#define KLS_RC_QUOTA           0x97u
#define KLS_RC_PAYLOAD_FORMAT  0x99u
#define KLS_RC_QOS_UNSUPPORTED 0x9Bu
#define KLS_RC_CONTINUE_AUTH   0x18u
#define KLS_RC_REAUTHENTICATE  0x19u

/* max_inbound_qos2 == 0: one bit per packet id instead of a table. */
#define KLS_INBOUND_BITMAP_BYTES (65536u / 8u)

/* Inbound QoS 2 ids awaiting PUBREL (session_inbound.c). */
#if KMQTT_CFG_QOS2
bool kls_inbound_has(const legacy_session_t *s, uint16_t id);
bool kls_inbound_add(legacy_session_t *s, uint16_t id); /* false: table full */
void kls_inbound_remove(legacy_session_t *s, uint16_t id);
void kls_inbound_clear(legacy_session_t *s);
void kls_inbound_init(legacy_session_t *s); /* at init: the storage holds garbage */
#else
/* No inbound QoS 2 (KMQTT_CFG_QOS2=0): no id table is carved. */
#define kls_inbound_has(s, id)    false
#define kls_inbound_add(s, id)    false
#define kls_inbound_remove(s, id) ((void)0)
#define kls_inbound_clear(s)      ((void)((s)->inbound_count = 0))
#define kls_inbound_init(s)       ((void)((s)->inbound_count = 0))
#endif

/* 5.0 code behind these tests is compiled out with KMQTT_CFG_V5=0: the
 * condition is then constant false (and a 5.0 config is refused). */
#define KLS_IS_V5(v) (KMQTT_CFG_V5 && (v) == KMQTT_V5)
#define KLS_V5(s)    KLS_IS_V5((s)->cfg.version)

/* caps and aliases (session.c, session_alias.c) */
void kls_caps_reset(legacy_session_t *s);
#if KMQTT_CFG_V5
void kls_alias_reset(legacy_session_t *s);
/* Inbound: resolves or records the alias of m (a PUBLISH); sets *reason to a
 * DISCONNECT reason on failure. */
kmqtt_err_t kls_alias_inbound(legacy_session_t *s, kmqtt_publish_t *m, uint8_t *reason);
/* Outbound: the alias for topic (0 = none) and whether the topic must be
 * sent with it (a new mapping); nothing changes until kls_alias_commit. */
uint16_t kls_alias_pick(const legacy_session_t *s, const kmqtt_str_t *topic, bool *with_topic);
void kls_alias_commit(legacy_session_t *s, uint16_t alias, const kmqtt_str_t *topic);
bool kls_auth_method_is(const legacy_session_t *s, const kmqtt_props_t *props, bool required);
#else
#define kls_alias_reset(s)                ((void)0)
#define kls_alias_inbound(s, m, reason)   KMQTT_EPROTOCOL
#define kls_alias_pick(s, topic, with)    (*(with) = true, (uint16_t)0)
#define kls_alias_commit(s, alias, topic) ((void)0)
#define kls_auth_method_is(s, props, req) false
#endif

static inline uint64_t kls_elapsed(uint64_t now, uint64_t since)
{
    return now > since ? now - since : 0;
}

/* tx (session_io.c) */
uint8_t *kls_tx_alloc(legacy_session_t *s, size_t n);
bool kls_tx_fits(const legacy_session_t *s, size_t n);
kmqtt_err_t kls_tx_packet(legacy_session_t *s, const kmqtt_packet_t *p);
bool kls_answer(legacy_session_t *s, kmqtt_packet_type_t type, uint16_t id, uint8_t reason);
void kls_owed_drain(legacy_session_t *s);

/* records and store (session_publish.c) */
uint16_t kls_window(const legacy_session_t *s);
size_t kls_inflight_live(const legacy_session_t *s);
legacy_session_record_t *kls_find_inflight(legacy_session_t *s, uint16_t id);
legacy_session_record_t *kls_find_pending(legacy_session_t *s, uint16_t id);
void kls_store_release(legacy_session_t *s, legacy_session_record_t *r);
void kls_inflight_remove(legacy_session_t *s, legacy_session_record_t *r);
void kls_pending_remove(legacy_session_t *s, legacy_session_record_t *r);
void kls_pump(legacy_session_t *s, uint64_t now_ms);

/* store and forward: tells the change hook, if any (session_persist.c) */
void kls_changed(legacy_session_t *s, legacy_session_change_t what, uint16_t id, const uint8_t *bytes,
                size_t len);
size_t kls_store_take(legacy_session_t *s, size_t n); /* store_alloc; room checked */
bool kls_store_fits(const legacy_session_t *s, size_t n);

#endif
