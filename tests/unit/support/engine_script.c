#include "engine_script.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hex.h"

static void on_change(void *ctx, kmqtt_session_change_t what, uint16_t id, const uint8_t *bytes,
                      size_t len)
{
    et_t *t = ctx;
    (void)bytes;
    if (t->changes < 16) {
        t->change[t->changes] = what;
        t->change_id[t->changes] = id;
        t->change_len[t->changes] = len;
    }
    t->changes++;
}

void et_setup(et_t *t, uint8_t version)
{
    memset(t, 0, sizeof *t);
    kmqtt_session_config_init(&t->cfg);
    t->cfg.version = version;
    t->cfg.client_id = "dev1";
    t->cfg.ping_timeout_ms = 10000;
    t->cfg.max_inflight = 8;
    /* These tests script the classic order (the resend after the CONNACK);
     * the pipelined first flight has its own, test_engine_pipeline.c. */
    t->cfg.pipeline = false;
    t->bufs.rx = t->rx;
    t->bufs.rx_size = sizeof t->rx;
    t->bufs.tx = t->tx;
    t->bufs.tx_size = sizeof t->tx;
    t->bufs.store = t->store;
    t->bufs.store_size = sizeof t->store;
    t->bufs.inbound = t->inbound;
    t->bufs.inbound_max = ET_INBOUND;
    t->bufs.requests = t->req;
    t->bufs.max_requests = ET_REQUESTS;
}

kmqtt_err_t et_init(et_t *t)
{
    kmqtt_err_t err = kmqtt_session_init(&t->s, &t->cfg, &t->bufs);
    if (err == KMQTT_OK)
        kmqtt_session_set_change_hook(&t->s, on_change, t);
    return err;
}

void et_start(et_t *t, uint8_t version)
{
    et_setup(t, version);
    assert_int_equal(et_init(t), KMQTT_OK);
}

void et_connect(et_t *t, uint32_t now, bool sp, const char *props)
{
    char hex[256];
    assert_int_equal(kmqtt_session_start(&t->s, now), KMQTT_OK);
    et_drain(t, now);
    if (t->cfg.version == KMQTT_V5) {
        size_t n = (strlen(props) + 1) / 3; /* "aa bb" */
        /* (no %zx: the target's newlib printf lacks C99 size modifiers) */
        snprintf(hex, sizeof hex, "20 %02x %02x 00 %02x %s", (unsigned)(3 + n), sp ? 1 : 0,
                 (unsigned)n, props);
    } else {
        snprintf(hex, sizeof hex, "20 02 %02x 00", sp ? 1 : 0);
    }
    et_feed(t, hex, now);
    const kmqtt_session_event_t *ev = et_take(t, KMQTT_SESSION_EV_CONNACK, now);
    assert_int_equal(ev->reason_code, 0);
    assert_int_equal(ev->session_present, sp);
    assert_int_equal(kmqtt_session_state(&t->s), KMQTT_SESSION_CONNECTED);
}

void et_feed(et_t *t, const char *hex, uint32_t now)
{
    uint8_t buf[ET_RX_SIZE * 2];
    size_t n = hex_decode(hex, buf, sizeof buf), space;
    uint8_t *p = kmqtt_session_rx_space(&t->s, &space);
    if (n > space)
        fail_msg("%u bytes do not fit rx (%u free)", (unsigned)n, (unsigned)space);
    memcpy(p, buf, n);
    kmqtt_session_rx_commit(&t->s, n, now);
}

kmqtt_err_t et_next(et_t *t, uint32_t now)
{
    return kmqtt_session_next_event(&t->s, now, &t->ev);
}

const kmqtt_session_event_t *et_take_at(et_t *t, kmqtt_session_event_type_t type, uint32_t now,
                                        const char *file, int line)
{
    kmqtt_err_t err = et_next(t, now);
    if (err != KMQTT_OK)
        fail_msg("%s:%d: no event (%d), wanted type %d", file, line, (int)err, (int)type);
    if (t->ev.type != type)
        fail_msg("%s:%d: event %d, wanted %d", file, line, (int)t->ev.type, (int)type);
    return &t->ev;
}

void et_expect_sent_at(et_t *t, const char *hex, uint32_t now, const char *file, int line)
{
    uint8_t want[ET_TX_SIZE * 2];
    size_t n = hex_decode(hex, want, sizeof want);
    const uint8_t *buf;
    size_t have = kmqtt_session_tx_peek(&t->s, &buf);
    if (have != n || memcmp(buf, want, n) != 0) {
        char got[1024];
        snprintf(got, sizeof got, "%s", hex_format(buf, have));
        fail_msg("%s:%d: sent [%s], wanted [%s]", file, line, got, hex_format(want, n));
    }
    kmqtt_session_tx_consume(&t->s, have, now);
}

void et_drain(et_t *t, uint32_t now)
{
    const uint8_t *buf;
    size_t n;
    while ((n = kmqtt_session_tx_peek(&t->s, &buf)) != 0)
        kmqtt_session_tx_consume(&t->s, n, now);
}

const char *et_ack(uint8_t first, uint16_t id)
{
    static char bufs[4][16];
    static int slot;
    char *b = bufs[slot++ & 3];
    snprintf(b, 16, "%02x 02 %02x %02x", first, id >> 8, id & 0xff);
    return b;
}
