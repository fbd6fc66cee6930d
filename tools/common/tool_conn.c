/* Error reporting, CONNACK texts, the connect sequence and signals for the tools. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tool.h"

static const char *g_prog = "kmqtt";
static volatile sig_atomic_t g_stop = 0;
/* The tools run one client each: what its state callback last reported. */
static const tool_opts_t *g_opts = NULL;
static kmqtt_err_t g_lost_err = KMQTT_OK;

void tool_set_prog(const char *prog)
{
    g_prog = prog;
}

const char *tool_prog(void)
{
    return g_prog;
}

static bool g_quiet = false;

void tool_set_quiet(bool quiet)
{
    g_quiet = quiet;
}

void tool_error(const char *fmt, ...)
{
    va_list ap;
    if (g_quiet) {
        return;
    }
    fprintf(stderr, "%s: ", g_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void tool_debug(const tool_opts_t *o, const char *fmt, ...)
{
    va_list ap;
    if (!o->debug) {
        return;
    }
    fprintf(stderr, "%s: debug: ", g_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *tool_reason_text(uint8_t code)
{
    switch (code) {
    case 0x00:
        return "success";
    case 0x80:
        return "unspecified error";
    case 0x81:
        return "malformed packet";
    case 0x82:
        return "protocol error";
    case 0x83:
        return "implementation specific error";
    case 0x84:
        return "unsupported protocol version";
    case 0x85:
        return "client identifier not valid";
    case 0x86:
        return "bad user name or password";
    case 0x87:
        return "not authorized";
    case 0x88:
        return "server unavailable";
    case 0x89:
        return "server busy";
    case 0x8A:
        return "banned";
    case 0x8C:
        return "bad authentication method";
    case 0x90:
        return "topic name invalid";
    case 0x95:
        return "packet too large";
    case 0x97:
        return "quota exceeded";
    case 0x99:
        return "payload format invalid";
    case 0x9A:
        return "retain not supported";
    case 0x9B:
        return "QoS not supported";
    case 0x9C:
        return "use another server";
    case 0x9D:
        return "server moved";
    case 0x9F:
        return "connection rate exceeded";
    case 0x8F:
        return "topic filter invalid";
    case 0x91:
        return "packet identifier in use";
    case 0x9E:
        return "shared subscriptions not supported";
    case 0xA1:
        return "subscription identifiers not supported";
    case 0xA2:
        return "wildcard subscriptions not supported";
    default:
        return "unknown reason code";
    }
}

const char *tool_connack_text(kmqtt_version_t v, uint8_t code)
{
    if (v == KMQTT_V311) {
        switch (code) {
        case 0:
            return "accepted";
        case 1:
            return "unacceptable protocol version";
        case 2:
            return "identifier rejected";
        case 3:
            return "server unavailable";
        case 4:
            return "bad user name or password";
        case 5:
            return "not authorized";
        default:
            return "unknown return code";
        }
    }
    return tool_reason_text(code);
}

const char *tool_suback_text(kmqtt_version_t v, uint8_t code)
{
    if (v == KMQTT_V311) {
        return "failure"; /* 3.1.1 has one failure code, 0x80 */
    }
    return tool_reason_text(code);
}

static const char *state_name(kmqtt_conn_state_t st)
{
    switch (st) {
    case KMQTT_STATE_DISCONNECTED:
        return "disconnected";
    case KMQTT_STATE_CONNECTING:
        return "connecting";
    case KMQTT_STATE_CONNECTED:
        return "connected";
    case KMQTT_STATE_CONNECTION_LOST:
        return "connection lost";
    case KMQTT_STATE_RECONNECTING:
        return "reconnecting";
    }
    return "unknown";
}

/* 5.0: what the server's DISCONNECT said, for tool_lost. */
static int g_disc_reason = -1;
static char g_disc_text[128];

static void on_disconnect(kmqtt_client_t *c, const kmqtt_disconnect_info_t *info, void *ctx)
{
    (void)c;
    (void)ctx;
    g_disc_reason = info->reason_code;
    g_disc_text[0] = '\0';
    if (info->reason_string.ptr != NULL) {
        snprintf(g_disc_text, sizeof g_disc_text, " (%.*s)", (int)info->reason_string.len,
                 info->reason_string.ptr);
    }
}

static void on_state(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    (void)c;
    (void)ctx;
    if (err != KMQTT_OK) {
        g_lost_err = err;
    }
    if (g_opts != NULL) {
        tool_debug(g_opts, "state: %s (%s)", state_name(st), kmqtt_strerror(err));
    }
}

void tool_client_options(const tool_opts_t *o, kmqtt_client_options_t *co)
{
    g_opts = o;
    kmqtt_client_options_init(co);
    co->on_state = on_state;
    co->on_disconnect = on_disconnect;
    co->host = o->host;
    co->port = o->port;
    co->client_id = o->id;
    co->version = o->version;
    co->keepalive_s = o->keepalive;
    co->clean_session = o->clean;
    co->username = o->username;
    if (o->password != NULL) {
        co->password = o->password;
        co->password_len = strlen(o->password);
    }
    if (o->will_topic != NULL) {
        co->has_will = true;
        co->will_topic = o->will_topic;
        co->will_payload = o->will_payload != NULL ? o->will_payload : "";
        co->will_payload_len = o->will_payload != NULL ? strlen(o->will_payload) : 0;
        co->will_qos = o->will_qos;
        co->will_retain = o->will_retain;
    }
    tool_props_apply(o, co); /* 5.0: -D connect and -D will (tool_props.c) */
    if (o->version == KMQTT_V5) {
        /* -x; without it, as mosquitto: -c keeps the session for ever. */
        if (o->has_session_expiry) {
            co->session_expiry_s = o->session_expiry;
        } else if (!o->clean && co->session_expiry_s == 0) {
            co->session_expiry_s = 0xFFFFFFFFu;
        }
    }
    if (o->max_inflight > 0) {
        co->max_inflight = o->max_inflight;
    }
}

int tool_client_create(const tool_opts_t *o, kmqtt_client_options_t *co, kmqtt_client_t **c)
{
    static kmqtt_mem_t mem;
    static bool mem_ready;
    kmqtt_transport_t tr;
    bool used = false;
    kmqtt_err_t e;
    int rc;
    if (!mem_ready) {
        if (kmqtt_mem_init(&mem, NULL) != KMQTT_OK) {
            tool_error("cannot set up memory accounting");
            return TOOL_EXIT_LOST;
        }
        mem_ready = true;
    }
    rc = tool_tls_transport(&o->tls, &mem, &tr, &used);
    if (rc != TOOL_CONTINUE) {
        return rc;
    }
    if (used) {
        co->transport = &tr;
    }
    e = kmqtt_client_create(co, c);
    co->transport = NULL; /* tr dies with this frame; the client has its copy */
    if (e != KMQTT_OK) {
        if (used) {
            tr.destroy(tr.ctx); /* still ours when create failed */
        }
        tool_error("cannot create the client: %s", kmqtt_strerror(e));
        return e == KMQTT_EINVAL ? TOOL_EXIT_USAGE : TOOL_EXIT_LOST;
    }
    return TOOL_CONTINUE;
}

/* Errors that mean the broker sent something kmqtt could not accept. */
static bool is_protocol_error(kmqtt_err_t e)
{
    return e == KMQTT_EPROTOCOL || (e <= KMQTT_EREMLEN && e >= KMQTT_EPROP_LENGTH);
}

/* kmqtt_strerror(KMQTT_EPROTOCOL) already says "protocol error"; the lines
 * below say that themselves. */
static const char *protocol_detail(kmqtt_err_t e)
{
    return e == KMQTT_EPROTOCOL ? "unexpected packet or packet id" : kmqtt_strerror(e);
}

int tool_connect(const tool_opts_t *o, kmqtt_client_t *c)
{
    kmqtt_connack_info_t info;
    kmqtt_err_t e;

    memset(&info, 0, sizeof info);
    tool_debug(o, "connecting to %s%s:%u (MQTT %s, client id %s, keepalive %u, %s session)",
               o->tls.ws ? (o->tls.tls ? "wss://" : "ws://") : (o->tls.tls ? "mqtts://" : ""),
               o->host, (unsigned)o->port, o->version == KMQTT_V5 ? "5.0" : "3.1.1",
               o->id != NULL ? o->id : "random", (unsigned)o->keepalive,
               o->clean ? "clean" : "persistent");
    e = kmqtt_connect(c, 0, &info);
    if (e == KMQTT_OK) {
        tool_debug(o, "CONNACK: accepted, session present %d", info.session_present ? 1 : 0);
        return TOOL_CONTINUE;
    }
    if (e == KMQTT_EREFUSED) {
        tool_error("connection refused by %s:%u: %s (CONNACK code %u)", o->host, (unsigned)o->port,
                   tool_connack_text(o->version, info.reason_code), (unsigned)info.reason_code);
        return TOOL_EXIT_REFUSED;
    }
    if (is_protocol_error(e)) {
        tool_error("protocol error from the broker at %s:%u: %s", o->host, (unsigned)o->port,
                   protocol_detail(e));
        return TOOL_EXIT_LOST;
    }
    if (e == KMQTT_ECANCELED) {
        return TOOL_EXIT_OK; /* interrupted by a signal before the broker answered */
    }
    tool_error("cannot connect to %s:%u: %s", o->host, (unsigned)o->port, kmqtt_strerror(e));
    return TOOL_EXIT_CONNECT;
}

int tool_lost(const char *what, kmqtt_err_t err)
{
    /* A call made after the connection dropped only sees "not connected";
     * the reason it dropped is what the user needs. */
    if ((err == KMQTT_ENOTCONN || err == KMQTT_ECANCELED) && g_lost_err != KMQTT_OK) {
        what = "connection lost";
        err = g_lost_err;
    }
    if (err == KMQTT_ETOOBIG) {
        /* Our receive buffer (--max-size) was too small: no broker fault. */
        tool_error("%s: the broker sent a packet larger than this tool accepts (raise --max-size)",
                   what);
    } else if (err == KMQTT_EDISCONNECTED && g_disc_reason >= 0) {
        tool_error("%s: the broker sent DISCONNECT: %s (reason code 0x%02x)%s", what,
                   tool_reason_text((uint8_t)g_disc_reason), (unsigned)g_disc_reason, g_disc_text);
    } else if (is_protocol_error(err)) {
        tool_error("%s: protocol error from the broker: %s", what, protocol_detail(err));
    } else {
        tool_error("%s: %s", what, kmqtt_strerror(err));
    }
    return TOOL_EXIT_LOST;
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

void tool_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking poll returns at once with EINTR. SA_RESETHAND:
     * a second Ctrl-C kills a tool stuck in a blocking call. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

bool tool_stop_requested(void)
{
    return g_stop != 0;
}

uint64_t tool_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
