/*
 * kmqtt-test-badbroker PORTFILE HEX [close | subfail]
 *
 * A fake broker for the tools' shell tests: listens on an ephemeral
 * 127.0.0.1 port (written to PORTFILE once listening, so tests never race for
 * a port), accepts one connection, reads the client's CONNECT, answers with
 * the bytes HEX (e.g. "2002000030ffffffffff": CONNACK accepted, then a
 * PUBLISH whose remaining length never ends), and keeps the socket open until
 * the client closes it. "close" closes it at once instead; "subfail" then
 * answers the client's SUBSCRIBE (one filter) with a SUBACK refusing it
 * (0x80) under the packet id the client chose. Exits by itself after 20 s so a failed test cannot
 * leave it behind.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

static int write_port(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        return -1;
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0) {
        return -1;
    }
    /* rename: the test never reads a half-written file. */
    return rename(tmp, path);
}

int main(int argc, char **argv)
{
    unsigned char reply[512];
    unsigned char buf[4096];
    size_t n = 0, i, hexlen;
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    struct pollfd pfd;
    int ls, cs, one = 1;

    const char *mode = argc == 4 ? argv[3] : "";

    if (argc < 3 || argc > 4 ||
        (argc == 4 && strcmp(mode, "close") != 0 && strcmp(mode, "subfail") != 0)) {
        fprintf(stderr, "usage: %s PORTFILE HEX [close | subfail]\n", argv[0]);
        return 2;
    }
    hexlen = strlen(argv[2]);
    if (hexlen % 2 != 0 || hexlen / 2 > sizeof reply) {
        fprintf(stderr, "%s: HEX must be an even number of digits, at most %u bytes\n", argv[0],
                (unsigned)sizeof reply);
        return 2;
    }
    for (i = 0; i < hexlen; i += 2) {
        int hi = hexval(argv[2][i]), lo = hexval(argv[2][i + 1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "%s: bad hex digit\n", argv[0]);
            return 2;
        }
        reply[n++] = (unsigned char)(hi * 16 + lo);
    }
    signal(SIGPIPE, SIG_IGN);
    alarm(20);

    ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls < 0) {
        perror("socket");
        return 1;
    }
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(ls, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(ls, 1) != 0 ||
        getsockname(ls, (struct sockaddr *)&addr, &alen) != 0) {
        perror("bind/listen");
        return 1;
    }
    if (write_port(argv[1], ntohs(addr.sin_port)) != 0) {
        perror(argv[1]);
        return 1;
    }
    cs = accept(ls, NULL, NULL);
    if (cs < 0) {
        perror("accept");
        return 1;
    }
    close(ls);
    /* The CONNECT: one read is enough for the tools' small packets. */
    pfd.fd = cs;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 5000) <= 0 || read(cs, buf, sizeof buf) <= 0) {
        fprintf(stderr, "%s: no CONNECT\n", argv[0]);
        close(cs);
        return 1;
    }
    if (n > 0 && write(cs, reply, n) != (ssize_t)n) {
        perror("write");
        close(cs);
        return 1;
    }
    if (strcmp(mode, "subfail") == 0) {
        ssize_t r;
        size_t pos = 1;
        unsigned char suback[5] = {0x90, 0x03, 0, 0, 0x80};
        pfd.fd = cs;
        pfd.events = POLLIN;
        r = poll(&pfd, 1, 5000) > 0 ? read(cs, buf, sizeof buf) : -1;
        if (r < 4 || buf[0] != 0x82) {
            fprintf(stderr, "%s: no SUBSCRIBE\n", argv[0]);
            close(cs);
            return 1;
        }
        while (pos < (size_t)r && (buf[pos] & 0x80) != 0) { /* remaining length */
            pos++;
        }
        pos++;
        if (pos + 2 > (size_t)r) {
            close(cs);
            return 1;
        }
        suback[2] = buf[pos];
        suback[3] = buf[pos + 1];
        if (write(cs, suback, sizeof suback) != (ssize_t)sizeof suback) {
            close(cs);
            return 1;
        }
    }
    /* Keep the socket open: the client must give up by itself. */
    while (strcmp(mode, "close") != 0) {
        ssize_t r = read(cs, buf, sizeof buf);
        if (r <= 0) {
            break;
        }
    }
    close(cs);
    return 0;
}
