/*
 * kmqtt-soak: the field report's device, thousands of times in a row.
 *
 * Each cycle creates a client whose bytes come from one parent accounting
 * context (debug mode), connects, subscribes to two topics, publishes a batch
 * at the chosen QoS, waits for every acknowledgement, disconnects and
 * destroys the client; then it records the parent's heap, the process's open
 * descriptors and threads, and the cycle time. A device that leaks one socket
 * or a few bytes per wake dies in the field after weeks; here the growth from
 * the end of the warm-up to the last cycle must be exactly zero.
 *
 * Without -h/-p it runs its own mosquitto (private config in a temp dir, a
 * free loopback port), stopped and cleaned up on exit, SIGINT and SIGTERM.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "soak_report.h"
#include "tool.h"

/* Exit codes beyond tool.h's table. */
#define SOAK_EXIT_GROWTH      6   /* memory, descriptors or threads grew */
#define SOAK_EXIT_BROKER      7   /* the private mosquitto could not be started */
#define SOAK_EXIT_INTERRUPTED 130 /* SIGINT/SIGTERM: the shell's code for Ctrl-C */

/* Bounds on the arguments: the samples of every cycle are kept for the
 * chart, so the run's own memory is bounded by the cycle count. */
#define SOAK_MAX_CYCLES     1000000ul
#define SOAK_MAX_BATCH      100000ul
#define SOAK_WAIT_MS        10000u /* subscribe, window room, acks */
#define SOAK_PROGRESS       100ul  /* cycles between progress lines */
#define SOAK_BROKER_TRIES   10     /* free ports tried against a racing process */
#define SOAK_BROKER_WAIT_MS 5000u

typedef struct soak {
    /* options */
    const char *host; /* NULL: run our own broker */
    uint16_t port;
    const char *id;
    unsigned long cycles, batch, warmup;
    uint8_t qos;
    const char *csv_path, *svg_path;
    bool debug, thread;
    tool_tls_t tls; /* TLS options: each cycle's client gets its own TLS transport */

    /* the private broker */
    pid_t broker_pid;
    char broker_dir[256];

    /* the run */
    kmqtt_mem_t parent;
    pthread_mutex_t parent_mu;
    FILE *csv;
    soak_sample_t *samples;
    unsigned long done; /* completed cycles */
    soak_sample_t base; /* after the warm-up */
    char cmd_topic[160], cfg_topic[160], data_topic[160];

    /* per cycle, written by callbacks (on the background thread with
     * --thread; read only after kmqtt_disconnect has joined it) */
    unsigned long acked, failed;
    kmqtt_err_t first_fail_err;
    uint8_t first_fail_reason;
    kmqtt_err_t lost_err;
} soak_t;

static void usage_text(FILE *f)
{
    fprintf(f,
            "Usage: kmqtt-soak [-h host] [-p port] [-i id] [--cycles N] [--batch M] [--qos Q]\n"
            "                  [--warmup W] [--csv FILE] [--svg FILE] [--thread] [-d]\n"
            "\n"
            "Each cycle: create a client, connect, subscribe two topics, publish M messages\n"
            "at QoS Q, wait for every acknowledgement, disconnect, destroy. Growth of heap,\n"
            "descriptors and threads from the end of the warm-up to the end must be 0.\n"
            "\n"
            "  -h host       broker host; with neither -h nor -p, kmqtt-soak starts its own\n"
            "                mosquitto on a free loopback port (MOSQUITTO names the binary)\n"
            "  -p port       broker port (default 1883 with -h)\n"
            "  -i id         client id and topic prefix (default kmqtt-soak)\n"
            "  --cycles N    cycles to run (default 1000, at most %lu)\n"
            "  --batch M     messages per cycle (default 10)\n"
            "  --qos Q       QoS of the messages, 0, 1 or 2 (default 1)\n"
            "  --warmup W    cycles before the baseline is taken (default 10)\n"
            "  --csv FILE    one row per cycle: %s"
            "  --svg FILE    the run as a chart to open in a browser\n"
            "  --thread      run each client with its background thread (kmqtt_start)\n"
            "  -d            debug lines on stderr\n"
            "  --cafile, --capath, --cert, --key, --insecure, --tls-no-verify-at-all,\n"
            "  --alpn, --tls-version\n"
            "                TLS to the broker (needs -h/-p: the private broker has no TLS)\n"
            "\n"
            "stdout ends with: soak: cycles=N heap_growth=B fd_growth=F thread_growth=T\n"
            "exit codes: 0 no growth, 1 usage, 2 broker not reached, 3 connection refused,\n"
            "4 subscription refused, 5 connection lost or publish failed, 6 growth,\n"
            "7 private broker did not start, 130 interrupted\n",
            SOAK_MAX_CYCLES, "cycle,heap_used,heap_peak,blocks,fds,sockets,threads,cycle_us\n");
}

