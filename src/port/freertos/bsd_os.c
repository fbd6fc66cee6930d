/*
 * FreeRTOS + lwIP's side of the shared BSD-socket transport: the wake flag
 * (a binary semaphore), the lock, and the wake channel: two UDP sockets on
 * 127.0.0.1 (one sends, one receives: lwIP does not let two tasks use one
 * socket at once), made with each connection and closed with it. Without
 * loopback they cannot be made and waits on an open socket look at the flag
 * every KMQTT_BSD_WAKE_POLL_MS.
 */
#include <string.h>

#include "bsd_tcp.h"

kmqtt_err_t kb_os_init(kmqtt_bsd_os_t *os)
{
    os->wake_rx = -1;
    os->wake_tx = -1;
    os->pending = xSemaphoreCreateBinary();
    os->lock = xSemaphoreCreateMutex();
    if (os->pending == NULL || os->lock == NULL) {
        if (os->pending != NULL)
            vSemaphoreDelete(os->pending);
        if (os->lock != NULL)
            vSemaphoreDelete(os->lock);
        return KMQTT_ENOMEM;
    }
    return KMQTT_OK;
}

void kb_os_fini(kmqtt_bsd_os_t *os)
{
    vSemaphoreDelete(os->pending);
    vSemaphoreDelete(os->lock);
}

void kb_flag_set(kmqtt_bsd_os_t *os)
{
    (void)xSemaphoreGive(os->pending); /* already given: stays one pending wake */
}

bool kb_flag_take(kmqtt_bsd_os_t *os, uint32_t ms)
{
    TickType_t ticks = 0;

    if (ms > 0) {
        ticks = pdMS_TO_TICKS(ms);
        if (ticks == 0)
            ticks = 1;
    }
    return xSemaphoreTake(os->pending, ticks) == pdTRUE;
}

void kb_lock(kmqtt_bsd_os_t *os)
{
    (void)xSemaphoreTake(os->lock, portMAX_DELAY);
}

void kb_unlock(kmqtt_bsd_os_t *os)
{
    (void)xSemaphoreGive(os->lock);
}

static int set_nonblock(int fd)
{
    int fl = lwip_fcntl(fd, F_GETFL, 0);
    return fl < 0 ? -1 : lwip_fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int kb_chan_open(kmqtt_bsd_os_t *os, kmqtt_mem_t *m)
{
    static const unsigned char loopback[4] = {127, 0, 0, 1};
    socklen_t len = sizeof os->wake_addr;

    (void)m;
    memset(&os->wake_addr, 0, sizeof os->wake_addr);
    os->wake_addr.sin_len = sizeof os->wake_addr;
    os->wake_addr.sin_family = AF_INET;
    memcpy(&os->wake_addr.sin_addr, loopback, 4); /* network order as written */
    os->wake_rx = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    os->wake_tx = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    if (os->wake_rx < 0 || os->wake_tx < 0 ||
        lwip_bind(os->wake_rx, (const struct sockaddr *)&os->wake_addr, sizeof os->wake_addr) !=
            0 ||
        lwip_getsockname(os->wake_rx, (struct sockaddr *)&os->wake_addr, &len) != 0 ||
        set_nonblock(os->wake_rx) != 0 || set_nonblock(os->wake_tx) != 0) {
        kb_chan_close(os, m);
        return -1;
    }
    return os->wake_rx;
}

void kb_chan_ping(kmqtt_bsd_os_t *os)
{
    (void)lwip_sendto(os->wake_tx, "w", 1, 0, (const struct sockaddr *)&os->wake_addr,
                      sizeof os->wake_addr);
}

void kb_chan_drain(kmqtt_bsd_os_t *os)
{
    unsigned char buf[8];

    while (lwip_recv(os->wake_rx, buf, sizeof buf, 0) > 0) {
    }
}

void kb_chan_close(kmqtt_bsd_os_t *os, kmqtt_mem_t *m)
{
    (void)m;
    if (os->wake_rx >= 0)
        (void)lwip_close(os->wake_rx);
    if (os->wake_tx >= 0)
        (void)lwip_close(os->wake_tx);
    os->wake_rx = -1;
    os->wake_tx = -1;
}

void kb_note_socket(kmqtt_mem_t *m, int fd, int chan, const char *host, uint16_t port,
                    bool blocking)
{
    (void)m;
    (void)fd;
    (void)chan;
    (void)host;
    (void)port;
    (void)blocking;
}
