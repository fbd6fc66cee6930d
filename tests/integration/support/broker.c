/*
 * Integration-test harness (see broker.h). Plain POSIX plus Linux /proc.
 */
#include "broker.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 5000u
#define STOP_TIMEOUT_MS  5000u
#define START_ATTEMPTS   8

struct broker {
    pid_t pid; /* 0 when not running */
    uint16_t port;
    char dir[64];
    char conf[128];
    char log[128];
    char out[128];
    char pwfile[128];
    char username[64];
    char password[64];
    int max_qos;
    bool log_all;
    char extra_conf[2048];
};

struct proc {
    pid_t pid; /* 0 once reaped */
    int status;
    char path[64];
    char *buf;
    struct proc *next; /* every live proc_t, for proc_free_all */
};

static struct proc *all_procs;

struct silent {
    pid_t pid;
    uint16_t port;
};

/* ------------------------------------------------------------------ time */

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sleep_ms(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* --------------------------------------------------------------- counters */

static int count_dir_entries(const char *path, bool minus_own_fd)
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
    /* The directory stream itself holds one descriptor while it is read. */
    return minus_own_fd ? n - 1 : n;
}

int count_open_fds(void)
{
    return count_dir_entries("/proc/self/fd", true);
}

int count_threads(void)
{
    return count_dir_entries("/proc/self/task", false);
}

int wait_threads_at_most(int n, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    int t = count_threads();
    while (t > n && now_ms() < deadline) {
        sleep_ms(1);
        t = count_threads();
    }
    return t;
}

static void *idle_thread(void *arg)
{
    return arg;
}

void warm_up_threads(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, idle_thread, NULL) == 0) {
        pthread_join(t, NULL);
    }
    (void)wait_threads_at_most(1, 200);
}

static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int hi = 1024;
    if (d == NULL) {
        return 4096;
    }
    while ((e = readdir(d)) != NULL) {
        int v = atoi(e->d_name);
        if (v > hi) {
            hi = v;
        }
    }
    closedir(d);
    /* Room for descriptors another thread opens between this and fork(). */
    return hi + 256;
}

/* ---------------------------------------------------------------- sockets */

static int bind_loopback(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

uint16_t unused_port(void)
{
    uint16_t port = 0;
    int fd = bind_loopback(&port);
    if (fd >= 0) {
        close(fd);
    }
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
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* -------------------------------------------------------------- processes */

static int decode_status(int st)
{
    if (WIFEXITED(st)) {
        return WEXITSTATUS(st);
    }
    if (WIFSIGNALED(st)) {
        return 128 + WTERMSIG(st);
    }
    return -1;
}

static void resolve_exe(const char *name, char *out, size_t cap)
{
    static const char *const dirs[] = {"/usr/bin", "/usr/sbin", "/usr/local/bin",
                                       "/usr/local/sbin"};
    size_t i;
    if (strchr(name, '/') != NULL) {
        snprintf(out, cap, "%s", name);
        return;
    }
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(out, cap, "%s/%s", dirs[i], name);
        if (access(out, X_OK) == 0) {
            return;
        }
    }
    snprintf(out, cap, "%s", name);
}

/* Forks and execs argv with stdout and stderr appended to out_path. Only
 * async-signal-safe calls between fork and exec: the test may have client
 * threads running. */
static pid_t spawn_to(char *const argv[], const char *out_path)
{
    char exe[256];
    int maxfd = highest_fd();
    bool has_slash;
    pid_t pid;

    resolve_exe(argv[0], exe, sizeof(exe));
    has_slash = strchr(exe, '/') != NULL;
    pid = fork();
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int nul = open("/dev/null", O_RDONLY);
        int i;
        if (fd < 0 || nul < 0) {
            _exit(126);
        }
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        /* The child must not keep the test's client sockets alive. */
        for (i = 3; i <= maxfd; i++) {
            close(i);
        }
        if (has_slash) {
            execv(exe, argv);
        } else {
            execvp(exe, argv);
        }
        _exit(127);
    }
    return pid < 0 ? -1 : pid;
}

