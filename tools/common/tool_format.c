/*
 * kmqtt-sub -F: mosquitto_sub's output format, the subset of its codes
 * that describe one message (no time stamps, no JSON).
 */
#include <stdio.h>

#include "tool.h"

static void put_str(FILE *out, kmqtt_str_t s)
{
    fwrite(s.ptr, 1, s.len, out);
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
        put_str(out, name);
        fputc(':', out);
        put_str(out, value);
    }
}

static void sub_ids(FILE *out, const kmqtt_publish_t *m)
{
    kmqtt_prop_iter_t it;
    uint32_t id;
    bool first = true;

    kmqtt_prop_iter_init(&it, &m->props);
    while (kmqtt_next_subscription_id(&it, &id)) {
        fprintf(out, first ? "%lu" : ",%lu", (unsigned long)id);
        first = false;
    }
}

static void code(FILE *out, char c, const kmqtt_publish_t *m)
{
    kmqtt_str_t s;
    kmqtt_bin_t b;
    uint32_t n;
    size_t i;

    switch (c) {
    case 't':
        put_str(out, m->topic);
        break;
    case 'p':
        fwrite(m->payload.ptr, 1, m->payload.len, out);
        break;
    case 'x':
        for (i = 0; i < m->payload.len; i++)
            fprintf(out, "%02x", (unsigned)m->payload.ptr[i]);
        break;
    case 'l':
        fprintf(out, "%lu", (unsigned long)m->payload.len);
        break;
    case 'q':
        fprintf(out, "%u", (unsigned)m->qos);
        break;
    case 'r':
        fputc(m->retain ? '1' : '0', out);
        break;
    case 'P':
        user_props(out, m);
        break;
    case 'C':
        if (kmqtt_msg_content_type(m, &s))
            put_str(out, s);
        break;
    case 'D':
        if (kmqtt_msg_correlation_data(m, &b))
            fwrite(b.ptr, 1, b.len, out);
        break;
    case 'E':
        if (kmqtt_msg_message_expiry(m, &n))
            fprintf(out, "%lu", (unsigned long)n);
        break;
    case 'R':
        if (kmqtt_msg_response_topic(m, &s))
            put_str(out, s);
        break;
    case 'S':
        sub_ids(out, m);
        break;
    case '%':
        fputc('%', out);
        break;
    default:
        /* Unknown codes print as given, so a typo shows. */
        fputc('%', out);
        fputc(c, out);
        break;
    }
}

void tool_format_message(FILE *out, const char *f, const kmqtt_publish_t *m)
{
    for (; *f != '\0'; f++) {
        if (*f == '%' && f[1] != '\0') {
            code(out, *++f, m);
        } else if (*f == '\\' && f[1] != '\0') {
            f++;
            fputc(*f == 'n' ? '\n' : *f == 't' ? '\t' : *f, out);
        } else {
            fputc(*f, out);
        }
    }
}
