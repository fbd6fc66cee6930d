/*
 * The tools' secure transports: mosquitto's TLS options (--cafile, --capath,
 * --cert, --key, --insecure, --alpn, --tls-version), our
 * --tls-no-verify-at-all, mqtts:// and, when built with the WebSocket
 * transport, ws:// and wss:// URLs.
 */
#ifndef KMQTT_TOOL_TLS_H
#define KMQTT_TOOL_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "kmqtt/client.h"
#include "kmqtt/mem.h"
#include "kmqtt/port.h"

typedef struct tool_tls {
    bool tls; /* TLS on: mqtts://, wss:// or any TLS option */
    bool ws;  /* ws:// or wss:// */
    const char *cafile, *capath, *cert, *key, *alpn;
    bool insecure;   /* --insecure: no host name check (as mosquitto's) */
    bool no_verify;  /* --tls-no-verify-at-all: no verification at all */
    bool tls13;      /* --tls-version tlsv1.3 */
    bool port_given; /* -p or a port in the URL: no scheme default */
} tool_tls_t;

/* True if opt is one of the TLS options (it then takes a value unless it is
 * --insecure or --tls-no-verify-at-all). */
bool tool_tls_is_opt(const char *opt);
bool tool_tls_opt_has_arg(const char *opt);

/* Applies one TLS option. Returns true, or false after one error line. */
bool tool_tls_set(tool_tls_t *t, const char *opt, const char *val);

/* The default port for what is configured: 1883, 8883, 80 or 443. */
uint16_t tool_tls_default_port(const tool_tls_t *t);

/* Builds the transport for t: the port's TCP, with TLS over it when t->tls,
 * with WebSocket over that when t->ws. Memory from m. On success *tr is set
 * and owned by the caller (or by the client it is given to); on failure
 * nothing is left and one error line has been printed (with --insecure or
 * --tls-no-verify-at-all a warning is printed in any case). Returns a TOOL_EXIT_* code or
 * TOOL_CONTINUE. When neither TLS nor WebSocket is on, *tr is not touched
 * and *used is false. */
int tool_tls_transport(const tool_tls_t *t, kmqtt_mem_t *m, kmqtt_transport_t *tr, bool *used);

/* Help lines for the options above. */
const char *tool_tls_help(void);

#endif