proc_t *proc_spawn(char *const argv[])
{
    proc_t *p = calloc(1, sizeof(*p));
    int fd;
    if (p == NULL) {
        return NULL;
    }
    snprintf(p->path, sizeof(p->path), "/tmp/kmqtt-it-out-XXXXXX");
    fd = mkstemp(p->path);
    if (fd < 0) {
        free(p);
        return NULL;
    }
    close(fd);
    p->pid = spawn_to(argv, p->path);
    if (p->pid < 0) {
        unlink(p->path);
        free(p);
        return NULL;
    }
    p->next = all_procs;
    all_procs = p;
    return p;
}

bool proc_poll(proc_t *p, int *status)
{
    int st;
    if (p->pid > 0) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->status = decode_status(st);
            p->pid = 0;
        } else if (r < 0 && errno == ECHILD) {
            p->status = -1;
            p->pid = 0;
        }
    }
    if (p->pid == 0 && status != NULL) {
        *status = p->status;
    }
    return p->pid == 0;
}

static void kill_and_reap(pid_t pid)
{
    int st;
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
}

int proc_wait(proc_t *p, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    int status = -1;
    while (!proc_poll(p, &status)) {
        if (now_ms() >= deadline) {
            kill_and_reap(p->pid);
            p->pid = 0;
            p->status = -1;
            return -1;
        }
        sleep_ms(5);
    }
    return status;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (f != NULL) {
        for (;;) {
            size_t n;
            if (cap - len < 4096) {
                char *nb = realloc(buf, cap + 65536);
                if (nb == NULL) {
                    break;
                }
                buf = nb;
                cap += 65536;
            }
            n = fread(buf + len, 1, cap - len - 1, f);
            if (n == 0) {
                break;
            }
            len += n;
        }
        fclose(f);
    }
    if (buf == NULL) {
        buf = malloc(1);
        if (buf == NULL) {
            return NULL;
        }
    }
    buf[len] = '\0';
    return buf;
}

const char *proc_output(proc_t *p)
{
    free(p->buf);
    p->buf = read_file(p->path);
    return p->buf != NULL ? p->buf : "";
}

bool proc_wait_output(proc_t *p, const char *needle, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        if (strstr(proc_output(p), needle) != NULL) {
            return true;
        }
        if (now_ms() >= deadline) {
            return false;
        }
        sleep_ms(5);
    }
}

