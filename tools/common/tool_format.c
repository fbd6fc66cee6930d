/*
 * kmqtt-sub -F: mosquitto_sub's output format (mosquitto_sub(1), "OUTPUT
 * FORMAT"): %codes with the flags '-' and '0', a field width and, for %C %I
 * %R %t, a maximum width; @X passed to strftime (@N nanoseconds, @@ an @);
 * \ escapes. The JSON codes %j and %J are refused by tool_format_check.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tool.h"

typedef struct spec {
    bool left;  /* '-': left-aligned */
    bool zero;  /* '0': zero padded (numbers and hex only) */
    long width; /* minimum width; -1 = none */
    long max;   /* maximum width (%C %I %R %t); -1 = none */
    char code;
} spec_t;

/* Reads "%[flags][width][.max]code" at f (on the '%'); returns the code's
 * position, or NULL when the string ends first. */
static const char *read_spec(const char *f, spec_t *s)
{
    memset(s, 0, sizeof *s);
    s->width = -1;
    s->max = -1;
    for (f++; *f == '-' || *f == '0'; f++) {
        if (*f == '-')
            s->left = true;
        else
            s->zero = true;
    }
    if (*f >= '0' && *f <= '9') {
        s->width = 0;
        for (; *f >= '0' && *f <= '9'; f++)
            s->width = s->width * 10 + (*f - '0') > 100000 ? 100000 : s->width * 10 + (*f - '0');
    }
    if (*f == '.') {
        s->max = 0;
        for (f++; *f >= '0' && *f <= '9'; f++)
            s->max = s->max * 10 + (*f - '0') > 100000 ? 100000 : s->max * 10 + (*f - '0');
    }
    if (*f == '\0')
        return NULL;
    s->code = *f;
    return f;
}

static bool is_code(char c)
{
    return c != '\0' && strchr("%ACDEFlmPpqRrStxXIU", c) != NULL;
}

static bool is_escape(char c)
{
    return c != '\0' && strchr("\\0aenrtv", c) != NULL;
}

int tool_format_check(const char *f)
{
    for (; *f != '\0'; f++) {
        if (*f == '%') {
            spec_t s;
            const char *at = read_spec(f, &s);
            if (at == NULL) {
                tool_error("-F: the format ends in the middle of a %% code");
                return TOOL_EXIT_USAGE;
            }
            if (s.code == 'j' || s.code == 'J') {
                tool_error("-F: %%%c: JSON output is not supported; see --help", s.code);
                return TOOL_EXIT_USAGE;
            }
            if (!is_code(s.code)) {
                tool_error("-F: invalid format specifier '%c'; see --help", s.code);
                return TOOL_EXIT_USAGE;
            }
            f = at;
        } else if (*f == '\\') {
            if (!is_escape(f[1])) {
                tool_error("-F: invalid escape '\\%c'; see --help", f[1] != '\0' ? f[1] : ' ');
                return TOOL_EXIT_USAGE;
            }
            f++;
        } else if (*f == '@' && f[1] != '\0') {
            f++;
        }
    }
    return TOOL_CONTINUE;
}

static void pad(FILE *out, long n, char c)
{
    for (; n > 0; n--)
        fputc(c, out);
}

/* Writes n bytes of p, or (hex != 0) their hex digits, within s's width. */
static void field(FILE *out, const spec_t *s, const void *p, size_t n, int hex, bool number)
{
    const unsigned char *b = p;
    size_t len, i;
    long fill;
    if (s->max >= 0 && strchr("CIRt", s->code) != NULL && n > (size_t)s->max)
        n = (size_t)s->max;
    len = hex ? 2 * n : n;
    fill = s->width > 0 && (size_t)s->width > len ? s->width - (long)len : 0;
    if (!s->left)
        pad(out, fill, s->zero && number ? '0' : ' ');
    if (hex) {
        for (i = 0; i < n; i++)
            fprintf(out, hex > 0 ? "%02x" : "%02X", (unsigned)b[i]);
    } else {
        fwrite(b, 1, n, out);
    }
    if (s->left)
        pad(out, fill, ' ');
}

static void number(FILE *out, const spec_t *s, unsigned long v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lu", v);
    field(out, s, buf, (size_t)n, 0, true);
}

static void user_props(FILE *out, const kmqtt_publish_t *m)
{
    kmqtt_prop_iter_t it;
    kmqtt_str_t name, value;
    bool first = true;

    /* As mosquitto_sub: name:value pairs separated by spaces, in order. */
    kmqtt_prop_iter_init(&it, &m->props);
    while (kmqtt_next_user_prop(&it, &name, &value)) {
        if (!first)
            fputc(' ', out);
        first = false;
        fwrite(name.ptr, 1, name.len, out);
        fputc(':', out);
        fwrite(value.ptr, 1, value.len, out);
    }
}

