/** @file
 * kmqtt codec — bytes of MQTT 3.1.1 and 5.0 control packets.
 *
 * Pure functions: they encode into a caller's buffer and decode from a
 * caller's buffer. No allocation, no globals, no I/O, never blocks.
 *
 * Decoded strings, binary data and payloads are views (pointer + length) into
 * the input buffer: they stay valid as long as the caller keeps those bytes.
 * Views are NOT NUL-terminated.
 *
 * Decoding is strict: every malformed input gets its own kmqtt_err_t. The
 * encoder applies the same rules, so what kmqtt encodes kmqtt also decodes.
 */
#ifndef KMQTT_CODEC_H
#define KMQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Protocol level byte of CONNECT. */
typedef enum kmqtt_version {
    KMQTT_V311 = 4, /**< MQTT 3.1.1 */
    KMQTT_V5 = 5    /**< MQTT 5.0 */
} kmqtt_version_t;

/** Control packet types, the high nibble of the first byte. */
typedef enum kmqtt_packet_type {
    KMQTT_CONNECT = 1,      /**< client: connection request */
    KMQTT_CONNACK = 2,      /**< server: connection acknowledgement */
    KMQTT_PUBLISH = 3,      /**< either way: an application message */
    KMQTT_PUBACK = 4,       /**< QoS 1 acknowledgement */
    KMQTT_PUBREC = 5,       /**< QoS 2, first acknowledgement */
    KMQTT_PUBREL = 6,       /**< QoS 2, release */
    KMQTT_PUBCOMP = 7,      /**< QoS 2, completion */
    KMQTT_SUBSCRIBE = 8,    /**< client: subscribe request */
    KMQTT_SUBACK = 9,       /**< server: subscribe acknowledgement */
    KMQTT_UNSUBSCRIBE = 10, /**< client: unsubscribe request */
    KMQTT_UNSUBACK = 11,    /**< server: unsubscribe acknowledgement */
    KMQTT_PINGREQ = 12,     /**< client: keepalive request */
    KMQTT_PINGRESP = 13,    /**< server: keepalive answer */
    KMQTT_DISCONNECT = 14,  /**< either way (server only in 5.0): the connection ends */

    KMQTT_AUTH = 15 /**< MQTT 5.0 only; reserved in 3.1.1 */
} kmqtt_packet_type_t;

/** Largest value of a variable byte integer, and so of the remaining length. */
#define KMQTT_VARINT_MAX 268435455u
/** Largest whole packet: 1 type byte + 4 length bytes + KMQTT_VARINT_MAX. */
#define KMQTT_PACKET_MAX (KMQTT_VARINT_MAX + 5u)
/** Largest UTF-8 string or binary data field. */
#define KMQTT_STRING_MAX 65535u

/** A UTF-8 string view: not NUL-terminated. */
typedef struct kmqtt_str {
    const char *ptr; /**< first byte; NULL for "absent" where a field is optional */
    size_t len;      /**< bytes */
} kmqtt_str_t;

/** A binary data view (payloads, passwords, correlation data). */
typedef struct kmqtt_bin {
    const uint8_t *ptr; /**< first byte; NULL for "absent" where a field is optional */
    size_t len;         /**< bytes */
} kmqtt_bin_t;

/* ---------------------------------------------------------------- properties */