static void debug_line(const soak_t *k, const char *fmt, ...)
{
    va_list ap;
    if (!k->debug) {
        return;
    }
    fprintf(stderr, "%s: debug: ", tool_prog());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static bool parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    unsigned long v;
    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

/* "--name value" or "--name=value": the value, advancing *i past it. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t len = strlen(name);
    if (strncmp(a, name, len) == 0 && a[len] == '=') {
        return a + len + 1;
    }
    if (*i + 1 >= argc) {
        return NULL;
    }
    return argv[++*i];
}

static bool is_opt(const char *arg, const char *name)
{
    size_t len = strlen(name);
    return strncmp(arg, name, len) == 0 && (arg[len] == '\0' || arg[len] == '=');
}

static int parse_args(soak_t *k, int argc, char **argv)
{
    static const struct {
        const char *name;
        unsigned long lo, hi;
    } nums[] = {{"--cycles", 1, SOAK_MAX_CYCLES},
                {"--batch", 1, SOAK_MAX_BATCH},
                {"--qos", 0, 2},
                {"--warmup", 0, SOAK_MAX_CYCLES},
                {"-p", 1, 65535}};
    bool warmup_given = false;
    int i;

    k->cycles = 1000;
    k->batch = 10;
    k->qos = 1;
    k->warmup = 10;
    k->id = "kmqtt-soak";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t n;
        bool matched = false;

        if (strcmp(a, "--help") == 0) {
            usage_text(stdout);
            return TOOL_EXIT_OK;
        }
        if (strcmp(a, "-d") == 0) {
            k->debug = true;
            continue;
        }
        if (strcmp(a, "--thread") == 0) {
            k->thread = true;
            continue;
        }
        if (tool_tls_is_opt(a)) {
            const char *v = NULL;
            if (tool_tls_opt_has_arg(a)) {
                if (i + 1 >= argc) {
                    tool_error("%s needs a value (see --help)", a);
                    return TOOL_EXIT_USAGE;
                }
                v = argv[++i];
            }
            if (!tool_tls_set(&k->tls, a, v)) {
                return TOOL_EXIT_USAGE;
            }
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "-i") == 0 || is_opt(a, "--csv") ||
            is_opt(a, "--svg")) {
            const char *name = a[1] != '-' ? a : (is_opt(a, "--csv") ? "--csv" : "--svg");
            const char *v = opt_value(argc, argv, &i, name);
            if (v == NULL || *v == '\0') {
                tool_error("%s needs a non-empty value (see --help)", name);
                return TOOL_EXIT_USAGE;
            }
            if (strcmp(name, "-h") == 0) {
                k->host = v;
            } else if (strcmp(name, "-i") == 0) {
                if (strlen(v) > 100) {
                    tool_error("-i: the id is longer than 100 characters");
                    return TOOL_EXIT_USAGE;
                }
                k->id = v;
            } else if (strcmp(name, "--csv") == 0) {
                k->csv_path = v;
            } else {
                k->svg_path = v;
            }
            continue;
        }
        for (n = 0; n < sizeof nums / sizeof nums[0]; n++) {
            unsigned long v;
            const char *s;
            if (strcmp(a, nums[n].name) != 0 &&
                (nums[n].name[1] != '-' || !is_opt(a, nums[n].name))) {
                continue;
            }
            matched = true;
            s = opt_value(argc, argv, &i, nums[n].name);
            if (!parse_ulong(s, nums[n].lo, nums[n].hi, &v)) {
                tool_error("%s wants a whole number from %lu to %lu (see --help)", nums[n].name,
                           nums[n].lo, nums[n].hi);
                return TOOL_EXIT_USAGE;
            }
            switch (n) {
            case 0:
                k->cycles = v;
                break;
            case 1:
                k->batch = v;
                break;
            case 2:
                k->qos = (uint8_t)v;
                break;
            case 3:
                k->warmup = v;
                warmup_given = true;
                break;
            default:
                k->port = (uint16_t)v;
                break;
            }
            break;
        }
        if (!matched) {
            tool_error("unknown option '%s' (see --help)", a);
            return TOOL_EXIT_USAGE;
        }
    }
    if (k->warmup >= k->cycles) {
        if (warmup_given) {
            tool_error("--warmup %lu leaves no cycle to measure (--cycles %lu)", k->warmup,
                       k->cycles);
            return TOOL_EXIT_USAGE;
        }
        /* A short run with the default warm-up: the baseline is the cycle
         * before the last, so growth still means something. */
        k->warmup = k->cycles - 1u;
    }
    if (k->host == NULL && k->port != 0) {
        k->host = "localhost"; /* -p alone: an external broker, like mosquitto_pub */
    }
    if (k->host != NULL && k->port == 0) {
        k->port = tool_tls_default_port(&k->tls);
    }
    if (k->tls.tls && k->host == NULL) {
        tool_error("TLS options need an external broker (-h/-p): the private one has no TLS");
        return TOOL_EXIT_USAGE;
    }
    return TOOL_CONTINUE;
}