void proc_free(proc_t *p)
{
    proc_t **pp;
    if (p == NULL) {
        return;
    }
    for (pp = &all_procs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    if (p->pid > 0) {
        kill_and_reap(p->pid);
    }
    unlink(p->path);
    free(p->buf);
    free(p);
}

void proc_free_all(void)
{
    while (all_procs != NULL) {
        proc_free(all_procs);
    }
}

int run_capture(char *const argv[], unsigned timeout_ms, char *out, size_t cap)
{
    proc_t *p = proc_spawn(argv);
    int status;
    if (p == NULL) {
        return -1;
    }
    status = proc_wait(p, timeout_ms);
    if (out != NULL && cap > 0) {
        snprintf(out, cap, "%s", proc_output(p));
    }
    proc_free(p);
    return status;
}

void to_hex(const void *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *d = data;
    size_t i;
    for (i = 0; i < len; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * len] = '\0';
}

/* ----------------------------------------------------------------- broker */

static int write_config(broker_t *b)
{
    FILE *f = fopen(b->conf, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "listener %u 127.0.0.1\n", (unsigned)b->port);
    if (b->username[0] != '\0') {
        fprintf(f, "allow_anonymous false\npassword_file %s\n", b->pwfile);
    } else {
        fprintf(f, "allow_anonymous true\n");
    }
    if (b->max_qos > 0) {
        fprintf(f, "max_qos %d\n", b->max_qos);
    }
    fprintf(f, "persistence false\n");
    /* Without it mosquitto's acks wait out Nagle's delay (~40 ms a cycle). */
    fprintf(f, "set_tcp_nodelay true\n");
    fprintf(f, "log_dest file %s\n", b->log);
    if (b->log_all) {
        fprintf(f, "log_type all\n");
    } else {
        fprintf(f, "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n");
    }
    fprintf(f, "connection_messages true\nlog_timestamp true\n");
    /* Extra listeners (TLS, WebSockets) come last: listener settings apply to
     * the listener line above them. */
    if (b->extra_conf[0] != '\0') {
        fprintf(f, "%s\n", b->extra_conf);
    }
    /* As root, mosquitto would switch to user "mosquitto", who cannot write
     * the test's private directory. */
    if (geteuid() == 0) {
        fprintf(f, "user root\n");
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* 0 ready, -1 the process died (port taken?), -2 timeout. */
static int wait_ready(broker_t *b)
{
    uint64_t deadline = now_ms() + READY_TIMEOUT_MS;
    for (;;) {
        int st;
        char *log;
        bool running;
        if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
            b->pid = 0;
            return -1;
        }
        log = read_file(b->log);
        running = log != NULL && strstr(log, " running") != NULL;
        free(log);
        /* The "running" line comes after the listener is open; the connect
         * proves nothing else answers on that port in its place. */
        if (running && port_accepts(b->port)) {
            return 0;
        }
        if (now_ms() >= deadline) {
            return -2;
        }
        sleep_ms(10);
    }
}

static int launch(broker_t *b)
{
    char *argv[4];
    argv[0] = "/usr/sbin/mosquitto";
    argv[1] = "-c";
    argv[2] = b->conf;
    argv[3] = NULL;
    if (write_config(b) != 0) {
        return -2;
    }
    /* A fresh log per launch, so "running" means this launch. */
    unlink(b->log);
    b->pid = spawn_to(argv, b->out);
    if (b->pid < 0) {
        b->pid = 0;
        return -2;
    }
    return wait_ready(b);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

static void terminate(broker_t *b)
{
    uint64_t deadline;
    int st;
    if (b->pid <= 0) {
        return;
    }
    kill(b->pid, SIGCONT);
    kill(b->pid, SIGTERM);
    deadline = now_ms() + STOP_TIMEOUT_MS;
    while (waitpid(b->pid, &st, WNOHANG) != b->pid) {
        if (now_ms() >= deadline) {
            kill_and_reap(b->pid);
            break;
        }
        sleep_ms(5);
    }
    b->pid = 0;
}

broker_t *broker_start(const broker_opts_t *opts)
{
    broker_t *b = calloc(1, sizeof(*b));
    int attempt, r = -2;
    if (b == NULL) {
        return NULL;
    }
    snprintf(b->dir, sizeof(b->dir), "/tmp/kmqtt-it-XXXXXX");
    if (mkdtemp(b->dir) == NULL) {
        fprintf(stderr, "broker: mkdtemp: %s\n", strerror(errno));
        free(b);
        return NULL;
    }
    snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
    snprintf(b->log, sizeof(b->log), "%s/mosquitto.log", b->dir);
    snprintf(b->out, sizeof(b->out), "%s/stdout.log", b->dir);
    snprintf(b->pwfile, sizeof(b->pwfile), "%s/passwd", b->dir);
    if (opts != NULL) {
        b->max_qos = opts->max_qos;
        b->log_all = opts->log_all;
        if (opts->extra_conf != NULL) {
            if (strlen(opts->extra_conf) >= sizeof(b->extra_conf)) {
                fprintf(stderr, "broker: extra_conf too long\n");
                rmdir(b->dir);
                free(b);
                return NULL;
            }
            strcpy(b->extra_conf, opts->extra_conf);
        }
        if (opts->username != NULL) {
            char *argv[7];
            snprintf(b->username, sizeof(b->username), "%s", opts->username);
            snprintf(b->password, sizeof(b->password), "%s",
                     opts->password != NULL ? opts->password : "");
            argv[0] = "mosquitto_passwd";
            argv[1] = "-b";
            argv[2] = "-c";
            argv[3] = b->pwfile;
            argv[4] = b->username;
            argv[5] = b->password;
            argv[6] = NULL;
            if (run_capture(argv, 5000, NULL, 0) != 0) {
                fprintf(stderr, "broker: mosquitto_passwd failed\n");
                remove_dir(b->dir);
                free(b);
                return NULL;
            }
        }
    }
    for (attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        b->port = unused_port();
        if (b->port == 0) {
            continue;
        }
        r = launch(b);
        if (r == 0) {
            return b;
        }
        /* Someone took the port between our probe and mosquitto's bind. */
        terminate(b);
    }
    {
        char *out = read_file(b->out);
        char *log = read_file(b->log);
        fprintf(stderr, "broker: mosquitto did not start (%d)\n%s\n%s\n", r, out ? out : "",
                log ? log : "");
        free(out);
        free(log);
    }
    remove_dir(b->dir);
    free(b);
    return NULL;
}

uint16_t broker_port(const broker_t *b)
{
    return b->port;
}

const char *broker_log_path(const broker_t *b)
{
    return b->log;
}

size_t broker_log_count(const broker_t *b, const char *needle)
{
    char *log = read_file(b->log);
    size_t n = 0, nl = strlen(needle);
    const char *p;
    if (log == NULL || nl == 0) {
        free(log);
        return 0;
    }
    for (p = strstr(log, needle); p != NULL; p = strstr(p + nl, needle)) {
        n++;
    }
    free(log);
    return n;
}

bool broker_log_wait(const broker_t *b, const char *needle, size_t n, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        if (broker_log_count(b, needle) >= n) {
            return true;
        }
        if (now_ms() >= deadline) {
            return false;
        }
        sleep_ms(10);
    }
}

void broker_stop(broker_t *b)
{
    if (b == NULL) {
        return;
    }
    /* A failed assertion skips the test's own proc_free. */
    proc_free_all();
    terminate(b);
    remove_dir(b->dir);
    free(b);
}

void broker_kill(broker_t *b)
{
    if (b->pid > 0) {
        kill_and_reap(b->pid);
        b->pid = 0;
    }
}

void broker_pause(broker_t *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGSTOP);
    }
}