/** MQTT 5.0 property identifiers, with the type of each value. */
typedef enum kmqtt_prop_id {
    KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,          /**< byte */
    KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,           /**< four-byte integer */
    KMQTT_PROP_CONTENT_TYPE = 0x03,                      /**< UTF-8 string */
    KMQTT_PROP_RESPONSE_TOPIC = 0x08,                    /**< UTF-8 string */
    KMQTT_PROP_CORRELATION_DATA = 0x09,                  /**< binary data */
    KMQTT_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,           /**< variable byte integer */
    KMQTT_PROP_SESSION_EXPIRY_INTERVAL = 0x11,           /**< four-byte integer */
    KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12,        /**< UTF-8 string */
    KMQTT_PROP_SERVER_KEEP_ALIVE = 0x13,                 /**< two-byte integer */
    KMQTT_PROP_AUTHENTICATION_METHOD = 0x15,             /**< UTF-8 string */
    KMQTT_PROP_AUTHENTICATION_DATA = 0x16,               /**< binary data */
    KMQTT_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,       /**< byte */
    KMQTT_PROP_WILL_DELAY_INTERVAL = 0x18,               /**< four-byte integer */
    KMQTT_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,      /**< byte */
    KMQTT_PROP_RESPONSE_INFORMATION = 0x1A,              /**< UTF-8 string */
    KMQTT_PROP_SERVER_REFERENCE = 0x1C,                  /**< UTF-8 string */
    KMQTT_PROP_REASON_STRING = 0x1F,                     /**< UTF-8 string */
    KMQTT_PROP_RECEIVE_MAXIMUM = 0x21,                   /**< two-byte integer */
    KMQTT_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,               /**< two-byte integer */
    KMQTT_PROP_TOPIC_ALIAS = 0x23,                       /**< two-byte integer */
    KMQTT_PROP_MAXIMUM_QOS = 0x24,                       /**< byte */
    KMQTT_PROP_RETAIN_AVAILABLE = 0x25,                  /**< byte */
    KMQTT_PROP_USER_PROPERTY = 0x26,                     /**< UTF-8 string pair */
    KMQTT_PROP_MAXIMUM_PACKET_SIZE = 0x27,               /**< four-byte integer */
    KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28,   /**< byte */
    KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29, /**< byte */
    KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A      /**< byte */
} kmqtt_prop_id_t;

/** The value type of a property (kmqtt_prop_type). */
typedef enum kmqtt_prop_type {
    KMQTT_PROPTYPE_NONE = 0,   /**< unknown identifier */
    KMQTT_PROPTYPE_BYTE,       /**< one byte, in kmqtt_prop_t.num */
    KMQTT_PROPTYPE_U16,        /**< two-byte integer, in num */
    KMQTT_PROPTYPE_U32,        /**< four-byte integer, in num */
    KMQTT_PROPTYPE_VARINT,     /**< variable byte integer, in num */
    KMQTT_PROPTYPE_STRING,     /**< UTF-8 string, in str */
    KMQTT_PROPTYPE_BINARY,     /**< binary data, in bin */
    KMQTT_PROPTYPE_STRING_PAIR /**< UTF-8 string pair: name in str, value in value */
} kmqtt_prop_type_t;

/** Where a property may appear: one bit per packet type (1 << KMQTT_CONNECT
 * ...), and bit 0 for the will properties inside CONNECT. */
#define KMQTT_PROP_IN_WILL 0u

/** One property. Integer types use num; UTF-8 strings use str; binary data
 * uses bin; a user property uses str (name) and value. */
typedef struct kmqtt_prop {
    kmqtt_prop_id_t id; /**< which property */
    uint32_t num;       /**< the value of a byte or integer property */
    kmqtt_str_t str;    /**< a UTF-8 string value, or a user property's name */
    kmqtt_bin_t bin;    /**< a binary data value */
    kmqtt_str_t value;  /**< a user property's value */
} kmqtt_prop_t;

/** The properties of one packet, in one of two forms:
 *  - to encode: items/count point to the caller's array (raw must be NULL);
 *  - decoded: raw/raw_len is the validated property block inside the input
 *    buffer (without its length prefix) and items is NULL.
 * A zeroed kmqtt_props_t is "no properties". The encoder accepts either
 * form, so a decoded packet can be encoded again unchanged. */
typedef struct kmqtt_props {
    const kmqtt_prop_t *items; /**< to encode: the caller's properties; NULL when decoded */
    size_t count;              /**< to encode: entries in items */
    const uint8_t *raw;        /**< decoded: the validated block in the input buffer */
    size_t raw_len;            /**< decoded: its length */
} kmqtt_props_t;

/** Type of a property identifier, KMQTT_PROPTYPE_NONE if unknown. */
kmqtt_prop_type_t kmqtt_prop_type(uint8_t id);

/** True if property id may appear in a packet of this type (or, with
 * KMQTT_PROP_IN_WILL as type, in the will properties). */
bool kmqtt_prop_allowed(uint8_t id, unsigned packet_type);

