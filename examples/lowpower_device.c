/*
 * lowpower_device — the battery-powered sensor of the field report.
 *
 * It takes readings while its modem is off (they wait in the client's
 * offline queue), then wakes the modem: connects, subscribes to its command
 * and configuration topics, flushes (the queued readings go out at QoS 1
 * and kmqtt_flush waits until the broker acknowledged every one),
 * disconnects and sleeps again. Fifty of those in a
 * row, and after each one a line like an RTOS `free` command: if memory,
 * sockets or threads crept up from one wake to the next, the device would
 * die in the field after a few thousand cycles, so the last line says
 * whether anything did.
 *
 *   lowpower_device [-h host] [-p port] [-n cycles] [-i device-id] [-r]
 *
 * -r reuses one client across wakes (a device that keeps its RAM between
 * sleeps) instead of creating one per wake (one that boots on each wake).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmqtt/client.h"

#define READINGS_PER_WAKE 10
#define WAIT_MS           5000u

typedef struct device {
    const char *host;
    uint16_t port;
    const char *id;
    int cycles;
    bool reuse;
    char cmd_topic[64];
    char cfg_topic[64];
    char data_topic[64];
    char client_id[64];
    int acked;    /* PUBACKs this wake */
    int commands; /* messages on cmd/cfg, all wakes */
} device_t;

static int count_entries(const char *path, int minus)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n - minus;
}

/* Open descriptors (minus the one reading the directory) and threads. */
static int open_fds(void)
{
    return count_entries("/proc/self/fd", 1);
}

/* Open sockets: the descriptors whose link names a socket. */
static int open_sockets(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        char path[300], link[64];
        ssize_t len;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        len = readlink(path, link, sizeof link - 1);
        if (len > 0) {
            link[len] = '\0';
            n += strncmp(link, "socket:", 7) == 0;
        }
    }
    closedir(d);
    return n;
}

static int threads(void)
{
    return count_entries("/proc/self/task", 0);
}

static void on_publish_done(kmqtt_client_t *c, uint16_t packet_id, kmqtt_err_t err,
                            uint8_t reason_code, void *ctx)
{
    device_t *d = ctx;
    (void)c;
    (void)packet_id;
    (void)reason_code;
    if (err == KMQTT_OK) {
        d->acked++;
    }
}

static void on_command(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    device_t *d = ctx;
    (void)c;
    (void)msg;
    d->commands++;
}

static void print_block(void *ctx, const kmqtt_mem_block_t *b)
{
    (void)ctx;
    printf("  live block: %zu B, tag \"%s\", allocated at %s:%d\n", b->size, b->tag,
           b->file != NULL ? b->file : "?", b->line);
}

static kmqtt_err_t make_client(device_t *d, kmqtt_mem_t *heap, kmqtt_client_t **out)
{
    kmqtt_client_options_t o;
    kmqtt_client_options_init(&o);
    o.host = d->host;
    o.port = d->port;
    o.client_id = d->client_id;
    o.keepalive_s = 30;
    o.on_publish_done = on_publish_done;
    o.on_message = on_command;
    o.ctx = d;
    o.mem = heap;
    o.mem_debug = true;
    /* Store and forward: readings taken while offline wait here (one
     * buffer allocated at create, nothing per reading). */
    o.offline_queue_max_msgs = 2 * READINGS_PER_WAKE;
    o.offline_queue_max_bytes = 1024;
    return kmqtt_client_create(&o, out);
}

/* One wake: connect, subscribe, publish the batch, wait for every PUBACK,
 * disconnect. Returns a short description of what failed, or NULL. */
static const char *wake(device_t *d, kmqtt_client_t *c, int cycle, kmqtt_err_t *err)
{
    kmqtt_sub_request_t subs[2];
    int i;

    d->acked = 0;
    /* Readings taken with the modem off: queued, not sent. */
    for (i = 0; i < READINGS_PER_WAKE; i++) {
        char reading[64];
        int n = snprintf(reading, sizeof(reading), "{\"cycle\":%d,\"seq\":%d,\"temp\":%d.%d}",
                         cycle, i, 20 + (cycle + i) % 7, (cycle * 3 + i) % 10);
        *err = kmqtt_publish(c, d->data_topic, reading, (size_t)n, 1, false, NULL, NULL);
        if (*err != KMQTT_OK) {
            return "queueing a reading";
        }
    }
    if ((*err = kmqtt_connect(c, 0, NULL)) != KMQTT_OK) {
        return "connect";
    }
    memset(subs, 0, sizeof(subs));
    subs[0].filter = d->cmd_topic;
    subs[0].qos = 1;
    subs[1].filter = d->cfg_topic;
    subs[1].qos = 1;
    if ((*err = kmqtt_subscribe(c, subs, 2, WAIT_MS, NULL, NULL)) != KMQTT_OK) {
        kmqtt_disconnect(c, NULL);
        return "subscribe";
    }
    /* Wake, connect, flush, disconnect, sleep. */
    if ((*err = kmqtt_flush(c, WAIT_MS)) != KMQTT_OK) {
        kmqtt_disconnect(c, NULL);
        return "flushing the readings";
    }
    if (d->acked != READINGS_PER_WAKE) {
        *err = KMQTT_EPROTOCOL;
        kmqtt_disconnect(c, NULL);
        return "counting PUBACKs";
    }
    if ((*err = kmqtt_disconnect(c, NULL)) != KMQTT_OK) {
        return "disconnect";
    }
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: lowpower_device [-h host] [-p port] [-n cycles] [-i id] [-r]\n");
}