static void sub_ids(FILE *out, const spec_t *s, const kmqtt_publish_t *m)
{
    kmqtt_prop_iter_t it;
    uint32_t id;

    bool first = true;

    kmqtt_prop_iter_init(&it, &m->props);
    while (kmqtt_next_subscription_id(&it, &id)) {
        if (!first)
            fputc(',', out);
        first = false;
        number(out, s, id);
    }
}

static void iso_time(FILE *out, const spec_t *s, const struct timespec *now)
{
    char buf[64];
    struct tm tm;
    size_t n;
    localtime_r(&now->tv_sec, &tm);
    n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
    field(out, s, buf, n, 0, false);
}

static void code(FILE *out, const spec_t *s, const kmqtt_publish_t *m, const struct timespec *now)
{
    kmqtt_str_t str;
    kmqtt_bin_t b;
    uint32_t n;
    char buf[40];
    int w;

    switch (s->code) {
    case 't':
        field(out, s, m->topic.ptr, m->topic.len, 0, false);
        break;
    case 'p':
        field(out, s, m->payload.ptr, m->payload.len, 0, false);
        break;
    case 'x':
    case 'X':
        field(out, s, m->payload.ptr, m->payload.len, s->code == 'x' ? 1 : -1, true);
        break;
    case 'l':
        number(out, s, (unsigned long)m->payload.len);
        break;
    case 'm':
        number(out, s, m->packet_id);
        break;
    case 'q':
        fprintf(out, "%u", (unsigned)m->qos);
        break;
    case 'r':
        fputc(m->retain ? '1' : '0', out);
        break;
    case 'A':
        /* kmqtt resolves topic aliases before a message is handed over, so
         * there is none to print (mosquitto's broker sends none either). */
        break;
    case 'F':
        if (kmqtt_msg_payload_format(m) != 0)
            number(out, s, kmqtt_msg_payload_format(m));
        break;
    case 'P':
        user_props(out, m);
        break;
    case 'C':
        if (kmqtt_msg_content_type(m, &str))
            field(out, s, str.ptr, str.len, 0, false);
        break;
    case 'D':
        if (kmqtt_msg_correlation_data(m, &b))
            fwrite(b.ptr, 1, b.len, out);
        break;
    case 'E':
        if (kmqtt_msg_message_expiry(m, &n))
            number(out, s, n);
        break;
    case 'R':
        if (kmqtt_msg_response_topic(m, &str))
            field(out, s, str.ptr, str.len, 0, false);
        break;
    case 'S':
        sub_ids(out, s, m);
        break;
    case 'I':
        iso_time(out, s, now);
        break;
    case 'U':
        w = snprintf(buf, sizeof buf, "%lld.%09ld", (long long)now->tv_sec, (long)now->tv_nsec);
        field(out, s, buf, (size_t)w, 0, false);
        break;
    default: /* '%' */
        fputc('%', out);
        break;
    }
}

static void escape(FILE *out, char c)
{
    switch (c) {
    case '0':
        fputc('\0', out);
        break;
    case 'a':
        fputc('\a', out);
        break;
    case 'e':
        fputc('\033', out);
        break;
    case 'n':
        fputc('\n', out);
        break;
    case 'r':
        fputc('\r', out);
        break;
    case 't':
        fputc('\t', out);
        break;
    case 'v':
        fputc('\v', out);
        break;
    default: /* '\\' */
        fputc(c, out);
        break;
    }
}

/* @X: strftime's %X; @N the nanoseconds; @@ an @. */
static void time_code(FILE *out, char c, const struct timespec *now)
{
    char fmt[3] = {'%', c, '\0'};
    char buf[128];
    struct tm tm;
    size_t n;
    if (c == '@') {
        fputc('@', out);
    } else if (c == 'N') {
        fprintf(out, "%09ld", (long)now->tv_nsec);
    } else {
        localtime_r(&now->tv_sec, &tm);
        n = strftime(buf, sizeof buf, fmt, &tm);
        fwrite(buf, 1, n, out);
    }
}

void tool_format_message(FILE *out, const char *f, const kmqtt_publish_t *m)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (; *f != '\0'; f++) {
        if (*f == '%') {
            spec_t s;
            const char *at = read_spec(f, &s);
            if (at == NULL)
                break; /* refused by tool_format_check */
            code(out, &s, m, &now);
            f = at;
        } else if (*f == '\\' && f[1] != '\0') {
            escape(out, *++f);
        } else if (*f == '@' && f[1] != '\0') {
            time_code(out, *++f, &now);
        } else {
            fputc(*f, out);
        }
    }
}
