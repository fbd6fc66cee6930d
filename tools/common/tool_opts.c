/* Command-line parsing for kmqtt-pub and kmqtt-sub: mosquitto_pub/_sub flags. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

enum { FOR_PUB = 1u, FOR_SUB = 2u, FOR_BOTH = 3u };

typedef enum opt_id {
    O_HOST,
    O_PORT,
    O_TOPIC,
    O_MSG,
    O_FILE,
    O_STDIN,
    O_LINES,
    O_NULL,
    O_QOS,
    O_RETAIN,
    O_ID,
    O_ID_PREFIX,
    O_USER,
    O_PASS,
    O_KEEPALIVE,
    O_NOCLEAN,
    O_VERSION,
    O_COUNT,
    O_TIMEOUT,
    O_VERBOSE,
    O_NONL,
    O_NOSTALE,
    O_EXIT_SUB,
    O_DEBUG,
    O_WILL_TOPIC,
    O_WILL_PAYLOAD,
    O_WILL_QOS,
    O_WILL_RETAIN,
    O_URL,
    O_REPEAT,
    O_REPEAT_DELAY,
    O_HELP,
    O_PROPS,              /* -D command identifier value [value] (tool_props.c) */
    O_NL,                 /* --nl: no local (5.0) */
    O_RAP,                /* --rap: retain as published (5.0) */
    O_FORMAT,             /* -F format */
    O_SESSION_EXPIRY,     /* -x (5.0) */
    O_MAX_INFLIGHT,       /* -M */
    O_NODELAY,            /* --nodelay: the TCP transport always sets TCP_NODELAY */
    O_QUIET,              /* --quiet */
    O_MAX_SIZE,           /* --max-size */
    O_FILTER_OUT,         /* -T */
    O_UNSUB,              /* -U */
    O_RETAINED_ONLY,      /* --retained-only */
    O_NO_REMOVE_RETAINED, /* --remove-retained: refused */
    O_RANDOM_FILTER,      /* --random-filter */
    O_PRETTY,             /* --pretty: only changes JSON output, which -F refuses */
    O_NO_BIND,            /* -A */
    /* Known but refused: silently ignoring them would send credentials in
     * clear text or drop properties the user asked for. */
    O_NO_TLS,
    O_NO_PROXY,
    O_NO_UNIX
} opt_id_t;

typedef struct opt_def {
    opt_id_t id;
    const char *shrt;
    const char *lng;
    bool arg;
    unsigned who;
} opt_def_t;

static const opt_def_t OPTS[] = {
    {O_HOST, "-h", "--host", true, FOR_BOTH},
    {O_PORT, "-p", "--port", true, FOR_BOTH},
    {O_TOPIC, "-t", "--topic", true, FOR_BOTH},
    {O_MSG, "-m", "--message", true, FOR_PUB},
    {O_FILE, "-f", "--file", true, FOR_PUB},
    {O_STDIN, "-s", "--stdin-file", false, FOR_PUB},
    {O_LINES, "-l", "--stdin-line", false, FOR_PUB},
    {O_NULL, "-n", "--null-message", false, FOR_PUB},
    {O_QOS, "-q", "--qos", true, FOR_BOTH},
    {O_RETAIN, "-r", "--retain", false, FOR_PUB},
    {O_ID, "-i", "--id", true, FOR_BOTH},
    {O_ID_PREFIX, "-I", "--id-prefix", true, FOR_BOTH},
    {O_USER, "-u", "--username", true, FOR_BOTH},
    {O_PASS, "-P", "--pw", true, FOR_BOTH},
    {O_KEEPALIVE, "-k", "--keepalive", true, FOR_BOTH},
    {O_NOCLEAN, "-c", "--disable-clean-session", false, FOR_BOTH},
    {O_VERSION, "-V", "--protocol-version", true, FOR_BOTH},
    {O_COUNT, "-C", "--count", true, FOR_SUB},
    {O_TIMEOUT, "-W", "--timeout", true, FOR_SUB},
    {O_VERBOSE, "-v", "--verbose", false, FOR_SUB},
    {O_NONL, "-N", "--no-newline", false, FOR_SUB},
    {O_NOSTALE, "-R", "--no-stale", false, FOR_SUB},
    {O_EXIT_SUB, "-E", "--exit-after-sub", false, FOR_SUB},
    {O_DEBUG, "-d", "--debug", false, FOR_BOTH},
    {O_WILL_TOPIC, NULL, "--will-topic", true, FOR_BOTH},
    {O_WILL_PAYLOAD, NULL, "--will-payload", true, FOR_BOTH},
    {O_WILL_QOS, NULL, "--will-qos", true, FOR_BOTH},
    {O_WILL_RETAIN, NULL, "--will-retain", false, FOR_BOTH},
    {O_URL, "-L", "--url", true, FOR_BOTH},
    {O_REPEAT, NULL, "--repeat", true, FOR_PUB},
    {O_REPEAT_DELAY, NULL, "--repeat-delay", true, FOR_PUB},
    {O_HELP, NULL, "--help", false, FOR_BOTH},
    {O_NO_TLS, NULL, "--keyform", true, FOR_BOTH},
    {O_NO_TLS, NULL, "--ciphers", true, FOR_BOTH},
    {O_NO_TLS, NULL, "--psk", true, FOR_BOTH},
    {O_NO_TLS, NULL, "--psk-identity", true, FOR_BOTH},
    {O_NO_TLS, NULL, "--tls-engine", true, FOR_BOTH},
    {O_NO_TLS, NULL, "--tls-engine-kpass-sha1", true, FOR_BOTH},
    {O_NO_TLS, NULL, "--tls-use-os-certs", false, FOR_BOTH},
    {O_PROPS, "-D", "--property", true, FOR_BOTH},
    {O_NL, NULL, "--nl", false, FOR_SUB},
    {O_RAP, NULL, "--rap", false, FOR_SUB},
    {O_FORMAT, "-F", NULL, true, FOR_SUB},
    {O_NO_PROXY, NULL, "--proxy", true, FOR_BOTH},
    {O_NO_UNIX, NULL, "--unix", true, FOR_BOTH},
    {O_NO_BIND, "-A", NULL, true, FOR_BOTH},
    {O_SESSION_EXPIRY, "-x", NULL, true, FOR_BOTH},
    {O_MAX_INFLIGHT, "-M", NULL, true, FOR_PUB},
    {O_NODELAY, NULL, "--nodelay", false, FOR_BOTH},
    {O_QUIET, NULL, "--quiet", false, FOR_BOTH},
    {O_MAX_SIZE, NULL, "--max-size", true, FOR_BOTH},
    {O_FILTER_OUT, "-T", NULL, true, FOR_SUB},
    {O_UNSUB, "-U", NULL, true, FOR_SUB},
    {O_RETAINED_ONLY, NULL, "--retained-only", false, FOR_SUB},
    {O_NO_REMOVE_RETAINED, NULL, "--remove-retained", false, FOR_SUB},
    {O_RANDOM_FILTER, NULL, "--random-filter", true, FOR_SUB},
    {O_PRETTY, NULL, "--pretty", false, FOR_SUB},
};

