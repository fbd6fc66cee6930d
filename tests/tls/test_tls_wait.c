/*
 * The TLS transports' wait() (tls_common.c: tls_io_wait) over a fake lower
 * transport: each event the caller waits for becomes the direction the TLS
 * library needs for that call, and the lower transport's readiness comes
 * back as the caller's event. Issue #14: a write that needed to read waited
 * for a writable socket, writable at once, and the loop spun; a read that
 * must first write an alert must wait for writable, or both sides can stall.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tls_common.h"

typedef struct fake {
    unsigned asked;     /* the events of the last wait() */
    unsigned available; /* what is ready below */
} fake_t;

static kmqtt_err_t f_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    fake_t *f = ctx;
    (void)timeout_ms;
    f->asked = events;
    *ready = (f->available & events) | (f->available & KMQTT_WAIT_WOKEN);
    return KMQTT_OK;
}

static kmqtt_transport_t lower_of(fake_t *f)
{
    kmqtt_transport_t t;
    memset(&t, 0, sizeof(t));
    t.ctx = f;
    t.wait = f_wait;
    return t;
}

static unsigned wait_for(fake_t *f, const tls_io_t *io, unsigned events, unsigned available)
{
    kmqtt_transport_t t = lower_of(f);
    unsigned ready = 0xFFu;
    f->available = available;
    assert_int_equal(tls_io_wait(&t, io, events, 10, &ready), KMQTT_OK);
    return ready;
}

static void test_plain_directions(void **state)
{
    fake_t f = {0, 0};
    tls_io_t io;
    (void)state;
    tls_io_reset(&io);
    assert_int_equal(io.owed, 0);
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_WRITE, KMQTT_WAIT_WRITE), KMQTT_WAIT_WRITE);
    assert_int_equal(f.asked, KMQTT_WAIT_WRITE);
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_READ, KMQTT_WAIT_WRITE), 0);
    assert_int_equal(f.asked, KMQTT_WAIT_READ);
    assert_int_equal(
        wait_for(&f, &io, KMQTT_WAIT_READ | KMQTT_WAIT_WRITE, KMQTT_WAIT_READ | KMQTT_WAIT_WRITE),
        KMQTT_WAIT_READ | KMQTT_WAIT_WRITE);
    /* events 0: a wake is cleared, nothing else asked */
    assert_int_equal(wait_for(&f, &io, 0, KMQTT_WAIT_WOKEN | KMQTT_WAIT_WRITE), KMQTT_WAIT_WOKEN);
    assert_int_equal(f.asked, 0);
}

/* A write that must first read: a writable socket is no reason to retry it. */
static void test_write_that_needs_a_read_waits_for_readable(void **state)
{
    fake_t f = {0, 0};
    tls_io_t io;
    (void)state;
    tls_io_reset(&io);
    io.send_want = KMQTT_WAIT_READ;
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_WRITE, KMQTT_WAIT_WRITE), 0);
    assert_int_equal(f.asked, KMQTT_WAIT_READ);
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_WRITE, KMQTT_WAIT_READ), KMQTT_WAIT_WRITE);
    /* the caller also waits to read: both are served by readable */
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_READ | KMQTT_WAIT_WRITE, KMQTT_WAIT_READ),
                     KMQTT_WAIT_READ | KMQTT_WAIT_WRITE);
    assert_int_equal(f.asked, KMQTT_WAIT_READ);
}

/* A read that must first write (OpenSSL: an alert or a key update it
 * cannot read past): only writable lets it go on. */
static void test_read_that_needs_a_write_waits_for_writable(void **state)
{
    fake_t f = {0, 0};
    tls_io_t io;
    (void)state;
    tls_io_reset(&io);
    io.recv_want = KMQTT_WAIT_WRITE;
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_READ, KMQTT_WAIT_READ), 0);
    assert_int_equal(f.asked, KMQTT_WAIT_WRITE);
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_READ, KMQTT_WAIT_WRITE), KMQTT_WAIT_READ);
}

/* mbed TLS reads on while an alert waits: either direction is progress. */
static void test_read_with_an_alert_waiting_takes_either(void **state)
{
    fake_t f = {0, 0};
    tls_io_t io;
    (void)state;
    tls_io_reset(&io);
    io.recv_want = KMQTT_WAIT_READ | KMQTT_WAIT_WRITE;
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_READ, KMQTT_WAIT_WRITE), KMQTT_WAIT_READ);
    assert_int_equal(f.asked, KMQTT_WAIT_READ | KMQTT_WAIT_WRITE);
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_READ, KMQTT_WAIT_READ), KMQTT_WAIT_READ);
    assert_int_equal(wait_for(&f, &io, KMQTT_WAIT_READ, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_directions),
        cmocka_unit_test(test_write_that_needs_a_read_waits_for_readable),
        cmocka_unit_test(test_read_that_needs_a_write_waits_for_writable),
        cmocka_unit_test(test_read_with_an_alert_waiting_takes_either),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
