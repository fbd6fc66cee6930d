/*
 * A small lwIP netif driver over a Linux tap device, for the lwIP port test.
 *
 * Debian's liblwip ships the Unix port's tapif driver, but that library's
 * PBUF_POOL buffers are 590 bytes (memp_PBUF_POOL is 616 with its header)
 * while its pbuf code fills a pool pbuf with up to 1514: a full-size frame
 * from the host overflows the heap (ASan: tapif_input -> pbuf_take). This
 * driver receives into PBUF_RAM pbufs of the frame's exact size instead, and
 * its reader thread can be stopped, so the test exits cleanly.
 */
#ifndef KMQTT_TEST_TAPNETIF_H
#define KMQTT_TEST_TAPNETIF_H

#include "lwip/err.h"
#include "lwip/netif.h"

/* netif_add init function; netif->state must be NULL. Attaches to the tap
 * named by PRECONFIGURED_TAPIF and starts the reader. */
err_t tapnetif_init(struct netif *netif);
/* Stops the reader and closes the tap (call without the core lock, after
 * netif_remove). */
void tapnetif_stop(struct netif *netif);

#endif
