/*
 * WebSocket transport: an RFC 6455 client over any lower kmqtt_transport_t
 * (TCP, or TLS for wss://). Written here rather than taken from a library so
 * that it runs on every port (only string.h, stdint.h, stddef.h, stdbool.h)
 * and allocates once, at create: one block holds the state, the receive
 * buffer (handshake response, frame headers) and the send scratch where
 * outgoing payload is masked. See docs/websocket.md.
 *
 * Sending keeps the send contract of port.h on both sides. A send() that
 * finds no frame open starts one masked binary frame whose length is the
 * whole len offered: by the contract those are the caller's next len bytes,
 * whatever it offers later. The frame is built into the send scratch
 * (header, mask, masked payload; a frame longer than the scratch a piece at
 * a time, each piece from the caller's bytes when the one before has gone)
 * and a built piece is kept as it is until the lower transport has taken all
 * of it: after "would block" it is offered again unchanged, because TLS below
 * may already hold it encrypted and will send that, not a rebuilt one (issue
 * #14: a new mask and length for the same bytes corrupted wss://). The
 * caller is told only of payload the lower transport really took. Control
 * frames we owe (pong, close) go out between data frames, never inside one
 * and never in place of one already offered.
 *
 * Receiving: frame headers and control payloads are parsed incrementally
 * from the receive buffer; data payload goes straight to the caller's
 * buffer, so max_frame bounds frames without costing memory.
 */
#include <string.h>

#include "kmqtt/transport.h"
#include "ws_internal.h"

#define WS_DEFAULT_PATH      "/mqtt"
#define WS_DEFAULT_MAX_FRAME 65536u
#define WS_DEFAULT_BUFFER    1024u
#define WS_MIN_BUFFER        256u
#define WS_HOST_MAX          300u /* "[" host "]:" port for a host of up to 255 bytes */

#define OP_CONT   0x0u
#define OP_TEXT   0x1u
#define OP_BINARY 0x2u
#define OP_CLOSE  0x8u
#define OP_PING   0x9u
#define OP_PONG   0xAu

#define CLOSE_NORMAL   1000u
#define CLOSE_PROTOCOL 1002u

enum rx_state { RX_HDR, RX_DATA, RX_CTRL };

typedef struct ws {
    kmqtt_mem_t *mem;
    kmqtt_transport_t lower;
    const char *path;        /* inside this block */
    const char *host_header; /* inside this block, or NULL */
    uint64_t max_frame;
    uint8_t *rx; /* raw bytes from lower; unparsed ones at rx[rx_off], rx_len of them */
    size_t rx_cap, rx_off, rx_len;
    uint8_t *tx; /* handshake request; masked payload on its way out */
    size_t tx_cap;
    bool open;
    kmqtt_err_t rx_err; /* sticky: the stream ended (close frame, framing error, lower) */
    kmqtt_err_t tx_err; /* sticky: the lower transport failed while sending */
    bool close_sent;    /* nothing may follow our close frame (RFC 6455 5.5.1) */

    /* incoming */
    enum rx_state state;
    uint8_t hdr[10]; /* server frames carry no mask: at most 2 + 8 header bytes */
    size_t hdr_len;
    uint64_t rx_left; /* payload bytes left in the current frame */
    uint8_t rx_op;
    bool in_msg; /* a fragmented message is open: only continuations may come */
    uint8_t ctrl[125];
    size_t ctrl_len;

    /* outgoing data frame: tx[t_off..t_len) was built (and maybe offered)
     * and not yet taken by the lower transport; its first t_hdr bytes are
     * what is left of the frame header */
    size_t t_off, t_len, t_hdr;
    uint64_t d_unbuilt; /* payload bytes of the frame not yet built into tx */
    uint8_t d_mask[4];
    unsigned d_mi; /* mask index of the next payload byte to build */
    size_t owed;   /* bytes of the caller's last offer not taken (port.h) */

    /* outgoing control frame being written, and the ones owed */
    uint8_t c_buf[2 + 4 + 125];
    size_t c_len, c_off;
    bool pong_q, close_q;
    uint8_t pong_data[125];
    size_t pong_len;
    uint16_t close_code; /* 0: a close frame without a body */

    /* masking keys: RFC 6455 5.3 wants a fresh, unpredictable one per frame;
     * taken 4 bytes at a time from a pool filled by the platform's entropy. */
    uint8_t pool[64];
    size_t pool_left;
} ws_t;

