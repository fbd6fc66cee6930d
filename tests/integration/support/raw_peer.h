/*
 * A scripted 5.0 peer speaks raw packets through the codec: the pieces the
 * scripted servers of the 5.0 tests share (a loopback listener, whole
 * packets in and out, property items to build packets with). Every call is
 * bounded; nothing here asserts, the caller decides what a failure means.
 */
#ifndef KMQTT_IT_RAW_PEER_H
#define KMQTT_IT_RAW_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "kmqtt/codec.h"

/* A listening TCP socket on 127.0.0.1 and a free port (*port), backlog
 * connections deep. Returns the socket, or -1 (nothing left open). */
int raw_listen(int backlog, uint16_t *port);

/* Reads one whole packet into buf, waiting at most timeout_ms for each
 * part of it. Returns its length, or -1 on close, timeout, a packet larger
 * than cap or a malformed fixed header. */
long raw_read_packet(int fd, uint8_t *buf, size_t cap, unsigned timeout_ms);

/* Encodes p as 5.0 (at most 512 bytes) and sends it whole. 0 or -1. */
int raw_send_packet(int fd, const kmqtt_packet_t *p);

/* A string property (Reason String, Content Type, ...) naming s, and a
 * User Property naming name and value: views, no copies. */
void raw_str_prop(kmqtt_prop_t *p, kmqtt_prop_id_t id, const char *s);
void raw_user_prop(kmqtt_prop_t *p, const char *name, const char *value);

#endif
