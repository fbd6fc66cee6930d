/** @file
 * kmqtt transports — secure byte streams stacked on a port's transport.
 *
 * A TLS or WebSocket transport is a kmqtt_transport_t (port.h) that wraps
 * another one (the "lower" transport: the port's TCP, or TLS under a
 * WebSocket), so the client never knows what is behind it and every port gets
 * TLS and WebSockets for free. Once create succeeds the new transport owns
 * the lower one (its destroy() destroys the lower too); if create fails the
 * caller still owns the lower transport. Everything allocated comes from the
 * kmqtt_mem_t given to create, so leak reports name it.
 *
 * The TLS backend (OpenSSL or mbedTLS) is chosen at build time
 * (-DKMQTT_TLS=openssl|mbedtls|none); both implement kmqtt_tls_create.
 *
 * Both kinds keep the send contract of port.h in both roles: as transports
 * (what their callers must do, what they report) and as callers of the lower
 * transport (what they offer it again after "would block").
 */
#ifndef KMQTT_TRANSPORT_H
#define KMQTT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/error.h"
#include "kmqtt/mem.h"
#include "kmqtt/port.h"
#include "kmqtt/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------- TLS */

/** The lowest TLS version kmqtt_tls_options_t.min_version accepts. */
typedef enum kmqtt_tls_version {
    KMQTT_TLS_1_2 = 0, /**< the minimum: TLS 1.2 or newer (default) */
    KMQTT_TLS_1_3      /**< TLS 1.3 only (where the backend has it) */
} kmqtt_tls_version_t;

/** A TLS session kept by the caller across wake cycles: the bytes the
 * backend needs to resume (for TLS 1.3 the server's ticket, its lifetime and
 * the resumption secret; for TLS 1.2 the session id or ticket and the master
 * secret), so a device can keep them in RAM that survives deep sleep, or in
 * a file on Linux across a process restart. The caller owns buf (cap bytes)
 * and the struct; the transport reads them in open() and writes them when
 * the server gives a new session. len is the bytes in buf, 0 = none.
 * The content is a secret: whoever has it can resume the session. */
typedef struct kmqtt_tls_session {
    uint8_t *buf; /**< where the session is kept (the caller's memory) */
    size_t cap;   /**< bytes buf holds; the session includes the server's
                     certificate: 1186 B measured with OpenSSL and an RSA 2048 one,
                     720-820 B with a P-256 one (both backends); 2 KB leaves room */
    size_t len;   /**< bytes of buf in use; 0 = no session */
} kmqtt_tls_session_t;

/** Options of kmqtt_tls_create; kmqtt_tls_options_init sets the defaults.
 * Every string is copied by create. */
