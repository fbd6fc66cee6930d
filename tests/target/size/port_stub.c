/*
 * A do-nothing single-threaded port, only so the size app links and runs on
 * bare metal: a tick counter for a clock, no-op locks, no threads, no
 * network. Its bytes are not counted as kmqtt's (scripts/size.sh counts
 * input sections from the core's objects only).
 */
#include "kmqtt/port.h"

static uint64_t g_now;
static uint32_t g_seed = 0x12345678u;
static char g_lock;

uint64_t kmqtt_port_now_ms(void)
{
    return g_now += 10;
}

void kmqtt_port_sleep_ms(uint32_t ms)
{
    g_now += ms;
}

kmqtt_err_t kmqtt_port_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        g_seed = g_seed * 1103515245u + 12345u;
        p[i] = (unsigned char)(g_seed >> 16);
    }
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_port_mutex_create(kmqtt_mem_t *m, kmqtt_port_mutex_t **out)
{
    (void)m;
    *out = (kmqtt_port_mutex_t *)(void *)&g_lock;
    return KMQTT_OK;
}

void kmqtt_port_mutex_destroy(kmqtt_mem_t *m, kmqtt_port_mutex_t *mx)
{
    (void)m;
    (void)mx;
}

void kmqtt_port_mutex_lock(kmqtt_port_mutex_t *mx)
{
    (void)mx;
}

void kmqtt_port_mutex_unlock(kmqtt_port_mutex_t *mx)
{
    (void)mx;
}

kmqtt_err_t kmqtt_port_cond_create(kmqtt_mem_t *m, kmqtt_port_cond_t **out)
{
    (void)m;
    *out = (kmqtt_port_cond_t *)(void *)&g_lock;
    return KMQTT_OK;
}

void kmqtt_port_cond_destroy(kmqtt_mem_t *m, kmqtt_port_cond_t *cv)
{
    (void)m;
    (void)cv;
}

kmqtt_err_t kmqtt_port_cond_wait(kmqtt_port_cond_t *cv, kmqtt_port_mutex_t *mx, uint32_t timeout_ms)
{
    (void)cv;
    (void)mx;
    g_now += timeout_ms;
    return KMQTT_ETIMEDOUT;
}

void kmqtt_port_cond_broadcast(kmqtt_port_cond_t *cv)
{
    (void)cv;
}

kmqtt_err_t kmqtt_port_thread_start(kmqtt_mem_t *m, kmqtt_port_thread_t **out,
                                    void (*fn)(void *arg), void *arg)
{
    (void)m;
    (void)out;
    (void)fn;
    (void)arg;
    return KMQTT_EIO;
}

void kmqtt_port_thread_join(kmqtt_mem_t *m, kmqtt_port_thread_t *t)
{
    (void)m;
    (void)t;
}

bool kmqtt_port_thread_is_current(const kmqtt_port_thread_t *t)
{
    (void)t;
    return false;
}

kmqtt_err_t kmqtt_port_tcp_create(kmqtt_mem_t *m, kmqtt_transport_t *out)
{
    (void)m;
    (void)out;
    return KMQTT_EIO;
}

size_t kmqtt_port_mutex_size(void)
{
    return 8;
}

size_t kmqtt_port_cond_size(void)
{
    return 8;
}

size_t kmqtt_port_thread_size(void)
{
    return 8;
}

size_t kmqtt_port_tcp_size(void)
{
    return 8;
}

void kmqtt_port_mem_register(kmqtt_mem_t *m, kmqtt_port_mutex_t *guard)
{
    (void)m;
    (void)guard;
}

void kmqtt_port_mem_unregister(kmqtt_mem_t *m)
{
    (void)m;
}
