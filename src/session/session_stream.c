/*
 * A PUBLISH larger than rx, handed over in pieces (issue #19): a device
 * with a 1 KB receive buffer can take a firmware image and write it to
 * flash as it arrives. The topic, packet id and properties are read in
 * place as for any packet (ks_publish_head); the payload then passes
 * through rx run by run. The answer waits for the end, so a message is
 * acknowledged only once the application had every byte of it; a
 * connection lost before that leaves it unacknowledged, and the server
 * sends it again (MQTT-4.4.0-1).
 */
#include "session_internal.h"

#if KMQTT_CFG_STREAM

#define PHASE_GIVE 1u /* pieces go to the application */
#define PHASE_SKIP 2u /* a QoS 2 copy already delivered: read past it */

/* Drops n bytes from the front of rx at once (nothing reported of them). */
static void rx_drop(kmqtt_session_t *s, size_t n)
{
    s->rx_len -= (uint32_t)n;
    memmove(s->rx, s->rx + n, s->rx_len);
}

#if KMQTT_CFG_V5
/* Bytes of a Variable Byte Integer at p (at most 4), or 0 when the bytes
 * in hand end before it does; *v its value. A fifth byte is malformed:
 * *v = UINT32_MAX. */
static size_t varint_at(const uint8_t *p, size_t avail, uint32_t *v)
{
    size_t n = 0;
    *v = 0;
    while (n < avail) {
        *v |= (uint32_t)(p[n] & 0x7Fu) << (7u * n);
        if (!(p[n++] & 0x80u))
            return n;
        if (n == 4) {
            *v = UINT32_MAX;
            return 4;
        }
    }
    return 0;
}
#endif

/* The length of the PUBLISH's fixed and variable header (up to its
 * payload), from the bytes in rx: 0 when more must arrive first. The
 * codec's rules are applied to those bytes by ks_publish_head afterwards. */
static size_t head_len(const kmqtt_session_t *s, size_t at)
{
    const uint8_t *p = s->rx;
    if (s->rx_len < at + 2u)
        return 0;
    at += 2u + ks_get_u16(p + at) + (((p[0] >> 1) & 3u) != 0 ? 2u : 0u);
#if KMQTT_CFG_V5
    if (KS_V5(s)) {
        uint32_t props;
        size_t n = s->rx_len > at ? varint_at(p + at, s->rx_len - at, &props) : 0;
        if (n == 0)
            return 0;
        if (props == UINT32_MAX)
            return SIZE_MAX; /* malformed: ks_publish_head names it */
        at += n + props;
    }
#endif
    return at;
}

/* A PUBLISH that does not fit rx begins: its head is read once it is all
 * in rx, then BEGIN (or, for a QoS 2 copy, silence until its end). */
static int begin(kmqtt_session_t *s, size_t total, kmqtt_session_event_t *ev)
{
    size_t fixed = 2;
    while (s->rx[fixed - 1] & 0x80u)
        fixed++;
    size_t head = head_len(s, fixed);
    if (head == 0 && s->rx_len < s->rx_size)
        return KS_STALL; /* the head is not all in rx yet */
    if (head == SIZE_MAX || (head != 0 && head > total)) {
        /* A head running past its packet: the parse names the fault. */
        size_t have = s->rx_len < total ? s->rx_len : total;
        int r = ks_publish_head(s, s->rx[0], s->rx + fixed, s->rx + have, ev);
        /* r == KMQTT_OK never: a head ending past `have` cannot parse within it. */
        return r != KMQTT_OK ? r : KMQTT_ETRUNCATED;
    }
    if (head == 0 || head > s->rx_size) {
        /* Valid MQTT within the Maximum Packet Size we advertised, but its
         * topic and properties do not fit the buffer they are read in:
         * 5.0 0x83 Implementation specific error (3.14.2.1). */
        return ks_fail(s, KMQTT_ETOOBIG, 0x83u);
    }
    if (head > s->rx_len)
        return KS_STALL;
    int r = ks_publish_head(s, s->rx[0], s->rx + fixed, s->rx + head, ev);
    if (r != KMQTT_OK)
        return r;
    kmqtt_session_msg_t *m = &ev->msg;
    s->st_total = (uint32_t)(total - head);
    s->st_left = s->st_total;
    s->st_id = m->packet_id;
    s->st_qos = m->qos;
    s->st_phase = PHASE_GIVE;
#if KMQTT_CFG_QOS2
    if (m->qos == 2 && ks_held(s, m->packet_id)) {
        s->st_phase = PHASE_SKIP; /* MQTT-4.3.3-2: not delivered again */
        rx_drop(s, head);
        return KS_DONE;
    }
#endif
    ev->type = KMQTT_SESSION_EV_MESSAGE_BEGIN;
    m->payload = NULL;
    m->payload_len = s->st_total;
    ev->total = s->st_total;
    s->rx_done = (uint32_t)head;
    return KS_REPORT;
}

