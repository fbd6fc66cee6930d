/*
 * nano_wake — the firmware loop of a battery sensor that sleeps between
 * readings, on the nano client.
 *
 *   wake -> connect -> publish one reading at QoS 1 -> wait for PUBLISHED
 *        -> disconnect -> sleep
 *
 * Everything is static: the client, its configuration and its three buffers.
 * The nano client allocates nothing and starts no thread; on a
 * microcontroller the transport would be the port's lwIP TCP and the clock
 * the RTOS tick counter. Here it is the POSIX port, so it runs on a PC:
 *
 *   nano_wake [host] [port] [cycles] [sleep_ms]   (default 127.0.0.1 1883 3 1000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmqtt/nano.h"
#include "kmqtt/port.h"

/* Sized for this device's packets: a 40-byte topic and a short payload. The
 * store holds unacknowledged QoS 1 messages (packet + 8 bytes each), so a
 * reading survives a lost connection and goes out again on reconnect. */
static uint8_t rx_buf[128];
static uint8_t tx_buf[256];
static uint8_t store_buf[256];

static kmqtt_nano_t client;
static kmqtt_nano_config_t config; /* referenced by the client: must stay alive */
static kmqtt_mem_t mem;            /* the TCP transport's one allocation */
static kmqtt_transport_t tcp;

static volatile int connected; /* set from the event callback */
static volatile int published;
static volatile int failed;

static uint32_t now(void)
{
    /* The client wants a free-running 32-bit millisecond counter; it copes
     * with the wrap after 49 days, so truncating is right. */
    return (uint32_t)kmqtt_port_now_ms();
}

static void on_event(void *user, const kmqtt_nano_event_t *ev)
{
    (void)user;
    switch (ev->type) {
    case KMQTT_NANO_EV_CONNECTED:
        connected = 1;
        break;
    case KMQTT_NANO_EV_PUBLISHED:
        published = ev->err == KMQTT_OK ? 1 : -1;
        break;
    case KMQTT_NANO_EV_CONNECT_FAILED:
    case KMQTT_NANO_EV_LOST:
        /* The client retries by itself; a device would count these to decide
         * when to give up and sleep. */
        fprintf(stderr, "nano_wake: %s (reason %u)\n", kmqtt_strerror(ev->err),
                (unsigned)ev->reason_code);
        failed++;
        break;
    default:
        break;
    }
}

/* Runs the client until *flag is set (by the callback) or the deadline.
 * Poll first, look at the result, and only then sleep: a loop of
 * kmqtt_nano_step would sleep once more after the poll that delivered the
 * event. The wait is where firmware would enter a low-power wait for the
 * socket (or the next due time) instead. */
static int run_until(volatile int *flag, uint32_t timeout_ms)
{
    uint32_t start = now();
    uint32_t next;
    unsigned ready;
    for (;;) {
        if (kmqtt_nano_poll(&client, now(), &next) != KMQTT_OK) {
            return -1;
        }
        if (*flag != 0) {
            return *flag > 0 ? 0 : -1;
        }
        if ((uint32_t)(now() - start) >= timeout_ms || failed > 3) {
            return -1; /* give up for this wake; save the battery */
        }
        (void)tcp.wait(tcp.ctx,
                       KMQTT_WAIT_READ | (kmqtt_nano_want_write(&client) ? KMQTT_WAIT_WRITE : 0u),
                       next < 100u ? next : 100u, &ready);
    }
}