/* ------------------------------------------------------------- helpers */

static uint32_t remaining(uint64_t deadline)
{
    uint64_t now = kmqtt_port_now_ms();

    if (now >= deadline)
        return 0;
    return deadline - now > UINT32_MAX ? UINT32_MAX : (uint32_t)(deadline - now);
}

static kmqtt_err_t next_mask(ws_t *w, uint8_t m[4])
{
    if (w->pool_left < 4) {
        if (kmqtt_port_random(w->pool, sizeof(w->pool)) != KMQTT_OK)
            return KMQTT_EIO;
        w->pool_left = sizeof(w->pool);
    }
    memcpy(m, w->pool + sizeof(w->pool) - w->pool_left, 4);
    w->pool_left -= 4;
    return KMQTT_OK;
}

static void reset(ws_t *w)
{
    w->open = false;
    w->rx_off = w->rx_len = 0;
    w->rx_err = KMQTT_OK;
    w->tx_err = KMQTT_OK;
    w->close_sent = false;
    w->state = RX_HDR;
    w->hdr_len = 0;
    w->rx_left = 0;
    w->in_msg = false;
    w->ctrl_len = 0;
    w->t_off = w->t_len = w->t_hdr = 0;
    w->d_unbuilt = 0;
    w->owed = 0;
    w->c_len = w->c_off = 0;
    w->pong_q = w->close_q = false;
}

/* A data frame was begun (offered, maybe refused) and is not all taken. */
static bool data_open(const ws_t *w)
{
    return w->t_off < w->t_len || w->d_unbuilt > 0;
}

/* ------------------------------------------------------ control frames */

static kmqtt_err_t build_ctrl(ws_t *w, unsigned op, const uint8_t *data, size_t len)
{
    uint8_t *m = w->c_buf + 2;
    size_t i;

    if (next_mask(w, m) != KMQTT_OK)
        return KMQTT_EIO;
    w->c_buf[0] = (uint8_t)(0x80u | op);
    w->c_buf[1] = (uint8_t)(0x80u | len);
    for (i = 0; i < len; i++)
        w->c_buf[6 + i] = (uint8_t)(data[i] ^ m[i & 3]);
    w->c_len = 6 + len;
    w->c_off = 0;
    return KMQTT_OK;
}

/* Writes owed control frames while no data frame is half written. Returns
 * KMQTT_OK (maybe with a frame still waiting for room) or the lower error. */
static kmqtt_err_t ctrl_flush(ws_t *w)
{
    for (;;) {
        if (w->tx_err != KMQTT_OK)
            return w->tx_err;
        if (w->c_off < w->c_len) {
            long n = w->lower.send(w->lower.ctx, w->c_buf + w->c_off, w->c_len - w->c_off);
            if (n < 0) {
                w->tx_err = (kmqtt_err_t)n;
                return w->tx_err;
            }
            if (n == 0)
                return KMQTT_OK;
            w->c_off += (size_t)n;
            continue;
        }
        w->c_len = w->c_off = 0;
        if (data_open(w) || w->close_sent) {
            if (w->close_sent)
                w->pong_q = w->close_q = false;
            return KMQTT_OK;
        }
        if (w->close_q) {
            uint8_t body[2];
            body[0] = (uint8_t)(w->close_code >> 8);
            body[1] = (uint8_t)w->close_code;
            w->close_q = w->pong_q = false;
            w->close_sent = true;
            if (build_ctrl(w, OP_CLOSE, body, w->close_code != 0 ? 2u : 0u) != KMQTT_OK)
                return KMQTT_OK; /* no entropy: the close is best effort */
        } else if (w->pong_q) {
            w->pong_q = false;
            if (build_ctrl(w, OP_PONG, w->pong_data, w->pong_len) != KMQTT_OK) {
                w->tx_err = KMQTT_EIO;
                return w->tx_err;
            }
        } else {
            return KMQTT_OK;
        }
    }
}

