/*
 * kmqtt-pub: publish a message, a file, stdin, or stdin line by line, with
 * the flags of mosquitto_pub. Single-threaded: the tool runs the client's
 * loop itself (kmqtt_run) between reads of stdin.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/* -l: lines up to this long go through the send buffer whole; longer ones
 * (up to --max-size, as mosquitto_pub takes any) are sent from the line
 * buffer in pieces (kmqtt_publish_reader), which grows to the longest line. */
#define PUB_LINE_MAX (256u * 1024u)
/* How long to wait for the broker to acknowledge QoS 1/2 messages. */
#define PUB_ACK_TIMEOUT_MS 30000u
/* How often the loop runs while waiting for stdin or a repeat delay. */
#define PUB_TICK_MS 100u

typedef struct pub {
    tool_opts_t o;
    kmqtt_client_t *c;
    size_t tx_room; /* the largest message that goes through tx whole */
    unsigned long sent;
    unsigned long failed; /* QoS 1/2 the broker refused or that were dropped */
    uint8_t first_fail_reason;
    kmqtt_err_t first_fail_err;
} pub_t;

static void on_publish_done(kmqtt_client_t *c, uint16_t packet_id, kmqtt_err_t err,
                            uint8_t reason_code, void *ctx)
{
    pub_t *p = ctx;
    (void)c;
    tool_debug(&p->o, "publish %u done: %s, reason code 0x%02x", (unsigned)packet_id,
               kmqtt_strerror(err), (unsigned)reason_code);
    /* 5.0 reason codes below 0x80 are successes (e.g. 0x10 no subscribers). */
    if (err != KMQTT_OK || reason_code >= 0x80) {
        if (p->failed == 0) {
            p->first_fail_err = err;
            p->first_fail_reason = reason_code;
        }
        p->failed++;
    }
}

