/*
 * The tap netif driver of tapnetif.h. Host code (Linux tun/tap, pthreads).
 */
#include "tapnetif.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"

#define FRAME_MAX 1518

typedef struct tap {
    int fd;
    int stop[2]; /* a byte on stop[1] ends the reader */
    pthread_t reader;
    struct netif *netif;
} tap_t;

static err_t tap_output(struct netif *netif, struct pbuf *p)
{
    tap_t *t = netif->state;
    unsigned char frame[FRAME_MAX];
    u16_t len;
    ssize_t n;

    if (p->tot_len > sizeof frame) {
        return ERR_BUF;
    }
    len = pbuf_copy_partial(p, frame, p->tot_len, 0);
    do {
        n = write(t->fd, frame, len);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? ERR_OK : ERR_IF;
}

static void *tap_reader(void *arg)
{
    tap_t *t = arg;
    unsigned char frame[FRAME_MAX];

    for (;;) {
        struct pollfd p[2];
        struct pbuf *pb;
        ssize_t n;

        p[0].fd = t->fd;
        p[0].events = POLLIN;
        p[1].fd = t->stop[0];
        p[1].events = POLLIN;
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (p[1].revents != 0) {
            break;
        }
        n = read(t->fd, frame, sizeof frame);
        if (n <= 0) {
            continue;
        }
        pb = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
        if (pb == NULL) {
            continue; /* dropped, as a NIC without buffers would */
        }
        memcpy(pb->payload, frame, (size_t)n);
        if (t->netif->input(pb, t->netif) != ERR_OK) {
            pbuf_free(pb);
        }
    }
    return NULL;
}

err_t tapnetif_init(struct netif *netif)
{
    const char *name = getenv("PRECONFIGURED_TAPIF");
    struct ifreq ifr;
    tap_t *t;

    if (name == NULL || strlen(name) >= IFNAMSIZ) {
        fprintf(stderr, "tapnetif: PRECONFIGURED_TAPIF not set\n");
        return ERR_IF;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL) {
        return ERR_MEM;
    }
    t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (t->fd < 0) {
        fprintf(stderr, "tapnetif: /dev/net/tun: %s\n", strerror(errno));
        free(t);
        return ERR_IF;
    }
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(t->fd, TUNSETIFF, &ifr) != 0 || pipe(t->stop) != 0) {
        fprintf(stderr, "tapnetif: attaching to tap %s: %s\n", name, strerror(errno));
        close(t->fd);
        free(t);
        return ERR_IF;
    }
    t->netif = netif;
    netif->state = t;
    netif->name[0] = 't';
    netif->name[1] = 'p';
    netif->output = etharp_output;
    netif->linkoutput = tap_output;
    netif->mtu = 1500;
    netif->hwaddr_len = 6;
    memcpy(netif->hwaddr, "\x02\x6b\x6d\x71\x74\x02", 6); /* locally administered */
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    if (pthread_create(&t->reader, NULL, tap_reader, t) != 0) {
        close(t->stop[0]);
        close(t->stop[1]);
        close(t->fd);
        free(t);
        netif->state = NULL;
        return ERR_MEM;
    }
    netif_set_link_up(netif);
    return ERR_OK;
}

void tapnetif_stop(struct netif *netif)
{
    tap_t *t = netif->state;
    if (t == NULL) {
        return;
    }
    (void)write(t->stop[1], "x", 1);
    pthread_join(t->reader, NULL);
    close(t->stop[0]);
    close(t->stop[1]);
    close(t->fd);
    free(t);
    netif->state = NULL;
}
