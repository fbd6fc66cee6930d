/*
 * The backpressure matrix (issue 14): every transport stack x both clients
 * x send buffers of 512 B, 16 KiB and 64 KiB x a peer that stalls for 2 s at
 * a random point and one that reads a byte at a time x QoS 0 and 1, each
 * cell at least 3,000 numbered messages. A cell passes when every message
 * arrived at the peer in order and byte-identical (QoS 1: at least once,
 * duplicates counted), the client reported every QoS 1 publish acknowledged,
 * the client's socket really refused sends (backpressure happened), and the
 * client's memory came back to zero.
 *
 * One program per TLS backend (both cannot be linked together): the
 * OpenSSL one also runs the stacks without TLS. One line per cell (BP ...),
 * then "bp: N passed, N failed".
 *
 *   backpressure_matrix_openssl [--stack tcp|ws|tls-openssl|wss-openssl] [--client threaded|nano]
 *                               [--buf 512|16384|65536] [--peer stall|slow] [--qos 0|1]
 *   KMQTT_BP_SEED=n   the stall points of a run (printed at its start)
 *   KMQTT_BP_COUNT=n  messages per cell (default 3000)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_drive.h"
#include "bp_peer.h"
#include "kmqtt/error.h"
#include "kmqtt/mem.h"
#include "watchdog.h"

#ifndef BP_TLS_NAME
#error "BP_TLS_NAME: the TLS backend this program links"
#endif

#define STALL_MS         2000u
#define DRIVE_TIMEOUT_MS 120000u
#define PEER_TIMEOUT_MS  150000u
#define CELL_WATCHDOG_MS 200000u

typedef struct stack {
    const char *name;
    bool tls, ws;
} stack_t;

static const stack_t stacks[] = {
#ifdef BP_WITH_PLAIN
    {"tcp", false, false},
    {"ws", false, true},
#endif
    {"tls-" BP_TLS_NAME, true, false},
    {"wss-" BP_TLS_NAME, true, true},
};
static const size_t bufs[] = {512, 16384, 65536};

/* Filters from the command line (NULL / 0 / -1: all). */
static const char *want_stack, *want_client, *want_peer;
static size_t want_buf;
static int want_qos = -1;

static uint64_t seed;
static uint32_t count = 3000;
static char dir[64];
static char ca[128], cert[128], key[128];

/* Every cell's memory in one context, in debug mode (guards, live list),
 * shared by the client's threads. */
static pthread_mutex_t mem_mu = PTHREAD_MUTEX_INITIALIZER;

static void mem_lock(void *ctx)
{
    pthread_mutex_lock(ctx);
}

static void mem_unlock(void *ctx)
{
    pthread_mutex_unlock(ctx);
}

static bool mem_init(kmqtt_mem_t *m)
{
    kmqtt_mem_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.debug = true;
    cfg.lock = mem_lock;
    cfg.unlock = mem_unlock;
    cfg.lock_ctx = &mem_mu;
    return kmqtt_mem_init(m, &cfg) == KMQTT_OK;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* FNV-1a of the cell's name: its stall point depends on the seed and the
 * cell, not on which other cells run. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    while (*s != '\0') {
        h ^= (uint8_t)*s++;
        h *= 0x100000001b3ull;
    }
    return h;
}

static bp_sizes_t sizes_of(size_t buf, bp_behaviour_t peer)
{
    if (peer == BP_PEER_SLOW)
        return BP_SIZES_SMALL;
    return buf == 512 ? BP_SIZES_512 : buf == 16384 ? BP_SIZES_16K : BP_SIZES_64K;
}

