/*
 * The wake signal behind kmqtt_transport_t.wake(). It lives as long as the
 * transport (not the connection), so a wake() from another thread never
 * touches a descriptor that close() may be recycling at that very moment.
 */
#include "wake.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/eventfd.h>
#define POSIX_WAKE_EVENTFD 1
#else
#define POSIX_WAKE_EVENTFD 0
#endif

static kmqtt_err_t errno_to_err(int e)
{
    return (e == EMFILE || e == ENFILE || e == ENOMEM) ? KMQTT_ENOMEM : KMQTT_EIO;
}

#if !POSIX_WAKE_EVENTFD
static bool set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fdfl = fcntl(fd, F_GETFD);
    if (fl < 0 || fdfl < 0) {
        return false;
    }
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 && fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) == 0;
}
#endif

kmqtt_err_t posix_wake_create(posix_wake_t *w)
{
    w->rd = -1;
    w->wr = -1;
#if POSIX_WAKE_EVENTFD
    w->rd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->rd < 0) {
        return errno_to_err(errno);
    }
    w->wr = w->rd;
    return KMQTT_OK;
#else
    {
        int p[2];
        kmqtt_err_t err;
        if (pipe(p) != 0) {
            return errno_to_err(errno);
        }
        if (!set_flags(p[0]) || !set_flags(p[1])) {
            err = errno_to_err(errno);
            (void)close(p[0]);
            (void)close(p[1]);
            return err;
        }
        w->rd = p[0];
        w->wr = p[1];
        return KMQTT_OK;
    }
#endif
}

void posix_wake_destroy(posix_wake_t *w)
{
    if (w->wr >= 0 && w->wr != w->rd) {
        (void)close(w->wr);
    }
    if (w->rd >= 0) {
        (void)close(w->rd);
    }
    w->rd = -1;
    w->wr = -1;
}

void posix_wake_signal(const posix_wake_t *w)
{
    /* Called from signal handlers too: write() only, and errno restored so
     * the interrupted code does not see ours. EAGAIN means a signal is
     * already pending (counter or pipe full), which is all we need. */
    int saved = errno;
    ssize_t n;
#if POSIX_WAKE_EVENTFD
    uint64_t one = 1;
    do {
        n = write(w->wr, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
#else
    unsigned char one = 1;
    do {
        n = write(w->wr, &one, 1);
    } while (n < 0 && errno == EINTR);
#endif
    errno = saved;
}

bool posix_wake_drain(const posix_wake_t *w)
{
    bool any = false;
#if POSIX_WAKE_EVENTFD
    uint64_t count;
    ssize_t n;
    do {
        n = read(w->rd, &count, sizeof count);
    } while (n < 0 && errno == EINTR);
    any = n == (ssize_t)sizeof count;
#else
    unsigned char buf[64];
    for (;;) {
        ssize_t n = read(w->rd, buf, sizeof buf);
        if (n > 0) {
            any = true;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        break;
    }
#endif
    return any;
}
