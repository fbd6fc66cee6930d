/*
 * Topic names, topic filters and matching one against the other (MQTT 4.7,
 * shared subscriptions 4.8.2).
 *
 * Everything here is one forward pass over the bytes: no allocation, no
 * recursion, so a hostile 65,535-byte filter costs linear time and constant
 * stack.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec_internal.h"

#define SHARE_PREFIX     "$share/"
#define SHARE_PREFIX_LEN (sizeof(SHARE_PREFIX) - 1)

/*@ requires len == 0 || \valid_read(filter + (0 .. len - 1));
    requires len == 0 || \initialized(filter + (0 .. len - 1));
    assigns \nothing;
    ensures \result ==> len >= 7;
*/
static bool has_share_prefix(const char *filter, size_t len)
{
    return len >= SHARE_PREFIX_LEN && memcmp(filter, SHARE_PREFIX, SHARE_PREFIX_LEN) == 0;
}

/* Wildcard placement of a plain (non-shared) filter, which is non-empty
 * and valid UTF-8: '+' must be a whole level (MQTT-4.7.1-3) and '#' the
 * whole last level (MQTT-4.7.1-2). The contract (proved by make prove)
 * says exactly that of '#' and of '+', and that "#" alone is a filter. */
/*@ requires len >= 1 && \valid_read(f + (0 .. len - 1));
    assigns \nothing;
    ensures \result ==> \forall integer j; 0 <= j < len && f[j] == '#' ==>
        j == len - 1 && (j == 0 || f[j - 1] == '/');
    ensures \result ==> \forall integer j; 0 <= j < len && f[j] == '+' ==>
        (j == 0 || f[j - 1] == '/') && (j == len - 1 || f[j + 1] == '/');
    ensures len == 1 && f[0] == '#' ==> \result;
*/
static bool wildcards_well_placed(const char *f, size_t len)
{
    /*@ loop invariant 0 <= i <= len;
        loop invariant \forall integer j; 0 <= j < i && f[j] == '#' ==>
            j == len - 1 && (j == 0 || f[j - 1] == '/');
        loop invariant \forall integer j; 0 <= j < i && f[j] == '+' ==>
            (j == 0 || f[j - 1] == '/') && (j == len - 1 || f[j + 1] == '/');
        loop assigns i;
        loop variant len - i;
    */
    for (size_t i = 0; i < len; i++) {
        char c = f[i];
        if (c != '+' && c != '#')
            continue;
        bool starts_level = i == 0 || f[i - 1] == '/';
        bool ends_level = i + 1 == len || f[i + 1] == '/';
        if (!starts_level || !ends_level)
            return false;
        if (c == '#' && i + 1 != len)
            return false;
    }
    return true;
}

/* Contract (make prove): no run-time error; a name accepted is 1..65535
 * bytes without '+' or '#' (MQTT-4.7.3-1, MQTT-3.3.2-2); a name of ASCII
 * characters other than NUL, '+' and '#' is accepted. */
/*@ requires topic == \null || \valid_read(topic + (0 .. len - 1));
    requires topic == \null || \initialized(topic + (0 .. len - 1));
    assigns \nothing;
    ensures \result == KMQTT_OK ==> topic != \null && 1 <= len <= 65535;
    ensures \result == KMQTT_OK ==>
        \forall integer j; 0 <= j < len ==> topic[j] != '+' && topic[j] != '#';
    behavior ascii_name:
      assumes topic != \null && 1 <= len <= 65535;
      assumes \forall integer j; 0 <= j < len ==>
          0 < (unsigned char)topic[j] < 0x80 && topic[j] != '+' && topic[j] != '#';
      ensures \result == KMQTT_OK;
*/
kmqtt_err_t kmqtt_topic_name_validate(const char *topic, size_t len)
{
    /* MQTT-4.7.3-1: at least one character; MQTT-4.7.3-3: a UTF-8 string,
     * so no longer than a two-byte length can say. */
    if (topic == NULL || len == 0 || len > KMQTT_STRING_MAX)
        return KMQTT_ETOPIC_NAME;
    kmqtt_err_t err = kmqtt_utf8_validate(topic, len);
    if (err != KMQTT_OK)
        return err;
    /* MQTT-3.3.2-2, MQTT-4.7.1-1: wildcards are for filters only. '+' and
     * '#' are ASCII, so in valid UTF-8 they never hide inside a multi-byte
     * sequence and a byte search is exact. */
    if (memchr(topic, '+', len) != NULL || memchr(topic, '#', len) != NULL)
        return KMQTT_ETOPIC_NAME;
    return KMQTT_OK;
}

/* Contract (make prove): no run-time error; a filter accepted is 1..65535
 * bytes (MQTT-4.7.3-1); "#" alone is accepted. */
