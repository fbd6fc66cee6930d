/*
 * Private broker nodes for the broker suite (see bk_nodes.h). Plain POSIX.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "bk_nodes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"

extern char **environ;

#define RABBIT_READY_MS 120000u
#define OTHER_READY_MS  60000u
#define STOP_WAIT_MS    20000u
#define CTL_TIMEOUT_MS  30000u
#define ENV_MAX         24
#define RABBIT_SERVER   "/usr/lib/rabbitmq/bin/rabbitmq-server"
#define ERL             "/usr/bin/erl"
#define EPMD            "/usr/bin/epmd"
#define NODEJS          "/usr/bin/node"

typedef struct bk_node {
    pid_t pid; /* 0 when not running */
    uint16_t mqtt_port, dist_port, amqp_port;
    char name[40]; /* Erlang node name */
    char dir[128];
    char log[192]; /* the node's own log (stdout and stderr go to out) */
    char out[192];
} bk_node_t;

struct bk_cluster {
    bk_kind_t kind;
    int n;
    char dir[64];
    pid_t epmd_pid;
    uint16_t epmd_port;
    bk_node_t node[BK_MAX_NODES];
    broker_t *mosq;
    char servers[BK_MAX_NODES * 24];
    char env[ENV_MAX][256]; /* the cluster's environment overrides */
    int nenv;
    unsigned ctl_seq;
};

/* ------------------------------------------------------------ processes */

static int env_add(char env[][256], int *n, const char *name, const char *value)
{
    if (*n >= ENV_MAX)
        return -1;
    if (strlen(name) + strlen(value) + 2 > sizeof env[0])
        return -1;
    memcpy(env[*n], name, strlen(name));
    env[*n][strlen(name)] = '=';
    memcpy(env[*n] + strlen(name) + 1, value, strlen(value) + 1);
    (*n)++;
    return 0;
}

static bool env_overridden(const char *entry, char env[][256], int n)
{
    int i;
    for (i = 0; i < n; i++) {
        size_t k = (size_t)(strchr(env[i], '=') - env[i]);
        if (strncmp(entry, env[i], k + 1) == 0)
            return true;
    }
    return false;
}

/* Forks and execs argv[0] (a full path) with the process environment, the
 * cluster's overrides and extra (NULL-terminated "NAME=value" list), stdout
 * and stderr appended to out_path, every other descriptor closed. The
 * environment is built before fork: only async-signal-safe calls after it
 * (the test has client threads). Returns the PID or -1. */
static pid_t spawn_env(bk_cluster_t *cl, char *const argv[], char env[][256], int nenv,
                       const char *cwd, const char *out_path)
{
    size_t nen = 0, k = 0, i;
    char **envp;
    pid_t pid;

    while (environ[nen] != NULL)
        nen++;
    envp = calloc(nen + (size_t)cl->nenv + (size_t)nenv + 1, sizeof(char *));
    if (envp == NULL)
        return -1;
    for (i = 0; i < nen; i++) {
        if (!env_overridden(environ[i], cl->env, cl->nenv) &&
            !env_overridden(environ[i], env, nenv))
            envp[k++] = environ[i];
    }
    for (i = 0; i < (size_t)cl->nenv; i++)
        envp[k++] = cl->env[i];
    for (i = 0; i < (size_t)nenv; i++)
        envp[k++] = env[i];
    envp[k] = NULL;

    pid = fork();
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int nul = open("/dev/null", O_RDONLY);
        int j;
        if (fd < 0 || nul < 0 || (cwd != NULL && chdir(cwd) != 0))
            _exit(126);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        for (j = 3; j < 4096; j++)
            close(j);
        /* Its own process group: a signal to the test's group (Ctrl-C)
         * does not reach the nodes half-way; bk_stop ends them. */
        setpgid(0, 0);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    free(envp);
    return pid < 0 ? -1 : pid;
}

static bool reap(pid_t pid, int *status)
{
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
        if (status != NULL)
            *status = r == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return true;
    }
    return false;
}

/* Runs argv to completion (bounded); its output into out. Exit status, or
 * -1 on timeout or failure. */
