/*
 * kmqtt-test-storepub PORT DIR N [offline]
 *
 * The publisher of the store-and-forward crash test: publishes N QoS 1
 * messages on sfc/q1 and N QoS 2 messages on sfc/q2, alternating (message
 * i: QoS 1 when i is even; payload: i as 8 decimal digits), with the file
 * store in DIR/store and a persistent session, and exits 0 once kmqtt_flush
 * saw every one acknowledged. The test kills it with SIGKILL at random
 * points and starts it again; each start carries on where the last left.
 *
 * Its own progress (how many publishes returned) is DIR/progress, written
 * after each publish and before the loop runs again: acks are handled only
 * by the loop, so the record of the message being published cannot have
 * been removed yet. A kill between the publish and the progress write
 * leaves that message's record in the store: found there on restart, it
 * counts as published (else it would go twice).
 *
 * offline: every message is published before the connect (all go through
 * the persisted offline queue), then the client connects and flushes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kmqtt/client.h"
#include "kmqtt/store.h"

static char g_dir[512];

static long read_progress(void)
{
    char path[600], buf[32];
    FILE *f;
    long v = 0;

    snprintf(path, sizeof path, "%s/progress", g_dir);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fgets(buf, sizeof buf, f) != NULL)
        v = atol(buf);
    fclose(f);
    return v;
}

static int write_progress(long v)
{
    char path[600], tmp[600], buf[32];
    int fd, n;

    snprintf(path, sizeof path, "%s/progress", g_dir);
    snprintf(tmp, sizeof tmp, "%s/progress.tmp", g_dir);
    n = snprintf(buf, sizeof buf, "%ld\n", v);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    if (write(fd, buf, (size_t)n) != n || fsync(fd) != 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

typedef struct find {
    const kmqtt_store_t *st;
    const char *payload;
    int found;
} find_t;

/* Every record the client writes for a message ends with its payload. */
static kmqtt_err_t find_one(void *arg, uint32_t key, size_t len)
{
    find_t *f = arg;
    uint8_t buf[256];
    size_t n = 0, pl = strlen(f->payload);

    (void)len;
    if (f->st->get(f->st->ctx, key, buf, sizeof buf, &n) == KMQTT_OK && n >= pl &&
        memcmp(buf + n - pl, f->payload, pl) == 0)
        f->found = 1;
    return KMQTT_OK;
}

static void message(long i, char *topic, char *payload, uint8_t *qos)
{
    *qos = (uint8_t)(i % 2 == 0 ? 1 : 2);
    sprintf(topic, "sfc/q%u", (unsigned)*qos);
    sprintf(payload, "%08ld", i);
}

int main(int argc, char **argv)
{
    kmqtt_mem_t mem;
    kmqtt_store_t st;
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_persist_stats_t ps;
    char store_dir[600], topic[32], payload[16];
    long n, i;
    uint8_t qos;
    kmqtt_err_t err;
    int tries;
    bool offline;

    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "offline") == 0)) {
        fprintf(stderr, "usage: %s PORT DIR N [offline]\n", argv[0]);
        return 2;
    }
    offline = argc == 5;
    snprintf(g_dir, sizeof g_dir, "%s", argv[2]);
    n = atol(argv[3]);
    snprintf(store_dir, sizeof store_dir, "%s/store", g_dir);
    (void)mkdir(store_dir, 0700);
    if (kmqtt_mem_init(&mem, NULL) != KMQTT_OK ||
        kmqtt_store_file_create(&mem, store_dir, NULL, NULL, &st) != KMQTT_OK) {
        fprintf(stderr, "store\n");
        return 1;
    }
    kmqtt_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = (uint16_t)atoi(argv[1]);
    o.client_id = "sf-crash-pub";
    o.clean_session = false;
    o.reconnect = KMQTT_RECONNECT_OFF;
    o.offline_queue_max_msgs = 4096;
    o.offline_queue_max_bytes = 256 * 1024;
    o.store = &st;
    err = kmqtt_client_create(&o, &c);
    if (err != KMQTT_OK) {
        fprintf(stderr, "create: %s\n", kmqtt_strerror(err));
        return 1;
    }
    kmqtt_persist_stats(c, &ps);
    printf("restored: inflight %u queued %u skipped %u rejected %u, bad files %zu\n",
           ps.restored_inflight, ps.restored_queued, ps.skipped, ps.rejected,
           kmqtt_store_file_bad_count(&st));

    i = read_progress();
    printf("start at %ld\n", i);
    fflush(stdout);
    if (i < 2 * n) {
        find_t f;
        message(i, topic, payload, &qos);
        f.st = &st;
        f.payload = payload;
        f.found = 0;
        (void)st.list(st.ctx, find_one, &f);
        if (f.found) {
            i++; /* persisted by the run that was killed before it counted it */
            if (write_progress(i) != 0)
                return 1;
        }
    }
    for (; offline && i < 2 * n; i++) {
        message(i, topic, payload, &qos);
        err = kmqtt_publish(c, topic, payload, strlen(payload), qos, false, NULL, NULL);
        if (err != KMQTT_OK) {
            fprintf(stderr, "publish offline %ld: %s\n", i, kmqtt_strerror(err));
            return 1;
        }
        if (write_progress(i + 1) != 0)
            return 1;
    }
    for (tries = 0; (err = kmqtt_connect(c, 5000, NULL)) != KMQTT_OK; tries++) {
        if (tries > 20) {
            fprintf(stderr, "connect: %s\n", kmqtt_strerror(err));
            return 1;
        }
        usleep(100000);
    }
    for (; i < 2 * n; i++) {
        message(i, topic, payload, &qos);
        while ((err = kmqtt_publish(c, topic, payload, strlen(payload), qos, false, NULL, NULL)) ==
               KMQTT_EQUEUE_FULL)
            (void)kmqtt_run(c, 10);
        if (err != KMQTT_OK) {
            fprintf(stderr, "publish %ld: %s\n", i, kmqtt_strerror(err));
            return 1;
        }
        if (write_progress(i + 1) != 0)
            return 1;
        err = kmqtt_run(c, 0);
        if (err != KMQTT_OK) {
            fprintf(stderr, "run: %s\n", kmqtt_strerror(err));
            return 1;
        }
    }
    err = kmqtt_flush(c, 60000);
    if (err != KMQTT_OK) {
        fprintf(stderr, "flush: %s\n", kmqtt_strerror(err));
        return 1;
    }
    kmqtt_persist_stats(c, &ps);
    printf("done: store errors %u\n", ps.store_errors);
    (void)kmqtt_disconnect(c, NULL);
    kmqtt_client_destroy(c);
    st.destroy(st.ctx);
    return 0;
}