/*@ requires filter == \null || \valid_read(filter + (0 .. len - 1));
    requires filter == \null || \initialized(filter + (0 .. len - 1));
    assigns \nothing;
    ensures \result == KMQTT_OK ==> filter != \null && 1 <= len <= 65535;
    behavior hash:
      assumes filter != \null && len == 1 && filter[0] == '#';
      ensures \result == KMQTT_OK;
*/
kmqtt_err_t kmqtt_topic_filter_validate(const char *filter, size_t len)
{
    /* MQTT-4.7.3-1, MQTT-4.7.3-3 */
    if (filter == NULL || len == 0 || len > KMQTT_STRING_MAX)
        return KMQTT_ETOPIC_FILTER;
    kmqtt_err_t err = kmqtt_utf8_validate(filter, len);
    if (err != KMQTT_OK)
        return err;

    if (has_share_prefix(filter, len)) {
        /* "$share/{ShareName}/{filter}": the ShareName is at least one
         * character (MQTT-4.8.2-1) with no '/', '+' or '#', and is followed
         * by '/' and a non-empty filter (MQTT-4.8.2-2). A '/' ends the
         * ShareName, so only '+' and '#' need checking inside it. */
        const char *name = filter + SHARE_PREFIX_LEN;
        size_t rest = len - SHARE_PREFIX_LEN;
        const char *slash = memchr(name, '/', rest);
        if (slash == NULL || slash == name)
            return KMQTT_ETOPIC_FILTER;
        size_t name_len = (size_t)(slash - name);
        if (memchr(name, '+', name_len) != NULL || memchr(name, '#', name_len) != NULL)
            return KMQTT_ETOPIC_FILTER;
        filter = slash + 1;
        len = rest - name_len - 1;
        if (len == 0)
            return KMQTT_ETOPIC_FILTER;
    }

    if (!wildcards_well_placed(filter, len))
        return KMQTT_ETOPIC_FILTER;
    return KMQTT_OK;
}

/* Matching a shared subscription: "$share/{group}/{f}" matches exactly the
 * topics f matches. The group only decides which subscriber of the group
 * receives a message; it is not part of the topic space, so it is skipped
 * here (the filter was validated, so the '/' after the group exists). */
/* Contract (make prove): no run-time error, and '#' matches every topic
 * but those starting with '$' (MQTT-4.7.1-2, MQTT-4.7.2-1). */
/*@ requires filter == \null || \valid_read(filter + (0 .. filter_len - 1));
    requires topic == \null || \valid_read(topic + (0 .. topic_len - 1));
    requires filter == \null || \initialized(filter + (0 .. filter_len - 1));
    requires topic == \null || \initialized(topic + (0 .. topic_len - 1));
    assigns \nothing;
    behavior hash_matches_all_but_dollar:
      assumes filter != \null && filter_len == 1 && filter[0] == '#';
      assumes topic != \null && 1 <= topic_len <= 65535;
      assumes \forall integer j; 0 <= j < topic_len ==>
          0 < (unsigned char)topic[j] < 0x80 && topic[j] != '+' && topic[j] != '#';
      ensures \result <==> topic[0] != '$';
*/
bool kmqtt_topic_match(const char *filter, size_t filter_len, const char *topic, size_t topic_len)
{
    if (kmqtt_topic_filter_validate(filter, filter_len) != KMQTT_OK ||
        kmqtt_topic_name_validate(topic, topic_len) != KMQTT_OK)
        return false;

    if (has_share_prefix(filter, filter_len)) {
        const char *name = filter + SHARE_PREFIX_LEN;
        const char *slash = memchr(name, '/', filter_len - SHARE_PREFIX_LEN);
        filter_len -= (size_t)(slash + 1 - filter);
        filter = slash + 1;
    }

    /* MQTT-4.7.2-1: "$SYS/..." and other '$' topics are the server's own;
     * a subscription to everything must not pick them up by accident. */
    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
        return false;

    size_t f = 0, t = 0;
    /*@ loop invariant 0 <= f <= filter_len && 0 <= t <= topic_len;
        for hash_matches_all_but_dollar: loop invariant f == 0;
        loop assigns f, t;
    */
    for (;;) {
        /* f and t are at the start of a level in each string; a level after
         * a trailing '/' is empty and starts at the end. */
        char fc = f < filter_len ? filter[f] : '\0';
        if (fc == '#')
            return true; /* valid filters have '#' only as the last level */

        if (fc == '+') {
            f++;
            /* '+' takes one whole level, which may be empty. */
            /*@ loop invariant t <= topic_len;
                loop assigns t;
                loop variant topic_len - t;
            */
            while (t < topic_len && topic[t] != '/')
                t++;
        } else {
            /*@ loop invariant f <= filter_len && t <= topic_len;
                loop assigns f, t;
                loop variant filter_len - f;
            */
            while (f < filter_len && filter[f] != '/') {
                if (t >= topic_len || topic[t] != filter[f])
                    return false;
                f++;
                t++;
            }
            if (t < topic_len && topic[t] != '/')
                return false; /* topic level is longer than the filter's */
        }

        /* Both levels are finished: each string is at its end or at a '/'. */
        bool f_end = f == filter_len;
        bool t_end = t == topic_len;
        if (f_end && t_end)
            return true;
        if (f_end)
            return false; /* topic has more levels than the filter */
        if (t_end) {
            /* "sport/#" matches "sport" too: '#' includes the parent level
             * (MQTT 4.7.1.2). Nothing else can match a missing level. */
            return filter_len - f == 2 && filter[f + 1] == '#';
        }
        f++;
        t++;
    }
}

/* After the proved functions, so Eva's alarm lines (tests/prove/) stay put. */
bool kmqtt_topic_is_shared(const char *filter, size_t len)
{
    return filter != NULL && has_share_prefix(filter, len);
}