static int run_ctl(bk_cluster_t *cl, char *const argv[], char env[][256], int nenv, char *out,
                   size_t cap)
{
    char path[128];
    uint64_t deadline = now_ms() + CTL_TIMEOUT_MS;
    int status = -1;
    pid_t pid;
    FILE *f;

    snprintf(path, sizeof path, "%s/ctl.out", cl->dir);
    unlink(path);
    pid = spawn_env(cl, argv, env, nenv, cl->dir, path);
    if (pid < 0)
        return -1;
    while (!reap(pid, &status)) {
        if (now_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
            }
            status = -1;
            break;
        }
        sleep_ms(20);
    }
    if (out != NULL && cap > 0) {
        size_t n = 0;
        out[0] = '\0';
        f = fopen(path, "r");
        if (f != NULL) {
            n = fread(out, 1, cap - 1, f);
            fclose(f);
        }
        out[n] = '\0';
    }
    return status;
}

static bool port_accepts(uint16_t port)
{
    struct sockaddr_in a;
    bool ok;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static int write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return -1;
    }
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* ---------------------------------------------------------------- erlang */

/* epmd of the cluster's own, on a free loopback port, in the foreground
 * (a child we can stop), with the environment every node and ctl gets. */
static int epmd_start(bk_cluster_t *cl)
{
    char port[8], path[128];
    char *argv[6];
    int tries;

    for (tries = 0; tries < 8; tries++) {
        uint64_t deadline;
        cl->epmd_port = unused_port();
        snprintf(port, sizeof port, "%u", (unsigned)cl->epmd_port);
        argv[0] = EPMD;
        argv[1] = "-port";
        argv[2] = port;
        argv[3] = "-address";
        argv[4] = "127.0.0.1";
        argv[5] = NULL;
        snprintf(path, sizeof path, "%s/epmd.log", cl->dir);
        cl->epmd_pid = spawn_env(cl, argv, NULL, 0, cl->dir, path);
        if (cl->epmd_pid < 0)
            return -1;
        deadline = now_ms() + 3000;
        while (now_ms() < deadline && !reap(cl->epmd_pid, NULL)) {
            if (port_accepts(cl->epmd_port)) {
                env_add(cl->env, &cl->nenv, "ERL_EPMD_PORT", port);
                return 0;
            }
            sleep_ms(20);
        }
        kill(cl->epmd_pid, SIGKILL);
        while (waitpid(cl->epmd_pid, NULL, 0) < 0 && errno == EINTR) {
        }
        cl->epmd_pid = 0;
    }
    return -1;
}

/* What rpc:call(Node, M, F, []) returns, if it is a list: its length; -1
 * otherwise. A hidden node of its own name per call. */
static int rpc_list_length(bk_cluster_t *cl, const char *node, const char *mod, const char *fun)
{
    char name[48], eval[512], out[2048];
    char *argv[12];
    int st, len = -1;
    const char *p;

    snprintf(name, sizeof name, "kq%ld_%u@localhost", (long)getpid(), ++cl->ctl_seq);
    snprintf(eval, sizeof eval,
             "R = rpc:call('%s', %s, %s, []), "
             "io:format(\"len=~w~n\", [case is_list(R) of true -> length(R); false -> -1 end]), "
             "halt().",
             node, mod, fun);
    argv[0] = ERL;
    argv[1] = "-sname";
    argv[2] = name;
    argv[3] = "-hidden";
    argv[4] = "-noinput";
    argv[5] = "-kernel";
    argv[6] = "inet_dist_use_interface";
    argv[7] = "{127,0,0,1}";
    argv[8] = "-eval";
    argv[9] = eval;
    argv[10] = NULL;
    st = run_ctl(cl, argv, NULL, 0, out, sizeof out);
    p = strstr(out, "len=");
    if (st == 0 && p != NULL)
        len = atoi(p + 4);
    return len;
}

/* ------------------------------------------------------------- rabbitmq */

