/*
 * Shared code of the kmqtt command-line tools (kmqtt-pub, kmqtt-sub):
 * option parsing with the flags and meanings of mosquitto_pub/mosquitto_sub,
 * the -L URL form, one-line error reporting, and the connect sequence.
 *
 * Every failure is reported as ONE line on stderr, "<prog>: <what>", and a
 * process exit code from the table below, so scripts can tell a typo from a
 * broker that said no.
 */
#ifndef KMQTT_TOOL_H
#define KMQTT_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kmqtt/client.h"
#include "tool_tls.h"

/* Process exit codes (also listed by --help). */
enum {
    TOOL_EXIT_OK = 0,
    TOOL_EXIT_USAGE = 1,   /* bad arguments, unsupported option, unreadable input */
    TOOL_EXIT_CONNECT = 2, /* broker not reached: name, TCP refused, no CONNACK in time */
    TOOL_EXIT_REFUSED = 3, /* the broker refused the connection (CONNACK code) */
    TOOL_EXIT_SUBFAIL = 4, /* the broker refused a subscription */
    TOOL_EXIT_LOST = 5,    /* protocol error, connection closed or lost, publish failed */
    TOOL_EXIT_TIMEOUT = 27 /* -W expired (the code mosquitto_sub uses) */
};

/* tool_parse: go on with the program (anything else is an exit code). */
#define TOOL_CONTINUE (-1)

#define TOOL_MAX_TOPICS 64
/* The largest payload MQTT allows: a Remaining Length of 268,435,455 less
 * the smallest PUBLISH header (a 2-byte topic length and a 1-byte topic). */
#define TOOL_MAX_PAYLOAD 268435452ul
/* kmqtt-sub's default --max-size: as mosquitto_sub, every size MQTT
 * allows. Messages larger than the receive buffer come in pieces
 * (kmqtt_client_options_t.on_message_piece) into a buffer that grows to the
 * largest message seen, so the default costs nothing until such a message
 * comes (issue 19). */
#define TOOL_SUB_DEFAULT_MAX TOOL_MAX_PAYLOAD
#define TOOL_URL_MAX         1024
#define TOOL_ID_MAX          128

typedef enum tool_kind { TOOL_PUB, TOOL_SUB } tool_kind_t;

typedef enum tool_msg_src {
    TOOL_MSG_NONE = 0,
    TOOL_MSG_ARG,   /* -m */
    TOOL_MSG_FILE,  /* -f */
    TOOL_MSG_STDIN, /* -s: all of stdin is one message */
    TOOL_MSG_LINES, /* -l: one message per line */
    TOOL_MSG_NULL   /* -n: zero-length message */
} tool_msg_src_t;

/* MQTT 5.0 properties given with -D (tool_props.c), and the 5.0 flags of
 * kmqtt-sub. */
#define TOOL_MAX_USER_PROPS 16

typedef struct tool_props {
    const char *first; /* the first -D seen (for "needs -V 5"), NULL = none */
    /* connect */
    uint32_t session_expiry;
    uint16_t receive_maximum;
    uint32_t maximum_packet_size;
    uint16_t topic_alias_maximum;
    bool request_response_info;
    bool no_problem_info;
    kmqtt_user_prop_t connect_user[TOOL_MAX_USER_PROPS];
    /* publish (kmqtt-pub) and will */
    bool has_pub;
    kmqtt_publish_props_t pub;
    kmqtt_user_prop_t pub_user[TOOL_MAX_USER_PROPS];
    bool has_will;
    kmqtt_publish_props_t will;
    kmqtt_user_prop_t will_user[TOOL_MAX_USER_PROPS];
    size_t nconnect_user;
    /* subscribe (kmqtt-sub) */
    kmqtt_user_prop_t sub_user[TOOL_MAX_USER_PROPS];
    kmqtt_subscribe_props_t sub_props; /* also -D subscribe subscription-identifier */
    kmqtt_user_prop_t disc_user[TOOL_MAX_USER_PROPS];
    kmqtt_disconnect_props_t disc_props;
    bool no_local;            /* --nl */
    bool retain_as_published; /* --rap */
    /* disconnect */
    bool has_disc_expiry;
    uint32_t disc_expiry;
    /* kmqtt-sub -F */
    const char *format;
} tool_props_t;

