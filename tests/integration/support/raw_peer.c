/*
 * Raw 5.0 packets over a socket, for scripted servers (see raw_peer.h).
 */
#include "raw_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int raw_listen(int backlog, uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

long raw_read_packet(int fd, uint8_t *buf, size_t cap, unsigned timeout_ms)
{
    size_t have = 0, need = 2, len = 0;

    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t n;
        kmqtt_err_t e;

        if (have >= need) {
            /* The fixed header says how long the packet is. */
            e = kmqtt_packet_frame(buf, have, 0, &len);
            if (e == KMQTT_OK)
                return (long)len;
            if (e != KMQTT_NEED_MORE || len > cap)
                return -1;
            need = len > need ? len : need + 1;
        }
        if (need > cap || poll(&pf, 1, (int)timeout_ms) <= 0)
            return -1;
        n = recv(fd, buf + have, need - have, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
}

int raw_send_packet(int fd, const kmqtt_packet_t *p)
{
    uint8_t out[512];
    size_t n = 0;

    if (kmqtt_packet_encode(p, KMQTT_V5, out, sizeof out, &n) != KMQTT_OK)
        return -1;
    return send(fd, out, n, 0) == (ssize_t)n ? 0 : -1;
}

void raw_str_prop(kmqtt_prop_t *p, kmqtt_prop_id_t id, const char *s)
{
    memset(p, 0, sizeof *p);
    p->id = id;
    p->str.ptr = s;
    p->str.len = strlen(s);
}

void raw_user_prop(kmqtt_prop_t *p, const char *name, const char *value)
{
    raw_str_prop(p, KMQTT_PROP_USER_PROPERTY, name);
    p->value.ptr = value;
    p->value.len = strlen(value);
}
