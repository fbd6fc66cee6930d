/*
 * Automatic reconnect and the server list.
 *
 * Policy: only a lost connection (transport error, keepalive, protocol
 * error, the server's DISCONNECT) is retried, never one the application
 * closed with kmqtt_disconnect (architecture rule 1) and never a failed
 * kmqtt_connect: the application hears of that one and decides. Who retries
 * is whoever runs the loop: the background thread (KMQTT_RECONNECT_DEFAULT
 * or _ON), kmqtt_run (_ON), or a blocking call (publish_wait, ...) standing
 * in for kmqtt_run when nothing else runs the loop.
 *
 * Backoff: random in [d/2, d] (jitter, so a fleet that lost the same broker
 * does not come back in step), d doubling from reconnect_min_ms up to
 * reconnect_max_ms, reset by a CONNACK that accepts. A CONNACK refusal is a
 * failed attempt like a refused TCP connect: the backoff goes on. The wait
 * is on the client's condition, so kmqtt_disconnect (which broadcasts it)
 * ends it at once, never a plain sleep.
 *
 * While reconnecting: kmqtt_publish returns KMQTT_ENOTCONN (no offline
 * queue yet); kmqtt_publish_wait keeps waiting, since an unacknowledged
 * message stays in the session and is sent again after the reconnect;
 * subscribe/unsubscribe calls that were waiting end with the loss's error;
 * kmqtt_connect returns KMQTT_ESTATE (kmqtt_disconnect stops reconnecting).
 */
#include "client_internal.h"
#include "kmqtt/session.h" /* kmqtt_session_backoff */

/* ---------------------------------------------------------- server list */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* One entry "host:port" or "[v6]:port" of [s, s + len), spaces around it
 * allowed. The host (without brackets) is s[*at .. *at + *hlen). */
static bool server_entry(const char *s, size_t len, size_t *at, size_t *hlen, uint16_t *port)
{
    size_t b = 0, e = len, i, colon, digits;
    uint32_t p = 0;

    while (b < e && is_space(s[b]))
        b++;
    while (e > b && is_space(s[e - 1]))
        e--;
    if (b == e)
        return false;
    if (s[b] == '[') {
        for (i = b + 1; i < e && s[i] != ']'; i++) {
            if (s[i] == '[')
                return false;
        }
        if (i == e || i + 1 >= e || s[i + 1] != ':')
            return false; /* unbalanced, or no port after the literal */
        *at = b + 1;
        *hlen = i - b - 1;
        colon = i + 1;
    } else {
        colon = e;
        for (i = b; i < e; i++) {
            if (s[i] == '[' || s[i] == ']')
                return false;
            if (s[i] == ':') {
                if (colon != e)
                    return false; /* an IPv6 literal needs its brackets */
                colon = i;
            }
        }
        if (colon == e)
            return false;
        *at = b;
        *hlen = colon - b;
    }
    if (*hlen == 0)
        return false;
    for (i = colon + 1, digits = 0; i < e; i++, digits++) {
        if (s[i] < '0' || s[i] > '9' || digits == 5)
            return false;
        p = p * 10u + (uint32_t)(s[i] - '0');
    }
    if (digits == 0 || p == 0 || p > 65535u)
        return false;
    *port = (uint16_t)p;
    return true;
}

/* Walks the list; with out == NULL only counts and validates. Returns the
 * number of entries, 0 if any is malformed. */
static size_t servers_walk(const char *list, kc_server_t *out, char *strings)
{
    size_t n = 0, start = 0, end, at, hlen;
    uint16_t port;

    for (;;) {
        for (end = start; list[end] != '\0' && list[end] != ','; end++)
            ;
        if (!server_entry(list + start, end - start, &at, &hlen, &port))
            return 0;
        if (out != NULL) {
            memcpy(strings, list + start + at, hlen);
            strings[hlen] = '\0';
            out[n].host = strings;
            out[n].port = port;
            strings += hlen + 1;
        }
        n++;
        if (list[end] == '\0')
            return n;
        start = end + 1;
    }
}

size_t kc_servers_size(const char *list)
{
    size_t n = servers_walk(list, NULL, NULL);

    return n == 0 ? 0 : n * sizeof(kc_server_t) + strlen(list) + 1;
}

/* Copies the list into one block: the array, then the host names. */
kmqtt_err_t kc_servers_parse(kmqtt_client_t *c, const char *list)
{
    size_t n = servers_walk(list, NULL, NULL);
    size_t array;

    if (n == 0)
        return KMQTT_EINVAL;
    array = n * sizeof(kc_server_t);
    c->servers_block = kmqtt_mem_alloc(&c->mem, "srv", array + strlen(list) + 1);
    if (c->servers_block == NULL)
        return KMQTT_ENOMEM;
    c->servers = c->servers_block;
    c->nservers = servers_walk(list, c->servers, (char *)c->servers_block + array);
    return KMQTT_OK;
}

/* -------------------------------------------------------------- backoff */

bool kc_reconnect_policy(const kmqtt_client_t *c)
{
    if (c->opt.reconnect == KMQTT_RECONNECT_ON)
        return true;
    return c->opt.reconnect == KMQTT_RECONNECT_DEFAULT && kc_bg_drives(c);
}

/* Enters the backoff after a loss or a failed attempt; mx held, nothing
 * open. Reports RECONNECTING once per backoff, with why. */
void kc_reconnect_arm(kmqtt_client_t *c, kmqtt_err_t err)
{
    uint32_t r = UINT32_MAX;

    (void)kmqtt_port_random(&r, sizeof r); /* without it: a wait in the range all the same */
    c->retry_at = kc_now() + kmqtt_session_backoff(&c->backoff_ms, c->opt.reconnect_max_ms, r);
    c->state = KMQTT_STATE_RECONNECTING;
    kc_broadcast(c);
    kc_notify_state(c, KMQTT_STATE_RECONNECTING, err);
}

/* The caller may run the next step: nobody else is in an attempt or a
 * turn, and no disconnect is under way. */
bool kc_reconnect_due(const kmqtt_client_t *c)
{
    return c->rc_armed && c->state == KMQTT_STATE_RECONNECTING && !c->open &&
           c->disconnecting == 0 && !c->turn_busy;
}

/* Waits out the backoff (at most until `until`) or, once it is over, makes
 * one attempt (up to connect_timeout_ms). mx held, kc_reconnect_due true. */
void kc_reconnect_step(kmqtt_client_t *c, uint64_t until)
{
    uint64_t now = kc_now(), end;

    if (now < c->retry_at) {
        end = c->retry_at < until ? c->retry_at : until;
        if (end > now)
            kc_cond_wait(c, (uint32_t)(end - now));
        return;
    }
    (void)kc_connect_run(c, kc_deadline(c->opt.connect_timeout_ms), true);
}