static const char *kind_name(tool_kind_t k)
{
    return k == TOOL_PUB ? "kmqtt-pub" : "kmqtt-sub";
}

static void usage(tool_kind_t k)
{
    const char *p = kind_name(k);
    if (k == TOOL_PUB) {
        printf("Usage: %s {-t topic | -L URL} {-m message | -f file | -s | -l | -n} [options]\n"
               "Publishes one message, a file, stdin, or one message per line of stdin.\n\n",
               p);
    } else {
        printf("Usage: %s {-t filter ... | -L URL} [options]\n"
               "Subscribes and prints every message that arrives.\n\n",
               p);
    }
    printf("Connection:\n"
           "  -h HOST          broker host (default localhost)\n"
           "  -p PORT          broker port (default 1883)\n"
           "  -L URL           mqtt[s]://[user[:pass]@]host[:port]/topic (also ws://, wss://);\n"
           "                   %%XX is decoded in user and pass (write '/' as %%2F)\n"
           "  -i ID            client id (default: random)\n"
           "  -I PREFIX        client id is PREFIX followed by the process id\n"
           "  -u USER, -P PASS user name and password\n"
           "  -k SECONDS       keepalive (default 60, 0 = off)\n"
           "  -c               disable clean session (needs -i or -I)\n"
           "  -V VERSION       311 (default) or 5 (also mqttv311, mqttv5)\n"
           "  -D CMD ID VALUE  MQTT 5.0 property (needs -V 5), as mosquitto: CMD is connect,\n"
           "                   %s disconnect or will; ID is user-property (NAME VALUE),\n"
           "                   content-type, payload-format-indicator, message-expiry-interval,\n"
           "                   response-topic, correlation-data, session-expiry-interval,\n"
           "                   receive-maximum, maximum-packet-size, topic-alias-maximum,\n"
           "                   request-response-information, request-problem-information,\n"
           "                   will-delay-interval, subscription-identifier, topic-alias\n"
           "                   (accepted; kmqtt chooses aliases itself)\n"
           "  -x SECONDS       5.0 session expiry (-1 = never; default: never with -c, else 0)\n"
           "  --will-topic T, --will-payload P, --will-qos Q, --will-retain\n"
           "  --max-size BYTES the largest message (default: %s)\n"
           "  --nodelay        accepted (kmqtt always sets TCP_NODELAY)\n"
           "  --quiet          no error messages\n"
           "  -d               debug lines on stderr\n",
           k == TOOL_PUB ? "publish," : "subscribe, unsubscribe,",
           k == TOOL_PUB ? "268435452, any size MQTT allows, as mosquitto_pub"
                         : "268435452, any size MQTT allows, as mosquitto_sub;\n"
                           "                   one over 256 KiB is assembled in a buffer that\n"
                           "                   grows to the largest message seen)");
    if (k == TOOL_PUB) {
        printf("Message:\n"
               "  -t TOPIC         topic to publish to\n"
               "  -m MESSAGE       the message\n"
               "  -f FILE          the file's contents as the message\n"
               "  -s               all of stdin as one message\n"
               "  -l               one message per line of stdin\n"
               "  -n               a zero-length message\n"
               "  -q QOS           0 (default), 1 or 2\n"
               "  -r               retain the message\n"
               "  -M COUNT         at most COUNT QoS 1/2 messages unacknowledged\n"
               "  --repeat N       publish the message N times\n"
               "  --repeat-delay S seconds between repeats (may be fractional)\n");
    } else {
        printf(
            "Subscription and output:\n"
            "  -t FILTER        topic filter (may be repeated)\n"
            "  -q QOS           maximum QoS 0 (default), 1 or 2\n"
            "  -C COUNT         exit after COUNT messages\n"
            "  -W SECONDS       exit after SECONDS (exit code 27)\n"
            "  -R               skip retained (stale) messages\n"
            "  -T FILTER        do not print messages matching FILTER (may be repeated)\n"
            "  -U FILTER        unsubscribe from FILTER once subscribed (may be repeated)\n"
            "  --retained-only  print only retained messages; exit at the first live one\n"
            "  --random-filter PERCENT  print only this share of the messages\n"
            "  --pretty         accepted (it formats JSON output, which kmqtt has not)\n"
            "  -E               exit once subscribed\n"
            "  -v               print \"topic payload\"\n"
            "  -N               no newline after the payload\n"
            "  -F FORMAT        print each message as FORMAT: %%t topic, %%p payload, %%x\n"
            "                   payload in hex, %%q QoS, %%r retain, %%l length, and (5.0)\n"
            "                   %%P user properties, %%C content type, %%D correlation data,\n"
            "                   %%E message expiry, %%R response topic, %%S subscription\n"
            "                   ids, %%F payload format, %%m message id, %%X hex in upper\n"
            "                   case, %%I ISO 8601 time, %%U Unix time, %%%% a %%; flags - and 0,\n"
            "                   width and .max as mosquitto_sub; @X strftime's %%X, @N\n"
            "                   nanoseconds, @@ an @; escapes \\\\ \\0 \\a \\e \\n \\r \\t \\v;\n"
            "                   a newline follows unless -N\n"
            "  --nl, --rap      5.0 no local, retain as published\n");
    }
    printf("%s", tool_tls_help());
    printf("  --help           this text\n\n"
           "Not supported (refused with exit code 1): --psk, --ciphers, --keyform, TLS engines,\n"
           "--proxy, --unix, -A (binding to a local address)%s.\n\n"
           "Exit codes: 0 success, 1 bad arguments, 2 broker not reached, 3 connection\n"
           "refused by the broker, 4 subscription refused, 5 protocol error or connection\n"
           "lost, 27 -W timeout.\n\n",
           k == TOOL_SUB ? ", --remove-retained, -F %j and %J (JSON output)" : "");
    printf("Differences from %s 2.0, on purpose (tests/integration/tools_parity.corpus):\n"
           "  - exit codes tell failures apart (above): mosquitto's tools exit 1 when the\n"
           "    broker is not reached, kmqtt 2.\n"
           "  - usage errors print one line on stderr: mosquitto also prints its usage on\n"
           "    stdout, which would mix with the messages.\n"
           "  - --help exits 0 (mosquitto's exits 1): asking for help is no error.\n"
           "  - -d writes to stderr, so stdout stays the messages (mosquitto: stdout).\n"
           "  - bad numbers are refused: mosquitto reads -q x as 0 and sends.\n"
           "  - -k 0 turns keepalive off, as MQTT allows (mosquitto wants 5..65535).\n"
           "  - MQTT 3.1 is not supported (-V 31): 3.1.1 or 5.0.\n"
           "  - -D after -V 311 is refused: properties are never dropped silently.\n"
           "  - --max-size is kmqtt's own (mosquitto has no limit to set).\n"
           "%s",
           k == TOOL_PUB ? "mosquitto_pub" : "mosquitto_sub",
           k == TOOL_PUB
               ? "  - -L without a topic is accepted when -t gives one (mosquitto refuses the\n"
                 "    URL before it reads -t).\n"
                 "  - an invalid topic is refused with exit 1 (mosquitto_pub exits 0 without\n"
                 "    publishing).\n"
                 "  - -l with -D publish properties takes lines up to 256 KiB: a longer line is\n"
                 "    sent from a reader, which carries no properties (exit 1 at that line).\n"
               : "  - -L without a topic is accepted when -t gives one (mosquitto refuses the\n"
                 "    URL before it reads -t).\n"
                 "  - --nl, --rap: 5.0 subscription options mosquitto_sub 2.0 does not have.\n"
                 "  - -E always ends with DISCONNECT (mosquitto_sub 2.0.11 sometimes closes\n"
                 "    the socket without it, which would publish a will).\n"
                 "  - --random-filter 100 prints every message, N a random N% of them\n"
                 "    (mosquitto_sub 2.0.11 prints far fewer than it is asked to).\n"
                 "  - JSON output (-F %j, %J) is refused rather than printed wrong.\n");
}

