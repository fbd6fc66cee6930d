/*
 * TLS handshake cost, full and resumed: opens the TLS transport N times
 * against a broker, each time sending an MQTT CONNECT and reading the
 * CONNACK (so a TLS 1.3 session ticket, sent after the handshake, is read),
 * and prints the mean time of open() (TCP connect + handshake) and the
 * handshake's bytes in and out, for the first (full) handshake and the
 * resumed ones. Built once per backend: kmqtt-tlsbench-openssl,
 * kmqtt-tlsbench-mbedtls.
 *
 *   kmqtt-tlsbench-<backend> -h 127.0.0.1 -p PORT --cafile ca.crt [-n 200]
 *                            [--tls13] [--no-resume]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmqtt/port.h"
#include "kmqtt/transport.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CONNECT (3.1.1, clean session, keepalive 60, client id "tlsbench"), then
 * the 4-byte CONNACK. */
static int mqtt_exchange(kmqtt_transport_t *t)
{
    static const unsigned char connect[] = {0x10, 20, 0, 4,   'M', 'Q', 'T', 'T', 4,   2,   0,
                                            60,   0,  8, 't', 'l', 's', 'b', 'e', 'n', 'c', 'h'};
    unsigned char ack[4];
    size_t got = 0, sent = 0;
    while (sent < sizeof connect) {
        unsigned ready;
        long n = t->send(t->ctx, connect + sent, sizeof connect - sent);
        if (n < 0) {
            return -1;
        }
        sent += (size_t)n;
        if (n == 0 && t->wait(t->ctx, KMQTT_WAIT_WRITE, 5000, &ready) != KMQTT_OK) {
            return -1;
        }
    }
    while (got < sizeof ack) {
        unsigned ready;
        long n = t->recv(t->ctx, ack + got, sizeof ack - got);
        if (n < 0) {
            return -1;
        }
        got += (size_t)n;
        if (n == 0 && (t->wait(t->ctx, KMQTT_WAIT_READ, 5000, &ready) != KMQTT_OK || ready == 0)) {
            return -1;
        }
    }
    return ack[0] == 0x20 && ack[3] == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    unsigned port = 8883, n = 200, i;
    kmqtt_tls_options_t o;
    kmqtt_transport_t tcp, tls;
    kmqtt_mem_t mem;
    kmqtt_mem_stats_t ms;
    double full_us = 0, res_us = 0;
    unsigned long long full_in = 0, full_out = 0, res_in = 0, res_out = 0;
    unsigned nfull = 0, nres = 0;
    char version[16] = "";
    int a;

    kmqtt_tls_options_init(&o);
    for (a = 1; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (strcmp(argv[a], "-h") == 0 && v) {
            host = v, a++;
        } else if (strcmp(argv[a], "-p") == 0 && v) {
            port = (unsigned)atoi(v), a++;
        } else if (strcmp(argv[a], "-n") == 0 && v) {
            n = (unsigned)atoi(v), a++;
        } else if (strcmp(argv[a], "--cafile") == 0 && v) {
            o.ca_file = v, a++;
        } else if (strcmp(argv[a], "--tls13") == 0) {
            o.min_version = KMQTT_TLS_1_3;
        } else if (strcmp(argv[a], "--no-resume") == 0) {
            o.session_resumption = false;
        } else {
            fprintf(stderr,
                    "usage: %s -h HOST -p PORT --cafile FILE [-n N] [--tls13] "
                    "[--no-resume]\n",
                    argv[0]);
            return 1;
        }
    }
    kmqtt_mem_init(&mem, NULL);
    if (kmqtt_port_tcp_create(&mem, &tcp) != KMQTT_OK) {
        return 2;
    }
    a = kmqtt_tls_create(&mem, &o, &tcp, &tls);
    if (a != KMQTT_OK) {
        fprintf(stderr, "tls create: %s\n", kmqtt_strerror(a));
        tcp.destroy(tcp.ctx);
        return 2;
    }
    for (i = 0; i < n; i++) {
        kmqtt_tls_stats_t st;
        double t0 = now_us(), dt;
        kmqtt_err_t e = tls.open(tls.ctx, host, (uint16_t)port, 10000);
        dt = now_us() - t0;
        if (e != KMQTT_OK || mqtt_exchange(&tls) != 0) {
            fprintf(stderr, "connection %u failed: %s\n", i, kmqtt_strerror(e));
            tls.destroy(tls.ctx);
            return 3;
        }
        kmqtt_tls_stats(&tls, &st);
        snprintf(version, sizeof version, "%s", st.version);
        if (st.resumed) {
            res_us += dt, res_in += st.bytes_in, res_out += st.bytes_out, nres++;
        } else {
            full_us += dt, full_in += st.bytes_in, full_out += st.bytes_out, nfull++;
        }
        tls.close(tls.ctx);
    }
    tls.destroy(tls.ctx);
    kmqtt_mem_get_stats(&mem, &ms);
    printf("backend=\"%s\" version=%s connections=%u\n", kmqtt_tls_backend(), version, n);
    if (nfull > 0) {
        printf("full:    n=%u open_ms=%.3f bytes_in=%llu bytes_out=%llu\n", nfull,
               full_us / nfull / 1000.0, full_in / nfull, full_out / nfull);
    }
    if (nres > 0) {
        printf("resumed: n=%u open_ms=%.3f bytes_in=%llu bytes_out=%llu\n", nres,
               res_us / nres / 1000.0, res_in / nres, res_out / nres);
    }
    printf("kmqtt_mem after destroy: %zu bytes in %zu blocks\n", ms.bytes, ms.blocks);
    return ms.bytes == 0 ? 0 : 4;
}
