/** @file
 * kmqtt — error codes shared by every layer.
 *
 * Every kmqtt function that can fail returns a kmqtt_err_t. KMQTT_OK (0) is
 * success, KMQTT_NEED_MORE (1) is the decoder's "not a failure, feed me more
 * bytes", and every failure is negative and has its own text from
 * kmqtt_strerror(). Each malformed-packet rule has its own code so that a
 * log line says exactly which rule the peer broke.
 */
#ifndef KMQTT_ERROR_H
#define KMQTT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/** Every result of a kmqtt function: 0 success, 1 "need more bytes", a
 *  negative code for each failure (in groups of ten by layer). */
typedef enum kmqtt_err {
    KMQTT_OK = 0,        /**< success */
    KMQTT_NEED_MORE = 1, /**< decoder: the packet is not complete yet; not a failure */

    /* generic */
    KMQTT_EINVAL = -1,    /**< an argument is invalid (NULL, out of range) */
    KMQTT_ENOMEM = -2,    /**< the allocator (or a fixed pool) is exhausted */
    KMQTT_ENOBUFS = -3,   /**< the caller's buffer is too small; nothing was truncated */
    KMQTT_ELIMIT = -4,    /**< a configured bound was reached (in-flight, queue, ...) */
    KMQTT_ESTATE = -5,    /**< the call is not valid in the current state */
    KMQTT_ETIMEDOUT = -6, /**< the operation or the wait ran past its timeout */
    KMQTT_EIO = -7,       /**< transport failure */
    KMQTT_ECLOSED = -8,   /**< the connection was closed */
    KMQTT_ENOTFOUND = -9, /**< no such item (tag, packet id, record) */
    KMQTT_ENEEDV5 = -10,  /**< an MQTT 5.0 property, option or call on a 3.1.1 client */

    /* codec: framing (fixed header) */
    KMQTT_EREMLEN = -20,      /**< remaining length longer than 4 bytes (MQTT-1.5.5) */
    KMQTT_ETOOBIG = -21,      /**< packet larger than the configured maximum packet size */
    KMQTT_EPACKET_TYPE = -22, /**< reserved or unknown control packet type */
    KMQTT_EFLAGS = -23,       /**< wrong fixed-header flags for the type (MQTT-2.2.2-2) */
    KMQTT_EQOS = -24,         /**< QoS 3 (MQTT-3.3.1-4) */
    KMQTT_EDUP = -25,         /**< DUP set on a QoS 0 PUBLISH (MQTT-3.3.1-2) */
    KMQTT_EPACKET_ID = -26,   /**< packet identifier 0 where one is required (MQTT-2.3.1-1) */
    KMQTT_ETRUNCATED = -27,   /**< a field runs past the end of the packet */
    KMQTT_ETRAILING = -28,    /**< bytes left in the packet after its last field */
    /* codec: field content */
    KMQTT_EUTF8 = -30,            /**< ill-formed UTF-8 or surrogate code point (MQTT-1.5.3-1) */
    KMQTT_EUTF8_NUL = -31,        /**< U+0000 inside a UTF-8 string (MQTT-1.5.3-2) */
    KMQTT_ESTRING_TOO_LONG = -32, /**< string or binary data longer than 65,535 bytes */
    KMQTT_EVARINT = -33,          /**< variable byte integer malformed or over 268,435,455 */
    KMQTT_ETOPIC_NAME = -34,      /**< empty topic name or wildcard in it (MQTT-3.3.2-2, 4.7.3-1) */
    KMQTT_ETOPIC_FILTER = -35,    /**< bad wildcard placement or empty filter (MQTT-4.7.1-2, -3) */
    KMQTT_EPROTOCOL_NAME = -36,   /**< CONNECT protocol name is not "MQTT" (MQTT-3.1.2-1) */
    KMQTT_EPROTOCOL_VERSION = -37, /**< protocol level neither 4 (3.1.1) nor 5 */
    KMQTT_ECONNECT_FLAGS = -38,    /**< reserved bit or inconsistent will/user/password flags */
    KMQTT_ENO_TOPICS = -39,   /**< SUBSCRIBE/UNSUBSCRIBE with no filter (MQTT-3.8.3-3, 3.10.3-2) */
    KMQTT_ESUB_OPTIONS = -40, /**< reserved bits or retain handling 3 in subscription options */
    KMQTT_EREASON_CODE = -41, /**< reason / return code not valid for this packet */
    KMQTT_EACK_FLAGS = -42,   /**< reserved bits set in CONNACK acknowledge flags (MQTT-3.2.2-1) */
    /* codec: MQTT 5.0 properties */
    KMQTT_EPROP_UNKNOWN = -50,     /**< unknown property identifier */
    KMQTT_EPROP_NOT_ALLOWED = -51, /**< property not allowed in this packet */
    KMQTT_EPROP_DUPLICATE = -52,   /**< property that may appear once appears twice */
    KMQTT_EPROP_VALUE = -53,       /**< property value out of its range (e.g. Receive Maximum 0) */
    KMQTT_EPROP_LENGTH = -54,      /**< property length overruns the packet */

    /* client and transport */
    KMQTT_ERESOLVE = -60,     /**< the host name could not be resolved */
    KMQTT_ECONNREFUSED = -61, /**< nothing listens at that address */
    KMQTT_EREFUSED = -62,     /**< the broker refused the connection (CONNACK code != 0) */
    KMQTT_EPROTOCOL = -63,    /**< the broker broke the protocol (unexpected packet or id) */
    KMQTT_ENOTCONN = -64,     /**< not connected */
    KMQTT_ECANCELED = -65,    /**< the wait ended because the client disconnected or is destroyed */
    KMQTT_EKEEPALIVE = -66,   /**< no answer from the broker within the keepalive allowance */
    KMQTT_ESUBFAIL = -67,     /**< the broker refused a subscription (see the per-filter codes) */
    KMQTT_EDISCONNECTED = -68, /**< 5.0: the server sent DISCONNECT (see its reason code) */
    KMQTT_EUNSUPPORTED = -69,  /**< not supported: by the server (5.0 CONNACK: Maximum QoS,
                                  Retain / Wildcard / Shared / Subscription Id Available), by
                                  this build (a feature compiled out) or by the TLS backend */

    /* mem */
    KMQTT_EMEM_CORRUPT = -70,  /**< a block's guard or header was overwritten */
    KMQTT_EMEM_BAD_FREE = -71, /**< double free or a pointer the allocator never returned */

    /* secure transports: TLS and WebSocket */
    KMQTT_ETLS = -80,            /**< TLS handshake or record layer failed */
    KMQTT_ECERT_UNTRUSTED = -81, /**< server certificate not signed by a trusted CA */
    KMQTT_ECERT_EXPIRED = -82,   /**< server certificate expired or not yet valid */
    KMQTT_ECERT_HOSTNAME = -83,  /**< server certificate does not name the host */
    KMQTT_ECERT_REJECTED = -84,  /**< the server refused our client certificate (or lack of it) */
    KMQTT_ETLS_CONFIG = -85,     /**< a CA, certificate or key file could not be loaded */
    KMQTT_EWS_HANDSHAKE = -86,   /**< WebSocket upgrade refused or malformed */
    KMQTT_EWS_PROTOCOL = -87,    /**< WebSocket framing error from the server */

    /* store and forward */
    KMQTT_EQUEUE_FULL = -90, /**< the offline queue is full and its policy refuses new ones */
    KMQTT_ESTORE = -91,      /**< the persistent store failed (I/O or a corrupt record) */
    KMQTT_EDROPPED = -92     /**< a queued message was dropped by the queue policy */
} kmqtt_err_t;

/** Human-readable text for an error code; never NULL, never allocates.
 * Unknown codes give "unknown error". */
const char *kmqtt_strerror(kmqtt_err_t err);

#ifdef __cplusplus
}
#endif
#endif
