/*
 * Scripted TCP server (see script_server.h).
 */
#include "script_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every wait of the child is bounded, so a client that misbehaves stalls
 * one connection for at most this long, never the server. */
#define SCRIPT_IO_MS 2000

struct script_server {
    pid_t pid;
    uint16_t port;
};

/* The highest descriptor the child may have inherited, with room for ones
 * other threads open before fork(). */
static int fd_ceiling(void)
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
    return hi + 256;
}

/* Child only (async-signal-safe calls): reads exactly n bytes. */
static bool read_exact(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p;
        ssize_t r;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, SCRIPT_IO_MS) <= 0) {
            return false;
        }
        r = read(fd, buf + got, n - got);
        if (r <= 0) {
            return false;
        }
        got += (size_t)r;
    }
    return true;
}

/* Child only: reads one whole packet (the CONNECT) and throws it away. */
static bool read_packet(int fd)
{
    uint8_t b, body[256];
    size_t len = 0, mult = 1, left;
    int i;
    if (!read_exact(fd, &b, 1)) {
        return false;
    }
    for (i = 0; i < 4; i++) {
        if (!read_exact(fd, &b, 1)) {
            return false;
        }
        len += (size_t)(b & 0x7fu) * mult;
        mult *= 128u;
        if ((b & 0x80u) == 0) {
            break;
        }
    }
    for (left = len; left > 0;) {
        size_t n = left < sizeof(body) ? left : sizeof(body);
        if (!read_exact(fd, body, n)) {
            return false;
        }
        left -= n;
    }
    return true;
}

/* Child only: waits until the peer closes (or the bound passes). */
static void drain_until_closed(int fd)
{
    uint8_t buf[256];
    for (;;) {
        struct pollfd p;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, SCRIPT_IO_MS) <= 0 || read(fd, buf, sizeof(buf)) <= 0) {
            return;
        }
    }
}

static void serve(int ls, script_t script, pid_t parent)
{
    /* CONNACK accepted, then a PUBLISH header whose remaining length never
     * ends (MQTT-1.5.5: at most 4 bytes). */
    static const uint8_t connack_garbage[] = {0x20, 0x02, 0x00, 0x00, 0x30,
                                              0xff, 0xff, 0xff, 0xff, 0xff};
    for (;;) {
        struct pollfd p;
        int c;
        /* A test killed by its watchdog cannot stop us: go with it. */
        if (getppid() != parent) {
            return;
        }
        p.fd = ls;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 500) <= 0) {
            continue;
        }
        c = accept(ls, NULL, NULL);
        if (c < 0) {
            continue;
        }
        if (read_packet(c) && script == SCRIPT_CONNACK_THEN_GARBAGE &&
            write(c, connack_garbage, sizeof(connack_garbage)) ==
                (ssize_t)sizeof(connack_garbage)) {
            drain_until_closed(c);
        }
        close(c);
    }
}

script_server_t *script_server_start(script_t script)
{
    script_server_t *s = calloc(1, sizeof(*s));
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int ls, maxfd, fd;
    pid_t parent;
    if (s == NULL) {
        return NULL;
    }
    ls = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0 || listen(ls, 64) != 0) {
        if (ls >= 0) {
            close(ls);
        }
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    maxfd = fd_ceiling();
    parent = getpid();
    s->pid = fork();
    if (s->pid == 0) {
        /* The child must not hold copies of the test's sockets: a client's
         * connection would outlive its close(). */
        for (fd = 3; fd <= maxfd; fd++) {
            if (fd != ls) {
                close(fd);
            }
        }
        signal(SIGPIPE, SIG_IGN);
        serve(ls, script, parent);
        _exit(0);
    }
    close(ls);
    if (s->pid < 0) {
        free(s);
        return NULL;
    }
    return s;
}

uint16_t script_server_port(const script_server_t *s)
{
    return s->port;
}

void script_server_stop(script_server_t *s)
{
    int st;
    if (s == NULL) {
        return;
    }
    kill(s->pid, SIGKILL);
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR) {
    }
    free(s);
}