typedef struct kmqtt_tls_options {
    /** Trust: ca_file (PEM bundle), ca_path (directory of hashed PEMs) or
     * ca_pem (PEM text in memory, for devices without a file system). All
     * NULL: the system store on Linux (OpenSSL); with mbedTLS, which has no
     * system store, create fails with KMQTT_ETLS_CONFIG (unless
     * no_verification_at_all). */
    const char *ca_file;
    const char *ca_path; /**< directory of hashed PEM CA certificates (see ca_file) */
    const char *ca_pem;  /**< CA certificates as PEM text (see ca_file) */
    /** Mutual TLS: client certificate and private key, PEM files or text. */
    const char *cert_file;
    const char *key_file; /**< the private key of cert_file, a PEM file */
    const char *cert_pem; /**< client certificate as PEM text (instead of cert_file) */
    const char *key_pem;  /**< its private key as PEM text (instead of key_file) */
    /** The name sent as SNI and checked against the certificate; NULL = the
     * host given to open(). An IP address is checked against the
     * certificate's IP SANs and never sent as SNI (RFC 6066). */
    const char *server_name;
    /** ALPN protocol list, comma-separated ("mqtt"); NULL = none. */
    const char *alpn;
    /** KMQTT_TLS_1_3 with mbedTLS 2.28 (no TLS 1.3 client): create fails
     * with KMQTT_EUNSUPPORTED. */
    kmqtt_tls_version_t min_version;
    /** true skips only the host name check (the certificate may name another
     * host); the chain is still verified against the trust above, and its
     * dates. What mosquitto_pub's --insecure and mosquitto_tls_insecure_set
     * do, and what the tools' --insecure does. Never the default. */
    bool skip_host_name_check;
    /** true verifies nothing: any certificate from anyone is accepted (chain,
     * dates and host name unchecked), so anyone on the path can read and
     * change the traffic. For a throwaway test broker only; the tools turn
     * it on only with --tls-no-verify-at-all, and warn. Never the default. */
    bool no_verification_at_all;
    /** Keep the TLS session of the last connection and offer it on the next
     * open(), so a device that reconnects often skips the full handshake.
     * Default true (set by kmqtt_tls_options_init). */
    bool session_resumption;
    /** Where the session is kept beyond the transport (see
     * kmqtt_tls_session_t); NULL = in the transport's memory only (lost on
     * destroy). Used only with session_resumption. open() offers the
     * session in it (when the transport holds none of its own); one that
     * does not parse, belongs to another server or has expired gives a full
     * handshake, never an error. Each new session from the server is written
     * to it; one larger than cap sets len to 0 (and stats.session_too_big).
     * Must stay valid as long as the transport; not copied. */
    kmqtt_tls_session_t *session;
    /** Where the session is kept across a process restart (Linux: the file
     * store, kmqtt_store_file_create, perhaps the one the client persists
     * to): record KMQTT_TLS_STORE_KEY. create reads it (into session when
     * given and empty, else into a buffer of KMQTT_TLS_STORE_SESSION_MAX
     * bytes of the transport's own), so the new process's first open()
     * resumes; each new session from the server is written to it (a TLS
     * 1.3 server sends one per connection: one store write per connection),
     * one that does not fit removes it. A record that does not parse gives
     * a full handshake, as above. Used only with session_resumption;
     * NULL = none. The struct is copied; its ctx must outlive the
     * transport. Store errors are not the connection's: counted in
     * kmqtt_tls_stats_t.store_errors. Backend-neutral (OpenSSL and
     * mbedTLS). */
    const kmqtt_store_t *session_store;
} kmqtt_tls_options_t;

/** The store record kmqtt_tls_options_t.session_store keeps the session in
 * (outside the keys the client's persistence uses, 0x01..0x04 << 24). */
#define KMQTT_TLS_STORE_KEY 0x05000000u
/** Bytes of the transport's own session buffer when session_store is given
 * without session. */
#define KMQTT_TLS_STORE_SESSION_MAX 4096u

/** Fills o with the defaults: chain and host name verified, TLS 1.2
 * minimum, resumption on. */
void kmqtt_tls_options_init(kmqtt_tls_options_t *o);

/** Handshake statistics of the last open(), for measurements and logs. */
typedef struct kmqtt_tls_stats {
    bool resumed;          /**< the last handshake resumed a session */
    uint32_t handshake_ms; /**< after the lower open(): ClientHello to handshake done
                              (ms resolution: use a benchmark for finer numbers) */
    uint64_t bytes_out;    /**< TLS bytes written by the last handshake */
    uint64_t bytes_in;     /**< TLS bytes read by the last handshake */
    char version[16];      /**< "TLSv1.3", "TLSv1.2" */
    /** A session from the server did not fit options.session's cap (it was
     * not kept there; the next open() after destroy will be a full handshake). */
    bool session_too_big;
    /** session_store: a get or put that failed, since create. */
    uint32_t store_errors;
} kmqtt_tls_stats_t;

/** Creates a TLS transport over lower, copying every option string. Files
 * are loaded here, so a bad path is reported at once (KMQTT_ETLS_CONFIG).
 * open() connects the lower transport, then handshakes within the same
 * timeout and verifies; its errors add KMQTT_ETLS, KMQTT_ECERT_UNTRUSTED,
 * KMQTT_ECERT_EXPIRED, KMQTT_ECERT_HOSTNAME and KMQTT_ECERT_REJECTED to the
 * lower transport's. A failed open() leaves nothing open and nothing
 * allocated beyond what create took. With TLS 1.3 the server judges our
 * certificate after our handshake ended: its refusal then comes from the
 * first send()/recv() as KMQTT_ECERT_REJECTED, and every later call of that
 * connection returns the same error. Returns KMQTT_OK, KMQTT_EINVAL (bad
 * version, certificate without key, malformed ALPN list), KMQTT_ENOMEM,
 * KMQTT_ETLS_CONFIG (a file or PEM that does not load, a client key that is
 * not its certificate's) or
 * KMQTT_EUNSUPPORTED (TLS 1.3 asked of a backend without it). Memory of our
 * own comes from m; the TLS library's internal allocations do not (neither
 * OpenSSL nor Debian's mbedTLS, built without MBEDTLS_PLATFORM_MEMORY, can
 * be given an allocator per context). Does not block.
 *
 * Sending (port.h's contract): when the lower transport would block, the TLS
 * library keeps the record it encrypted and both OpenSSL and mbed TLS require
 * the retry to carry the same bytes again (at least as many: a longer buffer
 * with the same prefix is fine, the same bytes at another address too).
 * send() then returns 0, and the retry that gets the record out returns
 * only the bytes that record carried; more follow in the next calls. A
 * retry with fewer bytes than were refused gets KMQTT_EINVAL and ends the
 * connection. Renegotiation is refused: a TLS 1.2 server's HelloRequest is
 * answered with the no_renegotiation warning alert (RFC 5246 7.2.2) and the
 * connection goes on. wait() waits on the lower transport for the direction
 * the TLS library needs: a write that must first read (or a read that must
 * first write an alert) waits for that, never for a socket that is already
 * ready for the other. */
