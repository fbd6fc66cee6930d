/*
 * The numbered messages of the backpressure matrix, shared by the clients'
 * drivers (which build them) and the peer (which checks them).
 *
 * Message n (0, 1, 2, ...) goes to topic BP_TOPIC. Its payload starts with n
 * (4 bytes, big endian); every byte after that is a function of n and its
 * position, and its length is a function of n and the cell's size class. So
 * the peer knows, from the number alone, exactly which bytes must follow: a
 * byte out of place, a lost, repeated or misaligned message is seen at the
 * message where it happened.
 *
 * After the last message each driver sends the end marker: a QoS 1 PUBLISH
 * to BP_END_TOPIC whose payload is the count sent (4 bytes, big endian). Its
 * PUBACK tells the client that the peer has read everything before it, so
 * the client only closes once nothing is left in flight (a close with unread
 * data would reset the connection and throw away what the peer had not read).
 */
#ifndef KMQTT_BP_MSG_H
#define KMQTT_BP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_TOPIC     "bp/m"
#define BP_END_TOPIC "bp/end"

/* Largest payload of any class: fits a 64 KiB send buffer with its header. */
#define BP_MSG_MAX 60000u

/* How long the messages of a cell are. */
typedef enum bp_sizes {
    BP_SIZES_SMALL = 0, /* 8..200 bytes: for the byte-at-a-time peer */
    BP_SIZES_512,       /* 8..440: one message fits a 512 B send buffer */
    BP_SIZES_16K,       /* mostly 8..2,000; one in 8 is 2,000..15,000 (spans TLS records) */
    BP_SIZES_64K        /* mostly 8..4,000; one in 16 is 16,500..60,000 (always more than
                           one 16 KiB TLS record) */
} bp_sizes_t;

/* Payload length of message n in class s (at least 8, at most BP_MSG_MAX). */
size_t bp_msg_len(bp_sizes_t s, uint32_t n);

/* The expected byte at position i (>= 4) of message n. */
uint8_t bp_msg_byte(uint32_t n, size_t i);

/* Writes message n of class s into buf (BP_MSG_MAX bytes at least);
 * returns its length. */
size_t bp_msg_fill(bp_sizes_t s, uint32_t n, uint8_t *buf);

/* Checks a payload that claims to be message n of class s (the number in its
 * first 4 bytes already read as n). true if every byte is as built; else
 * false and what differs first in why. */
bool bp_msg_check(bp_sizes_t s, uint32_t n, const uint8_t *p, size_t len, char *why, size_t cap);

/* Bytes of all count messages together (payloads only). */
uint64_t bp_msg_total(bp_sizes_t s, uint32_t count);

/* Big-endian 32-bit number at p / into p. */
uint32_t bp_be32(const uint8_t *p);
void bp_put_be32(uint8_t *p, uint32_t v);

#endif