/* ---- measurements ---- */

static int count_dir(const char *path, bool sockets_only)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (sockets_only) {
            char p[300], link[64];
            ssize_t len;
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            len = readlink(p, link, sizeof link - 1);
            if (len > 0) {
                link[len] = '\0';
                n += strncmp(link, "socket:", 7) == 0;
            }
        } else {
            n++;
        }
    }
    closedir(d);
    return n;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The process and the parent context as they are now. */
static void measure(soak_t *k, soak_sample_t *s)
{
    kmqtt_mem_stats_t st;
    kmqtt_mem_get_stats(&k->parent, &st);
    s->heap_used = st.bytes;
    s->heap_peak = st.peak;
    s->blocks = st.blocks;
    /* The directory being read holds one descriptor of its own. */
    s->fds = count_dir("/proc/self/fd", false) - 1;
    s->sockets = count_dir("/proc/self/fd", true);
    s->threads = count_dir("/proc/self/task", false);
}

/* ---- the private broker ---- */

static void sleep_ms(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !tool_stop_requested()) {
    }
}

/* A loopback port nobody listens on right now. Another process may take it
 * before mosquitto binds it; broker_start then tries another. */
static uint16_t free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    uint16_t port = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

static bool port_accepts(uint16_t port)
{
    struct sockaddr_in a;
    bool ok;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return false;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static bool write_config(const soak_t *k, uint16_t port, const char *path)
{
    const struct passwd *pw = getpwuid(geteuid());
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return false;
    }
    fprintf(f, "listener %u 127.0.0.1\n", (unsigned)port);
    fputs("allow_anonymous true\n", f);
    /* Without it mosquitto's PUBACKs wait out Nagle's algorithm against the
     * client's delayed ACK: 40 ms per cycle of pure idle. */
    fputs("set_tcp_nodelay true\n", f);
    fputs("persistence false\n", f);
    fprintf(f, "log_dest file %s/mosquitto.log\n", k->broker_dir);
    fputs("log_type error\nlog_type warning\nlog_type notice\n", f);
    /* As root mosquitto would switch to user "mosquitto", who cannot write
     * the log in our private directory. */
    if (pw != NULL) {
        fprintf(f, "user %s\n", pw->pw_name);
    }
    return fclose(f) == 0;
}

