/*
 * kmqtt-sub: subscribe and print messages, with the flags of mosquitto_sub.
 * Runs the client's loop itself (kmqtt_run) until -C messages arrived, -W
 * seconds passed, SIGINT/SIGTERM, or the connection fails; every ending but
 * a lost connection disconnects cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/* Room beyond --max-size for the PUBLISH header: the fixed header, a topic
 * of up to 64 KiB and 5.0 properties. */
#define SUB_RX_HEADROOM (128u * 1024u)
/* The receive buffer: messages up to about this size come whole, larger
 * ones in pieces into the message buffer (it holds any header, too). */
#define SUB_RX_SIZE        (256u * 1024u)
#define SUB_ACK_TIMEOUT_MS 10000u
#define SUB_TICK_MS        100u

typedef struct sub {
    tool_opts_t o;
    /* A message larger than the receive buffer, assembled from its pieces
     * into big (grown to the largest seen, freed at exit). */
    uint8_t *big;
    size_t big_cap, big_len;
    bool big_skip; /* over --max-size, or no memory for it: not printed */
    kmqtt_publish_t big_msg;
    char *big_topic;
    uint8_t *big_props;
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
        if (!o->no_newline) {
            fputc('\n', stdout); /* as mosquitto_sub: -F lines end unless -N */
        }
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
    size_t i;
    if (s->done || s->o.exit_after_sub) {
        return; /* -C reached, or -E: the rest of this read is not printed */
    }
    tool_debug(&s->o, "PUBLISH received: '%.*s' qos %u retain %d, %lu bytes", (int)m->topic.len,
               m->topic.ptr, (unsigned)m->qos, m->retain ? 1 : 0, (unsigned long)m->payload.len);
    if (s->o.no_stale && m->retain) {
        return;
    }
    for (i = 0; i < s->o.nfilter_out; i++) {
        if (kmqtt_topic_match(s->o.filter_out[i], strlen(s->o.filter_out[i]), m->topic.ptr,
                              m->topic.len)) {
            return; /* -T */
        }
    }
    if (s->o.retained_only && !m->retain) {
        s->done = true; /* as mosquitto_sub: the first live message ends it */
        return;
    }
    if (s->o.random_filter > 0.0 && (double)(rand() % 10000) >= s->o.random_filter * 100.0) {
        return;
    }
    print_message(s, m);
    s->received++;
    if (s->out_errno != 0 || (s->o.count > 0 && s->received >= s->o.count)) {
        s->done = true;
    }
}

/* Grows *buf to at least n bytes (realloc); false when memory is short. */
static bool grow(void **buf, size_t *cap, size_t n)
{
    void *p;
    if (n <= *cap) {
        return true;
    }
    p = realloc(*buf, n);
    if (p == NULL) {
        return false;
    }
    *buf = p;
    *cap = n;
    return true;
}

/* A message larger than the receive buffer: its topic and properties are
 * kept at BEGIN, its payload assembled, and at END it is handled as any
 * other (on_message). */
static void on_piece(kmqtt_client_t *c, const kmqtt_message_piece_t *p, void *ctx)
{
    sub_t *s = ctx;
    static size_t topic_cap, props_cap;
    switch (p->kind) {
    case KMQTT_PIECE_BEGIN:
        s->big_msg = *p->msg;
        s->big_len = 0;
        s->big_skip = p->total > s->o.max_size;
        if (s->big_skip) {
            tool_error("a message of %lu bytes on '%.*s' is larger than --max-size: skipped",
                       (unsigned long)p->total, (int)p->msg->topic.len, p->msg->topic.ptr);
            return;
        }
        if (!grow((void **)&s->big, &s->big_cap, p->total != 0 ? p->total : 1u) ||
            !grow((void **)&s->big_topic, &topic_cap, p->msg->topic.len + 1u) ||
            !grow((void **)&s->big_props, &props_cap, p->msg->props.raw_len + 1u)) {
            tool_error("out of memory for a message of %lu bytes: skipped",
                       (unsigned long)p->total);
            s->big_skip = true;
            return;
        }
        memcpy(s->big_topic, p->msg->topic.ptr, p->msg->topic.len);
        s->big_msg.topic.ptr = s->big_topic;
        if (p->msg->props.raw_len != 0) {
            memcpy(s->big_props, p->msg->props.raw, p->msg->props.raw_len);
        }
        s->big_msg.props.raw = p->msg->props.raw != NULL ? s->big_props : NULL;
        break;
    case KMQTT_PIECE_DATA:
        if (!s->big_skip && p->offset + p->len <= s->big_cap) {
            memcpy(s->big + p->offset, p->data, p->len);
            s->big_len = p->offset + p->len;
        }
        break;
    case KMQTT_PIECE_END:
        if (!s->big_skip) {
            s->big_msg.payload.ptr = s->big;
            s->big_msg.payload.len = s->big_len;
            on_message(c, &s->big_msg, s);
        }
        break;
    case KMQTT_PIECE_ABORT:
        break; /* the connection ended: the message is not printed */
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
    if (s->o.nunsub > 0) {
        /* -U: as mosquitto_sub, unsubscribed right after subscribing (to
         * drop a session's older subscriptions). */
        kmqtt_unsubscribe_result_t u;
        memset(&u, 0, sizeof u);
        e = kmqtt_unsubscribe(c, s->o.unsub, s->o.nunsub, SUB_ACK_TIMEOUT_MS, NULL, &u);
        if (e != KMQTT_OK && !(e == KMQTT_ECANCELED && tool_stop_requested())) {
            return tool_lost("unsubscribe", e);
        }
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
    /* The largest packet: the largest message --max-size allows (default:
     * any MQTT allows, as mosquitto_sub) plus its header, within the
     * largest packet MQTT allows; in 5.0 it is advertised (a -D connect
     * maximum-packet-size given says otherwise). Messages up to the receive
     * buffer come whole; larger ones in pieces, assembled by on_piece into
     * a buffer that grows as they come. */
    {
        size_t max = s.o.max_size + SUB_RX_HEADROOM;
        if (max > KMQTT_PACKET_MAX) {
            max = KMQTT_PACKET_MAX;
        }
        if (co.maximum_packet_size != 0 && co.maximum_packet_size < max) {
            max = co.maximum_packet_size;
        }
        co.rx_buffer_size = max < SUB_RX_SIZE ? max : SUB_RX_SIZE;
        if (max > co.rx_buffer_size) {
            co.on_message_piece = on_piece;
            co.maximum_packet_size = (uint32_t)max;
        } else if (co.maximum_packet_size > co.rx_buffer_size) {
            co.maximum_packet_size = (uint32_t)co.rx_buffer_size;
        }
    }
    srand((unsigned)getpid());
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
    free(s.big);
    free(s.big_topic);
    free(s.big_props);
    return rc == TOOL_CONTINUE ? TOOL_EXIT_OK : rc;
}