/* Reads all of f (at most max bytes: --max-size) into a malloc'd buffer. */
static int read_all(FILE *f, const char *name, size_t max, char **out, size_t *out_len)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        tool_error("%s: out of memory", name);
        return TOOL_EXIT_USAGE;
    }
    for (;;) {
        size_t n;
        if (len == cap) {
            char *nb;
            if (cap > max) {
                free(buf);
                tool_error("%s: larger than %lu bytes (--max-size)", name, (unsigned long)max);
                return TOOL_EXIT_USAGE;
            }
            cap *= 2;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                tool_error("%s: out of memory", name);
                return TOOL_EXIT_USAGE;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    if (ferror(f)) {
        free(buf);
        tool_error("%s: read error: %s", name, strerror(errno));
        return TOOL_EXIT_USAGE;
    }
    if (len > max) {
        free(buf);
        tool_error("%s: larger than %lu bytes (--max-size)", name, (unsigned long)max);
        return TOOL_EXIT_USAGE;
    }
    *out = buf;
    *out_len = len;
    return TOOL_CONTINUE;
}

static int load_message(const tool_opts_t *o, char **owned, const char **msg, size_t *len)
{
    int rc = TOOL_CONTINUE;
    *owned = NULL;
    switch (o->msg_src) {
    case TOOL_MSG_ARG:
        *msg = o->message;
        *len = strlen(o->message);
        break;
    case TOOL_MSG_FILE: {
        FILE *f = fopen(o->file, "rb");
        if (f == NULL) {
            tool_error("-f %s: %s", o->file, strerror(errno));
            return TOOL_EXIT_USAGE;
        }
        rc = read_all(f, o->file, o->max_size, owned, len);
        fclose(f);
        *msg = *owned;
        break;
    }
    case TOOL_MSG_STDIN:
        rc = read_all(stdin, "stdin", o->max_size, owned, len);
        *msg = *owned;
        if (rc == TOOL_CONTINUE && *len == 0) {
            /* As mosquitto_pub: -s with nothing on stdin is an error, not an
             * empty message (which, retained, would clear the topic). */
            free(*owned);
            *owned = NULL;
            tool_error("stdin: zero length input (use -n for an empty message)");
            return TOOL_EXIT_USAGE;
        }
        break;
    case TOOL_MSG_NULL:
    case TOOL_MSG_LINES:
    case TOOL_MSG_NONE:
        *msg = "";
        *len = 0;
        break;
    }
    return rc;
}

/* Runs the loop (acks, keepalive) for ms milliseconds or until a signal. */
static int run_for(pub_t *p, uint32_t ms)
{
    uint64_t end = tool_now_ms() + ms;
    for (;;) {
        uint64_t now = tool_now_ms();
        kmqtt_err_t e;
        if (now >= end || tool_stop_requested()) {
            return TOOL_CONTINUE;
        }
        e = kmqtt_run(p->c, (uint32_t)(end - now < PUB_TICK_MS ? end - now : PUB_TICK_MS));
        if (e != KMQTT_OK) {
            return tool_lost("connection lost", e);
        }
    }
}

/* The reader of a long line: the bytes of the line buffer. */
typedef struct line_src {
    const char *buf;
    size_t len;
} line_src_t;

static long read_line(void *ctx, size_t offset, void *buf, size_t len)
{
    const line_src_t *s = ctx;
    if (offset >= s->len) {
        return KMQTT_EINVAL;
    }
    if (len > s->len - offset) {
        len = s->len - offset;
    }
    memcpy(buf, s->buf + offset, len);
    return (long)len;
}

/* A message larger than the send buffer: its payload read from msg as it
 * leaves, and waited for (msg is the line buffer, used again next). */
static int publish_long(pub_t *p, const void *msg, size_t len)
{
    const tool_opts_t *o = &p->o;
    uint64_t end = tool_now_ms() + PUB_ACK_TIMEOUT_MS;
    line_src_t src;
    kmqtt_publish_result_t r;
    kmqtt_err_t e;

    if (o->v5.has_pub) {
        tool_error("publish: a line of %lu bytes is longer than %u with -D publish properties",
                   (unsigned long)len, PUB_LINE_MAX);
        return TOOL_EXIT_USAGE;
    }
    src.buf = msg;
    src.len = len;
    memset(&r, 0, sizeof r);
    for (;;) {
        e = kmqtt_publish_reader(p->c, o->topics[0], len, read_line, &src, o->qos, o->retain, &r);
        if (e != KMQTT_ELIMIT || tool_stop_requested() || tool_now_ms() >= end) {
            break;
        }
        e = kmqtt_run(p->c, PUB_TICK_MS);
        if (e != KMQTT_OK) {
            return tool_lost("connection lost", e);
        }
    }
    if (e != KMQTT_OK) {
        return tool_lost("publish", e);
    }
    p->sent++;
    tool_debug(o, "PUBLISH '%s' qos %u retain %d, %lu bytes in pieces, packet id %u", o->topics[0],
               (unsigned)o->qos, o->retain ? 1 : 0, (unsigned long)len, (unsigned)r.packet_id);
    /* The line buffer is the payload until it has left (QoS 0) or was
     * acknowledged (QoS 1/2: a resend reads it again). */
    e = o->qos == 0 ? kmqtt_flush(p->c, PUB_ACK_TIMEOUT_MS)
                    : kmqtt_publish_wait(p->c, r.packet_id, PUB_ACK_TIMEOUT_MS, NULL);
    if (e != KMQTT_OK && !(e == KMQTT_ECANCELED && tool_stop_requested())) {
        return tool_lost("publish", e);
    }
    return TOOL_CONTINUE;
}

static int publish_one(pub_t *p, const void *msg, size_t len)
{
    const tool_opts_t *o = &p->o;
    uint64_t end = tool_now_ms() + PUB_ACK_TIMEOUT_MS;
    kmqtt_publish_result_t r;
    kmqtt_err_t e;

    if (len > p->tx_room) {
        return publish_long(p, msg, len);
    }
    memset(&r, 0, sizeof r);
    for (;;) {
        /* -D publish: the same message with 5.0 properties. */
        e = kmqtt_publish(p->c, o->topics[0], msg, len, o->qos, o->retain,
                          o->v5.has_pub ? &o->v5.pub : NULL, &r);
        if (e != KMQTT_ELIMIT || tool_stop_requested()) {
            break;
        }
        /* The send buffer or the QoS 1/2 window is full: run the loop so
         * the socket drains and acks come in, then try again. */
        if (tool_now_ms() >= end) {
            tool_error("publish: no room to send within %u s (broker not reading or acking)",
                       PUB_ACK_TIMEOUT_MS / 1000u);
            return TOOL_EXIT_LOST;
        }
        e = kmqtt_run(p->c, PUB_TICK_MS);
        if (e != KMQTT_OK) {
            return tool_lost("connection lost", e);
        }
    }
    if (e == KMQTT_ELIMIT) {
        return TOOL_CONTINUE; /* interrupted by a signal while waiting */
    }
    if (e == KMQTT_ETOOBIG) {
        tool_error("publish: a message of %lu bytes does not fit the client's buffers",
                   (unsigned long)len);
        return TOOL_EXIT_LOST;
    }
    if (e != KMQTT_OK) {
        return tool_lost("publish", e);
    }
    p->sent++;
    tool_debug(o, "PUBLISH '%s' qos %u retain %d, %lu bytes, packet id %u", o->topics[0],
               (unsigned)o->qos, o->retain ? 1 : 0, (unsigned long)len, (unsigned)r.packet_id);
    /* Push the bytes out now so QoS 0 messages leave before DISCONNECT. */
    e = kmqtt_run(p->c, 0);
    if (e != KMQTT_OK) {
        return tool_lost("connection lost", e);
    }
    return TOOL_CONTINUE;
}

static int publish_repeated(pub_t *p, const char *msg, size_t len)
{
    unsigned long i;
    for (i = 0; i < p->o.repeat && !tool_stop_requested(); i++) {
        int rc;
        if (i > 0 && p->o.repeat_delay_ms > 0) {
            rc = run_for(p, p->o.repeat_delay_ms);
            if (rc != TOOL_CONTINUE) {
                return rc;
            }
            if (tool_stop_requested()) {
                break;
            }
        }
        rc = publish_one(p, msg, len);
        if (rc != TOOL_CONTINUE) {
            return rc;
        }
    }
    return TOOL_CONTINUE;
}

/* Publishes each complete line in buf[0..*have) and keeps the unfinished
 * tail at the front. */
static int publish_lines(pub_t *p, char *buf, size_t *have)
{
    size_t start = 0;
    for (;;) {
        char *nl = memchr(buf + start, '\n', *have - start);
        int rc;
        if (nl == NULL) {
            break;
        }
        rc = publish_one(p, buf + start, (size_t)(nl - (buf + start)));
        if (rc != TOOL_CONTINUE) {
            return rc;
        }
        start = (size_t)(nl - buf) + 1u;
    }
    if (start > 0) {
        memmove(buf, buf + start, *have - start);
        *have -= start;
    }
    return TOOL_CONTINUE;
}

/* -l: reads stdin without blocking the loop, so keepalive and acks go on
 * while the producer is quiet. */
static int publish_stdin_lines(pub_t *p)
{
    size_t have = 0, cap = PUB_LINE_MAX;
    int rc = TOOL_CONTINUE;
    char *buf = malloc(cap);
    if (buf == NULL) {
        tool_error("out of memory");
        return TOOL_EXIT_USAGE;
    }
    while (rc == TOOL_CONTINUE && !tool_stop_requested()) {
        struct pollfd pfd;
        int r;
        kmqtt_err_t e;
        pfd.fd = STDIN_FILENO;
        pfd.events = POLLIN;
        pfd.revents = 0;
        r = poll(&pfd, 1, (int)PUB_TICK_MS);
        if (r < 0 && errno != EINTR) {
            tool_error("stdin: %s", strerror(errno));
            rc = TOOL_EXIT_USAGE;
            break;
        }
        if (r > 0 && have == cap) {
            /* A line longer than the buffer: grow it, up to --max-size
             * (and its newline). */
            size_t ncap = cap * 2u;
            char *nbuf;
            if (cap > p->o.max_size) {
                tool_error("stdin: a line is longer than %lu bytes (--max-size)",
                           (unsigned long)p->o.max_size);
                rc = TOOL_EXIT_USAGE;
                break;
            }
            if (ncap > p->o.max_size + 1u) {
                ncap = p->o.max_size + 1u;
            }
            nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                tool_error("out of memory for a line of %lu bytes", (unsigned long)ncap);
                rc = TOOL_EXIT_USAGE;
                break;
            }
            buf = nbuf;
            cap = ncap;
        }
        if (r > 0) {
            ssize_t n = read(STDIN_FILENO, buf + have, cap - have);
            if (n < 0 && errno != EINTR && errno != EAGAIN) {
                tool_error("stdin: %s", strerror(errno));
                rc = TOOL_EXIT_USAGE;
                break;
            }
            if (n == 0) {
                /* End of input: an unterminated last line is still a line. */
                if (have > 0) {
                    rc = publish_one(p, buf, have);
                }
                break;
            }
            if (n > 0) {
                have += (size_t)n;
                rc = publish_lines(p, buf, &have);
                continue;
            }
        }
        e = kmqtt_run(p->c, 0);
        if (e != KMQTT_OK) {
            rc = tool_lost("connection lost", e);
        }
    }
    free(buf);
    return rc;
}

