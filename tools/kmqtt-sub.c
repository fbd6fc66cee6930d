/*
 * kmqtt-sub: subscribe and print messages, with the flags of mosquitto_sub.
 * Runs the client's loop itself (kmqtt_run) until -C messages arrived, -W
 * seconds passed, SIGINT/SIGTERM, or the connection fails; every ending but
 * a lost connection disconnects cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

/* Largest incoming packet: mosquitto_sub takes anything, and a tool on a
 * gateway can afford a megabyte where an embedded client could not. */
#define SUB_RX_BUFFER      (1024u * 1024u)
#define SUB_ACK_TIMEOUT_MS 10000u
#define SUB_TICK_MS        100u

typedef struct sub {
    tool_opts_t o;
    unsigned long received;
    bool done;
    int out_errno; /* stdout failed (e.g. the reader of a pipe went away) */
} sub_t;

static void print_message(sub_t *s, const kmqtt_publish_t *m)
{
    const tool_opts_t *o = &s->o;
    if (o->v5.format != NULL) {
        /* As mosquitto_sub -F: no newline unless the format has one. */
        tool_format_message(stdout, o->v5.format, m);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            s->out_errno = errno != 0 ? errno : EIO;
        }
        return;
    }
    if (!o->verbose && m->payload.len == 0) {
        return; /* as mosquitto_sub: an empty message prints nothing without -v */
    }
    if (o->verbose) {
        fwrite(m->topic.ptr, 1, m->topic.len, stdout);
        /* As mosquitto_sub: an empty payload shows as "(null)" with -v. */
        if (m->payload.len == 0) {
            fputs(" (null)", stdout);
        } else {
            fputc(' ', stdout);
        }
    }
    fwrite(m->payload.ptr, 1, m->payload.len, stdout);
    if (!o->no_newline) {
        fputc('\n', stdout);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        s->out_errno = errno != 0 ? errno : EIO;
    }
}

static void on_message(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    sub_t *s = ctx;
    (void)c;
    if (s->done) {
        return; /* -C reached: the rest of this read is not printed */
    }
    tool_debug(&s->o, "PUBLISH received: '%.*s' qos %u retain %d, %lu bytes", (int)m->topic.len,
               m->topic.ptr, (unsigned)m->qos, m->retain ? 1 : 0, (unsigned long)m->payload.len);
    if (s->o.no_stale && m->retain) {
        return;
    }
    print_message(s, m);
    s->received++;
    if (s->out_errno != 0 || (s->o.count > 0 && s->received >= s->o.count)) {
        s->done = true;
    }
}

static int subscribe_all(sub_t *s, kmqtt_client_t *c)
{
    kmqtt_sub_request_t req[TOOL_MAX_TOPICS];
    kmqtt_sub_options_t sopt[TOOL_MAX_TOPICS];
    kmqtt_subscribe_props_t props = s->o.v5.sub_props;
    kmqtt_subscribe_result_t r;
    const uint8_t *granted = r.reason_codes;
    size_t i, refused = 0, first = 0;
    kmqtt_err_t e;

    memset(req, 0, sizeof req);
    memset(sopt, 0, sizeof sopt);
    memset(&r, 0, sizeof r);
    for (i = 0; i < s->o.ntopics; i++) {
        sopt[i].no_local = s->o.v5.no_local;
        sopt[i].retain_as_published = s->o.v5.retain_as_published;
        req[i].filter = s->o.topics[i];
        req[i].qos = s->o.qos;
    }
    props.options = sopt;
    e = kmqtt_subscribe(c, req, s->o.ntopics, SUB_ACK_TIMEOUT_MS,
                        s->o.version == KMQTT_V5 ? &props : NULL, &r);
    if (e == KMQTT_ESUBFAIL) {
        for (i = 0; i < s->o.ntopics; i++) {
            if (granted[i] >= 0x80) {
                if (refused == 0) {
                    first = i;
                }
                refused++;
            }
        }
        if (refused > 1) {
            tool_error("subscription to '%s' refused: %s (code 0x%02x), and %lu more",
                       s->o.topics[first], tool_suback_text(s->o.version, granted[first]),
                       (unsigned)granted[first], (unsigned long)(refused - 1));
        } else {
            tool_error("subscription to '%s' refused: %s (code 0x%02x)", s->o.topics[first],
                       tool_suback_text(s->o.version, granted[first]), (unsigned)granted[first]);
        }
        return TOOL_EXIT_SUBFAIL;
    }
    if (e == KMQTT_ETIMEDOUT) {
        tool_error("subscribe: no SUBACK from the broker within %u s", SUB_ACK_TIMEOUT_MS / 1000u);
        return TOOL_EXIT_LOST;
    }
    if (e == KMQTT_ECANCELED && tool_stop_requested()) {
        return TOOL_EXIT_OK;
    }
    if (e != KMQTT_OK) {
        return tool_lost("subscribe", e);
    }
    for (i = 0; i < s->o.ntopics; i++) {
        tool_debug(&s->o, "subscribed to '%s', granted QoS %u", s->o.topics[i],
                   (unsigned)granted[i]);
    }
    return TOOL_CONTINUE;
}

