/*
 * A program as a user writes it against an installed kmqtt (the install
 * test builds it with pkg-config, with find_package and with the source
 * tree as a subdirectory). It connects to URL (mqtt://, mqtts://, ws://,
 * wss://), subscribes to a topic of its own, publishes one QoS 1 message to
 * it and waits until the message comes back; then it checks that the
 * library it runs with is the one its headers describe and that the
 * transports returned every byte they took.
 *
 *   consumer URL [CAFILE]      exit 0 and one line "consumer: ... received ..."
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmqtt/client.h>
#include <kmqtt/transport.h>
#include <kmqtt/version.h>

#define WAIT_MS 10000u

static char received[64];
static int got;

static void on_message(kmqtt_client_t *c, const kmqtt_publish_t *m, void *ctx)
{
    size_t n = m->payload.len < sizeof received - 1 ? m->payload.len : sizeof received - 1;
    (void)c;
    (void)ctx;
    memcpy(received, m->payload.ptr, n);
    received[n] = '\0';
    got = 1;
}

static int fail(const char *what, kmqtt_err_t e)
{
    fprintf(stderr, "consumer: %s: %s\n", what, kmqtt_strerror(e));
    return 1;
}

int main(int argc, char **argv)
{
    static kmqtt_mem_t mem; /* the transports' memory, checked at the end */
    static char host[256];
    const char *url = argc > 1 ? argv[1] : "";
    const char *cafile = argc > 2 ? argv[2] : NULL;
    const char *sep = strstr(url, "://");
    const char *colon;
    int tls, ws, port, rc = 1;
    kmqtt_transport_t tcp, mid, top;
    kmqtt_client_options_t o;
    kmqtt_sub_request_t sub;
    kmqtt_mem_stats_t st;
    kmqtt_client_t *c = NULL;
    kmqtt_err_t e;
    kmqtt_publish_result_t r;
    int i;

    if (sep == NULL || (colon = strrchr(sep + 3, ':')) == NULL ||
        (size_t)(colon - (sep + 3)) >= sizeof host) {
        fprintf(stderr, "usage: consumer mqtt[s]|ws[s]://host:port [cafile]\n");
        return 2;
    }
    tls = strncmp(url, "mqtts", 5) == 0 || strncmp(url, "wss", 3) == 0;
    ws = strncmp(url, "ws", 2) == 0;
    memcpy(host, sep + 3, (size_t)(colon - (sep + 3)));
    port = atoi(colon + 1);

    if (strcmp(kmqtt_version(), KMQTT_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: library %s, headers %s\n", kmqtt_version(),
                KMQTT_VERSION_STRING);
        return 3;
    }
    if ((e = kmqtt_mem_init(&mem, NULL)) != KMQTT_OK)
        return fail("mem", e);
    if ((e = kmqtt_port_tcp_create(&mem, &tcp)) != KMQTT_OK)
        return fail("tcp", e);
    mid = tcp;
    if (tls) {
        kmqtt_tls_options_t to;
        kmqtt_tls_options_init(&to);
        to.ca_file = cafile;
        if ((e = kmqtt_tls_create(&mem, &to, &tcp, &mid)) != KMQTT_OK) {
            tcp.destroy(tcp.ctx);
            return fail("tls", e);
        }
    }
    top = mid;
    if (ws) {
        kmqtt_ws_options_t wo;
        memset(&wo, 0, sizeof wo);
        if ((e = kmqtt_ws_create(&mem, &wo, &mid, &top)) != KMQTT_OK) {
            mid.destroy(mid.ctx);
            return fail("ws", e);
        }
    }

    kmqtt_client_options_init(&o);
    o.host = host;
    o.port = (uint16_t)port;
    o.transport = &top;
    if ((e = kmqtt_client_create(&o, &c)) != KMQTT_OK) {
        top.destroy(top.ctx);
        return fail("create", e);
    }
    memset(&sub, 0, sizeof sub);
    sub.filter = "kmqtt/install/echo";
    sub.qos = 1;
    sub.handler = on_message;
    if ((e = kmqtt_connect(c, WAIT_MS, NULL)) != KMQTT_OK) {
        fail("connect", e);
    } else if ((e = kmqtt_subscribe(c, &sub, 1, WAIT_MS, NULL, NULL)) != KMQTT_OK) {
        fail("subscribe", e);
    } else if ((e = kmqtt_publish(c, sub.filter, url, strlen(url) < 60 ? strlen(url) : 60, 1, false,
                                  NULL, &r)) != KMQTT_OK) {
        fail("publish", e);
    } else if ((e = kmqtt_publish_wait(c, r.packet_id, WAIT_MS, NULL)) != KMQTT_OK) {
        fail("PUBACK", e);
    } else {
        for (i = 0; i < (int)(WAIT_MS / 100u) && !got; i++) {
            if ((e = kmqtt_run(c, 100)) != KMQTT_OK) {
                fail("run", e);
                break;
            }
        }
        if (got) {
            rc = 0;
        } else if (e == KMQTT_OK) {
            fprintf(stderr, "consumer: the message did not come back\n");
        }
    }
    kmqtt_client_destroy(c);
    kmqtt_mem_get_stats(&mem, &st);
    if (st.bytes != 0 || st.blocks != 0) {
        fprintf(stderr, "consumer: the transports left %lu bytes in %lu blocks\n",
                (unsigned long)st.bytes, (unsigned long)st.blocks);
        rc = 1;
    }
    if (rc == 0) {
        printf("consumer: kmqtt %s, TLS backend %s: received '%s'\n", kmqtt_version(),
               kmqtt_tls_backend(), received);
    }
    return rc;
}