/** Walks the properties in either form, in order. */
typedef struct kmqtt_prop_iter {
    /** @cond PRIVATE */
    const kmqtt_prop_t *item;
    size_t left;
    const uint8_t *pos;
    const uint8_t *end;
    /** @endcond */
} kmqtt_prop_iter_t;

/** Starts a walk over props (either form); props must outlive the walk. */
void kmqtt_prop_iter_init(kmqtt_prop_iter_t *it, const kmqtt_props_t *props);
/** Fills *out with the next property and returns true, or returns false at
 * the end. Raw blocks were validated by the decoder; a raw block that does
 * not parse ends the walk (returns false) rather than reading past it. */
bool kmqtt_prop_iter_next(kmqtt_prop_iter_t *it, kmqtt_prop_t *out);
/** Finds the first property with this id; returns false if absent. */
bool kmqtt_props_find(const kmqtt_props_t *props, kmqtt_prop_id_t id, kmqtt_prop_t *out);

/* ------------------------------------------------------------------ packets */

/** The will of a CONNECT: published by the broker if the connection is lost. */
typedef struct kmqtt_will {
    kmqtt_str_t topic;   /**< will topic name */
    kmqtt_bin_t payload; /**< will payload */
    uint8_t qos;         /**< will QoS 0..2 */
    bool retain;         /**< will retain flag */
    kmqtt_props_t props; /**< MQTT 5.0 will properties */
} kmqtt_will_t;

/** CONNECT. */
typedef struct kmqtt_connect {
    kmqtt_version_t version; /**< set by the decoder; the encoder uses its argument */
    bool clean_start;        /**< "clean session" in 3.1.1 */
    uint16_t keepalive;      /**< seconds, 0 = off */
    kmqtt_str_t client_id;   /**< may be empty (the server assigns one) */
    bool has_will;           /**< will is present */
    kmqtt_will_t will;       /**< the will, if has_will */
    bool has_username;       /**< username is present */
    kmqtt_str_t username;    /**< user name, if has_username */
    bool has_password;       /**< password is present */
    kmqtt_bin_t password;    /**< password, if has_password */
    kmqtt_props_t props;     /**< 5.0 CONNECT properties */
} kmqtt_connect_t;

/** CONNACK. */
typedef struct kmqtt_connack {
    bool session_present; /**< the server kept a session for this client id */
    uint8_t reason_code;  /**< 3.1.1 return code 0..5, or a 5.0 reason code */
    kmqtt_props_t props;  /**< 5.0 CONNACK properties */
} kmqtt_connack_t;

/** PUBLISH; also a message as handlers receive it. */
typedef struct kmqtt_publish {
    kmqtt_str_t topic;   /**< may be empty in 5.0 when a Topic Alias property is set */
    kmqtt_bin_t payload; /**< the message */
    uint16_t packet_id;  /**< QoS 1 and 2 only */
    uint8_t qos;         /**< 0..2 */
    bool retain;         /**< RETAIN flag */
    bool dup;            /**< DUP flag: a resend (QoS 1 and 2) */
    kmqtt_props_t props; /**< 5.0 PUBLISH properties */
} kmqtt_publish_t;

/** PUBACK, PUBREC, PUBREL, PUBCOMP */
typedef struct kmqtt_ack {
    uint16_t packet_id;  /**< the packet id acknowledged */
    uint8_t reason_code; /**< 5.0; always 0 in 3.1.1 */
    kmqtt_props_t props; /**< 5.0 properties */
} kmqtt_ack_t;

/** One topic filter of SUBSCRIBE (all fields) or UNSUBSCRIBE (filter only). */
typedef struct kmqtt_subscription {
    kmqtt_str_t filter;       /**< the topic filter */
    uint8_t qos;              /**< maximum QoS 0..2 */
    bool no_local;            /**< 5.0 */
    bool retain_as_published; /**< 5.0 */
    uint8_t retain_handling;  /**< 5.0: 0..2 */
} kmqtt_subscription_t;

/** SUBSCRIBE and UNSUBSCRIBE. Like properties, the filters come in two
 * forms: to encode, items/count is the caller's array; decoded, raw/raw_len
 * is the validated payload, count is the number of filters, items is NULL.
 * Walk either form with kmqtt_sub_iter_*. */