static bool ctrl_waiting(const ws_t *w)
{
    return w->c_off < w->c_len || (!data_open(w) && !w->close_sent && (w->pong_q || w->close_q));
}

static void queue_close(ws_t *w, uint16_t code)
{
    if (!w->close_sent) {
        w->close_q = true;
        w->close_code = code;
    }
}

/* ------------------------------------------------------------ receiving */

/* RFC 6455 7.1.7: fail the connection; we still say why, best effort. */
static void fail(ws_t *w)
{
    w->rx_err = KMQTT_EWS_PROTOCOL;
    queue_close(w, CLOSE_PROTOCOL);
}

static size_t hdr_need(const ws_t *w)
{
    unsigned l7;

    if (w->hdr_len < 2)
        return 2;
    l7 = w->hdr[1] & 0x7Fu;
    return l7 == 126 ? 4 : l7 == 127 ? 10 : 2;
}

static void ctrl_done(ws_t *w)
{
    w->state = RX_HDR;
    w->hdr_len = 0;
    if (w->rx_op == OP_PING) {
        /* Answer the latest ping only (RFC 6455 5.5.3 allows it). */
        memcpy(w->pong_data, w->ctrl, w->ctrl_len);
        w->pong_len = w->ctrl_len;
        w->pong_q = true;
    } else if (w->rx_op == OP_CLOSE) {
        if (w->ctrl_len == 1) {
            fail(w);
            return;
        }
        /* Echo the server's status code (RFC 6455 5.5.1), then the stream ends. */
        queue_close(w, w->ctrl_len >= 2 ? (uint16_t)((w->ctrl[0] << 8) | w->ctrl[1]) : 0u);
        w->rx_err = KMQTT_ECLOSED;
    }
    /* A pong answers nothing we asked: ignored (RFC 6455 5.5.3). */
}

/* A frame header is complete: check it against RFC 6455 5.2 and MQTT. */
static void frame_begin(ws_t *w)
{
    unsigned b0 = w->hdr[0], b1 = w->hdr[1], op = b0 & 0x0Fu, l7 = b1 & 0x7Fu;
    bool fin = (b0 & 0x80u) != 0;
    uint64_t len = l7;
    size_t i;

    if (l7 == 126) {
        len = ((uint64_t)w->hdr[2] << 8) | w->hdr[3];
        if (len < 126) {
            fail(w); /* not the minimal encoding (5.2) */
            return;
        }
    } else if (l7 == 127) {
        len = 0;
        for (i = 2; i < 10; i++)
            len = (len << 8) | w->hdr[i];
        if ((len >> 63) != 0 || len <= 0xFFFFu) {
            fail(w);
            return;
        }
    }
    if ((b0 & 0x70u) != 0 || (b1 & 0x80u) != 0) {
        fail(w); /* reserved bits without an extension; a masked server frame (5.1) */
        return;
    }
    switch (op) {
    case OP_CONT:
    case OP_BINARY:
        /* A continuation needs an open message; a new message must not start
         * inside one (5.4). */
        if ((op == OP_CONT) != w->in_msg || len > w->max_frame) {
            fail(w);
            return;
        }
        w->in_msg = !fin;
        w->state = RX_DATA;
        w->rx_left = len;
        break;
    case OP_CLOSE:
    case OP_PING:
    case OP_PONG:
        if (!fin || len > 125) {
            fail(w); /* control frames are short and whole (5.5) */
            return;
        }
        w->state = RX_CTRL;
        w->rx_op = (uint8_t)op;
        w->rx_left = len;
        w->ctrl_len = 0;
        break;
    default:
        /* Text frames carry no MQTT (MQTT-6.0.0-1: binary frames only);
         * the rest are reserved opcodes. */
        fail(w);
        return;
    }
    if (w->rx_left == 0) {
        if (w->state == RX_CTRL)
            ctrl_done(w);
        w->state = RX_HDR;
        w->hdr_len = 0;
    }
}

