/*
 * The doorbell behind kmqtt_transport_t.wake() (see lwip_port.h).
 *
 * Why a socket and not a semaphore: lwip_poll() can only be woken by a
 * socket event, and polling a semaphore between short polls would wake an
 * idle device many times a second and still answer late. One UDP socket on
 * the loopback costs a netconn and a UDP PCB per transport and wakes the
 * blocked thread within one pass of the tcpip thread.
 *
 * The socket lives as long as the transport, not the connection, so a
 * wake() from another thread never races with close().
 */
#include "lwip_port.h"

#include <string.h>

static kmqtt_err_t sock_error(int e)
{
    return (e == ENOMEM || e == ENOBUFS || e == ENFILE) ? KMQTT_ENOMEM : KMQTT_EIO;
}

kmqtt_err_t lwip_bell_create(lwip_bell_t *b)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    kmqtt_err_t err;

    memset(b, 0, sizeof *b);
    b->fd = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    if (b->fd < 0) {
        return sock_error(errno);
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = 0;                             /* any free port */
    a.sin_addr.s_addr = lwip_htonl(INADDR_ANY); /* see below */
    if (lwip_bind(b->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        lwip_getsockname(b->fd, (struct sockaddr *)&a, &len) != 0) {
        err = sock_error(errno);
        (void)lwip_close(b->fd);
        b->fd = -1;
        return err;
    }
    /* Rung at 127.0.0.1. Bound to any address, not 127.0.0.1, and not
     * connected: without a loopback netif (LWIP_HAVE_LOOPIF 0) lwIP sends
     * loopback traffic through the default netif with that netif's address
     * as the source, and would drop a datagram from a PCB bound to
     * 127.0.0.1 (ERR_RTE) or one that arrives from an address a connected
     * PCB does not expect. A stray datagram from elsewhere is harmless: only
     * the flag says whether a wake is pending. */
    b->to = a;
    b->to.sin_addr.s_addr = lwip_htonl(0x7f000001UL);
    if (sys_mutex_new(&b->lock) != ERR_OK) {
        (void)lwip_close(b->fd);
        b->fd = -1;
        return KMQTT_ENOMEM;
    }
    b->lock_ok = true;
    return KMQTT_OK;
}

void lwip_bell_destroy(lwip_bell_t *b)
{
    if (b->fd >= 0) {
        (void)lwip_close(b->fd);
        b->fd = -1;
    }
    if (b->lock_ok) {
        sys_mutex_free(&b->lock);
        b->lock_ok = false;
    }
}

void lwip_bell_ring(lwip_bell_t *b)
{
    static const unsigned char one = 1;
    int saved = errno; /* the caller's errno is not ours to change */

    sys_mutex_lock(&b->lock);
    if (!b->pending) {
        b->pending = true;
        /* Under the lock: without LWIP_TCPIP_CORE_LOCKING two threads
         * sending on one netconn would share its completion semaphore. A
         * failed send leaves the flag up; the waiter sees it at its next
         * slice (KMQTT_LWIP_WAKE_SLICE_MS). */
        (void)lwip_sendto(b->fd, &one, 1, MSG_DONTWAIT, (const struct sockaddr *)&b->to,
                          sizeof b->to);
    }
    sys_mutex_unlock(&b->lock);
    errno = saved;
}

bool lwip_bell_take(lwip_bell_t *b)
{
    unsigned char buf[16];
    bool was;

    /* Discard first, then take the flag. A ring between the two is reported
     * now and its datagram only costs one more look later; a ring after the
     * take leaves its flag and its datagram for the next look. So a raised
     * flag always has a datagram still to come: no wake is lost. */
    while (lwip_recv(b->fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    sys_mutex_lock(&b->lock);
    was = b->pending;
    b->pending = false;
    sys_mutex_unlock(&b->lock);
    return was;
}