typedef struct kmqtt_subscribe {
    uint16_t packet_id;                /**< non-zero */
    kmqtt_props_t props;               /**< 5.0 properties */
    const kmqtt_subscription_t *items; /**< to encode: the caller's filters; NULL when decoded */
    size_t count;                      /**< number of filters, in either form */
    const uint8_t *raw;                /**< decoded: the validated payload in the input buffer */
    size_t raw_len;                    /**< decoded: its length */
} kmqtt_subscribe_t;

/** SUBACK and UNSUBACK: one reason code per filter (none in 3.1.1 UNSUBACK). */
typedef struct kmqtt_suback {
    uint16_t packet_id;       /**< the SUBSCRIBE or UNSUBSCRIBE answered */
    kmqtt_props_t props;      /**< 5.0 properties */
    kmqtt_bin_t reason_codes; /**< one byte per filter, in order */
} kmqtt_suback_t;

/** DISCONNECT and AUTH (5.0 reason code and properties; empty in 3.1.1). */
typedef struct kmqtt_disconnect {
    uint8_t reason_code; /**< 5.0 reason code (0 in 3.1.1) */
    kmqtt_props_t props; /**< 5.0 properties */
} kmqtt_disconnect_t;

/** Any control packet: type says which member of u is used. */
typedef struct kmqtt_packet {
    kmqtt_packet_type_t type; /**< the packet type */
    /** The packet's fields, by type. */
    union {
        kmqtt_connect_t connect;
        kmqtt_connack_t connack;
        kmqtt_publish_t publish;
        kmqtt_ack_t ack;               /**< PUBACK PUBREC PUBREL PUBCOMP */
        kmqtt_subscribe_t subscribe;   /**< SUBSCRIBE UNSUBSCRIBE */
        kmqtt_suback_t suback;         /**< SUBACK UNSUBACK */
        kmqtt_disconnect_t disconnect; /**< DISCONNECT AUTH */
    } u;
} kmqtt_packet_t;

/** Walks the filters of a SUBSCRIBE or UNSUBSCRIBE in either form. */
typedef struct kmqtt_sub_iter {
    /** @cond PRIVATE */
    const kmqtt_subscription_t *item;
    size_t left;
    const uint8_t *pos;
    const uint8_t *end;
    bool with_options; /* SUBSCRIBE: an options byte follows each filter */
    /** @endcond */
} kmqtt_sub_iter_t;

/** Walks the filters of a SUBSCRIBE (is_subscribe true) or UNSUBSCRIBE. */
void kmqtt_sub_iter_init(kmqtt_sub_iter_t *it, const kmqtt_subscribe_t *s, bool is_subscribe);
/** Fills *out with the next filter and returns true, or false at the end. */
bool kmqtt_sub_iter_next(kmqtt_sub_iter_t *it, kmqtt_subscription_t *out);

/* ----------------------------------------------------------------- encoding */

/** Computes the encoded size of packet p for protocol version v, checking it
 * exactly as kmqtt_packet_encode does. Returns KMQTT_OK and sets *size, or
 * the error encoding would give (invalid field, oversized packet, ...). */
kmqtt_err_t kmqtt_packet_size(const kmqtt_packet_t *p, kmqtt_version_t v, size_t *size);

/** Encodes packet p for version v into buf[0..cap). On success returns KMQTT_OK
 * and sets *written. Returns KMQTT_ENOBUFS if cap is too small (buf may hold
 * a partial packet; nothing past cap is written), or the validation error. */
kmqtt_err_t kmqtt_packet_encode(const kmqtt_packet_t *p, kmqtt_version_t v, uint8_t *buf,
                                size_t cap, size_t *written);

/** The hot path's shortcut of kmqtt_packet_size for a PUBLISH; same contract. */
kmqtt_err_t kmqtt_publish_size(const kmqtt_publish_t *p, kmqtt_version_t v, size_t *size);
/** The hot path's shortcut of kmqtt_packet_encode for a PUBLISH; same contract. */
kmqtt_err_t kmqtt_publish_encode(const kmqtt_publish_t *p, kmqtt_version_t v, uint8_t *buf,
                                 size_t cap, size_t *written);