static bool make_certs(void)
{
    char cmd[512];
    snprintf(dir, sizeof(dir), "/tmp/kmqtt-bp-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return false;
    snprintf(cmd, sizeof(cmd), "sh %s/make_certs.sh %s", KMQTT_TLS_TEST_DIR, dir);
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(cert, sizeof(cert), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    return system(cmd) == 0;
}

static void remove_certs(void)
{
    char cmd[128];
    if (dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)!system(cmd);
    }
}

/* Runs one cell and prints its line. true if it passed. */
static bool run_cell(const stack_t *st, bool nano, size_t buf, bp_behaviour_t peer, uint8_t qos)
{
    static char name[128]; /* the watchdog keeps the pointer */
    bp_peer_opts_t po;
    bp_peer_result_t pr;
    bp_client_result_t cr;
    bp_link_stats_t link;
    bp_drive_t d;
    kmqtt_mem_t mem;
    kmqtt_mem_stats_t ms;
    bp_peer_t *p;
    uint64_t total, t0;
    char verdict[400], acked[16];
    bool pass;

    snprintf(name, sizeof(name), "%s/%s/%zu/%s/qos%u", st->name, nano ? "nano" : "threaded", buf,
             peer == BP_PEER_STALL ? "stall" : "slow", (unsigned)qos);
    memset(&po, 0, sizeof(po));
    po.tls = st->tls;
    po.ws = st->ws;
    po.cert_file = cert;
    po.key_file = key;
    po.behaviour = peer;
    po.stall_ms = STALL_MS;
    po.qos = qos;
    po.count = count;
    po.sizes = sizes_of(buf, peer);
    po.timeout_ms = PEER_TIMEOUT_MS;
    /* Somewhere in the first half of the payload bytes, so that at least
     * as much again is still to come when the peer stops reading. */
    total = bp_msg_total(po.sizes, count);
    po.stall_at = 1024u + mix64(seed ^ name_hash(name)) % (total / 2u - 1024u);

    memset(&cr, 0, sizeof(cr));
    memset(&pr, 0, sizeof(pr));
    memset(&link, 0, sizeof(link));
    if (!mem_init(&mem)) {
        fprintf(stderr, "bp: mem init failed\n");
        return false;
    }
    t0 = kmqtt_port_now_ms();
    watchdog_arm(name, CELL_WATCHDOG_MS);
    p = bp_peer_start(&po);
    if (p == NULL) {
        bp_client_fail(&cr, "peer did not start");
    } else {
        memset(&d, 0, sizeof(d));
        d.mem = &mem;
        d.tls = st->tls;
        d.ws = st->ws;
        d.ca_file = ca;
        d.port = bp_peer_port(p);
        d.tx_size = buf;
        d.qos = qos;
        d.count = count;
        d.sizes = po.sizes;
        d.timeout_ms = DRIVE_TIMEOUT_MS;
        d.link = &link;
        if (nano)
            bp_drive_nano(&d, &cr);
        else
            bp_drive_threaded(&d, &cr);
        bp_peer_finish(p, &pr);
    }
    watchdog_disarm();
    kmqtt_mem_get_stats(&mem, &ms);

    /* The peer's word first: it says where the stream went wrong. */
    if (pr.failed)
        snprintf(verdict, sizeof(verdict), "FAIL peer: %s", pr.error);
    else if (cr.failed)
        snprintf(verdict, sizeof(verdict), "FAIL client: %s", cr.error);
    else if (pr.received != count || cr.sent != count || !pr.end_ok || !cr.end_acked)
        snprintf(verdict, sizeof(verdict), "FAIL: %u of %u arrived in order", (unsigned)pr.received,
                 (unsigned)count);
    else if (qos == 1 && cr.acked != count)
        snprintf(verdict, sizeof(verdict), "FAIL: client reports %u of %u acknowledged",
                 (unsigned)cr.acked, (unsigned)count);
    else if (!pr.disconnected)
        snprintf(verdict, sizeof(verdict), "FAIL: no DISCONNECT");
    else if (peer == BP_PEER_STALL && !pr.stalled)
        snprintf(verdict, sizeof(verdict), "FAIL: the peer never stalled");
    else if (link.would_block == 0)
        snprintf(verdict, sizeof(verdict),
                 "FAIL: no send was refused: the cell tested no backpressure");
    else if (ms.bytes != 0 || ms.blocks != 0)
        snprintf(verdict, sizeof(verdict), "FAIL: %zu bytes in %zu blocks not freed", ms.bytes,
                 ms.blocks);
    else
        snprintf(verdict, sizeof(verdict), "PASS");
    pass = strcmp(verdict, "PASS") == 0;
    if (qos == 1)
        snprintf(acked, sizeof(acked), "%u", (unsigned)cr.acked);
    else
        snprintf(acked, sizeof(acked), "-");
    printf("BP stack=%s client=%s buf=%zu peer=%s qos=%u sent=%u received=%u dup=%u acked=%s "
           "wouldblock=%" PRIu64 " partial=%" PRIu64 " stall_at=%" PRIu64 " tls=%s frames=%" PRIu64
           " ms=%" PRIu64 " %s\n",
           st->name, nano ? "nano" : "threaded", buf, peer == BP_PEER_STALL ? "stall" : "slow",
           (unsigned)qos, (unsigned)cr.sent, (unsigned)pr.received, (unsigned)pr.dups, acked,
           link.would_block, link.partial, peer == BP_PEER_STALL ? po.stall_at : 0, pr.tls_version,
           pr.frames, kmqtt_port_now_ms() - t0, verdict);
    fflush(stdout);
    return pass;
}

static int usage(void)
{
    size_t i;
    fprintf(stderr,
            "usage: backpressure_matrix_%s [--stack NAME] [--client threaded|nano] "
            "[--buf 512|16384|65536] [--peer stall|slow] [--qos 0|1]\nstacks:",
            BP_TLS_NAME);
    for (i = 0; i < sizeof(stacks) / sizeof(stacks[0]); i++)
        fprintf(stderr, " %s", stacks[i].name);
    fprintf(stderr, "\n");
    return 2;
}

int main(int argc, char **argv)
{
    int i, passed = 0, failed = 0, pi, qi;
    size_t si, bi;
    bool need_tls = false;
    const char *env;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--stack") == 0)
            want_stack = argv[i + 1];
        else if (strcmp(argv[i], "--client") == 0)
            want_client = argv[i + 1];
        else if (strcmp(argv[i], "--buf") == 0)
            want_buf = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--peer") == 0)
            want_peer = argv[i + 1];
        else if (strcmp(argv[i], "--qos") == 0)
            want_qos = atoi(argv[i + 1]);
        else
            return usage();
    }
    if (i != argc)
        return usage();
    env = getenv("KMQTT_BP_COUNT");
    if (env != NULL && (count = (uint32_t)strtoul(env, NULL, 10)) < 100) {
        fprintf(stderr, "bp: KMQTT_BP_COUNT must be at least 100\n");
        return 2;
    }
    env = getenv("KMQTT_BP_SEED");
    if (env != NULL)
        seed = strtoull(env, NULL, 10);
    else if (kmqtt_port_random(&seed, sizeof(seed)) != KMQTT_OK)
        seed = kmqtt_port_now_ms();
    printf("bp: seed %" PRIu64 " (KMQTT_BP_SEED=%" PRIu64 " repeats the stall points), %u messages "
           "per cell, TLS backend %s\n",
           seed, seed, (unsigned)count, BP_TLS_NAME);
    fflush(stdout);

    for (si = 0; si < sizeof(stacks) / sizeof(stacks[0]); si++)
        if (want_stack == NULL || strcmp(want_stack, stacks[si].name) == 0)
            need_tls |= stacks[si].tls;
    if (need_tls && !make_certs()) {
        fprintf(stderr, "bp: could not make the test certificates\n");
        remove_certs();
        return 1;
    }
    if (!watchdog_start(NULL)) {
        remove_certs();
        return 1;
    }
    for (si = 0; si < sizeof(stacks) / sizeof(stacks[0]); si++) {
        const stack_t *st = &stacks[si];
        if (want_stack != NULL && strcmp(want_stack, st->name) != 0)
            continue;
        for (i = 0; i < 2; i++) {
            bool nano = i == 1;
            if (want_client != NULL && strcmp(want_client, nano ? "nano" : "threaded") != 0)
                continue;
            for (bi = 0; bi < sizeof(bufs) / sizeof(bufs[0]); bi++) {
                if (want_buf != 0 && want_buf != bufs[bi])
                    continue;
                for (pi = 0; pi < 2; pi++) {
                    bp_behaviour_t peer = pi == 0 ? BP_PEER_STALL : BP_PEER_SLOW;
                    if (want_peer != NULL &&
                        strcmp(want_peer, peer == BP_PEER_STALL ? "stall" : "slow") != 0)
                        continue;
                    for (qi = 0; qi < 2; qi++) {
                        if (want_qos >= 0 && want_qos != qi)
                            continue;
                        if (run_cell(st, nano, bufs[bi], peer, (uint8_t)qi))
                            passed++;
                        else
                            failed++;
                    }
                }
            }
        }
    }
    watchdog_stop();
    remove_certs();
    if (passed + failed == 0) {
        fprintf(stderr, "bp: no cell matches\n");
        return usage();
    }
    printf("bp: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