void broker_resume(broker_t *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGCONT);
    }
}

int broker_restart(broker_t *b)
{
    uint64_t deadline = now_ms() + READY_TIMEOUT_MS;
    terminate(b);
    /* Same port: clients reconnect where they were. Retry while the old
     * socket lingers. */
    for (;;) {
        int r = launch(b);
        if (r == 0) {
            return 0;
        }
        terminate(b);
        if (now_ms() >= deadline) {
            return -1;
        }
        sleep_ms(50);
    }
}

proc_t *broker_sub_start(const broker_t *b, const char *topic, int count, int timeout_s)
{
    char port[8], cnt[16], tmo[16];
    char *argv[28];
    int n = 0;
    proc_t *p;
    snprintf(port, sizeof(port), "%u", (unsigned)b->port);
    snprintf(cnt, sizeof(cnt), "%d", count);
    snprintf(tmo, sizeof(tmo), "%d", timeout_s);
    /* mosquitto_sub's stdout is a file here, so it would be block-buffered
     * and "received SUBACK" would show only at exit. */
    if (access("/usr/bin/stdbuf", X_OK) == 0) {
        argv[n++] = "/usr/bin/stdbuf";
        argv[n++] = "-oL";
    }
    argv[n++] = "mosquitto_sub";
    argv[n++] = "-h";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-p";
    argv[n++] = port;
    argv[n++] = "-t";
    argv[n++] = (char *)(uintptr_t)topic;
    argv[n++] = "-q";
    argv[n++] = "2";
    argv[n++] = "-C";
    argv[n++] = cnt;
    argv[n++] = "-W";
    argv[n++] = tmo;
    argv[n++] = "-F";
    argv[n++] = "P:%x:%q:%r:%t";
    argv[n++] = "-d";
    if (b->username[0] != '\0') {
        argv[n++] = "-u";
        argv[n++] = (char *)(uintptr_t)b->username;
        argv[n++] = "-P";
        argv[n++] = (char *)(uintptr_t)b->password;
    }
    argv[n] = NULL;
    p = proc_spawn(argv);
    if (p == NULL) {
        return NULL;
    }
    if (!proc_wait_output(p, "received SUBACK", 5000)) {
        fprintf(stderr, "broker: mosquitto_sub did not subscribe:\n%s\n", proc_output(p));
        proc_free(p);
        return NULL;
    }
    return p;
}