/* Parses buffered bytes, copying data payload to out[*got .. len). */
static void consume(ws_t *w, uint8_t *out, size_t len, size_t *got)
{
    while (w->rx_len > 0 && *got < len && w->rx_err == KMQTT_OK) {
        const uint8_t *p = w->rx + w->rx_off;
        size_t n;

        if (w->state == RX_HDR) {
            n = hdr_need(w) - w->hdr_len;
            if (n > w->rx_len)
                n = w->rx_len;
            memcpy(w->hdr + w->hdr_len, p, n);
            w->hdr_len += n;
            if (w->hdr_len == hdr_need(w))
                frame_begin(w);
        } else {
            n = w->rx_len;
            if (n > w->rx_left)
                n = (size_t)w->rx_left;
            if (w->state == RX_DATA) {
                if (n > len - *got)
                    n = len - *got;
                memcpy(out + *got, p, n);
                *got += n;
            } else {
                memcpy(w->ctrl + w->ctrl_len, p, n);
                w->ctrl_len += n;
            }
            w->rx_left -= n;
            if (w->rx_left == 0) {
                if (w->state == RX_CTRL)
                    ctrl_done(w);
                w->state = RX_HDR;
                w->hdr_len = 0;
            }
        }
        w->rx_off += n;
        w->rx_len -= n;
    }
}

static long ws_recv(void *ctx, void *buf, size_t len)
{
    ws_t *w = ctx;
    uint8_t *out = buf;
    size_t got = 0;

    if (!w->open)
        return KMQTT_ENOTCONN;
    while (got < len && w->rx_err == KMQTT_OK) {
        long n;
        if (w->rx_len > 0) {
            consume(w, out, len, &got);
            continue;
        }
        if (w->state == RX_DATA && w->rx_left > 0) {
            /* Payload goes straight to the caller: no copy, no limit but theirs. */
            size_t want = len - got;
            if (want > w->rx_left)
                want = (size_t)w->rx_left;
            n = w->lower.recv(w->lower.ctx, out + got, want);
            if (n > 0) {
                got += (size_t)n;
                w->rx_left -= (uint64_t)n;
                if (w->rx_left == 0) {
                    w->state = RX_HDR;
                    w->hdr_len = 0;
                }
                continue;
            }
        } else {
            w->rx_off = 0;
            n = w->lower.recv(w->lower.ctx, w->rx, w->rx_cap);
            if (n > 0) {
                w->rx_len = (size_t)n;
                continue;
            }
        }
        if (n == 0)
            break;
        w->rx_err = (kmqtt_err_t)n;
    }
    /* Pongs and close replies leave at once when there is room; otherwise
     * wait() or the next send() finishes them. A send error shows on send. */
    (void)ctrl_flush(w);
    if (got > 0)
        return (long)got;
    return w->rx_err != KMQTT_OK ? (long)w->rx_err : 0;
}

/* -------------------------------------------------------------- sending */

/* Writes the header of a frame of len payload bytes into tx. */
static void start_frame(ws_t *w, size_t len)
{
    uint8_t *h = w->tx;
    size_t i = 2;
    uint64_t l = len;

    h[0] = 0x80u | OP_BINARY; /* FIN: MQTT needs no fragmentation of ours */
    if (l <= 125) {
        h[1] = (uint8_t)(0x80u | l);
    } else if (l <= 0xFFFFu) {
        h[1] = 0x80u | 126u;
        h[i++] = (uint8_t)(l >> 8);
        h[i++] = (uint8_t)l;
    } else {
        unsigned s;
        h[1] = 0x80u | 127u;
        for (s = 0; s < 8; s++)
            h[i++] = (uint8_t)(l >> (56 - 8 * s));
    }
    memcpy(h + i, w->d_mask, 4);
    w->t_off = 0;
    w->t_len = w->t_hdr = i + 4;
    w->d_unbuilt = l;
    w->d_mi = 0;
}

/* Masks the next payload bytes (src: the caller's first unreported byte)
 * into tx behind what is there, as many as fit. */
