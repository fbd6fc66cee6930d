/*
 * What both TLS backends share: a private copy of the options, the
 * handshake's deadline-and-wake wait over the lower transport, and the test
 * whether a host is an IP address (checked against IP SANs, never sent as SNI).
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
} tls_conf_t;

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

/* Parses the comma-separated ALPN list into wire format (length-prefixed
 * names) in out (cap bytes); returns the length, 0 for none, -1 if bad. */
long tls_alpn_wire(const char *list, unsigned char *out, size_t cap);

#endif
