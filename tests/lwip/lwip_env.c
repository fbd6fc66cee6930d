/*
 * lwIP bring-up, counters and the broker for the lwIP port test (lwip_env.h).
 * Host code: lwIP's Unix port, POSIX processes and Linux /proc.
 */
#include "lwip_env.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lwip/opt.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/priv/sockets_priv.h"
#include "tapnetif.h"

#define SOCKET_RANGE 1024

static struct netif tap_netif;
static pid_t broker_pid;
static char broker_addr[64];
static uint16_t broker_port;

uint64_t lwip_env_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void lwip_env_sleep_ms(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int lwip_env_threads(void)
{
    DIR *d = opendir("/proc/self/task");
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
    return n;
}

/* ------------------------------------------------------------------ lwIP */

static void tcpip_ready(void *arg)
{
    sys_sem_signal((sys_sem_t *)arg);
}

int lwip_env_up(const char *ip, const char *gw)
{
    sys_sem_t ready;
    ip4_addr_t addr, mask, gateway;
    const char *tap = getenv("PRECONFIGURED_TAPIF");

    if (tap == NULL || tap[0] == '\0') {
        fprintf(stderr,
                "lwip_env: PRECONFIGURED_TAPIF is not set (run through run_lwip_test.sh)\n");
        return -1;
    }
    if (ip4addr_aton(ip, &addr) == 0 || ip4addr_aton(gw, &gateway) == 0 ||
        ip4addr_aton("255.255.255.0", &mask) == 0) {
        fprintf(stderr, "lwip_env: bad address %s / %s\n", ip, gw);
        return -1;
    }
    if (sys_sem_new(&ready, 0) != ERR_OK) {
        return -1;
    }
    tcpip_init(tcpip_ready, &ready);
    (void)sys_arch_sem_wait(&ready, 0);
    sys_sem_free(&ready);

    /* Attaches to the tap the driver made and starts its reader thread. */
    LOCK_TCPIP_CORE();
    if (netif_add(&tap_netif, &addr, &mask, &gateway, NULL, tapnetif_init, tcpip_input) == NULL) {
        UNLOCK_TCPIP_CORE();
        fprintf(stderr, "lwip_env: netif_add over tap %s failed\n", tap);
        return -1;
    }
    netif_set_default(&tap_netif);
    netif_set_up(&tap_netif);
    UNLOCK_TCPIP_CORE();
    return 0;
}

void lwip_env_down(void)
{
    LOCK_TCPIP_CORE();
    netif_set_down(&tap_netif);
    netif_remove(&tap_netif);
    UNLOCK_TCPIP_CORE();
    tapnetif_stop(&tap_netif);
}

int lwip_env_sockets(void)
{
    int n = 0;
    int i;
    for (i = LWIP_SOCKET_OFFSET; i < LWIP_SOCKET_OFFSET + SOCKET_RANGE; i++) {
        if (lwip_socket_dbg_get_socket(i) != NULL) {
            n++;
        }
    }
    return n;
}

static int list_len(const struct tcp_pcb *p)
{
    int n = 0;
    for (; p != NULL; p = p->next) {
        n++;
    }
    return n;
}

void lwip_env_pcbs(lwip_pcbs_t *out)
{
    const struct udp_pcb *u;
    LOCK_TCPIP_CORE();
    out->tcp_active = list_len(tcp_active_pcbs);
    out->tcp_time_wait = list_len(tcp_tw_pcbs);
    out->udp = 0;
    for (u = udp_pcbs; u != NULL; u = u->next) {
        out->udp++;
    }
    UNLOCK_TCPIP_CORE();
}

int lwip_env_wait_tcp_active(int n, unsigned timeout_ms)
{
    uint64_t deadline = lwip_env_now_ms() + timeout_ms;
    lwip_pcbs_t p;
    for (;;) {
        lwip_env_pcbs(&p);
        if (p.tcp_active <= n || lwip_env_now_ms() >= deadline) {
            return p.tcp_active;
        }
        lwip_env_sleep_ms(2);
    }
}

/* ---------------------------------------------------------------- broker */

static const char *env_path(const char *name)
{
    const char *v = getenv(name);
    return v != NULL ? v : "";
}

static pid_t spawn(char *const argv[], const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int i;
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        /* Not the tap descriptor, nor anything else of ours. */
        for (i = 3; i < 1024; i++) {
            close(i);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static bool accepts(void)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;
    if (fd < 0) {
        return false;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(broker_port);
    inet_pton(AF_INET, broker_addr, &a.sin_addr);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

int lwip_env_broker_start(const char *addr, uint16_t port)
{
    char *argv[] = {"/usr/sbin/mosquitto", "-c", NULL, NULL};
    char out[512];
    uint64_t deadline;
    FILE *f;

    snprintf(broker_addr, sizeof broker_addr, "%s", addr);
    broker_port = port;
    argv[2] = (char *)env_path("KMQTT_LWIP_CONF");
    snprintf(out, sizeof out, "%s.out", env_path("KMQTT_LWIP_LOG"));
    broker_pid = spawn(argv, out);
    if (broker_pid < 0) {
        broker_pid = 0;
        return -1;
    }
    f = fopen(env_path("KMQTT_LWIP_PIDFILE"), "w");
    if (f != NULL) {
        fprintf(f, "%d\n", (int)broker_pid);
        fclose(f);
    }
    deadline = lwip_env_now_ms() + 10000u;
    for (;;) {
        int st;
        if (waitpid(broker_pid, &st, WNOHANG) == broker_pid) {
            fprintf(stderr, "lwip_env: mosquitto exited at start (see %s)\n", out);
            broker_pid = 0;
            return -1;
        }
        if (accepts()) {
            return 0;
        }
        if (lwip_env_now_ms() >= deadline) {
            fprintf(stderr, "lwip_env: mosquitto not listening on %s:%u after 10 s\n", addr,
                    (unsigned)port);
            lwip_env_broker_stop();
            return -1;
        }
        lwip_env_sleep_ms(20);
    }
}

void lwip_env_broker_stop(void)
{
    uint64_t deadline;
    int st;
    if (broker_pid <= 0) {
        return;
    }
    kill(broker_pid, SIGTERM);
    deadline = lwip_env_now_ms() + 5000u;
    while (waitpid(broker_pid, &st, WNOHANG) != broker_pid) {
        if (lwip_env_now_ms() >= deadline) {
            kill(broker_pid, SIGKILL);
            waitpid(broker_pid, &st, 0);
            break;
        }
        lwip_env_sleep_ms(10);
    }
    broker_pid = 0;
}

size_t lwip_env_broker_log_count(const char *needle)
{
    FILE *f = fopen(env_path("KMQTT_LWIP_LOG"), "r");
    char line[1024];
    size_t n = 0;
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strstr(line, needle) != NULL) {
            n++;
        }
    }
    fclose(f);
    return n;
}

bool lwip_env_broker_log_wait(const char *needle, size_t n, unsigned timeout_ms)
{
    uint64_t deadline = lwip_env_now_ms() + timeout_ms;
    while (lwip_env_broker_log_count(needle) < n) {
        if (lwip_env_now_ms() >= deadline) {
            return false;
        }
        lwip_env_sleep_ms(20);
    }
    return true;
}

int lwip_env_run(char *const argv[], unsigned timeout_ms)
{
    char out[512];
    uint64_t deadline = lwip_env_now_ms() + timeout_ms;
    pid_t pid;
    int st;

    snprintf(out, sizeof out, "%s.tools", env_path("KMQTT_LWIP_LOG"));
    pid = spawn(argv, out);
    if (pid < 0) {
        return -1;
    }
    while (waitpid(pid, &st, WNOHANG) != pid) {
        if (lwip_env_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        lwip_env_sleep_ms(10);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *env_ip;
static const char *env_broker_ip;

int lwip_env_group_setup(const char *prog, uint16_t port)
{
    env_ip = getenv("KMQTT_LWIP_IP");
    env_broker_ip = getenv("KMQTT_LWIP_BROKER");
    if (env_ip == NULL || env_broker_ip == NULL) {
        fprintf(stderr, "%s: run it through tests/lwip/run_lwip_test.sh\n", prog);
        return -1;
    }
    if (lwip_env_up(env_ip, env_broker_ip) != 0) {
        return -1;
    }
    return lwip_env_broker_start(env_broker_ip, port);
}

int lwip_env_group_teardown(void)
{
    lwip_env_broker_stop();
    lwip_env_down();
    return 0;
}

const char *lwip_env_ip(void)
{
    return env_ip;
}

const char *lwip_env_broker_ip(void)
{
    return env_broker_ip;
}

void lwip_env_take_baseline(kmqtt_mem_t *m, lwip_env_baseline_t *b)
{
    kmqtt_mem_stats_t st;
    lwip_pcbs_t p;
    kmqtt_mem_get_stats(m, &st);
    b->bytes = st.bytes;
    b->blocks = st.blocks;
    b->sockets = lwip_env_sockets();
    /* No connection outlives a test, but the last one's PCB may still be in
     * LAST_ACK for a moment. */
    (void)lwip_env_wait_tcp_active(0, 5000u);
    lwip_env_pcbs(&p);
    b->tcp_active = p.tcp_active;
    b->threads = lwip_env_threads();
}

bool lwip_env_at_baseline(kmqtt_mem_t *m, const lwip_env_baseline_t *b, bool check_threads,
                          const char *what, int cycle)
{
    kmqtt_mem_stats_t st;
    int sockets = lwip_env_sockets();
    int active = lwip_env_wait_tcp_active(b->tcp_active, 5000u);
    int threads = check_threads ? lwip_env_threads() : b->threads;
    kmqtt_mem_get_stats(m, &st);
    if (st.bytes == b->bytes && st.blocks == b->blocks && sockets == b->sockets &&
        active == b->tcp_active && threads == b->threads) {
        return true;
    }
    fprintf(stderr,
            "%s, cycle %d: heap %zu bytes in %zu blocks (baseline %zu in %zu), lwIP sockets %d "
            "(baseline %d), active TCP PCBs %d (baseline %d), threads %d (baseline %d)\n",
            what, cycle, st.bytes, st.blocks, b->bytes, b->blocks, sockets, b->sockets, active,
            b->tcp_active, threads, b->threads);
    return false;
}