static void build_payload(ws_t *w, const uint8_t *src, size_t len)
{
    uint8_t m[4];
    uint8_t *out = w->tx + w->t_len;
    size_t pn = w->tx_cap - w->t_len, i;

    if (pn > len)
        pn = len;
    if (pn > w->d_unbuilt)
        pn = (size_t)w->d_unbuilt;
    /* The mask rotated to this byte's position: a plain i & 3 pattern the
     * compiler can vectorize. */
    for (i = 0; i < 4; i++)
        m[i] = w->d_mask[(w->d_mi + i) & 3u];
    for (i = 0; i < pn; i++)
        out[i] = (uint8_t)(src[i] ^ m[i & 3u]);
    w->t_len += pn;
    w->d_unbuilt -= pn;
    w->d_mi = (w->d_mi + (unsigned)(pn & 3u)) & 3u;
}

static long ws_send(void *ctx, const void *buf, size_t len)
{
    ws_t *w = ctx;
    size_t hdr, pn;
    long n;

    if (!w->open)
        return KMQTT_ENOTCONN;
    if (w->tx_err != KMQTT_OK)
        return w->tx_err;
    if (len < w->owed) {
        /* port.h: refused bytes come back whole. Fewer means the stream
         * we committed to (a frame's length) cannot be kept. */
        w->tx_err = KMQTT_EINVAL;
        return w->tx_err;
    }
    if (!data_open(w)) {
        kmqtt_err_t err = ctrl_flush(w);
        if (err != KMQTT_OK)
            return err;
        if (w->close_sent)
            return KMQTT_ECLOSED;
        if (w->c_len > 0 || len == 0) {
            w->owed = len;
            return 0; /* a control frame goes first and waits for room */
        }
        if (next_mask(w, w->d_mask) != KMQTT_OK) {
            w->tx_err = KMQTT_EIO;
            return w->tx_err;
        }
        start_frame(w, len);
        build_payload(w, buf, len);
    } else if (w->t_off == w->t_len) {
        /* The last piece is all taken: the next comes from the caller's
         * first unreported bytes, which buf starts with. */
        w->t_off = w->t_len = w->t_hdr = 0;
        build_payload(w, buf, len);
    }
    /* What was built, as it was built, from where the lower stopped. */
    n = w->lower.send(w->lower.ctx, w->tx + w->t_off, w->t_len - w->t_off);
    if (n < 0) {
        w->tx_err = (kmqtt_err_t)n;
        return n;
    }
    hdr = (size_t)n < w->t_hdr ? (size_t)n : w->t_hdr;
    w->t_hdr -= hdr;
    w->t_off += (size_t)n;
    pn = (size_t)n - hdr;
    if (!data_open(w))
        (void)ctrl_flush(w); /* a pong that waited for this frame */
    w->owed = len - pn;
    return (long)pn;
}

/* --------------------------------------------------------------- wait */

static kmqtt_err_t ws_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    ws_t *w = ctx;
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    unsigned want = events & (KMQTT_WAIT_READ | KMQTT_WAIT_WRITE);

    *ready = 0;
    if (!w->open)
        return w->lower.wait(w->lower.ctx, events, timeout_ms, ready);
    for (;;) {
        unsigned lev = want, got = 0;
        kmqtt_err_t err;

        if (ctrl_waiting(w) && ctrl_flush(w) != KMQTT_OK) {
            *ready = want; /* the next send() or recv() reports the error */
            return KMQTT_OK;
        }
        /* Bytes already here (or the end of the stream) are ready now: the
         * lower transport would not say so. */
        if ((want & KMQTT_WAIT_READ) != 0 && (w->rx_len > 0 || w->rx_err != KMQTT_OK)) {
            *ready = KMQTT_WAIT_READ;
            return KMQTT_OK;
        }
        if (ctrl_waiting(w))
            lev |= KMQTT_WAIT_WRITE;
        err = w->lower.wait(w->lower.ctx, lev, remaining(deadline), &got);
        if (err != KMQTT_OK)
            return err;
        if ((got & KMQTT_WAIT_WOKEN) != 0 || (got & want) != 0 || got == 0) {
            *ready = got & (want | KMQTT_WAIT_WOKEN);
            if (got != 0 || remaining(deadline) == 0 || timeout_ms == 0)
                return KMQTT_OK;
            continue; /* woke early with nothing: wait out the rest */
        }
        /* Only our own control frame had room: write it and wait on. */
        if (remaining(deadline) == 0) {
            (void)ctrl_flush(w);
            return KMQTT_OK;
        }
    }
}

