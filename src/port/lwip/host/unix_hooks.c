/*
 * The board hooks of include/kmqtt/port_lwip.h for lwIP's Unix port on a
 * Linux host (Debian's liblwip, used by the tests): the host stands in for
 * the device, so these use what Linux has. On a device they are the
 * hardware RNG, the kernel's task handle and its task exit (see
 * docs/port-lwip.md).
 */
#include "kmqtt/port_lwip.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

/* Entropy: /dev/urandom stands in for the device's hardware RNG. */
kmqtt_err_t kmqtt_lwip_entropy(void *buf, size_t len)
{
    unsigned char *p = buf;
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

/* lwIP's Unix sys_arch runs every sys_thread_new() thread as a pthread. */
uintptr_t kmqtt_lwip_thread_self(void)
{
    /* pthread_t is an integer or a pointer; either fits. Never 0 for a
     * live thread on glibc (it is the thread's descriptor address). */
    return (uintptr_t)pthread_self();
}

/* The Unix sys_arch never joins or detaches its threads; without this an
 * ended client thread would stay a zombie holding its stack. */
void kmqtt_lwip_thread_exit(void)
{
    (void)pthread_detach(pthread_self());
}
