/*
 * The clients' side of the backpressure matrix: a transport stack over the
 * slow link (bp_link.h), and a driver per client (the threaded kmqtt_client_t
 * and nano) that publishes a cell's numbered messages as fast as the client
 * takes them, then the end marker, then disconnects.
 */
#ifndef KMQTT_BP_DRIVE_H
#define KMQTT_BP_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bp_link.h"
#include "bp_msg.h"
#include "kmqtt/mem.h"
#include "kmqtt/port.h"

/* What a cell asks of a driver. */
typedef struct bp_drive {
    kmqtt_mem_t *mem;    /* every byte of the client and its transports */
    bool tls, ws;        /* the stack over the link: tcp, tls, ws or ws over tls */
    const char *ca_file; /* TLS: the CA that signed the peer's certificate */
    uint16_t port;       /* the peer, on 127.0.0.1 */
    size_t tx_size;      /* the client's send buffer */
    uint8_t qos;
    uint32_t count;
    bp_sizes_t sizes;
    uint32_t timeout_ms; /* the whole run */
    bp_link_stats_t *link;
} bp_drive_t;

typedef struct bp_client_result {
    uint32_t sent;  /* numbered messages the client accepted */
    uint32_t acked; /* QoS 1: numbered messages it reported acknowledged */
    bool end_acked; /* the end marker was acknowledged */
    bool failed;
    char error[200]; /* the first thing that went wrong on this side */
} bp_client_result_t;

/* Builds the stack's transport (the caller owns it, or hands it to a
 * client). KMQTT_OK or the first create error (nothing left allocated). */
kmqtt_err_t bp_stack_create(const bp_drive_t *d, kmqtt_transport_t *out);

void bp_drive_threaded(const bp_drive_t *d, bp_client_result_t *r);
void bp_drive_nano(const bp_drive_t *d, bp_client_result_t *r);

/* Records the first client-side error. */
void bp_client_fail(bp_client_result_t *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
