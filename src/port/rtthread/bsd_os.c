/*
 * RT-Thread's side of the shared BSD-socket transport: the wake flag (an
 * rt_event), the lock (an rt_mutex), both inside the transport's block from
 * kmqtt_mem so no kernel heap is spent on them, and the wake channel: a
 * DFS pipe made with each connection and deleted with it, so nothing stays
 * open between connections (msh list_fd / list_device show nothing of kmqtt
 * while the modem is off) and nothing needs the network or lwIP loopback.
 */
#include "bsd_tcp.h"
#include "kmqtt_rtthread.h"
#include "rtt_internal.h"

#include <sal_low_lvl.h>

#if KMQTT_RTT_WAKE_PIPE
#include <rtdevice.h>
#include <unistd.h>
#endif

kmqtt_err_t kb_os_init(kmqtt_bsd_os_t *os)
{
    os->pipe_rd = -1;
    os->pipe_wr = -1;
    os->pipe_name[0] = '\0';
    if (rt_event_init(&os->flag, "kmqttw", RT_IPC_FLAG_FIFO) != RT_EOK)
        return KMQTT_ENOMEM;
    if (rt_mutex_init(&os->lock, "kmqttx", RT_IPC_FLAG_PRIO) != RT_EOK) {
        (void)rt_event_detach(&os->flag);
        return KMQTT_ENOMEM;
    }
    return KMQTT_OK;
}

void kb_os_fini(kmqtt_bsd_os_t *os)
{
    (void)rt_mutex_detach(&os->lock);
    (void)rt_event_detach(&os->flag);
}

void kb_flag_set(kmqtt_bsd_os_t *os)
{
    (void)rt_event_send(&os->flag, 1u);
}

bool kb_flag_take(kmqtt_bsd_os_t *os, uint32_t ms)
{
    rt_uint32_t got = 0;

    return rt_event_recv(&os->flag, 1u, RT_EVENT_FLAG_OR | RT_EVENT_FLAG_CLEAR, kmqtt_rtt_ticks(ms),
                         &got) == RT_EOK;
}

void kb_lock(kmqtt_bsd_os_t *os)
{
    (void)rt_mutex_take(&os->lock, RT_WAITING_FOREVER);
}

void kb_unlock(kmqtt_bsd_os_t *os)
{
    (void)rt_mutex_release(&os->lock);
}

#if KMQTT_RTT_WAKE_PIPE

/* What RT-Thread's heap holds for one pipe: the device and its ring buffer
 * (the DFS descriptors come from DFS's own table). */
#define PIPE_HEAP_BYTES                                                                            \
    (sizeof(rt_pipe_t) + sizeof(struct rt_ringbuffer) +                                            \
     RT_ALIGN_DOWN(KMQTT_RTT_PIPE_SIZE, RT_ALIGN_SIZE))

/* A device name no other device has, within RT_NAME_MAX: "kq" and a
 * counter in hex, skipping names in use. */
static bool pipe_name(char *out)
{
    static rt_uint32_t next;
    static const char hex[] = "0123456789abcdef";
    size_t digits = RT_NAME_MAX > 4 ? RT_NAME_MAX - 3 : 1;
    unsigned tries;

    if (digits > 8)
        digits = 8;
    for (tries = 0; tries < 16; tries++) {
        rt_base_t level = kmqtt_rtt_spin_take();
        rt_uint32_t n = next++;
        size_t i;

        kmqtt_rtt_spin_give(level);
        out[0] = 'k';
        out[1] = 'q';
        for (i = 0; i < digits; i++)
            out[2 + digits - 1 - i] = hex[(n >> (4 * i)) & 15u];
        out[2 + digits] = '\0';
        if (rt_device_find(out) == RT_NULL)
            return true;
    }
    return false;
}

static int pipe_open(const char *name, int flags)
{
    char path[RT_NAME_MAX + 6];

    rt_snprintf(path, sizeof path, "/dev/%s", name);
    return open(path, flags | O_NONBLOCK, 0);
}

int kb_chan_open(kmqtt_bsd_os_t *os, kmqtt_mem_t *m)
{
    if (!pipe_name(os->pipe_name) || rt_pipe_create(os->pipe_name, KMQTT_RTT_PIPE_SIZE) == RT_NULL)
        return -1;
    /* The write end first: on 5.x a read end opened without a writer waits
     * for one. */
    os->pipe_wr = pipe_open(os->pipe_name, O_WRONLY);
    os->pipe_rd = os->pipe_wr >= 0 ? pipe_open(os->pipe_name, O_RDONLY) : -1;
    if (os->pipe_rd < 0) {
        if (os->pipe_wr >= 0)
            (void)close(os->pipe_wr);
        os->pipe_wr = -1;
        (void)rt_pipe_delete(os->pipe_name);
        return -1;
    }
    kmqtt_rtt_registry_heap(m, KMQTT_RTT_HEAP_PIPE, (long)PIPE_HEAP_BYTES);
    return os->pipe_rd;
}

void kb_chan_ping(kmqtt_bsd_os_t *os)
{
    /* Full means a wake is already waiting there. */
    (void)write(os->pipe_wr, "w", 1);
}

void kb_chan_drain(kmqtt_bsd_os_t *os)
{
    char buf[KMQTT_RTT_PIPE_SIZE];

    while (read(os->pipe_rd, buf, sizeof buf) > 0) {
    }
}

void kb_chan_close(kmqtt_bsd_os_t *os, kmqtt_mem_t *m)
{
    (void)close(os->pipe_rd);
    (void)close(os->pipe_wr);
    os->pipe_rd = -1;
    os->pipe_wr = -1;
    (void)rt_pipe_delete(os->pipe_name);
    os->pipe_name[0] = '\0';
    kmqtt_rtt_registry_heap(m, KMQTT_RTT_HEAP_PIPE, -(long)PIPE_HEAP_BYTES);
}

#else /* no RT_USING_POSIX_PIPE: waits look at the flag every KMQTT_BSD_WAKE_POLL_MS */

int kb_chan_open(kmqtt_bsd_os_t *os, kmqtt_mem_t *m)
{
    (void)os;
    (void)m;
    return -1;
}

void kb_chan_ping(kmqtt_bsd_os_t *os)
{
    (void)os;
}

void kb_chan_drain(kmqtt_bsd_os_t *os)
{
    (void)os;
}

void kb_chan_close(kmqtt_bsd_os_t *os, kmqtt_mem_t *m)
{
    (void)os;
    (void)m;
}

#endif

void kb_note_socket(kmqtt_mem_t *m, int fd, int chan, const char *host, uint16_t port,
                    bool blocking)
{
    long sal = (long)sizeof(struct sal_socket);

    kmqtt_rtt_registry_heap(m, KMQTT_RTT_HEAP_SOCKET, fd >= 0 ? sal : -sal);
    kmqtt_rtt_registry_socket(m, fd, chan, host, port, blocking);
}
