/*
 * The BSD-socket TCP transport shared by the RTOS ports (RT-Thread SAL,
 * FreeRTOS + lwIP): what bsd_tcp.c needs from the port that compiles it.
 *
 * A port compiles src/port/bsd/bsd_tcp.c with its own folder on the include
 * path; bsd_tcp.c includes the port's "bsd_os.h", which must:
 *
 *   - include the stack's socket headers (socket, connect, send, recv,
 *     setsockopt, getsockopt, getaddrinfo, errno, struct timeval) and
 *     poll.h or select's headers;
 *   - name the calls: KB_SOCKET, KB_CONNECT, KB_CLOSE, KB_SEND, KB_RECV,
 *     KB_SETSOCKOPT, KB_GETSOCKOPT, KB_GETADDRINFO, KB_FREEADDRINFO and,
 *     with KMQTT_BSD_POLL 1, KB_POLL, else KB_SELECT; with
 *     KMQTT_BSD_FCNTL 1, KB_FCNTL;
 *   - set the switches below;
 *   - define kmqtt_bsd_os_t (the port's share of the transport block: the
 *     wake flag, a lock, the wake channel) and implement the functions
 *     declared at the end of this file.
 *
 * Switches (each 0 or 1):
 *   KMQTT_BSD_FCNTL      try fcntl(O_NONBLOCK) for a non-blocking connect.
 *                        Where the stack refuses it at run time (RT-Thread
 *                        AT sockets: SAL's ioctlsocket is NULL) or the
 *                        switch is 0, the socket stays blocking: connect
 *                        blocks with SO_SNDTIMEO/SO_RCVTIMEO set to what is
 *                        left of the timeout, and send/recv look at the
 *                        socket with a zero-timeout poll first.
 *   KMQTT_BSD_POLL       wait with poll() (1) or select() (0).
 *   KMQTT_BSD_NODELAY    set TCP_NODELAY.
 *   KMQTT_BSD_CHAN_SURE  a wake sent on the channel is never lost (a pipe):
 *                        waits are not cut into slices. 0 (a UDP datagram
 *                        may be dropped): waits look at the wake flag at
 *                        least every KMQTT_BSD_WAKE_SLICE_MS.
 */
#ifndef KMQTT_BSD_TCP_H
#define KMQTT_BSD_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "bsd_os.h"
#include "kmqtt/port.h"

/* Waits while a connection is open and the port has no wake channel look at
 * the wake flag this often (a wake is late by at most this much). */
#ifndef KMQTT_BSD_WAKE_POLL_MS
#define KMQTT_BSD_WAKE_POLL_MS 20u
#endif
/* With a channel that may drop a wake (KMQTT_BSD_CHAN_SURE 0), the longest
 * slice of a wait. */
#ifndef KMQTT_BSD_WAKE_SLICE_MS
#define KMQTT_BSD_WAKE_SLICE_MS 1000u
#endif

/* Makes the wake flag and the lock. Returns KMQTT_OK or KMQTT_ENOMEM. */
kmqtt_err_t kb_os_init(kmqtt_bsd_os_t *os);
/* Undoes kb_os_init (the channel is closed by then). */
void kb_os_fini(kmqtt_bsd_os_t *os);

/* The wake flag: set by any thread; taken by the transport's one user. */
void kb_flag_set(kmqtt_bsd_os_t *os);
/* Waits up to ms (0: only looks) for the flag and clears it; true if it was
 * set. Touches no socket: this is how a wait sleeps with nothing open. */
bool kb_flag_take(kmqtt_bsd_os_t *os, uint32_t ms);

/* The lock between wake() (any thread) and opening/closing the channel. */
void kb_lock(kmqtt_bsd_os_t *os);
void kb_unlock(kmqtt_bsd_os_t *os);

/* The wake channel, opened with each connection and closed with it: a
 * descriptor the wait watches for reading beside the socket. Returns it, or
 * -1 where the port has none or it cannot be made now (waits then look at
 * the flag every KMQTT_BSD_WAKE_POLL_MS). m is the transport's memory
 * context (for the port's diagnostics). Called with the lock held. */
int kb_chan_open(kmqtt_bsd_os_t *os, kmqtt_mem_t *m);
/* Makes the channel readable (best effort). Called with the lock held, only
 * while it is open. */
void kb_chan_ping(kmqtt_bsd_os_t *os);
/* Reads what the channel holds, without blocking. */
void kb_chan_drain(kmqtt_bsd_os_t *os);
/* Closes it. Called with the lock held, only while it is open. */
void kb_chan_close(kmqtt_bsd_os_t *os, kmqtt_mem_t *m);

/* Diagnostics: the transport opened fd to host:port (blocking: the stack
 * refused non-blocking mode), or closed it (fd -1). Ports without a console
 * command make it do nothing. */
void kb_note_socket(kmqtt_mem_t *m, int fd, int chan, const char *host, uint16_t port,
                    bool blocking);

#endif
