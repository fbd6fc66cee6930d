/*
 * nano_firmware — a firmware image arriving over MQTT into a 1 KB receive
 * buffer (kmqtt/nano.h, messages in pieces): the image is never held whole.
 * Each piece would be written to flash at its offset; here its CRC-32 is
 * taken (as a bootloader would check the image) and its bytes counted.
 * The QoS 1 PUBACK leaves only after the last piece was handed over, so an
 * image cut by a lost connection comes again from its first byte.
 *
 * It subscribes to devices/<id>/fw at QoS 1, takes -n images (default 1)
 * and prints for each its size, CRC-32, the pieces and the time from its
 * first to its last byte; at the end the process's peak RSS.
 *
 *   nano_firmware [-h host] [-p port] [-i device-id] [-n images] [-V 5]
 *   mosquitto_pub -p port -q 1 -t devices/<id>/fw -f image.bin
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kmqtt/nano.h"
#include "kmqtt/port.h"
#include "kmqtt/store.h" /* kmqtt_crc32 */

/* The whole MQTT budget of the device: 1 KB in, 512 B out, no store (it
 * publishes nothing at QoS 1). */
static uint8_t rx[1024], tx[512];
static kmqtt_nano_config_t cfg;
static kmqtt_nano_t client;
static char fw_topic[64];
static int images, want = 1;
static uint32_t crc, pieces;
static size_t written;
static uint64_t first_us;

static uint32_t now_ms(void)
{
    return (uint32_t)kmqtt_port_now_ms();
}

static void on_event(void *user, const kmqtt_nano_event_t *ev)
{
    (void)user;
    switch (ev->type) {
    case KMQTT_NANO_EV_CONNECTED:
        if (!ev->session_present) {
            kmqtt_nano_sub_t sub = {fw_topic, 1};
            (void)kmqtt_nano_subscribe(&client, &sub, 1, NULL, 0, now_ms(), NULL);
        }
        break;
    case KMQTT_NANO_EV_SUBACK:
        printf("waiting for images on %s\n", fw_topic);
        fflush(stdout);
        break;
    case KMQTT_NANO_EV_MESSAGE_BEGIN:
        /* Erase the flash area for ev->total bytes here. */
        crc = 0;
        pieces = 0;
        written = 0;
        first_us = kmqtt_port_now_ms() * 1000u;
        break;
    case KMQTT_NANO_EV_MESSAGE_CHUNK:
        /* flash_write(ev->offset, ev->msg->payload, ev->msg->payload_len) */
        crc = kmqtt_crc32(crc, ev->msg->payload, ev->msg->payload_len);
        written += ev->msg->payload_len;
        pieces++;
        break;
    case KMQTT_NANO_EV_MESSAGE_END:
        printf("image: %zu bytes, crc32 %08lx, %lu pieces, %llu ms\n", written, (unsigned long)crc,
               (unsigned long)pieces,
               (unsigned long long)(kmqtt_port_now_ms() - first_us / 1000u));
        images++;
        break;
    case KMQTT_NANO_EV_MESSAGE_ABORT:
        printf("image cut after %zu of %zu bytes: it comes again\n", ev->offset, ev->total);
        break;
    case KMQTT_NANO_EV_MESSAGE:
        printf("small message: %zu bytes (fits rx whole)\n", ev->msg->payload_len);
        break;
    case KMQTT_NANO_EV_LOST:
        printf("connection lost: %s\n", kmqtt_strerror(ev->err));
        break;
    default:
        break;
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *id = "nano-fw";
    uint16_t port = 1883;
    uint8_t version = KMQTT_V311;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:i:n:V:")) != -1) {
        if (opt == 'h')
            host = optarg;
        else if (opt == 'p')
            port = (uint16_t)atoi(optarg);
        else if (opt == 'i')
            id = optarg;
        else if (opt == 'n')
            want = atoi(optarg);
        else if (opt == 'V')
            version = atoi(optarg) == 5 ? KMQTT_V5 : KMQTT_V311;
        else
            return 2;
    }
    snprintf(fw_topic, sizeof fw_topic, "devices/%s/fw", id);

    kmqtt_mem_t m;
    kmqtt_transport_t tcp;
    if (kmqtt_mem_init(&m, NULL) != KMQTT_OK || kmqtt_port_tcp_create(&m, &tcp) != KMQTT_OK)
        return 1;
    kmqtt_nano_config_init(&cfg);
    cfg.transport = &tcp;
    cfg.host = host;
    cfg.port = port;
    cfg.mqtt.version = version;
    cfg.mqtt.client_id = id;
    /* Images up to 16 MiB, handed over in pieces through the 1 KB rx (5.0:
     * advertised as the Maximum Packet Size). */
    cfg.mqtt.max_packet_size = 16u * 1024u * 1024u;
    cfg.reconnect_min_ms = 500;
    cfg.on_event = on_event;
    kmqtt_nano_buffers_t bufs = {rx, sizeof rx, tx, sizeof tx, NULL, 0};
    kmqtt_err_t err = kmqtt_nano_init(&client, &cfg, &bufs);
    if (err == KMQTT_OK)
        err = kmqtt_nano_connect(&client, now_ms());
    if (err != KMQTT_OK) {
        printf("connect: %s\n", kmqtt_strerror(err));
        tcp.destroy(tcp.ctx);
        return 1;
    }
    while (images < want)
        kmqtt_nano_step(&client, now_ms(), 200);
    (void)kmqtt_nano_disconnect(&client, 0, 2000);
    kmqtt_mem_stats_t st;
    kmqtt_mem_get_stats(&m, &st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak rss %ld KiB; heap taken by the transport: peak %zu bytes; client buffers %zu "
           "bytes (static)\n",
           ru.ru_maxrss, st.peak, sizeof rx + sizeof tx + sizeof client);
    tcp.destroy(tcp.ctx);
    return 0;
}
