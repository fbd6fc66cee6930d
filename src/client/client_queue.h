/*
 * The offline queue of store and forward: messages published while the
 * client cannot send them, kept in order in one buffer allocated at create.
 *
 * Layout: entries lie back to back in buf[head, tail), each a fixed header
 * followed by the topic and the payload. Taking the front moves head; an
 * append that finds no room at the end first slides the live entries to
 * offset 0; dropping an entry from the middle slides the later ones down.
 * So the buffer never fragments and nothing is allocated after init: the
 * cost of a drop is one memmove of at most the queue's bytes.
 *
 * Not thread-safe: the client calls it under its lock. Kept apart from the
 * client struct so the unit tests can drive it directly.
 */
#ifndef KMQTT_CLIENT_QUEUE_H
#define KMQTT_CLIENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmqtt/client.h"

/* Bytes of bookkeeping in front of every queued message. */
#define KC_QUEUE_HDR KMQTT_QUEUE_ENTRY_OVERHEAD

typedef struct kc_queue {
    uint8_t *buf;
    size_t cap;
    size_t head, tail;
    uint32_t count;
    uint32_t max_msgs;
    kmqtt_queue_policy_t policy;
    uint32_t next_seq;
} kc_queue_t;

/* One queued message; views into the queue's buffer, valid until the next
 * change of the queue. */
typedef struct kc_queue_item {
    uint32_t seq;
    const char *topic;
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
    bool retain;
} kc_queue_item_t;

/* Told about each message the drop-oldest policy removes to make room. */
typedef void (*kc_queue_drop_fn)(const kc_queue_item_t *item, void *ctx);

void kc_queue_init(kc_queue_t *q, uint8_t *buf, size_t cap, uint32_t max_msgs,
                   kmqtt_queue_policy_t policy);

/* Bytes one message takes in the queue. */
size_t kc_queue_entry_size(size_t topic_len, size_t payload_len);

/* Appends a copy. Returns KMQTT_OK (and *seq, may be NULL), KMQTT_ETOOBIG
 * (larger than the whole queue) or KMQTT_EQUEUE_FULL (refuse-new policy, or
 * nothing left to drop). With drop-oldest, drop() hears of each message
 * removed first (oldest QoS 0 first, then the oldest). */
kmqtt_err_t kc_queue_push(kc_queue_t *q, const char *topic, size_t topic_len, const void *payload,
                          size_t payload_len, uint8_t qos, bool retain, kc_queue_drop_fn drop,
                          void *drop_ctx, uint32_t *seq);

/* The oldest message; false if the queue is empty. */
bool kc_queue_front(const kc_queue_t *q, kc_queue_item_t *item);

/* Removes the oldest message (no-op if empty). */
void kc_queue_pop(kc_queue_t *q);

/* Removes every message, telling drop() of each (may be NULL). */
void kc_queue_clear(kc_queue_t *q, kc_queue_drop_fn drop, void *drop_ctx);

/* Bytes in use (headers included). */
size_t kc_queue_bytes(const kc_queue_t *q);

/* The queue's buffer size for options o (0 = queue off); called by the
 * client's create and by kmqtt_client_memory_size for no-malloc builds. */
size_t kc_queue_memory_size(const kmqtt_client_options_t *o);

#endif
