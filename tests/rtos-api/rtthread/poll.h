/* A DECLARATION SUBSET of RT-Thread's poll.h (components/libc/posix/io/poll
 * in 4.1, 5.x) for compile checks. */
#ifndef KMQTT_TEST_POLL_H
#define KMQTT_TEST_POLL_H

#define POLLIN   0x001
#define POLLPRI  0x002
#define POLLOUT  0x004
#define POLLERR  0x008
#define POLLHUP  0x010
#define POLLNVAL 0x020

typedef unsigned int nfds_t;

struct pollfd {
    int fd;
    short events;
    short revents;
};

int poll(struct pollfd *fds, nfds_t nfds, int timeout);

#endif