/* --------------------------------------------------------------- open */

static kmqtt_err_t io_wait(ws_t *w, unsigned ev, uint64_t deadline)
{
    unsigned got = 0;
    uint32_t left = remaining(deadline);
    kmqtt_err_t err;

    if (left == 0)
        return KMQTT_ETIMEDOUT;
    err = w->lower.wait(w->lower.ctx, ev, left, &got);
    if (err != KMQTT_OK)
        return err;
    if ((got & KMQTT_WAIT_WOKEN) != 0)
        return KMQTT_ECANCELED;
    return KMQTT_OK;
}

/* The server closing instead of answering is a refused upgrade (e.g. a plain
 * MQTT listener). */
static kmqtt_err_t refused(long n)
{
    return n == KMQTT_ECLOSED ? KMQTT_EWS_HANDSHAKE : (kmqtt_err_t)n;
}

static kmqtt_err_t handshake(ws_t *w, size_t reqlen, const char key[WS_KEY_LEN], uint64_t deadline)
{
    size_t sent = 0, end;
    kmqtt_err_t err;
    long n;

    while (sent < reqlen) {
        n = w->lower.send(w->lower.ctx, w->tx + sent, reqlen - sent);
        if (n < 0)
            return refused(n);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        err = io_wait(w, KMQTT_WAIT_WRITE, deadline);
        if (err != KMQTT_OK)
            return err;
    }
    for (;;) {
        if (w->rx_len == w->rx_cap)
            return KMQTT_EWS_HANDSHAKE; /* a response head larger than the buffer */
        n = w->lower.recv(w->lower.ctx, w->rx + w->rx_len, w->rx_cap - w->rx_len);
        if (n < 0)
            return refused(n);
        if (n == 0) {
            err = io_wait(w, KMQTT_WAIT_READ, deadline);
            if (err != KMQTT_OK)
                return err;
            continue;
        }
        w->rx_len += (size_t)n;
        end = ws_head_end(w->rx, w->rx_len);
        if (end == 0)
            continue;
        err = ws_check_response(w->rx, end, key);
        if (err != KMQTT_OK)
            return err;
        /* Frames the server sent right behind its answer are ours to parse. */
        w->rx_off = end;
        w->rx_len -= end;
        return KMQTT_OK;
    }
}

static size_t put_num(char *out, unsigned v)
{
    char t[5];
    size_t n = 0, i;

    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    return n;
}

static kmqtt_err_t ws_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    ws_t *w = ctx;
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    uint8_t raw[16];
    char key[WS_KEY_LEN + 1], hh[WS_HOST_MAX];
    const char *host_header = w->host_header;
    size_t reqlen, hl;
    kmqtt_err_t err;

    if (w->open)
        return KMQTT_ESTATE;
    if (host == NULL)
        return KMQTT_EINVAL;
    if (host_header == NULL) {
        /* RFC 7230 5.4: an IPv6 literal goes in brackets. */
        bool v6 = strchr(host, ':') != NULL;
        hl = strlen(host);
        if (hl > 255)
            return KMQTT_EINVAL;
        reqlen = 0;
        if (v6)
            hh[reqlen++] = '[';
        memcpy(hh + reqlen, host, hl);
        reqlen += hl;
        if (v6)
            hh[reqlen++] = ']';
        hh[reqlen++] = ':';
        reqlen += put_num(hh + reqlen, port);
        hh[reqlen] = '\0';
        host_header = hh;
    }
    if (kmqtt_port_random(raw, sizeof(raw)) != KMQTT_OK)
        return KMQTT_EIO;
    (void)ws_base64(raw, sizeof(raw), key, sizeof(key));
    reqlen = ws_request((char *)w->tx, w->tx_cap, w->path, host_header, key);
    if (reqlen == 0)
        return KMQTT_EINVAL; /* cannot happen: create sized the buffer for it */
    err = w->lower.open(w->lower.ctx, host, port, timeout_ms);
    if (err != KMQTT_OK)
        return err;
    reset(w);
    err = handshake(w, reqlen, key, deadline);
    if (err != KMQTT_OK) {
        w->lower.close(w->lower.ctx);
        reset(w);
        return err;
    }
    w->open = true;
    return KMQTT_OK;
}

