/* The tools' TLS and WebSocket transports. */
#include <stdio.h>
#include <string.h>

#include "tool.h"
#include "tool_tls.h"

#include "kmqtt/transport.h"

static const char *const with_arg[] = {"--cafile", "--capath",   "--cert",       "--key",
                                       "--alpn",   "--tls-alpn", "--tls-version"};

bool tool_tls_opt_has_arg(const char *opt)
{
    size_t i;
    for (i = 0; i < sizeof with_arg / sizeof with_arg[0]; i++) {
        if (strcmp(opt, with_arg[i]) == 0) {
            return true;
        }
    }
    return false;
}

bool tool_tls_is_opt(const char *opt)
{
    return tool_tls_opt_has_arg(opt) || strcmp(opt, "--insecure") == 0 ||
           strcmp(opt, "--tls-no-verify-at-all") == 0;
}

bool tool_tls_set(tool_tls_t *t, const char *opt, const char *val)
{
    if (strcmp(opt, "--insecure") == 0) {
        /* mosquitto_pub's meaning: the host name only; the chain is still
         * verified (a script copied from mosquitto keeps its trust). */
        t->insecure = true;
    } else if (strcmp(opt, "--tls-no-verify-at-all") == 0) {
        t->no_verify = true;
    } else if (val == NULL || val[0] == '\0') {
        tool_error("%s needs a non-empty argument; see --help", opt);
        return false;
    } else if (strcmp(opt, "--cafile") == 0) {
        t->cafile = val;
    } else if (strcmp(opt, "--capath") == 0) {
        t->capath = val;
    } else if (strcmp(opt, "--cert") == 0) {
        t->cert = val;
    } else if (strcmp(opt, "--key") == 0) {
        t->key = val;
    } else if (strcmp(opt, "--alpn") == 0 || strcmp(opt, "--tls-alpn") == 0) {
        t->alpn = val;
    } else if (strcmp(opt, "--tls-version") == 0) {
        if (strcmp(val, "tlsv1.3") == 0) {
            t->tls13 = true;
        } else if (strcmp(val, "tlsv1.2") == 0) {
            t->tls13 = false;
        } else {
            tool_error("--tls-version '%s': tlsv1.2 or tlsv1.3 (older versions are refused)", val);
            return false;
        }
    } else {
        return false;
    }
    /* As mosquitto's: any TLS option turns TLS on. */
    t->tls = true;
    return true;
}

uint16_t tool_tls_default_port(const tool_tls_t *t)
{
    if (t->ws) {
        return t->tls ? 443 : 80;
    }
    return t->tls ? 8883 : 1883;
}

const char *tool_tls_help(void)
{
    return "TLS (mqtts:// URLs, or any of these options, turn it on; default port 8883):\n"
           "  --cafile FILE    trusted CA certificates (PEM); none: the system store\n"
           "  --capath DIR     directory of trusted CA certificates (hashed names)\n"
           "  --cert FILE, --key FILE   client certificate and key (mutual TLS)\n"
           "  --insecure       do not check the server's host name; its certificate is still\n"
           "                   verified against the CA (as mosquitto's --insecure; warns)\n"
           "  --tls-no-verify-at-all  verify nothing: accept any certificate from anyone\n"
           "                   (for a throwaway test broker only; warns)\n"
           "  --alpn LIST      ALPN protocols, comma-separated (e.g. mqtt)\n"
           "  --tls-version V  tlsv1.2 (minimum, default) or tlsv1.3\n";
}

int tool_tls_transport(const tool_tls_t *t, kmqtt_mem_t *m, kmqtt_transport_t *tr, bool *used)
{
    static bool warned_host, warned_all;
    kmqtt_transport_t cur;
    kmqtt_err_t e;
    *used = false;
    if (!t->tls && !t->ws) {
        return TOOL_CONTINUE;
    }
#ifndef KMQTT_HAVE_TLS
    if (t->tls) {
        tool_error("TLS: this build has no TLS backend (cmake -DKMQTT_TLS=openssl|mbedtls)");
        return TOOL_EXIT_USAGE;
    }
#endif
#ifndef KMQTT_HAVE_WS
    if (t->ws) {
        tool_error("ws:// and wss://: this build has no WebSocket transport");
        return TOOL_EXIT_USAGE;
    }
#endif
    /* Once per process, not once per connection. */
    if (t->no_verify && !warned_all) {
        warned_all = true;
        fprintf(stderr,
                "%s: warning: --tls-no-verify-at-all: the server certificate is NOT verified "
                "at all; anyone on the path can read and change the traffic\n",
                tool_prog());
    } else if (t->insecure && !t->no_verify && !warned_host) {
        warned_host = true;
        fprintf(stderr,
                "%s: warning: --insecure: the server's host name is NOT checked (its "
                "certificate chain still is); a server with any certificate of your CA "
                "can pose as this one\n",
                tool_prog());
    }
    e = kmqtt_port_tcp_create(m, &cur);
    if (e != KMQTT_OK) {
        tool_error("cannot create the TCP transport: %s", kmqtt_strerror(e));
        return TOOL_EXIT_LOST;
    }
#ifdef KMQTT_HAVE_TLS
    if (t->tls) {
        kmqtt_tls_options_t to;
        kmqtt_transport_t tls;
        kmqtt_tls_options_init(&to);
        to.ca_file = t->cafile;
        to.ca_path = t->capath;
        to.cert_file = t->cert;
        to.key_file = t->key;
        to.alpn = t->alpn;
        to.skip_host_name_check = t->insecure;
        to.no_verification_at_all = t->no_verify;
        to.min_version = t->tls13 ? KMQTT_TLS_1_3 : KMQTT_TLS_1_2;
        e = kmqtt_tls_create(m, &to, &cur, &tls);
        if (e != KMQTT_OK) {
            cur.destroy(cur.ctx);
            if (e == KMQTT_EUNSUPPORTED) {
                tool_error("TLS: %s cannot do what was asked (TLS 1.3?)", kmqtt_tls_backend());
            } else if (e == KMQTT_EINVAL) {
                tool_error("TLS: bad options (--cert needs --key, --alpn needs names)");
            } else {
                tool_error("TLS: %s (--cafile/--capath/--cert/--key)", kmqtt_strerror(e));
            }
            return TOOL_EXIT_USAGE;
        }
        cur = tls;
    }
#endif
#ifdef KMQTT_HAVE_WS
    if (t->ws) {
        kmqtt_ws_options_t wo;
        kmqtt_transport_t ws;
        memset(&wo, 0, sizeof wo);
        wo.path = "/mqtt";
        e = kmqtt_ws_create(m, &wo, &cur, &ws);
        if (e != KMQTT_OK) {
            cur.destroy(cur.ctx);
            tool_error("cannot create the WebSocket transport: %s", kmqtt_strerror(e));
            return TOOL_EXIT_LOST;
        }
        cur = ws;
    }
#endif
    *tr = cur;
    *used = true;
    return TOOL_CONTINUE;
}