static const opt_def_t *find_opt(const char *a)
{
    size_t i;
    for (i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
        if ((OPTS[i].shrt != NULL && strcmp(a, OPTS[i].shrt) == 0) ||
            (OPTS[i].lng != NULL && strcmp(a, OPTS[i].lng) == 0)) {
            return &OPTS[i];
        }
    }
    return NULL;
}

/* Whole-string unsigned number within [lo, hi]. */
static bool parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end = NULL;
    unsigned long v;
    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

static int bad_value(const char *opt, const char *val, const char *want)
{
    tool_error("%s '%s': %s; see --help", opt, val, want);
    return TOOL_EXIT_USAGE;
}

static int set_message(tool_opts_t *o, tool_msg_src_t src, const char *opt)
{
    if (o->msg_src != TOOL_MSG_NONE) {
        tool_error("%s: only one of -m, -f, -s, -l, -n may be given", opt);
        return TOOL_EXIT_USAGE;
    }
    o->msg_src = src;
    return TOOL_CONTINUE;
}

static int add_topic(tool_opts_t *o, const char *t, const char *opt)
{
    kmqtt_err_t e;
    if (o->ntopics == TOOL_MAX_TOPICS && o->kind == TOOL_SUB) {
        tool_error("%s: at most %d topics may be given", opt, TOOL_MAX_TOPICS);
        return TOOL_EXIT_USAGE;
    }
    e = o->kind == TOOL_PUB ? kmqtt_topic_name_validate(t, strlen(t))
                            : kmqtt_topic_filter_validate(t, strlen(t));
    if (e != KMQTT_OK) {
        tool_error("%s '%s': invalid topic %s: %s", opt, t, o->kind == TOOL_PUB ? "name" : "filter",
                   kmqtt_strerror(e));
        return TOOL_EXIT_USAGE;
    }
    if (o->kind == TOOL_PUB) {
        /* As mosquitto_pub: of -t and the topic of -L, the last one given
         * is the topic (so "-L mqtt://host/a -t b" publishes to b). */
        o->topics[0] = t;
        o->ntopics = 1;
    } else {
        o->topics[o->ntopics++] = t;
    }
    return TOOL_CONTINUE;
}

