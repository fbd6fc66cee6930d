/*
 * What both TLS backends share: a private copy of the options, the
 * handshake's deadline-and-wake wait over the lower transport, the wait that
 * follows the direction the library needs, and the test whether a host is an
 * IP address (checked against IP SANs, never sent as SNI).
 */
#ifndef KMQTT_TLS_COMMON_H
#define KMQTT_TLS_COMMON_H

#include "kmqtt/transport.h"

#define TLS_TAG "tls"

typedef struct tls_conf {
    char *ca_file, *ca_path, *ca_pem;
    char *cert_file, *key_file, *cert_pem, *key_pem;
    char *server_name, *alpn;
    kmqtt_tls_version_t min_version;
    bool skip_host_name_check;
    bool no_verification_at_all;
    bool session_resumption;
    kmqtt_tls_session_t *session; /* the caller's, not copied (NULL = none), or own */
    kmqtt_store_t store;          /* options.session_store, copied; store.put NULL = none */
    kmqtt_tls_session_t own;      /* the session buffer when only the store was given */
    uint32_t store_errors;
} tls_conf_t;

/* A backend wrote a new session into c->session (or emptied it): to the
 * store, if one was given. */
void tls_session_stored(tls_conf_t *c);

/* Copies every string of o into c (memory from m). KMQTT_EINVAL (bad
 * version, certificate without key) or KMQTT_ENOMEM; on failure c holds
 * nothing. */
kmqtt_err_t tls_conf_copy(kmqtt_mem_t *m, const kmqtt_tls_options_t *o, tls_conf_t *c);
void tls_conf_free(kmqtt_mem_t *m, tls_conf_t *c);

/* Copies s into memory from m; *out NULL when s is NULL. */
kmqtt_err_t tls_strdup(kmqtt_mem_t *m, const char *s, char **out);
void tls_strfree(kmqtt_mem_t *m, char **s);

/* True if host is an IPv4 or IPv6 literal; its bytes (4 or 16) into ip. */
bool tls_host_ip(const char *host, unsigned char ip[16], size_t *ip_len);

/* Waits on lower for events until deadline (monotonic ms): KMQTT_OK when one
 * is ready, KMQTT_ETIMEDOUT, KMQTT_ECANCELED (wake()) or the lower error. */
kmqtt_err_t tls_wait(const kmqtt_transport_t *lower, unsigned events, uint64_t deadline);

/* What a connection's TLS library needs from the lower transport, and what
 * its caller owes it (port.h's send contract). send_want: the lower event a
 * retry of send() waits for (KMQTT_WAIT_WRITE, or KMQTT_WAIT_READ when the
 * library must read first); recv_want: the same for recv() (KMQTT_WAIT_WRITE
 * when it must first write, e.g. an alert). owed: bytes of the last offer
 * not taken, which the next offer must carry again. */
typedef struct tls_io {
    unsigned send_want, recv_want;
    size_t owed;
} tls_io_t;

/* A fresh connection: write for send, read for recv, nothing owed. */
void tls_io_reset(tls_io_t *io);

/* The transport's wait(): waits on lower for what io says the library needs
 * for the events asked, and reports them as the caller's events. */
kmqtt_err_t tls_io_wait(const kmqtt_transport_t *lower, const tls_io_t *io, unsigned events,
                        uint32_t timeout_ms, unsigned *ready);

/* Parses the comma-separated ALPN list into wire format (length-prefixed
 * names) in out (cap bytes); returns the length, 0 for none, -1 if bad. */
long tls_alpn_wire(const char *list, unsigned char *out, size_t cap);

#endif