/* ------------------------------------------------------- close, destroy */

static void ws_wake(void *ctx)
{
    ws_t *w = ctx;
    w->lower.wake(w->lower.ctx);
}

static void ws_close(void *ctx)
{
    ws_t *w = ctx;

    if (w->open) {
        /* Best effort, one try: a close frame (1000) unless a data frame is
         * half written. A control frame already begun (or refused) goes
         * first, unchanged (port.h); the TCP close follows either way. */
        if (!data_open(w) && !w->close_sent && w->tx_err == KMQTT_OK) {
            queue_close(w, CLOSE_NORMAL);
            (void)ctrl_flush(w);
        }
        w->lower.close(w->lower.ctx);
    }
    reset(w);
}

static void ws_destroy(void *ctx)
{
    ws_t *w = ctx;
    kmqtt_mem_t *m = w->mem;

    ws_close(w);
    w->lower.destroy(w->lower.ctx);
    (void)kmqtt_mem_free(m, w);
}

/* ------------------------------------------------------------- create */

kmqtt_err_t kmqtt_ws_create(kmqtt_mem_t *m, const kmqtt_ws_options_t *o,
                            const kmqtt_transport_t *lower, kmqtt_transport_t *out)
{
    const char *path = WS_DEFAULT_PATH, *hh = NULL;
    size_t plen, hlen = 0, buf = WS_DEFAULT_BUFFER, txcap, need;
    uint64_t max_frame = WS_DEFAULT_MAX_FRAME;
    ws_t *w;
    uint8_t *p;

    if (m == NULL || lower == NULL || out == NULL || lower->open == NULL || lower->send == NULL ||
        lower->recv == NULL || lower->wait == NULL || lower->wake == NULL || lower->close == NULL ||
        lower->destroy == NULL)
        return KMQTT_EINVAL;
    if (o != NULL) {
        if (o->path != NULL)
            path = o->path;
        hh = o->host_header;
        if (o->max_frame != 0)
            max_frame = o->max_frame;
        if (o->buffer_size != 0)
            buf = o->buffer_size;
    }
    plen = strlen(path);
    if (hh != NULL)
        hlen = strlen(hh);
    /* A path must be an absolute request target without line breaks: it
     * goes verbatim into the request line. */
    if (path[0] != '/' || strpbrk(path, " \r\n") != NULL ||
        (hh != NULL && (hlen == 0 || strpbrk(hh, "\r\n") != NULL)) || buf < WS_MIN_BUFFER)
        return KMQTT_EINVAL;
    /* The send scratch must also hold the upgrade request. */
    need = 200 + plen + (hh != NULL ? hlen : WS_HOST_MAX);
    txcap = buf > need ? buf : need;
    w = kmqtt_mem_calloc(m, "ws",
                         sizeof(*w) + buf + txcap + plen + 1 + (hh != NULL ? hlen + 1 : 0));
    if (w == NULL)
        return KMQTT_ENOMEM;
    p = (uint8_t *)(w + 1);
    w->mem = m;
    w->lower = *lower;
    w->max_frame = max_frame;
    w->rx = p;
    w->rx_cap = buf;
    p += buf;
    w->tx = p;
    w->tx_cap = txcap;
    p += txcap;
    memcpy(p, path, plen + 1);
    w->path = (const char *)p;
    p += plen + 1;
    if (hh != NULL) {
        memcpy(p, hh, hlen + 1);
        w->host_header = (const char *)p;
    }
    reset(w);
    out->ctx = w;
    out->open = ws_open;
    out->send = ws_send;
    out->recv = ws_recv;
    out->wait = ws_wait;
    out->wake = ws_wake;
    out->close = ws_close;
    out->destroy = ws_destroy;
    return KMQTT_OK;
}