int main(int argc, char **argv)
{
    device_t d;
    kmqtt_mem_t heap;
    kmqtt_mem_config_t cfg;
    kmqtt_mem_stats_t st;
    kmqtt_client_t *c = NULL;
    size_t base_bytes = 0, base_blocks = 0;
    int base_fds, base_threads, start_fds, start_threads, i, bad_cycle = 0;
    int opt;

    memset(&d, 0, sizeof(d));
    d.host = "127.0.0.1";
    d.port = 1883;
    d.id = "lp01";
    d.cycles = 50;
    while ((opt = getopt(argc, argv, "h:p:n:i:r")) != -1) {
        switch (opt) {
        case 'h':
            d.host = optarg;
            break;
        case 'p':
            d.port = (uint16_t)atoi(optarg);
            break;
        case 'n':
            d.cycles = atoi(optarg);
            break;
        case 'i':
            d.id = optarg;
            break;
        case 'r':
            d.reuse = true;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (d.port == 0 || d.cycles <= 0) {
        usage();
        return 2;
    }
    snprintf(d.cmd_topic, sizeof(d.cmd_topic), "dev/%s/cmd", d.id);
    snprintf(d.cfg_topic, sizeof(d.cfg_topic), "dev/%s/cfg", d.id);
    snprintf(d.data_topic, sizeof(d.data_topic), "dev/%s/data", d.id);
    snprintf(d.client_id, sizeof(d.client_id), "lowpower-%s", d.id);

    /* The device's whole heap as the library sees it: every client byte
     * comes from here, with its tag and call site. */
    memset(&cfg, 0, sizeof(cfg));
    cfg.debug = true;
    if (kmqtt_mem_init(&heap, &cfg) != KMQTT_OK) {
        fprintf(stderr, "lowpower_device: mem init failed\n");
        return 1;
    }

    printf("lowpower_device %s: %d wake cycles against %s:%u, %d QoS 1 readings each (%s)\n", d.id,
           d.cycles, d.host, (unsigned)d.port, READINGS_PER_WAKE,
           d.reuse ? "one client kept across wakes" : "a new client every wake");
    base_fds = start_fds = open_fds();
    base_threads = start_threads = threads();

    for (i = 1; i <= d.cycles; i++) {
        kmqtt_err_t err = KMQTT_OK;
        const char *failed;
        int fds, thr;

        if (c == NULL) {
            err = make_client(&d, &heap, &c);
            if (err != KMQTT_OK) {
                printf("cycle %2d/%d  create failed: %s\n", i, d.cycles, kmqtt_strerror(err));
                return 1;
            }
        }
        failed = wake(&d, c, i, &err);
        if (failed != NULL) {
            printf("cycle %2d/%d  %s failed: %s\n", i, d.cycles, failed, kmqtt_strerror(err));
            kmqtt_client_destroy(c);
            printf("verdict: FAILED, cycle %d could not complete (%s: %s)\n", i, failed,
                   kmqtt_strerror(err));
            return 1;
        }
        if (!d.reuse) {
            kmqtt_client_destroy(c);
            c = NULL;
        }
        kmqtt_mem_get_stats(&heap, &st);
        fds = open_fds();
        thr = threads();
        printf("cycle %2d/%d  heap used %zu B  peak %zu B  blocks %zu  sockets %d  fds %d  "
               "threads %d\n",
               i, d.cycles, st.bytes, st.peak, st.blocks, open_sockets(), fds, thr);
        fflush(stdout);
        if (i == 1 && d.reuse) {
            /* A kept client keeps its buffers and its wake-up descriptor:
             * from here on nothing may grow. */
            base_bytes = st.bytes;
            base_blocks = st.blocks;
            base_fds = fds;
            base_threads = thr;
        }
        if (bad_cycle == 0 && (st.bytes != base_bytes || st.blocks != base_blocks ||
                               fds != base_fds || thr != base_threads)) {
            bad_cycle = i;
            printf("  not back to baseline; live blocks now:\n");
            kmqtt_mem_walk(&heap, print_block, NULL);
        }
    }
    kmqtt_client_destroy(c);
    kmqtt_mem_get_stats(&heap, &st);
    if (st.bytes != 0 || st.blocks != 0 || st.faults != 0 || open_fds() != start_fds ||
        threads() != start_threads) {
        bad_cycle = bad_cycle != 0 ? bad_cycle : d.cycles;
    }

    if (bad_cycle == 0) {
        printf("verdict: memory and sockets returned to baseline after every cycle "
               "(%u allocations, %u frees, peak %zu B, %d messages received)\n",
               (unsigned)st.allocs, (unsigned)st.frees, st.peak, d.commands);
        return 0;
    }
    printf("verdict: FAILED, not back to baseline from cycle %d on (baseline %zu B in %zu blocks, "
           "%d descriptors, %d threads; now %zu B in %zu blocks, %u faults)\n",
           bad_cycle, base_bytes, base_blocks, base_fds, base_threads, st.bytes, st.blocks,
           (unsigned)st.faults);
    kmqtt_mem_walk(&heap, print_block, NULL);
    return 1;
}