/* One wake of the device. */
static int wake(int cycle)
{
    kmqtt_nano_msg_t msg;
    char reading[32];
    uint16_t id;
    kmqtt_err_t err;

    connected = 0;
    published = 0;
    err = kmqtt_nano_connect(&client, now());
    if (err != KMQTT_OK) {
        fprintf(stderr, "nano_wake: connect: %s\n", kmqtt_strerror(err));
        return -1;
    }
    /* The CONNACK is handled by poll. Failed attempts are retried by the
     * client itself (reconnect_min_ms); after a few the device gives up and
     * sleeps, its reading still in the store. */
    failed = 0;
    if (run_until(&connected, 10000u) != 0) {
        (void)kmqtt_nano_disconnect(&client, 0, 0);
        return -1;
    }

    /* A reading. The payload is copied into tx and the store at publish, so
     * the buffer may be reused at once. */
    snprintf(reading, sizeof(reading), "{\"t\":%d.%d}", 20 + cycle % 5, cycle % 10);
    memset(&msg, 0, sizeof(msg));
    msg.topic = "sensors/nano-sensor-1/temperature";
    msg.topic_len = (uint16_t)strlen(msg.topic);
    msg.qos = 1;
    msg.payload = (const uint8_t *)reading;
    msg.payload_len = strlen(reading);
    err = kmqtt_nano_publish(&client, &msg, now(), &id);
    if (err != KMQTT_OK) {
        fprintf(stderr, "nano_wake: publish: %s\n", kmqtt_strerror(err));
    } else if (run_until(&published, 10000u) != 0) {
        /* Not acknowledged: the reading stays in the store and is sent again
         * at the next wake (clean_session false keeps the session). */
        fprintf(stderr, "nano_wake: reading %d not acknowledged yet\n", cycle);
    } else {
        printf("cycle %d: reading %s acknowledged (packet id %u)\n", cycle, reading, (unsigned)id);
    }

    /* Disconnect sends DISCONNECT and closes the socket: the broker drops the
     * will, and the radio can power down. */
    (void)kmqtt_nano_disconnect(&client, 0, 1000);
    return published > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    kmqtt_nano_buffers_t bufs;
    int cycles, sleep_ms, i, bad = 0;
    kmqtt_err_t err;

    if (kmqtt_mem_init(&mem, NULL) != KMQTT_OK || kmqtt_port_tcp_create(&mem, &tcp) != KMQTT_OK) {
        fprintf(stderr, "nano_wake: no TCP transport\n");
        return 1;
    }
    kmqtt_nano_config_init(&config);
    config.transport = &tcp;
    config.host = argc > 1 ? argv[1] : "127.0.0.1";
    config.port = (uint16_t)(argc > 2 ? atoi(argv[2]) : 1883);
    config.mqtt.client_id = "nano-sensor-1";
    config.mqtt.clean_session = false; /* unacknowledged readings survive a bad link */
    config.mqtt.keepalive_s = 30;
    config.on_event = on_event;

    memset(&bufs, 0, sizeof(bufs));
    bufs.rx = rx_buf;
    bufs.rx_size = sizeof(rx_buf);
    bufs.tx = tx_buf;
    bufs.tx_size = sizeof(tx_buf);
    bufs.store = store_buf;
    bufs.store_size = sizeof(store_buf);
    err = kmqtt_nano_init(&client, &config, &bufs);
    if (err != KMQTT_OK) {
        fprintf(stderr, "nano_wake: init: %s\n", kmqtt_strerror(err));
        tcp.destroy(tcp.ctx);
        return 1;
    }
    printf("nano client: %zu bytes of state, %zu of buffers\n", sizeof(client),
           sizeof(rx_buf) + sizeof(tx_buf) + sizeof(store_buf));

    cycles = argc > 3 ? atoi(argv[3]) : 3;
    sleep_ms = argc > 4 ? atoi(argv[4]) : 1000;
    for (i = 1; i <= cycles; i++) {
        if (wake(i) != 0) {
            bad++;
        }
        /* Deep sleep until the next reading; a second by default. */
        if (sleep_ms > 0) {
            kmqtt_port_sleep_ms((uint32_t)sleep_ms);
        }
    }
    tcp.destroy(tcp.ctx);
    printf("%d of %d wakes delivered their reading\n", cycles - bad, cycles);
    return bad == 0 ? 0 : 1;
}
