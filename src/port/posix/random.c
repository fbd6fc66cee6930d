/*
 * Entropy for client ids and reconnect jitter: getrandom() where the C
 * library has it, /dev/urandom otherwise (or when the kernel is too old).
 */
#include "kmqtt/port.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#if defined(__linux__) && defined(__GLIBC__)
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25)
#include <sys/random.h>
#define KMQTT_HAVE_GETRANDOM 1
#endif
#endif
#ifndef KMQTT_HAVE_GETRANDOM
#define KMQTT_HAVE_GETRANDOM 0
#endif

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

static kmqtt_err_t from_urandom(unsigned char *p, size_t len)
{
    int fd;
    do {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return KMQTT_EIO;
    }
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            (void)close(fd);
            return KMQTT_EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    (void)close(fd);
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_port_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    if (buf == NULL && len > 0) {
        return KMQTT_EINVAL;
    }
#if KMQTT_HAVE_GETRANDOM
    while (len > 0) {
        /* Larger requests may come back short; loop rather than assume. */
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            /* ENOSYS: a kernel older than the C library (old modem
             * firmware); the device file still works there. */
            return from_urandom(p, len);
        }
        p += n;
        len -= (size_t)n;
    }
    return KMQTT_OK;
#else
    return from_urandom(p, len);
#endif
}
