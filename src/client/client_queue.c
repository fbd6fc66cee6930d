/*
 * The offline queue's buffer (see client_queue.h for the layout). Headers
 * are copied in and out with memcpy: entries start at any byte offset.
 */
#include <string.h>

#include "client_queue.h"
#include "kmqtt/config.h"

#if KMQTT_CFG_OFFLINE_QUEUE

typedef struct hdr {
    uint32_t seq;
    uint32_t payload_len;
    uint16_t topic_len;
    uint8_t qos;
    uint8_t retain;
} hdr_t;

typedef char hdr_size_check[sizeof(hdr_t) == KC_QUEUE_HDR ? 1 : -1];

size_t kc_queue_memory_size(const kmqtt_client_options_t *o)
{
    if (o == NULL || o->offline_queue_max_msgs == 0)
        return 0;
    return o->offline_queue_max_bytes;
}

void kc_queue_init(kc_queue_t *q, uint8_t *buf, size_t cap, uint32_t max_msgs,
                   kmqtt_queue_policy_t policy)
{
    memset(q, 0, sizeof *q);
    q->buf = buf;
    q->cap = buf == NULL ? 0 : cap;
    q->max_msgs = max_msgs;
    q->policy = policy;
    q->next_seq = 1;
}

size_t kc_queue_entry_size(size_t topic_len, size_t payload_len)
{
    return KC_QUEUE_HDR + topic_len + payload_len;
}

size_t kc_queue_bytes(const kc_queue_t *q)
{
    return q->tail - q->head;
}

static size_t item_at(const kc_queue_t *q, size_t off, kc_queue_item_t *it)
{
    hdr_t h;

    memcpy(&h, q->buf + off, sizeof h);
    it->seq = h.seq;
    it->topic = (const char *)q->buf + off + KC_QUEUE_HDR;
    it->topic_len = h.topic_len;
    it->payload = q->buf + off + KC_QUEUE_HDR + h.topic_len;
    it->payload_len = h.payload_len;
    it->qos = h.qos;
    it->retain = h.retain != 0;
    return kc_queue_entry_size(h.topic_len, h.payload_len);
}

bool kc_queue_front(const kc_queue_t *q, kc_queue_item_t *item)
{
    if (q->count == 0)
        return false;
    (void)item_at(q, q->head, item);
    return true;
}

void kc_queue_pop(kc_queue_t *q)
{
    kc_queue_item_t it;

    if (q->count == 0)
        return;
    q->head += item_at(q, q->head, &it);
    q->count--;
    if (q->count == 0)
        q->head = q->tail = 0;
}

/* The entry to drop for room: the oldest QoS 0 message, else the oldest. */
static void drop_one(kc_queue_t *q, kc_queue_drop_fn drop, void *ctx)
{
    kc_queue_item_t it;
    size_t off = q->head, size, victim = q->head;

    while (off < q->tail) {
        size = item_at(q, off, &it);
        if (it.qos == 0) {
            victim = off;
            break;
        }
        off += size;
    }
    size = item_at(q, victim, &it);
    if (drop != NULL)
        drop(&it, ctx);
    memmove(q->buf + victim, q->buf + victim + size, q->tail - victim - size);
    q->tail -= size;
    q->count--;
    if (q->count == 0)
        q->head = q->tail = 0;
}

kmqtt_err_t kc_queue_push(kc_queue_t *q, const char *topic, size_t topic_len, const void *payload,
                          size_t payload_len, uint8_t qos, bool retain, kc_queue_drop_fn drop,
                          void *drop_ctx, uint32_t *seq)
{
    hdr_t h;
    size_t need;

    if (q->cap == 0 || q->max_msgs == 0)
        return KMQTT_ENOTCONN; /* the queue is off */
    if (topic_len > UINT16_MAX || payload_len > UINT32_MAX || payload_len > q->cap ||
        topic_len > q->cap)
        return KMQTT_ETOOBIG;
    need = kc_queue_entry_size(topic_len, payload_len);
    if (need > q->cap)
        return KMQTT_ETOOBIG;
    while (q->count >= q->max_msgs || kc_queue_bytes(q) + need > q->cap) {
        if (q->policy != KMQTT_QUEUE_DROP_OLDEST || q->count == 0)
            return KMQTT_EQUEUE_FULL;
        drop_one(q, drop, drop_ctx);
    }
    if (q->tail + need > q->cap) {
        memmove(q->buf, q->buf + q->head, q->tail - q->head);
        q->tail -= q->head;
        q->head = 0;
    }
    h.seq = q->next_seq++;
    if (q->next_seq == 0)
        q->next_seq = 1;
    h.payload_len = (uint32_t)payload_len;
    h.topic_len = (uint16_t)topic_len;
    h.qos = qos;
    h.retain = retain ? 1u : 0u;
    memcpy(q->buf + q->tail, &h, sizeof h);
    memcpy(q->buf + q->tail + KC_QUEUE_HDR, topic, topic_len);
    if (payload_len != 0)
        memcpy(q->buf + q->tail + KC_QUEUE_HDR + topic_len, payload, payload_len);
    q->tail += need;
    q->count++;
    if (seq != NULL)
        *seq = h.seq;
    return KMQTT_OK;
}

void kc_queue_clear(kc_queue_t *q, kc_queue_drop_fn drop, void *drop_ctx)
{
    kc_queue_item_t it;

    while (kc_queue_front(q, &it)) {
        if (drop != NULL)
            drop(&it, drop_ctx);
        kc_queue_pop(q);
    }
}

#else /* !KMQTT_CFG_OFFLINE_QUEUE */

/* Nothing here: a C translation unit must not be empty. */
typedef int kc_queue_compiled_out_t;

#endif /* KMQTT_CFG_OFFLINE_QUEUE */