static void piece_ev(const kmqtt_session_t *s, kmqtt_session_event_type_t type,
                     kmqtt_session_event_t *ev)
{
    ks_ev(ev, type);
    ev->packet_id = s->st_id;
    ev->msg.packet_id = s->st_id;
    ev->msg.qos = s->st_qos;
    ev->total = s->st_total;
    ev->offset = s->st_total - s->st_left;
}

/* The last piece was handed over: the answer goes now (MQTT-4.3.2-4,
 * MQTT-4.3.3-9 need it after the message is ours), then END. */
static int end(kmqtt_session_t *s, kmqtt_session_event_t *ev)
{
    if (s->st_qos == 1 && !ks_send_ack(s, 0x40u, s->st_id, 0))
        return KS_STALL;
#if KMQTT_CFG_QOS2
    if (s->st_qos == 2) {
        if (!ks_send_ack(s, 0x50u, s->st_id, 0))
            return KS_STALL;
        if (s->st_phase == PHASE_GIVE)
            ks_hold(s, s->st_id);
    }
#endif
    uint8_t phase = s->st_phase;
    s->st_phase = 0;
    if (phase == PHASE_SKIP)
        return KS_DONE;
    piece_ev(s, KMQTT_SESSION_EV_MESSAGE_END, ev);
    return KS_REPORT;
}

int ks_stream(kmqtt_session_t *s, kmqtt_session_event_t *ev)
{
    if (s->st_phase == 0) {
        size_t total;
        /* rx_len == 0 never true: with st_phase 0 next_event calls here only on bytes. */
        if (s->max_in <= s->rx_size || s->rx_len == 0 || (s->rx[0] >> 4) != KMQTT_PUBLISH)
            return KS_PASS;
        kmqtt_err_t err = kmqtt_packet_frame(s->rx, s->rx_len, s->max_in, &total);
        if (err < 0)
            return err;
        if (total <= s->rx_size) /* whole, or not yet known to be larger */
            return KS_PASS;
        return begin(s, total, ev);
    }
    if (s->st_left == 0)
        return end(s, ev);
    if (s->rx_len == 0)
        return KS_STALL;
    size_t n = s->rx_len < s->st_left ? s->rx_len : s->st_left;
    if (s->st_phase == PHASE_SKIP) {
        s->st_left -= (uint32_t)n;
        rx_drop(s, n);
        return KS_DONE;
    }
    piece_ev(s, KMQTT_SESSION_EV_MESSAGE_CHUNK, ev);
    ev->msg.payload = s->rx;
    ev->msg.payload_len = n;
    s->st_left -= (uint32_t)n;
    s->rx_done = (uint32_t)n;
    return KS_REPORT;
}

void ks_stream_lost(kmqtt_session_t *s)
{
    if (s->st_phase == PHASE_GIVE)
        s->st_cut = 1;
    s->st_phase = 0;
}

bool ks_stream_cut(kmqtt_session_t *s, kmqtt_session_event_t *ev)
{
    if (!s->st_cut)
        return false;
    s->st_cut = 0;
    piece_ev(s, KMQTT_SESSION_EV_MESSAGE_ABORT, ev);
    return true;
}

#endif

bool kmqtt_session_in_pieces(const kmqtt_session_t *s)
{
#if KMQTT_CFG_STREAM
    return s != NULL && s->st_phase == PHASE_GIVE;
#else
    (void)s;
    return false;
#endif
}