static int refuse(const char *opt, const char *why)
{
    tool_error("%s: %s", opt, why);
    return TOOL_EXIT_USAGE;
}

/* url for messages: everything between "://" and the last '@' of the whole
 * URL becomes "***", so no error line ever shows a byte of a user name or
 * password, wherever the parse below would have put the '@'. */
static const char *redact(const char *url, char *buf, size_t cap)
{
    const char *start = strstr(url, "://");
    const char *at;
    start = start != NULL ? start + 3 : url;
    at = strrchr(start, '@');
    if (at == NULL) {
        return url;
    }
    snprintf(buf, cap, "%.*s***%s", (int)(start - url), url, at);
    return buf;
}

/* True if s[0..n) is host[:port] or [IPv6][:port] with a port 1..65535:
 * letters, digits, '.', '-' and '_' for a name. */
static bool hostport_ok(const char *s, size_t n)
{
    size_t i = 0, port = 0;
    unsigned long v = 0;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL || close == s + 1) {
            return false;
        }
        i = (size_t)(close - s) + 1;
    } else {
        while (i < n && (isalnum((unsigned char)s[i]) || strchr(".-_", s[i]) != NULL)) {
            i++;
        }
        if (i == 0) {
            return false;
        }
    }
    if (i == n) {
        return true;
    }
    if (s[i++] != ':' || i == n) {
        return false;
    }
    for (; i < n; i++, port++) {
        if (!isdigit((unsigned char)s[i]) || port >= 5) {
            return false;
        }
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* Where the user info ends in rest (the URL after "://"): its '@', or NULL
 * for none; *ambiguous when the URL reads two ways. RFC 3986 ends the host
 * part at the first '/', so the last '@' before it ends the user info and a
 * password may hold '@' and ':' unencoded. A '/' must be written %2F there;
 * unencoded, as in "user:pa/ss@host/topic", the part before the first '/'
 * is no host[:port], and the only '@' followed by one is taken. When the
 * part before the first '/' has no '@' but could be "user:password" (it has
 * a ':') and an '@' later is followed by a host too, nothing tells a topic
 * with '@' from a password with '/': refused rather than guessed, since a
 * wrong guess sends the password, or a piece of it, elsewhere. */
static char *userinfo_end(char *rest, bool *ambiguous)
{
    char *slash = strchr(rest, '/');
    size_t auth_len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    char *p, *found = NULL;
    bool auth_host, maybe_pass;
    int n = 0;
    *ambiguous = false;
    for (p = rest + auth_len; p > rest; p--) {
        if (p[-1] == '@') {
            return p - 1;
        }
    }
    if (slash == NULL || strchr(slash, '@') == NULL) {
        return NULL;
    }
    auth_host = hostport_ok(rest, auth_len);
    maybe_pass = memchr(rest, ':', auth_len) != NULL && rest[0] != '[';
    if (auth_host && !maybe_pass) {
        return NULL; /* "host/topic@..." */
    }
    for (p = strchr(slash, '@'); p != NULL; p = strchr(p + 1, '@')) {
        char *e = strchr(p + 1, '/');
        if (hostport_ok(p + 1, e != NULL ? (size_t)(e - p - 1) : strlen(p + 1))) {
            found = p;
            n++;
        }
    }
    if (n > 1 || (n == 1 && auth_host)) {
        *ambiguous = true;
        return NULL;
    }
    return found;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Percent-decodes s in place (RFC 3986 2.1). False for a '%' without two
 * hex digits or a decoded NUL (the string would end there). */
static bool percent_decode(char *s)
{
    char *out = s;
    for (; *s != '\0'; s++) {
        if (*s == '%') {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
            if (lo < 0 || (hi == 0 && lo == 0)) {
                return false;
            }
            *out++ = (char)(hi << 4 | lo);
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
    return true;
}

int tool_parse_url(tool_opts_t *o, const char *raw)
{
    static const struct {
        const char *scheme;
        bool tls, ws;
    } schemes[] = {{"mqtt://", false, false},
                   {"mqtts://", true, false},
                   {"ws://", false, true},
                   {"wss://", true, true}};
    char shown[TOOL_URL_MAX + 8];
    const char *url = redact(raw, shown, sizeof shown);
    size_t n = strlen(raw);
    size_t k;
    char *rest = NULL, *slash, *at, *hostp, *portp = NULL, *topic = NULL;
    bool tls = false, ws = false, ambiguous;

    for (k = 0; k < sizeof schemes / sizeof schemes[0]; k++) {
        size_t len = strlen(schemes[k].scheme);
        if (strncmp(raw, schemes[k].scheme, len) == 0) {
            if (n >= sizeof o->url_buf) {
                tool_error("-L: URL longer than %d bytes", TOOL_URL_MAX - 1);
                return TOOL_EXIT_USAGE;
            }
            memcpy(o->url_buf, raw, n + 1);
            rest = o->url_buf + len;
            tls = schemes[k].tls;
            ws = schemes[k].ws;
            break;
        }
    }
    if (rest == NULL) {
        tool_error("-L '%s': the URL must start with mqtt://, mqtts://, ws:// or wss://", url);
        return TOOL_EXIT_USAGE;
    }
    at = userinfo_end(rest, &ambiguous);
    if (ambiguous) {
        tool_error("-L '%s': ambiguous: write a '/' in the user name or password as %%2F, or "
                   "give a topic with '@' with -t",
                   url);
        return TOOL_EXIT_USAGE;
    }
    if (at == NULL && strchr(rest, '@') != NULL && !hostport_ok(rest, strcspn(rest, "/"))) {
        tool_error(
            "-L '%s': no valid host[:port] after the user info (write a '/' in the user name "
            "or password as %%2F)",
            url);
        return TOOL_EXIT_USAGE;
    }
    hostp = at != NULL ? at + 1 : rest;
    slash = strchr(hostp, '/');
    if (slash != NULL) {
        *slash = '\0';
        topic = slash + 1;
    }
    if (at != NULL) {
        char *colon;
        *at = '\0';
        colon = strchr(rest, ':');
        if (colon != NULL) {
            *colon = '\0';
        }
        if (rest[0] == '\0') {
            tool_error("-L '%s': empty user name before '@'", url);
            return TOOL_EXIT_USAGE;
        }
        if (!percent_decode(rest) || (colon != NULL && !percent_decode(colon + 1))) {
            tool_error("-L '%s': in the user name or password, '%%' must be followed by two hex "
                       "digits (not %%00)",
                       url);
            return TOOL_EXIT_USAGE;
        }
        o->username = rest;
        if (colon != NULL) {
            o->password = colon + 1;
        }
    }
    if (hostp[0] == '[') { /* [IPv6]:port */
        char *close = strchr(hostp, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            tool_error("-L '%s': bad [IPv6] host", url);
            return TOOL_EXIT_USAGE;
        }
        *close = '\0';
        if (close[1] == ':') {
            portp = close + 2;
        }
        hostp++;
    } else {
        char *colon = strrchr(hostp, ':');
        if (colon != NULL) {
            *colon = '\0';
            portp = colon + 1;
        }
    }
    if (hostp[0] == '\0') {
        tool_error("-L '%s': no host", url);
        return TOOL_EXIT_USAGE;
    }
    if (portp != NULL) {
        unsigned long v;
        if (!parse_ulong(portp, 1, 65535, &v)) {
            /* Not the port's text: with a mistyped URL it may be a piece of
             * a password. */
            tool_error("-L '%s': bad port (a port is 1..65535)", url);
            return TOOL_EXIT_USAGE;
        }
        o->port = (uint16_t)v;
        o->tls.port_given = true;
    }
    o->host = hostp;
    o->tls.tls = o->tls.tls || tls;
    o->tls.ws = ws;
    if (topic != NULL && topic[0] != '\0') {
        return add_topic(o, topic, "-L");
    }
    return TOOL_CONTINUE;
}

/* True if s points into o's URL buffer (a credential taken from -L). */
static bool in_url_buf(const tool_opts_t *o, const char *s)
{
    return s != NULL && s >= o->url_buf && s < o->url_buf + sizeof o->url_buf;
}

void tool_forget_credentials(tool_opts_t *o)
{
    /* Only what the parser copied out of -L is ours to wipe; -u/-P point
     * into argv. */
    if (in_url_buf(o, o->password)) {
        kmqtt_mem_wipe(o->url_buf + (o->password - o->url_buf), strlen(o->password));
        o->password = NULL;
    }
    if (in_url_buf(o, o->username)) {
        kmqtt_mem_wipe(o->url_buf + (o->username - o->url_buf), strlen(o->username));
        o->username = NULL;
    }
}

static int parse_version(tool_opts_t *o, const char *opt, const char *v)
{
    if (strcmp(v, "311") == 0 || strcmp(v, "mqttv311") == 0) {
        o->version = KMQTT_V311;
    } else if (strcmp(v, "5") == 0 || strcmp(v, "mqttv5") == 0) {
        o->version = KMQTT_V5;
    } else if (strcmp(v, "31") == 0 || strcmp(v, "mqttv31") == 0) {
        return bad_value(opt, v, "MQTT 3.1 is not supported (use 311 or 5)");
    } else {
        return bad_value(opt, v, "protocol version must be 311 or 5");
    }
    return TOOL_CONTINUE;
}

/* -x: 0..4294967294 seconds, or -1, 4294967295 or "∞" for never. */
static int parse_session_expiry(tool_opts_t *o, const char *opt, const char *v)
{
    unsigned long n;
    if (strcmp(v, "-1") == 0 || strcmp(v, "\xe2\x88\x9e") == 0) {
        n = 0xFFFFFFFFul;
    } else if (!parse_ulong(v, 0, 0xFFFFFFFFul, &n)) {
        return bad_value(opt, v, "session expiry is 0..4294967295 seconds, or -1 for never");
    }
    o->has_session_expiry = true;
    o->session_expiry = (uint32_t)n;
    return TOOL_CONTINUE;
}

/* --random-filter: 0.1..100 percent. */
static int parse_percent(tool_opts_t *o, const char *opt, const char *v)
{
    char *end = NULL;
    double d;
    errno = 0;
    d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(d >= 0.1 && d <= 100.0)) {
        return bad_value(opt, v, "a chance is 0.1..100.0 percent");
    }
    o->random_filter = d;
    return TOOL_CONTINUE;
}

/* Adds t to a list of at most TOOL_MAX_TOPICS filters (-T, -U). */
static int add_filter(const char **list, size_t *n, const char *t, const char *opt)
{
    if (*n == TOOL_MAX_TOPICS) {
        tool_error("%s: at most %d may be given", opt, TOOL_MAX_TOPICS);
        return TOOL_EXIT_USAGE;
    }
    if (kmqtt_topic_filter_validate(t, strlen(t)) != KMQTT_OK) {
        return bad_value(opt, t, "invalid topic filter");
    }
    list[(*n)++] = t;
    return TOOL_CONTINUE;
}

static int parse_delay(tool_opts_t *o, const char *opt, const char *v)
{
    char *end = NULL;
    double d;
    errno = 0;
    d = strtod(v, &end);
    /* A day is plenty, and keeps the milliseconds inside uint32_t. */
    if (errno != 0 || end == v || *end != '\0' || !(d >= 0.0 && d <= 86400.0)) {
        return bad_value(opt, v, "a delay is 0..86400 seconds");
    }
    o->repeat_delay_ms = (uint32_t)(d * 1000.0 + 0.5);
    return TOOL_CONTINUE;
}

/* Applies one option; val is its argument (NULL for flags). */
static int apply(tool_opts_t *o, const opt_def_t *d, const char *opt, const char *val)
{
    unsigned long v = 0;
    switch (d->id) {
    case O_HOST:
        if (val[0] == '\0') {
            return bad_value(opt, val, "empty host");
        }
        o->host = val;
        break;
    case O_PORT:
        if (!parse_ulong(val, 1, 65535, &v)) {
            return bad_value(opt, val, "a port is 1..65535");
        }
        o->port = (uint16_t)v;
        o->tls.port_given = true;
        break;
    case O_TOPIC:
        return add_topic(o, val, opt);
    case O_MSG:
        o->message = val;
        return set_message(o, TOOL_MSG_ARG, opt);
    case O_FILE:
        o->file = val;
        return set_message(o, TOOL_MSG_FILE, opt);
    case O_STDIN:
        return set_message(o, TOOL_MSG_STDIN, opt);
    case O_LINES:
        return set_message(o, TOOL_MSG_LINES, opt);
    case O_NULL:
        return set_message(o, TOOL_MSG_NULL, opt);
    case O_QOS:
        if (!parse_ulong(val, 0, 2, &v)) {
            return bad_value(opt, val, "QoS is 0, 1 or 2");
        }
        o->qos = (uint8_t)v;
        break;
    case O_RETAIN:
        o->retain = true;
        break;
    case O_ID:
        if (val[0] == '\0') {
            return bad_value(opt, val, "empty client id");
        }
        o->id = val;
        break;
    case O_ID_PREFIX: {
        int w = snprintf(o->id_buf, sizeof o->id_buf, "%s%ld", val, (long)getpid());
        if (w < 0 || (size_t)w >= sizeof o->id_buf) {
            return bad_value(opt, val, "prefix too long");
        }
        break;
    }
    case O_USER:
        o->username = val;
        break;
    case O_PASS:
        o->password = val;
        break;
    case O_KEEPALIVE:
        if (!parse_ulong(val, 0, 65535, &v)) {
            return bad_value(opt, val, "keepalive is 0..65535 seconds");
        }
        o->keepalive = (uint16_t)v;
        break;
    case O_NOCLEAN:
        o->clean = false;
        break;
    case O_VERSION:
        return parse_version(o, opt, val);
    case O_COUNT:
        if (!parse_ulong(val, 1, 1000000000ul, &v)) {
            return bad_value(opt, val, "count must be a positive number");
        }
        o->count = v;
        break;
    case O_TIMEOUT:
        if (!parse_ulong(val, 1, 3600ul * 24 * 365, &v)) {
            return bad_value(opt, val, "timeout must be a positive number of seconds");
        }
        o->timeout_s = v;
        break;
    case O_VERBOSE:
        o->verbose = true;
        break;
    case O_NONL:
        o->no_newline = true;
        break;
    case O_NOSTALE:
        o->no_stale = true;
        break;
    case O_EXIT_SUB:
        o->exit_after_sub = true;
        break;
    case O_DEBUG:
        o->debug = true;
        break;
    case O_WILL_TOPIC:
        if (kmqtt_topic_name_validate(val, strlen(val)) != KMQTT_OK) {
            return bad_value(opt, val, "invalid topic name");
        }
        o->will_topic = val;
        break;
    case O_WILL_PAYLOAD:
        o->will_payload = val;
        break;
    case O_WILL_QOS:
        if (!parse_ulong(val, 0, 2, &v)) {
            return bad_value(opt, val, "QoS is 0, 1 or 2");
        }
        o->will_qos = (uint8_t)v;
        break;
    case O_WILL_RETAIN:
        o->will_retain = true;
        break;
    case O_URL:
        return tool_parse_url(o, val);
    case O_REPEAT:
        if (!parse_ulong(val, 1, 1000000000ul, &v)) {
            return bad_value(opt, val, "repeat count must be a positive number");
        }
        o->repeat = v;
        break;
    case O_REPEAT_DELAY:
        return parse_delay(o, opt, val);
    case O_HELP:
        usage(o->kind);
        return TOOL_EXIT_OK;
    case O_NO_TLS:
        return refuse(opt, "this TLS option is not supported (see --help for those that are)");
    case O_PROPS: /* parsed by tool_parse itself: it takes 3 or 4 arguments */
        break;
    case O_NL:
        o->v5.no_local = true;
        break;
    case O_RAP:
        o->v5.retain_as_published = true;
        break;
    case O_FORMAT:
        o->v5.format = val;
        break;
    case O_NO_PROXY:
        return refuse(opt, "SOCKS proxies are not supported");
    case O_NO_UNIX:
        return refuse(opt, "Unix domain sockets are not supported");
    case O_NO_BIND:
        return refuse(opt, "binding to a local address is not supported");
    case O_SESSION_EXPIRY:
        return parse_session_expiry(o, opt, val);
    case O_MAX_INFLIGHT:
        if (!parse_ulong(val, 1, 65535, &v)) {
            return bad_value(opt, val, "maximum inflight messages is 1..65535");
        }
        o->max_inflight = (uint16_t)v;
        break;
    case O_NODELAY:
    case O_PRETTY:
        break;
    case O_QUIET:
        tool_set_quiet(true);
        break;
    case O_MAX_SIZE:
        if (!parse_ulong(val, 1, TOOL_MAX_PAYLOAD, &v)) {
            return bad_value(opt, val, "a message size is 1..268435455 bytes");
        }
        o->max_size = v;
        break;
    case O_FILTER_OUT:
        return add_filter(o->filter_out, &o->nfilter_out, val, opt);
    case O_UNSUB:
        return add_filter(o->unsub, &o->nunsub, val, opt);
    case O_RETAINED_ONLY:
        o->retained_only = true;
        break;
    case O_NO_REMOVE_RETAINED:
        return refuse(opt, "not supported (publish an empty retained message with kmqtt-pub "
                           "-r -n)");
    case O_RANDOM_FILTER:
        return parse_percent(o, opt, val);
    }
    return TOOL_CONTINUE;
}

/* Checks that apply to the options together. */
static int check(tool_opts_t *o, bool id_given, bool prefix_given, bool will_extra)
{
    if (id_given && prefix_given) {
        tool_error("-i and -I cannot be used together; see --help");
        return TOOL_EXIT_USAGE;
    }
    if (prefix_given) {
        o->id = o->id_buf;
    }
    if (!o->clean && o->id == NULL) {
        /* A random id would leave an orphan session on the broker. */
        tool_error("-c needs a client id (-i or -I)");
        return TOOL_EXIT_USAGE;
    }
    if (will_extra && o->will_topic == NULL) {
        tool_error("--will-payload, --will-qos and --will-retain need --will-topic");
        return TOOL_EXIT_USAGE;
    }
    if (o->password != NULL && o->username == NULL && o->version == KMQTT_V311) {
        tool_error("-P needs a user name (-u) in MQTT 3.1.1"); /* MQTT-3.1.2-22 */
        return TOOL_EXIT_USAGE;
    }
    if (o->msg_src == TOOL_MSG_LINES && o->repeat > 1) {
        tool_error("--repeat cannot be used with -l");
        return TOOL_EXIT_USAGE;
    }
    if (o->v5.format != NULL && tool_format_check(o->v5.format) != TOOL_CONTINUE) {
        return TOOL_EXIT_USAGE;
    }
    if (tool_props_check(o) != TOOL_CONTINUE) {
        return TOOL_EXIT_USAGE;
    }
    if (o->ntopics == 0) {
        tool_error("no topic given (-t or -L); see --help");
        return TOOL_EXIT_USAGE;
    }
    if (o->kind == TOOL_PUB && o->msg_src == TOOL_MSG_NONE) {
        tool_error("no message given (-m, -f, -s, -l or -n); see --help");
        return TOOL_EXIT_USAGE;
    }
    return TOOL_CONTINUE;
}

int tool_parse(tool_opts_t *o, tool_kind_t kind, int argc, char **argv)
{
    bool id_given = false, prefix_given = false, will_extra = false, version_given = false;
    int i;

    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->host = "localhost";
    o->port = 1883;
    o->keepalive = 60;
    o->clean = true;
    o->version = KMQTT_V311;
    o->repeat = 1;
    o->max_size = kind == TOOL_PUB ? TOOL_MAX_PAYLOAD : TOOL_SUB_DEFAULT_MAX;
    tool_set_prog(kind_name(kind));
    /* --quiet anywhere silences the errors about the arguments before it too. */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0) {
            tool_set_quiet(true);
        }
    }

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const opt_def_t *d;
        const char *val = NULL;
        int rc;
        if (tool_tls_is_opt(a)) {
            if (tool_tls_opt_has_arg(a)) {
                if (i + 1 >= argc) {
                    tool_error("%s needs an argument; see --help", a);
                    return TOOL_EXIT_USAGE;
                }
                val = argv[++i];
            }
            if (!tool_tls_set(&o->tls, a, val)) {
                return TOOL_EXIT_USAGE;
            }
            continue;
        }
        d = find_opt(a);
        if (d == NULL) {
            if (a[0] == '-') {
                tool_error("unknown option '%s'; see --help", a);
            } else {
                tool_error("unexpected argument '%s'; see --help", a);
            }
            return TOOL_EXIT_USAGE;
        }
        if ((d->who & (kind == TOOL_PUB ? FOR_PUB : FOR_SUB)) == 0) {
            tool_error("%s is a %s option; see --help", a,
                       kind == TOOL_PUB ? "kmqtt-sub" : "kmqtt-pub");
            return TOOL_EXIT_USAGE;
        }
        /* Refused options are refused before their argument is looked at. */
        if (d->id == O_PROPS) {
            rc = tool_parse_property(o, argc, argv, &i);
            if (rc != TOOL_CONTINUE) {
                return rc;
            }
            continue;
        }
        if (d->arg && d->id != O_NO_TLS && d->id != O_NO_PROXY && d->id != O_NO_UNIX) {
            if (i + 1 >= argc) {
                tool_error("%s needs an argument; see --help", a);
                return TOOL_EXIT_USAGE;
            }
            val = argv[++i];
        }
        id_given = id_given || d->id == O_ID;
        version_given = version_given || d->id == O_VERSION;
        prefix_given = prefix_given || d->id == O_ID_PREFIX;
        will_extra =
            will_extra || d->id == O_WILL_PAYLOAD || d->id == O_WILL_QOS || d->id == O_WILL_RETAIN;
        rc = apply(o, d, a, val);
        if (rc != TOOL_CONTINUE) {
            return rc;
        }
    }
    if (!o->tls.port_given) {
        o->port = tool_tls_default_port(&o->tls);
    }
    if (o->v5.first != NULL && !version_given) {
        o->version = KMQTT_V5; /* as mosquitto: -D without -V means 5.0 */
    }
    return check(o, id_given, prefix_given, will_extra);
}