/* Runs the loop until done, a signal, -W, or an error. */
static int receive(sub_t *s, kmqtt_client_t *c, uint64_t deadline)
{
    while (!s->done && !tool_stop_requested()) {
        uint32_t wait = SUB_TICK_MS;
        kmqtt_err_t e;
        if (deadline != 0) {
            uint64_t now = tool_now_ms();
            if (now >= deadline) {
                tool_error("timed out after %lu s (%lu message%s received)", s->o.timeout_s,
                           s->received, s->received == 1 ? "" : "s");
                return TOOL_EXIT_TIMEOUT;
            }
            if (deadline - now < wait) {
                wait = (uint32_t)(deadline - now);
            }
        }
        e = kmqtt_run(c, wait);
        if (e != KMQTT_OK) {
            return tool_lost("connection lost", e);
        }
    }
    if (s->out_errno != 0) {
        tool_error("stdout: %s", strerror(s->out_errno));
        return TOOL_EXIT_USAGE;
    }
    return TOOL_CONTINUE;
}

int main(int argc, char **argv)
{
    static sub_t s; /* static: tool_opts_t holds the URL and id buffers */
    kmqtt_client_options_t co;
    kmqtt_client_t *c = NULL;
    int rc = tool_parse(&s.o, TOOL_SUB, argc, argv);

    if (rc != TOOL_CONTINUE) {
        return rc;
    }
    tool_signals_install();
    tool_client_options(&s.o, &co);
    if (co.rx_buffer_size < SUB_RX_BUFFER) {
        co.rx_buffer_size = SUB_RX_BUFFER;
    }
    co.on_message = on_message;
    co.ctx = &s;

    rc = tool_client_create(&s.o, &co, &c);
    tool_forget_credentials(&s.o); /* the client has its copy (or failed) */
    if (rc != TOOL_CONTINUE) {
        return rc;
    }
    rc = tool_connect(&s.o, c);
    if (rc == TOOL_CONTINUE) {
        /* As mosquitto_sub, -W counts from the moment the broker accepted us. */
        uint64_t deadline = s.o.timeout_s > 0 ? tool_now_ms() + s.o.timeout_s * 1000u : 0;
        rc = subscribe_all(&s, c);
        if (rc == TOOL_CONTINUE && !s.o.exit_after_sub) {
            rc = receive(&s, c, deadline);
        }
        if (rc != TOOL_EXIT_LOST) {
            tool_debug(&s.o, "DISCONNECT");
        }
        tool_disconnect(&s.o, c);
    }
    kmqtt_client_destroy(c);
    return rc == TOOL_CONTINUE ? TOOL_EXIT_OK : rc;
}
