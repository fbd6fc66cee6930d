/* Text for every kmqtt_err_t: one line a log can show as it is. */
#include "kmqtt/config.h"
#include "kmqtt/error.h"

#if KMQTT_CFG_STRERROR

const char *kmqtt_strerror(kmqtt_err_t err)
{
    switch (err) {
    case KMQTT_OK:
        return "success";
    case KMQTT_NEED_MORE:
        return "packet incomplete, more bytes needed";
    case KMQTT_EINVAL:
        return "invalid argument";
    case KMQTT_ENOMEM:
        return "out of memory";
    case KMQTT_ENOBUFS:
        return "buffer too small";
    case KMQTT_ELIMIT:
        return "configured limit reached";
    case KMQTT_ESTATE:
        return "not allowed in the current state";
    case KMQTT_ETIMEDOUT:
        return "timed out";
    case KMQTT_EIO:
        return "transport error";
    case KMQTT_ECLOSED:
        return "connection closed";
    case KMQTT_ENOTFOUND:
        return "not found";
    case KMQTT_ENEEDV5:
        return "needs MQTT 5.0 (the client speaks 3.1.1)";
    case KMQTT_EREMLEN:
        return "malformed remaining length (more than 4 bytes)";
    case KMQTT_ETOOBIG:
        return "packet larger than the maximum packet size";
    case KMQTT_EPACKET_TYPE:
        return "reserved or unknown packet type";
    case KMQTT_EFLAGS:
        return "invalid fixed header flags for the packet type";
    case KMQTT_EQOS:
        return "invalid QoS (3)";
    case KMQTT_EDUP:
        return "DUP flag set on a QoS 0 PUBLISH";
    case KMQTT_EPACKET_ID:
        return "packet identifier 0 where one is required";
    case KMQTT_ETRUNCATED:
        return "field runs past the end of the packet";
    case KMQTT_ETRAILING:
        return "unexpected bytes after the last field of the packet";
    case KMQTT_EUTF8:
        return "ill-formed UTF-8 string";
    case KMQTT_EUTF8_NUL:
        return "UTF-8 string contains U+0000";
    case KMQTT_ESTRING_TOO_LONG:
        return "string or binary field longer than 65535 bytes";
    case KMQTT_EVARINT:
        return "malformed or too large variable byte integer";
    case KMQTT_ETOPIC_NAME:
        return "invalid topic name (empty or contains a wildcard)";
    case KMQTT_ETOPIC_FILTER:
        return "invalid topic filter";
    case KMQTT_EPROTOCOL_NAME:
        return "protocol name is not \"MQTT\"";
    case KMQTT_EPROTOCOL_VERSION:
        return "unsupported protocol version";
    case KMQTT_ECONNECT_FLAGS:
        return "invalid CONNECT flags";
    case KMQTT_ENO_TOPICS:
        return "SUBSCRIBE or UNSUBSCRIBE without any topic filter";
    case KMQTT_ESUB_OPTIONS:
        return "invalid subscription options";
    case KMQTT_EREASON_CODE:
        return "reason code not valid for this packet";
    case KMQTT_EACK_FLAGS:
        return "reserved bits set in CONNACK flags";
    case KMQTT_EPROP_UNKNOWN:
        return "unknown property identifier";
    case KMQTT_EPROP_NOT_ALLOWED:
        return "property not allowed in this packet";
    case KMQTT_EPROP_DUPLICATE:
        return "property included more than once";
    case KMQTT_EPROP_VALUE:
        return "property value out of range";
    case KMQTT_EPROP_LENGTH:
        return "property length overruns the packet";
    case KMQTT_ERESOLVE:
        return "host name could not be resolved";
    case KMQTT_ECONNREFUSED:
        return "connection refused";
    case KMQTT_EREFUSED:
        return "broker refused the connection";
    case KMQTT_EPROTOCOL:
        return "protocol error from the broker";
    case KMQTT_ENOTCONN:
        return "not connected";
    case KMQTT_ECANCELED:
        return "cancelled by disconnect";
    case KMQTT_EKEEPALIVE:
        return "broker did not answer within the keepalive allowance";
    case KMQTT_ESUBFAIL:
        return "subscription refused by the broker";
    case KMQTT_EDISCONNECTED:
        return "the server sent DISCONNECT";
    case KMQTT_EUNSUPPORTED:
        return "not supported (by the server, this build or the TLS backend)";
    case KMQTT_ETLS:
        return "TLS handshake or record failure";
    case KMQTT_ECERT_UNTRUSTED:
        return "server certificate not trusted (unknown CA or self-signed)";
    case KMQTT_ECERT_EXPIRED:
        return "server certificate expired or not yet valid";
    case KMQTT_ECERT_HOSTNAME:
        return "server certificate does not match the host name";
    case KMQTT_ECERT_REJECTED:
        return "the server rejected our client certificate";
    case KMQTT_ETLS_CONFIG:
        return "cannot load CA, certificate or key";
    case KMQTT_EWS_HANDSHAKE:
        return "WebSocket upgrade refused or malformed";
    case KMQTT_EWS_PROTOCOL:
        return "WebSocket framing error";
    case KMQTT_EQUEUE_FULL:
        return "offline queue full";
    case KMQTT_ESTORE:
        return "persistent store failure";
    case KMQTT_EDROPPED:
        return "message dropped by the offline queue policy";
    case KMQTT_EMEM_CORRUPT:
        return "memory block header or guard overwritten";
    case KMQTT_EMEM_BAD_FREE:
        return "double free or pointer not from this allocator";
    }
    return "unknown error";
}
#else
/* Texts compiled out (KMQTT_CFG_STRERROR=0): the code itself is in the
 * caller's hands; kmqtt/error.h maps it to its name. */
const char *kmqtt_strerror(kmqtt_err_t err)
{
    return err == KMQTT_OK ? "success" : "kmqtt error (see the code in kmqtt/error.h)";
}
#endif