/* ----------------------------------------------------------------- decoding */

/** Finds the boundary of the packet starting at buf[0], reading at most len
 * bytes. max_packet_size bounds the whole packet (0 = KMQTT_PACKET_MAX).
 *  KMQTT_OK        *packet_len is the length of the complete packet (<= len)
 *  KMQTT_NEED_MORE *packet_len is the least total length needed to go on:
 *                  the full packet length once the fixed header is known
 *  KMQTT_EREMLEN   the remaining length has more than 4 bytes
 *  KMQTT_ETOOBIG   the packet would exceed max_packet_size (known from the
 *                  fixed header alone, before the body arrives)
 *  KMQTT_EPACKET_TYPE / KMQTT_EFLAGS / KMQTT_EQOS / KMQTT_EDUP
 *                  bad first byte (version-independent checks; AUTH in
 *                  3.1.1 is refused by kmqtt_packet_decode) */
kmqtt_err_t kmqtt_packet_frame(const uint8_t *buf, size_t len, uint32_t max_packet_size,
                               size_t *packet_len);

/** Decodes the packet at buf[0], reading at most len bytes, for protocol
 * version v (a CONNECT carries its own version, which is reported in
 * out->u.connect.version). Feeding a stream in any split works: call again
 * with more bytes after KMQTT_NEED_MORE.
 *  KMQTT_OK        *out is filled with views into buf; *consumed is the
 *                  packet's length (more packets may follow it in buf)
 *  KMQTT_NEED_MORE the packet is incomplete; *consumed is 0
 *  < 0             the packet is malformed; the error names the rule */
kmqtt_err_t kmqtt_packet_decode(const uint8_t *buf, size_t len, kmqtt_version_t v,
                                uint32_t max_packet_size, kmqtt_packet_t *out, size_t *consumed);

/* ------------------------------------------------------------ field helpers */

/** Checks well-formed UTF-8 as MQTT requires: no surrogates (U+D800..DFFF),
 * no overlong forms, nothing past U+10FFFF (KMQTT_EUTF8), no U+0000
 * (KMQTT_EUTF8_NUL). */
kmqtt_err_t kmqtt_utf8_validate(const char *s, size_t len);

/** Encoded length of a variable byte integer (1..4), or 0 if value is over
 * KMQTT_VARINT_MAX. */
size_t kmqtt_varint_size(uint32_t value);

/** Writes value (<= KMQTT_VARINT_MAX) as a variable byte integer at p, which
 * has room for kmqtt_varint_size(value) bytes; returns the byte after it.
 * The one varint writer of the library (codec, session). */
uint8_t *kmqtt_varint_write(uint8_t *p, uint32_t value);

/* ------------------------------------------------------------------- topics */

/** A topic name (PUBLISH): 1..65535 bytes of valid UTF-8 without '+' or '#'.
 * Returns KMQTT_OK, KMQTT_ETOPIC_NAME, KMQTT_EUTF8 or KMQTT_EUTF8_NUL. */
kmqtt_err_t kmqtt_topic_name_validate(const char *topic, size_t len);

/** A topic filter (SUBSCRIBE): 1..65535 bytes of valid UTF-8; '+' only as a
 * whole level, '#' only as the whole last level. A shared subscription
 * "$share/{group}/{filter}" needs a non-empty group without wildcards and
 * a valid filter. Returns KMQTT_OK, KMQTT_ETOPIC_FILTER or a UTF-8 error. */
kmqtt_err_t kmqtt_topic_filter_validate(const char *filter, size_t len);

/** True if the filter is a shared subscription, "$share/..." (4.8.2): the one
 * test of the library (codec, session, client). */
bool kmqtt_topic_is_shared(const char *filter, size_t len);

/** True if the topic name matches the filter. '+' matches one level, '#'
 * the parent level and any below it, and a filter starting with a
 * wildcard does not match a topic starting with '$' (MQTT-4.7.2-1).
 * A shared subscription matches as its filter part.
 * Both must be valid; an invalid one never matches. */
bool kmqtt_topic_match(const char *filter, size_t filter_len, const char *topic, size_t topic_len);

#ifdef __cplusplus
}
#endif
#endif