static pid_t spawn_broker(const soak_t *k, const char *conf)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    {
        char out[300];
        const char *bin = getenv("MOSQUITTO");
        int fd, i;
        /* Own process group: a Ctrl-C in the terminal reaches only
         * kmqtt-soak, which ends its cycle cleanly before stopping the
         * broker. */
        setpgid(0, 0);
#ifdef __linux__
        /* If kmqtt-soak dies without cleaning up, the broker follows. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            _exit(1);
        }
#else
        (void)parent;
#endif
        snprintf(out, sizeof out, "%s/stderr", k->broker_dir);
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 0);
        }
        for (i = 3; i < 1024; i++) {
            close(i);
        }
        if (bin != NULL && *bin != '\0') {
            execl(bin, bin, "-c", conf, (char *)NULL);
        } else {
            execlp("mosquitto", "mosquitto", "-c", conf, (char *)NULL);
            execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf, (char *)NULL);
            execl("/usr/local/sbin/mosquitto", "mosquitto", "-c", conf, (char *)NULL);
        }
        _exit(127);
    }
}

/* The last line the broker wrote (its log or stderr), for an error line. */
static void broker_last_words(const soak_t *k, char *buf, size_t cap)
{
    static const char *const files[] = {"stderr", "mosquitto.log"};
    size_t f;
    buf[0] = '\0';
    for (f = 0; f < 2 && buf[0] == '\0'; f++) {
        char path[300], line[256];
        FILE *in;
        snprintf(path, sizeof path, "%s/%s", k->broker_dir, files[f]);
        in = fopen(path, "r");
        if (in == NULL) {
            continue;
        }
        while (fgets(line, sizeof line, in) != NULL) {
            size_t len = strcspn(line, "\r\n");
            if (len > 0) {
                line[len] = '\0';
                snprintf(buf, cap, "%s", line);
            }
        }
        fclose(in);
    }
}

static void broker_stop(soak_t *k)
{
    DIR *d;
    struct dirent *e;
    if (k->broker_pid > 0) {
        int i, status;
        pid_t r = 0;
        kill(k->broker_pid, SIGTERM);
        for (i = 0; i < 300 && (r = waitpid(k->broker_pid, &status, WNOHANG)) == 0; i++) {
            sleep_ms(10);
        }
        if (r == 0) {
            kill(k->broker_pid, SIGKILL);
            waitpid(k->broker_pid, &status, 0);
        }
        k->broker_pid = 0;
    }
    if (k->broker_dir[0] == '\0') {
        return;
    }
    d = opendir(k->broker_dir);
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            char path[600];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            snprintf(path, sizeof path, "%s/%s", k->broker_dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(k->broker_dir);
    k->broker_dir[0] = '\0';
}

/* Starts the private mosquitto; returns TOOL_CONTINUE or an exit code after
 * one error line (the caller runs broker_stop either way). */
static int broker_start(soak_t *k)
{
    const char *tmp = getenv("TMPDIR");
    char conf[300], why[256];
    int attempt;

    snprintf(k->broker_dir, sizeof k->broker_dir, "%s/kmqtt-soak.XXXXXX",
             tmp != NULL && *tmp != '\0' && strlen(tmp) < 200 ? tmp : "/tmp");
    if (mkdtemp(k->broker_dir) == NULL) {
        tool_error("cannot create a directory for the broker in %s: %s", tmp != NULL ? tmp : "/tmp",
                   strerror(errno));
        k->broker_dir[0] = '\0';
        return SOAK_EXIT_BROKER;
    }
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", k->broker_dir);
    why[0] = '\0';
    for (attempt = 0; attempt < SOAK_BROKER_TRIES && !tool_stop_requested(); attempt++) {
        uint16_t port = free_port();
        uint64_t end = now_us() + SOAK_BROKER_WAIT_MS * 1000u;
        int status;
        if (port == 0 || !write_config(k, port, conf)) {
            tool_error("cannot prepare the broker: %s", strerror(errno));
            return SOAK_EXIT_BROKER;
        }
        k->broker_pid = spawn_broker(k, conf);
        if (k->broker_pid < 0) {
            k->broker_pid = 0;
            tool_error("cannot start mosquitto: %s", strerror(errno));
            return SOAK_EXIT_BROKER;
        }
        while (now_us() < end && !tool_stop_requested()) {
            if (waitpid(k->broker_pid, &status, WNOHANG) == k->broker_pid) {
                k->broker_pid = 0;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
                    tool_error("mosquitto not found (install it, set MOSQUITTO, or use -h)");
                    return SOAK_EXIT_BROKER;
                }
                broker_last_words(k, why, sizeof why);
                break; /* most likely the port was taken meanwhile: another */
            }
            if (port_accepts(port)) {
                k->port = port;
                debug_line(k, "mosquitto (pid %ld) listens on 127.0.0.1:%u, config %s",
                           (long)k->broker_pid, (unsigned)port, conf);
                return TOOL_CONTINUE;
            }
            sleep_ms(10);
        }
        if (k->broker_pid > 0) {
            broker_last_words(k, why, sizeof why);
            kill(k->broker_pid, SIGKILL);
            waitpid(k->broker_pid, &status, 0);
            k->broker_pid = 0;
        }
    }
    if (tool_stop_requested()) {
        return SOAK_EXIT_INTERRUPTED;
    }
    tool_error("mosquitto did not start%s%s", why[0] != '\0' ? ": " : "", why);
    return SOAK_EXIT_BROKER;
}

/* ---- one cycle ---- */

static void parent_lock(void *ctx)
{
    pthread_mutex_lock(ctx);
}

static void parent_unlock(void *ctx)
{
    pthread_mutex_unlock(ctx);
}

static void on_publish_done(kmqtt_client_t *c, uint16_t packet_id, kmqtt_err_t err,
                            uint8_t reason_code, void *ctx)
{
    soak_t *k = ctx;
    (void)c;
    (void)packet_id;
    /* 5.0 reason codes below 0x80 are successes (e.g. no subscribers). */
    if (err != KMQTT_OK || reason_code >= 0x80) {
        if (k->failed == 0) {
            k->first_fail_err = err;
            k->first_fail_reason = reason_code;
        }
        k->failed++;
    } else {
        k->acked++;
    }
}

static void on_state(kmqtt_client_t *c, kmqtt_conn_state_t st, kmqtt_err_t err, void *ctx)
{
    soak_t *k = ctx;
    (void)c;
    (void)st;
    if (err != KMQTT_OK) {
        k->lost_err = err;
    }
}

/* One error line for a call that failed on an established connection: the
 * reason the connection went away when the call only saw its absence. */
static int cycle_failed(const soak_t *k, unsigned long cycle, const char *what, kmqtt_err_t e)
{
    if ((e == KMQTT_ENOTCONN || e == KMQTT_ECANCELED) && k->lost_err != KMQTT_OK) {
        tool_error("cycle %lu: %s: connection lost: %s", cycle, what, kmqtt_strerror(k->lost_err));
    } else {
        tool_error("cycle %lu: %s: %s", cycle, what, kmqtt_strerror(e));
    }
    return TOOL_EXIT_LOST;
}

/* Everything after connect; the caller destroys c whatever happens. */
static int cycle_session(soak_t *k, kmqtt_client_t *c, unsigned long cycle)
{
    kmqtt_sub_request_t subs[2];
    kmqtt_subscribe_result_t granted;
    unsigned long i;
    kmqtt_err_t e;

    if (k->thread && (e = kmqtt_start(c)) != KMQTT_OK) {
        return cycle_failed(k, cycle, "starting the background thread", e);
    }
    memset(subs, 0, sizeof subs);
    subs[0].filter = k->cmd_topic;
    subs[0].qos = 1;
    subs[1].filter = k->cfg_topic;
    subs[1].qos = 1;
    e = kmqtt_subscribe(c, subs, 2, SOAK_WAIT_MS, NULL, &granted);
    if (e == KMQTT_ESUBFAIL) {
        tool_error("cycle %lu: subscription to '%s' refused", cycle,
                   granted.reason_codes[0] >= 0x80 ? k->cmd_topic : k->cfg_topic);
        return TOOL_EXIT_SUBFAIL;
    }
    if (e != KMQTT_OK) {
        return cycle_failed(k, cycle, "subscribe", e);
    }
    for (i = 0; i < k->batch; i++) {
        char reading[96];
        int n = snprintf(reading, sizeof reading, "{\"cycle\":%lu,\"seq\":%lu,\"temp\":%lu.%lu}",
                         cycle, i, 20u + (cycle + i) % 7u, (cycle * 3u + i) % 10u);
        /* publish_block_ms lets a batch wider than the in-flight window
         * wait for acks instead of failing. */
        e = kmqtt_publish(c, k->data_topic, reading, (size_t)n, k->qos, false, NULL, NULL);
        if (e != KMQTT_OK) {
            return cycle_failed(k, cycle, "publish", e);
        }
    }
    /* Everything out and acknowledged (QoS 0: written) before disconnect. */
    e = kmqtt_flush(c, SOAK_WAIT_MS);
    if (e == KMQTT_ETIMEDOUT) {
        tool_error("cycle %lu: the broker did not acknowledge within %u s", cycle,
                   SOAK_WAIT_MS / 1000u);
        return TOOL_EXIT_LOST;
    }
    if (e != KMQTT_OK) {
        return cycle_failed(k, cycle, "waiting for acknowledgements", e);
    }
    /* Synchronous: the background thread has ended when this returns, so
     * the callback counters below are final. */
    e = kmqtt_disconnect(c, NULL);
    if (e != KMQTT_OK) {
        return cycle_failed(k, cycle, "disconnect", e);
    }
    if (k->failed > 0) {
        if (k->first_fail_err != KMQTT_OK) {
            tool_error("cycle %lu: %lu of %lu messages failed: %s", cycle, k->failed, k->batch,
                       kmqtt_strerror(k->first_fail_err));
        } else {
            tool_error("cycle %lu: %lu of %lu messages refused by the broker: %s", cycle, k->failed,
                       k->batch, tool_reason_text(k->first_fail_reason));
        }
        return TOOL_EXIT_LOST;
    }
    if (k->qos > 0 && k->acked != k->batch) {
        tool_error("cycle %lu: %lu of %lu messages acknowledged", cycle, k->acked, k->batch);
        return TOOL_EXIT_LOST;
    }
    return TOOL_CONTINUE;
}

static int run_cycle(soak_t *k, unsigned long cycle, soak_sample_t *s)
{
    kmqtt_client_options_t o;
    kmqtt_client_t *c = NULL;
    kmqtt_connack_info_t info;
    kmqtt_transport_t tr;
    bool tr_used = false;
    uint64_t t0 = now_us();
    kmqtt_err_t e;
    int rc;

    k->acked = k->failed = 0;
    k->first_fail_err = KMQTT_OK;
    k->first_fail_reason = 0;
    k->lost_err = KMQTT_OK;
    /* No client exists between cycles, so nothing races the reset. */
    kmqtt_mem_reset_peak(&k->parent);

    kmqtt_client_options_init(&o);
    o.host = k->host != NULL ? k->host : "127.0.0.1";
    o.port = k->port;
    o.client_id = k->id;
    o.keepalive_s = 30;
    o.publish_block_ms = SOAK_WAIT_MS;
    o.on_publish_done = on_publish_done;
    o.on_state = on_state;
    o.ctx = k;
    o.mem = &k->parent;
    o.mem_debug = true;
    rc = tool_tls_transport(&k->tls, &k->parent, &tr, &tr_used);
    if (rc != TOOL_CONTINUE) {
        return rc;
    }
    o.transport = tr_used ? &tr : NULL;
    e = kmqtt_client_create(&o, &c);
    if (e != KMQTT_OK && tr_used) {
        tr.destroy(tr.ctx); /* still ours when create failed */
    }
    if (e != KMQTT_OK) {
        tool_error("cycle %lu: creating the client: %s", cycle, kmqtt_strerror(e));
        return TOOL_EXIT_LOST;
    }
    memset(&info, 0, sizeof info);
    e = kmqtt_connect(c, 0, &info);
    if (e == KMQTT_OK) {
        rc = cycle_session(k, c, cycle);
    } else if (e == KMQTT_EREFUSED) {
        tool_error("cycle %lu: connection refused by %s:%u: %s (CONNACK code %u)", cycle, o.host,
                   (unsigned)o.port, tool_connack_text(KMQTT_V311, info.reason_code),
                   (unsigned)info.reason_code);
        rc = TOOL_EXIT_REFUSED;
    } else if (e == KMQTT_ECANCELED && tool_stop_requested()) {
        rc = SOAK_EXIT_INTERRUPTED;
    } else {
        tool_error("cycle %lu: cannot connect to %s:%u: %s", cycle, o.host, (unsigned)o.port,
                   kmqtt_strerror(e));
        rc = TOOL_EXIT_CONNECT;
    }
    kmqtt_client_destroy(c);
    if (rc != TOOL_CONTINUE) {
        return rc;
    }
    s->cycle = cycle;
    s->cycle_us = (uint32_t)(now_us() - t0);
    measure(k, s);
    return TOOL_CONTINUE;
}

/* ---- the run ---- */

static void print_block(void *ctx, const kmqtt_mem_block_t *b)
{
    (void)ctx;
    tool_error("live block: %lu B, tag \"%s\", allocated at %s:%d", (unsigned long)b->size, b->tag,
               b->file != NULL ? b->file : "?", b->line);
}

static void progress(const soak_t *k, const soak_sample_t *s, uint64_t t_start)
{
    double avg_ms = (double)(now_us() - t_start) / 1000.0 / (double)s->cycle;
    fprintf(stderr,
            "%s: cycle %lu/%lu: heap %lu B (peak %lu B, %lu blocks), fds %d, sockets %d, "
            "threads %d, %.2f ms/cycle\n",
            tool_prog(), s->cycle, k->cycles, (unsigned long)s->heap_used,
            (unsigned long)s->heap_peak, (unsigned long)s->blocks, s->fds, s->sockets, s->threads,
            avg_ms);
}

static int write_svg(const soak_t *k, const char *summary)
{
    char title[300];
    soak_svg_info_t info;
    FILE *f = fopen(k->svg_path, "w");
    int bad;
    if (f == NULL) {
        tool_error("--svg %s: %s", k->svg_path, strerror(errno));
        return TOOL_EXIT_USAGE;
    }
    snprintf(title, sizeof title,
             "kmqtt-soak: %lu cycles of connect, subscribe, %lu x QoS %u, "
             "disconnect%s",
             k->done, k->batch, (unsigned)k->qos, k->thread ? " (background thread)" : "");
    info.title = title;
    info.subtitle = summary;
    info.warmup = k->warmup;
    bad = soak_svg_write(f, &info, k->samples, k->done);
    if (fclose(f) != 0 || bad != 0) {
        tool_error("--svg %s: write error", k->svg_path);
        return TOOL_EXIT_USAGE;
    }
    return TOOL_CONTINUE;
}

/* Runs every cycle; returns TOOL_CONTINUE or the exit code of a failure. */
static int run(soak_t *k)
{
    uint64_t t_start = now_us();
    unsigned long n;

    if (k->warmup == 0) {
        measure(k, &k->base);
    }
    for (n = 1; n <= k->cycles; n++) {
        soak_sample_t *s = &k->samples[n - 1];
        int rc;
        if (tool_stop_requested()) {
            return SOAK_EXIT_INTERRUPTED;
        }
        rc = run_cycle(k, n, s);
        if (rc != TOOL_CONTINUE) {
            return rc;
        }
        k->done = n;
        if (n == k->warmup) {
            k->base = *s;
        }
        if (k->csv != NULL && soak_csv_row(k->csv, s) != 0) {
            tool_error("--csv %s: write error", k->csv_path);
            return TOOL_EXIT_USAGE;
        }
        debug_line(k,
                   "cycle %lu: heap %lu B, peak %lu B, blocks %lu, fds %d, sockets %d, "
                   "threads %d, %lu us",
                   n, (unsigned long)s->heap_used, (unsigned long)s->heap_peak,
                   (unsigned long)s->blocks, s->fds, s->sockets, s->threads,
                   (unsigned long)s->cycle_us);
        if (n % SOAK_PROGRESS == 0) {
            progress(k, s, t_start);
        }
    }
    return TOOL_CONTINUE;
}

int main(int argc, char **argv)
{
    static soak_t k; /* static: zeroed, and large */
    pthread_mutexattr_t *no_attr = NULL;
    kmqtt_mem_config_t cfg;
    long long heap_growth = 0, fd_growth = 0, thread_growth = 0;
    char summary[200];
    int rc, out_rc;

    tool_set_prog("kmqtt-soak");
    rc = parse_args(&k, argc, argv);
    if (rc != TOOL_CONTINUE) {
        return rc;
    }
    tool_signals_install();
    snprintf(k.cmd_topic, sizeof k.cmd_topic, "%s/cmd", k.id);
    snprintf(k.cfg_topic, sizeof k.cfg_topic, "%s/cfg/#", k.id);
    snprintf(k.data_topic, sizeof k.data_topic, "%s/data", k.id);
    if (kmqtt_topic_name_validate(k.data_topic, strlen(k.data_topic)) != KMQTT_OK ||
        kmqtt_topic_filter_validate(k.cfg_topic, strlen(k.cfg_topic)) != KMQTT_OK) {
        tool_error("-i %s: not usable as a topic prefix (no '+', '#' or empty levels)", k.id);
        return TOOL_EXIT_USAGE;
    }

    pthread_mutex_init(&k.parent_mu, no_attr);
    memset(&cfg, 0, sizeof cfg);
    cfg.debug = true;
    /* With --thread the client's background thread allocates too. */
    cfg.lock = parent_lock;
    cfg.unlock = parent_unlock;
    cfg.lock_ctx = &k.parent_mu;
    kmqtt_mem_init(&k.parent, &cfg);

    k.samples = calloc(k.cycles, sizeof *k.samples);
    if (k.samples == NULL) {
        tool_error("out of memory for %lu samples", k.cycles);
        return TOOL_EXIT_USAGE;
    }
    /* Output files are opened first, so a typo in a path costs no run. */
    rc = TOOL_CONTINUE;
    if (k.csv_path != NULL) {
        k.csv = fopen(k.csv_path, "w");
        if (k.csv == NULL || soak_csv_header(k.csv) != 0) {
            tool_error("--csv %s: %s", k.csv_path, strerror(errno));
            rc = TOOL_EXIT_USAGE;
        }
    }
    if (rc == TOOL_CONTINUE && k.svg_path != NULL) {
        FILE *f = fopen(k.svg_path, "w");
        if (f == NULL) {
            tool_error("--svg %s: %s", k.svg_path, strerror(errno));
            rc = TOOL_EXIT_USAGE;
        } else {
            fclose(f);
        }
    }
    if (rc == TOOL_CONTINUE && k.host == NULL) {
        rc = broker_start(&k);
    }
    if (rc == TOOL_CONTINUE) {
        debug_line(&k, "%lu cycles against %s:%u, batch %lu at QoS %u, warm-up %lu", k.cycles,
                   k.host != NULL ? k.host : "127.0.0.1", (unsigned)k.port, k.batch,
                   (unsigned)k.qos, k.warmup);
        rc = run(&k);
    }
    broker_stop(&k);

    out_rc = TOOL_CONTINUE;
    if (k.csv != NULL && fclose(k.csv) != 0 && rc != TOOL_EXIT_USAGE) {
        tool_error("--csv %s: write error", k.csv_path);
        out_rc = TOOL_EXIT_USAGE;
    }
    if (rc == SOAK_EXIT_INTERRUPTED && k.done < k.cycles) {
        tool_error("interrupted after %lu cycles", k.done);
    }
    /* A failed run has no meaningful growth: only completed runs (and
     * interrupted ones, for what they measured) get the summary line. */
    if ((rc == TOOL_CONTINUE || rc == SOAK_EXIT_INTERRUPTED) && k.done > 0) {
        const soak_sample_t *last = &k.samples[k.done - 1];
        if (k.done >= k.warmup) {
            heap_growth = (long long)last->heap_used - (long long)k.base.heap_used;
            fd_growth = (long long)last->fds - (long long)k.base.fds;
            thread_growth = (long long)last->threads - (long long)k.base.threads;
        }
        snprintf(summary, sizeof summary,
                 "soak: cycles=%lu heap_growth=%lld fd_growth=%lld thread_growth=%lld", k.done,
                 heap_growth, fd_growth, thread_growth);
        if (k.svg_path != NULL) {
            int svg_rc = write_svg(&k, summary);
            if (out_rc == TOOL_CONTINUE) {
                out_rc = svg_rc;
            }
        }
        if (rc == TOOL_CONTINUE && (heap_growth != 0 || fd_growth != 0 || thread_growth != 0)) {
            tool_error("grew after the warm-up: %lld bytes, %lld descriptors, %lld threads",
                       heap_growth, fd_growth, thread_growth);
            kmqtt_mem_walk(&k.parent, print_block, NULL);
            rc = SOAK_EXIT_GROWTH;
        }
        puts(summary);
    }
    free(k.samples);
    pthread_mutex_destroy(&k.parent_mu);
    if (rc == TOOL_CONTINUE) {
        rc = out_rc == TOOL_CONTINUE ? TOOL_EXIT_OK : out_rc;
    }
    fflush(stdout);
    return rc;
}