int broker_pub(const broker_t *b, const char *topic, const char *payload, int qos, bool retain)
{
    char port[8], q[8];
    char *argv[24];
    char out[2048];
    int n = 0, st;
    snprintf(port, sizeof(port), "%u", (unsigned)b->port);
    snprintf(q, sizeof(q), "%d", qos);
    argv[n++] = "mosquitto_pub";
    argv[n++] = "-h";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-p";
    argv[n++] = port;
    argv[n++] = "-t";
    argv[n++] = (char *)(uintptr_t)topic;
    argv[n++] = "-q";
    argv[n++] = q;
    if (payload == NULL || payload[0] == '\0') {
        argv[n++] = "-n";
    } else {
        argv[n++] = "-m";
        argv[n++] = (char *)(uintptr_t)payload;
    }
    if (retain) {
        argv[n++] = "-r";
    }
    if (b->username[0] != '\0') {
        argv[n++] = "-u";
        argv[n++] = (char *)(uintptr_t)b->username;
        argv[n++] = "-P";
        argv[n++] = (char *)(uintptr_t)b->password;
    }
    argv[n] = NULL;
    st = run_capture(argv, 5000, out, sizeof(out));
    if (st != 0) {
        fprintf(stderr, "broker: mosquitto_pub exited %d:\n%s\n", st, out);
    }
    return st;
}

/* ----------------------------------------------------------------- silent */

silent_t *silent_start(void)
{
    silent_t *s = calloc(1, sizeof(*s));
    int ls, maxfd;
    if (s == NULL) {
        return NULL;
    }
    ls = bind_loopback(&s->port);
    if (ls < 0 || listen(ls, 64) != 0) {
        if (ls >= 0) {
            close(ls);
        }
        free(s);
        return NULL;
    }
    maxfd = highest_fd();
    s->pid = fork();
    if (s->pid == 0) {
        /* Accepts and holds each connection, never reads or writes; the
         * oldest is closed when the ring is full (its client gave up long
         * ago). Only async-signal-safe calls: the parent may have threads. */
        int held[256];
        unsigned next = 0, i;
        int fd;
        for (fd = 3; fd <= maxfd; fd++) {
            if (fd != ls) {
                close(fd);
            }
        }
        for (i = 0; i < 256; i++) {
            held[i] = -1;
        }
        for (;;) {
            int c = accept(ls, NULL, NULL);
            if (c < 0) {
                continue;
            }
            if (held[next] >= 0) {
                close(held[next]);
            }
            held[next] = c;
            next = (next + 1) % 256;
        }
    }
    close(ls);
    if (s->pid < 0) {
        free(s);
        return NULL;
    }
    return s;
}

uint16_t silent_port(const silent_t *s)
{
    return s->port;
}

void silent_stop(silent_t *s)
{
    if (s == NULL) {
        return;
    }
    kill_and_reap(s->pid);
    free(s);
}
