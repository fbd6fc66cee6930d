/* Walking the filters of SUBSCRIBE / UNSUBSCRIBE in either form. */
#include "codec_internal.h"

void kmqtt_sub_iter_init(kmqtt_sub_iter_t *it, const kmqtt_subscribe_t *s, bool is_subscribe)
{
    it->item = s->items;
    it->left = s->items != NULL ? s->count : 0;
    it->pos = NULL;
    it->end = NULL;
    /* No pointer arithmetic on a NULL raw: that is undefined even for length 0. */
    if (s->items == NULL && s->raw != NULL) {
        it->pos = s->raw;
        it->end = s->raw + s->raw_len;
    }
    it->with_options = is_subscribe;
}

bool kmqtt_sub_iter_next(kmqtt_sub_iter_t *it, kmqtt_subscription_t *out)
{
    if (it->item != NULL) {
        if (it->left == 0)
            return false;
        *out = *it->item++;
        it->left--;
        return true;
    }
    if (it->pos == NULL || it->pos >= it->end)
        return false;
    /* The decoder validated the block; still never read past it. */
    rd_t r = {it->pos, it->end};
    kmqtt_bin_t f;
    uint8_t opt = 0;
    if (rd_bin(&r, &f) != KMQTT_OK)
        return false;
    if (it->with_options && rd_u8(&r, &opt) != KMQTT_OK)
        return false;
    memset(out, 0, sizeof *out);
    out->filter.ptr = (const char *)f.ptr;
    out->filter.len = f.len;
    out->qos = (uint8_t)(opt & 0x03);
    out->no_local = (opt & 0x04) != 0;
    out->retain_as_published = (opt & 0x08) != 0;
    out->retain_handling = (uint8_t)((opt >> 4) & 0x03);
    it->pos = r.p;
    return true;
}