static int rabbit_files(bk_cluster_t *cl, bk_node_t *nd)
{
    char path[256], conf[2048];
    size_t at;
    int i;

    at = (size_t)snprintf(conf, sizeof conf,
                          "listeners.tcp.default = 127.0.0.1:%u\n"
                          "mqtt.listeners.tcp.default = 127.0.0.1:%u\n"
                          "mqtt.allow_anonymous = true\n"
                          "cluster_formation.peer_discovery_backend = classic_config\n",
                          (unsigned)nd->amqp_port, (unsigned)nd->mqtt_port);
    for (i = 0; i < cl->n; i++)
        at += (size_t)snprintf(conf + at, sizeof conf - at,
                               "cluster_formation.classic_config.nodes.%d = %s\n", i + 1,
                               cl->node[i].name);
    /* The log goes to RABBITMQ_LOG_BASE/<node name>.log (nd->log). */
    snprintf(conf + at, sizeof conf - at, "log.file.level = info\nlog.console = false\n");
    snprintf(path, sizeof path, "%s/rabbitmq.conf", nd->dir);
    if (write_text(path, conf, 0600) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/enabled_plugins", nd->dir);
    return write_text(path, "[rabbitmq_mqtt].\n", 0600);
}

static pid_t rabbit_launch(bk_cluster_t *cl, bk_node_t *nd)
{
    char env[ENV_MAX][256];
    char port[8], path[256];
    char *argv[3];
    int n = 0;

    env_add(env, &n, "RABBITMQ_NODENAME", nd->name);
    env_add(env, &n, "RABBITMQ_BASE", nd->dir);
    snprintf(path, sizeof path, "%s/mnesia", nd->dir);
    env_add(env, &n, "RABBITMQ_MNESIA_BASE", path);
    snprintf(path, sizeof path, "%s/log", nd->dir);
    env_add(env, &n, "RABBITMQ_LOG_BASE", path);
    snprintf(path, sizeof path, "%s/rabbitmq.conf", nd->dir);
    env_add(env, &n, "RABBITMQ_CONFIG_FILE", path);
    snprintf(path, sizeof path, "%s/advanced.config", nd->dir);
    env_add(env, &n, "RABBITMQ_ADVANCED_CONFIG_FILE", path);
    snprintf(path, sizeof path, "%s/rabbitmq-env.conf", nd->dir);
    env_add(env, &n, "RABBITMQ_CONF_ENV_FILE", path);
    snprintf(path, sizeof path, "%s/enabled_plugins", nd->dir);
    env_add(env, &n, "RABBITMQ_ENABLED_PLUGINS_FILE", path);
    snprintf(path, sizeof path, "%s/pid", nd->dir);
    env_add(env, &n, "RABBITMQ_PID_FILE", path);
    snprintf(port, sizeof port, "%u", (unsigned)nd->dist_port);
    env_add(env, &n, "RABBITMQ_DIST_PORT", port);
    /* exec erl instead of a shell that waits on it: the PID is the node.
     * -noinput (below) keeps the shell off. */
    env_add(env, &n, "RABBITMQ_ALLOW_INPUT", "1");
    env_add(env, &n, "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
            "-kernel inet_dist_use_interface {127,0,0,1}");
    argv[0] = RABBIT_SERVER;
    argv[1] = "-noinput";
    argv[2] = NULL;
    return spawn_env(cl, argv, env, n, nd->dir, nd->out);
}

/* The nodes of the cluster the first live node sees running. */
static int rabbit_running(bk_cluster_t *cl)
{
    int i;
    for (i = 0; i < cl->n; i++) {
        if (cl->node[i].pid > 0)
            return rpc_list_length(cl, cl->node[i].name, "rabbit_nodes", "all_running");
    }
    return -1;
}

/* ------------------------------------------------------------- ejabberd */

static int ejabberd_files(bk_node_t *nd)
{
    char path[256], conf[1024];

    /* Anonymous login (any user name, any password): mod_mqtt wants a user
     * name; the tests give one. */
    snprintf(conf, sizeof conf,
             "hosts:\n  - localhost\n"
             "loglevel: info\n"
             "log_rotate_count: 0\n"
             "auth_method: [anonymous]\n"
             "anonymous_protocol: login_anon\n"
             "listen:\n"
             "  -\n"
             "    port: %u\n"
             "    ip: \"127.0.0.1\"\n"
             "    module: mod_mqtt\n"
             "    backlog: 1024\n"
             "acl:\n  local:\n    user_regexp: \"\"\n"
             "access_rules:\n  local:\n    allow: all\n"
             "shaper_rules: {}\n"
             "modules:\n  mod_mqtt: {}\n",
             (unsigned)nd->mqtt_port);
    snprintf(path, sizeof path, "%s/ejabberd.yml", nd->dir);
    if (write_text(path, conf, 0600) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/spool", nd->dir);
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Where Debian puts ejabberd's Erlang applications (ERL_LIBS). */
static void ejabberd_libs(char *out, size_t cap)
{
    glob_t g;
    snprintf(out, cap, "/usr/lib/x86_64-linux-gnu");
    if (glob("/usr/lib/*/ejabberd-[0-9]*", 0, NULL, &g) == 0 && g.gl_pathc > 0) {
        char *slash = strrchr(g.gl_pathv[0], '/');
        size_t len = (size_t)(slash - g.gl_pathv[0]);
        if (len < cap) {
            memcpy(out, g.gl_pathv[0], len);
            out[len] = '\0';
        }
    }
    globfree(&g);
}

static pid_t ejabberd_launch(bk_cluster_t *cl, bk_node_t *nd)
{
    char env[ENV_MAX][256];
    char path[256], libs[200], spool[300], port[8];
    char *argv[20];
    int n = 0, a = 0;

    snprintf(path, sizeof path, "%s/ejabberd.yml", nd->dir);
    env_add(env, &n, "EJABBERD_CONFIG_PATH", path);
    env_add(env, &n, "EJABBERD_LOG_PATH", nd->log);
    ejabberd_libs(libs, sizeof libs);
    env_add(env, &n, "ERL_LIBS", libs);
    snprintf(path, sizeof path, "%s/erl_crash.dump", nd->dir);
    env_add(env, &n, "ERL_CRASH_DUMP", path);
    env_add(env, &n, "ERL_CRASH_DUMP_BYTES", "0");
    snprintf(spool, sizeof spool, "\"%s/spool\"", nd->dir);
    snprintf(port, sizeof port, "%u", (unsigned)nd->dist_port);
    /* What `ejabberdctl foreground` runs, without its switch to the
     * ejabberd user (that user cannot write the test's directory). */
    argv[a++] = ERL;
    argv[a++] = "-sname";
    argv[a++] = nd->name;
    argv[a++] = "-noinput";
    argv[a++] = "+K";
    argv[a++] = "true";
    argv[a++] = "-kernel";
    argv[a++] = "inet_dist_use_interface";
    argv[a++] = "{127,0,0,1}";
    argv[a++] = "inet_dist_listen_min";
    argv[a++] = port;
    argv[a++] = "inet_dist_listen_max";
    argv[a++] = port;
    argv[a++] = "-mnesia";
    argv[a++] = "dir";
    argv[a++] = spool;
    argv[a++] = "-s";
    argv[a++] = "ejabberd";
    argv[a] = NULL;
    return spawn_env(cl, argv, env, n, nd->dir, nd->out);
}

/* ejabberdctl join_cluster, as its ctl node does it. */
static int ejabberd_join(bk_cluster_t *cl, int i, int to)
{
    char env[ENV_MAX][256];
    char name[48], libs[200], out[2048];
    char *argv[14];
    int n = 0, st;

    ejabberd_libs(libs, sizeof libs);
    env_add(env, &n, "ERL_LIBS", libs);
    snprintf(name, sizeof name, "kq%ld_%u@localhost", (long)getpid(), ++cl->ctl_seq);
    argv[0] = ERL;
    argv[1] = "-sname";
    argv[2] = name;
    argv[3] = "-hidden";
    argv[4] = "-noinput";
    argv[5] = "-s";
    argv[6] = "ejabberd_ctl";
    argv[7] = "-extra";
    argv[8] = cl->node[i].name;
    argv[9] = "join_cluster";
    argv[10] = cl->node[to].name;
    argv[11] = NULL;
    st = run_ctl(cl, argv, env, n, out, sizeof out);
    if (st != 0)
        fprintf(stderr, "bk: ejabberd join_cluster %s %s: exit %d\n%s\n", cl->node[i].name,
                cl->node[to].name, st, out);
    return st == 0 ? 0 : -1;
}

/* --------------------------------------------------------------- aedes */

static pid_t aedes_launch(bk_cluster_t *cl, bk_node_t *nd)
{
    char port[8];
    char *argv[5];

    snprintf(port, sizeof port, "%u", (unsigned)nd->mqtt_port);
    argv[0] = NODEJS;
    argv[1] = KMQTT_BK_SOURCE_DIR "/support/aedes_broker.mjs";
    argv[2] = KMQTT_AEDES_DIR;
    argv[3] = port;
    argv[4] = NULL;
    return spawn_env(cl, argv, NULL, 0, nd->dir, nd->out);
}

/* -------------------------------------------------------------- common */

static pid_t launch(bk_cluster_t *cl, bk_node_t *nd)
{
    switch (cl->kind) {
    case BK_RABBITMQ:
        return rabbit_launch(cl, nd);
    case BK_EJABBERD:
        return ejabberd_launch(cl, nd);
    case BK_AEDES:
        return aedes_launch(cl, nd);
    default:
        return -1;
    }
}

/* Waits until every running node's MQTT port accepts; a node that exits
 * fails it. */
static int wait_ports(bk_cluster_t *cl, uint64_t deadline)
{
    for (;;) {
        int i, ready = 0, want = 0;
        for (i = 0; i < cl->n; i++) {
            bk_node_t *nd = &cl->node[i];
            int st;
            if (nd->pid <= 0)
                continue;
            want++;
            if (reap(nd->pid, &st)) {
                fprintf(stderr, "bk: %s node %s exited (%d) while starting\n",
                        bk_kind_name(cl->kind), nd->name, st);
                nd->pid = 0;
                return -1;
            }
            if (port_accepts(nd->mqtt_port))
                ready++;
        }
        if (ready == want)
            return 0;
        if (now_ms() >= deadline) {
            fprintf(stderr, "bk: %s: %d of %d MQTT ports accept after the deadline\n",
                    bk_kind_name(cl->kind), ready, want);
            return -1;
        }
        sleep_ms(100);
    }
}

/* Waits until the first live node sees want nodes running. */
static int rabbit_wait_members(bk_cluster_t *cl, int want, uint64_t deadline)
{
    int got = -1;
    while (now_ms() < deadline) {
        got = rabbit_running(cl);
        if (got == want)
            return 0;
        sleep_ms(500);
    }
    fprintf(stderr, "bk: rabbitmq: %d of %d nodes running in the cluster\n", got, want);
    return -1;
}

static int ejabberd_wait_members(bk_cluster_t *cl, int want, uint64_t deadline)
{
    int got = -1, i;
    while (now_ms() < deadline) {
        for (i = 0; i < cl->n; i++) {
            if (cl->node[i].pid > 0) {
                got = rpc_list_length(cl, cl->node[i].name, "ejabberd_cluster", "get_nodes");
                break;
            }
        }
        if (got == want)
            return 0;
        sleep_ms(300);
    }
    fprintf(stderr, "bk: ejabberd: %d of %d nodes running in the cluster\n", got, want);
    return -1;
}

static int live_nodes(const bk_cluster_t *cl)
{
    int i, n = 0;
    for (i = 0; i < cl->n; i++)
        n += cl->node[i].pid > 0;
    return n;
}

const char *bk_kind_name(bk_kind_t kind)
{
    switch (kind) {
    case BK_MOSQUITTO:
        return "mosquitto";
    case BK_RABBITMQ:
        return "rabbitmq";
    case BK_EJABBERD:
        return "ejabberd";
    case BK_AEDES:
        return "aedes";
    }
    return "?";
}

static bk_cluster_t *start_mosquitto(bk_cluster_t *cl)
{
    cl->mosq = broker_start(NULL);
    if (cl->mosq == NULL) {
        free(cl);
        return NULL;
    }
    cl->n = 1;
    cl->node[0].mqtt_port = broker_port(cl->mosq);
    snprintf(cl->node[0].log, sizeof cl->node[0].log, "%s", broker_log_path(cl->mosq));
    snprintf(cl->servers, sizeof cl->servers, "127.0.0.1:%u", (unsigned)cl->node[0].mqtt_port);
    return cl;
}

bk_cluster_t *bk_start(bk_kind_t kind, int nodes, uint64_t *boot_ms)
{
    bk_cluster_t *cl = calloc(1, sizeof *cl);
    uint64_t t0 = now_ms(), deadline;
    char path[160];
    size_t at = 0;
    int i, prefix = kind == BK_RABBITMQ ? 'r' : 'e';

    if (cl == NULL || nodes < 1 || nodes > BK_MAX_NODES ||
        ((kind == BK_MOSQUITTO || kind == BK_AEDES) && nodes != 1)) {
        free(cl);
        return NULL;
    }
    cl->kind = kind;
    if (kind == BK_MOSQUITTO) {
        cl = start_mosquitto(cl);
        if (cl != NULL && boot_ms != NULL)
            *boot_ms = now_ms() - t0;
        return cl;
    }
    cl->n = nodes;
    snprintf(cl->dir, sizeof cl->dir, "/tmp/kmqtt-bk-XXXXXX");
    if (mkdtemp(cl->dir) == NULL) {
        free(cl);
        return NULL;
    }
    if (kind == BK_RABBITMQ || kind == BK_EJABBERD) {
        char cookie[40];
        uint32_t r = (uint32_t)getpid() ^ (uint32_t)now_ms() * 2654435761u;
        /* The cookie lives in HOME, as Erlang looks for it; every node and
         * ctl of this cluster gets this HOME, and no other cluster has it. */
        env_add(cl->env, &cl->nenv, "HOME", cl->dir);
        env_add(cl->env, &cl->nenv, "ERL_EPMD_ADDRESS", "127.0.0.1");
        snprintf(cookie, sizeof cookie, "KMQTTBK%08X%08X", (unsigned)r, (unsigned)now_ms());
        snprintf(path, sizeof path, "%s/.erlang.cookie", cl->dir);
        if (write_text(path, cookie, 0400) != 0 || epmd_start(cl) != 0) {
            fprintf(stderr, "bk: could not start epmd\n");
            bk_stop(cl);
            return NULL;
        }
    }
    for (i = 0; i < nodes; i++) {
        bk_node_t *nd = &cl->node[i];
        nd->mqtt_port = unused_port();
        nd->dist_port = unused_port();
        nd->amqp_port = unused_port();
        snprintf(nd->name, sizeof nd->name, "k%c%d@localhost", prefix, i + 1);
        snprintf(nd->dir, sizeof nd->dir, "%s/n%d", cl->dir, i + 1);
        snprintf(nd->out, sizeof nd->out, "%s/out.log", nd->dir);
        if (kind == BK_RABBITMQ)
            snprintf(nd->log, sizeof nd->log, "%s/log/%s.log", nd->dir, nd->name);
        else
            snprintf(nd->log, sizeof nd->log, "%s/node.log", nd->dir);
        if (mkdir(nd->dir, 0700) != 0) {
            bk_stop(cl);
            return NULL;
        }
        at += (size_t)snprintf(cl->servers + at, sizeof cl->servers - at, "%s127.0.0.1:%u",
                               i > 0 ? "," : "", (unsigned)nd->mqtt_port);
    }
    for (i = 0; i < nodes; i++) {
        bk_node_t *nd = &cl->node[i];
        int r = 0;
        if (kind == BK_RABBITMQ)
            r = rabbit_files(cl, nd);
        else if (kind == BK_EJABBERD)
            r = ejabberd_files(nd);
        /* In parallel: a RabbitMQ node's boot is most of the wait. */
        nd->pid = r == 0 ? launch(cl, nd) : -1;
        if (nd->pid <= 0) {
            nd->pid = 0;
            bk_stop(cl);
            return NULL;
        }
    }
    deadline = now_ms() + (kind == BK_RABBITMQ ? RABBIT_READY_MS : OTHER_READY_MS);
    if (wait_ports(cl, deadline) != 0)
        goto fail;
    if (kind == BK_RABBITMQ && rabbit_wait_members(cl, nodes, deadline) != 0)
        goto fail;
    if (kind == BK_EJABBERD) {
        for (i = 1; i < nodes; i++) {
            if (ejabberd_join(cl, i, 0) != 0)
                goto fail;
        }
        /* join_cluster restarts the joining node's ejabberd application. */
        if (ejabberd_wait_members(cl, nodes, deadline) != 0 || wait_ports(cl, deadline) != 0)
            goto fail;
    }
    if (boot_ms != NULL)
        *boot_ms = now_ms() - t0;
    return cl;
fail:
    bk_print_logs(cl, NULL);
    bk_stop(cl);
    return NULL;
}

static void stop_pid(pid_t pid, int sig)
{
    if (pid > 0) {
        kill(pid, SIGCONT);
        kill(pid, sig);
    }
}

void bk_stop(bk_cluster_t *cl)
{
    uint64_t deadline;
    int i;

    if (cl == NULL)
        return;
    if (cl->mosq != NULL)
        broker_stop(cl->mosq);
    for (i = 0; i < cl->n; i++)
        stop_pid(cl->node[i].pid, SIGTERM);
    deadline = now_ms() + STOP_WAIT_MS;
    for (i = 0; i < cl->n; i++) {
        bk_node_t *nd = &cl->node[i];
        while (nd->pid > 0 && !reap(nd->pid, NULL)) {
            if (now_ms() >= deadline) {
                kill(nd->pid, SIGKILL);
                while (waitpid(nd->pid, NULL, 0) < 0 && errno == EINTR) {
                }
                break;
            }
            sleep_ms(20);
        }
        nd->pid = 0;
    }
    if (cl->epmd_pid > 0) {
        kill(cl->epmd_pid, SIGTERM);
        while (waitpid(cl->epmd_pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    if (cl->dir[0] != '\0' && getenv("KMQTT_BK_KEEP") == NULL)
        nftw(cl->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(cl);
}

bk_kind_t bk_kind(const bk_cluster_t *cl)
{
    return cl->kind;
}

int bk_count(const bk_cluster_t *cl)
{
    return cl->n;
}

uint16_t bk_port(const bk_cluster_t *cl, int i)
{
    return i >= 0 && i < cl->n ? cl->node[i].mqtt_port : 0;
}

const char *bk_servers(const bk_cluster_t *cl)
{
    return cl->servers;
}

int bk_node_of_port(const bk_cluster_t *cl, uint16_t port)
{
    int i;
    for (i = 0; i < cl->n; i++) {
        if (cl->node[i].mqtt_port == port)
            return i;
    }
    return -1;
}

bool bk_alive(const bk_cluster_t *cl, int i)
{
    if (cl->kind == BK_MOSQUITTO)
        return i == 0;
    return i >= 0 && i < cl->n && cl->node[i].pid > 0;
}

void bk_kill(bk_cluster_t *cl, int i)
{
    bk_node_t *nd;
    if (i < 0 || i >= cl->n)
        return;
    if (cl->kind == BK_MOSQUITTO) {
        broker_kill(cl->mosq);
        return;
    }
    nd = &cl->node[i];
    if (nd->pid > 0) {
        kill(nd->pid, SIGKILL);
        while (waitpid(nd->pid, NULL, 0) < 0 && errno == EINTR) {
        }
        nd->pid = 0;
    }
}

int bk_restart(bk_cluster_t *cl, int i, uint64_t *boot_ms)
{
    uint64_t t0 = now_ms(), deadline;
    bk_node_t *nd;

    if (i < 0 || i >= cl->n)
        return -1;
    if (cl->kind == BK_MOSQUITTO)
        return broker_restart(cl->mosq);
    nd = &cl->node[i];
    if (nd->pid > 0)
        return 0;
    nd->pid = launch(cl, nd);
    if (nd->pid <= 0) {
        nd->pid = 0;
        return -1;
    }
    deadline = now_ms() + (cl->kind == BK_RABBITMQ ? RABBIT_READY_MS : OTHER_READY_MS);
    if (wait_ports(cl, deadline) != 0 ||
        (cl->kind == BK_RABBITMQ && rabbit_wait_members(cl, live_nodes(cl), deadline) != 0) ||
        (cl->kind == BK_EJABBERD && ejabberd_wait_members(cl, live_nodes(cl), deadline) != 0)) {
        bk_print_logs(cl, NULL);
        return -1;
    }
    if (boot_ms != NULL)
        *boot_ms = now_ms() - t0;
    return 0;
}

static void print_tail(const char *path, const char *needle)
{
    char line[1024];
    char *ring[40];
    int n = 0, i;
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return;
    memset(ring, 0, sizeof ring);
    while (fgets(line, sizeof line, f) != NULL) {
        if (needle != NULL && strstr(line, needle) == NULL)
            continue;
        free(ring[n % 40]);
        ring[n % 40] = strdup(line);
        n++;
    }
    fclose(f);
    for (i = n > 40 ? n - 40 : 0; i < n; i++) {
        fprintf(stderr, "  %s", ring[i % 40] != NULL ? ring[i % 40] : "");
        free(ring[i % 40]);
        ring[i % 40] = NULL;
    }
    for (i = 0; i < 40; i++)
        free(ring[i]);
}

void bk_print_logs(const bk_cluster_t *cl, const char *needle)
{
    int i;
    for (i = 0; i < cl->n; i++) {
        fprintf(stderr, "bk: --- %s node %d (%s) log %s\n", bk_kind_name(cl->kind), i,
                cl->node[i].name, cl->node[i].log);
        print_tail(cl->node[i].log, needle);
        if (cl->kind != BK_MOSQUITTO) {
            fprintf(stderr, "bk: --- its output %s\n", cl->node[i].out);
            print_tail(cl->node[i].out, needle);
        }
    }
}