static int finish(pub_t *p)
{
    kmqtt_err_t e;
    if (p->o.qos == 0 || tool_stop_requested()) {
        return TOOL_CONTINUE;
    }
    e = kmqtt_publish_wait_all(p->c, PUB_ACK_TIMEOUT_MS);
    if (e == KMQTT_ETIMEDOUT) {
        tool_error("timed out waiting for the broker to acknowledge");
        return TOOL_EXIT_LOST;
    }
    if (e != KMQTT_OK && e != KMQTT_ENOTFOUND) {
        return tool_lost("waiting for acknowledgements", e);
    }
    if (p->failed > 0) {
        if (p->first_fail_err != KMQTT_OK) {
            tool_error("%lu of %lu messages failed: %s", p->failed, p->sent,
                       kmqtt_strerror(p->first_fail_err));
        } else {
            tool_error("%lu of %lu messages refused by the broker: %s (reason code 0x%02x)",
                       p->failed, p->sent, tool_reason_text(p->first_fail_reason),
                       (unsigned)p->first_fail_reason);
        }
        return TOOL_EXIT_LOST;
    }
    return TOOL_CONTINUE;
}

int main(int argc, char **argv)
{
    static pub_t p; /* static: tool_opts_t holds the URL and id buffers */
    kmqtt_client_options_t co;
    char *owned = NULL;
    const char *msg = NULL;
    size_t len = 0, need;
    int rc = tool_parse(&p.o, TOOL_PUB, argc, argv);

    if (rc != TOOL_CONTINUE) {
        return rc;
    }
    tool_signals_install();
    rc = load_message(&p.o, &owned, &msg, &len);
    if (rc != TOOL_CONTINUE) {
        return rc;
    }

    tool_client_options(&p.o, &co);
    /* Room for the largest message plus its header and topic. */
    need = (p.o.msg_src == TOOL_MSG_LINES ? PUB_LINE_MAX : len) + strlen(p.o.topics[0]) + 64u;
    if (need > co.tx_buffer_size) {
        co.tx_buffer_size = need;
    }
    p.tx_room = p.o.msg_src == TOOL_MSG_LINES ? PUB_LINE_MAX : (size_t)-1;
    if (co.tx_buffer_size > co.store_size) {
        co.store_size = co.tx_buffer_size;
    }
    co.on_publish_done = on_publish_done;
    co.ctx = &p;

    rc = tool_client_create(&p.o, &co, &p.c);
    tool_forget_credentials(&p.o); /* the client has its copy (or failed) */
    if (rc != TOOL_CONTINUE) {
        free(owned);
        return rc;
    }
    rc = tool_connect(&p.o, p.c);
    if (rc == TOOL_CONTINUE) {
        rc = p.o.msg_src == TOOL_MSG_LINES ? publish_stdin_lines(&p)
                                           : publish_repeated(&p, msg, len);
        if (rc == TOOL_CONTINUE) {
            rc = finish(&p);
        }
        tool_debug(&p.o, "DISCONNECT");
        tool_disconnect(&p.o, p.c);
    }
    kmqtt_client_destroy(p.c);
    free(owned);
    return rc == TOOL_CONTINUE ? TOOL_EXIT_OK : rc;
}