kmqtt_err_t kmqtt_tls_create(kmqtt_mem_t *m, const kmqtt_tls_options_t *o,
                             const kmqtt_transport_t *lower, kmqtt_transport_t *out);

/** Statistics of t's last handshake (t must come from kmqtt_tls_create).
 * Returns KMQTT_OK or KMQTT_EINVAL. */
kmqtt_err_t kmqtt_tls_stats(const kmqtt_transport_t *t, kmqtt_tls_stats_t *out);

/** The backend's name and version ("OpenSSL 3.0.19", "mbed TLS 2.28.3"). */
const char *kmqtt_tls_backend(void);

/* ------------------------------------------------------------- WebSocket */

/** Options of kmqtt_ws_create; zeroed = the defaults. Strings are copied. */
typedef struct kmqtt_ws_options {

    const char *path;        /**< request path, starting with '/'; NULL = "/mqtt" */
    const char *host_header; /**< Host: value; NULL = host:port given to open() */
    /** Largest incoming frame payload accepted (a larger one is a framing
     * error). Payload is streamed to the caller, so this is a bound, not a
     * buffer; 0 = 65536. */
    size_t max_frame;
    /** Size of each of the transport's two fixed buffers: the receive buffer
     * (the server's whole handshake response must fit) and the send scratch
     * where payload is masked (larger = fewer lower sends per big frame).
     * 0 = 1024; at least 256. */
    size_t buffer_size;
} kmqtt_ws_options_t;

/** Creates a WebSocket transport (RFC 6455 client, subprotocol "mqtt") over
 * lower, copying path and host_header. All its memory is one block from m,
 * taken here (2 * buffer_size + about 750 bytes + the copied strings); nothing is allocated after.
 * open() opens lower, sends the upgrade request and checks the server's
 * answer (101, Upgrade, Connection, Sec-WebSocket-Accept, subprotocol "mqtt")
 * within the same timeout: KMQTT_EWS_HANDSHAKE when refused, malformed or
 * closed by the server, else the lower transport's errors (KMQTT_ETIMEDOUT,
 * KMQTT_ECANCELED on wake(), ...); a failed open() leaves lower closed.
 * send() starts at most one masked binary frame per call, whose payload is
 * the len bytes offered (port.h's contract makes them the caller's next len
 * bytes); it builds the frame into the send scratch (header, mask, masked
 * payload; up to buffer_size bytes at a time) and keeps what it built until
 * the lower transport has taken every byte of it, offering it again
 * unchanged after "would block". It returns the payload bytes the lower
 * transport really took (0 while only header bytes went, or none); pongs and
 * close frames wait for the frame to end. recv() returns the
 * payload bytes of binary and continuation frames, answers pings, and ends
 * the stream on a close frame (KMQTT_ECLOSED, after answering it) or a
 * framing error (KMQTT_EWS_PROTOCOL: masked or text frame, reserved bits or
 * opcode, frame over max_frame). close() sends a close frame (best effort)
 * and closes lower. Returns KMQTT_OK, KMQTT_EINVAL (NULL argument, path not
 * starting with '/', CR/LF in path or host_header, buffer_size < 256) or
 * KMQTT_ENOMEM. Does not block. */
kmqtt_err_t kmqtt_ws_create(kmqtt_mem_t *m, const kmqtt_ws_options_t *o,
                            const kmqtt_transport_t *lower, kmqtt_transport_t *out);

#ifdef __cplusplus
}
#endif
#endif