typedef struct tool_opts {
    tool_kind_t kind;
    const char *host;
    uint16_t port;
    const char *topics[TOOL_MAX_TOPICS];
    size_t ntopics;
    tool_msg_src_t msg_src;
    const char *message;
    const char *file;
    uint8_t qos;
    bool retain;
    const char *id; /* NULL: the library picks a random one */
    const char *username;
    const char *password;
    uint16_t keepalive;
    bool clean;
    kmqtt_version_t version;
    unsigned long count;     /* -C; 0 = unlimited */
    unsigned long timeout_s; /* -W; 0 = none */
    bool verbose;
    bool no_newline;
    bool no_stale;
    bool exit_after_sub;
    bool debug;
    const char *will_topic;
    const char *will_payload;
    uint8_t will_qos;
    bool will_retain;
    unsigned long repeat; /* --repeat; 1 = send once */
    uint32_t repeat_delay_ms;
    bool has_session_expiry; /* -x given */
    uint32_t session_expiry; /* -x (5.0) */
    uint16_t max_inflight;   /* -M; 0 = the library's default */
    size_t max_size;         /* --max-size: the largest message payload */
    /* kmqtt-sub */
    const char *filter_out[TOOL_MAX_TOPICS]; /* -T */
    size_t nfilter_out;
    const char *unsub[TOOL_MAX_TOPICS]; /* -U */
    size_t nunsub;
    bool retained_only;   /* --retained-only */
    double random_filter; /* --random-filter percent; 0 = print all */

    tool_props_t v5; /* -D, --nl, --rap, -F */
    tool_tls_t tls;  /* TLS options, mqtts:// / ws:// / wss:// */

    /* Storage the parser owns: the split -L URL and the -I client id. */
    char url_buf[TOOL_URL_MAX];
    char id_buf[TOOL_ID_MAX];
} tool_opts_t;

/* -D command identifier value [value] at argv[*i] (the -D itself):
 * consumes its arguments (advancing *i). Returns TOOL_CONTINUE or
 * TOOL_EXIT_USAGE after one line. */
int tool_parse_property(tool_opts_t *o, int argc, char **argv, int *i);
/* Checks the 5.0 options together (-V 5 given); TOOL_CONTINUE or
 * TOOL_EXIT_USAGE after one line. */
int tool_props_check(const tool_opts_t *o);
/* Copies the CONNECT and will properties into the client options. */
void tool_props_apply(const tool_opts_t *o, kmqtt_client_options_t *co);

/* kmqtt_disconnect, with -D disconnect's properties in 5.0. */
void tool_disconnect(const tool_opts_t *o, kmqtt_client_t *c);
/* Prints m as the -F format says (tool_format.c); no newline added. */
void tool_format_message(FILE *out, const char *format, const kmqtt_publish_t *m);
/* Checks an -F format as mosquitto_sub does; TOOL_CONTINUE or
 * TOOL_EXIT_USAGE after one line. */
int tool_format_check(const char *format);

/* The program name used in every message ("kmqtt-pub"). */
void tool_set_prog(const char *prog);
const char *tool_prog(void);

/* --quiet: no error lines from now on. */
void tool_set_quiet(bool quiet);

/* Prints "<prog>: <message>\n" to stderr (nothing after tool_set_quiet). */
void tool_error(const char *fmt, ...);
/* Prints "<prog>: debug: <message>\n" to stderr when debugging is on. */
void tool_debug(const tool_opts_t *o, const char *fmt, ...);

/* Parses argv into o (filled with defaults first). Returns TOOL_CONTINUE, or
 * the exit code after printing --help (0) or one error line (1). */
int tool_parse(tool_opts_t *o, tool_kind_t kind, int argc, char **argv);

/* Splits "scheme://[user[:pass]@]host[:port][/topic]" (mqtt, mqtts, ws, wss) into o (copied into
 * o->url_buf). Returns TOOL_CONTINUE or TOOL_EXIT_USAGE after one line. */
int tool_parse_url(tool_opts_t *o, const char *url);

/* Wipes the user name and password the -L parser copied into o->url_buf
 * and forgets them: call once the client has its own copy. */
void tool_forget_credentials(tool_opts_t *o);

/* An MQTT 5.0 reason code in words ("not authorized"). */
const char *tool_reason_text(uint8_t code);
/* The CONNACK code in words ("not authorized"), for 3.1.1 or 5.0. */
const char *tool_connack_text(kmqtt_version_t v, uint8_t code);
/* A SUBACK failure code in words. */
const char *tool_suback_text(kmqtt_version_t v, uint8_t code);

/* Fills the client options from o and sets on_state (which records why a
 * connection was lost, for tool_lost); o must outlive the client. The other
 * callbacks and the buffer sizes are the caller's. */
void tool_client_options(const tool_opts_t *o, kmqtt_client_options_t *co);

/* Builds the transport o asks for (TLS, WebSocket) and creates the client
 * with it (co from tool_client_options plus the caller's settings).
 * Returns TOOL_CONTINUE and *c, or the exit code after one error line. */
int tool_client_create(const tool_opts_t *o, kmqtt_client_options_t *co, kmqtt_client_t **c);

/* Connects c, reporting a failure as one line. Returns TOOL_CONTINUE or the
 * exit code. */
int tool_connect(const tool_opts_t *o, kmqtt_client_t *c);

/* The exit code for an error that ended an established connection, after
 * printing "<what>: <reason>" (the recorded loss reason when err only says
 * "not connected"). */
int tool_lost(const char *what, kmqtt_err_t err);

/* SIGINT/SIGTERM set a flag (tool_stop_requested) instead of killing the
 * process, so the tools can disconnect cleanly; SIGPIPE is ignored. */
void tool_signals_install(void);
bool tool_stop_requested(void);

/* Milliseconds from a monotonic clock. */
uint64_t tool_now_ms(void);

#endif
